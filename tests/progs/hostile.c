/*
 * hostile.c — a hostile client of the service's control socket, for tests/t_hostile.sh
 * and tests/t_security.sh. It speaks the RPC of include/netcon/rpc.h directly (no
 * intercept) and breaks it on purpose, one attack per run:
 *
 *     hostile SOCKET ATTACK [N] [HOLD_SECONDS]
 *
 * Protocol attacks (each on a fresh connection; the service must drop the client without
 * a reply, promptly): truncated, badlen, oversized, reply-as-request, unknown-type,
 * bad-size, err-set, unknown-flags, missing-fd, extra-fd, three-fds, empty-with-fds,
 * notsock-reply-channel, full-reply-channel, resolve-unterminated, resolve-bad-op.
 * `protocol` runs all of them.
 *
 * Others:
 *   notsock-subject     a subject fd that is no socket: error reply ENOTSOCK, kept
 *   foreign             QUERY / SOCKOPT_GET / SOCKOPT_SET / LISTEN / CONNECT naming
 *                       fds this process holds that are no virtual sockets of the service
 *                       (a fresh socketpair end, a kernel TCP socket, a pipe): nothing
 *                       about any connection comes back
 *   flood N             N HELLOs pipelined on one connection (64 in flight), replies
 *                       read as they come
 *   flood-noread N      HELLOs sent without reading a reply: must be dropped, not hang
 *   conns N [HOLD]      N connections opened and held HOLD seconds (default 0)
 *   binds N [HOLD]      N BIND requests on one connection, every socket kept HOLD seconds
 *
 * Output: one line per attack, `ok NAME: what happened`, or `FAIL NAME: why` (exit 1).
 * Every wait is bounded (at most a few seconds each).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/rpc.h"

static const char *sock_path;
static int failures;
static uint8_t buf[NC_RPC_MAX_MSG * 2];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *name, const char *fmt, const char *arg)
{
	printf("FAIL %s: ", name);
	printf(fmt, arg);
	printf("\n");
	fflush(stdout);
	failures++;
}

static int connect_ctl(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send len raw bytes with nfds fds, as one message. */
static int send_raw(int fd, const void *data, size_t len, const int *fds, int nfds, int flags)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL | flags) < 0 ? -errno : 0;
}

/* A message: header + payload in buf; returns its length. */
static size_t build(uint16_t type, uint16_t flags, const void *pl, size_t plen)
{
	struct nc_hdr h = { .len = (uint32_t)(sizeof(h) + plen), .type = type, .flags = flags,
			    .seq = 7 };

	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy(buf + sizeof(h), pl, plen);
	return sizeof(h) + plen;
}

/* Wait up to `secs` for the service to close fd. 1 if it did (EOF or reset), 0 if a
 * message came instead or nothing happened. */
static int dropped(int fd, double secs)
{
	double end = now() + secs;

	while (now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int fds[NC_RPC_MAX_FDS], nfds;
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = nc_rpc_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
		nc_rpc_close_fds(fds, nfds);
		if (n == 0 || n == -ECONNRESET)
			return 1;
		if (n > 0)
			return 0;   /* a reply: not dropped */
	}
	return 0;
}

/* One request, one reply (bounded: 5 s). Returns the reply's err (≥ 0), or -1. The reply
 * payload is left in buf after the header; *new_fd gets a carried fd (or -1). */
static int request(int fd, uint16_t type, uint16_t flags, const void *pl, size_t plen,
		   const int *fds, int nfds, size_t *rlen, int *new_fd)
{
	int rfds[NC_RPC_MAX_FDS], rn;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct nc_hdr rh;
	const char *why;
	ssize_t n;
	size_t len = build(type, flags, pl, plen);

	if (new_fd)
		*new_fd = -1;
	if (send_raw(fd, buf, len, fds, nfds, 0) < 0)
		return -1;
	if (poll(&p, 1, 5000) <= 0)
		return -1;
	n = nc_rpc_recv(fd, buf, sizeof(buf), rfds, &rn, MSG_DONTWAIT);
	if (n <= 0 || nc_rpc_check(buf, (size_t)n, rn, 1, &why) < 0) {
		if (n > 0)
			nc_rpc_close_fds(rfds, rn);
		return -1;
	}
	memcpy(&rh, buf, sizeof(rh));
	if (rlen)
		*rlen = (size_t)n - sizeof(rh);
	if (rn == 1 && new_fd)
		*new_fd = rfds[0];
	else
		nc_rpc_close_fds(rfds, rn);
	return rh.err;
}

