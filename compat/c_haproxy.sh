#!/usr/bin/env bash
# c_haproxy.sh — HAProxy under A (namespace with no network) proxying from A's virtual
# address to two python3 http.server back ends under C; curl under B.
# program: haproxy (HTTP proxy between virtual addresses)
# packages: haproxy
# checks: 100 requests through haproxy (round robin over two back ends on service C), all 200 and byte-exact; both back ends served; a 16 MiB body sha256 equal
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs haproxy curl python3
start_trio "$COMPAT_NET"
P=$(free_tcp_port); B1=$(free_tcp_port); B2=$(free_tcp_port)
back=$NC_TMP/back; mkdir -p "$back"
head -c 3000 /dev/urandom >"$back/small"; mkblob "$back/big" 16
cat >"$NC_TMP/haproxy.cfg" <<C
global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind $COMPAT_NET.1:$P
  default_backend be
backend be
  balance roundrobin
  server s1 $COMPAT_NET.3:$B1
  server s2 $COMPAT_NET.3:$B2
C
log haproxy -c -f "$NC_TMP/haproxy.cfg"
spawn_under C back1 /usr/bin/python3 -m http.server --bind "$COMPAT_NET.3" --directory "$back" "$B1"
spawn_under C back2 /usr/bin/python3 -m http.server --bind "$COMPAT_NET.3" --directory "$back" "$B2"
wait_port B "$COMPAT_NET.3" "$B1"
wait_port B "$COMPAT_NET.3" "$B2"
spawn_in_ns A haproxy /usr/sbin/haproxy -db -f "$NC_TMP/haproxy.cfg"
wait_port B "$COMPAT_NET.1" "$P"
mkdir -p "$NC_TMP/out"
codes=$(log under B curl -sS --max-time 100 -w '%{http_code}\n' -o "$NC_TMP/out/s#1" "http://$COMPAT_NET.1:$P/small?i=[1-100]")
assert_eq 100 "$(grep -c '^200$' <<<"$codes" || true)" "responses with 200"
for i in $(seq 1 100); do cmp -s "$back/small" "$NC_TMP/out/s$i" || fail "response $i differs"; done
n1=$(grep -c 'GET /small' "$NC_TMP/back1.log" || true); n2=$(grep -c 'GET /small' "$NC_TMP/back2.log" || true)
note "back end 1: $n1 requests, back end 2: $n2"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "round robin: back ends served $n1 and $n2"
log under B curl -sS --fail --max-time 60 -o "$NC_TMP/out/big" "http://$COMPAT_NET.1:$P/big"
assert_files_equal "$back/big" "$NC_TMP/out/big"
note PASS
