/*
 * unit_addr.c — table-driven tests of the address helpers (src/common/addr.c): the
 * parsers (IPv4 prefix, HOST:PORT, MAC, decimal), the text forms, struct nc_addr ⇄
 * struct sockaddr with the kernel's truncation rule, subnet and IPv6 prefix membership,
 * IPv4-mapped addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

#include "check.h"

static void test_parse_long(void)
{
	static const struct {
		const char *s;
		long min, max;
		int want;
		long val;
	} t[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "-5", -10, 10, 0, -5 },
		{ "007", 0, 10, 0, 7 },
		{ "9223372036854775807", 0, 9223372036854775807L, 0, 9223372036854775807L },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "-1", 0, 10, -ERANGE, 0 },
		{ "99999999999999999999", 0, 9223372036854775807L, -ERANGE, 0 },
		{ "-99999999999999999999", -9223372036854775807L, 0, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-", 0, 10, -EINVAL, 0 },
		{ "1a", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "\t1", 0, 10, -EINVAL, 0 },
		{ "\n1", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ "- 1", -10, 10, -EINVAL, 0 },
		{ "--1", -10, 10, -EINVAL, 0 },
		{ "0x10", 0, 100, -EINVAL, 0 },
		{ "1.5", 0, 10, -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long v = 12345;
		int r = nc_parse_long(t[i].s, t[i].min, t[i].max, &v);
		CHECK(r == t[i].want, "\"%s\": %d, want %d", t[i].s, r, t[i].want);
		if (t[i].want == 0)
			CHECK(v == t[i].val, "\"%s\": %ld, want %ld", t[i].s, v, t[i].val);
		else
			CHECK(v == 12345, "\"%s\": output written on error", t[i].s);
	}
	long v;
	CHECK(nc_parse_long(NULL, 0, 1, &v) == -EINVAL, "NULL");
}

static void test_parse_ip4_prefix(void)
{
	static const struct {
		const char *s;
		int want;
		const char *ip;
		int prefix;
	} t[] = {
		{ "10.0.0.1/24", 0, "10.0.0.1", 24 },
		{ "0.0.0.0/0", 0, "0.0.0.0", 0 },
		{ "255.255.255.255/32", 0, "255.255.255.255", 32 },
		{ "192.168.1.0/8", 0, "192.168.1.0", 8 },
		{ "10.0.0.1", -EINVAL, NULL, 0 },
		{ "10.0.0.1/", -EINVAL, NULL, 0 },
		{ "10.0.0.1/33", -EINVAL, NULL, 0 },
		{ "10.0.0.1/-1", -EINVAL, NULL, 0 },
		{ "10.0.0.1/+8", -EINVAL, NULL, 0 },
		{ "10.0.0.1/ 8", -EINVAL, NULL, 0 },
		{ "10.0.0.1/24x", -EINVAL, NULL, 0 },
		{ "10.0.0.1/24/24", -EINVAL, NULL, 0 },
		{ "10.0.0/24", -EINVAL, NULL, 0 },
		{ "10.0.0.256/24", -EINVAL, NULL, 0 },
		{ "/24", -EINVAL, NULL, 0 },
		{ " 10.0.0.1/24", -EINVAL, NULL, 0 },
		{ "::1/64", -EINVAL, NULL, 0 },
		{ "100.100.100.100000/8", -EINVAL, NULL, 0 },
		{ "garbage", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct in_addr ip = { 0 }, want;
		int prefix = -1;
		int r = nc_parse_ip4_prefix(t[i].s, &ip, &prefix);
		CHECK(r == t[i].want, "\"%s\": %d, want %d", t[i].s, r, t[i].want);
		if (r == 0 && t[i].want == 0) {
			inet_pton(AF_INET, t[i].ip, &want);
			CHECK(ip.s_addr == want.s_addr && prefix == t[i].prefix,
			      "\"%s\": %08x/%d", t[i].s, ntohl(ip.s_addr), prefix);
		}
	}
}

static void test_parse_hostport(void)
{
	static const struct {
		const char *s;
		int allow_zero;
		int want;
		int family;
		const char *ip;
		unsigned port;
	} t[] = {
		{ "127.0.0.1:80", 0, 0, AF_INET, "127.0.0.1", 80 },
		{ "10.1.2.3:65535", 0, 0, AF_INET, "10.1.2.3", 65535 },
		{ "0.0.0.0:1", 0, 0, AF_INET, "0.0.0.0", 1 },
		{ "localhost:8080", 0, 0, AF_INET, "127.0.0.1", 8080 },
		{ "[::1]:443", 0, 0, AF_INET6, "::1", 443 },
		{ "[fe80::1:2]:7", 0, 0, AF_INET6, "fe80::1:2", 7 },
		{ "[::ffff:1.2.3.4]:5", 0, 0, AF_INET6, "::ffff:1.2.3.4", 5 },
		{ "[::]:0", 1, 0, AF_INET6, "::", 0 },
		{ "1.2.3.4:0", 1, 0, AF_INET, "1.2.3.4", 0 },
		{ "1.2.3.4:0", 0, -EINVAL, 0, NULL, 0 },
		{ "[::1]:0", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:65536", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:65536", 1, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:-1", 1, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:+80", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4: 80", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:80x", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4", 0, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4:", 0, -EINVAL, 0, NULL, 0 },
		{ ":80", 0, -EINVAL, 0, NULL, 0 },
		{ "localhost", 0, -EINVAL, 0, NULL, 0 },
		{ "example.com:80", 0, -EINVAL, 0, NULL, 0 },
		{ "garbage", 0, -EINVAL, 0, NULL, 0 },
		{ "", 0, -EINVAL, 0, NULL, 0 },
		{ "::1:80", 0, -EINVAL, 0, NULL, 0 },      /* IPv6 needs brackets */
		{ "fe80::1:443", 0, -EINVAL, 0, NULL, 0 },
		{ "[::1]", 0, -EINVAL, 0, NULL, 0 },
		{ "[::1]80", 0, -EINVAL, 0, NULL, 0 },
		{ "[::1:80", 0, -EINVAL, 0, NULL, 0 },
		{ "[]:80", 0, -EINVAL, 0, NULL, 0 },
		{ "[1.2.3.4]:80", 0, -EINVAL, 0, NULL, 0 },
		{ "[localhost]:80", 0, -EINVAL, 0, NULL, 0 },
		{ "[::1%lo]:80", 0, -EINVAL, 0, NULL, 0 },
		{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:1", 0, -EINVAL, 0, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		int r = nc_parse_hostport(t[i].s, &ss, &len, t[i].allow_zero);
		CHECK(r == t[i].want, "\"%s\" (zero %d): %d, want %d", t[i].s, t[i].allow_zero, r,
		      t[i].want);
		if (r != 0 || t[i].want != 0)
			continue;
		CHECK(ss.ss_family == t[i].family, "\"%s\": family %d", t[i].s, ss.ss_family);
		if (t[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			struct in_addr want;
			inet_pton(AF_INET, t[i].ip, &want);
			CHECK(len == sizeof(*sin), "\"%s\": len %u", t[i].s, (unsigned)len);
			CHECK(sin->sin_addr.s_addr == want.s_addr, "\"%s\": address", t[i].s);
			CHECK(ntohs(sin->sin_port) == t[i].port, "\"%s\": port %u", t[i].s,
			      ntohs(sin->sin_port));
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			struct in6_addr want;
			inet_pton(AF_INET6, t[i].ip, &want);
			CHECK(len == sizeof(*sin6), "\"%s\": len %u", t[i].s, (unsigned)len);
			CHECK(memcmp(&sin6->sin6_addr, &want, 16) == 0, "\"%s\": address", t[i].s);
			CHECK(ntohs(sin6->sin6_port) == t[i].port, "\"%s\": port %u", t[i].s,
			      ntohs(sin6->sin6_port));
		}
	}
}

