#!/usr/bin/env bash
# c_docker.sh — containers from images not built for netcon, under Docker and rootless
# Podman, on the virtual network (netcon container-flags + netcon-exec, seccomp mode):
#
#   Docker: nginx (Debian image) ── A ◄── VXLAN ──► B (run by an unprivileged user) ──
#     rootless Podman: busybox wget (a busybox-static root file system)
#   Docker: redis-server (Debian) under A ◄──► redis-benchmark (Debian) under C
#   Docker: busybox httpd and a busybox wget container on the same service A; the httpd
#     container restarted; service A killed under running containers and started again
#
# Every container runs with --cap-drop ALL and no-new-privileges, --network none.
# program: Docker and Podman containers
# packages: docker.io podman runc busybox-static debootstrap golang-go
# checks: nginx in a Docker Debian container serves 1 KiB and 100 MiB to busybox wget in a rootless Podman container (sha256 equal); redis-benchmark container against a redis-server container across two services, no errors; redis-cli (Debian root) and a static Go client (one-file root) in rootless Podman containers; two containers on one service; a container restarted is reached again at the same address; service killed: the containers' connections read EOF, no container hangs, new containers work once it is back
# timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
require_built
require_root "dockerd, and a user for rootless Podman"
compat_pkgs docker.io podman runc uidmap busybox-static debootstrap curl golang-go
[ -x "$BUILD/netcon-exec" ] || fail "no $BUILD/netcon-exec: build it (make)"
ct_setup
ct_dockerd
ct_podman_user

NET=$COMPAT_NET
# The Debian containers run as uid/gid 1000 (nginx and redis need no root, and without
# capabilities root could not drop to its workers' user anyway): A's socket lets group
# 1000 in, as an operator would with --socket-group. B is run by an unprivileged user
# for rootless Podman (its socket is that user's alone); C is the second service of the
# Docker containers.
A_SOCK_OPTS="--socket-mode 0660 --socket-group 1000"
PORT_A=$(free_udp_port); PORT_B=$(free_udp_port); PORT_C=$(free_udp_port)
start_service A "$NET.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--peer "127.0.0.1:$PORT_C" $A_SOCK_OPTS
ct_user_service B "$NET.2/24" --bind "127.0.0.1:$PORT_B" --peer "127.0.0.1:$PORT_A" \
	--peer "127.0.0.1:$PORT_C"
start_service C "$NET.3/24" --bind "127.0.0.1:$PORT_C" --peer "127.0.0.1:$PORT_A" \
	--peer "127.0.0.1:$PORT_B" $A_SOCK_OPTS

bb=$NC_TMP/bbroot
ct_busybox_root "$bb"
echo "hello from a container" >"$bb/www/index.html"
ct_image nctest/busybox:1 "$bb"
ct_debian_root
# The rootless user's copy of the busybox root (Podman's --rootfs).
ubb=$CT_RUN/bbroot
cp -a "$bb" "$ubb"
chown -R "$CT_USER" "$ubb"

# --- nginx (Docker, Debian) ◄── busybox wget (rootless Podman) --------------------------
P=$(free_tcp_port)
www=$CT_RUN/www
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/small"
mkblob "$www/big" 100
chmod -R a+rX "$www"
cat >"$CT_RUN/nginx.conf" <<C
daemon off; master_process on; worker_processes 2;
pid /tmp/nginx.pid; error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  sendfile on;
  server { listen 0.0.0.0:$P; root /www; }
}
C
chmod a+r "$CT_RUN/nginx.conf"
log ct_docker A -d --name ngx --user 1000:1000 -v "$www:/www:ro" \
	-v "$CT_RUN/nginx.conf:/etc/nc-nginx.conf:ro" "$CT_DEBIAN" \
	/usr/sbin/nginx -c /etc/nc-nginx.conf >/dev/null
wait_port B "$NET.1" "$P"
for f in small big; do
	out=$(log ct_podman B --rootfs "$ubb" sh -c "wget -q -O - http://$NET.1:$P/$f | sha256sum")
	assert_eq "$(sha "$www/$f")" "${out%% *}" "sha256 of $f: nginx (Docker) → wget (rootless Podman)"
done
compat_note "nginx in Docker (Debian image) → busybox wget in rootless Podman: 1 KiB and 100 MiB, sha256 equal"
log docker rm -f ngx >/dev/null

# --- redis-server ◄── redis-benchmark, two Docker containers on two services -------------
RP=$(free_tcp_port)
log ct_docker A -d --name redis --user 1000:1000 "$CT_DEBIAN" redis-server --port "$RP" \
	--bind 0.0.0.0 --protected-mode no --save '' --appendonly no --dir /tmp >/dev/null
wait_port B "$NET.1" "$RP"
out=$(log ct_docker C --rm --user 1000:1000 "$CT_DEBIAN" redis-benchmark -h "$NET.1" -p "$RP" \
	-n 20000 -c 20 -t set,get,incr,lpush --csv 2>&1)
printf '%s\n' "$out"
for t in SET GET INCR LPUSH; do
	assert_contains "$out" "\"$t\"," "redis-benchmark ran $t"
done
assert_not_contains "$out" "rror" "redis-benchmark errors"
compat_note "redis-benchmark container → redis-server container (Debian, Docker), two services: SET/GET/INCR/LPUSH 20,000 each, no errors"

