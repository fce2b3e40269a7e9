/*
 * cmd_service.c — `netcon service`: parse the service's options and run it. The same
 * parser serves `netcon run`, which takes the service's options before `--`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "hosts.h"
#include "log.h"
#include "service/fault.h"

_Static_assert(NC_MAX_IP6 == 4, "the --ip6 messages say 4");
_Static_assert(NC_DEFAULT_SOCKET_MODE == 0600, "the --socket-mode help says 0600");
_Static_assert(NC_DEFAULT_MAX_SOCKS == 65536, "the --max-sockets help says 65536");
_Static_assert(NC_DEFAULT_VNI == 1, "the --vni help says 1");

void nc_config_usage(FILE *f)
{
	fprintf(f,
		"service options:\n"
		"  --ip ADDR/PREFIX       the service's IPv4 address and prefix length 1..30\n"
		"                         (default " NC_DEFAULT_IP ")\n"
		"  --ip6 ADDR/PREFIX      an IPv6 address of the service, e.g. fd00:88::1/64\n"
		"                         (repeatable, at most %d; a link-local address made from\n"
		"                         the MAC is always added)\n"
		"  --socket PATH          control socket (default $XDG_RUNTIME_DIR/netcon/default.sock,\n"
		"                         else /run/netcon/default.sock)\n"
		"  --socket-mode OCTAL    mode of the control socket (default 0600)\n"
		"  --socket-group GROUP   group of the control socket, a name or a gid (default:\n"
		"                         the service's); with --socket-mode 0660 its members may\n"
		"                         use the service\n"
		"  --mtu N                IP MTU of the virtual link, %d..65521 (default %d)\n"
		"  --mac MAC              Ethernet address (default: random, locally administered)\n"
		"  --log-level LEVEL      error, warn, info or debug (default warn)\n"
		"  --link vxlan|tap|wireguard\n"
		"                         how frames leave the service (default vxlan)\n"
		"  --bind HOST:PORT       vxlan: local UDP address (default " NC_DEFAULT_BIND ");\n"
		"                         HOST an address or a name\n"
		"  --peer HOST:PORT       vxlan: a peer (repeatable; frames to unknown MACs go to all)\n"
		"  --vni N                vxlan: network identifier, 0..16777215 (default 1)\n"
		"  --tap NAME             tap: the TAP device (created once by an administrator with\n"
		"                         `ip tuntap add NAME mode tap user USER`); the service must\n"
		"                         run in the network namespace that holds the device\n"
		"  --wg-config FILE       wireguard: the interface and its peers in wg(8)'s format\n"
		"                         (a wg-quick file works too: its Address gives --ip and\n"
		"                         --ip6, its MTU --mtu, when those are not given; default\n"
		"                         MTU 1420); IP packets, no Ethernet, over UDP\n"
		"  --wg-name NAME         wireguard: the interface's name, in status lines and\n"
		"                         for wg(8): its UAPI socket /var/run/wireguard/NAME.sock\n"
		"                         (not root: $XDG_RUNTIME_DIR/wireguard/) (default wg0)\n"
		"  --max-sockets N        virtual sockets one user (uid) may hold, 0 = no limit\n"
		"                         (default 65536); beyond it calls fail with ENOBUFS\n"
		"  --link-fault SPEC      inject faults into frames sent and received (wireguard:\n"
		"                         its encrypted datagrams), for tests:\n"
		"                         loss=P,dup=P,reorder=P,corrupt=P,seed=N (P in percent)\n"
		"  --pcap FILE            write every frame the link carries to FILE (pcap format,\n"
		"                         for tcpdump -r; wireguard: its IP packets); FILE is made\n"
		"                         anew, mode 0600\n"
		"  --pcap-size SIZE       with --pcap: start FILE anew when it would exceed SIZE\n"
		"                         bytes (suffix k, M or G), keeping the last %d as FILE.1\n"
		"                         (newest) .. FILE.%d\n"
		"  --pcap-format FORMAT   with --pcap: pcap (the default) or pcapng, where each\n"
		"                         packet of a program's connection carries a comment\n"
		"                         naming its pid, command and addresses (the default\n"
		"                         when FILE ends in .pcapng)\n"
		"  --ready-fd N           write one byte to fd N (open for writing) once the service\n"
		"                         is ready\n"
		"  --probe-ms MS          before start, wait MS ms for an answer to an ARP probe\n"
		"                         for --ip; an answer (the address is taken) stops the\n"
		"                         service (default %d; 0: no probe)\n"
		"  --host NAME=ADDR       a name of the virtual network (repeatable; ADDR IPv4 or\n"
		"                         IPv6): programs under the intercept resolve it\n"
		"  --hosts FILE           more names, in hosts(5) format (repeatable)\n"
		"  --dns                  answer DNS queries for those names (A, AAAA, PTR) on the\n"
		"                         service's address, UDP port 53; other names: NXDOMAIN\n"
		"  --publish PROTO:[HOSTADDR:]HOSTPORT:VADDR:VPORT\n"
		"                         listen on the host (HOSTADDR default: every address;\n"
		"                         IPv6 in brackets) and deliver to VADDR:VPORT on the\n"
		"                         virtual network; PROTO tcp or udp; repeatable. A TCP\n"
		"                         connection for a program of this service is handed to\n"
		"                         it as the kernel's socket\n"
		"  --dns-forward          names not in the table go to the nameservers of the\n"
		"                         service's /etc/resolv.conf (for --dns and for programs'\n"
		"                         lookups); answers are relayed\n"
		"  --outbound POLICY      let programs connect outside the virtual network through\n"
		"                         the service's own network (its kernel sockets): POLICY is\n"
		"                         all, or CIDR[:PORT[-PORT]],... (IPv4 and IPv6, IPv6 with a\n"
		"                         port in brackets; repeatable); the host's loopback only\n"
		"                         when named (127.0.0.1:5432); TCP and UDP; default: off\n",
		NC_MAX_IP6, NC_MTU_MIN, NC_DEFAULT_MTU, NC_PCAP_KEEP, NC_PCAP_KEEP,
		NC_PROBE_MS_DEFAULT);
}

static void random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		unsigned v = (unsigned)getpid() * 2654435761u;
		memcpy(mac + 2, &v, 4);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);   /* unicast, locally administered */
}

