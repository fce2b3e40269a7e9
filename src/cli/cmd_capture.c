/*
 * cmd_capture.c — `netcon capture`: a running service's frames, in pcap or pcapng format.
 *
 * The client makes a pipe and hands its write end to the service (NC_MSG_CAPTURE, the
 * pipe as the subject fd); the service writes a pcap stream into it from its event loop
 * (service/capture.c) and the client copies it to the output. The client writes whole
 * records only: it follows the stream's framing (the 24-byte header, then each record's
 * 16-byte header and its captured length; with --pcapng, each block's length), so a stop
 * by SIGINT or SIGTERM leaves a
 * well-formed file, and a frame the pipe delivered in pieces is written once whole. It
 * ends when the service goes away (end of the pipe) or the output is closed (a reader
 * like `tcpdump -r - -c N` that has had enough): exit status 0 in each case.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/rpc.h"

#define PCAP_HDR  24
#define PCAP_REC  16
#define CAP_BUF   (1024 * 1024)

static volatile sig_atomic_t stop_capture;

static void on_stop(int sig)
{
	(void)sig;
	stop_capture = 1;
}

/* Write all of buf. 0, or a negative errno. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The length of the complete pcap units (pcapng: blocks) at the head of buf (len bytes),
 * from offset *pos in the stream; *pos advances past them. 0 when the next unit is
 * incomplete; -1 for a stream that is not what the service writes. */
static ssize_t whole_units(const uint8_t *buf, size_t len, uint64_t *pos, int pcapng)
{
	size_t off = 0;

	if (pcapng) {
		while (len - off >= 8) {
			uint32_t blen;
			memcpy(&blen, buf + off + 4, 4);   /* the service's byte order is ours */
			if (blen < 12 || blen % 4 || blen > CAP_BUF)
				return -1;
			if (len - off < blen)
				break;
			off += blen;
		}
		*pos += off;
		return (ssize_t)off;
	}
	if (*pos == 0) {
		if (len < PCAP_HDR)
			return 0;
		off = PCAP_HDR;
	}
	while (len - off >= PCAP_REC) {
		uint32_t incl;
		memcpy(&incl, buf + off + 8, 4);   /* the service's byte order is ours */
		if (len - off - PCAP_REC < incl)
			break;
		off += PCAP_REC + incl;
	}
	*pos += off;
	return (ssize_t)off;
}

int cmd_capture(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	const char *env = getenv("NETCON_SOCKET"), *out_path = "-";
	struct nc_capture_req q = { 0, 0 };
	struct sigaction sa;
	uint8_t rep[64], *buf;
	size_t len = 0, have = 0;
	uint64_t pos = 0;
	int p[2], out, r, pcapng = 0;
	size_t olen;

	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		nc_default_socket(path, sizeof(path));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon capture [--socket PATH] [--pcapng] [-w FILE|-]\n\n"
			       "Writes the frames that cross the link of the running service at PATH\n"
			       "(default $NETCON_SOCKET, else the default socket) to FILE in pcap\n"
			       "format, or to standard output with -w - (the default), e.g.\n"
			       "`netcon capture -w - | tcpdump -nn -r -`. With --pcapng (the default\n"
			       "when FILE ends in .pcapng) the format is pcapng, and each packet of a\n"
			       "program's connection carries a comment naming its pid, command and\n"
			       "addresses (tshark -T fields -e frame.comment). Stops on SIGINT or SIGTERM\n"
			       "(FILE then ends with the last whole frame), when the service stops, or\n"
			       "when standard output is closed. Only the service's user and root may\n"
			       "capture. Frames a slow reader could not take are dropped whole.\n");
			return 0;
		} else if ((!strcmp(argv[i], "--socket") || !strcmp(argv[i], "-w")) && i + 1 < argc) {
			if (argv[i][1] == 'w')
				out_path = argv[++i];
			else
				snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--pcapng")) {
			pcapng = 1;
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			snprintf(path, sizeof(path), "%s", argv[i] + 9);
		} else if (!strcmp(argv[i], "--socket") || !strcmp(argv[i], "-w")) {
			fprintf(stderr, "netcon capture: option %s needs a value (see --help)\n", argv[i]);
			return 2;
		} else {
			fprintf(stderr, "netcon capture: unknown %s '%s' (see --help)\n",
				argv[i][0] == '-' ? "option" : "argument", argv[i]);
			return 2;
		}
	}
	olen = strlen(out_path);
	if (olen > 7 && !strcmp(out_path + olen - 7, ".pcapng"))
		pcapng = 1;
	q.flags = pcapng ? NC_CAPTURE_PCAPNG : 0;
	if (!strcmp(out_path, "-")) {
		out = STDOUT_FILENO;
		if (isatty(out)) {
			fprintf(stderr, "netcon capture: standard output is a terminal; give -w FILE "
				"or a pipe (see --help)\n");
			return 2;
		}
	} else {
		out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0) {
			fprintf(stderr, "netcon capture: -w %s: %s\n", out_path, strerror(errno));
			return 1;
		}
	}
	buf = malloc(CAP_BUF);
	if (!buf || pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "netcon capture: %s\n", strerror(errno));
		return 1;
	}
	r = nc_cli_request_fd(path, NC_MSG_CAPTURE, &q, sizeof(q), p[1], rep, sizeof(rep), &len);
	close(p[1]);
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "netcon capture: cannot reach the service at %s: %s\n", path,
				strerror(-r));
		else
			fprintf(stderr, "netcon capture: the service refused: %s%s\n", strerror(r),
				r != EINVAL ? "" : pcapng ? " (a service older than --pcapng?)" :
				" (a service older than netcon capture?)");
		free(buf);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;   /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop_capture) {
		ssize_t n = read(p[0], buf + have, CAP_BUF - have);
		ssize_t w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "netcon capture: reading the stream: %s\n", strerror(errno));
			free(buf);
			return 1;
		}
		if (n == 0)
			break;   /* the service stopped */
		have += (size_t)n;
		w = whole_units(buf, have, &pos, pcapng);
		if (w < 0) {
			fprintf(stderr, "netcon capture: the service's stream is not %s\n",
				pcapng ? "pcapng" : "pcap");
			free(buf);
			return 1;
		}
		if (w) {
			r = write_all(out, buf, (size_t)w);
			if (r == -EPIPE)
				break;   /* the reader of our output is done */
			if (r < 0) {
				fprintf(stderr, "netcon capture: -w %s: %s\n", out_path, strerror(-r));
				free(buf);
				return 1;
			}
			memmove(buf, buf + w, have - (size_t)w);
			have -= (size_t)w;
		}
	}
	close(p[0]);
	free(buf);
	if (out != STDOUT_FILENO && close(out) < 0) {
		fprintf(stderr, "netcon capture: -w %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	return 0;
}
