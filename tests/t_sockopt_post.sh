#!/usr/bin/env bash
# t_sockopt_post.sh — options set without a round trip (NC_MSG_SOCKOPT_POST, docs/rpc.md):
# a connection's TCP_NODELAY and SO_KEEPALIVE, set by a real program after its connect
# (or on a connection it accepted), are read back, seen by a forked child (the fork waits
# until the service has read them), and SO_KEEPALIVE takes effect: the idle connection
# sends keepalive probes.
#
#   python3 client under A ══ VXLAN over loopback ══ B ── python3 echo server under B
#   A captures its link (--pcap): the probes are counted there.
#
# Checks:
#  - the client reads 1 for both options, in itself and in a forked child, and its
#    64-byte exchange comes back byte for byte;
#  - A's status --json: requests_posted 2 (the two options, without a reply),
#    requests_malformed 0;
#  - the server sets TCP_NODELAY on each connection it accepts and reads 1 back; B counts
#    one post per connection, none malformed;
#  - with TCP_KEEPIDLE/TCP_KEEPINTVL 1 s, A's link shows at least 2 zero-length segments
#    from the client at least 0.5 s after its last data (probes: lwIP's delayed ACK is
#    long gone by then), and a connection without SO_KEEPALIVE shows none.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd tcpdump

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.173.20.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--pcap "$NC_TMP/a.pcap"
start_service B 10.173.20.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
cat >"$NC_TMP/server.py" <<'EOF'
import socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(("0.0.0.0", 5400))
l.listen(4)
for _ in range(2):
    c, _ = l.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("server nodelay", c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), flush=True)
    while True:
        b = c.recv(4096)
        if not b:
            break
        c.sendall(b)
    c.close()
EOF
spawn echo "$NETCON" intercept --socket "$(sock B)" -- "$PYTHON" "$NC_TMP/server.py"
wait_listen B 5400

jfield() {	# jfield EXPR [SERVICE] — a field of the service's status --json (python on d)
	"$NETCON" status --socket "$(sock "${2:-A}")" --json |
		"$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

cat >"$NC_TMP/client.py" <<'EOF'
import os, socket, sys, time
keep = sys.argv[1] == "keep"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("10.173.20.2", 5400))
print("port", s.getsockname()[1])
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if keep:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
def opts(who):
    print(who, "nodelay", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
          "keepalive", s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), flush=True)
pid = os.fork()
if pid == 0:
    opts("child")
    os._exit(0)
os.waitpid(pid, 0)
opts("parent")
req = bytes(range(64))
s.sendall(req)
got = b""
while len(got) < len(req):
    b = s.recv(len(req) - len(got))
    if not b:
        break
    got += b
print("echo", "ok" if got == req else "differs")
sys.stdout.flush()
time.sleep(5)
s.close()
EOF

out=$(under A "$PYTHON" "$NC_TMP/client.py" keep)
printf '%s\n' "$out"
port=$(awk '$1 == "port" { print $2 }' <<<"$out")
assert_contains "$out" "child nodelay 1 keepalive 1" "the forked child's view of the options"
assert_contains "$out" "parent nodelay 1 keepalive 1" "the options read back"
assert_contains "$out" "echo ok" "the 64-byte exchange"
assert_eq 2 "$(jfield 'd["counters"]["requests_posted"]')" "options posted (no reply)"
assert_eq 0 "$(jfield 'd["counters"]["requests_malformed"]')" "malformed requests"

out2=$(under A "$PYTHON" "$NC_TMP/client.py" nokeep)
port2=$(awk '$1 == "port" { print $2 }' <<<"$out2")
assert_contains "$out2" "parent nodelay 1 keepalive 0" "the options read back without SO_KEEPALIVE"
assert_eq 3 "$(jfield 'd["counters"]["requests_posted"]')" "options posted after the second client"
wait_exit "${NC_SPAWNED[echo]}" 10 || fail "the server did not end after its two connections"
assert_eq "server nodelay 1
server nodelay 1" "$(grep '^server' "$NC_TMP/echo.log")" "the server's TCP_NODELAY on its accepted connections"
assert_eq 2 "$(jfield 'd["counters"]["requests_posted"]' B)" "options B took posted (one per accepted connection)"
assert_eq 0 "$(jfield 'd["counters"]["requests_malformed"]' B)" "malformed requests at B"

# probes PORT — zero-length segments from the client's PORT at least 0.5 s after its last
# data segment and before its FIN.
probes() {
	tcpdump -nn -tt -r "$NC_TMP/a.pcap" "src host 10.173.20.1 and src port $1" 2>/dev/null |
		awk '/Flags \[F/ { exit } { t = $1; n = $NF }
		     n > 0 { last = t } n == 0 && last && t - last >= 0.5 { c++ }
		     END { print c + 0 }'
}
sleep 0.5	# the pcap writer flushes as frames go; give the last ones a moment
k=$(probes "$port")
k2=$(probes "$port2")
note "keepalive probes: $k with SO_KEEPALIVE posted, $k2 without"
[ "$k" -ge 2 ] || fail "SO_KEEPALIVE posted but $k keepalive probes in 5 s idle (want >= 2)"
assert_eq 0 "$k2" "keepalive probes without SO_KEEPALIVE"
note "ok: TCP_NODELAY and SO_KEEPALIVE posted, read back (and by a forked child), applied"
