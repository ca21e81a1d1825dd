/*
 * examples/supervision_tree.c: "let it crash", shown. A pool of workers
 * behind a dispatcher runs under a supervisor, under a top supervisor,
 * while a fault injector kills workers at random; then, for a moment, it
 * kills them faster than the pool's restart intensity allows, so the
 * pool gives up and its supervisor restarts it whole (escalation).
 *
 *   supervision_tree [--seconds N] [--shards N] [--workers N]
 *                    [--kill-every-ms N] [--storm-at S] [--seed N]
 *
 * It runs for --seconds, or until SIGINT or SIGTERM: either way main
 * stops the tree in order and prints the summary.
 *
 *   top            one_for_one, intensity 5 in 10 s
 *   ├── stats      counts finished jobs, prints throughput every second
 *   ├── pool       one_for_one, intensity 20 in 1 s
 *   │   ├── dispatcher   round-robins jobs over the workers
 *   │   └── worker.0 .. worker.N-1
 *   ├── load       sends a batch of jobs to the dispatcher every ms
 *   └── chaos      kills a random worker every --kill-every-ms; from
 *                  --storm-at for 300 ms, every 5 ms
 *
 * Actors find each other by registered name (ra_whereis), caching the
 * reference until a send says it is stale (-ESRCH): a restarted actor
 * has a new reference under the same name. Every supervisor decision is
 * printed as it happens (ra_sup_spec_t.on_event); at the end, the
 * throughput per second, how much of it survived the faults, and the
 * restart latency (kill sent -> replacement running) from an HDR
 * histogram.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringactor.h>

#define MS 1000000ull
#define MAX_WORKERS 64
#define MAX_SECONDS 600

enum { JOB = 1, DONE, TICK };

struct options {
	unsigned seconds, shards, workers, kill_every_ms, storm_at, seed;
};

static struct options opt = { 6, 2, 8, 200, 3, 1 };
static uint64_t t0;
static atomic_uint restarts, escalations, kills;

/*
 * Restart latency: chaos stamps the time it sends the kill to worker i;
 * the next worker.i to run its init records now - stamp into the HDR
 * histogram of its shard (one writer per histogram), and main merges them.
 */
static _Atomic uint64_t killed_at[MAX_WORKERS];
static ra_hdr_t *restart_ns[1024];
/*
 * The baseline, measured beside it: with each kill, chaos also spawns a
 * probe actor the same way (round robin, from a shard), and the probe's
 * init records spawn -> init into probe_ns of its shard, then it stops.
 */
static ra_hdr_t *probe_ns[1024];

static int probe_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	ra_hdr_record(probe_ns[ra_shard_id(self)],
		      (int64_t)(ra_now_ns() - (uint64_t)(uintptr_t)arg));
	ra_stop(self, RA_EXIT_NORMAL);
	return 0;
}

static int probe_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

static const ra_actor_def_t probe_def = {
	.name = "probe", .init = probe_init, .behavior = probe_behavior,
};
static _Atomic uint64_t per_second[MAX_SECONDS + 1];

/* ---------------------------------------------------------------- names */

/* Send to the actor registered as `name`, refreshing *cache if stale. */
static int send_named(ra_ctx_t *self, ra_ref_t *cache, const char *name,
		      uint32_t type, const void *data, size_t len)
{
	int r = ra_ref_is_null(*cache) ? -ESRCH
				       : ra_send(self, *cache, type, data, len);

	if (r == -ESRCH && ra_whereis(ra_runtime(self), name, cache) == 0)
		r = ra_send(self, *cache, type, data, len);
	return r;
}

/* ---------------------------------------------------------------- worker */

struct worker {
	ra_ref_t stats;
};

static int worker_init(ra_ctx_t *self, void *state, void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t at = atomic_exchange(&killed_at[i], 0);
	char name[RA_NAME_MAX + 1];

	(void)state;
	if (at)
		ra_hdr_record(restart_ns[ra_shard_id(self)],
			      (int64_t)(ra_now_ns() - at));
	snprintf(name, sizeof(name), "worker.%d", i);
	return ra_register(self, name);
}

/* A job: a little arithmetic, then tell stats. */
static int worker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct worker *w = state;
	uint64_t x, one = 1;

	if (m->type != JOB || m->len != sizeof(x))
		return 0;
	memcpy(&x, m->data, sizeof(x));
	for (int i = 0; i < 200; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	(void)x;
	send_named(self, &w->stats, "stats", DONE, &one, sizeof(one));
	return 0;
}

static const ra_actor_def_t worker_def = {
	.name = "worker", .state_size = sizeof(struct worker),
	.init = worker_init, .behavior = worker_behavior,
};

/* ---------------------------------------------------------------- dispatcher */

