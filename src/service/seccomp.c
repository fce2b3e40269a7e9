/*
 * seccomp.c — the seccomp supervisor: the second door into the service.
 *
 * DOC: Theory of operation
 *
 * A program started with `netcon intercept --mode seccomp` runs under a seccomp filter
 * (common/seccomp_filter.c) that sends its socket *control* calls (connect, bind, listen,
 * accept, accept4, getsockname, getpeername, getsockopt, setsockopt, shutdown, and
 * io_uring_setup), and the data calls that carry an address, to a user-notification
 * listener. The launcher hands that listener to
 * the service (NC_MSG_SECCOMP) and execs the program; this file serves it from the
 * service's one event loop, beside the RPC clients:
 *
 *  - A notification is received (SECCOMP_IOCTL_NOTIF_RECV) when the listener is
 *    readable. The program's fd is copied into the service with pidfd_getfd(): the copy
 *    *is* the name of the socket, looked up by inode exactly as an RPC subject fd is.
 *    Arguments and results move with process_vm_readv/writev (a bad pointer: EFAULT, as
 *    the kernel says).
 *  - The decision is the intercept's: route.c says which addresses are virtual, the
 *    service's own handlers (nc_sock_bind/listen/connect/getopt/setopt) do the work, and
 *    a call that is not ours is handed back to the kernel unchanged
 *    (SECCOMP_USER_NOTIF_FLAG_CONTINUE). socket() is never trapped: a socket is a kernel
 *    one until bind/connect/listen decide, as in preload mode.
 *  - A virtual socket appears in the program with SECCOMP_IOCTL_NOTIF_ADDFD and
 *    SECCOMP_ADDFD_FLAG_SETFD over the program's own fd number (what dup2 does in
 *    preload mode); accept's new fd with SECCOMP_ADDFD_FLAG_SEND, which installs it and
 *    answers the call in one step.
 *  - Nothing here blocks. A blocking connect is answered when its socketpair end becomes
 *    writable (the service keeps it unwritable until the handshake resolves) or hangs
 *    up; a blocking accept when the listener's SOCK_SEQPACKET end becomes readable. Both
 *    wait as epoll registrations of their own (struct sc_wait), so replies go out in any
 *    order and one thread's accept never stalls another's connect.
 *  - Every reply is checked by the kernel against the notification's id; before acting
 *    on a pid (pidfd_open) we ask SECCOMP_IOCTL_NOTIF_ID_VALID, so a recycled pid is
 *    never read from. A waiting call whose thread took a signal (its notification is
 *    gone) is found by a periodic ID_VALID check and dropped.
 *  - When every process under the filter has exited, the listener hangs up and is freed;
 *    when the service stops, closing the listener makes trapped calls fail (ENOSYS).
 *
 * Data calls (read, write, send, recv, epoll, close) are not trapped: the data path is as
 * native as in preload mode. Only those that carry an address are (sendto/recvfrom given
 * one, sendmsg, recvmsg, sendmmsg, recvmmsg), for UDP's datagrams: seccomp_data.c serves
 * them on virtual UDP sockets and hands the rest back. A data call that would block
 * (SC_BLOCK_IN/OUT) waits as an epoll registration on our copy of the program's fd and is
 * served again when that is ready.
 */
#include "seccomp.h"

uint64_t sc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned sc_ino_flags(struct nc_service *svc, ino_t ino)
{
	struct sc_ino *e = &svc->seccomp->inos[ino % SC_INOS];

	return e->ino == ino ? e->flags : 0;
}

void sc_ino_mark(struct nc_service *svc, ino_t ino, unsigned set, unsigned clear)
{
	struct sc_ino *e = &svc->seccomp->inos[ino % SC_INOS];

	if (e->ino != ino) {
		e->ino = ino;
		e->flags = 0;
	}
	e->flags = (e->flags | set) & ~clear;
}

