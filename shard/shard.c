/*
 * shard/shard.c: the shard thread and its loop.
 *
 * One pass: reap CQEs (message batches, I/O completions, our own msg_ring
 * results), run ready actors within the turn budget, turn outboxes into
 * msg_ring SQEs, and submit everything in one io_uring_enter. With no work
 * left the shard polls its CQ from user space for idle_poll_ns (a
 * cross-vCPU wake-up costs ~28 us here, a polled hand-off ~1 us; see
 * docs/architecture.md), then sleeps in io_uring_enter(GETEVENTS); a
 * msg_ring CQE posted to a sleeping ring wakes it.
 *
 * Timers (shard/theap.h, actors/timers.c): each pass fires the timers
 * whose deadline has passed; the nearest deadline ends the idle poll
 * early and bounds the sleep. A sleep for a timer ends early by the
 * shard's measured wake-up latency and polls the rest of the way, so the
 * timer fires within a few us instead of one wake-up late. With no timer
 * armed none of this costs more than a NULL test, and an idle runtime
 * still sleeps without a bound.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shard/clock.h"
#include "shard/errors.h"
#include "shard/hdr_histogram.h"
#include "shard/hooks.h"
#include "shard/ring.h"
#include "shard/runtime.h"
#include "shard/shard.h"
#include "shard/testing.h"
#include "shard/theap.h"
#include "shard/tsan.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RA_HAVE_VALGRIND_H 1
#endif
#endif

_Thread_local ra_shard_t *ra__shard_tls;

/*
 * Valgrind 3.19 keeps its global lock while a thread blocks in
 * io_uring_enter (it does not mark the syscall as blocking), so a
 * sleeping shard would freeze every other thread. Under valgrind, or with
 * RA_NO_KERNEL_WAIT=1 in the environment, idle shards nap instead.
 */
static bool ra__under_valgrind(void)
{
	const char *env = getenv("RA_NO_KERNEL_WAIT");

	if (env && *env == '1')
		return true;
#if RA_HAVE_VALGRIND_H
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

#define REAP_BATCH 256
/* A working shard considers stealing (and offering) every this many passes. */
#define RA_STEAL_PASS_EVERY	16u
/* A shard holding stealable actors reaps every this many actor runs. */
#define RA_STEAL_MIDPASS_RUNS	4u
/* Pure spinning part of the idle poll window. */
#define RA_SPIN_NS 5000
#define RA_SPIN_CHECKS 64	/* CQ looks per spin round, with a CPU each */
/* Most a timer sleep ends early (and so is polled) for wake-up latency. */
#define RA_TIMER_EARLY_MAX_NS 100000
/* Overshoots above this (a preempted vCPU) do not teach the estimate. */
#define RA_WAKE_LAT_SAMPLE_MAX_NS 500000

/* CPUs this process may run on (its affinity mask), at least 1. */
static unsigned cpus_allowed(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set))
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

RA_COLD int ra__shard_init(ra_shard_t *sh, ra_runtime_t *rt, unsigned id)
{
	memset(sh, 0, sizeof(*sh));
	sh->rt = rt;
	sh->id = (uint16_t)id;
	sh->nshards = rt->nshards;
	sh->budget = rt->cfg.actor_budget;
	sh->pass_runs = rt->cfg.pass_runs;
	sh->pass_ns = rt->cfg.pass_ns;
	sh->zc_min = rt->cfg.send_zc_min;
	sh->shard_units = RA_PASS_CHECK_START;
	sh->work_left = sh->work_done = RA_PASS_CHECK_START;
	sh->check_units = &sh->shard_units;
	sh->idle_poll_ns = rt->cfg.idle_poll_ns;
	sh->poll_min_ns = rt->cfg.idle_poll_ns;
	sh->poll_max_ns = rt->cfg.idle_poll_max_ns;
	/*
	 * With more shards than CPUs a polling shard shares its CPU with
	 * another, which may be the one producing our next CQE: spinning
	 * would take the CPU from it, so yield from the first miss
	 * (fanout_fanin_skewed, 4 shards on 2 vCPUs: 1.56x -> 1.42x of the
	 * floor), and between two yields look at the CQ once, not for a
	 * round of 64 `pause`s: a round is ~1.7 us on these EPYC vCPUs (a
	 * pause is ~26 ns), which the CPU mate with work waited for at
	 * every yield (1.42x -> 1.24x, balanced 1.52x -> 1.27x;
	 * docs/results.md, "Oversubscribed poll").
	 */
	sh->shares_cpu = rt->nshards > cpus_allowed();
	sh->timing = rt->cfg.timing_sample != 0;
	sh->timing_mask = rt->cfg.timing_sample ? rt->cfg.timing_sample - 1
						: 0;
	sh->kernel_wait = !ra__under_valgrind();
	/* RA_FAULT_MSGRING=N: fail every Nth msg_ring batch (msgring.c). */
	sh->fault_every = (unsigned)ra__testing_knob("RA_FAULT_MSGRING");
	/* RA_FAULT_IO_ENV=N: every Nth multishot envelope fails (io/io.c). */
	sh->fault_io_env = (unsigned)ra__testing_knob("RA_FAULT_IO_ENV");
	sh->ring_fd = -1;
	ra__runq_init(&sh->runq);
	ra__list_init(&sh->actors);
	ra__list_fifo_init(&sh->parked);
	ra__list_fifo_init(&sh->steal_reqs);
	if (ra__msgring_shard_init(sh) < 0 || ra__actor_shard_init(sh) < 0) {
		ra__shard_fini(sh);
		return -ENOMEM;
	}
	return 0;
}

