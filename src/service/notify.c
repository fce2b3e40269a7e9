/*
 * notify.c — readiness for systemd (Type=notify) without libsystemd.
 *
 * systemd passes $NOTIFY_SOCKET, the path of a datagram socket (a leading '@' names one
 * in the abstract namespace), and waits for "READY=1" before it counts the service
 * started: units that order themselves after ours then find the control socket in place.
 * The protocol is one datagram of newline-separated VARIABLE=VALUE lines
 * (sd_notify(3)); this file sends it itself. We send READY=1 with MAINPID and a STATUS
 * line once the control socket listens, and STOPPING=1 when a stop begins. Without
 * $NOTIFY_SOCKET nothing is sent; a failure to send is not an error of the service (a
 * manager that went away cannot be told), only logged at debug level.
 */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Send msg to $NOTIFY_SOCKET. 0 (also when there is none), or a negative errno. */
int nc_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd, r = 0;

	if (!path || !*path)
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		nc_debug("sd_notify to %s: %s", path, strerror(-r));
	return r;
}
