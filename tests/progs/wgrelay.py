#!/usr/bin/env python3
"""wgrelay.py — a UDP relay between two WireGuard peers, for tests/t_wg_proto.sh.

    wgrelay.py LISTEN_PORT TARGET_PORT

Datagrams to 127.0.0.1:LISTEN_PORT go on to 127.0.0.1:TARGET_PORT from an "upstream"
socket of the relay's own, and the target's answers to that socket come back to whoever
sent last: the target sees the relay as its peer, as a NAT in front of the peer. The
relay keeps the last 64 transport data messages (type 4) it passed upstream. Signals:

  SIGUSR1  roam: a new upstream socket on a new port (the old one is closed), as a NAT
           rebinding or a peer moving: the target must follow to the new address from
           the next authenticated message, or the transfer stalls.
  SIGUSR2  send the kept data messages to the target again as they were (replays), then
           forged copies of them (a counter never used, a ciphertext bit flipped), from
           another socket of the relay: the target must drop both kinds, and must not
           move its endpoint for the peer there.

Writes one line per event on stdout: `upstream port N`, `replayed N, forged N`. Only
the standard library.
"""
import select
import signal
import socket
import sys

KEEP = 64


def main():
    listen, target = int(sys.argv[1]), ("127.0.0.1", int(sys.argv[2]))
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.bind(("127.0.0.1", listen))
    flags = {"roam": False, "replay": False}
    signal.signal(signal.SIGUSR1, lambda *_: flags.__setitem__("roam", True))
    signal.signal(signal.SIGUSR2, lambda *_: flags.__setitem__("replay", True))

    def new_up():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        print("upstream port %d" % s.getsockname()[1], flush=True)
        return s

    down.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    up = new_up()
    client = None
    kept = []
    while True:
        if flags["roam"]:
            flags["roam"] = False
            up.close()
            up = new_up()
        if flags["replay"]:
            flags["replay"] = False
            msgs = list(kept)
            rogue = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for m in msgs:
                rogue.sendto(m, target)
            for m in msgs:
                f = bytearray(m)
                ctr = int.from_bytes(f[8:16], "little") + (1 << 30)
                f[8:16] = ctr.to_bytes(8, "little")
                f[len(f) - 20] ^= 1
                rogue.sendto(bytes(f), target)
            rogue.close()
            print("replayed %d, forged %d" % (len(msgs), len(msgs)), flush=True)
        r, _, _ = select.select([down, up], [], [], 0.1)
        for s in r:
            for _ in range(256):
                try:
                    data, addr = s.recvfrom(65536, socket.MSG_DONTWAIT)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if s is down:
                    client = addr
                    up.sendto(data, target)
                    if data[:1] == b"\x04" and len(data) > 32:
                        kept.append(data)
                        del kept[:-KEEP]
                elif client is not None:
                    down.sendto(data, client)


if __name__ == "__main__":
    main()
