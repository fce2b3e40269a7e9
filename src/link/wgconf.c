/*
 * wgconf.c — wg(8)'s configuration format for --link wireguard.
 *
 * The format is an INI file: an [Interface] section (PrivateKey, ListenPort, FwMark)
 * and any number of [Peer] sections (PublicKey, PresharedKey, AllowedIPs, Endpoint,
 * PersistentKeepalive). As wg(8) reads it: section names and keys are case-insensitive,
 * '#' starts a comment, whitespace anywhere in a line is ignored, AllowedIPs may be
 * repeated and is a comma-separated list, "off" turns ListenPort, FwMark and
 * PersistentKeepalive off. A file written for wg-quick(8) works too: its Address and
 * MTU are kept for the service (used when --ip, --ip6 or --mtu leave them open), DNS,
 * Table, SaveConfig and PreUp/PostUp/PreDown/PostDown are read and ignored (netcon has
 * no resolver to configure, no routing table, and runs no commands).
 *
 * Anything else is an error naming the file and the line: an unknown key or section, a
 * key outside any section, a key of the wrong length or alphabet, a bad address, a
 * [Peer] without PublicKey, the same peer twice (the link refuses a peer whose key is
 * our own: that needs the private key's public half, wgnoise.c). Endpoints are resolved here, once, as wg(8) does when it reads the file.
 */
#include "link/wgconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"

#define MAX_FILE (1024 * 1024)   /* a larger file is not a configuration */
#define MAX_LINE 4096

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

int nc_wg_key_from_base64(uint8_t key[NC_WG_KEY_LEN], const char *s)
{
	uint8_t out[33];
	int o = 0;

	if (strlen(s) != NC_WG_KEY_B64_LEN || s[43] != '=')
		return -EINVAL;
	for (int i = 0; i < 43; i += 4) {
		int v[4], n = i + 4 <= 43 ? 4 : 3;
		uint32_t w = 0;

		for (int k = 0; k < n; k++) {
			v[k] = b64val(s[i + k]);
			if (v[k] < 0)
				return -EINVAL;
			w |= (uint32_t)v[k] << (18 - 6 * k);
		}
		out[o++] = (uint8_t)(w >> 16);
		out[o++] = (uint8_t)(w >> 8);
		if (n == 4)
			out[o++] = (uint8_t)w;
		else if (w & 0xff)
			return -EINVAL;   /* the last character's unused bits must be zero */
	}
	memcpy(key, out, NC_WG_KEY_LEN);
	return 0;
}

void nc_wg_key_to_base64(char out[NC_WG_KEY_B64_LEN + 1], const uint8_t key[NC_WG_KEY_LEN])
{
	int o = 0;

	for (int i = 0; i < NC_WG_KEY_LEN; i += 3) {
		uint32_t w = (uint32_t)key[i] << 16;

		if (i + 1 < NC_WG_KEY_LEN)
			w |= (uint32_t)key[i + 1] << 8;
		if (i + 2 < NC_WG_KEY_LEN)
			w |= key[i + 2];
		out[o++] = b64chars[(w >> 18) & 63];
		out[o++] = b64chars[(w >> 12) & 63];
		out[o++] = i + 1 < NC_WG_KEY_LEN ? b64chars[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < NC_WG_KEY_LEN ? b64chars[w & 63] : '=';
	}
	out[o] = '\0';
}

int nc_wg_key_from_hex(uint8_t key[NC_WG_KEY_LEN], const char *s)
{
	if (strlen(s) != 2 * NC_WG_KEY_LEN)
		return -EINVAL;
	for (int i = 0; i < NC_WG_KEY_LEN; i++) {
		int h = nc_hex_digit(s[2 * i]), l = nc_hex_digit(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -EINVAL;
		key[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

void nc_wg_key_to_hex(char out[2 * NC_WG_KEY_LEN + 1], const uint8_t key[NC_WG_KEY_LEN])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < NC_WG_KEY_LEN; i++) {
		out[2 * i] = hx[key[i] >> 4];
		out[2 * i + 1] = hx[key[i] & 15];
	}
	out[2 * NC_WG_KEY_LEN] = '\0';
}

/* A decimal number lo..hi, the whole string. */
int nc_wg_num_parse(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int nc_wg_prefix_parse(struct nc_wg_prefix *p, const char *s, int mask)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long cidr;
	int max;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	cidr = max;
	if (slash && nc_wg_num_parse(slash + 1, 0, max, &cidr) < 0)
		return -EINVAL;
	p->cidr = (int)cidr;
	if (mask) {
		for (int b = p->cidr; b < max; b++)
			p->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	}
	return 0;
}

static int endpoint_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  int flags)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV | flags };
	struct addrinfo *res = NULL;
	char host[256];
	const char *colon, *hs = s;
	size_t hn;
	long port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hn = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;   /* IPv6 needs its brackets */
		hn = (size_t)(colon - s);
	}
	if (hn == 0 || hn >= sizeof(host) || nc_wg_num_parse(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, hs, hn);
	host[hn] = '\0';
	if (s[0] == '[')
		hints.ai_family = AF_INET6;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		return -ENOENT;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int nc_wg_endpoint_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	return endpoint_parse(s, ss, len, 0);
}

