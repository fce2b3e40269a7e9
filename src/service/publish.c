/*
 * publish.c — ports of the host that lead into the virtual network (--publish).
 *
 * For each `--publish tcp:[HOSTADDR:]HOSTPORT:VADDR:VPORT` the service listens with a
 * kernel socket of its own network namespace, and for each connection it accepts:
 *
 *   - a program of this service listens on VADDR:VPORT (VADDR one of our addresses):
 *     the accepted kernel socket itself goes to that program, through its listener's
 *     accept queue, flagged NC_ACCEPT_KERNEL. The program reads and writes the kernel's
 *     socket: the bytes never pass through us, and getpeername is the real client.
 *   - otherwise: through lwIP to VADDR:VPORT, wherever it lives on the virtual network
 *     (tcp_conn.c's nc_conn_proxy: our end of the connection is the kernel socket, where
 *     it is a socketpair for programs). A refused or unreachable VADDR resets the client.
 *
 * `udp:...` likewise for datagrams: each client (address and port) gets an lwIP UDP pcb
 * of its own on our address, which sends what the client sends to VADDR:VPORT and hands
 * the answers back to the client through the published socket; the program sees our
 * address as the source. A flow idle for NC_PUB_UDP_IDLE_MS is forgotten.
 *
 * Everything is opened before the service says it is ready: a port that cannot be bound
 * (taken, privileged) stops the start with one line naming the spec.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/udp.h"

#include "addr.h"
#include "log.h"
#include "publish.h"

#define NC_PUB_UDP_FLOWS    256       /* client flows per published UDP port */
#define NC_PUB_UDP_IDLE_MS  60000

struct pub_flow {
	struct nc_pub *pub;
	struct udp_pcb *pcb;
	struct sockaddr_storage client;
	socklen_t client_len;
	uint64_t last;               /* ms */
};

struct nc_pub {
	struct nc_handler h;         /* NC_H_PUBLISH */
	const struct nc_publish *spec;
	int fd;
	uint64_t handed;             /* TCP: kernel sockets given to a program of ours */
	uint64_t proxied;            /* TCP: connections carried through lwIP; UDP: datagrams in */
	uint64_t refused;            /* TCP: reset (no listener, queue full); UDP: dropped */
	uint64_t answers;            /* UDP: datagrams back to clients */
	struct pub_flow **flows;     /* UDP: NC_PUB_UDP_FLOWS slots, nflows used */
	int nflows;
};

struct nc_publishing {
	int n;
	struct nc_pub pub[NC_MAX_PUBLISH];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void spec_str(const struct nc_publish *p, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];
	int h6 = p->host.family == AF_INET6, v6 = p->vaddr.family == AF_INET6;

	inet_ntop(p->host.family, p->host.addr, h, sizeof(h));
	inet_ntop(p->vaddr.family, p->vaddr.addr, v, sizeof(v));
	snprintf(buf, len, "%s:%s%s%s:%u:%s%s%s:%u", p->proto == IPPROTO_TCP ? "tcp" : "udp",
		 h6 ? "[" : "", h, h6 ? "]" : "", (unsigned)p->host.port, v6 ? "[" : "", v,
		 v6 ? "]" : "", (unsigned)p->vaddr.port);
}

/* Close a client's connection with RST (SO_LINGER 0), as a refused connect would. */
static void reset_close(int k)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(k, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(k);
}

static void tcp_event(struct nc_service *svc, struct nc_pub *pub)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nc_addr peer;
		int k = accept4(pub->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC), r;

		if (k < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nc_log_ratelimited(NC_LOG_WARN, "publish: accept: %s", strerror(errno));
			if (errno == EAGAIN || errno == EMFILE || errno == ENFILE)
				return;
			continue;
		}
		nc_addr_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
		r = nc_listener_take_kernel(svc, &pub->spec->vaddr, k, &peer);
		if (r == 0) {
			pub->handed++;
			continue;
		}
		if (r != -ENOENT) {
			pub->refused++;
			nc_log_ratelimited(NC_LOG_WARN, "publish: a connection for port %u: the "
					   "program's accept queue: %s", (unsigned)pub->spec->vaddr.port,
					   strerror(-r));
			continue;
		}
		fcntl(k, F_SETFL, O_NONBLOCK);
		r = nc_conn_proxy(svc, k, &pub->spec->vaddr);
		if (r < 0) {
			pub->refused++;
			reset_close(k);
		} else {
			pub->proxied++;
		}
	}
}

