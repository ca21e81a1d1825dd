/*
 * messaging: what it costs to move a message between two actors, in a
 * steady state and from a cold start, each against its physical floor.
 *
 * Three benchmarks, each in two placements: "across" puts the two actors
 * on shards 0 and 1 (pinned to CPUs 0 and 1), "local" puts both on shard
 * 0 of the same 2-shard runtime.
 *
 *   steady_ping_pong_rtt_*       256 request/ack round trips per batch.
 *     Floors: raw IORING_OP_MSG_RING between two polling rings
 *     (floor_msgring.c) and two threads spinning on one shared cache
 *     line. Across is compared with msg_ring (the ratio) and also shown
 *     beside the cache line; local has only the cache line floor, and its
 *     absolute time per round trip is held to TARGET_LOCAL_RT_US.
 *   steady_one_way_send_drain_*  2048 one-way messages, then a flush the
 *     receiver answers with the sum of what it got and how many came out
 *     of sequence (checked: FIFO is the contract). Floor: two
 *     threads and a shared-memory SPSC ring doing the same, flush and ack
 *     included. Per message = batch / 2048, held to TARGET_OW_NS across.
 *   cold_start_ping_pong_*       ra_runtime_create() of a 2-shard runtime,
 *     spawn the pair, 64 round trips, ra_runtime_destroy(); timed whole,
 *     held to TARGET_COLD_US. Floor: two threads, each making its own
 *     io_uring, 64 msg_ring round trips, rings closed and threads joined.
 *     Both are broken down into set-up, work and teardown.
 *
 * Steady batches: main sends the driving actor (pinger or sender) a START
 * and sleeps in read(2) on an eventfd; the driver times the batch with
 * ra_now_ns() from its first send to its last answer and writes the
 * eventfd. Floors and runtime alternate in rounds (see bench.h), the
 * runtime living through all rounds of its benchmark.
 *
 * Per-op histograms: the ping-pongs time every round trip; the one-way
 * benchmark stamps one message in OW_SAMPLE (both sides alike) and records
 * its send-to-receive latency inside the burst, queueing included; the
 * cold start records each whole run.
 *
 * Every batch checks what it received (sequence numbers and counts, sums
 * of the values) and the program exits 1 on a mismatch; 77 when io_uring
 * is unavailable.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define MSG_SHARDS		2
#define PP_RTS			256	/* round trips per batch */
#define OW_MSGS			2048	/* one-way msgs per batch */
#define OW_SAMPLE		64	/* stamp one message in this many */
#define COLD_RTS		64	/* round trips per cold start */

#define TARGET_LOCAL_RT_US	0.15	/* local round trip */
#define TARGET_OW_NS		15.0	/* one-way message, across */
#define TARGET_COLD_US		90.0	/* whole cold start */

/* The one-way values: (base + i) * OW_K, so that every sum differs. */
#define OW_K			0x9e3779b97f4a7c15ull

/* Floor SPSC ring: room for a whole batch, as mailboxes are unbounded. */
#define SPSC_SLOTS		4096u
#define SPSC_FLUSH		UINT64_MAX	/* the flush item's stamp */
#define SPSC_STOP		(UINT64_MAX - 1)

/* Spins before a waiting floor thread starts to sched_yield(). */
#define FLOOR_SPINS_BEFORE_YIELD 20000u

enum msg_type {
	M_START = 1,		/* main -> driver: struct start */
	M_PING,			/* pinger -> ponger: uint32_t sequence */
	M_ACK,			/* ponger -> pinger: the same sequence */
	M_DATA,			/* sender -> receiver: struct ow_item */
	M_FLUSH,		/* sender -> receiver: uint32_t count sent */
	M_SUM,			/* receiver -> sender: struct ow_sum */
};

struct start {
	uint32_t n;		/* round trips or messages in this batch */
	uint32_t record;	/* record per-op latency */
};

struct ow_item {
	uint64_t val;		/* summed by the receiver */
	uint64_t stamp;		/* send time if sampled, else 0 */
};

struct ow_sum {
	uint64_t sum;		/* of the values since the last flush */
	uint64_t count;		/* messages since the last flush */
	uint64_t bad;		/* malformed ones since the last flush */
	uint64_t order;		/* values not OW_K above the last one */
	uint64_t prev;		/* the last value */
};

/*
 * Count `val` into `acc`. A batch's values go up by OW_K in send order,
 * so a gap, a repeat or a swap breaks the chain: sum and count alone
 * would pass a reordering. One compare per message, as cheap as the sum.
 */
static inline void ow_take(struct ow_sum *acc, uint64_t val)
{
	acc->order += acc->count && val != acc->prev + OW_K;
	acc->prev = val;
	acc->sum += val;
	acc->count++;
}

/* ------------------------------------------------------------------ */
/* Main <-> driver                                                     */
/* ------------------------------------------------------------------ */

/*
 * What main and the actors share. One actor at a time writes per_op (the
 * pinger, or the receiver of a one-way batch); the driver stores
 * batch_ns with release and writes the eventfd, main reads the eventfd
 * and loads batch_ns with acquire, so all the batch's writes are seen.
 */
struct shared {
	int efd;		/* eventfd main sleeps on */
	ra_ref_t peer;		/* the ponger or the receiver */
	ra_hdr_t *per_op;	/* per-op ns; NULL: do not record */
	_Atomic uint64_t batch_ns; /* the last batch's wall time */
	uint64_t send_ns;	/* one-way: the sender's loop of ra_send() */
	int err;		/* first error seen by an actor */
};

