#!/usr/bin/env bash
# c_iperf3_udp.sh — iperf3 -s under A (namespace with no network; its default [::]
# listener), iperf3 -c -u under B, both directions: the TCP control connection plus the
# UDP stream, each datagram framed through netcon's UDP sockets.
# program: iperf3 -u (UDP, both directions)
# packages: iperf3
# checks: -u -b 200M -t 3 client→server and -R server→client: exit 0, no error in the JSON, more than 10,000 datagrams, loss under 5 %; rate and loss noted
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs iperf3 python3
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
spawn_in_ns A iperf3 /usr/bin/iperf3 -s -p "$P" --forceflush
for _ in $(seq 1 100); do grep -q 'Server listening' "$NC_TMP/iperf3.log" && break; sleep 0.1; done
grep -q 'Server listening' "$NC_TMP/iperf3.log" || fail "iperf3 -s did not start: $(logtail iperf3)"
for dir in forward reverse; do
	args=(); [ $dir = reverse ] && args=(-R)
	NC_TIMEOUT=60 log under B iperf3 -4 -c "$COMPAT_NET.1" -p "$P" -u -b 200M -t 3 -J "${args[@]}" \
		>"$NC_TMP/$dir.json" || fail "iperf3 -u $dir exited $?: $(grep '"error"' "$NC_TMP/$dir.json")"
	r=$(python3 - "$NC_TMP/$dir.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "error" not in j, j.get("error")
s = j["end"]["sum"]
assert s["packets"] > 10000, s["packets"]
assert s["lost_percent"] < 5, s["lost_percent"]
print("%.0f Mbit/s, %d datagrams, %.2f %% lost" % (s["bits_per_second"] / 1e6, s["packets"], s["lost_percent"]))
PY
) || fail "iperf3 -u $dir: $r"
	note "ok: $dir $r"
	compat_note "$dir: $r"
	sleep 0.5
done
note PASS
