/*
 * bench/lwipscale.c — what lwIP's input path costs per segment as the number of pcbs
 * grows: no service, no fds, no network. lwIP (NO_SYS, netcon's lwipopts.h) with one
 * netif whose output only counts; N established pcbs made directly (tcp_new, their
 * four-tuples and sequence numbers set, put on the active list as tcp_listen_input
 * would), then IPv4 segments built in pbufs and fed to ip_input():
 *
 *   one      100-byte data segments for one connection, the oldest (lwIP's list walk
 *            moves the pcb it found to the front: this is its best case)
 *   spread   100-byte data segments, each for a connection drawn at random among the N
 *            (a server whose traffic is spread over its connections)
 *   syn      a SYN from a new peer to a listener, answered with a SYN-ACK, the new pcb
 *            then aborted (what each new connection costs to find its listener)
 *   timer    one call of tcp_tmr() (lwIP's fast timer, and its slow timer every second
 *            call) with every pcb idle: its CPU share at TCP_TMR_INTERVAL. Up to
 *            lwip/patches/0007 the timers visit every pcb; with 0008 only those with
 *            timer work (timer_visits: pcbs visited per call, "all" without 0008)
 *   open     a new connection: bind to an ephemeral port (tcp_new_port), connect (SYN
 *            sent), then aborted
 *   reuse    SO_REUSEADDR, bind to the port all N pcbs are on (tcp_bind's check),
 *            connect (tcp_connect's four-tuple check), aborted
 *   accept   a passive open: SYN to the listener, the ACK of its SYN-ACK, accepted,
 *            aborted. Up to lwip/patches/0008 the port checks walk every pcb; with
 *            0009 they ask the groups of the port (*_visits: groups visited per
 *            connection, "all" without 0009)
 *
 * The same source is built against the series with the pcb hash (lwip/patches/0007,
 * build/lwipscale) and without it (build/lwipscale-nohash, the series up to 0006):
 * bench/run.sh runs both in one sitting. docs/benchmarks.md has the figures.
 *
 * usage: lwipscale [--quick] [--check] [N...]
 *   N        pcb counts (default 10 10000 100000 1000000; --quick: 10 10000 100000)
 *   --quick  fewer segments per measurement
 *   --check  (hash build) every lookup also walks lwIP's lists and asserts that both
 *            found the same pcb; adds TIME_WAIT pcbs, a second listener and segments
 *            that match nothing, and removes pcbs as it goes; then (with 0008) checks
 *            that the timers visit no idle pcb, and that a pcb which was idle and
 *            becomes busy still gets its retransmission, zero-window probe,
 *            keepalive and FIN-WAIT-2 timeout (the harness's clock is moved ahead);
 *            new connections and refused binds and listens among the segments, their
 *            port checks compared with the walk, and (needs 0009) exit 1 when a kind
 *            of new connection visits more than OPEN_VISITS_MAX groups;
 *            and (with 0010) that the SACK scoreboard sends again only the holes,
 *            never a SACKed segment on a timeout unless the peer reneged
 * Prints one line per N: "pcbs N lookup L one_ns X spread_ns Y syn_ns Z timer_us T
 * timer_cpu_pct P timer_visits V open_ns O open_visits V reuse_ns R reuse_visits V
 * accept_ns A accept_visits V" (L: hash or walk).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"

#include "service/isn.h"

#define LOCAL_IP     PP_HTONL(LWIP_MAKEU32(10, 167, 0, 1))
#define SERVER_PORT  80
#define LISTEN_PORT  8080
#define PAYLOAD      100
/* --check: at most this many groups (or pcbs) visited per new connection */
#define OPEN_VISITS_MAX 8

static struct netif nif;
static unsigned long frames_out;
static int check;
static u32_t clock_skew;   /* ms the harness's clock was moved ahead (--check) */

/* The hooks lwipopts.h names, as the harness needs them: lwIP alone decides. */
u32_t sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) + clock_skew;
}

void netcon_lwip_assert(const char *msg, const char *file, int line)
{
	fprintf(stderr, "lwipscale: lwIP assertion failed: %s (%s:%d)\n", msg, file, line);
	abort();
}

int netcon_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, struct pbuf *p)
{
	(void)pcb; (void)hdr; (void)p;
	return ERR_OK;
}

int netcon_ip4_input(struct pbuf *p, struct netif *inp)
{
	(void)p; (void)inp;
	return 0;
}

