/*
 * send.c — sendto() and sendmsg(), for one case only: an address given on a connected
 * virtual TCP socket.
 *
 * Linux's TCP ignores the destination address of sendto()/sendmsg() on a connected
 * socket (some programs, sockperf among them, always pass one). A Unix stream socket
 * refuses it with EISCONN, so for a virtual connection the address is dropped here.
 * Every other call goes straight to libc: a call without an address costs one branch,
 * a call with one costs a lookup in our fd table (no system call) unless the table
 * says the fd is a virtual connection.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "intercept.h"

static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *,
			      socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);

/* Is fd a virtual TCP connection (checked, not just hinted)? */
static int is_virtual_conn(int fd)
{
	struct nc_fdent e;

	return nc_fd_hint(fd) == NC_KIND_CONN && nc_fd_kind(fd, &e) == NC_KIND_CONN;
}

NC_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	nc_ic_init();
	if (!real_sendto)
		real_sendto = nc_real_sym("sendto");
	if (NC_SA(addr) && is_virtual_conn(fd))
		return real_sendto(fd, buf, len, flags, NULL, 0);
	return real_sendto(fd, buf, len, flags, NC_SA(addr), alen);
}

NC_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	nc_ic_init();
	if (!real_sendmsg)
		real_sendmsg = nc_real_sym("sendmsg");
	if (msg && msg->msg_name && is_virtual_conn(fd)) {
		struct msghdr m = *msg;
		m.msg_name = NULL;
		m.msg_namelen = 0;
		return real_sendmsg(fd, &m, flags);
	}
	return real_sendmsg(fd, msg, flags);
}
