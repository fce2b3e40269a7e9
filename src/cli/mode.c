/*
 * mode.c — preload or seccomp: which door a program takes into the service, and the
 * launcher of seccomp mode.
 *
 * The launcher stays the program: it connects to the control socket, installs the filter
 * (common/seccomp_filter.c), sends the filter's listener to the service, and execs the
 * program, which keeps its pid. No supervisor process is left behind: the service answers
 * the trapped calls from its event loop (service/seccomp.c).
 *
 * The filter traps sendmsg and recvmsg, and nobody answers them until the service has the
 * listener, which travels by sendmsg (SCM_RIGHTS). So a helper thread made before the
 * filter — a filter covers the thread that installs it and what that thread creates
 * afterwards, not its older siblings — carries the listener and the service's answer;
 * the launcher's thread waits for it to end (a futex, not trapped) and then execs.
 */
#include "mode.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/rpc.h"
#include "seccomp_filter.h"

const char *const nc_mode_names[NC_MODE_COUNT] = {
	[NC_MODE_AUTO] = "auto",
	[NC_MODE_PRELOAD] = "preload",
	[NC_MODE_SECCOMP] = "seccomp",
};

int nc_mode_parse(const char *s)
{
	for (int m = 0; m < NC_MODE_COUNT; m++)
		if (s && !strcmp(s, nc_mode_names[m]))
			return m;
	return -1;
}

int nc_mode_take_option(int *argc, char **argv, const char *prog)
{
	const char *env = getenv("NETCON_MODE"), *val = NULL;
	int i, m;

	for (i = 1; i < *argc && strcmp(argv[i], "--"); i++) {
		int take = 0;

		if (!strcmp(argv[i], "--mode") && i + 1 < *argc) {
			val = argv[i + 1];
			take = 2;
		} else if (!strncmp(argv[i], "--mode=", 7)) {
			val = argv[i] + 7;
			take = 1;
		}
		if (!take)
			continue;
		memmove(&argv[i], &argv[i + take], (size_t)(*argc - i - take + 1) * sizeof(char *));
		*argc -= take;
		i--;
	}
	if (!val)
		val = env && *env ? env : "auto";
	m = nc_mode_parse(val);
	if (m < 0)
		fprintf(stderr, "%s: unknown mode '%s' (auto, preload or seccomp)%s\n", prog, val,
			val == env ? " in NETCON_MODE" : "");
	return m;
}

/* Find prog as execvp would: a name with a slash as is, else the first executable in
 * PATH. 0 and the path in buf, or -ENOENT. */
