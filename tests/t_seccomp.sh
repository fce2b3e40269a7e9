#!/usr/bin/env bash
# t_seccomp.sh — seccomp mode: static programs and raw system calls on the virtual network.
#
#   unshare --net: sc_tcp server (static)       unshare --net: sc_tcp client (static)
#            │ seccomp filter → service A                │ seccomp filter → service B
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.94.0.1/24         │                   │ 10.94.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│◄──── VXLAN ──────►│ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘    (loopback)     └──────────────────────┘
#
# The programs (tests/progs/sc_tcp.c) are statically linked — glibc's static libc, musl's
# (musl-gcc, when musl-tools is installed), and a build that makes every socket call with
# the syscall instruction — so LD_PRELOAD cannot reach them: only the seccomp filter can.
# Each runs in a network namespace of its own with no network (unshare --net): a socket
# call that reached the kernel for a virtual address would fail there.
#
# Checks: `netcon show` picks seccomp for static programs and preload for glibc ones; the
# negative control (a static client forced into preload mode) cannot connect; under a
# seccomp filter that forbids ours (tests/progs/sc_deny.c answers seccomp() with EPERM)
# the launcher says so in one line and does not run the program; blocking and
# non-blocking connect, blocking and non-blocking accept, getsockname/getpeername,
# setsockopt/getsockopt and shutdown, bytes checked by size and FNV-1a hash; 64 MiB from
# test_tx to test_rx built static with musl (when musl-gcc is installed), their
# `tx bytes=N sum=HEX` and `rx bytes=N sum=HEX` equal; 16 threads connect while another
# thread blocks in accept; a signal makes a blocked accept and a blocked connect fail with
# EINTR without SA_RESTART and go on (restarted) with it, as the same program sees in the
# kernel (a blocked connect: its host silenced by a blackhole route in the kernel run, by
# stopping its service here); outside a namespace, with the subnet guarded by an
# unreachable route, a connect to a closed virtual port is refused by the virtual peer
# (ECONNREFUSED), not by the host's route (EHOSTUNREACH); busybox's static httpd under A
# serves wget under B, and so do its children (fork + exec), glibc's curl included, and
# busybox nc under B sends 1 MiB to a server under A (when busybox-static is installed);
# a Go net/http server under A answers 2,000 requests from a Go client under B over 50
# goroutines, bodies checked, over IPv4 and IPv6, and so does a Go client linked with
# glibc (cgo, as Debian builds Go programs: auto mode must pick seccomp for it too); a Go
# program under B starts static children with os/exec (itself, and sc_tcp_static) whose
# connections are checked (when golang-go is installed); a blocked accept fails at once
# (ENOSYS) when its service is killed; both services exit 0 on SIGTERM.
# timeout: 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root   # unshare --net
require_cmd unshare

SC_STATIC=$BUILD/sc_tcp_static
SC_RAW=$BUILD/sc_tcp_raw
SC_MUSL=$BUILD/sc_tcp_musl
for p in "$SC_STATIC" "$SC_RAW"; do
	[ -x "$p" ] || fail "$p is not built"
done
PROGS=("$SC_STATIC" "$SC_RAW")
if [ -x "$SC_MUSL" ]; then
	PROGS+=("$SC_MUSL")
else
	note "no musl-gcc (Debian's musl-tools): the musl build is not tested"
fi

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.94.0.1/24 --ip6 fd00:94::1/64 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B"
start_service B 10.94.0.2/24 --ip6 fd00:94::2/64 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"

# sc_under SVC CMD... — CMD in a namespace without network, under SVC in seccomp mode
# (auto: the programs are static), bounded in time.
sc_under() {
	local svc=$1
	shift
	log timeout --foreground -k 5 60 unshare --net "$NETCON" intercept \
		--socket "$(sock "$svc")" -- "$@"
}

# sc_server NAME PROG MODE CONNS — a server under A in its own namespace; waits (bounded)
# until it says it listens.
sc_server() {
	local name=$1 prog=$2 mode=$3 conns=$4 i
	SRV_PORT=$(free_tcp_port)
	spawn "$name" unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
		"$prog" "$mode" "$SRV_PORT" "$conns"
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on port $SRV_PORT" "$NC_TMP/$name.log" 2>/dev/null && return 0
		alive "${NC_SPAWNED[$name]}" || break
		sleep 0.05
	done
	fail "$name did not listen on $SRV_PORT:
$(logtail "$name")"
}

