#!/usr/bin/env bash
# t_sshd.sh — OpenSSH: sshd under A (it forks and re-executes itself per connection, so the
# accepted socket crosses fork and exec), ssh under B with a fresh key.
#
#   /usr/sbin/sshd -D -e -f $TMP/sshd_config            ssh -p $SP root@10.88.0.1 echo ...
#            │ intercept                                 │ intercept
#   ┌────────┴─────────────┐                   ┌─────────┴────────────┐
#   │ service A            │                   │ service B            │
#   │ 10.88.0.1/24         │◄──── VXLAN ──────►│ 10.88.0.2/24         │
#   │ udp 127.0.0.1:$PORT_A│    (loopback)     │ udp 127.0.0.1:$PORT_B│
#   └──────────────────────┘                   └──────────────────────┘
#
# Checks: the remote command prints exactly hello-netcon; the login takes < 4 s (no stall); a second
# session carries 4 MiB through the channel byte-exact.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root "sshd logs in as root"
require_cmd ssh ssh-keygen
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "openssh-server not installed"

# sshd's privilege-separation chroot. Left in place afterwards: it is the package's own
# directory (systemd-tmpfiles normally makes it), not a temp dir of this test.
[ -d /run/sshd ] || log mkdir -p -m 0755 /run/sshd

start_pair 10.88.0
SP=$(free_tcp_port)
d=$NC_TMP/ssh
sshd_files "$d" "$SP"
log "$SSHD" -t -f "$d/sshd_config"

spawn_under A sshd "$SSHD" -D -e -f "$d/sshd_config"
wait_port B 10.88.0.1 "$SP"

ssh_opts=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR
	-i "$d/id_ed25519" -p "$SP")

t0=$(now_ms)
out=$(NC_TIMEOUT=30 log under B ssh "${ssh_opts[@]}" root@10.88.0.1 echo hello-netcon)
t1=$(now_ms)
assert_eq hello-netcon "$out" "remote command output"
ms=$((t1 - t0))
note "ssh login + command took $ms ms"
# A stall (a resolver's or a lost wake-up's timeout) costs 5 s or more; a login is ~0.3 s,
# 2 s under ASan on a loaded machine.
[ "$ms" -lt 4000 ] || fail "ssh login took $ms ms (limit 4000 ms: a stall)"

# A second session, with data through the channel both ways.
head -c 4M /dev/urandom >"$d/blob"
want=$(sha256sum <"$d/blob")
got=$(NC_TIMEOUT=60 log under B ssh "${ssh_opts[@]}" root@10.88.0.1 sha256sum <"$d/blob")
assert_eq "${want%% *}" "${got%% *}" "sha256 of 4 MiB sent through ssh"

grep -q 'Accepted publickey for root' "$NC_TMP/sshd.log" || fail "sshd did not log the publickey login"
note "ok: sshd logged 'Accepted publickey for root'"

status A
note "PASS"
