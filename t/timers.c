/*
 * t/timers.c: ra_send_after, ra_send_interval, ra_cancel_timer against
 * OTP's send_after/send_interval/cancel_timer, with 1, 2 and 4 shards.
 *
 *  1. send_after fires once, never early, to self and to an actor on
 *     another shard (from = the arming actor, tag 0, payload intact).
 *  2. Several timers armed out of order arrive in deadline order.
 *  3. send_interval: ticks never early (tick k at >= arm + k * period),
 *     at most span / period of them, eventually many; none after cancel.
 *  4. Cancel before expiry: 0 and no message (to self and to another).
 *  5. Cancel after firing: -ENOENT; twice: -ENOENT; unknown: -ENOENT.
 *  6. A tick already queued is dropped when its timer is cancelled.
 *  7. Cancel racing with expiry (main cancels at a random moment): every
 *     0 means never delivered, every -ENOENT delivered exactly once, and
 *     periodic timers deliver nothing after a 0.
 *  8. An actor's timers are cancelled when it exits (no message later;
 *     under ASan, nothing leaks); arming from terminate is -ESHUTDOWN.
 *  9. Timers of stealable actors survive migration: many stealable
 *     actors with timers on one loaded shard of an aggressively stealing
 *     runtime; every one-shot fires exactly once, never early, some on
 *     another shard than armed; periodic ones cancel wherever they are.
 * 10. Bad input: -EINVAL, -ENOENT.
 *
 * RA_SEED seeds the random delays; RA_TIMER_ITERS sets the rounds of the
 * race loop (default 1500).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"
#include "steal_util.h"

#define MS		1000000ull
#define SEC		(1000 * MS)
#define MAX_RACE	20000
#define NSTEAL		160		/* stealable actors in test 9 */
#define NSTEAL_TIMERS	3		/* one-shots each */

enum {
	C_AFTER = 1,	/* arm one-shot(s): struct cmd */
	C_ORDER,	/* arm 5 one-shots to self out of order */
	C_INTERVAL,	/* arm a periodic to self */
	C_CANCEL,	/* cancel cmd.id's timer, report in cancel_ret */
	C_ARM_CANCEL,	/* arm to cmd.to and cancel at once */
	C_QUEUED,	/* test 6 */
	C_EXIT,		/* arm timers, then stop */
	C_BAD,		/* test 10 */
	C_RACE_ARM,	/* test 7 */
	C_RACE_CANCEL,
	C_SYNC,
	T_FIRE = 100,	/* a timer's message: struct tmsg */
	T_RACE,		/* test 7's timers: struct tmsg */
	T_ASK,		/* test 10's ask to self */
	T_WORK,		/* test 9: busy work to load the shard */
	T_TICK,		/* test 9: periodic tick */
	T_STOPWORK,
};

struct tmsg {
	uint32_t id;		/* which timer */
	uint32_t periodic;	/* 1 for send_interval ticks */
	uint64_t not_before;	/* arm time + delay */
};

struct cmd {
	uint32_t id;
	uint32_t periodic;
	uint64_t delay;
	ra_ref_t to;
};

static ra_runtime_t *rt;
static unsigned nsh;

/* What timer messages did, as seen by the receivers. */
static atomic_int got, early, bad_msg, synced, cancel_ret, queued_done;
static atomic_int order_n;
static uint32_t order_ids[64];		/* written before got++ */
static uint64_t trefs[64];		/* by cmd id, tester only */

/* Test 7 state, touched only by the tester's thread until C_SYNC. */
static uint64_t race_tref[MAX_RACE];
static int race_ret[MAX_RACE];
static uint8_t race_delivered[MAX_RACE];
static uint8_t race_cancelled[MAX_RACE];
static uint8_t race_periodic[MAX_RACE];
static int race_bad;

