#!/usr/bin/env bash
# t_halfclose.sh — the peer closes first; our program reads EOF and keeps its socket.
#
#   python3 client (under A) ── 64 bytes ──► tcpbench serve (under B): echoes, closes
#
# The client reads the echo and EOF, then holds its socket for 2 s before closing it, as
# a program that finishes its work before close() does. Regression: service A made the
# program's EOF with shutdown() on its end of the pair, and did so again on every event
# of that end; a shutdown() wakes its own end too (EPOLLOUT, edge-triggered), so the
# service spun at 100% CPU for as long as the program kept the socket (tcpbench
# connrate's close path, one busy loop per connection). Checks: the echo and EOF arrive
# (and EOF again on a second read), service A uses < 0.15 s of CPU over those 2 s, and
# the connection ends cleanly on both services after the close.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

TCPBENCH=$BUILD/tcpbench
require_built "$TCPBENCH"

start_pair 10.172.10
P=$(free_tcp_port)
spawn_under B srv "$TCPBENCH" serve "10.172.10.2:$P"
wait_port A 10.172.10.2 "$P"

# ticks PID — user + system clock ticks of a process.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

mkfifo "$NC_TMP/go" "$NC_TMP/held"
spawn_under A cli "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("10.172.10.2", int(sys.argv[1])), timeout=10)
s.sendall(b"C" * 64)
got = b""
while len(got) < 64:
    b = s.recv(64 - len(got))
    if not b:
        break
    got += b
print("echo", got == b"C" * 64, "eof", s.recv(1) == b"", flush=True)
open(sys.argv[2], "w").close()   # EOF read: the socket is now held
open(sys.argv[3]).read()         # until the test says go
print("eof again", s.recv(1) == b"", flush=True)
s.close()
' "$P" "$NC_TMP/held" "$NC_TMP/go"
timeout 20 cat "$NC_TMP/held" >/dev/null || fail "the client did not read its echo: $(logtail cli)"
t0=$(ticks "${NC_SERVICE[A]}")
sleep 2
t1=$(ticks "${NC_SERVICE[A]}")
echo >"$NC_TMP/go"
wait_exit "${NC_SPAWNED[cli]}" 20 || fail "the client did not finish: $(logtail cli)"
out=$(cat "$NC_TMP/cli.log")
assert_contains "$out" "echo True eof True" "echo and EOF"
assert_contains "$out" "eof again True" "EOF on a second read"
cpu=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))
note "service A: ${cpu} ms of CPU while the program held its socket after EOF (2 s)"
[ "$cpu" -lt 150 ] || fail "service A used ${cpu} ms of CPU in 2 s of a held, finished connection (busy loop)"
# Both FINs went: neither service keeps the connection.
retry 25 sh -c "! '$NETCON' status --socket '$(sock A)' | grep -q '10.172.10.2:$P'"
retry 25 sh -c "! '$NETCON' status --socket '$(sock B)' | grep -q 'established'"
note "ok"