const struct ip6_addr *netcon_nd6_gw(struct netif *netif, const struct ip6_addr *dest)
{
	(void)netif; (void)dest;
	return NULL;
}

/* The sequence numbers of the last data segments sent (--check of the SACK scoreboard) */
static u32_t sent_seq[64];
static unsigned nsent;

static err_t count_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	struct tcp_hdr th;

	(void)n; (void)dst;
	frames_out++;
	if (pbuf_copy_partial(p, &th, sizeof(th), IP_HLEN) == sizeof(th) &&
	    p->tot_len > IP_HLEN + TCPH_HDRLEN_BYTES(&th) && nsent < LWIP_ARRAYSIZE(sent_seq))
		sent_seq[nsent++] = lwip_ntohl(th.seqno);
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->output = count_output;
	n->mtu = 1500;
	n->flags = NETIF_FLAG_UP | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The I-th peer: 10.167.(1 + I / 60000 as two bytes), port 1024 + I % 60000. */
static void peer_of(size_t i, ip_addr_t *ip, u16_t *port)
{
	size_t hi = 1 + i / 60000;

	IP_ADDR4(ip, 10, 167, (u8_t)(hi >> 8), (u8_t)hi);
	*port = (u16_t)(1024 + i % 60000);
}

/* An IPv4 segment from SRC:SPORT to our DPORT, checksums right, fed to ip_input(), with
 * OPTLEN bytes of TCP options OPT (a multiple of 4). */
static void input_segment_opt(const ip_addr_t *src, u16_t sport, u16_t dport, u32_t seq,
			      u32_t ack, u8_t flags, u16_t len, const u8_t *opt, u8_t optlen)
{
	u16_t tot = IP_HLEN + TCP_HLEN + optlen + len;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, tot, PBUF_RAM);
	struct ip_hdr *iph;
	struct tcp_hdr *th;
	ip_addr_t dst;

	if (!p) {
		fprintf(stderr, "lwipscale: out of memory for a segment\n");
		exit(1);
	}
	IP_ADDR4(&dst, 10, 167, 0, 1);
	memset(p->payload, 0, tot);
	iph = p->payload;
	IPH_VHL_SET(iph, 4, IP_HLEN / 4);
	IPH_LEN_SET(iph, lwip_htons(tot));
	IPH_TTL_SET(iph, 64);
	IPH_PROTO_SET(iph, IP_PROTO_TCP);
	iph->src.addr = ip4_addr_get_u32(ip_2_ip4(src));
	iph->dest.addr = LOCAL_IP;
	IPH_CHKSUM_SET(iph, inet_chksum(iph, IP_HLEN));
	th = (struct tcp_hdr *)((u8_t *)p->payload + IP_HLEN);
	th->src = lwip_htons(sport);
	th->dest = lwip_htons(dport);
	th->seqno = lwip_htonl(seq);
	th->ackno = lwip_htonl(ack);
	TCPH_HDRLEN_FLAGS_SET(th, (TCP_HLEN + optlen) / 4, flags);
	th->wnd = lwip_htons(0xffff);
	if (optlen)
		memcpy((u8_t *)th + TCP_HLEN, opt, optlen);
	memset((u8_t *)th + TCP_HLEN + optlen, 'x', len);
	pbuf_remove_header(p, IP_HLEN);
	th->chksum = ip_chksum_pseudo(p, IP_PROTO_TCP, p->tot_len, src, &dst);
	pbuf_add_header(p, IP_HLEN);
	ip_input(p, &nif);
}

static void input_segment(const ip_addr_t *src, u16_t sport, u16_t dport, u32_t seq, u32_t ack,
			  u8_t flags, u16_t len)
{
	input_segment_opt(src, sport, dport, seq, ack, flags, len, NULL, 0);
}

/* A pcb in ESTABLISHED for peer I, as tcp_listen_input and tcp_process leave one. */
static struct tcp_pcb *make_pcb(size_t i, u16_t port, enum tcp_state state)
{
	struct tcp_pcb *pcb = tcp_new();

