/*
 * uapi.c — WireGuard's UAPI socket for --link wireguard: the stream socket
 * /var/run/wireguard/NAME.sock (NAME from --wg-name, default wg0) on which wireguard-go
 * serves the cross-platform configuration protocol, so that Debian's wg(8) — `wg show`,
 * `wg set`, `wg setconf`, `wg syncconf` — drives the service unchanged.
 *
 * Where: root's service in /var/run/wireguard (the only place wg(8) looks; the directory
 * made 0755 as wireguard-go makes it); another user's in $XDG_RUNTIME_DIR/wireguard, or
 * none without XDG_RUNTIME_DIR. The socket is 0600, its owner's alone (a client of
 * another uid that could reach it anyway is refused by SO_PEERCRED), since it hands out
 * the private key and takes new peers. It is bound under a temporary name and moved into
 * place once it listens (nc_unix_listen(), as the control socket): wg(8) removes a
 * socket that refuses connections. A live socket there — another interface of that
 * name — stops the start with one line; a stale one of ours is replaced; the socket goes
 * at exit.
 *
 * Serving never blocks the loop: at most UAPI_CLIENTS clients, each with its own
 * buffers; a request is handled once it is whole (its blank line read, or the client
 * shut its side down), at most NC_WG_UAPI_MAX_REQ bytes; the answer is written as the
 * client reads it, and no more is read from a client while its answer waits. A set is
 * parsed whole (wguapi.c) and only then applied (wireguard.c): a bad line changes
 * nothing. Errors are answered errno=-N as wireguard-go answers them (-EINVAL for a bad
 * or unknown key, -EPROTO for a line without '=', -EMSGSIZE for an over-long line or
 * request, -EADDRINUSE for a listen_port taken) and logged as one line; an unknown
 * operation is answered errno=-EINVAL and the connection closed.
 */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/link.h"
#include "link/wguapi.h"
#include "log.h"

#define UAPI_CLIENTS 16

struct uapi_client {
	struct nc_handler h;         /* first: the epoll cookie */
	struct nc_uapi *u;
	int fd;
	char *in;                    /* NC_WG_UAPI_MAX_REQ bytes */
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	int eof, closing;            /* the client shut down; close once out is written */
	struct uapi_client *next;
};

struct nc_uapi {
	struct nc_handler h;         /* first: the listening socket's cookie */
	int fd;
	char path[NC_SOCKET_PATH_MAX], tmp[NC_SOCKET_PATH_MAX];
	dev_t dev;
	ino_t ino;
	struct uapi_client *clients;
	int nclients;
	uint64_t gets, sets, errors, refused;
};

const char *nc_uapi_path(struct nc_service *svc)
{
	return svc->uapi ? svc->uapi->path : NULL;
}

/* The socket's directory: 0 with it in buf, or -ENOENT when this user has none. */
static int uapi_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		snprintf(buf, len, "/var/run/wireguard");
	else if (x && *x)
		snprintf(buf, len, "%s/wireguard", x);
	else
		return -ENOENT;
	return 0;
}

int nc_uapi_open(struct nc_service *svc, char *err, size_t errlen)
{
	const char *name = svc->cfg.wg_name[0] ? svc->cfg.wg_name : "wg0";
	struct nc_uapi *u;
	char dir[NC_SOCKET_PATH_MAX - 32];
	int fd;

	if (svc->cfg.link_kind != NC_LINKKIND_WIREGUARD)
		return 0;
	if (uapi_dir(dir, sizeof(dir)) < 0) {
		nc_info("wireguard: no UAPI socket (not root and no XDG_RUNTIME_DIR)");
		return 0;
	}
	if (mkdir(dir, 0755) == 0) {
		(void)chmod(dir, 0755);   /* whatever the umask: as wireguard-go makes it */
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s for the WireGuard UAPI socket: %s", dir,
			 strerror(errno));
		return -errno;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(u->path, sizeof(u->path), "%s/%s.sock", dir, name);
	fd = nc_unix_listen(u->path, SOCK_STREAM, 0600, (gid_t)-1, "the WireGuard UAPI socket",
			    "%s is in use: a WireGuard interface of that name is running "
			    "(give another --wg-name)", u->tmp, &u->dev, &u->ino, err, errlen);
	if (fd < 0) {
		free(u);
		return fd;
	}
	u->fd = fd;
	u->h.type = NC_H_UAPI;
	svc->uapi = u;
	if (nc_epoll_add(svc, fd, EPOLLIN, &u->h) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -errno;
	}
	nc_info("wireguard: UAPI socket %s", u->path);
	return 0;
}