static int hello(int fd)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };

	return request(fd, NC_MSG_HELLO, 0, &q, sizeof(q), NULL, 0, NULL, NULL);
}

/* ---- protocol attacks: each must cost the client its connection ------------------- */

static void expect_drop(const char *name, size_t len, const int *fds, int nfds)
{
	int fd = connect_ctl();
	double t0 = now();
	char what[64];

	if (fd < 0) {
		fail(name, "cannot connect to %s", sock_path);
		return;
	}
	if (send_raw(fd, buf, len, fds, nfds, 0) < 0) {
		fail(name, "send failed: %s", strerror(errno));
		close(fd);
		return;
	}
	if (!dropped(fd, 3.0))
		fail(name, "%s", "the service kept the connection (or replied)");
	else {
		snprintf(what, sizeof(what), "%.0f ms", (now() - t0) * 1000);
		printf("ok %s: dropped after %s\n", name, what);
	}
	fflush(stdout);
	close(fd);
}

static void protocol(void)
{
	struct nc_hello_req hq = { .version = NC_RPC_VERSION, .pid = 1 };
	struct nc_connect_req cq;
	struct nc_hdr h;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), pair[2], pipefd[2];
	size_t len;

	memset(&cq, 0, sizeof(cq));
	cq.peer.family = AF_INET;
	cq.peer.port = 9;
	cq.peer.addr[0] = 10;

	len = build(NC_MSG_HELLO, 0, &hq, sizeof(hq));
	expect_drop("truncated", 10, NULL, 0);            /* part of the header */

	build(NC_MSG_HELLO, 0, &hq, sizeof(hq));
	memcpy(&h, buf, sizeof(h));
	h.len = 100;
	memcpy(buf, &h, sizeof(h));
	expect_drop("badlen", len, NULL, 0);

	memset(buf, 0, NC_RPC_MAX_MSG + 100);
	build(NC_MSG_HELLO, 0, &hq, sizeof(hq));
	h.len = NC_RPC_MAX_MSG + 100;
	memcpy(buf, &h, sizeof(h));
	expect_drop("oversized", NC_RPC_MAX_MSG + 100, NULL, 0);

	len = build(NC_MSG_HELLO | NC_MSG_REPLY, 0, &hq, sizeof(hq));
	expect_drop("reply-as-request", len, NULL, 0);

	len = build(99, 0, &hq, sizeof(hq));
	expect_drop("unknown-type", len, NULL, 0);

	len = build(NC_MSG_HELLO, 0, &hq, 4);
	expect_drop("bad-size", len, NULL, 0);

	len = build(NC_MSG_HELLO, 0, &hq, sizeof(hq));
	memcpy(&h, buf, sizeof(h));
	h.err = 5;
	memcpy(buf, &h, sizeof(h));
	expect_drop("err-set", len, NULL, 0);

	len = build(NC_MSG_HELLO, 0x100, &hq, sizeof(hq));
	expect_drop("unknown-flags", len, NULL, 0);

	len = build(NC_MSG_QUERY, NC_F_SUBJECT_FD, NULL, 0);
	expect_drop("missing-fd", len, NULL, 0);

	len = build(NC_MSG_HELLO, 0, &hq, sizeof(hq));
	expect_drop("extra-fd", len, &devnull, 1);

	{
		int three[3] = { devnull, devnull, devnull };
		len = build(NC_MSG_QUERY, NC_F_SUBJECT_FD | NC_F_REPLY_FD, NULL, 0);
		expect_drop("three-fds", len, three, 3);
	}

	expect_drop("empty-with-fds", 0, &devnull, 1);

	if (pipe2(pipefd, O_CLOEXEC) == 0) {
		len = build(NC_MSG_CONNECT, NC_F_REPLY_FD, &cq, sizeof(cq));
		expect_drop("notsock-reply-channel", len, &pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
	}

	/* RESOLVE with fields out of range (its size is right). */
	{
		struct nc_resolve_req rq;

		memset(&rq, 0, sizeof(rq));
		rq.op = NC_RESOLVE_NAME;
		memset(rq.name, 'a', sizeof(rq.name));   /* no NUL */
		len = build(NC_MSG_RESOLVE, 0, &rq, sizeof(rq));
		expect_drop("resolve-unterminated", len, NULL, 0);
		memset(rq.name, 0, sizeof(rq.name));
		strcpy(rq.name, "web.netcon");
		rq.op = 7;
		len = build(NC_MSG_RESOLVE, 0, &rq, sizeof(rq));
		expect_drop("resolve-bad-op", len, NULL, 0);
	}

	/* A blocking reply channel kept full: the service must not wait on it. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0) {
		int small = 1, i;
		setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		for (i = 0; i < 100000; i++)
			if (send(pair[1], "x", 1, MSG_DONTWAIT) < 0)
				break;
		len = build(NC_MSG_HELLO, NC_F_REPLY_FD, &hq, sizeof(hq));
		expect_drop("full-reply-channel", len, &pair[1], 1);
		close(pair[0]);
		close(pair[1]);
	}
	close(devnull);
}

/* ---- subjects that are not the client's virtual sockets --------------------------- */

static void notsock_subject(void)
{
	int fd = connect_ctl(), devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), e;

	if (fd < 0) {
		fail("notsock-subject", "cannot connect to %s", sock_path);
		return;
	}
	e = request(fd, NC_MSG_QUERY, NC_F_SUBJECT_FD, NULL, 0, &devnull, 1, NULL, NULL);
	if (e != ENOTSOCK)
		fail("notsock-subject", "QUERY on /dev/null answered %s, want ENOTSOCK",
		     e < 0 ? "nothing" : strerror(e));
	else if (hello(fd) != 0)
		fail("notsock-subject", "%s", "connection not usable after the error reply");
	else
		printf("ok notsock-subject: QUERY on /dev/null -> ENOTSOCK, connection kept\n");
	close(devnull);
	close(fd);
}

