/*
 * rpc.h — the whole contract between the intercept (libnetcon.so) and the service.
 *
 * Transport: a SOCK_SEQPACKET Unix socket (the service's control socket). One message is
 * one request or one reply: a fixed header, then a typed payload whose exact size is fixed
 * by its type (struct sizes below), except NC_MSG_SOCKOPT_* and NC_MSG_STATUS whose payload
 * carries its own length field. File descriptors travel as SCM_RIGHTS on the message they
 * belong to, never more than NC_RPC_MAX_FDS, in a fixed order:
 *
 *   request:  [reply channel, if NC_F_REPLY_FD] [subject socket, if NC_F_SUBJECT_FD]
 *   reply:    [new socket, if NC_F_NEW_FD]
 *
 * The subject socket *is* the name of the connection: the service identifies it by the
 * inode of that socketpair end. A process can only act on sockets it holds (one
 * exception, NC_MSG_SOCKOPT_POST, names by inode a connection made or accepted for the
 * same control connection).
 *
 * A reply echoes the request's seq and type (with NC_MSG_REPLY set); `err` is 0 or a
 * positive errno that the intercept returns to the program as-is. Every field is checked
 * by both sides; a malformed message costs the sender its connection.
 *
 * Accepted connections do not use this socket: each arrives on the listener's own
 * SOCK_SEQPACKET pair as one struct nc_accept_msg carrying the new socket.
 */
#ifndef NETCON_RPC_H
#define NETCON_RPC_H

#include <stdint.h>
#include <netinet/in.h>

#define NC_RPC_VERSION      2
#define NC_RPC_MAX_MSG      (64 * 1024)  /* largest message either side accepts */
#define NC_RPC_MAX_FDS      2
#define NC_SOCKOPT_MAX      256          /* largest option value carried */

enum nc_msg_type {
	NC_MSG_HELLO = 1,     /* version handshake; learn the network */
	NC_MSG_BIND,          /* reserve a local address; gives the bound socket */
	NC_MSG_LISTEN,        /* make a bound socket a listener */
	NC_MSG_CONNECT,       /* start a TCP connection; gives the connection socket */
	NC_MSG_SOCKOPT_SET,   /* setsockopt on a virtual socket */
	NC_MSG_SOCKOPT_GET,   /* getsockopt on a virtual socket (SO_ERROR included) */
	NC_MSG_QUERY,         /* what is this socket: kind, state, addresses */
	NC_MSG_STATUS,        /* human-readable status text (netcon status) */
	NC_MSG_RESOLVE,       /* names of the virtual network: a name's addresses, an address's names */
	NC_MSG_SECCOMP,       /* serve a seccomp user-notification listener (the subject fd) */
	NC_MSG_OUTBOUND,      /* a kernel socket of the service's, connected outside (--outbound) */
	NC_MSG_STATUS_JSON,   /* the status as JSON (netcon status --json); reply as STATUS */
	NC_MSG_CAPTURE,       /* stream the link's frames (pcap) into the subject fd, a pipe */
	NC_MSG_SOCKOPT_POST,  /* a recorded option of a connection this client made or accepted:
				 no reply */
	NC_MSG_TYPE_COUNT
};
#define NC_MSG_REPLY        0x8000

/* Header flags. */
#define NC_F_REPLY_FD       0x0001  /* request: first fd is a private reply channel */
#define NC_F_SUBJECT_FD     0x0002  /* request: an fd names the socket acted on */
#define NC_F_NEW_FD         0x0004  /* reply: carries a new socket for the program */
#define NC_F_ALL            0x0007

struct nc_hdr {
	uint32_t len;       /* whole message, header included */
	uint16_t type;      /* enum nc_msg_type, | NC_MSG_REPLY on replies */
	uint16_t flags;     /* NC_F_* */
	uint32_t seq;       /* chosen by the requester, echoed */
	int32_t  err;       /* replies: 0 or a positive errno; requests: 0 */
};

/* An IPv4 or IPv6 transport address, family-tagged (AF_INET / AF_INET6). */
struct nc_addr {
	uint16_t family;
	uint16_t port;      /* host byte order */
	uint32_t scope_id;
	uint8_t  addr[16];  /* network byte order; IPv4 in the first 4 bytes */
};

