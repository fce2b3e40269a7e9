/*
 * capture.c — the frames that cross the link, written in libpcap's file format or pcapng.
 *
 * DOC: Theory of operation
 *
 * What is captured. Every Ethernet frame the service hands to its link (lwIP's output,
 * ARP and ND announcements, frames sent again by --link-fault) and every frame the link
 * delivers to the service (before --link-fault acts on it), as it crosses the boundary:
 * stack.c calls nc_capture_frame() at the three places where that happens. A TAP link
 * with offloads exchanges TCP segments larger than the MTU (the kernel's coalesced
 * ones) and leaves TCP checksums of outgoing frames to the kernel: such frames appear
 * as they crossed, with the checksum field not yet filled in.
 *
 * Who captures. Sinks: the file of `--pcap FILE` (at most one, for the service's life),
 * and the pipes of `netcon capture` clients (NC_MSG_CAPTURE: the client passes the
 * write end of a pipe as the request's subject fd and reads the stream from the other
 * end). Each sink gets a complete pcap stream of its own: the global header, then one
 * record (16-byte header and the frame) per frame, microsecond timestamps of
 * CLOCK_REALTIME, link type Ethernet (raw IP, 101, for an IP-level link: WireGuard's
 * packets carry no Ethernet header), snap length 262144 (no frame is cut).
 *
 * Cost. With no sink, svc->capture is NULL and each of the three places costs a test
 * of that pointer. With sinks, a frame is copied once into each sink's buffer; buffers
 * are written out at the end of each turn of the event loop (nc_capture_flush), so a
 * transfer costs one write() per turn per sink, not one per frame.
 *
 * pcapng. A sink may write pcapng instead (--pcap-format pcapng, a FILE named .pcapng,
 * `netcon capture --pcapng`): a Section Header Block and an Interface Description Block
 * begin the stream (and each rotated file), then one Enhanced Packet Block per frame,
 * with epb_flags (inbound or outbound) and, for a program's TCP or UDP traffic, an
 * opt_comment "pid PID COMMAND: tcp local ADDR:PORT remote ADDR:PORT". The comment is
 * made once per frame, and only while a pcapng sink is open: frame_comment() parses the
 * IP and transport headers and finds the socket through lwIP's pcb lists (active TCP,
 * then listeners, then UDP: the walk lwIP itself makes for each segment), whose callback
 * argument is the program's nc_sock with its pid (nc_sock_command() reads the command
 * once). The comments of the last NC_CAP_RECENT connections are remembered for the
 * frames that come after lwIP let go of the pcb (the FIN exchange, TIME_WAIT).
 *
 * Never blocking. The event loop serves every program; a capture must not stall it.
 *  - A file is a regular file: written with write(), which does not wait for a reader.
 *    --pcap-size SIZE rotates it: before a record would take FILE past SIZE bytes,
 *    FILE.2 becomes FILE.3, FILE.1 FILE.2, FILE FILE.1, and a new FILE starts with its
 *    own header (NC_PCAP_KEEP old files; records are never split between files). A
 *    write error (a full disk) ends the file's capture with one log line; the service
 *    goes on.
 *  - A pipe is non-blocking. A record that does not fit in what is left of the sink's
 *    buffer (1 MiB, the pipe's own buffer raised to 1 MiB when allowed) after writing
 *    what the pipe takes is dropped whole and counted, as a kernel capture drops when
 *    its reader is slow: the stream stays well-formed. The pipe waits in the epoll set
 *    with EPOLLOUT, edge-triggered, so a drained pipe wakes the loop to write the rest;
 *    EPOLLERR (the reader closed its end) ends the sink.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "netcon/version.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/udp.h"

#define NC_PCAP_MAGIC      0xa1b2c3d4u   /* microsecond timestamps, our byte order */
#define NC_PCAP_SNAPLEN    262144u
#define NC_PCAP_LINK_ETH   1u
#define NC_PCAP_LINK_RAW   101u          /* IP packets: an IP-level link (WireGuard) */
#define NC_PCAP_HDR_LEN    24
#define NC_PCAP_REC_LEN    16
#define NC_PCAPNG_SHB      0x0a0d0d0au   /* Section Header Block */
#define NC_PCAPNG_IDB      1u            /* Interface Description Block */
#define NC_PCAPNG_EPB      6u            /* Enhanced Packet Block */
#define NC_PCAPNG_BOM      0x1a2b3c4du   /* byte-order magic: our byte order */
#define NC_PCAPNG_OPT_COMMENT  1         /* opt_comment */
#define NC_PCAPNG_OPT_FLAGS    2         /* epb_flags: bits 0-1 direction */
#define NC_PCAPNG_OPT_APPL     4         /* shb_userappl */
#define NC_PCAPNG_IN       1u
#define NC_PCAPNG_OUT      2u
/* An Enhanced Packet Block without its data and comment: type, length, interface,
 * time (2), captured and original length; epb_flags (8), end of options, length. */
