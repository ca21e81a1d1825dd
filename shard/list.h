/*
 * shard/list.h: the runtime's one intrusive list and one intrusive FIFO.
 *
 * Every queue of the runtime is one of these two, embedded in the
 * structure it links (as libuv's src/queue.h), so no list is written by
 * hand twice:
 *
 *   ra_list_t  doubly linked and circular around a sentinel head: O(1)
 *              insert at either end and removal from the middle. The run
 *              queue, a shard's actors, an actor's pending I/O requests.
 *   ra_fifo_t  singly linked, head and tail: O(1) push at the tail, pop
 *              at the head, and a NULL-terminated chain that can leave
 *              whole (a msg_ring batch is one chain) or come back in
 *              front. Mailboxes, outboxes, sends parked during a
 *              migration.
 *
 * No locking: each list belongs to one thread (its shard's).
 */
#ifndef RA_SHARD_LIST_H
#define RA_SHARD_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- ra_list_t: doubly linked, circular ---- */

typedef struct ra_list {
	struct ra_list *next;
	struct ra_list *prev;
} ra_list_t;

/* An empty list (a head), or a node that is on no list. */
static inline void ra__list_init(ra_list_t *h)
{
	h->next = h->prev = h;
}

static inline bool ra__list_empty(const ra_list_t *h)
{
	return h->next == h;
}

static inline void ra__list_insert_tail(ra_list_t *h, ra_list_t *n)
{
	n->next = h;
	n->prev = h->prev;
	h->prev->next = n;
	h->prev = n;
}

/* Unlink `n` from whatever list holds it; it is then on none. */
static inline void ra__list_remove(ra_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* The first node, or NULL when empty. */
static inline ra_list_t *ra__list_first(const ra_list_t *h)
{
	return h->next == h ? NULL : h->next;
}

static inline ra_list_t *ra__list_pop_head(ra_list_t *h)
{
	ra_list_t *n = ra__list_first(h);

	if (n)
		ra__list_remove(n);
	return n;
}

/* Every node of `h`, in order. The loop body must not remove `pos`. */
#define ra_list_for_each(pos, h) \
	for ((pos) = (h)->next; (pos) != (h); (pos) = (pos)->next)

/* ... and one that may remove `pos` (`tmp` holds the next node). */
#define ra_list_for_each_safe(pos, tmp, h)                            \
	for ((pos) = (h)->next, (tmp) = (pos)->next; (pos) != (h);     \
	     (pos) = (tmp), (tmp) = (pos)->next)

/* ---- ra_fifo_t: singly linked, head and tail ---- */

/* The link a FIFO member embeds; a chain is linked by it, NULL-ended. */
typedef struct ra_slink {
	struct ra_slink *next;
} ra_slink_t;

typedef struct ra_fifo {
	ra_slink_t *head;	/* oldest, or NULL */
	ra_slink_t *tail;	/* newest */
	uint32_t count;		/* nodes queued */
} ra_fifo_t;

static inline void ra__list_fifo_init(ra_fifo_t *q)
{
	q->head = q->tail = NULL;
	q->count = 0;
}

static inline bool ra__list_fifo_empty(const ra_fifo_t *q)
{
	return q->head == NULL;
}

/*
 * Append `n`. Returns whether the FIFO was empty (pony's rule: only the
 * push that finds a mailbox empty schedules its actor).
 */
static inline bool ra__list_fifo_push(ra_fifo_t *q, ra_slink_t *n)
{
	bool was_empty = q->head == NULL;

	n->next = NULL;
	if (was_empty)
		q->head = n;
	else
		q->tail->next = n;
	q->tail = n;
	q->count++;
	return was_empty;
}

static inline ra_slink_t *ra__list_fifo_pop(ra_fifo_t *q)
{
	ra_slink_t *n = q->head;

	if (n) {
		q->head = n->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
	}
	return n;
}

/* Take every node as one NULL-terminated chain, oldest first. */
static inline ra_slink_t *ra__list_fifo_take(ra_fifo_t *q)
{
	ra_slink_t *chain = q->head;

	ra__list_fifo_init(q);
	return chain;
}

/* Put the NULL-terminated `chain` back in front of what is queued. */
static inline void ra__list_fifo_prepend(ra_fifo_t *q, ra_slink_t *chain)
{
	ra_slink_t *last = chain;
	uint32_t n = 1;

	while (last->next) {
		last = last->next;
		n++;
	}
	last->next = q->head;
	q->head = chain;
	if (!q->tail)
		q->tail = last;
	q->count += n;
}

#endif /* RA_SHARD_LIST_H */
