/*
 * timers: how late do ringactor's timers fire, against a plain thread
 * sleeping to the same deadlines?
 *
 * timers_oneshot: a runtime of 2 shards (--shards), one armer actor per
 * shard. Each batch, main sends every armer a START; each arms its share
 * of N one-shot timers (--ops, default 10000) to itself with
 * ra_send_after(), delays uniform in 1..50 ms (seeded, a new draw per
 * batch), reading the clock before each call, so the deadline it keeps
 * is at most the runtime's own. It arms TM_CHUNK timers per behavior
 * call and sends itself a CONTINUE for the rest, so that arming does not
 * hold its shard for a millisecond while earlier timers come due; the
 * time spent in ra_send_after() is reported per timer. When a timer's
 * message reaches the
 * behavior, lateness = ra_now_ns() - deadline goes into that armer's HDR
 * histogram; the last timer of the batch signals main. Per op = this
 * behavior-seen lateness (it includes the hop from the shard's expiry to
 * the behavior call). Beside it the runtime's own ra_stats_t
 * .timer_late_ns (fire time - deadline) over the whole run.
 *
 * timers_periodic_1ms: one ra_send_interval() of 1 ms to itself on shard
 * 0, 100 ticks per batch (20 with --quick). Tick k is due at
 * arm + k ms; lateness = receipt - due. The runtime never piles ticks
 * up: after a tick that fired a period or more late, the next is due at
 * the first multiple after that fire. The ticker tracks the earliest and
 * latest the next due can be from what it received, checks "never
 * early" against the earliest, and counts the skipped ticks.
 *
 * Floors, in the same run, alternating rounds with the runtime: one
 * pthread per shard (pinned as the shards are) with the same number of
 * deadlines drawn the same way, sorted, run as a plain timer thread
 * would: when the next deadline is ahead it sleeps to it with
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), else it takes it at
 * once; the lateness of each is recorded. Twice: with the thread's default timer slack (50 us
 * for a normal thread: what a plain sleeping thread gets) and with the
 * slack set to 1 ns (prctl PR_SET_TIMERSLACK), the best a sleeping thread
 * can do. The shard's kernel wait is an io_uring_enter with a timeout,
 * whose hrtimer has no slack. The ratio column is the batch median ratio
 * (about 1 by construction); the lateness ratios are printed below the
 * table and kept in the JSON (lateness_p50_ratio, lateness_p99_ratio).
 *
 * Then the idle cost (unless --no-idle): the process CPU over a second of
 * main sleeping, first with no timer armed, then with one armed 60 s
 * ahead (the shard sleeps until just before it), as a percentage of one
 * CPU.
 *
 * Checks: every timer arrives exactly once and never before its deadline
 * (exit 1 otherwise).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench.h"

#define TM_SHARDS		2
#define TM_TIMERS		10000
#define TM_QUICK_TIMERS		1000
#define TM_MIN_DELAY_NS		1000000ull	/* 1 ms */
#define TM_MAX_DELAY_NS		50000000ull	/* 50 ms */
#define TM_PERIOD_NS		1000000ull	/* the periodic timer: 1 ms */
#define TM_TICKS		100
#define TM_QUICK_TICKS		20
#define TM_WARMUP		3
#define TM_TIMEOUT_MS		30000
#define TM_MAX_SHARDS		64
#define TM_CHUNK		256	/* timers armed per behavior call */

enum tm_type {
	TM_START = 1,	/* main -> armer / ticker: struct tm_start */
	TM_FIRE,	/* a one-shot timer's message: uint32_t index */
	TM_TICK,	/* the periodic timer's message */
	TM_CONT,	/* armer to itself: arm the next chunk */
	TM_PARK,	/* main -> armer: arm one timer 60 s ahead */
};

struct tm_start {
	uint32_t batch;		/* seeds the delays */
	uint32_t record;	/* record lateness (timed batch) */
};

/* What main and the actors share; see bench_batch_signal(). */
struct tm_shared {
	int efd;
	_Atomic uint64_t batch_ns;
	atomic_uint left;		/* timers of the batch not yet seen */
	_Atomic uint64_t t0;		/* main's batch start */
	atomic_int err;			/* first error, or 0 */
	atomic_ulong early;		/* messages before their deadline */
	atomic_ulong extra;		/* messages past the batch's count */
	uint32_t ticks;			/* periodic: ticks per batch */
	atomic_ulong skipped;		/* periodic: ticks skipped (no pile-up) */
};

