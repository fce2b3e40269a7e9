#!/usr/bin/env bash
# c_rsync.sh — rsync over ssh: sshd under A (namespace with no network); rsync (and the ssh
# it starts) under B, both directions.
# program: rsync over ssh
# packages: rsync openssh-server openssh-client
# checks: push and pull of a tree (200 small files + one 20 MiB file), trees identical (diff -r); an incremental run after a change sends only the changed file
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs rsync openssh-server openssh-client
start_pair "$COMPAT_NET"
compat_sshd
src=$NC_TMP/src; mkdir -p "$src/sub"
for i in $(seq 1 200); do head -c $((i * 37)) /dev/urandom >"$src/sub/f$i"; done
mkblob "$src/big" 20
RSH="ssh $(printf '%q ' "${SSH_OPTS[@]}") -p $SP"
NC_TIMEOUT=120 log under B rsync -a -e "$RSH" "$src/" "root@$COMPAT_NET.1:$NC_TMP/remote/"
diff -r "$src" "$NC_TMP/remote" || fail "pushed tree differs"
note "ok: pushed tree identical"
NC_TIMEOUT=120 log under B rsync -a -e "$RSH" "root@$COMPAT_NET.1:$NC_TMP/remote/" "$NC_TMP/pulled/"
diff -r "$src" "$NC_TMP/pulled" || fail "pulled tree differs"
note "ok: pulled tree identical"
echo changed >>"$src/sub/f7"
out=$(NC_TIMEOUT=60 log under B rsync -a -i -e "$RSH" "$src/" "root@$COMPAT_NET.1:$NC_TMP/remote/")
assert_eq "sub/f7" "$(awk '$1 ~ /^<f/ { print $2 }' <<<"$out")" "files sent by the incremental run"
diff -r "$src" "$NC_TMP/remote" || fail "tree differs after the incremental run"
note PASS