# The same images under rootless Podman: the Debian root file system (redis-cli against
# the redis container) and a one-file root of a static Go program (its client against a
# Go server container under Docker), each under B.
droot=$CT_RUN/debroot
mkdir -p "$droot"
chown "$CT_USER" "$droot"
# Unpacked by the user: Podman's --rootfs must be able to write the user's own files.
log runuser -u "$CT_USER" -- tar -C "$droot" --exclude='./dev/*' -xf "$CT_DEBIAN_CACHE"
[ -x "$droot/usr/bin/redis-cli" ] || fail "the Debian root did not unpack for $CT_USER"
val=$(head -c 48 /dev/urandom | base64 -w0)
out=$(log ct_podman B --rootfs "$droot" /usr/bin/redis-cli -h "$NET.1" -p "$RP" set podman-key "$val")
assert_eq OK "$out" "redis-cli SET from a rootless Podman container (Debian root)"
out=$(log ct_podman B --rootfs "$droot" /usr/bin/redis-cli -h "$NET.1" -p "$RP" get podman-key)
assert_eq "$val" "$out" "redis-cli GET from a rootless Podman container (Debian root)"
compat_note "redis-cli in a rootless Podman container (Debian root) → the redis container: SET/GET equal"
log docker rm -f redis >/dev/null
if command -v go >/dev/null; then
	gohttp=$BUILD/gohttp
	log env CGO_ENABLED=0 GO111MODULE=off GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" \
		timeout 300 go build -o "$gohttp" "$NC_ROOT/tests/go/gohttp.go"
	groot=$NC_TMP/goroot
	mkdir -p "$groot"
	cp "$gohttp" "$groot/gohttp"
	ct_image nctest/gohttp:1 "$groot"
	ugroot=$CT_RUN/goroot
	mkdir -p "$ugroot"
	cp "$gohttp" "$ugroot/gohttp"
	chown -R "$CT_USER" "$ugroot"
	GP=$(free_tcp_port)
	log ct_docker A -d --name gosrv nctest/gohttp:1 /gohttp server ":$GP" >/dev/null
	wait_port B "$NET.1" "$GP"
	out=$(log ct_podman B --rootfs "$ugroot" /gohttp client "http://$NET.1:$GP/" 500 10)
	assert_contains "$out" "500 of 500 requests ok" "Go client (one-file root, rootless Podman) → Go server (one-file image, Docker)"
	compat_note "static Go client in a one-file root under rootless Podman → static Go server in a one-file image under Docker: 500 requests, bodies checked"
	log docker rm -f gosrv >/dev/null
else
	note "no go (golang-go): the one-file Go image under Podman is not run"
fi

# --- Two containers on one service; a restart; the service killed ----------------------
HP=$(free_tcp_port)
log ct_docker A -d --name web nctest/busybox:1 httpd -f -p "$HP" -h /www >/dev/null
wait_port B "$NET.1" "$HP"
out=$(log ct_docker A --rm nctest/busybox:1 wget -q -O - "http://$NET.1:$HP/index.html")
assert_eq "hello from a container" "$out" "a container fetches from another on the same service"
log timeout 60 docker restart -t 2 web >/dev/null
wait_port B "$NET.1" "$HP"
out=$(log under B curl -sS --max-time 20 "http://$NET.1:$HP/index.html")
assert_eq "hello from a container" "$out" "the restarted container, at the same address"
compat_note "two containers on one service; a restarted container is reached again at the same address"

# A connection held open into a container (busybox nc -l under A, a client under B);
# (under C: B, a user's, cannot serve root's programs); then A is killed: nc reads EOF and its container ends; nothing hangs.
NP=$(free_tcp_port)
log ct_docker A -d --name hold nctest/busybox:1 nc -l -p "$NP" >/dev/null
# (No probe: nc -l takes one connection.) The client retries until the listener is up.
spawn holdcli "$NETCON" intercept --mode seccomp --socket "$(sock C)" -- /bin/sh -c \
	"for i in \$(seq 1 50); do (echo held; sleep 60) | busybox nc $NET.1 $NP && exit 0; sleep 0.2; done; exit 1"
retry 50 sh -c "docker logs hold 2>&1 | grep -q held" || fail "the held connection did not carry its line"
log kill -KILL "${NC_SERVICE[A]}"
wait_exit "${NC_SERVICE[A]}" 5 || true
st=""
for i in $(seq 1 100); do
	st=$(docker inspect -f '{{.State.Status}}' hold)
	[ "$st" = exited ] && break
	sleep 0.1
done
assert_eq exited "$st" "the container whose connection's service died (nc read EOF)"
compat_note "service killed under running containers: their connections read EOF (nc exits)"
# The service again, on the same socket and address; the containers that ran under the
# old one are restarted (their filter's listener died with it); new ones work.
start_service A "$NET.1/24" --bind "127.0.0.1:$PORT_A" --peer "127.0.0.1:$PORT_B" \
	--peer "127.0.0.1:$PORT_C" $A_SOCK_OPTS
log timeout 30 docker stop -t 2 web >/dev/null || fail "docker stop hung on a container of the dead service"
log timeout 60 docker start web >/dev/null
wait_port B "$NET.1" "$HP"
out=$(log under B curl -sS --max-time 20 "http://$NET.1:$HP/index.html")
assert_eq "hello from a container" "$out" "the container restarted under the restarted service"
out=$(log ct_docker A --rm nctest/busybox:1 wget -q -O - "http://$NET.1:$HP/index.html")
assert_eq "hello from a container" "$out" "a new container under the restarted service"
compat_note "service restarted: containers restarted under it and new containers work"
echo "PASS"
