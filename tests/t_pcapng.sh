#!/usr/bin/env bash
# t_pcapng.sh — captures in pcapng, each packet commented with its program and connection.
# timeout: 600
#
#   python3 http.server (under A)   ◄── VXLAN ──►   curl (under B)
#   service A --pcap a.pcapng                       service B --pcap b.cap --pcap-format
#                                                     pcapng --pcap-size 64k
#                                                   netcon capture --pcapng -w c.pcapng
#
# Checks, for a 1 MiB download by curl (B) from python3's http.server (A):
#  - A's file (pcapng by its .pcapng name) and the `netcon capture --pcapng` stream of B:
#    `tcpdump -r` reads each (no error, the SYN to the server's port shown); tshark's
#    `-e frame.comment` gives every packet of the download's connection (each segment
#    with data, and the SYN) the comment "pid PID COMMAND: tcp local ADDR:PORT remote
#    ADDR:PORT" with the server's pid and "python3" in A's capture, curl's pid and "curl"
#    in B's, the service's own side as local; ARP frames carry no comment; tshark's
#    packet direction flag says in or out as the addresses do; tshark's follow,tcp,raw
#    of the connection gives the HTTP response whose body equals the file, every byte;
#  - --pcap-format pcapng with --pcap-size 64k (B): FILE and FILE.1 .. FILE.3, each at
#    most 64 KiB, each a pcapng file (Section Header Block first) tcpdump and tshark
#    read, each with data packets commented with curl's pid;
#  - the WireGuard link (when wg is installed): link type raw IP in the pcapng
#    interface, the comment on the fetch's packets;
#  - bad input: --pcap-format with a bad name or without --pcap: one line, exit 2.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd tcpdump tshark curl

NET=10.166.1
head -c 1048576 /dev/urandom >"$NC_TMP/data"

# comments FILE PORT — "direction<TAB>src<TAB>srcport<TAB>dstport<TAB>len<TAB>syn<TAB>comment"
# of each TCP packet to or from PORT.
comments() {
	tshark -r "$1" -Y "tcp.port == $2" -T fields -E separator=/t \
		-e frame.packet_flags_direction -e ip.src -e tcp.srcport -e tcp.dstport \
		-e tcp.len -e tcp.flags.syn -e frame.comment 2>"$NC_TMP/tshark.err" ||
		fail "tshark cannot read $1: $(cat "$NC_TMP/tshark.err")"
}

# check_comments FILE PORT PID COMMAND SIDE — every data packet and the SYN of the
# connection to PORT carry the comment of PID COMMAND, local being SIDE's address
# (server: $NET.1:PORT; client: $NET.2:the client's port).
check_comments() {
	local f=$1 port=$2 pid=$3 cmd=$4 side=$5 lines cport want n=0 dir src sp dp len syn c
	lines=$(comments "$f" "$port")
	# The client's port: of the connection that carried data (wait_port's probes carry none).
	cport=$(awk -F'\t' -v p="$port" '$3 == p && $5 > 0 { print $4; exit }' <<<"$lines")
	[ -n "$cport" ] || fail "$f: no data from port $port"
	if [ "$side" = server ]; then
		want="pid $pid $cmd: tcp local $NET.1:$port remote $NET.2:$cport"
	else
		want="pid $pid $cmd: tcp local $NET.2:$cport remote $NET.1:$port"
	fi
	while IFS=$'\t' read -r dir src sp dp len syn c; do
		[ "$sp" = "$cport" ] || [ "$dp" = "$cport" ] || continue   # wait_port's probe
		[ "$len" != 0 ] || [ "$syn" = 1 ] || [ "$syn" = True ] || continue
		[ "$c" = "$want" ] || fail "$f: a packet $src:$sp > $dp (len $len) has comment '$c', want '$want'"
		# Direction: 1 in, 2 out (epb_flags), as the service's side sees it.
		if { [ "$side" = server ] && [ "$src" = "$NET.1" ]; } ||
			{ [ "$side" = client ] && [ "$src" = "$NET.2" ]; }; then
			[ "$dir" = 0x00000002 ] || [ "$dir" = 0x2 ] || [ "$dir" = 2 ] ||
				fail "$f: a packet sent by the service has direction '$dir', want out (2)"
		else
			[ "$dir" = 0x00000001 ] || [ "$dir" = 0x1 ] || [ "$dir" = 1 ] ||
				fail "$f: a packet received by the service has direction '$dir', want in (1)"
		fi
		n=$((n + 1))
	done <<<"$lines"
	[ "$n" -gt 700 ] || fail "$f: only $n commented packets of the download (1 MiB: want over 700)"
	note "ok: $f: $n packets of the download say '$want'"
}

