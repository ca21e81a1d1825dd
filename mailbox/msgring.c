/*
 * mailbox/msgring.c: cross-shard batches over IORING_OP_MSG_RING.
 *
 * The kernel copies our 64-bit `data` into the target ring's CQE
 * user_data and `len` into its res (io_uring_prep_msg_ring(3)), so a batch
 * of any size costs one SQE and one CQE. The envelopes themselves never
 * move: the target walks the list in our memory. The sender's writes are
 * visible to the target because the CQ tail is published with a release
 * store in the kernel and read with an acquire in liburing.
 */
#include <errno.h>
#include <stdlib.h>

#include "mailbox/hooks.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/hooks.h"
#include "shard/ring.h"
#include "shard/runtime.h"
#include "shard/shard.h"
#include "shard/tsan.h"

static void mark_dirty(ra_shard_t *sh, unsigned dest)
{
	ra_outbox_t *ob = &sh->out_msgs[dest];

	if (!ob->dirty) {
		ob->dirty = true;
		sh->dirty[sh->ndirty++] = (uint16_t)dest;
	}
}

/*
 * Register every shard's ring fd as a fixed file of ours, so msg_ring
 * names its target by index (IOSQE_FIXED_FILE) and the kernel skips an
 * fget/fput per SQE. Done at our first send: all ring fds are published
 * before ra_runtime_create() returns, and nothing is sent before that.
 * With SINGLE_ISSUER only this thread may register. On failure we keep
 * using plain fds.
 *
 * The fds are read under rt->lock: each shard stores its ring_fd before
 * report() takes that lock. Our first send may be a steal request that
 * nothing from main preceded (a peer's load, read through ck_pr, made us
 * ask), and that path orders nothing TSan can see; the lock orders the
 * stores before these reads and every later one of ring_fd, which never
 * changes while the shards run. Once per shard.
 */
static void register_peers(ra_shard_t *sh)
{
	int *fds = malloc(sh->nshards * sizeof(*fds));

	sh->peers_checked = true;
	if (!fds)
		return;
	pthread_mutex_lock(&sh->rt->lock);
	for (unsigned i = 0; i < sh->nshards; i++)
		fds[i] = sh->rt->shards[i]->ring_fd;
	pthread_mutex_unlock(&sh->rt->lock);
	sh->peers_fixed =
		io_uring_register_files(&sh->ring, fds, sh->nshards) == 0;
	free(fds);
}

