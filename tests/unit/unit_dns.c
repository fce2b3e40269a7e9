/*
 * unit_dns.c — the DNS responder's codec (src/service/dns.c): name reading with
 * compression (loops, forward pointers, length limits), reverse names, and the answers
 * to a table of queries, good and hostile, checked field by field.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/dns.h"

#include "check.h"

static struct nc_hosts table;

static void make_table(void)
{
	static const char text[] =
		"10.88.0.1 web.netcon www.netcon\n"
		"fd00:88::1 web.netcon\n"
		"10.88.0.3 kernel.netcon\n";
	char err[128];

	if (nc_hosts_parse(&table, text, sizeof(text) - 1, "t", err, sizeof(err)) < 0) {
		printf("table: %s\n", err);
		exit(1);
	}
}

/* A query: header (id 0xbeef, flags), then one question for `name` unless raw is given. */
static size_t query(uint8_t *q, const char *name, uint16_t type, uint16_t cls, uint16_t flags,
		    int edns_version)
{
	size_t o = 12;

	memset(q, 0, 12);
	q[0] = 0xbe;
	q[1] = 0xef;
	q[2] = (uint8_t)(flags >> 8);
	q[3] = (uint8_t)flags;
	q[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		q[o++] = (uint8_t)n;
		memcpy(q + o, name, n);
		o += n;
		name += n + (dot ? 1 : 0);
	}
	q[o++] = 0;
	q[o++] = (uint8_t)(type >> 8);
	q[o++] = (uint8_t)type;
	q[o++] = (uint8_t)(cls >> 8);
	q[o++] = (uint8_t)cls;
	if (edns_version >= 0) {
		static const uint8_t opt[11] = { 0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0 };

		memcpy(q + o, opt, 11);
		q[o + 6] = (uint8_t)edns_version;
		o += 11;
		q[11] = 1;
	}
	return o;
}

struct answer {
	size_t len;
	int rcode, aa, tc, qr, qd, an, ar;
	uint8_t buf[2048];
};

static void answer(struct answer *a, const uint8_t *q, size_t qlen)
{
	memset(a, 0, sizeof(*a));
	a->len = nc_dns_answer(&table, q, qlen, a->buf, NC_DNS_MAX_REPLY, NULL);
	if (a->len >= 12) {
		a->qr = a->buf[2] >> 7;
		a->aa = (a->buf[2] >> 2) & 1;
		a->tc = (a->buf[2] >> 1) & 1;
		a->rcode = a->buf[3] & 15;
		a->qd = a->buf[4] << 8 | a->buf[5];
		a->an = a->buf[6] << 8 | a->buf[7];
		a->ar = a->buf[10] << 8 | a->buf[11];
	}
}

static void test_names(void)
{
	uint8_t wire[255];
	char text[NC_HOSTS_NAME_MAX + 1];
	size_t wl, off;
	int plain;
	/* header, then "web" "netcon" at 12, then a pointer to 12 at 24 */
	uint8_t m[64] = { 0 };

	memcpy(m + 12, "\x03WEB\x06netcon\x00", 12);
	m[24] = 0xc0;
	m[25] = 12;
	off = 12;
	CHECK(nc_dns_read_name(m, 26, &off, wire, &wl, text, &plain) == 0, "plain name");
	CHECK(off == 24 && wl == 12 && !strcmp(text, "web.netcon") && plain, "%zu %zu %s", off,
	      wl, text);
	CHECK(!memcmp(wire, "\x03WEB", 4), "case kept in wire form");
	off = 24;
	CHECK(nc_dns_read_name(m, 26, &off, wire, &wl, text, &plain) == 0, "pointer");
	CHECK(off == 26 && !strcmp(text, "web.netcon"), "%zu %s", off, text);
	/* pointer to itself, forward, out of the message, truncated pointer */
	m[26] = 0xc0;
	m[27] = 26;
	off = 26;
	CHECK(nc_dns_read_name(m, 28, &off, wire, &wl, text, &plain) < 0, "self loop");
	m[27] = 40;
	CHECK(nc_dns_read_name(m, 64, &off, wire, &wl, text, &plain) < 0, "forward pointer");
	off = 26;
	CHECK(nc_dns_read_name(m, 27, &off, wire, &wl, text, &plain) < 0, "cut pointer");
	/* truncated label, label type 0x40 */
	off = 12;
	CHECK(nc_dns_read_name(m, 18, &off, wire, &wl, text, &plain) < 0, "cut label");
	m[30] = 0x41;
	off = 30;
	CHECK(nc_dns_read_name(m, 64, &off, wire, &wl, text, &plain) < 0, "label type 0x40");
	/* odd characters: readable, but matches nothing */
	memcpy(m + 40, "\x03w.b\x00", 5);
	off = 40;
	CHECK(nc_dns_read_name(m, 64, &off, wire, &wl, text, &plain) == 0 && !plain,
	      "dot inside a label");
	/* root */
	m[50] = 0;
	off = 50;
	CHECK(nc_dns_read_name(m, 64, &off, wire, &wl, text, &plain) == 0 && text[0] == 0 &&
	      wl == 1, "root");
	/* longer than 255 in wire form */
	{
		uint8_t big[400] = { 0 };
		size_t o = 12;

		for (int i = 0; i < 5; i++) {
			big[o++] = 63;
			memset(big + o, 'a', 63);
			o += 63;
		}
		big[o++] = 0;
		off = 12;
		CHECK(nc_dns_read_name(big, o, &off, wire, &wl, text, &plain) < 0, "name > 255");
	}
}

