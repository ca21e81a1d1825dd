/*
 * bench.h: the harness every ringactor benchmark shares.
 *
 * A benchmark runs its workload in batches: a few warm-up batches, then
 * `batches` timed ones of `ops` operations each. It reports the median,
 * p10 and p90 of the batch wall times, the per-operation latency
 * percentiles from an HDR histogram, the CPU time (user + sys of the whole
 * process) per batch, and the ratio to a raw "floor" measured in the same
 * run (the cost of the same work done with nothing but liburing and libc).
 *
 * Benchmarks include only this header and ringactor.h (docs/architecture.md: bench/
 * uses the public API only). All times are in ns unless a name says
 * otherwise; all functions that return int give 0 or a negated errno.
 */
#ifndef RA_BENCH_BENCH_H
#define RA_BENCH_BENCH_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ringactor.h"

/* The range and precision of every per-operation histogram: 1 ns .. 60 s. */
#define BENCH_HDR_LOWEST	1
#define BENCH_HDR_HIGHEST	60000000000LL
#define BENCH_HDR_SIGFIGS	3

/* Defaults a benchmark gets unless it or the command line says otherwise. */
#define BENCH_DEFAULT_WARMUP	10
#define BENCH_DEFAULT_BATCHES	50
#define BENCH_MIN_BATCHES	30	/* fewer is reported as a smoke run */
#define BENCH_QUICK_WARMUP	2
#define BENCH_QUICK_BATCHES	5
#define BENCH_DEFAULT_ROUNDS	5	/* floor and measured runs alternate */
#define BENCH_IDLE_SETTLE_NS	100000000ull	/* 100 ms past the poll */
#define BENCH_IDLE_WINDOW_S	1.0
#define BENCH_QUICK_IDLE_WINDOW_S 0.2

/* A target a benchmark is held to: measured / floor below this passes. */
#define BENCH_TARGET_RATIO	1.3
#define BENCH_TARGET_IDLE_PCT	2.0

/*
 * CLOCK_MONOTONIC now, in ns: the clock ra_now_ns() reads, for code that
 * must not depend on the library (the floors). Any thread.
 */
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Tell the CPU we are spinning (kinder to a hyperthread sibling). */
static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* ------------------------------------------------------------------ */
/* CPU time                                                            */
/* ------------------------------------------------------------------ */

/*
 * CPU used by the whole process (getrusage RUSAGE_SELF, every thread), as
 * a snapshot or as the difference of two. Context switch counts help tell
 * a polling run (involuntary) from a sleeping one (voluntary).
 *
 * getrusage() sums the CPU time the scheduler has booked, and it books a
 * thread running on another CPU only at its next tick or switch, up to
 * 1/HZ (4 ms at HZ=250) late: more than a whole batch. So bench_cpu_now()
 * first reads every live thread's CPU clock, which books it up to now,
 * and the snapshot is exact to within its own duration (tens of us).
 */
struct bench_cpu {
	double user_s;		/* user CPU seconds */
	double sys_s;		/* system CPU seconds */
	long nvcsw;		/* voluntary context switches */
	long nivcsw;		/* involuntary context switches */
};

/* Snapshot the process's CPU use into `*c`. Any thread. */
void bench_cpu_now(struct bench_cpu *c);

/* `*out` = `*end` - `*start` (out may alias either). */
void bench_cpu_sub(const struct bench_cpu *end, const struct bench_cpu *start,
		   struct bench_cpu *out);

/* `*acc` += `*d`, to sum the differences of several intervals. */
void bench_cpu_add(struct bench_cpu *acc, const struct bench_cpu *d);

/* user + sys seconds. */
static inline double bench_cpu_total_s(const struct bench_cpu *c)
{
	return c->user_s + c->sys_s;
}

/*
 * Sleep in the calling thread for `window_s` seconds of wall time and
 * return the CPU the whole process used meanwhile, as a percentage of one
 * CPU; `*used` (may be NULL) receives the CPU difference. Use it to show
 * what an idle runtime costs: every other thread keeps running.
 */
double bench_idle_cpu_pct(double window_s, struct bench_cpu *used);

/* Sleep `ns` nanoseconds, resuming after signals. */
void bench_sleep_ns(uint64_t ns);

/* ------------------------------------------------------------------ */
/* Statistics over batch times                                          */
/* ------------------------------------------------------------------ */

struct bench_stats {
	size_t n;		/* number of values */
	double median;
	double p10;
	double p90;
	double min;
	double max;
	double mean;
};

