/*
 * sockopt.c — socket options of virtual sockets: setsockopt() and getsockopt() as Linux
 * answers them, for TCP sockets here and UDP ones with udp.c's help.
 *
 * DOC: Theory of operation
 *
 * Three sorts of option. Those lwIP can act on (SO_REUSEADDR, SO_KEEPALIVE and the
 * keepalive times, IP_TOS, IPV6_TCLASS) go to the pcb and are read back from it. Those
 * only recorded (SO_REUSEPORT, TCP_NODELAY, SO_LINGER, IPV6_V6ONLY) live in s->opt.flags
 * and act where the code needs them (listen groups, close, bind). Every other option
 * Linux knows is stored as it was set (s->opt.extra, at most NC_EXTRA_OPTS a socket)
 * and read back, or reads as Linux's default from the one table below (opt_defaults);
 * an option Linux does not know is refused with ENOPROTOOPT, as Linux refuses it.
 *
 * Options set before a socket went virtual travel with its first request (struct
 * nc_sockopts) and are applied by nc_sock_apply_opts(). A UDP socket's own options
 * (SO_BROADCAST, IP_TTL, IP_TOS) are udp.c's: nc_udp_setopt()/nc_udp_getopt() answer
 * -ENOPROTOOPT for the others, which this file then answers.
 */
#include "sock.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

/* The options a program set before its socket went virtual (carried in the request). */
void nc_sock_apply_opts(struct nc_sock *s, const struct nc_sockopts *o)
{
	s->opt.flags = o->flags & NC_OPT_ALL;
	if (s->family != AF_INET6)
		s->opt.flags &= ~(uint32_t)NC_OPT_V6ONLY;
	s->opt.linger_secs = o->linger_secs;
	if (!s->pcb)
		return;
	if (o->flags & NC_OPT_REUSEADDR)
		nc_pcb_reuseaddr(s->pcb, 1);
	if (s->pcb->state == LISTEN)
		return;
	if (o->flags & NC_OPT_KEEPALIVE)
		nc_pcb_keepalive(s->pcb, 1);
	if (o->flags & NC_OPT_NODELAY)
		tcp_nagle_disable(s->pcb);
	if (o->keepidle > 0)
		s->pcb->keep_idle = (u32_t)o->keepidle * 1000u;
	if (o->keepintvl > 0)
		s->pcb->keep_intvl = (u32_t)o->keepintvl * 1000u;
	if (o->keepcnt > 0)
		s->pcb->keep_cnt = (u32_t)o->keepcnt;
	if (o->tos > 0 && o->tos < 256)
		s->pcb->tos = (u8_t)o->tos;
}

/* ---- options ---------------------------------------------------------------------- */

/*
 * The one table of defaults: Linux's value, on a fresh TCP socket, of each option the
 * service stores without acting on it (and of the keepalive times a listener reports).
 * Options not here are refused as Linux refuses what it does not know (ENOPROTOOPT),
 * instead of being remembered and read back as if they meant something.
 */
