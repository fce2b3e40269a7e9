#!/usr/bin/env bash
# t_http.sh — bulk HTTP across two services: python's http.server under A, curl under B.
#
#   python3 -m http.server 0.0.0.0:$HTTP          curl http://10.88.0.1:$HTTP/...
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │                   │ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│◄──── VXLAN ──────►│ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘    (loopback)     └──────────────────────┘
#
# Checks: 1 MiB and 100 MiB random files arrive byte-exact (size + sha256); the directory
# listing names both; both services exit 0 on SIGTERM and remove their sockets.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl

www=$NC_TMP/www
out=$NC_TMP/out
mkdir -p "$www" "$out"
log head -c 1M /dev/urandom >"$www/small.bin"
log head -c 100M /dev/urandom >"$www/big.bin"

start_pair 10.88.0
HTTP=$(free_tcp_port)
url=http://10.88.0.1:$HTTP

spawn_under A web "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HTTP"
wait_port B 10.88.0.1 "$HTTP"

listing=$(log under B curl -sS --fail --max-time 30 "$url/")
assert_contains "$listing" 'href="small.bin"' "directory listing"
assert_contains "$listing" 'href="big.bin"' "directory listing"

for f in small.bin big.bin; do
	t0=$(now_ms)
	log under B curl -sS --fail --max-time 110 -o "$out/$f" "$url/$f"
	t1=$(now_ms)
	note "$f: $(stat -c %s "$out/$f") bytes in $((t1 - t0)) ms"
	assert_files_equal "$www/$f" "$out/$f"
done

status A
status B

stop web
stop_service B
stop_service A
note "PASS"
