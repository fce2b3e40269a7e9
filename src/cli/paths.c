/*
 * paths.c — where the command finds what it hands to programs: the control socket, the
 * intercept library and the container launcher.
 *
 * The library and the launcher are looked up the same way: an environment variable if
 * set, else beside the netcon program (a build tree: build/netcon, build/libnetcon.so,
 * build/netcon-exec), else in ../lib/netcon/ from it (as `make install` puts them).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void nc_default_socket(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (x && *x)
		snprintf(buf, len, "%s/netcon/default.sock", x);
	else
		snprintf(buf, len, "/run/netcon/default.sock");
}

void nc_client_socket(char *buf, size_t len)
{
	const char *env = getenv("NETCON_SOCKET");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else
		nc_default_socket(buf, len);
}

int nc_socket_option(int argc, char **argv, int *i, char *buf, size_t len, const char *prog)
{
	const char *a = argv[*i];

	if (!strncmp(a, "--socket=", 9)) {
		snprintf(buf, len, "%s", a + 9);
		return 1;
	}
	if (strcmp(a, "--socket"))
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: option --socket needs a value (see --help)\n", prog);
		return -1;
	}
	snprintf(buf, len, "%s", argv[++*i]);
	return 1;
}

int nc_launcher_args(int argc, char **argv, char *path, size_t len, const char *prog,
		     const char *help, const char *version, const char *no_program)
{
	int i, so;

	nc_client_socket(path, len);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			return -1;
		} else if (version && !strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, version);
			return -1;
		} else if ((so = nc_socket_option(argc, argv, &i, path, len, prog)) != 0) {
			if (so < 0)
				return -3;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, argv[i]);
			return -3;
		} else {
			break;   /* the program, without `--` */
		}
	}
	if (i >= argc) {
		fprintf(stderr, "%s: no program given (%s)\n", prog, no_program);
		return -3;
	}
	return i;
}

/* $env, else NAME beside this program, else ../lib/netcon/NAME from it (resolved). mode:
 * what access(2) must grant. 0 and the path in buf, or -ENOENT. */
static int find_beside(const char *env, const char *name, int mode, char *buf, size_t len)
{
	char exe[PATH_MAX], *dir;
	const char *val = getenv(env);
	ssize_t n;

	if (val && *val) {
		snprintf(buf, len, "%s", val);
		return access(buf, mode) == 0 ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -ENOENT;
	exe[n] = '\0';
	dir = dirname(exe);
	snprintf(buf, len, "%s/%s", dir, name);
	if (access(buf, mode) == 0)
		return 0;
	snprintf(buf, len, "%s/../lib/netcon/%s", dir, name);
	if (access(buf, mode) == 0) {
		char real[PATH_MAX];
		if (realpath(buf, real))
			snprintf(buf, len, "%s", real);
		return 0;
	}
	return -ENOENT;
}

int nc_find_library(char *buf, size_t len)
{
	return find_beside("NETCON_LIB", NC_LIB_NAME, R_OK, buf, len);
}

int nc_find_exec(char *buf, size_t len)
{
	return find_beside("NETCON_EXEC", NC_EXEC_NAME, X_OK, buf, len);
}
