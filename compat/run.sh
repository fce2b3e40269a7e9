#!/usr/bin/env bash
# compat/run.sh — the compatibility harness: real programs driven by their real clients
# across two (or three) netcon services. Runs every compat/c_*.sh, or the named ones:
#
#   compat/run.sh                 everything (make compat)
#   compat/run.sh c_curl c_nginx  only these
#
# One program at a time, each under `timeout` (its `# timeout: N` header, default 300 s),
# output in $BUILD/compat-logs/NAME.log. Prints PASS/FAIL/SKIP per program and a last line
# `N passed, N failed, N skipped`; exits 1 if any failed. Rewrites docs/compatibility.md:
# one row per script (rows of scripts not run this time are kept as they were), with the
# program, the Debian versions of the packages in its `# packages:` header, what it
# checked (`# checks:` plus the COMPAT-NOTE lines it printed), the result and the date.
# COMPAT_NO_DOC=1: do not touch docs/compatibility.md.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
# shellcheck source=tests/lib.sh
NC_LIB_NOINIT=1 . tests/lib.sh	# nc_sweep only
set +E
trap - ERR

logdir=$BUILD/compat-logs
case $logdir in /*) ;; *) logdir=$PWD/$logdir ;; esac
mkdir -p "$logdir"
doc=docs/compatibility.md
rows=$logdir/rows.tsv	# NAME \t program \t versions \t checks \t result \t date
: >"$rows"
# apt-get update once for the whole run (compat_pkgs looks at this stamp).
export COMPAT_APT_STAMP=$logdir/apt-updated
rm -f "$COMPAT_APT_STAMP"

pass=0 failed=0 skipped=0 failed_names=()
t_all=$SECONDS

header() {	# header FILE KEY — the value of `# KEY: ...` in FILE's header
	sed -n "s/^# $2: *//p" "$1" | head -n 1
}

md() {	# a table cell: no pipes, no newlines
	printf '%s' "$*" | tr '\n|' ' /' | sed 's/  */ /g; s/^ //; s/ $//'
}

run_one() {
	local t=$1 name rc=0 t0 secs limit log result reason prog pkgs vers p checks notes
	name=$(basename "$t" .sh)
	log=$logdir/$name.log
	limit=$(header "$t" timeout); limit=${limit:-300}
	t0=$SECONDS
	{ NC_REGISTRY=$logdir/$name.registry timeout -k 15 "$limit" bash "$t" </dev/null >"$log" 2>&1; } 2>/dev/null || rc=$?
	secs=$((SECONDS - t0))
	[ -s "$logdir/$name.registry" ] && { nc_sweep "$logdir/$name.registry" all 2>>"$log" || true; }
	rm -f "$logdir/$name.registry"
	case $rc in
	0) result=PASS; echo "PASS $name (${secs}s)"; pass=$((pass + 1)) ;;
	77)
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		result="SKIP: ${reason:-no reason given}"
		echo "SKIP $name: ${reason:-no reason given}"; skipped=$((skipped + 1)) ;;
	*)
		if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "$secs" -ge "$limit" ]; }; then
			reason="timed out after ${limit}s"
		else
			reason=$(sed -n 's/^FAIL: //p; s/^ERROR: //p' "$log" | tail -n 1)
			reason=${reason:-exit $rc}
		fi
		result="FAIL: $reason"
		echo "FAIL $name ($reason; ${secs}s; log: $log)"
		tail -n 30 "$log" | sed 's/^/    /'
		failed=$((failed + 1)); failed_names+=("$name") ;;
	esac
	prog=$(header "$t" program)
	pkgs=$(header "$t" packages)
	vers=""
	for p in $pkgs; do
		vers+="$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '(not installed)'); "
	done
	checks=$(header "$t" checks)
	notes=$(sed -n 's/^COMPAT-NOTE: //p' "$log" | awk '!seen[$0]++' | tr '\n' ' ')
	[ -z "$notes" ] || checks="$checks. $notes"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(md "${prog:-$name}")" "$(md "${vers%; }")" \
		"$(md "$checks")" "$(md "$result (${secs}s)")" "$(date -u +%Y-%m-%d)" >>"$rows"
}

filters=()
for a in "$@"; do a=${a##*/}; filters+=("${a%.sh}"); done
scripts=()
if [ ${#filters[@]} -eq 0 ]; then
	for t in compat/c_*.sh; do [ -f "$t" ] && scripts+=("$t"); done
else
	for f in "${filters[@]}"; do
		if [ -f "compat/$f.sh" ]; then scripts+=("compat/$f.sh")
		else echo "FAIL $f (no such script)"; failed=$((failed + 1)); failed_names+=("$f"); fi
	done
fi
for t in "${scripts[@]}"; do run_one "$t"; done
total=$((SECONDS - t_all))

write_doc() {
	local old=$logdir/old-rows.tsv tmp
	: >"$old"
	# Rows of the existing table whose script was not run this time stay as they were.
	if [ -f "$doc" ]; then
		sed -n 's/^| `\(c_[a-z0-9_]*\)` | \(.*\) |$/\1\t\2/p' "$doc" | sed 's/ | /\t/g' >"$old"
	fi
	tmp=$(mktemp)
	{
		cat <<'EOF'
# Compatibility: real programs through netcon

Written by `compat/run.sh` (`make compat`); do not edit the table by hand. Each row is
one script in `compat/`: it installs the program from Debian's packages, starts the
server under the intercept of service A (10.89.0.1) — inside `unshare --net`, a network
namespace with only a loopback device, wherever the program allows (the container case)
— and drives it with its real client under service B (10.89.0.2); a third service C
(10.89.0.3) holds back-end servers for proxies. Services talk VXLAN over loopback.
Rows marked "kernel client via TAP" (`c_*_tap`) put service A on a TAP device instead and
drive it with the kernel's own client, run in the namespace that holds the device's
other side (as `tests/t_tap.sh` builds it). `c_longtransfer` (10 GiB over one
connection) and `c_churn` (100,000 connections) are the seed's long-transfer and
connection-churn scenarios.
Debian's Go programs (`c_caddy`, `c_etcd`, `c_hey`) run in seccomp mode, which `netcon
intercept` picks for them (auto): they are linked with glibc but make their own system
calls.
The services have IPv4 addresses only; servers listen on 0.0.0.0, the service address or
`[::]` (dual stack since IPv6 support: `tests/t_ipv6.sh` covers IPv6 addresses).

Rerun one row: `compat/run.sh c_NAME`; logs in `build/compat-logs/`.

| script | program | Debian version | checked | result | date |
| --- | --- | --- | --- | --- | --- |
EOF
		awk -F'\t' 'NR==FNR { new[$1] = 1; next } !($1 in new)' "$rows" "$old" | cat - "$rows" |
			sort -t"$(printf '\t')" -k1,1 |
			awk -F'\t' '{ printf "| `%s` | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }'
		echo
		echo "Last run: $(date -u '+%Y-%m-%d %H:%M UTC'), $((pass + failed + skipped)) scripts in ${total}s: $pass passed, $failed failed, $skipped skipped."
	} >"$tmp"
	mv "$tmp" "$doc"
	chmod 644 "$doc"
}
[ -n "${COMPAT_NO_DOC:-}" ] || [ ${#scripts[@]} -eq 0 ] || write_doc

echo "harness time: ${total}s"
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
