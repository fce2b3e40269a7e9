/*
 * status.c — the text of `netcon status`: addresses, link counters, the connection
 * table. Bounded by the buffer it is given; a table too long is cut with a note. And the
 * same as JSON (`netcon status --json`, docs/status-json.md).
 */
#include "sock.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "link/wguapi.h"
#include "netcon/version.h"
#include "publish.h"
#include "lwip/tcp.h"

/* Holes sent again from lwIP's SACK scoreboard (lwip/patches/0010); 0 below it. */
#ifdef TCP_SACK_SCOREBOARD
#define TCP_SACK_REXMIT() tcp_recovery.sack_rexmit
#else
#define TCP_SACK_REXMIT() 0
#endif

struct out {
	char *buf;
	size_t len, used;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used) {
		o->full = 1;
		o->buf[o->used] = '\0';
		return;
	}
	o->used += (size_t)n;
}

static const char *kind_name(int k)
{
	static const char *const names[] = {
		[NC_KIND_NONE] = "none", [NC_KIND_BOUND] = "bound",
		[NC_KIND_LISTENER] = "listen", [NC_KIND_CONN] = "tcp", [NC_KIND_UDP] = "udp",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == NC_KIND_COUNT, "kind names");
	return k >= 0 && k < NC_KIND_COUNT ? names[k] : "?";
}

static const char *state_name(const struct nc_sock *s)
{
	static const char *const names[] = {
		[NC_STATE_NONE] = "-", [NC_STATE_CONNECTING] = "connecting",
		[NC_STATE_ESTABLISHED] = "established", [NC_STATE_CLOSED] = "closed",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == NC_STATE_COUNT, "state names");
	if (s->kind != NC_KIND_CONN)
		return "-";
	if (s->state == NC_STATE_ESTABLISHED && (s->conn.app_eof || s->conn.net_eof))
		return "closing";
	return s->state >= 0 && s->state < NC_STATE_COUNT ? names[s->state] : "?";
}

