/*
 * seccomp_calls.c — seccomp mode's handlers, one per trapped socket control call (bind,
 * listen, connect, accept/accept4, getsockname/getpeername, getsockopt/setsockopt,
 * shutdown). A UDP socket that binds or connects to the virtual network gets a raw pair
 * (payloads only: service/udp.c); its datagram calls with addresses are seccomp_data.c's.
 *
 * Each gets the call being served (struct sc_call: the program's fd copied into the
 * service, the virtual socket it names if any) and answers as the kernel would: a result,
 * a negative errno, SC_CONTINUE (not ours: the kernel carries it out) or SC_ANSWERED
 * (answered already with ADDFD_FLAG_SEND, or left waiting: a blocking connect or accept,
 * see seccomp.c). The decisions are the intercept's (route.c, sockopts.c) and the work is
 * the service's own handlers' (tcp_listen.c, tcp_conn.c, sockopt.c): only the way
 * arguments and fds reach the program differs (process_vm_readv/writev, ADDFD).
 */
#include "seccomp.h"

/* A kernel TCP (type SOCK_STREAM) or UDP (SOCK_DGRAM) socket of AF_INET/AF_INET6: its
 * family, else 0. */
int sc_inet_kind(int fd, int type)
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

int sc_is_unix(int fd)
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

int sc_route(struct nc_service *svc, int family, const struct sockaddr_storage *ss,
	     socklen_t len, int for_bind)
{
	return nc_route_decide(route_net, svc, family, (const struct sockaddr *)ss, len,
			       for_bind);
}

/* Read a sockaddr argument: 0, or -EINVAL (too long) / -EFAULT. */
int sc_read_sockaddr(struct sc_call *c, uint64_t addr, uint64_t len,
		     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (len > sizeof(*ss))
		return -EINVAL;
	if (!addr)
		return -EFAULT;
	return sc_mem_read((pid_t)c->n->pid, addr, ss, (size_t)len);
}

/* Give a socket address back the way the kernel does: truncated to the caller's buffer,
 * the full length written to *lenp. 0 or -EFAULT / -EINVAL. */
int sc_put_sockaddr(pid_t pid, const struct nc_addr *a, uint64_t addr, uint64_t lenp)
{
	struct sockaddr_storage ss;
	uint32_t have;
	socklen_t full;
	int r;

	if (!lenp)
		return -EFAULT;
	r = sc_mem_read(pid, lenp, &have, sizeof(have));
	if (r < 0)
		return r;
	if ((int32_t)have < 0)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	full = nc_addr_to_sockaddr(a, (struct sockaddr *)&ss, sizeof(ss));
	if (addr && have)
		r = sc_mem_write(pid, addr, &ss, have < full ? have : full);
	if (r == 0)
		r = sc_mem_write(pid, lenp, &full, sizeof(uint32_t));
	return r;
}

/*
 * install_fd() - put our socket app_fd in the program in place of its fd (ADDFD with
 * SETFD), keeping what dup2 keeps in preload mode: the fd number, close-on-exec,
 * O_NONBLOCK and the receive/send timeouts. Our app_fd stays ours. 0 or -errno.
 * sc_install() does so for a virtual socket, and remembers it is ours.
 */
static int install_fd(struct sc_call *c, int app_fd)
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
	a.newfd_flags = sc_fd_cloexec((pid_t)c->n->pid, (int)c->n->data.args[0]) ? O_CLOEXEC : 0;
	if (ioctl(c->p->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0)
		return -errno;
	return 0;
}

int sc_install(struct sc_call *c, int app_fd)
{
	int r = install_fd(c, app_fd);

	if (r == 0)
		sc_fd_mark(c->svc, app_fd, SC_INO_VIRTUAL);
	return r;
}

/* Wait for the connect on app (ours, taken over) to resolve, bounded by the program's
 * SO_SNDTIMEO as on Linux; the call is answered then (sc_connect_outcome). */
