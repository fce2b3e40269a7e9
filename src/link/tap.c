/*
 * tap.c — the TAP link: the service's Ethernet frames through a Linux TAP device, where
 * the host's kernel, tcpdump, bridges and the real LAN meet the service.
 *
 * An administrator creates a persistent device once (`ip tuntap add NAME mode tap user
 * USER`); the service then opens it without privilege. A privileged service may also
 * create a transient device by opening a name that does not exist (it disappears when
 * the service exits). One file descriptor, frames without packet information (IFF_NO_PI):
 * each read() returns one frame, each write() sends one.
 *
 * DOC: Theory of operation — offloads.
 * At MTU 1500 the cost of this link was one read() or write() per 1,500-byte frame, and
 * on the kernel's side one pass of its TCP stack per frame (software segmentation on the
 * way to us, no GRO on the way from us). The device is therefore opened with
 * IFF_VNET_HDR: every frame read or written is preceded by a struct virtio_net_hdr, the
 * header a virtio NIC exchanges with its driver, which lets both sides skip work:
 *
 *  - receive: with TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) the kernel hands
 *    us its TCP super-segments (up to 64 KiB, gso_type/gso_size set) without cutting
 *    them, and frames whose checksum is partial (VIRTIO_NET_HDR_F_NEEDS_CSUM: only the
 *    pseudo-header sum is in the field) or already verified (DATA_VALID). Such frames
 *    come from the local kernel, which did not corrupt them in memory: they are
 *    delivered with NC_LINK_RX_CSUM_OK and lwIP does not verify their TCP/UDP checksum.
 *    A segment larger than the MTU is delivered whole (NC_LINK_RX_GSO): lwIP accepts a
 *    segment of any size that fits its window, and it must fit a 16-bit pbuf length.
 *    nc_tap_vnet_check() checks every header against the frame before anything is
 *    trusted; a frame that does not match is dropped and counted. So is a frame over
 *    65,535 bytes, which only a device configured for BIG TCP (gso_max_size above
 *    64 KiB, an administrator's choice) sends: leave that setting at its default.
 *  - send: lwIP still cuts its stream into MSS-sized segments (the netif's MTU is the
 *    real one, so IP fragmentation, UDP and ICMP are unchanged), but consecutive segments
 *    of one TCP stream handed to send() in one loop turn are merged here into one frame
 *    (same headers, contiguous sequence numbers, every segment but the last full-sized)
 *    written once with gso_type TCPV4/TCPV6 and gso_size = the segments' size: the
 *    kernel takes it as the receive of one GRO'd segment, or cuts it again if it forwards
 *    it. Every TCP frame leaves with NEEDS_CSUM and the pseudo-header sum in its checksum
 *    field (lwIP no longer computes TCP checksums, NETIF_CHECKSUM_GEN_TCP off), which the
 *    kernel completes only when a frame goes on to a real wire. The batch goes out when a
 *    frame that cannot join it is sent (order is kept), when it is full, after a segment
 *    with PSH or shorter than the others, and at the end of every loop turn (flush()).
 *
 * Offloads are asked for by the service (set_offload(), see link.h), never with
 * --link-fault: a corrupted frame must then fail a checksum as it would on a wire, and
 * a lost frame must be one frame. Without offloads the header is still there, all zero.
 * A kernel without IFF_VNET_HDR gets plain frames as before.
 *
 * Reentrancy: deliver() is called from input() and may call send(); send() writes the
 * caller's iovec or the batch buffer and never touches the receive buffer, so this is
 * safe. A nested input() returns 0 at once (it would overwrite the frame being
 * delivered). deliver() must not close the link.
 */
#include "link.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

#define TAP_MAX_MTU   65521   /* the tun driver's limit: 65535 - Ethernet header */
#define TAP_VNET_LEN  ((int)sizeof(struct virtio_net_hdr))
#define TAP_RX_BUFSZ  (128 * 1024)  /* more than any frame the device gives, so none is cut */
#define TAP_FRAME_MAX 0xffff        /* lwIP's pbuf lengths are 16-bit */
#define TAP_RX_BUDGET 256           /* frames per input() call, for fairness */
#define TAP_ZC_MIN    4096          /* smaller frames are copied, the buffer kept */
#define TAP_HDR_MAX   (NC_ETH_HLEN + 40 + 60)  /* Ethernet + IPv6 (or IPv4 + options) + TCP */
#define TAP_TXB_SZ    (NC_ETH_HLEN + 60 + 0xffff)
#define TAP_IP_MAX    0xffff        /* IPv4 total length, IPv6 payload length */

