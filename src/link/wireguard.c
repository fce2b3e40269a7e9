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
 *   1 initiation  MAC1 checked; under load, MAC2 too (below); Noise consumed, the
 *                 initiator's static key must be a peer's and its timestamp newer than
 *                 the last one from that peer (a replayed initiation is dropped); at
 *                 most one per peer every 20 ms. The answer's keys wait as the peer's
 *                 "next" session until the initiator's first data message confirms them.
 *   2 response    MAC1 (under load, MAC2), the receiver index of our initiation, Noise:
 *                 the new session becomes current, queued packets go (or a keepalive
 *                 confirms it).
 *   3 cookie      the receiver index names our initiation or response; the cookie,
 *                 decrypted with the MAC1 we sent as associated data, keys the MAC2 of
 *                 our handshake messages to that peer for COOKIE_REFRESH (120 s). No
 *                 message is resent at once: the next retry carries the MAC2.
 *   4 data        the receiver index picks the session, the replay window and the
 *                 session's age are checked before and after decryption; the inner
 *                 packet must be well-formed IPv4/IPv6 and its source inside the
 *                 sender's AllowedIPs. An empty one is a keepalive.
 * Cookie mode (the whitepaper's section 5.4.7): the link is "under load" while more than
 * WG_LOAD_MAX handshake messages with a valid MAC1 arrived within WG_LOAD_WINDOW_MS, and
 * for WG_LOAD_AFTER_MS after (wireguard-go's UnderLoadAfterTime; it measures its
 * handshake queue instead, which a single-threaded service does not have). Under load a
 * handshake message whose MAC2 is not MAC(cookie of its source address) gets a cookie
 * reply instead of Diffie-Hellman work: the cookie is MAC(secret, source address and
 * port), the secret random and replaced every COOKIE_REFRESH. One with a valid MAC2 goes
 * on if its source address has not sent more than 20 such a second (a burst of 5:
 * wireguard-go's ratelimiter), else it is dropped and counted.
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
 * NETCON_WG_TIME_SCALE=N (tests only) divides every one of these times by N, and the
 * cookie's and the per-peer initiation limit's; not the load window, which is a rate.
 * NETCON_WG_REKEY_AFTER_MESSAGES=N (tests only) replaces REKEY_AFTER_MESSAGES (2^60).
 *
 * The UAPI (wg(8)'s get and set; wguapi.c has the text, the service's uapi.c the
 * socket): nc_link_wireguard_state() and nc_link_wireguard_set() at the end of this
 * file. Peers live in an array sized for NC_WG_MAX_PEERS from the start, since routes
 * and the send batch point into it; a removed peer's slot takes the last peer.
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
#include "link/wguapi.h"
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
#define WG_ZC_MIN         4096               /* plaintext opened into lwIP's pbuf (rx_zc) */
#define WG_TXB_COUNT      64
#define WG_SOCKBUF        (4 * 1024 * 1024)
#define WG_INIT_MIN_MS    20                 /* initiations accepted per peer: 50/s */
#define WG_JITTER_MS      334
#define WG_LOAD_WINDOW_MS 1000               /* cookie mode: more than WG_LOAD_MAX ... */
#define WG_LOAD_MAX       128                /* ... handshake messages in a window */
#define WG_LOAD_AFTER_MS  1000               /* and for this long after */
#define WG_RL_SLOTS       256                /* sources rate-limited under load */
#define WG_RL_PROBE       8
#define WG_RL_COST_MS     50                 /* 20 handshake messages a second ... */
#define WG_RL_MAX_MS      250                /* ... a burst of 5 */

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

	/* The peer's cookie (from its cookie reply) keys our MAC2s; the MAC1 we sent last
	 * is the associated data of the reply we may get. */
	uint8_t cookie[16], last_mac1[16];
	uint64_t cookie_born;                /* ms: 0 = none */
	int has_last_mac1;
};

struct wg_counters {
	uint64_t hs_init_tx, hs_init_rx, hs_resp_tx, hs_resp_rx;
	uint64_t bad_len, bad_mac1, bad_index, unknown_key, bad_auth, replay, stale_ts;
	uint64_t too_fast, expired, bad_inner, bad_src, no_route, no_endpoint, queue_drop,
		 bad_cookie, hs_fail;
	uint64_t cookie_tx, cookie_rx, mac2_tx, bad_mac2, load_on, rate_limited;
	uint64_t keepalive_tx, keepalive_rx;
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
	uint64_t rekey_msgs;         /* REKEY_AFTER_MESSAGES (NETCON_WG_REKEY_AFTER_MESSAGES) */
	uint8_t cookie_secret[32];
	uint64_t secret_born;        /* ms: 0 = none yet */
	uint64_t load_start, under_load_until;
	unsigned load_n;
	struct {
		uint8_t addr[16];
		uint64_t last;       /* ms: 0 = free */
		uint64_t tokens;     /* ms of credit, at most WG_RL_MAX_MS */
	} rl[WG_RL_SLOTS];
	int in_input;
	int no_gso;
	uint32_t fwmark;             /* SO_MARK of the socket (FwMark, the UAPI's fwmark) */
	int rx_csum_ok;              /* NC_LINK_OFF_RX_CSUM granted (see wg_set_offload) */

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
	return nc_wg_endpoint_str(ss, buf, len);
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

/* MAC1, and MAC2 while the peer's cookie is fresh; the MAC1 is kept for its reply. */
static int add_macs(struct wg *w, struct wg_peer *p, uint8_t *msg, size_t len, uint64_t now)
{
	int fresh = p->cookie_born && now - p->cookie_born < T(w, NC_WG_COOKIE_REFRESH_MS);
	int r = nc_wg_macs_add(msg, len, p->pub, fresh ? p->cookie : NULL);

	if (r == 0) {
		memcpy(p->last_mac1, msg + len - 32, 16);
		p->has_last_mac1 = 1;
		w->c.mac2_tx += (uint64_t)fresh;
	}
	return r;
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
	    add_macs(w, p, msg, sizeof(msg), now) < 0) {
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
	if (seal_to_batch(w, p, NULL, 0, 0) == 0) {
		p->last_sent = now;
		w->c.keepalive_tx++;
	}
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
	if (s->send_ctr >= w->rekey_msgs ||
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

/* ---- cookies ---------------------------------------------------------------------- */

/* Whether handshake messages come faster than we should do Diffie-Hellman for them:
 * called once per message with a valid MAC1. */
static int under_load(struct wg *w, uint64_t now)
{
	if (now - w->load_start >= WG_LOAD_WINDOW_MS) {
		w->load_start = now;
		w->load_n = 0;
	}
	if (++w->load_n > WG_LOAD_MAX) {
		if (w->under_load_until <= now)
			w->c.load_on++;
		w->under_load_until = now + WG_LOAD_AFTER_MS;
	}
	return w->under_load_until > now;
}

/* The cookie of a source address (address and port, in the socket's family) under the
 * current secret; with make, a new secret when it is older than COOKIE_REFRESH. 0, or
 * -1 when there is no current secret (then no MAC2 is valid). */
static int cookie_of(struct wg *w, const struct sockaddr_storage *from, uint64_t now,
		     int make, uint8_t cookie[16])
{
	struct sockaddr_storage n;
	socklen_t nl;
	uint8_t src[18];
	size_t len;

	if (!w->secret_born || now - w->secret_born >= T(w, NC_WG_COOKIE_REFRESH_MS)) {
		if (!make)
			return -1;
		if (getrandom(w->cookie_secret, 32, 0) != 32)
			return -1;
		w->secret_born = now;
	}
	if (ep_normalise(w, &n, &nl, from) < 0)
		return -1;
	if (n.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&n;
		memcpy(src, &s6->sin6_addr, 16);
		memcpy(src + 16, &s6->sin6_port, 2);
		len = 18;
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&n;
		memcpy(src, &s4->sin_addr, 4);
		memcpy(src + 4, &s4->sin_port, 2);
		len = 6;
	}
	return nc_wg_cookie_make(cookie, w->cookie_secret, src, len);
}

/* Under load, whether a source address may have one more handshake message with a valid
 * MAC2 looked at: a token bucket per address (wireguard-go's ratelimiter), in a table
 * probed by hash; a source not found takes the least recently seen of its slots. */
static int rate_ok(struct wg *w, const struct sockaddr_storage *from, uint64_t now)
{
	struct sockaddr_storage n;
	socklen_t nl;
	uint8_t a[16] = { 0 };
	uint32_t h = 2166136261u;
	int at = -1, old = -1;

	if (ep_normalise(w, &n, &nl, from) < 0)
		return 0;
	if (n.ss_family == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)&n)->sin6_addr, 16);
	else
		memcpy(a, &((const struct sockaddr_in *)&n)->sin_addr, 4);
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	for (int i = 0; i < WG_RL_PROBE && at < 0; i++) {
		int k = (int)((h + (uint32_t)i) % WG_RL_SLOTS);
		if (w->rl[k].last && !memcmp(w->rl[k].addr, a, 16))
			at = k;
		else if (old < 0 || w->rl[k].last < w->rl[old].last)
			old = k;
	}
	if (at < 0) {
		memcpy(w->rl[old].addr, a, 16);
		w->rl[old].last = now;
		w->rl[old].tokens = WG_RL_MAX_MS - WG_RL_COST_MS;
		return 1;
	}
	w->rl[at].tokens += now - w->rl[at].last;
	w->rl[at].last = now;
	if (w->rl[at].tokens > WG_RL_MAX_MS)
		w->rl[at].tokens = WG_RL_MAX_MS;
	if (w->rl[at].tokens > WG_RL_COST_MS) {
		w->rl[at].tokens -= WG_RL_COST_MS;
		return 1;
	}
	return 0;
}

/* Cookie mode: under load, a handshake message (msg, len) needs a MAC2 made with its
 * source's cookie, and its source must be within its rate; without a MAC2 it gets a
 * cookie reply. 1: no further work for this message. */
static int cookie_wanted(struct wg *w, const uint8_t *msg, size_t len,
			 const struct sockaddr_storage *from, uint64_t now)
{
	static const uint8_t zeros[16];
	uint8_t cookie[16], reply[NC_WG_COOKIE_LEN];

	if (!under_load(w, now))
		return 0;
	if (cookie_of(w, from, now, 0, cookie) == 0 && nc_wg_mac2_ok(cookie, msg, len)) {
		if (rate_ok(w, from, now))
			return 0;
		w->c.rate_limited++;
		return 1;
	}
	if (memcmp(msg + len - 16, zeros, 16))
		w->c.bad_mac2++;     /* a stale cookie's, or forged */
	if (cookie_of(w, from, now, 1, cookie) < 0 ||
	    nc_wg_cookie_reply_create(&w->me, nc_wg_le32(msg + 4), cookie, msg, len, reply) < 0) {
		w->c.hs_fail++;
		return 1;
	}
	if (sendto(w->link.fd, reply, sizeof(reply), MSG_DONTWAIT, (const struct sockaddr *)from,
		   from->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in)) < 0)
		w->link.stats.tx_dropped++;
	else
		w->c.cookie_tx++;
	return 1;
}

/* A cookie reply to our initiation or to our response: its cookie keys our MAC2s. */
static void rx_cookie(struct wg *w, const uint8_t *msg, uint64_t now)
{
	uint32_t idx = nc_wg_le32(msg + 4);
	struct wg_peer *p = NULL;
	uint8_t cookie[16];

	for (int i = 0; i < w->npeers && !p; i++) {
		struct wg_peer *q = &w->peers[i];
		if ((q->hs_state == 1 && q->hs_local == idx) || (q->next.valid && q->next.local == idx))
			p = q;
	}
	if (!p || !p->has_last_mac1 ||
	    nc_wg_cookie_reply_consume(p->pub, p->last_mac1, msg, cookie) < 0) {
		w->c.bad_cookie++;
		return;
	}
	memcpy(p->cookie, cookie, 16);
	p->cookie_born = now;
	p->has_last_mac1 = 0;
	w->c.cookie_rx++;
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
	if (cookie_wanted(w, msg, NC_WG_INIT_LEN, from, now))
		return;
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
	if (p->last_init_rx && now - p->last_init_rx < T(w, WG_INIT_MIN_MS)) {
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
	if (nc_wg_resp_create(&hs, idx, resp) < 0 || add_macs(w, p, resp, sizeof(resp), now) < 0) {
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
	if (cookie_wanted(w, msg, NC_WG_RESP_LEN, from, now))
		return;
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

/*
 * rx_data() - a data message. A large one is opened straight into a buffer of the
 * service's (rx_zc) that becomes lwIP's pbuf, rather than in place and copied again into
 * a new pbuf; a small one (an ACK) is not worth a buffer of its own.
 */
static void rx_data(struct wg *w, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
		    uint64_t now)
{
	const struct nc_link_rx_zc *zc = w->link.rx_zc;
	struct wg_peer *p = NULL;
	struct wg_session *s = find_session(w, nc_wg_le32(buf + 4), &p);
	uint64_t ctr = nc_wg_le64(buf + 8);
	uint8_t *pt = buf + NC_WG_DATA_HLEN;   /* the plaintext */
	void *handle = NULL;
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
	if (zc && len - NC_WG_DATA_MIN >= WG_ZC_MIN) {
		uint8_t *b = zc->alloc(w->link.ctx, len - NC_WG_DATA_MIN, &handle);
		if (b)
			pt = b;
	}
	n = nc_wg_data_open_to(&s->keys, buf, len, pt);
	if (n < 0) {
		w->c.bad_auth++;
		goto drop;
	}
	if (nc_wg_replay_mark(&s->replay, ctr) < 0) {
		w->c.replay++;
		goto drop;
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
	iplen = inner_ok(w, p, pt, (size_t)n);
	if (iplen == 0)
		w->c.keepalive_rx++;
	if (iplen <= 0)
		goto drop;   /* a keepalive, or dropped */
	if (!p->data_recv_unanswered)
		p->data_recv_unanswered = now;
	w->link.stats.rx_frames++;
	w->link.stats.rx_bytes += (uint64_t)iplen;
	w->link.rx_flags = w->rx_csum_ok ? NC_LINK_RX_CSUM_OK : 0;
	if (handle)
		zc->give(w->link.ctx, handle, pt, (size_t)iplen);
	else
		w->link.deliver(w->link.ctx, pt, (size_t)iplen);
	w->link.rx_flags = 0;
	return;
drop:
	if (handle)
		zc->release(w->link.ctx, handle);
}

static void rx_datagram(struct wg *w, uint8_t *buf, size_t len,
			const struct sockaddr_storage *from, uint64_t now)
{
	uint64_t before = w->c.bad_len + w->c.bad_mac1 + w->c.bad_index + w->c.unknown_key +
			  w->c.bad_auth + w->c.replay + w->c.stale_ts + w->c.too_fast +
			  w->c.expired + w->c.bad_inner + w->c.bad_src + w->c.bad_cookie +
			  w->c.cookie_tx + w->c.rate_limited;

	if (len >= 4 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0) {
		if (buf[0] == NC_WG_MSG_DATA && len >= NC_WG_DATA_MIN)
			rx_data(w, buf, len, from, now);
		else if (buf[0] == NC_WG_MSG_INIT && len == NC_WG_INIT_LEN)
			rx_initiation(w, buf, from, now);
		else if (buf[0] == NC_WG_MSG_RESP && len == NC_WG_RESP_LEN)
			rx_response(w, buf, from, now);
		else if (buf[0] == NC_WG_MSG_COOKIE && len == NC_WG_COOKIE_LEN)
			rx_cookie(w, buf, now);
		else
			w->c.bad_len++;
	} else {
		w->c.bad_len++;
	}
	if (w->c.bad_len + w->c.bad_mac1 + w->c.bad_index + w->c.unknown_key + w->c.bad_auth +
	    w->c.replay + w->c.stale_ts + w->c.too_fast + w->c.expired + w->c.bad_inner +
	    w->c.bad_src + w->c.bad_cookie + w->c.cookie_tx + w->c.rate_limited != before)
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
		 "%llu disallowed sources, %llu bad cookie replies; tx: %llu no route, %llu no "
		 "endpoint, %llu queue overflow\n",
		 (unsigned long long)c->bad_len, (unsigned long long)c->bad_mac1,
		 (unsigned long long)c->bad_index, (unsigned long long)c->unknown_key,
		 (unsigned long long)c->bad_auth, (unsigned long long)c->replay,
		 (unsigned long long)c->stale_ts, (unsigned long long)c->too_fast,
		 (unsigned long long)c->expired, (unsigned long long)c->bad_inner,
		 (unsigned long long)c->bad_src, (unsigned long long)c->bad_cookie,
		 (unsigned long long)c->no_route, (unsigned long long)c->no_endpoint,
		 (unsigned long long)c->queue_drop);
	put_line(buf, len, &pos, "wg cookies: %s, %llu times under load; %llu cookie replies "
		 "sent, %llu received; %llu MAC2 sent, %llu bad MAC2 received, %llu over the "
		 "per-source rate\n",
		 w->under_load_until > now ? "under load" : "not under load",
		 (unsigned long long)c->load_on, (unsigned long long)c->cookie_tx,
		 (unsigned long long)c->cookie_rx, (unsigned long long)c->mac2_tx,
		 (unsigned long long)c->bad_mac2, (unsigned long long)c->rate_limited);
	put_line(buf, len, &pos, "wg keepalives: %llu sent, %llu received\n",
		 (unsigned long long)c->keepalive_tx, (unsigned long long)c->keepalive_rx);
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
	memset(w->cookie_secret, 0, sizeof(w->cookie_secret));
	free(w);
}

/*
 * wg_set_offload() - a decrypted packet passed ChaCha20-Poly1305: its bytes are the ones
 * the peer sealed, so its TCP/UDP checksum need not be verified again (Linux's WireGuard
 * marks such packets CHECKSUM_UNNECESSARY for the same reason). Checksums are still
 * made for sending: the peer may be a kernel that checks them. Not with --link-fault,
 * whose corruption must fail a checksum (the service then asks for nothing).
 */
static unsigned wg_set_offload(struct nc_link *l, unsigned want)
{
	struct wg *w = l->priv;

	w->rx_csum_ok = (want & NC_LINK_OFF_RX_CSUM) != 0;
	return want & NC_LINK_OFF_RX_CSUM;
}

/* A packet to addr has a peer (an AllowedIPs prefix holds it), whatever its session. */
static int wg_reaches(struct nc_link *l, int family, const uint8_t *addr)
{
	struct wg *w = l->priv;

	return nc_wg_route_lookup(&w->rt, family, addr) != NULL;
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
	.set_offload = wg_set_offload,
	.reaches = wg_reaches,
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

/* SO_MARK on fd (0 clears it): 0 or -1 with errno (EPERM without CAP_NET_ADMIN). */
static int set_fwmark(struct wg *w, int fd, uint32_t mark)
{
	if ((mark || w->fwmark) && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		return -1;
	w->fwmark = mark;
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
		snprintf(err, errlen, "--mtu %d is too large for WireGuard (at most %d)", mtu,
			 65535 - NC_WG_OVERHEAD - 16 - 48);
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
	w->rekey_msgs = NC_WG_REKEY_AFTER_MESSAGES;
	env = getenv("NETCON_WG_REKEY_AFTER_MESSAGES");
	if (env && *env) {
		unsigned long long m = strtoull(env, NULL, 10);
		if (m >= 1 && m < NC_WG_REKEY_AFTER_MESSAGES)
			w->rekey_msgs = m;
	}
	snprintf(w->name, sizeof(w->name), "%s", name && *name ? name : "wg0");
	w->slot = ((size_t)mtu + NC_WG_OVERHEAD + 15) & ~(size_t)15;
	w->txb = malloc(WG_TXB_COUNT * w->slot);
	w->rx_buf = malloc((size_t)WG_RX_BATCH * WG_RX_BUFSZ);
	/* Room for every peer the UAPI may add: the routes point into this array. */
	w->peers = calloc(NC_WG_MAX_PEERS, sizeof(*w->peers));
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
	if (cfg->fwmark && set_fwmark(w, w->link.fd, cfg->fwmark) < 0)
		nc_warn("wireguard: FwMark %u not applied: %s", (unsigned)cfg->fwmark,
			strerror(errno));
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

/* ---- the UAPI (wguapi.c parses and writes the text, the service's uapi.c serves) --- */

void nc_link_wireguard_rx(struct nc_link *l, uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from)
{
	rx_datagram(l->priv, buf, len, from, now_ms());
}

int nc_link_wireguard_state(struct nc_link *l, struct nc_wg_state *st)
{
	struct wg *w = l->priv;
	uint64_t now = now_ms();

	memset(st, 0, sizeof(*st));
	if (l->ops != &wg_ops)
		return -EINVAL;
	memcpy(st->priv, w->me.priv, 32);
	memcpy(st->pub, w->me.pub, 32);
	st->listen_port = w->port;
	st->fwmark = w->fwmark;
	st->peers = calloc((size_t)(w->npeers ? w->npeers : 1), sizeof(*st->peers));
	st->allowed = calloc((size_t)(w->rt.n ? w->rt.n : 1), sizeof(*st->allowed));
	if (!st->peers || !st->allowed) {
		nc_wg_state_free(st);
		return -ENOMEM;
	}
	for (int i = 0; i < w->npeers; i++) {
		struct wg_peer *p = &w->peers[i];
		struct nc_wg_peer_state *ps = &st->peers[i];

		memcpy(ps->pub, p->pub, 32);
		memcpy(ps->psk, p->psk, 32);
		if (p->ep.ss_family)
			memcpy(&ps->ep, &p->ep, p->ep_len);
		ps->keepalive = p->keepalive_s;
		if (p->last_handshake)
			ps->last_handshake = p->last_handshake_wall;
		ps->rx_bytes = p->rx_bytes;
		ps->tx_bytes = p->tx_bytes;
		ps->session = session_usable(w, &p->cur, now) ? "up" :
			      p->hs_state == 1 ? "handshaking" : "none";
		ps->first_allowed = st->n_allowed;
		for (int k = 0; k < w->rt.n; k++)
			if (w->rt.e[k].peer == p)
				st->allowed[st->n_allowed++] = w->rt.e[k].p;
		ps->n_allowed = st->n_allowed - ps->first_allowed;
	}
	st->n_peers = w->npeers;
	return 0;
}

/* Forget a peer: its sessions, queue and routes; the last peer takes its slot. */
static void peer_remove(struct wg *w, struct wg_peer *p)
{
	struct wg_peer *last = &w->peers[w->npeers - 1];

	wg_flush(&w->link);   /* the batch names peers by address */
	session_clear(&p->cur);
	session_clear(&p->prev);
	session_clear(&p->next);
	queue_clear(w, p);
	nc_wg_route_del_peer(&w->rt, p);
	if (p != last) {
		*p = *last;
		for (int i = 0; i < w->rt.n; i++)
			if (w->rt.e[i].peer == last)
				w->rt.e[i].peer = p;
	}
	memset(last, 0, sizeof(*last));
	w->npeers--;
}

/* A new listening socket on port (0: a random one), the old one closed. */
static int set_port(struct wg *w, int port, char *err, size_t errlen)
{
	int old = w->link.fd, family = w->family, oldport = w->port, r;

	if (port && port == w->port)
		return 0;
	w->link.fd = -1;
	r = open_socket(w, port, err, errlen);
	if (r == 0 && w->family != family) {
		close(w->link.fd);
		snprintf(err, errlen, "the new socket's address family differs");
		r = -EAFNOSUPPORT;
	}
	if (r == 0 && w->fwmark && setsockopt(w->link.fd, SOL_SOCKET, SO_MARK, &w->fwmark,
					      sizeof(w->fwmark)) < 0) {
		r = -errno;
		close(w->link.fd);
		snprintf(err, errlen, "fwmark on the new socket: %s", strerror(-r));
	}
	if (r < 0) {
		w->link.fd = old;
		w->family = family;
		w->port = oldport;
		return r;
	}
	wg_flush(&w->link);
	close(old);
	return 0;
}

/* A new private key: every session and handshake ends; a peer with the new public key
 * goes (as in wireguard-go). */
static int set_private(struct wg *w, const uint8_t priv[32])
{
	struct nc_wg_static me;
	struct wg_peer *p;

	if (nc_wg_static_init(&me, priv) < 0)
		return -EINVAL;
	if (memcmp(me.priv, w->me.priv, 32)) {
		w->me = me;
		for (int i = 0; i < w->npeers; i++) {
			p = &w->peers[i];
			session_clear(&p->cur);
			session_clear(&p->prev);
			session_clear(&p->next);
			p->hs_state = 0;
			memset(&p->hs, 0, sizeof(p->hs));
		}
		p = find_peer(w, me.pub);
		if (p)
			peer_remove(w, p);
	}
	memset(&me, 0, sizeof(me));
	return 0;
}

int nc_link_wireguard_set(struct nc_link *l, const struct nc_wg_uapi_set *s, char *err,
			  size_t errlen)
{
	struct wg *w = l->priv;
	uint64_t now = now_ms();
	int r;

	err[0] = '\0';
	if (l->ops != &wg_ops)
		return -EINVAL;
	if (s->listen_port >= 0) {
		r = set_port(w, s->listen_port, err, errlen);
		if (r < 0)
			return r;
	}
	if (s->has_fwmark && s->fwmark != w->fwmark && set_fwmark(w, l->fd, s->fwmark) < 0) {
		r = -errno;
		snprintf(err, errlen, "fwmark %u: %s", (unsigned)s->fwmark, strerror(-r));
		return r;
	}
	if (s->has_priv && set_private(w, s->priv) < 0) {
		snprintf(err, errlen, "the private_key is not a usable X25519 key");
		return -EINVAL;
	}
	if (s->replace_peers)
		while (w->npeers)
			peer_remove(w, &w->peers[w->npeers - 1]);
	for (int i = 0; i < s->n_peers; i++) {
		const struct nc_wg_uapi_peer *op = &s->peers[i];
		struct wg_peer *p = find_peer(w, op->pub);

		if (!memcmp(op->pub, w->me.pub, 32))
			continue;   /* our own key: ignored, as wireguard-go does */
		if (op->set & NC_WG_SET_REMOVE) {
			if (p)
				peer_remove(w, p);
			continue;
		}
		if (!p) {
			if (op->set & NC_WG_SET_UPDATE_ONLY)
				continue;
			if (w->npeers >= NC_WG_MAX_PEERS) {
				snprintf(err, errlen, "too many peers (at most %d)", NC_WG_MAX_PEERS);
				return -ENOSPC;
			}
			p = &w->peers[w->npeers++];
			memset(p, 0, sizeof(*p));
			memcpy(p->pub, op->pub, 32);
		}
		if (op->set & NC_WG_SET_PSK)
			memcpy(p->psk, op->psk, 32);
		if ((op->set & NC_WG_SET_ENDPOINT) && ep_normalise(w, &p->ep, &p->ep_len, &op->ep) < 0) {
			snprintf(err, errlen, "an IPv6 endpoint, but IPv6 is not available here");
			return -EAFNOSUPPORT;
		}
		if (op->set & NC_WG_SET_REPLACE_IPS)
			nc_wg_route_del_peer(&w->rt, p);
		for (int k = 0; k < op->n_allowed; k++) {
			if (nc_wg_route_add(&w->rt, &s->allowed[op->first_allowed + k], p) < 0) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
		if (op->set & NC_WG_SET_KEEPALIVE) {
			int was = p->keepalive_s;

			p->keepalive_s = op->keepalive;
			if (!was && p->keepalive_s && p->ep.ss_family)
				send_keepalive(w, p, now);   /* as wg(8) turning it on */
		}
	}
	return 0;
}
