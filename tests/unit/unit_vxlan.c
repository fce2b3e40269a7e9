/*
 * unit_vxlan.c — tests of the VXLAN link (the TAP link's are in unit_tap.c, the
 * forwarding table's in unit_fdb.c).
 *
 *  1. VXLAN framing (nc_vxlan_encode/decode), table-driven.
 *  2. VXLAN over loopback: two links A and B on 127.0.0.1 (ports derived from the pid,
 *     retried when in use) plus plain UDP sockets playing a foreign VXLAN endpoint:
 *
 *        plain socket S ──┐
 *                         ▼
 *        link A  <── UDP 127.0.0.1 ──>  link B        (A and B are each other's peer)
 *
 *     flooding, learning, unicast to a learned MAC, a learned non-static sender, a
 *     station moving, FDB replacement when full, garbage dropped and counted, a wrong
 *     VNI warned about once per sender, send() from inside deliver(), MTU limits and
 *     open errors.
 *  3. A static peer that never sent, with another sender on its IP: unicast goes to the
 *     sender and one copy to the peer, counted once, until the peer speaks.
 *
 * One line per case; the last line is "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "link/link.h"
#include "log.h"

#include "linktest.h"

/* ---- 1. framing -------------------------------------------------------------------- */

struct decode_case {
	const char *name;
	uint8_t flags;        /* byte 0 */
	uint8_t reserved;     /* value of bytes 1..3 and 7 */
	uint32_t vni;         /* in the packet */
	size_t len;
	uint32_t want_vni;
	int expect;
};

static const struct decode_case decode_cases[] = {
	{ "decode good header", 0x08, 0, 1, 22, 1, NC_VXLAN_HLEN },
	{ "decode VNI 0", 0x08, 0, 0, 22, 0, NC_VXLAN_HLEN },
	{ "decode VNI 1", 0x08, 0, 1, 100, 1, NC_VXLAN_HLEN },
	{ "decode VNI 0xffffff", 0x08, 0, 0xffffff, 22, 0xffffff, NC_VXLAN_HLEN },
	{ "decode large datagram", 0x08, 0, 4242, 65000, 4242, NC_VXLAN_HLEN },
	{ "decode wrong VNI", 0x08, 0, 1, 22, 2, -EINVAL },
	{ "decode wrong VNI (0 vs 1)", 0x08, 0, 0, 22, 1, -EINVAL },
	{ "decode wrong VNI (top byte)", 0x08, 0, 0xffffff, 22, 0x7fffff, -EINVAL },
	{ "decode want VNI beyond 24 bits", 0x08, 0, 0xffffff, 22, 0x1ffffff, -EINVAL },
	{ "decode missing I flag", 0x00, 0, 1, 22, 1, -EINVAL },
	{ "decode all flags but I", 0xf7, 0, 1, 22, 1, -EINVAL },
	{ "decode reserved bits set accepted", 0xff, 0xff, 1, 22, 1, NC_VXLAN_HLEN },
	{ "decode reserved bytes set accepted", 0x08, 0xa5, 77, 22, 77, NC_VXLAN_HLEN },
};

static uint8_t pkt[65536];

/* Fill pkt with a VXLAN header as a case describes, then a recognisable frame. */
static void build_pkt(const struct decode_case *c)
{
	nc_vxlan_encode(pkt, c->vni);
	pkt[0] = c->flags;
	pkt[1] = pkt[2] = pkt[3] = pkt[7] = c->reserved;
	for (size_t i = NC_VXLAN_HLEN; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
}

static void test_framing(void)
{
	static const uint8_t want[NC_VXLAN_HLEN] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
	static const uint32_t edges[] = { 0, 1, 0x800000, 0xffffff };
	uint8_t hdr[NC_VXLAN_HLEN];
	char name[80];
	int ok;

	nc_vxlan_encode(hdr, 0x123456);
	check(memcmp(hdr, want, sizeof(want)) == 0, "encode exact bytes", "wrong bytes");
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint8_t buf[64] = { 0 };
		nc_vxlan_encode(buf, edges[i]);
		snprintf(name, sizeof(name), "encode/decode round trip VNI %#x", edges[i]);
		check(buf[0] == 0x08 && buf[7] == 0 &&
		      nc_vxlan_decode(buf, sizeof(buf), edges[i]) == NC_VXLAN_HLEN, name,
		      "did not decode");
	}
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		int r;
		build_pkt(c);
		r = nc_vxlan_decode(pkt, c->len, c->want_vni);
		check(r == c->expect, c->name, "got %d, want %d", r, c->expect);
	}
	/* Every length below header + Ethernet header is refused. */
	build_pkt(&decode_cases[0]);
	ok = 1;
	for (size_t len = 0; len < NC_VXLAN_HLEN + NC_ETH_HLEN; len++)
		if (nc_vxlan_decode(pkt, len, 1) != -EINVAL) {
			ok = 0;
			printf("      length %zu accepted\n", len);
		}
	check(ok, "decode short buffers 0..21 refused", "some accepted");
	check(nc_vxlan_decode(NULL, 100, 1) == -EINVAL, "decode NULL buffer", "accepted");
}

