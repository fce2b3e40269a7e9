/*
 * rpc.c — one netcon RPC message on a SOCK_SEQPACKET socket (see common/rpc.h).
 */
#include "rpc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Fixed payload sizes per type: [type][0 = request, 1 = reply]. */
static const long payload_sizes[NC_MSG_TYPE_COUNT][2] = {
	[NC_MSG_HELLO] = { sizeof(struct nc_hello_req), sizeof(struct nc_hello_rep) },
	[NC_MSG_BIND] = { sizeof(struct nc_bind_req), sizeof(struct nc_bind_rep) },
	[NC_MSG_LISTEN] = { sizeof(struct nc_listen_req), sizeof(struct nc_listen_rep) },
	[NC_MSG_CONNECT] = { sizeof(struct nc_connect_req), sizeof(struct nc_connect_rep) },
	[NC_MSG_SOCKOPT_SET] = { offsetof(struct nc_sockopt_req, value), 0 },
	[NC_MSG_SOCKOPT_GET] = { offsetof(struct nc_sockopt_req, value),
				 offsetof(struct nc_sockopt_rep, value) },
	[NC_MSG_QUERY] = { 0, sizeof(struct nc_query_rep) },
	[NC_MSG_STATUS] = { 0, offsetof(struct nc_status_rep, text) },
	[NC_MSG_RESOLVE] = { sizeof(struct nc_resolve_req), sizeof(struct nc_resolve_rep) },
	[NC_MSG_SECCOMP] = { sizeof(struct nc_seccomp_req), sizeof(struct nc_seccomp_rep) },
	[NC_MSG_OUTBOUND] = { sizeof(struct nc_outbound_req), sizeof(struct nc_outbound_rep) },
	[NC_MSG_STATUS_JSON] = { 0, offsetof(struct nc_status_rep, text) },
	[NC_MSG_CAPTURE] = { sizeof(struct nc_capture_req), 0 },
	[NC_MSG_SOCKOPT_POST] = { sizeof(struct nc_sockopt_post), 0 },   /* never answered */
};

_Static_assert(sizeof(struct nc_seccomp_req) == 8, "nc_seccomp_req size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_capture_req) == 8, "nc_capture_req size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_sockopt_post) == 24, "nc_sockopt_post size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_seccomp_rep) == 8, "nc_seccomp_rep size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_outbound_req) == 72, "nc_outbound_req size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_outbound_rep) == 32, "nc_outbound_rep size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_resolve_req) == 280, "nc_resolve_req size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_resolve_addr) == 20, "nc_resolve_addr size (docs/rpc.md)");
_Static_assert(sizeof(struct nc_resolve_rep) == 2376, "nc_resolve_rep size (docs/rpc.md)");

/* The fields of a RESOLVE request or reply (its size is already right). 0 or -EBADMSG. */
static int check_resolve(const uint8_t *pl, int is_reply, const char **why)
{
	if (!is_reply) {
		struct nc_resolve_req q;
		size_t nl;

		memcpy(&q, pl, sizeof(q));
		nl = strnlen(q.name, sizeof(q.name));
		if (q.op == 0 || q.op >= NC_RESOLVE_OP_COUNT || q.pad != 0) {
			*why = "resolve: bad op";
			return -EBADMSG;
		}
		if (q.op == NC_RESOLVE_NAME &&
		    ((q.family != AF_UNSPEC && q.family != AF_INET && q.family != AF_INET6) ||
		     nl == 0 || nl >= sizeof(q.name))) {
			*why = "resolve: bad name or family";
			return -EBADMSG;
		}
		if (q.op == NC_RESOLVE_ADDR && q.family != AF_INET && q.family != AF_INET6) {
			*why = "resolve: bad address family";
			return -EBADMSG;
		}
		return 0;
	}
	{
		struct nc_resolve_rep r;

		memcpy(&r, pl, sizeof(r));
		if (r.naddrs > NC_RESOLVE_MAX_ADDRS || r.nnames == 0 ||
		    r.nnames > NC_RESOLVE_MAX_NAMES) {
			*why = "resolve: counts out of range";
			return -EBADMSG;
		}
		for (uint32_t i = 0; i < r.naddrs; i++) {
			if (r.addrs[i].family != AF_INET && r.addrs[i].family != AF_INET6) {
				*why = "resolve: bad address family";
				return -EBADMSG;
			}
		}
		for (uint32_t i = 0; i < r.nnames; i++) {
			size_t nl = strnlen(r.names[i], sizeof(r.names[i]));
			if (nl == 0 || nl >= sizeof(r.names[i])) {
				*why = "resolve: name not terminated";
				return -EBADMSG;
			}
		}
	}
	return 0;
}

