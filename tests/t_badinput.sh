#!/usr/bin/env bash
# t_badinput.sh — wrong input gets a clear, prompt error and never a hang.
#
#   netcon SUBCOMMAND --bogus                  → exit ≠ 0, "unknown option '--bogus'"
#   netcon service --bind/--peer nosuchhost.invalid:52320
#                                              → exit ≠ 0, "cannot resolve nosuchhost.invalid"
#   netcon service --ready-fd 9 (closed), 0 (read-only) → exit ≠ 0, says which
#   netcon container-flags with a bad engine, a missing socket directory, a path with a
#   space, no netcon-exec; netcon-exec without a program or a service → exit ≠ 0, says which
#   netcon service --outbound (malformed, overlapping) → exit ≠ 0, one line naming the entry
#   netcon --version, netcon version           → "netcon X.Y.Z", then lwIP's version and
#                                                Debian package, our patch series and its
#                                                digest (as scripts/fetch-lwip.sh makes it)
#   netcon service --ip 300.1.1.1/24 ...       → exit ≠ 0, message names 300.1.1.1
#   netcon service --ip6 fe80::1/64 ... (and other unusable IPv6 addresses, --mtu < 1280)
#                                              → exit ≠ 0, message names the value
#   netcon service ... --bind <port in use>    → exit ≠ 0, "Address already in use"
#   netcon intercept --socket /nonexistent -- curl http://10.88.0.1:80/
#                                              → curl exit 7 in < 3 s; one netcon line
#
#   listener 10.88.0.1:$P; bind 10.88.0.1:$P         python client → 10.88.0.1:$P
#   and 0.0.0.0:$P again → EADDRINUSE                 (the first listener still answers)
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   └──────────────────────┘    (loopback)     └──────────────────────┘
#   The listener binds 10.88.0.1, no address of the kernel's: had the intercept not taken
#   the socket, that bind would fail with EADDRNOTAVAIL, so it is a virtual listener.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl

# run_bad NAME CMD... — run CMD (bounded: 10 s), capture its status in BAD_RC and its
# stdout+stderr in BAD_OUT; a hang is a failure.
run_bad() {
	local name=$1
	shift
	BAD_OUT=$(log timeout -k 2 10 "$@" 2>&1) || BAD_RC=$?
	printf '%s\n' "$BAD_OUT" | sed 's/^/    | /' >&2
	[ "$BAD_RC" != 124 ] || fail "$name: still running after 10 s"
	[ "$BAD_RC" != 0 ] || fail "$name: exited 0"
	note "ok: $name: exit status $BAD_RC"
}

# 1. Unknown flag: "unknown option", for every subcommand (not "needs a value").
for sub in service run status intercept show container-flags; do
	run_bad "unknown flag ($sub)" "$NETCON" $sub --bogus
	assert_contains "$BAD_OUT" "unknown option '--bogus'" "message of netcon $sub for --bogus"
done
run_bad "unknown short flag" "$NETCON" service -x
assert_contains "$BAD_OUT" "unknown option '-x'" "message for -x"
run_bad "unknown flag with a value" "$NETCON" service --bogus=1
assert_contains "$BAD_OUT" "unknown option '--bogus'" "message for --bogus=1"
run_bad "unknown flag before --" "$NETCON" run --bogus -- true
assert_contains "$BAD_OUT" "unknown option '--bogus'" "message of netcon run for --bogus"

# 1b. A name that does not resolve, for --bind and --peer (the resolver bounded to 1 s).
for opt in --bind --peer; do
	run_bad "$opt with an unknown name" env RES_OPTIONS="timeout:1 attempts:1" \
		"$NETCON" service "$opt" nosuchhost.invalid:52320 --socket "$NC_TMP/bad.sock"
	assert_contains "$BAD_OUT" "cannot resolve nosuchhost.invalid" "message for $opt nosuchhost.invalid:52320"
done
run_bad "--bind without a port" "$NETCON" service --bind 127.0.0.1 --socket "$NC_TMP/bad.sock"
assert_contains "$BAD_OUT" "want HOST:PORT" "message for --bind 127.0.0.1"

