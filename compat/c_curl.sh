#!/usr/bin/env bash
# c_curl.sh — curl under B downloads files of several sizes from python3's http.server
# running under A in a namespace with no network. c_curl_tap.sh runs the same with the
# kernel's curl as the client, through a TAP link (COMPAT_VIA=tap).
# program: curl (client), python3 http.server (server)
# packages: curl python3
# checks: HTTP GET of 0 B, 1 B, 1 KiB, 64 KiB, 1 MiB, 16 MiB, 100 MiB: sha256 equal; 20 files from one curl process
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs curl python3
compat_link
P=$(free_tcp_port)
www=$NC_TMP/www; mkdir -p "$www" "$NC_TMP/out"
: >"$www/f0"; printf x >"$www/f1"
head -c 1024 /dev/urandom >"$www/f1k"; head -c 65536 /dev/urandom >"$www/f64k"
mkblob "$www/f1m" 1; mkblob "$www/f16m" 16; mkblob "$www/f100m" 100
spawn_in_ns A web /usr/bin/python3 -m http.server --bind 0.0.0.0 --directory "$www" "$P"
wait_port "$VIA" "$COMPAT_NET.1" "$P"
for f in f0 f1 f1k f64k f1m f16m f100m; do
	log "${CLIENT[@]}" curl -sS --fail --max-time 100 -o "$NC_TMP/out/$f" "http://$COMPAT_NET.1:$P/$f"
	assert_files_equal "$www/$f" "$NC_TMP/out/$f"
done
# Many files, one connection (keep-alive needs HTTP/1.1: python's server speaks 1.0, so
# this is 20 connections from one curl process).
for i in $(seq 1 20); do cp "$www/f1k" "$www/m$i"; done
log "${CLIENT[@]}" curl -sS --fail --max-time 60 -o "$NC_TMP/out/m#1" "http://$COMPAT_NET.1:$P/m[1-20]"
for i in $(seq 1 20); do cmp -s "$www/m$i" "$NC_TMP/out/m$i" || fail "m$i differs"; done
note "ok: 20 files byte-exact"
note PASS
