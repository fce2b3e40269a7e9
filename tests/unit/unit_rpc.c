/*
 * unit_rpc.c — tests of the RPC framing (src/common/rpc.c) against the contract in
 * include/netcon/rpc.h: a table of messages for nc_rpc_check() (every type and direction
 * at its exact size, every rejection reason), then real round trips over a
 * socketpair(AF_UNIX, SOCK_SEQPACKET) for nc_rpc_send()/nc_rpc_recv(): fds arrive and
 * name the same files, too many fds or a too-long message are refused without leaking a
 * descriptor, end of stream reads as 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc.h"

#include "check.h"

#define R NC_MSG_REPLY
#define SO_OFF  offsetof(struct nc_sockopt_req, value)
#define SOR_OFF offsetof(struct nc_sockopt_rep, value)
#define ST_OFF  offsetof(struct nc_status_rep, text)
#define LEN_NONE 0xffffffffu   /* do not write a payload length field */
#define BAD (-EBADMSG)

/*
 * One nc_rpc_check() case. The message is a header with `type`, `flags`, `err`, then
 * `plen` payload bytes (0x5a); if `lenfield` is not LEN_NONE it is written at `lenoff`
 * in the payload (the len of a sockopt or status payload). `hdr_delta` is added to the
 * header's len; `n_plus1` (when non-zero) overrides the number of bytes handed to the
 * check.
 */
struct check_case {
	const char *name;
	int is_reply;
	unsigned type;
	unsigned flags;
	int err;
	size_t plen;
	size_t lenoff;
	uint32_t lenfield;
	int nfds;
	long hdr_delta;
	size_t n_plus1;     /* when non-zero: hand n_plus1 - 1 bytes to the check */
	int want;
};

/* Shorthands: a request / reply with a fixed payload; a request / reply whose payload
 * carries a length field (sockopt requests: at offset 8, with a subject fd; sockopt and
 * status replies: at offset 0). Designated initializers for the odd ones. */
#define REQ(nm, t, fl, pl, nf, w) \
	{ .name = nm, .type = (t), .flags = (fl), .plen = (pl), .lenfield = LEN_NONE, \
	  .nfds = (nf), .want = (w) }
#define REP(nm, t, fl, e, pl, nf, w) \
	{ .name = nm, .is_reply = 1, .type = (t) | R, .flags = (fl), .err = (e), .plen = (pl), \
	  .lenfield = LEN_NONE, .nfds = (nf), .want = (w) }
#define REQ_LEN(nm, t, pl, lf, w) \
	{ .name = nm, .type = (t), .flags = NC_F_SUBJECT_FD, .plen = (pl), .lenoff = 8, \
	  .lenfield = (lf), .nfds = 1, .want = (w) }
#define REP_LEN(nm, t, pl, lf, w) \
	{ .name = nm, .is_reply = 1, .type = (t) | R, .plen = (pl), .lenoff = 0, \
	  .lenfield = (lf), .want = (w) }

#define SUBJ NC_F_SUBJECT_FD
#define SET  NC_MSG_SOCKOPT_SET
#define GET  NC_MSG_SOCKOPT_GET
#define STAT NC_MSG_STATUS
#define MAXV NC_SOCKOPT_MAX