static void signal_main(struct shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

/* Fail the batch: main wakes up and sees `err`. The actor goes on. */
static int fail(struct shared *sh, int err)
{
	if (!sh->err)
		sh->err = err;
	signal_main(sh, 0);
	return 0;
}

/* Sleep until the driver signals; the batch's wall time in *batch_ns. */
static int wait_driver(struct shared *sh, double *batch_ns)
{
	int ret = bench_batch_wait(sh->efd, -1, &sh->batch_ns, batch_ns);

	return ret ? ret : sh->err;
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

struct pinger {
	struct shared *sh;
	uint32_t n;		/* round trips in this batch */
	uint32_t seq;		/* sequence of the PING in flight */
	bool record;
	uint64_t t0;		/* first send of the batch */
	uint64_t ts;		/* send of the PING in flight */
	uint64_t seq_sum;	/* of the sequences the ACKs carried */
};

static int driver_init(ra_ctx_t *self, void *state, void *arg)
{
	/* Both drivers keep the shared block first in their state. */
	*(struct shared **)state = arg;
	return 0;
}

static int ping(ra_ctx_t *self, struct pinger *p)
{
	int ret = ra_send(self, p->sh->peer, M_PING, &p->seq, sizeof(p->seq));

	return ret ? fail(p->sh, ret) : 0;
}

static int pinger_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct pinger *p = state;
	struct start st;
	uint32_t seq;
	uint64_t now;

	switch (msg->type) {
	case M_START:
		if (msg->len != sizeof(st))
			return fail(p->sh, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		if (st.n == 0)
			return fail(p->sh, -EINVAL);
		p->n = st.n;
		p->record = st.record && p->sh->per_op;
		p->seq = 0;
		p->seq_sum = 0;
		p->t0 = p->ts = ra_now_ns();
		return ping(self, p);
	case M_ACK:
		now = ra_now_ns();
		if (msg->len != sizeof(seq))
			return fail(p->sh, -EPROTO);
		memcpy(&seq, msg->data, sizeof(seq));
		/* One PING in flight: the ACK must carry its sequence. */
		if (seq != p->seq || p->n == 0) {
			fprintf(stderr, "messaging: ACK %u, expected %u\n",
				seq, p->seq);
			return fail(p->sh, -EBADMSG);
		}
		p->seq_sum += seq;
		if (p->record)
			ra_hdr_record(p->sh->per_op, (int64_t)(now - p->ts));
		if (++p->seq < p->n) {
			p->ts = now;
			return ping(self, p);
		}
		if (p->seq_sum != (uint64_t)p->n * (p->n - 1) / 2) {
			fprintf(stderr, "messaging: ACK sequence sum %" PRIu64
				", expected %" PRIu64 "\n", p->seq_sum,
				(uint64_t)p->n * (p->n - 1) / 2);
			return fail(p->sh, -EBADMSG);
		}
		p->n = 0;
		signal_main(p->sh, now - p->t0);
		return 0;
	default:
		return fail(p->sh, -EPROTO);
	}
}

/*
 * The PINGs of a batch carry 0, 1, 2...: answer each with the sequence
 * it should have had, so that the pinger's check of the ACK also catches
 * a PING lost, repeated or swapped on the way here.
 */
static int ponger_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	uint32_t *next = state, seq;

	if (msg->type != M_PING || msg->len != sizeof(seq))
		return -EPROTO;
	memcpy(&seq, msg->data, sizeof(seq));
	if (seq == 0)
		*next = 0;	/* a new batch */
	seq = seq == *next ? seq : UINT32_MAX;
	(*next)++;
	return ra_send(self, msg->from, M_ACK, &seq, sizeof(seq));
}

struct sender {
	struct shared *sh;
	uint64_t t0;		/* first send of the batch */
	uint64_t batches;	/* batches started: picks the values */
	uint64_t expect;	/* sum of the values sent in this batch */
	uint32_t n;		/* messages sent in this batch, 0 = idle */
};

/* The whole burst in one behavior call, as a producer would send it. */
static int sender_start(ra_ctx_t *self, struct sender *s,
			const struct start *st)
{
	struct ow_item it = { 0, 0 };
	uint64_t base = ++s->batches << 24;
	int ret;

	s->n = st->n;
	s->expect = OW_K * ((uint64_t)st->n * base +
			    (uint64_t)st->n * (st->n - 1) / 2);
	s->t0 = ra_now_ns();
	for (uint32_t i = 0; i < st->n; i++) {
		it.val = (base + i) * OW_K;
		it.stamp = st->record && i % OW_SAMPLE == 0 ? ra_now_ns() : 0;
		ret = ra_send(self, s->sh->peer, M_DATA, &it, sizeof(it));
		if (ret)
			return fail(s->sh, ret);
	}
	ret = ra_send(self, s->sh->peer, M_FLUSH, &st->n, sizeof(st->n));
	s->sh->send_ns = ra_now_ns() - s->t0;
	return ret ? fail(s->sh, ret) : 0;
}

static int sender_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct sender *s = state;
	struct ow_sum sum;
	struct start st;
	uint64_t now;

	switch (msg->type) {
	case M_START:
		if (msg->len != sizeof(st))
			return fail(s->sh, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		if (st.n == 0 || s->n)
			return fail(s->sh, -EINVAL);
		return sender_start(self, s, &st);
	case M_SUM:
		now = ra_now_ns();
		if (msg->len != sizeof(sum))
			return fail(s->sh, -EPROTO);
		memcpy(&sum, msg->data, sizeof(sum));
		if (sum.count != s->n || sum.sum != s->expect || sum.bad ||
		    sum.order) {
			fprintf(stderr, "messaging: receiver got %" PRIu64
				" messages (%" PRIu64 " malformed, %" PRIu64
				" out of sequence) summing to %#" PRIx64
				"; sent %u summing to %#" PRIx64 "\n",
				sum.count, sum.bad, sum.order, sum.sum, s->n,
				s->expect);
			return fail(s->sh, -EBADMSG);
		}
		s->n = 0;
		signal_main(s->sh, now - s->t0);
		return 0;
	default:
		return fail(s->sh, -EPROTO);
	}
}

struct receiver {
	struct shared *sh;
	struct ow_sum acc;	/* since the last flush */
};

static int receiver_init(ra_ctx_t *self, void *state, void *arg)
{
	struct receiver *r = state;

	r->sh = arg;
	return 0;
}

static int receiver_behavior(ra_ctx_t *self, void *state,
			     const ra_msg_t *msg)
{
	struct receiver *r = state;
	struct ow_item it;
	struct ow_sum out;

	switch (msg->type) {
	case M_DATA:
		if (msg->len != sizeof(it)) {
			r->acc.bad++;
			return 0;
		}
		memcpy(&it, msg->data, sizeof(it));
		ow_take(&r->acc, it.val);
		if (it.stamp && r->sh->per_op)
			ra_hdr_record(r->sh->per_op,
				      (int64_t)(ra_now_ns() - it.stamp));
		return 0;
	case M_FLUSH:
		out = r->acc;
		memset(&r->acc, 0, sizeof(r->acc));
		return ra_send(self, msg->from, M_SUM, &out, sizeof(out));
	default:
		r->acc.bad++;
		return 0;
	}
}

static const ra_actor_def_t pinger_def = {
	.name = "pinger",
	.state_size = sizeof(struct pinger),
	.init = driver_init,
	.behavior = pinger_behavior,
};

static const ra_actor_def_t ponger_def = {
	.name = "ponger",
	.state_size = sizeof(uint32_t),	/* the next PING's sequence */
	.behavior = ponger_behavior,
};

static const ra_actor_def_t sender_def = {
	.name = "sender",
	.state_size = sizeof(struct sender),
	.init = driver_init,
	.behavior = sender_behavior,
};

static const ra_actor_def_t receiver_def = {
	.name = "receiver",
	.state_size = sizeof(struct receiver),
	.init = receiver_init,
	.behavior = receiver_behavior,
};

/* ------------------------------------------------------------------ */
/* A runtime with a driver and its peer                                 */
/* ------------------------------------------------------------------ */

struct pair {
	ra_runtime_t *rt;
	ra_ref_t driver;	/* pinger or sender, on shard 0 */
	struct shared *sh;	/* sh->peer: ponger or receiver */
};

/*
 * Spawn `peer_def` on shard 1 (across) or 0 (local), then `drv_def` on
 * shard 0, in the running runtime `p->rt`.
 */
static int pair_spawn(struct pair *p, const ra_actor_def_t *drv_def,
		      const ra_actor_def_t *peer_def, bool local)
{
	ra_spawn_opts_t drv = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t peer = { .placement = RA_PLACE_SHARD,
				 .shard = local ? 0 : 1 };
	int ret;

	ret = ra_runtime_spawn(p->rt, peer_def, p->sh, &peer, &p->sh->peer);
	if (!ret)
		ret = ra_runtime_spawn(p->rt, drv_def, p->sh, &drv,
				       &p->driver);
	if (ret)
		fprintf(stderr, "messaging: ra_runtime_spawn: %s\n",
			ra_strerror(ret));
	return ret;
}

static int pair_create(struct pair *p, const ra_config_t *cfg,
		       const ra_actor_def_t *drv_def,
		       const ra_actor_def_t *peer_def, bool local)
{
	int ret;

	ret = bench_runtime_create("messaging", cfg, &p->rt);
	if (ret) {
		p->rt = NULL;
		return ret;
	}
	ret = pair_spawn(p, drv_def, peer_def, local);
	if (ret) {
		ra_runtime_destroy(p->rt);
		p->rt = NULL;
	}
	return ret;
}

static int pair_batch_n(struct pair *p, uint32_t n, bool record,
			double *batch_ns)
{
	struct start st = { .n = n, .record = record };
	int ret;

	ret = ra_runtime_send(p->rt, p->driver, M_START, &st, sizeof(st));
	if (ret)
		return ret;
	return wait_driver(p->sh, batch_ns);
}

struct pair_run {
	struct pair *p;
	uint32_t n;
	double *send_ns;	/* [timed batches]: the sender's loop */
	int nsend;
};

static int pair_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct pair_run *r = arg;
	int ret;

	ret = pair_batch_n(r->p, r->n, timed, batch_ns);
	if (!ret && timed)
		r->send_ns[r->nsend++] = (double)r->p->sh->send_ns;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Two-thread floors: shared cache line, SPSC ring                      */
/* ------------------------------------------------------------------ */

/*
 * The set-up every two-thread floor shares. Thread 0 drives and times
 * (batch wall time from its first store to the last answer, per-op into
 * per_op), thread 1 answers. Both spin; once FLOOR_SPINS_BEFORE_YIELD
 * spins go by without progress (or at once when both threads share one
 * CPU) they sched_yield(), so a descheduled partner gets to run.
 */
struct floor2 {
	/* in */
	int warmup;		/* warm-up batches */
	int batches;		/* timed batches */
	int n;			/* round trips or messages per batch */
	bool pin;
	int cpu[2];		/* from bench_pick_cpus() */
	double *batch_ns;	/* [batches] out */
	ra_hdr_t *per_op;	/* may be NULL */
	/* out */
	struct bench_cpu cpu_used; /* process CPU over the timed batches */
	bool shared_cpu;	/* both threads on one CPU */
	bool pinned;		/* both threads pinned as asked */
};

struct floor2_thread {
	struct floor2 *f;
	void *run;		/* the floor's own shared state */
	int idx;
	bool pinned;
	int err;
	void *(*body)(struct floor2_thread *t);
};

static void floor_wait_step(const struct floor2 *f, unsigned *spins)
{
	if (f->shared_cpu || ++*spins > FLOOR_SPINS_BEFORE_YIELD)
		sched_yield();
	else
		bench_cpu_relax();
}

static void *floor2_main(void *arg)
{
	struct floor2_thread *t = arg;

	if (t->f->pin)
		t->pinned = bench_pin_self(t->f->cpu[t->idx]) == 0;
	return t->body(t);
}

/*
 * Run the floor's two thread bodies to completion. Thread 1 (the one that
 * answers) starts first; if thread 0 cannot be started, `cancel` tells
 * thread 1 to return.
 */
static int floor2_run(struct floor2 *f, void *run,
		      void *(*body0)(struct floor2_thread *),
		      void *(*body1)(struct floor2_thread *),
		      void (*cancel)(void *run))
{
	struct floor2_thread t[2];
	pthread_t tid[2];
	int i, ret;

	memset(&f->cpu_used, 0, sizeof(f->cpu_used));
	f->shared_cpu = f->pin ? f->cpu[0] == f->cpu[1] :
			bench_pick_cpus(2, (int[2]){ 0, 0 }) < 2;
	for (i = 0; i < 2; i++)
		t[i] = (struct floor2_thread){ .f = f, .run = run, .idx = i,
					       .body = i ? body1 : body0 };
	ret = -pthread_create(&tid[1], NULL, floor2_main, &t[1]);
	if (ret)
		return ret;
	ret = -pthread_create(&tid[0], NULL, floor2_main, &t[0]);
	if (ret) {
		cancel(run);
		pthread_join(tid[1], NULL);
		return ret;
	}
	pthread_join(tid[0], NULL);
	pthread_join(tid[1], NULL);
	f->pinned = t[0].pinned && t[1].pinned;
	return t[0].err ? t[0].err : t[1].err;
}

/* --- two threads on one shared cache line --- */

#define CL_STOP UINT64_MAX

struct cl_run {
	/* The only line the two threads share. */
	alignas(64) _Atomic uint64_t line;
	char pad[64 - sizeof(uint64_t)];
};

/* Thread 0: store an odd value, wait for the next even one. */
static void *cl_pinger(struct floor2_thread *t)
{
	struct cl_run *run = t->run;
	struct floor2 *f = t->f;
	struct bench_cpu c0, c1;
	uint64_t v = 0, t0, ts, now = 0, rts = 0;
	unsigned spins;

	memset(&c0, 0, sizeof(c0));
	for (int b = 0; b < f->warmup + f->batches; b++) {
		bool timed = b >= f->warmup;

		if (b == f->warmup)
			bench_cpu_now(&c0);
		t0 = ts = bench_now_ns();
		for (int i = 0; i < f->n; i++) {
			atomic_store_explicit(&run->line, v + 1,
					      memory_order_release);
			spins = 0;
			while (atomic_load_explicit(&run->line,
						    memory_order_acquire) !=
			       v + 2)
				floor_wait_step(f, &spins);
			v += 2;
			rts++;
			now = bench_now_ns();
			if (timed && f->per_op)
				ra_hdr_record(f->per_op, (int64_t)(now - ts));
			ts = now;
		}
		if (timed)
			f->batch_ns[b - f->warmup] = (double)(now - t0);
	}
	bench_cpu_now(&c1);
	bench_cpu_sub(&c1, &c0, &f->cpu_used);
	atomic_store_explicit(&run->line, CL_STOP, memory_order_release);
	if (rts != (uint64_t)(f->warmup + f->batches) * (uint64_t)f->n ||
	    v != 2 * rts)
		t->err = -EBADMSG;
	return NULL;
}

/* Thread 1: answer each odd value with the next even one. */
static void *cl_ponger(struct floor2_thread *t)
{
	struct cl_run *run = t->run;
	uint64_t want = 1, v;
	unsigned spins = 0;

	for (;;) {
		v = atomic_load_explicit(&run->line, memory_order_acquire);
		if (v == CL_STOP)
			return NULL;
		if (v != want) {
			floor_wait_step(t->f, &spins);
			continue;
		}
		atomic_store_explicit(&run->line, v + 1,
				      memory_order_release);
		want += 2;
		spins = 0;
	}
}

static void cl_cancel(void *arg)
{
	struct cl_run *run = arg;

	atomic_store_explicit(&run->line, CL_STOP, memory_order_release);
}

static int floor_cacheline_run(struct floor2 *f)
{
	struct cl_run *run = aligned_alloc(64, sizeof(*run));
	int ret;

	if (!run)
		return -ENOMEM;
	atomic_init(&run->line, 0);
	ret = floor2_run(f, run, cl_pinger, cl_ponger, cl_cancel);
	free(run);
	return ret;
}

/* --- a shared-memory SPSC ring carrying the one-way batch --- */

struct spsc_run {
	/* Producer's line: its index, and its cached view of the head. */
	alignas(64) _Atomic uint32_t tail;
	uint32_t head_cache;
	/* Consumer's line. */
	alignas(64) _Atomic uint32_t head;
	uint32_t tail_cache;
	/* The ack: sum and count, then the batch number with release. */
	alignas(64) _Atomic uint64_t ack_batch;
	struct ow_sum ack;
	alignas(64) struct ow_item slot[SPSC_SLOTS];
};

static void spsc_push(struct spsc_run *q, const struct floor2 *f,
		      uint64_t val, uint64_t stamp)
{
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	unsigned spins = 0;

	while (tail - q->head_cache == SPSC_SLOTS) {
		q->head_cache = atomic_load_explicit(&q->head,
						     memory_order_acquire);
		if (tail - q->head_cache == SPSC_SLOTS)
			floor_wait_step(f, &spins);
	}
	q->slot[tail & (SPSC_SLOTS - 1)].val = val;
	q->slot[tail & (SPSC_SLOTS - 1)].stamp = stamp;
	/* Pairs with the consumer's acquire load of tail. */
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
}

static void spsc_pop(struct spsc_run *q, const struct floor2 *f,
		     struct ow_item *out)
{
	uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	unsigned spins = 0;

	while (head == q->tail_cache) {
		q->tail_cache = atomic_load_explicit(&q->tail,
						     memory_order_acquire);
		if (head == q->tail_cache)
			floor_wait_step(f, &spins);
	}
	*out = q->slot[head & (SPSC_SLOTS - 1)];
	/* Pairs with the producer's acquire load of head. */
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

/* Thread 0: push a batch and a flush, wait for the ack, check it. */
static void *spsc_producer(struct floor2_thread *t)
{
	struct spsc_run *q = t->run;
	struct floor2 *f = t->f;
	struct bench_cpu c0, c1;
	uint64_t t0, now, base, expect, n = (uint64_t)f->n;
	unsigned spins;

	memset(&c0, 0, sizeof(c0));
	for (int b = 0; b < f->warmup + f->batches; b++) {
		bool timed = b >= f->warmup;

		if (b == f->warmup)
			bench_cpu_now(&c0);
		base = (uint64_t)(b + 1) << 24;
		expect = OW_K * (n * base + n * (n - 1) / 2);
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < n; i++)
			spsc_push(q, f, (base + i) * OW_K,
				  timed && f->per_op && i % OW_SAMPLE == 0 ?
				  bench_now_ns() : 0);
		spsc_push(q, f, n, SPSC_FLUSH);
		spins = 0;
		while (atomic_load_explicit(&q->ack_batch,
					    memory_order_acquire) !=
		       (uint64_t)b + 1)
			floor_wait_step(f, &spins);
		now = bench_now_ns();
		if (q->ack.count != n || q->ack.sum != expect ||
		    q->ack.order) {
			fprintf(stderr, "messaging: SPSC floor: consumer got "
				"%" PRIu64 " items (%" PRIu64 " out of "
				"sequence) summing to %#" PRIx64 "; sent %"
				PRIu64 " summing to %#" PRIx64 "\n",
				q->ack.count, q->ack.order, q->ack.sum, n,
				expect);
			t->err = -EBADMSG;
			break;
		}
		if (timed)
			f->batch_ns[b - f->warmup] = (double)(now - t0);
	}
	bench_cpu_now(&c1);
	bench_cpu_sub(&c1, &c0, &f->cpu_used);
	spsc_push(q, f, 0, SPSC_STOP);
	return NULL;
}

/* Thread 1: sum until the flush, then publish the ack. */
static void *spsc_consumer(struct floor2_thread *t)
{
	struct spsc_run *q = t->run;
	struct ow_sum acc = { 0 };
	struct ow_item it;
	uint64_t batch = 0;

	for (;;) {
		spsc_pop(q, t->f, &it);
		if (it.stamp == SPSC_STOP)
			return NULL;
		if (it.stamp == SPSC_FLUSH) {
			q->ack = acc;
			memset(&acc, 0, sizeof(acc));
			atomic_store_explicit(&q->ack_batch, ++batch,
					      memory_order_release);
			continue;
		}
		ow_take(&acc, it.val);
		if (it.stamp)
			ra_hdr_record(t->f->per_op,
				      (int64_t)(bench_now_ns() - it.stamp));
	}
}

static void spsc_cancel(void *arg)
{
	struct spsc_run *q = arg;
	struct floor2 f = { .shared_cpu = true };

	spsc_push(q, &f, 0, SPSC_STOP);
}

static int floor_spsc_run(struct floor2 *f)
{
	struct spsc_run *q = aligned_alloc(64, sizeof(*q));
	int ret;

	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	atomic_init(&q->tail, 0);
	atomic_init(&q->head, 0);
	atomic_init(&q->ack_batch, 0);
	ret = floor2_run(f, q, spsc_producer, spsc_consumer, spsc_cancel);
	free(q);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Cold-start floor: two threads, two rings, 64 msg_ring round trips    */
/* ------------------------------------------------------------------ */

#define CF_PING		1ull
#define CF_PONG		2ull
#define CF_STOP		3ull
#define CF_OWN		0xc01dull	/* our own msg_ring's CQE */

struct cold_floor {
	unsigned entries;	/* SQ entries per ring (the runtime's) */
	int rts;
	bool pin;
	int cpu[2];
	bool shared_cpu;
	/* out of each run, on the pinger's clock */
	uint64_t t_ready;	/* both rings exist */
	uint64_t t_done;	/* last answer in */
};

struct cf_side {
	struct cf_run *run;
	int idx;
	struct io_uring ring;
	bool skip;		/* own CQEs skipped */
	int err;
};

struct cf_run {
	struct cold_floor *f;
	/* 0 while setting up, 1 ready (fd published), or -errno. */
	_Atomic int state[2];
	atomic_bool abort;	/* a thread failed: stop waiting */
	int fd[2];
	struct cf_side side[2];
};

static int cf_send(struct cf_side *s, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	int ret;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_msg_ring(sqe, fd, 0, tag, 0);
	io_uring_sqe_set_data64(sqe, CF_OWN);
	if (s->skip)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	ret = io_uring_submit(&s->ring);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

static int cf_wait(struct cf_side *s, uint64_t *tag)
{
	struct io_uring_cqe *cqe;
	unsigned spins = 0;
	uint64_t ud;
	int res;

	for (;;) {
		if (io_uring_peek_cqe(&s->ring, &cqe) != 0) {
			if (s->run->f->shared_cpu ||
			    ++spins > FLOOR_SPINS_BEFORE_YIELD)
				sched_yield();
			else
				bench_cpu_relax();
			if ((spins & 1023) == 0 &&
			    atomic_load_explicit(&s->run->abort,
						 memory_order_relaxed))
				return -ECANCELED;
			continue;
		}
		ud = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&s->ring, cqe);
		if (ud == CF_OWN) {
			if (res < 0)
				return res;
			continue;
		}
		*tag = ud;
		return 0;
	}
}

static void *cf_thread(void *arg)
{
	struct cf_side *s = arg;
	struct cf_run *run = s->run;
	struct cold_floor *f = run->f;
	struct io_uring_params p;
	unsigned spins = 0;
	uint64_t tag;
	int ret, peer, i;

	if (f->pin)
		(void)bench_pin_self(f->cpu[s->idx]);
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	ret = io_uring_queue_init_params(f->entries, &s->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(f->entries, &s->ring, &p);
	}
	s->skip = !ret && (p.features & IORING_FEAT_CQE_SKIP);
	run->fd[s->idx] = ret ? -1 : s->ring.ring_fd;
	atomic_store_explicit(&run->state[s->idx], ret ? ret : 1,
			      memory_order_release);
	if (ret) {
		s->err = ret;
		return NULL;
	}
	while ((ret = atomic_load_explicit(&run->state[!s->idx],
					   memory_order_acquire)) == 0) {
		if (f->shared_cpu || ++spins > FLOOR_SPINS_BEFORE_YIELD)
			sched_yield();
		else
			bench_cpu_relax();
	}
	if (ret < 0)
		goto out;
	ret = 0;
	peer = run->fd[!s->idx];
	if (s->idx == 0) {
		f->t_ready = bench_now_ns();
		for (i = 0; i < f->rts && !ret; i++) {
			ret = cf_send(s, peer, CF_PING);
			if (!ret)
				ret = cf_wait(s, &tag);
			if (!ret && tag != CF_PONG)
				ret = -EBADMSG;
		}
		f->t_done = bench_now_ns();
		/* The ponger must hear STOP whatever happened. */
		if (cf_send(s, peer, CF_STOP) && !ret)
			ret = -EIO;
		if (!ret && i != f->rts)
			ret = -EBADMSG;
	} else {
		for (;;) {
			ret = cf_wait(s, &tag);
			if (ret || tag == CF_STOP)
				break;
			ret = tag == CF_PING ? cf_send(s, peer, CF_PONG) :
			      -EBADMSG;
			if (ret)
				break;
		}
	}
	s->err = ret;
	if (ret)
		atomic_store(&run->abort, true);
out:
	/*
	 * The peer never targets our ring after its last message to us (the
	 * ponger: the last PONG; the pinger: STOP), so no barrier is needed.
	 */
	io_uring_queue_exit(&s->ring);
	return NULL;
}

/*
 * One cold run of the floor: threads created, rings made, round trips,
 * rings closed, threads joined. `parts` gets set-up, work and teardown.
 */
static int cold_floor_once(struct cold_floor *f, double *total_ns,
			   double parts[3])
{
	struct cf_run run;
	pthread_t tid[2];
	uint64_t t0, t3;
	int i, ret = 0, started = 0;

	memset(&run, 0, sizeof(run));
	run.f = f;
	atomic_init(&run.state[0], 0);
	atomic_init(&run.state[1], 0);
	atomic_init(&run.abort, false);
	t0 = bench_now_ns();
	for (i = 0; i < 2; i++) {
		run.side[i].run = &run;
		run.side[i].idx = i;
		ret = -pthread_create(&tid[i], NULL, cf_thread, &run.side[i]);
		if (ret)
			break;
		started++;
	}
	if (started == 1)	/* release the lone thread */
		atomic_store(&run.state[1], ret);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	t3 = bench_now_ns();
	if (started < 2)
		return ret;
	if (run.side[0].err || run.side[1].err)
		return run.side[0].err ? run.side[0].err : run.side[1].err;
	*total_ns = (double)(t3 - t0);
	parts[0] = (double)(f->t_ready - t0);
	parts[1] = (double)(f->t_done - f->t_ready);
	parts[2] = (double)(t3 - f->t_done);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reporting helpers                                                    */
/* ------------------------------------------------------------------ */

/* Write `h` to DIR/<name>.hgrm, or DIR/<name><suffix>.hgrm. */
static int hgrm_out(const struct bench_opts *o, const char *name,
		    const char *suffix, const ra_hdr_t *h)
{
	char full[256], buf[512];
	const char *path;

	if (!o->hgrm_dir || !h || ra_hdr_total_count(h) == 0)
		return 0;
	snprintf(full, sizeof(full), "%s%s", name, suffix ? suffix : "");
	path = bench_hgrm_path(o, full, false, buf, sizeof(buf));
	if (!path)
		return -ENAMETOOLONG;
	return bench_hgrm_emit("messaging", path, h);
}

static const char *verdict(bool met, const struct bench_opts *o)
{
	if (o->quick || o->batches < BENCH_MIN_BATCHES)
		return met ? "PASS (smoke run)" : "MISS (smoke run)";
	return met ? "PASS" : "MISS";
}

static double median_of(const double *v, int n)
{
	struct bench_stats s;

	return bench_stats_compute(v, (size_t)n, &s) ? 0 : s.median;
}

/* ------------------------------------------------------------------ */
/* Steady benchmarks                                                    */
/* ------------------------------------------------------------------ */

enum floor_kind {
	FLOOR_NONE = 0,
	FLOOR_MSGRING,		/* floor_msgring.c */
	FLOOR_CACHELINE,	/* cl_run */
	FLOOR_SPSC,		/* spsc_run */
};

static const char *const floor_label[] = {
	[FLOOR_MSGRING] = "floor msg_ring",
	[FLOOR_CACHELINE] = "floor cache line",
	[FLOOR_SPSC] = "floor SPSC ring",
};

static const char *const floor_suffix[] = {
	[FLOOR_MSGRING] = ".floor_msgring",
	[FLOOR_CACHELINE] = ".floor_cacheline",
	[FLOOR_SPSC] = ".floor_spsc",
};

struct steady_def {
	const char *name;
	bool oneway;		/* one-way burst, else ping-pong */
	bool local;
	int n;			/* default round trips / messages */
	enum floor_kind floor[2]; /* [0] gives the ratio */
};

static const struct steady_def steady_defs[] = {
	{ "steady_ping_pong_rtt_across", false, false, PP_RTS,
	  { FLOOR_MSGRING, FLOOR_CACHELINE } },
	{ "steady_ping_pong_rtt_local", false, true, PP_RTS,
	  { FLOOR_CACHELINE, FLOOR_NONE } },
	{ "steady_one_way_send_drain_across", true, false, OW_MSGS,
	  { FLOOR_SPSC, FLOOR_NONE } },
	{ "steady_one_way_send_drain_local", true, true, OW_MSGS,
	  { FLOOR_SPSC, FLOOR_NONE } },
};

/* One round of a floor: `batches` more batch times appended to `s`. */
static int floor_round(const struct bench_opts *o, enum floor_kind kind,
		       int batches, ra_hdr_t *per_op, struct bench_series *s,
		       char *desc, size_t desc_len)
{
	struct floor_msgring fm;
	struct floor2 f2;
	struct bench_cpu cpu;
	uint64_t w0 = bench_now_ns();
	int ret;

	if (kind == FLOOR_MSGRING) {
		memset(&fm, 0, sizeof(fm));
		fm.warmup = o->warmup;
		fm.batches = batches;
		fm.rts = o->ops;
		fm.pin = o->pin;
		bench_pick_cpus(2, fm.cpu);
		ret = floor_msgring_run(&fm, s->batch_ns + s->n, per_op, &cpu);
		if (!ret)
			snprintf(desc, desc_len, "msg_ring between two rings "
				 "peeking their CQs, %s%s%s",
				 fm.pinned ? "pinned" : "unpinned",
				 fm.skip_cqe ? ", own CQE skipped" : "",
				 fm.shared_cpu ? ", ONE CPU: pollers yield" :
				 "");
	} else {
		memset(&f2, 0, sizeof(f2));
		f2.warmup = o->warmup;
		f2.batches = batches;
		f2.n = o->ops;
		f2.pin = o->pin;
		bench_pick_cpus(2, f2.cpu);
		f2.batch_ns = s->batch_ns + s->n;
		f2.per_op = per_op;
		ret = kind == FLOOR_CACHELINE ? floor_cacheline_run(&f2) :
		      floor_spsc_run(&f2);
		cpu = f2.cpu_used;
		if (!ret)
			snprintf(desc, desc_len, "%s, two threads %s%s",
				 kind == FLOOR_CACHELINE ?
				 "one shared cache line (atomic store/spin)" :
				 "SPSC ring of 16-byte items, flush + ack",
				 f2.pinned ? "pinned" : "unpinned",
				 f2.shared_cpu ? ", ONE CPU: spinners yield" :
				 "");
	}
	if (ret) {
		fprintf(stderr, "messaging: %s: %s\n", floor_label[kind],
			strerror(-ret));
		return ret;
	}
	s->n += batches;
	s->wall_ns += (double)(bench_now_ns() - w0);
	bench_cpu_add(&s->cpu, &cpu);
	return 0;
}

/* The runtime's counters over the timed and warm-up batches. */
struct counters {
	bool valid;
	ra_stats_t s0;
	double remote, sqes, sleeps, dead;	/* per batch */
};

static void counters_begin(ra_runtime_t *rt, struct counters *c)
{
	c->valid = ra_stats_snapshot(rt, &c->s0) == 0;
}

static void counters_end(ra_runtime_t *rt, int batches, struct counters *c)
{
	ra_stats_t s1;

	if (!c->valid)
		return;
	c->valid = batches > 0 && ra_stats_snapshot(rt, &s1) == 0;
	if (c->valid) {
		c->remote = (double)(s1.msgs_remote - c->s0.msgs_remote) /
			    batches;
		c->sqes = (double)(s1.msgring_batches -
				   c->s0.msgring_batches) / batches;
		c->sleeps = (double)(s1.sleeps - c->s0.sleeps) / batches;
		c->dead = (double)(s1.dead_letters - c->s0.dead_letters);
		ra_stats_fini(&s1);
	}
	ra_stats_fini(&c->s0);
}

static int steady_report(const struct bench_opts *o,
			 const struct bench_machine *m,
			 const struct steady_def *d, ra_hdr_t *ra_op,
			 ra_hdr_t *fl_op[2], struct bench_series *ra_s,
			 struct bench_series fl_s[2], const struct counters *c,
			 char desc[2][160], double send_med)
{
	struct bench_result ra, fl[2];
	char fname[2][128];
	double per, cl_ratio = 0;
	bool met;
	int i, ret = 0;

	bench_result_init(&ra, d->name, o);
	if (bench_result_fill(&ra, ra_s, ra_op))
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		if (!o->floor || d->floor[i] == FLOOR_NONE)
			continue;
		snprintf(fname[i], sizeof(fname[i]), "%s%s", d->name,
			 i == 0 ? ".floor" : floor_suffix[d->floor[i]]);
		bench_result_init(&fl[i], fname[i], o);
		if (bench_result_fill(&fl[i], &fl_s[i], fl_op[i]))
			return -ENOMEM;
	}
	if (o->floor) {
		bench_result_set_floor(&ra, &fl[0]);
		if (d->floor[1] != FLOOR_NONE && fl[1].batch.median > 0) {
			cl_ratio = ra.batch.median / fl[1].batch.median;
			bench_result_add(&ra, "ratio_cacheline", cl_ratio);
		}
	}
	per = ra.batch.median / o->ops;
	bench_result_add(&ra, d->oneway ? "ns_per_msg" : "ns_per_rt", per);

	bench_print_row_header(stdout);
	for (i = 0; i < 2; i++)
		if (o->floor && d->floor[i] != FLOOR_NONE)
			bench_print_row_as(stdout, floor_label[d->floor[i]],
					   &fl[i]);
	bench_print_row_as(stdout, "ringactor", &ra);
	for (i = 0; i < 2; i++)
		if (o->floor && d->floor[i] != FLOOR_NONE)
			printf("%-18s %s\n", floor_label[d->floor[i]],
			       desc[i]);
	for (i = 0; i < 2; i++)
		if (o->floor && d->floor[i] != FLOOR_NONE)
			bench_hdr_summary(stdout, floor_label[d->floor[i]],
					  fl_op[i]);
	bench_hdr_summary(stdout, d->oneway ? "ringactor msg latency" :
			  "ringactor round trip", ra_op);
	if (c->valid)
		printf("runtime per batch (incl. warm-up): remote msgs %.1f, "
		       "msg_ring SQEs %.1f, shard sleeps %.2f; dead letters "
		       "%.0f\n", c->remote, c->sqes, c->sleeps, c->dead);
	if (o->floor) {
		printf("ratio ringactor/%s: batch median %.2fx, per-op p50 "
		       "%.2fx", floor_label[d->floor[0]] + 6, ra.ratio,
		       ra.ratio_op_p50);
		if (d->floor[1] != FLOOR_NONE)
			printf("; /%s: %.2fx", floor_label[d->floor[1]] + 6,
			       cl_ratio);
		putchar('\n');
	}
	if (!d->oneway && d->local) {
		met = per / 1000.0 <= TARGET_LOCAL_RT_US;
		printf("local round trip %.3f us; target <= %.2f us: %s\n",
		       per / 1000.0, TARGET_LOCAL_RT_US, verdict(met, o));
		bench_result_add(&ra, "target_ns_per_rt",
				 TARGET_LOCAL_RT_US * 1000.0);
		bench_result_add(&ra, "target_met", met);
	} else if (!d->oneway) {
		printf("round trip %.3f us; target ratio to msg_ring floor "
		       "< %.1fx: %s\n", per / 1000.0, BENCH_TARGET_RATIO,
		       o->floor ? verdict(ra.ratio < BENCH_TARGET_RATIO, o) :
		       "no floor");
		if (o->floor)
			bench_result_add(&ra, "target_met",
					 ra.ratio < BENCH_TARGET_RATIO);
	}
	if (d->oneway) {
		printf("of which the sender's loop of %d ra_send() + flush: "
		       "%.1f us (%.2f ns per send), then delivery to the ack\n",
		       o->ops, send_med / 1000.0, send_med / (o->ops + 1));
		bench_result_add(&ra, "send_loop_ns", send_med);
	}
	if (d->oneway && !d->local) {
		met = per <= TARGET_OW_NS;
		printf("one-way %.2f ns per message; target <= %.0f ns: %s\n",
		       per, TARGET_OW_NS, verdict(met, o));
		bench_result_add(&ra, "target_ns_per_msg", TARGET_OW_NS);
		bench_result_add(&ra, "target_met", met);
	} else if (d->oneway) {
		printf("one-way %.2f ns per message (the %.0f ns target is "
		       "for across)\n", per, TARGET_OW_NS);
	}

	for (i = 0; i < 2 && !ret; i++)
		if (o->floor && d->floor[i] != FLOOR_NONE)
			ret = bench_json_emit("messaging", o, m, &fl[i]);
	if (!ret)
		ret = bench_json_emit("messaging", o, m, &ra);
	if (!ret)
		ret = hgrm_out(o, d->name, NULL, ra_op);
	for (i = 0; i < 2 && !ret; i++)
		if (o->floor && d->floor[i] != FLOOR_NONE)
			ret = hgrm_out(o, d->name, i == 0 ? ".floor" :
				       floor_suffix[d->floor[i]], fl_op[i]);
	return ret;
}

static int run_steady(const struct bench_opts *gopt,
		      const struct bench_machine *m,
		      const struct steady_def *d)
{
	struct bench_opts o = *gopt;
	struct bench_series ra_s, fl_s[2];
	struct counters ctr = { .valid = false };
	ra_hdr_t *ra_op = NULL, *fl_op[2] = { NULL, NULL };
	struct shared sh;
	struct pair p;
	struct pair_run r = { .send_ns = NULL };
	ra_config_t cfg;
	char desc[2][160] = { "not run", "not run" }, extra[200];
	int i, k, nb, ret = 0, ra_batches = 0;

	o.name = d->name;
	if (o.ops == 0)
		o.ops = d->n;
	memset(&sh, 0, sizeof(sh));
	memset(&ra_s, 0, sizeof(ra_s));
	memset(fl_s, 0, sizeof(fl_s));
	sh.efd = eventfd(0, EFD_CLOEXEC);
	if (sh.efd < 0)
		return -errno;
	if (bench_hdr_create(&ra_op) || bench_hdr_create(&fl_op[0]) ||
	    bench_hdr_create(&fl_op[1]) ||
	    bench_series_init(&ra_s, o.batches) ||
	    bench_series_init(&fl_s[0], o.batches) ||
	    bench_series_init(&fl_s[1], o.batches)) {
		ret = -ENOMEM;
		goto out;
	}
	sh.per_op = ra_op;
	p.sh = &sh;
	bench_opts_config(&o, &cfg);
	ret = pair_create(&p, &cfg, d->oneway ? &sender_def : &pinger_def,
			  d->oneway ? &receiver_def : &ponger_def, d->local);
	if (ret)
		goto out;
	r.p = &p;
	r.n = (uint32_t)o.ops;
	r.nsend = 0;
	r.send_ns = calloc((size_t)o.batches, sizeof(double));
	if (!r.send_ns) {
		ra_runtime_destroy(p.rt);
		ret = -ENOMEM;
		goto out;
	}
	counters_begin(p.rt, &ctr);
	for (i = 0; i < o.rounds && !ret; i++) {
		nb = bench_round_batches(&o, i);
		for (k = 0; k < 2 && o.floor && !ret; k++)
			if (d->floor[k] != FLOOR_NONE)
				ret = floor_round(&o, d->floor[k], nb,
						  fl_op[k], &fl_s[k], desc[k],
						  sizeof(desc[k]));
		if (ret)
			break;
		ret = bench_run_batches(o.warmup, nb, pair_batch, &r, &ra_s);
		ra_batches += o.warmup + nb;
		if (ret)
			fprintf(stderr, "messaging: %s: batch %d: %s\n",
				d->name, ra_s.n, ra_strerror(ret));
	}
	counters_end(p.rt, ra_batches, &ctr);
	ra_runtime_destroy(p.rt);
	if (ret)
		goto out;

	snprintf(extra, sizeof(extra), "%s: driver on shard 0, peer on "
		 "shard %d, %s per batch", d->local ? "local" : "across",
		 d->local ? 0 : 1, d->oneway ?
		 "one-way messages + flush/ack" : "round trips");
	bench_print_header(stdout, &o, m, extra);
	ret = steady_report(&o, m, d, ra_op, fl_op, &ra_s, fl_s, &ctr, desc,
			    r.nsend ? median_of(r.send_ns, r.nsend) : 0);
out:
	free(r.send_ns);
	close(sh.efd);
	bench_series_fini(&ra_s);
	bench_series_fini(&fl_s[0]);
	bench_series_fini(&fl_s[1]);
	ra_hdr_destroy(ra_op);
	ra_hdr_destroy(fl_op[0]);
	ra_hdr_destroy(fl_op[1]);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Cold start                                                          */
/* ------------------------------------------------------------------ */

/* Set-up, work and teardown of each timed batch, ns. */
struct parts {
	double *v[3];
	int n;
};

static int parts_init(struct parts *p, int n)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 3; i++) {
		p->v[i] = calloc((size_t)n, sizeof(double));
		if (!p->v[i])
			return -ENOMEM;
	}
	return 0;
}

static void parts_fini(struct parts *p)
{
	for (int i = 0; i < 3; i++)
		free(p->v[i]);
}

static double parts_median(const struct parts *p, int i)
{
	return p->n ? median_of(p->v[i], p->n) : 0;
}

struct cold_run {
	const ra_config_t *cfg;
	bool local;
	uint32_t rts;
	struct shared sh;
	ra_hdr_t *per_op;	/* whole cold starts */
	struct parts parts;
};

static int cold_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct cold_run *c = arg;
	struct pair p = { .sh = &c->sh };
	uint64_t t0, t1, t2, t3;
	double ns;
	int ret, dret;

	t0 = bench_now_ns();
	ret = ra_runtime_create(c->cfg, &p.rt);
	t1 = bench_now_ns();
	if (ret) {
		fprintf(stderr, "messaging: ra_runtime_create: %s: %s\n",
			ra_strerror(ret), ra_last_error());
		return ret;
	}
	ret = pair_spawn(&p, &pinger_def, &ponger_def, c->local);
	if (!ret)
		ret = pair_batch_n(&p, c->rts, false, &ns);
	t2 = bench_now_ns();
	dret = ra_runtime_destroy(p.rt);
	t3 = bench_now_ns();
	if (ret)
		return ret;
	if (dret) {
		fprintf(stderr, "messaging: ra_runtime_destroy: %s\n",
			ra_strerror(dret));
		return dret;
	}
	*batch_ns = (double)(t3 - t0);
	if (timed) {
		ra_hdr_record(c->per_op, (int64_t)(t3 - t0));
		c->parts.v[0][c->parts.n] = (double)(t1 - t0);
		c->parts.v[1][c->parts.n] = (double)(t2 - t1);
		c->parts.v[2][c->parts.n] = (double)(t3 - t2);
		c->parts.n++;
	}
	return 0;
}

