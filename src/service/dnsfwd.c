/*
 * dnsfwd.c — `--dns-forward`: names the service's table does not have go to the host's
 * resolvers, the nameservers of the service's /etc/resolv.conf.
 *
 * DOC: Theory of operation
 *
 * Two kinds of question come here, both only after the table said "not mine":
 *
 *  - A DNS query to the service's --dns responder (names.c) whose answer would be
 *    NXDOMAIN: it is relayed as it came, under a new random id, and the upstream answer
 *    goes back to the querier with its own id restored, whatever it says (NXDOMAIN,
 *    CNAMEs, SERVFAIL). No answer in time: SERVFAIL.
 *  - An NC_MSG_RESOLVE of a name (getaddrinfo and friends under the intercept): the
 *    service asks for A and/or AAAA (as the request's family says) and, when every
 *    answer is in, replies with the addresses. The RPC reply is *deferred*: the request
 *    is left unanswered while the loop goes on (the intercept waits, holding its own
 *    lock; nothing else waits). A name with no address (NXDOMAIN, no data, SERVFAIL, a
 *    timeout) is answered ENOENT, so the program's libc has its say (its /etc/hosts).
 *
 * Nothing blocks the event loop: every upstream query has a non-blocking UDP socket of
 * its own, connected to the nameserver (the kernel picks a random source port and drops
 * datagrams from anyone else), in the epoll set. An answer must also carry the query's
 * id and repeat its question, or it is ignored. Bounded: at most NC_FWD_MAX queries in
 * flight (beyond that the table's own answer stands: NXDOMAIN, ENOENT), each given
 * NC_FWD_TRY_MS per nameserver and tried on each nameserver in turn (at most 3).
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "addr.h"
#include "common/rpc.h"
#include "log.h"

#define NC_FWD_MAX       256     /* upstream queries in flight */
#define NC_FWD_JOBS      128     /* RESOLVE requests waiting */
#define NC_FWD_NS        3       /* nameservers used (resolv.conf's MAXNS) */
#define NC_FWD_TRY_MS    2000    /* per nameserver */
#define NC_FWD_QMAX      1232    /* longest query relayed */
#define NC_FWD_AMAX      4096    /* longest answer taken */
#define RESOLV_CONF      "/etc/resolv.conf"

enum { FWD_FREE = 0, FWD_RELAY, FWD_RESOLVE };

struct fwd_job;

/* One upstream query. */
struct fwd_q {
	struct nc_handler h;         /* NC_H_DNSFWD */
	int kind;                    /* FWD_* */
	int fd;                      /* connected to ns[ns_idx] */
	int ns_idx, tries;
	uint64_t deadline;           /* ms */
	uint16_t id;                 /* ours, on the wire */
	uint8_t q[NC_FWD_QMAX];      /* the query as sent (id ours) */
	size_t qlen, qend;           /* length; end of the question section */
	/* FWD_RELAY: where the answer goes (lwIP), with the querier's id */
	ip_addr_t src;
	u16_t sport;
	uint16_t orig_id;
	/* FWD_RESOLVE */
	struct fwd_job *job;
};

/* One deferred NC_MSG_RESOLVE. */
struct fwd_job {
	int used;
	struct nc_client *c;         /* NULL once the client is gone */
	int reply_fd;                /* a private reply channel (ours), or -1: c's connection */
	uint32_t seq;
	int pending;                 /* upstream queries not answered yet */
	struct nc_resolve_rep rep;
	char name[NC_NAME_MAX];
};

struct nc_dnsfwd {
	struct sockaddr_storage ns[NC_FWD_NS];
	socklen_t nslen[NC_FWD_NS];
	int nns;
	int inflight;
	struct fwd_q q[NC_FWD_MAX];
	struct fwd_job jobs[NC_FWD_JOBS];
	uint64_t relayed, resolved, answered, timeouts, refused;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The nameservers of resolv.conf (at most 3). 0, or -errno with a message in err. */
static int read_resolv(struct nc_dnsfwd *f, char *err, size_t errlen)
{
	FILE *fp = fopen(RESOLV_CONF, "re");
	char line[512];

	if (!fp) {
		snprintf(err, errlen, "--dns-forward: cannot read %s: %s", RESOLV_CONF,
			 strerror(errno));
		return -errno;
	}
	while (f->nns < NC_FWD_NS && fgets(line, sizeof(line), fp)) {
		char addr[128], *pct;
		struct sockaddr_in *sin = (struct sockaddr_in *)&f->ns[f->nns];
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->ns[f->nns];

		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		memset(&f->ns[f->nns], 0, sizeof(f->ns[0]));
		if ((pct = strchr(addr, '%')))
			*pct = '\0';   /* a scope: the namespace's own, which we share */
		if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			f->nslen[f->nns++] = sizeof(*sin);
		} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			if (pct)
				sin6->sin6_scope_id = 0;
			f->nslen[f->nns++] = sizeof(*sin6);
		}
	}
	fclose(fp);
	if (f->nns == 0) {
		snprintf(err, errlen, "--dns-forward: no nameserver line in %s", RESOLV_CONF);
		return -ENOENT;
	}
	return 0;
}