RA_COLD void ra__shard_fini(ra_shard_t *sh)
{
	if (sh->ring_fd >= 0)
		io_uring_queue_exit(&sh->ring);
	sh->ring_fd = -1;
	ra__io_shard_fini(sh);
	ra__actor_shard_fini(sh);
	ra__msgring_shard_fini(sh);
	ra__stats_hists_fini(&sh->hists);
}

static void handle_cqe(ra_shard_t *sh, uint64_t ud, int res, uint32_t flags)
{
	switch (ra__ring_ud_kind(ud)) {
	case RA_UD_IO:
		ra__io_complete(sh, ra__ring_ud_ptr(ud), res, flags);
		break;
	case RA_UD_MSGS:
		ra__msgring_receive(sh, ra__ring_ud_ptr(ud));
		break;
	case RA_UD_RETURNS:
		ra__msgring_returned(sh, ra__ring_ud_ptr(ud));
		break;
	case RA_UD_SENT_MSGS:
	case RA_UD_SENT_RETURNS:
		ra__msgring_sent(sh, ud, res);
		break;
	case RA_UD_WAKE:
	case RA_UD_IGNORE:
		break;
	}
}

/* Handle up to REAP_BATCH CQEs; returns how many there were. */
static unsigned reap_batch(ra_shard_t *sh)
{
	struct io_uring_cqe *cqes[REAP_BATCH];
	unsigned n = io_uring_peek_batch_cqe(&sh->ring, cqes, REAP_BATCH);

	for (unsigned i = 0; i < n; i++) {
		/* Copy out: handling may submit, never reuse, CQ slots. */
		handle_cqe(sh, cqes[i]->user_data, cqes[i]->res,
			   cqes[i]->flags);
	}
	io_uring_cq_advance(&sh->ring, n);
	return n;
}

