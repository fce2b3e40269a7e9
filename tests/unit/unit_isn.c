/*
 * unit_isn.c — SipHash-2-4 and the initial sequence numbers of src/service/isn.c: the
 * paper's test vector; different four-tuples give unrelated ISNs; one four-tuple's ISN
 * advances with the 4 µs clock; another key gives other ISNs. The four-tuple hash of
 * lwIP's pcb table (nc_tcp_hash_calc): a function of the tuple, keyed, spreading
 * consecutive ports evenly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "service/isn.h"
#include "lwip/ip_addr.h"

/* isn.o's lwIP hook may assert; nothing here calls it. */
void netcon_lwip_assert(const char *msg, const char *file, int line)
{
	printf("lwIP assertion %s (%s:%d)\n", msg, file, line);
	abort();
}

static void test_siphash_vectors(void)
{
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* SipHash paper, appendix A: key 00..0f, message 00..0e */
	CHECK(nc_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull, "paper vector: %016llx",
	      (unsigned long long)nc_siphash24(key, msg, 15));
	/* the reference implementation's first vector: the empty message */
	CHECK(nc_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull, "empty: %016llx",
	      (unsigned long long)nc_siphash24(key, msg, 0));
	/* every length hashes differently (the length is part of the last word) */
	for (size_t n = 1; n < 64; n++)
		CHECK(nc_siphash24(key, msg, n) != nc_siphash24(key, msg, n - 1), "len %zu", n);
}

static struct nc_isn_tuple tuple4(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct nc_isn_tuple t;

	memset(&t, 0, sizeof(t));
	memcpy(t.local, &lip, 4);
	memcpy(t.remote, &rip, 4);
	t.local_port = lport;
	t.remote_port = rport;
	t.family = 4;
	return t;
}

static int32_t delta(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a);
}

static void test_tuples_differ(void)
{
	uint8_t key[16] = "netcon unit key";
	uint64_t now = 123456789012345ull;
	struct nc_isn_tuple a = tuple4(0x0100000a, 40000, 0x0200000a, 80);
	uint32_t base = nc_isn_calc(key, &a, now);
	int close = 0, n = 0;

	/* successive ephemeral ports, as lwIP hands them out: ISNs must be unrelated, not
	 * a counter (lwIP's own: 8366, 9225, ...) */
	uint32_t prev = base;
	for (uint16_t p = 40001; p < 40001 + 256; p++, n++) {
		struct nc_isn_tuple t = tuple4(0x0100000a, p, 0x0200000a, 80);
		uint32_t isn = nc_isn_calc(key, &t, now + (uint64_t)n * 1000000u);
		int32_t d = delta(prev, isn);
		if (d > -(1 << 24) && d < (1 << 24))
			close++;
		prev = isn;
	}
	/* for random ISNs a pair is that close with probability 2^-7: ~2 of 256 */
	CHECK(close < 16, "%d of %d successive ISNs within 2^24 of the previous", close, n);
	/* each field of the tuple matters */
	struct nc_isn_tuple v[5] = {
		tuple4(0x0100000a, 40000, 0x0200000a, 81),
		tuple4(0x0100000a, 40000, 0x0300000a, 80),
		tuple4(0x0500000a, 40000, 0x0200000a, 80),
		tuple4(0x0100000a, 40001, 0x0200000a, 80),
		tuple4(0x0200000a, 80, 0x0100000a, 40000), /* the peer's view */
	};
	for (int i = 0; i < 5; i++)
		CHECK(nc_isn_calc(key, &v[i], now) != base, "variant %d gives the same ISN", i);
	struct nc_isn_tuple six = a;
	six.family = 6;
	CHECK(nc_isn_calc(key, &six, now) != base, "family ignored");
}

