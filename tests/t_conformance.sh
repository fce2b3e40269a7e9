#!/usr/bin/env bash
# t_conformance.sh — the differential socket-semantics suite (tests/conformance/run.sh,
# through suite.sh: an undocumented difference is run again alone before it fails):
# every case run over the kernel (veth between two namespaces) and through netcon (two
# services on VXLAN); fails when a case differs from the kernel and docs/differences.md
# does not document it.
# timeout: 600
# The netcon run is bounded by NC_TIMEOUT (lib.sh's `under`, 120 s by default): an ASan
# build (make asan-check) needs more for large_transfer's 1 GiB each way.
export NC_TIMEOUT=${NC_TIMEOUT:-450}
exec bash "$(dirname "$0")/conformance/suite.sh" "$@"
