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
# Checks: files byte-exact in both directions; the kernel resolved 10.90.0.2 over tap0.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd ip curl
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

ns=nc-tap-$$
netns_add "$ns"
log ip -n "$ns" tuntap add tap0 mode tap || skip "cannot create a tap device"
log ip -n "$ns" addr add 10.90.0.1/24 dev tap0
log ip -n "$ns" link set tap0 up

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

status T
note "PASS"