struct dispatcher {
	ra_ref_t workers[MAX_WORKERS];
	unsigned next;
};

static int dispatcher_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return ra_register(self, "dispatcher");
}

/* Round robin; a worker being restarted is skipped, its job lost. */
static int dispatcher_behavior(ra_ctx_t *self, void *state,
			       const ra_msg_t *m)
{
	struct dispatcher *d = state;
	char name[RA_NAME_MAX + 1];
	unsigned i = d->next++ % opt.workers;

	if (m->type != JOB)
		return 0;
	snprintf(name, sizeof(name), "worker.%u", i);
	(void)send_named(self, &d->workers[i], name, JOB, m->data, m->len);
	return 0;
}

static const ra_actor_def_t dispatcher_def = {
	.name = "dispatcher", .state_size = sizeof(struct dispatcher),
	.init = dispatcher_init, .behavior = dispatcher_behavior,
};

/* ---------------------------------------------------------------- load */

struct load {
	ra_ref_t dispatcher;
	uint64_t seq;
};

static int load_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return ra_send_interval(self, ra_self(self), MS, TICK, NULL, 0, NULL);
}

static int load_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct load *l = state;

	(void)m;
	for (int i = 0; i < 100; i++, l->seq++)
		if (send_named(self, &l->dispatcher, "dispatcher", JOB,
			       &l->seq, sizeof(l->seq)) < 0)
			break;	/* the pool is being restarted */
	return 0;
}

static const ra_actor_def_t load_def = {
	.name = "load", .state_size = sizeof(struct load),
	.init = load_init, .behavior = load_behavior,
};

/* ---------------------------------------------------------------- chaos */

struct chaos {
	unsigned seed;
};

static int chaos_init(ra_ctx_t *self, void *state, void *arg)
{
	struct chaos *c = state;

	(void)arg;
	c->seed = opt.seed;
	return ra_send_interval(self, ra_self(self), 5 * MS, TICK, NULL, 0,
				NULL);
}

static bool storming(uint64_t now)
{
	uint64_t at = (uint64_t)opt.storm_at * 1000 * MS;

	return opt.storm_at && now - t0 >= at && now - t0 < at + 300 * MS;
}

/* Every 5 ms: kill a random worker if it is time. */
static int chaos_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct chaos *c = state;
	uint64_t now = ra_now_ns();
	char name[RA_NAME_MAX + 1];
	ra_ref_t victim;
	unsigned i, every = opt.kill_every_ms / 5 ? opt.kill_every_ms / 5 : 1;

	(void)m;
	if (!storming(now) && rand_r(&c->seed) % every)
		return 0;
	i = (unsigned)rand_r(&c->seed) % opt.workers;
	snprintf(name, sizeof(name), "worker.%u", i);
	if (ra_whereis(ra_runtime(self), name, &victim) < 0)
		return 0;	/* being restarted right now */
	atomic_store(&killed_at[i], ra_now_ns());
	if (ra_exit_other(self, victim, RA_EXIT_KILL, NULL) == 0)
		atomic_fetch_add(&kills, 1);
	else
		atomic_store(&killed_at[i], 0);
	(void)ra_spawn(self, &probe_def, (void *)(uintptr_t)ra_now_ns(),
		       &(ra_spawn_opts_t){ .placement = RA_PLACE_ROUND_ROBIN },
		       NULL);
	return 0;
}

static const ra_actor_def_t chaos_def = {
	.name = "chaos", .state_size = sizeof(struct chaos),
	.init = chaos_init, .behavior = chaos_behavior,
};

/* ---------------------------------------------------------------- stats */

struct stats {
	uint64_t done;
};

static int stats_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	if (ra_register(self, "stats") < 0)
		return -EEXIST;
	return ra_send_interval(self, ra_self(self), 1000 * MS, TICK, NULL, 0,
				NULL);
}

static int stats_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct stats *s = state;
	unsigned sec = (unsigned)((ra_now_ns() - t0) / (1000 * MS));

	(void)self;
	if (m->type == DONE) {
		s->done++;
		if (sec <= MAX_SECONDS)
			atomic_fetch_add(&per_second[sec], 1);
	} else if (m->type == TICK && sec >= 1 && sec <= MAX_SECONDS) {
		printf("[%6.3fs] throughput: %llu jobs in second %u; %u kills, "
		       "%u restarts, %u escalations so far\n",
		       (double)(ra_now_ns() - t0) / 1e9,
		       (unsigned long long)atomic_load(&per_second[sec - 1]),
		       sec, atomic_load(&kills), atomic_load(&restarts),
		       atomic_load(&escalations));
	}
	return 0;
}

static const ra_actor_def_t stats_def = {
	.name = "stats", .state_size = sizeof(struct stats),
	.init = stats_init, .behavior = stats_behavior,
};

/* ---------------------------------------------------------------- tree */

