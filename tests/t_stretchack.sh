#!/usr/bin/env bash
# t_stretchack.sh — stretch ACKs (stack.c): in one loop turn the service acknowledges
# what it read with as few pure ACKs as it may, and never merges an ACK the sender's loss
# detection needs.
#
#   ┌ netns rxb-ack-$$ ───────────────────────────────────────────────────┐
#   │  kernel: tap0 10.174.1.1/24, MTU 65521  ◄──►  netcon service T        │
#   │  python3 sender (kernel)                      --link tap, 10.174.1.2  │
#   └──────────────────────────────────────────────────────┼───────────────┘
#                         host netns: python3 receiver under T
#
# 1. A burst: the kernel's sender connects and sends 4 MiB (the window opens, its
#    congestion window grows), then the service is stopped (SIGSTOP) while the sender
#    writes 16 segments of 64 KiB, so that they all wait in the TAP device and the
#    service reads them in one loop turn when it resumes.
#    lwIP alone acknowledges every one of them (a coalesced segment at once) or every
#    second one; held to the end of the turn, one ACK per two more segments
#    acknowledged (128 KiB here) leaves. Checks: the bytes (sha256), and the frames the service sent after the
#    warm-up (ACKs, the FIN and its ACK): at most 10, where lwIP alone sent 13 in every
#    run (merged: 7). The kernel does not always send all 16 at once: what its
#    retransmission timer adds while the service is stopped lands in the same turn.
# 2. Loss: 5% of the frames the kernel sends on tap0 dropped (nftables `numgen random`;
#    this kernel has no netem): 16 MiB kernel → program must arrive intact, so the
#    duplicate ACKs and SACK blocks of the recovery went out unmerged; the rule's counter
#    must show drops.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_root
require_cmd ip nft
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

ns=rxb-ack-$$
netns_add "$ns"
tap_add "$ns" tap0 10.174.1.1/24 65521
start_service --netns "$ns" T 10.174.1.2/24 --link tap --tap tap0 --mtu 65521

# recv.py PORT: accept one connection, read to EOF, print "<bytes> <sha256>".
cat >"$NC_TMP/recv.py" <<'EOF'
import hashlib, socket, sys
l = socket.socket()
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(1)
c, _ = l.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
print(n, h.hexdigest())
EOF
# send.py ADDR PORT FILE GO [WARM]: connect, send WARM bytes of FILE (default none), wait
# (at most 30 s) for the file GO, send the rest of FILE, shut down the write side, wait
# for EOF.
cat >"$NC_TMP/send.py" <<'EOF'
import os, socket, sys, time
data = open(sys.argv[3], "rb").read()
warm = int(sys.argv[5]) if len(sys.argv) > 5 else 0
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(data[:warm])
for _ in range(3000):
    if os.path.exists(sys.argv[4]):
        break
    time.sleep(0.01)
s.sendall(data[warm:])
s.shutdown(socket.SHUT_WR)
s.recv(1)
EOF
# tx_frames NAME — frames service NAME sent on its link so far.
tx_frames() {
	status_of "$1" | sed -n 's/^link rx [0-9]* frames [0-9]* bytes, tx \([0-9]*\) frames.*/\1/p'
}

# 1. The burst.
# ss_field NAME — the kernel sender's counter NAME (ss -ti), 0 before it exists.
ss_field() {
	local v
	v=$(ip netns exec "$ns" ss -tin dst 10.174.1.2 | sed -n "s/.* $1:\([0-9]*\).*/\1/p")
	echo "${v:-0}"
}
warm=4194304
head -c $((warm + 16 * 65481)) /dev/urandom >"$NC_TMP/burst.bin"
want=$(stat -c %s "$NC_TMP/burst.bin")
P=$(free_tcp_port)
spawn_under T rcv "$PYTHON" "$NC_TMP/recv.py" "$P"
wait_listen T "$P"
spawn snd ip netns exec "$ns" "$PYTHON" "$NC_TMP/send.py" 10.174.1.2 "$P" "$NC_TMP/burst.bin" "$NC_TMP/go" "$warm"
# The warm-up acknowledged (bytes_acked counts the SYN too), then at once, before the
# kernel's idle restart can shrink its congestion window: stop, and let it send.
for ((i = 0; i < 500; i++)); do
	[ "$(ss_field bytes_acked)" -gt "$warm" ] && break
	sleep 0.01
done
[ "$(ss_field bytes_acked)" -gt "$warm" ] || fail "the warm-up's 4 MiB were not acknowledged within the bound"
tx0=$(tx_frames T)
svc=${NC_SERVICE[T]}
log kill -STOP "$svc"
touch "$NC_TMP/go"
# Resume as soon as the kernel has sent the burst once (its ss counters; the tun device
# counts a frame only when it is read), before its retransmission timer (200 ms at least).
for ((i = 0; i < 200; i++)); do
	sent=$(($(ss_field bytes_sent) - $(ss_field bytes_retrans)))
	[ "$sent" -ge "$want" ] && break
	sleep 0.005
done
log ip netns exec "$ns" ss -tin dst 10.174.1.2 >&2
log kill -CONT "$svc"
[ "$sent" -ge "$want" ] || fail "the kernel sent $sent of $want bytes while the service was stopped"
for p in snd rcv; do
	wait_exit "${NC_SPAWNED[$p]}" 60 || fail "$p did not finish (rc $?): $(logtail "$p")"
done
assert_eq "$want $(sha256sum <"$NC_TMP/burst.bin" | cut -d' ' -f1)" \
	"$(tail -n 1 "$NC_TMP/rcv.log")" "the burst's bytes and sha256"
tx1=$(tx_frames T)
sent=$((tx1 - tx0))
note "the service sent $sent frames for a burst of 16 segments (ACKs, FIN, ACK of FIN)"
[ "$sent" -le 10 ] || fail "$sent frames sent for the burst: ACKs were not merged (at most 10)"

# 2. Loss on the kernel's side: recovery's ACKs must all go out.
log ip netns exec "$ns" nft add table inet rxbloss
log ip netns exec "$ns" nft add chain inet rxbloss out '{ type filter hook output priority 0; }'
log ip netns exec "$ns" nft add rule inet rxbloss out oifname tap0 "numgen random mod 100 < 5 counter drop"
head -c 16M /dev/urandom >"$NC_TMP/bulk.bin"
rm -f "$NC_TMP/go"
P=$(free_tcp_port)
spawn_under T rcv2 "$PYTHON" "$NC_TMP/recv.py" "$P"
wait_listen T "$P"
touch "$NC_TMP/go"
spawn snd2 ip netns exec "$ns" "$PYTHON" "$NC_TMP/send.py" 10.174.1.2 "$P" "$NC_TMP/bulk.bin" "$NC_TMP/go"
for p in snd2 rcv2; do
	wait_exit "${NC_SPAWNED[$p]}" 120 || fail "$p did not finish (rc $?): $(logtail "$p")"
done
assert_eq "$(stat -c %s "$NC_TMP/bulk.bin") $(sha256sum <"$NC_TMP/bulk.bin" | cut -d' ' -f1)" \
	"$(tail -n 1 "$NC_TMP/rcv2.log")" "16 MiB through 5% loss: bytes and sha256"
dropped=$(ip netns exec "$ns" nft list table inet rxbloss | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
note "nftables dropped ${dropped:-0} of the kernel's frames"
[ "${dropped:-0}" -gt 0 ] || fail "no frame was dropped: the loss was not injected"
note "PASS"
