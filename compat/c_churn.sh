#!/usr/bin/env bash
# c_churn.sh — connection churn (#4's "open and close many TCP connections constantly"):
# tcpbench's echo server under A (namespace with no network), tcpbench churn under B:
# COMPAT_CHURN_WORKERS processes open a connection, exchange 64 bytes (echoed, compared),
# see the server's close and close, COMPAT_CHURN_CONNS times in all (default 100,000), as
# fast as they can. The server closes first, so A holds the TIME_WAITs; B's ephemeral
# ports (32768–65535) wrap several times within TIME_WAIT's 60 s, and a SYN that meets
# a TIME_WAIT connection ends it (as on Linux).
# program: connection churn: tcpbench churn → tcpbench serve (netcon's load tool)
# packages:
# checks: 100,000 TCP connections (open, 64-byte echo compared, server's close, close) from 4 client processes under B to one server under A: every one completes, zero errors (counted, not fatal); both services' tables empty afterwards
# timeout: 600
. "$(dirname "$0")/lib.sh"
TCPBENCH=${TCPBENCH:-$BUILD/tcpbench}
require_built "$TCPBENCH"
CONNS=${COMPAT_CHURN_CONNS:-100000}
WORKERS=${COMPAT_CHURN_WORKERS:-4}
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
spawn_in_ns A server "$TCPBENCH" serve "0.0.0.0:$P"
wait_port B "$COMPAT_NET.1" "$P"
rc=0
t0=$(now_ms)
out=$(NC_TIMEOUT=560 log under B "$TCPBENCH" churn "$COMPAT_NET.1" "$P" "$CONNS" 550 0 "$WORKERS") || rc=$?
ms=$(($(now_ms) - t0))
read -r rate made errors <<<"$out"
note "churn: $made connections, $errors errors, $rate/s"
[ "$rc" = 0 ] && [ "${errors:-x}" = 0 ] || fail "churn: exit $rc, errors ${errors:-?}, $made made (output: $out)"
assert_eq "$CONNS" "$made" "connections completed"
conns() { "$NETCON" status --socket "$(sock "$1")" | sed -n 's/.*sockets: \([0-9]*\) connections.*/\1/p'; }
for _ in $(seq 1 50); do
	a=$(conns A); b=$(conns B)
	[ "$a" = 0 ] && [ "$b" = 0 ] && break
	sleep 0.2
done
assert_eq "0 0" "$a $b" "connections left in A and B"
status A >&2
compat_note "$made connections in $((ms / 1000)) s ($rate/s), $errors errors, $WORKERS client processes, B's ephemeral ports wrapped $((made / 28232)) times"
note PASS
