/*
 * fuzz_hosts.c — libFuzzer harness for the hosts(5) parser and --host NAME=ADDR
 * (src/common/hosts.c), which read what `netcon service --hosts FILE` is given.
 *
 * Input: the file's text. Checked: an accepted table has only valid, lower-case names and
 * IPv4/IPv6 entries; a rejected one says why with a line number; lookups of every name
 * find it; freeing leaves nothing behind (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_hosts h = { 0 };
	char err[256] = "";
	int r = nc_hosts_parse(&h, (const char *)data, size, "f", err, sizeof(err));

	if (r < 0 && strncmp(err, "f:", 2))
		abort();
	for (size_t i = 0; r == 0 && i < h.n; i++) {
		const struct nc_host *e = &h.e[i];

		if (!nc_hosts_name_ok(e->name) || !nc_hosts_name_ok(e->canon) ||
		    (e->family != AF_INET && e->family != AF_INET6))
			abort();
		for (const char *p = e->name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		if (nc_hosts_by_name(&h, e->name, 0, NULL, NULL) == 0 ||
		    nc_hosts_by_addr(&h, e->family, e->addr, NULL, NULL) == 0)
			abort();
	}
	/* The same text as one --host argument. */
	if (size < 600) {
		char *arg = malloc(size + 1);

		memcpy(arg, data, size);
		arg[size] = '\0';
		nc_hosts_add_arg(&h, arg, err, sizeof(err));
		free(arg);
	}
	nc_hosts_free(&h);
	return 0;
}
