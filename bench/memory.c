/*
 * memory: what an idle actor costs, and how fast actors come and go.
 *
 * memory_idle_actors: a runtime of 2 shards (--shards to change) gets one
 * spawner actor per shard (from main, on that shard). Each spawner spawns
 * its share of N idle actors locally (RA_PLACE_LOCAL: no msg_ring, no
 * atomic on the send path), MEM_CHUNK per turn, then sends itself a
 * message to go on, so that the new actors' inits run between its turns
 * as they would in a live system. An idle actor has MEM_STATE bytes of
 * state and gets no message; its init counts itself in an atomic and the
 * N-th signals main. Then main asks each spawner to stop its actors
 * (ra_stop_other, MEM_CHUNK per turn again); each terminate counts
 * itself and the N-th signals main.
 *
 * Reported, per repetition and as the median over them:
 *   spawn rate  N / (the N-th init - the first spawner's start), i.e.
 *               from the first ra_spawn() to the last init; the rate
 *               from the first init to the last is printed beside it
 *   stop rate   N / (the N-th terminate - the first stop request)
 * and, from the first repetition only (ru_maxrss is a high-water mark):
 *   bytes per idle actor = (max RSS after the N-th init - max RSS
 *               before the first spawn) / N
 * with the reference array the spawners fill (8 bytes an actor) allocated
 * and touched before the "before" figure, so it is not counted.
 *
 * The per-op histogram is the time of one ra_spawn() call, sampled one
 * call in MEM_SAMPLE. Checks: N inits and N terminates per repetition,
 * actors_live = N + spawners once all are up and 0 at the end, N spawned
 * and stopped per repetition by the runtime's own counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#define MEM_NAME		"memory_idle_actors"
#define MEM_ACTORS		1000000u
#define MEM_QUICK_ACTORS	100000u
#define MEM_REPS		5
#define MEM_QUICK_REPS		3
#define MEM_SHARDS		2
#define MEM_STATE		16	/* bytes of state per idle actor */
#define MEM_CHUNK		4096u	/* spawns (stops) per turn */
#define MEM_SAMPLE		64u	/* time 1 ra_spawn() in 64 */
#define MEM_TIMEOUT_MS		120000
#define MEM_IDLE_TIMEOUT_NS	(30ull * 1000000000ull)

enum mem_type {
	MEM_SPAWN_MORE = 1,	/* spawner to itself: next chunk of spawns */
	MEM_STOP_ALL,		/* main to spawner: stop your actors */
	MEM_STOP_MORE,		/* spawner to itself: next stops */
};

/*
 * Shared by main and the actors of one repetition. Main sets the
 * parameters before it spawns the spawners; the actors update the
 * counters and times with atomics, and main reads them after the eventfd
 * fires.
 */
struct mem_run {
	unsigned nshards;
	uint32_t n;		/* idle actors in this repetition */
	ra_ref_t *refs;		/* [n]: spawner s fills its own slice */
	ra_hdr_t **hdr;		/* [nshards] spawn ns; shard i: [i] */
	bool record;
	int efd;		/* eventfd main waits on */
	_Atomic uint64_t inits;
	_Atomic uint64_t terms;
	_Atomic uint64_t t_spawn0;	/* earliest spawner start */
	_Atomic uint64_t t_init0;	/* first init */
	_Atomic uint64_t t_init1;	/* the n-th init */
	_Atomic uint64_t t_stop0;	/* earliest stop request */
	_Atomic uint64_t t_term1;	/* the n-th terminate */
	_Atomic int err;
};

/* A spawner's start argument: its slice of refs[]. */
struct mem_slice {
	struct mem_run *r;
	uint32_t lo, hi;	/* refs[lo .. hi - 1] */
};

struct mem_spawner {
	struct mem_run *r;
	uint32_t lo, hi;
	uint32_t next;		/* next index to spawn, then to stop */
};

/* The idle actor's whole state: MEM_STATE bytes. */
struct mem_idle {
	struct mem_run *r;
	uint64_t born_ns;
};

_Static_assert(sizeof(struct mem_idle) == MEM_STATE, "idle state size");

static void mem_signal(struct mem_run *r)
{
	bench_efd_signal(r->efd);
}

static int mem_fail(struct mem_run *r, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&r->err, &zero, err);
	mem_signal(r);
	return err;
}

