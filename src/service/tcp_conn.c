/*
 * tcp_conn.c — TCP connections: connect(), and the data path between an lwIP pcb and the
 * service's end of the program's SOCK_STREAM socketpair, with its close semantics.
 *
 * DOC: Theory of operation
 *
 * Data. The service's end is non-blocking and registered edge-triggered.
 *   program → network: on EPOLLIN we read() up to what lwIP's send buffer and queue can
 *   take and tcp_write() it; when lwIP is full we stop and resume in the sent callback.
 *   The program then sees a full socket buffer: back-pressure without service memory.
 *   network → program: the recv callback queues the pbuf chain (s->conn.rxq) and puts
 *   the socket on the service's dirty list, in arrival order; at the end of the loop
 *   turn nc_sock_flush_dirty() writes each queue to its program in one call, and
 *   tcp_recved() is called only for the bytes the program's buffer took. The rest waits
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
 * a duplicate of it (s->conn.app_dup). A Unix stream socket is writable only while its
 * unread sent bytes ×4 ≤ SO_SNDBUF, so the program sees neither POLLOUT nor room to
 * write. When the handshake completes we restore SO_SNDBUF through the duplicate, read
 * the filler from our end and close the duplicate: EPOLLOUT fires, SO_ERROR is 0. When
 * it fails we close our end with the filler unread: the program's end reports
 * EPOLLERR|EPOLLHUP, and SO_ERROR (answered from s->err, kept in a tombstone once the
 * socket is gone) gives ECONNREFUSED, ETIMEDOUT or EHOSTUNREACH.
 *
 * Lifetimes. lwIP frees a pcb on its own after errors (err callback) and after a full
 * close (ERR_CLSD, or silently from TIME_WAIT): we detach from a pcb as soon as we have
 * nothing more to say on it, and never touch s->pcb after the err callback. A callback
 * whose pcb we aborted must return ERR_ABRT, and only then (svc->aborted_pcb).
 */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/ip_addr.h"
#include "lwip/nd6.h"
#include "lwip/pbuf.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "addr.h"
#include "log.h"

#define FILLER_CHUNK     512
#define FILLER_MAX       (64 * 1024)
#define NC_SNDBUF_MAX    (2 * 1024 * 1024)   /* lwIP send buffer at the largest MSS */
#define NC_UNREACH_MS    3000                /* no ARP answer: EHOSTUNREACH, as Linux */
#define NC_POLL_TICKS    ((1000 + 2 * TCP_TMR_INTERVAL - 1) / (2 * TCP_TMR_INTERVAL))

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void conn_err(void *arg, err_t err);
static void conn_pump_out(struct nc_service *svc, struct nc_sock *s);
static void conn_flush_rxq(struct nc_service *svc, struct nc_sock *s);
static void conn_maybe_finish(struct nc_service *svc, struct nc_sock *s);
static void rxq_drop(struct nc_sock *s);
static err_t conn_poll(void *arg, struct tcp_pcb *pcb);

/* ---- pcbs --------------------------------------------------------------------------- */

/* Take our callbacks off a pcb: lwIP goes on with it alone (or it is closed). */
void nc_pcb_detach(struct tcp_pcb *pcb)
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

/* An option bit of a pcb, on or off. */
static void pcb_option(struct tcp_pcb *pcb, u8_t opt, int on)
{
	if (on)
		ip_set_option(pcb, opt);
	else
		ip_reset_option(pcb, opt);
}

/*
 * nc_pcb_keepalive() - SO_KEEPALIVE on a connection's pcb. lwIP's timers visit only the
 * pcbs that may have work for them (lwip/patches/0008), and an idle connection is not
 * among them: one that takes keepalive must be put back on their list.
 */
void nc_pcb_keepalive(struct tcp_pcb *pcb, int on)
{
	pcb_option(pcb, SOF_KEEPALIVE, on);
#ifdef TCP_TIMERS_WORKLIST
	tcp_timers_touch(pcb);
#endif
}

/*
 * nc_pcb_reuseaddr() - SO_REUSEADDR on a TCP pcb (bound, listening or connected). lwIP
 * counts the pcbs of each port and address by that option (lwip/patches/0009), so that
 * a bind checks its port without walking every pcb: the count must follow the change.
 */
void nc_pcb_reuseaddr(struct tcp_pcb *pcb, int on)
{
	pcb_option(pcb, SOF_REUSEADDR, on);
#ifdef TCP_PORT_HASH_SIZE
	tcp_port_reuse_changed(pcb);
#endif
}

