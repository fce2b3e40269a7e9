/*
 * stack.c — the glue between lwIP (raw API, NO_SYS=1) and the service.
 *
 * One Ethernet netif carries the service's address. Outgoing frames (linkoutput) go to
 * the link as an iovec over the pbuf chain, without copying; incoming frames from the
 * link are copied once into a pbuf and given to ethernet_input. On an IP-level link
 * (wireguard) the netif has no ARP or Ethernet: lwIP's IPv4/IPv6 output hooks hand the
 * packet to the link the same way, and received packets go to ip_input. lwIP's timers are driven
 * by the event loop: nc_stack_timeout_ms() is the time to lwIP's next deadline, so an
 * idle service sleeps instead of polling. Also here: the functions lwIP's port needs
 * (sys_now, random numbers, assertions).
 *
 * Link offloads (link.h, tap.c): without --link-fault the service asks the link for all
 * of them and adapts lwIP to what it granted, per netif (LWIP_CHECKSUM_CTRL_PER_NETIF):
 * with TX_CSUM lwIP leaves TCP checksums to the link (NETIF_CHECKSUM_GEN_TCP off; frames
 * looped back to our own address then skip the TCP check too), a frame delivered with
 * NC_LINK_RX_CSUM_OK skips lwIP's TCP/UDP check, and one with NC_LINK_RX_GSO may exceed
 * the MTU. The link may also read large frames straight into pbufs (rx_zc, below).
 * NETCON_LINK_OFFLOAD=MASK (NC_LINK_OFF_* bits, 0x10 zero-copy receive; for
 * measurements) asks for less.
 */
#include "service.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip6_addr.h"
#include "lwip/nd6.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "netif/ethernet.h"

#include "isn.h"
#include "log.h"

/* The TCP sanity checks lwIP cannot run with MSS > 16 KiB (LWIP_DISABLE_TCP_SANITY_CHECKS),
 * checked here by hand. */
_Static_assert(TCP_SND_QUEUELEN <= 0xffff, "TCP_SND_QUEUELEN must fit u16");
_Static_assert(TCP_SND_QUEUELEN >= 2 * (TCP_SND_BUF / 536), "queue long enough for MSS 536");
_Static_assert(TCP_WND >= TCP_MSS / 64, "window at least one segment");
_Static_assert(TCP_WND <= (0xffffUL << TCP_RCV_SCALE), "window fits the scale");
_Static_assert(TCP_SNDLOWAT < TCP_SND_BUF, "TCP_SNDLOWAT below TCP_SND_BUF");
_Static_assert(TCP_SNDQUEUELOWAT < TCP_SND_QUEUELEN, "TCP_SNDQUEUELOWAT below queue length");
_Static_assert(NC_MAX_IP6 + 1 <= LWIP_IPV6_NUM_ADDRESSES, "a slot per --ip6 and the link-local");
_Static_assert(NC_MAX_IP6 + 1 <= NC_HELLO_MAX_IP6, "HELLO carries every IPv6 address");

static struct nc_service *stack_svc;   /* for lwIP callbacks that carry no argument */
static unsigned stack_offload;         /* NC_LINK_OFF_* granted by the link */
static int stack_rx_gso;               /* the frame being input is a coalesced segment */
static const struct nc_link_rx_zc stack_rx_zc;

u32_t sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void netcon_lwip_assert(const char *msg, const char *file, int line)
{
	nc_err("lwIP assertion failed: %s (%s:%d)", msg, file, line);
	abort();
}

/*
 * netcon_tcp_inpacket() - lwIP's LWIP_HOOK_TCP_INPACKET_PCB, called for every segment
 * before the pcb it matched sees it. One case is ours: a pure SYN for a connection in
 * TIME_WAIT. A busy client reuses ephemeral ports faster than a server's TIME_WAIT ends;
 * Linux lets such a SYN open a new connection (RFC 6191), lwIP sends RST when the SYN
 * falls in the old window, and the client sees ECONNREFUSED. Here the TIME_WAIT ends and
 * the SYN is dropped: the client's retransmission (after its initial RTO) finds the
 * listener. Returns ERR_OK to let lwIP go on, else lwIP drops the segment and, for a
 * TIME_WAIT pcb, touches the pcb no more (tcp_input returns at once).
 */
