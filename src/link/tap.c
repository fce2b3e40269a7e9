/*
 * tap.c — the TAP link: the service's Ethernet frames through a Linux TAP device, where
 * the host's kernel, tcpdump, bridges and the real LAN meet the service.
 *
 * An administrator creates a persistent device once (`ip tuntap add NAME mode tap user
 * USER`); the service then opens it without privilege. A privileged service may also
 * create a transient device by opening a name that does not exist (it disappears when
 * the service exits). One file descriptor, frames without packet information (IFF_NO_PI):
 * each read() returns one frame, each write() sends one.
 *
 * Reentrancy: deliver() is called from input() and may call send(); send() writes the
 * caller's iovec and never touches the receive buffer, so this is safe. A nested input()
 * returns 0 at once (it would overwrite the frame being delivered). deliver() must not
 * close the link.
 */
#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

#define TAP_MAX_MTU   65521   /* the tun driver's limit: 65535 - Ethernet header */
#define TAP_BUFSZ     65536
#define TAP_RX_BUDGET 256     /* frames per input() call, for fairness */

struct tap {
	struct nc_link link;
	char ifname[IFNAMSIZ];
	int mtu;
	int in_input;
	uint8_t *rx_buf;          /* TAP_BUFSZ bytes */
};

/* Format an error message into err (which may be NULL). */
static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Write one frame. Never blocks; a frame the device refuses is dropped. Returns 0, or a
 * negative errno (counted in tx_dropped). */
static int tap_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	ssize_t n;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	do
		n = writev(l->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		l->stats.tx_dropped++;
		if (e != EAGAIN && e != ENOBUFS)
			nc_log_ratelimited(NC_LOG_DEBUG, "tap: frame of %zu bytes dropped: %s", len,
					   strerror(e));
		return -e;
	}
	l->stats.tx_frames++;
	l->stats.tx_bytes += len;
	return 0;
}

/* Read and deliver waiting frames, at most TAP_RX_BUDGET per call (epoll is
 * level-triggered: we are called again). Returns 0, or a negative errno when the device
 * failed (e.g. it was deleted). */
static int tap_input(struct nc_link *l)
{
	struct tap *t = l->priv;
	int ret = 0;

	if (t->in_input)
		return 0;
	t->in_input = 1;
	for (int budget = TAP_RX_BUDGET; budget > 0; budget--) {
		ssize_t n = read(l->fd, t->rx_buf, TAP_BUFSZ);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ret = -errno;
			nc_warn("tap %s: read failed: %s", t->ifname, strerror(errno));
			break;
		}
		if (n < NC_ETH_HLEN) {
			l->stats.rx_dropped++;
			nc_log_ratelimited(NC_LOG_DEBUG, "tap %s: dropped a frame of %zd bytes",
					   t->ifname, n);
			continue;
		}
		l->stats.rx_frames++;
		l->stats.rx_bytes += (uint64_t)n;
		l->deliver(l->ctx, t->rx_buf, (size_t)n);
	}
	t->in_input = 0;
	return ret;
}

/* One line for `netcon status`. */
static void tap_describe(struct nc_link *l, char *buf, size_t len)
{
	struct tap *t = l->priv;

	if (len > 0)
		snprintf(buf, len, "link tap %s mtu %d\n", t->ifname, t->mtu);
}

/* Close the device (a transient device disappears with it) and free everything. */
static void tap_close(struct nc_link *l)
{
	struct tap *t;

	if (!l)
		return;
	t = l->priv;
	if (l->fd >= 0)
		close(l->fd);
	free(t->rx_buf);
	free(t);
}

static const struct nc_link_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.input = tap_input,
	.flush = NULL,
	.describe = tap_describe,
	.close = tap_close,
};

/* Attach fd to the TAP device `name` (TUNSETIFF). On success the kernel's name for the
 * device is copied back into name. 0, or a negative errno with a message. */
