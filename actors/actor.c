/*
 * actors/actor.c: running an actor's callbacks and its stop sequence.
 */
#include <errno.h>
#include <stdlib.h>

#include "actors/actor.h"
#include "actors/fence.h"
#include "actors/hooks.h"
#include "actors/links.h"
#include "actors/slot.h"
#include "actors/steal.h"
#include "actors/timers.h"
#include "mailbox/pool.h"
#include "shard/clock.h"
#include "shard/hdr_histogram.h"
#include "shard/hooks.h"
#include "shard/runtime.h"

void ra__actor_list_add(ra_shard_t *sh, ra_actor_t *a)
{
	ra__list_insert_tail(&sh->actors, &a->all_node);
	sh->nactors++;
	if (a->stealable)
		ck_pr_store_32(&sh->nstealable, sh->nstealable + 1);
}

void ra__actor_list_del(ra_shard_t *sh, ra_actor_t *a)
{
	ra__list_remove(&a->all_node);
	sh->nactors--;
	if (a->stealable)
		ck_pr_store_32(&sh->nstealable, sh->nstealable - 1);
}

void ra__actor_attach(ra_shard_t *sh, ra_actor_t *a)
{
	ra__actor_list_add(sh, a);
	ra__stats_inc(&sh->stats.actors_spawned);
	a->status = RA_ACTOR_READY;
	ra__actor_schedule(sh, a);
}

void ra__actor_request_stop(ra_shard_t *sh, ra_actor_t *a, int reason)
{
	if (a->stop_requested)
		return;
	a->stop_requested = true;
	a->stop_reason = reason;
	ra__actor_schedule(sh, a);
}

RA_COLD int ra__actor_shard_init(ra_shard_t *sh)
{
	sh->slots = calloc(1, sizeof(*sh->slots));
	if (!sh->slots)
		return -ENOMEM;
	ra__steal_init(sh);
	return 0;
}

RA_COLD void ra__actor_shard_fini(ra_shard_t *sh)
{
	if (sh->slots)
		ra__slot_cache_fini(sh->slots);
	free(sh->slots);
	sh->slots = NULL;
}

void ra__actor_stop_all(ra_shard_t *sh)
{
	ra_list_t *n;

	ra_list_for_each(n, &sh->actors)
		ra__actor_request_stop(sh, ra_container_of(n, ra_actor_t,
							   all_node),
				       -ESHUTDOWN);
}

void ra__actor_discard(ra_actor_t *a)
{
	ra__links_free(a);	/* a spawn_link's half-made link */
	free(a);
}

/* Last step: terminate, forget, free. No I/O of ours is in the kernel. */
static void finalize(ra_shard_t *sh, ra_actor_t *a)
{
	ra_runtime_t *rt = sh->rt;

	/* Exit steps 3-5 (ringactor.h, ra_exit): DOWN, EXIT, name. */
	ra__links_exit(sh, a);
	if (a->def->terminate)
		a->def->terminate(a, a->state, a->stop_reason);
	a->io_timeout_ns = 0;
	/* After terminate, which may still read the buffers it claimed. */
	if (a->io_bufs)
		ra__bufring_release_all(sh, a);
	/* terminate may have sent to itself: those are dead letters too. */
	for (ra_envelope_t *e; (e = ra__actor_pop(sh, a));) {
		ra__stats_inc(&sh->stats.dead_letters);
		ra__envelope_release(sh, e);
	}
	ra__actor_list_del(sh, a);
	(void)ra__slot_free(sh->slots, a->ref.slot);
	ra__stats_inc(&sh->stats.actors_stopped);
	ra__links_free(a);
	free(a);
	ra__runtime_actor_gone(rt);
}

/*
 * Stop sequence: the slot dies first so new sends fail at once with
 * -ESRCH; queued messages become dead letters (replies to asks too; a
 * tick or timeout of our own timers is just dropped); timers and asks are
 * cancelled; pending I/O is cancelled, and finalize waits until the last
 * completion has come back, so that no buffer is freed while the kernel
 * may still write to it.
 */
static void begin_stop(ra_shard_t *sh, ra_actor_t *a)
{
	a->status = RA_ACTOR_STOPPING;
	ra__slot_kill(ra__slot_get(sh->rt->slots, a->ref.slot));
	for (ra_envelope_t *e; (e = ra__actor_pop(sh, a));) {
		if (e->kind >= RA_ENV_LINK &&
		    e->kind <= RA_ENV_EXIT_DIRECT) {
			/* Links and monitors made before death still count. */
			(void)ra__links_receive(sh, a, e);
		} else if (e->type == RA_MSG_IO && e->kind == RA_ENV_USER) {
			ra__io_discard_completion(sh, e);
		} else {
			if (ra__envelope_is_letter(e->kind))
				ra__stats_inc(&sh->stats.dead_letters);
			ra__envelope_release(sh, e);
		}
	}
	/* Exit step 2 (ringactor.h, ra_exit): timers, then I/O. */
	ra__timers_cancel_all(sh, a);
	if (a->io_pending) {
		ra__io_cancel_all(sh, a);
		return;		/* ra__actor_io_drained() finishes */
	}
	finalize(sh, a);
}

void ra__actor_io_drained(ra_shard_t *sh, ra_actor_t *a)
{
	if (a->io_pending == 0)
		finalize(sh, a);
}

