#!/usr/bin/env bash
# t_outbound_udp.sh — UDP the way out (--outbound) and the way in (--publish udp:), in
# preload and in seccomp mode.
# timeout: 600
#
#   ┌ netns outudp-i-$$ ("the internet") ─────┐      ┌ netns outudp-s-$$ (the services) ──────┐
#   │ outudp-i 10.161.1.1/24, 10.161.2.1/24,  │      │ outudp-s 10.161.1.2/24, 10.161.2.2/24, │
#   │   fd61:1::1/64                          │      │   fd61:1::2/64                         │
#   │ dnsmasq on 10.161.1.1, 10.161.2.1,      ◄┼─veth─┼ A 10.161.100.1/24 --outbound           │
#   │   fd61:1::1 :53 (web.internet.test)     │      │   10.161.1.0/24,127.0.0.1:$LO_OK,      │
#   │ sc_udp echo server :$ECHO (kernel)      │      │   fd61:1::/64                          │
#   └──────────────────────────────────────────┘      │ sc_udp echo 0.0.0.0:$LO_OK, :$LO_NO    │
#                                                     │ C 10.161.102.1/24 (no --outbound)      │
#                                                     │ P 10.161.101.1/24 --publish udp:...    │
#                                                     │   dnsmasq under P (preload), sc_udp    │
#                                                     │   echo under P (seccomp); dig, sc_udp  │
#                                                     │   clients of the namespace's kernel    │
#                                                     └────────────────────────────────────────┘
#   programs: unshare --net (only lo, down), under A, C or P by socket path.
#
# Checks, in preload mode (dig, sc_udp_dyn, python3) and seccomp mode (sc_udp_static,
# busybox nslookup, the pure-Go resolver when golang-go is installed):
# - the negative control: under C (no --outbound) neither dig nor sc_udp gets out;
# - a DNS query straight to the "internet" dnsmasq (dig @10.161.1.1, not through --dns;
#   over IPv6 too: dig, a Python query's sendto, busybox nslookup),
#   the answer checked: an unconnected socket's datagrams are relayed by the service,
#   a connected one's socket is the service's kernel socket;
# - an echo of 1,000 datagrams of 1..8192 bytes, each checked byte for byte, connected
#   (the passed kernel socket) and unconnected (the relay; the echo's source checked);
# - a denied destination (10.161.2.1): sendto and connect fail with EPERM, also on a
#   socket already relaying; nothing reaches it; counted and logged once;
# - the service namespace's loopback: reached where named (127.0.0.1:$LO_OK), not
#   otherwise (the program's own, down in its namespace);
# - `netcon status` and --json: the counters and the passed UDP sockets;
# - published UDP: the namespace's dig to dnsmasq run under P in preload mode, published
#   on 127.0.0.1 (VADDR:53), and an echo of 200 datagrams through a published port to a
#   static server under P in seccomp mode.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$BUILD/libnetcon.so" "$BUILD/sc_udp_static" "$BUILD/sc_udp_dyn"
require_root
require_cmd ip unshare dig dnsmasq busybox

nsi=outudp-i-$$
nss=outudp-s-$$
netns_add "$nsi"
netns_add "$nss"
log ip -n "$nsi" link add outudp-i type veth peer name outudp-s netns "$nss"
log ip -n "$nsi" addr add 10.161.1.1/24 dev outudp-i
log ip -n "$nsi" addr add 10.161.2.1/24 dev outudp-i
log ip -n "$nss" addr add 10.161.1.2/24 dev outudp-s
log ip -n "$nss" addr add 10.161.2.2/24 dev outudp-s
log ip -n "$nsi" -6 addr add fd61:1::1/64 dev outudp-i nodad
log ip -n "$nss" -6 addr add fd61:1::2/64 dev outudp-s nodad
log ip -n "$nsi" link set outudp-i up
log ip -n "$nss" link set outudp-s up

# --- the internet: dnsmasq (logging its queries), a UDP echo server ---------------------
spawn dns ip netns exec "$nsi" dnsmasq --keep-in-foreground --no-daemon --no-resolv \
	--no-hosts --listen-address=10.161.1.1,10.161.2.1,fd61:1::1 --bind-interfaces --port=53 \
	--pid-file="$NC_TMP/dnsmasq.pid" --local=/internet.test/ --log-queries \
	--host-record=web.internet.test,10.161.1.1
N=1000
ECHO=9501
retry 50 ip netns exec "$nss" dig +time=1 +tries=1 +short @10.161.1.1 web.internet.test |
	grep -qx 10.161.1.1 || fail "dnsmasq does not answer"

