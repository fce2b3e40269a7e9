/*
 * seccomp_filter.h — the filter of seccomp mode: which system calls go to the service.
 *
 * Used by the launcher (`netcon intercept --mode seccomp`; later a static launcher for
 * containers). The service's side is src/service/seccomp.c.
 */
#ifndef NETCON_SECCOMP_FILTER_H
#define NETCON_SECCOMP_FILTER_H

/*
 * nc_seccomp_filter_install() - set PR_SET_NO_NEW_PRIVS and install the filter with a
 * user-notification listener. From then on the calling thread's (and its children's,
 * across exec) socket control calls wait for whoever holds the listener. Returns the
 * listener fd (close-on-exec), or a negative errno with a one-line reason in why.
 */
int nc_seccomp_filter_install(const char **why);

#endif /* NETCON_SECCOMP_FILTER_H */
