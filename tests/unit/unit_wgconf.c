/*
 * unit_wgconf.c — wg(8)'s configuration format (src/link/wgconf.c): a full file with
 * comments, odd spacing and case, a wg-quick file, the key codecs, and bad input, each
 * error naming the file and the right line. The keys were made with Debian's wg
 * (`wg genkey`, `wg pubkey`, `wg genpsk`).
 *
 * Prints failures only, then "N passed, N failed"; exit status 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/wgconf.h"

#include "check.h"

#define PRIV_A "cFw8P6QeSg1KQlRRqwDiddd0OvHdodyCwCo+dmy+Dlg="
#define PUB_B  "p6Wn6KNKb1Mr0dzuepKQcLQkMkP4FJfu+j3wzug/C0k="
#define PUB_C  "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCHUgc="
#define PSK    "pAo6IbS9ZAmG82qif2muIzpLXnUj9aZnEsRLjtWrl7o="

static struct nc_wg_config cfg;
static char err[512];

static int parse(const char *text)
{
	err[0] = '\0';
	return nc_wg_config_parse(&cfg, "wg0.conf", text, strlen(text), err, sizeof(err));
}

static void test_full(void)
{
	const char *text =
		"# a comment\n"
		"[Interface]\n"
		"PrivateKey = " PRIV_A "\n"
		"  listenport=51820   # trailing comment\n"
		"FwMark = 0x10\n"
		"\n"
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"PresharedKey = " PSK "\n"
		"AllowedIPs = 10.9.0.2/32, fd00:9::/64\n"
		"AllowedIPs = 192.168.7.77/24\n"
		"Endpoint = 127.0.0.1:51821\n"
		"PersistentKeepalive = 25\n"
		"[peer]\n"
		"PublicKey = " PUB_C "\n"
		"Endpoint = [::1]:7\n"
		"PersistentKeepalive = off\n";
	uint8_t k[32];
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	CHECK(parse(text) == 0, "full file: %s", err);
	CHECK(cfg.has_priv == 1, "private key");
	nc_wg_key_from_base64(k, PRIV_A);
	CHECK(!memcmp(cfg.priv, k, 32), "private key bytes");
	CHECK(cfg.listen_port == 51820, "listen port %d", cfg.listen_port);
	CHECK(cfg.fwmark == 0x10, "fwmark %u", cfg.fwmark);
	CHECK(cfg.n_peers == 2, "two peers, got %d", cfg.n_peers);
	nc_wg_key_from_base64(k, PUB_B);
	CHECK(!memcmp(cfg.peers[0].pub, k, 32), "peer 0 public key");
	nc_wg_key_from_base64(k, PSK);
	CHECK(!memcmp(cfg.peers[0].psk, k, 32), "peer 0 psk");
	CHECK(cfg.peers[0].n_allowed == 3 && cfg.peers[0].first_allowed == 0,
	      "peer 0 allowed %d", cfg.peers[0].n_allowed);
	CHECK(cfg.allowed[0].family == AF_INET && cfg.allowed[0].cidr == 32, "10.9.0.2/32");
	CHECK(cfg.allowed[1].family == AF_INET6 && cfg.allowed[1].cidr == 64, "fd00:9::/64");
	inet_ntop(AF_INET, cfg.allowed[2].addr, a, sizeof(a));
	CHECK(!strcmp(a, "192.168.7.0") && cfg.allowed[2].cidr == 24,
	      "host bits cleared: %s/%d", a, cfg.allowed[2].cidr);
	s4 = (const struct sockaddr_in *)&cfg.peers[0].endpoint;
	CHECK(s4->sin_family == AF_INET && ntohs(s4->sin_port) == 51821 &&
	      s4->sin_addr.s_addr == htonl(0x7f000001), "endpoint 127.0.0.1:51821");
	CHECK(cfg.peers[0].keepalive == 25, "keepalive 25");
	CHECK(cfg.peers[1].n_allowed == 0, "peer 1 has no AllowedIPs");
	s6 = (const struct sockaddr_in6 *)&cfg.peers[1].endpoint;
	CHECK(s6->sin6_family == AF_INET6 && ntohs(s6->sin6_port) == 7, "endpoint [::1]:7");
	CHECK(cfg.peers[1].keepalive == 0, "keepalive off");
	memset(k, 0, 32);
	CHECK(!memcmp(cfg.peers[1].psk, k, 32), "no psk: zeros");
}

static void test_quick(void)
{
	const char *text =
		"[Interface]\n"
		"Address = 10.9.0.1/24, fd00:9::1/64\n"
		"PrivateKey = " PRIV_A "\n"
		"MTU = 1380\n"
		"DNS = 10.9.0.53\n"
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
		"SaveConfig = true\n"
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"AllowedIPs = 0.0.0.0/0, ::/0\n";
	char a[INET6_ADDRSTRLEN];

	CHECK(parse(text) == 0, "wg-quick file: %s", err);
	CHECK(cfg.n_addrs == 2, "two addresses");
	inet_ntop(AF_INET, cfg.addrs[0].addr, a, sizeof(a));
	CHECK(!strcmp(a, "10.9.0.1") && cfg.addrs[0].cidr == 24, "Address keeps host bits: %s", a);
	CHECK(cfg.addrs[1].family == AF_INET6 && cfg.addrs[1].cidr == 64, "IPv6 address");
	CHECK(cfg.mtu == 1380, "MTU");
	CHECK(cfg.n_ignored == 3, "DNS, PostUp, SaveConfig ignored: %d", cfg.n_ignored);
	CHECK(cfg.listen_port == -1, "no ListenPort");
	CHECK(cfg.allowed[0].cidr == 0 && cfg.allowed[1].cidr == 0, "default routes");
}

static void test_keys(void)
{
	uint8_t k[32], k2[32];
	char b[45], h[65];

	CHECK(nc_wg_key_from_base64(k, PUB_C) == 0, "decode");
	nc_wg_key_to_base64(b, k);
	CHECK(!strcmp(b, PUB_C), "round trip base64: %s", b);
	nc_wg_key_to_hex(h, k);
	CHECK(strlen(h) == 64 && nc_wg_key_from_hex(k2, h) == 0 && !memcmp(k, k2, 32), "hex");
	CHECK(!strncmp(h, "c5da5e93", 8), "hex of the first bytes: %.8s", h);
	CHECK(nc_wg_key_from_base64(k, "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCHUgc") < 0,
	      "43 characters");
	CHECK(nc_wg_key_from_base64(k, "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCHUgcA") < 0,
	      "no '='");
	CHECK(nc_wg_key_from_base64(k, "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCHUgd=") < 0,
	      "unused bits set");
	CHECK(nc_wg_key_from_base64(k, "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCH!gc=") < 0,
	      "bad character");
	CHECK(nc_wg_key_from_hex(k, "zz") < 0, "bad hex");
}

/* Bad input: the message names the file and the line, and says what is wrong. */
static void bad(const char *text, const char *want)
{
	int r = parse(text);

	CHECK(r == -EINVAL, "'%s' accepted (%d)", want, r);
	CHECK(strstr(err, want) != NULL, "want '%s' in '%s'", want, err);
}

