/*
 * unit_outbound.c — the --outbound policy (src/common/outbound.c): entries accepted and
 * refused (with the words of the message), overlaps, and which destinations match —
 * ports, prefixes, IPv6, IPv4-mapped addresses, and loopback only through entries that
 * name it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "outbound.h"

#include "check.h"

static struct nc_addr addr(const char *ip, int port)
{
	struct nc_addr a;

	memset(&a, 0, sizeof(a));
	a.port = (uint16_t)port;
	if (inet_pton(AF_INET, ip, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a.addr) == 1)
		a.family = AF_INET6;
	return a;
}

static void test_parse(void)
{
	static const struct {
		const char *val, *why;   /* why NULL: accepted */
	} t[] = {
		{ "all", NULL }, { "10.0.0.0/8", NULL }, { "10.0.0.0/8:443", NULL },
		{ "10.0.0.0/8:8000-8100", NULL }, { "192.0.2.7", NULL }, { "192.0.2.7:22", NULL },
		{ "2001:db8::/32", NULL }, { "2001:db8::/32:443", NULL }, { "[::1]:5432", NULL },
		{ "[2001:db8::]/32:80", NULL }, { "[2001:db8::/32]:80", NULL }, { "2001:db8::1", NULL },
		{ "0.0.0.0/0", NULL }, { "127.0.0.1:5432,all", NULL },
		{ "", "empty policy" }, { "x", "not an IPv4 or IPv6 address" },
		{ "10.0.0.0/8,", "an empty entry" }, { "10.0.0.1/8", "bits set past /8" },
		{ "10.0.0.0/40", "bad prefix length" }, { "2001:db8::/129", "bad prefix length" },
		{ "1.2.3.4:70000", "bad port" }, { "1.2.3.4:9-8", "bad port" },
		{ "1.2.3.4:a", "bad port" }, { "[::1", "without ']'" }, { "[::1]x", "unexpected" },
		{ "::ffff:1.2.3.4", "IPv4-mapped" }, { "all,all", "overlaps 'all'" },
		{ "10.0.0.0/8,10.9.0.0/16:80", "overlaps '10.0.0.0/8'" },
		{ "1.2.3.4:80-90,1.2.3.0/24:90", "overlaps" }, { "::/0,2001:db8::1", "overlaps" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nc_outbound p;
		char why[300] = "";
		int r;

		memset(&p, 0, sizeof(p));
		r = nc_outbound_parse(&p, t[i].val, why, sizeof(why));
		if (!t[i].why)
			CHECK(r == 0 && p.n > 0, "'%s' accepted (%s)", t[i].val, why);
		else
			CHECK(r < 0 && strstr(why, t[i].why), "'%s' refused with '%s' (got '%s')",
			      t[i].val, t[i].why, why);
	}
	{	/* disjoint ports of one network, and loopback entries beside it, are fine */
		struct nc_outbound p;
		char why[300] = "";
		memset(&p, 0, sizeof(p));
		CHECK(nc_outbound_parse(&p, "10.0.0.0/8:80", why, sizeof(why)) == 0 &&
		      nc_outbound_parse(&p, "10.0.0.0/8:81-90,127.0.0.0/8,[::1]:22", why, sizeof(why)) == 0,
		      "disjoint entries across options (%s)", why);
		nc_outbound_describe(&p, why, sizeof(why));
		CHECK(!strcmp(why, "10.0.0.0/8:80,10.0.0.0/8:81-90,127.0.0.0/8,[::1]:22"), "describe: %s", why);
	}
}

static void test_match(void)
{
	static const struct {
		const char *policy, *ip;
		int port, allowed, loopback;
	} t[] = {
		{ "10.1.0.0/16", "10.1.2.3", 80, 1, 0 }, { "10.1.0.0/16", "10.2.0.1", 80, 0, 0 },
		{ "10.1.0.0/16:443", "10.1.2.3", 443, 1, 0 }, { "10.1.0.0/16:443", "10.1.2.3", 444, 0, 0 },
		{ "10.1.0.0/16:8000-8100", "10.1.0.1", 8100, 1, 0 },
		{ "10.1.0.0/16:8000-8100", "10.1.0.1", 7999, 0, 0 },
		{ "all", "203.0.113.9", 1, 1, 0 }, { "all", "2001:db8::9", 65535, 1, 0 },
		{ "all", "127.0.0.1", 80, 0, 1 }, { "all", "::1", 80, 0, 1 },
		{ "all", "0.0.0.0", 80, 0, 1 }, { "0.0.0.0/0", "127.0.0.1", 80, 0, 1 },
		{ "127.0.0.1:5432", "127.0.0.1", 5432, 1, 1 },
		{ "127.0.0.1:5432", "127.0.0.1", 5433, 0, 1 },
		{ "127.0.0.1:5432", "127.0.0.2", 5432, 0, 1 },
		{ "[::1]:5432", "::1", 5432, 1, 1 }, { "[::1]:5432", "127.0.0.1", 5432, 0, 1 },
		{ "10.1.0.0/16", "::ffff:10.1.9.9", 80, 1, 0 },
		{ "127.0.0.0/8", "::ffff:127.0.0.5", 80, 1, 1 },
		{ "2001:db8::/32:443", "2001:db8:1::1", 443, 1, 0 },
		{ "2001:db8::/32:443", "2001:db9::1", 443, 0, 0 },
		{ "192.0.2.0/25", "192.0.2.127", 1, 1, 0 }, { "192.0.2.0/25", "192.0.2.128", 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nc_outbound p;
		struct nc_addr a = addr(t[i].ip, t[i].port);
		char why[300] = "";

		memset(&p, 0, sizeof(p));
		CHECK(nc_outbound_parse(&p, t[i].policy, why, sizeof(why)) == 0, "%s: %s",
		      t[i].policy, why);
		CHECK((nc_outbound_match(&p, &a) >= 0) == t[i].allowed, "%s: %s:%d %s", t[i].policy,
		      t[i].ip, t[i].port, t[i].allowed ? "allowed" : "denied");
		CHECK(nc_outbound_is_loopback(&a) == t[i].loopback, "%s is%s loopback", t[i].ip,
		      t[i].loopback ? "" : " not");
	}
	{
		struct nc_outbound p;
		char why[300] = "";
		memset(&p, 0, sizeof(p));
		nc_outbound_parse(&p, "all", why, sizeof(why));
		CHECK(!nc_outbound_names_loopback(&p), "all names no loopback");
		nc_outbound_parse(&p, "[::1]:22", why, sizeof(why));
		CHECK(nc_outbound_names_loopback(&p), "[::1]:22 names loopback");
	}
}

int main(void)
{
	test_parse();
	test_match();
	printf("unit_outbound: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
