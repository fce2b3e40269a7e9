#!/usr/bin/env bash
# t_socketpath.sh — `--socket PATH` never destroys what is at PATH.
#
#   PATH holds                          netcon service --socket PATH
#   a regular file ("important")   →    exit 1, "it is a regular file", content intact
#   a directory, a symlink, a fifo →    exit 1, names what is there, left as it was
#   a live stream socket of ours   →    exit 1, "not stale", the socket still there
#   a socket of another uid (root) →    exit 1, "not ours", the socket still there
#   a stale socket of ours         →    replaced; removed at exit
#   our socket, replaced by a file
#   while the service runs         →    at exit the file is left in place
#
# One service at a time, VXLAN bound on loopback with no peer; nothing is sent.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built

guard_subnet 10.89.0.0/24
UP=$(free_udp_port)
D=$NC_TMP/paths
mkdir -p "$D"

# refused PATH WHAT — the service refuses PATH within 10 s, naming PATH and WHAT.
refused() {
	local path=$1 what=$2 rc=0 out
	out=$(log timeout -k 2 10 "$NETCON" service --ip 10.89.0.1/24 --socket "$path" \
		--link vxlan --bind "127.0.0.1:$UP" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    | /' >&2
	assert_eq 1 "$rc" "exit status for --socket $path ($what)"
	assert_contains "$out" "$path" "message for $what"
	assert_contains "$out" "$what" "message for $what"
	[ -z "$(find "$D" -name '*.tmp')" ] || fail "a temporary socket was left in $D"
}

# 1. A regular file: refused, content intact.
echo important >"$D/notes.txt"
refused "$D/notes.txt" "it is a regular file"
assert_eq important "$(cat "$D/notes.txt")" "content of notes.txt"

# 2. A directory (with a file in it), a symbolic link (to the file), a fifo.
mkdir "$D/dir" && echo keep >"$D/dir/inside"
refused "$D/dir" "it is a directory"
assert_eq keep "$(cat "$D/dir/inside")" "file inside the directory"
ln -s notes.txt "$D/link"
refused "$D/link" "it is a symbolic link"
[ -L "$D/link" ] || fail "the symbolic link is gone"
assert_eq important "$(cat "$D/notes.txt")" "content of notes.txt behind the link"
mkfifo "$D/fifo"
refused "$D/fifo" "it is a fifo"
[ -p "$D/fifo" ] || fail "the fifo is gone"

# make_socket PATH — a socket file with no listener behind it (a stale socket).
make_socket() {
	log "$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])' "$1"
	[ -S "$1" ] || fail "could not make a socket at $1"
}

# 2b. A live socket of ours that is no service (a stream listener, as D-Bus's is).
spawn streamer "$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
time.sleep(600)' "$D/live.sock"
retry 50 grep -q listening "$NC_TMP/streamer.log" || fail "stream listener did not start"
ino=$(stat -c %i "$D/live.sock")
refused "$D/live.sock" "not stale"
assert_eq "$ino" "$(stat -c %i "$D/live.sock" 2>/dev/null || echo gone)" \
	"inode of the live stream socket"
stop streamer

# 3. A socket of another user (needs root to give it away).
if [ "$(id -u)" = 0 ]; then
	make_socket "$D/theirs.sock"
	log chown 65534 "$D/theirs.sock"
	ino=$(stat -c %i "$D/theirs.sock")
	refused "$D/theirs.sock" "not ours"
	assert_eq "$ino" "$(stat -c %i "$D/theirs.sock" 2>/dev/null || echo gone)" \
		"inode of the other user's socket"
else
	note "not root: the other user's socket case is not run"
fi

# 4. A stale socket of ours is replaced, and removed at exit.
make_socket "$D/stale.sock"
ino=$(stat -c %i "$D/stale.sock")
spawn svc "$NETCON" service --ip 10.89.0.1/24 --socket "$D/stale.sock" --link vxlan \
	--bind "127.0.0.1:$UP"
retry 100 "$NETCON" status --socket "$D/stale.sock" >/dev/null ||
	fail "service did not start on a stale socket: $(logtail svc 5)"
[ "$(stat -c %i "$D/stale.sock")" != "$ino" ] || fail "the stale socket was not replaced"
log kill -TERM "${NC_SPAWNED[svc]}"
rc=0
wait_exit "${NC_SPAWNED[svc]}" 5 || rc=$?
assert_eq 0 "$rc" "service exit status"
[ ! -e "$D/stale.sock" ] || fail "the service left its socket behind"

# 5. Our socket replaced by a file while the service runs: at exit the file stays.
spawn svc2 "$NETCON" service --ip 10.89.0.1/24 --socket "$D/mine.sock" --link vxlan \
	--bind "127.0.0.1:$UP"
retry 100 "$NETCON" status --socket "$D/mine.sock" >/dev/null ||
	fail "service did not start: $(logtail svc2 5)"
log rm "$D/mine.sock"
echo precious >"$D/mine.sock"
log kill -TERM "${NC_SPAWNED[svc2]}"
rc=0
wait_exit "${NC_SPAWNED[svc2]}" 5 || rc=$?
assert_eq 0 "$rc" "service exit status"
assert_eq precious "$(cat "$D/mine.sock" 2>/dev/null || echo gone)" \
	"content of the file put at the socket's path"
assert_contains "$(cat "$NC_TMP/svc2.log")" "left in place" "the service's exit message"
note "PASS"
