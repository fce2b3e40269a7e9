#!/usr/bin/env bash
# bench/containers.sh — two containers talking to each other: netcon against rootless
# Podman's own networks, side by side in one run (`make bench`, after bench/run.sh).
#
#   row                     server container                  client container
#   netcon (VXLAN)          under service A (NET.1)           under service B, → NET.1:PORT
#                           A ══ VXLAN over loopback ══ B, both services run by the
#                           rootless user; containers --network none + netcon-exec
#   slirp4netns, rootlesskit  --network slirp4netns,          --network slirp4netns:
#     (or slirp4netns)        -p 127.0.0.1:PORT:PORT            allow_host_loopback=true,
#                             (port_handler=...)                → 10.0.2.2:PORT (the host)
#   pasta                   --network none + pasta attached   --network none + pasta
#                           (-t 127.0.0.1/PORT)               attached, → the gateway's
#                                                             address (pasta: the host)
#
# Every container: rootless Podman (runc, --rootfs of a Debian 12 minbase root with
# iperf3, build/tcpbench mounted read-only at /tcpbench), --cap-drop ALL,
# no-new-privileges. Debian 12's Podman (4.3) has no `--network pasta` (4.4 added it):
# the script attaches Debian's pasta to the container's network namespace itself, as
# newer Podman does (`pasta --config-net ... PID`).
#
# Figures, the same programs, sizes and durations on every row, each a fresh client
# container, median of BENCH_REPS (default 3):
#   send / recv   iperf3 -c, -t BENCH_TIME (default 5 s), single stream; -R for recv
#   p50 / p99     build/tcpbench pingpong, 20,000 1-byte round trips
#   conn/s        build/tcpbench connrate, at most 10,000 connections or 2 s
#
# Nothing passes or fails. Writes bench/results/containers.{md,tsv} and the section
# "Containers" of docs/benchmarks.md (--out DIR: there instead, docs untouched). An engine
# or network that cannot start is reported and its row skipped; without root, Podman or
# the Debian root the script says why and exits 0.
#
# Environment: BENCH_TIME, BENCH_REPS, BENCH_CT_ROWS (a subset of the rows' keys:
# netcon-1500 netcon-65485 slirp-rootlesskit slirp-slirp4netns pasta), BUILD, CT_USER
# (default netcon-bench: a user of its own, so that the compat scripts' cleanup of
# netcon-ct and this one's never meet), NC_VERBOSE=1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/containers.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

say() { printf 'bench-ct: %s\n' "$*" >&2; }
quit() { say "skipped: $*"; exit 0; }	# make bench goes on

[ "$(id -u)" = 0 ] || quit "needs root (a user for rootless Podman and its subordinate ids)"

BUILD=${BUILD:-build}
make -s -j2 BUILD="$BUILD" all bench-tools >/dev/null
[ -n "${NC_VERBOSE:-}" ] || NC_QUIET=1
export CT_USER=${CT_USER:-netcon-bench}
# shellcheck source=compat/lib.sh
. compat/lib.sh
# shellcheck source=compat/containers.sh
. compat/containers.sh

(compat_pkgs podman runc uidmap slirp4netns passt debootstrap acl python3) >"$NC_TMP/pkgs.out" 2>&1 ||
	quit "packages could not be installed: $(tail -n 3 "$NC_TMP/pkgs.out" | tr '\n' ' ')"
[ -x "$BUILD/netcon-exec" ] || quit "no $BUILD/netcon-exec"

T=${BENCH_TIME:-5}
REPS=${BENCH_REPS:-3}
PP_COUNT=20000
CR_MAX=10000
CR_SECS=2
ROWS=${BENCH_CT_ROWS:-netcon-1500 netcon-65485 slirp-rootlesskit slirp-slirp4netns pasta}
NET=10.213.4
if [ -z "$OUT" ]; then OUT=$ROOT/bench/results; DOCS=$ROOT/docs/benchmarks.md; else DOCS=""; fi
mkdir -p "$OUT"
RES=$NC_TMP/containers.tsv
: >"$RES"

ct_setup
ct_podman_user
cp "$BUILD/tcpbench" "$CT_RUN/bin/tcpbench"
chmod 755 "$CT_RUN/bin/tcpbench"
(ct_debian_tar) >"$NC_TMP/debian.out" 2>&1 ||
	quit "no Debian root file system: $(tail -n 3 "$NC_TMP/debian.out" | tr '\n' ' ')"