#define NC_PCAPNG_EPB_LEN  (28 + 8 + 4 + 4)
#define NC_CAP_COMMENT_MAX 160
#define NC_CAP_RECENT      64            /* connections whose comment is remembered */
#define NC_CAP_FILE_BUF    (256 * 1024)
#define NC_CAP_PIPE_BUF    (1024 * 1024)

struct nc_cap_sink {
	struct nc_handler h;         /* NC_H_CAPTURE (pipes only) */
	int fd;
	int is_file;
	uint8_t *buf;
	size_t used, cap;
	uint64_t file_bytes;         /* file: bytes in FILE so far (written and buffered) */
	uint64_t frames, dropped;
	uint32_t linktype;           /* of the header: rotation writes it again */
	int pcapng;                  /* pcapng blocks, with comments; else classic pcap */
	size_t hdr_len;              /* the header's length: a file of only it is empty */
};

/* A connection and its comment, remembered for its frames that come once lwIP or the
 * program let go of it (the last FIN and ACKs, TIME_WAIT). */
struct nc_cap_key {
	struct nc_addr local, remote;   /* zeroed first: compared with memcmp */
	int proto;
};

struct nc_cap_recent {
	struct nc_cap_key key;
	const struct nc_sock *sock;  /* whose comment it is (compared, never followed) */
	pid_t pid;
	size_t comment_len;
	char comment[NC_CAP_COMMENT_MAX];
};

/* One frame as the sinks write it. */
struct nc_cap_frame {
	const struct iovec *iov;
	int n;
	size_t len;
	uint64_t usec;               /* CLOCK_REALTIME */
	uint32_t dir;                /* NC_PCAPNG_IN or NC_PCAPNG_OUT */
	const char *comment;         /* pcapng: the connection's owner, or NULL */
	size_t comment_len;
};

struct nc_capture {
	struct nc_cap_sink *sinks[NC_CAPTURE_MAX_SINKS];
	int nsinks;
	int npcapng;                 /* sinks that want comments */
	uint64_t frames;             /* frames seen while any sink was open */
	struct nc_cap_recent recent[NC_CAP_RECENT];
	unsigned recent_next, recent_last;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* len bytes into the sink's buffer, then zeros up to `to` bytes (pcapng's padding). */
static void put_bytes(struct nc_cap_sink *k, const void *p, size_t len, size_t to)
{
	memcpy(k->buf + k->used, p, len);
	memset(k->buf + k->used + len, 0, to - len);
	k->used += to;
	k->file_bytes += to;
}

static void put32(struct nc_cap_sink *k, uint32_t v)
{
	put_bytes(k, &v, 4, 4);
}

/* A pcapng option: code, length, the value padded to 4 bytes. */
static void put_opt(struct nc_cap_sink *k, uint16_t code, const void *p, size_t len)
{
	uint16_t h[2] = { code, (uint16_t)len };

	put_bytes(k, h, 4, 4);
	put_bytes(k, p, len, pad4(len));
}

