/*
 * dns.h — the service's DNS responder: the wire format (RFC 1035, EDNS per RFC 6891) and
 * the answer to one query from the name table (common/hosts.h). dns.c is pure code — no
 * lwIP, no I/O — so that unit tests and the fuzzer drive it directly; dns_server.c puts it
 * on lwIP's UDP port 53 (`netcon service --dns`).
 *
 * What it answers (authoritative, AA set, recursion never available):
 *   A, AAAA, ANY      for names of the table; TTL 60;
 *   PTR               for in-addr.arpa / ip6.arpa names of the table's addresses;
 *   NOERROR, no data  a name of the table asked for a type it has no record of, or a
 *                     parent of a table name ("netcon" when "web.netcon" exists);
 *   NXDOMAIN          every other name: there is no upstream resolver;
 *   FORMERR           not exactly one question, a malformed name (compression loop,
 *                     forward pointer, longer than 255), a truncated question or record,
 *                     more than one OPT record;
 *   NOTIMP            an opcode other than QUERY, a class other than IN/ANY, AXFR, IXFR,
 *                     MAILA, MAILB;
 *   BADVERS           EDNS version other than 0.
 * A query with EDNS gets a minimal OPT record back (payload size 1232, no options); the
 * reply fits max(512, min(requester's size, 1232)) bytes, else it is cut and TC is set.
 * Responses (QR set) and messages shorter than a header get no answer at all.
 */
#ifndef NETCON_DNS_H
#define NETCON_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "common/hosts.h"

#define NC_DNS_TTL          60
#define NC_DNS_EDNS_SIZE    1232    /* our UDP payload size; replies never exceed it */
#define NC_DNS_MAX_REPLY    NC_DNS_EDNS_SIZE

enum nc_dns_rcode {
	NC_DNS_NOERROR = 0,
	NC_DNS_FORMERR = 1,
	NC_DNS_SERVFAIL = 2,
	NC_DNS_NXDOMAIN = 3,
	NC_DNS_NOTIMP = 4,
	NC_DNS_REFUSED = 5,
	NC_DNS_BADVERS = 16,        /* extended rcode: carried in the OPT record */
};

struct nc_dns_counters {
	uint64_t queries;           /* datagrams received */
	uint64_t noerror;           /* answers with NOERROR (with or without data) */
	uint64_t nxdomain;
	uint64_t formerr;
	uint64_t notimp;            /* NOTIMP and BADVERS */
	uint64_t dropped;           /* no answer: not a query, or too short */
	uint64_t truncated;         /* answers cut to fit (TC set) */
};

/*
 * nc_dns_answer() - answer one DNS query from the table.
 * @h: the name table; @q, @qlen: the datagram received;
 * @out, @outcap: where the reply goes (at least NC_DNS_MAX_REPLY bytes for full answers;
 * smaller buffers cut the reply and set TC); @c: counters to update (may be NULL).
 * Returns the reply's length, or 0 when nothing must be sent.
 */
size_t nc_dns_answer(const struct nc_hosts *h, const uint8_t *q, size_t qlen, uint8_t *out,
		     size_t outcap, struct nc_dns_counters *c);

/*
 * nc_dns_read_name() - read a domain name at *off in a message, following compression
 * pointers (each must point strictly backwards, at most 127 of them). Writes it expanded
 * in wire format (case kept) to wire[255] and its length to *wirelen, and in text (lower
 * case, no trailing dot, "" for the root) to text[NC_HOSTS_NAME_MAX + 1]; *plain is 0 when
 * a label holds a character no table name can have (the name then matches nothing).
 * Advances *off past the name where it starts. 0, or -EBADMSG if malformed.
 */
int nc_dns_read_name(const uint8_t *m, size_t len, size_t *off, uint8_t wire[255],
		     size_t *wirelen, char text[NC_HOSTS_NAME_MAX + 1], int *plain);

/* An in-addr.arpa or ip6.arpa name (text, lower case) → an address. 1 with *family and
 * addr filled, 0 if it is not the reverse name of one whole address. */
int nc_dns_reverse_name(const char *text, int *family, uint8_t addr[16]);

#endif /* NETCON_DNS_H */
