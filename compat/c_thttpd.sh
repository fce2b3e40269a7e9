#!/usr/bin/env bash
# c_thttpd.sh — thttpd: Debian 12 does not ship it (removed after Debian 9); lighttpd is
# tested in its place (c_lighttpd.sh).
# program: thttpd
# packages: thttpd
# checks: not packaged by Debian 12: lighttpd tested in its place (c_lighttpd)
# timeout: 60
. "$(dirname "$0")/lib.sh"
cand=$(apt-cache policy thttpd 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
	skip "Debian 12 does not ship thttpd; lighttpd tested in its place (c_lighttpd)"
fi
skip "thttpd $cand is available but has no script yet; lighttpd is tested (c_lighttpd)"