# --- The mode each program gets -------------------------------------------------------
out=$(log "$NETCON" show "$SC_STATIC")
assert_contains "$out" "mode:      seccomp" "netcon show for a static program"
out=$(log "$NETCON" show "$(command -v true)")
assert_contains "$out" "mode:      preload" "netcon show for a glibc program"
[ ! -x "$SC_MUSL" ] || assert_contains "$(log "$NETCON" show "$SC_MUSL")" "mode:      seccomp" \
	"netcon show for a musl program"
printf '#!/bin/sh\necho hi\n' >"$NC_TMP/glibc.sh"
chmod +x "$NC_TMP/glibc.sh"
assert_contains "$(log "$NETCON" show "$NC_TMP/glibc.sh")" "mode:      preload" \
	"netcon show for a script run by a glibc shell"
if bb=$(command -v busybox) && "$NETCON" show "$bb" | grep -q "mode:      seccomp"; then
	printf '#!%s sh\necho hi\n' "$bb" >"$NC_TMP/static.sh"
	chmod +x "$NC_TMP/static.sh"
	assert_contains "$(log "$NETCON" show "$NC_TMP/static.sh")" "mode:      seccomp" \
		"netcon show for a script run by a static shell"
fi
out=$(NETCON_MODE=preload log "$NETCON" show "$SC_STATIC")
assert_contains "$out" "mode:      preload" "NETCON_MODE=preload"

