/*
 * sock.c — the table of virtual sockets and their lifetime, for every kind (TCP bound
 * sockets, listeners and connections, UDP sockets).
 *
 * DOC: Theory of operation
 *
 * Naming. A virtual socket is named by the inode of the program's end of its socketpair
 * (s->ino). The program proves it holds a socket by sending that fd with a request; the
 * RPC server fstat()s it and looks the inode up here (a hash of NC_HASH_BUCKETS chains).
 * No number is ever trusted.
 *
 * Kinds. bind() gives the program a SOCK_SEQPACKET end (kind BOUND). listen() keeps that
 * pair (kind LISTENER): each accepted connection is one message on it carrying the new
 * SOCK_STREAM end, so accept() in the program is a local recvmsg(). connect() gives a
 * SOCK_STREAM end (kind CONN), replacing a bound pair if there was one. A UDP socket
 * (kind UDP) has a SOCK_SEQPACKET end, one message per datagram (udp.c). Each kind's
 * code lives in its own file: tcp_listen.c (BOUND, LISTENER), tcp_conn.c (CONN), udp.c
 * (UDP); this file calls into them from one place each for events (nc_sock_event) and
 * for teardown (sock_teardown).
 *
 * Tombstones. When a socket goes while the program still holds its end (a refused or
 * reset connection), its error stays in a small ring of tombstones keyed by inode, so
 * that SO_ERROR and later calls on that fd still get Linux's answers.
 *
 * Lifetimes. nc_sock_kill() forgets a socket at once (out of the hash and the list, our
 * end closed, its kind's resources released) but frees its memory only at the end of
 * the loop iteration (the zombie list, nc_sock_reap()), so an event batch or an lwIP
 * callback never sees a freed socket. Every socket counts against the user (uid) that
 * made it, for --max-sockets.
 */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define SVC_END_SNDBUF   (4 * 1024 * 1024)

/* ---- the table -------------------------------------------------------------------- */

static unsigned hash_ino(ino_t ino)
{
	uint64_t x = (uint64_t)ino * 0x9e3779b97f4a7c15ull;
	return (unsigned)(x >> 40) % NC_HASH_BUCKETS;
}

void nc_sock_hash_add(struct nc_service *svc, struct nc_sock *s, ino_t ino)
{
	unsigned b = hash_ino(ino);

	s->ino = ino;
	s->hnext = svc->hash[b];
	svc->hash[b] = s;
}

void nc_sock_hash_del(struct nc_service *svc, struct nc_sock *s)
{
	struct nc_sock **pp = &svc->hash[hash_ino(s->ino)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			return;
		}
	}
}

struct nc_sock *nc_sock_lookup(struct nc_service *svc, ino_t ino)
{
	for (struct nc_sock *s = svc->hash[hash_ino(ino)]; s; s = s->hnext)
		if (s->ino == ino && !s->dead)
			return s;
	return NULL;
}

void nc_tombstone_put(struct nc_service *svc, ino_t ino, int err)
{
	struct nc_tombstone *t = &svc->tomb[svc->tomb_next++ % NC_TOMBSTONES];

	t->ino = ino;
	t->err = err;
}

/* The error a vanished socket left (its SO_ERROR), or 0; consumed when asked to. A
 * negative value means the inode is known but the error was already read. */
int nc_tombstone_get(struct nc_service *svc, ino_t ino, int consume)
{
	for (unsigned i = 0; i < NC_TOMBSTONES; i++) {
		struct nc_tombstone *t = &svc->tomb[i];
		if (t->ino == ino && ino != 0) {
			int e = t->err;
			if (consume && e > 0)
				t->err = -e;
			return e;
		}
	}
	return 0;
}

struct nc_user *nc_user_get(struct nc_service *svc, uid_t uid)
{
	struct nc_user *u;

	for (u = svc->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->next = svc->users;
	svc->users = u;
	return u;
}

/*
 * nc_sock_new() - a new virtual socket of `kind`, counted against `owner` (the user of
 * the current request, svc->cur_user, or a listener's owner for the connections it
 * accepts). Returns it, or NULL with errno ENOBUFS when that user holds --max-sockets
 * already, or ENOMEM.
 */
struct nc_sock *nc_sock_new(struct nc_service *svc, int kind, struct nc_user *owner)
{
	struct nc_sock *s;

