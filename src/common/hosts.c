/*
 * hosts.c — the name table of the virtual network and the hosts(5) parser (see hosts.h).
 *
 * The table is an array scanned linearly: it is built once at start-up, holds what an
 * administrator typed or wrote in a file (tens to thousands of entries), and a lookup is a
 * few string compares per entry.
 */
#include "hosts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS_FILE_MAX (16u << 20)

int nc_hosts_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > NC_HOSTS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

int nc_hosts_canon_key(const char *name, char buf[NC_HOSTS_NAME_MAX + 1])
{
	size_t len = strlen(name);

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NC_HOSTS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[len] = '\0';
	return 0;
}

/* Address text → family and bytes. IPv4 only in dotted-quad form, as hosts(5) wants. */
static int parse_addr(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int nc_hosts_add(struct nc_hosts *h, const char *name, const char *canon, int family,
		 const void *addr, const char **why)
{
	char key[NC_HOSTS_NAME_MAX + 1], ckey[NC_HOSTS_NAME_MAX + 1];
	struct nc_host *e;
	size_t alen = family == AF_INET ? 4 : 16;

	*why = NULL;
	if (family != AF_INET && family != AF_INET6) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (!nc_hosts_name_ok(name) || nc_hosts_canon_key(name, key) < 0) {
		*why = "not a valid host name (letters, digits, '-', '_', dots; labels of "
		       "1..63, at most 253 characters)";
		return -EINVAL;
	}
	if (!canon)
		canon = name;
	if (!nc_hosts_name_ok(canon) || nc_hosts_canon_key(canon, ckey) < 0) {
		*why = "not a valid host name";
		return -EINVAL;
	}
	for (size_t i = 0; i < h->n; i++) {
		if (h->e[i].family == family && !memcmp(h->e[i].addr, addr, alen) &&
		    !strcmp(h->e[i].name, key))
			return 0;   /* already there */
	}
	if (h->n >= NC_HOSTS_MAX) {
		*why = "too many names (at most 65536 name/address pairs)";
		return -ENOSPC;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct nc_host *ne = realloc(h->e, cap * sizeof(*ne));

		if (!ne) {
			*why = "out of memory";
			return -ENOMEM;
		}
		h->e = ne;
		h->cap = cap;
	}
	e = &h->e[h->n];
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, alen);
	e->name = strdup(key);
	e->canon = strdup(ckey);
	if (!e->name || !e->canon) {
		free(e->canon);
		free(e->name);
		*why = "out of memory";
		return -ENOMEM;
	}
	h->n++;
	return 0;
}

int nc_hosts_add_arg(struct nc_hosts *h, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '='), *why;
	char name[NC_HOSTS_NAME_MAX + 2];
	uint8_t addr[16];
	int family, r;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		snprintf(err, errlen, "bad --host '%s': want NAME=ADDR, e.g. web.netcon=10.88.0.1",
			 arg);
		return -EINVAL;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (parse_addr(eq + 1, &family, addr) < 0) {
		snprintf(err, errlen, "bad --host '%s': '%s' is not an IPv4 or IPv6 address",
			 arg, eq + 1);
		return -EINVAL;
	}
	r = nc_hosts_add(h, name, NULL, family, addr, &why);
	if (r < 0)
		snprintf(err, errlen, "bad --host '%s': '%s': %s", arg, name, why);
	return r;
}

int nc_hosts_parse(struct nc_hosts *h, const char *text, size_t len, const char *origin,
		   char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		size_t end = pos, ll;
		char line[4096], *tok, *save = NULL, *canon = NULL;
		const char *why;
		uint8_t addr[16];
		int family, r;

		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		ll = end - pos;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long (at most %zu bytes)", origin,
				 lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', ll)) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line", origin, lineno);
			return -EINVAL;
		}
		tok = strchr(line, '#');
		if (tok)
			*tok = '\0';
		tok = strtok_r(line, " \t\r\f\v", &save);
		if (!tok)
			continue;
		if (parse_addr(tok, &family, addr) < 0) {
			snprintf(err, errlen, "%s:%u: '%.64s' is not an IPv4 or IPv6 address",
				 origin, lineno, tok);
			return -EINVAL;
		}
		tok = strtok_r(NULL, " \t\r\f\v", &save);
		if (!tok) {
			snprintf(err, errlen, "%s:%u: an address without a name", origin, lineno);
			return -EINVAL;
		}
		for (; tok; tok = strtok_r(NULL, " \t\r\f\v", &save)) {
			if (!canon)
				canon = tok;
			r = nc_hosts_add(h, tok, canon, family, addr, &why);
			if (r < 0) {
				snprintf(err, errlen, "%s:%u: '%.64s': %s", origin, lineno, tok, why);
				return r;
			}
		}
	}
	return 0;
}

int nc_hosts_load(struct nc_hosts *h, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read --hosts %s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > HOSTS_FILE_MAX) {
		snprintf(err, errlen, "cannot read --hosts %s: %s", path,
			 S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "cannot read --hosts %s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read --hosts %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = nc_hosts_parse(h, buf, got, path, err, errlen);
	free(buf);
	return r;
}

void nc_hosts_free(struct nc_hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->e[i].canon);
		free(h->e[i].name);
	}
	free(h->e);
	memset(h, 0, sizeof(*h));
}

size_t nc_hosts_by_name(const struct nc_hosts *h, const char *key, int family,
			void (*fn)(const struct nc_host *, void *), void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->e[i].name, key))
			continue;
		n++;
		if (fn && (family == 0 || family == h->e[i].family))
			fn(&h->e[i], arg);
	}
	return n;
}

size_t nc_hosts_by_addr(const struct nc_hosts *h, int family, const void *addr,
			void (*fn)(const struct nc_host *, void *), void *arg)
{
	size_t n = 0, alen = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < h->n; i++) {
		if (h->e[i].family != family || memcmp(h->e[i].addr, addr, alen))
			continue;
		n++;
		if (fn)
			fn(&h->e[i], arg);
	}
	return n;
}

int nc_hosts_is_parent(const struct nc_hosts *h, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < h->n; i++) {
		size_t nl = strlen(h->e[i].name);

		if (nl > kl + 1 && h->e[i].name[nl - kl - 1] == '.' &&
		    !strcmp(h->e[i].name + nl - kl, key))
			return 1;
	}
	return 0;
}
