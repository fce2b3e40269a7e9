/*
 * outbound.c — the --outbound policy (see outbound.h): parsing, overlap checks, matching.
 *
 * Entry syntax, one of:
 *   all                     every IPv4 and IPv6 destination and port, loopback excepted
 *   A.B.C.D[/N][:P[-Q]]     IPv4
 *   ADDR6/N[:P[-Q]]         IPv6 with a prefix length (the '/' ends the address)
 *   [ADDR6][/N][:P[-Q]]     IPv6 in brackets (needed for a port without a prefix length)
 *   ADDR6                   one IPv6 address, every port
 * The address must be the network's (no host bits past /N): "10.1.2.3/8" is refused
 * rather than guessed at.
 */
#include "outbound.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const uint8_t lo6[16] = { [15] = 1 };

/* Do the first `bits` bits of a and b agree? */
static int same_bits(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* A port range "P" or "P-Q" (1..65535, P <= Q). 0 or -EINVAL. */
static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	const char *dash = strchr(s, '-');
	long a, b;

	if (!dash)
		return nc_parse_long(s, 1, 65535, &a) < 0 ? -EINVAL :
		       (*lo = *hi = (uint16_t)a, 0);
	if ((size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s", (int)(dash - s), s);
	if (nc_parse_long(buf, 1, 65535, &a) < 0 || nc_parse_long(dash + 1, 1, 65535, &b) < 0 ||
	    a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); return -EINVAL; } while (0)

/* One entry (not `all`) into *r. 0, or -EINVAL with a message in why. */
static int parse_entry(const char *e, struct nc_outbound_rule *r, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 8] = "", plen[8] = "", ports[16] = "";
	const char *rest = "", *slash;
	int have_plen = 0, have_ports = 0, maxp;
	long p;

	memset(r, 0, sizeof(*r));
	if (strlen(e) >= NC_OUTBOUND_TEXT)
		BAD("--outbound entry '%.40s...' is too long", e);
	snprintf(r->text, sizeof(r->text), "%.*s", (int)sizeof(r->text) - 1, e);
	if (e[0] == '[') {
		const char *close = strchr(e, ']');
		if (!close)
			BAD("--outbound entry '%s': '[' without ']'", e);
		if ((size_t)(close - e - 1) >= sizeof(host))
			BAD("--outbound entry '%s': not an IPv6 address in brackets", e);
		snprintf(host, sizeof(host), "%.*s", (int)(close - e - 1), e + 1);
		rest = close + 1;
		if ((slash = strchr(host, '/'))) {   /* [ADDR6/N] */
			snprintf(plen, sizeof(plen), "%s", slash + 1);
			host[slash - host] = '\0';
			have_plen = 1;
		}
		if (*rest == '/' && !have_plen) {
			const char *colon = strchr(rest, ':');
			size_t n = colon ? (size_t)(colon - rest - 1) : strlen(rest + 1);
			if (n >= sizeof(plen))
				BAD("--outbound entry '%s': bad prefix length", e);
			snprintf(plen, sizeof(plen), "%.*s", (int)n, rest + 1);
			have_plen = 1;
			rest = colon ? colon : "";
		}
		if (*rest == ':') {
			snprintf(ports, sizeof(ports), "%s", rest + 1);
			have_ports = 1;
		} else if (*rest) {
			BAD("--outbound entry '%s': unexpected '%s' after the address", e, rest);
		}
	} else if ((slash = strchr(e, '/'))) {
		const char *colon = strchr(slash, ':');
		size_t n = colon ? (size_t)(colon - slash - 1) : strlen(slash + 1);
		if ((size_t)(slash - e) >= sizeof(host) || n >= sizeof(plen))
			BAD("--outbound entry '%s': not CIDR[:PORT[-PORT]]", e);
		snprintf(host, sizeof(host), "%.*s", (int)(slash - e), e);
		snprintf(plen, sizeof(plen), "%.*s", (int)n, slash + 1);
		have_plen = 1;
		if (colon) {
			snprintf(ports, sizeof(ports), "%s", colon + 1);
			have_ports = 1;
		}
	} else {
		const char *colon = strchr(e, ':');
		if (colon && !strchr(colon + 1, ':')) {   /* one colon: IPv4:PORT */
			if ((size_t)(colon - e) >= sizeof(host))
				BAD("--outbound entry '%s': not CIDR[:PORT[-PORT]]", e);
			snprintf(host, sizeof(host), "%.*s", (int)(colon - e), e);
			snprintf(ports, sizeof(ports), "%s", colon + 1);
			have_ports = 1;
		} else {
			/* IPv4, or IPv6 without a port (longer than host: no address anyway) */
			snprintf(host, sizeof(host), "%.*s", (int)sizeof(host) - 1, e);
		}
	}
	if (!host[0])
		BAD("--outbound entry '%s': no address", e);
	if (inet_pton(AF_INET, host, r->addr) == 1) {
		r->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, host, r->addr) == 1) {
		r->family = AF_INET6;
		maxp = 128;
		if (nc_ip6_is_v4mapped(r->addr))
			BAD("--outbound entry '%s': write an IPv4-mapped address as IPv4", e);
	} else {
		BAD("--outbound entry '%s': '%s' is not an IPv4 or IPv6 address "
		    "(want CIDR[:PORT[-PORT]] or all)", e, host);
	}
	p = maxp;
	if (have_plen && nc_parse_long(plen, 0, maxp, &p) < 0)
		BAD("--outbound entry '%s': bad prefix length '%s' (want 0..%d)", e, plen, maxp);
	r->prefix = (uint8_t)p;
	{
		uint8_t masked[16];
		int alen = maxp / 8;
		memset(masked, 0, sizeof(masked));
		for (int bit = 0; bit < (int)p; bit++)
			masked[bit / 8] |= (uint8_t)(r->addr[bit / 8] & (0x80 >> (bit % 8)));
		if (memcmp(masked, r->addr, (size_t)alen)) {
			char t[INET6_ADDRSTRLEN];
			inet_ntop(r->family, masked, t, sizeof(t));
			BAD("--outbound entry '%s': the address has bits set past /%ld (the network "
			    "is %s/%ld)", e, p, t, p);
		}
	}
	r->port_lo = 1;
	r->port_hi = 65535;
	if (have_ports && parse_ports(ports, &r->port_lo, &r->port_hi) < 0)
		BAD("--outbound entry '%s': bad port '%s' (want PORT or PORT-PORT, 1..65535, "
		    "low to high)", e, ports);
	if (r->family == AF_INET)
		r->loopback = r->prefix >= 8 && r->addr[0] == 127;
	else
		r->loopback = r->prefix == 128 && !memcmp(r->addr, lo6, 16);
	return 0;
}