static const struct check_case check_cases[] = {
	/* Valid requests, exact sizes. */
	REQ("hello req", NC_MSG_HELLO, 0, sizeof(struct nc_hello_req), 0, 0),
	REQ("bind req", NC_MSG_BIND, 0, sizeof(struct nc_bind_req), 0, 0),
	REQ("bind req+reply fd", NC_MSG_BIND, NC_F_REPLY_FD, sizeof(struct nc_bind_req), 1, 0),
	REQ("listen req", NC_MSG_LISTEN, SUBJ, sizeof(struct nc_listen_req), 1, 0),
	REQ("listen req no subject", NC_MSG_LISTEN, 0, sizeof(struct nc_listen_req), 0, 0),
	REQ("connect req 2 fds", NC_MSG_CONNECT, NC_F_REPLY_FD | SUBJ,
	    sizeof(struct nc_connect_req), 2, 0),
	REQ_LEN("sockopt set len 0", SET, SO_OFF, 0, 0),
	REQ_LEN("sockopt set len 4", SET, SO_OFF + 4, 4, 0),
	REQ_LEN("sockopt set len max", SET, SO_OFF + MAXV, MAXV, 0),
	REQ_LEN("sockopt get", GET, SO_OFF, 4, 0),
	REQ_LEN("sockopt get max", GET, SO_OFF, MAXV, 0),
	REQ("query req", NC_MSG_QUERY, SUBJ, 0, 1, 0),
	REQ("status req", STAT, 0, 0, 0, 0),
	REQ("sockopt post req", NC_MSG_SOCKOPT_POST, 0, sizeof(struct nc_sockopt_post), 0, 0),
	REQ("sockopt post short", NC_MSG_SOCKOPT_POST, 0, sizeof(struct nc_sockopt_post) - 4, 0,
	    BAD),

	/* Valid replies, exact sizes. */
	REP("hello rep", NC_MSG_HELLO, 0, 0, sizeof(struct nc_hello_rep), 0, 0),
	REP("bind rep", NC_MSG_BIND, NC_F_NEW_FD, 0, sizeof(struct nc_bind_rep), 1, 0),
	REP("listen rep", NC_MSG_LISTEN, NC_F_NEW_FD, 0, sizeof(struct nc_listen_rep), 1, 0),
	REP("connect rep", NC_MSG_CONNECT, NC_F_NEW_FD, 0, sizeof(struct nc_connect_rep), 1, 0),
	REP("sockopt set rep", SET, 0, 0, 0, 0, 0),
	REP_LEN("sockopt get rep 4", GET, SOR_OFF + 4, 4, 0),
	REP_LEN("sockopt get rep max", GET, SOR_OFF + MAXV, MAXV, 0),
	REP("query rep", NC_MSG_QUERY, 0, 0, sizeof(struct nc_query_rep), 0, 0),
	REP_LEN("status rep empty", STAT, ST_OFF, 0, 0),
	REP_LEN("status rep text", STAT, ST_OFF + 100, 100, 0),

	/* Error replies without payload are accepted, for every type; with the full
	 * payload too; with a wrong-sized one not. */
	REP("err rep hello", NC_MSG_HELLO, 0, EPROTO, 0, 0, 0),
	REP("err rep bind", NC_MSG_BIND, 0, EADDRINUSE, 0, 0, 0),
	REP("err rep listen", NC_MSG_LISTEN, 0, EINVAL, 0, 0, 0),
	REP("err rep connect", NC_MSG_CONNECT, 0, ECONNREFUSED, 0, 0, 0),
	REP("err rep sockopt set", SET, 0, ENOPROTOOPT, 0, 0, 0),
	REP("err rep sockopt get", GET, 0, ENOPROTOOPT, 0, 0, 0),
	REP("err rep query", NC_MSG_QUERY, 0, ENOTSOCK, 0, 0, 0),
	REP("err rep status", STAT, 0, EIO, 0, 0, 0),
	REP("err rep max errno", NC_MSG_QUERY, 0, 4095, 0, 0, 0),
	REP("err rep with payload", NC_MSG_CONNECT, 0, ETIMEDOUT, sizeof(struct nc_connect_rep),
	    0, 0),
	REP("err rep short payload", NC_MSG_CONNECT, 0, ETIMEDOUT, 4, 0, BAD),

	/* Short and length mismatch. */
	{ .name = "empty", .type = STAT, .lenfield = LEN_NONE, .n_plus1 = 1, .want = BAD },
	{ .name = "header minus 1", .type = STAT, .lenfield = LEN_NONE, .hdr_delta = -1,
	  .n_plus1 = sizeof(struct nc_hdr), .want = BAD },
	{ .name = "hdr len +1", .type = NC_MSG_HELLO, .plen = sizeof(struct nc_hello_req),
	  .lenfield = LEN_NONE, .hdr_delta = 1, .want = BAD },
	{ .name = "hdr len -1", .type = NC_MSG_HELLO, .plen = sizeof(struct nc_hello_req),
	  .lenfield = LEN_NONE, .hdr_delta = -1, .want = BAD },
	{ .name = "hdr len 0", .type = STAT, .lenfield = LEN_NONE,
	  .hdr_delta = -(long)sizeof(struct nc_hdr), .want = BAD },

	/* Wrong direction. */
	REQ("reply checked as request", NC_MSG_HELLO | R, 0, sizeof(struct nc_hello_rep), 0, BAD),
	{ .name = "request checked as reply", .is_reply = 1, .type = NC_MSG_HELLO,
	  .plen = sizeof(struct nc_hello_req), .lenfield = LEN_NONE, .want = BAD },

	/* Unknown types. */
	REQ("type 0 req", 0, 0, 0, 0, BAD),
	REP("type 0 rep", 0, 0, 0, 0, 0, BAD),
	REQ("type COUNT req", NC_MSG_TYPE_COUNT, 0, 0, 0, BAD),
	REP("type COUNT rep", NC_MSG_TYPE_COUNT, 0, 0, 0, 0, BAD),
	REQ("type 0x7fff", 0x7fff, 0, 0, 0, BAD),

	/* Flags. */
	REQ("unknown flag 0x8", NC_MSG_HELLO, 0x0008, sizeof(struct nc_hello_req), 0, BAD),
	REP("unknown flag 0x8000", NC_MSG_HELLO, 0x8000, 0, sizeof(struct nc_hello_rep), 0, BAD),
	REQ("reply flag on request", NC_MSG_QUERY, NC_F_NEW_FD, 0, 1, BAD),
	REP("request flag on reply", NC_MSG_QUERY, SUBJ, 0, sizeof(struct nc_query_rep), 1, BAD),

	/* err fields. */
	{ .name = "request with err", .type = NC_MSG_HELLO, .err = EINVAL,
	  .plen = sizeof(struct nc_hello_req), .lenfield = LEN_NONE, .want = BAD },
	REP("reply negative err", NC_MSG_QUERY, 0, -1, 0, 0, BAD),
	REP("reply err 4096", NC_MSG_QUERY, 0, 4096, 0, 0, BAD),

	/* fd count versus flags. */
	REQ("subject flag, no fd", NC_MSG_QUERY, SUBJ, 0, 0, BAD),
	REQ("no flag, one fd", NC_MSG_QUERY, 0, 0, 1, BAD),
	REQ("two flags, one fd", NC_MSG_QUERY, NC_F_REPLY_FD | SUBJ, 0, 1, BAD),
	REQ("one flag, two fds", NC_MSG_QUERY, SUBJ, 0, 2, BAD),
	REP("new fd flag, no fd", NC_MSG_CONNECT, NC_F_NEW_FD, 0, sizeof(struct nc_connect_rep),
	    0, BAD),
	REP("reply, fd without flag", NC_MSG_CONNECT, 0, 0, sizeof(struct nc_connect_rep), 1, BAD),

	/* Fixed payload sizes. */
	REQ("hello req +1", NC_MSG_HELLO, 0, sizeof(struct nc_hello_req) + 1, 0, BAD),
	REQ("hello req -1", NC_MSG_HELLO, 0, sizeof(struct nc_hello_req) - 1, 0, BAD),
	REQ("query req with payload", NC_MSG_QUERY, SUBJ, 4, 1, BAD),
	REQ("status req with payload", STAT, 0, 1, 0, BAD),
	REP("bind rep -1", NC_MSG_BIND, NC_F_NEW_FD, 0, sizeof(struct nc_bind_rep) - 1, 1, BAD),
	REP("sockopt set rep with payload", SET, 0, 0, 4, 0, BAD),

	/* Sockopt value lengths. */
	{ .name = "sockopt set short", .type = SET, .flags = SUBJ, .plen = SO_OFF - 1,
	  .lenfield = LEN_NONE, .nfds = 1, .want = BAD },
	REQ_LEN("sockopt set len too long", SET, SO_OFF + MAXV + 1, MAXV + 1, BAD),
	REQ_LEN("sockopt set len > bytes", SET, SO_OFF + 4, 5, BAD),
	REQ_LEN("sockopt set len < bytes", SET, SO_OFF + 4, 3, BAD),
	REQ_LEN("sockopt set len huge", SET, SO_OFF, 0xfffffffcu, BAD),
	REQ_LEN("sockopt get buffer too long", GET, SO_OFF, MAXV + 1, BAD),
	REQ_LEN("sockopt get with value", GET, SO_OFF + 4, 4, BAD),
	REP("sockopt get rep short", GET, 0, 0, SOR_OFF - 1, 0, BAD),
	REP_LEN("sockopt get rep too long", GET, SOR_OFF + MAXV + 1, MAXV + 1, BAD),
	REP_LEN("sockopt get rep inconsistent", GET, SOR_OFF + 4, 8, BAD),

	/* Status text length. */
	REP("status rep short", STAT, 0, 0, ST_OFF - 1, 0, BAD),
	REP_LEN("status rep len > text", STAT, ST_OFF + 5, 10, BAD),
	REP_LEN("status rep len < text", STAT, ST_OFF + 1, 0, BAD),
	REP_LEN("status rep len huge", STAT, ST_OFF + 5, 0xfffffffeu, BAD),
};