int nc_wg_endpoint_parse_numeric(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	int r = endpoint_parse(s, ss, len, AI_NUMERICHOST);

	return r == -ENOENT ? -EINVAL : r;
}

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

struct parser {
	struct nc_wg_config *cfg;
	enum section sec;
	struct nc_wg_peer_conf *peer;
	int has_pub;
	int line;
	char *err;
	size_t errlen;
};

static int perr(struct parser *ps, int line, const char *fmt, const char *a)
{
	int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->cfg->path, line);

	if (n >= 0 && (size_t)n < ps->errlen)
		snprintf(ps->err + n, ps->errlen - (size_t)n, fmt, a);
	return -EINVAL;
}

/* The [Peer] that is ending must have its PublicKey, not ours, and not twice. */
static int end_peer(struct parser *ps)
{
	struct nc_wg_config *cfg = ps->cfg;
	struct nc_wg_peer_conf *p = ps->peer;

	if (!p)
		return 0;
	if (!ps->has_pub)
		return perr(ps, p->line, "[Peer] without a PublicKey%s", "");
	for (int i = 0; i < cfg->n_peers - 1; i++) {
		char l[16];
		if (memcmp(cfg->peers[i].pub, p->pub, NC_WG_KEY_LEN))
			continue;
		snprintf(l, sizeof(l), "%d", cfg->peers[i].line);
		return perr(ps, p->line, "this peer's PublicKey is also the one of the [Peer] "
			    "at line %s", l);
	}
	ps->peer = NULL;
	return 0;
}