static void prep_msg_ring(ra_shard_t *sh, struct io_uring_sqe *sqe,
			  unsigned dest, uint32_t len, uint64_t data)
{
	if (ra_unlikely(!sh->peers_checked))
		register_peers(sh);
	if (ra_likely(sh->peers_fixed)) {
		io_uring_prep_msg_ring(sqe, (int)dest, len, data, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
	} else {
		io_uring_prep_msg_ring(sqe, sh->rt->shards[dest]->ring_fd, len,
				       data, 0);
	}
}

/*
 * Fault injection for tests (RA_FAULT_MSGRING=N in the environment): every
 * Nth batch is not sent; instead a NOP with the same user_data makes the
 * kernel post the failure CQE a full target CQ would (-EOVERFLOW), via
 * IORING_NOP_INJECT_RESULT, so the retry path runs exactly as it would.
 */
static bool inject_failure(ra_shard_t *sh)
{
	return ra_unlikely(sh->fault_every) &&
	       ++sh->fault_tick % sh->fault_every == 0;
}

/*
 * One msg_ring SQE carrying the whole outbox to `dest`. The target sees
 * (target_kind, head); we see (sent_kind, head, dest) in our own CQE.
 */
static bool submit_batch(ra_shard_t *sh, unsigned dest, ra_outbox_t *ob,
			 enum ra_ud_kind target_kind,
			 enum ra_ud_kind sent_kind)
{
	struct io_uring_sqe *sqe;
	ra_envelope_t *head;
	uint32_t count = ob->q.count;

	if (ra_unlikely(sh->nsent == sh->sent_cap))
		return false;	/* stays queued; the next flush retries */
	sqe = ra__ring_get_sqe(&sh->ring);
	if (ra_unlikely(!sqe))
		return false;
	head = ra__envelope_of(ra__list_fifo_take(&ob->q));
	if (inject_failure(sh))
		ra__ring_prep_injected(sqe, -EOVERFLOW);
	else
		prep_msg_ring(sh, sqe, dest, count,
			      ra__ring_ud_make(target_kind, head, sh->id));
	io_uring_sqe_set_data64(sqe, ra__ring_ud_make(sent_kind, head, dest));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	ra__tsan_release(head);
	ob->inflight = true;
	sh->sent[sh->nsent++] = ob;
	return true;
}

/* Send outbox `dest` now if it has messages and none are unsettled. */
static bool send_outbox(ra_shard_t *sh, unsigned dest)
{
	ra_outbox_t *ob = &sh->out_msgs[dest];

	if (!ob->q.count || ob->inflight ||
	    !submit_batch(sh, dest, ob, RA_UD_MSGS, RA_UD_SENT_MSGS))
		return false;
	ra__stats_inc(&sh->stats.msgring_batches);
	return true;
}

void ra__msgring_post(ra_shard_t *sh, unsigned dest, ra_envelope_t *e)
{
	ra_outbox_t *ob = &sh->out_msgs[dest];

	ra__list_fifo_push(&ob->q, &e->link);
	mark_dirty(sh, dest);
	if (ob->q.count >= RA_MSGRING_BATCH_MAX)
		(void)send_outbox(sh, dest);
}

void ra__msgring_flush(ra_shard_t *sh)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < sh->ndirty; i++) {
		unsigned dest = sh->dirty[i];
		ra_outbox_t *ob = &sh->out_msgs[dest];

		(void)send_outbox(sh, dest);
		if (ob->q.count)
			sh->dirty[keep++] = (uint16_t)dest;
		else
			ob->dirty = false;
	}
	sh->ndirty = keep;
}

unsigned ra__msgring_flush_idle(ra_shard_t *sh)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < sh->ndirty; i++) {
		unsigned dest = sh->dirty[i];

		if (ck_pr_load_32(&sh->rt->shards[dest]->idle) &&
		    send_outbox(sh, dest))
			sent++;
	}
	return sent;
}

void ra__msgring_return(ra_shard_t *sh, ra_envelope_t *e)
{
	unsigned origin = e->origin;
	ra_outbox_t *ob = &sh->out_returns[origin];

	ra__list_fifo_push(&ob->q, &e->link);
	if (ob->q.count >= RA_RETURN_BATCH && !ob->inflight)
		(void)submit_batch(sh, origin, ob, RA_UD_RETURNS,
				   RA_UD_SENT_RETURNS);
}

void ra__msgring_flush_returns(ra_shard_t *sh)
{
	for (unsigned dest = 0; dest < sh->nshards; dest++) {
		ra_outbox_t *ob = &sh->out_returns[dest];

		if (ob->q.count && !ob->inflight)
			(void)submit_batch(sh, dest, ob, RA_UD_RETURNS,
					   RA_UD_SENT_RETURNS);
	}
}

/* Errors that mean "try again later", not "this target is gone". */
static bool transient(int res)
{
	return res == -EOVERFLOW || res == -EAGAIN || res == -ENOMEM ||
	       res == -EBUSY || res == -EINTR;
}

/*
 * A message batch no shard will ever take: every message is a dead
 * letter. Its envelopes (ours) go back to our pool; payloads are freed.
 */
static void drop_batch(ra_shard_t *sh, ra_envelope_t *head)
{
	while (head) {
		ra_envelope_t *next = ra__envelope_next(head);

		ra__deliver_failed(sh, head);
		head = next;
	}
}

