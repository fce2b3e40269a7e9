#!/usr/bin/env bash
# fetch-lwip.sh — fetch lwIP's source from Debian's source package, verify it, unpack it.
#
# usage: scripts/fetch-lwip.sh DESTDIR [N]
#
# N: apply only the first N patches of the series (a prefix, to build and measure what
# each patch adds: docs/lwip-patches.md); default all. A DESTDIR that already holds the
# tarball (copy build/third_party/lwip_*.orig.tar.xz there) needs no network.
#
# The pinned version lives in Debian 13's archive: scripts/debian-source.sh downloads it
# (deb-src for trixie in a private, temporary sources list; the system's apt configuration
# is never touched). The
# orig tarball's sha256 is checked before anything is unpacked. Our patches
# (lwip/patches/*.patch: a series, one change per patch, applied in name order;
# docs/lwip-patches.md says what each does) are applied to the unpacked tree. The result
# is DESTDIR/lwip-2.2.1 plus a stamp file that holds the series' checksum (every patch's
# name and content, in order): when a patch is changed, added, removed or renamed, the
# tree is unpacked and patched again from the kept tarball. Nothing of lwIP is ever
# committed.
set -euo pipefail

LWIP_DEB_VERSION="2.2.1+dfsg1-1+deb13u1"
LWIP_ORIG="lwip_2.2.1+dfsg1.orig.tar.xz"
LWIP_SHA256="83729c274c499d3348e9fbbe043a3113f3fa8953e7efddc7c21c7fcbb1f2b7b1"
LWIP_TREE="lwip-2.2.1"

dest=${1:?usage: fetch-lwip.sh DESTDIR [N]}
upto=${2:-}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
patchdir=$(cd "$(dirname "$0")/../lwip/patches" && pwd)
patches=("$patchdir"/*.patch)
[ -e "${patches[0]}" ] || patches=()
if [ -n "$upto" ]; then
	case $upto in *[!0-9]*) echo "fetch-lwip: N must be a number of patches" >&2; exit 2 ;; esac
	[ "$upto" -le "${#patches[@]}" ] || {
		echo "fetch-lwip: the series has ${#patches[@]} patches, not $upto" >&2; exit 2; }
	patches=(${patches[@]+"${patches[@]:0:$upto}"})
fi
patch_sum=$(for p in ${patches[@]+"${patches[@]}"}; do
	echo "patch $(basename "$p")"; cat "$p"; done | sha256sum | cut -d' ' -f1)

if [ -f "$dest/$LWIP_TREE/.netcon-verified" ] &&
	[ "$(cat "$dest/$LWIP_TREE/.netcon-verified")" = "patches $patch_sum" ]; then
	touch "$dest/$LWIP_TREE/.netcon-verified"
	exit 0
fi

tarball="$dest/$LWIP_ORIG"
if [ ! -f "$tarball" ] || ! echo "$LWIP_SHA256  $tarball" | sha256sum -c --status; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	"$(dirname "$0")/debian-source.sh" "$work" trixie "lwip=$LWIP_DEB_VERSION"
	if ! echo "$LWIP_SHA256  $work/$LWIP_ORIG" | sha256sum -c --status; then
		echo "fetch-lwip: checksum mismatch for $LWIP_ORIG (want $LWIP_SHA256)" >&2
		exit 1
	fi
	mv "$work/$LWIP_ORIG" "$tarball"
fi

rm -rf "${dest:?}/$LWIP_TREE"
tar -C "$dest" -xJf "$tarball"
test -f "$dest/$LWIP_TREE/src/core/tcp_out.c" || { echo "fetch-lwip: unexpected tarball layout" >&2; exit 1; }
for p in ${patches[@]+"${patches[@]}"}; do
	patch -s -p1 -N -d "$dest/$LWIP_TREE" < "$p" || {
		echo "fetch-lwip: patch $(basename "$p") does not apply" \
			"(after those before it in name order)" >&2; exit 1; }
done
echo "patches $patch_sum" > "$dest/$LWIP_TREE/.netcon-verified"
echo "fetch-lwip: lwIP $LWIP_DEB_VERSION ready in $dest/$LWIP_TREE" \
	"(${#patches[@]} patch(es) applied)" >&2
