/*
 * socket.c — socket(), bind(), getsockname(), getpeername(), and the helpers that decide
 * which sockets go virtual and put the virtual fd in the program's fd's place.
 *
 * A socket stays a kernel socket until the program binds it to an address of the
 * virtual network or the wildcard, listens on it unbound, or connects it to the virtual
 * network. Then the service gives a socketpair end and nc_ic_replace() dup3()s it over
 * the program's fd, keeping the fd number, O_NONBLOCK, FD_CLOEXEC and the options set
 * so far, and its epoll registrations (epollcarry.c). Loopback and every other
 * destination stay with the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "addr.h"
#include "intercept.h"
#include "log.h"
#include "sockopts.h"

/* What the table knows for certain of kernel socket fd, made by socket() here: e (what
 * nc_ic_kind() just found for fd, checked by inode) when it says so, else the table looked
 * up again (a system call), else NULL. */
static const struct nc_fdent *known_kernel(int fd, const struct nc_fdent *e, struct nc_fdent *buf)
{
	if (e)
		return e->kind == NC_FD_KERNEL && e->sk_family ? e : NULL;
	return nc_fd_known_kernel(fd, buf) ? buf : NULL;
}

/* Is fd a kernel AF_INET or AF_INET6 socket of this type and protocol? Its family, or 0. */
static int is_inet(int fd, const struct nc_fdent *e, int type, int protocol)
{
	int v = 0, family;
	socklen_t l = sizeof(v);
	struct nc_fdent buf;

	if ((e = known_kernel(fd, e, &buf)))
		return e->sk_type == type ? e->sk_family : 0;
	if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 ||
	    (v != AF_INET && v != AF_INET6))
		return 0;
	family = v;
	l = sizeof(v);
	if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != type)
		return 0;
	l = sizeof(v);
	if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 || v != protocol)
		return 0;
	return family;
}

int nc_ic_is_inet_stream(int fd, const struct nc_fdent *e)
{
	return is_inet(fd, e, SOCK_STREAM, IPPROTO_TCP);
}

int nc_ic_is_inet_dgram(int fd, const struct nc_fdent *e)
{
	return is_inet(fd, e, SOCK_DGRAM, IPPROTO_UDP);
}

/* The policy is route.c's, shared with the seccomp supervisor; the intercept brings what
 * it knows of the network (from the service, else NETCON_NET and NETCON_NET6). */
static void route_net(void *ctx, struct nc_route_net *rn)
{
	struct nc_net net;

	(void)ctx;
	nc_ic_net(&net);
	rn->known = net.known;
	rn->ip = net.ip;
	rn->prefix = net.prefix;
	rn->n_ip6 = net.n_ip6;
	memcpy(rn->ip6, net.ip6, sizeof(rn->ip6));
}

int nc_ic_route(int family, const struct sockaddr *sa, socklen_t len, int for_bind)
{
	return nc_route_decide(route_net, NULL, family, sa, len, for_bind);
}

/* The kernel's IPV6_V6ONLY default (net.ipv6.bindv6only), read once. */
static int v6only_default(void)
{
	static int cached = -1;

	if (cached < 0) {
		int s = NC_REAL(socket)(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), v = 0;
		socklen_t l = sizeof(v);
		if (s >= 0) {
			NC_REAL(getsockopt)(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l);
			NC_REAL(close)(s);
		}
		cached = v ? 1 : 0;
	}
	return cached;
}

void nc_ic_read_opts(int fd, const struct nc_fdent *e, struct nc_sockopts *o)
{
	struct nc_fdent buf;

	memset(o, 0, sizeof(*o));
	if ((e = known_kernel(fd, e, &buf)) && e->fresh) {
		/* Made by socket() here and never given an option: the kernel's defaults. */
		if (e->sk_family == AF_INET6 && v6only_default())
			o->flags |= NC_OPT_V6ONLY;
		return;
	}
	nc_sockopts_read(fd, o, NC_REAL(getsockopt));   /* shared with the supervisor */
}

