#!/usr/bin/env bash
# t_runsignals.sh — `netcon run` ended by a signal leaves nothing behind.
#
#   timeout 5 netcon run ... -- sleep 30     (timeout sends SIGTERM)
#   netcon run ... -- sleep 30;  kill -TERM <run>
#   netcon run ... -- sleep 30;  kill -KILL <run>
#            │ forks
#   ┌────────┴─────────────┐   ┌─────────────────────────┐
#   │ service 10.90.0.1/24 │   │ program (sleep 30)      │
#   │ VXLAN 127.0.0.1:$UP  │   │ under the intercept     │
#   └──────────────────────┘   └─────────────────────────┘
#
# After each: the program and the service are gone (checked by pid), the run's private
# directory is gone, and a second `netcon run` on the same UDP port works at once.
# Also: run exits 128+N when the program dies of signal N, and 143 for SIGTERM
# passed on to the program.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd timeout ps

guard_subnet 10.90.0.0/24
UP=$(free_udp_port)
RUN=("$NETCON" run --ip 10.90.0.1/24 --link vxlan --bind "127.0.0.1:$UP")
# The program records its pid, run's pid (its parent) and the socket, then sleeps.
# shellcheck disable=SC2016  # expanded by the program's shell
PROG=(sh -c 'echo $$ $PPID "$NETCON_SOCKET" >"$0.tmp" && mv "$0.tmp" "$0"; exec sleep 30')

# one_case MODE — start run, end it by MODE (timeout, term or kill), check what is left.
one_case() {
	local mode=$1 info=$NC_TMP/$1.info prog runpid sock svc rc=0 i
	case $mode in
	timeout) spawn "run-$mode" timeout 5 "${RUN[@]}" -- "${PROG[@]}" "$info" ;;
	*) spawn "run-$mode" "${RUN[@]}" -- "${PROG[@]}" "$info" ;;
	esac
	local top=$NC_PID
	for ((i = 0; i < 100; i++)); do [ -s "$info" ] && break; sleep 0.1; done
	[ -s "$info" ] || fail "$mode: the program did not start: $(logtail "run-$mode" 5)"
	read -r prog runpid sock <"$info"
	svc=$(ps -o pid= --ppid "$runpid" | tr -d ' ' | grep -vx "$prog" || true)
	[ -n "$svc" ] || fail "$mode: no service process under netcon run ($runpid)"
	note "$mode: run $runpid, service $svc, program $prog, socket $sock"
	[ -S "$sock" ] || fail "$mode: no socket at $sock"
	case $mode in
	term) log kill -TERM "$runpid" ;;
	kill) log kill -KILL "$runpid" ;;
	esac
	wait_exit "$top" 10 || rc=$?
	case $mode in
	timeout) assert_eq 124 "$rc" "exit status of timeout" ;;
	term) assert_eq 143 "$rc" "exit status of netcon run (the program died of SIGTERM)" ;;
	kill) assert_eq 137 "$rc" "exit status of netcon run" ;;
	esac
	for ((i = 0; i < 50; i++)); do
		alive "$prog" || alive "$svc" || break
		sleep 0.1
	done
	! alive "$prog" || fail "$mode: the program ($prog) is still running"
	! alive "$svc" || fail "$mode: the service ($svc) is still running"
	for ((i = 0; i < 50; i++)); do [ -e "$(dirname "$sock")" ] || break; sleep 0.1; done
	[ ! -e "$(dirname "$sock")" ] || fail "$mode: $(dirname "$sock") is left: $(ls -la "$(dirname "$sock")")"
	note "ok: $mode: no process, no directory left"
	rc=0
	log timeout -k 2 10 "${RUN[@]}" -- true || rc=$?
	assert_eq 0 "$rc" "$mode: a second netcon run on UDP port $UP"
}

one_case timeout
one_case term
one_case kill

# The program's own death by a signal: run reports it as a shell would.
rc=0
log timeout -k 2 10 "${RUN[@]}" -- sh -c 'kill -QUIT $$' || rc=$?
assert_eq 131 "$rc" "exit status of netcon run when the program dies of SIGQUIT"
rc=0
log timeout -k 2 10 "${RUN[@]}" -- sh -c 'exit 7' || rc=$?
assert_eq 7 "$rc" "exit status of netcon run when the program exits 7"
note "PASS"
