#!/usr/bin/env bash
# c_python.sh — python3 urllib (under B) against python3 http.server (under A, namespace
# with no network).
# program: python3 urllib + http.server
# packages: python3
# checks: urllib GET of 10 KiB and 8 MiB, sha256 equal; HTTPError 404; 50 requests from 8 threads
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs python3
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
www=$NC_TMP/www; mkdir -p "$www"
head -c 10240 /dev/urandom >"$www/small"; mkblob "$www/big" 8
spawn_in_ns A web /usr/bin/python3 -m http.server --bind 0.0.0.0 --directory "$www" "$P"
wait_port B "$COMPAT_NET.1" "$P"
cat >"$NC_TMP/client.py" <<'PY'
import hashlib, sys, urllib.request, urllib.error, concurrent.futures
base, www = sys.argv[1], sys.argv[2]
def get(name):
    with urllib.request.urlopen(base + "/" + name, timeout=30) as r:
        return r.status, r.read()
for name in ("small", "big"):
    st, body = get(name)
    want = hashlib.sha256(open(www + "/" + name, "rb").read()).hexdigest()
    assert st == 200 and hashlib.sha256(body).hexdigest() == want, name
    print(name, "ok", len(body))
try:
    get("missing"); print("404 not raised"); sys.exit(1)
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
    print("404 ok")
small = open(www + "/small", "rb").read()
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    res = list(ex.map(lambda i: get("small?i=%d" % i), range(50)))
assert all(st == 200 and b == small for st, b in res)
print("threads ok", len(res))
PY
out=$(log under B /usr/bin/python3 "$NC_TMP/client.py" "http://$COMPAT_NET.1:$P" "$www")
printf '%s\n' "$out" >&2
assert_contains "$out" "threads ok 50" "client output"
note PASS