/*
 * pcb_abort() - reset a connection (RST) and free its pcb. A callback of that pcb must
 * then return ERR_ABRT, and only then: the callbacks compare svc->aborted_pcb.
 */
static void pcb_abort(struct nc_service *svc, struct tcp_pcb *pcb)
{
	nc_pcb_detach(pcb);
	svc->aborted_pcb = (uintptr_t)pcb;
	tcp_abort(pcb);
}

/* What an lwIP callback of pcb returns once it is done. */
static err_t cb_result(struct nc_service *svc, struct tcp_pcb *pcb)
{
	return svc->aborted_pcb == (uintptr_t)pcb ? ERR_ABRT : ERR_OK;
}

/*
 * abort_handshakes() - a listening pcb closes: reset the connections whose handshake it
 * started (SYN_RCVD; its SYN-ACK sent, the ACK not yet here). Linux drops them with
 * their listener and the port is free at once; lwIP would keep them, holding the port
 * against the program's next bind, until their ACK came and found no listener.
 */
static void abort_handshakes(struct tcp_pcb *lpcb)
{
	struct tcp_pcb *pcb = tcp_active_pcbs, *next;

	for (; pcb; pcb = next) {
		next = pcb->next;
		if (pcb->state == SYN_RCVD && pcb->listener == (struct tcp_pcb_listen *)lpcb)
			tcp_abort(pcb);   /* no callbacks of ours yet */
	}
}

/* Close s's pcb if it has one (a listening pcb, or FIN, or RST when data was left
 * unread or lwIP cannot close) and forget it. */
void nc_pcb_release(struct nc_service *svc, struct nc_sock *s)
{
	if (!s->pcb)
		return;
	nc_pcb_detach(s->pcb);
	if (s->pcb->state == LISTEN) {
		abort_handshakes(s->pcb);
		tcp_close(s->pcb);
	} else if (tcp_close(s->pcb) != ERR_OK) {
		pcb_abort(svc, s->pcb);
	}
	s->pcb = NULL;
}

/* Reset s's connection (RST, if it has a pcb) and forget s. */
void nc_conn_abort(struct nc_service *svc, struct nc_sock *s)
{
	if (s->pcb) {
		pcb_abort(svc, s->pcb);
		s->pcb = NULL;
	}
	nc_sock_kill(svc, s);
}

/* A bound socket or connection goes (nc_sock_kill): its pcb, the program's end we held
 * and the data queued either way. */
