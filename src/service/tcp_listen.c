/*
 * tcp_listen.c — TCP sockets that bind and listen: bind(), listen(), accept() through
 * the listener's socketpair, and SO_REUSEPORT groups.
 *
 * DOC: Theory of operation
 *
 * bind() makes an lwIP pcb bound to the address and a SOCK_SEQPACKET pair (kind BOUND);
 * the program's end is made never writable (nc_sock_pair()), as a listening socket never
 * is. listen() turns the pcb into a listening one and keeps the pair (kind LISTENER).
 * A listen() on a socket never bound binds it first to the wildcard of its family.
 *
 * Accept. Each connection lwIP accepts becomes a connection socket (tcp_conn.c) whose
 * program end travels as one message (struct nc_accept_msg, SCM_RIGHTS) on the
 * listener's pair: accept() in the program is a local recvmsg(), and blocking,
 * non-blocking, epoll and several processes accepting on one listener behave as the
 * kernel's do. When the program's queue is full the connection waits on lsn.pending
 * until EPOLLOUT says there is room again; once listen()'s backlog of them waits, SYNs
 * are dropped (backlog_sync(): half-open connections do not count). Each connection's
 * pair starts with one byte, the accept mark (NC_ACCEPT_MARK), which accept reads away:
 * when the program closes its listener with connections still queued they go with the
 * mark unread, our ends report ECONNRESET and the connections are reset, as Linux does
 * (nc_conn_event()); nc_pcb_release() resets the handshakes still under way.
 *
 * Close, then bind again. The program's close reaches us as a hang-up on the pair, which
 * may still wait in our epoll queue when its next bind or listen arrives; Linux freed the
 * port at close. A bind or listen that finds the port taken first finishes the close of
 * everything on it that the program has closed (nc_sock_reap_closed_port()), then tries
 * again.
 *
 * Families. An AF_INET6 socket bound to `::` without IPV6_V6ONLY gets a dual-stack pcb
 * (IPADDR_TYPE_ANY) whose IPv4 connections report ::ffff:a.b.c.d. lwIP compares ports
 * only between pcbs of one type: dual_conflict() adds Linux's rule between dual-stack
 * and single-family pcbs.
 *
 * SO_REUSEPORT. lwIP allows one listening pcb per address and port. Listeners with
 * SO_REUSEPORT on the same address and port (and the same user, as Linux requires) form
 * a group that shares the first one's pcb: a ring through lsn.gnext; connections go
 * round robin (lsn.grr), preferring a member whose program keeps up. When the member
 * holding the pcb goes, the pcb passes to the next one.
 */
#include "sock.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "addr.h"
#include "log.h"

#ifndef TCP_PORT_HASH_SIZE
/* lwIP before lwip/patches/0009 (a tree patched to a prefix of the series, to measure
 * it): no groups of pcbs by port; each pcb on the port is asked as a group of one. */
typedef int (*tcp_port_fn)(void *arg, const ip_addr_t *ip,
			   const u32_t n[NUM_TCP_PCB_LISTS][2]);

static int tcp_port_foreach(u16_t port, tcp_port_fn fn, void *arg)
{
	for (int i = 0; i < NUM_TCP_PCB_LISTS; i++) {
		for (struct tcp_pcb *c = *tcp_pcb_lists[i]; c; c = c->next) {
			u32_t n[NUM_TCP_PCB_LISTS][2] = { { 0 } };
			int r;

			if (c->local_port != port)
				continue;
			n[i][ip_get_option(c, SOF_REUSEADDR) ? 1 : 0] = 1;
			r = fn(arg, &c->local_ip, (const u32_t (*)[2])n);
			if (r)
				return r;
		}
	}
	return 0;
}
#endif

struct dual_query {
	u8_t type;
	int reuse, listening;
};

/* dual_conflict()'s question to one group of pcbs on the port (tcp_port_foreach(),
 * lwip/patches/0009): ip their address, n[list][SO_REUSEADDR] how many there are on each
 * of lwIP's lists (tcp_pcb_lists: 0 listening, 1 bound, 2 active, 3 TIME_WAIT). */
