/*
 * arch/cc.h — lwIP's platform header for netcon (Linux, GCC/Clang, NO_SYS=1).
 */
#ifndef NETCON_ARCH_CC_H
#define NETCON_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_INCLUDE <errno.h>
#define LWIP_ERRNO_STDINCLUDE 1

/* lwIP's random numbers (the first ephemeral TCP and UDP ports): the C library's
 * cryptographic generator (glibc >= 2.36: ChaCha20 keyed from getrandom(), reseeded, safe
 * across fork). Initial sequence numbers have their own hook (src/service/isn.c). */
#define LWIP_RAND() ((u32_t)arc4random())

/* An lwIP assertion is a bug in netcon or lwIP: report it and stop. */
void netcon_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) netcon_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)

typedef unsigned int sys_prot_t;

/* The C library provides htons() and friends; lwIP must not redefine them. */
#include <arpa/inet.h>
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

#endif /* NETCON_ARCH_CC_H */
