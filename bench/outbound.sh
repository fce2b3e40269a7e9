#!/usr/bin/env bash
# bench/outbound.sh — the way out and the way in (issue 16), side by side in one run: a
# program without network reaching a server of "the internet", and a client of the host
# reaching a published server (`make bench`, called by bench/run.sh).
#
#   ┌ netns obbench-inet ("the internet") ┐        ┌ netns obbench-host ("the host") ──────┐
#   │ veth 10.162.0.1/24, 10.162.1.1/24   ◄─veth──┤ 10.162.0.2/24, default via 10.162.0.1 │
#   │ iperf3 -s, tcpbench serve (out-*)   │  MTU   │ netcon services, slirp4netns, pasta;  │
#   └─────────────────────────────────────┘ 1500   │ the clients of the in-* rows (lo)     │
#                                                  └───────────────────────────────────────┘
#   row             client                                  server
#   out-kernel      kernel, obbench-host                    10.162.1.1 (obbench-inet), veth
#   out-netcon      unshare --net under `netcon service     the same; the service's kernel
#                   --outbound 10.162.1.0/24` (preload)     socket is handed to the program
#   out-netcon-sc   the same, --mode seccomp (iperf3 forced, tcpbench_static by itself)
#   out-slirp       netns obbench-slo whose only link is    the same, slirp4netns's sockets
#                   slirp4netns (run in obbench-host)       in obbench-host
#   out-pasta       netns obbench-pao, pasta --no-map-gw    the same, pasta's sockets
#   in-kernel       kernel, obbench-host → 127.0.0.1        kernel, obbench-host, loopback
#   in-netcon       the same → 127.0.0.1:HP                 unshare --net under a service
#                   (`--publish tcp:127.0.0.1:HP:10.162.101.1:P`: the accepted kernel socket
#                   is handed to the program)
#   in-netcon-sc    the same, the server in seccomp mode
#   in-slirp        the same → 127.0.0.1:HP                 netns obbench-sli: slirp4netns
#                                                           API add_hostfwd HP → P
#   in-pasta        the same → 127.0.0.1:HP                 netns obbench-pai: pasta
#                                                           -t 127.0.0.1/HP:P
#
# Figures, every row: iperf3 single stream, BENCH_TIME s (default 3), client → server
# ("send") and -R ("recv"), with the CPU of both ends and of the service or relay per
# GiB; build/tcpbench pingpong (p50, p99 of 20,000 1-byte round trips); build/tcpbench
# connrate (connect → 64-byte exchange → close, at most 10,000 or 2 s). Median of
# BENCH_REPS runs (default 1; BENCH_FULL=1: 10 s × 3). slirp4netns and pasta run at their
# default MTU 65520 on their side; the veth is at BENCH_OB_MTU (default 1500, a NIC's).
#
# Nothing passes or fails: the figures are ratios to the kernel of the same run. Writes
# OUT/outbound.{md,json,jsonl}, outbound-{machine,commands}.tsv and `netcon status` of both
# services after the run, outbound-status-{O,P}.txt (default OUT bench/results) and,
# without --out, the section "The way out and the way in" of docs/benchmarks.md (--docs
# FILE: that file instead).
# --smoke: four rows (one of each kind of setup), a second a figure, tiny counts, output to
# a temp dir; checks the script.
# Needs root (namespaces, veth).
#
# Environment: BENCH_FULL=1, BENCH_TIME, BENCH_REPS, BENCH_OB_ROWS (a subset of the rows),
# BENCH_OB_MTU, BUILD, NC_VERBOSE=1 (echo every command).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SMOKE=0
OUT=""
DOCS=""
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out) OUT=$2; shift ;;
	--docs) DOCS=$2; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/outbound.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

if [ "$(id -u)" != 0 ]; then
	echo "bench/outbound.sh: needs root (network namespaces, veth)" >&2
	exit 1
fi

need=()
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v slirp4netns >/dev/null 2>&1 || need+=(slirp4netns)
command -v pasta >/dev/null 2>&1 || need+=(passt)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
	if command -v apt-get >/dev/null 2>&1; then
		echo "bench-ob: installing ${need[*]} (apt-get)" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "bench/outbound.sh: please install: ${need[*]}" >&2
		exit 1
	fi
