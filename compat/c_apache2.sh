#!/usr/bin/env bash
# c_apache2.sh — Apache httpd under A (namespace with no network) with the prefork MPM, the
# event MPM (threads) and in single-process debug mode (-X); ab under B.
# program: apache2 (prefork, event, -X) + ab
# packages: apache2 apache2-utils
# checks: each mode: a 20 KiB page byte-exact with curl; ab -n 1000 -c 10: 1000 complete, 0 failed, 0 non-2xx
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_built
require_root "apache2 drops privileges to www-data"
compat_pkgs apache2 apache2-utils curl
start_pair "$COMPAT_NET"
d=$NC_TMP/apache; mkdir -p "$d/www" "$d/run"
head -c 15360 /dev/urandom >"$NC_TMP/raw"; base64 "$NC_TMP/raw" >"$d/www/page.html"
M=/usr/lib/apache2/modules
run_mode() {	# run_mode NAME MPM [httpd args...]
	local mode=$1 mpm=$2 P
	shift 2
	P=$(free_tcp_port)
	cat >"$d/$mode.conf" <<C
ServerRoot $d
ServerName compat.test
Listen 0.0.0.0:$P
LoadModule mpm_${mpm}_module $M/mod_mpm_${mpm}.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule mime_module $M/mod_mime.so
LoadModule dir_module $M/mod_dir.so
User www-data
Group www-data
PidFile $d/run/$mode.pid
DefaultRuntimeDir $d/run
ErrorLog $d/$mode-error.log
LogLevel warn
TypesConfig /etc/mime.types
DocumentRoot $d/www
<Directory $d/www>
  Require all granted
</Directory>
StartServers 2
MaxRequestWorkers 50
C
	[ "$mpm" = prefork ] || echo "ThreadsPerChild 25" >>"$d/$mode.conf"
	log /usr/sbin/apache2 -t -f "$d/$mode.conf"
	spawn_in_ns A "apache-$mode" /usr/sbin/apache2 -DFOREGROUND -f "$d/$mode.conf" "$@"
	wait_port B "$COMPAT_NET.1" "$P"
	log under B curl -sS --fail --max-time 30 -o "$NC_TMP/$mode.out" "http://$COMPAT_NET.1:$P/page.html"
	assert_files_equal "$d/www/page.html" "$NC_TMP/$mode.out"
	out=$(NC_TIMEOUT=120 log under B ab -q -n 1000 -c 10 -s 30 "http://$COMPAT_NET.1:$P/page.html" 2>&1) || fail "ab ($mode) exited $?: $out"
	grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' <<<"$out" | sed 's/^/    /' >&2
	assert_contains "$out" "Complete requests:      1000" "ab ($mode)"
	assert_contains "$out" "Failed requests:        0" "ab ($mode)"
	assert_not_contains "$out" "Non-2xx" "ab ($mode)"
	compat_note "$mode: $(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' <<<"$out") req/s"
	stop "apache-$mode"
}
run_mode prefork prefork
run_mode event event
run_mode debug-X event -X
note PASS