/* Every per-socket request, naming fds that are no virtual sockets of the service. */
static void foreign(void)
{
	int fd = connect_ctl(), pair[2], tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int subjects[3], pipefd[2];
	const char *names[3] = { "unrelated socketpair end", "kernel TCP socket", "pipe" };

	if (fd < 0 || tcp < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 ||
	    pipe2(pipefd, O_CLOEXEC) < 0) {
		fail("foreign", "%s", "set-up failed");
		return;
	}
	subjects[0] = pair[0];
	subjects[1] = tcp;
	subjects[2] = pipefd[0];
	for (int i = 0; i < 3; i++) {
		struct nc_query_rep qr;
		struct nc_sockopt_req so;
		struct nc_sockopt_rep sr;
		struct nc_listen_req lq;
		struct nc_connect_req cq;
		size_t rlen = 0;
		int e, nfd;
		static const uint8_t zero[sizeof(struct nc_addr)];

		e = request(fd, NC_MSG_QUERY, NC_F_SUBJECT_FD, NULL, 0, &subjects[i], 1, &rlen,
			    NULL);
		memcpy(&qr, buf + sizeof(struct nc_hdr), sizeof(qr));
		if (i == 2) {
			if (e != ENOTSOCK)
				fail("foreign", "QUERY on a %s did not give ENOTSOCK", names[i]);
			continue;
		}
		if (e != 0 || rlen != sizeof(qr) || qr.kind != NC_KIND_NONE ||
		    memcmp(&qr.local, zero, sizeof(zero)) || memcmp(&qr.peer, zero, sizeof(zero))) {
			fail("foreign", "QUERY on a %s told something", names[i]);
			continue;
		}
		memset(&so, 0, sizeof(so));
		so.level = SOL_SOCKET;
		so.name = SO_ERROR;
		so.len = 4;
		e = request(fd, NC_MSG_SOCKOPT_GET, NC_F_SUBJECT_FD, &so,
			    offsetof(struct nc_sockopt_req, value), &subjects[i], 1, &rlen, NULL);
		memcpy(&sr, buf + sizeof(struct nc_hdr), rlen < sizeof(sr) ? rlen : sizeof(sr));
		if (e == 0 && (rlen != offsetof(struct nc_sockopt_rep, value) + 4 ||
			       memcmp(sr.value, zero, 4))) {
			fail("foreign", "SO_ERROR of a %s told something", names[i]);
			continue;
		}
		so.level = IPPROTO_TCP;
		so.name = 11;   /* TCP_INFO */
		so.len = NC_SOCKOPT_MAX;
		e = request(fd, NC_MSG_SOCKOPT_GET, NC_F_SUBJECT_FD, &so,
			    offsetof(struct nc_sockopt_req, value), &subjects[i], 1, &rlen, NULL);
		if (e == 0) {
			size_t vl = rlen - offsetof(struct nc_sockopt_rep, value);
			memcpy(&sr, buf + sizeof(struct nc_hdr), rlen < sizeof(sr) ? rlen : sizeof(sr));
			/* A closed connection's TCP_INFO: state CLOSE (7), everything else 0. */
			for (size_t k = 1; k < vl; k++)
				if (sr.value[k]) {
					fail("foreign", "TCP_INFO of a %s is not empty", names[i]);
					break;
				}
		}
		memset(&so, 0, sizeof(so));
		so.level = SOL_SOCKET;
		so.name = SO_LINGER;
		so.len = 8;
		so.value[0] = 1;
		e = request(fd, NC_MSG_SOCKOPT_SET, NC_F_SUBJECT_FD, &so,
			    offsetof(struct nc_sockopt_req, value) + 8, &subjects[i], 1, NULL, NULL);
		if (e < 0) {
			fail("foreign", "SOCKOPT_SET on a %s: no reply", names[i]);
			continue;
		}
		memset(&lq, 0, sizeof(lq));
		lq.backlog = 1;
		e = request(fd, NC_MSG_LISTEN, NC_F_SUBJECT_FD, &lq, sizeof(lq), &subjects[i], 1,
			    NULL, &nfd);
		if (e == 0 || nfd >= 0) {
			fail("foreign", "LISTEN on a %s succeeded", names[i]);
			if (nfd >= 0)
				close(nfd);
			continue;
		}
		memset(&cq, 0, sizeof(cq));
		cq.peer.family = AF_INET;
		cq.peer.port = 9;
		cq.peer.addr[0] = 10;
		e = request(fd, NC_MSG_CONNECT, NC_F_SUBJECT_FD, &cq, sizeof(cq), &subjects[i], 1,
			    NULL, &nfd);
		if (e == 0 || nfd >= 0) {
			fail("foreign", "CONNECT from a %s succeeded", names[i]);
			if (nfd >= 0)
				close(nfd);
			continue;
		}
		printf("ok foreign: a %s names nothing (QUERY kind none, SO_ERROR 0, LISTEN %s, "
		       "CONNECT %s)\n", names[i], "refused", "refused");
	}
	fflush(stdout);
	close(pair[0]);
	close(pair[1]);
	close(tcp);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
}

