/*
 * hotspot: one shard receives most of the work, in bursts. Rows
 * hotspot_burst (stealing off) and hotspot_burst.steal (on), in the same
 * run.
 *
 * 4 shards. 256 worker actors all homed on shard 0; a producer actor on
 * shard 1. A batch is one burst: main sends the producer a START and
 * sleeps on an eventfd; the producer sends `ops` (default 1024) work
 * messages to workers picked at random (an LCG seeded by the batch
 * number), HS_CHUNK per behavior call (it sends itself a CONTINUE between
 * chunks, as a producer reading a socket would hand back the shard), so
 * the burst reaches shard 0 over many loop passes rather than in one.
 * Each message carries its send time (ra_now_ns()) and a seed; the worker
 * runs HS_ITERS (2000) steps of a 64-bit LCG (Knuth's MMIX constants,
 * ~2.5 us), records send-to-handled latency in its shard's HDR histogram
 * (one per shard: single writer) and answers the producer with the LCG's
 * final state. The producer checks that every message was answered
 * exactly once (a bitmap by sequence number) and that the XOR and the sum
 * of the answers match values computed beforehand; each worker checks
 * that the producer's messages reach it in send order (their sequence
 * numbers rise within a burst, wherever stealing moved it) and says so
 * in its answer; the program exits 1 otherwise. Batch time: the
 * producer's first send to its last answer. Per op: one message, send to
 * handled.
 *
 *   hotspot_burst        workers not stealable, RA_CFG_NO_STEAL: shard 0
 *                        does every message while shards 2 and 3 idle.
 *   hotspot_burst.steal  the same workers spawned RA_SPAWN_STEALABLE on
 *                        shard 0, the runtime's default steal knobs (or
 *                        --steal-* below): idle shards may take workers
 *                        with queued messages off shard 0.
 * Both runtimes start every round from the same placement (a fresh
 * runtime per round); rounds alternate which side runs first. Workers
 * that moved stay moved for the rest of the round, as in a real program.
 * There is no floor: the no-steal row is the baseline, and the compute
 * bound of a burst (its LCG work spread over min(shards, CPUs)) is
 * printed for scale. On this project's 2-vCPU machines the 4 shards are
 * oversubscribed; the header says so.
 *
 * Options besides the harness's: --steal-budget N, --steal-probe N,
 * --steal-batch N, --steal-margin N, --steal-backoff-min NS,
 * --steal-backoff-max NS (ra_config_t knobs of the .steal runtime), and
 * --no-steal (run only hotspot_burst).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define HS_SHARDS		4
#define HS_WORKERS		256
#define HS_BURST		1024	/* messages per burst (--ops) */
#define HS_MAX_BURST		(1u << 20)
#define HS_CHUNK		64	/* sends per producer turn */
#define HS_ITERS		2000u
#define HS_MAX_SHARDS		64
#define HS_HOT_SHARD		0
#define HS_PRODUCER_SHARD	1

/* Knuth's MMIX LCG. */
#define LCG_A			6364136223846793005ull
#define LCG_C			1442695040888963407ull

enum hs_type {
	HS_START = 1,		/* main -> producer: struct hs_start */
	HS_CONTINUE,		/* producer -> itself: next chunk */
	HS_WORK,		/* producer -> worker: struct hs_work */
	HS_RESULT,		/* worker -> producer: struct hs_result */
};

struct hs_start {
	uint32_t batch;		/* picks the random targets */
	uint32_t record;	/* record per-message latency */
};

struct hs_work {
	uint64_t sent_ns;	/* ra_now_ns() at the send */
	uint64_t seed;
	uint32_t seq;		/* 0 .. burst-1 */
	uint32_t record;
	uint32_t burst;		/* the producer's burst number */
};

struct hs_result {
	uint32_t seq;
	uint32_t order;		/* 1: a later seq came first */
	uint64_t x;		/* the LCG's final state */
};

static __attribute__((noinline)) uint64_t lcg_run(uint64_t x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		x = x * LCG_A + LCG_C;
	return x;
}

