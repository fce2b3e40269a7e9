/*
 * wguapi.h — WireGuard's cross-platform configuration protocol (the "UAPI" that
 * wireguard-go serves on /var/run/wireguard/NAME.sock and wg(8) speaks): the text of a
 * `get=1` answer made from a snapshot of the link, and a `set=1` request parsed into
 * the changes it asks for. Pure code (wguapi.c): no sockets, no link; the service's
 * uapi.c carries the bytes, wireguard.c takes a snapshot and applies the changes.
 * Fuzzed by fuzz_wguapi.
 */
#ifndef NETCON_WGUAPI_H
#define NETCON_WGUAPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "link/wgconf.h"

#define NC_WG_UAPI_MAX_REQ   (256 * 1024)  /* one request, its blank line included */
#define NC_WG_UAPI_MAX_LINE  512           /* one key=value line */

/* What the link is now: for `get=1` and for `netcon status`. */
struct nc_wg_peer_state {
	uint8_t pub[NC_WG_KEY_LEN], psk[NC_WG_KEY_LEN];
	struct sockaddr_storage ep;   /* family 0: no endpoint */
	int keepalive;
	struct timespec last_handshake;   /* wall clock; 0: never */
	uint64_t rx_bytes, tx_bytes;
	const char *session;          /* "up", "handshaking", "none" */
	int first_allowed, n_allowed; /* a slice of nc_wg_state.allowed */
};

struct nc_wg_state {
	uint8_t priv[NC_WG_KEY_LEN], pub[NC_WG_KEY_LEN];
	int listen_port;
	uint32_t fwmark;
	struct nc_wg_peer_state *peers;
	int n_peers;
	struct nc_wg_prefix *allowed;
	int n_allowed;
};

void nc_wg_state_free(struct nc_wg_state *st);

/* The answer to `get=1`, "errno=0" and the blank line included, in a malloc'd buffer
 * (*out, *len). 0 or -ENOMEM. */
int nc_wg_uapi_get_text(const struct nc_wg_state *st, char **out, size_t *len);

/* An endpoint as the UAPI and `netcon status` write it: a.b.c.d:port (an IPv4-mapped
 * IPv6 address too) or [v6]:port. */
const char *nc_wg_endpoint_str(const struct sockaddr_storage *ss, char *buf, size_t len);

/* One peer's lines of a `set=1` request. */
#define NC_WG_SET_PSK         0x01u
#define NC_WG_SET_ENDPOINT    0x02u
#define NC_WG_SET_KEEPALIVE   0x04u
#define NC_WG_SET_REMOVE      0x08u   /* remove=true: everything else ignored */
#define NC_WG_SET_UPDATE_ONLY 0x10u   /* update_only=true: not created if absent */
#define NC_WG_SET_REPLACE_IPS 0x20u   /* replace_allowed_ips=true before the allowed_ip */

struct nc_wg_uapi_peer {
	uint8_t pub[NC_WG_KEY_LEN], psk[NC_WG_KEY_LEN];
	unsigned set;                 /* NC_WG_SET_* */
	struct sockaddr_storage ep;
	int keepalive;
	int first_allowed, n_allowed; /* a slice of nc_wg_uapi_set.allowed */
};

/* A parsed `set=1`: the interface's changes, then the peers' in request order. */
struct nc_wg_uapi_set {
	int has_priv;
	uint8_t priv[NC_WG_KEY_LEN];
	int listen_port;              /* -1: unchanged */
	int has_fwmark;
	uint32_t fwmark;
	int replace_peers;
	struct nc_wg_uapi_peer *peers;
	int n_peers, cap_peers;
	struct nc_wg_prefix *allowed;
	int n_allowed, cap_allowed;
};

/*
 * nc_wg_uapi_parse_set() - the lines of a `set=1` request (text, len bytes: after the
 * "set=1" line, without the blank line that ends it). Nothing is applied: the link
 * applies the whole of a request that parsed, so a bad line changes nothing (wireguard-go
 * applies the lines before it). 0, or a negative errno (-EINVAL, -EPROTO for a line
 * without '=', -ENOMEM, -E2BIG past NC_WG_MAX_PEERS or NC_WG_MAX_ALLOWED) with one line
 * in err naming what was wrong. nc_wg_uapi_set_free() in every case.
 */
int nc_wg_uapi_parse_set(struct nc_wg_uapi_set *s, const char *text, size_t len,
			 char *err, size_t errlen);
void nc_wg_uapi_set_free(struct nc_wg_uapi_set *s);

#endif /* NETCON_WGUAPI_H */
