/*
 * fanout: scatter/gather. One requester fans each request out to 16
 * worker actors spread over 4 shards and joins their 16 answers before it
 * sends the next request; against a pool of 4 plain threads doing the
 * same CPU work with a perfect static partition, in the same run.
 *
 * Work: each branch runs a 64-bit LCG (Knuth's MMIX constants) for a
 * fixed number of iterations from a seed picked by (request, branch) and
 * answers with the final state. A chain of dependent multiply-adds, so
 * the compiler cannot shorten it and one branch cannot be split.
 *   fanout_fanin_balanced  every branch 2000 iterations.
 *   fanout_fanin_skewed    branch (request % 16) 20000, the others 500:
 *                          one straggler per request, on a moving branch.
 * The requester checks the XOR and the sum of the 16 answers against
 * values computed beforehand, and that each branch answered once; each
 * worker checks that the requests reach it in order (0, 1, 2... in a
 * batch) and spoils its answer when one does not; the program exits 1
 * on a mismatch.
 *
 * Placement: the 16 workers are spawned once per runtime, before the
 * batches, worker b on shard b % 4 (round robin, 4 per shard), and the
 * requester on shard 0. Round robin is what a user who does not know the
 * costs would do: it gives every shard 4 branches of every request (even
 * load when balanced), and since the straggler's branch moves with the
 * request number, every shard gets it equally often when skewed.
 *
 * Stealing off and on, in the same run. Each shape gives two rows:
 *   <shape>        workers not stealable, RA_CFG_NO_STEAL (as before
 *                  work stealing existed; the name is kept so results
 *                  stay comparable);
 *   <shape>.steal  the same workers spawned RA_SPAWN_STEALABLE, the
 *                  runtime's default steal knobs (or --steal-* below).
 * Both use the same round-robin first placement, so the difference
 * between the rows is stealing alone (a user who turns stealing on keeps
 * the placement that was good without it). What stealing can do here:
 * when skewed, the shard holding the straggler's branch also holds 3
 * light workers whose messages queue behind it; a thief may take those
 * (queued, quiescent) to a less loaded shard. --steal-place local puts
 * every worker on the requester's shard instead and leaves the spreading
 * to stealing, for comparison. The requester is never stealable. The
 * runtime's steal counters (ra_stats_snapshot() differences over the
 * timed batches) are printed per row.
 * Rounds alternate floor, then the two runtimes (off first in even
 * rounds, on first in odd ones), each a fresh runtime per round.
 *
 * Targets : <skewed>.steal batch median <= 1.3x the floor;
 * <balanced>.steal at least 0.97x the speed of <balanced> (median
 * <= median(no steal) / 0.97).
 *
 * Floor: 4 pthreads, pinned as the shards are (thread i on CPU i % ncpu).
 * "Perfect static partition": the floor knows each branch's cost in
 * advance (the runtime does not) and, per request, deals the 16 branches
 * to the threads longest first, each to the least loaded thread (LPT).
 * Balanced: 4 branches each, as the shards get. Skewed: the straggler
 * alone on one thread, the 15 light branches 5 per other thread, which
 * no assignment of whole branches to 4 threads beats. Each thread XORs
 * and sums its share; one barrier per request (spinning briefly, then
 * sched_yield(), as the shards' idle poll does) ends the request, and
 * thread 0 checks and times it.
 *
 * On a machine with fewer CPUs than shards (this project's 2-vCPU hosts)
 * both sides are oversubscribed alike; the header says so.
 *
 * Options besides the harness's: --steal-place rr|local (first home of
 * the stealable workers, default rr), --steal-budget N, --steal-probe N,
 * --steal-batch N, --steal-margin N, --steal-backoff-min NS,
 * --steal-backoff-max NS (ra_config_t knobs of the .steal runtime; the
 * library's defaults otherwise).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define FO_SHARDS		4
#define FO_BRANCHES		16
#define FO_REQS			64	/* requests per batch */
#define FO_MAX_THREADS		64	/* most shards, floor threads */
#define ITERS_BALANCED		2000u
#define ITERS_HEAVY		20000u
#define ITERS_LIGHT		500u

/* Knuth's MMIX LCG. */
#define LCG_A			6364136223846793005ull
#define LCG_C			1442695040888963407ull

/* Barrier waiters spin this many times, then sched_yield(). */
#define BARRIER_SPINS		64u

/* Targets of the work-stealing shapes. */
#define TARGET_SKEWED_FLOOR	1.3	/* skewed.steal / floor at most */
#define TARGET_BALANCED_SPEED	0.97 /* balanced.steal speed, at least */

/* First home of the stealable workers (--steal-place). */
enum steal_place {
	PLACE_RR,		/* worker b on shard b % shards, as without */
	PLACE_LOCAL,		/* all on the requester's shard 0 */
};

