/*
 * client.c — the intercept's RPC connection to the service.
 *
 * One SOCK_SEQPACKET connection per process, opened on first need, kept at a high fd
 * number (so that a daemon that closes and reopens its standard fds gets the numbers it
 * expects) and protected from the program's close(), dup2() and close_range(). Requests
 * are serialised by a mutex: a thread waits for its reply before the next request goes.
 *
 * After fork the child must not share its parent's connection for replies, so the
 * child handler forgets it and the child opens its own on first need. If it cannot (a
 * child that chrooted, like sshd's privilege-separated one, no longer sees the socket
 * path), it keeps using the inherited connection, sending with each request a private
 * reply channel (NC_F_REPLY_FD) so that replies cannot mix.
 *
 * When the service goes away the connection sees EOF; the next request reconnects, so a
 * restarted service on the same path serves the same programs again.
 *
 * Posted requests (nc_ic_post(): NC_MSG_SOCKOPT_POST) get no reply. They name a
 * connection this process's own connection made (its generation, rpc_gen, kept in the fd
 * table as nc_fdent.via), so they go only on that connection, in order with the requests
 * after them; before a fork, one round trip makes sure the service has read them all, so
 * that the child, asking on its own connection, sees what its parent set.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>

#include "addr.h"
#include "common/rpc.h"
#include "intercept.h"
#include "log.h"

#define OWN_FD_MIN 512

static pthread_mutex_t ic_lock = PTHREAD_MUTEX_INITIALIZER;
static int rpc_fd = -1;          /* this process's connection */
static int shared_fd = -1;       /* inherited from the parent (after fork) */
static pid_t rpc_pid;            /* the process rpc_fd belongs to */
static ino_t rpc_ino;            /* its inode: proof that rpc_fd is still ours */
static uint32_t rpc_seq;
static uint32_t rpc_gen;         /* connections this process opened (nc_fdent.via) */
static int svc_posts;            /* rpc_fd's service takes NC_MSG_SOCKOPT_POST (HELLO) */
static int posted;               /* posts sent on rpc_fd since its last reply */
static struct nc_net ic_net;     /* from NETCON_NET, then from the service */
static int warned;
static char sock_path[108];
static uint8_t msgbuf[NC_RPC_MAX_MSG];   /* used under ic_lock only */

static int exchange(int fd, int reply_via_pair, int type, const void *req, size_t reqlen,
		    int subject_fd, void *rep, size_t repcap, size_t *replen, int *new_fd,
		    int *answer);
static void check_own_locked(void);
static void drop_locked(void);

/* Wait until the service has read every request posted on rpc_fd: one round trip (a
 * HELLO, which changes nothing). Under ic_lock. */
static void post_barrier_locked(void)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	struct nc_hello_rep rep;
	size_t len = 0;
	int answer = 0;

	if (!posted || rpc_fd < 0 || rpc_pid != getpid())
		return;
	check_own_locked();
	if (rpc_fd >= 0 && exchange(rpc_fd, 0, NC_MSG_HELLO, &q, sizeof(q), -1, &rep, sizeof(rep),
				    &len, NULL, &answer) < 0)
		drop_locked();
	posted = 0;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&ic_lock);
	post_barrier_locked();
}

static void atfork_parent(void)
{
	nc_fd_fork_happened();
	pthread_mutex_unlock(&ic_lock);
}

static void atfork_child(void)
{
	nc_fd_fork_happened();
	pthread_mutex_init(&ic_lock, NULL);
	if (shared_fd >= 0 && rpc_fd >= 0)
		NC_REAL(close)(shared_fd);
	if (rpc_fd >= 0)
		shared_fd = rpc_fd;
	rpc_fd = -1;
	rpc_pid = 0;
	posted = 0;
	warned = 0;
}

