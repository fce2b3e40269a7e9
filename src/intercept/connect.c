/*
 * connect.c — connect().
 *
 * A connect to the virtual network asks the service for a connection; the reply carries
 * the program's end of a socketpair, put in place of the program's fd. The service keeps
 * that end unwritable until the handshake resolves (see service/tcp_conn.c), so a
 * non-blocking connect returns EINPROGRESS and the program's poll/epoll sees POLLOUT
 * exactly when the kernel's would; a blocking connect waits for POLLOUT here. SO_ERROR
 * then tells the outcome, as on Linux.
 *
 * With the service's --outbound (HELLO's NC_HELLO_OUTBOUND), a connect of an unconnected
 * kernel TCP or UDP socket (or a UDP one bound virtual to the wildcard) elsewhere asks the
 * service (NC_MSG_OUTBOUND, outbound_connect()): denied is ECONNREFUSED (TCP) or EPERM
 * (UDP); allowed, the reply carries a kernel socket of the service's namespace, already
 * connecting (UDP: connected), which takes the fd's place as a virtual socket would.
 * From then on it is a kernel socket like any other: the intercept forgets it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/time.h>

#include "addr.h"
#include "intercept.h"
#include "outbound.h"

/*
 * wait_connected() - wait for the outcome of a connect on a blocking socket, bounded by
 * its SO_SNDTIMEO as on Linux (timeo 0: fd has none, being a socket never given an
 * option). 0 or a negative errno. kernel: fd is a kernel socket (an outbound one), whose
 * SO_ERROR is the kernel's; else the service's end, which is made writable only on
 * success and closed on failure (POLLHUP): only then is the service asked which error it
 * was.
 */
static int wait_connected(int fd, int kernel, int timeo)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct timeval tv = { 0, 0 };
	socklen_t l = sizeof(tv);
	int timeout = -1, r, err = 0;

	if (timeo && NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec || tv.tv_usec))
		timeout = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
	r = poll(&p, 1, timeout);
	if (r < 0)
		return -errno;        /* EINTR: the connect goes on, as on Linux */
	if (r == 0)
		return -EINPROGRESS;
	l = sizeof(err);
	if (kernel)
		return NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 ? -errno : -err;
	if (!(p.revents & (POLLERR | POLLHUP)))
		return 0;
	r = nc_ic_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (r < 0)
		return r;
	return -err;
}

/*
 * to_kernel() - a socket bound to the wildcard (so, virtual) that then connects to
 * loopback or another network: on Linux that works, so the socket goes back to the
 * kernel — a new kernel socket bound to the same port (or any, if the kernel has that
 * port in use) takes the fd's place, and the kernel connects it. The service forgets
 * the bound socket when its end closes.
 */
