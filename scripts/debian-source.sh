#!/usr/bin/env bash
# debian-source.sh — download the files of one Debian source package (.dsc and its
# tarballs) into a folder, without touching the system's apt configuration.
#
# usage: scripts/debian-source.sh DIR CODENAME PKG=VERSION
#
# apt is pointed at a private, temporary sources list with deb-src lines for CODENAME,
# CODENAME-updates and CODENAME-security, built from the mirror the machine already uses
# (the first deb URI of any sources file, else deb.debian.org), with its own list and
# archive directories. Used by scripts/fetch-lwip.sh (lwIP, pinned in Debian 13) and
# compat/c_redis_suite.sh (Redis's tests, the installed version). Checking what was
# downloaded (a checksum, a layout) is the caller's.
set -euo pipefail

dir=${1:?usage: debian-source.sh DIR CODENAME PKG=VERSION}
codename=${2:?usage: debian-source.sh DIR CODENAME PKG=VERSION}
pkgver=${3:?usage: debian-source.sh DIR CODENAME PKG=VERSION}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

mirror=$( (cat /etc/apt/sources.list 2>/dev/null; cat /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null; true) |
	sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:\/\/[^ ]*debian\/\{0,1\}\) .*/\2/p' \
	       -e 's/^URIs: *\(https\{0,1\}:\/\/[^ ]*debian\/\{0,1\}\)$/\1/p' |
	{ grep -v -- "-security" || true; } | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$work/sources.list" <<SRC
deb-src [signed-by=$key] $mirror $codename main
deb-src [signed-by=$key] $mirror $codename-updates main
deb-src [signed-by=$key] ${mirror%/debian}/debian-security $codename-security main
SRC
aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
	-o "APT::Sandbox::User=root" -q)
echo "debian-source: apt-get update (private list, mirror $mirror, $codename)" >&2
apt-get "${aptopts[@]}" update >"$work/update.log" 2>&1 || {
	tail -n 20 "$work/update.log" >&2; echo "debian-source: apt-get update failed" >&2; exit 1; }
echo "debian-source: apt-get source --download-only $pkgver" >&2
(cd "$dir" && apt-get "${aptopts[@]}" source --download-only "$pkgver") >"$work/source.log" 2>&1 || {
	tail -n 20 "$work/source.log" >&2; echo "debian-source: apt-get source $pkgver failed" >&2
	exit 1; }
