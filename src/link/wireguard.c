/*
 * wireguard.c — the wireguard link: the service's IP packets over WireGuard, on one UDP
 * socket, to peers named by a wg(8) configuration file (wgconf.c).
 *
 * Unlike vxlan.c and tap.c this link carries IP packets, not Ethernet frames
 * (nc_link.ip_level): the service gives lwIP a netif without ARP or neighbour
 * discovery, whose output hands each IPv4 or IPv6 packet to send(), and whose input
 * takes the packets deliver() hands over.
 *
 * Sending: the packet's destination picks the peer by AllowedIPs (wgroute.c; no peer:
 * dropped and counted, as WireGuard drops it). With a current session the packet is
 * sealed (wgnoise.c) straight from lwIP's pbuf chain into this turn's batch; without one
 * it waits in the peer's queue (at most NC_WG_QUEUE packets, the oldest dropped) and a
 * handshake starts. The batch goes out in flush() at the end of the event loop's turn:
 * runs of same-size datagrams to one peer (a TCP stream) as one UDP GSO send, the rest
 * with sendmmsg.
 *
 * Receiving: recvmmsg in batches, with UDP GRO (a coalesced burst is cut at its segment
 * size). By message type and exact length:
 *   1 initiation  MAC1 checked, Noise consumed, the initiator's static key must be a
 *                 peer's and its timestamp newer than the last one from that peer (a
 *                 replayed initiation is dropped); at most one per peer every 20 ms.
 *                 The answer's keys wait as the peer's "next" session until the
 *                 initiator's first data message confirms them.
 *   2 response    MAC1, the receiver index of our initiation, Noise: the new session
 *                 becomes current, queued packets go (or a keepalive confirms it).
 *   3 cookie      counted and dropped: this link does not yet answer MAC2 challenges
 *                 (a peer under load then refuses our initiations until it is not).
 *   4 data        the receiver index picks the session, the replay window and the
 *                 session's age are checked before and after decryption; the inner
 *                 packet must be well-formed IPv4/IPv6 and its source inside the
 *                 sender's AllowedIPs. An empty one is a keepalive.
 * Anything else — wrong length, unknown index, failed MAC or decryption, replay — is
 * dropped and counted by reason (`netcon status`). An authenticated message from a new
 * address moves the peer's endpoint there (roaming).
 *
 * Timers (the whitepaper's section 6; poll() from the event loop, which wakes for
 * timeout_ms()): handshake retries every REKEY_TIMEOUT plus up to 333 ms of jitter, for
 * REKEY_ATTEMPT_TIME; a new handshake when the session we started is REKEY_AFTER_TIME
 * old (on sending) or REJECT − KEEPALIVE − REKEY_TIMEOUT old (on receiving), or after
 * REKEY_AFTER_MESSAGES; no use of a session after REJECT_AFTER_TIME or
 * REJECT_AFTER_MESSAGES; a keepalive KEEPALIVE_TIMEOUT after data received when nothing
 * was sent; a new handshake when data sent got no answer for KEEPALIVE + REKEY_TIMEOUT;
 * PersistentKeepalive; every key erased after 3 × REJECT_AFTER_TIME without a handshake.
 * NETCON_WG_TIME_SCALE=N (tests only) divides every one of these times by N.
 *
 * --link-fault (nc_link.wire_faults): the faults hit the encrypted datagrams, as a faulty
 * network between two WireGuard peers would, not the IP packets inside: a corrupted
 * datagram fails authentication (or MAC1, or names no session) and is counted, a
 * duplicate is a replay, a reordered one passes the replay window. Datagrams then go
 * one by one (no GSO), each with its own verdict.
 */
#include "link/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link/wgconf.h"
#include "link/wgnoise.h"
#include "link/wgroute.h"
#include "log.h"
#include "service/fault.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define NC_WG_QUEUE       64                 /* packets waiting for a handshake, per peer */
#define WG_RX_BATCH       8
#define WG_RX_BUFSZ       65536
#define WG_RX_BUDGET      512                /* datagrams per input() call */
#define WG_TXB_COUNT      64
#define WG_SOCKBUF        (4 * 1024 * 1024)
#define WG_INIT_MIN_MS    20                 /* initiations accepted per peer: 50/s */
#define WG_JITTER_MS      334

struct wg_session {
	struct nc_wg_keys keys;
	int valid, initiator;
	uint32_t local, remote;      /* our index (receiver of their messages), theirs */
	uint64_t send_ctr;
	struct nc_wg_replay replay;
	uint64_t born;               /* ms */
};

struct wg_peer {
	uint8_t pub[32], psk[32];
	struct sockaddr_storage ep;  /* normalised to the socket's family; family 0: none */
	socklen_t ep_len;
	int keepalive_s;

	/* the handshake we started (hs_state 1) or answered (2) */
	int hs_state;
	struct nc_wg_handshake hs;
	uint32_t hs_local;
	uint64_t hs_sent, hs_first;  /* ms: last initiation sent, first of this attempt */
	int hs_jitter;
	uint8_t last_ts[12];         /* greatest TAI64N seen from this peer */
	uint64_t last_init_rx;

	struct wg_session cur, prev, next;

	struct {
		uint8_t *pkt[NC_WG_QUEUE];
		size_t len[NC_WG_QUEUE];
		int head, n;
	} q;

	uint64_t last_sent, last_recv;       /* ms: any datagram sent to / authenticated from */
	uint64_t data_sent_unanswered;       /* ms: data sent since the last authenticated rx */
	uint64_t data_recv_unanswered;       /* ms: data received since the last send */
	uint64_t last_handshake;             /* ms, monotonic: 0 = never */
	struct timespec last_handshake_wall;
	uint64_t rx_bytes, tx_bytes;         /* WireGuard's transfer counters (datagrams) */
};

struct wg_counters {
	uint64_t hs_init_tx, hs_init_rx, hs_resp_tx, hs_resp_rx;
	uint64_t bad_len, bad_mac1, bad_index, unknown_key, bad_auth, replay, stale_ts;
	uint64_t too_fast, expired, bad_inner, bad_src, no_route, no_endpoint, queue_drop,
		 cookie_rx, hs_fail;
};