static int to_kernel(int fd, const struct nc_fdent *e, const struct sockaddr *addr,
		     socklen_t len)
{
	struct sockaddr_storage any;
	struct sockaddr_in *sin = (struct sockaddr_in *)&any;
	int family = e->local.family == AF_INET6 ? AF_INET6 : AF_INET;
	socklen_t al = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(*sin);
	int type = e->kind == NC_KIND_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int ks = NC_REAL(socket)(family, type | SOCK_CLOEXEC, 0), one = 1, r;

	if (ks < 0)
		return -errno;
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	sin->sin_port = htons(e->local.port);   /* same place in sockaddr_in6 */
	NC_REAL(setsockopt)(ks, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (NC_REAL(bind)(ks, (struct sockaddr *)&any, al) < 0) {
		sin->sin_port = 0;
		if (NC_REAL(bind)(ks, (struct sockaddr *)&any, al) < 0) {
			r = -errno;
			NC_REAL(close)(ks);
			return r;
		}
	}
	r = nc_ic_replace(fd, NULL, ks);
	if (r < 0)
		return r;
	nc_fd_forget(fd);
	return (int)nc_neg(NC_REAL(connect)(fd, addr, len));
}

/* A fresh TCP socket's buffer sizes here, per family (read once; -1 unknown). */
static void default_bufs(int family, int *snd, int *rcv)
{
	static int cached[2][2];
	int i = family == AF_INET6;

	if (!cached[i][0]) {
		int s = NC_REAL(socket)(family, SOCK_STREAM | SOCK_CLOEXEC, 0), v;
		socklen_t l = sizeof(v);
		int c0 = -1, c1 = -1;
		if (s >= 0) {
			if (NC_REAL(getsockopt)(s, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0)
				c0 = v;
			l = sizeof(v);
			if (NC_REAL(getsockopt)(s, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0)
				c1 = v;
			NC_REAL(close)(s);
		}
		cached[i][1] = c1;
		cached[i][0] = c0;
	}
	*snd = cached[i][0];
	*rcv = cached[i][1];
}

/* Is a destination outside the virtual network the service's to decide (--outbound, and
 * for loopback only when the policy names some)? What the service said in HELLO (the
 * route decision has asked it already for any address but loopback), or what netcon
 * run/intercept passed on (NETCON_OUTBOUND): otherwise a program's loopback traffic
 * costs nothing more and never contacts the service. */
int nc_ic_outbound_ours(const struct nc_addr *peer)
{
	int ob = nc_ic_outbound_hint();

	return (ob & NC_HELLO_OUTBOUND) &&
	       (!nc_outbound_is_loopback(peer) || (ob & NC_HELLO_OUTBOUND_LO));
}

/*
 * outbound_connect() - connect of socket fd (of family; type SOCK_STREAM or SOCK_DGRAM)
 * to addr, outside the virtual network, when the service has --outbound. fd is a kernel
 * socket, or (virt: UDP) a virtual one bound to the wildcard. NC_PASS when it stays the
 * kernel's: no --outbound, loopback the policy does not name (the service says ENOENT), a
 * kernel socket already connecting or connected (the kernel answers EALREADY, EISCONN)
 * or bound by the kernel (its address is of this namespace). Else 0, -EINPROGRESS or a
 * negative errno (denied: ECONNREFUSED for TCP, EPERM for UDP).
 */
static int outbound_connect(int fd, int family, int type, int virt, const struct sockaddr *addr,
			    socklen_t len)
{
	struct nc_outbound_req q;
	struct nc_outbound_rep rep;
	struct nc_fdent e;
	struct tcp_info ti;
	struct sockaddr_storage cur;
	socklen_t l = sizeof(ti);
	size_t rl = 0;
	int r, nfd = -1, fl;

	if (addr->sa_family != family)
		return NC_PASS;
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.peer, addr, len) < 0 || !nc_ic_outbound_ours(&q.peer))
		return NC_PASS;
	memset(&ti, 0, sizeof(ti));
	if (type == SOCK_STREAM && (NC_REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 ||
				    ti.tcpi_state != TCP_CLOSE))
		return NC_PASS;
	l = sizeof(cur);
	if (!virt && NC_REAL(getsockname)(fd, (struct sockaddr *)&cur, &l) == 0 &&
	    ((struct sockaddr_in *)&cur)->sin_port != 0)
		return NC_PASS;   /* the port is at the same place in sockaddr_in6 */
	q.family = (uint32_t)family;
	q.type = type;
	if (!virt)
		nc_ic_read_opts(fd, NULL, &q.opts);
	if (type == SOCK_STREAM && !(nc_fd_known_kernel(fd, &e) && e.fresh)) {
		int dsnd, drcv, v;
		default_bufs(family, &dsnd, &drcv);
		l = sizeof(v);
		if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v != dsnd && v > 0)
			q.sndbuf = v / 2;   /* Linux reports twice what was set */
		l = sizeof(v);
		if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 && v != drcv && v > 0)
			q.rcvbuf = v / 2;
	}
	r = nc_ic_call(NC_MSG_OUTBOUND, &q, sizeof(q), -1, &rep, sizeof(rep), &rl, &nfd);
	if (r == NC_UNREACHABLE)
		return -ENETUNREACH;
	if (r == -ENOENT)
		return NC_PASS;
	if (r < 0 || nfd < 0 || rl != sizeof(rep)) {
		if (nfd >= 0)
			NC_REAL(close)(nfd);
		return r < 0 ? r : -EIO;
	}
	fl = nc_ic_replace(fd, NULL, nfd);
	if (fl < 0)
		return fl;
	nc_fd_forget(fd);   /* a kernel socket now, learnt again on next use */
	if (rep.connected)
		return 0;
	if (fl & O_NONBLOCK)
		return -EINPROGRESS;
	return wait_connected(fd, 1, 1);
}

