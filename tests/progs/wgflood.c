/*
 * wgflood.c — a flood of WireGuard initiations at one UDP port, for tests/t_wg_proto.sh.
 *
 *     wgflood PUBKEY HOST PORT RATE SECONDS [mac2]
 *
 * Sends RATE initiations a second for SECONDS to HOST:PORT, each with a valid MAC1 for
 * PUBKEY (the responder's public key, base64) and a new sender index, from an initiator
 * whose static key no one knows: what a responder must check before its Diffie-Hellman
 * work, and all an attacker who knows the public key can make cheaply. One initiation is
 * made with the link's own handshake code (src/link/wgnoise.c); the others are that one
 * with another sender index and its MAC1 made again. Cookie replies that come back are
 * counted, and opened with the MAC1 of the initiation each answers (the receiver index
 * names it): an authentic reply decrypts. With `mac2`, the flood is an attacker that
 * can receive at its address: from the first authentic cookie on (and the newest after)
 * every initiation carries a valid MAC2, which only a per-source rate limit stops.
 *
 * Output: `wgflood: N initiations sent, M cookie replies, K authentic, L with MAC2`;
 * exit status 0, or 2 on bad arguments (one line on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link/wgconf.h"
#include "link/wgnoise.h"

#define RING 65536   /* MAC1s kept by sender index */

static uint8_t mac1s[RING][16];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what came back: cookie replies counted, the authentic ones too. */
static uint8_t cookie[16];
static int have_cookie;

static void drain(int fd, const uint8_t pub[32], uint32_t sent, unsigned long *replies,
		  unsigned long *authentic)
{
	uint8_t buf[256];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		uint32_t idx;

		if (n != NC_WG_COOKIE_LEN || buf[0] != NC_WG_MSG_COOKIE)
			continue;
		(*replies)++;
		idx = nc_wg_le32(buf + 4);
		if (idx < sent && sent - idx <= RING &&
		    nc_wg_cookie_reply_consume(pub, mac1s[idx % RING], buf, cookie) == 0) {
			(*authentic)++;
			have_cookie = 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct nc_wg_static me;
	struct nc_wg_handshake hs;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	uint8_t pub[32], priv[32], mypub[32], psk[32] = { 0 }, ts[12], msg[NC_WG_INIT_LEN];
	unsigned long replies = 0, authentic = 0, with_mac2 = 0;
	char why[128];
	uint32_t sent = 0;
	long rate, secs;
	double t0;
	int fd, mac2 = argc == 7 && !strcmp(argv[6], "mac2");

	if ((argc != 6 && !mac2) || nc_wg_key_from_base64(pub, argv[1]) < 0 ||
	    (rate = strtol(argv[4], NULL, 10)) < 1 || rate > 1000000 ||
	    (secs = strtol(argv[5], NULL, 10)) < 1 || secs > 600) {
		fprintf(stderr, "usage: wgflood PUBKEY(base64) HOST PORT RATE(1..1000000) "
			"SECONDS(1..600) [mac2]\n");
		return 2;
	}
	if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0) {
		fprintf(stderr, "wgflood: cannot resolve %s port %s\n", argv[2], argv[3]);
		return 2;
	}
	if (nc_wg_crypto_init(why, sizeof(why)) < 0) {
		fprintf(stderr, "wgflood: %s\n", why);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "wgflood: %s\n", strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	nc_wg_keygen(priv, mypub);
	nc_wg_static_init(&me, priv);
	nc_wg_tai64n(ts, (uint64_t)time(NULL), 0);
	if (nc_wg_init_create(&me, &hs, pub, psk, 0, ts, msg) < 0) {
		fprintf(stderr, "wgflood: cannot make an initiation\n");
		return 1;
	}
	t0 = now_s();
	for (;;) {
		double el = now_s() - t0;
		uint32_t due = (uint32_t)(el * (double)rate);

		if (el >= (double)secs)
			break;
		for (; sent < due; sent++) {
			nc_wg_put_le32(msg + 4, sent);
			nc_wg_macs_add(msg, sizeof(msg), pub, mac2 && have_cookie ? cookie : NULL);
			with_mac2 += (unsigned long)(mac2 && have_cookie);
			memcpy(mac1s[sent % RING], msg + NC_WG_INIT_LEN - 32, 16);
			if (send(fd, msg, sizeof(msg), 0) < 0 && errno != ECONNREFUSED &&
			    errno != ENOBUFS && errno != EAGAIN)
				break;
		}
		drain(fd, pub, sent, &replies, &authentic);
		usleep(1000);
	}
	usleep(200000);
	drain(fd, pub, sent, &replies, &authentic);
	printf("wgflood: %lu initiations sent, %lu cookie replies, %lu authentic, %lu with MAC2\n",
	       (unsigned long)sent, replies, authentic, with_mac2);
	close(fd);
	return 0;
}
