/*
 * conn.c — virtual sockets: bound sockets, listeners and TCP connections, each joined to
 * an lwIP pcb and to the service's end of a socketpair whose other end the program holds.
 *
 * DOC: Theory of operation
 *
 * Naming. A virtual socket is named by the inode of the program's end of its socketpair
 * (s->ino). The program proves it holds a socket by sending that fd with a request; the
 * RPC server fstat()s it and looks the inode up here. No number is ever trusted.
 *
 * Kinds. bind() gives the program a SOCK_SEQPACKET end (kind BOUND). listen() keeps that
 * pair (kind LISTENER): each accepted connection is one message on it carrying the new
 * SOCK_STREAM end, so accept() in the program is a local recvmsg(). connect() gives a
 * SOCK_STREAM end (kind CONN), replacing a bound pair if there was one.
 *
 * Families. A socket keeps its program's family (s->family) and reports every address in
 * it. An AF_INET6 socket bound to `::` without IPV6_V6ONLY gets a dual-stack pcb
 * (IPADDR_TYPE_ANY) whose IPv4 connections report ::ffff:a.b.c.d; one that connects to
 * ::ffff:a.b.c.d gets an IPv4 pcb. lwIP compares ports only between pcbs of one type:
 * dual_conflict() adds Linux's rule between dual-stack and single-family pcbs.
 *
 * Data. The service's end is non-blocking and registered edge-triggered.
 *   program → network: on EPOLLIN we read() up to what lwIP's send buffer and queue can
 *   take and tcp_write() it; when lwIP is full we stop and resume in the sent callback.
 *   The program then sees a full socket buffer: back-pressure without service memory.
 *   network → program: the recv callback writes the pbuf chain to our end; tcp_recved()
 *   is called only for the bytes the program's buffer took. The rest waits in s->rxq
 *   (bounded by the TCP window, which it closes) until EPOLLOUT.
 *
 * Close. The socketpair tells us what the program did:
 *   read() == 0 without EPOLLHUP  → shutdown(SHUT_WR): send FIN (tcp_shutdown tx).
 *   EPOLLHUP                      → every copy closed: tcp_close(), which sends FIN, or
 *                                    RST when network data was left unread (as Linux).
 *   EPOLLERR (ECONNRESET on read) → closed with our data unread: RST (tcp_abort).
 *   SO_LINGER {1, 0}              → RST on close.
 * The other way, a FIN from the network becomes shutdown(SHUT_WR) on our end (the
 * program reads EOF) once every byte before it was delivered.
 *
 * Non-blocking connect. A fresh socketpair end is writable at once, but EPOLLOUT must
 * wait for the handshake. Before handing the program its end we shrink that end's
 * SO_SNDBUF to the minimum and write filler bytes from it until it would block, keeping
 * a duplicate of it (s->app_dup). A Unix stream socket is writable only while its unread
 * sent bytes ×4 ≤ SO_SNDBUF, so the program sees neither POLLOUT nor room to write.
 * When the handshake completes we restore SO_SNDBUF through the duplicate, read the
 * filler from our end and close the duplicate: EPOLLOUT fires, SO_ERROR is 0. When it
 * fails we close our end with the filler unread: the program's end reports
 * EPOLLERR|EPOLLHUP, and SO_ERROR (answered from s->err, kept in a tombstone once the
 * socket is gone) gives ECONNREFUSED or ETIMEDOUT.
 *
 * Lifetimes. lwIP frees a pcb on its own after errors (err callback) and after a full
 * close (ERR_CLSD, or silently from TIME_WAIT): we detach from a pcb as soon as we have
 * nothing more to say on it, and never touch s->pcb after the err callback. Sockets are
 * freed at the end of the loop iteration (zombie list), so an event batch never sees a
 * freed socket.
 */
#include "service.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/etharp.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/sys.h"

#include "addr.h"
#include "log.h"

#define FILLER_CHUNK     512
#define FILLER_MAX       (64 * 1024)
#define SVC_END_SNDBUF   (4 * 1024 * 1024)
#define NC_SNDBUF_MAX    (2 * 1024 * 1024)   /* lwIP send buffer at the largest MSS */
#define NC_UNREACH_MS    3000                /* no ARP answer: EHOSTUNREACH, as Linux */
#define NC_POLL_TICKS    ((1000 + 2 * TCP_TMR_INTERVAL - 1) / (2 * TCP_TMR_INTERVAL))

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void conn_err(void *arg, err_t err);
static void conn_pump_out(struct nc_service *svc, struct nc_sock *s);
static void conn_flush_rxq(struct nc_service *svc, struct nc_sock *s);
static void conn_maybe_finish(struct nc_service *svc, struct nc_sock *s);
static void group_leave(struct nc_sock *s);
static void rxq_drop(struct nc_sock *s);
static void size_sndbuf(struct tcp_pcb *pcb);
static err_t conn_poll(void *arg, struct tcp_pcb *pcb);

/* ---- the table -------------------------------------------------------------------- */

static unsigned hash_ino(ino_t ino)
{
	uint64_t x = (uint64_t)ino * 0x9e3779b97f4a7c15ull;
	return (unsigned)(x >> 40) % NC_HASH_BUCKETS;
}

static void hash_add(struct nc_service *svc, struct nc_sock *s, ino_t ino)
{
	unsigned b = hash_ino(ino);

	s->ino = ino;
	s->hnext = svc->hash[b];
	svc->hash[b] = s;
}

static void hash_del(struct nc_service *svc, struct nc_sock *s)
{
	struct nc_sock **pp = &svc->hash[hash_ino(s->ino)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			return;
		}
	}
}

struct nc_sock *nc_sock_lookup(struct nc_service *svc, ino_t ino)
{
	for (struct nc_sock *s = svc->hash[hash_ino(ino)]; s; s = s->hnext)
		if (s->ino == ino && !s->dead)
			return s;
	return NULL;
}

static void tombstone_put(struct nc_service *svc, ino_t ino, int err)
{
	struct nc_tombstone *t = &svc->tomb[svc->tomb_next++ % NC_TOMBSTONES];

	t->ino = ino;
	t->err = err;
}

/* The error a vanished socket left (its SO_ERROR), or 0; consumed when asked to. A
 * negative value means the inode is known but the error was already read. */
int nc_tombstone_get(struct nc_service *svc, ino_t ino, int consume)
{
	for (unsigned i = 0; i < NC_TOMBSTONES; i++) {
		struct nc_tombstone *t = &svc->tomb[i];
		if (t->ino == ino && ino != 0) {
			int e = t->err;
			if (consume && e > 0)
				t->err = -e;
			return e;
		}
	}
	return 0;
}

struct nc_user *nc_user_get(struct nc_service *svc, uid_t uid)
{
	struct nc_user *u;

	for (u = svc->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->next = svc->users;
	svc->users = u;
	return u;
}

/*
 * sock_new() - a new virtual socket, counted against the user of the current request
 * (or `owner`, for connections a listener accepts). NULL with errno ENOBUFS when that
 * user holds --max-sockets already, or ENOMEM.
 */
static struct nc_sock *sock_new_for(struct nc_service *svc, int kind, struct nc_user *owner)
{
	struct nc_sock *s;

