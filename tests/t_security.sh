#!/usr/bin/env bash
# timeout: 200
# t_security.sh — who may use a service, and what a client can reach through it.
#
#   service A 10.94.0.1/24, socket 0600 (default)       owner root
#   service C 10.94.1.1/24, --socket-mode 0666          anyone
#   service G 10.94.2.1/24, --socket-mode 0660 --socket-group nogroup
#   (no peers: programs reach the service's own address, looped back inside lwIP)
#
#   as uid 65534 (setpriv):  intercept → A      refused: one "cannot reach the netcon
#                                               service" line, connect() → ENETUNREACH
#                            intercept → C      works (a virtual connection to a root
#                                               program's listener under C)
#   uid 12345 gid 12345:     → G refused;  with supplementary group 65534 → G works
#   `--socket-group no-such-group`              exit 2, message names the group
#   root's own hostile client (tests/progs/hostile.c `foreign`) naming fds that are not
#   its virtual sockets while a root program holds a connection through A: it learns
#   nothing (kind NONE, zero addresses, SO_ERROR 0; LISTEN and CONNECT refused) and the
#   program's connection carries on.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root "a second uid (setpriv)"
require_cmd setpriv
HOSTILE=$BUILD/hostile
require_built "$HOSTILE"

# The programs run as other users must be able to reach the binaries.
for p in "$NETCON" "$BUILD/libnetcon.so" "$PYTHON"; do
	setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$p" ||
		skip "uid 65534 cannot read $p"
done

# as UID GID [setpriv options...] -- CMD... — run CMD as another user (bounded: 20 s).
as() {
	local uid=$1 gid=$2
	shift 2
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	log timeout -k 2 20 setpriv --reuid="$uid" --regid="$gid" "${opts[@]}" "$@"
}

# The client program: connect to HOST:PORT, print "connected <line read>" or the errno.
cat >"$NC_TMP/client.py" <<'EOF'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected", s.makefile().readline().strip())
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno))
EOF
# The server program: a listener answering "hello" to every connection.
cat >"$NC_TMP/server.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
EOF
chmod 644 "$NC_TMP/client.py" "$NC_TMP/server.py"

# 1. Default: 0600, and another user cannot use it.
start_service A 10.94.0.1/24 --bind "127.0.0.1:$(free_udp_port)"
assert_eq 600 "$(stat -c %a "$(sock A)")" "mode of A's control socket"
assert_eq root "$(stat -c %U "$(sock A)")" "owner of A's control socket"
out=$(as 65534 65534 --clear-groups -- "$NETCON" intercept --socket "$(sock A)" -- \
	"$PYTHON" "$NC_TMP/client.py" 10.94.0.1 80 2>"$NC_TMP/nobody-A.err") || true
sed 's/^/    | /' "$NC_TMP/nobody-A.err" >&2
assert_eq "error ENETUNREACH" "$out" "a virtual connect by uid 65534 through A"
assert_eq 1 "$(grep -c 'cannot reach the netcon service' "$NC_TMP/nobody-A.err" || true)" \
	"'cannot reach' lines on stderr"
assert_eq 1 "$(grep -c netcon "$NC_TMP/nobody-A.err" || true)" "netcon lines on stderr"
rc=0
as 65534 65534 --clear-groups -- "$NETCON" status --socket "$(sock A)" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "uid 65534 could read A's status"
note "ok: uid 65534 cannot use A (status exit $rc)"

# 2. --socket-mode 0666 lets another user in.
start_service C 10.94.1.1/24 --bind "127.0.0.1:$(free_udp_port)" --socket-mode 0666
assert_eq 666 "$(stat -c %a "$(sock C)")" "mode of C's control socket"
PC=$(free_tcp_port)
spawn_under C server "$PYTHON" "$NC_TMP/server.py" "$PC"
retry 50 grep -q listening "$NC_TMP/server.log" || fail "server under C did not start"
out=$(as 65534 65534 --clear-groups -- "$NETCON" intercept --socket "$(sock C)" -- \
	"$PYTHON" "$NC_TMP/client.py" 10.94.1.1 "$PC")
assert_eq "connected hello" "$out" "uid 65534 through C (0666) to root's listener"

# 3. --socket-group: members of the group only.
start_service G 10.94.2.1/24 --bind "127.0.0.1:$(free_udp_port)" --socket-mode 0660 \
	--socket-group nogroup
assert_eq "660 root nogroup" "$(stat -c '%a %U %G' "$(sock G)")" "G's control socket"
rc=0
as 12345 12345 --clear-groups -- "$NETCON" status --socket "$(sock G)" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "uid 12345 (not in nogroup) could use G"
note "ok: uid 12345 outside the group cannot use G"
st=$(as 12345 12345 --groups=65534 -- "$NETCON" status --socket "$(sock G)")
assert_contains "$st" "address 10.94.2.1/24" "status of G for a member of nogroup"
st=$(as 65534 65534 --clear-groups -- "$NETCON" status --socket "$(sock G)")
assert_contains "$st" "address 10.94.2.1/24" "status of G for gid nogroup"

rc=0
out=$(log timeout 10 "$NETCON" service --socket "$NC_TMP/x.sock" --socket-group no-such-group-xyz 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status for an unknown --socket-group"
assert_contains "$out" "no-such-group-xyz" "message for an unknown group"
[ ! -e "$NC_TMP/x.sock" ] || fail "a socket was created for a rejected --socket-group"

# 4. A client cannot act on a socket it does not hold. A root program holds a listener
#    and a connection through A; a hostile client of the same user sends every
#    per-socket request naming fds of its own that are no virtual sockets.
PA=$(free_tcp_port)
spawn_under A server-a "$PYTHON" "$NC_TMP/server.py" "$PA"
retry 50 grep -q listening "$NC_TMP/server-a.log" || fail "server under A did not start"
spawn_under A holder "$PYTHON" -c '
import socket, sys, time
c = socket.create_connection(("10.94.0.1", int(sys.argv[1])), timeout=10)
print("holding", c.makefile().readline().strip(), flush=True)
time.sleep(60)' "$PA"
retry 50 grep -q "holding hello" "$NC_TMP/holder.log" || fail "holder did not connect: $(logtail holder 5)"
before=$("$NETCON" status --socket "$(sock A)" | grep -E '^(tcp|listen) ' | sort)
out=$(log timeout 60 "$HOSTILE" "$(sock A)" foreign 2>&1) || fail "hostile foreign: $out"
printf '%s\n' "$out" | sed 's/^/    | /' >&2
[ "$(grep -c '^ok foreign' <<<"$out")" = 2 ] || fail "foreign: $out"
after=$("$NETCON" status --socket "$(sock A)" | grep -E '^(tcp|listen) ' | sort)
assert_eq "$before" "$after" "A's socket table after the foreign requests"
out=$(log under A "$PYTHON" "$NC_TMP/client.py" 10.94.0.1 "$PA")
assert_eq "connected hello" "$out" "A's listener after the foreign requests"

stop holder
stop server-a
stop server
stop_service G
stop_service C
stop_service A
note "PASS"