int nc_dnsfwd_start(struct nc_service *svc, char *err, size_t errlen)
{
	struct nc_dnsfwd *f;
	char t[64];
	int r;

	if (!svc->cfg.dns_forward)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "--dns-forward: out of memory");
		return -ENOMEM;
	}
	r = read_resolv(f, err, errlen);
	if (r < 0) {
		free(f);
		return r;
	}
	for (int i = 0; i < NC_FWD_MAX; i++) {
		f->q[i].h.type = NC_H_DNSFWD;
		f->q[i].fd = -1;
	}
	for (int i = 0; i < f->nns; i++)
		nc_info("dns-forward: nameserver %s", nc_sockaddr_str((struct sockaddr *)&f->ns[i],
								       t, sizeof(t)));
	svc->dnsfwd = f;
	return 0;
}

static void q_free(struct nc_service *svc, struct fwd_q *x)
{
	if (x->fd >= 0) {
		nc_epoll_del(svc, x->fd);
		close(x->fd);
	}
	x->fd = -1;
	x->kind = FWD_FREE;
	x->job = NULL;
	svc->dnsfwd->inflight--;
}

/* Send x's query to nameserver x->ns_idx on a socket of its own. 0 or -errno. */
static int q_send(struct nc_service *svc, struct fwd_q *x)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	const struct sockaddr_storage *ns = &f->ns[x->ns_idx];
	int fd;

	if (x->fd >= 0) {
		nc_epoll_del(svc, x->fd);
		close(x->fd);
		x->fd = -1;
	}
	fd = socket(ns->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)ns, f->nslen[x->ns_idx]) < 0 ||
	    send(fd, x->q, x->qlen, 0) != (ssize_t)x->qlen) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (nc_epoll_add(svc, fd, EPOLLIN, &x->h) < 0) {
		close(fd);
		return -ENOMEM;
	}
	x->fd = fd;
	x->tries++;
	x->deadline = now_ms() + NC_FWD_TRY_MS;
	return 0;
}

/* A free slot with a fresh random id unused by the others, or NULL. */
static struct fwd_q *q_new(struct nc_dnsfwd *f, int kind)
{
	struct fwd_q *x = NULL;
	uint16_t id;

	if (f->inflight >= NC_FWD_MAX)
		return NULL;
	for (int i = 0; i < NC_FWD_MAX && !x; i++)
		if (f->q[i].kind == FWD_FREE)
			x = &f->q[i];
	if (!x)
		return NULL;
again:
	id = (uint16_t)arc4random();
	for (int i = 0; i < NC_FWD_MAX; i++)
		if (f->q[i].kind != FWD_FREE && f->q[i].id == id)
			goto again;
	x->kind = kind;
	x->id = id;
	x->ns_idx = 0;
	x->tries = 0;
	x->fd = -1;
	f->inflight++;
	return x;
}

/* Start x (filled): 0, or -errno (x freed). */
static int q_start(struct nc_service *svc, struct fwd_q *x)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	int r = -EIO;

	x->q[0] = (uint8_t)(x->id >> 8);
	x->q[1] = (uint8_t)x->id;
	for (x->ns_idx = 0; x->ns_idx < f->nns; x->ns_idx++)
		if ((r = q_send(svc, x)) == 0)
			return 0;
	q_free(svc, x);
	return r;
}

/* The end of the question section of a well-formed one-question message; 0 if not. */
static size_t question_end(const uint8_t *m, size_t len)
{
	uint8_t wire[255];
	char text[NC_HOSTS_NAME_MAX + 1];
	size_t off = 12, wl;
	int plain;

	if (len < 12 || m[4] != 0 || m[5] != 1)
		return 0;
	if (nc_dns_read_name(m, len, &off, wire, &wl, text, &plain) < 0 || off + 4 > len)
		return 0;
	return off + 4;
}

