/*
 * seccomp_data.c — seccomp mode's data calls that carry an address: sendto and recvfrom
 * given one, sendmsg, recvmsg, sendmmsg and recvmmsg (common/seccomp_filter.c traps no
 * other data call; read, write, send, recv and the rest stay native).
 *
 * A virtual UDP socket of seccomp mode has a raw pair (payloads only; service/udp.c): a
 * native send goes to the connected peer, a native receive gives the payload without
 * its source. What needs an address is done here, on the service's own thread:
 *
 *  - A send with a destination: the payload is read from the program
 *    (process_vm_readv over the program's own iovecs), checked as Linux's udp_sendmsg
 *    checks it, and handed to lwIP (nc_udp_send) after what the program sent natively
 *    before it. A kernel UDP socket sending to the virtual network is first bound to the
 *    wildcard, port 0, as the kernel binds implicitly (and as preload mode does). With
 *    --outbound, so is one sending outside where the policy allows it: such datagrams
 *    go through the service's relay (udp.c); a denied destination is EPERM.
 *  - A receive that asks for the source: one datagram is taken from our copy of the
 *    program's end (pidfd_getfd) and written into the program's iovecs
 *    (process_vm_writev), with the source udp.c keeps for what is in the pair (the pair
 *    holds one source at a time, and udp.c changes it only on this thread). MSG_PEEK,
 *    MSG_TRUNC, MSG_DONTWAIT, O_NONBLOCK and SO_RCVTIMEO behave as the kernel's; a
 *    blocking receive waits as an epoll registration (SC_BLOCK_IN, seccomp.c) and is
 *    answered out of order. A pending ICMP error fails the receive once.
 *  - A connected virtual TCP socket given an address: Linux's TCP ignores it, a Unix
 *    stream socket says EISCONN; the payload is sent on our copy of the program's end
 *    without it (at most TCP_CHUNK bytes a call: the count says how many).
 *
 * Everything else goes back to the kernel unchanged (CONTINUE): kernel sockets, preload
 * mode's framed UDP sockets (their intercept frames them), a send without an address on
 * a connected socket, a recvmsg without msg_name.
 */
#include "seccomp.h"

#include <signal.h>

#define TCP_CHUNK   (256 * 1024)   /* bytes a trapped TCP send takes at most */

/* One datagram (and a byte more, to see one that is too long), or a TCP chunk. */
static uint8_t buf[TCP_CHUNK > NC_DGRAM_MAX + 1 ? TCP_CHUNK : NC_DGRAM_MAX + 1];
static struct iovec iovs[UIO_MAXIOV];

static int raw_udp(const struct sc_call *c)
{
	return c->s && c->s->kind == NC_KIND_UDP && c->s->udp.raw;
}

/* The program's iovec array (n entries at addr) into iovs; *total its length (capped as
 * the kernel caps it). 0, -EMSGSIZE (too many), -EINVAL or -EFAULT. */
static int read_iov(pid_t pid, uint64_t addr, uint64_t n, size_t *total)
{
	int r;

	*total = 0;
	if (n > UIO_MAXIOV)
		return -EMSGSIZE;
	r = sc_mem_read(pid, addr, iovs, (size_t)n * sizeof(struct iovec));
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < n; i++) {
		if ((ssize_t)iovs[i].iov_len < 0)
			return -EINVAL;
		*total += iovs[i].iov_len;
		if (*total > INT_MAX)
			*total = INT_MAX;
	}
	return 0;
}

/* Copy len bytes between buf and the program's iovecs (n in iovs). 0 or -EFAULT. */
static int program_io(pid_t pid, size_t n, size_t len, int write)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	ssize_t r;

	if (len == 0)
		return 0;
	r = write ? process_vm_writev(pid, &l, 1, iovs, n, 0) :
		    process_vm_readv(pid, &l, 1, iovs, n, 0);
	return r == (ssize_t)len ? 0 : -EFAULT;
}

/* ---------------------------------------------------------------------------------------
 * Sending */

