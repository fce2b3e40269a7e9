# shellcheck shell=bash
# compat/lib.sh — what every compat/c_*.sh sources: tests/lib.sh (temp dir, registry,
# cleanup, spawn/under/start_service/wait_port/assert_*) plus what real programs need:
#
#   compat_pkgs PKG...          install missing Debian packages (apt-get update at most once
#                               a run; a policy-rc.d that exits 101 during the install, so
#                               no package starts its daemon on its default port)
#   start_trio NET              services A (NET.1), B (NET.2), C (NET.3), all peers
#   spawn_in_ns SVC NAME CMD... spawn CMD under SVC's intercept inside `unshare --net` (a
#                               namespace with no network but a loopback that is up: the
#                               container case)
#   start_tap SVC ADDR KADDR    service SVC at ADDR/PREFIX on a TAP device whose kernel
#                               side (KADDR/PREFIX) lives in a namespace of its own
#   compat_link                 the services of a client/server script: A and B on VXLAN,
#                               or A on TAP with the kernel as client (COMPAT_VIA=tap);
#                               sets CLIENT (the prefix that runs a client) and VIA
#   compat_note TEXT            a line for the "checked" column of docs/compatibility.md
#   pkg_version PKG             the installed Debian version
#
# Scripts declare, in their header (read by compat/run.sh):
#   # program: NAME          the table's first column
#   # packages: PKG...       whose versions the table shows
#   # checks: TEXT           what the script checks
#   # timeout: N             seconds (default 300)

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib.sh"

COMPAT_NET=${COMPAT_NET:-10.89.0}

compat_note() {
	printf 'COMPAT-NOTE: %s\n' "$*"
	note "$*"
}

pkg_version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}

pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# compat_pkgs PKG... — install what is missing. Skips (exit 77) when not root and missing.
compat_pkgs() {
	local p missing=()
	for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || skip "packages missing and not root: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	local stamp=${COMPAT_APT_STAMP:-$NC_TMP/apt-updated}
	if [ ! -e "$stamp" ]; then
		log apt-get update -q >"$NC_TMP/apt-update.out" 2>&1 || { cat "$NC_TMP/apt-update.out" >&2; fail "apt-get update failed"; }
		: >"$stamp"
	fi
	local policy=/usr/sbin/policy-rc.d own="" rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own=1
	fi
	log apt-get install -y -q --no-install-recommends "${missing[@]}" >"$NC_TMP/apt-install.out" 2>&1 || rc=$?
	[ -z "$own" ] || rm -f "$policy"
	if [ "$rc" != 0 ]; then
		tail -n 20 "$NC_TMP/apt-install.out" >&2
		fail "apt-get install ${missing[*]} failed ($rc)"
	fi
	note "installed ${missing[*]}"
}

# start_trio NET — A (NET.1), B (NET.2), C (NET.3) on one VXLAN segment over loopback.
start_trio() {
	local net=$1
	shift
	PORT_A=$(free_udp_port)
	PORT_B=$(free_udp_port)
	PORT_C=$(free_udp_port)
	start_service A "$net.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_C" "$@"
	start_service B "$net.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_C" "$@"
	start_service C "$net.3/24" --bind "127.0.0.1:$PORT_C" --peer "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" "$@"
}

# start_tap SVC ADDR/PREFIX KADDR/PREFIX [service args] — a network namespace whose
# kernel owns tap0 at KADDR, and service SVC at ADDR attached to tap0 (--link tap), as in
# tests/t_tap.sh. Programs under SVC's intercept stay wherever they are (the control
# socket is a path); kernel programs run in the namespace with `in_tap CMD...`. Sets
# TAP_NS. Skips without root or /dev/net/tun.
start_tap() {
	local svc=$1 addr=$2 kaddr=$3
	shift 3
	require_root "a TAP device"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	TAP_NS=nc-ctap-$$
	netns_add "$TAP_NS"
	log ip -n "$TAP_NS" tuntap add tap0 mode tap || skip "cannot create a tap device"
	log ip -n "$TAP_NS" addr add "$kaddr" dev tap0
	log ip -n "$TAP_NS" link set tap0 up
	start_service --netns "$TAP_NS" "$svc" "$addr" --link tap --tap tap0 "$@"
}

