/*
 * mailbox/msgring.h: the cross-shard transport, IORING_OP_MSG_RING CQE
 * injection with per-destination batching (docs/architecture.md, "Data flow of one message").
 *
 * A message to another shard is appended to the sender's outbox for that
 * shard. At the end of the turn each non-empty outbox becomes one
 * msg_ring SQE whose target CQE carries the batch head in user_data; all
 * go out in the same io_uring_enter. Envelopes freed away from their
 * origin travel home the same way, in return batches.
 *
 * Ordering and retry: a msg_ring SQE is flagged IOSQE_CQE_SKIP_SUCCESS, so
 * success costs the sender no CQE. The kernel runs msg_ring inline while
 * it submits (it posts straight into the target's CQ; we use neither
 * IOPOLL nor DEFER_TASKRUN, the cases that defer it), so a failure CQE
 * (-EOVERFLOW when the target CQ cannot take it, -EAGAIN, -ENOMEM) is in
 * our CQ before io_uring_enter returns. An outbox is therefore "in flight"
 * from its SQE until our next reap after that SQE was submitted
 * (ra__msgring_reaped()): no second batch to the same shard can overtake
 * a failed one. A failed batch goes back to the front of its outbox,
 * ahead of anything queued since, and is retried in order; nothing is
 * lost.
 */
#ifndef RA_MAILBOX_MSGRING_H
#define RA_MAILBOX_MSGRING_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/envelope.h"

struct ra_shard;

typedef struct ra_outbox {
	ra_fifo_t q;		/* queued envelopes, oldest first */
	bool inflight;		/* a batch went since our last reap */
	bool dirty;		/* listed in the shard's dirty list */
} ra_outbox_t;

/* Envelopes per msg_ring before a batch goes out without waiting. */
#define RA_MSGRING_BATCH_MAX	256
/* Envelopes freed away from home that travel back together. */
#define RA_RETURN_BATCH		64

/* Queue `e` for shard `dest` (!= sh). */
void ra__msgring_post(struct ra_shard *sh, unsigned dest, ra_envelope_t *e);

/* Queue an envelope of another shard's pool to go home. */
void ra__msgring_return(struct ra_shard *sh, ra_envelope_t *e);

/* End of turn: one msg_ring SQE per non-empty, not in-flight outbox. */
void ra__msgring_flush(struct ra_shard *sh);

/*
 * After an actor run: send now the outboxes whose target shard is idle
 * (polling or asleep), so it starts on them while we finish our pass;
 * busy targets keep batching until the end of the turn. Returns how many
 * batches went (the caller submits).
 */
unsigned ra__msgring_flush_idle(struct ra_shard *sh);

/* Before sleeping: send every pending return batch, however small. */
void ra__msgring_flush_returns(struct ra_shard *sh);

/* Our own msg_ring CQE (RA_UD_SENT_*): only failures produce one. */
void ra__msgring_sent(struct ra_shard *sh, uint64_t ud, int res);

/*
 * After a reap: the first `settled` batches of sh->sent were in the
 * kernel before the reap looked at the CQ, so each has either reached its
 * target or reported its failure in that reap; their outboxes may send
 * again. Later ones (submitted while reaping) wait for the next reap.
 */
void ra__msgring_reaped(struct ra_shard *sh, unsigned settled);

/* An incoming batch: deliver each envelope in order. */
void ra__msgring_receive(struct ra_shard *sh, ra_envelope_t *head);

/* Nothing queued for and nothing in flight to any shard. */
bool ra__msgring_quiet(const struct ra_shard *sh);

#endif /* RA_MAILBOX_MSGRING_H */