/* One armer's slot, owned by main; the armer is its only writer. */
struct tm_armer {
	struct tm_shared *sh;
	unsigned id;
	uint32_t n;			/* its share of the N timers */
	uint64_t *deadline;		/* [n], this batch's */
	uint32_t batch;			/* this batch's draw */
	uint32_t armed;			/* timers armed so far this batch */
	bool record;
	ra_hdr_t *late;			/* behavior-seen lateness, ns */
	uint64_t arm_ns;		/* time in ra_send_after, timed batches */
	uint64_t arm_count;		/* timers armed in timed batches */
};

/* Same draw for the runtime and the floors: shard, batch, index. */
static uint64_t tm_delay(unsigned shard, uint32_t batch, uint32_t i)
{
	uint64_t z = ((uint64_t)shard << 48 | (uint64_t)batch << 24 | i) *
		     0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return TM_MIN_DELAY_NS + z % (TM_MAX_DELAY_NS - TM_MIN_DELAY_NS + 1);
}

static void tm_fail(struct tm_shared *sh, int err)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&sh->err, &zero, err))
		bench_batch_signal(sh->efd, &sh->batch_ns, 0);
}

/* One timer of the batch was seen: the last one ends the batch. */
static void tm_seen(struct tm_shared *sh, uint64_t now)
{
	unsigned left = atomic_fetch_sub(&sh->left, 1);

	if (left == 0) {
		atomic_fetch_add(&sh->left, 1);
		atomic_fetch_add(&sh->extra, 1);
	} else if (left == 1) {
		bench_batch_signal(sh->efd, &sh->batch_ns,
				   now - atomic_load(&sh->t0));
	}
}

/* ---- timers_oneshot: the armers ---- */

static int armer_init(ra_ctx_t *self, void *state, void *arg)
{
	*(struct tm_armer **)state = arg;
	return 0;
}

/* Arm the next TM_CHUNK timers; a CONTINUE to self for the rest. */
static void armer_chunk(ra_ctx_t *self, struct tm_armer *a)
{
	uint32_t end = a->armed + TM_CHUNK < a->n ? a->armed + TM_CHUNK
						  : a->n;
	uint64_t t0 = ra_now_ns(), now = t0;
	int ret = 0;

	for (uint32_t i = a->armed; i < end && !ret; i++) {
		uint64_t d = tm_delay(a->id, a->batch, i);

		a->deadline[i] = now + d;
		ret = ra_send_after(self, ra_self(self), d, TM_FIRE, &i,
				    sizeof(i), NULL);
		now = ra_now_ns();
	}
	if (a->record) {
		a->arm_ns += now - t0;
		a->arm_count += end - a->armed;
	}
	a->armed = end;
	if (!ret && end < a->n)
		ret = ra_send(self, ra_self(self), TM_CONT, NULL, 0);
	if (ret)
		tm_fail(a->sh, ret);
}

static int armer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct tm_armer *a = *(struct tm_armer **)state;
	struct tm_start st;
	uint64_t now = ra_now_ns();
	uint32_t i;

	if (m->type == TM_START && m->len == sizeof(st)) {
		memcpy(&st, m->data, sizeof(st));
		a->record = st.record;
		a->batch = st.batch;
		a->armed = 0;
		armer_chunk(self, a);
		return 0;
	}
	if (m->type == TM_CONT) {
		armer_chunk(self, a);
		return 0;
	}
	if (m->type == TM_PARK) {
		/* Never seen: the runtime is gone before it is due. */
		int ret = ra_send_after(self, ra_self(self), 60000000000ull,
					TM_PARK, NULL, 0, NULL);

		if (ret)
			tm_fail(a->sh, ret);
		return 0;
	}
	if (m->type != TM_FIRE || m->len != sizeof(i)) {
		tm_fail(a->sh, -EPROTO);
		return 0;
	}
	memcpy(&i, m->data, sizeof(i));
	if (i >= a->n) {
		tm_fail(a->sh, -EPROTO);
		return 0;
	}
	if (now < a->deadline[i])
		atomic_fetch_add(&a->sh->early, 1);
	else if (a->record)
		ra_hdr_record(a->late, (int64_t)(now - a->deadline[i]));
	tm_seen(a->sh, now);
	return 0;
}