size_t nc_status_text(struct nc_service *svc, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	char a[64], b[64], mac[32], link[2048] = "", names[512] = "";
	const struct nc_link_stats *ls = &svc->link->stats;

	buf[0] = '\0';
	put(&o, "service pid %d\n", (int)getpid());
	put(&o, "address %s/%d mac %s mtu %d\n", inet_ntoa(svc->cfg.ip), svc->cfg.prefix,
	    nc_mac_str(svc->cfg.mac, mac, sizeof(mac)), svc->cfg.mtu);
	{
		struct nc_ip6_prefix l6[NC_HELLO_MAX_IP6];
		uint8_t n6 = 0;
		char t[INET6_ADDRSTRLEN];

		nc_stack_ip6_list(svc, l6, NC_HELLO_MAX_IP6, &n6);
		for (int i = 0; i < n6; i++)
			put(&o, "address6 %s/%u%s\n", inet_ntop(AF_INET6, l6[i].addr, t, sizeof(t)),
			    l6[i].prefix, i == 0 ? " (link-local)" : "");
	}
	put(&o, "socket %s\n", svc->cfg.socket_path);
	/* The link's lines straight into the reply: a WireGuard link's grow with its peers
	 * (up to 256, added with wg set), past any fixed buffer of ours. */
	if (!o.full && o.len - o.used > 1) {
		size_t n;

		svc->link->ops->describe(svc->link, o.buf + o.used, o.len - o.used - 1);
		n = strlen(o.buf + o.used);
		o.used += n;
		if (n && o.buf[o.used - 1] != '\n')
			put(&o, "\n");
	}
	nc_uapi_status(svc, link, sizeof(link));
	put(&o, "%s", link);
	put(&o, "link rx %llu frames %llu bytes, tx %llu frames %llu bytes, "
		"rx dropped %llu, tx dropped %llu\n",
	    (unsigned long long)ls->rx_frames, (unsigned long long)ls->rx_bytes,
	    (unsigned long long)ls->tx_frames, (unsigned long long)ls->tx_bytes,
	    (unsigned long long)ls->rx_dropped, (unsigned long long)ls->tx_dropped);
	if (svc->fault.enabled) {
		const struct nc_fault_dir *t = &svc->fault.tx, *r = &svc->fault.rx;
		put(&o, "faults: tx lost %llu dup %llu reordered %llu corrupted %llu; "
			"rx lost %llu dup %llu reordered %llu corrupted %llu\n",
		    (unsigned long long)t->lost, (unsigned long long)t->duplicated,
		    (unsigned long long)t->reordered, (unsigned long long)t->corrupted,
		    (unsigned long long)r->lost, (unsigned long long)r->duplicated,
		    (unsigned long long)r->reordered, (unsigned long long)r->corrupted);
	}
	put(&o, "clients %d, sockets: %d connections, %d listeners, %d bound, %d udp\n",
	    svc->nclients, svc->nsocks[NC_KIND_CONN], svc->nsocks[NC_KIND_LISTENER],
	    svc->nsocks[NC_KIND_BOUND], svc->nsocks[NC_KIND_UDP]);
	put(&o, "time_wait ended early (over %d): %llu\n", NC_TW_MAX,
	    (unsigned long long)svc->ctr.tw_ended);
	put(&o, "tcp recovery: %lu fast retransmits, %lu partial-ack retransmits, "
		"%lu sack retransmits, %lu probes, %lu timeouts\n",
	    (unsigned long)tcp_recovery.fast_rexmit, (unsigned long)tcp_recovery.partial_rexmit,
	    (unsigned long)TCP_SACK_REXMIT(), (unsigned long)tcp_recovery.probes,
	    (unsigned long)tcp_recovery.timeouts);
	put(&o, "udp: %llu datagrams out, %llu in, %llu dropped\n",
	    (unsigned long long)svc->ctr.udp_out, (unsigned long long)svc->ctr.udp_in,
	    (unsigned long long)svc->ctr.udp_dropped);
	put(&o, "udp held back (seccomp mode, behind another source): %llu\n",
	    (unsigned long long)svc->ctr.udp_held);
	put(&o, "totals: %llu connects (%llu refused), %llu accepted, %llu requests "
		"(%llu malformed), %llu bad frames\n",
	    (unsigned long long)svc->ctr.conns_opened, (unsigned long long)svc->ctr.conns_refused,
	    (unsigned long long)svc->ctr.conns_accepted,
	    (unsigned long long)svc->ctr.rpc_requests, (unsigned long long)svc->ctr.rpc_bad,
	    (unsigned long long)svc->ctr.rx_frames_bad);
	put(&o, "address conflicts: %llu\n", (unsigned long long)svc->ctr.addr_conflicts);
	nc_neigh_describe(svc, link, sizeof(link));
	put(&o, "%s", link);
	nc_names_status(svc, names, sizeof(names));
	put(&o, "%s", names);
	nc_seccomp_status(svc, names, sizeof(names));
	put(&o, "%s", names);
	{
		static char pubs[NC_MAX_PUBLISH * 160];

		pubs[0] = '\0';
		nc_publish_status(svc, pubs, sizeof(pubs));
		put(&o, "%s", pubs);
		char ob[4096];
		nc_outbound_status(svc, ob, sizeof(ob));
		put(&o, "%s", ob);
		ob[0] = '\0';   /* without --dns-forward it writes nothing */
		nc_dnsfwd_status(svc, ob, sizeof(ob));
		put(&o, "%s", ob);
	}
	put(&o, "%-7s %-22s %-22s %-12s %12s %12s\n", "kind", "local", "peer", "state",
	    "bytes out", "bytes in");
	for (struct nc_sock *s = svc->socks; s; s = s->next) {
		size_t mark = o.used;
		put(&o, "%-7s %-22s %-22s %-12s %12llu %12llu\n", kind_name(s->kind),
		    nc_addr_str(&s->local, a, sizeof(a)),
		    s->kind == NC_KIND_CONN || (s->kind == NC_KIND_UDP && s->peer.family) ?
		    nc_addr_str(&s->peer, b, sizeof(b)) : "*",
		    state_name(s), (unsigned long long)s->bytes_out,
		    (unsigned long long)s->bytes_in);
		if (o.full) {
			o.used = mark;
			o.buf[mark] = '\0';
			o.full = 0;
			put(&o, "(table cut: too long)\n");
			break;
		}
	}
	return o.used;
}

/*
 * The same facts as JSON, for programs: `netcon status --json`. The schema, its version
 * (NC_STATUS_JSON_VERSION) and what may change without a new version are in
 * docs/status-json.md; a field removed or changed in meaning needs a new version, a field
 * added does not. The free-text parts of the text status (the link's peers and learned
 * MACs, neighbour caches, names, seccomp programs, published ports) are carried as lines.
 */
