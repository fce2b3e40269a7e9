#!/usr/bin/env bash
# t_isn.sh — the initial sequence numbers of a service's connections cannot be predicted
# from each other (RFC 6528; src/service/isn.c, docs/security.md).
#
#   python3 under A ── connect() × 37 ──► service A 10.96.0.1 ══ VXLAN ══► peer.py
#                                         (127.0.0.1:PORT_A)    (plain UDP, not netcon:
#                                                                10.96.0.2, answers ARP,
#                                                                records each SYN, RST)
#
# The peer is a few lines of python speaking VXLAN on a UDP socket: it sees the SYNs as
# they leave the service, with no privilege. Checks: (1) 32 connections on successive
# ephemeral ports: at most 8 of the 31 successive ISN differences are below 2^24 in
# magnitude (random ISNs: ~0.24 expected; lwIP's own counter: all 31); (2) 5 connections
# of one four-tuple (the same local port bound again), 0.2 s apart: the ISN advances by
# the time between the SYNs in 4 µs ticks (±50 ms), as RFC 6528's clock M makes it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PORT_A=$(free_udp_port)
PORT_P=$(free_udp_port)
start_service A 10.96.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_P"

cat >"$NC_TMP/peer.py" <<'PY'
import socket, struct, sys, time
port, want, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
MY_MAC = bytes.fromhex("020000000099")
MY_IP = socket.inet_aton("10.96.0.2")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(0.5)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while n >> 16:
        n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff

syns, seen = [], set()
deadline = time.monotonic() + 60
while len(syns) < want and time.monotonic() < deadline:
    try:
        d, src = s.recvfrom(65536)
    except socket.timeout:
        continue
    if len(d) < 8 + 14 or d[0] & 0x08 == 0:
        continue
    vx, eth = d[:8], d[8:]
    dst, smac, etype = eth[:6], eth[6:12], struct.unpack("!H", eth[12:14])[0]
    if etype == 0x0806 and len(eth) >= 42:          # ARP request for us: answer
        op = struct.unpack("!H", eth[20:22])[0]
        if op == 1 and eth[38:42] == MY_IP:
            arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + MY_MAC + MY_IP + eth[22:28] + eth[28:32]
            s.sendto(vx + smac + MY_MAC + b"\x08\x06" + arp, src)
        continue
    if etype != 0x0800 or dst != MY_MAC:
        continue
    ip = eth[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or ip[16:20] != MY_IP:
        continue
    tcp = ip[ihl:]
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
    if flags & 0x12 != 0x02:                        # SYN without ACK
        continue
    if (sport, seq) not in seen:                    # not a retransmission
        seen.add((sport, seq))
        syns.append((sport, seq, time.monotonic_ns() // 1000))
    # RST|ACK: connect() fails at once with ECONNREFUSED
    th = struct.pack("!HHIIBBHHH", dport, sport, 0, (seq + 1) & 0xffffffff, 5 << 4, 0x14, 0, 0, 0)
    ph = MY_IP + ip[12:16] + struct.pack("!BBH", 0, 6, len(th))
    th = th[:16] + struct.pack("!H", csum(ph + th)) + th[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(th), 0, 0, 64, 6, 0, MY_IP, ip[12:16])
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    s.sendto(vx + smac + MY_MAC + b"\x08\x00" + iph + th, src)
with open(out, "w") as f:
    for sport, seq, t in syns:
        f.write("%d %d %d\n" % (sport, seq, t))
print("peer: %d SYNs" % len(syns))
PY

spawn peer "$PYTHON" "$NC_TMP/peer.py" "$PORT_P" 37 "$NC_TMP/syns.txt"
LPORT=$(free_tcp_port)
under A "$PYTHON" - "$LPORT" <<'PY' || fail "the client under A failed"
import socket, sys, time
lport = int(sys.argv[1])
def attempt(bind_port=None):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(10)
    if bind_port:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("10.96.0.1", bind_port))
    try:
        c.connect(("10.96.0.2", 7))
        sys.exit("connected: the peer never accepts")
    except ConnectionRefusedError:
        pass
    c.close()
for _ in range(32):             # successive ephemeral ports
    attempt()
for _ in range(5):              # one four-tuple
    time.sleep(0.2)
    attempt(lport)
print("client: 37 connections refused")
PY
wait_exit "${NC_SPAWNED[peer]}" 70 || fail "the peer did not finish: $(logtail peer)"
[ "$(wc -l <"$NC_TMP/syns.txt")" = 37 ] || fail "peer saw $(wc -l <"$NC_TMP/syns.txt") SYNs, want 37"

out=$("$PYTHON" - "$NC_TMP/syns.txt" "$LPORT" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
lport = int(sys.argv[2])
def d(a, b):
    x = (b - a) & 0xffffffff
    return x - (1 << 32) if x >= 1 << 31 else x
eph, same = rows[:32], rows[32:]
print("ISNs (ephemeral ports): " + " ".join("%d:%d" % (p, s) for p, s, _ in eph[:8]) + " ...")
close = sum(1 for a, b in zip(eph, eph[1:]) if abs(d(a[1], b[1])) < 1 << 24)
print("successive ISNs within 2^24 of each other: %d of 31" % close)
ok = close <= 8
if any(p != lport for p, _, _ in same):
    print("the same-tuple SYNs came from ports %s, not %d" % ([p for p, _, _ in same], lport)); ok = False
for a, b in zip(same, same[1:]):
    ticks = d(a[1], b[1]); us = b[2] - a[2]
    print("same tuple: ISN +%d (%.1f ms of 4 us ticks), SYNs %.1f ms apart" % (ticks, ticks * 0.004, us / 1000))
    if abs(ticks * 4 - us) > 50000:
        ok = False
print("ok" if ok else "FAILED")
PY
)
note "$out"
assert_contains "$out" "
ok" "ISNs unpredictable across tuples, advancing with the clock within one"
stop_service A
