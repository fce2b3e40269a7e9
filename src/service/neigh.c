/*
 * neigh.c — our IPv4 address against the rest of the virtual network: conflicts and the
 * neighbour cache.
 *
 * Theory of operation. Two services given the same IPv4 address break the network
 * silently: each announces itself, every peer's ARP cache follows the last announcement,
 * and when one of them exits its peers keep sending to a MAC that is gone until their
 * cache entries age out (five minutes in lwIP, as in Linux's default). RFC 5227 gives the
 * remedy, kept here to what a virtual LAN needs:
 *
 *  - Probe before use. Before the stack is up, the service sends an ARP probe (sender
 *    address 0.0.0.0, target our address: it changes nobody's cache) and listens on the
 *    link for --probe-ms milliseconds (default NC_PROBE_MS_DEFAULT). Any ARP from another
 *    MAC that claims our address (a reply to the probe, or another service's own probe
 *    or announcement) means the address is taken: the service refuses to start, naming
 *    the holder's MAC. No frame reaches lwIP meanwhile (nc_stack_input() hands them
 *    here), so lwIP never announces a taken address.
 *  - Announce once up. nc_stack_init() sends a gratuitous ARP, so peers whose caches
 *    still hold an old MAC for our address (a service that used it before) heal at once.
 *  - Detect and defend while running. Every ARP frame received is looked at (a compare
 *    of the EtherType for other frames): one whose sender claims our address from
 *    another MAC is a conflict, counted in `netcon status`, logged (at most once every
 *    NC_CONFLICT_LOG_MS per MAC), and answered with gratuitous ARPs of our own, one every
 *    NC_DEFEND_MS for NC_DEFEND_FOR_MS after the last conflict seen. Answering once is
 *    not enough: the other side may announce after our answer, and when it goes away
 *    (killed, or stopped) the peers' caches would keep its MAC for minutes. With the
 *    repeated announcements they point back at us within NC_DEFEND_MS of its last word.
 *
 * IPv6 (--ip6 addresses; the link-local one comes from our random MAC) works the same
 * with Neighbor Discovery (RFC 4862's duplicate address detection, condensed): the probe
 * is a Neighbor Solicitation from :: to the address's solicited-node group, a claim is a
 * Neighbor Advertisement for our address from another MAC (or another prober's
 * solicitation while we probe), and announcements are unsolicited advertisements with
 * the override flag to all nodes. lwIP's own DAD stays off
 * (LWIP_IPV6_DUP_DETECT_ATTEMPTS 0): it would hold the address tentative for a second.
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "lwip/etharp.h"
#include "lwip/priv/nd6_priv.h"

#include "addr.h"
#include "log.h"

#define NC_CONFLICT_LOG_MS 10000
#define NC_DEFEND_MS       1000
#define NC_DEFEND_FOR_MS   10000

#define ETH_P_ARP_HI 0x08
#define ETH_P_ARP_LO 0x06
#define ARP_LEN      28     /* Ethernet/IPv4 ARP payload */
#define IP6_HLEN     40
#define ND_NS        135    /* ICMPv6 Neighbor Solicitation */
#define ND_NA        136    /* ICMPv6 Neighbor Advertisement */
#define ND_LEN       24     /* type, code, checksum, flags/reserved, target */
#define ND_NA_OVERRIDE 0x20

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * arp_claim() - if frame is an Ethernet/IPv4 ARP packet whose sender claims our IPv4
 * address, say which address in what and return its slot (0); else -1.
 */
static int arp_claim(const struct nc_service *svc, const uint8_t *frame, size_t len,
		     char *what, size_t wlen)
{
	const uint8_t *a = frame + NC_ETH_HLEN;

	if (svc->cfg.ip.s_addr == 0 || len < NC_ETH_HLEN + ARP_LEN)
		return -1;
	/* hardware Ethernet (1), protocol IPv4, lengths 6 and 4 */
	if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0 || a[4] != 6 || a[5] != 4)
		return -1;
	if (memcmp(a + 14, &svc->cfg.ip.s_addr, 4) != 0)
		return -1;
	inet_ntop(AF_INET, a + 14, what, (socklen_t)wlen);
	return 0;
}

/* Index of a among our --ip6 addresses, or -1. */
static int ip6_index(const struct nc_service *svc, const uint8_t *a)
{
	for (int i = 0; i < svc->cfg.n_ip6; i++)
		if (memcmp(&svc->cfg.ip6[i], a, 16) == 0)
			return i;
	return -1;
}

/*
 * nd_claim() - if frame is a Neighbor Advertisement for one of our --ip6 addresses (or,
 * while we probe, another prober's solicitation for one), say which address in what and
 * return its slot (1 + its --ip6 index); else -1. Only ICMPv6 right after the IPv6 header: ND messages carry no extension
 * headers in practice, and a claim we miss costs a warning, not a packet.
 */
