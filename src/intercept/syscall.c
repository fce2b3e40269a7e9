/*
 * syscall.c — syscall() for the socket control calls.
 *
 * Some runtimes (libuv, hence Node.js) make socket calls through syscall() instead of
 * the libc wrappers. The numbers we override go to the same code as the wrappers; every
 * other number, and every call the decision passes to libc, is made by libc's syscall()
 * unchanged. Results follow libc's convention for syscall(): -1 with errno on failure.
 */
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "intercept.h"

NC_EXPORT long syscall(long n, ...)
{
	va_list ap;
	long a[6], r;

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	nc_ic_init();

	switch (n) {
	case SYS_socket:
		r = nc_socket((int)a[0], (int)a[1], (int)a[2]);
		break;
	case SYS_connect:
		r = nc_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
		break;
	case SYS_bind:
		r = nc_bind((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
		break;
	case SYS_listen:
		r = nc_listen((int)a[0], (int)a[1]);
		break;
	case SYS_accept:
		r = nc_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0);
		break;
	case SYS_accept4:
		r = nc_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
		break;
	case SYS_getsockname:
		r = nc_getsockname((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
		break;
	case SYS_getpeername:
		r = nc_getpeername((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
		break;
	case SYS_getsockopt:
		r = nc_getsockopt((int)a[0], (int)a[1], (int)a[2], (void *)a[3], (socklen_t *)a[4]);
		break;
	case SYS_setsockopt:
		r = nc_setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3],
				  (socklen_t)a[4]);
		break;
	case SYS_shutdown:
		r = nc_shutdown((int)a[0], (int)a[1]);
		break;
	case SYS_close:
		r = nc_close((int)a[0]);
		break;
	case SYS_dup:
		r = nc_dup((int)a[0]);
		break;
#ifdef SYS_dup2
	case SYS_dup2:
		r = nc_dup2((int)a[0], (int)a[1]);
		break;
#endif
	case SYS_dup3:
		r = nc_dup3((int)a[0], (int)a[1], (int)a[2]);
		break;
	case SYS_fcntl:
		r = nc_fcntl((int)a[0], (int)a[1], a[2]);
		break;
	case SYS_ioctl:
		r = nc_ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
		break;
#ifdef SYS_close_range
	case SYS_close_range:
		r = nc_close_range((unsigned int)a[0], (unsigned int)a[1], (int)a[2]);
		break;
#endif
	/* The data calls and epoll_ctl: their shims, which speak libc's language already. */
	case SYS_epoll_ctl:
		return epoll_ctl((int)a[0], (int)a[1], (int)a[2], (struct epoll_event *)a[3]);
	case SYS_sendto:
		return sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
			      (const struct sockaddr *)a[4], (socklen_t)a[5]);
	case SYS_recvfrom:
		return recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3],
				(struct sockaddr *)a[4], (socklen_t *)a[5]);
	case SYS_sendmsg:
		return sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
	case SYS_recvmsg:
		return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
	case SYS_sendmmsg:
		return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
	case SYS_recvmmsg:
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
	default:
		r = NC_PASS;
	}
	if (r == NC_PASS)   /* not ours: the system call itself, through libc's syscall() */
		return NC_REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	return nc_ret(r);
}
