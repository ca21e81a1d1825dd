/*
 * actors/send.h: sending messages from shards and from other threads.
 *
 * Same shard: the envelope goes straight into the target's mailbox (no
 * syscall, no atomic). Other shard: into this shard's outbox for the
 * target's home (mailbox/msgring.c). Non-shard threads go through the
 * injection ring (mailbox/inject.c). Stealable targets add the hand-off
 * protocol of docs/architecture.md, "Work stealing". The public calls
 * (ra_send, ra_send_buf, ra_runtime_send, ra_stop_other, ...) are in
 * ringactor.h; these are the runtime's own.
 */
#ifndef RA_ACTORS_SEND_H
#define RA_ACTORS_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "shard/runtime.h"
#include "shard/shard.h"
#include "ringactor.h"

/* ra_send's payload check: -EINVAL or 0. */
int ra__send_check_payload(uint32_t type, const void *data, size_t len);

/*
 * Send a runtime-made envelope of `kind` and `type` from `from` (any
 * ref, alive or not) to `to`, from shard `sh`, on the normal path (per-
 * sender FIFO, stealable targets). The payload is copied. Returns 0,
 * -ESRCH (`to` is dead; not counted as a dead letter), -ENOMEM.
 */
int ra__send_signal(ra_shard_t *sh, ra_ref_t from, ra_ref_t to,
		    uint8_t kind, uint32_t type, const void *data, size_t len);

/* As ra__send_signal() from a non-shard thread (from null); -EDEADLK. */
int ra__send_signal_outside(ra_runtime_t *rt, ra_ref_t to, uint8_t kind,
			    uint32_t type, const void *data, size_t len);

/*
 * Send a runtime-made envelope of `kind` carrying `tag` (0 = none) from
 * `from` to `to`, payload copied, on the normal path. Counts a dead
 * letter for -ESRCH when the kind is a letter. Returns 0, -ESRCH,
 * -ENOMEM.
 */
int ra__send_tagged(ra_shard_t *sh, ra_ref_t from, ra_ref_t to,
		    uint8_t kind, uint32_t type, uint64_t tag,
		    const void *data, size_t len);

/* ra__send_park_retry() (parked sends, after a migration): shard/hooks.h. */

#endif /* RA_ACTORS_SEND_H */
