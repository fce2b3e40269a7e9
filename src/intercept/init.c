/*
 * init.c — start-up of the intercept: find the C library's versions of the calls we
 * override, read the environment, set up logging. Idempotent and thread-safe: every
 * override calls nc_ic_init() first, because a program may make socket calls from its
 * own constructors before ours has run.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "intercept.h"
#include "log.h"

struct nc_real nc_real;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#define RESOLVE(name) (nc_real.name = (__typeof__(nc_real.name))dlsym(RTLD_NEXT, #name))

static void do_init(void)
{
	const char *lvl = getenv("NETCON_LOG");

	RESOLVE(socket);
	RESOLVE(connect);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(getsockopt);
	RESOLVE(setsockopt);
	RESOLVE(shutdown);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(close_range);
	RESOLVE(syscall);
	nc_log_init("netcon", 1);
	if (lvl && nc_log_parse_level(lvl) >= 0)
		nc_log_level = nc_log_parse_level(lvl);
	nc_ic_client_init();
}

void *nc_real_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

void nc_ic_init(void)
{
	pthread_once(&init_once, do_init);
}

__attribute__((constructor)) static void nc_ic_constructor(void)
{
	nc_ic_init();
}
