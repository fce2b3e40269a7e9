/*
 * data.c — the data calls: read, write, send and receive, for two cases only.
 *
 * 1. Virtual UDP sockets. Their fd is one end of a SOCK_SEQPACKET pair whose messages
 *    are struct nc_dgram + payload (include/netcon/rpc.h). Every way a program reads or
 *    writes a datagram adds or strips that header here: recv, recvfrom, recvmsg,
 *    recvmmsg, read, readv (and the _FORTIFY_SOURCE variants __read_chk, __recv_chk,
 *    __recvfrom_chk), send, sendto, sendmsg, sendmmsg, write, writev. Message
 *    boundaries, MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, timeouts and readiness come from the
 *    pair itself. A kernel UDP socket that sends to the virtual network without being
 *    bound first becomes virtual here (bound to the wildcard, port 0), as the kernel
 *    binds it implicitly; with --outbound so does one sending outside where the policy
 *    allows it (the service relays those datagrams; a denied destination is EPERM).
 * 2. An address given on a connected virtual TCP socket: Linux's TCP ignores it, a Unix
 *    stream socket refuses it with EISCONN, so it is dropped (sockperf always passes one).
 * 3. The end of a virtual TCP connection that the network ended with an error (a reset,
 *    or keepalive or retransmissions giving up): the receive fails with ECONNRESET or
 *    ETIMEDOUT once, as on Linux (tcp_end()), and so does the first send that fails,
 *    before later ones fail with EPIPE (send_end()).
 *
 * Every other fd costs one lookup in our fd table (no lock, no system call), plus, for
 * a send with an address, the check of that address against the virtual network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "intercept.h"

#define SMALL_IOV 16

/* Is fd a virtual UDP socket? The hint first (the common "no" costs nothing more). */
static int is_udp(int fd, struct nc_fdent *e)
{
	if (__builtin_expect(nc_fd_hint(fd) != NC_KIND_UDP, 1))
		return 0;
	return nc_fd_kind(fd, e) == NC_KIND_UDP;
}

static int is_virtual_conn(int fd)
{
	struct nc_fdent e;

	return nc_fd_hint(fd) == NC_KIND_CONN && nc_fd_kind(fd, &e) == NC_KIND_CONN;
}

/* ---- receiving ------------------------------------------------------------------- */

/*
 * conn_error() - the error the service holds for virtual TCP connection fd (SO_ERROR,
 * which clears it, as Linux's receive clears sk_err), or 0: none, or no answer (when the
 * service is gone, what the socketpair said stands).
 */
static int conn_error(int fd)
{
	struct nc_sockopt_req q = { .level = SOL_SOCKET, .name = SO_ERROR, .len = sizeof(int) };
	struct nc_sockopt_rep rep;
	size_t rl = 0;
	int err = 0;

	if (nc_ic_call(NC_MSG_SOCKOPT_GET, &q, offsetof(struct nc_sockopt_req, value), fd, &rep,
		       sizeof(rep), &rl, NULL) != 0 || rl < offsetof(struct nc_sockopt_rep, value) +
		       sizeof(int) || rep.len != sizeof(int))
		return 0;
	memcpy(&err, rep.value, sizeof(err));
	return err;
}

/*
 * tcp_end() - libc's receive of `asked` bytes returned r <= 0 on fd. On a virtual TCP
 * connection that the network ended with an error (reset: ECONNRESET; keepalive or
 * retransmissions gave up: ETIMEDOUT), Linux fails the receive with that error once and
 * clears it; later receives return 0. The service closes its end after such an end, so
 * the program's end shows POLLHUP, and reads EOF, or ECONNRESET from the socketpair
 * itself when data the program wrote was still unread in it: only then is the service
 * asked for the real error. Returns what the shim returns (-1 and errno, or r).
 */
static ssize_t tcp_end(int fd, ssize_t r, size_t asked)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct nc_fdent e;
	int err, saved = errno;

	if (r < 0 && saved != ECONNRESET)
		return r;
	if (!asked || nc_fd_hint(fd) != NC_KIND_CONN)
		goto keep;
	if (r == 0 && (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP)))
		goto keep;
	if (nc_fd_kind(fd, &e) != NC_KIND_CONN)
		goto keep;
	err = conn_error(fd);
	if (err && err != EPIPE)   /* EPIPE: reset after the peer's FIN; Linux reads EOF */
		return nc_ret(-err);
keep:
	errno = saved;
	return r;
}

/* What a shim returns for libc's receive r of `asked` bytes on fd. */
#define RECV_RESULT(fd, r, asked) \
	(__builtin_expect((r) <= 0, 0) ? tcp_end((fd), (r), (asked)) : (r))