int nc_ic_replace(int fd, const struct nc_fdent *e, int new_fd)
{
	struct timeval rcv, snd;
	socklen_t lr = sizeof(rcv), ls = sizeof(snd);
	struct nc_epreg regs[NC_EPREG_MAX];
	int fl, fdfl, have_rcv = 0, have_snd = 0, nregs;

	fl = NC_REAL(fcntl)(fd, F_GETFL);
	fdfl = NC_REAL(fcntl)(fd, F_GETFD);
	if (fl < 0 || fdfl < 0) {
		int e = -errno;
		NC_REAL(close)(new_fd);
		return e;
	}
	/* Timeouts act on the fd's own reads and writes: they move to the new socket. A
	 * socket given no option since socket() has none. */
	if (!nc_ic_fresh(e)) {
		have_rcv = NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, &lr) == 0 &&
			   (rcv.tv_sec || rcv.tv_usec);
		have_snd = NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, &ls) == 0 &&
			   (snd.tv_sec || snd.tv_usec);
	}
	/* epoll sets holding the old socket lose it with its file: re-add the new one. The
	 * search reads /proc (a system call per fd the process holds), so only sockets that
	 * can be waited for with epoll before they are connected — non-blocking ones — pay. */
	nregs = (fl & O_NONBLOCK) ? nc_ic_epoll_find(fd, regs, NC_EPREG_MAX) : 0;
	if (NC_REAL(dup3)(new_fd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = -errno;
		NC_REAL(close)(new_fd);
		return e;
	}
	NC_REAL(close)(new_fd);
	NC_REAL(fcntl)(fd, F_SETFL, fl & (O_NONBLOCK | O_ASYNC));
	if (nregs > 0)
		nc_ic_epoll_restore(fd, regs, nregs);
	if (have_rcv)
		NC_REAL(setsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	if (have_snd)
		NC_REAL(setsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	return fl;
}

void nc_ic_put_addr(const struct nc_addr *a, struct sockaddr *sa, socklen_t *len)
{
	if (!len)
		return;
	*len = nc_addr_to_sockaddr(a, sa, sa ? *len : 0);
}

int nc_ic_swap_call(int fd, const struct nc_fdent *e, int type, const void *req,
		    size_t reqlen, int subject, void *rep, size_t replen, int unreach_errno,
		    uint32_t *via)
{
	size_t rl = 0;
	int r, nfd = -1;

	r = nc_ic_call_via(type, req, reqlen, subject, rep, replen, &rl, &nfd, via);
	if (r == NC_UNREACHABLE)
		return -unreach_errno;
	if (r < 0 || nfd < 0 || rl != replen) {
		if (nfd >= 0)
			NC_REAL(close)(nfd);
		return r < 0 ? r : -EIO;
	}
	return nc_ic_replace(fd, e, nfd);
}

/* Remember a new virtual fd. */
ino_t nc_ic_remember(int fd, int kind, int state, const struct nc_addr *local,
		     const struct nc_addr *peer, uint32_t via)
{
	struct nc_fdent e;
	struct stat st;

	memset(&e, 0, sizeof(e));
	if (fstat(fd, &st) < 0)
		return 0;
	e.ino = st.st_ino;
	e.kind = (uint8_t)kind;
	e.state = (uint8_t)state;
	e.connect_told = state == NC_STATE_ESTABLISHED;
	e.via = via;
	if (local)
		e.local = *local;
	if (peer)
		e.peer = *peer;
	nc_fd_store(fd, &e);
	return e.ino;
}

int nc_socket(int domain, int type, int protocol)
{
	int fd, base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct nc_fdent e;
	struct stat st;

	nc_ic_init();
	fd = NC_REAL(socket)(domain, type, protocol);
	if (fd < 0)
		return -errno;
	nc_ic_epoll_forget(fd);
	/* An IPv4/IPv6 TCP or UDP socket: remember what it is, so that bind/connect/listen
	 * need not ask the kernel again, and that it has no options yet. */
	if ((domain == AF_INET || domain == AF_INET6) &&
	    ((base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
	     (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))) &&
	    fstat(fd, &st) == 0) {
		memset(&e, 0, sizeof(e));
		e.ino = st.st_ino;
		e.kind = NC_FD_KERNEL;
		e.sk_family = (uint8_t)domain;
		e.sk_type = (uint8_t)base;
		e.fresh = 1;
		nc_fd_store(fd, &e);
	} else {
		nc_fd_forget(fd);
	}
	return fd;
}

/* BIND of a kernel socket of `type` to addr: the reply's socket takes fd's place. */
static int bind_virtual(int fd, const struct nc_fdent *e, int type, const struct sockaddr *addr,
			socklen_t len)
{
	struct nc_bind_req q;
	struct nc_bind_rep rep;
	uint32_t via;
	int r;

	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.addr, addr, len) < 0)
		return -EINVAL;
	q.type = type;
	nc_ic_read_opts(fd, e, &q.opts);
	r = nc_ic_swap_call(fd, e, NC_MSG_BIND, &q, sizeof(q), -1, &rep, sizeof(rep),
			    EADDRNOTAVAIL, &via);
	if (r < 0)
		return r;
	nc_ic_remember(fd, type == SOCK_DGRAM ? NC_KIND_UDP : NC_KIND_BOUND, NC_STATE_NONE,
		       &rep.local, NULL, via);   /* kept when it listens (listen.c) */
	return 0;
}

