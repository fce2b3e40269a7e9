/*
 * epollcarry.c — keep the program's epoll registrations of a socket when nc_ic_replace()
 * puts the virtual fd in its place.
 *
 * epoll remembers a registration by (open file, fd number). A program that adds a socket
 * to an epoll set before it connects it (nginx does this for every upstream connection:
 * socket, ioctl(FIONBIO), epoll_ctl(ADD, EPOLLIN|EPOLLOUT|EPOLLET), connect) would lose
 * the registration when dup3() closes the kernel socket's file, and would then wait for
 * an event that never comes. The kernel shows each epoll set's registrations in
 * /proc/self/fdinfo/EPFD ("tfd: FD events: MASK data: DATA ... ino: INODE"): before the
 * swap we collect those that name this fd and the old socket's inode, and after it we add
 * the new file to the same sets with the same events and data. Which epoll sets to read
 * comes from epoll_ctl() (overridden only to note, per fd, the sets it was added to), so a
 * socket never added to a set costs nothing and one that was costs a read of those sets'
 * fdinfo, whatever the number of fds the process holds. The fdinfo stays the authority:
 * a note left over from a closed fd finds nothing there. epoll itself stays native.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intercept.h"
#include "log.h"

/* Parse one fdinfo line of an epoll fd; 1 if it registers FD with inode INO. */
static int epoll_line(const char *line, int fd, unsigned long ino, struct nc_epreg *r)
{
	int tfd;
	unsigned int events;
	unsigned long long data;
	const char *p;

	if (strncmp(line, "tfd:", 4) != 0)
		return 0;
	if (sscanf(line, "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3 || tfd != fd)
		return 0;
	p = strstr(line, " ino:");
	if (!p || strtoul(p + 5, NULL, 16) != ino)
		return 0;
	r->events = events;
	r->data = data;
	return 1;
}

/* Read /proc/self/fdinfo/EPFD and record its registrations of (FD, INO). */
static int scan_epoll(int epfd, int fd, unsigned long ino, struct nc_epreg *regs, int n, int max)
{
	char path[64], buf[4096];
	size_t have = 0;
	ssize_t got;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return n;
	for (;;) {
		char *nl, *start;

		got = NC_REAL(read)(f, buf + have, sizeof(buf) - 1 - have);
		if (got <= 0)
			break;
		have += (size_t)got;
		buf[have] = 0;
		start = buf;
		while ((nl = strchr(start, '\n')) != NULL) {
			*nl = 0;
			if (n < max && epoll_line(start, fd, ino, &regs[n])) {
				regs[n].epfd = epfd;
				n++;
			}
			start = nl + 1;
		}
		have = (size_t)(buf + have - start);
		memmove(buf, start, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line longer than the buffer: not a registration */
	}
	NC_REAL(close)(f);
	return n;
}

/* Per fd number, the epoll fds it was added to (0: none; stored as epfd + 1). */
#define EPNOTE_FDS  65536
#define EPNOTE_SETS 4
static int (*notes)[EPNOTE_SETS];
static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;

static int (*note_slot(int fd))[EPNOTE_SETS]
{
	if (fd < 0 || fd >= EPNOTE_FDS)
		return NULL;
	if (!notes) {
		void *p = mmap(NULL, sizeof(*notes) * EPNOTE_FDS, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		notes = p;
	}
	return &notes[fd];
}

static void note_add(int epfd, int fd)
{
	pthread_mutex_lock(&notes_lock);
	int (*n)[EPNOTE_SETS] = note_slot(fd);
	if (n) {
		int i, free_i = -1;
		for (i = 0; i < EPNOTE_SETS; i++) {
			if ((*n)[i] == epfd + 1)
				break;
			if (!(*n)[i] && free_i < 0)
				free_i = i;
		}
		if (i == EPNOTE_SETS)
			(*n)[free_i >= 0 ? free_i : EPNOTE_SETS - 1] = epfd + 1;
	}
	pthread_mutex_unlock(&notes_lock);
}

void nc_ic_epoll_forget(int fd)
{
	pthread_mutex_lock(&notes_lock);
	int (*n)[EPNOTE_SETS] = notes ? note_slot(fd) : NULL;
	if (n)
		memset(*n, 0, sizeof(*n));
	pthread_mutex_unlock(&notes_lock);
}

int nc_ic_epoll_find(int fd, struct nc_epreg *regs, int max)
{
	int sets[EPNOTE_SETS], k = 0, n = 0;
	struct stat st;

	pthread_mutex_lock(&notes_lock);
	int (*nt)[EPNOTE_SETS] = notes ? note_slot(fd) : NULL;
	for (int i = 0; nt && i < EPNOTE_SETS; i++)
		if ((*nt)[i])
			sets[k++] = (*nt)[i] - 1;
	pthread_mutex_unlock(&notes_lock);
	if (!k || fstat(fd, &st) < 0)
		return 0;
	for (int i = 0; i < k; i++)
		n = scan_epoll(sets[i], fd, (unsigned long)st.st_ino, regs, n, max);
	return n;
}

/* libc's epoll_ctl, noting the sets fd is added to. */
static int ctl_noted(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r = NC_REAL(epoll_ctl)(epfd, op, fd, ev);

	if (r == 0 && op == EPOLL_CTL_ADD)
		note_add(epfd, fd);
	return r;
}

NC_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return ctl_noted(epfd, op, fd, ev);
}

void nc_ic_epoll_restore(int fd, const struct nc_epreg *regs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = regs[i].events;
		ev.data.u64 = regs[i].data;
		if (ctl_noted(regs[i].epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
		    ctl_noted(regs[i].epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			nc_log(NC_LOG_WARN, "fd %d: could not carry its epoll registration on epfd %d over",
			       fd, regs[i].epfd);
	}
}
