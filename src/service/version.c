/*
 * version.c — what `netcon --version` says about the stack inside: lwIP's own version
 * (from the headers this binary was built with), the Debian source package it came from
 * (scripts/fetch-lwip.sh), and our patch series (lwip/patches/, docs/lwip-patches.md) by
 * name with a digest of the patches' names and contents, computed as fetch-lwip.sh
 * computes the one it keeps in the tree's .netcon-verified. The Makefile passes the
 * series in; a build without it (the fuzzers) says "unknown".
 */
#include "service/config.h"

#include <stdio.h>

#include "lwip/init.h"
#include "netcon/version.h"

#ifndef NC_LWIP_DEB_VERSION
#define NC_LWIP_DEB_VERSION "unknown"
#endif
#ifndef NC_LWIP_SERIES
#define NC_LWIP_SERIES "unknown"
#endif
#ifndef NC_LWIP_SERIES_SUM
#define NC_LWIP_SERIES_SUM "unknown"
#endif

void nc_version_print(FILE *f)
{
	fprintf(f, "netcon %s\n", NETCON_VERSION);
	fprintf(f, "lwIP %s (Debian source package lwip %s)\n", LWIP_VERSION_STRING,
		NC_LWIP_DEB_VERSION);
	fprintf(f, "lwIP patches: %s (sha256 %s)\n", NC_LWIP_SERIES, NC_LWIP_SERIES_SUM);
}
