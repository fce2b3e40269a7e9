#!/usr/bin/env bash
# t_wg_apps.sh — real programs over the WireGuard link, through faults, and against
# Debian's wireguard-go.
#
#   sshd, udpbench echo, socat, iperf3 -s       ssh, scp, python3, socat, iperf3 -c
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.165.1.1/24        │◄── WireGuard ────►│ 10.165.1.2/24        │
#   │ fd65:1::1/64         │    (loopback)     │ fd65:1::2/64         │
#   └──────────────────────┘                   └──────────────────────┘
#
# 1. apps: sshd under A, ssh under B: a command's output, 16 MiB up with scp and down with
#    ssh cat, sha256 equal; 3000 UDP datagrams of 1 to 8000 bytes (the larger ones
#    fragmented inside the tunnel) through `udpbench echo`, each back byte for byte; a
#    broadcast dropped, counted "no route" (WireGuard has no broadcast); 32 MiB each way over TCP between the IPv6 addresses (socat), sha256 equal; iperf3
#    both ways.
# 2. faults: A with --link-fault loss=5,reorder=1,dup=1,corrupt=0.5: on this link the
#    faults hit the encrypted datagrams (wireguard.c), so a corrupted one must fail
#    WireGuard's authentication and a duplicate its replay window, both counted on the
#    `wg dropped:` lines; 64 MiB each way (socat), sha256 equal, within a bound generous
#    for a small shared machine.
# 3. interop: wireguard-go on a TUN in a namespace (10.165.2.1), configured with `wg
#    setconf`, and service N (10.165.2.2): iperf3 both ways with the kernel's iperf3 as
#    client (wireguard-go initiates the handshake), then N replaced by N2 (same key and
#    port, no session) and iperf3 under N2 as client both ways against the kernel's
#    iperf3 -s (netcon initiates). The intercepted programs stay in the host namespace,
#    where 10.165.0.0/16 is unreachable: only netcon can have carried their bytes.
#
# 4. bigmtu: A and B at MTU 65439, the largest the link carries (10.173.1.0/24): 64 MiB
#    each way (socat), sha256 equal; the packets B received average over 8 KiB, so most
#    were opened straight into lwIP's buffers (rx_zc, wireguard.c's rx_data); no bad
#    frame, no datagram failing authentication.
#
# WG_APPS_PARTS (default "apps faults interop bigmtu") picks the parts.
# timeout: 900
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root "sshd logs in as root; a namespace for wireguard-go"
require_cmd wg ssh ssh-keygen scp socat iperf3 ip
PARTS=${WG_APPS_PARTS:-apps faults interop bigmtu}
UDPBENCH=$BUILD/udpbench
require_built "$UDPBENCH"
want() { [[ " $PARTS " == *" $1 "* ]]; }

