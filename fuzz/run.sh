#!/usr/bin/env bash
# fuzz/run.sh — run each named libFuzzer harness for FUZZ_SECONDS on its seeds.
#
#   FUZZ_BUILD=build/fuzz FUZZ_SECONDS=60 fuzz/run.sh fuzz_rpc fuzz_vxlan fuzz_config fuzz_dns fuzz_hosts \
#       fuzz_wgconf fuzz_wguapi fuzz_wghandshake
#
# Seeds are read from fuzz/corpus/NAME (committed, never written); what a run learns goes
# to $FUZZ_BUILD/corpus/NAME, crash inputs to $FUZZ_BUILD/artifacts/. One line per harness
# with its executions; the exit status is 1 if any harness found a crash, a leak or a
# timeout.
set -euo pipefail

cd "$(dirname "$0")/.."
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
rc=0
summary=()

for name in "$@"; do
	bin=$FUZZ_BUILD/$name
	[ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; exit 2; }
	work=$FUZZ_BUILD/corpus/$name
	mkdir -p "$work" "$FUZZ_BUILD/artifacts"
	log=$FUZZ_BUILD/$name.log
	extra=()
	[ -f "fuzz/$name.dict" ] && extra+=(-dict="fuzz/$name.dict")
	# The option parser prints a message for each rejected option: keep it off the log
	# (libFuzzer and the sanitizers keep their own copy of stderr).
	[ "$name" = fuzz_config ] && extra+=(-close_fd_mask=2)
	echo "[+] $bin -max_total_time=$FUZZ_SECONDS $work fuzz/corpus/$name (log: $log)"
	r=0
	timeout -k 10 $((FUZZ_SECONDS + 120)) "$bin" -max_total_time="$FUZZ_SECONDS" \
		-timeout=10 -rss_limit_mb=2048 -max_len=70000 -len_control=200 \
		-print_final_stats=1 "${extra[@]}" \
		-artifact_prefix="$FUZZ_BUILD/artifacts/$name-" \
		"$work" "fuzz/corpus/$name" >"$log" 2>&1 || r=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
	if [ "$r" -ne 0 ]; then
		rc=1
		echo "FAIL $name (exit $r): last lines of $log:"
		grep -E 'ERROR|SUMMARY|runtime error|artifact|Test unit written' "$log" | head -n 20 | sed 's/^/    /'
		tail -n 15 "$log" | sed 's/^/    /'
	fi
	summary+=("$(printf '%-12s %10s executions  %s  %s' "$name" "${execs:-?}" "${cov:-}" "$([ "$r" -eq 0 ] && echo ok || echo FAILED)")")
done
printf '%s\n' "${summary[@]}"
nfail=$(printf '%s\n' "${summary[@]}" | grep -c 'FAILED$' || true)
echo "fuzz: $((${#summary[@]} - nfail)) passed, $nfail failed"
exit "$rc"