/* A group name, or a numeric gid (which need not have a name). 0 or -ENOENT/-EINVAL. */
static int parse_group(const char *val, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096];
	long v;

	if (!*val)
		return -EINVAL;
	if (nc_parse_long(val, 0, 0x7ffffffe, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(val, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*gid = res->gr_gid;
	return 0;
}

/*
 * parse_endpoint() - HOST:PORT for --bind and --peer: a numeric address (IPv6 in
 * brackets), else a name resolved with getaddrinfo (its first address). Returns 0; or
 * -EINVAL for a malformed value, or -ENOENT with gai_strerror's words in why when the
 * name does not resolve.
 */
static int parse_endpoint(const char *val, struct sockaddr_storage *ss, socklen_t *len,
			  int allow_zero, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;
	const char *colon = strrchr(val, ':');
	char host[256];
	long port;
	int r;

	if (nc_parse_hostport(val, ss, len, allow_zero) == 0)
		return 0;
	/* Not numeric: a name, if it has the shape NAME:PORT. */
	if (val[0] == '[' || !colon || colon == val || (size_t)(colon - val) >= sizeof(host) ||
	    nc_parse_long(colon + 1, allow_zero ? 0 : 1, 65535, &port) < 0)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - val), val);
	if (strchr(host, ':'))
		return -EINVAL;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", host,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -ENOENT;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

/* The options that take a value; anything else but --dns and --dns-forward is unknown. */
static const char *const value_options[] = {
	"--ip", "--ip6", "--socket", "--socket-mode", "--socket-group", "--mtu", "--mac",
	"--log-level", "--link", "--bind", "--peer", "--vni", "--tap", "--max-sockets",
	"--link-fault", "--ready-fd", "--probe-ms", "--host", "--hosts", "--publish",
	"--outbound", "--wg-config", "--wg-name",
	"--pcap", "--pcap-size", "--pcap-format",
};

static int takes_value(const char *name)
{
	for (size_t i = 0; i < sizeof(value_options) / sizeof(value_options[0]); i++)
		if (!strcmp(name, value_options[i]))
			return 1;
	return 0;
}

/* --pcap-size: bytes, with an optional k, M or G (powers of 1024); 4096 .. 1 TiB. */
static int parse_size(const char *val, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*val || *val < '0' || *val > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ull << (40 - shift)) || (v << shift) < 4096)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int bad(const char *prog, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n(see `%s --help`)\n", prog);
	return 2;
}