static void client_free(struct nc_service *svc, struct uapi_client *c)
{
	struct nc_uapi *u = c->u;

	for (struct uapi_client **pp = &u->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	u->nclients--;
	nc_epoll_del(svc, c->fd);
	close(c->fd);
	free(c->in);
	if (c->out)
		memset(c->out, 0, c->out_len);   /* it may hold the private key */
	free(c->out);
	free(c);
}

void nc_uapi_close(struct nc_service *svc)
{
	struct nc_uapi *u = svc->uapi;

	if (!u)
		return;
	while (u->clients)
		client_free(svc, u->clients);
	close(u->fd);
	nc_unix_unlink(u->path, u->dev, u->ino, "our WireGuard UAPI socket");
	free(u);
	svc->uapi = NULL;
}

static void answer(struct uapi_client *c, char *text, size_t len)
{
	if (c->out) {
		memset(c->out, 0, c->out_len);
		free(c->out);
	}
	c->out = text;
	c->out_len = len;
	c->out_off = 0;
}

static void answer_errno(struct uapi_client *c, int r)
{
	char *t = malloc(32);

	if (!t) {
		c->closing = 1;
		return;
	}
	answer(c, t, (size_t)snprintf(t, 32, "errno=%d\n\n", r));
}

/* One whole request (its blank line excluded): the answer goes to c->out. */
static void handle(struct nc_service *svc, struct uapi_client *c, const char *req, size_t len)
{
	struct nc_uapi *u = c->u;
	char err[256];
	int r;

	if (len >= 6 && !memcmp(req, "get=1\n", 6)) {
		struct nc_wg_state st;
		char *text;
		size_t tlen;

		u->gets++;
		if (len > 6) {
			u->errors++;
			nc_warn("wireguard UAPI: a get with more lines than get=1");
			answer_errno(c, -EINVAL);
			return;
		}
		r = nc_link_wireguard_state(svc->link, &st);
		if (r == 0) {
			r = nc_wg_uapi_get_text(&st, &text, &tlen);
			memset(st.priv, 0, sizeof(st.priv));
			nc_wg_state_free(&st);
		}
		if (r < 0) {
			u->errors++;
			answer_errno(c, r);
			return;
		}
		answer(c, text, tlen);
	} else if (len >= 6 && !memcmp(req, "set=1\n", 6)) {
		struct nc_wg_uapi_set set;
		int oldfd = svc->link->fd;

		u->sets++;
		r = nc_wg_uapi_parse_set(&set, req + 6, len - 6, err, sizeof(err));
		if (r == 0)
			r = nc_link_wireguard_set(svc->link, &set, err, sizeof(err));
		memset(set.priv, 0, sizeof(set.priv));
		nc_wg_uapi_set_free(&set);
		if (svc->link->fd != oldfd &&   /* a new listen_port: the old fd is closed */
		    nc_epoll_add(svc, svc->link->fd, EPOLLIN, &svc->link_h) < 0)
			nc_err("wireguard UAPI: epoll: %s", strerror(errno));
		if (r < 0) {
			u->errors++;
			nc_warn("wireguard UAPI: set refused: %s", err[0] ? err : strerror(-r));
		} else {
			nc_info("wireguard UAPI: set applied");
		}
		answer_errno(c, r);
	} else {
		u->errors++;
		nc_warn("wireguard UAPI: unknown operation '%.*s'",
			(int)strcspn(req, "\n") > 40 ? 40 : (int)strcspn(req, "\n"), req);
		answer_errno(c, -EINVAL);
		c->closing = 1;
	}
}

/* Write what waits; then handle the next whole request, if any. */
static void client_run(struct nc_service *svc, struct uapi_client *c)
{
	for (;;) {
		while (c->out_off < c->out_len) {
			ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
					epoll_ctl(svc->epfd, EPOLL_CTL_MOD, c->fd, &ev);
					return;
				}
				client_free(svc, c);
				return;
			}
			c->out_off += (size_t)n;
		}
		if (c->closing) {
			client_free(svc, c);
			return;
		}
		/* The next request: up to and including its blank line. */
		size_t end = 0;
		for (size_t i = 0; i + 1 < c->in_len; i++) {
			if (c->in[i] == '\n' && c->in[i + 1] == '\n') {
				end = i + 2;
				break;
			}
		}
		if (!end && c->in_len && c->eof)
			end = c->in_len;           /* the client shut down: what it sent is all */
		if (!end) {
			if (c->in_len >= NC_WG_UAPI_MAX_REQ) {
				c->u->errors++;
				nc_warn("wireguard UAPI: a request over %d bytes", NC_WG_UAPI_MAX_REQ);
				answer_errno(c, -EMSGSIZE);
				c->closing = 1;
				continue;
			}
			if (c->eof) {
				client_free(svc, c);
				return;
			}
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
			epoll_ctl(svc->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return;
		}
		/* "get=1\n\n" is the request "get=1\n" and its blank line. */
		handle(svc, c, c->in, end >= 2 && c->in[end - 1] == '\n' && c->in[end - 2] == '\n'
				      ? end - 1 : end);
		memmove(c->in, c->in + end, c->in_len - end);
		c->in_len -= end;
	}
}

