/*
 * actors/hooks.h: the calls the actor layer makes into io/ above it
 * (docs/architecture.md, "Layers").
 *
 * An actor that stops must not be freed while the kernel may still write
 * into a buffer it lent (docs/architecture.md, "I/O as messages"): its stop sequence
 * cancels its pending requests and drops their completions. Those two
 * steps are the I/O layer's, defined in io/io.c, which includes this
 * header so that the compiler checks the two agree.
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

#endif /* RA_ACTORS_HOOKS_H */
