/*
 * outbound.c — `--outbound`: the way out of the virtual network.
 *
 * DOC: Theory of operation
 *
 * Without --outbound a destination outside the virtual network is the program's kernel's
 * business: the intercept and the seccomp supervisor leave the connect alone, and in a
 * namespace without network it fails. With --outbound POLICY the service lends the
 * program its own network, the one of the namespace the service runs in:
 *
 *  - The program's connect of an unconnected kernel TCP or UDP socket to an address
 *    outside the virtual network comes to the service (NC_MSG_OUTBOUND from the
 *    intercept; the trapped connect itself in seccomp mode).
 *  - The policy (common/outbound.c) decides. Denied: ECONNREFUSED for TCP, what a
 *    firewall's reject gives, EPERM for UDP, what netfilter's OUTPUT drop or reject
 *    gives a sender; counted and logged once per destination. Loopback (127.0.0.0/8, ::1)
 *    is decided here only when an entry names it; otherwise it is not the service's
 *    (-ENOENT) and the program's own kernel connects, as without --outbound — so `all`
 *    never hands the host's loopback services to a program.
 *  - Allowed: the service makes a kernel socket of the program's family here, gives it
 *    the options the program had set (TCP_NODELAY, SO_KEEPALIVE and the TCP_KEEP*,
 *    SO_LINGER, IP_TOS, IPV6_V6ONLY, buffer sizes the program chose: before the SYN, so
 *    that window scaling follows them), starts a non-blocking connect and passes the
 *    socket to the program, which puts it over its own fd (dup3 in preload mode, ADDFD
 *    with SETFD in seccomp mode). From then on the socket is simply the program's: the
 *    kernel carries every byte, answers the non-blocking connect's POLLOUT and SO_ERROR,
 *    a second connect's EALREADY/EISCONN, getsockname (an address of the service's
 *    namespace), and the close. The service keeps no copy and no state but a counter
 *    and a short list of the last sockets passed, for `netcon status`.
 *
 * Why hand over a kernel socket rather than relay through lwIP or a socketpair: the
 * bytes then cost nothing in the service (no copy, no event loop turn), every socket
 * option and ioctl the program uses acts on a real TCP socket, and a slow or dead
 * service cannot stall a connection once it exists. The price: the program holds a
 * socket of another namespace, with that namespace's addresses.
 *
 * UDP: a connect outside gets a connected kernel UDP socket the same way (the kernel
 * carries every datagram). A datagram an unconnected virtual UDP socket sends outside is
 * relayed instead (udp.c: one kernel socket of the service per program socket, made on
 * the first such datagram, its replies delivered with their real source), since that
 * socket may also talk to the virtual network; each datagram is checked against the
 * policy (nc_outbound_udp_allowed).
 *
 * This function never blocks: socket(), setsockopt() and a non-blocking connect().
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

/* Log a denied destination once (while the table has room; then no more lines). */
static void log_denied(struct nc_service *svc, const struct nc_addr *a, int type, pid_t pid)
{
	struct nc_outbound_state *ob = &svc->ob;
	uint32_t h = 2166136261u;
	char t[64];

	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	h = (h ^ a->port ^ ((uint32_t)type << 16)) * 16777619u;
	for (unsigned k = 0; k < NC_OB_LOGGED; k++) {
		struct nc_ob_logged *e = &ob->logged[(h + k) % NC_OB_LOGGED];
		if (e->family == 0) {
			if (ob->nlogged >= NC_OB_LOGGED * 3 / 4)
				return;   /* table full: quiet from now on */
			e->family = (uint8_t)a->family;
			e->type = (uint8_t)type;
			e->port = a->port;
			memcpy(e->addr, a->addr, 16);
			ob->nlogged++;
			nc_warn("outbound: pid %d: %s %s denied by the --outbound policy "
				"(%s; logged once per destination)", (int)pid,
				type == SOCK_DGRAM ? "udp" : "tcp", nc_addr_str(a, t, sizeof(t)),
				type == SOCK_DGRAM ? "EPERM" : "ECONNREFUSED");
			return;
		}
		if (e->family == a->family && e->type == type && e->port == a->port &&
		    !memcmp(e->addr, a->addr, 16))
			return;
	}
}