/* A timer message arrived (at a tester or at the sink). */
static void on_fire(ra_ctx_t *self, const ra_msg_t *m, ra_ref_t want_from)
{
	struct tmsg t;
	int n;

	if (m->len != sizeof(t) || m->tag != 0 ||
	    !ra_ref_eq(m->from, want_from)) {
		atomic_fetch_add(&bad_msg, 1);
		return;
	}
	memcpy(&t, m->data, sizeof(t));
	if (ra_now_ns() < t.not_before)
		atomic_fetch_add(&early, 1);
	/* Tester and sink may both be here: claim a distinct index. */
	n = atomic_fetch_add(&order_n, 1);
	if (n < 64)
		order_ids[n] = t.id;
	(void)self;
	atomic_fetch_add(&got, 1);
}

static int arm(ra_ctx_t *self, ra_ref_t to, uint32_t id, uint64_t delay,
	       bool periodic)
{
	struct tmsg t = { id, periodic, ra_now_ns() + delay };

	if (periodic)
		return ra_send_interval(self, to, delay, T_FIRE, &t, sizeof(t),
					&trefs[id]);
	return ra_send_after(self, to, delay, T_FIRE, &t, sizeof(t),
			     &trefs[id]);
}

/* ---- test 7: the race ---- */

static void race_arm(ra_ctx_t *self, const struct cmd *c)
{
	struct tmsg t = { c->id, c->periodic, 0 };
	int ret;

	race_periodic[c->id] = (uint8_t)c->periodic;
	if (c->periodic)
		ret = ra_send_interval(self, ra_self(self), c->delay, T_RACE,
				       &t, sizeof(t), &race_tref[c->id]);
	else
		ret = ra_send_after(self, ra_self(self), c->delay, T_RACE, &t,
				    sizeof(t), &race_tref[c->id]);
	if (ret < 0)
		race_bad++;
}

static void race_cancel(ra_ctx_t *self, const struct cmd *c)
{
	int ret = ra_cancel_timer(self, race_tref[c->id]);

	race_ret[c->id] = ret;
	if (ret == 0)
		race_cancelled[c->id] = 1;
	/* -ENOENT says the behavior saw it already: check it did, once. */
	if (ret == -ENOENT && race_delivered[c->id] != 1)
		race_bad++;
	if (ret != 0 && ret != -ENOENT)
		race_bad++;
}

static void race_fire(const ra_msg_t *m)
{
	struct tmsg t;

	memcpy(&t, m->data, sizeof(t));
	if (t.id >= MAX_RACE || race_cancelled[t.id] ||
	    (!t.periodic && race_delivered[t.id]))
		race_bad++;	/* after a 0, or a one-shot twice */
	race_delivered[t.id] = 1;
}

/* ---- the tester ---- */

static void cmd_queued(ra_ctx_t *self)
{
	/*
	 * Two one-shots to self due together fire in one pass, so both are
	 * queued when the first is delivered; its handler (id 40) cancels
	 * the second (id 41), whose queued message must then vanish.
	 */
	arm(self, ra_self(self), 40, 2 * MS, false);
	arm(self, ra_self(self), 41, 2 * MS, false);
}

static void cmd_bad(ra_ctx_t *self)
{
	int bad = 0;
	uint64_t tref = 0;

	bad += ra_send_after(self, ra_self(self), MS, RA_MSG_IO, NULL, 0,
			     NULL) != -EINVAL;
	bad += ra_send_after(self, ra_self(self), MS, 1, NULL, 5, NULL) !=
	       -EINVAL;
	bad += ra_send_interval(self, ra_self(self), 0, 1, NULL, 0, NULL) !=
	       -EINVAL;
	bad += ra_send_interval(self, ra_self(self), MS, RA_MSG_REPLY, NULL,
				0, NULL) != -EINVAL;
	bad += ra_cancel_timer(self, 0) != -EINVAL;
	bad += ra_cancel_timer(self, 12345) != -ENOENT;
	/* An ask reference is not a timer to cancel. */
	if (ra_ask(self, ra_self(self), T_ASK, NULL, 0, SEC, &tref) == 0)
		bad += ra_cancel_timer(self, tref) != -ENOENT;
	atomic_store(&cancel_ret, bad);
}

