/*
 * fault.h — deterministic fault injection on the service's frames (--link-fault):
 * loss, duplication, reordering and corruption, each a percentage, applied to frames
 * sent and to frames received, whatever the link. For tests of what TCP must survive.
 */
#ifndef NETCON_FAULT_H
#define NETCON_FAULT_H

#include <stddef.h>
#include <stdint.h>

struct nc_fault_dir {
	uint64_t rng;
	uint64_t lost, duplicated, reordered, corrupted;
	uint8_t *held;          /* a frame held back to be reordered */
	size_t held_len;
};

struct nc_fault {
	int enabled;
	/* per-million probabilities */
	uint32_t loss, dup, reorder, corrupt;
	uint64_t seed;
	struct nc_fault_dir tx, rx;
};

/* Parse "loss=P,dup=P,reorder=P,corrupt=P,seed=N" (percentages 0..100, any subset).
 * 0, or -EINVAL with a message naming the bad part in err. */
int nc_fault_parse(struct nc_fault *f, const char *spec, char *err, size_t errlen);

/* What to do with one frame: the verdict's bits. */
#define NC_FAULT_DROP     0x1   /* lose it */
#define NC_FAULT_DUP      0x2   /* pass it twice */
#define NC_FAULT_HOLD     0x4   /* keep it (nc_fault_hold) and pass it after the next */
#define NC_FAULT_CORRUPT  0x8   /* flip one bit (nc_fault_corrupt) before passing it */
unsigned nc_fault_verdict(const struct nc_fault *f, struct nc_fault_dir *d);
/* Flip one pseudo-random bit of buf[0..len). */
void nc_fault_corrupt(struct nc_fault_dir *d, uint8_t *buf, size_t len);
/* Keep a copy of a frame for later. 0, or -ENOMEM (then pass it now). */
int nc_fault_hold(struct nc_fault_dir *d, const uint8_t *frame, size_t len);
void nc_fault_free(struct nc_fault *f);

#endif /* NETCON_FAULT_H */
