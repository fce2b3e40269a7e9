/*
 * isn.h — unpredictable TCP initial sequence numbers (RFC 6528) for lwIP's ISN hook.
 */
#ifndef NETCON_SERVICE_ISN_H
#define NETCON_SERVICE_ISN_H

#include <stddef.h>
#include <stdint.h>

#define NC_ISN_KEY_LEN 16

/* SipHash-2-4 of LEN bytes at MSG under a 128-bit KEY (Aumasson and Bernstein, 2012). */
uint64_t nc_siphash24(const uint8_t key[NC_ISN_KEY_LEN], const void *msg, size_t len);

/* A connection's four-tuple as the hash reads it: addresses in network byte order (an IPv4
 * address in the first 4 bytes, the rest zero), ports in host order, family 4 or 6. */
struct nc_isn_tuple {
	uint8_t local[16], remote[16];
	uint16_t local_port, remote_port;
	uint8_t family;
};

/* RFC 6528's ISN = M + F(tuple, key): M counts 4 µs ticks of NOW_NS, F is the low 32
 * bits of SipHash-2-4 of the tuple under KEY. Pure: the unit test drives it. */
uint32_t nc_isn_calc(const uint8_t key[NC_ISN_KEY_LEN], const struct nc_isn_tuple *t,
		     uint64_t now_ns);

/* The bucket hash of a TCP four-tuple (lwIP's LWIP_HOOK_TCP_HASH): the low 32 bits of
 * SipHash-2-4 of the ports and addresses under KEY, a secret apart from the ISN's (an
 * ISN shows F of its tuple to the peer; the hash must show nothing). Pure: the unit test
 * drives it. */
struct ip_addr;
uint32_t nc_tcp_hash_calc(const uint8_t key[NC_ISN_KEY_LEN], const struct ip_addr *local_ip,
			  uint16_t local_port, const struct ip_addr *remote_ip, uint16_t remote_port);

/* Draws the service's secrets (the ISN's and the hash's) from getrandom(). Returns 0 or
 * a negative errno. Called once at start, before lwIP can open a connection. */
int nc_isn_init(void);

#endif /* NETCON_SERVICE_ISN_H */
