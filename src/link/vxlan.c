/*
 * vxlan.c — the VXLAN link: the service's Ethernet frames in UDP datagrams, RFC 7348
 * format, exchanged with a list of static peers and with any sender that speaks the same
 * VNI (another netcon service, a Linux kernel `vxlan` device).
 *
 * DOC: Theory of operation
 *
 * One UDP socket, bound to the configured address, carries everything. The 8-byte VXLAN
 * header is the same for every frame of the link (flags 0x08, our VNI), so it is built
 * once at open; send() puts it in front of the caller's iovec and hands both to the
 * kernel in one sendmsg/sendmmsg: the frame itself is never copied.
 *
 * Where a frame goes is decided by the forwarding database (fdb.c), as in a learning
 * bridge: every well-formed frame received teaches "source MAC lives at the sender's
 * address"; a unicast frame for a known MAC goes to that address only; broadcast,
 * multicast and unknown unicast frames are flooded (head-end replication) to the static
 * peers plus every learned address, each once, in one sendmmsg call.
 *
 * Nothing is allocated per packet: the receive side owns VX_RX_BATCH buffers of
 * VX_RX_BUFSZ bytes, filled by one recvmmsg; the send side owns one mmsghdr per possible
 * peer address and one iovec array. With the service's zero-copy receive (link.h rx_zc)
 * each slot of the batch reads into a buffer of the service's instead, and a datagram
 * whose frame is large (VX_ZC_MIN) is handed over as it lies, after its VXLAN header:
 * lwIP gets that memory as its pbuf, and the slot a new buffer before the next recvmmsg.
 * Smaller frames, and the datagrams of a UDP_GRO message, are copied as before.
 *
 * Reentrancy: deliver() is called from input() and may call send() on this link (lwIP
 * answers ARP and TCP from inside its input path). send() touches only the transmit
 * arrays and the FDB, never the receive buffers, and input() holds no FDB pointer across
 * deliver(), so this is safe. A nested input() from inside deliver() would overwrite the
 * buffers of the batch being delivered: it returns 0 at once instead. deliver() must not
 * close the link.
 *
 * Learning records the sender's full address (IP and UDP port), because several services
 * on one host differ only by port. A Linux kernel vxlan device sends from a hashed source
 * port by default: make it a static peer (frames for its MACs then also go to its
 * configured port, see fdb.c), or give it `srcport 4789 4790` (source port = its dstport).
 */
#include "link.h"
#include "fdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

#define VX_RX_BATCH     32                 /* datagrams per recvmmsg */
#define VX_RX_BUFSZ     65536              /* one buffer per datagram: any UDP payload fits */
#define VX_RX_BUDGET    256                /* frames per input() call, for fairness */
#define VX_ZC_MIN       4096               /* smaller frames are copied, the buffer kept */
#define VX_SOCKBUF      (4 * 1024 * 1024)  /* SO_SNDBUF / SO_RCVBUF */
#define VX_TX_MAXIOV    UIO_MAXIOV         /* header + frame pieces */
#define VX_TXB_COUNT    64                 /* unicast frames batched per sendmmsg */
#define VX_TXB_SLOT     (NC_VXLAN_HLEN + NC_ETH_HLEN + 9216)  /* batched frames up to here */
#define VX_VNI_WARN_SLOTS 16               /* senders remembered for the VNI warning */
#define VX_VNI_WARN_MS  (60 * 1000)        /* one VNI warning per sender per minute */
_Static_assert(NC_VXLAN_HLEN == 8, "RFC 7348 header is 8 bytes");

struct vxlan {
	struct nc_link link;
	uint32_t vni;
	int family;                   /* of the socket: AF_INET or AF_INET6 */
	int in_input;                 /* guards against a nested input() from deliver() */
	uint8_t hdr[NC_VXLAN_HLEN];   /* the VXLAN header of every frame we send */
	struct sockaddr_storage bind;
	socklen_t bind_len;

	struct nc_fdb fdb;            /* MAC → peer address, and the flood list */
	int send_err[NC_FDB_MAX_EPS]; /* per endpoint: the errno last warned about, 0: none */
	int warned_nopeer;            /* said once that an ARP request had no peer to go to */

	struct mmsghdr tx_msgs[NC_FDB_MAX_EPS];
	struct iovec tx_iov[VX_TX_MAXIOV];

	/* Unicast frames of up to VX_TXB_SLOT bytes are copied here and sent together by
	 * flush() (one sendmmsg per event-loop turn instead of one sendmsg per frame). */
	uint8_t *txb_buf;             /* VX_TXB_COUNT * VX_TXB_SLOT */
	struct mmsghdr txb_msgs[VX_TXB_COUNT];
	struct iovec txb_iov[VX_TXB_COUNT];
	size_t txb_len[VX_TXB_COUNT]; /* frame bytes (without the header), for the counters;
				       * 0 for a second copy, counted with the first */
	int txb_n;