static void test_clock(void)
{
	uint8_t key[16] = "netcon unit key";
	struct nc_isn_tuple a = tuple4(0x0100000a, 40000, 0x0200000a, 80);
	uint64_t t0 = 5000000000ull;
	uint32_t i0 = nc_isn_calc(key, &a, t0);

	/* the same tuple: M ticks every 4 µs */
	CHECK(nc_isn_calc(key, &a, t0) == i0, "not a function of tuple and time");
	CHECK(delta(i0, nc_isn_calc(key, &a, t0 + 4000)) == 1, "4 µs later: +1");
	CHECK(delta(i0, nc_isn_calc(key, &a, t0 + 3999)) == 0, "within the tick: same");
	CHECK(delta(i0, nc_isn_calc(key, &a, t0 + 1000000000ull)) == 250000, "1 s later: +250000");
	/* and wraps as sequence numbers do (2^32 × 4 µs ≈ 4.8 h) */
	CHECK(delta(i0, nc_isn_calc(key, &a, t0 + 4000ull * 0x100000000ull)) == 0, "full wrap");
}

static void test_keyed(void)
{
	uint8_t k1[16] = "netcon unit key", k2[16] = "netcon unit kez";
	int same = 0;

	for (uint16_t p = 1; p <= 64; p++) {
		struct nc_isn_tuple t = tuple4(0x0100000a, p, 0x0200000a, 80);
		same += nc_isn_calc(k1, &t, 0) == nc_isn_calc(k2, &t, 0);
	}
	CHECK(same == 0, "%d of 64 ISNs equal under two keys", same);
	/* the service's secret: drawn from getrandom() */
	CHECK(nc_isn_init() == 0, "nc_isn_init failed");
}

static void test_tuple_hash(void)
{
	uint8_t k1[16] = "netcon unit key", k2[16] = "netcon unit kez";
	ip_addr_t a, b, a6, b6;
	unsigned buckets[1024] = { 0 }, worst = 0;
	int same = 0;

	IP_ADDR4(&a, 10, 167, 0, 1);
	IP_ADDR4(&b, 10, 167, 0, 2);
	IP_ADDR6(&a6, 0xfd670000, 0, 0, 1);
	IP_ADDR6(&b6, 0xfd670000, 0, 0, 2);
	CHECK(nc_tcp_hash_calc(k1, &a, 80, &b, 40000) == nc_tcp_hash_calc(k1, &a, 80, &b, 40000),
	      "not a function of the tuple");
	CHECK(nc_tcp_hash_calc(k1, &a, 80, &b, 40000) != nc_tcp_hash_calc(k1, &a, 40000, &b, 80),
	      "ports swapped: same hash");
	CHECK(nc_tcp_hash_calc(k1, &a, 80, &b, 40000) != nc_tcp_hash_calc(k1, &b, 80, &a, 40000),
	      "addresses swapped: same hash");
	CHECK(nc_tcp_hash_calc(k1, &a6, 80, &b6, 40000) != nc_tcp_hash_calc(k1, &a6, 80, &a6, 40000),
	      "IPv6 remote address ignored");
	/* 65,536 peers' ports into 1,024 buckets: 64 each on average; a keyed PRF stays
	 * near that (a bucket above 128 is ~1e-12 likely) */
	for (uint32_t p = 0; p < 65536; p++) {
		unsigned *n = &buckets[nc_tcp_hash_calc(k1, &a, 80, &b, (uint16_t)p) & 1023];
		if (++*n > worst)
			worst = *n;
		same += p < 64 && nc_tcp_hash_calc(k1, &a, 80, &b, (uint16_t)p) ==
				  nc_tcp_hash_calc(k2, &a, 80, &b, (uint16_t)p);
	}
	CHECK(worst < 128, "a bucket holds %u of 65536 (64 on average)", worst);
	CHECK(same == 0, "%d of 64 hashes equal under two keys", same);
}

int main(void)
{
	test_siphash_vectors();
	test_tuples_differ();
	test_clock();
	test_keyed();
	test_tuple_hash();
	printf("unit_isn: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
