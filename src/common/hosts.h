/*
 * hosts.h — the service's table of names on the virtual network: what `--host NAME=ADDR`
 * and `--hosts FILE` (hosts(5) format) give it, looked up by name (getaddrinfo, DNS A and
 * AAAA) and by address (getnameinfo, DNS PTR). Pure code, no policy, no I/O except reading
 * the file it is given.
 *
 * Names are stored lower-case without a trailing dot; lookups are case-insensitive. Each
 * entry is one (name, address) pair and remembers its line's canonical name (the first
 * name on a hosts line, or NAME of --host), so that a name has the addresses of every
 * line it appears on, and an address has the names of every line it appears on, in the
 * order given.
 */
#ifndef NETCON_HOSTS_H
#define NETCON_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#define NC_HOSTS_NAME_MAX   253     /* a DNS name in text, without the trailing dot */
#define NC_HOSTS_MAX        65536   /* entries (name, address pairs) in one table */

struct nc_host {
	char *name;         /* lower-case, no trailing dot */
	char *canon;        /* the first name of its line (may be name itself) */
	int family;         /* AF_INET or AF_INET6 */
	uint8_t addr[16];   /* network order; IPv4 in the first 4 bytes */
};

struct nc_hosts {
	struct nc_host *e;
	size_t n, cap;
};

/* Is s a host name we accept: labels of 1..63 letters, digits, '-' or '_', separated by
 * single dots, at most 253 characters (one trailing dot allowed)? 1 or 0. */
int nc_hosts_name_ok(const char *s);

/* Add one name for one address; canon NULL means name itself. Duplicate pairs are kept
 * once. 0, or -EINVAL (bad name; *why says so), -ENOSPC (table full), -ENOMEM. */
int nc_hosts_add(struct nc_hosts *h, const char *name, const char *canon, int family,
		 const void *addr, const char **why);

/* "NAME=ADDR" (ADDR IPv4 or IPv6). 0, or -EINVAL with a message in err. */
int nc_hosts_add_arg(struct nc_hosts *h, const char *arg, char *err, size_t errlen);

/* hosts(5) text: "ADDR NAME [ALIAS...]" lines, '#' comments, blank lines. A bad line is
 * an error naming its line number (origin is the file name for messages). 0, or
 * -EINVAL / -ENOSPC / -ENOMEM with a message in err. */
int nc_hosts_parse(struct nc_hosts *h, const char *text, size_t len, const char *origin,
		   char *err, size_t errlen);

/* Read and parse a hosts file (at most 16 MiB). 0 or a negative errno, message in err. */
int nc_hosts_load(struct nc_hosts *h, const char *path, char *err, size_t errlen);

void nc_hosts_free(struct nc_hosts *h);

/* Lower-case copy of name without a trailing dot into buf (NC_HOSTS_NAME_MAX + 1 bytes).
 * 0, or -EINVAL when it cannot be a name of the table. */
int nc_hosts_canon_key(const char *name, char buf[NC_HOSTS_NAME_MAX + 1]);

/* Entries whose name matches (already lower-case, no trailing dot): calls fn for each in
 * table order, family 0 meaning any. Returns how many entries had that name, whatever
 * their family (0: the name is unknown). */
size_t nc_hosts_by_name(const struct nc_hosts *h, const char *key, int family,
			void (*fn)(const struct nc_host *, void *), void *arg);

/* Entries with this address, in table order. Returns their number. */
size_t nc_hosts_by_addr(const struct nc_hosts *h, int family, const void *addr,
			void (*fn)(const struct nc_host *, void *), void *arg);

/* Is key a proper parent domain of a name in the table ("netcon" for "web.netcon")? */
int nc_hosts_is_parent(const struct nc_hosts *h, const char *key);

#endif /* NETCON_HOSTS_H */