void nc_ic_client_init(void)
{
	const char *p = getenv("NETCON_SOCKET"), *net = getenv("NETCON_NET");
	const char *net6 = getenv("NETCON_NET6");
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct in_addr ip;
	int prefix;

	if (p && *p)
		snprintf(sock_path, sizeof(sock_path), "%s", p);
	else if (x && *x)
		snprintf(sock_path, sizeof(sock_path), "%s/netcon/default.sock", x);
	else
		snprintf(sock_path, sizeof(sock_path), "/run/netcon/default.sock");
	{
		/* HELLO's NC_HELLO_OUTBOUND* flags, as netcon run/intercept saw them. */
		const char *ob = getenv("NETCON_OUTBOUND");
		if (ob && (ob[0] >= '1' && ob[0] <= '3') && !ob[1])
			ic_net.outbound = ob[0] - '0';
	}
	if (net && nc_parse_ip4_prefix(net, &ip, &prefix) == 0) {
		ic_net.known = 1;
		ic_net.ip = ip.s_addr;
		ic_net.prefix = prefix;
	}
	/* "ADDR/PREFIX,ADDR/PREFIX,...": the service's IPv6 addresses, link-local first. */
	while (net6 && *net6 && ic_net.n_ip6 < NC_HELLO_MAX_IP6) {
		char one[INET6_ADDRSTRLEN + 8];
		size_t n = strcspn(net6, ",");
		struct in6_addr a6;
		int p6;

		if (n < sizeof(one)) {
			memcpy(one, net6, n);
			one[n] = '\0';
			if (nc_parse_ip6_prefix(one, &a6, &p6) == 0) {
				memcpy(ic_net.ip6[ic_net.n_ip6].addr, &a6, 16);
				ic_net.ip6[ic_net.n_ip6++].prefix = (uint8_t)p6;
			}
		}
		net6 += n + (net6[n] == ',');
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int nc_ic_is_own_fd(int fd)
{
	return fd >= 0 && (fd == rpc_fd || fd == shared_fd);
}

static int move_high(int fd)
{
	struct rlimit rl;
	int min = OWN_FD_MIN, nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)min + 64 > rl.rlim_cur)
		min = rl.rlim_cur > 128 ? (int)rl.rlim_cur / 2 : 3;
	nfd = NC_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, min);
	if (nfd < 0)
		return fd;
	NC_REAL(close)(fd);
	return nfd;
}

void nc_ic_vacate(int fd)
{
	pthread_mutex_lock(&ic_lock);
	if (fd >= 0 && fd == rpc_fd) {
		int nfd = NC_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, fd + 1);
		if (nfd >= 0)
			rpc_fd = nfd;
		NC_REAL(close)(fd);
		if (nfd < 0)
			rpc_fd = -1;
	}
	if (fd >= 0 && fd == shared_fd) {
		int nfd = NC_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, fd + 1);
		NC_REAL(close)(fd);
		shared_fd = nfd;
	}
	pthread_mutex_unlock(&ic_lock);
}

void nc_ic_warn_unreachable(int err)
{
	if (warned)
		return;
	warned = 1;
	nc_log_write(NC_LOG_WARN, "cannot reach the netcon service at %s: %s "
		     "(virtual network calls fail)", sock_path, strerror(err));
}

/*
 * exchange() - one request/reply on fd; with reply_via_pair, the reply comes on a private
 * channel. 0 with *answer set to the service's (0 or a negative errno), or a negative errno
 * when the exchange itself failed (the service is gone, a bad reply).
 */