struct cold_floor_batches {
	struct cold_floor f;
	ra_hdr_t *per_op;
	struct parts parts;
};

static int cold_floor_batch(void *arg, int index, bool timed,
			    double *batch_ns)
{
	struct cold_floor_batches *c = arg;
	double parts[3];
	int ret;

	ret = cold_floor_once(&c->f, batch_ns, parts);
	if (ret) {
		fprintf(stderr, "messaging: cold-start floor: %s\n",
			strerror(-ret));
		return ret;
	}
	if (timed) {
		ra_hdr_record(c->per_op, (int64_t)*batch_ns);
		for (int i = 0; i < 3; i++)
			c->parts.v[i][c->parts.n] = parts[i];
		c->parts.n++;
	}
	return 0;
}

static int cold_report(const struct bench_opts *o,
		       const struct bench_machine *m, const char *name,
		       struct cold_run *c, struct cold_floor_batches *cf,
		       struct bench_series *ra_s, struct bench_series *fl_s)
{
	struct bench_result ra, fl;
	char fname[128];
	double us_med;
	bool met;
	int ret;

	bench_result_init(&ra, name, o);
	if (bench_result_fill(&ra, ra_s, c->per_op))
		return -ENOMEM;
	if (o->floor) {
		snprintf(fname, sizeof(fname), "%s.floor", name);
		bench_result_init(&fl, fname, o);
		if (bench_result_fill(&fl, fl_s, cf->per_op))
			return -ENOMEM;
		bench_result_set_floor(&ra, &fl);
	}
	us_med = ra.batch.median / 1000.0;
	met = us_med <= TARGET_COLD_US;
	bench_result_add(&ra, "create_ns", parts_median(&c->parts, 0));
	bench_result_add(&ra, "spawn_rts_ns", parts_median(&c->parts, 1));
	bench_result_add(&ra, "destroy_ns", parts_median(&c->parts, 2));
	bench_result_add(&ra, "target_ns", TARGET_COLD_US * 1000.0);
	bench_result_add(&ra, "target_met", met);
	if (o->floor) {
		bench_result_add(&fl, "setup_ns", parts_median(&cf->parts, 0));
		bench_result_add(&fl, "rts_ns", parts_median(&cf->parts, 1));
		bench_result_add(&fl, "teardown_ns",
				 parts_median(&cf->parts, 2));
	}

