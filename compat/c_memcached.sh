#!/usr/bin/env bash
# c_memcached.sh — memcached (TCP only, -U 0) under A (namespace with no network); a
# python3 client speaking the text protocol and libmemcached-tools' memcslap/memccp/
# memccat under B.
# program: memcached + python3 text-protocol client, memcslap, memccat
# packages: memcached libmemcached-tools
# checks: 1000 set/get of random values (up to 100 KiB) byte-exact; stats; memccp + memccat of a 500 KiB file; memcslap 1000 sets without errors in < 10 s
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs memcached libmemcached-tools python3
# memcached drops to -u nobody before it opens its sockets, so the intercept first reaches
# the service as nobody: the control socket must be open to that user.
start_pair "$COMPAT_NET" --socket-mode 0666
compat_note "memcached -u nobody opens its sockets after dropping privileges: service A runs with --socket-mode 0666"
P=$(free_tcp_port)
spawn_in_ns A memcached /usr/bin/memcached -l 0.0.0.0 -p "$P" -U 0 -u nobody -m 128 -c 256 -I 2m
wait_port B "$COMPAT_NET.1" "$P"
cat >"$NC_TMP/mc.py" <<'PY'
import os, socket, sys, random
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
f = s.makefile("rb")
def cmd(line, data=None):
    s.sendall(line + b"\r\n" + ((data + b"\r\n") if data is not None else b""))
vals = {}
for i in range(1000):
    v = os.urandom(random.choice([1, 100, 4000, 102400]))
    k = b"k%d" % i
    vals[k] = v
    cmd(b"set %s 0 0 %d" % (k, len(v)), v)
    assert f.readline() == b"STORED\r\n"
for k, v in vals.items():
    cmd(b"get " + k)
    hdr = f.readline().split()
    assert hdr[0] == b"VALUE" and int(hdr[3]) == len(v), hdr
    assert f.read(len(v) + 2) == v + b"\r\n" and f.readline() == b"END\r\n"
cmd(b"stats")
stats = {}
while True:
    l = f.readline()
    if l == b"END\r\n": break
    _, k, v = l.split(); stats[k] = v
print("ok 1000 items; curr_items", stats[b"curr_items"].decode())
PY
out=$(log under B /usr/bin/python3 "$NC_TMP/mc.py" "$COMPAT_NET.1" "$P")
assert_contains "$out" "ok 1000 items; curr_items 1000" "python client"
S=--servers=$COMPAT_NET.1:$P
head -c 512000 /dev/urandom >"$NC_TMP/blob"
(cd "$NC_TMP" && log under B memccp "$S" blob)
log under B memccat "$S" blob >"$NC_TMP/blob.raw"
# memccat ends the value with a newline of its own.
[ "$(tail -c 1 "$NC_TMP/blob.raw" | od -An -c | tr -d ' ')" = '\n' ] || fail "memccat output does not end with its newline"
head -c -1 "$NC_TMP/blob.raw" >"$NC_TMP/blob.back"
assert_files_equal "$NC_TMP/blob" "$NC_TMP/blob.back"
if command -v memcslap >/dev/null; then
	# Timed: 1000 sets from one thread take ~0.1 s on the kernel's loopback.
	t0=$(now_ms)
	out=$(NC_TIMEOUT=60 log under B memcslap "$S" --concurrency=1 --execute-number=1000 2>&1) || { rc=$?; fail "memcslap: 1000 sets not done after $(($(now_ms) - t0)) ms (exit $rc; 100 sets take ~12 s: ~250 ms request/response stalls, Nagle + delayed ACK in the services' lwIP)"; }
	ms=$(($(now_ms) - t0))
	printf '%s\n' "$out" | sed 's/^/    /' >&2
	assert_not_contains "$out" "rror" "memcslap output"
	[ "$ms" -lt 10000 ] || fail "memcslap: 1000 sets took $ms ms (request/response stalls of ~250 ms: Nagle + delayed ACK in the services' lwIP)"
	compat_note "memcslap 1000 sets: $ms ms"
else
	compat_note "memcslap not in libmemcached-tools here"
fi
note PASS