/*
 * The .steal runtime's knobs from the command line: each one given
 * overrides ra_config_init()'s value; -1 = not given.
 */
struct steal_opts {
	enum steal_place place;
	struct bench_steal_knobs knobs;
};

enum fo_type {
	FO_START = 1,		/* main -> requester: struct fo_start */
	FO_WORK,		/* requester -> worker: struct fo_work */
	FO_RESULT,		/* worker -> requester: struct fo_result */
};

struct fo_start {
	uint32_t nreq;		/* requests in this batch */
	uint32_t record;	/* record each request's latency */
};

struct fo_work {
	uint32_t req;		/* request number within the batch */
	uint32_t branch;
	uint32_t iters;
	uint32_t pad;
	uint64_t seed;
};

struct fo_result {
	uint32_t req;
	uint32_t branch;
	uint64_t x;		/* the LCG's final state */
};

/* What a request's 16 answers must combine to. */
struct fo_expect {
	uint64_t xor;
	uint64_t sum;
};

/* ------------------------------------------------------------------ */
/* The work                                                            */
/* ------------------------------------------------------------------ */

static __attribute__((noinline)) uint64_t lcg_run(uint64_t x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		x = x * LCG_A + LCG_C;
	return x;
}

static uint64_t branch_seed(uint32_t req, uint32_t branch)
{
	return ((uint64_t)req << 32 | branch) * 0x9e3779b97f4a7c15ull + 1;
}

static uint32_t branch_iters(bool skewed, uint32_t req, uint32_t branch)
{
	if (!skewed)
		return ITERS_BALANCED;
	return branch == req % FO_BRANCHES ? ITERS_HEAVY : ITERS_LIGHT;
}

