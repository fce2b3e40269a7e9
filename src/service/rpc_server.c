/*
 * rpc_server.c — the service's control socket: accepts the intercepts' RPC connections,
 * checks every message against include/netcon/rpc.h, and dispatches it.
 *
 * A client that sends one malformed message is logged and dropped; its sockets carry
 * on (they are named by fds, not by the client). Replies go back on the client's
 * connection, or on the private reply channel the request carried (NC_F_REPLY_FD: used
 * by a forked child that shares its parent's connection). The subject fd of a request
 * is used only to learn its inode and is closed at once: holding our copy would keep
 * the program's end open after the program closed it.
 */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/rpc.h"
#include "log.h"
#include "sockopts.h"

static uint8_t rpc_in[NC_RPC_MAX_MSG];
static uint8_t rpc_out[NC_RPC_MAX_MSG];

/* mkdir -p for the socket's directory (mode 0700 for what we create). */
static int make_parent_dirs(const char *path)
{
	char buf[NC_SOCKET_PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	p = strrchr(buf, '/');
	if (!p || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* What a file is, in words, for messages. */
static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "a file of unknown type";
}

/*
 * check_path() - may a listening socket (what: "the control socket") be put at sun's
 * path? Yes when nothing is there (*stale = 0), or when a socket of our own uid is there
 * on which nobody answers (*stale = 1, its identity in *old). Anything else is refused
 * and left untouched: a regular file, a directory, a symbolic link, a fifo, a device,
 * another user's socket, a live service (busy: the message, %s the path), another
 * program's live socket. Returns 0 or a negative errno with a message in err.
 */
static int check_path(const struct sockaddr_un *sun, int type, const char *what,
		      const char *busy, struct stat *old, int *stale, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	int fd, e;

	*stale = 0;
	if (lstat(path, old) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(old->st_mode)) {
		snprintf(err, errlen, "refusing to use %s as %s: it is %s (left untouched; %s)",
			 path, what, file_kind(old->st_mode),
			 type == SOCK_SEQPACKET ? "give another --socket or remove it" : "remove it");
		return -EEXIST;
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		close(fd);
		snprintf(err, errlen, busy, path);
		return -EADDRINUSE;
	}
	e = errno;
	close(fd);
	if (old->st_uid != geteuid()) {
		snprintf(err, errlen, "refusing to replace %s: it is a socket of uid %u, not ours "
			 "(left untouched)", path, (unsigned)old->st_uid);
		return -EPERM;
	}
	/* Only ECONNREFUSED means nobody is bound there; EPROTOTYPE, say, is another
	 * program's live socket of another type. */
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "refusing to replace %s: it is a socket that is not stale "
			 "(connect: %s; left untouched)", path, strerror(e));
		return -EBUSY;
	}
	*stale = 1;
	return 0;
}

/* Bind fd to the temporary name tmp. A socket of ours left there by a dead process that
 * had our pid is replaced; anything else is refused. 0 or -errno. */