/* ---- volume ------------------------------------------------------------------------- */

#define FLOOD_WINDOW 64

static void flood(long n)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	int fd = connect_ctl();
	long sent = 0, got = 0;
	double t0 = now(), deadline = t0 + 120;
	size_t len;
	uint8_t msg[64];

	if (fd < 0) {
		fail("flood", "cannot connect to %s", sock_path);
		return;
	}
	len = build(NC_MSG_HELLO, 0, &q, sizeof(q));
	memcpy(msg, buf, len);
	while (got < n && now() < deadline) {
		/* At most FLOOD_WINDOW requests in flight: the service drops a client whose
		 * unread replies fill its socket buffer (see flood_noread). */
		int room = sent < n && sent - got < FLOOD_WINDOW;
		struct pollfd p = { .fd = fd, .events = POLLIN | (room ? POLLOUT : 0) };

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (p.revents & POLLIN) {
			int fds[NC_RPC_MAX_FDS], nfds;
			for (int k = 0; k < 256; k++) {
				ssize_t r = nc_rpc_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
				if (r == -EAGAIN)
					break;
				if (r <= 0) {
					fail("flood", "connection lost: %s", r ? strerror((int)-r) : "EOF");
					close(fd);
					return;
				}
				nc_rpc_close_fds(fds, nfds);
				got++;
			}
		}
		if ((p.revents & POLLOUT) && room) {
			for (int k = 0; k < 256 && sent < n && sent - got < FLOOD_WINDOW; k++) {
				if (send_raw(fd, msg, len, NULL, 0, MSG_DONTWAIT) < 0)
					break;
				sent++;
			}
		} else if (p.revents & (POLLHUP | POLLERR)) {
			fail("flood", "%s", "connection closed by the service");
			close(fd);
			return;
		}
	}
	if (got < n)
		fail("flood", "%s", "not every HELLO was answered within 120 s");
	else
		printf("ok flood: %ld HELLOs answered in %.2f s (%.0f/s)\n", got, now() - t0,
		       (double)got / (now() - t0));
	close(fd);
}

