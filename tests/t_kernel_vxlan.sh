#!/usr/bin/env bash
# t_kernel_vxlan.sh — interoperation with the Linux kernel's vxlan device (VNI 42).
#
#   ┌ netns nc-vx-$$ ──────────────────────────────────────────────────────────┐
#   │  kernel: vx0 10.89.0.1/24, mtu 1450          netcon service K            │
#   │    vxlan id 42 local 127.0.0.1 dstport 4790   10.89.0.2/24, --vni 42     │
#   │    fdb 00:00:00:00:00:00 → 127.0.0.1:$VP      udp 127.0.0.1:$VP          │
#   │  lo: 127.0.0.1:4790 ◄──────────── VXLAN ──────────► 127.0.0.1:$VP        │
#   │  python3 http.server 10.89.0.1:$KP (kernel)   (control socket $TMP/K.sock)│
#   │  curl (kernel) → 10.89.0.2:$NP                                           │
#   └───────────────────────────────────────────────────────┼──────────────────┘
#                        host netns: programs under the intercept of K (by path):
#                        curl → 10.89.0.1:$KP, python3 http.server 0.0.0.0:$NP
#
# The intercepted programs stay in the host namespace, where 10.89.0.0/24 is unreachable
# (guard route): only netcon can have carried their bytes, never the kernel's route.
# Checks: (a) netcon client ← kernel server, (b) kernel client ← netcon server, files
# byte-exact both ways; the kernel resolved 10.89.0.2 by ARP over the VXLAN.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd ip bridge curl

ns=nc-vx-$$
VNI=42
KVX_PORT=4790
netns_add "$ns"
if ! log ip -n "$ns" link add vx0 type vxlan id "$VNI" local 127.0.0.1 dstport "$KVX_PORT" dev lo; then
	skip "the kernel cannot create a vxlan device"
fi
VP=$(free_udp_port)	# netcon's port; any port is free in the new namespace
log bridge -n "$ns" fdb append 00:00:00:00:00:00 dev vx0 dst 127.0.0.1 port "$VP"
log ip -n "$ns" addr add 10.89.0.1/24 dev vx0
log ip -n "$ns" link set vx0 mtu 1450 up

start_service --netns "$ns" K 10.89.0.2/24 --bind "127.0.0.1:$VP" --peer "127.0.0.1:$KVX_PORT" \
	--vni "$VNI" --mtu 1450

www=$NC_TMP/www
mkdir -p "$www"
head -c 1M /dev/urandom >"$www/small.bin"
head -c 20M /dev/urandom >"$www/big.bin"

# (a) kernel server in the namespace, curl under netcon in the host namespace.
KP=$(free_tcp_port)
spawn kweb ip netns exec "$ns" "$PYTHON" -m http.server --bind 10.89.0.1 --directory "$www" "$KP"
wait_port "netns:$ns" 10.89.0.1 "$KP"
for f in small.bin big.bin; do
	log under K curl -sS --fail --max-time 60 -o "$NC_TMP/a-$f" "http://10.89.0.1:$KP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/a-$f"
done

# (b) server under netcon in the host namespace, the kernel's curl in the namespace.
NP=$(free_tcp_port)
spawn_under K nweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$NP"
wait_port "netns:$ns" 10.89.0.2 "$NP"
for f in small.bin big.bin; do
	log ip netns exec "$ns" curl -sS --fail --max-time 60 -o "$NC_TMP/b-$f" "http://10.89.0.2:$NP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/b-$f"
done

neigh=$(log ip -n "$ns" neigh show 10.89.0.2 dev vx0)
printf '    %s\n' "$neigh" >&2
assert_contains "$neigh" "lladdr" "kernel's neighbour entry for 10.89.0.2"
log bridge -n "$ns" fdb show dev vx0 >&2
log ip -n "$ns" -s link show vx0 >&2

status K
note "PASS"