/* *t = min(*t, v), where 0 means "not set yet". */
static void atomic_min_time(_Atomic uint64_t *t, uint64_t v)
{
	uint64_t cur = atomic_load(t);

	while ((cur == 0 || v < cur) &&
	       !atomic_compare_exchange_weak(t, &cur, v))
		;
}

static int idle_init(ra_ctx_t *self, void *state, void *arg)
{
	struct mem_idle *a = state;
	struct mem_run *r = arg;
	uint64_t k;

	a->r = r;
	a->born_ns = ra_now_ns();
	k = atomic_fetch_add(&r->inits, 1) + 1;
	if (k == 1)
		atomic_store(&r->t_init0, a->born_ns);
	if (k == r->n) {
		atomic_store(&r->t_init1, a->born_ns);
		mem_signal(r);
	}
	return 0;
}

static int idle_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct mem_idle *a = state;

	return mem_fail(a->r, -EPROTO);	/* idle actors get no message */
}

static void idle_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct mem_idle *a = state;
	struct mem_run *r = a->r;

	if (atomic_fetch_add(&r->terms, 1) + 1 == r->n) {
		atomic_store(&r->t_term1, ra_now_ns());
		mem_signal(r);
	}
}

static const ra_actor_def_t idle_def = {
	.name = "idle",
	.state_size = MEM_STATE,
	.init = idle_init,
	.behavior = idle_behavior,
	.terminate = idle_terminate,
};

/* Spawn the next chunk; ask for another turn while any are left. */
static int spawn_chunk(ra_ctx_t *self, struct mem_spawner *s)
{
	struct mem_run *r = s->r;
	uint32_t end = s->hi - s->next > MEM_CHUNK ? s->next + MEM_CHUNK :
						     s->hi;
	ra_hdr_t *h = r->hdr[ra_shard_id(self)];
	uint64_t t;
	int ret;

	for (; s->next < end; s->next++) {
		bool timed = r->record && s->next % MEM_SAMPLE == 0;

		t = timed ? ra_now_ns() : 0;
		ret = ra_spawn(self, &idle_def, r, NULL, &r->refs[s->next]);
		if (ret)
			return mem_fail(r, ret);
		if (timed)
			ra_hdr_record(h, (int64_t)(ra_now_ns() - t));
	}
	if (s->next == s->hi)
		return 0;
	ret = ra_send(self, ra_self(self), MEM_SPAWN_MORE, NULL, 0);
	return ret ? mem_fail(r, ret) : 0;
}

static int stop_chunk(ra_ctx_t *self, struct mem_spawner *s)
{
	struct mem_run *r = s->r;
	uint32_t end = s->hi - s->next > MEM_CHUNK ? s->next + MEM_CHUNK :
						     s->hi;
	int ret;

	for (; s->next < end; s->next++) {
		ret = ra_stop_other(self, r->refs[s->next]);
		if (ret)
			return mem_fail(r, ret);
	}
	if (s->next == s->hi)
		return 0;
	ret = ra_send(self, ra_self(self), MEM_STOP_MORE, NULL, 0);
	return ret ? mem_fail(r, ret) : 0;
}

static int spawner_init(ra_ctx_t *self, void *state, void *arg)
{
	struct mem_spawner *s = state;
	struct mem_slice *sl = arg;

	s->r = sl->r;
	s->lo = sl->lo;
	s->hi = sl->hi;
	s->next = s->lo;
	atomic_min_time(&s->r->t_spawn0, ra_now_ns());
	return spawn_chunk(self, s);
}

static int spawner_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct mem_spawner *s = state;

	switch (msg->type) {
	case MEM_SPAWN_MORE:
		return spawn_chunk(self, s);
	case MEM_STOP_ALL:
		if (s->next != s->hi)
			return mem_fail(s->r, -EPROTO);
		atomic_min_time(&s->r->t_stop0, ra_now_ns());
		s->next = s->lo;
		return stop_chunk(self, s);
	case MEM_STOP_MORE:
		return stop_chunk(self, s);
	default:
		return mem_fail(s->r, -EPROTO);
	}
}

static const ra_actor_def_t spawner_def = {
	.name = "spawner",
	.state_size = sizeof(struct mem_spawner),
	.init = spawner_init,
	.behavior = spawner_behavior,
};

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static long maxrss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static int expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "memory: %s: %" PRIu64 ", expected %" PRIu64 "\n",
		what, got, want);
	return -EPROTO;
}

