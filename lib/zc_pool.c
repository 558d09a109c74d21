/* lib/zc_pool.c — which zero-copy message buffers the kernel still holds
 * (struct zc_pool in common.h).  Pure bookkeeping, no syscalls. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * zero-copy buffer pool (see common.h)
 * ====================================================================== */

int zc_pool_init(struct zc_pool *p, uint32_t depth)
{
	memset(p, 0, sizeof(*p));
	p->depth = depth;
	p->cap = 2 * depth + 2;   /* live records <= depth; completed ones wait behind an old one */
	p->free = calloc(depth, sizeof(*p->free));
	p->rec = calloc(p->cap, sizeof(*p->rec));
	if (!p->free || !p->rec) {
		zc_pool_free(p);
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t i = 0; i < depth; i++)   /* buffer 0 on top */
		p->free[i] = depth - 1 - i;
	p->nfree = depth;
	return 0;
}

void zc_pool_free(struct zc_pool *p)
{
	free(p->free);
	free(p->rec);
	p->free = NULL;
	p->rec = NULL;
}

int zc_pool_take(struct zc_pool *p)
{
	if (!p->nfree || p->count == p->cap)
		return -1;
	return (int)p->free[--p->nfree];
}

unsigned *zc_pool_begin(struct zc_pool *p, int slot)
{
	struct zc_record *r = &p->rec[(p->head + p->count) % p->cap];
	*r = (struct zc_record){ .slot = (uint32_t)slot, .open = true, .first_id = p->next_id };
	p->count++;
	if (++p->in_flight > p->in_flight_max)
		p->in_flight_max = p->in_flight;
	return &r->calls;
}

static void zc_release(struct zc_pool *p, struct zc_record *r)
{
	p->free[p->nfree++] = r->slot;
	p->in_flight--;
}

/* Drop completed records from the head. */
static void zc_pool_trim(struct zc_pool *p)
{
	while (p->count) {
		struct zc_record *r = &p->rec[p->head];
		if (r->open || r->done < r->calls)
			break;
		p->head = (p->head + 1) % p->cap;
		p->count--;
	}
}

void zc_pool_end(struct zc_pool *p)
{
	struct zc_record *r = &p->rec[(p->head + p->count - 1) % p->cap];
	r->open = false;
	p->next_id = r->first_id + r->calls;
	if (r->done == r->calls)   /* no call carried it, or all completed already */
		zc_release(p, r);
	if (!r->calls)             /* nothing to match: forget it */
		p->count--;
	zc_pool_trim(p);
}

/* Calls of record r in [lo, hi]: how many, written to *k; false when some
 * of them were completed already. */
static bool zc_overlap(const struct zc_record *r, uint64_t lo, uint64_t hi, uint64_t *k)
{
	*k = 0;
	if (!r->calls)
		return true;
	uint64_t a = lo > r->first_id ? lo : r->first_id;
	uint64_t last = r->first_id + r->calls - 1;
	uint64_t b = hi < last ? hi : last;
	if (a <= b)
		*k = b - a + 1;
	return *k <= r->calls - r->done;   /* ranges arrive once each */
}

int zc_pool_complete(struct zc_pool *p, uint32_t lo32, uint64_t n)
{
	if (!p->count || !n)
		return -1;
	uint64_t base = p->rec[p->head].first_id;
	uint64_t lo = base + (uint32_t)(lo32 - (uint32_t)base);
	uint64_t hi = lo + n - 1, matched = 0, k;
	uint32_t i;
	/* check first, change nothing on a lie */
	for (i = 0; i < p->count && p->rec[(p->head + i) % p->cap].first_id <= hi; i++) {
		if (!zc_overlap(&p->rec[(p->head + i) % p->cap], lo, hi, &k))
			return -1;
		matched += k;
	}
	if (matched != n)
		return -1;
	for (uint32_t j = 0; j < i; j++) {
		struct zc_record *r = &p->rec[(p->head + j) % p->cap];
		zc_overlap(r, lo, hi, &k);
		r->done += (unsigned)k;
		if (k && !r->open && r->done == r->calls)
			zc_release(p, r);
	}
	zc_pool_trim(p);
	return 0;
}

uint64_t zc_pool_outstanding(const struct zc_pool *p)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < p->count; i++) {
		const struct zc_record *r = &p->rec[(p->head + i) % p->cap];
		n += r->calls - r->done;
	}
	return n;
}

uint32_t zc_pool_default_depth(uint64_t size, uint64_t sndbuf_max)
{
	const uint64_t page = 4096;
	uint64_t charge = 0;
	for (int f = 0; f < MSG_FIELDS; f++) {
		uint64_t pages = (msg_field_len(size, f) + page - 1) / page;
		charge += (pages ? pages : 1) * page;
	}
	uint64_t fit = (sndbuf_max + charge - 1) / charge;   /* messages the send buffer holds */
	uint64_t depth = fit + fit / 2 + 2;                  /* + completions not yet read */
	return depth > 1u << 20 ? 1u << 20 : (uint32_t)depth;
}
