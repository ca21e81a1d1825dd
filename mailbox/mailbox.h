/*
 * mailbox/mailbox.h: an actor's mailbox, a FIFO of envelopes.
 *
 * Only the actor's home shard touches it (docs/architecture.md), so it needs no
 * atomics: cross-shard messages are appended by the home shard itself
 * after they arrive by msg_ring. Intrusive, so push and pop never
 * allocate.
 */
#ifndef RA_MAILBOX_MAILBOX_H
#define RA_MAILBOX_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "mailbox/envelope.h"
#include "shard/list.h"

typedef ra_fifo_t ra_mailbox_t;

static inline void ra__mailbox_init(ra_mailbox_t *mb)
{
	ra__list_fifo_init(mb);
}

static inline bool ra__mailbox_empty(const ra_mailbox_t *mb)
{
	return ra__list_fifo_empty(mb);
}

/* Append; returns true when the mailbox was empty before (pony's rule). */
static inline bool ra__mailbox_push(ra_mailbox_t *mb, ra_envelope_t *e)
{
	return ra__list_fifo_push(mb, &e->link);
}

/* Take the oldest envelope, or NULL when empty. */
static inline ra_envelope_t *ra__mailbox_pop(ra_mailbox_t *mb)
{
	return ra__envelope_of(ra__list_fifo_pop(mb));
}

#endif /* RA_MAILBOX_MAILBOX_H */