/* Live actors by the runtime's own count. */
static int live_is(ra_runtime_t *rt, uint64_t want, const char *when)
{
	ra_stats_t st;
	int ret = ra_stats_snapshot(rt, &st);

	if (ret)
		return ret;
	if (st.actors_live != want) {
		fprintf(stderr, "memory: %s: actors_live %" PRIu64
			", expected %" PRIu64 "\n", when, st.actors_live,
			want);
		ret = -EPROTO;
	}
	ra_stats_fini(&st);
	return ret;
}

/* One repetition's figures. */
struct mem_rep {
	double spawn_ns;	/* first spawner start to the n-th init */
	double init_ns;		/* first init to the n-th init */
	double stop_ns;		/* first stop request to last stop */
	struct bench_cpu spawn_cpu;	/* process CPU, spawn phase */
	struct bench_cpu stop_cpu;
};

/* Spawn n idle actors, stop them, check the counts. */
static int mem_rep(ra_runtime_t *rt, struct mem_run *r, struct mem_slice *sl,
		   ra_ref_t *spawners, struct mem_rep *out, long *rss_after)
{
	struct bench_cpu c0, c1;
	uint64_t t_last;
	unsigned i;
	int ret = 0;

	atomic_store(&r->inits, 0);
	atomic_store(&r->terms, 0);
	atomic_store(&r->t_spawn0, 0);
	atomic_store(&r->t_init0, 0);
	atomic_store(&r->t_init1, 0);
	atomic_store(&r->t_stop0, 0);
	atomic_store(&r->t_term1, 0);
	bench_cpu_now(&c0);
	for (i = 0; !ret && i < r->nshards; i++) {
		ra_spawn_opts_t on = {
			.placement = RA_PLACE_SHARD, .shard = i,
		};

		sl[i].r = r;
		sl[i].lo = (uint32_t)((uint64_t)r->n * i / r->nshards);
		sl[i].hi = (uint32_t)((uint64_t)r->n * (i + 1) / r->nshards);
		ret = ra_runtime_spawn(rt, &spawner_def, &sl[i], &on,
				       &spawners[i]);
	}
	if (!ret)
		ret = bench_efd_wait(r->efd, MEM_TIMEOUT_MS);
	bench_cpu_now(&c1);
	if (!ret && rss_after)
		*rss_after = maxrss_kib();
	ret = ret ?: atomic_load(&r->err);
	if (ret) {
		fprintf(stderr, "memory: spawning: %s\n", ra_strerror(ret));
		return ret;
	}
	bench_cpu_sub(&c1, &c0, &out->spawn_cpu);
	ret = live_is(rt, (uint64_t)r->n + r->nshards, "all spawned");
	if (ret)
		return ret;

	bench_cpu_now(&c0);
	for (i = 0; !ret && i < r->nshards; i++)
		ret = ra_runtime_send(rt, spawners[i], MEM_STOP_ALL, NULL, 0);
	if (!ret)
		ret = bench_efd_wait(r->efd, MEM_TIMEOUT_MS);
	bench_cpu_now(&c1);
	ret = ret ?: atomic_load(&r->err);
	if (ret) {
		fprintf(stderr, "memory: stopping: %s\n", ra_strerror(ret));
		return ret;
	}
	bench_cpu_sub(&c1, &c0, &out->stop_cpu);
	for (i = 0; !ret && i < r->nshards; i++)
		ret = ra_runtime_stop_actor(rt, spawners[i]);
	if (!ret)
		ret = ra_runtime_wait_idle(rt, MEM_IDLE_TIMEOUT_NS);
	if (ret) {
		fprintf(stderr, "memory: stopping the spawners: %s\n",
			ra_strerror(ret));
		return ret;
	}
	ret = expect("inits", atomic_load(&r->inits), r->n) ?:
	      expect("terminates", atomic_load(&r->terms), r->n) ?:
	      live_is(rt, 0, "all stopped");
	if (ret)
		return ret;
	t_last = atomic_load(&r->t_init1);
	out->spawn_ns = (double)(t_last - atomic_load(&r->t_spawn0));
	out->init_ns = (double)(t_last - atomic_load(&r->t_init0));
	out->stop_ns = (double)(atomic_load(&r->t_term1) -
				atomic_load(&r->t_stop0));
	return 0;
}