static void put_header(struct nc_cap_sink *k)
{
	static const char appl[] = "netcon " NETCON_VERSION;
	uint64_t unknown = UINT64_MAX;
	uint16_t ver[2] = { 1, 0 }, link[2] = { (uint16_t)k->linktype, 0 };
	uint32_t len;
	size_t start = k->used;

	if (!k->pcapng) {
		/* magic, version 2.4, no time zone, no accuracy, snap length, link type */
		struct {
			uint32_t magic;
			uint16_t major, minor;
			int32_t zone;
			uint32_t sigfigs, snaplen, linktype;
		} h = { NC_PCAP_MAGIC, 2, 4, 0, 0, NC_PCAP_SNAPLEN, k->linktype };

		_Static_assert(sizeof(h) == NC_PCAP_HDR_LEN, "pcap header");
		put_bytes(k, &h, sizeof(h), sizeof(h));
		k->hdr_len = sizeof(h);
		return;
	}
	/* Section Header Block: version 1.0, section length unknown (a stream), the
	 * writer's name; then one Interface Description Block: link type and snap length,
	 * timestamps in microseconds (the default, no if_tsresol). */
	len = (uint32_t)(28 + 4 + pad4(sizeof(appl) - 1) + 4);
	put32(k, NC_PCAPNG_SHB);
	put32(k, len);
	put32(k, NC_PCAPNG_BOM);
	put_bytes(k, ver, 4, 4);
	put_bytes(k, &unknown, 8, 8);
	put_opt(k, NC_PCAPNG_OPT_APPL, appl, sizeof(appl) - 1);
	put32(k, 0);   /* opt_endofopt */
	put32(k, len);
	put32(k, NC_PCAPNG_IDB);
	put32(k, 20);
	put_bytes(k, link, 4, 4);
	put32(k, NC_PCAP_SNAPLEN);
	put32(k, 20);
	k->hdr_len = k->used - start;
}

/* Write the buffer out: all of it (file, blocking), or what the pipe takes. 0, or a
 * negative errno that ends the sink. */
static int sink_write(struct nc_cap_sink *k)
{
	size_t off = 0;

	while (off < k->used) {
		ssize_t n = write(k->fd, k->buf + off, k->used - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !k->is_file)
				break;
			return -errno;
		}
		off += (size_t)n;
	}
	memmove(k->buf, k->buf + off, k->used - off);
	k->used -= off;
	return 0;
}

static struct nc_cap_sink *sink_new(int fd, int is_file, uint32_t linktype, int pcapng)
{
	struct nc_cap_sink *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->cap = is_file ? NC_CAP_FILE_BUF : NC_CAP_PIPE_BUF;
	k->buf = malloc(k->cap);
	if (!k->buf) {
		free(k);
		return NULL;
	}
	k->h.type = NC_H_CAPTURE;
	k->fd = fd;
	k->is_file = is_file;
	k->linktype = linktype;
	k->pcapng = pcapng;
	put_header(k);
	return k;
}

static void sink_free(struct nc_service *svc, struct nc_cap_sink *k)
{
	if (!k->is_file)
		nc_epoll_del(svc, k->fd);
	close(k->fd);
	free(k->buf);
	free(k);
}

/* Ethernet frames, or IP packets for an IP-level link (the link is open before any sink). */
static uint32_t linktype(struct nc_service *svc)
{
	return svc->link && svc->link->ip_level ? NC_PCAP_LINK_RAW : NC_PCAP_LINK_ETH;
}

static int capture_get(struct nc_service *svc)
{
	if (!svc->capture) {
		svc->capture = calloc(1, sizeof(*svc->capture));
		if (!svc->capture)
			return -ENOMEM;
	}
	return 0;
}

