/*
 * mailbox/pool.c: slab-backed envelope pools and envelope release.
 */
#include <stdlib.h>
#include <string.h>

#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/shard.h"

#define SLAB_BYTES (RA_POOL_SLAB_ENVELOPES * sizeof(ra_envelope_t))

RA_COLD ra_pool_t *ra__pool_create(uint16_t shard)
{
	ra_pool_t *p = aligned_alloc(RA_CACHELINE, sizeof(*p));

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
		slab[i].next = p->free;
		p->free = &slab[i];
	}
	return true;
}

void ra__pool_put_list(ra_pool_t *p, ra_envelope_t *head)
{
	while (head) {
		ra_envelope_t *next = head->next;

		ra__pool_put(p, head);
		head = next;
	}
}

ra_envelope_t *ra__envelope_heap_alloc(void)
{
	ra_envelope_t *e = aligned_alloc(RA_CACHELINE, sizeof(*e));

	if (e) {
		e->origin = RA_ORIGIN_HEAP;
		e->flags = 0;
		e->kind = RA_ENV_USER;
	}
	return e;
}

ra_envelope_t *ra__envelope_control(ra_pool_t *p, uint8_t kind, ra_ref_t to)
{
	ra_envelope_t *e = p ? ra__pool_get(p) : ra__envelope_heap_alloc();

	if (e) {
		e->to = to;
		e->from = RA_REF_NULL;
		e->type = 0;
		e->len = 0;
		e->sent_ns = 0;
		e->kind = kind;
	}
	return e;
}

void ra__envelope_drop_payload(ra_envelope_t *e)
{
	if (e->flags & RA_ENV_OWNED) {
		free(e->u.buf);
		e->flags &= (uint8_t)~RA_ENV_OWNED;
	}
}

void ra__envelope_release(struct ra_shard *sh, ra_envelope_t *e)
{
	ra__envelope_drop_payload(e);
	if (ra_likely(e->origin == sh->id))
		ra__pool_put(sh->pool, e);
	else if (e->origin == RA_ORIGIN_HEAP)
		free(e);
	else
		ra__msgring_return(sh, e);
}