void nc_conn_release(struct nc_service *svc, struct nc_sock *s)
{
	if (s->conn.proxied && s->fd >= 0 && s->err) {
		/* A published port's client: an error here (refused, reset) is a reset there. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	nc_pcb_release(svc, s);
	if (s->conn.app_dup >= 0) {
		close(s->conn.app_dup);
		s->conn.app_dup = -1;
	}
	rxq_drop(s);
	free(s->conn.stash);
	s->conn.stash = NULL;
}

/* Our callbacks on a connection's pcb. */
void nc_conn_attach(struct nc_sock *s, struct tcp_pcb *pcb)
{
	tcp_arg(pcb, s);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_err);
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
	socklen_t l = sizeof(s->conn.app_sndbuf);
	int one = 1;

	if (getsockopt(a, SOL_SOCKET, SO_SNDBUF, &s->conn.app_sndbuf, &l) < 0)
		return -errno;
	if (setsockopt(a, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) < 0)
		return -errno;
	if (fcntl(a, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	while (s->conn.filler < FILLER_MAX) {
		ssize_t n = send(a, zeros, sizeof(zeros), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		s->conn.filler += (size_t)n;
	}
	s->conn.app_dup = fcntl(a, F_DUPFD_CLOEXEC, 0);
	if (s->conn.app_dup < 0)
		return -errno;
	return 0;
}

/* The connect resolved: give the program its writability back. */
static void finish_connect(struct nc_service *svc, struct nc_sock *s, int ok)
{
	/* Only on success: after a failure the program must see POLLERR|POLLHUP together with
	 * POLLOUT (closing our end with the filler unread does that at once); restoring the
	 * buffer first would let a poll in between report POLLOUT alone. */
	if (ok && s->conn.app_dup >= 0) {
		int v = s->conn.app_sndbuf / 2;
		setsockopt(s->conn.app_dup, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	while (ok && s->conn.filler > 0) {
		size_t want = s->conn.filler < NC_SCRATCH_SIZE ? s->conn.filler : NC_SCRATCH_SIZE;
		ssize_t n = read(s->fd, svc->scratch, want);
		if (n <= 0)
			break;
		s->conn.filler -= (size_t)n;
	}
	if (s->conn.app_dup >= 0) {
		close(s->conn.app_dup);
		s->conn.app_dup = -1;
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
	if (nc_addr_unmap_v4(&peer) && ((s ? s->opt.flags : req->opts.flags) & NC_OPT_V6ONLY))
		return -ENETUNREACH;   /* Linux: a V6ONLY socket has no IPv4 route */
	nc_addr_to_lwip(&peer, &ip);
	if (peer.family == AF_INET) {
		memcpy(&v, peer.addr, 4);
		if (v == 0 || !nc_ip4_in_subnet(v, svc->cfg.ip.s_addr, svc->cfg.prefix))
			return -ENETUNREACH;
	} else if (!nc_ip6_on_link(svc, peer.addr) && !nc_ip6_is_ours(svc, peer.addr)) {
		return -ENETUNREACH;
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
	r = nc_sock_pair(SOCK_STREAM, &a, &f, &ino);
	if (r < 0) {
		if (!s)
			tcp_close(pcb);
		return r;
	}
	if (s) {
		/* A bound socket becomes a connection: its SEQPACKET pair goes away (the
		 * intercept replaces the program's end with the new one). */
		nc_sock_hash_del(svc, s);
		nc_epoll_del(svc, s->fd);
		close(s->fd);
		nc_sock_set_kind(svc, s, NC_KIND_CONN);
		s->fd = f;
		s->client = svc->cur_client;   /* the connection's maker (NC_MSG_SOCKOPT_POST) */
		nc_sock_hash_add(svc, s, ino);
	} else {
		s = nc_sock_new_tcp(svc, NC_KIND_CONN, svc->cur_user, pcb, a, f, ino);
		if (!s) {
			r = -errno;
			tcp_close(pcb);
			return r;
		}
		s->family = family;
		nc_sock_apply_opts(s, &req->opts);
	}
	s->state = NC_STATE_CONNECTING;
	r = prepare_filler(s, a);
	if (r < 0)
		goto fail;
	if (nc_epoll_add(svc, f, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	nc_conn_attach(s, pcb);
	e = tcp_connect(pcb, &ip, req->peer.port, conn_connected);
	if (e != ERR_OK) {
		r = nc_lwip_err(e);
		goto fail;
	}
	s->conn.connect_start = sys_now();
	tcp_poll(pcb, conn_poll, NC_POLL_TICKS);
	svc->ctr.conns_opened++;
	if (ip_addr_isany_val(pcb->local_ip) && !IP_IS_V6_VAL(pcb->local_ip))
		ip_addr_copy(pcb->local_ip, *netif_ip_addr4(&svc->netif));
	nc_sock_addr(s, &s->local, &pcb->local_ip, pcb->local_port);
	s->peer = req->peer;
	s->peer.scope_id = 0;
	rep->local = s->local;
	rep->peer = s->peer;
	*app_fd = a;
	return 0;
fail:
	close(a);
	nc_sock_kill(svc, s);
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
	nc_conn_size_sndbuf(pcb);
	finish_connect(s->svc, s, 1);
	/* The program could not write before; read whatever it wrote since. */
	s->conn.app_readable = 1;
	conn_pump_out(s->svc, s);
	return cb_result(s->svc, pcb);
}

/*
 * nc_conn_proxy() - a connection of a published port (publish.c) through lwIP: the
 * kernel socket k (non-blocking) is our end, where a program's connection has a
 * socketpair's, and the same data path carries both. 0, or a negative errno (k is the
 * caller's then).
 */
int nc_conn_proxy(struct nc_service *svc, int k, const struct nc_addr *to)
{
	struct tcp_pcb *pcb;
	struct nc_sock *s;
	struct stat st;
	ip_addr_t ip;
	err_t e;

	if (fstat(k, &st) < 0)
		return -errno;
	nc_addr_to_lwip(to, &ip);
	pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
	if (!pcb)
		return -ENOMEM;
	s = nc_sock_new(svc, NC_KIND_CONN, NULL);
	if (!s) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	s->pcb = pcb;
	s->fd = k;
	s->family = to->family;
	s->state = NC_STATE_CONNECTING;
	s->conn.proxied = 1;
	nc_sock_hash_add(svc, s, st.st_ino);
	if (nc_epoll_add(svc, k, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &s->h) < 0)
		goto fail;
	nc_conn_attach(s, pcb);
	e = tcp_connect(pcb, &ip, to->port, conn_connected);
	if (e != ERR_OK)
		goto fail;
	s->conn.connect_start = sys_now();
	tcp_poll(pcb, conn_poll, NC_POLL_TICKS);
	svc->ctr.conns_opened++;
	nc_sock_addr(s, &s->local, &pcb->local_ip, pcb->local_port);
	s->peer = *to;
	return 0;
fail:
	/* k stays the caller's: forget it here without closing it. */
	nc_epoll_del(svc, k);
	s->fd = -1;
	nc_sock_kill(svc, s);
	return -ENOMEM;
}

/* ---- the data path ---------------------------------------------------------------- */

/*
 * nc_conn_size_sndbuf() - set up an established connection's sending: no Nagle, and a send
 * buffer sized from its MSS.
 * TCP_SND_BUF suits MTU 1500 (lwIP walks its queues per segment, so a few hundred
 * segments is the sweet spot); with large MTUs the same bytes are only a handful of
 * segments, too few to fill the path. lwIP keeps snd_buf per pcb and never clamps it.
 */
void nc_conn_size_sndbuf(struct tcp_pcb *pcb)
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

/* ---- the receive queue (s->conn.rxq): pbufs in a plain list ------------------------------ */

static void rxq_append(struct nc_sock *s, struct pbuf *p)
{
	struct pbuf *last = p;

	s->conn.rxq_bytes += p->tot_len;
	while (last->next)
		last = last->next;
	if (s->conn.rxq)
		s->conn.rxq_tail->next = p;
	else
		s->conn.rxq = p;
	s->conn.rxq_tail = last;
}

/* Free the first pbuf of the queue. */
static void rxq_pop(struct nc_sock *s)
{
	struct pbuf *f = s->conn.rxq;

	s->conn.rxq = f->next;
	if (!s->conn.rxq)
		s->conn.rxq_tail = NULL;
	s->conn.rxq_bytes -= f->len;
	f->next = NULL;
	pbuf_free(f);
}

static void rxq_drop(struct nc_sock *s)
{
	while (s->conn.rxq)
		rxq_pop(s);
	s->conn.rxq_bytes = 0;
}

/*
 * write_to_app() - write the receive queue to the program's socket buffer, as much as it
 * takes, in few system calls; tcp_recved() for what went, so the TCP window reopens
 * exactly as fast as the program reads.
 */
static void write_to_app(struct nc_sock *s)
{
	while (s->conn.rxq) {
		struct iovec iov[64];
		struct msghdr msg;
		size_t total = 0;
		int n = 0;
		ssize_t w;

		for (struct pbuf *q = s->conn.rxq; q && n < 64; q = q->next) {
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
				recved(s->pcb, s->conn.rxq_bytes);
			rxq_drop(s);
			return;
		}
		s->bytes_in += (uint64_t)w;
		if (s->pcb)
			recved(s->pcb, (size_t)w);
		for (size_t left = (size_t)w; left > 0 && s->conn.rxq;) {
			if (left >= s->conn.rxq->len) {
				left -= s->conn.rxq->len;
				rxq_pop(s);
			} else {
				pbuf_remove_header(s->conn.rxq, left);
				s->conn.rxq_bytes -= left;
				left = 0;
			}
		}
		while (s->conn.rxq && s->conn.rxq->len == 0)
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
		s->conn.net_eof = 1;
		if (s->conn.fin_sent) {
			/* Both directions are done; lwIP finishes (and frees) the pcb alone. */
			nc_pcb_detach(pcb);
			s->pcb = NULL;
		}
		conn_flush_rxq(svc, s);
		conn_maybe_finish(svc, s);
		return cb_result(svc, pcb);
	}
	if (s->conn.app_gone) {
		/* Data for a program that closed its socket: Linux answers with RST. */
		pbuf_free(p);
		nc_conn_abort(svc, s);
		return ERR_ABRT;
	}
	/* Queue it: everything received in this turn of the event loop goes to the
	 * program in one write (nc_sock_flush_dirty), not one write per segment. */
	rxq_append(s, p);
	if (!s->conn.dirty) {
		/* Appended, not pushed: programs must see data in the order it arrived,
		 * across connections, as they do over one kernel path. */
		s->conn.dirty = 1;
		s->conn.dnext = NULL;
		if (!svc->dirty)
			svc->dirty_tail = &svc->dirty;
		*svc->dirty_tail = s;
		svc->dirty_tail = &s->conn.dnext;
	}
	return ERR_OK;
}

/* Hand the data received in this turn of the loop to the programs. */
void nc_sock_flush_dirty(struct nc_service *svc)
{
	while (svc->dirty) {
		struct nc_sock *s = svc->dirty;

		svc->dirty = s->conn.dnext;
		s->conn.dnext = NULL;
		s->conn.dirty = 0;
		if (s->dead)
			continue;
		conn_flush_rxq(svc, s);
		conn_maybe_finish(svc, s);
	}
}

/*
 * conn_flush_rxq() - write what the program may read now: the receive queue, then EOF.
 * Not while the socket is on the dirty list: data that reached other connections
 * earlier in this turn waits there ahead of it, and nc_sock_flush_dirty() writes it in
 * its place at the end of the turn. (An EPOLLOUT of our end, a FIN or a reset may come
 * in the same turn after other connections' data: written at once, this connection's
 * data would overtake theirs, which Linux never does over one path.)
 */
static void conn_flush_rxq(struct nc_service *svc, struct nc_sock *s)
{
	if (s->conn.dirty)
		return;
	if (s->conn.rxq)
		write_to_app(s);
	/* After a reset or a timeout our end is closed next (conn_maybe_finish): EOF and
	 * POLLHUP reach the program together, and its receive asks for the error. A
	 * shutdown first would let a reader see EOF before POLLHUP, as a clean end.
	 * Once only: a shutdown() also wakes our own end (EPOLLOUT, edge-triggered), and each
	 * wake-up came back here, a busy loop until the program closed. */
	if (!s->conn.rxq && s->conn.net_eof && s->fd >= 0 && !s->conn.app_gone && !s->err &&
	    !s->conn.eof_told) {
		shutdown(s->fd, SHUT_WR);   /* the program reads EOF */
		s->conn.eof_told = 1;
	}
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct nc_sock *s = arg;

	if (!s)
		return ERR_OK;
	s->svc->aborted_pcb = 0;
	if (s->conn.send_blocked || s->conn.app_readable || s->conn.stash || s->conn.fin_pending) {
		s->conn.send_blocked = 0;
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
	nc_tombstone_put(svc, s->ino, s->err);
	finish_connect(svc, s, 0);
	nc_sock_kill(svc, s);
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
 * does after its neighbour probes fail (lwIP would say ETIMEDOUT after its SYN
 * retransmissions, ~6 s: right only when the host is there and drops the SYNs).
 * An IP-level link (WireGuard) has no neighbours: the connect gives up at the first poll
 * when the link has no route to the address (Linux's wg answers such a packet with ICMP
 * host unreachable), and otherwise waits for lwIP's verdict like any SYN not answered.
 */
static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct nc_sock *s = arg;
	struct nc_link *l;
	struct eth_addr *mac;
	const ip4_addr_t *ipr;
	struct nc_service *svc;
	int v6;
	uint8_t a[16];

	if (!s || s->state != NC_STATE_CONNECTING)
		return ERR_OK;
	svc = s->svc;
	l = svc->link;
	if (!l->ip_level && (u32_t)(sys_now() - s->conn.connect_start) < NC_UNREACH_MS)
		return ERR_OK;
	v6 = IP_IS_V6(&pcb->remote_ip);
	/* A copy: GCC with ASan takes the u32_t array for 4 bytes (stringop-overread). */
	memcpy(a, v6 ? (const void *)ip_2_ip6(&pcb->remote_ip)->addr :
		       (const void *)&ip_2_ip4(&pcb->remote_ip)->addr, v6 ? 16 : 4);
	if (v6 ? nc_ip6_is_ours(svc, a) :
		 ip4_addr_eq(ip_2_ip4(&pcb->remote_ip), netif_ip4_addr(&svc->netif)))
		return ERR_OK;
	if (l->ip_level ? !l->ops->reaches || l->ops->reaches(l, v6 ? AF_INET6 : AF_INET, a) :
	    v6 ? nd6_neighbor_known(ip_2_ip6(&pcb->remote_ip)) :
		 etharp_find_addr(&svc->netif, ip_2_ip4(&pcb->remote_ip), &mac, &ipr) >= 0)
		return ERR_OK;
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
		/* As Linux's tcp_reset(): a reset after the peer's FIN (CLOSE_WAIT) is EPIPE. */
		s->err = err != ERR_RST ? ETIMEDOUT : s->conn.net_eof ? EPIPE : ECONNRESET;
		s->state = NC_STATE_CLOSED;
		nc_tombstone_put(svc, s->ino, s->err);
		s->conn.net_eof = 1;
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
	if (s->conn.stash) {
		if (tcp_write(pcb, s->conn.stash, (u16_t)s->conn.stash_len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
			s->conn.send_blocked = 1;
			goto out;
		}
		s->bytes_out += s->conn.stash_len;
		free(s->conn.stash);
		s->conn.stash = NULL;
		s->conn.stash_len = 0;
	}
	while (s->conn.app_readable && !s->conn.app_eof) {
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
			s->conn.send_blocked = 1;
			break;
		}
		n = read(s->fd, svc->scratch, room);
		if (n > 0) {
			err_t e = tcp_write(pcb, svc->scratch, (u16_t)n, TCP_WRITE_FLAG_COPY);
			if (e != ERR_OK) {
				/* Keep what we read; it goes first when lwIP has room. */
				s->conn.stash = malloc((size_t)n);
				if (!s->conn.stash) {
					nc_conn_abort(svc, s);
					return;
				}
				memcpy(s->conn.stash, svc->scratch, (size_t)n);
				s->conn.stash_len = (size_t)n;
				s->conn.send_blocked = 1;
				break;
			}
			s->bytes_out += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			s->conn.app_eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EINTR) {
			s->conn.app_readable = 0;
			break;
		}
		/* ECONNRESET: the program closed with data of ours unread: RST. */
		nc_conn_abort(svc, s);
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
	if (pcb && s->conn.app_gone && s->conn.app_eof && !s->conn.stash) {
		if (s->opt.flags & NC_OPT_LINGER && s->opt.linger_secs == 0)
			nc_conn_abort(svc, s);
		else
			nc_sock_kill(svc, s);   /* closes the pcb: FIN, or RST if data was unread */
		return;
	}
	if (pcb && s->conn.app_eof && !s->conn.fin_sent && !s->conn.stash) {
		err_t e = tcp_shutdown(pcb, 0, 1);
		if (e == ERR_OK) {
			s->conn.fin_sent = 1;
			s->conn.fin_pending = 0;
			tcp_output(pcb);
			if (s->conn.net_eof) {
				/* Both FINs: lwIP completes the close alone (LAST_ACK). */
				nc_pcb_detach(pcb);
				s->pcb = NULL;
			}
		} else {
			s->conn.fin_pending = 1;
		}
	}
	if (!s->pcb && !s->conn.rxq) {
		/* Nothing more can come from the network. After a clean close both ways
		 * (FIN each way, no error) the program may still hold its socket and ask
		 * about it (TCP_INFO says CLOSE, options read back as set): keep it until
		 * the program closes it (EPOLLHUP). Its end already reads EOF and refuses
		 * writes (it shut them down), so nothing waits on us meanwhile. */
		if (!s->conn.app_gone && s->conn.app_eof && s->conn.net_eof && !s->err && s->fd >= 0) {
			s->state = NC_STATE_CLOSED;
			return;
		}
		if (s->conn.app_gone || s->conn.app_eof || s->state == NC_STATE_CLOSED || s->conn.net_eof)
			nc_sock_kill(svc, s);
	}
}

/* An event on a connection's pair. */
void nc_conn_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	if (s->state == NC_STATE_CONNECTING)
		return;
	if (events & EPOLLERR) {
		int e = 0;
		socklen_t l = sizeof(e);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l);
		if (e == ECONNRESET || e == EPIPE) {
			/* Closed with our data unread: RST, as Linux does. */
			nc_conn_abort(svc, s);
			return;
		}
	}
	if (events & EPOLLHUP)
		s->conn.app_gone = 1;
	if (events & EPOLLOUT)
		conn_flush_rxq(svc, s);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		s->conn.app_readable = 1;
	if (s->conn.app_readable)
		conn_pump_out(svc, s);
	else
		conn_maybe_finish(svc, s);
}
