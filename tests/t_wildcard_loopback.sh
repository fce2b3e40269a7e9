#!/usr/bin/env bash
# t_wildcard_loopback.sh — a client socket bound to the wildcard (which makes it virtual)
# that then connects to loopback must reach the kernel's loopback server, as on Linux.
#
#   python3 under A:  srv = kernel listener on 127.0.0.1:P
#                     cli.bind(("0.0.0.0", 0)); cli.connect(("127.0.0.1", P))
#
# Checks: the connect succeeds, the bytes arrive, the client's local address is loopback.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.88.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B"
P=$(free_tcp_port)
out=$(log under A "$PYTHON" -c '
import socket, sys
p = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", p)); srv.listen(1)
cli = socket.socket(); cli.bind(("0.0.0.0", 0))
cli.connect(("127.0.0.1", p)); cli.sendall(b"hello-loopback"); cli.close()
c, a = srv.accept(); data = c.recv(100)
print(data.decode(), a[0])
' "$P")
assert_eq "hello-loopback 127.0.0.1" "$out" "loopback connect after a wildcard bind"
