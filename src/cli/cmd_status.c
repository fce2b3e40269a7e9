/*
 * cmd_status.c — `netcon status`, and the CLI's one-shot RPC client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "common/rpc.h"

int nc_cli_request(const char *path, int type, const void *payload, size_t plen,
		   void *rep, size_t cap, size_t *replen)
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
	r = nc_rpc_send(fd, &h, payload, plen, NULL, 0);
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

int cmd_status(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	int so;
	static uint8_t rep[NC_RPC_MAX_MSG];
	size_t len = 0;
	int r;

	nc_client_socket(path, sizeof(path));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon status [--socket PATH]\n\n"
			       "Shows a service's address, link, counters and connection table.\n"
			       "PATH defaults to $NETCON_SOCKET, else the default socket.\n");
			return 0;
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
	r = nc_cli_request(path, NC_MSG_STATUS, NULL, 0, rep, sizeof(rep), &len);
	if (r < 0) {
		fprintf(stderr, "netcon status: cannot reach the service at %s: %s\n", path,
			strerror(-r));
		return 1;
	}
	if (r > 0 || len < sizeof(struct nc_status_rep)) {
		fprintf(stderr, "netcon status: the service answered: %s\n", strerror(r ? r : EPROTO));
		return 1;
	}
	struct nc_status_rep sr;
	memcpy(&sr, rep, sizeof(sr));
	fwrite(rep + sizeof(sr), 1, sr.len <= len - sizeof(sr) ? sr.len : len - sizeof(sr), stdout);
	return 0;
}