static int nd_claim(const struct nc_service *svc, const uint8_t *frame, size_t len,
		    char *what, size_t wlen)
{
	const uint8_t *ip = frame + NC_ETH_HLEN, *icmp = ip + IP6_HLEN;
	static const uint8_t any[16];
	int i;

	if (svc->cfg.n_ip6 == 0 || len < NC_ETH_HLEN + IP6_HLEN + ND_LEN)
		return -1;
	if ((ip[0] >> 4) != 6 || ip[6] != 58 || ip[7] != 255)
		return -1;
	if (icmp[0] == ND_NS && !(svc->probing && memcmp(ip + 8, any, 16) == 0))
		return -1;
	if ((icmp[0] != ND_NA && icmp[0] != ND_NS) || (i = ip6_index(svc, icmp + 8)) < 0)
		return -1;
	inet_ntop(AF_INET6, icmp + 8, what, (socklen_t)wlen);
	return 1 + i;
}

/* Send a linear frame on the link now. */
static void send_now(struct nc_service *svc, uint8_t *f, size_t len)
{
	struct iovec iov = { .iov_base = f, .iov_len = len };

	nc_stack_link_send(svc, &iov, 1);
	if (svc->link->ops->flush)
		svc->link->ops->flush(svc->link);
}

/* Send an ARP probe for our address: sender 0.0.0.0, target hardware address zero. */
static void send_arp_probe(struct nc_service *svc)
{
	uint8_t f[60] = { 0 };
	uint8_t *a = f + NC_ETH_HLEN;

	memset(f, 0xff, 6);
	memcpy(f + 6, svc->cfg.mac, 6);
	f[12] = ETH_P_ARP_HI;
	f[13] = ETH_P_ARP_LO;
	a[1] = 1;           /* Ethernet */
	a[2] = 0x08;        /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;           /* request */
	memcpy(a + 8, svc->cfg.mac, 6);
	memcpy(a + 24, &svc->cfg.ip.s_addr, 4);
	send_now(svc, f, sizeof(f));
}