int netcon_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, struct pbuf *p)
{
	(void)p;
	/* A coalesced segment stands for many: acknowledge it at once, as Linux does for
	 * more than one full-sized segment (lwIP would wait for a second one, or its timer). */
	if (stack_rx_gso && pcb->state == ESTABLISHED)
		tcp_set_flags(pcb, TF_ACK_NOW);
	if (pcb->state != TIME_WAIT || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return ERR_OK;
	tcp_abort(pcb);   /* for a TIME_WAIT pcb: removed and freed, nothing sent */
	return ERR_ABRT;
}

/*
 * netcon_nd6_gw() - lwIP's LWIP_HOOK_ND6_GET_GW: the next hop for an IPv6 destination that
 * lwIP does not consider on-link. A destination inside one of our --ip6 prefixes is its
 * own next hop (neighbour discovery finds it on the link); NULL for anything else (no
 * router: lwIP answers ERR_RTE).
 */
const struct ip6_addr *netcon_nd6_gw(struct netif *netif, const struct ip6_addr *dest)
{
	(void)netif;
	if (stack_svc && nc_ip6_on_link(stack_svc, (const uint8_t *)dest->addr))
		return dest;
	return NULL;
}

/*
 * DOC: Stretch ACKs — pure ACKs held to the end of the loop turn.
 * A bulk receive at the largest MTU made one pure ACK per one or two segments (lwIP
 * acknowledges every second one, and a coalesced segment at once), each a system call
 * on the TAP link — in which the kernel, our peer, also processes the ACK and pushes its
 * next segment — or a datagram of its own on VXLAN. Everything a loop turn read is
 * acknowledged by its last ACK, so a pure ACK (the ACK flag alone, no payload, no TCP
 * option: no SACK block is lost) waits here instead of going out at once, and a later
 * one of the same connection that acknowledges more, or announces a larger window at the
 * same point (a window update, which RFC 5681 does not count as a duplicate), replaces
 * it. Any other frame sends the held one first, so order is kept; so does the end of
 * every loop turn (nc_stack_flush_ack, before the link's own flush). Duplicate ACKs (same
 * point, same window) and ACKs with SACK blocks are never merged: the sender's loss
 * detection sees every one. One ACK may stand for ACK_HOLD_SEGS more segments of the
 * link's MTU, at most ACK_HOLD_BYTES, so a long turn still acknowledges a 2 MiB window
 * several times. Counted in segments because a sender lets out at once what an ACK
 * frees: through 5% loss at MTU 1500 (bench/faults.sh, the receiving service holding),
 * a 256 KiB bound had its sender at ~157 Mbit/s with ~450 probes per 64 MiB (a burst,
 * then a tail loss), 4 segments at ~200-230, 2 at ~280-310 with ~200 probes, as fast
 * as no holding; at the largest MTU 2 segments are 128 KiB and TAP receive was the
 * same (docs/benchmarks.md). Not with --link-fault: what is
 * lost or duplicated there must be lwIP's own frames, and the fault tests stay
 * deterministic.
 */
#define ACK_HOLD_MAX   (NC_ETH_HLEN + 60 + 20)   /* IPv4 with options (or IPv6) + bare TCP */
#define ACK_HOLD_BYTES (256 * 1024)
#define ACK_HOLD_SEGS  2

/* The MTU is 576 or more (--mtu, a wg-quick MTU): a segment is MTU - 40 here. */
static uint32_t ack_hold_bytes(const struct nc_service *svc)
{
	uint32_t b = ACK_HOLD_SEGS * (uint32_t)(svc->cfg.mtu - 40);

	return b < ACK_HOLD_BYTES ? b : ACK_HOLD_BYTES;
}

static struct {
	uint8_t frame[ACK_HOLD_MAX];
	size_t len;          /* 0: nothing held */
	size_t l4off;        /* the TCP header */
	uint32_t first_ack;  /* the acknowledgment of the first ACK merged into it */
} held_ack;

/* Where frame's TCP header is when it is a pure ACK as held_ack takes it, else 0. */
static size_t pure_ack_l4off(const uint8_t *f, size_t len, int ip_level)
{
	size_t off = ip_level ? 0 : NC_ETH_HLEN, l4, end;
	unsigned ver;

	if (len < off + 40)
		return 0;
	ver = f[off] >> 4;
	if (!ip_level && !((ver == 4 && f[12] == 0x08 && f[13] == 0x00) ||
			   (ver == 6 && f[12] == 0x86 && f[13] == 0xdd)))
		return 0;
	if (ver == 4) {
		l4 = off + (size_t)(f[off] & 0x0f) * 4;
		end = off + ((size_t)f[off + 2] << 8 | f[off + 3]);
		if (f[off + 9] != IP_PROTO_TCP || (f[off + 6] & 0x3f) || f[off + 7])
			return 0;   /* not TCP, or a fragment */
	} else if (ver == 6) {
		l4 = off + 40;
		end = l4 + ((size_t)f[off + 4] << 8 | f[off + 5]);
		if (f[off + 6] != IP_PROTO_TCP)
			return 0;
	} else {
		return 0;
	}
	if (l4 + 20 > len || end != l4 + 20 || f[l4 + 12] != 5 << 4 || f[l4 + 13] != TCP_ACK)
		return 0;   /* a TCP option, a payload, or a flag besides ACK */
	return l4;
}

/* a and b (pure ACKs, TCP at l4) belong to the same connection and go the same way: same
 * Ethernet header, IP addresses and ports (not the IPv4 ID or checksum, which differ). */
static int same_flow(const uint8_t *a, const uint8_t *b, size_t l4, int ip_level)
{
	size_t off = ip_level ? 0 : NC_ETH_HLEN;

	if (memcmp(a, b, off + 1) != 0 || memcmp(a + l4, b + l4, 4) != 0)
		return 0;   /* Ethernet header and IP version; ports */
	if (a[off] >> 4 == 4)
		return memcmp(a + off + 12, b + off + 12, 8) == 0;
	return memcmp(a + off + 8, b + off + 8, 32) == 0;
}

static int send_now(struct nc_service *svc, const struct iovec *iov, int n)
{
	if (svc->capture)
		nc_capture_frame(svc, iov, n);
	return svc->link->ops->send(svc->link, iov, n);
}

/* Send the held ACK, if any (the end of a loop turn, or before any other frame). */
void nc_stack_flush_ack(struct nc_service *svc)
{
	struct iovec iov = { held_ack.frame, held_ack.len };

	if (held_ack.len == 0)
		return;
	held_ack.len = 0;
	send_now(svc, &iov, 1);
}

/* Hold frame (len bytes, a pure ACK whose TCP header is at l4) in place of the held one
 * when it may stand for it; else send the held one and hold this one. */
static void hold_ack(struct nc_service *svc, const uint8_t *f, size_t len, size_t l4)
{
	uint32_t ack = rd32(f + l4 + 8), hack;
	unsigned wnd = rd16(f + l4 + 14);
	unsigned hwnd;

	if (held_ack.len) {
		hack = rd32(held_ack.frame + held_ack.l4off + 8);
		hwnd = rd16(held_ack.frame + held_ack.l4off + 14);
		if (held_ack.l4off == l4 && held_ack.len == len &&
		    same_flow(held_ack.frame, f, l4, svc->link->ip_level) && (ack == hack ? wnd > hwnd :
		    TCP_SEQ_GT(ack, hack) && ack - held_ack.first_ack <= ack_hold_bytes(svc))) {
			memcpy(held_ack.frame, f, len);
			return;
		}
		nc_stack_flush_ack(svc);
	}
	memcpy(held_ack.frame, f, len);
	held_ack.len = len;
	held_ack.l4off = l4;
	held_ack.first_ack = ack;
}

int nc_stack_link_send(struct nc_service *svc, const struct iovec *iov, int n)
{
	nc_stack_flush_ack(svc);
	return send_now(svc, iov, n);
}

/* Send one linear frame on the link. */
static void send_linear(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };

	nc_stack_link_send(svc, &iov, 1);
}

