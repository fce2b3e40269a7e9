#!/usr/bin/env bash
# t_multitransfer.sh — 16 parallel 64 MiB transfers each way between two services.
#
#   test_rx --listen 0.0.0.0:$P1 --count 17    16 × test_tx --connect 10.88.0.1:$P1 --bytes 64M
#   16 × test_tx --connect 10.88.0.2:$P2 ...   test_rx --listen 0.0.0.0:$P2 --count 17
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# Output contract of the programs (tests/progs): test_tx prints `tx bytes=N sum=HEX` once;
# test_rx prints `rx bytes=N sum=HEX` once per connection, then exits after --count
# connections. The multiset of tx lines must equal the multiset of rx lines.
#
# Readiness: a probe connection would count as one of test_rx's connections, so the
# receiver is started with --count 17 and the first sender is a 1 MiB probe (seed 1000),
# retried until the listener is up (a refused connect leaves no trace in test_rx); the
# 16 real senders then start together. The probe's line is compared like the others.
# timeout: 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$TEST_TX" "$TEST_RX"

N=16
SIZE=64M
SIZE_BYTES=$((64 * 1024 * 1024))

start_pair 10.88.0

# transfer RX_SVC RX_ADDR TX_SVC — one direction.
transfer() {
	local rxs=$1 addr=$2 txs=$3 port i pids=() rc dir=$NC_TMP/$1
	port=$(free_tcp_port)
	mkdir -p "$dir"
	note "=== $N × $SIZE from $txs to $rxs ($addr:$port)"
	spawn_under "$rxs" "rx-$rxs" "$TEST_RX" --listen "0.0.0.0:$port" --count $((N + 1))
	local rxpid=$NC_PID
	NC_TIMEOUT=10 retry 50 under "$txs" "$TEST_TX" --connect "$addr:$port" --bytes 1M --seed 1000 \
		>"$dir/tx-probe.out" || fail "probe transfer to $addr:$port failed"
	local t0 t1
	t0=$(now_ms)
	for i in $(seq 1 $N); do
		spawn_under "$txs" "tx-$rxs-$i" "$TEST_TX" --connect "$addr:$port" --bytes "$SIZE" --seed "$i"
		pids+=("$NC_PID")
	done
	i=0
	for p in "${pids[@]}"; do
		i=$((i + 1))
		rc=0
		wait_exit "$p" 300 || rc=$?
		[ "$rc" = 0 ] || fail "test_tx $i ($txs → $addr) exited $rc: $(logtail "tx-$rxs-$i" 5)"
	done
	rc=0
	wait_exit "$rxpid" 30 || rc=$?
	[ "$rc" = 0 ] || fail "test_rx under $rxs exited $rc: $(logtail "rx-$rxs" 5)"
	t1=$(now_ms)
	note "$N × $SIZE in $((t1 - t0)) ms"

	# Compare as sorted multisets of "bytes=N sum=HEX".
	{
		grep -h '^tx bytes=' "$dir/tx-probe.out" || true
		for i in $(seq 1 $N); do grep -h '^tx bytes=' "$NC_TMP/tx-$rxs-$i.log" || true; done
	} | sed 's/^tx //' | sort >"$dir/tx.sorted"
	grep '^rx bytes=' "$NC_TMP/rx-$rxs.log" | sed 's/^rx //' | sort >"$dir/rx.sorted" || true
	sed 's/^/    tx /' "$dir/tx.sorted" >&2
	assert_eq $((N + 1)) "$(wc -l <"$dir/tx.sorted")" "tx result lines"
	assert_eq $((N + 1)) "$(wc -l <"$dir/rx.sorted")" "rx result lines"
	assert_eq "$N" "$(grep -c "^bytes=$SIZE_BYTES " "$dir/tx.sorted" || true)" "senders that sent $SIZE_BYTES bytes"
	if ! cmp -s "$dir/tx.sorted" "$dir/rx.sorted"; then
		fail "received sums differ from sent sums:
$(diff "$dir/tx.sorted" "$dir/rx.sorted" | head -20)"
	fi
	note "ok: all $((N + 1)) received (bytes, sum) pairs equal the sent ones"
}

transfer A 10.88.0.1 B
transfer B 10.88.0.2 A

status A
status B
note "PASS"