	if (owner && svc->cfg.max_socks_per_user > 0 &&
	    owner->nsocks >= svc->cfg.max_socks_per_user) {
		nc_log_ratelimited(NC_LOG_WARN, "user %u holds %d virtual sockets, the limit "
				   "(--max-sockets): refusing another", (unsigned)owner->uid,
				   owner->nsocks);
		errno = ENOBUFS;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->owner = owner;
	if (owner)
		owner->nsocks++;
	s->pid = svc->cur_pid;
	s->client = svc->cur_client;
	s->h.type = NC_H_SOCK;
	s->svc = svc;
	s->kind = kind;
	s->fd = -1;
	s->conn.app_dup = -1;
	s->next = svc->socks;
	if (svc->socks)
		svc->socks->prev = s;
	svc->socks = s;
	svc->nsocks[kind]++;
	return s;
}


void nc_sock_set_kind(struct nc_service *svc, struct nc_sock *s, int kind)
{
	svc->nsocks[s->kind]--;
	s->kind = kind;
	svc->nsocks[kind]++;
}

/*
 * nc_sock_new_tcp() - nc_sock_new() for a TCP socket over pcb and a fresh socketpair: f
 * is our end (its inode ino names the socket), a the program's. Returns the socket, or
 * NULL with errno after closing both ends (the pcb is the caller's then).
 */
struct nc_sock *nc_sock_new_tcp(struct nc_service *svc, int kind, struct nc_user *owner,
				struct tcp_pcb *pcb, int a, int f, ino_t ino)
{
	struct nc_sock *s = nc_sock_new(svc, kind, owner);

