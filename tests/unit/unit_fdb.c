/*
 * unit_fdb.c — the VXLAN forwarding database (src/link/fdb.c) alone, with its clock
 * driven by the test: static peers, learning, a station moving, LRU replacement when
 * full, expiry, the walk for `netcon status`, and several endpoints on one IP (netcon
 * services on one host, or a kernel vxlan device sending from hashed source ports).
 *
 * Prints failures only, then "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/fdb.h"

#include "check.h"

#define AGE 300000u

static struct nc_fdb fdb;

/* A normalised IPv4 address ip:port. */
static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &s->sin_addr) != 1)
		abort();
	return ss;
}

/* A normalised IPv6 address [ip]:port. */
static struct sockaddr_storage v6(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	if (inet_pton(AF_INET6, ip, &s->sin6_addr) != 1)
		abort();
	return ss;
}

/* The port of endpoint ep (IPv4 or IPv6), or -1 for NC_FDB_NONE. */
static int ep_port(int ep)
{
	const struct sockaddr_storage *ss;

	if (ep < 0)
		return -1;
	ss = &fdb.eps[ep].sa;
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* A MAC 02:00:00:00:hi:lo. */
static void mac_n(uint8_t mac[6], int n)
{
	mac[0] = 0x02;
	mac[1] = mac[2] = mac[3] = 0;
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* Learn MAC n from ip:port at time now. */
static int learn(int n, const char *ip, int port, uint64_t now)
{
	struct sockaddr_storage ss = v4(ip, port);
	uint8_t mac[6];

	mac_n(mac, n);
	return nc_fdb_learn(&fdb, mac, &ss, sizeof(struct sockaddr_in), now);
}

/* The port MAC n goes to at time now (-1: flood); *also the second copy's port. */
static int lookup(int n, uint64_t now, int *also)
{
	uint8_t mac[6];
	int a, ep;

	mac_n(mac, n);
	ep = nc_fdb_lookup(&fdb, mac, now, &a);
	if (also)
		*also = ep_port(a);
	return ep_port(ep);
}

/* Add the static peer ip:port. */
static int add_static(const char *ip, int port)
{
	struct sockaddr_storage ss = v4(ip, port);

	return nc_fdb_add_static(&fdb, &ss, sizeof(struct sockaddr_in));
}

/* Does the flood list hold ip:port exactly once? */
static int floods_to(const char *ip, int port)
{
	struct sockaddr_storage ss = v4(ip, port);
	int n = 0;

	for (int i = 0; i < fdb.nflood; i++)
		n += memcmp(&fdb.eps[fdb.flood[i]].sa, &ss, sizeof(ss)) == 0;
	return n == 1;
}

struct walk {
	int n, first, last, stop_after;
	uint64_t first_age;
};

static int visit(void *arg, const uint8_t mac[6], const struct nc_fdb_ep *ep, uint64_t age)
{
	struct walk *w = arg;
	int m = mac[4] << 8 | mac[5];

	(void)ep;
	if (w->n == 0) {
		w->first = m;
		w->first_age = age;
	}
	w->last = m;
	w->n++;
	return w->stop_after && w->n == w->stop_after ? 7 : 0;
}

/* Live entries at time now. */
static int count(uint64_t now)
{
	struct walk w = { 0 };

	nc_fdb_foreach(&fdb, now, visit, &w);
	return w.n;
}

static void test_static_peers(void)
{
	char ip[32];
	int also;

	nc_fdb_init(&fdb, AGE);
	CHECK(fdb.nflood == 0 && lookup(1, 0, &also) == -1 && also == -1, "empty table");
	CHECK(add_static("10.0.0.1", 4789) >= 0 && add_static("10.0.0.2", 4789) >= 0,
	      "two static peers");
	CHECK(add_static("10.0.0.1", 4789) >= 0 && fdb.nflood == 2, "a repeated peer kept once");
	CHECK(floods_to("10.0.0.1", 4789) && floods_to("10.0.0.2", 4789), "flood list");
	for (int i = 2; i < NC_VXLAN_MAX_PEERS; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i);
		CHECK(add_static(ip, 4789) >= 0, "peer %d", i + 1);
	}
	CHECK(add_static("10.0.2.1", 4789) == -ENOSPC, "peer %d refused", NC_VXLAN_MAX_PEERS + 1);
	CHECK(add_static("10.0.0.2", 4789) >= 0, "a repeat is still accepted when full");
	CHECK(fdb.nflood == NC_VXLAN_MAX_PEERS, "%d peers in the flood list", fdb.nflood);
}

static void test_learning(void)
{
	int also, before;

	nc_fdb_init(&fdb, AGE);
	add_static("10.0.0.1", 4789);
	CHECK(learn(1, "10.0.0.1", 4789, 10) >= 0 && lookup(1, 10, &also) == 4789 && also == -1,
	      "a static peer's MAC learned at it");
	CHECK(fdb.nflood == 1 && fdb.eps[fdb.flood[0]].refs == 1 && fdb.eps[fdb.flood[0]].heard,
	      "no new endpoint for a static peer; heard");
	CHECK(learn(2, "10.0.0.9", 5555, 20) >= 0 && lookup(2, 20, &also) == 5555 && also == -1,
	      "a non-static sender learned");
	CHECK(fdb.nflood == 2 && floods_to("10.0.0.9", 5555), "the learned sender is flooded to");
	CHECK(learn(3, "10.0.0.9", 5555, 30) >= 0 && fdb.nflood == 2,
	      "a second MAC at one address shares its endpoint");
	CHECK(learn(2, "10.0.0.8", 6666, 40) >= 0 && lookup(2, 40, NULL) == 6666,
	      "a station that moves is followed");
	CHECK(fdb.nflood == 3 && floods_to("10.0.0.9", 5555), "the old address still has MAC 3");
	learn(3, "10.0.0.8", 6666, 50);
	CHECK(fdb.nflood == 2 && !floods_to("10.0.0.9", 5555) && floods_to("10.0.0.8", 6666),
	      "an address nobody is at any more leaves the flood list");
	before = fdb.nflood;
	CHECK(learn(3, "10.0.0.1", 4789, 60) >= 0 && learn(2, "10.0.0.1", 4789, 60) >= 0 &&
	      fdb.nflood == before - 1 && floods_to("10.0.0.1", 4789),
	      "a static peer is never released");
	{
		struct sockaddr_storage a = v6("fd00::1", 4789), b = v6("fd00::1", 4790);
		uint8_t mac[6];
		int ea, eb;
		mac_n(mac, 50);
		ea = nc_fdb_learn(&fdb, mac, &a, sizeof(struct sockaddr_in6), 70);
		mac_n(mac, 51);
		eb = nc_fdb_learn(&fdb, mac, &b, sizeof(struct sockaddr_in6), 70);
		CHECK(ea >= 0 && eb >= 0 && ea != eb && lookup(50, 70, NULL) == 4789 &&
		      lookup(51, 70, NULL) == 4790, "IPv6: two ports of one address, two endpoints");
	}
}

static void test_lru(void)
{
	struct walk w = { 0 };
	int n;

	nc_fdb_init(&fdb, AGE);
	for (n = 0; n < NC_FDB_SIZE; n++)
		learn(n, "10.0.0.9", 1000 + n % 7, (uint64_t)n);
	CHECK(count(NC_FDB_SIZE) == NC_FDB_SIZE, "table full: %d entries", count(NC_FDB_SIZE));
	/* MAC 0 is seen again: MAC 1 is now the oldest. */
	learn(0, "10.0.0.9", 1000, NC_FDB_SIZE);
	learn(NC_FDB_SIZE, "10.0.0.9", 2000, NC_FDB_SIZE + 1);
	CHECK(count(NC_FDB_SIZE + 1) == NC_FDB_SIZE, "still full");
	CHECK(lookup(1, NC_FDB_SIZE + 1, NULL) == -1, "the least recently seen replaced");
	CHECK(lookup(0, NC_FDB_SIZE + 1, NULL) == 1000 && lookup(2, NC_FDB_SIZE + 1, NULL) == 1002 &&
	      lookup(NC_FDB_SIZE, NC_FDB_SIZE + 1, NULL) == 2000, "the others kept, the new one in");
	CHECK(fdb.nflood == 8, "endpoints: 7 ports plus the new one, %d", fdb.nflood);
	nc_fdb_foreach(&fdb, NC_FDB_SIZE + 1, visit, &w);
	CHECK(w.first == NC_FDB_SIZE && w.first_age == 0 && w.last == 2,
	      "walk newest first: first %d, last %d", w.first, w.last);
	memset(&w, 0, sizeof(w));
	w.stop_after = 3;
	CHECK(nc_fdb_foreach(&fdb, NC_FDB_SIZE + 1, visit, &w) == 7 && w.n == 3,
	      "the walk stops when asked");
	/* Replacing the only entry of an endpoint releases it. */
	for (n = NC_FDB_SIZE + 1; n < 2 * NC_FDB_SIZE + 1; n++)
		learn(n, "10.0.0.9", 3000, (uint64_t)n + 10);
	CHECK(fdb.nflood == 1 && floods_to("10.0.0.9", 3000) && lookup(NC_FDB_SIZE, n, NULL) == -1,
	      "a table refilled from one address: one endpoint (%d)", fdb.nflood);
}

static void test_expiry(void)
{
	nc_fdb_init(&fdb, AGE);
	add_static("10.0.0.1", 4789);
	learn(1, "10.0.0.9", 5000, 1000);
	learn(2, "10.0.0.8", 5000, 2000);
	nc_fdb_expire(&fdb, 1000 + AGE);
	CHECK(lookup(1, 1000 + AGE, NULL) == 5000 && fdb.nflood == 3,
	      "live at exactly the age, and kept by expire");
	CHECK(lookup(1, 1000 + AGE + 1, NULL) == -1 && lookup(2, 1000 + AGE + 1, NULL) == 5000,
	      "expired one millisecond later, the younger still live");
	CHECK(count(1000 + AGE + 1) == 1 && fdb.nflood == 3, "expired but not yet removed");
	nc_fdb_expire(&fdb, 1000 + AGE + 1);
	CHECK(count(1000 + AGE + 1) == 1 && fdb.nflood == 2 && !floods_to("10.0.0.9", 5000),
	      "expire removes it and its address");
	learn(2, "10.0.0.8", 5000, 2000 + AGE);
	nc_fdb_expire(&fdb, 2000 + AGE + 1);
	CHECK(lookup(2, 2000 + AGE + 1, NULL) == 5000, "seen again: lives on");
	nc_fdb_expire(&fdb, 10 * AGE);
	CHECK(count(10 * AGE) == 0 && fdb.nflood == 1 && floods_to("10.0.0.1", 4789),
	      "all expired: the static peer stays");
	CHECK(learn(1, "10.0.0.7", 1, 10 * AGE) >= 0 && lookup(1, 10 * AGE, NULL) == 1,
	      "learning again after expiry");
}

/* Several endpoints on one IP. */
static void test_one_address(void)
{
	int also, b;

	/* The case that went wrong: A peers B (127.0.0.1:52312) only, C (127.0.0.1:52313)
	 * peers A. B has spoken from its own port, so C's port is C's. */
	nc_fdb_init(&fdb, AGE);
	b = add_static("127.0.0.1", 52312);
	learn(0xb, "127.0.0.1", 52312, 1);
	learn(0xc, "127.0.0.1", 52313, 2);
	CHECK(lookup(0xc, 2, &also) == 52313 && also == -1, "C learned at its own port, alone");
	CHECK(lookup(0xb, 2, &also) == 52312 && also == -1 && fdb.eps[b].refs == 1,
	      "B still at its port");

	/* C first, B not heard yet: C's frames go to C, and a copy to B until B speaks. */
	nc_fdb_init(&fdb, AGE);
	add_static("127.0.0.1", 52312);
	learn(0xc, "127.0.0.1", 52313, 1);
	CHECK(lookup(0xc, 1, &also) == 52313 && also == 52312,
	      "ambiguous: to the sender's port and a copy to the static peer");
	learn(0xb, "127.0.0.1", 52312, 2);
	CHECK(lookup(0xc, 2, &also) == 52313 && also == -1, "resolved once the peer speaks");

	/* Five services on one IP, peers 52311 and 52312 heard: every MAC at its own port. */
	nc_fdb_init(&fdb, AGE);
	add_static("127.0.0.1", 52311);
	add_static("127.0.0.1", 52312);
	for (int i = 1; i <= 5; i++)
		learn(i, "127.0.0.1", 52310 + i, (uint64_t)i);
	for (int i = 1; i <= 5; i++)
		CHECK(lookup(i, 5, &also) == 52310 + i && also == -1, "five: MAC %d", i);
	CHECK(fdb.nflood == 5, "five endpoints (%d)", fdb.nflood);

	/* A kernel vxlan device (static peer 10.89.255.1:4789) sends from hashed ports and
	 * never from 4789: its MACs go to the source port and to 4789. */
	nc_fdb_init(&fdb, AGE);
	add_static("10.89.255.1", 4789);
	learn(0x42, "10.89.255.1", 41234, 1);
	CHECK(lookup(0x42, 1, &also) == 41234 && also == 4789, "kernel peer: copy to 4789");
	learn(0x42, "10.89.255.1", 53210, 2);
	CHECK(lookup(0x42, 2, &also) == 53210 && also == 4789 && fdb.nflood == 2,
	      "kernel peer, another flow: still a copy to 4789");
	/* Another IP is never the static peer's. */
	learn(0x43, "10.89.255.5", 4789, 3);
	CHECK(lookup(0x43, 3, &also) == 4789 && also == -1, "another IP: no copy");
	/* Two static peers on one IP: which one a sender is cannot be told; no copy. */
	add_static("10.89.255.1", 4790);
	learn(0x44, "10.89.255.1", 40000, 4);
	CHECK(lookup(0x44, 4, &also) == 40000 && also == -1, "two peers on the IP: no copy");
}

int main(void)
{
	test_static_peers();
	test_learning();
	test_lru();
	test_expiry();
	test_one_address();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
