/*
 * intercept.h — the LD_PRELOAD library's internal interface.
 *
 * The library overrides the socket *control* calls of a program (one file per call
 * family: socket.c, connect.c, listen.c, accept.c, sockopt.c, close.c, syscall.c). Each
 * override decides one of three things: pass the call to libc unchanged (kernel
 * sockets: loopback, other networks, AF_UNIX); handle it through the service (virtual
 * sockets); or fail with the errno libc would give. Data calls keep their native path: a
 * virtual socket is a real fd (one end of a socketpair); data.c overrides them only to
 * frame the datagrams of virtual UDP sockets.
 *
 * Globals (all in client.c and fdtab.c) are few, guarded by mutexes, and reset in the
 * child after fork (pthread_atfork). Inside the library, overridden functions are always
 * called through NC_REAL() (real.h), never by name.
 */
#ifndef NETCON_INTERCEPT_H
#define NETCON_INTERCEPT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "netcon/rpc.h"
#include "real.h"
#include "route.h"

#define NC_EXPORT __attribute__((visibility("default")))

/* With _GNU_SOURCE, glibc declares the sockaddr arguments as transparent unions. */
#if defined(__USE_GNU) && !defined(__cplusplus)
#define NC_SA(a) ((a).__sockaddr__)
#else
#define NC_SA(a) (a)
#endif

/* init.c */
void nc_ic_init(void);

/* client.c — the RPC connection to the service */
struct nc_net {
	int known;              /* 1 when ip/prefix are valid (from the service or NETCON_NET) */
	int reachable;          /* 1 when the service answered */
	uint32_t ip;            /* network byte order */
	int prefix;
	int n_ip6;              /* the service's IPv6 addresses (link-local first) */
	struct nc_ip6_prefix ip6[NC_HELLO_MAX_IP6];
	uint32_t service_pid;
	int outbound;           /* the HELLO reply's NC_HELLO_OUTBOUND* flags */
};
void nc_ic_client_init(void);
/* What we know of the network; connects (once per call) if not connected. */
void nc_ic_net(struct nc_net *net);
/* The NC_HELLO_OUTBOUND* flags known so far (NETCON_OUTBOUND, then HELLO), without
 * connecting to the service. */
int nc_ic_outbound_hint(void);
/* --outbound: may a UDP datagram go to `to`, outside the virtual network, through the
 * service's relay? 0 yes, -EPERM denied, NC_PASS not the service's (connect.c). */
int nc_ic_outbound_udp(const struct nc_addr *to);
/* Is a destination outside the virtual network the service's to decide (--outbound; for
 * loopback only when the policy names some)? 1 or 0, without asking the service. */
int nc_ic_outbound_ours(const struct nc_addr *peer);
/* One request. subject_fd: the socket acted on, or -1. Returns the service's answer (0 or
 * a negative errno), or NC_UNREACHABLE when no answer came (the service cannot be
 * reached; the cause is logged once). rep/replen: the reply payload; *new_fd: a socket the
 * reply carried, else -1. */
int nc_ic_call(int type, const void *req, size_t reqlen, int subject_fd, void *rep,
	       size_t repcap, size_t *replen, int *new_fd);
/* nc_ic_call(), and *via: the generation of this process's own connection that carried
 * it, when its service takes posted requests (else 0): what nc_ic_post() needs. */
int nc_ic_call_via(int type, const void *req, size_t reqlen, int subject_fd, void *rep,
		   size_t repcap, size_t *replen, int *new_fd, uint32_t *via);
/* Send a request that gets no reply (NC_MSG_SOCKOPT_POST) on the connection of
 * generation via, if that is still this process's own. 0 sent, or a negative errno (not
 * sent: make the call instead). */
int nc_ic_post(int type, const void *req, size_t reqlen, uint32_t via);
int nc_ic_is_own_fd(int fd);
/* If fd is one of ours, move ours to another number first (the program is about to use
 * fd, e.g. as the target of dup2). */
void nc_ic_vacate(int fd);
/* Print the one "service unreachable" line of this process. */
void nc_ic_warn_unreachable(int err);

