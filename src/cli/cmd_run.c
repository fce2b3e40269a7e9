/*
 * cmd_run.c — `netcon run`, `netcon intercept` and `netcon show`: starting programs
 * under the intercept.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cli.h"
#include "log.h"
#include "mode.h"

#define LIB_NAME "libnetcon.so"

/* --mode of `netcon intercept` / `netcon run` (mode.c), else NETCON_MODE, else auto. */
static int run_mode = NC_MODE_AUTO;

int nc_find_library(char *buf, size_t len)
{
	char exe[PATH_MAX], *dir;
	const char *env = getenv("NETCON_LIB");
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) == 0 ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -ENOENT;
	exe[n] = '\0';
	dir = dirname(exe);
	snprintf(buf, len, "%s/" LIB_NAME, dir);
	if (access(buf, R_OK) == 0)
		return 0;
	snprintf(buf, len, "%s/../lib/netcon/" LIB_NAME, dir);
	if (access(buf, R_OK) == 0) {
		char real[PATH_MAX];
		if (realpath(buf, real))
			snprintf(buf, len, "%s", real);
		return 0;
	}
	return -ENOENT;
}

/* Ask the service for its network, to tell the intercept which addresses are virtual
 * even before it connects (NETCON_NET). Quiet when the service is unreachable: the
 * intercept says so itself when the program first needs it. */
static void export_net(const char *path)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	struct nc_hello_rep rep;
	char ip[INET_ADDRSTRLEN], net[64];
	size_t len = 0;

	if (nc_cli_request(path, NC_MSG_HELLO, &q, sizeof(q), &rep, sizeof(rep), &len) != 0 ||
	    len != sizeof(rep))
		return;
	inet_ntop(AF_INET, rep.ip4, ip, sizeof(ip));
	snprintf(net, sizeof(net), "%s/%u", ip, rep.prefix4);
	setenv("NETCON_NET", net, 1);
	if (rep.n_ip6 > 0 && rep.n_ip6 <= NC_HELLO_MAX_IP6) {
		char net6[NC_HELLO_MAX_IP6 * (INET6_ADDRSTRLEN + 5)] = "", a6[INET6_ADDRSTRLEN];
		size_t used = 0;

		for (int i = 0; i < rep.n_ip6; i++) {
			inet_ntop(AF_INET6, rep.ip6[i].addr, a6, sizeof(a6));
			used += (size_t)snprintf(net6 + used, sizeof(net6) - used, "%s%s/%u",
						 i ? "," : "", a6, rep.ip6[i].prefix);
		}
		setenv("NETCON_NET6", net6, 1);
	} else {
		unsetenv("NETCON_NET6");
	}
}

/* Exec argv under the intercept; returns only on failure (status 127 or 126). */
static int exec_under(const char *socket_path, char **argv)
{
	char lib[PATH_MAX], preload[PATH_MAX * 2], why[PATH_MAX + 64];
	const char *old = getenv("LD_PRELOAD");

	if (nc_mode_pick(argv[0], run_mode, why, sizeof(why)) == NC_MODE_SECCOMP)
		return nc_seccomp_exec(socket_path, argv);
	if (nc_find_library(lib, sizeof(lib)) < 0) {
		fprintf(stderr, "netcon: cannot find " LIB_NAME " next to the netcon program "
				"(set NETCON_LIB to its path)\n");
		return 127;
	}
	if (old && *old && !strstr(old, LIB_NAME))
		snprintf(preload, sizeof(preload), "%s:%s", lib, old);
	else
		snprintf(preload, sizeof(preload), "%s", lib);
	setenv("LD_PRELOAD", preload, 1);
	setenv("NETCON_SOCKET", socket_path, 1);
	export_net(socket_path);
	execvp(argv[0], argv);
	fprintf(stderr, "netcon: cannot run %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int cmd_intercept(int argc, char **argv)
{
	char path[NC_SOCKET_PATH_MAX];
	const char *env = getenv("NETCON_SOCKET");
	int i;

	if ((run_mode = nc_mode_take_option(&argc, argv, "netcon intercept")) < 0)
		return 2;
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		nc_default_socket(path, sizeof(path));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon intercept [--mode auto|preload|seccomp] [--socket PATH] -- PROGRAM [ARGS...]\n\n"
			       "Runs PROGRAM with the netcon intercept loaded: its TCP and UDP sockets\n"
			       "(IPv4 and IPv6) on the service's network, and those bound to the\n"
			       "wildcard, are served by the service at PATH (default $NETCON_SOCKET,\n"
			       "else the default socket); names of the service's --host table resolve.\n\n"
			       "--mode (default $NETCON_MODE, else auto): preload loads libnetcon.so;\n"
			       "seccomp traps the socket control calls with a seccomp filter, for static\n"
			       "programs and raw system calls (TCP; UDP not yet); auto picks seccomp\n"
			       "for a static program or one whose ELF interpreter is not glibc's.\n");
			return 0;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			snprintf(path, sizeof(path), "%s", argv[i] + 9);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "netcon intercept: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		} else {
			break;   /* the program, without `--` */
		}
	}
	if (i >= argc) {
		fprintf(stderr, "netcon intercept: no program given (usage: netcon intercept "
				"[--socket PATH] -- PROGRAM [ARGS...])\n");
		return 2;
	}
	return exec_under(path, argv + i);
}

/* Wait until the service writes its ready byte, exits, or 10 s pass. 0 when ready. */
static int wait_ready(int rfd, pid_t svc)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	char c;

	for (int waited = 0; waited < 10000; waited += 100) {
		int r = poll(&p, 1, 100);
		if (r > 0)
			return read(rfd, &c, 1) == 1 ? 0 : -1;
		if (waitpid(svc, NULL, WNOHANG) == svc)
			return -1;
	}
	return -1;
}