static const struct opt_default {
	int level, name, value;
} opt_defaults[] = {
	{ SOL_SOCKET, SO_DEBUG, 0 }, { SOL_SOCKET, SO_DONTROUTE, 0 },
	{ SOL_SOCKET, SO_BROADCAST, 0 }, { SOL_SOCKET, SO_OOBINLINE, 0 },
	{ SOL_SOCKET, SO_NO_CHECK, 0 }, { SOL_SOCKET, SO_PRIORITY, 0 },
	{ SOL_SOCKET, SO_MARK, 0 }, { SOL_SOCKET, SO_BUSY_POLL, 0 },
	{ SOL_SOCKET, SO_ZEROCOPY, 0 }, { SOL_SOCKET, SO_TIMESTAMP_OLD, 0 },
	{ SOL_SOCKET, SO_TIMESTAMPNS_OLD, 0 }, { SOL_SOCKET, SO_PASSCRED, 0 },
	{ SOL_SOCKET, SO_PASSSEC, 0 }, { SOL_SOCKET, SO_RXQ_OVFL, 0 },
	{ SOL_SOCKET, SO_SELECT_ERR_QUEUE, 0 }, { SOL_SOCKET, SO_PREFER_BUSY_POLL, 0 },
	{ SOL_SOCKET, SO_INCOMING_CPU, -1 },

	{ IPPROTO_TCP, TCP_CORK, 0 }, { IPPROTO_TCP, TCP_DEFER_ACCEPT, 0 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 0 }, { IPPROTO_TCP, TCP_FASTOPEN, 0 },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 0 }, { IPPROTO_TCP, TCP_WINDOW_CLAMP, 0 },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 0 }, { IPPROTO_TCP, TCP_SAVE_SYN, 0 },
	{ IPPROTO_TCP, TCP_INQ, 0 }, { IPPROTO_TCP, TCP_TX_DELAY, 0 },
	{ IPPROTO_TCP, TCP_QUICKACK, 1 }, { IPPROTO_TCP, TCP_SYNCNT, 6 },
	{ IPPROTO_TCP, TCP_LINGER2, 60 }, { IPPROTO_TCP, TCP_NOTSENT_LOWAT, -1 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 7200 }, { IPPROTO_TCP, TCP_KEEPINTVL, 75 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 9 },

	{ IPPROTO_IP, IP_RECVERR, 0 }, { IPPROTO_IP, IP_FREEBIND, 0 },
	{ IPPROTO_IP, IP_TRANSPARENT, 0 }, { IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0 },
	{ IPPROTO_IP, IP_RECVTOS, 0 }, { IPPROTO_IP, IP_PKTINFO, 0 }, { IPPROTO_IP, IP_TOS, 0 },
	{ IPPROTO_IP, IP_TTL, 64 }, { IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_WANT },

	{ IPPROTO_IPV6, IPV6_TCLASS, 0 }, { IPPROTO_IPV6, IPV6_RECVPKTINFO, 0 },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS, 0 }, { IPPROTO_IPV6, IPV6_UNICAST_HOPS, 64 },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_WANT },
};

/* The default of an option from the table: 1 and *v, or 0 (and *v = 0) when unknown. */
static int opt_default(int level, int name, int *v)
{
	*v = 0;
	for (size_t i = 0; i < sizeof(opt_defaults) / sizeof(opt_defaults[0]); i++) {
		if (opt_defaults[i].level == level && opt_defaults[i].name == name) {
			*v = opt_defaults[i].value;
			return 1;
		}
	}
	return 0;
}

/* Record a flag option (NC_OPT_*) as the program set it. */
static void set_flag(struct nc_sock *s, uint32_t flag, int on)
{
	if (on)
		s->opt.flags |= flag;
	else
		s->opt.flags &= ~flag;
}

/* Set or clear one of lwIP's SOF_* options in a pcb's so_options (a UDP pcb's: a TCP
 * pcb's SO_REUSEADDR goes through nc_pcb_reuseaddr()). */
static void so_option(u8_t *so_options, u8_t opt, int on)
{
	if (on)
		*so_options |= opt;
	else
		*so_options &= (u8_t)~opt;
}

static int *extra_slot(struct nc_sock *s, int level, int name, int create)
{
	for (int i = 0; i < s->opt.nextra; i++)
		if (s->opt.extra[i][0] == level && s->opt.extra[i][1] == name)
			return &s->opt.extra[i][2];
	if (!create || s->opt.nextra >= NC_EXTRA_OPTS)
		return NULL;
	s->opt.extra[s->opt.nextra][0] = level;
	s->opt.extra[s->opt.nextra][1] = name;
	s->opt.extra[s->opt.nextra][2] = 0;
	return &s->opt.extra[s->opt.nextra++][2];
}