struct wg {
	struct nc_link link;
	char name[16];
	int family;                  /* of the socket */
	int port;                    /* bound */
	int mtu;
	struct nc_wg_static me;
	struct wg_peer *peers;
	int npeers;
	struct nc_wg_route rt;
	struct wg_counters c;
	unsigned scale;              /* NETCON_WG_TIME_SCALE */
	int in_input;
	int no_gso;

	/* --link-fault: where the held datagrams go (tx) and came from (rx); a copy of a
	 * datagram to be received twice (opening it decrypts in place) */
	struct sockaddr_storage held_to, held_from;
	socklen_t held_to_len;
	uint8_t *dup_buf;

	uint8_t *txb;                /* WG_TXB_COUNT slots of slot bytes */
	size_t slot;
	struct iovec txb_iov[WG_TXB_COUNT];
	struct wg_peer *txb_peer[WG_TXB_COUNT];
	int txb_n;

	uint8_t *rx_buf;
	struct mmsghdr rx_msgs[WG_RX_BATCH];
	struct iovec rx_iov[WG_RX_BATCH];
	struct sockaddr_storage rx_addr[WG_RX_BATCH];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} rx_ctl[WG_RX_BATCH];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A protocol time, scaled for tests. */
static uint64_t T(const struct wg *w, uint64_t ms)
{
	return ms / w->scale ? ms / w->scale : 1;
}

static uint32_t rand32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)now_ms() * 2654435761u;
	return v;
}

static const char *sa_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, a, sizeof(a));
			snprintf(buf, len, "%s:%u", a, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
		}
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "(none)");
	}
	return buf;
}

