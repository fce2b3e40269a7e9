/*
 * fuzz_svc.h — a service for the fuzzers: the real lwIP stack, connection table and RPC
 * server, with a link that only counts the frames lwIP sends. No control socket, no
 * signals, no network.
 */
#ifndef NETCON_FUZZ_SVC_H
#define NETCON_FUZZ_SVC_H

#include "service/service.h"

/* The service's address, MAC and VNI in every harness (and in fuzz/mkcorpus.py). */
#define FUZZ_IP     "10.42.0.1"
#define FUZZ_PREFIX 24
#define FUZZ_VNI    1
extern const uint8_t fuzz_mac[6];

/* Create the service once (aborts on failure: nothing can be fuzzed without it). */
struct nc_service *fuzz_svc_get(void);

/* Abort every TCP connection lwIP holds and forget neighbours, so one input does not
 * depend on the ones before it; listeners stay. */
void fuzz_svc_reset_conns(struct nc_service *svc);

/* The virtual socket whose program end is fd (looked up by its inode, as the RPC
 * server does), or NULL. */
struct nc_sock *fuzz_sock_of(struct nc_service *svc, int fd);

/* Read and close whatever waits on a program-side fd (accepted connections, replies). */
void fuzz_drain(int fd);

/* The number of open fds, and an abort if it differs from `before`: an input that
 * leaves an fd open is a leak. (Counted per input: libFuzzer itself opens pipes to the
 * symbolizer between inputs.) */
int fuzz_count_fds(void);
void fuzz_check_fds(const char *harness, int before);

#endif /* NETCON_FUZZ_SVC_H */
