/*
 * fault.c — deterministic fault injection (see fault.h). One xorshift64* generator per
 * direction, seeded from the configured seed, so a given seed gives the same decisions
 * for the same sequence of frames.
 */
#include "fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next(struct nc_fault_dir *d)
{
	uint64_t x = d->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int chance(struct nc_fault_dir *d, uint32_t per_million)
{
	return per_million && (uint32_t)(next(d) % 1000000u) < per_million;
}

/* "5", "0.1", "100" → per million. */
static int parse_pct(const char *s, size_t n, uint32_t *out)
{
	char buf[32], *end;
	double v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtod(buf, &end);
	if (*end || v < 0 || v > 100 || v != v)
		return -EINVAL;
	*out = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
}

int nc_fault_parse(struct nc_fault *f, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;

	memset(f, 0, sizeof(*f));
	f->seed = 1;
	while (*p) {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		size_t klen;

		eq = memchr(p, '=', len);
		if (!eq) {
			snprintf(err, errlen, "'%.*s' is not NAME=VALUE", (int)len, p);
			return -EINVAL;
		}
		klen = (size_t)(eq - p);
		const char *v = eq + 1;
		size_t vlen = len - klen - 1;
		int r = 0;

		if (klen == 4 && !memcmp(p, "loss", 4))
			r = parse_pct(v, vlen, &f->loss);
		else if (klen == 3 && !memcmp(p, "dup", 3))
			r = parse_pct(v, vlen, &f->dup);
		else if (klen == 7 && !memcmp(p, "reorder", 7))
			r = parse_pct(v, vlen, &f->reorder);
		else if (klen == 7 && !memcmp(p, "corrupt", 7))
			r = parse_pct(v, vlen, &f->corrupt);
		else if (klen == 4 && !memcmp(p, "seed", 4)) {
			char buf[32], *end;
			if (vlen == 0 || vlen >= sizeof(buf))
				r = -EINVAL;
			else {
				memcpy(buf, v, vlen);
				buf[vlen] = '\0';
				f->seed = strtoull(buf, &end, 10);
				if (*end || buf[0] == '-')
					r = -EINVAL;
			}
		} else {
			snprintf(err, errlen, "unknown fault '%.*s' (want loss, dup, reorder, "
				 "corrupt or seed)", (int)klen, p);
			return -EINVAL;
		}
		if (r < 0) {
			snprintf(err, errlen, "bad value in '%.*s' (a percentage 0..100, or a "
				 "seed number)", (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	f->enabled = 1;
	f->tx.rng = f->seed * 0x9e3779b97f4a7c15ull + 1;
	f->rx.rng = f->seed * 0xbf58476d1ce4e5b9ull + 2;
	return 0;
}

unsigned nc_fault_verdict(const struct nc_fault *f, struct nc_fault_dir *d)
{
	unsigned v = 0;

	if (chance(d, f->loss)) {
		d->lost++;
		return NC_FAULT_DROP;
	}
	if (chance(d, f->corrupt)) {
		d->corrupted++;
		v |= NC_FAULT_CORRUPT;
	}
	if (chance(d, f->dup)) {
		d->duplicated++;
		v |= NC_FAULT_DUP;
	}
	if (!d->held && chance(d, f->reorder)) {
		d->reordered++;
		v |= NC_FAULT_HOLD;
	}
	return v;
}

void nc_fault_corrupt(struct nc_fault_dir *d, uint8_t *buf, size_t len)
{
	if (len == 0)
		return;
	uint64_t r = next(d);
	buf[(r >> 8) % len] ^= (uint8_t)(1u << (r & 7));
}

int nc_fault_hold(struct nc_fault_dir *d, const uint8_t *frame, size_t len)
{
	d->held = malloc(len);
	if (!d->held)
		return -ENOMEM;
	memcpy(d->held, frame, len);
	d->held_len = len;
	return 0;
}

void nc_fault_free(struct nc_fault *f)
{
	free(f->tx.held);
	free(f->rx.held);
	f->tx.held = f->rx.held = NULL;
}
