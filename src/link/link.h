/*
 * link.h — where the service's Ethernet frames go. One ops table, one file per link
 * (vxlan.c, tap.c, wireguard.c). An IP-level link (nc_link.ip_level: wireguard.c) carries
 * bare IPv4/IPv6 packets instead of frames: no Ethernet header, no ARP or neighbour
 * discovery; "frame" below then means "IP packet". lwIP does not know which link it has: the service hands each outgoing
 * frame to link->ops->send() and the link hands each received frame to link->deliver().
 *
 * A link owns one pollable fd. The service's event loop calls ops->input() when it is
 * readable; input() reads every frame that is waiting (in batches), calls deliver() for
 * each well-formed one and counts the rest in stats. ops->flush() (may be NULL) is called
 * before the loop sleeps, for links that batch their sends.
 *
 * Offloads (the TAP link only; see tap.c): a link may exchange TCP frames larger than the
 * MTU and frames whose TCP checksum is left to someone else. The service asks for them
 * with ops->set_offload() once its own needs are known (not with --link-fault, whose
 * corruption must be caught by checksums) and adapts lwIP to what the link granted:
 *   NC_LINK_OFF_RX_CSUM  deliver() may hand over frames whose TCP/UDP checksum must not be
 *                        verified (the local kernel left it partial, or verified it):
 *                        nc_link.rx_flags has NC_LINK_RX_CSUM_OK during that deliver();
 *   NC_LINK_OFF_RX_GSO   deliver() may hand over TCP segments larger than the MTU (up to
 *                        65,535 bytes, coalesced by the kernel): NC_LINK_RX_GSO;
 *   NC_LINK_OFF_TX_CSUM  send() fills the TCP checksum of every TCP frame itself (the
 *                        peer completes it): lwIP may leave it zero;
 *   NC_LINK_OFF_TX_GSO   send() merges consecutive segments of one TCP stream into one
 *                        large frame the kernel segments again; flush() must be called.
 */
#ifndef NETCON_LINK_H
#define NETCON_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Big-endian fields of a frame (network byte order, unaligned). */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#define NC_ETH_HLEN         14
#define NC_MTU_MIN          576
#define NC_VXLAN_HLEN       8
#define NC_VXLAN_PORT       4789
#define NC_VXLAN_MAX_PEERS  64
#define NC_VXLAN_FDB_SIZE   1024   /* learned MAC → peer entries */
#define NC_VXLAN_FDB_AGE_MS (300 * 1000)

struct nc_link_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped;   /* malformed, wrong VNI, too large, from an unknown sender */
	uint64_t tx_dropped;   /* send failed (buffer full, no route) */
};

struct nc_link;
struct nc_fault;
typedef void (*nc_link_deliver_fn)(void *ctx, const uint8_t *frame, size_t len);

struct nc_link_ops {
	const char *name;
	/* Send one Ethernet frame given as an iovec. 0, or a negative errno (counted). */
	int (*send)(struct nc_link *l, const struct iovec *iov, int iovcnt);
	/* The fd is readable: read and deliver all waiting frames. 0 or a negative errno
	 * for a fatal error of the link. */
	int (*input)(struct nc_link *l);
	/* Flush batched sends, if any (NULL when the link sends at once). */
	void (*flush)(struct nc_link *l);
	/* One or more lines describing the link (peers, learned MACs) for `netcon status`. */
	void (*describe)(struct nc_link *l, char *buf, size_t len);
	void (*close)(struct nc_link *l);
	/* Turn offloads on (NC_LINK_OFF_* in want) or off; returns those now in force.
	 * NULL for a link without any. */
	unsigned (*set_offload)(struct nc_link *l, unsigned want);
	/* Timers of the link's own (NULL for none): poll() runs what is due, once per turn
	 * of the event loop; timeout_ms() is how long the loop may sleep for them. */
	void (*poll)(struct nc_link *l);
	int (*timeout_ms)(struct nc_link *l);
	/* An IP-level link's routing: can a packet to addr (AF_INET: 4 bytes, AF_INET6: 16)
	 * leave on this link at all? 1 or 0. NULL for an Ethernet link, where neighbour
	 * discovery answers that. */
	int (*reaches)(struct nc_link *l, int family, const uint8_t *addr);
};

#define NC_LINK_OFF_RX_CSUM 0x1u
#define NC_LINK_OFF_RX_GSO  0x2u
#define NC_LINK_OFF_TX_CSUM 0x4u
#define NC_LINK_OFF_TX_GSO  0x8u

#define NC_LINK_RX_CSUM_OK  0x1u   /* do not verify this frame's TCP/UDP checksum */
#define NC_LINK_RX_GSO      0x2u   /* a coalesced TCP segment: may exceed the MTU */

