# shellcheck shell=bash
# tests/lib.sh — the harness every scenario script sources.
#
#   . "$(dirname "$0")/lib.sh"
#
# What it gives a scenario:
#   - `set -euo pipefail`, a private temp dir $NC_TMP, and `nc_cleanup` on EXIT (also on
#     INT/TERM/HUP, so a timeout from tests/run.sh still cleans up);
#   - a registry of everything the test created (process groups, network namespaces,
#     devices, routes, dirs). nc_cleanup undoes it; tests/run.sh sweeps the same file again
#     after the test in case the test itself was killed before it could clean up;
#   - helpers: spawn, start_service, start_pair, start_wg_pair, wg_keypair, wg_conf,
#     wggo_start, sshd_files, stop_service, under, spawn_under, retry,
#     wait_port, wait_listen, free_tcp_port, free_udp_port, netns_add, tap_add, guard_subnet,
#     assert_*, fail,
#     skip, log, note; status_of.
#
# Output: every command a test runs through `log` is echoed first, netns.sh style:
#   [+] under B curl -sS http://10.88.0.1:8080/
# Messages are `[*] ...`; a failure ends with `FAIL: reason`, a skip with `SKIP: reason`
# (exit 77). Echoes go to stderr so that `x=$(log cmd)` captures only cmd's output.
#
# Safety: network tests must never send a packet anywhere but loopback or namespaces the
# test created. A broken intercept lets a program fall back to the kernel, which would
# route 10.88.0.1 to the default gateway; so, when root, start_service puts an
# `unreachable` route for the service's subnet in the host namespace (removed at exit):
# a fallback then fails at once with EHOSTUNREACH and nothing leaves the machine.
#
# Environment: BUILD (default build), NETCON, TEST_TX, TEST_RX, PYTHON, NC_KEEP=1 (keep the
# temp dir), NC_LOG_LEVEL (services' --log-level, default info), NC_TIMEOUT (bound for one
# `under` command, default 120 s), NC_REGISTRY (set by run.sh), NC_QUIET=1 (no echo).

set -euo pipefail

NC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$NC_ROOT/$BUILD ;; esac
NETCON=${NETCON:-$BUILD/netcon}
TEST_TX=${TEST_TX:-$BUILD/test_tx}
TEST_RX=${TEST_RX:-$BUILD/test_rx}
# Debian's python3 rather than a version-manager shim (a shim is a shell script that forks
# several times, each time loading the intercept).
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3 || echo python3); fi
fi
export LC_ALL=C
# ASan builds (make asan-check): an ASan-built `netcon` may be started by a program that
# runs under the intercept (LD_PRELOAD=libnetcon.so, which does not replace malloc).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
# curl and friends must talk to the virtual network, never to a configured proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy ftp_proxy FTP_PROXY no_proxy NO_PROXY

NC_NAME=$(basename "$0" .sh)
NC_FAIL_MSG=""
declare -A NC_SPAWNED=()	# spawn name -> pid
declare -A NC_SERVICE=()	# service name -> pid

# ---------------------------------------------------------------------------------------
# Output

# nc_quote ARGS... — the arguments as one shell-quoted line.
nc_quote() {
	local out="" a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+="$a "; else out+="$(printf '%q' "$a") "; fi
	done
	printf '%s' "${out% }"
}

# Narration goes to fd 3, a copy of the test's stderr made at start-up, so that neither
# `x=$(log cmd)` nor `log cmd 2>file` captures it.

# log CMD ARGS... — echo the command (netns.sh style), then run it.
log() {
	[ -n "${NC_QUIET:-}" ] || printf '[+] %s\n' "$(nc_quote "$@")" >&3
	"$@"
}

# note MSG... — a line of narration.
note() {
	[ -n "${NC_QUIET:-}" ] || printf '[*] %s\n' "$*" >&3
}