	bench_print_row_header(stdout);
	if (o->floor)
		bench_print_row_as(stdout, "floor 2 rings", &fl);
	bench_print_row_as(stdout, "ringactor", &ra);
	printf("breakdown, medians (us):    set-up | %u round trips | "
	       "teardown\n", c->rts);
	printf("  ringactor  %14.1f | %15.1f | %8.1f   (ra_runtime_create"
	       " | spawn 2 + %u rt | ra_runtime_destroy)\n",
	       parts_median(&c->parts, 0) / 1000.0,
	       parts_median(&c->parts, 1) / 1000.0,
	       parts_median(&c->parts, 2) / 1000.0, c->rts);
	if (o->floor)
		printf("  floor      %14.1f | %15.1f | %8.1f   (2 threads + "
		       "rings | %u msg_ring rt | rings closed, joined)\n",
		       parts_median(&cf->parts, 0) / 1000.0,
		       parts_median(&cf->parts, 1) / 1000.0,
		       parts_median(&cf->parts, 2) / 1000.0, c->rts);
	if (o->floor)
		printf("ratio ringactor/floor: median %.2fx\n", ra.ratio);
	printf("cold start %.1f us; target <= %.0f us: %s\n", us_med,
	       TARGET_COLD_US, verdict(met, o));

