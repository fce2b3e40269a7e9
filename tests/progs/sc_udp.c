/*
 * sc_udp.c — a UDP echo server and clients for seccomp mode (tests/t_seccomp_udp.sh),
 * built statically (glibc and musl) so that no preloaded library can reach them.
 *
 *   sc_udp server PORT COUNT [MS]       bind 0.0.0.0:PORT, echo COUNT datagrams to their
 *                                       sources: recvfrom+sendto and recvmsg+sendmsg in
 *                                       turn; says "listening on port PORT"; with MS, sleep
 *                                       MS ms before the first receive (datagrams pile up)
 *   sc_udp client IP PORT N MODE ID     N datagrams of 1..8192 bytes (a pattern of the
 *                                       sequence number and ID), each echo checked byte
 *                                       for byte; MODE connect: connect + send/recv (the
 *                                       native calls); sendto: sendto/recvfrom, the echo's
 *                                       source checked; stop and wait, a lost datagram
 *                                       sent again (at most 20 times in all)
 *   sc_udp burst IP PORT K ID           send K datagrams of 100..1400 bytes at once with
 *                                       sendto, then take K echoes (recvfrom, 5 s at most
 *                                       each): every one is ours, from the server, whole
 *   sc_udp refused IP PORT              a connected socket to a closed port: the ICMP
 *                                       error fails a recvfrom with ECONNREFUSED once,
 *                                       then SO_ERROR says it after the next send
 *   sc_udp denied IP PORT [OKIP]        IP is a destination the --outbound policy denies:
 *                                       sendto on a fresh socket fails with EPERM, so does
 *                                       connect; with OKIP, a socket that sent to
 *                                       OKIP:PORT first (relayed) gets EPERM too
 *
 * Built static for seccomp mode (sc_udp_static, sc_udp_musl) and dynamic for preload
 * mode (sc_udp_dyn).
 * Exit status 0 when every check held; one line on stderr says what failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXLEN 8192
#define SA(x) ((struct sockaddr *)&(x))

static void die(const char *what)
{
	fprintf(stderr, "sc_udp: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "sc_udp: %s\n", what);
	exit(1);
}

/* Datagram k of client id: its length and bytes. */
static size_t fill(uint8_t *b, unsigned id, unsigned k)
{
	size_t len = 1 + (k * 2654435761u + id * 977u) % MAXLEN;

	if (k % 10 == 0)
		len = 8 + k % 8;   /* small ones too */
	memcpy(b, &k, 4);
	memcpy(b + 4, &id, 4);
	for (size_t i = 8; i < len; i++)
		b[i] = (uint8_t)(i * 31 + k * 7 + id);
	return len < 8 ? 8 : len;
}

static int server(int port, int count, int ms)
{
	static uint8_t b[65536];
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, SA(me), sizeof(me)) < 0)
		die("bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("listening on port %d\n", port);
	if (ms > 0)
		usleep((useconds_t)ms * 1000);
	for (int i = 0; i < count; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		memset(&from, 0, sizeof(from));
		if (i % 2 == 0) {
			n = recvfrom(fd, b, sizeof(b), 0, SA(from), &fl);
			if (n < 0)
				die("recvfrom");
			if (fl != sizeof(from) || from.sin_family != AF_INET || !from.sin_port)
				fail("recvfrom: no source address");
			if (sendto(fd, b, (size_t)n, 0, SA(from), fl) != n)
				die("sendto");
		} else {
			struct iovec iov[2] = { { b, 100 }, { b + 100, sizeof(b) - 100 } };
			struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from),
					    .msg_iov = iov, .msg_iovlen = 2 };
			n = recvmsg(fd, &m, 0);
			if (n < 0)
				die("recvmsg");
			if (m.msg_namelen != sizeof(from) || from.sin_family != AF_INET ||
			    (m.msg_flags & MSG_TRUNC))
				fail("recvmsg: no source address, or truncated");
			iov[1].iov_len = n > 100 ? (size_t)n - 100 : 0;
			iov[0].iov_len = n > 100 ? 100 : (size_t)n;
			m.msg_flags = 0;
			if (sendmsg(fd, &m, 0) != n)
				die("sendmsg");
		}
	}
	printf("echoed %d datagrams\n", count);
	return 0;
}

static int client(const char *ip, int port, unsigned n, int conn, unsigned id)
{
	static uint8_t out[MAXLEN], in[MAXLEN + 1];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), resent = 0;
	uint64_t bytes = 0;

	if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1)
		die("socket");
	if (conn) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		if (connect(fd, SA(to), sizeof(to)) < 0)
			die("connect");
		if (getpeername(fd, SA(a), &al) < 0 || a.sin_addr.s_addr != to.sin_addr.s_addr ||
		    a.sin_port != to.sin_port)
			fail("getpeername after connect");
		al = sizeof(a);
		if (getsockname(fd, SA(a), &al) < 0 || a.sin_port == 0 || a.sin_addr.s_addr == 0)
			fail("getsockname after connect");
	}
	for (unsigned k = 0; k < n; k++) {
		size_t len = fill(out, id, k);
		ssize_t r;
		int got = 0;

		while (!got) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			r = conn ? send(fd, out, len, 0) : sendto(fd, out, len, 0, SA(to), sizeof(to));
			if (r != (ssize_t)len)
				die(conn ? "send" : "sendto");
			while (!got && poll(&p, 1, 1000) == 1) {
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				unsigned seq;

				memset(&from, 0, sizeof(from));
				r = conn ? recv(fd, in, sizeof(in), 0) :
					   recvfrom(fd, in, sizeof(in), 0, SA(from), &fl);
				if (r < 0)
					die(conn ? "recv" : "recvfrom");
				if (!conn && (fl != sizeof(from) || from.sin_addr.s_addr !=
					      to.sin_addr.s_addr || from.sin_port != to.sin_port))
					fail("recvfrom: the echo's source is not the server");
				memcpy(&seq, in, 4);
				if (r >= 8 && seq < k)
					continue;   /* the echo of a datagram sent again */
				if ((size_t)r != len || memcmp(in, out, len) != 0) {
					fprintf(stderr, "sc_udp: datagram %u (%zu bytes): the echo "
						"differs (%zd bytes)\n", k, len, r);
					return 1;
				}
				got = 1;
			}
			if (!got && ++resent > 20)
				fail("more than 20 datagrams lost");
		}
		bytes += len;
	}
	printf("%u datagrams (%llu bytes) echoed and checked, %d sent again\n", n,
	       (unsigned long long)bytes, resent);
	return 0;
}

