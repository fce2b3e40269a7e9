/*
 * unit_tap.c — tests of the TAP link (src/link/tap.c).
 *
 *  1. TAP framing with virtio-net headers (nc_tap_vnet_check), table-driven: short
 *     headers, unknown flags and GSO types, checksum and GSO fields that do not match
 *     the frame.
 *  2. TAP, only when NETCON_TEST_TAP names an existing, up TAP device whose kernel side
 *     has the address NETCON_TEST_TAP_IP (default 10.9.0.1/24); run it inside a network
 *     namespace made for the purpose (tests/t_tap.sh does). The test ARPs for that
 *     address and expects the kernel's reply; then, with the send offloads on, it sends
 *     runs of IPv4 and IPv6 TCP segments and checks on a packet socket on the device
 *     that the kernel took each run as one frame with the right lengths and flags.
 *
 * One line per case; the last line is "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* What the link delivered, and the ARP replies among it. */
struct rx_log {
	int count;
	int arp_replies;        /* ARP replies seen */
	uint8_t arp[64];        /* the last of them */
};

/* deliver callback: count the frame, keep an ARP reply. */
static void record(void *ctx, const uint8_t *frame, size_t len)
{
	struct rx_log *lg = ctx;

	lg->count++;
	if (len >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2) {
		lg->arp_replies++;
		memcpy(lg->arp, frame, 42);
	}
}

/* ---- 1. TAP framing with a virtio_net_hdr ------------------------------------------ */

/* One read() from a TAP device: a virtio_net_hdr, then an Ethernet frame carrying IPv4
 * (or IPv6) TCP with `payload` bytes. */
struct vnet_frame {
	uint8_t b[10 + 14 + 40 + 20 + 3000];
	size_t len;
};