/* ---- sending on a virtual TCP connection ---------------------------------------------- */

/*
 * Linux's first send after the network ended a connection with an error (a reset, a
 * timeout) fails with that error and clears it, without SIGPIPE; later ones fail with
 * EPIPE and raise SIGPIPE unless MSG_NOSIGNAL. The socketpair knows only the second
 * half: its end was closed, so a native send fails with EPIPE and the kernel raises
 * SIGPIPE at once. So a send on a virtual connection is made with MSG_NOSIGNAL (write
 * and writev as send and sendmsg, the same call for a socket), and only when it fails
 * with EPIPE is the service asked for the connection's error (SO_ERROR, which clears
 * it, as the read path's tcp_end() does); with none, or EPIPE (a reset after the peer's
 * FIN: Linux's error is EPIPE then), EPIPE stands and SIGPIPE is raised here, in the
 * calling thread as Linux's is, unless the program asked for none.
 */
static int conn_hint(int fd)
{
	return __builtin_expect(nc_fd_hint(fd) == NC_KIND_CONN, 0) && is_virtual_conn(fd);
}

/* send_end() - what a shim returns for the native send r (made with MSG_NOSIGNAL) on
 * virtual connection fd, the program's flags being `flags`. */
static ssize_t send_end(int fd, ssize_t r, int flags)
{
	int err;

	if (__builtin_expect(r >= 0 || errno != EPIPE, 1))
		return r;
	err = conn_error(fd);
	if (err && err != EPIPE)
		return nc_ret(-err);
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	errno = EPIPE;
	return -1;
}

static size_t iov_total(const struct iovec *iov, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; iov && i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/*
 * framed() - m's iovecs: the datagram header h, then the program's n iovecs, in small[]
 * when they fit (SMALL_IOV), else in memory that unframe() frees. 0, or -ENOMEM.
 */
static int framed(struct msghdr *m, struct iovec *small, struct nc_dgram *h,
		  const struct iovec *user, size_t n)
{
	struct iovec *iov = small;

	if (n > SMALL_IOV) {
		iov = malloc((n + 1) * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(*h);
	if (n)
		memcpy(iov + 1, user, n * sizeof(*iov));
	memset(m, 0, sizeof(*m));
	m->msg_iov = iov;
	m->msg_iovlen = n + 1;
	return 0;
}

static void unframe(struct msghdr *m, struct iovec *small)
{
	if (m->msg_iov != small)
		free(m->msg_iov);
}

/* recvmsg() on a virtual UDP socket: the header goes to our buffer, the payload to the
 * program's, the source address into msg_name. The payload's size or a negative errno. */
static ssize_t udp_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct iovec small[SMALL_IOV + 1];
	struct nc_dgram h;
	struct msghdr m;
	ssize_t r;

	if (msg->msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	r = framed(&m, small, &h, msg->msg_iov, msg->msg_iovlen);
	if (r < 0)
		return r;
	r = nc_neg(NC_REAL(recvmsg)(fd, &m, flags | MSG_NOSIGNAL));
	unframe(&m, small);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENETDOWN;   /* the service is gone */
	if ((size_t)r < sizeof(h) || h.magic != NC_DGRAM_MAGIC)
		return -EIO;
	if (h.err) {
		/* An ICMP error: reported once, by this call, as Linux's sk_err is. */
		if (flags & MSG_PEEK)
			NC_REAL(recv)(fd, &h, sizeof(h), MSG_DONTWAIT);
		return -(ssize_t)h.err;
	}
	if (msg->msg_name)
		msg->msg_namelen = nc_addr_to_sockaddr(&h.addr, msg->msg_name, msg->msg_namelen);
	else
		msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	msg->msg_flags = m.msg_flags;
	return r - (ssize_t)sizeof(h);
}

static ssize_t udp_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
			    socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (sa && salen) {
		m.msg_name = sa;
		m.msg_namelen = *salen;
	}
	r = udp_recvmsg(fd, &m, flags);
	if (r >= 0 && sa && salen)
		*salen = m.msg_namelen;
	return r;
}

NC_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct nc_fdent e;

	ssize_t r;

	if (msg && is_udp(fd, &e))
		return nc_ret(udp_recvmsg(fd, msg, flags));
	r = NC_REAL(recvmsg)(fd, msg, flags);
	return RECV_RESULT(fd, r, msg ? iov_total(msg->msg_iov, msg->msg_iovlen) : 0);
}

NC_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, __SOCKADDR_ARG sa,
			   socklen_t *__restrict salen)
{
	struct nc_fdent e;

	ssize_t r;

	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, flags, NC_SA(sa), salen));
	r = NC_REAL(recvfrom)(fd, buf, len, flags, NC_SA(sa), salen);
	return RECV_RESULT(fd, r, len);
}

