#!/usr/bin/env bash
# c_sshd_tap.sh — c_sshd.sh with the kernel as the client: sshd under A (namespace with
# no network), service A on a TAP link; the kernel's ssh, sftp and scp run in the
# namespace that holds the TAP device's kernel side (as tests/t_tap.sh builds it).
# program: sshd (under netcon) + ssh, sftp, scp (kernel client via TAP)
# packages: openssh-server openssh-client openssh-sftp-server
# checks: kernel client via TAP: key login + command < 2 s; sftp put and get of 50 MiB, sha256 equal; scp both ways (10 MiB), sha256 equal
# timeout: 300
# shellcheck disable=SC2034  # read by compat_link in the sourced script
COMPAT_VIA=tap
. "$(dirname "$0")/c_sshd.sh"