static int tap_attach(int fd, char name[IFNAMSIZ], char *err, size_t errlen)
{
	struct ifreq ifr;
	struct passwd *pw;
	char user[64];

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
		memcpy(name, ifr.ifr_name, IFNAMSIZ);
		name[IFNAMSIZ - 1] = '\0';
		return 0;
	}
	switch (errno) {
	case EPERM:
	case EACCES:
		pw = getpwuid(geteuid());
		if (pw)
			snprintf(user, sizeof(user), "%s", pw->pw_name);
		else
			snprintf(user, sizeof(user), "%u", (unsigned int)geteuid());
		set_err(err, errlen, "device %s does not exist or is not owned by you; an "
			"administrator creates it once with: ip tuntap add %s mode tap user %s",
			name, name, user);
		return -EPERM;
	case EBUSY:
		set_err(err, errlen, "device %s is busy: another process has it open", name);
		return -EBUSY;
	case EINVAL:
		set_err(err, errlen, "%s exists and is not a TAP device", name);
		return -EINVAL;
	default: {
		int e = errno;
		set_err(err, errlen, "cannot attach to TAP device %s: %s", name, strerror(e));
		return -e;
	}
	}
}

/* Make the device's MTU fit: set it to mtu when allowed; without the privilege accept a
 * device MTU at least as large. Also warn when the device is down. 0, or a negative
 * errno with a message. */
static int tap_check_mtu(const char *name, int mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, cur, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		set_err(err, errlen, "tap %s: cannot create a socket: %s", name, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		set_err(err, errlen, "tap %s: cannot read its MTU: %s", name, strerror(errno));
		goto out;
	}
	cur = ifr.ifr_mtu;
	if (cur != mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) == 0) {
			cur = mtu;
		} else if (errno != EPERM && errno != EACCES) {
			ret = -errno;
			set_err(err, errlen, "tap %s: cannot set MTU %d: %s", name, mtu,
				strerror(errno));
			goto out;
		} else if (cur < mtu) {
			ret = -EMSGSIZE;
			set_err(err, errlen, "device %s has MTU %d, smaller than the requested %d; "
				"an administrator raises it with: ip link set %s mtu %d",
				name, cur, mtu, name, mtu);
			goto out;
		} else {
			nc_info("tap %s: device MTU %d is larger than the service's %d", name, cur,
				mtu);
		}
	}
	memset(&ifr.ifr_ifru, 0, sizeof(ifr.ifr_ifru));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		nc_warn("tap %s: the device is down; no frames flow until: ip link set %s up",
			name, name);
out:
	close(s);
	return ret;
}

int nc_link_tap_open(struct nc_link **out, const char *ifname, int mtu,
		     nc_link_deliver_fn deliver, void *ctx, char *err, size_t errlen)
{
	struct tap *t = NULL;
	char name[IFNAMSIZ];
	int fd = -1, ret;

	*out = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		set_err(err, errlen, "bad TAP device name '%s' (1..%d characters)",
			ifname ? ifname : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (mtu < NC_MTU_MIN || mtu > TAP_MAX_MTU) {
		set_err(err, errlen, "mtu %d out of range for a tap link: %d..%d", mtu,
			NC_MTU_MIN, TAP_MAX_MTU);
		return -EMSGSIZE;
	}
	memset(name, 0, sizeof(name));
	memcpy(name, ifname, strlen(ifname));

	t = calloc(1, sizeof(*t));
	if (t)
		t->rx_buf = malloc(TAP_BUFSZ);
	if (!t || !t->rx_buf) {
		set_err(err, errlen, "tap: out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			set_err(err, errlen, "no /dev/net/tun: the tun driver is not available here "
				"(load the tun module, or give the container /dev/net/tun)");
		else
			set_err(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		goto fail;
	}
	ret = tap_attach(fd, name, err, errlen);
	if (ret < 0)
		goto fail;
	ret = tap_check_mtu(name, mtu, err, errlen);
	if (ret < 0)
		goto fail;

	memcpy(t->ifname, name, IFNAMSIZ);
	t->mtu = mtu;
	t->link.ops = &tap_ops;
	t->link.fd = fd;
	t->link.max_mtu = TAP_MAX_MTU;
	t->link.deliver = deliver;
	t->link.ctx = ctx;
	t->link.priv = t;
	*out = &t->link;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	if (t)
		free(t->rx_buf);
	free(t);
	return ret;
}
