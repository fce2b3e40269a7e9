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
 * Where a frame goes is decided by a small forwarding database (FDB), exactly like a
 * learning bridge: every well-formed frame received teaches "source MAC lives at the
 * sender's address". A unicast frame whose destination MAC is in the FDB (and not older
 * than NC_VXLAN_FDB_AGE_MS) goes to that address only; broadcast, multicast and unknown
 * unicast frames are flooded (head-end replication) to the "flood list": the static peers
 * plus every address the FDB currently points at, each address once. Replicas leave in
 * one sendmmsg call.
 *
 * Addresses are "remotes": a fixed pool of slots holding a sockaddr, a reference count
 * (FDB entries pointing at it) and its position in the dense flood list. Static peers are
 * remotes that are never released; a learned remote is released when its last FDB entry
 * goes. The FDB is a fixed table of NC_VXLAN_FDB_SIZE entries with a hash index on the
 * MAC and an LRU list ordered by "last seen": refreshing an entry moves it to the tail,
 * so the head is always the oldest — aging removes from the head until it finds a live
 * entry, and a full table replaces the head. Every operation is O(1) except looking up a
 * remote by address when a MAC is new or moved (linear in the number of remotes).
 *
 * Nothing is allocated per packet: the receive side owns VX_RX_BATCH buffers of
 * VX_RX_BUFSZ bytes, filled by one recvmmsg; the send side owns one mmsghdr per possible
 * remote and one iovec array.
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
 * port by default; for unicast back to it to work, give it `srcport 4789 4790` (source
 * port = its dstport 4789), or make it a static peer and accept flooding.
 */
#include "link.h"

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
#define VX_SOCKBUF      (4 * 1024 * 1024)  /* SO_SNDBUF / SO_RCVBUF */
#define VX_NREMOTES     (NC_VXLAN_MAX_PEERS + NC_VXLAN_FDB_SIZE)
#define VX_TX_MAXIOV    UIO_MAXIOV         /* header + frame pieces */
#define VX_TXB_COUNT    64                 /* unicast frames batched per sendmmsg */
#define VX_TXB_SLOT     (NC_VXLAN_HLEN + NC_ETH_HLEN + 9216)  /* batched frames up to here */
#define VX_HASH_BITS    11
#define VX_HASH_SIZE    (1u << VX_HASH_BITS)
#define VX_NONE         (-1)

_Static_assert(VX_HASH_SIZE >= NC_VXLAN_FDB_SIZE, "hash index at least as large as the FDB");
_Static_assert(NC_VXLAN_HLEN == 8, "RFC 7348 header is 8 bytes");

/* One peer address: static (from the configuration) or learned. */
struct vx_remote {
	struct sockaddr_storage sa;   /* normalised: only family, port, address, scope */
	socklen_t len;
	int refs;                     /* FDB entries pointing here */
	int is_static;
	int flood_pos;                /* index in vxlan.flood, VX_NONE when the slot is free */
	int send_err;                 /* the errno last warned about sending here, 0: none */
};

/* One learned MAC → remote entry. */
struct vx_fdb {
	uint8_t mac[6];
	int remote;                   /* index in vxlan.remotes */
	int hnext;                    /* hash chain; free-list link when unused */
	int prev, next;               /* LRU list, oldest first */
	uint64_t seen_ms;
};

struct vxlan {
	struct nc_link link;
	uint32_t vni;
	int family;                   /* of the socket: AF_INET or AF_INET6 */
	int in_input;                 /* guards against a nested input() from deliver() */
	uint8_t hdr[NC_VXLAN_HLEN];   /* the VXLAN header of every frame we send */
	struct sockaddr_storage bind;
	socklen_t bind_len;

	struct vx_remote remotes[VX_NREMOTES];
	int remote_free[VX_NREMOTES]; /* stack of free slots */
	int nremote_free;
	int flood[VX_NREMOTES];       /* dense: every remote in use */
	int nflood;
	int warned_nopeer;            /* said once that an ARP request had no peer to go to */

	struct vx_fdb fdb[NC_VXLAN_FDB_SIZE];
	int hash[VX_HASH_SIZE];
	int fdb_free;                 /* free list through hnext */
	int lru_head, lru_tail;

	struct mmsghdr tx_msgs[VX_NREMOTES];
	struct iovec tx_iov[VX_TX_MAXIOV];

