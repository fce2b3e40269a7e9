/*
 * netcon_exec.c — `netcon-exec`: the launcher bind-mounted into containers.
 *
 * A container's image may have any C library or none (a static Go program FROM scratch),
 * so the launcher is statically linked and always takes the seccomp door: it connects to
 * the service's control socket (mounted into the container), installs the filter, hands
 * its listener to the service and execs the program, which keeps the launcher's pid. It
 * needs no capability: the filter rests on no_new_privs. The service answers the trapped
 * calls from outside the container; it finds the program's memory and file descriptors
 * by the pids the kernel gives it, which are its own namespace's.
 *
 * `netcon container-flags` prints the engine's `run` options that mount this program
 * and the socket's directory and make it the entrypoint (docs/containers.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mode.h"
#include "netcon/rpc.h"
#include "netcon/version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netcon-exec [--socket PATH] [--] PROGRAM [ARGS...]\n\n"
		"Runs PROGRAM on the virtual network of the netcon service at PATH (default\n"
		"$NETCON_SOCKET, else the default socket) in seccomp mode: its socket control\n"
		"calls are trapped by a seccomp filter and served by the service, whatever C\n"
		"library PROGRAM uses. Statically linked, needs no privilege: made to be the\n"
		"entrypoint of a container (see `netcon container-flags`).\n");
}

int main(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	const char *env = getenv("NETCON_SOCKET");
	int i;

	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		nc_default_socket(path, sizeof(path));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("netcon-exec %s\n", NETCON_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			snprintf(path, sizeof(path), "%s", argv[i] + 9);
		} else if (!strcmp(argv[i], "--socket")) {
			fprintf(stderr, "netcon-exec: option --socket needs a value (see --help)\n");
			return 2;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "netcon-exec: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		} else {
			break;   /* the program, without `--` */
		}
	}
	if (i >= argc) {
		fprintf(stderr, "netcon-exec: no program given (a container run with `netcon "
				"container-flags` needs the program after the image's name)\n");
		return 2;
	}
	return nc_seccomp_exec(path, argv + i);
}
