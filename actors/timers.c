/*
 * actors/timers.c: the per-actor timer set, firing, and the timer API
 * (ra_send_after, ra_send_interval, ra_cancel_timer). See timers.h for
 * the two places a timer lives and why messages to self are checked
 * against the set on receipt.
 *
 * OTP semantics, named as there: erlang:send_after/3 is ra_send_after,
 * timer:send_interval/3 is ra_send_interval, erlang:cancel_timer/1 is
 * ra_cancel_timer, but with the stronger guarantee for timers to self
 * that OTP gets only with a selective receive: after a 0 from cancel,
 * the behavior never sees a message of that timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/send.h"
#include "actors/timers.h"
#include "mailbox/pool.h"
#include "shard/clock.h"
#include "shard/hooks.h"
#include "shard/stats.h"

/* A timer whose message could not be allocated tries again this late. */
#define RA_TIMER_RETRY_NS	1000000ull
/* Timers fired per loop pass at most, so a burst cannot starve the CQ. */
#define RA_TIMERS_PER_PASS	4096u
/* First size of an actor's set; it doubles past half full. */
#define RA_TIMER_SET_MIN	8u

/* ---- references ---- */

/*
 * A timer or ask reference: a per-shard counter above the shard id, so
 * unique in the runtime (up to 2^48 per shard) without a shared atomic,
 * and never 0 since the counter starts at 1.
 */
static uint64_t new_ref(ra_shard_t *sh)
{
	return (++sh->timer_seq << 16) | sh->id;
}

/* ---- the set: open addressing with linear probing ---- */

static uint32_t home_of(uint64_t id, uint32_t cap)
{
	/* Fibonacci hashing: the counter's low bits are all alike. */
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static void set_place(ra_timer_t **tab, uint32_t cap, ra_timer_t *t)
{
	uint32_t i = home_of(t->id, cap);

	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = t;
}

/* Make room for one more record; 0 or -ENOMEM. */
static int set_reserve(ra_actor_t *a)
{
	struct ra_timers *s = a->timers;
	ra_timer_t **tab;
	uint32_t cap;

	if (!s) {
		s = a->timers = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
	}
	if (2 * (s->n + 1) <= s->cap)
		return 0;
	cap = s->cap ? 2 * s->cap : RA_TIMER_SET_MIN;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->tab[i])
			set_place(tab, cap, s->tab[i]);
	free(s->tab);
	s->tab = tab;
	s->cap = cap;
	return 0;
}