static void run_init(ra_shard_t *sh, ra_actor_t *a)
{
	int ret = 0;

	a->status = RA_ACTOR_RUNNING;
	if (a->def->init)
		ret = a->def->init(a, a->state, a->init_arg);
	a->init_arg = NULL;
	a->io_timeout_ns = 0;	/* a deadline no call took dies here */
	if (ret < 0)
		ra__actor_request_stop(sh, a, ret);
	else if (sh->shutdown_seen)
		ra__actor_request_stop(sh, a, -ESHUTDOWN);
}

/*
 * One behavior call. A message the sender stamped (every timing_sample-th)
 * is timed: mailbox wait up to now, and the call itself.
 */
static void run_one(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	ra_msg_t m = {
		.type = e->type,
		.from = e->from,
		.data = e->len ? ra__envelope_data(e) : NULL,
		.len = e->len,
	};
	uint64_t start = 0;
	int ret;

	if (e->type == RA_MSG_IO) {
		m.res = e->u.io.res;
		m.tag = e->u.io.tag;
		m.flags = e->u.io.mflags;
	} else if (ra_unlikely(e->flags & RA_ENV_TAGGED)) {
		/* An ask request, RA_MSG_REPLY or RA_MSG_TIMEOUT: the aref. */
		m.tag = e->tag;
		if (e->type == RA_MSG_TIMEOUT)
			m.res = -ETIMEDOUT;
	}
	if (e->sent_ns) {
		start = ra__clock_now_ns();
		ra__stats_record(&sh->hists, RA_HIST_MAILBOX_WAIT,
				 (int64_t)(start - e->sent_ns));
	}
	a->cur_env = e;
	ret = a->def->behavior(a, a->state, &m);
	a->cur_env = NULL;
	if (ra_unlikely(a->io_timeout_ns))
		a->io_timeout_ns = 0;	/* a deadline no call took dies here */
	/* Its ring buffer goes back unless the behavior claimed it. */
	if (ra_unlikely(e->flags & RA_ENV_RINGBUF))
		ra__bufring_return_env(sh, e);
	ra__shard_work(sh);
	if (start)
		ra__stats_record(&sh->hists, RA_HIST_RUN,
				 (int64_t)(ra__clock_now_ns() - start));
	if (e->type != RA_MSG_IO)
		ra__stats_inc(&sh->stats.msgs_delivered);
	ra__envelope_release(sh, e);
	if (ret < 0)
		ra__actor_request_stop(sh, a, ret);
}

/*
 * A runtime envelope (signal, timer tick, ask reply or timeout) reached
 * `a`'s turn: true when the behavior should see it, otherwise it was
 * applied or dropped, and released.
 */
static bool receive_special(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	if (e->kind >= RA_ENV_TIMER && e->kind <= RA_ENV_REPLY)
		return ra__timers_receive(sh, a, e);
	return ra__links_receive(sh, a, e);
}

void ra__actor_run(ra_shard_t *sh, ra_runq_node_t *node)
{
	ra_actor_t *a = ra_container_of(node, ra_actor_t, runq_node);
	unsigned n = 0;

	a->in_runq = false;
	ra__shard_run_begin(sh, &a->check_units);
	if (a->status == RA_ACTOR_READY)
		run_init(sh, a);
	while (!a->stop_requested && n++ < sh->budget && !sh->pass_over) {
		ra_envelope_t *e = ra__actor_pop(sh, a);

		if (!e)
			break;
		if (ra_unlikely(e->kind == RA_ENV_STOP)) {
			ra__envelope_release(sh, e);
			ra__actor_request_stop(sh, a, 0);
			break;
		}
		if (ra_unlikely(e->kind != RA_ENV_USER) &&
		    !receive_special(sh, a, e))
			continue;	/* applied; may have stopped us */
		run_one(sh, a, e);
	}
	ra__shard_run_end(sh);
	/*
	 * A stop requested during this run may have queued us again
	 * (ra_stop from init, a self-send); then the next turn stops us, so
	 * the run queue never holds a freed actor.
	 */
	if (a->stop_requested) {
		if (!a->in_runq)
			begin_stop(sh, a);
	} else if (!ra__mailbox_empty(&a->mbox)) {
		ra__actor_schedule(sh, a);
	}
}

/* ---- small public accessors ---- */

RA_API ra_ref_t ra_self(const ra_ctx_t *self)
{
	return self ? self->ref : RA_REF_NULL;
}

RA_API unsigned ra_shard_id(const ra_ctx_t *self)
{
	return self ? self->shard->id : 0;
}

RA_API ra_runtime_t *ra_runtime(const ra_ctx_t *self)
{
	return self ? self->shard->rt : NULL;
}

RA_API void ra_stop(ra_ctx_t *self, int reason)
{
	ra_exit(self, reason, NULL);
}

RA_API int ra_set_stealable(ra_ctx_t *self, bool on)
{
	if (!self)
		return -EINVAL;
	/*
	 * Senders count their messages in flight only to a slot marked
	 * STEALABLE: mark it, and let the actor move only after the round
	 * that proves no uncounted message is still on its way.
	 */
	if (on && !self->stealable)
		ra__fence_make_stealable(self->shard, self);
	self->steal_ok = on;
	return 0;
}
