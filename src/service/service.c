/*
 * service.c — the service's event loop.
 *
 * One thread, one epoll set: the control socket, each RPC client, the link, a signalfd,
 * and every virtual socket's end. The loop sleeps until an event or lwIP's next timer
 * deadline (no periodic polling: an idle service uses no CPU), handles the batch,
 * lets lwIP process looped-back frames and timers, flushes the link, frees what the
 * batch closed, and sleeps again.
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "publish.h"

#define MAX_EVENTS 256

int nc_epoll_add(struct nc_service *svc, int fd, uint32_t events, struct nc_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (epoll_ctl(svc->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void nc_epoll_del(struct nc_service *svc, int fd)
{
	epoll_ctl(svc->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Allow as many fds as the hard limit permits: two per connection. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int open_link(struct nc_service *svc, char *err, size_t errlen)
{
	int r;

	if (svc->cfg.link_kind == NC_LINKKIND_TAP)
		r = nc_link_tap_open(&svc->link, svc->cfg.tap_name, svc->cfg.mtu, nc_stack_input,
				     svc, err, errlen);
	else if (svc->cfg.link_kind == NC_LINKKIND_WIREGUARD)
		r = nc_link_wireguard_open(&svc->link, svc->cfg.wg, svc->cfg.wg_name, svc->cfg.mtu,
					   nc_stack_input, svc, err, errlen);
	else
		r = nc_link_vxlan_open(&svc->link, &svc->cfg.vxlan, svc->cfg.mtu, nc_stack_input,
				       svc, err, errlen);
	if (r < 0)
		return r;
	svc->link_h.type = NC_H_LINK;
	r = nc_epoll_add(svc, svc->link->fd, EPOLLIN, &svc->link_h);
	if (r < 0)
		snprintf(err, errlen, "epoll: %s", strerror(-r));
	return r;
}

static int open_signals(struct nc_service *svc)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	svc->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (svc->sig_fd < 0)
		return -errno;
	svc->sig_h.type = NC_H_SIGNAL;
	return nc_epoll_add(svc, svc->sig_fd, EPOLLIN, &svc->sig_h);
}

static void on_signal(struct nc_service *svc)
{
	struct signalfd_siginfo si;

	while (read(svc->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		nc_info("signal %d: stopping", (int)si.ssi_signo);
		svc->running = 0;
	}
}

static void dispatch(struct nc_service *svc, struct epoll_event *ev)
{
	struct nc_handler *h = ev->data.ptr;

	switch (h->type) {
	case NC_H_CONTROL:
		nc_control_accept(svc);
		break;
	case NC_H_CLIENT:
		nc_client_event(svc, (struct nc_client *)h, ev->events);
		break;
	case NC_H_LINK:
		if (svc->link->ops->input(svc->link) < 0) {
			nc_err("link %s failed: stopping", svc->link->ops->name);
			svc->running = 0;
		}
		break;
	case NC_H_SIGNAL:
		on_signal(svc);
		break;
	case NC_H_SOCK:
		nc_sock_event(svc, (struct nc_sock *)h, ev->events);
		break;
	case NC_H_SECCOMP:
	case NC_H_SECCOMP_WAIT:
		nc_seccomp_event(svc, h, ev->events);
		break;
	case NC_H_PUBLISH:
		nc_publish_event(svc, h, ev->events);
		break;
	case NC_H_UDP_DRAIN:
		nc_udp_drain_event(svc, h);
		break;
	case NC_H_UDP_RELAY:
		nc_udp_relay_event(svc, h);
		break;
	case NC_H_DNSFWD:
		nc_dnsfwd_event(svc, h, ev->events);
		break;
	case NC_H_CAPTURE:
		nc_capture_event(svc, h, ev->events);
		break;
	case NC_H_UAPI:
		nc_uapi_event(svc, h, ev->events);
		break;
	}
}

static void announce_ready(struct nc_service *svc)
{
	char ip[32], mac[32];

	snprintf(ip, sizeof(ip), "%s", inet_ntoa(svc->cfg.ip));
	nc_info("ready: %s/%d mac %s mtu %d link %s, socket %s", ip, svc->cfg.prefix,
		nc_mac_str(svc->cfg.mac, mac, sizeof(mac)), svc->cfg.mtu, svc->link->ops->name,
		svc->cfg.socket_path);
	{
		struct nc_ip6_prefix l6[NC_HELLO_MAX_IP6];
		char a6[INET6_ADDRSTRLEN];
		uint8_t n6 = 0;

		nc_stack_ip6_list(svc, l6, NC_HELLO_MAX_IP6, &n6);
		for (int i = 0; i < n6; i++)
			nc_info("IPv6 address %s/%u%s", inet_ntop(AF_INET6, l6[i].addr, a6, sizeof(a6)),
				l6[i].prefix, i == 0 ? " (link-local)" : "");
	}
	/* One line at the default level, as a daemon in the foreground says it is up. */
	if (svc->cfg.ready_line && nc_log_level >= NC_LOG_WARN) {
		char line[NC_SOCKET_PATH_MAX + 512], a6[INET6_ADDRSTRLEN], where[128];
		int n = snprintf(line, sizeof(line), "netcon service: ready: %s/%d", ip,
				 svc->cfg.prefix);

		for (int i = 0; i < svc->cfg.n_ip6 && n < (int)sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", %s/%d",
				      inet_ntop(AF_INET6, &svc->cfg.ip6[i], a6, sizeof(a6)),
				      svc->cfg.prefix6[i]);
		if (svc->cfg.link_kind == NC_LINKKIND_TAP)
			snprintf(where, sizeof(where), "%s", svc->cfg.tap_name);
		else if (svc->cfg.link_kind == NC_LINKKIND_WIREGUARD)
			snprintf(where, sizeof(where), "%.100s", svc->cfg.wg->path);
		else
			nc_sockaddr_str((struct sockaddr *)&svc->cfg.vxlan.bind, where, sizeof(where));
		if (n < (int)sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, " on %s %s, socket %s\n",
				      svc->link->ops->name, where, svc->cfg.socket_path);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1;
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* no stderr: nothing to tell */
		}
	}
	{
		char msg[NC_SOCKET_PATH_MAX + 128];

		snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\nSTATUS=%s/%d on %s, socket %s",
			 (int)getpid(), ip, svc->cfg.prefix, svc->link->ops->name,
			 svc->cfg.socket_path);
		nc_notify(msg);
	}
	if (svc->cfg.ready_fd >= 0) {
		if (write(svc->cfg.ready_fd, "R", 1) < 0) {
			/* the parent went away; nothing to tell */
		}
		close(svc->cfg.ready_fd);
		svc->cfg.ready_fd = -1;
	}
}

