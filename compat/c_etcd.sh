#!/usr/bin/env bash
# c_etcd.sh — an etcd cluster of three members on three services (A, B, C), each member in
# a namespace with no network, in seccomp mode (Debian's etcd is Go linked with glibc);
# a static initial cluster, peer and client URLs on the virtual addresses. etcdctl (Go,
# seccomp mode too) under B in a namespace of its own.
#
#   e1 under A (NET.1)   e2 under B (NET.2)   e3 under C (NET.3)    etcdctl under B
#          └──────────── raft (peer port) ──────────┘
#
# Then e3 is SIGKILLed: the other two (a quorum of 2 of 3) must still take writes and serve
# reads; e3 restarted on its data dir must catch up (a serializable get of e3, answered from
# its own store, returns a value written while it was down).
# program: etcd (3 members, Go, seccomp mode) + etcdctl
# packages: etcd-server etcd-client
# checks: netcon show picks seccomp for etcd and etcdctl; the 3 members form the cluster (member list, endpoint health); 100 keys put and read back (get --prefix) byte-exact; a 512 KiB value byte-exact from the leader's view and serializable from each member; one member SIGKILLed: the other two agree on a leader, then 20 puts and a linearizable get through the other two; the member restarted on its data dir serves, serializably, the last key written while it was down; endpoint health of all three
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs etcd-server etcd-client
start_trio "$COMPAT_NET"
for p in etcd etcdctl; do
	assert_contains "$(log "$NETCON" show "$p" | sed -n 's/^mode: *//p')" "seccomp" "netcon show $p"
done
PP=$(free_tcp_port); CP=$(free_tcp_port)
d=$NC_TMP/etcd; mkdir -p "$d" "$NC_TMP/out"
declare -A SVC=([1]=A [2]=B [3]=C)
cluster="e1=http://$COMPAT_NET.1:$PP,e2=http://$COMPAT_NET.2:$PP,e3=http://$COMPAT_NET.3:$PP"
ep() { printf 'http://%s.%s:%s' "$COMPAT_NET" "$1" "$CP"; }
ALL="$(ep 1),$(ep 2),$(ep 3)"

# member N NAME — etcd member eN under its service, in a namespace of its own. Timeouts
# twice etcd's defaults: this machine's two cores are shared.
member() {
	local n=$1 ip=$COMPAT_NET.$1
	spawn_in_ns "${SVC[$n]}" "$2" /usr/bin/etcd --name "e$n" --data-dir "$d/e$n" \
		--listen-peer-urls "http://$ip:$PP" --initial-advertise-peer-urls "http://$ip:$PP" \
		--listen-client-urls "http://$ip:$CP" --advertise-client-urls "http://$ip:$CP" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token netcon-compat --heartbeat-interval 200 --election-timeout 2000 \
		--logger zap --log-outputs stderr
}

# ctl ARGS... — etcdctl under B, in a namespace of its own, bounded (command and dial).
ctl() {
	NC_TIMEOUT=${CTL_TIMEOUT:-60} in_ns B /usr/bin/etcdctl --dial-timeout 5s --command-timeout 20s "$@"
}

for n in 1 2 3; do member "$n" "e$n"; done
# Bounded: retry gives up after 150 attempts (0.2 s apart, plus each attempt's own bound).
CTL_TIMEOUT=15 retry 150 ctl --endpoints "$ALL" endpoint health >/dev/null ||
	fail "the cluster did not become healthy:
$(logtail e1 5)
$(logtail e3 5)"
members=$(log ctl --endpoints "$ALL" member list)
printf '%s\n' "$members" | sed 's/^/    /' >&2
assert_eq 3 "$(grep -c ', started, e[123], http://' <<<"$members" || true)" "started members"

# 100 keys: each put is a fresh etcdctl (a connection each); read back in one range.
: >"$NC_TMP/expect"
for i in $(seq -w 0 99); do
	v="value-$i-$(head -c 12 /dev/urandom | base64 | tr '+/' '._')"
	printf 'k/%s\n%s\n' "$i" "$v" >>"$NC_TMP/expect"
	[ "$(ctl --endpoints "$ALL" put "k/$i" "$v")" = OK ] || fail "put k/$i did not say OK"