#define ETHT_IPV4  0x0800
#define ETHT_IPV6  0x86dd
#define TCPF_FIN 0x01
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

/* Where a TCP frame's headers are, as tcp_parse() found them. */
struct tcp_frame {
	int v6;
	size_t l4off;       /* TCP header */
	size_t hlen;        /* all headers: the payload starts here */
	size_t end;         /* where the IP packet ends (before any Ethernet padding) */
	size_t payload;
	uint32_t seq;
	uint8_t flags;
};

/* Consecutive TCP segments being merged into one GSO frame (len 0: none). */
struct tx_batch {
	uint8_t *buf;       /* the first segment's headers, then every segment's payload */
	size_t len;
	struct tcp_frame first;
	uint32_t next_seq;  /* the sequence number the next segment must have */
	size_t mss;         /* payload of each segment but the last: gso_size */
	size_t last_payload;
	uint8_t last_flags;
	unsigned nsegs;
	uint64_t bytes;     /* the segments' own frame lengths, for the stats */
};

struct tap {
	struct nc_link link;
	char ifname[IFNAMSIZ];
	int mtu;
	int in_input;
	int vnet;                 /* frames carry a struct virtio_net_hdr */
	unsigned offload;         /* NC_LINK_OFF_* in force */
	uint8_t *rx_buf;          /* TAP_RX_BUFSZ bytes */
	uint8_t *zc_buf;          /* the service's buffer for the next frame (rx_zc), or NULL */
	void *zc_handle;
	struct tx_batch txb;
};

/* Format an error message into err (which may be NULL). */
static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One's complement sum of n bytes (n even) in 16-bit big-endian words, unfolded. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * tcp_parse() - find the headers of an IPv4 or IPv6 TCP frame: h holds the first hn
 * bytes of a frame of len bytes. Returns 1 and fills *tf for a frame whose headers are
 * whole and consistent with len (IPv4 without fragmentation, IPv6 without extension
 * headers: what lwIP sends; padding only up to the 60-byte minimum frame), else 0.
 */
static int tcp_parse(const uint8_t *h, size_t hn, size_t len, struct tcp_frame *tf)
{
	size_t l4, doff, end;

	if (hn < NC_ETH_HLEN + 20)
		return 0;
	switch (rd16(h + 12)) {
	case ETHT_IPV4: {
		const uint8_t *ip = h + NC_ETH_HLEN;
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 6 || (rd16(ip + 6) & 0x3fff) ||
		    rd16(ip + 2) < ihl)
			return 0;
		tf->v6 = 0;
		l4 = NC_ETH_HLEN + ihl;
		end = NC_ETH_HLEN + rd16(ip + 2);
		break;
	}
	case ETHT_IPV6: {
		const uint8_t *ip = h + NC_ETH_HLEN;
		if (hn < NC_ETH_HLEN + 40 || (ip[0] >> 4) != 6 || ip[6] != 6)
			return 0;
		tf->v6 = 1;
		l4 = NC_ETH_HLEN + 40;
		end = l4 + rd16(ip + 4);
		break;
	}
	default:
		return 0;
	}
	/* The IP length must be the frame's, but for the padding of a minimum-size frame. */
	if (end > len || (end < len && len > 60))
		return 0;
	if (hn < l4 + 20)
		return 0;
	doff = (size_t)(h[l4 + 12] >> 4) * 4;
	if (doff < 20 || l4 + doff > end || l4 + doff > hn)
		return 0;
	tf->l4off = l4;
	tf->hlen = l4 + doff;
	tf->end = end;
	tf->payload = end - tf->hlen;
	tf->seq = rd32(h + l4 + 4);
	tf->flags = h[l4 + 13];
	return 1;
}