/* An endpoint in the socket's family (IPv4 as ::ffff:a.b.c.d on an IPv6 socket). */
static int ep_normalise(const struct wg *w, struct sockaddr_storage *out, socklen_t *outlen,
			const struct sockaddr_storage *in)
{
	memset(out, 0, sizeof(*out));
	if (in->ss_family == w->family) {
		*outlen = w->family == AF_INET6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in);
		memcpy(out, in, *outlen);
		return 0;
	}
	if (in->ss_family == AF_INET && w->family == AF_INET6) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)in;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = s4->sin_port;
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12, &s4->sin_addr, 4);
		*outlen = sizeof(*s6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int ep_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* ---- sessions and indices ----------------------------------------------------------- */

static void session_clear(struct wg_session *s)
{
	if (s->valid)
		nc_wg_keys_free(&s->keys);
	memset(s, 0, sizeof(*s));
}

/* A new random index not used by any session or handshake of ours. */
static uint32_t new_index(struct wg *w)
{
	for (;;) {
		uint32_t v = rand32();
		int used = 0;

		for (int i = 0; i < w->npeers && !used; i++) {
			struct wg_peer *p = &w->peers[i];
			used = (p->hs_state && p->hs_local == v) ||
			       (p->cur.valid && p->cur.local == v) ||
			       (p->prev.valid && p->prev.local == v) ||
			       (p->next.valid && p->next.local == v);
		}
		if (!used)
			return v;
	}
}

/* The session a data message names, and its peer. */
static struct wg_session *find_session(struct wg *w, uint32_t idx, struct wg_peer **peer)
{
	for (int i = 0; i < w->npeers; i++) {
		struct wg_peer *p = &w->peers[i];
		struct wg_session *s = p->cur.valid && p->cur.local == idx ? &p->cur :
				       p->prev.valid && p->prev.local == idx ? &p->prev :
				       p->next.valid && p->next.local == idx ? &p->next : NULL;
		if (s) {
			*peer = p;
			return s;
		}
	}
	return NULL;
}

static struct wg_peer *find_peer(struct wg *w, const uint8_t pub[32])
{
	for (int i = 0; i < w->npeers; i++)
		if (!memcmp(w->peers[i].pub, pub, 32))
			return &w->peers[i];
	return NULL;
}

static int session_usable(const struct wg *w, const struct wg_session *s, uint64_t now)
{
	return s->valid && now - s->born < T(w, NC_WG_REJECT_AFTER_TIME_MS) &&
	       s->send_ctr < NC_WG_REJECT_AFTER_MESSAGES;
}

/* ---- sending ---------------------------------------------------------------------- */

static void wg_flush(struct nc_link *l);

/* ---- --link-fault on the wire ------------------------------------------------------ */

static int wire_sendto(struct wg *w, const uint8_t *buf, size_t len,
		       const struct sockaddr_storage *to, socklen_t tolen)
{
	return (int)sendto(w->link.fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to,
			   tolen);
}

/* Send the held datagram, if any. */
static void fault_release_tx(struct wg *w)
{
	struct nc_fault_dir *d = &w->link.fault->tx;
	uint8_t *h = d->held;

	if (!h)
		return;
	d->held = NULL;
	if (wire_sendto(w, h, d->held_len, &w->held_to, w->held_to_len) < 0)
		w->link.stats.tx_dropped++;
	free(h);
}

/* One datagram to the wire through the faults: lost, corrupted, sent twice, or held
 * back to go after the next one. <0 when the (first) send failed. */
static int fault_sendto(struct wg *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *to, socklen_t tolen)
{
	struct nc_fault_dir *d = &w->link.fault->tx;
	unsigned v = nc_fault_verdict(w->link.fault, d);
	uint8_t *copy = NULL;
	int r;

	if (v & NC_FAULT_DROP)
		return 0;
	if ((v & NC_FAULT_CORRUPT) && (copy = malloc(len)) != NULL) {
		memcpy(copy, buf, len);
		nc_fault_corrupt(d, copy, len);
		buf = copy;
	}
	if ((v & NC_FAULT_HOLD) && nc_fault_hold(d, buf, len) == 0) {
		memcpy(&w->held_to, to, sizeof(*to));
		w->held_to_len = tolen;
		free(copy);
		return 0;
	}
	r = wire_sendto(w, buf, len, to, tolen);
	if (v & NC_FAULT_DUP)
		(void)wire_sendto(w, buf, len, to, tolen);
	free(copy);
	fault_release_tx(w);
	return r;
}

static void rx_datagram(struct wg *w, uint8_t *buf, size_t len,
			const struct sockaddr_storage *from, uint64_t now);

/* Take the held received datagram, if any. */
static void fault_release_rx(struct wg *w, uint64_t now)
{
	struct nc_fault_dir *d = &w->link.fault->rx;
	uint8_t *h = d->held;

	if (!h)
		return;
	d->held = NULL;
	rx_datagram(w, h, d->held_len, &w->held_from, now);
	free(h);
}

/* One datagram from the wire through the faults (buf is ours to change). */
static void fault_rx(struct wg *w, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
		     uint64_t now)
{
	struct nc_fault_dir *d = &w->link.fault->rx;
	unsigned v = nc_fault_verdict(w->link.fault, d);
	int dup = 0;

	if (v & NC_FAULT_DROP)
		return;
	if (v & NC_FAULT_CORRUPT)
		nc_fault_corrupt(d, buf, len);
	if ((v & NC_FAULT_HOLD) && nc_fault_hold(d, buf, len) == 0) {
		memcpy(&w->held_from, from, sizeof(*from));
		return;
	}
	if ((v & NC_FAULT_DUP) && (w->dup_buf || (w->dup_buf = malloc(WG_RX_BUFSZ)) != NULL)) {
		memcpy(w->dup_buf, buf, len);
		dup = 1;
	}
	rx_datagram(w, buf, len, from, now);
	if (dup)
		rx_datagram(w, w->dup_buf, len, from, now);
	fault_release_rx(w, now);
}

/* Send one datagram now (handshake messages), outside the batch. */
static void send_now(struct wg *w, struct wg_peer *p, const uint8_t *buf, size_t len)
{
	if (!p->ep.ss_family) {
		w->c.no_endpoint++;
		return;
	}
	if ((w->link.fault ? fault_sendto(w, buf, len, &p->ep, p->ep_len)
			   : wire_sendto(w, buf, len, &p->ep, p->ep_len)) < 0) {
		w->link.stats.tx_dropped++;
		return;
	}
	p->last_sent = now_ms();
	p->tx_bytes += len;
}

static void handshake_start(struct wg *w, struct wg_peer *p, uint64_t now, int retry)
{
	uint8_t msg[NC_WG_INIT_LEN], ts[12];
	struct timespec rt;

	if (!p->ep.ss_family) {
		w->c.no_endpoint++;
		return;
	}
	/* Not more often than every REKEY_TIMEOUT (retries come from the timer). */
	if (!retry && p->hs_state == 1 && now - p->hs_sent < T(w, NC_WG_REKEY_TIMEOUT_MS))
		return;
	if (!retry || p->hs_state != 1)
		p->hs_first = now;
	clock_gettime(CLOCK_REALTIME, &rt);
	nc_wg_tai64n(ts, (uint64_t)rt.tv_sec, (uint32_t)rt.tv_nsec);
	p->hs_local = new_index(w);
	if (nc_wg_init_create(&w->me, &p->hs, p->pub, p->psk, p->hs_local, ts, msg) < 0 ||
	    nc_wg_macs_add(msg, sizeof(msg), p->pub, NULL) < 0) {
		w->c.hs_fail++;
		p->hs_state = 0;
		return;
	}
	p->hs_state = 1;
	p->hs_sent = now;
	p->hs_jitter = (int)(rand32() % WG_JITTER_MS);
	w->c.hs_init_tx++;
	send_now(w, p, msg, sizeof(msg));
}

/* Seal one packet (iov, len bytes; len 0: a keepalive) into the batch for peer p. */
static int seal_to_batch(struct wg *w, struct wg_peer *p, const struct iovec *iov, int iovcnt,
			 size_t len)
{
	struct wg_session *s = &p->cur;
	int n;

	if (w->txb_n == WG_TXB_COUNT)
		wg_flush(&w->link);
	n = nc_wg_data_seal(&s->keys, s->remote, s->send_ctr, iov, iovcnt, len,
			    w->txb + (size_t)w->txb_n * w->slot);
	if (n < 0)
		return n;
	s->send_ctr++;
	w->txb_iov[w->txb_n].iov_base = w->txb + (size_t)w->txb_n * w->slot;
	w->txb_iov[w->txb_n].iov_len = (size_t)n;
	w->txb_peer[w->txb_n] = p;
	w->txb_n++;
	return 0;
}

static void send_keepalive(struct wg *w, struct wg_peer *p, uint64_t now)
{
	if (!session_usable(w, &p->cur, now)) {
		handshake_start(w, p, now, 0);
		return;
	}
	if (seal_to_batch(w, p, NULL, 0, 0) == 0)
		p->last_sent = now;
}

/* A packet with a session: into the batch; then the rekey rules for the sender. */
static int send_data(struct wg *w, struct wg_peer *p, const struct iovec *iov, int iovcnt,
		     size_t len, uint64_t now)
{
	struct wg_session *s = &p->cur;
	int r = seal_to_batch(w, p, iov, iovcnt, len);

	if (r < 0)
		return r;
	if (!p->data_sent_unanswered)
		p->data_sent_unanswered = now;
	p->data_recv_unanswered = 0;
	p->last_sent = now;
	if (s->send_ctr >= NC_WG_REKEY_AFTER_MESSAGES ||
	    (s->initiator && now - s->born >= T(w, NC_WG_REKEY_AFTER_TIME_MS)))
		handshake_start(w, p, now, 0);
	return 0;
}

static void queue_packet(struct wg *w, struct wg_peer *p, const struct iovec *iov, int iovcnt,
			 size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	size_t off = 0;
	int at;

	if (!copy) {
		w->c.queue_drop++;
		return;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(copy + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (p->q.n == NC_WG_QUEUE) {   /* the oldest goes */
		free(p->q.pkt[p->q.head]);
		p->q.head = (p->q.head + 1) % NC_WG_QUEUE;
		p->q.n--;
		w->c.queue_drop++;
	}
	at = (p->q.head + p->q.n) % NC_WG_QUEUE;
	p->q.pkt[at] = copy;
	p->q.len[at] = len;
	p->q.n++;
}

static void queue_clear(struct wg *w, struct wg_peer *p)
{
	while (p->q.n) {
		free(p->q.pkt[p->q.head]);
		p->q.head = (p->q.head + 1) % NC_WG_QUEUE;
		p->q.n--;
		w->c.queue_drop++;
	}
	p->q.head = 0;
}

/* The session is up: what waited goes. */
static void queue_send(struct wg *w, struct wg_peer *p, uint64_t now)
{
	while (p->q.n && session_usable(w, &p->cur, now)) {
		struct iovec iov = { p->q.pkt[p->q.head], p->q.len[p->q.head] };
		send_data(w, p, &iov, 1, iov.iov_len, now);
		free(p->q.pkt[p->q.head]);
		p->q.head = (p->q.head + 1) % NC_WG_QUEUE;
		p->q.n--;
	}
}

/* The destination address of an outgoing IP packet (its first bytes in hdr). */
static int dest_of(const uint8_t *hdr, size_t len, int *family, const uint8_t **addr)
{
	if (len >= 20 && (hdr[0] >> 4) == 4) {
		*family = AF_INET;
		*addr = hdr + 16;
		return 0;
	}
	if (len >= 40 && (hdr[0] >> 4) == 6) {
		*family = AF_INET6;
		*addr = hdr + 24;
		return 0;
	}
	return -EINVAL;
}

static int wg_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	struct wg *w = l->priv;
	uint8_t hdr[40];
	const uint8_t *dst;
	size_t len = 0, h = 0;
	struct wg_peer *p;
	uint64_t now = now_ms();
	int family;

	for (int i = 0; i < iovcnt; i++) {
		size_t take = iov[i].iov_len < sizeof(hdr) - h ? iov[i].iov_len : sizeof(hdr) - h;
		memcpy(hdr + h, iov[i].iov_base, take);
		h += take;
		len += iov[i].iov_len;
	}
	if (len > (size_t)w->mtu || dest_of(hdr, h, &family, &dst) < 0) {
		l->stats.tx_dropped++;
		return -EINVAL;
	}
	p = nc_wg_route_lookup(&w->rt, family, dst);
	if (!p) {
		w->c.no_route++;
		l->stats.tx_dropped++;
		return -EHOSTUNREACH;
	}
	l->stats.tx_frames++;
	l->stats.tx_bytes += len;
	if (session_usable(w, &p->cur, now) && !p->q.n)
		return send_data(w, p, iov, iovcnt, len, now);
	queue_packet(w, p, iov, iovcnt, len);
	if (session_usable(w, &p->cur, now))
		queue_send(w, p, now);
	else if (p->hs_state != 1)
		handshake_start(w, p, now, 0);
	return 0;
}

/*
 * wg_flush() - the turn's datagrams: runs to one peer of one size (the last may be
 * shorter) as one UDP GSO send, in one sendmmsg call for the whole batch.
 */
static void wg_flush(struct nc_link *l)
{
	struct wg *w = l->priv;
	struct mmsghdr gm[WG_TXB_COUNT];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} ctl[WG_TXB_COUNT];
	int first[WG_TXB_COUNT + 1], ng = 0, i = 0, g = 0;

	if (l->fault) {   /* one by one, each through the faults */
		for (; i < w->txb_n; i++) {
			struct wg_peer *p = w->txb_peer[i];

			if (!p->ep.ss_family) {
				w->c.no_endpoint++;
				continue;
			}
			if (fault_sendto(w, w->txb_iov[i].iov_base, w->txb_iov[i].iov_len,
					 &p->ep, p->ep_len) < 0)
				l->stats.tx_dropped++;
			p->tx_bytes += w->txb_iov[i].iov_len;
		}
		w->txb_n = 0;
		fault_release_tx(w);
		return;
	}
	while (i < w->txb_n) {
		struct wg_peer *p = w->txb_peer[i];
		size_t seg = w->txb_iov[i].iov_len, total = seg;
		int k = i + 1;

		while (!w->no_gso && k < w->txb_n && w->txb_peer[k] == p &&
		       w->txb_iov[k].iov_len <= seg && total + w->txb_iov[k].iov_len <= 65000) {
			total += w->txb_iov[k].iov_len;
			k++;
			if (w->txb_iov[k - 1].iov_len < seg)
				break;
		}
		if (!p->ep.ss_family) {
			w->c.no_endpoint += (uint64_t)(k - i);
			i = k;
			continue;
		}
		memset(&gm[ng], 0, sizeof(gm[ng]));
		gm[ng].msg_hdr.msg_name = &p->ep;
		gm[ng].msg_hdr.msg_namelen = p->ep_len;
		gm[ng].msg_hdr.msg_iov = &w->txb_iov[i];
		gm[ng].msg_hdr.msg_iovlen = (size_t)(k - i);
		if (k - i > 1) {
			struct cmsghdr *c;
			uint16_t gso = (uint16_t)seg;

			memset(&ctl[ng], 0, sizeof(ctl[ng]));
			gm[ng].msg_hdr.msg_control = ctl[ng].buf;
			gm[ng].msg_hdr.msg_controllen = sizeof(ctl[ng].buf);
			c = CMSG_FIRSTHDR(&gm[ng].msg_hdr);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(gso));
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		p->tx_bytes += total;
		first[ng++] = i;
		i = k;
	}
	first[ng] = w->txb_n;
	while (g < ng) {
		int r = sendmmsg(l->fd, gm + g, (unsigned int)(ng - g), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (gm[g].msg_hdr.msg_iovlen > 1 && !w->no_gso &&
			    (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP ||
			     errno == ENOPROTOOPT)) {
				nc_info("wireguard: UDP GSO not available (%s); sending datagram "
					"by datagram", strerror(errno));
				w->no_gso = 1;
				/* Resend the rest one by one. */
				for (int k = first[g]; k < w->txb_n; k++)
					if (w->txb_peer[k]->ep.ss_family)
						(void)sendto(l->fd, w->txb_iov[k].iov_base,
							     w->txb_iov[k].iov_len, MSG_DONTWAIT,
							     (struct sockaddr *)&w->txb_peer[k]->ep,
							     w->txb_peer[k]->ep_len);
				break;
			}
			l->stats.tx_dropped += (uint64_t)(first[g + 1] - first[g]);
			g++;
			continue;
		}
		g += r ? r : 1;
	}
	w->txb_n = 0;
}

/* ---- receiving -------------------------------------------------------------------- */

/* The endpoint moves to where an authenticated message came from. */
static void roam(struct wg *w, struct wg_peer *p, const struct sockaddr_storage *from)
{
	if (p->ep.ss_family && ep_equal(&p->ep, from))
		return;
	if (p->ep.ss_family) {
		char a[80], b[80];
		nc_info("wireguard: peer endpoint %s -> %s", sa_str(&p->ep, a, sizeof(a)),
			sa_str(from, b, sizeof(b)));
	}
	ep_normalise(w, &p->ep, &p->ep_len, from);
}

static void rx_initiation(struct wg *w, uint8_t *msg, const struct sockaddr_storage *from,
			  uint64_t now)
{
	struct nc_wg_handshake hs;
	uint8_t ts[12], resp[NC_WG_RESP_LEN];
	struct wg_peer *p;
	struct wg_session *s;

	if (!nc_wg_mac1_ok(&w->me, msg, NC_WG_INIT_LEN)) {
		w->c.bad_mac1++;
		return;
	}
	if (nc_wg_init_consume(&w->me, &hs, msg, ts) < 0) {
		w->c.bad_auth++;
		return;
	}
	p = find_peer(w, hs.remote_pub);
	if (!p) {
		w->c.unknown_key++;
		return;
	}
	if (memcmp(ts, p->last_ts, 12) <= 0) {
		w->c.stale_ts++;   /* a replayed initiation */
		return;
	}
	if (p->last_init_rx && now - p->last_init_rx < WG_INIT_MIN_MS) {
		w->c.too_fast++;
		return;
	}
	memcpy(p->last_ts, ts, 12);
	p->last_init_rx = now;
	memcpy(hs.psk, p->psk, 32);
	w->c.hs_init_rx++;
	p->rx_bytes += NC_WG_INIT_LEN;
	roam(w, p, from);
	uint32_t idx = new_index(w);
	if (nc_wg_resp_create(&hs, idx, resp) < 0 ||
	    nc_wg_macs_add(resp, sizeof(resp), p->pub, NULL) < 0) {
		w->c.hs_fail++;
		return;
	}
	/* The responder's session waits as next: used once the initiator sends with it. */
	s = &p->next;
	session_clear(s);
	if (nc_wg_keys_derive(&s->keys, &hs, 0) < 0) {
		w->c.hs_fail++;
		return;
	}
	s->valid = 1;
	s->initiator = 0;
	s->local = idx;
	s->remote = hs.remote_index;
	s->born = now;
	session_clear(&p->prev);
	p->last_handshake = now;
	clock_gettime(CLOCK_REALTIME, &p->last_handshake_wall);
	w->c.hs_resp_tx++;
	send_now(w, p, resp, sizeof(resp));
}

static void rx_response(struct wg *w, uint8_t *msg, const struct sockaddr_storage *from,
			uint64_t now)
{
	uint32_t idx = nc_wg_le32(msg + 8);
	struct wg_peer *p = NULL;
	struct wg_session s;

	if (!nc_wg_mac1_ok(&w->me, msg, NC_WG_RESP_LEN)) {
		w->c.bad_mac1++;
		return;
	}
	for (int i = 0; i < w->npeers && !p; i++)
		if (w->peers[i].hs_state == 1 && w->peers[i].hs_local == idx)
			p = &w->peers[i];
	if (!p) {
		w->c.bad_index++;
		return;
	}
	if (nc_wg_resp_consume(&w->me, &p->hs, msg) < 0) {
		w->c.bad_auth++;
		return;
	}
	memset(&s, 0, sizeof(s));
	if (nc_wg_keys_derive(&s.keys, &p->hs, 1) < 0) {
		w->c.hs_fail++;
		return;
	}
	s.valid = 1;
	s.initiator = 1;
	s.local = p->hs_local;
	s.remote = p->hs.remote_index;
	s.born = now;
	p->hs_state = 0;
	w->c.hs_resp_rx++;
	p->rx_bytes += NC_WG_RESP_LEN;
	/* previous ← next if there was one, else current; current ← the new session */
	session_clear(&p->prev);
	if (p->next.valid) {
		p->prev = p->next;
		memset(&p->next, 0, sizeof(p->next));
	} else {
		p->prev = p->cur;
	}
	p->cur = s;
	p->last_recv = now;
	p->last_handshake = now;
	clock_gettime(CLOCK_REALTIME, &p->last_handshake_wall);
	roam(w, p, from);
	if (p->q.n)
		queue_send(w, p, now);
	else
		send_keepalive(w, p, now);   /* confirms the session to the responder */
}

/* Check the decrypted packet: well-formed IPv4/IPv6, its source allowed for the peer.
 * Returns the IP packet's length, 0 for a keepalive, or -1 to drop it. */
static int inner_ok(struct wg *w, struct wg_peer *p, const uint8_t *pkt, size_t len)
{
	size_t iplen;
	int family;
	const uint8_t *src;

	if (len == 0)
		return 0;
	if ((pkt[0] >> 4) == 4 && len >= 20) {
		iplen = (size_t)pkt[2] << 8 | pkt[3];
		family = AF_INET;
		src = pkt + 12;
		if (iplen < 20)
			goto bad;
	} else if ((pkt[0] >> 4) == 6 && len >= 40) {
		iplen = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
		family = AF_INET6;
		src = pkt + 8;
	} else {
		goto bad;
	}
	if (iplen > len || iplen > (size_t)w->mtu)
		goto bad;
	if (nc_wg_route_lookup(&w->rt, family, src) != p) {
		w->c.bad_src++;
		return -1;
	}
	return (int)iplen;
bad:
	w->c.bad_inner++;
	return -1;
}

static void rx_data(struct wg *w, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
		    uint64_t now)
{
	struct wg_peer *p = NULL;
	struct wg_session *s = find_session(w, nc_wg_le32(buf + 4), &p);
	uint64_t ctr = nc_wg_le64(buf + 8);
	int n, iplen;

	if (!s) {
		w->c.bad_index++;
		return;
	}
	if (now - s->born >= T(w, NC_WG_REJECT_AFTER_TIME_MS)) {
		w->c.expired++;
		return;
	}
	if (nc_wg_replay_ok(&s->replay, ctr) < 0) {
		w->c.replay++;
		return;
	}
	n = nc_wg_data_open(&s->keys, buf, len);
	if (n < 0) {
		w->c.bad_auth++;
		return;
	}
	if (nc_wg_replay_mark(&s->replay, ctr) < 0) {
		w->c.replay++;
		return;
	}
	p->rx_bytes += len;
	p->last_recv = now;
	p->data_sent_unanswered = 0;
	if (s == &p->next) {
		/* The initiator used the session we answered with: it is confirmed. */
		session_clear(&p->prev);
		p->prev = p->cur;
		p->cur = p->next;
		memset(&p->next, 0, sizeof(p->next));
		s = &p->cur;
		queue_send(w, p, now);
	}
	roam(w, p, from);
	if (s->initiator && s == &p->cur &&
	    now - s->born >= T(w, NC_WG_REJECT_AFTER_TIME_MS - NC_WG_KEEPALIVE_TIMEOUT_MS -
			       NC_WG_REKEY_TIMEOUT_MS))
		handshake_start(w, p, now, 0);
	iplen = inner_ok(w, p, buf + NC_WG_DATA_HLEN, (size_t)n);
	if (iplen <= 0)
		return;   /* a keepalive, or dropped */
	if (!p->data_recv_unanswered)
		p->data_recv_unanswered = now;
	w->link.stats.rx_frames++;
	w->link.stats.rx_bytes += (uint64_t)iplen;
	w->link.deliver(w->link.ctx, buf + NC_WG_DATA_HLEN, (size_t)iplen);
}

static void rx_datagram(struct wg *w, uint8_t *buf, size_t len,
			const struct sockaddr_storage *from, uint64_t now)
{
	uint64_t before = w->c.bad_len + w->c.bad_mac1 + w->c.bad_index + w->c.unknown_key +
			  w->c.bad_auth + w->c.replay + w->c.stale_ts + w->c.too_fast +
			  w->c.expired + w->c.bad_inner + w->c.bad_src + w->c.cookie_rx;

	if (len >= 4 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0) {
		if (buf[0] == NC_WG_MSG_DATA && len >= NC_WG_DATA_MIN)
			rx_data(w, buf, len, from, now);
		else if (buf[0] == NC_WG_MSG_INIT && len == NC_WG_INIT_LEN)
			rx_initiation(w, buf, from, now);
		else if (buf[0] == NC_WG_MSG_RESP && len == NC_WG_RESP_LEN)
			rx_response(w, buf, from, now);
		else if (buf[0] == NC_WG_MSG_COOKIE && len == NC_WG_COOKIE_LEN)
			w->c.cookie_rx++;
		else
			w->c.bad_len++;
	} else {
		w->c.bad_len++;
	}
	if (w->c.bad_len + w->c.bad_mac1 + w->c.bad_index + w->c.unknown_key + w->c.bad_auth +
	    w->c.replay + w->c.stale_ts + w->c.too_fast + w->c.expired + w->c.bad_inner +
	    w->c.bad_src + w->c.cookie_rx != before)
		w->link.stats.rx_dropped++;
}

static int wg_input(struct nc_link *l)
{
	struct wg *w = l->priv;
	int budget = WG_RX_BUDGET, ret = 0;

	if (w->in_input)
		return 0;
	w->in_input = 1;
	while (budget > 0) {
		uint64_t now;
		int n;

		for (int i = 0; i < WG_RX_BATCH; i++) {
			w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
			w->rx_msgs[i].msg_hdr.msg_flags = 0;
			w->rx_msgs[i].msg_hdr.msg_control = w->rx_ctl[i].buf;
			w->rx_msgs[i].msg_hdr.msg_controllen = sizeof(w->rx_ctl[i].buf);
		}
		n = recvmmsg(l->fd, w->rx_msgs, WG_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH || errno == ENOMEM || errno == ENOBUFS) {
				budget--;
				continue;
			}
			ret = -errno;
			nc_warn("wireguard: receive failed: %s", strerror(errno));
			break;
		}
		now = now_ms();
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &w->rx_msgs[i].msg_hdr;
			size_t len = w->rx_msgs[i].msg_len, seg = len;
			uint8_t *buf = w->rx_buf + (size_t)i * WG_RX_BUFSZ;

			if ((mh->msg_flags & MSG_TRUNC) || len == 0) {
				w->c.bad_len++;
				l->stats.rx_dropped++;
				continue;
			}
			for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
				if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
					int g;
					memcpy(&g, CMSG_DATA(c), sizeof(g));
					if (g > 0)
						seg = (size_t)g;
				}
			}
			for (size_t off = 0; off < len; off += seg) {
				size_t one = len - off < seg ? len - off : seg;

				if (l->fault)
					fault_rx(w, buf + off, one, &w->rx_addr[i], now);
				else
					rx_datagram(w, buf + off, one, &w->rx_addr[i], now);
				budget--;
			}
		}
		if (n < WG_RX_BATCH)
			break;
	}
	if (l->fault)   /* a held datagram waits at most until the end of this input */
		fault_release_rx(w, now_ms());
	w->in_input = 0;
	return ret;
}

