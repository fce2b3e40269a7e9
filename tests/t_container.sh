#!/usr/bin/env bash
# t_container.sh — the container case: the server runs in a network namespace that has no
# network at all (only a loopback device, down); the intercept reaches service A through
# the Unix socket's path, which works across network namespaces.
#
#   ┌ unshare --net ─────────────────────┐
#   │ (only lo)                          │
#   │ python3 -m http.server 0.0.0.0:$HTTP│        curl http://10.88.0.1:$HTTP/page.html
#   └──────────┼─────────────────────────┘               │ intercept
#              │ intercept: $TMP/A.sock (path)           │
#   ┌──────────┴───────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# Checks: the server's namespace is not the host's and has exactly one link, lo; curl under
# B gets the page and a 2 MiB file byte-exact; so does a curl that is itself in a namespace
# with no network.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd curl unshare nsenter

if [ "$(id -u)" = 0 ]; then
	UNSHARE=(unshare --net)
	NSENTER=(nsenter --net)
elif unshare --user --map-root-user --net true 2>/dev/null; then
	UNSHARE=(unshare --user --map-root-user --net)
	NSENTER=(nsenter --user --preserve-credentials --net)
else
	skip "cannot create a network namespace (not root, no user namespaces)"
fi

www=$NC_TMP/www
mkdir -p "$www"
echo "hello from a program with no network ($$)" >"$www/page.html"
head -c 2M /dev/urandom >"$www/blob.bin"

start_pair 10.88.0
HTTP=$(free_tcp_port)
url=http://10.88.0.1:$HTTP

spawn web "${UNSHARE[@]}" -- "$NETCON" intercept --socket "$(sock A)" -- \
	"$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" "$HTTP"
web=$NC_PID

# The namespace the server is really in (unshare execs, so $web is in it from the start).
host_ns=$(readlink /proc/self/ns/net)
for _ in $(seq 1 50); do
	web_ns=$(readlink "/proc/$web/ns/net" 2>/dev/null || true)
	[ -n "$web_ns" ] && [ "$web_ns" != "$host_ns" ] && break
	sleep 0.1
done
note "host netns $host_ns, server netns ${web_ns:-?}"
if [ -z "$web_ns" ] || [ "$web_ns" = "$host_ns" ]; then
	fail "server is not in a network namespace of its own"
fi
links=$(log "${NSENTER[@]}" --target "$web" ip -o link)
printf '%s\n' "$links" | sed 's/^/    /' >&2
assert_eq 1 "$(grep -c . <<<"$links")" "links in the server's namespace"
assert_contains "$links" ": lo: " "the one link"

wait_port B 10.88.0.1 "$HTTP"
page=$(log under B curl -sS --fail --max-time 30 "$url/page.html")
assert_eq "$(cat "$www/page.html")" "$page" "page fetched from the namespace"
log under B curl -sS --fail --max-time 60 -o "$NC_TMP/blob.out" "$url/blob.bin"
assert_files_equal "$www/blob.bin" "$NC_TMP/blob.out"

# Both ends in containers: the client in a namespace of its own too.
log "${UNSHARE[@]}" -- "$NETCON" intercept --socket "$(sock B)" -- \
	curl -sS --fail --max-time 60 -o "$NC_TMP/blob2.out" "$url/blob.bin"
assert_files_equal "$www/blob.bin" "$NC_TMP/blob2.out"

status A
note "PASS"