/* The pseudo-header sum of a TCP frame whose TCP header and payload are l4len bytes:
 * what goes in the checksum field of a NEEDS_CSUM frame (folded, not inverted). */
static uint16_t pseudo_sum(const uint8_t *f, const struct tcp_frame *tf, uint32_t l4len)
{
	uint32_t sum = 6;   /* IPPROTO_TCP */

	if (tf->v6)
		sum = sum16(f + NC_ETH_HLEN + 8, 32, sum);
	else
		sum = sum16(f + NC_ETH_HLEN + 12, 8, sum);
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	return fold(sum);
}

/* nc_tap_vnet_check() for a header h and a frame f of flen bytes held apart. */
static int vnet_check(const struct virtio_net_hdr *hp, const uint8_t *f, size_t flen,
		      unsigned *rx_flags)
{
	struct virtio_net_hdr h = *hp;
	unsigned gso, fl = 0;

	*rx_flags = 0;
	if (flen < NC_ETH_HLEN || flen > TAP_FRAME_MAX)
		return -EINVAL;
	if (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    gso != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EINVAL;
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = le16toh(h.csum_start), off = le16toh(h.csum_offset);
		if (start < NC_ETH_HLEN || (off & 1) || start + off + 2 > flen)
			return -EINVAL;
		fl |= NC_LINK_RX_CSUM_OK;
	}
	if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID)
		fl |= NC_LINK_RX_CSUM_OK;
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			return -EINVAL;   /* ECN without a GSO type */
	} else {
		struct tcp_frame tf;
		size_t hn = flen < TAP_HDR_MAX ? flen : TAP_HDR_MAX;
		if (!tcp_parse(f, hn, flen, &tf) || tf.end != flen ||
		    tf.v6 != (gso == VIRTIO_NET_HDR_GSO_TCPV6) ||
		    !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		    le16toh(h.csum_start) != tf.l4off || le16toh(h.csum_offset) != 16 ||
		    le16toh(h.gso_size) == 0 || le16toh(h.hdr_len) > flen || tf.payload == 0)
			return -EINVAL;
		fl |= NC_LINK_RX_GSO;
	}
	*rx_flags = fl;
	return 0;
}

int nc_tap_vnet_check(const uint8_t *buf, size_t len, unsigned *rx_flags)
{
	struct virtio_net_hdr h;

	*rx_flags = 0;
	if (len < (size_t)TAP_VNET_LEN + NC_ETH_HLEN)
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (vnet_check(&h, buf + TAP_VNET_LEN, len - TAP_VNET_LEN, rx_flags) < 0)
		return -EINVAL;
	return TAP_VNET_LEN;
}

/* Copy n bytes from offset off of an iovec into dst. Returns the bytes copied. */
static size_t iov_copy(uint8_t *dst, const struct iovec *iov, int iovcnt, size_t off, size_t n)
{
	size_t done = 0;

	for (int i = 0; i < iovcnt && done < n; i++) {
		size_t l = iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t c = l - off < n - done ? l - off : n - done;
		memcpy(dst + done, (const uint8_t *)iov[i].iov_base + off, c);
		done += c;
		off = 0;
	}
	return done;
}

/* Write one frame (iov, len bytes of it; vnet header in iov[0] when t->vnet) and count
 * nframes/bytes as sent or dropped. Returns 0, or a negative errno. */
static int tap_write(struct tap *t, const struct iovec *iov, int iovcnt, size_t len,
		     unsigned nframes, uint64_t bytes)
{
	struct nc_link *l = &t->link;
	ssize_t n;

	do
		n = writev(l->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		l->stats.tx_dropped += nframes;
		if (e != EAGAIN && e != ENOBUFS)
			nc_log_ratelimited(NC_LOG_DEBUG, "tap: frame of %zu bytes dropped: %s", len,
					   strerror(e));
		return -e;
	}
	l->stats.tx_frames += nframes;
	l->stats.tx_bytes += bytes;
	return 0;
}

/*
 * send_tcp_csum() - write one TCP frame (its headers, already copied into h, then the
 * rest of iov from tf->hlen on) with NEEDS_CSUM: the pseudo-header sum goes into a copy
 * of the header, the caller's buffers are not modified. Returns 0 or a negative errno.
 */
