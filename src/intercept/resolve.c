/*
 * resolve.c — name lookups on the virtual network: getaddrinfo, gethostbyname,
 * gethostbyname2, gethostbyname_r, gethostbyname2_r, gethostbyaddr, gethostbyaddr_r and
 * getnameinfo.
 *
 * Each override has the three layers of the other call families: the C library's
 * function (NC_REAL), the decision, and the exported shim. The decision:
 *   - a name (not a numeric address) that the service's table has → answered from the
 *     service (NC_MSG_RESOLVE), the program never asks the kernel's resolver;
 *   - anything else — numeric addresses, names the table lacks, other families, the
 *     service unreachable — goes to libc unchanged, so /etc/hosts and real DNS keep
 *     working for kernel destinations, silently (no warning when the service is away).
 *
 * getaddrinfo builds its answer with libc itself: for each of our addresses it calls
 * libc's getaddrinfo on the numeric address (AI_NUMERICHOST) with the program's service,
 * socket type and protocol, and chains the lists. Every node is therefore libc's own
 * (socket-type expansion, service names, error codes as libc gives them), and libc's
 * freeaddrinfo frees the result as it frees its own: the one thing we allocate is
 * ai_canonname of the first node, with malloc, which is what freeaddrinfo frees it with.
 * freeaddrinfo is not overridden.
 *
 * AI_ADDRCONFIG: our virtual addresses are configured addresses, whatever the kernel's
 * interfaces say (a program in a namespace without network has none), so it is dropped
 * for names from the table; and when libc refuses a numeric address of the virtual subnet
 * or the wildcard (node NULL) only because of AI_ADDRCONFIG, the call is made again
 * without it.
 *
 * Thread-safety: requests go through nc_ic_call (one at a time per process, under its
 * mutex); gethostbyname/gethostbyname2/gethostbyaddr return per-thread storage (glibc's
 * is one static buffer per process; per thread is at least as safe).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "intercept.h"


/* ------------------------------------------------------------------------------------ */
/* Asking the service */

/* Is node a numeric address (anything libc parses without a lookup)? */
static int is_numeric(const char *node)
{
	struct in_addr a;

	return inet_aton(node, &a) != 0 || strchr(node, ':') != NULL;
}

/* One RESOLVE request. 1 with *rep filled (the table has it), 0 otherwise: not in the
 * table, or the service cannot be reached (then libc answers). */
static int ask(const struct nc_resolve_req *q, struct nc_resolve_rep *rep)
{
	struct nc_net net;
	size_t len = 0;

	nc_ic_net(&net);
	if (!net.reachable)
		return 0;
	if (nc_ic_call(NC_MSG_RESOLVE, q, sizeof(*q), -1, rep, sizeof(*rep), &len, NULL) != 0 ||
	    len != sizeof(*rep))
		return 0;
	return 1;   /* nc_rpc_check has checked counts, families and NUL terminators */
}

static int ask_name(const char *name, struct nc_resolve_rep *rep)
{
	struct nc_resolve_req q;
	size_t nl;

	if (!name || is_numeric(name))
		return 0;
	nl = strlen(name);
	if (nl == 0 || nl >= sizeof(q.name))
		return 0;
	memset(&q, 0, sizeof(q));
	q.op = NC_RESOLVE_NAME;
	q.family = AF_UNSPEC;
	memcpy(q.name, name, nl);
	return ask(&q, rep);
}

static int ask_addr(int family, const void *addr, struct nc_resolve_rep *rep)
{
	struct nc_resolve_req q;

	memset(&q, 0, sizeof(q));
	q.op = NC_RESOLVE_ADDR;
	q.family = (uint16_t)family;
	memcpy(q.addr, addr, family == AF_INET ? 4 : 16);
	return ask(&q, rep);
}

static int count_family(const struct nc_resolve_rep *rep, int family)
{
	int n = 0;

	for (uint32_t i = 0; i < rep->naddrs; i++)
		n += rep->addrs[i].family == family;
	return n;
}

/* ------------------------------------------------------------------------------------ */
/* getaddrinfo */

/*
 * addrinfo_ours() - the answer for a name of the table, built by libc from our numeric
 * addresses (see the top of the file). Returns 0 or an EAI_* code.
 */
