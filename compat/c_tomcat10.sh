#!/usr/bin/env bash
# c_tomcat10.sh — Tomcat 10 (Debian's, CATALINA_BASE in the temp dir, the package's default
# ROOT webapp) under A (namespace with no network); curl under B.
# program: tomcat10 (default webapp)
# packages: tomcat10
# checks: the default ROOT webapp's page (It works !) byte-exact; 404 for a missing page; 100 requests over 10 parallel connections; JVM run with -Djava.net.preferIPv4Stack=true
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs tomcat10 curl
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
b=$NC_TMP/tomcat
mkdir -p "$b/conf" "$b/logs" "$b/temp" "$b/work" "$b/webapps"
cp -r /etc/tomcat10/. "$b/conf/"
cp -r /usr/share/tomcat10-root/default_root "$b/webapps/ROOT"
# The HTTP connector on $P (IPv4 wildcard), no shutdown port, no other connector.
python3 - "$b/conf/server.xml" "$P" <<'PY'
import re, sys
p, port = sys.argv[1], sys.argv[2]
s = open(p).read()
s = re.sub(r'<!--.*?-->', '', s, flags=re.S)
s = re.sub(r'<Server port="[-0-9]+"', '<Server port="-1"', s)
s = re.sub(r'<Connector port="8080"', '<Connector address="0.0.0.0" port="%s"' % port, s)
open(p, "w").write(s)
PY
grep -n '<Connector' "$b/conf/server.xml" >&2
export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=$b CATALINA_TMPDIR=$b/temp
export JAVA_OPTS="-Djava.net.preferIPv4Stack=true -Xmx256m"
spawn_in_ns A tomcat /usr/share/tomcat10/bin/catalina.sh run
NC_TIMEOUT=3 retry 300 under B curl -sS -o /dev/null --max-time 2 "http://$COMPAT_NET.1:$P/" >/dev/null ||
	fail "tomcat did not answer within the bound: $(logtail tomcat)"
log under B curl -sS --fail --max-time 30 -o "$NC_TMP/index.html" "http://$COMPAT_NET.1:$P/"
assert_files_equal "$b/webapps/ROOT/index.html" "$NC_TMP/index.html"
assert_contains "$(cat "$NC_TMP/index.html")" "It works !" "default page"
code=$(log under B curl -sS -o /dev/null -w '%{http_code}' --max-time 20 "http://$COMPAT_NET.1:$P/missing")
assert_eq 404 "$code" "status for a missing page"
codes=$(log under B curl -sS --max-time 100 --parallel --parallel-max 10 -w '%{http_code}\n' -o /dev/null "http://$COMPAT_NET.1:$P/?i=[1-100]")
assert_eq 100 "$(grep -c '^200$' <<<"$codes" || true)" "parallel responses with 200"
note PASS