# fail MSG... — end the test as failed.
fail() {
	NC_FAIL_MSG="$*"
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip REASON... — end the test as skipped (exit 77).
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# Uncaught failing commands (set -e) name themselves, with the script line they came from.
nc_on_err() {
	local rc=$1 line=$2 cmd=$3 n where
	[ -n "$NC_FAIL_MSG" ] && return 0
	n=${#FUNCNAME[@]}
	if [ "$n" -gt 2 ]; then
		# Inside helpers: name the script's own line and the chain of helpers.
		where="${BASH_SOURCE[n - 1]##*/}:${BASH_LINENO[n - 2]} (in ${FUNCNAME[*]:1:n-2})"
	else
		where="${BASH_SOURCE[1]##*/}:$line"
	fi
	NC_FAIL_MSG="$where: '$cmd' exited $rc"
	printf 'ERROR: %s\n' "$NC_FAIL_MSG" >&2
}

# ---------------------------------------------------------------------------------------
# Assertions

assert_eq() {	# assert_eq EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
	note "ok: ${3:-value} = '$1'"
}

assert_contains() {	# assert_contains HAYSTACK NEEDLE WHAT
	case $1 in *"$2"*) note "ok: ${3:-output} contains '$2'" ;;
	*) fail "${3:-output} does not contain '$2'; it was: $(printf '%s' "$1" | tail -c 2000)" ;; esac
}

assert_not_contains() {	# assert_not_contains HAYSTACK NEEDLE WHAT
	case $1 in *"$2"*) fail "${3:-output} contains '$2': $(printf '%s' "$1" | tail -c 2000)" ;;
	*) note "ok: ${3:-output} has no '$2'" ;; esac
}

assert_files_equal() {	# assert_files_equal EXPECTED ACTUAL — same size and sha256
	local a b sa sb
	[ -f "$2" ] || fail "missing file $2"
	sa=$(stat -c %s "$1"); sb=$(stat -c %s "$2")
	[ "$sa" = "$sb" ] || fail "$(basename "$2"): size $sb, expected $sa"
	a=$(sha256sum <"$1"); b=$(sha256sum <"$2")
	a=${a%% *}; b=${b%% *}
	[ "$a" = "$b" ] || fail "$(basename "$2"): sha256 $b, expected $a"
	note "ok: $(basename "$2"): $sb bytes, sha256 ${a:0:16}… equal"
}

# ---------------------------------------------------------------------------------------
# Requirements

# shellcheck disable=SC2120
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (${1:-network namespaces})"
}

require_cmd() {	# require_cmd CMD... — skip unless every command exists
	local c
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not installed"; done
}

# shellcheck disable=SC2120
require_built() {	# the binaries the scenarios drive (a missing build is a failure, not a skip)
	local f
	for f in "$NETCON" "$@"; do [ -x "$f" ] || fail "$f not built (run make)"; done
}

# ---------------------------------------------------------------------------------------
# Registry of what the test created: one "KIND ARGS" line each.
#   pg PGID STARTTIME    a process group (session) started by spawn
#   netns NAME           ip netns add
#   link NAME            a device in the host namespace
#   route SPEC...        an ip route in the host namespace
#   dir PATH             a temp dir

nc_register() {
	printf '%s\n' "$*" >>"$NC_REGISTRY"
}

# nc_proc_start PID — the process's start time (clock ticks since boot); fails if gone.
nc_proc_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	printf '%s\n' "${20}"
}

# nc_live_pgids — process groups that still have a process that is not a zombie.
nc_live_pgids() {
	ps -e -o pgid=,stat= 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }' | sort -u
}

