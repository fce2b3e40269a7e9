#!/usr/bin/env bash
# t_publish.sh — ports of the host published into the virtual network (--publish).
#
#   host (no netcon): curl, dig, tcpbench      service A (10.86.0.1)        service B
#     127.0.0.1:HP_NGX ──► kernel socket handed to nginx under A (preload), port P
#     127.0.0.1:HP_BB  ──► kernel socket handed to busybox httpd under A (seccomp), PB
#     127.0.0.1:HP_TB  ──► kernel socket handed to tcpbench serve under A, PT
#     127.0.0.1:HP_B   ──► through lwIP ══ VXLAN ══► python http.server under B, P
#     127.0.0.1:HP_NO  ──► through lwIP to B's closed port: the client is reset
#     127.0.0.1:HU (udp) ──► A's DNS (--dns) on 10.86.0.1:53, answers back
#
# Checks: nginx serves 1 KiB and 16 MiB to the host's curl (sha256), and logs the real
# client (127.0.0.1); 1,000 sequential connections (tcpbench connrate) all complete; a
# static busybox httpd in seccomp mode is reached the same way; a published port whose
# address lives on B carries 16 MiB there (sha256); a closed one resets the client; a DNS
# query to the published UDP port is answered; `netcon status` counts each path.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl
NET=10.86.0
P=$(free_tcp_port); PB=$(free_tcp_port); PT=$(free_tcp_port)
HP_NGX=$(free_tcp_port); HP_BB=$(free_tcp_port); HP_TB=$(free_tcp_port)
HP_B=$(free_tcp_port); HP_NO=$(free_tcp_port); HU=$(free_udp_port)
start_pair "$NET"
stop_service A   # A again, with the published ports (start_pair chose the VXLAN ports)
start_service A "$NET.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--dns --host "web.publish=$NET.1" \
	--publish "tcp:127.0.0.1:$HP_NGX:$NET.1:$P" --publish "tcp:127.0.0.1:$HP_BB:$NET.1:$PB" \
	--publish "tcp:127.0.0.1:$HP_TB:$NET.1:$PT" --publish "tcp:127.0.0.1:$HP_B:$NET.2:$P" \
	--publish "tcp:127.0.0.1:$HP_NO:$NET.2:1" --publish "udp:127.0.0.1:$HU:$NET.1:53"

# nginx under A (preload), in a namespace without network.
ng=$NC_TMP/nginx
mkdir -p "$ng"
{
	nginx_conf_head "$ng" 256
	cat <<NGX
    log_format peer '\$remote_addr \$status \$body_bytes_sent';
    access_log $ng/peer.log peer;
    server { listen 0.0.0.0:$P; root $ng/www; }
}
NGX
} >"$ng/nginx.conf"
head -c 1024 /dev/urandom >"$ng/www/small"
head -c 16M /dev/urandom >"$ng/www/big"
spawn nginx unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
	nginx -c "$ng/nginx.conf" -e "$ng/error.log"
retry 50 curl -sS --max-time 3 -o /dev/null "http://127.0.0.1:$HP_NGX/small" >/dev/null ||
	fail "nginx under A never answered on the published port: $(logtail nginx)"
for f in small big; do
	log curl -sS --fail --max-time 30 -o "$NC_TMP/$f.out" "http://127.0.0.1:$HP_NGX/$f"
	assert_files_equal "$ng/www/$f" "$NC_TMP/$f.out"
done
assert_contains "$(tail -n 1 "$ng/peer.log")" "127.0.0.1 200 16777216" \
	"nginx's log: the real client and the bytes"
note "ok: the host's curl → published port → nginx under A (kernel socket handed over)"

# 1,000 connections to tcpbench's server under A.
spawn tbsrv unshare --net "$NETCON" intercept --socket "$(sock A)" -- "$BUILD/tcpbench" serve "0.0.0.0:$PT"
retry 50 timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HP_TB" >/dev/null ||
	fail "tcpbench serve under A did not answer: $(logtail tbsrv)"
