/*
 * shard/theap.h: a shard's timers, ordered by deadline.
 *
 * The structure is an intrusive pairing heap (Fredman, Sedgewick, Sleator
 * and Tarjan, "The pairing heap: a new form of self-adjusting heap",
 * Algorithmica 1986), keyed by absolute CLOCK_MONOTONIC deadline in ns.
 * Why a pairing heap rather than an array-backed binary heap or a
 * hierarchical timer wheel (Varghese and Lauck 1987):
 *
 *   - It is intrusive: the node lives inside the timer record, so pushing
 *     and removing never allocate and never fail. Work stealing re-homes
 *     an actor's timers on the thief inside ra__steal_arrive(), which
 *     must not fail; an array heap might have to grow there.
 *   - Insert and find-min are O(1), remove (cancel, fire) O(log n)
 *     amortised; cancelling is as common as firing for ask timeouts.
 *   - The next deadline, which bounds the shard's sleep, is the root: a
 *     wheel would have to scan for its next non-empty slot.
 *
 * Deadlines are absolute, so a node means the same on every shard and
 * can move between heaps unchanged. Ties are broken by `seq` (the timer's
 * reference), so timers armed on one shard with the same deadline fire
 * in the order they were armed.
 *
 * Single-threaded: only the owning shard's thread touches its heap.
 */
#ifndef RA_SHARD_THEAP_H
#define RA_SHARD_THEAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ra_tnode {
	uint64_t deadline;		/* absolute CLOCK_MONOTONIC ns */
	uint64_t seq;			/* tie-break: lower fires first */
	struct ra_tnode *child;		/* leftmost child */
	struct ra_tnode *next;		/* next sibling to the right */
	/* Left sibling, or the parent for a leftmost child; NULL at the root. */
	struct ra_tnode *prev;
} ra_tnode_t;

typedef struct ra_theap {
	ra_tnode_t *root;		/* the earliest deadline; NULL = empty */
	uint32_t n;			/* nodes in the heap */
} ra_theap_t;

/* Deadline of "no timer": a shard with none sleeps without a bound. */
#define RA_TIMER_NEVER UINT64_MAX

/* Add `t` (not in any heap; deadline and seq set). Never fails. */
void ra__theap_push(ra_theap_t *h, ra_tnode_t *t);

/* Take `t` out of `h`, which must hold it. */
void ra__theap_remove(ra_theap_t *h, ra_tnode_t *t);

/* The node with the earliest deadline, or NULL. */
static inline ra_tnode_t *ra__theap_min(const ra_theap_t *h)
{
	return h->root;
}

/* The earliest deadline, or RA_TIMER_NEVER when the heap is empty. */
static inline uint64_t ra__theap_next(const ra_theap_t *h)
{
	return h->root ? h->root->deadline : RA_TIMER_NEVER;
}

#endif /* RA_SHARD_THEAP_H */
