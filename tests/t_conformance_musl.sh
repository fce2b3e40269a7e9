#!/usr/bin/env bash
# t_conformance_musl.sh — the differential suite with a static musl client in seccomp mode
# (CONFORM_LIBC=musl: build/conform_musl, built with musl-gcc; CONFORM_MODE=seccomp). The
# server side, which the client forks, is the glibc build in preload mode (in the kernel
# run too, so that both runs pair the same programs). Fails when a case differs from the
# kernel and docs/differences.md documents it neither for every mode (`### CASE`), nor
# for seccomp mode (`### seccomp/CASE`), nor for the musl client (`### seccomp-musl/CASE`).
# Skipped, saying so, when musl-gcc was not there to build the client. Small transfers,
# as in t_conformance_seccomp (the data path is the same native one).
# timeout: 900
export CONFORM_MODE=seccomp CONFORM_LIBC=musl
export CONFORM_MIB=${CONFORM_MIB:-64} CONFORM_ITERS=${CONFORM_ITERS:-100}
export NC_TIMEOUT=${NC_TIMEOUT:-800}
exec bash "$(dirname "$0")/conformance/suite.sh" "$@"