# nc_kill_groups PGID... — TERM the groups, wait (bounded, 5 s) for them to go, then KILL.
nc_kill_groups() {
	[ $# -gt 0 ] || return 0
	local pg i live left
	for pg in "$@"; do	# one SIGTERM each: to the group, or to the process if no group
		kill -TERM -- "-$pg" 2>/dev/null || kill -TERM "$pg" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		live=$(nc_live_pgids)
		left=()
		for pg in "$@"; do grep -qx "$pg" <<<"$live" && left+=("$pg"); done
		[ ${#left[@]} -eq 0 ] && break
		sleep 0.1
	done
	if [ ${#left[@]} -gt 0 ]; then
		for pg in "${left[@]}"; do
			printf '[*] process group %s ignored SIGTERM; SIGKILL\n' "$pg" >&2
			kill -KILL -- "-$pg" 2>/dev/null || kill -KILL "$pg" 2>/dev/null || true
		done
		for i in $(seq 1 20); do
			live=$(nc_live_pgids)
			left=()
			for pg in "$@"; do grep -qx "$pg" <<<"$live" && left+=("$pg"); done
			[ ${#left[@]} -eq 0 ] && break
			sleep 0.1
		done
	fi
	# Reap the ones that are our children (dead by now, so wait cannot block).
	for pg in "$@"; do
		grep -qx "$pg" <<<"${live:-}" || wait "$pg" 2>/dev/null || true
	done
}

# nc_sweep REGISTRY [procs|all] — undo what the registry lists; "procs" kills processes only.
# Used by nc_cleanup and, after each test, by tests/run.sh.
nc_sweep() {
	local reg=$1 what=${2:-all} kind a rest start pgs=() nss=() devs=() routes=() dirs=() socks=()
	[ -s "$reg" ] || return 0
	while read -r kind a rest; do
		case $kind in
		pg)
			if start=$(nc_proc_start "$a"); then
				[ "$start" = "$rest" ] && pgs+=("$a")	# else: pid reused, group long gone
			else
				pgs+=("$a")	# leader gone; members may remain
			fi ;;
		netns) nss+=("$a") ;;
		link) devs+=("$a") ;;
		route) routes+=("$a $rest") ;;
		dir) dirs+=("$a") ;;
		sock) socks+=("$a") ;;
		esac
	done <"$reg"
	nc_kill_groups "${pgs[@]}"
	[ "$what" = procs ] && return 0
	local ns p
	for ns in "${nss[@]}"; do
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || printf '[*] could not delete netns %s\n' "$ns" >&2
	done
	for p in "${devs[@]}"; do
		ip link show "$p" >/dev/null 2>&1 && { ip link del "$p" 2>/dev/null || true; }
	done
	for p in "${routes[@]}"; do
		# shellcheck disable=SC2086
		ip route del $p 2>/dev/null || true
	done
	for p in "${dirs[@]}"; do
		case $p in */netcon.*) rm -rf -- "$p" ;; esac
	done
	for p in "${socks[@]}"; do	# a unix socket a test made outside its directory
		[ -S "$p" ] && rm -f -- "$p"
	done
	: >"$reg"
}

