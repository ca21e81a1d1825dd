/*
 * actors/steal.h: work stealing, placement by load, and the parked sends
 * of the migration hand-off (docs/architecture.md, "Work stealing").
 *
 * Everything here runs on one shard's own thread; other shards are reached
 * only by envelopes over msg_ring (RA_ENV_STEAL_REQ, RA_ENV_MIGRATE) and
 * read only through the published `load` and `nstealable` hints.
 */
#ifndef RA_ACTORS_STEAL_H
#define RA_ACTORS_STEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/envelope.h"
#include "shard/shard.h"
#include "shard/util.h"

struct ra_runtime;
struct ra_actor;

/* Largest ra_config_t.steal_batch. */
#define RA_STEAL_BATCH_MAX	64u

/* Set up a shard's stealing state from the runtime's config. */
void ra__steal_init(ra_shard_t *sh);

/*
 * RA_PLACE_LEAST_LOADED: the shard with the lowest published load; ties
 * go to `sh` (the spawner's, may be NULL), then the lowest index. Any
 * thread.
 */
unsigned ra__steal_least_loaded(struct ra_runtime *rt, ra_shard_t *sh);

/*
 * Thief: if the backoff allows at `now`, ask the most loaded shards
 * (above our load by the margin) for work. Sets sh->steal_prospect when
 * some shard looked worth asking, so an idle shard wakes to retry.
 */
void ra__steal_maybe(ra_shard_t *sh, uint64_t now);

/*
 * Victim side of waking thieves: a shard with stealable work above the
 * margin wakes one sleeping shard (a STEAL_OFFER), at most once per
 * steal_backoff_max_ns, since a sleeping shard only looks for work when
 * something wakes it. Call with `now` from this pass.
 */
void ra__steal_offer(ra_shard_t *sh, uint64_t now);

/* Victim: a STEAL_REQ from `thief`, whose load was `thief_load`. */
void ra__steal_request(ra_shard_t *sh, unsigned thief, uint64_t thief_load);

/* Thief (or victim taking it back): actor `a` arrives on `sh`. */
void ra__steal_arrive(ra_shard_t *sh, struct ra_actor *a);

#endif /* RA_ACTORS_STEAL_H */
