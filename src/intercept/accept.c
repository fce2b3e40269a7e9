/*
 * accept.c — accept() and accept4().
 *
 * On a virtual listener, accept is a local recvmsg() on the listener's SOCK_SEQPACKET
 * end: each message is one struct nc_accept_msg with the new connection's fd. Blocking,
 * non-blocking, poll/epoll and several processes accepting on one listener therefore
 * behave as the kernel's do, with no round trip to the service.
 *
 * If the service dies, the listener's end reads EOF. Returning an error for ever would
 * make a program's accept loop spin (the 2015 system spun sshd at 100% CPU), so the dead
 * listener is replaced by a Unix listening socket that nobody can reach: accept() then
 * blocks, or says EAGAIN, and readiness never fires.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intercept.h"
#include "rpc.h"

/* Put a never-ready listening socket in place of a dead virtual listener. */
static void bury_listener(int fd)
{
	int s = NC_REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	sa_family_t fam = AF_UNIX;

	if (s < 0)
		return;
	/* Linux refuses listen() on an unbound Unix socket: autobind it (a random abstract
	 * name that nobody is told) first. */
	if (NC_REAL(bind)(s, (struct sockaddr *)&fam, sizeof(fam)) < 0 || NC_REAL(listen)(s, 1) < 0 ||
	    nc_ic_replace(fd, NULL, s) < 0) {
		NC_REAL(close)(s);
		return;
	}
	nc_fd_forget(fd);
}

int nc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct nc_accept_msg m;
	struct nc_fdent e;
	int kind, nfd = -1, r;

	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_NONE)
		return NC_PASS;
	if (kind == NC_KIND_UDP)
		return -EOPNOTSUPP;
	if (kind != NC_KIND_LISTENER || e.state == NC_STATE_CLOSED)
		return -EINVAL;   /* not listening, or shut down (close.c) */
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	r = nc_accept_recv(fd, (flags & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0, &m, &nfd);
	if (r == -ECONNRESET)
		r = 0;       /* the service died with our end's filler unread: it is gone */
	if (r == -EPROTO)
		return -ECONNABORTED;
	if (r < 0)
		return r;    /* EAGAIN, EINTR, ... as the kernel said */
	if (r == 0 && nc_fd_kind(fd, &e) == NC_KIND_LISTENER && e.state == NC_STATE_CLOSED)
		return -EINVAL;   /* shutdown() by the program while we waited */
	if (r == 0) {
		/* The service is gone. */
		bury_listener(fd);
		return -ECONNABORTED;
	}
	if (flags & SOCK_NONBLOCK)
		NC_REAL(fcntl)(nfd, F_SETFL, O_NONBLOCK);
	/* A published port's connection is the kernel's socket: not ours to track. */
	if (!(m.flags & NC_ACCEPT_KERNEL))
		/* The listener's via: the service lets the control connection that made the
		 * listener post options to the connections it accepts (rpc.h). */
		nc_ic_remember(nfd, NC_KIND_CONN, NC_STATE_ESTABLISHED, &m.local, &m.peer, e.via);
	if (addr && len)
		nc_ic_put_addr(&m.peer, addr, len);
	return nfd;
}

NC_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
	int r = nc_accept4(fd, NC_SA(addr), len, 0);

	if (r == NC_PASS)
		return NC_REAL(accept)(fd, NC_SA(addr), len);
	return (int)nc_ret(r);
}

NC_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len, int flags)
{
	int r = nc_accept4(fd, NC_SA(addr), len, flags);

	if (r == NC_PASS)
		return NC_REAL(accept4)(fd, NC_SA(addr), len, flags);
	return (int)nc_ret(r);
}
