#!/usr/bin/env bash
# t_pcap.sh — `netcon service --pcap FILE` and `--pcap-size`, read back with tcpdump.
#
#   python3 receiver (under A)                 python3 sender (under B)
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A  --pcap    │◄──── VXLAN ──────►│ service B            │
#   │ 10.97.0.1/24         │    (loopback)     │ 10.97.0.2/24         │
#   └──────────────────────┘                   └──────────────────────┘
#
# Checks:
#  - 1 MiB of random bytes from B to A with A capturing: `tcpdump -r` reads the file
#    (no error) and shows the handshake (SYN from B, SYN-ACK from A), A's address probe
#    (sent before the stack is up) and the ARP exchange both ways; a pcap reader of our own (tests/progs/pcapflow.py) parses every record,
#    checks the file's header and each record's lengths, finds the handshake in order
#    (SYN, SYN-ACK, ACK) and reassembles the stream B → A by sequence number: it equals
#    the bytes sent, every one of them; the same with tshark's `follow,tcp,raw` when
#    tshark is installed;
#  - --pcap-size 64k: the same transfer leaves FILE and FILE.1 .. FILE.3 (no FILE.4),
#    each at most 64 KiB, each a pcap file tcpdump reads, in time order (the last record
#    of FILE.1 is not later than the first of FILE);
#  - on the WireGuard link (when wg is installed, for its keys): the capture holds the
#    tunnel's IP packets with link type raw IP; tcpdump reads it and shows the SYN of a
#    1 MiB HTTP fetch over WireGuard;
#  - bad input: --pcap-size without --pcap, a bad size, an unwritable FILE: one line
#    each, exit 2 (options) or 1 (start-up), nothing left running.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd tcpdump

FLOW=$NC_ROOT/tests/progs/pcapflow.py
head -c 1048576 /dev/urandom >"$NC_TMP/data"

# transfer NAME PORT — send $NC_TMP/data from B to A's receiver (tests/lib.sh); what it
# got is $NC_TMP/NAME.got. pcapflow.py takes the first connection to PORT that carried
# data (wait_port's probe carries none).
transfer() { send_checked 10.97.0.1 "$1" "$2"; }

# ---- one file, the whole transfer ------------------------------------------------------
P=$NC_TMP/a.pcap
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.97.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --pcap "$P"
start_service B 10.97.0.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
TP=$(free_tcp_port)
transfer one "$TP"
stop_service A	# the file is complete once the service stopped
stop_service B

log tcpdump -nn -r "$P" -w /dev/null 2>"$NC_TMP/tcpdump.err" ||
	fail "tcpdump cannot read the capture: $(cat "$NC_TMP/tcpdump.err")"
syn=$(log tcpdump -nn -r "$P" "tcp[tcpflags] & tcp-syn != 0" 2>/dev/null)
printf '%s\n' "$syn" | sed 's/^/    | /'
assert_contains "$syn" "10.97.0.2." "tcpdump's SYN lines"
grep -q "10.97.0.2\.[0-9]* > 10.97.0.1.$TP: Flags \[S\]" <<<"$syn" ||
	fail "tcpdump shows no SYN from B to port $TP"
grep -q "10.97.0.1.$TP > 10.97.0.2\.[0-9]*: Flags \[S\.\]" <<<"$syn" ||
	fail "tcpdump shows no SYN-ACK from A"
note "ok: tcpdump shows the SYN and the SYN-ACK"
arp=$(log tcpdump -nn -r "$P" arp 2>/dev/null)
assert_contains "$arp" "Request who-has 10.97.0.1 tell 10.97.0.2" "tcpdump's ARP lines (received)"
assert_contains "$arp" "Reply 10.97.0.1 is-at" "tcpdump's ARP lines (sent)"
assert_contains "$arp" "Request who-has 10.97.0.1 tell 0.0.0.0" "tcpdump's ARP lines (A's probe)"

log "$PYTHON" "$FLOW" "$P" 10.97.0.2 10.97.0.1 "$TP" "$NC_TMP/flow.out"
cmp "$NC_TMP/data" "$NC_TMP/flow.out" || fail "the stream reassembled from the capture differs from the bytes sent"
note "ok: all $(stat -c %s "$NC_TMP/flow.out") bytes of the stream are in the capture, in order"

if command -v tshark >/dev/null 2>&1; then
	# The first stream that carried data (wait_port's probe is stream 0).
	st=$(tshark -r "$P" -Y "tcp.len > 0 && tcp.dstport == $TP" -T fields -e tcp.stream 2>/dev/null | head -n 1)
	[ -n "$st" ] || fail "tshark finds no data to port $TP"
	log tshark -r "$P" -q -z "follow,tcp,raw,$st" 2>/dev/null >"$NC_TMP/follow.txt"
	# The raw follow: lines of hex, those of the second host indented by a tab.
	"$PYTHON" - "$NC_TMP/follow.txt" "$NC_TMP/follow.bin" <<'EOF'
import sys, re
out = bytearray()
for line in open(sys.argv[1]):
    if re.fullmatch(r"[0-9a-f]+\n", line):   # the client's (B's) data: not indented
        out += bytes.fromhex(line.strip())
