/*
 * chksum.c — the Internet checksum for lwIP (its LWIP_CHKSUM hook, see lwip/lwipopts.h).
 *
 * DOC: Theory of operation
 *
 * Contract (lwIP's lwip_standard_chksum, inet_chksum.c): return the 16-bit one's
 * complement *sum* (not inverted) of the bytes, in the byte order lwIP expects: the value
 * whose in-memory representation, stored as a host u16, is the RFC 1071 big-endian sum.
 * That is simply the one's complement sum of the data read as host-order 16-bit words,
 * pairing byte 0 with byte 1, byte 2 with byte 3, ... and, for an odd length, the last
 * byte with a zero byte after it. lwIP folds its callers' results with more one's
 * complement additions, so we must be bit-identical, not merely congruent.
 *
 * Why wide words work (RFC 1071 §2): one's complement addition is addition modulo
 * 0xffff with 0xffff standing for zero. Since 2^16 ≡ 1 (mod 0xffff), a 32-bit host word
 * hi·2^16 + lo is congruent to hi + lo, so summing 32-bit words (each made of two 16-bit
 * host words, whatever the endianness) into a wide accumulator gives the same residue as
 * summing the 16-bit words. The final fold (end-around carry: add the high part to the
 * low part until it fits) keeps the residue. Byte order independence (RFC 1071 §2(B))
 * means no byte swap is needed anywhere: the host-order sum is what lwIP wants.
 *
 * Why the result is bit-identical, including 0x0000 vs 0xffff: all the addends are
 * non-negative, so the accumulator is zero iff every byte is zero, and an end-around
 * carry fold of a non-zero value never yields zero. Hence for data that is all zero
 * both lwIP and we return 0; otherwise both return ((N - 1) mod 0xffff) + 1 for the
 * same residue N, i.e. 0xffff rather than 0 for a sum ≡ 0.
 *
 * Odd start addresses: lwIP's portable versions load aligned u16 words, so for an odd
 * address they take the first byte alone, sum the shifted stream and swap the bytes of
 * the result at the end. The result itself does not depend on the address — only on the
 * byte stream — and we load through memcpy (unaligned loads, legal in C and cheap on
 * current CPUs), so we never need that swap.
 *
 * Speed: the main loop adds the two 32-bit halves of each 64-bit word into a 64-bit
 * accumulator, over blocks of a constant size, in eight independent lanes. Constant
 * trip counts and no loop-carried carry chain let GCC's -O2 ("very cheap") vectorizer
 * turn it into SIMD adds. Overflow: each step adds < 2^33 per lane and len < 2^31, so a
 * 64-bit accumulator cannot overflow.
 */
#include <stdint.h>
#include <string.h>

uint16_t netcon_chksum(const void *data, int len);

#define BLOCK_WORDS 8   /* 64-bit words per block: 64 bytes */

/* Load a 64-bit host-order word from any address. */
static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Sum one block of BLOCK_WORDS 64-bit words into the lanes, as 32-bit halves. */
static inline void add_block(uint64_t lanes[BLOCK_WORDS], const unsigned char *p)
{
#pragma GCC unroll 8
	for (int i = 0; i < BLOCK_WORDS; i++) {
		uint64_t w = load64(p + 8 * i);
		lanes[i] += (w & 0xffffffffu) + (w >> 32);
	}
}

/*
 * netcon_chksum — one's complement sum of len bytes at data, not inverted, host order
 * (lwIP's LWIP_CHKSUM contract). data may have any alignment; len <= 0 sums nothing.
 */
uint16_t netcon_chksum(const void *data, int len)
{
	const unsigned char *p = data;
	uint64_t lanes[BLOCK_WORDS] = { 0 };
	uint64_t acc = 0;
	size_t n = len > 0 ? (size_t)len : 0;

	for (; n >= 8 * BLOCK_WORDS; n -= 8 * BLOCK_WORDS, p += 8 * BLOCK_WORDS)
		add_block(lanes, p);
	for (int i = 0; i < BLOCK_WORDS; i++)
		acc += lanes[i];

	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w = load64(p);
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	if (n >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		n -= 2;
	}
	if (n) {
		/* The last byte pairs with a zero byte after it, in host order. */
		unsigned char b[2] = { p[0], 0 };
		uint16_t w;
		memcpy(&w, b, 2);
		acc += w;
	}

	/* End-around carry folds: 64 → 33 → 32 bits, then 32 → 17 → 16 bits. */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}