/* The supervisors' decisions, as they happen (OTP's reports). */
static void on_event(const ra_sup_event_t *ev, void *ctx)
{
	const char *sup = ctx;

	if (ev->kind == RA_SUP_RESTART)
		atomic_fetch_add(&restarts, 1);
	if (ev->kind == RA_SUP_INTENSITY_EXCEEDED)
		atomic_fetch_add(&escalations, 1);
	/* Routine starts would drown the rest: show them only for `pool`. */
	if (ev->kind == RA_SUP_CHILD_STARTED && strcmp(ev->id, "pool"))
		return;
	printf("[%6.3fs] %s: %s %s", (double)(ra_now_ns() - t0) / 1e9, sup,
	       ev->id, ra_sup_event_name(ev->kind));
	if (ev->kind == RA_SUP_CHILD_EXITED || ev->kind == RA_SUP_RESTART ||
	    ev->kind == RA_SUP_INTENSITY_EXCEEDED)
		printf(" (code %d%s%s; %u restarts in period)", ev->code,
		       ev->why[0] ? ", " : "", ev->why, ev->restarts);
	printf("\n");
}

static ra_child_spec_t worker_specs[MAX_WORKERS + 1];
static char worker_ids[MAX_WORKERS][24];

static ra_sup_spec_t pool_spec = {
	.strategy = RA_ONE_FOR_ONE, .intensity = 20, .period_ms = 1000,
	.children = worker_specs, .on_event = on_event, .event_ctx = "pool",
};

static ra_child_spec_t top_children[] = {
	{ .id = "stats", .def = &stats_def, .restart = RA_PERMANENT },
	{ .id = "pool", .start = ra_sup_start_link, .arg = &pool_spec,
	  .restart = RA_PERMANENT, .type = RA_SUPERVISOR },
	{ .id = "load", .def = &load_def, .restart = RA_PERMANENT },
	{ .id = "chaos", .def = &chaos_def, .restart = RA_PERMANENT },
};

static void build_pool(void)
{
	worker_specs[0] = (ra_child_spec_t){
		.id = "dispatcher", .def = &dispatcher_def,
		.restart = RA_PERMANENT,
	};
	for (unsigned i = 0; i < opt.workers; i++) {
		snprintf(worker_ids[i], sizeof(worker_ids[i]), "worker.%u", i);
		worker_specs[i + 1] = (ra_child_spec_t){
			.id = worker_ids[i], .def = &worker_def,
			.arg = (void *)(intptr_t)i,
			.opts = { .placement = RA_PLACE_ROUND_ROBIN },
			.restart = RA_PERMANENT,
			.shutdown_ms = RA_SHUTDOWN_BRUTAL_KILL,
		};
	}
	pool_spec.nchildren = opt.workers + 1;
}

/* ---------------------------------------------------------------- main */

/*
 * Read the options into `opt`. Returns 0, 1 for --help, or -EINVAL for
 * an unknown option, a value out of range or not a number, or an operand.
 */