	/* Unicast frames of up to VX_TXB_SLOT bytes are copied here and sent together by
	 * flush() (one sendmmsg per event-loop turn instead of one sendmsg per frame). */
	uint8_t *txb_buf;             /* VX_TXB_COUNT * VX_TXB_SLOT */
	struct mmsghdr txb_msgs[VX_TXB_COUNT];
	struct iovec txb_iov[VX_TXB_COUNT];
	size_t txb_len[VX_TXB_COUNT]; /* frame bytes (without the header), for the counters */
	int txb_n;

	uint8_t *rx_buf;              /* VX_RX_BATCH * VX_RX_BUFSZ */
	struct mmsghdr rx_msgs[VX_RX_BATCH];
	struct iovec rx_iov[VX_RX_BATCH];
	struct sockaddr_storage rx_addr[VX_RX_BATCH];
	union {                       /* UDP_GRO: the segment size of a coalesced datagram */
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} rx_ctl[VX_RX_BATCH];
	int no_gso;                   /* UDP_SEGMENT refused once: send frame by frame */
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

/* Do two normalised addresses name the same endpoint? */
static int sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* Do two normalised addresses have the same IP (any port)? */
static int sa_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/*
 * reply_address() - where frames for a MAC learned from `from` should go. RFC 7348
 * senders (the Linux kernel among them) choose their UDP source port per flow for
 * entropy and listen only on their configured port, so the source port is no address
 * to answer. If `from` is exactly a static peer, it is that peer; else if exactly one
 * static peer has the same IP, it is that peer (its configured port); else it is `from`
 * itself (a sender that uses its bound port, like another netcon service).
 */
static void reply_address(const struct vxlan *vx, struct sockaddr_storage *from)
{
	int match = VX_NONE, nmatch = 0;

	for (int i = 0; i < vx->nflood; i++) {
		const struct vx_remote *r = &vx->remotes[vx->flood[i]];
		if (!r->is_static)
			continue;
		if (sa_equal(&r->sa, from))
			return;
		if (sa_same_host(&r->sa, from)) {
			match = vx->flood[i];
			nmatch++;
		}
	}
	if (nmatch == 1)
		*from = vx->remotes[match].sa;
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

/* ---- remotes ------------------------------------------------------------------------ */

/* The remote for a normalised address: an existing one, or a new slot. Returns its
 * index, or VX_NONE when the pool is exhausted. That cannot happen: at most
 * NC_VXLAN_MAX_PEERS static remotes plus one per other FDB entry are in use whenever the
 * FDB asks for one (callers release first), and the pool holds one more than that. */
static int remote_get(struct vxlan *vx, const struct sockaddr_storage *sa, socklen_t len)
{
	struct vx_remote *r;
	int idx;

	for (int i = 0; i < vx->nflood; i++)
		if (sa_equal(&vx->remotes[vx->flood[i]].sa, sa))
			return vx->flood[i];
	if (vx->nremote_free == 0)
		return VX_NONE;
	idx = vx->remote_free[--vx->nremote_free];
	r = &vx->remotes[idx];
	r->sa = *sa;
	r->len = len;
	r->refs = 0;
	r->is_static = 0;
	r->send_err = 0;
	r->flood_pos = vx->nflood;
	vx->flood[vx->nflood++] = idx;
	return idx;
}

/* Drop one FDB reference; a learned remote nobody points at leaves the flood list. */
static void remote_put(struct vxlan *vx, int idx)
{
	struct vx_remote *r = &vx->remotes[idx];
	int last;

	if (--r->refs > 0 || r->is_static)
		return;
	last = vx->flood[--vx->nflood];
	vx->flood[r->flood_pos] = last;
	vx->remotes[last].flood_pos = r->flood_pos;
	r->flood_pos = VX_NONE;
	vx->remote_free[vx->nremote_free++] = idx;
}

/* ---- forwarding database ------------------------------------------------------------ */

/* Hash bucket of a MAC address (multiplicative hash of its 48 bits). */
static unsigned int mac_hash(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | mac[i];
	return (unsigned int)((v * 0x9e3779b97f4a7c15ull) >> (64 - VX_HASH_BITS));
}

/* Index of the FDB entry for mac (live or not), or VX_NONE. */
static int fdb_find(const struct vxlan *vx, const uint8_t mac[6])
{
	for (int i = vx->hash[mac_hash(mac)]; i != VX_NONE; i = vx->fdb[i].hnext)
		if (memcmp(vx->fdb[i].mac, mac, 6) == 0)
			return i;
	return VX_NONE;
}

static void lru_unlink(struct vxlan *vx, int i)
{
	struct vx_fdb *e = &vx->fdb[i];

	if (e->prev != VX_NONE)
		vx->fdb[e->prev].next = e->next;
	else
		vx->lru_head = e->next;
	if (e->next != VX_NONE)
		vx->fdb[e->next].prev = e->prev;
	else
		vx->lru_tail = e->prev;
}

static void lru_append(struct vxlan *vx, int i)
{
	struct vx_fdb *e = &vx->fdb[i];

	e->prev = vx->lru_tail;
	e->next = VX_NONE;
	if (vx->lru_tail != VX_NONE)
		vx->fdb[vx->lru_tail].next = i;
	else
		vx->lru_head = i;
	vx->lru_tail = i;
}

/* Remove entry i from the hash index and the LRU list and release its remote. */
static void fdb_remove(struct vxlan *vx, int i)
{
	struct vx_fdb *e = &vx->fdb[i];
	int *pp = &vx->hash[mac_hash(e->mac)];

	while (*pp != i)
		pp = &vx->fdb[*pp].hnext;
	*pp = e->hnext;
	lru_unlink(vx, i);
	if (e->remote != VX_NONE)
		remote_put(vx, e->remote);
	e->hnext = vx->fdb_free;
	vx->fdb_free = i;
}

/* Forget every entry not seen for NC_VXLAN_FDB_AGE_MS. The LRU list is ordered by
 * seen_ms, so this stops at the first live entry: O(1) when nothing expires. */
static void fdb_age(struct vxlan *vx, uint64_t now)
{
	while (vx->lru_head != VX_NONE && now - vx->fdb[vx->lru_head].seen_ms > NC_VXLAN_FDB_AGE_MS)
		fdb_remove(vx, vx->lru_head);
}

/* Learn that mac lives at the (normalised) sender address. */
static void fdb_learn(struct vxlan *vx, const uint8_t mac[6], const struct sockaddr_storage *sa,
		      socklen_t len, uint64_t now)
{
	struct vx_fdb *e;
	int i = fdb_find(vx, mac), r;

	if (i != VX_NONE) {
		e = &vx->fdb[i];
		if (!sa_equal(&vx->remotes[e->remote].sa, sa)) {
			/* The station moved: point it at its new address. */
			remote_put(vx, e->remote);
			e->remote = remote_get(vx, sa, len);
			if (e->remote == VX_NONE) {
				fdb_remove(vx, i);
				return;
			}
			vx->remotes[e->remote].refs++;
		}
		e->seen_ms = now;
		if (vx->lru_tail != i) {
			lru_unlink(vx, i);
			lru_append(vx, i);
		}
		return;
	}
	if (vx->fdb_free == VX_NONE)
		fdb_remove(vx, vx->lru_head);   /* full: replace the oldest */
	r = remote_get(vx, sa, len);
	if (r == VX_NONE)
		return;
	i = vx->fdb_free;
	e = &vx->fdb[i];
	vx->fdb_free = e->hnext;
	memcpy(e->mac, mac, 6);
	e->remote = r;
	vx->remotes[r].refs++;
	e->seen_ms = now;
	e->hnext = vx->hash[mac_hash(mac)];
	vx->hash[mac_hash(mac)] = i;
	lru_append(vx, i);
}

/* The remote a live FDB entry gives for mac, or VX_NONE. */
static int fdb_lookup(const struct vxlan *vx, const uint8_t mac[6], uint64_t now)
{
	int i = fdb_find(vx, mac);

	if (i == VX_NONE || now - vx->fdb[i].seen_ms > NC_VXLAN_FDB_AGE_MS)
		return VX_NONE;
	return vx->fdb[i].remote;
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
 * send_result() - note how a send to the remote whose address msg_name is went: e is 0
 * or an errno. A failure other than a full buffer is worth a warning, once until that
 * remote works again: a peer the kernel has no route to (ENETUNREACH, EHOSTUNREACH,
 * EADDRNOTAVAIL) is what a service sees when it runs in a network namespace that cannot
 * reach its peers (a fresh `unshare --net` has only a loopback device, and that down),
 * and the only other sign would be connections that time out.
 */
static void send_result(void *msg_name, int e)
{
	struct vx_remote *r = (struct vx_remote *)((char *)msg_name - offsetof(struct vx_remote, sa));
	char a[64];

	if (e == 0 || e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR) {
		if (e == 0)
			r->send_err = 0;
		return;
	}
	if (r->send_err == e)
		return;
	r->send_err = e;
	nc_warn("vxlan: cannot send to %s: %s%s", sa_str(&r->sa, a, sizeof(a)), strerror(e),
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
			send_result(vx->tx_msgs[i].msg_hdr.msg_name, errno);
			i++;
			continue;
		}
		if (r == 0)
			r = 1;   /* not expected; guarantees progress */
		for (int k = i; k < i + r; k++)
			send_result(vx->tx_msgs[k].msg_hdr.msg_name, 0);
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
			send_result(gm[g].msg_hdr.msg_name, errno);
			l->stats.tx_dropped += (uint64_t)(first[g + 1] - first[g]);
			nc_log_ratelimited(NC_LOG_DEBUG, "vxlan: batched frames dropped: %s",
					   strerror(errno));
			g++;
			continue;
		}
		if (r == 0)
			r = 1;
		for (int k = first[g]; k < first[g + r]; k++) {
			l->stats.tx_frames++;
			l->stats.tx_bytes += vx->txb_len[k];
		}
		g += r;
	}
	vx->txb_n = 0;
}

/* Queue one unicast frame for flush(). 0, or -EMSGSIZE when it does not fit a slot. */
static int txb_queue(struct vxlan *vx, int remote, const struct iovec *iov, int iovcnt,
		     size_t len)
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
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_name = &vx->remotes[remote].sa;
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_namelen = vx->remotes[remote].len;
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_iov = &vx->txb_iov[vx->txb_n];
	vx->txb_msgs[vx->txb_n].msg_hdr.msg_iovlen = 1;
	vx->txb_len[vx->txb_n] = len;
	vx->txb_n++;
	return 0;
}