static int send_tcp_csum(struct tap *t, uint8_t *h, const struct tcp_frame *tf,
			 const struct iovec *iov, int iovcnt, size_t len)
{
	struct virtio_net_hdr vh;
	struct iovec v[66];
	int n = 0;
	size_t skip = tf->hlen;

	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = htole16((uint16_t)tf->l4off);
	vh.csum_offset = htole16(16);
	wr16(h + tf->l4off + 16, pseudo_sum(h, tf, (uint32_t)(tf->end - tf->l4off)));
	v[n++] = (struct iovec){ &vh, sizeof(vh) };
	v[n++] = (struct iovec){ h, tf->hlen };
	for (int i = 0; i < iovcnt; i++) {
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (n == (int)(sizeof(v) / sizeof(v[0])))
			return -EMSGSIZE;   /* stack.c never gives more than 64 pieces */
		v[n++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, l - skip };
		skip = 0;
	}
	return tap_write(t, v, n, len, 1, len);
}

/*
 * tap_flush() - write the batch: one segment as it came (with NEEDS_CSUM), several as
 * one GSO frame whose IP length, IPv4 header checksum, TCP flags (the last segment's)
 * and pseudo-header sum cover all of them.
 */
static void tap_flush(struct nc_link *l)
{
	struct tap *t = l->priv;
	struct tx_batch *b = &t->txb;
	const struct tcp_frame *tf = &b->first;
	struct virtio_net_hdr vh;
	uint8_t *f = b->buf, *ip = b->buf + NC_ETH_HLEN;
	struct iovec v[2];

	if (b->len == 0)
		return;
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = htole16((uint16_t)tf->l4off);
	vh.csum_offset = htole16(16);
	if (b->nsegs > 1) {
		if (tf->v6) {
			wr16(ip + 4, (uint16_t)(b->len - NC_ETH_HLEN - 40));
		} else {
			size_t ihl = tf->l4off - NC_ETH_HLEN;
			wr16(ip + 2, (uint16_t)(b->len - NC_ETH_HLEN));
			wr16(ip + 10, 0);
			wr16(ip + 10, (uint16_t)~fold(sum16(ip, ihl, 0)));
		}
		f[tf->l4off + 13] = b->last_flags;
		vh.gso_type = tf->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = htole16((uint16_t)b->mss);
		vh.hdr_len = htole16((uint16_t)tf->hlen);
	}
	wr16(f + tf->l4off + 16, pseudo_sum(f, tf, (uint32_t)(b->len - tf->l4off)));
	v[0] = (struct iovec){ &vh, sizeof(vh) };
	v[1] = (struct iovec){ f, b->len };
	tap_write(t, v, 2, b->len, b->nsegs, b->bytes);
	b->len = 0;
	b->nsegs = 0;
	b->bytes = 0;
}

/* Same stream, same everything but lengths, IPv4 id and checksums, sequence numbers and
 * flags: may segment s (headers in h) follow the batch? */
static int same_headers(const struct tx_batch *b, const uint8_t *h, const struct tcp_frame *s)
{
	const uint8_t *a = b->buf;
	size_t l4 = s->l4off;

	if (s->v6 != b->first.v6 || l4 != b->first.l4off || s->hlen != b->first.hlen)
		return 0;
	if (memcmp(a, h, NC_ETH_HLEN) != 0)
		return 0;
	if (s->v6) {
		if (memcmp(a + 14, h + 14, 4) != 0 || memcmp(a + 20, h + 20, 34) != 0)
			return 0;
	} else {
		if (memcmp(a + 14, h + 14, 2) != 0 || memcmp(a + 20, h + 20, 4) != 0 ||
		    memcmp(a + 26, h + 26, l4 - 26) != 0)
			return 0;
	}
	return memcmp(a + l4, h + l4, 4) == 0 &&                 /* ports */
	       memcmp(a + l4 + 8, h + l4 + 8, 5) == 0 &&          /* ack, offset */
	       a[l4 + 13] == TCPF_ACK &&
	       memcmp(a + l4 + 14, h + l4 + 14, 2) == 0 &&        /* window */
	       memcmp(a + l4 + 18, h + l4 + 18, s->hlen - l4 - 18) == 0;  /* urg, options */
}