static const ra_actor_def_t armer_def = {
	.name = "armer",
	.state_size = sizeof(struct tm_armer *),
	.init = armer_init,
	.behavior = armer_behavior,
};

/* ---- timers_periodic_1ms: the ticker ---- */

struct tm_ticker {
	struct tm_shared *sh;
	ra_hdr_t *late;		/* owned by main; the ticker writes it */
	bool record;
	uint32_t seen;		/* ticks this batch */
	uint64_t t0;		/* read just before ra_send_interval */
	uint64_t lo;		/* the earliest the next tick can be due */
	uint64_t hi;		/* the latest */
	uint64_t tref;
};

struct tm_ticker_arg {
	struct tm_shared *sh;
	ra_hdr_t *late;
};

static int ticker_init(ra_ctx_t *self, void *state, void *arg)
{
	struct tm_ticker *t = state;
	const struct tm_ticker_arg *ta = arg;

	t->sh = ta->sh;
	t->late = ta->late;
	return 0;
}

/*
 * The due time of a tick received at `now`. It is lo exactly unless the
 * tick came a period or more late (then the runtime may already have
 * moved past lo); then the last multiple at or before now, within
 * [lo, hi]. Multiples of our t0, a few ns before the runtime's.
 */
static uint64_t ticker_due(const struct tm_ticker *t, uint64_t now)
{
	uint64_t m;

	if (now < t->lo + TM_PERIOD_NS)
		return t->lo;
	m = t->t0 + (now - t->t0) / TM_PERIOD_NS * TM_PERIOD_NS;
	m = m < t->hi ? m : t->hi;
	return m > t->lo ? m : t->lo;
}

static void ticker_tick(ra_ctx_t *self, struct tm_ticker *t, uint64_t now)
{
	struct tm_shared *sh = t->sh;
	uint64_t due = ticker_due(t, now);

	if (now < t->lo) {
		atomic_fetch_add(&sh->early, 1);	/* before any due */
	} else {
		atomic_fetch_add(&sh->skipped, (due - t->lo) / TM_PERIOD_NS);
		if (t->record)
			ra_hdr_record(t->late, (int64_t)(now - due));
	}
	/*
	 * The next is due at the first multiple after this tick fired,
	 * which was at or after `due` and at or before `now`.
	 */
	t->lo = due + TM_PERIOD_NS;
	t->hi = t->t0 + ((now - t->t0) / TM_PERIOD_NS + 1) * TM_PERIOD_NS;
	if (++t->seen == sh->ticks) {
		if (ra_cancel_timer(self, t->tref))
			tm_fail(sh, -EPROTO);
	}
	tm_seen(sh, now);
}

static int ticker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct tm_ticker *t = state;
	struct tm_start st;
	int ret;

	if (m->type == TM_TICK) {
		ticker_tick(self, t, ra_now_ns());
		return 0;
	}
	if (m->type != TM_START || m->len != sizeof(st)) {
		tm_fail(t->sh, -EPROTO);
		return 0;
	}
	memcpy(&st, m->data, sizeof(st));
	t->record = st.record;
	t->seen = 0;
	t->t0 = ra_now_ns();
	t->lo = t->hi = t->t0 + TM_PERIOD_NS;
	ret = ra_send_interval(self, ra_self(self), TM_PERIOD_NS, TM_TICK,
			       NULL, 0, &t->tref);
	if (ret)
		tm_fail(t->sh, ret);
	return 0;
}

static const ra_actor_def_t ticker_def = {
	.name = "ticker",
	.state_size = sizeof(struct tm_ticker),
	.init = ticker_init,
	.behavior = ticker_behavior,
};

/* ---- the runtime side ---- */

struct tm_rt {
	ra_runtime_t *rt;
	struct tm_shared sh;
	unsigned nshards;
	uint32_t ntimers;		/* one-shots per batch, all shards */
	struct tm_armer armer[TM_MAX_SHARDS];
	ra_ref_t armer_ref[TM_MAX_SHARDS];
	ra_ref_t ticker;
	struct tm_ticker_arg ticker_arg; /* read by the ticker's init */
	ra_hdr_t *tick_late;
	uint32_t batch;			/* batches run, for the draws */
};

