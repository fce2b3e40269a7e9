/*
 * bench/tcpbench.c — the small TCP tools of the benchmarks (bench/run.sh): one server and
 * three clients, plain blocking sockets, so that they run unchanged on the kernel and
 * under `netcon intercept`.
 *
 *   tcpbench serve [ADDR:]PORT            echo server (epoll, one thread); a connection
 *                                         whose first byte is 'C' gets its 64-byte
 *                                         request echoed and is then closed by the server
 *                                         (the server takes TIME_WAIT, not the client);
 *                                         any other connection is echoed until EOF.
 *   tcpbench pingpong HOST PORT COUNT     1-byte round trips (TCP_NODELAY) after 1,000
 *                                         warm-up ones; prints "p50_us p99_us mean_us".
 *   tcpbench connrate HOST PORT MAX SECS  sequential connect → 64-byte exchange → close,
 *                                         at most MAX connections or SECS seconds;
 *                                         prints "conns_per_s count"; stops at the first
 *                                         error.
 *   tcpbench churn HOST PORT MAX SECS RATE WORKERS
 *                                         the same connect → exchange → close loop in
 *                                         WORKERS processes, paced to RATE connections per
 *                                         second in all (0: as fast as possible), at most
 *                                         MAX connections or SECS seconds; errors are
 *                                         counted, not fatal (the first few are reported,
 *                                         and a worker gives up after 1,000); prints
 *                                         "conns_per_s count errors", exit status 1 if
 *                                         any connection failed.
 *   tcpbench hold HOST PORT N             opens N connections and keeps them idle;
 *                                         prints "open_s N" on stdout, then sleeps
 *                                         until a signal ends it. On SIGUSR1 it checks
 *                                         every connection (one byte echoed) and prints
 *                                         "alive N dead M".
 *
 * Every other failure is reported on stderr with the call and errno, exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_LEN 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_addr(const char *host, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p < 1 || p > 65535)
		return -1;
	sa->sin_port = htons((unsigned short)p);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

/* Raise the fd limit to its hard maximum (10,000 idle connections need it). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		put += (size_t)n;
	}
	return 0;
}

/* Per-connection state of the server, indexed by fd. */
struct sconn {
	int mode;	/* 0: first byte not seen, 1: echo until EOF, 2: 'C' request */
	int got;	/* bytes of the 'C' request received */
	char req[REQ_LEN];
};

static int cmd_serve(const char *spec)
{
	struct sockaddr_in sa;
	const char *colon = strrchr(spec, ':');
	char host[64] = "0.0.0.0";
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	struct sconn *conns;
	int lfd, ep, one = 1;
	char buf[65536];

	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		spec = colon + 1;
	}
	if (parse_addr(host, spec, &sa) < 0) {
		fprintf(stderr, "tcpbench serve: bad address\n");
		return 2;
	}
	raise_nofile();
	getrlimit(RLIMIT_NOFILE, &rl);
	conns = calloc(rl.rlim_cur, sizeof(*conns));
	if (!conns)
		die("calloc");
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(lfd, 4096) < 0)
		die("listen");
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (c < 0) {
					if (errno != EAGAIN && errno != ECONNABORTED)
						fprintf(stderr, "tcpbench: accept: %s\n", strerror(errno));
					continue;
				}
				if ((rlim_t)c >= rl.rlim_cur) {
					close(c);
					continue;
				}
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				memset(&conns[c], 0, sizeof(conns[c]));
				ev.events = EPOLLIN;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				close(fd);
				continue;
			}
			if (conns[fd].mode == 0)
				conns[fd].mode = buf[0] == 'C' ? 2 : 1;
			if (conns[fd].mode == 1) {
				/* Echo; the clients send at most a few bytes at a time. */
				int fl = fcntl(fd, F_GETFL);

				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
				if (write_full(fd, buf, (size_t)r) < 0)
					close(fd);
				else
					fcntl(fd, F_SETFL, fl);
				continue;
			}
			if (conns[fd].got + r > REQ_LEN)
				r = REQ_LEN - conns[fd].got;
			memcpy(conns[fd].req + conns[fd].got, buf, (size_t)r);
			conns[fd].got += (int)r;
			if (conns[fd].got == REQ_LEN) {
				if (write_full(fd, conns[fd].req, REQ_LEN) < 0)
					fprintf(stderr, "tcpbench: write: %s\n", strerror(errno));
				close(fd);
			}
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_pingpong(const struct sockaddr_in *sa, long count)
{
	double *t = calloc((size_t)count, sizeof(double)), sum = 0;
	char c = 'p';
	int fd = connect_to(sa);
	long i;

	if (!t)
		die("calloc");
	for (i = -1000; i < count; i++) {
		double t0 = now_s();

		if (write_full(fd, &c, 1) < 0 || read_full(fd, &c, 1) < 0)
			die("ping-pong");
		if (i >= 0) {
			t[i] = (now_s() - t0) * 1e6;
			sum += t[i];
		}
	}
	close(fd);
	qsort(t, (size_t)count, sizeof(double), cmp_double);
	printf("%.1f %.1f %.1f\n", t[count / 2], t[count * 99 / 100], sum / (double)count);
	return 0;
}