static void compute_expect(bool skewed, uint32_t nreq, struct fo_expect *e)
{
	for (uint32_t r = 0; r < nreq; r++) {
		e[r].xor = e[r].sum = 0;
		for (uint32_t b = 0; b < FO_BRANCHES; b++) {
			uint64_t x = lcg_run(branch_seed(r, b),
					     branch_iters(skewed, r, b));

			e[r].xor ^= x;
			e[r].sum += x;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

/*
 * What main and the requester share. The requester writes per_req and
 * err, stores batch_ns with release and writes the eventfd; main reads
 * the eventfd and loads batch_ns with acquire.
 */
struct fo_shared {
	int efd;			/* eventfd main sleeps on */
	bool skewed;
	ra_ref_t workers[FO_BRANCHES];
	const struct fo_expect *expect;	/* [nreq] */
	uint32_t nexpect;
	ra_hdr_t *per_req;		/* request latency, ns */
	_Atomic uint64_t batch_ns;
	int err;
};

struct requester {
	struct fo_shared *sh;
	uint32_t nreq;		/* requests in this batch, 0 = idle */
	uint32_t req;		/* the request in flight */
	uint32_t pending;	/* answers still to come */
	uint32_t seen;		/* bit per branch that answered */
	bool record;
	uint64_t xor, sum;
	uint64_t t0;		/* start of the batch */
	uint64_t tr;		/* start of the request */
};

static void fo_signal(struct fo_shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

static int fo_fail(struct fo_shared *sh, int err)
{
	if (!sh->err)
		sh->err = err;
	fo_signal(sh, 0);
	return 0;
}

static int requester_init(ra_ctx_t *self, void *state, void *arg)
{
	struct requester *q = state;

	q->sh = arg;
	return 0;
}

/* Fan request `req` out to the 16 workers, one message each. */
static int issue(ra_ctx_t *self, struct requester *q, uint32_t req)
{
	struct fo_work w = { .req = req };
	int ret;

	q->req = req;
	q->pending = FO_BRANCHES;
	q->seen = 0;
	q->xor = q->sum = 0;
	q->tr = ra_now_ns();
	for (uint32_t b = 0; b < FO_BRANCHES; b++) {
		w.branch = b;
		w.iters = branch_iters(q->sh->skewed, req, b);
		w.seed = branch_seed(req, b);
		ret = ra_send(self, q->sh->workers[b], FO_WORK, &w, sizeof(w));
		if (ret)
			return fo_fail(q->sh, ret);
	}
	return 0;
}

static int joined(ra_ctx_t *self, struct requester *q, uint64_t now)
{
	const struct fo_expect *e = &q->sh->expect[q->req];

	if (q->xor != e->xor || q->sum != e->sum) {
		fprintf(stderr, "fanout: request %u joined to xor %#" PRIx64
			" sum %#" PRIx64 ", expected %#" PRIx64 " / %#"
			PRIx64 "\n", q->req, q->xor, q->sum, e->xor, e->sum);
		return fo_fail(q->sh, -EBADMSG);
	}
	if (q->record)
		ra_hdr_record(q->sh->per_req, (int64_t)(now - q->tr));
	if (q->req + 1 < q->nreq)
		return issue(self, q, q->req + 1);
	q->nreq = 0;
	fo_signal(q->sh, now - q->t0);
	return 0;
}

static int requester_behavior(ra_ctx_t *self, void *state,
			      const ra_msg_t *msg)
{
	struct requester *q = state;
	struct fo_result res;
	struct fo_start st;

	switch (msg->type) {
	case FO_START:
		if (msg->len != sizeof(st))
			return fo_fail(q->sh, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		if (st.nreq == 0 || st.nreq > q->sh->nexpect || q->nreq)
			return fo_fail(q->sh, -EINVAL);
		q->nreq = st.nreq;
		q->record = st.record && q->sh->per_req;
		q->t0 = ra_now_ns();
		return issue(self, q, 0);
	case FO_RESULT:
		if (msg->len != sizeof(res))
			return fo_fail(q->sh, -EPROTO);
		memcpy(&res, msg->data, sizeof(res));
		if (!q->nreq || res.req != q->req ||
		    res.branch >= FO_BRANCHES ||
		    (q->seen & (1u << res.branch))) {
			fprintf(stderr, "fanout: stray answer: request %u "
				"branch %u (in flight: request %u)\n",
				res.req, res.branch, q->req);
			return fo_fail(q->sh, -EBADMSG);
		}
		q->seen |= 1u << res.branch;
		q->xor ^= res.x;
		q->sum += res.x;
		if (--q->pending == 0)
			return joined(self, q, ra_now_ns());
		return 0;
	default:
		return fo_fail(q->sh, -EPROTO);
	}
}

static int worker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	uint32_t *next = state;	/* request due next; 0 starts a batch */
	struct fo_result res;
	struct fo_work w;

	if (msg->type != FO_WORK || msg->len != sizeof(w))
		return -EPROTO;
	memcpy(&w, msg->data, sizeof(w));
	if (w.req != 0 && w.req != *next) {
		/* The requester then fails the batch: a stray answer. */
		fprintf(stderr, "fanout: branch %u got request %u, expected "
			"%u\n", w.branch, w.req, *next);
		w.req = UINT32_MAX;
	}
	*next = w.req + 1;
	res.req = w.req;
	res.branch = w.branch;
	res.x = lcg_run(w.seed, w.iters);
	return ra_send(self, msg->from, FO_RESULT, &res, sizeof(res));
}

static const ra_actor_def_t requester_def = {
	.name = "requester",
	.state_size = sizeof(struct requester),
	.init = requester_init,
	.behavior = requester_behavior,
};

static const ra_actor_def_t worker_def = {
	.name = "worker",
	.state_size = sizeof(uint32_t),
	.behavior = worker_behavior,
};

struct fo_rt {
	ra_runtime_t *rt;
	ra_ref_t requester;
	struct fo_shared *sh;
	uint32_t nreq;
	bool stealable;		/* workers RA_SPAWN_STEALABLE */
	enum steal_place place;	/* their first home when stealable */
	bool snapped;		/* s0 taken (first timed batch) */
	ra_stats_t s0;		/* stats at the first timed batch */
};

static int fo_rt_create(struct fo_rt *f, const ra_config_t *cfg)
{
	ra_spawn_opts_t opts = { .placement = RA_PLACE_SHARD };
	unsigned nshards;
	int ret;

	f->snapped = false;

	ret = bench_runtime_create("fanout", cfg, &f->rt);
	if (ret) {
		f->rt = NULL;
		return ret;
	}
	nshards = ra_runtime_shards(f->rt);
	if (f->stealable)
		opts.flags = RA_SPAWN_STEALABLE;
	for (unsigned b = 0; b < FO_BRANCHES && !ret; b++) {
		/* Round robin, or all beside the requester; see the top. */
		opts.shard = f->stealable && f->place == PLACE_LOCAL ? 0 :
			     b % nshards;
		ret = ra_runtime_spawn(f->rt, &worker_def, NULL, &opts,
				       &f->sh->workers[b]);
	}
	opts.shard = 0;
	opts.flags = 0;
	if (!ret)
		ret = ra_runtime_spawn(f->rt, &requester_def, f->sh, &opts,
				       &f->requester);
	if (ret) {
		fprintf(stderr, "fanout: ra_runtime_spawn: %s\n",
			ra_strerror(ret));
		ra_runtime_destroy(f->rt);
		f->rt = NULL;
	}
	return ret;
}

static int fo_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct fo_rt *f = arg;
	struct fo_start st = { .nreq = f->nreq, .record = timed };
	int ret;

	/* Outside the timed region: the requester starts the clock. */
	if (timed && !f->snapped) {
		ret = ra_stats_snapshot(f->rt, &f->s0);
		if (ret)
			return ret;
		f->snapped = true;
	}
	ret = ra_runtime_send(f->rt, f->requester, FO_START, &st, sizeof(st));
	if (!ret)
		ret = bench_batch_wait(f->sh->efd, -1, &f->sh->batch_ns,
				       batch_ns);
	return ret ? ret : f->sh->err;
}

/* ------------------------------------------------------------------ */
/* Floor: a pool of plain threads, perfect static partition             */
/* ------------------------------------------------------------------ */

/* A sense-reversing (generation) barrier that spins, then yields. */
struct spin_barrier {
	alignas(64) _Atomic unsigned count;
	alignas(64) _Atomic unsigned gen;
	unsigned n;
};

static void barrier_wait(struct spin_barrier *b)
{
	unsigned g = atomic_load_explicit(&b->gen, memory_order_acquire);
	unsigned spins = 0;

	if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) ==
	    b->n - 1) {
		/* Reset before release: nobody re-enters until gen moves. */
		atomic_store_explicit(&b->count, 0, memory_order_relaxed);
		atomic_store_explicit(&b->gen, g + 1, memory_order_release);
		return;
	}
	while (atomic_load_explicit(&b->gen, memory_order_acquire) == g) {
		if (++spins > BARRIER_SPINS)
			sched_yield();
		else
			bench_cpu_relax();
	}
}

/* One request's share of one thread: branches, in order. */
struct share {
	uint8_t n;
	uint8_t branch[FO_BRANCHES];
};

/* Each thread's partial result of a request, on its own line. */
struct partial {
	alignas(64) uint64_t xor;
	uint64_t sum;
};

struct pool {
	/* in */
	int nthreads;
	int warmup, batches;
	uint32_t nreq;
	bool skewed;
	bool pin;
	int cpu[FO_MAX_THREADS];
	const struct fo_expect *expect;	/* [nreq] */
	struct share *share;		/* [nreq][nthreads] */
	double *batch_ns;		/* [batches] out */
	ra_hdr_t *per_req;		/* may be NULL */
	/* shared while running */
	struct spin_barrier bar;
	struct partial *part;		/* [2][nthreads], by parity */
	/* out */
	struct bench_cpu cpu_used;
	int err;			/* thread 0's */
};

struct pool_thread {
	struct pool *p;
	int idx;
};

/*
 * Longest processing time first: branches by falling cost (ties by
 * index), each to the least loaded thread (ties to the lowest index).
 */
static void partition(struct pool *p)
{
	for (uint32_t r = 0; r < p->nreq; r++) {
		struct share *sh = &p->share[(size_t)r * p->nthreads];
		uint64_t load[FO_MAX_THREADS] = { 0 };
		uint8_t order[FO_BRANCHES];
		int i, j, t, best;

		for (i = 0; i < FO_BRANCHES; i++)
			order[i] = (uint8_t)i;
		/* Stable insertion sort, longest first. */
		for (i = 1; i < FO_BRANCHES; i++) {
			uint8_t b = order[i];
			uint32_t c = branch_iters(p->skewed, r, b);

			for (j = i; j > 0 && branch_iters(p->skewed, r,
							  order[j - 1]) < c;
			     j--)
				order[j] = order[j - 1];
			order[j] = b;
		}
		for (t = 0; t < p->nthreads; t++)
			sh[t].n = 0;
		for (i = 0; i < FO_BRANCHES; i++) {
			best = 0;
			for (t = 1; t < p->nthreads; t++)
				if (load[t] < load[best])
					best = t;
			sh[best].branch[sh[best].n++] = order[i];
			load[best] += branch_iters(p->skewed, r, order[i]);
		}
	}
}

static void *pool_main(void *arg)
{
	struct pool_thread *pt = arg;
	struct pool *p = pt->p;
	int me = pt->idx, n = p->nthreads;
	struct bench_cpu c0, c1;
	uint64_t t0 = 0, tr = 0, now;

	if (p->pin)
		(void)bench_pin_self(p->cpu[me]);
	memset(&c0, 0, sizeof(c0));
	for (int b = 0; b < p->warmup + p->batches; b++) {
		bool timed = b >= p->warmup;

		if (me == 0) {
			if (b == p->warmup)
				bench_cpu_now(&c0);
			t0 = tr = bench_now_ns();
		}
		for (uint32_t r = 0; r < p->nreq; r++) {
			const struct share *s = &p->share[(size_t)r * n + me];
			struct partial *mine = &p->part[(r & 1) * n + me];
			uint64_t xor = 0, sum = 0, x;

			for (int i = 0; i < s->n; i++) {
				x = lcg_run(branch_seed(r, s->branch[i]),
					    branch_iters(p->skewed, r,
							 s->branch[i]));
				xor ^= x;
				sum += x;
			}
			mine->xor = xor;
			mine->sum = sum;
			/*
			 * A thread writes its slot of parity r & 1 again
			 * only after the next barrier, which thread 0
			 * reaches after reading this one.
			 */
			barrier_wait(&p->bar);
			if (me != 0)
				continue;
			now = bench_now_ns();
			xor = sum = 0;
			for (int t = 0; t < n; t++) {
				xor ^= p->part[(r & 1) * n + t].xor;
				sum += p->part[(r & 1) * n + t].sum;
			}
			if ((xor != p->expect[r].xor ||
			     sum != p->expect[r].sum) && !p->err) {
				fprintf(stderr, "fanout: floor request %u "
					"joined to xor %#" PRIx64 ", expected "
					"%#" PRIx64 "\n", r, xor,
					p->expect[r].xor);
				p->err = -EBADMSG;
			}
			/*
			 * From the previous request's barrier to this one:
			 * the others may start a request before thread 0
			 * has finished checking the last one.
			 */
			if (timed && p->per_req)
				ra_hdr_record(p->per_req, (int64_t)(now - tr));
			tr = now;
		}
		if (me == 0 && timed)
			p->batch_ns[b - p->warmup] =
				(double)(bench_now_ns() - t0);
	}
	if (me == 0) {
		bench_cpu_now(&c1);
		bench_cpu_sub(&c1, &c0, &p->cpu_used);
	}
	return NULL;
}

static int pool_run(struct pool *p)
{
	struct pool_thread pt[FO_MAX_THREADS];
	pthread_t tid[FO_MAX_THREADS];
	int i, ret = 0, started = 0;

	p->err = 0;
	memset(&p->cpu_used, 0, sizeof(p->cpu_used));
	atomic_init(&p->bar.count, 0);
	atomic_init(&p->bar.gen, 0);
	p->bar.n = (unsigned)p->nthreads;
	p->part = aligned_alloc(64, 2 * (size_t)p->nthreads *
				    sizeof(*p->part));
	if (!p->part)
		return -ENOMEM;
	for (i = 0; i < p->nthreads; i++) {
		pt[i].p = p;
		pt[i].idx = i;
		ret = -pthread_create(&tid[i], NULL, pool_main, &pt[i]);
		if (ret)
			break;
		started++;
	}
	/* A partial pool would wait at the first barrier forever. */
	if (started && started < p->nthreads)
		abort();
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(p->part);
	p->part = NULL;
	return ret ? ret : p->err;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

/*
 * Take our own options out of argv (the harness refuses options it does
 * not know), shifting the rest down. Returns 0, or -EINVAL after a
 * message.
 */
static int steal_opts_strip(int *argc, char **argv, struct steal_opts *so)
{
	int i, ret, out = 1;

	so->place = PLACE_RR;
	bench_steal_knobs_init(&so->knobs);
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--steal-place") == 0 && i + 1 < *argc) {
			a = argv[++i];
			if (strcmp(a, "rr") == 0)
				so->place = PLACE_RR;
			else if (strcmp(a, "local") == 0)
				so->place = PLACE_LOCAL;
			else
				goto bad;
			continue;
		}
		ret = bench_steal_knob_take(&so->knobs, *argc, argv, &i);
		if (ret < 0)
			goto bad;
		if (ret == 0)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
bad:
	fprintf(stderr, "fanout: bad value for %s\n", argv[i - 1]);
	return -EINVAL;
}

static void steal_count_print(const char *label,
			      const struct bench_steal_count *c,
			      int batches, const int *where, unsigned nshards)
{
	double b = batches > 0 ? batches : 1;

	printf("%-18s steals over %d timed batches: attempts %" PRIu64
	       " (%.1f/batch), successes %" PRIu64 ", actors migrated %"
	       PRIu64 " (%.1f/batch); refused: below margin %" PRIu64
	       ", in flight %" PRIu64 ", not quiescent %" PRIu64 ", pinned %"
	       PRIu64 "; shard sleeps %.1f/batch\n", label, batches,
	       c->attempts, c->attempts / b, c->successes, c->migrated,
	       c->migrated / b, c->below_margin, c->in_flight,
	       c->not_quiescent, c->pinned, c->sleeps / b);
	printf("%-18s workers per shard at the end:", "");
	for (unsigned i = 0; i < nshards; i++)
		printf(" %d", where[i]);
	printf("\n");
}

/* ns per LCG iteration on this CPU, best of a few tries. */
static double lcg_ns_per_iter(void)
{
	double best = 0;
	uint64_t t0, sink = 0;

	for (int i = 0; i < 5; i++) {
		double ns;

		t0 = bench_now_ns();
		sink ^= lcg_run(sink + (uint64_t)i, 200000);
		ns = (double)(bench_now_ns() - t0) / 200000.0;
		if (best == 0 || ns < best)
			best = ns;
	}
	/* Keep `sink` alive without printing it. */
	__asm__ __volatile__("" : : "r"(sink));
	return best;
}

/*
 * The compute bound of one request: the longest branch, or the whole
 * work spread evenly over the CPUs the shards can use, whichever is more.
 */
static double compute_bound_ns(bool skewed, int ncpu, double ns_iter)
{
	uint64_t total = 0, longest = 0;

	for (uint32_t b = 0; b < FO_BRANCHES; b++) {
		uint32_t it = branch_iters(skewed, 0, b);

		total += it;
		if (it > longest)
			longest = it;
	}
	if ((double)longest > (double)total / ncpu)
		return (double)longest * ns_iter;
	return (double)total / ncpu * ns_iter;
}

/* One runtime side of a shape: stealing off or on. */
struct side {
	bool steal;
	char name[128];		/* row name */
	const char *label;	/* in the table */
	struct bench_series s;
	ra_hdr_t *op;		/* per request */
	struct bench_steal_count sc;	/* over the timed batches */
	int where[FO_MAX_THREADS]; /* workers per shard, end of last round */
	struct bench_result r;
};

/* One round of one side: a fresh runtime, warm-up, `nb` timed batches. */
static int side_round(struct side *sd, const struct bench_opts *o,
		      const struct steal_opts *so, struct fo_shared *sh,
		      int nb)
{
	struct fo_rt f;
	ra_config_t cfg;
	int ret;

	memset(&f, 0, sizeof(f));
	bench_opts_config(o, &cfg);
	if (sd->steal)
		bench_steal_knobs_apply(&so->knobs, &cfg);
	else
		cfg.flags |= RA_CFG_NO_STEAL;
	f.sh = sh;
	f.nreq = (uint32_t)o->ops;
	f.stealable = sd->steal;
	f.place = so->place;
	sh->per_req = sd->op;
	sh->err = 0;
	ret = fo_rt_create(&f, &cfg);
	if (ret)
		return ret;
	ret = bench_run_batches(o->warmup, nb, fo_batch, &f, &sd->s);
	if (ret)
		fprintf(stderr, "fanout: %s: batch %d: %s\n", sd->name,
			sd->s.n, ra_strerror(ret));
	if (f.snapped)
		ret = bench_steal_count_end(&sd->sc, f.rt, &f.s0, ret);
	/* Where the workers ended up: first home + arrivals - departures. */
	for (unsigned i = 0; i < o->shards; i++) {
		ra_shard_info_t si;

		sd->where[i] = 0;
		for (unsigned b = 0; b < FO_BRANCHES; b++)
			sd->where[i] += (f.stealable && f.place == PLACE_LOCAL ?
					 0 : b % o->shards) == i;
		if (!ra_shard_info(f.rt, i, &si))
			sd->where[i] += (int)si.actors_in - (int)si.actors_out;
	}
	ra_runtime_destroy(f.rt);
	return ret;
}

static int run_one(const struct bench_opts *gopt,
		   const struct bench_machine *m, const char *name,
		   bool skewed, double ns_iter, const struct steal_opts *so)
{
	struct bench_opts o = *gopt;
	struct bench_series fl_s;
	struct bench_result fl;
	struct side side[2];
	struct fo_expect *expect = NULL;
	struct fo_shared sh;
	struct pool p;
	ra_hdr_t *fl_op = NULL;
	ra_config_t scfg;
	struct bench_cpu fcpu;
	char extra[768], fname[128], hbuf[512];
	const char *path;
	int i, k, nb, ret = 0, ncpu, ndistinct;
	double bound, speed, rsk;
	bool met;
	uint64_t w0;

	o.name = name;
	memset(&sh, 0, sizeof(sh));
	memset(&p, 0, sizeof(p));
	memset(&fl_s, 0, sizeof(fl_s));
	memset(side, 0, sizeof(side));
	side[0].steal = false;
	side[0].label = "ringactor";
	snprintf(side[0].name, sizeof(side[0].name), "%s", name);
	side[1].steal = true;
	side[1].label = "ringactor+steal";
	snprintf(side[1].name, sizeof(side[1].name), "%s.steal", name);
	sh.efd = eventfd(0, EFD_CLOEXEC);
	if (sh.efd < 0)
		return -errno;
	expect = calloc((size_t)o.ops, sizeof(*expect));
	p.share = calloc((size_t)o.ops * o.shards, sizeof(*p.share));
	if (!expect || !p.share || bench_hdr_create(&fl_op) ||
	    bench_series_init(&fl_s, o.batches)) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < 2; k++)
		if (bench_hdr_create(&side[k].op) ||
		    bench_series_init(&side[k].s, o.batches)) {
			ret = -ENOMEM;
			goto out;
		}
	compute_expect(skewed, (uint32_t)o.ops, expect);
	sh.skewed = skewed;
	sh.expect = expect;
	sh.nexpect = (uint32_t)o.ops;

	p.nthreads = (int)o.shards;
	p.nreq = (uint32_t)o.ops;
	p.skewed = skewed;
	p.pin = o.pin;
	p.expect = expect;
	p.per_req = fl_op;
	ndistinct = bench_pick_cpus(p.nthreads, p.cpu);
	partition(&p);

	for (i = 0; i < o.rounds && !ret; i++) {
		nb = bench_round_batches(&o, i);
		if (o.floor) {
			p.warmup = o.warmup;
			p.batches = nb;
			p.batch_ns = fl_s.batch_ns + fl_s.n;
			w0 = bench_now_ns();
			ret = pool_run(&p);
			if (ret) {
				fprintf(stderr, "fanout: floor: %s\n",
					strerror(-ret));
				break;
			}
			fcpu = p.cpu_used;
			fl_s.n += nb;
			fl_s.wall_ns += (double)(bench_now_ns() - w0);
			bench_cpu_add(&fl_s.cpu, &fcpu);
		}
		/* Off first in even rounds, on first in odd ones. */
		for (k = 0; k < 2 && !ret; k++)
			ret = side_round(&side[(k + i) & 1], &o, so, &sh, nb);
	}
	if (ret)
		goto out;

	ncpu = (int)(m->nallowed > 0 ? m->nallowed : 1);
	if (ncpu > (int)o.shards)
		ncpu = (int)o.shards;
	bound = compute_bound_ns(skewed, ncpu, ns_iter);
	bench_opts_config(&o, &scfg);
	bench_steal_knobs_apply(&so->knobs, &scfg);
	snprintf(extra, sizeof(extra), "%u shards on %ld vCPUs%s | %d "
		 "requests x %d branches, %s | workers: branch b on shard "
		 "b %% %u, requester on shard 0 | %s: workers not stealable, "
		 "RA_CFG_NO_STEAL | %s.steal: workers RA_SPAWN_STEALABLE, "
		 "first home %s, steal budget=%u probe=%u batch=%u "
		 "margin=%u backoff=%" PRIu64 "..%" PRIu64 "ns | floor: %u "
		 "pthreads on %d CPUs, LPT static partition, "
		 "spin-then-yield barrier per request", o.shards,
		 m->nallowed, (long)o.shards > m->nallowed ?
		 ": OVERSUBSCRIBED, floor alike" : "", o.ops, FO_BRANCHES,
		 skewed ? "branch req%16 20000 LCG steps, others 500" :
		 "2000 LCG steps each", o.shards, name, name,
		 so->place == PLACE_LOCAL ? "shard 0 (all beside the "
		 "requester)" : "round robin as without stealing",
		 scfg.steal_budget, scfg.steal_probe, scfg.steal_batch,
		 scfg.steal_margin, scfg.steal_backoff_min_ns,
		 scfg.steal_backoff_max_ns, o.shards, ndistinct);
	bench_print_header(stdout, &o, m, extra);

	if (o.floor) {
		snprintf(fname, sizeof(fname), "%s.floor", name);
		bench_result_init(&fl, fname, &o);
		if (bench_result_fill(&fl, &fl_s, fl_op)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < 2; k++) {
		struct bench_result *r = &side[k].r;
		double nbat = side[k].s.n > 0 ? side[k].s.n : 1;

		bench_result_init(r, side[k].name, &o);
		if (bench_result_fill(r, &side[k].s, side[k].op)) {
			ret = -ENOMEM;
			goto out;
		}
		if (o.floor)
			bench_result_set_floor(r, &fl);
		bench_result_add(r, "us_per_req", r->batch.median / o.ops /
				 1e3);
		bench_result_add(r, "compute_bound_us_per_req", bound / 1e3);
		bench_result_add(r, "lcg_ns_per_iter", ns_iter);
		bench_result_add(r, "steal_attempts_per_batch",
				 (double)side[k].sc.attempts / nbat);
		bench_result_add(r, "steal_successes_per_batch",
				 (double)side[k].sc.successes / nbat);
		bench_result_add(r, "actors_migrated_per_batch",
				 (double)side[k].sc.migrated / nbat);
	}
	/* Speed of .steal relative to no steal: > 1 is faster. */
	speed = side[1].r.batch.median > 0 ?
		side[0].r.batch.median / side[1].r.batch.median : 0;
	rsk = side[1].r.ratio;
	bench_result_add(&side[1].r, "speed_vs_nosteal", speed);
	if (o.floor)
		bench_result_add(&side[0].r, "target_met",
				 side[0].r.ratio < BENCH_TARGET_RATIO);
	/* The .steal row is held to the work-stealing target for its shape. */
	met = skewed ? o.floor && rsk <= TARGET_SKEWED_FLOOR :
		       speed >= TARGET_BALANCED_SPEED;
	if (skewed ? o.floor : true)
		bench_result_add(&side[1].r, "target_met", met);

	bench_print_row_header(stdout);
	if (o.floor) {
		fl.name = "floor pthreads";
		bench_print_row(stdout, &fl);
		fl.name = fname;
	}
	for (k = 0; k < 2; k++) {
		side[k].r.name = side[k].label;
		bench_print_row(stdout, &side[k].r);
		side[k].r.name = side[k].name;
	}
	if (o.floor)
		bench_hdr_summary(stdout, "floor request", fl_op);
	bench_hdr_summary(stdout, "ringactor request", side[0].op);
	bench_hdr_summary(stdout, "+steal request", side[1].op);
	if (side[1].sc.migrated == 0)
		printf("note: no worker migrated in the timed batches: the "
		       ".steal row differs by noise (and by placement with "
		       "--steal-place local), not by stealing\n");
	for (k = 0; k < 2; k++)
		steal_count_print(side[k].label, &side[k].sc, side[k].s.n,
				  side[k].where, o.shards);
	printf("per request (median): ringactor %.1f us, +steal %.1f us",
	       side[0].r.batch.median / o.ops / 1e3,
	       side[1].r.batch.median / o.ops / 1e3);
	if (o.floor)
		printf(", floor %.1f us", fl.batch.median / o.ops / 1e3);
	printf("; compute bound on %d CPU%s %.1f us (LCG %.2f ns/step)\n",
	       ncpu, ncpu == 1 ? "" : "s", bound / 1e3, ns_iter);
	if (o.floor)
		printf("ratio to floor (batch median): no steal %.2fx, steal "
		       "%.2fx; request p50: %.2fx, %.2fx; harness target "
		       "< %.1fx (no steal): %s\n", side[0].r.ratio, rsk,
		       side[0].r.ratio_op_p50, side[1].r.ratio_op_p50,
		       BENCH_TARGET_RATIO, side[0].r.ratio <
		       BENCH_TARGET_RATIO ? "PASS" : "MISS");
	printf("steal/no-steal: batch median %.3fx (speed %.3fx)\n",
	       speed > 0 ? 1 / speed : 0, speed);
	if (skewed && o.floor)
		printf("target %s.steal <= %.1fx floor: %.2fx %s%s\n", name,
		       TARGET_SKEWED_FLOOR, rsk, met ? "PASS" : "MISS",
		       o.quick || o.batches < BENCH_MIN_BATCHES ?
		       " (smoke run)" : "");
	else if (!skewed)
		printf("target %s.steal speed >= %.2fx no steal: %.3fx %s%s\n",
		       name, TARGET_BALANCED_SPEED, speed, met ? "PASS" :
		       "MISS", o.quick || o.batches < BENCH_MIN_BATCHES ?
		       " (smoke run)" : "");

	if (o.json_path) {
		ret = o.floor ? bench_json_append(o.json_path, &fl, m) : 0;
		for (k = 0; k < 2 && !ret; k++)
			ret = bench_json_append(o.json_path, &side[k].r, m);
		if (ret)
			fprintf(stderr, "fanout: %s: %s\n", o.json_path,
				strerror(-ret));
	}
	for (k = 0; k < 2 && !ret; k++) {
		path = bench_hgrm_path(&o, side[k].name, false, hbuf,
				       sizeof(hbuf));
		if (path)
			ret = bench_write_hgrm(path, side[k].op);
	}
	path = bench_hgrm_path(&o, name, true, hbuf, sizeof(hbuf));
	if (!ret && path && o.floor)
		ret = bench_write_hgrm(path, fl_op);
	if (ret && !o.json_path)
		fprintf(stderr, "fanout: .hgrm: %s\n", strerror(-ret));
out:
	close(sh.efd);
	free(expect);
	free(p.share);
	bench_series_fini(&fl_s);
	ra_hdr_destroy(fl_op);
	for (k = 0; k < 2; k++) {
		bench_series_fini(&side[k].s);
		ra_hdr_destroy(side[k].op);
	}
	return ret;
}

int main(int argc, char **argv)
{
	static const char *const names[2] = {
		"fanout_fanin_balanced",
		"fanout_fanin_skewed",
	};
	struct bench_machine m;
	struct bench_opts o;
	struct steal_opts so;
	bool any = false, failed = false;
	double ns_iter = 0;
	int i, ret;

	if (steal_opts_strip(&argc, argv, &so))
		return 2;
	bench_opts_init(&o, "fanout", FO_REQS, FO_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	if (o.shards > FO_MAX_THREADS) {
		fprintf(stderr, "fanout: at most %d shards\n", FO_MAX_THREADS);
		return 2;
	}
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 0; i < 2; i++) {
		if (!bench_selected(&o, names[i]))
			continue;
		if (ns_iter == 0)
			ns_iter = lcg_ns_per_iter();
		if (any)
			putchar('\n');
		ret = run_one(&o, &m, names[i], i == 1, ns_iter, &so);
		if (bench_io_uring_missing(ret) && !any)
			return bench_skip_io_uring(ret);
		any = true;
		if (ret) {
			fprintf(stderr, "fanout: %s FAILED: %s\n", names[i],
				strerror(-ret));
			failed = true;
		}
	}
	return failed ? 1 : 0;
}