# tcp_file SRV ADDR FILE CLIENT [BOUND [BLOCK]] — FILE from a socat under CLIENT (writes
# of BLOCK bytes, default socat's 8192) to a one-shot socat listener under SRV at ADDR (v4
# or [v6]) within BOUND seconds (120); what arrives must have FILE's size and sha256.
tcp_file() {
	local srv=$1 addr=$2 file=$3 cli=$4 port got bound=${5:-120} blk=${6:-8192} fam=TCP4
	port=$(free_tcp_port)
	got=$NC_TMP/got-$srv-$(basename "$file")
	[[ $addr == \[* ]] && fam=TCP6
	spawn_under "$srv" "rx-$srv" socat -u "$fam-LISTEN:$port,reuseaddr" "CREATE:$got"
	wait_listen "$srv" "$port"
	local t0 t1
	t0=$(now_ms)
	NC_TIMEOUT=$bound log under "$cli" socat -u -b "$blk" "OPEN:$file" "$fam:$addr:$port"
	wait_exit "${NC_SPAWNED[rx-$srv]}" 30 || fail "the receiver under $srv did not finish: $(logtail "rx-$srv")"
	t1=$(now_ms)
	assert_files_equal "$file" "$got"
	note "$(basename "$file") $cli → $srv ($addr): $((t1 - t0)) ms"
	rm -f "$got"
}

# iperf_both SRV_ADDR PORT CLIENT... — iperf3 -c (3 s) each way: bytes received > 0;
# prints Mbit/s. CLIENT is the command prefix that runs the client.
iperf_both() {
	local addr=$1 port=$2 dir res mbps bytes
	shift 2
	for dir in up down; do
		local flag=()
		[ "$dir" = down ] && flag=(-R)
		res=$(NC_TIMEOUT=40 log "$@" iperf3 -c "$addr" -p "$port" -t 3 -J "${flag[@]}")
		read -r bytes mbps < <("$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum_received"]
print(int(s["bytes"]), int(s["bits_per_second"] / 1e6))' <<<"$res")
		[ "$bytes" -gt $((1024 * 1024)) ] || fail "iperf3 $dir to $addr: only $bytes bytes received"
		note "iperf3 $dir ($addr): $mbps Mbit/s, $bytes bytes"
	done
}

# ---- 1. apps ---------------------------------------------------------------------------
if want apps; then
	SSHD=/usr/sbin/sshd
	[ -x "$SSHD" ] || skip "openssh-server not installed"
	[ -d /run/sshd ] || log mkdir -p -m 0755 /run/sshd
	start_wg_pair 10.165.1 fd65:1

	# ssh: sshd under A, ssh and scp under B.
	SP=$(free_tcp_port)
	d=$NC_TMP/ssh
	sftp=/usr/lib/openssh/sftp-server
	sshd_files "$d" "$SP" "Subsystem sftp $sftp"
	log "$SSHD" -t -f "$d/sshd_config"
	spawn_under A sshd "$SSHD" -D -e -f "$d/sshd_config"
	wait_listen A "$SP"
	ssh_opts=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR
		-i "$d/id_ed25519")
	out=$(NC_TIMEOUT=30 log under B ssh "${ssh_opts[@]}" -p "$SP" root@10.165.1.1 echo hello-over-wireguard)
	assert_eq hello-over-wireguard "$out" "ssh's remote command output"
	head -c 16M /dev/urandom >"$d/blob"
	NC_TIMEOUT=120 log under B scp -q "${ssh_opts[@]}" -P "$SP" "$d/blob" "root@10.165.1.1:$d/blob.up"
	assert_files_equal "$d/blob" "$d/blob.up"
	NC_TIMEOUT=120 log under B ssh "${ssh_opts[@]}" -p "$SP" root@10.165.1.1 cat "$d/blob" >"$d/blob.down"
	assert_files_equal "$d/blob" "$d/blob.down"
	grep -q 'Accepted publickey for root' "$NC_TMP/sshd.log" || fail "sshd did not log the publickey login"
	stop sshd
	rm -f "$d/blob" "$d/blob.up" "$d/blob.down"

	# UDP echo: datagrams of many sizes, each compared with what was sent.
	UP=$(free_udp_port)
	spawn_under A uecho "$UDPBENCH" echo "$UP"
	sleep 0.5
	out=$(log under B "$PYTHON" - "$UP" <<'PY'
import os, random, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
dst = ("10.165.1.1", int(sys.argv[1]))
rng = random.Random(17)
good = bad = resent = stray = 0
for i in range(3000):
    n = rng.choice((1, 17, 512, 1372, 1373, 1400, 4000, 8000)) if i % 4 == 0 else rng.randint(1, 1400)
    d = os.urandom(n)
    ok = False
    for attempt in range(3):   # a lost datagram is sent again; any other answer is stray
        s.sendto(d, dst)
        try:
            while not ok:
                r, a = s.recvfrom(70000)
                ok = r == d and a == dst
                stray += not ok
        except socket.timeout:
            resent += 1
        if ok:
            break
    good += ok
    bad += not ok
print("udp echo: %d equal, %d different or missing, %d resent, %d stray answers" % (good, bad, resent, stray))
PY
)
	note "$out"
	assert_contains "$out" "udp echo: 3000 equal, 0 different or missing" "UDP echo over WireGuard"
	# Only a late answer to a datagram sent again may be unexpected: never a changed one.
	read -r resent stray < <(sed -n 's/.*, \([0-9]*\) resent, \([0-9]*\) stray.*/\1 \2/p' <<<"$out")
	[ "$stray" -le "$resent" ] || fail "UDP echo: $stray answers equal to nothing sent ($resent sent again)"
	stop uecho

	# No broadcast on WireGuard (docs/differences.md, wireguard/udp_broadcast): a datagram
	# to the subnet's broadcast address has no peer and is dropped, counted "no route".
	noroute() { status_of B | sed -n 's/^wg dropped:.* tx: \([0-9]*\) no route.*/\1/p'; }
	BP=$(free_udp_port)
	spawn_under A bcast "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(3)
