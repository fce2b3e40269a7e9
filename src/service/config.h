/*
 * config.h — what `netcon service` is told: the service's configuration, its defaults
 * and the limits the command line checks. Free of lwIP, so that the CLI (src/cli/)
 * builds without lwIP's headers; the service itself includes it through service.h.
 */
#ifndef NETCON_CONFIG_H
#define NETCON_CONFIG_H

#include <netinet/in.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/hosts.h"
#include "common/outbound.h"
#include "link/link.h"
#include "link/wgconf.h"
#include "netcon/rpc.h"

#define NC_SOCKET_PATH_MAX   108
#define NC_MAX_IP6           4       /* --ip6 addresses (lwIP's slots minus the link-local) */

/* Defaults of `netcon service`'s options (the usage text says them too). */
#define NC_DEFAULT_IP        "10.42.0.1/24"
#define NC_DEFAULT_BIND      "127.0.0.1:4789"
#define NC_DEFAULT_MTU       1500
#define NC_PROBE_MS_DEFAULT  150     /* --probe-ms: wait for answers to our address probes */
#define NC_DEFAULT_SOCKET_MODE 0600
#define NC_DEFAULT_MAX_SOCKS 65536
#define NC_DEFAULT_VNI       1
#define NC_MAX_PUBLISH       64      /* --publish specs */
#define NC_PCAP_PATH_MAX     4096    /* --pcap FILE */
#define NC_PCAP_KEEP         3       /* --pcap-size: FILE.1 .. FILE.3 kept */

enum nc_link_kind { NC_LINKKIND_VXLAN = 0, NC_LINKKIND_TAP, NC_LINKKIND_WIREGUARD,
		    NC_LINKKIND_COUNT };

/* --publish PROTO:[HOSTADDR:]HOSTPORT:VADDR:VPORT: a port of the host delivered to a
 * virtual address (publish.c). */
struct nc_publish {
	int proto;                   /* IPPROTO_TCP or IPPROTO_UDP */
	struct nc_addr host;         /* where the service listens (any address: 0.0.0.0 / ::) */
	struct nc_addr vaddr;        /* where it delivers, on the virtual network */
};

/* What `netcon service` was told. Filled by nc_config_parse() (cli), read-only after. */
struct nc_config {
	struct in_addr ip;
	int prefix;
	struct in6_addr ip6[NC_MAX_IP6];   /* --ip6, in the order given */
	int prefix6[NC_MAX_IP6];
	int n_ip6;
	int mtu;
	uint8_t mac[6];
	char socket_path[NC_SOCKET_PATH_MAX];
	unsigned socket_mode;
	gid_t socket_gid;            /* group of the control socket; (gid_t)-1: the creator's */
	int ready_fd;                /* -1, or an fd to write one byte to when ready */
	int ready_line;              /* print one "ready" line on stderr (netcon service) */
	int log_level;
	enum nc_link_kind link_kind;
	struct nc_vxlan_config vxlan;
	char tap_name[16];
	struct nc_wg_config *wg;     /* --wg-config, read (malloc'd; the service frees it) */
	char wg_name[16];            /* --wg-name: the interface's name (default wg0) */
	int max_socks_per_user;      /* virtual sockets one uid may hold; 0 = unlimited */
	char link_fault[128];        /* --link-fault spec, "" for none (see fault.h) */
	struct nc_hosts hosts;       /* --host, --hosts: the names of the virtual network */
	int dns;                     /* --dns: answer DNS on our address, UDP port 53 */
	int probe_ms;                /* --probe-ms: wait for answers to our address probes */
	struct nc_publish publish[NC_MAX_PUBLISH];
	int n_publish;
	struct nc_outbound outbound; /* --outbound: destinations outside reached by our kernel */
	int dns_forward;             /* --dns-forward: names not in the table go to resolv.conf's */
	char pcap_path[NC_PCAP_PATH_MAX];  /* --pcap: capture to this file; "" for none */
	uint64_t pcap_size;          /* --pcap-size: rotate beyond this many bytes; 0 never */
	int pcapng;                  /* --pcap-format pcapng (or FILE ends in .pcapng) */
};

/* Run a service with cfg until SIGTERM or SIGINT (service.c). 0 after a clean stop, 1
 * when start-up failed (with one message naming what was wrong). */
int nc_service_run(struct nc_config *cfg);

/* `netcon --version`: netcon's version, lwIP's and our patch series (version.c). */
void nc_version_print(FILE *f);

#endif /* NETCON_CONFIG_H */