static int wait_connect(struct sc_call *c, int app, ino_t ino)
{
	struct sc_wait *w;
	struct timeval tv;
	socklen_t tl = sizeof(tv);
	int r = sc_wait_start(c, SC_WAIT_CONNECT, app, EPOLLOUT, &w);

	if (r < 0)
		return r;
	w->ino = ino;
	if (getsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 && (tv.tv_sec || tv.tv_usec))
		w->deadline = sc_now_ms() + (uint64_t)tv.tv_sec * 1000 +
			      (uint64_t)(tv.tv_usec + 999) / 1000;
	return SC_ANSWERED;
}

/*
 * sc_outbound() - the connect of socket c->fd (of family; type SOCK_STREAM or SOCK_DGRAM)
 * to ss, outside the virtual network, under --outbound (see outbound.c): denied,
 * ECONNREFUSED (TCP) or EPERM (UDP); allowed, a kernel socket of the service's namespace,
 * connecting (UDP: connected), takes the fd's place (and stays a kernel socket: every
 * later call on it goes to the kernel). c->fd is the program's kernel socket, or (UDP) a
 * virtual one bound to the wildcard (c->s), which preload mode too gives up for it.
 * SC_CONTINUE when it is not the service's: no --outbound, loopback the policy does not
 * name, a kernel socket already connecting or connected (the kernel says
 * EALREADY/EISCONN) or bound by the kernel.
 */
static int sc_outbound(struct sc_call *c, int family, int type,
		       const struct sockaddr_storage *ss, socklen_t len)
{
	struct nc_outbound_req q;
	struct nc_outbound_rep rep;
	struct tcp_info ti;
	struct stat st;
	socklen_t l = sizeof(ti);
	int r, app = -1, fl;

	if (!c->svc->cfg.outbound.n || ss->ss_family != family)
		return SC_CONTINUE;
	memset(&ti, 0, sizeof(ti));
	if (type == SOCK_STREAM &&
	    (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 || ti.tcpi_state != TCP_CLOSE))
		return SC_CONTINUE;
	if (!c->s && sc_kernel_bound(c->fd))
		return SC_CONTINUE;
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.peer, (const struct sockaddr *)ss, len) < 0)
		return SC_CONTINUE;
	q.family = (uint32_t)family;
	q.type = type;
	if (c->s) {
		q.opts.flags = c->s->opt.flags & NC_OPT_ALL;
	} else {
		nc_sockopts_read(c->fd, &q.opts, getsockopt);
		nc_outbound_bufs(c->fd, family, &q.sndbuf, &q.rcvbuf);
	}
	r = nc_outbound_connect(c->svc, &q, (pid_t)c->n->pid, &app, &rep);
	if (r == -ENOENT)
		return SC_CONTINUE;
	if (r < 0)
		return r;
	fl = fcntl(c->fd, F_GETFL);
	r = install_fd(c, app);
	if (r < 0 || rep.connected || (fl >= 0 && (fl & O_NONBLOCK)) || fstat(app, &st) < 0) {
		close(app);
		return r < 0 ? r : rep.connected ? 0 : -EINPROGRESS;
	}
	r = wait_connect(c, app, st.st_ino);
	if (r != SC_ANSWERED)
		close(app);   /* else the wait owns it (SC_ANSWERED is negative too) */
	return r;
}

/* ---------------------------------------------------------------------------------------
 * The calls */

/* Has the kernel bound this (kernel) socket already? Then it stays the kernel's. The port
 * is at the same place in sockaddr_in and sockaddr_in6. */
int sc_kernel_bound(int fd)
{
	struct sockaddr_storage cur;
	socklen_t cl = sizeof(cur);

	return getsockname(fd, (struct sockaddr *)&cur, &cl) == 0 &&
	       ((struct sockaddr_in *)&cur)->sin_port != 0;
}

