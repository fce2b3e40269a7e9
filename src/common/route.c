/*
 * route.c — which addresses are virtual (see route.h). Moved out of the intercept so that
 * the seccomp supervisor decides with the same code.
 */
#include "route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

/*
 * route6() - the policy for AF_INET6 addresses: `::` is a server's wildcard (bind only);
 * ::ffff:a.b.c.d follows the IPv4 policy; the service's own addresses (its link-local
 * one included) and its --ip6 prefixes are virtual; ::1, other link-local and multicast
 * addresses and everything else stay with the kernel. If nothing is known of the
 * network, every global address is taken as virtual (the call then fails instead of
 * leaking to the kernel's network), as for IPv4.
 */
static int route6(nc_route_net_fn *get_net, void *ctx, const struct sockaddr_in6 *sin6,
		  int for_bind)
{
	const struct in6_addr *a = &sin6->sin6_addr;
	struct nc_route_net rn, *net = &rn;

	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return for_bind ? NC_ROUTE_VIRTUAL : NC_ROUTE_KERNEL;
	if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_MULTICAST(a))
		return NC_ROUTE_KERNEL;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		memcpy(&sin.sin_addr, a->s6_addr + 12, 4);
		return nc_route_decide(get_net, ctx, AF_INET, (struct sockaddr *)&sin,
				       sizeof(sin), for_bind);
	}
	memset(&rn, 0, sizeof(rn));
	get_net(ctx, &rn);
	for (int i = 0; i < net->n_ip6; i++) {
		if (!memcmp(net->ip6[i].addr, a->s6_addr, 16))
			return for_bind || !IN6_IS_ADDR_LINKLOCAL(a) ? NC_ROUTE_VIRTUAL :
			       NC_ROUTE_KERNEL;
		if (i > 0 && nc_ip6_in_prefix(a->s6_addr, net->ip6[i].addr, net->ip6[i].prefix))
			return NC_ROUTE_VIRTUAL;
	}
	if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_SITELOCAL(a))
		return NC_ROUTE_KERNEL;
	if (!net->known && net->n_ip6 == 0)
		return NC_ROUTE_VIRTUAL;
	return NC_ROUTE_KERNEL;
}

int nc_route_decide(nc_route_net_fn *get_net, void *ctx, int family,
		    const struct sockaddr *sa, socklen_t len, int for_bind)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	struct nc_route_net rn, *net = &rn;
	uint32_t ip;

	if (!sa || sa->sa_family != family)
		return NC_ROUTE_KERNEL;
	if (family == AF_INET6)
		return len < (socklen_t)sizeof(struct sockaddr_in6) ? NC_ROUTE_KERNEL :
		       route6(get_net, ctx, (const struct sockaddr_in6 *)sa, for_bind);
	if (len < (socklen_t)sizeof(*sin) || family != AF_INET)
		return NC_ROUTE_KERNEL;
	ip = sin->sin_addr.s_addr;
	if ((ntohl(ip) >> 24) == 127)
		return NC_ROUTE_KERNEL;
	if (!for_bind && ip == 0)
		return NC_ROUTE_KERNEL;   /* connect to 0.0.0.0 means this host's loopback */
	memset(&rn, 0, sizeof(rn));
	get_net(ctx, &rn);
	if (!net->known)
		return NC_ROUTE_VIRTUAL;  /* nothing known: assume it was meant to be virtual */
	if (for_bind && ip == 0)
		return NC_ROUTE_VIRTUAL;
	return nc_ip4_in_subnet(ip, net->ip, net->prefix) ? NC_ROUTE_VIRTUAL : NC_ROUTE_KERNEL;
}