/* Build the message of one case into buf; returns its length. */
static size_t build(const struct check_case *c, unsigned char *buf, size_t cap)
{
	struct nc_hdr h = {
		.type = (uint16_t)c->type,
		.flags = (uint16_t)c->flags,
		.seq = 42,
		.err = c->err,
	};
	size_t n = sizeof(h) + c->plen;

	if (n > cap)
		abort();
	h.len = (uint32_t)((long)n + c->hdr_delta);
	memset(buf, 0x5a, n);
	memcpy(buf, &h, sizeof(h));
	if (c->lenfield != LEN_NONE)
		memcpy(buf + sizeof(h) + c->lenoff, &c->lenfield, sizeof(c->lenfield));
	return n;
}

static void test_check_table(void)
{
	static unsigned char buf[1024];

	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		const char *why = "unset";
		size_t n = build(c, buf, sizeof(buf));
		int r;

		if (c->n_plus1)
			n = c->n_plus1 - 1;
		r = nc_rpc_check(buf, n, c->nfds, c->is_reply, &why);
		CHECK(r == c->want, "%s: got %d (%s), want %d", c->name, r, why ? why : "-",
		      c->want);
		if (r == 0)
			CHECK(why == NULL, "%s: why set on success: %s", c->name, why);
		else
			CHECK(why != NULL && *why, "%s: no reason given", c->name);
	}
}