	uint8_t *rx_buf;              /* VX_RX_BATCH * VX_RX_BUFSZ */
	uint8_t *zc_buf[VX_RX_BATCH]; /* per slot: the service's buffer (rx_zc), or NULL */
	void *zc_handle[VX_RX_BATCH];
	struct mmsghdr rx_msgs[VX_RX_BATCH];
	struct iovec rx_iov[VX_RX_BATCH];
	struct sockaddr_storage rx_addr[VX_RX_BATCH];
	union {                       /* UDP_GRO: the segment size of a coalesced datagram */
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} rx_ctl[VX_RX_BATCH];
	int no_gso;                   /* UDP_SEGMENT refused once: send frame by frame */

	/* Senders last warned about for a VNI other than ours (see vni_mismatch()). */
	struct {
		struct sockaddr_storage from;   /* normalised; family 0 when unused */
		uint64_t at_ms;
	} vni_warned[VX_VNI_WARN_SLOTS];
};

/* ---- RFC 7348 framing ------------------------------------------------------------ */

void nc_vxlan_encode(uint8_t hdr[NC_VXLAN_HLEN], uint32_t vni)
{
	hdr[0] = 0x08;   /* I flag: the VNI is valid */
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(vni >> 16);
	hdr[5] = (uint8_t)(vni >> 8);
	hdr[6] = (uint8_t)vni;
	hdr[7] = 0;
}

int nc_vxlan_decode(const uint8_t *buf, size_t len, uint32_t want_vni)
{
	uint32_t vni;

	if (!buf || len < NC_VXLAN_HLEN + NC_ETH_HLEN)
		return -EINVAL;
	if (!(buf[0] & 0x08))
		return -EINVAL;
	vni = (uint32_t)buf[4] << 16 | (uint32_t)buf[5] << 8 | buf[6];
	if (vni != want_vni)
		return -EINVAL;
	return NC_VXLAN_HLEN;
}

/* ---- helpers ----------------------------------------------------------------------- */

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

/* Milliseconds of a coarse monotonic clock (a vDSO read, cheap enough per frame). */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Copy the parts of a socket address that name it (family, port, address, scope) into a
 * zeroed sockaddr_storage, mapping IPv4 to ::ffff:a.b.c.d when the socket is IPv6.
 * Returns the length, or -EAFNOSUPPORT. */
static int sa_normalise(struct sockaddr_storage *out, const struct sockaddr *sa, int family)
{
	struct sockaddr_in *o4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		o4->sin_family = AF_INET;
		o4->sin_port = s4->sin_port;
		o4->sin_addr = s4->sin_addr;
		return sizeof(*o4);
	}
	if (sa->sa_family == AF_INET && family == AF_INET6) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		o6->sin6_family = AF_INET6;
		o6->sin6_port = s4->sin_port;
		o6->sin6_addr.s6_addr[10] = 0xff;
		o6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&o6->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		return sizeof(*o6);
	}
	if (sa->sa_family == AF_INET6 && family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		o6->sin6_family = AF_INET6;
		o6->sin6_port = s6->sin6_port;
		o6->sin6_addr = s6->sin6_addr;
		o6->sin6_scope_id = s6->sin6_scope_id;
		return sizeof(*o6);
	}
	return -EAFNOSUPPORT;
}

/* Text of an address for people: an IPv4-mapped IPv6 address is shown as IPv4. */
static char *sa_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = s6->sin6_port };
		memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		return nc_sockaddr_str((const struct sockaddr *)&s4, buf, len);
	}
	return nc_sockaddr_str((const struct sockaddr *)ss, buf, len);
}

/* ---- the ops ------------------------------------------------------------------------ */

/* Copy the first n bytes of an iovec (pieces may be shorter than n). Returns the number
 * of bytes copied. */
static size_t iov_peek(const struct iovec *iov, int iovcnt, uint8_t *out, size_t n)
{
	size_t got = 0;

	for (int i = 0; i < iovcnt && got < n; i++) {
		size_t take = iov[i].iov_len < n - got ? iov[i].iov_len : n - got;
		memcpy(out + got, iov[i].iov_base, take);
		got += take;
	}
	return got;
}

/*
 * send_result() - note how a send to the endpoint whose address msg_name is went: e is 0
 * or an errno. A failure other than a full buffer is worth a warning, once until that
 * endpoint works again: a peer the kernel has no route to (ENETUNREACH, EHOSTUNREACH,
 * EADDRNOTAVAIL) is what a service sees when it runs in a network namespace that cannot
 * reach its peers (a fresh `unshare --net` has only a loopback device, and that down),
 * and the only other sign would be connections that time out.
 */
