#!/usr/bin/env bash
# t_wg_uapi.sh — WireGuard's UAPI socket (/var/run/wireguard/NAME.sock) of a netcon
# service on --link wireguard, driven by Debian's wg(8) and by hand.
#
# Three services over WireGuard on loopback: A (10.163.0.1) and B (10.163.0.2) peers by
# their files, C (10.163.0.3) with no peer at all. Each has its own --wg-name, so its own
# socket.
#
# 1. The socket: mode 0600 in a 0755 directory; a second service of the same name is
#    refused with one line; a stale socket of ours is replaced.
# 2. wg show NAME / dump after B fetched a file from A: the peer, its endpoint, a latest
#    handshake, transfer counters that moved; netcon status (text and --json) the same.
# 3. wg set: C added to A (allowed-ips, endpoint) and A to C (no endpoint): a file from C
#    to A through the new peer, sha256 equal. C's listen-port moved and A's endpoint for
#    C changed to it: traffic again. C removed from A: the next fetch fails, A counts
#    "no route", wg show lists no C.
# 4. wg setconf (B and C back in A from a file) and wg syncconf (only C): peers as the
#    files say, traffic to C works, to B not.
# 5. Bad requests on the socket (junk, an unknown key, a line without '=', an over-long
#    line, a request over 256 KiB, a get with more lines): each answered errno=-N, a bad
#    set changes nothing, an idle client blocks nobody, and the service still serves.
# 6. At exit each service removes its socket.
# 7. A service of another user (nobody, XDG_RUNTIME_DIR in the test's directory): its
#    socket in $XDG_RUNTIME_DIR/wireguard; `wg show` and `wg set` reach it from a user and
#    mount namespace where that directory is bound on /var/run/wireguard (the recipe of
#    docs/operations.md). Skipped, saying why, without setpriv or unprivileged userns.
# timeout: 240
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd wg curl socat
umask 077

RUN=/var/run/wireguard
NA=wguapi-a$$
NB=wguapi-b$$
NC=wguapi-c$$
NA=${NA:0:15} NB=${NB:0:15} NC=${NC:0:15}

uapi() {	# uapi NAME — send stdin to the socket of NAME, print the answer (bounded)
	timeout 10 socat -t 5 - "UNIX-CONNECT:$RUN/$1.sock"
}

fetch() {	# fetch SERVICE URL OUT — curl under SERVICE, bounded
	log under "$1" curl -sS --fail --max-time "${4:-30}" -o "$3" "$2"
}

wg_keypair a
wg_keypair b
wg_keypair c
PA=$(free_udp_port)
PB=$(free_udp_port)
PC=$(free_udp_port)
PC2=$(free_udp_port)
wg_conf "$NC_TMP/a.conf" a "$PA" b 10.163.0.2/32 "$PB"
wg_conf "$NC_TMP/b.conf" b "$PB" a 10.163.0.1/32 "$PA"
cat >"$NC_TMP/c.conf" <<EOF
[Interface]
PrivateKey = $(cat "$NC_TMP/c.key")
ListenPort = $PC
EOF

# ---- 1. the socket ----------------------------------------------------------------------
# A stale socket of ours where A's will be: replaced.
[ -d "$RUN" ] || mkdir -m 0755 -p "$RUN"
nc_register "sock $RUN/$NA.sock"
"$PYTHON" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$RUN/$NA.sock"
[ -S "$RUN/$NA.sock" ] || fail "no stale socket made"
start_service A 10.163.0.1/24 --link wireguard --wg-config "$NC_TMP/a.conf" --wg-name "$NA"
start_service B 10.163.0.2/24 --link wireguard --wg-config "$NC_TMP/b.conf" --wg-name "$NB"
start_service C 10.163.0.3/24 --link wireguard --wg-config "$NC_TMP/c.conf" --wg-name "$NC"
for n in "$NA" "$NB" "$NC"; do
	[ -S "$RUN/$n.sock" ] || fail "no UAPI socket $RUN/$n.sock"
	assert_eq 600 "$(stat -c %a "$RUN/$n.sock")" "the mode of $n's UAPI socket"
done
assert_eq 755 "$(stat -c %a "$RUN")" "the mode of $RUN"
printf '[Interface]\nPrivateKey = %s\n' "$(wg genkey)" >"$NC_TMP/dup.conf"
out=$("$NETCON" service --link wireguard --wg-config "$NC_TMP/dup.conf" --wg-name "$NA" \
	--ip 10.163.0.9/24 --socket "$NC_TMP/dup.sock" 2>&1) && fail "a second $NA was accepted"