# 1c. --ready-fd: a closed fd, and one open only for reading.
exec 9<&-
run_bad "--ready-fd closed" "$NETCON" service --ready-fd 9 --socket "$NC_TMP/bad.sock"
assert_contains "$BAD_OUT" "bad --ready-fd '9': no such open file descriptor" "message for a closed --ready-fd"
run_bad "--ready-fd read-only" "$NETCON" service --ready-fd 0 --socket "$NC_TMP/bad.sock"
assert_contains "$BAD_OUT" "not open for writing" "message for a read-only --ready-fd"
[ ! -e "$NC_TMP/bad.sock" ] || fail "a socket was created for a rejected configuration"

# 1c'. container-flags and netcon-exec: what is wrong, named.
run_bad "container-flags --engine lxc" "$NETCON" container-flags --engine lxc
assert_contains "$BAD_OUT" "unknown engine 'lxc' (docker or podman)" "message for an unknown engine"
run_bad "container-flags, socket directory missing" "$NETCON" container-flags --socket /nonexistent/x.sock
assert_contains "$BAD_OUT" "the socket's directory /nonexistent: No such file or directory" \
	"message for a missing socket directory"
mkdir -p "$NC_TMP/a dir"
run_bad "container-flags, a path with a space" "$NETCON" container-flags --socket "$NC_TMP/a dir/x.sock"
assert_contains "$BAD_OUT" "has a character that the engines' --mount would split" "message for a space"
run_bad "container-flags, no netcon-exec" env NETCON_EXEC=/nonexistent "$NETCON" container-flags --socket "$NC_TMP/x.sock"
assert_contains "$BAD_OUT" "cannot find netcon-exec" "message for a missing netcon-exec"
out=$(log "$NETCON" container-flags --socket "$NC_TMP/x.sock" --engine podman)
assert_contains "$out" "--network none --mount type=bind,src=$NC_TMP,dst=/run/netcon " "container-flags: the socket's directory"
assert_contains "$out" "--env NETCON_SOCKET=/run/netcon/x.sock --entrypoint /.netcon-exec" "container-flags: entrypoint"
run_bad "netcon-exec without a program" "$BUILD/netcon-exec"
assert_contains "$BAD_OUT" "netcon-exec: no program given" "message of netcon-exec without a program"
run_bad "netcon-exec --bogus" "$BUILD/netcon-exec" --bogus
assert_contains "$BAD_OUT" "unknown option '--bogus'" "message of netcon-exec for --bogus"
run_bad "netcon-exec, no service" "$BUILD/netcon-exec" --socket "$NC_TMP/none.sock" true
assert_contains "$BAD_OUT" "cannot reach the netcon service at $NC_TMP/none.sock" "message of netcon-exec without a service"

# 1c''. --publish: malformed, outside the virtual network, overlapping, a port taken,
# a privileged port without the right — one line each, and no socket left behind.
for spec in "sctp:80:10.88.0.1:80" "tcp:80:10.88.0.1" "tcp:0:10.88.0.1:80" \
	"tcp:80:10.88.0.1:70000" "tcp:1.2.3:80:10.88.0.1:80" "tcp:80:[fd00::1:80"; do
	run_bad "--publish $spec" "$NETCON" service --socket "$NC_TMP/bad.sock" --publish "$spec"
	assert_contains "$BAD_OUT" "bad --publish '$spec'" "message for --publish $spec"
done
run_bad "--publish outside" "$NETCON" service --socket "$NC_TMP/bad.sock" --ip 10.88.0.1/24 \
	--publish tcp:8080:10.99.0.1:80
assert_contains "$BAD_OUT" "the virtual address 10.99.0.1 is not on the virtual network" \
	"message for a --publish outside the virtual network"
run_bad "--publish overlapping" "$NETCON" service --socket "$NC_TMP/bad.sock" --ip 10.88.0.1/24 \
	--publish tcp:127.0.0.1:8080:10.88.0.1:80 --publish tcp:8080:10.88.0.2:80
assert_contains "$BAD_OUT" "two of them listen on port 8080 of the host (TCP)" \
	"message for overlapping --publish"