# listening NAME PORT — wait (bounded) for spawned sc_udp server NAME to be bound.
listening() {
	for _ in $(seq 1 100); do
		grep -q "listening on port $2" "$NC_TMP/$1.log" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$1 did not start: $(logtail "$1")"
}

# --- the services' namespace: the services -----------------------------------------------
LO_OK=9511 LO_NO=9512

svc() {
	local name=$1 ip=$2 s
	shift 2
	s=$(sock "$name")
	guard_subnet "$ip"
	spawn "svc-$name" ip netns exec "$nss" "$NETCON" service --ip "$ip" --socket "$s" \
		--log-level info --link vxlan --bind "127.0.0.1:$(free_udp_port)" --probe-ms 0 "$@"
	NC_SERVICE[$name]=$NC_PID
	for _ in $(seq 1 100); do [ -S "$s" ] && break; sleep 0.05; done
	[ -S "$s" ] || fail "service $name did not start: $(logtail "svc-$name")"
}
svc A 10.161.100.1/24 --outbound 10.161.1.0/24 --outbound "127.0.0.1:$LO_OK" \
	--outbound fd61:1::/64
if ! err=$("$NETCON" intercept --mode seccomp --socket "$(sock A)" -- true 2>&1); then
	case $err in
	*"no seccomp user notification"* | *"forbids ours"* | *"already runs under"*)
		skip "seccomp mode unavailable here: $err" ;;
	esac
	fail "netcon intercept --mode seccomp -- true failed: $err"
fi

# pre SVC CMD... / sc SVC CMD... — CMD in a namespace without network, under SVC, in
# preload or seccomp mode, bounded in time.
pre() {
	local s=$1
	shift
	log timeout --foreground -k 5 120 unshare --net -- "$NETCON" intercept --mode preload \
		--socket "$(sock "$s")" -- "$@"
}
sc() {
	local s=$1
	shift
	log timeout --foreground -k 5 120 unshare --net -- "$NETCON" intercept --mode seccomp \
		--socket "$(sock "$s")" -- "$@"
}

# --- the negative control: without --outbound nothing gets out ---------------------------
svc C 10.161.102.1/24
rc=0
out=$(pre C dig +time=2 +tries=1 +short @10.161.1.1 web.internet.test 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "without --outbound, dig reached the internet: $out"
rc=0
out=$(sc C "$BUILD/sc_udp_static" client 10.161.1.1 "$ECHO" 1 sendto 9 2>&1) || rc=$?
assert_contains "$out" "Network is unreachable" "without --outbound: the program's kernel (no network)"
stop_service C

# --- DNS straight to the internet's dnsmasq ----------------------------------------------
out=$(pre A dig +time=3 +tries=1 +short @10.161.1.1 web.internet.test)
assert_eq "10.161.1.1" "$out" "preload: dig @10.161.1.1 (the internet's dnsmasq)"
out=$(pre A dig +time=3 +tries=1 @10.161.1.1 nosuch.internet.test)
assert_contains "$out" "status: NXDOMAIN" "preload: dig of an unknown name"
assert_contains "$out" "SERVER: 10.161.1.1#53(10.161.1.1)" "preload: the answer's source"
out=$(sc A busybox nslookup web.internet.test 10.161.1.1)
assert_contains "$out" "Address: 10.161.1.1" "seccomp: busybox nslookup against 10.161.1.1"
# IPv6: dig connects (a passed socket); a Python resolver's sendto is relayed, and the
# answer must come back from the server's own address and port.
out=$(pre A dig +time=3 +tries=1 +short @fd61:1::1 web.internet.test)
assert_eq "10.161.1.1" "$out" "preload: dig @fd61:1::1 (IPv6, connected)"
cat >"$NC_TMP/q6.py" <<'PYEOF'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (sys.argv[1], 53))
r, src = s.recvfrom(4096)
print("from", src[0], src[1], "id", hex(struct.unpack(">H", r[:2])[0]),
      "answer", socket.inet_ntoa(r[-4:]))
PYEOF
out=$(pre A "$PYTHON" "$NC_TMP/q6.py" fd61:1::1 web.internet.test)
assert_eq "from fd61:1::1 53 id 0x1234 answer 10.161.1.1" "$out" "preload: IPv6 sendto (relayed), real source"
out=$(sc A busybox nslookup web.internet.test fd61:1::1)
assert_contains "$out" "Address: 10.161.1.1" "seccomp: busybox nslookup against fd61:1::1"
if command -v go >/dev/null; then
	goudp=$BUILD/goudp
	log env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
		timeout 240 go build -o "$goudp" "$NC_ROOT/tests/go/goudp.go"
	out=$(sc A "$goudp" lookup 10.161.1.1:53 web.internet.test)
	assert_contains "$out" "web.internet.test: 10.161.1.1" "seccomp: the pure-Go resolver"