static int tm_rt_setup(struct tm_rt *r, const struct bench_opts *o,
		       uint32_t ntimers, uint32_t ticks)
{
	ra_config_t cfg;
	int ret;

	r->sh.efd = eventfd(0, EFD_CLOEXEC);
	if (r->sh.efd < 0)
		return -errno;
	r->sh.ticks = ticks;
	bench_opts_config(o, &cfg);
	ret = bench_runtime_create("timers", &cfg, &r->rt);
	if (ret)
		return ret;
	r->nshards = ra_runtime_shards(r->rt);
	if (r->nshards > TM_MAX_SHARDS)
		return -EINVAL;
	r->ntimers = ntimers;
	ret = bench_hdr_create(&r->tick_late);
	for (unsigned s = 0; !ret && s < r->nshards; s++) {
		ra_spawn_opts_t on = { .placement = RA_PLACE_SHARD, .shard = s };
		struct tm_armer *a = &r->armer[s];

		a->sh = &r->sh;
		a->id = s;
		a->n = ntimers / r->nshards + (s < ntimers % r->nshards);
		a->deadline = calloc(a->n ? a->n : 1, sizeof(*a->deadline));
		ret = a->deadline ? bench_hdr_create(&a->late) : -ENOMEM;
		if (!ret)
			ret = ra_runtime_spawn(r->rt, &armer_def, a, &on,
					       &r->armer_ref[s]);
	}
	r->ticker_arg = (struct tm_ticker_arg){ &r->sh, r->tick_late };
	if (!ret) {
		ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD };

		ret = ra_runtime_spawn(r->rt, &ticker_def, &r->ticker_arg,
				       &on0, &r->ticker);
	}
	return ret;
}

static void tm_rt_teardown(struct tm_rt *r)
{
	if (r->rt)
		ra_runtime_destroy(r->rt);
	for (unsigned s = 0; s < TM_MAX_SHARDS; s++) {
		free(r->armer[s].deadline);
		ra_hdr_destroy(r->armer[s].late);
	}
	ra_hdr_destroy(r->tick_late);
	if (r->sh.efd >= 0)
		close(r->sh.efd);
}

/* Start one batch: `left` messages to come, then the START(s). */
static int tm_rt_batch(struct tm_rt *r, bool periodic, bool record,
		       double *batch_ns)
{
	struct tm_start st = { r->batch++, record };
	int ret = 0;

	atomic_store(&r->sh.left, periodic ? r->sh.ticks : r->ntimers);
	atomic_store(&r->sh.t0, bench_now_ns());
	if (periodic)
		ret = ra_runtime_send(r->rt, r->ticker, TM_START, &st,
				      sizeof(st));
	for (unsigned s = 0; !periodic && !ret && s < r->nshards; s++)
		ret = ra_runtime_send(r->rt, r->armer_ref[s], TM_START, &st,
				      sizeof(st));
	if (!ret)
		ret = bench_batch_wait(r->sh.efd, TM_TIMEOUT_MS,
				       &r->sh.batch_ns, batch_ns);
	return ret ? ret : atomic_load(&r->sh.err);
}

struct tm_rt_run {
	struct tm_rt *r;
	bool periodic;
};

static int tm_rt_batch_fn(void *arg, int index, bool timed, double *ns)
{
	struct tm_rt_run *run = arg;

	(void)index;
	return tm_rt_batch(run->r, run->periodic, timed, ns);
}

/* ---- the floors: clock_nanosleep to the same deadlines ---- */

