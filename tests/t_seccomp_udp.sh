#!/usr/bin/env bash
# t_seccomp_udp.sh — UDP in seccomp mode: static programs' datagrams on the virtual network.
#
#   unshare --net: sc_udp echo server (static)    unshare --net: sc_udp clients (static)
#            │ seccomp filter → service A                │ seccomp filter → service B
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A  --dns     │                   │ service B            │
#   │ 10.97.0.1/24         │◄──── VXLAN ──────►│ 10.97.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# The programs (tests/progs/sc_udp.c) are statically linked — glibc's static libc and
# musl's (musl-gcc, when musl-tools is installed) — so only the seccomp filter reaches
# them; each runs in a network namespace with no network (unshare --net), where a
# datagram that reached the kernel for a virtual address would fail.
#
# Checks: the negative control (the static client forced into preload mode) cannot reach
# the server; an echo server under A (recvfrom/sendto and recvmsg/sendmsg in turn) answers
# a client under B with connect + send/recv (native data calls) and one with
# sendto/recvfrom (trapped), 1,000 datagrams of 1..8192 bytes each, every echo checked
# byte for byte and the echo's source checked; two clients at once against one server
# (the sources interleave: the server's recvfrom must name each datagram's own source, or
# a client gets the other's bytes); a connected socket to a closed port gets
# ECONNREFUSED from recvfrom once and from SO_ERROR; a Go UDP echo server
# (ListenUDP/ReadFromUDP/WriteToUDP) under A and a Go client (DialUDP) under B, and a Go
# DNS lookup (the pure-Go resolver) of a name of A's table through A's --dns, when
# golang-go is installed; both services exit 0 on SIGTERM.
# timeout: 400
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root   # unshare --net
require_cmd unshare

PROGS=("$BUILD/sc_udp_static")
[ -x "${PROGS[0]}" ] || fail "${PROGS[0]} is not built"
if [ -x "$BUILD/sc_udp_musl" ]; then
	PROGS+=("$BUILD/sc_udp_musl")
else
	note "no musl-gcc (Debian's musl-tools): the musl build is not tested"
fi
N=1000

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.97.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--dns --host echo.netcon=10.97.0.1 --host six.netcon=fd00:97::1
start_service B 10.97.0.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"

# Can this kernel and this environment do it? (A filter we are under may forbid ours.)
if ! err=$("$NETCON" intercept --mode seccomp --socket "$(sock A)" -- true 2>&1); then
	case $err in
	*"no seccomp user notification"* | *"forbids ours"* | *"already runs under"*)
		skip "seccomp mode unavailable here: $err" ;;
	esac
	fail "netcon intercept --mode seccomp -- true failed: $err"
fi

# sc_under SVC CMD... — CMD in a namespace without network, under SVC in seccomp mode
# (auto: the programs are static), bounded in time.
sc_under() {
	local svc=$1
	shift
	log timeout --foreground -k 5 120 unshare --net "$NETCON" intercept \
		--socket "$(sock "$svc")" -- "$@"
}

# udp_server NAME PROG COUNT [MS] — the echo server under A; waits (bounded) until it is
# bound.
udp_server() {
	local name=$1 prog=$2 count=$3 i
	SRV_PORT=$(free_udp_port)
	spawn "$name" unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
		"$prog" server "$SRV_PORT" "$count" ${4:+"$4"}
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on port $SRV_PORT" "$NC_TMP/$name.log" 2>/dev/null && return 0
		alive "${NC_SPAWNED[$name]}" || break
		sleep 0.05
	done
	fail "$name did not bind $SRV_PORT:
$(logtail "$name")"
}

assert_contains "$(log "$NETCON" show "${PROGS[0]}")" "mode:      seccomp" "netcon show for sc_udp"

# --- The negative control: without the filter the datagrams go nowhere -----------------
udp_server srv0 "${PROGS[0]}" 1
if out=$(log timeout 20 unshare --net "$NETCON" intercept --mode preload \
	--socket "$(sock B)" -- "${PROGS[0]}" client 10.97.0.1 "$SRV_PORT" 1 sendto 9 2>&1); then
	fail "a static program reached the virtual network without the filter (the test could not fail)"
fi
assert_contains "$out" "sendto" "the negative control fails in sendto"
note "ok: without seccomp the static client fails: $out"
stop srv0

