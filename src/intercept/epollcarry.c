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
 * the new file to the same sets with the same events and data. Only the epoll fds among
 * the process's fds are read; epoll itself stays native.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

		got = read(f, buf + have, sizeof(buf) - 1 - have);
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
	nc_real.close(f);
	return n;
}

int nc_ic_epoll_find(int fd, struct nc_epreg *regs, int max)
{
	char dbuf[4096], link[64];
	struct stat st;
	int dfd, n = 0;
	long got;

	if (fstat(fd, &st) < 0)
		return 0;
	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	while ((got = getdents64(dfd, dbuf, sizeof(dbuf))) > 0) {
		long off = 0;

		while (off < got) {
			struct dirent64 *d = (struct dirent64 *)(dbuf + off);
			ssize_t l;
			int epfd;

			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			epfd = atoi(d->d_name);
			if (epfd == dfd || epfd == fd)
				continue;
			l = readlinkat(dfd, d->d_name, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			if (strcmp(link, "anon_inode:[eventpoll]") != 0)
				continue;
			n = scan_epoll(epfd, fd, (unsigned long)st.st_ino, regs, n, max);
		}
	}
	nc_real.close(dfd);
	return n;
}

void nc_ic_epoll_restore(int fd, const struct nc_epreg *regs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = regs[i].events;
		ev.data.u64 = regs[i].data;
		if (epoll_ctl(regs[i].epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
		    epoll_ctl(regs[i].epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			nc_log(NC_LOG_WARN, "fd %d: could not carry its epoll registration on epfd %d over",
			       fd, regs[i].epfd);
	}
}
