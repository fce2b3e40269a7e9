/*
 * fuzz_vxlan.c — libFuzzer harness for the link input path: one received UDP payload goes
 * through nc_vxlan_decode() exactly as vxlan.c's receive path does, and an accepted frame
 * goes through nc_stack_input() into lwIP's ethernet_input (ARP, IPv4 with options and
 * reassembly, IPv6 with ND and fragments, ICMP, UDP, TCP) of a service whose connection
 * table is the real one (src/service/conn.c), with a virtual listener on port 80 so that
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
#define KNOWN_FRAG  2   /* feed IPv4 and IPv6 fragments */

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
	/* svc->socks: the socket just bound (the only one). The program keeps its fd. */
	if (nc_sock_listen(svc, svc->socks, &q, &none, &local) < 0)
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
		/* FUZZ_KNOWN_BUGS: "short", "frag", or anything else for both. */
		const char *k = getenv("FUZZ_KNOWN_BUGS");
		known_bugs = !k ? 0 : !strcmp(k, "short") ? KNOWN_SHORT :
			     !strcmp(k, "frag") ? KNOWN_FRAG : KNOWN_SHORT | KNOWN_FRAG;
	}
	if (listener_app < 0)
		make_listener(svc);
	fds_before = fuzz_count_fds();
	off = nc_vxlan_decode(data, size, FUZZ_VNI);
	if (off < 0) {
		fuzz_check_fds("fuzz_vxlan", fds_before);
		return 0;
	}
	/* Known bug, reported: some sequences of IPv4 or IPv6 fragments lose their pbufs in
	 * lwIP's reassembly (fuzz/known/ip4_reass_leak, ip6_frag_leak, ip6_ext_frag_leak:
	 * `FUZZ_KNOWN_BUGS=frag fuzz_vxlan -runs=0 DIR` reports a direct leak at exit). IPv4
	 * fragments (MF or an offset) and IPv6 packets with a Fragment header or an extension
	 * header that may lead to one (hop-by-hop, routing, destination options) are skipped unless FUZZ_KNOWN_BUGS=frag, so that `make fuzz` keeps
	 * finding new bugs. */
	if (!(known_bugs & KNOWN_FRAG) && size - (size_t)off >= NC_ETH_HLEN + 8 &&
	    data[off + 12] == 0x08 &&
	    data[off + 13] == 0x00 && (data[off + 20] & 0x3f || data[off + 21])) {
		fuzz_check_fds("fuzz_vxlan", fds_before);
		return 0;
	}
	if (!(known_bugs & KNOWN_FRAG) && size - (size_t)off >= NC_ETH_HLEN + 8 &&
	    data[off + 12] == 0x86 &&
	    data[off + 13] == 0xdd && (data[off + NC_ETH_HLEN + 6] == 44 ||
					  data[off + NC_ETH_HLEN + 6] == 0 ||
					  data[off + NC_ETH_HLEN + 6] == 43 ||
					  data[off + NC_ETH_HLEN + 6] == 60)) {
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
	fuzz_drain(listener_app);
	fuzz_svc_reset_conns(svc);
	fuzz_drain(listener_app);
	fuzz_check_fds("fuzz_vxlan", fds_before);
	return 0;
}
