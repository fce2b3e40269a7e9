#!/usr/bin/env bash
# t_wg_proto.sh — the WireGuard protocol's load, timer and roaming rules on the wireguard
# link: two netcon services, A (10.164.0.1, the server) and B (10.164.0.2, curl), over
# loopback through a relay (tests/progs/wgrelay.py) that stands where a NAT would:
#
#   curl under B ─► B :PB ─► relay :RP ─ upstream :UP ─► A :PA ◄─ python3 http.server
#                                                        ▲         under A
#                                      wgflood ──────────┘ (initiations, valid MAC1)
#
# 1. Cookies under load: wgflood sends 8000 initiations a second (valid MAC1, unknown
#    initiator) at A while B fetches 24 MiB from A at 3 MiB/s with the time scale at 30
#    (B rekeys every 4 s): A enters cookie mode and answers the flood with cookie replies
#    (wgflood opens them: authentic), B's rekeys get cookie replies and come back with
#    MAC2, the file arrives (sha256). A second wgflood from ::1 (when there is IPv6
#    loopback) uses the cookies it gets for valid MAC2s: the per-source rate (20 a
#    second) stops it. Diffie-Hellman work
#    for the floods: at most the first 128 and that rate.
# 2. Replayed and forged transport data (the relay resends B's last data messages, then
#    copies with an unused counter and a flipped bit, from another port) are dropped and
#    counted, and A's endpoint for B stays; then roaming: the relay moves its upstream
#    socket to a new port mid-transfer, A follows from the next authenticated message
#    (log and status), nothing is lost (sha256).
# 3. Rekey after time (scale 30: 4 s) at least once in one 12 s transfer, sha256 equal;
#    the session is then left idle past REJECT_AFTER_TIME (6 s scaled) and B's old data
#    messages replayed at A are refused as expired; a new fetch recovers with a new
#    handshake.
# 4. Rekey after messages: A with NETCON_WG_REKEY_AFTER_MESSAGES=2000 (tests only)
#    starts a handshake every 2000 messages of a 24 MiB transfer.
# 5. Keepalives: B's PersistentKeepalive (15 s, scaled to 0.5 s) on an idle link; A's
#    passive keepalive when B sends UDP to A and A has nothing to answer.
# 6. Handshake retries: B alone, its peer's endpoint a listener that never answers
#    (scale 10): an initiation every REKEY_TIMEOUT (0.5 s) plus jitter (up to 33 ms),
#    given up after REKEY_ATTEMPT_TIME (9 s).
# 7. Against Debian's wireguard-go (a TUN in a namespace wgproto-PID): its handshake to
#    netcon N under a flood goes through cookie mode (N's cookie reply opened by
#    wireguard-go, its MAC2 accepted); then roaming: `wg set wgp0 listen-port P`
#    mid-transfer moves its source port; netcon follows, sha256 equal; then wireguard-go
#    under a flood: its cookie replies open with our code, and netcon N2 initiating to it
#    gets through.
# timeout: 400
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built "$BUILD/wgflood"
require_root
require_cmd wg curl ip
umask 077

RELAY=$NC_ROOT/tests/progs/wgrelay.py

at_least() {	# at_least MIN VALUE WHAT
	[ "${2:-0}" -ge "$1" ] || fail "$3: $2, want at least $1"
	note "ok: $3 = $2 (at least $1)"
}

num() {	# num TEXT SED-REGEX-WITH-ONE-GROUP — the number the group matches (whole)
	printf '%s\n' "$1" | sed -n "s/^\(.*[^0-9]\)\{0,1\}$2.*/\2/p" | head -n 1
}

conf() {	# conf FILE KEY PORT PEER ALLOWED [ENDPOINT [KEEPALIVE]]
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n' "$(cat "$NC_TMP/$2.key")" "$3"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(cat "$NC_TMP/$4.pub")" "$5"
		[ -z "${6:-}" ] || printf 'Endpoint = %s\n' "$6"
		[ -z "${7:-}" ] || printf 'PersistentKeepalive = %s\n' "$7"
	} >"$NC_TMP/$1"
}

