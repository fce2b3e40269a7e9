/*
 * wgconf.h — the WireGuard link's configuration: wg(8)'s file format, read by
 * nc_wg_config_load() (wgconf.c), and the key and address helpers the link and its UAPI
 * share. Free of lwIP and of OpenSSL: the CLI reads the file before the service starts,
 * so a bad file stops `netcon service` with one line naming the file and the line.
 */
#ifndef NETCON_WGCONF_H
#define NETCON_WGCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NC_WG_KEY_LEN      32
#define NC_WG_KEY_B64_LEN  44       /* base64 of 32 bytes, with its one '=' */
#define NC_WG_MAX_PEERS    256
#define NC_WG_MAX_ALLOWED  4096     /* AllowedIPs entries in one file, all peers */
#define NC_WG_MAX_ADDRS    8        /* wg-quick Address entries */
#define NC_WG_DEFAULT_MTU  1420     /* wg-quick's default: 1500 − IPv6 − UDP − WireGuard */

/* One AllowedIPs entry (or one wg-quick Address): family AF_INET or AF_INET6, the
 * address in network order (4 or 16 bytes used), and the prefix length. */
struct nc_wg_prefix {
	int family;
	uint8_t addr[16];
	int cidr;
};

struct nc_wg_peer_conf {
	uint8_t pub[NC_WG_KEY_LEN];
	uint8_t psk[NC_WG_KEY_LEN];  /* zeros when there is none (as the protocol says) */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;      /* 0: no Endpoint (the peer must come to us) */
	int keepalive;               /* PersistentKeepalive seconds, 0 = off */
	int first_allowed, n_allowed;   /* a slice of nc_wg_config.allowed */
	int line;                    /* the [Peer] line, for messages */
};

struct nc_wg_config {
	char path[256];              /* the file, for messages */
	uint8_t priv[NC_WG_KEY_LEN];
	int has_priv;
	int listen_port;             /* -1: not given (a random port) */
	uint32_t fwmark;             /* read and kept for `wg showconf`; not applied */
	struct nc_wg_peer_conf peers[NC_WG_MAX_PEERS];
	int n_peers;
	struct nc_wg_prefix allowed[NC_WG_MAX_ALLOWED];
	int n_allowed;
	/* wg-quick's extras: Address and MTU are used where netcon's options leave them
	 * open; DNS, Table, SaveConfig and the Pre/Post hooks are read and ignored. */
	struct nc_wg_prefix addrs[NC_WG_MAX_ADDRS];
	int n_addrs;
	int mtu;                     /* 0: not given */
	int n_ignored;               /* wg-quick keys read and ignored */
};

/* Read a configuration file into *cfg (cleared first). 0, or a negative errno and one
 * line in err naming the file, the line and what is wrong there. */
int nc_wg_config_load(struct nc_wg_config *cfg, const char *path, char *err, size_t errlen);
/* The same for text already in memory (for tests and fuzzers); path names it. */
int nc_wg_config_parse(struct nc_wg_config *cfg, const char *path, const char *text,
		       size_t len, char *err, size_t errlen);

/* Base64 (44 characters, the last '=') to 32 bytes: 0 or -EINVAL. Hex (64 digits) for
 * the UAPI. Both encoders write a terminated string (45 and 65 bytes). */
int nc_wg_key_from_base64(uint8_t key[NC_WG_KEY_LEN], const char *s);
void nc_wg_key_to_base64(char out[NC_WG_KEY_B64_LEN + 1], const uint8_t key[NC_WG_KEY_LEN]);
int nc_wg_key_from_hex(uint8_t key[NC_WG_KEY_LEN], const char *s);
void nc_wg_key_to_hex(char out[2 * NC_WG_KEY_LEN + 1], const uint8_t key[NC_WG_KEY_LEN]);
/* ADDR[/CIDR] (IPv4 or IPv6; no CIDR: the full length): 0 or -EINVAL. Host bits under
 * the prefix are cleared when mask is set (AllowedIPs), kept otherwise (Address). */
int nc_wg_prefix_parse(struct nc_wg_prefix *p, const char *s, int mask);
/* HOST:PORT or [IPv6]:PORT, HOST numeric or a name (resolved now). 0, -EINVAL, or
 * -ENOENT when the name does not resolve. */
int nc_wg_endpoint_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* The same with a numeric HOST only (the UAPI: no name lookup in the event loop). */
int nc_wg_endpoint_parse_numeric(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* A decimal number lo..hi, the whole string: 0 or -EINVAL. */
int nc_wg_num_parse(const char *s, long lo, long hi, long *out);

#endif /* NETCON_WGCONF_H */
