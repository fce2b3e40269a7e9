#!/usr/bin/env bash
# c_longtransfer.sh — one long TCP stream: socat under B sends COMPAT_LONG_BYTES (default
# 10G) of a repeatable pseudorandom stream (AES-128-CTR of zeros, from openssl) to socat
# under A (namespace with no network); each end computes the sha256 of what went through
# it as a stream (openssl dgst), so nothing is stored on disk. VXLAN at MTU 65485, the
# largest that fits a UDP datagram over loopback, and the fastest.
# program: long transfer: socat → socat, openssl enc / dgst
# packages: socat openssl
# checks: one TCP connection carries 10 GiB (COMPAT_LONG_BYTES) at MTU 65485: sha256 of the sent stream equal to the sha256 of the received stream, both computed as streams; both socats exit 0
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs socat openssl
BYTES=${COMPAT_LONG_BYTES:-10G}
n=$(numfmt --from=iec "$BYTES") || fail "COMPAT_LONG_BYTES=$BYTES: not a size"
start_pair "$COMPAT_NET" --mtu 65485
P=$(free_tcp_port)
# Receiver: socat writes the stream to a pipe, openssl hashes it. No probe connection
# (socat -u TCP-LISTEN serves exactly one): its "listening on" line says it is ready.
spawn_in_ns A recv bash -c 'set -o pipefail
	socat -d -d -u -b 262144 TCP-LISTEN:"$1",bind=0.0.0.0 STDOUT | openssl dgst -sha256 -r >"$2"
	echo "recv exit $?"' bash "$P" "$NC_TMP/recv.sha"
for _ in $(seq 1 100); do grep -q 'listening on' "$NC_TMP/recv.log" && break; sleep 0.1; done
grep -q 'listening on' "$NC_TMP/recv.log" || fail "socat did not listen: $(logtail recv)"
key=000102030405060708090a0b0c0d0e0f
note "sending $BYTES ($n bytes) over one connection"
t0=$(now_ms)
# Sender: the generator and the hash run outside netcon; only socat is under B.
# openssl enc ends on SIGPIPE when head has had enough: the other three must exit 0.
NC_TIMEOUT=580 log under B bash -c '
	openssl enc -aes-128-ctr -nosalt -bufsize 1048576 -K "$1" -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null |
		head -c "$2" | tee >(openssl dgst -sha256 -r >"$3") |
		socat -u -b 262144 STDIN TCP:"$4":"$5"
	s=("${PIPESTATUS[@]}"); echo "head/tee/socat: ${s[*]:1}" >&2; [ "${s[*]:1}" = "0 0 0" ]' \
	bash "$key" "$n" "$NC_TMP/sent.sha" "$COMPAT_NET.1" "$P" || fail "sender exited $?"
ms=$(($(now_ms) - t0))
for _ in $(seq 1 100); do grep -q "recv exit" "$NC_TMP/recv.log" && [ -s "$NC_TMP/sent.sha" ] && break; sleep 0.1; done
grep -q 'recv exit 0' "$NC_TMP/recv.log" || fail "receiver: $(logtail recv)"
sent=$(cut -d' ' -f1 "$NC_TMP/sent.sha"); got=$(cut -d' ' -f1 "$NC_TMP/recv.sha")
[ ${#sent} = 64 ] || fail "no sha256 of the sent stream"
assert_eq "$sent" "$got" "sha256 received vs sent"
gib=$(awk -v n="$n" 'BEGIN { printf "%.2f", n / 1073741824 }')
gbps=$(awk -v n="$n" -v ms="$ms" 'BEGIN { printf "%.2f", n * 8 / ms / 1e6 }')
compat_note "$gib GiB in $(awk -v ms="$ms" 'BEGIN { printf "%.1f", ms / 1000 }') s, $gbps Gbit/s, sha256 ${sent:0:16}… on both ends"
note PASS
