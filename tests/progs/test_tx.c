/*
 * test_tx.c — a plain TCP client for the tests: connect, send N bytes of a seeded
 * pseudo-random stream, half-close, wait for the server's EOF, and print
 *
 *     tx bytes=<n> sum=<16 hex digits>
 *
 * so that a script can compare it with test_rx's line for the same stream. Only
 * ordinary libc socket calls: it runs unmodified under netcon's LD_PRELOAD intercept.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xfer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: test_tx [-4|-6] --connect ADDR:PORT --bytes N [--seed S] [--chunk K]\n"
		"\n"
		"Connect to ADDR:PORT (1.2.3.4:5, [::1]:5), send N bytes of the pseudo-random\n"
		"stream of seed S (default 1) in writes of K bytes (default 128K), shut down\n"
		"the write side, wait for the server to close, and print\n"
		"  tx bytes=<n> sum=<16 hex digits>\n"
		"Sizes take K, M, G, T suffixes (powers of 1024). Throughput goes to stderr.\n"
		"Exit status: 0 on success, 1 on an I/O error, 2 on bad arguments.\n");
}

static void bad_args(const char *msg, const char *arg)
{
	fprintf(stderr, "test_tx: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr_s = NULL;
	uint64_t total = 0, seed = 1, chunk = 128 * 1024, sent = 0, extra = 0;
	int have_bytes = 0, family = AF_UNSPEC, opt, fd, r, status = 1;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct xfer_gen gen;
	struct xfer_sum sum;
	char *buf;
	double t0;

	while ((opt = getopt_long(argc, argv, "46h", opts, NULL)) != -1) {
		switch (opt) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'c':
			addr_s = optarg;
			break;
		case 'b':
			if (xfer_parse_size(optarg, &total) < 0)
				bad_args("bad --bytes", optarg);
			have_bytes = 1;
			break;
		case 's':
			if (xfer_parse_size(optarg, &seed) < 0)
				bad_args("bad --seed", optarg);
			break;
		case 'k':
			if (xfer_parse_size(optarg, &chunk) < 0 || chunk == 0 ||
			    chunk > (1ull << 30))
				bad_args("bad --chunk (1 byte .. 1G)", optarg);
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
		bad_args("--connect is required", NULL);
	if (!have_bytes)
		bad_args("--bytes is required", NULL);
	if (xfer_parse_addr(addr_s, family, 0, &ss, &sslen) < 0)
		return 2;

	signal(SIGPIPE, SIG_IGN);   /* a reset peer shows as EPIPE, reported below */
	buf = malloc(chunk);
	if (!buf) {
		perror("test_tx: malloc");
		return 1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("test_tx: socket");
		goto out_free;
	}
	do
		r = connect(fd, (struct sockaddr *)&ss, sslen);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		fprintf(stderr, "test_tx: connect %s: %s\n", addr_s, strerror(errno));
		goto out_close;
	}

	xfer_gen_init(&gen, seed);
	xfer_sum_init(&sum);
	t0 = xfer_now();
	while (sent < total) {
		size_t n = total - sent < chunk ? (size_t)(total - sent) : (size_t)chunk;

		xfer_gen_fill(&gen, buf, n);
		xfer_sum_update(&sum, buf, n);
		r = xfer_write_all(fd, buf, n);
		if (r < 0) {
			fprintf(stderr, "test_tx: write after %" PRIu64 " bytes: %s\n", sent,
				strerror(-r));
			goto out_close;
		}
		sent += n;
	}
	if (shutdown(fd, SHUT_WR) < 0) {
		perror("test_tx: shutdown");
		goto out_close;
	}
	/* The server closes after it has read everything: wait for that EOF. */
	for (;;) {
		ssize_t got = xfer_read(fd, buf, chunk);
		if (got == 0)
			break;
		if (got < 0) {
			fprintf(stderr, "test_tx: read (waiting for EOF): %s\n", strerror((int)-got));
			goto out_close;
		}
		extra += (uint64_t)got;
	}
	xfer_report_rate("tx", sent, xfer_now() - t0);
	if (extra)
		fprintf(stderr, "test_tx: the server sent %" PRIu64 " unexpected bytes\n", extra);
	printf("tx bytes=%" PRIu64 " sum=%016" PRIx64 "\n", sent, xfer_sum_final(&sum));
	fflush(stdout);
	status = 0;
out_close:
	close(fd);
out_free:
	free(buf);
	return status;
}
