#!/usr/bin/env bash
# c_redis.sh — redis-server under A (namespace with no network) with `bind * -::*`, its
# default: IPv4 wildcard plus an IPv6 wildcard with IPV6_V6ONLY=1, both virtual and side by
# side on one port. The 2015 notes: the IPv6 listen attempt must not break the IPv4
# listener. redis-cli and
# redis-benchmark under B.
# program: redis-server + redis-cli, redis-benchmark
# packages: redis-server redis-tools
# checks: bind * -::* (IPv6 attempt beside IPv4); SET/GET, a 1 MiB value round trip, 1000 pipelined INCRs; redis-benchmark -n 20000 -c 50 (SET, GET, INCR, LPUSH) completes without errors
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs redis-server redis-tools
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/redis; mkdir -p "$d"
spawn_in_ns A redis /usr/bin/redis-server --port "$P" --bind '* -::*' --protected-mode no \
	--save '' --appendonly no --dir "$d" --daemonize no --logfile ''
wait_port B "$COMPAT_NET.1" "$P"
grep -i -E 'warning|could not|error' "$NC_TMP/redis.log" | sed 's/^/    redis: /' >&2 || true
H=(-h "$COMPAT_NET.1" -p "$P")
assert_eq OK "$(log under B redis-cli "${H[@]}" SET k hello-netcon)" "SET"
assert_eq hello-netcon "$(log under B redis-cli "${H[@]}" GET k)" "GET"
head -c 786432 /dev/urandom | base64 -w 0 >"$NC_TMP/val"
log under B redis-cli "${H[@]}" -x SET big <"$NC_TMP/val" >/dev/null
log under B redis-cli "${H[@]}" --raw GET big | tr -d '\n' >"$NC_TMP/val.back"
assert_files_equal "$NC_TMP/val" "$NC_TMP/val.back"
for i in $(seq 1 1000); do echo "INCR counter"; done >"$NC_TMP/incr"
log under B redis-cli "${H[@]}" <"$NC_TMP/incr" >/dev/null
assert_eq 1000 "$(log under B redis-cli "${H[@]}" GET counter)" "counter after 1000 INCRs"
out=$(NC_TIMEOUT=180 log under B redis-benchmark "${H[@]}" -n 20000 -c 50 -q -t set,get,incr,lpush 2>&1) || fail "redis-benchmark exited $?: $out"
printf '%s\n' "$out" | tr '\r' '\n' | grep -E 'requests per second' | sed 's/^/    /' >&2
assert_eq 4 "$(printf '%s\n' "$out" | tr '\r' '\n' | grep -c 'requests per second' || true)" "benchmark result lines"
assert_not_contains "$out" "rror" "redis-benchmark output"
compat_note "redis-benchmark: $(printf '%s\n' "$out" | tr '\r' '\n' | grep 'requests per second' | sed 's/ requests per second.*//; s/: / /' | paste -sd, -) req/s"
note PASS