/* Burst datagram k of client id: 100..1399 bytes of the pattern; its length. */
static size_t fill_burst(uint8_t *b, unsigned id, unsigned k)
{
	size_t len = 100 + (k * 2654435761u + id) % 1300;

	memcpy(b, &k, 4);
	memcpy(b + 4, &id, 4);
	for (size_t i = 8; i < len; i++)
		b[i] = (uint8_t)(i * 29 + k * 3 + id);
	return len;
}

static int burst(const char *ip, int port, unsigned k, unsigned id)
{
	static uint8_t out[MAXLEN], in[MAXLEN + 1];
	static char seen[4096];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1 || k > sizeof(seen))
		die("socket");
	for (unsigned i = 0; i < k; i++) {
		size_t len = fill_burst(out, id, i);
		if (sendto(fd, out, len, 0, SA(to), sizeof(to)) != (ssize_t)len)
			die("sendto");
	}
	for (unsigned n = 0; n < k; n++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		unsigned seq, who;
		ssize_t r;

		if (poll(&p, 1, 5000) != 1) {
			fprintf(stderr, "sc_udp: burst %u: %u of %u echoes came\n", id, n, k);
			return 1;
		}
		r = recvfrom(fd, in, sizeof(in), 0, SA(from), &fl);
		if (r < 8)
			die("recvfrom");
		memcpy(&seq, in, 4);
		memcpy(&who, in + 4, 4);
		if (who != id || seq >= k || seen[seq]++)
			fail("burst: an echo that is not ours, or twice (a wrong source)");
		if (from.sin_addr.s_addr != to.sin_addr.s_addr || from.sin_port != to.sin_port)
			fail("burst: the echo's source is not the server");
		size_t len = fill_burst(out, id, seq);
		if ((size_t)r != len || memcmp(in, out, len) != 0)
			fail("burst: an echo differs");
	}
	printf("burst of %u datagrams echoed and checked\n", k);
	return 0;
}

static int refused(const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct pollfd p;
	char b[16];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;
	socklen_t el = sizeof(err);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);

	if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1 ||
	    connect(fd, SA(to), sizeof(to)) < 0)
		die("connect");
	if (send(fd, "x", 1, 0) != 1)
		die("send");
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1)
		fail("no ICMP error reached the socket in 3 s");
	if (recvfrom(fd, b, sizeof(b), 0, SA(from), &fl) != -1 || errno != ECONNREFUSED)
		fail("recvfrom after port unreachable: not ECONNREFUSED");
	if (recv(fd, b, sizeof(b), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("the error was reported twice");
	if (send(fd, "y", 1, 0) != 1)
		die("send 2");
	for (int i = 0; i < 30 && err == 0; i++) {
		usleep(100000);
		el = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			die("getsockopt");
	}
	if (err != ECONNREFUSED)
		fail("SO_ERROR after port unreachable: not ECONNREFUSED");
	if (recv(fd, b, sizeof(b), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("a receive after SO_ERROR found something");
	printf("refused ok\n");
	return 0;
}

/* A send or connect to a denied destination: EPERM, as netfilter's OUTPUT gives. */
static int denied(const char *ip, int port, const char *okip)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in ok = to;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1)
		die("socket");
	if (sendto(fd, "denied", 6, 0, SA(to), sizeof(to)) >= 0)
		fail("sendto to a denied destination succeeded");
	if (errno != EPERM)
		die("sendto to a denied destination (EPERM expected)");
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(fd, SA(to), sizeof(to)) == 0)
		fail("connect to a denied destination succeeded");
	if (errno != EPERM)
		die("connect to a denied destination (EPERM expected)");
	close(fd);
	if (okip) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (inet_pton(AF_INET, okip, &ok.sin_addr) != 1)
			fail("bad OKIP");
		if (sendto(fd, "allowed", 7, 0, SA(ok), sizeof(ok)) != 7)
			die("sendto to an allowed destination");
		if (sendto(fd, "denied", 6, 0, SA(to), sizeof(to)) >= 0)
			fail("sendto to a denied destination succeeded after an allowed one");
		if (errno != EPERM)
			die("sendto to a denied destination after an allowed one (EPERM expected)");
		close(fd);
	}
	printf("denied ok: EPERM from sendto and connect%s\n", okip ? ", and after an allowed send" : "");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
	if (argc == 6 && !strcmp(argv[1], "burst"))
		return burst(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]),
			      !strcmp(argv[5], "connect"), (unsigned)atoi(argv[6]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "denied"))
		return denied(argv[2], atoi(argv[3]), argc == 5 ? argv[4] : NULL);
	if (argc == 4 && !strcmp(argv[1], "refused"))
		return refused(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: sc_udp server PORT COUNT [MS] | client IP PORT N connect|sendto ID "
			"| burst IP PORT K ID | refused IP PORT\n");
	return 2;
}
