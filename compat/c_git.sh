#!/usr/bin/env bash
# c_git.sh — git over ssh: sshd under A (namespace with no network); git clone and push under
# B (git starts ssh, which runs git-upload-pack / git-receive-pack on A).
# program: git clone/push over ssh
# packages: git openssh-server openssh-client
# checks: clone of a repository (50 commits, a 5 MiB blob): HEAD equal, git fsck clean; a commit pushed back arrives
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs git openssh-server openssh-client
start_pair "$COMPAT_NET"
compat_sshd
export GIT_CONFIG_NOSYSTEM=1 HOME=$NC_TMP
git config --global user.email compat@example.invalid
git config --global user.name compat
git config --global init.defaultBranch main
w=$NC_TMP/work; git init -q "$w"
for i in $(seq 1 50); do echo "line $i" >>"$w/file"; git -C "$w" add file; git -C "$w" commit -q -m "commit $i"; done
mkblob "$w/blob" 5; git -C "$w" add blob; git -C "$w" commit -q -m blob
git clone -q --bare "$w" "$NC_TMP/repo.git"
export GIT_SSH_COMMAND="ssh $(printf '%q ' "${SSH_OPTS[@]}") -p $SP"
NC_TIMEOUT=120 log under B git clone -q "ssh://root@$COMPAT_NET.1:$SP$NC_TMP/repo.git" "$NC_TMP/clone"
assert_eq "$(git -C "$NC_TMP/repo.git" rev-parse HEAD)" "$(git -C "$NC_TMP/clone" rev-parse HEAD)" "HEAD of the clone"
log git -C "$NC_TMP/clone" fsck --strict --no-progress
echo pushed >"$NC_TMP/clone/new"; git -C "$NC_TMP/clone" add new; git -C "$NC_TMP/clone" commit -q -m pushed
NC_TIMEOUT=60 log under B git -C "$NC_TMP/clone" push -q origin main
assert_eq "$(git -C "$NC_TMP/clone" rev-parse HEAD)" "$(git -C "$NC_TMP/repo.git" rev-parse main)" "main on A after the push"
note PASS