fi
BUILD=${BUILD:-build}
make -s -j2 BUILD="$BUILD" all bench-tools >/dev/null

[ -n "${NC_VERBOSE:-}" ] || NC_QUIET=1
# shellcheck source=tests/lib.sh
. tests/lib.sh
say() { printf 'bench-ob: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
. bench/lib.sh

TB_DYN=$BUILD/tcpbench
TB_STATIC=$BUILD/tcpbench_static
[ -x "$TB_STATIC" ] || { echo "bench/outbound.sh: no $TB_STATIC (make bench-tools)" >&2; exit 1; }

ROWS_ALL="out-kernel out-netcon out-netcon-sc out-slirp out-pasta in-kernel in-netcon in-netcon-sc in-slirp in-pasta"
MTU=${BENCH_OB_MTU:-1500}
if [ "$SMOKE" = 1 ]; then
	# One row of each kind of setup: the outbound service in seccomp mode, the publishing
	# one in preload mode, pasta's way out, slirp4netns's API.
	ROWS=${BENCH_OB_ROWS:-out-netcon-sc in-netcon out-pasta in-slirp}
	T=${BENCH_TIME:-1}; REPS=${BENCH_REPS:-1}
	PP_COUNT=2000; CR_MAX=200; CR_SECS=1
	DIRS="send"
	OUT=${OUT:-$NC_TMP/results}
else
	ROWS=${BENCH_OB_ROWS:-$ROWS_ALL}
	if [ -n "${BENCH_FULL:-}" ]; then T=10; REPS=3; else T=3; REPS=1; fi
	T=${BENCH_TIME:-$T}; REPS=${BENCH_REPS:-$REPS}
	PP_COUNT=20000; CR_MAX=10000; CR_SECS=2
	DIRS="send recv"
	if [ -z "$OUT" ]; then OUT=$ROOT/bench/results; DOCS=${DOCS:-$ROOT/docs/benchmarks.md}; fi
fi
mkdir -p "$OUT"
RES=$NC_TMP/outbound.jsonl
: >"$RES"
CMDS=$NC_TMP/commands.tsv
: >"$CMDS"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------------------------------
# The two namespaces every row uses; the subnets guarded in the host's namespace, so that
# nothing that escaped a namespace leaves the machine.
NSI=obbench-inet
NSH=obbench-host
INET=10.162.1.1
VOUT=10.162.100.1/24	# the outbound service's virtual network
VIN=10.162.101	# the publishing service's (.1: its address)
guard_subnet 10.162.0.0/24
guard_subnet 10.162.1.0/24
netns_add "$NSI"
netns_add "$NSH"
log ip link add obbench-i netns "$NSI" mtu "$MTU" type veth peer name obbench-h netns "$NSH" mtu "$MTU"
log ip -n "$NSI" addr add 10.162.0.1/24 dev obbench-i
log ip -n "$NSI" addr add "$INET/24" dev obbench-i
log ip -n "$NSH" addr add 10.162.0.2/24 dev obbench-h
log ip -n "$NSI" link set obbench-i up
log ip -n "$NSH" link set obbench-h up
# pasta takes its addresses and routes from the interface of the default route.
log ip -n "$NSH" route add default via 10.162.0.1

# ---------------------------------------------------------------------------------------
# Rows. Every row's servers run on ports of their own (R_IPORT, R_TPORT) and every row is
# started first (start_ROW: services, namespaces, slirp4netns, pasta, the servers); then
# each figure is taken of every row in turn, so that the rows of one figure are minutes
# apart at most and a busy machine weighs on all of them alike. use_ROW sets what the
# figures of bench/lib.sh read: ADDR, CLIENT, SERVER, PORT_SHIFT (published ports and
# forwarders listen on the server's port + 1000 on obbench-host's loopback), TCPBENCH
# (tcpbench_static where the program is in seccomp mode) and COST_PGS.

SLIRP_MTU=65520
declare -A R_IPORT=() R_TPORT=()
for row in $ROWS; do
	case " $ROWS_ALL " in *" $row "*) ;; *) say "unknown row $row (rows: $ROWS_ALL)"; exit 2 ;; esac
	R_IPORT[$row]=$(free_tcp_port)
	R_TPORT[$row]=$(free_tcp_port)
