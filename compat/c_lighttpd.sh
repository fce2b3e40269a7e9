#!/usr/bin/env bash
# c_lighttpd.sh — lighttpd under A (namespace with no network); curl and ab under B.
# Also stands in for thttpd, which Debian 12 does not ship.
# program: lighttpd (in place of thttpd too)
# packages: lighttpd
# checks: 1 KiB, 1 MiB, 32 MiB files byte-exact; 404 for a missing file; ab -n 1000 -c 10: 0 failed
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs lighttpd apache2-utils curl
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/lighttpd; mkdir -p "$d/www" "$NC_TMP/out"
head -c 1024 /dev/urandom >"$d/www/f1k"; mkblob "$d/www/f1m" 1; mkblob "$d/www/f32m" 32
cat >"$d/lighttpd.conf" <<C
server.document-root = "$d/www"
server.port = $P
server.bind = "0.0.0.0"
server.errorlog = "$d/error.log"
server.pid-file = "$d/lighttpd.pid"
server.upload-dirs = ( "$d" )
mimetype.assign = ( "" => "application/octet-stream" )
C
log lighttpd -t -f "$d/lighttpd.conf"
spawn_in_ns A lighttpd /usr/sbin/lighttpd -D -f "$d/lighttpd.conf"
wait_port B "$COMPAT_NET.1" "$P"
u=http://$COMPAT_NET.1:$P
for f in f1k f1m f32m; do
	log under B curl -sS --fail --max-time 60 -o "$NC_TMP/out/$f" "$u/$f"
	assert_files_equal "$d/www/$f" "$NC_TMP/out/$f"
done
code=$(log under B curl -sS -o /dev/null -w '%{http_code}' --max-time 20 "$u/missing")
assert_eq 404 "$code" "status for a missing file"
out=$(NC_TIMEOUT=120 log under B ab -q -n 1000 -c 10 -s 30 "$u/f1k" 2>&1) || fail "ab exited $?: $out"
assert_contains "$out" "Complete requests:      1000" ab
assert_contains "$out" "Failed requests:        0" ab
assert_not_contains "$out" "Non-2xx" ab
note PASS