/*
 * batch_add() - merge segment s into the batch when it continues it, or start a batch
 * with it. Returns 1 when the segment was taken (and the batch flushed if it ended
 * there), 0 when the caller must send it alone (after flushing the batch).
 */
static int batch_add(struct tap *t, const uint8_t *h, const struct tcp_frame *s,
		     const struct iovec *iov, int iovcnt, size_t len)
{
	struct tx_batch *b = &t->txb;
	size_t ipmax = s->v6 ? NC_ETH_HLEN + 40 + TAP_IP_MAX : NC_ETH_HLEN + TAP_IP_MAX;
	uint8_t fl = s->flags & (uint8_t)~TCPF_PSH;

	if (s->payload == 0 || fl != TCPF_ACK || s->end != len)
		return 0;
	if (b->len > 0) {
		if (s->seq != b->next_seq || s->payload > b->mss || b->last_payload != b->mss ||
		    b->len + s->payload > ipmax || !same_headers(b, h, s))
			return 0;
		iov_copy(b->buf + b->len, iov, iovcnt, s->hlen, s->payload);
		b->len += s->payload;
	} else {
		if ((s->flags & TCPF_PSH) || len + s->payload > ipmax)
			return 0;   /* alone anyway: written without a copy */
		iov_copy(b->buf, iov, iovcnt, 0, len);
		b->len = len;
		b->first = *s;
		b->mss = s->payload;
	}
	b->next_seq = s->seq + (uint32_t)s->payload;
	b->last_payload = s->payload;
	b->last_flags = s->flags;
	b->nsegs++;
	b->bytes += len;
	if ((s->flags & TCPF_PSH) || s->payload < b->mss || b->len + b->mss > ipmax)
		tap_flush(&t->link);
	return 1;
}

/* Send one frame: merged into the batch, or written (with its vnet header) after the
 * batch. Returns 0, or a negative errno (counted in tx_dropped). */
static int tap_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	struct tap *t = l->priv;
	struct virtio_net_hdr vh;
	struct iovec v[65];
	uint8_t h[TAP_HDR_MAX];
	struct tcp_frame tf;
	size_t len = 0, hn;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < NC_ETH_HLEN || len > NC_ETH_HLEN + TAP_MAX_MTU + 4 ||
	    iovcnt >= (int)(sizeof(v) / sizeof(v[0]))) {
		l->stats.tx_dropped++;
		return len < NC_ETH_HLEN ? -EINVAL : -EMSGSIZE;
	}
	if (!t->vnet)
		return tap_write(t, iov, iovcnt, len, 1, len);
	if (t->offload & NC_LINK_OFF_TX_CSUM) {
		hn = iov_copy(h, iov, iovcnt, 0, len < sizeof(h) ? len : sizeof(h));
		if (tcp_parse(h, hn, len, &tf)) {
			if (t->offload & NC_LINK_OFF_TX_GSO) {
				if (batch_add(t, h, &tf, iov, iovcnt, len))
					return 0;
				/* It does not continue the batch: it may start the next one. */
				if (t->txb.len > 0) {
					tap_flush(l);
					if (batch_add(t, h, &tf, iov, iovcnt, len))
						return 0;
				}
			}
			tap_flush(l);
			return send_tcp_csum(t, h, &tf, iov, iovcnt, len);
		}
	}
	tap_flush(l);
	memset(&vh, 0, sizeof(vh));
	v[0] = (struct iovec){ &vh, sizeof(vh) };
	memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
	return tap_write(t, v, iovcnt + 1, len, 1, len);
}

/*
 * read_frame() - read one frame: with zero-copy receive straight into a buffer of the
 * service's (t->zc_buf, kept across calls until a frame worth giving fills it), else into
 * rx_buf. Sets *frame, *flen and *fl (NC_LINK_RX_*, before masking); returns 1 for a
 * frame, 0 for a malformed one (to count), or a negative errno from read().
 */