/* ---- UDP ----------------------------------------------------------------------------- */

static void flow_drop(struct nc_pub *pub, int i)
{
	udp_remove(pub->flows[i]->pcb);
	free(pub->flows[i]);
	pub->flows[i] = pub->flows[--pub->nflows];
}

/* An answer from the virtual network: back to the flow's client. */
static void flow_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		    u16_t port)
{
	struct pub_flow *f = arg;
	struct nc_pub *pub;
	uint8_t buf[65536];
	u16_t n;

	(void)pcb;
	(void)addr;
	(void)port;
	if (!f) {
		pbuf_free(p);
		return;
	}
	pub = f->pub;
	n = pbuf_copy_partial(p, buf, p->tot_len, 0);
	pbuf_free(p);
	f->last = now_ms();
	if (sendto(pub->fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&f->client,
		   f->client_len) == (ssize_t)n)
		pub->answers++;
	else
		pub->refused++;
}

static struct pub_flow *flow_for(struct nc_service *svc, struct nc_pub *pub,
				 const struct sockaddr_storage *ss, socklen_t sl)
{
	uint64_t t = now_ms();
	struct pub_flow *f;
	struct udp_pcb *pcb;

	for (int i = 0; i < pub->nflows; i++) {
		f = pub->flows[i];
		if (f->client_len == sl && !memcmp(&f->client, ss, sl))
			return f;
	}
	for (int i = pub->nflows - 1; i >= 0; i--)      /* forget idle flows */
		if (t - pub->flows[i]->last > NC_PUB_UDP_IDLE_MS)
			flow_drop(pub, i);
	if (pub->nflows >= NC_PUB_UDP_FLOWS)
		return NULL;
	pcb = udp_new_ip_type(pub->spec->vaddr.family == AF_INET6 ? IPADDR_TYPE_V6 :
			      IPADDR_TYPE_V4);
	if (!pcb)
		return NULL;
	if (udp_bind(pcb, pub->spec->vaddr.family == AF_INET6 ? IP6_ADDR_ANY : IP4_ADDR_ANY,
		     0) != ERR_OK) {
		udp_remove(pcb);
		return NULL;
	}
	(void)svc;
	f = calloc(1, sizeof(*f));
	if (!f) {
		udp_remove(pcb);
		return NULL;
	}
	f->pub = pub;
	f->pcb = pcb;
	memcpy(&f->client, ss, sl);
	f->client_len = sl;
	f->last = t;
	udp_recv(pcb, flow_in, f);
	pub->flows[pub->nflows++] = f;
	return f;
}

static void udp_event(struct nc_service *svc, struct nc_pub *pub)
{
	ip_addr_t to;

	nc_addr_to_lwip(&pub->spec->vaddr, &to);
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(pub->fd, svc->scratch, NC_SCRATCH_SIZE < 65536 ?
				     NC_SCRATCH_SIZE : 65536, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		struct pub_flow *f;
		struct pbuf *p;

		if (n < 0)
			return;
		f = flow_for(svc, pub, &ss, sl);
		p = f ? pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM) : NULL;
		if (!p) {
			pub->refused++;
			continue;
		}
		memcpy(p->payload, svc->scratch, (size_t)n);
		f->last = now_ms();
		if (udp_sendto(f->pcb, p, &to, pub->spec->vaddr.port) == ERR_OK)
			pub->proxied++;
		else
			pub->refused++;
		pbuf_free(p);
	}
}

