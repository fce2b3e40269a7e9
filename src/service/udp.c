/*
 * udp.c — virtual UDP sockets: an lwIP UDP pcb on one side, the program's
 * SOCK_SEQPACKET pair on the other, one message per datagram.
 *
 * DOC: Theory of operation
 *
 * A SEQPACKET pair keeps message boundaries and gives the program per-datagram
 * readiness, MSG_PEEK and MSG_TRUNC natively, buffers by bytes (a SOCK_DGRAM pair is
 * limited to net.unix.max_dgram_qlen datagrams, 10 by default), and shows EOF when either
 * side goes away. A socket's pair is one of two kinds:
 *
 *  - Framed (preload mode): each message is a struct nc_dgram (destination or source
 *    address, an error code) and the payload (include/netcon/rpc.h). The intercept
 *    (src/intercept/data.c) adds and strips the header in the program's data calls.
 *  - Raw (seccomp mode): each message is the payload only, since the program's data
 *    calls are native and nothing can strip a header. What a header said is kept here:
 *    the destination of a native send is the connected peer (an unconnected socket's
 *    native send has none: dropped and counted); the source of a received datagram is
 *    s->udp.src, because the pair only ever holds datagrams from one source at a time.
 *    A datagram from that source (or any, when the pair is empty) is written at once;
 *    one from another source is held back here (struct nc_udp_held, within the same
 *    UDP_QUEUE budget as the pair; beyond it: dropped and counted) until the program
 *    has taken everything in the pair — SIOCOUTQ on our end reads 0 once every message
 *    we wrote is consumed — and then every held datagram of the oldest held source moves
 *    in, in order. We learn of the program's reads through a dup of our end registered
 *    for EPOLLOUT|EPOLLET (one epoll set cannot hold our end twice) while datagrams are
 *    held back: each message the program consumes frees its buffer and wakes it. The
 *    seccomp supervisor answers the program's trapped recvfrom/recvmsg/recvmmsg with an
 *    address (service/seccomp_data.c) on this thread, so src cannot change under it.
 *    An ICMP error for a connected raw socket sets its SO_ERROR and puts an empty
 *    message in the pair as an error marker (a source of its own): a trapped receive
 *    fails with the error once; a native one reads an empty datagram, which clears it.
 *
 * Program → network: our end is level-triggered; each readable event takes up to
 * UDP_BATCH datagrams and hands each to udp_sendto() (lwIP fragments what the MTU does
 * not carry). Network → program: udp_in() writes the datagram with its source address,
 * without blocking; a full queue drops it, as a full UDP receive buffer does on Linux.
 * ICMP errors reach a connected socket as an error record (ECONNREFUSED for "port
 * unreachable"), which the program's next receive returns, as on Linux.
 *
 * The relay (--outbound): a datagram to a destination outside the virtual network, which
 * the policy allows, goes out through a kernel UDP socket of the service's namespace,
 * one per program socket, made on its first such datagram (struct nc_udp_relay, in the
 * epoll set); what that socket receives comes back through arrived() with its real
 * source, exactly as a datagram from lwIP does, so framed and raw sockets, held-back
 * sources and the receive budget all apply unchanged. A connected socket never needs it
 * (its connect outside got a kernel socket of its own: outbound.c). Why a relay and not
 * a kernel socket handed over: docs/architecture.md, "The way out".
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/ip6_addr.h"
#include "lwip/nd6.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#include "addr.h"
#include "log.h"
#include "route.h"
#include "service/seccomp.h"
#include "service/sock.h"

#define UDP_BATCH      64               /* datagrams taken from one program per event */
#define UDP_QUEUE      (4 * 1024 * 1024) /* bytes queued towards the program (SO_SNDBUF) */
#define UDP_IOV_MAX    64

/* A datagram held back from a raw socket's pair (see the head of this file). */
struct nc_udp_held {
	struct nc_udp_held *next;
	struct nc_addr from;
	int err;                     /* an error marker (no payload) */
	size_t len;
	uint8_t data[];
};

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		   u16_t port);

struct nc_sock *nc_udp_pcb_sock(struct udp_pcb *pcb)
{
	return pcb->recv == udp_in ? pcb->recv_arg : NULL;
}

/* Our address in place of the wildcard (what Linux's getsockname shows once connected):
 * the IPv4 one, or the IPv6 source address lwIP picks for the peer. */
