/*
 * bench.c: the shared benchmark harness (see bench.h for the contracts).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------ */
/* CPU time                                                            */
/* ------------------------------------------------------------------ */

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/*
 * The CPU clock of thread `tid` of this process. The encoding is the
 * kernel's stable ABI for per-thread CPU clocks (MAKE_THREAD_CPUCLOCK in
 * include/linux/posix-timers_types.h, which glibc's pthread_getcpuclockid
 * also uses): ~tid << 3, CPUCLOCK_PERTHREAD_MASK (4), CPUCLOCK_SCHED (2).
 */
static clockid_t thread_cpu_clock(pid_t tid)
{
	return (clockid_t)(~(unsigned int)tid << 3) | 4 | 2;
}

/*
 * Book the CPU time every live thread has run since the scheduler last
 * booked it. getrusage() sums what is booked, and a thread running on
 * another CPU is booked only at its next tick or switch: up to 1/HZ (4 ms
 * at HZ=250) late, more than a whole batch here. Reading a thread's CPU
 * clock runs task_sched_runtime(), which books a running thread up to
 * now, so a getrusage() right after is exact to within the time this
 * loop takes (tens of us, alike at both ends of an interval).
 */
static void book_threads(void)
{
	struct dirent *de;
	struct timespec ts;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);

		/* Fails harmlessly for a thread that has just exited. */
		if (tid > 0)
			clock_gettime(thread_cpu_clock(tid), &ts);
	}
	closedir(d);
}

void bench_cpu_now(struct bench_cpu *c)
{
	struct rusage ru;

	memset(c, 0, sizeof(*c));
	book_threads();
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	c->user_s = tv_s(&ru.ru_utime);
	c->sys_s = tv_s(&ru.ru_stime);
	c->nvcsw = ru.ru_nvcsw;
	c->nivcsw = ru.ru_nivcsw;
}

void bench_cpu_sub(const struct bench_cpu *end, const struct bench_cpu *start,
		   struct bench_cpu *out)
{
	struct bench_cpu d;

	d.user_s = end->user_s - start->user_s;
	d.sys_s = end->sys_s - start->sys_s;
	d.nvcsw = end->nvcsw - start->nvcsw;
	d.nivcsw = end->nivcsw - start->nivcsw;
	*out = d;
}

void bench_cpu_add(struct bench_cpu *acc, const struct bench_cpu *d)
{
	acc->user_s += d->user_s;
	acc->sys_s += d->sys_s;
	acc->nvcsw += d->nvcsw;
	acc->nivcsw += d->nivcsw;
}

