/*
 * shard/runq.h: a shard's run queue, a FIFO of actors with work.
 *
 * Owned by the shard thread, no atomics. Intrusive: the actor embeds a
 * ra_runq_node_t (actors/actor.h), so core needs no actor internals. A
 * node is on the queue at most once; the actor tracks that. Doubly linked
 * so that work stealing can take a queued actor out of the middle.
 */
#ifndef RA_SHARD_RUNQ_H
#define RA_SHARD_RUNQ_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ra_runq_node {
	struct ra_runq_node *next;
	struct ra_runq_node *prev;
} ra_runq_node_t;

typedef struct ra_runq {
	ra_runq_node_t *head;
	ra_runq_node_t *tail;
	unsigned len;		/* published as part of the shard's load */
} ra_runq_t;

static inline bool ra__runq_empty(const ra_runq_t *q)
{
	return q->head == NULL;
}

static inline void ra__runq_push(ra_runq_t *q, ra_runq_node_t *n)
{
	n->next = NULL;
	n->prev = q->tail;
	if (q->head)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->len++;
}

static inline ra_runq_node_t *ra__runq_pop(ra_runq_t *q)
{
	ra_runq_node_t *n = q->head;

	if (n) {
		q->head = n->next;
		if (q->head)
			q->head->prev = NULL;
		else
			q->tail = NULL;
		q->len--;
	}
	return n;
}

/* Unlink `n`, which must be on `q`. */
static inline void ra__runq_remove(ra_runq_t *q, ra_runq_node_t *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	q->len--;
}

#endif /* RA_SHARD_RUNQ_H */
