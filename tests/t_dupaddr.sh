#!/usr/bin/env bash
# t_dupaddr.sh — two services with one IPv4 address: refused at start, or detected,
# logged and defended while running; the network heals as soon as the intruder is gone.
#
#   service A 10.95.0.1 ◄─── VXLAN (loopback) ───► service B 10.95.0.2     curl under B
#        ▲                                               ▲
#        └────────── service D: --ip 10.95.0.1 (a duplicate of A) ─┘
#
# Checks:
#  1. D started with A's address is refused: exit status 1 and a message naming the
#     address and A's MAC; B still reaches A.
#  2. D started with --probe-ms 0 (no probe) announces itself over A: A logs the conflict
#     naming D's MAC, counts it in `netcon status`, and announces itself again; once D
#     is stopped, B reaches A at once (before this fix: ~5 minutes, until B's ARP entry
#     aged out).
#  3. The same for IPv6 (--ip6): a duplicate is refused (its Neighbor Solicitation is
#     answered), and one that does not probe is detected (its unsolicited Neighbor
#     Advertisement) and defended against; B reaches A over IPv6 once it is gone.
#  4. `netcon status` lists the neighbour cache (B's address and MAC seen by A).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl

www=$NC_TMP/www
mkdir -p "$www"
echo "served by A" >"$www/who.txt"

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
PORT_D=$(free_udp_port)
start_service A 10.95.0.1/24 --ip6 fd00:95::1/64 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B"
start_service B 10.95.0.2/24 --ip6 fd00:95::2/64 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
HTTP=$(free_tcp_port)
url=http://10.95.0.1:$HTTP/who.txt
url6=http://[fd00:95::1]:$HTTP/who.txt
spawn_under A web "$PYTHON" -m http.server --bind :: --directory "$www" "$HTTP"
wait_port B 10.95.0.1 "$HTTP"
got=$(log under B curl -sS --fail --max-time 10 "$url")
assert_eq "served by A" "$got" "B fetches from A"
mac_a=$("$NETCON" status --socket "$(sock A)" | awk '/^address /{print $4; exit}')
note "A's MAC: $mac_a"

got=$(log under B curl -sS --fail --max-time 10 -g "$url6")
assert_eq "served by A" "$got" "B fetches from A over IPv6"

# 1. A duplicate is refused at start.
rc=0
out=$(timeout 10 "$NETCON" service --ip 10.95.0.1/24 --socket "$NC_TMP/d.sock" \
	--bind "127.0.0.1:$PORT_D" --peer "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" 2>&1) || rc=$?
note "duplicate service: exit $rc: $out"
assert_eq 1 "$rc" "exit status of a service whose address is taken"
assert_contains "$out" "10.95.0.1 is already in use" "the refusal names the address"
assert_contains "$out" "$mac_a" "the refusal names the holder's MAC"
[ ! -e "$NC_TMP/d.sock" ] || fail "the refused service left its socket behind"
got=$(log under B curl -sS --fail --max-time 10 "$url")
assert_eq "served by A" "$got" "B still fetches from A after the refused duplicate"

# ... and so is one of its IPv6 address.
rc=0
out=$(timeout 10 "$NETCON" service --ip 10.95.0.9/24 --ip6 fd00:95::1/64 --socket "$NC_TMP/d.sock" \
	--bind "127.0.0.1:$PORT_D" --peer "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" 2>&1) || rc=$?
note "duplicate IPv6 service: exit $rc: $out"
assert_eq 1 "$rc" "exit status of a service whose IPv6 address is taken"
assert_contains "$out" "fd00:95::1 is already in use" "the refusal names the IPv6 address"
assert_contains "$out" "$mac_a" "the refusal names the holder's MAC"

# 2. A duplicate that does not probe is detected and defended against.
start_service D 10.95.0.1/24 --ip6 fd00:95::1/64 --bind "127.0.0.1:$PORT_D" --peer "127.0.0.1:$PORT_A" \
	--peer "127.0.0.1:$PORT_B" --probe-ms 0
mac_d=$("$NETCON" status --socket "$(sock D)" | awk '/^address /{print $4; exit}')
note "D's MAC: $mac_d"
for ((i = 0; i < 50; i++)); do
	grep -q "address conflict: fd00" "$NC_TMP/svc-A.log" && break
	sleep 0.1
done
a_log=$(cat "$NC_TMP/svc-A.log")
assert_contains "$a_log" "address conflict: 10.95.0.1 is also claimed by MAC $mac_d" "A's warning"
assert_contains "$a_log" "address conflict: fd00:95::1 is also claimed by MAC $mac_d" "A's IPv6 warning"
st=$("$NETCON" status --socket "$(sock A)")
n=$(awk '/^address conflicts:/{print $3}' <<<"$st")
[ "${n:-0}" -ge 1 ] || fail "A's status counts no address conflict:
$st"
stop_service D
# B's cache must point at A again at once: the first fetch after D is gone works.
got=$(log under B curl -sS --fail --max-time 5 "$url")
assert_eq "served by A" "$got" "B fetches from A right after the duplicate stopped"
got=$(log under B curl -sS --fail --max-time 5 -g "$url6")
assert_eq "served by A" "$got" "B fetches from A over IPv6 right after the duplicate stopped"

# 4. The neighbour cache is in the status.
st=$("$NETCON" status --socket "$(sock A)")
mac_b=$("$NETCON" status --socket "$(sock B)" | awk '/^address /{print $4; exit}')
assert_contains "$st" "neighbour 10.95.0.2 mac $mac_b" "A's neighbour cache"
assert_contains "$st" "neighbour fd00:95::2 mac $mac_b" "A's IPv6 neighbour cache"

stop web
stop_service B
stop_service A
note "PASS"