/* A destination outside the virtual network: --outbound's relay (udp.c) if the policy
 * allows it, EPERM if it denies it (counted, logged once); else ENETUNREACH, a virtual
 * socket sends only to the virtual network (docs/differences.md). */
static int outside(struct sc_call *c, const struct nc_addr *to)
{
	int r = nc_outbound_udp_allowed(c->svc, to, (pid_t)c->n->pid, 1);

	return r == -ENOENT ? -ENETUNREACH : r;
}

/*
 * udp_dest() - the destination (addr, len) of a datagram of raw socket c->s, checked as
 * Linux's udp_sendmsg/udpv6_sendmsg check it (and as the intercept's udp_dest does).
 * 0 and *to, or a negative errno.
 */
static int udp_dest(struct sc_call *c, uint64_t addr, uint64_t len, struct nc_addr *to)
{
	struct nc_sock *s = c->s;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int r;

	r = sc_read_sockaddr(c, addr, len, &ss);
	if (r < 0)
		return r;
	if (s->family == AF_INET6) {
		/* Linux takes the RFC 2133 length (no scope id) too. */
		if (len < 24)
			return -EINVAL;
		if (ss.ss_family != AF_INET6)
			return -EAFNOSUPPORT;
		if (sin6->sin6_port == 0)
			return -EINVAL;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    IP_GET_TYPE(&s->udp.pcb->local_ip) == IPADDR_TYPE_V6)
			return -ENETUNREACH;   /* an IPv6-only socket */
		if (nc_addr_from_sockaddr(to, (struct sockaddr *)sin6, sizeof(*sin6)) < 0)
			return -EINVAL;
		if (sc_route(c->svc, AF_INET6, &ss, sizeof(*sin6), 0) != NC_ROUTE_VIRTUAL)
			return outside(c, to);
		return 0;
	}
	if (len < sizeof(*sin))
		return -EINVAL;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	sin->sin_family = AF_INET;   /* Linux reads AF_UNSPEC as AF_INET here */
	if (sin->sin_port == 0)
		return -EINVAL;
	if (nc_addr_from_sockaddr(to, (struct sockaddr *)sin, sizeof(*sin)) < 0)
		return -EINVAL;
	if (nc_udp_is_broadcast(c->svc, to)) {
		if (!ip_get_option(s->udp.pcb, SOF_BROADCAST))
			return -EACCES;
	} else if (sc_route(c->svc, AF_INET, &ss, sizeof(*sin), 0) != NC_ROUTE_VIRTUAL) {
		return outside(c, to);
	}
	return 0;
}

/* A send with an address on a connected virtual TCP socket: without it, on our copy of
 * the program's end, as Linux ignores it. */
static int tcp_send(struct sc_call *c, size_t n, size_t total, int flags)
{
	size_t len = total < TCP_CHUNK ? total : TCP_CHUNK;
	ssize_t w;
	int r = program_io((pid_t)c->n->pid, n, len, 0);

	if (r < 0)
		return r;
	w = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w >= 0)
		return (int)w;
	r = -errno;
	if (r == -EAGAIN && sc_blocking(c->fd, flags))
		return SC_BLOCK_OUT;
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		syscall(SYS_tkill, (pid_t)c->n->pid, SIGPIPE);   /* as the kernel's send does */
	return r;
}

/*
 * send_one() - one send of the payload in iovs (n entries, total bytes) to (addr, alen)
 * if has_addr. native: the call may go back to the kernel when it needs nothing of us.
 * The count sent, a negative errno, SC_CONTINUE or SC_BLOCK_OUT.
 */
