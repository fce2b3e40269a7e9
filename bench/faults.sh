#!/usr/bin/env bash
# bench/faults.sh — TCP through a faulty link: the kernel beside netcon, same faults.
#
#   kernel   test_tx/test_rx, netns nfb-a ══ veth ══ netns nfb-b        (10.215.1.0/24)
#            5% (FB_LOSS) of the packets each namespace sends dropped (nftables `numgen random`;
#            this kernel has no netem, so loss is the only fault the kernel path gets)
#   netcon   test_tx/test_rx under service A ══ VXLAN over loopback ══ service B
#            (10.215.2.0/24), A with --link-fault on every frame it sends and receives,
#            so both directions get the same faults: "n-loss" = loss=5 (the kernel's
#            profile), "n-all" = loss=5,dup=1,reorder=1,corrupt=0.1 (tests/t_faults.sh's)
#   n-rtt    (once, not per seed) the round trip between the two services without faults
#            (tcpbench pingpong) and the loss-based bound it gives at FB_LOSS (Mathis et al.)
#   wireguard the same over WireGuard on loopback (keys from wg genkey), the faults on the
#            encrypted datagrams: "w-loss", "w-all" (not run unless FB_PATHS names them)
#
# One connection each way at once (as tests/t_faults.sh), FB_BYTES each way (default
# 64M), for each seed of FB_SEEDS (default "1 2 3"; the kernel's drops are random
# whatever the seed).
# Prints one line per run: path seed direction seconds Mbit/s, then the medians; netcon
# runs add the services' `tcp recovery:` counters. Nothing passes or fails. Needs root
# (installs nftables if it is missing).
# Environment: BUILD (default build), FB_BYTES, FB_SEEDS, FB_MTU (default 1500), FB_LOSS
# (percent, default 5; 0.1 steps), FB_PATHS (default "kernel n-loss n-all").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
NETCON=$PWD/$BUILD/netcon
TX=$PWD/$BUILD/test_tx
RX=$PWD/$BUILD/test_rx
TCPBENCH=$PWD/$BUILD/tcpbench
export NETCON_LIB=${NETCON_LIB:-$PWD/$BUILD/libnetcon.so}
BYTES=${FB_BYTES:-64M}
SEEDS=${FB_SEEDS:-1 2 3}
MTU=${FB_MTU:-1500}
LOSS=${FB_LOSS:-5}
PERMILLE=$(awk -v l="$LOSS" 'BEGIN { printf "%d", l * 10 + 0.5 }')
FB_PATHS=${FB_PATHS:-kernel n-loss n-all}
case ${1:-} in
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "bench/faults.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "bench/faults.sh: needs root (namespaces, netem)" >&2; exit 1; }
for f in "$NETCON" "$TX" "$RX" "$TCPBENCH" "$NETCON_LIB"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench/faults.sh: $f missing: run make" >&2; exit 1; }
done
command -v nft >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null

