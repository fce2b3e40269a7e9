#!/usr/bin/env bash
# c_sshd.sh — OpenSSH: sshd under A in a namespace with no network; ssh, sftp and scp
# under B. c_sshd_tap.sh runs the same with the kernel's ssh, sftp and scp as clients,
# through a TAP link (COMPAT_VIA=tap).
# program: sshd + ssh, sftp, scp
# packages: openssh-server openssh-client openssh-sftp-server
# checks: key login + command < 2 s; sftp put and get of 50 MiB, sha256 equal; scp both ways (10 MiB), sha256 equal
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs openssh-server openssh-client openssh-sftp-server
compat_link
compat_sshd
H=$COMPAT_NET.1
t0=$(now_ms)
out=$(NC_TIMEOUT=30 log "${CLIENT[@]}" ssh "${SSH_OPTS[@]}" -p "$SP" root@$H echo hello-netcon)
ms=$(($(now_ms) - t0))
assert_eq hello-netcon "$out" "remote command output"
note "login + command: $ms ms"
[ "$ms" -lt 2000 ] || fail "ssh login + command took $ms ms (limit 2000)"
compat_note "login + command took $ms ms"

mkblob "$NC_TMP/blob50" 50
rdir=$NC_TMP/remote; mkdir -p "$rdir"
cat >"$NC_TMP/batch" <<B
put $NC_TMP/blob50 $rdir/up50
get $rdir/up50 $NC_TMP/down50
B
NC_TIMEOUT=120 log "${CLIENT[@]}" sftp "${SSH_OPTS[@]}" -P "$SP" -b "$NC_TMP/batch" root@$H >/dev/null
assert_files_equal "$NC_TMP/blob50" "$rdir/up50"
assert_files_equal "$NC_TMP/blob50" "$NC_TMP/down50"

mkblob "$NC_TMP/blob10" 10
NC_TIMEOUT=60 log "${CLIENT[@]}" scp -q "${SSH_OPTS[@]}" -P "$SP" "$NC_TMP/blob10" root@$H:"$rdir/scp-up"
assert_files_equal "$NC_TMP/blob10" "$rdir/scp-up"
NC_TIMEOUT=60 log "${CLIENT[@]}" scp -q "${SSH_OPTS[@]}" -P "$SP" root@$H:"$rdir/scp-up" "$NC_TMP/scp-down"
assert_files_equal "$NC_TMP/blob10" "$NC_TMP/scp-down"
grep -q 'Accepted publickey for root' "$NC_TMP/sshd.log" || fail "sshd did not log the login"
note PASS