int nc_dnsfwd_relay(struct nc_service *svc, const uint8_t *q, size_t qlen,
		    const ip_addr_t *src, u16_t sport)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	struct fwd_q *x;
	size_t qend;

	if (!f || qlen > NC_FWD_QMAX || !(qend = question_end(q, qlen)))
		return -EINVAL;
	x = q_new(f, FWD_RELAY);
	if (!x) {
		f->refused++;
		return -ENOBUFS;
	}
	memcpy(x->q, q, qlen);
	x->qlen = qlen;
	x->qend = qend;
	x->orig_id = (uint16_t)(q[0] << 8 | q[1]);
	ip_addr_copy(x->src, *src);
	x->sport = sport;
	f->relayed++;
	return q_start(svc, x);
}

/* Send a reply of len bytes to the querier of relayed x, with its id. */
static void relay_reply(struct nc_service *svc, struct fwd_q *x, uint8_t *m, size_t len)
{
	struct pbuf *p;

	if (!svc->dns_pcb)
		return;
	m[0] = (uint8_t)(x->orig_id >> 8);
	m[1] = (uint8_t)x->orig_id;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return;
	memcpy(p->payload, m, len);
	if (udp_sendto(svc->dns_pcb, p, &x->src, x->sport) != ERR_OK)
		nc_log_ratelimited(NC_LOG_INFO, "dns-forward: a reply could not be sent");
	pbuf_free(p);
}

/* No answer in time from any nameserver: SERVFAIL, the question repeated. */
static void relay_servfail(struct nc_service *svc, struct fwd_q *x)
{
	uint8_t m[NC_FWD_QMAX];

	memcpy(m, x->q, x->qend);
	m[2] = (uint8_t)(0x80 | (x->q[2] & 0x01));   /* QR, RD as asked */
	m[3] = 0x80 | NC_DNS_SERVFAIL;               /* RA */
	memset(m + 6, 0, 6);                         /* no answer, authority, additional */
	relay_reply(svc, x, m, x->qend);
}

/* ---------------------------------------------------------------------------------------
 * RESOLVE */

static void job_reply(struct nc_service *svc, struct fwd_job *j)
{
	struct nc_hdr h;
	int err = j->rep.naddrs ? 0 : ENOENT, fd = j->reply_fd >= 0 ? j->reply_fd :
						    j->c ? j->c->fd : -1;

	if (fd >= 0) {
		memset(&h, 0, sizeof(h));
		h.type = NC_MSG_RESOLVE | NC_MSG_REPLY;
		h.seq = j->seq;
		h.err = err;
		if (!err && j->rep.nnames == 0) {
			snprintf(j->rep.names[0], sizeof(j->rep.names[0]), "%s", j->name);
			j->rep.nnames = 1;
		}
		if (nc_rpc_send_flags(fd, &h, &j->rep, err ? 0 : sizeof(j->rep), NULL, 0,
				      MSG_DONTWAIT) < 0)
			nc_log_ratelimited(NC_LOG_INFO, "dns-forward: a lookup's reply could not "
					   "be sent");
		svc->dnsfwd->answered++;
	}
	if (j->reply_fd >= 0)
		close(j->reply_fd);
	memset(j, 0, sizeof(*j));
	j->reply_fd = -1;
}

/* Build a query for name, type qtype (1 A, 28 AAAA) into x. 0 or -EINVAL. */
static int build_query(struct fwd_q *x, const char *name, uint16_t qtype)
{
	size_t off = 12, n = strlen(name);
	const char *s = name;

	memset(x->q, 0, 12);
	x->q[2] = 0x01;   /* RD */
	x->q[5] = 1;      /* one question */
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > 63 || off + l + 1 + 5 > sizeof(x->q))
			return -EINVAL;
		x->q[off++] = (uint8_t)l;
		memcpy(x->q + off, s, l);
		off += l;
		s += l + (dot ? 1 : 0);
		if (dot && !*s)
			break;   /* a trailing dot */
	}
	if (n == 0)
		return -EINVAL;
	x->q[off++] = 0;
	x->q[off++] = (uint8_t)(qtype >> 8);
	x->q[off++] = (uint8_t)qtype;
	x->q[off++] = 0;
	x->q[off++] = 1;   /* IN */
	x->qlen = x->qend = off;
	return 0;
}