static int send_one(struct sc_call *c, uint64_t addr, uint64_t alen, int has_addr, size_t n,
		    size_t total, int flags, int native)
{
	struct nc_sock *s = c->s;
	struct nc_addr to;
	ssize_t r;

	if (!s) {
		struct sockaddr_storage ss;
		int family;

		if (c->closed || !has_addr || !(family = sc_inet_kind(c->fd, SOCK_DGRAM)) ||
		    alen < sizeof(sa_family_t) || alen > sizeof(ss))
			return SC_CONTINUE;
		r = sc_read_sockaddr(c, addr, alen, &ss);
		if (r < 0)
			return (int)r;
		if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) || sc_kernel_bound(c->fd))
			return SC_CONTINUE;   /* the kernel's already */
		if (sc_route(c->svc, family, &ss, (socklen_t)alen, 0) != NC_ROUTE_VIRTUAL) {
			/* Outside: the kernel's, unless --outbound relays it (or denies it). */
			if (ss.ss_family != family ||
			    nc_addr_from_sockaddr(&to, (struct sockaddr *)&ss, (socklen_t)alen) < 0 ||
			    (r = nc_outbound_udp_allowed(c->svc, &to, (pid_t)c->n->pid, 1)) == -ENOENT)
				return SC_CONTINUE;
			if (r < 0)
				return (int)r;
		}
		r = sc_udp_bind_any(c, family);
		if (r < 0)
			return (int)r;
		s = c->s;
	}
	if (s->kind == NC_KIND_CONN && has_addr)
		return tcp_send(c, n, total, flags);
	if (s->kind == NC_KIND_CONN && !native)
		return tcp_send(c, n, total, flags);
	if (!raw_udp(c))
		return SC_CONTINUE;
	if (!has_addr && !s->peer.family)
		return -EDESTADDRREQ;
	if (!has_addr && native)
		return SC_CONTINUE;   /* to the peer through the pair */
	if (has_addr && (r = udp_dest(c, addr, alen, &to)) < 0)
		return (int)r;
	if (total > NC_DGRAM_MAX)
		return -EMSGSIZE;
	r = program_io((pid_t)c->n->pid, n, total, 0);
	if (r < 0)
		return (int)r;
	nc_udp_event(c->svc, s, EPOLLIN);   /* what the program sent natively goes first */
	if (s->dead)
		return -ENOTCONN;
	return (int)nc_udp_send(c->svc, s, has_addr ? &to : NULL, buf, total);
}

int sc_sendto(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;

	if (!c->s && c->closed)
		return SC_CONTINUE;
	iovs[0].iov_base = (void *)(uintptr_t)a[1];
	iovs[0].iov_len = a[2] > INT_MAX ? INT_MAX : (size_t)a[2];
	/* Trapped only with an address (args[4]); a length of 0 is Linux's EINVAL. */
	return send_one(c, a[4], a[5], 1, 1, iovs[0].iov_len, (int)a[3], 1);
}

int sc_sendmsg(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	struct msghdr m;
	size_t total;
	int r, has_addr;

	if (!c->s && c->closed)
		return SC_CONTINUE;
	r = sc_mem_read((pid_t)c->n->pid, a[1], &m, sizeof(m));
	if (r < 0)
		return c->s ? r : SC_CONTINUE;   /* the kernel says EFAULT for its own */
	has_addr = m.msg_name && m.msg_namelen;
	if (!has_addr && !raw_udp(c))
		return SC_CONTINUE;
	r = read_iov((pid_t)c->n->pid, (uint64_t)(uintptr_t)m.msg_iov, m.msg_iovlen, &total);
	if (r < 0)
		return r;
	return send_one(c, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen, has_addr,
			m.msg_iovlen, total, (int)a[2], 1);
}

/* sendmmsg: each message as sendmsg; the count sent, or the first one's error. Served
 * here for virtual sockets and kernel UDP ones (which one with an address may bind). */