	ret = o->floor ? bench_json_emit("messaging", o, m, &fl) : 0;
	if (!ret)
		ret = bench_json_emit("messaging", o, m, &ra);
	if (!ret)
		ret = hgrm_out(o, name, NULL, c->per_op);
	if (!ret && o->floor)
		ret = hgrm_out(o, name, ".floor", cf->per_op);
	return ret;
}

static int run_cold(const struct bench_opts *gopt,
		    const struct bench_machine *m, const char *name,
		    bool local)
{
	struct bench_opts o = *gopt;
	struct bench_series ra_s, fl_s;
	struct cold_floor_batches cf;
	struct cold_run c;
	ra_config_t cfg;
	char extra[200];
	int i, nb, ret = 0;

	o.name = name;
	o.ops = 1;	/* one whole cold start per batch */
	bench_opts_config(&o, &cfg);
	memset(&c, 0, sizeof(c));
	memset(&cf, 0, sizeof(cf));
	memset(&ra_s, 0, sizeof(ra_s));
	memset(&fl_s, 0, sizeof(fl_s));
	c.cfg = &cfg;
	c.local = local;
	c.rts = gopt->ops ? (uint32_t)gopt->ops : COLD_RTS;
	c.sh.efd = eventfd(0, EFD_CLOEXEC);
	if (c.sh.efd < 0)
		return -errno;
	cf.f.entries = cfg.ring_entries;
	cf.f.rts = (int)c.rts;
	cf.f.pin = o.pin;
	bench_pick_cpus(2, cf.f.cpu);
	cf.f.shared_cpu = o.pin ? cf.f.cpu[0] == cf.f.cpu[1] :
			  bench_pick_cpus(2, (int[2]){ 0, 0 }) < 2;
	if (bench_hdr_create(&c.per_op) || bench_hdr_create(&cf.per_op) ||
	    parts_init(&c.parts, o.batches) ||
	    parts_init(&cf.parts, o.batches) ||
	    bench_series_init(&ra_s, o.batches) ||
	    bench_series_init(&fl_s, o.batches)) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < o.rounds && !ret; i++) {
		nb = bench_round_batches(&o, i);
		if (o.floor)
			ret = bench_run_batches(o.warmup, nb, cold_floor_batch,
						&cf, &fl_s);
		if (!ret)
			ret = bench_run_batches(o.warmup, nb, cold_batch, &c,
						&ra_s);
	}
	if (ret)
		goto out;
	snprintf(extra, sizeof(extra), "%s: create a %u-shard runtime, "
		 "spawn pinger on shard 0 and ponger on shard %d, %u round "
		 "trips, destroy; one op = one whole cold start; floor rings "
		 "have %u SQ entries as the runtime's", local ? "local" :
		 "across", cfg.shards, local ? 0 : 1, c.rts, cfg.ring_entries);
	bench_print_header(stdout, &o, m, extra);
	ret = cold_report(&o, m, name, &c, &cf, &ra_s, &fl_s);
