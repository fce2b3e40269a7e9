/*
 * seccomp.h — what the seccomp supervisor's files share (private to them): seccomp.c
 * (notifications, replies, the program's memory and fds, waiting calls, the programs'
 * lifetimes), seccomp_calls.c (one handler per trapped control call) and seccomp_data.c
 * (the data calls that carry an address: datagrams of virtual UDP sockets).
 */
#ifndef NETCON_SERVICE_SECCOMP_H
#define NETCON_SERVICE_SECCOMP_H

#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "log.h"
#include "route.h"
#include "rpc.h"
#include "sockopts.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* What a handler tells the dispatcher besides a result (>= 0) or a negative errno. */
#define SC_CONTINUE  INT_MIN          /* not ours: the kernel carries it out */
#define SC_ANSWERED  (INT_MIN + 1)    /* answered (ADDFD_FLAG_SEND) or waiting */
#define SC_BLOCK_IN  (INT_MIN + 2)    /* would block: call again once the program's fd is
				       * readable (a blocking receive) */
#define SC_BLOCK_OUT (INT_MIN + 3)    /* ... writable (a blocking send) */

#define SC_BATCH       64             /* notifications served per wake-up per program */
#define SC_CHECK_MS    200            /* how often waiting calls are checked for validity */
#define SC_INOS        4096           /* remembered sockets (direct-mapped by inode) */

/* What we remember of a socket we put in a program (struct sc_ino). */
enum {
	SC_INO_VIRTUAL = 1,   /* ours: a closed one is still a virtual socket, not a kernel one */
	SC_INO_UNTOLD = 2,    /* a non-blocking connect said EINPROGRESS: the next connect()
			       * after it completed returns 0 once, as on Linux */
	SC_INO_TOLD = 4,      /* the program was told it is connected: it may not connect
			       * again after it closed (ECONNABORTED) */
};

enum sc_wait_op { SC_WAIT_CONNECT = 1, SC_WAIT_ACCEPT, SC_WAIT_DATA, SC_WAIT_COUNT };

struct sc_prog;

/* A trapped call answered later: a blocking connect, accept, receive or send. */
struct sc_wait {
	struct nc_handler h;         /* NC_H_SECCOMP_WAIT */
	struct sc_prog *p;
	uint64_t id;                 /* the notification */
	int op;                      /* enum sc_wait_op */
	int fd;                      /* ours: the new connection's end / the listener's end */
	ino_t ino;                   /* connect: the connection's inode */
	pid_t pid;                   /* the calling thread */
	uint64_t addr, addrlen;      /* accept: where the peer's address goes */
	int flags;                   /* accept4's flags */
	uint64_t deadline;           /* connect, data: ms (SO_SNDTIMEO/SO_RCVTIMEO), 0 = none */
	struct seccomp_notif n;      /* data: the call, served again when fd is ready */
	int dead;                    /* answered or abandoned: freed after this batch */
	struct sc_wait *next, *prev;
};

/* One listener: a program (and everything it forks) under one filter. */
struct sc_prog {
	struct nc_handler h;         /* NC_H_SECCOMP */
	int fd;                      /* the notification listener */
	pid_t pid;                   /* the launcher's pid, for the log */
	uid_t uid;                   /* whose socket limit the program's sockets count against */
	int uring_logged;
	struct sc_wait *waits;
	struct sc_prog *next, *prev;
};

struct nc_seccomp {
	struct sc_prog *progs;
	int nprogs;
	/* Waits finished during a batch of events: a later event of the same batch may still
	 * point at them, so they are freed only in nc_seccomp_poll(). */
	struct sc_wait *dead;
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;   /* one buffer of the kernel's size */
	struct seccomp_notif_resp *resp;
	uint64_t next_check;         /* ms */
	uint64_t notifs, continued, waited;
	struct sc_ino {              /* the per-socket facts the preload intercept keeps in
				      * its fd table (fdtab.c); a collision forgets one */
		ino_t ino;
		unsigned flags;      /* SC_INO_* */
	} inos[SC_INOS];
};

/* One trapped call being served. */
struct sc_call {
	struct nc_service *svc;
	struct sc_prog *p;
	const struct seccomp_notif *n;
	int fd;                      /* our copy of the program's fd, or -1 */
	ino_t ino;
	struct nc_sock *s;           /* the virtual socket it names, or NULL */
	int closed;                  /* a virtual connection that is over (tombstone) */
};

/* seccomp.c */
int sc_blocking(int fd, int flags);
int sc_connect_outcome(struct nc_service *svc, int fd, ino_t ino, uint32_t events);
int sc_fd_cloexec(pid_t pid, int num);
void sc_fd_mark(struct nc_service *svc, int fd, unsigned set);
unsigned sc_ino_flags(struct nc_service *svc, ino_t ino);
void sc_ino_mark(struct nc_service *svc, ino_t ino, unsigned set, unsigned clear);
int sc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int sc_mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len);
uint64_t sc_now_ms(void);
int sc_wait_start(struct sc_call *c, int op, int fd, uint32_t events, struct sc_wait **out);

/* seccomp_calls.c: a result >= 0, a negative errno, SC_CONTINUE or SC_ANSWERED */
int sc_inet_kind(int fd, int type);
int sc_install(struct sc_call *c, int app_fd);
int sc_kernel_bound(int fd);
int sc_udp_bind_any(struct sc_call *c, int family);
int sc_put_sockaddr(pid_t pid, const struct nc_addr *a, uint64_t addr, uint64_t lenp);
int sc_read_sockaddr(struct sc_call *c, uint64_t addr, uint64_t len,
		     struct sockaddr_storage *ss);
int sc_route(struct nc_service *svc, int family, const struct sockaddr_storage *ss,
	     socklen_t len, int for_bind);
int sc_accept_try(struct nc_service *svc, struct sc_prog *p, uint64_t id, pid_t pid, int fd, uint64_t addr, uint64_t addrlen, int flags);
int sc_is_unix(int fd);
int sc_accept(struct sc_call *c, int flags);
int sc_bind(struct sc_call *c);
int sc_connect(struct sc_call *c);
int sc_getname(struct sc_call *c, int peer);
int sc_getsockopt(struct sc_call *c);
int sc_listen(struct sc_call *c);
int sc_setsockopt(struct sc_call *c);
int sc_shutdown(struct sc_call *c);

/* seccomp_data.c: as above, and SC_BLOCK_IN/SC_BLOCK_OUT */
int sc_sendto(struct sc_call *c);
int sc_sendmsg(struct sc_call *c);
int sc_sendmmsg(struct sc_call *c);
int sc_recvfrom(struct sc_call *c);
int sc_recvmsg(struct sc_call *c);
int sc_recvmmsg(struct sc_call *c);

#endif /* NETCON_SERVICE_SECCOMP_H */