int sc_sendmmsg(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	unsigned vlen = a[2] > UIO_MAXIOV ? UIO_MAXIOV : (unsigned)a[2];
	pid_t pid = (pid_t)c->n->pid;
	unsigned i;

	if (!c->s && (c->closed || !sc_inet_kind(c->fd, SOCK_DGRAM)))
		return SC_CONTINUE;
	if (c->s && c->s->kind != NC_KIND_CONN && !raw_udp(c))
		return SC_CONTINUE;
	for (i = 0; i < vlen; i++) {
		uint64_t at = a[1] + (uint64_t)i * sizeof(struct mmsghdr);
		struct mmsghdr mm;
		size_t total;
		int r;

		r = sc_mem_read(pid, at, &mm, sizeof(mm));
		if (r == 0)
			r = read_iov(pid, (uint64_t)(uintptr_t)mm.msg_hdr.msg_iov,
				     mm.msg_hdr.msg_iovlen, &total);
		if (r == 0)
			r = send_one(c, (uint64_t)(uintptr_t)mm.msg_hdr.msg_name,
				     mm.msg_hdr.msg_namelen,
				     mm.msg_hdr.msg_name && mm.msg_hdr.msg_namelen,
				     mm.msg_hdr.msg_iovlen, total, (int)a[3], i == 0 && !c->s);
		if (r == SC_CONTINUE || r == SC_BLOCK_OUT || r < 0) {
			if (i == 0)
				return r;
			break;   /* the count so far; the error comes with the next call */
		}
		mm.msg_len = (unsigned)r;
		r = sc_mem_write(pid, at + offsetof(struct mmsghdr, msg_len), &mm.msg_len,
				 sizeof(mm.msg_len));
		if (r < 0)
			return i ? (int)i : r;
	}
	return (int)i;
}

/* ---------------------------------------------------------------------------------------
 * Receiving */

/*
 * recv_one() - one datagram of raw socket c->s into the program's iovecs (n in iovs,
 * total bytes): its source in *from, MSG_TRUNC in *mflags when it did not fit. Returns
 * the length the call returns (the datagram's with MSG_TRUNC), -EAGAIN when none is
 * there, or another negative errno (a pending ICMP error first, as on Linux).
 */
static int recv_one(struct sc_call *c, size_t n, size_t total, int flags,
		    struct nc_addr *from, int *mflags)
{
	struct nc_sock *s = c->s;
	ssize_t got;
	size_t copy;
	int r;

	nc_udp_settle(c->svc, s);
	if (nc_udp_error_pending(s) && (r = nc_udp_take_error(c->svc, s, c->fd)))
		return -r;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;   /* no error queue (IP_RECVERR: docs/differences.md) */
	got = recv(c->fd, buf, NC_DGRAM_MAX + 1, (flags & MSG_PEEK) | MSG_DONTWAIT | MSG_TRUNC);
	if (got < 0)
		return -errno;
	*from = s->udp.src;   /* the one source of what is in the pair */
	copy = (size_t)got < total ? (size_t)got : total;
	r = program_io((pid_t)c->n->pid, n, copy, 1);
	if (r < 0)
		return r;
	*mflags = (size_t)got > total ? MSG_TRUNC : 0;
	nc_udp_settle(c->svc, s);   /* the pair may be empty now: the next source's turn */
	return (flags & MSG_TRUNC) ? (int)got : (int)copy;
}

int sc_recvfrom(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	int flags = (int)a[3], mf = 0, r;
	struct nc_addr from;

	if (!raw_udp(c))
		return SC_CONTINUE;
	iovs[0].iov_base = (void *)(uintptr_t)a[1];
	iovs[0].iov_len = a[2] > INT_MAX ? INT_MAX : (size_t)a[2];
	r = recv_one(c, 1, iovs[0].iov_len, flags, &from, &mf);
	if (r == -EAGAIN && sc_blocking(c->fd, flags))
		return SC_BLOCK_IN;
	if (r < 0)
		return r;
	/* Trapped only with an address: written as the kernel writes it (truncated to the
	 * caller's length, the full length in *addrlen). */
	int e = sc_put_sockaddr((pid_t)c->n->pid, &from, a[4], a[5]);
	return e < 0 ? e : r;
}

/* Write back what recvmsg returns besides the count: the name, its length, no control
 * messages, the flags. */