/* Options the intercept read from the kernel socket before it was replaced. */
struct nc_sockopts {
	uint32_t flags;     /* NC_OPT_* */
	int32_t  keepidle, keepintvl, keepcnt;  /* seconds/count; 0 = default */
	int32_t  linger_secs;                   /* meaningful with NC_OPT_LINGER */
	int32_t  tos;
};
#define NC_OPT_REUSEADDR    0x0001
#define NC_OPT_REUSEPORT    0x0002
#define NC_OPT_KEEPALIVE    0x0004
#define NC_OPT_NODELAY      0x0008
#define NC_OPT_LINGER       0x0010
#define NC_OPT_BROADCAST    0x0020
#define NC_OPT_V6ONLY       0x0040  /* IPV6_V6ONLY: an AF_INET6 socket refuses IPv4 */
#define NC_OPT_ALL          0x007f

/* NC_MSG_HELLO */
struct nc_hello_req {
	uint32_t version;
	uint32_t pid;
};
#define NC_HELLO_MAX_IP6    8
struct nc_ip6_prefix {
	uint8_t  addr[16];  /* network byte order */
	uint8_t  prefix;    /* 1..128 */
	uint8_t  pad[3];
};
struct nc_hello_rep {
	uint32_t version;
	uint32_t service_pid;
	uint32_t mtu;
	uint8_t  ip4[4];    /* the service's address, network byte order */
	uint8_t  prefix4;   /* its prefix length */
	uint8_t  n_ip6;     /* entries of ip6[] used, 0..NC_HELLO_MAX_IP6 */
	uint8_t  flags;     /* NC_HELLO_* */
	uint8_t  pad;
	/* Its IPv6 addresses: the link-local one first (prefix 64), then those of --ip6
	 * with their prefixes. */
	struct nc_ip6_prefix ip6[NC_HELLO_MAX_IP6];
};

/* nc_hello_rep.flags: what the service does besides the virtual network. */
#define NC_HELLO_OUTBOUND     0x01  /* --outbound: send connects elsewhere as NC_MSG_OUTBOUND */
#define NC_HELLO_OUTBOUND_LO  0x02  /* ... loopback ones too: the policy names some */
#define NC_HELLO_SOCKOPT_POST 0x04  /* the service takes NC_MSG_SOCKOPT_POST */

/* NC_MSG_BIND: without a subject fd (the program's socket is still a kernel one).
 * type: SOCK_STREAM (TCP: the reply's socket is a bound socket's SOCK_SEQPACKET pair) or
 * SOCK_DGRAM (UDP: the reply's socket is the datagram socket itself, see struct
 * nc_dgram). */
struct nc_bind_req {
	struct nc_addr addr;
	struct nc_sockopts opts;
	int32_t type;
	uint32_t pad;
};
struct nc_bind_rep {
	struct nc_addr local;   /* with the chosen port */
};

/* NC_MSG_LISTEN: subject = the bound socket; without one, binds the wildcard of `family`,
 * port 0. */
struct nc_listen_req {
	int32_t backlog;
	uint32_t family;    /* without a subject: AF_INET (0 means it too) or AF_INET6 (::) */
	struct nc_sockopts opts;
};
struct nc_listen_rep {
	struct nc_addr local;
};

/* NC_MSG_CONNECT: subject = the bound socket, if the program bound one first. On a UDP
 * socket (subject required) it sets or, with peer.family == AF_UNSPEC, clears the peer
 * that filters what arrives; the reply carries no socket. */
struct nc_connect_req {
	struct nc_addr peer;
	struct nc_sockopts opts;
};
struct nc_connect_rep {
	struct nc_addr local;
	struct nc_addr peer;
};

/* NC_MSG_SOCKOPT_SET / _GET: subject = the socket. */
struct nc_sockopt_req {
	int32_t  level;
	int32_t  name;
	uint32_t len;                     /* value bytes used (SET) / buffer size (GET) */
	uint8_t  value[NC_SOCKOPT_MAX];
};
struct nc_sockopt_rep {
	uint32_t len;
	uint8_t  value[NC_SOCKOPT_MAX];
};