try:
    print("got", s.recvfrom(100))
except socket.timeout:
    print("nothing")' "$BP"
	sleep 0.5
	before=$(noroute)
	log under B "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
print("sent", s.sendto(b"hello", ("10.165.1.255", int(sys.argv[1]))))' "$BP"
	wait_exit "${NC_SPAWNED[bcast]}" 10 || fail "the broadcast receiver did not finish"
	assert_eq nothing "$(cat "$NC_TMP/bcast.log")" "what A received of B's broadcast"
	after=$(noroute)
	[ "$after" -gt "$before" ] || fail "B's no-route counter did not grow ($before → $after)"
	note "ok: the broadcast was dropped by B's link (no route: $before → $after)"

	# IPv6: TCP between the v6 addresses, each way.
	head -c 32M /dev/urandom >"$NC_TMP/v6.bin"
	tcp_file A "[fd65:1::1]" "$NC_TMP/v6.bin" B
	tcp_file B "[fd65:1::2]" "$NC_TMP/v6.bin" A
	rm -f "$NC_TMP/v6.bin"

	# iperf3 both ways.
	IP=$(free_tcp_port)
	spawn_under A iperf iperf3 -s -p "$IP"
	wait_listen A "$IP"
	iperf_both 10.165.1.1 "$IP" under B
	stop iperf
	st=$(status_of A)
	printf '%s\n' "$st" | grep '^wg' >&2
	assert_contains "$st" "0 unknown key, 0 failed authentication, 0 replayed" "A's drop counters (no faults)"
	stop_service A
	stop_service B
fi

# ---- 2. faults -------------------------------------------------------------------------
if want faults; then
	spec="loss=5,reorder=1,dup=1,corrupt=0.5,seed=7"
	start_wg_pair 10.165.3 fd65:3 --link-fault "$spec"
	head -c 64M /dev/urandom >"$NC_TMP/f.bin"
	# The bound: ~10 Mbit/s at least through 5% loss on a shared 2-core machine (the
	# run here took well under a minute each way).
	t0=$SECONDS
	tcp_file A 10.165.3.1 "$NC_TMP/f.bin" B 300
	tcp_file B 10.165.3.2 "$NC_TMP/f.bin" A 300
	note "64 MiB each way through $spec: $((SECONDS - t0)) s"
	rm -f "$NC_TMP/f.bin"
	sa=$(status_of A)
	sb=$(status_of B)
	printf 'A: %s\nB: %s\n' "$(grep -E '^(faults|wg dropped|tcp recovery)' <<<"$sa")" \
		"$(grep -E '^(wg dropped|tcp recovery)' <<<"$sb")" >&2
	faults=$(grep '^faults:' <<<"$sa")
	for what in "tx lost" "rx lost"; do
		n=$(grep -o "$what [0-9]*" <<<"$faults" | awk '{ print $3 }')
		[ "${n:-0}" -gt 0 ] || fail "no datagram counted as $what: $faults"
	done
	# Corrupted datagrams: A corrupts some it receives (its own drops) and some it sends
	# (B's drops); duplicates are replays on both sides.
	for side in A B; do
		st=$sa
		[ "$side" = B ] && st=$sb
		auth=$(sed -n 's/^wg dropped:.* \([0-9]*\) failed authentication.*/\1/p' <<<"$st")
		repl=$(sed -n 's/^wg dropped:.* \([0-9]*\) replayed.*/\1/p' <<<"$st")
		[ "${auth:-0}" -gt 0 ] || fail "$side counted no datagram failing authentication: $(grep '^wg dropped' <<<"$st")"
		[ "${repl:-0}" -gt 0 ] || fail "$side counted no replayed datagram: $(grep '^wg dropped' <<<"$st")"
		note "ok: $side dropped $auth datagrams failing authentication and $repl replays"
		# Nothing corrupted got past the AEAD into the tunnel's packets.
		assert_contains "$st" "0 bad inner packets, 0 disallowed sources" "$side's drop counters"
	done
	assert_not_contains "$(grep '^faults:' <<<"$sb" || true)" "faults:" "B's status (no faults on B)"
	stop_service A
	stop_service B
