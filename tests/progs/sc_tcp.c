/*
 * sc_tcp.c — a TCP client and server for seccomp mode (tests/t_seccomp.sh), built
 * statically (glibc and musl) so that no preloaded library can reach it, and with -DRAW
 * making every socket call with the `syscall` instruction itself (no libc wrapper).
 *
 *   sc_tcp server PORT CONNS           accept CONNS connections (blocking accept), one at
 *                                      a time; each: read to EOF, answer "<bytes> <hash>"
 *   sc_tcp nbserver PORT CONNS         the same with a non-blocking listener and poll()
 *   sc_tcp client IP PORT BYTES [nb]   connect (blocking, or non-blocking + poll + SO_ERROR
 *                                      with nb), send BYTES of a pattern, SHUT_WR, check
 *                                      the answer and getpeername/getsockname
 *   sc_tcp threads IP PORT N           N threads connect to IP:PORT (each as `client` with
 *                                      4 KiB) while one more thread blocks in accept() on
 *                                      a listener nobody connects to; all N must finish
 *   sc_tcp signals MYIP                a signal interrupts a blocked accept on a listener
 *                                      of MYIP (the service's own address): EINTR without
 *                                      SA_RESTART; with SA_RESTART the call goes on and
 *                                      takes the connection a thread then makes
 *   sc_tcp sigconnect IP PORT          a signal interrupts a blocked connect to IP:PORT+1
 *                                      (nobody listens), whose host is silent (its service
 *                                      stopped, or a blackhole route): EINTR without
 *                                      SA_RESTART; then, to IP:PORT,
 *                                      "restart: connecting" and, with SA_RESTART, the
 *                                      call goes on and succeeds once the host answers
 *                                      again (the script resumes it), 64 KiB checked
 *   sc_tcp checks IP                   errors as the kernel gives them: EFAULT for bad
 *                                      pointers, EAGAIN, EINVAL after shutdown, ENOTCONN;
 *                                      io_uring_setup fails with ENOSYS; a UDP connect to
 *                                      the virtual address IP is served (getpeername)
 *
 * Exit status 0 when every check held; one line on stderr says what failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef RAW
/* The socket calls through the syscall instruction, as Go's runtime makes them. */
static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#define R(nr, a, b, c, d, e) raw6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define x_socket(d, t, p)          (int)R(SYS_socket, d, t, p, 0, 0)
#define x_connect(f, a, l)         (int)R(SYS_connect, f, a, l, 0, 0)
#define x_bind(f, a, l)            (int)R(SYS_bind, f, a, l, 0, 0)
#define x_listen(f, b)             (int)R(SYS_listen, f, b, 0, 0, 0)
#define x_accept(f, a, l)          (int)R(SYS_accept, f, a, l, 0, 0)
#define x_getsockname(f, a, l)     (int)R(SYS_getsockname, f, a, l, 0, 0)
#define x_getpeername(f, a, l)     (int)R(SYS_getpeername, f, a, l, 0, 0)
#define x_setsockopt(f, l, n, v, s) (int)R(SYS_setsockopt, f, l, n, v, s)
#define x_getsockopt(f, l, n, v, s) (int)R(SYS_getsockopt, f, l, n, v, s)
#define x_shutdown(f, h)           (int)R(SYS_shutdown, f, h, 0, 0, 0)
#define MODE_NAME "raw syscalls"
#else
#define x_socket socket
#define x_connect connect
#define x_bind bind
#define x_listen listen
#define x_accept accept
#define x_getsockname getsockname
#define x_getpeername getpeername
#define x_setsockopt setsockopt
#define x_getsockopt getsockopt
#define x_shutdown shutdown
#define MODE_NAME "libc"
#endif

#define SA(p) ((struct sockaddr *)(p))

