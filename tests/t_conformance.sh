#!/usr/bin/env bash
# t_conformance.sh — the differential socket-semantics suite (tests/conformance/run.sh):
# every case run over the kernel (veth between two namespaces) and through netcon (two
# services on VXLAN); fails when a case differs from the kernel and docs/differences.md
# does not document it.
# timeout: 600
exec bash "$(dirname "$0")/conformance/run.sh" "$@"