# --- Each build: an echo server under A, clients of both kinds under B ------------------
for p in "${PROGS[@]}"; do
	b=$(basename "$p")
	udp_server "srv-$b" "$p" $((2 * N))
	out=$(sc_under B "$p" client 10.97.0.1 "$SRV_PORT" "$N" connect 1)
	assert_contains "$out" "$N datagrams" "$b: connect + send/recv"
	note "ok: $b, connect + send/recv: $out"
	out=$(sc_under B "$p" client 10.97.0.1 "$SRV_PORT" "$N" sendto 2)
	assert_contains "$out" "$N datagrams" "$b: sendto/recvfrom"
	note "ok: $b, sendto/recvfrom: $out"
	wait_exit "${NC_SPAWNED[srv-$b]}" 20 || fail "the $b server did not finish:
$(logtail "srv-$b")"
done

# --- Two clients at once: one server, sources interleaved -------------------------------
udp_server srv2 "${PROGS[-1]}" $((2 * N))
spawn cl1 timeout -k 5 120 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
	"${PROGS[0]}" client 10.97.0.1 "$SRV_PORT" "$N" sendto 3
spawn cl2 timeout -k 5 120 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
	"${PROGS[-1]}" client 10.97.0.1 "$SRV_PORT" "$N" connect 4
for c in cl1 cl2; do
	wait_exit "${NC_SPAWNED[$c]}" 120 || fail "client $c failed:
$(logtail "$c")"
	assert_contains "$(cat "$NC_TMP/$c.log")" "$N datagrams" "client $c of two at once"
	note "ok: $c: $(tail -n 1 "$NC_TMP/$c.log")"
done
wait_exit "${NC_SPAWNED[srv2]}" 20 || fail "the server of two clients did not finish:
$(logtail srv2)"

# --- Two bursts while the server sleeps: the sources must interleave in A's queue -------
udp_server srv3 "${PROGS[0]}" 200 1500
spawn bu1 timeout -k 5 60 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
	"${PROGS[0]}" burst 10.97.0.1 "$SRV_PORT" 100 6
spawn bu2 timeout -k 5 60 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
	"${PROGS[-1]}" burst 10.97.0.1 "$SRV_PORT" 100 7
for c in bu1 bu2; do
	wait_exit "${NC_SPAWNED[$c]}" 60 || fail "burst $c failed:
$(logtail "$c")"
	note "ok: $c: $(tail -n 1 "$NC_TMP/$c.log")"
done
wait_exit "${NC_SPAWNED[srv3]}" 20 || fail "the server of two bursts did not finish:
$(logtail srv3)"
held=$("$NETCON" status --socket "$(sock A)" | sed -n 's/^udp held back.*: \([0-9]*\)$/\1/p')
[ "${held:-0}" -gt 0 ] || fail "A held back no datagram: the sources did not interleave (the test could not fail)"
note "ok: two sources interleaved in one socket's queue ($held datagrams held back), every echo to its own source"

# --- ICMP port unreachable on a connected socket -----------------------------------------
out=$(sc_under B "${PROGS[0]}" refused 10.97.0.1 "$(free_udp_port)")
assert_contains "$out" "refused ok" "ECONNREFUSED on a connected socket"
note "ok: ECONNREFUSED once from recvfrom, then from SO_ERROR"

# --- Go: UDP echo, DialUDP, and the pure-Go resolver through --dns ---------------------
if command -v go >/dev/null; then
	goudp=$BUILD/goudp
	log env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
		timeout 240 go build -o "$goudp" "$NC_ROOT/tests/go/goudp.go"
	assert_contains "$(log "$NETCON" show "$goudp")" "mode:      seccomp" "netcon show for Go"
	SRV_PORT=$(free_udp_port)
	spawn goecho unshare --net "$NETCON" intercept --socket "$(sock A)" -- "$goudp" server ":$SRV_PORT"
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on port $SRV_PORT" "$NC_TMP/goecho.log" 2>/dev/null && break
		sleep 0.05
	done
	out=$(sc_under B "$goudp" client "10.97.0.1:$SRV_PORT" "$N")
	assert_contains "$out" "$N of $N datagrams ok" "Go DialUDP client, ReadFromUDP/WriteToUDP server"
	note "ok: Go: $out"
	out=$(sc_under B "${PROGS[0]}" client 10.97.0.1 "$SRV_PORT" 200 sendto 5)
	assert_contains "$out" "200 datagrams" "the C client against the Go server"
	note "ok: C sendto/recvfrom client against the Go server: $out"
	out=$(sc_under B "$goudp" lookup 10.97.0.1:53 echo.netcon six.netcon)
	assert_contains "$out" "echo.netcon: 10.97.0.1" "Go resolver through --dns (A)"
	assert_contains "$out" "six.netcon: fd00:97::1" "Go resolver through --dns (AAAA)"
	note "ok: Go resolver: $out"
	stop goecho
else
	note "no Go toolchain (Debian's golang-go): the Go checks are not run"
fi

status A
status B
stop_service B
stop_service A
note "PASS"
