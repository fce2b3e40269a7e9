/*
 * seccomp.c — the seccomp supervisor: the second door into the service.
 *
 * DOC: Theory of operation
 *
 * A program started with `netcon intercept --mode seccomp` runs under a seccomp filter
 * (common/seccomp_filter.c) that sends its socket *control* calls (connect, bind, listen,
 * accept, accept4, getsockname, getpeername, getsockopt, setsockopt, shutdown, and
 * io_uring_setup) to a user-notification listener. The launcher hands that listener to
 * the service (NC_MSG_SECCOMP) and execs the program; this file serves it from the
 * service's one event loop, beside the RPC clients:
 *
 *  - A notification is received (SECCOMP_IOCTL_NOTIF_RECV) when the listener is
 *    readable. The program's fd is copied into the service with pidfd_getfd(): the copy
 *    *is* the name of the socket, looked up by inode exactly as an RPC subject fd is.
 *    Arguments and results move with process_vm_readv/writev (a bad pointer: EFAULT, as
 *    the kernel says).
 *  - The decision is the intercept's: route.c says which addresses are virtual, the
 *    service's own handlers (nc_sock_bind/listen/connect/getopt/setopt) do the work, and
 *    a call that is not ours is handed back to the kernel unchanged
 *    (SECCOMP_USER_NOTIF_FLAG_CONTINUE). socket() is never trapped: a socket is a kernel
 *    one until bind/connect/listen decide, as in preload mode.
 *  - A virtual socket appears in the program with SECCOMP_IOCTL_NOTIF_ADDFD and
 *    SECCOMP_ADDFD_FLAG_SETFD over the program's own fd number (what dup2 does in
 *    preload mode); accept's new fd with SECCOMP_ADDFD_FLAG_SEND, which installs it and
 *    answers the call in one step.
 *  - Nothing here blocks. A blocking connect is answered when its socketpair end becomes
 *    writable (the service keeps it unwritable until the handshake resolves) or hangs
 *    up; a blocking accept when the listener's SOCK_SEQPACKET end becomes readable. Both
 *    wait as epoll registrations of their own (struct sc_wait), so replies go out in any
 *    order and one thread's accept never stalls another's connect.
 *  - Every reply is checked by the kernel against the notification's id; before acting
 *    on a pid (pidfd_open) we ask SECCOMP_IOCTL_NOTIF_ID_VALID, so a recycled pid is
 *    never read from. A waiting call whose thread took a signal (its notification is
 *    gone) is found by a periodic ID_VALID check and dropped.
 *  - When every process under the filter has exited, the listener hangs up and is freed;
 *    when the service stops, closing the listener makes trapped calls fail (ENOSYS).
 *
 * Data calls (read, write, send, recv, epoll, close) are never trapped: the data path is
 * as native as in preload mode.
 */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "route.h"
#include "sockopts.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* What a handler tells the dispatcher besides a result (>= 0) or a negative errno. */
#define SC_CONTINUE  INT_MIN          /* not ours: the kernel carries it out */
#define SC_ANSWERED  (INT_MIN + 1)    /* answered (ADDFD_FLAG_SEND) or waiting */

#define SC_BATCH       64             /* notifications served per wake-up per program */
#define SC_CHECK_MS    200            /* how often waiting calls are checked for validity */
#define SC_INOS        4096           /* remembered sockets (direct-mapped by inode) */

/* What we remember of a socket we put in a program (struct sc_ino). */
enum {
	SC_INO_VIRTUAL = 1,   /* ours: a closed one is still a virtual socket, not a kernel one */
	SC_INO_UNTOLD = 2,    /* a non-blocking connect said EINPROGRESS: the next connect()
			       * after it completed returns 0 once, as on Linux */
	SC_INO_TOLD = 4,      /* the program was told it is connected: it may not connect
			       * again after it closed (ECONNABORTED) */
};

enum sc_wait_op { SC_WAIT_CONNECT = 1, SC_WAIT_ACCEPT, SC_WAIT_COUNT };

struct sc_prog;

/* A trapped call answered later: a blocking connect or accept. */
struct sc_wait {
	struct nc_handler h;         /* NC_H_SECCOMP_WAIT */
	struct sc_prog *p;
	uint64_t id;                 /* the notification */
	int op;                      /* enum sc_wait_op */
	int fd;                      /* ours: the new connection's end / the listener's end */
	ino_t ino;                   /* connect: the connection's inode */
	pid_t pid;                   /* the calling thread */
	uint64_t addr, addrlen;      /* accept: where the peer's address goes */
	int flags;                   /* accept4's flags */
	uint64_t deadline;           /* connect: ms (SO_SNDTIMEO), 0 = none */
	int dead;                    /* answered or abandoned: freed after this batch */
	struct sc_wait *next, *prev;
};

/* One listener: a program (and everything it forks) under one filter. */
struct sc_prog {
	struct nc_handler h;         /* NC_H_SECCOMP */
	int fd;                      /* the notification listener */
	pid_t pid;                   /* the launcher's pid, for the log */
	uid_t uid;                   /* whose socket limit the program's sockets count against */
	int uring_logged;
	struct sc_wait *waits;
	struct sc_prog *next, *prev;
};

