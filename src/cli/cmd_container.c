/*
 * cmd_container.c — `netcon container-flags`: the `run` options that put a container of
 * Docker or Podman on a service's virtual network.
 *
 * The container gets no network of its own (`--network none`: only its loopback), the
 * directory of the service's control socket (a directory, not the socket file: a service
 * restarted makes a new socket there, which a file mount would not show), netcon-exec as
 * its entrypoint, and NETCON_SOCKET naming the socket inside it. netcon-exec then puts
 * the program in seccomp mode (docs/containers.md). When the service answers, its address
 * becomes the container's DNS server: the service answers for its name table when started
 * with --dns.
 *
 * The flags are printed as one line of words for `docker run $(netcon container-flags)`:
 * a path with white space or a comma (which --mount would split) is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "netcon/rpc.h"

/* Where the mounts appear inside the container. */
#define CT_RUN_DIR "/run/netcon"
#define CT_EXEC    "/.netcon-exec"

static int plain_path(const char *what, const char *p)
{
	if (strpbrk(p, " \t\n,=\"'") == NULL)
		return 0;
	fprintf(stderr, "netcon container-flags: the %s path '%s' has a character that the "
			"engines' --mount would split (white space, ',', '=' or a quote)\n", what, p);
	return -1;
}

int cmd_container_flags(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX], abs[PATH_MAX], dirbuf[PATH_MAX], base[NC_SOCKET_PATH_MAX];
	char exe[PATH_MAX], ip[INET_ADDRSTRLEN] = "";
	const char *engine = "docker";
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	struct nc_hello_rep rep;
	struct stat st;
	size_t len = 0;
	char *dir;

	nc_client_socket(path, sizeof(path));
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = NULL;

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			printf("usage: netcon container-flags [--socket PATH] [--engine docker|podman]\n\n"
			       "Prints the options of `docker run` / `podman run` that put a container\n"
			       "on the virtual network of the service at PATH (default $NETCON_SOCKET,\n"
			       "else the default socket):\n\n"
			       "  docker run $(netcon container-flags) IMAGE PROGRAM [ARGS...]\n\n"
			       "--network none; the socket's directory mounted at " CT_RUN_DIR ";\n"
			       "netcon-exec (statically linked) mounted read-only at " CT_EXEC " as\n"
			       "the entrypoint, so PROGRAM must be given; NETCON_SOCKET; and for Docker,\n"
			       "when the service answers, --dns with its address (names of its --host\n"
			       "table, with the service's --dns; Podman refuses --dns beside --network\n"
			       "none). PROGRAM runs in seccomp mode: the image's\n"
			       "C library does not matter, and nothing in the container needs a\n"
			       "capability. --engine podman adds --security-opt label=disable (the\n"
			       "container must reach the host's socket under SELinux too).\n");
			return 0;
		}
		if (!strcmp(opt, "--socket") || !strcmp(opt, "--engine")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "netcon container-flags: option %s needs a value (see "
						"--help)\n", opt);
				return 2;
			}
			val = argv[++i];
		} else if (!strncmp(opt, "--socket=", 9) || !strncmp(opt, "--engine=", 9)) {
			val = opt + 9;
		} else {
			fprintf(stderr, "netcon container-flags: unknown %s '%s' (see --help)\n",
				opt[0] == '-' ? "option" : "argument", opt);
			return 2;
		}
		if (!strncmp(opt, "--socket", 8)) {
			snprintf(path, sizeof(path), "%s", val);
		} else if (!strcmp(val, "docker") || !strcmp(val, "podman")) {
			engine = val;
		} else {
			fprintf(stderr, "netcon container-flags: unknown engine '%s' (docker or "
					"podman)\n", val);
			return 2;
		}
	}
	/* The socket's directory must exist (the engines would create a missing one, empty,
	 * as root); the socket itself may come later, with its service. */
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(path));
	dir = dirname(dirbuf);
	if (!realpath(dir, abs) || stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "netcon container-flags: the socket's directory %s: %s\n", dir,
			errno ? strerror(errno) : "not a directory");
		return 1;
	}
	if (nc_find_exec(exe, sizeof(exe)) < 0) {
		fprintf(stderr, "netcon container-flags: cannot find " NC_EXEC_NAME " beside the "
				"netcon program or in ../lib/netcon/ (build it, or set NETCON_EXEC)\n");
		return 1;
	}
	if (plain_path("socket directory", abs) < 0 || plain_path("socket", base) < 0 ||
	    plain_path(NC_EXEC_NAME, exe) < 0)
		return 1;
	/* Podman refuses --dns beside --network none. */
	if (!strcmp(engine, "docker") &&
	    nc_cli_request(path, NC_MSG_HELLO, &q, sizeof(q), &rep, sizeof(rep), &len) == 0 &&
	    len == sizeof(rep))
		inet_ntop(AF_INET, rep.ip4, ip, sizeof(ip));
	printf("--network none --mount type=bind,src=%s,dst=" CT_RUN_DIR
	       " --mount type=bind,src=%s,dst=" CT_EXEC ",readonly --env NETCON_SOCKET="
	       CT_RUN_DIR "/%s --entrypoint " CT_EXEC "%s%s%s\n", abs, exe, base,
	       *ip ? " --dns " : "", ip, !strcmp(engine, "podman") ?
	       " --security-opt label=disable" : "");
	return 0;
}