static void test_parse_mac(void)
{
	static const struct {
		const char *s;
		int want;
		uint8_t mac[6];
	} t[] = {
		{ "02:00:00:aa:bb:cc", 0, { 0x02, 0, 0, 0xaa, 0xbb, 0xcc } },
		{ "FF:FF:FF:FF:FF:FF", 0, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "00:00:00:00:00:00", 0, { 0 } },
		{ "0A:1b:2C:3d:4E:5f", 0, { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f } },
		{ "02:00:00:aa:bb", -EINVAL, { 0 } },
		{ "02:00:00:aa:bb:cc:dd", -EINVAL, { 0 } },
		{ "02:00:00:aa:bb:cc ", -EINVAL, { 0 } },
		{ "02-00-00-aa-bb-cc", -EINVAL, { 0 } },
		{ "02:00:00:aa:bb:cg", -EINVAL, { 0 } },
		{ "2:00:00:aa:bb:ccc", -EINVAL, { 0 } },
		{ " 2:00:00:aa:bb:cc", -EINVAL, { 0 } },
		{ "02:00:00:aa:bb: c", -EINVAL, { 0 } },
		{ "-1:00:00:aa:bb:cc", -EINVAL, { 0 } },
		{ "+1:00:00:aa:bb:cc", -EINVAL, { 0 } },
		{ "0x:00:00:aa:bb:cc", -EINVAL, { 0 } },
		{ "02:00:00:aa:bb:-1", -EINVAL, { 0 } },
		{ "0200:00:aa:bb:cc:", -EINVAL, { 0 } },
		{ "", -EINVAL, { 0 } },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t mac[6] = { 9, 9, 9, 9, 9, 9 }, untouched[6] = { 9, 9, 9, 9, 9, 9 };
		int r = nc_parse_mac(t[i].s, mac);
		CHECK(r == t[i].want, "\"%s\": %d, want %d", t[i].s, r, t[i].want);
		if (t[i].want == 0)
			CHECK(memcmp(mac, t[i].mac, 6) == 0, "\"%s\": bytes", t[i].s);
		else
			CHECK(memcmp(mac, untouched, 6) == 0, "\"%s\": output written on error",
			      t[i].s);
	}
	/* Text form round trip. */
	uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd }, back[6];
	char buf[32];
	nc_mac_str(mac, buf, sizeof(buf));
	CHECK(strcmp(buf, "02:00:5e:10:ab:cd") == 0, "mac_str: %s", buf);
	CHECK(nc_parse_mac(buf, back) == 0 && memcmp(mac, back, 6) == 0, "mac round trip");
}

