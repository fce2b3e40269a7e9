# shellcheck shell=bash
# compat/containers.sh — what the container scripts (c_docker*.sh) share, sourced after
# compat/lib.sh. Real engines from Debian, started by the script and removed by it:
#
#   ct_setup                  socket directories (one per service, outside $NC_TMP: it is
#                             what a container mounts), a copy of netcon and netcon-exec
#                             that an unprivileged user can reach; redefines sock()
#   ct_dockerd                dockerd with its own data root, exec root and socket,
#                             --iptables=false --bridge=none (the host's firewall and
#                             bridges untouched); sets DOCKER_HOST
#   ct_image NAME DIR         `docker import` of a directory as image NAME
#   ct_busybox_root DIR       a root file system of busybox-static alone
#   ct_debian_tar             a Debian root file system as a tarball (debootstrap
#                             --variant=minbase, cached outside the repository)
#   ct_debian_root            that tarball imported into dockerd; sets CT_DEBIAN
#   ct_docker SVC ARGS...     `docker run` with `netcon container-flags` for SVC, every
#                             capability dropped and no-new-privileges
#   ct_podman_user            an unprivileged user with subordinate ids for rootless Podman
#   ct_user_service NAME ADDR ARGS...  service NAME run by that user
#   ct_podman SVC ARGS...     rootless `podman run` as that user (runc, lowered limits,
#                             --rootfs DIR), flags as for Docker
#   ct_podman_run ARGS...     the same without netcon's flags (and without --rm)
#   ct_podman_cmd ARGS...     any podman command as that user
#   ct_tun_access             /dev/net/tun usable by that user (slirp4netns, pasta): an
#                             ACL entry for the run where the device is root's alone
#
# Containers, dockerd and the user's Podman state are removed on exit, also on failure
# (and on INT/TERM/HUP).

CT_USER=${CT_USER:-netcon-ct}
# The Debian root's packages; the cache file's name carries them, so a root file system
# cached with another list is not reused.
CT_DEBIAN_PKGS=nginx-light,redis-server,redis-tools,iperf3
CT_DEBIAN_CACHE=${CT_DEBIAN_CACHE:-/var/cache/netcon-test/debian-bookworm-minbase-$(printf %s "$CT_DEBIAN_PKGS" | cksum | cut -d' ' -f1).tar}
CT_DOCKERD=""

ct_setup() {
	CT_RUN=$(mktemp -d /tmp/netcon.ct.XXXXXX)
	nc_register dir "$CT_RUN"
	chmod 755 "$CT_RUN"
	mkdir -p "$CT_RUN/bin"
	cp "$NETCON" "$CT_RUN/bin/netcon"
	cp "$BUILD/netcon-exec" "$CT_RUN/bin/netcon-exec"
	chmod 755 "$CT_RUN/bin" "$CT_RUN/bin/netcon" "$CT_RUN/bin/netcon-exec"
	export NETCON_EXEC=$CT_RUN/bin/netcon-exec
	trap ct_exit EXIT INT TERM HUP
}

# The containers go first (the engines hold mounts of our directories), then what
# tests/lib.sh cleans, with the script's exit status.
ct_exit() {
	local rc=$?
	trap - ERR
	set +e
	ct_cleanup
	(exit "$rc")
	nc_cleanup
}

# A service's socket in a directory of its own: the container mounts the directory.
sock() {
	mkdir -p "$CT_RUN/$1"
	printf '%s/%s/%s.sock\n' "$CT_RUN" "$1" "$1"
}

