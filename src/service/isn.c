/*
 * isn.c — unpredictable TCP initial sequence numbers for lwIP (its LWIP_HOOK_TCP_ISN, see
 * lwip/lwipopts.h).
 *
 * DOC: Theory of operation
 *
 * Why. lwIP's own ISN is a counter (tcp_next_iss: a global plus tcp_ticks): successive
 * connections of a service got 8366, then 9225. Whoever sees one ISN, or none but knows
 * the service started recently, can guess the next and inject data into, or reset, a
 * connection he cannot see (a blind attack, RFC 6528 §1). The VXLAN link is not
 * authenticated: anyone who can send UDP to the service's port can send it frames, so the
 * sequence number is what keeps such a sender out of a connection.
 *
 * How (RFC 6528 §3): ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
 * M is a clock ticking every 4 µs (CLOCK_MONOTONIC): the ISNs of one four-tuple still
 * advance with time, so the segments of an old incarnation of a connection fall outside
 * the new one's window, as RFC 793 wants. F is SipHash-2-4, a keyed pseudorandom function
 * made for short inputs, of the four-tuple under a 128-bit secret drawn from getrandom()
 * when the service starts: the ISNs of different four-tuples are unrelated, and knowing
 * one's ISN tells nothing about another's. Linux does the same (secure_tcp_seq(),
 * SipHash, a 64 ns clock).
 *
 * SipHash is written here from its paper (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012: two compression rounds per 8-byte word, four finalisation
 * rounds): the service links no crypto library, and 40 lines do not justify one. The
 * unit test checks it against the paper's test vector.
 *
 * lwIP's other random numbers (LWIP_RAND: the first ephemeral TCP and UDP ports) come
 * from the C library's arc4random() (lwip/arch/cc.h). What else a blind attacker could
 * predict, and why it is left so, is in docs/security.md.
 */
#include "isn.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lwip/ip_addr.h"

static uint8_t isn_key[NC_ISN_KEY_LEN];
static uint8_t hash_key[NC_ISN_KEY_LEN];   /* netcon_tcp_hash's: a secret of its own */
static int isn_keyed;

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                   \
	do {                                                                       \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);          \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                             \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                             \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);          \
	} while (0)

uint64_t nc_siphash24(const uint8_t key[NC_ISN_KEY_LEN], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m, last = (uint64_t)len << 56;
	size_t i, whole = len & ~(size_t)7;

	for (i = 0; i < whole; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* the last 0..7 bytes, little-endian, under the length's low byte */
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t nc_isn_calc(const uint8_t key[NC_ISN_KEY_LEN], const struct nc_isn_tuple *t,
		     uint64_t now_ns)
{
	/* the tuple packed without padding: what is hashed never depends on the compiler */
	uint8_t buf[16 + 16 + 2 + 2 + 1];

	memcpy(buf, t->local, 16);
	memcpy(buf + 16, t->remote, 16);
	buf[32] = (uint8_t)(t->local_port >> 8);
	buf[33] = (uint8_t)t->local_port;
	buf[34] = (uint8_t)(t->remote_port >> 8);
	buf[35] = (uint8_t)t->remote_port;
	buf[36] = t->family;
	return (uint32_t)(now_ns / 4000u) + (uint32_t)nc_siphash24(key, buf, sizeof(buf));
}

static int draw_key(uint8_t key[NC_ISN_KEY_LEN])
{
	size_t got = 0;

	while (got < NC_ISN_KEY_LEN) {
		ssize_t n = getrandom(key + got, NC_ISN_KEY_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

int nc_isn_init(void)
{
	int r = draw_key(isn_key);

	if (r == 0)
		r = draw_key(hash_key);
	if (r == 0)
		isn_keyed = 1;
	return r;
}

static void tuple_addr(uint8_t out[16], const ip_addr_t *a)
{
	memset(out, 0, 16);
	if (IP_IS_V6(a))
		memcpy(out, ip_2_ip6(a)->addr, 16);
	else
		memcpy(out, &ip_2_ip4(a)->addr, 4);
}

/* LWIP_HOOK_TCP_ISN: called by tcp_connect() and for each SYN a listener answers. */
u32_t netcon_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
		     u16_t remote_port)
{
	struct nc_isn_tuple t;
	struct timespec ts;

	/* nc_isn_init() runs before lwIP does: a connection without a key is a bug */
	LWIP_ASSERT("netcon_tcp_isn: no secret (nc_isn_init)", isn_keyed);
	tuple_addr(t.local, local_ip);
	tuple_addr(t.remote, remote_ip);
	t.local_port = local_port;
	t.remote_port = remote_port;
	t.family = IP_IS_V6(local_ip) ? 6 : 4;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return nc_isn_calc(isn_key, &t, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

uint32_t nc_tcp_hash_calc(const uint8_t key[NC_ISN_KEY_LEN], const ip_addr_t *local_ip,
			  uint16_t local_port, const ip_addr_t *remote_ip, uint16_t remote_port)
{
	/* ports, then both addresses: 12 bytes for IPv4, 36 for IPv6 (what is hashed never
	 * depends on the compiler; equal tuples, as ip_addr_eq sees them, hash equal) */
	uint8_t buf[4 + 16 + 16];
	size_t alen = IP_IS_V6(local_ip) ? 16 : 4;

	buf[0] = (uint8_t)(local_port >> 8);
	buf[1] = (uint8_t)local_port;
	buf[2] = (uint8_t)(remote_port >> 8);
	buf[3] = (uint8_t)remote_port;
	if (alen == 16) {
		memcpy(buf + 4, ip_2_ip6(local_ip)->addr, 16);
		memcpy(buf + 20, ip_2_ip6(remote_ip)->addr, 16);
	} else {
		memcpy(buf + 4, &ip_2_ip4(local_ip)->addr, 4);
		memcpy(buf + 8, &ip_2_ip4(remote_ip)->addr, 4);
	}
	return (uint32_t)nc_siphash24(key, buf, 4 + 2 * alen);
}

/* LWIP_HOOK_TCP_HASH: the bucket of a four-tuple in lwIP's pcb hash (patch 0007), for
 * every segment and every pcb that enters the active or TIME_WAIT list. */
u32_t netcon_tcp_hash(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
		      u16_t remote_port)
{
	LWIP_ASSERT("netcon_tcp_hash: no secret (nc_isn_init)", isn_keyed);
	return nc_tcp_hash_calc(hash_key, local_ip, local_port, remote_ip, remote_port);
}
