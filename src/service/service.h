/*
 * service.h — the netcon service: one process, one thread, one epoll loop that owns the
 * lwIP stack, the link, the control socket and the table of virtual sockets.
 *
 * Everything lives in one struct nc_service owned by main(); every function takes it
 * first. Objects registered with epoll begin with a struct nc_handler whose type says
 * which dispatcher handles the event.
 */
#ifndef NETCON_SERVICE_H
#define NETCON_SERVICE_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "link/link.h"
#include "service/config.h"
#include "service/fault.h"
#include "service/dns.h"
#include "common/hosts.h"
#include "netcon/rpc.h"

#define NC_SCRATCH_SIZE      65536
#define NC_MAX_CLIENTS       4096
#define NC_TW_MAX            4096    /* connections in TIME_WAIT (see stack.c) */
#define NC_MAX_CLIENTS_PER_PID 64    /* control connections one process may hold */
#define NC_TOMBSTONES        1024
#define NC_HASH_BUCKETS      16384
#define NC_EXTRA_OPTS        8       /* options stored but not acted on, per socket */

enum nc_handler_type {
	NC_H_CONTROL = 1,  /* the listening control socket */
	NC_H_CLIENT,       /* one program's RPC connection */
	NC_H_LINK,
	NC_H_SIGNAL,
	NC_H_SOCK,         /* a virtual socket: bound, listener or connection */
	NC_H_SECCOMP,      /* a seccomp notification listener (seccomp.c) */
	NC_H_SECCOMP_WAIT, /* a trapped call waiting for its socket (seccomp.c) */
	NC_H_PUBLISH,      /* a published port's kernel socket (publish.c) */
	NC_H_UDP_DRAIN,    /* a raw UDP socket's program took datagrams (udp.c) */
	NC_H_UDP_RELAY,    /* a UDP socket's relay to outside the virtual network (udp.c) */
	NC_H_DNSFWD,       /* a query to an upstream nameserver (dnsfwd.c) */
	NC_H_CAPTURE,      /* a `netcon capture` client's pipe (capture.c) */
	NC_H_UAPI,         /* WireGuard's UAPI socket or one of its clients (uapi.c) */
};

struct nc_handler {
	int type;
};

struct nc_service;

/* One RPC client (a process of a program, or `netcon status`). */
struct nc_client {
	struct nc_handler h;
	uint64_t id;                 /* never reused (svc->next_client_id) */
	int fd;
	pid_t pid;
	uid_t uid;
	struct nc_client *next, *prev;
};

/* A virtual socket (its fields: sock.h, private to the socket code). */
struct nc_sock;

/* How many virtual sockets a user (a uid of the clients) holds, for --max-sockets. */
struct nc_user {
	uid_t uid;
	int nsocks;
	struct nc_user *next;
};

struct nc_tombstone {
	ino_t ino;
	int err;
};

struct nc_counters {
	uint64_t conns_opened, conns_accepted, conns_refused;
	uint64_t rpc_requests, rpc_bad;
	uint64_t rpc_posted;                 /* NC_MSG_SOCKOPT_POST taken (no reply) */
	uint64_t rx_frames_bad;
	uint64_t udp_out, udp_in;            /* datagrams program → network, network → program */
	uint64_t udp_dropped;                /* datagrams dropped: full program queue, bad */
	uint64_t udp_held;                   /* raw sockets: held back behind another source */
	uint64_t tw_ended;                   /* TIME_WAITs ended early (NC_TW_MAX) */
	uint64_t addr_conflicts;             /* ARP frames claiming our address (neigh.c) */
};

