/*
 * actors/steal.c: work stealing between shards.
 *
 * A thief (a shard about to sleep, or with a short run queue) sends
 * STEAL_REQ envelopes over msg_ring to the shards with the highest
 * published load. A victim answers on its own thread, between actor
 * runs, by handing over quiescent stealable actors in MIGRATE envelopes;
 * the mailbox backlog travels inside the actor. There is no lock and no
 * shared queue: the only cross-thread state is the slot word and its
 * `inflight` count (the hand-off protocol, actors/slot.h and
 * docs/architecture.md) and the published load hints.
 */
#include <errno.h>
#include <stdlib.h>

#include "actors/actor.h"
#include "actors/deliver.h"
#include "actors/fence.h"
#include "actors/slot.h"
#include "actors/steal.h"
#include "actors/timers.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/hooks.h"
#include "shard/runtime.h"
#include "shard/tsan.h"

#define HOME_MASK (0xffffull << 16)

void ra__steal_init(ra_shard_t *sh)
{
	const ra_config_t *c = &sh->rt->cfg;

	sh->steal_on = !(c->flags & RA_CFG_NO_STEAL) && c->steal_budget &&
		       c->steal_probe && c->steal_batch && sh->nshards > 1;
	sh->steal_backoff_ns = c->steal_backoff_min_ns;
}

unsigned ra__steal_least_loaded(ra_runtime_t *rt, ra_shard_t *sh)
{
	unsigned best = sh ? sh->id : 0;
	uint64_t best_load = ck_pr_load_64(&rt->shards[best]->load);

	for (unsigned i = 0; i < rt->nshards; i++) {
		uint64_t l = ck_pr_load_64(&rt->shards[i]->load);

		if (l < best_load) {
			best = i;
			best_load = l;
		}
	}
	return best;
}

/* ---- thief ---- */

static void send_request(ra_shard_t *sh, unsigned victim, uint64_t load)
{
	ra_envelope_t *e = ra__envelope_control(sh->pool, RA_ENV_STEAL_REQ,
						RA_REF_NULL);

	if (!e)
		return;
	e->u.steal.thief = sh->id;
	e->u.steal.load = load;
	ra__msgring_post(sh, victim, e);
	ra__stats_inc(&sh->stats.steal_attempts);
}

void ra__steal_maybe(ra_shard_t *sh, uint64_t now)
{
	const ra_config_t *c = &sh->rt->cfg;
	unsigned pick[RA_STEAL_BATCH_MAX];
	uint64_t pick_load[RA_STEAL_BATCH_MAX];
	unsigned npick = 0, want = c->steal_probe;
	uint64_t own;

	if (!sh->steal_on || sh->shutdown_seen || now < sh->steal_next_ns)
		return;
	/* Exponential backoff while our requests bring nothing back. */
	if (sh->steal_got)
		sh->steal_backoff_ns = c->steal_backoff_min_ns;
	else if (sh->steal_tried && sh->steal_backoff_ns <
		 c->steal_backoff_max_ns / 2)
		sh->steal_backoff_ns *= 2;
	else if (sh->steal_tried)
		sh->steal_backoff_ns = c->steal_backoff_max_ns;
	sh->steal_got = false;
	if (want > RA_STEAL_BATCH_MAX)
		want = RA_STEAL_BATCH_MAX;
	own = ra__shard_load(sh);
	/* The `want` most loaded shards above ours by the margin. */
	for (unsigned i = 0; i < sh->nshards; i++) {
		ra_shard_t *v = sh->rt->shards[i];
		uint64_t l;
		unsigned j;

		if (i == sh->id || !ck_pr_load_32(&v->nstealable))
			continue;
		l = ck_pr_load_64(&v->load);
		if (l <= own + c->steal_margin)
			continue;
		for (j = npick; j > 0 && pick_load[j - 1] < l; j--) {
			if (j < want) {
				pick[j] = pick[j - 1];
				pick_load[j] = pick_load[j - 1];
			}
		}
		if (j < want) {
			pick[j] = i;
			pick_load[j] = l;
			if (npick < want)
				npick++;
		}
	}
	for (unsigned k = 0; k < npick; k++)
		send_request(sh, pick[k], own);
	sh->steal_tried = npick > 0;
	sh->steal_prospect = npick > 0;
	sh->steal_next_ns = now + (npick ? sh->steal_backoff_ns
					 : c->steal_backoff_min_ns);
}

/* ---- victim ---- */