static bool cq_overflowed(const ra_shard_t *sh)
{
	return IO_URING_READ_ONCE(*sh->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW;
}

/*
 * CQEs to reap, or some the kernel would post once we enter it: task
 * work of a COOP_TASKRUN or DEFER_TASKRUN ring (socket completions, and
 * on a DEFER one msg_ring batches from other shards), or the overflow
 * list of a full CQ.
 */
static bool cq_has_work(ra_shard_t *sh)
{
	return io_uring_cq_ready(&sh->ring) || ra__ring_needs_enter(&sh->ring);
}

/*
 * Reap every CQE that was there when we looked (and a few that came
 * since); returns how many. Then settle our msg_ring batches: a batch
 * whose SQE was in the kernel before we looked has either reached its
 * target or posted its failure CQE before we looked (the kernel runs
 * msg_ring inline at submit, mailbox/msgring.h), and that CQE is among
 * the ones just handled, so the batch is done with. That holds only if
 * we handled all of them: when the CQ was full, failures may wait on the
 * kernel's overflow list, so with overflow left nothing is settled (a
 * later reap will), and a batch never counts as sent while its failure
 * is still to come: a later batch to that shard could overtake it.
 */
static unsigned reap(ra_shard_t *sh)
{
	/* Batches whose SQEs were all in the kernel before we looked. */
	unsigned settled = io_uring_sq_ready(&sh->ring) ? 0 : sh->nsent;
	unsigned want, got, n = 0;

	/* Task work and the overflow list post their CQEs on an enter. */
	if (ra_unlikely(ra__ring_needs_enter(&sh->ring)))
		(void)io_uring_get_events(&sh->ring);
	want = io_uring_cq_ready(&sh->ring);
	do {
		got = reap_batch(sh);
		n += got;
	} while (got && n < want);
	if (ra_unlikely(cq_overflowed(sh)))
		settled = 0;
	if (settled)
		ra__msgring_reaped(sh, settled);
	if (ra_unlikely(sh->steal_reqs.count))
		ra__steal_serve(sh);
	return n;
}

static void submit(ra_shard_t *sh)
{
	if (io_uring_sq_ready(&sh->ring))
		(void)io_uring_submit(&sh->ring);
}

static void steal_check(ra_shard_t *sh)
{
	uint64_t now = ra__clock_now_ns();

	ra__steal_maybe(sh, now);
	if (ck_pr_load_32(&sh->nstealable) && !ra__runq_empty(&sh->runq))
		ra__steal_offer(sh, now);
	/* A round that found no envelope to start with (-ENOMEM). */
	if (ra_unlikely(sh->fence_need > sh->fence_started))
		ra__fence_kick(sh);
}

/*
 * Mid-pass, on a shard that holds stealable actors (every
 * RA_STEAL_MIDPASS_RUNS actor runs): reap what has arrived, so that a
 * steal request waits a few actor runs instead of the rest of the pass
 * (up to 256 runs of up to 64 messages each: milliseconds with heavy
 * messages), and publish the load that is left. With nothing in the CQ
 * this costs a load of its tail and a compare; it keeps the every-16th
 * steal check (offers to sleeping thieves) going in a long pass, too.
 */
static void steal_midpass(ra_shard_t *sh)
{
	if (cq_has_work(sh))
		reap(sh);
	ra__shard_publish_load(sh);
	if (++sh->steal_tick % RA_STEAL_PASS_EVERY == 0)
		steal_check(sh);
}

/*
 * The next clock read comes after as many units of work as took
 * pass_ns / RA_PASS_CHECKS_PER_PASS at the rate of the last interval
 * (`elapsed` ns for `units` units), between 1 and RA_PASS_CHECK_MAX. It
 * shrinks at once but at most doubles per read, so one cheap stretch
 * does not teach an actor that its next steps are cheap too. Cheap work
 * (a local send and its behavior call, ~30 ns) so reads the clock once
 * per 128 units; behaviors of 10 us, about once per call.
 */
static uint32_t next_check_units(const ra_shard_t *sh, uint32_t units,
				 uint64_t elapsed)
{
	uint64_t aim = sh->pass_ns / RA_PASS_CHECKS_PER_PASS;
	uint64_t next = 2 * (uint64_t)units;

	if (elapsed && next > units * aim / elapsed)
		next = units * aim / elapsed;
	if (next < 1)
		return 1;
	return next > RA_PASS_CHECK_MAX ? RA_PASS_CHECK_MAX : (uint32_t)next;
}

void ra__shard_pass_check(ra_shard_t *sh)
{
	uint64_t now = ra__clock_now_ns();

	/*
	 * The deadline runs from the pass's first clock read unless
	 * pass_begin() set it. The interval adapts only between two reads
	 * of the same pass; the gap across an idle period says nothing
	 * about the work's cost.
	 */
	if (!sh->pass_deadline_ns) {
		sh->pass_deadline_ns = now + sh->pass_ns;
	} else {
		if (now >= sh->pass_deadline_ns)
			sh->pass_over = true;
		if (sh->pass_check_ns)
			*sh->check_units = next_check_units(sh,
				sh->work_done, now - sh->pass_check_ns);
	}
	sh->pass_check_ns = now;
	sh->work_left = sh->work_done = *sh->check_units;
}

/*
 * Before a pass: if the actor a bound cut off in the last pass is back at
 * the head of the run queue (it ran alone, re-posting to itself), put it
 * behind the actors the reap just woke, so that messages from other
 * shards are not served one pass later than its own. Moving any node
 * from head to tail is safe, so a stale `pass_cut` costs nothing.
 */
static void rotate_cut(ra_shard_t *sh)
{
	ra_runq_t *q = &sh->runq;
	ra_runq_node_t *head = ra__runq_head(q);

	if (sh->pass_cut && head == sh->pass_cut && !ra__runq_alone(q, head))
		ra__runq_push(q, ra__runq_pop(q));
	sh->pass_cut = NULL;
}

/*
 * A pass that follows one its time ended is likely long too: its
 * deadline runs from now (one clock read per such pass, which lasts
 * pass_ns). Others read the clock only if they last: a short pass (one
 * cross-shard hop) never does, nor does a run of cheap local messages,
 * and their deadline runs from the first read.
 */
static void pass_begin(ra_shard_t *sh)
{
	bool busy = sh->pass_timed;

	rotate_cut(sh);
	sh->pass_over = false;
	sh->pass_deadline_ns = 0;
	sh->pass_check_ns = 0;
	if (busy) {
		sh->pass_check_ns = ra__clock_now_ns();
		sh->pass_deadline_ns = sh->pass_check_ns + sh->pass_ns;
	}
}

/*
 * Run actors until pass_runs runs are done, the run queue is empty or the
 * pass has had its time (pass_over, set by the work checks). No clock
 * read per run: busy time is derived from idle time (see poll_cq), which
 * a cross-shard hop spends anyway.
 *
 * Fairness: the run queue is FIFO, and an actor whose mailbox still
 * holds messages after its run (at most `budget` messages) goes to its
 * tail, behind actors that were queued meanwhile; messages it sent to
 * itself wait in its own mailbox like any other. Actors that messages
 * from other shards woke are queued at the next reap, after this pass, so
 * a busy pass delays them by at most one pass bound.
 */
static void run_ready(ra_shard_t *sh)
{
	/* Our own field: a plain read. */
	bool midpass = sh->steal_on && sh->nstealable;
	ra_runq_node_t *n = NULL;
	unsigned runs;

	pass_begin(sh);
	for (runs = 0; runs < sh->pass_runs && !sh->pass_over; runs++) {
		n = ra__runq_pop(&sh->runq);
		if (!n)
			break;
		ra__actor_run(sh, n);
		/* An idle shard should not wait for the rest of our pass. */
		if (sh->ndirty && ra__msgring_flush_idle(sh))
			submit(sh);
		if (midpass && runs % RA_STEAL_MIDPASS_RUNS ==
			       RA_STEAL_MIDPASS_RUNS - 1)
			steal_midpass(sh);
	}
	/* Ended by a bound, not by an empty queue: see rotate_cut(). */
	if (n && (sh->pass_over || runs == sh->pass_runs))
		sh->pass_cut = n;
	sh->pass_timed = sh->pass_over;
}

/*
 * Look at the CQ RA_SPIN_CHECKS times with a `pause` between (once when
 * shares_cpu); true if a CQE is there. poll_cq() calls it between clock
 * reads: the first RA_SPIN_NS (none when shares_cpu) of the window
 * only spin (a cross-shard reply lands within ~1 us); after that each
 * miss calls sched_yield(), so on an oversubscribed machine the thread
 * that would produce our next CQE (a client, another shard) gets the CPU
 * instead of watching us spin. There a round is a single look.
 */
static bool spin_round(ra_shard_t *sh)
{
	unsigned checks = sh->shares_cpu ? 1 : RA_SPIN_CHECKS;

	for (unsigned i = 0; i < checks; i++) {
		if (cq_has_work(sh))
			return true;
		__builtin_ia32_pause();
	}
	return false;
}

/*
 * How long before a timer's deadline a sleep for it should end: the
 * shard's wake-up latency as measured (shard/shard.h, wake_lat_ns), at
 * most RA_TIMER_EARLY_MAX_NS, and 0 when polling is turned off.
 */
static uint64_t timer_margin(const ra_shard_t *sh)
{
	if (!sh->poll_min_ns)
		return 0;
	return sh->wake_lat_ns < RA_TIMER_EARLY_MAX_NS ? sh->wake_lat_ns
						       : RA_TIMER_EARLY_MAX_NS;
}

/*
 * Poll the CQ for the poll window; true if a CQE showed up or the timer
 * due at `next_timer` (absolute ns) came. The poll stops at that
 * deadline, and goes on past the window to it when it is less than
 * `margin` (a wake-up) beyond: a sleep that short would end late anyway.
 */
static bool poll_cq(ra_shard_t *sh, uint64_t next_timer, uint64_t margin)
{
	uint64_t start, now, until;
	bool cqe = false;

	if (!sh->idle_poll_ns)
		return false;
	/*
	 * A reply is often here within one round: skip the clock read. Idle
	 * time is counted from here on, to the last clock read (within a
	 * round, ~3 us); shorter gaps count as busy.
	 */
	if (spin_round(sh))
		return true;
	start = now = ra__clock_now_ns();
	until = start + sh->idle_poll_ns;
	if (next_timer < until + margin)
		until = next_timer;
	for (;;) {
		if ((cqe = spin_round(sh)))
			break;
		now = ra__clock_now_ns();
		if (now >= until)
			break;
		if (sh->shares_cpu || now - start >= RA_SPIN_NS)
			sched_yield();
	}
	ra__stats_add(&sh->stats.idle_ns, now - start);
	return cqe || now >= next_timer;
}

/*
 * Submit, then sleep until a CQE arrives or `until` (absolute ns) passes;
 * RA_TIMER_NEVER sleeps without a bound. The bounded wait is one
 * io_uring_enter with IORING_ENTER_EXT_ARG: liburing passes the timeout
 * in the syscall's argument when the ring has IORING_FEAT_EXT_ARG (every
 * kernel since 5.11), so no SQE is used and no CQE posted; without the
 * feature liburing would queue an IORING_OP_TIMEOUT SQE whose CQE
 * (user_data LIBURING_UDATA_TIMEOUT) it eats itself, and one that reached
 * reap() would decode to no kind handle_cqe() acts on. No timer slack
 * shows: it wakes as late as clock_nanosleep with a 1 ns slack (one vCPU
 * wake-up, docs/results.md), which is why timer sleeps end early.
 */
static void wait_cqe_until(ra_shard_t *sh, uint64_t until)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	uint64_t now, d;

	if (until == RA_TIMER_NEVER) {
		(void)io_uring_submit_and_wait(&sh->ring, 1);
		return;
	}
	now = ra__clock_now_ns();
	if (until <= now) {
		submit(sh);
		return;
	}
	d = until - now;
	ts.tv_sec = (long long)(d / 1000000000u);
	ts.tv_nsec = (long long)(d % 1000000000u);
	(void)io_uring_submit_and_wait_timeout(&sh->ring, &cqe, 1, &ts, NULL);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * A sleep bounded by a timer ended at `now`, `until` being its bound:
 * learn how late such a wake-up comes (EWMA, 1/8 per sample).
 */
static void learn_wake_latency(ra_shard_t *sh, uint64_t until, uint64_t now)
{
	uint64_t late = now - until;

	if (now < until || late > RA_WAKE_LAT_SAMPLE_MAX_NS)
		return;
	sh->wake_lat_ns = sh->wake_lat_ns - sh->wake_lat_ns / 8 + late / 8;
}

/*
 * Sleep until a CQE, or at most until `next_timer` (absolute ns; the
 * caller took the wake-up margin off already).
 */
static void sleep_for_cqe(ra_shard_t *sh, uint64_t next_timer)
{
	uint64_t now = ra__clock_now_ns(), until = next_timer;

	ck_pr_store_32(&sh->sleeping, 1);
	ra__stats_inc(&sh->stats.sleeps);
	if (ra_unlikely(!sh->kernel_wait)) {
		/* Under valgrind: a nap it knows blocks, then look again. */
		struct timespec nap = { .tv_nsec = 100000 };

		if (next_timer - now < (uint64_t)nap.tv_nsec)
			nap.tv_nsec = (long)(next_timer - now);
		submit(sh);
		nanosleep(&nap, NULL);
		ck_pr_store_32(&sh->sleeping, 0);
		return;
	}
	if (sh->steal_prospect && !sh->shutdown_seen) {
		/* A loaded shard refused us: ask again when the backoff ends. */
		uint64_t at = sh->steal_next_ns > now ? sh->steal_next_ns
						      : now + 1000;

		until = earliest(until, earliest(at, now + 999999999));
	} else if (sh->shutdown_seen && !ck_pr_load_64(&sh->rt->live)) {
		/*
		 * Every actor is gone; what is left is our own last batches
		 * (their success posts no CQE), so look again soon. While
		 * actors live we sleep as usual: destroy wakes every shard
		 * once the last one has stopped.
		 */
		until = earliest(until, now + 50000);
	}
	wait_cqe_until(sh, until);
	if (until == next_timer && next_timer != RA_TIMER_NEVER &&
	    !cq_has_work(sh))
		learn_wake_latency(sh, until, ra__clock_now_ns());
	ck_pr_store_32(&sh->sleeping, 0);
}

/*
 * Adaptive spinning: a sleep cut short within the window means work came
 * back while we slept (a wake-up costs tens of us here), so poll longer
 * next time; a long sleep means we are idle, so poll less.
 */
static void adapt_poll_window(ra_shard_t *sh, uint64_t slept_ns)
{
	uint64_t w = sh->idle_poll_ns;

	if (!sh->poll_min_ns)
		return;
	if (slept_ns < w)
		w = w * 2 < sh->poll_max_ns ? w * 2 : sh->poll_max_ns;
	else if (slept_ns > 32 * w)
		w = w / 2 > sh->poll_min_ns ? w / 2 : sh->poll_min_ns;
	sh->idle_poll_ns = w;
}

static void idle(ra_shard_t *sh)
{
	uint64_t t0, next_timer = ra__theap_next(&sh->timers);
	uint64_t margin = next_timer == RA_TIMER_NEVER ? 0 : timer_margin(sh);

	ck_pr_store_32(&sh->idle, 1);
	if (sh->steal_on)
		ra__shard_publish_load(sh);
	submit(sh);
	if (poll_cq(sh, next_timer, margin))
		goto out;
	/* Nothing came in the poll window: ask a loaded shard for work. */
	if (sh->steal_on) {
		ra__steal_maybe(sh, ra__clock_now_ns());
		if (sh->ndirty) {
			ra__msgring_flush(sh);
			submit(sh);
			goto out;	/* poll for the answer first */
		}
	}
	ra__msgring_flush_returns(sh);
	submit(sh);
	if (io_uring_cq_ready(&sh->ring))
		goto out;
	t0 = ra__clock_now_ns();
	if (next_timer <= t0 + margin)
		goto out;	/* due, or too soon to sleep: poll to it */
	sleep_for_cqe(sh, next_timer - margin);
	t0 = ra__clock_now_ns() - t0;
	ra__stats_add(&sh->stats.idle_ns, t0);
	/*
	 * A sleep our own timer ended says nothing about how soon work
	 * comes back from elsewhere: leave the window alone then.
	 */
	if (next_timer == RA_TIMER_NEVER || cq_has_work(sh))
		adapt_poll_window(sh, t0);
out:
	ck_pr_store_32(&sh->idle, 0);
}

/*
 * Shutdown: the first time the flag is seen, every actor here is asked to
 * stop. The shard leaves its loop once no actor is left anywhere (others
 * may still send to ours until theirs are gone) and nothing of ours is in
 * flight.
 */
static bool shutdown_done(ra_shard_t *sh)
{
	ra_runtime_t *rt = sh->rt;

	if (!sh->shutdown_seen) {
		if (!ck_pr_load_32(&rt->shutting_down))
			return false;
		sh->shutdown_seen = true;
		ra__actor_stop_all(sh);
		return false;
	}
	return sh->nactors == 0 && ck_pr_load_64(&rt->live) == 0 &&
	       sh->io_inflight == 0 && ra__runq_empty(&sh->runq) &&
	       sh->parked.count == 0 && ra__msgring_quiet(sh);
}

static void loop(ra_shard_t *sh)
{
	for (;;) {
		sh->steal_given = 0;
		reap(sh);
		if (ra_unlikely(sh->parked.count))
			ra__send_park_retry(sh);
		/* After the reap, so a reply already here beats its timeout. */
		if (ra_unlikely(sh->timers.root))
			ra__timers_expire(sh);
		/* Now, with what just arrived queued, is when load shows. */
		if (sh->steal_on)
			ra__shard_publish_load(sh);
		run_ready(sh);
		/*
		 * Every few passes see whether another shard is busier by
		 * the margin (a busy shard may still be far less loaded than
		 * a hot one), and whether stealable work piling up here
		 * should wake a sleeping thief. An idle shard also asks
		 * (idle()). Counting passes keeps the clock read off the
		 * per-message path.
		 */
		if (sh->steal_on && ++sh->steal_tick % RA_STEAL_PASS_EVERY == 0)
			steal_check(sh);
		ra__msgring_flush(sh);
		if (ra_unlikely(shutdown_done(sh)))
			break;
		if (!ra__runq_empty(&sh->runq) ||
		    io_uring_cq_ready(&sh->ring) || sh->ndirty) {
			submit(sh);
			continue;
		}
		if (ra_unlikely(sh->parked.count)) {
			/* A hand-off is one msg_ring hop: let the thief run. */
			submit(sh);
			sched_yield();
			continue;
		}
		idle(sh);
	}
	submit(sh);
}

/*
 * After the loop, every actor is gone, but a message that raced the
 * shutdown may still be on its way to us: a STOP a non-shard thread
 * injected just before ra_runtime_destroy(), whose actor the shutdown
 * stopped first. Its msg_ring is posted to a SINGLE_ISSUER ring as task
 * work that runs at our next entry to the kernel. Run it and reap, so
 * such messages end as dead letters and their envelopes (malloc'd, for
 * non-shard senders) are freed. ra__shard_drain_after_stop() sweeps the
 * CQ once more after the join, for batches other shards sent later; it
 * cannot run our task work, which without this would run (and post the
 * CQE) only as the thread exits, possibly after that sweep: a leak ASan
 * reported a few times.
 */
static void drain_after_loop(ra_shard_t *sh)
{
	(void)io_uring_get_events(&sh->ring);
	while (reap(sh))
		;
}

static void pin(ra_shard_t *sh)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu <= 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)(sh->id % (unsigned)ncpu), &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The ring's task-work mode for ra_config_t.flags (shard/ring.h). */
static unsigned taskrun_mode(unsigned flags)
{
	if (flags & RA_CFG_TASKRUN_IPI)
		return RA_RING_TASKRUN_IPI;
	if (flags & RA_CFG_TASKRUN_DEFER)
		return RA_RING_TASKRUN_DEFER;
	return RA_RING_TASKRUN_COOP;
}