/*
 * The `q` quantile (0..1) of `n` ascending values, interpolating linearly
 * between the two nearest ranks (so the median of an even count is the
 * mean of the middle two). 0 when n is 0.
 */
double bench_quantile_sorted(const double *sorted, size_t n, double q);

/*
 * Fill `*out` with the statistics of `n` values at `v`. `v` is not
 * changed (a sorted copy is made). Errors: -EINVAL (n 0, NULL), -ENOMEM.
 */
int bench_stats_compute(const double *v, size_t n, struct bench_stats *out);

/* ------------------------------------------------------------------ */
/* Per-operation latency (HDR histograms)                               */
/* ------------------------------------------------------------------ */

struct bench_pct {
	int64_t count;		/* recorded values */
	int64_t p50;
	int64_t p99;
	int64_t p999;
	int64_t max;
	double mean;
};

/* A histogram with the BENCH_HDR_* range; free with ra_hdr_destroy(). */
int bench_hdr_create(ra_hdr_t **out);

/* Read the percentiles above from `h` (all 0 when it is empty). */
void bench_pct_from_hdr(const ra_hdr_t *h, struct bench_pct *out);

/*
 * Print one line: `label`, count, min, p50, p90, p99, p99.9, p99.99, max
 * and mean in us, plus the out-of-range count when there is one.
 */
void bench_hdr_summary(FILE *f, const char *label, const ra_hdr_t *h);

/*
 * Write `h` as an HdrHistogram .hgrm percentile distribution (values in
 * us, 5 ticks per half) to the file at `path`, replacing it.
 * Errors: -errno from fopen/fclose, or ra_hdr_write_percentiles()'s.
 */
int bench_write_hgrm(const char *path, const ra_hdr_t *h);

/* ------------------------------------------------------------------ */
/* Machine and options                                                  */
/* ------------------------------------------------------------------ */

struct bench_machine {
	long nproc;		/* online CPUs */
	long nallowed;		/* CPUs this process may run on */
	char kernel[65];	/* uname release */
	char arch[65];		/* uname machine */
};

void bench_machine_get(struct bench_machine *m);

/*
 * Options common to all benchmarks. bench_opts_init() sets the defaults;
 * bench_opts_parse() reads the command line:
 *   --batches N   timed batches (default 50)
 *   --warmup N    warm-up batches per round (default 10)
 *   --rounds N    alternate floor and measured runs N times, splitting
 *                 the batches between them (default 5), so that a slow
 *                 or fast spell of the machine weighs on both alike
 *   --ops N       operations per batch (the benchmark's default)
 *   --quick       smoke run: 5 batches, 2 warm-up, 1 round, short idle
 *   --shards N    shards (the benchmark's default)
 *   --no-pin      do not pin threads/shards to CPUs
 *   --idle-poll NS  shard idle poll before sleeping (library default)
 *   --no-msg-timing  set ra_config_t.timing_sample = 0
 *   --pass-runs N, --pass-ns NS  ra_config_t.pass_runs, pass_ns
 *   --taskrun MODE  coop (default), ipi, defer: RA_CFG_TASKRUN_*
 *   --no-floor    skip the raw floor run
 *   --no-idle     skip the idle CPU measurement
 *   --json FILE   append results to FILE (a JSON array)
 *   --hgrm FILE   write the per-op histogram as .hgrm to FILE
 *   --hgrm-dir DIR  write DIR/<row name>.hgrm for each row (and
 *                 DIR/<row name>.floor.hgrm for its floor); see
 *                 bench_hgrm_path()
 *   --only NAME   in a program with several benchmarks, run only the one
 *                 whose name is NAME (see bench_selected())
 *   -h, --help
 */
struct bench_opts {
	const char *name;	/* benchmark name, e.g. "ping_pong" */
	int warmup;		/* warm-up batches, per round */
	int batches;		/* timed batches, over all rounds */
	int rounds;		/* floor/measured alternations */
	int ops;		/* operations per batch */
	unsigned shards;	/* shards (and floor threads) */
	bool quick;		/* --quick given */
	bool pin;		/* pin shard i / floor thread i to a CPU */
	bool msg_timing;	/* leave the runtime's per-message HDRs on */
	bool floor;		/* run the floor */
	bool idle;		/* measure idle CPU */
	uint64_t idle_poll_ns;	/* ra_config_t.idle_poll_ns */
	unsigned pass_runs;	/* ra_config_t.pass_runs */
	uint64_t pass_ns;	/* ra_config_t.pass_ns */
	const char *taskrun;	/* "coop", "ipi", "defer": RA_CFG_TASKRUN_* */
	double idle_window_s;	/* wall time of the idle CPU measurement */
	const char *json_path;	/* NULL: no JSON */
	const char *hgrm_path;	/* NULL: no .hgrm */
	const char *hgrm_dir;	/* NULL: no per-row .hgrm files */
	const char *only;	/* NULL: every benchmark of the program */
};