static void flood_noread(long n)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	int fd = connect_ctl(), small = 4096;
	long sent = 0;
	double t0 = now();
	size_t len;

	if (fd < 0) {
		fail("flood-noread", "cannot connect to %s", sock_path);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	len = build(NC_MSG_HELLO, 0, &q, sizeof(q));
	while (sent < n && now() - t0 < 60) {
		int r = send_raw(fd, buf, len, NULL, 0, MSG_DONTWAIT);
		if (r == -EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, 100);
			if (p.revents & (POLLHUP | POLLERR))
				break;
			continue;
		}
		if (r < 0)
			break;   /* EPIPE / ECONNRESET: dropped */
		sent++;
	}
	/* Replies may still be queued for us; the connection must end after them. */
	for (int k = 0; k < 1000000; k++) {
		int fds[NC_RPC_MAX_FDS], nfds;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 3000) <= 0)
			break;
		r = nc_rpc_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
		if (r <= 0) {
			printf("ok flood-noread: dropped after %ld requests sent without reading "
			       "(%.2f s)\n", sent, now() - t0);
			close(fd);
			return;
		}
		nc_rpc_close_fds(fds, nfds);
	}
	fail("flood-noread", "%s", "the service kept a client that never reads");
	close(fd);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void conns(long n, int hold)
{
	int *fds = calloc((size_t)n, sizeof(int));
	long opened = 0, refused = 0, alive = 0;

	raise_nofile();
	for (long i = 0; i < n && fds; i++) {
		fds[i] = connect_ctl();
		if (fds[i] >= 0)
			opened++;
	}
	sleep(1);
	/* Which ones did the service keep? A refused one reads as EOF at once. */
	for (long i = 0; i < n && fds; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		if (fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) > 0) {
			refused++;
			close(fds[i]);
			fds[i] = -1;
		} else {
			alive++;
		}
	}
	printf("ok conns: %ld connections opened, %ld kept by the service, %ld refused\n",
	       opened, alive, refused);
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned)hold);
	for (long i = 0; i < n && fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static void binds(long n, int hold)
{
	int fd = connect_ctl(), *held = calloc((size_t)n, sizeof(int));
	long ok = 0, errs = 0;
	int first_err = 0;

	raise_nofile();
	if (fd < 0 || !held) {
		fail("binds", "cannot connect to %s", sock_path);
		return;
	}
	for (long i = 0; i < n; i++) {
		struct nc_bind_req b;
		int e, nfd;

		memset(&b, 0, sizeof(b));
		b.addr.family = AF_INET;
		e = request(fd, NC_MSG_BIND, 0, &b, sizeof(b), NULL, 0, NULL, &nfd);
		held[i] = nfd;
		if (e == 0 && nfd >= 0) {
			ok++;
		} else {
			errs++;
			if (!first_err)
				first_err = e;
			if (e < 0)
				break;   /* no reply: dropped */
		}
	}
	printf("ok binds: %ld bound sockets held, %ld refused (first error: %s)\n", ok, errs,
	       first_err > 0 ? strerror(first_err) : first_err < 0 ? "no reply" : "none");
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned)hold);
	for (long i = 0; i < n; i++)
		if (held[i] >= 0)
			close(held[i]);
	free(held);
	close(fd);
}

