/*
 * actors/slot.c: actor table growth and per-shard free-slot caches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/slot.h"
#include "shard/hooks.h"
#include "shard/util.h"

RA_COLD ra_slot_table_t *ra__slot_table_create(void)
{
	ra_slot_table_t *t = calloc(1, sizeof(*t));

	if (t)
		t->next = 1;	/* slot 0 stays unused: {0, 0} is the null ref */
	return t;
}

RA_COLD void ra__slot_table_destroy(ra_slot_table_t *t)
{
	for (unsigned i = 0; i < RA_SLOT_MAX_CHUNKS; i++)
		free(t->chunks[i]);
	free(t);
}

RA_COLD void ra__slot_cache_fini(ra_slot_cache_t *c)
{
	free(c->idx);
	memset(c, 0, sizeof(*c));
}

/* Make sure the chunk holding `idx` exists; racing creators agree by CAS. */
static int ensure_chunk(ra_slot_table_t *t, uint32_t idx)
{
	uint32_t c = idx >> RA_SLOT_CHUNK_BITS;
	ra_slot_t *chunk;

	if (c >= RA_SLOT_MAX_CHUNKS)
		return -ENOMEM;
	if (ck_pr_load_ptr(&t->chunks[c]))
		return 0;
	chunk = calloc(RA_SLOT_CHUNK, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	if (!ck_pr_cas_ptr(&t->chunks[c], NULL, chunk))
		free(chunk);	/* another thread published it first */
	return 0;
}

/* Reserve `n` fresh indices; returns the first, or 0 when full. */
static uint32_t reserve_fresh(ra_slot_table_t *t, uint32_t n)
{
	uint32_t first = ck_pr_faa_32(&t->next, n);

	if (first > RA_SLOT_MAX_CHUNKS * RA_SLOT_CHUNK - n)
		return 0;
	/* A reserved range spans at most two chunks (n <= chunk size). */
	if (ensure_chunk(t, first) < 0 || ensure_chunk(t, first + n - 1) < 0)
		return 0;
	return first;
}

static int cache_push(ra_slot_cache_t *c, uint32_t idx)
{
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 256;
		uint32_t *p = realloc(c->idx, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->idx = p;
		c->cap = cap;
	}
	c->idx[c->n++] = idx;
	return 0;
}

int ra__slot_alloc(ra_slot_table_t *t, ra_slot_cache_t *c, uint32_t *out)
{
	uint32_t first;

	if (!c) {
		first = reserve_fresh(t, 1);
		if (!first)
			return -ENOMEM;
		*out = first;
		return 0;
	}
	if (c->n == 0) {
		first = reserve_fresh(t, RA_SLOT_RESERVE);
		if (!first)
			return -ENOMEM;
		/* Push in reverse so indices are handed out ascending. */
		for (uint32_t i = RA_SLOT_RESERVE; i-- > 0;)
			if (cache_push(c, first + i) < 0)
				return -ENOMEM;
	}
	*out = c->idx[--c->n];
	return 0;
}

int ra__slot_free(ra_slot_cache_t *c, uint32_t idx)
{
	/* On ENOMEM the index is simply never reused: a slot, not a leak. */
	return cache_push(c, idx);
}
