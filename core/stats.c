/*
 * core/stats.c: per-shard histograms and ra_stats_snapshot().
 */
#include <errno.h>
#include <string.h>

#include "core/hdr_histogram.h"
#include "core/runtime.h"
#include "core/stats.h"

static ra_hdr_t **hist_slot(ra_shard_hists_t *h, unsigned i)
{
	if (i == 0)
		return &h->mailbox_wait_ns;
	if (i == 1)
		return &h->run_ns;
	return &h->io_ns[i - 2];
}

#define NHISTS (2 + RA_IO_NOPS)

int ra__shard_hists_init(ra_shard_hists_t *h)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < NHISTS; i++) {
		if (ra__hdr_create_ns(hist_slot(h, i)) < 0) {
			ra__shard_hists_fini(h);
			return -ENOMEM;
		}
	}
	return 0;
}

void ra__shard_hists_fini(ra_shard_hists_t *h)
{
	for (unsigned i = 0; i < NHISTS; i++) {
		ra_hdr_destroy(*hist_slot(h, i));
		*hist_slot(h, i) = NULL;
	}
}

static void sum_counters(ra_stats_t *out, const ra_shard_stats_t *s)
{
	out->actors_spawned += ck_pr_load_64(&s->actors_spawned);
	out->actors_stopped += ck_pr_load_64(&s->actors_stopped);
	out->msgs_local += ck_pr_load_64(&s->msgs_local);
	out->msgs_remote += ck_pr_load_64(&s->msgs_remote);
	out->msgs_delivered += ck_pr_load_64(&s->msgs_delivered);
	out->dead_letters += ck_pr_load_64(&s->dead_letters);
	out->msgring_batches += ck_pr_load_64(&s->msgring_batches);
	out->msgring_retries += ck_pr_load_64(&s->msgring_retries);
	out->io_submitted += ck_pr_load_64(&s->io_submitted);
	out->io_completed += ck_pr_load_64(&s->io_completed);
	out->io_cancelled += ck_pr_load_64(&s->io_cancelled);
	out->sleeps += ck_pr_load_64(&s->sleeps);
	out->steal_attempts += ck_pr_load_64(&s->steal_attempts);
	out->steal_successes += ck_pr_load_64(&s->steal_successes);
	out->actors_migrated += ck_pr_load_64(&s->actors_migrated);
	out->refusals_not_quiescent +=
		ck_pr_load_64(&s->refusals_not_quiescent);
	out->refusals_pinned += ck_pr_load_64(&s->refusals_pinned);
	out->refusals_below_margin += ck_pr_load_64(&s->refusals_below_margin);
	out->refusals_in_flight += ck_pr_load_64(&s->refusals_in_flight);
	out->busy_ns += ck_pr_load_64(&s->busy_ns);
}

RA_API int ra_stats_snapshot(ra_runtime_t *rt, ra_stats_t *out)
{
	ra_shard_hists_t merged;

	if (!rt || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (ra__shard_hists_init(&merged) < 0)
		return -ENOMEM;
	for (unsigned s = 0; s < rt->nshards; s++) {
		ra_shard_t *sh = rt->shards[s];

		sum_counters(out, &sh->stats);
		for (unsigned i = 0; i < NHISTS; i++)
			(void)ra_hdr_merge(*hist_slot(&merged, i),
					   *hist_slot(&sh->hists, i));
	}
	out->actors_live = ck_pr_load_64(&rt->live);
	out->mailbox_wait_ns = merged.mailbox_wait_ns;
	out->run_ns = merged.run_ns;
	memcpy(out->io_ns, merged.io_ns, sizeof(out->io_ns));
	return 0;
}

RA_API void ra_stats_fini(ra_stats_t *st)
{
	if (!st)
		return;
	ra_hdr_destroy(st->mailbox_wait_ns);
	ra_hdr_destroy(st->run_ns);
	for (unsigned i = 0; i < RA_IO_NOPS; i++)
		ra_hdr_destroy(st->io_ns[i]);
	memset(st, 0, sizeof(*st));
}

RA_API int ra_shard_info(ra_runtime_t *rt, unsigned shard,
			 ra_shard_info_t *out)
{
	ra_shard_t *sh;

	if (!rt || !out || shard >= rt->nshards)
		return -EINVAL;
	sh = rt->shards[shard];
	out->busy_ns = ck_pr_load_64(&sh->stats.busy_ns);
	out->load = ck_pr_load_64(&sh->load);
	out->actors_in = ck_pr_load_64(&sh->stats.actors_migrated);
	out->actors_out = ck_pr_load_64(&sh->stats.actors_out);
	out->steal_attempts = ck_pr_load_64(&sh->stats.steal_attempts);
	return 0;
}