#define NC_STATUS_JSON_VERSION 1

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s && !o->full; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

/* Text of one or more lines as a JSON array of strings (empty lines left out). */
static void put_lines(struct out *o, const char *text)
{
	char line[512];
	int first = 1;

	put(o, "[");
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n) {
			snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
				 text);
			put(o, "%s", first ? "" : ",");
			put_str(o, line);
			first = 0;
		}
		text += n;
		if (*text)
			text++;
	}
	put(o, "]");
}

static void put_u64(struct out *o, const char *name, uint64_t v, int last)
{
	put(o, "\"%s\":%llu%s", name, (unsigned long long)v, last ? "" : ",");
}

/* --link wireguard: the interface and its peers (the UAPI's snapshot); else null. */
static void put_wireguard(struct out *o, struct nc_service *svc)
{
	struct nc_wg_state st;
	const char *uapi = nc_uapi_path(svc);
	char key[NC_WG_KEY_B64_LEN + 1], ep[INET6_ADDRSTRLEN + 16];

	if (svc->cfg.link_kind != NC_LINKKIND_WIREGUARD ||
	    nc_link_wireguard_state(svc->link, &st) < 0) {
		put(o, "null");
		return;
	}
	memset(st.priv, 0, sizeof(st.priv));
	nc_wg_key_to_base64(key, st.pub);
	put(o, "{\"name\":");
	put_str(o, svc->cfg.wg_name[0] ? svc->cfg.wg_name : "wg0");
	put(o, ",\"public_key\":\"%s\",\"listen_port\":%d,\"fwmark\":%u,\"uapi_socket\":",
	    key, st.listen_port, (unsigned)st.fwmark);
	if (uapi)
		put_str(o, uapi);
	else
		put(o, "null");
	put(o, ",\"peers\":[");
	for (int i = 0; i < st.n_peers; i++) {
		const struct nc_wg_peer_state *p = &st.peers[i];

		nc_wg_key_to_base64(key, p->pub);
		put(o, "%s{\"public_key\":\"%s\",\"endpoint\":", i ? "," : "", key);
		if (p->ep.ss_family)
			put(o, "\"%s\"", nc_wg_endpoint_str(&p->ep, ep, sizeof(ep)));
		else
			put(o, "null");
		put(o, ",\"latest_handshake\":");
		if (p->last_handshake.tv_sec)
			put(o, "%lld", (long long)p->last_handshake.tv_sec);
		else
			put(o, "null");
		put(o, ",\"session\":\"%s\",\"persistent_keepalive\":%d,", p->session,
		    p->keepalive);
		put_u64(o, "rx_bytes", p->rx_bytes, 0);
		put_u64(o, "tx_bytes", p->tx_bytes, 0);
		put(o, "\"allowed_ips\":[");
		for (int k = 0; k < p->n_allowed; k++) {
			const struct nc_wg_prefix *a = &st.allowed[p->first_allowed + k];
			char t[INET6_ADDRSTRLEN];

			put(o, "%s\"%s/%d\"", k ? "," : "", inet_ntop(a->family, a->addr, t, sizeof(t)),
			    a->cidr);
		}
		put(o, "]}");
	}
	put(o, "]}");
	nc_wg_state_free(&st);
}

