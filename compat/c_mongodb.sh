#!/usr/bin/env bash
# c_mongodb.sh — MongoDB: not in Debian (licence, SSPL); nothing to test from Debian.
# program: MongoDB
# packages: mongodb-server
# checks: not packaged by Debian (SSPL licence); no substitute tested
# timeout: 60
. "$(dirname "$0")/lib.sh"
cand=$(apt-cache policy mongodb-server mongodb 2>/dev/null | sed -n 's/^ *Candidate: *//p' | { grep -v none || true; } | head -n 1)
[ -n "$cand" ] || skip "Debian 12 does not ship MongoDB (SSPL licence)"
skip "a MongoDB package ($cand) exists but has no script yet"