static int dual_group(void *arg, const ip_addr_t *ip, const u32_t n[NUM_TCP_PCB_LISTS][2])
{
	const struct dual_query *q = arg;
	u8_t ct = IP_GET_TYPE(ip);

	if (ct == q->type || (ct != IPADDR_TYPE_ANY && q->type != IPADDR_TYPE_ANY))
		return 0;   /* lwIP's own checks cover these */
	if (n[0][0] || n[0][1])
		return 1;   /* a listener */
	if (q->listening)
		return 0;
	/* bound or connected (TIME_WAIT never conflicts): unless both have SO_REUSEADDR */
	return n[1][0] || n[2][0] || (!q->reuse && (n[1][1] || n[2][1]));
}

/*
 * dual_conflict() - lwIP's tcp_bind() and tcp_listen() compare a port only with pcbs of
 * the same address type, and a dual-stack pcb (IPADDR_TYPE_ANY: an AF_INET6 socket on
 * `::` without IPV6_V6ONLY) is a type of its own for tcp_listen() and counts as IPv4 for
 * tcp_bind(). Linux treats it as a wildcard of both families. This checks the pairs
 * lwIP misses — a dual-stack pcb against an IPv4 or IPv6 one on the same port — with
 * Linux's rule: they conflict unless both have SO_REUSEADDR and the other one is not
 * listening (`listening`: the check for listen(), where only listeners count, so the
 * socket's own bound pcb never does). It asks lwIP's groups of the port's pcbs, not
 * every pcb. Returns 1 for a conflict.
 */
static int dual_conflict(u8_t type, u16_t port, int reuse, int listening)
{
	struct dual_query q = { .type = type, .reuse = reuse, .listening = listening };

	return port != 0 && tcp_port_foreach(port, dual_group, &q);
}

/* ---- bind, listen ----------------------------------------------------------------- */

/*
 * bind_new() - a new bound TCP socket (see nc_sock_bind()); *out is the socket made.
 * 0, or a negative errno.
 */
static int bind_new(struct nc_service *svc, const struct nc_bind_req *req, int *app_fd,
		    struct nc_addr *local, struct nc_sock **out)
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
	if (dual_conflict(type, req->addr.port, reuse, 0) &&
	    (!nc_sock_reap_closed_port(svc, req->addr.port, 0) ||
	     dual_conflict(type, req->addr.port, reuse, 0)))
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
		return nc_lwip_err(e);
	}
	r = nc_sock_pair(SOCK_SEQPACKET, &a, &f, &ino);
	if (r < 0) {
		tcp_close(pcb);
		return r;
	}
	s = nc_sock_new_tcp(svc, NC_KIND_BOUND, svc->cur_user, pcb, a, f, ino);
	if (!s) {
		r = -errno;
		tcp_close(pcb);
		return r;
	}
	s->family = req->addr.family == AF_INET6 ? AF_INET6 : AF_INET;
	nc_sock_apply_opts(s, &req->opts);
	/* The address as the program gave it (`::`, ::ffff:a.b.c.d, ...), with the port. */
	s->local = req->addr;
	s->local.port = pcb->local_port;
	s->local.scope_id = 0;
	if (nc_epoll_add(svc, f, EPOLLRDHUP | EPOLLET, &s->h) < 0) {
		close(a);
		nc_sock_kill(svc, s);
		return -ENOMEM;
	}
	*app_fd = a;
	*local = s->local;
	*out = s;
	return 0;
}

/* bind() of a TCP socket: a SOCK_SEQPACKET end for the program (*app_fd), the address
 * bound (*local). 0, or a negative errno. */
int nc_sock_bind(struct nc_service *svc, const struct nc_bind_req *req, int *app_fd,
		 struct nc_addr *local)
{
	struct nc_sock *s;

	return bind_new(svc, req, app_fd, local, &s);
}

static err_t listener_accept(void *arg, struct tcp_pcb *newpcb, err_t err);

#define NC_LWIP_BACKLOG_OPEN 255   /* lwIP's backlog while the accept queue has room */

