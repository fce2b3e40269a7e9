/*
 * fdb.c — the VXLAN link's forwarding database (FDB), as in a learning bridge.
 *
 * DOC: Theory of operation
 *
 * Every well-formed frame received teaches "its source MAC lives at the sender's
 * address". A unicast frame whose destination MAC has a live entry (seen within age_ms)
 * goes to that address only; anything else is flooded to the flood list: the static
 * peers plus every address an entry points at, each once.
 *
 * Addresses are endpoints: a fixed pool of slots holding a sockaddr, a reference count
 * (entries pointing at it) and a position in the dense flood list. Static peers are
 * never released; a learned endpoint is released when its last entry goes. The table is
 * NC_FDB_SIZE entries with a hash index on the MAC and an LRU list ordered by "last
 * seen": refreshing an entry moves it to the tail, so the head is the oldest. Expiry
 * removes from the head until it finds a live entry, and a full table replaces the head.
 * Everything is O(1) except finding an endpoint by address when a MAC is new or moved
 * (linear in the endpoints in use). Time is the caller's: every call that ages takes
 * `now`, so tests drive the clock.
 *
 * One address, several ports. Learning records the sender's exact address, IP and UDP
 * port: several netcon services on one host differ only by port, and each sends from the
 * port it listens on. An RFC 7348 sender such as the Linux kernel does not: it sends
 * from a per-flow hashed source port and listens only on its configured one, so frames
 * back to the source port would be lost. The two cannot be told apart from one frame.
 * What tells them apart is the static peer on that IP: if a frame ever came from exactly
 * its configured address (`heard`), it is a sender that uses its own port, and any other
 * port on that IP is another endpoint. Until then, a learned endpoint that shares its IP
 * with exactly one static peer (`alt`) is ambiguous, and nc_fdb_lookup() names both: the
 * frame goes to the learned address and a copy to the static peer. The price: to a kernel
 * peer every unicast frame leaves twice (its host refuses the one sent to the source
 * port), and a netcon peer that has not spoken yet gets copies it drops (they are not
 * for its IP address) until it first sends. No static peer ever captures a sender on
 * another port.
 */
#include "fdb.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

_Static_assert(NC_FDB_HASH_SIZE >= NC_FDB_SIZE, "hash index at least as large as the FDB");

/* Do two normalised addresses name the same endpoint? */
static int sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* Do two normalised addresses have the same IP (any port)? */
static int sa_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

void nc_fdb_init(struct nc_fdb *f, uint64_t age_ms)
{
	f->age_ms = age_ms;
	for (int i = 0; i < NC_FDB_MAX_EPS; i++) {
		f->eps[i].flood_pos = NC_FDB_NONE;
		f->ep_free[i] = NC_FDB_MAX_EPS - 1 - i;
	}
	f->nep_free = NC_FDB_MAX_EPS;
	f->nflood = 0;
	for (unsigned int i = 0; i < NC_FDB_HASH_SIZE; i++)
		f->hash[i] = NC_FDB_NONE;
	for (int i = 0; i < NC_FDB_SIZE; i++)
		f->e[i].hnext = i + 1 < NC_FDB_SIZE ? i + 1 : NC_FDB_NONE;
	f->free = 0;
	f->lru_head = f->lru_tail = NC_FDB_NONE;
}

/* ---- endpoints ---------------------------------------------------------------------- */

/* The endpoint in use at exactly sa, or NC_FDB_NONE. */
static int ep_find(const struct nc_fdb *f, const struct sockaddr_storage *sa)
{
	for (int i = 0; i < f->nflood; i++)
		if (sa_equal(&f->eps[f->flood[i]].sa, sa))
			return f->flood[i];
	return NC_FDB_NONE;
}

