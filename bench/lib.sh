# shellcheck shell=bash
# bench/lib.sh — the figures bench/run.sh and bench/outbound.sh share (sourced after
# tests/lib.sh and a `say` of the script's own).
#
# The caller sets: RES (the raw results, one JSON object a line), CMDS (the commands of
# the run), T (iperf3 seconds), TCPBENCH, PP_COUNT, CR_MAX, CR_SECS; and for each path
# ADDR (the server as the client sees it), CLIENT and SERVER (command prefixes),
# IPERF_PORT and TB_PORT (the servers' ports), PORT_SHIFT (added to both on the client's
# side: a relay or a published port), SRV_BIND, COST_PGS (the process groups of the
# path's services and relays, whose CPU is counted).

# record JSON-OBJECT-BODY — one result line ({"path":..., ...}).
record() { printf '{%s}\n' "$1" >>"$RES"; }

# cmdlog WHAT CMD... — remember the exact command of a figure for the docs (once per kind).
cmdlog() {
	local what=$1
	shift
	grep -q "^$what	" "$CMDS" 2>/dev/null || printf '%s\t%s\n' "$what" "$(nc_quote "$@" | sed "s#$NC_TMP#\$TMP#g; s#$ROOT/##g")" >>"$CMDS"
}

# grp_ticks PGID — CPU clock ticks (user+system, children reaped included) of a process group.
grp_ticks() {
	local pg=$1 f s t=0
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue	# no fork per process (cat took 20 s on a busy machine)
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		[ $# -ge 15 ] || continue	# a process that exited while we read it
		[ "$3" = "$pg" ] || continue
		t=$((t + ${12} + ${13} + ${14} + ${15}))
	done
	echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# ns_del NS... — kill what runs in the namespaces, delete them.
ns_del() {
	local ns
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
}

# wait_tcp PORT — until the client side reaches ADDR:PORT (bounded).
wait_tcp() {
	local i
	for i in $(seq 1 50); do
		timeout 3 "${CLIENT[@]}" bash -c "exec 3<>/dev/tcp/$ADDR/$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# iperf PATH MTU STREAMS DIR REP — one iperf3 run; records Gbit/s and CPU per GiB.
iperf() {
	local path=$1 mtu=$2 st=$3 dir=$4 rep=$5 args t0 t1 pg out rc=0 line
	args=(iperf3 -c "$ADDR" -p "$((IPERF_PORT + PORT_SHIFT))" -t "$T" -J -P "$st")
	[ "$dir" = recv ] && args+=(-R)
	cmdlog "iperf3-$path" "${CLIENT[@]}" "${args[@]}"
	t0=0
	for pg in "${COST_PGS[@]}"; do t0=$((t0 + $(grp_ticks "$pg"))); done
	out=$(timeout -k 5 $((T + 30)) "${CLIENT[@]}" "${args[@]}" 2>"$NC_TMP/iperf.err") || rc=$?
	t1=0
	for pg in "${COST_PGS[@]}"; do t1=$((t1 + $(grp_ticks "$pg"))); done
	if [ -z "$out" ]; then
		line="no output"
	elif ! line=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
if "error" in d and "end" not in d or not d.get("end", {}).get("sum_received"):
    print("error: " + d.get("error", "no result")); sys.exit(1)
e = d["end"]; r = e["sum_received"]; c = e.get("cpu_utilization_percent", {})
secs = r["seconds"]
prog = (c.get("host_total", 0) + c.get("remote_total", 0)) / 100.0 * secs
extra = (int(sys.argv[2]) - int(sys.argv[1])) / float(sys.argv[3])
gib = r["bytes"] / 2**30
print("\"gbps\": %.3f, \"bytes\": %d, \"seconds\": %.2f, \"cpu_prog_s\": %.3f, \"cpu_extra_s\": %.3f, \"cpu_s_per_gib\": %.3f"
      % (r["bits_per_second"] / 1e9, r["bytes"], secs, prog, extra, (prog + extra) / gib if gib else 0))
' "$t0" "$t1" "$CLK_TCK" 2>&1); then
		:
	else
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"${IPERF_TEST:-tput}\", \"streams\": $st, \"dir\": \"$dir\", \"rep\": $rep${IPERF_EXTRA:-}${HELD:-}, $line"
		say "  iperf3 $path mtu $mtu P$st $dir: $(sed 's/.*"gbps": \([0-9.]*\).*cpu_s_per_gib": \([0-9.]*\).*/\1 Gbit\/s, \2 CPU s\/GiB/' <<<"$line")"
		return 0
	fi
	say "  iperf3 $path mtu $mtu P$st $dir failed (exit $rc): ${line##*$'\n'} $(tail -c 300 "$NC_TMP/iperf.err" | tr '\n' ' ')"
	record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"${IPERF_TEST:-tput}\", \"streams\": $st, \"dir\": \"$dir\", \"rep\": $rep${IPERF_EXTRA:-}${HELD:-}, \"error\": \"exit $rc\""
	# iperf3's server serves one test at a time: a stuck test would block the next ones.
	nc_kill_groups "${NC_SPAWNED[iperf-srv]}"
	spawn iperf-srv "${SERVER[@]}" iperf3 -s -4 -B "$SRV_BIND" -p "$IPERF_PORT"
	wait_tcp "$((IPERF_PORT + PORT_SHIFT))" || true
	return 1
}

latency() {
	local path=$1 mtu=$2 out
	local args=("$TCPBENCH" pingpong "$ADDR" "$((TB_PORT + PORT_SHIFT))" "$PP_COUNT")
	cmdlog "latency-$path" "${CLIENT[@]}" "${args[@]}"
	if out=$(timeout -k 5 60 "${CLIENT[@]}" "${args[@]}" 2>&1) && [[ $out =~ ^([0-9.]+)\ ([0-9.]+)\ ([0-9.]+)$ ]]; then
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"latency\"${HELD:-}, \"p50_us\": ${BASH_REMATCH[1]}, \"p99_us\": ${BASH_REMATCH[2]}, \"mean_us\": ${BASH_REMATCH[3]}"
		say "  latency $path mtu $mtu: p50 ${BASH_REMATCH[1]} µs, p99 ${BASH_REMATCH[2]} µs"
	else
		say "  latency $path mtu $mtu failed: $out"
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"latency\"${HELD:-}, \"error\": \"failed\""
	fi
}

connrate() {
	local path=$1 mtu=$2 out
	local args=("$TCPBENCH" connrate "$ADDR" "$((TB_PORT + PORT_SHIFT))" "$CR_MAX" "$CR_SECS")
	cmdlog "connrate-$path" "${CLIENT[@]}" "${args[@]}"
	if out=$(timeout -k 5 60 "${CLIENT[@]}" "${args[@]}" 2>&1) && [[ $out =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"connrate\", \"per_s\": ${BASH_REMATCH[1]}, \"count\": ${BASH_REMATCH[2]}"
		say "  conn rate $path mtu $mtu: ${BASH_REMATCH[1]}/s"
	else
		say "  conn rate $path mtu $mtu failed: $out"
		record "\"path\": \"$path\", \"mtu\": $mtu, \"test\": \"connrate\", \"error\": \"failed\""
	fi
}