/*
 * udp: a virtual UDP socket (BIND with type SOCK_DGRAM) whose program writes garbage: no
 * header, a short header, a bad magic, a lying address family, port 0, a payload over
 * 65,507 bytes, a destination off the network, no destination on an unconnected socket,
 * then 10,000 junk messages. The service must drop and count each, and live on.
 */
static void udp(void)
{
	static uint8_t big[sizeof(struct nc_dgram) + NC_DGRAM_MAX + 100];
	struct nc_bind_req b;
	struct nc_dgram h;
	int fd = connect_ctl(), u = -1, e;
	long junk = 0;

	if (fd < 0) {
		fail("udp", "cannot connect to %s", sock_path);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.addr.family = AF_INET;
	b.type = SOCK_DGRAM;
	e = request(fd, NC_MSG_BIND, 0, &b, sizeof(b), NULL, 0, NULL, &u);
	if (e != 0 || u < 0) {
		fail("udp", "BIND of a UDP socket failed (%s)", e > 0 ? strerror(e) : "no reply");
		close(fd);
		return;
	}
	memset(&h, 0, sizeof(h));
	send(u, "x", 1, MSG_DONTWAIT);                                   /* no header */
	send(u, &h, 8, MSG_DONTWAIT);                                    /* short header */
	h.magic = 0xdeadbeef;
	send(u, &h, sizeof(h), MSG_DONTWAIT);                            /* bad magic */
	h.magic = NC_DGRAM_MAGIC;
	h.addr.family = 77;
	h.addr.port = 9;
	send(u, &h, sizeof(h), MSG_DONTWAIT);                            /* bad family */
	h.addr.family = AF_INET;
	h.addr.addr[0] = 10;
	h.addr.port = 0;
	send(u, &h, sizeof(h), MSG_DONTWAIT);                            /* port 0 */
	h.addr.port = 9;
	memcpy(big, &h, sizeof(h));
	send(u, big, sizeof(big), MSG_DONTWAIT);                         /* too long */
	h.addr.addr[0] = 198; h.addr.addr[1] = 51; h.addr.addr[2] = 100; h.addr.addr[3] = 7;
	send(u, &h, sizeof(h), MSG_DONTWAIT);                            /* off the network */
	h.addr.family = AF_UNSPEC;
	send(u, &h, sizeof(h), MSG_DONTWAIT);                            /* not connected */
	for (int i = 0; i < 10000; i++)
		if (send(u, "junk", 4, MSG_DONTWAIT) == 4)
			junk++;
	printf("ok udp: 8 malformed datagrams and %ld junk messages written\n", junk);
	close(u);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *a;
	long n;
	int hold;

	if (argc < 3) {
		fprintf(stderr, "usage: hostile SOCKET ATTACK [N] [HOLD_SECONDS]\n");
		return 2;
	}
	sock_path = argv[1];
	a = argv[2];
	n = argc > 3 ? atol(argv[3]) : 1000;
	hold = argc > 4 ? atoi(argv[4]) : 0;
	if (n < 1 || n > 10000000)
		n = 1000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(a, "protocol"))
		protocol();
	else if (!strcmp(a, "notsock-subject"))
		notsock_subject();
	else if (!strcmp(a, "foreign"))
		foreign();
	else if (!strcmp(a, "flood"))
		flood(n);
	else if (!strcmp(a, "flood-noread"))
		flood_noread(n);
	else if (!strcmp(a, "conns"))
		conns(n, hold);
	else if (!strcmp(a, "binds"))
		binds(n, hold);
	else if (!strcmp(a, "udp"))
		udp();
	else {
		fprintf(stderr, "hostile: unknown attack %s\n", a);
		return 2;
	}
	return failures ? 1 : 0;
}
