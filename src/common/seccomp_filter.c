/*
 * seccomp_filter.c — the BPF filter of seccomp mode (see seccomp_filter.h).
 *
 * x86_64 calls: the socket *control* calls go to the listener (SECCOMP_RET_USER_NOTIF):
 * connect, bind, listen, accept, accept4, getsockname, getpeername, getsockopt,
 * setsockopt, shutdown; and io_uring_setup, which the service refuses with ENOSYS (an
 * io_uring's socket operations would not pass through the filter) and logs once.
 * socket() itself runs natively: a socket stays the kernel's until bind, connect or listen
 * decide, as in preload mode.
 *
 * The data calls that carry an address go to the listener too, for UDP (a datagram's
 * destination and source cannot travel in a headerless pair) and for a connected TCP
 * socket (whose address Linux ignores): sendto and recvfrom only when their address
 * argument (args[4]) is not NULL — BPF sees the argument's value, not memory — and
 * sendmsg, recvmsg, sendmmsg, recvmmsg always (their msg_name lies in memory). read,
 * write, send, recv (sendto/recvfrom with NULL), the *v calls, epoll and close stay
 * native. x32 calls (the __X32_SYSCALL_BIT) and the i386 ABI's socket control calls
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
	SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg,
};

/* The low and high words of args[4] (x86_64 is little-endian). */
#define ARG4_LO (offsetof(struct seccomp_data, args) + 4 * sizeof(__u64))
#define ARG4_HI (ARG4_LO + sizeof(__u32))

#define N_I386 (sizeof(i386_refused) / sizeof(i386_refused[0]))
#define N_X64  (sizeof(x86_64_trapped) / sizeof(x86_64_trapped[0]))

int nc_seccomp_filter_install(const char **why)
{
	struct sock_filter f[17 + N_I386 + N_X64];
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
	/* x86_64: the number; then sendto/recvfrom test args[4]. Layout after the x32 test:
	 * N_X64 tests, sendto, recvfrom, allow, [args[4]: load, test, load, test, allow],
	 * notify, refuse. */
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, N_X64 + 9, 0);
	for (unsigned i = 0; i < N_X64; i++)    /* a match jumps to the notification */
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, x86_64_trapped[i], N_X64 - i + 7, 0);
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendto, 2, 0);     /* to the args[4] test */
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_recvfrom, 1, 0);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	STMT(BPF_LD | BPF_W | BPF_ABS, ARG4_LO);
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3);              /* non-zero: notify */
	STMT(BPF_LD | BPF_W | BPF_ABS, ARG4_HI);
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);              /* zero: allow, else notify */
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
