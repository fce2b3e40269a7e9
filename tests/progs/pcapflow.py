#!/usr/bin/env python3
"""pcapflow.py — read a pcap file (libpcap format, Ethernet) and write one TCP stream.

    pcapflow.py FILE SRC DST DPORT OUT

Checks the file's global header (magic a1b2c3d4, version 2.4, link type 1) and every
record (captured length = original length, within the file), finds the handshake of each
connection SRC → DST:DPORT (SYN, then SYN-ACK, then ACK, in that order), and
reassembles the bytes SRC sent by sequence number on the first such connection that
carried data (retransmissions and overlaps are
checked to carry the same bytes). Writes the stream to OUT; exits 1 with one line on
stderr for anything wrong. Only the standard library: the test checks our writer with
code that shares nothing with it.
"""
import ipaddress
import struct
import sys


def die(msg):
    print("pcapflow: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    path, src, dst, dport, out = sys.argv[1:6]
    src, dst, dport = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed, int(dport)
    data = open(path, "rb").read()
    if len(data) < 24:
        die("shorter than a pcap header")
    magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or (vmaj, vmin) != (2, 4) or link != 1:
        die("bad header: magic %x version %d.%d link %d" % (magic, vmaj, vmin, link))
    off, n = 24, 0
    conns = {}  # source port -> {"seen": handshake steps in order, "isn", "segs"}
    order = []
    while off < len(data):
        if off + 16 > len(data):
            die("record header cut at offset %d" % off)
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        if incl != orig or incl > snap or off + 16 + incl > len(data):
            die("record %d: lengths %d/%d at offset %d" % (n, incl, orig, off))
        f = data[off + 16:off + 16 + incl]
        off += 16 + incl
        n += 1
        if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        tot = struct.unpack(">H", f[16:18])[0]
        ip_src, ip_dst = f[26:30], f[30:34]
        t = 14 + ihl
        ps, pd, seq, ack = struct.unpack(">HHII", f[t:t + 12])
        thl = (f[t + 12] >> 4) * 4
        flags = f[t + 13]
        payload = f[t + thl:14 + tot]
        syn, ackf = flags & 0x02, flags & 0x10
        if ip_src == src and ip_dst == dst and pd == dport:
            if syn and not ackf and ps not in conns:
                conns[ps] = {"seen": ["SYN"], "isn": seq, "segs": {}}
                order.append(ps)
            elif ps in conns:
                c = conns[ps]
                if ackf and c["seen"] == ["SYN", "SYN-ACK"]:
                    c["seen"].append("ACK")
                if payload:
                    rel = (seq - c["isn"] - 1) & 0xFFFFFFFF
                    old = c["segs"].get(rel)
                    if old is not None and old[:len(payload)] != payload[:len(old)]:
                        die("a retransmission at %d carries other bytes" % rel)
                    if old is None or len(payload) > len(old):
                        c["segs"][rel] = payload
        elif ip_src == dst and ip_dst == src and ps == dport and pd in conns:
            c = conns[pd]
            if syn and ackf and c["seen"] == ["SYN"] and ack == (c["isn"] + 1) & 0xFFFFFFFF:
                c["seen"].append("SYN-ACK")
    with_data = [p for p in order if conns[p]["segs"]]
    if not with_data:
        die("no connection to port %d carried data (%d connections seen)" % (dport, len(order)))
    sport = with_data[0]
    seen, segs = conns[sport]["seen"], conns[sport]["segs"]
    if seen != ["SYN", "SYN-ACK", "ACK"]:
        die("handshake not found in order: saw %s" % seen)
    stream, pos = bytearray(), 0
    for rel in sorted(segs):
        p = segs[rel]
        if rel > pos:
            die("a hole in the stream at byte %d (next segment at %d)" % (pos, rel))
        if rel + len(p) > pos:
            if bytes(stream[rel:pos]) != p[:pos - rel]:
                die("overlapping segments differ at %d" % rel)
            stream += p[pos - rel:]
            pos = rel + len(p)
    open(out, "wb").write(stream)
    print("pcapflow: %d records, handshake %s, %d bytes of %s:%d -> %s:%d" % (
        n, "/".join(seen), len(stream), ipaddress.IPv4Address(src), sport,
        ipaddress.IPv4Address(dst), dport))


main()