static int overlaps(const struct nc_outbound_rule *a, const struct nc_outbound_rule *b)
{
	int bits = a->prefix < b->prefix ? a->prefix : b->prefix;

	return a->family == b->family && a->loopback == b->loopback &&
	       same_bits(a->addr, b->addr, bits) &&
	       a->port_lo <= b->port_hi && b->port_lo <= a->port_hi;
}

static int add_rule(struct nc_outbound *p, const struct nc_outbound_rule *r, char *why,
		    size_t whylen)
{
	for (int i = 0; i < p->n; i++)
		if (overlaps(&p->r[i], r))
			BAD("--outbound entry '%s' overlaps '%s' (give each destination once)",
			    r->text, p->r[i].text);
	if (p->n >= NC_OUTBOUND_MAX)
		BAD("--outbound: too many entries (at most %d)", NC_OUTBOUND_MAX);
	p->r[p->n++] = *r;
	return 0;
}

int nc_outbound_parse(struct nc_outbound *p, const char *val, char *why, size_t whylen)
{
	const char *s = val;

	if (!*val)
		BAD("--outbound: empty policy (want all or CIDR[:PORT[-PORT]],...)");
	while (1) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char e[NC_OUTBOUND_TEXT + 8];
		struct nc_outbound_rule r;

		if (n == 0)
			BAD("--outbound '%s': an empty entry (two commas, or one at an end)", val);
		if (n >= sizeof(e))
			BAD("--outbound entry '%.40s...' is too long", s);
		snprintf(e, sizeof(e), "%.*s", (int)n, s);
		if (!strcmp(e, "all")) {
			memset(&r, 0, sizeof(r));
			snprintf(r.text, sizeof(r.text), "all");
			r.family = AF_INET;
			r.port_lo = 1;
			r.port_hi = 65535;
			if (add_rule(p, &r, why, whylen) < 0)
				return -EINVAL;
			r.family = AF_INET6;
			if (add_rule(p, &r, why, whylen) < 0)
				return -EINVAL;
		} else if (parse_entry(e, &r, why, whylen) < 0 || add_rule(p, &r, why, whylen) < 0) {
			return -EINVAL;
		}
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* a's address as IPv4 (4 bytes) when it is IPv4 or IPv4-mapped; its family. */
static int plain_addr(const struct nc_addr *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (a->family == AF_INET) {
		memcpy(out, a->addr, 4);
		return AF_INET;
	}
	if (a->family == AF_INET6 && nc_ip6_is_v4mapped(a->addr)) {
		memcpy(out, a->addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, a->addr, 16);
	return a->family == AF_INET6 ? AF_INET6 : 0;
}

int nc_outbound_is_loopback(const struct nc_addr *a)
{
	static const uint8_t zero[16];
	uint8_t x[16];
	int f = plain_addr(a, x);

	if (f == AF_INET)
		return x[0] == 127 || !memcmp(x, zero, 4);
	if (f == AF_INET6)
		return !memcmp(x, lo6, 16) || !memcmp(x, zero, 16);
	return 0;
}

int nc_outbound_names_loopback(const struct nc_outbound *p)
{
	for (int i = 0; i < p->n; i++)
		if (p->r[i].loopback)
			return 1;
	return 0;
}

int nc_outbound_match(const struct nc_outbound *p, const struct nc_addr *a)
{
	uint8_t x[16];
	int f = plain_addr(a, x), lo = nc_outbound_is_loopback(a);

	for (int i = 0; i < p->n; i++) {
		const struct nc_outbound_rule *r = &p->r[i];
		if (r->family == f && r->loopback == lo && same_bits(x, r->addr, r->prefix) &&
		    a->port >= r->port_lo && a->port <= r->port_hi)
			return i;
	}
	return -1;
}

void nc_outbound_describe(const struct nc_outbound *p, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (p->n == 0) {
		snprintf(buf, len, "off");
		return;
	}
	for (int i = 0; i < p->n && used < len; i++) {
		if (i > 0 && !strcmp(p->r[i].text, "all") && !strcmp(p->r[i - 1].text, "all"))
			continue;   /* `all` is two entries, IPv4 and IPv6: said once */
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", p->r[i].text);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}
