/*
 * lwipopts.h — netcon's compile-time configuration of lwIP.
 *
 * lwIP is used through its raw API only (NO_SYS=1): one thread, the service's event
 * loop, drives it. Memory comes from the C library (no fixed pools), so the number of
 * connections is bounded by netcon's own limits, not by lwIP's tables. Sizes are chosen
 * for throughput on a virtual link whose MTU can be as large as ~65 KiB; see
 * docs/architecture.md ("lwIP options") for the reasoning and docs/benchmarks.md for
 * the measurements behind it.
 */
#ifndef NETCON_LWIPOPTS_H
#define NETCON_LWIPOPTS_H

#define NO_SYS                      1
#define LWIP_TIMERS                 1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_NETIF_API              0

/* Memory: malloc everything; lwIP's pools would cap the connection count. */
#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (1024 * 1024)
#define PBUF_POOL_SIZE              64
#define PBUF_POOL_BUFSIZE           1600

/* Protocols. */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   0
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0
/* IPv6: static addresses (--ip6) plus the link-local one made from the MAC. Without
 * MLD lwIP still answers neighbour solicitations sent to its solicited-node groups (it
 * filters them itself); frames to 33:33:xx:xx:xx:xx are flooded by the vxlan link like
 * broadcasts. No DAD (the addresses are usable at once; the operator assigns them), no
 * router solicitations or autoconfiguration: the virtual link has no router. */
#define LWIP_IPV6_MLD               0
#define LWIP_IPV6_AUTOCONFIG        0
#define LWIP_IPV6_DHCP6             0
#define LWIP_IPV6_NUM_ADDRESSES     5   /* link-local + NC_MAX_IP6 (src/service/service.h) */
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_ND6_ALLOW_RA_UPDATES   0
#define LWIP_ND6_QUEUEING           1
#define MEMP_NUM_ND6_QUEUE          64
#define LWIP_IPV6_FRAG              1
#define LWIP_IPV6_REASS             1
#define IPV6_FRAG_COPYHEADER        1   /* 64-bit: reassembly asserts without it */
#define IP_FORWARD                  0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define IP_REASS_MAX_PBUFS          64
#define IP_SOF_BROADCAST            1
#define IP_DEFAULT_TTL              64  /* Linux's net.ipv4.ip_default_ttl */

#define ARP_TABLE_SIZE              64
#define ARP_QUEUEING                1
#define ARP_QUEUE_LEN               16
#define ETHARP_SUPPORT_STATIC_ENTRIES 1
#define LWIP_ND6_NUM_NEIGHBORS      32
#define LWIP_ND6_NUM_DESTINATIONS   32

/* TCP.
 * TCP_MSS is the largest MSS we will ever announce; the effective one follows the
 * netif's MTU (TCP_CALCULATE_EFF_SEND_MSS), so an MTU 1500 link uses 1460. */
#define TCP_MSS                     65495
#define TCP_CALCULATE_EFF_SEND_MSS  1
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               6
#define TCP_WND                     (2 * 1024 * 1024)
#define TCP_SND_BUF                 (256 * 1024)
#define TCP_SND_QUEUELEN            4096
#define TCP_SNDLOWAT                (64 * 1024)
#define TCP_SNDQUEUELOWAT           (TCP_SND_QUEUELEN / 2)
#define TCP_OOSEQ_MAX_BYTES         (4 * 1024 * 1024)
#define TCP_OOSEQ_MAX_PBUFS         4096
#define TCP_QUEUE_OOSEQ             1
#define LWIP_TCP_SACK_OUT           1
#define LWIP_TCP_MAX_SACK_NUM       4
#define TCP_LISTEN_BACKLOG          1
#define TCP_DEFAULT_LISTEN_BACKLOG  0xff
#define LWIP_TCP_KEEPALIVE          1
#define LWIP_TCP_TIMESTAMPS         0
#define TCP_OVERSIZE                TCP_MSS
#define TCP_MAXRTX                  12
#define TCP_SYNMAXRTX               6
/* Loss recovery (lwip/patches/, one change per patch; docs/lwip-patches.md): the
 * retransmission timer counts milliseconds (0003): 1 s before the first RTT sample (RFC
 * 6298), then SRTT + max(4 RTTVAR, 200 ms) (Linux's floor: above a peer's delayed ACK).
 * Before it, up to 3 probes (0005), the first after max(2 SRTT, 5 ms) (+ 200 ms when one
 * segment is in flight: the peer may delay its ACK), each next one after twice the wait.
 * 16 quick ACKs after a segment out of order (0004). */