wait_line() {	# wait_line LOGNAME PATTERN N — the Nth line of NAME.log matching PATTERN
	local i line
	for ((i = 0; i < 50; i++)); do
		line=$(grep -e "$2" "$NC_TMP/$1.log" 2>/dev/null | sed -n "${3}p" || true)
		[ -n "$line" ] && { printf '%s\n' "$line"; return 0; }
		sleep 0.1
	done
	fail "$1: no line $3 matching '$2': $(logtail "$1")"
}

# pair SCALE [KEEPALIVE] — the relay, services A and B (time scale SCALE, or none; B's
# PersistentKeepalive), python3 http.server under A; sets PA PB RP UP HP.
pair() {
	PA=$(free_udp_port)
	PB=$(free_udp_port)
	RP=$(free_udp_port)
	conf a.conf a "$PA" b 10.164.0.2/32
	conf b.conf b "$PB" a 10.164.0.1/32 "127.0.0.1:$RP" "${2:-}"
	spawn relay "$PYTHON" "$RELAY" "$RP" "$PA"
	UP=$(wait_line relay '^upstream port' 1)
	UP=${UP#upstream port }
	NETCON_WG_TIME_SCALE=$1 NETCON_WG_REKEY_AFTER_MESSAGES=${MSGS_A:-} \
		start_service A 10.164.0.1/24 --link wireguard --wg-config "$NC_TMP/a.conf"
	NETCON_WG_TIME_SCALE=$1 start_service B 10.164.0.2/24 --link wireguard --wg-config "$NC_TMP/b.conf"
	HP=$(free_tcp_port)
	spawn_under A aweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HP"
	wait_port B 10.164.0.1 "$HP"
}

unpair() {
	stop aweb
	stop_service B
	stop_service A
	stop relay
}

fetch() {	# fetch FILE [CURL ARGS...] — under B, from A's server; sha256 checked
	local f=$1
	shift
	log under B curl -sS --fail --max-time 120 "$@" -o "$NC_TMP/got" "http://10.164.0.1:$HP/$f"
	assert_files_equal "$www/$f" "$NC_TMP/got"
	rm -f "$NC_TMP/got"
}

show() {	# show SERVICE — its status's wg lines, on stderr; the whole status on stdout
	local st
	st=$(status_of "$1")
	printf '%s\n' "$st" | grep '^wg' | sed "s/^/    $1: /" >&2
	printf '%s\n' "$st"
}

www=$NC_TMP/www
mkdir -p "$www"
head -c 1M /dev/urandom >"$www/small.bin"
head -c 24M /dev/urandom >"$www/big.bin"
wg_keypair a
wg_keypair b

# ---- 1. cookies under a flood of initiations ----------------------------------------------
pair 30
flood_t0=$(now_ms)
spawn flood "$BUILD/wgflood" "$(cat "$NC_TMP/a.pub")" 127.0.0.1 "$PA" 8000 12
flood_pid=$NC_PID
flood6_pid=
if "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
	spawn flood6 "$BUILD/wgflood" "$(cat "$NC_TMP/a.pub")" ::1 "$PA" 2000 12 mac2
	flood6_pid=$NC_PID
else
	note "no IPv6 loopback: the flood with valid MAC2s (another source than B's) is left out"
fi
sleep 1
t0=$SECONDS
fetch big.bin --limit-rate 3M
note "24 MiB at 3 MiB/s under the flood took $((SECONDS - t0)) s"
wait_exit "$flood_pid" 20 || fail "wgflood did not finish: $(logtail flood)"
sent6=0
if [ -n "$flood6_pid" ]; then
	wait_exit "$flood6_pid" 20 || fail "wgflood (mac2) did not finish: $(logtail flood6)"
	out6=$(cat "$NC_TMP/flood6.log")
	note "$out6"
	sent6=$(num "$out6" '\([0-9]*\) initiations sent')
	mac2=$(num "$out6" '\([0-9]*\) with MAC2')
	at_least 10000 "$mac2" "initiations with a valid MAC2 from ::1"
fi
out=$(cat "$NC_TMP/flood.log")
note "$out"
sent=$(num "$out" '\([0-9]*\) initiations sent')
replies=$(num "$out" '\([0-9]*\) cookie replies')
authentic=$(num "$out" '\([0-9]*\) authentic')
at_least 50000 "$sent" "initiations wgflood sent"
at_least $((sent / 2)) "$replies" "cookie replies wgflood received"
assert_eq "$replies" "$authentic" "authentic cookie replies (all of them)"
stA=$(show A)
flood_s=$(( ($(now_ms) - flood_t0 + 999) / 1000 ))
stB=$(show B)
at_least 1 "$(num "$stA" ', \([0-9]*\) times under load')" "A's times under load"
at_least "$replies" "$(num "$stA" '\([0-9]*\) cookie replies sent')" "A's cookie replies sent"
# Diffie-Hellman work: what came before cookie mode (128), then 20 a second from ::1
# (a burst of 5) for as long as A may have been reading the MAC2 flood: from the floods'
# start to A's status above (~13 s; longer on a slow machine, where A drains its socket
# after wgflood's 12 s).
dh=$(( $(num "$stA" '\([0-9]*\) unknown key') + $(num "$stA" '\([0-9]*\) failed authentication') ))
dh_max=$((128 + 5 + 20 * flood_s))
[ "$dh" -le "$dh_max" ] ||
	fail "A did Diffie-Hellman for $dh flood initiations (want ≤ $dh_max in $flood_s s)"
note "ok: A decrypted only $dh of $((sent + sent6)) flood initiations"
# Every MAC2 of ::1 is valid but those made with a cookie of a secret just replaced (the
# secret lives 4 s at this scale): those get a new cookie reply.
[ -z "$flood6_pid" ] ||
	at_least $((mac2 - $(num "$stA" '\([0-9]*\) bad MAC2 received') - 20 * 13 - 5)) \
		"$(num "$stA" '\([0-9]*\) over the per-source rate')" "A's drops over the per-source rate"
at_least 1 "$(num "$stB" 'cookie replies sent, \([0-9]*\) received')" "B's cookie replies received"
at_least 1 "$(num "$stB" '; \([0-9]*\) MAC2 sent')" "B's initiations with MAC2"
at_least 2 "$(num "$stA" 'initiations sent, \([0-9]*\) received')" "A's initiations from B (rekeys under load)"
assert_contains "$stB" "0 bad cookie replies" "B's status"
unpair

# ---- 2. replays, forgeries, roaming (netcon ⇄ netcon) -------------------------------------
pair ""
fetch small.bin
st=$(show A)
assert_contains "$st" "wg peer $(cat "$NC_TMP/b.pub") endpoint 127.0.0.1:$UP " "A's endpoint for B (the relay)"
rep0=$(num "$st" '\([0-9]*\) replayed')
auth0=$(num "$st" '\([0-9]*\) failed authentication')
log kill -USR2 "${NC_SPAWNED[relay]}"
line=$(wait_line relay '^replayed' 1)
n=$(num "$line" 'replayed \([0-9]*\),')
at_least 10 "$n" "data messages the relay replayed"
sleep 0.5
st=$(show A)
assert_eq $((rep0 + n)) "$(num "$st" '\([0-9]*\) replayed')" "A's replayed count"
assert_eq $((auth0 + n)) "$(num "$st" '\([0-9]*\) failed authentication')" "A's failed authentications (forged)"
assert_contains "$st" "endpoint 127.0.0.1:$UP " "A's endpoint for B after replays from elsewhere"
fetch small.bin
# Roaming: the relay's upstream port changes 1.5 s into an 8 s transfer.
spawn roam bash -c "sleep 1.5; kill -USR1 ${NC_SPAWNED[relay]}"
fetch big.bin --limit-rate 3M
UP2=$(wait_line relay '^upstream port' 2)
UP2=${UP2#upstream port }
[ "$UP2" != "$UP" ] || fail "the relay kept its port $UP"
assert_contains "$(show A)" "endpoint 127.0.0.1:$UP2 " "A's endpoint for B after roaming"
assert_contains "$(cat "$NC_TMP/svc-A.log")" "peer endpoint 127.0.0.1:$UP -> 127.0.0.1:$UP2" "A's log"
unpair

# ---- 3. rekey after time, reject after time -----------------------------------------------
pair 30
handshakes() {	# handshakes STATUS — initiations sent and received
	echo $(( $(num "$1" 'wg handshakes: \([0-9]*\) initiations sent') + \
		$(num "$1" 'initiations sent, \([0-9]*\) received') ))
}
# The initial handshake and at least one rekey by time in a 12 s transfer. A rekey every
# 4 s would make 3-4; runs gave 2-3, and a 24 s transfer 3: why the initiator does not
# rekey every REKEY_AFTER_TIME of a rate-limited transfer is open (issue 17). Several
# rekeys in one transfer are checked by messages below (section 4).
fetch big.bin --limit-rate 2M
at_least 2 "$(handshakes "$(show A)")" "handshakes during a 12 s transfer (REKEY_AFTER_TIME 4 s)"
fetch small.bin    # the relay's last data messages: of the session now current
hs=$(handshakes "$(show A)")
exp0=$(num "$st" '\([0-9]*\) expired')
idx0=$(num "$st" '\([0-9]*\) unknown index')
note "idle past REJECT_AFTER_TIME (180 s / 30), before the keys are erased (3 × that)"
sleep 7
log kill -USR2 "${NC_SPAWNED[relay]}"
line=$(wait_line relay '^replayed' 1)
n=$(num "$line" 'replayed \([0-9]*\),')
sleep 0.5
st=$(show A)
exp1=$(num "$st" '\([0-9]*\) expired')
idx1=$(num "$st" '\([0-9]*\) unknown index')
at_least "$n" $((exp1 - exp0)) "messages refused as expired"
assert_eq $((2 * n)) $((exp1 - exp0 + idx1 - idx0)) "replays and forgeries refused (expired or unknown index)"
fetch small.bin
at_least $((hs + 1)) "$(handshakes "$(show A)")" "a new handshake after the expiry"
unpair

# ---- 4. rekey after messages ----------------------------------------------------------------
MSGS_A=2000 pair ""
fetch big.bin
at_least 5 "$(num "$(show A)" 'wg handshakes: \([0-9]*\) initiations sent')" \
	"A's handshakes every 2000 messages of 24 MiB"
unpair

# ---- 5. keepalives ----------------------------------------------------------------------------
pair 30 15
sleep 3
at_least 4 "$(num "$(show B)" 'keepalives: \([0-9]*\) sent')" "B's persistent keepalives in 3 s"
at_least 4 "$(num "$(show A)" 'keepalives: [0-9]* sent, \([0-9]*\) received')" "A's keepalives received"
UPORT=$(free_udp_port)
spawn_under A sink "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    s.recv(2048)' "$UPORT"
sleep 0.5
ka0=$(num "$(show A)" 'keepalives: \([0-9]*\) sent')
log under B "$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b"one way %d" % i, ("10.164.0.1", int(sys.argv[1])))
    time.sleep(0.05)
time.sleep(0.6)' "$UPORT"
at_least $((ka0 + 1)) "$(num "$(show A)" 'keepalives: \([0-9]*\) sent')" "A's passive keepalives"
stop sink
unpair

# ---- 6. handshake retries with jitter, then giving up -------------------------------------
LP=$(free_udp_port)
PB=$(free_udp_port)
conf b.conf b "$PB" a 10.164.0.1/32 "127.0.0.1:$LP"
spawn listener "$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
end = time.monotonic() + 13
print("ready", flush=True)
while time.monotonic() < end:
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    print("%.4f %d %d" % (time.monotonic(), d[0], len(d)), flush=True)' "$LP"
listener_pid=$NC_PID
wait_line listener '^ready' 1 >/dev/null
NETCON_WG_TIME_SCALE=10 start_service B 10.164.0.2/24 --link wireguard --wg-config "$NC_TMP/b.conf"
log under B "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.164.0.1", 9))'
wait_exit "$listener_pid" 20 || fail "the listener did not finish"
grep -v '^ready' "$NC_TMP/listener.log" >"$NC_TMP/inits"
st=$(show B)
"$PYTHON" - "$NC_TMP/inits" "$(num "$st" 'wg handshakes: \([0-9]*\) initiations sent')" <<'PY' || fail "handshake retries: see above"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = [float(r[0]) for r in rows]
bad = [r for r in rows if r[1] != "1" or r[2] != "148"]
gaps = [b - a for a, b in zip(t, t[1:])]
print("initiations: %d; gaps %.3f..%.3f s; last %.2f s after the first" %
      (len(t), min(gaps), max(gaps), t[-1] - t[0]), file=sys.stderr)
