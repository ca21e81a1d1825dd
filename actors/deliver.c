/*
 * actors/deliver.c: what an envelope means when it reaches its shard.
 *
 * Every envelope that arrives on a shard, from its own actors or in a
 * msg_ring batch, comes here: a message or signal for a live actor goes
 * into its mailbox (and the actor onto the run queue), a SPAWN attaches
 * its actor, exit/2 acts at once, work-stealing and fence envelopes are
 * the shard's own, and anything for an actor that is gone is a dead
 * letter (or a noproc answer to a link or monitor).
 */
#include "actors/actor.h"
#include "actors/deliver.h"
#include "actors/fence.h"
#include "actors/links.h"
#include "actors/slot.h"
#include "actors/steal.h"
#include "mailbox/hooks.h"
#include "mailbox/pool.h"
#include "shard/runtime.h"

/* Shard-level envelopes: work stealing's requests and hand-overs. */
static void deliver_control(ra_shard_t *sh, ra_envelope_t *e)
{
	if (e->kind == RA_ENV_STEAL_REQ) {
		/* Answered once the whole reap is in: ra__steal_serve(). */
		ra__list_fifo_push(&sh->steal_reqs, &e->link);
	} else if (e->kind == RA_ENV_STEAL_OFFER) {
		/* Waking us was the point: idle() will ask at once. */
		sh->steal_next_ns = 0;
		ra__envelope_release(sh, e);
	} else if (e->kind >= RA_ENV_FENCE) {
		ra__fence_receive(sh, e);
	} else {
		ra_actor_t *a = e->u.buf;

		ra__envelope_release(sh, e);
		ra__steal_arrive(sh, a);
	}
}

/*
 * A runtime envelope for the live actor `a`: SPAWN attaches it; an
 * exit/2 signal acts now, ahead of the mailbox; the rest queue in order
 * with its messages.
 */
static void deliver_runtime(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	if (e->kind == RA_ENV_SPAWN) {
		ra__envelope_release(sh, e);
		ra__actor_attach(sh, a);
	} else if (e->kind == RA_ENV_EXIT_DIRECT &&
		   !ra__links_exit_now(sh, a, e)) {
		ra__envelope_release(sh, e);
	} else {
		ra__actor_enqueue(sh, a, e);
	}
}

void ra__deliver(ra_shard_t *sh, ra_envelope_t *e)
{
	ra_slot_table_t *t = sh->rt->slots;
	ra_ref_t to = e->to;
	bool counted = e->flags & RA_ENV_COUNTED;
	ra_actor_t *a;

	if (ra_unlikely(e->kind >= RA_ENV_STEAL_REQ)) {
		deliver_control(sh, e);
		return;
	}
	a = ra__slot_actor_local(t, to, sh->id);
	if (ra_unlikely(!a)) {
		if (ra__envelope_is_letter(e->kind))
			ra__stats_inc(&sh->stats.dead_letters);
		else
			ra__links_noproc(sh, e);
		ra__envelope_release(sh, e);
	} else if (ra_likely(e->kind == RA_ENV_USER)) {
		ra__actor_enqueue(sh, a, e);
	} else {
		deliver_runtime(sh, a, e);
	}
	/* Only now, with it in the mailbox, may a steal check pass. */
	if (counted)
		ra__slot_send_end(ra__slot_get(t, to.slot));
}

void ra__deliver_failed(ra_shard_t *sh, ra_envelope_t *e)
{
	if (e->kind == RA_ENV_MIGRATE) {
		/* The thief cannot take it: take our actor back. */
		ra__steal_arrive(sh, e->u.buf);
		ra__envelope_release(sh, e);
		return;
	}
	if (e->kind == RA_ENV_FENCE) {
		ra__fence_failed(sh, e);
		return;
	}
	if (e->flags & RA_ENV_COUNTED)
		ra__slot_send_end(ra__slot_get(sh->rt->slots, e->to.slot));
	if (ra__envelope_is_letter(e->kind))
		ra__stats_inc(&sh->stats.dead_letters);
	else
		ra__links_noproc(sh, e);
	ra__envelope_release(sh, e);
}