else
	note "no Go toolchain (Debian's golang-go): the Go resolver is not run"
fi
n=$(grep -c "query\[A\] web.internet.test from 10.161.1.2" "$NC_TMP/dns.log" || true)
[ "$n" -ge 3 ] || fail "dnsmasq saw $n queries for web.internet.test from the service's namespace (want >= 3)"
n=$(grep -c "query\[A\] web.internet.test from fd61:1::2" "$NC_TMP/dns.log" || true)
[ "$n" -ge 3 ] || fail "dnsmasq saw $n IPv6 queries from the service's namespace (want >= 3)"

# --- echo: 1,000 datagrams of 1..8192 bytes, connected and unconnected, both modes -------
# (The echo servers give up 30 s after their last datagram: each starts just before use.)
spawn echo ip netns exec "$nsi" "$BUILD/sc_udp_static" server "$ECHO" $((4 * N))
listening echo "$ECHO"
# echo MODE PROG HOW ID — N datagrams echoed and checked; the time it took noted.
echo_run() {
	local t0 t1 out
	t0=$(now_ms)
	out=$("$1" A "$2" client 10.161.1.1 "$ECHO" "$N" "$3" "$4")
	t1=$(now_ms)
	assert_contains "$out" "$N datagrams" "$1: $3 echo"
	note "$1 mode, $3: $N datagrams echoed (stop and wait) in $((t1 - t0)) ms"
}
echo_run pre "$BUILD/sc_udp_dyn" connect 1     # the passed kernel socket
echo_run pre "$BUILD/sc_udp_dyn" sendto 2      # the relay
echo_run sc "$BUILD/sc_udp_static" connect 3
echo_run sc "$BUILD/sc_udp_static" sendto 4
wait_exit "${NC_SPAWNED[echo]}" 10 || fail "the echo server did not see its $((4 * N)) datagrams: $(logtail echo)"