/* --outbound: what went out (outbound.c). */
#define NC_OB_RECENT         16      /* passed-through sockets listed by `netcon status` */
#define NC_OB_LOGGED         1024    /* denied destinations remembered, to log each once */
struct nc_outbound_state {
	uint64_t allowed, denied, failed;    /* TCP; failed: allowed, the kernel said no at once */
	uint64_t udp_allowed, udp_denied;    /* UDP: connected sockets passed; denied sends */
	uint64_t udp_relay_out, udp_relay_in;    /* UDP: datagrams relayed (unconnected sockets) */
	uint64_t udp_relay_dropped;          /* ... that the service's kernel socket refused */
	unsigned udp_relays;                 /* UDP sockets with a relay socket now */
	struct nc_ob_recent {
		pid_t pid;
		int type;                    /* SOCK_STREAM or SOCK_DGRAM */
		struct nc_addr peer, local;
		int err;                     /* the connect's immediate error, 0 or positive */
	} recent[NC_OB_RECENT];
	uint64_t nrecent;                    /* ever recorded; recent[] is a ring */
	struct nc_ob_logged {
		uint8_t family, type;
		uint16_t port;
		uint8_t addr[16];
	} logged[NC_OB_LOGGED];              /* open addressing; full: logging goes quiet */
	unsigned nlogged;
};

struct nc_service {
	struct nc_config cfg;
	int epfd;
	int ctl_fd;
	int sig_fd;
	int running;
	/* neigh.c: address conflicts */
	int probing;                 /* frames go to nc_neigh_observe() only */
	int probe_conflict;          /* someone claimed our address while we probed */
	uint8_t neigh_mac[6];        /* the last MAC seen claiming our address */
	char neigh_what[48];         /* which address it claimed */
	struct nc_conflict_log {     /* the last warning per address: IPv4, then --ip6 */
		uint8_t mac[6];
		uint64_t at;         /* ms, CLOCK_MONOTONIC */
	} conflict_log[1 + NC_MAX_IP6];
	uint64_t conflict_defended;  /* ms: our last gratuitous ARP against a conflict */
	uint64_t conflict_until;     /* ms: keep announcing until then; 0 = no conflict */
	struct nc_handler ctl_h, sig_h, link_h;
	struct nc_link *link;
	struct netif netif;
	uint8_t *scratch;            /* NC_SCRATCH_SIZE bytes for reads and replies */

	struct nc_client *clients;
	int nclients;
	struct nc_sock *socks;       /* every live socket */
	int nsocks[NC_KIND_COUNT];
	struct nc_sock *zombies;     /* freed after the current batch of events */
	struct nc_sock *dirty;       /* received data to write to programs this turn (FIFO) */
	struct nc_sock **dirty_tail; /* where the next dirty socket is appended */
	struct nc_sock *hash[NC_HASH_BUCKETS];
	struct nc_tombstone tomb[NC_TOMBSTONES];
	unsigned tomb_next;
	struct nc_counters ctr;
	struct nc_user *users;       /* every uid that holds a socket or made a request */
	struct nc_user *cur_user;    /* the user of the request being served */
	pid_t cur_pid;               /* and its process (the sockets it makes are its) */
	uint64_t cur_client;         /* and its client's id, when the reply goes on the client's
					connection (0: a private reply channel, seccomp) */
	uint64_t next_client_id;
	uintptr_t aborted_pcb;       /* the last pcb we tcp_abort()ed (callbacks' ERR_ABRT) */
	struct nc_fault fault;       /* --link-fault */
	uint8_t *fault_buf;          /* a frame being corrupted */
	char ctl_tmp_path[NC_SOCKET_PATH_MAX];
	dev_t ctl_dev;               /* the control socket we made: removed at exit only */
	ino_t ctl_ino;               /* if the path still names it */
	struct udp_pcb *dns_pcb;     /* --dns: lwIP's UDP port 53 (names.c) */
	struct nc_dns_counters dns_ctr;
	uint64_t resolve_requests;   /* NC_MSG_RESOLVE served */
	struct nc_seccomp *seccomp;  /* the seccomp supervisor's programs (seccomp.c) */
	struct nc_publishing *publishing; /* --publish (publish.c) */
	struct nc_outbound_state ob; /* --outbound (outbound.c) */
	struct nc_dnsfwd *dnsfwd;    /* --dns-forward (dnsfwd.c) */
	struct nc_capture *capture;  /* --pcap, netcon capture: NULL when nobody captures */
	struct nc_uapi *uapi;        /* --link wireguard: the UAPI socket (uapi.c), or NULL */
};

