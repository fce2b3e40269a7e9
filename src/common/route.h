/*
 * route.h — the one policy of which addresses belong to the virtual network.
 *
 * Both doors into the service decide with this code: the preload intercept
 * (src/intercept/socket.c) and the seccomp supervisor (src/service/seccomp.c). Only how
 * they learn the network differs (the intercept asks the service with HELLO or reads
 * NETCON_NET; the supervisor is the service). Pure: no system call, no global.
 */
#ifndef NETCON_ROUTE_H
#define NETCON_ROUTE_H

#include <stdint.h>
#include <sys/socket.h>

#include "netcon/rpc.h"

enum nc_route { NC_ROUTE_KERNEL = 0, NC_ROUTE_VIRTUAL, NC_ROUTE_COUNT };

/* What a decision needs to know of the service's network. */
struct nc_route_net {
	int known;              /* ip/prefix are valid; 0: nothing known, all is virtual */
	uint32_t ip;            /* the service's IPv4 address, network byte order */
	int prefix;
	int n_ip6;              /* its IPv6 addresses (link-local first), with prefixes */
	struct nc_ip6_prefix ip6[NC_HELLO_MAX_IP6];
};

/* Fills *net; called only when the decision needs the network (never for loopback). */
typedef void nc_route_net_fn(void *ctx, struct nc_route_net *net);

/*
 * nc_route_decide() - does the address sa (of a socket of `family`) belong to the
 * virtual network, or for a bind (for_bind) the wildcard? Loopback, other networks and
 * an address of another family than the socket's stay with the kernel. Returns
 * NC_ROUTE_VIRTUAL or NC_ROUTE_KERNEL.
 */
int nc_route_decide(nc_route_net_fn *get_net, void *ctx, int family,
		    const struct sockaddr *sa, socklen_t len, int for_bind);

#endif /* NETCON_ROUTE_H */
