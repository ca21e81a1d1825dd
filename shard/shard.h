/*
 * shard/shard.h: a shard, one thread with one io_uring and one run queue.
 *
 * The struct is the shard thread's context: besides the ring, the run
 * queue and the loop's own state it holds each layer's per-shard state
 * (the transport's pool and outboxes, the actors homed here, stealing,
 * I/O requests). The layers above fill and use their parts; this layer
 * only names their types (docs/architecture.md, "Layers").
 *
 * Everything above `ring_fd` belongs to the shard's own thread
 * (shared-nothing, as Seastar's reactors): other threads reach a shard
 * only through IORING_OP_MSG_RING on its ring. The fields from `ring_fd`
 * on are read by other threads and sit on their own cache lines.
 */
#ifndef RA_SHARD_SHARD_H
#define RA_SHARD_SHARD_H

#include <liburing.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "shard/clock.h"
#include "shard/list.h"
#include "shard/runq.h"
#include "shard/stats.h"
#include "shard/theap.h"
#include "shard/util.h"

struct ra_actor;
struct ra_bufring;
struct ra_envelope;
struct ra_io_req;
struct ra_outbox;
struct ra_pool;
struct ra_runtime;
struct ra_slot_cache;

typedef struct ra_shard {
	struct io_uring ring;
	struct ra_runtime *rt;
	uint16_t id;
	unsigned nshards;
	ra_runq_t runq;			/* actors with messages to run */
	/* The transport (mailbox/msgring.c). */
	struct ra_pool *pool;		/* envelopes this shard sends */
	struct ra_outbox *out_msgs;	/* [nshards] batches being built */
	struct ra_outbox *out_returns;	/* [nshards] envelopes going home */
	uint16_t *dirty;		/* ids of out_msgs with content */
	unsigned ndirty;
	struct ra_outbox **sent;	/* outboxes in flight since last reap */
	unsigned nsent;
	unsigned sent_cap;
	ra_list_t actors;		/* every actor homed here (all_node) */
	uint64_t nactors;
	struct ra_io_req *free_reqs;	/* recycled I/O requests */
	unsigned io_inflight;		/* our requests not yet ended */
	/*
	 * The shard's provided-buffer ring for multishot recvs
	 * (io/bufring.c), made at the first ra_io_recv_multishot() here;
	 * NULL until then.
	 */
	struct ra_bufring *bufring;
	/* Opcodes the kernel supports (shard/ring.h, ra__ring_probe_ops). */
	uint64_t ops;
	unsigned zc_min;		/* cfg.send_zc_min: zero-copy from */
	/* RA_FAULT_IO_ENV: fail every Nth multishot completion's envelope. */
	unsigned fault_io_env;
	unsigned fault_io_tick;		/* multishot completions, for it */
	/*
	 * Armed timers of the actors homed here, earliest deadline first
	 * (actors/timers.c); its root bounds the idle poll and the sleep.
	 */
	ra_theap_t timers;
	uint64_t timer_seq;		/* last timer/ask reference counter */
	/*
	 * How late a sleep bounded by a timer wakes, in ns (an EWMA of the
	 * overshoot): such a sleep ends this much before the deadline and
	 * the shard polls the rest of the way (shard/shard.c).
	 */
	uint64_t wake_lat_ns;
	struct ra_slot_cache *slots;	/* free actor-table indices */
	unsigned budget;		/* messages per actor run */
	/*
	 * Loop-pass bound (shard/shard.c, "Liveness"): a pass ends after
	 * pass_runs actor runs or once pass_ns have passed, whichever comes
	 * first. Time is read every `check_units` units of work (behavior
	 * calls, sends, spawns), an interval that adapts so that a check
	 * comes about every pass_ns / RA_PASS_CHECKS_PER_PASS.
	 */
	unsigned pass_runs;		/* cfg.pass_runs */
	uint64_t pass_ns;		/* cfg.pass_ns */
	uint64_t pass_deadline_ns;	/* this pass ends at; 0 = not read yet */
	uint64_t pass_check_ns;		/* last clock read in this pass, or 0 */
	uint32_t work_left;		/* units until the next clock read */
	uint32_t work_done;		/* units from the last read to the next */
	/*
	 * Interval between reads for the work being done: the running
	 * actor's own (ra_actor_t.check_units) during its run, else
	 * shard_units. Work differs in cost from actor to actor (a ping
	 * vs. a 20 us compute step), so each learns its own.
	 */
	uint32_t *check_units;
	uint32_t shard_units;
	bool pass_over;			/* the pass has had its time */
	bool pass_timed;		/* the last pass ended by pass_ns */
	/*
	 * The run queue node of the actor that ran last in a pass a bound
	 * ended, or NULL. Compared, never dereferenced: the actor may be
	 * gone by the next pass (see rotate_cut()).
	 */
	const ra_runq_node_t *pass_cut;
	uint64_t idle_poll_ns;		/* current poll window (adaptive) */
	uint64_t poll_min_ns;		/* cfg.idle_poll_ns */
	uint64_t poll_max_ns;		/* cfg.idle_poll_max_ns */
	bool shares_cpu;		/* more shards than CPUs: never spin */
	uint32_t timing_mask;		/* timing_sample - 1 */
	uint32_t timing_tick;		/* sends and completions so far */
	bool timing;			/* timing_sample != 0 */
	bool shutdown_seen;		/* the runtime is being destroyed */
	bool kernel_wait;		/* sleep in io_uring_enter when idle */
	bool peers_checked;		/* tried to register peer rings */
	bool peers_fixed;		/* peer ring i is fixed file i */
	unsigned fault_every;		/* RA_FAULT_MSGRING: fail every Nth */
	unsigned fault_tick;		/* batches sent, for fault_every */
	/* Work stealing (actors/steal.c); all of it this thread's. */
	uint64_t backlog;		/* messages queued in our actors' mailboxes */
	uint64_t load_pub;		/* last value stored to `load` */
	/* Sends waiting out a migration (envelopes); empty, one branch. */
	ra_fifo_t parked;
	/*
	 * Steal requests of this reap (envelopes), answered after it
	 * (ra__steal_serve()), when our batches of the last pass are
	 * settled; empty, one branch.
	 */
	ra_fifo_t steal_reqs;
	bool steal_on;			/* stealing enabled by the config */
	bool steal_got;			/* an actor arrived since our last attempt */
	bool steal_tried;		/* our last attempt sent requests */
	bool steal_prospect;		/* a loaded victim was seen: wake to retry */
	unsigned steal_tick;		/* loop passes, to space out attempts */
	unsigned steal_given;		/* actors handed over this pass */
	uint64_t steal_backoff_ns;	/* current wait after a fruitless try */
	uint64_t steal_next_ns;		/* no attempt before this time */
	uint64_t offer_next_ns;		/* no STEAL_OFFER before this time */
	/* Stealable at run time (actors/fence.c); this thread's too. */
	uint64_t fence_started;		/* last round whose FENCEs were posted */
	uint64_t fence_done;		/* last round every peer acknowledged */
	uint64_t fence_need;		/* round the waiting actors need */
	unsigned fence_acks;		/* acks still due for fence_started */
	ra_shard_stats_t stats;		/* single writer: this thread */
	ra_shard_hists_t hists;		/* single writer: this thread */
	pthread_t thread;
	uint64_t started_ns;		/* loop start, for busy = up - idle */
	int setup_err;			/* ring set-up result, for create */
	char setup_msg[256];		/* its ra_last_error() text */

	/* ---- read by other threads ---- */
	alignas(RA_CACHELINE) int ring_fd; /* target of msg_ring; fixed */
	uint32_t sleeping;		/* 1 while in io_uring_enter(GETEVENTS) */
	uint32_t idle;			/* 1 while polling or sleeping: senders
					 * flush to us at once (msgring.c) */
	/*
	 * Run queue + backlog + our I/O in the kernel, stored (relaxed) by
	 * this thread after each reap when it changed; thieves and
	 * RA_PLACE_LEAST_LOADED read it. A hint, never a promise. On its own
	 * cache line: stored about every pass, read rarely, it must not make
	 * the line of `idle` (read by senders every hop) bounce.
	 */
	alignas(RA_CACHELINE) uint64_t load;
	uint32_t nstealable;		/* stealable actors homed here; a hint */
} ra_shard_t;