int sc_bind(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	struct sockaddr_storage ss;
	struct nc_bind_req q;
	struct nc_addr local;
	int family, type = SOCK_STREAM, r, app = -1;

	if (c->s || c->closed)
		return -EINVAL;   /* bound already */
	if (!(family = sc_inet_kind(c->fd, SOCK_STREAM)) &&
	    (family = sc_inet_kind(c->fd, SOCK_DGRAM)))
		type = SOCK_DGRAM;
	if (!family)
		return SC_CONTINUE;
	if (a[2] < sizeof(sa_family_t) || a[2] > sizeof(ss))
		return SC_CONTINUE;   /* the kernel says what is wrong */
	r = sc_read_sockaddr(c, a[1], a[2], &ss);
	if (r < 0)
		return r;
	if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    sc_route(c->svc, family, &ss, (socklen_t)a[2], 1) != NC_ROUTE_VIRTUAL ||
	    sc_kernel_bound(c->fd))
		return SC_CONTINUE;
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.addr, (struct sockaddr *)&ss, (socklen_t)a[2]) < 0)
		return -EINVAL;
	q.type = type;
	nc_sockopts_read(c->fd, &q.opts, getsockopt);
	if (type == SOCK_DGRAM)
		r = nc_udp_bind(c->svc, &q, 1, &app, &local);   /* a raw pair: seccomp_data.c */
	else
		r = nc_sock_bind(c->svc, &q, &app, &local);
	if (r < 0)
		return r;
	r = sc_install(c, app);
	close(app);
	return r;
}

/*
 * sc_udp_bind_any() - make the program's kernel UDP socket of `family` virtual: bound to
 * the wildcard, port 0 (as the kernel binds implicitly), with a raw pair installed over
 * its fd. c->s is the new socket. 0 or a negative errno.
 */
int sc_udp_bind_any(struct sc_call *c, int family)
{
	struct nc_bind_req q;
	struct nc_addr local;
	struct stat st;
	int r, app = -1;

	memset(&q, 0, sizeof(q));
	q.addr.family = (uint16_t)family;
	q.type = SOCK_DGRAM;
	nc_sockopts_read(c->fd, &q.opts, getsockopt);
	r = nc_udp_bind(c->svc, &q, 1, &app, &local);
	if (r < 0)
		return r;
	if (fstat(app, &st) < 0 || !(c->s = nc_sock_lookup(c->svc, st.st_ino))) {
		close(app);
		return -EIO;
	}
	r = sc_install(c, app);
	close(app);
	if (r < 0)
		c->s = NULL;   /* our end sees the pair closed and forgets the socket */
	else
		c->ino = st.st_ino;
	return r;
}

/* connect() of a UDP socket (c->s: a virtual one, or NULL: the kernel's). It sends
 * nothing; the service records the peer (where native sends go, and the only source
 * received). A kernel socket connecting to the virtual network is bound to the wildcard
 * first, as in preload mode; AF_UNSPEC dissolves the association. */
static int sc_udp_connect(struct sc_call *c, int family, const struct sockaddr_storage *ss,
		       socklen_t len)
{
	struct nc_connect_req q;
	struct nc_connect_rep rep;
	int r;

	memset(&q, 0, sizeof(q));
	if (c->s && !c->s->udp.raw)
		return -EOPNOTSUPP;   /* preload mode's (framed): its intercept connects it */
	if (ss->ss_family == AF_UNSPEC) {
		if (!c->s)
			return SC_CONTINUE;
	} else if (sc_route(c->svc, family, ss, len, 0) != NC_ROUTE_VIRTUAL) {
		/* Outside: --outbound's connected kernel socket, for a kernel socket or a
		 * virtual one bound to the wildcard. Otherwise, bound virtual connecting
		 * elsewhere: preload mode moves a wildcard one back to the kernel; here it
		 * fails (docs/differences.md). */
		static const uint8_t zero[16];
		if (!c->s || !memcmp(c->s->local.addr, zero, sizeof(zero))) {
			r = sc_outbound(c, family, SOCK_DGRAM, ss, len);
			if (r != SC_CONTINUE)
				return r;
		}
		return c->s ? -ENETUNREACH : SC_CONTINUE;
	} else if (nc_addr_from_sockaddr(&q.peer, (const struct sockaddr *)ss, len) < 0) {
		return -EINVAL;
	}
	if (!c->s && (r = sc_udp_bind_any(c, family)) < 0)
		return r;
	nc_udp_settle(c->svc, c->s);
	return nc_udp_connect(c->svc, c->s, &q, &rep);
}