/* service.c (and nc_service_run(), config.h) */
int nc_epoll_add(struct nc_service *svc, int fd, uint32_t events, struct nc_handler *h);
void nc_epoll_del(struct nc_service *svc, int fd);

/* uapi.c — WireGuard's UAPI socket (/var/run/wireguard/NAME.sock) for --link wireguard:
 * wg(8)'s get and set served from the event loop. open() does nothing for other links. */
int nc_uapi_open(struct nc_service *svc, char *err, size_t errlen);
void nc_uapi_event(struct nc_service *svc, struct nc_handler *h, uint32_t events);
void nc_uapi_status(struct nc_service *svc, char *buf, size_t len);
const char *nc_uapi_path(struct nc_service *svc);
void nc_uapi_close(struct nc_service *svc);

/* capture.c — frames in pcap or pcapng format to --pcap's file and `netcon capture`
 * clients. Each frame crossing the link goes to nc_capture_frame() (sent) or
 * nc_capture_frame_linear() (received) when svc->capture is not NULL. */
#define NC_CAPTURE_MAX_SINKS 8
int nc_capture_open_file(struct nc_service *svc, char *err, size_t errlen);
int nc_capture_add_pipe(struct nc_service *svc, int fd, int pcapng);
void nc_capture_frame(struct nc_service *svc, const struct iovec *iov, int n);
void nc_capture_frame_linear(struct nc_service *svc, const uint8_t *frame, size_t len);
void nc_capture_flush(struct nc_service *svc);
void nc_capture_event(struct nc_service *svc, struct nc_handler *h, uint32_t events);
void nc_capture_close(struct nc_service *svc);
/* The sinks open (returned), how many are clients, frames written and dropped. */
size_t nc_capture_count(struct nc_service *svc, int *nclients, uint64_t *frames,
			uint64_t *dropped);

/* notify.c — $NOTIFY_SOCKET (systemd Type=notify): send one message. 0 or -errno. */
int nc_notify(const char *msg);

/* stack.c — lwIP glue */
/* Send one frame on the link (captured first when someone captures). */
int nc_stack_link_send(struct nc_service *svc, const struct iovec *iov, int n);
int nc_stack_init(struct nc_service *svc, char *err, size_t errlen);
void nc_stack_input(void *ctx, const uint8_t *frame, size_t len);
void nc_stack_poll(struct nc_service *svc);
void nc_stack_release_held(struct nc_service *svc);
/* Send the pure ACK held back in this loop turn (stretch ACKs), if any. */
void nc_stack_flush_ack(struct nc_service *svc);
int nc_stack_timeout_ms(struct nc_service *svc);
/* The IPv6 addresses in use (link-local first, prefix 64; then --ip6), at most max. */
void nc_stack_ip6_list(struct nc_service *svc, struct nc_ip6_prefix *out, int max,
		       uint8_t *n);

/* The virtual sockets (sock.c, ipaddr.c, tcp_listen.c, tcp_conn.c, sockopt.c, udp.c) */
struct nc_sock *nc_sock_lookup(struct nc_service *svc, ino_t ino);
struct nc_user *nc_user_get(struct nc_service *svc, uid_t uid);
/* The error a vanished socket left (its SO_ERROR, a positive errno), or 0; consumed when
 * asked to (then read as its negative). */
int nc_tombstone_get(struct nc_service *svc, ino_t ino, int consume);
void nc_sock_event(struct nc_service *svc, struct nc_sock *s, uint32_t events);
void nc_sock_reap(struct nc_service *svc);
void nc_sock_flush_dirty(struct nc_service *svc);
void nc_sock_close_all(struct nc_service *svc);
int nc_sock_reap_closed_port(struct nc_service *svc, uint16_t port, int udp);
/* lwIP address + port → struct nc_addr of the address's own family (AF_INET for IPv4,
 * AF_INET6 for IPv6); an AF_INET6 socket then maps IPv4 with nc_addr_map_v4(). */
