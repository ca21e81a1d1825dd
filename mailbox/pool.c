/*
 * mailbox/pool.c: slab-backed envelope pools and envelope release.
 */
#include <stdlib.h>
#include <string.h>

#include "mailbox/pool.h"

#define SLAB_BYTES (RA_POOL_SLAB_ENVELOPES * sizeof(ra_envelope_t))

/* aligned_alloc() wants a multiple of the alignment (C11; ASan checks). */
#define POOL_BYTES ((sizeof(ra_pool_t) + RA_CACHELINE - 1) & \
		    ~(size_t)(RA_CACHELINE - 1))

RA_COLD ra_pool_t *ra__pool_create(uint16_t shard)
{
	ra_pool_t *p = aligned_alloc(RA_CACHELINE, POOL_BYTES);

	if (p) {
		memset(p, 0, sizeof(*p));
		p->shard = shard;
	}
	return p;
}

RA_COLD void ra__pool_destroy(ra_pool_t *p)
{
	for (uint32_t i = 0; i < p->nslabs; i++)
		free(p->slabs[i]);
	free(p->slabs);
	free(p);
}

bool ra__pool_refill(ra_pool_t *p)
{
	ra_envelope_t *slab;

	if (p->nslabs == p->slab_cap) {
		uint32_t cap = p->slab_cap ? p->slab_cap * 2 : 16;
		void **s = realloc(p->slabs, cap * sizeof(*s));

		if (!s)
			return false;
		p->slabs = s;
		p->slab_cap = cap;
	}
	slab = aligned_alloc(RA_CACHELINE, SLAB_BYTES);
	if (!slab)
		return false;
	p->slabs[p->nslabs++] = slab;
	for (unsigned i = 0; i < RA_POOL_SLAB_ENVELOPES; i++) {
		slab[i].link.next = p->free;
		p->free = &slab[i].link;
	}
	return true;
}

void ra__pool_put_list(ra_pool_t *p, ra_envelope_t *head)
{
	while (head) {
		ra_envelope_t *next = ra__envelope_next(head);

		ra__pool_put(p, head);
		head = next;
	}
}