void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double bench_idle_cpu_pct(double window_s, struct bench_cpu *used)
{
	struct bench_cpu c0, c1;
	uint64_t t0, t1;

	if (window_s <= 0)
		window_s = BENCH_IDLE_WINDOW_S;
	bench_cpu_now(&c0);
	t0 = bench_now_ns();
	bench_sleep_ns((uint64_t)(window_s * 1e9));
	t1 = bench_now_ns();
	bench_cpu_now(&c1);
	bench_cpu_sub(&c1, &c0, &c1);
	if (used)
		*used = c1;
	return 100.0 * bench_cpu_total_s(&c1) / ((double)(t1 - t0) / 1e9);
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_quantile_sorted(const double *sorted, size_t n, double q)
{
	double pos, frac;
	size_t lo;

	if (n == 0)
		return 0;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	pos = q * (double)(n - 1);
	lo = (size_t)pos;
	frac = pos - (double)lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int bench_stats_compute(const double *v, size_t n, struct bench_stats *out)
{
	double *s, sum = 0;
	size_t i;

	if (!v || !out || n == 0)
		return -EINVAL;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	for (i = 0; i < n; i++)
		sum += s[i];
	out->n = n;
	out->median = bench_quantile_sorted(s, n, 0.5);
	out->p10 = bench_quantile_sorted(s, n, 0.1);
	out->p90 = bench_quantile_sorted(s, n, 0.9);
	out->min = s[0];
	out->max = s[n - 1];
	out->mean = sum / (double)n;
	free(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* HDR                                                                 */
/* ------------------------------------------------------------------ */

int bench_hdr_create(ra_hdr_t **out)
{
	return ra_hdr_create(BENCH_HDR_LOWEST, BENCH_HDR_HIGHEST,
			     BENCH_HDR_SIGFIGS, out);
}

void bench_pct_from_hdr(const ra_hdr_t *h, struct bench_pct *out)
{
	memset(out, 0, sizeof(*out));
	if (!h || ra_hdr_total_count(h) == 0)
		return;
	out->count = ra_hdr_total_count(h);
	out->p50 = ra_hdr_value_at_percentile(h, 50.0);
	out->p99 = ra_hdr_value_at_percentile(h, 99.0);
	out->p999 = ra_hdr_value_at_percentile(h, 99.9);
	out->max = ra_hdr_max(h);
	out->mean = ra_hdr_mean(h);
}

static double us(double ns)
{
	return ns / 1000.0;
}

void bench_hdr_summary(FILE *f, const char *label, const ra_hdr_t *h)
{
	int64_t oor;

	if (!h || ra_hdr_total_count(h) == 0) {
		fprintf(f, "%-22s (no values)\n", label);
		return;
	}
	fprintf(f, "%-22s n=%" PRId64 " us: min %.3f p50 %.3f p90 %.3f "
		"p99 %.3f p99.9 %.3f p99.99 %.3f max %.3f mean %.3f",
		label, ra_hdr_total_count(h), us((double)ra_hdr_min(h)),
		us((double)ra_hdr_value_at_percentile(h, 50.0)),
		us((double)ra_hdr_value_at_percentile(h, 90.0)),
		us((double)ra_hdr_value_at_percentile(h, 99.0)),
		us((double)ra_hdr_value_at_percentile(h, 99.9)),
		us((double)ra_hdr_value_at_percentile(h, 99.99)),
		us((double)ra_hdr_max(h)), us(ra_hdr_mean(h)));
	oor = ra_hdr_out_of_range(h);
	if (oor)
		fprintf(f, " OUT-OF-RANGE %" PRId64, oor);
	fputc('\n', f);
}

int bench_write_hgrm(const char *path, const ra_hdr_t *h)
{
	FILE *f;
	int ret;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = ra_hdr_write_percentiles(h, f, 5, 1000.0);
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Machine, CPUs and options                                           */
/* ------------------------------------------------------------------ */

void bench_machine_get(struct bench_machine *m)
{
	struct utsname u;
	cpu_set_t set;

	memset(m, 0, sizeof(*m));
	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	m->nallowed = m->nproc;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		m->nallowed = CPU_COUNT(&set);
	if (uname(&u) == 0) {
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
		snprintf(m->arch, sizeof(m->arch), "%s", u.machine);
	} else {
		snprintf(m->kernel, sizeof(m->kernel), "unknown");
		snprintf(m->arch, sizeof(m->arch), "unknown");
	}
}

int bench_pick_cpus(int want, int *cpus)
{
	cpu_set_t set;
	int allowed[CPU_SETSIZE];
	int nallowed = 0, found = 0, i, c;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		for (i = 0; i < want; i++)
			cpus[i] = i;
		return want;
	}
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			allowed[nallowed++] = c;
	if (nallowed == 0) {
		for (i = 0; i < want; i++)
			cpus[i] = i;
		return want;
	}
	/* CPU i when allowed, else the lowest allowed CPU not yet taken. */
	for (i = 0; i < want && found < nallowed; i++) {
		int pick = -1, j, k;

		if (i < CPU_SETSIZE && CPU_ISSET(i, &set))
			pick = i;
		for (j = 0; pick >= 0 && j < i; j++)
			if (cpus[j] == pick)
				pick = -1;
		for (k = 0; pick < 0 && k < nallowed; k++) {
			pick = allowed[k];
			for (j = 0; j < i; j++)
				if (cpus[j] == pick)
					pick = -1;
		}
		cpus[i] = pick;
		found++;
	}
	for (; i < want; i++)
		cpus[i] = cpus[i % found];
	return found;
}

int bench_pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void bench_opts_init(struct bench_opts *o, const char *name, int ops,
		     unsigned shards)
{
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->warmup = BENCH_DEFAULT_WARMUP;
	o->batches = BENCH_DEFAULT_BATCHES;
	o->rounds = BENCH_DEFAULT_ROUNDS;
	o->ops = ops;
	o->shards = shards;
	o->pin = true;
	o->msg_timing = true;
	o->floor = true;
	o->idle = true;
	o->idle_poll_ns = RA_DEFAULT_IDLE_POLL_NS;
	o->taskrun = "coop";
	o->pass_runs = RA_DEFAULT_PASS_RUNS;
	o->pass_ns = RA_DEFAULT_PASS_NS;
	o->idle_window_s = BENCH_IDLE_WINDOW_S;
}

static void usage(FILE *f, const struct bench_opts *o)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  --batches N      timed batches (default %d)\n"
		"  --warmup N       warm-up batches per round (default %d)\n"
		"  --rounds N       alternate floor and measured runs N "
		"times (default %d)\n"
		"  --ops N          operations per batch (default %d)\n"
		"  --quick          smoke run: %d batches, %d warm-up, "
		"1 round\n"
		"  --shards N       shards (default %u)\n"
		"  --no-pin         do not pin shards/threads to CPUs\n"
		"  --idle-poll NS   shard idle poll before sleeping "
		"(default %" PRIu64 ")\n"
		"  --no-msg-timing  runtime without per-message HDRs\n"
		"  --taskrun MODE   shard rings run task work: coop "
		"(default), ipi or defer\n"
		"  --pass-runs N    actor runs per shard loop pass "
		"(default %u)\n"
		"  --pass-ns NS     ns of work per shard loop pass "
		"(default %u)\n"
		"  --no-floor       skip the raw floor\n"
		"  --no-idle        skip the idle CPU measurement\n"
		"  --json FILE      append results to FILE (JSON array)\n"
		"  --hgrm FILE      write the per-op histogram (.hgrm, us)\n"
		"  --hgrm-dir DIR   write DIR/<row>.hgrm (+ .floor.hgrm) per row\n"
		"  --only NAME      run only the benchmark NAME\n",
		o->name, BENCH_DEFAULT_BATCHES, BENCH_DEFAULT_WARMUP,
		BENCH_DEFAULT_ROUNDS, o->ops,
		BENCH_QUICK_BATCHES, BENCH_QUICK_WARMUP, o->shards,
		(uint64_t)RA_DEFAULT_IDLE_POLL_NS, RA_DEFAULT_PASS_RUNS,
		RA_DEFAULT_PASS_NS);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	enum {
		/* In the order of lopts[], which `bad:` relies on. */
		OPT_BATCHES = 256, OPT_WARMUP, OPT_ROUNDS, OPT_OPS, OPT_QUICK,
		OPT_SHARDS, OPT_NO_PIN, OPT_IDLE_POLL, OPT_NO_MSG_TIMING,
		OPT_NO_FLOOR, OPT_NO_IDLE, OPT_JSON, OPT_HGRM, OPT_HGRM_DIR,
		OPT_ONLY, OPT_PASS_RUNS, OPT_PASS_NS, OPT_TASKRUN,
	};
	static const struct option lopts[] = {
		{ "batches", required_argument, NULL, OPT_BATCHES },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ "no-pin", no_argument, NULL, OPT_NO_PIN },
		{ "idle-poll", required_argument, NULL, OPT_IDLE_POLL },
		{ "no-msg-timing", no_argument, NULL, OPT_NO_MSG_TIMING },
		{ "no-floor", no_argument, NULL, OPT_NO_FLOOR },
		{ "no-idle", no_argument, NULL, OPT_NO_IDLE },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "hgrm", required_argument, NULL, OPT_HGRM },
		{ "hgrm-dir", required_argument, NULL, OPT_HGRM_DIR },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "pass-runs", required_argument, NULL, OPT_PASS_RUNS },
		{ "pass-ns", required_argument, NULL, OPT_PASS_NS },
		{ "taskrun", required_argument, NULL, OPT_TASKRUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool batches_set = false, warmup_set = false, rounds_set = false;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case OPT_BATCHES:
			if (parse_long(optarg, 1, 1000000, &v))
				goto bad;
			o->batches = (int)v;
			batches_set = true;
			break;
		case OPT_WARMUP:
			if (parse_long(optarg, 0, 1000000, &v))
				goto bad;
			o->warmup = (int)v;
			warmup_set = true;
			break;
		case OPT_ROUNDS:
			if (parse_long(optarg, 1, 1000000, &v))
				goto bad;
			o->rounds = (int)v;
			rounds_set = true;
			break;
		case OPT_OPS:
			if (parse_long(optarg, 1, INT_MAX, &v))
				goto bad;
			o->ops = (int)v;
			break;
		case OPT_QUICK:
			o->quick = true;
			break;
		case OPT_SHARDS:
			if (parse_long(optarg, 1, 1024, &v))
				goto bad;
			o->shards = (unsigned)v;
			break;
		case OPT_NO_PIN:
			o->pin = false;
			break;
		case OPT_IDLE_POLL:
			if (parse_long(optarg, 0, LONG_MAX, &v))
				goto bad;
			o->idle_poll_ns = (uint64_t)v;
			break;
		case OPT_NO_MSG_TIMING:
			o->msg_timing = false;
			break;
		case OPT_NO_FLOOR:
			o->floor = false;
			break;
		case OPT_NO_IDLE:
			o->idle = false;
			break;
		case OPT_JSON:
			o->json_path = optarg;
			break;
		case OPT_HGRM_DIR:
			o->hgrm_dir = optarg;
			break;
		case OPT_ONLY:
			o->only = optarg;
			break;
		case OPT_HGRM:
			o->hgrm_path = optarg;
			break;
		case OPT_PASS_RUNS:
			if (parse_long(optarg, 1, INT_MAX, &v))
				goto bad;
			o->pass_runs = (unsigned)v;
			break;
		case OPT_PASS_NS:
			if (parse_long(optarg, 1, LONG_MAX, &v))
				goto bad;
			o->pass_ns = (uint64_t)v;
			break;
		case OPT_TASKRUN:
			if (strcmp(optarg, "coop") && strcmp(optarg, "ipi") &&
			    strcmp(optarg, "defer"))
				goto bad;
			o->taskrun = optarg;
			break;
		case 'h':
			usage(stdout, o);
			return 1;
		default:
			usage(stderr, o);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", o->name,
			argv[optind]);
		usage(stderr, o);
		return -EINVAL;
	}
	if (o->quick) {
		if (!batches_set)
			o->batches = BENCH_QUICK_BATCHES;
		if (!warmup_set)
			o->warmup = BENCH_QUICK_WARMUP;
		if (!rounds_set)
			o->rounds = 1;
		o->idle_window_s = BENCH_QUICK_IDLE_WINDOW_S;
	}
	if (o->rounds > o->batches)
		o->rounds = o->batches;
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s' for --%s\n", o->name, optarg,
		lopts[c - OPT_BATCHES].name);
	usage(stderr, o);
	return -EINVAL;
}