static int tester_cmd(ra_ctx_t *self, const ra_msg_t *m)
{
	struct cmd c = { 0 };

	if (m->len == sizeof(c))
		memcpy(&c, m->data, sizeof(c));
	switch (m->type) {
	case C_AFTER:
		if (arm(self, c.to, c.id, c.delay, false) < 0)
			atomic_fetch_add(&bad_msg, 1);
		break;
	case C_ORDER: {
		static const uint32_t ms[5] = { 50, 10, 40, 20, 30 };

		for (uint32_t i = 0; i < 5; i++)
			arm(self, ra_self(self), ms[i], ms[i] * MS, false);
		break;
	}
	case C_INTERVAL:
		if (arm(self, ra_self(self), c.id, c.delay, true) < 0)
			atomic_fetch_add(&bad_msg, 1);
		break;
	case C_CANCEL:
		atomic_store(&cancel_ret, ra_cancel_timer(self, trefs[c.id]));
		break;
	case C_ARM_CANCEL:
		arm(self, c.to, c.id, c.delay, false);
		atomic_store(&cancel_ret, ra_cancel_timer(self, trefs[c.id]));
		break;
	case C_QUEUED:
		cmd_queued(self);
		break;
	case C_EXIT:
		arm(self, ra_self(self), 1, 20 * MS, false);
		arm(self, c.to, 2, 20 * MS, false);
		arm(self, c.to, 3, 5 * MS, true);
		ra_stop(self, RA_EXIT_NORMAL);
		break;
	case C_BAD:
		cmd_bad(self);
		break;
	case C_RACE_ARM:
		race_arm(self, &c);
		break;
	case C_RACE_CANCEL:
		race_cancel(self, &c);
		break;
	case C_SYNC:
		break;
	default:
		return 0;	/* T_ASK, RA_MSG_TIMEOUT: nothing to do */
	}
	atomic_fetch_add(&synced, 1);
	return 0;
}

/* A timer message to the tester itself. */
static void tester_fire(ra_ctx_t *self, const ra_msg_t *m)
{
	struct tmsg t;

	if (m->len == sizeof(t)) {
		memcpy(&t, m->data, sizeof(t));
		if (t.id == 40) {	/* test 6: cancel the queued 41 */
			atomic_store(&cancel_ret,
				     ra_cancel_timer(self, trefs[41]));
			atomic_store(&queued_done, 1);
		}
	}
	on_fire(self, m, ra_self(self));
}

static int tester_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	switch (m->type) {
	case T_RACE:
		race_fire(m);
		return 0;
	case T_FIRE:
		tester_fire(self, m);
		return 0;
	default:
		return tester_cmd(self, m);
	}
}

static atomic_int term_ret;

static void tester_terminate(ra_ctx_t *self, void *state, int reason)
{
	(void)state;
	(void)reason;
	atomic_store(&term_ret, ra_send_after(self, ra_self(self), MS, 1,
					      NULL, 0, NULL));
}

static const ra_actor_def_t tester_def = {
	.name = "tester",
	.behavior = tester_behavior,
	.terminate = tester_terminate,
};

/* The sink: counts timer messages from the tester. */
static ra_ref_t tester;

static int sink_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	if (m->type == T_FIRE)
		on_fire(self, m, tester);
	return 0;
}

static const ra_actor_def_t sink_def = { .name = "sink",
					 .behavior = sink_behavior };
static ra_ref_t sink;

static void reset(void)
{
	atomic_store(&got, 0);
	atomic_store(&early, 0);
	atomic_store(&bad_msg, 0);
	atomic_store(&order_n, 0);
	atomic_store(&cancel_ret, 999);
	atomic_store(&term_ret, 999);
	atomic_store(&queued_done, 0);
}

static void spawn_pair(void)
{
	ra_spawn_opts_t o0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t ol = { .placement = RA_PLACE_SHARD,
			       .shard = nsh - 1 };

	reset();
	ra_runtime_spawn(rt, &tester_def, NULL, &o0, &tester);
	ra_runtime_spawn(rt, &sink_def, NULL, &ol, &sink);
}

static void stop_pair(const char *what)
{
	ra_runtime_stop_actor(rt, tester);
	ra_runtime_stop_actor(rt, sink);
	is_int(ra_runtime_wait_idle(rt, scaled_ns(5 * SEC)), 0, "[%u] %s: idle",
	       nsh, what);
}