void sc_fd_mark(struct nc_service *svc, int fd, unsigned set)
{
	struct stat st;

	if (fstat(fd, &st) == 0)
		sc_ino_mark(svc, st.st_ino, set, 0);
}

static struct nc_seccomp *sc_get(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;

	if (sc)
		return sc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sc->sizes) < 0) {
		free(sc);
		return NULL;
	}
	/* The kernel's structs may be larger than ours: buffers of the larger size. */
	if (sc->sizes.seccomp_notif < sizeof(struct seccomp_notif))
		sc->sizes.seccomp_notif = sizeof(struct seccomp_notif);
	if (sc->sizes.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		sc->sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	sc->req = calloc(1, sc->sizes.seccomp_notif);
	sc->resp = calloc(1, sc->sizes.seccomp_notif_resp);
	if (!sc->req || !sc->resp) {
		free(sc->req);
		free(sc->resp);
		free(sc);
		return NULL;
	}
	svc->seccomp = sc;
	return sc;
}

/* ---------------------------------------------------------------------------------------
 * Replies */

/* Answer notification id: val/err (err a negative errno, or 0), or CONTINUE. A call whose
 * thread is gone (ENOENT) needs no answer. */
static void sc_send(struct nc_service *svc, struct sc_prog *p, uint64_t id, int64_t val,
		    int err, int cont)
{
	struct nc_seccomp *sc = svc->seccomp;
	struct seccomp_notif_resp *r = sc->resp;

	memset(r, 0, sc->sizes.seccomp_notif_resp);
	r->id = id;
	if (cont) {
		r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		sc->continued++;
	} else if (err) {
		r->error = err;
	} else {
		r->val = val;
	}
	if (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_SEND, r) < 0 && errno != ENOENT)
		nc_log_ratelimited(NC_LOG_WARN, "seccomp: cannot answer pid %d's call: %s",
				   (int)p->pid, strerror(errno));
}

/* Answer with a handler's result (>= 0, a negative errno, or SC_CONTINUE). */
static void sc_answer(struct nc_service *svc, struct sc_prog *p, uint64_t id, int r)
{
	if (r == SC_ANSWERED)
		return;
	if (r == SC_CONTINUE)
		sc_send(svc, p, id, 0, 0, 1);
	else if (r < 0)
		sc_send(svc, p, id, 0, r, 0);
	else
		sc_send(svc, p, id, r, 0, 0);
}

static int id_valid(struct sc_prog *p, uint64_t id)
{
	return ioctl(p->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---------------------------------------------------------------------------------------
 * The program's memory and fds */

int sc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	return -errno;
}

int sc_mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec l = { .iov_base = (void *)buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	return -errno;
}

/* A pidfd for the thread that made the call (any thread of the process will do for
 * pidfd_getfd: they share one fd table). -errno on failure. */
static int open_pidfd(pid_t tid)
{
	char path[64], line[128];
	int fd = (int)syscall(SYS_pidfd_open, tid, 0);
	FILE *f;

	if (fd >= 0)
		return fd;
	/* Not a thread-group leader (EINVAL, or ENOENT on recent kernels): a thread pidfd
	 * (Linux 6.9), else the leader's. */
	fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		int tgid;
		if (sscanf(line, "Tgid: %d", &tgid) == 1) {
			fclose(f);
			fd = (int)syscall(SYS_pidfd_open, tgid, 0);
			return fd >= 0 ? fd : -errno;
		}
	}
	fclose(f);
	return -ESRCH;
}

/*
 * get_fd() - copy the calling process's fd `num` into the service. The notification is
 * checked to be still valid after the pidfd is opened, so the pid named the caller.
 * Returns our fd, or -EBADF (no such fd: the kernel's answer), -ENOENT (the call is gone)
 * or another negative errno.
 */