void bench_opts_config(const struct bench_opts *o, ra_config_t *cfg)
{
	ra_config_init(cfg);
	cfg->shards = o->shards;
	if (o->pin)
		cfg->flags |= RA_CFG_PIN_CPUS;
	if (!o->msg_timing)
		cfg->timing_sample = 0;
	cfg->idle_poll_ns = o->idle_poll_ns;
	cfg->pass_runs = o->pass_runs;
	cfg->pass_ns = o->pass_ns;
	if (!strcmp(o->taskrun, "ipi"))
		cfg->flags |= RA_CFG_TASKRUN_IPI;
	else if (!strcmp(o->taskrun, "defer"))
		cfg->flags |= RA_CFG_TASKRUN_DEFER;
}

void bench_print_header(FILE *f, const struct bench_opts *o,
			const struct bench_machine *m, const char *extra)
{
	fprintf(f, "# %s: nproc=%ld (allowed %ld) kernel=%s %s | shards=%u "
		"pin=%s idle_poll=%" PRIu64 "ns msg_timing=%s pass=%u runs/%"
		PRIu64 "ns taskrun=%s | ops/batch=%d "
		"warmup=%d batches=%d rounds=%d%s%s%s\n",
		o->name, m->nproc, m->nallowed, m->kernel, m->arch, o->shards,
		o->pin ? "yes" : "no", o->idle_poll_ns,
		o->msg_timing ? "on" : "off", o->pass_runs, o->pass_ns,
		o->taskrun, o->ops,
		o->warmup, o->batches,
		o->rounds,
		o->quick || o->batches < BENCH_MIN_BATCHES ?
		" (smoke run, not a measurement)" : "",
		extra ? " | " : "", extra ? extra : "");
}