NC_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct nc_fdent e;

	ssize_t r;

	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, flags, NULL, NULL));
	r = NC_REAL(recv)(fd, buf, len, flags);
	return RECV_RESULT(fd, r, len);
}

NC_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct nc_fdent e;

	ssize_t r;

	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, 0, NULL, NULL));
	r = NC_REAL(read)(fd, buf, len);
	return RECV_RESULT(fd, r, len);
}

/* A msghdr over the iovecs of readv() or writev(): 0, or -EINVAL for a negative count. */
static int iov_msghdr(struct msghdr *m, const struct iovec *iov, int n)
{
	memset(m, 0, sizeof(*m));
	m->msg_iov = (struct iovec *)iov;
	m->msg_iovlen = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -EINVAL : 0;
}

NC_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct nc_fdent e;
	struct msghdr m;

	if (is_udp(fd, &e)) {
		ssize_t r = iov_msghdr(&m, iov, n);
		return nc_ret(r < 0 ? r : udp_recvmsg(fd, &m, 0));
	}
	ssize_t r = NC_REAL(readv)(fd, iov, n);
	return RECV_RESULT(fd, r, n > 0 ? iov_total(iov, (size_t)n) : 0);
}

NC_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		       struct timespec *timeout)
{
	struct nc_fdent e;
	unsigned int i;

	if (!is_udp(fd, &e))
		return NC_REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		ssize_t r = udp_recvmsg(fd, &vec[i].msg_hdr, flags & ~MSG_WAITFORONE);
		if (r < 0) {
			if (i > 0)
				break;   /* the error waits for the next call, as on Linux */
			return (int)nc_ret(r);
		}
		vec[i].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
	}
	(void)timeout;   /* checked only between datagrams by Linux too; not here */
	return (int)i;
}

/* _FORTIFY_SOURCE builds of programs call these when the buffer's size is known. */
NC_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct nc_fdent e;

	if (len > buflen)
		abort();
	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, 0, NULL, NULL));
	ssize_t r = NC_REAL(__read_chk)(fd, buf, len, buflen);
	return RECV_RESULT(fd, r, len);
}

NC_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct nc_fdent e;

	if (len > buflen)
		abort();
	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, flags, NULL, NULL));
	ssize_t r = NC_REAL(__recv_chk)(fd, buf, len, buflen, flags);
	return RECV_RESULT(fd, r, len);
}

NC_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				 __SOCKADDR_ARG sa, socklen_t *__restrict salen)
{
	struct nc_fdent e;

	if (len > buflen)
		abort();
	if (is_udp(fd, &e))
		return nc_ret(udp_recvfrom(fd, buf, len, flags, NC_SA(sa), salen));
	ssize_t r = NC_REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, NC_SA(sa),
							 salen);
	return RECV_RESULT(fd, r, len);
}

/* ---- sending ----------------------------------------------------------------------- */

/* Is a (network order) the broadcast address of the virtual network, or the limited one? */
static int is_broadcast(uint32_t a)
{
	struct nc_net net;
	uint32_t mask;

	if (a == INADDR_BROADCAST)
		return 1;
	nc_ic_net(&net);
	if (!net.known || net.prefix >= 31)
		return 0;
	mask = net.prefix ? htonl(~0u << (32 - net.prefix)) : 0;
	return a == ((net.ip & mask) | ~mask);
}

/* A destination outside the virtual network: the service relays it if its --outbound
 * policy allows it (0), EPERM if it denies it; otherwise a virtual socket sends only to
 * the virtual network: ENETUNREACH (see docs/differences.md). */
static int outside(const struct nc_addr *a)
{
	int r = nc_ic_outbound_udp(a);

	return r == NC_PASS ? -ENETUNREACH : r;
}

/*
 * The destination of a datagram, checked as Linux's udp_sendmsg() checks it. 0 and *a
 * (family AF_UNSPEC: the connected peer), or a negative errno.
 */