static int bind_tmp(const char *tmp, int fd, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int e = 0;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", tmp);
	for (int tries = 0; tries < 2; tries++) {
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return 0;
		e = errno;
		if (e != EADDRINUSE || lstat(sun.sun_path, &st) < 0 ||
		    !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
			break;
		unlink(sun.sun_path);
	}
	snprintf(err, errlen, "cannot bind %s: %s", sun.sun_path, strerror(e));
	return -e;
}

/* Give the bound temporary name its final path: replacing the stale socket old when
 * stale, else only if nothing has appeared there since it was checked. 0 or -errno. */
static int move_into_place(const char *tmp, const char *path, const struct stat *old,
			   int stale, char *err, size_t errlen)
{
	struct stat now;

	if (stale) {
		if (lstat(path, &now) < 0 || now.st_dev != old->st_dev ||
		    now.st_ino != old->st_ino) {
			snprintf(err, errlen, "%s changed while the service started: left as it is",
				 path);
			return -EBUSY;
		}
		if (rename(tmp, path) == 0)
			return 0;
	} else {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
			return 0;
		/* A file system without RENAME_NOREPLACE: link() never replaces either. */
		if ((errno == EINVAL || errno == ENOSYS) && link(tmp, path) == 0) {
			unlink(tmp);
			return 0;
		}
		if (errno == EEXIST) {
			snprintf(err, errlen, "something appeared at %s while the service started: "
				 "left as it is", path);
			return -EEXIST;
		}
	}
	snprintf(err, errlen, "cannot set up %s: %s", path, strerror(errno));
	return -errno;
}

/*
 * nc_unix_listen() - a listening unix socket (type SOCK_SEQPACKET or SOCK_STREAM) at
 * path, whose directory exists. It is bound under a temporary name (tmp, NC_SOCKET_PATH_MAX
 * bytes, empty again on return), given its group (gid, or (gid_t)-1) and mode, listened
 * on, and only then moved to path: the path appears when the socket answers, never
 * earlier. A live socket at path is an error (busy); a stale socket of our own uid is
 * replaced; anything else is refused and left untouched. The socket's identity goes to
 * *dev and *ino, so that nc_unix_unlink() removes it and nothing else. Returns the fd
 * (non-blocking) or a negative errno with a message in err.
 */
int nc_unix_listen(const char *path, int type, mode_t mode, gid_t gid, const char *what,
		   const char *busy, char *tmp, dev_t *dev, ino_t *ino, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat old, st;
	int fd, r, stale;

	if (strlen(path) + 16 >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long (at most %zu bytes): %s",
			 sizeof(sun.sun_path) - 17, path);
		return -ENAMETOOLONG;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	r = check_path(&sun, type, what, busy, &old, &stale, err, errlen);
	if (r < 0)
		return r;

	if (snprintf(tmp, NC_SOCKET_PATH_MAX, "%s.%d.tmp", path, (int)getpid()) >=
	    NC_SOCKET_PATH_MAX) {
		tmp[0] = '\0';
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tmp[0] = '\0';
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	r = bind_tmp(tmp, fd, err, errlen);
	if (r < 0) {
		tmp[0] = '\0';   /* not ours: service_free must leave it */
		close(fd);
		return r;
	}
	if (gid != (gid_t)-1 && chown(tmp, (uid_t)-1, gid) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot give %s to group %u: %s", path, (unsigned)gid,
			 strerror(errno));
		goto fail;
	}
	if (chmod(tmp, mode) < 0 || listen(fd, 512) < 0 || lstat(tmp, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot set up %s: %s", path, strerror(errno));
		goto fail;
	}
	r = move_into_place(tmp, path, &old, stale, err, errlen);
	if (r < 0)
		goto fail;
	tmp[0] = '\0';
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fd;
fail:
	unlink(tmp);
	tmp[0] = '\0';
	close(fd);
	return r;
}

/* Remove the socket nc_unix_listen() made at path, not what another hand has put there
 * since (what: for the warning). */
void nc_unix_unlink(const char *path, dev_t dev, ino_t ino, const char *what)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
			unlink(path);
		else
			nc_warn("%s is no longer %s: left in place", path, what);
	}
}

/*
 * nc_control_open() - create the control socket (nc_unix_listen(): its group from
 * --socket-group, its mode from --socket-mode), its directories made first.
 */