static int get_fd(struct sc_prog *p, const struct seccomp_notif *n, int num)
{
	int pidfd, fd, e;

	if (num < 0)
		return -EBADF;
	pidfd = open_pidfd((pid_t)n->pid);
	if (pidfd < 0)
		return pidfd == -ESRCH ? -ENOENT : pidfd;
	if (!id_valid(p, n->id)) {
		close(pidfd);
		return -ENOENT;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	e = errno;
	close(pidfd);
	if (fd < 0)
		return e == EBADF ? -EBADF : -e;
	return fd;
}

/* Is the program's fd `num` close-on-exec? (Its fdinfo flags carry O_CLOEXEC.) */
int sc_fd_cloexec(pid_t pid, int num)
{
	char path[64], line[128];
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, num);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(f);
	return (flags & O_CLOEXEC) ? 1 : 0;
}
/* ---------------------------------------------------------------------------------------
 * Waiting calls */

static void wait_free(struct nc_service *svc, struct sc_wait *w)
{
	struct sc_prog *p = w->p;

	nc_epoll_del(svc, w->fd);
	close(w->fd);
	w->fd = -1;
	if (w->prev)
		w->prev->next = w->next;
	else
		p->waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->dead = 1;
	w->p = NULL;
	w->next = svc->seccomp->dead;
	svc->seccomp->dead = w;
}

/* Wait for fd (ours, taken over) to report `events`; the call is answered then. */
int sc_wait_start(struct sc_call *c, int op, int fd, uint32_t events, struct sc_wait **out)
{
	struct sc_wait *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->h.type = NC_H_SECCOMP_WAIT;
	w->p = c->p;
	w->id = c->n->id;
	w->op = op;
	w->fd = fd;
	w->pid = (pid_t)c->n->pid;
	if (nc_epoll_add(c->svc, fd, events, &w->h) < 0) {
		free(w);
		return -ENOMEM;
	}
	w->next = c->p->waits;
	if (w->next)
		w->next->prev = w;
	c->p->waits = w;
	c->svc->seccomp->waited++;
	if (out)
		*out = w;
	return 0;
}

/* The outcome of a connect whose end fd (inode ino) became writable or hung up. */
int sc_connect_outcome(struct nc_service *svc, int fd, ino_t ino, uint32_t events)
{
	uint32_t l = sizeof(int);
	int err = 0, kerr = 0;
	socklen_t kl = sizeof(kerr);

	if (!(events & (EPOLLERR | EPOLLHUP)))
		return 0;
	nc_sock_getopt(svc, nc_sock_lookup(svc, ino), ino, SOL_SOCKET, SO_ERROR, &err, &l);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);   /* the end's own: cleared */
	return -(err ? err : kerr ? kerr : ECONNREFUSED);
}

/* Would a call with these MSG_* flags block on fd (ours, the program's open file)? */
int sc_blocking(int fd, int flags)
{
	int fl = fcntl(fd, F_GETFL);

	return !(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK);
}

/* Fill in what a call names: the socket behind c->fd (ours) and whether it is over. */
static void call_lookup(struct sc_call *c)
{
	c->s = nc_sock_lookup(c->svc, c->ino);
	/* A virtual socket that is over: its end is still the program's. Inode numbers are
	 * reused, so a remembered one counts only for a Unix socket (ours are). */
	c->closed = !c->s && (nc_tombstone_get(c->svc, c->ino, 0) != 0 ||
			      ((sc_ino_flags(c->svc, c->ino) & SC_INO_VIRTUAL) &&
			       sc_is_unix(c->fd)));
}