nc_cleanup() {
	local rc=$? f
	set +e
	trap - EXIT INT TERM HUP
	[ -n "${NC_REGISTRY:-}" ] || exit "$rc"
	nc_sweep "$NC_REGISTRY" procs
	# Sanitizer builds (make asan-check): any report in any log fails the test.
	if [ "$rc" -eq 0 ] && [ -d "${NC_TMP:-}" ] &&
	   grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$NC_TMP"/*.log >/dev/null 2>&1; then
		NC_FAIL_MSG="sanitizer report in $(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$NC_TMP"/*.log | xargs -n1 basename | tr '\n' ' ')"
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -d "${NC_TMP:-}" ]; then
		for f in "$NC_TMP"/*.log; do
			[ -s "$f" ] || continue
			printf -- '----- %s (last 25 lines) -----\n' "$(basename "$f")" >&2
			tail -n 25 "$f" >&2
		done
		[ -n "$NC_FAIL_MSG" ] && printf 'FAIL: %s\n' "$NC_FAIL_MSG" >&2
	fi
	if [ -n "${NC_KEEP:-}" ] && [ -d "${NC_TMP:-}" ]; then
		grep -v "^dir $NC_TMP\$" "$NC_REGISTRY" >"$NC_REGISTRY.tmp" || true
		mv "$NC_REGISTRY.tmp" "$NC_REGISTRY"
		printf '[*] NC_KEEP: temp dir kept: %s\n' "$NC_TMP" >&2
	fi
	nc_sweep "$NC_REGISTRY" all
	[ "${NC_REGISTRY_OWN:-}" = 1 ] && rm -f "$NC_REGISTRY"
	[ -n "${NC_KEEP:-}" ] || rm -rf -- "${NC_TMP:?}"
	exit "$rc"
}

# ---------------------------------------------------------------------------------------
# Processes

# spawn NAME CMD ARGS... — start CMD in the background in a session of its own (so its
# whole process group can be killed), stdin from /dev/null, output to $NC_TMP/NAME.log.
# CMD must be a program, not a shell function. Sets NC_PID.
spawn() {
	local name=$1
	shift
	[ -n "${NC_QUIET:-}" ] || printf '[+] %s &   (log: %s.log)\n' "$(nc_quote "$@")" "$name" >&3
	setsid "$@" </dev/null >"$NC_TMP/$name.log" 2>&1 3>&- &
	NC_PID=$!
	nc_register "pg $NC_PID $(nc_proc_start "$NC_PID" || echo 0)"
	NC_SPAWNED[$name]=$NC_PID
}

# spawn_under SERVICE NAME CMD ARGS... — spawn CMD under the intercept of SERVICE.
spawn_under() {
	local svc=$1 name=$2
	shift 2
	spawn "$name" "$NETCON" intercept --socket "$(sock "$svc")" -- "$@"
}

alive() {	# alive PID — running and not a zombie
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

# wait_exit PID SECONDS — wait (bounded) for a spawned process to exit; prints nothing,
# returns its exit status, or 124 if it is still running after SECONDS.
wait_exit() {
	local pid=$1 secs=$2 i n rc=0
	n=$((secs * 10))
	for ((i = 0; i < n; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && return 124
	wait "$pid" || rc=$?
	return "$rc"
}

# stop NAME — stop a spawned process (its group): TERM, bounded wait, KILL.
stop() {
	local pid=${NC_SPAWNED[$1]:?no process named $1}
	note "stopping $1 (pid $pid)"
	nc_kill_groups "$pid"
}

# logtail NAME [N] — last lines of NAME.log, for failure messages.
logtail() {
	tail -n "${2:-20}" "$NC_TMP/$1.log" 2>/dev/null | sed 's/^/    | /'
}

# ---------------------------------------------------------------------------------------
# Services

sock() {	# sock NAME — the control socket path of service NAME
	printf '%s/%s.sock\n' "$NC_TMP" "$1"
}

# start_service [--netns NS] NAME ADDR/PREFIX [service args...]
# Starts `netcon service --ip ADDR/PREFIX --socket $NC_TMP/NAME.sock` (with --link vxlan
# unless the args name a link) in the background, logging to svc-NAME.log, and waits up to
# 5 s for the control socket to appear; fails with the log's tail if the service died.
# A WireGuard service without --wg-name gets one of this test's own (NAME and the test's
# pid, at most 15 characters): the name is its UAPI socket's, /var/run/wireguard/NAME.sock,
# shared by every namespace, where a second wg0 — another service, wireguard-go — would
# stop the start.
start_service() {
	local netns=""
	if [ "${1:-}" = --netns ]; then netns=$2; shift 2; fi
	local name=$1 ip=$2
	shift 2
	local s
	s=$(sock "$name")
	local args=(service --ip "$ip" --socket "$s" --log-level "${NC_LOG_LEVEL:-info}")
	case " $* " in *" --link "*) ;; *) args+=(--link vxlan) ;; esac
	case " $* " in
	*" --wg-name "*) ;;
	*" --link wireguard "*)
		local wgn="nc$name$$"
		args+=(--wg-name "${wgn:0:15}")
		# A service killed with SIGKILL leaves it: removed at cleanup.
		[ "$(id -u)" != 0 ] || nc_register "sock /var/run/wireguard/${wgn:0:15}.sock" ;;
	esac
	args+=("$@")
	guard_subnet "$ip"
	local prev="" a
	for a in "$@"; do	# --ip6 prefixes are guarded too
		[ "$prev" = --ip6 ] && guard_subnet "$a"
		prev=$a
	done
	rm -f "$s"
	if [ -n "$netns" ]; then
		spawn "svc-$name" ip netns exec "$netns" "$NETCON" "${args[@]}"
	else
		spawn "svc-$name" "$NETCON" "${args[@]}"
	fi
	NC_SERVICE[$name]=$NC_PID
	local i deadline=$((SECONDS + 6))
	for ((i = 0; i < 100 && SECONDS < deadline; i++)); do
		[ -S "$s" ] && { note "service $name ready ($ip, socket $s)"; return 0; }
		if ! alive "$NC_PID"; then
			local rc=0
			wait "$NC_PID" || rc=$?
			fail "service $name exited ($rc) before its socket appeared:
$(logtail "svc-$name")"
		fi
		sleep 0.05
	done
	[ -S "$s" ] && { note "service $name ready ($ip, socket $s)"; return 0; }
	fail "service $name: no socket at $s after 5 s:
$(logtail "svc-$name")"
}

# start_pair NET — services A (NET.1/24) and B (NET.2/24) joined by VXLAN over loopback,
# on free UDP ports; sets PORT_A and PORT_B.
start_pair() {
	local net=$1
	shift
	PORT_A=$(free_udp_port)
	PORT_B=$(free_udp_port)
	start_service A "$net.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" "$@"
	start_service B "$net.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" "$@"
}

# status_of NAME — the `netcon status` of service NAME (for checks; `status` narrates).
status_of() {
	"$NETCON" status --socket "$(sock "$1")"
}

# wg_keypair NAME — a WireGuard key pair made by Debian's wg: $NC_TMP/NAME.key, NAME.pub.
wg_keypair() {
	(umask 077 && wg genkey >"$NC_TMP/$1.key")
	wg pubkey <"$NC_TMP/$1.key" >"$NC_TMP/$1.pub"
}

# wg_conf FILE ME PORT PEER ALLOWEDIPS [ENDPOINT] — a wg(8) file: [Interface] with ME's key
# (wg_keypair ME) and ListenPort PORT, one [Peer] with PEER's public key, AllowedIPs and,
# with ENDPOINT, that Endpoint (a bare port: 127.0.0.1:PORT).
wg_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$(cat "$NC_TMP/$2.key")" "$3"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(cat "$NC_TMP/$4.pub")" "$5"
		case ${6:-} in
		'') ;;
		*:*) printf 'Endpoint = %s\n' "$6" ;;
		*) printf 'Endpoint = 127.0.0.1:%s\n' "$6" ;;
		esac
	} >"$1"
}

# start_wg_pair NET NET6 [service args...] — services A (NET.1/24, NET6::1/64) and B
# (NET.2/24, NET6::2/64) joined by WireGuard over loopback (--link wireguard), each the
# other's only peer (AllowedIPs its /32 and /128) with its port as Endpoint (a peer without
# one cannot be sent to before it writes first: EHOSTUNREACH, as with Linux's WireGuard);
# keys from wg_keypair; the args go to A only (e.g. --link-fault), the words of
# $WG_PAIR_BOTH to both (e.g. --mtu 65439). Sets PORT_A and PORT_B.
start_wg_pair() {
	local net=$1 net6=$2
	shift 2
	PORT_A=$(free_udp_port)
	PORT_B=$(free_udp_port)
	wg_keypair wga
	wg_keypair wgb
	wg_conf "$NC_TMP/wga.conf" wga "$PORT_A" wgb "$net.2/32, $net6::2/128" "$PORT_B"
	wg_conf "$NC_TMP/wgb.conf" wgb "$PORT_B" wga "$net.1/32, $net6::1/128" "$PORT_A"
	# shellcheck disable=SC2086 # words
	start_service A "$net.1/24" --ip6 "$net6::1/64" --link wireguard --wg-config "$NC_TMP/wga.conf" ${WG_PAIR_BOTH:-} "$@"
	# shellcheck disable=SC2086
	start_service B "$net.2/24" --ip6 "$net6::2/64" --link wireguard --wg-config "$NC_TMP/wgb.conf" ${WG_PAIR_BOTH:-}
}

# sshd_files DIR PORT [LINE...] — host and client keys (ed25519) and an sshd_config for a
# test's own sshd in DIR: listening on 0.0.0.0:PORT, public keys only (DIR/id_ed25519 is
# the client's), no PAM, no DNS; each LINE is added to the config.
sshd_files() {
	local d=$1 port=$2 l
	shift 2
	mkdir -p "$d"
	log ssh-keygen -q -t ed25519 -N '' -C netcon-test-host -f "$d/host_ed25519"
	log ssh-keygen -q -t ed25519 -N '' -C netcon-test-client -f "$d/id_ed25519"
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	{
		cat <<EOF
Port $port
ListenAddress 0.0.0.0
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
LogLevel VERBOSE
EOF
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$d/sshd_config"
}

# wggo_start NS CONF ADDR/PREFIX [DEV] — Debian's wireguard-go on a TUN DEV (default wg0)
# in namespace NS (spawned as "wggo": its process group is ours to end), configured with
# `wg setconf DEV CONF`, address ADDR/PREFIX, MTU 1420, up.
wggo_start() {
	local ns=$1 conf=$2 addr=$3 dev=${4:-wg0} i
	WG_PROCESS_FOREGROUND=1 spawn wggo ip netns exec "$ns" wireguard-go -f "$dev"
	for ((i = 0; i < 50; i++)); do
		ip -n "$ns" link show "$dev" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$ns" link show "$dev" >/dev/null 2>&1 || fail "wireguard-go made no $dev: $(logtail wggo)"
	log ip netns exec "$ns" wg setconf "$dev" "$conf"
	log ip -n "$ns" addr add "$addr" dev "$dev"
	log ip -n "$ns" link set "$dev" mtu 1420 up
}

# stop_service NAME — SIGTERM; the contract is exit status 0 and the socket removed.
stop_service() {
	local name=$1 pid=${NC_SERVICE[$1]:?no service named $1} rc=0 s
	s=$(sock "$name")
	log kill -TERM "$pid"
	wait_exit "$pid" 5 || rc=$?
	[ "$rc" != 124 ] || fail "service $name still running 5 s after SIGTERM"
	[ "$rc" = 0 ] || fail "service $name exited $rc after SIGTERM (want 0):
$(logtail "svc-$name")"
	[ ! -e "$s" ] || fail "service $name left its socket $s behind"
	note "ok: service $name exited 0 on SIGTERM and removed its socket"
}

# status NAME — print `netcon status` of a service (informational; the format is free).
status() {
	log "$NETCON" status --socket "$(sock "$1")" || note "netcon status --socket $(sock "$1") failed"
}

# under NAME CMD ARGS... — run CMD under the intercept of service NAME (foreground,
# bounded by NC_TIMEOUT seconds; 124 means it timed out).
under() {
	local name=$1
	shift
	timeout --foreground -k 5 "${NC_TIMEOUT:-120}" "$NETCON" intercept --socket "$(sock "$name")" -- "$@" 3>&-
}

# ---------------------------------------------------------------------------------------
# Waiting

# retry TRIES CMD... — run CMD until it succeeds, at most TRIES times, 0.2 s apart, and
# for at most TRIES × 0.2 + 30 s in all. Quiet between attempts; shows the last failure.
retry() {
	local tries=$1 i deadline out rc=1
	shift
	deadline=$((SECONDS + tries / 5 + 30))
	[ -n "${NC_QUIET:-}" ] || printf '[+] retry %s %s\n' "$tries" "$(nc_quote "$@")" >&3
	for ((i = 1; i <= tries; i++)); do
		rc=0
		out=$("$@" 2>&1) || rc=$?
		if [ "$rc" = 0 ]; then
			[ -z "$out" ] || printf '%s\n' "$out"
			[ -n "${NC_QUIET:-}" ] || printf '[*] succeeded on attempt %d\n' "$i" >&3
			return 0
		fi
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.2
	done
	printf '[*] gave up after %d attempts; last exit %d, output:\n%s\n' "$i" "$rc" "$out" >&2
	return 1
}

# wait_port NAME HOST PORT — wait until a TCP connect to HOST:PORT under service NAME
# succeeds (bash's /dev/tcp: no data is sent, the connection is closed at once). For a
# kernel address use NAME "-"; NS:name runs it with ip netns exec NS instead.
wait_port() {
	local name=$1 host=$2 port=$3 probe
	probe="exec 3<>/dev/tcp/$host/$port"
	case $name in
	-) retry 75 timeout 3 bash -c "$probe" ;;
	netns:*) retry 75 timeout 3 ip netns exec "${name#netns:}" bash -c "$probe" ;;
	*) NC_TIMEOUT=3 retry 75 under "$name" bash -c "$probe" ;;
	esac || fail "nothing accepted connections on $host:$port (via ${name}) within the bound"
}

# wait_listen NAME PORT — wait (bounded, 5 s) until service NAME's table shows a listener
# on PORT. No probe connection: iperf3 closes and binds its listener again after one, and a
# one-shot server (socat without fork) would take the probe for its client.
wait_listen() {
	local i
	for ((i = 0; i < 50; i++)); do
		"$NETCON" status --socket "$(sock "$1")" | grep -q "^listen .*:$2 " && return 0
		sleep 0.1
	done
	fail "no listener on port $2 in service $1's table within 5 s"
}

# ---------------------------------------------------------------------------------------
# Ports, namespaces, routes

# free_tcp_port / free_udp_port — a port unused on 127.0.0.1 now, and not yet handed out
# to this test.
nc_free_port() {
	local kind=$1 p i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$("$PYTHON" -c '
import socket, sys
t = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$kind")
		if ! grep -qx "$p" "$NC_TMP/ports" 2>/dev/null; then
			echo "$p" >>"$NC_TMP/ports"
			echo "$p"
			return 0
		fi
	done
	fail "no free $kind port"
}
free_tcp_port() { nc_free_port tcp; }
free_udp_port() { nc_free_port udp; }

# tap_add NS DEV ADDR/PREFIX [MTU] — a TAP device DEV in namespace NS (gone with it),
# addressed and up; the test is skipped when the kernel cannot make one.
tap_add() {
	log ip -n "$1" tuntap add "$2" mode tap || skip "cannot create a tap device"
	log ip -n "$1" addr add "$3" dev "$2"
	log ip -n "$1" link set "$2" ${4:+mtu "$4"} up
}

# netns_add NAME — create a network namespace (deleted at cleanup) with lo up.
netns_add() {
	log ip netns add "$1"
	nc_register "netns $1"
	log ip -n "$1" link set lo up
}

# track_link NAME — a device the test created in the host namespace (deleted at cleanup).
track_link() {
	nc_register "link $1"
}

# nc_subnet ADDR/PREFIX — the network, e.g. 10.88.0.1/24 -> 10.88.0.0/24.
nc_subnet() {
	local addr=${1%/*} len=${1#*/} a b c d n mask
	IFS=. read -r a b c d <<<"$addr"
	n=$(((a << 24) | (b << 16) | (c << 8) | d))
	mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
	n=$((n & mask))
	printf '%d.%d.%d.%d/%d\n' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)) "$len"
}