/* The one static peer with sa's IP (any port), or NC_FDB_NONE when none or several. */
static int ep_static_on_host(const struct nc_fdb *f, const struct sockaddr_storage *sa)
{
	int match = NC_FDB_NONE, n = 0;

	for (int i = 0; i < f->nflood; i++) {
		const struct nc_fdb_ep *p = &f->eps[f->flood[i]];
		if (p->is_static && sa_same_host(&p->sa, sa)) {
			match = f->flood[i];
			n++;
		}
	}
	return n == 1 ? match : NC_FDB_NONE;
}

/* The endpoint for sa: an existing one, or a new slot. Returns its index, or
 * NC_FDB_NONE when the pool is exhausted. That cannot happen: at most
 * NC_VXLAN_MAX_PEERS static endpoints plus one per other entry are in use whenever
 * learning asks for one (it releases first), and the pool holds one more than that. */
static int ep_get(struct nc_fdb *f, const struct sockaddr_storage *sa, socklen_t len)
{
	struct nc_fdb_ep *p;
	int idx = ep_find(f, sa);

	if (idx != NC_FDB_NONE)
		return idx;
	if (f->nep_free == 0)
		return NC_FDB_NONE;
	idx = f->ep_free[--f->nep_free];
	p = &f->eps[idx];
	p->sa = *sa;
	p->len = len;
	p->refs = 0;
	p->is_static = 0;
	p->heard = 0;
	p->alt = ep_static_on_host(f, sa);
	p->flood_pos = f->nflood;
	f->flood[f->nflood++] = idx;
	return idx;
}

/* Drop one reference; a learned endpoint nobody points at leaves the flood list. */
static void ep_put(struct nc_fdb *f, int idx)
{
	struct nc_fdb_ep *p = &f->eps[idx];
	int last;

	if (--p->refs > 0 || p->is_static)
		return;
	last = f->flood[--f->nflood];
	f->flood[p->flood_pos] = last;
	f->eps[last].flood_pos = p->flood_pos;
	p->flood_pos = NC_FDB_NONE;
	f->ep_free[f->nep_free++] = idx;
}

int nc_fdb_add_static(struct nc_fdb *f, const struct sockaddr_storage *sa, socklen_t len)
{
	int n = 0, idx;

	for (int i = 0; i < f->nflood; i++)
		n += f->eps[f->flood[i]].is_static;
	idx = ep_find(f, sa);
	if (idx == NC_FDB_NONE && n >= NC_VXLAN_MAX_PEERS)
		return -ENOSPC;
	idx = ep_get(f, sa, len);
	if (idx == NC_FDB_NONE)
		return -ENOSPC;
	f->eps[idx].is_static = 1;
	f->eps[idx].alt = NC_FDB_NONE;
	/* Learned endpoints on this IP made before now: recompute who they may be. */
	for (int i = 0; i < f->nflood; i++) {
		struct nc_fdb_ep *p = &f->eps[f->flood[i]];
		if (!p->is_static)
			p->alt = ep_static_on_host(f, &p->sa);
	}
	return idx;
}

/* ---- entries ------------------------------------------------------------------------ */

/* Hash bucket of a MAC address (multiplicative hash of its 48 bits). */
static unsigned int mac_hash(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | mac[i];
	return (unsigned int)((v * 0x9e3779b97f4a7c15ull) >> (64 - NC_FDB_HASH_BITS));
}

/* Index of the entry for mac (live or not), or NC_FDB_NONE. */
static int entry_find(const struct nc_fdb *f, const uint8_t mac[6])
{
	for (int i = f->hash[mac_hash(mac)]; i != NC_FDB_NONE; i = f->e[i].hnext)
		if (memcmp(f->e[i].mac, mac, 6) == 0)
			return i;
	return NC_FDB_NONE;
}

static void lru_unlink(struct nc_fdb *f, int i)
{
	struct nc_fdb_entry *e = &f->e[i];

	if (e->prev != NC_FDB_NONE)
		f->e[e->prev].next = e->next;
	else
		f->lru_head = e->next;
	if (e->next != NC_FDB_NONE)
		f->e[e->next].prev = e->prev;
	else
		f->lru_tail = e->prev;
}

