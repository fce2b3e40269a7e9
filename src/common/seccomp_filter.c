/*
 * seccomp_filter.c — the BPF filter of seccomp mode (see seccomp_filter.h).
 *
 * x86_64 calls: the socket *control* calls go to the listener (SECCOMP_RET_USER_NOTIF):
 * connect, bind, listen, accept, accept4, getsockname, getpeername, getsockopt,
 * setsockopt, shutdown; and io_uring_setup, which the service refuses with ENOSYS (an
 * io_uring's socket operations would not pass through the filter) and logs once.
 * socket() itself runs natively: a socket stays the kernel's until bind, connect or listen
 * decide, as in preload mode. Data calls (read, write, send*, recv*, epoll, close) are
 * never trapped. x32 calls (the __X32_SYSCALL_BIT) and the i386 ABI's socket control calls
 * (int 0x80: socketcall and the direct calls) fail with ENOSYS: they are not served, and
 * must not reach the kernel's network instead.
 */
#include "seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000u

/* The i386 ABI's numbers (asm/unistd_32.h), for the calls that are refused. */
static const unsigned i386_refused[] = {
	102,  /* socketcall */
	361,  /* bind */
	362,  /* connect */
	363,  /* listen */
	364,  /* accept4 */
};

static const unsigned x86_64_trapped[] = {
	SYS_connect, SYS_bind, SYS_listen, SYS_accept, SYS_accept4, SYS_getsockname,
	SYS_getpeername, SYS_getsockopt, SYS_setsockopt, SYS_shutdown, SYS_io_uring_setup,
};

#define N_I386 (sizeof(i386_refused) / sizeof(i386_refused[0]))
#define N_X64  (sizeof(x86_64_trapped) / sizeof(x86_64_trapped[0]))

int nc_seccomp_filter_install(const char **why)
{
	struct sock_filter f[10 + N_I386 + N_X64];
	struct sock_fprog prog;
	unsigned n = 0;
	int fd;

#define STMT(code, k) (f[n++] = (struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) (f[n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	/* x86_64: skip the i386 block (its load, N_I386 tests, its allow, its refusal). */
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, N_I386 + 3, 0);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < N_I386; i++)   /* a match jumps to the refusal */
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, i386_refused[i], N_I386 - i, 0);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	/* x86_64 */
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, N_X64 + 2, 0);
	for (unsigned i = 0; i < N_X64; i++)    /* a match jumps to the notification */
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, x86_64_trapped[i], N_X64 - i, 0);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#undef STMT
#undef JUMP
	prog.len = (unsigned short)n;
	prog.filter = f;

	*why = NULL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*why = "cannot set no_new_privs";
		return -errno;
	}
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &prog);
	if (fd < 0) {
		int e = errno;

		/* seccomp() itself never fails with EPERM, and with no_new_privs set not with
		 * EACCES either: a filter we are under answered for it (SECCOMP_RET_ERRNO). */
		*why = e == EBUSY ? "the program already runs under a seccomp filter with a "
				    "listener (nested seccomp supervisors are not supported)" :
		       e == EINVAL || e == ENOSYS ? "this kernel has no seccomp user "
						    "notification (Linux 5.9 or later)" :
		       e == EPERM || e == EACCES ? "a seccomp filter already installed forbids "
						   "ours" :
		       "cannot install the seccomp filter";
		return -e;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}