/* Remove sink i; the last one gone frees the capture (and the hooks cost a test again). */
static void sink_remove(struct nc_service *svc, int i, const char *why)
{
	struct nc_capture *c = svc->capture;
	struct nc_cap_sink *k = c->sinks[i];

	if (why)
		nc_warn("capture %s: %s; %llu frames captured, %llu dropped",
			k->is_file ? svc->cfg.pcap_path : "client", why,
			(unsigned long long)k->frames, (unsigned long long)k->dropped);
	else
		nc_info("capture %s closed: %llu frames captured, %llu dropped",
			k->is_file ? svc->cfg.pcap_path : "client",
			(unsigned long long)k->frames, (unsigned long long)k->dropped);
	c->npcapng -= k->pcapng;
	sink_free(svc, k);
	c->sinks[i] = c->sinks[--c->nsinks];
	c->sinks[c->nsinks] = NULL;
	if (c->nsinks == 0) {
		free(c);
		svc->capture = NULL;
	}
}

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/* FILE.2 → FILE.3, FILE.1 → FILE.2, FILE → FILE.1, and a new FILE. 0 or a negative errno. */
static int rotate(struct nc_service *svc, struct nc_cap_sink *k)
{
	char from[NC_PCAP_PATH_MAX + 16], to[NC_PCAP_PATH_MAX + 16];   /* ".%d" */
	const char *path = svc->cfg.pcap_path;
	int r = sink_write(k), fd;

	if (r < 0)
		return r;
	for (int i = NC_PCAP_KEEP; i >= 1; i--) {
		snprintf(to, sizeof(to), "%s.%d", path, i);
		if (i > 1)
			snprintf(from, sizeof(from), "%s.%d", path, i - 1);
		else
			snprintf(from, sizeof(from), "%s", path);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	fd = open_file(path);
	if (fd < 0)
		return fd;
	close(k->fd);
	k->fd = fd;
	k->file_bytes = 0;
	put_header(k);
	return 0;
}

int nc_capture_open_file(struct nc_service *svc, char *err, size_t errlen)
{
	struct nc_cap_sink *k;
	int fd, r;

	if (!svc->cfg.pcap_path[0])
		return 0;
	fd = open_file(svc->cfg.pcap_path);
	if (fd < 0) {
		snprintf(err, errlen, "--pcap %s: %s", svc->cfg.pcap_path, strerror(-fd));
		return fd;
	}
	r = capture_get(svc);
	k = r < 0 ? NULL : sink_new(fd, 1, linktype(svc), svc->cfg.pcapng);
	if (!k) {
		close(fd);
		snprintf(err, errlen, "--pcap: out of memory");
		return -ENOMEM;
	}
	svc->capture->sinks[svc->capture->nsinks++] = k;
	svc->capture->npcapng += k->pcapng;
	/* The header on disk at once: a reader of a service that saw no frame yet finds a
	 * valid, empty capture. */
	r = sink_write(k);
	if (r < 0) {
		snprintf(err, errlen, "--pcap %s: %s", svc->cfg.pcap_path, strerror(-r));
		return r;
	}
	return 0;
}

int nc_capture_add_pipe(struct nc_service *svc, int fd, int pcapng)
{
	struct nc_cap_sink *k;
	int r, fl = fcntl(fd, F_GETFL);
	struct stat st;

	if (fl < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode) || (fl & O_ACCMODE) == O_RDONLY)
		return -EINVAL;   /* the write end of a pipe, nothing else */
	r = capture_get(svc);
	if (r < 0)
		return r;
	if (svc->capture->nsinks >= NC_CAPTURE_MAX_SINKS) {
		r = -EBUSY;
		goto out;
	}
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);   /* the caller closes the one it got */
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		goto out;
	}
	fcntl(fd, F_SETPIPE_SZ, NC_CAP_PIPE_BUF);   /* best effort: pipe-max-size may refuse */
	k = sink_new(fd, 0, linktype(svc), pcapng);
	if (!k) {
		close(fd);
		r = -ENOMEM;
		goto out;
	}
	r = nc_epoll_add(svc, fd, EPOLLOUT | EPOLLET, &k->h);
	if (r < 0) {
		sink_free(svc, k);
		goto out;
	}
	svc->capture->sinks[svc->capture->nsinks++] = k;
	svc->capture->npcapng += k->pcapng;
	nc_info("capture client attached (%s, %d sinks)", pcapng ? "pcapng" : "pcap",
		svc->capture->nsinks);
	return 0;