/* ---- start, events, status, stop -------------------------------------------------- */

int nc_publish_start(struct nc_service *svc, char *err, size_t errlen)
{
	struct nc_publishing *ps;

	if (svc->cfg.n_publish == 0)
		return 0;
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		snprintf(err, errlen, "publish: out of memory");
		return -ENOMEM;
	}
	svc->publishing = ps;
	for (int i = 0; i < svc->cfg.n_publish; i++) {
		const struct nc_publish *spec = &svc->cfg.publish[i];
		struct nc_pub *pub = &ps->pub[ps->n];
		int tcp = spec->proto == IPPROTO_TCP, one = 1, r;
		struct sockaddr_storage ss;
		socklen_t sl = nc_addr_to_sockaddr(&spec->host, (struct sockaddr *)&ss, sizeof(ss));
		char what[128];

		spec_str(spec, what, sizeof(what));
		pub->spec = spec;
		pub->h.type = NC_H_PUBLISH;
		pub->fd = socket(spec->host.family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
				 SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (pub->fd < 0)
			goto fail;
		ps->n++;
		if (tcp)
			setsockopt(pub->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (spec->host.family == AF_INET6)
			setsockopt(pub->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(pub->fd, (struct sockaddr *)&ss, sl) < 0 ||
		    (tcp && listen(pub->fd, 4096) < 0))
			goto fail;
		if (!tcp) {
			pub->flows = calloc(NC_PUB_UDP_FLOWS, sizeof(*pub->flows));
			if (!pub->flows) {
				errno = ENOMEM;
				goto fail;
			}
		}
		r = nc_epoll_add(svc, pub->fd, EPOLLIN, &pub->h);
		if (r < 0) {
			errno = -r;
			goto fail;
		}
		nc_info("publish %s", what);
		continue;
fail:
		snprintf(err, errlen, "--publish %s: %s%s", what, strerror(errno),
			 errno == EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)" : "");
		return -errno;
	}
	return 0;
}

void nc_publish_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	struct nc_pub *pub = (struct nc_pub *)h;

	(void)events;
	if (pub->spec->proto == IPPROTO_TCP)
		tcp_event(svc, pub);
	else
		udp_event(svc, pub);
}

size_t nc_publish_status(struct nc_service *svc, char *buf, size_t len)
{
	struct nc_publishing *ps = svc->publishing;
	size_t off = 0;

	if (!ps)
		return 0;
	for (int i = 0; i < ps->n && off < len; i++) {
		struct nc_pub *pub = &ps->pub[i];
		char what[128];
		int n;

		spec_str(pub->spec, what, sizeof(what));
		if (pub->spec->proto == IPPROTO_TCP)
			n = snprintf(buf + off, len - off, "publish %s: %llu handed to a program, "
				     "%llu through the virtual network, %llu refused\n", what,
				     (unsigned long long)pub->handed,
				     (unsigned long long)pub->proxied,
				     (unsigned long long)pub->refused);
		else
			n = snprintf(buf + off, len - off, "publish %s: %llu datagrams in, %llu "
				     "answers, %llu dropped, %d clients\n", what,
				     (unsigned long long)pub->proxied,
				     (unsigned long long)pub->answers,
				     (unsigned long long)pub->refused, pub->nflows);
		if (n < 0)
			break;
		off += (size_t)n < len - off ? (size_t)n : len - off - 1;
	}
	return off;
}

void nc_publish_stop(struct nc_service *svc)
{
	struct nc_publishing *ps = svc->publishing;

	if (!ps)
		return;
	for (int i = 0; i < ps->n; i++) {
		struct nc_pub *pub = &ps->pub[i];

		while (pub->nflows > 0)
			flow_drop(pub, pub->nflows - 1);
		free(pub->flows);
		if (pub->fd >= 0)
			close(pub->fd);
	}
	free(ps);
	svc->publishing = NULL;
}