/*
 * faulty_output() - the --link-fault path for a frame lwIP sends: linearized, then lost,
 * corrupted, duplicated or held back to go after the next one.
 */
static err_t faulty_output(struct nc_service *svc, struct pbuf *p)
{
	struct nc_fault_dir *d = &svc->fault.tx;
	uint8_t *buf = svc->fault_buf;
	size_t len = p->tot_len;
	unsigned v;

	pbuf_copy_partial(p, buf, p->tot_len, 0);
	v = nc_fault_verdict(&svc->fault, d);
	if (v & NC_FAULT_DROP)
		return ERR_OK;
	if (v & NC_FAULT_CORRUPT)
		nc_fault_corrupt(d, buf, len);
	if ((v & NC_FAULT_HOLD) && nc_fault_hold(d, buf, len) == 0)
		return ERR_OK;
	send_linear(svc, buf, len);
	if (v & NC_FAULT_DUP)
		send_linear(svc, buf, len);
	if (d->held) {
		send_linear(svc, d->held, d->held_len);
		free(d->held);
		d->held = NULL;
	}
	return ERR_OK;
}

/* lwIP → link: one frame as an iovec over the pbuf chain. */
static err_t stack_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nc_service *svc = netif->state;
	struct iovec iov[64];
	int n = 0;

	if (svc->fault.enabled && !svc->link->fault)
		return faulty_output(svc, p);
	if (!svc->fault.enabled && p->tot_len <= ACK_HOLD_MAX) {
		uint8_t f[ACK_HOLD_MAX];
		size_t l4;

		pbuf_copy_partial(p, f, p->tot_len, 0);
		l4 = pure_ack_l4off(f, p->tot_len, svc->link->ip_level);
		if (l4) {
			hold_ack(svc, f, p->tot_len, l4);
			return ERR_OK;
		}
	}

	for (struct pbuf *q = p; q; q = q->next) {
		if (q->len == 0)
			continue;
		if (n == (int)(sizeof(iov) / sizeof(iov[0]))) {
			/* A very long chain: linearize it (rare: our segments are 1–2 pbufs). */
			pbuf_copy_partial(p, svc->scratch, p->tot_len, 0);
			iov[0].iov_base = svc->scratch;
			iov[0].iov_len = p->tot_len;
			n = 1;
			break;
		}
		iov[n].iov_base = q->payload;
		iov[n].iov_len = q->len;
		n++;
	}
	if (nc_stack_link_send(svc, iov, n) < 0)
		return ERR_IF;   /* counted by the link; TCP retransmits */
	return ERR_OK;
}

