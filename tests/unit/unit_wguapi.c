/*
 * unit_wguapi.c — the text of WireGuard's UAPI (src/link/wguapi.c): set requests parsed
 * as wireguard-go reads them (interface keys before the first public_key, peer keys
 * after it; replace_allowed_ips drops the allowed_ip lines before it; only "true" for
 * the flags; numeric endpoints), errors named without a key's value, and the get text
 * of a snapshot in wg(8)'s order, ending errno=0 and a blank line.
 *
 * Prints failures only, then "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/wguapi.h"

#include "check.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"

static int parse(struct nc_wg_uapi_set *s, const char *text, char *err, size_t errlen)
{
	return nc_wg_uapi_parse_set(s, text, strlen(text), err, errlen);
}

int main(void)
{
	struct nc_wg_uapi_set s;
	char err[256];
	int r;

	r = parse(&s, "private_key=" K1 "\nlisten_port=51820\nfwmark=7\nreplace_peers=true\n"
		  "public_key=" K2 "\npreshared_key=" K1 "\nendpoint=[::1]:9\n"
		  "persistent_keepalive_interval=25\nallowed_ip=10.0.0.0/8\n"
		  "replace_allowed_ips=true\nallowed_ip=10.1.2.3/24\nallowed_ip=fd00::1/64\n"
		  "protocol_version=1\npublic_key=" K1 "\nremove=true\n"
		  "public_key=" K1 "\nupdate_only=true\n", err, sizeof(err));
	CHECK(r == 0, "a full request parses (%s)", err);
	CHECK(s.has_priv && s.priv[0] == 0x11 && s.listen_port == 51820 && s.has_fwmark &&
	      s.fwmark == 7 && s.replace_peers, "interface keys");
	CHECK(s.n_peers == 3, "three peer blocks (%d)", s.n_peers);
	if (s.n_peers == 3) {
		struct nc_wg_uapi_peer *p = &s.peers[0];

		CHECK(p->pub[0] == 0x22 && p->psk[31] == 0x11, "the first peer's keys");
		CHECK(p->set == (NC_WG_SET_PSK | NC_WG_SET_ENDPOINT | NC_WG_SET_KEEPALIVE |
				 NC_WG_SET_REPLACE_IPS), "its flags (%#x)", p->set);
		CHECK(p->ep.ss_family == AF_INET6 &&
		      ntohs(((struct sockaddr_in6 *)&p->ep)->sin6_port) == 9, "its endpoint");
		CHECK(p->keepalive == 25, "its keepalive");
		CHECK(p->n_allowed == 2 && s.n_allowed == 2, "replace_allowed_ips dropped the "
		      "allowed_ip before it (%d)", p->n_allowed);
		CHECK(s.n_allowed == 2 && s.allowed[0].family == AF_INET && s.allowed[0].cidr == 24 &&
		      s.allowed[0].addr[3] == 0, "host bits cleared");
		CHECK(s.peers[1].set == NC_WG_SET_REMOVE && s.peers[2].set == NC_WG_SET_UPDATE_ONLY &&
		      s.peers[2].first_allowed == 2 && s.peers[2].n_allowed == 0, "remove, update_only");
	}
	nc_wg_uapi_set_free(&s);

	struct {
		const char *text;
		int want;
		const char *msg;
	} bad[] = {
		{ "public_key=" K1 "\nlisten_port=1\n", -EINVAL, "unknown peer key: 'listen_port=1'" },
		{ "protocol_version=1\n", -EINVAL, "unknown interface key" },
		{ "replace_peers=false\n", -EINVAL, "only true" },
		{ "public_key=" K1 "\nremove=1\n", -EINVAL, "only true" },
		{ "listen_port=65536\n", -EINVAL, "bad listen_port" },
		{ "private_key=" K1 "0\n", -EINVAL, "bad private_key" },
		{ "public_key=" K1 "\npreshared_key=zz\n", -EINVAL, "bad preshared_key" },
		{ "public_key=12\n", -EINVAL, "bad public_key" },
		{ "public_key=" K1 "\nendpoint=localhost:1\n", -EINVAL, "bad endpoint" },
		{ "public_key=" K1 "\nendpoint=10.0.0.1\n", -EINVAL, "bad endpoint" },
		{ "public_key=" K1 "\nallowed_ip=10.0.0.1\n", -EINVAL, "bad allowed_ip" },
		{ "public_key=" K1 "\nprotocol_version=2\n", -EINVAL, "unknown protocol_version" },
		{ "hello\n", -EPROTO, "a line without '='" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse(&s, bad[i].text, err, sizeof(err));
		CHECK(r == bad[i].want && strstr(err, bad[i].msg), "'%s': %d '%s'", bad[i].text, r,
		      err);
		nc_wg_uapi_set_free(&s);
	}
	r = parse(&s, "private_key=" K1 "0\n", err, sizeof(err));
	CHECK(!strstr(err, K1), "a key's value is not in the message: %s", err);
	nc_wg_uapi_set_free(&s);
	{
		char line[NC_WG_UAPI_MAX_LINE + 16];

		memset(line, 'a', sizeof(line));
		line[sizeof(line) - 1] = '\0';
		r = parse(&s, line, err, sizeof(err));
		CHECK(r == -EMSGSIZE, "an over-long line (%d)", r);
		nc_wg_uapi_set_free(&s);
	}
	r = nc_wg_uapi_parse_set(&s, "listen_port=1\0\n", 15, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "NUL"), "a NUL byte (%d %s)", r, err);
	nc_wg_uapi_set_free(&s);
	r = parse(&s, "listen_port=5\n\nlisten_port=x\n", err, sizeof(err));
	CHECK(r == 0 && s.listen_port == 5, "a blank line ends the request");
	nc_wg_uapi_set_free(&s);

	/* get */
	{
		struct nc_wg_peer_state ps[1];
		struct nc_wg_prefix al[2];
		struct nc_wg_state st = { .peers = ps, .n_peers = 1, .allowed = al, .n_allowed = 2,
					  .listen_port = 51820 };
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ps[0].ep;
		char *text;
		size_t len;

		memset(ps, 0, sizeof(ps));
		memset(st.priv, 0xab, 32);
		memset(ps[0].pub, 0x01, 32);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(4242);
		inet_pton(AF_INET, "192.0.2.7", &s4->sin_addr);
		ps[0].last_handshake.tv_sec = 1700000000;
		ps[0].last_handshake.tv_nsec = 5;
		ps[0].rx_bytes = 10;
		ps[0].tx_bytes = 20;
		ps[0].keepalive = 25;
		ps[0].n_allowed = 2;
		nc_wg_prefix_parse(&al[0], "10.9.0.0/16", 1);
		nc_wg_prefix_parse(&al[1], "fd00::/64", 1);
		CHECK(nc_wg_uapi_get_text(&st, &text, &len) == 0, "get text");
		CHECK(len == strlen(text) && !strcmp(text,
			"private_key=abababababababababababababababababababababababababababababababab\n"
			"listen_port=51820\n"
			"public_key=0101010101010101010101010101010101010101010101010101010101010101\n"
			"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
			"protocol_version=1\nendpoint=192.0.2.7:4242\n"
			"last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n"
			"tx_bytes=20\nrx_bytes=10\npersistent_keepalive_interval=25\n"
			"allowed_ip=10.9.0.0/16\nallowed_ip=fd00::/64\nerrno=0\n\n"), "the get text:\n%s", text);
		free(text);
	}
	printf("unit_wguapi: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
