/*
 * fuzz_wg.h — a WireGuard link for the fuzzers (fuzz_wguapi, fuzz_wghandshake): the
 * real wireguard.c on a UDP socket of 127.0.0.1 with fixed keys, one peer whose endpoint
 * is the harness's own sink socket, so nothing the link sends leaves this machine or
 * reaches another program.
 */
#ifndef NETCON_FUZZ_WG_H
#define NETCON_FUZZ_WG_H

#include <stdint.h>
#include <sys/socket.h>

#include "link/link.h"
#include "link/wgnoise.h"

/* Fixed keys: the link's (fuzz_wg_priv) and its one peer's (fuzz_wg_peer_priv). */
extern const uint8_t fuzz_wg_priv[32], fuzz_wg_peer_priv[32];

/* The sink's address (as the link's IPv6 socket sees it: ::ffff:127.0.0.1) and fd. */
extern struct sockaddr_storage fuzz_wg_sink_addr;
extern int fuzz_wg_sink_fd;

/* A new link with the one peer (AllowedIPs 10.42.0.0/24 and fd42::/64); aborts when it
 * cannot be made. */
struct nc_link *fuzz_wg_open(void);
/* The link's one peer anew (replace_peers through the UAPI's set): no session, no
 * handshake, no timestamp or rate seen. Cheaper than a new link. */
void fuzz_wg_reset(struct nc_link *l);
/* Read and drop what waits on the sink. */
void fuzz_wg_drain(void);

#endif /* NETCON_FUZZ_WG_H */
