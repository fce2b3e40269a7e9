#!/usr/bin/env bash
# t_ipv6.sh — IPv6 TCP: dual-stack servers on [::] reached over IPv6 and IPv4, redis with
# its default bind (`* -::*`), and the kernel's IPv6 over a TAP device.
#
#   python3 http.server --bind ::      curl -g http://[fd00:88::1]:$HTTP/   (IPv6)
#   redis-server (default bind)         curl http://10.88.0.1:$HTTP/         (IPv4, mapped)
#            │ intercept                redis-cli -h fd00:88::1 / 10.88.0.1
#   ┌────────┴──────────────┐                  │ intercept
#   │ service A             │          ┌───────┴───────────────┐
#   │ 10.88.0.1/24          │◄─VXLAN──►│ service B             │
#   │ fd00:88::1/64         │ (lo; ND  │ 10.88.0.2/24          │
#   └───────────────────────┘ flooded) │ fd00:88::2/64         │
#                                      └───────────────────────┘
#   ┌ netns nc-v6tap-$$ ───────────────────────────────────────────────────┐
#   │ kernel: tap0 fd00:90::1/64  ◄── frames ──►  service T fd00:90::2/64    │
#   │ python3 http.server [fd00:90::1]:$KP        (10.90.0.2/24, --link tap) │
#   │ curl (kernel) → [fd00:90::2]:$NP                                       │
#   └──────────────────────────────────────────────────────────────────────┘
#     host netns, under T: python3 http.server [::]:$NP, curl → [fd00:90::1]:$KP
#
# Checks: files byte-exact (size + sha256) over IPv6 and IPv4 from one dual-stack
# listener, the server logs the IPv4 client as ::ffff:10.88.0.2; MSS 1440 over IPv6;
# redis answers on both families and both listeners are virtual; nginx with `listen P;
# listen [::]:P;` serves both families; a server and a client each in a network
# namespace with no network talk over IPv6; the kernel and netcon reach each other over
# IPv6 on the TAP link, and the kernel learned the service's MAC by neighbour discovery.
# Every prefix used is unreachable in the host namespace (guard_subnet), so only netcon
# can have carried the bytes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl

www=$NC_TMP/www
out=$NC_TMP/out
mkdir -p "$www" "$out"
log head -c 4M /dev/urandom >"$www/data.bin"

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.88.0.1/24 --ip6 fd00:88::1/64 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B"
start_service B 10.88.0.2/24 --ip6 fd00:88::2/64 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
st=$(log "$NETCON" status --socket "$(sock A)")
assert_contains "$st" "address6 fd00:88::1/64" "netcon status of A"
assert_contains "$st" "address6 fe80::" "netcon status of A (link-local)"

# ---- a dual-stack HTTP server on [::] -----------------------------------------------
HTTP=$(free_tcp_port)
spawn_under A web "$PYTHON" -m http.server --bind :: --directory "$www" "$HTTP"
wait_port B fd00:88::1 "$HTTP"

