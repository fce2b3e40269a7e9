/*
 * unit_wgroute.c — cryptokey routing (src/link/wgroute.c): longest prefix wins whatever
 * the order of insertion, IPv4 and IPv6 apart, /0 default routes, a prefix moving to
 * another peer, removal of one prefix and of a peer's all, non-byte-aligned prefixes.
 *
 * Prints failures only, then "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "link/wgroute.h"

#include "check.h"

static struct nc_wg_route rt;
static int A, B, C;   /* three peers: their addresses are the tokens */

static void add(const char *s, void *peer)
{
	struct nc_wg_prefix p;

	CHECK(nc_wg_prefix_parse(&p, s, 0) == 0, "parse %s", s);
	CHECK(nc_wg_route_add(&rt, &p, peer) == 0, "add %s", s);
}

static void *look(const char *a)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, a, b) == 1)
		return nc_wg_route_lookup(&rt, AF_INET, b);
	if (inet_pton(AF_INET6, a, b) == 1)
		return nc_wg_route_lookup(&rt, AF_INET6, b);
	return (void *)-1;
}

int main(void)
{
	struct nc_wg_prefix p;

	CHECK(look("10.0.0.1") == NULL, "empty table");
	add("10.0.0.0/8", &A);
	add("10.1.2.3/32", &C);
	add("10.1.0.0/16", &B);
	CHECK(look("10.9.9.9") == &A, "/8");
	CHECK(look("10.1.9.9") == &B, "/16 over /8");
	CHECK(look("10.1.2.3") == &C, "/32 over /16");
	CHECK(look("10.1.2.4") == &B, "next to the /32");
	CHECK(look("11.0.0.1") == NULL, "outside");
	CHECK(look("::ffff:10.1.2.3") == NULL, "IPv6 never matches IPv4 entries");
	add("fd00:1::/64", &A);
	add("fd00:1::7/128", &B);
	add("fd00:1:0:0:8000::/65", &C);
	CHECK(look("fd00:1::1") == &A, "IPv6 /64");
	CHECK(look("fd00:1::7") == &B, "IPv6 /128");
	CHECK(look("fd00:1::8000:0:0:1") == &C, "IPv6 /65, upper half");
	CHECK(look("fd00:1::7fff:0:0:1") == &A, "IPv6 /65, lower half: /64");
	CHECK(look("fd00:2::1") == NULL, "IPv6 outside");
	add("10.1.7.9/20", &C);   /* host bits: 10.1.0.0/20 */
	CHECK(look("10.1.15.1") == &C, "/20 with host bits given");
	CHECK(look("10.1.16.1") == &B, "past the /20");
	add("0.0.0.0/0", &C);
	CHECK(look("192.0.2.1") == &C, "default route");
	CHECK(look("10.9.9.9") == &A, "default does not win over /8");
	add("10.1.0.0/16", &A);   /* moves from B to A */
	CHECK(look("10.1.99.9") == &A, "prefix moved to another peer");
	nc_wg_prefix_parse(&p, "10.1.0.0/16", 0);
	CHECK(nc_wg_route_del(&rt, &p, &B) < 0, "B no longer holds it");
	CHECK(nc_wg_route_del(&rt, &p, &A) == 0, "A removes it");
	CHECK(look("10.1.99.9") == &A, "back to the /8 of A");
	CHECK(look("10.1.9.9") == &C, "the /20 still wins inside it");
	nc_wg_route_del_peer(&rt, &A);
	CHECK(look("10.1.99.9") == &C, "A gone: the default route");
	CHECK(look("10.1.2.3") == &C && look("fd00:1::7") == &B, "others stay");
	CHECK(look("fd00:1::1") == NULL, "A's IPv6 gone");
	p.family = 99;
	CHECK(nc_wg_route_add(&rt, &p, &A) < 0, "bad family");
	nc_wg_route_free(&rt);
	printf("unit_wgroute: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