/* ------------------------------------------------------------------ */
/* Batch loop                                                          */
/* ------------------------------------------------------------------ */

int bench_series_init(struct bench_series *s, int n)
{
	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return -EINVAL;
	s->batch_ns = calloc((size_t)n, sizeof(*s->batch_ns));
	return s->batch_ns ? 0 : -ENOMEM;
}

void bench_series_fini(struct bench_series *s)
{
	free(s->batch_ns);
	memset(s, 0, sizeof(*s));
}

int bench_run_batches(int warmup, int batches, bench_batch_fn fn, void *arg,
		      struct bench_series *s)
{
	struct bench_cpu c0, c1;
	uint64_t w0 = 0, t0;
	double ns;
	int i, ret = 0;

	memset(&c0, 0, sizeof(c0));
	for (i = 0; i < warmup + batches; i++) {
		bool timed = i >= warmup;

		if (i == warmup) {
			bench_cpu_now(&c0);
			w0 = bench_now_ns();
		}
		ns = -1;
		t0 = bench_now_ns();
		ret = fn(arg, i, timed, &ns);
		if (ns < 0)
			ns = (double)(bench_now_ns() - t0);
		if (ret < 0)
			break;
		if (timed)
			s->batch_ns[s->n++] = ns;
	}
	if (i > warmup) {
		bench_cpu_now(&c1);
		s->wall_ns += (double)(bench_now_ns() - w0);
		bench_cpu_sub(&c1, &c0, &c1);
		bench_cpu_add(&s->cpu, &c1);
	}
	return ret;
}