# guard_subnet ADDR/PREFIX — when root, make the subnet unreachable for the host's kernel
# (in the host namespace) so that a socket the intercept failed to take over fails at once
# instead of leaving the machine. Takes IPv4 and IPv6 (--ip6) prefixes; ignores the rest.
guard_subnet() {
	local net cur fam=-4
	if [[ $1 =~ ^[0-9a-fA-F:]+/[0-9]+$ ]]; then	# IPv6 (--ip6)
		fam=-6
		net=$("$PYTHON" -c 'import ipaddress, sys; print(ipaddress.ip_interface(sys.argv[1]).network)' "$1")
	else
		[[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$ ]] || return 0
		net=$(nc_subnet "$1")
	fi
	grep -qx "$net" "$NC_TMP/guarded" 2>/dev/null && return 0
	if [ "$(id -u)" != 0 ]; then
		note "not root: no unreachable route for $net (a kernel fallback could leave the host)"
		return 0
	fi
	cur=$(ip "$fam" route show exact "$net" 2>/dev/null || true)
	if [ -n "$cur" ] && [[ $cur != unreachable* ]]; then
		fail "the host already routes $net ($cur); this test needs that subnet to itself"
	fi
	[ -n "$cur" ] || log ip "$fam" route add unreachable "$net"
	nc_register "route unreachable $net"
	echo "$net" >>"$NC_TMP/guarded"
}

