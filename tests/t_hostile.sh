#!/usr/bin/env bash
# timeout: 400
# t_hostile.sh — a hostile client on service A's control socket, while another program's
# download runs through the same service.
#
#   python3 http.server 0.0.0.0:$HTTP         curl --limit-rate (20+ s) .../big.bin
#            │ intercept                               │ intercept
#   ┌────────┴─────────────┐                 ┌─────────┴────────────┐
#   │ service A            │                 │ service B            │
#   │ 10.93.0.1/24         │◄──── VXLAN ────►│ 10.93.0.2/24         │
#   └────────┬─────────────┘   (loopback)    └──────────────────────┘
#            │ control socket
#   build/hostile (tests/progs/hostile.c, no intercept):
#     truncated, bad length, oversized (> NC_RPC_MAX_MSG), a reply type as a request,
#     unknown type, wrong payload size, error code in a request, unknown flags, missing
#     fd, extra fds, 3 fds, empty message with fds, a reply channel that is no socket, a
#     blocking reply channel kept full; subjects that are no socket / not its sockets;
#     100,000 HELLOs pipelined; a flood that never reads its replies; 4,200 connections
#     from one process (64 kept; another program still connects); 3,000 BINDs holding
#     their socketpairs; a UDP socket fed malformed datagrams and junk.
#
# Checks: each malformed client is dropped promptly, and A's log names the reason; the
# download completes with the right sha256; A never dies, answers `netcon status`
# afterwards with its tables back to what they were, and exits 0 on SIGTERM.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTILE=$BUILD/hostile
require_built "$HOSTILE"
require_cmd curl

www=$NC_TMP/www
mkdir -p "$www"
log head -c 48M /dev/urandom >"$www/big.bin"

start_pair 10.93.0
PID_A=${NC_SERVICE[A]}
SOCK_A=$(sock A)
HTTP=$(free_tcp_port)
spawn_under A web "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HTTP"
wait_port B 10.93.0.1 "$HTTP"

# The bystander: ~24 s at 2 MiB/s, so it spans the whole attack.
spawn_under B download curl -sS --fail --max-time 240 --limit-rate 2M \
	-o "$NC_TMP/big.out" "http://10.93.0.1:$HTTP/big.bin"
DL_PID=$NC_PID
sleep 1
clients_before=$("$NETCON" status --socket "$(sock A)" | sed -n 's/^clients \([0-9]*\),.*/\1/p')
note "service A has $clients_before RPC clients before the attack (the status request included)"

# alive_a — service A still running.
alive_a() { alive "$PID_A" || fail "service A died: $(logtail svc-A 20)"; }

# hostile ATTACK ARGS... — run one attack (bounded), show and keep its output in $OUT.
hostile() {
	local rc=0
	OUT=$(log timeout -k 5 150 "$HOSTILE" "$SOCK_A" "$@" 2>&1) || rc=$?
	printf '%s\n' "$OUT" | sed 's/^/    | /' >&2
	[ "$rc" = 0 ] || fail "hostile $1 exited $rc"
	alive_a
}

# 1. Malformed messages: every one costs the client its connection.
hostile protocol
for a in truncated badlen oversized reply-as-request unknown-type bad-size err-set \
	unknown-flags missing-fd extra-fd three-fds empty-with-fds notsock-reply-channel \
	full-reply-channel resolve-unterminated resolve-bad-op; do
	assert_contains "$OUT" "ok $a: dropped" "attack $a"
done
svclog=$(cat "$NC_TMP/svc-A.log")
for why in "shorter than the header" "header length differs from the message" \
	"message or fds too large" "wrong direction" "unknown message type" \
	"payload size differs from the type's" "request with an error code" "unknown flags" \
	"number of fds differs from the flags" "empty message with fds" \
	"cannot send the reply: Socket operation on non-socket" \
	"cannot send the reply: Resource temporarily unavailable" \
	"resolve: bad name or family" "resolve: bad op"; do
	assert_contains "$svclog" "dropping client pid" "service log"
	assert_contains "$svclog" ": $why" "service log (reason)"
