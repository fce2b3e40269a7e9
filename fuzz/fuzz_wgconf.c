/*
 * fuzz_wgconf.c — libFuzzer harness for wg(8)'s configuration format as --wg-config
 * reads it (nc_wg_config_parse(), src/link/wgconf.c).
 *
 * Input: the file's text. Checked: a rejected file says why with "f:LINE: "; an accepted
 * one has at most NC_WG_MAX_PEERS peers, each with its slice of AllowedIPs inside the
 * table and in order, prefixes of a known family and length, a port and MTU in range.
 * Endpoint names are never resolved here (getaddrinfo below answers for numbers only).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/wgconf.h"

/* No DNS from a fuzzer: numeric addresses are answered here, a name does not resolve. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai) + sizeof(struct sockaddr_in6));
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(ai + 1);
	struct sockaddr_in *s4 = (struct sockaddr_in *)(ai + 1);
	int port = service ? atoi(service) : 0;

	*res = NULL;
	if (!ai)
		return EAI_MEMORY;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	if ((!hints || hints->ai_family != AF_INET6) && inet_pton(AF_INET, node, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ai->ai_family = AF_INET;
		ai->ai_addrlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, node, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ai->ai_family = AF_INET6;
		ai->ai_addrlen = sizeof(*s6);
	} else {
		free(ai);
		return EAI_NONAME;
	}
	*res = ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	free(res);
}

static struct nc_wg_config cfg;

static void check_prefix(const struct nc_wg_prefix *p)
{
	if ((p->family != AF_INET && p->family != AF_INET6) || p->cidr < 0 ||
	    p->cidr > (p->family == AF_INET ? 32 : 128))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	int r = nc_wg_config_parse(&cfg, "f", (const char *)data, size, err, sizeof(err));

	if (r < 0) {
		if (strncmp(err, "f:", 2) || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (cfg.n_peers < 0 || cfg.n_peers > NC_WG_MAX_PEERS || cfg.n_allowed < 0 ||
	    cfg.n_allowed > NC_WG_MAX_ALLOWED || cfg.n_addrs < 0 || cfg.n_addrs > NC_WG_MAX_ADDRS ||
	    cfg.listen_port < -1 || cfg.listen_port > 65535 ||
	    (cfg.mtu && (cfg.mtu < 576 || cfg.mtu > 65521)))
		abort();
	for (int i = 0, next = 0; i < cfg.n_peers; i++) {
		const struct nc_wg_peer_conf *p = &cfg.peers[i];

		if (p->first_allowed != next || p->n_allowed < 0 ||
		    p->first_allowed + p->n_allowed > cfg.n_allowed || p->keepalive < 0 ||
		    p->keepalive > 65535 || p->line < 1)
			abort();
		next += p->n_allowed;
		for (int k = 0; k < i; k++)
			if (!memcmp(cfg.peers[k].pub, p->pub, NC_WG_KEY_LEN))
				abort();   /* the same peer twice is an error */
	}
	for (int i = 0; i < cfg.n_allowed; i++)
		check_prefix(&cfg.allowed[i]);
	for (int i = 0; i < cfg.n_addrs; i++)
		check_prefix(&cfg.addrs[i]);
	return 0;
}
