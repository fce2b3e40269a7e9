#!/usr/bin/env bash
# c_docker_gotap.sh — a static Go program in an image that holds nothing else (what
# `FROM scratch` gives), in a Docker container under service A on a TAP link, reached by
# the kernel's own client on the other side of the TAP device:
#
#   Docker: /gohttp server (Go, CGO_ENABLED=0) ── A (10.89.0.1, --link tap)
#                                                   ▲ tap0
#   kernel namespace: /gohttp client 10.89.0.2 ─────┘
#
# program: Docker container, static Go image (FROM scratch)
# packages: docker.io golang-go
# checks: Go net/http server in a one-file image (netcon-exec, seccomp mode) answers 2,000 requests over 20 goroutines from the kernel's client over TAP, every body checked; netcon show picks seccomp for it
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
require_built
require_root "dockerd, a TAP device"
compat_pkgs docker.io golang-go
[ -x "$BUILD/netcon-exec" ] || fail "no $BUILD/netcon-exec: build it (make)"
ct_setup
ct_dockerd

gohttp=$BUILD/gohttp
log env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
	timeout 300 go build -o "$gohttp" "$NC_ROOT/tests/go/gohttp.go"
file_is_static "$gohttp" || fail "$gohttp is not statically linked"
assert_contains "$(log "$NETCON" show "$gohttp")" "mode:      seccomp" "netcon show for the Go program"
root=$NC_TMP/goroot
mkdir -p "$root"
cp "$gohttp" "$root/gohttp"
ct_image nctest/gohttp:1 "$root"
log sh -c "docker image inspect nctest/gohttp:1 --format '{{.Size}}'"

start_tap A "$COMPAT_NET.1/24" "$COMPAT_NET.2/24"
P=$(free_tcp_port)
log ct_docker A -d --name gosrv nctest/gohttp:1 /gohttp server ":$P" >/dev/null
wait_port "netns:$TAP_NS" "$COMPAT_NET.1" "$P"
out=$(log in_tap "$gohttp" client "http://$COMPAT_NET.1:$P/" 2000 20)
printf '%s\n' "$out"
assert_contains "$out" "2000 of 2000 requests ok" "the kernel's Go client: every body checked"
compat_note "static Go net/http server in a one-file image under Docker (seccomp mode, TAP link): 2,000 requests from the kernel's client, bodies checked"
log docker rm -f gosrv >/dev/null
echo "PASS"
