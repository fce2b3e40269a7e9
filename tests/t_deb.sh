#!/usr/bin/env bash
# t_deb.sh — `make deb`: the Debian package from a clean checkout, lintian, an install.
# timeout: 900
#
# Checks:
#  - `make deb` (scripts/make-deb.sh: git archive of HEAD, dpkg-buildpackage -b) builds
#    netcon_VERSION_ARCH.deb whose version is netcon's (include/netcon/version.h) and
#    whose files are those `make install` installs (bin/netcon, lib/netcon/*, man pages,
#    completion, units, the schema);
#  - lintian runs (it shows the override of the static netcon-exec as used: it looked
#    at the files; exit status 0: no error) and reports no error and no warning
#    (overrides: debian/netcon.lintian-overrides); its output is printed;
#  - installed with dpkg in a fresh mount namespace whose root is an overlay of this
#    machine's (a tmpfs takes every write: nothing reaches the host), `netcon --version`
#    from it prints the version and the lwIP lines, `man -w netcon` finds the page;
#  - the README's demo from the installed files: scripts/demo.sh --installed (copied
#    alone with tests/lib.sh, no build tree beside it) runs two services of
#    /usr/bin/netcon over VXLAN, python3's http.server under A in `unshare --net` (its
#    intercept /usr/lib/netcon/libnetcon.so, found beside the installed binary), and
#    curl under B gets the page; `netcon container-flags` names the installed
#    /usr/lib/netcon/netcon-exec; then `dpkg -r` removes the package again.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_cmd git dpkg-buildpackage dh scdoc lintian unshare chroot
[ "$(id -u)" = 0 ] || skip "the install in a namespace needs root"
git -C "$NC_ROOT" rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout: make deb builds from HEAD"

version=$(sed -n 's/^#define NETCON_VERSION "\(.*\)"/\1/p' "$NC_ROOT/include/netcon/version.h")
log make -s -C "$NC_ROOT" deb BUILD="$NC_TMP/b" >"$NC_TMP/deb-build.log" 2>&1 ||
	fail "make deb failed: $(tail -n 30 "$NC_TMP/deb-build.log")"
deb=$NC_TMP/b/deb/netcon_${version}_$(dpkg --print-architecture).deb
[ -s "$deb" ] || fail "make deb made no $(basename "$deb"): $(ls "$NC_TMP/b/deb")"
note "ok: make deb built $(basename "$deb")"
assert_eq "$version" "$(dpkg-deb -f "$deb" Version)" "the package's version"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/netcon ./usr/lib/netcon/libnetcon.so ./usr/lib/netcon/netcon-exec \
	./usr/share/man/man1/netcon.1.gz ./usr/share/man/man1/netcon-exec.1.gz \
	./usr/share/bash-completion/completions/netcon ./usr/lib/systemd/system/netcon@.service \
	./usr/lib/systemd/user/netcon.service ./usr/share/doc/netcon/status-json.schema.json \
	./usr/share/doc/netcon/copyright; do
	grep -qx -- "$f" <<<"$files" || fail "the package lacks $f"
done
note "ok: the package holds what make install installs"

rc=0
log lintian --allow-root --tag-display-limit 0 "$deb" >"$NC_TMP/lintian.txt" 2>&1 || rc=$?
sed 's/^/    | /' "$NC_TMP/lintian.txt"
assert_eq 0 "$rc" "lintian's exit status (2: errors)"
! grep -q '^[EW]: ' "$NC_TMP/lintian.txt" || fail "lintian reports errors or warnings"
# Proof that it looked inside (a silent lintian is also one that checked nothing): with
# --show-overrides it shows the override of the static netcon-exec as used. (Shown
# overrides count in its exit status: only the first run's is checked.)
log lintian --allow-root --show-overrides --tag-display-limit 0 "$deb" >"$NC_TMP/lintian-o.txt" 2>&1 || true
sed 's/^/    | /' "$NC_TMP/lintian-o.txt"
grep -q "^O: netcon: statically-linked-binary \[usr/lib/netcon/netcon-exec\]" "$NC_TMP/lintian-o.txt" ||
	fail "lintian --show-overrides does not show the static netcon-exec's override: did it run?"
note "ok: lintian: no error, no warning"

# The install: a private mount namespace, / overlaid with a tmpfs, chroot into it. The
# demo's subnet is this test's (10.166.2.0/24); the demo cleans up what it starts.
cp "$deb" "$NC_TMP/netcon.deb"
guard_subnet 10.166.2.0/24
log unshare --mount --propagation private bash -euc '
	t=$1/ovl
	mkdir -p "$t"
	mount -t tmpfs tmpfs "$t"
	mkdir "$t/upper" "$t/work" "$t/root"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root"
	mount --rbind /dev "$t/root/dev"
	mount -t proc proc "$t/root/proc"
	cp "$1/netcon.deb" "$t/root/tmp/netcon.deb"
	[ ! -e "$t/root/usr/bin/netcon" ] || { echo "netcon is installed on this machine already"; exit 3; }
	chroot "$t/root" dpkg -i /tmp/netcon.deb
	chroot "$t/root" /usr/bin/netcon --version >"$1/installed-version.txt"
	chroot "$t/root" man -w netcon >"$1/installed-man.txt"
	mkdir -p "$t/root/tmp/demo/scripts" "$t/root/tmp/demo/tests"
	cp "$2/scripts/demo.sh" "$t/root/tmp/demo/scripts/"
	cp "$2/tests/lib.sh" "$t/root/tmp/demo/tests/"
	chroot "$t/root" env -u NC_REGISTRY -u NC_KEEP -u NETCON -u NETCON_LIB -u BUILD NC_DEMO_NET=10.166.2 \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout -k 5 120 bash /tmp/demo/scripts/demo.sh \
		--installed >"$1/demo.txt" 2>&1 || { cat "$1/demo.txt"; echo "the demo failed"; exit 3; }
	chroot "$t/root" /usr/bin/netcon container-flags --socket /tmp/x.sock >"$1/flags.txt"
	chroot "$t/root" dpkg -r netcon
	[ ! -e "$t/root/usr/bin/netcon" ] || { echo "dpkg -r left /usr/bin/netcon"; exit 3; }
' _ "$NC_TMP" "$NC_ROOT" || fail "the install in a namespace failed"
cat "$NC_TMP/installed-version.txt" | sed 's/^/    | /'
assert_eq "netcon $version" "$(head -n 1 "$NC_TMP/installed-version.txt")" "netcon --version of the installed package"
assert_contains "$(sed -n 2p "$NC_TMP/installed-version.txt")" "lwIP " "its lwIP line"
assert_eq "/usr/share/man/man1/netcon.1.gz" "$(cat "$NC_TMP/installed-man.txt")" "man -w netcon"
sed 's/^/    | /' "$NC_TMP/demo.txt"
demo=$(cat "$NC_TMP/demo.txt")
assert_contains "$demo" "1. Two netcon services (/usr/bin/netcon) form a virtual LAN" "the demo's services"
assert_contains "$demo" "(its intercept: /usr/lib/netcon/libnetcon.so)" "the demo server's intercept"
assert_contains "$demo" "> Hello from a program with no network, served over netcon." "the page curl got"
assert_contains "$(cat "$NC_TMP/flags.txt")" "src=/usr/lib/netcon/netcon-exec,dst=/.netcon-exec" "container-flags"
note "ok: installed, the demo run from the installed files, removed, all in a namespace"