int bench_round_batches(const struct bench_opts *o, int round)
{
	int rounds = o->rounds > 0 ? o->rounds : 1;

	return o->batches / rounds + (round < o->batches % rounds);
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

void bench_result_init(struct bench_result *r, const char *name,
		       const struct bench_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->shards = o->shards;
	r->ops = o->ops;
	r->batches = o->batches;
}

int bench_result_fill(struct bench_result *r, const struct bench_series *s,
		      const ra_hdr_t *per_op)
{
	int ret;

	ret = bench_stats_compute(s->batch_ns, (size_t)s->n, &r->batch);
	if (ret)
		return ret;
	r->batches = s->n;
	r->cpu_per_batch_s = bench_cpu_total_s(&s->cpu) / s->n;
	bench_pct_from_hdr(per_op, &r->op);
	return 0;
}

void bench_result_set_floor(struct bench_result *r,
			    const struct bench_result *floor)
{
	r->has_floor = true;
	r->floor_median_ns = floor->batch.median;
	r->floor_op_p50_ns = (double)floor->op.p50;
	r->ratio = floor->batch.median > 0 ?
		   r->batch.median / floor->batch.median : 0;
	r->ratio_op_p50 = floor->op.p50 > 0 ?
			  (double)r->op.p50 / (double)floor->op.p50 : 0;
}

int bench_result_add(struct bench_result *r, const char *key, double value)
{
	if (r->nextra >= BENCH_MAX_EXTRA)
		return -ENOSPC;
	r->extra[r->nextra].key = key;
	r->extra[r->nextra].value = value;
	r->nextra++;
	return 0;
}

void bench_print_row_header(FILE *f)
{
	fprintf(f, "%-18s %27s | %26s | %9s | %9s %6s\n", "",
		"batch wall time (us)", "per op (us)", "CPU/batch",
		"floor", "ratio");
	fprintf(f, "%-18s %9s %8s %8s | %8s %8s %8s | %9s | %9s %6s\n",
		"name", "median", "p10", "p90", "p50", "p99", "p99.9",
		"(ms)", "med (us)", "x");
}

void bench_print_row(FILE *f, const struct bench_result *r)
{
	fprintf(f, "%-18s %9.1f %8.1f %8.1f | %8.3f %8.3f %8.3f | %9.3f | ",
		r->name, us(r->batch.median), us(r->batch.p10),
		us(r->batch.p90), us((double)r->op.p50),
		us((double)r->op.p99), us((double)r->op.p999),
		r->cpu_per_batch_s * 1e3);
	if (r->has_floor)
		fprintf(f, "%9.1f %6.2f\n", us(r->floor_median_ns), r->ratio);
	else
		fprintf(f, "%9s %6s\n", "-", "-");
}

/* Write `s` as a JSON string (quotes and escapes). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* A finite number, or null (JSON has no NaN or infinity). */
static void json_num(FILE *f, double v, bool present)
{
	if (present && isfinite(v))
		fprintf(f, "%.10g", v);
	else
		fputs("null", f);
}

static void json_object(FILE *f, const struct bench_result *r,
			const struct bench_machine *m)
{
	bool fl = r->has_floor;
	int i;

	fputs("  {\"name\": ", f);
	json_str(f, r->name);
	fprintf(f, ", \"time\": %lld, \"unit\": \"ns\", \"shards\": %u, "
		"\"nproc\": %ld, \"kernel\": ", (long long)time(NULL),
		r->shards, m->nproc);
	json_str(f, m->kernel);
	fputs(", \"arch\": ", f);
	json_str(f, m->arch);
	fprintf(f, ",\n   \"batches\": %d, \"ops\": %d, \"batch_median\": ",
		r->batches, r->ops);
	json_num(f, r->batch.median, true);
	fputs(", \"batch_p10\": ", f);
	json_num(f, r->batch.p10, true);
	fputs(", \"batch_p90\": ", f);
	json_num(f, r->batch.p90, true);
	fputs(", \"batch_min\": ", f);
	json_num(f, r->batch.min, true);
	fputs(", \"batch_max\": ", f);
	json_num(f, r->batch.max, true);
	fprintf(f, ",\n   \"op_count\": %" PRId64 ", \"op_p50\": %" PRId64
		", \"op_p99\": %" PRId64 ", \"op_p999\": %" PRId64
		", \"op_max\": %" PRId64 ", \"op_mean\": ",
		r->op.count, r->op.p50, r->op.p99, r->op.p999, r->op.max);
	json_num(f, r->op.mean, true);
	fputs(", \"cpu_s_per_batch\": ", f);
	json_num(f, r->cpu_per_batch_s, true);
	fputs(",\n   \"floor_median\": ", f);
	json_num(f, r->floor_median_ns, fl);
	fputs(", \"floor_op_p50\": ", f);
	json_num(f, r->floor_op_p50_ns, fl);
	fputs(", \"ratio\": ", f);
	json_num(f, r->ratio, fl);
	fputs(", \"ratio_op_p50\": ", f);
	json_num(f, r->ratio_op_p50, fl);
	for (i = 0; i < r->nextra; i++) {
		fputs(", ", f);
		json_str(f, r->extra[i].key);
		fputs(": ", f);
		json_num(f, r->extra[i].value, true);
	}
	fputs("}", f);
}

/*
 * Find where to append to the array in `f`: the offset just after its
 * last element (or after '[' when `*empty`), the closing ']' being the
 * last non-blank byte. -1 when the file is blank, -EINVAL when it does
 * not end in ']'.
 */
static long find_array_end(FILE *f, bool *empty)
{
	long end, pos;
	int ch;
	bool seen_close = false;

	if (fseek(f, 0, SEEK_END) != 0)
		return -errno;
	end = ftell(f);
	*empty = true;
	for (pos = end - 1; pos >= 0; pos--) {
		if (fseek(f, pos, SEEK_SET) != 0)
			return -errno;
		ch = fgetc(f);
		if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
			continue;
		if (!seen_close) {
			if (ch != ']')
				return -EINVAL;
			seen_close = true;
			end = pos;
			continue;
		}
		/* Overwrite from just after the last element (or '['). */
		*empty = ch == '[';
		return pos + 1;
	}
	return seen_close ? -EINVAL : -1;
}

int bench_json_append(const char *path, const struct bench_result *r,
		      const struct bench_machine *m)
{
	bool empty = false;
	long end;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r+");
	if (!f && errno == ENOENT)
		f = fopen(path, "w+");
	if (!f)
		return -errno;
	end = find_array_end(f, &empty);
	if (end < -1) {
		fclose(f);
		return (int)end;
	}
	if (end == -1) {
		if (fseek(f, 0, SEEK_SET) != 0 || ftruncate(fileno(f), 0)) {
			ret = -errno;
			fclose(f);
			return ret;
		}
		fputs("[\n", f);
	} else {
		if (fseek(f, end, SEEK_SET) != 0) {
			ret = -errno;
			fclose(f);
			return ret;
		}
		fputs(empty ? "\n" : ",\n", f);
	}
	json_object(f, r, m);
	fputs("\n]\n", f);
	fflush(f);
	/* The new text may be shorter than what it replaced: cut the rest. */
	if (ftruncate(fileno(f), ftell(f)) != 0)
		ret = -errno;
	if (ferror(f) && ret == 0)
		ret = -EIO;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}

bool bench_selected(const struct bench_opts *o, const char *name)
{
	return !o->only || strcmp(o->only, name) == 0;
}

const char *bench_hgrm_path(const struct bench_opts *o, const char *name,
			    bool floor, char *buf, size_t size)
{
	int n;

	if (!o->hgrm_dir)
		return NULL;
	n = snprintf(buf, size, "%s/%s%s.hgrm", o->hgrm_dir, name,
		     floor ? ".floor" : "");
	return n > 0 && (size_t)n < size ? buf : NULL;
}

/* ------------------------------------------------------------------ */
/* Main and the actors                                                 */
/* ------------------------------------------------------------------ */

int bench_skip_io_uring(int err)
{
	printf("# SKIP: io_uring unavailable (%s)\n", strerror(-err));
	return 77;
}

void bench_efd_signal(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

int bench_efd_wait(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	ssize_t n;
	int ret;

	if (timeout_ms >= 0) {
		do
			ret = poll(&p, 1, timeout_ms);
		while (ret < 0 && errno == EINTR);
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return -ETIMEDOUT;
	}
	do
		n = read(efd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(v))
		return n < 0 ? -errno : -EIO;
	return 0;
}

void bench_batch_signal(int efd, _Atomic uint64_t *shared_ns, uint64_t ns)
{
	atomic_store_explicit(shared_ns, ns, memory_order_release);
	bench_efd_signal(efd);
}

int bench_batch_wait(int efd, int timeout_ms, _Atomic uint64_t *shared_ns,
		     double *batch_ns)
{
	int ret = bench_efd_wait(efd, timeout_ms);

	if (!ret)
		*batch_ns = (double)atomic_load_explicit(shared_ns,
							 memory_order_acquire);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

void bench_print_row_as(FILE *f, const char *label,
			const struct bench_result *r)
{
	struct bench_result c = *r;

	c.name = label;
	bench_print_row(f, &c);
}

int bench_json_emit(const char *prog, const struct bench_opts *o,
		    const struct bench_machine *m,
		    const struct bench_result *r)
{
	int ret;

	if (!o->json_path)
		return 0;
	ret = bench_json_append(o->json_path, r, m);
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, o->json_path,
			strerror(-ret));
	return ret;
}

int bench_hgrm_emit(const char *prog, const char *path, const ra_hdr_t *h)
{
	int ret;

	if (!path)
		return 0;
	ret = bench_write_hgrm(path, h);
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-ret));
	return ret;
}