long nc_rpc_payload_size(unsigned type, int is_reply)
{
	if (type == 0 || type >= NC_MSG_TYPE_COUNT)
		return -1;
	return payload_sizes[type][is_reply ? 1 : 0];
}

int nc_rpc_send(int fd, struct nc_hdr *h, const void *payload, size_t plen,
		const int *fds, int nfds)
{
	return nc_rpc_send_flags(fd, h, payload, plen, fds, nfds, 0);
}

int nc_rpc_send_flags(int fd, struct nc_hdr *h, const void *payload, size_t plen,
		      const int *fds, int nfds, int msg_flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * NC_RPC_MAX_FDS)];
	} ctl;
	struct iovec iov[2];
	struct msghdr msg;
	ssize_t n;

	if (nfds < 0 || nfds > NC_RPC_MAX_FDS || sizeof(*h) + plen > NC_RPC_MAX_MSG)
		return -EINVAL;
	h->len = (uint32_t)(sizeof(*h) + plen);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(*h);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = plen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = plen ? 2 : 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | msg_flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != h->len)
		return -EIO;   /* SEQPACKET sends all or nothing; be safe anyway */
	return 0;
}

void nc_rpc_close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * recv_fds() - one recvmsg of at most cap bytes into buf, the fds it carried in got (at
 * most NC_RECV_FDS; more are closed and count as *over), *other set when another kind of
 * control message came, *mflags to the message's flags. Returns recvmsg's result or a
 * negative errno (EINTR included: the caller decides whether to retry).
 */
#define NC_RECV_FDS 16
static ssize_t recv_fds(int fd, void *buf, size_t cap, int flags, int got[NC_RECV_FDS],
			int *ngot, int *over, int *other, int *mflags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * NC_RECV_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	*ngot = *over = *other = 0;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -errno;
	*mflags = msg.msg_flags;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			*other = 1;
			continue;
		}
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*ngot < NC_RECV_FDS) {
				got[(*ngot)++] = f;
			} else {
				close(f);
				*over = 1;
			}
		}
	}
	return n;
}

ssize_t nc_rpc_recv(int fd, void *buf, size_t cap, int fds[NC_RPC_MAX_FDS], int *nfds,
		    int msg_flags)
{
	/* room for more fds than we accept, so that extra ones are seen and closed */
	int got[NC_RECV_FDS], ngot, over, other, mflags = 0;
	ssize_t n;

	*nfds = 0;
	do
		n = recv_fds(fd, buf, cap, msg_flags | MSG_CMSG_CLOEXEC, got, &ngot, &over, &other,
			     &mflags);
	while (n == -EINTR);
	if (n < 0)
		return n;
	if ((mflags & (MSG_TRUNC | MSG_CTRUNC)) || ngot > NC_RPC_MAX_FDS || over || other) {
		nc_rpc_close_fds(got, ngot);
		return -EMSGSIZE;
	}
	if (n == 0 && ngot > 0) {
		/* End of stream never carries fds: this was an empty message with fds. Returned
		 * as 0, its fds would be left open in the receiver. */
		nc_rpc_close_fds(got, ngot);
		return -EBADMSG;
	}
	for (int i = 0; i < ngot; i++)
		fds[i] = got[i];
	*nfds = ngot;
	return n;
}

static int fd_count_for(unsigned flags, int is_reply)
{
	if (is_reply)
		return (flags & NC_F_NEW_FD) ? 1 : 0;
	return ((flags & NC_F_REPLY_FD) ? 1 : 0) + ((flags & NC_F_SUBJECT_FD) ? 1 : 0);
}

