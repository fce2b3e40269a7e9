#!/usr/bin/env bash
# t_capture.sh — `netcon capture` attached to a running service.
#
#   python3 receiver (under A) ◄── VXLAN ──► python3 sender (under B)
#   netcon capture --socket A -w FILE        netcon capture --socket A -w - | tcpdump -r -
#
# Checks:
#  - `netcon capture -w FILE` attaches (status --json: capture.clients 1), a 1 MiB
#    transfer B → A runs, SIGINT ends it with exit 0, and FILE is a capture tcpdump
#    reads whose stream (tests/progs/pcapflow.py: handshake in order, reassembled by
#    sequence number) equals every byte sent; the service counts no frame dropped;
#  - after the client ends the service forgets it (capture.clients 0, sinks 0);
#  - `netcon capture -w - | tcpdump -nn -r - -c 5`: tcpdump prints 5 packets of a
#    transfer and exits; the capture then exits 0 and the service forgets it;
#  - two clients at once both get the transfer; a capture of a service started with
#    --pcap leaves the file going;
#  - bad input: no service, a terminal as output, an unknown option: one line each.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd tcpdump

FLOW=$NC_ROOT/tests/progs/pcapflow.py
head -c 1048576 /dev/urandom >"$NC_TMP/data"
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.97.3.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --pcap "$NC_TMP/svc.pcap"
start_service B 10.97.3.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"

# jfield EXPR — a field of A's status --json (python expression on d).
jfield() {
	"$NETCON" status --socket "$(sock A)" --json |
		"$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
# wait_clients N — until A has N capture clients (5 s).
wait_clients() {
	local i
	for i in $(seq 1 50); do [ "$(jfield 'd["capture"]["clients"]')" = "$1" ] && return 0; sleep 0.1; done
	fail "A has $(jfield 'd["capture"]["clients"]') capture clients, want $1"
}
# transfer PORT — 1 MiB from B to a receiver under A on PORT (tests/lib.sh).
transfer() { send_checked 10.97.3.1 "got-$1" "$1"; }

# ---- -w FILE, two clients at once ------------------------------------------------------
spawn cap1 "$NETCON" capture --socket "$(sock A)" -w "$NC_TMP/c1.pcap"
spawn cap2 "$NETCON" capture --socket "$(sock A)" -w "$NC_TMP/c2.pcap"
wait_clients 2
assert_eq 3 "$(jfield 'd["capture"]["sinks"]')" "captures open (the file and two clients)"
TP=$(free_tcp_port)
transfer "$TP"
sleep 0.3
for c in cap1 cap2; do
	kill -INT "${NC_SPAWNED[$c]}"
	rc=0
	wait_exit "${NC_SPAWNED[$c]}" 5 || rc=$?
	assert_eq 0 "$rc" "exit status of $c after SIGINT"
done
wait_clients 0
assert_eq 1 "$(jfield 'd["capture"]["sinks"]')" "captures open after the clients left (the file)"
assert_eq 0 "$(jfield 'd["capture"]["dropped"]')" "frames dropped"
for f in c1 c2; do
	log tcpdump -nn -r "$NC_TMP/$f.pcap" -w /dev/null 2>"$NC_TMP/tcpdump.err" ||
		fail "tcpdump cannot read $f.pcap: $(cat "$NC_TMP/tcpdump.err")"
	log "$PYTHON" "$FLOW" "$NC_TMP/$f.pcap" 10.97.3.2 10.97.3.1 "$TP" "$NC_TMP/$f.flow"
	cmp "$NC_TMP/data" "$NC_TMP/$f.flow" || fail "the stream in $f.pcap differs from the bytes sent"
done
note "ok: both clients captured all 1 MiB, byte for byte"

# ---- -w - into tcpdump, which stops after 5 packets ------------------------------------
cat >"$NC_TMP/pipe.sh" <<EOF2
"$NETCON" capture --socket "$(sock A)" -w - | tcpdump -nn -r - -c 5 >"$NC_TMP/td.out" 2>"$NC_TMP/td.err"
echo "\${PIPESTATUS[*]}" >"$NC_TMP/pipe.rc"
EOF2
spawn pipe bash "$NC_TMP/pipe.sh"
wait_clients 1
TP2=$(free_tcp_port)
transfer "$TP2"
wait_exit "${NC_SPAWNED[pipe]}" 10 || fail "netcon capture | tcpdump -c 5 did not end"
assert_eq "0 0" "$(cat "$NC_TMP/pipe.rc")" "exit statuses of netcon capture and tcpdump"
sed 's/^/    | /' "$NC_TMP/td.out"
assert_eq 5 "$(wc -l <"$NC_TMP/td.out")" "packets tcpdump printed"
wait_clients 0

# ---- bad input -------------------------------------------------------------------------
rc=0
out=$("$NETCON" capture --socket "$NC_TMP/none.sock" -w "$NC_TMP/x.pcap" 2>&1) || rc=$?
assert_eq 1 "$rc" "exit status without a service"
assert_eq "netcon capture: cannot reach the service at $NC_TMP/none.sock: No such file or directory" "$out" "its message"
rc=0
out=$("$NETCON" capture --bogus 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of an unknown option"
assert_eq "netcon capture: unknown option '--bogus' (see --help)" "$out" "its message"
if command -v script >/dev/null 2>&1; then
	out=$(script -qec "$NETCON capture --socket $(sock A)" /dev/null | tr -d '\r' || true)  # exit 2: checked by the message
	assert_eq "netcon capture: standard output is a terminal; give -w FILE or a pipe (see --help)" "$out" "a terminal as output"
else
	note "script (util-linux) not installed: the terminal check is not run"
fi
stop_service A
stop_service B
log tcpdump -nn -r "$NC_TMP/svc.pcap" -w /dev/null
note "ok: the service's own --pcap file went on beside the clients"