/* An IP-level link (wireguard): lwIP's IPv4 and IPv6 output hand the packet straight to
 * the link, whoever the next hop (the link routes by its own table). */
static err_t stack_ip4_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *next)
{
	(void)next;
	return stack_linkoutput(netif, p);
}

static err_t stack_ip6_output(struct netif *netif, struct pbuf *p, const ip6_addr_t *next)
{
	(void)next;
	return stack_linkoutput(netif, p);
}

static err_t stack_netif_init(struct netif *netif)
{
	struct nc_service *svc = netif->state;

	if (svc->link->ip_level) {
		netif->name[0] = 'w';
		netif->name[1] = 'g';
		netif->mtu = (u16_t)svc->cfg.mtu;
		/* The MAC only makes the IPv6 link-local address; nothing is framed. */
		netif->hwaddr_len = ETH_HWADDR_LEN;
		memcpy(netif->hwaddr, svc->cfg.mac, ETH_HWADDR_LEN);
		netif->flags = 0;
		netif->output = stack_ip4_output;
		netif->output_ip6 = stack_ip6_output;
		netif->linkoutput = stack_linkoutput;
		return ERR_OK;
	}

	netif->name[0] = 'n';
	netif->name[1] = 'c';
	netif->mtu = (u16_t)svc->cfg.mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, svc->cfg.mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = stack_linkoutput;
	return ERR_OK;
}