	if (!pcb) {
		fprintf(stderr, "lwipscale: out of memory after %zu pcbs\n", i);
		exit(1);
	}
	IP_ADDR4(&pcb->local_ip, 10, 167, 0, 1);
	pcb->local_port = port;
	peer_of(i, &pcb->remote_ip, &pcb->remote_port);
	pcb->state = state;
	pcb->rcv_nxt = 1000;
	pcb->rcv_ann_right_edge = pcb->rcv_nxt + pcb->rcv_wnd;
	pcb->snd_nxt = pcb->lastack = pcb->snd_lbb = pcb->snd_wl2 = 5000;
	pcb->snd_wl1 = pcb->rcv_nxt;
	pcb->mss = 1460;
	pcb->cwnd = 4 * pcb->mss;   /* as tcp_process sets it (RFC 3390) */
	pcb->snd_wnd = pcb->snd_wnd_max = 0xffff;   /* the peer's, from its SYN */
	ip_set_option(pcb, SOF_REUSEADDR);   /* as a server's listener passes it on */
	if (state == TIME_WAIT) {
		pcb->tmr = tcp_ticks;
		TCP_REG(&tcp_tw_pcbs, pcb);
	} else {
		TCP_REG_ACTIVE(pcb);
	}
	return pcb;
}

static struct tcp_pcb **pcbs;
static size_t npcbs;

static void data_to(struct tcp_pcb *pcb)
{
	input_segment(&pcb->remote_ip, pcb->remote_port, pcb->local_port, pcb->rcv_nxt,
		      pcb->snd_nxt, TCP_ACK | TCP_PSH, PAYLOAD);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ns per call of FN: the median of 5 batches, each run until BUDGET_NS / 5 have passed or
 * MAX / 5 calls (at least MIN): the machine may be shared, a median shrugs off a burst. */
static double measure(void (*fn)(void), unsigned min, unsigned max, uint64_t budget_ns)
{
	double batch[5];

	for (int b = 0; b < 5; b++) {
		uint64_t t0 = now_ns(), t;
		unsigned n = 0;

		do {
			fn();
			n++;
			t = now_ns();
		} while (n < max / 5 && (n < min || t - t0 < budget_ns / 5));
		batch[b] = (double)(t - t0) / n;
	}
	qsort(batch, 5, sizeof(*batch), cmp_double);
	return batch[2];
}

static void one_seg(void)
{
	data_to(pcbs[0]);
}

static void spread_seg(void)
{
	data_to(pcbs[rnd() % npcbs]);
}

static size_t syn_peer;

static void syn_seg(void)
{
	ip_addr_t ip;
	u16_t port;

	peer_of(4000000 + syn_peer++ % 600000, &ip, &port);
	input_segment(&ip, port, LISTEN_PORT, 77, 0, TCP_SYN, 0);
	if (!tcp_active_pcbs || tcp_active_pcbs->state != SYN_RCVD) {
		fprintf(stderr, "lwipscale: the SYN made no connection\n");
		exit(1);
	}
	tcp_abort(tcp_active_pcbs);
}

/* New connections: what opening one costs beside N established pcbs (all on
 * SERVER_PORT). lwIP checked each new connection's port by walking every pcb
 * (tcp_new_port, tcp_bind, tcp_connect's four-tuple check); with lwip/patches/0009 it asks
 * the groups of pcbs of that port. tcp_port_visits counts what those checks visited. */
static size_t open_peer;

/* a fresh peer for each new connection (none of the N pcbs', the SYNs' or --check's) */
static void next_peer(ip_addr_t *ip, u16_t *port)
{
	peer_of(5000000 + open_peer++ % 600000, ip, port);
}

/* An active open from PCB (bound by the caller): SYN sent, then the pcb aborted. */
static void connect_abort(struct tcp_pcb *pcb)
{
	unsigned long f = frames_out;
	ip_addr_t ip;
	u16_t port;

	next_peer(&ip, &port);
	if (tcp_connect(pcb, &ip, port, NULL) != ERR_OK || frames_out != f + 1 ||
	    pcb->state != SYN_SENT) {
		fprintf(stderr, "lwipscale: connect sent no SYN\n");
		exit(1);
	}
	tcp_abort(pcb);
}

/* open: bind to an ephemeral port (tcp_new_port), connect */
static void open_conn(void)
{
	struct tcp_pcb *pcb = tcp_new();

	if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, 0) != ERR_OK) {
		fprintf(stderr, "lwipscale: bind to an ephemeral port failed\n");
		exit(1);
	}
	connect_abort(pcb);
}

/* reuse: SO_REUSEADDR, bind to the port of the N pcbs (tcp_bind's check), connect (the
 * four-tuple check) */
static void reuse_conn(void)
{
	struct tcp_pcb *pcb = tcp_new();
	ip_addr_t a;

	IP_ADDR4(&a, 10, 167, 0, 1);
	if (pcb)
		ip_set_option(pcb, SOF_REUSEADDR);
	if (!pcb || tcp_bind(pcb, &a, SERVER_PORT) != ERR_OK) {
		fprintf(stderr, "lwipscale: SO_REUSEADDR bind to the busy port failed\n");
		exit(1);
	}
	connect_abort(pcb);
}

