/*
 * fuzz_wg.c — the WireGuard link of fuzz_wg.h.
 */
#include "fuzz_wg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/wgconf.h"
#include "link/wguapi.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

const uint8_t fuzz_wg_priv[32] = { 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
				   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
				   0x41 };
const uint8_t fuzz_wg_peer_priv[32] = { 0x10, 0xee, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
					14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
					28, 29, 30, 0x42 };
struct sockaddr_storage fuzz_wg_sink_addr;
int fuzz_wg_sink_fd = -1;

static void deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	/* The link hands over only well-formed packets of at most the MTU. */
	if (len < 20 || len > 1420 || ((pkt[0] >> 4) != 4 && (pkt[0] >> 4) != 6))
		abort();
}

void fuzz_wg_drain(void)
{
	uint8_t buf[65536];

	while (recv(fuzz_wg_sink_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

struct nc_link *fuzz_wg_open(void)
{
	static struct nc_wg_config *cfg;
	struct nc_link *l;
	char err[256];

	if (!cfg) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&fuzz_wg_sink_addr;
		socklen_t sl = sizeof(sin);
		uint8_t pub[32];

		fuzz_wg_sink_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fuzz_wg_sink_fd < 0 || bind(fuzz_wg_sink_fd, (struct sockaddr *)&sin, sl) < 0 ||
		    getsockname(fuzz_wg_sink_fd, (struct sockaddr *)&sin, &sl) < 0)
			abort();
		/* UDP_GRO on an IPv6 socket (as the link's) that lives as long as the harness: the kernel's static key
		 * for it then stays on, instead of being patched in and out of the kernel's
		 * text (an IPI to every CPU) for each link opened and closed. */
		int keep = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);   /* never closed */
		if (keep >= 0)
			(void)setsockopt(keep, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = sin.sin_port;
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12, &sin.sin_addr, 4);

		cfg = calloc(1, sizeof(*cfg));
		if (!cfg || nc_wg_crypto_init(err, sizeof(err)) < 0 ||
		    nc_wg_pubkey(pub, fuzz_wg_peer_priv) < 0)
			abort();
		snprintf(cfg->path, sizeof(cfg->path), "fuzz");
		memcpy(cfg->priv, fuzz_wg_priv, 32);
		cfg->has_priv = 1;
		cfg->listen_port = 0;
		memcpy(cfg->peers[0].pub, pub, 32);
		memcpy(&cfg->peers[0].endpoint, &sin, sizeof(sin));
		cfg->peers[0].endpoint_len = sizeof(sin);
		cfg->peers[0].n_allowed = 2;
		cfg->peers[0].line = 1;
		cfg->n_peers = 1;
		if (nc_wg_prefix_parse(&cfg->allowed[0], "10.42.0.0/24", 1) < 0 ||
		    nc_wg_prefix_parse(&cfg->allowed[1], "fd42::/64", 1) < 0)
			abort();
		cfg->n_allowed = 2;
	}
	if (nc_link_wireguard_open(&l, cfg, "fuzz", 1420, deliver, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_wg: %s\n", err);
		abort();
	}
	return l;
}

void fuzz_wg_reset(struct nc_link *l)
{
	static char req[512];
	struct nc_wg_uapi_set set;
	char err[256], hex[65];
	uint8_t pub[32];
	int n;

	if (!req[0]) {
		if (nc_wg_pubkey(pub, fuzz_wg_peer_priv) < 0)
			abort();
		nc_wg_key_to_hex(hex, pub);
		n = snprintf(req, sizeof(req), "replace_peers=true\npublic_key=%s\n"
			     "endpoint=127.0.0.1:%u\nallowed_ip=10.42.0.0/24\nallowed_ip=fd42::/64\n",
			     hex, ntohs(((struct sockaddr_in6 *)&fuzz_wg_sink_addr)->sin6_port));
		if (n <= 0 || (size_t)n >= sizeof(req))
			abort();
	}
	if (nc_wg_uapi_parse_set(&set, req, strlen(req), err, sizeof(err)) < 0 ||
	    nc_link_wireguard_set(l, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_wg: reset: %s\n", err);
		abort();
	}
	nc_wg_uapi_set_free(&set);
}