static void send_result(struct vxlan *vx, void *msg_name, int e)
{
	const struct nc_fdb_ep *ep =
		(const struct nc_fdb_ep *)((char *)msg_name - offsetof(struct nc_fdb_ep, sa));
	int *last = &vx->send_err[ep - vx->fdb.eps];
	char a[64];

	if (e == 0 || e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR) {
		if (e == 0)
			*last = 0;
		return;
	}
	if (*last == e)
		return;
	*last = e;
	nc_warn("vxlan: cannot send to %s: %s%s", sa_str(&ep->sa, a, sizeof(a)), strerror(e),
		e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL
			? " (no route to that peer from this network namespace: start the "
			  "service where its peers are reachable, or give peers reachable from here)"
			: "");
}

/* Send the first n prepared tx_msgs, in chunks of at most UIO_MAXIOV (sendmmsg's
 * limit). A message that fails is skipped and the rest still go. Returns how many were
 * sent; *err is set to the last error seen (left alone when none). */
static int send_replicas(struct vxlan *vx, int n, int *err)
{
	int i = 0, sent = 0;

	while (i < n) {
		unsigned int chunk = (unsigned int)(n - i) < UIO_MAXIOV ? (unsigned int)(n - i)
									 : UIO_MAXIOV;
		int r = sendmmsg(vx->link.fd, vx->tx_msgs + i, chunk, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* sendmmsg reports an error only for the first message of a call. */
			*err = -errno;
			send_result(vx, vx->tx_msgs[i].msg_hdr.msg_name, errno);
			i++;
			continue;
		}
		if (r == 0)
			r = 1;   /* not expected; guarantees progress */
		for (int k = i; k < i + r; k++)
			send_result(vx, vx->tx_msgs[k].msg_hdr.msg_name, 0);
		sent += r;
		i += r;
	}
	return sent;
}

/*
 * vxlan_flush() - send the batched unicast frames. Consecutive frames to the same peer
 * with the same size (the last one may be shorter) — a TCP stream's segments, or its
 * ACKs — go as one UDP GSO send (UDP_SEGMENT): the kernel cuts it into the datagrams a
 * receiver sees, or hands it whole to a receiver that asked for UDP_GRO (a service on the
 * same host). Far fewer system calls and far less per-datagram work than one each.
 */
static void vxlan_flush(struct nc_link *l)
{
	struct vxlan *vx = l->priv;
	struct mmsghdr gm[VX_TXB_COUNT];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} ctl[VX_TXB_COUNT];
	int first[VX_TXB_COUNT + 1], ng = 0, i = 0, g = 0;

	/* Group the batch. */
	while (i < vx->txb_n) {
		size_t seg = vx->txb_iov[i].iov_len, total = seg;
		int k = i + 1;

		while (!vx->no_gso && k < vx->txb_n && k - i < 64 &&
		       vx->txb_msgs[k].msg_hdr.msg_name == vx->txb_msgs[i].msg_hdr.msg_name &&
		       vx->txb_iov[k].iov_len <= seg && total + vx->txb_iov[k].iov_len <= 65000) {
			total += vx->txb_iov[k].iov_len;
			k++;
			if (vx->txb_iov[k - 1].iov_len < seg)
				break;   /* a shorter one ends a GSO group */
		}
		memset(&gm[ng], 0, sizeof(gm[ng]));
		gm[ng].msg_hdr.msg_name = vx->txb_msgs[i].msg_hdr.msg_name;
		gm[ng].msg_hdr.msg_namelen = vx->txb_msgs[i].msg_hdr.msg_namelen;
		gm[ng].msg_hdr.msg_iov = &vx->txb_iov[i];
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
		first[ng++] = i;
		i = k;
	}
	first[ng] = vx->txb_n;

	while (g < ng) {
		int r = sendmmsg(l->fd, gm + g, (unsigned int)(ng - g), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (gm[g].msg_hdr.msg_iovlen > 1 && !vx->no_gso &&
			    (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP ||
			     errno == ENOPROTOOPT)) {
				/* No UDP GSO here: from now on frame by frame. */
				nc_info("vxlan: UDP GSO not available (%s); sending frame by frame",
					strerror(errno));
				vx->no_gso = 1;
				int n = vx->txb_n - first[g];
				memmove(vx->txb_iov, vx->txb_iov + first[g], sizeof(vx->txb_iov[0]) * n);
				memmove(vx->txb_msgs, vx->txb_msgs + first[g],
					sizeof(vx->txb_msgs[0]) * n);
				memmove(vx->txb_len, vx->txb_len + first[g], sizeof(vx->txb_len[0]) * n);
				for (int k = 0; k < n; k++)
					vx->txb_msgs[k].msg_hdr.msg_iov = &vx->txb_iov[k];
				vx->txb_n = n;
				vxlan_flush(l);
				return;
			}
			/* The first message failed (buffer full): drop it, like a NIC. */
			send_result(vx, gm[g].msg_hdr.msg_name, errno);
			l->stats.tx_dropped += (uint64_t)(first[g + 1] - first[g]);
			nc_log_ratelimited(NC_LOG_DEBUG, "vxlan: batched frames dropped: %s",
					   strerror(errno));
			g++;
			continue;
		}
		if (r == 0)
			r = 1;
		for (int k = first[g]; k < first[g + r]; k++) {
			if (!vx->txb_len[k])
				continue;
			l->stats.tx_frames++;
			l->stats.tx_bytes += vx->txb_len[k];
		}
		g += r;
	}
	vx->txb_n = 0;
}