int nc_stack_init(struct nc_service *svc, char *err, size_t errlen)
{
	ip4_addr_t ip, mask, gw;
	uint32_t m = svc->cfg.prefix ? htonl(0xffffffffu << (32 - svc->cfg.prefix)) : 0;

	stack_svc = svc;
	/* lwIP's memory is malloc()'s (MEM_LIBC_MALLOC): a frame of up to 64 KiB is one pbuf,
	 * allocated and freed many thousand times a second. With glibc's default 128 KiB
	 * trim threshold every such free shrank the heap and the next allocation faulted
	 * its pages in again: half of the service's time at 64 KiB frames. Keep up to
	 * 32 MiB of free heap instead. */
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	if (svc->cfg.link_fault[0]) {
		if (nc_fault_parse(&svc->fault, svc->cfg.link_fault, err, errlen) < 0)
			return -EINVAL;
		svc->fault_buf = malloc(NC_SCRATCH_SIZE);
		if (!svc->fault_buf) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (svc->link->wire_faults)
			svc->link->fault = &svc->fault;   /* the link injects them (link.h) */
	}
	int rc = nc_isn_init();   /* the ISN and hash secrets, before lwIP can open a connection */
	if (rc < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(-rc));
		return rc;
	}
	lwip_init();
	ip.addr = svc->cfg.ip.s_addr;
	mask.addr = m;
	gw.addr = 0;
	if (!netif_add(&svc->netif, &ip, &mask, &gw, svc, stack_netif_init,
		       svc->link->ip_level ? ip_input : ethernet_input)) {
		snprintf(err, errlen, "lwIP refused the interface");
		return -EINVAL;
	}
	const char *env = getenv("NETCON_LINK_OFFLOAD");
	if (svc->link->ops->set_offload) {
		unsigned want = NC_LINK_OFF_RX_CSUM | NC_LINK_OFF_RX_GSO | NC_LINK_OFF_TX_CSUM |
				NC_LINK_OFF_TX_GSO;
		if (env && *env)
			want &= (unsigned)strtoul(env, NULL, 0);
		if (svc->fault.enabled)
			want = 0;   /* a corrupted frame must fail its checksum */
		stack_offload = svc->link->ops->set_offload(svc->link, want);
	}
	/* Zero-copy receive for any link that takes it (tap.c, vxlan.c). */
	if (!svc->fault.enabled && (!env || !*env || (strtoul(env, NULL, 0) & 0x10)))
		svc->link->rx_zc = &stack_rx_zc;
	if (stack_offload & NC_LINK_OFF_TX_CSUM)
		NETIF_SET_CHECKSUM_CTRL(&svc->netif,
					NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);
	netif_set_default(&svc->netif);
	/* IPv6: the link-local address from the MAC (slot 0), then --ip6. No DAD
	 * (LWIP_IPV6_DUP_DETECT_ATTEMPTS 0): usable at once. IPv6 needs an MTU of 1280. */
	if (svc->cfg.mtu >= 1280) {
		netif_create_ip6_linklocal_address(&svc->netif, 1);
		for (int i = 0; i < svc->cfg.n_ip6; i++) {
			ip6_addr_t a6;
			s8_t idx = -1;

			memcpy(a6.addr, &svc->cfg.ip6[i], 16);
#if LWIP_IPV6_SCOPES
			a6.zone = IP6_NO_ZONE;
#endif
			if (netif_add_ip6_address(&svc->netif, &a6, &idx) != ERR_OK || idx < 0) {
				snprintf(err, errlen, "lwIP refused IPv6 address %d", i + 1);
				return -EINVAL;
			}
			netif_ip6_addr_set_state(&svc->netif, idx, IP6_ADDR_PREFERRED);
		}
	}
	netif_set_link_up(&svc->netif);
	netif_set_up(&svc->netif);
	/* Announce ourselves (gratuitous ARP, unsolicited NAs) so peers and learning
	 * switches know our MAC, and caches holding an old one heal at once. An IP-level
	 * link has no neighbours to tell. */
	if (!svc->link->ip_level)
		nc_neigh_announce(svc);
	return 0;
}