struct nc_seccomp {
	struct sc_prog *progs;
	int nprogs;
	/* Waits finished during a batch of events: a later event of the same batch may still
	 * point at them, so they are freed only in nc_seccomp_poll(). */
	struct sc_wait *dead;
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;   /* one buffer of the kernel's size */
	struct seccomp_notif_resp *resp;
	uint64_t next_check;         /* ms */
	uint64_t notifs, continued, waited;
	struct sc_ino {              /* the per-socket facts the preload intercept keeps in
				      * its fd table (fdtab.c); a collision forgets one */
		ino_t ino;
		unsigned flags;      /* SC_INO_* */
	} inos[SC_INOS];
};

/* One trapped call being served. */
struct sc_call {
	struct nc_service *svc;
	struct sc_prog *p;
	const struct seccomp_notif *n;
	int fd;                      /* our copy of the program's fd, or -1 */
	ino_t ino;
	struct nc_sock *s;           /* the virtual socket it names, or NULL */
	int closed;                  /* a virtual connection that is over (tombstone) */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned ino_flags(struct nc_service *svc, ino_t ino)
{
	struct sc_ino *e = &svc->seccomp->inos[ino % SC_INOS];

	return e->ino == ino ? e->flags : 0;
}

static void ino_mark(struct nc_service *svc, ino_t ino, unsigned set, unsigned clear)
{
	struct sc_ino *e = &svc->seccomp->inos[ino % SC_INOS];

	if (e->ino != ino) {
		e->ino = ino;
		e->flags = 0;
	}
	e->flags = (e->flags | set) & ~clear;
}

static void fd_mark(struct nc_service *svc, int fd, unsigned set)
{
	struct stat st;

	if (fstat(fd, &st) == 0)
		ino_mark(svc, st.st_ino, set, 0);
}

static struct nc_seccomp *sc_get(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;

	if (sc)
		return sc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sc->sizes) < 0) {
		free(sc);
		return NULL;
	}
	/* The kernel's structs may be larger than ours: buffers of the larger size. */
	if (sc->sizes.seccomp_notif < sizeof(struct seccomp_notif))
		sc->sizes.seccomp_notif = sizeof(struct seccomp_notif);
	if (sc->sizes.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		sc->sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	sc->req = calloc(1, sc->sizes.seccomp_notif);
	sc->resp = calloc(1, sc->sizes.seccomp_notif_resp);
	if (!sc->req || !sc->resp) {
		free(sc->req);
		free(sc->resp);
		free(sc);
		return NULL;
	}
	svc->seccomp = sc;
	return sc;
}

/* ---------------------------------------------------------------------------------------
 * Replies */

/* Answer notification id: val/err (err a negative errno, or 0), or CONTINUE. A call whose
 * thread is gone (ENOENT) needs no answer. */
static void sc_send(struct nc_service *svc, struct sc_prog *p, uint64_t id, int64_t val,
		    int err, int cont)
{
	struct nc_seccomp *sc = svc->seccomp;
	struct seccomp_notif_resp *r = sc->resp;

	memset(r, 0, sc->sizes.seccomp_notif_resp);
	r->id = id;
	if (cont) {
		r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		sc->continued++;
	} else if (err) {
		r->error = err;
	} else {
		r->val = val;
	}
	if (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_SEND, r) < 0 && errno != ENOENT)
		nc_log_ratelimited(NC_LOG_WARN, "seccomp: cannot answer pid %d's call: %s",
				   (int)p->pid, strerror(errno));
}

/* Answer with a handler's result (>= 0, a negative errno, or SC_CONTINUE). */
static void sc_answer(struct nc_service *svc, struct sc_prog *p, uint64_t id, int r)
{
	if (r == SC_ANSWERED)
		return;
	if (r == SC_CONTINUE)
		sc_send(svc, p, id, 0, 0, 1);
	else if (r < 0)
		sc_send(svc, p, id, 0, r, 0);
	else
		sc_send(svc, p, id, r, 0, 0);
}

static int id_valid(struct sc_prog *p, uint64_t id)
{
	return ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---------------------------------------------------------------------------------------
 * The program's memory and fds */

static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	return -errno;
}

static int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec l = { .iov_base = (void *)buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	return -errno;
}

/* A pidfd for the thread that made the call (any thread of the process will do for
 * pidfd_getfd: they share one fd table). -errno on failure. */
static int open_pidfd(pid_t tid)
{
	char path[64], line[128];
	int fd = (int)syscall(SYS_pidfd_open, tid, 0);
	FILE *f;

	if (fd >= 0)
		return fd;
	/* Not a thread-group leader (EINVAL, or ENOENT on recent kernels): a thread pidfd
	 * (Linux 6.9), else the leader's. */
	fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		int tgid;
		if (sscanf(line, "Tgid: %d", &tgid) == 1) {
			fclose(f);
			fd = (int)syscall(SYS_pidfd_open, tgid, 0);
			return fd >= 0 ? fd : -errno;
		}
	}
	fclose(f);
	return -ESRCH;
}