/*
 * NC_MSG_SOCKOPT_POST: setsockopt without a round trip, for the options the service only
 * records or applies itself and that cannot fail on a connection (TCP_NODELAY,
 * SO_KEEPALIVE; any int). Sent only to a service whose HELLO said NC_HELLO_SOCKOPT_POST.
 * No subject fd (a copy in flight would outlive the program's close) and no reply: the
 * socket is named by the inode of the program's end, and the service acts only on a
 * connection this same control connection made (CONNECT) or accepted on a listener it
 * made (BIND, LISTEN); anything else is ignored and counted as malformed. Requests on
 * one connection are read in order, so the client's next request sees the option set.
 */
struct nc_sockopt_post {
	uint64_t ino;       /* the program's end */
	int32_t  level;
	int32_t  name;
	int32_t  value;
	uint32_t pad;       /* 0 */
};

/* NC_MSG_QUERY: subject = the socket. */
enum nc_sock_kind {
	NC_KIND_NONE = 0,   /* not a socket of this service */
	NC_KIND_BOUND,      /* bound, neither listening nor connected */
	NC_KIND_LISTENER,
	NC_KIND_CONN,
	NC_KIND_UDP,        /* a UDP socket (bound; connected if peer.family != 0) */
	NC_KIND_COUNT
};
enum nc_conn_state {
	NC_STATE_NONE = 0,
	NC_STATE_CONNECTING,
	NC_STATE_ESTABLISHED,
	NC_STATE_CLOSED,    /* reset, refused, timed out or fully closed */
	NC_STATE_COUNT
};
struct nc_query_rep {
	uint32_t kind;      /* enum nc_sock_kind */
	uint32_t state;     /* enum nc_conn_state */
	struct nc_addr local;
	struct nc_addr peer;
};

/* NC_MSG_STATUS, NC_MSG_STATUS_JSON: no payload in the request; the reply is text (JSON:
 * one document, docs/status-json.md). */
struct nc_status_rep {
	uint32_t len;       /* bytes of text that follow */
	char     text[];
};

/*
 * NC_MSG_RESOLVE: the service's name table (--host, --hosts). No fds either way.
 * NAME: the addresses of `name` (AF_UNSPEC: both families); ADDR: the names of `addr`.
 * ENOENT when the table does not have it (the intercept then asks libc); a known name
 * without an address of the family asked gets err 0 and naddrs 0.
 */
#define NC_NAME_MAX             256   /* name bytes, NUL included */
#define NC_RESOLVE_MAX_ADDRS    16
#define NC_RESOLVE_MAX_NAMES    8
enum nc_resolve_op {
	NC_RESOLVE_NAME = 1,
	NC_RESOLVE_ADDR,
	NC_RESOLVE_OP_COUNT
};
struct nc_resolve_req {                 /* 280 bytes */
	uint32_t op;                    /* enum nc_resolve_op */
	uint16_t family;                /* NAME: AF_UNSPEC/AF_INET/AF_INET6; ADDR: AF_INET/AF_INET6 */
	uint16_t pad;                   /* 0 */
	uint8_t  addr[16];              /* ADDR: network order, IPv4 in the first 4 bytes */
	char     name[NC_NAME_MAX];     /* NAME: 1..253 characters, NUL-terminated */
};
struct nc_resolve_addr {                /* 20 bytes */
	uint16_t family;                /* AF_INET or AF_INET6 */
	uint16_t pad;
	uint8_t  addr[16];
};
struct nc_resolve_rep {                 /* 2376 bytes */
	uint32_t naddrs;                /* 0..NC_RESOLVE_MAX_ADDRS */
	uint32_t nnames;                /* 1..NC_RESOLVE_MAX_NAMES: canonical name, then aliases */
	struct nc_resolve_addr addrs[NC_RESOLVE_MAX_ADDRS];
	char     names[NC_RESOLVE_MAX_NAMES][NC_NAME_MAX];   /* each NUL-terminated */
};

/*
 * NC_MSG_SECCOMP: sent by the seccomp launcher (`netcon intercept --mode seccomp`) after
 * it installed its filter and before it execs the program. The subject fd is the filter's
 * listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), not a socket: the service keeps it and
 * answers the program's trapped socket calls from its event loop (service/seccomp.c).
 * pid: the launcher's, which the program keeps through exec.
 */
struct nc_seccomp_req {
	uint32_t pid;
	uint32_t flags;     /* 0 */
};
struct nc_seccomp_rep {
	uint32_t service_pid;
	uint32_t pad;
};