/* fdtab.c — what we know of the program's fds, checked against the inode */
enum { NC_FD_UNKNOWN = 0, NC_FD_KERNEL = 0xff };
struct nc_fdent {
	ino_t ino;
	uint8_t kind;           /* enum nc_sock_kind, or NC_FD_KERNEL */
	uint8_t state;          /* enum nc_conn_state */
	/* The program has been told its connect succeeded (connect() returned 0, or the
	 * socket came from accept or another process). Until then a second connect() on an
	 * established socket returns 0, as Linux's does after a non-blocking connect. */
	uint8_t connect_told;
	/* Kernel sockets made by socket() here: what they are (sk_family 0: not known, ask
	 * the kernel), and fresh = no option set on them since (setsockopt clears it). */
	uint8_t sk_family, sk_type, fresh;
	uint32_t gen;           /* nc_fd_fork_happened() count when stored: fresh holds only
				 * while nobody else (a fork's other side) can have the socket */
	uint32_t via;           /* a connection whose CONNECT this process's own service
				 * connection of that generation made (nc_ic_call_via), so
				 * options may be posted to it; 0: none */
	struct nc_addr local, peer;
};
/* The kind of fd (NC_KIND_NONE for anything that is not a virtual socket); fills e. */
int nc_fd_kind(int fd, struct nc_fdent *e);
/* A kernel socket socket() made here, as the table knows it (checked by inode): 1 and *e,
 * or 0 when the table knows nothing certain of fd. */
int nc_fd_known_kernel(int fd, struct nc_fdent *e);
/* A fork: in both processes, sockets made before it are no longer fresh. */
void nc_fd_fork_happened(void);
void nc_fd_store(int fd, const struct nc_fdent *e);
/* What the table says of fd without checking (no system call): a hint for the data-call
 * overrides, which then check with nc_fd_kind() only when the hint is a virtual kind. */
int nc_fd_hint(int fd);
void nc_fd_forget(int fd);
void nc_fd_copy(int from, int to);
/* Ask the service again (state changes: connecting → established); keeps connect_told. */
int nc_fd_refresh(int fd, struct nc_fdent *e);
/* The state of the entry of fd for inode ino (nc_ic_remember's), if it is still that. */
void nc_fd_set_state(int fd, ino_t ino, int state);
/* A native option was set on fd (no fstat: forgetting freshness is always safe). */
void nc_fd_unfresh(int fd);
/* Is e (what nc_ic_kind() found, or NULL) a kernel socket made by socket() here that was
 * given no option since? Then it has the kernel's defaults: no timeouts, nothing to read. */
static inline int nc_ic_fresh(const struct nc_fdent *e)
{
	return e && e->kind == NC_FD_KERNEL && e->sk_family && e->fresh;
}
/* The first step of a decision on fd: start-up (nc_ic_init), then nc_fd_kind(). */
static inline int nc_ic_kind(int fd, struct nc_fdent *e)
{
	nc_ic_init();
	return nc_fd_kind(fd, e);
}

/* socket.c — shared helpers */
/* In these, e is what nc_ic_kind() just found for fd (checked by inode: no system call to
 * check it again), or NULL when the caller has nothing at hand. */
/* Is this a kernel AF_INET or AF_INET6 TCP stream socket that could go virtual? Its
 * family, or 0. */
int nc_ic_is_inet_stream(int fd, const struct nc_fdent *e);
/* Is this a kernel UDP socket that could go virtual? Its family (AF_INET, AF_INET6) or 0. */
int nc_ic_is_inet_dgram(int fd, const struct nc_fdent *e);
/* Make kernel UDP socket fd a virtual one bound to addr (ours or the wildcard). 0 or a
 * negative errno. */
int nc_ic_udp_bind(int fd, const struct nc_fdent *e, const struct sockaddr *addr, socklen_t len);
/* data.c: the payload size of the datagram at the head of virtual UDP socket fd (0 if
 * none); *err: an ICMP error waiting there (taken off the queue if consume_error). */
int nc_ic_udp_pending(int fd, int consume_error, int *err);
/* Does an address of the socket's family belong to the virtual network (for bind: or the
 * wildcard)? An address of another family stays with the kernel (which refuses it). */
int nc_ic_route(int family, const struct sockaddr *sa, socklen_t len, int for_bind);
/* Read the options set so far on a kernel socket. */
void nc_ic_read_opts(int fd, const struct nc_fdent *e, struct nc_sockopts *o);