static int find_program(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(buf, len, "%s", prog);
		return 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if ((int)snprintf(buf, len, "%.*s/%s", (int)n, n ? path : ".", prog) < (int)len &&
		    access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* The ELF interpreter of the file open on fd: 1 and its path, 0 for none (static), -1
 * for a file that is not a readable ELF program. */
static int elf_interp(int fd, char *interp, size_t len)
{
	unsigned char id[EI_NIDENT];
	uint64_t phoff, off = 0, sz = 0;
	unsigned phnum, phentsize;
	int is64, found = 0;

	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		return -1;
	is64 = id[EI_CLASS] == ELFCLASS64;
	{
		union { Elf64_Ehdr e64; Elf32_Ehdr e32; } e;
		size_t want = is64 ? sizeof(e.e64) : sizeof(e.e32);

		if (pread(fd, &e, want, 0) != (ssize_t)want)
			return -1;
		phoff = is64 ? e.e64.e_phoff : e.e32.e_phoff;
		phnum = is64 ? e.e64.e_phnum : e.e32.e_phnum;
		phentsize = is64 ? e.e64.e_phentsize : e.e32.e_phentsize;
	}
	if (phnum > 4096 || phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return -1;
	for (unsigned i = 0; i < phnum && !found; i++) {
		off_t at = (off_t)(phoff + (uint64_t)i * phentsize);
		union { Elf64_Phdr p64; Elf32_Phdr p32; } ph;
		size_t want = is64 ? sizeof(ph.p64) : sizeof(ph.p32);

		if (pread(fd, &ph, want, at) != (ssize_t)want)
			return -1;
		if ((is64 ? ph.p64.p_type : ph.p32.p_type) == PT_INTERP) {
			off = is64 ? ph.p64.p_offset : ph.p32.p_offset;
			sz = is64 ? ph.p64.p_filesz : ph.p32.p_filesz;
			found = 1;
		}
	}
	if (!found)
		return 0;
	if (sz == 0 || sz >= len || pread(fd, interp, sz, (off_t)off) != (ssize_t)sz)
		return -1;
	interp[sz] = '\0';
	return 1;
}

/* A Go program: a PT_NOTE holding the note "Go" of type 4 (the Go linker's build id,
 * section .note.go.buildid), or, without it (-buildid=""), a section named .go.buildinfo
 * (every Go program since Go 1.13). Go makes its socket calls with its own syscall
 * instructions even when linked with glibc (cgo: Debian builds its Go programs that way),
 * so LD_PRELOAD cannot reach them. 1 if Go, else 0. */
static int elf_is_go(int fd)
{
	Elf64_Ehdr e;
	unsigned i;

	/* Go's ports that Linux seccomp mode serves are 64-bit (x86_64). */
	if (pread(fd, &e, sizeof(e), 0) != (ssize_t)sizeof(e) || e.e_ident[EI_CLASS] != ELFCLASS64)
		return 0;
	if (e.e_phnum <= 4096 && e.e_phentsize >= sizeof(Elf64_Phdr)) {
		for (i = 0; i < e.e_phnum; i++) {
			Elf64_Phdr ph;
			unsigned char note[512];
			size_t at = 0, n;

			if (pread(fd, &ph, sizeof(ph), (off_t)(e.e_phoff + (uint64_t)i * e.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				return 0;
			if (ph.p_type != PT_NOTE)
				continue;
			n = ph.p_filesz < sizeof(note) ? (size_t)ph.p_filesz : sizeof(note);
			if (pread(fd, note, n, (off_t)ph.p_offset) != (ssize_t)n)
				continue;
			while (at + sizeof(Elf64_Nhdr) <= n) {
				Elf64_Nhdr nh;
				size_t name = at + sizeof(nh);

				memcpy(&nh, note + at, sizeof(nh));
				if (nh.n_type == 4 && nh.n_namesz == 3 && name + 3 <= n &&
				    !memcmp(note + name, "Go", 3))
					return 1;
				at = name + ((nh.n_namesz + 3u) & ~3u) + ((nh.n_descsz + 3u) & ~3u);
			}
		}
	}
	if (e.e_shnum > 0 && e.e_shnum <= 4096 && e.e_shentsize >= sizeof(Elf64_Shdr) &&
	    e.e_shstrndx < e.e_shnum) {
		Elf64_Shdr strs;
		char name[16];

		if (pread(fd, &strs, sizeof(strs), (off_t)(e.e_shoff + (uint64_t)e.e_shstrndx *
								e.e_shentsize)) != (ssize_t)sizeof(strs))
			return 0;
		for (i = 0; i < e.e_shnum; i++) {
			Elf64_Shdr sh;

			if (pread(fd, &sh, sizeof(sh), (off_t)(e.e_shoff + (uint64_t)i * e.e_shentsize)) !=
			    (ssize_t)sizeof(sh))
				return 0;
			if (sh.sh_name >= strs.sh_size ||
			    pread(fd, name, sizeof(name), (off_t)(strs.sh_offset + sh.sh_name)) !=
				    (ssize_t)sizeof(name))
				continue;
			if (!memcmp(name, ".go.buildinfo", sizeof(".go.buildinfo")))
				return 1;
		}
	}
	return 0;
}

/* glibc's dynamic loaders are ld-linux*.so (ld-linux-x86-64.so.2, ld-linux.so.2,
 * ld-linux-aarch64.so.1, ...); musl's is ld-musl-ARCH.so.1. */
static int is_glibc_interp(const char *interp)
{
	const char *base = strrchr(interp, '/');

	base = base ? base + 1 : interp;
	return !strncmp(base, "ld-linux", 8);
}

int nc_mode_pick(const char *prog, int mode, char *why, size_t len)
{
	char path[PATH_MAX], interp[PATH_MAX];
	int depth, r;

	if (mode == NC_MODE_PRELOAD || mode == NC_MODE_SECCOMP) {
		snprintf(why, len, "asked for");
		return mode;
	}
	if (find_program(prog, path, sizeof(path)) < 0) {
		snprintf(why, len, "not found: preload");
		return NC_MODE_PRELOAD;
	}
	for (depth = 0; depth < 4; depth++) {
		char head[PATH_MAX + 2];
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			snprintf(why, len, "cannot read %s: preload", path);
			return NC_MODE_PRELOAD;
		}
		n = pread(fd, head, sizeof(head) - 1, 0);
		if (n > 2 && head[0] == '#' && head[1] == '!') {
			/* A script: its interpreter decides. */
			char *p = head + 2, *e;
			close(fd);
			head[n] = '\0';
			p += strspn(p, " \t");
			e = p + strcspn(p, " \t\n");
			*e = '\0';
			if (!*p) {
				snprintf(why, len, "script without interpreter: preload");
				return NC_MODE_PRELOAD;
			}
			snprintf(path, sizeof(path), "%s", p);
			continue;
		}
		r = elf_interp(fd, interp, sizeof(interp));
		if (r < 0) {
			close(fd);
			snprintf(why, len, "not an ELF program: preload");
			return NC_MODE_PRELOAD;
		}
		if (r == 0) {
			close(fd);
			snprintf(why, len, "statically linked");
			return NC_MODE_SECCOMP;
		}
		if (elf_is_go(fd)) {
			close(fd);
			snprintf(why, len, "a Go program, linked with %s (Go makes its own system calls)",
				 interp);
			return NC_MODE_SECCOMP;
		}
		close(fd);
		if (is_glibc_interp(interp)) {
			snprintf(why, len, "dynamically linked with glibc (%s)", interp);
			return NC_MODE_PRELOAD;
		}
		snprintf(why, len, "ELF interpreter %s is not glibc's", interp);
		return NC_MODE_SECCOMP;
	}
	snprintf(why, len, "scripts nested too deep: preload");
	return NC_MODE_PRELOAD;
}

/* Take our library out of LD_PRELOAD: in seccomp mode the filter covers every program
 * the launched one execs, glibc ones included, and each call must be handled once. */
static void drop_preload(void)
{
	const char *old = getenv("LD_PRELOAD");
	char buf[4096] = "";
	size_t used = 0;

	if (!old || !strstr(old, "libnetcon.so"))
		return;
	while (*old) {
		size_t n = strcspn(old, ": ");
		if (n && !(n >= 12 && !strncmp(old + n - 12, "libnetcon.so", 12)) &&
		    used + n + 2 < sizeof(buf)) {
			if (used)
				buf[used++] = ':';
			memcpy(buf + used, old, n);
			used += n;
			buf[used] = '\0';
		}
		old += n + (old[n] != '\0');
	}
	if (used)
		setenv("LD_PRELOAD", buf, 1);
	else
		unsetenv("LD_PRELOAD");
}

/* Set by the launcher for the program it starts: the socket of the service that serves
 * the filter the program is under. */
#define INHERITED_ENV "NETCON_SECCOMP_SOCKET"

/* The same service: the same path, or the same socket by inode. */
static int same_socket(const char *a, const char *b)
{
	struct stat sa, sb;

	return !strcmp(a, b) || (stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
				 sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

int nc_seccomp_inherited(const char *socket_path)
{
	const char *s = getenv(INHERITED_ENV);

	if (!s || !*s || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		return 0;
	return same_socket(s, socket_path) ? 1 : 2;
}

/* Under the filter of a launcher before us (`netcon intercept` run by a program that is
 * already in seccomp mode, netcon-exec's children): a second filter with a listener is
 * refused by the kernel (EBUSY), and none is needed — every call is already trapped and
 * served. Run argv as it is when it names the same service; refuse another one. */
static int exec_inherited(const char *socket_path, char **argv)
{
	const char *old = getenv(INHERITED_ENV);

	if (nc_seccomp_inherited(socket_path) != 1) {
		fprintf(stderr, "netcon: this program is in seccomp mode under the service at %s; "
				"a program under it cannot move to the service at %s\n", old,
			socket_path);
		return 1;
	}
	drop_preload();
	setenv("NETCON_SOCKET", socket_path, 1);
	execvp(argv[0], argv);
	fprintf(stderr, "netcon: cannot run %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* The helper thread: hands the listener (read from the pipe; -1: none) to the service
 * and keeps its answer (0 or a positive errno). */
struct handoff {
	int fd;          /* the control socket */
	int pipe[2];
	int err;
};

static void *handoff_thread(void *arg)
{
	struct handoff *ho = arg;
	struct nc_seccomp_req q = { .pid = (uint32_t)getpid() };
	int lfd = -1, fds[NC_RPC_MAX_FDS], nfds, r;
	uint8_t buf[256];
	const char *why;
	struct nc_hdr h;
	ssize_t n;

	if (read(ho->pipe[0], &lfd, sizeof(lfd)) != sizeof(lfd) || lfd < 0) {
		ho->err = ECANCELED;
		return NULL;
	}
	memset(&h, 0, sizeof(h));
	h.type = NC_MSG_SECCOMP;
	h.flags = NC_F_SUBJECT_FD;
	h.seq = 1;
	r = nc_rpc_send(ho->fd, &h, &q, sizeof(q), &lfd, 1);
	if (r < 0) {
		fprintf(stderr, "netcon: cannot hand the seccomp listener to the service: %s\n",
			strerror(-r));
		ho->err = -r;
		return NULL;
	}
	n = nc_rpc_recv(ho->fd, buf, sizeof(buf), fds, &nfds, 0);
	if (n > 0 && nc_rpc_check(buf, (size_t)n, nfds, 1, &why) == 0) {
		memcpy(&h, buf, sizeof(h));
		r = h.err;
	} else {
		if (n > 0)
			nc_rpc_close_fds(fds, nfds);
		r = n == 0 ? ECONNRESET : n < 0 ? (int)-n : EPROTO;
	}
	ho->err = r;
	if (r != 0)
		fprintf(stderr, "netcon: the service did not take the program in seccomp mode: "
				"%s\n", strerror(r));
	return NULL;
}

int nc_seccomp_exec(const char *socket_path, char **argv)
{
	struct timeval tv = { .tv_sec = 10 };
	struct sockaddr_un sun;
	struct handoff ho;
	pthread_t t;
	const char *why;
	int fd, lfd, r;

	if (nc_seccomp_inherited(socket_path))
		return exec_inherited(socket_path, argv);
	drop_preload();
	setenv("NETCON_SOCKET", socket_path, 1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "netcon: socket path too long: %s\n", socket_path);
		return 1;
	}
	memcpy(sun.sun_path, socket_path, strlen(socket_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		/* Without the service nobody would answer the trapped calls, and without the
		 * filter the program could reach the kernel's network: do not run it. */
		fprintf(stderr, "netcon: cannot reach the netcon service at %s: %s (seccomp "
				"mode needs it to start the program)\n", socket_path, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&ho, 0, sizeof(ho));
	ho.fd = fd;
	if (pipe2(ho.pipe, O_CLOEXEC) < 0 || (r = pthread_create(&t, NULL, handoff_thread, &ho))) {
		fprintf(stderr, "netcon: seccomp mode: cannot start the launcher's thread\n");
		return 1;
	}
	/* From here on this thread's socket calls are trapped; the helper's are not. */
	lfd = nc_seccomp_filter_install(&why);
	if (write(ho.pipe[1], &lfd, sizeof(lfd)) != sizeof(lfd))
		ho.err = EPIPE;
	pthread_join(t, NULL);
	close(ho.pipe[0]);
	close(ho.pipe[1]);
	close(fd);
	if (lfd < 0) {
		fprintf(stderr, "netcon: seccomp mode: %s: %s\n", why, strerror(-lfd));
		return 1;
	}
	close(lfd);
	if (ho.err != 0)
		return 1;
	setenv(INHERITED_ENV, socket_path, 1);
	execvp(argv[0], argv);
	fprintf(stderr, "netcon: cannot run %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