done

# 2. Subjects that are no socket, or no socket of the service.
hostile notsock-subject
assert_contains "$OUT" "ok notsock-subject" "notsock-subject"
hostile foreign
[ "$(grep -c '^ok foreign' <<<"$OUT")" = 2 ] || fail "foreign: $OUT"
note "ok: foreign subjects name nothing"

# 3. Floods.
hostile flood 100000
assert_contains "$OUT" "ok flood: 100000 HELLOs answered" "flood"
hostile flood-noread 2000000
assert_contains "$OUT" "ok flood-noread: dropped" "flood without reading"

# 4. Exhaustion: one process opens more control connections than the service keeps in
#    all (NC_MAX_CLIENTS = 4096); it keeps 64 (NC_MAX_CLIENTS_PER_PID), so while it holds
#    them another program still gets a connection. Then thousands of bound sockets (two
#    fds each in the service) held at once.
log timeout -k 5 150 "$HOSTILE" "$SOCK_A" conns 4200 6 >"$NC_TMP/conns.out" 2>&1 &
conns_pid=$!
for _ in $(seq 1 100); do
	grep -q "ok conns" "$NC_TMP/conns.out" 2>/dev/null && break
	sleep 0.1
done
assert_contains "$(cat "$NC_TMP/conns.out")" "ok conns: 4200 connections opened, 64 kept" \
	"connections kept for one process"
st=$(log "$NETCON" status --socket "$SOCK_A") || fail "netcon status refused during the hoarding"
assert_contains "$st" "clients " "another program's status request during the hoarding"
wait "$conns_pid" || fail "hostile conns exited $?"
alive_a
assert_contains "$(cat "$NC_TMP/svc-A.log")" "control connections, the limit" "service log"
hostile binds 3000 2
assert_contains "$OUT" "ok binds: 3000 bound sockets held" "binds held"

# 5. A virtual UDP socket whose program writes malformed datagrams and junk: each dropped
#    and counted.
hostile udp
assert_contains "$OUT" "ok udp: 8 malformed datagrams" "udp garbage written"
dropped=0
for _ in $(seq 1 50); do
	dropped=$("$NETCON" status --socket "$SOCK_A" | sed -n 's/^udp: .* \([0-9]*\) dropped$/\1/p')
	[ "${dropped:-0}" -ge 8 ] && break
	sleep 0.1
done
[ "${dropped:-0}" -ge 8 ] || fail "A counted ${dropped:-no} dropped datagrams, expected at least 8"
note "ok: A dropped and counted $dropped malformed or undeliverable datagrams"
alive_a

# 6. The bystander's download completed, byte-exact.
rc=0
wait_exit "$DL_PID" 240 || rc=$?
[ "$rc" = 0 ] || fail "the download under B exited $rc during the attack: $(logtail download 5)"
assert_files_equal "$www/big.bin" "$NC_TMP/big.out"

# 7. A still serves, and its tables came back: no client and no bound socket left over
#    (the web server's listener stays).
alive_a
st=""
for i in $(seq 1 50); do
	st=$("$NETCON" status --socket "$SOCK_A" 2>&1) || true
	grep -q "sockets: 0 connections, 1 listeners, 0 bound" <<<"$st" && break
	sleep 0.2
done
sed -n '1,8s/^/    | /p' <<<"$st" >&2	# (no pipe into head: SIGPIPE under pipefail)
assert_contains "$st" "sockets: 0 connections, 1 listeners, 0 bound" "A's status after the attack"
assert_contains "$st" "clients $clients_before," "A's RPC clients (as before the attack)"
got=$(log under B curl -sS --fail --max-time 20 "http://10.93.0.1:$HTTP/" | grep -c big.bin || true)
assert_eq 1 "$got" "a new request through A after the attack"

stop web
stop_service B
stop_service A
note "PASS"