/* ---- 2. VXLAN over loopback ---------------------------------------------------------- */

#define ETH_TEST     0x88b5   /* IEEE local experimental ethertype: plain test frame */
#define ETH_ECHO_REQ 0x88b6   /* test frame the receiver answers from inside deliver() */
#define ETH_ECHO_REP 0x88b7

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_s[6] = { 0x02, 0, 0, 0, 0, 0x05 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* What a link delivered, and the link itself (for answering from deliver()). */
struct rx_log {
	struct nc_link *link;
	int count;
	size_t len;             /* of the last frame */
	uint8_t buf[65536];     /* the last frame */
	int echo_send_ret;      /* send() result from inside deliver() */
};

static struct rx_log log_a, log_b;

/* deliver callback: record the frame; answer an echo request from inside deliver(). */
static void record(void *ctx, const uint8_t *frame, size_t len)
{
	struct rx_log *lg = ctx;

	lg->count++;
	lg->len = len;
	memcpy(lg->buf, frame, len);
	if (len >= NC_ETH_HLEN && frame[12] == (ETH_ECHO_REQ >> 8) &&
	    frame[13] == (ETH_ECHO_REQ & 0xff)) {
		uint8_t rep[NC_ETH_HLEN + 32];
		struct iovec iov = { rep, sizeof(rep) };
		memcpy(rep, frame + 6, 6);
		memcpy(rep + 6, frame, 6);
		rep[12] = ETH_ECHO_REP >> 8;
		rep[13] = ETH_ECHO_REP & 0xff;
		memcpy(rep + NC_ETH_HLEN, frame + NC_ETH_HLEN,
		       len - NC_ETH_HLEN < 32 ? len - NC_ETH_HLEN : 32);
		lg->echo_send_ret = lg->link->ops->send(lg->link, &iov, 1);
	}
}

/* Wait for the link to be readable (bounded) and run its input(). Returns how many
 * frames were delivered. */
static int pump(struct nc_link *l, struct rx_log *lg, int ms)
{
	int before = lg->count;

	while (wait_readable(l->fd, ms)) {
		if (l->ops->input(l) < 0)
			break;
		/* What deliver() sent goes out when the event loop would flush. */
		if (l->ops->flush)
			l->ops->flush(l);
		ms = 20;   /* collect the rest of a burst, then stop */
	}
	return lg->count - before;
}

static void loopback(struct sockaddr_storage *ss, socklen_t *len, int port)
{
	char s[32];

	snprintf(s, sizeof(s), "127.0.0.1:%d", port);
	if (nc_parse_hostport(s, ss, len, 0) < 0)
		abort();
}

static int port_a, port_b;

/* Open A (bound to port p, peer p+1) and B (the reverse), retrying other ports while
 * they are in use. 0 or a negative errno. */
static int open_pair(struct nc_link **a, struct nc_link **b, uint32_t vni)
{
	struct nc_vxlan_config ca, cb;
	char err[256];

	for (int attempt = 0; attempt < 50; attempt++) {
		int p = 40000 + (int)(((unsigned int)getpid() * 31u + (unsigned int)attempt * 2u)
				      % 20000u);
		int r;
		p &= ~1;
		memset(&ca, 0, sizeof(ca));
		memset(&cb, 0, sizeof(cb));
		loopback(&ca.bind, &ca.bind_len, p);
		loopback(&ca.peers[0], &ca.peer_lens[0], p + 1);
		ca.npeers = 1;
		ca.vni = vni;
		loopback(&cb.bind, &cb.bind_len, p + 1);
		loopback(&cb.peers[0], &cb.peer_lens[0], p);
		cb.npeers = 1;
		cb.vni = vni;
		r = nc_link_vxlan_open(a, &ca, 1500, record, &log_a, err, sizeof(err));
		if (r == -EADDRINUSE)
			continue;
		if (r < 0) {
			printf("      open A: %s\n", err);
			return r;
		}
		r = nc_link_vxlan_open(b, &cb, 1500, record, &log_b, err, sizeof(err));
		if (r == -EADDRINUSE) {
			(*a)->ops->close(*a);
			continue;
		}
		if (r < 0) {
			printf("      open B: %s\n", err);
			(*a)->ops->close(*a);
			return r;
		}
		port_a = p;
		port_b = p + 1;
		log_a.link = *a;
		log_b.link = *b;
		return 0;
	}
	return -EADDRINUSE;
}

/* A plain UDP socket on 127.0.0.2 (a host that is no static peer's) with a
 * kernel-chosen port. */
static int plain_socket(struct sockaddr_in *me)
{
	socklen_t len = sizeof(*me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(me, 0, sizeof(*me));
	me->sin_family = AF_INET;
	me->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)me, sizeof(*me)) < 0 ||
	    getsockname(fd, (struct sockaddr *)me, &len) < 0)
		abort();
	return fd;
}