int sc_listen(struct sc_call *c)
{
	struct nc_listen_req q;
	struct nc_addr local;
	struct sockaddr_storage any;
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
	if (!(family = sc_inet_kind(c->fd, SOCK_STREAM)))
		return SC_CONTINUE;
	/* Bound by the kernel already (loopback, ...): the kernel's. */
	if (sc_kernel_bound(c->fd))
		return SC_CONTINUE;
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	if (sc_route(c->svc, family, &any, family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		  sizeof(struct sockaddr_in), 1) != NC_ROUTE_VIRTUAL)
		return SC_CONTINUE;
	q.family = (uint32_t)family;
	nc_sockopts_read(c->fd, &q.opts, getsockopt);
	r = nc_sock_listen(c->svc, NULL, &q, &app, &local);
	if (r < 0)
		return r;
	r = sc_install(c, app);
	close(app);
	return r;
}

int sc_connect(struct sc_call *c)
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
	r = sc_read_sockaddr(c, a[1], a[2], &ss);
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
		if ((sc_ino_flags(c->svc, c->ino) & SC_INO_TOLD) || ss.ss_family != family ||
		    sc_route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return -ECONNABORTED;
		s = NULL;
	} else if (s) {
		if (s->kind == NC_KIND_UDP)
			return sc_udp_connect(c, s->family, &ss, (socklen_t)a[2]);
		family = s->family;
		if (s->kind == NC_KIND_CONN && s->state == NC_STATE_ESTABLISHED &&
		    (sc_ino_flags(c->svc, c->ino) & SC_INO_UNTOLD)) {
			/* Linux: the first connect() after a non-blocking one completed
			 * returns 0; only the next says EISCONN. */
			sc_ino_mark(c->svc, c->ino, SC_INO_TOLD, SC_INO_UNTOLD);
			return 0;
		}
		if (ss.ss_family != family)
			return ss.ss_family == AF_UNSPEC ? -EOPNOTSUPP : -EAFNOSUPPORT;
		if (s->kind == NC_KIND_BOUND &&
		    sc_route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return -ENETUNREACH;   /* bound virtual, connecting elsewhere */
	} else {
		family = sc_inet_kind(c->fd, SOCK_STREAM);
		if (!family) {
			int uf = sc_inet_kind(c->fd, SOCK_DGRAM);
			return uf ? sc_udp_connect(c, uf, &ss, (socklen_t)a[2]) : SC_CONTINUE;
		}
		if (sc_route(c->svc, family, &ss, (socklen_t)a[2], 0) != NC_ROUTE_VIRTUAL)
			return sc_outbound(c, family, SOCK_STREAM, &ss, (socklen_t)a[2]);
	}
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.peer, (struct sockaddr *)&ss, (socklen_t)a[2]) < 0)
		return -EINVAL;
	fl = fcntl(c->fd, F_GETFL);
	if (s && s->kind == NC_KIND_CONN && s->state == NC_STATE_CONNECTING &&
	    fl >= 0 && !(fl & O_NONBLOCK)) {
		/* A blocking connect() while the handshake is under way: a call restarted
		 * after a signal (SA_RESTART), or made again after EINTR. Linux waits for
		 * the outcome (EALREADY is for non-blocking sockets only): so do we, on the
		 * program's end (c->fd, ours now), as a first blocking connect does. */
		r = sc_wait_start(c, SC_WAIT_CONNECT, c->fd, EPOLLOUT, &w);
		if (r < 0)
			return r;
		c->fd = -1;   /* the wait owns it */
		w->ino = c->ino;
		goto sndtimeo;
	}
	if (!s && !c->closed && !c->s)
		nc_sockopts_read(c->fd, &q.opts, getsockopt);
	r = nc_sock_connect(c->svc, s, &q, &app, &rep);
	if (r < 0)
		return r;
	r = sc_install(c, app);
	if (r < 0 || (fl >= 0 && (fl & O_NONBLOCK))) {
		if (r == 0)
			sc_fd_mark(c->svc, app, SC_INO_UNTOLD);
		close(app);
		return r < 0 ? r : -EINPROGRESS;
	}
	/* Blocking: answered when the handshake resolves (sc_connect_outcome), or with
	 * EINPROGRESS when SO_SNDTIMEO runs out first, as on Linux. */
	if (fstat(app, &st) < 0 || (r = sc_wait_start(c, SC_WAIT_CONNECT, app, EPOLLOUT, &w)) < 0) {
		close(app);
		return r < 0 ? r : -EIO;
	}
	w->ino = st.st_ino;