fi

# ---- 3. interop with wireguard-go ---------------------------------------------------------
if want interop; then
	require_cmd wireguard-go
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	guard_subnet 10.165.2.0/24
	ns=wgapps-go-$$
	netns_add "$ns"
	wg_keypair g
	wg_keypair n
	GP=$(free_udp_port)
	NPORT=$(free_udp_port)
	wg_conf "$NC_TMP/g.conf" g "$GP" n 10.165.2.2/32 "$NPORT"
	wg_conf "$NC_TMP/n.conf" n "$NPORT" g 10.165.2.1/32 "$GP"
	wggo_start "$ns" "$NC_TMP/g.conf" 10.165.2.1/24

	# wireguard-go initiates: the kernel's iperf3 is the client.
	start_service --netns "$ns" N 10.165.2.2/24 --link wireguard --wg-config "$NC_TMP/n.conf"
	IP=$(free_tcp_port)
	spawn_under N iperfn iperf3 -s -p "$IP"
	wait_listen N "$IP"
	iperf_both 10.165.2.2 "$IP" ip netns exec "$ns"
	st=$(status_of N)
	printf '%s\n' "$st" | grep '^wg' >&2
	assert_contains "$st" "wg handshakes: 0 initiations sent" "N's status (wireguard-go initiated)"
	assert_not_contains "$st" "0 initiations sent, 0 received" "N's status"
	stop iperfn
	stop_service N

	# netcon initiates: N2 (same key and port, no session); iperf3 under N2 is the client.
	KP=$(free_tcp_port)
	spawn kiperf ip netns exec "$ns" iperf3 -s -B 10.165.2.1 -p "$KP"
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$ns" ss -Hltn "sport = :$KP" | grep -q . && break
		sleep 0.1
	done
	start_service --netns "$ns" N2 10.165.2.2/24 --link wireguard --wg-config "$NC_TMP/n.conf"
	iperf_both 10.165.2.1 "$KP" under N2
	st=$(status_of N2)
	printf '%s\n' "$st" | grep '^wg' >&2
	assert_contains "$st" "0 received; 0 responses sent" "N2's status (netcon initiated)"
	assert_not_contains "$st" "wg handshakes: 0 initiations sent" "N2's status"
	assert_contains "$st" "0 failed authentication, 0 replayed" "N2's status"
	show=$(log ip netns exec "$ns" wg show wg0 dump)
	hs=$(awk -v k="$(cat "$NC_TMP/n.pub")" '$1 == k { print $5 }' <<<"$show")
	[ "${hs:-0}" -gt 0 ] || fail "wg show: no handshake with netcon's key"
	stop kiperf
	stop_service N2
fi

# ---- 4. the largest MTU ------------------------------------------------------------------
if want bigmtu; then
	WG_PAIR_BOTH="--mtu 65439" start_wg_pair 10.173.1 fd73:1
	head -c 64M /dev/urandom >"$NC_TMP/big.bin"
	# Writes of 64 KiB: with socat's 8 KiB a fast service sends 8 KiB segments.
	tcp_file B 10.173.1.2 "$NC_TMP/big.bin" A 120 65536
	tcp_file A 10.173.1.1 "$NC_TMP/big.bin" B 120 65536
	rm -f "$NC_TMP/big.bin"
	for side in A B; do
		st=$(status_of "$side")
		printf '%s: %s\n' "$side" "$(grep -E '^(wg dropped|link rx)' <<<"$st")" >&2
		assert_contains "$st" "0 failed authentication, 0 replayed" "$side's drop counters"
		assert_contains "$st" " 0 bad frames" "$side's bad frames"
		read -r frames bytes < <(sed -n 's/^link rx \([0-9]*\) frames \([0-9]*\) bytes.*/\1 \2/p' <<<"$st")
		if [ "${frames:-0}" -eq 0 ] || [ $((bytes / frames)) -le 8192 ]; then
			fail "$side received ${frames:-0} packets, ${bytes:-0} bytes: not the large packets of MTU 65439"
		fi
		note "ok: $side received $frames packets of $((bytes / frames)) bytes on average"
	done
	stop_service A
	stop_service B
fi
note "PASS"
