#!/usr/bin/env bash
# t_load.sh — many connections held open while new ones are made as fast as possible.
# timeout: 900
#
#   tcpbench serve (under A)  ◄── NC_LOAD_CONNS idle connections ──  tcpbench hold (under B)
#                             ◄── connect / exchange / close loop ──  tcpbench connrate (B)
#
# make check: 2,000 held, 10 s of churn; `NC_LOAD_CONNS=10000 NC_LOAD_SECS=120` is the
# issue's full size. Checks: every connection opens, the churn loop sees no error (it
# stops at the first one), the held connections are all still in A's table after the
# churn, and both tables return to zero once the holder exits.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

TCPBENCH=${TCPBENCH:-$BUILD/tcpbench}
require_built "$TCPBENCH"
N=${NC_LOAD_CONNS:-2000}
SECS=${NC_LOAD_SECS:-10}
ulimit -n 65536 2>/dev/null || true

start_pair 10.88.0
P=$(free_tcp_port)
spawn_under A server "$TCPBENCH" serve "0.0.0.0:$P"
wait_port B 10.88.0.1 "$P"
spawn_under B hold "$TCPBENCH" hold 10.88.0.1 "$P" "$N"
for _ in $(seq 1 600); do [ -s "$NC_TMP/hold.log" ] && break; sleep 0.1; done
read -r open_s opened <"$NC_TMP/hold.log" || fail "holder: $(logtail hold)"
assert_eq "$N" "$opened" "connections held"
note "opened $N connections in $open_s s"

out=$(NC_TIMEOUT=$((SECS + 60)) log under B "$TCPBENCH" connrate 10.88.0.1 "$P" 100000000 "$SECS")
read -r rate made <<<"$out"
note "churn: $made connections in ${SECS} s ($rate/s) with $N held"
[ "${made:-0}" -gt 0 ] || fail "no connection was made during the churn"

conns() { "$NETCON" status --socket "$(sock "$1")" | sed -n 's/.*sockets: \([0-9]*\) connections.*/\1/p'; }
a=$(conns A)
[ "$a" -ge "$N" ] || fail "A holds $a connections after the churn, want at least $N"
note "ok: A still holds $a connections"
stop hold
for _ in $(seq 1 150); do
	a=$(conns A); b=$(conns B)
	[ "$a" = 0 ] && [ "$b" = 0 ] && break
	sleep 0.2
done
assert_eq "0 0" "$a $b" "connections left in A and B"
