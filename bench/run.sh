#!/usr/bin/env bash
# bench/run.sh — netcon side by side with the kernel and the usual peers (`make bench`).
#
#   path       client                          server
#   loopback   kernel, netns ncb-lo            kernel, same netns (lo at MTU m)
#   veth       kernel, netns ncb-va ══ veth ══ kernel, netns ncb-vb (10.213.1.0/24)
#   slirp      kernel, netns ncb-sl ─ tap0 ─ slirp4netns ─ host loopback ─ kernel server
#   socat      kernel ─ socat relay (fork) ─ kernel, one netns (lo at MTU m)
#   tap        under netcon service T ── TAP tap0 ── kernel, netns ncb-tap (10.213.2.0/24)
#   vxlan      under netcon A ══ VXLAN over loopback ══ netcon B ── server under B
#                                                                  (10.213.3.0/24)
#   tap-sc     tap, the client in seccomp mode (`netcon intercept --mode seccomp`)
#   vxlan-sc   vxlan, client and server in seccomp mode
#   wg         under netcon A ══ WireGuard over loopback ══ netcon B ── server under B
#                                                                  (10.163.3.0/24)
#   wggo       kernel, netns ncb-wgu-g1, wireguard-go TUN ══ WireGuard over a veth
#              (10.163.5.0/30) ══ wireguard-go TUN, netns ncb-wgu-g2 ── kernel server
#              (10.163.4.0/24): what Debian's userspace WireGuard does with the kernel's
#              TCP, the peer of `wg` in issue 17's goals
#
# The seccomp paths run right after their preload path at the same MTU (1500 and the
# largest: the data path is the same native one, what differs is the control calls), so
# that report.py's seccomp/preload ratios compare figures of the same minutes.
#
# Each path at MTU 1500, 9000 and the largest it carries (wg and wggo: WireGuard's 1420 and
# the largest, 65439 for both). Figures, in this order:
#   throughput  iperf3 (under netcon on netcon paths), 1 and 4 streams, client→server
#               ("send") and -R ("recv"); default 3 s × 1 run, BENCH_FULL=1: 10 s ×
#               median of 3;
#   latency     1-byte TCP ping-pong p50/p99 (build/tcpbench pingpong);
#   conn rate   sequential connect → 64-byte exchange → close (build/tcpbench connrate);
#   cost        CPU seconds of every process involved (iperf3 both ends from its own
#               report, plus the netcon services / slirp4netns / socat from /proc) per
#               GiB moved;
#   http        Go net/http requests/s (MTU 1500; veth, tap-sc and vxlan-sc): Debian's
#               `hey` (a Go program: its socket calls are its own system calls, so seccomp
#               mode) against tests/go/gohttp.go built with CGO_ENABLED=0 (static), with
#               and without keep-alive; skipped with a reason without hey or Go;
#   scale       one connection's ping-pong latency and single-stream throughput while
#               0, 5,000 and 18,000 idle connections are held (BENCH_HOLD), on kernel
#               veth, the TAP path (one service) and the VXLAN path (two services), in
#               one setup per path; the services' RSS per held connection and their CPU
#               while all of it sits idle; then build/lwipscale and
#               build/lwipscale-nohash (lwIP's per-segment input cost with 10 to
#               1,000,000 pcbs, with and without the pcb hash; --quick unless
#               BENCH_FULL=1);
#   capture     (the pseudo-path "capture") the VXLAN path's single-stream throughput,
#               MTU 1500, with no capture, with --pcap to a file (pcap, and pcapng with
#               its per-packet comments), and with `netcon capture -w /dev/null`
#               attached to the sending service: the four alternate within each
#               repetition, so that all see the same minutes (10.166.4.0/24).
#
# Nothing passes or fails: the figures are compared with the kernel of the same run.
# Writes bench/results/results.{md,json}, bench/results/throughput.png, the scale
# section's bench/results/scale-latency.png (one connection's round trip against the
# idle connections held) and docs/benchmarks.md (--out DIR for elsewhere). --smoke: a few seconds, two paths, tiny
# counts, output to a temp dir; checks that the scripts work. Needs root (namespaces, TAP).
#
# --scale: only the scale section (and lwipscale), written to --out DIR (docs/ untouched).
#
# Then bench/outbound.sh (the way out to "the internet" and the way in through published
# ports, issue 16: its own header says how), with --smoke when this run has it.
#
# Environment: BENCH_FULL=1, BENCH_PATHS="loopback veth ..." (a subset; "capture" alone:
# only capture's cost; bench/outbound.sh then runs only if BENCH_OB_ROWS names its rows),
# BENCH_TIME (s), BENCH_REPS, BENCH_HTTP_TIME (s of each hey run), BENCH_HOLD="0 5000 18000" (the scale
# section's held connections), BENCH_NS (prefix of namespace and device names, default
# ncb) and BENCH_NET (the /16 whose 1, 2 and 3 /24s the veth, TAP and VXLAN paths use,
# default 10.213), BUILD, NC_VERBOSE=1 (echo every command).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SMOKE=0
SCALE_ONLY=0
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out) OUT=$2; shift ;;
	--scale) SCALE_ONLY=1 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: needs root (network namespaces, veth, TAP)" >&2
	exit 1