/* Send a command and wait until the tester has handled it. */
static void cmd(uint32_t type, uint32_t id, uint64_t delay, ra_ref_t to)
{
	struct cmd c = { .id = id, .delay = delay, .to = to };
	int want = atomic_load(&synced) + 1;

	ra_runtime_send(rt, tester, type, &c, sizeof(c));
	wait_for(&synced, want, scaled_ns(5 * SEC));
}

static void test_once(void)
{
	spawn_pair();
	cmd(C_AFTER, 1, 20 * MS, tester);
	cmd(C_AFTER, 2, 20 * MS, sink);
	ok(wait_for(&got, 2, scaled_ns(5 * SEC)) == 0,
	   "[%u] send_after to self and to another shard fire", nsh);
	sleep_ms(60);
	is_int(atomic_load(&got), 2, "[%u] ... once each", nsh);
	is_int(atomic_load(&early), 0, "[%u] ... not early", nsh);
	is_int(atomic_load(&bad_msg), 0,
	       "[%u] ... from the armer, tag 0, payload intact", nsh);
	stop_pair("once");
}

static void test_order(void)
{
	bool sorted = true;

	spawn_pair();
	cmd(C_ORDER, 0, 0, tester);
	ok(wait_for(&got, 5, scaled_ns(5 * SEC)) == 0, "[%u] 5 timers fire", nsh);
	for (int i = 1; i < 5; i++)
		sorted = sorted && order_ids[i - 1] < order_ids[i];
	ok(sorted && atomic_load(&order_n) == 5,
	   "[%u] ... in deadline order (%u %u %u %u %u)", nsh, order_ids[0],
	   order_ids[1], order_ids[2], order_ids[3], order_ids[4]);
	is_int(atomic_load(&early), 0, "[%u] ... none early", nsh);
	stop_pair("order");
}

static void test_interval(void)
{
	const uint64_t period = 10 * MS;
	uint64_t t0, t1;
	int n, bound;

	spawn_pair();
	t0 = ra_now_ns();
	cmd(C_INTERVAL, 7, period, tester);
	ok(wait_for(&got, 10, scaled_ns(10 * SEC)) == 0,
	   "[%u] interval: ticks keep coming", nsh);
	cmd(C_CANCEL, 7, 0, tester);
	t1 = ra_now_ns();
	n = atomic_load(&got);
	is_int(atomic_load(&cancel_ret), 0, "[%u] interval: cancel is 0", nsh);
	/* Tick k is due at arm + k * period and never early. */
	bound = (int)((t1 - t0) / period);
	ok(n >= 10 && n <= bound, "[%u] interval: %d ticks in %.1f ms (<= %d)",
	   nsh, n, (double)(t1 - t0) / 1e6, bound);
	is_int(atomic_load(&early), 0, "[%u] interval: no tick early", nsh);
	sleep_ms(4 * period / MS);
	is_int(atomic_load(&got), n, "[%u] interval: no tick after cancel", nsh);
	stop_pair("interval");
}

static void test_cancel(void)
{
	spawn_pair();
	cmd(C_ARM_CANCEL, 3, 30 * MS, tester);
	is_int(atomic_load(&cancel_ret), 0,
	       "[%u] cancel before expiry (to self): 0", nsh);
	cmd(C_ARM_CANCEL, 4, 30 * MS, sink);
	is_int(atomic_load(&cancel_ret), 0,
	       "[%u] cancel before expiry (to another): 0", nsh);
	sleep_ms(80);
	is_int(atomic_load(&got), 0, "[%u] ... and no message", nsh);

	cmd(C_AFTER, 5, MS, tester);
	cmd(C_AFTER, 6, MS, sink);
	wait_for(&got, 2, scaled_ns(5 * SEC));
	cmd(C_CANCEL, 5, 0, tester);
	is_int(atomic_load(&cancel_ret), -ENOENT,
	       "[%u] cancel after fire (to self): -ENOENT", nsh);
	cmd(C_CANCEL, 6, 0, tester);
	is_int(atomic_load(&cancel_ret), -ENOENT,
	       "[%u] cancel after fire (to another): -ENOENT", nsh);
	cmd(C_CANCEL, 3, 0, tester);
	is_int(atomic_load(&cancel_ret), -ENOENT,
	       "[%u] cancel twice: -ENOENT", nsh);
	is_int(atomic_load(&got), 2, "[%u] ... each delivered once", nsh);
	stop_pair("cancel");
}