DEB=$CT_RUN/debian
mkdir "$DEB"
chown "$CT_USER" "$DEB"
log runuser -u "$CT_USER" -- tar -C "$DEB" --exclude='./dev/*' -xf "$CT_DEBIAN_CACHE"
[ -x "$DEB/usr/bin/iperf3" ] || quit "the Debian root has no iperf3 (cache $CT_DEBIAN_CACHE)"
# --rootfs is a flag: the root directory is the first argument after the options.
MNT=(--mount "type=bind,src=$CT_RUN/bin/tcpbench,dst=/tcpbench,ro" --rootfs "$DEB")
ct_tun_access || say "the user cannot open /dev/net/tun and no ACL could be set: slirp4netns and pasta rows will fail"

# ---------------------------------------------------------------------------------------
# Rows: start_ROW starts the server container (and what its network needs) and sets ADDR;
# client ROW CMD... runs CMD in a fresh client container, its stdout on ours.

IPORT=$(free_tcp_port)	# iperf3 -s
TPORT=$(free_tcp_port)	# tcpbench serve
SERVE=(sh -c "iperf3 -s -p $IPORT >/dev/null 2>&1 & exec /tcpbench serve 0.0.0.0:$TPORT")
SVC_STARTED=""

start_netcon() {
	local mtu=$1 pa pb
	if [ -z "$SVC_STARTED" ] || [ "$SVC_STARTED" != "$mtu" ]; then
		stop_services
		pa=$(free_udp_port); pb=$(free_udp_port)
		ct_user_service A "$NET.1/24" --bind "127.0.0.1:$pa" --peer "127.0.0.1:$pb" --mtu "$mtu"
		ct_user_service B "$NET.2/24" --bind "127.0.0.1:$pb" --peer "127.0.0.1:$pa" --mtu "$mtu"
		SVC_STARTED=$mtu
	fi
	log ct_podman A -d --name ncb-srv "${MNT[@]}" "${SERVE[@]}" >/dev/null
	ADDR=$NET.1
}

stop_services() {
	local n
	for n in A B; do
		[ -n "${NC_SERVICE[$n]:-}" ] || continue
		nc_kill_groups "${NC_SERVICE[$n]}"
		unset "NC_SERVICE[$n]"
	done
	SVC_STARTED=""
}

start_slirp() {
	log ct_podman_run --rm -d --name ncb-srv --network "slirp4netns:port_handler=$1" \
		-p "127.0.0.1:$IPORT:$IPORT" -p "127.0.0.1:$TPORT:$TPORT" "${MNT[@]}" "${SERVE[@]}" >/dev/null
	ADDR=10.0.2.2
}

# pasta_attach NAME CONTAINER PASTA-ARGS... — pasta on the container's network namespace.
pasta_attach() {
	local name=$1 ctr=$2 pid
	shift 2
	pid=$(ct_podman_cmd inspect -f '{{.State.Pid}}' "$ctr")
	spawn "$name" runuser -u "$CT_USER" -- pasta -f -q --config-net -u none -T none -U none "$@" "$pid"
}

start_pasta() {
	local gw
	gw=$(ip -4 route show default | awk '{ print $3; exit }')
	[ -n "$gw" ] || { say "  pasta: the host has no default route (pasta maps the gateway's address to the host)"; return 1; }
	log ct_podman_run --rm -d --name ncb-srv --network none "${MNT[@]}" "${SERVE[@]}" >/dev/null
	pasta_attach pasta-srv ncb-srv -t "127.0.0.1/$IPORT" -t "127.0.0.1/$TPORT"
	ADDR=$gw
}

client() {
	local row=$1
	shift
	case $row in
	netcon-*) ct_podman B "${MNT[@]}" "$@" ;;
	slirp-*) ct_podman_run --rm --network slirp4netns:allow_host_loopback=true "${MNT[@]}" "$@" ;;
	pasta) pasta_client "$@" ;;
	esac
}

# The client's program starts once pasta has configured the namespace (a route).
pasta_client() {
	local rc=0
	ct_podman_run -d --name ncb-cli --network none "${MNT[@]}" sh -c \
		'i=0; while [ "$(wc -l </proc/net/route)" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; exec "$@"' \
		sh "$@" >/dev/null || return 1
	pasta_attach pasta-cli ncb-cli -t none
	rc=$(ct_podman_cmd wait ncb-cli) || rc=1
	ct_podman_cmd logs ncb-cli 2>"$NC_TMP/cli.err" || true
	ct_podman_cmd rm -f ncb-cli >/dev/null 2>&1 || true
	nc_kill_groups "${NC_SPAWNED[pasta-cli]}"
	return "$rc"
}

stop_server() {
	ct_podman_cmd rm -f -t 0 ncb-srv >/dev/null 2>&1 || true
	[ -z "${NC_SPAWNED[pasta-srv]:-}" ] || { nc_kill_groups "${NC_SPAWNED[pasta-srv]}"; unset "NC_SPAWNED[pasta-srv]"; }
}

# ---------------------------------------------------------------------------------------
# Figures

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RES"; }

