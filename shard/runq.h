/*
 * shard/runq.h: a shard's run queue, a FIFO of actors with work.
 *
 * Owned by the shard thread, no atomics. Intrusive: the actor embeds a
 * ra_runq_node_t (actors/actor.h), so this layer needs no actor
 * internals. A node is on the queue at most once; the actor tracks that.
 * A shard/list.h list, so that work stealing can take a queued actor out
 * of the middle.
 */
#ifndef RA_SHARD_RUNQ_H
#define RA_SHARD_RUNQ_H

#include <stdbool.h>
#include <stddef.h>

#include "shard/list.h"

typedef ra_list_t ra_runq_node_t;

typedef struct ra_runq {
	ra_list_t list;		/* queued actors' nodes, oldest first */
	unsigned len;		/* published as part of the shard's load */
} ra_runq_t;

static inline void ra__runq_init(ra_runq_t *q)
{
	ra__list_init(&q->list);
	q->len = 0;
}

static inline bool ra__runq_empty(const ra_runq_t *q)
{
	return ra__list_empty(&q->list);
}

static inline void ra__runq_push(ra_runq_t *q, ra_runq_node_t *n)
{
	ra__list_insert_tail(&q->list, n);
	q->len++;
}

static inline ra_runq_node_t *ra__runq_pop(ra_runq_t *q)
{
	ra_runq_node_t *n = ra__list_pop_head(&q->list);

	if (n)
		q->len--;
	return n;
}

/* Unlink `n`, which must be on `q`. */
static inline void ra__runq_remove(ra_runq_t *q, ra_runq_node_t *n)
{
	ra__list_remove(n);
	q->len--;
}

/* The oldest node, or NULL; and whether `n` is the only one. */
static inline ra_runq_node_t *ra__runq_head(const ra_runq_t *q)
{
	return ra__list_first(&q->list);
}

static inline bool ra__runq_alone(const ra_runq_t *q, const ra_runq_node_t *n)
{
	return q->list.next == n && q->list.prev == n;
}

#endif /* RA_SHARD_RUNQ_H */