/* nc_addr ⇄ sockaddr: exact round trips, rejections, and truncation like the kernel's
 * (copy min(len, full) bytes, return the full length). */
static void test_addr_conv(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(443),
				     .sin6_scope_id = 3 };
	struct sockaddr_storage out;
	struct nc_addr a;
	char buf[64];
	socklen_t full;

	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	inet_pton(AF_INET6, "fe80::1234", &sin6.sin6_addr);

	/* IPv4 */
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)) == 0, "from v4");
	CHECK(a.family == AF_INET && a.port == 8080 && a.scope_id == 0, "v4 fields");
	CHECK(memcmp(a.addr, &sin.sin_addr, 4) == 0, "v4 address bytes");
	CHECK(memcmp(a.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0, "v4 rest zero");
	memset(&out, 0xee, sizeof(out));
	full = nc_addr_to_sockaddr(&a, (struct sockaddr *)&out, sizeof(out));
	CHECK(full == sizeof(sin), "to v4 length %u", (unsigned)full);
	CHECK(memcmp(&out, &sin, sizeof(sin)) == 0, "v4 round trip");
	CHECK(strcmp(nc_addr_str(&a, buf, sizeof(buf)), "10.1.2.3:8080") == 0, "v4 str %s",
	      buf);
	CHECK(strcmp(nc_sockaddr_str((struct sockaddr *)&sin, buf, sizeof(buf)),
		     "10.1.2.3:8080") == 0, "v4 sockaddr str %s", buf);

	/* IPv6 with scope */
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin6, sizeof(sin6)) == 0,
	      "from v6");
	CHECK(a.family == AF_INET6 && a.port == 443 && a.scope_id == 3, "v6 fields");
	memset(&out, 0xee, sizeof(out));
	full = nc_addr_to_sockaddr(&a, (struct sockaddr *)&out, sizeof(out));
	CHECK(full == sizeof(sin6), "to v6 length %u", (unsigned)full);
	CHECK(memcmp(&out, &sin6, sizeof(sin6)) == 0, "v6 round trip");
	CHECK(strcmp(nc_addr_str(&a, buf, sizeof(buf)), "[fe80::1234]:443") == 0, "v6 str %s",
	      buf);

	/* Truncation: only len bytes written, full length returned. */
	for (socklen_t len = 0; len <= sizeof(sin6); len++) {
		unsigned char o[sizeof(struct sockaddr_in6) + 8];
		memset(o, 0xee, sizeof(o));
		full = nc_addr_to_sockaddr(&a, (struct sockaddr *)o, len);
		CHECK(full == sizeof(sin6), "truncated to %u: returned %u", (unsigned)len,
		      (unsigned)full);
		CHECK(memcmp(o, &sin6, len) == 0, "truncated to %u: prefix", (unsigned)len);
		int clean = 1;
		for (size_t k = len; k < sizeof(o); k++)
			clean &= o[k] == 0xee;
		CHECK(clean, "truncated to %u: wrote past len", (unsigned)len);
	}
	CHECK(nc_addr_to_sockaddr(&a, NULL, 0) == sizeof(sin6), "NULL sockaddr");

	/* Rejections. */
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin) - 1) == -EINVAL,
	      "v4 short");
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin6, sizeof(sin6) - 1) == -EINVAL,
	      "v6 short");
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin, 1) == -EINVAL, "1 byte");
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sin, 0) == -EINVAL, "0 bytes");
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = "/x" };
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&sun, sizeof(sun)) == -EAFNOSUPPORT,
	      "AF_UNIX");
	/* A longer buffer than needed is fine (sockaddr_storage). */
	memset(&out, 0, sizeof(out));
	memcpy(&out, &sin, sizeof(sin));
	CHECK(nc_addr_from_sockaddr(&a, (struct sockaddr *)&out, sizeof(out)) == 0 &&
	      a.port == 8080, "v4 in sockaddr_storage");
}