iperf() {
	local row=$1 dir=$2 out v args=(iperf3 -c "$ADDR" -p "$IPORT" -t "$T" -J)
	[ "$dir" = recv ] && args+=(-R)
	out=$(NC_TIMEOUT=$((T + 60)) client "$row" "${args[@]}" 2>"$NC_TMP/iperf.err") || true
	if v=$(printf '%s' "$out" | python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum_received"]
print("%.3f" % (e["bits_per_second"] / 1e9))' 2>/dev/null); then
		record "$row" "$dir" "$v"
		say "  $row iperf3 $dir: $v Gbit/s"
	else
		say "  $row iperf3 $dir failed: $(printf '%s' "$out" | tr '\n' ' ' | tail -c 200) $(tail -c 200 "$NC_TMP/iperf.err")"
	fi
}

pingpong() {
	local row=$1 out
	out=$(client "$row" /tcpbench pingpong "$ADDR" "$TPORT" "$PP_COUNT" 2>"$NC_TMP/pp.err") || true
	if [[ $out =~ ^([0-9.]+)\ ([0-9.]+)\ ([0-9.]+)$ ]]; then
		record "$row" p50 "${BASH_REMATCH[1]}"
		record "$row" p99 "${BASH_REMATCH[2]}"
		say "  $row latency: p50 ${BASH_REMATCH[1]} µs, p99 ${BASH_REMATCH[2]} µs"
	else
		say "  $row latency failed: $out $(tail -c 200 "$NC_TMP/pp.err")"
	fi
}

connrate() {
	local row=$1 out
	out=$(client "$row" /tcpbench connrate "$ADDR" "$TPORT" "$CR_MAX" "$CR_SECS" 2>"$NC_TMP/cr.err") || true
	if [[ $out =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
		record "$row" conn "${BASH_REMATCH[1]}"
		say "  $row conn rate: ${BASH_REMATCH[1]}/s"
	else
		say "  $row conn rate failed: $out $(tail -c 200 "$NC_TMP/cr.err")"
	fi
}

# ready ROW — the server answers a full exchange through the row's network (a port
# forwarder on the host accepts before the server inside listens), bounded.
ready() {
	client "$1" sh -c "i=0; while [ \$i -lt 50 ]; do /tcpbench connrate $ADDR $TPORT 1 1 >/dev/null 2>&1 &&
		bash -c 'exec 3<>/dev/tcp/$ADDR/$IPORT' 2>/dev/null && exit 0; sleep 0.2; i=\$((i + 1)); done; exit 1" >"$NC_TMP/ready.log" 2>&1
}

run_row() {
	local row=$1 rep ok=0
	say "$row"
	case $row in
	netcon-*) start_netcon "${row#netcon-}" && ok=1 ;;
	slirp-*) start_slirp "${row#slirp-}" && ok=1 ;;
	pasta) start_pasta && ok=1 ;;
	*) say "  unknown row $row"; return 0 ;;
	esac
	if [ "$ok" = 1 ] && ! ready "$row"; then
		say "  $row: the server container is unreachable; row skipped: $(tail -n 3 "$NC_TMP/ready.log" | tr '\n' ' ')"
		ok=0
	fi
	if [ "$ok" = 1 ]; then
		for rep in $(seq 1 "$REPS"); do
			iperf "$row" send
			iperf "$row" recv
			pingpong "$row"
			connrate "$row"
		done
	else
		record "$row" skipped 1
	fi
	stop_server
}

SECONDS=0
say "iperf3 ${T}s, median of $REPS; rows: $ROWS"
for row in $ROWS; do
	run_row "$row" || say "  $row: setup failed; row skipped"
done
stop_services
say "measured in ${SECONDS}s"

pkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
{
	printf 'date\t%s\n' "$(date -u +%Y-%m-%d)"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'cores\t%s\n' "$(nproc)"
	printf 'netcon\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	printf 'podman\t%s\n' "$(pkgv podman)"
	printf 'runc\t%s\n' "$(pkgv runc)"
	printf 'slirp4netns\t%s\n' "$(pkgv slirp4netns)"
	printf 'passt\t%s\n' "$(pkgv passt)"
	printf 'iperf3\t%s\n' "$(sed -n '/^Package: iperf3$/,/^$/s/^Version: //p' "$DEB/var/lib/dpkg/status")"
	printf 'time\t%s\n' "$T"
	printf 'reps\t%s\n' "$REPS"
} >"$NC_TMP/meta.tsv"
cp "$RES" "$OUT/containers.tsv"
python3 bench/ct_report.py --results "$RES" --meta "$NC_TMP/meta.tsv" --out "$OUT/containers.md" \
	${DOCS:+--docs "$DOCS"}
