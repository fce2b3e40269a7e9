#!/usr/bin/env bash
# t_outbound.sh — the way out: --outbound (programs reach addresses outside the virtual
# network through the service's own network) and --dns-forward (names not in the table
# go to the service's resolv.conf nameservers), in preload and in seccomp mode.
# timeout: 600
#
#   ┌ netns nc-obi-$$ ("the internet") ──────┐      ┌ netns nc-obs-$$ (the services) ────────┐
#   │ veth-i 10.201.0.1/24, 10.202.0.1/24     │      │ veth-s 10.201.0.2/24, 10.202.0.2/24    │
#   │ python3 http.server 0.0.0.0:$WEB       ◄┼─veth─┼ A 10.77.0.1/24 --dns --dns-forward      │
#   │ dnsmasq 10.201.0.1:53: web.inet.test,   │      │   --outbound 10.201.0.0/24,            │
#   │   blocked.inet.test (internet.test     │      │     127.0.0.1:$LO_OK                   │
#   │   is its local domain)                 │      │   resolv.conf: nameserver 10.201.0.1   │
#   │ sc_tcp server :$SCP (kernel, static)   │      │ B 10.78.0.1/24 --outbound all          │
#   └─────────────────────────────────────────┘      │ http.server 127.0.0.1:$LO_OK, :$LO_NO; │
#                                                    │   0.0.0.0:$HOSTP (host.netcon.internal)│
#                                                    └────────────────────────────────────────┘
#   programs: unshare --net (only lo), under A or B by socket path, preload and seccomp.
#
# Nothing here touches the host's network: the services run in a namespace of their own
# whose only way out is the veth to the "internet" namespace; their resolv.conf is a
# private bind mount (unshare -m), and the virtual subnets are guarded.
#
# Checks: curl by name (getaddrinfo → NC_MSG_RESOLVE → dnsmasq) of 100 MiB, sha256; 500
# small GETs over 20 parallel connections; dig through --dns + --dns-forward (A, NXDOMAIN
# relayed); getent through the intercept; getsockname is the service namespace's address;
# a non-blocking connect (EINPROGRESS, then POLLOUT and SO_ERROR 0) with TCP_NODELAY,
# SO_KEEPALIVE and SO_RCVBUF carried over; a denied CIDR is ECONNREFUSED, counted and
# logged once; the service namespace's loopback is reached only where named, never with
# `all`; host.netcon.internal; `netcon status`. Seccomp mode: static sc_tcp clients
# (blocking and non-blocking) and busybox wget (100 MiB, sha256), a denied connect; an idle
# connection (busybox nc) leaves no stale fd in the service's epoll and costs it no CPU.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$BUILD/libnetcon.so" "$BUILD/sc_tcp_static"
require_root
require_cmd ip unshare curl dig getent dnsmasq busybox

nsi=nc-obi-$$
nss=nc-obs-$$
netns_add "$nsi"
netns_add "$nss"
log ip -n "$nsi" link add veth-i type veth peer name veth-s netns "$nss"
log ip -n "$nsi" addr add 10.201.0.1/24 dev veth-i
log ip -n "$nsi" addr add 10.202.0.1/24 dev veth-i
log ip -n "$nss" addr add 10.201.0.2/24 dev veth-s
log ip -n "$nss" addr add 10.202.0.2/24 dev veth-s
log ip -n "$nsi" link set veth-i up
log ip -n "$nss" link set veth-s up

# --- the internet: a web server, a DNS server, a static TCP server ---------------------
www=$NC_TMP/www
mkdir -p "$www"
log head -c 100M /dev/urandom >"$www/big.bin"
printf 'small file\n' >"$www/small.txt"
WEB=8080
spawn web ip netns exec "$nsi" "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$WEB"
spawn dns ip netns exec "$nsi" dnsmasq --keep-in-foreground --no-daemon --no-resolv \
	--no-hosts --listen-address=10.201.0.1 --bind-interfaces --port=53 \
	--pid-file="$NC_TMP/dnsmasq.pid" --local=/internet.test/ \
	--host-record=web.internet.test,10.201.0.1 --host-record=blocked.internet.test,10.202.0.1
SCP=9301
spawn scsrv ip netns exec "$nsi" "$BUILD/sc_tcp_static" server "$SCP" 3
wait_port "netns:$nss" 10.201.0.1 "$WEB"
retry 50 ip netns exec "$nss" dig +time=1 +tries=1 +short @10.201.0.1 web.internet.test |
	grep -qx 10.201.0.1 || fail "dnsmasq does not answer"