/* Optional zero-copy receive, offered by the service (nc_link.rx_zc; NULL for none, and
 * never with --link-fault): alloc() returns a buffer for a frame of up to len bytes and
 * names it in *handle (NULL when out of memory); give() hands over a buffer now holding a
 * frame of len bytes at frame (inside the buffer: after a link's own header, for one),
 * which the service owns from then on (nc_link.rx_flags apply as for deliver());
 * release() returns a buffer unused. A link may still deliver() any frame. */
struct nc_link_rx_zc {
	uint8_t *(*alloc)(void *ctx, size_t len, void **handle);
	void (*give)(void *ctx, void *handle, const uint8_t *frame, size_t len);
	void (*release)(void *ctx, void *handle);
};

struct nc_link {
	const struct nc_link_ops *ops;
	int fd;                      /* the pollable fd */
	int max_mtu;                 /* the largest IP MTU this link can carry */
	int ip_level;                /* frames are IP packets (no Ethernet header) */
	struct nc_link_stats stats;
	nc_link_deliver_fn deliver;
	void *ctx;                   /* passed to deliver */
	void *priv;                  /* the link's own state */
	unsigned rx_flags;           /* NC_LINK_RX_*: the frame being delivered (else 0) */
	const struct nc_link_rx_zc *rx_zc;   /* set by the service, may be NULL */
	/* --link-fault on the wire: a link that sets wire_faults at open injects the faults
	 * into the datagrams it sends and receives itself (wireguard.c: the encrypted ones),
	 * and the service then gives it its nc_fault in fault (else NULL) instead of
	 * injecting them into frames. */
	int wire_faults;
	struct nc_fault *fault;
};

struct nc_vxlan_config {
	struct sockaddr_storage bind;
	socklen_t bind_len;
	struct sockaddr_storage peers[NC_VXLAN_MAX_PEERS];
	socklen_t peer_lens[NC_VXLAN_MAX_PEERS];
	int npeers;
	uint32_t vni;                /* 0 .. 2^24-1 */
};

/* Open a link. `mtu` is the IP MTU the service will use; a link that cannot carry it
 * fails with -EMSGSIZE. On success *out is set and 0 returned; else a negative errno and
 * a message in err (errlen bytes) naming what was wrong. */
int nc_link_vxlan_open(struct nc_link **out, const struct nc_vxlan_config *cfg, int mtu,
		       nc_link_deliver_fn deliver, void *ctx, char *err, size_t errlen);
int nc_link_tap_open(struct nc_link **out, const char *ifname, int mtu,
		     nc_link_deliver_fn deliver, void *ctx, char *err, size_t errlen);
/* WireGuard (wireguard.c): an IP-level link; cfg is read (the link keeps what it needs),
 * name names the interface in status lines. */
struct nc_wg_config;
int nc_link_wireguard_open(struct nc_link **out, const struct nc_wg_config *cfg,
			   const char *name, int mtu, nc_link_deliver_fn deliver, void *ctx,
			   char *err, size_t errlen);

/* The UAPI (wguapi.h): a snapshot of the link (-EINVAL if l is not WireGuard; free it
 * with nc_wg_state_free), a parsed set=1 request applied (0 or a negative errno and one
 * line in err; the listening socket, and so l->fd, may change), and one received
 * datagram handed to the receive path (for fuzzers). */
struct nc_wg_state;
struct nc_wg_uapi_set;
int nc_link_wireguard_state(struct nc_link *l, struct nc_wg_state *st);
int nc_link_wireguard_set(struct nc_link *l, const struct nc_wg_uapi_set *s, char *err,
			  size_t errlen);
void nc_link_wireguard_rx(struct nc_link *l, uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from);

/* TAP framing with a virtio_net_hdr (IFF_VNET_HDR), exported for tests and fuzzers: check
 * what read() returned from the device (header, then the Ethernet frame; len bytes) and
 * set *rx_flags (NC_LINK_RX_*). Returns the offset of the frame, or -EINVAL for a short
 * header or frame, unknown flags or GSO type, or GSO/checksum fields that do not match
 * the frame's own IPv4/IPv6 and TCP headers. */
int nc_tap_vnet_check(const uint8_t *buf, size_t len, unsigned *rx_flags);

/* VXLAN framing (RFC 7348), pure functions, exported for tests and fuzzers. */
void nc_vxlan_encode(uint8_t hdr[NC_VXLAN_HLEN], uint32_t vni);
/* Check a received UDP payload: length ≥ header + Ethernet header, I flag set, reserved
 * bits as the RFC requires receivers to ignore (not checked), VNI equal to want_vni.
 * Returns the offset of the inner frame (NC_VXLAN_HLEN) or -EINVAL. */
int nc_vxlan_decode(const uint8_t *buf, size_t len, uint32_t want_vni);

#endif /* NETCON_LINK_H */