	if (owner && svc->cfg.max_socks_per_user > 0 &&
	    owner->nsocks >= svc->cfg.max_socks_per_user) {
		nc_log_ratelimited(NC_LOG_WARN, "user %u holds %d virtual sockets, the limit "
				   "(--max-sockets): refusing another", (unsigned)owner->uid,
				   owner->nsocks);
		errno = ENOBUFS;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->owner = owner;
	if (owner)
		owner->nsocks++;
	s->h.type = NC_H_SOCK;
	s->svc = svc;
	s->kind = kind;
	s->fd = -1;
	s->app_dup = -1;
	s->next = svc->socks;
	if (svc->socks)
		svc->socks->prev = s;
	svc->socks = s;
	svc->nsocks[kind]++;
	return s;
}

static struct nc_sock *sock_new(struct nc_service *svc, int kind)
{
	return sock_new_for(svc, kind, svc->cur_user);
}

static void pcb_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	if (pcb->state == LISTEN) {
		tcp_accept(pcb, NULL);
		return;
	}
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

/*
 * pcb_abort() - reset a connection (RST) and free its pcb. A callback of that pcb must
 * then return ERR_ABRT, and only then: the callbacks compare svc->aborted_pcb.
 */
static void pcb_abort(struct nc_service *svc, struct tcp_pcb *pcb)
{
	pcb_detach(pcb);
	svc->aborted_pcb = (uintptr_t)pcb;
	tcp_abort(pcb);
}

/* What an lwIP callback of pcb returns once it is done. */
static err_t cb_result(struct nc_service *svc, struct tcp_pcb *pcb)
{
	return svc->aborted_pcb == (uintptr_t)pcb ? ERR_ABRT : ERR_OK;
}

static void sock_set_kind(struct nc_service *svc, struct nc_sock *s, int kind)
{
	svc->nsocks[s->kind]--;
	s->kind = kind;
	svc->nsocks[kind]++;
}

/*
 * sock_kill() - forget a socket: close our end, drop queued data, leave the pcb (which
 * the caller has closed, aborted or detached) and free the memory after this batch.
 */
static void sock_kill(struct nc_service *svc, struct nc_sock *s)
{
	if (s->dead)
		return;
	s->dead = 1;
	if (s->upcb)
		nc_udp_release(svc, s);
	if (s->kind == NC_KIND_LISTENER)
		group_leave(s);
	if (s->pcb) {
		pcb_detach(s->pcb);
		if (s->pcb->state == LISTEN) {
			tcp_close(s->pcb);
		} else if (tcp_close(s->pcb) != ERR_OK) {
			pcb_abort(svc, s->pcb);
		}
		s->pcb = NULL;
	}
	hash_del(svc, s);
	if (s->fd >= 0) {
		nc_epoll_del(svc, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	if (s->app_dup >= 0) {
		close(s->app_dup);
		s->app_dup = -1;
	}
	rxq_drop(s);
	free(s->stash);
	s->stash = NULL;
	/* A listener's connections that never reached the program die with it. */
	while (s->pending) {
		struct nc_sock *c = s->pending;
		s->pending = c->pnext;
		c->pnext = NULL;
		if (c->pcb) {
			pcb_abort(svc, c->pcb);
			c->pcb = NULL;
		}
		sock_kill(svc, c);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		svc->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	svc->nsocks[s->kind]--;
	if (s->owner) {
		s->owner->nsocks--;
		s->owner = NULL;
	}
	s->pnext = svc->zombies;
	svc->zombies = s;
}

void nc_sock_reap(struct nc_service *svc)
{
	while (svc->zombies) {
		struct nc_sock *s = svc->zombies;
		svc->zombies = s->pnext;
		free(s);
	}
}

/* Reset every connection and close every listener: the service is stopping. */
void nc_sock_close_all(struct nc_service *svc)
{
	svc->dirty = NULL;
	while (svc->socks) {
		struct nc_sock *s = svc->socks;
		if (s->pcb && s->pcb->state != LISTEN) {
			pcb_abort(svc, s->pcb);
			s->pcb = NULL;
		}
		sock_kill(svc, s);
	}
	nc_sock_reap(svc);
	while (svc->users) {
		struct nc_user *u = svc->users;
		svc->users = u->next;
		free(u);
	}
}

/* ---- socketpairs ------------------------------------------------------------------ */

/*
 * fill_seqpacket() - make the program's end of a bound socket or listener never
 * writable, as a listening TCP socket never is (poll gives POLLIN or nothing, never
 * POLLOUT; a program that waits for "readable or writable" on a listener must not spin).
 * A SOCK_SEQPACKET end is writable while its unread sent bytes ×4 ≤ SO_SNDBUF: shrink
 * SO_SNDBUF to the minimum and send small messages from it until it would block. They
 * stay unread in our end's queue (we never read a listener's pair) and go with the pair.
 */
static void fill_seqpacket(int app)
{
	static const char zeros[64];
	int one = 1;

	setsockopt(app, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	for (int i = 0; i < 256; i++)
		if (send(app, zeros, sizeof(zeros), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
}

/*
 * make_pair() - create a socketpair of `type`; our end non-blocking. Returns 0 and the
 * two fds and the inode of the program's end, or a negative errno.
 */
static int make_pair(int type, int *app_fd, int *svc_fd, ino_t *ino)
{
	int sv[2], v = SVC_END_SNDBUF;
	struct stat st;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fstat(sv[0], &st) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (type == SOCK_STREAM) {
		/* Room for a TCP window's worth of data on its way to the program. */
		if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
			setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	} else {
		fill_seqpacket(sv[0]);
	}
	*app_fd = sv[0];
	*svc_fd = sv[1];
	*ino = st.st_ino;
	return 0;
}

void nc_addr_from_lwip(struct nc_addr *a, const ip_addr_t *ip, u16_t port)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (IP_IS_V6(ip)) {
		a->family = AF_INET6;
		memcpy(a->addr, ip_2_ip6(ip)->addr, 16);
		return;
	}
	a->family = AF_INET;
	if (!IP_IS_ANY_TYPE_VAL(*ip))
		memcpy(a->addr, &ip_2_ip4(ip)->addr, 4);
}

/* An lwIP address as socket s reports it: IPv4 as ::ffff:a.b.c.d on an AF_INET6 socket,
 * as Linux does for IPv4 connections of dual-stack sockets. */
static void sock_addr(const struct nc_sock *s, struct nc_addr *a, const ip_addr_t *ip,
		      u16_t port)
{
	nc_addr_from_lwip(a, ip, port);
	if (s->family == AF_INET6)
		nc_addr_map_v4(a);
}

int nc_ip6_is_ours(struct nc_service *svc, const uint8_t a[16])
{
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (ip6_addr_isvalid(netif_ip6_addr_state(&svc->netif, i)) &&
		    memcmp(netif_ip6_addr(&svc->netif, i)->addr, a, 16) == 0)
			return 1;
	return 0;
}

int nc_ip6_on_link(struct nc_service *svc, const uint8_t a[16])
{
	for (int i = 0; i < svc->cfg.n_ip6; i++)
		if (nc_ip6_in_prefix(a, svc->cfg.ip6[i].s6_addr, svc->cfg.prefix6[i]))
			return 1;
	return 0;
}

static void apply_opts(struct nc_sock *s, const struct nc_sockopts *o)
{
	s->so_flags = o->flags & NC_OPT_ALL;
	if (s->family != AF_INET6)
		s->so_flags &= ~(uint32_t)NC_OPT_V6ONLY;
	s->linger_secs = o->linger_secs;
	if (!s->pcb)
		return;
	if (o->flags & NC_OPT_REUSEADDR)
		ip_set_option(s->pcb, SOF_REUSEADDR);
	if (s->pcb->state == LISTEN)
		return;
	if (o->flags & NC_OPT_KEEPALIVE)
		ip_set_option(s->pcb, SOF_KEEPALIVE);
	if (o->flags & NC_OPT_NODELAY)
		tcp_nagle_disable(s->pcb);
	if (o->keepidle > 0)
		s->pcb->keep_idle = (u32_t)o->keepidle * 1000u;
	if (o->keepintvl > 0)
		s->pcb->keep_intvl = (u32_t)o->keepintvl * 1000u;
	if (o->keepcnt > 0)
		s->pcb->keep_cnt = (u32_t)o->keepcnt;
	if (o->tos > 0 && o->tos < 256)
		s->pcb->tos = (u8_t)o->tos;
}

static int lwip_to_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return ENOBUFS;
	case ERR_BUF: return ENOBUFS;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_RTE: return ENETUNREACH;
	case ERR_INPROGRESS: return EINPROGRESS;
	case ERR_VAL: return EINVAL;
	case ERR_WOULDBLOCK: return EWOULDBLOCK;
	case ERR_USE: return EADDRINUSE;
	case ERR_ALREADY: return EALREADY;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_IF: return EIO;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_RST: return ECONNRESET;
	case ERR_CLSD: return ENOTCONN;
	case ERR_ARG: return EINVAL;
	default: return EIO;
	}
}

/* Our address or the wildcard, else EADDRNOTAVAIL. */
int nc_local_ip_ok(struct nc_service *svc, const struct nc_addr *a, ip_addr_t *ip)
{
	static const uint8_t zero[16];
	uint32_t v;

	if (a->family == AF_INET6 && !nc_ip6_is_v4mapped(a->addr)) {
		if (memcmp(a->addr, zero, 16) != 0 && !nc_ip6_is_ours(svc, a->addr))
			return -EADDRNOTAVAIL;
		ip_addr_set_zero_ip6(ip);
		memcpy(ip_2_ip6(ip)->addr, a->addr, 16);
		return 0;
	}
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	memcpy(&v, a->family == AF_INET6 ? a->addr + 12 : a->addr, 4);
	if (v != 0 && v != svc->cfg.ip.s_addr)
		return -EADDRNOTAVAIL;
	*ip = (ip_addr_t)IPADDR4_INIT(v);
	return 0;
}

/*
 * dual_conflict() - lwIP's tcp_bind() and tcp_listen() compare a port only with pcbs of
 * the same address type, and a dual-stack pcb (IPADDR_TYPE_ANY: an AF_INET6 socket on
 * `::` without IPV6_V6ONLY) is a type of its own for tcp_listen() and counts as IPv4 for
 * tcp_bind(). Linux treats it as a wildcard of both families. This checks the pairs
 * lwIP misses — a dual-stack pcb against an IPv4 or IPv6 one on the same port — with
 * Linux's rule: they conflict unless both have SO_REUSEADDR and the other one is not
 * listening (`listening`: the check for listen(), where only listeners count).
 * Returns 1 for a conflict.
 */
static int dual_conflict(const struct tcp_pcb *self, u8_t type, u16_t port, int reuse,
			 int listening)
{
	if (port == 0)
		return 0;
	for (int i = 0; i < NUM_TCP_PCB_LISTS; i++) {
		for (struct tcp_pcb *c = *tcp_pcb_lists[i]; c; c = c->next) {
			u8_t ct = IP_GET_TYPE(&c->local_ip);
			if (c == self || c->local_port != port || c->state == TIME_WAIT)
				continue;
			if (ct == type || (ct != IPADDR_TYPE_ANY && type != IPADDR_TYPE_ANY))
				continue;   /* lwIP's own checks cover these */
			if (listening) {
				if (c->state == LISTEN)
					return 1;
				continue;
			}
			if (reuse && ip_get_option(c, SOF_REUSEADDR) && c->state != LISTEN)
				continue;
			return 1;
		}
	}
	return 0;
}

/* ---- bind, listen ----------------------------------------------------------------- */

/*
 * nc_sock_reap_closed_port() - finish the close of every bound socket and listener on port whose
 * program has closed it already, though its hang-up is still waiting in our epoll queue:
 * a program that closes a listener and binds its port again at once (iperf3 does) sends
 * the bind before we see the close, and Linux freed the port at close. Returns how many
 * were closed (then try again). udp: UDP sockets, else TCP bound sockets and listeners.
 */
int nc_sock_reap_closed_port(struct nc_service *svc, u16_t port, int udp)
{
	int n = 0;

	for (int pass = 0; pass < 64; pass++) {
		struct nc_sock *s;

		for (s = svc->socks; s; s = s->next) {
			struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };

			if (s->dead || s->fd < 0 || s->local.port != port ||
			    (udp ? s->kind != NC_KIND_UDP :
			     s->kind != NC_KIND_BOUND && s->kind != NC_KIND_LISTENER))
				continue;
			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
				break;
		}
		if (!s)
			break;
		sock_kill(svc, s);   /* may kill others: walk again from the head */
		n++;
	}
	return n;
}

int nc_sock_bind(struct nc_service *svc, const struct nc_bind_req *req, int *app_fd,
		 struct nc_addr *local)
{
	struct nc_sock *s;
	struct tcp_pcb *pcb;
	ip_addr_t ip;
	ino_t ino;
	int r, a, f;
	err_t e;

	u8_t type = IPADDR_TYPE_V4;
	int v6only = req->addr.family == AF_INET6 && (req->opts.flags & NC_OPT_V6ONLY);
	int reuse = !!(req->opts.flags & (NC_OPT_REUSEADDR | NC_OPT_REUSEPORT));

	r = nc_local_ip_ok(svc, &req->addr, &ip);
	if (r < 0)
		return r;
	if (req->addr.family == AF_INET6) {
		if (nc_ip6_is_v4mapped(req->addr.addr)) {
			if (v6only)
				return -EINVAL;       /* Linux: no IPv4 on a V6ONLY socket */
		} else if (ip_addr_isany(&ip) && !v6only) {
			/* `::` without IPV6_V6ONLY: dual stack, IPv4 connections too */
			type = IPADDR_TYPE_ANY;
			ip = *IP_ANY_TYPE;
		} else {
			type = IPADDR_TYPE_V6;
		}
	}
	if (dual_conflict(NULL, type, req->addr.port, reuse, 0) &&
	    (!nc_sock_reap_closed_port(svc, req->addr.port, 0) ||
	     dual_conflict(NULL, type, req->addr.port, reuse, 0)))
		return -EADDRINUSE;
	pcb = tcp_new_ip_type(type);
	if (!pcb)
		return -ENOMEM;
	if (reuse)
		ip_set_option(pcb, SOF_REUSEADDR);
	e = tcp_bind(pcb, &ip, req->addr.port);
	if (e == ERR_USE && nc_sock_reap_closed_port(svc, req->addr.port, 0))
		e = tcp_bind(pcb, &ip, req->addr.port);
	if (e != ERR_OK) {
		tcp_close(pcb);
		return -lwip_to_errno(e);
	}
	r = make_pair(SOCK_SEQPACKET, &a, &f, &ino);
	if (r < 0) {
		tcp_close(pcb);
		return r;
	}
	s = sock_new(svc, NC_KIND_BOUND);
	if (!s) {
		r = -errno;
		tcp_close(pcb);
		close(a);
		close(f);
		return r;
	}
	s->pcb = pcb;
	s->fd = f;
	s->family = req->addr.family == AF_INET6 ? AF_INET6 : AF_INET;
	hash_add(svc, s, ino);
	apply_opts(s, &req->opts);
	/* The address as the program gave it (`::`, ::ffff:a.b.c.d, ...), with the port. */
	s->local = req->addr;
	s->local.port = pcb->local_port;
	s->local.scope_id = 0;
	if (nc_epoll_add(svc, f, EPOLLRDHUP | EPOLLET, &s->h) < 0) {
		close(a);
		sock_kill(svc, s);
		return -ENOMEM;
	}
	*app_fd = a;
	*local = s->local;
	return 0;
}

static err_t listener_accept(void *arg, struct tcp_pcb *newpcb, err_t err);

/*
 * group_join() - listen() on a bound socket whose port another listener holds: with
 * SO_REUSEPORT on both (and the same user, as Linux requires), s joins that listener's
 * group instead of making a pcb of its own (lwIP allows one listening pcb per address and
 * port). 0, or -EADDRINUSE.
 */
static int group_join(struct nc_service *svc, struct nc_sock *s, int backlog)
{
	struct nc_sock *l;

	if (!(s->so_flags & NC_OPT_REUSEPORT))
		return -EADDRINUSE;
	for (l = svc->socks; l; l = l->next)
		if (l->kind == NC_KIND_LISTENER && !l->dead && l->pcb && l->gnext &&
		    (l->so_flags & NC_OPT_REUSEPORT) && l->owner == s->owner &&
		    !memcmp(&l->local, &s->local, sizeof(s->local)))
			break;
	if (!l)
		return -EADDRINUSE;
	pcb_detach(s->pcb);
	tcp_close(s->pcb);           /* the bound pcb; the group's pcb is l's */
	s->pcb = NULL;
	s->backlog = backlog;
	s->gnext = l->gnext;
	l->gnext = s;
	sock_set_kind(svc, s, NC_KIND_LISTENER);
	nc_epoll_del(svc, s->fd);
	nc_epoll_add(svc, s->fd, EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h);
	return 0;
}

/* group_leave() - a listener goes: out of its group; its pcb, if it had the group's,
 * goes to the next member. */
static void group_leave(struct nc_sock *s)
{
	struct nc_sock *p, *next = s->gnext;

	if (!next || next == s) {
		s->gnext = s->grr = NULL;
		return;
	}
	for (p = next; p->gnext != s; p = p->gnext)
		;
	p->gnext = next;
	for (p = next; ; p = p->gnext) {   /* nobody's round robin may point at s */
		if (p->grr == s)
			p->grr = next;
		if (p->gnext == next)
			break;
	}
	if (s->pcb) {
		next->pcb = s->pcb;
		next->grr = next;
		tcp_arg(next->pcb, next);
		s->pcb = NULL;
	}
	s->gnext = s->grr = NULL;
}

/* The member of l's group that takes the next connection: round robin, preferring one
 * whose program is keeping up (nothing pending). */
static struct nc_sock *group_pick(struct nc_sock *l)
{
	struct nc_sock *start = l->grr ? l->grr : l, *m = start;

	if (!l->gnext || l->gnext == l)
		return l;
	do {
		if (!m->dead && !m->pending) {
			l->grr = m->gnext;
			return m;
		}
		m = m->gnext;
	} while (m != start);
	l->grr = start->gnext;
	return start;
}

int nc_sock_listen(struct nc_service *svc, struct nc_sock *s, const struct nc_listen_req *req,
		   int *app_fd, struct nc_addr *local)
{
	int backlog = req->backlog;
	struct tcp_pcb *lpcb;
	err_t e;

	*app_fd = -1;
	if (backlog < 1)
		backlog = 1;
	if (backlog > 255)
		backlog = 255;
	if (!s) {
		struct nc_bind_req b;
		int r;

		memset(&b, 0, sizeof(b));
		b.addr.family = req->family == AF_INET6 ? AF_INET6 : AF_INET;
		b.opts = req->opts;
		r = nc_sock_bind(svc, &b, app_fd, local);
		if (r < 0)
			return r;
		s = svc->socks;   /* sock_new() puts the new socket first */
	}
	if (s->kind == NC_KIND_LISTENER) {
		/* listen() again: Linux only changes the backlog. */
		s->backlog = backlog;
		if (s->pcb)
			tcp_backlog_set(s->pcb, (u8_t)backlog);
		*local = s->local;
		return 0;
	}
	if (s->kind != NC_KIND_BOUND || !s->pcb)
		return -EINVAL;
	for (int tries = 0; tries < 2; tries++) {
		if (dual_conflict(s->pcb, IP_GET_TYPE(&s->pcb->local_ip), s->pcb->local_port, 0, 1)) {
			lpcb = NULL;
			e = ERR_USE;
		} else {
			lpcb = tcp_listen_with_backlog_and_err(s->pcb, (u8_t)backlog, &e);
		}
		if (lpcb || e != ERR_USE || !nc_sock_reap_closed_port(svc, s->local.port, 0))
			break;
	}
	if (!lpcb && e == ERR_USE && group_join(svc, s, backlog) == 0) {
		*local = s->local;
		return 0;
	}
	if (!lpcb) {
		if (*app_fd >= 0) {
			close(*app_fd);
			*app_fd = -1;
			sock_kill(svc, s);
		}
		return -lwip_to_errno(e);
	}
	s->pcb = lpcb;
	s->backlog = backlog;
	s->gnext = s->grr = s;
	sock_set_kind(svc, s, NC_KIND_LISTENER);
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, listener_accept);
	/* EPOLLOUT: room again in the accept queue for connections that waited. */
	nc_epoll_del(svc, s->fd);
	nc_epoll_add(svc, s->fd, EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h);
	*local = s->local;
	return 0;
}

/* ---- accept ----------------------------------------------------------------------- */

/* Hand one accepted connection to the program through the listener's pair. 0, -EAGAIN
 * (queue full: try again on EPOLLOUT) or another negative errno. */
static int deliver_accept(struct nc_sock *l, struct nc_sock *c)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct nc_accept_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg;
	struct cmsghdr *cm;

	memset(&m, 0, sizeof(m));
	m.magic = NC_ACCEPT_MAGIC;
	m.local = c->local;
	m.peer = c->peer;
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->app_dup, sizeof(int));
	if (sendmsg(l->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	close(c->app_dup);
	c->app_dup = -1;
	return 0;
}

static void listener_flush(struct nc_service *svc, struct nc_sock *l)
{
	while (l->pending) {
		struct nc_sock *c = l->pending;
		int r;

		if (c->dead || !c->pcb) {
			l->pending = c->pnext;
			c->pnext = NULL;
			continue;
		}
		r = deliver_accept(l, c);
		if (r == -EAGAIN)
			return;
		l->pending = c->pnext;
		c->pnext = NULL;
		if (r < 0) {
			pcb_abort(svc, c->pcb);
			c->pcb = NULL;
			sock_kill(svc, c);
			continue;
		}
		tcp_backlog_accepted(c->pcb);
	}
}

static err_t listener_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct nc_sock *l = arg, *c;
	struct nc_service *svc;
	int a, f, r;
	ino_t ino;

	/* arg is the listening pcb's arg as it was when the SYN came (lwIP copies it into
	 * the new pcb); if the SO_REUSEPORT group's pcb changed hands since (group_leave),
	 * that listener may be freed: ask the listening pcb, which has the current one. */
	if (newpcb && newpcb->listener)
		l = newpcb->listener->callback_arg;
	if (!l || err != ERR_OK || !newpcb)
		return ERR_VAL;
	svc = l->svc;
	l = group_pick(l);
	r = make_pair(SOCK_STREAM, &a, &f, &ino);
	if (r < 0) {
		nc_log_ratelimited(NC_LOG_WARN, "accept: socketpair: %s", strerror(-r));
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	c = sock_new_for(svc, NC_KIND_CONN, l->owner);
	if (!c) {
		close(a);
		close(f);
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	c->pcb = newpcb;
	c->fd = f;
	c->app_dup = a;           /* until the program has it */
	c->state = NC_STATE_ESTABLISHED;
	c->family = l->family;
	c->so_flags = l->so_flags & (NC_OPT_KEEPALIVE | NC_OPT_NODELAY | NC_OPT_V6ONLY);
	/* As Linux, an accepted socket inherits these from its listener. */
	if (c->so_flags & NC_OPT_KEEPALIVE)
		ip_set_option(newpcb, SOF_KEEPALIVE);
	hash_add(svc, c, ino);
	sock_addr(c, &c->local, &newpcb->local_ip, newpcb->local_port);
	sock_addr(c, &c->peer, &newpcb->remote_ip, newpcb->remote_port);
	tcp_arg(newpcb, c);
	tcp_recv(newpcb, conn_recv);
	tcp_sent(newpcb, conn_sent);
	tcp_err(newpcb, conn_err);
	size_sndbuf(newpcb);
	svc->ctr.conns_accepted++;
	if (nc_epoll_add(svc, f, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->h) < 0) {
		pcb_abort(svc, newpcb);
		c->pcb = NULL;
		sock_kill(svc, c);
		return ERR_ABRT;
	}
	if (!l->pending) {
		r = deliver_accept(l, c);
		if (r == 0)
			return ERR_OK;
		if (r != -EAGAIN) {
			pcb_abort(svc, newpcb);
			c->pcb = NULL;
			sock_kill(svc, c);
			return ERR_ABRT;
		}
	}
	/* The program's accept queue is full: hold it, and count it in lwIP's backlog. */
	tcp_backlog_delayed(newpcb);
	struct nc_sock **pp = &l->pending;
	while (*pp)
		pp = &(*pp)->pnext;
	*pp = c;
	return ERR_OK;
}

/* ---- connect ---------------------------------------------------------------------- */

static err_t conn_connected(void *arg, struct tcp_pcb *pcb, err_t err);

/*
 * prepare_filler() - make the program's end unwritable until the connect resolves (see
 * the theory of operation). Returns 0 or a negative errno.
 */
static int prepare_filler(struct nc_sock *s, int a)
{
	static const char zeros[FILLER_CHUNK];
	socklen_t l = sizeof(s->app_sndbuf);
	int one = 1;

	if (getsockopt(a, SOL_SOCKET, SO_SNDBUF, &s->app_sndbuf, &l) < 0)
		return -errno;
	if (setsockopt(a, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) < 0)
		return -errno;
	if (fcntl(a, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	while (s->filler < FILLER_MAX) {
		ssize_t n = send(a, zeros, sizeof(zeros), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		s->filler += (size_t)n;
	}
	s->app_dup = fcntl(a, F_DUPFD_CLOEXEC, 0);
	if (s->app_dup < 0)
		return -errno;
	return 0;
}

/* The connect resolved: give the program its writability back. */
static void finish_connect(struct nc_service *svc, struct nc_sock *s, int ok)
{
	/* Only on success: after a failure the program must see POLLERR|POLLHUP together with
	 * POLLOUT (closing our end with the filler unread does that at once); restoring the
	 * buffer first would let a poll in between report POLLOUT alone. */
	if (ok && s->app_dup >= 0) {
		int v = s->app_sndbuf / 2;
		setsockopt(s->app_dup, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	while (ok && s->filler > 0) {
		size_t want = s->filler < NC_SCRATCH_SIZE ? s->filler : NC_SCRATCH_SIZE;
		ssize_t n = read(s->fd, svc->scratch, want);
		if (n <= 0)
			break;
		s->filler -= (size_t)n;
	}
	if (s->app_dup >= 0) {
		close(s->app_dup);
		s->app_dup = -1;
	}
}

int nc_sock_connect(struct nc_service *svc, struct nc_sock *s,
		    const struct nc_connect_req *req, int *app_fd, struct nc_connect_rep *rep)
{
	struct tcp_pcb *pcb;
	struct nc_addr peer = req->peer;
	ip_addr_t ip;
	uint32_t v = 0;
	ino_t ino;
	int a, f, r, family = req->peer.family;
	err_t e;

	*app_fd = -1;
	if (s) {
		if (s->kind == NC_KIND_LISTENER)
			return -EISCONN;
		if (s->kind == NC_KIND_CONN)
			return s->state == NC_STATE_CONNECTING ? -EALREADY : -EISCONN;
		if (family != s->family)
			return -EAFNOSUPPORT;
	}
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (nc_addr_unmap_v4(&peer) && ((s ? s->so_flags : req->opts.flags) & NC_OPT_V6ONLY))
		return -ENETUNREACH;   /* Linux: a V6ONLY socket has no IPv4 route */
	if (peer.family == AF_INET) {
		memcpy(&v, peer.addr, 4);
		if (v == 0 || !nc_ip4_in_subnet(v, svc->cfg.ip.s_addr, svc->cfg.prefix))
			return -ENETUNREACH;
		ip = (ip_addr_t)IPADDR4_INIT(v);
	} else {
		if (!nc_ip6_on_link(svc, peer.addr) && !nc_ip6_is_ours(svc, peer.addr))
			return -ENETUNREACH;
		ip_addr_set_zero_ip6(&ip);
		memcpy(ip_2_ip6(&ip)->addr, peer.addr, 16);
	}
	if (req->peer.port == 0)
		return -ECONNREFUSED;

	if (s) {
		u8_t t = IP_GET_TYPE(&s->pcb->local_ip);
		pcb = s->pcb;
		if (t == IPADDR_TYPE_ANY) {
			/* bound to `::` (dual stack): the connection takes the peer's version */
			if (IP_IS_V6(&ip))
				ip_addr_set_any(1, &pcb->local_ip);
			else
				ip_addr_set_any(0, &pcb->local_ip);
		} else if (t != IP_GET_TYPE(&ip)) {
			return -ENETUNREACH;   /* bound to an address of the other version */
		}
	} else {
		pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
		if (!pcb)
			return -ENOMEM;
	}
	r = make_pair(SOCK_STREAM, &a, &f, &ino);
	if (r < 0) {
		if (!s)
			tcp_close(pcb);
		return r;
	}
	if (s) {
		/* A bound socket becomes a connection: its SEQPACKET pair goes away (the
		 * intercept replaces the program's end with the new one). */
		hash_del(svc, s);
		nc_epoll_del(svc, s->fd);
		close(s->fd);
		sock_set_kind(svc, s, NC_KIND_CONN);
	} else {
		s = sock_new(svc, NC_KIND_CONN);
		if (!s) {
			r = -errno;
			tcp_close(pcb);
			close(a);
			close(f);
			return r;
		}
		s->pcb = pcb;
		s->family = family;
		apply_opts(s, &req->opts);
	}
	s->fd = f;
	s->state = NC_STATE_CONNECTING;
	hash_add(svc, s, ino);
	r = prepare_filler(s, a);
	if (r < 0)
		goto fail;
	if (nc_epoll_add(svc, f, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	tcp_arg(pcb, s);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_err);
	e = tcp_connect(pcb, &ip, req->peer.port, conn_connected);
	if (e != ERR_OK) {
		r = -lwip_to_errno(e);
		goto fail;
	}
	s->connect_start = sys_now();
	tcp_poll(pcb, conn_poll, NC_POLL_TICKS);
	svc->ctr.conns_opened++;
	if (ip_addr_isany_val(pcb->local_ip) && !IP_IS_V6_VAL(pcb->local_ip))
		ip_addr_copy(pcb->local_ip, *netif_ip_addr4(&svc->netif));
	sock_addr(s, &s->local, &pcb->local_ip, pcb->local_port);
	s->peer = req->peer;
	s->peer.scope_id = 0;
	rep->local = s->local;
	rep->peer = s->peer;
	*app_fd = a;
	return 0;
fail:
	close(a);
	sock_kill(svc, s);
	return r;
}

static err_t conn_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct nc_sock *s = arg;

	if (!s)
		return ERR_OK;
	s->svc->aborted_pcb = 0;
	s->state = NC_STATE_ESTABLISHED;
	tcp_poll(pcb, NULL, 0);
	size_sndbuf(pcb);
	finish_connect(s->svc, s, 1);
	/* The program could not write before; read whatever it wrote since. */
	s->app_readable = 1;
	conn_pump_out(s->svc, s);
	return cb_result(s->svc, pcb);
}

/* ---- the data path ---------------------------------------------------------------- */

/*
 * size_sndbuf() - set up an established connection's sending: no Nagle, and a send
 * buffer sized from its MSS.
 * TCP_SND_BUF suits MTU 1500 (lwIP walks its queues per segment, so a few hundred
 * segments is the sweet spot); with large MTUs the same bytes are only a handful of
 * segments, too few to fill the path. lwIP keeps snd_buf per pcb and never clamps it.
 */
static void size_sndbuf(struct tcp_pcb *pcb)
{
	tcpwnd_size_t want = (tcpwnd_size_t)tcp_mss(pcb) * 32u;

	/* Nagle is already done, by the socketpair: the service reads whatever the program
	 * wrote since its last turn, in one piece. Delaying that piece again until the
	 * previous one is acknowledged only adds the peer's delayed-ACK time to every
	 * request/response exchange (lwIP has no quick-ACK mode as Linux does). TCP_NODELAY
	 * is still recorded and read back as the program set it. */
	tcp_nagle_disable(pcb);

	if (want > NC_SNDBUF_MAX)
		want = NC_SNDBUF_MAX;
	if (want > TCP_SND_BUF && pcb->snd_buf == TCP_SND_BUF)
		pcb->snd_buf = want;
}

static void recved(struct tcp_pcb *pcb, size_t n)
{
	while (n > 0) {
		u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
		tcp_recved(pcb, k);
		n -= k;
	}
}

/* ---- the receive queue (s->rxq): pbufs in a plain list ------------------------------ */

static void rxq_append(struct nc_sock *s, struct pbuf *p)
{
	struct pbuf *last = p;

	s->rxq_bytes += p->tot_len;
	while (last->next)
		last = last->next;
	if (s->rxq)
		s->rxq_tail->next = p;
	else
		s->rxq = p;
	s->rxq_tail = last;
}

/* Free the first pbuf of the queue. */
static void rxq_pop(struct nc_sock *s)
{
	struct pbuf *f = s->rxq;

	s->rxq = f->next;
	if (!s->rxq)
		s->rxq_tail = NULL;
	s->rxq_bytes -= f->len;
	f->next = NULL;
	pbuf_free(f);
}

static void rxq_drop(struct nc_sock *s)
{
	while (s->rxq)
		rxq_pop(s);
	s->rxq_bytes = 0;
}

/*
 * write_to_app() - write the receive queue to the program's socket buffer, as much as it
 * takes, in few system calls; tcp_recved() for what went, so the TCP window reopens
 * exactly as fast as the program reads.
 */
static void write_to_app(struct nc_sock *s)
{
	while (s->rxq) {
		struct iovec iov[64];
		struct msghdr msg;
		size_t total = 0;
		int n = 0;
		ssize_t w;

		for (struct pbuf *q = s->rxq; q && n < 64; q = q->next) {
			if (q->len == 0)
				continue;
			iov[n].iov_base = q->payload;
			iov[n].iov_len = q->len;
			total += q->len;
			n++;
		}
		if (total == 0) {
			rxq_drop(s);
			return;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		w = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* EPIPE: the program shut its read side or is gone: as Linux after
			 * SHUT_RD, the data is acknowledged and dropped. */
			if (s->pcb)
				recved(s->pcb, s->rxq_bytes);
			rxq_drop(s);
			return;
		}
		s->bytes_in += (uint64_t)w;
		if (s->pcb)
			recved(s->pcb, (size_t)w);
		for (size_t left = (size_t)w; left > 0 && s->rxq;) {
			if (left >= s->rxq->len) {
				left -= s->rxq->len;
				rxq_pop(s);
			} else {
				pbuf_remove_header(s->rxq, left);
				s->rxq_bytes -= left;
				left = 0;
			}
		}
		while (s->rxq && s->rxq->len == 0)
			rxq_pop(s);
		if ((size_t)w < total)
			return;   /* partial write: the program's buffer is full */
	}
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct nc_sock *s = arg;
	struct nc_service *svc;

	if (!s) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	svc = s->svc;
	svc->aborted_pcb = 0;
	if (!p) {
		/* FIN: deliver EOF after the data before it. */
		s->net_eof = 1;
		if (s->fin_sent) {
			/* Both directions are done; lwIP finishes (and frees) the pcb alone. */
			pcb_detach(pcb);
			s->pcb = NULL;
		}
		conn_flush_rxq(svc, s);
		conn_maybe_finish(svc, s);
		return cb_result(svc, pcb);
	}
	if (s->app_gone) {
		/* Data for a program that closed its socket: Linux answers with RST. */
		pbuf_free(p);
		pcb_abort(svc, pcb);
		s->pcb = NULL;
		sock_kill(svc, s);
		return ERR_ABRT;
	}
	/* Queue it: everything received in this turn of the event loop goes to the
	 * program in one write (nc_sock_flush_dirty), not one write per segment. */
	rxq_append(s, p);
	if (!s->dirty) {
		/* Appended, not pushed: programs must see data in the order it arrived,
		 * across connections, as they do over one kernel path. */
		s->dirty = 1;
		s->dnext = NULL;
		if (!svc->dirty)
			svc->dirty_tail = &svc->dirty;
		*svc->dirty_tail = s;
		svc->dirty_tail = &s->dnext;
	}
	return ERR_OK;
}

/* Hand the data received in this turn of the loop to the programs. */
void nc_sock_flush_dirty(struct nc_service *svc)
{
	while (svc->dirty) {
		struct nc_sock *s = svc->dirty;

		svc->dirty = s->dnext;
		s->dnext = NULL;
		s->dirty = 0;
		if (s->dead)
			continue;
		conn_flush_rxq(svc, s);
		conn_maybe_finish(svc, s);
	}
}

static void conn_flush_rxq(struct nc_service *svc, struct nc_sock *s)
{
	if (s->rxq)
		write_to_app(s);
	if (!s->rxq && s->net_eof && s->fd >= 0 && !s->app_gone)
		shutdown(s->fd, SHUT_WR);   /* the program reads EOF */
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct nc_sock *s = arg;

	if (!s)
		return ERR_OK;
	s->svc->aborted_pcb = 0;
	if (s->send_blocked || s->app_readable || s->stash || s->fin_pending) {
		s->send_blocked = 0;
		conn_pump_out(s->svc, s);
	}
	return cb_result(s->svc, pcb);
}

/* A connect failed (its pcb is gone): SO_ERROR says why, the program's end reports
 * ERR|HUP (our end closes with the filler unread: ECONNRESET + HUP on theirs). */
static void connect_failed(struct nc_service *svc, struct nc_sock *s, int err)
{
	s->err = err;
	s->state = NC_STATE_CLOSED;
	tombstone_put(svc, s->ino, s->err);
	finish_connect(svc, s, 0);
	sock_kill(svc, s);
}

/* Has neighbour discovery found this IPv6 address (an entry past INCOMPLETE)? */
static int nd6_neighbor_known(const ip6_addr_t *a)
{
	for (int i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++)
		if (neighbor_cache[i].state != ND6_NO_ENTRY &&
		    neighbor_cache[i].state != ND6_INCOMPLETE &&
		    ip6_addr_eq(&neighbor_cache[i].next_hop_address, a))
			return 1;
	return 0;
}

/*
 * conn_poll() - while a connect is in progress, about once a second: when the peer's
 * address has had no ARP answer for NC_UNREACH_MS, give up with EHOSTUNREACH, as Linux
 * does after its neighbour probes fail (lwIP would retransmit the SYN for a minute and
 * then say ETIMEDOUT).
 */
static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct nc_sock *s = arg;
	struct eth_addr *mac;
	const ip4_addr_t *ipr;
	struct nc_service *svc;

	if (!s || s->state != NC_STATE_CONNECTING)
		return ERR_OK;
	svc = s->svc;
	if ((u32_t)(sys_now() - s->connect_start) < NC_UNREACH_MS)
		return ERR_OK;
	if (IP_IS_V6(&pcb->remote_ip)) {
		if (nc_ip6_is_ours(svc, (const uint8_t *)ip_2_ip6(&pcb->remote_ip)->addr) ||
		    nd6_neighbor_known(ip_2_ip6(&pcb->remote_ip)))
			return ERR_OK;
	} else if (ip4_addr_eq(ip_2_ip4(&pcb->remote_ip), netif_ip4_addr(&svc->netif)) ||
		   etharp_find_addr(&svc->netif, ip_2_ip4(&pcb->remote_ip), &mac, &ipr) >= 0) {
		return ERR_OK;
	}
	pcb_abort(svc, pcb);
	s->pcb = NULL;
	connect_failed(svc, s, EHOSTUNREACH);
	return ERR_ABRT;
}

static void conn_err(void *arg, err_t err)
{
	struct nc_sock *s = arg;
	struct nc_service *svc;

	if (!s)
		return;
	svc = s->svc;
	s->pcb = NULL;    /* lwIP has freed it */
	if (s->state == NC_STATE_CONNECTING) {
		if (err == ERR_RST)
			svc->ctr.conns_refused++;
		connect_failed(svc, s, err == ERR_RST ? ECONNREFUSED : ETIMEDOUT);
		return;
	}
	if (err == ERR_CLSD) {
		/* A normal end: our FIN was acknowledged after theirs. */
		s->state = NC_STATE_CLOSED;
	} else {
		s->err = err == ERR_RST ? ECONNRESET : ETIMEDOUT;
		s->state = NC_STATE_CLOSED;
		tombstone_put(svc, s->ino, s->err);
		s->net_eof = 1;
	}
	conn_flush_rxq(svc, s);
	conn_maybe_finish(svc, s);
}

/*
 * conn_pump_out() - move the program's data into lwIP while lwIP has room; then send
 * FIN or close as the program asked.
 */
static void conn_pump_out(struct nc_service *svc, struct nc_sock *s)
{
	struct tcp_pcb *pcb = s->pcb;

	if (!pcb || s->state != NC_STATE_ESTABLISHED)
		goto out;
	if (s->stash) {
		if (tcp_write(pcb, s->stash, (u16_t)s->stash_len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
			s->send_blocked = 1;
			goto out;
		}
		s->bytes_out += s->stash_len;
		free(s->stash);
		s->stash = NULL;
		s->stash_len = 0;
	}
	while (s->app_readable && !s->app_eof) {
		size_t room = tcp_sndbuf(pcb), mss = tcp_mss(pcb) ? tcp_mss(pcb) : 536;
		long qroom = (long)TCP_SND_QUEUELEN - (long)tcp_sndqueuelen(pcb) - 2;
		size_t qbytes = qroom > 0 ? (size_t)qroom * mss : 0;
		ssize_t n;

		if (qbytes < room)
			room = qbytes;
		if (room > 0xffff)
			room = 0xffff;
		if (room == 0 || (room < mss && tcp_sndqueuelen(pcb) > 0)) {
			/* Wait for acknowledgements rather than trickle small segments. */
			s->send_blocked = 1;
			break;
		}
		n = read(s->fd, svc->scratch, room);
		if (n > 0) {
			err_t e = tcp_write(pcb, svc->scratch, (u16_t)n, TCP_WRITE_FLAG_COPY);
			if (e != ERR_OK) {
				/* Keep what we read; it goes first when lwIP has room. */
				s->stash = malloc((size_t)n);
				if (!s->stash) {
					pcb_abort(svc, pcb);
					s->pcb = NULL;
					sock_kill(svc, s);
					return;
				}
				memcpy(s->stash, svc->scratch, (size_t)n);
				s->stash_len = (size_t)n;
				s->send_blocked = 1;
				break;
			}
			s->bytes_out += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			s->app_eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EINTR) {
			s->app_readable = 0;
			break;
		}
		/* ECONNRESET: the program closed with data of ours unread: RST. */
		pcb_abort(svc, pcb);
		s->pcb = NULL;
		sock_kill(svc, s);
		return;
	}
	if (s->pcb)
		tcp_output(s->pcb);
out:
	conn_maybe_finish(svc, s);
}

/*
 * conn_maybe_finish() - take the closing steps that the state allows: FIN after the
 * program's EOF, close or RST when it is gone, forget the socket when nothing is left.
 */
static void conn_maybe_finish(struct nc_service *svc, struct nc_sock *s)
{
	struct tcp_pcb *pcb = s->pcb;

	if (s->dead || s->state == NC_STATE_CONNECTING)
		return;
	if (pcb && s->app_gone && s->app_eof && !s->stash) {
		if (s->so_flags & NC_OPT_LINGER && s->linger_secs == 0) {
			pcb_abort(svc, pcb);
			s->pcb = NULL;
			sock_kill(svc, s);
			return;
		}
		pcb_detach(pcb);
		if (tcp_close(pcb) != ERR_OK)
			pcb_abort(svc, pcb);
		s->pcb = NULL;
		sock_kill(svc, s);
		return;
	}
	if (pcb && s->app_eof && !s->fin_sent && !s->stash) {
		err_t e = tcp_shutdown(pcb, 0, 1);
		if (e == ERR_OK) {
			s->fin_sent = 1;
			s->fin_pending = 0;
			tcp_output(pcb);
			if (s->net_eof) {
				/* Both FINs: lwIP completes the close alone (LAST_ACK). */
				pcb_detach(pcb);
				s->pcb = NULL;
			}
		} else {
			s->fin_pending = 1;
		}
	}
	if (!s->pcb && !s->rxq) {
		/* Nothing more can come from the network. After a clean close both ways
		 * (FIN each way, no error) the program may still hold its socket and ask
		 * about it (TCP_INFO says CLOSE, options read back as set): keep it until
		 * the program closes it (EPOLLHUP). Its end already reads EOF and refuses
		 * writes (it shut them down), so nothing waits on us meanwhile. */
		if (!s->app_gone && s->app_eof && s->net_eof && !s->err && s->fd >= 0) {
			s->state = NC_STATE_CLOSED;
			return;
		}
		if (s->app_gone || s->app_eof || s->state == NC_STATE_CLOSED || s->net_eof)
			sock_kill(svc, s);
	}
}

/* An event on a virtual socket's pair. */
void nc_sock_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	if (s->dead)
		return;
	if (s->kind == NC_KIND_UDP) {
		nc_udp_event(svc, s, events);
		return;
	}
	if (s->kind != NC_KIND_CONN) {
		if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
			/* The program closed its bound socket or listener. */
			sock_kill(svc, s);
			return;
		}
		if (s->kind == NC_KIND_LISTENER && (events & EPOLLOUT))
			listener_flush(svc, s);
		return;
	}
	if (s->state == NC_STATE_CONNECTING)
		return;
	if (events & EPOLLERR) {
		int e = 0;
		socklen_t l = sizeof(e);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l);
		if (e == ECONNRESET || e == EPIPE) {
			/* Closed with our data unread: RST, as Linux does. */
			if (s->pcb) {
				pcb_abort(svc, s->pcb);
				s->pcb = NULL;
			}
			sock_kill(svc, s);
			return;
		}
	}
	if (events & EPOLLHUP)
		s->app_gone = 1;
	if (events & EPOLLOUT)
		conn_flush_rxq(svc, s);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		s->app_readable = 1;
	if (s->app_readable)
		conn_pump_out(svc, s);
	else
		conn_maybe_finish(svc, s);
}

/* ---- options ---------------------------------------------------------------------- */

/*
 * opt_default() - for an option the service stores without acting on it, Linux's value
 * on a fresh TCP socket. Returns 1 for the options we know, 0 for the others: those are
 * refused as Linux refuses what it does not know (ENOPROTOOPT), instead of being
 * remembered and read back as if they meant something.
 */
static int opt_default(int level, int name, int *v)
{
	*v = 0;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_DEBUG: case SO_DONTROUTE: case SO_BROADCAST: case SO_OOBINLINE:
		case SO_NO_CHECK: case SO_PRIORITY: case SO_MARK: case SO_BUSY_POLL:
		case SO_ZEROCOPY: case SO_TIMESTAMP_OLD: case SO_TIMESTAMPNS_OLD:
		case SO_PASSCRED: case SO_PASSSEC: case SO_RXQ_OVFL: case SO_SELECT_ERR_QUEUE:
		case SO_PREFER_BUSY_POLL:
			return 1;
		case SO_INCOMING_CPU:
			*v = -1;
			return 1;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_CORK: case TCP_DEFER_ACCEPT: case TCP_USER_TIMEOUT: case TCP_FASTOPEN:
		case TCP_FASTOPEN_CONNECT: case TCP_WINDOW_CLAMP: case TCP_THIN_LINEAR_TIMEOUTS:
		case TCP_SAVE_SYN: case TCP_INQ: case TCP_TX_DELAY:
			return 1;
		case TCP_QUICKACK: *v = 1; return 1;
		case TCP_SYNCNT: *v = 6; return 1;
		case TCP_LINGER2: *v = 60; return 1;
		case TCP_NOTSENT_LOWAT: *v = -1; return 1;
		case TCP_KEEPIDLE: *v = 7200; return 1;
		case TCP_KEEPINTVL: *v = 75; return 1;
		case TCP_KEEPCNT: *v = 9; return 1;
		}
	} else if (level == IPPROTO_IP) {
		switch (name) {
		case IP_RECVERR: case IP_FREEBIND: case IP_TRANSPARENT: case IP_BIND_ADDRESS_NO_PORT:
		case IP_RECVTOS: case IP_PKTINFO: case IP_TOS:
			return 1;
		case IP_TTL: *v = 64; return 1;
		case IP_MTU_DISCOVER: *v = IP_PMTUDISC_WANT; return 1;
		}
	} else if (level == IPPROTO_IPV6) {
		switch (name) {
		case IPV6_TCLASS: case IPV6_RECVPKTINFO: case IPV6_RECVTCLASS:
			return 1;
		case IPV6_UNICAST_HOPS: *v = 64; return 1;
		case IPV6_MTU_DISCOVER: *v = IPV6_PMTUDISC_WANT; return 1;
		}
	}
	return 0;
}

static int *extra_slot(struct nc_sock *s, int level, int name, int create)
{
	for (int i = 0; i < s->nextra; i++)
		if (s->extra[i][0] == level && s->extra[i][1] == name)
			return &s->extra[i][2];
	if (!create || s->nextra >= NC_EXTRA_OPTS)
		return NULL;
	s->extra[s->nextra][0] = level;
	s->extra[s->nextra][1] = name;
	s->extra[s->nextra][2] = 0;
	return &s->extra[s->nextra++][2];
}

int nc_sock_setopt(struct nc_service *svc, struct nc_sock *s, int level, int name,
		   const void *val, uint32_t len)
{
	struct tcp_pcb *pcb = s->pcb;
	int v = 0;

	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg;
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		if (lg.l_onoff)
			s->so_flags |= NC_OPT_LINGER;
		else
			s->so_flags &= ~(uint32_t)NC_OPT_LINGER;
		s->linger_secs = lg.l_linger;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE)
		return len == 0 || ((const char *)val)[0] == '\0' ? 0 : -ENODEV;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(int));
	if (s->kind == NC_KIND_UDP) {
		int r = nc_udp_setopt(s, level, name, v);
		if (r <= 0)
			return r;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			if (v)
				s->so_flags |= NC_OPT_REUSEADDR;
			else
				s->so_flags &= ~(uint32_t)NC_OPT_REUSEADDR;
			if (pcb) {
				if (v)
					ip_set_option(pcb, SOF_REUSEADDR);
				else
					ip_reset_option(pcb, SOF_REUSEADDR);
			}
			return 0;
		case SO_REUSEPORT:
			if (v)
				s->so_flags |= NC_OPT_REUSEPORT;
			else
				s->so_flags &= ~(uint32_t)NC_OPT_REUSEPORT;
			return 0;
		case SO_KEEPALIVE:
			if (v)
				s->so_flags |= NC_OPT_KEEPALIVE;
			else
				s->so_flags &= ~(uint32_t)NC_OPT_KEEPALIVE;
			if (pcb && pcb->state != LISTEN) {
				if (v)
					ip_set_option(pcb, SOF_KEEPALIVE);
				else
					ip_reset_option(pcb, SOF_KEEPALIVE);
			}
			return 0;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			if (v)
				s->so_flags |= NC_OPT_NODELAY;
			else
				s->so_flags &= ~(uint32_t)NC_OPT_NODELAY;
			/* Recorded only: lwIP never delays small segments (see size_sndbuf()). */
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (pcb && pcb->state != LISTEN) {
				if (name == TCP_KEEPIDLE)
					pcb->keep_idle = (u32_t)v * 1000u;
				else if (name == TCP_KEEPINTVL)
					pcb->keep_intvl = (u32_t)v * 1000u;
				else
					pcb->keep_cnt = (u32_t)v;
			}
			break;   /* also remembered below, for listeners' getsockopt */
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		if (pcb)
			pcb->tos = (u8_t)(v & 0xfc);
		v &= 0xfc;
	} else if (level == IPPROTO_IPV6) {
		if (s->family != AF_INET6)
			return -ENOPROTOOPT;
		/* Linux: IPV6_V6ONLY cannot change once the socket is bound, and a virtual
		 * socket always is. */
		if (name == IPV6_V6ONLY)
			return -EINVAL;
		if (name == IPV6_TCLASS) {
			if (v < -1 || v > 0xff)
				return -EINVAL;
			if (v == -1)
				v = 0;
			if (pcb)
				pcb->tos = (u8_t)v;
		}
	}
	/* Anything else Linux knows is remembered, so that getsockopt() reads back what was
	 * set; what it does not know is refused as it refuses it. */
	int dflt;
	if (!opt_default(level, name, &dflt))
		return -ENOPROTOOPT;
	int *slot = extra_slot(s, level, name, 1);
	if (!slot)
		return -ENOBUFS;
	*slot = v;
	return 0;
}

static int linux_tcp_state(struct nc_sock *s)
{
	if (s->kind == NC_KIND_LISTENER)
		return TCP_LISTEN;
	if (!s->pcb)
		return s->state == NC_STATE_CONNECTING ? TCP_SYN_SENT : TCP_CLOSE;
	switch (s->pcb->state) {
	case CLOSED: return TCP_CLOSE;
	case LISTEN: return TCP_LISTEN;
	case SYN_SENT: return TCP_SYN_SENT;
	case SYN_RCVD: return TCP_SYN_RECV;
	case ESTABLISHED: return TCP_ESTABLISHED;
	case FIN_WAIT_1: return TCP_FIN_WAIT1;
	case FIN_WAIT_2: return TCP_FIN_WAIT2;
	case CLOSE_WAIT: return TCP_CLOSE_WAIT;
	case CLOSING: return TCP_CLOSING;
	case LAST_ACK: return TCP_LAST_ACK;
	case TIME_WAIT: return TCP_TIME_WAIT;
	}
	return TCP_CLOSE;
}

int nc_sock_getopt(struct nc_service *svc, struct nc_sock *s, ino_t ino, int level, int name,
		   void *val, uint32_t *len)
{
	int v;

	if (level == SOL_SOCKET && name == SO_ERROR) {
		if (s) {
			v = s->err;
			s->err = 0;
		} else {
			v = nc_tombstone_get(svc, ino, 1);
			if (v < 0)
				v = 0;
		}
		goto out_int;
	}
	if (!s) {
		/* A connection that is over: the fd is still the program's, and Linux still
		 * answers; TCP_INFO says CLOSE, other options read as zero. */
		struct tcp_info ti;
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = TCP_CLOSE;
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		if (level == IPPROTO_TCP && name == TCP_INFO) {
			memcpy(val, &ti, *len);
			return 0;
		}
		v = 0;
		goto out_int;
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE) {
		*len = 0;   /* bound to no device (sshd asks, for its VRF logic) */
		return 0;
	}
	if (s->kind == NC_KIND_UDP) {
		int r = nc_udp_getopt(s, level, name, &v);
		if (r < 0)
			return r;
		if (r == 0)
			goto out_int;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = { .l_onoff = !!(s->so_flags & NC_OPT_LINGER),
				     .l_linger = s->linger_secs };
		if (*len > sizeof(lg))
			*len = sizeof(lg);
		memcpy(val, &lg, *len);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		struct tcp_info ti;
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = (uint8_t)linux_tcp_state(s);
		if (s->pcb && s->kind == NC_KIND_CONN) {
			ti.tcpi_snd_mss = tcp_mss(s->pcb);
			ti.tcpi_rcv_mss = tcp_mss(s->pcb);
			ti.tcpi_snd_cwnd = s->pcb->cwnd / (tcp_mss(s->pcb) ? tcp_mss(s->pcb) : 1);
			/* milliseconds in our lwIP (patch 0001), microseconds in tcp_info */
			ti.tcpi_rto = (uint32_t)s->pcb->rto * 1000u;
			ti.tcpi_rtt = (uint32_t)(s->pcb->sa >> 3) * 1000u;
			ti.tcpi_rttvar = (uint32_t)(s->pcb->sv >> 2) * 1000u;
			ti.tcpi_unacked = s->pcb->snd_queuelen;
			ti.tcpi_snd_wscale = s->pcb->snd_scale;
			ti.tcpi_rcv_wscale = s->pcb->rcv_scale;
		}
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		memcpy(val, &ti, *len);
		return 0;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE: v = SOCK_STREAM; goto out_int;
		case SO_DOMAIN: v = s->family; goto out_int;
		case SO_PROTOCOL: v = IPPROTO_TCP; goto out_int;
		case SO_ACCEPTCONN: v = s->kind == NC_KIND_LISTENER; goto out_int;
		case SO_REUSEADDR: v = !!(s->so_flags & NC_OPT_REUSEADDR); goto out_int;
		case SO_REUSEPORT: v = !!(s->so_flags & NC_OPT_REUSEPORT); goto out_int;
		case SO_KEEPALIVE: v = !!(s->so_flags & NC_OPT_KEEPALIVE); goto out_int;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY: v = !!(s->so_flags & NC_OPT_NODELAY); goto out_int;
		case TCP_MAXSEG:
			v = s->pcb && s->kind == NC_KIND_CONN ? tcp_mss(s->pcb) : 536;
			goto out_int;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if (s->pcb && s->kind == NC_KIND_CONN) {
				v = name == TCP_KEEPIDLE ? (int)(s->pcb->keep_idle / 1000u) :
				    name == TCP_KEEPINTVL ? (int)(s->pcb->keep_intvl / 1000u) :
				    (int)s->pcb->keep_cnt;
				goto out_int;
			} else {
				int *slot = extra_slot(s, level, name, 0);
				v = slot ? *slot : name == TCP_KEEPIDLE ? 7200 :
				    name == TCP_KEEPINTVL ? 75 : 9;
				goto out_int;
			}
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		v = s->pcb ? s->pcb->tos : 0;
		goto out_int;
	} else if (level == IPPROTO_IPV6) {
		if (s->family != AF_INET6)
			return -EOPNOTSUPP;
		if (name == IPV6_V6ONLY) {
			v = !!(s->so_flags & NC_OPT_V6ONLY);
			goto out_int;
		}
	}
	{
		int *slot = extra_slot(s, level, name, 0);
		if (slot)
			v = *slot;
		else if (!opt_default(level, name, &v))
			return level == SOL_SOCKET || level == IPPROTO_TCP || level == IPPROTO_IP ||
			       level == IPPROTO_IPV6 ? -ENOPROTOOPT : -EOPNOTSUPP;
	}
out_int:
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
	return 0;
}

/* ---- other kinds of socket (udp.c) ------------------------------------------------ */

struct nc_sock *nc_sock_adopt(struct nc_service *svc, int kind, int fd, ino_t ino)
{
	struct nc_sock *s = sock_new(svc, kind);

	if (!s)
		return NULL;
	s->fd = fd;
	hash_add(svc, s, ino);
	if (nc_epoll_add(svc, fd, EPOLLIN | EPOLLRDHUP, &s->h) < 0) {
		sock_kill(svc, s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void nc_sock_destroy(struct nc_service *svc, struct nc_sock *s)
{
	sock_kill(svc, s);
}