/*
 * NC_MSG_OUTBOUND: a connect of the program's unconnected kernel TCP or UDP socket to a
 * destination outside the virtual network, when the service has --outbound (HELLO's
 * NC_HELLO_OUTBOUND). No subject. The service decides by its policy and, if allowed,
 * makes a kernel socket in its own network namespace, applies the options, starts a
 * non-blocking connect (UDP: connects it) and returns the socket (NC_F_NEW_FD), which the
 * intercept puts in place of the program's fd. ENOENT: not the service's to decide (a
 * loopback destination the policy does not name): the program's own kernel connects.
 * Denied: ECONNREFUSED (TCP), EPERM (UDP).
 * With NC_OUTBOUND_CHECK (type SOCK_DGRAM) only the policy is asked, for a datagram a
 * virtual UDP socket sends outside (the service relays it): 0 allowed, EPERM denied
 * (counted and logged), ENOENT not the service's; no socket, no reply payload.
 */
#define NC_OUTBOUND_CHECK   0x1
struct nc_outbound_req {
	struct nc_addr peer;
	struct nc_sockopts opts;
	uint32_t family;    /* the program's socket: AF_INET or AF_INET6 */
	int32_t  type;      /* SOCK_STREAM or SOCK_DGRAM */
	int32_t  sndbuf;    /* SO_SNDBUF / SO_RCVBUF the program set (as given to setsockopt), */
	int32_t  rcvbuf;    /* 0 = the kernel's default */
	uint32_t flags;     /* NC_OUTBOUND_CHECK */
	uint32_t pad;
};
struct nc_outbound_rep {
	struct nc_addr local;   /* the kernel socket's address in the service's namespace */
	uint32_t connected;     /* 1: connected at once; 0: the handshake is under way */
	uint32_t pad;
};

/*
 * NC_MSG_CAPTURE: `netcon capture`. The subject fd is the write end of a pipe, not a
 * socket: the service keeps it and writes a pcap stream into it (a header, then every
 * frame crossing the link) until the reader closes its end; a reader too slow loses
 * whole frames (counted), never the stream's form. Only the service's own user and root
 * may capture (EPERM): the frames carry every user's traffic. EBUSY beyond
 * NC_CAPTURE_MAX_SINKS captures. The reply has no payload. With NC_CAPTURE_PCAPNG the
 * stream is pcapng (a section and interface header, then one Enhanced Packet Block per
 * frame, commented with the program and connection it belongs to); a service older than
 * that flag refuses it with EINVAL.
 */
#define NC_CAPTURE_PCAPNG 1u
struct nc_capture_req {
	uint32_t flags;     /* 0 or NC_CAPTURE_PCAPNG */
	uint32_t pad;       /* 0 */
};

/* One accepted connection, on the listener's SOCK_SEQPACKET pair, with the new fd. */
struct nc_accept_msg {
	uint32_t magic;     /* NC_ACCEPT_MAGIC */
	uint32_t flags;     /* NC_ACCEPT_KERNEL: the fd is a kernel TCP socket (a connection
			       to a published port of the host): the program's own, not virtual;
			       NC_ACCEPT_MARK: the fd's first byte is a mark, not data: the
			       accepting side reads it (nc_accept_recv()) */
	struct nc_addr local;
	struct nc_addr peer;
};
#define NC_ACCEPT_MAGIC     0x6e636163u  /* "ncac" */
#define NC_ACCEPT_KERNEL    1u
#define NC_ACCEPT_MARK      2u

/*
 * Virtual UDP sockets. The program's fd is one end of a SOCK_SEQPACKET pair; each message
 * on it is one datagram: this header, then the payload (0..NC_DGRAM_MAX bytes).
 *   program → service: addr = destination (family AF_UNSPEC: the connected peer);
 *   service → program: addr = source; err != 0 (no payload) reports an ICMP error
 *   (ECONNREFUSED) to a connected socket, as Linux's next call on it does.
 * The intercept adds and strips the header in the program's data calls (data.c).
 */
struct nc_dgram {
	uint32_t magic;     /* NC_DGRAM_MAGIC */
	int32_t  err;
	struct nc_addr addr;
};
#define NC_DGRAM_MAGIC      0x6e636467u  /* "ncdg" */
#define NC_DGRAM_MAX        65507        /* largest UDP payload over IPv4 */

#endif /* NETCON_RPC_H */
