/*
 * names.c — the service's names: the table given by --host/--hosts, served two ways.
 *
 *  - To programs under the intercept, through NC_MSG_RESOLVE (getaddrinfo, gethostbyname*,
 *    gethostbyaddr*, getnameinfo in src/intercept/resolve.c).
 *  - To anything on the virtual network that speaks DNS (--dns): one lwIP UDP pcb bound to
 *    port 53 on every address of the service; each datagram is answered from the table by
 *    nc_dns_answer() (dns.c) and the reply goes back to its source address and port.
 *    Broadcast and multicast queries are ignored. Without --dns-forward there is no
 *    upstream: a name not in the table is NXDOMAIN; with it, such a query is relayed to
 *    the host's nameservers (dnsfwd.c). No TCP port 53: a resolver that gets a truncated
 *    answer (TC) has no second chance, which only happens past ~70 addresses for one name.
 *
 * With --outbound the table also has host.netcon.internal (unless given): the first
 * address of the service's own network namespace that is not loopback (IPv4, and a global
 * IPv6 one), which reaches the host's sockets bound to the wildcard or to it.
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "log.h"

#define DNS_PORT 53

static void dns_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		     u16_t port)
{
	struct nc_service *svc = arg;
	uint8_t q[4096], out[NC_DNS_MAX_REPLY];
	size_t qlen, olen;
	struct pbuf *r;

	if (ip_addr_ismulticast(ip_current_dest_addr()) ||
	    (IP_IS_V4(ip_current_dest_addr()) &&
	     ip4_addr_isbroadcast(ip_2_ip4(ip_current_dest_addr()), ip_current_netif()))) {
		pbuf_free(p);
		svc->dns_ctr.queries++;
		svc->dns_ctr.dropped++;
		return;
	}
	/* Of a query longer than 4 KiB only the first 4 KiB are read: what it needs is
	 * there, or it gets FORMERR. */
	qlen = pbuf_copy_partial(p, q, sizeof(q), 0);
	pbuf_free(p);
	olen = nc_dns_answer(&svc->cfg.hosts, q, qlen, out, sizeof(out), &svc->dns_ctr);
	if (olen == 0)
		return;
	if (svc->dnsfwd && olen >= 4 && (out[3] & 0x0f) == NC_DNS_NXDOMAIN &&
	    nc_dnsfwd_relay(svc, q, qlen, addr, port) == 0)
		return;   /* the upstream answer goes back instead */
	r = pbuf_alloc(PBUF_TRANSPORT, (u16_t)olen, PBUF_RAM);
	if (!r) {
		nc_log_ratelimited(NC_LOG_WARN, "dns: out of memory for a reply");
		return;
	}
	memcpy(r->payload, out, olen);
	if (udp_sendto(pcb, r, addr, port) != ERR_OK)
		nc_log_ratelimited(NC_LOG_INFO, "dns: a reply could not be sent");
	pbuf_free(r);
}

/*
 * nc_names_start() - start serving DNS if --dns was given (after nc_stack_init). 0, or a
 * negative errno with a message in err.
 */
#define HOST_NAME "host.netcon.internal"

/* host.netcon.internal: the service namespace's first non-loopback IPv4 address and
 * global IPv6 address (interfaces that are up), unless the table has the name. */
static void add_host_name(struct nc_service *svc)
{
	struct ifaddrs *ifa, *i;
	int have4 = 0, have6 = 0;
	char key[NC_HOSTS_NAME_MAX + 1];

	if (nc_hosts_canon_key(HOST_NAME, key) == 0 &&
	    nc_hosts_by_name(&svc->cfg.hosts, key, AF_UNSPEC, NULL, NULL))
		return;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const char *why = NULL;
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !have4) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
			have4 = nc_hosts_add(&svc->cfg.hosts, HOST_NAME, NULL, AF_INET,
					     &sin->sin_addr, &why) == 0;
		} else if (i->ifa_addr->sa_family == AF_INET6 && !have6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
				continue;
			have6 = nc_hosts_add(&svc->cfg.hosts, HOST_NAME, NULL, AF_INET6,
					     &s6->sin6_addr, &why) == 0;
		}
	}
	freeifaddrs(ifa);
	if (!have4 && !have6)
		nc_info("names: no address outside loopback here: no %s", HOST_NAME);
}

int nc_names_start(struct nc_service *svc, char *err, size_t errlen)
{
	struct udp_pcb *pcb;

	if (svc->cfg.outbound.n)
		add_host_name(svc);

	nc_info("names: %zu entries%s", svc->cfg.hosts.n, svc->cfg.dns ? ", DNS on port 53" : "");
	if (!svc->cfg.dns)
		return 0;
	pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
	if (!pcb) {
		snprintf(err, errlen, "dns: out of memory");
		return -ENOMEM;
	}
	if (udp_bind(pcb, IP_ANY_TYPE, DNS_PORT) != ERR_OK) {
		udp_remove(pcb);
		snprintf(err, errlen, "dns: cannot bind UDP port %d in the stack", DNS_PORT);
		return -EADDRINUSE;
	}
	udp_recv(pcb, dns_recv, svc);
	svc->dns_pcb = pcb;
	return 0;
}

