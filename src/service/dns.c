/*
 * dns.c — DNS wire format and the answer to one query from the name table (see dns.h).
 *
 * Theory of operation. A query is read in one pass, every length checked before the
 * bytes it covers are touched: the header; exactly one question (its name expanded
 * through compression pointers that may only point backwards, so no loop can form); the
 * answer, authority and additional records skipped the same way, the additional ones
 * looked at for one OPT record. Anything malformed is FORMERR with a bare header (the
 * question may be what was malformed). The reply echoes the question with the case the
 * asker used (resolvers that randomise case check it), then the answers, each naming the
 * question by a pointer to offset 12, then our OPT record if the query had one.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define HDR_LEN     12
#define MAX_HOPS    127

#define T_A         1
#define T_PTR       12
#define T_AAAA      28
#define T_OPT       41
#define T_IXFR      251
#define T_AXFR      252
#define T_MAILB     253
#define T_MAILA     254
#define T_ANY       255
#define C_IN        1
#define C_ANY       255

#define F_QR        0x8000
#define F_AA        0x0400
#define F_TC        0x0200
#define F_RD        0x0100

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int nc_dns_read_name(const uint8_t *m, size_t len, size_t *off, uint8_t wire[255],
		     size_t *wirelen, char text[NC_HOSTS_NAME_MAX + 1], int *plain)
{
	size_t pos = *off, wl = 0, tl = 0, end = 0;
	int hops = 0, jumped = 0;

	*plain = 1;
	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			/* strictly backwards: a chain of such pointers always ends */
			if (target >= pos || ++hops > MAX_HOPS)
				return -EBADMSG;
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			pos = target;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;   /* 0x40 and 0x80: extended label types, obsolete */
		if (wl + 1 + l > 255)
			return -EBADMSG;
		if (l == 0) {
			wire[wl++] = 0;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + l > len)
			return -EBADMSG;
		wire[wl++] = l;
		memcpy(wire + wl, m + pos + 1, l);
		wl += l;
		if (tl && tl < NC_HOSTS_NAME_MAX + 1)
			text[tl++] = '.';
		for (size_t i = 0; i < l; i++) {
			unsigned char ch = m[pos + 1 + i];

			if (!isalnum(ch) && ch != '-' && ch != '_')
				*plain = 0;
			if (tl < NC_HOSTS_NAME_MAX)
				text[tl++] = (char)tolower(ch);
			else
				*plain = 0;   /* longer than any table name */
		}
		pos += 1 + (size_t)l;
	}
	if (tl > NC_HOSTS_NAME_MAX) {
		tl = NC_HOSTS_NAME_MAX;
		*plain = 0;
	}
	text[tl] = '\0';
	*wirelen = wl;
	*off = end;
	return 0;
}

/* One label of digits 0..255 without leading zeros. */
static int dec_octet(const char *s, size_t n, uint8_t *v)
{
	unsigned x = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	if (x > 255)
		return -EINVAL;
	*v = (uint8_t)x;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -EINVAL;
}