/* Queue one unicast frame for flush(); `copy` for the second copy of a frame, which the
 * counters do not count again. 0, or -EMSGSIZE when it does not fit a slot. */
static int txb_queue(struct vxlan *vx, int ep, const struct iovec *iov, int iovcnt,
		     size_t len, int copy)
{
	uint8_t *slot;
	size_t off = NC_VXLAN_HLEN;

	if (len + NC_VXLAN_HLEN > VX_TXB_SLOT)
		return -EMSGSIZE;
	if (vx->txb_n == VX_TXB_COUNT)
		vxlan_flush(&vx->link);
	slot = vx->txb_buf + (size_t)vx->txb_n * VX_TXB_SLOT;
	memcpy(slot, vx->hdr, NC_VXLAN_HLEN);
	for (int i = 0; i < iovcnt; i++) {
		memcpy(slot + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	vx->txb_iov[vx->txb_n].iov_base = slot;
	vx->txb_iov[vx->txb_n].iov_len = off;
	memset(&vx->txb_msgs[vx->txb_n], 0, sizeof(vx->txb_msgs[0]));
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_name = &vx->fdb.eps[ep].sa;
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_namelen = vx->fdb.eps[ep].len;
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_iov = &vx->txb_iov[vx->txb_n];
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_iovlen = 1;
	vx->txb_len[vx->txb_n] = copy ? 0 : len;
	vx->txb_n++;
	return 0;
}

/* Point tx_msgs[i] at endpoint ep, carrying the prepared tx_iov (header + frame). */
static void tx_msg_set(struct vxlan *vx, int i, int ep, int iovcnt)
{
	struct msghdr *mh = &vx->tx_msgs[i].msg_hdr;

	mh->msg_name = &vx->fdb.eps[ep].sa;
	mh->msg_namelen = vx->fdb.eps[ep].len;
	mh->msg_iov = vx->tx_iov;
	mh->msg_iovlen = (size_t)iovcnt;
}

/* A frame for an unknown destination and no peer to flood it to: if it asks for another
 * host's address (an ARP request, or an IPv6 neighbour solicitation that is not duplicate
 * address detection), the stack wants to reach that host: say once why nothing will
 * answer. */
static void warn_no_peer(struct vxlan *vx, const struct iovec *iov, int iovcnt)
{
	static const uint8_t unspec[16], any4[4];
	uint8_t f[78];
	char who[INET6_ADDRSTRLEN];
	size_t n = iov_peek(iov, iovcnt, f, sizeof(f));


	/* not an announcement (sender = target) nor a probe (sender 0.0.0.0): see neigh.c */
	if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1 &&
	    memcmp(f + 28, f + 38, 4) && memcmp(f + 28, any4, 4))
		inet_ntop(AF_INET, f + 38, who, sizeof(who));
	else if (n >= 78 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 58 && f[54] == 135 &&
		 memcmp(f + 22, unspec, 16))
		inet_ntop(AF_INET6, f + 62, who, sizeof(who));
	else
		return;
	vx->warned_nopeer = 1;
	nc_warn("vxlan: no peer to ask for %s: no --peer was given and no service has sent "
		"to this one yet, so other hosts of the virtual network cannot be reached "
		"(give --peer HOST:PORT)", who);
}

/* Send one frame: header + iov in one datagram, to the learned peer of a known unicast
 * destination (and the static peer that may be it, see fdb.c), else to every address of
 * the flood list. Never blocks: a full socket buffer drops the frame. Returns 0 when at
 * least one copy left, else a negative errno (counted in tx_dropped). */
static int vxlan_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	struct vxlan *vx = l->priv;
	uint8_t dst[6];
	size_t len = 0;
	int n = 0, err = -EHOSTUNREACH, r, also = NC_FDB_NONE;
	uint64_t now;

	if (iovcnt < 1 || iovcnt > VX_TX_MAXIOV - 1) {
		err = -EINVAL;
		goto drop;
	}
	vx->tx_iov[0].iov_base = vx->hdr;
	vx->tx_iov[0].iov_len = NC_VXLAN_HLEN;
	for (int i = 0; i < iovcnt; i++) {
		vx->tx_iov[i + 1] = iov[i];
		len += iov[i].iov_len;
	}
	if (len < NC_ETH_HLEN || iov_peek(iov, iovcnt, dst, 6) != 6) {
		err = -EINVAL;
		goto drop;
	}

	now = now_ms();
	nc_fdb_expire(&vx->fdb, now);
	r = (dst[0] & 1) ? NC_FDB_NONE : nc_fdb_lookup(&vx->fdb, dst, now, &also);
	if (r != NC_FDB_NONE && txb_queue(vx, r, iov, iovcnt, len, 0) == 0 &&
	    (also == NC_FDB_NONE || txb_queue(vx, also, iov, iovcnt, len, 1) == 0))
		return 0;
	/* Sent at once below: keep the order of what was queued before. */
	if (vx->txb_n)
		vxlan_flush(l);
	if (r != NC_FDB_NONE) {
		tx_msg_set(vx, n++, r, iovcnt + 1);
		if (also != NC_FDB_NONE)
			tx_msg_set(vx, n++, also, iovcnt + 1);
	} else {
		for (int i = 0; i < vx->fdb.nflood; i++)
			tx_msg_set(vx, n++, vx->fdb.flood[i], iovcnt + 1);
		if (n == 0 && !vx->warned_nopeer)
			warn_no_peer(vx, iov, iovcnt);
	}
	if (n > 0 && send_replicas(vx, n, &err) > 0) {
		l->stats.tx_frames++;
		l->stats.tx_bytes += len;
		return 0;
	}
drop:
	l->stats.tx_dropped++;
	if (err != -EAGAIN && err != -ENOBUFS && err != -EHOSTUNREACH)
		nc_log_ratelimited(NC_LOG_DEBUG, "vxlan: frame of %zu bytes dropped: %s", len,
				   strerror(-err));
	return err;
}