static void local_for_peer(struct nc_service *svc, struct nc_sock *s, const ip_addr_t *peer,
			   struct nc_addr *out)
{
	ip_addr_t ip = s->udp.pcb->local_ip;

	if (ip_addr_isany(&ip) || IP_IS_ANY_TYPE_VAL(ip)) {
		const ip_addr_t *src = NULL;
		if (IP_IS_V6(peer))
			src = ip6_select_source_address(&svc->netif, ip_2_ip6(peer));
		if (src)
			ip = *src;
		else
			ip = (ip_addr_t)IPADDR4_INIT(svc->cfg.ip.s_addr);
	}
	nc_sock_addr(s, out, &ip, s->udp.pcb->local_port);
}

/* struct nc_addr → lwIP address of a peer (IPv4, IPv6 or IPv4-mapped). 0, or -errno. */
static int peer_ip(struct nc_service *svc, const struct nc_addr *in, ip_addr_t *ip)
{
	struct nc_addr a = *in;
	int r;

	nc_addr_unmap_v4(&a);
	r = nc_addr_to_lwip(&a, ip);
	if (r == 0 && IP_IS_V6(ip)) {
		ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNICAST, &svc->netif);
	}
	return r;
}

int nc_udp_bind(struct nc_service *svc, const struct nc_bind_req *req, int raw, int *app_fd,
		struct nc_addr *local)
{
	int v6 = req->addr.family == AF_INET6;
	int v6only = v6 && (req->opts.flags & NC_OPT_V6ONLY);
	struct udp_pcb *pcb;
	struct nc_sock *s;
	struct stat st;
	ip_addr_t ip;
	int sv[2], r, v = UDP_QUEUE;
	u8_t type;
	err_t e;

	r = nc_local_ip_ok(svc, &req->addr, &ip);
	if (r < 0)
		return r;
	/* An AF_INET6 socket on "::" without IPV6_V6ONLY is dual stack, as on Linux. */
	if (!IP_IS_V6(&ip))
		type = IPADDR_TYPE_V4;
	else if (!v6only && ip_addr_isany(&ip))
		type = IPADDR_TYPE_ANY;
	else
		type = IPADDR_TYPE_V6;
	if (v6only && type == IPADDR_TYPE_V4)
		return -EINVAL;   /* an IPv4-mapped address on an IPv6-only socket */
	if (type == IPADDR_TYPE_ANY)
		ip = *IP_ANY_TYPE;
	pcb = udp_new_ip_type(type);
	if (!pcb)
		return -ENOMEM;
	if (req->opts.flags & (NC_OPT_REUSEADDR | NC_OPT_REUSEPORT))
		ip_set_option(pcb, SOF_REUSEADDR);
	if (req->opts.flags & NC_OPT_BROADCAST)
		ip_set_option(pcb, SOF_BROADCAST);
	if (req->opts.tos > 0 && req->opts.tos < 256)
		pcb->tos = (u8_t)req->opts.tos;
	e = udp_bind(pcb, &ip, req->addr.port);
	if (e == ERR_USE && nc_sock_reap_closed_port(svc, req->addr.port, 1))
		e = udp_bind(pcb, &ip, req->addr.port);   /* closed, though not yet seen */
	if (e != ERR_OK) {
		udp_remove(pcb);
		return e == ERR_USE ? -EADDRINUSE : -EINVAL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		udp_remove(pcb);
		return r;
	}
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fstat(sv[0], &st) < 0) {
		r = -errno;
		goto fail;
	}
	/* Our end's send buffer is the program's receive buffer. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	s = nc_sock_adopt(svc, NC_KIND_UDP, sv[1], st.st_ino);
	if (!s) {
		r = -errno;
		goto fail;
	}
	s->udp.pcb = pcb;
	s->udp.raw = raw ? 1 : 0;
	s->udp.drain.h.type = NC_H_UDP_DRAIN;
	s->udp.drain.s = s;
	s->udp.drain.fd = -1;
	s->udp.relay.h.type = NC_H_UDP_RELAY;
	s->udp.relay.s = s;
	s->udp.relay.fd = -1;
	s->family = v6 ? AF_INET6 : AF_INET;
	s->opt.flags = req->opts.flags & NC_OPT_ALL;
	udp_recv(pcb, udp_in, s);
	if (type == IPADDR_TYPE_ANY) {
		memset(&s->local, 0, sizeof(s->local));
		s->local.family = AF_INET6;
		s->local.port = pcb->local_port;
	} else {
		nc_sock_addr(s, &s->local, &pcb->local_ip, pcb->local_port);
	}
	*app_fd = sv[0];
	*local = s->local;
	return 0;
fail:
	close(sv[0]);
	close(sv[1]);
	udp_remove(pcb);
	return r;
}

int nc_udp_connect(struct nc_service *svc, struct nc_sock *s,
		   const struct nc_connect_req *req, struct nc_connect_rep *rep)
{
	ip_addr_t ip;
	int r;

	if (req->peer.family == AF_UNSPEC) {
		/* Dissolve the association, as connect(AF_UNSPEC) does. */
		udp_disconnect(s->udp.pcb);
		memset(&s->peer, 0, sizeof(s->peer));
		if (IP_IS_ANY_TYPE_VAL(s->udp.pcb->local_ip)) {
			memset(&s->local, 0, sizeof(s->local));
			s->local.family = AF_INET6;
			s->local.port = s->udp.pcb->local_port;
		} else {
			nc_sock_addr(s, &s->local, &s->udp.pcb->local_ip, s->udp.pcb->local_port);
		}
		rep->local = s->local;
		memset(&rep->peer, 0, sizeof(rep->peer));
		return 0;
	}
	r = peer_ip(svc, &req->peer, &ip);
	if (r < 0)
		return r;
	if (req->peer.port == 0)
		return -ECONNREFUSED;   /* Linux: nothing can answer from port 0 */
	if ((IP_IS_V4(&ip) && IP_GET_TYPE(&s->udp.pcb->local_ip) == IPADDR_TYPE_V6) ||
	    (IP_IS_V6(&ip) && IP_GET_TYPE(&s->udp.pcb->local_ip) == IPADDR_TYPE_V4))
		return -ENETUNREACH;   /* the other IP version than the socket carries */
	if (udp_connect(s->udp.pcb, &ip, req->peer.port) != ERR_OK)
		return -EINVAL;
	nc_sock_addr(s, &s->peer, &ip, req->peer.port);
	s->state = NC_STATE_ESTABLISHED;
	local_for_peer(svc, s, &ip, &s->local);
	rep->local = s->local;
	rep->peer = s->peer;
	return 0;
}