static double median_of(double *v, int n)
{
	struct bench_stats st;

	return bench_stats_compute(v, (size_t)n, &st) ? 0 : st.median;
}

int main(int argc, char **argv)
{
	struct bench_machine m;
	struct bench_opts o;
	struct bench_series series = { 0 };
	struct bench_result res;
	struct mem_run r = { 0 };
	struct mem_rep *reps = NULL;
	struct mem_slice *sl = NULL;
	ra_ref_t *spawners = NULL;
	ra_runtime_t *rt = NULL;
	ra_stats_t s0, s1;
	ra_config_t cfg;
	ra_hdr_t *per_op = NULL;
	double *spawn_rate = NULL, *init_rate = NULL, *stop_rate = NULL;
	double bytes_per_actor = 0, med_spawn, med_init, med_stop;
	long rss_before, rss_after = -1;
	bool have_s0 = false;
	int nreps, ret, dret;

	bench_opts_init(&o, MEM_NAME, 0, MEM_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	if (!bench_selected(&o, MEM_NAME))
		return 0;
	o.rounds = 1;
	o.warmup = 0;		/* RSS comes from the first repetition */
	nreps = bench_opt_given(argc, argv, "batches") ? o.batches :
		o.quick ? MEM_QUICK_REPS : MEM_REPS;
	o.batches = nreps;
	r.n = o.ops > 0 ? (uint32_t)o.ops :
	      o.quick ? MEM_QUICK_ACTORS : MEM_ACTORS;
	o.ops = (int)r.n;
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	r.efd = eventfd(0, EFD_CLOEXEC);
	if (r.efd < 0) {
		perror("memory: eventfd");
		return 1;
	}
	bench_opts_config(&o, &cfg);
	ret = ra_runtime_create(&cfg, &rt);
	if (bench_io_uring_missing(ret))
		return bench_skip_io_uring(ret);
	if (ret) {
		fprintf(stderr, "memory: ra_runtime_create: %s: %s\n",
			ra_strerror(ret), ra_last_error());
		return 1;
	}
	r.nshards = ra_runtime_shards(rt);
	r.record = true;
	r.refs = malloc((size_t)r.n * sizeof(*r.refs));
	r.hdr = calloc(r.nshards, sizeof(*r.hdr));
	sl = calloc(r.nshards, sizeof(*sl));
	spawners = calloc(r.nshards, sizeof(*spawners));
	reps = calloc((size_t)nreps, sizeof(*reps));
	spawn_rate = calloc((size_t)nreps, sizeof(double));
	init_rate = calloc((size_t)nreps, sizeof(double));
	stop_rate = calloc((size_t)nreps, sizeof(double));
	ret = r.refs && r.hdr && sl && spawners && reps && spawn_rate &&
	      init_rate && stop_rate ? 0 : -ENOMEM;
	for (unsigned i = 0; !ret && i < r.nshards; i++)
		ret = bench_hdr_create(&r.hdr[i]);
	if (!ret)
		ret = bench_hdr_create(&per_op);
	if (!ret)
		ret = bench_series_init(&series, nreps);
	if (ret) {
		fprintf(stderr, "memory: out of memory\n");
		goto out;
	}
	/* Touch the reference array now so that it counts as "before". */
	memset(r.refs, 0xff, (size_t)r.n * sizeof(*r.refs));
	have_s0 = !ra_stats_snapshot(rt, &s0);
	rss_before = maxrss_kib();

	for (int i = 0; i < nreps; i++) {
		ret = mem_rep(rt, &r, sl, spawners, &reps[i],
			      i == 0 ? &rss_after : NULL);
		if (ret)
			goto out;
		spawn_rate[i] = r.n * 1e9 / reps[i].spawn_ns;
		init_rate[i] = r.n * 1e9 / reps[i].init_ns;
		stop_rate[i] = r.n * 1e9 / reps[i].stop_ns;
		series.batch_ns[series.n++] = reps[i].spawn_ns;
		series.wall_ns += reps[i].spawn_ns;
		bench_cpu_add(&series.cpu, &reps[i].spawn_cpu);
	}
	if (have_s0 && !ra_stats_snapshot(rt, &s1)) {
		uint64_t want = (uint64_t)nreps * (r.n + r.nshards);

		ret = expect("runtime: actors spawned",
			     s1.actors_spawned - s0.actors_spawned, want) ?:
		      expect("runtime: actors stopped",
			     s1.actors_stopped - s0.actors_stopped, want) ?:
		      expect("runtime: dead letters",
			     s1.dead_letters - s0.dead_letters, 0) ?:
		      expect("runtime: actors_live", s1.actors_live, 0);
		ra_stats_fini(&s1);
		if (ret)
			goto out;
	} else {
		fprintf(stderr, "memory: no runtime statistics\n");
		ret = -EIO;
		goto out;
	}
	for (unsigned i = 0; i < r.nshards; i++)
		ra_hdr_merge(per_op, r.hdr[i]);
	bytes_per_actor = (double)(rss_after - rss_before) * 1024.0 / r.n;
	med_spawn = median_of(spawn_rate, nreps);
	med_init = median_of(init_rate, nreps);
	med_stop = median_of(stop_rate, nreps);

	bench_result_init(&res, MEM_NAME, &o);
	ret = bench_result_fill(&res, &series, per_op);
	if (ret)
		goto out;
	bench_result_add(&res, "actors", r.n);
	bench_result_add(&res, "state_bytes", MEM_STATE);
	bench_result_add(&res, "bytes_per_actor", bytes_per_actor);
	bench_result_add(&res, "rss_before_kib", (double)rss_before);
	bench_result_add(&res, "rss_after_kib", (double)rss_after);
	bench_result_add(&res, "spawn_per_s", med_spawn);
	bench_result_add(&res, "init_per_s", med_init);
	bench_result_add(&res, "stop_per_s", med_stop);

	printf("# %s: nproc=%ld (allowed %ld) kernel=%s %s | shards=%u "
	       "pin=%s idle_poll=%" PRIu64 "ns | %" PRIu32 " idle actors "
	       "of %d bytes state, %u spawners (one per shard, spawning "
	       "locally, %u per turn) | %d repetitions, RSS from the "
	       "first%s\n", MEM_NAME, m.nproc, m.nallowed, m.kernel, m.arch,
	       r.nshards, o.pin ? "yes" : "no", o.idle_poll_ns, r.n,
	       MEM_STATE, r.nshards, MEM_CHUNK, nreps,
	       o.quick ? " (smoke run, not a measurement)" : "");
	for (int i = 0; i < nreps; i++)
		printf("  rep %d: spawn %.3f ms (%.3g actors/s; first to last "
		       "init %.3g/s), stop %.3f ms (%.3g actors/s)\n", i,
		       reps[i].spawn_ns / 1e6, spawn_rate[i], init_rate[i],
		       reps[i].stop_ns / 1e6, stop_rate[i]);
	bench_print_row_header(stdout);
	bench_print_row(stdout, &res);
	bench_hdr_summary(stdout, "ra_spawn (1 in 64)", per_op);
	printf("%s: spawn %.3g actors/s (median; first to last init %.3g/s), "
	       "stop %.3g actors/s (median); max RSS %ld -> %ld KiB: %.1f "
	       "bytes per idle actor (%d bytes of it state); all checks "
	       "passed\n", MEM_NAME, med_spawn, med_init, med_stop,
	       rss_before, rss_after, bytes_per_actor, MEM_STATE);

	ret = bench_json_emit("memory", &o, &m, &res);
	if (!ret)
		ret = bench_hgrm_emit_row("memory", &o, MEM_NAME, false,
					  per_op);
	if (!ret)
		ret = bench_hgrm_emit("memory", o.hgrm_path, per_op);
out:
	if (have_s0)
		ra_stats_fini(&s0);
	dret = ra_runtime_destroy(rt);
	if (dret && !ret) {
		fprintf(stderr, "memory: ra_runtime_destroy: %s\n",
			ra_strerror(dret));
		ret = dret;
	}
	if (r.hdr)
		for (unsigned i = 0; i < r.nshards; i++)
			ra_hdr_destroy(r.hdr[i]);
	ra_hdr_destroy(per_op);
	bench_series_fini(&series);
	free(r.hdr);
	free(r.refs);
	free(sl);
	free(spawners);
	free(reps);
	free(spawn_rate);
	free(init_rate);
	free(stop_rate);
	close(r.efd);
	return ret ? 1 : 0;
}
