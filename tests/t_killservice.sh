#!/usr/bin/env bash
# t_killservice.sh — kill -9 of a service under 100 open connections and a blocked accept.
#
#   holder.py under B: 100 connections to A's server, 100 threads blocked in recv(),
#                      one thread blocked in accept() on a virtual listener
#   kill -9 service B
#   → every recv() and the accept() return within 1 s; the program then uses no CPU
#     (the 2015 system spun at 100%); a new virtual connect fails at once (ENETUNREACH);
#   → a new service B on the same socket path serves the same program again.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
start_pair 10.88.0
P=$(free_tcp_port)
L=$(free_tcp_port)

cat >"$NC_TMP/server.py" <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(256)
held = []
def serve(c):
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
while True:
    c, _ = s.accept(); held.append(c)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$NC_TMP/holder.py" <<'PY'
import errno, os, socket, sys, threading, time
port, lport, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# The listener first: bound after the connections, its port (free on the host) was now
# and then one of their ephemeral ports (EADDRINUSE, about 1 run in 300).
lst = socket.socket(); lst.bind(("0.0.0.0", lport)); lst.listen(8)
conns = [socket.create_connection(("10.88.0.1", port), timeout=10) for _ in range(100)]
for c in conns:
    c.settimeout(None)
results, done = [], {}
def reader(s):
    try:
        d = s.recv(10)
        results.append("eof" if d == b"" else "data")
    except OSError as e:
        results.append(errno.errorcode.get(e.errno, str(e.errno)))
    done[id(s)] = time.time()
def acceptor():
    try:
        lst.accept(); results.append("accepted?")
    except OSError as e:
        results.append("accept:" + errno.errorcode.get(e.errno, str(e.errno)))
    done["accept"] = time.time()
ts = [threading.Thread(target=reader, args=(c,)) for c in conns]
ts.append(threading.Thread(target=acceptor))
for t in ts:
    t.start()
print("ready", flush=True)
while not os.path.exists(flag + ".killed"):
    time.sleep(0.02)
killed = os.stat(flag + ".killed").st_mtime
for t in ts:
    t.join(timeout=10)
late = max(done.values()) - killed if len(done) == len(ts) else 99
print("returned %d of %d, last after %.2f s: %s" % (len(done), len(ts), late,
      " ".join(sorted(set(results)))), flush=True)
c0 = time.process_time(); time.sleep(2); c1 = time.process_time()
print("cpu in 2 s: %.3f" % (c1 - c0), flush=True)
t0 = time.time()
try:
    socket.create_connection(("10.88.0.1", port), timeout=5); print("connect: ok?")
except OSError as e:
    print("connect: %s in %.2f s" % (errno.errorcode.get(e.errno, e.errno), time.time() - t0),
          flush=True)
print("waiting for the new service", flush=True)
while not os.path.exists(flag + ".restarted"):
    time.sleep(0.05)
s = socket.create_connection(("10.88.0.1", port), timeout=10)
s.sendall(b"x" * 100000); s.close()
print("reconnect: ok", flush=True)
PY

spawn_under A server "$PYTHON" "$NC_TMP/server.py" "$P"
wait_port B 10.88.0.1 "$P"
spawn_under B holder "$PYTHON" "$NC_TMP/holder.py" "$P" "$L" "$NC_TMP/flag"
for _ in $(seq 1 100); do grep -q '^ready' "$NC_TMP/holder.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$NC_TMP/holder.log" || fail "holder did not get ready: $(logtail holder)"
sleep 0.3
log kill -9 "${NC_SERVICE[B]}"
touch "$NC_TMP/flag.killed"
for _ in $(seq 1 100); do grep -q '^waiting' "$NC_TMP/holder.log" 2>/dev/null && break; sleep 0.1; done
out=$(cat "$NC_TMP/holder.log")
note "$out"
assert_contains "$out" "returned 101 of 101" "every blocked call returned"
late=$(sed -n 's/.*last after \([0-9.]*\) s.*/\1/p' "$NC_TMP/holder.log")
awk -v l="$late" 'BEGIN { exit !(l < 1.0) }' || fail "blocked calls returned only after $late s"
cpu=$(sed -n 's/^cpu in 2 s: //p' "$NC_TMP/holder.log")
awk -v c="$cpu" 'BEGIN { exit !(c < 0.2) }' || fail "the program used $cpu s of CPU in 2 s after the kill"
assert_contains "$out" "connect: ENETUNREACH" "a new connect without a service"
# A new service on the same path: the same program connects again.
rm -f "$(sock B)"
start_service B 10.88.0.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
touch "$NC_TMP/flag.restarted"
wait_exit "${NC_SPAWNED[holder]}" 30 || fail "holder did not finish: $(logtail holder)"
assert_contains "$(cat "$NC_TMP/holder.log")" "reconnect: ok" "the same program through the new service"
