#!/usr/bin/env bash
# t_nginx.sh — nginx (master + 2 workers) under A, 200 requests from curl under B over 20
# parallel connections, then 40 one-shot curl processes, 20 at a time.
#
#   nginx master ─┬─ worker 1                    curl --parallel --parallel-max 20
#                 └─ worker 2   (listen $HTTP)   xargs -P 20 curl
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# Checks: every response is 200 with the exact body; nginx logged every request.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl xargs
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip "nginx not installed (Debian: nginx-light)"

start_pair 10.88.0
HTTP=$(free_tcp_port)
url=http://10.88.0.1:$HTTP

# The listening socket is made by the master before it forks the workers, which inherit it:
# the intercept must recognise the inherited listener in each worker.
ng=$NC_TMP/nginx
mkdir -p "$ng" "$NC_TMP/out"
{
nginx_conf_head "$ng" 256
cat <<EOF
    keepalive_requests 1000;
    server {
        listen $HTTP;
        root $ng/www;
        location / { }
    }
}
EOF
} >"$ng/nginx.conf"
# A body of a few KiB, different on every run.
{
	echo "netcon nginx test $$ $(date +%s%N)"
	head -c 6000 /dev/urandom | od -An -tx1 | tr -d ' \n'
	echo
} >"$ng/www/body.txt"
log "$NGINX" -t -p "$ng" -c "$ng/nginx.conf"

spawn_under A nginx "$NGINX" -p "$ng" -c "$ng/nginx.conf"
wait_port B 10.88.0.1 "$HTTP"

# 1. One curl, 200 transfers, at most 20 at once, each on its own connection slot.
codes=$(log under B curl -sS --fail --max-time 100 --parallel --parallel-immediate --parallel-max 20 \
	-w '%{http_code}\n' -o "$NC_TMP/out/#1.txt" "$url/body.txt?i=[1-200]")
assert_eq 200 "$(grep -c '^200$' <<<"$codes" || true)" "responses with status 200 (of $(wc -l <<<"$codes"))"
n=0
for i in $(seq 1 200); do
	cmp -s "$ng/www/body.txt" "$NC_TMP/out/$i.txt" || fail "response $i: body differs"
	n=$((n + 1))
done
assert_eq 200 "$n" "byte-exact bodies"
rm -f "$NC_TMP"/out/*.txt

# 2. 40 separate curl processes, 20 at a time: connect/close churn, one process each.
cat >"$NC_TMP/get1.sh" <<EOF
#!/bin/sh
# get1.sh I — fetch once, compare, print "I CODE same|diff"
code=\$(curl -sS --max-time 30 -o "$NC_TMP/out/p\$1.txt" -w '%{http_code}' "$url/body.txt?p=\$1") || code="curl-exit-\$?"
if cmp -s "$ng/www/body.txt" "$NC_TMP/out/p\$1.txt"; then same=same; else same=diff; fi
echo "\$1 \$code \$same"
EOF
chmod +x "$NC_TMP/get1.sh"
res=$(seq 1 40 | log under B xargs -P 20 -n 1 "$NC_TMP/get1.sh")
assert_eq 40 "$(grep -c ' 200 same$' <<<"$res" || true)" "one-shot requests with 200 and the exact body"

# nginx wrote one access-log line per request (access_log is unbuffered by default).
assert_eq 200 "$(grep -c 'GET /body.txt?i=' "$ng/access.log" || true)" "access.log lines for the parallel run"
assert_eq 40 "$(grep -c 'GET /body.txt?p=' "$ng/access.log" || true)" "access.log lines for the one-shot run"
assert_eq 0 "$(grep -c '\[\(alert\|crit\|emerg\)\]' "$ng/error.log" || true)" "nginx alert/crit/emerg lines"

status A
note "PASS"