/* A frame for an unknown destination and no peer to flood it to: if it asks for another
 * host's address (an ARP request, or an IPv6 neighbour solicitation that is not duplicate
 * address detection), the stack wants to reach that host: say once why nothing will
 * answer. */
static void warn_no_peer(struct vxlan *vx, const struct iovec *iov, int iovcnt)
{
	static const uint8_t unspec[16];
	uint8_t f[78];
	char who[INET6_ADDRSTRLEN];
	size_t n = iov_peek(iov, iovcnt, f, sizeof(f));

	if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1 &&
	    memcmp(f + 28, f + 38, 4))
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
 * destination, else to every address of the flood list. Never blocks: a full socket
 * buffer drops the frame. Returns 0 when at least one copy left, else a negative errno
 * (counted in tx_dropped). */
static int vxlan_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	struct vxlan *vx = l->priv;
	uint8_t dst[6];
	size_t len = 0;
	int n = 0, err = -EHOSTUNREACH, r;
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
	fdb_age(vx, now);
	r = (dst[0] & 1) ? VX_NONE : fdb_lookup(vx, dst, now);
	if (r != VX_NONE && txb_queue(vx, r, iov, iovcnt, len) == 0)
		return 0;
	/* Sent at once below: keep the order of what was queued before. */
	if (vx->txb_n)
		vxlan_flush(l);
	if (r != VX_NONE) {
		struct msghdr *mh = &vx->tx_msgs[0].msg_hdr;
		mh->msg_name = &vx->remotes[r].sa;
		mh->msg_namelen = vx->remotes[r].len;
		mh->msg_iov = vx->tx_iov;
		mh->msg_iovlen = (size_t)iovcnt + 1;
		n = 1;
	} else {
		for (int i = 0; i < vx->nflood; i++) {
			struct vx_remote *rem = &vx->remotes[vx->flood[i]];
			struct msghdr *mh = &vx->tx_msgs[i].msg_hdr;
			mh->msg_name = &rem->sa;
			mh->msg_namelen = rem->len;
			mh->msg_iov = vx->tx_iov;
			mh->msg_iovlen = (size_t)iovcnt + 1;
		}
		n = vx->nflood;
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

/* Check, learn from and deliver one VXLAN datagram. */
static void vxlan_rx_datagram(struct vxlan *vx, uint8_t *buf, size_t len,
			      const struct sockaddr_storage *raw, uint64_t now)
{
	struct nc_link *l = &vx->link;
	struct sockaddr_storage from;
	const uint8_t *frame, *src;
	int off, salen;
	char a[64];

	if ((off = nc_vxlan_decode(buf, len, vx->vni)) < 0 ||
	    (salen = sa_normalise(&from, (const struct sockaddr *)raw, vx->family)) < 0) {
		l->stats.rx_dropped++;
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
		reply_address(vx, &from);
		fdb_learn(vx, src, &from, (socklen_t)salen, now);
	}
	l->stats.rx_frames++;
	l->stats.rx_bytes += len;
	l->deliver(l->ctx, frame, len);
}

/* One received message (i of the batch): a datagram, or with UDP_GRO several datagrams of
 * gso_size bytes (the last may be shorter) that the kernel coalesced. */
static void vxlan_rx_one(struct vxlan *vx, int i, uint64_t now)
{
	struct msghdr *mh = &vx->rx_msgs[i].msg_hdr;
	size_t len = vx->rx_msgs[i].msg_len, seg = len;
	uint8_t *buf = vx->rx_buf + (size_t)i * VX_RX_BUFSZ;

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
	for (size_t off = 0; off < len; off += seg)
		vxlan_rx_datagram(vx, buf + off, len - off < seg ? len - off : seg,
				  &vx->rx_addr[i], now);
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
		fdb_age(vx, now);
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
 * added. Returns 0, or -1 when the line did not fit. */
static int __attribute__((format(printf, 4, 5)))
put_line(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos + 1 >= len)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *pos) {
		buf[*pos] = '\0';   /* no half lines */
		*pos = len;
		return -1;
	}
	*pos += (size_t)n;
	return 0;
}

