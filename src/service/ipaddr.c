/*
 * ipaddr.c — addresses between the program's form (struct nc_addr, in its socket's
 * family) and lwIP's (ip_addr_t), and which addresses are the service's own. Shared by
 * TCP (tcp_listen.c, tcp_conn.c) and UDP (udp.c).
 *
 * A socket reports every address in its program's family: an AF_INET6 socket sees IPv4
 * peers as ::ffff:a.b.c.d (nc_sock_addr), as Linux shows the IPv4 connections of a
 * dual-stack socket. Going the other way, IPv4-mapped addresses are unmapped before
 * they reach lwIP, which has no such addresses.
 */
#include "sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#include "addr.h"

void nc_addr_from_lwip(struct nc_addr *a, const ip_addr_t *ip, u16_t port)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (IP_IS_V6(ip)) {
		a->family = AF_INET6;
		memcpy(a->addr, ip_2_ip6(ip)->addr, 16);
		return;
	}
	a->family = AF_INET;
	if (!IP_IS_ANY_TYPE_VAL(*ip))
		memcpy(a->addr, &ip_2_ip4(ip)->addr, 4);
}

/* An lwIP address as socket s reports it: IPv4 as ::ffff:a.b.c.d on an AF_INET6 socket,
 * as Linux does for IPv4 connections of dual-stack sockets. */
void nc_sock_addr(const struct nc_sock *s, struct nc_addr *a, const ip_addr_t *ip,
		      u16_t port)
{
	nc_addr_from_lwip(a, ip, port);
	if (s->family == AF_INET6)
		nc_addr_map_v4(a);
}

/* Is this IPv6 address (16 bytes) one of ours? */
int nc_ip6_is_ours(struct nc_service *svc, const uint8_t a[16])
{
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (ip6_addr_isvalid(netif_ip6_addr_state(&svc->netif, i)) &&
		    memcmp(netif_ip6_addr(&svc->netif, i)->addr, a, 16) == 0)
			return 1;
	return 0;
}

/* Is this IPv6 address (16 bytes) inside one of our --ip6 prefixes? */
int nc_ip6_on_link(struct nc_service *svc, const uint8_t a[16])
{
	for (int i = 0; i < svc->cfg.n_ip6; i++)
		if (nc_ip6_in_prefix(a, svc->cfg.ip6[i].s6_addr, svc->cfg.prefix6[i]))
			return 1;
	return 0;
}

/* An lwIP error as 0 or a negative errno. */
int nc_lwip_err(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return -ENOBUFS;
	case ERR_BUF: return -ENOBUFS;
	case ERR_TIMEOUT: return -ETIMEDOUT;
	case ERR_RTE: return -ENETUNREACH;
	case ERR_INPROGRESS: return -EINPROGRESS;
	case ERR_VAL: return -EINVAL;
	case ERR_WOULDBLOCK: return -EWOULDBLOCK;
	case ERR_USE: return -EADDRINUSE;
	case ERR_ALREADY: return -EALREADY;
	case ERR_ISCONN: return -EISCONN;
	case ERR_CONN: return -ENOTCONN;
	case ERR_IF: return -EIO;
	case ERR_ABRT: return -ECONNABORTED;
	case ERR_RST: return -ECONNRESET;
	case ERR_CLSD: return -ENOTCONN;
	case ERR_ARG: return -EINVAL;
	default: return -EIO;
	}
}

/*
 * nc_addr_to_lwip() - an address of the program's (IPv4, or IPv6 other than IPv4-mapped:
 * nc_addr_unmap_v4() first) as lwIP's. 0, or -EAFNOSUPPORT for another family.
 */
int nc_addr_to_lwip(const struct nc_addr *a, ip_addr_t *ip)
{
	uint32_t v;

	if (a->family == AF_INET) {
		memcpy(&v, a->addr, 4);
		*ip = (ip_addr_t)IPADDR4_INIT(v);
		return 0;
	}
	if (a->family != AF_INET6)
		return -EAFNOSUPPORT;
	ip_addr_set_zero_ip6(ip);
	memcpy(ip_2_ip6(ip)->addr, a->addr, 16);
	return 0;
}

/* Our address or the wildcard, else EADDRNOTAVAIL. */
int nc_local_ip_ok(struct nc_service *svc, const struct nc_addr *a, ip_addr_t *ip)
{
	static const uint8_t zero[16];
	uint32_t v;

	if (a->family == AF_INET6 && !nc_ip6_is_v4mapped(a->addr)) {
		if (memcmp(a->addr, zero, 16) != 0 && !nc_ip6_is_ours(svc, a->addr))
			return -EADDRNOTAVAIL;
		return nc_addr_to_lwip(a, ip);
	}
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	memcpy(&v, a->family == AF_INET6 ? a->addr + 12 : a->addr, 4);
	if (v != 0 && v != svc->cfg.ip.s_addr)
		return -EADDRNOTAVAIL;
	*ip = (ip_addr_t)IPADDR4_INIT(v);
	return 0;
}