# check_body FILE PORT — tshark's follow of the connection to PORT that carried data:
# the server's side is an HTTP response whose body is $NC_TMP/data.
check_body() {
	local f=$1 port=$2 st
	st=$(tshark -r "$f" -Y "tcp.len > 0 && tcp.srcport == $port" -T fields -e tcp.stream 2>/dev/null | head -n 1)
	[ -n "$st" ] || fail "tshark finds no data from port $port in $f"
	tshark -r "$f" -q -z "follow,tcp,raw,$st" 2>/dev/null >"$NC_TMP/follow.txt"
	"$PYTHON" - "$NC_TMP/follow.txt" "$NC_TMP/body.bin" <<'EOF'
import sys, re
out = bytearray()
for line in open(sys.argv[1]):
    if re.fullmatch(r"\t[0-9a-f]+\n", line):   # the second host's (the server's) data
        out += bytes.fromhex(line.strip())
head, sep, body = bytes(out).partition(b"\r\n\r\n")
if not head.startswith(b"HTTP/1.0 200"):
    sys.exit("no HTTP response in the stream: %r" % head[:40])
open(sys.argv[2], "wb").write(body)
EOF
	cmp "$NC_TMP/data" "$NC_TMP/body.bin" || fail "$f: the response reassembled from the capture differs from the file"
	note "ok: $f: the response's body, reassembled by tshark, is every byte of the file"
}

# check_tcpdump FILE PORT — tcpdump reads FILE and shows the SYN to PORT.
check_tcpdump() {
	local syn
	log tcpdump -nn -r "$1" -w /dev/null 2>"$NC_TMP/tcpdump.err" ||
		fail "tcpdump cannot read $1: $(cat "$NC_TMP/tcpdump.err")"
	syn=$(tcpdump -nn -r "$1" "tcp[tcpflags] & tcp-syn != 0" 2>/dev/null)
	grep -q "> [0-9.]*\.$2: Flags \[S\]" <<<"$syn" || fail "tcpdump shows no SYN to port $2 in $1: $syn"
	note "ok: tcpdump reads $1 and shows the SYN"
}

# ---- VXLAN: a file, a rotated file, a capture client ------------------------------------
A_CAP=$NC_TMP/a.pcapng
B_CAP=$NC_TMP/b.cap
C_CAP=$NC_TMP/c.pcapng
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A "$NET.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --pcap "$A_CAP"
start_service B "$NET.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" \
	--pcap "$B_CAP" --pcap-format pcapng --pcap-size 64k
TP=$(free_tcp_port)
# The pids through a shell that records its own and execs the program (same pid).
spawn_under A srv sh -c 'echo $$ >"$1"; exec "$2" -m http.server --bind 0.0.0.0 --directory "$3" "$4"' \
	sh "$NC_TMP/srv.pid" "$PYTHON" "$NC_TMP" "$TP"
wait_port B "$NET.1" "$TP"
spawn capc "$NETCON" capture --socket "$(sock B)" --pcapng -w "$C_CAP"
for i in $(seq 1 50); do [ -s "$C_CAP" ] && break; sleep 0.1; done
[ -s "$C_CAP" ] || fail "netcon capture --pcapng wrote no header in 5 s: $(logtail capc)"
log under B sh -c 'echo $$ >"$1"; exec curl -sS -o "$2" "$3"' sh "$NC_TMP/cli.pid" \
	"$NC_TMP/got" "http://$NET.1:$TP/data"
cmp "$NC_TMP/data" "$NC_TMP/got" || fail "curl got other bytes"
SRV_PID=$(cat "$NC_TMP/srv.pid")
CLI_PID=$(cat "$NC_TMP/cli.pid")
sleep 0.5	# the last ACKs
log kill -INT "${NC_SPAWNED[capc]}"
wait_exit "${NC_SPAWNED[capc]}" 5 || fail "netcon capture did not exit 0 on SIGINT: $(logtail capc)"
stop srv
stop_service A
stop_service B

for f in "$A_CAP" "$C_CAP"; do
	head -c 4 "$f" | od -An -tx1 | grep -q "0a 0d 0d 0a" || fail "$f does not begin with a pcapng Section Header Block"
	check_tcpdump "$f" "$TP"
done
check_comments "$A_CAP" "$TP" "$SRV_PID" python3 server
check_comments "$C_CAP" "$TP" "$CLI_PID" curl client
arp=$(tshark -r "$A_CAP" -Y arp -T fields -e frame.comment 2>/dev/null)
[ -n "$arp" ] || [ "$(tshark -r "$A_CAP" -Y arp 2>/dev/null | wc -l)" -gt 0 ] || fail "no ARP frame in $A_CAP"
[ -z "$(tr -d '\n' <<<"$arp")" ] || fail "ARP frames carry a comment: $arp"
note "ok: ARP frames carry no comment"
tshark -r "$A_CAP" -Y "frame.comment" -T fields -e frame.comment 2>/dev/null | sort | uniq -c | sed 's/^/    | /' | head -n 5
check_body "$A_CAP" "$TP"
check_body "$C_CAP" "$TP"