/*
 * backlog_sync() - lwIP counts a listener's connections from their SYN (half-open ones)
 * and those we hold (tcp_backlog_delayed()) against one backlog, and drops SYNs beyond
 * it: with listen()'s value there, a burst of SYNs larger than a small backlog got one
 * SYN-ACK per backlog slot and the rest waited for their retransmission, a second later.
 * Linux limits only its accept queue by the backlog (SYNs beyond it are answered with
 * cookies). So the pcb's backlog stays at NC_LWIP_BACKLOG_OPEN (half-opens up to that
 * many) while a member of l's group holds fewer than its listen() backlog of connections
 * the program's queue had no room for, and is 1 once all of them do: then every SYN is
 * dropped, as Linux drops them while its accept queue is full.
 */
static void backlog_sync(struct nc_sock *l)
{
	struct nc_sock *m = l, *holder = NULL, *c;
	int open = 0, held;
	u8_t lwip_backlog;

	do {
		held = 0;
		for (c = m->lsn.pending; c && held < m->lsn.backlog; c = c->pnext)
			held++;
		if (!m->dead && held < m->lsn.backlog)
			open = 1;
		if (m->pcb)
			holder = m;
		m = m->lsn.gnext;
	} while (m && m != l);
	lwip_backlog = open ? NC_LWIP_BACKLOG_OPEN : 1;
	if (holder)
		tcp_backlog_set(holder->pcb, lwip_backlog);
}

/*
 * group_join() - listen() on a bound socket whose port another listener holds: with
 * SO_REUSEPORT on both (and the same user, as Linux requires), s joins that listener's
 * group instead of making a pcb of its own (lwIP allows one listening pcb per address and
 * port). 0, or -EADDRINUSE.
 */
static int group_join(struct nc_service *svc, struct nc_sock *s, int backlog)
{
	struct nc_sock *l;

	if (!(s->opt.flags & NC_OPT_REUSEPORT))
		return -EADDRINUSE;
	for (l = svc->socks; l; l = l->next)
		if (l->kind == NC_KIND_LISTENER && !l->dead && l->pcb && l->lsn.gnext &&
		    (l->opt.flags & NC_OPT_REUSEPORT) && l->owner == s->owner &&
		    !memcmp(&l->local, &s->local, sizeof(s->local)))
			break;
	if (!l)
		return -EADDRINUSE;
	nc_pcb_detach(s->pcb);
	tcp_close(s->pcb);           /* the bound pcb; the group's pcb is l's */
	s->pcb = NULL;
	s->lsn.backlog = backlog;
	s->lsn.gnext = l->lsn.gnext;
	l->lsn.gnext = s;
	backlog_sync(l);
	nc_sock_set_kind(svc, s, NC_KIND_LISTENER);
	nc_epoll_del(svc, s->fd);
	nc_epoll_add(svc, s->fd, EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h);
	return 0;
}

/* group_leave() - a listener goes: out of its group; its pcb, if it had the group's,
 * goes to the next member. */
static void group_leave(struct nc_sock *s)
{
	struct nc_sock *p, *next = s->lsn.gnext;

	if (!next || next == s) {
		s->lsn.gnext = s->lsn.grr = NULL;
		return;
	}
	for (p = next; p->lsn.gnext != s; p = p->lsn.gnext)
		;
	p->lsn.gnext = next;
	for (p = next; ; p = p->lsn.gnext) {   /* nobody's round robin may point at s */
		if (p->lsn.grr == s)
			p->lsn.grr = next;
		if (p->lsn.gnext == next)
			break;
	}
	if (s->pcb) {
		next->pcb = s->pcb;
		next->lsn.grr = next;
		tcp_arg(next->pcb, next);   /* listener_accept() reads it from there */
		s->pcb = NULL;
	}
	s->lsn.gnext = s->lsn.grr = NULL;
	backlog_sync(next);
}

/* The member of l's group that takes the next connection: round robin, preferring one
 * whose program is keeping up (nothing pending). */
static struct nc_sock *group_pick(struct nc_sock *l)
{
	struct nc_sock *start = l->lsn.grr ? l->lsn.grr : l, *m = start;