static void test_queued(void)
{
	spawn_pair();
	cmd(C_QUEUED, 0, 0, tester);
	wait_for(&queued_done, 1, scaled_ns(5 * SEC));
	sleep_ms(30);
	is_int(atomic_load(&cancel_ret), 0,
	       "[%u] cancel of a fired, queued one-shot to self: 0", nsh);
	is_int(atomic_load(&got), 1,
	       "[%u] ... and its queued message is never delivered", nsh);
	stop_pair("queued");
}

static void test_race(void)
{
	unsigned iters = (unsigned)tap_env_ull("RA_TIMER_ITERS", 1500);
	unsigned zero = 0, noent = 0, bad = 0;

	if (iters > MAX_RACE)
		iters = MAX_RACE;
	memset(race_ret, 0, sizeof(race_ret));
	memset(race_delivered, 0, sizeof(race_delivered));
	memset(race_cancelled, 0, sizeof(race_cancelled));
	race_bad = 0;
	spawn_pair();
	for (unsigned i = 0; i < iters; i++) {
		struct cmd c = { .id = i, .periodic = i % 5 == 4,
				 .delay = (rn(300) + 20) * 1000 };
		struct timespec ts = { 0, (long)rn(400) * 1000 };

		/*
		 * Mostly a real race: cancel at once or after 0-400 us. One
		 * round in 16 each is all but sure to go either way (a 0 ms
		 * timer cancelled 5 ms later, a 50 ms one cancelled at
		 * once), so a loaded machine still shows both outcomes.
		 */
		if (i % 16 == 0) {
			c.delay = 0;
			c.periodic = 0;
			ts.tv_nsec = 5000000;
		} else if (i % 16 == 1) {
			c.delay = 50 * MS;
			c.periodic = 0;
			ts.tv_nsec = 0;
		} else if (!rn(4)) {
			ts.tv_nsec = 0;
		}
		ra_runtime_send(rt, tester, C_RACE_ARM, &c, sizeof(c));
		if (ts.tv_nsec)
			nanosleep(&ts, NULL);
		ra_runtime_send(rt, tester, C_RACE_CANCEL, &c, sizeof(c));
	}
	cmd(C_SYNC, 0, 0, tester);
	sleep_ms(20);
	cmd(C_SYNC, 0, 0, tester);
	for (unsigned i = 0; i < iters; i++) {
		if (race_periodic[i]) {
			bad += race_ret[i] != 0;
			continue;
		}
		if (race_ret[i] == 0) {
			zero++;
			bad += race_delivered[i] != 0;
		} else {
			noent++;
			bad += race_ret[i] != -ENOENT ||
			       race_delivered[i] != 1;
		}
	}
	ok(bad == 0 && race_bad == 0,
	   "[%u] cancel racing expiry, %u rounds: 0 => never delivered, "
	   "-ENOENT => once, no tick after cancel (bad %u/%d)", nsh, iters,
	   bad, race_bad);
	ok(zero > 0 && noent > 0,
	   "[%u] ... both outcomes seen (%u cancelled, %u fired first)", nsh,
	   zero, noent);
	stop_pair("race");
}

