#!/usr/bin/env bash
# tests/run.sh — run the unit tests ($BUILD/unit_*), then every tests/t_*.sh in order.
#
#   tests/run.sh                 everything
#   tests/run.sh t_curl unit_rpc only the named tests (with or without .sh or a path)
#
# Each test runs under `timeout` (default 300 s; a scenario may declare `# timeout: N` in
# its header), its output goes to $BUILD/test-logs/NAME.log, and one line is printed:
#   PASS name (Ns) | FAIL name (+ the last 40 lines of its log) | SKIP name: reason
# Exit status 77 means skipped (the reason is the log's `SKIP: ...` line). After each
# scenario the registry it wrote ($BUILD/test-logs/NAME.registry) is swept, so processes,
# namespaces and routes of a test that was killed do not outlive it. A whole run stops
# starting tests after NC_TOTAL_BUDGET seconds (default 3000) and counts the rest failed.
# The last line is `N passed, N failed, N skipped`; the exit status is 1 if any failed.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
# shellcheck source=tests/lib.sh
NC_LIB_NOINIT=1 . tests/lib.sh	# nc_sweep only
set +E
trap - ERR

logdir=$BUILD/test-logs
case $logdir in /*) ;; *) logdir=$PWD/$logdir ;; esac
mkdir -p "$logdir"
default_timeout=${NC_TEST_TIMEOUT:-300}
budget=${NC_TOTAL_BUDGET:-3000}

pass=0 failed=0 skipped=0
failed_names=()

# wanted NAME — is NAME selected by the command line?
wanted() {
	[ ${#filters[@]} -eq 0 ] && return 0
	local f
	for f in "${filters[@]}"; do [ "$f" = "$1" ] && return 0; done
	return 1
}

# run_one NAME TIMEOUT CMD... — run one test and report it.
run_one() {
	local name=$1 limit=$2 log=$logdir/$1.log rc=0 t0 secs reason
	shift 2
	if [ "$SECONDS" -ge "$budget" ]; then
		echo "FAIL $name (not run: the run's time budget of ${budget}s is spent)"
		failed=$((failed + 1)); failed_names+=("$name")
		return
	fi
	t0=$SECONDS
	# (the braces keep bash's "Killed" notice for a test that died by a signal off the report)
	{ NC_REGISTRY=$logdir/$name.registry timeout -k 15 "$limit" "$@" </dev/null >"$log" 2>&1; } 2>/dev/null || rc=$?
	secs=$((SECONDS - t0))
	if [ -s "$logdir/$name.registry" ]; then
		nc_sweep "$logdir/$name.registry" all 2>>"$log" || true
	fi
	rm -f "$logdir/$name.registry"
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		pass=$((pass + 1)) ;;
	77)
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		echo "SKIP $name: ${reason:-no reason given}"
		skipped=$((skipped + 1)) ;;
	*)
		if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "$secs" -ge "$limit" ]; }; then
			echo "FAIL $name (timed out after ${limit}s; log: $log)"
		else
			echo "FAIL $name (exit $rc after ${secs}s; log: $log)"
		fi
		tail -n 40 "$log" | sed 's/^/    /'
		failed=$((failed + 1)); failed_names+=("$name") ;;
	esac
}

filters=()
for a in "$@"; do
	a=${a##*/}
	filters+=("${a%.sh}")
done

seen=()
for u in "$BUILD"/unit_*; do
	if [ ! -f "$u" ] || [ ! -x "$u" ]; then continue; fi
	name=$(basename "$u")
	wanted "$name" || continue
	seen+=("$name")
	run_one "$name" 120 "$u"
done

for t in tests/t_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	wanted "$name" || continue
	seen+=("$name")
	limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	[ -z "${NC_TEST_TIMEOUT_OVERRIDE:-}" ] || limit=$NC_TEST_TIMEOUT_OVERRIDE
	run_one "$name" "${limit:-$default_timeout}" bash "$t"
done

for f in "${filters[@]}"; do
	found=
	for s in "${seen[@]}"; do [ "$s" = "$f" ] && found=1; done
	if [ -z "$found" ]; then
		echo "FAIL $f (no such test)"
		failed=$((failed + 1)); failed_names+=("$f")
	fi
done

[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