static int exchange(int fd, int reply_via_pair, int type, const void *req, size_t reqlen,
		    int subject_fd, void *rep, size_t repcap, size_t *replen, int *new_fd,
		    int *answer)
{
	int sfds[2], nsfds = 0, pair[2] = { -1, -1 }, rfd = fd, fds[NC_RPC_MAX_FDS], nfds, r;
	struct nc_hdr h, rh;
	const char *why;
	ssize_t n;

	memset(&h, 0, sizeof(h));
	h.type = (uint16_t)type;
	h.seq = ++rpc_seq;
	if (reply_via_pair) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
			return -errno;
		h.flags |= NC_F_REPLY_FD;
		sfds[nsfds++] = pair[1];
		rfd = pair[0];
	}
	if (subject_fd >= 0) {
		h.flags |= NC_F_SUBJECT_FD;
		sfds[nsfds++] = subject_fd;
	}
	r = nc_rpc_send(fd, &h, req, reqlen, sfds, nsfds);
	if (pair[1] >= 0)
		NC_REAL(close)(pair[1]);
	if (r < 0)
		goto out;
	for (;;) {
		n = nc_rpc_recv(rfd, msgbuf, sizeof(msgbuf), fds, &nfds, 0);
		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : (int)n;
			goto out;
		}
		if (nc_rpc_check(msgbuf, (size_t)n, nfds, 1, &why) < 0) {
			nc_rpc_close_fds(fds, nfds);
			nc_log_write(NC_LOG_ERROR, "bad reply from the service: %s", why);
			r = -EPROTO;
			goto out;
		}
		memcpy(&rh, msgbuf, sizeof(rh));
		if (rh.seq != h.seq || (rh.type & ~NC_MSG_REPLY) != type) {
			/* A reply to a request of ours that was abandoned: skip it. */
			nc_rpc_close_fds(fds, nfds);
			continue;
		}
		break;
	}
	*replen = (size_t)n - sizeof(rh);
	if (*replen > repcap)
		*replen = repcap;
	if (rep)
		memcpy(rep, msgbuf + sizeof(rh), *replen);
	if (nfds == 1 && new_fd)
		*new_fd = fds[0];
	else
		nc_rpc_close_fds(fds, nfds);
	*answer = -(int)rh.err;   /* nc_rpc_check: 0 to 4095 */
	r = 0;
out:
	if (pair[0] >= 0)
		NC_REAL(close)(pair[0]);
	return r;
}

/* Open this process's connection and say hello. 0 or a negative errno. Under ic_lock. */
static int connect_locked(void)
{
	struct nc_hello_req q = { .version = NC_RPC_VERSION, .pid = (uint32_t)getpid() };
	struct nc_hello_rep rep;
	struct sockaddr_un sun;
	size_t len = 0;
	int fd, r, answer = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path));
	fd = NC_REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (NC_REAL(connect)(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		NC_REAL(close)(fd);
		return r;
	}
	fd = move_high(fd);
	r = exchange(fd, 0, NC_MSG_HELLO, &q, sizeof(q), -1, &rep, sizeof(rep), &len, NULL,
		     &answer);
	if (r == 0)
		r = answer < 0 ? answer : len != sizeof(rep) ? -EPROTO : 0;
	if (r < 0) {
		NC_REAL(close)(fd);
		return r;
	}
	rpc_fd = fd;
	rpc_pid = getpid();
	rpc_gen++;
	svc_posts = !!(rep.flags & NC_HELLO_SOCKOPT_POST);
	posted = 0;
	{
		struct stat st;
		rpc_ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
	}
	memcpy(&ic_net.ip, rep.ip4, 4);
	ic_net.prefix = rep.prefix4;
	ic_net.service_pid = rep.service_pid;
	ic_net.n_ip6 = rep.n_ip6 <= NC_HELLO_MAX_IP6 ? rep.n_ip6 : 0;
	memcpy(ic_net.ip6, rep.ip6, sizeof(ic_net.ip6));
	ic_net.outbound = rep.flags & (NC_HELLO_OUTBOUND | NC_HELLO_OUTBOUND_LO);
	ic_net.known = 1;
	ic_net.reachable = 1;
	if (shared_fd >= 0) {
		NC_REAL(close)(shared_fd);
		shared_fd = -1;
	}
	return 0;
}

static void drop_locked(void)
{
	if (rpc_fd >= 0)
		NC_REAL(close)(rpc_fd);
	rpc_fd = -1;
	ic_net.reachable = 0;
}

/*
 * Is rpc_fd still our connection? A program can close it behind our back with a raw
 * close_range() syscall (glibc's closefrom() makes one) and may since have reused the
 * number: then it is the program's fd, which we must neither use nor close. Under ic_lock.
 */
static void check_own_locked(void)
{
	struct stat st;

	if (rpc_fd >= 0 && (fstat(rpc_fd, &st) < 0 || st.st_ino != rpc_ino)) {
		rpc_fd = -1;
		ic_net.reachable = 0;
	}
}

