#!/usr/bin/env bash
# c_curl_tap.sh — c_curl.sh with the kernel as the client: python3's http.server under A
# (namespace with no network), service A on a TAP link; the kernel's curl runs in the
# namespace that holds the TAP device's kernel side (as tests/t_tap.sh builds it).
# program: curl (kernel client via TAP), python3 http.server (server under netcon)
# packages: curl python3
# checks: kernel client via TAP: HTTP GET of 0 B, 1 B, 1 KiB, 64 KiB, 1 MiB, 16 MiB, 100 MiB: sha256 equal; 20 files from one curl process
# timeout: 240
# shellcheck disable=SC2034  # read by compat_link in the sourced script
COMPAT_VIA=tap
. "$(dirname "$0")/c_curl.sh"