/* Whether the benchmark `name` should run under --only. */
bool bench_selected(const struct bench_opts *o, const char *name);

/*
 * The .hgrm path for row `name` under --hgrm-dir ("DIR/name.hgrm", or
 * "DIR/name.floor.hgrm" when `floor`), written into buf; NULL when no
 * --hgrm-dir was given or the path does not fit.
 */
const char *bench_hgrm_path(const struct bench_opts *o, const char *name,
			    bool floor, char *buf, size_t size);

void bench_opts_init(struct bench_opts *o, const char *name, int ops,
		     unsigned shards);

/*
 * Parse argv into `*o`. Returns 0 to run, 1 when help was printed (exit
 * 0), or -EINVAL after printing a usage error to stderr.
 */
int bench_opts_parse(struct bench_opts *o, int argc, char **argv);

/*
 * A runtime config from the options: shards, RA_CFG_PIN_CPUS when
 * o->pin, the idle poll and timing_sample.
 */
void bench_opts_config(const struct bench_opts *o, ra_config_t *cfg);

/*
 * ra_runtime_create() from `cfg`, reporting a failure on stderr as
 * "<prog>: ra_runtime_create: <error>: <ra_last_error()>". Returns its
 * result (test it with bench_io_uring_missing() to skip).
 */
int bench_runtime_create(const char *prog, const ra_config_t *cfg,
			 ra_runtime_t **rt);

/*
 * Whether argv names the long option `name`, as getopt_long() would take
 * it ("--name", "--name=value" or a prefix), to tell a default from a
 * value given.
 */
bool bench_opt_given(int argc, char **argv, const char *name);

/*
 * The first line of every benchmark's output: machine, config and
 * parameters. `extra` (may be NULL) is appended, e.g. the floor's set-up.
 */
void bench_print_header(FILE *f, const struct bench_opts *o,
			const struct bench_machine *m, const char *extra);

/*
 * Up to `want` CPUs for pinning thread i to cpus[i]: CPU i when this
 * process may run on it, otherwise the next allowed one. Returns how many
 * distinct CPUs were found (less than `want` on a small machine; the rest
 * of cpus[] repeats them round robin).
 */
int bench_pick_cpus(int want, int *cpus);

/* Pin the calling thread to `cpu`. Returns 0 or -errno. */
int bench_pin_self(int cpu);

/* ------------------------------------------------------------------ */
/* Batch loop                                                           */
/* ------------------------------------------------------------------ */

/*
 * Run batch `index` (0-based over warm-up and timed batches; `timed` is
 * false during warm-up). Store the batch's wall time in ns in `*batch_ns`
 * when the workload measured it itself (best: inside the threads doing the
 * work); leave it negative and the loop times the call. Return 0 or a
 * negative errno to stop the run.
 */
typedef int (*bench_batch_fn)(void *arg, int index, bool timed,
			      double *batch_ns);

/* The timed part of a run. */
struct bench_series {
	int n;			/* timed batches done */
	double *batch_ns;	/* [n] wall time of each, ns */
	struct bench_cpu cpu;	/* CPU of the process over the timed part */
	double wall_ns;		/* wall time of the timed part */
};

/* Allocate room for `n` batches. Errors: -EINVAL, -ENOMEM. */
int bench_series_init(struct bench_series *s, int n);
void bench_series_fini(struct bench_series *s);

/*
 * Call `fn` for `warmup` then `batches` batches, snapshotting the process
 * CPU just before the first timed batch and just after the last. The
 * batch times are appended to `s` (from bench_series_init(), with room
 * for them), the CPU and wall time added to s->cpu and s->wall_ns, so a
 * run split in rounds calls this once per round. `index` counts from 0
 * within the call. Returns 0 or fn's error (s->n says how far it got).
 */
int bench_run_batches(int warmup, int batches, bench_batch_fn fn, void *arg,
		      struct bench_series *s);

/* Timed batches of round `round` (0-based) when o->batches are split. */
int bench_round_batches(const struct bench_opts *o, int round);

/* ------------------------------------------------------------------ */
/* Main and the actors: eventfd hand-off, io_uring skip                 */
/* ------------------------------------------------------------------ */

/*
 * Whether `err` from ra_runtime_create() or a floor's ring set-up means
 * io_uring is unavailable here (old kernel, seccomp, sysctl): the
 * benchmark is skipped, not failed.
 */