static struct tcp_pcb *accepted;

static err_t note_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg; (void)err;
	accepted = pcb;
	return ERR_OK;
}

/* accept: a passive open, SYN to the listener and the ACK of its SYN-ACK; the
 * connection accepted, then aborted */
static void accept_conn(void)
{
	struct tcp_pcb *pcb;
	ip_addr_t ip;
	u16_t port;

	next_peer(&ip, &port);
	input_segment(&ip, port, LISTEN_PORT, 77, 0, TCP_SYN, 0);
	pcb = tcp_active_pcbs;
	if (!pcb || pcb->state != SYN_RCVD) {
		fprintf(stderr, "lwipscale: the SYN made no connection\n");
		exit(1);
	}
	accepted = NULL;
	input_segment(&ip, port, LISTEN_PORT, 78, pcb->snd_nxt, TCP_ACK, 0);
	if (accepted != pcb || pcb->state != ESTABLISHED) {
		fprintf(stderr, "lwipscale: the handshake's ACK made no connection\n");
		exit(1);
	}
	tcp_abort(pcb);
}

#ifdef TCP_PORT_HASH_SIZE
static unsigned long nopens;
static void (*open_fn)(void);

static void count_open(void)
{
	open_fn();
	nopens++;
}

/* ns per new connection made by FN, and (*visits) what lwIP's checks visited per
 * connection: "all" (every pcb) before 0009 */
static double measure_open(void (*fn)(void), unsigned segs, uint64_t budget, char *visits,
			   size_t vlen, double *per)
{
	double ns;

	open_fn = fn;
	nopens = 0;
	tcp_port_visits = 0;
	ns = measure(count_open, 2, segs, budget);
	*per = (double)tcp_port_visits / (double)nopens;
	snprintf(visits, vlen, "%.1f", *per);
	return ns;
}
#else
static double measure_open(void (*fn)(void), unsigned segs, uint64_t budget, char *visits,
			   size_t vlen, double *per)
{
	*per = -1;
	snprintf(visits, vlen, "all");
	return measure(fn, 2, segs, budget);
}
#endif

static void timer_tick(void)
{
	tcp_tmr();
}

#ifdef TCP_TIMERS_WORKLIST
static int check_failed;

static void check_that(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "lwipscale: timers: %s\n", what);
		check_failed = 1;
	}
}

static err_t last_err;

static void note_err(void *arg, err_t err)
{
	(void)arg;
	last_err = err;
}

/* TICKS calls of tcp_tmr(), the clock moved SKEW_MS ahead before each; the frames sent. */
static unsigned long ticks(int n, u32_t skew_ms)
{
	unsigned long f0 = frames_out;

	for (int i = 0; i < n; i++) {
		clock_skew += skew_ms;
		tcp_rto_tmr();
		tcp_tmr();
	}
	return frames_out - f0;
}

/* --check: idle pcbs cost the timers nothing, and a pcb that was idle and becomes busy
 * gets every timer it needs. The pcbs used are made first (their peers are not our own
 * address, whose frames lwIP loops back uncounted) and go idle with the others; each is
 * replaced by a fresh one after. */
