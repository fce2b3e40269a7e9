#!/usr/bin/env bash
# t_linkhints.sh — a service that cannot reach any peer says so, and `netcon service`
# says when it is ready.
#
#   1. netcon service ...            → one "netcon service: ready: ..." line at the
#                                      default log level, naming address, link, socket
#   2. netcon run (no --peer) -- connect 10.91.0.2:80, then [fd00:91::2]:80
#                                    → "no peer to ask for 10.91.0.2" (fd00:91::2) on stderr
#   3. unshare --net netcon run --peer 127.0.0.1:$Q -- connect 10.91.0.2:80   (root)
#        ┌ new network namespace (loopback down) ┐
#        │ service 10.91.0.1/24 ── VXLAN ──► ✗   │  sendmmsg: ENETUNREACH
#        └───────────────────────────────────────┘
#                                    → "cannot send to 127.0.0.1:$Q: Network is
#                                      unreachable (no route to that peer ...)"
# Nothing is sent anywhere: no peer (2), or no route (3).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built

guard_subnet 10.91.0.0/24
UP=$(free_udp_port)
Q=$(free_udp_port)
CONNECT=("$PYTHON" -c '
import socket
try:
    socket.create_connection(("10.91.0.2", 80), timeout=8)
    print("connected")
except OSError as e:
    print("error", e)')

# 1. The ready line, at the default level (no --log-level).
spawn svc "$NETCON" service --ip 10.91.0.1/24 --socket "$NC_TMP/a.sock" --link vxlan \
	--bind "127.0.0.1:$UP"
retry 100 grep -q "ready" "$NC_TMP/svc.log" || fail "no ready line: $(logtail svc 5)"
line=$(grep ready "$NC_TMP/svc.log")
note "ready line: $line"
assert_eq "netcon service: ready: 10.91.0.1/24 on vxlan 127.0.0.1:$UP, socket $NC_TMP/a.sock" \
	"$line" "the ready line"
[ -S "$NC_TMP/a.sock" ] || fail "ready said before the socket exists"
log kill -TERM "${NC_SPAWNED[svc]}"
wait_exit "${NC_SPAWNED[svc]}" 5 || fail "service did not stop"

# 2. No peer at all: the first ARP request says there is nobody to ask.
out=$(log timeout -k 2 20 "$NETCON" run --ip 10.91.0.1/24 --link vxlan --bind "127.0.0.1:$UP" \
	-- "${CONNECT[@]}" 2>&1) || true
printf '%s\n' "$out" | sed 's/^/    | /' >&2
assert_contains "$out" "no peer to ask for 10.91.0.2" "hint without a peer"
assert_contains "$out" "error" "the program's connect"

# 2b. The same over IPv6 (a neighbour solicitation instead of ARP).
guard_subnet fd00:91::/64
out=$(log timeout -k 2 20 "$NETCON" run --ip 10.91.0.1/24 --ip6 fd00:91::1/64 --link vxlan \
	--bind "127.0.0.1:$UP" -- "$PYTHON" -c '
import socket
try:
    socket.create_connection(("fd00:91::2", 80), timeout=8)
except OSError as e:
    print("error", e)' 2>&1) || true
printf '%s\n' "$out" | sed 's/^/    | /' >&2
assert_contains "$out" "no peer to ask for fd00:91::2" "hint without a peer, IPv6"

# 3. A peer the namespace has no route to (root: unshare --net).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	out=$(log timeout -k 2 20 unshare --net "$NETCON" run --ip 10.91.0.1/24 --link vxlan \
		--bind "127.0.0.1:$UP" --peer "127.0.0.1:$Q" -- "${CONNECT[@]}" 2>&1) || true
	printf '%s\n' "$out" | sed 's/^/    | /' >&2
	assert_contains "$out" "cannot send to 127.0.0.1:$Q: Network is unreachable (no route" \
		"hint in a namespace without a route to the peer"
	assert_eq 1 "$(grep -c "cannot send to" <<<"$out")" "lines of that hint (said once)"
else
	note "not root or no unshare: the namespace case is not run"
fi
note "PASS"
