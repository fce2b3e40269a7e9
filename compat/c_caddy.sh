#!/usr/bin/env bash
# c_caddy.sh — caddy (Go, Debian's build: linked with glibc, its socket calls its own
# syscall instructions, so seccomp mode) serving files under A, in a namespace with no
# network, from a Caddyfile: plain HTTP (auto_https off), its admin endpoint on A's
# virtual address, HOME and XDG dirs in the temp dir. curl under B.
# program: caddy (Go, seccomp mode)
# packages: caddy
# checks: netcon show picks seccomp for caddy; 1 KiB and 8 MiB byte-exact; 404 for a missing file; 200 requests over 20 parallel connections; the admin API on the virtual address returns the running config
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs caddy curl
start_pair "$COMPAT_NET"
assert_contains "$(log "$NETCON" show caddy | sed -n 's/^mode: *//p')" "seccomp" "netcon show caddy"
P=$(free_tcp_port); AP=$(free_tcp_port)
d=$NC_TMP/caddy; mkdir -p "$d/www" "$d/home" "$d/data" "$d/config" "$NC_TMP/out"
head -c 1024 /dev/urandom >"$d/www/small"; mkblob "$d/www/big" 8
cat >"$d/Caddyfile" <<C
{
	admin $COMPAT_NET.1:$AP
	auto_https off
	storage file_system $d/data/caddy
}
http://:$P {
	root * $d/www
	file_server
}
C
# In the environment, not through env(1): `netcon intercept -- env ... caddy` would judge
# env, a glibc program, and pick preload mode, which cannot reach Go's own system calls.
export HOME=$d/home XDG_DATA_HOME=$d/data XDG_CONFIG_HOME=$d/config
log caddy validate --config "$d/Caddyfile" --adapter caddyfile >"$NC_TMP/validate.out" 2>&1 ||
	fail "caddy validate: $(tail -n 2 "$NC_TMP/validate.out" | tr '\n' ' ')"
spawn_in_ns A caddy /usr/bin/caddy run --config "$d/Caddyfile" --adapter caddyfile
wait_port B "$COMPAT_NET.1" "$P"
u=http://$COMPAT_NET.1:$P
for f in small big; do
	log under B curl -sS --fail --max-time 60 -o "$NC_TMP/out/$f" "$u/$f"
	assert_files_equal "$d/www/$f" "$NC_TMP/out/$f"
done
assert_eq 404 "$(log under B curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "$u/missing")" "a missing file"
codes=$(log under B curl -sS --max-time 100 --parallel --parallel-max 20 -w '%{http_code} %{size_download}\n' \
	-o /dev/null "$u/small?i=[1-200]")
assert_eq 200 "$(grep -c '^200 1024$' <<<"$codes" || true)" "parallel responses with 200 and 1024 bytes"
cfg=$(log under B curl -sS --fail --max-time 30 "http://$COMPAT_NET.1:$AP/config/")
assert_contains "$cfg" "\"root\":\"$d/www\"" "the admin API's config"
assert_contains "$cfg" "\":$P\"" "the admin API's config"
grep -E '"level":"(error|fatal|panic)"' "$NC_TMP/caddy.log" | sed 's/^/    caddy: /' >&2 || true
assert_eq 0 "$(grep -c -E '"level":"(fatal|panic)"' "$NC_TMP/caddy.log" || true)" "caddy fatal/panic log lines"
compat_note "caddy $(caddy version | head -n 1 | cut -d " " -f 1)"
note PASS