static void check_timers(size_t n)
{
	static const char data[100];
	struct tcp_pcb *p;
	size_t i;
	unsigned long f;
	u32_t to;
	int k;

	for (k = 1; k <= 4; k++) {
		tcp_abort(pcbs[n / (k + 1)]);
		pcbs[n / (k + 1)] = make_pcb(n + 300000 + (size_t)k, SERVER_PORT, ESTABLISHED);
	}
	ticks(2, 0);                /* a slow tick: whatever is left busy becomes idle */
	tcp_timer_visits = 0;
	ticks(8, 0);
	if (tcp_timer_visits)
		fprintf(stderr, "lwipscale: timers: %lu visits of %zu idle pcbs in 8 ticks\n",
			(unsigned long)tcp_timer_visits, n);
	check_that(tcp_timer_visits == 0, "idle pcbs visited");

	/* retransmission: data sent, never acknowledged */
	i = n / 2;
	p = pcbs[i];
	to = tcp_recovery.timeouts;
	f = frames_out;
	check_that(tcp_write(p, data, sizeof(data), TCP_WRITE_FLAG_COPY) == ERR_OK &&
		   tcp_output(p) == ERR_OK && frames_out == f + 1, "idle pcb sends");
	f = ticks(4, 2000);
	check_that(tcp_recovery.timeouts > to && f >= 1, "no retransmission after idle");
	tcp_abort(p);
	pcbs[i] = make_pcb(n + 300010, SERVER_PORT, ESTABLISHED);

	/* zero-window probe: the peer's window closed, data waits */
	i = n / 3;
	p = pcbs[i];
	p->snd_wnd = 0;   /* as an ACK closing the window leaves it */
	f = frames_out;
	check_that(tcp_write(p, data, sizeof(data), TCP_WRITE_FLAG_COPY) == ERR_OK &&
		   tcp_output(p) == ERR_OK && frames_out == f && p->persist_backoff > 0,
		   "a closed window holds the data back");
	check_that(ticks(16, 0) >= 1, "no zero-window probe after idle");
	tcp_abort(p);
	pcbs[i] = make_pcb(n + 300011, SERVER_PORT, ESTABLISHED);

	/* keepalive, turned on as the service does (then tcp_timers_touch) */
	i = n / 4;
	p = pcbs[i];
	ip_set_option(p, SOF_KEEPALIVE);
	p->keep_idle = 1000;
	tcp_timers_touch(p);
	check_that(ticks(8, 0) >= 1, "no keepalive probe after idle");
	tcp_abort(p);
	pcbs[i] = make_pcb(n + 300012, SERVER_PORT, ESTABLISHED);

	/* FIN-WAIT-2 timeout: closed, the peer acknowledges the FIN and goes quiet */
	i = n / 5;
	p = pcbs[i];
	tcp_err(p, note_err);
	last_err = ERR_OK;
	check_that(tcp_close(p) == ERR_OK && p->state == FIN_WAIT_1, "close");
	input_segment(&p->remote_ip, p->remote_port, p->local_port, p->rcv_nxt, p->snd_nxt,
		      TCP_ACK, 0);
	check_that(p->state == FIN_WAIT_2, "FIN acknowledged");
	for (k = 0; k < 4 * TCP_FIN_WAIT_TIMEOUT / TCP_TMR_INTERVAL && last_err == ERR_OK; k++)
		ticks(1, 0);
	check_that(last_err == ERR_ABRT, "no FIN-WAIT-2 timeout after idle");
	pcbs[i] = make_pcb(n + 300013, SERVER_PORT, ESTABLISHED);

	/* and all idle again */
	ticks(2, 0);
	tcp_timer_visits = 0;
	ticks(8, 0);
	check_that(tcp_timer_visits == 0, "idle pcbs visited after the checks");
	if (check_failed)
		exit(1);
}

#ifdef TCP_SACK_SCOREBOARD
/* An ACK from P's peer for ACK, carrying the SACK blocks [L[i], R[i]) (at most 4). */
static void sack_ack(struct tcp_pcb *p, u32_t ack, const u32_t *l, const u32_t *r, int nblk)
{
	u8_t opt[4 + 4 * 8] = { 1, 1, 5, (u8_t)(2 + 8 * nblk) };

	for (int i = 0; i < nblk; i++) {
		u32_t e[2] = { lwip_htonl(l[i]), lwip_htonl(r[i]) };
		memcpy(opt + 4 + 8 * i, e, sizeof(e));
	}
	input_segment_opt(&p->remote_ip, p->remote_port, p->local_port, p->rcv_nxt, ack, TCP_ACK,
			  0, opt, (u8_t)(4 + 8 * nblk));
}

/* Whether every data segment sent since sent_mark was one of SEQS[0..N) (and one was). */
static unsigned sent_mark;
static int sent_only(const u32_t *seqs, int n)
{
	int found = nsent > sent_mark;

	for (unsigned i = sent_mark; i < nsent && found; i++) {
		found = 0;
		for (int k = 0; k < n; k++)
			found |= sent_seq[i] == seqs[k];
	}
	sent_mark = nsent;
	return found;
}

/* --check: the sender's SACK scoreboard (lwip/patches/0010). Ten segments sent, the 1st
 * and 6th lost: SACKs of the 2nd to 4th retransmit the 1st (fast retransmit), SACKs of
 * the 7th to 9th the 6th, and nothing else (the 10th has nothing SACKed above it); a
 * timeout then sends only segments not SACKed. Then a peer that reneges: SACKed
 * segments are sent again after a second timeout without progress. */
