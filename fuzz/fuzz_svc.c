/*
 * fuzz_svc.c — see fuzz_svc.h.
 */
#include "fuzz_svc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/priv/tcp_priv.h"
#include "log.h"

const uint8_t fuzz_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static int fake_send(struct nc_link *l, const struct iovec *iov, int iovcnt)
{
	size_t len = 0;

	/* Touch every byte lwIP hands us, as the real link's sendmsg would. */
	for (int i = 0; i < iovcnt; i++) {
		volatile const uint8_t *p = iov[i].iov_base;
		uint8_t x = 0;
		for (size_t k = 0; k < iov[i].iov_len; k++)
			x ^= p[k];
		(void)x;
		len += iov[i].iov_len;
	}
	l->stats.tx_frames++;
	l->stats.tx_bytes += len;
	return 0;
}

static int fake_input(struct nc_link *l)
{
	(void)l;
	return 0;
}

static void fake_describe(struct nc_link *l, char *buf, size_t len)
{
	(void)l;
	snprintf(buf, len, "  fuzz link (frames counted, not sent)\n");
}

static void fake_close(struct nc_link *l)
{
	(void)l;
}

static const struct nc_link_ops fake_ops = {
	.name = "fuzz",
	.send = fake_send,
	.input = fake_input,
	.flush = NULL,
	.describe = fake_describe,
	.close = fake_close,
};

static struct nc_link fake_link = { .ops = &fake_ops, .fd = -1, .max_mtu = 65521 };

struct nc_service *fuzz_svc_get(void)
{
	static struct nc_service *svc;
	char err[256];

	if (svc)
		return svc;
	signal(SIGPIPE, SIG_IGN);
	nc_log_init("fuzz", 0);
	nc_log_level = getenv("FUZZ_LOG") ? NC_LOG_DEBUG : NC_LOG_ERROR;
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		abort();
	inet_pton(AF_INET, FUZZ_IP, &svc->cfg.ip);
	svc->cfg.prefix = FUZZ_PREFIX;
	svc->cfg.mtu = 1500;
	memcpy(svc->cfg.mac, fuzz_mac, 6);
	svc->cfg.socket_mode = 0600;
	svc->cfg.ready_fd = -1;
	svc->cfg.vxlan.vni = FUZZ_VNI;
	svc->ctl_fd = svc->sig_fd = -1;
	svc->scratch = malloc(NC_SCRATCH_SIZE);
	svc->epfd = epoll_create1(EPOLL_CLOEXEC);
	svc->link = &fake_link;
	fake_link.deliver = nc_stack_input;
	fake_link.ctx = svc;
	/* Names: RESOLVE (fuzz_rpc) finds some, UDP port 53 (fuzz_vxlan) answers DNS. */
	if (nc_hosts_add_arg(&svc->cfg.hosts, "web.netcon=10.42.0.2", err, sizeof(err)) < 0 ||
	    nc_hosts_add_arg(&svc->cfg.hosts, "web.netcon=fd00::2", err, sizeof(err)) < 0)
		abort();
	svc->cfg.dns = 1;
	if (!svc->scratch || svc->epfd < 0 || nc_stack_init(svc, err, sizeof(err)) < 0 ||
	    nc_names_start(svc, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz: cannot set up the service: %s\n", err);
		abort();
	}
	return svc;
}

void fuzz_svc_reset_conns(struct nc_service *svc)
{
	/* Bounded: every tcp_abort removes the pcb from its list. */
	for (int i = 0; tcp_active_pcbs && i < 100000; i++)
		tcp_abort(tcp_active_pcbs);
	for (int i = 0; tcp_tw_pcbs && i < 100000; i++)
		tcp_abort(tcp_tw_pcbs);
	etharp_cleanup_netif(&svc->netif);
	nc_stack_poll(svc);
	nc_sock_flush_dirty(svc);
	nc_stack_flush_ack(svc);
	nc_sock_reap(svc);
}

struct nc_sock *fuzz_sock_of(struct nc_service *svc, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	return nc_sock_lookup(svc, st.st_ino);
}

void fuzz_drain(int fd)
{
	for (int i = 0; i < 4096; i++) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 16)];
		} ctl;
		static uint8_t buf[NC_RPC_MAX_MSG + 1];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t j = 0; j < k; j++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + j * sizeof(int), sizeof(int));
				close(f);
			}
		}
	}
}

/* How many fds the process has open. */
int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* opendir's own */
}

void fuzz_check_fds(const char *harness, int before)
{
	int now = fuzz_count_fds();

	if (now != before) {
		fprintf(stderr, "%s: %d fds open after this input, %d before: an fd leaked\n",
			harness, now, before);
		abort();
	}
}
