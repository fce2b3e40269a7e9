/*
 * close.c — close(), close_range(), closefrom(), dup(), dup2(), dup3() and shutdown().
 *
 * Closing a virtual socket needs nothing from the service: the socketpair tells it
 * (EOF, HUP, or an error when unread data was left). What these overrides do is keep the
 * intercept's own fds (its RPC connection) out of the program's reach — a daemon that
 * closes every fd, or dup2()s onto a number we hold, must not cut us off — and keep the
 * fd table in step with dup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intercept.h"

int nc_close(int fd)
{
	nc_ic_init();
	if (nc_ic_is_own_fd(fd))
		return 0;   /* not the program's: pretend, keep ours */
	nc_fd_forget(fd);
	return NC_PASS;
}

int nc_close_range(unsigned int first, unsigned int last, int flags)
{
	unsigned int lo = first;
	int r = 0;

	nc_ic_init();
	if (first > last)
		return -EINVAL;
	/* Split the range around our own fds. */
	for (unsigned int fd = first; fd <= last && fd < 1u << 20; fd++) {
		if (!nc_ic_is_own_fd((int)fd))
			continue;
		if (fd > lo && NC_REAL(close_range)(lo, fd - 1, flags) < 0)
			r = -errno;
		lo = fd + 1;
	}
	if (lo <= last && NC_REAL(close_range)(lo, last, flags) < 0)
		r = -errno;
	return r;
}

int nc_dup(int fd)
{
	int r;

	nc_ic_init();
	r = NC_REAL(dup)(fd);
	if (r < 0)
		return -errno;
	nc_fd_copy(fd, r);
	return r;
}

int nc_dup2(int fd, int fd2)
{
	int r;

	nc_ic_init();
	if (fd != fd2)
		nc_ic_vacate(fd2);
	r = NC_REAL(dup2)(fd, fd2);
	if (r < 0)
		return -errno;
	if (fd != fd2)
		nc_fd_copy(fd, fd2);
	return r;
}

int nc_dup3(int fd, int fd2, int flags)
{
	int r;

	nc_ic_init();
	if (fd != fd2)
		nc_ic_vacate(fd2);
	r = NC_REAL(dup3)(fd, fd2, flags);
	if (r < 0)
		return -errno;
	nc_fd_copy(fd, fd2);
	return r;
}

int nc_shutdown(int fd, int how)
{
	struct nc_fdent e;
	int kind;

	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_NONE)
		return NC_PASS;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (kind == NC_KIND_LISTENER) {
		/* Linux: SHUT_WR does nothing on a listener; SHUT_RD stops it listening, which
		 * wakes threads blocked in accept() (a common way to stop them) and makes
		 * accept() fail with EINVAL. Shutting our end does both: the service sees the
		 * hang-up and closes the listener, blocked recvmsg() calls return 0, and the
		 * entry's CLOSED state tells accept() it was the program's own doing. */
		if (how == SHUT_WR || e.state == NC_STATE_CLOSED)
			return 0;
		e.state = NC_STATE_CLOSED;
		nc_fd_store(fd, &e);
		NC_REAL(shutdown)(fd, SHUT_RDWR);
		return 0;
	}
	if (kind == NC_KIND_UDP)
		/* Connected: accepted, and without effect (docs/differences.md). */
		return e.peer.family == AF_UNSPEC ? -ENOTCONN : 0;
	if (kind != NC_KIND_CONN)
		return -ENOTCONN;
	if (e.state == NC_STATE_CONNECTING) {
		nc_fd_refresh(fd, &e);
		if (e.state == NC_STATE_CONNECTING)
			return -ENOTCONN;
	}
	/* The socketpair carries it: SHUT_WR becomes a FIN in the service. */
	return (int)nc_neg(NC_REAL(shutdown)(fd, how));
}

/* The shims: handled (>= 0), failed (-1 and errno), or libc's own call. */

NC_EXPORT int close(int fd)
{
	int r = nc_close(fd);

	if (r == NC_PASS)
		return NC_REAL(close)(fd);
	return (int)nc_ret(r);
}

NC_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)nc_ret(nc_close_range(first, last, flags));   /* libc's, around ours */
}

/* glibc's closefrom() makes the close_range system call itself, past our close_range(). */
NC_EXPORT void closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	nc_close_range((unsigned int)lowfd, ~0u, 0);
}

/* dup*: always libc's, the fd table following. */
NC_EXPORT int dup(int fd)
{
	return (int)nc_ret(nc_dup(fd));
}

NC_EXPORT int dup2(int fd, int fd2)
{
	return (int)nc_ret(nc_dup2(fd, fd2));
}

NC_EXPORT int dup3(int fd, int fd2, int flags)
{
	return (int)nc_ret(nc_dup3(fd, fd2, flags));
}

NC_EXPORT int shutdown(int fd, int how)
{
	int r = nc_shutdown(fd, how);

	if (r == NC_PASS)
		return NC_REAL(shutdown)(fd, how);
	return (int)nc_ret(r);
}