/*
 * get_fd() - copy the calling process's fd `num` into the service. The notification is
 * checked to be still valid after the pidfd is opened, so the pid named the caller.
 * Returns our fd, or -EBADF (no such fd: the kernel's answer), -ENOENT (the call is gone)
 * or another negative errno.
 */
static int get_fd(struct sc_prog *p, const struct seccomp_notif *n, int num)
{
	int pidfd, fd, e;

	if (num < 0)
		return -EBADF;
	pidfd = open_pidfd((pid_t)n->pid);
	if (pidfd < 0)
		return pidfd == -ESRCH ? -ENOENT : pidfd;
	if (!id_valid(p, n->id)) {
		close(pidfd);
		return -ENOENT;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	e = errno;
	close(pidfd);
	if (fd < 0)
		return e == EBADF ? -EBADF : -e;
	return fd;
}

/* Is the program's fd `num` close-on-exec? (Its fdinfo flags carry O_CLOEXEC.) */
static int fd_cloexec(pid_t pid, int num)
{
	char path[64], line[128];
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, num);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(f);
	return (flags & O_CLOEXEC) ? 1 : 0;
}

/* A kernel TCP (type SOCK_STREAM) or UDP (SOCK_DGRAM) socket of AF_INET/AF_INET6: its
 * family, else 0. */
static int inet_kind(int fd, int type)
{
	int v = 0, family;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 || (v != AF_INET && v != AF_INET6))
		return 0;
	family = v;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != type)
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 ||
	    v != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return 0;
	return family;
}

static int is_unix(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v == AF_UNIX;
}

static void route_net(void *ctx, struct nc_route_net *rn)
{
	struct nc_service *svc = ctx;
	uint8_t n6 = 0;

	rn->known = 1;
	rn->ip = svc->cfg.ip.s_addr;
	rn->prefix = svc->cfg.prefix;
	nc_stack_ip6_list(svc, rn->ip6, NC_HELLO_MAX_IP6, &n6);
	rn->n_ip6 = n6;
}

static int route(struct nc_service *svc, int family, const struct sockaddr_storage *ss,
		 socklen_t len, int for_bind)
{
	return nc_route_decide(route_net, svc, family, (const struct sockaddr *)ss, len,
			       for_bind);
}

/* Read a sockaddr argument: 0, or -EINVAL (too long) / -EFAULT. */
static int read_sockaddr(struct sc_call *c, uint64_t addr, uint64_t len,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (len > sizeof(*ss))
		return -EINVAL;
	if (!addr)
		return -EFAULT;
	return mem_read((pid_t)c->n->pid, addr, ss, (size_t)len);
}

/* Give a socket address back the way the kernel does: truncated to the caller's buffer,
 * the full length written to *lenp. 0 or -EFAULT / -EINVAL. */
static int put_sockaddr(pid_t pid, const struct nc_addr *a, uint64_t addr, uint64_t lenp)
{
	struct sockaddr_storage ss;
	uint32_t have;
	socklen_t full;
	int r;

	if (!lenp)
		return -EFAULT;
	r = mem_read(pid, lenp, &have, sizeof(have));
	if (r < 0)
		return r;
	if ((int32_t)have < 0)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	full = nc_addr_to_sockaddr(a, (struct sockaddr *)&ss, sizeof(ss));
	if (addr && have)
		r = mem_write(pid, addr, &ss, have < full ? have : full);
	if (r == 0)
		r = mem_write(pid, lenp, &full, sizeof(uint32_t));
	return r;
}

/*
 * install() - put our socket app_fd in the program in place of its fd (ADDFD with
 * SETFD), keeping what dup2 keeps in preload mode: the fd number, close-on-exec,
 * O_NONBLOCK and the receive/send timeouts. Our app_fd stays ours. 0 or -errno.
 */
static int install(struct sc_call *c, int app_fd)
{
	struct seccomp_notif_addfd a;
	struct timeval tv;
	socklen_t l;
	int fl = fcntl(c->fd, F_GETFL);

	if (fl >= 0)
		fcntl(app_fd, F_SETFL, fl & (O_NONBLOCK | O_ASYNC));
	l = sizeof(tv);
	if (getsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec))
		setsockopt(app_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	l = sizeof(tv);
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec))
		setsockopt(app_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&a, 0, sizeof(a));
	a.id = c->n->id;
	a.flags = SECCOMP_ADDFD_FLAG_SETFD;
	a.srcfd = (uint32_t)app_fd;
	a.newfd = (uint32_t)c->n->data.args[0];
	a.newfd_flags = fd_cloexec((pid_t)c->n->pid, (int)c->n->data.args[0]) ? O_CLOEXEC : 0;
	if (ioctl(c->p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0)
		return -errno;
	fd_mark(c->svc, app_fd, SC_INO_VIRTUAL);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Waiting calls */

static void wait_free(struct nc_service *svc, struct sc_wait *w)
{
	struct sc_prog *p = w->p;

	nc_epoll_del(svc, w->fd);
	close(w->fd);
	w->fd = -1;
	if (w->prev)
		w->prev->next = w->next;
	else
		p->waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->dead = 1;
	w->p = NULL;
	w->next = svc->seccomp->dead;
	svc->seccomp->dead = w;
}

/* Wait for fd (ours, taken over) to report `events`; the call is answered then. */
static int wait_start(struct sc_call *c, int op, int fd, uint32_t events, struct sc_wait **out)
{
	struct sc_wait *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->h.type = NC_H_SECCOMP_WAIT;
	w->p = c->p;
	w->id = c->n->id;
	w->op = op;
	w->fd = fd;
	w->pid = (pid_t)c->n->pid;
	if (nc_epoll_add(c->svc, fd, events, &w->h) < 0) {
		free(w);
		return -ENOMEM;
	}
	w->next = c->p->waits;
	if (w->next)
		w->next->prev = w;
	c->p->waits = w;
	c->svc->seccomp->waited++;
	if (out)
		*out = w;
	return 0;
}

/* The outcome of a connect whose end fd (inode ino) became writable or hung up. */
static int connect_outcome(struct nc_service *svc, int fd, ino_t ino, uint32_t events)
{
	uint32_t l = sizeof(int);
	int err = 0, kerr = 0;
	socklen_t kl = sizeof(kerr);

	if (!(events & (EPOLLERR | EPOLLHUP)))
		return 0;
	nc_sock_getopt(svc, nc_sock_lookup(svc, ino), ino, SOL_SOCKET, SO_ERROR, &err, &l);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);   /* the end's own: cleared */
	return -(err ? err : kerr ? kerr : ECONNREFUSED);
}

