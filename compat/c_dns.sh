#!/usr/bin/env bash
# c_dns.sh — names on the virtual network: service A answers DNS (--dns) for its --host
# table; dig and host (their own resolver, UDP queries) and getent (libc's resolver,
# intercepted) run under B, whose namespace has no network; curl fetches by name.
# program: dig, host (bind9-dnsutils) and getent/curl by name
# packages: bind9-dnsutils curl
# checks: dig A, AAAA, PTR and NXDOMAIN from A's DNS under B; host; getent hosts; curl http://web.compat:PORT/ byte-exact — all inside `unshare --net`
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs bind9-dnsutils curl python3
names=(--host "web.compat=$COMPAT_NET.1" --host "web.compat=fd00:c0::1" --host "client.compat=$COMPAT_NET.2")
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A "$COMPAT_NET.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" "${names[@]}" --dns
start_service B "$COMPAT_NET.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" "${names[@]}"
www=$NC_TMP/www
mkdir -p "$www"
head -c 3M /dev/urandom >"$www/blob"
H=$(free_tcp_port)
spawn_in_ns A web python3 -m http.server --bind 0.0.0.0 --directory "$www" "$H"
wait_port B "$COMPAT_NET.1" "$H"	# the listener, before curl asks for it by name
inb() {	# under B, in a namespace with no network when namespaces are available
	if [ ${#COMPAT_UNSHARE[@]} -eq 0 ]; then log under B "$@"; else log under B "${COMPAT_UNSHARE[@]}" -- "$@"; fi
}
NC_TIMEOUT=3 retry 50 under B dig +short +tries=1 +time=1 @"$COMPAT_NET.1" web.compat A >/dev/null ||
	fail "A's DNS did not answer"
assert_eq "$COMPAT_NET.1" "$(inb dig +short +tries=2 +time=2 @"$COMPAT_NET.1" web.compat A)" "dig A"
assert_eq "fd00:c0::1" "$(inb dig +short +tries=2 +time=2 @"$COMPAT_NET.1" web.compat AAAA)" "dig AAAA"
assert_eq "client.compat." "$(inb dig +short +tries=2 +time=2 @"$COMPAT_NET.1" -x "$COMPAT_NET.2")" "dig -x"
out=$(inb dig +tries=2 +time=2 @"$COMPAT_NET.1" nosuch.compat A)
assert_contains "$out" "status: NXDOMAIN" "dig NXDOMAIN"
out=$(inb host -W 2 web.compat "$COMPAT_NET.1")
assert_contains "$out" "web.compat has address $COMPAT_NET.1" "host"
assert_contains "$(inb getent hosts web.compat)" "web.compat" "getent hosts"
NC_TIMEOUT=30 inb curl -sS --fail -o "$NC_TMP/blob" "http://web.compat:$H/blob" || fail "curl by name"
assert_files_equal "$www/blob" "$NC_TMP/blob"
compat_note "dig A/AAAA/PTR/NXDOMAIN, host, getent, curl by name (3 MiB) from a namespace without network"
note PASS
