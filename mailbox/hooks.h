/*
 * mailbox/hooks.h: the calls the transport makes into the actor layer
 * above it (docs/architecture.md, "Layers").
 *
 * The transport moves envelopes between shards; what an envelope means
 * on arrival (a message for a mailbox, a signal, a spawn, a steal) is the
 * actor layer's business. These are the transport's only calls upward,
 * both defined in actors/deliver.c, which includes this header so that
 * the compiler checks the two agree.
 */
#ifndef RA_MAILBOX_HOOKS_H
#define RA_MAILBOX_HOOKS_H

#include "mailbox/envelope.h"

struct ra_shard;

/* An envelope arrived on shard `sh`: hand it to its actor (or shard). */
void ra__deliver(struct ra_shard *sh, ra_envelope_t *e);

/*
 * No shard will ever take `e` (its batch failed for good): count the
 * message as a dead letter, or undo what a runtime envelope started.
 */
void ra__deliver_failed(struct ra_shard *sh, ra_envelope_t *e);

#endif /* RA_MAILBOX_HOOKS_H */
