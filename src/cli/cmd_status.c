/*
 * cmd_status.c — `netcon status` (text, --json, --watch), and the CLI's one-shot RPC
 * client.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "common/rpc.h"

int nc_cli_request(const char *path, int type, const void *payload, size_t plen,
		   void *rep, size_t cap, size_t *replen)
{
	return nc_cli_request_fd(path, type, payload, plen, -1, rep, cap, replen);
}

int nc_cli_request_fd(const char *path, int type, const void *payload, size_t plen,
		      int subject, void *rep, size_t cap, size_t *replen)
{
	static uint8_t buf[NC_RPC_MAX_MSG];
	struct sockaddr_un sun;
	struct nc_hdr h;
	int fd, fds[NC_RPC_MAX_FDS], nfds, r;
	const char *why;
	ssize_t n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	memset(&h, 0, sizeof(h));
	h.type = (uint16_t)type;
	h.seq = 1;
	if (subject >= 0)
		h.flags = NC_F_SUBJECT_FD;
	r = nc_rpc_send(fd, &h, payload, plen, subject >= 0 ? &subject : NULL, subject >= 0);
	if (r < 0) {
		close(fd);
		return r;
	}
	n = nc_rpc_recv(fd, buf, sizeof(buf), fds, &nfds, 0);
	close(fd);
	if (n <= 0)
		return n == 0 ? -ECONNRESET : (int)n;
	if (nc_rpc_check(buf, (size_t)n, nfds, 1, &why) < 0) {
		nc_rpc_close_fds(fds, nfds);
		return -EPROTO;
	}
	nc_rpc_close_fds(fds, nfds);
	memcpy(&h, buf, sizeof(h));
	if (h.type != (type | NC_MSG_REPLY) || h.seq != 1)
		return -EPROTO;
	*replen = (size_t)n - sizeof(h);
	if (*replen > cap)
		*replen = cap;
	memcpy(rep, buf + sizeof(h), *replen);
	return h.err;
}

static volatile sig_atomic_t stop_watch;

static void on_stop(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* One status from the service at path, text or JSON, to stdout. 0, or 1 with a message. */
static int show_once(const char *path, int json)
{
	static uint8_t rep[NC_RPC_MAX_MSG];
	struct nc_status_rep sr;
	size_t len = 0;
	int r;

	r = nc_cli_request(path, json ? NC_MSG_STATUS_JSON : NC_MSG_STATUS, NULL, 0, rep,
			   sizeof(rep), &len);
	if (r < 0) {
		fprintf(stderr, "netcon status: cannot reach the service at %s: %s\n", path,
			strerror(-r));
		return 1;
	}
	if (r > 0 || len < sizeof(struct nc_status_rep)) {
		fprintf(stderr, "netcon status: the service answered: %s%s\n",
			strerror(r ? r : EPROTO),
			json && r == EINVAL ? " (a service older than --json)" : "");
		return 1;
	}
	memcpy(&sr, rep, sizeof(sr));
	fwrite(rep + sizeof(sr), 1, sr.len <= len - sizeof(sr) ? sr.len : len - sizeof(sr), stdout);
	fflush(stdout);
	return 0;
}

/*
 * --watch: the status again every interval until SIGINT or SIGTERM (exit 0) or until the
 * service cannot be reached (exit 1). On a terminal the screen is cleared before each
 * text status; otherwise a text status is followed by an empty line, and JSON is one
 * document per line (JSON Lines).
 */
static int watch(const char *path, int json, long ms)
{
	struct sigaction sa;
	int tty = isatty(STDOUT_FILENO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;   /* no SA_RESTART: nanosleep returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop_watch) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		if (tty && !json)
			fputs("\033[H\033[2J", stdout);
		if (show_once(path, json))
			return 1;
		if (!tty && !json)
			putchar('\n');
		fflush(stdout);
		while (!stop_watch && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return 0;
}

int cmd_status(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	int so, json = 0;
	long watch_ms = 0;

	nc_client_socket(path, sizeof(path));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon status [--socket PATH] [--json] [--watch[=SECONDS]]\n\n"
			       "Shows a service's address, link, counters and connection table.\n"
			       "PATH defaults to $NETCON_SOCKET, else the default socket.\n\n"
			       "  --json             one JSON document (schema: docs/status-json.md)\n"
			       "  --watch[=SECONDS]  again every SECONDS (default 1, 0.1..3600) until\n"
			       "                     SIGINT or SIGTERM; with --json one document a line\n");
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--watch")) {
			watch_ms = 1000;
		} else if (!strncmp(argv[i], "--watch=", 8)) {
			char *end;
			double v;
			errno = 0;
			v = strtod(argv[i] + 8, &end);
			if (errno || end == argv[i] + 8 || *end || !(v >= 0.1 && v <= 3600)) {
				fprintf(stderr, "netcon status: bad --watch '%s': want seconds from 0.1 "
					"to 3600 (see --help)\n", argv[i] + 8);
				return 2;
			}
			watch_ms = (long)(v * 1000 + 0.5);
		} else if ((so = nc_socket_option(argc, argv, &i, path, sizeof(path),
						  "netcon status")) != 0) {
			if (so < 0)
				return 2;
		} else {
			fprintf(stderr, "netcon status: unknown %s '%s' (see --help)\n",
				argv[i][0] == '-' ? "option" : "argument", argv[i]);
			return 2;
		}
	}
	return watch_ms ? watch(path, json, watch_ms) : show_once(path, json);
}
