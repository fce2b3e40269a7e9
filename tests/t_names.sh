#!/usr/bin/env bash
# t_names.sh — names on the virtual network: --host/--hosts resolved by programs under the
# intercept (getaddrinfo, gethostbyname*, getnameinfo), and the service's DNS (--dns)
# answering a kernel's dig over VXLAN and dig/host run under B (their own UDP queries).
#
#   ┌ netns nc-nmk-$$ (kernel) ───────────┐      ┌ netns nc-nmn-$$ (services) ──────────────┐
#   │ vx0 10.88.0.3/24, VNI 7              │      │ service A 10.88.0.1/24 --dns             │
#   │   local 10.89.254.1 dstport 4789     │      │   --host web.netcon=10.88.0.1 --hosts F  │
#   │ veth-k 10.89.254.1/30 ◄── VXLAN ─────┼─veth─┼─► 10.89.254.2:4789                      │
#   │ dig @10.88.0.1 (A, AAAA, PTR, ...)   │      │ service B 10.88.0.2/24 (same names)      │
#   │ python3: malformed queries           │      │   10.89.254.2:$PB  ◄── VXLAN ──► A       │
#   └──────────────────────────────────────┘      └──────────────────────────────────────────┘
#      unshare --net (only lo): python3 http.server 0.0.0.0:$HTTP under A (by socket path)
#      unshare --net (only lo): curl http://web.netcon:$HTTP/, getent, python3 under B
#
# Each service has its own table: B is given the same --host/--hosts as A. The kernel only
# talks to A (the kernel's vxlan floods to A's address only).
# Checks: curl by name byte-exact; getent hosts/ahosts; python gethostbyname, getnameinfo,
# gethostbyaddr; names not in the table still go to libc; no warning when the service is
# unreachable; dig answers A, AAAA, PTR (IPv4 and IPv6), NXDOMAIN, NOERROR without data,
# case-insensitive, EDNS; malformed queries (truncated, compression loop, two questions,
# class CH) get FORMERR/NOTIMP or nothing, and the service keeps answering; bad options
# are rejected with the name or line number.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$BUILD/libnetcon.so"
require_root
require_cmd ip bridge ethtool curl getent unshare dig

# --- bad input first: one clear message each ------------------------------------------
printf '10.88.0.9 ok.netcon\n# fine\n10.88.0.10 bad!name\n' >"$NC_TMP/bad.hosts"
out=$(log "$NETCON" service --hosts "$NC_TMP/bad.hosts" 2>&1) && fail "bad hosts file accepted"
assert_contains "$out" "bad.hosts:3:" "bad hosts file message"
out=$(log "$NETCON" service --host "x.netcon=10.88.0" 2>&1) && fail "bad --host accepted"
assert_contains "$out" "not an IPv4 or IPv6 address" "bad --host message"
out=$(log "$NETCON" service --host "=10.88.0.1" 2>&1) && fail "bad --host accepted"
assert_contains "$out" "NAME=ADDR" "bad --host message"
out=$(log "$NETCON" service --help)
assert_contains "$out" "--dns" "--help"

# --- topology ---------------------------------------------------------------------------
nsk=nc-nmk-$$
nsn=nc-nmn-$$
VNI=7
netns_add "$nsk"
netns_add "$nsn"
log ip -n "$nsk" link add veth-k type veth peer name veth-n netns "$nsn"
log ip -n "$nsk" addr add 10.89.254.1/30 dev veth-k
log ip -n "$nsn" addr add 10.89.254.2/30 dev veth-n
log ip -n "$nsk" link set veth-k up
log ip -n "$nsn" link set veth-n up
log ip -n "$nsk" link add vx0 type vxlan id "$VNI" local 10.89.254.1 dstport 4789 dev veth-k ||
	skip "the kernel cannot create a vxlan device"
log bridge -n "$nsk" fdb append 00:00:00:00:00:00 dev vx0 dst 10.89.254.2 port 4789
log ip -n "$nsk" addr add 10.88.0.3/24 dev vx0
log ip -n "$nsk" link set vx0 mtu 1450 up
# The inner UDP checksum would be left to "hardware" between namespaces (see t_kernel_vxlan).
log ip netns exec "$nsk" ethtool -K vx0 tx off >/dev/null

cat >"$NC_TMP/names.hosts" <<'EOF'
# names of the test network (hosts(5) format)
10.88.0.2     client.netcon   client      # service B
10.88.0.3     kernel.netcon
fd00:88::1    web.netcon
EOF
names=(--host web.netcon=10.88.0.1 --hosts "$NC_TMP/names.hosts")
PB=4790
start_service --netns "$nsn" A 10.88.0.1/24 --bind 10.89.254.2:4789 --peer 10.89.254.1:4789 \
	--peer "10.89.254.2:$PB" --vni "$VNI" --mtu 1450 "${names[@]}" --dns
