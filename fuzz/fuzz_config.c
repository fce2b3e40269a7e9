/*
 * fuzz_config.c — libFuzzer harness for the service's option parser, nc_config_parse()
 * (src/cli/cmd_service.c), which `netcon service` and `netcon run` share.
 *
 * Input: the arguments, separated by NUL bytes (at most 64), after argv[0]. An accepted
 * configuration must satisfy what the service relies on without checking again.
 * Run with -close_fd_mask=2: rejected options print a message on stderr.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_ARGS 64

/* cmd_service.c calls it; nothing is run here. */
int nc_service_run(struct nc_config *cfg)
{
	(void)cfg;
	return 0;
}

/* --bind and --peer resolve names: never from a fuzzer (no DNS queries, no delay); a
 * name is taken as one that does not resolve. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	return EAI_NONAME;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct nc_config cfg;
	int argc = 1, idx = 1, r;
	size_t start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "netcon service";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	r = nc_config_parse(&cfg, argc, argv, &idx, "netcon service");
	if (idx < 1 || idx > argc)
		abort();
	if (r == 0) {
		if (cfg.mtu < NC_MTU_MIN || cfg.mtu > 65521 || cfg.prefix < 1 || cfg.prefix > 30 ||
		    cfg.vxlan.npeers < 0 || cfg.vxlan.npeers > NC_VXLAN_MAX_PEERS ||
		    cfg.vxlan.vni > 0xffffff || !memchr(cfg.socket_path, 0, sizeof(cfg.socket_path)) ||
		    !memchr(cfg.tap_name, 0, sizeof(cfg.tap_name)) || (cfg.mac[0] & 1) ||
		    (cfg.socket_mode & ~0777u))
			abort();
		if (cfg.link_kind == NC_LINKKIND_TAP && !cfg.tap_name[0])
			abort();
		if (cfg.link_kind == NC_LINKKIND_VXLAN && cfg.vxlan.bind_len == 0)
			abort();
	}
	nc_hosts_free(&cfg.hosts);
	free(buf);
	return 0;
}
