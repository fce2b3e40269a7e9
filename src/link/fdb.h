/*
 * fdb.h — the VXLAN link's forwarding database: which peer address each learned MAC
 * lives at, and the list of addresses a flooded frame goes to. Pure data structure (no
 * sockets, no clock of its own: every call that ages takes `now` in milliseconds), so
 * it can be tested alone (tests/unit/unit_fdb.c). See fdb.c for how it works.
 *
 * Addresses are given normalised (only family, port, address and scope set in a zeroed
 * sockaddr_storage, as vxlan.c's sa_normalise() makes them) and compared as bytes of
 * those fields.
 */
#ifndef NETCON_LINK_FDB_H
#define NETCON_LINK_FDB_H

#include <stdint.h>
#include <sys/socket.h>

#include "link.h"

#define NC_FDB_NONE      (-1)
#define NC_FDB_SIZE      NC_VXLAN_FDB_SIZE     /* learned MAC entries */
#define NC_FDB_MAX_EPS   (NC_VXLAN_MAX_PEERS + NC_FDB_SIZE)
#define NC_FDB_HASH_BITS 11
#define NC_FDB_HASH_SIZE (1u << NC_FDB_HASH_BITS)

/* One peer address ("endpoint"): a static peer, or one that learned MACs point at. */
struct nc_fdb_ep {
	struct sockaddr_storage sa;   /* normalised */
	socklen_t len;
	int refs;                     /* entries pointing here */
	int is_static;
	int heard;                    /* static: a frame came from exactly this address */
	int alt;                      /* learned: the one static peer with this IP, or NONE */
	int flood_pos;                /* index in flood[], NC_FDB_NONE when the slot is free */
};

/* One learned MAC → endpoint entry. */
struct nc_fdb_entry {
	uint8_t mac[6];
	int ep;                       /* index in eps[] */
	int hnext;                    /* hash chain; free-list link when unused */
	int prev, next;               /* LRU list, oldest first */
	uint64_t seen_ms;
};

struct nc_fdb {
	uint64_t age_ms;              /* an entry not seen for longer is gone */
	struct nc_fdb_ep eps[NC_FDB_MAX_EPS];
	int ep_free[NC_FDB_MAX_EPS];  /* stack of free slots */
	int nep_free;
	int flood[NC_FDB_MAX_EPS];    /* dense: every endpoint in use */
	int nflood;

	struct nc_fdb_entry e[NC_FDB_SIZE];
	int hash[NC_FDB_HASH_SIZE];
	int free;                     /* free list through hnext */
	int lru_head, lru_tail;
};

/* Empty the table; entries live age_ms milliseconds after they were last seen. */
void nc_fdb_init(struct nc_fdb *f, uint64_t age_ms);

/* Add a static peer (flooded to, never released); a repeated address is kept once.
 * Returns its endpoint index, or -ENOSPC past NC_VXLAN_MAX_PEERS. */
int nc_fdb_add_static(struct nc_fdb *f, const struct sockaddr_storage *sa, socklen_t len);

/* A frame with unicast source MAC `mac` came from exactly `sa` at time `now`: point mac
 * there (a moved station follows), newest in the LRU; a full table replaces its oldest
 * entry. Returns the endpoint index, or -ENOSPC (cannot happen: see fdb.c). */
int nc_fdb_learn(struct nc_fdb *f, const uint8_t mac[6], const struct sockaddr_storage *sa,
		 socklen_t len, uint64_t now);

/* Where a unicast frame for mac goes at time `now`: an endpoint index, or NC_FDB_NONE
 * (unknown or expired: flood). *also is set to a second endpoint that must get a copy
 * (NC_FDB_NONE for none): see "one address, several ports" in fdb.c. */
int nc_fdb_lookup(const struct nc_fdb *f, const uint8_t mac[6], uint64_t now, int *also);

/* Forget every entry not seen for more than age_ms at time `now`; a learned endpoint
 * nobody points at any more leaves the flood list. */
void nc_fdb_expire(struct nc_fdb *f, uint64_t now);

/* Call fn for every live entry, newest first, until it returns non-zero (whose value is
 * returned; 0 when all were visited). */
typedef int (*nc_fdb_visit_fn)(void *arg, const uint8_t mac[6], const struct nc_fdb_ep *ep,
			       uint64_t age_ms);
int nc_fdb_foreach(const struct nc_fdb *f, uint64_t now, nc_fdb_visit_fn fn, void *arg);

#endif /* NETCON_LINK_FDB_H */