/*
 * Destinations the service allowed, so that a relayed socket's datagrams do not each cost
 * a round trip (direct-mapped by a hash of address and port). Only "allowed" is kept:
 * the service checks every relayed datagram again, so an entry that went stale (a
 * service restarted with another policy) costs a datagram dropped there, never a
 * datagram let out.
 */
#define OB_CACHE 64
static struct nc_addr ob_ok[OB_CACHE];
static pthread_mutex_t ob_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned ob_slot(const struct nc_addr *a)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(a->addr); i++)
		h = (h ^ a->addr[i]) * 16777619u;
	return ((h ^ a->port ^ a->family) * 16777619u) % OB_CACHE;
}

int nc_ic_outbound_udp(const struct nc_addr *to)
{
	struct nc_outbound_req q;
	struct nc_addr key;
	size_t rl = 0;
	unsigned k;
	int r, hit;

	if (!nc_ic_outbound_ours(to))
		return NC_PASS;
	memset(&key, 0, sizeof(key));
	key.family = to->family;
	key.port = to->port;
	memcpy(key.addr, to->addr, sizeof(key.addr));
	k = ob_slot(&key);
	pthread_mutex_lock(&ob_lock);
	hit = memcmp(&ob_ok[k], &key, sizeof(key)) == 0;
	pthread_mutex_unlock(&ob_lock);
	if (hit)
		return 0;
	memset(&q, 0, sizeof(q));
	q.peer = *to;
	q.family = to->family;
	q.type = SOCK_DGRAM;
	q.flags = NC_OUTBOUND_CHECK;
	r = nc_ic_call(NC_MSG_OUTBOUND, &q, sizeof(q), -1, NULL, 0, &rl, NULL);
	if (r == NC_UNREACHABLE)
		return -ENETUNREACH;
	if (r == 0) {
		pthread_mutex_lock(&ob_lock);
		ob_ok[k] = key;
		pthread_mutex_unlock(&ob_lock);
	}
	return r == -ENOENT ? NC_PASS : r;
}

static int is_wildcard(const struct nc_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->addr, zero, a->family == AF_INET6 ? 16 : 4) == 0;
}

/*
 * udp_connect() - connect() of a UDP socket: kernel (e == NULL) or virtual. It sends
 * nothing; the service records the peer, which filters what arrives and is where send()
 * and write() go. AF_UNSPEC dissolves the association. 0, a negative errno, or NC_PASS
 * (a kernel socket connecting elsewhere).
 */