static int udp_dest(int fd, const struct nc_fdent *e, const struct sockaddr *sa,
		    socklen_t salen, struct nc_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	uint32_t ip;

	memset(a, 0, sizeof(*a));
	if (!sa || salen == 0) {
		if (e->peer.family == AF_UNSPEC)
			return -EDESTADDRREQ;
		return 0;
	}
	if (e->local.family == AF_INET6) {
		/* Linux takes the RFC 2133 length (no scope id) too. */
		struct sockaddr_in6 d6;
		if (salen < 24)
			return -EINVAL;
		if (sa->sa_family != AF_INET6)
			return -EAFNOSUPPORT;
		memset(&d6, 0, sizeof(d6));
		memcpy(&d6, sa, salen < sizeof(d6) ? salen : sizeof(d6));
		if (d6.sin6_port == 0)
			return -EINVAL;
		if (IN6_IS_ADDR_V4MAPPED(&d6.sin6_addr)) {
			int v = 0;
			socklen_t l = sizeof(v);
			if (nc_ic_getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0 && v)
				return -ENETUNREACH;   /* an IPv6-only socket */
		}
		nc_addr_from_sockaddr(a, (struct sockaddr *)&d6, sizeof(d6));
		if (nc_ic_route(AF_INET6, (struct sockaddr *)&d6, sizeof(d6), 0) != NC_ROUTE_VIRTUAL)
			return outside(a);
		return 0;
	}
	if (salen < (socklen_t)sizeof(*sin))
		return -EINVAL;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	if (sin->sin_port == 0)
		return -EINVAL;
	/* Linux reads an AF_UNSPEC destination as AF_INET. */
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = sin->sin_port,
				 .sin_addr = sin->sin_addr };
	ip = d.sin_addr.s_addr;
	if (is_broadcast(ip)) {
		int v = 0;
		socklen_t l = sizeof(v);
		if (nc_ic_getsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, &l) < 0 || !v)
			return -EACCES;
	} else if (nc_ic_route(AF_INET, (struct sockaddr *)&d, sizeof(d), 0) != NC_ROUTE_VIRTUAL) {
		nc_addr_from_sockaddr(a, (struct sockaddr *)&d, sizeof(d));
		return outside(a);
	}
	nc_addr_from_sockaddr(a, (struct sockaddr *)&d, sizeof(d));
	return 0;
}

/* sendmsg() on a virtual UDP socket. The payload's size or a negative errno. */
static ssize_t udp_sendmsg(int fd, const struct nc_fdent *e, const struct msghdr *msg,
			   int flags)
{
	struct iovec small[SMALL_IOV + 1];
	struct nc_dgram h;
	struct msghdr m;
	size_t n = msg->msg_iovlen;
	ssize_t r;

	if (n > UIO_MAXIOV || iov_total(msg->msg_iov, n) > NC_DGRAM_MAX)
		return -EMSGSIZE;
	memset(&h, 0, sizeof(h));
	h.magic = NC_DGRAM_MAGIC;
	r = udp_dest(fd, e, msg->msg_name, msg->msg_namelen, &h.addr);
	if (r == 0)
		r = framed(&m, small, &h, msg->msg_iov, n);
	if (r < 0)
		return r;
	r = nc_neg(NC_REAL(sendmsg)(fd, &m, (flags & ~MSG_MORE) | MSG_NOSIGNAL));
	unframe(&m, small);
	if (r < 0)
		return r == -EPIPE ? -ENETDOWN : r;
	return r - (ssize_t)sizeof(h);
}

/*
 * A kernel UDP socket, unbound, sending to the virtual network: bind it there first
 * (wildcard, port 0), as the kernel would bind it implicitly. So too one sending outside
 * the virtual network where the service's --outbound policy allows it (its datagrams then
 * go through the service's relay). 1 if fd is now virtual, 0 if it stays the kernel's,
 * -EPERM if the policy denies the destination.
 */
static int udp_implicit_bind(int fd, const struct sockaddr *sa, socklen_t salen,
			     struct nc_fdent *e)
{
	struct sockaddr_storage any, cur;
	socklen_t cl = sizeof(cur);
	struct nc_addr to;
	int family, virt, r;

	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	virt = nc_ic_route(sa->sa_family, sa, salen, 0) == NC_ROUTE_VIRTUAL;
	if (!virt && (nc_addr_from_sockaddr(&to, sa, salen) < 0 || !nc_ic_outbound_ours(&to)))
		return 0;
	if ((family = nc_ic_is_inet_dgram(fd, NULL)) != sa->sa_family)
		return 0;
	if (!virt) {
		if (NC_REAL(getsockname)(fd, (struct sockaddr *)&cur, &cl) == 0 &&
		    ((struct sockaddr_in *)&cur)->sin_port != 0)
			return 0;
		r = nc_ic_outbound_udp(&to);
		if (r == NC_PASS || r == -ENETUNREACH)
			return 0;   /* the kernel's (without a service: it fails there) */
		if (r < 0)
			return r;
		cl = sizeof(cur);
	}
	if (NC_REAL(getsockname)(fd, (struct sockaddr *)&cur, &cl) == 0 &&
	    ((struct sockaddr_in *)&cur)->sin_port != 0)
		return 0;   /* bound by the kernel already: it stays the kernel's */
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	if (nc_ic_udp_bind(fd, NULL, (struct sockaddr *)&any, family == AF_INET6 ?
			   sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0)
		return 0;   /* the send goes to the kernel and fails there, as it would */
	return nc_fd_kind(fd, e) == NC_KIND_UDP;
}

NC_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct nc_fdent e;
	int b = 0;

