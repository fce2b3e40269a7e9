#!/usr/bin/env bash
# t_backlog.sh — a listener that does not accept: its queue fills, then SYNs are dropped.
#
#   python3 client (under B) ── connects, 8 at a time ──► python3 server (under A):
#                                                        two listeners, backlog 2 and 102,
#                                                        that accept only when told
#
# netcon hands each connection to the program's listener pair as soon as its handshake
# ends; when the pair is full the service holds connections, up to listen()'s backlog,
# and then drops SYNs (backlog_sync() in src/service/tcp_listen.c; half-open connections
# do not count against the backlog, so a burst is answered at once). The client connects
# in batches of 8 (each batch resolved or 1.5 s old before the next) until three batches
# in a row get nothing; the connects the service answered differ between the listeners
# by the difference of their backlogs, 100 (± a batch): regression guard for the
# closing, whose absence lets any listener take 255 more. No connect is refused or
# reset. Then the server accepts: every connection that completed is accepted, and the
# connects left waiting complete or time out (ETIMEDOUT), none refused.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

start_pair 10.172.11
P1=$(free_tcp_port)
P2=$(free_tcp_port)
mkfifo "$NC_TMP/go" "$NC_TMP/go2"
spawn_under A srv "$PYTHON" -c '
import select, socket, sys, time
ls = []
for port, backlog in ((int(sys.argv[1]), 2), (int(sys.argv[2]), 102)):
    s = socket.socket()
    s.bind(("10.172.11.1", port))
    s.listen(backlog)
    ls.append(s)
print("listening", flush=True)
open(sys.argv[3]).read()          # until the test says accept
for s in ls:
    n, end = 0, time.monotonic() + 60
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 3)
        if not r:
            break
        s.accept()[0].close()
        n += 1
    print("accepted", s.getsockname()[1], n, flush=True)
' "$P1" "$P2" "$NC_TMP/go"
retry 100 grep -q '^listening' "$NC_TMP/srv.log"

spawn_under B cli "$PYTHON" -c '
import errno, resource, select, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
waiting = {}
for port in (int(sys.argv[1]), int(sys.argv[2])):
    ok = errs = empty = total = 0
    left = []
    end = time.monotonic() + 60
    while empty < 3 and total < 5000 and time.monotonic() < end:
        batch = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            if s.connect_ex(("10.172.11.1", port)) != errno.EINPROGRESS:
                errs += 1
                s.close()
                continue
            batch.append(s)
        total += 8
        got, t = 0, time.monotonic() + 1.5
        while batch and time.monotonic() < t:
            _, w, _ = select.select([], batch, [], 0.05)
            for s in w:
                batch.remove(s)
                e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if e:
                    errs += 1
                    print("error", port, errno.errorcode.get(e, e), flush=True)
                else:
                    got += 1
                s.close()
        ok += got
        left += batch
        empty = empty + 1 if got == 0 else 0
    waiting[port] = left
    print("port", port, "connected", ok, "waiting", len(left), "errors", errs, flush=True)
print("phase1 done", flush=True)
open(sys.argv[3]).read()          # the server accepts now
for port, left in waiting.items():
    ok = timedout = errs = 0
    end = time.monotonic() + 20
    while left and time.monotonic() < end:
        _, w, _ = select.select([], left, [], 0.2)
        for s in w:
            left.remove(s)
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e == 0:
                ok += 1
            elif e == errno.ETIMEDOUT:
                timedout += 1
            else:
                errs += 1
                print("error", port, errno.errorcode.get(e, e), flush=True)
            s.close()
    print("port", port, "late", ok, "timedout", timedout, "unresolved", len(left), "errors", errs, flush=True)
' "$P1" "$P2" "$NC_TMP/go2"
retry 750 grep -q '^phase1 done' "$NC_TMP/cli.log"
timeout 10 sh -c 'echo >"$1"' - "$NC_TMP/go" || fail "the server was not waiting to accept: $(logtail srv)"
timeout 10 sh -c 'echo >"$1"' - "$NC_TMP/go2" || fail "the client was not waiting: $(logtail cli)"
wait_exit "${NC_SPAWNED[srv]}" 90 || fail "the server did not finish accepting: $(logtail srv)"
wait_exit "${NC_SPAWNED[cli]}" 60 || fail "the client did not finish: $(logtail cli)"
cat "$NC_TMP/srv.log" "$NC_TMP/cli.log" >&2

field() {	# field LOG PATTERN N — the Nth word of the line of LOG matching PATTERN
	awk -v p="$2" -v n="$3" '$0 ~ p { print $n; exit }' "$NC_TMP/$1.log"
}
c1=$(field cli "^port $P1 connected" 4)
c2=$(field cli "^port $P2 connected" 4)
w1=$(field cli "^port $P1 connected" 6)
w2=$(field cli "^port $P2 connected" 6)
a1=$(field srv "^accepted $P1 " 3)
a2=$(field srv "^accepted $P2 " 3)
l1=$(field cli "^port $P1 late" 4)
l2=$(field cli "^port $P2 late" 4)
for v in c1 c2 w1 w2 a1 a2 l1 l2; do
	[ -n "${!v}" ] || fail "no figure $v in the programs' output"
done
! grep -q '^error' "$NC_TMP/cli.log" || fail "connects refused or reset: $(grep '^error' "$NC_TMP/cli.log" | sort | uniq -c | head -3)"
grep -q "^port $P1 connected .* errors 0$" "$NC_TMP/cli.log" || fail "connect errors at port $P1"
grep -q "^port $P2 connected .* errors 0$" "$NC_TMP/cli.log" || fail "connect errors at port $P2"
note "backlog 2: $c1 connected before SYNs were dropped, backlog 102: $c2"
[ "$w1" -gt 0 ] && [ "$w2" -gt 0 ] || fail "no connect was left waiting ($w1, $w2): the service never dropped a SYN"
d=$((c2 - c1))
[ "$d" -ge 92 ] && [ "$d" -le 108 ] ||
	fail "the two listeners took $c1 and $c2 connections: a difference of $d, want 100 ± 8 (the difference of their backlogs)"
[ "$a1" -ge "$c1" ] && [ "$a1" -le $((c1 + w1)) ] || fail "port $P1: $a1 accepted, $c1 completed and $w1 waiting before"
[ "$a2" -ge "$c2" ] && [ "$a2" -le $((c2 + w2)) ] || fail "port $P2: $a2 accepted, $c2 completed and $w2 waiting before"
note "all completed connections accepted ($a1, $a2); of the waiting ones $l1 and $l2 completed later"
