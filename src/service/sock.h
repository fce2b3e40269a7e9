/*
 * sock.h — private to the service's socket code (sock.c, ipaddr.c, tcp_listen.c,
 * tcp_conn.c, sockopt.c, udp.c; status.c and rpc_server.c read the common part): the
 * virtual socket and the functions these files share.
 *
 * struct nc_sock is one common part (name, kind, both ends, addresses, lifetime links)
 * and one part per kind: `conn` (TCP connections), `lsn` (TCP listeners), `udp` (UDP
 * sockets), plus `opt` (options as the program set them, every kind). The parts are
 * separate structs rather than a union because a socket changes kind in place: a bound
 * socket becomes a listener or a connection, keeping its pcb and options.
 */
#ifndef NETCON_SOCK_H
#define NETCON_SOCK_H

#include "service.h"

#include "lwip/tcp.h"
#include "lwip/udp.h"

/* Options as the program set them (sockopt.c). */
struct nc_sock_opts {
	uint32_t flags;              /* NC_OPT_* */
	int linger_secs;
	/* options stored but not acted on (level, name, int value), for getsockopt */
	int nextra;
	int extra[NC_EXTRA_OPTS][3];
};

/* A TCP connection (tcp_conn.c). */
struct nc_conn_part {
	int app_dup;                 /* while connecting, or accepted and not yet handed
					over: a duplicate of the program's end; else -1 */
	size_t filler;               /* while connecting: filler bytes in our receive queue */
	uint32_t connect_start;      /* while connecting: sys_now() at tcp_connect() */
	int app_sndbuf;              /* the program end's SO_SNDBUF to restore */
	/* Network data the program's buffer has not taken: a list of pbufs linked through
	 * ->next (one received chain after another; its tot_len fields mean nothing here,
	 * since a pbuf chain cannot count past 64 KiB). */
	struct pbuf *rxq, *rxq_tail;
	size_t rxq_bytes;
	uint8_t *stash;              /* read from the program, not yet taken by lwIP */
	size_t stash_len;
	unsigned app_readable:1;     /* EPOLLIN seen, not yet read to EAGAIN */
	unsigned app_eof:1;          /* the program shut its write side (or closed) */
	unsigned app_gone:1;         /* the program closed every copy of its end */
	unsigned net_eof:1;          /* FIN received from the network */
	unsigned fin_pending:1;      /* we must send FIN once lwIP has room */
	unsigned fin_sent:1;
	unsigned eof_told:1;         /* our end shut down for writing: the program reads EOF */
	unsigned send_blocked:1;     /* waiting for lwIP's send buffer */
	unsigned dirty:1;            /* on svc->dirty: network data to hand to the program */
	unsigned proxied:1;          /* our end is a kernel TCP socket of a published port
					(publish.c), not a socketpair: reset it on errors */
	struct nc_sock *dnext;       /* svc->dirty list */
};

/* A TCP listener (tcp_listen.c). */
struct nc_listener_part {
	struct nc_sock *pending;     /* accepted, not yet handed to the program (via pnext) */
	int backlog;
	/* SO_REUSEPORT listeners on one address and port share the pcb of one of them: a
	 * ring through gnext (a listener alone points to itself, or NULL); the pcb's owner
	 * hands connections round robin, starting at its grr. */
	struct nc_sock *gnext, *grr;
};

/* A datagram a raw UDP socket holds back (udp.c). */
struct nc_udp_held;

/* A raw UDP socket's registration for "the program took datagrams" (udp.c): a dup of our
 * end, EPOLLOUT|EPOLLET while datagrams are held back. */
struct nc_udp_drain {
	struct nc_handler h;         /* NC_H_UDP_DRAIN */
	struct nc_sock *s;
	int fd;                      /* the dup, or -1 */
	unsigned armed:1;
};

/* --outbound: a UDP socket's kernel socket in the service's namespace, made on its first
 * datagram to an allowed destination outside the virtual network (udp.c). */
struct nc_udp_relay {
	struct nc_handler h;         /* NC_H_UDP_RELAY */
	struct nc_sock *s;
	int fd;                      /* -1 until needed */
};

/* A UDP socket (udp.c). Framed (preload mode: struct nc_dgram before each payload) or
 * raw (seccomp mode: the payload only; the source kept here, one source at a time). */
struct nc_udp_part {
	struct udp_pcb *pcb;
	unsigned raw:1;
	unsigned busy:1;             /* raw: the pair may hold datagrams, all from src */
	unsigned src_held:1;         /* raw: datagrams from src are held back too */
	int src_err;                 /* raw: what is in the pair is an error marker */
	struct nc_addr src;          /* raw: the source of the datagrams in the pair */
	struct nc_udp_held *held, *held_tail;   /* raw: from other sources, in order */
	size_t held_bytes;
	struct nc_udp_drain drain;
	struct nc_udp_relay relay;
};