	if (msg && (is_udp(fd, &e) || (msg->msg_name &&
	    (b = udp_implicit_bind(fd, msg->msg_name, msg->msg_namelen, &e)) != 0)))
		return nc_ret(b < 0 ? b : udp_sendmsg(fd, &e, msg, flags));
	if (msg && conn_hint(fd)) {
		struct msghdr m = *msg;
		m.msg_name = NULL;
		m.msg_namelen = 0;
		return send_end(fd, NC_REAL(sendmsg)(fd, &m, flags | MSG_NOSIGNAL), flags);
	}
	return NC_REAL(sendmsg)(fd, msg, flags);
}

NC_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 __CONST_SOCKADDR_ARG sa, socklen_t salen)
{
	struct nc_fdent e;
	const struct sockaddr *a = NC_SA(sa);
	int b = 0;

	if (is_udp(fd, &e) || (a && (b = udp_implicit_bind(fd, a, salen, &e)) != 0)) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr m = { .msg_name = (void *)a, .msg_namelen = a ? salen : 0,
				    .msg_iov = &iov, .msg_iovlen = 1 };
		return nc_ret(b < 0 ? b : udp_sendmsg(fd, &e, &m, flags));
	}
	if (conn_hint(fd))
		return send_end(fd, NC_REAL(sendto)(fd, buf, len, flags | MSG_NOSIGNAL, NULL, 0),
				flags);
	return NC_REAL(sendto)(fd, buf, len, flags, a, salen);
}

NC_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct nc_fdent e;

	if (is_udp(fd, &e)) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		return nc_ret(udp_sendmsg(fd, &e, &m, flags));
	}
	if (conn_hint(fd))
		return send_end(fd, NC_REAL(send)(fd, buf, len, flags | MSG_NOSIGNAL), flags);
	return NC_REAL(send)(fd, buf, len, flags);
}

NC_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct nc_fdent e;

	if (is_udp(fd, &e)) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		return nc_ret(udp_sendmsg(fd, &e, &m, 0));
	}
	if (conn_hint(fd))
		return send_end(fd, NC_REAL(send)(fd, buf, len, MSG_NOSIGNAL), 0);
	return NC_REAL(write)(fd, buf, len);
}

NC_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct nc_fdent e;
	struct msghdr m;

	if (is_udp(fd, &e)) {
		ssize_t r = iov_msghdr(&m, iov, n);
		return nc_ret(r < 0 ? r : udp_sendmsg(fd, &e, &m, 0));
	}
	if (conn_hint(fd)) {
		if (iov_msghdr(&m, iov, n) < 0)
			return nc_ret(-EINVAL);
		return send_end(fd, NC_REAL(sendmsg)(fd, &m, MSG_NOSIGNAL), 0);
	}
	return NC_REAL(writev)(fd, iov, n);
}

NC_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct nc_fdent e;
	unsigned int i;
	int b = 0;

	if (!vec || !vlen || !(is_udp(fd, &e) ||
			       (vec[0].msg_hdr.msg_name &&
				(b = udp_implicit_bind(fd, vec[0].msg_hdr.msg_name,
						       vec[0].msg_hdr.msg_namelen, &e)) != 0)))
		return NC_REAL(sendmmsg)(fd, vec, vlen, flags);
	if (b < 0)
		return (int)nc_ret(b);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		ssize_t r = udp_sendmsg(fd, &e, &vec[i].msg_hdr, flags);
		if (r < 0) {
			if (i > 0)
				break;
			return (int)nc_ret(r);
		}
		vec[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

/* ---- for sockopt.c ------------------------------------------------------------------ */

int nc_ic_udp_pending(int fd, int consume_error, int *err)
{
	struct nc_dgram h;
	ssize_t r;

	*err = 0;
	r = NC_REAL(recv)(fd, &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (r < (ssize_t)sizeof(h) || h.magic != NC_DGRAM_MAGIC)
		return 0;
	if (h.err) {
		*err = h.err;
		if (consume_error)
			NC_REAL(recv)(fd, &h, sizeof(h), MSG_DONTWAIT);
		return 0;
	}
	return (int)(r - (ssize_t)sizeof(h));
}