static int parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "shards", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "kill-every-ms", required_argument, NULL, 'k' },
		{ "storm-at", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	char *end;
	int c;

	/* Only "h" as a short option: the others are long ones only. */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?')
			return -EINVAL;
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || end == optarg || *end || v > UINT_MAX)
			return -EINVAL;
		switch (c) {
		case 't':
			if (!v || v >= MAX_SECONDS)
				return -EINVAL;
			opt.seconds = (unsigned)v;
			break;
		case 's':
			if (!v || v > 1024)
				return -EINVAL;
			opt.shards = (unsigned)v;
			break;
		case 'w':
			if (!v || v > MAX_WORKERS)
				return -EINVAL;
			opt.workers = (unsigned)v;
			break;
		case 'k':
			if (!v)
				return -EINVAL;
			opt.kill_every_ms = (unsigned)v;
			break;
		case 'a':
			opt.storm_at = (unsigned)v;
			break;
		case 'r':
			opt.seed = (unsigned)v;
			break;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

/* Merge one histogram per shard; NULL on ENOMEM. */
static ra_hdr_t *merged(ra_hdr_t **per_shard)
{
	ra_hdr_t *all;

	if (ra_hdr_create(1, 60000000000LL, 3, &all) < 0)
		return NULL;
	for (unsigned s = 0; s < opt.shards; s++)
		ra_hdr_merge(all, per_shard[s]);
	return all;
}

static void print_latency(const char *what, const ra_hdr_t *h,
			  const ra_hdr_t *base)
{
	double p50 = (double)ra_hdr_value_at_percentile(h, 50.0);

	printf("summary: %s, %lld times: p50 %.1f us, p99 %.1f us, max %.1f us",
	       what, (long long)ra_hdr_total_count(h), p50 / 1e3,
	       (double)ra_hdr_value_at_percentile(h, 99.0) / 1e3,
	       (double)ra_hdr_max(h) / 1e3);
	if (base && ra_hdr_total_count(base))
		printf(" (p50 %.1fx the spawn baseline)", p50 /
		       (double)ra_hdr_value_at_percentile(base, 50.0));
	printf("\n");
}

/* Kill sent -> the replacement running, against spawn -> init. */
static void print_restart_latency(void)
{
	ra_hdr_t *restart = merged(restart_ns), *probe = merged(probe_ns);

	if (restart && probe) {
		print_latency("spawn -> init (baseline)", probe, NULL);
		print_latency("worker restart (kill sent -> new worker's init)",
			      restart, probe);
	}
	ra_hdr_destroy(restart);
	ra_hdr_destroy(probe);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Per-second throughput over the `n` (>= 1) whole seconds the tree ran,
 * and the worst second against the median.
 */
static void summary(unsigned n)
{
	uint64_t v[MAX_SECONDS], total = 0;

	for (unsigned i = 0; i < n; i++) {
		v[i] = atomic_load(&per_second[i]);
		total += v[i];
	}
	qsort(v, n, sizeof(v[0]), cmp_u64);
	printf("\nsummary: %llu jobs in %u s; %u workers killed, %u restarts, "
	       "%u escalations\n", (unsigned long long)total, n,
	       atomic_load(&kills), atomic_load(&restarts),
	       atomic_load(&escalations));
	printf("summary: jobs/s median %llu, worst second %llu (%.0f%% of "
	       "the median kept up)\n", (unsigned long long)v[n / 2],
	       (unsigned long long)v[0],
	       v[n / 2] ? 100.0 * (double)v[0] / (double)v[n / 2] : 0.0);
	print_restart_latency();
}

int main(int argc, char **argv)
{
	ra_sup_spec_t top = {
		.strategy = RA_ONE_FOR_ONE, .intensity = 5, .period_ms = 10000,
		.children = top_children, .nchildren = 4,
		.on_event = on_event, .event_ctx = "top",
	};
	ra_runtime_t *rt;
	ra_config_t cfg;
	sigset_t stop;
	unsigned ran;
	ra_ref_t sup;
	int r, sig;

	r = parse(argc, argv);
	if (r != 0) {
		fprintf(r > 0 ? stdout : stderr, "usage: supervision_tree "
			"[--seconds N (6)] [--shards N (2)] [--workers N (8)]\n"
			"                        [--kill-every-ms N (200)] "
			"[--storm-at S (3; 0: none)] [--seed N (1)]\n");
		return r > 0 ? 0 : 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < opt.shards; i++)
		if (ra_hdr_create(1, 60000000000LL, 3, &restart_ns[i]) < 0 ||
		    ra_hdr_create(1, 60000000000LL, 3, &probe_ns[i]) < 0) {
			fprintf(stderr, "supervision_tree: out of memory\n");
			return 1;
		}
	build_pool();
	/*
	 * The run ends at --seconds (SIGALRM) or at SIGINT/SIGTERM, whichever
	 * comes first; blocked before any thread starts, so that only
	 * ra_runtime_run_until_signal() takes them.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGALRM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	ra_config_init(&cfg);
	cfg.shards = opt.shards;
	r = ra_runtime_create(&cfg, &rt);
	if (r < 0) {
		fprintf(stderr, "supervision_tree: %s\n%s\n", ra_strerror(r),
			ra_last_error());
		return 1;
	}
	t0 = ra_now_ns();
	alarm(opt.seconds);
	r = ra_runtime_sup_start(rt, &top, NULL, &sup);
	if (r < 0) {
		fprintf(stderr, "supervision_tree: cannot start: %s\n",
			ra_strerror(r));
		ra_runtime_destroy(rt);
		return 1;
	}
	sig = ra_runtime_run_until_signal(rt, &stop);
	ran = (unsigned)((ra_now_ns() - t0) / (1000 * MS));
	printf("[%6.3fs] main: %s, stopping the tree\n",
	       (double)(ra_now_ns() - t0) / 1e9,
	       sig == SIGALRM ? "time is up" :
	       sig > 0 ? strsignal(sig) : "no actor left");
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, "main: done");
	r = ra_runtime_wait_idle(rt, 10000 * MS);
	summary(ran < 1 ? 1 : ran > opt.seconds ? opt.seconds : ran);
	ra_runtime_destroy(rt);
	for (unsigned i = 0; i < opt.shards; i++) {
		ra_hdr_destroy(restart_ns[i]);
		ra_hdr_destroy(probe_ns[i]);
	}
	if (r < 0)
		fprintf(stderr, "supervision_tree: the tree did not stop: %s\n",
			ra_strerror(r));
	return r < 0;
}
