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

#include "cli/cli.h"
#include "cli/mode.h"
#include "netcon/rpc.h"
#include "netcon/version.h"

static const char help[] =
	"usage: netcon-exec [--socket PATH] [--] PROGRAM [ARGS...]\n\n"
	"Runs PROGRAM on the virtual network of the netcon service at PATH (default\n"
	"$NETCON_SOCKET, else the default socket) in seccomp mode: its socket control\n"
	"calls are trapped by a seccomp filter and served by the service, whatever C\n"
	"library PROGRAM uses. Statically linked, needs no privilege: made to be the\n"
	"entrypoint of a container (see `netcon container-flags`).\n";

int main(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	int i = nc_launcher_args(argc, argv, path, sizeof(path), "netcon-exec", help,
				 NETCON_VERSION, "a container run with `netcon container-flags` "
				 "needs the program after the image's name");

	if (i < 0)
		return i == -1 ? 0 : 2;
	return nc_seccomp_exec(path, argv + i);
}
