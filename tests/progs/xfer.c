/*
 * xfer.c — the stream, checksum, parsing and I/O helpers of test_tx/test_rx (xfer.h).
 */
#include "xfer.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Odd 64-bit constants with well-mixed bits. */
#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full
#define K3 0x165667b19e3779f9ull
#define K4 0x85ebca77c2b2ae63ull
#define K5 0x27d4eb2f165667c5ull

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* One lane step: multiply-add then rotate-multiply, so every input bit reaches every
 * output bit within two steps. */
static inline uint64_t lane_round(uint64_t acc, uint64_t w)
{
	acc += w * K2;
	return rotl64(acc, 31) * K1;
}

/* Feed one 32-byte stripe, one 8-byte word per lane. */
static inline void stripe(uint64_t lane[4], const uint8_t *p)
{
	lane[0] = lane_round(lane[0], load64(p));
	lane[1] = lane_round(lane[1], load64(p + 8));
	lane[2] = lane_round(lane[2], load64(p + 16));
	lane[3] = lane_round(lane[3], load64(p + 24));
}

void xfer_sum_init(struct xfer_sum *s)
{
	memset(s, 0, sizeof(*s));
	s->lane[0] = K1 + K2;
	s->lane[1] = K2;
	s->lane[2] = K3;
	s->lane[3] = 0 - K1;
}

/* Add bytes to the running checksum: complete a pending stripe first, then whole
 * stripes straight from data, and keep the rest for the next call. */
void xfer_sum_update(struct xfer_sum *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	s->total += n;
	if (s->npend) {
		size_t take = sizeof(s->pend) - s->npend;
		if (take > n)
			take = n;
		memcpy(s->pend + s->npend, p, take);
		s->npend += take;
		p += take;
		n -= take;
		if (s->npend < sizeof(s->pend))
			return;
		stripe(s->lane, s->pend);
		s->npend = 0;
	}
	for (; n >= 32; n -= 32, p += 32)
		stripe(s->lane, p);
	memcpy(s->pend, p, n);
	s->npend = n;
}

/* The checksum of everything fed so far (the state is not changed): merge the lanes,
 * mix in the length and the pending tail, and avalanche. */
uint64_t xfer_sum_final(const struct xfer_sum *s)
{
	uint64_t h = rotl64(s->lane[0], 1) + rotl64(s->lane[1], 7) + rotl64(s->lane[2], 12) +
		     rotl64(s->lane[3], 18);
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		h ^= lane_round(0, s->lane[k]);
		h = h * K1 + K4;
	}
	h += s->total;
	for (; i + 8 <= s->npend; i += 8) {
		h ^= lane_round(0, load64(s->pend + i));
		h = rotl64(h, 27) * K1 + K4;
	}
	for (; i < s->npend; i++) {
		h ^= s->pend[i] * K5;
		h = rotl64(h, 11) * K1;
	}
	h ^= h >> 33;
	h *= K2;
	h ^= h >> 29;
	h *= K3;
	h ^= h >> 32;
	return h;
}

/* xorshift64*: one 64-bit word of the stream. */
static inline uint64_t gen_next(struct xfer_gen *g)
{
	g->state ^= g->state >> 12;
	g->state ^= g->state << 25;
	g->state ^= g->state >> 27;
	return g->state * 0x2545f4914f6cdd1dull;
}

/* The seed goes through splitmix64 so that nearby seeds give unrelated streams and the
 * state is never 0 (xorshift's fixed point). */
void xfer_gen_init(struct xfer_gen *g, uint64_t seed)
{
	uint64_t z = seed + K1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	memset(g, 0, sizeof(*g));
	g->state = z ? z : K1;
}

/* Next n bytes of the stream: leftover bytes of the previous word, whole words, and a
 * last partial word whose rest is kept. */
void xfer_gen_fill(struct xfer_gen *g, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n && g->nleft) {
		*p++ = g->left[8 - g->nleft];
		g->nleft--;
		n--;
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w = gen_next(g);
		memcpy(p, &w, 8);
	}
	if (n) {
		uint64_t w = gen_next(g);
		memcpy(g->left, &w, 8);
		memcpy(p, g->left, n);
		g->nleft = 8 - n;
	}
}

int xfer_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ull << 10;
		break;
	case 'm': case 'M':
		mult = 1ull << 20;
		break;
	case 'g': case 'G':
		mult = 1ull << 30;
		break;
	case 't': case 'T':
		mult = 1ull << 40;
		break;
	default:
		return -1;
	}
	if (*p && p[1] != '\0')
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* Report a bad address argument; returns -1. */
static int addr_error(const char *s, const char *why)
{
	fprintf(stderr, "%s: bad address '%s': %s\n", program_invocation_short_name, s, why);
	return -1;
}

int xfer_parse_addr(const char *s, int family, int passive, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	char host[256], *end;
	const char *port_s;
	size_t hl;
	unsigned long port;
	struct addrinfo hints, *res = NULL;
	int r;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return addr_error(s, "expected [IPV6]:PORT");
		hl = (size_t)(close - s - 1);
		memcpy(host, s + 1, hl < sizeof(host) ? hl : 0);
		port_s = close + 2;
		if (family == AF_UNSPEC)
			family = AF_INET6;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			return addr_error(s, "expected HOST:PORT");
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))
			return addr_error(s, "IPv6 addresses need [brackets]");
		memcpy(host, s, hl < sizeof(host) ? hl : 0);
		port_s = colon + 1;
	}
	if (hl >= sizeof(host))
		return addr_error(s, "host too long");
	host[hl] = '\0';
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (port_s[0] < '0' || port_s[0] > '9' || *end || errno || port > 65535 ||
	    (port == 0 && !passive))
		return addr_error(s, "bad port");
	if (hl == 0) {
		if (!passive)
			return addr_error(s, "a host is needed");
		strcpy(host, family == AF_INET6 ? "::" : "0.0.0.0");
	}
	/* Literal addresses only (no DNS traffic from a test), and "localhost". */
	if (strcmp(host, "localhost") == 0)
		strcpy(host, family == AF_INET6 ? "::1" : "127.0.0.1");

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	r = getaddrinfo(host, port_s, &hints, &res);
	if (r != 0 || !res) {
		fprintf(stderr, "%s: '%s' is not an address literal: %s\n",
			program_invocation_short_name, host, gai_strerror(r));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int xfer_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t xfer_read(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

double xfer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void xfer_report_rate(const char *who, uint64_t n, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	fprintf(stderr, "%s: %llu bytes in %.3f s, %.2f Gbit/s\n", who, (unsigned long long)n,
		secs, (double)n * 8 / secs / 1e9);
}
