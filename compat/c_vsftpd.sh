#!/usr/bin/env bash
# c_vsftpd.sh — vsftpd (standalone, IPv4, anonymous with uploads) under A (namespace with
# no network); curl as the FTP client under B, passive (EPSV/PASV) and active (PORT) mode.
# In active mode the client listens on B and vsftpd connects back from A.
# program: vsftpd + curl (FTP client)
# packages: vsftpd
# checks: the 220 greeting; passive: upload and download of 8 MiB, sha256 equal; active (PORT): upload and download of 8 MiB, sha256 equal; directory listing
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
require_root "vsftpd runs as root and chroots"
compat_pkgs vsftpd curl
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/vsftpd; mkdir -p "$d/root/pub"
chown ftp "$d/root/pub"
mkdir -p /var/run/vsftpd/empty
mkblob "$d/root/pub/down.bin" 8
mkblob "$NC_TMP/up.bin" 8
cat >"$d/vsftpd.conf" <<C
listen=YES
listen_ipv6=NO
listen_port=$P
listen_address=0.0.0.0
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_umask=022
anon_root=$d/root
no_anon_password=YES
pasv_enable=YES
pasv_min_port=40100
pasv_max_port=40199
port_enable=YES
connect_from_port_20=NO
xferlog_enable=YES
vsftpd_log_file=$d/vsftpd.log
dual_log_enable=YES
log_ftp_protocol=YES
seccomp_sandbox=NO
C
spawn_in_ns A vsftpd /usr/sbin/vsftpd "$d/vsftpd.conf"
wait_port B "$COMPAT_NET.1" "$P"
u=ftp://$COMPAT_NET.1:$P
greet=$(NC_TIMEOUT=20 log under B curl -sS -v --max-time 15 "$u/" 2>&1 >/dev/null | grep '^< 220' || true)
assert_contains "$greet" "220" "greeting"
mode() {	# mode NAME CURL-ARGS...
	local m=$1
	shift
	log under B curl -sS --max-time 60 "$@" -T "$NC_TMP/up.bin" "$u/pub/up-$m.bin"
	assert_files_equal "$NC_TMP/up.bin" "$d/root/pub/up-$m.bin"
	log under B curl -sS --fail --max-time 60 "$@" -o "$NC_TMP/down-$m.bin" "$u/pub/down.bin"
	assert_files_equal "$d/root/pub/down.bin" "$NC_TMP/down-$m.bin"
	list=$(log under B curl -sS --fail --max-time 30 "$@" "$u/pub/")
	assert_contains "$list" "up-$m.bin" "listing ($m)"
}
mode passive --ftp-pasv
mode active --ftp-port -
compat_note "curl's active mode: PORT with B's address, vsftpd connects back from A"
note PASS