int nc_rpc_check(const void *buf, size_t n, int nfds, int is_reply, const char **why)
{
	struct nc_hdr h;
	unsigned type;
	long want;
	size_t plen;

	*why = NULL;
	if (n < sizeof(h)) {
		*why = "shorter than the header";
		return -EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.len != n) {
		*why = "header length differs from the message";
		return -EBADMSG;
	}
	if (!!(h.type & NC_MSG_REPLY) != !!is_reply) {
		*why = "wrong direction";
		return -EBADMSG;
	}
	type = h.type & (unsigned)~NC_MSG_REPLY;
	want = nc_rpc_payload_size(type, is_reply);
	if (want < 0) {
		*why = "unknown message type";
		return -EBADMSG;
	}
	if (h.flags & ~NC_F_ALL) {
		*why = "unknown flags";
		return -EBADMSG;
	}
	if (is_reply ? (h.flags & ~NC_F_NEW_FD) : (h.flags & NC_F_NEW_FD)) {
		*why = "flags of the other direction";
		return -EBADMSG;
	}
	if (!is_reply && h.err != 0) {
		*why = "request with an error code";
		return -EBADMSG;
	}
	if (is_reply && (h.err < 0 || h.err > 4095)) {
		*why = "error code out of range";
		return -EBADMSG;
	}
	if (fd_count_for(h.flags, is_reply) != nfds) {
		*why = "number of fds differs from the flags";
		return -EBADMSG;
	}
	plen = n - sizeof(h);
	if (type == NC_MSG_SOCKOPT_SET && !is_reply) {
		struct nc_sockopt_req r;
		if (plen < (size_t)want) {
			*why = "short sockopt request";
			return -EBADMSG;
		}
		memcpy(&r, (const char *)buf + sizeof(h), (size_t)want);
		if (r.len > NC_SOCKOPT_MAX || plen != (size_t)want + r.len) {
			*why = "sockopt value length";
			return -EBADMSG;
		}
		return 0;
	}
	if (type == NC_MSG_SOCKOPT_GET && !is_reply) {
		struct nc_sockopt_req r;
		if (plen != (size_t)want) {
			*why = "sockopt request size";
			return -EBADMSG;
		}
		memcpy(&r, (const char *)buf + sizeof(h), (size_t)want);
		if (r.len > NC_SOCKOPT_MAX) {
			*why = "sockopt buffer length";
			return -EBADMSG;
		}
		return 0;
	}
	if (type == NC_MSG_SOCKOPT_GET && is_reply) {
		struct nc_sockopt_rep r;
		if (h.err != 0 && plen == 0)
			return 0;
		if (plen < (size_t)want) {
			*why = "short sockopt reply";
			return -EBADMSG;
		}
		memcpy(&r, (const char *)buf + sizeof(h), (size_t)want);
		if (r.len > NC_SOCKOPT_MAX || plen != (size_t)want + r.len) {
			*why = "sockopt reply length";
			return -EBADMSG;
		}
		return 0;
	}
	if ((type == NC_MSG_STATUS || type == NC_MSG_STATUS_JSON) && is_reply) {
		struct nc_status_rep r;
		if (h.err != 0 && plen == 0)
			return 0;
		if (plen < (size_t)want) {
			*why = "short status reply";
			return -EBADMSG;
		}
		memcpy(&r, (const char *)buf + sizeof(h), (size_t)want);
		if (plen != (size_t)want + r.len) {
			*why = "status text length";
			return -EBADMSG;
		}
		return 0;
	}
	/* Error replies may come without their payload. */
	if (is_reply && h.err != 0 && plen == 0)
		return 0;
	if (plen != (size_t)want) {
		*why = "payload size differs from the type's";
		return -EBADMSG;
	}
	if (type == NC_MSG_RESOLVE)
		return check_resolve((const uint8_t *)buf + sizeof(h), is_reply, why);
	return 0;
}

int nc_accept_recv(int fd, int flags, struct nc_accept_msg *m, int *nfd)
{
	int got[NC_RECV_FDS], ngot, over, other, mflags = 0;
	ssize_t n;

	*nfd = -1;
	n = recv_fds(fd, m, sizeof(*m), flags, got, &ngot, &over, &other, &mflags);
	if (n < 0)
		return (int)n;
	if (n == 0 && ngot == 0)
		return 0;
	if ((size_t)n != sizeof(*m) || m->magic != NC_ACCEPT_MAGIC || ngot != 1 || over ||
	    (mflags & (MSG_TRUNC | MSG_CTRUNC))) {
		nc_rpc_close_fds(got, ngot);
		return -EPROTO;
	}
	*nfd = got[0];
	if (m->flags & NC_ACCEPT_MARK) {
		/* The mark the service left unread in the connection (tcp_listen.c): taking
		 * it is what tells the service this connection was accepted. It is there
		 * before the message was sent; if it is not, the service is gone and the
		 * connection reads EOF anyway. */
		char b;

		(void)recv(*nfd, &b, 1, MSG_DONTWAIT);
	}
	return 1;
}
