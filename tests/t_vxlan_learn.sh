#!/usr/bin/env bash
# t_vxlan_learn.sh — VXLAN learning with several services on one address (127.0.0.1),
# told apart only by their UDP ports, in four peer configurations ("x → y": x has
# --peer y):
#
#   a. three, the case of issue 12:  a1 ⇄ a2,  a3 → a1
#   b. three, star, hub without peers:  b2 → b1,  b3 → b1
#   c. five, star, the hub peering one spoke:  c1 → c2,  c2..c5 → c1
#   d. five, each peering every earlier one, the first the second:  d1 → d2,
#      dN → d1..d(N-1)
#
#      127.0.0.1:P1   127.0.0.1:P2   127.0.0.1:P3   ...    (one UDP socket each)
#      ┌────────┐     ┌────────┐     ┌────────┐
#      │ svc 1  │     │ svc 2  │     │ svc 3  │      10.95.K.N/24, python3 http.server
#      └────────┘     └────────┘     └────────┘      under each, curl under the others
#
# A service learns each MAC at the exact address its frames come from; a static peer
# that shares the IP must not capture another service's port (it did: a1 learned a3's
# MAC at a2's port and a3 could not reach a1). Every pair joined by a peering (in either
# direction) fetches a file from each other both ways, byte-exact; pairs of spokes that
# never hear of each other are not expected to connect (no service relays frames).
# Last, netcon status of a1 shows a3's MAC learned at a3's own port.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl

www=$NC_TMP/www
mkdir -p "$www"
log head -c 256K /dev/urandom >"$www/f.bin"
HTTP=$(free_tcp_port)
declare -A PORT

# ports NAME... — a free UDP port for each service, before any starts (so a service can
# peer one started after it).
ports() {
	local n
	for n in "$@"; do PORT[$n]=$(free_udp_port); done
}

# start NAME NET N PEERS... — service NAME at NET.N/24 on its UDP port, peering the
# named services, with an http.server under it.
start() {
	local name=$1 net=$2 n=$3 p args=()
	shift 3
	for p in "$@"; do args+=(--peer "127.0.0.1:${PORT[$p]}"); done
	start_service "$name" "$net.$n/24" --bind "127.0.0.1:${PORT[$name]}" "${args[@]}"
	spawn_under "$name" "web-$name" "$PYTHON" -m http.server --bind 0.0.0.0 \
		--directory "$www" "$HTTP"
}

# fetch CLIENT SERVER-IP — curl under CLIENT gets f.bin from SERVER-IP, byte-exact.
fetch() {
	local client=$1 ip=$2 out=$NC_TMP/out-$1-$2
	rm -f "$out"
	NC_TIMEOUT=5 retry 25 under "$client" curl -sS --fail --max-time 3 -o "$out" \
		"http://$ip:$HTTP/f.bin" >/dev/null ||
		fail "$client could not fetch from $ip"
	assert_files_equal "$www/f.bin" "$out"
}

# pair PREFIX NET X Y — services PREFIX.X (at NET.X) and PREFIX.Y (NET.Y) reach each
# other: Y fetches from X, then X from Y.
pair() {
	local pre=$1 net=$2 x=$3 y=$4
	fetch "$pre$y" "$net.$x"
	fetch "$pre$x" "$net.$y"
}

# stop_all NAME... — stop the servers and the services.
stop_all() {
	local s
	for s in "$@"; do stop "web-$s"; done
	for s in "$@"; do stop_service "$s"; done
}

note "a. three services, a1 ⇄ a2, a3 → a1"
ports a1 a2 a3
start a1 10.95.1 1 a2
start a2 10.95.1 2 a1
start a3 10.95.1 3 a1
pair a 10.95.1 1 2
pair a 10.95.1 1 3
st=$(log "$NETCON" status --socket "$(sock a1)")
printf '%s\n' "$st" | grep -E '^(peer|learned)' >&2
assert_contains "$st" "peer 127.0.0.1:${PORT[a2]}" "a1's static peer"
assert_contains "$st" "-> 127.0.0.1:${PORT[a3]} " "a1 learned a3 at a3's own port"
stop_all a1 a2 a3

note "b. three services, star: b2 → b1, b3 → b1"
ports b1 b2 b3
start b1 10.95.2 1
start b2 10.95.2 2 b1
start b3 10.95.2 3 b1
pair b 10.95.2 1 2
pair b 10.95.2 1 3
stop_all b1 b2 b3

note "c. five services, star: c1 → c2, c2..c5 → c1"
ports c1 c2 c3 c4 c5
start c1 10.95.3 1 c2
start c2 10.95.3 2 c1
start c3 10.95.3 3 c1
start c4 10.95.3 4 c1
start c5 10.95.3 5 c1
for i in 2 3 4 5; do pair c 10.95.3 1 "$i"; done
stop_all c1 c2 c3 c4 c5

note "d. five services, each peering every earlier one, d1 → d2"
ports d1 d2 d3 d4 d5
start d1 10.95.4 1 d2
start d2 10.95.4 2 d1
start d3 10.95.4 3 d1 d2
start d4 10.95.4 4 d1 d2 d3
start d5 10.95.4 5 d1 d2 d3 d4
for i in 1 2 3 4; do
	for ((j = i + 1; j <= 5; j++)); do pair d 10.95.4 "$i" "$j"; done
done
stop_all d1 d2 d3 d4 d5
note "PASS"
