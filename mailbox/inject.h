/*
 * mailbox/inject.h: the injection ring, how threads that are not shards
 * (main, a signal handler's thread, a library's callback) put envelopes
 * into a shard's CQ.
 *
 * One plain io_uring per runtime, guarded by a mutex since it is never on
 * a hot path: each call submits one IORING_OP_MSG_RING to the target
 * shard's ring and waits for its result, so the caller knows the envelope
 * is delivered (or keeps it on failure). The ring is also the runtime's
 * probe for io_uring and msg_ring at create.
 */
#ifndef RA_MAILBOX_INJECT_H
#define RA_MAILBOX_INJECT_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mailbox/envelope.h"
#include "shard/hooks.h"

typedef struct ra_inject {
	pthread_mutex_t lock;
	struct io_uring ring;
	uint64_t tag;		/* last SQE's tag; under lock */
	bool ready;		/* ring set up */
} ra_inject_t;

/*
 * Send `e` to shard `dest` from a non-shard thread. On success the
 * envelope belongs to the target. Returns 0 or -errno (the caller keeps
 * `e`): a full target CQ is retried for a while, never lost.
 */
int ra__inject_send(struct ra_runtime *rt, unsigned dest, ra_envelope_t *e);

#endif /* RA_MAILBOX_INJECT_H */