static void check_sack(void)
{
	static const char data[10 * 1460];
	struct tcp_pcb *p = make_pcb(400000, SERVER_PORT, ESTABLISHED);
	u32_t s[10], l[2], r[2], to;
	int j;

	p->flags |= TF_SACK;
	p->cwnd = 20 * p->mss;
	for (j = 0; j < 10; j++)
		s[j] = p->snd_nxt + (u32_t)j * p->mss;
	nsent = sent_mark = 0;
	check_that(tcp_write(p, data, sizeof(data), TCP_WRITE_FLAG_COPY) == ERR_OK &&
		   tcp_output(p) == ERR_OK && nsent == 10, "SACK: ten segments sent");
	sent_mark = nsent;
	l[0] = s[1];
	for (j = 1; j <= 3; j++) {
		r[0] = s[1 + j];
		sack_ack(p, s[0], l, r, 1);
	}
	check_that(sent_only(&s[0], 1), "SACK: the first hole sent again (alone)");
	r[0] = s[5];
	l[1] = s[6];
	for (j = 1; j <= 3; j++) {
		r[1] = s[6 + j];
		sack_ack(p, s[0], l, r, 2);
	}
	check_that(sent_only(&s[5], 1), "SACK: the second hole sent again (alone)");
	to = tcp_recovery.timeouts;
	ticks(1, 2000);
	check_that(tcp_recovery.timeouts == to + 1, "SACK: one timeout");
	check_that(sent_only((u32_t[]){ s[0], s[5], s[9] }, 3),
		   "SACK: the timeout sent a segment SACKed (or none)");
	sack_ack(p, s[5], &s[6], &s[9], 1);   /* the peer had the 2nd to 5th */
	check_that(sent_only((u32_t[]){ s[5], s[9] }, 2),
		   "SACK: after the timeout, a segment SACKed sent (or none)");
	sack_ack(p, s[0] + sizeof(data), NULL, NULL, 0);
	check_that(p->unacked == NULL && p->unsent == NULL, "SACK: all acknowledged");

	/* reneging: four segments, the 2nd to 4th SACKed, two timeouts, then an ACK of the
	 * 1st only (the peer dropped what it SACKed): the 2nd must be sent again */
	p->cwnd = 20 * p->mss;
	for (j = 0; j <= 4; j++)
		s[j] = p->snd_nxt + (u32_t)j * p->mss;
	sent_mark = nsent;
	check_that(tcp_write(p, data, 4 * 1460, TCP_WRITE_FLAG_COPY) == ERR_OK &&
		   tcp_output(p) == ERR_OK && nsent == sent_mark + 4, "SACK: four segments sent");
	sent_mark = nsent;
	sack_ack(p, s[0], &s[1], &s[4], 1);
	check_that(sent_only(&s[0], 1), "SACK: fast retransmit of the first segment (alone)");
	ticks(1, 5000);
	check_that(sent_only(&s[0], 1), "SACK: a timeout sent the first segment (alone)");
	ticks(1, 10000);
	check_that(sent_only(&s[0], 1), "SACK: a second timeout sent the first segment (alone)");
	sack_ack(p, s[1], NULL, NULL, 0);
	check_that(nsent > sent_mark && sent_seq[sent_mark] == s[1],
		   "SACK: reneged segment not sent again after two timeouts");
	tcp_abort(p);
	if (check_failed)
		exit(1);
}
#endif
#endif

#ifdef TCP_TIMERS_WORKLIST
static unsigned long ncalls;

static void count_tick(void)
{
	tcp_tmr();
	ncalls++;
}
#endif

/* --check: segments that exercise every lookup (active, TIME_WAIT, listeners, none),
 * with pcbs removed in between; lwIP asserts on the first disagreement. */