/*
 * vni_mismatch() - a VXLAN datagram from `from` (normalised) carries VNI `vni`, not ours:
 * a peer configured with another --vni, whose frames would otherwise only show as
 * `rx dropped`. Warn, naming both VNIs and the sender, at most once a minute per sender
 * (the last VX_VNI_WARN_SLOTS senders are remembered) and at most a few lines a second
 * in all, so a stream of such frames cannot flood the log.
 */
static void vni_mismatch(struct vxlan *vx, const struct sockaddr_storage *from, uint32_t vni,
			 uint64_t now)
{
	static long rl_sec;
	static int rl_n;
	int slot = -1;
	char a[64];

	/* The sender's slot, else a free one, else the least recently warned about. */
	for (int i = 0; i < VX_VNI_WARN_SLOTS; i++) {
		const struct sockaddr_storage *w = &vx->vni_warned[i].from;
		if (w->ss_family && memcmp(w, from, sizeof(*from)) == 0) {
			if (now - vx->vni_warned[i].at_ms < VX_VNI_WARN_MS)
				return;
			slot = i;
			break;
		}
		if (slot < 0 || (vx->vni_warned[slot].from.ss_family &&
				 (!w->ss_family || vx->vni_warned[i].at_ms < vx->vni_warned[slot].at_ms)))
			slot = i;
	}
	if (NC_LOG_WARN > nc_log_level || !nc_log_ratelimit_ok(&rl_sec, &rl_n, 5))
		return;
	vx->vni_warned[slot].from = *from;
	vx->vni_warned[slot].at_ms = now;
	nc_warn("vxlan: dropping frames with VNI %u from %s: this link's VNI is %u "
		"(--vni differs between peers?)", vni, sa_str(from, a, sizeof(a)), vx->vni);
}