/* epollcarry.c: the epoll registrations of an fd, carried over a replacement. */
struct nc_epreg {
	int epfd;
	unsigned int events;
	unsigned long long data;
};
#define NC_EPREG_MAX 8
int nc_ic_epoll_find(int fd, struct nc_epreg *regs, int max);
/* fd was closed or is a new socket: the epoll sets it was added to are history. */
void nc_ic_epoll_forget(int fd);
void nc_ic_epoll_restore(int fd, const struct nc_epreg *regs, int n);
/* Put new_fd in fd's place (dup3), keeping fd's status and fd flags, timeouts and epoll
 * registrations; closes new_fd. e: what nc_ic_kind() found for fd, or NULL. fd's file
 * status flags (F_GETFL, >= 0), or a negative errno. */
int nc_ic_replace(int fd, const struct nc_fdent *e, int new_fd);
/* A request whose reply gives fd a new virtual socket: send it, check the reply, put the
 * socket in fd's place (e as for nc_ic_replace; via, if not NULL, as for
 * nc_ic_call_via). fd's file status flags (>= 0), or a
 * negative errno: the service's answer, -EIO for a reply without its socket,
 * -unreach_errno when the service cannot be reached. */
int nc_ic_swap_call(int fd, const struct nc_fdent *e, int type, const void *req,
		    size_t reqlen, int subject, void *rep, size_t replen, int unreach_errno,
		    uint32_t *via);
/* Remember what a virtual fd is (fstat()s it for the inode); via: nc_fdent.via. Its inode
 * (0: fstat failed, nothing remembered). */
ino_t nc_ic_remember(int fd, int kind, int state, const struct nc_addr *local,
		     const struct nc_addr *peer, uint32_t via);
/* Copy an nc_addr into a caller's sockaddr buffer the way the kernel does. */
void nc_ic_put_addr(const struct nc_addr *a, struct sockaddr *sa, socklen_t *len);

/* The decisions behind the shims (and syscall()): a result >= 0 (handled), a negative
 * errno (failed), or NC_PASS (libc makes the call, unchanged). */
int nc_socket(int, int, int);
int nc_connect(int, const struct sockaddr *, socklen_t);
int nc_bind(int, const struct sockaddr *, socklen_t);
int nc_listen(int, int);
int nc_accept4(int, struct sockaddr *, socklen_t *, int);
int nc_getsockname(int, struct sockaddr *, socklen_t *);
int nc_getpeername(int, struct sockaddr *, socklen_t *);
int nc_getsockopt(int, int, int, void *, socklen_t *);
/* getsockopt() for the intercept's own use: nc_getsockopt(), or libc's when it passes. */
int nc_ic_getsockopt(int, int, int, void *, socklen_t *);
int nc_setsockopt(int, int, int, const void *, socklen_t);
int nc_shutdown(int, int);
int nc_close(int);
int nc_dup(int);
int nc_dup2(int, int);
int nc_dup3(int, int, int);
int nc_fcntl(int, int, long);
int nc_ioctl(int, unsigned long, void *);
int nc_close_range(unsigned int, unsigned int, int);

/*
 * Errors (docs/architecture.md, "Errors in the intercept"). Inside the library a function
 * returns a result >= 0 or a negative errno, and leaves errno alone; only the exported
 * shims speak libc's language, -1 and errno. Two codes lie below the errno range: NC_PASS,
 * a decision's "not ours: libc makes the call unchanged", and NC_UNREACHABLE, nc_ic_call()'s
 * "the service did not answer". Neither ever reaches a program.
 */
#define NC_ERRNO_MAX 4095
enum { NC_UNREACHABLE = -(NC_ERRNO_MAX + 1), NC_PASS = -(NC_ERRNO_MAX + 2) };

/* A libc result (-1 and errno on failure) in our convention. */
static inline long nc_neg(long r)
{
	return r < 0 ? -errno : r;
}

/* Our result in libc's convention: what a shim returns. */
static inline long nc_ret(long r)
{
	if (r >= 0)
		return r;
	errno = r < -NC_ERRNO_MAX ? EIO : (int)-r;   /* EIO: a bug, never an internal code */
	return -1;
}

#endif /* NETCON_INTERCEPT_H */