out:
	if (svc->capture->nsinks == 0) {
		free(svc->capture);
		svc->capture = NULL;
	}
	return r;
}

/* One frame into one sink. 0, or a negative errno that ends the sink. */
static int sink_frame(struct nc_service *svc, struct nc_cap_sink *k,
		      const struct nc_cap_frame *f)
{
	size_t need;
	int r;

	if (k->pcapng)
		need = NC_PCAPNG_EPB_LEN + pad4(f->len) +
		       (f->comment ? 4 + pad4(f->comment_len) : 0);
	else
		need = NC_PCAP_REC_LEN + f->len;
	if (k->is_file && svc->cfg.pcap_size &&
	    k->file_bytes + need > svc->cfg.pcap_size && k->file_bytes > k->hdr_len) {
		r = rotate(svc, k);
		if (r < 0)
			return r;
	}
	if (k->cap - k->used < need) {
		r = sink_write(k);
		if (r < 0)
			return r;
		if (k->cap - k->used < need) {   /* a pipe whose reader is behind */
			k->dropped++;
			return 0;
		}
	}
	if (k->pcapng) {
		put32(k, NC_PCAPNG_EPB);
		put32(k, (uint32_t)need);
		put32(k, 0);   /* the interface: the one of the header */
		put32(k, (uint32_t)(f->usec >> 32));
		put32(k, (uint32_t)f->usec);
		put32(k, (uint32_t)f->len);
		put32(k, (uint32_t)f->len);
	} else {
		uint32_t rec[4] = { (uint32_t)(f->usec / 1000000), (uint32_t)(f->usec % 1000000),
				    (uint32_t)f->len, (uint32_t)f->len };
		put_bytes(k, rec, sizeof(rec), sizeof(rec));
	}
	for (int i = 0; i < f->n; i++)
		put_bytes(k, f->iov[i].iov_base, f->iov[i].iov_len, f->iov[i].iov_len);
	if (k->pcapng) {
		put_bytes(k, "", 0, pad4(f->len) - f->len);
		if (f->comment)
			put_opt(k, NC_PCAPNG_OPT_COMMENT, f->comment, f->comment_len);
		put_opt(k, NC_PCAPNG_OPT_FLAGS, &f->dir, 4);
		put32(k, 0);   /* opt_endofopt */
		put32(k, (uint32_t)need);
	}
	k->frames++;
	return 0;
}

/* An lwIP address of a pcb against a frame's; a wildcard matches when any_ok. */
static int ip_is(const ip_addr_t *ip, const struct nc_addr *a, int any_ok)
{
	if (IP_IS_ANY_TYPE_VAL(*ip))
		return any_ok;
	if (IP_IS_V4_VAL(*ip))
		return a->family == AF_INET &&
		       ((any_ok && ip4_addr_isany_val(*ip_2_ip4(ip))) ||
			!memcmp(&ip_2_ip4(ip)->addr, a->addr, 4));
	return a->family == AF_INET6 &&
	       ((any_ok && ip6_addr_isany(ip_2_ip6(ip))) ||
		!memcmp(ip_2_ip6(ip)->addr, a->addr, 16));
}

/* The program's socket a frame belongs to, from lwIP's pcbs (the same walk lwIP makes
 * for each segment it receives): a connection, else the listener a handshake is for;
 * NULL when none is a program's. */
static struct nc_sock *frame_sock(const struct nc_cap_key *key)
{
	const struct nc_addr *l = &key->local, *r = &key->remote;

	if (key->proto == 6) {
		for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
			if (p->local_port == l->port && p->remote_port == r->port &&
			    ip_is(&p->local_ip, l, 0) && ip_is(&p->remote_ip, r, 0))
				return p->callback_arg;
		for (struct tcp_pcb_listen *p = tcp_listen_pcbs.listen_pcbs; p; p = p->next)
			if (p->local_port == l->port && ip_is(&p->local_ip, l, 1))
				return p->callback_arg;
		return NULL;
	}
	for (struct udp_pcb *p = udp_pcbs; p; p = p->next)
		if (p->local_port == l->port && ip_is(&p->local_ip, l, 1) &&
		    (!(p->flags & UDP_FLAGS_CONNECTED) ||
		     (p->remote_port == r->port && ip_is(&p->remote_ip, r, 0))))
			return nc_udp_pcb_sock(p);
	return NULL;
}