struct tm_floor_thread {
	pthread_t tid;
	unsigned id;		/* plays shard `id` */
	int cpu;		/* pin here, or -1 */
	bool noslack;		/* PR_SET_TIMERSLACK 1 ns */
	bool periodic;		/* 1 ms ticks instead of the one-shots */
	uint32_t n;		/* deadlines */
	uint32_t batch;
	bool record;
	uint64_t *deadline;	/* [n] */
	ra_hdr_t *late;
	uint64_t t0, t_end;	/* start and last wake, ns */
	uint64_t early;
	int err;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void *floor_thread(void *arg)
{
	struct tm_floor_thread *f = arg;
	struct timespec ts;

	if (f->cpu >= 0)
		(void)bench_pin_self(f->cpu);
	if (f->noslack && prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) < 0)
		f->err = -errno;
	f->t0 = bench_now_ns();
	for (uint32_t i = 0; i < f->n; i++)
		f->deadline[i] = f->periodic ?
			f->t0 + (uint64_t)(i + 1) * TM_PERIOD_NS :
			f->t0 + tm_delay(f->id, f->batch, i);
	if (!f->periodic)
		qsort(f->deadline, f->n, sizeof(*f->deadline), cmp_u64);
	for (uint32_t i = 0; i < f->n; i++) {
		uint64_t now = bench_now_ns();

		/* A plain timer thread: sleep only when the next is ahead. */
		if (now < f->deadline[i]) {
			ts.tv_sec = (time_t)(f->deadline[i] / 1000000000ull);
			ts.tv_nsec = (long)(f->deadline[i] % 1000000000ull);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					       &ts, NULL) == EINTR)
				;
			now = bench_now_ns();
		}
		if (now < f->deadline[i])
			f->early++;
		else if (f->record)
			ra_hdr_record(f->late, (int64_t)(now - f->deadline[i]));
		f->t_end = now;
	}
	return NULL;
}

struct tm_floor {
	unsigned nthreads;
	uint32_t ntimers;	/* one-shots over all threads */
	uint32_t ticks;		/* periodic ticks (thread 0 only) */
	bool periodic;
	bool noslack;
	int cpu[TM_MAX_SHARDS];
	bool pin;
	uint32_t batch;
	struct tm_floor_thread t[TM_MAX_SHARDS];
	ra_hdr_t *late;		/* merged, timed batches */
	uint64_t early;
};

static int tm_floor_batch(void *arg, int index, bool timed, double *ns)
{
	struct tm_floor *fl = arg;
	unsigned nt = fl->periodic ? 1 : fl->nthreads;
	uint64_t t0 = UINT64_MAX, t_end = 0;
	int ret = 0;

	(void)index;
	for (unsigned i = 0; i < nt; i++) {
		struct tm_floor_thread *f = &fl->t[i];

		f->id = i;
		f->cpu = fl->pin ? fl->cpu[i] : -1;
		f->noslack = fl->noslack;
		f->periodic = fl->periodic;
		f->n = fl->periodic ? fl->ticks :
		       fl->ntimers / nt + (i < fl->ntimers % nt);
		f->batch = fl->batch;
		f->record = timed;
		f->early = 0;
		f->err = 0;
		if (pthread_create(&f->tid, NULL, floor_thread, f)) {
			nt = i;
			ret = -EAGAIN;
			break;
		}
	}
	for (unsigned i = 0; i < nt; i++) {
		struct tm_floor_thread *f = &fl->t[i];

		pthread_join(f->tid, NULL);
		fl->early += f->early;
		if (f->err && !ret)
			ret = f->err;
		t0 = f->t0 < t0 ? f->t0 : t0;
		t_end = f->t_end > t_end ? f->t_end : t_end;
	}
	fl->batch++;
	*ns = (double)(t_end - t0);
	return ret;
}

static int tm_floor_init(struct tm_floor *fl, unsigned nthreads,
			 uint32_t ntimers, uint32_t ticks, bool pin)
{
	uint32_t most = ntimers / nthreads + 1;

	memset(fl, 0, sizeof(*fl));
	fl->nthreads = nthreads;
	fl->ntimers = ntimers;
	fl->ticks = ticks;
	fl->pin = pin;
	bench_pick_cpus((int)nthreads, fl->cpu);
	if (most < ticks)
		most = ticks;
	if (bench_hdr_create(&fl->late))
		return -ENOMEM;
	for (unsigned i = 0; i < nthreads; i++) {
		fl->t[i].deadline = calloc(most, sizeof(uint64_t));
		if (!fl->t[i].deadline || bench_hdr_create(&fl->t[i].late))
			return -ENOMEM;
	}
	return 0;
}

static void tm_floor_fini(struct tm_floor *fl)
{
	for (unsigned i = 0; i < TM_MAX_SHARDS; i++) {
		free(fl->t[i].deadline);
		ra_hdr_destroy(fl->t[i].late);
	}
	ra_hdr_destroy(fl->late);
}

