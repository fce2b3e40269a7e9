#!/usr/bin/env bash
# t_tap.sh — the tap link: a netcon service attached to a TAP device whose other side is
# the kernel of a namespace the test creates.
#
#   ┌ netns nc-tap-$$ ─────────────────────────────────────────────────────┐
#   │  kernel: tap0 10.90.0.1/24  ◄── frames ──►  netcon service T          │
#   │                                              --link tap --tap tap0    │
#   │  python3 http.server 10.90.0.1:$KP (kernel)  10.90.0.2/24             │
#   │  curl (kernel) → 10.90.0.2:$NP               (control socket $TMP/T.sock)
#   └──────────────────────────────────────────────────────┼────────────────┘
#                        host netns: programs under the intercept of T (by path):
#                        curl → 10.90.0.1:$KP, python3 http.server 0.0.0.0:$NP
#
# As in t_kernel_vxlan.sh, the intercepted programs stay in the host namespace where
# 10.90.0.0/24 is unreachable, so only netcon can have carried their bytes.
# Checks: files byte-exact in both directions and from T to itself (lwIP's loopback); the
# kernel resolved 10.90.0.2 over tap0.
# Offloads (virtio-net headers: TSO super-frames both ways, partial checksums) are on.
# Then service F replaces T on the same device with --link-fault (loss, reorder, dup,
# corruption on every TAP frame, offloads off): 1 MiB each way with the kernel
# (test_tx/test_rx, checksummed) must arrive intact and the faults must have happened.
# Last, unit_tap runs on a second device tap1 (GSO frames checked on a
# packet socket).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd ip curl
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

ns=nc-tap-$$
netns_add "$ns"
tap_add "$ns" tap0 10.90.0.1/24

start_service --netns "$ns" T 10.90.0.2/24 --link tap --tap tap0
log ip -n "$ns" -o link show tap0 >&2

www=$NC_TMP/www
mkdir -p "$www"
head -c 1M /dev/urandom >"$www/small.bin"
head -c 20M /dev/urandom >"$www/big.bin"

# Kernel client → server under netcon.
NP=$(free_tcp_port)
spawn_under T nweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$NP"
wait_port "netns:$ns" 10.90.0.2 "$NP"
for f in small.bin big.bin; do
	log ip netns exec "$ns" curl -sS --fail --max-time 60 -o "$NC_TMP/k-$f" "http://10.90.0.2:$NP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/k-$f"
done

# Client under netcon → server under netcon, looped back inside lwIP (with TCP checksums
# left to the TAP link, such frames carry none).
log under T curl -sS --fail --max-time 60 -o "$NC_TMP/l-big.bin" "http://10.90.0.2:$NP/big.bin"
assert_files_equal "$www/big.bin" "$NC_TMP/l-big.bin"

# Client under netcon → kernel server.
KP=$(free_tcp_port)
spawn kweb ip netns exec "$ns" "$PYTHON" -m http.server --bind 10.90.0.1 --directory "$www" "$KP"
wait_port "netns:$ns" 10.90.0.1 "$KP"
for f in small.bin big.bin; do
	log under T curl -sS --fail --max-time 60 -o "$NC_TMP/n-$f" "http://10.90.0.1:$KP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/n-$f"
done

neigh=$(log ip -n "$ns" neigh show 10.90.0.2 dev tap0)
printf '    %s\n' "$neigh" >&2
assert_contains "$neigh" "lladdr" "kernel's neighbour entry for 10.90.0.2"
log ip -n "$ns" -s link show tap0 >&2

st=$(status T)
printf '%s\n' "$st" >&2
assert_contains "$st" "offloads rx-csum rx-gso tx-csum tx-gso" "service T's offloads"
stop_service T

require_built "$TEST_TX" "$TEST_RX"
start_service --netns "$ns" F 10.90.0.2/24 --link tap --tap tap0 \
	--link-fault "loss=3,reorder=1,dup=1,corrupt=0.5,seed=7"
P1=$(free_tcp_port)
P2=$(free_tcp_port)
spawn_under F frx "$TEST_RX" --listen "0.0.0.0:$P1" --count 1
spawn krx ip netns exec "$ns" "$TEST_RX" --listen "10.90.0.1:$P2" --count 1
sleep 0.5
spawn ktx ip netns exec "$ns" "$TEST_TX" --connect "10.90.0.2:$P1" --bytes 1M --seed 3
spawn_under F ftx "$TEST_TX" --connect "10.90.0.1:$P2" --bytes 1M --seed 4
for p in ktx ftx frx krx; do
	wait_exit "${NC_SPAWNED[$p]}" 120 || fail "$p did not finish (rc $?): $(logtail "$p")"
done
assert_eq "$(grep '^tx bytes=' "$NC_TMP/ktx.log" | cut -c4-)" \
	"$(grep '^rx bytes=' "$NC_TMP/frx.log" | cut -c4-)" "kernel→F bytes and checksum through faults"
assert_eq "$(grep '^tx bytes=' "$NC_TMP/ftx.log" | cut -c4-)" \
	"$(grep '^rx bytes=' "$NC_TMP/krx.log" | cut -c4-)" "F→kernel bytes and checksum through faults"
st=$("$NETCON" status --socket "$(sock F)")
faults=$(printf '%s\n' "$st" | grep '^faults:')
note "$faults"
case $faults in
*"tx lost 0 "* | *"rx lost 0 "*) fail "no frame was lost: the faults were not injected" ;;
esac
assert_contains "$st" "link tap tap0 mtu 1500"$'\n' "no offloads with --link-fault"
stop_service F

# The link alone (unit_tap) on a second device: ARP with the kernel, and
# runs of IPv4/IPv6 TCP segments that must reach the kernel as one GSO frame each.
log ip -n "$ns" link set lo up
tap_add "$ns" tap1 10.9.0.1/24
out=$(log ip netns exec "$ns" env NETCON_TEST_TAP=tap1 NETCON_TEST_TAP_IP=10.9.0.1 \
	"$BUILD/unit_tap" 2>&1) || fail "unit_tap on tap1 failed: $(printf '%s' "$out" | grep -v '^ok')"
printf '%s\n' "$out" | grep '^ok    tap' >&2
assert_contains "$out" "ok    tap IPv6 run merged into one frame" "unit_tap on tap1"
note "PASS"
