#!/usr/bin/env bash
# t_systemd.sh — readiness for systemd (Type=notify) and the units of contrib/systemd/.
#
# No system manager runs in the test: a python3 datagram socket plays systemd's
# $NOTIFY_SOCKET, as systemd sets it for a Type=notify unit.
#
# Checks:
#  - a service started with NOTIFY_SOCKET (a path, then an abstract '@' name) sends
#    READY=1 with MAINPID = its pid and a STATUS line, and when READY=1 arrives its
#    control socket already answers `netcon status`; on SIGTERM it sends STOPPING=1 and
#    exits 0; a service whose start fails sends no READY=1;
#  - without NOTIFY_SOCKET, and with a NOTIFY_SOCKET nobody listens on, the service runs
#    as before;
#  - `make install` puts netcon@.service (system) and netcon.service (user), with
#    ExecStart on the installed netcon, and `systemd-analyze verify` (system and --user)
#    accepts both, pointed at the DESTDIR's binary.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built

# notified NAME ADDR — listen on ADDR (a path or @abstract) and print every datagram
# received as one line (newlines as '|') to $NC_TMP/NAME.log.
notified() {
	spawn "$1" "$PYTHON" -u -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + a[1:] if a[0] == "@" else a)
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", "|"), flush=True)' "$2"
	local i
	for i in $(seq 1 50); do grep -q listening "$NC_TMP/$1.log" && return 0; sleep 0.1; done
	fail "the notify listener did not start"
}

# run_notified NAME NOTIFY_SOCKET — start service A under it; check READY=1 (socket up
# by then), MAINPID, STATUS; stop it: STOPPING=1.
run_notified() {
	local name=$1 addr=$2 i line pid
	notified "$name" "$addr"
	rm -f "$(sock A)"
	NOTIFY_SOCKET=$addr spawn svc-A "$NETCON" service --ip 10.97.2.1/24 --socket "$(sock A)" \
		--bind "127.0.0.1:$(free_udp_port)" --probe-ms 300
	pid=$NC_PID
	for i in $(seq 1 100); do grep -q READY=1 "$NC_TMP/$name.log" && break; sleep 0.05; done
	# At once: the socket must answer now that READY=1 was sent.
	"$NETCON" status --socket "$(sock A)" >/dev/null || fail "READY=1 came before the control socket answered"
	line=$(grep READY=1 "$NC_TMP/$name.log") || fail "no READY=1 within 5 s: $(logtail "$name")"
	assert_contains "$line" "MAINPID=$pid|" "the READY message"
	assert_contains "$line" "STATUS=10.97.2.1/24 on vxlan, socket $(sock A)" "the READY message"
	kill -TERM "$pid"
	wait_exit "$pid" 5 || fail "the service did not exit 0 on SIGTERM"
	for i in $(seq 1 20); do grep -q STOPPING=1 "$NC_TMP/$name.log" && break; sleep 0.05; done
	assert_eq "STOPPING=1" "$(tail -n 1 "$NC_TMP/$name.log")" "the last message"
	stop "$name"
}
guard_subnet 10.97.2.1/24
run_notified notify-path "$NC_TMP/notify.sock"
run_notified notify-abstract "@netcon-test-$$"

# A start that fails says nothing.
notified notify-fail "$NC_TMP/notify2.sock"
rc=0
NOTIFY_SOCKET=$NC_TMP/notify2.sock "$NETCON" service --ip 10.97.2.1/24 --socket "$(sock A)" \
	--pcap "$NC_TMP/no/dir/x.pcap" --bind "127.0.0.1:$(free_udp_port)" 2>/dev/null || rc=$?
assert_eq 1 "$rc" "exit status of a failed start"
sleep 0.3
[ "$(grep -vc listening "$NC_TMP/notify-fail.log")" = 0 ] || fail "a failed start notified: $(logtail notify-fail)"
note "ok: a failed start sends nothing"

# Nobody listening: the service starts and stops as usual.
NOTIFY_SOCKET=$NC_TMP/nobody.sock start_service A 10.97.2.1/24 --bind "127.0.0.1:$(free_udp_port)"
log "$NETCON" status --socket "$(sock A)" >/dev/null
stop_service A

# ---- the units -------------------------------------------------------------------------
require_cmd systemd-analyze
D=$NC_TMP/root
log make -s -C "$NC_ROOT" install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >/dev/null
sys=$D/usr/lib/systemd/system/netcon@.service
usr=$D/usr/lib/systemd/user/netcon.service
grep -qx 'ExecStart=/usr/bin/netcon service --socket /run/netcon/%i.sock $NETCON_OPTS' "$sys" ||
	fail "netcon@.service: no ExecStart on /usr/bin/netcon"
grep -qx 'Type=notify' "$sys" && grep -qx 'Type=notify' "$usr" || fail "the units are not Type=notify"
mkdir -p "$NC_TMP/units" "$NC_TMP/xdg"
chmod 700 "$NC_TMP/xdg"
sed "s|/usr/bin/netcon|$D/usr/bin/netcon|" "$sys" >"$NC_TMP/units/netcon@test.service"
sed "s|/usr/bin/netcon|$D/usr/bin/netcon|" "$usr" >"$NC_TMP/units/netcon.service"
log systemd-analyze verify --man=no "$NC_TMP/units/netcon@test.service"
XDG_RUNTIME_DIR=$NC_TMP/xdg log systemd-analyze --user verify --man=no "$NC_TMP/units/netcon.service"
note "ok: systemd-analyze verify accepts both units"
