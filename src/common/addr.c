/*
 * addr.c — address parsing and conversion (see addr.h).
 */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nc_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	/* Only an optional '-' and digits: strtol alone would also take leading
	 * whitespace of any kind and a '+'. */
	if (!s || !(isdigit((unsigned char)s[0]) ||
		    (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int nc_parse_ip4_prefix(const char *s, struct in_addr *ip, int *prefix)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(s, '/');
	long p;

	if (!slash || (size_t)(slash - s) >= INET_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, ip) != 1)
		return -EINVAL;
	if (nc_parse_long(slash + 1, 0, 32, &p) < 0)
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

int nc_parse_ip6_prefix(const char *s, struct in6_addr *ip, int *prefix)
{
	char buf[INET6_ADDRSTRLEN + 4];
	const char *slash = strchr(s, '/');
	long p;

	if (!slash || (size_t)(slash - s) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET6, buf, ip) != 1)
		return -EINVAL;
	if (nc_parse_long(slash + 1, 0, 128, &p) < 0)
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

int nc_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      int allow_zero)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs = s;
	size_t hl;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (nc_parse_long(colon + 1, allow_zero ? 0 : 1, 65535, &port) < 0)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");

	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (*s != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

int nc_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly six pairs of hex digits separated by ':'. Parsed by hand: scanf's %x would
 * also take a sign or a "0x" prefix ("-1:00:..." gave ff:00:...). */
int nc_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t b[6];

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = nc_hex_digit(s[i * 3]), lo = nc_hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, b, 6);
	return 0;
}

char *nc_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
	return buf;
}

char *nc_addr_str(const struct nc_addr *a, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	nc_addr_to_sockaddr(a, (struct sockaddr *)&ss, sizeof(ss));
	return nc_sockaddr_str((struct sockaddr *)&ss, buf, len);
}

char *nc_mac_str(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

int nc_addr_from_sockaddr(struct nc_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (len < (socklen_t)sizeof(*sin))
			return -EINVAL;
		a->family = AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (len < (socklen_t)sizeof(*sin6))
			return -EINVAL;
		a->family = AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		a->scope_id = sin6->sin6_scope_id;
		memcpy(a->addr, &sin6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t nc_addr_to_sockaddr(const struct nc_addr *a, struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t full;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		sin6->sin6_scope_id = a->scope_id;
		memcpy(&sin6->sin6_addr, a->addr, 16);
		full = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		full = sizeof(*sin);
	}
	if (sa && len > 0)
		memcpy(sa, &ss, len < full ? len : full);
	return full;
}

int nc_ip4_in_subnet(uint32_t ip, uint32_t net, int prefix)
{
	/* Shifting a 32-bit value by 32 or more is undefined: clamp to 0..32. */
	uint32_t mask = prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu
						     : htonl(0xffffffffu << (32 - prefix));
	return (ip & mask) == (net & mask);
}

int nc_ip6_in_prefix(const uint8_t a[16], const uint8_t net[16], int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (prefix <= 0)
		return 1;
	if (prefix >= 128)
		return memcmp(a, net, 16) == 0;
	if (memcmp(a, net, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

int nc_ip6_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pfx, 12) == 0;
}

void nc_addr_map_v4(struct nc_addr *a)
{
	if (a->family != AF_INET)
		return;
	memmove(a->addr + 12, a->addr, 4);
	memset(a->addr, 0, 10);
	a->addr[10] = a->addr[11] = 0xff;
	a->family = AF_INET6;
	a->scope_id = 0;
}

int nc_addr_unmap_v4(struct nc_addr *a)
{
	if (a->family != AF_INET6 || !nc_ip6_is_v4mapped(a->addr))
		return 0;
	memmove(a->addr, a->addr + 12, 4);
	memset(a->addr + 4, 0, 12);
	a->family = AF_INET;
	a->scope_id = 0;
	return 1;
}
