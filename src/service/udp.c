/*
 * udp.c — virtual UDP sockets: an lwIP UDP pcb on one side, the program's
 * SOCK_SEQPACKET pair on the other, one message per datagram (struct nc_dgram, then the
 * payload; see include/netcon/rpc.h).
 *
 * A SEQPACKET pair keeps message boundaries and gives the program per-datagram
 * readiness, MSG_PEEK and MSG_TRUNC natively, buffers by bytes (a SOCK_DGRAM pair is
 * limited to net.unix.max_dgram_qlen datagrams, 10 by default), and shows EOF when either
 * side goes away. The intercept (src/intercept/data.c) adds and strips the header.
 *
 * Program → network: our end is level-triggered; each readable event takes up to
 * UDP_BATCH datagrams and hands each to udp_sendto() (lwIP fragments what the MTU does
 * not carry). Network → program: udp_in() writes the datagram with its source address,
 * without blocking; a full queue drops it, as a full UDP receive buffer does on Linux.
 * ICMP errors reach a connected socket as an error record (ECONNREFUSED for "port
 * unreachable"), which the program's next receive returns, as on Linux.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
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
#include "service/sock.h"

#define UDP_BATCH      64               /* datagrams taken from one program per event */
#define UDP_QUEUE      (4 * 1024 * 1024) /* bytes queued towards the program (SO_SNDBUF) */
#define UDP_IOV_MAX    64

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		   u16_t port);

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

int nc_udp_bind(struct nc_service *svc, const struct nc_bind_req *req, int *app_fd,
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

/* The socket goes (nc_sock_kill): its pcb with it. */
void nc_udp_release(struct nc_service *svc, struct nc_sock *s)
{
	(void)svc;
	if (!s->udp.pcb)
		return;
	udp_recv(s->udp.pcb, NULL, NULL);
	udp_remove(s->udp.pcb);
	s->udp.pcb = NULL;
}

/* Send one datagram the program wrote: header + payload in buf. */
static void udp_out(struct nc_service *svc, struct nc_sock *s, const uint8_t *buf, size_t n)
{
	struct nc_dgram h;
	struct pbuf *p;
	ip_addr_t ip;
	size_t len;
	err_t e;

	memcpy(&h, buf, sizeof(h));
	len = n - sizeof(h);
	if (h.magic != NC_DGRAM_MAGIC || len > NC_DGRAM_MAX) {
		nc_log_ratelimited(NC_LOG_WARN, "udp %u: malformed datagram from the program "
				   "(%zu bytes): dropped", (unsigned)s->udp.pcb->local_port, n);
		svc->ctr.udp_dropped++;
		return;
	}
	if (h.addr.family != AF_UNSPEC && (peer_ip(svc, &h.addr, &ip) < 0 || h.addr.port == 0)) {
		svc->ctr.udp_dropped++;
		return;
	}
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p) {
		svc->ctr.udp_dropped++;
		return;
	}
	if (len)
		pbuf_take(p, buf + sizeof(h), (u16_t)len);
	if (h.addr.family == AF_UNSPEC)
		e = s->peer.family ? udp_send(s->udp.pcb, p) : ERR_RTE;
	else
		e = udp_sendto(s->udp.pcb, p, &ip, h.addr.port);
	pbuf_free(p);
	if (e != ERR_OK) {
		svc->ctr.udp_dropped++;
		return;
	}
	svc->ctr.udp_out++;
	s->bytes_out += len;
}

void nc_udp_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	/* One datagram with its header, and one byte more to see one that is too long. */
	static uint8_t buf[sizeof(struct nc_dgram) + NC_DGRAM_MAX + 1];

	(void)events;
	/* Level-triggered: after UDP_BATCH datagrams the rest comes next turn. */
	for (int i = 0; i < UDP_BATCH; i++) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* Every copy of the program's end is closed (or the pair broke). */
			nc_sock_kill(svc, s);
			return;
		}
		if ((size_t)n < sizeof(struct nc_dgram) || (size_t)n >= sizeof(buf)) {
			svc->ctr.udp_dropped++;
			continue;
		}
		udp_out(svc, s, buf, (size_t)n);
	}
}

/* Hand one message (header + pbuf chain) to the program, without blocking. 0, or a
 * negative errno (-EAGAIN: the program's queue is full). */
static int deliver(struct nc_sock *s, const struct nc_dgram *h, struct pbuf *p)
{
	struct iovec iov[1 + UDP_IOV_MAX];
	struct msghdr m = { .msg_iov = iov };
	int n = 0;

	iov[n].iov_base = (void *)h;
	iov[n++].iov_len = sizeof(*h);
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

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		   u16_t port)
{
	struct nc_sock *s = arg;
	struct nc_service *svc = s->svc;
	struct nc_dgram h;

	(void)pcb;
	if (s->dead || s->fd < 0) {
		pbuf_free(p);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.magic = NC_DGRAM_MAGIC;
	nc_sock_addr(s, &h.addr, addr, port);
	if (deliver(s, &h, p) < 0) {
		svc->ctr.udp_dropped++;   /* the program's queue is full */
	} else {
		svc->ctr.udp_in++;
		s->bytes_in += p->tot_len;
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