/* The shard whose thread is running, or NULL on other threads. */
extern _Thread_local ra_shard_t *ra__shard_tls;

/*
 * The send-time stamp for the next message: the clock for every
 * timing_sample-th one, 0 (not timed) for the rest.
 */
static inline uint64_t ra__shard_stamp(ra_shard_t *sh, uint64_t now)
{
	if (!sh->timing || (++sh->timing_tick & sh->timing_mask))
		return 0;
	return now ? now : ra__clock_now_ns();
}

/*
 * Clock reads per pass_ns of work the check interval aims for, and the
 * most units between two reads (a clock read costs ~35 ns here; 128 units
 * of the cheapest work, a local send and its behavior call, take ~4 us),
 * which is also where a new actor starts: a cheap one (most) then never
 * pays more, an expensive one learns at its first read. Starting small
 * did not work: two actors in a ping-pong each clamp the shard's count to
 * their own interval (ra__shard_run_begin()), the reads always fell in
 * the same one's run, and the other's interval never grew (a clock read
 * every 8 units, local round trips 34% slower).
 */
#define RA_PASS_CHECKS_PER_PASS	8
#define RA_PASS_CHECK_MAX	128
#define RA_PASS_CHECK_START	RA_PASS_CHECK_MAX

/* check_units units of work were done: read the clock (shard/shard.c). */
void ra__shard_pass_check(ra_shard_t *sh);