/* Poll until *v != old; 0 or -ETIMEDOUT. */
static int wait_change(atomic_int *v, int old, uint64_t timeout_ns)
{
	uint64_t end = ra_now_ns() + timeout_ns;

	while (atomic_load(v) == old) {
		if (ra_now_ns() > end)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	return 0;
}

static void test_exit(void)
{
	spawn_pair();
	cmd(C_EXIT, 0, 0, sink);
	ok(wait_change(&term_ret, 999, scaled_ns(5 * SEC)) == 0,
	   "[%u] exit: the actor with three armed timers stopped", nsh);
	sleep_ms(60);
	is_int(atomic_load(&got), 0,
	       "[%u] exit: its timers were cancelled (no message)", nsh);
	is_int(atomic_load(&term_ret), -ESHUTDOWN,
	       "[%u] exit: send_after from terminate is -ESHUTDOWN", nsh);
	stop_pair("exit");
}

static void test_bad(void)
{
	uint64_t tref;

	spawn_pair();
	cmd(C_BAD, 0, 0, tester);
	is_int(atomic_load(&cancel_ret), 0,
	       "[%u] bad input: -EINVAL / -ENOENT as documented", nsh);
	ok(ra_send_after(NULL, tester, MS, 1, NULL, 0, &tref) == -EINVAL &&
	   ra_send_interval(NULL, tester, MS, 1, NULL, 0, &tref) == -EINVAL &&
	   ra_cancel_timer(NULL, 1) == -EINVAL,
	   "[%u] bad input: NULL self is -EINVAL", nsh);
	stop_pair("bad");
}

/* ---- test 9: timers and work stealing ---- */

/*
 * Rounds: main tells every stealable actor to arm NSTEAL_TIMERS one-shots
 * to itself (on whatever shard it lives then) and waits until all fired;
 * meanwhile a driver keeps shard 0 loaded so that actors keep moving.
 * Rounds repeat until some timer fired on another shard than the one it
 * was armed on (how soon depends on the machine's scheduling), for at
 * most ST_DEADLINE (scaled); one shard has nowhere to move to, so there
 * one round checks the timers and the migration check is a skip. A
 * periodic timer armed in init stays on through all of it and is
 * cancelled at the end, wherever its actor went.
 */
#define ST_DEADLINE	(30 * SEC)

struct st_state {
	uint32_t idx;
	uint32_t round;		/* the round being armed */
	unsigned armed_on;	/* shard where this round was armed */
	uint64_t not_before[NSTEAL_TIMERS];
	unsigned periodic_on;	/* shard where the periodic was armed */
	uint64_t periodic;	/* its tref */
};

static atomic_int st_fired[NSTEAL][NSTEAL_TIMERS];
static atomic_int st_total, st_early, st_moved_fire, st_moved_ticks;
static atomic_int st_stop_work, st_cancel_bad, st_stopped, st_arm_bad;
static atomic_long st_sent, st_done;
static ra_ref_t st_refs[NSTEAL];
static uint64_t st_seed;

static void spin_us(unsigned us)
{
	uint64_t end = ra_now_ns() + us * 1000ull;

	while (ra_now_ns() < end)
		;
}

/* Each actor's own delays: splitmix64 of the seed, round and index. */
static uint64_t st_delay(uint32_t round, uint32_t idx, uint32_t k)
{
	uint64_t z = st_seed + ((round * NSTEAL + idx) * NSTEAL_TIMERS + k +
				1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (20 + (z ^ (z >> 31)) % 200) * MS;
}

static int st_init(ra_ctx_t *self, void *state, void *arg)
{
	struct st_state *s = state;

	s->idx = (uint32_t)(uintptr_t)arg;
	s->periodic_on = ra_shard_id(self);
	return ra_send_interval(self, ra_self(self), 7 * MS, T_TICK, NULL, 0,
				&s->periodic);
}

static void st_arm(ra_ctx_t *self, struct st_state *s, uint32_t round)
{
	s->round = round;
	s->armed_on = ra_shard_id(self);
	for (uint32_t k = 0; k < NSTEAL_TIMERS; k++) {
		uint64_t d = st_delay(round, s->idx, k);
		uint32_t id[2] = { round, k };

		s->not_before[k] = ra_now_ns() + d;
		if (ra_send_after(self, ra_self(self), d, T_FIRE, id,
				  sizeof(id), NULL) < 0)
			atomic_fetch_add(&st_arm_bad, 1);
	}
}

static void st_fire(ra_ctx_t *self, struct st_state *s, const ra_msg_t *m)
{
	uint32_t id[2];

	memcpy(id, m->data, sizeof(id));
	if (id[0] != s->round || id[1] >= NSTEAL_TIMERS) {
		atomic_fetch_add(&st_arm_bad, 1);	/* a stale round */
		return;
	}
	if (ra_now_ns() < s->not_before[id[1]])
		atomic_fetch_add(&st_early, 1);
	if (ra_shard_id(self) != s->armed_on)
		atomic_fetch_add(&st_moved_fire, 1);
	atomic_fetch_add(&st_fired[s->idx][id[1]], 1);
	atomic_fetch_add(&st_total, 1);
}

static int st_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct st_state *s = state;
	uint32_t round;

	switch (m->type) {
	case T_WORK:
		spin_us(2);
		atomic_fetch_add(&st_done, 1);
		return 0;
	case C_AFTER:
		memcpy(&round, m->data, sizeof(round));
		st_arm(self, s, round);
		return 0;
	case T_FIRE:
		st_fire(self, s, m);
		return 0;
	case T_TICK:
		if (ra_shard_id(self) != s->periodic_on)
			atomic_fetch_add(&st_moved_ticks, 1);
		return 0;
	case T_STOPWORK:
		if (ra_cancel_timer(self, s->periodic) != 0)
			atomic_fetch_add(&st_cancel_bad, 1);
		atomic_fetch_add(&st_stopped, 1);
		return -1;	/* stop */
	}
	return 0;
}

static const ra_actor_def_t st_def = {
	.name = "stealable",
	.state_size = sizeof(struct st_state),
	.init = st_init,
	.behavior = st_behavior,
};

/*
 * The load: a pinned driver on shard 0 sends bursts of small WORK
 * messages to the stealable actors (at most 8000 unprocessed), so shard
 * 0 stays loaded and idle shards get to steal (as t/steal's senders do).
 */
static int driver_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	uint64_t *rng = state;

	(void)m;
	if (atomic_load(&st_stop_work))
		return 0;
	if (atomic_load(&st_sent) - atomic_load(&st_done) < 8000) {
		for (int i = 0; i < 512; i++) {
			*rng = *rng * 6364136223846793005ull +
			       1442695040888963407ull;
			if (ra_send(self, st_refs[(*rng >> 33) % NSTEAL],
				    T_WORK, NULL, 0) == 0)
				atomic_fetch_add(&st_sent, 1);
		}
	}
	return ra_send(self, ra_self(self), T_WORK, NULL, 0);
}