static void input_frame(struct nc_service *svc, const uint8_t *frame, size_t len);

/* The --link-fault path for a received frame. */
static void faulty_input(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	struct nc_fault_dir *d = &svc->fault.rx;
	unsigned v = nc_fault_verdict(&svc->fault, d);

	if (v & NC_FAULT_DROP)
		return;
	if (v & NC_FAULT_CORRUPT && len <= NC_SCRATCH_SIZE) {
		memcpy(svc->fault_buf, frame, len);
		nc_fault_corrupt(d, svc->fault_buf, len);
		frame = svc->fault_buf;
	}
	if ((v & NC_FAULT_HOLD) && nc_fault_hold(d, frame, len) == 0)
		return;
	input_frame(svc, frame, len);
	if (v & NC_FAULT_DUP)
		input_frame(svc, frame, len);
	if (d->held) {
		uint8_t *h = d->held;
		d->held = NULL;
		input_frame(svc, h, d->held_len);
		free(h);
	}
}

/* Frames held back for reordering go out at the end of the loop's turn at the latest. */
void nc_stack_release_held(struct nc_service *svc)
{
	struct nc_fault_dir *tx = &svc->fault.tx, *rx = &svc->fault.rx;

	if (!svc->fault.enabled || svc->link->fault)
		return;
	if (tx->held) {
		send_linear(svc, tx->held, tx->held_len);
		free(tx->held);
		tx->held = NULL;
	}
	if (rx->held) {
		uint8_t *h = rx->held;
		rx->held = NULL;
		input_frame(svc, h, rx->held_len);
		free(h);
	}
}

/* link → lwIP: one received Ethernet frame. */
void nc_stack_input(void *ctx, const uint8_t *frame, size_t len)
{
	struct nc_service *svc = ctx;

	if (svc->capture)
		nc_capture_frame_linear(svc, frame, len);
	if (!svc->link->ip_level)
		nc_neigh_observe(svc, frame, len);
	if (svc->probing)
		return;   /* the stack is not up yet: only our probe's answers matter */
	if (svc->fault.enabled && !svc->link->fault)
		faulty_input(svc, frame, len);
	else
		input_frame(svc, frame, len);
}

/* The largest frame the link may deliver now: the MTU's, or a coalesced segment's. */
static size_t frame_max(struct nc_service *svc)
{
	if (svc->link->rx_flags & NC_LINK_RX_GSO)
		return 0xffff;
	if (svc->link->ip_level)
		return (size_t)svc->cfg.mtu;
	return (size_t)svc->cfg.mtu + NC_ETH_HLEN + 4;
}

/* Give lwIP one received frame in p (consumed), honouring the link's rx_flags. */
static void input_pbuf(struct nc_service *svc, struct pbuf *p)
{
	unsigned fl = svc->link->rx_flags, saved = svc->netif.chksum_flags;

	if (fl & NC_LINK_RX_CSUM_OK)
		NETIF_SET_CHECKSUM_CTRL(&svc->netif, saved & ~(NETIF_CHECKSUM_CHECK_TCP |
							       NETIF_CHECKSUM_CHECK_UDP));
	stack_rx_gso = (fl & NC_LINK_RX_GSO) != 0;
	if (svc->netif.input(p, &svc->netif) != ERR_OK)
		pbuf_free(p);
	stack_rx_gso = 0;
	NETIF_SET_CHECKSUM_CTRL(&svc->netif, saved);
}