void nc_names_stop(struct nc_service *svc)
{
	if (svc->dns_pcb) {
		udp_remove(svc->dns_pcb);
		svc->dns_pcb = NULL;
	}
	nc_hosts_free(&svc->cfg.hosts);
}

struct resolve_ctx {
	struct nc_resolve_rep *rep;
	const char *canon;          /* the canonical name whose aliases we gather */
};

static void add_addr(struct nc_resolve_rep *rep, int family, const uint8_t *addr)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (uint32_t i = 0; i < rep->naddrs; i++)
		if (rep->addrs[i].family == family && !memcmp(rep->addrs[i].addr, addr, alen))
			return;
	if (rep->naddrs >= NC_RESOLVE_MAX_ADDRS)
		return;
	rep->addrs[rep->naddrs].family = (uint16_t)family;
	memcpy(rep->addrs[rep->naddrs].addr, addr, alen);
	rep->naddrs++;
}

static void add_name(struct nc_resolve_rep *rep, const char *name)
{
	for (uint32_t i = 0; i < rep->nnames; i++)
		if (!strcmp(rep->names[i], name))
			return;
	if (rep->nnames >= NC_RESOLVE_MAX_NAMES)
		return;
	snprintf(rep->names[rep->nnames], sizeof(rep->names[0]), "%s", name);
	rep->nnames++;
}

static void on_name(const struct nc_host *e, void *arg)
{
	struct resolve_ctx *x = arg;

	if (!x->canon)
		x->canon = e->canon;
	add_addr(x->rep, e->family, e->addr);
}

static void on_addr(const struct nc_host *e, void *arg)
{
	struct resolve_ctx *x = arg;

	if (x->rep->nnames == 0)
		add_name(x->rep, e->canon);
	add_name(x->rep, e->name);
}

int nc_names_resolve(struct nc_service *svc, const struct nc_resolve_req *q,
		     struct nc_resolve_rep *rep)
{
	const struct nc_hosts *h = &svc->cfg.hosts;
	struct resolve_ctx x = { .rep = rep };
	char key[NC_HOSTS_NAME_MAX + 1];

	svc->resolve_requests++;
	memset(rep, 0, sizeof(*rep));
	if (q->op == NC_RESOLVE_ADDR) {
		if (q->family != AF_INET && q->family != AF_INET6)
			return -EAFNOSUPPORT;
		if (!nc_hosts_by_addr(h, q->family, q->addr, on_addr, &x))
			return -ENOENT;
		add_addr(rep, q->family, q->addr);
		return 0;
	}
	if (q->op != NC_RESOLVE_NAME || !memchr(q->name, '\0', sizeof(q->name)) ||
	    (q->family != AF_UNSPEC && q->family != AF_INET && q->family != AF_INET6))
		return -EINVAL;
	if (nc_hosts_canon_key(q->name, key) < 0 ||
	    !nc_hosts_by_name(h, key, q->family, on_name, &x))
		return -ENOENT;
	if (!x.canon) {
		/* known, but no address of that family: find its canonical name anyway */
		for (size_t i = 0; i < h->n && !x.canon; i++)
			if (!strcmp(h->e[i].name, key))
				x.canon = h->e[i].canon;
	}
	/* The canonical name first, then the other names of its lines (hosts(5) aliases). */
	add_name(rep, x.canon);
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->e[i].canon, x.canon))
			add_name(rep, h->e[i].name);
	return 0;
}

void nc_names_status(struct nc_service *svc, char *buf, size_t len)
{
	const struct nc_dns_counters *c = &svc->dns_ctr;
	int n = snprintf(buf, len, "names: %zu entries, %llu lookups by programs; ",
			 svc->cfg.hosts.n, (unsigned long long)svc->resolve_requests);

	if (n < 0 || (size_t)n >= len)
		return;
	if (!svc->dns_pcb) {
		snprintf(buf + n, len - (size_t)n, "dns off\n");
		return;
	}
	snprintf(buf + n, len - (size_t)n,
		 "dns on port 53: %llu queries, %llu noerror, %llu nxdomain, %llu formerr, "
		 "%llu notimp, %llu dropped, %llu truncated\n",
		 (unsigned long long)c->queries, (unsigned long long)c->noerror,
		 (unsigned long long)c->nxdomain, (unsigned long long)c->formerr,
		 (unsigned long long)c->notimp, (unsigned long long)c->dropped,
		 (unsigned long long)c->truncated);
}