/* Check, learn from and deliver one VXLAN datagram. */
static void vxlan_rx_datagram(struct vxlan *vx, uint8_t *buf, size_t len,
			      const struct sockaddr_storage *raw, uint64_t now, int zc_slot)
{
	struct nc_link *l = &vx->link;
	struct sockaddr_storage from;
	const uint8_t *frame, *src;
	int off, salen;
	char a[64];

	salen = sa_normalise(&from, (const struct sockaddr *)raw, vx->family);
	off = nc_vxlan_decode(buf, len, vx->vni);
	if (off < 0 || salen < 0) {
		l->stats.rx_dropped++;
		if (salen >= 0 && len >= NC_VXLAN_HLEN + NC_ETH_HLEN && (buf[0] & 0x08)) {
			uint32_t vni = (uint32_t)buf[4] << 16 | (uint32_t)buf[5] << 8 | buf[6];
			if (vni != vx->vni) {
				vni_mismatch(vx, &from, vni, now);
				return;
			}
		}
		nc_log_ratelimited(NC_LOG_DEBUG, "vxlan: dropped a datagram of %zu bytes from %s "
				   "(not VXLAN with VNI %u)", len,
				   nc_sockaddr_str((const struct sockaddr *)raw, a, sizeof(a)),
				   vx->vni);
		return;
	}
	frame = buf + off;
	len -= (size_t)off;
	src = frame + 6;
	/* Learn unicast sources only; 00:00:00:00:00:00 is no station. */
	if (!(src[0] & 1) && (src[0] | src[1] | src[2] | src[3] | src[4] | src[5])) {
		(void)nc_fdb_learn(&vx->fdb, src, &from, (socklen_t)salen, now);
	}
	l->stats.rx_frames++;
	l->stats.rx_bytes += len;
	if (zc_slot >= 0 && len >= VX_ZC_MIN) {
		/* Large: the service's buffer goes to it as it is. */
		vx->zc_buf[zc_slot] = NULL;
		l->rx_zc->give(l->ctx, vx->zc_handle[zc_slot], frame, len);
		return;
	}
	l->deliver(l->ctx, frame, len);
}

/* One received message (i of the batch): a datagram, or with UDP_GRO several datagrams of
 * gso_size bytes (the last may be shorter) that the kernel coalesced. */
static void vxlan_rx_one(struct vxlan *vx, int i, uint64_t now)
{
	struct msghdr *mh = &vx->rx_msgs[i].msg_hdr;
	size_t len = vx->rx_msgs[i].msg_len, seg = len;
	uint8_t *buf = vx->rx_iov[i].iov_base;

	if ((mh->msg_flags & MSG_TRUNC) || len == 0) {
		vx->link.stats.rx_dropped++;
		return;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int g;
			memcpy(&g, CMSG_DATA(c), sizeof(g));
			if (g > 0)
				seg = (size_t)g;
		}
	}
	if (seg == len && buf == vx->zc_buf[i]) {
		vxlan_rx_datagram(vx, buf, len, &vx->rx_addr[i], now, i);
		return;
	}
	for (size_t off = 0; off < len; off += seg)
		vxlan_rx_datagram(vx, buf + off, len - off < seg ? len - off : seg,
				  &vx->rx_addr[i], now, -1);
}

/* Receive and deliver what is waiting, in recvmmsg batches, at most VX_RX_BUDGET frames
 * so other fds get their turn (epoll is level-triggered: we are called again). Returns 0,
 * or a negative errno when the socket itself failed. */
static int vxlan_input(struct nc_link *l)
{
	struct vxlan *vx = l->priv;
	int budget = VX_RX_BUDGET, ret = 0;

	if (vx->in_input)
		return 0;
	vx->in_input = 1;
	while (budget > 0) {
		unsigned int want = budget < VX_RX_BATCH ? (unsigned int)budget : VX_RX_BATCH;
		uint64_t now;
		int n;

		for (unsigned int i = 0; i < want; i++) {
			if (l->rx_zc && !vx->zc_buf[i])
				vx->zc_buf[i] = l->rx_zc->alloc(l->ctx, VX_RX_BUFSZ,
								&vx->zc_handle[i]);
			vx->rx_iov[i].iov_base = vx->zc_buf[i] ? vx->zc_buf[i] :
						 vx->rx_buf + (size_t)i * VX_RX_BUFSZ;
			vx->rx_msgs[i].msg_hdr.msg_namelen = sizeof(vx->rx_addr[i]);
			vx->rx_msgs[i].msg_hdr.msg_flags = 0;
			vx->rx_msgs[i].msg_hdr.msg_control = vx->rx_ctl[i].buf;
			vx->rx_msgs[i].msg_hdr.msg_controllen = sizeof(vx->rx_ctl[i].buf);
		}
		n = recvmmsg(l->fd, vx->rx_msgs, want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH || errno == ENOMEM || errno == ENOBUFS) {
				/* Transient (a reported ICMP error, memory pressure). */
				budget--;
				continue;
			}
			ret = -errno;
			nc_warn("vxlan: receive failed: %s", strerror(errno));
			break;
		}
		now = now_ms();
		nc_fdb_expire(&vx->fdb, now);
		for (int i = 0; i < n; i++)
			vxlan_rx_one(vx, i, now);
		budget -= n;
		if ((unsigned int)n < want)
			break;   /* drained */
	}
	vx->in_input = 0;
	return ret;
}

