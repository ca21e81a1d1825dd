/*
 * core/stats.h: per-shard counters and latency histograms.
 *
 * Each shard is the only writer of its own counters and histograms, so a
 * count is a relaxed load+store (no locked instruction on the hot path);
 * ra_stats_snapshot() reads them from any thread with ck_pr loads and
 * merges, and sees each count before or after an increment, never torn.
 */
#ifndef RA_CORE_STATS_H
#define RA_CORE_STATS_H

#include <ck_pr.h>
#include <stdint.h>

#include "ringactor.h"

typedef struct ra_shard_stats {
	uint64_t actors_spawned;
	uint64_t actors_stopped;
	uint64_t msgs_local;
	uint64_t msgs_remote;
	uint64_t msgs_delivered;
	uint64_t dead_letters;
	uint64_t msgring_batches;
	uint64_t msgring_retries;
	uint64_t io_submitted;
	uint64_t io_completed;
	uint64_t io_cancelled;
	uint64_t sleeps;
	uint64_t steal_attempts;	/* requests this shard sent */
	uint64_t steal_successes;	/* requests it answered with actors */
	uint64_t actors_migrated;	/* actors that arrived here */
	uint64_t actors_out;		/* actors it handed away */
	uint64_t refusals_not_quiescent;
	uint64_t refusals_pinned;
	uint64_t refusals_below_margin;
	uint64_t refusals_in_flight;
	uint64_t busy_ns;		/* ns running actors */
} ra_shard_stats_t;

typedef struct ra_shard_hists {
	ra_hdr_t *mailbox_wait_ns;
	ra_hdr_t *run_ns;
	ra_hdr_t *io_ns[RA_IO_NOPS];
} ra_shard_hists_t;

/* Single-writer increment: see the file comment. */
static inline void ra__stat_add(uint64_t *c, uint64_t n)
{
	ck_pr_store_64(c, ck_pr_load_64(c) + n);
}

#define ra__stat_inc(c) ra__stat_add((c), 1)

int ra__shard_hists_init(ra_shard_hists_t *h);
void ra__shard_hists_fini(ra_shard_hists_t *h);

#endif /* RA_CORE_STATS_H */