/* ---- timers ----------------------------------------------------------------------- */

static void peer_timers(struct wg *w, struct wg_peer *p, uint64_t now)
{
	/* Handshake retries, then giving up. */
	if (p->hs_state == 1 &&
	    now - p->hs_sent >= T(w, NC_WG_REKEY_TIMEOUT_MS) + (uint64_t)p->hs_jitter / w->scale) {
		if (now - p->hs_first >= T(w, NC_WG_REKEY_ATTEMPT_TIME_MS)) {
			p->hs_state = 0;
			queue_clear(w, p);
		} else {
			handshake_start(w, p, now, 1);
		}
	}
	/* Sessions past their time are gone; everything after 3 × REJECT. */
	if (p->prev.valid && now - p->prev.born >= T(w, NC_WG_REJECT_AFTER_TIME_MS))
		session_clear(&p->prev);
	if (p->next.valid && now - p->next.born >= T(w, NC_WG_REJECT_AFTER_TIME_MS))
		session_clear(&p->next);
	if (p->cur.valid && now - p->cur.born >= T(w, 3 * NC_WG_REJECT_AFTER_TIME_MS)) {
		session_clear(&p->cur);
		memset(&p->hs, 0, sizeof(p->hs));
	}
	/* Data received and nothing sent back: a keepalive. */
	if (p->data_recv_unanswered &&
	    now - p->data_recv_unanswered >= T(w, NC_WG_KEEPALIVE_TIMEOUT_MS)) {
		p->data_recv_unanswered = 0;
		if (now - p->last_sent >= T(w, NC_WG_KEEPALIVE_TIMEOUT_MS))
			send_keepalive(w, p, now);
	}
	/* Data sent and nothing heard: a new handshake. */
	if (p->data_sent_unanswered && now - p->data_sent_unanswered >=
	    T(w, NC_WG_KEEPALIVE_TIMEOUT_MS + NC_WG_REKEY_TIMEOUT_MS)) {
		p->data_sent_unanswered = 0;
		if (p->hs_state != 1)
			handshake_start(w, p, now, 0);
	}
	/* PersistentKeepalive. */
	if (p->keepalive_s && p->ep.ss_family &&
	    now - p->last_sent >= T(w, (uint64_t)p->keepalive_s * 1000))
		send_keepalive(w, p, now);
}