done
log ctl --endpoints "$ALL" get --prefix k/ >"$NC_TMP/out/keys"
assert_files_equal "$NC_TMP/expect" "$NC_TMP/out/keys"

# One value of 512 KiB (base64 of random bytes: etcdctl reads it from stdin).
head -c 393216 /dev/urandom | base64 -w 0 >"$NC_TMP/big"
[ "$(stat -c %s "$NC_TMP/big")" = 524288 ] || fail "the 512 KiB value is not 512 KiB"
assert_eq OK "$(log ctl --endpoints "$ALL" put big <"$NC_TMP/big")" "put of 512 KiB"
log ctl --endpoints "$ALL" get big --print-value-only | tr -d '\n' >"$NC_TMP/out/big"
assert_files_equal "$NC_TMP/big" "$NC_TMP/out/big"
for n in 1 2 3; do	# each member's own copy (serializable: no round trip to the leader)
	CTL_TIMEOUT=15 retry 50 ctl --endpoints "$(ep "$n")" get big --print-value-only --consistency=s |
		tr -d '\n' >"$NC_TMP/out/big.e$n"
	assert_files_equal "$NC_TMP/big" "$NC_TMP/out/big.e$n"
done

# e3 SIGKILLed: quorum 2 of 3 still writes and reads.
note "SIGKILL to e3 (pid ${NC_SPAWNED[e3]})"
kill -KILL -- "-${NC_SPAWNED[e3]}"
rc=0; wait_exit "${NC_SPAWNED[e3]}" 10 || rc=$?
[ "$rc" != 124 ] || fail "e3 still runs 10 s after SIGKILL"
TWO="$(ep 1),$(ep 2)"
# A proposal made while the two elect a new leader (when e3 led) fails with "request timed
# out" (etcd's behaviour, not a network's): wait, bounded, until both report the same
# leader and it is one of them.
two_have_leader() {
	ctl --endpoints "$TWO" endpoint status -w json | "$PYTHON" -c '
import json, sys
st = [e["Status"] for e in json.load(sys.stdin)]
ids = {s["header"]["member_id"] for s in st}
leaders = {s["leader"] for s in st}
sys.exit(0 if len(st) == 2 and len(leaders) == 1 and leaders <= ids else 1)'
}
CTL_TIMEOUT=15 retry 150 two_have_leader || fail "e1 and e2 did not agree on a leader among them"
for i in $(seq -w 1 20); do
	[ "$(ctl --endpoints "$TWO" put "down/$i" "written-while-e3-down-$i")" = OK ] ||
		fail "put down/$i with e3 down did not say OK"
done
assert_eq "written-while-e3-down-20" "$(log ctl --endpoints "$TWO" get down/20 --print-value-only)" \
	"linearizable get with e3 down"
assert_eq 20 "$(log ctl --endpoints "$TWO" get --prefix down/ --keys-only | grep -c '^down/' || true)" \
	"keys written with e3 down"

# e3 restarted on its data dir catches up.
member 3 e3b
CTL_TIMEOUT=15 retry 150 ctl --endpoints "$(ep 3)" endpoint health >/dev/null ||
	fail "the restarted e3 did not become healthy:
$(logtail e3b 10)"
e3_caught_up() {
	[ "$(ctl --endpoints "$(ep 3)" get down/20 --print-value-only --consistency=s)" = written-while-e3-down-20 ]
}
CTL_TIMEOUT=15 retry 150 e3_caught_up ||
	fail "the restarted e3 does not serve down/20 (serializable):
$(logtail e3b 10)"
note "ok: the restarted e3's own store has down/20, written while it was down"
out=$(log ctl --endpoints "$(ep 3)" get --prefix down/ --consistency=s --keys-only)
assert_eq 20 "$(grep -c '^down/' <<<"$out" || true)" "keys written with e3 down, from e3 serializably"
health=$(log ctl --endpoints "$ALL" endpoint health 2>&1)
printf '%s\n' "$health" | sed 's/^/    /' >&2
assert_eq 3 "$(grep -c 'is healthy: successfully committed proposal' <<<"$health" || true)" "healthy endpoints"
log ctl --endpoints "$ALL" endpoint status -w table | sed 's/^/    /' >&2
compat_note "etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
note PASS
