#!/usr/bin/env bash
# c_nginx.sh — nginx under A (namespace with no network): static files, and a reverse
# proxy to a python3 http.server running under C; curl under B.
# program: nginx (static + reverse proxy)
# packages: nginx
# checks: static 1 KiB and 8 MiB byte-exact; 200 requests over 20 parallel connections; proxied 4 MiB from a back end on a third service byte-exact; 50 proxied requests
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs nginx curl python3
start_trio "$COMPAT_NET"
P=$(free_tcp_port); BP=$(free_tcp_port)
ng=$NC_TMP/nginx; mkdir -p "$ng/www" "$ng/tmp" "$NC_TMP/back" "$NC_TMP/out"
head -c 1024 /dev/urandom >"$ng/www/small"; mkblob "$ng/www/big" 8
mkblob "$NC_TMP/back/proxied" 4
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$ng/nginx.conf" <<C
daemon off; master_process on; worker_processes 2; $user_line
pid $ng/nginx.pid; error_log $ng/error.log warn;
events { worker_connections 256; }
http {
  access_log $ng/access.log;
  client_body_temp_path $ng/tmp/body; proxy_temp_path $ng/tmp/proxy;
  fastcgi_temp_path $ng/tmp/fcgi; uwsgi_temp_path $ng/tmp/uwsgi; scgi_temp_path $ng/tmp/scgi;
  server {
    listen 0.0.0.0:$P;
    root $ng/www;
    location /back/ { proxy_pass http://$COMPAT_NET.3:$BP/; }
  }
}
C
log nginx -t -p "$ng" -c "$ng/nginx.conf"
spawn_under C back /usr/bin/python3 -m http.server --bind "$COMPAT_NET.3" --directory "$NC_TMP/back" "$BP"
spawn_in_ns A nginx /usr/sbin/nginx -p "$ng" -c "$ng/nginx.conf"
wait_port B "$COMPAT_NET.1" "$P"
u=http://$COMPAT_NET.1:$P
for f in small big; do
	log under B curl -sS --fail --max-time 60 -o "$NC_TMP/out/$f" "$u/$f"
	assert_files_equal "$ng/www/$f" "$NC_TMP/out/$f"
done
codes=$(log under B curl -sS --max-time 100 --parallel --parallel-max 20 -w '%{http_code}\n' -o /dev/null "$u/small?i=[1-200]")
assert_eq 200 "$(grep -c '^200$' <<<"$codes" || true)" "parallel static responses with 200"
log under B curl -sS --fail --max-time 60 -o "$NC_TMP/out/proxied" "$u/back/proxied"
assert_files_equal "$NC_TMP/back/proxied" "$NC_TMP/out/proxied"
for i in $(seq 1 20); do head -c 2000 /dev/urandom >"$NC_TMP/back/p$i"; done
codes=$(log under B curl -sS --max-time 100 -w '%{http_code}\n' -o "$NC_TMP/out/p#1" "$u/back/p[1-20]")
assert_eq 20 "$(grep -c '^200$' <<<"$codes" || true)" "proxied responses with 200"
for i in $(seq 1 20); do cmp -s "$NC_TMP/back/p$i" "$NC_TMP/out/p$i" || fail "proxied p$i differs"; done
codes=$(log under B curl -sS --max-time 100 -w '%{http_code}\n' -o /dev/null "$u/back/p1?j=[1-30]")
assert_eq 30 "$(grep -c '^200$' <<<"$codes" || true)" "more proxied responses with 200"
assert_eq 0 "$(grep -c '\[\(alert\|crit\|emerg\)\]' "$ng/error.log" || true)" "nginx alert/crit/emerg lines"
note PASS