/* Fold the threads' histograms into fl->late (after the last batch). */
static void tm_floor_merge(struct tm_floor *fl)
{
	for (unsigned i = 0; i < fl->nthreads; i++) {
		ra_hdr_merge(fl->late, fl->t[i].late);
		ra_hdr_reset(fl->t[i].late);
	}
}

/* ---- one benchmark: runtime, floor, floor without slack ---- */

enum { SIDE_RT, SIDE_FLOOR, SIDE_NOSLACK, NSIDES };

static const char *const side_suffix[NSIDES] = { "", ".floor",
						 ".floor_noslack" };
static const char *const side_label[NSIDES] = {
	"ringactor", "floor nanosleep", "floor slack 1ns" };

struct tm_bench {
	const char *name;
	bool periodic;
	struct bench_series s[NSIDES];
	ra_hdr_t *late[NSIDES];		/* per op: lateness */
	struct bench_result r[NSIDES];
	char names[NSIDES][64];
};

static int tm_run(struct tm_bench *b, struct tm_rt *r, struct tm_floor fl[2],
		  const struct bench_opts *o)
{
	struct tm_rt_run run = { r, b->periodic };
	int ret = 0;

	for (int k = 0; k < NSIDES; k++)
		if (bench_series_init(&b->s[k], o->batches))
			return -ENOMEM;
	for (int i = 0; i < o->rounds && !ret; i++) {
		int nb = bench_round_batches(o, i);

		for (int k = 0; k < 2 && o->floor && !ret; k++) {
			fl[k].periodic = b->periodic;
			ret = bench_run_batches(o->warmup, nb, tm_floor_batch,
						&fl[k], &b->s[1 + k]);
		}
		if (!ret)
			ret = bench_run_batches(o->warmup, nb, tm_rt_batch_fn,
						&run, &b->s[SIDE_RT]);
	}
	if (ret)
		return ret;
	if (atomic_load(&r->sh.early) || fl[0].early || fl[1].early ||
	    atomic_load(&r->sh.extra)) {
		fprintf(stderr, "timers: %s: %lu early, %lu extra (floor: "
			"%" PRIu64 " + %" PRIu64 " early)\n", b->name,
			atomic_load(&r->sh.early), atomic_load(&r->sh.extra),
			fl[0].early, fl[1].early);
		return -EPROTO;
	}
	/* Collect the per-op histograms, then reset for the next bench. */
	if (bench_hdr_create(&b->late[SIDE_RT]))
		return -ENOMEM;
	if (b->periodic) {
		ra_hdr_merge(b->late[SIDE_RT], r->tick_late);
	} else {
		for (unsigned s = 0; s < r->nshards; s++)
			ra_hdr_merge(b->late[SIDE_RT], r->armer[s].late);
	}
	for (int k = 0; k < 2; k++) {
		tm_floor_merge(&fl[k]);
		b->late[1 + k] = fl[k].late;
		fl[k].late = NULL;
		if (bench_hdr_create(&fl[k].late))
			return -ENOMEM;
	}
	return 0;
}

/* a's percentile p over b's, 0 when b's is 0. */
static double pct_ratio(const ra_hdr_t *a, const ra_hdr_t *b, double p)
{
	int64_t vb = ra_hdr_value_at_percentile(b, p);

	return vb > 0 ? (double)ra_hdr_value_at_percentile(a, p) / vb : 0;
}

static void tm_results(struct tm_bench *b, const struct bench_opts *o)
{
	for (int k = 0; k < NSIDES; k++) {
		struct bench_result *res = &b->r[k];
		const ra_hdr_t *h = b->late[k];

		snprintf(b->names[k], sizeof(b->names[k]), "%s%s", b->name,
			 side_suffix[k]);
		bench_result_init(res, b->names[k], o);
		if (k != SIDE_RT && !o->floor)
			continue;
		bench_result_fill(res, &b->s[k], h);
		bench_result_add(res, "late_p90_ns",
				 (double)ra_hdr_value_at_percentile(h, 90));
		bench_result_add(res, "late_p999_ns",
				 (double)ra_hdr_value_at_percentile(h, 99.9));
		bench_result_add(res, "late_max_ns", (double)ra_hdr_max(h));
	}
	if (!o->floor)
		return;
	bench_result_set_floor(&b->r[SIDE_RT], &b->r[SIDE_FLOOR]);
	bench_result_add(&b->r[SIDE_RT], "lateness_p50_ratio",
			 pct_ratio(b->late[SIDE_RT], b->late[SIDE_FLOOR], 50));
	bench_result_add(&b->r[SIDE_RT], "lateness_p99_ratio",
			 pct_ratio(b->late[SIDE_RT], b->late[SIDE_FLOOR], 99));
	bench_result_add(&b->r[SIDE_RT], "lateness_p50_ratio_noslack",
			 pct_ratio(b->late[SIDE_RT], b->late[SIDE_NOSLACK],
				   50));
	bench_result_add(&b->r[SIDE_RT], "lateness_p99_ratio_noslack",
			 pct_ratio(b->late[SIDE_RT], b->late[SIDE_NOSLACK],
				   99));
}