int nc_control_open(struct nc_service *svc, char *err, size_t errlen)
{
	const char *path = svc->cfg.socket_path;
	int fd, r;

	r = make_parent_dirs(path);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(-r));
		return r;
	}
	fd = nc_unix_listen(path, SOCK_SEQPACKET, svc->cfg.socket_mode, svc->cfg.socket_gid,
			    "the control socket", "another service is already running on %s",
			    svc->ctl_tmp_path, &svc->ctl_dev, &svc->ctl_ino, err, errlen);
	if (fd < 0)
		return fd;
	svc->ctl_fd = fd;
	svc->ctl_h.type = NC_H_CONTROL;
	if (nc_epoll_add(svc, fd, EPOLLIN, &svc->ctl_h) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void client_drop(struct nc_service *svc, struct nc_client *c, const char *why)
{
	if (why)
		nc_warn("dropping client pid %d: %s", (int)c->pid, why);
	nc_dnsfwd_client_gone(svc, c);
	nc_epoll_del(svc, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		svc->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	svc->nclients--;
	free(c);
}

void nc_control_close(struct nc_service *svc)
{
	while (svc->clients)
		client_drop(svc, svc->clients, NULL);
	if (svc->ctl_fd >= 0) {
		close(svc->ctl_fd);
		svc->ctl_fd = -1;
		nc_unix_unlink(svc->cfg.socket_path, svc->ctl_dev, svc->ctl_ino,
			       "our control socket");
	}
}

static int clients_of(struct nc_service *svc, pid_t pid)
{
	int n = 0;

	for (struct nc_client *c = svc->clients; c; c = c->next)
		n += c->pid == pid;
	return n;
}

void nc_control_accept(struct nc_service *svc)
{
	for (int i = 0; i < 64; i++) {
		struct ucred cred;
		socklen_t l = sizeof(cred);
		struct nc_client *c;
		int fd = accept4(svc->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nc_log_ratelimited(NC_LOG_WARN, "accept on control socket: %s",
						   strerror(errno));
			return;
		}
		if (svc->nclients >= NC_MAX_CLIENTS) {
			nc_log_ratelimited(NC_LOG_WARN, "too many clients (%d): refusing one",
					   svc->nclients);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
			cred.pid = 0;
			cred.uid = (uid_t)-1;
		}
		/* A program needs one connection (one more per fork child, which has its own
		 * pid): one process holding many is hoarding the service's client slots. */
		if (cred.pid > 0 && clients_of(svc, cred.pid) >= NC_MAX_CLIENTS_PER_PID) {
			nc_log_ratelimited(NC_LOG_WARN, "pid %d holds %d control connections, the "
					   "limit: refusing another", (int)cred.pid,
					   NC_MAX_CLIENTS_PER_PID);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->h.type = NC_H_CLIENT;
		c->id = ++svc->next_client_id;
		c->fd = fd;
		c->pid = cred.pid;
		c->uid = cred.uid;
		if (nc_epoll_add(svc, fd, EPOLLIN, &c->h) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = svc->clients;
		if (svc->clients)
			svc->clients->prev = c;
		svc->clients = c;
		svc->nclients++;
		nc_debug("client pid %d uid %d connected", (int)c->pid, (int)c->uid);
	}
}

/* The socket a request names, by the inode of the fd it carried. */
static int subject_ino(int fd, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -EBADF;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	*ino = st.st_ino;
	return 0;
}

/* The reply's payload: n bytes of rep. Returns 0. */
static int put_reply(uint8_t *out, size_t *olen, const void *rep, size_t n)
{
	memcpy(out, rep, n);
	*olen = n;
	return 0;
}

/* handle()'s answers when no reply goes now: it comes later (a name asked upstream,
 * dnsfwd.c), or never (NC_MSG_SOCKOPT_POST). */
#define NC_DEFERRED 1
#define NC_NO_REPLY 2

/*
 * sockopt_post() - NC_MSG_SOCKOPT_POST from client c: a recorded option set on a
 * connection that c's own request made (CONNECT), or that a listener c made accepted,
 * named by inode (no fd travels: rpc.h). Nothing is answered; a request outside that
 * contract is counted as malformed and ignored.
 */
static void sockopt_post(struct nc_service *svc, struct nc_client *c, int subject,
			 const uint8_t *pl)
{
	struct nc_sockopt_post q;
	struct nc_sock *s;

	memcpy(&q, pl, sizeof(q));
	if (subject >= 0 || q.pad != 0 || !nc_sockopt_postable(q.level, q.name)) {
		svc->ctr.rpc_bad++;
		return;
	}
	s = nc_sock_lookup(svc, (ino_t)q.ino);
	if (!s) {
		svc->ctr.rpc_posted++;
		return;   /* closed since: as a SET on a closed socket, forgotten */
	}
	if (s->client != c->id || s->kind != NC_KIND_CONN) {
		svc->ctr.rpc_bad++;
		nc_debug("client pid %d posted an option to a socket it did not make",
			 (int)c->pid);
		return;
	}
	svc->ctr.rpc_posted++;
	nc_sock_setopt(svc, s, q.level, q.name, &q.value, sizeof(q.value));
}

/*
 * handle() - carry out one checked request. Fills the reply payload (out, *olen) and
 * perhaps a new fd (*new_fd); returns 0 or a negative errno (sent in the reply's err,
 * as a positive errno as rpc.h says), or NC_DEFERRED: no reply now (reply_fd, if it is
 * a private channel, was taken over).
 */
static int handle(struct nc_service *svc, struct nc_client *c, const struct nc_hdr *h,
		  const uint8_t *pl, int subject, int reply_fd, uint8_t *out, size_t *olen,
		  int *new_fd)
{
	unsigned type = h->type;
	struct nc_sock *s = NULL;
	ino_t ino = 0;
	int r;

	*olen = 0;
	if (type == NC_MSG_SECCOMP) {
		/* The subject is a seccomp listener, not a socket (seccomp.c). */
		struct nc_seccomp_req q;
		struct nc_seccomp_rep rep;

		memcpy(&q, pl, sizeof(q));
		if (subject < 0 || q.flags != 0)
			return subject < 0 ? -EBADF : -EINVAL;
		r = nc_seccomp_adopt(svc, subject, c->pid > 0 ? c->pid : (pid_t)q.pid, c->uid);
		if (r < 0)
			return r;
		memset(&rep, 0, sizeof(rep));
		rep.service_pid = (uint32_t)getpid();
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	if (type == NC_MSG_SOCKOPT_POST) {
		sockopt_post(svc, c, subject, pl);
		return NC_NO_REPLY;
	}
	if (type == NC_MSG_CAPTURE) {
		/* The subject is a pipe for the pcap stream (capture.c). */
		struct nc_capture_req q;

		memcpy(&q, pl, sizeof(q));
		if (subject < 0)
			return -EBADF;
		if ((q.flags & ~NC_CAPTURE_PCAPNG) || q.pad != 0)
			return -EINVAL;
		if (c->uid != 0 && c->uid != geteuid())
			return -EPERM;
		return nc_capture_add_pipe(svc, subject, !!(q.flags & NC_CAPTURE_PCAPNG));
	}
	if (subject >= 0) {
		r = subject_ino(subject, &ino);
		if (r < 0)
			return r;
		s = nc_sock_lookup(svc, ino);
	}
	switch (type) {
	case NC_MSG_HELLO: {
		struct nc_hello_req q;
		struct nc_hello_rep rep;

		memcpy(&q, pl, sizeof(q));
		if (q.version != NC_RPC_VERSION)
			return -EPROTONOSUPPORT;
		memset(&rep, 0, sizeof(rep));
		rep.version = NC_RPC_VERSION;
		rep.service_pid = (uint32_t)getpid();
		rep.mtu = (uint32_t)svc->cfg.mtu;
		memcpy(rep.ip4, &svc->cfg.ip.s_addr, 4);
		rep.prefix4 = (uint8_t)svc->cfg.prefix;
		nc_stack_ip6_list(svc, rep.ip6, NC_HELLO_MAX_IP6, &rep.n_ip6);
		rep.flags = NC_HELLO_SOCKOPT_POST;
		if (svc->cfg.outbound.n)
			rep.flags |= NC_HELLO_OUTBOUND;
		if (nc_outbound_names_loopback(&svc->cfg.outbound))
			rep.flags |= NC_HELLO_OUTBOUND_LO;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_BIND: {
		struct nc_bind_req q;
		struct nc_bind_rep rep;

		if (subject >= 0)
			return -EINVAL;   /* already bound */
		memcpy(&q, pl, sizeof(q));
		memset(&rep, 0, sizeof(rep));
		if (q.type == SOCK_DGRAM)
			r = nc_udp_bind(svc, &q, 0, new_fd, &rep.local);
		else if (q.type == SOCK_STREAM || q.type == 0)
			r = nc_sock_bind(svc, &q, new_fd, &rep.local);
		else
			r = -ESOCKTNOSUPPORT;
		if (r < 0)
			return r;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_LISTEN: {
		struct nc_listen_req q;
		struct nc_listen_rep rep;

		if (subject >= 0 && !s)
			return -EINVAL;
		memcpy(&q, pl, sizeof(q));
		memset(&rep, 0, sizeof(rep));
		r = nc_sock_listen(svc, s, &q, new_fd, &rep.local);
		if (r < 0)
			return r;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_CONNECT: {
		struct nc_connect_req q;
		struct nc_connect_rep rep;

		if (subject >= 0 && !s)
			return nc_tombstone_get(svc, ino, 0) ? -ECONNABORTED : -EINVAL;
		memcpy(&q, pl, sizeof(q));
		memset(&rep, 0, sizeof(rep));
		if (s && s->kind == NC_KIND_UDP)
			r = nc_udp_connect(svc, s, &q, &rep);
		else
			r = nc_sock_connect(svc, s, &q, new_fd, &rep);
		if (r < 0)
			return r;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_SOCKOPT_SET: {
		struct nc_sockopt_req q;

		if (subject < 0)
			return -EBADF;
		memcpy(&q, pl, h->len - sizeof(*h));
		if (!s)
			return 0;   /* a closed socket takes options and forgets them */
		return nc_sock_setopt(svc, s, q.level, q.name, q.value, q.len);
	}
	case NC_MSG_SOCKOPT_GET: {
		struct nc_sockopt_req q;
		struct nc_sockopt_rep rep;

		if (subject < 0)
			return -EBADF;
		memcpy(&q, pl, sizeof(q) - sizeof(q.value));
		memset(&rep, 0, sizeof(rep));
		rep.len = q.len;
		r = nc_sock_getopt(svc, s, ino, q.level, q.name, rep.value, &rep.len);
		if (r < 0)
			return r;
		return put_reply(out, olen, &rep,
				 offsetof(struct nc_sockopt_rep, value) + rep.len);
	}
	case NC_MSG_QUERY: {
		struct nc_query_rep rep;

		if (subject < 0)
			return -EBADF;
		memset(&rep, 0, sizeof(rep));
		if (s) {
			rep.kind = (uint32_t)s->kind;
			rep.state = (uint32_t)s->state;
			rep.local = s->local;
			rep.peer = s->peer;
		} else if (nc_tombstone_get(svc, ino, 0)) {
			rep.kind = NC_KIND_CONN;
			rep.state = NC_STATE_CLOSED;
		} else {
			rep.kind = NC_KIND_NONE;
		}
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_STATUS:
	case NC_MSG_STATUS_JSON: {
		struct nc_status_rep rep;
		size_t cap = NC_RPC_MAX_MSG - sizeof(struct nc_hdr) - sizeof(rep) - 1;
		size_t n = type == NC_MSG_STATUS_JSON ?
			nc_status_json(svc, (char *)out + sizeof(rep), cap) :
			nc_status_text(svc, (char *)out + sizeof(rep), cap);

		rep.len = (uint32_t)n;
		memcpy(out, &rep, sizeof(rep));
		*olen = sizeof(rep) + n;
		return 0;
	}
	case NC_MSG_OUTBOUND: {
		struct nc_outbound_req q;
		struct nc_outbound_rep rep;

		if (subject >= 0)
			return -EINVAL;
		memcpy(&q, pl, sizeof(q));
		r = nc_outbound_connect(svc, &q, c->pid, new_fd, &rep);
		if (r < 0)
			return r;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	case NC_MSG_RESOLVE: {
		struct nc_resolve_req q;
		struct nc_resolve_rep rep;

		if (subject >= 0)
			return -EINVAL;
		memcpy(&q, pl, sizeof(q));
		r = nc_names_resolve(svc, &q, &rep);
		if (r == -ENOENT && svc->dnsfwd &&
		    nc_dnsfwd_resolve(svc, c, reply_fd == c->fd ? -1 : reply_fd, h->seq, &q) == 0)
			return NC_DEFERRED;
		if (r != 0)
			return r;
		return put_reply(out, olen, &rep, sizeof(rep));
	}
	}
	return -EINVAL;
}

/* One readable client: serve every message waiting (a bounded number per wake-up). */
void nc_client_event(struct nc_service *svc, struct nc_client *c, uint32_t events)
{
	for (int i = 0; i < 64; i++) {
		int fds[NC_RPC_MAX_FDS], nfds, reply_fd, subject, new_fd = -1, e;
		const char *why;
		struct nc_hdr h, rh;
		size_t olen = 0;
		ssize_t n;

		n = nc_rpc_recv(c->fd, rpc_in, sizeof(rpc_in), fds, &nfds, MSG_DONTWAIT);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			/* End of stream, or an empty message (the same thing on SEQPACKET). */
			nc_rpc_close_fds(fds, nfds);
			client_drop(svc, c, NULL);
			return;
		}
		if (n == -ECONNRESET) {
			/* The process died (a reset is how a killed client's connection ends
			 * when it had a request in flight): nothing to report. */
			client_drop(svc, c, NULL);
			return;
		}
		if (n < 0) {
			svc->ctr.rpc_bad++;
			client_drop(svc, c, n == -EMSGSIZE ? "message or fds too large" :
				    n == -EBADMSG ? "empty message with fds" : strerror((int)-n));
			return;
		}
		svc->ctr.rpc_requests++;
		if (nc_rpc_check(rpc_in, (size_t)n, nfds, 0, &why) < 0) {
			svc->ctr.rpc_bad++;
			nc_rpc_close_fds(fds, nfds);
			client_drop(svc, c, why);
			return;
		}
		memcpy(&h, rpc_in, sizeof(h));
		reply_fd = (h.flags & NC_F_REPLY_FD) ? fds[0] : c->fd;
		subject = (h.flags & NC_F_SUBJECT_FD) ? fds[nfds - 1] : -1;

		svc->cur_user = nc_user_get(svc, c->uid);
		svc->cur_pid = c->pid;
		svc->cur_client = reply_fd == c->fd ? c->id : 0;
		e = handle(svc, c, &h, rpc_in + sizeof(h), subject, reply_fd, rpc_out, &olen,
			   &new_fd);
		svc->cur_user = NULL;
		svc->cur_pid = 0;
		svc->cur_client = 0;
		if (subject >= 0)
			close(subject);
		if (e == NC_DEFERRED)
			continue;   /* dnsfwd.c replies, and owns a private reply channel */
		if (e == NC_NO_REPLY) {
			if (h.flags & NC_F_REPLY_FD)
				close(fds[0]);
			continue;
		}

		memset(&rh, 0, sizeof(rh));
		rh.type = (uint16_t)(h.type | NC_MSG_REPLY);
		rh.seq = h.seq;
		rh.err = -e;
		if (e != 0) {
			olen = 0;
			if (new_fd >= 0) {
				close(new_fd);
				new_fd = -1;
			}
		}
		if (new_fd >= 0)
			rh.flags = NC_F_NEW_FD;
		/* Never block: the reply channel is the client's fd, possibly a blocking one
		 * that it keeps full on purpose; a single-threaded service must not wait. */
		int r = nc_rpc_send_flags(reply_fd, &rh, rpc_out, olen, &new_fd,
					  new_fd >= 0 ? 1 : 0, MSG_DONTWAIT);
		if (new_fd >= 0)
			close(new_fd);
		if (h.flags & NC_F_REPLY_FD)
			close(fds[0]);
		if (r < 0) {
			/* A client that does not read its replies (or names a reply channel that
			 * is no socket, or full) is not served further. */
			char why_buf[96];
			snprintf(why_buf, sizeof(why_buf), "cannot send the reply: %s",
				 strerror(-r));
			client_drop(svc, c, why_buf);
			return;
		}
	}
}
