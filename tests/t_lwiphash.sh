#!/usr/bin/env bash
# t_lwiphash.sh — lwIP finds each segment's pcb in a hash (lwip/patches/0007) and finds
# the same one its list walk would. build/lwipscale --check (bench/lwipscale.c) makes
# up to 5,000 established pcbs, 100 in TIME_WAIT, a wildcard listener and one for a
# single address, then feeds lwIP 2,000 segments per count through ip_input(): data for
# random connections, SYNs to the listener, segments that match nothing (answered with
# RST), segments for TIME_WAIT pcbs, with connections aborted and made in between. Every
# lookup also walks lwIP's lists and lwIP asserts (abort) where the two disagree.
# Then lwIP's TCP timers (lwip/patches/0008): 8 timer calls must visit none of the idle
# pcbs, and a pcb that sat idle must still get its retransmission timeout, zero-window
# probe, keepalive probe and FIN-WAIT-2 timeout (lwipscale exits 1, naming the one missed).
# Then new connections (lwip/patches/0009): among the 2,000 segments above, active opens
# (an ephemeral port; SO_REUSEADDR on the busy port), passive opens, binds that must be
# refused and two SO_REUSEADDR binds of one port that must not be, their port checks
# compared with lwIP's walk; and each kind of new connection may visit at most 8 groups
# of pcbs whatever the count (a walk visits every pcb: lwipscale exits 1, and built
# against the series up to 0008 it exits 1 too).
# And the sender's SACK scoreboard (lwip/patches/0010): only the holes are sent again, a
# timeout never sends a SACKed segment, a peer that reneged gets it after a second timeout.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$BUILD/lwipscale"
out=$(timeout 120 "$BUILD/lwipscale" --quick --check 10 1000 5000 2>&1) ||
	fail "lwipscale --check failed: $(printf '%s' "$out" | tail -n 3)"
note "$out"
assert_eq 3 "$(printf '%s\n' "$out" | grep -c '^pcbs [0-9]* lookup hash ')" \
	"three pcb counts checked, the hash and the lists agreeing on every lookup"
assert_eq 3 "$(printf '%s\n' "$out" | grep -c ' timer_visits 0\.0 ')" \
	"the timers visited no idle pcb, and every timer of a pcb busy after idle fired"
assert_eq 3 "$(printf '%s\n' "$out" | grep -Ec ' open_visits [0-8]\.[0-9] .* reuse_visits [0-8]\.[0-9] .* accept_visits [0-8]\.[0-9]$')" \
	"a new connection's port checks visited a few groups of pcbs, not every pcb"
# the harness's own refusal of bad input: one line, exit status 2
rc=0; err=$("$BUILD/lwipscale" 0 2>&1) || rc=$?
assert_eq 2 "$rc" "a pcb count of 0 refused"
assert_contains "$err" "not a pcb count" "the refusal names the bad count"

# The harness without the hash (bench/run.sh --scale compares the two) builds from a
# second lwIP tree that make unpacks through a pattern rule; its sources must survive the
# build (they were once deleted as intermediate files, and the next build failed).
mk=(make -s -C "$NC_ROOT" BUILD="$BUILD")
out=$(timeout 300 "${mk[@]}" -j2 "$BUILD/lwipscale-nohash" 2>&1) ||
	fail "building lwipscale-nohash failed: $(printf '%s' "$out" | tail -n 3)"
before=$(stat -c %Y.%s "$BUILD/lwipscale-nohash")
sleep 1
out=$(timeout 300 "${mk[@]}" -j2 "$BUILD/lwipscale-nohash" 2>&1) ||
	fail "a second build of lwipscale-nohash failed: $(printf '%s' "$out" | tail -n 3)"
assert_eq "$before" "$(stat -c %Y.%s "$BUILD/lwipscale-nohash")" \
	"a second build of lwipscale-nohash has nothing to do"
out=$(timeout 60 "$BUILD/lwipscale-nohash" --quick 10 2>&1) ||
	fail "lwipscale-nohash failed: $(printf '%s' "$out" | tail -n 3)"
assert_contains "$out" "pcbs 10" "the nohash harness runs"