static void check_lookups(size_t n)
{
	ip_addr_t ip;
	u16_t port;

	for (size_t k = 0; k < 2000; k++) {
		switch (rnd() % 10) {
		case 0: spread_seg(); break;
		case 1: syn_seg(); break;
		case 2:   /* nobody's: answered with RST */
			peer_of(n + 100000 + rnd() % 1000, &ip, &port);
			input_segment(&ip, port, SERVER_PORT, 1, 1, TCP_ACK, 0);
			break;
		case 3:   /* a TIME_WAIT pcb's peer (made after the active ones) */
			peer_of(n + rnd() % 100, &ip, &port);
			input_segment(&ip, port, SERVER_PORT, 1000, 5000, TCP_ACK, 0);
			break;
		case 4: { /* one connection fewer (aborted), one more */
			size_t i = rnd() % npcbs;
			tcp_abort(pcbs[i]);
			pcbs[i] = make_pcb(n + 200000 + k, SERVER_PORT, ESTABLISHED);
			break;
		}
		case 5: open_conn(); break;
		case 6: reuse_conn(); break;
		case 7: accept_conn(); break;
		case 8: { /* refused: the busy port without SO_REUSEADDR, a second listener */
			struct tcp_pcb *p = tcp_new();
			ip_addr_t a;
			err_t e;

			IP_ADDR4(&a, 10, 167, 0, 1);
			if (!p || tcp_bind(p, (rnd() & 1) ? &a : IP4_ADDR_ANY, SERVER_PORT) != ERR_USE) {
				fprintf(stderr, "lwipscale: a bind to the busy port succeeded\n");
				exit(1);
			}
			ip_set_option(p, SOF_REUSEADDR);
			if (tcp_bind(p, &a, SERVER_PORT) != ERR_OK ||
			    tcp_listen_with_backlog_and_err(p, 1, &e) || e != ERR_USE) {
				fprintf(stderr, "lwipscale: a second listener on one address\n");
				exit(1);
			}
			tcp_abort(p);
			break;
		}
		case 9: { /* SO_REUSEADDR on both: two binds of a fresh port (the first alone on
			   it, the second makes their group), then a listen of the first */
			struct tcp_pcb *p = tcp_new(), *q = tcp_new();
			u16_t port = (u16_t)(20000 + rnd() % 10000);

			if (!p || !q) {
				fprintf(stderr, "lwipscale: out of memory for a pcb\n");
				exit(1);
			}
			ip_set_option(p, SOF_REUSEADDR);
			ip_set_option(q, SOF_REUSEADDR);
			if (tcp_bind(p, IP4_ADDR_ANY, port) != ERR_OK ||
			    tcp_bind(q, IP4_ADDR_ANY, port) != ERR_OK || !(p = tcp_listen(p))) {
				fprintf(stderr, "lwipscale: SO_REUSEADDR binds of one port refused\n");
				exit(1);
			}
			tcp_close(p);
			tcp_abort(q);
			break;
		}
		}
	}
}