static int read_frame(struct tap *t, uint8_t **frame, size_t *flen, unsigned *fl)
{
	struct nc_link *l = &t->link;
	struct virtio_net_hdr vh;
	struct iovec iov[3];
	int n_iov = 0;
	ssize_t n;

	*fl = 0;
	if (!t->vnet) {
		n = read(l->fd, t->rx_buf, TAP_RX_BUFSZ);
		if (n < 0)
			return -errno;
		*frame = t->rx_buf;
		*flen = (size_t)n;
		return n >= NC_ETH_HLEN;
	}
	if (l->rx_zc && !t->zc_buf)
		t->zc_buf = l->rx_zc->alloc(l->ctx, TAP_FRAME_MAX, &t->zc_handle);
	iov[n_iov++] = (struct iovec){ &vh, sizeof(vh) };
	if (t->zc_buf)
		iov[n_iov++] = (struct iovec){ t->zc_buf, TAP_FRAME_MAX };
	iov[n_iov++] = (struct iovec){ t->rx_buf, TAP_RX_BUFSZ };   /* the rest: too long */
	n = readv(l->fd, iov, n_iov);
	if (n < 0)
		return -errno;
	if (n < TAP_VNET_LEN)
		return 0;
	*flen = (size_t)n - TAP_VNET_LEN;
	*frame = t->zc_buf ? t->zc_buf : t->rx_buf;
	return vnet_check(&vh, *frame, *flen, fl) == 0;
}

/* Read and deliver waiting frames, at most TAP_RX_BUDGET per call (epoll is
 * level-triggered: we are called again). Returns 0, or a negative errno when the device
 * failed (e.g. it was deleted). */
static int tap_input(struct nc_link *l)
{
	struct tap *t = l->priv;
	unsigned mask = 0;
	int ret = 0;

	if (t->in_input)
		return 0;
	if (t->offload & NC_LINK_OFF_RX_CSUM)
		mask |= NC_LINK_RX_CSUM_OK;
	if (t->offload & NC_LINK_OFF_RX_GSO)
		mask |= NC_LINK_RX_GSO;
	t->in_input = 1;
	for (int budget = TAP_RX_BUDGET; budget > 0; budget--) {
		uint8_t *frame = NULL;
		size_t flen = 0;
		unsigned fl;
		int r = read_frame(t, &frame, &flen, &fl);

		if (r < 0) {
			if (r == -EAGAIN || r == -EWOULDBLOCK)
				break;
			if (r == -EINTR)
				continue;
			ret = r;
			nc_warn("tap %s: read failed: %s", t->ifname, strerror(-r));
			break;
		}
		if (r == 0) {
			l->stats.rx_dropped++;
			nc_log_ratelimited(NC_LOG_DEBUG, "tap %s: dropped a malformed frame of %zu "
					   "bytes", t->ifname, flen);
			continue;
		}
		l->stats.rx_frames++;
		l->stats.rx_bytes += flen;
		l->rx_flags = fl & mask;
		if (frame == t->zc_buf && flen >= TAP_ZC_MIN) {
			/* Large: the buffer goes to the service as it is. */
			t->zc_buf = NULL;
			l->rx_zc->give(l->ctx, t->zc_handle, frame, flen);
		} else {
			l->deliver(l->ctx, frame, flen);   /* copied: the buffer stays ours */
		}
		l->rx_flags = 0;
	}
	t->in_input = 0;
	return ret;
}

/*
 * tap_set_offload() - ask the kernel for what `want` needs on receive (TUNSETOFFLOAD:
 * partial checksums, TSO super-segments) and turn on our own send side. Returns the
 * NC_LINK_OFF_* now in force (0 without IFF_VNET_HDR).
 */
