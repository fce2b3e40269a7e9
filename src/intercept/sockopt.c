/*
 * sockopt.c — getsockopt(), setsockopt(), ioctl() and fcntl().
 *
 * On a virtual socket, the options that act on the fd's own reads and writes (buffer
 * sizes, timeouts, low-water marks) are applied to the socketpair end itself, where the
 * kernel enforces them. The socket's identity (SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
 * SO_ACCEPTCONN) is answered here. Everything else — SO_ERROR, TCP options, keepalive,
 * linger, TCP_INFO — goes to the service, which owns the TCP connection. ioctl() and
 * fcntl() work natively on the socketpair end (FIONBIO, FIONREAD/SIOCINQ, O_NONBLOCK);
 * they are overridden only to keep our fd table right for F_DUPFD and to keep the
 * intercept's own fds out of the program's way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "intercept.h"
#include "sockopts.h"

/* The same options stay native in both doors (common/sockopts.c). */
static int native_option(int level, int name)
{
	return nc_sockopt_native(level, name);
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len)
		return -EFAULT;
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
	return 0;
}

int nc_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct nc_sockopt_req q;
	struct nc_sockopt_rep rep;
	struct nc_fdent e;
	size_t rl = 0;
	int kind, r;

	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_NONE || native_option(level, name))
		return NC_PASS;
	if (!len)
		return -EFAULT;
	if (level == SOL_SOCKET) {
		int udp = kind == NC_KIND_UDP, err;
		switch (name) {
		case SO_TYPE: return put_int(val, len, udp ? SOCK_DGRAM : SOCK_STREAM);
		case SO_DOMAIN: return put_int(val, len, e.local.family == AF_INET6 ? AF_INET6 : AF_INET);
		case SO_PROTOCOL: return put_int(val, len, udp ? IPPROTO_UDP : IPPROTO_TCP);
		case SO_ACCEPTCONN: return put_int(val, len, kind == NC_KIND_LISTENER);
		case SO_ERROR:
			if (!udp)
				break;
			/* A UDP socket's error waits at the head of its queue (data.c). */
			nc_ic_udp_pending(fd, 1, &err);
			return put_int(val, len, err);
		}
	}
	memset(&q, 0, sizeof(q));
	q.level = level;
	q.name = name;
	q.len = *len > NC_SOCKOPT_MAX ? NC_SOCKOPT_MAX : (uint32_t)*len;
	r = nc_ic_call(NC_MSG_SOCKOPT_GET, &q, offsetof(struct nc_sockopt_req, value), fd, &rep,
		       sizeof(rep), &rl, NULL);
	if (level == SOL_SOCKET && name == SO_ERROR) {
		/* The socketpair end may hold an error of its own (a failed connect closes
		 * it): reading it clears it, so later reads see what Linux would show. */
		int kerr = 0;
		socklen_t kl = sizeof(kerr);
		NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);
		if (r == NC_UNREACHABLE)
			return put_int(val, len, kerr ? kerr : ECONNRESET);
	}
	if (r == NC_UNREACHABLE)
		return -ENOTCONN;
	if (r < 0)
		return r;
	if (rl < offsetof(struct nc_sockopt_rep, value) || rep.len > rl - offsetof(struct nc_sockopt_rep, value))
		return -EIO;
	if (rep.len > *len)
		rep.len = (uint32_t)*len;
	if (val)
		memcpy(val, rep.value, rep.len);
	*len = rep.len;
	return 0;
}

int nc_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct nc_sockopt_req q;
	struct nc_fdent e;
	int kind, r;

	nc_ic_init();
	if (native_option(level, name)) {
		/* The kernel's on any socket (on a virtual one, the socketpair end's): no need
		 * to know which fd is what, only that read_opts must now ask the kernel. */
		nc_fd_unfresh(fd);
		return NC_PASS;
	}
	kind = nc_ic_kind(fd, &e);
	if (kind == NC_KIND_NONE) {
		if (e.kind == NC_FD_KERNEL && e.fresh) {
			e.fresh = 0;   /* read_opts must now ask the kernel */
			nc_fd_store(fd, &e);
		}
		return NC_PASS;
	}
	if (!val && len)
		return -EFAULT;
	if (len > NC_SOCKOPT_MAX)
		return -EINVAL;
	if (kind == NC_KIND_CONN && e.via && len >= sizeof(int) && nc_sockopt_postable(level, name)) {
		/* A connection our own CONNECT made: no round trip (rpc.h). */
		struct nc_sockopt_post p = { .ino = e.ino, .level = level, .name = name };
		memcpy(&p.value, val, sizeof(p.value));
		if (nc_ic_post(NC_MSG_SOCKOPT_POST, &p, sizeof(p), e.via) == 0)
			return 0;
	}
	memset(&q, 0, sizeof(q));
	q.level = level;
	q.name = name;
	q.len = len;
	if (len)
		memcpy(q.value, val, len);
	r = nc_ic_call(NC_MSG_SOCKOPT_SET, &q, offsetof(struct nc_sockopt_req, value) + len, fd,
		       NULL, 0, NULL, NULL);
	if (r == NC_UNREACHABLE)
		return 0;   /* the service is gone: nothing left to configure */
	return r;
}

int nc_ioctl(int fd, unsigned long req, void *arg)
{
	struct nc_fdent e;

	nc_ic_init();
	if (req == FIONREAD && nc_fd_hint(fd) == NC_KIND_UDP && nc_fd_kind(fd, &e) == NC_KIND_UDP) {
		/* Linux gives the size of the next datagram, not of the whole queue. */
		int err;
		if (!arg)
			return -EFAULT;
		*(int *)arg = nc_ic_udp_pending(fd, 0, &err);
		return 0;
	}
	return NC_PASS;
}

int nc_fcntl(int fd, int cmd, long arg)
{
	int r;

	nc_ic_init();
	r = NC_REAL(fcntl)(fd, cmd, arg);
	if (r < 0)
		return -errno;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		nc_fd_copy(fd, r);
	return r;
}

int nc_ic_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int r = nc_getsockopt(fd, level, name, val, len);

	if (r == NC_PASS)
		return (int)nc_neg(NC_REAL(getsockopt)(fd, level, name, val, len));
	return r;
}

/* The shims: handled (>= 0), failed (-1 and errno), or libc's own call. */

NC_EXPORT int getsockopt(int fd, int level, int name, void *__restrict val,
			 socklen_t *__restrict len)
{
	int r = nc_getsockopt(fd, level, name, val, len);

	if (r == NC_PASS)
		return NC_REAL(getsockopt)(fd, level, name, val, len);
	return (int)nc_ret(r);
}

NC_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = nc_setsockopt(fd, level, name, val, len);

	if (r == NC_PASS)
		return NC_REAL(setsockopt)(fd, level, name, val, len);
	return (int)nc_ret(r);
}

NC_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = nc_ioctl(fd, req, arg);
	if (r == NC_PASS)
		return NC_REAL(ioctl)(fd, req, arg);
	return (int)nc_ret(r);
}

NC_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return (int)nc_ret(nc_fcntl(fd, cmd, arg));   /* always libc's, the fd table following */
}

/* glibc's 64-bit-offset name for the same call (an alias, not a second copy). */
NC_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));