/* Append one formatted line to buf at *pos; once a line does not fit, nothing more is
 * added. Returns 0, or -ENOSPC when the line did not fit. */
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
		buf[*pos] = '\0';   /* no half lines */
		*pos = len;
		return -ENOSPC;
	}
	*pos += (size_t)n;
	return 0;
}

/* Where describe() writes: put_line()'s arguments. */
struct describe_out {
	const struct nc_fdb *fdb;
	char *buf;
	size_t len, pos;
};

/* One learned entry as a line of describe(); stops the walk when the buffer is full. */
static int describe_entry(void *arg, const uint8_t mac[6], const struct nc_fdb_ep *ep,
			  uint64_t age_ms)
{
	struct describe_out *o = arg;
	const struct nc_fdb_ep *alt = ep->alt != NC_FDB_NONE ? &o->fdb->eps[ep->alt] : NULL;
	char a[64], b[64], m[20];

	/* An unresolved sender on a static peer's IP (see fdb.c) also gets a copy there. */
	if (alt && !alt->heard)
		return put_line(o->buf, o->len, &o->pos,
				"learned %s -> %s (age %llu s), copy to peer %s\n",
				nc_mac_str(mac, m, sizeof(m)), sa_str(&ep->sa, a, sizeof(a)),
				(unsigned long long)(age_ms / 1000),
				sa_str(&alt->sa, b, sizeof(b))) < 0;
	return put_line(o->buf, o->len, &o->pos, "learned %s -> %s (age %llu s)\n",
			nc_mac_str(mac, m, sizeof(m)), sa_str(&ep->sa, a, sizeof(a)),
			(unsigned long long)(age_ms / 1000)) < 0;
}

/* Describe the link for `netcon status`: bind address and VNI, static peers, then the
 * learned MACs, newest first. */
static void vxlan_describe(struct nc_link *l, char *buf, size_t len)
{
	struct vxlan *vx = l->priv;
	struct describe_out o = { &vx->fdb, buf, len, 0 };
	char a[64];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (put_line(buf, len, &o.pos, "link vxlan bind %s vni %u\n",
		     sa_str(&vx->bind, a, sizeof(a)), vx->vni) < 0)
		return;
	for (int i = 0; i < vx->fdb.nflood; i++) {
		const struct nc_fdb_ep *p = &vx->fdb.eps[vx->fdb.flood[i]];
		if (p->is_static &&
		    put_line(buf, len, &o.pos, "peer %s\n", sa_str(&p->sa, a, sizeof(a))) < 0)
			return;
	}
	(void)nc_fdb_foreach(&vx->fdb, now_ms(), describe_entry, &o);
}

/* Close the socket and free everything. */
static void vxlan_close(struct nc_link *l)
{
	struct vxlan *vx;

	if (!l)
		return;
	vx = l->priv;
	if (vx->txb_n)
		vxlan_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	for (int i = 0; i < VX_RX_BATCH; i++)
		if (vx->zc_buf[i])
			l->rx_zc->release(l->ctx, vx->zc_handle[i]);
	free(vx->rx_buf);
	free(vx->txb_buf);
	free(vx);
}

static const struct nc_link_ops vxlan_ops = {
	.name = "vxlan",
	.send = vxlan_send,
	.input = vxlan_input,
	.flush = vxlan_flush,
	.describe = vxlan_describe,
	.close = vxlan_close,
};

/* ---- open --------------------------------------------------------------------------- */

/* Ask for big socket buffers: the *FORCE options pass the sysctl limits but need
 * CAP_NET_ADMIN; without it fall back to the plain ones (capped by net.core.*mem_max). */
static void set_bufsize(int fd)
{
	int v = VX_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	/* Coalesced receive (UDP GRO): a burst from one peer arrives as one message. Without
	 * it (older kernels) every datagram arrives on its own, which also works. */
	v = 1;
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v));
}

/* Set up the empty tables, the receive batch and the static peers. 0, or a negative
 * errno with a message (a malformed peer, or an IPv6 peer for an IPv4 socket). */