TMP=$(mktemp -d /tmp/faults_bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in nfb-a nfb-b; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# free_port — a TCP/UDP port nobody uses on the host now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_all SECS PID... — wait for the PIDs, at most SECS in all; 1 if any is still running.
wait_all() {
	local end=$((SECONDS + $1)) p; shift
	for p in "$@"; do
		while kill -0 "$p" 2>/dev/null; do
			[ $SECONDS -lt $end ] || return 1
			sleep 0.2
		done
	done
}
# secs LOG — the seconds test_tx reported ("tx: N bytes in S s, ...").
secs() { sed -n 's/^tx: [0-9]* bytes in \([0-9.]*\) s.*/\1/p' "$1"; }
mbits() { python3 -c "import sys; print('%.1f' % ($(numfmt --from=iec "$BYTES") * 8 / float(sys.argv[1]) / 1e6))" "$1"; }
# sums A B — the two logs' "bytes= sum=" lines must be equal.
same_sum() { [ "$(grep '^tx bytes=' "$1" | cut -c4-)" = "$(grep '^rx bytes=' "$2" | cut -c4-)" ]; }

RESULTS=$TMP/results
: >"$RESULTS"
report() { # path seed dir logtx logrx
	local s
	s=$(secs "$4")
	same_sum "$4" "$5" || { echo "bench/faults.sh: $1 seed $2 $3: checksums differ" >&2; exit 1; }
	printf '%-7s seed %-3s %-4s %8.2f s %8s Mbit/s\n' "$1" "$2" "$3" "$s" "$(mbits "$s")"
	echo "$1 $3 $(mbits "$s")" >>"$RESULTS"
}

run_kernel() {
	local seed=$1 p1 p2 pids=()
	ip netns add nfb-a; ip netns add nfb-b
	ip link add nfb0 netns nfb-a type veth peer name nfb1 netns nfb-b
	ip -n nfb-a addr add 10.215.1.1/24 dev nfb0; ip -n nfb-b addr add 10.215.1.2/24 dev nfb1
	ip -n nfb-a link set nfb0 mtu "$MTU" up; ip -n nfb-b link set nfb1 mtu "$MTU" up
	ip -n nfb-a link set lo up; ip -n nfb-b link set lo up
	# one frame per packet, as on netcon's link (GSO would make one loss ~45 frames)
	ip netns exec nfb-a ethtool -K nfb0 tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec nfb-b ethtool -K nfb1 tso off gso off gro off >/dev/null 2>&1 || true
	for n in nfb-a nfb-b; do
		ip netns exec $n nft add table inet nfb
		ip netns exec $n nft add chain inet nfb out '{ type filter hook output priority 0; }'
		ip netns exec $n nft add rule inet nfb out "numgen random mod 1000 < $PERMILLE drop"
	done
	p1=5201; p2=5202
	ip netns exec nfb-a "$RX" --listen "0.0.0.0:$p1" --count 1 >"$TMP/k-rxa" 2>&1 & PIDS+=($!); pids+=($!)
	ip netns exec nfb-b "$RX" --listen "0.0.0.0:$p2" --count 1 >"$TMP/k-rxb" 2>&1 & PIDS+=($!); pids+=($!)
	sleep 0.3
	ip netns exec nfb-b "$TX" --connect "10.215.1.1:$p1" --bytes "$BYTES" --seed "$seed" >"$TMP/k-txb" 2>&1 & PIDS+=($!); pids+=($!)
	ip netns exec nfb-a "$TX" --connect "10.215.1.2:$p2" --bytes "$BYTES" --seed "$((seed + 100))" >"$TMP/k-txa" 2>&1 & PIDS+=($!); pids+=($!)
	wait_all 1800 "${pids[@]}" || { echo "bench/faults.sh: kernel seed $seed did not finish" >&2; exit 1; }
	report kernel "$seed" b→a "$TMP/k-txb" "$TMP/k-rxa"
	report kernel "$seed" a→b "$TMP/k-txa" "$TMP/k-rxb"
	ip netns del nfb-a; ip netns del nfb-b
}

# wg_conf ME PEER MYPORT PEERPORT PEERIP — a wg(8) file for one side of a WireGuard pair.
wg_conf() {
	[ -s "$TMP/$1.key" ] || (umask 077 && wg genkey >"$TMP/$1.key")
	[ -s "$TMP/$2.key" ] || (umask 077 && wg genkey >"$TMP/$2.key")
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = 127.0.0.1:%s\n' \
		"$(cat "$TMP/$1.key")" "$3" "$(wg pubkey <"$TMP/$2.key")" "$5" "$4" >"$TMP/$1.conf"
}

# start_pair FAULTS NAME — services A and B (sockets $sa, $sb; pids $ia, $ib, the caller's
# locals), A with --link-fault FAULTS unless it is empty; WireGuard for w-* names.
start_pair() {
	local faults=$1 name=$2 pa pb la lb fault=()
	pa=$(free_port); pb=$(free_port)
	sa=$TMP/A.sock; sb=$TMP/B.sock
	la=(--bind "127.0.0.1:$pa" --peer "127.0.0.1:$pb")
	lb=(--bind "127.0.0.1:$pb" --peer "127.0.0.1:$pa")
	if [[ $name == w-* ]]; then
		wg_conf a b "$pa" "$pb" 10.215.2.2
		wg_conf b a "$pb" "$pa" 10.215.2.1
		la=(--link wireguard --wg-config "$TMP/a.conf")
		lb=(--link wireguard --wg-config "$TMP/b.conf")
	fi
	[ -z "$faults" ] || fault=(--link-fault "$faults")
	"$NETCON" service --ip 10.215.2.1/24 --socket "$sa" --mtu "$MTU" "${la[@]}" \
		${fault[@]+"${fault[@]}"} >"$TMP/svc-a" 2>&1 & ia=$!; PIDS+=($ia)
	"$NETCON" service --ip 10.215.2.2/24 --socket "$sb" --mtu "$MTU" "${lb[@]}" \
		>"$TMP/svc-b" 2>&1 & ib=$!; PIDS+=($ib)
	for _ in $(seq 50); do [ -S "$sa" ] && [ -S "$sb" ] && break; sleep 0.1; done
}

run_netcon() {
	local seed=$1 faults=$2 name=$3 p1 p2 sa sb ia ib pids=()
	start_pair "$faults,seed=$seed" "$name"
	p1=$(free_port); p2=$(free_port)
	"$NETCON" intercept --socket "$sa" -- "$RX" --listen "0.0.0.0:$p1" --count 1 >"$TMP/n-rxa" 2>&1 & PIDS+=($!); pids+=($!)
	"$NETCON" intercept --socket "$sb" -- "$RX" --listen "0.0.0.0:$p2" --count 1 >"$TMP/n-rxb" 2>&1 & PIDS+=($!); pids+=($!)
	sleep 0.5
	"$NETCON" intercept --socket "$sb" -- "$TX" --connect "10.215.2.1:$p1" --bytes "$BYTES" --seed "$seed" >"$TMP/n-txb" 2>&1 & PIDS+=($!); pids+=($!)
	"$NETCON" intercept --socket "$sa" -- "$TX" --connect "10.215.2.2:$p2" --bytes "$BYTES" --seed "$((seed + 100))" >"$TMP/n-txa" 2>&1 & PIDS+=($!); pids+=($!)
	wait_all 1800 "${pids[@]}" || { echo "bench/faults.sh: netcon seed $seed did not finish" >&2; exit 1; }
	report "$name" "$seed" b→a "$TMP/n-txb" "$TMP/n-rxa"
	report "$name" "$seed" a→b "$TMP/n-txa" "$TMP/n-rxb"
	printf '        A %s\n        B %s\n' \
		"$("$NETCON" status --socket "$sa" | grep '^tcp recovery:')" \
		"$("$NETCON" status --socket "$sb" | grep '^tcp recovery:')"
	[[ $name != w-* ]] || printf '        B %s\n' "$("$NETCON" status --socket "$sb" | grep '^wg dropped:')"
	kill "$ia" "$ib"; wait "$ia" "$ib" 2>/dev/null || true
}

# run_rtt — the round trip between the two services without faults (tcpbench pingpong,
# 20,000 one-byte exchanges), and the loss-based bound it gives at FB_LOSS (Mathis et al.:
# rate = MSS / RTT × C / √p, MSS = MTU - 40, with the mean RTT; C = 1.22 for an ACK per
# segment, √(3/4) for an ACK every second segment).
run_rtt() {
	local sa sb ia ib is p out
	start_pair "" n-rtt
	p=$(free_port)
	"$NETCON" intercept --socket "$sa" -- "$TCPBENCH" serve "0.0.0.0:$p" >"$TMP/rtt-srv" 2>&1 & is=$!; PIDS+=($is)
	sleep 0.5
	out=$(timeout 120 "$NETCON" intercept --socket "$sb" -- "$TCPBENCH" pingpong 10.215.2.1 "$p" 20000)
	kill "$is" "$ia" "$ib"; wait "$is" "$ia" "$ib" 2>/dev/null || true
	awk -v mtu="$MTU" -v loss="$LOSS" '{
		r = (mtu - 40) * 8 / ($3 * 1e-6) / sqrt(loss / 100) / 1e6
		printf "n-rtt   p50 %.1f us, p99 %.1f us, mean %.1f us: bound %.0f Mbit/s (C 1.22), %.0f (C 0.87)\n",
			$1, $2, $3, r * 1.22, r * sqrt(0.75) }' <<<"$out"
}

echo "bench/faults.sh: $BYTES each way, MTU $MTU, loss $LOSS%"
for path in $FB_PATHS; do
	for seed in $SEEDS; do
		case $path in
		kernel) run_kernel "$seed" ;;
		n-rtt) [ "$seed" != "${SEEDS%% *}" ] || run_rtt ;;
		n-loss) run_netcon "$seed" "loss=$LOSS" n-loss ;;
		n-all) run_netcon "$seed" "loss=$LOSS,dup=1,reorder=1,corrupt=0.1" n-all ;;
		w-loss) run_netcon "$seed" "loss=$LOSS" w-loss ;;
		w-all) run_netcon "$seed" "loss=$LOSS,dup=1,reorder=1,corrupt=0.1" w-all ;;
		*) echo "bench/faults.sh: unknown path $path (kernel, n-rtt, n-loss, n-all, w-loss, w-all)" >&2; exit 2 ;;
		esac
	done
done
echo "medians (Mbit/s, each direction):"
for path in $FB_PATHS; do
	[ "$path" != n-rtt ] || continue
	printf '  %-7s %s\n' "$path" "$(awk -v p="$path" '$1 == p { print $3 }' "$RESULTS" | sort -n |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
done