/* Send raw bytes from a plain socket to 127.0.0.1:port. */
static void plain_send(int fd, int port, const void *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		abort();
}

/* Send a VXLAN-encapsulated frame from a plain socket. */
static void plain_send_frame(int fd, int port, uint32_t vni, const uint8_t *frame, size_t len)
{
	static uint8_t buf[65536];

	nc_vxlan_encode(buf, vni);
	memcpy(buf + NC_VXLAN_HLEN, frame, len);
	plain_send(fd, port, buf, NC_VXLAN_HLEN + len);
}

/* Does the link's description contain the text? */
static int describe_has(struct nc_link *l, const char *text)
{
	static char buf[128 * 1024];

	l->ops->describe(l, buf, sizeof(buf));
	return strstr(buf, text) != NULL;
}

/* Count lines starting with "learned " in the description. */
static int learned_count(struct nc_link *l)
{
	static char buf[256 * 1024];
	int n = 0;

	l->ops->describe(l, buf, sizeof(buf));
	for (const char *p = buf; (p = strstr(p, "learned ")) != NULL; p++)
		n++;
	return n;
}

static void test_loopback(void)
{
	const uint32_t vni = 0x00beef;
	struct nc_link *a = NULL, *b = NULL;
	static uint8_t f[2048], g[65536 + 16];
	struct sockaddr_in s_addr, s2_addr;
	char text[128], m[20];
	size_t len;
	int r, s, s2, got;

	r = open_pair(&a, &b, vni);
	check(r == 0, "vxlan open two links on 127.0.0.1", "%s", strerror(-r));
	if (r < 0)
		return;
	printf("      ports %d and %d\n", port_a, port_b);
	snprintf(text, sizeof(text), "link vxlan bind 127.0.0.1:%d vni %u\npeer 127.0.0.1:%d\n",
		 port_a, vni, port_b);
	check(describe_has(a, text), "vxlan describe shows bind and peer", "no '%s'", text);
	check(a->max_mtu == 65485, "vxlan max_mtu over IPv4 is 65485", "%d", a->max_mtu);

	/* Broadcast from A, as three iovec pieces: B gets exactly those bytes and learns. */
	len = make_frame(f, mac_bcast, mac_a, ETH_TEST, 200, 1);
	struct iovec iov3[3] = { { f, 3 }, { f + 3, 20 }, { f + 23, len - 23 } };
	r = send_now(a, iov3, 3);
	check(r == 0 && a->stats.tx_frames == 1 && a->stats.tx_bytes == len,
	      "vxlan broadcast sent and counted once", "ret %d, tx_frames %llu", r,
	      (unsigned long long)a->stats.tx_frames);
	got = pump(b, &log_b, 2000);
	check(got == 1 && log_b.len == len && memcmp(log_b.buf, f, len) == 0,
	      "vxlan broadcast delivered with exact bytes", "%d frames, len %zu", got, log_b.len);
	check(b->stats.rx_frames == 1 && b->stats.rx_bytes == len, "vxlan rx counted",
	      "rx_frames %llu", (unsigned long long)b->stats.rx_frames);
	snprintf(text, sizeof(text), "learned %s -> 127.0.0.1:%d (age 0 s)",
		 nc_mac_str(mac_a, m, sizeof(m)), port_a);
	check(describe_has(b, text), "vxlan B learned A's MAC", "no '%s'", text);

	/* Unicast back to the learned MAC. */
	len = make_frame(f, mac_a, mac_b, ETH_TEST, 1000, 2);
	struct iovec iov1 = { f, len };
	r = send_now(b, &iov1, 1);
	got = pump(a, &log_a, 2000);
	check(r == 0 && got == 1 && log_a.len == len && memcmp(log_a.buf, f, len) == 0,
	      "vxlan unicast to learned MAC arrives", "ret %d, %d frames", r, got);

	/* The largest frame max_mtu promises fits one datagram; one byte more is dropped. */
	{
		size_t big = NC_ETH_HLEN + (size_t)a->max_mtu;
		uint64_t drops = b->stats.tx_dropped;
		make_frame(g, mac_a, mac_b, ETH_TEST, big - NC_ETH_HLEN, 9);
		iov1 = (struct iovec){ g, big };
		r = send_now(b, &iov1, 1);
		got = pump(a, &log_a, 2000);
		check(r == 0 && got == 1 && log_a.len == big && memcmp(log_a.buf, g, big) == 0,
		      "vxlan frame of max_mtu + 14 bytes carried", "ret %d, %d frames", r, got);
		iov1 = (struct iovec){ g, big + 1 };
		r = send_now(b, &iov1, 1);
		check(r == -EMSGSIZE && b->stats.tx_dropped == drops + 1,
		      "vxlan frame beyond max_mtu dropped", "ret %d", r);
	}

	/* Garbage, a wrong VNI and a missing I flag: dropped and counted, nothing delivered. */
	s = plain_socket(&s_addr);
	plain_send(s, port_b, "this is not vxlan at all", 24);
	plain_send_frame(s, port_b, vni + 1, f, len);
	nc_vxlan_encode(g, vni);
	g[0] = 0;
	memcpy(g + NC_VXLAN_HLEN, f, len);
	plain_send(s, port_b, g, NC_VXLAN_HLEN + len);
	plain_send(s, port_b, g, 5);
	got = pump(b, &log_b, 2000);
	check(got == 0 && b->stats.rx_dropped == 4, "vxlan garbage dropped and counted",
	      "%d delivered, rx_dropped %llu", got, (unsigned long long)b->stats.rx_dropped);

	/* A peer with another VNI: dropped and counted, and one warning per sender naming
	 * the VNI received, ours and the sender, however many frames it sends. */
	{
		struct sockaddr_in t_addr[2];
		int t[2] = { plain_socket(&t_addr[0]), plain_socket(&t_addr[1]) };
		uint64_t drops = b->stats.rx_dropped;
		FILE *tf = tmpfile();
		int saved = dup(STDERR_FILENO), n[2] = { 0, 0 }, other = 0, lvl = nc_log_level;
		char line[256], want[2][128];

		if (!tf || saved < 0 || dup2(fileno(tf), STDERR_FILENO) < 0)
			abort();
		nc_log_level = NC_LOG_WARN;
		for (int i = 0; i < 5; i++)
			for (int k = 0; k < 2; k++)
				plain_send_frame(t[k], port_b, vni + 7, f, len);
		got = pump(b, &log_b, 2000);
		nc_log_level = lvl;
		dup2(saved, STDERR_FILENO);
		close(saved);
		for (int k = 0; k < 2; k++)
			snprintf(want[k], sizeof(want[k]),
				 "dropping frames with VNI %u from 127.0.0.2:%d: this link's VNI is %u",
				 vni + 7, ntohs(t_addr[k].sin_port), vni);
		rewind(tf);
		while (fgets(line, sizeof(line), tf)) {
			fputs(line, stderr);
			if (strstr(line, want[0]))
				n[0]++;
			else if (strstr(line, want[1]))
				n[1]++;
			else
				other++;
		}
		fclose(tf);
		check(got == 0 && b->stats.rx_dropped == drops + 10,
		      "vxlan wrong VNI dropped and counted", "%d delivered, %llu dropped", got,
		      (unsigned long long)(b->stats.rx_dropped - drops));
		check(n[0] == 1 && n[1] == 1 && other == 0,
		      "vxlan wrong VNI warned once per sender", "%d and %d lines, %d others "
		      "(want '%s')", n[0], n[1], other, want[0]);
		close(t[0]);
		close(t[1]);
	}

	/* A sender that is not a static peer is accepted and learned... */
	len = make_frame(f, mac_bcast, mac_s, ETH_TEST, 60, 3);
	plain_send_frame(s, port_a, vni, f, len);
	got = pump(a, &log_a, 2000);
	snprintf(text, sizeof(text), "learned %s -> 127.0.0.2:%d",
		 nc_mac_str(mac_s, m, sizeof(m)), ntohs(s_addr.sin_port));
	check(got == 1 && describe_has(a, text), "vxlan frame from a non-static sender learned",
	      "%d frames, no '%s'", got, text);
	/* ...and unicast to it goes to it only, with the right header. */
	len = make_frame(f, mac_s, mac_a, ETH_TEST, 300, 4);
	iov1 = (struct iovec){ f, len };
	r = send_now(a, &iov1, 1);
	{
		uint8_t hdr[NC_VXLAN_HLEN];
		ssize_t n = -1;
		nc_vxlan_encode(hdr, vni);
		if (wait_readable(s, 2000))
			n = recv(s, g, sizeof(g), MSG_DONTWAIT);
		check(r == 0 && n == (ssize_t)(NC_VXLAN_HLEN + len) &&
		      memcmp(g, hdr, NC_VXLAN_HLEN) == 0 && memcmp(g + NC_VXLAN_HLEN, f, len) == 0,
		      "vxlan unicast to a learned non-static peer", "ret %d, got %zd bytes", r, n);
		got = pump(b, &log_b, 100);
		check(got == 0, "vxlan unicast not flooded", "B got %d frames", got);
	}

	/* Broadcast from A: B (static, also learned) once, S (learned) once. */
	len = make_frame(f, mac_bcast, mac_a, ETH_TEST, 40, 5);
	iov1 = (struct iovec){ f, len };
	r = send_now(a, &iov1, 1);
	{
		int n_s = 0;
		while (wait_readable(s, n_s ? 100 : 2000) && recv(s, g, sizeof(g), MSG_DONTWAIT) > 0)
			n_s++;
		got = pump(b, &log_b, 2000);
		check(r == 0 && n_s == 1 && got == 1 && a->stats.tx_frames == 3,
		      "vxlan flood reaches static and learned peers once each",
		      "ret %d, S got %d, B got %d, tx_frames %llu", r, n_s, got,
		      (unsigned long long)a->stats.tx_frames);
	}

	/* The station moves to another address: A follows it. */
	s2 = plain_socket(&s2_addr);
	len = make_frame(f, mac_bcast, mac_s, ETH_TEST, 60, 6);
	plain_send_frame(s2, port_a, vni, f, len);
	pump(a, &log_a, 2000);
	len = make_frame(f, mac_s, mac_a, ETH_TEST, 60, 7);
	iov1 = (struct iovec){ f, len };
	send_now(a, &iov1, 1);
	{
		ssize_t n = -1;
		if (wait_readable(s2, 2000))
			n = recv(s2, g, sizeof(g), MSG_DONTWAIT);
		check(n == (ssize_t)(NC_VXLAN_HLEN + len) && !wait_readable(s, 50),
		      "vxlan learned MAC moves with the station", "S2 got %zd", n);
	}

	/* Another sender on the static peer B's host (another service on 127.0.0.1), B
	 * having spoken from its own port: learned at its own port, and unicast to it goes
	 * there only, not to B. */
	{
		struct sockaddr_in k_addr;
		socklen_t kl = sizeof(k_addr);
		static const uint8_t mac_k[6] = { 0x02, 0, 0, 0, 0, 0x0c };
		int k = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ssize_t n = -1;

		memset(&k_addr, 0, sizeof(k_addr));
		k_addr.sin_family = AF_INET;
		k_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (k < 0 || bind(k, (struct sockaddr *)&k_addr, sizeof(k_addr)) < 0 ||
		    getsockname(k, (struct sockaddr *)&k_addr, &kl) < 0)
			abort();
		len = make_frame(f, mac_bcast, mac_k, ETH_TEST, 60, 9);
		plain_send_frame(k, port_a, vni, f, len);
		pump(a, &log_a, 2000);
		snprintf(text, sizeof(text), "learned %s -> 127.0.0.1:%d",
			 nc_mac_str(mac_k, m, sizeof(m)), ntohs(k_addr.sin_port));
		check(describe_has(a, text),
		      "vxlan sender on a static peer's host learned at its own port",
		      "no '%s'", text);
		len = make_frame(f, mac_k, mac_a, ETH_TEST, 60, 10);
		iov1 = (struct iovec){ f, len };
		send_now(a, &iov1, 1);
		if (wait_readable(k, 2000))
			n = recv(k, g, sizeof(g), MSG_DONTWAIT);
		got = pump(b, &log_b, 100);
		check(n == (ssize_t)(NC_VXLAN_HLEN + len) && got == 0,
		      "vxlan unicast to it reaches it, not the peer", "got %zd, B got %d", n, got);
		close(k);
	}

	/* send() from inside deliver(): B answers an echo request while being delivered. */
	len = make_frame(f, mac_b, mac_a, ETH_ECHO_REQ, 32, 8);
	iov1 = (struct iovec){ f, len };
	log_b.echo_send_ret = -1;
	send_now(a, &iov1, 1);
	pump(b, &log_b, 2000);
	got = pump(a, &log_a, 2000);
	check(log_b.echo_send_ret == 0 && got == 1 && log_a.buf[13] == (ETH_ECHO_REP & 0xff) &&
	      memcmp(log_a.buf, mac_a, 6) == 0,
	      "vxlan send() from inside deliver()", "send %d, A got %d", log_b.echo_send_ret, got);

	/* A full FDB replaces its oldest entry. */
	for (int i = 0; i < NC_VXLAN_FDB_SIZE + 10; i++) {
		uint8_t mac[6] = { 0x02, 0x11, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		len = make_frame(f, mac_bcast, mac, ETH_TEST, 10, i);
		plain_send_frame(s, port_b, vni, f, len);
		if (i % 200 == 199)
			pump(b, &log_b, 2000);   /* stay well inside the socket buffer */
	}
	pump(b, &log_b, 2000);
	{
		uint8_t first[6] = { 0x02, 0x11, 0, 0, 0, 0 };
		uint8_t last[6] = { 0x02, 0x11, 0, 0, (NC_VXLAN_FDB_SIZE + 9) >> 8,
				    (NC_VXLAN_FDB_SIZE + 9) & 0xff };
		char t1[64], t2[64];
		int n = learned_count(b);
		snprintf(t1, sizeof(t1), "learned %s ", nc_mac_str(first, m, sizeof(m)));
		snprintf(t2, sizeof(t2), "learned %s ", nc_mac_str(last, m, sizeof(m)));
		check(n == NC_VXLAN_FDB_SIZE && !describe_has(b, t1) && describe_has(b, t2),
		      "vxlan full FDB replaces the oldest", "%d entries", n);
	}
	{
		char small[100];
		b->ops->describe(b, small, sizeof(small));
		check(strlen(small) < sizeof(small) && strchr(small, '\n') != NULL,
		      "vxlan describe truncates to whole lines", "'%s'", small);
	}

	/* Opening the same port again fails with a clear message. */
	{
		struct nc_vxlan_config c;
		struct nc_link *l = NULL;
		char err[256], want[96];
		memset(&c, 0, sizeof(c));
		loopback(&c.bind, &c.bind_len, port_a);
		c.vni = vni;
		r = nc_link_vxlan_open(&l, &c, 1500, record, NULL, err, sizeof(err));
		snprintf(want, sizeof(want), "cannot bind 127.0.0.1:%d: Address already in use",
			 port_a);
		check(r == -EADDRINUSE && l == NULL && strcmp(err, want) == 0,
		      "vxlan bind in use refused", "ret %d, '%s'", r, err);
	}
	close(s);
	close(s2);
	a->ops->close(a);
	b->ops->close(b);
}

/* A bound UDP socket on 127.0.0.1 with a kernel-chosen port (its port in *port). */
static int local_socket(int *port)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		abort();
	*port = ntohs(me.sin_port);
	return fd;
}