# --- the services' namespace: loopback servers, resolv.conf, the services ---------------
lo=$NC_TMP/lo
mkdir -p "$lo/ok" "$lo/no" "$lo/host"
echo "service namespace loopback, named" >"$lo/ok/m.txt"
echo "service namespace loopback, not named" >"$lo/no/m.txt"
echo "the host, by host.netcon.internal" >"$lo/host/m.txt"
LO_OK=9401 LO_NO=9402 HOSTP=9403
spawn look ip netns exec "$nss" "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$lo/ok" "$LO_OK"
spawn lono ip netns exec "$nss" "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$lo/no" "$LO_NO"
spawn lohost ip netns exec "$nss" "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$lo/host" "$HOSTP"
echo "nameserver 10.201.0.1" >"$NC_TMP/resolv.conf"

# svc NAME ADDR/PREFIX ARGS... — a service in $nss with its own resolv.conf (a private
# bind mount in a mount namespace of its own: the host's file is never touched).
svc() {
	local name=$1 ip=$2 s
	shift 2
	s=$(sock "$name")
	guard_subnet "$ip"
	spawn "svc-$name" ip netns exec "$nss" unshare -m -- sh -c \
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$NC_TMP/resolv.conf" \
		"$NETCON" service --ip "$ip" --socket "$s" --log-level info --link vxlan \
		--bind "127.0.0.1:$(free_udp_port)" --probe-ms 0 "$@"
	NC_SERVICE[$name]=$NC_PID
	for _ in $(seq 1 100); do [ -S "$s" ] && break; sleep 0.05; done
	[ -S "$s" ] || fail "service $name did not start: $(logtail "svc-$name")"
}
svc A 10.77.0.1/24 --dns --dns-forward --outbound 10.201.0.0/24 --outbound "127.0.0.1:$LO_OK"
svc B 10.78.0.1/24 --outbound all
wait_port "netns:$nss" 127.0.0.1 "$LO_OK"
wait_port "netns:$nss" 127.0.0.1 "$LO_NO"
wait_port "netns:$nss" 10.201.0.2 "$HOSTP"

inA() { log unshare --net -- "$NETCON" intercept --socket "$(sock A)" -- "$@"; }
inB() { log unshare --net -- "$NETCON" intercept --socket "$(sock B)" -- "$@"; }
scA() { log unshare --net -- "$NETCON" intercept --mode seccomp --socket "$(sock A)" -- "$@"; }

# --- names: the intercept's getaddrinfo and dig, through the forwarder ------------------
out=$(inA getent ahostsv4 web.internet.test)
assert_contains "$out" "10.201.0.1      STREAM web.internet.test" "getent ahostsv4 by the forwarder"
out=$(inA dig +time=3 +tries=1 +short @10.77.0.1 web.internet.test)
assert_eq "10.201.0.1" "$out" "dig @service web.internet.test (relayed)"
out=$(inA dig +time=3 +tries=1 @10.77.0.1 nosuch.internet.test)
assert_contains "$out" "status: NXDOMAIN" "dig of an unknown name (relayed NXDOMAIN)"
out=$(inA dig +time=3 +tries=1 +short @10.77.0.1 host.netcon.internal)
assert_eq "10.201.0.2" "$out" "host.netcon.internal (the service namespace's address)"

# --- preload: curl by name, 100 MiB ------------------------------------------------------
t0=$(now_ms)
inA curl -sS --fail --max-time 120 -o "$NC_TMP/big.out" "http://web.internet.test:$WEB/big.bin"
t1=$(now_ms)
assert_files_equal "$www/big.bin" "$NC_TMP/big.out"
note "100 MiB through --outbound in $((t1 - t0)) ms"
rm -f "$NC_TMP/big.out"

# --- preload: 500 GETs, 20 connections at a time; socket details -------------------------
cat >"$NC_TMP/ob.py" <<'EOF'
import errno, select, socket, sys, threading, http.client

