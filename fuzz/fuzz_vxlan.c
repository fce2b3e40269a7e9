/*
 * fuzz_vxlan.c — libFuzzer harness for the link input path: one received UDP payload goes
 * through nc_vxlan_decode() exactly as vxlan.c's receive path does, and an accepted frame
 * goes through nc_stack_input() into lwIP's ethernet_input (ARP, IPv4 with options and
 * reassembly, IPv6 with ND and fragments, ICMP, UDP, TCP) of a service whose connection
 * table is the real one (src/service/sock.c), with a virtual listener on port 80 so that
 * SYNs become accepted connections. Checksum verification is off in this build (see
 * fuzz/lwip/lwipopts.h).
 *
 * After each input every TCP connection is aborted and the ARP table emptied, so inputs
 * are (nearly) independent; the listener stays. Accepted connections handed to the
 * "program" are read and closed.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_svc.h"
#include "link/link.h"

#define KNOWN_SHORT 1   /* feed frames under 60 bytes unpadded */

static int listener_app = -1;

/* A virtual listener on port 80, as a program's bind() then listen() would make it. */
static void make_listener(struct nc_service *svc)
{
	struct nc_listen_req q;
	struct nc_bind_req b;
	struct nc_addr local;
	int fd = -1, none = -1;

	memset(&b, 0, sizeof(b));
	b.addr.family = AF_INET;
	b.addr.port = 80;
	if (nc_sock_bind(svc, &b, &fd, &local) < 0 || fd < 0)
		abort();
	memset(&q, 0, sizeof(q));
	q.backlog = 16;
	/* The socket just bound, by its fd (which the program keeps). */
	if (nc_sock_listen(svc, fuzz_sock_of(svc, fd), &q, &none, &local) < 0)
		abort();
	listener_app = fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int known_bugs = -1;
	struct nc_service *svc = fuzz_svc_get();
	int fds_before;
	int off;

	if (known_bugs < 0) {
		/* FUZZ_KNOWN_BUGS: "short" (or anything). */
		const char *k = getenv("FUZZ_KNOWN_BUGS");
		known_bugs = k ? KNOWN_SHORT : 0;
	}
	if (listener_app < 0)
		make_listener(svc);
	fds_before = fuzz_count_fds();
	off = nc_vxlan_decode(data, size, FUZZ_VNI);
	if (off < 0) {
		fuzz_check_fds("fuzz_vxlan", fds_before);
		return 0;
	}
	/* Short frames (under Ethernet's 60 bytes) go in as they are: nc_stack_input() pads
	 * them (lwIP's ARP and IPv4 input read their headers before checking the length). */
	/* The link hands over a pointer into its own receive buffer; an exact-size copy lets
	 * ASan see any read past the frame. */
	{
		size_t len = size - (size_t)off;
		uint8_t *frame = malloc(len);
		if (!frame)
			return 0;
		memcpy(frame, data + off, len);
		nc_stack_input(svc, frame, len);
		free(frame);
	}
	nc_stack_poll(svc);
	nc_sock_flush_dirty(svc);
	nc_stack_flush_ack(svc);   /* as the service's loop turn ends */
	fuzz_drain(listener_app);
	fuzz_svc_reset_conns(svc);
	fuzz_drain(listener_app);
	fuzz_check_fds("fuzz_vxlan", fds_before);
	return 0;
}