/*
 * A static peer P on 127.0.0.1 that has never sent (as a kernel vxlan device, which
 * sends from hashed ports) and a sender K on another port of 127.0.0.1: K's MAC is
 * learned at K's port, and unicast to it goes to K and, once, to P; the frame is
 * counted once. After P sends from its own port, K alone gets them.
 */
static void test_copy_to_peer(void)
{
	const uint32_t vni = 0x00c0de;
	static const uint8_t mac_k[6] = { 0x02, 0, 0, 0, 0, 0x4b };
	static const uint8_t mac_p[6] = { 0x02, 0, 0, 0, 0, 0x50 };
	static struct rx_log lg;
	static uint8_t f[256], g[2048];
	struct nc_vxlan_config c;
	struct nc_link *a = NULL;
	struct sockaddr_in la;
	socklen_t lal = sizeof(la);
	struct iovec iov;
	char err[256], text[128], m[20];
	int pp, pk, port, r, n_p, n_k;
	int ps = local_socket(&pp), ks = local_socket(&pk);
	size_t len;

	memset(&c, 0, sizeof(c));
	loopback(&c.bind, &c.bind_len, 1);
	((struct sockaddr_in *)&c.bind)->sin_port = 0;   /* any free port */
	loopback(&c.peers[0], &c.peer_lens[0], pp);
	c.npeers = 1;
	c.vni = vni;
	r = nc_link_vxlan_open(&a, &c, 1500, record, &lg, err, sizeof(err));
	check(r == 0, "vxlan open a link with a silent peer", "%s", err);
	if (r < 0)
		goto out;
	lg.link = a;
	if (getsockname(a->fd, (struct sockaddr *)&la, &lal) < 0)
		abort();
	port = ntohs(la.sin_port);

	len = make_frame(f, mac_bcast, mac_k, ETH_TEST, 40, 1);
	plain_send_frame(ks, port, vni, f, len);
	pump(a, &lg, 2000);
	snprintf(text, sizeof(text), "learned %s -> 127.0.0.1:%d (age 0 s), copy to peer "
		 "127.0.0.1:%d", nc_mac_str(mac_k, m, sizeof(m)), pk, pp);
	check(describe_has(a, text), "vxlan describe shows the copy to a silent peer",
	      "no '%s'", text);

	len = make_frame(f, mac_k, mac_a, ETH_TEST, 100, 2);
	iov = (struct iovec){ f, len };
	r = send_now(a, &iov, 1);
	n_k = wait_readable(ks, 2000) && recv(ks, g, sizeof(g), MSG_DONTWAIT) ==
					 (ssize_t)(NC_VXLAN_HLEN + len);
	n_p = wait_readable(ps, 2000) && recv(ps, g, sizeof(g), MSG_DONTWAIT) ==
					 (ssize_t)(NC_VXLAN_HLEN + len);
	check(r == 0 && n_k && n_p && a->stats.tx_frames == 1,
	      "vxlan unicast to a sender on a silent peer's IP: to it and a copy to the peer",
	      "ret %d, K %d, P %d, tx_frames %llu", r, n_k, n_p,
	      (unsigned long long)a->stats.tx_frames);

	/* P speaks from its own port: the copies stop. */
	len = make_frame(f, mac_bcast, mac_p, ETH_TEST, 40, 3);
	plain_send_frame(ps, port, vni, f, len);
	pump(a, &lg, 2000);
	len = make_frame(f, mac_k, mac_a, ETH_TEST, 100, 4);
	iov = (struct iovec){ f, len };
	r = send_now(a, &iov, 1);
	n_k = wait_readable(ks, 2000) && recv(ks, g, sizeof(g), MSG_DONTWAIT) > 0;
	n_p = wait_readable(ps, 100);
	check(r == 0 && n_k && !n_p, "vxlan no copy once the peer has spoken from its port",
	      "K %d, P %d", n_k, n_p);
	a->ops->close(a);
out:
	close(ps);
	close(ks);
}

