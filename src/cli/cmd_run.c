/*
 * cmd_run.c — `netcon run`, `netcon intercept` and `netcon show`: starting programs
 * under the intercept.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cli.h"
#include "log.h"
#include "mode.h"
#include "netcon/rpc.h"

#define LIB_NAME NC_LIB_NAME

/* What the intercept cannot reach, and where it is found: in both commands' --help. */
#define LIMITS_HELP \
	"In preload mode the intercept is loaded with LD_PRELOAD: statically linked\n" \
	"programs, programs that make system calls without the C library (Go's net\n" \
	"package) and set-user-ID programs are not reached by it; seccomp mode reaches\n" \
	"the first two. The library is $NETCON_LIB if set, else " LIB_NAME " beside the\n" \
	"netcon program, else ../lib/netcon/" LIB_NAME " from it (as `make install` puts it).\n"

/* --mode of `netcon intercept` / `netcon run` (mode.c), else NETCON_MODE, else auto. */
static int run_mode = NC_MODE_AUTO;

/* Ask the service for its network, to tell the intercept which addresses are virtual
 * even before it connects (NETCON_NET, NETCON_NET6, NETCON_OUTBOUND). Quiet when the service is unreachable: the
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
	/* --outbound: the intercept need not ask the service about a loopback connect
	 * unless the policy names loopback. */
	if (rep.flags & (NC_HELLO_OUTBOUND | NC_HELLO_OUTBOUND_LO)) {
		char f[8];
		snprintf(f, sizeof(f), "%u", rep.flags & (NC_HELLO_OUTBOUND | NC_HELLO_OUTBOUND_LO));
		setenv("NETCON_OUTBOUND", f, 1);
	} else {
		unsetenv("NETCON_OUTBOUND");
	}
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

	/* Under a seccomp launcher of the same service already, every program is served
	 * by its filter: no second door (LD_PRELOAD would handle each call twice). Under
	 * another service's filter, preload mode still works (its calls on the preloaded
	 * service's sockets pass the filter untouched); seccomp mode cannot. */
	if (nc_seccomp_inherited(socket_path) == 1 ||
	    nc_mode_pick(argv[0], run_mode, why, sizeof(why)) == NC_MODE_SECCOMP)
		return nc_seccomp_exec(socket_path, argv);
	if (nc_find_library(lib, sizeof(lib)) < 0) {
		const char *env = getenv("NETCON_LIB");

		if (env && *env)
			fprintf(stderr, "netcon: NETCON_LIB=%s: cannot read it\n", env);
		else
			fprintf(stderr, "netcon: cannot find " LIB_NAME " beside the netcon program "
					"or in ../lib/netcon/ (set NETCON_LIB to its path)\n");
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
			       "programs and raw system calls (TCP and UDP); auto picks seccomp\n"
			       "for a static program, one whose ELF interpreter is not glibc's, and\n"
			       "a Go program (Go makes its own system calls even linked with glibc).\n\n"
			       LIMITS_HELP);
			return 0;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			snprintf(path, sizeof(path), "%s", argv[i] + 9);
		} else if (!strcmp(argv[i], "--socket")) {
			fprintf(stderr, "netcon intercept: option --socket needs a value (see --help)\n");
			return 2;
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

/*
 * How `netcon run` ends. It forks two children: the service (in its own process group,
 * so that a terminal's ^C reaches only the program) and the program (in run's group).
 * The signals that end a program — SIGTERM, SIGINT, SIGHUP, SIGQUIT — and SIGCHLD are
 * blocked in run and read from a signalfd; one sent by a process (kill, timeout) is
 * passed on to the program, one from the terminal is not (the program, in the
 * foreground group, got it already). When the program exits, by any path, run stops
 * the service, removes its private directory, and exits with the program's status
 * (128 + N for a death by signal N, as a shell reports it). Should run itself die
 * (SIGKILL), both children learn it from PR_SET_PDEATHSIG: the service stops cleanly
 * and removes its socket and the directory, the program gets SIGTERM.
 */
static const int run_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

/* Reap what has exited; clear *svc or *prog (storing its status) when it is theirs. */
static void reap(pid_t *svc, pid_t *prog, int *prog_st)
{
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == *prog) {
			*prog = 0;
			*prog_st = st;
		} else if (p == *svc) {
			*svc = 0;
			if (*prog > 0)
				fprintf(stderr, "netcon run: the service exited (status %d) while "
						"the program runs\n", status_of(st));
		}
	}
}

/*
 * run_wait() - wait for one of: the ready byte on rfd (rfd ≥ 0: returns 0), the exit of
 * the program (*prog becomes 0: returns 0) or of the service before it was ready
 * (returns -1), a signal to end (returns its number, after passing it to the program if
 * one runs). Bounded to 10 s while waiting for the service.
 */
static int run_wait(int sfd, int rfd, pid_t *svc, pid_t *prog, int *prog_st)
{
	struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = rfd, .events = POLLIN } };
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct signalfd_siginfo si;
		int r = poll(p, rfd >= 0 ? 2 : 1, rfd >= 0 ? 100 : -1);

		if (r < 0 && errno != EINTR)
			return -1;
		if (rfd >= 0 && r > 0 && p[1].revents) {
			char c;
			return read(rfd, &c, 1) == 1 ? 0 : -1;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGCHLD)
				continue;
			if (*prog <= 0)
				return (int)si.ssi_signo;
			if (si.ssi_code != SI_KERNEL)
				kill(*prog, (int)si.ssi_signo);
		}
		reap(svc, prog, prog_st);
		if (rfd < 0 && *prog == 0)
			return 0;
		if (rfd >= 0 && *svc == 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (rfd >= 0 && t.tv_sec - t0.tv_sec >= 10)
			return -1;
	}
}