void ra__steal_offer(ra_shard_t *sh, uint64_t now)
{
	const ra_config_t *c = &sh->rt->cfg;
	ra_envelope_t *e;

	if (now < sh->offer_next_ns || sh->shutdown_seen ||
	    ra__shard_load(sh) <= c->steal_margin)
		return;
	sh->offer_next_ns = now + c->steal_backoff_max_ns;
	for (unsigned k = 1; k < sh->nshards; k++) {
		unsigned i = (sh->id + k) % sh->nshards;

		if (!ck_pr_load_32(&sh->rt->shards[i]->sleeping))
			continue;
		e = ra__envelope_control(sh->pool, RA_ENV_STEAL_OFFER,
					 RA_REF_NULL);
		if (!e)
			return;
		ra__msgring_post(sh, i, e);
		return;
	}
}

/* Does the NULL-terminated chain from `l` hold an envelope from `a`? */
static bool chain_from(const ra_slink_t *l, ra_ref_t a)
{
	for (; l; l = l->next)
		if (ra_ref_eq(ra__envelope_of((ra_slink_t *)l)->from, a))
			return true;
	return false;
}

/*
 * Has every message `a` sent left this shard for good? Once it moves, its
 * sends leave from the thief; one of its earlier messages still here
 * could arrive after them and break its per-sender order: one parked for
 * a target that is migrating, one queued in an outbox behind an earlier
 * batch, or one in a batch whose msg_ring may yet fail and be queued
 * again. Requests are answered right after a reap (ra__steal_serve()),
 * which settled every batch sent before it, so the last case is a batch
 * sent during that reap. The outbox to the thief does not count: the
 * MIGRATE follows `a`'s messages there in the same FIFO.
 */
static bool sends_settled(const ra_shard_t *sh, const ra_actor_t *a,
			  unsigned thief)
{
	if (sh->parked.count && chain_from(sh->parked.head, a->ref))
		return false;
	for (unsigned d = 0; d < sh->nshards; d++) {
		const ra_outbox_t *ob = &sh->out_msgs[d];

		if (d == thief)
			continue;
		if (ob->inflight || chain_from(ob->q.head, a->ref))
			return false;
	}
	return true;
}

/*
 * Hand `a` to `thief`, or refuse (false) because a message to it is in
 * flight, or one from it has not left this shard for good. The victim's half of the protocol: store MIGRATING, then read
 * the count (ck_pr_fence_store_load() between: see
 * ra__slot_send_begin_any()). A sender that counted before our store is
 * seen here; one that counts after it sees MIGRATING and parks.
 */
static bool try_migrate(ra_shard_t *sh, ra_actor_t *a, unsigned thief)
{
	ra_slot_t *s = ra__slot_get(sh->rt->slots, a->ref.slot);
	uint64_t w = ck_pr_load_64(&s->word);
	ra_envelope_t *e = ra__envelope_control(sh->pool, RA_ENV_MIGRATE,
						a->ref);

	if (!e)
		return false;
	if (!sends_settled(sh, a, thief)) {
		ra__pool_put(sh->pool, e);
		return false;
	}
	ck_pr_store_64(&s->word, w | RA_SLOT_MIGRATING);
	ck_pr_fence_store_load();
	if (ck_pr_load_32(&s->inflight)) {
		ck_pr_store_64(&s->word, w);
		ra__pool_put(sh->pool, e);
		return false;
	}
	/* Nothing in flight and nothing new can come: it is ours to give. */
	if (a->in_runq) {
		ra__runq_remove(&sh->runq, &a->runq_node);
		a->in_runq = false;
	}
	ra__actor_list_del(sh, a);
	sh->backlog -= a->mbox.count;
	/* Its armed timers leave our heap; the thief re-arms them. */
	if (a->timers)
		ra__timers_detach(sh, a);
	e->u.buf = a;
	/*
	 * The new home goes in before the envelope can leave (a full outbox
	 * is sent from inside ra__msgring_post()), so the thief's store that
	 * clears MIGRATING always comes after ours.
	 */
	ck_pr_store_64(&s->word, (w & ~HOME_MASK) |
				 ((uint64_t)thief << 16) | RA_SLOT_MIGRATING);
	ra__msgring_post(sh, thief, e);
	ra__stats_inc(&sh->stats.actors_out);
	return true;
}

/* Insert `a` into best[] (most queued messages first), keeping `cap`. */
static void rank(ra_actor_t **best, unsigned *n, unsigned cap, ra_actor_t *a)
{
	unsigned j;

	for (j = *n; j > 0 && best[j - 1]->mbox.count < a->mbox.count; j--)
		if (j < cap)
			best[j] = best[j - 1];
	if (j < cap) {
		best[j] = a;
		if (*n < cap)
			(*n)++;
	}
}

