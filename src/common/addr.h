/*
 * addr.h — parsing and conversion of addresses: IPv4 prefixes, HOST:PORT, MAC addresses,
 * and the RPC's struct nc_addr to and from struct sockaddr. Pure functions, no policy.
 */
#ifndef NETCON_ADDR_H
#define NETCON_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netcon/rpc.h"

/* "10.0.0.1/24" → address and prefix length (0..32). 0, or -EINVAL. */
int nc_parse_ip4_prefix(const char *s, struct in_addr *ip, int *prefix);

/* "fd00::1/64" → address and prefix length (0..128). 0, or -EINVAL. */
int nc_parse_ip6_prefix(const char *s, struct in6_addr *ip, int *prefix);

/* "1.2.3.4:5", "[::1]:5" or "localhost:5" → socket address. Port 1..65535 unless
 * allow_zero. 0, or -EINVAL. */
int nc_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      int allow_zero);

/* "02:00:00:aa:bb:cc" → 6 bytes. 0, or -EINVAL. */
int nc_parse_mac(const char *s, uint8_t mac[6]);
/* The value of one hex digit, or -1. */
int nc_hex_digit(char c);

/* Decimal in [min, max] with nothing after it. 0, or -EINVAL / -ERANGE. */
int nc_parse_long(const char *s, long min, long max, long *out);

/* Text of a socket address: "1.2.3.4:5" or "[::1]:5". Returns buf. */
char *nc_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);
char *nc_addr_str(const struct nc_addr *a, char *buf, size_t len);
char *nc_mac_str(const uint8_t mac[6], char *buf, size_t len);

/* struct sockaddr ⇄ struct nc_addr. The first returns 0 or -EAFNOSUPPORT/-EINVAL; the
 * second the sockaddr length written (at most `len`; the address is truncated like the
 * kernel truncates it, and the full length is returned). */
int nc_addr_from_sockaddr(struct nc_addr *a, const struct sockaddr *sa, socklen_t len);
socklen_t nc_addr_to_sockaddr(const struct nc_addr *a, struct sockaddr *sa, socklen_t len);

/* Is ip (network order) inside net/prefix? */
int nc_ip4_in_subnet(uint32_t ip, uint32_t net, int prefix);
/* Is the IPv6 address a (16 bytes) inside net/prefix (0..128)? */
int nc_ip6_in_prefix(const uint8_t a[16], const uint8_t net[16], int prefix);
/* Is a (16 bytes) an IPv4-mapped address (::ffff:a.b.c.d)? */
int nc_ip6_is_v4mapped(const uint8_t a[16]);
/* An AF_INET nc_addr as the AF_INET6 socket sees it (::ffff:a.b.c.d); others unchanged. */
void nc_addr_map_v4(struct nc_addr *a);
/* An IPv4-mapped AF_INET6 nc_addr back to AF_INET; returns 1 if it was mapped, else 0. */
int nc_addr_unmap_v4(struct nc_addr *a);

#endif /* NETCON_ADDR_H */
