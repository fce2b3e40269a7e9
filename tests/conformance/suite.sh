#!/usr/bin/env bash
# tests/conformance/suite.sh — tests/conformance/run.sh, with a second look at what it
# could not explain (the t_conformance* tests run the suite through this).
#
# When run.sh fails because cases differ from the kernel and docs/differences.md does not
# document them, their rows are printed and those cases alone run three more times (kernel
# and netcon, same environment, each a whole run.sh with CONFORM_ONLY): a difference that
# comes back in any rerun fails, with that rerun's rows; one that does not is a timing flake
# of the first run, logged as `FLAKE: CASES ...` with its first row above, and the table
# (CONFORM_TABLE, or run.sh's default) gets the last rerun's rows. Exit status as run.sh's
# (77 = skipped).
# Environment: everything run.sh reads; CONFORM_RERUNS (default 3).
# shellcheck source=tests/lib.sh
NC_LIB_NOINIT=1 . "$(dirname "$0")/../lib.sh"	# functions only: each run.sh is the test
exec 3>&2
NC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/netcon-suite.XXXXXX")
trap 'rm -rf -- "$NC_TMP"' EXIT

link=${CONFORM_LINK:-vxlan}
table=${CONFORM_TABLE:-$BUILD/conformance.txt}
[ -n "${CONFORM_TABLE:-}" ] || [ "$link" = vxlan ] || table=$BUILD/conformance-$link.txt
rm -f "$table"
rc=0
bash "$NC_ROOT/tests/conformance/run.sh" "$@" || rc=$?
[ "$rc" = 1 ] && [ -s "$table" ] || exit "$rc"
und=$(awk -F' [|] ' '/[|] no$/ { printf "%s%s", s, $1; s = "," }' "$table")
[ -n "$und" ] || exit 1

note "differing from the kernel and not in docs/differences.md:"
grep '| no$' "$table"
again=$NC_TMP/again.txt
for i in $(seq 1 "${CONFORM_RERUNS:-3}"); do
	r=0
	CONFORM_ONLY=$und CONFORM_TABLE=$again \
		bash "$NC_ROOT/tests/conformance/run.sh" "$@" >"$NC_TMP/again.log" 2>&1 || r=$?
	if [ "$r" != 0 ]; then
		grep '| no$' "$again" 2>/dev/null || tail -20 "$NC_TMP/again.log"
		fail "$und: differ(s) from the kernel again, rerun $i alone: $(grep '^FAIL' "$NC_TMP/again.log" | tail -1)"
	fi
done
note "FLAKE: $und differed from the kernel in the whole run and matched it in ${CONFORM_RERUNS:-3} reruns alone"
awk -F' [|] ' -v und=",$und," 'FNR == NR { if (index(und, "," $1 ",")) row[$1] = $0; next }
	index(und, "," $1 ",") && ($1 in row) { $0 = row[$1] }
	/^[0-9]+ passed, [0-9]+ failed$/ { n = split(und, u, ",") - 2; split($0, w, " "); $0 = (w[1] + n) " passed, " (w[3] - n) " failed" }
	{ print }' "$again" "$table" >"$NC_TMP/table"
cp "$NC_TMP/table" "$table"
note "PASS"
