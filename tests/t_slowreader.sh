#!/usr/bin/env bash
# t_slowreader.sh — a reader that does not read for a while: back-pressure, not memory.
#
#   test_rx --delay 2000 (under A)  ◄── 64 MiB ──  test_tx (under B)
#
# While the receiving program sleeps, the data fills its socket buffer, then service A's
# queue (bounded by the TCP window, which closes), then B's send buffer, then the
# sender's socket buffer: the sender blocks. Then everything must arrive intact.
# Regression: A's queue used to be a pbuf chain whose 16-bit length wrapped past 64 KiB,
# and the service then spun at 100% CPU. Checks: the sums match, the receiving service
# stays responsive during the stall (`netcon status` answers), and its RSS stays bounded.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$TEST_TX" "$TEST_RX"

start_pair 10.88.0
P=$(free_tcp_port)
# --count 2: wait_port's probe is the first connection (0 bytes).
spawn_under A rx "$TEST_RX" --listen "0.0.0.0:$P" --count 2 --delay 3000
wait_port B 10.88.0.1 "$P"
spawn_under B tx "$TEST_TX" --connect "10.88.0.1:$P" --bytes 64M --seed 7
sleep 1.5
out=$(log "$NETCON" status --socket "$(sock A)")
assert_contains "$out" "established" "status of A during the stall"
rss=$(awk '/VmRSS/ {print $2}' "/proc/${NC_SERVICE[A]}/status")
note "service A RSS during the stall: ${rss} kB"
[ "$rss" -lt 65536 ] || fail "service A RSS ${rss} kB during the stall (want < 64 MiB)"
wait_exit "${NC_SPAWNED[tx]}" 60 || fail "test_tx did not finish: $(logtail tx)"
wait_exit "${NC_SPAWNED[rx]}" 60 || fail "test_rx did not finish: $(logtail rx)"
txl=$(grep '^tx bytes=' "$NC_TMP/tx.log")
rxl=$(grep '^rx bytes=67108864 ' "$NC_TMP/rx.log" || true)
assert_eq "${txl#tx }" "${rxl#rx }" "bytes and checksum"
