/*
 * syscall.c — syscall() for the socket control calls.
 *
 * Some runtimes (libuv, hence Node.js) make socket calls through syscall() instead of
 * the libc wrappers. The numbers we override go to the same code as the wrappers; every
 * other number is passed through unchanged. Results follow libc's convention for
 * syscall(): -1 with errno on failure.
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
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	nc_ic_init();

	switch (n) {
	case SYS_socket:
		return nc_socket((int)a[0], (int)a[1], (int)a[2]);
	case SYS_connect:
		return nc_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
	case SYS_bind:
		return nc_bind((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
	case SYS_listen:
		return nc_listen((int)a[0], (int)a[1]);
	case SYS_accept:
		return nc_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0);
	case SYS_accept4:
		return nc_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
	case SYS_getsockname:
		return nc_getsockname((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
	case SYS_getpeername:
		return nc_getpeername((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
	case SYS_getsockopt:
		return nc_getsockopt((int)a[0], (int)a[1], (int)a[2], (void *)a[3],
				     (socklen_t *)a[4]);
	case SYS_setsockopt:
		return nc_setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3],
				     (socklen_t)a[4]);
	case SYS_shutdown:
		return nc_shutdown((int)a[0], (int)a[1]);
	case SYS_close:
		return nc_close((int)a[0]);
	case SYS_dup:
		return nc_dup((int)a[0]);
#ifdef SYS_dup2
	case SYS_dup2:
		return nc_dup2((int)a[0], (int)a[1]);
#endif
	case SYS_dup3:
		return nc_dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_fcntl:
		return nc_fcntl((int)a[0], (int)a[1], a[2]);
	case SYS_ioctl:
		return nc_ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
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
#ifdef SYS_close_range
	case SYS_close_range:
		return nc_close_range((unsigned int)a[0], (unsigned int)a[1], (int)a[2]);
#endif
	}
	return NC_REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