ct_cleanup() {
	if [ -n "$CT_DOCKERD" ]; then
		local ids
		ids=$(timeout 20 docker ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$ids" ] || timeout 60 docker rm -f $ids >/dev/null 2>&1
		kill -TERM "$CT_DOCKERD" 2>/dev/null
		wait_exit "$CT_DOCKERD" 20 >/dev/null 2>&1 || kill -KILL "$CT_DOCKERD" 2>/dev/null
		# Shims left by a dockerd that died: theirs is our exec root.
		pkill -KILL -f "containerd-shim.*$CT_EXEC_ROOT" 2>/dev/null
		grep " $CT_DOCKER_ROOT/" /proc/mounts | awk '{print $2}' | sort -r |
			while read -r m; do umount -l "$m"; done
		grep " $CT_EXEC_ROOT" /proc/mounts | awk '{print $2}' | sort -r |
			while read -r m; do umount -l "$m"; done
		rm -rf "$CT_EXEC_ROOT" "$CT_DOCKER_ROOT"
	fi
	if [ -n "${CT_PODMAN_USED:-}" ]; then
		timeout 60 runuser -u "$CT_USER" -- env -C / XDG_RUNTIME_DIR="$CT_XDG" \
			podman rm -af -t 0 >/dev/null 2>&1
		pkill -KILL -u "$CT_USER" 2>/dev/null
	fi
	if [ -n "${CT_TUN_ACL:-}" ]; then
		if [ -z "$CT_TUN_ACL_BEFORE" ]; then setfacl -b /dev/net/tun
		else setfacl -x "u:$CT_USER" /dev/net/tun; fi
		CT_TUN_ACL=""
	fi
}

ct_dockerd() {
	command -v dockerd >/dev/null || skip "no dockerd (Debian's docker.io)"
	CT_DOCKER_ROOT=$(mktemp -d /var/tmp/netcon.dockerd.XXXXXX)
	CT_EXEC_ROOT=/run/ncdk.$$	# short: containerd's sockets live under it
	mkdir -p "$CT_EXEC_ROOT"
	export DOCKER_HOST=unix://$CT_EXEC_ROOT/docker.sock
	spawn dockerd dockerd --data-root "$CT_DOCKER_ROOT" --exec-root "$CT_EXEC_ROOT" \
		-H "$DOCKER_HOST" --pidfile "$CT_EXEC_ROOT/docker.pid" --iptables=false \
		--ip6tables=false --bridge=none --ip-forward=false --ip-masq=false
	CT_DOCKERD=$NC_PID
	local i
	for i in $(seq 1 60); do
		timeout 5 docker version >/dev/null 2>&1 && { note "dockerd ready"; return 0; }
		alive "$CT_DOCKERD" || break
		sleep 0.5
	done
	logtail dockerd 30 >&2
	skip "dockerd could not start here (log above)"
}

ct_image() {
	local name=$1 dir=$2
	log sh -c "tar -C '$dir' -c . | docker import - '$name'" >/dev/null
}

ct_busybox_root() {
	local dir=$1 a
	[ -x /bin/busybox ] && file_is_static /bin/busybox || fail "/bin/busybox is not busybox-static"
	mkdir -p "$dir/bin" "$dir/tmp" "$dir/www"
	cp /bin/busybox "$dir/bin/busybox"
	for a in sh cat echo wget nc httpd sha256sum sleep ls head; do ln -sf busybox "$dir/bin/$a"; done
}

file_is_static() {
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# A minimal Debian with nginx-light, redis-server, redis-tools and iperf3, from the
# archive apt uses (~200 MB, built once per machine and cached as a tarball outside the
# repository).
ct_debian_tar() {
	local mirror
	if [ ! -s "$CT_DEBIAN_CACHE" ]; then
		mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
			grep -v security | head -n 1)
		mirror=${mirror:-http://deb.debian.org/debian/}
		local root=$NC_TMP/debian-root
		mkdir -p "$(dirname "$CT_DEBIAN_CACHE")"
		note "debootstrap from $mirror (once; cached in $CT_DEBIAN_CACHE)"
		log timeout 900 debootstrap --variant=minbase --include="$CT_DEBIAN_PKGS" \
			bookworm "$root" "$mirror" >"$NC_TMP/debootstrap.out" 2>&1 ||
			{ tail -n 20 "$NC_TMP/debootstrap.out" >&2; fail "debootstrap failed"; }
		rm -rf "$root/var/cache/apt/archives"/*.deb
		tar -C "$root" -cf "$CT_DEBIAN_CACHE.tmp$$" . && mv "$CT_DEBIAN_CACHE.tmp$$" "$CT_DEBIAN_CACHE"
		rm -rf "$root"
	fi
}

ct_debian_root() {
	ct_debian_tar
	log sh -c "docker import - nctest/debian:12 <'$CT_DEBIAN_CACHE'" >/dev/null
	CT_DEBIAN=nctest/debian:12
}

ct_docker() {
	local svc=$1 flags
	shift
	flags=$(NETCON_EXEC=$NETCON_EXEC "$NETCON" container-flags --socket "$(sock "$svc")") ||
		fail "netcon container-flags failed"
	# shellcheck disable=SC2086
	timeout --foreground -k 5 "${NC_TIMEOUT:-120}" docker run --cap-drop ALL \
		--security-opt no-new-privileges $flags "$@" 3>&-
}

ct_podman_user() {
	command -v podman >/dev/null || skip "no podman"
	id "$CT_USER" >/dev/null 2>&1 || log useradd -m -s /bin/sh "$CT_USER"
	local u
	for u in /etc/subuid /etc/subgid; do
		grep -q "^$CT_USER:" "$u" 2>/dev/null || printf '%s:300000:65536\n' "$CT_USER" >>"$u"
	done
	CT_UID=$(id -u "$CT_USER")
	CT_XDG=$CT_RUN/xdg
	mkdir -p "$CT_XDG"
	chown "$CT_USER" "$CT_XDG"
	chmod 700 "$CT_XDG"
	CT_PODMAN_USED=1
}

ct_user_service() {
	local name=$1 ip=$2 s
	shift 2
	s=$(sock "$name")
	chown "$CT_USER" "$(dirname "$s")"
	guard_subnet "$ip"
	spawn "svc-$name" runuser -u "$CT_USER" -- "$CT_RUN/bin/netcon" service --ip "$ip" \
		--socket "$s" --log-level "${NC_LOG_LEVEL:-info}" --link vxlan "$@"
	NC_SERVICE[$name]=$NC_PID
	local i
	for i in $(seq 1 60); do
		[ -S "$s" ] && { note "service $name (user $CT_USER) ready"; return 0; }
		alive "$NC_PID" || break
		sleep 0.1
	done
	fail "service $name did not start: $(logtail "svc-$name")"
}

ct_podman() {
	local svc=$1 flags
	shift
	flags=$(NETCON_EXEC=$NETCON_EXEC "$NETCON" container-flags --engine podman --socket "$(sock "$svc")") ||
		fail "netcon container-flags failed"
	# shellcheck disable=SC2086
	ct_podman_run --rm $flags "$@"
}

# ct_podman_cmd ARGS... — any podman command as the rootless user (bounded).
ct_podman_cmd() {
	timeout --foreground -k 5 "${NC_TIMEOUT:-120}" runuser -u "$CT_USER" -- env -C / \
		XDG_RUNTIME_DIR="$CT_XDG" HOME="$CT_XDG" podman --runtime runc "$@" 3>&-
}

# ct_podman_run ARGS... — rootless `podman run` with ct_podman's limits and no netcon
# flags: the container's network is the caller's (--network ...).
ct_podman_run() {
	ct_podman_cmd run --cap-drop ALL --security-opt no-new-privileges \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
}

# ct_tun_access — rootless Podman's own networks (slirp4netns, pasta) open /dev/net/tun
# inside the user's namespaces, as the user. Where the device is not open to every user
# (mode 0600), the user gets read-write by an ACL entry for the run, removed at exit.
# Fails when that cannot be done (no setfacl).
ct_tun_access() {
	[ -c /dev/net/tun ] || return 1
	runuser -u "$CT_USER" -- sh -c ': </dev/net/tun' 2>/dev/null && return 0
	command -v setfacl >/dev/null || return 1
	CT_TUN_ACL_BEFORE=$(getfacl -c --skip-base /dev/net/tun 2>/dev/null)
	log setfacl -m "u:$CT_USER:rw" /dev/net/tun || return 1
	CT_TUN_ACL=1
}
