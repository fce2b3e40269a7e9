/*
 * outbound.h — the `--outbound` policy: which destinations outside the virtual network a
 * program may reach through the service's own network (its kernel sockets).
 *
 * A policy is `all` or a comma list of CIDR[:PORT[-PORT]] entries, IPv4 and IPv6, given
 * in one or more --outbound options. The host's loopback (127.0.0.0/8, ::1) is reached
 * only through entries that lie inside it: `all`, 0.0.0.0/0 or ::/0 never grant it.
 * Entries may not overlap (the same destination given twice is a mistake worth a message
 * at start-up, not a rule of precedence). Pure code: the CLI parses, the service matches.
 */
#ifndef NETCON_OUTBOUND_H
#define NETCON_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "netcon/rpc.h"

#define NC_OUTBOUND_MAX     64      /* entries in one policy (`all` counts as two) */
#define NC_OUTBOUND_TEXT    64      /* an entry as given, for messages and the status */

struct nc_outbound_rule {
	uint8_t  family;            /* AF_INET or AF_INET6 */
	uint8_t  prefix;            /* 0..32 / 0..128 */
	uint8_t  loopback;          /* inside 127.0.0.0/8 or ::1/128: the only rules for loopback */
	uint8_t  pad;
	uint16_t port_lo, port_hi;  /* 1..65535 */
	uint8_t  addr[16];          /* network order, host bits clear; IPv4 in the first 4 */
	char     text[NC_OUTBOUND_TEXT];
};

struct nc_outbound {
	int n;                      /* 0: --outbound not given, nothing goes out */
	struct nc_outbound_rule r[NC_OUTBOUND_MAX];
};

/*
 * nc_outbound_parse() - add the entries of one --outbound value (`all` or a comma list)
 * to p. Returns 0, or -EINVAL with one line in why naming the entry and what is wrong
 * with it (malformed, out of range, overlapping an earlier entry, too many).
 */
int nc_outbound_parse(struct nc_outbound *p, const char *val, char *why, size_t whylen);

/* Is a (AF_INET, or AF_INET6 and perhaps IPv4-mapped) in 127.0.0.0/8, ::1, or the
 * unspecified address (a connect there means this host's loopback)? 1 or 0. */
int nc_outbound_is_loopback(const struct nc_addr *a);

/* Does some entry name loopback (so that loopback destinations must be asked about)? */
int nc_outbound_names_loopback(const struct nc_outbound *p);

/* Does the policy let a connection to a (address and port) out? An IPv4-mapped address
 * is matched as IPv4. Returns the matching entry's index, or -1. */
int nc_outbound_match(const struct nc_outbound *p, const struct nc_addr *a);

/* The policy as one line of text ("off" when empty). */
void nc_outbound_describe(const struct nc_outbound *p, char *buf, size_t len);

#endif /* NETCON_OUTBOUND_H */