static unsigned tap_set_offload(struct nc_link *l, unsigned want)
{
	struct tap *t = l->priv;
	unsigned tun = 0, got = 0;

	tap_flush(l);
	if (!t->vnet) {
		t->offload = 0;
		return 0;
	}
	if (want & (NC_LINK_OFF_RX_CSUM | NC_LINK_OFF_RX_GSO))
		tun |= TUN_F_CSUM;   /* TSO needs it */
	if (want & NC_LINK_OFF_RX_GSO)
		tun |= TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(l->fd, TUNSETOFFLOAD, tun) == 0) {
		if (tun & TUN_F_CSUM)
			got |= NC_LINK_OFF_RX_CSUM;
		if (tun & TUN_F_TSO4)
			got |= NC_LINK_OFF_RX_GSO;
	} else if (tun && ioctl(l->fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0) {
		got |= NC_LINK_OFF_RX_CSUM;
	} else {
		ioctl(l->fd, TUNSETOFFLOAD, 0);
	}
	got &= want;
	if (want & NC_LINK_OFF_TX_CSUM)
		got |= NC_LINK_OFF_TX_CSUM;
	if ((want & NC_LINK_OFF_TX_GSO) && (got & NC_LINK_OFF_TX_CSUM))
		got |= NC_LINK_OFF_TX_GSO;
	t->offload = got;
	nc_info("tap %s: offloads rx csum %s, rx gso %s, tx csum %s, tx gso %s", t->ifname,
		got & NC_LINK_OFF_RX_CSUM ? "on" : "off", got & NC_LINK_OFF_RX_GSO ? "on" : "off",
		got & NC_LINK_OFF_TX_CSUM ? "on" : "off", got & NC_LINK_OFF_TX_GSO ? "on" : "off");
	return got;
}

/* One line for `netcon status`: the device, the MTU and the offloads in force. */
static void tap_describe(struct nc_link *l, char *buf, size_t len)
{
	struct tap *t = l->priv;

	unsigned o = t->offload;

	if (len == 0)
		return;
	if (!o)
		snprintf(buf, len, "link tap %s mtu %d\n", t->ifname, t->mtu);
	else
		snprintf(buf, len, "link tap %s mtu %d offloads%s%s%s%s\n", t->ifname, t->mtu,
			 o & NC_LINK_OFF_RX_CSUM ? " rx-csum" : "",
			 o & NC_LINK_OFF_RX_GSO ? " rx-gso" : "",
			 o & NC_LINK_OFF_TX_CSUM ? " tx-csum" : "",
			 o & NC_LINK_OFF_TX_GSO ? " tx-gso" : "");
}

/* Close the device (a transient device disappears with it) and free everything. */
static void tap_close(struct nc_link *l)
{
	struct tap *t;

	if (!l)
		return;
	t = l->priv;
	tap_flush(l);
	if (t->zc_buf)
		l->rx_zc->release(l->ctx, t->zc_handle);
	if (l->fd >= 0)
		close(l->fd);
	free(t->rx_buf);
	free(t->txb.buf);
	free(t);
}

static const struct nc_link_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.input = tap_input,
	.flush = tap_flush,
	.describe = tap_describe,
	.close = tap_close,
	.set_offload = tap_set_offload,
};

/* Attach fd to the TAP device `name` (TUNSETIFF), with virtio-net headers when the
 * kernel has them (*vnet set to 1), else plain frames. On success the kernel's name for
 * the device is copied back into name. 0, or a negative errno with a message. */
static int tap_attach(int fd, char name[IFNAMSIZ], int *vnet, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct passwd *pw;
	char user[64];
	int sz = TAP_VNET_LEN, le = 1;

	for (*vnet = 1; *vnet >= 0; (*vnet)--) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (*vnet ? IFF_VNET_HDR : 0);
		memcpy(ifr.ifr_name, name, IFNAMSIZ);
		if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
			memcpy(name, ifr.ifr_name, IFNAMSIZ);
			name[IFNAMSIZ - 1] = '\0';
			/* 10 bytes is the default size; the 16-bit fields little-endian (already
			 * so on LE hosts). */
			if (*vnet) {
				ioctl(fd, TUNSETVNETHDRSZ, &sz);
				ioctl(fd, TUNSETVNETLE, &le);
			}
			return 0;
		}
		if (errno != EINVAL || !*vnet)
			break;
	}
	*vnet = 0;
	switch (errno) {
	case EPERM:
	case EACCES:
		pw = getpwuid(geteuid());
		if (pw)
			snprintf(user, sizeof(user), "%s", pw->pw_name);
		else
			snprintf(user, sizeof(user), "%u", (unsigned int)geteuid());
		set_err(err, errlen, "device %s does not exist or is not owned by you; an "
			"administrator creates it once with: ip tuntap add %s mode tap user %s",
			name, name, user);
		return -EPERM;
	case EBUSY:
		set_err(err, errlen, "device %s is busy: another process has it open", name);
		return -EBUSY;
	case EINVAL:
		set_err(err, errlen, "%s exists and is not a TAP device", name);
		return -EINVAL;
	default: {
		int e = errno;
		set_err(err, errlen, "cannot attach to TAP device %s: %s", name, strerror(e));
		return -e;
	}
	}
}