# --- policy: denied destinations, loopback ----------------------------------------------
out=$(pre A "$BUILD/sc_udp_dyn" denied 10.161.2.1 53 10.161.1.1)
assert_contains "$out" "denied ok" "preload: EPERM for a denied destination"
out=$(sc A "$BUILD/sc_udp_static" denied 10.161.2.1 53 10.161.1.1)
assert_contains "$out" "denied ok" "seccomp: EPERM for a denied destination"
rc=0
out=$(pre A dig +time=2 +tries=1 @10.161.2.1 web.internet.test 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "dig to a denied address succeeded: $out"
grep -q "from 10.161.2" "$NC_TMP/dns.log" && fail "a denied datagram reached the internet: $(grep 'from 10.161.2' "$NC_TMP/dns.log")"
grep -q "query.* from .* to 10.161.2.1\|10.161.2.1.*query" "$NC_TMP/dns.log" &&
	fail "dnsmasq on 10.161.2.1 saw a query"
n=$(grep -c "udp 10.161.2.1:53 denied" "$NC_TMP/svc-A.log" || true)
assert_eq 1 "$n" "a denied destination is logged once"

spawn look ip netns exec "$nss" "$BUILD/sc_udp_static" server "$LO_OK" 400
spawn lono ip netns exec "$nss" "$BUILD/sc_udp_static" server "$LO_NO" 1
listening look "$LO_OK"
listening lono "$LO_NO"
out=$(pre A "$BUILD/sc_udp_dyn" client 127.0.0.1 "$LO_OK" 200 sendto 5)
assert_contains "$out" "200 datagrams" "preload: named loopback reached (relayed)"
out=$(sc A "$BUILD/sc_udp_static" client 127.0.0.1 "$LO_OK" 200 connect 6)
assert_contains "$out" "200 datagrams" "seccomp: named loopback reached (connected)"
wait_exit "${NC_SPAWNED[look]}" 10 || fail "the named loopback server did not see 400 datagrams"
for m in pre sc; do
	prog=$BUILD/sc_udp_dyn
	[ $m = sc ] && prog=$BUILD/sc_udp_static
	rc=0
	out=$($m A "$prog" client 127.0.0.1 "$LO_NO" 1 connect 7 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "$m: loopback not named reached something: $out"
	assert_contains "$out" "Network is unreachable" "$m: loopback not named is the program's own (down)"
done
grep -q "echoed" "$NC_TMP/lono.log" && fail "the unnamed loopback server was reached: $(logtail lono)"

# --- what the service says --------------------------------------------------------------
out=$(log "$NETCON" status --socket "$(sock A)")
printf '%s\n' "$out" | grep -E '^(outbound|  pid)' >&2 || true
line=$(grep '^outbound udp:' <<<"$out")   # once (it was printed twice without --dns-forward)
re='^outbound udp: ([0-9]+) connected sockets passed, ([0-9]+) sends denied; relayed for ([0-9]+) sockets: ([0-9]+) datagrams out, ([0-9]+) in, ([0-9]+) dropped$'
[[ $line =~ $re ]] || fail "status: no UDP outbound line: $line"
[ "${BASH_REMATCH[1]}" -ge 5 ] || fail "status: ${BASH_REMATCH[1]} connected UDP sockets passed (want >= 5): $line"
assert_eq 7 "${BASH_REMATCH[2]}" "status: denied UDP (sendto, connect, relayed sendto in 2 modes; dig)"
[ "${BASH_REMATCH[5]}" -ge $((2 * N + 200)) ] || fail "status: ${BASH_REMATCH[5]} datagrams relayed in (want >= $((2 * N + 200))): $line"
assert_eq 0 "${BASH_REMATCH[6]}" "status: relayed datagrams dropped"
assert_contains "$out" " udp 10.161.1.2:" "status: passed UDP sockets with their local address"
assert_contains "$out" "-> 127.0.0.1:$LO_OK" "status: the passed loopback socket"
json=$(log "$NETCON" status --json --socket "$(sock A)")
if "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
	"$PYTHON" -c 'import json, sys, jsonschema
jsonschema.validate(json.loads(sys.argv[1]), json.load(open(sys.argv[2])))' \
		"$json" "$NC_ROOT/docs/status-json.schema.json" || fail "status --json: not valid by its schema"
	note "ok: status --json (with passed UDP sockets) valid by docs/status-json.schema.json"
else
	note "python3-jsonschema not installed: status --json not checked against its schema"
fi
out=$("$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])["outbound"]
print(d["policy"], d["udp"]["denied"], d["udp"]["relayed_in"] > 0,
      any(p["protocol"] == "udp" for p in d["passed"]))' "$json")
assert_eq "10.161.1.0/24,127.0.0.1:$LO_OK,fd61:1::/64 7 True True" "$out" "status --json: outbound"

# --- published UDP: dnsmasq under P (preload), a static echo under P (seccomp) ------------
PUB_DNS=$(free_udp_port)
PUB_ECHO=$(free_udp_port)
VECHO=9521
svc P 10.161.101.1/24 --publish "udp:127.0.0.1:$PUB_DNS:10.161.101.1:53" \
	--publish "udp:127.0.0.1:$PUB_ECHO:10.161.101.1:$VECHO"
spawn pubdns ip netns exec "$nss" unshare --net -- "$NETCON" intercept --mode preload \
	--socket "$(sock P)" -- dnsmasq --keep-in-foreground --no-daemon --no-resolv --no-hosts \
	--port=53 --bind-interfaces --listen-address=10.161.101.1 --pid-file="$NC_TMP/pubdns.pid" \
	--local=/pub.test/ --log-queries \
	--host-record=db.pub.test,10.161.101.9
out=$(retry 50 ip netns exec "$nss" dig +time=1 +tries=1 +short -p "$PUB_DNS" @127.0.0.1 db.pub.test) ||
	fail "the published dnsmasq does not answer: $(logtail pubdns)"
assert_eq "10.161.101.9" "$out" "published UDP: the host's dig to dnsmasq under netcon"
spawn pubecho ip netns exec "$nss" unshare --net -- "$NETCON" intercept --mode seccomp \
	--socket "$(sock P)" -- "$BUILD/sc_udp_static" server "$VECHO" 200
listening pubecho "$VECHO"
out=$(log ip netns exec "$nss" "$BUILD/sc_udp_static" client 127.0.0.1 "$PUB_ECHO" 200 sendto 8)
assert_contains "$out" "200 datagrams" "published UDP to a seccomp-mode program"
wait_exit "${NC_SPAWNED[pubecho]}" 10 || fail "the published echo server did not see 200 datagrams"
out=$(log "$NETCON" status --socket "$(sock P)")
assert_contains "$out" "publish udp:127.0.0.1:$PUB_DNS:10.161.101.1:53: " "status: the published DNS port"
assert_contains "$out" "publish udp:127.0.0.1:$PUB_ECHO:10.161.101.1:$VECHO: 200 datagrams in, 200 answers, 0 dropped" \
	"status: the published echo port"

stop pubdns
for s in A P; do stop_service "$s"; done
note "PASS"