/* The comment of a frame: "pid PID COMMAND: tcp local ADDR:PORT remote ADDR:PORT" for a
 * program's TCP or UDP traffic, local being the service's side, its length in *len; NULL
 * (no comment) for the rest (ARP, ND, ICMP, DNS of --dns, published ports' kernel side).
 * The text stays in c->recent until the next frame. */
static const char *frame_comment(struct nc_service *svc, const struct nc_cap_frame *f,
				 size_t *len)
{
	struct nc_capture *c = svc->capture;
	uint8_t h[14 + 60 + 4];
	size_t have = 0, off = 0;
	struct nc_addr src, dst;
	struct nc_cap_key key;
	struct nc_cap_recent *e;
	struct nc_sock *s;
	const char *cmd;
	char la[64], ra[64];
	int proto, n;

	for (int i = 0; i < f->n && have < sizeof(h); i++) {
		size_t take = f->iov[i].iov_len < sizeof(h) - have ? f->iov[i].iov_len :
			      sizeof(h) - have;
		memcpy(h + have, f->iov[i].iov_base, take);
		have += take;
	}
	if (!svc->link->ip_level) {
		if (have < 14 || !((h[12] == 0x08 && h[13] == 0x00) ||
				   (h[12] == 0x86 && h[13] == 0xdd)))
			return NULL;
		off = 14;
	}
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	if (have > off && h[off] >> 4 == 4) {
		size_t ihl = (size_t)(h[off] & 15) * 4;
		if (ihl < 20 || have < off + ihl + 4 || ((h[off + 6] & 0x1f) | h[off + 7]))
			return NULL;   /* short, or a fragment after the first (no ports) */
		proto = h[off + 9];
		src.family = dst.family = AF_INET;
		memcpy(src.addr, h + off + 12, 4);
		memcpy(dst.addr, h + off + 16, 4);
		off += ihl;
	} else if (have > off && h[off] >> 4 == 6) {
		if (have < off + 40 + 4)
			return NULL;
		proto = h[off + 6];   /* extension headers: not followed, no comment */
		src.family = dst.family = AF_INET6;
		memcpy(src.addr, h + off + 8, 16);
		memcpy(dst.addr, h + off + 24, 16);
		off += 40;
	} else {
		return NULL;
	}
	if (proto != 6 && proto != 17)
		return NULL;
	src.port = (uint16_t)(h[off] << 8 | h[off + 1]);
	dst.port = (uint16_t)(h[off + 2] << 8 | h[off + 3]);
	memset(&key, 0, sizeof(key));
	key.local = f->dir == NC_PCAPNG_OUT ? src : dst;
	key.remote = f->dir == NC_PCAPNG_OUT ? dst : src;
	key.proto = proto;
	s = frame_sock(&key);
	/* The connection's entry: the last one used (a transfer's frames come in runs), else
	 * any. Its comment is reused while it names the same socket and process. */
	e = &c->recent[c->recent_last];
	if (memcmp(&e->key, &key, sizeof(key))) {
		e = NULL;
		for (int i = 0; i < NC_CAP_RECENT && !e; i++)
			if (!memcmp(&c->recent[i].key, &key, sizeof(key)))
				e = &c->recent[i];
	}
	if (e && (!s || !s->pid || (e->sock == s && e->pid == s->pid && e->comment[0]))) {
		/* The same owner, or no program's pcb any more (the last FIN and ACKs, once
		 * lwIP let go): the comment it had. */
		c->recent_last = (unsigned)(e - c->recent);
		*len = e->comment_len;
		return e->comment_len ? e->comment : NULL;
	}
	cmd = s ? nc_sock_command(s) : NULL;
	if (!cmd)
		return NULL;
	if (!e) {
		e = &c->recent[c->recent_next++ % NC_CAP_RECENT];
		e->key = key;
	}
	n = snprintf(e->comment, sizeof(e->comment), "pid %d %s: %s local %s remote %s",
		     (int)s->pid, cmd, proto == 6 ? "tcp" : "udp",
		     nc_addr_str(&key.local, la, sizeof(la)), nc_addr_str(&key.remote, ra, sizeof(ra)));
	if (n < 0)
		n = 0;
	e->comment_len = (size_t)n < sizeof(e->comment) ? (size_t)n : sizeof(e->comment) - 1;
	e->sock = s;
	e->pid = s->pid;
	/* "?": the process is gone; read again next time, in case it is not. */
	if (!strcmp(cmd, "?"))
		e->sock = NULL;
	c->recent_last = (unsigned)(e - c->recent);
	*len = e->comment_len;
	return e->comment_len ? e->comment : NULL;
}