int nc_dnsfwd_resolve(struct nc_service *svc, struct nc_client *c, int reply_fd,
		      uint32_t seq, const struct nc_resolve_req *rq)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	struct fwd_job *j = NULL;
	uint16_t types[2];
	int nt = 0;

	if (!f || rq->op != NC_RESOLVE_NAME || !nc_hosts_name_ok(rq->name))
		return -ENOENT;
	if (rq->family != AF_INET6)
		types[nt++] = 1;
	if (rq->family != AF_INET)
		types[nt++] = 28;
	if (f->inflight + nt > NC_FWD_MAX) {
		f->refused++;
		return -ENOBUFS;
	}
	for (int i = 0; i < NC_FWD_JOBS && !j; i++)
		if (!f->jobs[i].used)
			j = &f->jobs[i];
	if (!j) {
		f->refused++;
		return -ENOBUFS;
	}
	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->c = c;
	j->reply_fd = -1;
	j->seq = seq;
	snprintf(j->name, sizeof(j->name), "%s", rq->name);
	for (int i = 0; i < nt; i++) {
		struct fwd_q *x = q_new(f, FWD_RESOLVE);
		if (!x || build_query(x, rq->name, types[i]) < 0) {
			if (x)
				q_free(svc, x);
			continue;
		}
		x->job = j;
		if (q_start(svc, x) == 0)
			j->pending++;
	}
	if (j->pending == 0) {
		memset(j, 0, sizeof(*j));
		return -ENOENT;
	}
	j->reply_fd = reply_fd;   /* ours from here on */
	f->resolved++;
	return 0;
}

void nc_dnsfwd_client_gone(struct nc_service *svc, struct nc_client *c)
{
	struct nc_dnsfwd *f = svc->dnsfwd;

	if (!f)
		return;
	for (int i = 0; i < NC_FWD_JOBS; i++)
		if (f->jobs[i].used && f->jobs[i].c == c)
			f->jobs[i].c = NULL;   /* a private reply channel still gets its answer */
}

/* Take the A/AAAA records of answer m (to x's question) into x's job. */
static void take_addrs(struct fwd_q *x, const uint8_t *m, size_t len)
{
	struct nc_resolve_rep *rep = &x->job->rep;
	uint16_t an = (uint16_t)(m[6] << 8 | m[7]);
	size_t off = x->qend;

	if ((m[3] & 0x0f) != NC_DNS_NOERROR)
		return;
	for (unsigned i = 0; i < an; i++) {
		uint8_t wire[255];
		char text[NC_HOSTS_NAME_MAX + 1];
		size_t wl;
		int plain, family = 0;
		uint16_t type, rdlen;

		if (nc_dns_read_name(m, len, &off, wire, &wl, text, &plain) < 0 || off + 10 > len)
			return;
		type = (uint16_t)(m[off] << 8 | m[off + 1]);
		rdlen = (uint16_t)(m[off + 8] << 8 | m[off + 9]);
		off += 10;
		if (off + rdlen > len)
			return;
		if (type == 1 && rdlen == 4)
			family = AF_INET;
		else if (type == 28 && rdlen == 16)
			family = AF_INET6;
		if (family && rep->naddrs < NC_RESOLVE_MAX_ADDRS) {
			int dup = 0;
			for (uint32_t k = 0; k < rep->naddrs; k++)
				dup |= rep->addrs[k].family == family &&
				       !memcmp(rep->addrs[k].addr, m + off, rdlen);
			if (!dup) {
				rep->addrs[rep->naddrs].family = (uint16_t)family;
				memcpy(rep->addrs[rep->naddrs].addr, m + off, rdlen);
				rep->naddrs++;
			}
			/* The owner of the address records is the canonical name (after any
			 * CNAMEs); the name asked is an alias of it. */
			if (rep->nnames == 0 && text[0]) {
				snprintf(rep->names[0], sizeof(rep->names[0]), "%s", text);
				rep->nnames = 1;
				if (strcasecmp(text, x->job->name) && rep->nnames < NC_RESOLVE_MAX_NAMES)
					snprintf(rep->names[rep->nnames++], sizeof(rep->names[0]),
						 "%s", x->job->name);
			}
		}
		off += rdlen;
	}
}