static void tm_print(struct tm_bench *b, const struct bench_opts *o)
{
	char label[80];

	bench_print_row_header(stdout);
	for (int k = 0; k < NSIDES; k++)
		if (k == SIDE_RT || o->floor)
			bench_print_row_as(stdout, side_label[k], &b->r[k]);
	for (int k = 0; k < NSIDES; k++) {
		if (k != SIDE_RT && !o->floor)
			continue;
		snprintf(label, sizeof(label), "%s late", side_label[k]);
		bench_hdr_summary(stdout, label, b->late[k]);
	}
	if (o->floor)
		printf("%s: lateness ringactor / nanosleep: p50 %.2fx, p99 "
		       "%.2fx; / nanosleep with 1 ns slack: p50 %.2fx, p99 "
		       "%.2fx\n", b->name,
		       pct_ratio(b->late[SIDE_RT], b->late[SIDE_FLOOR], 50),
		       pct_ratio(b->late[SIDE_RT], b->late[SIDE_FLOOR], 99),
		       pct_ratio(b->late[SIDE_RT], b->late[SIDE_NOSLACK], 50),
		       pct_ratio(b->late[SIDE_RT], b->late[SIDE_NOSLACK], 99));
}

static int tm_emit(struct tm_bench *b, const struct bench_opts *o,
		   const struct bench_machine *m)
{
	int ret = 0;

	for (int k = 0; k < NSIDES && !ret; k++) {
		if (k != SIDE_RT && !o->floor)
			continue;
		ret = bench_json_emit("timers", o, m, &b->r[k]);
		/*
		 * <row>.hgrm, <row>.floor.hgrm, and the second floor as
		 * <row>.floor_noslack.hgrm (bench/README.md).
		 */
		if (!ret)
			ret = bench_hgrm_emit_row("timers", o, b->names[k],
						  false, b->late[k]);
	}
	if (!ret)
		ret = bench_hgrm_emit("timers", o->hgrm_path, b->late[SIDE_RT]);
	return ret;
}

static void tm_bench_fini(struct tm_bench *b)
{
	for (int k = 0; k < NSIDES; k++) {
		bench_series_fini(&b->s[k]);
		ra_hdr_destroy(b->late[k]);
	}
}

/*
 * Idle CPU of the process (% of one CPU) over the idle window, after the
 * shards' poll windows have passed; with a timer armed 60 s ahead first
 * when `armed`.
 */
static int idle_pct(struct tm_rt *r, const struct bench_opts *o, bool armed,
		    double *pct)
{
	int ret = 0;

	if (armed)
		ret = ra_runtime_send(r->rt, r->armer_ref[0], TM_PARK, NULL, 0);
	if (ret)
		return ret;
	bench_sleep_ns(BENCH_IDLE_SETTLE_NS);
	*pct = bench_idle_cpu_pct(o->idle_window_s, NULL);
	return atomic_load(&r->sh.err);
}

/* The runtime's own view: fire time - deadline, every expiry so far. */
static void print_runtime_view(ra_runtime_t *rt)
{
	ra_stats_t st;

	if (ra_stats_snapshot(rt, &st))
		return;
	printf("runtime timers_fired=%" PRIu64 " (warm-up included)\n",
	       st.timers_fired);
	bench_hdr_summary(stdout, "runtime fire - deadline", st.timer_late_ns);
	ra_stats_fini(&st);
}