static int call_dispatch(struct sc_call *c)
{
	const struct seccomp_notif *n = c->n;
	int r;

	c->svc->cur_user = nc_user_get(c->svc, c->p->uid);
	c->svc->cur_pid = (pid_t)n->pid;
	switch (n->data.nr) {
	case SYS_bind: r = sc_bind(c); break;
	case SYS_listen: r = sc_listen(c); break;
	case SYS_connect: r = sc_connect(c); break;
	case SYS_accept: r = sc_accept(c, 0); break;
	case SYS_accept4: r = sc_accept(c, (int)n->data.args[3]); break;
	case SYS_getsockname: r = sc_getname(c, 0); break;
	case SYS_getpeername: r = sc_getname(c, 1); break;
	case SYS_getsockopt: r = sc_getsockopt(c); break;
	case SYS_setsockopt: r = sc_setsockopt(c); break;
	case SYS_shutdown: r = sc_shutdown(c); break;
	case SYS_sendto: r = sc_sendto(c); break;
	case SYS_sendmsg: r = sc_sendmsg(c); break;
	case SYS_sendmmsg: r = sc_sendmmsg(c); break;
	case SYS_recvfrom: r = sc_recvfrom(c); break;
	case SYS_recvmsg: r = sc_recvmsg(c); break;
	case SYS_recvmmsg: r = sc_recvmmsg(c); break;
	default: r = SC_CONTINUE; break;
	}
	c->svc->cur_user = NULL;
	c->svc->cur_pid = 0;
	return r;
}

/*
 * block() - a data call would block (SC_BLOCK_IN/OUT): it waits, owning our copy of the
 * program's fd, until that is readable or writable, and is then served again
 * (wait_event); SO_RCVTIMEO/SO_SNDTIMEO end it with EAGAIN, as on Linux.
 */
static int block(struct sc_call *c, int r)
{
	struct sc_wait *w;
	struct timeval tv;
	socklen_t tl = sizeof(tv);
	int in = r == SC_BLOCK_IN;
	int e = sc_wait_start(c, SC_WAIT_DATA, c->fd, in ? EPOLLIN : EPOLLOUT, &w);

	if (e < 0)
		return e;
	w->ino = c->ino;
	w->n = *c->n;
	if (getsockopt(c->fd, SOL_SOCKET, in ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, &tl) == 0 &&
	    (tv.tv_sec || tv.tv_usec))
		w->deadline = sc_now_ms() + (uint64_t)tv.tv_sec * 1000 +
			      (uint64_t)(tv.tv_usec + 999) / 1000;
	c->fd = -1;   /* the wait owns it */
	return SC_ANSWERED;
}