static int add_prefixes(struct parser *ps, const char *val, int allowed)
{
	struct nc_wg_config *cfg = ps->cfg;
	char item[INET6_ADDRSTRLEN + 8];
	const char *s = val;

	if (!*val && allowed)
		return 0;   /* `AllowedIPs =` : none (wg accepts it) */
	for (;;) {
		size_t n = strcspn(s, ",");
		struct nc_wg_prefix p;

		if (n == 0 || n >= sizeof(item))
			return perr(ps, ps->line, "bad %s: an empty or overlong entry",
				    allowed ? "AllowedIPs" : "Address");
		memcpy(item, s, n);
		item[n] = '\0';
		if (nc_wg_prefix_parse(&p, item, allowed) < 0)
			return perr(ps, ps->line, "bad address '%s': want IPv4 or IPv6, with an "
				    "optional /prefix length", item);
		if (allowed) {
			if (cfg->n_allowed >= NC_WG_MAX_ALLOWED)
				return perr(ps, ps->line, "too many AllowedIPs (at most %s in all)",
					    "4096");
			cfg->allowed[cfg->n_allowed++] = p;
			ps->peer->n_allowed++;
		} else {
			if (cfg->n_addrs >= NC_WG_MAX_ADDRS)
				return perr(ps, ps->line, "too many Address entries (at most %s)", "8");
			cfg->addrs[cfg->n_addrs++] = p;
		}
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static int interface_key(struct parser *ps, const char *key, const char *val)
{
	struct nc_wg_config *cfg = ps->cfg;
	long v;

	if (!strcasecmp(key, "PrivateKey")) {
		if (nc_wg_key_from_base64(cfg->priv, val) < 0)
			return perr(ps, ps->line, "bad PrivateKey: want 44 characters of base64 "
				    "(as `wg genkey` prints)%s", "");
		cfg->has_priv = 1;
	} else if (!strcasecmp(key, "ListenPort")) {
		if (!strcasecmp(val, "off"))
			cfg->listen_port = -1;
		else if (nc_wg_num_parse(val, 0, 65535, &v) < 0)
			return perr(ps, ps->line, "bad ListenPort '%s': want 0 to 65535", val);
		else
			cfg->listen_port = (int)v;
	} else if (!strcasecmp(key, "FwMark")) {
		char *end;
		unsigned long m;
		if (!strcasecmp(val, "off")) {
			cfg->fwmark = 0;
			return 0;
		}
		errno = 0;
		m = strtoul(val, &end, 0);
		if (!*val || *end || errno || m > 0xffffffffUL || *val == '-')
			return perr(ps, ps->line, "bad FwMark '%s': want a 32-bit number or off", val);
		cfg->fwmark = (uint32_t)m;
	} else if (!strcasecmp(key, "Address")) {
		return add_prefixes(ps, val, 0);
	} else if (!strcasecmp(key, "MTU")) {
		if (nc_wg_num_parse(val, 576, 65521, &v) < 0)
			return perr(ps, ps->line, "bad MTU '%s': want 576 to 65521", val);
		cfg->mtu = (int)v;
	} else if (!strcasecmp(key, "DNS") || !strcasecmp(key, "Table") ||
		   !strcasecmp(key, "SaveConfig") || !strcasecmp(key, "PreUp") ||
		   !strcasecmp(key, "PostUp") || !strcasecmp(key, "PreDown") ||
		   !strcasecmp(key, "PostDown")) {
		cfg->n_ignored++;
	} else {
		return perr(ps, ps->line, "unknown key '%s' in [Interface]", key);
	}
	return 0;
}

static int peer_key(struct parser *ps, const char *key, const char *val)
{
	struct nc_wg_config *cfg = ps->cfg;
	struct nc_wg_peer_conf *p = ps->peer;
	long v;
	int r;

	if (!strcasecmp(key, "PublicKey")) {
		if (nc_wg_key_from_base64(p->pub, val) < 0)
			return perr(ps, ps->line, "bad PublicKey: want 44 characters of base64 "
				    "(as `wg pubkey` prints)%s", "");
		ps->has_pub = 1;
	} else if (!strcasecmp(key, "PresharedKey")) {
		if (nc_wg_key_from_base64(p->psk, val) < 0)
			return perr(ps, ps->line, "bad PresharedKey: want 44 characters of base64 "
				    "(as `wg genpsk` prints)%s", "");
	} else if (!strcasecmp(key, "AllowedIPs")) {
		if (p->n_allowed == 0)
			p->first_allowed = cfg->n_allowed;
		else if (p->first_allowed + p->n_allowed != cfg->n_allowed)
			return perr(ps, ps->line, "AllowedIPs out of place%s", "");
		return add_prefixes(ps, val, 1);
	} else if (!strcasecmp(key, "Endpoint")) {
		r = nc_wg_endpoint_parse(val, &p->endpoint, &p->endpoint_len);
		if (r == -ENOENT)
			return perr(ps, ps->line, "Endpoint '%s': the host does not resolve", val);
		if (r < 0)
			return perr(ps, ps->line, "bad Endpoint '%s': want HOST:PORT or "
				    "[IPv6]:PORT", val);
	} else if (!strcasecmp(key, "PersistentKeepalive")) {
		if (!strcasecmp(val, "off"))
			p->keepalive = 0;
		else if (nc_wg_num_parse(val, 0, 65535, &v) < 0)
			return perr(ps, ps->line, "bad PersistentKeepalive '%s': want 0 to 65535 "
				    "seconds or off", val);
		else
			p->keepalive = (int)v;
	} else {
		return perr(ps, ps->line, "unknown key '%s' in [Peer]", key);
	}
	return 0;
}

/* One line, whitespace and comment already gone: a section header or KEY=VALUE. */
static int parse_line(struct parser *ps, char *s)
{
	struct nc_wg_config *cfg = ps->cfg;
	char *eq;

	if (!*s)
		return 0;
	if (s[0] == '[') {
		int r = end_peer(ps);
		if (r < 0)
			return r;
		if (!strcasecmp(s, "[Interface]")) {
			ps->sec = SEC_INTERFACE;
		} else if (!strcasecmp(s, "[Peer]")) {
			if (cfg->n_peers >= NC_WG_MAX_PEERS)
				return perr(ps, ps->line, "too many peers (at most %s)", "256");
			ps->sec = SEC_PEER;
			ps->peer = &cfg->peers[cfg->n_peers++];
			memset(ps->peer, 0, sizeof(*ps->peer));
			ps->peer->line = ps->line;
			ps->peer->first_allowed = cfg->n_allowed;
			ps->has_pub = 0;
		} else {
			return perr(ps, ps->line, "unknown section '%s' (want [Interface] or [Peer])",
				    s);
		}
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq || eq == s)
		return perr(ps, ps->line, "'%s' is neither a [Section] nor KEY = VALUE", s);
	*eq = '\0';
	if (ps->sec == SEC_NONE)
		return perr(ps, ps->line, "'%s' before any [Interface] or [Peer]", s);
	if (ps->sec == SEC_INTERFACE)
		return interface_key(ps, s, eq + 1);
	return peer_key(ps, s, eq + 1);
}

int nc_wg_config_parse(struct nc_wg_config *cfg, const char *path, const char *text,
		       size_t len, char *err, size_t errlen)
{
	struct parser ps = { .cfg = cfg, .err = err, .errlen = errlen };
	size_t i = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->listen_port = -1;
	while (i < len) {
		char line[MAX_LINE];
		size_t n = 0;
		int comment = 0;

		ps.line++;
		for (; i < len && text[i] != '\n'; i++) {
			char c = text[i];
			if (c == '#')
				comment = 1;
			if (comment || isspace((unsigned char)c))
				continue;
			if (c == '\0')
				return perr(&ps, ps.line, "a NUL byte: not a text file%s", "");
			if (n + 1 >= sizeof(line))
				return perr(&ps, ps.line, "line too long (at most %s characters)",
					    "4095");
			line[n++] = c;
		}
		i++;   /* the newline */
		line[n] = '\0';
		r = parse_line(&ps, line);
		if (r < 0)
			return r;
	}
	r = end_peer(&ps);
	if (r < 0)
		return r;
	return 0;
}

int nc_wg_config_load(struct nc_wg_config *cfg, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	buf = malloc(MAX_FILE + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while ((n = read(fd, buf + len, MAX_FILE + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > MAX_FILE)
			break;
	}
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	} else if (len > MAX_FILE) {
		snprintf(err, errlen, "%s: larger than 1 MiB: not a WireGuard configuration",
			 path);
		r = -EFBIG;
	} else {
		r = nc_wg_config_parse(cfg, path, buf, len, err, errlen);
	}
	free(buf);
	return r;
}