static int addrinfo_ours(const struct nc_resolve_rep *rep, const char *service,
			 const struct addrinfo *hints, struct addrinfo **res)
{
	int family = hints ? hints->ai_family : AF_UNSPEC;
	int flags = hints ? hints->ai_flags : 0;
	int map4 = 0, r = EAI_NODATA;
	struct addrinfo *head = NULL, **tail = &head;

	if (family == AF_INET6 && (flags & AI_V4MAPPED) &&
	    (count_family(rep, AF_INET6) == 0 || (flags & AI_ALL)))
		map4 = 1;
	for (uint32_t i = 0; i < rep->naddrs; i++) {
		const struct nc_resolve_addr *a = &rep->addrs[i];
		struct addrinfo h, *one = NULL;
		char text[INET6_ADDRSTRLEN];
		int e;

		if (family != AF_UNSPEC && family != a->family && !(map4 && a->family == AF_INET))
			continue;
		if (!inet_ntop(a->family, a->addr, text, sizeof(text)))
			continue;
		memset(&h, 0, sizeof(h));
		if (hints) {
			h.ai_socktype = hints->ai_socktype;
			h.ai_protocol = hints->ai_protocol;
			h.ai_flags = hints->ai_flags;
		}
		h.ai_family = family == AF_UNSPEC ? a->family : family;
		h.ai_flags &= ~(AI_CANONNAME | AI_ADDRCONFIG | AI_PASSIVE);
		h.ai_flags |= AI_NUMERICHOST;
		e = NC_REAL(getaddrinfo)(text, service, &h, &one);
		if (e != 0) {
			r = e;
			if (e == EAI_SERVICE || e == EAI_SOCKTYPE || e == EAI_BADFLAGS ||
			    e == EAI_MEMORY)
				break;   /* the same for every address: the program's mistake */
			continue;
		}
		*tail = one;
		while (*tail)
			tail = &(*tail)->ai_next;
	}
	if (!head) {
		*res = NULL;
		return r;
	}
	if (flags & AI_CANONNAME) {
		head->ai_canonname = strdup(rep->names[0]);
		if (!head->ai_canonname) {
			NC_REAL(freeaddrinfo)(head);
			return EAI_MEMORY;
		}
	}
	*res = head;
	return 0;
}

/* Would libc's answer be different without AI_ADDRCONFIG for an address of ours? */
static int addrconfig_hides_ours(const char *node)
{
	struct nc_net net;
	struct in_addr a;

	nc_ic_net(&net);
	if (!net.reachable)
		return 0;
	if (!node)
		return 1;   /* the wildcard: a server binding it goes virtual */
	return inet_pton(AF_INET, node, &a) == 1 && net.known &&
	       nc_ip4_in_subnet(a.s_addr, net.ip, net.prefix);
}

NC_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	struct nc_resolve_rep rep;
	int flags = hints ? hints->ai_flags : 0, family = hints ? hints->ai_family : AF_UNSPEC;
	int r;

	nc_ic_init();
	if (node && !(flags & AI_NUMERICHOST) &&
	    (family == AF_UNSPEC || family == AF_INET || family == AF_INET6) &&
	    ask_name(node, &rep))
		return addrinfo_ours(&rep, service, hints, res);
	r = NC_REAL(getaddrinfo)(node, service, hints, res);
	if ((r == EAI_NONAME || r == EAI_ADDRFAMILY || r == EAI_NODATA) &&
	    (flags & AI_ADDRCONFIG) && addrconfig_hides_ours(node)) {
		struct addrinfo h = *hints;

		h.ai_flags &= ~AI_ADDRCONFIG;
		r = NC_REAL(getaddrinfo)(node, service, &h, res);
	}
	return r;
}

/* ------------------------------------------------------------------------------------ */
/* getnameinfo */

NC_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
			  socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	struct nc_resolve_rep rep;
	const uint8_t *addr = NULL;
	int family = 0;
	size_t n;
	const char *name;

	nc_ic_init();
	if (!sa || !host || hostlen == 0 || (flags & NI_NUMERICHOST))
		goto libc;
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		family = AF_INET;
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
		   salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		family = AF_INET6;
		addr = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			addr += 12;
		}
	}
	if (!family || !ask_addr(family, addr, &rep))
		goto libc;
	name = rep.names[0];
	n = strlen(name);
	if (flags & NI_NOFQDN) {
		const char *dot = strchr(name, '.');
		if (dot)
			n = (size_t)(dot - name);
	}
	if (n >= hostlen)
		return EAI_OVERFLOW;
	memcpy(host, name, n);
	host[n] = '\0';
	if (serv && servlen)
		return NC_REAL(getnameinfo)(sa, salen, NULL, 0, serv, servlen, flags);
	return 0;
libc:
	return NC_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
}

/* ------------------------------------------------------------------------------------ */
/* gethostbyname*, gethostbyaddr* */

/*
 * fill_hostent() - lay out a hostent in the caller's buffer: h_name = the canonical name,
 * h_aliases = the other names, h_addr_list = the addresses of family af (only `only`, if
 * not NULL). 0, ERANGE (buffer too small) or ENOENT (no address of that family).
 */
static int fill_hostent(const struct nc_resolve_rep *rep, int af, const uint8_t *only,
			struct hostent *he, char *buf, size_t buflen)
{
	size_t alen = af == AF_INET ? 4 : 16, nal = rep->nnames - 1, naddr = 0, need;
	uintptr_t p = (uintptr_t)buf, end = (uintptr_t)buf + buflen;
	char **aliases, **addrs;
	char *q;