static void vnet_build(struct vnet_frame *v, int v6, size_t payload)
{
	uint8_t *e = v->b + 10, *ip = e + 14, *tcp;
	size_t iplen;

	memset(v->b, 0, sizeof(v->b));
	memset(e, 0x02, 12);
	if (v6) {
		e[12] = 0x86, e[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = (uint8_t)((20 + payload) >> 8), ip[5] = (uint8_t)(20 + payload);
		ip[6] = 6, ip[7] = 64;
		tcp = ip + 40;
		iplen = 40;
	} else {
		e[12] = 0x08, e[13] = 0x00;
		ip[0] = 0x45;
		ip[2] = (uint8_t)((40 + payload) >> 8), ip[3] = (uint8_t)(40 + payload);
		ip[8] = 64, ip[9] = 6;
		tcp = ip + 20;
		iplen = 20;
	}
	tcp[12] = 0x50;
	tcp[13] = 0x10;
	v->len = 10 + 14 + iplen + 20 + payload;
}

/* The header's fields (little-endian 16-bit, as TUNSETVNETLE makes them). */
static void vnet_hdr(struct vnet_frame *v, uint8_t flags, uint8_t gso, uint16_t hdr_len,
		     uint16_t gso_size, uint16_t start, uint16_t off)
{
	uint16_t f[4] = { hdr_len, gso_size, start, off };

	v->b[0] = flags;
	v->b[1] = gso;
	for (int i = 0; i < 4; i++) {
		v->b[2 + 2 * i] = (uint8_t)f[i];
		v->b[3 + 2 * i] = (uint8_t)(f[i] >> 8);
	}
}

static void test_vnet(void)
{
	struct vnet_frame v;
	unsigned fl;
	int r;
	enum { NC = 1, DV = 2, T4 = 1, T6 = 4, UDP = 3, ECN = 0x80 };

	vnet_build(&v, 0, 100);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && fl == 0, "vnet plain frame", "ret %d flags %u", r, fl);
	for (size_t n = 0; n < 24; n++) {
		r = nc_tap_vnet_check(v.b, n, &fl);
		if (r != -EINVAL)
			break;
	}
	check(r == -EINVAL, "vnet short header or frame (0..23 bytes) dropped", "ret %d", r);

	vnet_hdr(&v, NC, 0, 0, 0, 34, 16);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && fl == NC_LINK_RX_CSUM_OK, "vnet NEEDS_CSUM: checksum trusted",
	      "ret %d flags %u", r, fl);
	vnet_hdr(&v, DV, 0, 0, 0, 0, 0);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && fl == NC_LINK_RX_CSUM_OK, "vnet DATA_VALID: checksum trusted",
	      "ret %d flags %u", r, fl);

	vnet_build(&v, 0, 2000);
	vnet_hdr(&v, NC, T4, 54, 1448, 34, 16);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && fl == (NC_LINK_RX_CSUM_OK | NC_LINK_RX_GSO), "vnet TSO4 super-frame",
	      "ret %d flags %u", r, fl);
	vnet_hdr(&v, NC, T4 | ECN, 54, 1448, 34, 16);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && (fl & NC_LINK_RX_GSO), "vnet TSO4 with ECN", "ret %d flags %u", r, fl);
	vnet_build(&v, 1, 2000);
	vnet_hdr(&v, NC, T6, 74, 1428, 54, 16);
	r = nc_tap_vnet_check(v.b, v.len, &fl);
	check(r == 10 && fl == (NC_LINK_RX_CSUM_OK | NC_LINK_RX_GSO), "vnet TSO6 super-frame",
	      "ret %d flags %u", r, fl);

	/* Lies: each must be dropped. */
	static const struct {
		const char *name;
		int v6;
		uint8_t flags, gso;
		uint16_t hdr_len, gso_size, start, off;
		int ip_len_delta;       /* added to the IP length field */
		int frag;               /* set IPv4 MF */
		int ethertype_arp;
		size_t payload;
	} bad[] = {
		{ "unknown flag 0x80", 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 100 },
		{ "RSC_INFO flag", 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 100 },
		{ "csum_start past the frame", 0, NC, 0, 0, 0, 3000, 16, 0, 0, 0, 100 },
		{ "csum_offset past the frame", 0, NC, 0, 0, 0, 34, 200, 0, 0, 0, 100 },
		{ "csum_start inside the Ethernet header", 0, NC, 0, 0, 0, 4, 16, 0, 0, 0, 100 },
		{ "odd csum_offset", 0, NC, 0, 0, 0, 34, 15, 0, 0, 0, 100 },
		{ "ECN without a GSO type", 0, NC, ECN, 0, 0, 34, 16, 0, 0, 0, 100 },
		{ "GSO UDP (not offered)", 0, NC, UDP, 42, 1472, 34, 6, 0, 0, 0, 2000 },
		{ "GSO type 5", 0, NC, 5, 54, 1448, 34, 16, 0, 0, 0, 2000 },
		{ "TSO4 without NEEDS_CSUM", 0, 0, T4, 54, 1448, 34, 16, 0, 0, 0, 2000 },
		{ "TSO4 with gso_size 0", 0, NC, T4, 54, 0, 34, 16, 0, 0, 0, 2000 },
		{ "TSO4 with hdr_len past the frame", 0, NC, T4, 4000, 1448, 34, 16, 0, 0, 0, 2000 },
		{ "TSO4 csum_start not at TCP", 0, NC, T4, 54, 1448, 38, 16, 0, 0, 0, 2000 },
		{ "TSO4 csum_offset not TCP's", 0, NC, T4, 54, 1448, 34, 6, 0, 0, 0, 2000 },
		{ "TSO4 IP length longer than the frame", 0, NC, T4, 54, 1448, 34, 16, 1, 0, 0, 2000 },
		{ "TSO4 IP length shorter than the frame", 0, NC, T4, 54, 1448, 34, 16, -8, 0, 0, 2000 },
		{ "TSO4 on an IPv4 fragment", 0, NC, T4, 54, 1448, 34, 16, 0, 1, 0, 2000 },
		{ "TSO4 on an ARP frame", 0, NC, T4, 54, 1448, 34, 16, 0, 0, 1, 2000 },
		{ "TSO4 without payload", 0, NC, T4, 54, 1448, 34, 16, 0, 0, 0, 0 },
		{ "TSO6 on an IPv4 frame", 0, NC, T6, 54, 1448, 34, 16, 0, 0, 0, 2000 },
		{ "TSO4 on an IPv6 frame", 1, NC, T4, 74, 1428, 54, 16, 0, 0, 0, 2000 },
		{ "TSO6 IP length longer than the frame", 1, NC, T6, 74, 1428, 54, 16, 1, 0, 0, 2000 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[96];
		uint8_t *ip = v.b + 24;
		int lenoff = bad[i].v6 ? 4 : 2;
		unsigned iplen;

		vnet_build(&v, bad[i].v6, bad[i].payload);
		vnet_hdr(&v, bad[i].flags, bad[i].gso, bad[i].hdr_len, bad[i].gso_size,
			 bad[i].start, bad[i].off);
		iplen = (unsigned)((ip[lenoff] << 8 | ip[lenoff + 1]) + bad[i].ip_len_delta);
		ip[lenoff] = (uint8_t)(iplen >> 8), ip[lenoff + 1] = (uint8_t)iplen;
		if (bad[i].frag)
			ip[6] = 0x20;
		if (bad[i].ethertype_arp)
			v.b[22] = 0x08, v.b[23] = 0x06;
		r = nc_tap_vnet_check(v.b, v.len, &fl);
		snprintf(name, sizeof(name), "vnet lie dropped: %s", bad[i].name);
		check(r == -EINVAL && fl == 0, name, "ret %d flags %u", r, fl);
	}
	{
		static uint8_t big[10 + 0x10000];
		memset(big, 0, sizeof(big));
		big[22] = 0x08;
		r = nc_tap_vnet_check(big, sizeof(big), &fl);
		check(r == -EINVAL, "vnet frame over 65535 bytes dropped", "ret %d", r);
	}
}

