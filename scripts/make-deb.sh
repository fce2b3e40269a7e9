#!/usr/bin/env bash
# make-deb.sh — build the Debian package (debian/) from a clean checkout of HEAD.
#
#   scripts/make-deb.sh OUTDIR     (make deb: OUTDIR is $(BUILD)/deb)
#
# `git archive HEAD` is unpacked into a temporary directory (so nothing uncommitted and
# nothing built here goes in), lwIP's pinned tarball is copied beside it when
# build/third_party has one (else scripts/fetch-lwip.sh fetches it during the build),
# and dpkg-buildpackage -b builds it there, unsigned. The .deb, .buildinfo and .changes
# land in OUTDIR; the temporary tree is removed.
set -euo pipefail

cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/deb}")
for c in git dpkg-buildpackage dh scdoc; do
	command -v "$c" >/dev/null || { echo "make-deb: $c not installed (apt-get install git dpkg-dev debhelper scdoc)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/netcon-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive --prefix=netcon/ HEAD | tar -x -C "$work"
for t in build/third_party/lwip_*.orig.tar.xz; do
	[ -f "$t" ] || continue
	mkdir -p "$work/netcon/build/third_party"
	cp "$t" "$work/netcon/build/third_party/"
done
# The package builds as a clean checkout would: nothing of the calling make or of the
# caller's build settings (MAKEFLAGS carries make's command-line variables) goes in.
(cd "$work/netcon" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u LWIP_DIR \
	-u CC -u OPT -u SAN -u CFLAGS -u LDFLAGS dpkg-buildpackage -b -us -uc -j2)
mkdir -p "$out"
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls -1 "$out"/*.deb