/* A virtual socket, named by the inode of the program's end of its socketpair. */
struct nc_sock {
	/* common to every kind */
	struct nc_handler h;
	struct nc_service *svc;
	int kind;                    /* enum nc_sock_kind */
	int state;                   /* enum nc_conn_state (connections, connected UDP) */
	ino_t ino;                   /* the program's end */
	int fd;                      /* the service's end; -1 once closed */
	struct nc_addr local, peer;  /* in the program's family (IPv4-mapped on AF_INET6) */
	int family;                  /* the program's socket: AF_INET or AF_INET6 */
	int err;                     /* pending error (SO_ERROR), positive errno */
	unsigned dead:1;             /* freed at the end of this loop iteration */
	uint64_t bytes_out, bytes_in;
	struct nc_user *owner;       /* whose limit it counts against (NULL: none) */
	pid_t pid;                   /* the process whose request made it (a listener's, for
					the connections it accepts); 0: none (a published port) */
	uint64_t client;             /* the control connection whose request made it, the one
					that may post options to it (NC_MSG_SOCKOPT_POST); 0: none */
	char comm[16];               /* its command (/proc/PID/comm), read when first asked
					for by nc_sock_command(); "" until then */
	struct nc_sock *hnext;       /* inode hash chain */
	struct nc_sock *next, *prev; /* list of all sockets */
	struct nc_sock *pnext;       /* listener's pending list / zombie list */

	struct tcp_pcb *pcb;         /* TCP kinds; NULL once lwIP freed or was handed it */
	struct nc_sock_opts opt;
	struct nc_conn_part conn;
	struct nc_listener_part lsn;
	struct nc_udp_part udp;
};

/* sock.c — the table and lifetimes */
struct nc_sock *nc_sock_new(struct nc_service *svc, int kind, struct nc_user *owner);
struct nc_sock *nc_sock_new_tcp(struct nc_service *svc, int kind, struct nc_user *owner,
				struct tcp_pcb *pcb, int a, int f, ino_t ino);
void nc_sock_set_kind(struct nc_service *svc, struct nc_sock *s, int kind);
void nc_sock_hash_add(struct nc_service *svc, struct nc_sock *s, ino_t ino);
void nc_sock_hash_del(struct nc_service *svc, struct nc_sock *s);
void nc_sock_kill(struct nc_service *svc, struct nc_sock *s);
void nc_tombstone_put(struct nc_service *svc, ino_t ino, int err);
int nc_sock_pair(int type, int *app_fd, int *svc_fd, ino_t *ino);
struct nc_sock *nc_sock_adopt(struct nc_service *svc, int kind, int fd, ino_t ino);
/* The command of the socket's process ("?" when it is gone), or NULL when s->pid is 0. */
const char *nc_sock_command(struct nc_sock *s);

/* ipaddr.c — addresses */
/* An lwIP address as socket s reports it: IPv4 as ::ffff:a.b.c.d on an AF_INET6 socket. */
void nc_sock_addr(const struct nc_sock *s, struct nc_addr *a, const ip_addr_t *ip,
		  u16_t port);
int nc_addr_to_lwip(const struct nc_addr *a, ip_addr_t *ip);
int nc_lwip_err(err_t e);

/* tcp_listen.c — bound sockets and listeners */
void nc_listener_event(struct nc_service *svc, struct nc_sock *s, uint32_t events);
void nc_listener_release(struct nc_service *svc, struct nc_sock *s);
int nc_listener_take_kernel(struct nc_service *svc, const struct nc_addr *to, int k,
			    const struct nc_addr *peer);

/* tcp_conn.c — connections and their pcbs */
void nc_pcb_detach(struct tcp_pcb *pcb);
void nc_pcb_keepalive(struct tcp_pcb *pcb, int on);
void nc_pcb_reuseaddr(struct tcp_pcb *pcb, int on);
void nc_pcb_release(struct nc_service *svc, struct nc_sock *s);
void nc_conn_abort(struct nc_service *svc, struct nc_sock *s);
void nc_conn_release(struct nc_service *svc, struct nc_sock *s);
void nc_conn_attach(struct nc_sock *s, struct tcp_pcb *pcb);
void nc_conn_size_sndbuf(struct tcp_pcb *pcb);
void nc_conn_event(struct nc_service *svc, struct nc_sock *s, uint32_t events);
int nc_conn_proxy(struct nc_service *svc, int k, const struct nc_addr *to);

/* sockopt.c */
void nc_sock_apply_opts(struct nc_sock *s, const struct nc_sockopts *o);

/* udp.c — UDP sockets */
void nc_udp_event(struct nc_service *svc, struct nc_sock *s, uint32_t events);
void nc_udp_release(struct nc_service *svc, struct nc_sock *s);
int nc_udp_setopt(struct nc_sock *s, int level, int name, int v);
int nc_udp_getopt(struct nc_sock *s, int level, int name, int *v);
/* Raw sockets (seccomp mode): move held datagrams into the pair if it is empty; send one
 * datagram the supervisor read from the program (to: NULL for the connected peer),
 * returning its length or a negative errno; take an error marker out of the pair. */
void nc_udp_settle(struct nc_service *svc, struct nc_sock *s);
ssize_t nc_udp_send(struct nc_service *svc, struct nc_sock *s, const struct nc_addr *to,
		    const void *buf, size_t len);
int nc_udp_is_broadcast(struct nc_service *svc, const struct nc_addr *to);
int nc_udp_take_error(struct nc_service *svc, struct nc_sock *s, int app_fd);
int nc_udp_error_pending(struct nc_sock *s);
/* The socket a UDP pcb serves, or NULL when it is not a program's (--dns, --publish). */
struct nc_sock *nc_udp_pcb_sock(struct udp_pcb *pcb);

#endif /* NETCON_SOCK_H */