open(sys.argv[2], "wb").write(out)
EOF
	cmp "$NC_TMP/data" "$NC_TMP/follow.bin" || fail "tshark's follow of the stream differs from the bytes sent"
	note "ok: tshark's follow,tcp,raw gives every byte sent"
else
	note "tshark not installed: its follow check is not run (the pcapflow.py check was)"
fi

# ---- --pcap-size: rotation -------------------------------------------------------------
R=$NC_TMP/r.pcap
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.97.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --pcap "$R" --pcap-size 64k
start_service B 10.97.0.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
TP=$(free_tcp_port)
transfer rot "$TP"
stop_service A
stop_service B
ls -l "$R"* | sed 's/^/    | /'
for f in "$R" "$R.1" "$R.2" "$R.3"; do
	[ -s "$f" ] || fail "no $f after rotation"
	sz=$(stat -c %s "$f")
	[ "$sz" -le 65536 ] || fail "$f has $sz bytes, over --pcap-size 64k"
	log tcpdump -nn -r "$f" -w /dev/null 2>"$NC_TMP/tcpdump.err" ||
		fail "tcpdump cannot read $f: $(cat "$NC_TMP/tcpdump.err")"
done
[ ! -e "$R.4" ] || fail "$R.4 exists: only 3 old files are kept"
last_old=$(tcpdump -tt -nn -r "$R.1" 2>/dev/null | tail -n 1 | cut -d' ' -f1)
first_new=$(tcpdump -tt -nn -r "$R" 2>/dev/null | head -n 1 | cut -d' ' -f1)
"$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' \
	"$last_old" "$first_new" || fail "FILE.1 ends at $last_old, after FILE begins ($first_new)"
note "ok: 4 files of at most 64 KiB, in time order ($last_old <= $first_new)"

# ---- the WireGuard link: IP packets, link type raw IP ----------------------------------
if command -v wg >/dev/null 2>&1; then
	for n in a b; do wg genkey >"$NC_TMP/$n.key"; wg pubkey <"$NC_TMP/$n.key" >"$NC_TMP/$n.pub"; done
	WA=$(free_udp_port)
	WB=$(free_udp_port)
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.97.4.2/32\n' \
		"$(cat "$NC_TMP/a.key")" "$WA" "$(cat "$NC_TMP/b.pub")" >"$NC_TMP/a.conf"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.97.4.1/32\nEndpoint = 127.0.0.1:%s\n' \
		"$(cat "$NC_TMP/b.key")" "$WB" "$(cat "$NC_TMP/a.pub")" "$WA" >"$NC_TMP/b.conf"
	W=$NC_TMP/wg.pcap
	start_service A 10.97.4.1/24 --link wireguard --wg-config "$NC_TMP/a.conf" --pcap "$W"
	start_service B 10.97.4.2/24 --link wireguard --wg-config "$NC_TMP/b.conf"
	WP=$(free_tcp_port)
	spawn_under A wgsrv "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$NC_TMP" "$WP"
	wait_port B 10.97.4.1 "$WP"
	log under B "$PYTHON" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
		"http://10.97.4.1:$WP/data" >"$NC_TMP/wg.got"
	cmp "$NC_TMP/data" "$NC_TMP/wg.got" || fail "the file over WireGuard differs"
	stop wgsrv
	stop_service A
	stop_service B
	wsyn=$(log tcpdump -nn -r "$W" "tcp[tcpflags] & tcp-syn != 0" 2>"$NC_TMP/wg.err")
	assert_contains "$(cat "$NC_TMP/wg.err")" "link-type RAW (Raw IP)" "tcpdump on the WireGuard capture"
	grep -q "10.97.4.2\.[0-9]* > 10.97.4.1.$WP: Flags \[S\]" <<<"$wsyn" ||
		fail "tcpdump shows no SYN from B in the WireGuard capture: $wsyn"
	note "ok: the WireGuard link's capture holds its IP packets (raw IP), the handshake readable"
else
	note "wg (wireguard-tools) not installed: the WireGuard capture is not checked"
fi

# ---- bad input -------------------------------------------------------------------------
rc=0
out=$("$NETCON" service --pcap-size 1M --socket "$NC_TMP/x.sock" 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of --pcap-size without --pcap"
assert_contains "$out" "--pcap-size needs --pcap FILE" "its message"
rc=0
out=$("$NETCON" service --pcap "$NC_TMP/p" --pcap-size 12 --socket "$NC_TMP/x.sock" 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of --pcap-size 12"
assert_contains "$out" "bad --pcap-size '12'" "its message"
rc=0
out=$(timeout 10 "$NETCON" service --ip 10.97.0.1/24 --pcap "$NC_TMP/no/such/dir/x.pcap" \
	--socket "$NC_TMP/x.sock" --bind "127.0.0.1:$(free_udp_port)" 2>&1) || rc=$?
assert_eq 1 "$rc" "exit status with an unwritable --pcap"
assert_eq "netcon service: --pcap $NC_TMP/no/such/dir/x.pcap: No such file or directory" "$out" "its message"
[ ! -e "$NC_TMP/x.sock" ] || fail "a control socket was left behind"
note "ok: t_pcap passed"
