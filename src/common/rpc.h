/*
 * rpc.h (common) — framing of the netcon RPC: sending and receiving one message with its
 * file descriptors, and checking a received message against the contract in
 * include/netcon/rpc.h before any field is used.
 */
#ifndef NETCON_COMMON_RPC_H
#define NETCON_COMMON_RPC_H

#include <stddef.h>
#include <sys/types.h>

#include "netcon/rpc.h"

/* Exact payload size of a message type, or -1 for an unknown type. For the variable
 * types (SOCKOPT_*, STATUS reply) this is the fixed part; nc_rpc_check() checks the
 * rest. */
long nc_rpc_payload_size(unsigned type, int is_reply);

/* Send one message: header (len filled in here), payload and up to NC_RPC_MAX_FDS fds.
 * Never raises SIGPIPE. Returns 0 or a negative errno (-EAGAIN on a full socket when fd
 * is non-blocking). */
int nc_rpc_send(int fd, struct nc_hdr *h, const void *payload, size_t plen,
		const int *fds, int nfds);
/* The same with sendmsg flags added (the service passes MSG_DONTWAIT: a reply channel is
 * an fd the client chose, blocking or not, and a full one must not stall the service). */
int nc_rpc_send_flags(int fd, struct nc_hdr *h, const void *payload, size_t plen,
		      const int *fds, int nfds, int msg_flags);

/* Receive one message into buf (cap bytes) and its fds (close-on-exec). Retries on
 * EINTR. Returns the message length, 0 at end of stream (or an empty message without
 * fds: SOCK_SEQPACKET cannot tell them apart), or a negative errno; -EMSGSIZE when the
 * message or its fds did not fit, -EBADMSG for an empty message with fds (every fd
 * received is closed in both cases). */
ssize_t nc_rpc_recv(int fd, void *buf, size_t cap, int fds[NC_RPC_MAX_FDS], int *nfds,
		    int msg_flags);

/* Check a received message: header length equal to what arrived, a known type with the
 * right direction, known flags, the exact payload size, and the number of fds the flags
 * announce. Returns 0, or -EBADMSG with *why set to a short reason. */
int nc_rpc_check(const void *buf, size_t n, int nfds, int is_reply, const char **why);

/* Close every fd of a received message. */
void nc_rpc_close_fds(int *fds, int nfds);

/* nc_accept_recv() - take one accepted connection from a listener's pair end fd
 * (recvmsg flags, e.g. MSG_DONTWAIT, MSG_CMSG_CLOEXEC): its struct nc_accept_msg in *m
 * and its fd in *nfd. Returns 1 when one came, 0 at end of file (no message and no fd:
 * the other end shut down or closed), -EPROTO for a malformed message (any fd it carried
 * closed), or recvmsg's own error as a negative errno (-EAGAIN, -ECONNRESET, ...). It
 * reads the connection's mark (NC_ACCEPT_MARK) too. Used by both doors: the intercept's
 * accept and the seccomp supervisor's. */
int nc_accept_recv(int fd, int flags, struct nc_accept_msg *m, int *nfd);

#endif /* NETCON_COMMON_RPC_H */