log under B curl -sS --fail --max-time 60 -g -o "$out/v6.bin" "http://[fd00:88::1]:$HTTP/data.bin"
assert_files_equal "$www/data.bin" "$out/v6.bin"
log under B curl -sS --fail --max-time 60 -o "$out/v4.bin" "http://10.88.0.1:$HTTP/data.bin"
assert_files_equal "$www/data.bin" "$out/v4.bin"
weblog=$(cat "$NC_TMP/web.log")
assert_contains "$weblog" 'fd00:88::2 - - ' "http.server log (IPv6 client)"
assert_contains "$weblog" '::ffff:10.88.0.2 - - ' "http.server log (IPv4 client, IPv4-mapped)"
st=$(log "$NETCON" status --socket "$(sock A)")
assert_contains "$st" "[::]:$HTTP" "A's listener"
# lwIP sizes segments from the MTU: 1500 - 40 (IPv6) - 20 (TCP), 1460 over IPv4.
mss=$(log under B "$PYTHON" -c '
import socket, sys
p = int(sys.argv[1])
for fam, host in ((socket.AF_INET6, "fd00:88::1"), (socket.AF_INET, "10.88.0.1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.connect((host, p))
    print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG), end=" ")
    s.close()
' "$HTTP")
assert_eq "1440 1460 " "$mss" "TCP_MAXSEG over IPv6 and IPv4 at MTU 1500"
# A program may reach its own service's IPv6 address (lwIP's loopback).
log under A curl -sS -g --fail --max-time 30 -o "$out/self.bin" "http://[fd00:88::1]:$HTTP/data.bin"
assert_files_equal "$www/data.bin" "$out/self.bin"
stop web

# A socket bound to [::] (so, virtual) that connects to ::1 goes back to the kernel, as
# an IPv4 one bound to 0.0.0.0 does for 127.0.0.1 (t_wildcard_loopback.sh).
P=$(free_tcp_port)
lo=$(log under A "$PYTHON" -c '
import socket, sys
p = int(sys.argv[1])
srv = socket.socket(socket.AF_INET6); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::1", p)); srv.listen(1)
cli = socket.socket(socket.AF_INET6); cli.bind(("::", 0))
cli.connect(("::1", p)); cli.sendall(b"hello-loopback6"); cli.close()
c, a = srv.accept(); data = c.recv(100)
print(data.decode(), a[0])
' "$P")
assert_eq "hello-loopback6 ::1" "$lo" "IPv6 loopback connect after a [::] bind"

# ---- redis-server with its default bind: `* -::*` ------------------------------------
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	RP=$(free_tcp_port)
	# Protected mode (on by default) refuses clients that are not on loopback, on any
	# network: it is turned off; the bind is redis's default.
	spawn_under A redis redis-server --port "$RP" --save '' --appendonly no \
		--protected-mode no --daemonize no --dir "$NC_TMP" --logfile ''
	NC_TIMEOUT=3 retry 75 under B redis-cli -h fd00:88::1 -p "$RP" ping >/dev/null ||
		fail "redis did not answer PING at [fd00:88::1]:$RP"
	assert_eq OK "$(log under B redis-cli -h fd00:88::1 -p "$RP" set k6 "over-ipv6")" "SET over IPv6"
	assert_eq OK "$(log under B redis-cli -h 10.88.0.1 -p "$RP" set k4 "over-ipv4")" "SET over IPv4"
	assert_eq over-ipv4 "$(log under B redis-cli -h fd00:88::1 -p "$RP" get k4)" "GET k4 over IPv6"
	assert_eq over-ipv6 "$(log under B redis-cli -h 10.88.0.1 -p "$RP" get k6)" "GET k6 over IPv4"
	st=$(log "$NETCON" status --socket "$(sock A)")
	assert_contains "$st" "[::]:$RP" "A's IPv6 listener for redis"
	assert_contains "$st" "0.0.0.0:$RP" "A's IPv4 listener for redis"
	clients=$(log under B redis-cli -h 10.88.0.1 -p "$RP" client list)
	assert_contains "$clients" "addr=10.88.0.2:" "redis's IPv4 client (on its IPv4 listener)"
	stop redis
else
	note "redis-server/redis-cli not installed: redis part not run"
fi

# ---- nginx: `listen P; listen [::]:P;` (Debian's default site does the same) ---------
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$NGINX" ]; then
	NP=$(free_tcp_port)
	ng=$NC_TMP/nginx
	mkdir -p "$ng"
	{
	nginx_conf_head "$ng" 64
	cat <<NGX
    server {
        listen $NP;
        listen [::]:$NP;
        root $www;
        location / { }
    }
}
NGX
	} >"$ng/nginx.conf"
	spawn_under A nginx "$NGINX" -p "$ng" -c "$ng/nginx.conf"
	wait_port B fd00:88::1 "$NP"
	log under B curl -sS -g --fail --max-time 60 -o "$out/ng6.bin" "http://[fd00:88::1]:$NP/data.bin"
	assert_files_equal "$www/data.bin" "$out/ng6.bin"
	log under B curl -sS --fail --max-time 60 -o "$out/ng4.bin" "http://10.88.0.1:$NP/data.bin"
	assert_files_equal "$www/data.bin" "$out/ng4.bin"
	acc=$(cat "$ng/access.log")
	assert_contains "$acc" "fd00:88::2 - - " "nginx access log (IPv6 client)"
	assert_contains "$acc" "10.88.0.2 - - " "nginx access log (IPv4 client)"
	stop nginx
else
	note "nginx not installed: nginx part not run"
fi

# ---- the container case: both ends in network namespaces with no network -----------
UNSHARE=()
if [ "$(id -u)" = 0 ]; then
	UNSHARE=(unshare --net)
elif unshare --user --map-root-user --net true 2>/dev/null; then
	UNSHARE=(unshare --user --map-root-user --net)
fi
if [ ${#UNSHARE[@]} -gt 0 ]; then
	CP=$(free_tcp_port)
	spawn cweb "${UNSHARE[@]}" -- "$NETCON" intercept --socket "$(sock A)" -- \
		"$PYTHON" -m http.server --bind :: --directory "$www" "$CP"
	wait_port B fd00:88::1 "$CP"
	log "${UNSHARE[@]}" -- "$NETCON" intercept --socket "$(sock B)" -- \
		curl -sS -g --fail --max-time 60 -o "$out/c6.bin" "http://[fd00:88::1]:$CP/data.bin"
	assert_files_equal "$www/data.bin" "$out/c6.bin"
	stop cweb
else
	note "cannot create a network namespace: container part not run"
fi

status B
stop_service B
stop_service A

# ---- the kernel's IPv6 over a TAP device ---------------------------------------------
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	note "not root or no /dev/net/tun: the TAP part is not run"
	note "PASS"
	exit 0
fi
ns=nc-v6tap-$$
netns_add "$ns"
log ip -n "$ns" tuntap add tap0 mode tap || fail "cannot create a tap device"
log ip -n "$ns" addr add 10.90.0.1/24 dev tap0
log ip -n "$ns" -6 addr add fd00:90::1/64 dev tap0 nodad
log ip -n "$ns" link set tap0 up
start_service --netns "$ns" T 10.90.0.2/24 --ip6 fd00:90::2/64 --link tap --tap tap0
guard_subnet fd00:90::2/64

NP=$(free_tcp_port)
spawn_under T nweb "$PYTHON" -m http.server --bind :: --directory "$www" "$NP"
NC_TIMEOUT=3 retry 75 ip netns exec "$ns" curl -sS -g --max-time 2 -o /dev/null "http://[fd00:90::2]:$NP/" ||
	fail "the kernel could not reach [fd00:90::2]:$NP"
log ip netns exec "$ns" curl -sS -g --fail --max-time 60 -o "$out/k.bin" "http://[fd00:90::2]:$NP/data.bin"
assert_files_equal "$www/data.bin" "$out/k.bin"

KP=$(free_tcp_port)
spawn kweb ip netns exec "$ns" "$PYTHON" -m http.server --bind fd00:90::1 --directory "$www" "$KP"
wait_port "netns:$ns" fd00:90::1 "$KP"
log under T curl -sS -g --fail --max-time 60 -o "$out/n.bin" "http://[fd00:90::1]:$KP/data.bin"
assert_files_equal "$www/data.bin" "$out/n.bin"

neigh=$(log ip -n "$ns" -6 neigh show fd00:90::2 dev tap0)
printf '    %s\n' "$neigh" >&2
assert_contains "$neigh" "lladdr" "kernel's neighbour entry for fd00:90::2"
status T
note "PASS"