int bench_hgrm_emit_row(const char *prog, const struct bench_opts *o,
			const char *name, bool floor, const ra_hdr_t *h)
{
	char path[PATH_MAX];

	return bench_hgrm_emit(prog, bench_hgrm_path(o, name, floor, path,
						     sizeof(path)), h);
}

/* ------------------------------------------------------------------ */
/* Work stealing                                                       */
/* ------------------------------------------------------------------ */

#define NKNOBS 6

static const char *const steal_knob_name[NKNOBS] = {
	"--steal-budget", "--steal-probe", "--steal-batch",
	"--steal-margin", "--steal-backoff-min", "--steal-backoff-max",
};

/* The knobs in steal_knob_name's order. */
static void steal_knob_vals(struct bench_steal_knobs *k,
			    long long *val[NKNOBS])
{
	val[0] = &k->budget;
	val[1] = &k->probe;
	val[2] = &k->batch;
	val[3] = &k->margin;
	val[4] = &k->backoff_min;
	val[5] = &k->backoff_max;
}

void bench_steal_knobs_init(struct bench_steal_knobs *k)
{
	long long *val[NKNOBS];

	steal_knob_vals(k, val);
	for (int j = 0; j < NKNOBS; j++)
		*val[j] = -1;
}

int bench_steal_knob_take(struct bench_steal_knobs *k, int argc,
			  char **argv, int *i)
{
	long long *val[NKNOBS];
	char *end;
	int j;

	for (j = 0; j < NKNOBS; j++)
		if (strcmp(argv[*i], steal_knob_name[j]) == 0)
			break;
	if (j == NKNOBS)
		return 0;
	if (*i + 1 >= argc)
		return -EINVAL;
	steal_knob_vals(k, val);
	errno = 0;
	*val[j] = strtoll(argv[++*i], &end, 10);
	if (errno || *end || *val[j] < 0)
		return -EINVAL;
	return 1;
}

