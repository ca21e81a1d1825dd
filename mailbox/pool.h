/*
 * mailbox/pool.h: per-shard envelope pools.
 *
 * Each shard carves envelopes out of 32 KiB slabs into a private free
 * list: get and put are a pointer pop/push, no atomics. An envelope freed
 * on another shard is not put here directly; ra__envelope_release() queues
 * it for a batched trip home over msg_ring (mailbox/msgring.c). Slabs are
 * only freed when the runtime is destroyed, after every thread has
 * stopped.
 */
#ifndef RA_MAILBOX_POOL_H
#define RA_MAILBOX_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/envelope.h"
#include "shard/util.h"


#define RA_POOL_SLAB_ENVELOPES 256

typedef struct ra_pool {
	ra_slink_t *free;	/* free envelopes, a stack by their link */
	uint16_t shard;		/* origin stamped on every envelope */
	void **slabs;		/* every slab carved, freed at fini */
	uint32_t nslabs;
	uint32_t slab_cap;
} ra_pool_t;

/* A pool for shard `shard` (NULL on ENOMEM), and its end with its slabs. */
ra_pool_t *ra__pool_create(uint16_t shard);
void ra__pool_destroy(ra_pool_t *p);
/* Carve a new slab into the free list; false on ENOMEM. */
bool ra__pool_refill(ra_pool_t *p);

/* A fresh envelope stamped with this pool's origin, or NULL (ENOMEM). */
static inline ra_envelope_t *ra__pool_get(ra_pool_t *p)
{
	ra_envelope_t *e;

	if (ra_unlikely(!p->free) && !ra__pool_refill(p))
		return NULL;
	e = ra__envelope_of(p->free);
	p->free = e->link.next;
	e->origin = p->shard;
	e->flags = 0;
	e->kind = RA_ENV_USER;
	return e;
}

/* Give back an envelope whose origin is this pool. */
static inline void ra__pool_put(ra_pool_t *p, ra_envelope_t *e)
{
	e->link.next = p->free;
	p->free = &e->link;
}

/* Give back a whole NULL-terminated list that came home. */
void ra__pool_put_list(ra_pool_t *p, ra_envelope_t *head);

#endif /* RA_MAILBOX_POOL_H */