	if (!l->lsn.gnext || l->lsn.gnext == l)
		return l;
	do {
		if (!m->dead && !m->lsn.pending) {
			l->lsn.grr = m->lsn.gnext;
			return m;
		}
		m = m->lsn.gnext;
	} while (m != start);
	l->lsn.grr = start->lsn.gnext;
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
		r = bind_new(svc, &b, app_fd, local, &s);
		if (r < 0)
			return r;
	}
	if (s->kind == NC_KIND_LISTENER) {
		/* listen() again: Linux only changes the backlog. */
		s->lsn.backlog = backlog;
		backlog_sync(s);
		*local = s->local;
		return 0;
	}
	if (s->kind != NC_KIND_BOUND || !s->pcb)
		return -EINVAL;
	for (int tries = 0; tries < 2; tries++) {
		if (dual_conflict(IP_GET_TYPE(&s->pcb->local_ip), s->pcb->local_port, 0, 1)) {
			lpcb = NULL;
			e = ERR_USE;
		} else {
			lpcb = tcp_listen_with_backlog_and_err(s->pcb, NC_LWIP_BACKLOG_OPEN, &e);
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
			nc_sock_kill(svc, s);
		}
		return nc_lwip_err(e);
	}
	s->pcb = lpcb;
	s->lsn.backlog = backlog;
	s->lsn.gnext = s->lsn.grr = s;
	nc_sock_set_kind(svc, s, NC_KIND_LISTENER);
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, listener_accept);
	/* EPOLLOUT: room again in the accept queue for connections that waited. */
	nc_epoll_del(svc, s->fd);
	nc_epoll_add(svc, s->fd, EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h);
	*local = s->local;
	return 0;
}

/* ---- accept ----------------------------------------------------------------------- */

/* One accept message (struct nc_accept_msg) with fd on the listener's pair lfd. 0, or
 * a negative errno (-EAGAIN: the queue is full). */
