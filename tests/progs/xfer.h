/*
 * xfer.h — what test_tx and test_rx share: the pseudo-random byte stream, the running
 * checksum both sides compute over it, size and address parsing, and I/O loops that
 * survive partial transfers and EINTR. Plain libc only: these programs run under the
 * netcon intercept and must behave like any ordinary socket program.
 */
#ifndef NETCON_TEST_XFER_H
#define NETCON_TEST_XFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Running 64-bit checksum of a byte stream. The result depends only on the bytes, not on
 * how they were split into calls of xfer_sum_update(). Four independent multiply-rotate
 * lanes over 32-byte stripes (the structure of xxHash64, written here from scratch) keep
 * it faster than loopback TCP.
 */
struct xfer_sum {
	uint64_t lane[4];
	uint64_t total;         /* bytes seen */
	uint8_t  pend[32];      /* an incomplete stripe */
	size_t   npend;
};

void xfer_sum_init(struct xfer_sum *s);
void xfer_sum_update(struct xfer_sum *s, const void *data, size_t n);
uint64_t xfer_sum_final(const struct xfer_sum *s);

/* Deterministic pseudo-random bytes (xorshift64*) from a seed; like the checksum, the
 * stream does not depend on the sizes of the pieces asked for. */
struct xfer_gen {
	uint64_t state;
	uint8_t  left[8];       /* unused bytes of the last word */
	size_t   nleft;
};

void xfer_gen_init(struct xfer_gen *g, uint64_t seed);
void xfer_gen_fill(struct xfer_gen *g, void *buf, size_t n);

/* "123", "64K", "1M", "2G", "1T" (binary multiples, case-insensitive) → bytes.
 * 0, or -1 on anything else or on overflow. */
int xfer_parse_size(const char *s, uint64_t *out);

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (the wildcard, for passive use) → address. HOST is
 * a literal address or "localhost"; names are never resolved, so a test causes no DNS
 * traffic. family is AF_UNSPEC, AF_INET or AF_INET6 (-4/-6). 0, or -1 with a message
 * on stderr. */
int xfer_parse_addr(const char *s, int family, int passive, struct sockaddr_storage *ss,
		    socklen_t *len);

/* Write all n bytes, retrying partial writes and EINTR. 0, or -errno. */
int xfer_write_all(int fd, const void *buf, size_t n);

/* read() retrying EINTR: bytes read, 0 at EOF, or -errno. */
ssize_t xfer_read(int fd, void *buf, size_t n);

/* Monotonic time in seconds. */
double xfer_now(void);

/* "12.3 Gbit/s"-style report of n bytes in secs seconds, on stderr, prefixed by who. */
void xfer_report_rate(const char *who, uint64_t n, double secs);

#endif /* NETCON_TEST_XFER_H */
