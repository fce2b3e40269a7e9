/*
 * real.h — the C library's versions of the calls the intercept overrides: the one way
 * the library reaches them. Call NC_REAL(name)(args...), never the function by name
 * (by name it would reach our own override again).
 *
 * Theory of operation. NC_REAL_LIST names each function once, with its type. The table
 * is filled with dlsym(RTLD_NEXT) — the next definition after ours, libc's — by
 * nc_real_resolve_all(), which init.c's constructor calls when the library is loaded,
 * before the program's main() and before it can install a signal handler that might
 * call us. A call that arrives earlier (another library's constructor) finds its entry
 * empty and resolves that one entry itself. Entries are read and written with atomic
 * loads and stores, no lock and no malloc: two threads resolving the same entry at once
 * store the same pointer, and a signal handler that interrupts a resolution merely
 * resolves again. dlsym itself takes the dynamic loader's lock, so only that early path,
 * before the constructor, is not async-signal safe; after it, NC_REAL() is one load.
 *
 * dlsym calls none of the functions we override (it reads the loaded objects' symbol
 * tables in memory), so resolving cannot recurse into the library. A name libc does not
 * have (close_range before glibc 2.34) stays NULL and is looked up again on each use.
 *
 * Symbol versions: dlsym() returns a symbol's default version (the one a program linked
 * today uses). Every function of the list has a single version in x86-64 and arm64 glibc,
 * so no entry needs dlvsym(); where an architecture keeps compatibility versions (i386's
 * gethostbyname_r), the default is still the right one, since our override stands for
 * the default.
 */
#ifndef NETCON_INTERCEPT_REAL_H
#define NETCON_INTERCEPT_REAL_H

#include <netdb.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* X(return type, name, parameter types) for every function we override and call. */
#define NC_REAL_LIST(X) \
	X(int, socket, (int, int, int)) \
	X(int, connect, (int, const struct sockaddr *, socklen_t)) \
	X(int, bind, (int, const struct sockaddr *, socklen_t)) \
	X(int, listen, (int, int)) \
	X(int, accept, (int, struct sockaddr *, socklen_t *)) \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int)) \
	X(int, getsockname, (int, struct sockaddr *, socklen_t *)) \
	X(int, getpeername, (int, struct sockaddr *, socklen_t *)) \
	X(int, getsockopt, (int, int, int, void *, socklen_t *)) \
	X(int, setsockopt, (int, int, int, const void *, socklen_t)) \
	X(int, shutdown, (int, int)) \
	X(int, close, (int)) \
	X(int, dup, (int)) \
	X(int, dup2, (int, int)) \
	X(int, dup3, (int, int, int)) \
	X(int, fcntl, (int, int, ...)) \
	X(int, ioctl, (int, unsigned long, ...)) \
	X(int, close_range, (unsigned int, unsigned int, int)) \
	X(long, syscall, (long, ...)) \
	X(int, epoll_ctl, (int, int, int, struct epoll_event *)) \
	X(ssize_t, read, (int, void *, size_t)) \
	X(ssize_t, readv, (int, const struct iovec *, int)) \
	X(ssize_t, write, (int, const void *, size_t)) \
	X(ssize_t, writev, (int, const struct iovec *, int)) \
	X(ssize_t, recv, (int, void *, size_t, int)) \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *)) \
	X(ssize_t, recvmsg, (int, struct msghdr *, int)) \
	X(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int, struct timespec *)) \
	X(ssize_t, send, (int, const void *, size_t, int)) \
	X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int)) \
	X(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int)) \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t)) \
	X(ssize_t, __recv_chk, (int, void *, size_t, size_t, int)) \
	X(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int, struct sockaddr *, \
				    socklen_t *)) \
	X(int, getaddrinfo, (const char *, const char *, const struct addrinfo *, \
			     struct addrinfo **)) \
	X(void, freeaddrinfo, (struct addrinfo *)) \
	X(int, getnameinfo, (const struct sockaddr *, socklen_t, char *, socklen_t, char *, \
			     socklen_t, int)) \
	X(struct hostent *, gethostbyname, (const char *)) \
	X(struct hostent *, gethostbyname2, (const char *, int)) \
	X(int, gethostbyname_r, (const char *, struct hostent *, char *, size_t, \
				 struct hostent **, int *)) \
	X(int, gethostbyname2_r, (const char *, int, struct hostent *, char *, size_t, \
				  struct hostent **, int *)) \
	X(struct hostent *, gethostbyaddr, (const void *, socklen_t, int)) \
	X(int, gethostbyaddr_r, (const void *, socklen_t, int, struct hostent *, char *, \
				 size_t, struct hostent **, int *))

#define NC_REAL_ENUM(ret, name, args) NC_REAL_##name,
enum nc_real_fn { NC_REAL_LIST(NC_REAL_ENUM) NC_REAL_COUNT };
#undef NC_REAL_ENUM

#define NC_REAL_TYPE(ret, name, args) typedef ret (*nc_real_##name##_fn) args;
NC_REAL_LIST(NC_REAL_TYPE)
#undef NC_REAL_TYPE

/* The table (real.c); use NC_REAL(), not the table. */
extern void *nc_real_tab[NC_REAL_COUNT];

/* Look entry i up with dlsym(RTLD_NEXT) and store it; returns it (NULL if libc lacks it). */
void *nc_real_resolve(enum nc_real_fn i);
/* Fill the whole table (init.c's constructor). */
void nc_real_resolve_all(void);

static inline void *nc_real_get(enum nc_real_fn i)
{
	void *f = __atomic_load_n(&nc_real_tab[i], __ATOMIC_ACQUIRE);

	return __builtin_expect(f != NULL, 1) ? f : nc_real_resolve(i);
}

/* libc's function `name`, typed: NC_REAL(close)(fd). */
#define NC_REAL(name) ((nc_real_##name##_fn)nc_real_get(NC_REAL_##name))

#endif /* NETCON_INTERCEPT_REAL_H */
