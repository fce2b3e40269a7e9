/*
 * wgroute.h — cryptokey routing for the wireguard link: which peer an address belongs
 * to, by its AllowedIPs (longest prefix wins). The link asks it twice per packet: where
 * an outgoing packet's destination goes, and whether an incoming packet's source is one
 * the peer that sent it may use. Pure code (wgroute.c), tested alone by unit_wgroute.
 */
#ifndef NETCON_WGROUTE_H
#define NETCON_WGROUTE_H

#include <stdint.h>

#include "link/wgconf.h"

struct nc_wg_route_entry {
	struct nc_wg_prefix p;       /* host bits cleared */
	void *peer;
};

/* Entries sorted by prefix length, longest first: the first match is the longest. */
struct nc_wg_route {
	struct nc_wg_route_entry *e;
	int n, cap;
};

/* Give the prefix to peer (host bits are cleared). A prefix another peer held moves to
 * this one, as in WireGuard. 0 or -ENOMEM / -EINVAL. */
int nc_wg_route_add(struct nc_wg_route *rt, const struct nc_wg_prefix *p, void *peer);
/* Remove one prefix of peer (0, or -ENOENT), or all of its prefixes. */
int nc_wg_route_del(struct nc_wg_route *rt, const struct nc_wg_prefix *p, void *peer);
void nc_wg_route_del_peer(struct nc_wg_route *rt, void *peer);
/* The peer for an address (family AF_INET: 4 bytes, AF_INET6: 16), or NULL. */
void *nc_wg_route_lookup(const struct nc_wg_route *rt, int family, const uint8_t *addr);
void nc_wg_route_free(struct nc_wg_route *rt);

#endif /* NETCON_WGROUTE_H */