void ra__msgring_sent(ra_shard_t *sh, uint64_t ud, int res)
{
	bool msgs = ra__ring_ud_kind(ud) == RA_UD_SENT_MSGS;
	unsigned dest = ra__ring_ud_shard(ud);
	ra_outbox_t *ob = msgs ? &sh->out_msgs[dest] : &sh->out_returns[dest];
	ra_envelope_t *head = ra__ring_ud_ptr(ud);

	ob->inflight = false;
	if (res >= 0)
		return;		/* not asked for (skip-success), harmless */
	if (!transient(res)) {
		/*
		 * Return batches are left alone: their envelopes are slab
		 * memory of their origin, freed when the runtime is.
		 */
		if (msgs)
			drop_batch(sh, head);
		return;
	}
	/* The target never saw it: still ours, retried first, in order. */
	ra__stats_inc(&sh->stats.msgring_retries);
	ra__list_fifo_prepend(&ob->q, &head->link);
	if (msgs)
		mark_dirty(sh, dest);
}

void ra__msgring_reaped(ra_shard_t *sh, unsigned settled)
{
	unsigned i;

	for (i = 0; i < settled; i++)
		sh->sent[i]->inflight = false;
	/* Batches sent while we reaped stay in flight until the next. */
	for (i = settled; i < sh->nsent; i++)
		sh->sent[i - settled] = sh->sent[i];
	sh->nsent -= settled;
}

void ra__msgring_receive(ra_shard_t *sh, ra_envelope_t *head)
{
	/* Pairs with the release in submit_batch() on the sending shard. */
	ra__tsan_acquire(head);
	while (head) {
		ra_envelope_t *next = ra__envelope_next(head);

		ra__deliver(sh, head);
		head = next;
	}
}

bool ra__msgring_quiet(const ra_shard_t *sh)
{
	if (sh->ndirty)
		return false;
	for (unsigned i = 0; i < sh->nshards; i++)
		if (sh->out_msgs[i].inflight || sh->out_returns[i].inflight)
			return false;
	return true;
}

RA_COLD void ra__msgring_drain_cqe(ra_shard_t *sh, uint64_t ud)
{
	ra_envelope_t *e = ra__ring_ud_ptr(ud);

	if (ra__ring_ud_kind(ud) != RA_UD_MSGS)
		return;
	ra__tsan_acquire(e);
	while (e) {
		ra_envelope_t *next = ra__envelope_next(e);

		if (e->kind == RA_ENV_USER)
			ra__stats_inc(&sh->stats.dead_letters);
		ra__envelope_drop_payload(e);
		if (e->origin == RA_ORIGIN_HEAP)
			free(e);
		e = next;
	}
}

void ra__msgring_returned(ra_shard_t *sh, ra_envelope_t *head)
{
	/* Pairs with the release in submit_batch() on the returning shard. */
	ra__tsan_acquire(head);
	ra__pool_put_list(sh->pool, head);
}

RA_COLD int ra__msgring_shard_init(ra_shard_t *sh)
{
	unsigned n = sh->nshards;

	sh->pool = ra__pool_create((uint16_t)sh->id);
	sh->out_msgs = calloc(n, sizeof(*sh->out_msgs));
	sh->out_returns = calloc(n, sizeof(*sh->out_returns));
	sh->dirty = calloc(n, sizeof(*sh->dirty));
	sh->sent_cap = 4 * n;
	sh->sent = calloc(sh->sent_cap, sizeof(*sh->sent));
	if (!sh->pool || !sh->out_msgs || !sh->out_returns || !sh->dirty ||
	    !sh->sent)
		return -ENOMEM;
	return 0;
}

RA_COLD void ra__msgring_shard_fini(ra_shard_t *sh)
{
	if (sh->pool)
		ra__pool_destroy(sh->pool);
	free(sh->out_msgs);
	free(sh->out_returns);
	free(sh->dirty);
	free(sh->sent);
	sh->pool = NULL;
	sh->out_msgs = sh->out_returns = NULL;
	sh->dirty = NULL;
	sh->sent = NULL;
}
