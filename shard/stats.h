/*
 * shard/stats.h: per-shard counters and latency histograms.
 *
 * Each shard is the only writer of its own counters and histograms, so a
 * count is a relaxed load+store (no locked instruction on the hot path);
 * ra_stats_snapshot() reads them from any thread with ck_pr loads and
 * merges, and sees each count before or after an increment, never torn.
 */
#ifndef RA_SHARD_STATS_H
#define RA_SHARD_STATS_H

#include <ck_pr.h>
#include <stdint.h>

#include "shard/hdr_histogram.h"
#include "shard/util.h"
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
	uint64_t idle_ns;		/* ns polling (past 3 us) or asleep */
	uint64_t late_replies;		/* ask replies dropped at the asker */
	uint64_t timers_fired;		/* timer expiries (ticks, timeouts) */
	uint64_t multishot_rearms;	/* multishot SQEs submitted again */
	uint64_t recv_enobufs;		/* multishot recvs paused: ring empty */
	uint64_t accept_backoffs;	/* accepts waiting out EMFILE & co. */
	uint64_t send_zc;		/* zero-copy sends submitted */
	uint64_t multishot_enomem;	/* multishot ended: no envelope */
} ra_shard_stats_t;

/* A shard's latency histograms, by index. */
enum ra_hist_id {
	RA_HIST_MAILBOX_WAIT = 0,	/* sampled: send to behavior start */
	RA_HIST_RUN,			/* sampled: one behavior call */
	RA_HIST_IO,			/* + enum ra_io_op: submit to CQE */
	/* Every timer expiry: fire time - deadline. */
	RA_HIST_TIMER_LATE = RA_HIST_IO + RA_IO_NOPS,
	RA_NHISTS,
};

/*
 * Created at a shard's first record into each (a histogram is 216 KiB:
 * creating all nine up front cost 2 ms of runtime start-up, mostly page
 * faults), published with a release store for ra_stats_snapshot().
 */
typedef struct ra_shard_hists {
	ra_hdr_t *h[RA_NHISTS];
} ra_shard_hists_t;

/* Single-writer increment: see the file comment. */
static inline void ra__stats_add(uint64_t *c, uint64_t n)
{
	ck_pr_store_64(c, ck_pr_load_64(c) + n);
}

#define ra__stats_inc(c) ra__stats_add((c), 1)

void ra__stats_hists_fini(ra_shard_hists_t *h);

/* Create histogram `id` (cold path); NULL on ENOMEM (the sample is lost). */
ra_hdr_t *ra__stats_hist_create(ra_shard_hists_t *hs, unsigned id);

/* Record `ns` into histogram `id`. Owner shard only. */
static inline void ra__stats_record(ra_shard_hists_t *hs, unsigned id,
				    int64_t ns)
{
	ra_hdr_t *h = hs->h[id];

	if (ra_unlikely(!h) && !(h = ra__stats_hist_create(hs, id)))
		return;
	ra__hdr_record_fast(h, ns);
}

#endif /* RA_SHARD_STATS_H */
