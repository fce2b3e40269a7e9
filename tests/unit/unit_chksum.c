/*
 * unit_chksum.c — netcon_chksum (src/service/chksum.c) must be bit-identical to lwIP's
 * own checksum for every input.
 *
 * lwipopts.h sets LWIP_CHKSUM to netcon_chksum, so the lwIP objects the service links
 * contain no lwip_standard_chksum and their inet_chksum() calls *our* function. Two
 * independent references are therefore built here:
 *
 *   - ref_rfc1071(): a plain byte-pair sum written from RFC 1071, returned in lwIP's
 *     byte order (the way lwIP's algorithm #1 does);
 *   - lwIP's real lwip_standard_chksum (its default algorithm #2, with the odd-address
 *     byte swap): inet_chksum.c is compiled a second time into this file with
 *     LWIP_CHKSUM undefined and its exported names renamed to ref_*, so it can sit next
 *     to the real core/inet_chksum.o (which uses netcon_chksum).
 *
 * The real inet_chksum_pbuf/inet_chksum_pseudo (ours inside) are then compared with
 * their ref_* twins over pbuf chains with odd-length pieces, which is how lwIP combines
 * partial sums. Throughput is printed for information only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/opt.h"
#include "lwip/def.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

uint16_t netcon_chksum(const void *data, int len);

/* ---- lwIP's own checksum, compiled from its source under other names ---- */

#undef LWIP_CHKSUM
#undef LWIP_CHKSUM_ALGORITHM
#define inet_chksum                ref_inet_chksum
#define inet_chksum_pbuf           ref_inet_chksum_pbuf
#define inet_chksum_pseudo         ref_inet_chksum_pseudo
#define inet_chksum_pseudo_partial ref_inet_chksum_pseudo_partial
#define ip6_chksum_pseudo          ref_ip6_chksum_pseudo
#define ip6_chksum_pseudo_partial  ref_ip6_chksum_pseudo_partial
#define ip_chksum_pseudo           ref_ip_chksum_pseudo
#define ip_chksum_pseudo_partial   ref_ip_chksum_pseudo_partial
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "../core/inet_chksum.c"
#pragma GCC diagnostic pop
#undef inet_chksum
#undef inet_chksum_pbuf
#undef inet_chksum_pseudo
#undef inet_chksum_pseudo_partial
#undef ip6_chksum_pseudo
#undef ip6_chksum_pseudo_partial
#undef ip_chksum_pseudo
#undef ip_chksum_pseudo_partial

/* The real core/inet_chksum.o reports assertion failures here (arch/cc.h). */
void netcon_lwip_assert(const char *msg, const char *file, int line)
{
	fprintf(stderr, "lwIP assertion: %s (%s:%d)\n", msg, file, line);
	abort();
}

/* ---- the test harness ---- */

static unsigned long passed, failed;

/* Record one case; print the first 30 failures. */
static void check(int ok, const char *what, int align, int len, unsigned got,
		  unsigned want)
{
	if (ok) {
		passed++;
		return;
	}
	if (failed++ < 30)
		printf("FAIL %s: align %d len %d: got %#06x want %#06x\n", what, align, len, got,
		       want);
}

/* xorshift64*: deterministic test data. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/*
 * RFC 1071 reference: sum big-endian byte pairs (a last odd byte is the high half of a
 * pair) into a wide accumulator, fold with end-around carries, and return the result in
 * lwIP's convention — the host-order u16 whose bytes in memory are the big-endian sum.
 */
static uint16_t ref_rfc1071(const void *data, int len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint8_t be[2] = { (uint8_t)(acc >> 8), (uint8_t)acc };
	uint16_t host;
	memcpy(&host, be, 2);
	return host;
}

/* Compare ours with both references at one alignment/length of buf. lwIP's algorithm
 * #2 is documented for len up to 0x20000 only. */
static void compare_at(const char *what, const uint8_t *base, int align, int len)
{
	const uint8_t *p = base + align;
	unsigned ours = netcon_chksum(p, len);
	unsigned rfc = ref_rfc1071(p, len);

	check(ours == rfc, what, align, len, ours, rfc);
	if (len <= 0x20000) {
		unsigned lw = lwip_standard_chksum(p, len);
		check(ours == lw, what, align, len, ours, lw);
	}
}

/* Every alignment 0..15 × every length 0..2048 over random data and over all-0xff. */
static void test_exhaustive(void)
{
	static uint8_t buf[2048 + 64] __attribute__((aligned(64)));

	fill_random(buf, sizeof(buf));
	for (int a = 0; a < 16; a++)
		for (int l = 0; l <= 2048; l++)
			compare_at("random", buf, a, l);
	memset(buf, 0xff, sizeof(buf));
	for (int a = 0; a < 16; a++)
		for (int l = 0; l <= 2048; l++)
			compare_at("all-0xff", buf, a, l);
	memset(buf, 0, sizeof(buf));
	for (int a = 0; a < 16; a++)
		for (int l = 0; l <= 2048; l += 7) {
			unsigned s = netcon_chksum(buf + a, l);
			check(s == 0, "all-zero", a, l, s, 0);
			compare_at("all-zero", buf, a, l);
		}
}

/* Random lengths up to 65535 (and a few up to 1 MiB vs the RFC reference), random
 * alignments, random data and all-0xff data. */
