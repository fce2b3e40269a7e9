/*
 * lwipopts.h (fuzz) — the project's lwIP options, with checksum verification on input
 * turned off so that the fuzzers reach the parsers behind the checksums (IP options, TCP
 * options and state machine, reassembly, ND6) instead of stopping at a checksum check.
 * Only the fuzz build (make fuzz) puts this directory first on the include path.
 */
#ifndef NETCON_FUZZ_LWIPOPTS_H
#define NETCON_FUZZ_LWIPOPTS_H

#include "../../lwip/lwipopts.h"

#undef CHECKSUM_CHECK_IP
#undef CHECKSUM_CHECK_UDP
#undef CHECKSUM_CHECK_TCP
#undef CHECKSUM_CHECK_ICMP
#undef CHECKSUM_CHECK_ICMP6
#define CHECKSUM_CHECK_IP    0
#define CHECKSUM_CHECK_UDP   0
#define CHECKSUM_CHECK_TCP   0
#define CHECKSUM_CHECK_ICMP  0
#define CHECKSUM_CHECK_ICMP6 0

/* lwIP's own initial sequence numbers (a counter), not the service's unpredictable ones
 * (src/service/isn.c): an input can then answer the listener's SYN-ACK and reach the
 * accept and data paths, as an input can pass the checksums above. */
#undef LWIP_HOOK_TCP_ISN

/* Every pcb lookup also walks lwIP's lists and asserts that the hash (patch 0007) found
 * the same pcb. */
#undef TCP_HASH_CHECK
#define TCP_HASH_CHECK 1

#endif /* NETCON_FUZZ_LWIPOPTS_H */
