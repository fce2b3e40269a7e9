#!/usr/bin/env bash
# t_badframes.sh — malformed frames from the link are dropped and counted; traffic goes on.
#
#   python3 (plain UDP, not under netcon) ──garbage──► service A's VXLAN port
#   test_tx under B ──────────── 16 MiB ────────────► test_rx under A   (at the same time)
#
# Sent: datagrams too short for a VXLAN header, wrong flags, wrong VNI, a VXLAN header with
# a truncated Ethernet frame, and well-framed Ethernet carrying broken IPv4/TCP (bad
# lengths, bad checksums, random bytes). Checks: the service's rx dropped counter counts
# the link-level garbage, the transfer's checksum is right, the service still answers and
# exits 0 on SIGTERM.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$TEST_TX" "$TEST_RX"
start_pair 10.88.0
P=$(free_tcp_port)
spawn_under A rx "$TEST_RX" --listen "0.0.0.0:$P" --count 2
wait_port B 10.88.0.1 "$P"
spawn_under B tx "$TEST_TX" --connect "10.88.0.1:$P" --bytes 16M --seed 5

out=$(log "$PYTHON" - "$PORT_A" <<'PY'
import os, random, socket, struct, sys
port = int(sys.argv[1]); random.seed(11)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("127.0.0.1", port)
hdr = lambda vni, flags=0x08: struct.pack("!B3xI", flags, vni << 8)
link_bad = 0
for n in range(0, 8):                       # too short for a VXLAN header
    s.sendto(os.urandom(n), dst); link_bad += 1
for _ in range(50):
    s.sendto(hdr(1, 0x00) + os.urandom(60), dst); link_bad += 1   # I flag missing
    s.sendto(hdr(7) + os.urandom(60), dst); link_bad += 1         # wrong VNI
    s.sendto(hdr(1) + os.urandom(random.randint(0, 13)), dst); link_bad += 1  # no Ethernet
bcast = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x99"
for _ in range(300):                         # framed, but broken inside
    ip = bytearray(os.urandom(random.randint(20, 200)))
    ip[0] = 0x45; ip[9] = 6
    s.sendto(hdr(1) + bcast + b"\x08\x00" + bytes(ip), dst)
    s.sendto(hdr(1) + bcast + b"\x08\x06" + os.urandom(random.randint(0, 40)), dst)
    s.sendto(hdr(1) + bcast + os.urandom(2) + os.urandom(random.randint(0, 1500)), dst)
print(link_bad)
PY
)
link_bad=$out
wait_exit "${NC_SPAWNED[tx]}" 60 || fail "test_tx did not finish: $(logtail tx)"
wait_exit "${NC_SPAWNED[rx]}" 60 || fail "test_rx did not finish: $(logtail rx)"
txl=$(grep '^tx bytes=' "$NC_TMP/tx.log")
rxl=$(grep '^rx bytes=16777216 ' "$NC_TMP/rx.log" || true)
assert_eq "${txl#tx }" "${rxl#rx }" "transfer during the garbage"
st=$("$NETCON" status --socket "$(sock A)")
dropped=$(printf '%s\n' "$st" | sed -n 's/.*rx dropped \([0-9]*\),.*/\1/p')
note "link-level garbage sent: $link_bad, rx dropped: $dropped"
[ "$dropped" -ge "$link_bad" ] || fail "rx dropped $dropped < $link_bad malformed datagrams sent"
stop_service A