int main(int argc, char **argv)
{
	struct tm_bench ob = { .name = "timers_oneshot" };
	struct tm_bench pb = { .name = "timers_periodic_1ms",
			       .periodic = true };
	struct bench_machine m;
	struct bench_opts o;
	struct tm_rt r = { .sh.efd = -1 };
	struct tm_floor fl[2];
	char extra[512];
	uint32_t ntimers, ticks;
	bool do_one, do_per;
	int ret;

	bench_opts_init(&o, "timers", TM_TIMERS, TM_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	do_one = bench_selected(&o, ob.name);
	do_per = bench_selected(&o, pb.name);
	if (!do_one && !do_per)
		return 0;
	if (!bench_opt_given(argc, argv, "warmup") && !o.quick)
		o.warmup = TM_WARMUP;
	ntimers = bench_opt_given(argc, argv, "ops") ? (uint32_t)o.ops :
		  o.quick ? TM_QUICK_TIMERS : TM_TIMERS;
	o.ops = (int)ntimers;
	ticks = o.quick ? TM_QUICK_TICKS : TM_TICKS;
	if (o.shards > TM_MAX_SHARDS) {
		fprintf(stderr, "timers: at most %d shards\n", TM_MAX_SHARDS);
		return 2;
	}
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(fl, 0, sizeof(fl));

	ret = tm_rt_setup(&r, &o, ntimers, ticks);
	if (bench_io_uring_missing(ret)) {
		tm_rt_teardown(&r);
		return bench_skip_io_uring(ret);
	}
	for (int k = 0; k < 2 && !ret; k++) {
		ret = tm_floor_init(&fl[k], r.nshards, ntimers, ticks, o.pin);
		fl[k].noslack = k == 1;
	}
	if (ret) {
		fprintf(stderr, "timers: set-up: %s\n", strerror(-ret));
		goto out;
	}
	snprintf(extra, sizeof(extra), "oneshot: %" PRIu32 " timers per batch "
		 "over %u armers (one per shard), delays uniform 1..50 ms | "
		 "periodic: 1 ms, %" PRIu32 " ticks per batch | lateness = "
		 "receipt in the behavior - deadline | floor: %u pthread(s) "
		 "clock_nanosleep(TIMER_ABSTIME) to the same deadlines, "
		 "default slack and 1 ns slack", ntimers, r.nshards, ticks,
		 r.nshards);
	bench_print_header(stdout, &o, &m, extra);

	if (do_one) {
		ret = tm_run(&ob, &r, fl, &o);
		if (!ret) {
			uint64_t ns = 0, n = 0;

			for (unsigned s = 0; s < r.nshards; s++) {
				ns += r.armer[s].arm_ns;
				n += r.armer[s].arm_count;
			}
			tm_results(&ob, &o);
			bench_result_add(&ob.r[SIDE_RT], "arm_ns_per_timer",
					 n ? (double)ns / n : 0);
			printf("oneshot: ra_send_after() %.0f ns per timer "
			       "(mean over the timed batches, %d per behavior "
			       "call)\n", n ? (double)ns / n : 0, TM_CHUNK);
			tm_print(&ob, &o);
			ret = tm_emit(&ob, &o, &m);
		}
	}
	if (do_per && !ret) {
		o.ops = (int)ticks;
		ret = tm_run(&pb, &r, fl, &o);
		if (!ret) {
			tm_results(&pb, &o);
			printf("periodic: %lu tick(s) skipped after one fired "
			       "a period or more late\n",
			       atomic_load(&r.sh.skipped));
			tm_print(&pb, &o);
			ret = tm_emit(&pb, &o, &m);
		}
	}
	if (!ret)
		print_runtime_view(r.rt);
	if (!ret && o.idle) {
		double none = 0, armed = 0;

		ret = idle_pct(&r, &o, false, &none);
		if (!ret)
			ret = idle_pct(&r, &o, true, &armed);
		if (!ret)
			printf("idle: %.3f%% CPU with no timer armed, %.3f%% "
			       "with one armed 60 s ahead (%.1f s windows)\n",
			       none, armed, o.idle_window_s);
	}
	if (ret)
		fprintf(stderr, "timers: %s\n", strerror(-ret));
	else
		printf("timers: all checks passed (every timer once, none "
		       "early)\n");
out:
	tm_bench_fini(&ob);
	tm_bench_fini(&pb);
	for (int k = 0; k < 2; k++)
		tm_floor_fini(&fl[k]);
	tm_rt_teardown(&r);
	return ret ? 1 : 0;
}