/*
 * One unit of work on this shard's thread: a behavior call, a send or a
 * spawn. Every check_units of them the clock is read, and a pass that
 * has run for pass_ns is marked over; the actor running stops after its
 * current message and the shard turns to its rings.
 */
static inline void ra__shard_work(ra_shard_t *sh)
{
	if (ra_unlikely(--sh->work_left == 0))
		ra__shard_pass_check(sh);
}

/*
 * An actor run begins; `units` is its learnt interval. Its first clock
 * read comes within that many units, whatever the actor before it left.
 */
static inline void ra__shard_run_begin(ra_shard_t *sh, uint32_t *units)
{
	sh->check_units = units;
	if (sh->work_left > *units) {
		sh->work_done -= sh->work_left - *units;
		sh->work_left = *units;
	}
}

static inline void ra__shard_run_end(ra_shard_t *sh)
{
	sh->check_units = &sh->shard_units;
}

/* This shard's load: run queue + mailbox backlog + I/O in the kernel. */
static inline uint64_t ra__shard_load(const ra_shard_t *sh)
{
	return (uint64_t)sh->runq.len + sh->backlog + sh->io_inflight;
}

/*
 * Once per loop pass: store our load for thieves and
 * RA_PLACE_LEAST_LOADED (actors/steal.c) if it changed.
 */
static inline void ra__shard_publish_load(ra_shard_t *sh)
{
	uint64_t l = ra__shard_load(sh);

	if (l != sh->load_pub) {
		sh->load_pub = l;
		ck_pr_store_64(&sh->load, l);
	}
}

int ra__shard_init(ra_shard_t *sh, struct ra_runtime *rt, unsigned id);
void ra__shard_fini(ra_shard_t *sh);
void *ra__shard_main(void *arg);

/*
 * Free payloads of envelopes still in this shard's CQ after its thread
 * was joined, counting the messages among them as dead letters.
 */
void ra__shard_drain_after_stop(ra_shard_t *sh);

#endif /* RA_SHARD_SHARD_H */