int nc_ic_udp_bind(int fd, const struct nc_fdent *e, const struct sockaddr *addr, socklen_t len)
{
	return bind_virtual(fd, e, SOCK_DGRAM, addr, len);
}

int nc_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct nc_fdent e;
	int family, type;

	if (nc_ic_kind(fd, &e) != NC_KIND_NONE)
		return -EINVAL;   /* already bound */
	if (!addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return NC_PASS;
	if ((family = nc_ic_is_inet_stream(fd, &e)))
		type = SOCK_STREAM;
	else if ((family = nc_ic_is_inet_dgram(fd, &e)))
		type = SOCK_DGRAM;
	else
		return NC_PASS;
	if (nc_ic_route(family, addr, len, 1) != NC_ROUTE_VIRTUAL)
		return NC_PASS;
	return bind_virtual(fd, &e, type, addr, len);
}

int nc_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct nc_fdent e;

	if (nc_ic_kind(fd, &e) == NC_KIND_NONE)
		return NC_PASS;
	if (!len)
		return -EFAULT;
	nc_ic_put_addr(&e.local, addr, len);
	return 0;
}

int nc_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct nc_fdent e;
	int kind;

	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_NONE)
		return NC_PASS;
	if (kind == NC_KIND_UDP && e.peer.family != AF_UNSPEC) {
		if (!len)
			return -EFAULT;
		nc_ic_put_addr(&e.peer, addr, len);
		return 0;
	}
	if (kind != NC_KIND_CONN)
		return -ENOTCONN;
	if (e.state == NC_STATE_CONNECTING)
		nc_fd_refresh(fd, &e);
	if (e.state != NC_STATE_ESTABLISHED)
		return -ENOTCONN;
	if (!len)
		return -EFAULT;
	nc_ic_put_addr(&e.peer, addr, len);
	return 0;
}

/* The shims: handled (>= 0), failed (-1 and errno), or libc's own call. */

NC_EXPORT int socket(int domain, int type, int protocol)
{
	return (int)nc_ret(nc_socket(domain, type, protocol));   /* always libc's, noted */
}

NC_EXPORT int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	int r = nc_bind(fd, NC_SA(addr), len);

	if (r == NC_PASS)
		return NC_REAL(bind)(fd, NC_SA(addr), len);
	return (int)nc_ret(r);
}

NC_EXPORT int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
	int r = nc_getsockname(fd, NC_SA(addr), len);

	if (r == NC_PASS)
		return NC_REAL(getsockname)(fd, NC_SA(addr), len);
	return (int)nc_ret(r);
}

NC_EXPORT int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
	int r = nc_getpeername(fd, NC_SA(addr), len);

	if (r == NC_PASS)
		return NC_REAL(getpeername)(fd, NC_SA(addr), len);
	return (int)nc_ret(r);
}
