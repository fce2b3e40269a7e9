/*
 * real.c — the table of the C library's functions behind NC_REAL() (see real.h for the
 * theory: filled once at load, an entry resolved on first use before that, atomically).
 */
#include <dlfcn.h>

#include "real.h"

void *nc_real_tab[NC_REAL_COUNT];

#define NC_REAL_NAME(ret, name, args) #name,
static const char *const real_names[NC_REAL_COUNT] = { NC_REAL_LIST(NC_REAL_NAME) };
#undef NC_REAL_NAME

void *nc_real_resolve(enum nc_real_fn i)
{
	void *f = dlsym(RTLD_NEXT, real_names[i]);

	if (f)
		__atomic_store_n(&nc_real_tab[i], f, __ATOMIC_RELEASE);
	return f;
}

void nc_real_resolve_all(void)
{
	for (int i = 0; i < NC_REAL_COUNT; i++)
		if (!__atomic_load_n(&nc_real_tab[i], __ATOMIC_ACQUIRE))
			nc_real_resolve((enum nc_real_fn)i);
}