ls -l "$B_CAP"* | sed 's/^/    | /'
for f in "$B_CAP" "$B_CAP.1" "$B_CAP.2" "$B_CAP.3"; do
	[ -s "$f" ] || fail "no $f after rotation"
	sz=$(stat -c %s "$f")
	[ "$sz" -le 65536 ] || fail "$f has $sz bytes, over --pcap-size 64k"
	head -c 4 "$f" | od -An -tx1 | grep -q "0a 0d 0d 0a" || fail "$f does not begin with a Section Header Block"
	log tcpdump -nn -r "$f" -w /dev/null 2>"$NC_TMP/tcpdump.err" ||
		fail "tcpdump cannot read $f: $(cat "$NC_TMP/tcpdump.err")"
	tshark -r "$f" -w /dev/null 2>"$NC_TMP/tshark.err" || fail "tshark cannot read $f: $(cat "$NC_TMP/tshark.err")"
done
[ ! -e "$B_CAP.4" ] || fail "$B_CAP.4 exists: only 3 old files are kept"
n=0
for f in "$B_CAP" "$B_CAP.1" "$B_CAP.2" "$B_CAP.3"; do
	m=$(tshark -r "$f" -Y "tcp.len > 0" -T fields -e frame.comment 2>/dev/null | grep -c "^pid $CLI_PID curl: tcp local $NET.2:" || true)
	[ "$m" -gt 0 ] || fail "$f: no data packet commented with curl's pid $CLI_PID"
	n=$((n + m))
done
note "ok: 4 pcapng files of at most 64 KiB, with $n data packets commented with curl's pid"

# ---- WireGuard: raw IP ------------------------------------------------------------------
if command -v wg >/dev/null 2>&1; then
	for n in a b; do wg genkey >"$NC_TMP/$n.key"; wg pubkey <"$NC_TMP/$n.key" >"$NC_TMP/$n.pub"; done
	WA=$(free_udp_port)
	WB=$(free_udp_port)
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = %s.2/32\n' \
		"$(cat "$NC_TMP/a.key")" "$WA" "$(cat "$NC_TMP/b.pub")" "$NET" >"$NC_TMP/a.conf"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = %s.1/32\nEndpoint = 127.0.0.1:%s\n' \
		"$(cat "$NC_TMP/b.key")" "$WB" "$(cat "$NC_TMP/a.pub")" "$NET" "$WA" >"$NC_TMP/b.conf"
	W=$NC_TMP/wg.pcapng
	start_service A "$NET.1/24" --link wireguard --wg-config "$NC_TMP/a.conf" --pcap "$W"
	start_service B "$NET.2/24" --link wireguard --wg-config "$NC_TMP/b.conf"
	WP=$(free_tcp_port)
	spawn_under A wgsrv sh -c 'echo $$ >"$1"; exec "$2" -m http.server --bind 0.0.0.0 --directory "$3" "$4"' \
		sh "$NC_TMP/wsrv.pid" "$PYTHON" "$NC_TMP" "$WP"
	wait_port B "$NET.1" "$WP"
	log under B curl -sS -o "$NC_TMP/wg.got" "http://$NET.1:$WP/data"
	cmp "$NC_TMP/data" "$NC_TMP/wg.got" || fail "the file over WireGuard differs"
	stop wgsrv
	stop_service A
	stop_service B
	tcpdump -nn -r "$W" -c 1 >/dev/null 2>"$NC_TMP/wg.err" || fail "tcpdump cannot read $W: $(cat "$NC_TMP/wg.err")"
	assert_contains "$(cat "$NC_TMP/wg.err")" "link-type RAW (Raw IP)" "tcpdump on the WireGuard pcapng"
	n=$(tshark -r "$W" -Y "tcp.len > 0" -T fields -e frame.comment 2>/dev/null |
		grep -c "^pid $(cat "$NC_TMP/wsrv.pid") python3: tcp local $NET.1:$WP remote $NET.2:" || true)
	[ "$n" -gt 700 ] || fail "$W: $n data packets commented with the server's pid"
	note "ok: the WireGuard capture is raw IP; $n data packets commented with the server's pid"
else
	note "wg (wireguard-tools) not installed: the WireGuard pcapng is not checked"
fi

# ---- bad input --------------------------------------------------------------------------
rc=0
out=$("$NETCON" service --pcap "$NC_TMP/x" --pcap-format pcapx --socket "$NC_TMP/x.sock" 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of --pcap-format pcapx"
assert_eq "netcon service: bad --pcap-format 'pcapx': want pcap or pcapng" "$(head -n 1 <<<"$out")" "its message"
rc=0
out=$("$NETCON" service --pcap-format pcapng --socket "$NC_TMP/x.sock" 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of --pcap-format without --pcap"
assert_eq "netcon service: --pcap-format needs --pcap FILE" "$(head -n 1 <<<"$out")" "its message"
[ ! -e "$NC_TMP/x.sock" ] || fail "a control socket was left behind"
note "ok: t_pcapng passed"