static void test_random(void)
{
	size_t cap = (1u << 20) + 64;
	uint8_t *buf = malloc(cap);
	uint8_t *ff = malloc(cap);

	if (!buf || !ff) {
		printf("FAIL: out of memory\n");
		failed++;
		goto out;
	}
	fill_random(buf, cap);
	memset(ff, 0xff, cap);
	for (int i = 0; i < 3000; i++) {
		int a = (int)(rng() % 64), l = (int)(rng() % 65536);
		compare_at("random-len", buf, a, l);
		compare_at("random-len-0xff", ff, a, l);
	}
	/* Boundaries of the 64-byte block loop and of lwIP's 16-bit lengths. */
	static const int edges[] = { 63, 64, 65, 127, 128, 129, 65534, 65535, 65536, 65537,
				     0x1ffff, 0x20000 };
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
		for (int a = 0; a < 16; a++) {
			compare_at("edge", buf, a, edges[e]);
			compare_at("edge-0xff", ff, a, edges[e]);
		}
	/* Large inputs (beyond any lwIP frame): only the RFC reference applies. */
	for (int i = 0; i < 8; i++) {
		int a = (int)(rng() % 16), l = (int)(cap - 64 - rng() % 1000);
		compare_at("large", buf, a, l);
		compare_at("large-0xff", ff, a, l);
	}
	/* Negative lengths sum nothing, like lwIP. */
	check(netcon_chksum(buf, -1) == 0, "negative length", 0, -1,
	      netcon_chksum(buf, -1), 0);
out:
	free(buf);
	free(ff);
}

/* Sums that are ≡ 0 mod 0xffff but not all zero must give 0xffff, never 0. */
static void test_special(void)
{
	static const struct {
		uint8_t b[8];
		int len;
		uint16_t be;    /* expected big-endian sum */
	} t[] = {
		{ { 0xff, 0xff }, 2, 0xffff },
		{ { 0x00, 0x01, 0xff, 0xfe }, 4, 0xffff },
		{ { 0x80, 0x00, 0x7f, 0xff }, 4, 0xffff },
		{ { 0xff, 0xff, 0x00, 0x01 }, 4, 0x0001 },
		{ { 0x12 }, 1, 0x1200 },
		{ { 0x00, 0x00, 0x00 }, 3, 0x0000 },
		{ { 0x01, 0x02, 0x03 }, 3, 0x0402 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t buf[24];
		uint8_t be[2] = { (uint8_t)(t[i].be >> 8), (uint8_t)t[i].be };
		uint16_t want;

		memcpy(&want, be, 2);
		for (int a = 0; a < 16; a++) {
			memcpy(buf + a, t[i].b, sizeof(t[i].b));
			unsigned got = netcon_chksum(buf + a, t[i].len);
			check(got == want, "special", a, t[i].len, got, want);
		}
	}
}

/* lwIP's real pbuf-chain and pseudo-header checksums (with ours inside) against the same
 * code built on lwIP's own checksum, over chains split at random (odd) places. */
static void test_pbuf_chains(void)
{
	static uint8_t data[9000 + 64];
	struct pbuf pb[8];
	ip4_addr_t src, dst;

	fill_random(data, sizeof(data));
	IP4_ADDR(&src, 10, 0, 0, 1);
	IP4_ADDR(&dst, 10, 0, 0, 200);
	for (int iter = 0; iter < 2000; iter++) {
		int npieces = 1 + (int)(rng() % 8), total = 0;
		size_t off = rng() % 64;

		memset(pb, 0, sizeof(pb));
		for (int i = 0; i < npieces; i++) {
			int l = (int)(rng() % 1200);
			pb[i].payload = data + off;
			pb[i].len = (u16_t)l;
			pb[i].next = i + 1 < npieces ? &pb[i + 1] : NULL;
			off += (size_t)l + rng() % 3;   /* pieces need not be contiguous */
			total += l;
		}
		for (int i = 0, rest = total; i < npieces; rest -= pb[i].len, i++)
			pb[i].tot_len = (u16_t)rest;

		unsigned got = inet_chksum_pbuf(&pb[0]);
		unsigned want = ref_inet_chksum_pbuf(&pb[0]);
		check(got == want, "inet_chksum_pbuf", npieces, total, got, want);
		got = inet_chksum_pseudo(&pb[0], 6 /* TCP */, (u16_t)total, &src, &dst);
		want = ref_inet_chksum_pseudo(&pb[0], 6 /* TCP */, (u16_t)total, &src, &dst);
		check(got == want, "inet_chksum_pseudo", npieces, total, got, want);
		got = inet_chksum(pb[0].payload, pb[0].len);
		want = ref_inet_chksum(pb[0].payload, pb[0].len);
		check(got == want, "inet_chksum", 0, pb[0].len, got, want);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GB/s of one checksum function over a 64 KiB buffer at the given alignment. */
static double throughput(uint16_t (*fn)(const void *, int), const uint8_t *p)
{
	const int len = 65536;
	volatile unsigned sink = 0;
	long reps = 0;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 64; i++)
			sink += fn(p, len);
		reps += 64;
		t = now_s() - t0;
	} while (t < 0.2);
	(void)sink;
	return (double)reps * len / t / 1e9;
}

static void print_throughput(void)
{
	uint8_t *buf = malloc(65536 + 64);

	if (!buf)
		return;
	fill_random(buf, 65536 + 64);
	for (int a = 0; a <= 1; a++) {
		const uint8_t *p = buf + a;
		double ours = throughput(netcon_chksum, p);
		double lw = throughput(lwip_standard_chksum, p);
		double rfc = throughput(ref_rfc1071, p);
		printf("throughput (64 KiB, %s address): netcon_chksum %.1f GB/s, "
		       "lwip_standard_chksum %.1f GB/s (x%.1f), RFC 1071 byte pairs %.1f GB/s\n",
		       a ? "odd" : "aligned", ours, lw, ours / lw, rfc);
	}
	free(buf);
}

int main(void)
{
	test_special();
	test_exhaustive();
	test_random();
	test_pbuf_chains();
	print_throughput();
	printf("%lu passed, %lu failed\n", passed, failed);
	return failed ? 1 : 0;
}