/* The socket goes (nc_sock_kill): its pcb with it, and what it held back. */
void nc_udp_release(struct nc_service *svc, struct nc_sock *s)
{
	while (s->udp.held) {
		struct nc_udp_held *h = s->udp.held;
		s->udp.held = h->next;
		free(h);
	}
	s->udp.held_tail = NULL;
	s->udp.held_bytes = 0;
	if (s->udp.drain.fd >= 0) {
		nc_epoll_del(svc, s->udp.drain.fd);
		close(s->udp.drain.fd);
		s->udp.drain.fd = -1;
	s->udp.relay.h.type = NC_H_UDP_RELAY;
	s->udp.relay.s = s;
	s->udp.relay.fd = -1;
	}
	if (s->udp.relay.fd >= 0) {
		nc_epoll_del(svc, s->udp.relay.fd);
		close(s->udp.relay.fd);
		s->udp.relay.fd = -1;
		svc->ob.udp_relays--;
	}
	if (!s->udp.pcb)
		return;
	udp_recv(s->udp.pcb, NULL, NULL);
	udp_remove(s->udp.pcb);
	s->udp.pcb = NULL;
}

/* ---- --outbound: the relay to destinations outside the virtual network ---------------- */

/* Is `to` outside the virtual network (so the relay's, if the policy allows)? */
static int outside(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *to)
{
	struct sockaddr_storage ss;
	socklen_t l = nc_addr_to_sockaddr(to, (struct sockaddr *)&ss, sizeof(ss));

	if (!svc->cfg.outbound.n || nc_udp_is_broadcast(svc, to))
		return 0;
	return sc_route(svc, s->family, &ss, l, 0) != NC_ROUTE_VIRTUAL;
}

/* The relay's kernel socket: of the program's family (dual stack as its pcb is), bound by
 * the kernel on its first send, in the epoll set. 0 or a negative errno. */