static void test_reverse(void)
{
	static const struct {
		const char *name;
		int ok, family;
		const char *addr;
	} t[] = {
		{ "1.0.88.10.in-addr.arpa", 1, AF_INET, "10.88.0.1" },
		{ "255.255.255.255.in-addr.arpa", 1, AF_INET, "255.255.255.255" },
		{ "0.88.10.in-addr.arpa", 0, 0, NULL },
		{ "1.1.0.88.10.in-addr.arpa", 0, 0, NULL },
		{ "01.0.88.10.in-addr.arpa", 0, 0, NULL },
		{ "256.0.88.10.in-addr.arpa", 0, 0, NULL },
		{ "a.0.88.10.in-addr.arpa", 0, 0, NULL },
		{ ".0.88.10.in-addr.arpa", 0, 0, NULL },
		{ "in-addr.arpa", 0, 0, NULL },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.0.0.0.0.d.f.ip6.arpa", 1,
		  AF_INET6, "fd00:88::1" },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.0.0.0.0.d.ip6.arpa", 0, 0, NULL },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.0.0.0.0.d.g.ip6.arpa", 0, 0, NULL },
		{ "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.0.0.0.0.d.f.ip6.arpa", 0, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t a[16], want[16] = { 0 };
		int fam = 0, r = nc_dns_reverse_name(t[i].name, &fam, a);

		CHECK(r == t[i].ok, "%s: %d", t[i].name, r);
		if (r && t[i].ok) {
			inet_pton(t[i].family, t[i].addr, want);
			CHECK(fam == t[i].family && !memcmp(a, want, fam == AF_INET ? 4 : 16), "%s",
			      t[i].name);
		}
	}
}