/* Tell create how ring set-up went; it waits for every shard. */
static void report(ra_shard_t *sh, int err)
{
	ra_runtime_t *rt = sh->rt;

	sh->setup_err = err;
	if (err < 0)
		snprintf(sh->setup_msg, sizeof(sh->setup_msg), "%s",
			 ra_last_error());
	pthread_mutex_lock(&rt->lock);
	rt->reported++;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
}

/*
 * A shard thread takes no asynchronous signal: one meant for the program
 * (SIGINT for ra_runtime_run_until_signal(), SIGUSR1 for a reload) must
 * reach the thread that waits for it, not interrupt a behavior. Signals
 * a fault raises in this thread stay deliverable.
 */
static void block_signals(void)
{
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGTRAP);
	sigdelset(&set, SIGABRT);
	sigdelset(&set, SIGSYS);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void *ra__shard_main(void *arg)
{
	ra_shard_t *sh = arg;
	int ret;

	ra__shard_tls = sh;
	block_signals();
	if (sh->rt->cfg.flags & RA_CFG_PIN_CPUS)
		pin(sh);
	/* Created here: SINGLE_ISSUER binds the ring to its creator. */
	ret = ra__ring_setup(&sh->ring, sh->rt->cfg.ring_entries, true,
			     taskrun_mode(sh->rt->cfg.flags));
	if (ret == 0) {
		sh->ring_fd = sh->ring.ring_fd;
		sh->ops = ra__ring_probe_ops(&sh->ring);
	}
	if (ret == 0 && sh->fault_every &&
	    !ra__ring_can_inject_result(&sh->ring))
		sh->fault_every = 0;	/* old kernel: no injection */
	ck_pr_store_64(&sh->started_ns, ra__clock_now_ns());
	report(sh, ret);
	if (ret == 0) {
		loop(sh);
		drain_after_loop(sh);
	}
	return NULL;
}

RA_COLD void ra__shard_drain_after_stop(ra_shard_t *sh)
{
	struct io_uring_cqe *cqe;

	if (sh->ring_fd < 0)
		return;
	/*
	 * Batches sent to us after our loop ended: free owned payloads.
	 * Every actor had stopped by then, so each message is a dead letter;
	 * counting it keeps "delivered or counted" true to the end (our
	 * thread is joined: the counters are ours to write now).
	 */
	while (io_uring_peek_cqe(&sh->ring, &cqe) == 0) {
		ra__msgring_drain_cqe(sh, cqe->user_data);
		io_uring_cqe_seen(&sh->ring, cqe);
	}
}