static int relay_open(struct nc_service *svc, struct nc_sock *s)
{
	struct nc_udp_relay *rl = &s->udp.relay;
	int fd, v6only = IP_GET_TYPE(&s->udp.pcb->local_ip) == IPADDR_TYPE_V6, r;

	if (rl->fd >= 0)
		return 0;
	fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (s->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (nc_epoll_add(svc, fd, EPOLLIN, &rl->h) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	rl->fd = fd;
	svc->ob.udp_relays++;
	return 0;
}

/* One datagram of s to `to` outside, through the relay. len, or a negative errno. */
static ssize_t relay_send(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *to,
			  const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t l;
	int r;

	/* Asked before, with the program's pid, by the intercept or the supervisor: here
	 * without counting, for what a program wrote into its pair itself. */
	r = nc_outbound_udp_allowed(svc, to, 0, 0);
	if (r < 0)
		return r == -ENOENT ? -ENETUNREACH : r;
	r = relay_open(svc, s);
	if (r < 0)
		return r;
	l = nc_addr_to_sockaddr(to, (struct sockaddr *)&ss, sizeof(ss));
	if (sendto(s->udp.relay.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&ss, l) < 0) {
		svc->ob.udp_relay_dropped++;
		return -errno;
	}
	svc->ob.udp_relay_out++;
	svc->ctr.udp_out++;
	s->bytes_out += len;
	return (ssize_t)len;
}

static void arrived(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *from,
		    struct pbuf *p);

/* Replies (or anything) the relay's socket received: to the program, with their real
 * source, as datagrams from the virtual network are. */
void nc_udp_relay_event(struct nc_service *svc, struct nc_handler *h)
{
	static uint8_t buf[65536];
	struct nc_sock *s = ((struct nc_udp_relay *)h)->s;

	for (int i = 0; i < UDP_BATCH && !s->dead && s->fd >= 0; i++) {
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		struct nc_addr from;
		struct pbuf *p;
		ssize_t n = recvfrom(s->udp.relay.fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&ss, &l);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			continue;   /* an ICMP error of an earlier send: nothing to deliver */
		if (nc_addr_from_sockaddr(&from, (struct sockaddr *)&ss, l) < 0)
			continue;
		if (s->peer.family)
			continue;   /* connected (to the virtual network) since: not its peer */
		if (!(p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM))) {
			svc->ctr.udp_dropped++;
			continue;
		}
		if (n)
			pbuf_take(p, buf, (u16_t)n);
		svc->ob.udp_relay_in++;
		arrived(svc, s, &from, p);
		pbuf_free(p);
	}
}

/*
 * nc_udp_send() - send one datagram of socket s: to `to`, or to the connected peer when
 * to is NULL. Returns len, or a negative errno (-EDESTADDRREQ: no peer; -EMSGSIZE; the
 * route's or lwIP's error). Counted in the service's counters either way. With
 * --outbound, a destination outside the virtual network goes through the relay.
 */
ssize_t nc_udp_send(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *to,
		    const void *buf, size_t len)
{
	struct pbuf *p;
	ip_addr_t ip;
	err_t e;
	int r;

	if (len > NC_DGRAM_MAX)
		return -EMSGSIZE;
	if (!to && !s->peer.family)
		return -EDESTADDRREQ;
	if (to && to->port == 0)
		return -EINVAL;
	if (to && outside(svc, s, to))
		return relay_send(svc, s, to, buf, len);
	if (to && (r = peer_ip(svc, to, &ip)) < 0)
		return r;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOBUFS;
	if (len)
		pbuf_take(p, buf, (u16_t)len);
	e = to ? udp_sendto(s->udp.pcb, p, &ip, to->port) : udp_send(s->udp.pcb, p);
	pbuf_free(p);
	if (e != ERR_OK)
		return e == ERR_RTE ? -ENETUNREACH : nc_lwip_err(e);
	svc->ctr.udp_out++;
	s->bytes_out += len;
	return (ssize_t)len;
}

/* Is `to` (IPv4, or IPv4-mapped) our subnet's broadcast address or the limited one? */
int nc_udp_is_broadcast(struct nc_service *svc, const struct nc_addr *to)
{
	struct nc_addr a = *to;
	uint32_t ip, mask;

	nc_addr_unmap_v4(&a);
	if (a.family != AF_INET)
		return 0;
	memcpy(&ip, a.addr, 4);
	if (ip == INADDR_BROADCAST)
		return 1;
	if (svc->cfg.prefix >= 31)
		return 0;
	mask = svc->cfg.prefix ? htonl(~0u << (32 - svc->cfg.prefix)) : 0;
	return ip == ((svc->cfg.ip.s_addr & mask) | ~mask);
}

/* Send one datagram the program wrote: header + payload in buf (framed), or the payload
 * alone to the connected peer (raw). */
static void udp_out(struct nc_service *svc, struct nc_sock *s, const uint8_t *buf, size_t n)
{
	struct nc_dgram h;
	ssize_t r;

	if (s->udp.raw) {
		/* A native send: to the peer; an unconnected socket has none (Linux says
		 * EDESTADDRREQ; the program's send already succeeded: docs/differences.md). */
		if (nc_udp_send(svc, s, NULL, buf, n) < 0)
			svc->ctr.udp_dropped++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != NC_DGRAM_MAGIC || n - sizeof(h) > NC_DGRAM_MAX) {
		nc_log_ratelimited(NC_LOG_WARN, "udp %u: malformed datagram from the program "
				   "(%zu bytes): dropped", (unsigned)s->udp.pcb->local_port, n);
		svc->ctr.udp_dropped++;
		return;
	}
	r = nc_udp_send(svc, s, h.addr.family == AF_UNSPEC ? NULL : &h.addr,
			buf + sizeof(h), n - sizeof(h));
	if (r < 0)
		svc->ctr.udp_dropped++;
}

void nc_udp_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	/* One datagram with its header, and one byte more to see one that is too long. */
	static uint8_t buf[sizeof(struct nc_dgram) + NC_DGRAM_MAX + 1];
	size_t hl = s->udp.raw ? 0 : sizeof(struct nc_dgram);

	(void)events;
	/* Level-triggered: after UDP_BATCH datagrams the rest comes next turn. */
	for (int i = 0; i < UDP_BATCH; i++) {
		ssize_t n = recv(s->fd, buf, hl + NC_DGRAM_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0 || (n == 0 && !s->udp.raw)) {
			/* Every copy of the program's end is closed (or the pair broke). */
			nc_sock_kill(svc, s);
			return;
		}
		if (n == 0) {
			/* Raw: an empty datagram, or the end of the pair (a hang-up)? */
			struct pollfd pf = { .fd = s->fd, .events = POLLIN };
			if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP)) {
				nc_sock_kill(svc, s);
				return;
			}
		}
		if ((size_t)n < hl || (size_t)n > hl + NC_DGRAM_MAX) {
			svc->ctr.udp_dropped++;
			continue;
		}
		udp_out(svc, s, buf, (size_t)n);
	}
}