static void service_free(struct nc_service *svc)
{
	nc_seccomp_close_all(svc);
	nc_sock_close_all(svc);
	/* Let lwIP put the RSTs on the wire before the link goes. */
	nc_stack_poll(svc);
	if (svc->link)
		nc_stack_flush_ack(svc);
	if (svc->link && svc->link->ops->flush)
		svc->link->ops->flush(svc->link);
	nc_capture_close(svc);
	nc_uapi_close(svc);
	nc_control_close(svc);
	nc_publish_stop(svc);
	nc_dnsfwd_stop(svc);
	nc_names_stop(svc);
	if (svc->ctl_tmp_path[0])
		unlink(svc->ctl_tmp_path);
	if (svc->link)
		svc->link->ops->close(svc->link);
	if (svc->sig_fd >= 0)
		close(svc->sig_fd);
	if (svc->epfd >= 0)
		close(svc->epfd);
	nc_fault_free(&svc->fault);
	free(svc->cfg.wg);
	free(svc->fault_buf);
	free(svc->scratch);
	free(svc);
}

/*
 * nc_service_run() - run a service until SIGTERM/SIGINT. Returns the exit status: 0 after
 * a clean stop, 1 when start-up failed (with one message naming what was wrong).
 */
int nc_service_run(struct nc_config *cfg)
{
	struct epoll_event evs[MAX_EVENTS];
	struct nc_service *svc = calloc(1, sizeof(*svc));
	char err[512] = "";
	int r;

	if (!svc) {
		fprintf(stderr, "netcon service: out of memory\n");
		return 1;
	}
	svc->cfg = *cfg;
	svc->ctl_fd = svc->sig_fd = -1;
	svc->scratch = malloc(NC_SCRATCH_SIZE);
	svc->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!svc->scratch || svc->epfd < 0) {
		fprintf(stderr, "netcon service: %s\n", strerror(errno));
		service_free(svc);
		return 1;
	}
	raise_nofile();
	if (open_signals(svc) < 0) {
		fprintf(stderr, "netcon service: signals: %s\n", strerror(errno));
		service_free(svc);
		return 1;
	}
	r = open_link(svc, err, sizeof(err));
	if (r == 0)   /* after the link (its kind makes the file's link type), before the probe */
		r = nc_capture_open_file(svc, err, sizeof(err));
	if (r == 0)
		r = nc_neigh_probe(svc, err, sizeof(err));
	if (r == 0)
		r = nc_stack_init(svc, err, sizeof(err));
	if (r == 0)
		r = nc_names_start(svc, err, sizeof(err));
	if (r == 0)
		r = nc_publish_start(svc, err, sizeof(err));
	if (r == 0)
		r = nc_dnsfwd_start(svc, err, sizeof(err));
	if (r == 0)
		r = nc_uapi_open(svc, err, sizeof(err));
	if (r == 0)
		r = nc_control_open(svc, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "netcon service: %s\n", err[0] ? err : strerror(-r));
		service_free(svc);
		return 1;
	}
	announce_ready(svc);

	svc->running = 1;
	while (svc->running) {
		int timeout = nc_dnsfwd_timeout_ms(svc, nc_seccomp_timeout_ms(svc,
					nc_neigh_timeout_ms(svc, nc_stack_timeout_ms(svc))));
		if (svc->link->ops->timeout_ms) {
			int lt = svc->link->ops->timeout_ms(svc->link);
			if (lt >= 0 && (timeout < 0 || lt < timeout))
				timeout = lt;
		}
		int n = epoll_wait(svc->epfd, evs, MAX_EVENTS, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			nc_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(svc, &evs[i]);
		nc_stack_poll(svc);
		if (svc->link->ops->poll)
			svc->link->ops->poll(svc->link);
		nc_neigh_poll(svc);
		nc_seccomp_poll(svc);
		nc_dnsfwd_poll(svc);
		nc_stack_release_held(svc);   /* before the flush: a held frame's data goes now */
		nc_sock_flush_dirty(svc);
		nc_stack_flush_ack(svc);   /* after the flush: its window updates join the held ACKs */
		if (svc->link->ops->flush)
			svc->link->ops->flush(svc->link);
		nc_sock_reap(svc);
		if (svc->capture)
			nc_capture_flush(svc);
	}
	nc_notify("STOPPING=1");
	service_free(svc);
	return 0;
}
