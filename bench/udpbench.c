/*
 * bench/udpbench.c — what a datagram costs in seccomp mode against preload mode and the
 * kernel (docs/benchmarks.md), with plain blocking sockets so that it runs unchanged
 * under either mode of `netcon intercept`.
 *
 *   udpbench cont COUNT                 COUNT sendmsg + recvmsg of 1 byte on a kernel
 *                                       AF_UNIX SOCK_DGRAM pair (calls a seccomp filter
 *                                       traps and hands back: CONTINUE); prints "ns_per_pair"
 *   udpbench echo PORT                  echo server on 0.0.0.0:PORT (recvfrom/sendto),
 *                                       until killed
 *   udpbench rtt IP PORT COUNT SIZE MODE
 *                                       COUNT round trips of SIZE bytes after 200 warm-up
 *                                       ones; MODE to: sendto/recvfrom (the address path),
 *                                       conn: connect + send/recv (native in seccomp mode);
 *                                       prints "p50_us p99_us mean_us"
 *   udpbench sink PORT COUNT SECS       receive (recvfrom) until COUNT datagrams or SECS
 *                                       seconds of silence; prints "got N pps MBps"
 *   udpbench flood IP PORT COUNT SIZE MODE
 *                                       send COUNT datagrams of SIZE bytes one way (MODE to
 *                                       or conn); prints "sent N pps"
 *
 * A failure is reported on stderr with the call and errno, exit status 1.
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SA(x) ((struct sockaddr *)&(x))

static void die(const char *what)
{
	fprintf(stderr, "udpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cont(long count)
{
	int sv[2];
	char c = 'x';
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	double t0;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	t0 = now_s();
	for (long i = 0; i < count; i++)
		if (sendmsg(sv[0], &m, 0) != 1 || recvmsg(sv[1], &m, 0) != 1)
			die("sendmsg/recvmsg");
	printf("%.0f\n", (now_s() - t0) / (double)count * 1e9);
	return 0;
}

static _Noreturn void echo(int port)
{
	static char b[65536];
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, SA(me), sizeof(me)) < 0)
		die("bind");
	printf("listening on port %d\n", port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), 0, SA(from), &fl);
		if (n < 0)
			die("recvfrom");
		if (sendto(fd, b, (size_t)n, 0, SA(from), fl) != n)
			die("sendto");
	}
}

static int client_socket(const char *ip, int port, int conn, struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, ip, &to->sin_addr) != 1)
		die("socket");
	if (conn && connect(fd, (struct sockaddr *)to, sizeof(*to)) < 0)
		die("connect");
	return fd;
}

static int rtt(const char *ip, int port, long count, size_t size, int conn)
{
	static char b[65536];
	struct sockaddr_in to;
	int fd = client_socket(ip, port, conn, &to);
	double *t = calloc((size_t)count, sizeof(double)), sum = 0;

	if (!t)
		die("calloc");
	memset(b, 'u', size);
	for (long i = -200; i < count; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		double t0 = now_s();
		ssize_t n = conn ? send(fd, b, size, 0) : sendto(fd, b, size, 0, SA(to), sizeof(to));

		if (n != (ssize_t)size)
			die("send");
		if (poll(&p, 1, 2000) != 1) {
			errno = ETIMEDOUT;
			die("no echo in 2 s");
		}
		n = conn ? recv(fd, b, sizeof(b), 0) : recvfrom(fd, b, sizeof(b), 0, SA(from), &fl);
		if (n != (ssize_t)size)
			die("recv");
		if (i >= 0) {
			t[i] = (now_s() - t0) * 1e6;
			sum += t[i];
		}
	}
	qsort(t, (size_t)count, sizeof(double), cmp_double);
	printf("%.1f %.1f %.1f\n", t[count / 2], t[count * 99 / 100], sum / (double)count);
	return 0;
}

static int sink(int port, long count, int secs)
{
	static char b[65536];
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	double t0 = 0, t1 = 0, bytes = 0;
	long got = 0;

	if (fd < 0 || bind(fd, SA(me), sizeof(me)) < 0)
		die("bind");
	printf("listening on port %d\n", port);
	fflush(stdout);
	while (got < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, got ? secs * 1000 : 60000) != 1)
			break;
		n = recvfrom(fd, b, sizeof(b), 0, SA(from), &fl);
		if (n < 0)
			die("recvfrom");
		t1 = now_s();
		if (!got)
			t0 = t1;
		got++;
		bytes += (double)n;
	}
	printf("got %ld %.0f %.1f\n", got, got > 1 ? (double)(got - 1) / (t1 - t0) : 0,
	       got > 1 ? bytes / (t1 - t0) / 1e6 : 0);
	return 0;
}

static int flood(const char *ip, int port, long count, size_t size, int conn)
{
	static char b[65536];
	struct sockaddr_in to;
	int fd = client_socket(ip, port, conn, &to);
	double t0 = now_s();

	memset(b, 'f', size);
	for (long i = 0; i < count; i++) {
		ssize_t n = conn ? send(fd, b, size, 0) : sendto(fd, b, size, 0, SA(to), sizeof(to));
		if (n != (ssize_t)size)
			die("send");
	}
	printf("sent %ld %.0f\n", count, (double)count / (now_s() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "cont"))
		return cont(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "echo"))
		echo(atoi(argv[2]));
	if (argc == 7 && !strcmp(argv[1], "rtt"))
		return rtt(argv[2], atoi(argv[3]), atol(argv[4]), (size_t)atol(argv[5]),
			   !strcmp(argv[6], "conn"));
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return sink(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc == 7 && !strcmp(argv[1], "flood"))
		return flood(argv[2], atoi(argv[3]), atol(argv[4]), (size_t)atol(argv[5]),
			     !strcmp(argv[6], "conn"));
	fprintf(stderr, "usage: udpbench cont COUNT | echo PORT | rtt IP PORT COUNT SIZE to|conn "
			"| sink PORT COUNT SECS | flood IP PORT COUNT SIZE to|conn\n");
	return 2;
}