void bench_steal_knobs_apply(const struct bench_steal_knobs *k,
			     ra_config_t *cfg)
{
	if (k->budget >= 0)
		cfg->steal_budget = (unsigned)k->budget;
	if (k->probe >= 0)
		cfg->steal_probe = (unsigned)k->probe;
	if (k->batch >= 0)
		cfg->steal_batch = (unsigned)k->batch;
	if (k->margin >= 0)
		cfg->steal_margin = (unsigned)k->margin;
	if (k->backoff_min >= 0)
		cfg->steal_backoff_min_ns = (uint64_t)k->backoff_min;
	if (k->backoff_max >= 0)
		cfg->steal_backoff_max_ns = (uint64_t)k->backoff_max;
}

void bench_steal_count_add(struct bench_steal_count *c,
			   const ra_stats_t *end, const ra_stats_t *start)
{
	c->attempts += end->steal_attempts - start->steal_attempts;
	c->successes += end->steal_successes - start->steal_successes;
	c->migrated += end->actors_migrated - start->actors_migrated;
	c->below_margin += end->refusals_below_margin -
			   start->refusals_below_margin;
	c->in_flight += end->refusals_in_flight - start->refusals_in_flight;
	c->not_quiescent += end->refusals_not_quiescent -
			    start->refusals_not_quiescent;
	c->pinned += end->refusals_pinned - start->refusals_pinned;
	c->dead_letters += end->dead_letters - start->dead_letters;
	c->sleeps += end->sleeps - start->sleeps;
}

int bench_runtime_create(const char *prog, const ra_config_t *cfg,
			 ra_runtime_t **rt)
{
	int ret = ra_runtime_create(cfg, rt);

	if (ret)
		fprintf(stderr, "%s: ra_runtime_create: %s: %s\n", prog,
			ra_strerror(ret), ra_last_error());
	return ret;
}

int bench_steal_count_end(struct bench_steal_count *c, ra_runtime_t *rt,
			  ra_stats_t *s0, int ret)
{
	ra_stats_t s1;

	if (!ret) {
		ret = ra_stats_snapshot(rt, &s1);
		if (!ret) {
			bench_steal_count_add(c, &s1, s0);
			ra_stats_fini(&s1);
		}
	}
	ra_stats_fini(s0);
	return ret;
}

bool bench_opt_given(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t len;

		if (strncmp(a, "--", 2) != 0)
			continue;
		a += 2;
		len = strcspn(a, "=");
		if (len > 0 && strncmp(a, name, len) == 0)
			return true;
	}
	return false;
}
