/*
 * t/steal_util.h: what the work-stealing tests share (t/steal,
 * t/steal_outside, t/timers' steal case): the aggressive steal knobs, the
 * migration count, deadlines stretched for sanitizer builds, a seed mixer,
 * and receivers that turn stealable or pinned and note where they must
 * stay while pinned.
 */
#ifndef RA_T_STEAL_UTIL_H
#define RA_T_STEAL_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

/* Aggressive knobs: any difference is worth a steal, retry soon. */
static inline void steal_config_aggressive(ra_config_t *cfg, unsigned shards)
{
	ra_config_init(cfg);
	cfg->shards = shards;
	cfg->steal_margin = 0;
	cfg->steal_probe = 3;
	cfg->steal_batch = 16;
	cfg->steal_budget = 64;
	cfg->steal_backoff_min_ns = 1000;
	cfg->steal_backoff_max_ns = 50000;
}

/* Migrations so far, without merging histograms (cheap to poll). */
static inline uint64_t steal_migrations(ra_runtime_t *rt, unsigned nshards)
{
	uint64_t m = 0;

	for (unsigned s = 0; s < nshards; s++) {
		ra_shard_info_t si;

		if (ra_shard_info(rt, s, &si) == 0)
			m += si.actors_in;
	}
	return m;
}

/* A seed's bits spread over 32 (the murmur3 finalizer's first half). */
static inline uint32_t mix32(uint64_t x)
{
	x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(x ^ (x >> 33));
}

/* ra_set_stealable() failures, and actors turned stealable, in a test. */
static atomic_long set_errors, made_stealable;

/* A receiver's movability: stealable now, or pinned to pin_shard. */
struct movability {
	bool movable;
	unsigned pin_shard;
};

/* Allow or forbid moving now; while pinned, note where it must stay. */
static inline void set_movable(ra_ctx_t *self, struct movability *mv,
			       bool on)
{
	if (ra_set_stealable(self, on) != 0)
		atomic_fetch_add(&set_errors, 1);
	if (on && !mv->movable)
		atomic_fetch_add(&made_stealable, 1);
	mv->movable = on;
	mv->pin_shard = ra_shard_id(self);
}

/* True if a pinned receiver is found away from where it was pinned. */
static inline bool moved_while_pinned(ra_ctx_t *self,
				      const struct movability *mv)
{
	return !mv->movable && ra_shard_id(self) != mv->pin_shard;
}

#endif