/* ---------------------------------------------------------------------------------------
 * The calls */

static int sc_bind(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	struct sockaddr_storage ss;
	struct nc_bind_req q;
	struct nc_addr local;
	int family, r, app = -1;

	if (c->s || c->closed)
		return -EINVAL;   /* bound already */
	if (!(family = inet_kind(c->fd, SOCK_STREAM)))
		return SC_CONTINUE;   /* UDP: not yet served in this mode (docs/differences.md) */
	if (a[2] < sizeof(sa_family_t) || a[2] > sizeof(ss))
		return SC_CONTINUE;   /* the kernel says what is wrong */
	r = read_sockaddr(c, a[1], a[2], &ss);
	if (r < 0)
		return r;
	if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    route(c->svc, family, &ss, (socklen_t)a[2], 1) != NC_ROUTE_VIRTUAL)
		return SC_CONTINUE;
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.addr, (struct sockaddr *)&ss, (socklen_t)a[2]) < 0)
		return -EINVAL;
	q.type = SOCK_STREAM;
	nc_sockopts_read(c->fd, &q.opts, getsockopt);
	r = nc_sock_bind(c->svc, &q, &app, &local);
	if (r < 0)
		return r;
	r = install(c, app);
	close(app);
	return r;
}

static int sc_listen(struct sc_call *c)
{
	struct nc_listen_req q;
	struct nc_addr local;
	struct sockaddr_storage cur, any;
	socklen_t cl = sizeof(cur);
	int family, r, app = -1;

	memset(&q, 0, sizeof(q));
	q.backlog = (int)c->n->data.args[1];
	if (c->s) {
		if (c->s->kind == NC_KIND_UDP)
			return -EOPNOTSUPP;
		if (c->s->kind == NC_KIND_CONN)
			return -EINVAL;
		r = nc_sock_listen(c->svc, c->s, &q, &app, &local);
		if (app >= 0)
			close(app);
		return r < 0 ? r : 0;
	}
	if (c->closed)
		return -EINVAL;
	if (!(family = inet_kind(c->fd, SOCK_STREAM)))
		return SC_CONTINUE;
	/* Bound by the kernel already (loopback, ...): the kernel's. The port is at the same
	 * place in sockaddr_in and sockaddr_in6. */
	if (getsockname(c->fd, (struct sockaddr *)&cur, &cl) == 0 &&
	    ((struct sockaddr_in *)&cur)->sin_port != 0)
		return SC_CONTINUE;
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	if (route(c->svc, family, &any, family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		  sizeof(struct sockaddr_in), 1) != NC_ROUTE_VIRTUAL)
		return SC_CONTINUE;
	q.family = (uint32_t)family;
	nc_sockopts_read(c->fd, &q.opts, getsockopt);
	r = nc_sock_listen(c->svc, NULL, &q, &app, &local);
	if (r < 0)
		return r;
	r = install(c, app);
	close(app);
	return r;
}

