#!/usr/bin/env bash
# t_connect_close.sh — a socket closed while its connect is under way is forgotten, as
# Linux forgets it: the server never accepts the connection.
#
#   server.py under A (accept, 3 s timeout)  ◄── VXLAN ──  client.py under B:
#   A stopped (SIGSTOP) so that the          non-blocking connect (EINPROGRESS), close,
#   handshake cannot end                      exit; then A continues (SIGCONT)
#
# Linux's client stack answers the SYN-ACK that comes after the close with RST, so the
# connection dies half-open at the server. Before the fix, netcon completed the handshake
# for the closed socket and then closed it cleanly: the server accepted a connection that
# read EOF at once. A second client that does not close gets through (the control).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
start_pair 10.87.0
P=$(free_tcp_port)

cat >"$NC_TMP/server.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
print("listening", flush=True)
s.settimeout(float(sys.argv[2]))
try:
    c, a = s.accept()
    c.settimeout(2)
    print("accepted", repr(c.recv(100)), flush=True)
except socket.timeout:
    print("nothing accepted", flush=True)
PY
cat >"$NC_TMP/client.py" <<'PY'
import errno, socket, sys
s = socket.socket(); s.setblocking(False)
e = s.connect_ex((sys.argv[1], int(sys.argv[2])))
print("connect:", errno.errorcode.get(e, e), flush=True)
s.close()
PY

spawn_under A server "$PYTHON" "$NC_TMP/server.py" "$P" 4
retry 50 grep -q listening "$NC_TMP/server.log" || fail "the server did not listen"
log kill -STOP "${NC_SERVICE[A]}"
out=$(under B "$PYTHON" "$NC_TMP/client.py" 10.87.0.1 "$P") || { kill -CONT "${NC_SERVICE[A]}"; fail "client: $out"; }
log kill -CONT "${NC_SERVICE[A]}"
assert_eq "connect: EINPROGRESS" "$out" "the client's non-blocking connect"
wait_exit "${NC_SPAWNED[server]}" 10 || fail "the server did not end"
assert_eq "nothing accepted" "$(tail -n 1 "$NC_TMP/server.log")" \
	"what the server accepted of a connection closed while connecting"

# The control: the same with the client's socket kept until the handshake ends.
spawn_under A server2 "$PYTHON" "$NC_TMP/server.py" "$P" 4
retry 50 grep -q listening "$NC_TMP/server2.log" || fail "the second server did not listen"
out=$(under B "$PYTHON" -c "import socket, sys; s = socket.create_connection(('10.87.0.1', $P)); s.sendall(b'hi'); s.close()")
wait_exit "${NC_SPAWNED[server2]}" 10 || fail "the second server did not end"
assert_eq "accepted b'hi'" "$(tail -n 1 "$NC_TMP/server2.log")" "the control connection"
stop_service A
stop_service B
note "PASS"