out:
	close(c.sh.efd);
	parts_fini(&c.parts);
	parts_fini(&cf.parts);
	bench_series_fini(&ra_s);
	bench_series_fini(&fl_s);
	ra_hdr_destroy(c.per_op);
	ra_hdr_destroy(cf.per_op);
	return ret;
}

/* ------------------------------------------------------------------ */

static const char *const cold_names[2] = {
	"cold_start_ping_pong_across",
	"cold_start_ping_pong_local",
};

int main(int argc, char **argv)
{
	struct bench_machine m;
	struct bench_opts o;
	bool any = false, failed = false;
	size_t i;
	int ret;

	/* ops 0: each benchmark's own default unless --ops is given. */
	bench_opts_init(&o, "messaging", 0, MSG_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	o.shards = MSG_SHARDS;	/* two shards, always */
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 0; i < sizeof(steady_defs) / sizeof(steady_defs[0]); i++) {
		if (!bench_selected(&o, steady_defs[i].name))
			continue;
		if (any)
			putchar('\n');
		ret = run_steady(&o, &m, &steady_defs[i]);
		if (bench_io_uring_missing(ret) && !any)
			return bench_skip_io_uring(ret);
		any = true;
		if (ret) {
			fprintf(stderr, "messaging: %s FAILED: %s\n",
				steady_defs[i].name, strerror(-ret));
			failed = true;
		}
	}
	for (i = 0; i < 2; i++) {
		if (!bench_selected(&o, cold_names[i]))
			continue;
		if (any)
			putchar('\n');
		ret = run_cold(&o, &m, cold_names[i], i == 1);
		if (bench_io_uring_missing(ret) && !any)
			return bench_skip_io_uring(ret);
		any = true;
		if (ret) {
			fprintf(stderr, "messaging: %s FAILED: %s\n",
				cold_names[i], strerror(-ret));
			failed = true;
		}
	}
	return failed ? 1 : 0;
}
