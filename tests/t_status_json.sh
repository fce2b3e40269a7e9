#!/usr/bin/env bash
# t_status_json.sh — `netcon status --json` against its schema, and `--watch`.
#
#   python3 server (under A) ◄── VXLAN ──► python3 client (under B), connection held
#
# Checks:
#  - with a connection held open after 100,000 bytes each way, `netcon status --json` of A
#    is one line of JSON that validates against docs/status-json.schema.json
#    (python3-jsonschema, draft-07, no field the schema does not name); every field of the
#    schema is documented in docs/status-json.md; the values are A's: pid, address, MAC
#    and MTU as the text status says, the link's frames counted, the capture file
#    (--pcap), the connection in the table with its peer, the bytes both ways and its
#    owner (the server's pid and command);
#  - --watch=0.2 --json prints one valid document a line until SIGINT, then exits 0;
#    --watch (text) exits 0 on SIGTERM; --watch exits 1 with one line when the service
#    stops;
#  - bad input: --watch=0, --watch=x: one line, exit 2.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
"$PYTHON" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"

SCHEMA=$NC_ROOT/docs/status-json.schema.json
DOC=$NC_ROOT/docs/status-json.md
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
start_service A 10.97.1.1/24 --ip6 fd00:97:1::1/64 --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--mtu 1400 --pcap "$NC_TMP/a.pcap"
start_service B 10.97.1.2/24 --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A"
TP=$(free_tcp_port)

# A server that answers 100,000 bytes for 100,000 and holds the connection until EOF.
spawn_under A srv "$PYTHON" -c '
import socket, sys
s = socket.socket()
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    got = 0
    while got < 100000:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
    if got:
        c.sendall(b"y" * 100000)
        c.recv(1)   # held until the client goes
    c.close()' "$TP"
wait_port B 10.97.1.1 "$TP"
spawn_under B cli "$PYTHON" -c '
import socket, sys, time
c = socket.create_connection(("10.97.1.1", int(sys.argv[1])))
c.sendall(b"x" * 100000)
got = 0
while got < 100000:
    got += len(c.recv(65536))
print("client got", got, flush=True)
time.sleep(60)' "$TP"
for i in $(seq 1 100); do
	grep -q "client got 100000" "$NC_TMP/cli.log" && break
	sleep 0.1
done
grep -q "client got 100000" "$NC_TMP/cli.log" || fail "the client did not get its 100,000 bytes: $(logtail cli)"

log "$NETCON" status --socket "$(sock A)" --json >"$NC_TMP/a.json"
log "$NETCON" status --socket "$(sock A)" >"$NC_TMP/a.txt"
[ "$(wc -l <"$NC_TMP/a.json")" = 1 ] || fail "--json printed $(wc -l <"$NC_TMP/a.json") lines, want 1"
log "$PYTHON" - "$SCHEMA" "$DOC" "$NC_TMP/a.json" "$NC_TMP/a.txt" "${NC_SERVICE[A]}" "$TP" "$NC_TMP/a.pcap" \
	"${NC_SPAWNED[srv]}" <<'PY'
import json, re, sys
import jsonschema

schema_path, doc_path, json_path, txt_path, pid, port, pcap, srv_pid = sys.argv[1:9]
schema = json.load(open(schema_path))
doc = open(doc_path).read()
st = json.load(open(json_path))
txt = open(txt_path).read()
jsonschema.Draft7Validator.check_schema(schema)
jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(st)
print("[*] ok: the document validates against the schema (version %d)" % st["version"])

# Every field of the schema is documented.
def names(s, out):
    for k, v in s.get("properties", {}).items():
        out.add(k)
        names(v, out)
    for v in s.get("oneOf", []):
        names(v, out)
    if "items" in s:
        names(s["items"], out)
    return out
missing = sorted(n for n in names(schema, set()) if "`%s`" % n not in doc)
assert not missing, "fields not in docs/status-json.md: %s" % missing
print("[*] ok: every field of the schema is in docs/status-json.md")

def eq(want, got, what):
    assert want == got, "%s: want %r, got %r" % (what, want, got)
    print("[*] ok: %s = %r" % (what, got))

