#!/usr/bin/env bash
# t_conformance_seccomp.sh — the differential suite with the client side in seccomp mode
# (CONFORM_MODE=seccomp: netcon intercept --mode seccomp; the server side, which the
# client forks, stays in preload mode under the client's filter). Fails when a case
# differs from the kernel and docs/differences.md documents it neither for both modes
# (`### CASE`) nor for seccomp mode (`### seccomp/CASE`). Smaller transfers than
# t_conformance (the data path is the same native one).
# timeout: 900
export CONFORM_MODE=seccomp
export CONFORM_MIB=${CONFORM_MIB:-64} CONFORM_ITERS=${CONFORM_ITERS:-100}
export NC_TIMEOUT=${NC_TIMEOUT:-800}
exec bash "$(dirname "$0")/conformance/suite.sh" "$@"