static int sc_connect(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	struct sockaddr_storage ss;
	struct nc_connect_req q;
	struct nc_connect_rep rep;
	struct nc_sock *s = c->s;
	struct sc_wait *w;
	struct stat st;
	int family, r, app = -1, fl;

	if (a[2] > sizeof(ss))
		return -EINVAL;
	if (a[2] < sizeof(sa_family_t))
		return s ? -EINVAL : SC_CONTINUE;
	r = read_sockaddr(c, a[1], a[2], &ss);
	if (r < 0)
		return r;
	if (c->closed || (s && s->kind == NC_KIND_CONN && s->state == NC_STATE_CLOSED)) {
		/* As on Linux: the failure first; then a socket whose connect failed may
		 * connect again, as a new connection; one that was connected may not. */
		uint32_t l = sizeof(int);
		int err = 0;

		nc_sock_getopt(c->svc, s, c->ino, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err)
			return -err;
		family = s ? s->family : ss.ss_family;
		if ((ino_flags(c->svc, c->ino) & SC_INO_TOLD) || ss.ss_family != family ||
		    route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return -ECONNABORTED;
		s = NULL;
	} else if (s) {
		if (s->kind == NC_KIND_UDP)
			return -EOPNOTSUPP;   /* not made in this mode yet */
		family = s->family;
		if (s->kind == NC_KIND_CONN && s->state == NC_STATE_ESTABLISHED &&
		    (ino_flags(c->svc, c->ino) & SC_INO_UNTOLD)) {
			/* Linux: the first connect() after a non-blocking one completed
			 * returns 0; only the next says EISCONN. */
			ino_mark(c->svc, c->ino, SC_INO_TOLD, SC_INO_UNTOLD);
			return 0;
		}
		if (ss.ss_family != family)
			return ss.ss_family == AF_UNSPEC ? -EOPNOTSUPP : -EAFNOSUPPORT;
		if (s->kind == NC_KIND_BOUND &&
		    route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return -ENETUNREACH;   /* bound virtual, connecting elsewhere */
	} else {
		family = inet_kind(c->fd, SOCK_STREAM);
		if (!family) {
			/* UDP is not served in this mode yet: a datagram socket may not reach
			 * the kernel's network for a virtual address either. */
			int uf = inet_kind(c->fd, SOCK_DGRAM);
			if (uf && route(c->svc, uf, &ss, (socklen_t)a[2], 0) == NC_ROUTE_VIRTUAL)
				return -ENETUNREACH;
			return SC_CONTINUE;
		}
		if (route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return SC_CONTINUE;
	}
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.peer, (struct sockaddr *)&ss, (socklen_t)a[2]) < 0)
		return -EINVAL;
	if (!s && !c->closed && !c->s)
		nc_sockopts_read(c->fd, &q.opts, getsockopt);
	fl = fcntl(c->fd, F_GETFL);
	r = nc_sock_connect(c->svc, s, &q, &app, &rep);
	if (r < 0)
		return r;
	r = install(c, app);
	if (r < 0 || (fl >= 0 && (fl & O_NONBLOCK))) {
		if (r == 0)
			fd_mark(c->svc, app, SC_INO_UNTOLD);
		close(app);
		return r < 0 ? r : -EINPROGRESS;
	}
	/* Blocking: answered when the handshake resolves (connect_outcome), or with
	 * EINPROGRESS when SO_SNDTIMEO runs out first, as on Linux. */
	if (fstat(app, &st) < 0 || (r = wait_start(c, SC_WAIT_CONNECT, app, EPOLLOUT, &w)) < 0) {
		close(app);
		return r < 0 ? r : -EIO;
	}
	w->ino = st.st_ino;
	{
		struct timeval tv;
		socklen_t tl = sizeof(tv);

		if (getsockopt(app, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 &&
		    (tv.tv_sec || tv.tv_usec))
			w->deadline = now_ms() + (uint64_t)tv.tv_sec * 1000 +
				      (uint64_t)(tv.tv_usec + 999) / 1000;
	}
	return SC_ANSWERED;
}

/*
 * accept_try() - take one connection from a virtual listener's end (ours, fd) for the
 * call id of thread pid: the peer's address to the program, the new fd installed and the
 * call answered with it (ADDFD_FLAG_SEND). Returns SC_ANSWERED, -EAGAIN when nothing is
 * queued, or another negative errno to answer with.
 */
static int accept_try(struct nc_service *svc, struct sc_prog *p, uint64_t id, pid_t pid,
		      int fd, uint64_t addr, uint64_t addrlen, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct nc_accept_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct seccomp_notif_addfd af;
	struct msghdr msg;
	struct cmsghdr *cm;
	int nfd = -1, extra = 0, r;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : errno == ECONNRESET ? -ECONNABORTED : -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfd < 0)
				nfd = f;
			else {
				close(f);
				extra = 1;
			}
		}
	}
	if (n == 0 && nfd < 0)
		return -EINVAL;   /* shut down (the program's shutdown, or our end closed) */
	if ((size_t)n != sizeof(m) || m.magic != NC_ACCEPT_MAGIC || nfd < 0 || extra ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (nfd >= 0)
			close(nfd);
		return -ECONNABORTED;
	}
	if (addr || addrlen) {
		r = put_sockaddr(pid, &m.peer, addr, addrlen);
		if (r < 0) {
			close(nfd);
			return r;
		}
	}
	if (flags & SOCK_NONBLOCK)
		fcntl(nfd, F_SETFL, O_NONBLOCK);
	fd_mark(svc, nfd, SC_INO_VIRTUAL | SC_INO_TOLD);
	memset(&af, 0, sizeof(af));
	af.id = id;
	af.flags = SECCOMP_ADDFD_FLAG_SEND;
	af.srcfd = (uint32_t)nfd;
	af.newfd_flags = (flags & SOCK_CLOEXEC) ? O_CLOEXEC : 0;
	r = ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &af);
	if (r < 0) {
		r = -errno;
		close(nfd);
		if (r == -ENOENT)
			nc_log_ratelimited(NC_LOG_WARN, "seccomp: pid %d left accept() (a signal) "
					   "as a connection came: it is closed", (int)pid);
		return r == -ENOENT ? SC_ANSWERED : r;
	}
	close(nfd);
	return SC_ANSWERED;
}