sndtimeo:
	{
		struct timeval tv;
		socklen_t tl = sizeof(tv);

		if (getsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 &&
		    (tv.tv_sec || tv.tv_usec))
			w->deadline = sc_now_ms() + (uint64_t)tv.tv_sec * 1000 +
				      (uint64_t)(tv.tv_usec + 999) / 1000;
	}
	return SC_ANSWERED;
}

/*
 * sc_accept_try() - take one connection from a virtual listener's end (ours, fd) for the
 * call id of thread pid: the peer's address to the program, the new fd installed and the
 * call answered with it (ADDFD_FLAG_SEND). Returns SC_ANSWERED, -EAGAIN when nothing is
 * queued, or another negative errno to answer with.
 */
int sc_accept_try(struct nc_service *svc, struct sc_prog *p, uint64_t id, pid_t pid,
		      int fd, uint64_t addr, uint64_t addrlen, int flags)
{
	struct nc_accept_msg m;
	struct seccomp_notif_addfd af;
	int nfd = -1, r;

	r = nc_accept_recv(fd, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, &m, &nfd);
	if (r == -ECONNRESET || r == -EPROTO)
		return -ECONNABORTED;
	if (r < 0)
		return r;
	if (r == 0)
		return -EINVAL;   /* shut down (the program's shutdown, or our end closed) */
	if (addr || addrlen) {
		r = sc_put_sockaddr(pid, &m.peer, addr, addrlen);
		if (r < 0) {
			close(nfd);
			return r;
		}
	}
	if (flags & SOCK_NONBLOCK)
		fcntl(nfd, F_SETFL, O_NONBLOCK);
	if (!(m.flags & NC_ACCEPT_KERNEL))   /* a published port's: the kernel's socket */
		sc_fd_mark(svc, nfd, SC_INO_VIRTUAL | SC_INO_TOLD);
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

int sc_accept(struct sc_call *c, int flags)
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
	r = sc_accept_try(c->svc, c->p, c->n->id, (pid_t)c->n->pid, c->fd, a[1], a[2], flags);
	fl = fcntl(c->fd, F_GETFL);
	if (r != -EAGAIN || (fl >= 0 && (fl & O_NONBLOCK)))
		return r;
	/* Blocking: answered when a connection arrives (accept_ready). */
	r = sc_wait_start(c, SC_WAIT_ACCEPT, c->fd, EPOLLIN, &w);
	if (r < 0)
		return r;
	c->fd = -1;   /* the wait owns it */
	w->addr = a[1];
	w->addrlen = a[2];
	w->flags = flags;
	return SC_ANSWERED;
}

int sc_getname(struct sc_call *c, int peer)
{
	const __u64 *a = c->n->data.args;
	struct nc_sock *s = c->s;

	if (!s)
		return c->closed && peer ? -ENOTCONN : SC_CONTINUE;
	if (!peer)
		return sc_put_sockaddr((pid_t)c->n->pid, &s->local, a[1], a[2]);
	if (s->kind == NC_KIND_UDP && s->peer.family != AF_UNSPEC)
		return sc_put_sockaddr((pid_t)c->n->pid, &s->peer, a[1], a[2]);
	if (s->kind != NC_KIND_CONN || s->state != NC_STATE_ESTABLISHED)
		return -ENOTCONN;
	return sc_put_sockaddr((pid_t)c->n->pid, &s->peer, a[1], a[2]);
}

int sc_getsockopt(struct sc_call *c)
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
	r = sc_mem_read(pid, a[4], &have, sizeof(have));
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
		case SO_ERROR:
			/* A raw UDP socket's error also has a marker in the pair: taken. */
			if (udp && c->s->udp.raw)
				v = nc_udp_take_error(c->svc, c->s, c->fd);
			break;
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
	r = sc_mem_write(pid, a[3], val, len);
	if (r == 0)
		r = sc_mem_write(pid, a[4], &len, sizeof(len));
	return r;
}

int sc_setsockopt(struct sc_call *c)
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
	r = sc_mem_read((pid_t)c->n->pid, a[3], val, len);
	if (r < 0)
		return r;
	return nc_sock_setopt(c->svc, c->s, level, name, val, len);
}

int sc_shutdown(struct sc_call *c)
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