	if (!s) {
		int e = errno;
		close(a);
		close(f);
		errno = e;
		return NULL;
	}
	s->pcb = pcb;
	s->fd = f;
	nc_sock_hash_add(svc, s, ino);
	return s;
}

/* Release what the socket's kind holds: its pcb, queued data, pending connections. */
static void sock_teardown(struct nc_service *svc, struct nc_sock *s)
{
	switch (s->kind) {
	case NC_KIND_UDP:
		nc_udp_release(svc, s);
		break;
	case NC_KIND_LISTENER:
		nc_listener_release(svc, s);
		break;
	default:   /* bound, connection */
		nc_conn_release(svc, s);
		break;
	}
}

/*
 * nc_sock_kill() - forget a socket: release what its kind holds (a TCP pcb is closed
 * unless the caller aborted or detached it), close our end, and free the memory after
 * this batch.
 */
void nc_sock_kill(struct nc_service *svc, struct nc_sock *s)
{
	if (s->dead)
		return;
	s->dead = 1;
	sock_teardown(svc, s);
	nc_sock_hash_del(svc, s);
	if (s->fd >= 0) {
		nc_epoll_del(svc, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		svc->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	svc->nsocks[s->kind]--;
	if (s->owner) {
		s->owner->nsocks--;
		s->owner = NULL;
	}
	s->pnext = svc->zombies;
	svc->zombies = s;
}

void nc_sock_reap(struct nc_service *svc)
{
	while (svc->zombies) {
		struct nc_sock *s = svc->zombies;
		svc->zombies = s->pnext;
		free(s);
	}
}

/* Reset every connection and close every listener: the service is stopping. */
/*
 * nc_sock_reap_closed_port() - finish the close of every socket on port whose program
 * has closed it already, though its hang-up still waits in our epoll queue: a program
 * that closes a listener and binds its port again at once (iperf3 does) sends the bind
 * before we see the close, and Linux freed the port at close. udp: UDP sockets, else TCP
 * bound sockets and listeners, and the connections that closed listener never accepted
 * (their end reports ECONNRESET: the accept mark was left unread, tcp_listen.c): Linux
 * resets those at the listener's close. Returns how many were closed (then try again).
 */
int nc_sock_reap_closed_port(struct nc_service *svc, uint16_t port, int udp)
{
	int n = 0, again = 1;

	/* Closing one may close others (a listener resets the connections it held back):
	 * when the next one went too, walk again from the head. */
	for (int pass = 0; pass < 64 && again; pass++) {
		struct nc_sock *s, *next;

		again = 0;
		for (s = svc->socks; s; s = next) {
			struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };
			int conn = !udp && s->kind == NC_KIND_CONN;

			next = s->next;
			if (s->dead || s->fd < 0 || s->local.port != port ||
			    (udp ? s->kind != NC_KIND_UDP :
			     s->kind != NC_KIND_BOUND && s->kind != NC_KIND_LISTENER && !conn))
				continue;
			if (poll(&p, 1, 0) != 1 ||
			    !(p.revents & (conn ? POLLERR : POLLHUP | POLLRDHUP | POLLERR)))
				continue;
			if (conn)
				nc_conn_event(svc, s, (uint32_t)p.revents);   /* poll's bits are epoll's */
			else
				nc_sock_kill(svc, s);
			n++;
			if (next && next->dead) {
				again = 1;
				break;
			}
		}
	}
	return n;
}

void nc_sock_close_all(struct nc_service *svc)
{
	svc->dirty = NULL;
	while (svc->socks) {
		struct nc_sock *s = svc->socks;
		if (s->kind == NC_KIND_BOUND || s->kind == NC_KIND_CONN)
			nc_conn_abort(svc, s);
		else
			nc_sock_kill(svc, s);
	}
	nc_sock_reap(svc);
	while (svc->users) {
		struct nc_user *u = svc->users;
		svc->users = u->next;
		free(u);
	}
}

/* ---- socketpairs ------------------------------------------------------------------ */

/*
 * fill_seqpacket() - make the program's end of a bound socket or listener never
 * writable, as a listening TCP socket never is (poll gives POLLIN or nothing, never
 * POLLOUT; a program that waits for "readable or writable" on a listener must not spin).
 * A SOCK_SEQPACKET end is writable while its unread sent bytes ×4 ≤ SO_SNDBUF: shrink
 * SO_SNDBUF to the minimum and send small messages from it until it would block. They
 * stay unread in our end's queue (we never read a listener's pair) and go with the pair.
 */
static void fill_seqpacket(int app)
{
	static const char zeros[64];
	int one = 1;

	setsockopt(app, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	for (int i = 0; i < 256; i++)
		if (send(app, zeros, sizeof(zeros), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
}

/*
 * nc_sock_pair() - create a socketpair of `type` for a TCP socket; our end non-blocking.
 * Returns 0 and the two fds and the inode of the program's end, or a negative errno.
 */
int nc_sock_pair(int type, int *app_fd, int *svc_fd, ino_t *ino)
{
	int sv[2], v = SVC_END_SNDBUF;
	struct stat st;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fstat(sv[0], &st) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (type == SOCK_STREAM) {
		/* Room for a TCP window's worth of data on its way to the program. */
		if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
			setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	} else {
		fill_seqpacket(sv[0]);
	}
	*app_fd = sv[0];
	*svc_fd = sv[1];
	*ino = st.st_ino;
	return 0;
}

/* The command is read once, when first asked for (status --json, a pcapng capture), not
 * when the socket is made: a service nobody watches never reads /proc. */
const char *nc_sock_command(struct nc_sock *s)
{
	char path[32];
	ssize_t n = -1;
	int fd;

	if (s->pid <= 0)
		return NULL;
	if (s->comm[0])
		return s->comm;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)s->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, s->comm, sizeof(s->comm) - 1);
		close(fd);
	}
	if (n <= 0)
		return "?";   /* gone: asked again next time, in case it was a passing error */
	s->comm[n] = '\0';
	s->comm[strcspn(s->comm, "\n")] = '\0';
	if (!s->comm[0])
		snprintf(s->comm, sizeof(s->comm), "?");
	return s->comm;
}

/* ---- sockets made elsewhere (udp.c), events ----------------------------------------- */

/* A new socket of `kind` whose service end is fd (its events go to nc_sock_event), named
 * by ino, counted against the current request's user. Returns it, or NULL with errno. */
struct nc_sock *nc_sock_adopt(struct nc_service *svc, int kind, int fd, ino_t ino)
{
	struct nc_sock *s = nc_sock_new(svc, kind, svc->cur_user);

	if (!s)
		return NULL;
	s->fd = fd;
	nc_sock_hash_add(svc, s, ino);
	if (nc_epoll_add(svc, fd, EPOLLIN | EPOLLRDHUP, &s->h) < 0) {
		nc_sock_kill(svc, s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* An event on a virtual socket's pair: to its kind's code. */
void nc_sock_event(struct nc_service *svc, struct nc_sock *s, uint32_t events)
{
	if (s->dead)
		return;
	switch (s->kind) {
	case NC_KIND_UDP:
		nc_udp_event(svc, s, events);
		break;
	case NC_KIND_CONN:
		nc_conn_event(svc, s, events);
		break;
	default:   /* bound, listener */
		nc_listener_event(svc, s, events);
		break;
	}
}
