#!/usr/bin/env bash
# t_limits.sh — a user may hold at most --max-sockets virtual sockets.
#
#   service A --max-sockets 8        python3 under A: 12 listeners bound in turn
#
# Checks: the 9th bind fails with ENOBUFS ("No buffer space available") and the service
# logs the limit; closing sockets frees the quota (a bind after closing works). The limit
# is per uid: every process of a user shares it, accepted connections count against the
# listener's user.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.88.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --max-sockets 8
out=$(log under A "$PYTHON" -c '
import errno, socket
held, res = [], []
for i in range(12):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", 0)); held.append(s); res.append("ok")
    except OSError as e:
        res.append(errno.errorcode[e.errno]); s.close()
print(" ".join(res))
for s in held[:4]:
    s.close()
import time; time.sleep(0.3)
s = socket.socket(); s.bind(("0.0.0.0", 0)); print("after close: ok")
')
note "$out"
assert_contains "$out" "ok ok ok ok ok ok ok ok ENOBUFS ENOBUFS ENOBUFS ENOBUFS" "binds beyond the limit"
assert_contains "$out" "after close: ok" "the quota comes back"
assert_contains "$(cat "$NC_TMP/svc-A.log")" "the limit (--max-sockets)" "service log"
