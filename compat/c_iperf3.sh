#!/usr/bin/env bash
# c_iperf3.sh — iperf3 -s under A (namespace with no network; its default AF_INET6 [::]
# listener, dual stack), iperf3 -c -4 under B, both directions (the client sends; with -R
# the server sends).
# program: iperf3 (both directions)
# packages: iperf3
# checks: -4 -t 3 client→server and -R server→client: exit 0, no error in the JSON, bytes received > 0 and within 2 % of bytes sent
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs iperf3 python3
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
spawn_in_ns A iperf3 /usr/bin/iperf3 -s -p "$P" --forceflush
# Not wait_port: iperf3's server takes a probe connection as a client that failed.
for _ in $(seq 1 100); do grep -q 'Server listening' "$NC_TMP/iperf3.log" && break; sleep 0.1; done
grep -q 'Server listening' "$NC_TMP/iperf3.log" || fail "iperf3 -s did not start: $(logtail iperf3)"
check() {
	local dir=$1 f=$NC_TMP/$1.json
	python3 - "$f" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "error" not in j, j.get("error")
s, r = j["end"]["sum_sent"], j["end"]["sum_received"]
# The receiver stops counting when the test ends: within 2 % of what was sent.
assert r["bytes"] > 0 and abs(s["bytes"] - r["bytes"]) <= 0.02 * s["bytes"], (s["bytes"], r["bytes"])
print("%.0f Mbit/s (%d bytes)" % (r["bits_per_second"] / 1e6, r["bytes"]))
PY
}
for dir in forward reverse; do
	args=(); [ $dir = reverse ] && args=(-R)
	NC_TIMEOUT=60 log under B iperf3 -4 -c "$COMPAT_NET.1" -p "$P" -t 3 -J "${args[@]}" >"$NC_TMP/$dir.json" ||
		fail "iperf3 $dir exited $?: $(grep '"error"' "$NC_TMP/$dir.json")"
	r=$(check "$dir" 2>&1) || fail "iperf3 $dir: $r"
	note "ok: $dir $r"
	compat_note "$dir: $r"
	sleep 0.5
done
note PASS
