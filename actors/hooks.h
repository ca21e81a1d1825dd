/*
 * actors/hooks.h: the calls the actor layer makes into io/ above it
 * (docs/architecture.md, "Layers").
 *
 * An actor that stops must not be freed while the kernel may still write
 * into a buffer it lent (docs/architecture.md, "I/O as messages"): its stop sequence
 * cancels its pending requests and drops their completions. Those
 * steps are the I/O layer's, defined in io/io.c, which includes this
 * header so that the compiler checks the two agree. Buffers of the
 * shard's buffer ring that an actor holds go back to the ring when its
 * behavior returns or when it stops (io/bufring.c).
 */
#ifndef RA_ACTORS_HOOKS_H
#define RA_ACTORS_HOOKS_H

#include "mailbox/envelope.h"

struct ra_actor;
struct ra_shard;

/* Cancel every pending request of `a` (IORING_OP_ASYNC_CANCEL). */
void ra__io_cancel_all(struct ra_shard *sh, struct ra_actor *a);

/*
 * Drop a completion nobody will read (its actor is stopping): release
 * the envelope, and close the socket a successful accept made, which
 * would otherwise leak.
 */
void ra__io_discard_completion(struct ra_shard *sh, ra_envelope_t *env);

/*
 * io/bufring.c. A message lending a ring buffer (RA_ENV_RINGBUF) was
 * handled: the buffer goes back to the ring unless the behavior claimed
 * it. And, at the end of a stop (after terminate): every buffer `a`
 * claimed and still holds goes back.
 */
void ra__bufring_return_env(struct ra_shard *sh, ra_envelope_t *env);
void ra__bufring_release_all(struct ra_shard *sh, struct ra_actor *a);

#endif /* RA_ACTORS_HOOKS_H */
