#!/usr/bin/env python3
"""fuzz/mkcorpus.py — write the seed corpora in fuzz/corpus/NAME (a handful each).

Run from anywhere: python3 fuzz/mkcorpus.py. The values follow include/netcon/rpc.h
(little-endian, x86-64 layout) and fuzz/fuzz_svc.h (service 10.42.0.1/24, MAC
02:00:00:00:00:01, VNI 1)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, files):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)   # regress_* files (crash reproducers) are kept
    for fname, data in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


# ---- RPC: one control byte (fd count | fd kinds << 2), then the message ---------------
HELLO, BIND, LISTEN, CONNECT, SOCKOPT_SET, SOCKOPT_GET, QUERY, STATUS, RESOLVE = range(1, 10)
F_REPLY_FD, F_SUBJECT_FD = 1, 2


def hdr(typ, plen, flags=0, seq=1):
    return struct.pack("<IHHIi", 16 + plen, typ, flags, seq, 0)


def addr4(ip, port):
    return struct.pack("<HHI", 2, port, 0) + bytes(ip) + bytes(12)


def addr6(ip, port):
    return struct.pack("<HHI", 10, port, 0) + bytes(ip)


OPTS = struct.pack("<Iiiiii", 0x9, 0, 0, 0, 0, 0)   # REUSEADDR | NODELAY
OPTS_V6ONLY = struct.pack("<Iiiiii", 0x21, 0, 0, 0, 0, 0)   # REUSEADDR | V6ONLY


def ctrl(nfds, kind1=0, kind2=0):
    return bytes([nfds | kind1 << 2 | kind2 << 4])


rpc = {
    "hello": ctrl(0) + hdr(HELLO, 8) + struct.pack("<II", 2, 1234),
    "bind": ctrl(0) + hdr(BIND, 48) + addr4([10, 42, 0, 1], 8080) + OPTS,
    "bind6_any": ctrl(0) + hdr(BIND, 48) + addr6(bytes(16), 8080) + OPTS,
    "bind6_mapped_v6only": ctrl(0) + hdr(BIND, 48) + addr6(bytes(10) + b"\xff\xff" + bytes([10, 42, 0, 1]), 80) + OPTS_V6ONLY,
    "listen6_nosubject": ctrl(0) + hdr(LISTEN, 32) + struct.pack("<iI", 16, 10) + OPTS_V6ONLY,
    "connect6": ctrl(0) + hdr(CONNECT, 48) + addr6(bytes.fromhex("fd000088000000000000000000000002"), 80) + OPTS,
    "listen_subject": ctrl(1, 0) + hdr(LISTEN, 32, F_SUBJECT_FD) + struct.pack("<iI", 16, 0) + OPTS,
    "connect_replyfd": ctrl(1, 1) + hdr(CONNECT, 48, F_REPLY_FD) + addr4([10, 42, 0, 2], 80) + OPTS,
    "sockopt_set": ctrl(1, 0) + hdr(SOCKOPT_SET, 16, F_SUBJECT_FD) + struct.pack("<iiI", 6, 1, 4) + struct.pack("<i", 1),
    "sockopt_get": ctrl(2, 1, 0) + hdr(SOCKOPT_GET, 12, F_REPLY_FD | F_SUBJECT_FD) + struct.pack("<iiI", 1, 4, 4),
    "query_notsock": ctrl(1, 2) + hdr(QUERY, 0, F_SUBJECT_FD),
    "status": ctrl(0) + hdr(STATUS, 0),
    # struct nc_resolve_req: op, family, pad, addr[16], name[256]
    "resolve_name": ctrl(0) + hdr(RESOLVE, 280) + struct.pack("<IHH", 1, 0, 0) + bytes(16)
    + b"WEB.netcon.".ljust(256, b"\0"),
    "resolve_addr": ctrl(0) + hdr(RESOLVE, 280) + struct.pack("<IHH", 2, 10, 0)
    + bytes.fromhex("fd000000000000000000000000000002") + bytes(256),
}
write("fuzz_rpc", rpc)


# ---- VXLAN: the UDP payload (VXLAN header, Ethernet frame) ---------------------------
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])
OUR_IP = bytes([10, 42, 0, 1])
PEER_IP = bytes([10, 42, 0, 2])
VX = bytes([0x08, 0, 0, 0, 0, 0, 1, 0])


def eth(dst, typ, payload):
    return VX + dst + PEER_MAC + struct.pack("!H", typ) + payload


def ip4(proto, payload, frag=0x4000, src=PEER_IP, dst=OUR_IP):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(sport, dport, flags, seq=1000, ack=0, opts=b"", data=b""):
    off = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + opts + data
    ph = PEER_IP + OUR_IP + struct.pack("!BBH", 0, 6, len(t))
    return t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]


def udp(sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    ph = PEER_IP + OUR_IP + struct.pack("!BBH", 0, 17, len(u))
    return u[:6] + struct.pack("!H", csum(ph + u)) + u[8:]


def icmp_echo():
    m = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"netcon-fuzz"
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, PEER_IP, bytes(6), OUR_IP)
SYN_OPTS = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 3, 3, 7]) + bytes([4, 2, 1, 1])
ip6_src = bytes.fromhex("fe800000000000000000000000000002")
ip6_dst = bytes.fromhex("ff020000000000000000000000000001")
icmp6 = struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping6"
ip6 = struct.pack("!IHBB", 0x60000000, len(icmp6), 58, 64) + ip6_src + ip6_dst + icmp6

vx = {
    "arp_request": eth(b"\xff" * 6, 0x0806, arp),
    "icmp_echo": eth(OUR_MAC, 0x0800, ip4(1, icmp_echo())),
    "tcp_syn_80": eth(OUR_MAC, 0x0800, ip4(6, tcp(40000, 80, 0x02, opts=SYN_OPTS))),
    "tcp_syn_closed": eth(OUR_MAC, 0x0800, ip4(6, tcp(40001, 81, 0x02))),
    "tcp_ack_data": eth(OUR_MAC, 0x0800, ip4(6, tcp(40000, 80, 0x18, 1001, 1, data=b"GET / HTTP/1.0\r\n\r\n"))),
    "udp": eth(OUR_MAC, 0x0800, ip4(17, udp(5353, 53, b"hello"))),
    "ip4_fragment": eth(OUR_MAC, 0x0800, ip4(1, icmp_echo() + bytes(32), frag=0x2000)),
    "ip6_ping_allnodes": eth(bytes([0x33, 0x33, 0, 0, 0, 1]), 0x86dd, ip6),
    "wrong_vni": bytes([0x08, 0, 0, 0, 0, 0, 2, 0]) + OUR_MAC + PEER_MAC + b"\x08\x00",
}


# ---- DNS: one query (the service's table in fuzz_dns.c / fuzz_svc.c has web.netcon) ---
def dns_name(name):
    out = b""
    for label in name.split(".") if name else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(name, qtype=1, qclass=1, flags=0x0100, qd=1, an=0, ns=0, ar=0, extra=b""):
    return struct.pack("!HHHHHH", 0xbeef, flags, qd, an, ns, ar) + dns_name(name) \
        + struct.pack("!HH", qtype, qclass) + extra


OPT = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
dns = {
    "a": dns_query("web.netcon"),
    "aaaa_case": dns_query("WeB.NetCon", 28),
    "any_edns": dns_query("web.netcon", 255, ar=1, extra=OPT),
    "ptr4": dns_query("1.0.42.10.in-addr.arpa", 12),
    "ptr6": dns_query(".".join("1000000000000000000000000000d0df"[i] for i in range(32))
                      + ".ip6.arpa", 12),
    "nxdomain": dns_query("nosuch.example", 1),
    "mx_nodata": dns_query("web.netcon", 15),
    "compress_loop": struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
    "compress_ok": dns_query("web.netcon", 1, an=1, extra=b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4)),
    "two_questions": dns_query("web.netcon", qd=2) + dns_name("db.netcon") + struct.pack("!HH", 1, 1),
    "badvers": dns_query("web.netcon", ar=1, extra=b"\0" + struct.pack("!HHIH", 41, 512, 0x00010000, 0)),
    "class_ch": dns_query("version.bind", 16, 3),
    "truncated": dns_query("web.netcon")[:17],
}
write("fuzz_dns", dns)
vx["udp_dns_query"] = eth(OUR_MAC, 0x0800, ip4(17, udp(5353, 53, dns_query("web.netcon", 255, ar=1, extra=OPT))))
vx["udp_dns_loop"] = eth(OUR_MAC, 0x0800, ip4(17, udp(5353, 53, dns["compress_loop"])))
write("fuzz_vxlan", vx)

hosts = {
    "basic": b"# comment\n10.42.0.1 web.netcon www\n\nfd00::1\tweb.netcon # six\n",
    "crlf_noeol": b"10.0.0.1 a.b c\r\n10.0.0.2 d",
    "bad_line": b"10.0.0.1 ok\n10.0.0 bad\n",
    "host_arg": b"web.netcon=10.42.0.9",
}
write("fuzz_hosts", hosts)
write("fuzz_vxlan", vx)

# ---- config: arguments separated by NUL bytes -----------------------------------------
cfg = {
    "ip_mtu": b"--ip\x0010.1.2.3/24\x00--mtu\x009000",
    "tap": b"--link\x00tap\x00--tap\x00nc0\x00--mtu=1500",
    "vxlan": b"--bind=[::1]:4789\x00--peer\x00127.0.0.1:4790\x00--peer\x00[::1]:4791\x00--vni\x0042",
    "socket": b"--socket-mode\x000660\x00--socket\x00/tmp/x.sock\x00--socket-group\x000",
    "mac_log": b"--mac\x0002:00:00:00:00:09\x00--log-level\x00debug\x00--ready-fd\x003\x00--",
    "bad": b"--ip\x00300.1.1.1/24\x00--bogus",
    "names": b"--host\x00web.netcon=10.42.0.2\x00--host=db=fd00::1\x00--dns\x00--hosts\x00/nonexistent",
    "ip6": b"--ip6\x00fd00:88::1/64\x00--ip6=fd00:99::1/48\x00--ip6\x00fe80::1/64\x00--mtu\x001280",
}
write("fuzz_config", cfg)

# ---- WireGuard: wg(8)'s file, UAPI set requests, datagrams to the link ---------------------
KEY_B64 = "YIAqFx0/AhqyV7DDnpbIHNT7rAu+IzVwBI3pcF8DXE4="
wgconf = {
    "basic": ("[Interface]\nPrivateKey = %s\nListenPort = 51820\nFwMark = 0x10\n\n"
              "[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
              "AllowedIPs = 10.42.0.2/32, fd42::2/128\nAllowedIPs = 10.43.0.0/16\n"
              "Endpoint = 127.0.0.1:51821\nPersistentKeepalive = 25\n"
              % (KEY_B64, KEY_B64, KEY_B64)).encode(),
    "wgquick": ("[Interface] # wg-quick\nAddress = 10.42.0.1/24, fd42::1/64\nMTU = 1420\n"
                "DNS = 10.42.0.53\nPostUp = true\nPrivateKey=%s\n[Peer]\nPublicKey=%s\n"
                "Endpoint = [::1]:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n"
                % (KEY_B64, KEY_B64)).encode(),
    "bad_key": b"[Interface]\nPrivateKey = short\n",
}
write("fuzz_wgconf", wgconf)

HEX = __import__("base64").b64decode(KEY_B64).hex()
wguapi = {
    "add_peer": ("listen_port=0\npublic_key=%s\npreshared_key=%s\nendpoint=127.0.0.1:1\n"
                 "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
                 "allowed_ip=10.42.0.9/32\nallowed_ip=fd42::9/128\n" % (HEX, HEX)).encode(),
    "replace": ("private_key=%s\nfwmark=0\nreplace_peers=true\npublic_key=%s\nupdate_only=true\n"
                "endpoint=[::1]:2\nprotocol_version=1\n" % (HEX, HEX)).encode(),
    "remove": ("public_key=%s\nremove=true\n" % HEX).encode(),
    "bad": b"listen_port=70000\nno_equals\n",
}
write("fuzz_wguapi", wguapi)


def wgrec(kind, data):
    return struct.pack("<BH", kind, len(data)) + data


INNER = ip4(17, udp(1000, 53, b"hello"), src=bytes([10, 42, 0, 5]))
TS = struct.pack(">QI", 0x400000006a000000, 1)
wgh = {
    "init_data": wgrec(1, TS) + wgrec(2, struct.pack("<Q", 0) + INNER) +
    wgrec(2, struct.pack("<Q", 0) + INNER) + wgrec(2, struct.pack("<Q", 1)) +
    wgrec(3, INNER),
    "junk": wgrec(0, b"\x04\0\0\0" + bytes(range(40))) + wgrec(0, b"\x01\0\0\0" + bytes(144)) +
    wgrec(0, b"\x03\0\0\0" + bytes(60)) + wgrec(0, b"\x02\0\0\0" + bytes(88)),
    "stale_init": wgrec(1, TS) + wgrec(1, TS) + wgrec(1, TS + bytes(4) + b"\x01"),
    "send_first": wgrec(3, INNER) + wgrec(0, bytes(3)),
}
write("fuzz_wghandshake", wgh)