static inline bool bench_io_uring_missing(int err)
{
	return err == -ENOSYS || err == -EPERM;
}

/*
 * Print "# SKIP: io_uring unavailable (<strerror>)" and return 77, the
 * exit status automake's test driver reads as a skip.
 */
int bench_skip_io_uring(int err);

/*
 * Wake main: add 1 to the eventfd `efd`. An 8-byte eventfd write cannot
 * be short, so a failure is a broken fd and aborts. Any thread.
 */
void bench_efd_signal(int efd);

/*
 * Sleep until `efd` is signalled and consume it. With `timeout_ms` >= 0
 * the wait is bounded so that a hung actor fails the run (-ETIMEDOUT)
 * instead of hanging it. Returns 0 or -errno.
 */
int bench_efd_wait(int efd, int timeout_ms);

/*
 * The usual batch hand-off: the actor that ends a batch stores its wall
 * time with release and signals; main waits and loads it with acquire,
 * so every write of the batch is seen. bench_batch_wait() returns
 * bench_efd_wait()'s result; `*batch_ns` is set only on success.
 */
void bench_batch_signal(int efd, _Atomic uint64_t *shared_ns, uint64_t ns);
int bench_batch_wait(int efd, int timeout_ms, _Atomic uint64_t *shared_ns,
		     double *batch_ns);

/* ------------------------------------------------------------------ */
/* Results                                                              */
/* ------------------------------------------------------------------ */

#define BENCH_MAX_EXTRA 8

/* One row of a benchmark's output and one object in the JSON file. */
struct bench_result {
	const char *name;	/* e.g. "ping_pong" or "ping_pong.floor" */
	unsigned shards;
	int batches;		/* timed batches */
	int ops;		/* operations per batch */
	struct bench_stats batch; /* batch wall time, ns */
	struct bench_pct op;	/* per-operation latency, ns */
	double cpu_per_batch_s;	/* process CPU (user + sys) per batch */
	bool has_floor;		/* the floor fields below are set */
	double floor_median_ns;	/* the floor's batch median */
	double floor_op_p50_ns;	/* the floor's per-op p50 */
	double ratio;		/* batch.median / floor_median_ns */
	double ratio_op_p50;	/* op.p50 / floor_op_p50_ns */
	int nextra;
	struct {
		const char *key;	/* borrowed; a JSON-safe name */
		double value;
	} extra[BENCH_MAX_EXTRA]; /* further figures, e.g. idle CPU % */
};

/* Zero `*r` and take the name, shards and batch size from `o`. */
void bench_result_init(struct bench_result *r, const char *name,
		       const struct bench_opts *o);

/*
 * Set the batch statistics and CPU per batch from a series, and the
 * per-op percentiles from `per_op` (may be NULL). Errors as
 * bench_stats_compute().
 */
int bench_result_fill(struct bench_result *r, const struct bench_series *s,
		      const ra_hdr_t *per_op);

/* Compare `r` with the floor result `floor`: sets the floor and ratios. */
void bench_result_set_floor(struct bench_result *r,
			    const struct bench_result *floor);

/* Add a named figure. Errors: -ENOSPC when BENCH_MAX_EXTRA are set. */
int bench_result_add(struct bench_result *r, const char *key, double value);

/* The column heads for bench_print_row(), two lines. */
void bench_print_row_header(FILE *f);

/*
 * One line: name, batch median/p10/p90 (us), per-op p50/p99/p99.9 (us),
 * CPU ms per batch, floor median (us) and ratio ("-" without a floor).
 */
void bench_print_row(FILE *f, const struct bench_result *r);

/*
 * Append `r` as one object to the JSON array in the file at `path`,
 * creating the file (as "[ ... ]") when it is missing or empty. Fields:
 * name, unix time, unit "ns", shards, nproc, kernel, arch, batches, ops,
 * batch_median/p10/p90/min/max, op_count/p50/p99/p999/max/mean,
 * cpu_s_per_batch, floor_median, floor_op_p50, ratio, ratio_op_p50 (null
 * without a floor) and the extra figures. Errors: -errno from the file,
 * -EINVAL when the file holds something other than a JSON array.
 */
int bench_json_append(const char *path, const struct bench_result *r,
		      const struct bench_machine *m);

/* bench_print_row() under a short label; the JSON keeps r->name. */
void bench_print_row_as(FILE *f, const char *label,
			const struct bench_result *r);

/*
 * bench_json_append() to o->json_path when --json was given (else 0),
 * reporting a failure on stderr as "<prog>: <path>: <error>".
 */