static void wg_poll(struct nc_link *l)
{
	struct wg *w = l->priv;
	uint64_t now = now_ms();

	for (int i = 0; i < w->npeers; i++)
		peer_timers(w, &w->peers[i], now);
}

static int wg_timeout_ms(struct nc_link *l)
{
	struct wg *w = l->priv;
	uint64_t now = now_ms(), best = T(w, 1000);

	for (int i = 0; i < w->npeers; i++) {
		struct wg_peer *p = &w->peers[i];
		if (p->hs_state == 1) {
			uint64_t due = p->hs_sent + T(w, NC_WG_REKEY_TIMEOUT_MS) +
				       (uint64_t)p->hs_jitter / w->scale;
			uint64_t left = due > now ? due - now : 0;
			if (left < best)
				best = left;
		}
	}
	return (int)best;
}

/* ---- status ----------------------------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
put_line(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos + 1 >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *pos) {
		buf[*pos] = '\0';
		*pos = len;
		return -ENOSPC;
	}
	*pos += (size_t)n;
	return 0;
}

static void wg_describe(struct nc_link *l, char *buf, size_t len)
{
	struct wg *w = l->priv;
	struct wg_counters *c = &w->c;
	uint64_t now = now_ms();
	size_t pos = 0;
	char key[NC_WG_KEY_B64_LEN + 1], ep[80];

	buf[0] = '\0';
	nc_wg_key_to_base64(key, w->me.pub);
	put_line(buf, len, &pos, "wireguard %s: public key %s, listening on UDP port %d, "
		 "%d peers\n", w->name, key, w->port, w->npeers);
	for (int i = 0; i < w->npeers; i++) {
		struct wg_peer *p = &w->peers[i];
		char hs[48];

		nc_wg_key_to_base64(key, p->pub);
		if (p->last_handshake)
			snprintf(hs, sizeof(hs), "%llu s ago",
				 (unsigned long long)((now - p->last_handshake) / 1000));
		else
			snprintf(hs, sizeof(hs), "never");
		put_line(buf, len, &pos, "wg peer %s endpoint %s latest handshake %s, "
			 "transfer %llu B received, %llu B sent%s\n", key,
			 sa_str(&p->ep, ep, sizeof(ep)), hs, (unsigned long long)p->rx_bytes,
			 (unsigned long long)p->tx_bytes,
			 p->cur.valid ? "" : p->hs_state == 1 ? " (handshaking)" : " (no session)");
	}
	put_line(buf, len, &pos, "wg handshakes: %llu initiations sent, %llu received; "
		 "%llu responses sent, %llu received\n",
		 (unsigned long long)c->hs_init_tx, (unsigned long long)c->hs_init_rx,
		 (unsigned long long)c->hs_resp_tx, (unsigned long long)c->hs_resp_rx);
	put_line(buf, len, &pos, "wg dropped: %llu junk, %llu bad mac1, %llu unknown index, "
		 "%llu unknown key, %llu failed authentication, %llu replayed, %llu stale "
		 "initiations, %llu initiations too fast, %llu expired, %llu bad inner packets, "
		 "%llu disallowed sources, %llu cookie replies; tx: %llu no route, %llu no "
		 "endpoint, %llu queue overflow\n",
		 (unsigned long long)c->bad_len, (unsigned long long)c->bad_mac1,
		 (unsigned long long)c->bad_index, (unsigned long long)c->unknown_key,
		 (unsigned long long)c->bad_auth, (unsigned long long)c->replay,
		 (unsigned long long)c->stale_ts, (unsigned long long)c->too_fast,
		 (unsigned long long)c->expired, (unsigned long long)c->bad_inner,
		 (unsigned long long)c->bad_src, (unsigned long long)c->cookie_rx,
		 (unsigned long long)c->no_route, (unsigned long long)c->no_endpoint,
		 (unsigned long long)c->queue_drop);
}

static void wg_close(struct nc_link *l)
{
	struct wg *w = l->priv;

	for (int i = 0; i < w->npeers; i++) {
		struct wg_peer *p = &w->peers[i];
		session_clear(&p->cur);
		session_clear(&p->prev);
		session_clear(&p->next);
		queue_clear(w, p);
	}
	nc_wg_route_free(&w->rt);
	if (l->fd >= 0)
		close(l->fd);
	free(w->peers);
	free(w->txb);
	free(w->rx_buf);
	free(w->dup_buf);
	memset(&w->me, 0, sizeof(w->me));
	free(w);
}

static const struct nc_link_ops wg_ops = {
	.name = "wireguard",
	.send = wg_send,
	.input = wg_input,
	.flush = wg_flush,
	.describe = wg_describe,
	.close = wg_close,
	.poll = wg_poll,
	.timeout_ms = wg_timeout_ms,
};

/* ---- open ------------------------------------------------------------------------- */