size_t nc_status_json(struct nc_service *svc, char *buf, size_t len)
{
	/* Room kept for closing the document after a cut table. */
	struct out o = { .buf = buf, .len = len > 64 ? len - 64 : len };
	const struct nc_link_stats *ls = &svc->link->stats;
	static char text[NC_MAX_PUBLISH * 160 + 4096];
	char a[64], mac[32];
	int cut = 0, first = 1, nclients;
	uint64_t cframes, cdropped;
	size_t nsinks;

	buf[0] = '\0';
	put(&o, "{\"schema\":\"netcon-status\",\"version\":%d,", NC_STATUS_JSON_VERSION);
	put(&o, "\"pid\":%d,\"netcon_version\":\"%s\",", (int)getpid(), NETCON_VERSION);
	put(&o, "\"ipv4\":{\"address\":\"%s\",\"prefix\":%d},", inet_ntoa(svc->cfg.ip),
	    svc->cfg.prefix);
	put(&o, "\"ipv6\":[");
	{
		struct nc_ip6_prefix l6[NC_HELLO_MAX_IP6];
		uint8_t n6 = 0;
		char t[INET6_ADDRSTRLEN];

		nc_stack_ip6_list(svc, l6, NC_HELLO_MAX_IP6, &n6);
		for (int i = 0; i < n6; i++)
			put(&o, "%s{\"address\":\"%s\",\"prefix\":%u,\"link_local\":%s}",
			    i ? "," : "", inet_ntop(AF_INET6, l6[i].addr, t, sizeof(t)),
			    l6[i].prefix, i == 0 ? "true" : "false");
	}
	put(&o, "],\"mac\":\"%s\",\"mtu\":%d,\"socket\":",
	    nc_mac_str(svc->cfg.mac, mac, sizeof(mac)), svc->cfg.mtu);
	put_str(&o, svc->cfg.socket_path);
	put(&o, ",\"link\":{\"kind\":\"%s\",", svc->link->ops->name);
	put_u64(&o, "rx_frames", ls->rx_frames, 0);
	put_u64(&o, "rx_bytes", ls->rx_bytes, 0);
	put_u64(&o, "tx_frames", ls->tx_frames, 0);
	put_u64(&o, "tx_bytes", ls->tx_bytes, 0);
	put_u64(&o, "rx_dropped", ls->rx_dropped, 0);
	put_u64(&o, "tx_dropped", ls->tx_dropped, 0);
	text[0] = '\0';
	svc->link->ops->describe(svc->link, text, sizeof(text));
	put(&o, "\"description\":");
	put_lines(&o, text);
	put(&o, "},\"wireguard\":");
	put_wireguard(&o, svc);
	put(&o, ",\"faults\":");
	if (svc->fault.enabled) {
		const struct nc_fault_dir *d[2] = { &svc->fault.tx, &svc->fault.rx };
		put(&o, "{");
		for (int i = 0; i < 2; i++) {
			put(&o, "\"%s\":{", i ? "rx" : "tx");
			put_u64(&o, "lost", d[i]->lost, 0);
			put_u64(&o, "duplicated", d[i]->duplicated, 0);
			put_u64(&o, "reordered", d[i]->reordered, 0);
			put_u64(&o, "corrupted", d[i]->corrupted, 1);
			put(&o, "}%s", i ? "" : ",");
		}
		put(&o, "}");
	} else {
		put(&o, "null");
	}
	put(&o, ",\"clients\":%d,\"sockets_by_kind\":{\"tcp\":%d,\"listen\":%d,\"bound\":%d,"
	    "\"udp\":%d},", svc->nclients, svc->nsocks[NC_KIND_CONN],
	    svc->nsocks[NC_KIND_LISTENER], svc->nsocks[NC_KIND_BOUND], svc->nsocks[NC_KIND_UDP]);
	put(&o, "\"counters\":{");
	put_u64(&o, "connects", svc->ctr.conns_opened, 0);
	put_u64(&o, "connects_refused", svc->ctr.conns_refused, 0);
	put_u64(&o, "accepted", svc->ctr.conns_accepted, 0);
	put_u64(&o, "requests", svc->ctr.rpc_requests, 0);
	put_u64(&o, "requests_malformed", svc->ctr.rpc_bad, 0);
	put_u64(&o, "requests_posted", svc->ctr.rpc_posted, 0);
	put_u64(&o, "bad_frames", svc->ctr.rx_frames_bad, 0);
	put_u64(&o, "time_wait_ended", svc->ctr.tw_ended, 0);
	put_u64(&o, "address_conflicts", svc->ctr.addr_conflicts, 0);
	put_u64(&o, "udp_out", svc->ctr.udp_out, 0);
	put_u64(&o, "udp_in", svc->ctr.udp_in, 0);
	put_u64(&o, "udp_dropped", svc->ctr.udp_dropped, 0);
	put_u64(&o, "tcp_fast_retransmits", tcp_recovery.fast_rexmit, 0);
	put_u64(&o, "tcp_partial_ack_retransmits", tcp_recovery.partial_rexmit, 0);
	put_u64(&o, "tcp_sack_retransmits", TCP_SACK_REXMIT(), 0);
	put_u64(&o, "tcp_probes", tcp_recovery.probes, 0);
	put_u64(&o, "tcp_timeouts", tcp_recovery.timeouts, 1);
	nsinks = nc_capture_count(svc, &nclients, &cframes, &cdropped);
	put(&o, "},\"capture\":{\"file\":");
	if (svc->cfg.pcap_path[0])
		put_str(&o, svc->cfg.pcap_path);
	else
		put(&o, "null");
	put(&o, ",\"sinks\":%zu,\"clients\":%d,", nsinks, nclients);
	put_u64(&o, "frames", cframes, 0);
	put_u64(&o, "dropped", cdropped, 1);
	{
		const struct nc_outbound_state *ob = &svc->ob;
		static char pol[NC_OUTBOUND_MAX * (NC_OUTBOUND_TEXT + 1)];

		put(&o, "},\"outbound\":{\"policy\":");
		if (svc->cfg.outbound.n) {
			nc_outbound_describe(&svc->cfg.outbound, pol, sizeof(pol));
			put_str(&o, pol);
		} else {
			put(&o, "null");
		}
		put(&o, ",\"tcp\":{");
		put_u64(&o, "allowed", ob->allowed, 0);
		put_u64(&o, "failed", ob->failed, 0);
		put_u64(&o, "denied", ob->denied, 1);
		put(&o, "},\"udp\":{");
		put_u64(&o, "connected", ob->udp_allowed, 0);
		put_u64(&o, "denied", ob->udp_denied, 0);
		put_u64(&o, "relay_sockets", ob->udp_relays, 0);
		put_u64(&o, "relayed_out", ob->udp_relay_out, 0);
		put_u64(&o, "relayed_in", ob->udp_relay_in, 0);
		put_u64(&o, "relay_dropped", ob->udp_relay_dropped, 1);
		put(&o, "},\"passed\":[");
		for (uint64_t i = 0; i < ob->nrecent && i < NC_OB_RECENT; i++) {
			const struct nc_ob_recent *e = &ob->recent[(ob->nrecent - 1 - i) %
								   NC_OB_RECENT];
			put(&o, "%s{\"pid\":%d,\"protocol\":\"%s\",\"local\":", i ? "," : "",
			    (int)e->pid, e->type == SOCK_DGRAM ? "udp" : "tcp");
			if (e->err)
				put(&o, "null");
			else
				put_str(&o, nc_addr_str(&e->local, a, sizeof(a)));
			put(&o, ",\"peer\":");
			put_str(&o, nc_addr_str(&e->peer, a, sizeof(a)));
			put(&o, ",\"error\":");
			if (e->err)
				put_str(&o, strerror(e->err));
			else
				put(&o, "null");
			put(&o, "}");
		}
		put(&o, "]");
	}
	/* The other parts of the text status, as lines. */
	text[0] = '\0';
	nc_neigh_describe(svc, text, sizeof(text));
	{
		size_t u = strlen(text);
		nc_names_status(svc, text + u, sizeof(text) - u);
		u = strlen(text);
		nc_seccomp_status(svc, text + u, sizeof(text) - u);
		u = strlen(text);
		nc_publish_status(svc, text + u, sizeof(text) - u);
	}
	put(&o, "},\"details\":");
	put_lines(&o, text);
	put(&o, ",\"sockets\":[");
	for (struct nc_sock *s = svc->socks; s; s = s->next) {
		size_t mark = o.used;
		put(&o, "%s{\"kind\":\"%s\",\"local\":\"%s\",\"peer\":", first ? "" : ",",
		    kind_name(s->kind), nc_addr_str(&s->local, a, sizeof(a)));
		if (s->kind == NC_KIND_CONN || (s->kind == NC_KIND_UDP && s->peer.family))
			put(&o, "\"%s\"", nc_addr_str(&s->peer, a, sizeof(a)));
		else
			put(&o, "null");
		put(&o, ",\"state\":\"%s\",", state_name(s));
		if (s->pid > 0) {
			put(&o, "\"pid\":%d,\"command\":", (int)s->pid);
			put_str(&o, nc_sock_command(s));
			put(&o, ",");
		} else {
			put(&o, "\"pid\":null,\"command\":null,");
		}
		put_u64(&o, "bytes_out", s->bytes_out, 0);
		put_u64(&o, "bytes_in", s->bytes_in, 1);
		put(&o, "}");
		if (o.full) {
			o.used = mark;
			o.buf[mark] = '\0';
			cut = 1;
			break;
		}
		first = 0;
	}
	if (o.full && !cut)
		return 0;   /* cannot happen: the fixed part is far below 64 KiB */
	o.len = len;
	o.full = 0;
	put(&o, "],\"sockets_cut\":%s}\n", cut ? "true" : "false");
	return o.used;
}