/* A fresh socket's buffer sizes in this namespace, per family (read once). */
static void default_bufs(int family, int *snd, int *rcv)
{
	static int cached[2][2];
	int i = family == AF_INET6;

	if (!cached[i][0]) {
		int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), v;
		socklen_t l = sizeof(v);
		cached[i][0] = cached[i][1] = -1;
		if (s >= 0) {
			if (getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0)
				cached[i][0] = v;
			l = sizeof(v);
			if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0)
				cached[i][1] = v;
			close(s);
		}
	}
	*snd = cached[i][0];
	*rcv = cached[i][1];
}

void nc_outbound_bufs(int fd, int family, int32_t *sndbuf, int32_t *rcvbuf)
{
	int dsnd, drcv, v;
	socklen_t l = sizeof(v);

	*sndbuf = *rcvbuf = 0;
	default_bufs(family, &dsnd, &drcv);
	/* Linux reports twice what was set (its bookkeeping overhead): halve it back. */
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v != dsnd && v > 0)
		*sndbuf = v / 2;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 && v != drcv && v > 0)
		*rcvbuf = v / 2;
}

/* The options the program had set, on our new socket s (before connect). Best effort:
 * an option this kernel refuses is left at its default, as setsockopt would have. */
static void apply_opts(int s, int family, const struct nc_outbound_req *q)
{
	const struct nc_sockopts *o = &q->opts;
	int one = 1, v;

	if (family == AF_INET6) {
		v = (o->flags & NC_OPT_V6ONLY) ? 1 : 0;
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	}
	if (o->flags & NC_OPT_REUSEADDR)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->flags & NC_OPT_BROADCAST)
		setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	if (o->flags & NC_OPT_KEEPALIVE)
		setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (o->flags & NC_OPT_NODELAY)
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->flags & NC_OPT_LINGER) {
		struct linger lg = { .l_onoff = 1, .l_linger = o->linger_secs };
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (o->keepidle > 0)
		setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &o->keepidle, sizeof(o->keepidle));
	if (o->keepintvl > 0)
		setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &o->keepintvl, sizeof(o->keepintvl));
	if (o->keepcnt > 0)
		setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &o->keepcnt, sizeof(o->keepcnt));
	if (o->tos > 0) {
		setsockopt(s, IPPROTO_IP, IP_TOS, &o->tos, sizeof(o->tos));
		if (family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &o->tos, sizeof(o->tos));
	}
	if (q->sndbuf > 0)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &q->sndbuf, sizeof(q->sndbuf));
	if (q->rcvbuf > 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &q->rcvbuf, sizeof(q->rcvbuf));
}

/* The policy's word on q->peer: 0 allowed; -ENOENT not ours (loopback it does not name);
 * -ECONNREFUSED (TCP) or -EPERM (UDP) denied, counted and logged when count. */
static int decide(struct nc_service *svc, const struct nc_addr *peer, int type, pid_t pid,
		  int count)
{
	struct nc_outbound_state *ob = &svc->ob;

	if (svc->cfg.outbound.n == 0)
		return -ENOENT;
	if (nc_outbound_match(&svc->cfg.outbound, peer) >= 0)
		return 0;
	if (nc_outbound_is_loopback(peer))
		return -ENOENT;   /* the program's own loopback, as without --outbound */
	if (count) {
		if (type == SOCK_DGRAM)
			ob->udp_denied++;
		else
			ob->denied++;
		log_denied(svc, peer, type, pid);
	}
	return type == SOCK_DGRAM ? -EPERM : -ECONNREFUSED;
}

int nc_outbound_udp_allowed(struct nc_service *svc, const struct nc_addr *to, pid_t pid,
			    int count)
{
	return decide(svc, to, SOCK_DGRAM, pid, count);
}

