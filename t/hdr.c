/*
 * t/hdr.c: HDR histogram checks. Every percentile, min, max, mean and
 * standard deviation is compared with the exact figure computed here from
 * a sorted copy of the recorded values, within the error the configured
 * significant digits allow. RA_SEED replays the random cases.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "shard/hdr_histogram.h"

#define N 100000

static uint64_t rng_state;

/* xorshift64*: small, fast and replayable from RA_SEED. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int64_t rnd_between(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* 10^-sigfigs: the relative error the histogram promises. */
static double precision(int sigfigs)
{
	return pow(10.0, -sigfigs);
}

/*
 * The exact value at a percentile given in thousandths of a percent
 * (99900 = 99.9%): the ceil(p * n)-th smallest, in integers so no
 * floating rounding is shared with the code under test.
 */
static int64_t exact_percentile(const int64_t *sorted, int64_t n,
				int64_t milli)
{
	int64_t rank = (milli * n + 99999) / 100000;

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/*
 * Compare h, holding values[0..n), with the exact statistics. The
 * histogram reports a percentile as the highest value equivalent to the
 * exact one, so it lies in [exact, exact * (1 + 10^-s)]; min is the lowest
 * equivalent, in [exact * (1 - 10^-s), exact]. The mean and deviation use
 * each slot's midpoint, at most half a slot (v * 10^-s / 2) from each
 * value, which bounds the mean error by mean * 10^-s / 2 and, the
 * deviation being a norm, its error by max * 10^-s / 2.
 * Runs 10 tests.
 */
static void check_against(const ra_hdr_t *h, const int64_t *values,
			  int64_t n, int sigfigs, const char *name)
{
	static const int64_t milli[] = { 50000, 90000, 99000, 99900, 100000 };
	double prec = precision(sigfigs), sum = 0, sq = 0, mean, sd;
	int64_t *s = malloc((size_t)n * sizeof(*s));
	int64_t i, want, got;
	size_t k;

	if (!s)
		bail_out("out of memory");
	memcpy(s, values, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_i64);

	for (k = 0; k < sizeof(milli) / sizeof(milli[0]); k++) {
		want = exact_percentile(s, n, milli[k]);
		got = ra_hdr_value_at_percentile(h, milli[k] / 1000.0);
		if (!ok(got >= want && got <= want + want * prec,
			"%s: p%g within 10^-%d", name, milli[k] / 1000.0,
			sigfigs))
			diag("  got %lld, exact %lld", (long long)got,
			     (long long)want);
	}

	got = ra_hdr_min(h);
	if (!ok(got <= s[0] && got >= s[0] - s[0] * prec, "%s: min", name))
		diag("  got %lld, exact %lld", (long long)got,
		     (long long)s[0]);
	got = ra_hdr_max(h);
	if (!ok(got >= s[n - 1] && got <= s[n - 1] + s[n - 1] * prec,
		"%s: max", name))
		diag("  got %lld, exact %lld", (long long)got,
		     (long long)s[n - 1]);

	for (i = 0; i < n; i++)
		sum += (double)s[i];
	mean = sum / (double)n;
	for (i = 0; i < n; i++)
		sq += ((double)s[i] - mean) * ((double)s[i] - mean);
	sd = sqrt(sq / (double)n);
	if (!ok(fabs(ra_hdr_mean(h) - mean) <= mean * prec / 2 + 1e-9,
		"%s: mean", name))
		diag("  got %f, exact %f", ra_hdr_mean(h), mean);
	if (!ok(fabs(ra_hdr_stddev(h) - sd) <=
		(double)s[n - 1] * prec / 2 + 1e-9, "%s: stddev", name))
		diag("  got %f, exact %f", ra_hdr_stddev(h), sd);
	is_int(ra_hdr_total_count(h), n, "%s: total count", name);
	free(s);
}

/* The .hgrm text of h, for comparing two histograms slot by slot. */
static char *hgrm_text(const ra_hdr_t *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		bail_out("open_memstream failed");
	if (ra_hdr_write_percentiles(h, f, 5, 1.0) != 0)
		bail_out("write_percentiles failed");
	fclose(f);
	return buf;
}

/* Same total, min, max, percentiles and .hgrm text. Runs 1 test. */
static void same_histogram(const ra_hdr_t *a, const ra_hdr_t *b,
			   const char *name)
{
	char *ta = hgrm_text(a), *tb = hgrm_text(b);
	int same = !strcmp(ta, tb) &&
		   ra_hdr_total_count(a) == ra_hdr_total_count(b) &&
		   ra_hdr_min(a) == ra_hdr_min(b) &&
		   ra_hdr_max(a) == ra_hdr_max(b);
	double p;

	for (p = 0; p <= 100; p += 0.25)
		same &= ra_hdr_value_at_percentile(a, p) ==
			ra_hdr_value_at_percentile(b, p);
	ok(same, "%s", name);
	free(ta);
	free(tb);
}

static void test_create_errors(void)
{
	ra_hdr_t *h = (ra_hdr_t *)&h;	/* a sentinel errors must not touch */

	is_int(ra_hdr_create(1, 1000, 3, NULL), -EINVAL, "create: out NULL");
	is_int(ra_hdr_create(0, 1000, 3, &h), -EINVAL, "create: lowest 0");
	is_int(ra_hdr_create(-1, 1000, 3, &h), -EINVAL,
	       "create: lowest negative");
	is_int(ra_hdr_create(10, 19, 3, &h), -EINVAL,
	       "create: highest < 2 * lowest");
	is_int(ra_hdr_create(1, 1000, 0, &h), -EINVAL, "create: sigfigs 0");
	is_int(ra_hdr_create(1, 1000, 6, &h), -EINVAL, "create: sigfigs 6");
	is_int(ra_hdr_create((int64_t)1 << 60, INT64_MAX, 3, &h), -EINVAL,
	       "create: lowest too high for 3 digits");
	ok(h == (ra_hdr_t *)&h, "create: *out untouched on error");
	is_int(ra_hdr_create(10, 20, 3, &h), 0, "create: highest = 2 * lowest");
	ra_hdr_destroy(h);
	is_int(ra_hdr_create(1, INT64_MAX, 2, &h), 0,
	       "create: highest INT64_MAX");
	is_int(ra_hdr_record(h, INT64_MAX), 0, "record INT64_MAX");
	ok(ra_hdr_max(h) == INT64_MAX &&
	   ra_hdr_value_at_percentile(h, 100) == INT64_MAX,
	   "INT64_MAX reads back as the top of the last slot");
	ra_hdr_destroy(h);
	ra_hdr_destroy(NULL);
}

static void test_range(void)
{
	ra_hdr_t *h;

	if (ra_hdr_create(1, 1000, 3, &h))
		bail_out("create failed");
	is_int(ra_hdr_record(NULL, 1), -EINVAL, "record: NULL");
	is_int(ra_hdr_record_n(NULL, 1, 1), -EINVAL, "record_n: NULL");
	is_int(ra_hdr_record_n(h, 1, -1), -EINVAL, "record_n: count < 0");
	is_int(ra_hdr_record(h, -1), -ERANGE, "record: -1 is out of range");
	is_int(ra_hdr_record(h, 1001), -ERANGE,
	       "record: highest + 1 is out of range");
	is_int(ra_hdr_record_n(h, 5000, 3), -ERANGE,
	       "record_n: out of range");
	is_int(ra_hdr_out_of_range(h), 5, "out_of_range counts 1 + 1 + 3");
	is_int(ra_hdr_total_count(h), 0, "nothing out of range recorded");
	is_int(ra_hdr_record(h, 1000), 0, "record: highest accepted");
	is_int(ra_hdr_record(h, 0), 0, "record: 0 accepted");
	is_int(ra_hdr_record_n(h, 7, 0), 0, "record_n: count 0 accepted");
	ok(ra_hdr_total_count(h) == 2 && ra_hdr_min(h) == 0 &&
	   ra_hdr_max(h) == 1000, "count 0 leaves total, min and max alone");
	ra_hdr_destroy(h);
}

static void test_empty(void)
{
	ra_hdr_t *h;

	if (ra_hdr_create(1, 3600LL * 1000000000, 3, &h))
		bail_out("create failed");
	ok(ra_hdr_value_at_percentile(h, 0) == 0 &&
	   ra_hdr_value_at_percentile(h, 50) == 0 &&
	   ra_hdr_value_at_percentile(h, 100) == 0,
	   "empty: percentiles are 0");
	ok(ra_hdr_min(h) == 0 && ra_hdr_max(h) == 0 && ra_hdr_mean(h) == 0 &&
	   ra_hdr_stddev(h) == 0 && ra_hdr_total_count(h) == 0 &&
	   ra_hdr_out_of_range(h) == 0,
	   "empty: min, max, mean, stddev, counts are 0");
	ok(ra_hdr_value_at_percentile(NULL, 50) == 0 && ra_hdr_min(NULL) == 0 &&
	   ra_hdr_total_count(NULL) == 0 && ra_hdr_mean(NULL) == 0,
	   "NULL: queries are 0");
	ra_hdr_destroy(h);
}

/* Uniform 1..N at every precision: 10 + 1 tests per sigfigs. */
static void test_uniform(int64_t *values)
{
	char name[32];
	ra_hdr_t *h;
	int64_t i;
	int s, fails;

	for (s = 1; s <= 5; s++) {
		if (ra_hdr_create(1, 10 * N, s, &h))
			bail_out("create failed");
		/* Shuffled, so no slot sees its values in order. */
		for (i = 0; i < N; i++)
			values[i] = i + 1;
		for (i = N - 1; i > 0; i--) {
			int64_t j = (int64_t)(rnd() % (uint64_t)(i + 1));
			int64_t t = values[i];

			values[i] = values[j];
			values[j] = t;
		}
		fails = 0;
		for (i = 0; i < N; i++)
			fails += ra_hdr_record(h, values[i]) != 0;
		snprintf(name, sizeof(name), "uniform 1..%d s%d", N, s);
		check_against(h, values, N, s, name);
		/* 1 sits in the unit-wide first bucket at any precision. */
		ok(!fails && ra_hdr_value_at_percentile(h, 0) == 1,
		   "%s: all recorded, p0 is exactly 1", name);
		ra_hdr_destroy(h);
	}
}

/* 99% near 1 us, 1% near 1 ms: p99 must stay low, p99.9 jump high. */
static void test_bimodal(int64_t *values)
{
	ra_hdr_t *h;
	int64_t i;

	if (ra_hdr_create(1, 3600LL * 1000000000, 3, &h))
		bail_out("create failed");
	for (i = 0; i < N; i++) {
		values[i] = i % 100 == 0 ? rnd_between(900000, 1100000) :
					   rnd_between(900, 1100);
		ra_hdr_record(h, values[i]);
	}
	check_against(h, values, N, 3, "bimodal");
	ok(ra_hdr_value_at_percentile(h, 99) <= 1100 + 2,
	   "bimodal: p99 in the low mode");
	ok(ra_hdr_value_at_percentile(h, 99.9) >= 900000,
	   "bimodal: p99.9 in the high mode");
	ra_hdr_destroy(h);
}

/* Log-uniform over 1 ns..1 h in the runtime's ns histogram: 10 tests. */
static void test_wide(int64_t *values)
{
	ra_hdr_t *h;
	int64_t i;

	if (ra__hdr_create_ns(&h))
		bail_out("create failed");
	for (i = 0; i < N; i++) {
		values[i] = (int64_t)exp((double)(rnd() % 1000000) / 1e6 *
					 log(6e10));
		ra__hdr_record_fast(h, values[i]);
	}
	check_against(h, values, N, 3, "log-uniform ns");
	ra_hdr_destroy(h);
}

/* The runtime's histogram: size and clamping of the fast path. */
static void test_ns_fast(void)
{
	ra_hdr_t *h;

	is_int(ra__hdr_create_ns(&h), 0, "create_ns");
	diag("standard ns histogram: %zu bytes", ra__hdr_bytes(h));
	ok(ra__hdr_bytes(h) <= 256 * 1024, "ns histogram within 256 KiB");
	ra__hdr_record_fast(h, 3600LL * 1000000000);
	ra__hdr_record_fast(h, -5);
	ok(ra_hdr_total_count(h) == 2 && ra_hdr_out_of_range(h) == 0,
	   "fast path: outliers counted, not refused");
	ok(ra_hdr_max(h) >= RA_HDR_NS_HIGHEST &&
	   ra_hdr_max(h) <= RA_HDR_NS_HIGHEST * 1.001 &&
	   ra_hdr_min(h) == 0, "fast path: clamped to [0, 60 s]");
	ra_hdr_destroy(h);
}

static void test_record_n(void)
{
	ra_hdr_t *a, *b;
	int64_t v, k;

	if (ra_hdr_create(1, 10000000, 3, &a) ||
	    ra_hdr_create(1, 10000000, 3, &b))
		bail_out("create failed");
	for (v = 1; v < 10000000; v = v * 3 + 1) {
		k = 1 + (int64_t)(rnd() % 50);
		ra_hdr_record_n(a, v, k);
		while (k--)
			ra_hdr_record(b, v);
	}
	same_histogram(a, b, "record_n(v, k) equals k records");
	ra_hdr_destroy(a);
	ra_hdr_destroy(b);
}

static void test_merge(void)
{
	ra_hdr_t *a, *b, *all, *other;
	int64_t i, v, before;
	char *ta, *tb;

	if (ra_hdr_create(1, 10000000, 3, &a) ||
	    ra_hdr_create(1, 10000000, 3, &b) ||
	    ra_hdr_create(1, 10000000, 3, &all))
		bail_out("create failed");
	for (i = 0; i < N; i++) {
		v = rnd_between(1, i % 2 ? 5000 : 9000000);
		ra_hdr_record(i % 2 ? a : b, v);
		ra_hdr_record(all, v);
	}
	ra_hdr_record(b, -3);
	is_int(ra_hdr_merge(a, b), 0, "merge: same config");
	same_histogram(a, all, "merge equals recording all into one");
	is_int(ra_hdr_out_of_range(a), 1, "merge: out_of_range added");
	is_int(ra_hdr_total_count(b), N / 2, "merge: src unchanged");

	/* Each mismatch refused, with dst left exactly as it was. */
	before = ra_hdr_total_count(a);
	ta = hgrm_text(a);
	if (ra_hdr_create(2, 10000000, 3, &other))
		bail_out("create failed");
	ra_hdr_record(other, 100);
	is_int(ra_hdr_merge(a, other), -EINVAL, "merge: lowest differs");
	ra_hdr_destroy(other);
	if (ra_hdr_create(1, 20000000, 3, &other))
		bail_out("create failed");
	ra_hdr_record(other, 100);
	is_int(ra_hdr_merge(a, other), -EINVAL, "merge: highest differs");
	ra_hdr_destroy(other);
	if (ra_hdr_create(1, 10000000, 2, &other))
		bail_out("create failed");
	ra_hdr_record(other, 100);
	is_int(ra_hdr_merge(a, other), -EINVAL, "merge: sigfigs differ");
	is_int(ra_hdr_merge(NULL, other), -EINVAL, "merge: NULL dst");
	is_int(ra_hdr_merge(a, NULL), -EINVAL, "merge: NULL src");
	ra_hdr_destroy(other);
	tb = hgrm_text(a);
	ok(ra_hdr_total_count(a) == before && !strcmp(ta, tb),
	   "merge: dst unchanged after refusals");
	free(ta);
	free(tb);

	/* Merging an empty histogram must not disturb min/max. */
	ra_hdr_reset(b);
	ra_hdr_merge(a, b);
	same_histogram(a, all, "merge of an empty histogram is a no-op");

	ra_hdr_destroy(a);
	ra_hdr_destroy(b);
	ra_hdr_destroy(all);
}

static void test_reset(void)
{
	ra_hdr_t *h;
	int64_t i;

	if (ra_hdr_create(1, 1000000, 3, &h))
		bail_out("create failed");
	for (i = 1; i <= 1000; i++)
		ra_hdr_record(h, i);
	ra_hdr_record(h, -1);
	ra_hdr_reset(h);
	ok(ra_hdr_total_count(h) == 0 && ra_hdr_out_of_range(h) == 0 &&
	   ra_hdr_value_at_percentile(h, 50) == 0 && ra_hdr_min(h) == 0 &&
	   ra_hdr_max(h) == 0 && ra_hdr_mean(h) == 0,
	   "reset: empty again");
	ra_hdr_record(h, 500);
	ra_hdr_record(h, 700);
	ok(ra_hdr_min(h) == 500 && ra_hdr_max(h) == 700 &&
	   ra_hdr_value_at_percentile(h, 50) == 500 &&
	   ra_hdr_total_count(h) == 2,
	   "reset: min, max, p50 from new values only");
	ra_hdr_reset(NULL);
	ra_hdr_destroy(h);
}

/*
 * Percentiles 0 and 100 and clamping, with values worked out by hand: at
 * 2 digits there are 256 sub-buckets, so 1000 (in [512, 1024)) lies in
 * bucket 2 with slots 4 wide: [1000, 1003]; 2000 in bucket 3, slots 8
 * wide: [2000, 2007].
 */
static void test_edges(void)
{
	ra_hdr_t *h;
	int64_t v;

	if (ra_hdr_create(1, 100000, 2, &h))
		bail_out("create failed");
	for (v = 1000; v <= 2000; v++)
		ra_hdr_record(h, v);
	is_int(ra_hdr_value_at_percentile(h, 0), 1003,
	       "p0: highest equivalent of min");
	is_int(ra_hdr_value_at_percentile(h, 100), 2007,
	       "p100: highest equivalent of max");
	is_int(ra_hdr_min(h), 1000, "min: lowest equivalent");
	is_int(ra_hdr_max(h), 2007, "max: highest equivalent");
	ok(ra_hdr_value_at_percentile(h, -1) == 1003 &&
	   ra_hdr_value_at_percentile(h, NAN) == 1003 &&
	   ra_hdr_value_at_percentile(h, 250) == 2007,
	   "percentiles outside 0..100 are clamped");
	/* 1001 values: p50 is the 501st, 1500, in slot [1496, 1503]. */
	is_int(ra_hdr_value_at_percentile(h, 50), 1503, "p50 by hand");
	/*
	 * The mean uses slot midpoints (lowest + width / 2): each full slot
	 * of 4 or 8 values reads 0.5 high per value, and 2000, alone in
	 * [2000, 2007], reads as 2004: 1000 * 0.5 + 4 = 504 over 1001.
	 */
	ok(fabs(ra_hdr_mean(h) - (1500 + 504.0 / 1001)) < 1e-9,
	   "mean by hand: slot midpoints");
	ra_hdr_destroy(h);
}

/* Parse the .hgrm text back and check what a plotter relies on. */
static void test_hgrm(int64_t *values)
{
	static const char head[] =
		"       Value     Percentile TotalCount 1/(1-Percentile)\n";
	double val, pct, inv, pval = -1, ppct = -1, last_pct = -1;
	double p50 = -1, p90 = -1, second = -1, mean, sd, max;
	long long cnt, last_cnt = -1, total = -1;
	int rows = 0, mono = 1, three = 0, at_total = 0, bk, sb, n;
	char line[256];
	ra_hdr_t *h;
	FILE *f;
	int64_t i;

	if (ra_hdr_create(1, 3600LL * 1000000000, 3, &h))
		bail_out("create failed");
	for (i = 0; i < N; i++) {
		values[i] = (i + 1) * 1000;
		ra_hdr_record(h, values[i]);
	}
	f = tmpfile();
	if (!f)
		bail_out("tmpfile failed");
	is_int(ra_hdr_write_percentiles(h, f, 5, 1000.0), 0, "hgrm: written");
	rewind(f);

	ok(fgets(line, sizeof(line), f) && !strcmp(line, head),
	   "hgrm: header line");
	ok(fgets(line, sizeof(line), f) && !strcmp(line, "\n"),
	   "hgrm: blank line after header");
	while (fgets(line, sizeof(line), f) && line[0] != '#') {
		n = sscanf(line, "%lf %lf %lld %lf", &val, &pct, &cnt, &inv);
		if (n < 3) {
			mono = 0;
			break;
		}
		three = n == 3;
		at_total += cnt == N;
		mono &= val >= pval && pct >= ppct;
		if (rows == 1)
			second = pct;
		if (p50 < 0 && pct >= 0.5)
			p50 = pct == 0.5 ? val : -2;
		if (p90 < 0 && pct >= 0.9)
			p90 = pct == 0.9 ? val : -2;
		pval = val;
		ppct = pct;
		last_pct = pct;
		last_cnt = cnt;
		rows++;
	}
	diag("hgrm: %d rows", rows);
	ok(rows > 20 && mono, "hgrm: Value and Percentile never decrease");
	ok(fabs(second - 0.1) < 1e-12, "hgrm: 5 ticks per half: 0, 0.1, ...");
	ok(last_pct == 1.0 && three, "hgrm: last row is 1.0, without 1/(1-p)");
	is_int(last_cnt, N, "hgrm: last TotalCount is the total");
	/* As HdrHistogram's iterator: one row reaching the total, then 100%. */
	is_int(at_total, 2, "hgrm: two rows at the full total");
	ok(p50 == ra_hdr_value_at_percentile(h, 50) / 1000.0 &&
	   p90 == ra_hdr_value_at_percentile(h, 90) / 1000.0,
	   "hgrm: 0.5 and 0.9 rows match value_at_percentile, scaled");
	ok(fabs(pval - (double)N) <= N * 0.001,
	   "hgrm: last value near the max, in scaled units");

	ok(sscanf(line, "#[Mean    = %lf, StdDeviation   = %lf]", &mean,
		  &sd) == 2 && fabs(mean - ra_hdr_mean(h) / 1000.0) < 0.001 &&
	   fabs(sd - ra_hdr_stddev(h) / 1000.0) < 0.001,
	   "hgrm: Mean/StdDeviation footer");
	ok(fgets(line, sizeof(line), f) &&
	   sscanf(line, "#[Max     = %lf, Total count    = %lld]", &max,
		  &total) == 2 && total == N &&
	   fabs(max - ra_hdr_max(h) / 1000.0) < 0.001,
	   "hgrm: Max/Total count footer");
	ok(fgets(line, sizeof(line), f) &&
	   sscanf(line, "#[Buckets = %d, SubBuckets     = %d]", &bk, &sb) ==
	   2 && sb == 2048 && bk > 0 && !fgets(line, sizeof(line), f),
	   "hgrm: Buckets footer ends the file");
	fclose(f);

	is_int(ra_hdr_write_percentiles(h, stdout, 0, 1.0), -EINVAL,
	       "hgrm: ticks 0");
	is_int(ra_hdr_write_percentiles(h, stdout, 5, 0.0), -EINVAL,
	       "hgrm: scale 0");
	is_int(ra_hdr_write_percentiles(h, NULL, 5, 1.0), -EINVAL,
	       "hgrm: NULL file");
	f = fopen("/dev/full", "w");
	if (f) {
		is_int(ra_hdr_write_percentiles(h, f, 5, 1.0), -EIO,
		       "hgrm: full disk is -EIO");
		fclose(f);
	} else {
		skip("hgrm: full disk is -EIO: no /dev/full");
	}
	ra_hdr_destroy(h);

	/* Empty: header and footer only, as HdrHistogram prints it. */
	if (ra_hdr_create(1, 1000, 3, &h))
		bail_out("create failed");
	{
		char *t = hgrm_text(h);

		ok(!strncmp(t, head, sizeof(head) - 1) &&
		   strstr(t, "\n\n#[Mean    =        0.000") &&
		   strstr(t, "Total count    =            0]"),
		   "hgrm: empty histogram has no rows");
		free(t);
	}
	ra_hdr_destroy(h);
}

struct race {
	ra_hdr_t *h;
	int started;	/* set by the reader once it polls */
	int done;	/* set by the writer after its last record */
	int64_t n;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	int64_t i;

	while (!ck_pr_load_int(&r->started))
		ck_pr_stall();
	for (i = 0; i < r->n; i++)
		ra_hdr_record(r->h, 1 + (i * 7919) % 1000000);
	ck_pr_store_int(&r->done, 1);
	return NULL;
}

/*
 * One thread records while this one reads and merges: totals seen must
 * never shrink or exceed what is written, and once the writer is joined
 * everything must be there.
 */
static void test_threads(void)
{
	struct race r = { .n = 1000000 };
	int64_t t, m, p, prev_t = 0, prev_m = 0, iters = 0, bad = 0;
	ra_hdr_t *mine, *acc;
	pthread_t tid;

	if (ra_hdr_create(1, 1000000, 3, &r.h) ||
	    ra_hdr_create(1, 1000000, 3, &mine) ||
	    ra_hdr_create(1, 1000000, 3, &acc))
		bail_out("create failed");
	if (pthread_create(&tid, NULL, race_writer, &r))
		bail_out("pthread_create failed");
	ck_pr_store_int(&r.started, 1);
	while (!ck_pr_load_int(&r.done)) {
		t = ra_hdr_total_count(r.h);
		p = ra_hdr_value_at_percentile(r.h, 99);
		ra_hdr_reset(mine);
		if (ra_hdr_merge(mine, r.h))
			bad++;
		m = ra_hdr_total_count(mine);
		if (t < prev_t || m < prev_m || m > r.n || t > r.n)
			bad++;
		if (t > 0 && (p < 1 || p > 1001000))
			bad++;
		prev_t = t;
		prev_m = m;
		iters++;
	}
	pthread_join(tid, NULL);
	diag("threads: %lld reads while writing", (long long)iters);
	is_int(bad, 0, "threads: counts read never decrease or overshoot");
	is_int(ra_hdr_total_count(r.h), r.n, "threads: final total exact");
	ra_hdr_merge(acc, r.h);
	same_histogram(acc, r.h, "threads: merge after join is complete");
	ra_hdr_destroy(r.h);
	ra_hdr_destroy(mine);
	ra_hdr_destroy(acc);
}

int main(void)
{
	int64_t *values = malloc(N * sizeof(*values));
	uint64_t seed = tap_env_ull("RA_SEED", 0);

	if (!values)
		bail_out("out of memory");
	tap_timeout(30);
	if (!seed)
		seed = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	rng_state = seed;
	plan(150);
	diag("seed %llu", (unsigned long long)seed);

	test_create_errors();
	test_range();
	test_empty();
	test_uniform(values);
	test_bimodal(values);
	test_wide(values);
	test_ns_fast();
	test_record_n();
	test_merge();
	test_reset();
	test_edges();
	test_hgrm(values);
	test_threads();
	free(values);
	return exit_status();
}