static void input_frame(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	struct pbuf *p;
	size_t plen = len;
	int ip = svc->link->ip_level;

	if (len < (ip ? 20 : NC_ETH_HLEN) || len > frame_max(svc)) {
		svc->ctr.rx_frames_bad++;
		return;
	}
	/* Ethernet frames are at least 60 bytes; a NIC pads shorter ones, a VXLAN peer need
	 * not. lwIP's ARP and IPv4 input read their headers before checking the length, so
	 * a short frame is padded with zeros here. */
	if (plen < 60 && !ip)
		plen = 60;
	/* lwIP's reassembly keeps a (packed) pbuf pointer in each fragment it holds: IPv4 at
	 * the IP header, IPv6 4 bytes before the Fragment header. Room ahead of the
	 * Ethernet header puts that pointer on an 8-byte boundary (IPv4: the IP header at
	 * 0 mod 8; IPv6: at 4 mod 8, extension headers being multiples of 8), where
	 * LeakSanitizer sees it: the fragments are then not reported as leaked
	 * (fuzz_vxlan), and IPv4 headers are read aligned. */
	size_t room = len >= NC_ETH_HLEN && frame[12] == 0x86 && frame[13] == 0xdd ? 6 : 2;
	if (ip)   /* no Ethernet header: the IP header itself goes on the boundary */
		room = (frame[0] >> 4) == 6 ? 4 : 0;
	p = pbuf_alloc(PBUF_RAW, (u16_t)(plen + room), PBUF_RAM);
	if (!p) {
		svc->ctr.rx_frames_bad++;
		return;
	}
	pbuf_remove_header(p, room);
	memcpy(p->payload, frame, len);
	if (plen > len)
		memset((uint8_t *)p->payload + len, 0, plen - len);
	input_pbuf(svc, p);
}

/*
 * Zero-copy receive (link.h, struct nc_link_rx_zc): the link reads a large frame straight
 * into the memory of a custom pbuf (lwIP's documented way for zero-copy drivers), which
 * is shrunk to the frame and handed to lwIP instead of being copied into a new pbuf.
 * Not with --link-fault (faults work on frames the service copies).
 */
struct rx_zc_buf {
	struct pbuf_custom pc;    /* first: the pbuf is the buffer's address */
	uint8_t data[];
};

static void rx_zc_free(struct pbuf *p)
{
	free(p);
}

static uint8_t *rx_zc_alloc(void *ctx, size_t len, void **handle)
{
	struct rx_zc_buf *b = malloc(sizeof(*b) + len);

	(void)ctx;
	*handle = b;
	return b ? b->data : NULL;
}

static void rx_zc_release(void *ctx, void *handle)
{
	(void)ctx;
	free(handle);
}

static void rx_zc_give(void *ctx, void *handle, const uint8_t *frame, size_t len)
{
	struct nc_service *svc = ctx;
	struct rx_zc_buf *b = handle, *nb;
	size_t off = (size_t)(frame - b->data);
	struct pbuf *p;

	if (svc->capture)
		nc_capture_frame_linear(svc, frame, len);
	if (len < 60 || len > frame_max(svc)) {
		svc->ctr.rx_frames_bad++;
		free(b);
		return;
	}
	nb = realloc(b, sizeof(*b) + off + len);   /* shrinks; contents kept even if it moves */
	if (nb)
		b = nb;
	p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &b->pc, b->data + off, (u16_t)len);
	if (!p) {
		svc->ctr.rx_frames_bad++;
		free(b);
		return;
	}
	b->pc.custom_free_function = rx_zc_free;
	input_pbuf(svc, p);
}

