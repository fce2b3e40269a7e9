/*
 * wguapi.c — the text of WireGuard's cross-platform configuration protocol
 * (https://www.wireguard.com/xplatform/), as wireguard-go speaks it:
 *
 *   get=1\n\n        answered with the interface's lines (private_key, listen_port,
 *                    fwmark when not 0), then per peer public_key, preshared_key,
 *                    protocol_version, endpoint, last_handshake_time_sec/_nsec,
 *                    tx_bytes, rx_bytes, persistent_keepalive_interval and allowed_ip
 *                    lines, then errno=0 and a blank line. Keys are 64 hex digits.
 *   set=1\n...\n\n   interface keys (private_key, listen_port, fwmark, replace_peers)
 *                    until the first public_key, which starts a peer; each peer's keys
 *                    (remove, update_only, preshared_key, endpoint,
 *                    persistent_keepalive_interval, replace_allowed_ips, allowed_ip,
 *                    protocol_version) follow it. Answered errno=0, or errno=-N.
 *
 * This file makes the get text from a snapshot and parses a set request into a list of
 * changes; the service's uapi.c reads and writes the socket, wireguard.c applies.
 * Boolean keys take only "true", numbers are decimal, endpoints numeric (wg(8)
 * resolves names before it sends them), as in wireguard-go.
 */
#include "link/wguapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nc_wg_state_free(struct nc_wg_state *st)
{
	free(st->peers);
	free(st->allowed);
	memset(st, 0, sizeof(*st));
}

void nc_wg_uapi_set_free(struct nc_wg_uapi_set *s)
{
	free(s->peers);
	free(s->allowed);
	memset(s, 0, sizeof(*s));
}

const char *nc_wg_endpoint_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, a, sizeof(a));
			snprintf(buf, len, "%s:%u", a, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
		}
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "(none)");
	}
	return buf;
}

/* ---- get ------------------------------------------------------------------------- */

struct text {
	char *buf;
	size_t len, cap;
	int oom;
};