static int sc_accept(struct sc_call *c, int flags)
{
	const __u64 *a = c->n->data.args;
	struct sc_wait *w;
	int r, fl;

	if (!c->s)
		return c->closed ? -EINVAL : SC_CONTINUE;
	if (c->s->kind == NC_KIND_UDP)
		return -EOPNOTSUPP;
	if (c->s->kind != NC_KIND_LISTENER)
		return -EINVAL;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	r = accept_try(c->svc, c->p, c->n->id, (pid_t)c->n->pid, c->fd, a[1], a[2], flags);
	fl = fcntl(c->fd, F_GETFL);
	if (r != -EAGAIN || (fl >= 0 && (fl & O_NONBLOCK)))
		return r;
	/* Blocking: answered when a connection arrives (accept_ready). */
	r = wait_start(c, SC_WAIT_ACCEPT, c->fd, EPOLLIN, &w);
	if (r < 0)
		return r;
	c->fd = -1;   /* the wait owns it */
	w->addr = a[1];
	w->addrlen = a[2];
	w->flags = flags;
	return SC_ANSWERED;
}

static int sc_getname(struct sc_call *c, int peer)
{
	const __u64 *a = c->n->data.args;
	struct nc_sock *s = c->s;

	if (!s)
		return c->closed && peer ? -ENOTCONN : SC_CONTINUE;
	if (!peer)
		return put_sockaddr((pid_t)c->n->pid, &s->local, a[1], a[2]);
	if (s->kind == NC_KIND_UDP && s->peer.family != AF_UNSPEC)
		return put_sockaddr((pid_t)c->n->pid, &s->peer, a[1], a[2]);
	if (s->kind != NC_KIND_CONN || s->state != NC_STATE_ESTABLISHED)
		return -ENOTCONN;
	return put_sockaddr((pid_t)c->n->pid, &s->peer, a[1], a[2]);
}

static int sc_getsockopt(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	int level = (int)a[1], name = (int)a[2], v = -1, r;
	pid_t pid = (pid_t)c->n->pid;
	uint8_t val[NC_SOCKOPT_MAX];
	uint32_t have, len;

	if ((!c->s && !c->closed) || nc_sockopt_native(level, name))
		return SC_CONTINUE;
	if (!a[4])
		return -EFAULT;
	r = mem_read(pid, a[4], &have, sizeof(have));
	if (r < 0)
		return r;
	if ((int32_t)have < 0)
		return -EINVAL;
	if (level == SOL_SOCKET) {
		int udp = c->s && c->s->kind == NC_KIND_UDP;
		switch (name) {
		case SO_TYPE: v = udp ? SOCK_DGRAM : SOCK_STREAM; break;
		case SO_DOMAIN: v = c->s && c->s->family == AF_INET6 ? AF_INET6 : AF_INET; break;
		case SO_PROTOCOL: v = udp ? IPPROTO_UDP : IPPROTO_TCP; break;
		case SO_ACCEPTCONN: v = c->s && c->s->kind == NC_KIND_LISTENER; break;
		}
	}
	if (v >= 0) {
		len = have < sizeof(v) ? have : sizeof(v);
		memcpy(val, &v, sizeof(v));
	} else {
		len = have > NC_SOCKOPT_MAX ? NC_SOCKOPT_MAX : have;
		memset(val, 0, sizeof(val));
		r = nc_sock_getopt(c->svc, c->s, c->ino, level, name, val, &len);
		if (r < 0)
			return r;
		if (level == SOL_SOCKET && name == SO_ERROR) {
			int kerr = 0;
			socklen_t kl = sizeof(kerr);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);   /* clear the end's */
		}
		if (len > have)
			len = have;
	}
	if (len && !a[3])
		return -EFAULT;
	r = mem_write(pid, a[3], val, len);
	if (r == 0)
		r = mem_write(pid, a[4], &len, sizeof(len));
	return r;
}

static int sc_setsockopt(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	int level = (int)a[1], name = (int)a[2], r;
	uint8_t val[NC_SOCKOPT_MAX];
	uint32_t len = (uint32_t)a[4];

	if (!c->s)
		return c->closed ? 0 : SC_CONTINUE;   /* a closed socket takes and forgets */
	if (nc_sockopt_native(level, name))
		return SC_CONTINUE;
	if (len > NC_SOCKOPT_MAX)
		return -EINVAL;
	if (len && !a[3])
		return -EFAULT;
	r = mem_read((pid_t)c->n->pid, a[3], val, len);
	if (r < 0)
		return r;
	return nc_sock_setopt(c->svc, c->s, level, name, val, len);
}