static const struct nc_link_rx_zc stack_rx_zc = {
	.alloc = rx_zc_alloc,
	.give = rx_zc_give,
	.release = rx_zc_release,
};

/* Frames lwIP looped back to our own address: with TCP checksums left to the link they
 * carry none, and they never left this process. */
static void poll_loopback(struct nc_service *svc)
{
	unsigned saved = svc->netif.chksum_flags;

	if (stack_offload & NC_LINK_OFF_TX_CSUM)
		NETIF_SET_CHECKSUM_CTRL(&svc->netif, saved & ~NETIF_CHECKSUM_CHECK_TCP);
	netif_poll(&svc->netif);
	NETIF_SET_CHECKSUM_CTRL(&svc->netif, saved);
}

/*
 * tw_cap() - at most NC_TW_MAX connections in TIME_WAIT: the oldest beyond end early, as
 * Linux's tcp_max_tw_buckets ends them. Before lwIP patch 0007 (a hash of four-tuples)
 * lwIP found the connection of every SYN to a listener by walking its TIME_WAIT list,
 * and a server under connection churn (500/s, 60 s of TIME_WAIT: ~30,000) spent 80% of
 * its CPU there; the cap stays to bound what TIME_WAIT holds. The list is newest first: everything past the cap goes, silently (a TIME_WAIT
 * pcb is freed without a RST). Checked at most every 100 ms.
 */
static void tw_cap(struct nc_service *svc)
{
	static u32_t last;
	struct tcp_pcb *p = tcp_tw_pcbs;
	u32_t now = sys_now();
	int n = 0;

	if (now - last < 100)
		return;
	last = now;
	while (p && n < NC_TW_MAX) {
		p = p->next;
		n++;
	}
	while (p) {
		struct tcp_pcb *next = p->next;
		tcp_abort(p);
		svc->ctr.tw_ended++;
		p = next;
	}
}

/* The millisecond retransmission timer (tcp_rto_tmr, tcp_rto_sleeptime) comes with lwIP
 * patch 0003 (lwip/patches/, docs/lwip-patches.md), which also defines TCP_RTO_CALC in
 * tcp_priv.h. A tree patched only up to 0002, built to reproduce the first rows of that
 * page's measurements, has neither: lwIP's slow timer alone then times retransmissions. */
#ifdef TCP_RTO_CALC
#define NC_RTO_TMR 1
#else
#define NC_RTO_TMR 0
#endif

/* Work lwIP wants done outside of callbacks: frames looped back to our own address, and
 * expired timers. */
void nc_stack_poll(struct nc_service *svc)
{
	poll_loopback(svc);
	sys_check_timeouts();
#if NC_RTO_TMR
	tcp_rto_tmr();
#endif
	poll_loopback(svc);
	tw_cap(svc);
}

int nc_stack_timeout_ms(struct nc_service *svc)
{
	u32_t ms = sys_timeouts_sleeptime();

	(void)svc;
#if NC_RTO_TMR
	u32_t rto = tcp_rto_sleeptime(); /* retransmission timers in ms */
	if (rto < ms)
		ms = rto;
#endif
	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

void nc_stack_ip6_list(struct nc_service *svc, struct nc_ip6_prefix *out, int max, uint8_t *n)
{
	int k = 0;

	*n = 0;
	if (max <= 0 || !ip6_addr_isvalid(netif_ip6_addr_state(&svc->netif, 0)))
		return;
	memset(&out[0], 0, sizeof(out[0]));
	memcpy(out[0].addr, netif_ip6_addr(&svc->netif, 0)->addr, 16);
	out[0].prefix = 64;
	k = 1;
	for (int i = 0; i < svc->cfg.n_ip6 && k < max; i++, k++) {
		memset(&out[k], 0, sizeof(out[k]));
		memcpy(out[k].addr, &svc->cfg.ip6[i], 16);
		out[k].prefix = (uint8_t)svc->cfg.prefix6[i];
	}
	*n = (uint8_t)k;
}