static void test_subnet(void)
{
	static const struct {
		const char *ip, *net;
		int prefix, want;
	} t[] = {
		{ "10.0.0.5", "10.0.0.0", 24, 1 },
		{ "10.0.0.255", "10.0.0.0", 24, 1 },
		{ "10.0.1.5", "10.0.0.0", 24, 0 },
		{ "11.0.0.5", "10.0.0.0", 24, 0 },
		{ "10.0.0.5", "10.0.0.77", 24, 1 },     /* host bits of net ignored */
		{ "192.168.1.1", "10.0.0.0", 0, 1 },
		{ "0.0.0.0", "255.255.255.255", 0, 1 },
		{ "10.0.0.5", "10.0.0.5", 32, 1 },
		{ "10.0.0.5", "10.0.0.4", 32, 0 },
		{ "10.0.0.4", "10.0.0.5", 31, 1 },
		{ "10.0.0.6", "10.0.0.5", 31, 0 },
		{ "127.1.2.3", "128.0.0.0", 1, 0 },
		{ "129.1.2.3", "128.0.0.0", 1, 1 },
		{ "172.16.5.4", "172.16.0.0", 12, 1 },
		{ "172.32.0.1", "172.16.0.0", 12, 0 },
		{ "10.0.0.5", "10.0.0.4", 33, 0 },      /* out of range: like 32 */
		{ "10.0.0.5", "99.0.0.4", -1, 1 },      /* out of range: like 0 */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct in_addr ip, net;
		inet_pton(AF_INET, t[i].ip, &ip);
		inet_pton(AF_INET, t[i].net, &net);
		int r = nc_ip4_in_subnet(ip.s_addr, net.s_addr, t[i].prefix);
		CHECK(r == t[i].want, "%s in %s/%d: %d, want %d", t[i].ip, t[i].net, t[i].prefix,
		      r, t[i].want);
	}
}