static void test_answers(void)
{
	static const struct {
		const char *name;
		uint16_t type, cls, flags;
		int edns;
		int rcode, an, ar;
	} t[] = {
		{ "web.netcon", 1, 1, 0x0100, -1, 0, 1, 0 },
		{ "WEB.NETCON", 1, 1, 0x0100, -1, 0, 1, 0 },
		{ "www.netcon", 1, 1, 0x0100, -1, 0, 1, 0 },
		{ "web.netcon", 28, 1, 0x0100, -1, 0, 1, 0 },
		{ "web.netcon", 255, 1, 0x0100, -1, 0, 2, 0 },
		{ "web.netcon", 255, 255, 0x0100, -1, 0, 2, 0 },
		{ "kernel.netcon", 28, 1, 0x0100, -1, 0, 0, 0 },
		{ "web.netcon", 15, 1, 0x0100, -1, 0, 0, 0 },
		{ "netcon", 1, 1, 0x0100, -1, 0, 0, 0 },
		{ "nosuch.netcon", 1, 1, 0x0100, -1, 3, 0, 0 },
		{ "example.com", 1, 1, 0x0100, -1, 3, 0, 0 },
		{ "", 2, 1, 0x0100, -1, 3, 0, 0 },
		{ "1.0.88.10.in-addr.arpa", 12, 1, 0x0100, -1, 0, 2, 0 },
		{ "1.0.88.10.in-addr.arpa", 1, 1, 0x0100, -1, 0, 0, 0 },
		{ "3.0.88.10.in-addr.arpa", 12, 1, 0, -1, 0, 1, 0 },
		{ "9.0.88.10.in-addr.arpa", 12, 1, 0x0100, -1, 3, 0, 0 },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.8.0.0.0.0.d.f.ip6.arpa", 12, 1,
		  0x0100, -1, 0, 1, 0 },
		{ "web.netcon", 1, 1, 0x0100, 0, 0, 1, 1 },
		{ "web.netcon", 1, 1, 0x0100, 1, 0 /* BADVERS: 16 → low bits 0 */, 0, 1 },
		{ "web.netcon", 1, 3, 0x0100, -1, 4, 0, 0 },      /* class CH */
		{ "web.netcon", 252, 1, 0x0100, -1, 4, 0, 0 },    /* AXFR */
		{ "web.netcon", 41, 1, 0x0100, -1, 1, 0, 0 },     /* OPT as question */
		{ "web.netcon", 1, 1, 0x2100, -1, 4, 0, 0 },      /* opcode STATUS */
	};
	uint8_t q[600];
	struct answer a;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = query(q, t[i].name, t[i].type, t[i].cls, t[i].flags, t[i].edns);

		answer(&a, q, n);
		CHECK(a.len >= 12, "%zu %s: no answer", i, t[i].name);
		CHECK(a.buf[0] == 0xbe && a.buf[1] == 0xef && a.qr, "%zu: id/qr", i);
		CHECK(a.rcode == t[i].rcode, "%zu %s type %u: rcode %d, want %d", i, t[i].name,
		      t[i].type, a.rcode, t[i].rcode);
		CHECK(a.an == t[i].an, "%zu %s type %u: %d answers, want %d", i, t[i].name,
		      t[i].type, a.an, t[i].an);
		CHECK(a.ar == t[i].ar, "%zu: %d additional, want %d", i, a.ar, t[i].ar);
		CHECK(((a.buf[2] & 1) != 0) == ((t[i].flags & 0x0100) != 0), "%zu: RD echoed", i);
		if (a.rcode == 0 || a.rcode == 3) {
			CHECK(a.aa && a.qd == 1, "%zu: AA, question", i);
			/* the question comes back byte for byte (case kept) */
			CHECK(!memcmp(a.buf + 12, q + 12, n - 12 - (t[i].edns >= 0 ? 11 : 0)),
			      "%zu: question echoed", i);
		}
	}

	/* The answer's content: web.netcon A → 10.88.0.1, TTL 60, name by pointer. */
	{
		size_t n = query(q, "Web.Netcon", 1, 1, 0x0100, -1);
		const uint8_t *rr;

		answer(&a, q, n);
		rr = a.buf + n;
		CHECK(a.len == n + 16, "length %zu", a.len);
		CHECK(rr[0] == 0xc0 && rr[1] == 12 && rr[3] == 1 && rr[5] == 1, "rr header");
		CHECK(rr[6] == 0 && rr[7] == 0 && rr[8] == 0 && rr[9] == 60, "ttl 60");
		CHECK(rr[11] == 4 && !memcmp(rr + 12, "\x0a\x58\x00\x01", 4), "rdata");
	}
	/* EDNS BADVERS: extended rcode 1 in the OPT record. */
	{
		size_t n = query(q, "web.netcon", 1, 1, 0, 3);

		answer(&a, q, n);
		CHECK(a.len == n && a.buf[a.len - 11 + 2] == 41 && a.buf[a.len - 11 + 5] == 1,
		      "BADVERS in OPT");
	}
}