void ra__steal_serve(ra_shard_t *sh)
{
	ra_envelope_t *e;

	while ((e = ra__envelope_of(ra__list_fifo_pop(&sh->steal_reqs)))) {
		ra__steal_request(sh, e->u.steal.thief, e->u.steal.load);
		ra__envelope_release(sh, e);
	}
}

void ra__steal_request(ra_shard_t *sh, unsigned thief, uint64_t thief_load)
{
	const ra_config_t *c = &sh->rt->cfg;
	ra_actor_t *best[RA_STEAL_BATCH_MAX];
	unsigned nbest = 0, moved = 0, cap = c->steal_batch;
	bool seen_busy = false, refused = false, fencing = false;
	uint64_t load = ra__shard_load(sh), moved_load = 0;
	ra_list_t *n;

	if (sh->shutdown_seen || !sh->steal_on || thief >= sh->nshards ||
	    thief == sh->id || load <= thief_load + c->steal_margin) {
		ra__stats_inc(&sh->stats.refusals_below_margin);
		return;
	}
	if (cap > RA_STEAL_BATCH_MAX)
		cap = RA_STEAL_BATCH_MAX;
	if (sh->steal_given + cap > c->steal_budget)
		cap = c->steal_budget > sh->steal_given ?
		      c->steal_budget - sh->steal_given : 0;
	ra_list_for_each(n, &sh->actors) {
		ra_actor_t *a = ra_container_of(n, ra_actor_t, all_node);

		if (!cap)
			break;
		if (!a->stealable || !a->steal_ok)
			continue;
		/* Made stealable lately: uncounted sends may be on the way. */
		if (!ra__fence_passed(sh, a)) {
			fencing = true;
			continue;
		}
		/*
		 * Quiescent: not running (we are between runs on its own
		 * thread), started, not stopping, no I/O in the kernel, no
		 * buffer of our buffer ring in hand (its home is our ring).
		 */
		if (a->status != RA_ACTOR_RUNNING || a->stop_requested ||
		    a->io_pending || a->io_bufs) {
			seen_busy = true;
			continue;
		}
		rank(best, &nbest, cap, a);
	}
	/* Stop at half the difference: moving more only turns the tables. */
	for (unsigned i = 0; i < nbest; i++) {
		uint64_t l = best[i]->mbox.count + 1;

		if (moved && 2 * (moved_load + l) > load - thief_load)
			break;
		if (try_migrate(sh, best[i], thief)) {
			moved++;
			moved_load += l;
		} else {
			refused = true;
		}
	}
	if (moved) {
		sh->steal_given += moved;
		ra__stats_inc(&sh->stats.steal_successes);
	} else if (refused || fencing) {
		ra__stats_inc(&sh->stats.refusals_in_flight);
	} else if (seen_busy) {
		ra__stats_inc(&sh->stats.refusals_not_quiescent);
	} else {
		ra__stats_inc(&sh->stats.refusals_pinned);
	}
}

/* ---- thief, on arrival ---- */

void ra__steal_arrive(ra_shard_t *sh, ra_actor_t *a)
{
	ra_slot_t *s = ra__slot_get(sh->rt->slots, a->ref.slot);
	uint64_t w = ck_pr_load_64(&s->word);

	/* The msg_ring batch carried the victim's writes to `a` (tsan.h). */
	a->shard = sh;
	a->fence_round = 0;	/* it passed its round to be chosen */
	ra__actor_list_add(sh, a);
	sh->backlog += a->mbox.count;
	/* Deadlines are absolute: the victim's timers fire here on time. */
	if (a->timers)
		ra__timers_attach(sh, a);
	sh->steal_got = true;
	ra__stats_inc(&sh->stats.actors_migrated);
	/*
	 * Release: the attach above happens before any sender resolves us
	 * as the home, so what it sends finds the actor in our list.
	 */
	ra__tsan_release(&s->word);
	ck_pr_fence_store();
	ck_pr_store_64(&s->word, (w & ~(HOME_MASK | RA_SLOT_MIGRATING)) |
				 ((uint64_t)sh->id << 16));
	if (sh->shutdown_seen)
		ra__actor_request_stop(sh, a, -ESHUTDOWN);
	else if (!ra__mailbox_empty(&a->mbox))
		ra__actor_schedule(sh, a);
}