#define LWIP_TCP_RTO_TIME           1000
#define TCP_RTO_MIN_MS              200
#ifndef TCP_PROBE_MIN_MS   /* -D to reproduce docs/lwip-patches.md's tuning rows */
#define TCP_PROBE_MIN_MS            5
#endif
#ifndef TCP_PROBE_MAX
#define TCP_PROBE_MAX               3
#endif
#ifndef TCP_PROBE_DELACK_MS
#define TCP_PROBE_DELACK_MS         200
#endif
#define TCP_QUICKACK_SEGS           16
/* TIME_WAIT lasts 2 × TCP_MSL: 60 s, as on Linux (lwIP's default is 120 s). */
#define TCP_MSL                     30000UL
/* Ephemeral ports 32768..65535 (lwIP's default is the upper quarter only): a busy client
 * reuses a port later, so a server's TIME_WAIT for it has more time to end. */
#define TCP_LOCAL_PORT_RANGE_START        0x8000
#define TCP_LOCAL_PORT_RANGE_END          0xffff
#define TCP_ENSURE_LOCAL_PORT_RANGE(port) \
	((u16_t)(((port) & (u16_t)~TCP_LOCAL_PORT_RANGE_START) + TCP_LOCAL_PORT_RANGE_START))
/* lwIP's TCP timers: the fast one retries what could not be sent, the slow one (twice
 * the interval) runs keepalive, persist, TIME_WAIT and the give-up counts. Both walk every
 * pcb: at 40 ms they cost 1.8% CPU per service holding 10,000 idle connections. The
 * patches above move what needs precision off them (retransmission timeouts and probes,
 * 0003 and 0005; delayed ACKs after TCP_DELACK_MS, Linux's 40 ms, 0006), so they run at
 * lwIP's default 250 ms. The timer runs only while connections exist. A tree patched only
 * up to 0005 sends delayed ACKs on the fast timer: docs/lwip-patches.md's rows for those
 * were measured with OPT='-O2 -g -DTCP_TMR_INTERVAL=100'. */
#ifndef TCP_TMR_INTERVAL
#define TCP_TMR_INTERVAL            250
#endif
#define TCP_DELACK_MS               40
#define SO_REUSE                    1
#define LWIP_CALLBACK_API           1
/* MSS > ~16000 cannot pass init.c's TCP_SNDLOWAT check; the real constraints are checked
 * by hand in src/service/stack.c (static_asserts). */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

/* A SYN for the 4-tuple of a connection in TIME_WAIT ends the TIME_WAIT (see
 * netcon_tcp_inpacket() in src/service/stack.c); lwIP alone answers it with RST when it
 * falls in the old window, and the client sees ECONNREFUSED. */
#ifndef __ASSEMBLER__
struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
int netcon_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, struct pbuf *p);
#endif
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	netcon_tcp_inpacket((pcb), (hdr), (p))

/* TCP initial sequence numbers as RFC 6528: a 4 µs clock plus SipHash-2-4 of the
 * four-tuple under a secret drawn at start (netcon_tcp_isn() in src/service/isn.c); lwIP's
 * own is a counter that a blind attacker can guess (docs/security.md). */
#ifndef __ASSEMBLER__
#include <stdint.h>
struct ip_addr;
uint32_t netcon_tcp_isn(const struct ip_addr *local_ip, uint16_t local_port,
			const struct ip_addr *remote_ip, uint16_t remote_port);
#endif
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
	netcon_tcp_isn((local_ip), (local_port), (remote_ip), (remote_port))