done

# slirp_start NS [API-SOCKET] — slirp4netns in obbench-host for namespace NS (bounded wait
# for its address).
slirp_start() {
	local ns=$1 api=${2:-} i args
	netns_add "$ns"
	args=(slirp4netns --configure --mtu="$SLIRP_MTU")
	[ -z "$api" ] || args+=(--api-socket "$api")
	args+=(--netns-type=path "/run/netns/$ns" tap0)
	spawn "slirp-$ns" ip netns exec "$NSH" "${args[@]}"
	cmdlog "setup-slirp-$ns" ip netns exec "$NSH" "${args[@]}"
	for i in $(seq 1 50); do
		ip -n "$ns" -o addr show tap0 2>/dev/null | grep -q 10.0.2.100 && return 0
		sleep 0.1
	done
	say "  slirp4netns did not configure $ns: $(tail -c 300 "$NC_TMP/slirp-$ns.log")"
	return 1
}

# pasta_start NS PASTA-ARGS... — pasta in obbench-host for namespace NS (bounded wait for
# the namespace's default route, which --config-net sets last). As root pasta would switch
# to nobody, who cannot join a namespace by its path: --runas 0 (run by a user, as Podman
# runs it, it stays that user).
pasta_start() {
	local ns=$1 i
	shift
	netns_add "$ns"
	local args=(pasta -f -q --runas 0 --config-net -u none -T none -U none "$@" --netns "/run/netns/$ns")
	spawn "pasta-$ns" ip netns exec "$NSH" "${args[@]}"
	cmdlog "setup-pasta-$ns" ip netns exec "$NSH" "${args[@]}"
	for i in $(seq 1 50); do
		[ -n "$(ip -n "$ns" route show default 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	say "  pasta did not configure $ns: $(tail -c 300 "$NC_TMP/pasta-$ns.log")"
	return 1
}

# The outbound service O (both out-netcon rows) and the publishing service P (both in-netcon
# rows: each row's two servers published), started once.
start_O() {
	[ -z "${NC_SERVICE[O]:-}" ] || return 0
	start_service --netns "$NSH" O "$VOUT" --bind "127.0.0.1:$(free_udp_port)" --outbound 10.162.1.0/24
	cmdlog setup-out-netcon ip netns exec "$NSH" "$NETCON" service --ip "$VOUT" --socket "$(sock O)" \
		--bind 127.0.0.1:PORT --outbound 10.162.1.0/24
}

start_P() {
	local row p args=()
	[ -z "${NC_SERVICE[P]:-}" ] || return 0
	for row in in-netcon in-netcon-sc; do
		[ -n "${R_IPORT[$row]:-}" ] || continue
		for p in "${R_IPORT[$row]}" "${R_TPORT[$row]}"; do
			args+=(--publish "tcp:127.0.0.1:$((p + 1000)):$VIN.1:$p")
		done
	done
	start_service --netns "$NSH" P "$VIN.1/24" --bind "127.0.0.1:$(free_udp_port)" "${args[@]}"
	cmdlog setup-in-netcon ip netns exec "$NSH" "$NETCON" service --ip "$VIN.1/24" --socket "$(sock P)" \
		--bind 127.0.0.1:PORT "${args[@]:0:4}"
}

start_out_kernel() { :; }
use_out_kernel() {
	ADDR=$INET
	CLIENT=(ip netns exec "$NSH")
	SERVER=(ip netns exec "$NSI")
}

start_out_netcon() { start_O; }
use_out_netcon() {
	use_out_kernel
	CLIENT=(ip netns exec "$NSH" unshare --net -- "$NETCON" intercept --socket "$(sock O)" --)
	COST_PGS=("${NC_SERVICE[O]}")
}

start_out_netcon_sc() { start_O; }
use_out_netcon_sc() {
	use_out_netcon
	CLIENT=(ip netns exec "$NSH" unshare --net -- "$NETCON" intercept --mode seccomp --socket "$(sock O)" --)
	TCPBENCH=$TB_STATIC
}

start_out_slirp() { slirp_start obbench-slo; }
use_out_slirp() {
	use_out_kernel
	CLIENT=(ip netns exec obbench-slo)
	COST_PGS=("${NC_SPAWNED[slirp-obbench-slo]}")
}

# --no-map-gw: the gateway's address is the gateway (by default pasta maps it to the
# host's loopback); the server is on another address anyway.
start_out_pasta() { pasta_start obbench-pao --no-map-gw -t none; }
use_out_pasta() {
	use_out_kernel
	CLIENT=(ip netns exec obbench-pao)
	COST_PGS=("${NC_SPAWNED[pasta-obbench-pao]}")
}

start_in_kernel() { :; }
use_in_kernel() {
	ADDR=127.0.0.1
	CLIENT=(ip netns exec "$NSH")
	SERVER=(ip netns exec "$NSH")
}

start_in_netcon() { start_P; }
use_in_netcon() {
	use_in_kernel
	PORT_SHIFT=1000
	SERVER=(ip netns exec "$NSH" unshare --net -- "$NETCON" intercept --socket "$(sock P)" --)
	COST_PGS=("${NC_SERVICE[P]}")
}

start_in_netcon_sc() { start_P; }
use_in_netcon_sc() {
	use_in_netcon
	SERVER=(ip netns exec "$NSH" unshare --net -- "$NETCON" intercept --mode seccomp --socket "$(sock P)" --)
	TCPBENCH=$TB_STATIC
}

start_in_slirp() {
	local p req
	slirp_start obbench-sli "$NC_TMP/slirp-api.sock" || return 1
	for p in "$IPERF_PORT" "$TB_PORT"; do
		req="{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $((p + 1000)), \"guest_port\": $p}}"
		cmdlog setup-in-slirp-hostfwd "$req"
		"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
r = s.recv(4096).decode()
if "error" in r:
    sys.exit("add_hostfwd: " + r)' "$NC_TMP/slirp-api.sock" "$req" || return 1
	done
}
use_in_slirp() {
	use_in_kernel
	PORT_SHIFT=1000
	SERVER=(ip netns exec obbench-sli)
	COST_PGS=("${NC_SPAWNED[slirp-obbench-sli]}")
}

start_in_pasta() {
	pasta_start obbench-pai -t "127.0.0.1/$((IPERF_PORT + 1000)):$IPERF_PORT" \
		-t "127.0.0.1/$((TB_PORT + 1000)):$TB_PORT"
}
use_in_pasta() {
	use_in_kernel
	PORT_SHIFT=1000
	SERVER=(ip netns exec obbench-pai)
	COST_PGS=("${NC_SPAWNED[pasta-obbench-pai]}")
}

# use ROW — the figures' globals for ROW.
use() {
	IPERF_PORT=${R_IPORT[$1]}
	TB_PORT=${R_TPORT[$1]}
	PORT_SHIFT=0
	SRV_BIND=0.0.0.0
	TCPBENCH=$TB_DYN
	COST_PGS=()
	"use_${1//-/_}"
}

# ready — a full exchange with both servers through the row's path (a published port or
# a port forwarder accepts on the host before the server behind it listens), bounded.
ready() {
	local i
	for i in $(seq 1 50); do
		timeout 5 "${CLIENT[@]}" "$TCPBENCH" connrate "$ADDR" "$((TB_PORT + PORT_SHIFT))" 1 1 >/dev/null 2>&1 &&
			timeout 10 "${CLIENT[@]}" iperf3 -c "$ADDR" -p "$((IPERF_PORT + PORT_SHIFT))" -n 1K >/dev/null 2>&1 &&
			return 0
		sleep 0.2
	done
	return 1
}

# start ROW — what the row needs, its servers, and a first exchange through it.
start() {
	local row=$1
	IPERF_PORT=${R_IPORT[$row]}
	TB_PORT=${R_TPORT[$row]}
	if ! "start_${row//-/_}"; then
		say "  $row: could not be set up; skipped"
		record "\"path\": \"$row\", \"mtu\": $MTU, \"test\": \"setup\", \"error\": \"setup failed\""
		return 1
	fi
	use "$row"
	spawn "iperf-$row" "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	spawn "tb-$row" "${SERVER[@]}" "$TCPBENCH" serve "$SRV_BIND:$TB_PORT"
	cmdlog "server-$row" "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	if ! ready; then
		say "  $row: servers unreachable; skipped"
		record "\"path\": \"$row\", \"mtu\": $MTU, \"test\": \"setup\", \"error\": \"servers unreachable\""
		return 1
	fi
}

# row_iperf ROW DIR REP — bench/lib.sh's iperf, which restarts a stuck server by the name
# iperf-srv: the row's server goes by that name for the call.
row_iperf() {
	NC_SPAWNED[iperf-srv]=${NC_SPAWNED[iperf-$1]}
	iperf "$1" "$MTU" 1 "$2" "$3" || true
	NC_SPAWNED[iperf-$1]=${NC_SPAWNED[iperf-srv]}
	unset 'NC_SPAWNED[iperf-srv]'
}

# ---------------------------------------------------------------------------------------
SECONDS=0
say "output: $OUT; iperf3 ${T}s × $REPS; veth MTU $MTU; rows: $ROWS"
ACTIVE=()
for row in $ROWS; do
	say "starting $row"
	start "$row" && ACTIVE+=("$row")
done
for rep in $(seq 1 "$REPS"); do
	for dir in $DIRS; do
		for row in "${ACTIVE[@]}"; do use "$row"; row_iperf "$row" "$dir" "$rep"; done
	done
	for row in "${ACTIVE[@]}"; do use "$row"; latency "$row" "$MTU"; done
	for row in "${ACTIVE[@]}"; do use "$row"; connrate "$row" "$MTU"; done
done
# What the services say after the run (the sockets passed to programs, the counts): kept
# beside the results, to see that the programs' sockets were the kernel's.
for n in O P; do
	[ -n "${NC_SERVICE[$n]:-}" ] || continue
	{ timeout 3 "$NETCON" status --socket "$(sock "$n")" 2>&1 || true; } | sed "s#$NC_TMP#\$TMP#g" >"$OUT/outbound-status-$n.txt"
done
say "measured in ${SECONDS}s"

pkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
{
	printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'cores\t%s\n' "$(nproc)"
	printf 'netcon\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	printf 'iperf3\t%s\n' "$(pkgv iperf3)"
	printf 'slirp4netns\t%s\n' "$(pkgv slirp4netns)"
	printf 'passt\t%s\n' "$(pkgv passt)"
	printf 'mode\t%s\n' "$([ "$SMOKE" = 1 ] && echo smoke || echo "iperf3 ${T} s x ${REPS}")"
	printf 'veth_mtu\t%s\n' "$MTU"
	printf 'duration\t%s s\n' "$SECONDS"
} >"$NC_TMP/machine.tsv"
cp "$RES" "$OUT/outbound.jsonl"
cp "$NC_TMP/machine.tsv" "$OUT/outbound-machine.tsv"
cp "$CMDS" "$OUT/outbound-commands.tsv"
# Regenerate by hand: python3 bench/report.py --outbound --results bench/results/outbound.jsonl
#   --machine bench/results/outbound-machine.tsv --commands bench/results/outbound-commands.tsv
#   --out bench/results --docs docs/benchmarks.md
python3 bench/report.py --outbound --results "$OUT/outbound.jsonl" --machine "$OUT/outbound-machine.tsv" \
	--commands "$OUT/outbound-commands.tsv" --out "$OUT" ${DOCS:+--docs "$DOCS"}
if [ "$SMOKE" = 1 ]; then
	[ -s "$OUT/outbound.md" ] || { echo "bench-ob smoke: outbound.md not written" >&2; exit 1; }
	if grep -q '"error"' "$RES"; then
		echo "bench-ob smoke: some figures failed:" >&2
		grep '"error"' "$RES" >&2
		exit 1
	fi
	echo "bench-ob smoke: ok"
fi
