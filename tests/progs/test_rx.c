/*
 * test_rx.c — a plain TCP server for the tests: listen, accept N connections, serve
 * each in a forked child that reads until EOF, checksums the stream, closes, and prints
 *
 *     rx bytes=<n> sum=<16 hex digits>
 *
 * (the same checksum as test_tx's, so a script can compare the lines). Only ordinary
 * libc socket calls: it runs unmodified under netcon's LD_PRELOAD intercept. A line
 * "rx: listening on ADDR:PORT" on stderr tells scripts (and port 0 users) when and
 * where it listens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xfer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: test_rx [-4|-6] --listen ADDR:PORT [--count N] [--expect BYTES] "
		"[--chunk K] [--delay MS]\n"
		"\n"
		"Listen on ADDR:PORT (1.2.3.4:5, [::]:5, :5 for the wildcard; port 0 picks\n"
		"one), accept N connections (default 1), read each until EOF in reads of K bytes\n"
		"(default 256K), close it, and print one line per connection:\n"
		"  rx bytes=<n> sum=<16 hex digits>\n"
		"Sizes take K, M, G, T suffixes (powers of 1024). Throughput goes to stderr.\n"
		"--delay MS waits MS milliseconds after accepting before the first read (a slow\n"
		"reader: the sender's data piles up in the network path).\n"
		"Exit status: 0 if every connection ended cleanly (and carried exactly BYTES\n"
		"with --expect), 1 otherwise, 2 on bad arguments.\n");
}

static void bad_args(const char *msg, const char *arg)
{
	fprintf(stderr, "test_rx: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	exit(2);
}

/*
 * Serve one accepted connection (in the child): read to EOF, checksum, close, print.
 * Returns the exit status: 0, or 1 on a read error or a byte count other than expect
 * (expect < 0: any count).
 */
static int serve(int fd, size_t chunk, long long expect, unsigned delay_ms)
{
	struct xfer_sum sum;
	uint64_t got = 0;
	char line[96];
	char *buf = malloc(chunk);
	double t0 = xfer_now();
	int status = 0;

	if (!buf) {
		perror("test_rx: malloc");
		close(fd);
		return 1;
	}
	xfer_sum_init(&sum);
	if (delay_ms)
		usleep(delay_ms * 1000u);
	for (;;) {
		ssize_t n = xfer_read(fd, buf, chunk);
		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "test_rx: read after %" PRIu64 " bytes: %s\n", got,
				strerror((int)-n));
			status = 1;
			break;
		}
		xfer_sum_update(&sum, buf, (size_t)n);
		got += (uint64_t)n;
	}
	close(fd);   /* tells the client that everything was read */
	free(buf);
	xfer_report_rate("rx", got, xfer_now() - t0);
	/* One write per line, so that lines of concurrent children never interleave. */
	int len = snprintf(line, sizeof(line), "rx bytes=%" PRIu64 " sum=%016" PRIx64 "\n", got,
			   xfer_sum_final(&sum));
	if (xfer_write_all(STDOUT_FILENO, line, (size_t)len) < 0)
		status = 1;
	if (expect >= 0 && got != (uint64_t)expect) {
		fprintf(stderr, "test_rx: got %" PRIu64 " bytes, expected %lld\n", got, expect);
		status = 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "expect", required_argument, NULL, 'e' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr_s = NULL;
	uint64_t count = 1, chunk = 256 * 1024, v;
	long long expect = -1;
	unsigned delay_ms = 0;
	int family = AF_UNSPEC, opt, lfd, one = 1, status = 0;
	uint64_t started = 0;
	struct sockaddr_storage ss;
	socklen_t sslen;

	while ((opt = getopt_long(argc, argv, "46h", opts, NULL)) != -1) {
		switch (opt) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'l':
			addr_s = optarg;
			break;
		case 'n':
			if (xfer_parse_size(optarg, &count) < 0 || count == 0 || count > 100000)
				bad_args("bad --count (1 .. 100000)", optarg);
			break;
		case 'e':
			if (xfer_parse_size(optarg, &v) < 0 || v > (uint64_t)INT64_MAX)
				bad_args("bad --expect", optarg);
			expect = (long long)v;
			break;
		case 'k':
			if (xfer_parse_size(optarg, &chunk) < 0 || chunk == 0 ||
			    chunk > (1ull << 30))
				bad_args("bad --chunk (1 byte .. 1G)", optarg);
			break;
		case 'd':
			if (xfer_parse_size(optarg, &v) < 0 || v > 600000)
				bad_args("bad --delay (0 .. 600000 ms)", optarg);
			delay_ms = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		bad_args("unexpected argument", argv[optind]);
	if (!addr_s)
		bad_args("--listen is required", NULL);
	if (xfer_parse_addr(addr_s, family, 1, &ss, &sslen) < 0)
		return 2;

	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (lfd < 0) {
		perror("test_rx: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sslen) < 0) {
		fprintf(stderr, "test_rx: bind %s: %s\n", addr_s, strerror(errno));
		return 1;
	}
	if (listen(lfd, 128) < 0) {
		perror("test_rx: listen");
		return 1;
	}
	{
		struct sockaddr_storage local;
		socklen_t ll = sizeof(local);
		char ip[INET6_ADDRSTRLEN] = "?";
		unsigned port = 0;

		if (getsockname(lfd, (struct sockaddr *)&local, &ll) == 0) {
			if (local.ss_family == AF_INET6) {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;
				inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
				port = ntohs(s6->sin6_port);
			} else {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&local;
				inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
				port = ntohs(s4->sin_port);
			}
		}
		fprintf(stderr, local.ss_family == AF_INET6 ? "rx: listening on [%s]:%u\n"
							     : "rx: listening on %s:%u\n", ip, port);
	}

	fflush(stdout);   /* nothing buffered may be duplicated by fork */
	while (started < count) {
		int cfd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("test_rx: accept");
			status = 1;
			break;
		}
		pid = fork();
		if (pid < 0) {
			perror("test_rx: fork");
			close(cfd);
			status = 1;
			break;
		}
		if (pid == 0) {
			close(lfd);
			_exit(serve(cfd, (size_t)chunk, expect, delay_ms));
		}
		close(cfd);
		started++;
	}
	close(lfd);

	/* Every child's verdict counts. */
	for (;;) {
		int ws;
		pid_t pid = wait(&ws);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;   /* ECHILD: all reaped */
		}
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			status = 1;
	}
	return status;
}
