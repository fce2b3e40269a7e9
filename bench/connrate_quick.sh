#!/usr/bin/env bash
# bench/connrate_quick.sh — connection rate only (build/tcpbench connrate: connect →
# 64-byte exchange → close, repeated), kernel veth beside the TAP and VXLAN paths of
# bench/run.sh, alternating within each repetition, for before/after comparisons of the
# connect, accept and close paths (the full table is bench/run.sh).
#
#   veth   kernel, netns NS-va ══ veth ══ kernel, netns NS-vb              (NET.1.0/24)
#   tap    under netcon ── service in netns NS-tap ── NS-tap0 ── kernel server   (NET.2.0/24)
#   vxlan  under netcon A ══ VXLAN over loopback ══ netcon B ── server under B (NET.3.0/24)
#
# Usage: bench/connrate_quick.sh [--strace DIR] [--wakeups] [--help]
#   --strace DIR  instead of rates: `strace -f -c` of the client and of each service over
#                 CR_COUNT connections per netcon path, summaries in DIR.
#   --wakeups     instead of rates: voluntary context switches (times a process slept and
#                 was woken) per connection, of the client and of each service, over
#                 CR_COUNT connections per path.
# Environment: BUILD (the build to measure: its netcon, libnetcon.so and tcpbench; default
# build), CR_SECS (s per run, default 3), CR_REPS (default 3), CR_COUNT (connections of
# --strace and --wakeups, default 2000), CR_NET (a /16 prefix, default 10.172), CR_NS (the
# prefix of the namespaces' and devices' names, default ncr), CR_PATHS (default "veth tap
# vxlan"). Two runs at once need different CR_NET and CR_NS.
# Prints one line per run: path conns/s, then each path's median and its ratio to veth's.
# Needs root. Nothing leaves the machine: lib.sh guards every subnet.
set -euo pipefail
case ${1:-} in
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh
. tests/lib.sh
export NETCON_LIB=${NETCON_LIB:-$BUILD/libnetcon.so}
TCPBENCH=$BUILD/tcpbench
SECS=${CR_SECS:-3}
REPS=${CR_REPS:-3}
COUNT=${CR_COUNT:-2000}
NETP=${CR_NET:-10.172}
PATHS=${CR_PATHS:-veth tap vxlan}
NS=${CR_NS:-ncr}
STRACE="" WAKEUPS=0
while [ $# -gt 0 ]; do
	case $1 in
	--strace) STRACE=$2; shift ;;
	--wakeups) WAKEUPS=1 ;;
	*) echo "connrate_quick: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
require_root
[ -z "$STRACE" ] || mkdir -p "$STRACE"
PORT=5400

netns_add "$NS-va"
netns_add "$NS-vb"
log ip link add "$NS-veth0" netns "$NS-va" type veth peer name "$NS-veth1" netns "$NS-vb"
log ip -n "$NS-va" addr add "$NETP.1.1/24" dev "$NS-veth0"
log ip -n "$NS-vb" addr add "$NETP.1.2/24" dev "$NS-veth1"
log ip -n "$NS-va" link set "$NS-veth0" up
log ip -n "$NS-vb" link set "$NS-veth1" up
spawn srv-veth ip netns exec "$NS-vb" "$TCPBENCH" serve "$NETP.1.2:$PORT"

netns_add "$NS-tap"
log ip -n "$NS-tap" tuntap add "$NS-tap0" mode tap
log ip -n "$NS-tap" addr add "$NETP.2.1/24" dev "$NS-tap0"
log ip -n "$NS-tap" link set "$NS-tap0" up
start_service --netns "$NS-tap" T "$NETP.2.2/24" --link tap --tap "$NS-tap0" --log-level warn
spawn srv-tap ip netns exec "$NS-tap" "$TCPBENCH" serve "$NETP.2.1:$PORT"

start_pair "$NETP.3" --log-level warn
spawn srv-vxlan "$NETCON" intercept --socket "$(sock B)" -- "$TCPBENCH" serve "$NETP.3.2:$PORT"
sleep 1

client() {	# client PATH — the command prefix of PATH's client
	case $1 in
	veth) echo ip netns exec "$NS-va" ;;
	tap) echo "$NETCON" intercept --socket "$(sock T)" -- ;;
	vxlan) echo "$NETCON" intercept --socket "$(sock A)" -- ;;
	esac
}
addr() { case $1 in veth) echo "$NETP.1.2" ;; tap) echo "$NETP.2.1" ;; vxlan) echo "$NETP.3.2" ;; esac; }
# The pid of the netcon service itself (ip netns exec execs it: same pid).
svcpids() { case $1 in tap) echo "${NC_SERVICE[T]}" ;; vxlan) echo "${NC_SERVICE[A]} ${NC_SERVICE[B]}" ;; esac; }

if [ -n "$STRACE" ]; then
	for p in $PATHS; do
		[ "$p" = veth ] && continue
		sp=()
		for pid in $(svcpids "$p"); do
			strace -c -p "$pid" -o "$STRACE/$p-svc-$pid.txt" & sp+=($!)
		done
		sleep 0.5
		# shellcheck disable=SC2046
		strace -f -c -o "$STRACE/$p-client.txt" $(client "$p") "$TCPBENCH" connrate "$(addr "$p")" "$PORT" "$COUNT" 60
		for x in "${sp[@]}"; do kill -INT "$x"; wait "$x" || true; done
	done
	exit 0
fi

vcs() { awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status"; }
if [ "$WAKEUPS" = 1 ]; then
	for p in $PATHS; do
		declare -A before=()
		for pid in $(svcpids "$p"); do before[$pid]=$(vcs "$pid"); done
		# shellcheck disable=SC2046
		c=$(/usr/bin/time -f %w $(client "$p") "$TCPBENCH" connrate "$(addr "$p")" "$PORT" "$COUNT" 60 2>&1 >/dev/null | tail -1)
		line="$p: client $(awk -v a="$c" -v n="$COUNT" 'BEGIN { printf "%.1f", a / n }')"
		for pid in $(svcpids "$p"); do
			line+=" service $(awk -v a="$(vcs "$pid")" -v b="${before[$pid]}" -v n="$COUNT" 'BEGIN { printf "%.1f", (a - b) / n }')"
		done
		echo "wake-ups per connection, $line"
	done
	exit 0
fi

declare -A R
for _ in $(seq "$REPS"); do
	for p in $PATHS; do
		# shellcheck disable=SC2046
		if ! out=$(timeout 60 $(client "$p") "$TCPBENCH" connrate "$(addr "$p")" "$PORT" 10000000 "$SECS" 2>&1) ||
		   ! [[ $out =~ ^[0-9]+\ [0-9]+$ ]]; then
			echo "connrate_quick: $p failed: $out" >&2
			exit 1
		fi
		echo "$p ${out% *}"
		R[$p]="${R[$p]:-} ${out% *}"
	done
done
med() {	# med "N N N" — the median of the numbers
	# shellcheck disable=SC2086 # split on purpose
	printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
base=$(med "${R[veth]:-0}")
for p in $PATHS; do
	m=$(med "${R[$p]}")
	echo "median $p $m/s $(awk -v a="$m" -v b="$base" 'BEGIN { if (b > 0) printf "%.2fx veth", a / b }')"
done