static void __attribute__((format(printf, 2, 3))) add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap * 2 + (size_t)n + 1;
		char *b = realloc(t->buf, cap);
		if (!b) {
			t->oom = 1;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

static void add_key(struct text *t, const char *name, const uint8_t key[NC_WG_KEY_LEN])
{
	char hex[2 * NC_WG_KEY_LEN + 1];

	nc_wg_key_to_hex(hex, key);
	add(t, "%s=%s\n", name, hex);
}

int nc_wg_uapi_get_text(const struct nc_wg_state *st, char **out, size_t *len)
{
	struct text t = { .cap = 1024 };

	t.buf = malloc(t.cap);
	if (!t.buf)
		return -ENOMEM;
	t.buf[0] = '\0';
	add_key(&t, "private_key", st->priv);
	add(&t, "listen_port=%d\n", st->listen_port);
	if (st->fwmark)
		add(&t, "fwmark=%u\n", (unsigned)st->fwmark);
	for (int i = 0; i < st->n_peers; i++) {
		const struct nc_wg_peer_state *p = &st->peers[i];
		char ep[INET6_ADDRSTRLEN + 16];

		add_key(&t, "public_key", p->pub);
		add_key(&t, "preshared_key", p->psk);
		add(&t, "protocol_version=1\n");
		if (p->ep.ss_family)
			add(&t, "endpoint=%s\n", nc_wg_endpoint_str(&p->ep, ep, sizeof(ep)));
		add(&t, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%ld\n",
		    (long long)p->last_handshake.tv_sec, (long)p->last_handshake.tv_nsec);
		add(&t, "tx_bytes=%llu\nrx_bytes=%llu\npersistent_keepalive_interval=%d\n",
		    (unsigned long long)p->tx_bytes, (unsigned long long)p->rx_bytes,
		    p->keepalive);
		for (int k = 0; k < p->n_allowed; k++) {
			const struct nc_wg_prefix *a = &st->allowed[p->first_allowed + k];
			char s[INET6_ADDRSTRLEN];

			inet_ntop(a->family, a->addr, s, sizeof(s));
			add(&t, "allowed_ip=%s/%d\n", s, a->cidr);
		}
	}
	add(&t, "errno=0\n\n");
	if (t.oom) {
		free(t.buf);
		return -ENOMEM;
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}

/* ---- set ------------------------------------------------------------------------- */

/* One line naming what was wrong and the line (a key's value left out). */
static int perr(char *err, size_t errlen, int r, const char *what, const char *line)
{
	if (!strncmp(line, "private_key=", 12) || !strncmp(line, "preshared_key=", 14))
		snprintf(err, errlen, "%s", what);
	else
		snprintf(err, errlen, "%s: '%.80s%s'", what, line, strlen(line) > 80 ? "..." : "");
	return r;
}

static int is_true(const char *v)
{
	return !strcmp(v, "true");
}

static struct nc_wg_uapi_peer *new_peer(struct nc_wg_uapi_set *s)
{
	if (s->n_peers == s->cap_peers) {
		int cap = s->cap_peers ? 2 * s->cap_peers : 8;
		struct nc_wg_uapi_peer *p = realloc(s->peers, (size_t)cap * sizeof(*p));
		if (!p)
			return NULL;
		s->peers = p;
		s->cap_peers = cap;
	}
	memset(&s->peers[s->n_peers], 0, sizeof(s->peers[0]));
	s->peers[s->n_peers].first_allowed = s->n_allowed;
	return &s->peers[s->n_peers++];
}

static int add_allowed(struct nc_wg_uapi_set *s, const struct nc_wg_prefix *a)
{
	if (s->n_allowed == s->cap_allowed) {
		int cap = s->cap_allowed ? 2 * s->cap_allowed : 16;
		struct nc_wg_prefix *n = realloc(s->allowed, (size_t)cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->allowed = n;
		s->cap_allowed = cap;
	}
	s->allowed[s->n_allowed++] = *a;
	return 0;
}

static int iface_line(struct nc_wg_uapi_set *s, const char *key, const char *val,
		      const char *line, char *err, size_t errlen)
{
	long v;

	if (!strcmp(key, "private_key")) {
		if (nc_wg_key_from_hex(s->priv, val) < 0)
			return perr(err, errlen, -EINVAL, "bad private_key", line);
		s->has_priv = 1;
	} else if (!strcmp(key, "listen_port")) {
		if (nc_wg_num_parse(val, 0, 65535, &v) < 0)
			return perr(err, errlen, -EINVAL, "bad listen_port", line);
		s->listen_port = (int)v;
	} else if (!strcmp(key, "fwmark")) {
		if (nc_wg_num_parse(val, 0, 0xffffffffL, &v) < 0)
			return perr(err, errlen, -EINVAL, "bad fwmark", line);
		s->has_fwmark = 1;
		s->fwmark = (uint32_t)v;
	} else if (!strcmp(key, "replace_peers")) {
		if (!is_true(val))
			return perr(err, errlen, -EINVAL, "bad replace_peers (only true)", line);
		s->replace_peers = 1;
	} else {
		return perr(err, errlen, -EINVAL, "unknown interface key", line);
	}
	return 0;
}

static int peer_line(struct nc_wg_uapi_set *s, struct nc_wg_uapi_peer *p, const char *key,
		     const char *val, const char *line, char *err, size_t errlen)
{
	struct nc_wg_prefix a;
	socklen_t sl;
	long v;

	if (!strcmp(key, "remove") || !strcmp(key, "update_only") ||
	    !strcmp(key, "replace_allowed_ips")) {
		if (!is_true(val))
			return perr(err, errlen, -EINVAL, "bad value (only true)", line);
		if (key[0] == 'u') {
			p->set |= NC_WG_SET_UPDATE_ONLY;
		} else if (key[0] == 'r' && key[2] == 'm') {
			p->set |= NC_WG_SET_REMOVE;
		} else {
			/* The allowed_ip lines before it in this peer are replaced too. */
			s->n_allowed = p->first_allowed;
			p->n_allowed = 0;
			p->set |= NC_WG_SET_REPLACE_IPS;
		}
	} else if (!strcmp(key, "preshared_key")) {
		if (nc_wg_key_from_hex(p->psk, val) < 0)
			return perr(err, errlen, -EINVAL, "bad preshared_key", line);
		p->set |= NC_WG_SET_PSK;
	} else if (!strcmp(key, "endpoint")) {
		if (nc_wg_endpoint_parse_numeric(val, &p->ep, &sl) < 0)
			return perr(err, errlen, -EINVAL, "bad endpoint (want IP:PORT or [IPv6]:PORT)",
				    line);
		p->set |= NC_WG_SET_ENDPOINT;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (nc_wg_num_parse(val, 0, 65535, &v) < 0)
			return perr(err, errlen, -EINVAL, "bad persistent_keepalive_interval", line);
		p->keepalive = (int)v;
		p->set |= NC_WG_SET_KEEPALIVE;
	} else if (!strcmp(key, "allowed_ip")) {
		int r;

		if (nc_wg_prefix_parse(&a, val, 1) < 0 || !strchr(val, '/'))
			return perr(err, errlen, -EINVAL, "bad allowed_ip (want ADDR/CIDR)", line);
		if (s->n_allowed >= NC_WG_MAX_ALLOWED)
			return perr(err, errlen, -E2BIG, "too many allowed_ip lines", line);
		r = add_allowed(s, &a);
		if (r < 0)
			return perr(err, errlen, r, "out of memory", line);
		p->n_allowed++;
	} else if (!strcmp(key, "protocol_version")) {
		if (strcmp(val, "1"))
			return perr(err, errlen, -EINVAL, "unknown protocol_version", line);
	} else {
		return perr(err, errlen, -EINVAL, "unknown peer key", line);
	}
	return 0;
}

int nc_wg_uapi_parse_set(struct nc_wg_uapi_set *s, const char *text, size_t len,
			 char *err, size_t errlen)
{
	struct nc_wg_uapi_peer *p = NULL;
	char line[NC_WG_UAPI_MAX_LINE + 1], whole[NC_WG_UAPI_MAX_LINE + 1];
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	s->listen_port = -1;
	err[0] = '\0';
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char *eq;
		int r;

		if (n > NC_WG_UAPI_MAX_LINE) {
			snprintf(err, errlen, "a line longer than %d bytes", NC_WG_UAPI_MAX_LINE);
			return -EMSGSIZE;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		memcpy(whole, line, n + 1);
		off += n + 1;
		if (n == 0)
			break;   /* the end of the request */
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "a NUL byte in a line");
			return -EINVAL;
		}
		eq = strchr(line, '=');
		if (!eq)
			return perr(err, errlen, -EPROTO, "a line without '='", whole);
		*eq = '\0';
		if (!strcmp(line, "public_key")) {
			if (s->n_peers >= NC_WG_MAX_PEERS)
				return perr(err, errlen, -E2BIG, "too many peers", whole);
			p = new_peer(s);
			if (!p) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			if (nc_wg_key_from_hex(p->pub, eq + 1) < 0)
				return perr(err, errlen, -EINVAL, "bad public_key", whole);
			continue;
		}
		r = p ? peer_line(s, p, line, eq + 1, whole, err, errlen)
		      : iface_line(s, line, eq + 1, whole, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}