void nc_addr_from_lwip(struct nc_addr *a, const ip_addr_t *ip, u16_t port);
/* A local address the program may bind: ours (IPv4, one of our IPv6 addresses, or an
 * IPv4-mapped IPv4 one) or a wildcard. 0 and *ip (IPv4 for IPv4 and IPv4-mapped
 * addresses, IPv6 for IPv6 ones and `::`), or -EADDRNOTAVAIL / -EAFNOSUPPORT. */
int nc_local_ip_ok(struct nc_service *svc, const struct nc_addr *a, ip_addr_t *ip);
/* Is this IPv6 address (16 bytes) one of ours, or inside one of our --ip6 prefixes? */
int nc_ip6_is_ours(struct nc_service *svc, const uint8_t a[16]);
int nc_ip6_on_link(struct nc_service *svc, const uint8_t a[16]);
/* Requests (rpc_server.c): 0 or a negative errno; a new fd for the program in *app_fd. */
int nc_sock_bind(struct nc_service *svc, const struct nc_bind_req *req, int *app_fd,
		 struct nc_addr *local);
int nc_sock_listen(struct nc_service *svc, struct nc_sock *s, const struct nc_listen_req *req,
		   int *app_fd, struct nc_addr *local);
int nc_sock_connect(struct nc_service *svc, struct nc_sock *s,
		    const struct nc_connect_req *req, int *app_fd, struct nc_connect_rep *rep);
int nc_sock_setopt(struct nc_service *svc, struct nc_sock *s, int level, int name,
		   const void *val, uint32_t len);
int nc_sock_getopt(struct nc_service *svc, struct nc_sock *s, ino_t ino, int level, int name,
		   void *val, uint32_t *len);
/* neigh.c: address conflicts (ARP/ND probe before use, detect and defend) and the
 * neighbour caches for `netcon status`. */
int nc_neigh_probe(struct nc_service *svc, char *err, size_t errlen);
void nc_neigh_observe(struct nc_service *svc, const uint8_t *frame, size_t len);
void nc_neigh_poll(struct nc_service *svc);
/* Tell the link who holds our addresses (gratuitous ARP, unsolicited NAs). */
void nc_neigh_announce(struct nc_service *svc);
/* The event loop's sleep (ms, -1 = none) shortened to our next announcement. */
int nc_neigh_timeout_ms(struct nc_service *svc, int timeout);
void nc_neigh_describe(struct nc_service *svc, char *buf, size_t len);

/* raw: the pair carries payloads only (seccomp mode), else struct nc_dgram + payload. */
int nc_udp_bind(struct nc_service *svc, const struct nc_bind_req *req, int raw, int *app_fd,
		struct nc_addr *local);
void nc_udp_drain_event(struct nc_service *svc, struct nc_handler *h);
void nc_udp_relay_event(struct nc_service *svc, struct nc_handler *h);
int nc_udp_connect(struct nc_service *svc, struct nc_sock *s,
		   const struct nc_connect_req *req, struct nc_connect_rep *rep);
/* lwIP's LWIP_HOOK_IP4_INPUT: ICMP errors for connected UDP sockets (never eats p). */
int netcon_ip4_input(struct pbuf *p, struct netif *inp);

/* rpc_server.c — the control socket */
int nc_control_open(struct nc_service *svc, char *err, size_t errlen);
int nc_unix_listen(const char *path, int type, mode_t mode, gid_t gid, const char *what,
		   const char *busy, char *tmp, dev_t *dev, ino_t *ino, char *err, size_t errlen);
void nc_unix_unlink(const char *path, dev_t dev, ino_t ino, const char *what);
void nc_control_accept(struct nc_service *svc);
void nc_client_event(struct nc_service *svc, struct nc_client *c, uint32_t events);
void nc_control_close(struct nc_service *svc);

/* names.c — the name table served: DNS on UDP port 53 and NC_MSG_RESOLVE */
int nc_names_start(struct nc_service *svc, char *err, size_t errlen);
void nc_names_stop(struct nc_service *svc);
/* Answer a checked NC_MSG_RESOLVE request: 0 or a negative errno (-ENOENT: not ours). */
int nc_names_resolve(struct nc_service *svc, const struct nc_resolve_req *q,
		     struct nc_resolve_rep *rep);
