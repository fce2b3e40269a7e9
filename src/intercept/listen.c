/*
 * listen.c — listen().
 *
 * A bound virtual socket becomes a listener in the service; its fd (one end of a
 * SOCK_SEQPACKET pair) then receives one message per accepted connection. An unbound
 * kernel socket that listens would be bound by the kernel to the wildcard: that is a
 * server, so it goes virtual with port 0, as Linux's autobind would choose a port.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "intercept.h"

int nc_listen(int fd, int backlog)
{
	struct nc_listen_req q;
	struct nc_listen_rep rep;
	struct sockaddr_storage any, cur;
	socklen_t cl = sizeof(cur);
	struct nc_fdent e;
	size_t rl = 0;
	uint32_t via;
	int kind, r, nfd = -1, family;

	memset(&q, 0, sizeof(q));
	q.backlog = backlog;
	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_UDP)
		return -EOPNOTSUPP;
	if (kind == NC_KIND_CONN)
		return -EINVAL;
	if (kind == NC_KIND_BOUND || kind == NC_KIND_LISTENER) {
		r = nc_ic_call(NC_MSG_LISTEN, &q, sizeof(q), fd, &rep, sizeof(rep), &rl, &nfd);
		if (r == NC_UNREACHABLE)
			return -EADDRNOTAVAIL;
		if (r < 0)
			return r;
		if (nfd >= 0)
			NC_REAL(close)(nfd);   /* not expected for a bound socket */
		e.kind = NC_KIND_LISTENER;
		nc_fd_store(fd, &e);
		return 0;
	}
	if (!(family = nc_ic_is_inet_stream(fd, &e)))
		return NC_PASS;
	/* The port is at the same place in sockaddr_in and sockaddr_in6. */
	if (NC_REAL(getsockname)(fd, (struct sockaddr *)&cur, &cl) == 0 &&
	    ((struct sockaddr_in *)&cur)->sin_port != 0)
		return NC_PASS;   /* bound by the kernel already */
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	if (nc_ic_route(family, (struct sockaddr *)&any, family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), 1) != NC_ROUTE_VIRTUAL)
		return NC_PASS;
	q.family = (uint32_t)family;
	nc_ic_read_opts(fd, &e, &q.opts);
	r = nc_ic_swap_call(fd, &e, NC_MSG_LISTEN, &q, sizeof(q), -1, &rep, sizeof(rep),
			    EADDRNOTAVAIL, &via);
	if (r < 0)
		return r;
	nc_ic_remember(fd, NC_KIND_LISTENER, NC_STATE_NONE, &rep.local, NULL, via);
	return 0;
}

NC_EXPORT int listen(int fd, int backlog)
{
	int r = nc_listen(fd, backlog);

	if (r == NC_PASS)
		return NC_REAL(listen)(fd, backlog);
	return (int)nc_ret(r);
}