static int put_msghdr(pid_t pid, uint64_t at, const struct msghdr *m,
		      const struct nc_addr *from, int mflags)
{
	struct sockaddr_storage ss;
	uint32_t full = 0;
	size_t zero = 0;
	int r = 0;

	if (m->msg_name) {
		memset(&ss, 0, sizeof(ss));
		full = nc_addr_to_sockaddr(from, (struct sockaddr *)&ss, sizeof(ss));
		if (m->msg_namelen)
			r = sc_mem_write(pid, (uint64_t)(uintptr_t)m->msg_name, &ss,
					 m->msg_namelen < full ? m->msg_namelen : full);
	}
	if (r == 0)
		r = sc_mem_write(pid, at + offsetof(struct msghdr, msg_namelen), &full,
				 sizeof(full));
	if (r == 0)
		r = sc_mem_write(pid, at + offsetof(struct msghdr, msg_controllen), &zero,
				 sizeof(zero));
	if (r == 0)
		r = sc_mem_write(pid, at + offsetof(struct msghdr, msg_flags), &mflags,
				 sizeof(mflags));
	return r;
}

int sc_recvmsg(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	pid_t pid = (pid_t)c->n->pid;
	int flags = (int)a[2], mf = 0, r;
	struct nc_addr from;
	struct msghdr m;
	size_t total;

	if (!raw_udp(c))
		return SC_CONTINUE;
	r = sc_mem_read(pid, a[1], &m, sizeof(m));
	if (r < 0)
		return r;
	if (!m.msg_name && !nc_udp_error_pending(c->s)) {
		nc_udp_settle(c->svc, c->s);
		return SC_CONTINUE;   /* no source asked for: the native receive */
	}
	if ((int)m.msg_namelen < 0)
		return -EINVAL;
	if (m.msg_namelen > sizeof(struct sockaddr_storage))
		m.msg_namelen = sizeof(struct sockaddr_storage);
	r = read_iov(pid, (uint64_t)(uintptr_t)m.msg_iov, m.msg_iovlen, &total);
	if (r < 0)
		return r;
	r = recv_one(c, m.msg_iovlen, total, flags, &from, &mf);
	if (r == -EAGAIN && sc_blocking(c->fd, flags))
		return SC_BLOCK_IN;
	if (r < 0)
		return r;
	int e = put_msghdr(pid, a[1], &m, &from, mf);
	return e < 0 ? e : r;
}

/* recvmmsg: as recvmsg for each message. The first may block; the ones after it take
 * only what is there (Linux waits for all vlen unless MSG_WAITFORONE:
 * docs/differences.md); the timeout is not used (nor in preload mode). */
int sc_recvmmsg(struct sc_call *c)
{
	const __u64 *a = c->n->data.args;
	unsigned vlen = a[2] > UIO_MAXIOV ? UIO_MAXIOV : (unsigned)a[2];
	int flags = (int)a[3] & ~MSG_WAITFORONE;
	pid_t pid = (pid_t)c->n->pid;
	unsigned i;

	if (!raw_udp(c))
		return SC_CONTINUE;
	for (i = 0; i < vlen; i++) {
		uint64_t at = a[1] + (uint64_t)i * sizeof(struct mmsghdr);
		struct mmsghdr mm;
		struct nc_addr from;
		size_t total;
		int r, mf = 0;

		r = sc_mem_read(pid, at, &mm, sizeof(mm));
		if (r == 0 && (int)mm.msg_hdr.msg_namelen < 0)
			r = -EINVAL;
		if (r == 0 && mm.msg_hdr.msg_namelen > sizeof(struct sockaddr_storage))
			mm.msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
		if (r == 0)
			r = read_iov(pid, (uint64_t)(uintptr_t)mm.msg_hdr.msg_iov,
				     mm.msg_hdr.msg_iovlen, &total);
		if (r == 0)
			r = recv_one(c, mm.msg_hdr.msg_iovlen, total, i ? flags | MSG_DONTWAIT :
				     flags, &from, &mf);
		if (r < 0) {
			if (i > 0)
				break;   /* the error waits for the next call, as on Linux */
			return r == -EAGAIN && sc_blocking(c->fd, flags) ? SC_BLOCK_IN : r;
		}
		mm.msg_len = (unsigned)r;
		r = put_msghdr(pid, at, &mm.msg_hdr, &from, mf);
		if (r == 0)
			r = sc_mem_write(pid, at + offsetof(struct mmsghdr, msg_len), &mm.msg_len,
					 sizeof(mm.msg_len));
		if (r < 0)
			return i ? (int)i : r;
	}
	return (int)i;
}