assert_contains "$out" "$RUN/$NA.sock is in use: a WireGuard interface of that name is running (give another --wg-name)" "the error for a name in use"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "more than one line for a name in use: $out"
# The largest MTU is named right (it said 65440, one more than it takes).
out=$("$NETCON" service --link wireguard --wg-config "$NC_TMP/dup.conf" --wg-name "$NA" \
	--ip 10.163.0.9/24 --socket "$NC_TMP/dup.sock" --mtu 65440 2>&1) && fail "--mtu 65440 was accepted"
assert_contains "$out" "--mtu 65440 is too large for WireGuard (at most 65439)" "the error for --mtu 65440"

# ---- 2. wg show after traffic -------------------------------------------------------------
www=$NC_TMP/www
mkdir -p "$www"
head -c 1M /dev/urandom >"$www/small.bin"
HP=$(free_tcp_port)
spawn_under A aweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HP"
spawn_under C cweb "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HP"
wait_port B 10.163.0.1 "$HP"
fetch B "http://10.163.0.1:$HP/small.bin" "$NC_TMP/b1.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/b1.bin"

show=$(log wg show "$NA")
printf '%s\n' "$show" >&2
assert_contains "$show" "interface: $NA" "wg show"
assert_contains "$show" "public key: $(cat "$NC_TMP/a.pub")" "wg show"
assert_contains "$show" "listening port: $PA" "wg show"
assert_contains "$show" "peer: $(cat "$NC_TMP/b.pub")" "wg show"
assert_contains "$show" "endpoint: 127.0.0.1:$PB" "wg show"
assert_contains "$show" "allowed ips: 10.163.0.2/32" "wg show"
assert_contains "$show" "latest handshake: " "wg show"
assert_contains "$show" "transfer: " "wg show"
dump=$(log wg show "$NA" dump)
# interface: private public port fwmark; peer: public psk endpoint allowed hs rx tx keepalive
read -r _ pub port _ <<<"$(printf '%s\n' "$dump" | head -n 1)"
assert_eq "$(cat "$NC_TMP/a.pub")" "$pub" "dump: the public key"
assert_eq "$PA" "$port" "dump: the port"
read -r ppub _ pep pallowed phs prx ptx _ <<<"$(printf '%s\n' "$dump" | sed -n 2p)"
assert_eq "$(cat "$NC_TMP/b.pub")" "$ppub" "dump: the peer"
assert_eq "127.0.0.1:$PB" "$pep" "dump: the endpoint"
assert_eq "10.163.0.2/32" "$pallowed" "dump: allowed ips"
now=$(date +%s)
[ "$phs" -gt $((now - 120)) ] && [ "$phs" -le $((now + 1)) ] || fail "dump: latest handshake $phs, now $now"
[ "$ptx" -gt $((1024 * 1024)) ] || fail "dump: A sent $ptx bytes to B; want over 1 MiB"
[ "$prx" -gt 0 ] || fail "dump: A received $prx bytes from B"
assert_eq "$(cat "$NC_TMP/a.key")" "$(wg show "$NA" private-key)" "wg show private-key"

st=$(log "$NETCON" status --socket "$(sock A)")
assert_contains "$st" "wg peer $(cat "$NC_TMP/b.pub") endpoint 127.0.0.1:$PB latest handshake" "A's status"
assert_contains "$st" "wg uapi $RUN/$NA.sock: 3 gets, 0 sets" "A's status: the UAPI line"
"$NETCON" status --json --socket "$(sock A)" >"$NC_TMP/a.json"
log "$PYTHON" - "$NC_TMP/a.json" "$(cat "$NC_TMP/b.pub")" "$PB" "$RUN/$NA.sock" "$NC_ROOT/docs/status-json.schema.json" <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(d, json.load(open(sys.argv[5])))
except ImportError:
    print("python3-jsonschema not installed: the schema is not checked")
w = d["wireguard"]
assert w["uapi_socket"] == sys.argv[4], w
assert w["listen_port"] > 0 and len(w["peers"]) == 1, w
p = w["peers"][0]
assert p["public_key"] == sys.argv[2], p
assert p["endpoint"] == "127.0.0.1:" + sys.argv[3], p
assert abs(p["latest_handshake"] - time.time()) < 120, p
assert p["tx_bytes"] > 1 << 20 and p["rx_bytes"] > 0, p
assert p["allowed_ips"] == ["10.163.0.2/32"] and p["session"] == "up", p
print("json ok:", p)
PY

# ---- 3. wg set: add a peer, move an endpoint, remove a peer ----------------------------------
log wg set "$NA" peer "$(cat "$NC_TMP/c.pub")" allowed-ips 10.163.0.3/32 endpoint "127.0.0.1:$PC"
log wg set "$NC" peer "$(cat "$NC_TMP/a.pub")" allowed-ips 10.163.0.1/32
assert_contains "$(wg show "$NC" peers)" "$(cat "$NC_TMP/a.pub")" "C's peers after wg set"
fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a1.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/a1.bin"
assert_contains "$(wg show "$NA" endpoints)" "127.0.0.1:$PC" "A's endpoint for C"