/* lwIP finds a segment's pcb in a hash of its four-tuple (patch 0007); the hash is
 * SipHash-2-4 under a secret of its own drawn at start (netcon_tcp_hash() in
 * src/service/isn.c), so that a peer cannot choose addresses and ports that share a
 * bucket. The table grows with the pcbs (from TCP_HASH_MIN buckets). */
#ifndef __ASSEMBLER__
uint32_t netcon_tcp_hash(const struct ip_addr *local_ip, uint16_t local_port,
			 const struct ip_addr *remote_ip, uint16_t remote_port);
#endif
#define LWIP_HOOK_TCP_HASH(local_ip, local_port, remote_ip, remote_port) \
	netcon_tcp_hash((local_ip), (local_port), (remote_ip), (remote_port))
#define TCP_HASH_MIN                64
#define TCP_LISTEN_HASH_SIZE        64

/* ICMP errors for connected UDP sockets (netcon_ip4_input() in src/service/udp.c); it
 * only looks, never eats. Ephemeral UDP ports as Linux's: 32768-60999 is close enough. */
#ifndef __ASSEMBLER__
struct netif;
int netcon_ip4_input(struct pbuf *p, struct netif *inp);
#endif
#define LWIP_HOOK_IP4_INPUT(p, inp) netcon_ip4_input((p), (inp))
#define UDP_LOCAL_PORT_RANGE_START  0x8000
#define UDP_LOCAL_PORT_RANGE_END    0xffff
#define UDP_ENSURE_LOCAL_PORT_RANGE(port) \
	((u16_t)(((port) & (u16_t)~UDP_LOCAL_PORT_RANGE_START) + UDP_LOCAL_PORT_RANGE_START))

/* lwIP treats only the /64 of a static IPv6 address as on-link; netcon_nd6_gw() makes the
 * whole --ip6 prefix on-link (any length), so its hosts are found by neighbour
 * discovery rather than through a router the virtual link does not have. */
#ifndef __ASSEMBLER__
struct ip6_addr;
const struct ip6_addr *netcon_nd6_gw(struct netif *netif, const struct ip6_addr *dest);
#endif
#define LWIP_HOOK_ND6_GET_GW(netif, dest) netcon_nd6_gw((netif), (dest))

/* Netif. */
#define LWIP_SINGLE_NETIF           1
#define LWIP_NETIF_STATUS_CALLBACK  0
#define LWIP_NETIF_LINK_CALLBACK    0
#define LWIP_NETIF_HOSTNAME         0
#define LWIP_NETIF_TX_SINGLE_PBUF   0
#define LWIP_HAVE_LOOPIF            0
#define LWIP_NETIF_LOOPBACK         1   /* a program may connect to its own service's address */
#define LWIP_LOOPBACK_MAX_PBUFS     0

/* Checksums: generated and checked in software (frames may come from anywhere).
 * LWIP_CHKSUM is our vectorizable implementation (src/service/chksum.c). */
#define CHECKSUM_GEN_IP             1
#define CHECKSUM_GEN_UDP            1
#define CHECKSUM_GEN_TCP            1
#define CHECKSUM_GEN_ICMP           1
#define CHECKSUM_GEN_ICMP6          1
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_UDP          1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_ICMP         1
#define CHECKSUM_CHECK_ICMP6        1
#define LWIP_CHECKSUM_ON_COPY       0
/* Per-netif control: a link that offloads TCP checksums (the TAP link with virtio-net
 * headers, see src/link/tap.c) turns generation off, and frames the local kernel marked
 * as partial or verified skip the check (src/service/stack.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_CHKSUM                 netcon_chksum
#define LWIP_CHKSUM_ALGORITHM       0
#ifndef __ASSEMBLER__
#include <stdint.h>
uint16_t netcon_chksum(const void *data, int len);
#endif

/* No statistics or debug output from lwIP itself: netcon counts what it reports. */
#define LWIP_STATS                  0
#define LWIP_DEBUG                  0

#endif /* NETCON_LWIPOPTS_H */
