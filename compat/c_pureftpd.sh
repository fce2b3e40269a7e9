#!/usr/bin/env bash
# c_pureftpd.sh — pure-ftpd (a virtual user in a puredb) under A (namespace with no
# network); curl under B, passive transfers both ways (2015: "Socket operation on
# non-socket"). Installing pure-ftpd removes vsftpd (both are ftp-server): run c_vsftpd first.
# program: pure-ftpd + curl (FTP client)
# packages: pure-ftpd
# checks: login of a virtual user; passive upload and download of 8 MiB, sha256 equal; listing
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
require_root "pure-ftpd runs as root and chroots"
compat_pkgs pure-ftpd curl
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/pure; mkdir -p "$d/home"
chown nobody:nogroup "$d/home"
mkblob "$d/home/down.bin" 8; chown nobody:nogroup "$d/home/down.bin"
mkblob "$NC_TMP/up.bin" 8
printf 'secret\nsecret\n' | log pure-pw useradd compat -u nobody -g nogroup -d "$d/home" -f "$d/pureftpd.passwd" >/dev/null
log pure-pw mkdb "$d/pureftpd.pdb" -f "$d/pureftpd.passwd"
spawn_in_ns A pureftpd /usr/sbin/pure-ftpd -S "0.0.0.0,$P" -l "puredb:$d/pureftpd.pdb" -E -A -j -p 40200:40299 -O "clf:$d/transfer.log"
wait_port B "$COMPAT_NET.1" "$P"
u=ftp://compat:secret@$COMPAT_NET.1:$P
log under B curl -sS --max-time 60 --ftp-pasv -T "$NC_TMP/up.bin" "$u/up.bin"
assert_files_equal "$NC_TMP/up.bin" "$d/home/up.bin"
log under B curl -sS --fail --max-time 60 --ftp-pasv -o "$NC_TMP/down.bin" "$u/down.bin"
assert_files_equal "$d/home/down.bin" "$NC_TMP/down.bin"
list=$(log under B curl -sS --fail --max-time 30 --ftp-pasv "$u/")
assert_contains "$list" "up.bin" "listing"
note PASS