static void die(const char *what)
{
	fprintf(stderr, "sc_tcp (%s): %s: %s\n", MODE_NAME, what, strerror(errno));
	exit(1);
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* FNV-1a, 64 bits. */
static uint64_t hash_add(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
#define HASH0 0xcbf29ce484222325ull

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve_one(int c)
{
	uint8_t buf[65536];
	uint64_t h = HASH0, total = 0;
	char ans[64];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		h = hash_add(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	snprintf(ans, sizeof(ans), "%llu %016llx\n", (unsigned long long)total,
		 (unsigned long long)h);
	if (write_all(c, ans, strlen(ans)) < 0)
		die("write answer");
	close(c);
}

static int listener(int port, int nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in got;
	socklen_t gl = sizeof(got);
	int s = x_socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0), one = 1, v = 0;
	socklen_t vl = sizeof(v);

	if (s < 0)
		die("socket");
	if (x_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt SO_REUSEADDR");
	if (x_bind(s, SA(&a), sizeof(a)) < 0)
		die("bind");
	if (x_listen(s, 64) < 0)
		die("listen");
	if (x_getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) < 0 || v != 1)
		die("getsockopt SO_ACCEPTCONN is not 1");
	if (x_getsockname(s, SA(&got), &gl) < 0 || gl != sizeof(got) ||
	    (port ? got.sin_port != a.sin_port : got.sin_port == 0))
		die("getsockname of the listener");
	return s;
}

static int server(int port, int conns, int nonblock)
{
	int s = listener(port, nonblock);

	printf("listening on port %d\n", port);
	fflush(stdout);
	for (int i = 0; i < conns; i++) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int c;

		if (nonblock) {
			struct pollfd p = { .fd = s, .events = POLLIN };
			while ((c = x_accept(s, SA(&peer), &pl)) < 0 && errno == EAGAIN)
				if (poll(&p, 1, 30000) <= 0)
					die("poll on the listener");
		} else {
			while ((c = x_accept(s, SA(&peer), &pl)) < 0 && errno == EINTR)
				;
		}
		if (c < 0)
			die("accept");
		if (pl != sizeof(peer) || peer.sin_family != AF_INET)
			die("accept's peer address");
		serve_one(c);
	}
	close(s);
	return 0;
}

struct client_arg {
	const char *ip;
	int port, nb;
	size_t bytes;
	int ok;
};

static int client_run(const char *ip, int port, size_t bytes, int nb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	uint8_t buf[65536];
	uint64_t h = HASH0, sent = 0, got_n = 0;
	unsigned long long got_h = 0;
	char ans[64];
	size_t have = 0;
	int s, one = 1;
	ssize_t n;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "sc_tcp: bad address %s\n", ip);
		return -1;
	}
	s = x_socket(AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	if (s < 0)
		die("socket");
	if (x_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt TCP_NODELAY");
	if (x_connect(s, SA(&a), sizeof(a)) < 0) {
		int err = 0;
		socklen_t el = sizeof(err);
		struct pollfd p = { .fd = s, .events = POLLOUT };

		if (!nb || errno != EINPROGRESS)
			die("connect");
		if (poll(&p, 1, 30000) != 1)
			die("poll for the connect");
		if (x_getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			die("getsockopt SO_ERROR");
		if (err) {
			errno = err;
			die("connect (SO_ERROR)");
		}
		fcntl(s, F_SETFL, 0);
	}
	if (x_getpeername(s, SA(&peer), &pl) < 0 || pl != sizeof(peer) ||
	    peer.sin_addr.s_addr != a.sin_addr.s_addr || peer.sin_port != a.sin_port)
		die("getpeername differs from the address connected to");
	if (x_getsockname(s, SA(&local), &ll) < 0 || ll != sizeof(local) || local.sin_port == 0)
		die("getsockname of the connection");
	while (sent < bytes) {
		size_t k = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pat(sent + i);
		h = hash_add(h, buf, k);
		if (write_all(s, buf, k) < 0)
			die("write");
		sent += k;
	}
	if (x_shutdown(s, SHUT_WR) < 0)
		die("shutdown");
	while (have < sizeof(ans) - 1 && (n = read(s, ans + have, sizeof(ans) - 1 - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read answer");
		have += (size_t)n;
	}
	ans[have] = '\0';
	close(s);
	if (sscanf(ans, "%llu %llx", (unsigned long long *)&got_n, &got_h) != 2 ||
	    got_n != bytes || got_h != h) {
		fprintf(stderr, "sc_tcp: the server saw '%s', want %zu bytes, hash %016llx\n",
			ans, bytes, (unsigned long long)h);
		return -1;
	}
	return 0;
}

static void *client_thread(void *p)
{
	struct client_arg *a = p;

	a->ok = client_run(a->ip, a->port, a->bytes, a->nb) == 0;
	return NULL;
}

static void *blocked_accept(void *p)
{
	int s = *(int *)p;

	if (x_accept(s, NULL, NULL) >= 0)   /* nobody connects: blocks until the process exits */
		fprintf(stderr, "sc_tcp: a connection nobody made was accepted\n");
	return NULL;
}

static int threads(const char *ip, int port, int n)
{
	struct client_arg args[64];
	pthread_t th[64], acc;
	int lst, ok = 0;
	struct timespec t0, t1;

	if (n < 1 || n > 64)
		return 2;
	/* A listener on loopback... no: on the virtual network, a port nobody uses. */
	lst = listener(port + 1, 0);
	if (pthread_create(&acc, NULL, blocked_accept, &lst) != 0)
		die("pthread_create");
	usleep(100 * 1000);   /* let it block in accept first */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		args[i] = (struct client_arg){ .ip = ip, .port = port, .bytes = 4096, .nb = i & 1 };
		if (pthread_create(&th[i], NULL, client_thread, &args[i]) != 0)
			die("pthread_create");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		ok += args[i].ok;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%d of %d threads connected and checked in %ld ms while a thread blocked in accept\n",
	       ok, n, (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return ok == n ? 0 : 1;
}

static void expect(int r, int want, const char *what)
{
	if (r >= 0 || errno != want) {
		fprintf(stderr, "sc_tcp (%s): %s: got %d (%s), want %s\n", MODE_NAME, what, r,
			r < 0 ? strerror(errno) : "success", strerror(want));
		exit(1);
	}
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static struct sockaddr_in self_addr;

static void *self_connect(void *p)
{
	int s = x_socket(AF_INET, SOCK_STREAM, 0);

	(void)p;
	usleep(400 * 1000);   /* after the signal */
	if (x_connect(s, SA(&self_addr), sizeof(self_addr)) < 0)
		die("connect to our own listener");
	return (void *)(intptr_t)s;
}

static int signals(const char *ip)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 150 * 1000 } };
	socklen_t l = sizeof(self_addr);
	pthread_t th;
	int lst, c;

	lst = listener(0, 0);
	if (x_getsockname(lst, SA(&self_addr), &l) < 0)
		die("getsockname");
	if (inet_pton(AF_INET, ip, &self_addr.sin_addr) != 1)
		return 2;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	expect(x_accept(lst, NULL, NULL), EINTR, "accept interrupted without SA_RESTART");
	if (alarms != 1)
		die("accept: EINTR without the signal");
	printf("accept: EINTR after the signal\n");
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	if (pthread_create(&th, NULL, self_connect, NULL) != 0)
		die("pthread_create");
	c = x_accept(lst, NULL, NULL);
	if (c < 0)
		die("accept with SA_RESTART (interrupted, restarted)");
	pthread_join(th, NULL);
	if (alarms != 1) {
		fprintf(stderr, "sc_tcp (%s): %d signal(s) during the restarted accept\n",
			MODE_NAME, (int)alarms);
		return 1;
	}
	printf("accept: restarted after the signal, took the connection\n");
	printf("signals ok\n");
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int sigconnect(const char *ip, int port)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 150 * 1000 } };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timespec t0;
	long ms;
	int s;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return 2;
	/* The interrupted connect goes to a port nobody listens on: once the host answers,
	 * it refuses it, and the server's one connection is the restarted connect's. */
	a.sin_port = htons((uint16_t)(port + 1));
	sigaction(SIGALRM, &sa, NULL);
	s = x_socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &it, NULL);
	expect(x_connect(s, SA(&a), sizeof(a)), EINTR, "connect interrupted without SA_RESTART");
	ms = ms_since(&t0);
	if (alarms != 1 || ms < 100 || ms > 5000) {
		fprintf(stderr, "sc_tcp (%s): EINTR after %ld ms with %d signal(s)\n", MODE_NAME,
			ms, (int)alarms);
		return 1;
	}
	printf("connect: EINTR after the signal (%ld ms)\n", ms);
	close(s);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	printf("restart: connecting\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &it, NULL);
	/* client_run's connect is its first blocking call: the signal comes during it. */
	if (client_run(ip, port, 65536, 0) < 0)
		return 1;
	ms = ms_since(&t0);
	if (alarms != 1) {
		fprintf(stderr, "sc_tcp (%s): %d signal(s) during the restarted connect\n",
			MODE_NAME, (int)alarms);
		return 1;
	}
	printf("restart: connected after the signal (%ld ms), 64 KiB checked\n", ms);
	printf("sigconnect ok\n");
	return 0;
}

static int checks(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in got;
	void *bad = (void *)16;
	socklen_t gl = sizeof(got);
	int s, l, u, v;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return 2;
	s = x_socket(AF_INET, SOCK_STREAM, 0);
	expect(x_connect(s, bad, sizeof(a)), EFAULT, "connect with a bad address pointer");
	close(s);
	expect((int)syscall(SYS_io_uring_setup, 1, NULL), ENOSYS, "io_uring_setup");
	l = x_socket(AF_INET, SOCK_STREAM, 0);
	got = (struct sockaddr_in){ .sin_family = AF_INET };
	if (x_bind(l, SA(&got), sizeof(got)) < 0 || x_listen(l, 4) < 0)
		die("bind/listen on the wildcard");
	expect(x_getsockname(l, bad, &gl), EFAULT, "getsockname into a bad pointer");
	expect(x_getsockname(l, SA(&got), bad), EFAULT, "getsockname with a bad length pointer");
	gl = sizeof(v);
	expect(x_getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, bad, &gl), EFAULT,
	       "getsockopt into a bad pointer");
	gl = sizeof(got);
	expect(x_getpeername(l, SA(&got), &gl), ENOTCONN, "getpeername of a listener");
	fcntl(l, F_SETFL, O_NONBLOCK);
	expect(x_accept(l, NULL, NULL), EAGAIN, "accept on a non-blocking listener");
	fcntl(l, F_SETFL, 0);
	if (x_shutdown(l, SHUT_RD) < 0)
		die("shutdown of the listener");
	expect(x_accept(l, NULL, NULL), EINVAL, "accept after shutdown");
	close(l);
	u = x_socket(AF_INET, SOCK_DGRAM, 0);
	gl = sizeof(got);
	if (x_connect(u, SA(&a), sizeof(a)) < 0 || x_getpeername(u, SA(&got), &gl) < 0 ||
	    got.sin_addr.s_addr != a.sin_addr.s_addr)
		die("UDP connect to a virtual address");
	close(u);
	printf("checks ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atoi(argv[3]), 0);
	if (argc == 4 && !strcmp(argv[1], "nbserver"))
		return server(atoi(argv[2]), atoi(argv[3]), 1);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
		return client_run(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10),
				  argc == 6 && !strcmp(argv[5], "nb")) == 0 ? 0 : 1;
	if (argc == 3 && !strcmp(argv[1], "signals"))
		return signals(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "sigconnect"))
		return sigconnect(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "checks"))
		return checks(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "threads"))
		_exit(threads(argv[2], atoi(argv[3]), atoi(argv[4])));
	fprintf(stderr, "usage: sc_tcp server|nbserver PORT CONNS | client IP PORT BYTES [nb] | "
			"threads IP PORT N | signals MYIP | sigconnect IP PORT | checks IP\n");
	return 2;
}