void nc_ic_net(struct nc_net *net)
{
	pthread_mutex_lock(&ic_lock);
	if (rpc_fd >= 0 && ic_net.reachable) {
		/* Connected once: what the service said holds (a child made by clone() or a
		 * connection closed behind our back is noticed by the next request, and its
		 * new connection would learn the same network). No system call here: every
		 * route decision asks. */
		*net = ic_net;
		pthread_mutex_unlock(&ic_lock);
		return;
	}
	if (rpc_fd >= 0 && rpc_pid != getpid()) {
		/* a child made without fork() handlers (clone): do as after fork */
		shared_fd = rpc_fd;
		rpc_fd = -1;
	}
	check_own_locked();
	if (rpc_fd < 0 && connect_locked() < 0 && shared_fd >= 0)
		ic_net.reachable = 1;   /* the inherited connection still serves */
	*net = ic_net;
	pthread_mutex_unlock(&ic_lock);
}

int nc_ic_outbound_hint(void)
{
	int f;

	pthread_mutex_lock(&ic_lock);
	f = ic_net.outbound;
	pthread_mutex_unlock(&ic_lock);
	return f;
}

int nc_ic_call(int type, const void *req, size_t reqlen, int subject_fd, void *rep,
	       size_t repcap, size_t *replen, int *new_fd)
{
	return nc_ic_call_via(type, req, reqlen, subject_fd, rep, repcap, replen, new_fd, NULL);
}

int nc_ic_call_via(int type, const void *req, size_t reqlen, int subject_fd, void *rep,
		   size_t repcap, size_t *replen, int *new_fd, uint32_t *via)
{
	size_t dummy;
	int r = -ENOTCONN, answer = 0;

	if (new_fd)
		*new_fd = -1;
	if (via)
		*via = 0;
	if (!replen)
		replen = &dummy;
	pthread_mutex_lock(&ic_lock);
	if (rpc_fd >= 0 && rpc_pid != getpid()) {
		shared_fd = rpc_fd;
		rpc_fd = -1;
	}
	check_own_locked();
	for (int attempt = 0; attempt < 2; attempt++) {
		if (rpc_fd < 0) {
			r = connect_locked();
			if (r < 0 && shared_fd >= 0) {
				r = exchange(shared_fd, 1, type, req, reqlen, subject_fd, rep, repcap,
					     replen, new_fd, &answer);
				if (r == -ECONNRESET || r == -EPIPE) {
					NC_REAL(close)(shared_fd);
					shared_fd = -1;
				}
				break;
			}
			if (r < 0)
				break;
		}
		r = exchange(rpc_fd, 0, type, req, reqlen, subject_fd, rep, repcap, replen, new_fd,
			     &answer);
		if (r == 0) {
			posted = 0;   /* a reply: the service has read what came before */
			if (via && svc_posts)
				*via = rpc_gen;
		}
		if (r != -ECONNRESET && r != -EPIPE && r != -ENOTCONN)
			break;
		/* The service went away (or restarted): reconnect once. */
		drop_locked();
	}
	pthread_mutex_unlock(&ic_lock);
	if (r < 0) {
		nc_ic_warn_unreachable(-r);
		return NC_UNREACHABLE;
	}
	return answer;
}

int nc_ic_post(int type, const void *req, size_t reqlen, uint32_t via)
{
	struct nc_hdr h;
	int r = -EAGAIN;

	pthread_mutex_lock(&ic_lock);
	if (rpc_fd >= 0 && rpc_pid == getpid() && svc_posts && via && via == rpc_gen) {
		check_own_locked();
		if (rpc_fd >= 0) {
			memset(&h, 0, sizeof(h));
			h.type = (uint16_t)type;
			h.seq = ++rpc_seq;
			r = nc_rpc_send(rpc_fd, &h, req, reqlen, NULL, 0);
			if (r == 0)
				posted = 1;
		}
	}
	pthread_mutex_unlock(&ic_lock);
	return r;
}