static int vxlan_init_tables(struct vxlan *vx, const struct nc_vxlan_config *cfg, char *err,
			     size_t errlen)
{
	nc_fdb_init(&vx->fdb, NC_VXLAN_FDB_AGE_MS);

	for (int i = 0; i < VX_RX_BATCH; i++) {
		vx->rx_iov[i].iov_base = vx->rx_buf + (size_t)i * VX_RX_BUFSZ;
		vx->rx_iov[i].iov_len = VX_RX_BUFSZ;
		vx->rx_msgs[i].msg_hdr.msg_iov = &vx->rx_iov[i];
		vx->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		vx->rx_msgs[i].msg_hdr.msg_name = &vx->rx_addr[i];
	}

	for (int i = 0; i < cfg->npeers; i++) {
		const struct sockaddr *p = (const struct sockaddr *)&cfg->peers[i];
		socklen_t need = p->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in);
		struct sockaddr_storage ss;
		char a[64], b[64];
		int len, r;

		if (cfg->peer_lens[i] < need) {
			set_err(err, errlen, "vxlan peer %d: bad address", i + 1);
			return -EINVAL;
		}
		len = sa_normalise(&ss, p, vx->family);
		if (len < 0) {
			set_err(err, errlen, "peer %s cannot be reached from bind address %s "
				"(an IPv6 peer needs an IPv6 bind address)",
				nc_sockaddr_str(p, a, sizeof(a)), sa_str(&vx->bind, b, sizeof(b)));
			return -EAFNOSUPPORT;
		}
		r = nc_fdb_add_static(&vx->fdb, &ss, (socklen_t)len);   /* a repeat is kept once */
		if (r < 0) {
			set_err(err, errlen, "vxlan: too many peers");
			return r;
		}
	}
	return 0;
}

int nc_link_vxlan_open(struct nc_link **out, const struct nc_vxlan_config *cfg, int mtu,
		       nc_link_deliver_fn deliver, void *ctx, char *err, size_t errlen)
{
	const struct sockaddr *bsa = (const struct sockaddr *)&cfg->bind;
	struct vxlan *vx = NULL;
	int family, max_mtu, fd = -1, ret, one = 0;
	char a[64];

	*out = NULL;
	family = bsa->sa_family;
	if ((family != AF_INET && family != AF_INET6) ||
	    cfg->bind_len < (socklen_t)(family == AF_INET ? sizeof(struct sockaddr_in)
							  : sizeof(struct sockaddr_in6))) {
		set_err(err, errlen, "vxlan bind address must be IPv4 or IPv6");
		return -EINVAL;
	}
	if (cfg->vni > 0xffffff) {
		set_err(err, errlen, "vxlan VNI %u out of range 0..16777215", cfg->vni);
		return -EINVAL;
	}
	if (cfg->npeers < 0 || cfg->npeers > NC_VXLAN_MAX_PEERS) {
		set_err(err, errlen, "vxlan: %d peers, at most %d", cfg->npeers, NC_VXLAN_MAX_PEERS);
		return -EINVAL;
	}
	/* 65535-byte IP datagram - IP header - UDP header - VXLAN header - Ethernet header */
	max_mtu = 65535 - (family == AF_INET ? 20 : 40) - 8 - NC_VXLAN_HLEN - NC_ETH_HLEN;
	if (mtu < NC_MTU_MIN || mtu > max_mtu) {
		set_err(err, errlen, "mtu %d out of range for a vxlan link over IPv%d: %d..%d",
			mtu, family == AF_INET ? 4 : 6, NC_MTU_MIN, max_mtu);
		return -EMSGSIZE;
	}

	vx = calloc(1, sizeof(*vx));
	if (vx) {
		vx->rx_buf = malloc((size_t)VX_RX_BATCH * VX_RX_BUFSZ);
		vx->txb_buf = malloc((size_t)VX_TXB_COUNT * VX_TXB_SLOT);
	}
	if (!vx || !vx->rx_buf || !vx->txb_buf) {
		set_err(err, errlen, "vxlan: out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	vx->family = family;
	vx->vni = cfg->vni;
	nc_vxlan_encode(vx->hdr, cfg->vni);
	vx->bind_len = (socklen_t)sa_normalise(&vx->bind, bsa, family);
	ret = vxlan_init_tables(vx, cfg, err, errlen);
	if (ret < 0)
		goto fail;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "vxlan: cannot create a UDP socket: %s", strerror(errno));
		goto fail;
	}
	/* An IPv6 socket also reaches IPv4 peers (as ::ffff:a.b.c.d). */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	set_bufsize(fd);
	if (bind(fd, (const struct sockaddr *)&vx->bind, vx->bind_len) < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot bind %s: %s", sa_str(&vx->bind, a, sizeof(a)),
			strerror(errno));
		goto fail;
	}

	vx->link.ops = &vxlan_ops;
	vx->link.fd = fd;
	vx->link.max_mtu = max_mtu;
	vx->link.deliver = deliver;
	vx->link.ctx = ctx;
	vx->link.priv = vx;
	*out = &vx->link;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	if (vx) {
		free(vx->rx_buf);
		free(vx->txb_buf);
	}
	free(vx);
	return ret;
}