HELD=$(free_tcp_port)
spawn holder "$PYTHON" -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $HELD)); s.listen(1); print('held', flush=True); time.sleep(60)"
retry 50 grep -q held "$NC_TMP/holder.log" >/dev/null
run_bad "--publish on a taken port" "$NETCON" service --socket "$NC_TMP/bad.sock" \
	--ip 10.88.0.1/24 --bind "127.0.0.1:$(free_udp_port)" --publish "tcp:127.0.0.1:$HELD:10.88.0.1:80"
assert_contains "$BAD_OUT" "--publish tcp:127.0.0.1:$HELD:10.88.0.1:80: Address already in use" \
	"message for a taken host port"
stop holder
if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)" -gt 81 ] &&
   command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	run_bad "--publish on a privileged port" setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$NETCON" service --socket "$NC_TMP/nobody.sock" --ip 10.88.0.1/24 \
		--bind "127.0.0.1:$(free_udp_port)" --publish tcp:127.0.0.1:81:10.88.0.1:80
	assert_contains "$BAD_OUT" "Permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)" \
		"message for a privileged port without the right"
else
	note "the privileged-port check needs root, setpriv and ports below 1024 reserved: not run"
fi
[ ! -e "$NC_TMP/bad.sock" ] || fail "a socket was left behind by a rejected --publish"

# 1c'''. --outbound: malformed and overlapping entries, one line naming the entry each;
# nothing started (no socket).
while IFS='|' read -r val want; do
	run_bad "--outbound $val" "$NETCON" service --outbound "$val" --socket "$NC_TMP/bad.sock"
	assert_contains "$BAD_OUT" "$want" "message for --outbound $val"
	n=$(printf '%s\n' "$BAD_OUT" | grep -c -- '--outbound' || true)
	assert_eq 1 "$n" "one line naming --outbound $val"
