/*
 * shard/hooks.h: the calls the shard layer makes into the layers above
 * it (docs/architecture.md, "Layers").
 *
 * The shard is the engine at the bottom: a thread, its ring, its run
 * queue and its loop. What the loop reaps, runs and flushes belongs to
 * the layers above (mailbox/, actors/, io/), which the shard layer never
 * includes. These are its only calls upward, each defined in the file its
 * name gives, which includes this header so that the compiler checks the
 * two agree. Nothing else in shard/ names a symbol of a higher layer.
 */
#ifndef RA_SHARD_HOOKS_H
#define RA_SHARD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct ra_envelope;
struct ra_io_req;
struct ra_registry;
struct ra_runtime;
struct ra_list;
struct ra_shard;
struct ra_slot_table;

/* ---- mailbox/msgring.c: the cross-shard transport ---- */

/* A shard's transport state (pool, outboxes): 0 or -ENOMEM; and undo. */
int ra__msgring_shard_init(struct ra_shard *sh);
void ra__msgring_shard_fini(struct ra_shard *sh);
/* CQEs of the transport: an incoming batch, returned envelopes, ours. */
void ra__msgring_receive(struct ra_shard *sh, struct ra_envelope *head);
void ra__msgring_returned(struct ra_shard *sh, struct ra_envelope *head);
void ra__msgring_sent(struct ra_shard *sh, uint64_t ud, int res);
void ra__msgring_reaped(struct ra_shard *sh, unsigned settled);
/* End of a pass, mid-pass to idle targets, before sleeping. */
void ra__msgring_flush(struct ra_shard *sh);
unsigned ra__msgring_flush_idle(struct ra_shard *sh);
void ra__msgring_flush_returns(struct ra_shard *sh);
bool ra__msgring_quiet(const struct ra_shard *sh);
/* After the thread was joined: batches still in its CQ are dead letters. */
void ra__msgring_drain_cqe(struct ra_shard *sh, uint64_t ud);

/* ---- mailbox/inject.c: the injection ring of non-shard threads ---- */

int ra__inject_create(struct ra_runtime *rt);
void ra__inject_destroy(struct ra_runtime *rt);
/* Wake every shard whose ring is up (shutdown). */
void ra__inject_wake_all(struct ra_runtime *rt);

/* ---- actors/: running actors, stealing, timers ---- */

/* actors/actor.c: per-shard actor state; run the actor queued at `n`. */
int ra__actor_shard_init(struct ra_shard *sh);
void ra__actor_shard_fini(struct ra_shard *sh);
void ra__actor_run(struct ra_shard *sh, struct ra_list *n);
void ra__actor_stop_all(struct ra_shard *sh);
/* actors/slot.c: the runtime's actor table. */
struct ra_slot_table *ra__slot_table_create(void);
void ra__slot_table_destroy(struct ra_slot_table *t);
/* actors/registry.c: the runtime's name registry. */
struct ra_registry *ra__registry_create(void);
void ra__registry_destroy(struct ra_registry *r);
/* actors/send.c: retry sends parked while their target migrated. */
void ra__send_park_retry(struct ra_shard *sh);
/* actors/timers.c: fire the timers that are due. */
void ra__timers_expire(struct ra_shard *sh);
/* actors/steal.c and actors/fence.c: work stealing. */
void ra__steal_maybe(struct ra_shard *sh, uint64_t now);
/* Answer the steal requests the last reap brought (after it). */
void ra__steal_serve(struct ra_shard *sh);
void ra__steal_offer(struct ra_shard *sh, uint64_t now);
void ra__fence_kick(struct ra_shard *sh);

/* ---- io/io.c: I/O requests ---- */

/* A CQE of a request: its res and flags (IORING_CQE_F_*). */
void ra__io_complete(struct ra_shard *sh, struct ra_io_req *req, int res,
		     uint32_t flags);
void ra__io_shard_fini(struct ra_shard *sh);

#endif /* RA_SHARD_HOOKS_H */