/* Hand one message (header + pbuf chain; no header: raw) to the program, without
 * blocking. 0, or a negative errno (-EAGAIN: the program's queue is full). */
static int deliver(struct nc_sock *s, const struct nc_dgram *h, struct pbuf *p)
{
	struct iovec iov[1 + UDP_IOV_MAX];
	struct msghdr m = { .msg_iov = iov };
	int n = 0;

	if (h) {
		iov[n].iov_base = (void *)h;
		iov[n++].iov_len = sizeof(*h);
	}
	for (struct pbuf *q = p; q; q = q->next) {
		if (!q->len)
			continue;
		if (n == 1 + UDP_IOV_MAX) {
			/* A long chain (reassembled fragments): linearize it. */
			struct pbuf *lin = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
			int r;
			if (!lin)
				return -ENOMEM;
			r = deliver(s, h, lin);
			pbuf_free(lin);
			return r;
		}
		iov[n].iov_base = q->payload;
		iov[n++].iov_len = q->len;
	}
	m.msg_iovlen = (size_t)n;
	return sendmsg(s->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* ---- raw sockets: one source in the pair at a time ------------------------------------ */

/* Is the pair empty (every message we wrote consumed)? When it becomes so, an error
 * marker that was in it has been read natively: that read reported the error. */
static int raw_pair_empty(struct nc_sock *s)
{
	int q = 0;

	if (!s->udp.busy)
		return 1;
	if (ioctl(s->fd, SIOCOUTQ, &q) < 0 || q > 0)
		return 0;
	s->udp.busy = 0;
	if (s->udp.src_err) {
		if (s->err == s->udp.src_err)
			s->err = 0;
		s->udp.src_err = 0;
	}
	return 1;
}

static int raw_same(const struct nc_sock *s, const struct nc_addr *from, int err)
{
	return s->udp.src_err == err && memcmp(&s->udp.src, from, sizeof(*from)) == 0;
}

/* Write one datagram (or an error marker: no payload) into the pair. 0 or -errno. */
static int raw_write(struct nc_sock *s, const struct nc_addr *from, int err, struct pbuf *p,
		     const void *buf, size_t len)
{
	int r;

	if (p)
		r = deliver(s, NULL, p);
	else
		r = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
	if (r == 0) {
		s->udp.busy = 1;
		s->udp.src = *from;
		s->udp.src_err = err;
	}
	return r;
}

/* Watch for the program's reads while something is held back, only then. */
static void raw_arm(struct nc_service *svc, struct nc_sock *s)
{
	struct nc_udp_drain *d = &s->udp.drain;
	int want = s->udp.held != NULL;
	struct epoll_event ev = { .events = EPOLLET | (want ? EPOLLOUT : 0), .data.ptr = &d->h };

	if (want == d->armed)
		return;
	if (d->fd < 0) {
		d->fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
		if (d->fd < 0)
			return;
		if (nc_epoll_add(svc, d->fd, ev.events, &d->h) < 0) {
			close(d->fd);
			d->fd = -1;
			return;
		}
	} else if (epoll_ctl(svc->epfd, EPOLL_CTL_MOD, d->fd, &ev) < 0) {
		return;
	}
	d->armed = (unsigned)want;
}

/* If the pair is empty, move every held datagram of the oldest held source into it. */
static void raw_fill(struct nc_service *svc, struct nc_sock *s)
{
	struct nc_udp_held **pp = &s->udp.held, *h, *prev = NULL;
	struct nc_addr from;
	int err;

	if (!s->udp.held || !raw_pair_empty(s))
		return;
	from = s->udp.held->from;
	err = s->udp.held->err;
	s->udp.src_held = 0;
	while ((h = *pp)) {
		if (h->err != err || memcmp(&h->from, &from, sizeof(from)) != 0) {
			prev = h;
			pp = &h->next;
			continue;
		}
		if (raw_write(s, &h->from, h->err, NULL, h->data, h->len) == -EAGAIN) {
			s->udp.src_held = 1;   /* the pair is full: the rest waits */
			break;
		}
		*pp = h->next;
		if (s->udp.held_tail == h)
			s->udp.held_tail = prev;
		s->udp.held_bytes -= h->len;
		if (!h->err) {
			svc->ctr.udp_in++;
			s->bytes_in += h->len;
		}
		free(h);
	}
}

void nc_udp_settle(struct nc_service *svc, struct nc_sock *s)
{
	if (!s->udp.raw)
		return;
	raw_fill(svc, s);
	raw_arm(svc, s);
}

void nc_udp_drain_event(struct nc_service *svc, struct nc_handler *h)
{
	struct nc_sock *s = ((struct nc_udp_drain *)h)->s;

	if (!s->dead && s->fd >= 0)
		nc_udp_settle(svc, s);
}

/* A datagram (p) or an error marker (err) for a raw socket: into the pair at once, or
 * held back behind datagrams of other sources. 0, or -errno when dropped. */
static int raw_in(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *from,
		  int err, struct pbuf *p)
{
	struct nc_udp_held *h;
	size_t len = p ? p->tot_len : 0;
	int r;

	if (s->udp.busy && !raw_same(s, from, err) && raw_pair_empty(s))
		raw_fill(svc, s);
	if ((!s->udp.busy || raw_same(s, from, err)) && !s->udp.src_held) {
		r = raw_write(s, from, err, p, NULL, 0);
		if (r == 0 && !err) {
			svc->ctr.udp_in++;
			s->bytes_in += len;
		}
		raw_arm(svc, s);
		return r;
	}
	if (s->udp.held_bytes + len > UDP_QUEUE || !(h = malloc(sizeof(*h) + len))) {
		raw_arm(svc, s);
		return -ENOBUFS;
	}
	h->next = NULL;
	h->from = *from;
	h->err = err;
	h->len = len;
	if (p)
		pbuf_copy_partial(p, h->data, (u16_t)len, 0);
	if (s->udp.held_tail)
		s->udp.held_tail->next = h;
	else
		s->udp.held = h;
	s->udp.held_tail = h;
	s->udp.held_bytes += len;
	svc->ctr.udp_held++;
	if (raw_same(s, from, err))
		s->udp.src_held = 1;
	raw_arm(svc, s);
	return 0;
}

/* An ICMP error for connected raw socket s: its SO_ERROR, and a marker in the pair that
 * wakes a blocked receive (unless one is there or held already). */
static void raw_error(struct nc_service *svc, struct nc_sock *s, int err)
{
	raw_pair_empty(s);   /* a marker read before this error clears only its own */
	s->err = err;
	if (s->udp.busy && s->udp.src_err)
		return;
	for (struct nc_udp_held *h = s->udp.held; h; h = h->next)
		if (h->err)
			return;
	if (raw_in(svc, s, &s->peer, err, NULL) < 0)
		svc->ctr.udp_dropped++;
}

/* Does a receive on raw socket s have an error to report (or a marker to take)? */
int nc_udp_error_pending(struct nc_sock *s)
{
	return s->err || (s->udp.busy && s->udp.src_err);
}

/*
 * nc_udp_take_error() - the pending error of raw socket s (positive, or 0), cleared as a
 * receive or SO_ERROR clears Linux's sk_err: its markers go too, held ones and the ones
 * in the pair (read through app_fd, a copy of the program's end; the pair holds nothing
 * else while they are in it).
 */
int nc_udp_take_error(struct nc_service *svc, struct nc_sock *s, int app_fd)
{
	struct nc_udp_held **pp = &s->udp.held, *h, *prev = NULL;
	int err = s->err;
	char b;

	s->err = 0;
	while ((h = *pp)) {
		if (!h->err) {
			prev = h;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (s->udp.held_tail == h)
			s->udp.held_tail = prev;
		free(h);
	}
	if (s->udp.busy && s->udp.src_err) {
		for (int i = 0; i < UDP_BATCH; i++)
			if (recv(app_fd, &b, 1, MSG_DONTWAIT) < 0)
				break;
		raw_pair_empty(s);
	}
	nc_udp_settle(svc, s);
	return err;
}

/* A datagram from `from` (in the program's family) for socket s: into its pair. */
static void arrived(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *from,
		    struct pbuf *p)
{
	struct nc_dgram h;

	memset(&h, 0, sizeof(h));
	h.magic = NC_DGRAM_MAGIC;
	h.addr = *from;
	if (s->udp.raw) {
		if (raw_in(svc, s, &h.addr, 0, p) < 0)
			svc->ctr.udp_dropped++;   /* the program's queue is full */
	} else if (deliver(s, &h, p) < 0) {
		svc->ctr.udp_dropped++;   /* the program's queue is full */
	} else {
		svc->ctr.udp_in++;
		s->bytes_in += p->tot_len;
	}
}

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		   u16_t port)
{
	struct nc_sock *s = arg;
	struct nc_addr from;

	(void)pcb;
	if (!s->dead && s->fd >= 0) {
		nc_sock_addr(s, &from, addr, port);
		arrived(s->svc, s, &from, p);
	}
	pbuf_free(p);
}

/* ---- options ---------------------------------------------------------------------- */

/*
 * nc_udp_setopt(), nc_udp_getopt() - the options a UDP socket acts on itself. 0 (and *v
 * for get) or a negative errno; -ENOPROTOOPT for an option that is not UDP's own, which
 * the generic code (sockopt.c) then answers as for any socket.
 */
int nc_udp_setopt(struct nc_sock *s, int level, int name, int v)
{
	if (level == SOL_SOCKET && name == SO_BROADCAST) {
		if (v)
			ip_set_option(s->udp.pcb, SOF_BROADCAST);
		else
			ip_reset_option(s->udp.pcb, SOF_BROADCAST);
		return 0;
	}
	if (level == IPPROTO_IP && name == IP_TTL) {
		if (v == -1)
			v = 64;
		if (v < 1 || v > 255)
			return -EINVAL;
		s->udp.pcb->ttl = (u8_t)v;
		return 0;
	}
	if (level == IPPROTO_IP && name == IP_TOS) {
		s->udp.pcb->tos = (u8_t)(v & 0xfc);
		return 0;
	}
	return -ENOPROTOOPT;
}

int nc_udp_getopt(struct nc_sock *s, int level, int name, int *v)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE: *v = SOCK_DGRAM; return 0;
		case SO_PROTOCOL: *v = IPPROTO_UDP; return 0;
		case SO_ACCEPTCONN: *v = 0; return 0;
		case SO_BROADCAST: *v = !!ip_get_option(s->udp.pcb, SOF_BROADCAST); return 0;
		}
	} else if (level == IPPROTO_IP) {
		switch (name) {
		case IP_TTL: *v = s->udp.pcb->ttl; return 0;
		case IP_TOS: *v = s->udp.pcb->tos; return 0;
		}
	}
	return -ENOPROTOOPT;
}