/* Serve one notification. */
static void serve(struct nc_service *svc, struct sc_prog *p, const struct seccomp_notif *n)
{
	struct sc_call c = { .svc = svc, .p = p, .n = n, .fd = -1 };
	struct stat st;
	int r, nr = n->data.nr;

	if (n->data.arch != AUDIT_ARCH_X86_64) {
		sc_send(svc, p, n->id, 0, -ENOSYS, 0);
		return;
	}
	if (nr == SYS_io_uring_setup) {
		if (!p->uring_logged)
			nc_warn("seccomp: pid %d: io_uring_setup fails with ENOSYS in seccomp mode "
				"(its socket calls would escape the filter)", (int)n->pid);
		p->uring_logged = 1;
		sc_send(svc, p, n->id, 0, -ENOSYS, 0);
		return;
	}
	r = get_fd(p, n, (int)n->data.args[0]);
	if (r == -ENOENT)
		return;   /* the caller is gone */
	if (r < 0) {
		/* Fail closed: a call we cannot inspect must not go to the kernel. */
		if (r != -EBADF)
			nc_log_ratelimited(NC_LOG_WARN, "seccomp: cannot read pid %d's fd %d (%s): "
					   "the call fails (the service needs ptrace rights over "
					   "the program: same user, Yama ptrace_scope 0)", (int)n->pid,
					   (int)n->data.args[0], strerror(-r));
		sc_answer(svc, p, n->id, r);
		return;
	}
	c.fd = r;
	if (fstat(c.fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(c.fd);
		sc_answer(svc, p, n->id, SC_CONTINUE);   /* the kernel says ENOTSOCK */
		return;
	}
	c.ino = st.st_ino;
	call_lookup(&c);
	r = call_dispatch(&c);
	if (r == SC_BLOCK_IN || r == SC_BLOCK_OUT)
		r = block(&c, r);
	nc_debug("seccomp: pid %d: call %d on fd %d (%s): %s", (int)n->pid, nr,
		 (int)n->data.args[0], c.s ? "virtual" : c.closed ? "closed" : "kernel",
		 r == SC_CONTINUE ? "continue" : r == SC_ANSWERED ? "answered or waiting" :
		 r < 0 ? strerror(-r) : "ok");
	if (c.fd >= 0)
		close(c.fd);
	if (r == -ENOENT && !id_valid(p, n->id))
		return;   /* ADDFD found the call gone */
	sc_answer(svc, p, n->id, r);
}

/* ---------------------------------------------------------------------------------------
 * Programs */

static void prog_free(struct nc_service *svc, struct sc_prog *p)
{
	struct nc_seccomp *sc = svc->seccomp;

	while (p->waits)
		wait_free(svc, p->waits);
	nc_epoll_del(svc, p->fd);
	close(p->fd);
	if (p->prev)
		p->prev->next = p->next;
	else
		sc->progs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	sc->nprogs--;
	nc_debug("seccomp: program of pid %d is gone", (int)p->pid);
	free(p);
}

int nc_seccomp_adopt(struct nc_service *svc, int fd, pid_t pid, uid_t uid)
{
	struct nc_seccomp *sc = sc_get(svc);
	uint64_t id0 = 0;
	struct sc_prog *p;
	int nfd;

	if (!sc)
		return -ENOSYS;
	if (sc->nprogs >= NC_MAX_CLIENTS)
		return -EMFILE;
	/* A seccomp listener answers ID_VALID for an unknown id with ENOENT; anything else
	 * (a socket, a pipe) is not one. */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id0) == 0 || errno != ENOENT)
		return -EBADF;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(nfd);
		return -ENOMEM;
	}
	p->h.type = NC_H_SECCOMP;
	p->fd = nfd;
	p->pid = pid;
	p->uid = uid;
	if (nc_epoll_add(svc, nfd, EPOLLIN, &p->h) < 0) {
		close(nfd);
		free(p);
		return -ENOMEM;
	}
	p->next = sc->progs;
	if (p->next)
		p->next->prev = p;
	sc->progs = p;
	sc->nprogs++;
	nc_info("seccomp: serving the program of pid %d (uid %d)", (int)pid, (int)uid);
	return 0;
}

static void prog_event(struct nc_service *svc, struct sc_prog *p, uint32_t events)
{
	struct nc_seccomp *sc = svc->seccomp;

	for (int i = 0; i < SC_BATCH && (events & EPOLLIN); i++) {
		struct pollfd pf = { .fd = p->fd, .events = POLLIN };

		/* RECV blocks when nothing waits: ask first (the first time epoll said so). */
		if (i > 0 && (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN)))
			break;
		memset(sc->req, 0, sc->sizes.seccomp_notif);
		if (ioctl(p->fd, SECCOMP_IOCTL_NOTIF_RECV, sc->req) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue;   /* the caller was killed or interrupted meanwhile */
			nc_warn("seccomp: receiving pid %d's call: %s", (int)p->pid, strerror(errno));
			break;
		}
		sc->notifs++;
		serve(svc, p, sc->req);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		struct pollfd pf = { .fd = p->fd, .events = POLLIN };
		if (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN))
			prog_free(svc, p);   /* every process under the filter has exited */
	}
}