/* One churn connection: connect, 64-byte request, its echo, the server's close. Returns 0,
 * or -1 with *what naming the step that failed (errno set). Reads time out after 10 s. */
static int churn_one(const struct sockaddr_in *sa, const char *req, const char **what)
{
	struct timeval tv = { .tv_sec = 10 };
	char rsp[REQ_LEN];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, e;
	ssize_t r;

	*what = "socket";
	if (fd < 0)
		return -1;
	*what = "connect";
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*what = "exchange";
	if (write_full(fd, req, REQ_LEN) < 0 || read_full(fd, rsp, sizeof(rsp)) < 0)
		goto fail;
	*what = "echo differs";
	if (memcmp(req, rsp, REQ_LEN)) {
		errno = EPROTO;
		goto fail;
	}
	/* Wait for the server's close, so the server holds TIME_WAIT. */
	*what = "expected EOF";
	r = read(fd, rsp, 1);
	if (r != 0) {
		if (r > 0)
			errno = EPROTO;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int cmd_connrate(const struct sockaddr_in *sa, long max, double secs)
{
	char req[REQ_LEN];
	const char *what;
	double t0 = now_s(), el;
	long n = 0;

	memset(req, 'C', sizeof(req));
	while (n < max && now_s() - t0 < secs) {
		if (churn_one(sa, req, &what) < 0)
			die(what);
		n++;
	}
	el = now_s() - t0;
	printf("%.0f %ld\n", (double)n / el, n);
	return 0;
}

/* A churn worker: connections at t0 + i / rate (no pause when late), until max, the
 * deadline t0 + secs, or 1,000 errors. Returns the counts through *made and *errs. */
static void churn_worker(const struct sockaddr_in *sa, long max, double t0, double secs,
			 double rate, int id, long *made, long *errs)
{
	char req[REQ_LEN];
	const char *what;
	long i;

	*made = *errs = 0;
	for (i = 0; i < max && *errs < 1000; i++) {
		double now = now_s();

		if (now - t0 >= secs)
			break;
		if (rate > 0 && t0 + (double)i / rate > now) {
			double at = t0 + (double)i / rate;
			struct timespec ts = { (time_t)(at - now), (long)((at - now - (double)(time_t)(at - now)) * 1e9) };

			nanosleep(&ts, NULL);
			if (now_s() - t0 >= secs)
				break;
		}
		/* Distinct requests per worker and connection, so a crossed stream shows. */
		memset(req, 'C', sizeof(req));
		snprintf(req + 1, REQ_LEN - 1, "%d:%ld", id, i);
		req[REQ_LEN - 1] = 'C';
		if (churn_one(sa, req, &what) < 0) {
			if (++*errs <= 5)
				fprintf(stderr, "tcpbench churn: worker %d connection %ld at %.3f s: %s: %s\n",
					id, i, now_s() - t0, what, strerror(errno));
			continue;
		}
		++*made;
	}
}

static int cmd_churn(const struct sockaddr_in *sa, long max, double secs, double rate, int workers)
{
	double t0, el;
	long made = 0, errs = 0, m, e;
	int w, p[2];

	if (pipe(p) < 0)
		die("pipe");
	signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	for (w = 0; w < workers; w++) {
		long share = max / workers + (w < max % workers);
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char line[64];
			int len;

			close(p[0]);
			churn_worker(sa, share, t0, secs, rate / workers, w, &m, &e);
			len = snprintf(line, sizeof(line), "%ld %ld\n", m, e);
			if (write(p[1], line, (size_t)len) != len)
				_exit(2);
			_exit(0);
		}
	}
	close(p[1]);
	{
		FILE *f = fdopen(p[0], "r");

		if (!f)
			die("fdopen");
		for (w = 0; w < workers; w++) {
			if (fscanf(f, "%ld %ld", &m, &e) != 2) {
				fprintf(stderr, "tcpbench churn: a worker died without a result\n");
				errs++;
				continue;
			}
			made += m;
			errs += e;
		}
		fclose(f);
	}
	while (wait(NULL) > 0)
		;
	el = now_s() - t0;
	printf("%.0f %ld %ld\n", (double)made / el, made, errs);
	return errs ? 1 : 0;
}

static volatile sig_atomic_t check_asked;

static void on_usr1(int sig)
{
	(void)sig;
	check_asked = 1;
}

static _Noreturn void cmd_hold(const struct sockaddr_in *sa, long n)
{
	int *fds = calloc((size_t)n, sizeof(int));
	struct sigaction act = { .sa_handler = on_usr1 };
	sigset_t usr1, old;
	double t0;
	long i;

	if (!fds)
		die("calloc");
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	sigaction(SIGUSR1, &act, NULL);
	t0 = now_s();
	for (i = 0; i < n; i++)
		fds[i] = connect_to(sa);
	printf("%.3f %ld\n", now_s() - t0, n);
	fflush(stdout);
	for (;;) {
		long alive = 0, dead = 0;

		while (!check_asked)
			sigsuspend(&old);
		check_asked = 0;
		/* Each held connection echoes one byte (the server's echo mode). */
		for (i = 0; i < n; i++) {
			struct timeval tv = { .tv_sec = 10 };
			char c = 'h';

			setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (write_full(fds[i], &c, 1) == 0 && read_full(fds[i], &c, 1) == 0 && c == 'h')
				alive++;
			else if (++dead <= 5)
				fprintf(stderr, "tcpbench hold: connection %ld: %s\n", i, strerror(errno));
		}
		printf("alive %ld dead %ld\n", alive, dead);
		fflush(stdout);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: tcpbench serve [ADDR:]PORT\n"
		"       tcpbench pingpong HOST PORT COUNT\n"
		"       tcpbench connrate HOST PORT MAX SECONDS\n"
		"       tcpbench churn HOST PORT MAX SECONDS RATE WORKERS\n"
		"       tcpbench hold HOST PORT N\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	long n;

	if (argc == 3 && !strcmp(argv[1], "serve"))
		return cmd_serve(argv[2]);
	if (argc < 5 || parse_addr(argv[2], argv[3], &sa) < 0)
		return usage();
	n = strtol(argv[4], NULL, 10);
	if (n < 1)
		return usage();
	if (argc == 5 && !strcmp(argv[1], "pingpong"))
		return cmd_pingpong(&sa, n);
	if (argc == 6 && !strcmp(argv[1], "connrate"))
		return cmd_connrate(&sa, n, strtod(argv[5], NULL));
	if (argc == 8 && !strcmp(argv[1], "churn")) {
		int w = atoi(argv[7]);

		if (w < 1 || w > 64 || strtod(argv[6], NULL) < 0)
			return usage();
		return cmd_churn(&sa, n, strtod(argv[5], NULL), strtod(argv[6], NULL), w);
	}
	if (argc == 5 && !strcmp(argv[1], "hold"))
		cmd_hold(&sa, n);
	return usage();
}
