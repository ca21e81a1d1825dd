/*
 * actors/fence.h: making an actor that was spawned pinned stealable at
 * run time (ra_set_stealable(self, true)); docs/architecture.md, "Work
 * stealing", "Stealable at run time".
 *
 * Shard senders count their messages in flight (slot->inflight) only to
 * actors whose slot word says STEALABLE. When the home shard sets that
 * bit on a running actor, a sender on another shard may have read the
 * word just before and sent uncounted; such a message may still sit in
 * that shard's outbox or in our CQ, and a move now could strand it. So
 * the actor may move only after a round of acknowledgements: the home
 * sends a FENCE to every other shard through its outbox, each answers
 * with the same envelope (now a FENCE_ACK) through its own outbox to the
 * home, and per-pair FIFO puts every uncounted message ahead of the ack.
 * Non-shard senders (ra_runtime_send, ra_runtime_stop_actor) always
 * count, so the injection ring needs no round.
 *
 * One round is in flight per shard at a time; actors made stealable
 * while one is in flight wait for the next, which starts when it ends.
 * Everything here runs on the home shard's own thread, except that a
 * peer answers a FENCE on its own.
 */
#ifndef RA_ACTORS_FENCE_H
#define RA_ACTORS_FENCE_H

#include <stdbool.h>

#include "actors/actor.h"

/*
 * Set the STEALABLE bit of `a` (homed on `sh`, not running another
 * callback, not migrating) so that senders from now on count, and ask
 * for the round after which `a` may move. Home shard.
 */
void ra__fence_make_stealable(ra_shard_t *sh, ra_actor_t *a);

/* Has every message sent to `a` uncounted been delivered? Home shard. */
static inline bool ra__fence_passed(const ra_shard_t *sh,
				    const ra_actor_t *a)
{
	return a->fence_round <= sh->fence_done;
}

/*
 * Start the round that waiting actors need, if one is due and none is in
 * flight. Called when a round is asked for, when one ends, and from the
 * periodic steal check (a start that found no envelope, -ENOMEM, is
 * retried there). Home shard.
 */
void ra__fence_kick(ra_shard_t *sh);

/* A FENCE (answer it) or FENCE_ACK (count it) arrived on `sh`. */
void ra__fence_receive(ra_shard_t *sh, ra_envelope_t *e);

/* Our FENCE to a shard whose ring is gone: it can send nothing; ack. */
void ra__fence_failed(ra_shard_t *sh, ra_envelope_t *e);

#endif /* RA_ACTORS_FENCE_H */