static void test_bad(void)
{
	bad("[Interface]\nPrivateKey = abc\n", "wg0.conf:2: bad PrivateKey");
	bad("[Interface]\nListenPort = 70000\n", "wg0.conf:2: bad ListenPort '70000'");
	bad("[Interface]\nListenPort = -1\n", "wg0.conf:2: bad ListenPort");
	bad("[Interface]\nColor = blue\n", "wg0.conf:2: unknown key 'Color' in [Interface]");
	bad("PrivateKey = " PRIV_A "\n", "wg0.conf:1: 'PrivateKey' before any");
	bad("[Interface]\n[Peers]\n", "wg0.conf:2: unknown section '[Peers]'");
	bad("[Interface]\njunk\n", "wg0.conf:2: 'junk' is neither");
	bad("[Peer]\nAllowedIPs = 10.0.0.1/24\n", "wg0.conf:1: [Peer] without a PublicKey");
	bad("[Peer]\nPublicKey = " PUB_B "\n[Peer]\nAllowedIPs = 1.2.3.4\n",
	    "wg0.conf:3: [Peer] without a PublicKey");
	bad("[Peer]\nPublicKey = " PUB_B "\nAllowedIPs = 10.0.0.1/33\n",
	    "wg0.conf:3: bad address '10.0.0.1/33'");
	bad("[Peer]\nPublicKey = " PUB_B "\nAllowedIPs = 10.0.0.1,,10.0.0.2\n",
	    "wg0.conf:3: bad AllowedIPs");
	bad("[Peer]\nPublicKey = " PUB_B "\nEndpoint = 127.0.0.1\n", "wg0.conf:3: bad Endpoint");
	bad("[Peer]\nPublicKey = " PUB_B "\nEndpoint = ::1:80\n", "wg0.conf:3: bad Endpoint");
	bad("[Peer]\nPublicKey = " PUB_B "\nEndpoint = 127.0.0.1:0\n", "wg0.conf:3: bad Endpoint");
	bad("[Peer]\nPublicKey = " PUB_B "\nPersistentKeepalive = 1h\n",
	    "wg0.conf:3: bad PersistentKeepalive");
	bad("[Peer]\nPublicKey = " PUB_B "\nPresharedKey = " PUB_B "x\n",
	    "wg0.conf:3: bad PresharedKey");
	bad("[Peer]\nPublicKey = " PUB_B "\nColor = red\n", "wg0.conf:3: unknown key 'Color' in [Peer]");
	bad("[Peer]\nPublicKey = " PUB_B "\n\n[Peer]\nPublicKey = " PUB_B "\n",
	    "wg0.conf:4: this peer's PublicKey is also the one of the [Peer] at line 1");
	bad("[Interface]\nMTU = 100\n", "wg0.conf:2: bad MTU");
	bad("[Interface]\nAddress = 10.0.0.300/24\n", "wg0.conf:2: bad address '10.0.0.300/24'");
	bad("[Interface]\nFwMark = lots\n", "wg0.conf:2: bad FwMark");
	{
		static const char nul[] = "[Interface]\nPrivate\0Key = x\n";
		int r = nc_wg_config_parse(&cfg, "wg0.conf", nul, sizeof(nul) - 1, err, sizeof(err));
		CHECK(r == -EINVAL && strstr(err, "wg0.conf:2: a NUL byte"), "NUL: %s", err);
	}
	CHECK(nc_wg_config_load(&cfg, "/nonexistent/wg0.conf", err, sizeof(err)) == -ENOENT &&
	      strstr(err, "/nonexistent/wg0.conf: No such file"), "missing file: %s", err);
}

static void test_prefix(void)
{
	struct nc_wg_prefix p;

	CHECK(nc_wg_prefix_parse(&p, "fd00::1", 1) == 0 && p.cidr == 128, "IPv6 host");
	CHECK(nc_wg_prefix_parse(&p, "10.1.2.3/0", 1) == 0 && p.cidr == 0 &&
	      p.addr[0] == 0 && p.addr[3] == 0, "/0 clears all");
	CHECK(nc_wg_prefix_parse(&p, "10.1.2.3/", 1) < 0, "empty prefix length");
	CHECK(nc_wg_prefix_parse(&p, "/8", 1) < 0, "no address");
	CHECK(nc_wg_prefix_parse(&p, "fd00::/129", 1) < 0, "/129");
}

int main(void)
{
	test_full();
	test_quick();
	test_keys();
	test_bad();
	test_prefix();
	printf("unit_wgconf: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