static void test_payload_size(void)
{
	CHECK(nc_rpc_payload_size(0, 0) == -1, "type 0");
	CHECK(nc_rpc_payload_size(NC_MSG_TYPE_COUNT, 1) == -1, "type COUNT");
	CHECK(nc_rpc_payload_size(NC_MSG_TYPE_COUNT + 100, 0) == -1, "type COUNT+100");
	CHECK(nc_rpc_payload_size(NC_MSG_HELLO, 0) == (long)sizeof(struct nc_hello_req), "hello");
	CHECK(nc_rpc_payload_size(NC_MSG_CONNECT, 1) == (long)sizeof(struct nc_connect_rep),
	      "connect rep");
	CHECK(nc_rpc_payload_size(NC_MSG_QUERY, 0) == 0, "query req");
	/* Every known type has a size in both directions. */
	for (unsigned t = 1; t < NC_MSG_TYPE_COUNT; t++)
		CHECK(nc_rpc_payload_size(t, 0) >= 0 && nc_rpc_payload_size(t, 1) >= 0,
		      "type %u", t);
}

/* Number of open descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own fd */
}

/* Do two descriptors refer to the same open file (device and inode)? */
static int same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Send a message with `nfds` descriptors by a raw sendmsg (bypassing nc_rpc_send's
 * limits). Returns sendmsg's result. */