int bench_json_emit(const char *prog, const struct bench_opts *o,
		    const struct bench_machine *m,
		    const struct bench_result *r);

/*
 * bench_write_hgrm() to `path` when it is not NULL (else 0), reporting a
 * failure on stderr as "<prog>: <path>: <error>".
 */
int bench_hgrm_emit(const char *prog, const char *path, const ra_hdr_t *h);

/* bench_hgrm_emit() to bench_hgrm_path()'s file, when --hgrm-dir given. */
int bench_hgrm_emit_row(const char *prog, const struct bench_opts *o,
			const char *name, bool floor, const ra_hdr_t *h);

/* ------------------------------------------------------------------ */
/* Work stealing: knobs from the command line, counters                 */
/* ------------------------------------------------------------------ */

/* ra_config_t's steal knobs; -1 = not given (library default). */
struct bench_steal_knobs {
	long long budget, probe, batch, margin, backoff_min, backoff_max;
};

/* Set every knob to -1. */
void bench_steal_knobs_init(struct bench_steal_knobs *k);

/*
 * For a program's own argv filter (the harness refuses options it does
 * not know): when argv[*i] is --steal-budget, --steal-probe,
 * --steal-batch, --steal-margin, --steal-backoff-min or
 * --steal-backoff-max, take it and its value (advancing *i) and return
 * 1; return 0 for any other option, or -EINVAL when the value is missing,
 * not a number or negative (argv[*i] is then the option or its value).
 */
int bench_steal_knob_take(struct bench_steal_knobs *k, int argc,
			  char **argv, int *i);

/* Copy the knobs that were given into `cfg`. */
void bench_steal_knobs_apply(const struct bench_steal_knobs *k,
			     ra_config_t *cfg);

/* The steal counters of ra_stats_t, summed over differences. */
struct bench_steal_count {
	uint64_t attempts, successes, migrated;
	uint64_t below_margin, in_flight, not_quiescent, pinned;
	uint64_t dead_letters;
	uint64_t sleeps;	/* shards that slept in the kernel */
};

/* `*c` += `*end` - `*start` for every counter above. */
void bench_steal_count_add(struct bench_steal_count *c,
			   const ra_stats_t *end, const ra_stats_t *start);

/*
 * End a run's count begun with ra_stats_snapshot(rt, s0): when `ret` is
 * 0, add the difference from `*s0` to now into `*c`; always release
 * `*s0`. Returns `ret`, or the snapshot's error when ret was 0.
 */
int bench_steal_count_end(struct bench_steal_count *c, ra_runtime_t *rt,
			  ra_stats_t *s0, int ret);

/* ------------------------------------------------------------------ */
/* Floors: the same work with liburing and libc only                    */
/* ------------------------------------------------------------------ */

/*
 * IORING_OP_MSG_RING ping-pong between two threads, each with its own
 * ring created in that thread (IORING_SETUP_SINGLE_ISSUER when the kernel
 * takes it; no SQPOLL, no DEFER_TASKRUN). The pinger sends one msg_ring to
 * the ponger's ring and busy-polls its own CQ with io_uring_peek_cqe()
 * until the answer arrives; the ponger does the same the other way. No
 * thread ever sleeps. The sender's own completion is skipped with
 * IOSQE_CQE_SKIP_SUCCESS when the kernel has IORING_FEAT_CQE_SKIP, else
 * reaped and checked.
 */
struct floor_msgring {
	/* in */
	int warmup;		/* warm-up batches, per round */
	int batches;		/* timed batches, over all rounds */
	int rounds;		/* floor/measured alternations */
	int rts;		/* round trips per batch */
	bool pin;		/* pin the threads to cpu[0], cpu[1] */
	int cpu[2];		/* from bench_pick_cpus() */
	bool no_skip;		/* reap own CQEs even when skipping works */
	/* out */
	bool single_issuer;	/* rings made with SINGLE_ISSUER */
	bool skip_cqe;		/* own CQEs skipped */
	bool pinned;		/* both threads pinned as asked */
	bool shared_cpu;	/* both on one CPU: pollers yield */
};

/*
 * Run the floor. `batch_ns_out` receives f->batches wall times (first send
 * to last answer, timed in the pinger thread); `per_rt` (may be NULL) gets
 * each timed round trip; `*cpu` the process CPU over the timed batches.
 * Returns 0, or -errno (io_uring set-up, msg_ring failure, threads).
 */
int floor_msgring_run(struct floor_msgring *f, double *batch_ns_out,
		      ra_hdr_t *per_rt, struct bench_cpu *cpu);

#endif /* RA_BENCH_BENCH_H */
