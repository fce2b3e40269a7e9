#!/usr/bin/env bash
# t_faults.sh — transfers through a lossy, reordering, duplicating, corrupting link.
# timeout: 600
#
#   test_rx / test_tx under A   ◄── VXLAN, faults injected by A ──►   test_tx / test_rx under B
#   (--link-fault loss=5,reorder=1,dup=1,corrupt=0.1,seed=S: on every frame A sends and
#    every frame A receives)
#
# Each seed moves NC_FAULT_BYTES (default 16 MiB; `make stress` uses 256 MiB) each way and
# checks the checksums; the service reports what it injected and how TCP repaired it
# (fast retransmits, partial-ACK retransmits, SACK retransmits, probes, timeouts) in
# `netcon status`. TCP in
# lwIP must recover everything; a corrupted frame must be dropped by a checksum, never
# delivered. NC_FAULT_SEEDS (default "1 2") lists the seeds.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$TEST_TX" "$TEST_RX"
BYTES=${NC_FAULT_BYTES:-16M}
SEEDS=${NC_FAULT_SEEDS:-1 2}
# Each seed's bound: 120 s + 2 s per MiB (~110 Mbit/s each way is typical: 256 MiB in ~20 s;
# the bound allows a machine 30 times slower).
MIB=$(numfmt --from=iec "$BYTES")
MIB=$((MIB / 1048576))
BOUND=$((120 + 2 * MIB))

for seed in $SEEDS; do
	note "=== seed $seed, $BYTES each way"
	PORT_A=$(free_udp_port)
	PORT_B=$(free_udp_port)
	start_service A 10.88.0.1/24 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
		--link-fault "loss=5,reorder=1,dup=1,corrupt=0.1,seed=$seed"
	start_service B 10.88.0.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
	P1=$(free_tcp_port)
	P2=$(free_tcp_port)
	spawn_under A rxA "$TEST_RX" --listen "0.0.0.0:$P1" --count 1
	spawn_under B rxB "$TEST_RX" --listen "0.0.0.0:$P2" --count 1
	sleep 0.5
	spawn_under B txB "$TEST_TX" --connect "10.88.0.1:$P1" --bytes "$BYTES" --seed "$seed"
	spawn_under A txA "$TEST_TX" --connect "10.88.0.2:$P2" --bytes "$BYTES" --seed "$((seed + 100))"
	for p in txB txA rxA rxB; do
		wait_exit "${NC_SPAWNED[$p]}" "$BOUND" || fail "$p did not finish (rc $?): $(logtail "$p")"
	done
	assert_eq "$(grep '^tx bytes=' "$NC_TMP/txB.log" | cut -c4-)" \
		"$(grep '^rx bytes=' "$NC_TMP/rxA.log" | cut -c4-)" "B→A bytes and checksum"
	assert_eq "$(grep '^tx bytes=' "$NC_TMP/txA.log" | cut -c4-)" \
		"$(grep '^rx bytes=' "$NC_TMP/rxB.log" | cut -c4-)" "A→B bytes and checksum"
	st=$("$NETCON" status --socket "$(sock A)")
	faults=$(printf '%s\n' "$st" | grep '^faults:')
	note "$faults"
	rec_a=$(printf '%s\n' "$st" | grep '^tcp recovery:')
	rec_b=$("$NETCON" status --socket "$(sock B)" | grep '^tcp recovery:')
	note "A $rec_a"
	note "B $rec_b"
	# Each repair mechanism of lwip/patches/ (0002, 0005, 0010's SACK scoreboard) must have
	# run on one side or the other through 5% loss (none of them is counted when nothing
	# is lost).
	for what in "fast retransmits" "partial-ack retransmits" "sack retransmits" "probes"; do
		n=$(printf '%s\n%s\n' "$rec_a" "$rec_b" | grep -o "[0-9]* $what" | awk '{ s += $1 } END { print s + 0 }')
		[ "$n" -gt 0 ] || fail "no $what counted: $rec_a / $rec_b"
	done
	case $faults in
	*"tx lost 0 "*) fail "no frame was lost: the faults were not injected" ;;
	esac
	stop_service A
	stop_service B
	for p in rxA rxB txA txB; do unset "NC_SPAWNED[$p]"; done
done