static const ra_actor_def_t driver_def = {
	.name = "driver",
	.state_size = sizeof(uint64_t),
	.behavior = driver_behavior,
};

static void st_reset(void)
{
	atomic_store(&st_early, 0);
	atomic_store(&st_moved_fire, 0);
	atomic_store(&st_moved_ticks, 0);
	atomic_store(&st_stop_work, 0);
	atomic_store(&st_cancel_bad, 0);
	atomic_store(&st_stopped, 0);
	atomic_store(&st_arm_bad, 0);
	atomic_store(&st_sent, 0);
	atomic_store(&st_done, 0);
	st_seed = rnd();
}

static ra_runtime_t *st_runtime(void)
{
	ra_runtime_t *srt;
	ra_config_t cfg;

	steal_config_aggressive(&cfg, nsh);
	if (ra_runtime_create(&cfg, &srt) < 0)
		bail_out("no runtime");
	return srt;
}

/* One round; returns how many timers did not fire exactly once. */
static int st_round(ra_runtime_t *srt, uint32_t round, bool *all_fired)
{
	int bad = 0, want = NSTEAL * NSTEAL_TIMERS;

	atomic_store(&st_total, 0);
	for (int i = 0; i < NSTEAL; i++)
		for (int k = 0; k < NSTEAL_TIMERS; k++)
			atomic_store(&st_fired[i][k], 0);
	for (int i = 0; i < NSTEAL; i++)
		ra_runtime_send(srt, st_refs[i], C_AFTER, &round,
				sizeof(round));
	if (wait_for(&st_total, want, scaled_ns(20 * SEC)) < 0)
		*all_fired = false;
	sleep_ms(30);	/* a second firing would show by now */
	for (int i = 0; i < NSTEAL; i++)
		for (int k = 0; k < NSTEAL_TIMERS; k++)
			bad += atomic_load(&st_fired[i][k]) != 1;
	return bad;
}