start_service --netns "$nsn" B 10.88.0.2/24 --bind "10.89.254.2:$PB" --peer 10.89.254.2:4789 \
	--vni "$VNI" --mtu 1450 "${names[@]}"

# --- programs by name, both ends without network ----------------------------------------
www=$NC_TMP/www
mkdir -p "$www"
head -c 3M /dev/urandom >"$www/file.bin"
HTTP=$(free_tcp_port)
spawn web unshare --net -- "$NETCON" intercept --socket "$(sock A)" -- \
	"$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HTTP"
wait_port B 10.88.0.1 "$HTTP"

inB() { log unshare --net -- "$NETCON" intercept --socket "$(sock B)" -- "$@"; }

inB curl -sS --fail --max-time 60 -o "$NC_TMP/file.out" "http://web.netcon:$HTTP/file.bin"
assert_files_equal "$www/file.bin" "$NC_TMP/file.out"
inB curl -sS --fail --max-time 60 -o "$NC_TMP/file2.out" "http://WEB.Netcon.:$HTTP/file.bin"
assert_files_equal "$www/file.bin" "$NC_TMP/file2.out"

out=$(inB getent hosts web.netcon)
assert_contains "$out" "web.netcon" "getent hosts web.netcon"
out=$(inB getent ahostsv4 web.netcon)
assert_contains "$out" "10.88.0.1       STREAM web.netcon" "getent ahostsv4 web.netcon"
out=$(inB getent ahosts web.netcon)
assert_contains "$out" "10.88.0.1" "getent ahosts web.netcon (IPv4)"
assert_contains "$out" "fd00:88::1" "getent ahosts web.netcon (IPv6)"
out=$(inB getent hosts client)
assert_eq "10.88.0.2       client.netcon client" "$out" "getent hosts client (alias)"
out=$(inB getent hosts 10.88.0.3)
assert_eq "10.88.0.3       kernel.netcon" "$out" "getent hosts 10.88.0.3 (by address)"
out=$(inB getent hosts localhost)
assert_contains "$out" "localhost" "getent hosts localhost (libc)"
rc=0
inB getent hosts nosuch.netcon || rc=$?
assert_eq 2 "$rc" "getent hosts nosuch.netcon exit status"
# AI_ADDRCONFIG (getent ahosts sets it): glibc alone refuses any IPv4 address in a
# namespace without a configured one; our virtual addresses are configured.
rc=0
log unshare --net -- getent ahostsv4 10.88.0.1 || rc=$?
assert_eq 2 "$rc" "getent ahostsv4 10.88.0.1 without netcon (libc, no network)"
out=$(inB getent ahostsv4 10.88.0.1)
assert_contains "$out" "10.88.0.1       STREAM 10.88.0.1" "getent ahostsv4 10.88.0.1 under netcon"
out=$(inB "$PYTHON" -c '
import socket
print(socket.getaddrinfo(None, 80, socket.AF_INET, socket.SOCK_STREAM, 0,
                         socket.AI_PASSIVE | socket.AI_ADDRCONFIG)[0][4])
try:
    socket.getaddrinfo("192.0.2.1", 80, socket.AF_INET, 0, 0, socket.AI_ADDRCONFIG)
    print("kernel address accepted")
except socket.gaierror:
    print("kernel address: as libc says")
')
assert_eq "('0.0.0.0', 80)
kernel address: as libc says" "$out" "AI_PASSIVE|AI_ADDRCONFIG wildcard; a kernel address stays libc's"

out=$(inB "$PYTHON" -c '
import socket
print(socket.gethostbyname("web.netcon"))
print(socket.getnameinfo(("10.88.0.1", 80), socket.NI_NAMEREQD | socket.NI_NUMERICSERV))
print(socket.getnameinfo(("10.88.0.2", 80), socket.NI_NOFQDN | socket.NI_NUMERICSERV))
print(socket.gethostbyaddr("10.88.0.2"))
print(socket.gethostbyname_ex("client"))
ai = socket.getaddrinfo("web.netcon", "http", socket.AF_INET, socket.SOCK_STREAM, 0,
                        socket.AI_CANONNAME | socket.AI_ADDRCONFIG)
print(ai)
try:
    socket.getnameinfo(("10.88.0.99", 80), socket.NI_NAMEREQD)
    print("found?")
except socket.gaierror as e:
    print("gaierror", e.errno in (socket.EAI_NONAME, socket.EAI_AGAIN))   # as libc says
')
printf '%s\n' "$out" | sed 's/^/    | /' >&2
assert_eq "10.88.0.1" "$(sed -n 1p <<<"$out")" "python gethostbyname"
assert_eq "('web.netcon', '80')" "$(sed -n 2p <<<"$out")" "python getnameinfo NI_NAMEREQD"
assert_eq "('client', '80')" "$(sed -n 3p <<<"$out")" "python getnameinfo NI_NOFQDN"
assert_eq "('client.netcon', ['client'], ['10.88.0.2'])" "$(sed -n 4p <<<"$out")" "python gethostbyaddr"
assert_eq "('client.netcon', ['client'], ['10.88.0.2'])" "$(sed -n 5p <<<"$out")" "python gethostbyname_ex"
assert_contains "$(sed -n 6p <<<"$out")" "6, 'web.netcon', ('10.88.0.1', 80))" "python getaddrinfo AI_CANONNAME|AI_ADDRCONFIG"
assert_eq "gaierror True" "$(sed -n 7p <<<"$out")" "python getnameinfo NI_NAMEREQD, address not in the table (libc)"

# The non-reentrant calls, through ctypes (python itself uses the _r ones).
out=$(inB "$PYTHON" -c '
import ctypes, socket
class HE(ctypes.Structure):
    _fields_ = [("h_name", ctypes.c_char_p), ("h_aliases", ctypes.POINTER(ctypes.c_char_p)),
                ("h_addrtype", ctypes.c_int), ("h_length", ctypes.c_int),
                ("h_addr_list", ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)))]
libc = ctypes.CDLL(None)
for f in (libc.gethostbyname, libc.gethostbyname2, libc.gethostbyaddr):
    f.restype = ctypes.POINTER(HE)
def show(p):
    h = p.contents
    a = bytes(h.h_addr_list[0][:h.h_length])
    print(h.h_name.decode(), h.h_aliases[0], socket.inet_ntop(h.h_addrtype, a), bool(h.h_addr_list[1]))
show(libc.gethostbyname(b"Client"))
show(libc.gethostbyname2(b"web.netcon", socket.AF_INET6))
show(libc.gethostbyaddr(socket.inet_aton("10.88.0.2"), 4, socket.AF_INET))
print(bool(libc.gethostbyname2(b"kernel.netcon", socket.AF_INET6)))
')
assert_eq "client.netcon b'client' 10.88.0.2 False
web.netcon None fd00:88::1 False
client.netcon b'client' 10.88.0.2 False
False" "$out" "gethostbyname, gethostbyname2, gethostbyaddr"

# Threads: 8 threads resolving at once (CPython lets go of its lock in getaddrinfo).
out=$(inB "$PYTHON" -c '
import socket, threading
bad = []
def run(k):
    for i in range(100):
        name, want = (("web.netcon", "10.88.0.1"), ("client", "10.88.0.2"))[(i + k) % 2]
        got = socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        if got != want:
            bad.append((name, got))
t = [threading.Thread(target=run, args=(k,)) for k in range(8)]
[x.start() for x in t]
[x.join() for x in t]
print("bad", len(bad))
')
assert_eq "bad 0" "$out" "800 lookups from 8 threads"

# Service unreachable: libc answers, and nothing is printed.
out=$(log env LD_PRELOAD="$BUILD/libnetcon.so" NETCON_SOCKET="$NC_TMP/none.sock" getent hosts localhost 2>&1)
assert_contains "$out" "localhost" "getent hosts localhost, service unreachable"
assert_not_contains "$out" "netcon" "output with the service unreachable"

# --- DNS from the kernel's side ----------------------------------------------------------
kdig() { log ip netns exec "$nsk" dig +tries=2 +time=2 @10.88.0.1 "$@"; }
retry 10 ip netns exec "$nsk" dig +tries=1 +time=2 @10.88.0.1 web.netcon A >/dev/null ||
	fail "no DNS answer from 10.88.0.1"
assert_eq "10.88.0.1" "$(kdig +short web.netcon A)" "dig web.netcon A"
assert_eq "10.88.0.1" "$(kdig +short WeB.NeTcOn A)" "dig WeB.NeTcOn A (case)"
assert_eq "fd00:88::1" "$(kdig +short web.netcon AAAA)" "dig web.netcon AAAA"
assert_eq "10.88.0.2" "$(kdig +short client A)" "dig client A (alias)"
assert_eq "web.netcon." "$(kdig +short -x 10.88.0.1)" "dig -x 10.88.0.1"
assert_eq "web.netcon." "$(kdig +short -x fd00:88::1)" "dig -x fd00:88::1"
out=$(kdig -x 10.88.0.2)
assert_contains "$out" "client.netcon." "dig -x 10.88.0.2"
assert_contains "$out" "PTR	client." "dig -x 10.88.0.2 (alias)"
out=$(kdig nosuch.netcon A)
assert_contains "$out" "status: NXDOMAIN" "dig nosuch.netcon"
assert_contains "$out" "flags: qr aa rd;" "dig flags (authoritative, no recursion)"
assert_contains "$out" "EDNS: version: 0" "dig EDNS"
out=$(kdig +noedns example.com A)
assert_contains "$out" "status: NXDOMAIN" "dig example.com (no upstream)"
assert_not_contains "$out" "OPT PSEUDOSECTION" "reply to a query without EDNS"
out=$(kdig kernel.netcon AAAA)
assert_contains "$out" "status: NOERROR" "dig kernel.netcon AAAA"
assert_contains "$out" "ANSWER: 0," "dig kernel.netcon AAAA (no data)"
out=$(kdig web.netcon MX)
assert_contains "$out" "ANSWER: 0," "dig web.netcon MX"
out=$(kdig -x 10.88.0.77)
assert_contains "$out" "status: NXDOMAIN" "dig -x 10.88.0.77"
out=$(kdig -c CH web.netcon TXT)
assert_contains "$out" "status: NOTIMP" "dig class CH"
out=$(kdig +edns=1 +noednsneg web.netcon A)
assert_contains "$out" "status: BADVERS" "dig EDNS version 1"

# Malformed queries from the kernel: answers where one is due, and the service lives.
out=$(log ip netns exec "$nsk" "$PYTHON" - <<'EOF'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
def ask(name, pkt):
    s.sendto(pkt, ("10.88.0.1", 53))
    try:
        r = s.recv(2048)
        print(name, "rcode", r[3] & 15, "id", struct.unpack("!H", r[:2])[0])
    except socket.timeout:
        print(name, "no answer")
hdr = lambda qd, an=0, ns=0, ar=0, flags=0x0100: struct.pack("!HHHHHH", 0x1234, flags, qd, an, ns, ar)
q = b"\x03web\x06netcon\x00" + struct.pack("!HH", 1, 1)
ask("short", b"\x12\x34\x01")
ask("response", hdr(1, flags=0x8000) + q)
ask("truncated", hdr(1) + q[:7])
ask("loop", hdr(1) + b"\xc0\x0c" + struct.pack("!HH", 1, 1))
ask("forward", hdr(1) + b"\xc0\x20" + struct.pack("!HH", 1, 1) + bytes(40))
ask("twoq", hdr(2) + q + q)
ask("noq", hdr(0))
ask("opcode", hdr(1, flags=0x2100) + q)
ask("badrr", hdr(1, ar=1) + q + b"\x00\x00\x29\x10")
ask("twoopt", hdr(1, ar=2) + q + (b"\x00\x00\x29\x04\xd0" + bytes(6)) * 2)
ask("ok", hdr(1) + q)
EOF
)
printf '%s\n' "$out" | sed 's/^/    | /' >&2
assert_eq "short no answer
response no answer
truncated rcode 1 id 4660
loop rcode 1 id 4660
forward rcode 1 id 4660
twoq rcode 1 id 4660
noq rcode 1 id 4660
opcode rcode 4 id 4660
badrr rcode 1 id 4660
twoopt rcode 1 id 4660
ok rcode 0 id 4660" "$out" "answers to malformed queries"
assert_eq "10.88.0.1" "$(kdig +short web.netcon A)" "dig after the malformed queries"
alive "${NC_SERVICE[A]}" || fail "service A died"

# A program under netcon with its own resolver: dig and host send their queries over UDP
# through B's intercept and the virtual network to A's --dns.
assert_eq "10.88.0.1" "$(log under B dig +short +tries=2 +time=2 @10.88.0.1 web.netcon A)" \
	"dig under B: web.netcon A"
out=$(log under B dig +tries=2 +time=2 @10.88.0.1 nosuch.netcon A)
assert_contains "$out" "status: NXDOMAIN" "dig under B: nosuch.netcon"
assert_contains "$out" "SERVER: 10.88.0.1#53" "dig under B: the answer's source"
out=$(log under B host -W 2 web.netcon 10.88.0.1)
assert_contains "$out" "web.netcon has address 10.88.0.1" "host under B"

st=$(log "$NETCON" status --socket "$(sock A)")
printf '%s\n' "$st" | grep names >&2
assert_contains "$st" "names: 5 entries" "status: table size"
assert_contains "$st" "dns on port 53:" "status: DNS counters"
st=$(log "$NETCON" status --socket "$(sock B)")
assert_contains "$st" "dns off" "status of B"

stop_service B
stop_service A
note "PASS"