/* A TCP segment from mac_a: IPv4 10.9.0.2 → 10.9.0.1 or IPv6 fd00::2 → fd00::1, port
 * 1234 → 5678, sequence number seq, `payload` bytes of (seq + i) & 0xff. Returns the
 * frame's length; f is the vnet_frame's buffer past its header. */
static size_t tcp_seg(struct vnet_frame *v, int v6, uint32_t seq, size_t payload, uint8_t flags)
{
	uint8_t *f = v->b + 10, *ip = f + 14, *tcp = ip + (v6 ? 40 : 20);

	vnet_build(v, v6, payload);
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	if (v6) {
		ip[8] = ip[24] = 0xfd;
		ip[23] = 2, ip[39] = 1;
	} else {
		ip[12] = 10, ip[13] = 9, ip[14] = 0, ip[15] = 2;
		ip[16] = 10, ip[17] = 9, ip[18] = 0, ip[19] = 1;
	}
	tcp[0] = 1234 >> 8, tcp[1] = 1234 & 0xff, tcp[2] = 5678 >> 8, tcp[3] = 5678 & 0xff;
	tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8), tcp[7] = (uint8_t)seq;
	tcp[13] = flags;
	tcp[14] = 0xff, tcp[15] = 0xff;
	for (size_t i = 0; i < payload; i++)
		tcp[20 + i] = (uint8_t)(seq + i);
	return v->len - 10;
}

/*
 * test_tap_gso() - with TX_CSUM|TX_GSO, runs of contiguous segments sent in one turn must
 * reach the kernel as one frame each (a packet socket on the device sees the frame the
 * kernel received, before any segmentation): headers of the first, lengths covering all,
 * the last segment's flags, every payload byte in order, the pseudo-header sum in the
 * checksum field. A gap starts a new frame.
 */
