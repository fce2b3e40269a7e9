/*
 * capture.c — the frames that cross the link, written in libpcap's file format.
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
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define NC_PCAP_MAGIC      0xa1b2c3d4u   /* microsecond timestamps, our byte order */
#define NC_PCAP_SNAPLEN    262144u
#define NC_PCAP_LINK_ETH   1u
#define NC_PCAP_LINK_RAW   101u          /* IP packets: an IP-level link (WireGuard) */
#define NC_PCAP_HDR_LEN    24
#define NC_PCAP_REC_LEN    16
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
};

struct nc_capture {
	struct nc_cap_sink *sinks[NC_CAPTURE_MAX_SINKS];
	int nsinks;
	uint64_t frames;             /* frames seen while any sink was open */
};

static void put_header(struct nc_cap_sink *k, uint32_t linktype)
{
	/* magic, version 2.4, no time zone, no accuracy, snap length, link type */
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = { NC_PCAP_MAGIC, 2, 4, 0, 0, NC_PCAP_SNAPLEN, linktype };

	_Static_assert(sizeof(h) == NC_PCAP_HDR_LEN, "pcap header");
	memcpy(k->buf + k->used, &h, sizeof(h));
	k->used += sizeof(h);
	k->file_bytes += sizeof(h);
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

static struct nc_cap_sink *sink_new(int fd, int is_file, uint32_t linktype)
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
	put_header(k, linktype);
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
	put_header(k, k->linktype);
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
	k = r < 0 ? NULL : sink_new(fd, 1, linktype(svc));
	if (!k) {
		close(fd);
		snprintf(err, errlen, "--pcap: out of memory");
		return -ENOMEM;
	}
	svc->capture->sinks[svc->capture->nsinks++] = k;
	/* The header on disk at once: a reader of a service that saw no frame yet finds a
	 * valid, empty capture. */
	r = sink_write(k);
	if (r < 0) {
		snprintf(err, errlen, "--pcap %s: %s", svc->cfg.pcap_path, strerror(-r));
		return r;
	}
	return 0;
}

int nc_capture_add_pipe(struct nc_service *svc, int fd)
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
	k = sink_new(fd, 0, linktype(svc));
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
	nc_info("capture client attached (%d sinks)", svc->capture->nsinks);
	return 0;
out:
	if (svc->capture->nsinks == 0) {
		free(svc->capture);
		svc->capture = NULL;
	}
	return r;
}

/* One frame into one sink. 0, or a negative errno that ends the sink. */
static int sink_frame(struct nc_service *svc, struct nc_cap_sink *k, const uint8_t *rec,
		      const struct iovec *iov, int n, size_t len)
{
	size_t need = NC_PCAP_REC_LEN + len;
	int r;

	if (k->is_file && svc->cfg.pcap_size &&
	    k->file_bytes + need > svc->cfg.pcap_size && k->file_bytes > NC_PCAP_HDR_LEN) {
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
	memcpy(k->buf + k->used, rec, NC_PCAP_REC_LEN);
	k->used += NC_PCAP_REC_LEN;
	for (int i = 0; i < n; i++) {
		memcpy(k->buf + k->used, iov[i].iov_base, iov[i].iov_len);
		k->used += iov[i].iov_len;
	}
	k->file_bytes += need;
	k->frames++;
	return 0;
}

void nc_capture_frame(struct nc_service *svc, const struct iovec *iov, int n)
{
	struct nc_capture *c = svc->capture;
	struct timespec ts;
	uint32_t rec[4];
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len > NC_PCAP_SNAPLEN)
		return;   /* cannot happen: frames are at most 64 KiB */
	clock_gettime(CLOCK_REALTIME, &ts);
	rec[0] = (uint32_t)ts.tv_sec;
	rec[1] = (uint32_t)(ts.tv_nsec / 1000);
	rec[2] = rec[3] = (uint32_t)len;
	c->frames++;
	for (int i = 0; i < c->nsinks; i++) {
		int r = sink_frame(svc, c->sinks[i], (const uint8_t *)rec, iov, n, len);
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

void nc_capture_frame_linear(struct nc_service *svc, const uint8_t *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };

	nc_capture_frame(svc, &iov, 1);
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