done <<'EOF_BAD'
foo|--outbound entry 'foo': 'foo' is not an IPv4 or IPv6 address
10.0.0.0/33|bad prefix length '33' (want 0..32)
10.0.0.1/8|the address has bits set past /8 (the network is 10.0.0.0/8)
10.0.0.0/8:0|bad port '0'
10.0.0.0/8:90-80|bad port '90-80'
10.0.0.0/8,,1.2.3.4|an empty entry
[2001:db8::1:443|'[' without ']'
::ffff:10.0.0.1|write an IPv4-mapped address as IPv4
10.0.0.0/8,10.1.0.0/16|entry '10.1.0.0/16' overlaps '10.0.0.0/8'
2001:db8::/32:443,[2001:db8::1]:400-500|entry '[2001:db8::1]:400-500' overlaps '2001:db8::/32:443'
all,192.0.2.0/24:80|entry '192.0.2.0/24:80' overlaps 'all'
EOF_BAD
run_bad "--outbound twice overlapping" "$NETCON" service --outbound all --outbound all \
	--socket "$NC_TMP/bad.sock"
assert_contains "$BAD_OUT" "entry 'all' overlaps 'all'" "message for --outbound all twice"
run_bad "--outbound without a value" "$NETCON" service --outbound
assert_contains "$BAD_OUT" "option --outbound needs a value" "message for --outbound alone"
[ ! -e "$NC_TMP/bad.sock" ] || fail "a socket was created for a rejected --outbound"

# 1d. The version.
for v in --version version; do
	out=$(log "$NETCON" $v)
	[[ ${out%%$'\n'*} =~ ^netcon\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "netcon $v printed '$out'"
	note "ok: netcon $v: ${out%%$'\n'*}"
done
deb=$(sed -n 's/^LWIP_DEB_VERSION="\(.*\)"/\1/p' "$NC_ROOT/scripts/fetch-lwip.sh")
names=$(cd "$NC_ROOT/lwip/patches" && ls -- *.patch | sed 's/\.patch$//' | tr '\n' ' ')
sum=$(cd "$NC_ROOT/lwip/patches" && for p in *.patch; do echo "patch $p"; cat "$p"; done |
	sha256sum | cut -c1-16)
want="lwIP ${deb%%+*} (Debian source package lwip $deb)
lwIP patches: ${names% } (sha256 $sum)"
assert_eq "$want" "$(printf '%s\n' "$out" | tail -n +2)" "netcon --version's lwIP lines"

# 2. Bad address.
UP=$(free_udp_port)
run_bad "bad --ip" "$NETCON" service --ip 300.1.1.1/24 --socket "$NC_TMP/bad.sock" \
	--link vxlan --bind "127.0.0.1:$UP"
assert_contains "$BAD_OUT" "300.1.1.1" "message for --ip 300.1.1.1/24"
[ ! -e "$NC_TMP/bad.sock" ] || fail "a socket was created for a rejected configuration"
for bad6 in fd00::1 fd00::1/129 fe80::1/64 ::1/128 ff02::1/64 ::ffff:10.0.0.1/96; do
	run_bad "bad --ip6 $bad6" "$NETCON" service --ip6 "$bad6" --socket "$NC_TMP/bad.sock" \
		--link vxlan --bind "127.0.0.1:$UP"
	assert_contains "$BAD_OUT" "bad --ip6 '$bad6'" "message for --ip6 $bad6"
done
run_bad "--ip6 with --mtu 1000" "$NETCON" service --ip6 fd00::1/64 --mtu 1000 \
	--socket "$NC_TMP/bad.sock" --link vxlan --bind "127.0.0.1:$UP"
assert_contains "$BAD_OUT" "1280" "message for --ip6 with a small MTU"
[ ! -e "$NC_TMP/bad.sock" ] || fail "a socket was created for a rejected configuration"

# 3. VXLAN port already in use (held by a plain UDP socket).
spawn udp-holder "$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("holding", sys.argv[1], flush=True)
time.sleep(600)' "$UP"
retry 25 grep -q holding "$NC_TMP/udp-holder.log" || fail "UDP port holder did not start"
run_bad "--bind port in use" "$NETCON" service --ip 10.88.0.9/24 --socket "$NC_TMP/busy.sock" \
	--link vxlan --bind "127.0.0.1:$UP"
assert_contains "$BAD_OUT" "Address already in use" "message for a busy --bind port"
[ ! -e "$NC_TMP/busy.sock" ] || fail "a socket was left behind by a service that failed to start"
stop udp-holder

# 4. Intercept with no service behind the socket path: the program still runs, its
#    virtual connect fails at once (curl: exit 7), and netcon says why, once.
guard_subnet 10.88.0.0/24
rc=0
t0=$(now_ms)
log "$NETCON" intercept --socket /nonexistent -- \
	curl -sS --max-time 5 http://10.88.0.1:80/ >"$NC_TMP/curl.out" 2>"$NC_TMP/curl.err" || rc=$?
t1=$(now_ms)
sed 's/^/    | /' "$NC_TMP/curl.err" >&2
note "curl exited $rc after $((t1 - t0)) ms"
assert_eq 7 "$rc" "curl exit status"
[ $((t1 - t0)) -lt 3000 ] || fail "curl took $((t1 - t0)) ms to fail (limit 3000 ms)"
assert_eq 1 "$(grep -c netcon "$NC_TMP/curl.err" || true)" "netcon lines on stderr"
assert_contains "$(grep netcon "$NC_TMP/curl.err")" "/nonexistent" "the netcon line"

# 5. A second virtual listener on a port already taken.
start_pair 10.88.0
P=$(free_tcp_port)
# 10.88.0.1 is no address of the kernel's: if the intercept did not take this socket the
# bind would fail with EADDRNOTAVAIL, so a listener here is a virtual one.
spawn_under A listener "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("10.88.0.1", int(sys.argv[1])))
s.listen(8)
print("listening", s.getsockname(), flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()' "$P"
retry 50 grep -q listening "$NC_TMP/listener.log" || fail "virtual listener did not start: $(logtail listener 5)"

cat >"$NC_TMP/bind2.py" <<'EOF'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen(8)
    print("bound")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno), e.strerror)
EOF
for addr in 10.88.0.1 0.0.0.0; do
	res=$(log under A "$PYTHON" "$NC_TMP/bind2.py" "$addr" "$P")
	assert_eq "error EADDRINUSE Address already in use" "$res" "bind $addr:$P while a virtual listener has it"
done
# And the first listener still works.
got=$(log under B "$PYTHON" -c '
import socket, sys
c = socket.create_connection(("10.88.0.1", int(sys.argv[1])), timeout=5)
print(c.makefile().readline().strip())' "$P")
assert_eq hello "$got" "reply of the first listener"

stop listener
stop_service B
stop_service A
note "PASS"
