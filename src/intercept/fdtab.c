/*
 * fdtab.c — what the intercept knows of the program's fds.
 *
 * A cache indexed by fd number, each entry tagged with the inode it describes: an entry
 * is believed only while fstat(fd) gives the same inode, so a closed-and-reused number,
 * an fd replaced behind our back (dup2 by the program, exec) or a socket inherited from
 * another process is never mistaken. On a miss the fd is examined: a Unix socket whose
 * peer is the service process is asked about (NC_MSG_QUERY, with the fd itself as the
 * proof of holding it); anything else is remembered as a kernel socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intercept.h"

#define FDTAB_SIZE 65536

static struct nc_fdent *fdtab;       /* FDTAB_SIZE entries, mapped on first use */
static pthread_mutex_t fdtab_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t fork_gen;            /* forks seen (see nc_fdent.gen) */

void nc_fd_fork_happened(void)
{
	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED);
}

static struct nc_fdent *slot(int fd)
{
	if (fd < 0 || fd >= FDTAB_SIZE)
		return NULL;
	if (!fdtab) {
		void *p = mmap(NULL, sizeof(struct nc_fdent) * FDTAB_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		__atomic_store_n(&fdtab, (struct nc_fdent *)p, __ATOMIC_RELEASE);
	}
	return &fdtab[fd];
}

void nc_fd_store(int fd, const struct nc_fdent *e)
{
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = slot(fd);
	if (s) {
		*s = *e;
		s->gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fdtab_lock);
}

void nc_fd_forget(int fd)
{
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = slot(fd);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&fdtab_lock);
}

void nc_fd_set_state(int fd, ino_t ino, int state)
{
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = slot(fd);
	if (s && ino && s->ino == ino && s->kind != NC_FD_UNKNOWN && s->kind != NC_FD_KERNEL) {
		s->state = (uint8_t)state;
		s->connect_told |= state == NC_STATE_ESTABLISHED;
	}
	pthread_mutex_unlock(&fdtab_lock);
}

void nc_fd_unfresh(int fd)
{
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE) ? slot(fd) : NULL;
	if (s)
		s->fresh = 0;
	pthread_mutex_unlock(&fdtab_lock);
}

void nc_fd_copy(int from, int to)
{
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *a = slot(from), *b = slot(to);
	if (a && b) {
		a->fresh = 0;   /* two fds: an option set through either is not seen by both */
		*b = *a;
	} else if (b) {
		memset(b, 0, sizeof(*b));
	}
	pthread_mutex_unlock(&fdtab_lock);
}

/* Ask the service what fd is. Returns the kind (NC_KIND_NONE if it is not its). */
static int query(int fd, ino_t ino, struct nc_fdent *e)
{
	struct nc_query_rep rep;
	size_t len = 0;
	int r;

	r = nc_ic_call(NC_MSG_QUERY, NULL, 0, fd, &rep, sizeof(rep), &len, NULL);
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	if (r != 0 || len != sizeof(rep) || rep.kind >= NC_KIND_COUNT) {
		e->kind = NC_FD_KERNEL;
		return NC_KIND_NONE;
	}
	e->kind = rep.kind == NC_KIND_NONE ? NC_FD_KERNEL : (uint8_t)rep.kind;
	e->state = (uint8_t)rep.state;
	/* A socket first seen connected (inherited, passed) was reported by whoever made it. */
	e->connect_told = rep.state == NC_STATE_ESTABLISHED;
	e->local = rep.local;
	e->peer = rep.peer;
	nc_fd_store(fd, e);
	return rep.kind;
}

int nc_fd_refresh(int fd, struct nc_fdent *e)
{
	uint8_t told = e->connect_told;
	int kind = query(fd, e->ino, e);

	if (kind != NC_KIND_NONE) {
		e->connect_told = told;
		nc_fd_store(fd, e);
	}
	return kind;
}

int nc_fd_hint(int fd)
{
	/* No lock: called by every data call of the program. A torn read can only give a
	 * stale kind, which the callers check with nc_fd_kind() before they act on it. */
	struct nc_fdent *t = __atomic_load_n(&fdtab, __ATOMIC_ACQUIRE);
	int kind;

	if (!t || fd < 0 || fd >= FDTAB_SIZE)
		return NC_KIND_NONE;
	kind = __atomic_load_n(&t[fd].kind, __ATOMIC_RELAXED);
	return kind == NC_FD_KERNEL ? NC_KIND_NONE : kind;
}

int nc_fd_known_kernel(int fd, struct nc_fdent *e)
{
	struct stat st;
	int ok = 0;

	if (fd < 0 || fd >= FDTAB_SIZE || !__atomic_load_n(&fdtab, __ATOMIC_ACQUIRE) ||
	    fstat(fd, &st) < 0)
		return 0;
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = slot(fd);
	if (s && s->ino == st.st_ino && s->kind == NC_FD_KERNEL && s->sk_family) {
		*e = *s;
		if (e->gen != __atomic_load_n(&fork_gen, __ATOMIC_RELAXED))
			e->fresh = 0;
		ok = 1;
	}
	pthread_mutex_unlock(&fdtab_lock);
	return ok;
}

int nc_fd_kind(int fd, struct nc_fdent *e)
{
	struct nc_net net;
	struct ucred cred;
	socklen_t l;
	struct stat st;
	int domain = 0;

	memset(e, 0, sizeof(*e));
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return NC_KIND_NONE;
	pthread_mutex_lock(&fdtab_lock);
	struct nc_fdent *s = slot(fd);
	if (s && s->ino == st.st_ino && s->kind != NC_FD_UNKNOWN) {
		*e = *s;
		if (e->gen != __atomic_load_n(&fork_gen, __ATOMIC_RELAXED))
			e->fresh = 0;
		pthread_mutex_unlock(&fdtab_lock);
		return e->kind == NC_FD_KERNEL ? NC_KIND_NONE : e->kind;
	}
	pthread_mutex_unlock(&fdtab_lock);

	e->ino = st.st_ino;
	e->kind = NC_FD_KERNEL;
	l = sizeof(domain);
	if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 || domain != AF_UNIX ||
	    nc_ic_is_own_fd(fd)) {
		nc_fd_store(fd, e);
		return NC_KIND_NONE;
	}
	/* A socketpair end made by the service has the service as its peer. */
	l = sizeof(cred);
	if (NC_REAL(getsockopt)(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0 || cred.pid <= 0 ||
	    cred.pid == getpid())
		return NC_KIND_NONE;   /* not cached: an unconnected socket may connect later */
	nc_ic_net(&net);
	if (!net.reachable)
		return NC_KIND_NONE;
	if ((uint32_t)cred.pid != net.service_pid) {
		nc_fd_store(fd, e);   /* a connected socket keeps its peer */
		return NC_KIND_NONE;
	}
	return query(fd, st.st_ino, e);
}