static int sc_shutdown(struct sc_call *c)
{
	int how = (int)c->n->data.args[1];
	struct nc_sock *s = c->s;

	if (!s)
		return SC_CONTINUE;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->kind == NC_KIND_LISTENER) {
		/* As in preload mode: SHUT_RD stops listening; accept()s waiting see the end
		 * of the listener's pair and fail with EINVAL. */
		if (how != SHUT_WR)
			shutdown(c->fd, SHUT_RDWR);
		return 0;
	}
	if (s->kind == NC_KIND_UDP)
		return s->peer.family == AF_UNSPEC ? -ENOTCONN : 0;
	if (s->kind != NC_KIND_CONN || s->state == NC_STATE_CONNECTING)
		return -ENOTCONN;
	return SC_CONTINUE;   /* the socketpair carries it: SHUT_WR becomes a FIN */
}

/* Serve one notification. */
static void serve(struct nc_service *svc, struct sc_prog *p, const struct seccomp_notif *n)
{
	struct sc_call c = { .svc = svc, .p = p, .n = n, .fd = -1 };
	struct stat st;
	int r, nr = n->data.nr;

	if (n->data.arch != AUDIT_ARCH_X86_64) {
		sc_send(svc, p, n->id, 0, -ENOSYS, 0);
		return;
	}
	if (nr == SYS_io_uring_setup) {
		if (!p->uring_logged)
			nc_warn("seccomp: pid %d: io_uring_setup fails with ENOSYS in seccomp mode "
				"(its socket calls would escape the filter)", (int)n->pid);
		p->uring_logged = 1;
		sc_send(svc, p, n->id, 0, -ENOSYS, 0);
		return;
	}
	r = get_fd(p, n, (int)n->data.args[0]);
	if (r == -ENOENT)
		return;   /* the caller is gone */
	if (r < 0) {
		/* Fail closed: a call we cannot inspect must not go to the kernel. */
		if (r != -EBADF)
			nc_log_ratelimited(NC_LOG_WARN, "seccomp: cannot read pid %d's fd %d (%s): "
					   "the call fails (the service needs ptrace rights over "
					   "the program: same user, Yama ptrace_scope 0)", (int)n->pid,
					   (int)n->data.args[0], strerror(-r));
		sc_answer(svc, p, n->id, r);
		return;
	}
	c.fd = r;
	if (fstat(c.fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(c.fd);
		sc_answer(svc, p, n->id, SC_CONTINUE);   /* the kernel says ENOTSOCK */
		return;
	}
	c.ino = st.st_ino;
	c.s = nc_sock_lookup(svc, c.ino);
	/* A virtual socket that is over: its end is still the program's. Inode numbers are
	 * reused, so a remembered one counts only for a Unix socket (ours are). */
	c.closed = !c.s && (nc_tombstone_get(svc, c.ino, 0) != 0 ||
			    ((ino_flags(svc, c.ino) & SC_INO_VIRTUAL) && is_unix(c.fd)));
	svc->cur_user = nc_user_get(svc, p->uid);
	switch (nr) {
	case SYS_bind: r = sc_bind(&c); break;
	case SYS_listen: r = sc_listen(&c); break;
	case SYS_connect: r = sc_connect(&c); break;
	case SYS_accept: r = sc_accept(&c, 0); break;
	case SYS_accept4: r = sc_accept(&c, (int)n->data.args[3]); break;
	case SYS_getsockname: r = sc_getname(&c, 0); break;
	case SYS_getpeername: r = sc_getname(&c, 1); break;
	case SYS_getsockopt: r = sc_getsockopt(&c); break;
	case SYS_setsockopt: r = sc_setsockopt(&c); break;
	case SYS_shutdown: r = sc_shutdown(&c); break;
	default: r = SC_CONTINUE; break;
	}
	svc->cur_user = NULL;
	nc_debug("seccomp: pid %d: call %d on fd %d (%s): %s", (int)n->pid, nr,
		 (int)n->data.args[0], c.s ? "virtual" : c.closed ? "closed" : "kernel",
		 r == SC_CONTINUE ? "continue" : r == SC_ANSWERED ? "answered or waiting" :
		 r < 0 ? strerror(-r) : "ok");
	if (c.fd >= 0)
		close(c.fd);
	if (r == -ENOENT && !id_valid(p, n->id))
		return;   /* ADDFD found the call gone */
	sc_answer(svc, p, n->id, r);
}

/* ---------------------------------------------------------------------------------------
 * Programs */

static void prog_free(struct nc_service *svc, struct sc_prog *p)
{
	struct nc_seccomp *sc = svc->seccomp;

	while (p->waits)
		wait_free(svc, p->waits);
	nc_epoll_del(svc, p->fd);
	close(p->fd);
	if (p->prev)
		p->prev->next = p->next;
	else
		sc->progs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	sc->nprogs--;
	nc_debug("seccomp: program of pid %d is gone", (int)p->pid);
	free(p);
}

int nc_seccomp_adopt(struct nc_service *svc, int fd, pid_t pid, uid_t uid)
{
	struct nc_seccomp *sc = sc_get(svc);
	uint64_t id0 = 0;
	struct sc_prog *p;
	int nfd;

	if (!sc)
		return -ENOSYS;
	if (sc->nprogs >= NC_MAX_CLIENTS)
		return -EMFILE;
	/* A seccomp listener answers ID_VALID for an unknown id with ENOENT; anything else
	 * (a socket, a pipe) is not one. */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id0) == 0 || errno != ENOENT)
		return -EBADF;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(nfd);
		return -ENOMEM;
	}
	p->h.type = NC_H_SECCOMP;
	p->fd = nfd;
	p->pid = pid;
	p->uid = uid;
	if (nc_epoll_add(svc, nfd, EPOLLIN, &p->h) < 0) {
		close(nfd);
		free(p);
		return -ENOMEM;
	}
	p->next = sc->progs;
	if (p->next)
		p->next->prev = p;
	sc->progs = p;
	sc->nprogs++;
	nc_info("seccomp: serving the program of pid %d (uid %d)", (int)pid, (int)uid);
	return 0;
}