/* x's query is over (answered, or given up): account for it. */
static void q_done(struct nc_service *svc, struct fwd_q *x, uint8_t *m, size_t len)
{
	if (x->kind == FWD_RELAY) {
		if (m)
			relay_reply(svc, x, m, len);
		else
			relay_servfail(svc, x);
	} else if (x->job) {
		struct fwd_job *j = x->job;
		if (m)
			take_addrs(x, m, len);
		if (--j->pending == 0)
			job_reply(svc, j);
	}
	q_free(svc, x);
}

void nc_dnsfwd_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	struct fwd_q *x = (struct fwd_q *)h;
	uint8_t m[NC_FWD_AMAX];

	if (x->kind == FWD_FREE)
		return;
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(x->fd, m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* ICMP unreachable (ECONNREFUSED) and the like: the next nameserver. */
			x->deadline = 0;
			nc_dnsfwd_poll(svc);
			return;
		}
		/* Ours only: a response, our id, our question, whole. */
		if ((size_t)n > sizeof(m) || (size_t)n < x->qend || !(m[2] & 0x80) ||
		    m[0] != x->q[0] || m[1] != x->q[1] ||
		    memcmp(m + 4, x->q + 4, 2) || memcmp(m + 12, x->q + 12, x->qend - 12))
			continue;
		svc->dnsfwd->answered += x->kind == FWD_RELAY;
		q_done(svc, x, m, (size_t)n);
		return;
	}
}

void nc_dnsfwd_poll(struct nc_service *svc)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	uint64_t now;

	if (!f || f->inflight == 0)
		return;
	now = now_ms();
	for (int i = 0; i < NC_FWD_MAX; i++) {
		struct fwd_q *x = &f->q[i];
		if (x->kind == FWD_FREE || x->deadline > now)
			continue;
		/* The next nameserver, if there is one left; else give up. */
		while (++x->ns_idx < f->nns)
			if (q_send(svc, x) == 0)
				break;
		if (x->ns_idx < f->nns)
			continue;
		f->timeouts++;
		q_done(svc, x, NULL, 0);
	}
}

int nc_dnsfwd_timeout_ms(struct nc_service *svc, int timeout)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	uint64_t now, first = UINT64_MAX;

	if (!f || f->inflight == 0)
		return timeout;
	now = now_ms();
	for (int i = 0; i < NC_FWD_MAX; i++)
		if (f->q[i].kind != FWD_FREE && f->q[i].deadline < first)
			first = f->q[i].deadline;
	if (first == UINT64_MAX)
		return timeout;
	int ms = first <= now ? 0 : (int)(first - now);
	return timeout < 0 || ms < timeout ? ms : timeout;
}

void nc_dnsfwd_stop(struct nc_service *svc)
{
	struct nc_dnsfwd *f = svc->dnsfwd;

	if (!f)
		return;
	for (int i = 0; i < NC_FWD_MAX; i++)
		if (f->q[i].kind != FWD_FREE) {
			f->q[i].job = NULL;
			q_free(svc, &f->q[i]);
		}
	for (int i = 0; i < NC_FWD_JOBS; i++)
		if (f->jobs[i].used && f->jobs[i].reply_fd >= 0)
			close(f->jobs[i].reply_fd);
	free(f);
	svc->dnsfwd = NULL;
}

size_t nc_dnsfwd_status(struct nc_service *svc, char *buf, size_t len)
{
	struct nc_dnsfwd *f = svc->dnsfwd;
	char ns[256] = "", t[64];
	size_t used = 0;
	int n;

	if (!f || !len)
		return 0;
	for (int i = 0; i < f->nns; i++) {
		n = snprintf(ns + used, sizeof(ns) - used, "%s%s", i ? "," : "",
			     nc_sockaddr_str((struct sockaddr *)&f->ns[i], t, sizeof(t)));
		if (n < 0 || (size_t)n >= sizeof(ns) - used)
			break;
		used += (size_t)n;
	}
	n = snprintf(buf, len, "dns-forward to %s: %llu queries relayed, %llu lookups, "
		     "%llu answered, %llu timed out, %llu refused (full), %d in flight\n", ns,
		     (unsigned long long)f->relayed, (unsigned long long)f->resolved,
		     (unsigned long long)f->answered, (unsigned long long)f->timeouts,
		     (unsigned long long)f->refused, f->inflight);
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}