/* One line for `netcon status`, into buf. */
void nc_names_status(struct nc_service *svc, char *buf, size_t len);

/* seccomp.c — the seccomp supervisor: programs whose socket calls a filter traps */
/* Serve the notification listener fd (copied; the caller keeps fd) of the program that
 * launcher pid started; its sockets count against uid. 0 or -errno. */
int nc_seccomp_adopt(struct nc_service *svc, int fd, pid_t pid, uid_t uid);
void nc_seccomp_event(struct nc_service *svc, struct nc_handler *h, uint32_t events);
/* After each batch of events: drop waiting calls whose thread left them (a signal). */
void nc_seccomp_poll(struct nc_service *svc);
/* The event loop's sleep (ms, -1 = none) shortened while calls wait. */
int nc_seccomp_timeout_ms(struct nc_service *svc, int timeout);
size_t nc_seccomp_status(struct nc_service *svc, char *buf, size_t len);
void nc_seccomp_close_all(struct nc_service *svc);

/* dnsfwd.c — --dns-forward: names not in the table go to resolv.conf's nameservers */
int nc_dnsfwd_start(struct nc_service *svc, char *err, size_t errlen);
void nc_dnsfwd_stop(struct nc_service *svc);
/* Relay a --dns query (whose answer from the table would be NXDOMAIN) upstream; the
 * answer goes to src:sport through the DNS pcb. 0 when under way, else a negative errno
 * (the table's answer stands). */
int nc_dnsfwd_relay(struct nc_service *svc, const uint8_t *q, size_t qlen,
		    const ip_addr_t *src, u16_t sport);
/* Ask upstream for a RESOLVE request's name: 0 when under way (the reply, to c or to
 * reply_fd, which is then ours, comes later), else a negative errno (answer now). */
int nc_dnsfwd_resolve(struct nc_service *svc, struct nc_client *c, int reply_fd,
		      uint32_t seq, const struct nc_resolve_req *rq);
void nc_dnsfwd_client_gone(struct nc_service *svc, struct nc_client *c);
void nc_dnsfwd_event(struct nc_service *svc, struct nc_handler *h, uint32_t events);
void nc_dnsfwd_poll(struct nc_service *svc);
int nc_dnsfwd_timeout_ms(struct nc_service *svc, int timeout);
size_t nc_dnsfwd_status(struct nc_service *svc, char *buf, size_t len);

/* outbound.c — --outbound: kernel sockets of the service for destinations outside */
/* Decide and, if allowed, make a kernel socket connected (non-blocking) to q->peer, for
 * program pid. 0 with *fd (ours to close after passing it) and *rep; -ENOENT when the
 * destination is not the service's to decide (loopback the policy does not name, or no
 * --outbound); -ECONNREFUSED when denied; another negative errno from the kernel. */
int nc_outbound_connect(struct nc_service *svc, const struct nc_outbound_req *q, pid_t pid,
			int *fd, struct nc_outbound_rep *rep);
/* Buffer sizes a kernel socket fd (AF_INET/AF_INET6) was given, for nc_outbound_req:
 * 0 where it has a fresh socket's default. */
void nc_outbound_bufs(int fd, int family, int32_t *sndbuf, int32_t *rcvbuf);
/* May a datagram of a virtual UDP socket go to `to` (outside the virtual network) through
 * the service's relay? 0 yes; -EPERM denied (counted and logged when count); -ENOENT not
 * the service's (no --outbound, or loopback the policy does not name). */
int nc_outbound_udp_allowed(struct nc_service *svc, const struct nc_addr *to, pid_t pid,
			    int count);
size_t nc_outbound_status(struct nc_service *svc, char *buf, size_t len);

/* status.c */
size_t nc_status_text(struct nc_service *svc, char *buf, size_t len);
/* The status as one JSON document and a newline (docs/status-json.md); a socket table
 * too long for len is cut (sockets_cut). Returns its length. */
size_t nc_status_json(struct nc_service *svc, char *buf, size_t len);

#endif /* NETCON_SERVICE_H */