static void wait_event(struct nc_service *svc, struct sc_wait *w, uint32_t events)
{
	struct sc_prog *p = w->p;
	int r;

	if (w->dead)
		return;   /* finished earlier in this batch */
	if (w->op == SC_WAIT_DATA) {
		struct sc_call c = { .svc = svc, .p = p, .n = &w->n, .fd = w->fd, .ino = w->ino };

		if (!id_valid(p, w->id)) {
			wait_free(svc, w);   /* a signal interrupted the call */
			return;
		}
		call_lookup(&c);
		r = call_dispatch(&c);
		if (r == SC_BLOCK_IN || r == SC_BLOCK_OUT)
			return;   /* another thread took it first: wait on */
		sc_answer(svc, p, w->id, r);
		wait_free(svc, w);
		return;
	}
	if (w->op == SC_WAIT_CONNECT) {
		r = sc_connect_outcome(svc, w->fd, w->ino, events);
		if (r == 0)
			sc_ino_mark(svc, w->ino, SC_INO_TOLD, SC_INO_UNTOLD);
		sc_answer(svc, p, w->id, r);
		wait_free(svc, w);
		return;
	}
	r = sc_accept_try(svc, p, w->id, w->pid, w->fd, w->addr, w->addrlen, w->flags);
	if (r == -EAGAIN) {
		if (!id_valid(p, w->id))
			wait_free(svc, w);   /* interrupted; another thread took the connection */
		return;
	}
	sc_answer(svc, p, w->id, r);
	wait_free(svc, w);
}

void nc_seccomp_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	if (h->type == NC_H_SECCOMP)
		prog_event(svc, (struct sc_prog *)h, events);
	else
		wait_event(svc, (struct sc_wait *)h, events);
}

void nc_seccomp_poll(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;
	uint64_t now;

	int check;

	if (!sc)
		return;
	while (sc->dead) {
		struct sc_wait *w = sc->dead;
		sc->dead = w->next;
		free(w);
	}
	if (!sc->progs)
		return;
	now = sc_now_ms();
	check = now >= sc->next_check;
	if (check)
		sc->next_check = now + SC_CHECK_MS;
	for (struct sc_prog *p = sc->progs; p; p = p->next) {
		struct sc_wait *w = p->waits, *next;
		for (; w; w = next) {
			next = w->next;
			if (w->deadline && now >= w->deadline && w->op == SC_WAIT_DATA) {
				/* SO_RCVTIMEO/SO_SNDTIMEO ran out. */
				sc_send(svc, p, w->id, 0, -EAGAIN, 0);
				wait_free(svc, w);
			} else if (w->deadline && now >= w->deadline) {
				/* SO_SNDTIMEO ran out: the connect goes on, the call ends. */
				sc_ino_mark(svc, w->ino, SC_INO_UNTOLD, 0);
				sc_send(svc, p, w->id, 0, -EINPROGRESS, 0);
				wait_free(svc, w);
			} else if (check && !id_valid(p, w->id)) {
				wait_free(svc, w);   /* a signal interrupted the call */
			}
		}
	}
}

int nc_seccomp_timeout_ms(struct nc_service *svc, int timeout)
{
	struct nc_seccomp *sc = svc->seccomp;
	uint64_t now;

	if (!sc)
		return timeout;
	now = sc_now_ms();
	for (struct sc_prog *p = sc->progs; p; p = p->next) {
		for (struct sc_wait *w = p->waits; w; w = w->next) {
			int t = SC_CHECK_MS;
			if (w->deadline)
				t = w->deadline > now ? (int)(w->deadline - now) : 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
	}
	return timeout;
}

size_t nc_seccomp_status(struct nc_service *svc, char *buf, size_t len)
{
	struct nc_seccomp *sc = svc->seccomp;
	int n;

	if (len == 0)
		return 0;
	if (!sc)
		n = snprintf(buf, len, "seccomp: 0 programs\n");
	else
		n = snprintf(buf, len, "seccomp: %d programs, %llu calls trapped, %llu continued, "
			     "%llu waited\n", sc->nprogs, (unsigned long long)sc->notifs,
			     (unsigned long long)sc->continued, (unsigned long long)sc->waited);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void nc_seccomp_close_all(struct nc_service *svc)
{
	struct nc_seccomp *sc = svc->seccomp;

	if (!sc)
		return;
	while (sc->progs)
		prog_free(svc, sc->progs);
	nc_seccomp_poll(svc);   /* frees the finished waits */
	free(sc->req);
	free(sc->resp);
	free(sc);
	svc->seccomp = NULL;
}
