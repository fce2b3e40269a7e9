#!/usr/bin/env bash
# c_hey.sh — hey (Go, Debian's build: linked with glibc, its socket calls its own syscall
# instructions, so seccomp mode) as load generator under B, in a namespace with no
# network, against nginx (glibc: preload mode) under A, also in one.
# program: hey (Go, seccomp mode) against nginx
# packages: hey nginx
# checks: netcon show picks seccomp for hey; hey -n 5000 -c 50 on a 2 KiB file: every response [200], no error distribution, total data 5000 × 2 KiB; hey -n 1000 -c 20 -disable-keepalive (a connection per request): all [200], no errors; nginx's access log counts the requests
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs hey nginx
start_pair "$COMPAT_NET"
mode=$(log "$NETCON" show hey | sed -n 's/^mode: *//p')
assert_contains "$mode" "seccomp" "netcon show hey"
P=$(free_tcp_port)
ng=$NC_TMP/nginx; mkdir -p "$ng"
{
	nginx_conf_head "$ng" 512
	cat <<C
    server {
        listen 0.0.0.0:$P;
        root $ng/www;
    }
}
C
} >"$ng/nginx.conf"
head -c 2048 /dev/urandom >"$ng/www/small"
log nginx -t -p "$ng" -c "$ng/nginx.conf"
spawn_in_ns A nginx /usr/sbin/nginx -p "$ng" -c "$ng/nginx.conf"
wait_port B "$COMPAT_NET.1" "$P"
u=http://$COMPAT_NET.1:$P/small

# hey_check N OUT WHAT — every one of N responses [200], no errors, N × 2048 bytes.
hey_check() {
	local n=$1 out=$2 what=$3
	printf '%s\n' "$out" | sed -n '/^Summary:/,/^ *Average:/p; /Requests\/sec/p; /Total data/p; /Status code/,$p' |
		sed 's/^/    hey: /' >&2
	assert_contains "$out" "[200]	$n responses" "$what: status code distribution"
	assert_not_contains "$out" "Error distribution" "$what"
	assert_eq "$((n * 2048))" "$(printf '%s\n' "$out" | sed -n 's/^ *Total data:[[:space:]]*\([0-9]*\) bytes.*/\1/p')" \
		"$what: total data (bytes)"
}

out=$(NC_TIMEOUT=180 log in_ns B hey -n 5000 -c 50 -t 20 "$u") || fail "hey exited $?: $out"
hey_check 5000 "$out" "hey -n 5000 -c 50"
rps=$(printf '%s\n' "$out" | sed -n 's/^ *Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p')
[ -n "$rps" ] || fail "no Requests/sec in hey's report"
out=$(NC_TIMEOUT=180 log in_ns B hey -n 1000 -c 20 -t 20 -disable-keepalive "$u") || fail "hey exited $?: $out"
hey_check 1000 "$out" "hey -n 1000 -c 20 -disable-keepalive"
rps_nk=$(printf '%s\n' "$out" | sed -n 's/^ *Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p')
assert_eq 6000 "$(grep -c '"GET /small HTTP/1.1" 200 2048' "$ng/access.log" || true)" "nginx access log: GET /small 200 2048"
assert_eq 0 "$(grep -c '\[\(alert\|crit\|emerg\)\]' "$ng/error.log" || true)" "nginx alert/crit/emerg lines"
compat_note "hey: ${rps%.*} requests/s (-c 50, keep-alive), ${rps_nk%.*} requests/s (-c 20, a connection per request)"
note PASS
