/*
 * mailbox/mailbox.h: an actor's mailbox, a FIFO of envelopes.
 *
 * Only the actor's home shard touches it (DESIGN.md), so it needs no
 * atomics: cross-shard messages are appended by the home shard itself
 * after they arrive by msg_ring. Intrusive, so push and pop never
 * allocate.
 */
#ifndef RA_MAILBOX_MAILBOX_H
#define RA_MAILBOX_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "mailbox/envelope.h"

typedef struct ra_mailbox {
	ra_envelope_t *head;	/* next to run */
	ra_envelope_t *tail;	/* last pushed */
	uint32_t count;		/* queued envelopes */
} ra_mailbox_t;

static inline void ra__mailbox_init(ra_mailbox_t *mb)
{
	mb->head = mb->tail = NULL;
	mb->count = 0;
}

static inline bool ra__mailbox_empty(const ra_mailbox_t *mb)
{
	return mb->head == NULL;
}

/* Append; returns true when the mailbox was empty before (pony's rule). */
static inline bool ra__mailbox_push(ra_mailbox_t *mb, ra_envelope_t *e)
{
	bool was_empty = mb->head == NULL;

	e->next = NULL;
	if (was_empty)
		mb->head = e;
	else
		mb->tail->next = e;
	mb->tail = e;
	mb->count++;
	return was_empty;
}

/* Take the oldest envelope, or NULL when empty. */
static inline ra_envelope_t *ra__mailbox_pop(ra_mailbox_t *mb)
{
	ra_envelope_t *e = mb->head;

	if (e) {
		mb->head = e->next;
		if (!mb->head)
			mb->tail = NULL;
		mb->count--;
	}
	return e;
}

#endif /* RA_MAILBOX_MAILBOX_H */