static void test_tap_gso(struct nc_link *l, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	static struct vnet_frame v;
	static uint8_t got[8][4096];
	ssize_t glen[8];
	int ps, n = 0;
	unsigned off;
	uint64_t dropped = l->stats.tx_dropped;

	off = l->ops->set_offload(l, NC_LINK_OFF_TX_CSUM | NC_LINK_OFF_TX_GSO);
	check(off == (NC_LINK_OFF_TX_CSUM | NC_LINK_OFF_TX_GSO), "tap send offloads granted",
	      "got %#x", off);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		check(0, "tap packet socket", "%s", strerror(errno));
		if (ps >= 0)
			close(ps);
		return;
	}
	/* IPv4: 1000 + 1000 + 500 (PSH), then a gap; IPv6: 1000 + 1000, flushed. */
	static const struct { int v6; uint32_t seq; size_t len; uint8_t flags; } segs[] = {
		{ 0, 1000, 1000, 0x10 }, { 0, 2000, 1000, 0x10 }, { 0, 3000, 500, 0x18 },
		{ 0, 9000, 100, 0x10 }, { 1, 5000, 1000, 0x10 }, { 1, 6000, 1000, 0x10 },
	};
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		size_t len = tcp_seg(&v, segs[i].v6, segs[i].seq, segs[i].len, segs[i].flags);
		struct iovec iov[2] = { { v.b + 10, 34 }, { v.b + 10 + 34, len - 34 } };
		l->ops->send(l, iov, 2);
	}
	l->ops->flush(l);
	check(l->stats.tx_dropped == dropped, "tap GSO frames accepted by the kernel",
	      "%llu dropped", (unsigned long long)(l->stats.tx_dropped - dropped));
	for (int tries = 0; tries < 20 && n < 3; tries++) {
		ssize_t r = recv(ps, got[n], sizeof(got[n]), 0);
		if (r < 0) {
			wait_readable(ps, 50);
			continue;
		}
		if (r >= 14 && memcmp(got[n] + 6, mac_a, 6) == 0 && n < 8)
			glen[n++] = r;
	}
	close(ps);
	check(n == 3, "tap three frames seen for six segments", "%d frames", n);
	if (n != 3)
		return;
	/* IPv4 run: one frame of 14 + 20 + 20 + 2500 bytes, PSH, the payload contiguous. */
	uint8_t *f = got[0], *ip = f + 14, *tcp = ip + 20;
	int ok = glen[0] == 14 + 40 + 2500 && (ip[2] << 8 | ip[3]) == 2540 && tcp[13] == 0x18 &&
		 tcp[4] == 0 && tcp[5] == 0 && (tcp[6] << 8 | tcp[7]) == 1000;
	for (int i = 0; ok && i < 2500; i++)
		ok = tcp[20 + i] == (uint8_t)(1000 + i);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	check(ok && sum == 0xffff, "tap IPv4 run merged into one frame (lengths, flags, bytes, "
	      "IP checksum)", "len %zd ip len %d flags %#x ip sum %#x", glen[0],
	      ip[2] << 8 | ip[3], tcp[13], sum);
	/* The pseudo-header sum: addresses, protocol 6, TCP length 2520. */
	sum = 0x0a09 + 0x0002 + 0x0a09 + 0x0001 + 6 + 2520;
	check((uint32_t)(tcp[16] << 8 | tcp[17]) == sum, "tap IPv4 run: pseudo-header sum",
	      "%#x, want %#x", tcp[16] << 8 | tcp[17], sum);
	check(glen[1] == 14 + 40 + 100 && got[1][14 + 20 + 13] == 0x10,
	      "tap the segment after a PSH goes in a new frame", "len %zd", glen[1]);
	f = got[2], ip = f + 14, tcp = ip + 40;
	ok = glen[2] == 14 + 60 + 2000 && (ip[4] << 8 | ip[5]) == 2020 && tcp[13] == 0x10;
	for (int i = 0; ok && i < 2000; i++)
		ok = tcp[20 + i] == (uint8_t)(5000 + i);
	check(ok, "tap IPv6 run merged into one frame", "len %zd payload len %d", glen[2],
	      ip[4] << 8 | ip[5]);
	sum = 0xfd00 + 2 + 0xfd00 + 1 + 6 + 2020;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	check((uint32_t)(tcp[16] << 8 | tcp[17]) == sum, "tap IPv6 run: pseudo-header sum",
	      "%#x, want %#x", tcp[16] << 8 | tcp[17], sum);
	check(l->stats.tx_frames >= 6, "tap segments counted", "%llu",
	      (unsigned long long)l->stats.tx_frames);
}

