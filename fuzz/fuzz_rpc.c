/*
 * fuzz_rpc.c — libFuzzer harness for the RPC decoder and the server behind it.
 *
 * Input: one control byte, then one message as a client would send it.
 *   control bits 0-1: how many fds travel with the message (0..3; 3 is over the limit)
 *   bits 2-3, 4-5:    what the first and second fd are: 0 a bound virtual socket of this
 *                     service, 1 an unrelated socketpair end, 2 /dev/null (no socket),
 *                     3 a virtual listener (the third fd, if any, is a socketpair end)
 *
 * 1. nc_rpc_check() on the bytes with the announced fd count, as a request and as a
 *    reply; an accepted reply is read the way the intercept reads it.
 * 2. The bytes and fds are sent on a SOCK_SEQPACKET pair to the real server
 *    (nc_client_event() of src/service/rpc_server.c, over the real connection table and
 *    lwIP), which receives, checks and carries out the request. Every reply it sends,
 *    on the client's connection or on a reply channel, must pass nc_rpc_check() as a
 *    reply: the intercept would drop the service otherwise.
 *
 * Everything the input created is closed before the next input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/rpc.h"
#include "fuzz_svc.h"

static uint8_t rbuf[NC_RPC_MAX_MSG + 64];

/* Read the replies waiting on fd; each must be a well-formed reply. Closes their fds. */
static void check_replies(int fd)
{
	for (int i = 0; i < 256; i++) {
		int fds[NC_RPC_MAX_FDS], nfds;
		const char *why;
		ssize_t n = nc_rpc_recv(fd, rbuf, sizeof(rbuf), fds, &nfds, MSG_DONTWAIT);

		if (n == -EAGAIN || n == 0 || n == -ECONNRESET || n == -ENOTSOCK)
			return;
		if (n < 0) {
			fprintf(stderr, "fuzz_rpc: reading a reply: %s\n", strerror((int)-n));
			abort();
		}
		if (nc_rpc_check(rbuf, (size_t)n, nfds, 1, &why) < 0) {
			fprintf(stderr, "fuzz_rpc: the server sent a bad reply: %s\n", why);
			abort();
		}
		nc_rpc_close_fds(fds, nfds);
	}
}

/* Step 1: the decoder alone, both directions. */
static void check_only(const uint8_t *msg, size_t n, int nfds)
{
	const char *why;
	uint8_t out[NC_RPC_MAX_MSG];

	if (nc_rpc_check(msg, n, nfds, 0, &why) == 0 && n > NC_RPC_MAX_MSG)
		abort();   /* the server's buffer could not have held it */
	if (nc_rpc_check(msg, n, nfds, 1, &why) == 0) {
		/* The intercept copies at most its buffer's size of the payload. */
		size_t plen = n - sizeof(struct nc_hdr);
		memcpy(out, msg + sizeof(struct nc_hdr), plen < sizeof(out) ? plen : sizeof(out));
	} else if (!why) {
		abort();   /* a rejection always says why */
	}
}

static int make_fd(struct nc_service *svc, int kind, int *other)
{
	struct nc_addr local;
	int fd = -1, pair[2], none = -1;

	*other = -1;
	switch (kind) {
	case 0:
	case 3: {
		struct nc_bind_req b;

		memset(&b, 0, sizeof(b));
		b.addr.family = AF_INET;
		if (nc_sock_bind(svc, &b, &fd, &local) < 0)
			return -1;
		if (kind == 3) {
			struct nc_listen_req q;
			memset(&q, 0, sizeof(q));
			q.backlog = 4;
			nc_sock_listen(svc, fuzz_sock_of(svc, fd), &q, &none, &local);
		}
		return fd;
	}
	case 1:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
			return -1;
		*other = pair[0];
		return pair[1];
	default:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_service *svc = fuzz_svc_get();
	int fds_before;
	int nfds, fds[3] = { -1, -1, -1 }, others[3] = { -1, -1, -1 }, sv[2];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} ctl;
	struct nc_client *c;
	const uint8_t *msg;
	size_t n;

	if (size < 1)
		return 0;
	fds_before = fuzz_count_fds();
	nfds = data[0] & 3;
	msg = data + 1;
	n = size - 1;
	check_only(msg, n, nfds);

	/* Step 2: through the server. */
	for (int i = 0; i < nfds; i++) {
		int kind = i == 2 ? 1 : (data[0] >> (2 + 2 * i)) & 3;
		fds[i] = make_fd(svc, kind, &others[i]);
		if (fds[i] < 0)
			goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->h.type = NC_H_CLIENT;
	c->fd = sv[1];
	c->pid = 4242;
	if (nc_epoll_add(svc, c->fd, EPOLLIN, &c->h) < 0)
		abort();
	svc->clients = c;
	svc->nclients = 1;
	{
		struct iovec iov = { .iov_base = (void *)msg, .iov_len = n };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (nfds > 0) {
			struct cmsghdr *cm;
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
		}
		if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) >= 0)
			nc_client_event(svc, c, EPOLLIN);
	}
	check_replies(sv[0]);
	for (int i = 0; i < 3; i++)
		if (others[i] >= 0)
			check_replies(others[i]);
	nc_control_close(svc);   /* the client, if the server kept it */
	close(sv[0]);
out:
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (others[i] >= 0)
			close(others[i]);
	}
	nc_sock_close_all(svc);
	nc_stack_poll(svc);
	fuzz_check_fds("fuzz_rpc", fds_before);
	return 0;
}