fi

# ---------------------------------------------------------------------------------------
# Tools: install what is missing (Debian), build netcon and the bench tool.
need=()
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v slirp4netns >/dev/null 2>&1 || need+=(slirp4netns)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
command -v python3 >/dev/null 2>&1 || [ -x /usr/bin/python3 ] || need+=(python3)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v ps >/dev/null 2>&1 || need+=(procps)
command -v wg >/dev/null 2>&1 || need+=(wireguard-tools)
command -v wireguard-go >/dev/null 2>&1 || need+=(wireguard-go)
if [ ${#need[@]} -gt 0 ]; then
	if command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing ${need[*]} (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "bench: please install: ${need[*]}" >&2
		exit 1
	fi
fi
# The HTTP figure's tools are optional: without them that figure is skipped, not the run.
http_need=()
command -v hey >/dev/null 2>&1 || http_need+=(hey)
command -v go >/dev/null 2>&1 || http_need+=(golang-go)
if [ ${#http_need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "bench: installing ${http_need[*]} (apt-get) for the HTTP figure"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${http_need[@]}"; } >/dev/null 2>&1 ||
		echo "bench: could not install ${http_need[*]}: the HTTP figure will be skipped" >&2
fi
BUILD=${BUILD:-build}
make -s -j2 BUILD="$BUILD" all bench-tools >/dev/null
NSP=${BENCH_NS:-ncb}
NETP=${BENCH_NET:-10.213}

[ -n "${NC_VERBOSE:-}" ] || NC_QUIET=1
# shellcheck source=tests/lib.sh
. tests/lib.sh
TCPBENCH=$BUILD/tcpbench
case $TCPBENCH in /*) ;; *) TCPBENCH=$ROOT/$TCPBENCH ;; esac

if [ "$SMOKE" = 1 ]; then
	PATHS=${BENCH_PATHS:-loopback vxlan vxlan-sc capture}
	T=${BENCH_TIME:-1}; REPS=${BENCH_REPS:-1}
	PP_COUNT=2000; CR_MAX=300; CR_SECS=1; HOLD=${BENCH_HOLD:-0 200}; IDLE_S=1; HTTP_T=${BENCH_HTTP_TIME:-1}
	STREAMS="1"; DIRS="send"
	OUT=${OUT:-$NC_TMP/results}
	DOCS=""
else
	PATHS=${BENCH_PATHS:-loopback veth slirp socat tap tap-sc vxlan vxlan-sc wg wggo capture}
	if [ -n "${BENCH_FULL:-}" ]; then T=10; REPS=3; else T=3; REPS=1; fi
	T=${BENCH_TIME:-$T}; REPS=${BENCH_REPS:-$REPS}; HTTP_T=${BENCH_HTTP_TIME:-$T}
	PP_COUNT=20000; CR_MAX=10000; CR_SECS=2; HOLD=${BENCH_HOLD:-0 5000 18000}; IDLE_S=10
	STREAMS="1 4"; DIRS="send recv"
	if [ -z "$OUT" ]; then OUT=$ROOT/bench/results; DOCS=$ROOT/docs/benchmarks.md; else DOCS=$OUT/benchmarks.md; fi
	if [ "$SCALE_ONLY" = 1 ]; then
		[ "$OUT" != "$ROOT/bench/results" ] || { echo "bench/run.sh: --scale needs --out DIR" >&2; exit 2; }
		DOCS=""
	fi
fi
mkdir -p "$OUT"
RES=$NC_TMP/results.jsonl
: >"$RES"
CMDS=$NC_TMP/commands.txt
: >"$CMDS"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say() { printf 'bench: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
. bench/lib.sh

# HELD: in the scale section, ', "held": N' — the iperf and latency records it makes are
# the scale section's (report.py keeps them apart from the per-MTU tables).
HELD=""

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------
# Paths. setup_PATH MTU sets ADDR (the server's address as the client sees it), CLIENT
# and SERVER (command prefixes; SERVER's programs run under spawn), COST_PGS (the process
# groups of everything else on the path: services, relays) and NSES (to delete after).

max_mtu() {
	case $1 in
	loopback|socat) echo 65536 ;;
	veth) echo 65535 ;;
	slirp) echo 65520 ;;
	tap|tap-sc) echo 65521 ;;
	vxlan|vxlan-sc) echo 65485 ;;
	wg|wggo) echo 65439 ;;	# 65535 − IPv4/UDP (28) − WireGuard (32) − padding: netcon's limit
	esac
}


setup_loopback() {
	netns_add "$NSP-lo"
	log ip -n "$NSP-lo" link set lo mtu "$1"
	ADDR=127.0.0.1
	CLIENT=(ip netns exec "$NSP-lo")
	SERVER=(ip netns exec "$NSP-lo")
	COST_PGS=()
	NSES=("$NSP-lo")
}

setup_veth() {
	netns_add "$NSP-va"
	netns_add "$NSP-vb"
	log ip link add "$NSP-veth0" netns "$NSP-va" mtu "$1" type veth peer name "$NSP-veth1" netns "$NSP-vb" mtu "$1"
	log ip -n "$NSP-va" addr add "$NETP.1.1/24" dev "$NSP-veth0"
	log ip -n "$NSP-vb" addr add "$NETP.1.2/24" dev "$NSP-veth1"
	log ip -n "$NSP-va" link set "$NSP-veth0" up
	log ip -n "$NSP-vb" link set "$NSP-veth1" up
	ADDR=$NETP.1.2
	CLIENT=(ip netns exec "$NSP-va")
	SERVER=(ip netns exec "$NSP-vb")
	COST_PGS=()
	NSES=("$NSP-va" "$NSP-vb")
}

# slirp4netns: the client in a namespace whose only way out is slirp4netns; 10.0.2.2 is
# the host's loopback, where the servers listen.
setup_slirp() {
	netns_add "$NSP-sl"
	spawn slirp slirp4netns --configure --mtu="$1" --netns-type=path "/run/netns/$NSP-sl" tap0
	local i
	for i in $(seq 1 50); do
		ip -n "$NSP-sl" -o addr show tap0 2>/dev/null | grep -q 10.0.2.100 && break
		sleep 0.1
	done
	cmdlog setup-slirp slirp4netns --configure --mtu="$1" --netns-type=path "/run/netns/$NSP-sl" tap0
	ADDR=10.0.2.2
	CLIENT=(ip netns exec "$NSP-sl")
	SERVER=()
	SRV_BIND=127.0.0.1	# the host's loopback only
	COST_PGS=("$NC_PID")
	NSES=("$NSP-sl")
}

# socat: one relay per server port, in a namespace whose lo has the MTU; the client
# connects to port+1000.
setup_socat() {
	netns_add "$NSP-so"
	log ip -n "$NSP-so" link set lo mtu "$1"
	ADDR=127.0.0.1
	CLIENT=(ip netns exec "$NSP-so")
	SERVER=(ip netns exec "$NSP-so")
	COST_PGS=()
	NSES=("$NSP-so")
	local p
	for p in $IPERF_PORT $TB_PORT; do
		spawn "socat-$p" ip netns exec "$NSP-so" socat "TCP-LISTEN:$((p + 1000)),bind=127.0.0.1,reuseaddr,fork,backlog=4096" "TCP:127.0.0.1:$p"
		COST_PGS+=("$NC_PID")
	done
	cmdlog setup-socat ip netns exec "$NSP-so" socat "TCP-LISTEN:$((IPERF_PORT + 1000)),bind=127.0.0.1,reuseaddr,fork,backlog=4096" "TCP:127.0.0.1:$IPERF_PORT"
	PORT_SHIFT=1000
}

setup_tap() {
	netns_add "$NSP-tap"
	log ip -n "$NSP-tap" tuntap add tap0 mode tap
	log ip -n "$NSP-tap" addr add "$NETP.2.1/24" dev tap0
	log ip -n "$NSP-tap" link set tap0 mtu "$1" up
	start_service --netns "$NSP-tap" T "$NETP.2.2/24" --link tap --tap tap0 --mtu "$1"
	cmdlog setup-tap ip netns exec "$NSP-tap" "$NETCON" service --ip "$NETP.2.2/24" --socket "$(sock T)" --link tap --tap tap0 --mtu "$1"
	ADDR=$NETP.2.1
	CLIENT=("$NETCON" intercept --socket "$(sock T)" --)
	SERVER=(ip netns exec "$NSP-tap")
	COST_PGS=("${NC_SERVICE[T]}")
	NSES=("$NSP-tap")
}

setup_vxlan() {
	start_pair "$NETP.3" --mtu "$1"
	cmdlog setup-vxlan-A "$NETCON" service --ip "$NETP.3.1/24" --socket "$(sock A)" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --mtu "$1"
	cmdlog setup-vxlan-B "$NETCON" service --ip "$NETP.3.2/24" --socket "$(sock B)" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" --mtu "$1"
	ADDR=$NETP.3.2
	CLIENT=("$NETCON" intercept --socket "$(sock A)" --)
	SERVER=("$NETCON" intercept --socket "$(sock B)" --)
	COST_PGS=("${NC_SERVICE[A]}" "${NC_SERVICE[B]}")
	NSES=()
}

setup_wg() {
	local pa pb
	wg_keypair wga
	wg_keypair wgb
	pa=$(free_udp_port)
	pb=$(free_udp_port)
	wg_conf "$NC_TMP/wga.conf" wga "$pa" wgb 10.163.3.2/32 "127.0.0.1:$pb"
	wg_conf "$NC_TMP/wgb.conf" wgb "$pb" wga 10.163.3.1/32 "127.0.0.1:$pa"
	start_service A 10.163.3.1/24 --link wireguard --wg-config "$NC_TMP/wga.conf" --wg-name ncb-wgu-a --mtu "$1"
	start_service B 10.163.3.2/24 --link wireguard --wg-config "$NC_TMP/wgb.conf" --wg-name ncb-wgu-b --mtu "$1"
	cmdlog setup-wg-A "$NETCON" service --ip 10.163.3.1/24 --socket "$(sock A)" --link wireguard --wg-config "$NC_TMP/wga.conf" --wg-name ncb-wgu-a --mtu "$1"
	ADDR=10.163.3.2
	CLIENT=("$NETCON" intercept --socket "$(sock A)" --)
	SERVER=("$NETCON" intercept --socket "$(sock B)" --)
	COST_PGS=("${NC_SERVICE[A]}" "${NC_SERVICE[B]}")
	NSES=()
}

# wireguard-go in two namespaces joined by a veth (MTU 65535, so the outer datagrams of
# the largest inner MTU pass whole); configured with wg setconf, as t_wireguard does.
setup_wggo() {
	local i n pg=()
	wg_keypair wgg1
	wg_keypair wgg2
	netns_add ncb-wgu-g1
	netns_add ncb-wgu-g2
	NSES=(ncb-wgu-g1 ncb-wgu-g2)
	log ip link add ncb-wgu-v1 netns ncb-wgu-g1 mtu 65535 type veth peer name ncb-wgu-v2 netns ncb-wgu-g2 mtu 65535
	log ip -n ncb-wgu-g1 addr add 10.163.5.1/30 dev ncb-wgu-v1
	log ip -n ncb-wgu-g2 addr add 10.163.5.2/30 dev ncb-wgu-v2
	log ip -n ncb-wgu-g1 link set ncb-wgu-v1 up
	log ip -n ncb-wgu-g2 link set ncb-wgu-v2 up
	wg_conf "$NC_TMP/wgg1.conf" wgg1 51821 wgg2 10.163.4.2/32 10.163.5.2:51822
	wg_conf "$NC_TMP/wgg2.conf" wgg2 51822 wgg1 10.163.4.1/32 10.163.5.1:51821
	for n in 1 2; do
		WG_PROCESS_FOREGROUND=1 spawn "wggo$n" ip netns exec "ncb-wgu-g$n" wireguard-go -f "ncb-wgu-t$n"
		pg+=("$NC_PID")
		for ((i = 0; i < 50; i++)); do
			ip -n "ncb-wgu-g$n" link show "ncb-wgu-t$n" >/dev/null 2>&1 && break
			sleep 0.1
		done
		log ip netns exec "ncb-wgu-g$n" wg setconf "ncb-wgu-t$n" "$NC_TMP/wgg$n.conf"
		log ip -n "ncb-wgu-g$n" addr add "10.163.4.$n/24" dev "ncb-wgu-t$n"
		log ip -n "ncb-wgu-g$n" link set "ncb-wgu-t$n" mtu "$1" up
	done
	cmdlog setup-wggo ip netns exec ncb-wgu-g1 wireguard-go -f ncb-wgu-t1
	ADDR=10.163.4.2
	CLIENT=(ip netns exec ncb-wgu-g1)
	SERVER=(ip netns exec ncb-wgu-g2)
	COST_PGS=("${pg[@]}")
}

# The seccomp paths: the same topology, the programs under `netcon intercept --mode
# seccomp` (iperf3 and tcpbench are glibc programs: auto would pick preload).
setup_tap_sc() {
	setup_tap "$1"
	CLIENT=("$NETCON" intercept --mode seccomp --socket "$(sock T)" --)
}

setup_vxlan_sc() {
	setup_vxlan "$1"
	CLIENT=("$NETCON" intercept --mode seccomp --socket "$(sock A)" --)
	SERVER=("$NETCON" intercept --mode seccomp --socket "$(sock B)" --)
}

# teardown — stop everything spawned for the path, delete its namespaces.
teardown() {
	local n pgs=()
	for n in "${!NC_SPAWNED[@]}"; do pgs+=("${NC_SPAWNED[$n]}"); done
	nc_kill_groups "${pgs[@]}"
	NC_SPAWNED=()
	NC_SERVICE=()
	[ ${#NSES[@]} -eq 0 ] || ns_del "${NSES[@]}"
	rm -f "$NC_TMP"/*.sock
}

# ---------------------------------------------------------------------------------------
# Figures (iperf3, latency and connection rate are in bench/lib.sh)

# gohttp_build — build/gohttp (tests/go/gohttp.go, CGO_ENABLED=0: static, its own system
# calls) as tests/t_seccomp.sh builds it; sets HTTP_SKIP to a reason when it cannot.
HTTP_SKIP=unset
ABS_BUILD=$BUILD
case $ABS_BUILD in /*) ;; *) ABS_BUILD=$ROOT/$ABS_BUILD ;; esac
GOHTTP=$ABS_BUILD/gohttp
gohttp_build() {
	[ "$HTTP_SKIP" = unset ] || return 0
	HTTP_SKIP=""
	if ! command -v hey >/dev/null 2>&1; then HTTP_SKIP="no hey (Debian's hey)"; return 0; fi
	if [ -x "$GOHTTP" ] && [ "$GOHTTP" -nt tests/go/gohttp.go ]; then return 0; fi
	if ! command -v go >/dev/null 2>&1; then HTTP_SKIP="no Go toolchain (Debian's golang-go)"; return 0; fi
	if ! env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$ABS_BUILD/go-cache" \
		GOPATH="$ABS_BUILD/go-path" timeout 300 go build -o "$GOHTTP" tests/go/gohttp.go >"$NC_TMP/gobuild.log" 2>&1; then
		HTTP_SKIP="go build of tests/go/gohttp.go failed: $(tail -n 3 "$NC_TMP/gobuild.log" | tr '\n' ' ')"
	fi
}

# http PATH MTU — hey against gohttp for HTTP_T s, with keep-alive ("ka") and without
# ("close": a connection per request). hey and gohttp are static Go programs: seccomp
# mode on the netcon paths (said explicitly: Debian's hey is linked with glibc, for which
# --mode auto would pick preload, which Go's own system calls bypass).
http() {
	local path=$1 mtu=$2 port ka args out rc line
	gohttp_build
	if [ -n "$HTTP_SKIP" ]; then
		say "  http $path: skipped: $HTTP_SKIP"
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"http\", \"skipped\": \"$(tr -d '"\\' <<<"$HTTP_SKIP")\""
		return 0
	fi
	port=$(free_tcp_port)
	spawn http-srv "${SERVER[@]}" "$GOHTTP" server ":$port"
	cmdlog "http-server-$path" "${SERVER[@]}" "$GOHTTP" server ":$port"
	if ! wait_tcp "$port"; then
		say "  http $path: gohttp unreachable: $(tail -c 300 "$NC_TMP/http-srv.log")"
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"http\", \"keepalive\": true, \"error\": \"server unreachable\""
		nc_kill_groups "${NC_SPAWNED[http-srv]}"
		unset 'NC_SPAWNED[http-srv]'
		return 0
	fi
	for ka in true false; do
		args=(hey -z "${HTTP_T}s" -c 50 -t 10)
		[ "$ka" = false ] && args+=(-disable-keepalive)
		args+=("http://$ADDR:$port/?i=0")
		cmdlog "http-$path-$ka" "${CLIENT[@]}" "${args[@]}"
		rc=0
		out=$(timeout -k 5 $((HTTP_T + 40)) "${CLIENT[@]}" "${args[@]}" 2>&1) || rc=$?
		if line=$(python3 -c '
import re, sys
t = sys.stdin.read()
rps = re.search(r"Requests/sec:\s*([0-9.]+)", t)
ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", t))
other = sum(int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", t) if c != "200")
err = t.split("Error distribution:", 1)[1] if "Error distribution:" in t else ""
errs = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", err, re.M)) + other
pct = dict(re.findall(r"(\d+)% in ([0-9.]+) secs", t))
if not rps or not ok:
    print("no result: " + " ".join(t.split())[-300:]); sys.exit(1)
print("\"rps\": %.1f, \"ok\": %d, \"errors\": %d, \"p50_ms\": %.3f, \"p99_ms\": %.3f"
      % (float(rps.group(1)), ok, errs, float(pct.get("50", 0)) * 1e3, float(pct.get("99", 0)) * 1e3))
' <<<"$out" 2>&1) && [ "$rc" = 0 ]; then
			record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"http\", \"keepalive\": $ka, $line"
			say "  http $path keepalive=$ka: $(sed 's/"rps": \([0-9.]*\).*"errors": \([0-9]*\).*/\1 req\/s, \2 errors/' <<<"$line")"
		else
			say "  http $path keepalive=$ka failed (exit $rc): ${line:0:300}"
			record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"http\", \"keepalive\": $ka, \"error\": \"exit $rc\""
		fi
	done
	nc_kill_groups "${NC_SPAWNED[http-srv]}"
	unset 'NC_SPAWNED[http-srv]'
}

# services_ok — every netcon service of the path is alive and answers `netcon status`
# within 3 s (a wedged service is reported and the rest of the path at this MTU skipped).
services_ok() {
	local n
	for n in "${!NC_SERVICE[@]}"; do
		if ! alive "${NC_SERVICE[$n]}" || ! timeout 3 "$NETCON" status --socket "$(sock "$n")" >/dev/null 2>&1; then
			say "  service $n (pid ${NC_SERVICE[$n]}) does not answer \`netcon status\` (it uses $(ps -o pcpu= -p "${NC_SERVICE[$n]}" 2>/dev/null || echo '?')% CPU); the rest of this MTU is skipped"
			return 1
		fi
	done
	return 0
}

# run_path PATH MTU — every per-path figure at one MTU.
run_path() {
	local path=$1 mtu=$2 st dir rep
	say "$path, MTU $mtu"
	PORT_SHIFT=0
	SRV_BIND=0.0.0.0
	IPERF_PORT=$(free_tcp_port)
	TB_PORT=$(free_tcp_port)
	"setup_${path//-/_}" "$mtu"
	spawn iperf-srv "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	spawn tb-srv "${SERVER[@]}" "$TCPBENCH" serve "$SRV_BIND:$TB_PORT"
	cmdlog "server-$path" "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	if ! wait_tcp "$((IPERF_PORT + PORT_SHIFT))" || ! wait_tcp "$((TB_PORT + PORT_SHIFT))"; then
		say "  $path mtu $mtu: servers unreachable; skipped"
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"setup\", \"error\": \"servers unreachable\""
		teardown
		return 0
	fi
	for st in $STREAMS; do
		for dir in $DIRS; do
			for rep in $(seq 1 "$REPS"); do
				iperf "$path" "$mtu" "$st" "$dir" "$rep" && continue
				services_ok && continue
				record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"setup\", \"error\": \"a service stopped answering\""
				teardown
				return 0
			done
		done
	done
	latency "$path" "$mtu"
	connrate "$path" "$mtu"
	case $path in veth|tap-sc|vxlan-sc) [ "$mtu" != 1500 ] || http "$path" "$mtu" ;; esac
	teardown
}

# hold_more NAME N — N more idle connections from the client side (build/tcpbench hold,
# kept open until teardown); sets OPEN_S to the time they took. Returns 1 on failure.
hold_more() {
	local name=$1 n=$2 f line i
	cmdlog "hold-$path" "${CLIENT[@]}" "$TCPBENCH" hold "$ADDR" "$TB_PORT" "$n"
	spawn "$name" "${CLIENT[@]}" "$TCPBENCH" hold "$ADDR" "$TB_PORT" "$n"
	f=$NC_TMP/$name.log
	line=""
	for i in $(seq 1 1800); do	# ≤ 180 s
		line=$(grep -E '^[0-9.]+ [0-9]+$' "$f" 2>/dev/null || true)
		[ -n "$line" ] && break
		alive "${NC_SPAWNED[$name]}" || break
		sleep 0.1
	done
	if [ -z "$line" ] || [ "${line#* }" != "$n" ]; then
		HOLD_ERR=$(tail -n 1 "$f" 2>/dev/null | tr -d '"\\' | cut -c1-200)
		HOLD_ERR=${HOLD_ERR:-no answer}
		return 1
	fi
	OPEN_S=${line% *}
}

# scale PATH — one connection's ping-pong latency and single-stream throughput (iperf3,
# one stream, client → server) while each count of HOLD idle connections is held (the
# counts ascending, in one setup: holders are added, nothing is closed between counts),
# MTU 1500; for the netcon paths the services' RSS (VmRSS, against the count 0) and
# their CPU over IDLE_S s while everything sits idle (before the measurements).
scale() {
	local path=$1 mtu=1500 held=0 want k=0 pg t0 t1 j body names=(A B) rss0=() rss
	say "$path: scale, MTU $mtu, held connections: $HOLD"
	PORT_SHIFT=0
	SRV_BIND=0.0.0.0
	TB_PORT=$(free_tcp_port)
	IPERF_PORT=$(free_tcp_port)
	"setup_$path" "$mtu"
	[ "$path" = tap ] && names=(T)
	spawn iperf-srv "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	spawn tb-srv "${SERVER[@]}" "$TCPBENCH" serve "$SRV_BIND:$TB_PORT"
	if ! wait_tcp "$IPERF_PORT" || ! wait_tcp "$TB_PORT"; then
		say "  scale $path: servers unreachable"
		record "\"path\": \"$path\", \"test\": \"scale\", \"held\": 0, \"error\": \"servers unreachable\""
		teardown
		return 0
	fi
	sleep 0.5
	for pg in "${COST_PGS[@]}"; do rss0+=("$(rss_kib "$pg")"); done
	for want in $HOLD; do
		OPEN_S=0
		if [ "$want" -gt "$held" ]; then
			k=$((k + 1))
			if ! hold_more "hold$k" $((want - held)); then
				say "  scale $path: holding $want failed: $HOLD_ERR"
				record "\"path\": \"$path\", \"test\": \"scale\", \"held\": $want, \"error\": \"$HOLD_ERR\""
				break
			fi
			held=$want
		fi
		sleep 1
		body="\"path\": \"$path\", \"test\": \"scale\", \"held\": $held, \"open_s\": $OPEN_S"
		if [ ${#COST_PGS[@]} -gt 0 ]; then
			t0=0; for pg in "${COST_PGS[@]}"; do t0=$((t0 + $(grp_ticks "$pg"))); done
			sleep "$IDLE_S"
			t1=0; for pg in "${COST_PGS[@]}"; do t1=$((t1 + $(grp_ticks "$pg"))); done
			j=0
			for pg in "${COST_PGS[@]}"; do
				rss=$(rss_kib "$pg")
				body+=", \"rss_kib_${names[j]}\": $rss"
				[ "$held" = 0 ] || body+=", \"kib_per_conn_${names[j]}\": $(awk -v a="${rss0[j]}" -v b="$rss" -v n="$held" 'BEGIN { printf "%.3f", (b - a) / n }')"
				j=$((j + 1))
			done
			# per service: the CPU of all of them over IDLE_S, divided by their number
			body+=", \"idle_cpu_pct\": $(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v s="$IDLE_S" -v n=${#COST_PGS[@]} 'BEGIN { printf "%.2f", t / hz / s / n * 100 }')"
		fi
		record "$body"
		say "  scale $path held $held: {$body}"
		HELD=", \"held\": $held"
		latency "$path" "$mtu"
		iperf "$path" "$mtu" 1 send 1 || true
		HELD=""
	done
	teardown
}

# capture_cost — capture's cost on the VXLAN path (MTU 1500, one stream, client → server):
# modes none, pcap (--pcap FILE), pcapng (--pcap FILE.pcapng) and client (`netcon capture
# -w /dev/null`), on service A, which carries the sender; each mode with fresh services,
# the modes alternating within each repetition. Records "capture" rows (iperf's figures
# and the mode) and, for the capturing modes, the frames the sink took and dropped.
capture_cost() {
	local rep mode extra i js
	say "capture's cost: vxlan, MTU 1500, 1 stream send, ${T}s × $REPS"
	for rep in $(seq 1 "$REPS"); do
		for mode in none pcap pcapng client; do
			PORT_SHIFT=0
			SRV_BIND=0.0.0.0
			IPERF_PORT=$(free_tcp_port)
			extra=()
			case $mode in
			pcap) extra=(--pcap "$NC_TMP/cap.pcap") ;;
			pcapng) extra=(--pcap "$NC_TMP/cap.pcapng") ;;
			esac
			PORT_A=$(free_udp_port)
			PORT_B=$(free_udp_port)
			start_service A 10.166.4.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --mtu 1500 "${extra[@]}"
			start_service B 10.166.4.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" --mtu 1500
			cmdlog "capture-$mode-A" "$NETCON" service --ip 10.166.4.1/24 --socket "$(sock A)" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --mtu 1500 "${extra[@]}"
			ADDR=10.166.4.2
			CLIENT=("$NETCON" intercept --socket "$(sock A)" --)
			SERVER=("$NETCON" intercept --socket "$(sock B)" --)
			COST_PGS=("${NC_SERVICE[A]}" "${NC_SERVICE[B]}")
			NSES=()
			spawn iperf-srv "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
			if [ "$mode" = client ]; then
				spawn capc "$NETCON" capture --socket "$(sock A)" -w /dev/null
				cmdlog capture-client "$NETCON" capture --socket "$(sock A)" -w /dev/null
				for i in $(seq 1 50); do
					"$NETCON" status --socket "$(sock A)" --json 2>/dev/null | grep -q '"clients":1,' && break
					sleep 0.1
				done
			fi
			if wait_tcp "$IPERF_PORT"; then
				IPERF_TEST=capture IPERF_EXTRA=", \"mode\": \"$mode\"" iperf capture 1500 1 send "$rep" || true
				if [ "$mode" != none ] && js=$("$NETCON" status --socket "$(sock A)" --json 2>/dev/null); then
					record "\"path\": \"capture\", \"test\": \"capture-sink\", \"mode\": \"$mode\", \"rep\": $rep, $(python3 -c '
import json, sys
c = json.load(sys.stdin)["capture"]
print("\"frames\": %d, \"dropped\": %d" % (c["frames"], c["dropped"]))' <<<"$js")"
				fi
			else
				say "  capture $mode: iperf3 server unreachable"
				record "\"path\": \"capture\", \"mtu\": 1500, \"test\": \"capture\", \"mode\": \"$mode\", \"rep\": $rep, \"error\": \"server unreachable\""
			fi
			teardown
			rm -f "$NC_TMP"/cap.pcap*
		done
	done
}

# lwipscale — lwIP's per-segment input cost and a new connection's cost against the number
# of pcbs, with the pcb hash and port table and without (bench/lwipscale.c), the two builds
# alternating count by count.
lwipscale() {
	local n b line quick=--quick counts="10 10000 100000"
	[ -z "${BENCH_FULL:-}" ] || { quick=""; counts="10 10000 100000 1000000"; }
	[ "$SMOKE" = 0 ] || counts="10 1000"
	for n in $counts; do
		for b in lwipscale lwipscale-nohash; do
			cmdlog "$b" "$BUILD/$b" $quick "$n"
			if line=$(timeout -k 5 600 nice -n 5 "$BUILD/$b" $quick "$n" 2>/dev/null) &&
				[[ $line =~ ^pcbs\ ([0-9]+)\ lookup\ ([a-z]+)\ one_ns\ ([0-9]+)\ spread_ns\ ([0-9]+)\ syn_ns\ ([0-9]+)\ timer_us\ ([0-9.]+)\ timer_cpu_pct\ ([0-9.]+)\ timer_visits\ ([0-9.]+|all)\ open_ns\ ([0-9]+)\ open_visits\ ([0-9.]+|all)\ reuse_ns\ ([0-9]+)\ reuse_visits\ ([0-9.]+|all)\ accept_ns\ ([0-9]+)\ accept_visits\ ([0-9.]+|all)$ ]]; then
				record "\"path\": \"lwip\", \"test\": \"lwipscale\", \"pcbs\": ${BASH_REMATCH[1]}, \"lookup\": \"${BASH_REMATCH[2]}\", \"one_ns\": ${BASH_REMATCH[3]}, \"spread_ns\": ${BASH_REMATCH[4]}, \"syn_ns\": ${BASH_REMATCH[5]}, \"timer_us\": ${BASH_REMATCH[6]}, \"timer_cpu_pct\": ${BASH_REMATCH[7]}, \"timer_visits\": \"${BASH_REMATCH[8]}\", \"open_ns\": ${BASH_REMATCH[9]}, \"open_visits\": \"${BASH_REMATCH[10]}\", \"reuse_ns\": ${BASH_REMATCH[11]}, \"reuse_visits\": \"${BASH_REMATCH[12]}\", \"accept_ns\": ${BASH_REMATCH[13]}, \"accept_visits\": \"${BASH_REMATCH[14]}\""
				say "  $line"
			else
				say "  $b $n failed: ${line:0:200}"
				record "\"path\": \"lwip\", \"test\": \"lwipscale\", \"pcbs\": $n, \"lookup\": \"${b#lwipscale}\", \"error\": \"failed\""
			fi
		done
	done
}

# ---------------------------------------------------------------------------------------
# The run

SECONDS=0
say "output: $OUT; iperf3 ${T}s × $REPS; paths: $PATHS"
has_path() { case " $PATHS " in *" $1 "*) return 0 ;; esac; return 1; }
for path in $PATHS; do
	[ "$path" != capture ] || continue	# below
	[ "$SCALE_ONLY" = 0 ] || break
	case $path in *-sc) has_path "${path%-sc}" && continue ;; esac	# run beside its preload path
	if [ "$SMOKE" = 1 ]; then mtus=1500; else mtus="1500 9000 $(max_mtu "$path")"; fi
	case $path in wg|wggo) [ "$SMOKE" = 1 ] && mtus=1420 || mtus="1420 $(max_mtu "$path")" ;; esac
	for mtu in $mtus; do
		case $path in *-sc) [ "$mtu" = 9000 ] && continue ;; esac
		run_path "$path" "$mtu"
		if has_path "$path-sc" && [ "$mtu" != 9000 ]; then run_path "$path-sc" "$mtu"; fi
	done