# nginx_conf_head DIR WORKER_CONNECTIONS — print the head of an nginx.conf for a test:
# files under DIR (made here), master + 2 workers (as root when the test is: the point is
# prefork and parallel connections, not privilege dropping), up to the http block's
# common lines. The caller prints its own http lines and servers and the closing brace.
nginx_conf_head() {
	local d=$1 conns=$2 user_line=""
	mkdir -p "$d/www" "$d/body" "$d/proxy" "$d/fastcgi" "$d/uwsgi" "$d/scgi"
	[ "$(id -u)" = 0 ] && user_line="user root;"
	cat <<NGX
daemon off;
master_process on;
worker_processes 2;
$user_line
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections $conns; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    default_type application/octet-stream;
NGX
}

# send_checked ADDR NAME PORT — $NC_TMP/data from a client under B to a receiver under A
# listening on PORT (at ADDR, A's address); the receiver writes what it got to
# $NC_TMP/NAME.got, which must equal the data. wait_port's probe is an empty connection:
# the receiver keeps the first one that carried data.
send_checked() {
	local addr=$1 name=$2 port=$3
	spawn_under A "rx-$name" "$PYTHON" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
got = b""
while not got:
    c, _ = s.accept()
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    c.close()
open(sys.argv[2], "wb").write(got)' "$port" "$NC_TMP/$name.got"
	wait_port B "$addr" "$port"
	log under B "$PYTHON" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(open(sys.argv[3], "rb").read())
c.shutdown(socket.SHUT_WR)
c.recv(1)
c.close()' "$addr" "$port" "$NC_TMP/data"
	wait_exit "${NC_SPAWNED[rx-$name]}" 20 || fail "the receiver did not finish"
	cmp "$NC_TMP/data" "$NC_TMP/$name.got" || fail "the receiver got other bytes"
}

# now_ms — wall clock in milliseconds.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# ---------------------------------------------------------------------------------------
# Set-up (skipped when only the functions are wanted, as tests/run.sh does).

if [ -z "${NC_LIB_NOINIT:-}" ]; then
	exec 3>&2
	NC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/netcon.XXXXXX")
	chmod 755 "$NC_TMP"
	if [ -z "${NC_REGISTRY:-}" ]; then
		NC_REGISTRY=$NC_TMP.registry
		NC_REGISTRY_OWN=1
	fi
	trap nc_cleanup EXIT
	nc_register "dir $NC_TMP"
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	set -E
	trap 'nc_on_err $? $LINENO "$BASH_COMMAND"' ERR
	[ -n "${NC_QUIET:-}" ] || note "$NC_NAME: temp dir $NC_TMP"
fi