static ssize_t raw_send(int sock, const void *data, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* nc_rpc_send → nc_rpc_recv with 0, 1 and 2 fds: same bytes, fds naming the same files,
 * received close-on-exec; then the rejections and the end of stream. */
static void test_roundtrip(void)
{
	int sv[2], files[3];
	unsigned char buf[NC_RPC_MAX_MSG + 64];
	int fds[NC_RPC_MAX_FDS];
	int nfds, base;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	files[0] = open("/dev/null", O_RDONLY);
	files[1] = open("/", O_RDONLY | O_DIRECTORY);
	files[2] = open("/proc/self/exe", O_RDONLY);
	CHECK(files[0] >= 0 && files[1] >= 0 && files[2] >= 0, "open test files");
	base = count_fds();

	for (int k = 0; k <= 2; k++) {
		struct nc_hdr h = { .type = NC_MSG_CONNECT, .seq = 100u + (unsigned)k };
		struct nc_connect_req req;
		struct nc_hdr got;

		memset(&req, 0, sizeof(req));
		req.peer.family = AF_INET;
		req.peer.port = 8080;
		req.peer.addr[0] = 10;
		req.opts.flags = NC_OPT_NODELAY;
		h.flags = (uint16_t)(k == 0 ? 0 : k == 1 ? NC_F_SUBJECT_FD
						   : NC_F_REPLY_FD | NC_F_SUBJECT_FD);
		int r = nc_rpc_send(sv[0], &h, &req, sizeof(req), files, k);
		CHECK(r == 0, "send with %d fds: %d", k, r);
		CHECK(h.len == sizeof(h) + sizeof(req), "send fills len: %u", h.len);

		n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
		CHECK(n == (ssize_t)(sizeof(h) + sizeof(req)), "recv %d fds: n = %zd", k, n);
		if (n != (ssize_t)(sizeof(h) + sizeof(req)))
			continue;
		memcpy(&got, buf, sizeof(got));
		CHECK(memcmp(&got, &h, sizeof(h)) == 0, "header bytes differ (%d fds)", k);
		CHECK(memcmp(buf + sizeof(h), &req, sizeof(req)) == 0, "payload differs (%d fds)",
		      k);
		CHECK(nfds == k, "nfds %d, want %d", nfds, k);
		const char *why;
		CHECK(nc_rpc_check(buf, (size_t)n, nfds, 0, &why) == 0, "check after recv: %s",
		      why);
		for (int i = 0; i < nfds; i++) {
			CHECK(fds[i] != files[i], "fd %d is a new descriptor", i);
			CHECK(same_file(fds[i], files[i]), "fd %d names the same file", i);
			CHECK(fcntl(fds[i], F_GETFD) == FD_CLOEXEC, "fd %d close-on-exec", i);
		}
		nc_rpc_close_fds(fds, nfds);
		CHECK(nfds == 0 || fds[0] == -1, "close_fds marks -1");
		CHECK(count_fds() == base, "fd count after %d fds: %d, want %d", k, count_fds(),
		      base);
	}

	/* A message without payload. */
	{
		struct nc_hdr h = { .type = NC_MSG_STATUS, .seq = 7 };
		CHECK(nc_rpc_send(sv[0], &h, NULL, 0, NULL, 0) == 0, "send header only");
		n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
		CHECK(n == (ssize_t)sizeof(h) && nfds == 0, "recv header only: %zd", n);
	}

	/* nc_rpc_send's own limits. */
	{
		struct nc_hdr h = { .type = NC_MSG_STATUS };
		CHECK(nc_rpc_send(sv[0], &h, NULL, 0, files, 3) == -EINVAL, "send 3 fds");
		CHECK(nc_rpc_send(sv[0], &h, NULL, 0, files, -1) == -EINVAL, "send -1 fds");
		CHECK(nc_rpc_send(sv[0], &h, buf, NC_RPC_MAX_MSG, NULL, 0) == -EINVAL,
		      "send over NC_RPC_MAX_MSG");
	}

	/* Three fds by raw sendmsg: refused, every received fd closed. */
	{
		struct nc_hdr h = { .len = sizeof(h), .type = NC_MSG_STATUS,
				    .flags = NC_F_REPLY_FD | NC_F_SUBJECT_FD };
		CHECK(raw_send(sv[0], &h, sizeof(h), files, 3) == (ssize_t)sizeof(h),
		      "raw send 3 fds");
		n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
		CHECK(n == -EMSGSIZE, "3 fds: %zd, want -EMSGSIZE", n);
		CHECK(nfds == 0, "3 fds: nfds %d", nfds);
		CHECK(count_fds() == base, "3 fds leaked: %d, want %d", count_fds(), base);
	}

	/* Twenty fds (more than the receive control buffer holds): refused, no leak. */
	{
		int many[20];
		struct nc_hdr h = { .len = sizeof(h), .type = NC_MSG_STATUS };
		for (int i = 0; i < 20; i++)
			many[i] = files[i % 3];
		CHECK(raw_send(sv[0], &h, sizeof(h), many, 20) == (ssize_t)sizeof(h),
		      "raw send 20 fds");
		n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
		CHECK(n == -EMSGSIZE, "20 fds: %zd, want -EMSGSIZE", n);
		CHECK(count_fds() == base, "20 fds leaked: %d, want %d", count_fds(), base);
	}

	/* Larger than the receive buffer: refused, its fd closed, the next message intact. */
	{
		struct nc_hdr h = { .type = NC_MSG_SOCKOPT_SET, .flags = NC_F_SUBJECT_FD };
		unsigned char big[200];
		memset(big, 1, sizeof(big));
		CHECK(nc_rpc_send(sv[0], &h, big, sizeof(big), files, 1) == 0, "send big");
		n = nc_rpc_recv(sv[1], buf, 64, fds, &nfds, 0);
		CHECK(n == -EMSGSIZE, "too big: %zd, want -EMSGSIZE", n);
		CHECK(count_fds() == base, "too big leaked: %d, want %d", count_fds(), base);

		h.type = NC_MSG_STATUS;
		h.flags = 0;
		CHECK(nc_rpc_send(sv[0], &h, NULL, 0, NULL, 0) == 0, "send after big");
		n = nc_rpc_recv(sv[1], buf, 64, fds, &nfds, 0);
		CHECK(n == (ssize_t)sizeof(h), "message after a refused one: %zd", n);
	}

	/* An empty message carrying an fd: not end of stream, refused, the fd closed (a
	 * server that took it for EOF would keep the fd open for ever). */
	{
		CHECK(raw_send(sv[0], "", 0, files, 1) == 0, "raw send empty message with an fd");
		n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
		CHECK(n == -EBADMSG, "empty message with an fd: %zd, want -EBADMSG", n);
		CHECK(nfds == 0, "empty message with an fd: nfds %d", nfds);
		CHECK(count_fds() == base, "empty message leaked: %d, want %d", count_fds(), base);
	}

	/* Nothing queued on a non-blocking read. */
	n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
	CHECK(n == -EAGAIN, "empty: %zd, want -EAGAIN", n);

	/* End of stream, and sending to a closed peer (no SIGPIPE). */
	close(sv[0]);
	n = nc_rpc_recv(sv[1], buf, sizeof(buf), fds, &nfds, 0);
	CHECK(n == 0 && nfds == 0, "EOF: %zd, want 0", n);
	{
		struct nc_hdr h = { .type = NC_MSG_STATUS };
		int r = nc_rpc_send(sv[1], &h, NULL, 0, NULL, 0);
		CHECK(r == -EPIPE || r == -ECONNRESET, "send to closed peer: %d", r);
	}
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		close(files[i]);
}

int main(void)
{
	test_payload_size();
	test_check_table();
	test_roundtrip();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