done
for path in veth tap vxlan; do
	case " $PATHS " in *" $path "*) scale "$path" ;; esac
done
[ "$SCALE_ONLY" = 1 ] || ! has_path capture || capture_cost
say "lwIP alone: per-segment input cost against pcbs"
lwipscale
say "measured in ${SECONDS}s"

# Machine, versions, commands: for the report.
{
	printf 'cpu\t%s\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	printf 'cores\t%s\n' "$(nproc)"
	printf 'memory\t%s\n' "$(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
	printf 'netcon\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	printf 'iperf3\t%s\n' "$(iperf3 --version 2>/dev/null | head -1)"
	printf 'slirp4netns\t%s\n' "$(slirp4netns --version 2>/dev/null | head -1)"
	printf 'socat\t%s\n' "$(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p' | head -1)"
	printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'mode\t%s\n' "$([ "$SMOKE" = 1 ] && echo smoke || echo "iperf3 ${T} s x ${REPS}")"
	printf 'duration\t%s s\n' "$SECONDS"
} >"$NC_TMP/machine.txt"

cp "$RES" "$OUT/raw.jsonl"
cp "$NC_TMP/machine.txt" "$OUT/machine.tsv"
cp "$CMDS" "$OUT/commands.tsv"
# Regenerate by hand: python3 bench/report.py --results bench/results/raw.jsonl
#   --machine bench/results/machine.tsv --commands bench/results/commands.tsv
#   --out bench/results --docs docs/benchmarks.md
python3 bench/report.py --results "$OUT/raw.jsonl" --machine "$OUT/machine.tsv" \
	--commands "$OUT/commands.tsv" --out "$OUT" ${DOCS:+--docs "$DOCS"}
# The way out and the way in (issue 16): bench/outbound.sh, a section of its own on the
# page; with a temp dir and a registry of its own (what it starts, it cleans up). Not with
# a BENCH_PATHS subset unless BENCH_OB_ROWS says which of its rows.
if [ "$SCALE_ONLY" = 0 ] && { [ -z "${BENCH_PATHS:-}" ] || [ -n "${BENCH_OB_ROWS:-}" ]; }; then
	ob=(bench/outbound.sh --out "$OUT")
	[ "$SMOKE" = 0 ] || ob+=(--smoke)
	[ -z "$DOCS" ] || ob+=(--docs "$DOCS")
	env -u NC_REGISTRY BUILD="$BUILD" "${ob[@]}"
fi
if [ "$SMOKE" = 1 ]; then
	for f in results.md results.json throughput.png scale-latency.png; do
		[ -s "$OUT/$f" ] || { echo "bench smoke: $f not written" >&2; exit 1; }
	done
	if grep -q '"error"' "$RES"; then
		echo "bench smoke: some figures failed:" >&2
		grep '"error"' "$RES" >&2
		exit 1
	fi
	echo "bench smoke: ok"
fi
