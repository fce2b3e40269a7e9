/*
 * wgroute.c — AllowedIPs as a routing table (see wgroute.h).
 *
 * A sorted array, longest prefix first, searched from the front: the first entry that
 * covers the address is the longest match. A service has a handful of peers with a few
 * prefixes each, so a linear walk over a few cache lines beats a trie's pointer chasing;
 * a table of thousands of prefixes would want the trie WireGuard itself uses. Adding
 * keeps the order (an insertion), and a prefix is held by one peer at most: adding one
 * another peer held moves it.
 */
#include "link/wgroute.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void clear_host_bits(struct nc_wg_prefix *p)
{
	int max = p->family == AF_INET ? 32 : 128;

	for (int b = p->cidr; b < max; b++)
		p->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	memset(p->addr + max / 8, 0, 16 - (size_t)max / 8);
}

static int covers(const struct nc_wg_prefix *p, int family, const uint8_t *a)
{
	int full = p->cidr / 8, rest = p->cidr % 8;

	if (p->family != family)
		return 0;
	if (memcmp(p->addr, a, (size_t)full))
		return 0;
	if (rest && ((p->addr[full] ^ a[full]) & (uint8_t)(0xff00u >> rest)))
		return 0;
	return 1;
}

static int same(const struct nc_wg_prefix *a, const struct nc_wg_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

int nc_wg_route_add(struct nc_wg_route *rt, const struct nc_wg_prefix *in, void *peer)
{
	struct nc_wg_prefix p = *in;
	int at;

	if ((p.family != AF_INET && p.family != AF_INET6) || p.cidr < 0 ||
	    p.cidr > (p.family == AF_INET ? 32 : 128))
		return -EINVAL;
	clear_host_bits(&p);
	for (int i = 0; i < rt->n; i++) {
		if (same(&rt->e[i].p, &p)) {
			rt->e[i].peer = peer;   /* moves to this peer */
			return 0;
		}
	}
	if (rt->n == rt->cap) {
		int cap = rt->cap ? rt->cap * 2 : 16;
		struct nc_wg_route_entry *e = realloc(rt->e, sizeof(*e) * (size_t)cap);
		if (!e)
			return -ENOMEM;
		rt->e = e;
		rt->cap = cap;
	}
	for (at = 0; at < rt->n && rt->e[at].p.cidr >= p.cidr; at++)
		;
	memmove(rt->e + at + 1, rt->e + at, sizeof(rt->e[0]) * (size_t)(rt->n - at));
	rt->e[at].p = p;
	rt->e[at].peer = peer;
	rt->n++;
	return 0;
}

int nc_wg_route_del(struct nc_wg_route *rt, const struct nc_wg_prefix *in, void *peer)
{
	struct nc_wg_prefix p = *in;

	if (p.family != AF_INET && p.family != AF_INET6)
		return -ENOENT;
	clear_host_bits(&p);
	for (int i = 0; i < rt->n; i++) {
		if (rt->e[i].peer == peer && same(&rt->e[i].p, &p)) {
			memmove(rt->e + i, rt->e + i + 1, sizeof(rt->e[0]) * (size_t)(rt->n - i - 1));
			rt->n--;
			return 0;
		}
	}
	return -ENOENT;
}

void nc_wg_route_del_peer(struct nc_wg_route *rt, void *peer)
{
	int k = 0;

	for (int i = 0; i < rt->n; i++)
		if (rt->e[i].peer != peer)
			rt->e[k++] = rt->e[i];
	rt->n = k;
}

void *nc_wg_route_lookup(const struct nc_wg_route *rt, int family, const uint8_t *addr)
{
	for (int i = 0; i < rt->n; i++)
		if (covers(&rt->e[i].p, family, addr))
			return rt->e[i].peer;
	return NULL;
}

void nc_wg_route_free(struct nc_wg_route *rt)
{
	free(rt->e);
	memset(rt, 0, sizeof(*rt));
}