rc=0
out=$(log "$NETCON" intercept --mode bogus -- true 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status for --mode bogus"
assert_contains "$out" "unknown mode 'bogus'" "--mode bogus"
rc=0
out=$(NETCON_MODE=nope log "$NETCON" run --ip 10.94.9.1/24 -- true 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status for NETCON_MODE=nope"
assert_contains "$out" "in NETCON_MODE" "NETCON_MODE=nope"

# Can this kernel and this environment do it? (A filter we are under may forbid ours.)
if ! err=$("$NETCON" intercept --mode seccomp --socket "$(sock A)" -- true 2>&1); then
	case $err in
	*"no seccomp user notification"* | *"forbids ours"* | *"already runs under"*)
		skip "seccomp mode unavailable here: $err" ;;
	esac
	fail "netcon intercept --mode seccomp -- true failed: $err"
fi

# --- A program already under a filter that forbids ours: one line, the program not run ---
# sc_deny installs a filter whose answer to seccomp() is EPERM (as a container runtime's
# profile may), then execs the launcher: without our filter the program could reach the
# kernel's network, so it must not run at all.
for m in "--mode seccomp" ""; do
	rc=0
	# shellcheck disable=SC2086
	out=$(log "$BUILD/sc_deny" "$NETCON" intercept $m --socket "$(sock A)" -- \
		"$SC_STATIC" checks 10.94.0.1 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "netcon intercept ${m:-(auto)} ran its program under a filter that forbids ours"
	assert_not_contains "$out" "checks" "the output under a forbidding filter (${m:-auto})"
	assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines said under a forbidding filter (${m:-auto})"
	assert_contains "$out" "netcon: seccomp mode: a seccomp filter already installed forbids ours" \
		"the launcher under a forbidding filter (${m:-auto})"
done
note "ok: under a filter that forbids ours, one line and the program not run (exit $rc)"

# --- One server, clients of every build -----------------------------------------------
sc_server srv1 "$SC_STATIC" server $((${#PROGS[@]} + 1))
note "negative control: the static client in preload mode must not reach the server"
if out=$(log timeout 20 unshare --net "$NETCON" intercept --mode preload \
	--socket "$(sock B)" -- "$SC_STATIC" client 10.94.0.1 "$SRV_PORT" 1000 2>&1); then
	fail "a static program reached the virtual network without the filter (the test could not fail)"
fi
assert_contains "$out" "connect" "the negative control fails in connect"
note "ok: without seccomp the static client fails: $out"

for p in "${PROGS[@]}"; do
	sc_under B "$p" client 10.94.0.1 "$SRV_PORT" 1048576
	note "ok: $(basename "$p") client, blocking connect, 1 MiB checked"
done
sc_under B "$SC_RAW" client 10.94.0.1 "$SRV_PORT" 4194304 nb
note "ok: raw-syscall client, non-blocking connect, 4 MiB checked"
wait_exit "${NC_SPAWNED[srv1]}" 20 || fail "server 1 did not finish:
$(logtail srv1)"

# --- musl: test_rx under A, test_tx under B, 64 MiB, (bytes, sum) compared -------------
# The transfer programs of tests/t_multitransfer.sh, built static with musl-gcc: test_tx
# prints `tx bytes=N sum=HEX`, test_rx `rx bytes=N sum=HEX` for the connection.
TX_MUSL=$BUILD/test_tx_musl RX_MUSL=$BUILD/test_rx_musl
if [ -x "$TX_MUSL" ] && [ -x "$RX_MUSL" ]; then
	assert_contains "$(log "$NETCON" show "$TX_MUSL")" "mode:      seccomp" "netcon show for test_tx_musl"
	P=$(free_tcp_port)
	spawn muslrx unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
		"$RX_MUSL" --listen "0.0.0.0:$P" --count 1 --expect 67108864
	for ((i = 0; i < 100; i++)); do
		grep -q "rx: listening on 0.0.0.0:$P" "$NC_TMP/muslrx.log" 2>/dev/null && break
		alive "${NC_SPAWNED[muslrx]}" || break
		sleep 0.05
	done
	grep -q "rx: listening on 0.0.0.0:$P" "$NC_TMP/muslrx.log" || fail "test_rx_musl did not listen:
$(logtail muslrx)"
	tx=$(sc_under B "$TX_MUSL" --connect "10.94.0.1:$P" --bytes 64M --seed 14 | grep '^tx bytes=')
	wait_exit "${NC_SPAWNED[muslrx]}" 30 || fail "test_rx_musl did not finish:
$(logtail muslrx)"
	rx=$(grep '^rx bytes=' "$NC_TMP/muslrx.log")
	assert_contains "$tx" "tx bytes=67108864 " "test_tx_musl's line"
	assert_eq "${tx#tx }" "${rx#rx }" "the (bytes, sum) test_rx_musl received"
	note "ok: 64 MiB from test_tx_musl under B to test_rx_musl under A, sums equal"
else
	note "no musl-gcc (Debian's musl-tools): the musl transfer is not run"
fi

# --- Non-blocking listener (raw syscalls), 16 threads beside a blocked accept ---------
client=${PROGS[-1]}
sc_server srv2 "$SC_RAW" nbserver 17
sc_under B "$SC_STATIC" client 10.94.0.1 "$SRV_PORT" 65536 nb
out=$(sc_under B "$client" threads 10.94.0.1 "$SRV_PORT" 16)
assert_contains "$out" "16 of 16 threads connected" "16 threads beside a blocked accept"
note "ok: $out"
wait_exit "${NC_SPAWNED[srv2]}" 20 || fail "server 2 did not finish:
$(logtail srv2)"

# --- netcon run --mode seccomp: a service of its own, the program in seccomp mode -------
guard_subnet 10.94.9.1/24
out=$(log timeout 30 "$NETCON" run --mode seccomp --ip 10.94.9.1/24 --bind "127.0.0.1:$(free_udp_port)" \
	-- "$SC_STATIC" checks 10.94.9.1)
assert_contains "$out" "checks ok" "netcon run --mode seccomp"

# --- Errors as the kernel gives them ----------------------------------------------------
for p in "$SC_STATIC" "$SC_RAW"; do
	out=$(sc_under B "$p" checks 10.94.0.1)
	assert_contains "$out" "checks ok" "$(basename "$p") checks"
done
assert_contains "$(cat "$NC_TMP/svc-B.log")" "io_uring_setup fails with ENOSYS" \
	"the service logs the io_uring refusal"
note "ok: EFAULT, EAGAIN, EINVAL after shutdown, ENOTCONN, io_uring ENOSYS, UDP not leaked"

# --- Signals during a blocked accept and a blocked connect, as in the kernel -------------
# The kernel first (the same program, no netcon): a listener on loopback in a namespace of
# its own; a connect to a host whose SYN-ACKs a blackhole route drops until it is removed.
# Then each build in seccomp mode: the same checks (EINTR without SA_RESTART; with it the
# call goes on and succeeds), the host silenced by stopping its service (SIGSTOP).
# shellcheck disable=SC2016
out=$(log timeout 20 unshare --net sh -c 'ip link set lo up && exec "$0" signals 127.0.0.1' "$SC_STATIC")
assert_contains "$out" "signals ok" "the kernel: signals during a blocked accept"
for p in "${PROGS[@]}"; do
	out=$(sc_under B "$p" signals 10.94.0.2)
	assert_contains "$out" "signals ok" "$(basename "$p"): signals during a blocked accept"
done
note "ok: a signal makes a blocked accept fail with EINTR, or restart with SA_RESTART"

# sigconnect_run NAME UNDO CMD... — run `CMD` (an sc_tcp sigconnect) in the background and,
# once it says "restart: connecting" and the restarted connect has been waiting for a while,
# run UNDO (the host answers again); CMD must then say "sigconnect ok".
sigconnect_run() {
	local name=$1 undo=$2 i
	shift 2
	spawn "$name" "$@"
	for ((i = 0; i < 200; i++)); do
		grep -q "restart: connecting" "$NC_TMP/$name.log" 2>/dev/null && break
		alive "${NC_SPAWNED[$name]}" || break
		sleep 0.05
	done
	sleep 0.6   # the signal comes 150 ms into the connect
	log sh -c "$undo"
	wait_exit "${NC_SPAWNED[$name]}" 30 || fail "$name: sigconnect failed:
$(logtail "$name")"
	assert_contains "$(cat "$NC_TMP/$name.log")" "sigconnect ok" "$name"
	note "ok: $name: $(grep -h 'EINTR after\|connected after' "$NC_TMP/$name.log" | tr '\n' ' ')"
}

NK1=ncsc-a-$$ NK2=ncsc-b-$$
netns_add "$NK1"
netns_add "$NK2"
log ip -n "$NK1" link add veth-sc type veth peer name veth-sc netns "$NK2"
log ip -n "$NK1" addr add 10.96.0.1/24 dev veth-sc
log ip -n "$NK2" addr add 10.96.0.2/24 dev veth-sc
log ip -n "$NK1" link set veth-sc up
log ip -n "$NK2" link set veth-sc up
P=$(free_tcp_port)
spawn ksrv ip netns exec "$NK1" "$SC_STATIC" server "$P" 1
for ((i = 0; i < 100; i++)); do
	grep -q "listening on port $P" "$NC_TMP/ksrv.log" 2>/dev/null && break
	sleep 0.05
done
log ip -n "$NK1" route add blackhole 10.96.0.2/32
sigconnect_run ksigc "ip -n $NK1 route del blackhole 10.96.0.2/32" \
	ip netns exec "$NK2" "$SC_STATIC" sigconnect 10.96.0.1 "$P"
wait_exit "${NC_SPAWNED[ksrv]}" 10 || fail "the kernel's server did not finish: $(logtail ksrv)"
for p in "${PROGS[@]}"; do
	sc_server sigsrv "$SC_STATIC" server 1
	log kill -STOP "${NC_SERVICE[A]}"
	sigconnect_run "sigc-$(basename "$p")" "kill -CONT ${NC_SERVICE[A]}" \
		timeout -k 5 60 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
		"$p" sigconnect 10.94.0.1 "$SRV_PORT"
	wait_exit "${NC_SPAWNED[sigsrv]}" 10 || fail "the server under A did not finish: $(logtail sigsrv)"
done
note "ok: a signal makes a blocked connect fail with EINTR, or restart with SA_RESTART, as in the kernel"

# --- Outside a namespace: the virtual network answers, not the host's route -----------
# start_service guarded 10.94.0.0/24 with an unreachable route (as root): a connect that
# leaked to the kernel fails with EHOSTUNREACH; the virtual peer refuses a closed port.
CLOSED=$(free_tcp_port)
if out=$(log timeout 20 "$NETCON" intercept --socket "$(sock B)" -- \
	"$SC_STATIC" client 10.94.0.1 "$CLOSED" 10 2>&1); then
	fail "a connect to closed port $CLOSED succeeded"
fi
assert_contains "$out" "Connection refused" "connect to a closed virtual port"
note "ok: refused by the virtual peer ($out)"

# --- busybox-static: httpd under A, wget under B; nested launches ----------------------
if bb=$(command -v busybox) && "$NETCON" show "$bb" | grep -q "mode:      seccomp"; then
	www=$NC_TMP/www
	mkdir -p "$www"
	log head -c 1M /dev/urandom >"$www/blob.bin"
	HTTP=$(free_tcp_port)
	spawn bbhttpd unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
		"$bb" httpd -f -p "0.0.0.0:$HTTP" -h "$www"
	got=""
	for ((i = 0; i < 50; i++)); do
		if timeout 20 unshare --net "$NETCON" intercept --socket "$(sock B)" -- \
			"$bb" wget -q -O "$NC_TMP/blob.out" "http://10.94.0.1:$HTTP/blob.bin" 2>/dev/null; then
			got=1
			break
		fi
		sleep 0.1
	done
	[ -n "$got" ] || fail "busybox wget under B did not get the file from busybox httpd under A:
$(logtail bbhttpd)"
	assert_files_equal "$www/blob.bin" "$NC_TMP/blob.out"
	note "ok: busybox httpd (static) under A served 1 MiB to busybox wget under B"
	# Children stay covered (the filter is inherited): the static shell forks and execs
	# wget; and a glibc program exec'd under the filter is served once, by seccomp
	# (the launcher took libnetcon.so out of LD_PRELOAD).
	rm -f "$NC_TMP/blob.out"
	sc_under B "$bb" sh -c "$bb wget -q -O '$NC_TMP/blob.out' http://10.94.0.1:$HTTP/blob.bin"
	assert_files_equal "$www/blob.bin" "$NC_TMP/blob.out"
	note "ok: a child of the static shell (fork + exec) reached the server"
	# busybox nc under B sends 1 MiB to sc_tcp's server under A, which answers with the
	# byte count and FNV-1a hash of what it read.
	sc_server bbncsrv "$SC_STATIC" server 1
	want=$("$PYTHON" -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%d %016x" % (1 << 20, h))' "$www/blob.bin")
	out=$(sc_under B "$bb" nc 10.94.0.1 "$SRV_PORT" <"$www/blob.bin")
	assert_eq "$want" "$out" "what busybox nc under B sent, as the server under A read it"
	wait_exit "${NC_SPAWNED[bbncsrv]}" 10 || fail "the server for busybox nc did not finish:
$(logtail bbncsrv)"
	note "ok: busybox nc (static) under B sent 1 MiB to a server under A, hash checked"
	if curl=$(command -v curl); then
		rm -f "$NC_TMP/blob.out"
		sc_under B "$bb" sh -c "echo LD_PRELOAD=\$LD_PRELOAD; $curl -sS --fail -o '$NC_TMP/blob.out' http://10.94.0.1:$HTTP/blob.bin"
		assert_files_equal "$www/blob.bin" "$NC_TMP/blob.out"
		note "ok: curl (glibc) exec'd by the static shell, in seccomp mode only"
		# `netcon intercept` run by a program in seccomp mode (nested launch): no second
		# filter (the kernel would refuse its listener) and no LD_PRELOAD; the program
		# runs under the filter it has. Seccomp mode towards another service is refused
		# with one line (preload mode towards another service stays possible: the
		# conformance suite's server runs so).
		rm -f "$NC_TMP/blob.out"
		out=$(sc_under B "$bb" sh -c "$NETCON intercept --socket '$(sock B)' -- $bb sh -c 'echo LD_PRELOAD=\$LD_PRELOAD'; $NETCON intercept --socket '$(sock B)' -- $curl -sS --fail -o '$NC_TMP/blob.out' http://10.94.0.1:$HTTP/blob.bin")
		assert_eq "LD_PRELOAD=" "$out" "the environment of a nested launch"
		assert_files_equal "$www/blob.bin" "$NC_TMP/blob.out"
		rc=0
		out=$(sc_under B "$bb" sh -c "$NETCON intercept --mode seccomp --socket '$(sock A)' -- $curl -sS http://10.94.0.1:$HTTP/blob.bin" 2>&1) || rc=$?
		assert_eq 1 "$rc" "exit status of a nested launch towards another service"
		assert_contains "$out" "a program under it cannot move to the service at $(sock A)" \
			"message of a nested launch towards another service"
		note "ok: netcon intercept nested in seccomp mode: same service runs, another is refused"
	fi
	stop bbhttpd
else
	note "no static busybox (Debian's busybox-static): the busybox check is not run"
fi

# --- Go (CGO_ENABLED=0: static, its own syscalls): net/http server and client ----------
if command -v go >/dev/null; then
	gohttp=$BUILD/gohttp goexec=$BUILD/goexec
	for g in gohttp goexec; do
		log env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
			timeout 240 go build -o "$BUILD/$g" "$NC_ROOT/tests/go/$g.go"
	done
	assert_contains "$(log "$NETCON" show "$gohttp")" "mode:      seccomp" "netcon show for Go"
	SRV_PORT=$(free_tcp_port)
	spawn gosrv unshare --net "$NETCON" intercept --socket "$(sock A)" -- "$gohttp" server ":$SRV_PORT"
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on port $SRV_PORT" "$NC_TMP/gosrv.log" 2>/dev/null && break
		sleep 0.05
	done
	out=$(sc_under B "$gohttp" client "http://10.94.0.1:$SRV_PORT/" 2000 50)
	assert_contains "$out" "2000 of 2000 requests ok" "Go net/http client under B, server under A"
	note "ok: $out"
	out=$(sc_under B "$gohttp" client "http://[fd00:94::1]:$SRV_PORT/" 200 10)
	assert_contains "$out" "200 of 200 requests ok" "Go over IPv6"
	note "ok: over IPv6: $out"
	# Built as Debian builds Go programs (cgo: linked with glibc, yet every socket call is
	# Go's own syscall instruction): auto must pick seccomp, by the Go build id note or,
	# without one (-buildid=), by the .go.buildinfo section.
	for v in note nonote; do
		gocgo=$BUILD/gohttp_cgo_$v
		ld=""; [ "$v" = note ] || ld=-buildid=
		if ! log env CGO_ENABLED=1 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
			timeout 240 go build -ldflags="$ld" -o "$gocgo" "$NC_ROOT/tests/go/gohttp.go"; then
			note "go build with cgo failed (no C compiler for cgo?): the glibc-linked Go check is not run"
			break
		fi
		grep -q 'libc\.so' <<<"$(ldd "$gocgo")" || fail "$gocgo is not linked with glibc (the check could not fail)"
		assert_contains "$(log "$NETCON" show "$gocgo")" "mode:      seccomp" \
			"netcon show for a Go program linked with glibc ($v)"
		out=$(sc_under B "$gocgo" client "http://10.94.0.1:$SRV_PORT/" 200 10)
		assert_contains "$out" "200 of 200 requests ok" "glibc-linked Go client ($v) under B, auto mode"
		rc=0
		out=$(NETCON_MODE=preload sc_under B "$gocgo" client "http://10.94.0.1:$SRV_PORT/" 1 1 2>&1) || rc=$?
		[ "$rc" != 0 ] || fail "a glibc-linked Go client reached the virtual network in preload mode (the check could not fail)"
		note "ok: a glibc-linked Go client ($v): seccomp in auto mode; preload cannot reach it (exit $rc)"
	done
	stop gosrv
	# os/exec: the Go program forks and execs itself as a child that connects, then the
	# static C client; both under the filter the launcher installed.
	sc_server gosrv2 "$SC_STATIC" server 2
	out=$(sc_under B "$goexec" parent 10.94.0.1 "$SRV_PORT" 1048576 \
		"$SC_STATIC" client 10.94.0.1 "$SRV_PORT" 1048576)
	assert_contains "$out" "goexec child: 1048576 bytes checked" "the Go child under B"
	assert_contains "$out" "goexec: 2 children ok" "Go's fork + exec of static children"
	wait_exit "${NC_SPAWNED[gosrv2]}" 10 || fail "the server for goexec did not finish:
$(logtail gosrv2)"
	note "ok: a Go program's children (itself, sc_tcp_static) reached the server under A"
else
	note "no Go toolchain (Debian's golang-go): the Go check is not run"
fi

# --- The service killed under a blocked accept: the call fails at once, nothing hangs ----
start_service C 10.95.0.1/24 --bind "127.0.0.1:$(free_udp_port)"
SRV_PORT=$(free_tcp_port)
spawn victim unshare --net "$NETCON" intercept --socket "$(sock C)" -- "$SC_STATIC" server "$SRV_PORT" 1
for ((i = 0; i < 100; i++)); do
	grep -q "listening on port $SRV_PORT" "$NC_TMP/victim.log" 2>/dev/null && break
	sleep 0.05
done
sleep 0.2   # into accept
log kill -KILL "${NC_SERVICE[C]}"
rc=0
wait_exit "${NC_SPAWNED[victim]}" 5 || rc=$?
[ "$rc" != 124 ] || fail "a blocked accept still waits 5 s after the service was killed"
assert_contains "$(cat "$NC_TMP/victim.log")" "accept: Function not implemented" \
	"the blocked accept fails with ENOSYS when the service dies"
note "ok: the blocked accept returned ENOSYS at once (exit $rc) when the service was killed"

status A
out=$(log "$NETCON" status --socket "$(sock B)")
assert_contains "$out" "seccomp: " "netcon status reports seccomp mode"
stop_service B
stop_service A
note "PASS"