int nc_sock_setopt(struct nc_service *svc, struct nc_sock *s, int level, int name,
		   const void *val, uint32_t len)
{
	struct tcp_pcb *pcb = s->pcb;
	int v = 0;

	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg;
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		set_flag(s, NC_OPT_LINGER, lg.l_onoff);
		s->opt.linger_secs = lg.l_linger;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE)
		return len == 0 || ((const char *)val)[0] == '\0' ? 0 : -ENODEV;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(int));
	if (s->kind == NC_KIND_UDP) {
		int r;
		if (level == IPPROTO_TCP)
			return -ENOPROTOOPT;   /* no TCP level on a UDP socket */
		r = nc_udp_setopt(s, level, name, v);
		if (r != -ENOPROTOOPT)
			return r;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			set_flag(s, NC_OPT_REUSEADDR, v);
			if (pcb)
				nc_pcb_reuseaddr(pcb, v);
			if (s->udp.pcb)
				so_option(&s->udp.pcb->so_options, SOF_REUSEADDR, v);
			return 0;
		case SO_REUSEPORT:
			set_flag(s, NC_OPT_REUSEPORT, v);
			return 0;
		case SO_KEEPALIVE:
			set_flag(s, NC_OPT_KEEPALIVE, v);
			if (pcb && pcb->state != LISTEN)
				nc_pcb_keepalive(pcb, v);
			return 0;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			set_flag(s, NC_OPT_NODELAY, v);
			/* Recorded only: lwIP never delays small segments (see
			 * nc_conn_size_sndbuf()). */
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (pcb && pcb->state != LISTEN) {
				if (name == TCP_KEEPIDLE)
					pcb->keep_idle = (u32_t)v * 1000u;
				else if (name == TCP_KEEPINTVL)
					pcb->keep_intvl = (u32_t)v * 1000u;
				else
					pcb->keep_cnt = (u32_t)v;
			}
			break;   /* also remembered below, for listeners' getsockopt */
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		if (pcb)
			pcb->tos = (u8_t)(v & 0xfc);
		v &= 0xfc;
	} else if (level == IPPROTO_IPV6) {
		if (s->family != AF_INET6)
			return -ENOPROTOOPT;
		/* Linux: IPV6_V6ONLY cannot change once the socket is bound, and a virtual
		 * socket always is. */
		if (name == IPV6_V6ONLY)
			return -EINVAL;
		if (name == IPV6_TCLASS) {
			if (v < -1 || v > 0xff)
				return -EINVAL;
			if (v == -1)
				v = 0;
			if (pcb)
				pcb->tos = (u8_t)v;
		}
	}
	/* Anything else Linux knows is remembered, so that getsockopt() reads back what was
	 * set; what it does not know is refused as it refuses it. */
	int dflt;
	if (!opt_default(level, name, &dflt))
		return -ENOPROTOOPT;
	int *slot = extra_slot(s, level, name, 1);
	if (!slot)
		return -ENOBUFS;
	*slot = v;
	return 0;
}

static int linux_tcp_state(struct nc_sock *s)
{
	if (s->kind == NC_KIND_LISTENER)
		return TCP_LISTEN;
	if (!s->pcb)
		return s->state == NC_STATE_CONNECTING ? TCP_SYN_SENT : TCP_CLOSE;
	switch (s->pcb->state) {
	case CLOSED: return TCP_CLOSE;
	case LISTEN: return TCP_LISTEN;
	case SYN_SENT: return TCP_SYN_SENT;
	case SYN_RCVD: return TCP_SYN_RECV;
	case ESTABLISHED: return TCP_ESTABLISHED;
	case FIN_WAIT_1: return TCP_FIN_WAIT1;
	case FIN_WAIT_2: return TCP_FIN_WAIT2;
	case CLOSE_WAIT: return TCP_CLOSE_WAIT;
	case CLOSING: return TCP_CLOSING;
	case LAST_ACK: return TCP_LAST_ACK;
	case TIME_WAIT: return TCP_TIME_WAIT;
	}
	return TCP_CLOSE;
}