# in_tap CMD... — run CMD (foreground, bounded by NC_TIMEOUT) in the TAP namespace's kernel.
in_tap() {
	timeout --foreground -k 5 "${NC_TIMEOUT:-120}" ip netns exec "$TAP_NS" "$@" 3>&-
}

# compat_link [service args] — for scripts whose server runs under A and whose client can
# be a program under B (default: A and B on VXLAN) or the kernel through a TAP link
# (COMPAT_VIA=tap, which the c_*_tap.sh scripts set before sourcing their base script:
# A on TAP at NET.1, the kernel's tap0 at NET.2). Sets CLIENT, the prefix of a client
# command (`log "${CLIENT[@]}" curl ...`), and VIA, the first argument of wait_port.
compat_link() {
	case ${COMPAT_VIA:-vxlan} in
	vxlan)
		start_pair "$COMPAT_NET" "$@"
		CLIENT=(under B); VIA=B ;;
	tap)
		start_tap A "$COMPAT_NET.1/24" "$COMPAT_NET.2/24" "$@"
		CLIENT=(in_tap); VIA=netns:$TAP_NS ;;
	*) fail "COMPAT_VIA=$COMPAT_VIA: vxlan or tap" ;;
	esac
}

# The container case needs a network namespace: root, or a user namespace.
if [ "$(id -u)" = 0 ]; then
	COMPAT_UNSHARE=(unshare --net)
elif unshare --user --map-root-user --net true 2>/dev/null; then
	COMPAT_UNSHARE=(unshare --user --map-root-user --net)
else
	COMPAT_UNSHARE=()
fi

# spawn_in_ns SVC NAME CMD... — like spawn_under, inside a fresh network namespace whose
# only device is lo (brought up: real containers have it, and servers bind 127.0.0.1 for
# their own side channels). Without namespaces, plain spawn_under (noted).
spawn_in_ns() {
	local svc=$1 name=$2
	shift 2
	if [ ${#COMPAT_UNSHARE[@]} -eq 0 ]; then
		note "no network namespaces here: $name runs in the host namespace"
		spawn_under "$svc" "$name" "$@"
		return
	fi
	spawn "$name" "${COMPAT_UNSHARE[@]}" -- sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sh \
		"$NETCON" intercept --socket "$(sock "$svc")" -- "$@"
}

# in_ns SVC CMD... — run CMD (foreground, bounded) under SVC inside a fresh namespace.
in_ns() {
	local svc=$1
	shift
	if [ ${#COMPAT_UNSHARE[@]} -eq 0 ]; then under "$svc" "$@"; return; fi
	timeout --foreground -k 5 "${NC_TIMEOUT:-120}" "${COMPAT_UNSHARE[@]}" -- sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sh \
		"$NETCON" intercept --socket "$(sock "$svc")" -- "$@" 3>&-
}

# sha FILE — its sha256, hex only.
sha() {
	local s
	s=$(sha256sum <"$1")
	printf '%s\n' "${s%% *}"
}

# mkblob FILE MIB — random content.
mkblob() {
	head -c "$(($2 * 1048576))" /dev/urandom >"$1"
}

# ssh/sshd set-up shared by the ssh, rsync and git scripts: sshd under A in a namespace,
# key login as root. Sets SSH_OPTS (array), SP (port), SSHD_DIR. VIA (default B) says
# where the readiness probe comes from (see compat_link).
compat_sshd() {
	require_root "sshd logs in as root"
	[ -d /run/sshd ] || log mkdir -p -m 0755 /run/sshd
	SP=$(free_tcp_port)
	SSHD_DIR=$NC_TMP/ssh
	sshd_files "$SSHD_DIR" "$SP" "Subsystem sftp /usr/lib/openssh/sftp-server"
	log /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config"
	spawn_in_ns A sshd /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config"
	wait_port "${VIA:-B}" "$COMPAT_NET.1" "$SP"
	SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR
		-i "$SSHD_DIR/id_ed25519")
}