static void stop_service(pid_t svc)
{
	int st;

	kill(svc, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(svc, &st, WNOHANG) == svc)
			return;
		usleep(100 * 1000);
	}
	kill(svc, SIGKILL);
	waitpid(svc, &st, 0);
}

int cmd_run(int argc, char **argv)
{
	struct nc_config cfg;
	char dir[] = "/tmp/netcon-run.XXXXXX";
	int idx = 1, r, pfd[2], st, socket_given = 0;
	pid_t svc, prog;

	if ((run_mode = nc_mode_take_option(&argc, argv, "netcon run")) < 0)
		return 2;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon run [SERVICE OPTIONS] -- PROGRAM [ARGS...]\n\n"
			       "Starts a service, runs PROGRAM under it, stops the service when\n"
			       "PROGRAM exits, and exits with PROGRAM's status. Without --socket the\n"
			       "service's socket is private to this run.\n\n");
			nc_config_usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--socket") || !strncmp(argv[i], "--socket=", 9))
			socket_given = 1;
	}
	r = nc_config_parse(&cfg, argc, argv, &idx, "netcon run");
	if (r)
		return r;
	if (idx >= argc || idx + 1 >= argc) {
		fprintf(stderr, "netcon run: no program given (usage: netcon run [SERVICE OPTIONS] "
				"-- PROGRAM [ARGS...])\n");
		return 2;
	}
	if (!socket_given) {
		if (!mkdtemp(dir)) {
			fprintf(stderr, "netcon run: mkdtemp: %s\n", strerror(errno));
			return 1;
		}
		snprintf(cfg.socket_path, sizeof(cfg.socket_path), "%s/service.sock", dir);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "netcon run: pipe: %s\n", strerror(errno));
		return 1;
	}
	svc = fork();
	if (svc < 0) {
		fprintf(stderr, "netcon run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (svc == 0) {
		/* The service: its own process group, so a terminal's ^C reaches the program
		 * only; we stop the service after the program. */
		setpgid(0, 0);
		close(pfd[0]);
		cfg.ready_fd = pfd[1];
		nc_log_init("netcon service", 0);
		nc_log_level = cfg.log_level;
		_exit(nc_service_run(&cfg));
	}
	close(pfd[1]);
	if (wait_ready(pfd[0], svc) < 0) {
		fprintf(stderr, "netcon run: the service did not start\n");
		stop_service(svc);
		if (!socket_given)
			rmdir(dir);
		return 1;
	}
	close(pfd[0]);
	prog = fork();
	if (prog < 0) {
		fprintf(stderr, "netcon run: fork: %s\n", strerror(errno));
		stop_service(svc);
		return 1;
	}
	if (prog == 0)
		_exit(exec_under(cfg.socket_path, argv + idx + 1));
	signal(SIGINT, SIG_IGN);   /* the program decides what ^C means */
	while (waitpid(prog, &st, 0) < 0 && errno == EINTR)
		;
	stop_service(svc);
	if (!socket_given)
		rmdir(dir);
	return status_of(st);
}

int cmd_show(int argc, char **argv)
{
	char lib[PATH_MAX], path[NC_SOCKET_PATH_MAX];
	const char *env = getenv("NETCON_SOCKET"), *pre = getenv("LD_PRELOAD");
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	struct nc_hello_rep rep;
	size_t len = 0;
	int r;

	int mode;

	if ((mode = nc_mode_take_option(&argc, argv, "netcon show")) < 0)
		return 2;
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: netcon show [--mode M] [PROGRAM]\n\nShows the intercept library's path, the "
			       "control socket, whether the intercept is loaded here (through\n"
			       "LD_PRELOAD), and whether a service answers on the socket; with\n"
			       "PROGRAM, the mode (preload or seccomp) `netcon intercept` would use.\n");
			return 0;
		}
		if (argv[1][0] == '-' || argc > 2) {
			fprintf(stderr, "netcon show: unknown argument '%s' (see --help)\n", argv[1]);
			return 2;
		}
	}
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		nc_default_socket(path, sizeof(path));
	if (nc_find_library(lib, sizeof(lib)) == 0)
		printf("library:   %s\n", lib);
	else
		printf("library:   not found (build it, or set NETCON_LIB)\n");
	printf("socket:    %s%s\n", path, env && *env ? " (NETCON_SOCKET)" : " (default)");
	printf("loaded:    %s\n", pre && strstr(pre, LIB_NAME) ? "yes (LD_PRELOAD)" : "no");
	r = nc_cli_request(path, NC_MSG_HELLO, &q, sizeof(q), &rep, sizeof(rep), &len);
	if (r == 0 && len == sizeof(rep)) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, rep.ip4, ip, sizeof(ip));
		printf("service:   pid %u, %s/%u, mtu %u\n", rep.service_pid, ip, rep.prefix4, rep.mtu);
		for (int i = 0; i < rep.n_ip6 && i < NC_HELLO_MAX_IP6; i++) {
			char a6[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, rep.ip6[i].addr, a6, sizeof(a6));
			printf("           %s/%u%s\n", a6, rep.ip6[i].prefix,
			       i == 0 ? " (link-local)" : "");
		}
	} else {
		printf("service:   not reachable (%s)\n", strerror(r < 0 ? -r : r));
	}
	if (argc > 1) {
		char why[PATH_MAX + 64];
		int m = nc_mode_pick(argv[1], mode, why, sizeof(why));
		printf("mode:      %s for %s (%s)\n", nc_mode_names[m], argv[1], why);
	}
	return 0;
}