/* Describe the link for `netcon status`: bind address and VNI, static peers, then the
 * learned MACs, newest first. */
static void vxlan_describe(struct nc_link *l, char *buf, size_t len)
{
	struct vxlan *vx = l->priv;
	uint64_t now = now_ms();
	size_t pos = 0;
	char a[64], m[20];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (put_line(buf, len, &pos, "link vxlan bind %s vni %u\n",
		     sa_str(&vx->bind, a, sizeof(a)), vx->vni) < 0)
		return;
	for (int i = 0; i < vx->nflood; i++) {
		const struct vx_remote *r = &vx->remotes[vx->flood[i]];
		if (r->is_static &&
		    put_line(buf, len, &pos, "peer %s\n", sa_str(&r->sa, a, sizeof(a))) < 0)
			return;
	}
	for (int i = vx->lru_tail; i != VX_NONE; i = vx->fdb[i].prev) {
		const struct vx_fdb *e = &vx->fdb[i];
		if (now - e->seen_ms > NC_VXLAN_FDB_AGE_MS)
			break;
		if (put_line(buf, len, &pos, "learned %s -> %s (age %llu s)\n",
			     nc_mac_str(e->mac, m, sizeof(m)),
			     sa_str(&vx->remotes[e->remote].sa, a, sizeof(a)),
			     (unsigned long long)((now - e->seen_ms) / 1000)) < 0)
			return;
	}
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
	for (int i = 0; i < VX_NREMOTES; i++) {
		vx->remotes[i].flood_pos = VX_NONE;
		vx->remote_free[i] = VX_NREMOTES - 1 - i;
	}
	vx->nremote_free = VX_NREMOTES;
	for (unsigned int i = 0; i < VX_HASH_SIZE; i++)
		vx->hash[i] = VX_NONE;
	for (int i = 0; i < NC_VXLAN_FDB_SIZE; i++)
		vx->fdb[i].hnext = i + 1 < NC_VXLAN_FDB_SIZE ? i + 1 : VX_NONE;
	vx->fdb_free = 0;
	vx->lru_head = vx->lru_tail = VX_NONE;

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
		r = remote_get(vx, &ss, (socklen_t)len);   /* a repeated peer is kept once */
		vx->remotes[r].is_static = 1;
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