# C listens on another port; A is told (C never sends first, so only the set can tell A).
log wg set "$NC" listen-port "$PC2"
assert_eq "$PC2" "$(wg show "$NC" listen-port)" "C's new listen port"
log wg set "$NA" peer "$(cat "$NC_TMP/c.pub")" endpoint "127.0.0.1:$PC2"
assert_contains "$(wg show "$NA" endpoints)" "127.0.0.1:$PC2" "A's new endpoint for C"
fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a2.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/a2.bin"

log wg set "$NA" peer "$(cat "$NC_TMP/c.pub")" remove
assert_not_contains "$(wg show "$NA" peers)" "$(cat "$NC_TMP/c.pub")" "A's peers after remove"
if fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a3.bin" 3; then
	fail "a fetch from C worked after C was removed from A"
fi
st=$("$NETCON" status --socket "$(sock A)")
nr=$(printf '%s\n' "$st" | sed -n 's/.*tx: \([0-9]*\) no route.*/\1/p')
[ "${nr:-0}" -gt 0 ] || fail "A counted no 'no route' after C was removed: $(printf '%s\n' "$st" | grep '^wg dropped')"

# ---- 4. wg setconf and wg syncconf ---------------------------------------------------------
cat >"$NC_TMP/a2.conf" <<EOF
[Interface]
PrivateKey = $(cat "$NC_TMP/a.key")
ListenPort = $PA
[Peer]
PublicKey = $(cat "$NC_TMP/b.pub")
AllowedIPs = 10.163.0.2/32
Endpoint = 127.0.0.1:$PB
[Peer]
PublicKey = $(cat "$NC_TMP/c.pub")
AllowedIPs = 10.163.0.3/32
Endpoint = 127.0.0.1:$PC2
EOF
log wg setconf "$NA" "$NC_TMP/a2.conf"
peers=$(wg show "$NA" peers | sort)
assert_eq "$(sort "$NC_TMP/b.pub" "$NC_TMP/c.pub")" "$peers" "A's peers after setconf"
fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a4.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/a4.bin"
cat >"$NC_TMP/a3.conf" <<EOF
[Interface]
PrivateKey = $(cat "$NC_TMP/a.key")
ListenPort = $PA
[Peer]
PublicKey = $(cat "$NC_TMP/c.pub")
AllowedIPs = 10.163.0.3/32, 10.163.0.33/32
Endpoint = 127.0.0.1:$PC2
EOF
log wg syncconf "$NA" "$NC_TMP/a3.conf"
assert_eq "$(cat "$NC_TMP/c.pub")" "$(wg show "$NA" peers)" "A's peers after syncconf"
assert_contains "$(wg show "$NA" allowed-ips)" "10.163.0.33/32" "A's allowed ips after syncconf"
assert_eq "$PA" "$(wg show "$NA" listen-port)" "A's port after syncconf"
fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a5.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/a5.bin"
if fetch B "http://10.163.0.1:$HP/small.bin" "$NC_TMP/b2.bin" 3; then
	fail "B still reached A after syncconf removed it"
fi