static int open_socket(struct wg *w, int port, char *err, size_t errlen)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), v = 0;
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
		w->family = AF_INET6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		if (fd >= 0)
			close(fd);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
		w->family = AF_INET;
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		snprintf(err, errlen, "wireguard: cannot listen on UDP port %d: %s", port,
			 strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	w->port = ntohs(w->family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
	v = WG_SOCKBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = 1;
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v));
	w->link.fd = fd;
	return 0;
}

int nc_link_wireguard_open(struct nc_link **out, const struct nc_wg_config *cfg,
			   const char *name, int mtu, nc_link_deliver_fn deliver, void *ctx,
			   char *err, size_t errlen)
{
	struct wg *w;
	const char *env = getenv("NETCON_WG_TIME_SCALE");
	char why[128];
	int r;

	if (mtu + NC_WG_OVERHEAD + 16 + 48 > 65535) {
		snprintf(err, errlen, "--mtu %d is too large for WireGuard (at most 65440)", mtu);
		return -EMSGSIZE;
	}
	if (!cfg->has_priv) {
		snprintf(err, errlen, "%s: no PrivateKey in [Interface]", cfg->path);
		return -EINVAL;
	}
	r = nc_wg_crypto_init(why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "wireguard: %s", why);
		return r;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->link.fd = -1;
	w->link.priv = w;
	w->link.ops = &wg_ops;
	w->link.deliver = deliver;
	w->link.ctx = ctx;
	w->link.ip_level = 1;
	w->link.wire_faults = 1;
	w->link.max_mtu = 65535 - NC_WG_OVERHEAD - 16 - 48;
	w->mtu = mtu;
	w->scale = 1;
	if (env && *env) {
		long s = strtol(env, NULL, 10);
		if (s >= 1 && s <= 100000)
			w->scale = (unsigned)s;
	}
	snprintf(w->name, sizeof(w->name), "%s", name && *name ? name : "wg0");
	w->slot = ((size_t)mtu + NC_WG_OVERHEAD + 15) & ~(size_t)15;
	w->txb = malloc(WG_TXB_COUNT * w->slot);
	w->rx_buf = malloc((size_t)WG_RX_BATCH * WG_RX_BUFSZ);
	w->peers = calloc((size_t)(cfg->n_peers ? cfg->n_peers : 1), sizeof(*w->peers));
	if (!w->txb || !w->rx_buf || !w->peers) {
		snprintf(err, errlen, "out of memory");
		wg_close(&w->link);
		return -ENOMEM;
	}
	if (nc_wg_static_init(&w->me, cfg->priv) < 0) {
		snprintf(err, errlen, "%s: the PrivateKey is not a usable X25519 key", cfg->path);
		wg_close(&w->link);
		return -EINVAL;
	}
	r = open_socket(w, cfg->listen_port < 0 ? 0 : cfg->listen_port, err, errlen);
	if (r < 0) {
		wg_close(&w->link);
		return r;
	}
	for (int i = 0; i < WG_RX_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx_buf + (size_t)i * WG_RX_BUFSZ;
		w->rx_iov[i].iov_len = WG_RX_BUFSZ;
		w->rx_msgs[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		w->rx_msgs[i].msg_hdr.msg_name = &w->rx_addr[i];
	}
	for (int i = 0; i < cfg->n_peers; i++) {
		const struct nc_wg_peer_conf *pc = &cfg->peers[i];
		struct wg_peer *p = &w->peers[w->npeers];

		if (!memcmp(pc->pub, w->me.pub, 32)) {
			snprintf(err, errlen, "%s:%d: this [Peer]'s PublicKey is the interface's "
				 "own", cfg->path, pc->line);
			wg_close(&w->link);
			return -EINVAL;
		}
		memcpy(p->pub, pc->pub, 32);
		memcpy(p->psk, pc->psk, 32);
		p->keepalive_s = pc->keepalive;
		if (pc->endpoint_len && ep_normalise(w, &p->ep, &p->ep_len, &pc->endpoint) < 0) {
			snprintf(err, errlen, "%s:%d: an IPv6 Endpoint, but IPv6 is not available "
				 "here", cfg->path, pc->line);
			wg_close(&w->link);
			return -EAFNOSUPPORT;
		}
		w->npeers++;
		for (int k = 0; k < pc->n_allowed; k++) {
			if (nc_wg_route_add(&w->rt, &cfg->allowed[pc->first_allowed + k], p) < 0) {
				snprintf(err, errlen, "out of memory");
				wg_close(&w->link);
				return -ENOMEM;
			}
		}
	}
	/* PersistentKeepalive starts at once, as wg(8) does when it configures a peer. */
	for (int i = 0; i < w->npeers; i++)
		if (w->peers[i].keepalive_s && w->peers[i].ep.ss_family)
			handshake_start(w, &w->peers[i], now_ms(), 0);
	*out = &w->link;
	return 0;
}