static void client_read(struct nc_service *svc, struct uapi_client *c)
{
	while (c->in_len < NC_WG_UAPI_MAX_REQ) {
		ssize_t n = recv(c->fd, c->in + c->in_len, NC_WG_UAPI_MAX_REQ - c->in_len,
				 MSG_DONTWAIT);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			c->eof = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->eof = c->closing = 1;
		break;
	}
	client_run(svc, c);
}

static void accept_clients(struct nc_service *svc, struct nc_uapi *u)
{
	for (;;) {
		int fd = accept4(u->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct uapi_client *c;

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    (cred.uid != 0 && cred.uid != geteuid()) || u->nclients >= UAPI_CLIENTS) {
			u->refused++;
			nc_log_ratelimited(NC_LOG_WARN, "wireguard UAPI: a client refused (%s)",
					   u->nclients >= UAPI_CLIENTS ? "too many clients"
								       : "another user");
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(NC_WG_UAPI_MAX_REQ);
		if (!c || !c->in) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->h.type = NC_H_UAPI;
		c->u = u;
		c->fd = fd;
		if (nc_epoll_add(svc, fd, EPOLLIN, &c->h) < 0) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = u->clients;
		u->clients = c;
		u->nclients++;
	}
}

void nc_uapi_event(struct nc_service *svc, struct nc_handler *h, uint32_t events)
{
	struct nc_uapi *u = svc->uapi;

	if (!u)
		return;
	if (h == &u->h) {
		accept_clients(svc, u);
		return;
	}
	struct uapi_client *c = (struct uapi_client *)h;
	if (events & EPOLLIN)
		client_read(svc, c);
	else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		client_run(svc, c);
}

void nc_uapi_status(struct nc_service *svc, char *buf, size_t len)
{
	struct nc_uapi *u = svc->uapi;

	if (!u) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "wg uapi %s: %llu gets, %llu sets, %llu refused requests, "
		 "%llu refused clients, %d connected\n", u->path, (unsigned long long)u->gets,
		 (unsigned long long)u->sets, (unsigned long long)u->errors,
		 (unsigned long long)u->refused, u->nclients);
}