ok = True
def want(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stderr)
    ok = ok and cond
want(not bad, "every datagram an initiation (type 1, 148 bytes)")
want(len(t) == int(sys.argv[2]), "as many as B's status counts (%s)" % sys.argv[2])
want(16 <= len(t) <= 19, "REKEY_ATTEMPT_TIME 9 s / (REKEY_TIMEOUT 0.5 s + jitter): 16..19 tries")
want(min(gaps) >= 0.49, "no retry before REKEY_TIMEOUT")
want(max(gaps) <= 0.5 + 0.0334 + 0.1, "each retry within REKEY_TIMEOUT + jitter (+ 0.1 s slack)")
want(max(gaps) - min(gaps) >= 0.008, "the gaps vary (jitter up to 33 ms)")
want(t[-1] - t[0] <= 9.0 + 0.6, "given up after REKEY_ATTEMPT_TIME")
sys.exit(0 if ok else 1)
PY
assert_contains "$st" "(no session)" "B's peer after giving up"
stop_service B

# ---- 7. roaming against wireguard-go --------------------------------------------------------
command -v wireguard-go >/dev/null 2>&1 || { note "SKIP part 7: wireguard-go not installed"; exit 0; }
[ -c /dev/net/tun ] || { note "SKIP part 7: no /dev/net/tun"; exit 0; }
ns=wgproto-$$
netns_add "$ns"
wg_keypair g
GP=$(free_udp_port)
GP2=$(free_udp_port)
NP=$(free_udp_port)
conf g.conf g "$GP" a 10.164.1.2/32 "127.0.0.1:$NP"
conf n.conf a "$NP" g 10.164.1.1/32 "127.0.0.1:$GP"
wggo_start "$ns" "$NC_TMP/g.conf" 10.164.1.1/24 wgp0
start_service --netns "$ns" N 10.164.1.2/24 --link wireguard --wg-config "$NC_TMP/n.conf"
WP=$(free_tcp_port)
spawn_under N nweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$WP"
# wireguard-go's first handshake while N is under a flood: N answers with a cookie
# reply, wireguard-go's next try (REKEY_TIMEOUT later) carries a MAC2 N accepts.
spawn flood2 ip netns exec "$ns" "$BUILD/wgflood" "$(cat "$NC_TMP/a.pub")" 127.0.0.1 "$NP" 8000 25
t0=$SECONDS
wait_port "netns:$ns" 10.164.1.2 "$WP"
st=$(show N)
alive "${NC_SPAWNED[flood2]}" || fail "the flood ended before wireguard-go's handshake completed"
assert_contains "$st" "wg cookies: under load" "N's status during the flood"
at_least 1 "$(num "$st" 'initiations sent, \([0-9]*\) received')" "wireguard-go's handshakes N accepted under load"
assert_contains "$st" "0 bad MAC2 received" "N's status (wireguard-go's MAC2 valid)"
note "wireguard-go got through cookie mode in $((SECONDS - t0)) s"
stop flood2
spawn roam2 ip netns exec "$ns" bash -c "sleep 1.5; wg set wgp0 listen-port $GP2"
log ip netns exec "$ns" curl -sS --fail --max-time 120 --limit-rate 3M -o "$NC_TMP/k-big.bin" "http://10.164.1.2:$WP/big.bin"
assert_files_equal "$www/big.bin" "$NC_TMP/k-big.bin"
assert_contains "$(log ip netns exec "$ns" wg show wgp0 listen-port)" "$GP2" "wireguard-go's new port"
assert_contains "$(show N)" "endpoint 127.0.0.1:$GP2 " "N's endpoint for wireguard-go after it moved"
assert_contains "$(cat "$NC_TMP/svc-N.log")" "peer endpoint 127.0.0.1:$GP -> 127.0.0.1:$GP2" "N's log"
stop nweb
stop_service N

