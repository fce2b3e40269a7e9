/*
 * init.c — start-up of the intercept: fill the table of the C library's functions
 * (real.h) at load, read the environment, set up logging. nc_ic_init() is idempotent and
 * thread-safe: every override calls it first, because a program may make socket calls from its
 * own constructors before ours has run.
 */
#include <pthread.h>
#include <stdlib.h>

#include "intercept.h"
#include "log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void)
{
	const char *lvl = getenv("NETCON_LOG");

	nc_log_init("netcon", 1);
	if (lvl && nc_log_parse_level(lvl) >= 0)
		nc_log_level = nc_log_parse_level(lvl);
	nc_ic_client_init();
}

void nc_ic_init(void)
{
	pthread_once(&init_once, do_init);
}

__attribute__((constructor)) static void nc_ic_constructor(void)
{
	nc_real_resolve_all();
	nc_ic_init();
}
