/*
 * sockopts.c — socket options shared by both doors (see sockopts.h).
 */
#include "sockopts.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

int nc_sockopt_native(int level, int name)
{
	if (level != SOL_SOCKET)
		return 0;
	switch (name) {
	case SO_RCVBUF:
	case SO_SNDBUF:
	case SO_RCVBUFFORCE:
	case SO_SNDBUFFORCE:
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW:
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
	case SO_PEEK_OFF:
		return 1;
	}
	return 0;
}

int nc_sockopt_postable(int level, int name)
{
	return (level == IPPROTO_TCP && name == TCP_NODELAY) ||
	       (level == SOL_SOCKET && name == SO_KEEPALIVE);
}

void nc_sockopts_read(int fd, struct nc_sockopts *o, nc_getsockopt_fn *gso)
{
	struct linger lg;
	socklen_t l;
	int v;

	memset(o, 0, sizeof(*o));
#define FLAG(level, name, bit) \
	do { v = 0; l = sizeof(v); \
	     if (gso(fd, level, name, &v, &l) == 0 && v) o->flags |= bit; } while (0)
	FLAG(SOL_SOCKET, SO_REUSEADDR, NC_OPT_REUSEADDR);
	FLAG(SOL_SOCKET, SO_REUSEPORT, NC_OPT_REUSEPORT);
	FLAG(SOL_SOCKET, SO_KEEPALIVE, NC_OPT_KEEPALIVE);
	FLAG(SOL_SOCKET, SO_BROADCAST, NC_OPT_BROADCAST);
	FLAG(IPPROTO_TCP, TCP_NODELAY, NC_OPT_NODELAY);
	FLAG(IPPROTO_IPV6, IPV6_V6ONLY, NC_OPT_V6ONLY);
#undef FLAG
	l = sizeof(lg);
	if (gso(fd, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff) {
		o->flags |= NC_OPT_LINGER;
		o->linger_secs = lg.l_linger;
	}
	l = sizeof(v);
	if (gso(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &l) == 0 && v != 7200)
		o->keepidle = v;
	l = sizeof(v);
	if (gso(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, &l) == 0 && v != 75)
		o->keepintvl = v;
	l = sizeof(v);
	if (gso(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &l) == 0 && v != 9)
		o->keepcnt = v;
	l = sizeof(v);
	if (gso(fd, IPPROTO_IP, IP_TOS, &v, &l) == 0)
		o->tos = v;
}
