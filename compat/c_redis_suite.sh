#!/usr/bin/env bash
# c_redis_suite.sh — Redis's own test suite (tests/ of Debian's `redis` source package, the
# version of the installed redis-server) against redis-server under A (namespace with no
# network), its test client (tclsh) under B. External-server mode (--host/--port): one
# client, tests that need a server of their own are skipped by the suite itself. The same
# units run first against a redis-server on the kernel's loopback: every unit chosen must
# pass there, and then pass through netcon with the same number of tests.
#
#   kernel:  tclsh test_helper.tcl ──lo──> redis-server 127.0.0.1
#   netcon:  tclsh (under B) ──B ═VXLAN═ A──> redis-server (under A, unshare --net)
#
# Units: type/list holds "BRPOPLPUSH with multiple blocked clients" and pubsub the
# subscriber tests, which rely on commands sent on several connections one after the other
# arriving in that order (issue 12, item 0).
# program: redis test suite (tclsh) against redis-server
# packages: redis-server tcl
# checks: units type/list, pubsub, type/hash, type/set, type/incr, multi, expire, keyspace, info-command of Redis's own suite (tags -slow), all passing over the kernel's loopback and then through netcon, same test count
# timeout: 290
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs redis-server tcl dpkg-dev

UNITS=(type/list pubsub type/hash type/set type/incr multi expire keyspace info-command)

# redis_source DIR — unpack the `redis` source package of the installed redis-server's
# version into DIR (once; kept under $BUILD/third_party), downloaded by
# scripts/debian-source.sh (a private sources list; the system's apt configuration
# untouched).
redis_source() {
	local dest=$1 ver codename work
	ver=$(dpkg-query -W -f='${source:Version}' redis-server)
	[ -f "$dest/.netcon-version" ] && [ "$(cat "$dest/.netcon-version")" = "$ver" ] && return 0
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || skip "no VERSION_CODENAME in /etc/os-release"
	work=$NC_TMP/apt-src
	log "$NC_ROOT/scripts/debian-source.sh" "$work" "$codename" "redis=$ver" ||
		fail "could not download the source of redis $ver"
	rm -rf "$dest"
	mkdir -p "$(dirname "$dest")"
	(cd "$work" && log dpkg-source --no-check -x ./*.dsc "$dest") >"$work/unpack.log" 2>&1 ||
		{ tail -n 20 "$work/unpack.log" >&2; fail "dpkg-source -x failed"; }
	[ -f "$dest/tests/test_helper.tcl" ] || fail "no tests/test_helper.tcl in redis $ver"
	rm -rf "$dest/debian"	# only tests/ is used (and debian/ holds a directory named *.d)
	echo "$ver" >"$dest/.netcon-version"
	note "redis $ver source in $dest"
}

src=$BUILD/third_party/redis-src
redis_source "$src"
SERVER_OPTS=(--protected-mode no --save '' --appendonly no --daemonize no --logfile ''
	--enable-protected-configs yes --enable-debug-command yes --enable-module-command yes)
SUITE_ARGS=(--tags -slow --timeout 120)
for u in "${UNITS[@]}"; do SUITE_ARGS+=(--single "unit/$u"); done

# run_suite NAME SERVERLOG HOST PORT [PREFIX...] — the chosen units against HOST:PORT, in a
# copy of the tests (the suite writes under tests/tmp), bounded to 120 s, its output in
# NAME.out. Sets SUITE_OK to the number of tests that passed; fails on any error,
# exception or timeout of a test, or a non-zero exit, naming the test the server saw
# start last (its log, SERVERLOG.log, has one line per test).
run_suite() {
	local name=$1 slog=$2 host=$3 port=$4 rc=0 dir=$NC_TMP/$1 ok bad last
	shift 4
	mkdir -p "$dir"
	cp -a "$src/tests" "$dir/"
	( cd "$dir" && log timeout -k 5 120 "$@" tclsh tests/test_helper.tcl --host "$host" \
		--port "$port" "${SUITE_ARGS[@]}" ) >"$NC_TMP/$name.out" 2>&1 || rc=$?
	ok=$(sed 's/\x1b\[[0-9;]*m//g' "$NC_TMP/$name.out" | grep -c '^\[ok\]:' || true)
	bad=$(sed 's/\x1b\[[0-9;]*m//g' "$NC_TMP/$name.out" | grep -E '^\[(err|exception|timeout)\]:' || true)
	if [ "$rc" != 0 ] || [ -n "$bad" ] || [ "$ok" = 0 ]; then
		sed 's/\x1b\[[0-9;]*m//g' "$NC_TMP/$name.out" | grep -E -A12 '^\[(err|exception|timeout)\]:' | head -n 60 >&2 || true
		tail -n 15 "$NC_TMP/$name.out" >&2
		last=$(sed -n 's/.*### Starting test \(.*\)/\1/p' "$NC_TMP/$slog.log" | tail -n 1)
		fail "$name: the suite exited $rc with $ok passed${bad:+; $(printf '%s\n' "$bad" | head -n 3 | paste -sd';')}; last test started: ${last:-?}"
	fi
	SUITE_OK=$ok
}

# ---- over the kernel (loopback) -------------------------------------------------------
KP=$(free_tcp_port)
spawn redis-kernel /usr/bin/redis-server --port "$KP" --bind 127.0.0.1 "${SERVER_OPTS[@]}" --dir "$NC_TMP"
wait_port - 127.0.0.1 "$KP"
t0=$SECONDS
run_suite kernel redis-kernel 127.0.0.1 "$KP"
k_ok=$SUITE_OK
note "kernel: $k_ok tests passed in $((SECONDS - t0)) s"
stop redis-kernel

# ---- through netcon --------------------------------------------------------------------
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/redis; mkdir -p "$d"
spawn_in_ns A redis /usr/bin/redis-server --port "$P" --bind '* -::*' "${SERVER_OPTS[@]}" --dir "$d"
wait_port B "$COMPAT_NET.1" "$P"
t0=$SECONDS
run_suite netcon redis "$COMPAT_NET.1" "$P" "$NETCON" intercept --socket "$(sock B)" --
n_ok=$SUITE_OK
note "netcon: $n_ok tests passed in $((SECONDS - t0)) s"
assert_eq "$k_ok" "$n_ok" "tests passed through netcon (kernel: $k_ok)"
compat_note "redis suite: $n_ok tests of ${#UNITS[@]} units pass as over the kernel"
note PASS
