#!/usr/bin/env bash
# bench/tap_quick.sh — single-stream iperf3 through the TAP path and kernel veth only, for
# quick A/B comparisons while working on the TAP link (the full table is bench/run.sh).
#
#   veth   kernel, netns tq-va ══ veth ══ kernel, netns tq-vb        (10.214.1.0/24)
#   tap    under netcon (host netns) ── service in netns tq-tap ── tap0 ── kernel iperf3 -s
#                                                                     (10.214.2.0/24)
#   (names and subnets with the defaults of TQ_NS and TQ_NET)
#
# Usage: bench/tap_quick.sh [--help] [MTU...]   (default: 1500 65521; veth uses min(MTU, 65535))
# Environment: NETCON (binary to test, default build/netcon), TQ_TIME (s, default 5),
# TQ_REPS (default 2), TQ_PATHS (default "veth tap"), TQ_DIRS (default "send recv"),
# TQ_PERF=FILE (perf record the service during the tap runs, one file per MTU and
# direction), TQ_NS (prefix of the namespaces, default tq) and TQ_NET (the /16 whose 1 and
# 2 /24s the paths use, default 10.214): two people running it at once give each their own.
# Prints one line per run: path mtu dir Gbit/s (receiver's rate). Needs root. Nothing
# leaves the machine: the subnet is unreachable in the host netns while it runs.
set -euo pipefail
case ${1:-} in
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
cd "$(dirname "$0")/.."
NETCON=${NETCON:-build/netcon}
export NETCON_LIB=${NETCON_LIB:-$PWD/build/libnetcon.so}
T=${TQ_TIME:-5}
REPS=${TQ_REPS:-2}
PATHS=${TQ_PATHS:-veth tap}
DIRS=${TQ_DIRS:-send recv}
NS=${TQ_NS:-tq}
NET=${TQ_NET:-10.214}
MTUS=${*:-1500 65521}
for m in $MTUS; do
	case $m in
	''|*[!0-9]*) echo "bench/tap_quick.sh: '$m' is not an MTU (see --help)" >&2; exit 2 ;;
	esac
done
TMP=$(mktemp -d /tmp/tap_quick.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$NS-va" "$NS-vb" "$NS-tap"; do ip netns del "$n" 2>/dev/null || true; done
	ip route del unreachable "$NET.2.0/24" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

rate() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$1"; }
gib() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["end"]["sum_received"]["bytes"]/2**30)' "$1"; }
# ticks PID — user+system clock ticks of a process.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

run_veth() {
	local mtu=$1 m=$1
	[ "$m" -gt 65535 ] && m=65535
	ip netns add "$NS-va"; ip netns add "$NS-vb"
	ip -n "$NS-va" link add v0 type veth peer name v1 netns "$NS-vb"
	ip -n "$NS-va" addr add "$NET.1.1/24" dev v0; ip -n "$NS-vb" addr add "$NET.1.2/24" dev v1
	ip -n "$NS-va" link set v0 mtu "$m" up; ip -n "$NS-vb" link set v1 mtu "$m" up
	ip -n "$NS-va" link set lo up; ip -n "$NS-vb" link set lo up
	ip netns exec "$NS-vb" iperf3 -s -4 -p 5301 >/dev/null 2>&1 & PIDS+=($!)
	sleep 0.5
	for r in $(seq "$REPS"); do
		for dir in $DIRS; do
			local R=""; [ $dir = recv ] && R=-R
			ip netns exec "$NS-va" iperf3 -c "$NET.1.2" -p 5301 -t "$T" -J $R >"$TMP/o.json"
			echo "veth $m $dir $(rate "$TMP/o.json")"
		done
	done
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
	ip netns del "$NS-va"; ip netns del "$NS-vb"
}

run_tap() {
	local mtu=$1 sp
	ip netns add "$NS-tap"
	ip -n "$NS-tap" link set lo up
	ip -n "$NS-tap" tuntap add tap0 mode tap
	ip -n "$NS-tap" addr add "$NET.2.1/24" dev tap0
	ip -n "$NS-tap" link set tap0 mtu "$mtu" up
	ip route add unreachable "$NET.2.0/24" 2>/dev/null || true
	rm -f "$TMP/T.sock"
	ip netns exec "$NS-tap" "$NETCON" service --ip "$NET.2.2/24" --socket "$TMP/T.sock" \
		--link tap --tap tap0 --mtu "$mtu" >"$TMP/svc.log" 2>&1 & sp=$!; PIDS+=($sp)
	for _ in $(seq 100); do [ -S "$TMP/T.sock" ] && break; sleep 0.05; done
	ip netns exec "$NS-tap" iperf3 -s -4 -p 5302 >/dev/null 2>&1 & PIDS+=($!)
	sleep 0.5
	local svcpid
	svcpid=$(pgrep -P "$sp" -x netcon || echo "$sp")
	for r in $(seq "$REPS"); do
		for dir in $DIRS; do
			local R=""; [ $dir = recv ] && R=-R
			local pp=""
			if [ -n "${TQ_PERF:-}" ] && [ "$r" = 1 ]; then
				perf record -g -o "${TQ_PERF}.$mtu.$dir" -p "$svcpid" -- sleep "$((T - 1))" \
					>/dev/null 2>&1 &
				pp=$!
			fi
			local t0 t1
			t0=$(ticks "$svcpid")
			"$NETCON" intercept --socket "$TMP/T.sock" -- iperf3 -c "$NET.2.1" -p 5302 \
				-t "$T" -J $R >"$TMP/o.json"
			t1=$(ticks "$svcpid")
			[ -n "$pp" ] && { wait "$pp" 2>/dev/null || true; }
			echo "tap $mtu $dir $(rate "$TMP/o.json") service-cpu-s/GiB $(python3 -c "print('%.2f' % (($t1 - $t0) / $(getconf CLK_TCK) / $(gib "$TMP/o.json")))")"
		done
	done
	kill "${PIDS[-1]}" "$sp"; wait 2>/dev/null || true
	PIDS=()
	if grep -q "Sanitizer\|runtime error\|assertion" "$TMP/svc.log"; then
		echo "tap_quick: the service reported:" >&2
		cat "$TMP/svc.log" >&2
	fi
	ip netns del "$NS-tap"
	ip route del unreachable "$NET.2.0/24" 2>/dev/null || true
}

for mtu in $MTUS; do
	for p in $PATHS; do "run_$p" "$mtu"; done
done
