#!/usr/bin/env bash
# t_kernel_vxlan.sh — interoperation with the Linux kernel's vxlan device (VNI 42).
#
#   ┌ netns nc-vxk-$$ (kernel side) ────────┐       ┌ netns nc-vxn-$$ (netcon side) ───────┐
#   │ vx0 10.89.0.1/24 mtu 1450, VNI 42      │       │ netcon service K 10.89.0.2/24         │
#   │     fd00:89::1/64                      │       │   --ip6 fd00:89::2/64                 │
#   │   vxlan local 10.89.255.1 dstport 4789 │       │   --vni 42 --mtu 1450                 │
#   │   fdb 00:00:00:00:00:00 → 10.89.255.2  │       │   --bind 10.89.255.2:4789             │
#   │ veth-k 10.89.255.1/30 ◄──── VXLAN/UDP ─┼─veth──┼─► veth-n 10.89.255.2/30             │
#   │ python3 http.server 10.89.0.1:$KP      │       │   --peer 10.89.255.1:4789             │
#   │ curl (kernel) → 10.89.0.2:$NP          │       │   control socket $TMP/K.sock ─┐       │
#   └────────────────────────────────────────┘       └───────────────────────────────┼───────┘
#                       host netns: programs under the intercept of K (by path) ─────┘
#                       curl → 10.89.0.1:$KP, python3 http.server 0.0.0.0:$NP
#
# Why two namespaces and a veth, not loopback: the kernel's vxlan does not encapsulate
# towards a local address; it hands the frame to a local vxlan device on that port
# ("local bypass", which Debian 12's iproute2 cannot turn off) and drops it if there is
# none. Across the veth the kernel really sends UDP. netcon listens on the standard port
# (4789, in its own namespace) because the kernel learns a remote MAC's IP only and
# sends unicast to that IP at its own dstport; the kernel's source port is a per-flow hash,
# not 4789. netcon learns the exact source port, and since the static peer 10.89.255.1:4789
# never sends from 4789 itself, every frame for the kernel's MACs also goes to 4789
# (src/link/fdb.c, "One address, several ports"); the status shows "copy to peer".
#
# The intercepted programs stay in the host namespace, where 10.89.0.0/24 is unreachable
# (guard route): only netcon can have carried their bytes, never a kernel route.
# Checks: (a) netcon client ← kernel server, (b) kernel client ← netcon server, files
# byte-exact both ways; the kernel resolved 10.89.0.2 by ARP over the VXLAN; (c) the same
# over IPv6 (fd00:89::1 kernel, fd00:89::2 netcon), resolved by neighbour discovery.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd ip bridge curl

nsk=nc-vxk-$$	# the kernel's vxlan
nsn=nc-vxn-$$	# netcon's service
VNI=42
VXPORT=4789	# the IANA VXLAN port (4790 is VXLAN-GPE); free in the new namespaces
netns_add "$nsk"
netns_add "$nsn"
log ip -n "$nsk" link add veth-k type veth peer name veth-n netns "$nsn"
log ip -n "$nsk" addr add 10.89.255.1/30 dev veth-k
log ip -n "$nsn" addr add 10.89.255.2/30 dev veth-n
log ip -n "$nsk" link set veth-k up
log ip -n "$nsn" link set veth-n up
if ! log ip -n "$nsk" link add vx0 type vxlan id "$VNI" local 10.89.255.1 dstport "$VXPORT" dev veth-k; then
	skip "the kernel cannot create a vxlan device"
fi
log bridge -n "$nsk" fdb append 00:00:00:00:00:00 dev vx0 dst 10.89.255.2 port "$VXPORT"
log ip -n "$nsk" addr add 10.89.0.1/24 dev vx0
log ip -n "$nsk" -6 addr add fd00:89::1/64 dev vx0 nodad
log ip -n "$nsk" link set vx0 mtu 1450 up
# Between namespaces on one host the kernel leaves the inner TCP checksum to "hardware"
# (veth checksum offload), and a UDP receiver in user space gets it unfinished. A real
# NIC would fill it in; here the kernel must compute it before encapsulating.
log ip netns exec "$nsk" ethtool -K vx0 tx off >/dev/null

start_service --netns "$nsn" K 10.89.0.2/24 --ip6 fd00:89::2/64 --bind "10.89.255.2:$VXPORT" \
	--peer "10.89.255.1:$VXPORT" --vni "$VNI" --mtu 1450

www=$NC_TMP/www
mkdir -p "$www"
head -c 1M /dev/urandom >"$www/small.bin"
head -c 20M /dev/urandom >"$www/big.bin"

# (a) kernel server in the namespace, curl under netcon in the host namespace.
KP=$(free_tcp_port)
spawn kweb ip netns exec "$nsk" "$PYTHON" -m http.server --bind 10.89.0.1 --directory "$www" "$KP"
wait_port "netns:$nsk" 10.89.0.1 "$KP"
for f in small.bin big.bin; do
	log under K curl -sS --fail --max-time 60 -o "$NC_TMP/a-$f" "http://10.89.0.1:$KP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/a-$f"
done

# (b) server under netcon in the host namespace, the kernel's curl in the namespace.
NP=$(free_tcp_port)
spawn_under K nweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$NP"
wait_port "netns:$nsk" 10.89.0.2 "$NP"
for f in small.bin big.bin; do
	log ip netns exec "$nsk" curl -sS --fail --max-time 60 -o "$NC_TMP/b-$f" "http://10.89.0.2:$NP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/b-$f"
done

neigh=$(log ip -n "$nsk" neigh show 10.89.0.2 dev vx0)
printf '    %s\n' "$neigh" >&2
assert_contains "$neigh" "lladdr" "kernel's neighbour entry for 10.89.0.2"

# (c) IPv6 both ways: neighbour discovery (multicast solicitations, flooded by netcon and
# sent by the kernel to its default remote) over the same VXLAN.
KP6=$(free_tcp_port)
spawn kweb6 ip netns exec "$nsk" "$PYTHON" -m http.server --bind fd00:89::1 --directory "$www" "$KP6"
wait_port "netns:$nsk" fd00:89::1 "$KP6"
log under K curl -sS -g --fail --max-time 60 -o "$NC_TMP/c-small.bin" "http://[fd00:89::1]:$KP6/small.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/c-small.bin"
NP6=$(free_tcp_port)
spawn_under K nweb6 "$PYTHON" -m http.server --bind :: --directory "$www" "$NP6"
NC_TIMEOUT=3 retry 75 ip netns exec "$nsk" curl -sS -g --max-time 2 -o /dev/null "http://[fd00:89::2]:$NP6/" ||
	fail "the kernel could not reach [fd00:89::2]:$NP6"
log ip netns exec "$nsk" curl -sS -g --fail --max-time 60 -o "$NC_TMP/d-big.bin" "http://[fd00:89::2]:$NP6/big.bin"
assert_files_equal "$www/big.bin" "$NC_TMP/d-big.bin"
neigh=$(log ip -n "$nsk" -6 neigh show fd00:89::2 dev vx0)
printf '    %s\n' "$neigh" >&2
assert_contains "$neigh" "lladdr" "kernel's neighbour entry for fd00:89::2"
log bridge -n "$nsk" fdb show dev vx0 >&2
log ip -n "$nsk" -s link show vx0 >&2

st=$(status K)
assert_contains "$st" "copy to peer 10.89.255.1:$VXPORT" "kernel MAC learned with a copy to its peer"
note "PASS"