/* Open errors that need no traffic: MTU limits, VNI range, peer families, no peers. */
static void test_open_errors(void)
{
	struct nc_vxlan_config c;
	struct nc_link *l = NULL;
	char err[256] = "";
	int r;

	memset(&c, 0, sizeof(c));
	loopback(&c.bind, &c.bind_len, 1);   /* never bound: these fail before */
	c.vni = 1;
	r = nc_link_vxlan_open(&l, &c, 65486, record, NULL, err, sizeof(err));
	check(r == -EMSGSIZE && l == NULL && strstr(err, "65485"),
	      "vxlan mtu 65486 over IPv4 refused with -EMSGSIZE", "ret %d, '%s'", r, err);
	r = nc_link_vxlan_open(&l, &c, NC_MTU_MIN - 1, record, NULL, err, sizeof(err));
	check(r == -EMSGSIZE && l == NULL, "vxlan mtu below minimum refused", "ret %d", r);
	c.vni = 0x1000000;
	r = nc_link_vxlan_open(&l, &c, 1500, record, NULL, err, sizeof(err));
	check(r == -EINVAL && l == NULL, "vxlan VNI beyond 24 bits refused", "ret %d", r);
	c.vni = 1;
	nc_parse_hostport("[::1]:4789", &c.peers[0], &c.peer_lens[0], 0);
	c.npeers = 1;
	r = nc_link_vxlan_open(&l, &c, 1500, record, NULL, err, sizeof(err));
	check(r == -EAFNOSUPPORT && l == NULL, "vxlan IPv6 peer on IPv4 bind refused",
	      "ret %d, '%s'", r, err);

	/* IPv6 underlay: a smaller limit; IPv4 peers are reached as mapped addresses. */
	memset(&c, 0, sizeof(c));
	nc_parse_hostport("[::1]:1", &c.bind, &c.bind_len, 0);
	r = nc_link_vxlan_open(&l, &c, 65466, record, NULL, err, sizeof(err));
	check(r == -EMSGSIZE && strstr(err, "65465"),
	      "vxlan mtu 65466 over IPv6 refused with -EMSGSIZE", "ret %d, '%s'", r, err);

	/* No peers and nothing learned: a broadcast has nowhere to go and is dropped. */
	for (int port = 40000 + getpid() % 20000, i = 0; i < 20; i++, port++) {
		uint8_t f[64];
		size_t len;
		memset(&c, 0, sizeof(c));
		loopback(&c.bind, &c.bind_len, port);
		r = nc_link_vxlan_open(&l, &c, 1500, record, NULL, err, sizeof(err));
		if (r == -EADDRINUSE)
			continue;
		if (r < 0)
			break;
		len = make_frame(f, mac_bcast, mac_a, ETH_TEST, 20, 0);
		struct iovec iov = { f, len };
		r = send_now(l, &iov, 1);
		check(r < 0 && l->stats.tx_dropped == 1 && l->stats.tx_frames == 0,
		      "vxlan send with no peer dropped and counted", "ret %d", r);
		l->ops->close(l);
		break;
	}
}

int main(void)
{
	nc_log_init("unit_vxlan", 0);
	if (getenv("NETCON_LOG"))
		nc_log_level = nc_log_parse_level(getenv("NETCON_LOG"));
	test_framing();
	test_open_errors();
	test_loopback();
	test_copy_to_peer();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