/* ---- ICMP errors -------------------------------------------------------------------- */

/* The errno Linux gives a connected UDP socket for ICMP destination unreachable/code. */
static int icmp_unreach_errno(int code)
{
	switch (code) {
	case 0: return ENETUNREACH;
	case 1: return EHOSTUNREACH;
	case 2: return ENOPROTOOPT;
	case 3: return ECONNREFUSED;
	default: return 0;
	}
}

/*
 * netcon_ip4_input() - look at every IPv4 packet before lwIP does: an ICMP "destination
 * unreachable" about a datagram a connected UDP socket of ours sent becomes an error
 * record for that socket's program. lwIP itself only counts such messages. Every field
 * is checked (this runs before lwIP validates anything); the packet always goes on to
 * lwIP (returns 0).
 */
int netcon_ip4_input(struct pbuf *p, struct netif *inp)
{
	struct nc_service *svc = inp ? inp->state : NULL;
	uint8_t b[20 + 8 + 60 + 8];
	uint16_t n, hl, tot, ihl2, sport, dport;
	uint32_t src2, dst2;
	int err;

	if (!svc || p->tot_len < 20 + 8 + 20 + 8)
		return 0;
	/* Every IPv4 packet passes here: look at the protocol in place (the first pbuf holds
	 * the header of every frame the links deliver) before copying anything. */
	if (p->len >= 10 && ((const uint8_t *)p->payload)[9] != IPPROTO_ICMP)
		return 0;
	n = pbuf_copy_partial(p, b, (u16_t)(p->tot_len < sizeof(b) ? p->tot_len : sizeof(b)), 0);
	if ((b[0] >> 4) != 4 || b[9] != IPPROTO_ICMP)
		return 0;
	hl = (uint16_t)((b[0] & 15) * 4);
	tot = (uint16_t)(b[2] << 8 | b[3]);
	if (hl != 20 || tot > p->tot_len || tot < hl + 8 + 20 + 8 || n < hl + 8 + 20 + 8)
		return 0;   /* (IP options in an ICMP error are left to lwIP) */
	if (b[hl] != 3 || !(err = icmp_unreach_errno(b[hl + 1])))
		return 0;
	/* The quoted datagram: our IPv4 header, then at least 8 bytes of UDP header. */
	const uint8_t *q = b + hl + 8;
	ihl2 = (uint16_t)((q[0] & 15) * 4);
	if ((q[0] >> 4) != 4 || q[9] != IPPROTO_UDP || ihl2 < 20 || hl + 8 + ihl2 + 8 > n)
		return 0;
	/* The ICMP checksum, over what arrived (not only what we copied). */
	{
		struct pbuf *c = pbuf_alloc(PBUF_RAW, (u16_t)(tot - hl), PBUF_RAM);
		int bad;
		if (!c)
			return 0;
		pbuf_copy_partial(p, c->payload, (u16_t)(tot - hl), hl);
		bad = inet_chksum(c->payload, (u16_t)(tot - hl)) != 0;
		pbuf_free(c);
		if (bad)
			return 0;
	}
	memcpy(&src2, q + 12, 4);
	memcpy(&dst2, q + 16, 4);
	sport = (uint16_t)(q[ihl2] << 8 | q[ihl2 + 1]);
	dport = (uint16_t)(q[ihl2 + 2] << 8 | q[ihl2 + 3]);
	if (src2 != svc->cfg.ip.s_addr)
		return 0;
	for (struct nc_sock *s = svc->socks; s; s = s->next) {
		struct nc_dgram h;

		struct nc_addr pa;

		if (s->kind != NC_KIND_UDP || s->dead || !s->udp.pcb || !s->peer.family)
			continue;
		pa = s->peer;
		nc_addr_unmap_v4(&pa);
		if (pa.family != AF_INET || s->udp.pcb->local_port != sport || pa.port != dport ||
		    memcmp(pa.addr, &dst2, 4) != 0)
			continue;
		if (s->udp.raw) {
			raw_error(svc, s, err);
			break;
		}
		memset(&h, 0, sizeof(h));
		h.magic = NC_DGRAM_MAGIC;
		h.err = err;
		h.addr = s->peer;
		if (send(s->fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			svc->ctr.udp_dropped++;
		break;
	}
	return 0;
}