/* ---- 2. TAP (only inside a prepared namespace) -------------------------------------- */

static void test_tap(const char *dev)
{
	const char *kip = getenv("NETCON_TEST_TAP_IP");
	struct in_addr kernel_ip, my_ip;
	struct nc_link *l = NULL;
	static struct rx_log lg;
	uint8_t f[64];
	char err[256] = "", text[64];
	int r, found = 0;

	if (!kip)
		kip = "10.9.0.1";
	if (inet_pton(AF_INET, kip, &kernel_ip) != 1)
		abort();
	my_ip.s_addr = htonl(ntohl(kernel_ip.s_addr) + 1);

	r = nc_link_tap_open(&l, dev, 65522, record, &lg, err, sizeof(err));
	check(r == -EMSGSIZE && l == NULL, "tap mtu 65522 refused", "ret %d '%s'", r, err);
	r = nc_link_tap_open(&l, "lo", 1500, record, &lg, err, sizeof(err));
	printf("      %s\n", err);
	check(r == -EINVAL && l == NULL, "tap open of a non-TAP device refused", "ret %d", r);
	r = nc_link_tap_open(&l, dev, 1500, record, &lg, err, sizeof(err));
	check(r == 0, "tap open", "%s", err);
	if (r < 0)
		return;
	snprintf(text, sizeof(text), "link tap %s mtu 1500\n", dev);
	{
		char buf[128];
		l->ops->describe(l, buf, sizeof(buf));
		check(strcmp(buf, text) == 0, "tap describe", "'%s'", buf);
	}

	/* ARP request: who has kernel_ip? tell my_ip (mac_a). */
	make_frame(f, mac_bcast, mac_a, 0x0806, 0, 0);
	static const uint8_t arp_hdr[8] = { 0, 1, 0x08, 0, 6, 4, 0, 1 };
	memcpy(f + 14, arp_hdr, 8);
	memcpy(f + 22, mac_a, 6);
	memcpy(f + 28, &my_ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, &kernel_ip, 4);
	struct iovec iov[2] = { { f, 14 }, { f + 14, 28 } };
	r = send_now(l, iov, 2);
	check(r == 0 && l->stats.tx_frames == 1 && l->stats.tx_bytes == 42, "tap send ARP request",
	      "ret %d", r);
	/* The kernel may drop the first reply while the carrier comes up: ask again every
	 * 250 ms, for 2 s at most. */
	for (int tries = 0; tries < 40 && !found; tries++) {
		if (tries % 5 == 4)
			l->ops->send(l, iov, 2);
		if (!wait_readable(l->fd, 50))
			continue;
		l->ops->input(l);
		if (lg.arp_replies > 0 && memcmp(lg.arp, mac_a, 6) == 0 &&
		    memcmp(lg.arp + 28, &kernel_ip, 4) == 0)
			found = 1;
	}
	check(found, "tap kernel answers ARP", "no reply (%d frames seen)", lg.count);

	struct iovec runt = { f, 10 };
	r = send_now(l, &runt, 1);
	check(r < 0 && l->stats.tx_dropped == 1, "tap runt frame dropped and counted", "ret %d",
	      r);
	test_tap_gso(l, dev);
	l->ops->close(l);
}

int main(void)
{
	const char *tap = getenv("NETCON_TEST_TAP");

	nc_log_init("unit_tap", 0);
	if (getenv("NETCON_LOG"))
		nc_log_level = nc_log_parse_level(getenv("NETCON_LOG"));
	test_vnet();
	if (tap && *tap)
		test_tap(tap);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