/* The ICMPv6 checksum of icmp (len bytes, checksum field zero) from src to dst. */
static uint16_t icmp6_checksum(const uint8_t *src, const uint8_t *dst, const uint8_t *icmp,
			       size_t len)
{
	uint32_t sum = (uint32_t)len + 58;

	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
	if (len & 1)
		sum += (uint32_t)icmp[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * send_nd() - one Neighbor Discovery message about target, built in place: a DAD probe
 * (NS from :: to the solicited-node group) or an unsolicited NA with the override flag
 * and our MAC, from target to all nodes.
 */
static void send_nd(struct nc_service *svc, int type, const uint8_t *target)
{
	uint8_t f[NC_ETH_HLEN + IP6_HLEN + ND_LEN + 8] = { 0 };
	uint8_t *ip = f + NC_ETH_HLEN, *icmp = ip + IP6_HLEN, *src = ip + 8, *dst = ip + 24;
	size_t ilen = type == ND_NA ? ND_LEN + 8 : ND_LEN;
	uint16_t ck;

	f[0] = f[1] = 0x33;
	if (type == ND_NS) {
		dst[0] = 0xff, dst[1] = 0x02, dst[11] = 1, dst[12] = 0xff;
		memcpy(dst + 13, target + 13, 3);
	} else {
		dst[0] = 0xff, dst[1] = 0x02, dst[15] = 1;
		memcpy(src, target, 16);
		icmp[4] = ND_NA_OVERRIDE;
		icmp[24] = 2;   /* target link-layer address option, 8 bytes */
		icmp[25] = 1;
		memcpy(icmp + 26, svc->cfg.mac, 6);
	}
	memcpy(f + 2, dst + 12, 4);
	memcpy(f + 6, svc->cfg.mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = (uint8_t)ilen;
	ip[6] = 58;
	ip[7] = 255;
	icmp[0] = (uint8_t)type;
	memcpy(icmp + 8, target, 16);
	ck = icmp6_checksum(src, dst, icmp, ilen);
	icmp[2] = (uint8_t)(ck >> 8);
	icmp[3] = (uint8_t)ck;
	send_now(svc, f, NC_ETH_HLEN + IP6_HLEN + ilen);
}

/* Announce every address we hold: a gratuitous ARP, an unsolicited NA per --ip6. */
void nc_neigh_announce(struct nc_service *svc)
{
	if (svc->cfg.ip.s_addr)
		etharp_gratuitous(&svc->netif);
	for (int i = 0; i < svc->cfg.n_ip6; i++)
		send_nd(svc, ND_NA, svc->cfg.ip6[i].s6_addr);
}

int nc_neigh_probe(struct nc_service *svc, char *err, size_t errlen)
{
	struct epoll_event evs[16];
	uint64_t end;
	char mac[32];

	if (svc->cfg.probe_ms <= 0 || (svc->cfg.ip.s_addr == 0 && svc->cfg.n_ip6 == 0))
		return 0;
	svc->probing = 1;
	if (svc->cfg.ip.s_addr)
		send_arp_probe(svc);
	for (int i = 0; i < svc->cfg.n_ip6; i++)
		send_nd(svc, ND_NS, svc->cfg.ip6[i].s6_addr);
	end = now_ms() + (uint64_t)svc->cfg.probe_ms;
	for (int turns = 0; turns < 10000 && !svc->probe_conflict; turns++) {
		uint64_t t = now_ms();
		int n;

		if (t >= end)
			break;
		n = epoll_wait(svc->epfd, evs, 16, (int)(end - t));
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct nc_handler *h = evs[i].data.ptr;

			if (h->type == NC_H_LINK && svc->link->ops->input(svc->link) < 0)
				break;
			if (h->type == NC_H_SIGNAL) {
				svc->probing = 0;
				snprintf(err, errlen, "stopped by a signal while probing for "
					 "our addresses");
				return -EINTR;
			}
		}
	}
	svc->probing = 0;
	if (!svc->probe_conflict)
		return 0;
	snprintf(err, errlen, "address %s is already in use on the virtual network (by MAC %s); "
		 "choose another address, or stop the service that holds it",
		 svc->neigh_what, nc_mac_str(svc->neigh_mac, mac, sizeof(mac)));
	return -EADDRINUSE;
}

void nc_neigh_observe(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	char what[INET6_ADDRSTRLEN];
	const uint8_t *mac = frame + 6;   /* the Ethernet source */
	uint64_t t;
	int slot = -1;

	if (len < NC_ETH_HLEN || memcmp(mac, svc->cfg.mac, 6) == 0)
		return;
	if (frame[12] == ETH_P_ARP_HI && frame[13] == ETH_P_ARP_LO)
		slot = arp_claim(svc, frame, len, what, sizeof(what));
	else if (frame[12] == 0x86 && frame[13] == 0xdd)
		slot = nd_claim(svc, frame, len, what, sizeof(what));
	if (slot < 0)
		return;
	if (svc->probing) {
		svc->probe_conflict = 1;
		memcpy(svc->neigh_mac, mac, 6);
		snprintf(svc->neigh_what, sizeof(svc->neigh_what), "%s", what);
		return;
	}
	svc->ctr.addr_conflicts++;
	t = now_ms();
	struct nc_conflict_log *cl = &svc->conflict_log[slot];
	if (memcmp(mac, cl->mac, 6) != 0 || t - cl->at >= NC_CONFLICT_LOG_MS || cl->at == 0) {
		char m[32];

		nc_warn("address conflict: %s is also claimed by MAC %s on the virtual network; "
			"announcing ours (one of the two services must change its address)",
			what, nc_mac_str(mac, m, sizeof(m)));
		memcpy(cl->mac, mac, 6);
		cl->at = t;
	}
	/* Announced from the event loop (nc_neigh_poll), outside lwIP's input path. */
	svc->conflict_until = t + NC_DEFEND_FOR_MS;
}

void nc_neigh_poll(struct nc_service *svc)
{
	uint64_t t;

	if (!svc->conflict_until)
		return;
	t = now_ms();
	if (t >= svc->conflict_until) {
		svc->conflict_until = 0;
		return;
	}
	if (t - svc->conflict_defended >= NC_DEFEND_MS) {
		svc->conflict_defended = t;
		nc_neigh_announce(svc);
	}
}

int nc_neigh_timeout_ms(struct nc_service *svc, int timeout)
{
	uint64_t t, next;

	if (!svc->conflict_until)
		return timeout;
	t = now_ms();
	next = svc->conflict_defended + NC_DEFEND_MS;
	if (next <= t)
		return 0;
	if (timeout < 0 || next - t < (uint64_t)timeout)
		return (int)(next - t);
	return timeout;
}

/* The neighbour caches (ARP, then IPv6 ND) as `netcon status` lines. */
void nc_neigh_describe(struct nc_service *svc, char *buf, size_t len)
{
	size_t used = 0;
	char a[INET6_ADDRSTRLEN], m[32];

	buf[0] = '\0';
	for (size_t i = 0; i < ARP_TABLE_SIZE && used < len; i++) {
		ip4_addr_t *ip;
		struct netif *nif;
		struct eth_addr *eth;

		if (!etharp_get_entry(i, &ip, &nif, &eth))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "neighbour %s mac %s\n",
					 inet_ntop(AF_INET, &ip->addr, a, sizeof(a)),
					 nc_mac_str(eth->addr, m, sizeof(m)));
	}
	for (int i = 0; i < LWIP_ND6_NUM_NEIGHBORS && used < len; i++) {
		const struct nd6_neighbor_cache_entry *e = &neighbor_cache[i];

		if (e->state == ND6_NO_ENTRY || e->state == ND6_INCOMPLETE)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "neighbour %s mac %s\n",
					 inet_ntop(AF_INET6, e->next_hop_address.addr, a, sizeof(a)),
					 nc_mac_str(e->lladdr, m, sizeof(m)));
	}
	if (used >= len && len > 0)
		buf[len - 1] = '\0';
	(void)svc;
}