static void test_ip6(void)
{
	static const struct {
		const char *s;
		int want, prefix;
	} pt[] = {
		{ "fd00:88::1/64", 0, 64 },
		{ "fd00:88::1/128", 0, 128 },
		{ "::/0", 0, 0 },
		{ "fd00:88::1/129", -EINVAL, 0 },
		{ "fd00:88::1", -EINVAL, 0 },
		{ "fd00:88::1/", -EINVAL, 0 },
		{ "fd00:88::1/+4", -EINVAL, 0 },
		{ "10.0.0.1/24", -EINVAL, 0 },
		{ "fd00:::1/64", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(pt) / sizeof(pt[0]); i++) {
		struct in6_addr a;
		int p = -1, r = nc_parse_ip6_prefix(pt[i].s, &a, &p);
		CHECK(r == pt[i].want && (r < 0 || p == pt[i].prefix), "parse %s: %d/%d", pt[i].s, r, p);
	}

	static const struct {
		const char *ip, *net;
		int prefix, want;
	} t[] = {
		{ "fd00:88::1", "fd00:88::", 64, 1 },
		{ "fd00:88:0:1::1", "fd00:88::", 64, 0 },
		{ "fd00:88:0:1::1", "fd00:88::", 48, 1 },
		{ "fd00:89::1", "fd00:88::", 31, 1 },
		{ "fd00:89::1", "fd00:88::", 32, 0 },
		{ "fd00:88::81", "fd00:88::80", 121, 1 },
		{ "fd00:88::1", "fd00:88::80", 121, 0 },
		{ "fd00:88::1", "fd00:88::1", 128, 1 },
		{ "fd00:88::2", "fd00:88::1", 128, 0 },
		{ "2001:db8::1", "fd00::", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct in6_addr ip, net;
		inet_pton(AF_INET6, t[i].ip, &ip);
		inet_pton(AF_INET6, t[i].net, &net);
		int r = nc_ip6_in_prefix(ip.s6_addr, net.s6_addr, t[i].prefix);
		CHECK(r == t[i].want, "%s in %s/%d: %d, want %d", t[i].ip, t[i].net, t[i].prefix,
		      r, t[i].want);
	}

	/* IPv4 ⇄ IPv4-mapped */
	struct nc_addr a = { .family = AF_INET, .port = 80, .addr = { 10, 88, 0, 2 } }, b;
	char buf[64];
	b = a;
	nc_addr_map_v4(&b);
	CHECK(b.family == AF_INET6 && b.port == 80 && nc_ip6_is_v4mapped(b.addr),
	      "map: family %d", b.family);
	CHECK(!strcmp(nc_addr_str(&b, buf, sizeof(buf)), "[::ffff:10.88.0.2]:80"), "map: %s", buf);
	CHECK(nc_addr_unmap_v4(&b) == 1 && !memcmp(&a, &b, sizeof(a)), "unmap: back to %s",
	      nc_addr_str(&b, buf, sizeof(buf)));
	struct nc_addr c = { .family = AF_INET6, .port = 1 };
	inet_pton(AF_INET6, "fd00:88::1", c.addr);
	b = c;
	nc_addr_map_v4(&b);
	CHECK(!memcmp(&b, &c, sizeof(b)), "map leaves IPv6 alone");
	CHECK(nc_addr_unmap_v4(&b) == 0 && !memcmp(&b, &c, sizeof(b)), "unmap leaves IPv6 alone");
}

int main(void)
{
	test_parse_long();
	test_parse_ip4_prefix();
	test_parse_hostport();
	test_parse_mac();
	test_addr_conv();
	test_subnet();
	test_ip6();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
