/*
 * actors/send.c: sending messages and delivering them on arrival.
 *
 * Same shard: the envelope goes straight into the target's mailbox (no
 * syscall, no atomic). Other shard: into this shard's outbox for the
 * target's home, flushed as one IORING_OP_MSG_RING at the end of the turn
 * (mailbox/msgring.c). Non-shard threads go through the runtime's injection
 * ring (shard/runtime.c).
 *
 * Stealable targets (RA_SLOT_STEALABLE) add the hand-off protocol of
 * docs/architecture.md, "Work stealing": a send from another thread is
 * counted in the slot's `inflight` until the home shard has it in the
 * mailbox, and a send that finds the target MIGRATING is parked on the
 * sending shard (or retried, off-shard) until the new home takes over.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/actor.h"
#include "actors/deliver.h"
#include "actors/fence.h"
#include "actors/links.h"
#include "actors/send.h"
#include "actors/slot.h"
#include "actors/steal.h"
#include "actors/timers.h"
#include "mailbox/inject.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/hooks.h"
#include "shard/runtime.h"

/* Local or cross-shard hand-off of a filled envelope from shard `sh`. */
static void route(ra_shard_t *sh, unsigned home, ra_envelope_t *e)
{
	ra__shard_work(sh);
	if (home == sh->id) {
		ra__stats_inc(&sh->stats.msgs_local);
		ra__deliver(sh, e);
	} else {
		ra__stats_inc(&sh->stats.msgs_remote);
		ra__msgring_post(sh, home, e);
	}
}

static void park(ra_shard_t *sh, ra_envelope_t *e)
{
	ra__list_fifo_push(&sh->parked, &e->link);
}

/* Is an envelope to `r` parked on shard `sh`? */
static bool parked_for(const ra_shard_t *sh, ra_ref_t r)
{
	for (ra_slink_t *l = sh->parked.head; l; l = l->next)
		if (ra_ref_eq(ra__envelope_of(l)->to, r))
			return true;
	return false;
}

/*
 * A send from shard `sh` to a stealable target. Messages to a ref with
 * parked ones queue behind them (per-sender FIFO); otherwise the message
 * is counted and routed to the home the count saw, or parked while the
 * target migrates. Returns 0 or -ESRCH (`e` still the caller's).
 */
static int send_stealable(ra_shard_t *sh, ra_slot_t *s, ra_envelope_t *e)
{
	int home;

	if (sh->parked.count && parked_for(sh, e->to)) {
		park(sh, e);
		return 0;
	}
	home = ra__slot_send_begin_any(s, e->to.gen);
	if (home == -EBUSY) {
		park(sh, e);
		return 0;
	}
	if (home < 0)
		return home;
	e->flags |= RA_ENV_COUNTED;
	route(sh, (unsigned)home, e);
	return 0;
}

void ra__send_park_retry(ra_shard_t *sh)
{
	ra_envelope_t *e = ra__envelope_of(ra__list_fifo_take(&sh->parked));

	while (e) {
		ra_envelope_t *next = ra__envelope_next(e);
		ra_slot_t *s = ra__slot_get(sh->rt->slots, e->to.slot);
		int home;

		/* Behind a still-parked one to the same ref: keep order. */
		if (parked_for(sh, e->to)) {
			park(sh, e);
			e = next;
			continue;
		}
		home = ra__slot_send_begin_any(s, e->to.gen);
		if (home == -EBUSY) {
			park(sh, e);
		} else if (home < 0) {
			if (ra__envelope_is_letter(e->kind))
				ra__stats_inc(&sh->stats.dead_letters);
			ra__envelope_release(sh, e);
		} else {
			e->flags |= RA_ENV_COUNTED;
			route(sh, (unsigned)home, e);
		}
		e = next;
	}
}