static void capture_frame(struct nc_service *svc, const struct iovec *iov, int n,
			  uint32_t dir)
{
	struct nc_capture *c = svc->capture;
	struct nc_cap_frame f = { .iov = iov, .n = n, .dir = dir };
	struct timespec ts;

	for (int i = 0; i < n; i++)
		f.len += iov[i].iov_len;
	if (f.len > NC_PCAP_SNAPLEN)
		return;   /* cannot happen: frames are at most 64 KiB */
	clock_gettime(CLOCK_REALTIME, &ts);
	f.usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (c->npcapng)
		f.comment = frame_comment(svc, &f, &f.comment_len);
	c->frames++;
	for (int i = 0; i < c->nsinks; i++) {
		int r = sink_frame(svc, c->sinks[i], &f);
		if (r < 0) {
			char why[96];
			snprintf(why, sizeof(why), "%s", strerror(-r));
			sink_remove(svc, i, why);
			if (!svc->capture)
				return;
			i--;
		}
	}
}

void nc_capture_frame(struct nc_service *svc, const struct iovec *iov, int n)
{
	capture_frame(svc, iov, n, NC_PCAPNG_OUT);
}

void nc_capture_frame_linear(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };

	capture_frame(svc, &iov, 1, NC_PCAPNG_IN);
}

void nc_capture_flush(struct nc_service *svc)
{
	struct nc_capture *c = svc->capture;

	for (int i = 0; c && i < c->nsinks; i++) {
		struct nc_cap_sink *k = c->sinks[i];
		int r;

		if (k->used == 0)
			continue;
		r = sink_write(k);
		if (r < 0) {
			char why[96];
			snprintf(why, sizeof(why), "%s", r == -EPIPE ? "reader gone" : strerror(-r));
			sink_remove(svc, i, r == -EPIPE ? NULL : why);
			c = svc->capture;
			i--;
		}
	}
}

void nc_capture_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	struct nc_capture *c = svc->capture;

	for (int i = 0; c && i < c->nsinks; i++) {
		if (&c->sinks[i]->h != h)
			continue;
		if (events & (EPOLLERR | EPOLLHUP)) {
			sink_remove(svc, i, NULL);
			return;
		}
		/* EPOLLOUT: the pipe drained; nc_capture_flush() at the end of this turn
		 * writes what is waiting. */
		return;
	}
}

void nc_capture_close(struct nc_service *svc)
{
	nc_capture_flush(svc);
	while (svc->capture)
		sink_remove(svc, svc->capture->nsinks - 1, NULL);
}

size_t nc_capture_count(struct nc_service *svc, int *nclients, uint64_t *frames,
			uint64_t *dropped)
{
	struct nc_capture *c = svc->capture;

	*nclients = 0;
	*frames = *dropped = 0;
	if (!c)
		return 0;
	for (int i = 0; i < c->nsinks; i++) {
		*nclients += !c->sinks[i]->is_file;
		*frames += c->sinks[i]->frames;
		*dropped += c->sinks[i]->dropped;
	}
	return (size_t)c->nsinks;
}