static int udp_connect(int fd, struct nc_fdent *e, int family, const struct sockaddr *addr,
		       socklen_t len)
{
	struct nc_connect_req q;
	struct nc_connect_rep rep;
	size_t rl = 0;
	int r;

	if (!addr)
		return -EFAULT;
	memset(&q, 0, sizeof(q));
	if (addr->sa_family == AF_UNSPEC) {
		if (!e)
			return NC_PASS;
	} else if (nc_ic_route(family, addr, len, 0) != NC_ROUTE_VIRTUAL) {
		if (!e)
			return outbound_connect(fd, family, SOCK_DGRAM, 0, addr, len);
		if (is_wildcard(&e->local)) {
			r = outbound_connect(fd, family, SOCK_DGRAM, 1, addr, len);
			return r == NC_PASS ? to_kernel(fd, e, addr, len) : r;
		}
		return -ENETUNREACH;
	} else if (nc_addr_from_sockaddr(&q.peer, addr, len) < 0) {
		return -EINVAL;
	}
	if (!e) {
		struct sockaddr_storage any = { .ss_family = (sa_family_t)family };
		r = nc_ic_udp_bind(fd, NULL, (struct sockaddr *)&any, family == AF_INET6 ?
				   sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		if (r < 0)
			return r;
	}
	r = nc_ic_call(NC_MSG_CONNECT, &q, sizeof(q), fd, &rep, sizeof(rep), &rl, NULL);
	if (r == NC_UNREACHABLE)
		return -ENETUNREACH;
	if (r < 0)
		return r;
	if (rl != sizeof(rep))
		return -EIO;
	nc_ic_remember(fd, NC_KIND_UDP, NC_STATE_NONE, &rep.local,
		       rep.peer.family ? &rep.peer : NULL, 0);
	return 0;
}

int nc_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct nc_connect_req q;
	struct nc_connect_rep rep;
	struct nc_fdent e;
	ino_t ino;
	uint32_t via;
	int kind, subject = -1, fl, family = 0, fresh, r;

	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_UDP)
		return udp_connect(fd, &e, e.local.family == AF_INET6 ? AF_INET6 : AF_INET, addr, len);
	if (kind == NC_KIND_NONE) {
		if (!addr)
			return NC_PASS;
		if ((family = nc_ic_is_inet_dgram(fd, &e)))
			return udp_connect(fd, NULL, family, addr, len);
		if (!(family = nc_ic_is_inet_stream(fd, &e)))
			return NC_PASS;
		if (nc_ic_route(family, addr, len, 0) != NC_ROUTE_VIRTUAL)
			return outbound_connect(fd, family, SOCK_STREAM, 0, addr, len);
	} else {
		static const uint8_t zero[16];

		family = e.local.family == AF_INET6 ? AF_INET6 : AF_INET;
		subject = fd;
		if (!addr)
			return -EFAULT;
		if (kind == NC_KIND_CONN) {
			/* A second connect() is how some programs (hiredis) learn the outcome:
			 * EALREADY while in progress, EISCONN once connected, the error after a
			 * failure. */
			if (e.state == NC_STATE_CONNECTING)
				nc_fd_refresh(fd, &e);
			if (e.state == NC_STATE_CONNECTING)
				return -EALREADY;
			if (e.state == NC_STATE_ESTABLISHED && !e.connect_told) {
				/* Linux: the first connect() after a non-blocking one completed
				 * returns 0; only the next says EISCONN. */
				e.connect_told = 1;
				nc_fd_store(fd, &e);
				return 0;
			}
			if (e.state == NC_STATE_ESTABLISHED)
				return -EISCONN;
			int err = 0;
			socklen_t l = sizeof(err);
			if (nc_ic_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err)
				return -err;
			/* Linux: once its failure was reported, a socket whose connect failed
			 * may connect again, as a new connection. One that was connected may
			 * not. */
			if (e.connect_told || nc_ic_route(family, addr, len, 0) != NC_ROUTE_VIRTUAL)
				return -ECONNABORTED;
			subject = -1;
		}
		if (addr->sa_family != family)
			return addr->sa_family == AF_UNSPEC ? -EOPNOTSUPP : -EAFNOSUPPORT;
		if (kind == NC_KIND_BOUND && nc_ic_route(family, addr, len, 0) != NC_ROUTE_VIRTUAL &&
		    memcmp(e.local.addr, zero, family == AF_INET6 ? 16 : 4) == 0)
			return to_kernel(fd, &e, addr, len);
	}
	memset(&q, 0, sizeof(q));
	if (nc_addr_from_sockaddr(&q.peer, addr, len) < 0)
		return -EINVAL;
	if (subject < 0)
		nc_ic_read_opts(fd, &e, &q.opts);
	fresh = nc_ic_fresh(&e);
	fl = nc_ic_swap_call(fd, &e, NC_MSG_CONNECT, &q, sizeof(q), subject, &rep, sizeof(rep),
			     ENETUNREACH, &via);
	if (fl < 0)
		return fl;
	ino = nc_ic_remember(fd, NC_KIND_CONN, NC_STATE_CONNECTING, &rep.local, &rep.peer, via);
	if (fl & O_NONBLOCK)
		return -EINPROGRESS;
	r = wait_connected(fd, 0, !fresh);
	if (r < 0)
		return r;
	nc_fd_set_state(fd, ino, NC_STATE_ESTABLISHED);
	return 0;
}

NC_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	int r = nc_connect(fd, NC_SA(addr), len);

	if (r == NC_PASS)
		return NC_REAL(connect)(fd, NC_SA(addr), len);
	return (int)nc_ret(r);
}