static void test_steal(void)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0,
				.flags = RA_SPAWN_STEALABLE };
	ra_spawn_opts_t pinned = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_runtime_t *srt = st_runtime();
	uint64_t end = ra_now_ns() + scaled_ns(ST_DEADLINE);
	bool all_fired = true, can_move = nsh > 1;
	uint32_t rounds = 0;
	ra_ref_t driver;
	ra_stats_t st;
	int bad = 0;

	st_reset();
	for (int i = 0; i < NSTEAL; i++)
		ra_runtime_spawn(srt, &st_def, (void *)(uintptr_t)i, &on0,
				 &st_refs[i]);
	ra_runtime_spawn(srt, &driver_def, NULL, &pinned, &driver);
	ra_runtime_send(srt, driver, T_WORK, NULL, 0);
	do
		bad += st_round(srt, rounds++, &all_fired);
	while (can_move && atomic_load(&st_moved_fire) == 0 &&
	       ra_now_ns() < end);
	atomic_store(&st_stop_work, 1);
	ok(all_fired, "[%u] steal: %u round(s) of %d one-shots on %d busy "
	   "stealable actors: all fired", nsh, rounds, NSTEAL_TIMERS, NSTEAL);
	ok(bad == 0 && atomic_load(&st_arm_bad) == 0,
	   "[%u] steal: each exactly once (%d not)", nsh, bad);
	is_int(atomic_load(&st_early), 0, "[%u] steal: none early", nsh);
	for (int i = 0; i < NSTEAL; i++)
		ra_runtime_send(srt, st_refs[i], T_STOPWORK, NULL, 0);
	wait_for(&st_stopped, NSTEAL, scaled_ns(10 * SEC));
	is_int(atomic_load(&st_cancel_bad), 0,
	       "[%u] steal: periodic timers cancelled with 0 wherever their "
	       "actor went (%d ticks on another shard)", nsh,
	       atomic_load(&st_moved_ticks));
	if (ra_stats_snapshot(srt, &st) < 0)
		bail_out("stats");
	if (can_move)
		ok(st.actors_migrated > 0 && atomic_load(&st_moved_fire) > 0,
		   "[%u] steal: %llu migrations, %d one-shots fired on "
		   "another shard than armed", nsh,
		   (unsigned long long)st.actors_migrated,
		   atomic_load(&st_moved_fire));
	else
		skip("[%u] steal: one-shots fired on another shard than "
		     "armed: one shard, nothing can move", nsh);
	ra_stats_fini(&st);
	/*
	 * Stop the driver and let the runtime drain before destroying it,
	 * as the other tests finish. (Under heavy machine load a STOP
	 * injected right before ra_runtime_destroy was seen leaked by
	 * LeakSanitizer a few times; not understood yet, not reproduced on
	 * demand. Waiting for idle keeps this test about timers.)
	 */
	ra_runtime_stop_actor(srt, driver);
	is_int(ra_runtime_wait_idle(srt, scaled_ns(10 * SEC)) == 0 &&
	       ra_runtime_destroy(srt) == 0, 1,
	       "[%u] steal: every actor stopped, destroy", nsh);
}

int main(void)
{
	rng_state = tap_env_ull("RA_SEED", (unsigned long long)ra_now_ns());
	diag("seed %llu", (unsigned long long)rng_state);
	tap_timeout(240);
	plan(3 * 43);
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		ra_stats_t st;

		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		test_once();
		test_order();
		test_interval();
		test_cancel();
		test_queued();
		test_race();
		test_exit();
		test_bad();
		if (ra_stats_snapshot(rt, &st) < 0)
			bail_out("stats");
		ok(st.timers_fired > 0 && st.timer_late_ns &&
		   ra_hdr_total_count(st.timer_late_ns) ==
		   (int64_t)st.timers_fired,
		   "[%u] stats: %llu timers fired, lateness p50 %lld ns, "
		   "max %lld ns", nsh, (unsigned long long)st.timers_fired,
		   (long long)ra_hdr_value_at_percentile(st.timer_late_ns, 50),
		   (long long)ra_hdr_max(st.timer_late_ns));
		ra_stats_fini(&st);
		ra_runtime_destroy(rt);
		test_steal();
	}
	return exit_status();
}