out=$(log "$BUILD/tcpbench" connrate 127.0.0.1 "$HP_TB" 1000 60)
assert_eq 1000 "$(awk '{print $2}' <<<"$out")" "connections through the published port"
note "ok: 1,000 connections through the published port ($out)"

# busybox httpd (static: seccomp mode) under A.
if bb=$(command -v busybox) && "$NETCON" show "$bb" | grep -q "mode:      seccomp"; then
	spawn bbhttpd unshare --net "$NETCON" intercept --socket "$(sock A)" -- \
		"$bb" httpd -f -p "0.0.0.0:$PB" -h "$ng/www"
	retry 50 curl -sS --fail --max-time 3 -o "$NC_TMP/bb.out" "http://127.0.0.1:$HP_BB/big" >/dev/null ||
		fail "busybox httpd under A never answered: $(logtail bbhttpd)"
	assert_files_equal "$ng/www/big" "$NC_TMP/bb.out"
	note "ok: a published port → busybox httpd in seccomp mode"
else
	note "no static busybox (busybox-static): the seccomp-mode check is not run"
fi

# Through lwIP to B's server; and to a closed port of B.
spawn_under B pyB "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$ng/www" "$P"
retry 50 curl -sS --fail --max-time 3 -o /dev/null "http://127.0.0.1:$HP_B/small" >/dev/null ||
	fail "B's server never answered through A's published port: $(logtail pyB)"
log curl -sS --fail --max-time 60 -o "$NC_TMP/viaB.out" "http://127.0.0.1:$HP_B/big"
assert_files_equal "$ng/www/big" "$NC_TMP/viaB.out"
note "ok: a published port whose address is B's: 16 MiB through the virtual network"
rc=0
out=$(curl -sS --max-time 10 "http://127.0.0.1:$HP_NO/" 2>&1) || rc=$?
# The host's kernel has accepted the connection by then: the reset comes after it, and
# curl reports it as a failed receive (56, "reset by peer"), as a failed send (55, "reset
# by peer": it lands while curl writes its request), or as a failed connect (7) when it
# lands before curl's first write — "reset by peer" too, or, when it lands before curl has
# even checked its connect, "Couldn't connect to server", as curl says against a kernel
# server that accepts and resets at once. That it was this reset, not a port nobody
# listens on, A's counters say: the connection went into the virtual network and lwIP's
# connect there was refused.
case $rc in 7|55|56) ;; *) fail "curl's exit status for the closed virtual port: $rc ($out)" ;; esac
case $out in
*"reset by peer"*|*"Couldn't connect to server"*) ;;
*) fail "curl's message for the closed virtual port: $out" ;;
esac
st=$(status_of A)
assert_contains "$st" "publish tcp:127.0.0.1:$HP_NO:$NET.2:1: 0 handed to a program, 1 through the virtual network" \
	"A's count of connections to the closed virtual port"
if ! [[ $st =~ connects\ \(([0-9]+)\ refused\) ]] || [ "${BASH_REMATCH[1]}" -lt 1 ]; then
	fail "A counts no refused connect for the closed virtual port: $st"
fi

# UDP: A's DNS through the published port.
if command -v dig >/dev/null; then
	out=$(log dig +short +time=2 +tries=2 @127.0.0.1 -p "$HU" web.publish A)
	assert_eq "$NET.1" "$out" "a DNS answer through the published UDP port"
else
	note "no dig (bind9-dnsutils): the UDP check is not run"
fi

st=$(log "$NETCON" status --socket "$(sock A)")
assert_contains "$st" "publish tcp:127.0.0.1:$HP_NGX:$NET.1:$P: 3 handed to a program" "status: nginx's port"
assert_contains "$st" "publish tcp:127.0.0.1:$HP_B:$NET.2:$P: 0 handed to a program," "status: B's port"
assert_contains "$st" "publish udp:127.0.0.1:$HU:$NET.1:53: " "status: the UDP port"
stop nginx
stop_service A
stop_service B
note "PASS"
