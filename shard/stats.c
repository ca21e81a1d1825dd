/*
 * shard/stats.c: per-shard histograms and ra_stats_snapshot().
 */
#include <errno.h>
#include <string.h>

#include "shard/hdr_histogram.h"
#include "shard/runtime.h"
#include "shard/stats.h"
#include "shard/tsan.h"

ra_hdr_t *ra__stats_hist_create(ra_shard_hists_t *hs, unsigned id)
{
	ra_hdr_t *h;

	if (ra__hdr_create_ns(&h) < 0)
		return NULL;
	/* Pairs with the acquire in ra_stats_snapshot(). */
	ra__tsan_release(&hs->h[id]);
	ck_pr_fence_store();
	ck_pr_store_ptr(&hs->h[id], h);
	return h;
}

void ra__stats_hists_fini(ra_shard_hists_t *hs)
{
	for (unsigned i = 0; i < RA_NHISTS; i++) {
		ra_hdr_destroy(hs->h[i]);
		hs->h[i] = NULL;
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
	out->late_replies += ck_pr_load_64(&s->late_replies);
	out->timers_fired += ck_pr_load_64(&s->timers_fired);
	out->multishot_rearms += ck_pr_load_64(&s->multishot_rearms);
	out->recv_enobufs += ck_pr_load_64(&s->recv_enobufs);
	out->accept_backoffs += ck_pr_load_64(&s->accept_backoffs);
	out->send_zc += ck_pr_load_64(&s->send_zc);
	out->multishot_enomem += ck_pr_load_64(&s->multishot_enomem);
}

/* Busy = time since the shard started minus the idle time it counted. */
static uint64_t shard_busy_ns(const ra_shard_t *sh, uint64_t now)
{
	uint64_t up = now - ck_pr_load_64((uint64_t *)&sh->started_ns);
	uint64_t idle = ck_pr_load_64((uint64_t *)&sh->stats.idle_ns);

	return up > idle ? up - idle : 0;
}

/* Merge every shard's histogram `id` into a new one in *out. */
static int merge_hist(ra_runtime_t *rt, unsigned id, ra_hdr_t **out)
{
	int ret = ra__hdr_create_ns(out);

	for (unsigned s = 0; ret == 0 && s < rt->nshards; s++) {
		ra_shard_hists_t *hs = &rt->shards[s]->hists;
		ra_hdr_t *h = ck_pr_load_ptr(&hs->h[id]);

		if (h) {
			ra__tsan_acquire(&hs->h[id]);
			(void)ra_hdr_merge(*out, h);
		}
	}
	return ret;
}

/*
 * sizeof(ra_stats_t) in the first ringactor.h with a size field (x86-64):
 * the smallest snapshot a program may ask for. It never changes when
 * fields are added; every histogram of this version lies within it, so a
 * caller always owns all of them (a histogram added later beyond a
 * caller's size must be freed here instead of handed over).
 */
#define RA_STATS_SIZE_FIRST	272u
_Static_assert(sizeof(ra_stats_t) >= RA_STATS_SIZE_FIRST,
	       "ra_stats_t only grows");
_Static_assert(offsetof(ra_stats_t, timer_late_ns) + sizeof(ra_hdr_t *) <=
	       RA_STATS_SIZE_FIRST, "the first version's histograms");

RA_API int ra_stats_snapshot_size(ra_runtime_t *rt, ra_stats_t *caller,
				  size_t size)
{
	ra_hdr_t *merged[RA_NHISTS] = { NULL };
	ra_stats_t all, *out = &all;

	/* A failed snapshot is one ra_stats_fini() leaves alone. */
	if (caller && size >= sizeof(caller->size))
		caller->size = 0;
	if (!rt || !caller || size < RA_STATS_SIZE_FIRST)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < RA_NHISTS; i++) {
		if (merge_hist(rt, i, &merged[i]) < 0) {
			for (unsigned j = 0; j <= i; j++)
				ra_hdr_destroy(merged[j]);
			return -ENOMEM;
		}
	}
	for (unsigned s = 0; s < rt->nshards; s++) {
		sum_counters(out, &rt->shards[s]->stats);
		out->busy_ns += shard_busy_ns(rt->shards[s], ra__clock_now_ns());
	}
	out->dead_letters += ck_pr_load_64(&rt->outside_dead_letters);
	out->actors_live = ck_pr_load_64(&rt->live);
	out->mailbox_wait_ns = merged[RA_HIST_MAILBOX_WAIT];
	out->run_ns = merged[RA_HIST_RUN];
	memcpy(out->io_ns, &merged[RA_HIST_IO], sizeof(out->io_ns));
	out->timer_late_ns = merged[RA_HIST_TIMER_LATE];
	out->size = size < sizeof(all) ? size : sizeof(all);
	memcpy(caller, out, out->size);
	return 0;
}

RA_API void ra_stats_fini(ra_stats_t *st)
{
	if (!st || st->size < RA_STATS_SIZE_FIRST)
		return;
	ra_hdr_destroy(st->mailbox_wait_ns);
	ra_hdr_destroy(st->run_ns);
	for (unsigned i = 0; i < RA_IO_NOPS; i++)
		ra_hdr_destroy(st->io_ns[i]);
	ra_hdr_destroy(st->timer_late_ns);
	memset(st, 0, st->size);
}

RA_API int ra_shard_info(ra_runtime_t *rt, unsigned shard,
			 ra_shard_info_t *out)
{
	ra_shard_t *sh;

	if (!rt || !out || shard >= rt->nshards)
		return -EINVAL;
	sh = rt->shards[shard];
	out->busy_ns = shard_busy_ns(sh, ra__clock_now_ns());
	out->load = ck_pr_load_64(&sh->load);
	out->actors_in = ck_pr_load_64(&sh->stats.actors_migrated);
	out->actors_out = ck_pr_load_64(&sh->stats.actors_out);
	out->steal_attempts = ck_pr_load_64(&sh->stats.steal_attempts);
	return 0;
}