static int check_payload(uint32_t type, const void *data, size_t len)
{
	if (type > RA_MSG_USER_MAX || (len && !data) || len > UINT32_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Put the payload in `e`: inline when small, else a copy (copy == true)
 * or the caller's buffer taken over. -ENOMEM leaves `e` without payload.
 */
static int fill_payload(ra_envelope_t *e, const void *data, size_t len,
			bool copy)
{
	e->len = (uint32_t)len;
	if (len <= RA_INLINE_PAYLOAD && copy) {
		if (len)
			memcpy(e->u.inl, data, len);
		return 0;
	}
	if (copy) {
		void *buf = malloc(len);

		if (!buf)
			return -ENOMEM;
		memcpy(buf, data, len);
		data = buf;
	}
	e->u.buf = (void *)data;
	e->flags |= RA_ENV_OWNED;
	return 0;
}

static void fill_header(ra_envelope_t *e, ra_ref_t to, ra_ref_t from,
			uint32_t type, uint8_t kind, uint64_t sent_ns)
{
	e->to = to;
	e->from = from;
	e->type = type;
	e->kind = kind;
	e->len = 0;
	e->sent_ns = sent_ns;
}

/*
 * Send from shard `sh` as `from`. A nonzero `tag` (a timer or ask
 * reference) goes into e->tag, flagged RA_ENV_TAGGED; plain sends pass
 * a constant 0, so they pay one predictable branch. Returns 0, -ESRCH
 * (`to` is dead), or -ENOMEM; on failure the caller keeps `data` when
 * !copy.
 */
static int send_as(ra_shard_t *sh, ra_ref_t from, ra_ref_t to,
		   uint32_t type, uint8_t kind, uint64_t tag,
		   const void *data, size_t len, bool copy)
{
	ra_envelope_t *e;
	ra_slot_t *s;
	uint64_t w;
	unsigned home;
	int ret;

	s = ra__slot_lookup_any(sh->rt->slots, to, &w);
	if (!s)
		return -ESRCH;
	home = ra__slot_word_home(w);
	e = ra__pool_get(sh->pool);
	if (!e)
		return -ENOMEM;
	fill_header(e, to, from, type, kind,
		    kind == RA_ENV_USER ? ra__shard_stamp(sh, 0) : 0);
	if (tag) {
		e->tag = tag;
		e->flags |= RA_ENV_TAGGED;
	}
	ret = fill_payload(e, data, len, copy);
	if (ret < 0) {
		ra__pool_put(sh->pool, e);
		return ret;
	}
	/*
	 * A stealable actor homed here and not moving needs no count: only
	 * this thread could move it, and it is busy sending.
	 */
	if (ra_likely(!(w & RA_SLOT_STEALABLE)) ||
	    (home == sh->id && !(w & RA_SLOT_MIGRATING) && !sh->parked.count)) {
		route(sh, home, e);
		return 0;
	}
	ret = send_stealable(sh, s, e);
	if (ret < 0) {
		if (!copy)
			e->flags &= (uint8_t)~RA_ENV_OWNED; /* caller keeps buf */
		ra__envelope_release(sh, e);
	}
	return ret;
}

static int send_from_shard(ra_ctx_t *self, ra_ref_t to, uint32_t type,
			   uint8_t kind, const void *data, size_t len,
			   bool copy)
{
	int ret;

	if (!self)
		return -EINVAL;
	ret = check_payload(type, data, len);
	if (ret < 0)
		return ret;
	ret = send_as(self->shard, self->ref, to, type, kind, 0, data, len,
		      copy);
	if (ret == -ESRCH)
		ra__stats_inc(&self->shard->stats.dead_letters);
	return ret;
}

int ra__send_signal(ra_shard_t *sh, ra_ref_t from, ra_ref_t to,
		    uint8_t kind, uint32_t type, const void *data, size_t len)
{
	return send_as(sh, from, to, type, kind, 0, data, len, true);
}

int ra__send_tagged(ra_shard_t *sh, ra_ref_t from, ra_ref_t to,
		    uint8_t kind, uint32_t type, uint64_t tag,
		    const void *data, size_t len)
{
	int ret = send_as(sh, from, to, type, kind, tag, data, len, true);

	if (ret == -ESRCH && ra__envelope_is_letter(kind))
		ra__stats_inc(&sh->stats.dead_letters);
	return ret;
}

int ra__send_check_payload(uint32_t type, const void *data, size_t len)
{
	return check_payload(type, data, len);
}

RA_API int ra_send(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		   const void *data, size_t len)
{
	return send_from_shard(self, to, type, RA_ENV_USER, data, len, true);
}

RA_API int ra_send_buf(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		       void *buf, size_t len)
{
	return send_from_shard(self, to, type, RA_ENV_USER, buf, len, false);
}

RA_API int ra_stop_other(ra_ctx_t *self, ra_ref_t target)
{
	return send_from_shard(self, target, 0, RA_ENV_STOP, NULL, 0, true);
}

/*
 * Tests only (RA_TEST_OUTSIDE_SEND_DELAY_NS, shard/runtime.h): hold a
 * non-shard send between reading the target's home and injecting it.
 * That window is what the unconditional count below protects; at its
 * natural width a test sees it go wrong only now and then.
 */
static RA_COLD void test_send_delay(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A non-shard send of `kind` found its target gone: user messages and
 * stop requests count as dead letters, as they do from a shard
 * (send_from_shard()); runtime signals (exit/2) do not.
 */
static void outside_dead_letter(ra_runtime_t *rt, uint8_t kind)
{
	if (kind == RA_ENV_USER || kind == RA_ENV_STOP)
		ra__runtime_dead_letter(rt);
}

static int send_from_outside(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			     uint8_t kind, const void *data, size_t len)
{
	ra_envelope_t *e;
	ra_slot_t *s;
	uint64_t w;
	int home, ret;

	if (!rt)
		return -EINVAL;
	if (ra__shard_tls)
		return -EDEADLK;
	ret = kind == RA_ENV_USER ? check_payload(type, data, len) : 0;
	if (ret < 0)
		return ret;
	s = ra__slot_lookup_any(rt->slots, to, &w);
	if (!s) {
		outside_dead_letter(rt, kind);
		return -ESRCH;
	}
	e = ra__envelope_heap_alloc();
	if (!e)
		return -ENOMEM;
	fill_header(e, to, RA_REF_NULL, type, kind, 0);
	ret = fill_payload(e, data, len, true);
	/*
	 * Count the message (see send_stealable()) whatever the slot says:
	 * a pinned target may be made stealable while we send, and the
	 * round that covers shard senders (actors/fence.h) does not cover
	 * the injection ring. Cold path: one locked add more per call. We
	 * have no loop to park in, and a hand-off takes one msg_ring hop,
	 * so wait it out.
	 */
	home = -EBUSY;
	while (ret == 0) {
		home = ra__slot_send_begin_any(s, to.gen);
		if (home != -EBUSY)
			break;
		sched_yield();
	}
	if (ret == 0 && home < 0) {
		ret = home;
		outside_dead_letter(rt, kind);
	}
	else if (ret == 0)
		e->flags |= RA_ENV_COUNTED;
	/* Tests only: widen the window that the count above closes. */
	if (ra_unlikely(rt->test_send_delay_ns) && ret == 0)
		test_send_delay(rt->test_send_delay_ns);
	if (ret == 0)
		ret = ra__inject_send(rt, (unsigned)home, e);
	if (ret < 0) {
		if (e->flags & RA_ENV_COUNTED)
			ra__slot_send_end(s);
		ra__envelope_drop_payload(e);
		free(e);
	}
	return ret;
}

RA_API int ra_runtime_send(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			   const void *data, size_t len)
{
	return send_from_outside(rt, to, type, RA_ENV_USER, data, len);
}

int ra__send_signal_outside(ra_runtime_t *rt, ra_ref_t to, uint8_t kind,
			    uint32_t type, const void *data, size_t len)
{
	return send_from_outside(rt, to, type, kind, data, len);
}

RA_API int ra_runtime_stop_actor(ra_runtime_t *rt, ra_ref_t target)
{
	return send_from_outside(rt, target, 0, RA_ENV_STOP, NULL, 0);
}

RA_API void *ra_msg_claim(ra_ctx_t *self, const ra_msg_t *msg)
{
	ra_envelope_t *e;
	void *buf;

	if (!self || !msg || !self->cur_env || msg->len == 0)
		return NULL;
	e = self->cur_env;
	if (msg->data != ra__envelope_data(e))
		return NULL;	/* not the message being handled */
	if (e->flags & RA_ENV_OWNED) {
		/* Hand over the buffer itself; release will not free it. */
		e->flags &= (uint8_t)~RA_ENV_OWNED;
		e->u.buf = NULL;
		return (void *)msg->data;
	}
	buf = malloc(msg->len);
	if (buf)
		memcpy(buf, msg->data, msg->len);
	return buf;
}