static void prog_event(struct nc_service *svc, struct sc_prog *p, uint32_t events)
{
	struct nc_seccomp *sc = svc->seccomp;

	for (int i = 0; i < SC_BATCH && (events & EPOLLIN); i++) {
		struct pollfd pf = { .fd = p->fd, .events = POLLIN };

		/* RECV blocks when nothing waits: ask first (the first time epoll said so). */
		if (i > 0 && (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN)))
			break;
		memset(sc->req, 0, sc->sizes.seccomp_notif);
		if (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_RECV, sc->req) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue;   /* the caller was killed or interrupted meanwhile */
			nc_warn("seccomp: receiving pid %d's call: %s", (int)p->pid, strerror(errno));
			break;
		}
		sc->notifs++;
		serve(svc, p, sc->req);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		struct pollfd pf = { .fd = p->fd, .events = POLLIN };
		if (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN))
			prog_free(svc, p);   /* every process under the filter has exited */
	}
}

static void wait_event(struct nc_service *svc, struct sc_wait *w, uint32_t events)
{
	struct sc_prog *p = w->p;
	int r;

	if (w->dead)
		return;   /* finished earlier in this batch */
	if (w->op == SC_WAIT_CONNECT) {
		r = connect_outcome(svc, w->fd, w->ino, events);
		if (r == 0)
			ino_mark(svc, w->ino, SC_INO_TOLD, SC_INO_UNTOLD);
		sc_answer(svc, p, w->id, r);
		wait_free(svc, w);
		return;
	}
	r = accept_try(svc, p, w->id, w->pid, w->fd, w->addr, w->addrlen, w->flags);
	if (r == -EAGAIN) {
		if (!id_valid(p, w->id))
			wait_free(svc, w);   /* interrupted; another thread took the connection */
		return;
	}
	sc_answer(svc, p, w->id, r);
	wait_free(svc, w);
}

void nc_seccomp_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	if (h->type == NC_H_SECCOMP)
		prog_event(svc, (struct sc_prog *)h, events);
	else
		wait_event(svc, (struct sc_wait *)h, events);
}

void nc_seccomp_poll(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;
	uint64_t now;

	int check;

	if (!sc)
		return;
	while (sc->dead) {
		struct sc_wait *w = sc->dead;
		sc->dead = w->next;
		free(w);
	}
	if (!sc->progs)
		return;
	now = now_ms();
	check = now >= sc->next_check;
	if (check)
		sc->next_check = now + SC_CHECK_MS;
	for (struct sc_prog *p = sc->progs; p; p = p->next) {
		struct sc_wait *w = p->waits, *next;
		for (; w; w = next) {
			next = w->next;
			if (w->deadline && now >= w->deadline) {
				/* SO_SNDTIMEO ran out: the connect goes on, the call ends. */
				ino_mark(svc, w->ino, SC_INO_UNTOLD, 0);
				sc_send(svc, p, w->id, 0, -EINPROGRESS, 0);
				wait_free(svc, w);
			} else if (check && !id_valid(p, w->id)) {
				wait_free(svc, w);   /* a signal interrupted the call */
			}
		}
	}
}

int nc_seccomp_timeout_ms(struct nc_service *svc, int timeout)
{
	struct nc_seccomp *sc = svc->seccomp;
	uint64_t now;

	if (!sc)
		return timeout;
	now = now_ms();
	for (struct sc_prog *p = sc->progs; p; p = p->next) {
		for (struct sc_wait *w = p->waits; w; w = w->next) {
			int t = SC_CHECK_MS;
			if (w->deadline)
				t = w->deadline > now ? (int)(w->deadline - now) : 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
	}
	return timeout;
}

size_t nc_seccomp_status(struct nc_service *svc, char *buf, size_t len)
{
	struct nc_seccomp *sc = svc->seccomp;
	int n;

	if (len == 0)
		return 0;
	if (!sc)
		n = snprintf(buf, len, "seccomp: 0 programs\n");
	else
		n = snprintf(buf, len, "seccomp: %d programs, %llu calls trapped, %llu continued, "
			     "%llu waited\n", sc->nprogs, (unsigned long long)sc->notifs,
			     (unsigned long long)sc->continued, (unsigned long long)sc->waited);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void nc_seccomp_close_all(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;

	if (!sc)
		return;
	while (sc->progs)
		prog_free(svc, sc->progs);
	nc_seccomp_poll(svc);   /* frees the finished waits */
	free(sc->req);
	free(sc->resp);
	free(sc);
	svc->seccomp = NULL;
}
