#!/usr/bin/env bash
# scripts/demo.sh — netcon's main job in one minute (`make demo`).
#
#   ┌ unshare --net: no network at all ─┐
#   │ python3 -m http.server 8080       │              curl http://10.77.0.1:8080/
#   └───────────┼───────────────────────┘                     │
#               │ intercept (Unix socket path)                │ intercept
#   ┌───────────┴──────────┐                        ┌─────────┴────────────┐
#   │ netcon service A     │                        │ netcon service B     │
#   │ 10.77.0.1/24         │◄────── VXLAN ─────────►│ 10.77.0.2/24         │
#   └──────────────────────┘  UDP over loopback     └──────────────────────┘
#
# Needs no configuration. As root on Debian it installs what is missing (the compiler and
# make, xz-utils and patch for lwIP's source, python3, curl, util-linux, procps, iproute2), builds
# netcon, and runs the demo; everything it starts or creates is removed at the end.
# NC_VERBOSE=1 echoes every command.
#
#   scripts/demo.sh --installed    the same with the installed netcon (the one in PATH,
#                                  e.g. /usr/bin/netcon of the Debian package, which finds
#                                  its library in ../lib/netcon/): nothing is built
#
# NC_DEMO_NET=A.B.C changes the virtual subnet (default 10.77.0: A.B.C.1 and A.B.C.2).
set -euo pipefail

installed=
case ${1:-} in
--installed) installed=1 ;;
"") ;;
*) echo "usage: scripts/demo.sh [--installed]" >&2; exit 2 ;;
esac
net=${NC_DEMO_NET:-10.77.0}
[[ $net =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "demo: bad NC_DEMO_NET '$net' (want A.B.C)" >&2; exit 2; }

cd "$(dirname "$0")/.."

need=()
if [ -n "$installed" ]; then
	NETCON=$(command -v netcon) || { echo "demo: --installed, but no netcon in PATH" >&2; exit 1; }
	export NETCON
else
	command -v cc >/dev/null 2>&1 || need+=(build-essential)
	command -v make >/dev/null 2>&1 || need+=(make)
	command -v xz >/dev/null 2>&1 || need+=(xz-utils)
	command -v patch >/dev/null 2>&1 || need+=(patch)
	[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
	[ -f /usr/include/sodium.h ] || need+=(libsodium-dev)
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
	[ -d /etc/ssl/certs ] || need+=(ca-certificates)
fi
command -v python3 >/dev/null 2>&1 || [ -x /usr/bin/python3 ] || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v ps >/dev/null 2>&1 || need+=(procps)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "demo: installing ${need[*]} (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "demo: please install: ${need[*]}" >&2
		exit 1
	fi
fi
if [ -z "$installed" ]; then
	echo "demo: building netcon (make)"
	make -s -j2 all >/dev/null
fi

[ -n "${NC_VERBOSE:-}" ] || NC_QUIET=1
# The test harness does the bookkeeping: background processes in their own sessions,
# killed at exit; temp dir removed; the demo subnet unreachable for the kernel.
# shellcheck source=tests/lib.sh
. tests/lib.sh

if [ "$(id -u)" = 0 ]; then
	UNSHARE=(unshare --net)
else
	UNSHARE=(unshare --user --map-root-user --net)
fi

www=$NC_TMP/www
mkdir -p "$www"
echo "Hello from a program with no network, served over netcon." >"$www/index.html"

PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A "$net.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B"
start_service B "$net.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
echo "1. Two netcon services ($NETCON) form a virtual LAN over VXLAN on loopback:"
echo "     A $net.1/24 (udp 127.0.0.1:$PORT_A)   B $net.2/24 (udp 127.0.0.1:$PORT_B)"

spawn web "${UNSHARE[@]}" -- "$NETCON" intercept --socket "$(sock A)" -- \
	"$PYTHON" -m http.server --bind 0.0.0.0 --directory "$www" 8080
web=$NC_PID
host_ns=$(readlink /proc/self/ns/net)
for _ in $(seq 1 50); do	# until unshare has moved the server into its namespace
	web_ns=$(readlink "/proc/$web/ns/net" 2>/dev/null || true)
	[ -n "$web_ns" ] && [ "$web_ns" != "$host_ns" ] && break
	sleep 0.1
done
ifaces=$(nsenter --target "$web" --net ip -o link 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ' || true)
echo "2. python3 -m http.server 8080 runs under A in a network namespace with no network"
echo "     (its interfaces: ${ifaces:-lo}— no address, no route, no way out)"
for _ in $(seq 1 50); do	# until the server has loaded the intercept
	lib=$(grep -o '/[^ ]*libnetcon\.so' "/proc/$web/maps" 2>/dev/null | head -n 1 || true)
	[ -n "$lib" ] && break
	sleep 0.1
done
echo "     (its intercept: ${lib:-not loaded yet})"

echo "3. curl under B fetches http://$net.1:8080/ :"
if ! page=$(NC_TIMEOUT=5 retry 40 under B curl -sS --fail --max-time 5 "http://$net.1:8080/"); then
	fail "demo: the page could not be fetched (the logs of the services and the server follow)"
fi
printf '     > %s\n' "$page"

echo "4. netcon status of A:"
"$NETCON" status --socket "$(sock A)" 2>&1 | sed 's/^/     /' || true

echo "5. Done: the server never had a network device; its TCP ran in service A's userspace stack."