static int64_t set_index(const struct ra_timers *s, uint64_t id)
{
	if (!s || !s->n)
		return -1;
	for (uint32_t i = home_of(id, s->cap); s->tab[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->tab[i]->id == id)
			return i;
	return -1;
}

/* Is k cyclically within (i, j]? */
static bool between(uint32_t i, uint32_t k, uint32_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/*
 * Empty slot i, then shift later entries of the same probe run back into
 * the hole when their home allows (Knuth's deletion for linear probing),
 * so lookups never need tombstones.
 */
static void set_delete(struct ra_timers *s, uint32_t i)
{
	uint32_t mask = s->cap - 1, j = i;

	s->tab[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->tab[j])
			break;
		if (between(i, home_of(s->tab[j]->id, s->cap), j))
			continue;	/* already as near home as it can be */
		s->tab[i] = s->tab[j];
		s->tab[j] = NULL;
		i = j;
	}
	s->n--;
}

/* ---- records ---- */

ra_timer_t *ra__timers_new(ra_actor_t *a, uint8_t kind, ra_ref_t to,
			  uint32_t type, const void *data, size_t len)
{
	ra_timer_t *t = malloc(sizeof(*t) + len);

	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->id = new_ref(a->shard);
	t->node.seq = t->id;
	t->owner = a;
	t->to = to;
	t->type = type;
	t->len = (uint32_t)len;
	t->kind = kind;
	t->to_self = ra_ref_eq(to, a->ref);
	if (len)
		memcpy(t->data, data, len);
	return t;
}

int ra__timers_arm(ra_shard_t *sh, ra_timer_t *t, uint64_t deadline)
{
	int ret = set_reserve(t->owner);

	if (ret < 0)
		return ret;
	set_place(t->owner->timers->tab, t->owner->timers->cap, t);
	t->owner->timers->n++;
	t->state = RA_TIMER_ARMED;
	t->node.deadline = deadline;
	ra__theap_push(&sh->timers, &t->node);
	return 0;
}

ra_timer_t *ra__timers_find(const ra_actor_t *a, uint64_t id)
{
	int64_t i = set_index(a->timers, id);

	return i < 0 ? NULL : a->timers->tab[i];
}

void ra__timers_forget(ra_shard_t *sh, ra_timer_t *t)
{
	int64_t i = set_index(t->owner->timers, t->id);

	if (t->state == RA_TIMER_ARMED)
		ra__theap_remove(&sh->timers, &t->node);
	if (i >= 0)
		set_delete(t->owner->timers, (uint32_t)i);
	free(t);
}

/* ---- firing ---- */

/* Put a fired or retried record back in the heap (still in the set). */
static void rearm(ra_shard_t *sh, ra_timer_t *t, uint64_t deadline)
{
	t->state = RA_TIMER_ARMED;
	t->node.deadline = deadline;
	ra__theap_push(&sh->timers, &t->node);
}

/*
 * The next tick of a periodic timer due at `due`, fired at `now`: the
 * first due + k * period after now. Ticks missed while the shard was
 * busy are skipped, not queued up (ringactor.h, ra_send_interval).
 */
static uint64_t next_tick(uint64_t due, uint64_t period, uint64_t now)
{
	uint64_t k = (now - due) / period + 1;

	if (k > (RA_TIMER_NEVER - 1 - due) / period)
		return RA_TIMER_NEVER - 1;
	return due + k * period;
}

/*
 * Send what `t` sends. To its owner (a tick to self, an ask's TIMEOUT)
 * the envelope carries the reference, checked on receipt; to anyone else
 * it is a plain message from the owner.
 */
static int send_tick(ra_shard_t *sh, ra_timer_t *t)
{
	ra_ref_t self = t->owner->ref;

	if (t->kind == RA_TIMER_ASK)
		return ra__send_tagged(sh, t->to, self, RA_ENV_TIMEOUT,
				       RA_MSG_TIMEOUT, t->id, NULL, 0);
	if (t->to_self)
		return ra__send_tagged(sh, self, self, RA_ENV_TIMER, t->type,
				       t->id, t->data, t->len);
	return ra__send_tagged(sh, self, t->to, RA_ENV_USER, t->type, 0,
			       t->data, t->len);
}

static void fire(ra_shard_t *sh, ra_timer_t *t, uint64_t now)
{
	int ret = send_tick(sh, t);

	if (ra_unlikely(ret == -ENOMEM)) {
		/* Nothing is dropped for want of an envelope: retry. */
		rearm(sh, t, now + RA_TIMER_RETRY_NS);
		return;
	}
	/* -ESRCH: a target dead at expiry is a dead letter (counted). */
	ra__stats_inc(&sh->stats.timers_fired);
	ra__stats_record(&sh->hists, RA_HIST_TIMER_LATE,
			 (int64_t)(now - t->node.deadline));
	if (t->period_ns)
		rearm(sh, t, next_tick(t->node.deadline, t->period_ns, now));
	else if (t->kind == RA_TIMER_ASK || t->to_self)
		t->state = RA_TIMER_QUEUED;	/* settled on receipt */
	else
		ra__timers_forget(sh, t);	/* a one-shot to another: done */
}

void ra__timers_expire(ra_shard_t *sh)
{
	uint64_t now = ra__clock_now_ns();
	ra_tnode_t *n;

	for (unsigned i = 0; i < RA_TIMERS_PER_PASS; i++) {
		n = ra__theap_min(&sh->timers);
		if (!n || n->deadline > now)
			break;
		ra__theap_remove(&sh->timers, n);
		/* Out of the heap: fire() must not see it as ARMED. */
		ra_container_of(n, ra_timer_t, node)->state = RA_TIMER_QUEUED;
		fire(sh, ra_container_of(n, ra_timer_t, node), now);
	}
}

/* ---- receipt ---- */

/* A TIMER envelope: a tick of a live timer to self. */
static bool receive_tick(ra_shard_t *sh, ra_timer_t *t, ra_envelope_t *e)
{
	if (!t || t->kind != RA_TIMER_SEND)
		return false;		/* cancelled: drop */
	if (!t->period_ns) {
		if (t->state != RA_TIMER_QUEUED)
			return false;
		ra__timers_forget(sh, t);	/* a one-shot is seen once */
	}
	/* The reference was for the set; the behavior sees tag 0. */
	e->flags &= (uint8_t)~RA_ENV_TAGGED;
	return true;
}

bool ra__timers_receive(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	ra_timer_t *t = ra__timers_find(a, e->tag);
	bool run = false;

	switch (e->kind) {
	case RA_ENV_TIMER:
		run = receive_tick(sh, t, e);
		break;
	case RA_ENV_TIMEOUT:
		/* Dropped if the reply was delivered first. */
		run = t && t->kind == RA_TIMER_ASK &&
		      t->state == RA_TIMER_QUEUED;
		break;
	case RA_ENV_REPLY:
		run = t && t->kind == RA_TIMER_ASK;
		if (!run)	/* after the timeout, twice, or unknown */
			ra__stats_inc(&sh->stats.late_replies);
		break;
	}
	if (run && e->kind != RA_ENV_TIMER)
		ra__timers_forget(sh, t);	/* the ask is answered */
	if (!run)
		ra__envelope_release(sh, e);
	return run;
}

/* ---- exit and migration ---- */

void ra__timers_cancel_all(ra_shard_t *sh, ra_actor_t *a)
{
	struct ra_timers *s = a->timers;

	if (!s)
		return;
	for (uint32_t i = 0; i < s->cap; i++) {
		ra_timer_t *t = s->tab[i];

		if (!t)
			continue;
		if (t->state == RA_TIMER_ARMED)
			ra__theap_remove(&sh->timers, &t->node);
		free(t);
	}
	free(s->tab);
	free(s);
	a->timers = NULL;
}

void ra__timers_detach(ra_shard_t *sh, ra_actor_t *a)
{
	struct ra_timers *s = a->timers;

	for (uint32_t i = 0; s && i < s->cap; i++)
		if (s->tab[i] && s->tab[i]->state == RA_TIMER_ARMED)
			ra__theap_remove(&sh->timers, &s->tab[i]->node);
}

void ra__timers_attach(ra_shard_t *sh, ra_actor_t *a)
{
	struct ra_timers *s = a->timers;

	/* Deadlines are absolute monotonic ns: valid here unchanged. */
	for (uint32_t i = 0; s && i < s->cap; i++)
		if (s->tab[i] && s->tab[i]->state == RA_TIMER_ARMED)
			ra__theap_push(&sh->timers, &s->tab[i]->node);
}

int ra__timers_precheck(ra_ctx_t *self, uint32_t type, const void *data,
			size_t len)
{
	int ret;

	if (!self)
		return -EINVAL;
	ret = ra__send_check_payload(type, data, len);
	if (ret < 0)
		return ret;
	return ra__actor_stopping(self) ? -ESHUTDOWN : 0;
}

/* ---- public API ---- */

static int arm_send(ra_ctx_t *self, ra_ref_t to, uint64_t delay_ns,
		    uint64_t period_ns, uint32_t type, const void *data,
		    size_t len, uint64_t *tref_out)
{
	ra_timer_t *t;
	int ret = ra__timers_precheck(self, type, data, len);

	if (ret < 0)
		return ret;
	t = ra__timers_new(self, RA_TIMER_SEND, to, type, data, len);
	if (!t)
		return -ENOMEM;
	t->period_ns = period_ns;
	ret = ra__timers_arm(self->shard, t,
			    ra__timers_deadline_after(ra__clock_now_ns(), delay_ns));
	if (ret < 0) {
		free(t);
		return ret;
	}
	if (tref_out)
		*tref_out = t->id;
	return 0;
}

RA_API int ra_send_after(ra_ctx_t *self, ra_ref_t to, uint64_t delay_ns,
			 uint32_t type, const void *data, size_t len,
			 uint64_t *tref_out)
{
	return arm_send(self, to, delay_ns, 0, type, data, len, tref_out);
}

RA_API int ra_send_interval(ra_ctx_t *self, ra_ref_t to, uint64_t period_ns,
			    uint32_t type, const void *data, size_t len,
			    uint64_t *tref_out)
{
	if (period_ns == 0)
		return -EINVAL;
	return arm_send(self, to, period_ns, period_ns, type, data, len,
			tref_out);
}

RA_API int ra_cancel_timer(ra_ctx_t *self, uint64_t tref)
{
	ra_timer_t *t;

	if (!self || !tref)
		return -EINVAL;
	t = ra__timers_find(self, tref);
	if (!t || t->kind != RA_TIMER_SEND)
		return -ENOENT;
	/* Forgotten: a tick already queued to self is dropped on receipt. */
	ra__timers_forget(self->shard, t);
	return 0;
}