int nc_sock_getopt(struct nc_service *svc, struct nc_sock *s, ino_t ino, int level, int name,
		   void *val, uint32_t *len)
{
	int v;

	if (level == SOL_SOCKET && name == SO_ERROR) {
		if (s) {
			v = s->err;
			s->err = 0;
		} else {
			v = nc_tombstone_get(svc, ino, 1);
			if (v < 0)
				v = 0;
		}
		goto out_int;
	}
	if (!s) {
		/* A connection that is over: the fd is still the program's, and Linux still
		 * answers; TCP_INFO says CLOSE, other options read as zero. */
		struct tcp_info ti;
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = TCP_CLOSE;
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		if (level == IPPROTO_TCP && name == TCP_INFO) {
			memcpy(val, &ti, *len);
			return 0;
		}
		v = 0;
		goto out_int;
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE) {
		*len = 0;   /* bound to no device (sshd asks, for its VRF logic) */
		return 0;
	}
	if (s->kind == NC_KIND_UDP) {
		int r;
		if (level == IPPROTO_TCP)
			return -ENOPROTOOPT;   /* no TCP level on a UDP socket */
		r = nc_udp_getopt(s, level, name, &v);
		if (r == 0)
			goto out_int;
		if (r != -ENOPROTOOPT)
			return r;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = { .l_onoff = !!(s->opt.flags & NC_OPT_LINGER),
				     .l_linger = s->opt.linger_secs };
		if (*len > sizeof(lg))
			*len = sizeof(lg);
		memcpy(val, &lg, *len);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		struct tcp_info ti;
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = (uint8_t)linux_tcp_state(s);
		if (s->pcb && s->kind == NC_KIND_CONN) {
			ti.tcpi_snd_mss = tcp_mss(s->pcb);
			ti.tcpi_rcv_mss = tcp_mss(s->pcb);
			ti.tcpi_snd_cwnd = s->pcb->cwnd / (tcp_mss(s->pcb) ? tcp_mss(s->pcb) : 1);
			/* milliseconds in our lwIP (patch 0003), microseconds in tcp_info */
			ti.tcpi_rto = (uint32_t)s->pcb->rto * 1000u;
			ti.tcpi_rtt = (uint32_t)(s->pcb->sa >> 3) * 1000u;
			ti.tcpi_rttvar = (uint32_t)(s->pcb->sv >> 2) * 1000u;
			ti.tcpi_unacked = s->pcb->snd_queuelen;
			ti.tcpi_snd_wscale = s->pcb->snd_scale;
			ti.tcpi_rcv_wscale = s->pcb->rcv_scale;
		}
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		memcpy(val, &ti, *len);
		return 0;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE: v = SOCK_STREAM; goto out_int;
		case SO_DOMAIN: v = s->family; goto out_int;
		case SO_PROTOCOL: v = IPPROTO_TCP; goto out_int;
		case SO_ACCEPTCONN: v = s->kind == NC_KIND_LISTENER; goto out_int;
		case SO_REUSEADDR: v = !!(s->opt.flags & NC_OPT_REUSEADDR); goto out_int;
		case SO_REUSEPORT: v = !!(s->opt.flags & NC_OPT_REUSEPORT); goto out_int;
		case SO_KEEPALIVE: v = !!(s->opt.flags & NC_OPT_KEEPALIVE); goto out_int;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY: v = !!(s->opt.flags & NC_OPT_NODELAY); goto out_int;
		case TCP_MAXSEG:
			v = s->pcb && s->kind == NC_KIND_CONN ? tcp_mss(s->pcb) : 536;
			goto out_int;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if (s->pcb && s->kind == NC_KIND_CONN) {
				v = name == TCP_KEEPIDLE ? (int)(s->pcb->keep_idle / 1000u) :
				    name == TCP_KEEPINTVL ? (int)(s->pcb->keep_intvl / 1000u) :
				    (int)s->pcb->keep_cnt;
				goto out_int;
			} else {
				int *slot = extra_slot(s, level, name, 0);
				if (slot)
					v = *slot;
				else
					opt_default(level, name, &v);
				goto out_int;
			}
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		v = s->pcb ? s->pcb->tos : 0;
		goto out_int;
	} else if (level == IPPROTO_IPV6) {
		if (s->family != AF_INET6)
			return -EOPNOTSUPP;
		if (name == IPV6_V6ONLY) {
			v = !!(s->opt.flags & NC_OPT_V6ONLY);
			goto out_int;
		}
	}
	{
		int *slot = extra_slot(s, level, name, 0);
		if (slot)
			v = *slot;
		else if (!opt_default(level, name, &v))
			return level == SOL_SOCKET || level == IPPROTO_TCP || level == IPPROTO_IP ||
			       level == IPPROTO_IPV6 ? -ENOPROTOOPT : -EOPNOTSUPP;
	}
out_int:
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
	return 0;
}