/* Stop the service (SIGTERM, then SIGKILL after 5 s) and reap it. */
static void stop_service(pid_t svc)
{
	int st;

	if (svc <= 0)
		return;
	kill(svc, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(svc, &st, WNOHANG) == svc)
			return;
		usleep(100 * 1000);
	}
	kill(svc, SIGKILL);
	waitpid(svc, &st, 0);
}

/* Unlink path if it is a socket of ours. */
static void unlink_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid())
		unlink(path);
}

/* Remove run's private directory: the service's sockets in it if any are left (the
 * service was killed: its socket, or the temporary name it binds first), then the
 * directory if it is empty. Nothing else is removed. */
static void remove_run_dir(const char *dir, const char *sock, pid_t svc_pid)
{
	char tmp[PATH_MAX];

	unlink_socket(sock);
	if (svc_pid > 0) {
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", sock, (int)svc_pid);
		unlink_socket(tmp);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		fprintf(stderr, "netcon run: %s left in place: %s\n", dir, strerror(errno));
}

/* In a child: ask for sig when run dies, and make sure run has not died already. */
static void die_with_parent(pid_t parent, int sig)
{
	prctl(PR_SET_PDEATHSIG, sig);
	if (getppid() != parent)
		_exit(1);
}

int cmd_run(int argc, char **argv)
{
	struct nc_config cfg;
	char dir[] = "/tmp/netcon-run.XXXXXX";
	int idx = 1, r, pfd[2], sfd, st = 0, socket_given = 0, ret = 1;
	pid_t svc = 0, prog = 0, svc_pid = 0, self = getpid();
	sigset_t set, old;

	if ((run_mode = nc_mode_take_option(&argc, argv, "netcon run")) < 0)
		return 2;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon run [SERVICE OPTIONS] -- PROGRAM [ARGS...]\n\n"
			       "Starts a service, runs PROGRAM under it, stops the service when\n"
			       "PROGRAM exits, and exits with PROGRAM's status (128+N if signal N\n"
			       "ended it). Without --socket the service's socket is private to this\n"
			       "run. SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to run are passed on to\n"
			       "PROGRAM; should run be killed, the service stops and PROGRAM gets\n"
			       "SIGTERM.\n\n"
			       LIMITS_HELP "\n");
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
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(run_signals) / sizeof(run_signals[0]); i++)
		sigaddset(&set, run_signals[i]);
	sigaddset(&set, SIGCHLD);
	signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the children for us */
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "netcon run: signals: %s\n", strerror(errno));
		return 1;
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
		goto out;
	}
	svc = fork();
	if (svc < 0) {
		fprintf(stderr, "netcon run: fork: %s\n", strerror(errno));
		svc = 0;
		goto out;
	}
	if (svc == 0) {
		sigset_t keep = old;

		/* The service blocks SIGTERM/SIGINT/SIGHUP for its own signalfd: keep them
		 * blocked so that one sent now is handled as a clean stop. */
		sigaddset(&keep, SIGTERM);
		sigaddset(&keep, SIGINT);
		sigaddset(&keep, SIGHUP);
		sigprocmask(SIG_SETMASK, &keep, NULL);
		close(sfd);
		close(pfd[0]);
		setpgid(0, 0);
		die_with_parent(self, SIGTERM);
		cfg.ready_fd = pfd[1];
		nc_log_init("netcon service", 0);
		nc_log_level = cfg.log_level;
		r = nc_service_run(&cfg);
		if (!socket_given)
			rmdir(dir);   /* empty now, unless the program left something there */
		_exit(r);
	}
	svc_pid = svc;
	close(pfd[1]);
	r = run_wait(sfd, pfd[0], &svc, &prog, &st);
	close(pfd[0]);
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "netcon run: the service did not start\n");
		ret = r > 0 ? 128 + r : 1;
		goto out;
	}
	prog = fork();
	if (prog < 0) {
		fprintf(stderr, "netcon run: fork: %s\n", strerror(errno));
		prog = 0;
		goto out;
	}
	if (prog == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		die_with_parent(self, SIGTERM);
		_exit(exec_under(cfg.socket_path, argv + idx + 1));
	}
	run_wait(sfd, -1, &svc, &prog, &st);
	/* Only if polling the signalfd failed: wait for the program without it. */
	while (prog > 0 && waitpid(prog, &st, 0) < 0 && errno == EINTR)
		;
	ret = status_of(st);
out:
	stop_service(svc);
	if (!socket_given)
		remove_run_dir(dir, cfg.socket_path, svc_pid);
	close(sfd);
	return ret;
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
			printf("usage: netcon show [--mode M] [PROGRAM]\n\n"
			       "Shows the paths of the intercept library and of netcon-exec (the\n"
			       "containers' launcher), the control socket, whether the intercept is\n"
			       "loaded here (through LD_PRELOAD), and whether a service answers on\n"
			       "the socket; with PROGRAM, the mode (preload or seccomp) `netcon\n"
			       "intercept` would use.\n");
			return 0;
		}
		if (argv[1][0] == '-') {
			fprintf(stderr, "netcon show: unknown option '%s' (see --help)\n", argv[1]);
			return 2;
		}
		if (argc > 2) {
			fprintf(stderr, "netcon show: unknown argument '%s' (see --help)\n", argv[2]);
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
	if (nc_find_exec(lib, sizeof(lib)) == 0)
		printf("launcher:  %s (netcon-exec, for containers)\n", lib);
	else
		printf("launcher:  not found (build it, or set NETCON_EXEC)\n");
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