/* Make the device's MTU fit: set it to mtu when allowed; without the privilege accept a
 * device MTU at least as large. Also warn when the device is down. 0, or a negative
 * errno with a message. */
static int tap_check_mtu(const char *name, int mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, cur, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		set_err(err, errlen, "tap %s: cannot create a socket: %s", name, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		set_err(err, errlen, "tap %s: cannot read its MTU: %s", name, strerror(errno));
		goto out;
	}
	cur = ifr.ifr_mtu;
	if (cur != mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) == 0) {
			cur = mtu;
		} else if (errno != EPERM && errno != EACCES) {
			ret = -errno;
			set_err(err, errlen, "tap %s: cannot set MTU %d: %s", name, mtu,
				strerror(errno));
			goto out;
		} else if (cur < mtu) {
			ret = -EMSGSIZE;
			set_err(err, errlen, "device %s has MTU %d, smaller than the requested %d; "
				"an administrator raises it with: ip link set %s mtu %d",
				name, cur, mtu, name, mtu);
			goto out;
		} else {
			nc_info("tap %s: device MTU %d is larger than the service's %d", name, cur,
				mtu);
		}
	}
	memset(&ifr.ifr_ifru, 0, sizeof(ifr.ifr_ifru));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		nc_warn("tap %s: the device is down; no frames flow until: ip link set %s up",
			name, name);
out:
	close(s);
	return ret;
}

int nc_link_tap_open(struct nc_link **out, const char *ifname, int mtu,
		     nc_link_deliver_fn deliver, void *ctx, char *err, size_t errlen)
{
	struct tap *t = NULL;
	char name[IFNAMSIZ];
	int fd = -1, ret;

	*out = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		set_err(err, errlen, "bad TAP device name '%s' (1..%d characters)",
			ifname ? ifname : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (mtu < NC_MTU_MIN || mtu > TAP_MAX_MTU) {
		set_err(err, errlen, "mtu %d out of range for a tap link: %d..%d", mtu,
			NC_MTU_MIN, TAP_MAX_MTU);
		return -EMSGSIZE;
	}
	memset(name, 0, sizeof(name));
	memcpy(name, ifname, strlen(ifname));

	t = calloc(1, sizeof(*t));
	if (t) {
		t->rx_buf = malloc(TAP_RX_BUFSZ);
		t->txb.buf = malloc(TAP_TXB_SZ);
	}
	if (!t || !t->rx_buf || !t->txb.buf) {
		set_err(err, errlen, "tap: out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			set_err(err, errlen, "no /dev/net/tun: the tun driver is not available here "
				"(load the tun module, or give the container /dev/net/tun)");
		else
			set_err(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		goto fail;
	}
	ret = tap_attach(fd, name, &t->vnet, err, errlen);
	if (ret < 0)
		goto fail;
	/* No offloads until the service asks (a persistent device keeps the last ones). */
	if (t->vnet)
		ioctl(fd, TUNSETOFFLOAD, 0);
	ret = tap_check_mtu(name, mtu, err, errlen);
	if (ret < 0)
		goto fail;

	memcpy(t->ifname, name, IFNAMSIZ);
	t->mtu = mtu;
	t->link.ops = &tap_ops;
	t->link.fd = fd;
	t->link.max_mtu = TAP_MAX_MTU;
	t->link.deliver = deliver;
	t->link.ctx = ctx;
	t->link.priv = t;
	*out = &t->link;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	if (t) {
		free(t->rx_buf);
		free(t->txb.buf);
	}
	free(t);
	return ret;
}