# wireguard-go under a flood (20000 initiations a second) answers with cookie
# replies: wgflood opens every one with wgnoise.c's code (the initiator's side of cookies
# against an outside implementation). N2, initiating to wireguard-go meanwhile, gets
# through: with a MAC2 from wireguard-go's cookie whenever it was given one.
conf n2.conf a "$NP" g 10.164.1.1/32 "127.0.0.1:$GP2"
KP=$(free_tcp_port)
spawn kweb ip netns exec "$ns" "$PYTHON" -m http.server --bind 10.164.1.1 --directory "$www" "$KP"
wait_port "netns:$ns" 10.164.1.1 "$KP"
start_service --netns "$ns" N2 10.164.1.2/24 --link wireguard --wg-config "$NC_TMP/n2.conf"
spawn flood3 ip netns exec "$ns" "$BUILD/wgflood" "$(cat "$NC_TMP/g.pub")" 127.0.0.1 "$GP2" 20000 8
flood3_pid=$NC_PID
sleep 1
# A cookie costs the handshake a REKEY_TIMEOUT (5 s): longer than one connect under
# netcon waits for its SYNs (docs/differences.md), so curl may have to try again.
retry 5 under N2 curl -sS --fail --max-time 60 -o "$NC_TMP/n-small.bin" "http://10.164.1.1:$KP/small.bin" ||
	fail "curl under N2 to a kernel server behind wireguard-go under load"
assert_files_equal "$www/small.bin" "$NC_TMP/n-small.bin"
wait_exit "$flood3_pid" 20 || fail "wgflood did not finish: $(logtail flood3)"
out=$(cat "$NC_TMP/flood3.log")
note "$out"
at_least 1 "$(num "$out" '\([0-9]*\) cookie replies')" "wireguard-go's cookie replies"
assert_eq "$(num "$out" '\([0-9]*\) cookie replies')" "$(num "$out" '\([0-9]*\) authentic')" \
	"wireguard-go's cookie replies opened by wgnoise.c (all)"
st=$(show N2)
got=$(num "$st" 'cookie replies sent, \([0-9]*\) received')
if [ "${got:-0}" -ge 1 ]; then
	at_least 1 "$(num "$st" '; \([0-9]*\) MAC2 sent')" "N2's handshakes with MAC2 after wireguard-go's cookie"
else
	note "N2's initiation came while wireguard-go was not under load: no cookie to use"
fi
assert_contains "$st" "0 bad cookie replies" "N2's status"
stop kweb
stop_service N2
note "cookies under a flood, replays and forgeries dropped, rekeys by time and by messages, expiry, keepalives, retries with jitter, roaming: all checked"