static void test_hostile(void)
{
	uint8_t q[600];
	struct answer a;
	size_t n = query(q, "web.netcon", 1, 1, 0x0100, -1);

	/* too short for a header, or a response: no answer at all */
	for (size_t l = 0; l < 12; l++) {
		answer(&a, q, l);
		CHECK(a.len == 0, "%zu bytes answered", l);
	}
	q[2] |= 0x80;
	answer(&a, q, n);
	CHECK(a.len == 0, "response answered");
	q[2] &= 0x7f;
	/* every truncation of a good query inside the question: FORMERR, header only */
	for (size_t l = 12; l < n; l++) {
		answer(&a, q, l);
		CHECK(a.len == 12 && a.rcode == 1 && a.qd == 0, "cut at %zu: len %zu rcode %d", l,
		      a.len, a.rcode);
	}
	/* two questions, none */
	q[5] = 2;
	answer(&a, q, n);
	CHECK(a.rcode == 1 && a.len == 12, "two questions");
	q[5] = 0;
	answer(&a, q, n);
	CHECK(a.rcode == 1, "no question");
	q[5] = 1;
	/* records announced and absent; an answer section in a query is skipped */
	q[11] = 1;
	answer(&a, q, n);
	CHECK(a.rcode == 1, "missing additional record");
	q[11] = 0;
	{
		size_t m = n;

		q[7] = 1;   /* one answer record: a pointer name, type A, rdlen 4 */
		memcpy(q + m, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04", 16);
		m += 16;
		answer(&a, q, m);
		CHECK(a.rcode == 0 && a.an == 1, "answer section skipped: rcode %d", a.rcode);
		q[m - 5] = 9;   /* rdlen beyond the end */
		answer(&a, q, m);
		CHECK(a.rcode == 1, "rdata beyond the end");
		q[7] = 0;
	}
	/* an OPT record that is not at the root, two OPTs, OPT in the answer section */
	{
		size_t m = query(q, "web.netcon", 1, 1, 0, 0);

		q[m - 11] = 0xc0;   /* name: pointer... to offset 12, not root */
		memmove(q + m - 10 + 1, q + m - 10, 10);
		q[m - 10] = 12;
		answer(&a, q, m + 1);
		CHECK(a.rcode == 1, "OPT not at the root: rcode %d", a.rcode);
		m = query(q, "web.netcon", 1, 1, 0, 0);
		memcpy(q + m, q + m - 11, 11);
		q[11] = 2;
		answer(&a, q, m + 11);
		CHECK(a.rcode == 1, "two OPT records");
		q[11] = 0;
		q[7] = 1;
		answer(&a, q, m);
		CHECK(a.rcode == 1, "OPT in the answer section");
	}
	/* a small output buffer: the reply is cut and TC set */
	{
		size_t m = query(q, "web.netcon", 255, 1, 0, -1);
		uint8_t out[64];
		size_t l = nc_dns_answer(&table, q, m, out, m + 20, NULL);

		CHECK(l == m + 16 && (out[2] & 2), "truncated: %zu", l);
		(void)out;
		l = nc_dns_answer(&table, q, m, out, 8, NULL);
		CHECK(l == 0, "buffer smaller than a header");
	}
	/* counters */
	{
		struct nc_dns_counters c = { 0 };
		uint8_t out[NC_DNS_MAX_REPLY];
		size_t m = query(q, "web.netcon", 1, 1, 0, -1);

		nc_dns_answer(&table, q, m, out, sizeof(out), &c);
		nc_dns_answer(&table, q, 5, out, sizeof(out), &c);
		nc_dns_answer(&table, q, 20, out, sizeof(out), &c);
		m = query(q, "no.netcon", 1, 1, 0, -1);
		nc_dns_answer(&table, q, m, out, sizeof(out), &c);
		CHECK(c.queries == 4 && c.noerror == 1 && c.dropped == 1 && c.formerr == 1 &&
		      c.nxdomain == 1, "counters %llu %llu %llu %llu %llu",
		      (unsigned long long)c.queries, (unsigned long long)c.noerror,
		      (unsigned long long)c.dropped, (unsigned long long)c.formerr,
		      (unsigned long long)c.nxdomain);
	}
}

int main(void)
{
	make_table();
	test_names();
	test_reverse();
	test_answers();
	test_hostile();
	nc_hosts_free(&table);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
