/*
 * sockopts.h — socket options, shared by the intercept and the seccomp supervisor: which
 * options act on the fd itself (and so stay native on a virtual socket), and reading the
 * options a kernel socket carries when it becomes virtual.
 */
#ifndef NETCON_SOCKOPTS_H
#define NETCON_SOCKOPTS_H

#include <sys/socket.h>

#include "netcon/rpc.h"

/* Options that act on the fd's own reads and writes (buffer sizes, timeouts, low-water
 * marks): on a virtual socket the socketpair end takes them natively. 1 or 0. */
int nc_sockopt_native(int level, int name);

/* Options the service only records or applies itself, that take any int and cannot fail
 * on a connection: set without a round trip (NC_MSG_SOCKOPT_POST). 1 or 0. */
int nc_sockopt_postable(int level, int name);

typedef int nc_getsockopt_fn(int fd, int level, int name, void *val, socklen_t *len);

/* Read the options set so far on kernel socket fd (through gso: libc's getsockopt, or
 * the intercept's pointer to it) into *o. */
void nc_sockopts_read(int fd, struct nc_sockopts *o, nc_getsockopt_fn *gso);

#endif /* NETCON_SOCKOPTS_H */
