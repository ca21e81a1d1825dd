/*
 * actors/fence.c: the acknowledgement round that lets an actor spawned
 * pinned become stealable (actors/fence.h says why it is needed).
 *
 * Why a round of messages and not ck_epoch: an epoch tells us that every
 * shard has passed a quiescent point, but an uncounted message can
 * outlive that point in the sender's outbox or in our CQ. What we need is
 * "every message sent before the peer saw the bit has reached us", and
 * the message path itself orders that for free: the ack travels behind
 * those messages on the same per-pair FIFO (mailbox/msgring.h).
 */
#include "actors/fence.h"
#include "actors/slot.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/hooks.h"
#include "shard/runtime.h"

void ra__fence_make_stealable(ra_shard_t *sh, ra_actor_t *a)
{
	ra_slot_t *s = ra__slot_get(sh->rt->slots, a->ref.slot);

	/*
	 * Only the home shard writes the word of an actor that is not
	 * migrating. The bit must be in place before any FENCE of the
	 * round we ask for leaves: that round starts no earlier than the
	 * kick below, and its msg_ring submission is a release for the
	 * peer (mailbox/msgring.c).
	 */
	ck_pr_store_64(&s->word, ck_pr_load_64(&s->word) | RA_SLOT_STEALABLE);
	ck_pr_fence_store();
	a->stealable = true;
	ck_pr_store_32(&sh->nstealable, sh->nstealable + 1);
	/* A round already in flight may have left before the store. */
	a->fence_round = sh->fence_started + 1;
	sh->fence_need = a->fence_round;
	ra__fence_kick(sh);
}

/* The round is complete: actors waiting for it may move. */
static void round_done(ra_shard_t *sh)
{
	sh->fence_done = sh->fence_started;
	ra__fence_kick(sh);
}

void ra__fence_kick(ra_shard_t *sh)
{
	ra_fifo_t list;
	ra_envelope_t *e;
	unsigned n = 0;

	if (sh->fence_acks || sh->fence_need <= sh->fence_started)
		return;
	/* Take every envelope first, so a round either starts whole or not. */
	ra__list_fifo_init(&list);
	for (; n + 1 < sh->nshards; n++) {
		e = ra__envelope_control(sh->pool, RA_ENV_FENCE, RA_REF_NULL);
		if (!e) {
			while ((e = ra__envelope_of(ra__list_fifo_pop(&list))))
				ra__pool_put(sh->pool, e);
			/* -ENOMEM: the periodic steal check retries. */
			return;
		}
		ra__list_fifo_push(&list, &e->link);
	}
	sh->fence_started++;
	sh->fence_acks = n;
	for (unsigned i = 0; i < sh->nshards; i++) {
		if (i == sh->id)
			continue;
		e = ra__envelope_of(ra__list_fifo_pop(&list));
		e->u.fence.home = sh->id;
		e->u.fence.round = sh->fence_started;
		ra__msgring_post(sh, i, e);
	}
	if (!sh->fence_acks)
		round_done(sh);	/* a single shard: nobody to ask */
}

/* One peer has answered the round in flight. */
static void ack(ra_shard_t *sh, uint64_t round)
{
	if (round != sh->fence_started || !sh->fence_acks)
		return;		/* cannot happen: one round at a time */
	if (--sh->fence_acks == 0)
		round_done(sh);
}

void ra__fence_receive(ra_shard_t *sh, ra_envelope_t *e)
{
	if (e->kind == RA_ENV_FENCE_ACK) {
		ack(sh, e->u.fence.round);
		ra__envelope_release(sh, e);
		return;
	}
	/*
	 * Everything this thread sent to the home before now, having read
	 * the word without the bit, is in our outbox to it or already gone;
	 * the ack queues behind it. The home's own envelope goes back, so
	 * answering needs no allocation and cannot fail.
	 */
	e->kind = RA_ENV_FENCE_ACK;
	ra__msgring_post(sh, e->u.fence.home, e);
}

void ra__fence_failed(ra_shard_t *sh, ra_envelope_t *e)
{
	ack(sh, e->u.fence.round);
	ra__envelope_release(sh, e);
}