int nc_dns_reverse_name(const char *text, int *family, uint8_t addr[16])
{
	static const char v4[] = ".in-addr.arpa", v6[] = ".ip6.arpa";
	size_t len = strlen(text);

	memset(addr, 0, 16);
	if (len > sizeof(v4) - 1 && !strcmp(text + len - (sizeof(v4) - 1), v4)) {
		const char *p = text, *stop = text + len - (sizeof(v4) - 1);

		for (int i = 3; i >= 0; i--) {
			const char *dot = memchr(p, '.', (size_t)(stop - p));
			size_t n = dot ? (size_t)(dot - p) : (size_t)(stop - p);

			if ((i > 0) != (dot != NULL) || dec_octet(p, n, &addr[i]) < 0)
				return 0;
			p += n + 1;
		}
		*family = AF_INET;
		return 1;
	}
	if (len == 63 + sizeof(v6) - 1 && !strcmp(text + 63, v6)) {
		/* 32 nibbles, least significant first: "b.a.9.8....ip6.arpa" */
		for (int i = 0; i < 32; i++) {
			int v = hexval(text[2 * i]);

			if (v < 0 || (i < 31 && text[2 * i + 1] != '.'))
				return 0;
			addr[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
		}
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

/* Text name → wire format. Returns its length, or 0 if it does not fit in cap. */
static size_t name_to_wire(const char *text, uint8_t *out, size_t cap)
{
	size_t o = 0;

	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);

		if (n == 0 || n > 63 || o + 1 + n >= cap)
			return 0;
		out[o++] = (uint8_t)n;
		memcpy(out + o, text, n);
		o += n;
		text += n + (dot ? 1 : 0);
	}
	if (o >= cap)
		return 0;
	out[o++] = 0;
	return o;
}

struct reply {
	uint8_t *buf;
	size_t len, cap;        /* cap: the size this reply may reach (OPT room kept apart) */
	uint16_t ancount;
	int truncated;
	int qtype;
};

/* Append one answer RR naming the question (pointer to offset 12); TC if it won't fit. */
static void add_rr(struct reply *r, uint16_t type, const void *rdata, size_t rdlen)
{
	if (r->truncated || r->len + 12 + rdlen > r->cap) {
		r->truncated = 1;
		return;
	}
	put16(r->buf + r->len, 0xc000 | HDR_LEN);
	put16(r->buf + r->len + 2, type);
	put16(r->buf + r->len + 4, C_IN);
	put32(r->buf + r->len + 6, NC_DNS_TTL);
	put16(r->buf + r->len + 10, (uint16_t)rdlen);
	memcpy(r->buf + r->len + 12, rdata, rdlen);
	r->len += 12 + rdlen;
	r->ancount++;
}

static void add_addr(const struct nc_host *e, void *arg)
{
	struct reply *r = arg;

	if (e->family == AF_INET && (r->qtype == T_A || r->qtype == T_ANY))
		add_rr(r, T_A, e->addr, 4);
	else if (e->family == AF_INET6 && (r->qtype == T_AAAA || r->qtype == T_ANY))
		add_rr(r, T_AAAA, e->addr, 16);
}

struct ptr_ctx {
	struct reply *r;
	const char *seen[64];
	int nseen;
};

static void add_ptr(const struct nc_host *e, void *arg)
{
	struct ptr_ctx *p = arg;
	uint8_t wire[256];
	size_t n;

	for (int i = 0; i < p->nseen; i++)
		if (!strcmp(p->seen[i], e->name))
			return;
	if (p->nseen < 64)
		p->seen[p->nseen++] = e->name;
	n = name_to_wire(e->name, wire, sizeof(wire));
	if (n)
		add_rr(p->r, T_PTR, wire, n);
}

/* Skip one resource record at *off (name, fixed part, rdata). Fills type, class, ttl,
 * rdlen; *root says whether its name is the root. 0 or -EBADMSG. */
static int skip_rr(const uint8_t *m, size_t len, size_t *off, uint16_t *type, uint16_t *cls,
		   uint32_t *ttl, uint16_t *rdlen, int *root)
{
	uint8_t wire[255];
	char text[NC_HOSTS_NAME_MAX + 1];
	size_t wl;
	int plain;

	if (nc_dns_read_name(m, len, off, wire, &wl, text, &plain) < 0)
		return -EBADMSG;
	if (*off + 10 > len)
		return -EBADMSG;
	*type = get16(m + *off);
	*cls = get16(m + *off + 2);
	*ttl = (uint32_t)get16(m + *off + 4) << 16 | get16(m + *off + 6);
	*rdlen = get16(m + *off + 8);
	*off += 10;
	if (*off + *rdlen > len)
		return -EBADMSG;
	*off += *rdlen;
	*root = wl == 1;
	return 0;
}

static void count(struct nc_dns_counters *c, int rcode)
{
	if (!c)
		return;
	switch (rcode) {
	case NC_DNS_NOERROR: c->noerror++; break;
	case NC_DNS_NXDOMAIN: c->nxdomain++; break;
	case NC_DNS_FORMERR: c->formerr++; break;
	default: c->notimp++; break;
	}
}

/* A reply with the header only: FORMERR or NOTIMP before the question could be used. */
static size_t bare_reply(const uint8_t *q, uint8_t *out, size_t outcap, int rcode,
			 struct nc_dns_counters *c)
{
	uint16_t flags = get16(q + 2);

	if (outcap < HDR_LEN)
		return 0;
	memset(out, 0, HDR_LEN);
	memcpy(out, q, 2);
	put16(out + 2, (uint16_t)(F_QR | (flags & 0x7800) | (flags & F_RD) | rcode));
	count(c, rcode);
	return HDR_LEN;
}

size_t nc_dns_answer(const struct nc_hosts *h, const uint8_t *q, size_t qlen, uint8_t *out,
		     size_t outcap, struct nc_dns_counters *c)
{
	uint8_t qwire[255], addr[16];
	char key[NC_HOSTS_NAME_MAX + 1];
	size_t off = HDR_LEN, qwl, maxlen;
	uint16_t flags, qd, an, ns, ar, qtype, qclass, edns_size = 0;
	int plain, edns = 0, edns_version = 0, rcode = NC_DNS_NOERROR, family;
	struct reply r;

	if (c)
		c->queries++;
	if (qlen < HDR_LEN || (get16(q + 2) & F_QR)) {
		if (c)
			c->dropped++;
		return 0;
	}
	flags = get16(q + 2);
	qd = get16(q + 4);
	an = get16(q + 6);
	ns = get16(q + 8);
	ar = get16(q + 10);
	if (((flags >> 11) & 0xf) != 0)
		return bare_reply(q, out, outcap, NC_DNS_NOTIMP, c);
	if (qd != 1)
		return bare_reply(q, out, outcap, NC_DNS_FORMERR, c);
	if (nc_dns_read_name(q, qlen, &off, qwire, &qwl, key, &plain) < 0 || off + 4 > qlen)
		return bare_reply(q, out, outcap, NC_DNS_FORMERR, c);
	qtype = get16(q + off);
	qclass = get16(q + off + 2);
	off += 4;
	/* The other sections: skipped, except an OPT record in the additional one. */
	for (unsigned i = 0; i < (unsigned)an + ns + ar; i++) {
		uint16_t type, cls, rdlen;
		uint32_t ttl;
		int root;

		if (skip_rr(q, qlen, &off, &type, &cls, &ttl, &rdlen, &root) < 0)
			return bare_reply(q, out, outcap, NC_DNS_FORMERR, c);
		if (type != T_OPT)
			continue;
		if (i < (unsigned)an + ns || edns || !root)
			return bare_reply(q, out, outcap, NC_DNS_FORMERR, c);
		edns = 1;
		edns_size = cls;
		edns_version = (int)(ttl >> 16 & 0xff);
	}

	maxlen = 512;
	if (edns)
		maxlen = edns_size < 512 ? 512 : edns_size > NC_DNS_EDNS_SIZE ? NC_DNS_EDNS_SIZE :
			 edns_size;
	if (maxlen > outcap)
		maxlen = outcap;
	if (maxlen < HDR_LEN + qwl + 4 + (edns ? 11u : 0u))
		return bare_reply(q, out, outcap, NC_DNS_FORMERR, c);   /* cannot happen at 512 */

	memset(&r, 0, sizeof(r));
	r.buf = out;
	r.cap = maxlen - (edns ? 11 : 0);
	r.qtype = qtype;
	memcpy(out + HDR_LEN, qwire, qwl);
	put16(out + HDR_LEN + qwl, qtype);
	put16(out + HDR_LEN + qwl + 2, qclass);
	r.len = HDR_LEN + qwl + 4;

	if (edns && edns_version != 0) {
		rcode = NC_DNS_BADVERS;
	} else if (qclass != C_IN && qclass != C_ANY) {
		rcode = NC_DNS_NOTIMP;
	} else if (qtype == T_AXFR || qtype == T_IXFR || qtype == T_MAILA || qtype == T_MAILB) {
		rcode = NC_DNS_NOTIMP;
	} else if (qtype == T_OPT) {
		rcode = NC_DNS_FORMERR;
	} else if (!plain || key[0] == '\0') {
		rcode = NC_DNS_NXDOMAIN;
	} else if (nc_dns_reverse_name(key, &family, addr)) {
		struct ptr_ctx p = { .r = &r };

		if (!nc_hosts_by_addr(h, family, addr, NULL, NULL))
			rcode = NC_DNS_NXDOMAIN;
		else if (qtype == T_PTR || qtype == T_ANY)
			nc_hosts_by_addr(h, family, addr, add_ptr, &p);
	} else if (nc_hosts_by_name(h, key, 0, add_addr, &r) == 0 &&
		   !nc_hosts_is_parent(h, key)) {
		rcode = NC_DNS_NXDOMAIN;
	}

	memcpy(out, q, 2);
	put16(out + 2, (uint16_t)(F_QR | F_AA | (flags & F_RD) | (r.truncated ? F_TC : 0) |
				  (rcode & 0xf)));
	put16(out + 4, 1);
	put16(out + 6, r.ancount);
	put16(out + 8, 0);
	put16(out + 10, edns ? 1 : 0);
	if (edns) {
		uint8_t *o = out + r.len;

		o[0] = 0;                                   /* root */
		put16(o + 1, T_OPT);
		put16(o + 3, NC_DNS_EDNS_SIZE);             /* our payload size */
		put32(o + 5, (uint32_t)(rcode >> 4) << 24); /* extended rcode, version 0, no DO */
		put16(o + 9, 0);
		r.len += 11;
	}
	if (c && r.truncated)
		c->truncated++;
	count(c, rcode);
	return r.len;
}
