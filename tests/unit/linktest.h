/*
 * linktest.h — what the link unit tests (unit_vxlan.c, unit_tap.c) share: check(), which
 * prints "ok    NAME" or "FAIL  NAME: why" per case and counts them in `passed` and
 * `failed`; a test frame builder; a bounded wait for readability; and send() followed by
 * flush(), as the service's event loop does it.
 */
#ifndef NETCON_UNIT_LINKTEST_H
#define NETCON_UNIT_LINKTEST_H

#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "link/link.h"

static int passed, failed;

/* Record one case's result; fmt describes the failure. */
static inline void __attribute__((format(printf, 3, 4)))
check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("ok    %s\n", name);
		return;
	}
	failed++;
	printf("FAIL  %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Build a test frame: dst, src, ethertype, then n payload bytes derived from seed. */
static inline size_t make_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], int type,
			 size_t n, int seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	for (size_t i = 0; i < n; i++)
		f[NC_ETH_HLEN + i] = (uint8_t)(seed + i * 7);
	return NC_ETH_HLEN + n;
}

/* Wait up to ms for fd to become readable. 1 when readable. */
static inline int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* send() as the service's event loop does it: the frame, then flush() before sleeping. */
static inline int send_now(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	int r = l->ops->send(l, iov, iovcnt);

	if (l->ops->flush)
		l->ops->flush(l);
	return r;
}

#endif /* NETCON_UNIT_LINKTEST_H */