static int send_accept(int lfd, int fd, const struct nc_addr *local,
		       const struct nc_addr *peer, uint32_t flags)
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
	m.flags = flags;
	m.local = *local;
	m.peer = *peer;
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
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(lfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Hand one accepted connection to the program through the listener's pair. 0, -EAGAIN
 * (queue full: try again on EPOLLOUT) or another negative errno. */
static int deliver_accept(struct nc_sock *l, struct nc_sock *c)
{
	int r = send_accept(l->fd, c->conn.app_dup, &c->local, &c->peer, NC_ACCEPT_MARK);

	if (r < 0)
		return r;
	close(c->conn.app_dup);
	c->conn.app_dup = -1;
	return 0;
}

/*
 * nc_listener_take_kernel() - a connection accepted by the kernel on a published port
 * (publish.c), for our listener on `to` if a program of ours listens there: the kernel
 * socket k goes to the program as is (NC_ACCEPT_KERNEL), so that its bytes never pass
 * through us, and peer is the real client. 0 (k is the program's now), -ENOENT (no such
 * listener: k is still the caller's) or another negative errno (k closed).
 */
int nc_listener_take_kernel(struct nc_service *svc, const struct nc_addr *to, int k,
			    const struct nc_addr *peer)
{
	struct tcp_pcb_listen *lp;
	struct nc_sock *l = NULL;
	ip_addr_t ip;
	int r;

	if (to->family == AF_INET ? memcmp(to->addr, &svc->cfg.ip, 4) != 0 :
	    !nc_ip6_is_ours(svc, to->addr))
		return -ENOENT;   /* another service's address: through the network */
	nc_addr_to_lwip(to, &ip);
	for (lp = tcp_listen_pcbs.listen_pcbs; lp && !l; lp = lp->next) {
		if (lp->local_port != to->port || !lp->callback_arg)
			continue;
		if (ip_addr_cmp(&lp->local_ip, &ip) ||
		    (ip_addr_isany(&lp->local_ip) &&
		     (IP_GET_TYPE(&lp->local_ip) == IPADDR_TYPE_ANY ||
		      IP_GET_TYPE(&lp->local_ip) == IP_GET_TYPE(&ip))))
			l = lp->callback_arg;
	}
	if (!l)
		return -ENOENT;
	l = group_pick(l);
	/* A full accept queue refuses the connection (the kernel would keep it in its
	 * backlog a while; our queue is the listener's pair, as large as the program's). */
	r = send_accept(l->fd, k, to, peer, NC_ACCEPT_KERNEL);
	close(k);
	if (r == 0)
		svc->ctr.conns_accepted++;
	return r;
}

static void listener_flush(struct nc_service *svc, struct nc_sock *l)
{
	if (!l->lsn.pending)
		return;   /* the common case, at every turn of the program's accept queue */
	while (l->lsn.pending) {
		struct nc_sock *c = l->lsn.pending;
		int r;

		if (c->dead || !c->pcb) {
			l->lsn.pending = c->pnext;
			c->pnext = NULL;
			continue;
		}
		r = deliver_accept(l, c);
		if (r == -EAGAIN)
			break;
		l->lsn.pending = c->pnext;
		c->pnext = NULL;
		if (r < 0) {
			nc_conn_abort(svc, c);
			continue;
		}
		tcp_backlog_accepted(c->pcb);
	}
	backlog_sync(l);
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
	r = nc_sock_pair(SOCK_STREAM, &a, &f, &ino);
	if (r < 0) {
		nc_log_ratelimited(NC_LOG_WARN, "accept: socketpair: %s", strerror(-r));
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	c = nc_sock_new_tcp(svc, NC_KIND_CONN, l->owner, newpcb, a, f, ino);
	if (!c) {
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	c->conn.app_dup = a;           /* until the program has it */
	c->pid = l->pid;               /* the listener's process: it will accept it */
	c->client = l->client;         /* and its control connection may post options */
	c->state = NC_STATE_ESTABLISHED;
	c->family = l->family;
	c->opt.flags = l->opt.flags & (NC_OPT_KEEPALIVE | NC_OPT_NODELAY | NC_OPT_V6ONLY);
	/* As Linux, an accepted socket inherits these from its listener. */
	if (c->opt.flags & NC_OPT_KEEPALIVE)
		nc_pcb_keepalive(newpcb, 1);
	nc_sock_addr(c, &c->local, &newpcb->local_ip, newpcb->local_port);
	nc_sock_addr(c, &c->peer, &newpcb->remote_ip, newpcb->remote_port);
	nc_conn_attach(c, newpcb);
	nc_conn_size_sndbuf(newpcb);
	svc->ctr.conns_accepted++;
	/* The mark (NC_ACCEPT_MARK), read by accept: a connection still in the listener's
	 * queue when the program closes the listener goes with the mark unread, so our end
	 * reports ECONNRESET and the connection is reset, as Linux resets the connections
	 * its listener never accepted (and the port is free again at once). */
	if (send(f, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1 ||
	    nc_epoll_add(svc, f, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->h) < 0) {
		nc_conn_abort(svc, c);
		return ERR_ABRT;
	}
	if (!l->lsn.pending) {
		r = deliver_accept(l, c);
		if (r == 0)
			return ERR_OK;
		if (r != -EAGAIN) {
			nc_conn_abort(svc, c);
			return ERR_ABRT;
		}
	}
	/* The program's accept queue is full: hold it, and count it in lwIP's backlog. */
	tcp_backlog_delayed(newpcb);
	struct nc_sock **pp = &l->lsn.pending;
	while (*pp)
		pp = &(*pp)->pnext;
	*pp = c;
	backlog_sync(l);
	return ERR_OK;
}

/* ---- events, end -------------------------------------------------------------------- */

/* An event on a bound socket's or a listener's pair. */
void nc_listener_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		/* The program closed its bound socket or listener. */
		nc_sock_kill(svc, s);
		return;
	}
	if (s->kind == NC_KIND_LISTENER && (events & EPOLLOUT))
		listener_flush(svc, s);
}

/* A listener goes (nc_sock_kill): out of its group, its pcb closed (or handed on), and
 * the connections that never reached the program reset. */
void nc_listener_release(struct nc_service *svc, struct nc_sock *s)
{
	group_leave(s);
	nc_pcb_release(svc, s);
	while (s->lsn.pending) {
		struct nc_sock *c = s->lsn.pending;
		s->lsn.pending = c->pnext;
		c->pnext = NULL;
		nc_conn_abort(svc, c);
	}
}