static void run(size_t n, int quick)
{
	unsigned segs = quick ? 2000 : 20000;
	uint64_t budget = quick ? 100000000u : 500000000u;
	double one, spread, syn, tmr, open, reuse, acc, per[3];
	char visits[32], v_open[32], v_reuse[32], v_acc[32];

	pcbs = calloc(n, sizeof(*pcbs));
	if (!pcbs) {
		fprintf(stderr, "lwipscale: out of memory for %zu pcbs\n", n);
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		pcbs[i] = make_pcb(i, SERVER_PORT, ESTABLISHED);
	npcbs = n;
	if (check) {
		for (size_t i = 0; i < 100; i++)
			make_pcb(n + i, SERVER_PORT, TIME_WAIT);
		check_lookups(n);
	}
	/* the timers first, while every pcb is idle (the segments below leave delayed ACKs
	 * that the fast timer would send); two warm-up calls (one of the slow timer, which
	 * takes pcbs without timer work off the timers' list, 0008) */
	timer_tick();
	timer_tick();
#ifdef TCP_TIMERS_WORKLIST
	tcp_timer_visits = 0;
	ncalls = 0;
	tmr = measure(count_tick, 2, 500, budget);
	snprintf(visits, sizeof(visits), "%.1f", (double)tcp_timer_visits / (double)ncalls);
	if (check)
		check_timers(n);
#ifdef TCP_SACK_SCOREBOARD
	if (check)
		check_sack();
#endif
#else
	tmr = measure(timer_tick, 2, 500, budget);
	snprintf(visits, sizeof(visits), "all");
#endif
	one = measure(one_seg, 10, segs, budget);
	spread = measure(spread_seg, 2, segs, budget);
	syn = measure(syn_seg, 2, segs, budget);
	open = measure_open(open_conn, segs, budget, v_open, sizeof(v_open), &per[0]);
	reuse = measure_open(reuse_conn, segs, budget, v_reuse, sizeof(v_reuse), &per[1]);
	acc = measure_open(accept_conn, segs, budget, v_acc, sizeof(v_acc), &per[2]);
	printf("pcbs %zu lookup %s one_ns %.0f spread_ns %.0f syn_ns %.0f timer_us %.1f "
	       "timer_cpu_pct %.3f timer_visits %s open_ns %.0f open_visits %s "
	       "reuse_ns %.0f reuse_visits %s accept_ns %.0f accept_visits %s\n", n,
#ifdef TCP_HASH_CHECK
	       "hash",
#else
	       "walk",
#endif
	       one, spread, syn, tmr / 1000,
	       tmr / 1e9 * (1000.0 / TCP_TMR_INTERVAL) * 100, visits,
	       open, v_open, reuse, v_reuse, acc, v_acc);
	fflush(stdout);
	/* --check: a new connection's checks visit a few groups of pcbs whatever N (a walk
	 * of the lists visits every pcb, N or more) */
	for (int k = 0; check && k < 3; k++) {
		static const char *const what[] = { "open", "reuse", "accept" };

		if (per[k] < 0) {
			fprintf(stderr, "lwipscale: lwIP without its port table (patch 0009) "
				"walks every pcb per new connection\n");
			exit(1);
		}
		if (per[k] > OPEN_VISITS_MAX) {
			fprintf(stderr, "lwipscale: %.1f pcbs or groups visited per new connection "
				"(%s) beside %zu pcbs, more than %d\n", per[k], what[k], n,
				OPEN_VISITS_MAX);
			exit(1);
		}
	}
	for (int i = 0; tcp_active_pcbs && i < 3000000; i++)
		tcp_abort(tcp_active_pcbs);
	for (int i = 0; tcp_tw_pcbs && i < 3000000; i++)
		tcp_abort(tcp_tw_pcbs);
	free(pcbs);
}

int main(int argc, char **argv)
{
	static const size_t full[] = { 10, 10000, 100000, 1000000 }, quick_n[] = { 10, 10000, 100000 };
	size_t counts[16], ncounts = 0;
	int quick = 0;
	ip4_addr_t ip, mask, gw;
	struct tcp_pcb *l, *l2;

	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long v;

		if (!strcmp(argv[i], "--quick")) {
			quick = 1;
			continue;
		}
		if (!strcmp(argv[i], "--check")) {
			check = 1;
			continue;
		}
		v = strtoul(argv[i], &end, 10);
		if (*argv[i] < '1' || *argv[i] > '9' || *end || v > 2000000 || ncounts == 16) {
			fprintf(stderr, "lwipscale: not a pcb count (1..2000000, at most 16): %s\n"
				"usage: lwipscale [--quick] [--check] [N...]\n", argv[i]);
			return 2;
		}
		counts[ncounts++] = v;
	}
	if (!ncounts) {
		const size_t *d = quick ? quick_n : full;
		size_t k = quick ? sizeof(quick_n) / sizeof(*d) : sizeof(full) / sizeof(*d);
		for (size_t i = 0; i < k; i++)
			counts[ncounts++] = d[i];
	}
#ifdef TCP_HASH_CHECK
	tcp_hash_check = (u8_t)check;
#else
	if (check) {
		fprintf(stderr, "lwipscale: --check needs lwIP with the pcb hash (patch 0007)\n");
		return 2;
	}
#endif
	if (nc_isn_init() < 0) {
		fprintf(stderr, "lwipscale: getrandom failed\n");
		return 1;
	}
	lwip_init();
	IP4_ADDR(&ip, 10, 167, 0, 1);
	IP4_ADDR(&mask, 255, 255, 0, 0);
	IP4_ADDR(&gw, 0, 0, 0, 0);
	netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ip_input);
	netif_set_default(&nif);
	netif_set_up(&nif);
	/* the listener of the SYNs, and (--check) one on the same port for one address */
	l = tcp_new();
	if (!l || tcp_bind(l, IP_ANY_TYPE, LISTEN_PORT) != ERR_OK || !(l = tcp_listen(l))) {
		fprintf(stderr, "lwipscale: cannot listen\n");
		return 1;
	}
	tcp_accept(l, note_accept);
	if (check) {
		ip_addr_t a;
		IP_ADDR4(&a, 10, 167, 0, 1);
		l2 = tcp_new();
		ip_set_option(l2, SOF_REUSEADDR);
		if (!l2 || tcp_bind(l2, &a, SERVER_PORT) != ERR_OK || !tcp_listen(l2)) {
			fprintf(stderr, "lwipscale: cannot listen\n");
			return 1;
		}
	}
	for (size_t i = 0; i < ncounts; i++)
		run(counts[i], quick);
	fprintf(stderr, "lwipscale: %lu frames sent\n", frames_out);
	return 0;
}