def gets(host, port, n, conns):
    bad = []
    def worker(k):
        for _ in range(k):
            c = http.client.HTTPConnection(host, port, timeout=30)
            c.request("GET", "/small.txt")
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or body != b"small file\n":
                bad.append((r.status, body))
            c.close()
    ts = [threading.Thread(target=worker, args=(n // conns,)) for _ in range(conns)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("gets", n, "bad", len(bad))

def details(host, port):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    e = s.connect_ex((host, port))
    print("connect", errno.errorcode.get(e, e))
    _, w, _ = select.select([], [s], [], 10)
    print("writable", bool(w), "so_error", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    print("nodelay", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
          "keepalive", s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
          "rcvbuf", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    print("local", s.getsockname()[0], "peer", s.getpeername())
    s.setblocking(True)
    s.sendall(b"GET /small.txt HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    print("body ok", data.endswith(b"\r\n\r\nsmall file\n"))

def refused(host, port):
    s = socket.socket()
    try:
        s.connect((host, port))
        print("connected?!")
    except OSError as e:
        print("connect", errno.errorcode.get(e.errno, e.errno))

globals()[sys.argv[1]](*[int(a) if a.isdigit() else a for a in sys.argv[2:]])
EOF
out=$(inA "$PYTHON" "$NC_TMP/ob.py" gets web.internet.test "$WEB" 500 20)
assert_eq "gets 500 bad 0" "$out" "500 GETs over 20 parallel connections"
out=$(inA "$PYTHON" "$NC_TMP/ob.py" details 10.201.0.1 "$WEB")
assert_contains "$out" "connect EINPROGRESS" "non-blocking connect"
assert_contains "$out" "writable True so_error 0" "POLLOUT and SO_ERROR 0"
assert_contains "$out" "nodelay 1 keepalive 1 rcvbuf 131072" "options carried to the kernel socket"
assert_contains "$out" "local 10.201.0.2 peer ('10.201.0.1', $WEB)" "getsockname: the service namespace's address"
assert_contains "$out" "body ok True" "bytes through the passed socket"

# --- policy: denied, loopback only where named, host.netcon.internal ---------------------
out=$(inA "$PYTHON" "$NC_TMP/ob.py" refused 10.202.0.1 "$WEB")
assert_eq "connect ECONNREFUSED" "$out" "a denied CIDR (10.202.0.0/24)"
rc=0
out=$(inA curl -sSv --max-time 20 "http://blocked.internet.test:$WEB/small.txt" 2>&1) || rc=$?
assert_eq 7 "$rc" "curl to a denied address exits 7"
assert_contains "$out" "10.202.0.1: Connection refused" "curl -v to a denied address"
ip netns exec "$nsi" ss -Htn state established "( sport = :$WEB )" | grep -q 10.202 &&
	fail "a denied connection reached the internet namespace"
out=$(inA curl -sS --fail --max-time 20 "http://127.0.0.1:$LO_OK/m.txt")
assert_eq "service namespace loopback, named" "$out" "named loopback (127.0.0.1:$LO_OK) reached"
rc=0
out=$(inA curl -sS --max-time 20 "http://127.0.0.1:$LO_NO/m.txt" 2>&1) || rc=$?
assert_eq 7 "$rc" "loopback not named: the program's own (nothing listens)"
rc=0
out=$(inB curl -sS --max-time 20 "http://127.0.0.1:$LO_OK/m.txt" 2>&1) || rc=$?
assert_eq 7 "$rc" "--outbound all: the service namespace's loopback is not reached"
# ... and what is reached is the program's own loopback: a server in its namespace.
mkdir -p "$NC_TMP/own"
echo "the program's own loopback" >"$NC_TMP/own/m.txt"
out=$(log unshare --net -- sh -c 'ip link set lo up
	"$0" -m http.server --bind 127.0.0.1 --directory "$1" "$2" >/dev/null 2>&1 &
	for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null && break; sleep 0.1; done
	"$3" intercept --socket "$4" -- curl -sS --max-time 20 "http://127.0.0.1:$2/m.txt"
	kill $!' "$PYTHON" "$NC_TMP/own" "$LO_OK" "$NETCON" "$(sock B)")
assert_eq "the program's own loopback" "$out" "--outbound all: 127.0.0.1 is the program's own"
out=$(inB curl -sS --fail --max-time 20 "http://10.202.0.1:$WEB/small.txt")
assert_eq "small file" "$out" "--outbound all reaches 10.202.0.1"
out=$(inA curl -sS --fail --max-time 20 "http://host.netcon.internal:$HOSTP/m.txt")
assert_eq "the host, by host.netcon.internal" "$out" "host.netcon.internal by the intercept's resolver"
# Without --outbound nothing changes: a non-virtual destination is the program's kernel's.
svc C 10.79.0.1/24
rc=0
out=$(log unshare --net -- "$NETCON" intercept --socket "$(sock C)" -- \
	"$PYTHON" "$NC_TMP/ob.py" refused 10.201.0.1 "$WEB") || rc=$?
assert_eq "connect ENETUNREACH" "$out" "no --outbound: the program's kernel (no network)"

# --- seccomp mode: static programs -----------------------------------------------------
scA "$BUILD/sc_tcp_static" client 10.201.0.1 "$SCP" 1048576
scA "$BUILD/sc_tcp_static" client 10.201.0.1 "$SCP" 4194304 nb
note "ok: static sc_tcp (seccomp mode) through --outbound, blocking and non-blocking"
scA busybox wget -q -O "$NC_TMP/big.sc" "http://10.201.0.1:$WEB/big.bin"
assert_files_equal "$www/big.bin" "$NC_TMP/big.sc"
rm -f "$NC_TMP/big.sc"
rc=0
out=$(scA "$BUILD/sc_tcp_static" client 10.202.0.1 "$SCP" 1024 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "a denied connect succeeded in seccomp mode"
assert_contains "$out" "connect: Connection refused" "seccomp mode: denied is ECONNREFUSED"
rc=0
out=$(scA busybox wget -q -O - "http://127.0.0.1:$LO_OK/m.txt" 2>&1) || rc=$?
assert_eq "service namespace loopback, named" "$out" "seccomp mode: named loopback reached"
scA "$BUILD/sc_tcp_static" client 10.201.0.1 "$SCP" 65536
wait_exit "${NC_SPAWNED[scsrv]}" 10 || fail "sc_tcp server did not see its 3 connections"

# A blocking connect in seccomp mode leaves nothing of its wait behind. The service used to
# close the passed socket's fd while its wait still had it in epoll (SC_ANSWERED is
# negative): the program's socket stayed registered, level-triggered EPOLLOUT, and the
# service spun in epoll_wait for as long as the connection was open.
spawn obidle unshare --net -- "$NETCON" intercept --mode seccomp --socket "$(sock A)" -- \
	sh -c 'sleep 6 | exec busybox nc "$0" "$1"' 10.201.0.1 "$WEB"
retry 50 sh -c "ip netns exec $nss ss -Htn state established '( dport = :$WEB )' | grep -q 10.201.0.1" >/dev/null ||
	fail "busybox nc (seccomp mode) did not connect: $(logtail obidle)"
svcpid=${NC_SERVICE[A]}
stale=$("$PYTHON" - "$svcpid" <<'PY'
import os, re, sys
pid, bad = sys.argv[1], []
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        if os.readlink("/proc/%s/fd/%s" % (pid, fd)) != "anon_inode:[eventpoll]":
            continue
        info = open("/proc/%s/fdinfo/%s" % (pid, fd)).read()
    except OSError:
        continue
    for t, ino in re.findall(r"tfd:\s*(\d+)\s.*?ino:([0-9a-f]+)", info):
        try:
            ok = os.stat("/proc/%s/fd/%s" % (pid, t)).st_ino == int(ino, 16)
        except OSError:
            ok = False
        if not ok:
            bad.append(t)
print(" ".join(bad))
PY
)
assert_eq "" "$stale" "the service's epoll holds no fd it has closed (seccomp-mode outbound connect)"
t0=$(awk '{ print $14 + $15 }' "/proc/$svcpid/stat")
sleep 1
t1=$(awk '{ print $14 + $15 }' "/proc/$svcpid/stat")
[ $((t1 - t0)) -lt 30 ] || fail "the service used $((t1 - t0)) ticks in 1 s beside an idle outbound connection"
note "ok: an idle seccomp-mode outbound connection costs the service nothing ($((t1 - t0)) ticks in 1 s)"
stop obidle

# --- what the service says --------------------------------------------------------------
out=$(log "$NETCON" status --socket "$(sock A)")
printf '%s\n' "$out" | grep -E '^(outbound|dns-forward|  pid)' >&2 || true
assert_contains "$out" "outbound: 10.201.0.0/24,127.0.0.1:$LO_OK;" "status: the policy"
denied=$(sed -n 's/^outbound: .*allowed ([0-9]* failed at once), \([0-9]*\) denied$/\1/p' <<<"$out")
assert_eq 3 "$denied" "status: denied connects (python, curl, seccomp)"
assert_contains "$out" "-> 10.201.0.1:$SCP" "status: passed-through sockets"
assert_contains "$out" "dns-forward to 10.201.0.1:53:" "status: the forwarder"
n=$(grep -c "10.202.0.1:$WEB denied" "$NC_TMP/svc-A.log" || true)
assert_eq 1 "$n" "a denied destination is logged once"
out=$(log "$NETCON" status --socket "$(sock C)")
assert_contains "$out" "outbound: off;" "status without --outbound"
for s in A B C; do stop_service "$s"; done