int nc_outbound_connect(struct nc_service *svc, const struct nc_outbound_req *q, pid_t pid,
			int *fd, struct nc_outbound_rep *rep)
{
	struct nc_outbound_state *ob = &svc->ob;
	struct sockaddr_storage ss, ls;
	struct nc_ob_recent *rec;
	socklen_t sl, ll = sizeof(ls);
	int family = (int)q->family, type = q->type, s, r = 0;

	*fd = -1;
	memset(rep, 0, sizeof(*rep));
	if (svc->cfg.outbound.n == 0)
		return -ENOENT;
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if ((q->flags & NC_OUTBOUND_CHECK) && type != SOCK_DGRAM)
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (q->peer.family != family)
		return -EAFNOSUPPORT;
	r = decide(svc, &q->peer, type, pid, 1);
	if (r < 0 || (q->flags & NC_OUTBOUND_CHECK))
		return r;
	sl = nc_addr_to_sockaddr(&q->peer, (struct sockaddr *)&ss, sizeof(ss));
	s = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	apply_opts(s, family, q);
	if (type == SOCK_DGRAM)
		ob->udp_allowed++;
	else
		ob->allowed++;
	/* A UDP connect sends nothing: it is done at once (or fails: no route). */
	if (connect(s, (struct sockaddr *)&ss, sl) == 0)
		rep->connected = 1;
	else if (errno != EINPROGRESS || type == SOCK_DGRAM)
		r = -errno;
	rec = &ob->recent[ob->nrecent++ % NC_OB_RECENT];
	memset(rec, 0, sizeof(*rec));
	rec->pid = pid;
	rec->type = type;
	rec->peer = q->peer;
	rec->err = -r;
	if (r < 0) {
		ob->failed++;
		close(s);
		return r;
	}
	if (getsockname(s, (struct sockaddr *)&ls, &ll) == 0)
		nc_addr_from_sockaddr(&rep->local, (struct sockaddr *)&ls, ll);
	rec->local = rep->local;
	*fd = s;
	return 0;
}

size_t nc_outbound_status(struct nc_service *svc, char *buf, size_t len)
{
	const struct nc_outbound_state *ob = &svc->ob;
	char pol[NC_OUTBOUND_MAX * (NC_OUTBOUND_TEXT + 1)], a[64], b[64];
	size_t used;
	int n;

	if (!len)
		return 0;
	nc_outbound_describe(&svc->cfg.outbound, pol, sizeof(pol));
	n = snprintf(buf, len, "outbound: %s; %llu allowed (%llu failed at once), %llu denied\n",
		     pol, (unsigned long long)ob->allowed, (unsigned long long)ob->failed,
		     (unsigned long long)ob->denied);
	if (n < 0 || (size_t)n >= len)
		return len - 1;
	used = (size_t)n;
	if (svc->cfg.outbound.n == 0)
		return used;
	n = snprintf(buf + used, len - used, "outbound udp: %llu connected sockets passed, %llu "
		     "sends denied; relayed for %u sockets: %llu datagrams out, %llu in, %llu "
		     "dropped\n", (unsigned long long)ob->udp_allowed,
		     (unsigned long long)ob->udp_denied, ob->udp_relays,
		     (unsigned long long)ob->udp_relay_out, (unsigned long long)ob->udp_relay_in,
		     (unsigned long long)ob->udp_relay_dropped);
	if (n < 0 || (size_t)n >= len - used)
		return used;
	used += (size_t)n;
	if (ob->nrecent == 0)
		return used;
	n = snprintf(buf + used, len - used, "outbound sockets passed to programs (the last %d, "
		     "newest first; the kernel carries them):\n", NC_OB_RECENT);
	if (n < 0 || (size_t)n >= len - used)
		return used;
	used += (size_t)n;
	for (uint64_t i = 0; i < ob->nrecent && i < NC_OB_RECENT; i++) {
		const struct nc_ob_recent *e = &ob->recent[(ob->nrecent - 1 - i) % NC_OB_RECENT];
		n = snprintf(buf + used, len - used, "  pid %-7d %s %-22s -> %-22s %s\n",
			     (int)e->pid, e->type == SOCK_DGRAM ? "udp" : "tcp",
			     e->err ? "-" : nc_addr_str(&e->local, a, sizeof(a)),
			     nc_addr_str(&e->peer, b, sizeof(b)), e->err ? strerror(e->err) : "");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return used;
}