# ---- 5. bad requests ------------------------------------------------------------------------
# An idle client holds a connection all along: nobody waits for it.
spawn idle socat -u EXEC:"sleep 60" "UNIX-CONNECT:$RUN/$NA.sock"
sleep 0.2
expect_errno() {	# expect_errno WANT WHAT — stdin to A's socket; the answer is errno=WANT
	local ans
	ans=$("$PYTHON" -c '
import socket, sys
req = sys.stdin.buffer.read()
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass   # the service answered and closed before reading it all
ans = b""
try:
    while not ans.endswith(b"\n\n"):
        d = s.recv(65536)
        if not d:
            break
        ans += d
except OSError as e:
    print("error:", e)
sys.stdout.write(ans.decode(errors="replace"))
' "$RUN/$NA.sock")
	assert_eq "errno=$1" "$ans" "the answer to $2"
}
printf 'hello\n\n' | expect_errno -22 "junk"
printf 'set=1\nbogus_key=1\n\n' | expect_errno -22 "an unknown interface key"
printf 'set=1\npublic_key=%064d\nbogus=1\n\n' 0 | expect_errno -22 "an unknown peer key"
printf 'set=1\nno equals sign\n\n' | expect_errno -71 "a line without '='"
{ printf 'set=1\nlisten_port='; head -c 2000 /dev/zero | tr '\0' 1; printf '\n\n'; } | expect_errno -90 "an over-long line"
{ printf 'set=1\n'; head -c 300000 /dev/zero | tr '\0' '#'; } | expect_errno -90 "a request over 256 KiB"
printf 'get=1\nextra=1\n\n' | expect_errno -22 "a get with more lines"
printf 'set=1\nlisten_port=%s\nfwmark=x\n\n' "$PC" | expect_errno -22 "a bad fwmark"
assert_eq "$PA" "$(wg show "$NA" listen-port)" "A's port after a set that failed"
printf 'set=1\npublic_key=%064d\nendpoint=localhost:1\n\n' 1 | expect_errno -22 "a named endpoint"
assert_eq "$(cat "$NC_TMP/c.pub")" "$(wg show "$NA" peers)" "A's peers after sets that failed"
# Two requests on one connection, both answered.
two=$(printf 'get=1\n\nget=1\n\n' | uapi "$NA")
assert_eq 2 "$(printf '%s\n' "$two" | grep -c '^errno=0$')" "two gets on one connection"
alive "${NC_SPAWNED[idle]}" || fail "the idle client went away"
fetch A "http://10.163.0.3:$HP/small.bin" "$NC_TMP/a6.bin"
assert_files_equal "$www/small.bin" "$NC_TMP/a6.bin"
st=$("$NETCON" status --socket "$(sock A)")
printf '%s\n' "$st" | grep '^wg' >&2
assert_contains "$st" "9 refused requests" "A's UAPI counters"
stop idle

# ---- 5b. many peers: netcon status lists them all ----------------------------------------
# (its text once stopped at 2 KiB of the link's lines: about six peers, then the counters
# after them were lost)
args=()
for ((i = 10; i < 70; i++)); do
	args+=(peer "$(wg genkey | wg pubkey)" allowed-ips "10.163.1.$i/32")
done
log wg set "$NA" "${args[@]}"
assert_eq 61 "$(wg show "$NA" peers | wc -l)" "A's peers after adding 60"
st=$("$NETCON" status --socket "$(sock A)")
assert_eq 61 "$(printf '%s\n' "$st" | grep -c '^wg peer ')" "peer lines in A's status"
assert_contains "$st" "wg handshakes:" "A's status after its peers"
assert_contains "$st" "wg uapi " "A's status after its peers"

# ---- 6. exit -----------------------------------------------------------------------------
for s in A B C; do
	stop_service "$s"
done
for n in "$NA" "$NB" "$NC"; do
	[ ! -e "$RUN/$n.sock" ] || fail "$RUN/$n.sock left behind"
done

# ---- 7. a service of another user --------------------------------------------------------
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if ! command -v setpriv >/dev/null || ! as_nobody unshare --user --map-root-user --mount true 2>/dev/null; then
	note "SKIP part 7: no setpriv, or no unprivileged user namespaces here"
else
	xdg=$NC_TMP/xdg
	mkdir -p "$xdg"
	cp "$NC_TMP/c.conf" "$xdg/u.conf"
	chown -R nobody "$xdg"
	chmod 711 "$NC_TMP"
	NU=wguapi-u$$
	NU=${NU:0:15}
	spawn svc-U setpriv --reuid=nobody --regid=nogroup --clear-groups env XDG_RUNTIME_DIR="$xdg" \
		"$NETCON" service --link wireguard --wg-config "$xdg/u.conf" --wg-name "$NU" \
		--ip 10.163.0.4/24 --socket "$xdg/u.sock"
	for ((i = 0; i < 100; i++)); do
		[ -S "$xdg/wireguard/$NU.sock" ] && break
		sleep 0.05
	done
	[ -S "$xdg/wireguard/$NU.sock" ] || fail "no UAPI socket in \$XDG_RUNTIME_DIR/wireguard: $(logtail svc-U)"
	[ ! -e "$RUN/$NU.sock" ] || fail "a user's service made $RUN/$NU.sock"
	assert_eq "nobody 600" "$(stat -c '%U %a' "$xdg/wireguard/$NU.sock")" "the user's UAPI socket"
	out=$(as_nobody unshare --user --map-root-user --mount sh -c \
		'mount --bind "$1/wireguard" /var/run/wireguard &&
		 wg set "$2" peer "$3" allowed-ips 10.163.0.1/32 endpoint "127.0.0.1:$4" && wg show "$2"' \
		sh "$xdg" "$NU" "$(cat "$NC_TMP/a.pub")" "$PA" 2>&1) || fail "wg in a user namespace: $out"
	printf '%s\n' "$out" >&2
	assert_contains "$out" "interface: $NU" "wg show of the user's service"
	assert_contains "$out" "peer: $(cat "$NC_TMP/a.pub")" "wg set of the user's service"
	stop svc-U
	[ ! -e "$xdg/wireguard/$NU.sock" ] || fail "the user's service left its UAPI socket"
fi
note "wg show, wg set, wg setconf and wg syncconf drive netcon; bad requests refused"
