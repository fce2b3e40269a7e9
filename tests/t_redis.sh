#!/usr/bin/env bash
# t_redis.sh — redis-server under A; redis-cli and redis-benchmark under B.
#
#   redis-server --bind 0.0.0.0 --port $RP          redis-cli / redis-benchmark
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# Checks: 1000 SETs answered OK and the 1000 GETs return exactly the values set (one
# pipelined command stream each way); redis-benchmark (50 connections, 20000 requests per
# test) exits 0 and every test line reports a rate, with no error.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd redis-server redis-cli redis-benchmark

start_pair 10.88.0
RP=$(free_tcp_port)

spawn_under A redis redis-server --port "$RP" --bind 0.0.0.0 --save '' --appendonly no \
	--protected-mode no --daemonize no --dir "$NC_TMP" --logfile ''
NC_TIMEOUT=3 retry 75 under B redis-cli -h 10.88.0.1 -p "$RP" ping >/dev/null ||
	fail "redis did not answer PING at 10.88.0.1:$RP"

# 1000 keys with random values, sent as one stream of inline commands.
cmds=$NC_TMP/set.txt gets=$NC_TMP/get.txt want=$NC_TMP/want.txt
: >"$cmds"; : >"$gets"; : >"$want"
for i in $(seq 1 1000); do
	v=$(printf '%04d-%s' "$i" "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')")
	printf 'SET key:%d %s\n' "$i" "$v" >>"$cmds"
	printf 'GET key:%d\n' "$i" >>"$gets"
	printf '%s\n' "$v" >>"$want"
done

res=$(log under B redis-cli -h 10.88.0.1 -p "$RP" <"$cmds")
assert_eq 1000 "$(grep -cx 'OK' <<<"$res" || true)" "SET replies OK"
log under B redis-cli -h 10.88.0.1 -p "$RP" <"$gets" >"$NC_TMP/got.txt"
cmp -s "$want" "$NC_TMP/got.txt" || fail "GET values differ from what was SET: $(diff "$want" "$NC_TMP/got.txt" | head -5)"
note "ok: 1000 GET values equal the SET values"
assert_eq 1000 "$(under B redis-cli -h 10.88.0.1 -p "$RP" dbsize)" "DBSIZE"

rc=0
bench=$(log under B redis-benchmark -h 10.88.0.1 -p "$RP" -n 20000 -q 2>&1) || rc=$?
# -q still draws progress lines ("rps=...") with carriage returns; keep the results.
bench=$(tr '\r' '\n' <<<"$bench" | grep -v 'rps=' | sed '/^[[:space:]]*$/d' || true)
printf '%s\n' "$bench" | sed 's/^/    /' >&2
assert_eq 0 "$rc" "redis-benchmark exit status"
for t in PING_INLINE SET GET INCR LPUSH LPOP SADD MSET; do
	grep -q "^${t}[: ].*requests per second" <<<"$bench" || fail "redis-benchmark: no result for $t: $(tail -n 5 <<<"$bench")"
done
bad=$(grep -iE 'error|could not|refused|reset|timeout' <<<"$bench" || true)
[ -z "$bad" ] || fail "redis-benchmark reported: $bad"
note "ok: redis-benchmark: $(grep -c 'requests per second' <<<"$bench") tests, no errors"

status A
note "PASS"