static uint64_t msg_seed(uint32_t seq)
{
	return ((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull;
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

/*
 * What main and the actors share. Workers record into lat[their shard]
 * (a shard is one thread, so each histogram has one writer). The
 * producer writes err, stores batch_ns with release and writes the
 * eventfd; main reads the eventfd and loads batch_ns with acquire.
 */
struct hs_shared {
	int efd;
	uint32_t burst;			/* messages per burst */
	ra_ref_t workers[HS_WORKERS];
	uint64_t expect_xor, expect_sum;
	ra_hdr_t *lat[HS_MAX_SHARDS];	/* per shard, ns */
	uint8_t *seen;			/* [burst], producer only */
	_Atomic uint64_t batch_ns;
	int err;
};

struct producer {
	struct hs_shared *sh;
	bool busy;
	bool record;
	uint32_t burst;		/* bursts started, this one included */
	uint32_t sent, answered;
	uint64_t rng;		/* picks targets */
	uint64_t xor, sum;
	uint64_t t0;
};

static void hs_signal(struct hs_shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

static int hs_fail(struct hs_shared *sh, int err)
{
	if (!sh->err)
		sh->err = err;
	hs_signal(sh, 0);
	return 0;
}

static int producer_init(ra_ctx_t *self, void *state, void *arg)
{
	struct producer *p = state;

	(void)self;
	p->sh = arg;
	return 0;
}

/* Send the next chunk of the burst; ask for another turn if any is left. */
static int send_chunk(ra_ctx_t *self, struct producer *p)
{
	struct hs_work w = { .record = p->record, .burst = p->burst };
	uint32_t end = p->sent + HS_CHUNK;
	int ret;

	if (end > p->sh->burst)
		end = p->sh->burst;
	for (; p->sent < end; p->sent++) {
		p->rng = p->rng * LCG_A + LCG_C;
		w.seq = p->sent;
		w.seed = msg_seed(p->sent);
		w.sent_ns = ra_now_ns();
		ret = ra_send(self, p->sh->workers[(p->rng >> 33) %
						   HS_WORKERS], HS_WORK, &w,
			      sizeof(w));
		if (ret)
			return hs_fail(p->sh, ret);
	}
	if (p->sent < p->sh->burst) {
		ret = ra_send(self, ra_self(self), HS_CONTINUE, NULL, 0);
		if (ret)
			return hs_fail(p->sh, ret);
	}
	return 0;
}

static int producer_behavior(ra_ctx_t *self, void *state,
			     const ra_msg_t *msg)
{
	struct producer *p = state;
	struct hs_shared *sh = p->sh;
	struct hs_result res;
	struct hs_start st;

	switch (msg->type) {
	case HS_START:
		if (msg->len != sizeof(st) || p->busy)
			return hs_fail(sh, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		p->busy = true;
		p->record = st.record;
		p->burst++;
		p->sent = p->answered = 0;
		p->xor = p->sum = 0;
		p->rng = ((uint64_t)st.batch + 1) * 0xd1342543de82ef95ull;
		memset(sh->seen, 0, sh->burst);
		p->t0 = ra_now_ns();
		return send_chunk(self, p);
	case HS_CONTINUE:
		return send_chunk(self, p);
	case HS_RESULT:
		if (msg->len != sizeof(res))
			return hs_fail(sh, -EPROTO);
		memcpy(&res, msg->data, sizeof(res));
		if (!p->busy || res.seq >= sh->burst || sh->seen[res.seq]) {
			fprintf(stderr, "hotspot: message %u answered twice "
				"or unexpected\n", res.seq);
			return hs_fail(sh, -EBADMSG);
		}
		if (res.order) {
			fprintf(stderr, "hotspot: message %u reached its "
				"worker after a later one\n", res.seq);
			return hs_fail(sh, -EBADMSG);
		}
		sh->seen[res.seq] = 1;
		p->xor ^= res.x;
		p->sum += res.x;
		if (++p->answered < sh->burst)
			return 0;
		p->busy = false;
		if (p->xor != sh->expect_xor || p->sum != sh->expect_sum) {
			fprintf(stderr, "hotspot: burst joined to xor %#"
				PRIx64 " sum %#" PRIx64 ", expected %#" PRIx64
				" / %#" PRIx64 "\n", p->xor, p->sum,
				sh->expect_xor, sh->expect_sum);
			return hs_fail(sh, -EBADMSG);
		}
		hs_signal(sh, ra_now_ns() - p->t0);
		return 0;
	default:
		return hs_fail(sh, -EPROTO);
	}
}

/* A worker: where to record, and the lowest seq it may see next. */
struct hs_worker {
	struct hs_shared *sh;
	uint32_t burst;
	uint32_t next;
};

static int worker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct hs_worker *wk = state;
	struct hs_shared *sh = wk->sh;
	struct hs_result res = { 0 };
	struct hs_work w;

	if (msg->type != HS_WORK || msg->len != sizeof(w))
		return -EPROTO;
	memcpy(&w, msg->data, sizeof(w));
	/* One producer: within a burst its seqs reach us rising. */
	if (w.burst != wk->burst) {
		wk->burst = w.burst;
		wk->next = 0;
	}
	res.order = w.seq < wk->next;
	wk->next = w.seq + 1;
	res.seq = w.seq;
	res.x = lcg_run(w.seed, HS_ITERS);
	if (w.record)
		ra_hdr_record(sh->lat[ra_shard_id(self)],
			      (int64_t)(ra_now_ns() - w.sent_ns));
	return ra_send(self, msg->from, HS_RESULT, &res, sizeof(res));
}

static int worker_init(ra_ctx_t *self, void *state, void *arg)
{
	struct hs_worker *wk = state;

	(void)self;
	wk->sh = arg;
	wk->burst = UINT32_MAX;
	return 0;
}

static const ra_actor_def_t producer_def = {
	.name = "producer",
	.state_size = sizeof(struct producer),
	.init = producer_init,
	.behavior = producer_behavior,
};

static const ra_actor_def_t worker_def = {
	.name = "worker",
	.state_size = sizeof(struct hs_worker),
	.init = worker_init,
	.behavior = worker_behavior,
};

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* --no-steal, and the .steal runtime's knobs. */
struct steal_opts {
	bool no_steal;
	struct bench_steal_knobs knobs;
};

/*
 * Take our own options out of argv (the harness refuses options it does
 * not know). Returns 0, or -EINVAL after a message.
 */
static int steal_opts_strip(int *argc, char **argv, struct steal_opts *so)
{
	int i, ret, out = 1;

	so->no_steal = false;
	bench_steal_knobs_init(&so->knobs);
	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--no-steal") == 0) {
			so->no_steal = true;
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
	fprintf(stderr, "hotspot: bad value for %s\n", argv[i - 1]);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

/* One side of the comparison: stealing off or on. */
struct side {
	bool steal;
	const char *name;	/* row name */
	const char *label;	/* in the table */
	struct bench_series s;
	ra_hdr_t *op;		/* per message, merged at the end */
	ra_hdr_t *lat[HS_MAX_SHARDS]; /* per shard, as recorded */
	struct bench_steal_count sc;
	int where[HS_MAX_SHARDS]; /* workers per shard, end of last round */
	struct bench_result r;
};

struct hs_rt {
	ra_runtime_t *rt;
	ra_ref_t producer;
	struct hs_shared *sh;
	bool snapped;
	ra_stats_t s0;
};

static int hs_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct hs_rt *f = arg;
	struct hs_start st = { .batch = (uint32_t)index, .record = timed };
	int ret;

	/* Outside the timed region: the producer starts the clock. */
	if (timed && !f->snapped) {
		ret = ra_stats_snapshot(f->rt, &f->s0);
		if (ret)
			return ret;
		f->snapped = true;
	}
	ret = ra_runtime_send(f->rt, f->producer, HS_START, &st, sizeof(st));
	if (!ret)
		ret = bench_batch_wait(f->sh->efd, -1, &f->sh->batch_ns,
				       batch_ns);
	return ret ? ret : f->sh->err;
}

/* One round of one side: a fresh runtime, warm-up, `nb` timed bursts. */
static int side_round(struct side *sd, const struct bench_opts *o,
		      const struct steal_opts *so, struct hs_shared *sh,
		      int nb)
{
	ra_spawn_opts_t opts = { .placement = RA_PLACE_SHARD };
	struct hs_rt f;
	ra_config_t cfg;
	int ret;

	memset(&f, 0, sizeof(f));
	f.sh = sh;
	bench_opts_config(o, &cfg);
	if (sd->steal)
		bench_steal_knobs_apply(&so->knobs, &cfg);
	else
		cfg.flags |= RA_CFG_NO_STEAL;
	for (unsigned i = 0; i < o->shards; i++)
		sh->lat[i] = sd->lat[i];
	sh->err = 0;
	ret = bench_runtime_create("hotspot", &cfg, &f.rt);
	if (ret)
		return ret;
	opts.shard = HS_HOT_SHARD;
	opts.flags = sd->steal ? RA_SPAWN_STEALABLE : 0;
	for (unsigned w = 0; w < HS_WORKERS && !ret; w++)
		ret = ra_runtime_spawn(f.rt, &worker_def, sh, &opts,
				       &sh->workers[w]);
	opts.shard = HS_PRODUCER_SHARD;
	opts.flags = 0;
	if (!ret)
		ret = ra_runtime_spawn(f.rt, &producer_def, sh, &opts,
				       &f.producer);
	if (ret) {
		fprintf(stderr, "hotspot: ra_runtime_spawn: %s\n",
			ra_strerror(ret));
		ra_runtime_destroy(f.rt);
		return ret;
	}
	ret = bench_run_batches(o->warmup, nb, hs_batch, &f, &sd->s);
	if (ret)
		fprintf(stderr, "hotspot: %s: burst %d: %s\n", sd->name,
			sd->s.n, ra_strerror(ret));
	if (f.snapped)
		ret = bench_steal_count_end(&sd->sc, f.rt, &f.s0, ret);
	for (unsigned i = 0; i < o->shards; i++) {
		ra_shard_info_t si;

		sd->where[i] = i == HS_HOT_SHARD ? HS_WORKERS : 0;
		if (!ra_shard_info(f.rt, i, &si))
			sd->where[i] += (int)si.actors_in - (int)si.actors_out;
	}
	ra_runtime_destroy(f.rt);
	return ret;
}

static void steal_count_print(const struct side *sd, unsigned nshards)
{
	const struct bench_steal_count *c = &sd->sc;
	double b = sd->s.n > 0 ? sd->s.n : 1;

	printf("%-18s steals over %d timed bursts: attempts %" PRIu64
	       " (%.1f/burst), successes %" PRIu64 ", actors migrated %"
	       PRIu64 " (%.1f/burst); refused: below margin %" PRIu64
	       ", in flight %" PRIu64 ", not quiescent %" PRIu64 ", pinned %"
	       PRIu64 "; dead letters %" PRIu64 "; shard sleeps %.1f/burst\n",
	       sd->label, sd->s.n, c->attempts, c->attempts / b,
	       c->successes, c->migrated, c->migrated / b, c->below_margin,
	       c->in_flight, c->not_quiescent, c->pinned, c->dead_letters,
	       c->sleeps / b);
	printf("%-18s workers per shard at the end:", "");
	for (unsigned i = 0; i < nshards; i++)
		printf(" %d", sd->where[i]);
	printf("\n");
}

static int run(const struct bench_opts *gopt, const struct bench_machine *m,
	       const struct steal_opts *so)
{
	struct bench_opts o = *gopt;
	struct side side[2];
	struct hs_shared sh;
	ra_config_t scfg;
	char extra[768], hbuf[512];
	const char *path;
	int i, k, nb, nside, ret = 0, ncpu;
	double ns_iter, bound, speed;
	uint64_t t0;

	o.name = "hotspot_burst";
	nside = so->no_steal ? 1 : 2;
	memset(&sh, 0, sizeof(sh));
	memset(side, 0, sizeof(side));
	side[0].name = "hotspot_burst";
	side[0].label = "ringactor";
	side[1].steal = true;
	side[1].name = "hotspot_burst.steal";
	side[1].label = "ringactor+steal";
	sh.burst = (uint32_t)o.ops;
	sh.efd = eventfd(0, EFD_CLOEXEC);
	if (sh.efd < 0)
		return -errno;
	sh.seen = calloc(sh.burst, 1);
	if (!sh.seen) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < 2; k++) {
		if (bench_hdr_create(&side[k].op) ||
		    bench_series_init(&side[k].s, o.batches)) {
			ret = -ENOMEM;
			goto out;
		}
		for (unsigned s = 0; s < o.shards; s++)
			if (bench_hdr_create(&side[k].lat[s])) {
				ret = -ENOMEM;
				goto out;
			}
	}
	/* The expected join, and the CPU's ns per LCG step while at it. */
	t0 = bench_now_ns();
	for (uint32_t q = 0; q < sh.burst; q++) {
		uint64_t x = lcg_run(msg_seed(q), HS_ITERS);

		sh.expect_xor ^= x;
		sh.expect_sum += x;
	}
	ns_iter = (double)(bench_now_ns() - t0) / sh.burst / HS_ITERS;

	for (i = 0; i < o.rounds && !ret; i++) {
		nb = bench_round_batches(&o, i);
		/* Off first in even rounds, on first in odd ones. */
		for (k = 0; k < nside && !ret; k++)
			ret = side_round(&side[nside == 2 ? (k + i) & 1 : 0],
					 &o, so, &sh, nb);
	}
	if (ret)
		goto out;

	ncpu = (int)(m->nallowed > 0 ? m->nallowed : 1);
	if (ncpu > (int)o.shards)
		ncpu = (int)o.shards;
	bound = (double)sh.burst * HS_ITERS * ns_iter / ncpu;
	bench_opts_config(&o, &scfg);
	bench_steal_knobs_apply(&so->knobs, &scfg);
	snprintf(extra, sizeof(extra), "%u shards on %ld vCPUs%s | burst "
		 "of %u messages, %u per producer turn, to %d workers "
		 "picked at random, %u LCG steps each | workers on shard %d, "
		 "producer on shard %d | hotspot_burst: workers not "
		 "stealable, RA_CFG_NO_STEAL | hotspot_burst.steal: workers "
		 "RA_SPAWN_STEALABLE, steal budget=%u probe=%u batch=%u "
		 "margin=%u backoff=%" PRIu64 "..%" PRIu64 "ns | no floor: "
		 "no-steal row is the baseline", o.shards, m->nallowed,
		 (long)o.shards > m->nallowed ? ": OVERSUBSCRIBED" : "",
		 sh.burst, HS_CHUNK, HS_WORKERS, HS_ITERS, HS_HOT_SHARD,
		 HS_PRODUCER_SHARD, scfg.steal_budget, scfg.steal_probe,
		 scfg.steal_batch, scfg.steal_margin,
		 scfg.steal_backoff_min_ns, scfg.steal_backoff_max_ns);
	bench_print_header(stdout, &o, m, extra);

	for (k = 0; k < nside; k++) {
		struct bench_result *r = &side[k].r;
		double b = side[k].s.n > 0 ? side[k].s.n : 1;

		for (unsigned s = 0; s < o.shards; s++)
			ra_hdr_merge(side[k].op, side[k].lat[s]);
		bench_result_init(r, side[k].name, &o);
		if (bench_result_fill(r, &side[k].s, side[k].op)) {
			ret = -ENOMEM;
			goto out;
		}
		bench_result_add(r, "compute_bound_us_per_burst", bound / 1e3);
		bench_result_add(r, "lcg_ns_per_iter", ns_iter);
		bench_result_add(r, "steal_attempts_per_burst",
				 (double)side[k].sc.attempts / b);
		bench_result_add(r, "steal_successes_per_burst",
				 (double)side[k].sc.successes / b);
		bench_result_add(r, "actors_migrated_per_burst",
				 (double)side[k].sc.migrated / b);
	}
	bench_print_row_header(stdout);
	for (k = 0; k < nside; k++) {
		side[k].r.name = side[k].label;
		bench_print_row(stdout, &side[k].r);
		side[k].r.name = side[k].name;
	}
	bench_hdr_summary(stdout, "ringactor msg", side[0].op);
	if (nside == 2)
		bench_hdr_summary(stdout, "+steal msg", side[1].op);
	for (k = 0; k < nside; k++)
		steal_count_print(&side[k], o.shards);
	printf("per burst (median): ringactor %.1f us", side[0].r.batch.median
	       / 1e3);
	if (nside == 2)
		printf(", +steal %.1f us", side[1].r.batch.median / 1e3);
	printf("; compute bound on %d CPU%s %.1f us (LCG %.2f ns/step)\n",
	       ncpu, ncpu == 1 ? "" : "s", bound / 1e3, ns_iter);
	if (nside == 2) {
		speed = side[1].r.batch.median > 0 ?
			side[0].r.batch.median / side[1].r.batch.median : 0;
		bench_result_add(&side[1].r, "speed_vs_nosteal", speed);
		printf("steal/no-steal: burst median %.3fx (speed %.3fx); "
		       "per message p50 %.3fx, p99 %.3fx, p99.9 %.3fx%s\n",
		       speed > 0 ? 1 / speed : 0, speed,
		       (double)side[1].r.op.p50 / (double)side[0].r.op.p50,
		       (double)side[1].r.op.p99 / (double)side[0].r.op.p99,
		       (double)side[1].r.op.p999 / (double)side[0].r.op.p999,
		       o.quick || o.batches < BENCH_MIN_BATCHES ?
		       " (smoke run)" : "");
	}

	for (k = 0; k < nside && o.json_path && !ret; k++) {
		ret = bench_json_append(o.json_path, &side[k].r, m);
		if (ret)
			fprintf(stderr, "hotspot: %s: %s\n", o.json_path,
				strerror(-ret));
	}
	for (k = 0; k < nside && !ret; k++) {
		path = bench_hgrm_path(&o, side[k].name, false, hbuf,
				       sizeof(hbuf));
		if (!path && k == 0)
			path = o.hgrm_path;
		if (path)
			ret = bench_write_hgrm(path, side[k].op);
		if (ret && !o.json_path)
			fprintf(stderr, "hotspot: .hgrm: %s\n",
				strerror(-ret));
	}
out:
	close(sh.efd);
	free(sh.seen);
	for (k = 0; k < 2; k++) {
		bench_series_fini(&side[k].s);
		ra_hdr_destroy(side[k].op);
		for (unsigned s = 0; s < HS_MAX_SHARDS; s++)
			ra_hdr_destroy(side[k].lat[s]);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct bench_machine m;
	struct bench_opts o;
	struct steal_opts so;
	int ret;

	if (steal_opts_strip(&argc, argv, &so))
		return 2;
	bench_opts_init(&o, "hotspot", HS_BURST, HS_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	if (o.shards < 2 || o.shards > HS_MAX_SHARDS) {
		fprintf(stderr, "hotspot: 2 to %d shards\n", HS_MAX_SHARDS);
		return 2;
	}
	if (o.ops < 1 || (unsigned)o.ops > HS_MAX_BURST) {
		fprintf(stderr, "hotspot: 1 to %u messages per burst\n",
			HS_MAX_BURST);
		return 2;
	}
	/* Both rows are one program's: --only picks the program. */
	if (!bench_selected(&o, "hotspot_burst") &&
	    !bench_selected(&o, "hotspot_burst.steal"))
		return 0;
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = run(&o, &m, &so);
	if (bench_io_uring_missing(ret))
		return bench_skip_io_uring(ret);
	if (ret) {
		fprintf(stderr, "hotspot: FAILED: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