	for (uint32_t i = 0; i < rep->naddrs; i++)
		naddr += rep->addrs[i].family == af;
	if (only)
		naddr = 1;
	if (naddr == 0)
		return ENOENT;
	p = (p + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
	need = (nal + 1 + naddr + 1) * sizeof(char *) + naddr * alen;
	for (uint32_t i = 0; i < rep->nnames; i++)
		need += strlen(rep->names[i]) + 1;
	if (p > end || end - p < need)
		return ERANGE;
	aliases = (char **)p;
	addrs = aliases + nal + 1;
	q = (char *)(addrs + naddr + 1);
	if (only) {
		memcpy(q, only, alen);
		addrs[0] = q;
		q += alen;
	} else {
		size_t k = 0;
		for (uint32_t i = 0; i < rep->naddrs; i++) {
			if (rep->addrs[i].family != af)
				continue;
			memcpy(q, rep->addrs[i].addr, alen);
			addrs[k++] = q;
			q += alen;
		}
	}
	addrs[naddr] = NULL;
	for (uint32_t i = 0; i < rep->nnames; i++) {
		size_t l = strlen(rep->names[i]) + 1;

		memcpy(q, rep->names[i], l);
		if (i == 0)
			he->h_name = q;
		else
			aliases[i - 1] = q;
		q += l;
	}
	aliases[nal] = NULL;
	he->h_aliases = aliases;
	he->h_addrtype = af;
	he->h_length = (int)alen;
	he->h_addr_list = addrs;
	return 0;
}

/* The _r convention (glibc's): 0 with *result set, or 0 with *result NULL and *h_errnop
 * for "no such host/no data", or ERANGE when the buffer is too small. */
static int hostent_r(const struct nc_resolve_rep *rep, int af, const uint8_t *only,
		     struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
		     int *h_errnop)
{
	int r = fill_hostent(rep, af, only, ret, buf, buflen);

	*result = NULL;
	if (r == ERANGE) {
		if (h_errnop)
			*h_errnop = NETDB_INTERNAL;
		errno = ERANGE;
		return ERANGE;
	}
	if (r == ENOENT) {
		if (h_errnop)
			*h_errnop = NO_DATA;
		return 0;
	}
	*result = ret;
	if (h_errnop)
		*h_errnop = NETDB_SUCCESS;
	return 0;
}

/* Per-thread storage of the non-reentrant calls. */
static __thread struct hostent tls_he;
static __thread char tls_buf[NC_RESOLVE_MAX_NAMES * NC_NAME_MAX + NC_RESOLVE_MAX_ADDRS * 24 +
			     (NC_RESOLVE_MAX_NAMES + NC_RESOLVE_MAX_ADDRS + 4) * sizeof(char *)];

static struct hostent *hostent_static(const struct nc_resolve_rep *rep, int af,
				      const uint8_t *only)
{
	struct hostent *res = NULL;
	int herr = 0;

	hostent_r(rep, af, only, &tls_he, tls_buf, sizeof(tls_buf), &res, &herr);
	if (!res)
		h_errno = herr;
	return res;
}

NC_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
			       size_t buflen, struct hostent **result, int *h_errnop)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if ((af == AF_INET || af == AF_INET6) && ask_name(name, &rep))
		return hostent_r(&rep, af, NULL, ret, buf, buflen, result, h_errnop);
	return NC_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
}

NC_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
			      struct hostent **result, int *h_errnop)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if (ask_name(name, &rep))
		return hostent_r(&rep, AF_INET, NULL, ret, buf, buflen, result, h_errnop);
	return NC_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
}

NC_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if ((af == AF_INET || af == AF_INET6) && ask_name(name, &rep))
		return hostent_static(&rep, af, NULL);
	return NC_REAL(gethostbyname2)(name, af);
}

NC_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if (ask_name(name, &rep))
		return hostent_static(&rep, AF_INET, NULL);
	return NC_REAL(gethostbyname)(name);
}

/* Is (addr, len, type) an address we can ask about? */
static int addr_ok(const void *addr, socklen_t len, int type)
{
	return addr && ((type == AF_INET && len == 4) || (type == AF_INET6 && len == 16));
}

NC_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret,
			      char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if (addr_ok(addr, len, type) && ask_addr(type, addr, &rep))
		return hostent_r(&rep, type, addr, ret, buf, buflen, result, h_errnop);
	return NC_REAL(gethostbyaddr_r)(addr, len, type, ret, buf, buflen, result, h_errnop);
}

NC_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	struct nc_resolve_rep rep;

	nc_ic_init();
	if (addr_ok(addr, len, type) && ask_addr(type, addr, &rep))
		return hostent_static(&rep, type, addr);
	return NC_REAL(gethostbyaddr)(addr, len, type);
}