eq(int(pid), st["pid"], "pid")
eq("10.97.1.1", st["ipv4"]["address"], "ipv4.address")
eq(24, st["ipv4"]["prefix"], "ipv4.prefix")
eq(1400, st["mtu"], "mtu")
eq(["fd00:97:1::1"], [a["address"] for a in st["ipv6"] if not a["link_local"]], "ipv6 (--ip6)")
eq(True, st["ipv6"][0]["link_local"] and st["ipv6"][0]["address"].startswith("fe80:"), "ipv6[0] link-local")
m = re.search(r"^address 10\.97\.1\.1/24 mac (\S+) mtu 1400$", txt, re.M)
assert m, "the text status has no address line"
eq(m.group(1), st["mac"], "mac, as the text status says")
eq("vxlan", st["link"]["kind"], "link.kind")
assert st["link"]["rx_frames"] > 70 and st["link"]["tx_frames"] > 70, st["link"]
m = re.search(r"^link rx (\d+) frames", txt, re.M)
assert m and int(m.group(1)) >= st["link"]["rx_frames"], "text status taken after: rx frames"
print("[*] ok: link frames counted (rx %d, tx %d)" % (st["link"]["rx_frames"], st["link"]["tx_frames"]))
eq(None, st["faults"], "faults")
eq(pcap, st["capture"]["file"], "capture.file")
eq(1, st["capture"]["sinks"], "capture.sinks")
assert st["capture"]["frames"] >= st["link"]["tx_frames"], st["capture"]
eq(1, st["sockets_by_kind"]["tcp"], "sockets_by_kind.tcp")
eq(1, st["sockets_by_kind"]["listen"], "sockets_by_kind.listen")
eq(True, st["counters"]["accepted"] >= 2, "counters.accepted >= 2 (the probe and the client)")
conns = [s for s in st["sockets"] if s["kind"] == "tcp"]
eq(1, len(conns), "connections in the table")
c = conns[0]
eq("10.97.1.1:%s" % port, c["local"], "the connection's local address")
eq(True, c["peer"].startswith("10.97.1.2:"), "its peer is B")
eq("established", c["state"], "its state")
eq(100000, c["bytes_in"], "its bytes in")
eq(100000, c["bytes_out"], "its bytes out")
eq((int(srv_pid), "python3"), (c["pid"], c["command"]), "its owner: the server's pid and command")
lsn = [s for s in st["sockets"] if s["kind"] == "listen"]
eq([("0.0.0.0:%s" % port, None)], [(s["local"], s["peer"]) for s in lsn], "the listener")
eq(False, st["sockets_cut"], "sockets_cut")
PY

# ---- --watch ---------------------------------------------------------------------------
spawn watchj "$NETCON" status --socket "$(sock A)" --json --watch=0.2
sleep 1.2
kill -INT "${NC_SPAWNED[watchj]}"
rc=0
wait_exit "${NC_SPAWNED[watchj]}" 5 || rc=$?
assert_eq 0 "$rc" "exit status of --watch --json after SIGINT"
log "$PYTHON" - "$SCHEMA" "$NC_TMP/watchj.log" <<'PY'
import json, sys
import jsonschema
v = jsonschema.Draft7Validator(json.load(open(sys.argv[1])))
lines = open(sys.argv[2]).read().splitlines()
assert len(lines) >= 3, "only %d lines in 1.2 s at 0.2 s" % len(lines)
docs = [json.loads(l) for l in lines]
for d in docs:
    v.validate(d)
reqs = [d["counters"]["requests"] for d in docs]
assert reqs == sorted(reqs) and reqs[-1] > reqs[0], reqs
print("[*] ok: %d documents, each valid, requests counted %s" % (len(docs), reqs))
PY

spawn watcht "$NETCON" status --socket "$(sock A)" --watch=0.3
sleep 1
kill -TERM "${NC_SPAWNED[watcht]}"
rc=0
wait_exit "${NC_SPAWNED[watcht]}" 5 || rc=$?
assert_eq 0 "$rc" "exit status of --watch after SIGTERM"
n=$(grep -c '^service pid ' "$NC_TMP/watcht.log")
[ "$n" -ge 2 ] || fail "--watch printed $n statuses in 1 s at 0.3 s"
note "ok: --watch printed $n text statuses"

spawn watchgone "$NETCON" status --socket "$(sock B)" --watch=0.2
sleep 0.5
stop cli
stop_service B
rc=0
wait_exit "${NC_SPAWNED[watchgone]}" 5 || rc=$?
assert_eq 1 "$rc" "exit status of --watch when the service stopped"
assert_contains "$(tail -n 1 "$NC_TMP/watchgone.log")" "netcon status: cannot reach the service at $(sock B)" "its last line"

# ---- bad input -------------------------------------------------------------------------
for bad in --watch=0 --watch=x --watch=; do
	rc=0
	out=$("$NETCON" status --socket "$(sock A)" "$bad" 2>&1) || rc=$?
	assert_eq 2 "$rc" "exit status of $bad"
	assert_eq "netcon status: bad --watch '${bad#--watch=}': want seconds from 0.1 to 3600 (see --help)" "$out" "its message"
done
stop srv
stop_service A