static int config_parse(struct nc_config *cfg, int argc, char **argv, int *idx, const char *prog);

/* One address of a --publish spec: IPv4, or IPv6 in brackets; *s moves past it. */
static int publish_addr(const char **s, struct nc_addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	const char *p = *s, *e;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (*p == '[') {
		e = strchr(p, ']');
		if (!e || e[1] != ':')
			return -1;
		n = (size_t)(e - p - 1);
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, p + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, a->addr) != 1)
			return -1;
		a->family = AF_INET6;
		*s = e + 2;
		return 0;
	}
	e = strchr(p, ':');
	n = e ? (size_t)(e - p) : 0;
	if (!e || n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a->addr) != 1)
		return -1;
	a->family = AF_INET;
	*s = e + 1;
	return 0;
}

/* A port, up to ':' or the end; *s moves past the ':'. */
static int publish_port(const char **s, uint16_t *port, int last)
{
	char buf[8];
	const char *e = last ? *s + strlen(*s) : strchr(*s, ':');
	size_t n = e ? (size_t)(e - *s) : 0;
	long v;

	if (!e || n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	if (nc_parse_long(buf, 1, 65535, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	*s = last ? e : e + 1;
	return 0;
}

/* PROTO:[HOSTADDR:]HOSTPORT:VADDR:VPORT. 0, or -1 with why. */
static int publish_parse(const char *val, struct nc_publish *p, char *why, size_t len)
{
	const char *s = val, *colon;
	int fields = 0;

	memset(p, 0, sizeof(*p));
	if (!strncmp(s, "tcp:", 4))
		p->proto = IPPROTO_TCP;
	else if (!strncmp(s, "udp:", 4))
		p->proto = IPPROTO_UDP;
	else {
		snprintf(why, len, "bad --publish '%s': want tcp: or udp: first", val);
		return -1;
	}
	s += 4;
	/* With HOSTADDR there are four fields after the protocol, else three. */
	for (const char *q = s; *q; q++) {
		if (*q == '[') {
			q = strchr(q, ']');
			if (!q)
				break;
		} else if (*q == ':') {
			fields++;
		}
	}
	if (fields == 3) {
		if (publish_addr(&s, &p->host) < 0) {
			snprintf(why, len, "bad --publish '%s': the host address is neither IPv4 "
				 "nor [IPv6]", val);
			return -1;
		}
	} else if (fields != 2) {
		snprintf(why, len, "bad --publish '%s': want PROTO:[HOSTADDR:]HOSTPORT:VADDR:VPORT",
			 val);
		return -1;
	}
	if (publish_port(&s, &p->host.port, 0) < 0) {
		snprintf(why, len, "bad --publish '%s': the host port is not 1 to 65535", val);
		return -1;
	}
	colon = s;
	if (publish_addr(&s, &p->vaddr) < 0) {
		snprintf(why, len, "bad --publish '%s': the virtual address '%.*s' is neither "
			 "IPv4 nor [IPv6]", val, (int)strcspn(colon, ":"), colon);
		return -1;
	}
	if (publish_port(&s, &p->vaddr.port, 1) < 0) {
		snprintf(why, len, "bad --publish '%s': the virtual port is not 1 to 65535", val);
		return -1;
	}
	if (fields == 2)   /* every address of the host, of the virtual address's family */
		p->host.family = p->vaddr.family;
	return 0;
}

/* After all options: each --publish delivers into the virtual network, and no two
 * listen on the same host port and address (one covering the other overlaps). */
static int publish_check(const struct nc_config *cfg, const char *prog)
{
	static const uint8_t zero[16];

	for (int i = 0; i < cfg->n_publish; i++) {
		const struct nc_publish *p = &cfg->publish[i];
		char a[INET6_ADDRSTRLEN];
		int inside = 0;

		inet_ntop(p->vaddr.family, p->vaddr.addr, a, sizeof(a));
		if (p->vaddr.family == AF_INET) {
			uint32_t v;
			memcpy(&v, p->vaddr.addr, 4);
			inside = nc_ip4_in_subnet(v, cfg->ip.s_addr, cfg->prefix);
		} else {
			for (int k = 0; k < cfg->n_ip6 && !inside; k++)
				inside = nc_ip6_in_prefix(p->vaddr.addr, cfg->ip6[k].s6_addr,
							  cfg->prefix6[k]);
		}
		if (!inside)
			return bad(prog, "bad --publish: the virtual address %s is not on the "
				   "virtual network (--ip, --ip6)%s", a, "");

		for (int j = 0; j < i; j++) {
			const struct nc_publish *q = &cfg->publish[j];
			size_t al = p->host.family == AF_INET ? 4 : 16;

			if (q->proto != p->proto || q->host.port != p->host.port ||
			    q->host.family != p->host.family)
				continue;
			if (!memcmp(q->host.addr, p->host.addr, al) ||
			    !memcmp(q->host.addr, zero, al) || !memcmp(p->host.addr, zero, al)) {
				char port[8];
				snprintf(port, sizeof(port), "%u", (unsigned)p->host.port);
				return bad(prog, "bad --publish: two of them listen on port %s of the "
					   "host (%s)", port, p->proto == IPPROTO_TCP ? "TCP" : "UDP");
			}
		}
	}
	return 0;
}

/* The name table is the one part of the configuration that owns memory: freed here when
 * the options are rejected, by the service (nc_names_stop) otherwise. */
int nc_config_parse(struct nc_config *cfg, int argc, char **argv, int *idx, const char *prog)
{
	int r = config_parse(cfg, argc, argv, idx, prog);

	if (r) {
		nc_hosts_free(&cfg->hosts);
		free(cfg->wg);
		cfg->wg = NULL;
	}
	return r;
}

/* --link wireguard: read the file; its wg-quick Address and MTU fill what the options
 * left open. 0, or 2 after one message. */
static int wg_setup(struct nc_config *cfg, const char *path, int have_ip, int have_ip6,
		    int have_mtu, const char *prog)
{
	char err[512];

	cfg->wg = malloc(sizeof(*cfg->wg));
	if (!cfg->wg)
		return bad(prog, "out of memory%s%s", "", "");
	if (nc_wg_config_load(cfg->wg, path, err, sizeof(err)) < 0)
		return bad(prog, "bad --wg-config: %s%s", err, "");
	if (!cfg->wg->has_priv)
		return bad(prog, "bad --wg-config: %s: no PrivateKey in [Interface]%s", path, "");
	for (int i = 0; i < cfg->wg->n_addrs; i++) {
		const struct nc_wg_prefix *a = &cfg->wg->addrs[i];
		if (a->family == AF_INET && !have_ip) {
			memcpy(&cfg->ip.s_addr, a->addr, 4);
			cfg->prefix = a->cidr ? a->cidr : 32;
			have_ip = 1;
		} else if (a->family == AF_INET6 && !have_ip6 && cfg->n_ip6 < NC_MAX_IP6) {
			memcpy(&cfg->ip6[cfg->n_ip6], a->addr, 16);
			cfg->prefix6[cfg->n_ip6++] = a->cidr ? a->cidr : 128;
		}
	}
	if (!have_mtu)
		cfg->mtu = cfg->wg->mtu ? cfg->wg->mtu : NC_WG_DEFAULT_MTU;
	cfg->probe_ms = 0;   /* no ARP or neighbour discovery on an IP-level link */
	return 0;
}

static int config_parse(struct nc_config *cfg, int argc, char **argv, int *idx, const char *prog)
{
	int have_link = 0, have_tap = 0, have_vxlan_opt = 0, have_bind = 0;
	int have_ip = 0, have_ip6 = 0, have_mtu = 0, pcap_format = -1;
	const char *link_opt = NULL, *wg_config = NULL;
	long v;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	nc_parse_ip4_prefix(NC_DEFAULT_IP, &cfg->ip, &cfg->prefix);
	cfg->mtu = NC_DEFAULT_MTU;
	cfg->socket_mode = NC_DEFAULT_SOCKET_MODE;
	cfg->max_socks_per_user = NC_DEFAULT_MAX_SOCKS;
	cfg->socket_gid = (gid_t)-1;
	cfg->ready_fd = -1;
	cfg->probe_ms = NC_PROBE_MS_DEFAULT;
	cfg->log_level = NC_LOG_WARN;
	cfg->link_kind = NC_LINKKIND_VXLAN;
	cfg->vxlan.vni = NC_DEFAULT_VNI;
	nc_default_socket(cfg->socket_path, sizeof(cfg->socket_path));
	random_mac(cfg->mac);

	while (*idx < argc) {
		char *opt = argv[*idx], *val, *eq;
		char name[32];

		if (!strcmp(opt, "--"))
			break;
		if (opt[0] == '-' && opt[1] != '-')
			return bad(prog, "unknown option '%s'%s", opt, "");
		if (strncmp(opt, "--", 2) != 0)
			return bad(prog, "unexpected argument '%s'%s", opt,
				   " (a program to run goes after `--`)");
		if (!strcmp(opt, "--dns") || !strcmp(opt, "--dns-forward")) {   /* no value */
			if (!strcmp(opt, "--dns"))
				cfg->dns = 1;
			else
				cfg->dns_forward = 1;
			(*idx)++;
			continue;
		}
		eq = strchr(opt, '=');
		if (eq) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - opt), opt);
			val = eq + 1;
			if (!takes_value(name))
				return bad(prog, "unknown option '%s'%s", name, "");
		} else {
			snprintf(name, sizeof(name), "%s", opt);
			if (!takes_value(name))
				return bad(prog, "unknown option '%s'%s", opt, "");
			if (*idx + 1 >= argc)
				return bad(prog, "option %s needs a value%s", name, "");
			val = argv[++*idx];
		}
		(*idx)++;

		if (!strcmp(name, "--ip")) {
			if (nc_parse_ip4_prefix(val, &cfg->ip, &cfg->prefix) < 0 ||
			    cfg->prefix < 1 || cfg->prefix > 30)
				return bad(prog, "bad --ip '%s'%s", val,
					   ": want an IPv4 address and a prefix length 1..30, "
					   "e.g. 10.42.0.1/24");
			uint32_t h = ntohl(cfg->ip.s_addr), host = h & ~(0xffffffffu << (32 - cfg->prefix));
			if (host == 0 || host == ~(0xffffffffu << (32 - cfg->prefix)) ||
			    (h >> 24) == 127 || (h >> 28) >= 14 || h == 0)
				return bad(prog, "bad --ip '%s'%s", val,
					   ": not a usable host address on its subnet");
			have_ip = 1;
		} else if (!strcmp(name, "--ip6")) {
			struct in6_addr a6;
			int p6;
			if (nc_parse_ip6_prefix(val, &a6, &p6) < 0 || p6 < 1)
				return bad(prog, "bad --ip6 '%s'%s", val,
					   ": want an IPv6 address and a prefix length 1..128, "
					   "e.g. fd00:88::1/64");
			if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6) ||
			    IN6_IS_ADDR_MULTICAST(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6) ||
			    IN6_IS_ADDR_V4MAPPED(&a6) || IN6_IS_ADDR_V4COMPAT(&a6))
				return bad(prog, "bad --ip6 '%s'%s", val,
					   ": not a usable unicast address (the link-local one is "
					   "made from the MAC)");
			if (cfg->n_ip6 >= NC_MAX_IP6)
				return bad(prog, "too many --ip6 options (at most %s)%s", "4", "");
			for (int k = 0; k < cfg->n_ip6; k++)
				if (!memcmp(&cfg->ip6[k], &a6, sizeof(a6)))
					return bad(prog, "--ip6 '%s' given twice%s", val, "");
			cfg->ip6[cfg->n_ip6] = a6;
			cfg->prefix6[cfg->n_ip6++] = p6;
			have_ip6 = 1;
		} else if (!strcmp(name, "--socket")) {
			if (!*val || strlen(val) >= 90)
				return bad(prog, "bad --socket '%s'%s", val, ": empty or too long");
			snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", val);
		} else if (!strcmp(name, "--socket-mode")) {
			char *end;
			errno = 0;
			unsigned long m = strtoul(val, &end, 8);
			if (*end || !*val || errno || m > 0777 || !(m & 0600))
				return bad(prog, "bad --socket-mode '%s'%s", val,
					   ": want octal, e.g. 0660 (the owner keeps rw)");
			cfg->socket_mode = (unsigned)m;
		} else if (!strcmp(name, "--socket-group")) {
			if (parse_group(val, &cfg->socket_gid) < 0)
				return bad(prog, "bad --socket-group '%s'%s", val,
					   ": no such group (want a group name or a numeric gid)");
		} else if (!strcmp(name, "--mtu")) {
			if (nc_parse_long(val, NC_MTU_MIN, 65521, &v) < 0)
				return bad(prog, "bad --mtu '%s'%s", val, ": want 576..65521");
			cfg->mtu = (int)v;
			have_mtu = 1;
		} else if (!strcmp(name, "--mac")) {
			if (nc_parse_mac(val, cfg->mac) < 0 || (cfg->mac[0] & 1))
				return bad(prog, "bad --mac '%s'%s", val,
					   ": want a unicast address like 02:00:00:00:00:01");
		} else if (!strcmp(name, "--log-level")) {
			int l = nc_log_parse_level(val);
			if (l < 0)
				return bad(prog, "bad --log-level '%s'%s", val,
					   ": want error, warn, info or debug");
			cfg->log_level = l;
		} else if (!strcmp(name, "--link")) {
			if (!strcmp(val, "vxlan"))
				cfg->link_kind = NC_LINKKIND_VXLAN;
			else if (!strcmp(val, "tap"))
				cfg->link_kind = NC_LINKKIND_TAP;
			else if (!strcmp(val, "wireguard"))
				cfg->link_kind = NC_LINKKIND_WIREGUARD;
			else
				return bad(prog, "bad --link '%s'%s", val,
					   ": want vxlan, tap or wireguard");
			have_link = 1;
			link_opt = val;
		} else if (!strcmp(name, "--bind")) {
			char why[300];
			r = parse_endpoint(val, &cfg->vxlan.bind, &cfg->vxlan.bind_len, 1, why,
					   sizeof(why));
			if (r == -ENOENT)
				return bad(prog, "bad --bind '%s': %s", val, why);
			if (r < 0)
				return bad(prog, "bad --bind '%s'%s", val,
					   ": want HOST:PORT, e.g. 127.0.0.1:4789 or [::1]:4789");
			have_vxlan_opt = have_bind = 1;
		} else if (!strcmp(name, "--peer")) {
			int n = cfg->vxlan.npeers;
			if (n >= NC_VXLAN_MAX_PEERS)
				return bad(prog, "too many --peer options (at most %s)%s", "64", "");
			char why[300];
			r = parse_endpoint(val, &cfg->vxlan.peers[n], &cfg->vxlan.peer_lens[n], 0, why,
					   sizeof(why));
			if (r == -ENOENT)
				return bad(prog, "bad --peer '%s': %s", val, why);
			if (r < 0)
				return bad(prog, "bad --peer '%s'%s", val,
					   ": want HOST:PORT, e.g. 127.0.0.1:4790");
			cfg->vxlan.npeers++;
			have_vxlan_opt = 1;
		} else if (!strcmp(name, "--vni")) {
			if (nc_parse_long(val, 0, 0xffffff, &v) < 0)
				return bad(prog, "bad --vni '%s'%s", val, ": want 0..16777215");
			cfg->vxlan.vni = (uint32_t)v;
			have_vxlan_opt = 1;
		} else if (!strcmp(name, "--tap")) {
			if (!*val || strlen(val) >= sizeof(cfg->tap_name))
				return bad(prog, "bad --tap '%s'%s", val, ": 1..15 characters");
			snprintf(cfg->tap_name, sizeof(cfg->tap_name), "%s", val);
			have_tap = 1;
		} else if (!strcmp(name, "--wg-config")) {
			if (!*val)
				return bad(prog, "bad --wg-config: an empty file name%s%s", "", "");
			wg_config = val;
		} else if (!strcmp(name, "--wg-name")) {
			if (!*val || strlen(val) >= sizeof(cfg->wg_name) ||
			    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_=+.-") != strlen(val))
				return bad(prog, "bad --wg-name '%s'%s", val,
					   ": 1..15 letters, digits or _=+.-");
			snprintf(cfg->wg_name, sizeof(cfg->wg_name), "%s", val);
		} else if (!strcmp(name, "--max-sockets")) {
			if (nc_parse_long(val, 0, 1 << 24, &v) < 0)
				return bad(prog, "bad --max-sockets '%s'%s", val, ": want 0..16777216");
			cfg->max_socks_per_user = (int)v;
		} else if (!strcmp(name, "--link-fault")) {
			struct nc_fault f;
			char why[160];
			if (strlen(val) >= sizeof(cfg->link_fault) ||
			    nc_fault_parse(&f, val, why, sizeof(why)) < 0)
				return bad(prog, "bad --link-fault: %s%s",
					   strlen(val) >= sizeof(cfg->link_fault) ? "too long" : why,
					   "");
			snprintf(cfg->link_fault, sizeof(cfg->link_fault), "%s", val);
		} else if (!strcmp(name, "--host")) {
			char why[512];
			if (nc_hosts_add_arg(&cfg->hosts, val, why, sizeof(why)) < 0)
				return bad(prog, "%s%s", why, "");
		} else if (!strcmp(name, "--hosts")) {
			char why[512];
			if (nc_hosts_load(&cfg->hosts, val, why, sizeof(why)) < 0)
				return bad(prog, "%s%s", why, "");
		} else if (!strcmp(name, "--publish")) {
			char why[256];
			if (cfg->n_publish >= NC_MAX_PUBLISH)
				return bad(prog, "too many --publish (at most 64)%s%s", "", "");
			if (publish_parse(val, &cfg->publish[cfg->n_publish], why, sizeof(why)) < 0)
				return bad(prog, "%s%s", why, "");
			cfg->n_publish++;
		} else if (!strcmp(name, "--outbound")) {
			char why[300];
			if (nc_outbound_parse(&cfg->outbound, val, why, sizeof(why)) < 0)
				return bad(prog, "%s%s", why, "");
		} else if (!strcmp(name, "--pcap")) {
			if (!*val || strlen(val) >= sizeof(cfg->pcap_path))
				return bad(prog, "bad --pcap '%s'%s", val, ": empty or too long");
			snprintf(cfg->pcap_path, sizeof(cfg->pcap_path), "%s", val);
		} else if (!strcmp(name, "--pcap-size")) {
			if (parse_size(val, &cfg->pcap_size) < 0)
				return bad(prog, "bad --pcap-size '%s'%s", val,
					   ": want bytes from 4096 to 1T, e.g. 100M");
		} else if (!strcmp(name, "--pcap-format")) {
			if (strcmp(val, "pcap") && strcmp(val, "pcapng"))
				return bad(prog, "bad --pcap-format '%s'%s", val,
					   ": want pcap or pcapng");
			pcap_format = !strcmp(val, "pcapng");
		} else if (!strcmp(name, "--probe-ms")) {
			if (nc_parse_long(val, 0, 60000, &v) < 0)
				return bad(prog, "bad --probe-ms '%s' (want 0 to 60000)%s", val, "");
			cfg->probe_ms = (int)v;
		} else if (!strcmp(name, "--ready-fd")) {
			int fl;
			if (nc_parse_long(val, 0, 1 << 20, &v) < 0)
				return bad(prog, "bad --ready-fd '%s'%s", val,
					   ": want a file descriptor number");
			fl = fcntl((int)v, F_GETFL);
			if (fl < 0)
				return bad(prog, "bad --ready-fd '%s'%s", val,
					   ": no such open file descriptor");
			if ((fl & O_ACCMODE) == O_RDONLY)
				return bad(prog, "bad --ready-fd '%s'%s", val,
					   ": the file descriptor is not open for writing");
			cfg->ready_fd = (int)v;
		} else {
			return bad(prog, "unknown option '%s'%s", name, "");
		}
	}
	if (cfg->link_kind == NC_LINKKIND_WIREGUARD) {
		if (!wg_config)
			return bad(prog, "--link wireguard needs --wg-config FILE%s%s", "", "");
		if (have_tap || have_vxlan_opt)
			return bad(prog, "--tap, --bind, --peer and --vni are not for --link "
				   "wireguard%s%s", "", "");
		if (wg_setup(cfg, wg_config, have_ip, have_ip6, have_mtu, prog))
			return 2;
	} else if (wg_config || cfg->wg_name[0]) {
		return bad(prog, "--wg-config and --wg-name are for --link wireguard%s%s", "", "");
	}
	if (publish_check(cfg, prog))
		return 2;
	if (cfg->pcap_size && !cfg->pcap_path[0])
		return bad(prog, "--pcap-size needs --pcap FILE%s%s", "", "");
	if (pcap_format >= 0 && !cfg->pcap_path[0])
		return bad(prog, "--pcap-format needs --pcap FILE%s%s", "", "");
	if (pcap_format < 0) {   /* FILE.pcapng: the format its name says */
		size_t n = strlen(cfg->pcap_path);
		pcap_format = n > 7 && !strcmp(cfg->pcap_path + n - 7, ".pcapng");
	}
	cfg->pcapng = pcap_format;
	if (cfg->n_ip6 > 0 && cfg->mtu < 1280)
		return bad(prog, "--ip6 needs --mtu 1280 or more (IPv6's minimum)%s%s", "", "");
	if (have_tap && !have_link)
		cfg->link_kind = NC_LINKKIND_TAP;
	if (cfg->link_kind == NC_LINKKIND_TAP) {
		if (!have_tap)
			return bad(prog, "--link tap needs --tap NAME%s%s", "", "");
		if (have_vxlan_opt)
			return bad(prog, "--bind, --peer and --vni are for --link vxlan, not %s%s",
				   link_opt ? link_opt : "tap", "");
	} else if (cfg->link_kind == NC_LINKKIND_VXLAN) {
		if (have_tap)
			return bad(prog, "--tap is for --link tap%s%s", "", "");
		if (!have_bind)
			nc_parse_hostport(NC_DEFAULT_BIND, &cfg->vxlan.bind, &cfg->vxlan.bind_len, 1);
	}
	return 0;
}

int cmd_service(int argc, char **argv)
{
	struct nc_config cfg;
	int idx = 1, r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: netcon service [OPTIONS]\n\n"
			       "Runs one endpoint of the virtual network: a userspace TCP/IP stack\n"
			       "(lwIP) on a link, serving programs started with `netcon intercept`\n"
			       "through its control socket. Prints one \"ready\" line when it is\n"
			       "ready; stops on SIGTERM or SIGINT.\n\n");
			nc_config_usage(stdout);
			return 0;
		}
	}
	r = nc_config_parse(&cfg, argc, argv, &idx, "netcon service");
	if (r)
		return r;
	if (idx < argc)
		return bad("netcon service", "unexpected argument '%s'%s", argv[idx], "");
	nc_log_init("netcon service", 0);
	nc_log_level = cfg.log_level;
	cfg.ready_line = 1;
	return nc_service_run(&cfg);
}