static void lru_append(struct nc_fdb *f, int i)
{
	struct nc_fdb_entry *e = &f->e[i];

	e->prev = f->lru_tail;
	e->next = NC_FDB_NONE;
	if (f->lru_tail != NC_FDB_NONE)
		f->e[f->lru_tail].next = i;
	else
		f->lru_head = i;
	f->lru_tail = i;
}

/* Remove entry i from the hash index and the LRU list and release its endpoint. */
static void entry_remove(struct nc_fdb *f, int i)
{
	struct nc_fdb_entry *e = &f->e[i];
	int *pp = &f->hash[mac_hash(e->mac)];

	while (*pp != i)
		pp = &f->e[*pp].hnext;
	*pp = e->hnext;
	lru_unlink(f, i);
	if (e->ep != NC_FDB_NONE)
		ep_put(f, e->ep);
	e->hnext = f->free;
	f->free = i;
}

void nc_fdb_expire(struct nc_fdb *f, uint64_t now)
{
	while (f->lru_head != NC_FDB_NONE && now - f->e[f->lru_head].seen_ms > f->age_ms)
		entry_remove(f, f->lru_head);
}

int nc_fdb_learn(struct nc_fdb *f, const uint8_t mac[6], const struct sockaddr_storage *sa,
		 socklen_t len, uint64_t now)
{
	struct nc_fdb_entry *e;
	int i = entry_find(f, mac), ep;

	if (i != NC_FDB_NONE) {
		e = &f->e[i];
		if (!sa_equal(&f->eps[e->ep].sa, sa)) {
			/* The station moved: point it at its new address. */
			ep_put(f, e->ep);
			e->ep = ep_get(f, sa, len);
			if (e->ep == NC_FDB_NONE) {
				entry_remove(f, i);
				return -ENOSPC;
			}
			f->eps[e->ep].refs++;
		}
		e->seen_ms = now;
		if (f->lru_tail != i) {
			lru_unlink(f, i);
			lru_append(f, i);
		}
		ep = e->ep;
	} else {
		if (f->free == NC_FDB_NONE)
			entry_remove(f, f->lru_head);   /* full: replace the oldest */
		ep = ep_get(f, sa, len);
		if (ep == NC_FDB_NONE)
			return -ENOSPC;
		i = f->free;
		e = &f->e[i];
		f->free = e->hnext;
		memcpy(e->mac, mac, 6);
		e->ep = ep;
		f->eps[ep].refs++;
		e->seen_ms = now;
		e->hnext = f->hash[mac_hash(mac)];
		f->hash[mac_hash(mac)] = i;
		lru_append(f, i);
	}
	if (f->eps[ep].is_static)
		f->eps[ep].heard = 1;
	return ep;
}

int nc_fdb_lookup(const struct nc_fdb *f, const uint8_t mac[6], uint64_t now, int *also)
{
	int i = entry_find(f, mac), ep, alt;

	*also = NC_FDB_NONE;
	if (i == NC_FDB_NONE || now - f->e[i].seen_ms > f->age_ms)
		return NC_FDB_NONE;
	ep = f->e[i].ep;
	alt = f->eps[ep].alt;
	if (alt != NC_FDB_NONE && !f->eps[alt].heard)
		*also = alt;
	return ep;
}

int nc_fdb_foreach(const struct nc_fdb *f, uint64_t now, nc_fdb_visit_fn fn, void *arg)
{
	for (int i = f->lru_tail; i != NC_FDB_NONE; i = f->e[i].prev) {
		const struct nc_fdb_entry *e = &f->e[i];
		int r;

		if (now - e->seen_ms > f->age_ms)
			break;
		r = fn(arg, e->mac, &f->eps[e->ep], now - e->seen_ms);
		if (r)
			return r;
	}
	return 0;
}
