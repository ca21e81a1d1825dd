/*
 * shard/hdr_histogram.c: High Dynamic Range histograms.
 *
 * Written from the design of Gil Tene's HdrHistogram (hdrhistogram.org):
 * the bucket/sub-bucket layout, unit_magnitude and
 * sub_bucket_half_count_magnitude, the counts index derived from (bucket,
 * sub_bucket), lowest/highest equivalent values, value_at_percentile by a
 * walk over the counts, and the percentile iterator behind the `.hgrm`
 * output of outputPercentileDistribution. Where this file chooses
 * differently from HdrHistogram it says so beside the choice.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shard/hdr_histogram.h"

/*
 * Index helpers, after HdrHistogram. bucket_index() and value_from_index()
 * are the inverse halves of ra__hdr_counts_index() in the header.
 */
static int32_t bucket_index(const ra_hdr_t *h, uint64_t v)
{
	int32_t pow2ceil = 64 - __builtin_clzll(v | h->sub_bucket_mask);

	return pow2ceil - h->unit_magnitude -
	       (h->sub_bucket_half_count_magnitude + 1);
}

static uint64_t value_from_bucket(const ra_hdr_t *h, int32_t bucket,
				  int32_t sub)
{
	return (uint64_t)sub << (bucket + h->unit_magnitude);
}

/* The lowest value that maps to slot i. */
static uint64_t value_at_index(const ra_hdr_t *h, int32_t i)
{
	int32_t bucket = (i >> h->sub_bucket_half_count_magnitude) - 1;
	int32_t sub = (i & (h->sub_bucket_half_count - 1)) +
		      h->sub_bucket_half_count;

	/* Slots below half_count are the lower half of bucket 0. */
	if (bucket < 0) {
		sub -= h->sub_bucket_half_count;
		bucket = 0;
	}
	return value_from_bucket(h, bucket, sub);
}

/* Width of the range of values that share v's slot. */
static uint64_t equivalent_range(const ra_hdr_t *h, uint64_t v)
{
	int32_t bucket = bucket_index(h, v);
	int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));

	/*
	 * HdrHistogram keeps this guard for a sub-bucket that overflows into
	 * the next bucket's resolution; it cannot trigger for values that
	 * bucket_index() placed, but costs nothing to keep.
	 */
	if (sub >= h->sub_bucket_count)
		bucket++;
	return (uint64_t)1 << (h->unit_magnitude + bucket);
}

static uint64_t lowest_equivalent(const ra_hdr_t *h, uint64_t v)
{
	int32_t bucket = bucket_index(h, v);
	int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));

	return value_from_bucket(h, bucket, sub);
}

static uint64_t highest_equivalent(const ra_hdr_t *h, uint64_t v)
{
	return lowest_equivalent(h, v) + equivalent_range(h, v) - 1;
}

/* The value mean and stddev use for a slot, as HdrHistogram's getMean. */
static uint64_t median_equivalent(const ra_hdr_t *h, uint64_t v)
{
	return lowest_equivalent(h, v) + (equivalent_range(h, v) >> 1);
}

/* Buckets needed so that `highest` has a slot (HdrHistogram's loop). */
static int32_t buckets_needed(uint64_t sub_bucket_count, int32_t unit_mag,
			      uint64_t highest)
{
	uint64_t untrackable = sub_bucket_count << unit_mag;
	int32_t n = 1;

	while (untrackable <= highest) {
		/* Doubling again would pass INT64_MAX: one more covers it. */
		if (untrackable > (uint64_t)INT64_MAX / 2)
			return n + 1;
		untrackable <<= 1;
		n++;
	}
	return n;
}

static size_t alloc_bytes(int32_t counts_len)
{
	size_t n = offsetof(struct ra_hdr, counts) +
		   (size_t)counts_len * sizeof(uint64_t);

	/* aligned_alloc() wants a multiple of the alignment. */
	return (n + CK_MD_CACHELINE - 1) & ~(size_t)(CK_MD_CACHELINE - 1);
}

RA_API int ra_hdr_create(int64_t lowest, int64_t highest, int sigfigs,
			 ra_hdr_t **out)
{
	int64_t largest_single_unit;
	int32_t count_mag, half_mag, unit_mag, i;
	ra_hdr_t *h;

	if (!out || lowest < 1 || sigfigs < 1 || sigfigs > 5 ||
	    lowest > highest / 2)
		return -EINVAL;

	/*
	 * Keeping sigfigs digits needs 2 * 10^sigfigs distinct slots across
	 * each power of two (half of them per later bucket), rounded up to a
	 * power of two so the sub-bucket is a bit field of the value.
	 */
	largest_single_unit = 2;
	for (i = 0; i < sigfigs; i++)
		largest_single_unit *= 10;
	count_mag = 0;
	while (((int64_t)1 << count_mag) < largest_single_unit)
		count_mag++;
	half_mag = (count_mag > 1 ? count_mag : 1) - 1;
	unit_mag = 63 - __builtin_clzll((uint64_t)lowest);
	/*
	 * HdrHistogram's limit: the first bucket's slots, shifted by
	 * unit_magnitude, must still fit in a positive int64.
	 */
	if (unit_mag + half_mag > 61)
		return -EINVAL;

	{
		int32_t sub_count = (int32_t)1 << (half_mag + 1);
		int32_t buckets = buckets_needed((uint64_t)sub_count, unit_mag,
						 (uint64_t)highest);
		int32_t len = (buckets + 1) * (sub_count / 2);
		size_t bytes = alloc_bytes(len);

		h = aligned_alloc(CK_MD_CACHELINE, bytes);
		if (!h)
			return -ENOMEM;
		memset(h, 0, bytes);
		h->lowest = lowest;
		h->highest = highest;
		h->sigfigs = sigfigs;
		h->unit_magnitude = unit_mag;
		h->sub_bucket_half_count_magnitude = half_mag;
		h->sub_bucket_count = sub_count;
		h->sub_bucket_half_count = sub_count / 2;
		h->bucket_count = buckets;
		h->counts_len = len;
		h->sub_bucket_mask = ((uint64_t)sub_count - 1) << unit_mag;
		h->min = UINT64_MAX;
	}
	*out = h;
	return 0;
}

int ra__hdr_create_ns(ra_hdr_t **out)
{
	return ra_hdr_create(RA_HDR_NS_LOWEST, RA_HDR_NS_HIGHEST,
			     RA_HDR_NS_SIGFIGS, out);
}

size_t ra__hdr_bytes(const ra_hdr_t *h)
{
	return h ? alloc_bytes(h->counts_len) : 0;
}

RA_API void ra_hdr_destroy(ra_hdr_t *h)
{
	free(h);
}

RA_API int ra_hdr_record_n(ra_hdr_t *h, int64_t value, int64_t count)
{
	if (!h || count < 0)
		return -EINVAL;
	if (value < 0 || value > h->highest) {
		ra__hdr_add_u64(&h->out_of_range, (uint64_t)count);
		return -ERANGE;
	}
	/* A zero count must not move min/max to a value never seen. */
	if (count)
		ra__hdr_add(h, (uint64_t)value, (uint64_t)count);
	return 0;
}

RA_API int ra_hdr_record(ra_hdr_t *h, int64_t value)
{
	return ra_hdr_record_n(h, value, 1);
}

RA_API void ra_hdr_reset(ra_hdr_t *h)
{
	int32_t i;

	if (!h)
		return;
	/*
	 * Store by store rather than memset, so a concurrent reader still
	 * sees whole 64-bit values (each old or zero) and no plain race.
	 */
	for (i = 0; i < h->counts_len; i++)
		ck_pr_store_64(&h->counts[i], 0);
	ck_pr_store_64(&h->total_count, 0);
	ck_pr_store_64(&h->min, UINT64_MAX);
	ck_pr_store_64(&h->max, 0);
	ck_pr_store_64(&h->out_of_range, 0);
}

RA_API int ra_hdr_merge(ra_hdr_t *dst, const ra_hdr_t *src)
{
	uint64_t added = 0, c, smin, smax;
	int32_t i, first = -1, last = -1;

	if (!dst || !src || dst->lowest != src->lowest ||
	    dst->highest != src->highest || dst->sigfigs != src->sigfigs)
		return -EINVAL;

	/*
	 * Equal configurations give equal layouts, so slots add one to one.
	 * src may be recording meanwhile: each count is read once, and
	 * dst's total is the sum of what we read, so dst stays consistent
	 * with itself even when it lags src.
	 */
	for (i = 0; i < src->counts_len; i++) {
		c = ck_pr_load_64(&src->counts[i]);
		if (!c)
			continue;
		ra__hdr_add_u64(&dst->counts[i], c);
		added += c;
		if (first < 0)
			first = i;
		last = i;
	}
	ra__hdr_add_u64(&dst->total_count, added);
	ra__hdr_add_u64(&dst->out_of_range, ck_pr_load_64(&src->out_of_range));
	if (!added)
		return 0;

	/*
	 * src's exact min/max, unless a racing writer left them outside the
	 * slots we copied (a count seen before its min/max store, or the
	 * reverse): then the edge slot stands in, so min/max still bracket
	 * dst's counts. At rest the exact values lie in those slots and are
	 * kept.
	 */
	smin = ck_pr_load_64(&src->min);
	smax = ck_pr_load_64(&src->max);
	if (smin > highest_equivalent(src, value_at_index(src, first)))
		smin = value_at_index(src, first);
	if (smax < value_at_index(src, last))
		smax = highest_equivalent(src, value_at_index(src, last));
	if (smin < ck_pr_load_64(&dst->min))
		ck_pr_store_64(&dst->min, smin);
	if (smax > ck_pr_load_64(&dst->max))
		ck_pr_store_64(&dst->max, smax);
	return 0;
}

/*
 * The count a percentile must reach: ceil(p% of total), at least 1 so p =
 * 0 finds the first recorded value. p / 100 * total carries a few ulps of
 * rounding error, which would push an exact integer such as 99.9% of
 * 100000 up by one count; like HdrHistogram (which drops one ulp from p)
 * we shave that error off before rounding up.
 */
static uint64_t count_at_percentile(double p, uint64_t total)
{
	double fp = p / 100.0 * (double)total;
	uint64_t want;

	fp -= fp * 4 * DBL_EPSILON;
	want = fp > 0 ? (uint64_t)ceil(fp) : 0;
	if (want < 1)
		want = 1;
	return want > total ? total : want;
}

RA_API int64_t ra_hdr_value_at_percentile(const ra_hdr_t *h, double p)
{
	uint64_t total, want, sum = 0, c;
	int32_t i, last = -1;

	if (!h)
		return 0;
	total = ck_pr_load_64(&h->total_count);
	if (!total)
		return 0;
	/* Clamp as HdrHistogram does; NaN reads as 0. */
	if (!(p > 0))
		p = 0;
	else if (p > 100)
		p = 100;
	want = count_at_percentile(p, total);

	/*
	 * HdrHistogram reports percentile 0 as the lowest equivalent value;
	 * the ringactor.h contract reports every percentile, 0 included, as
	 * the highest, matching the first row of the .hgrm output.
	 */
	for (i = 0; i < h->counts_len; i++) {
		c = ck_pr_load_64(&h->counts[i]);
		if (!c)
			continue;
		sum += c;
		last = i;
		if (sum >= want)
			return (int64_t)highest_equivalent(
				h, value_at_index(h, i));
	}
	/*
	 * Only a concurrent reset (or a weakly ordered machine showing the
	 * total before its counts) gets here: report what we did see.
	 */
	return last < 0 ? 0 :
	       (int64_t)highest_equivalent(h, value_at_index(h, last));
}

/* HdrHistogram's getMinValue: the lowest value equivalent to the min. */
RA_API int64_t ra_hdr_min(const ra_hdr_t *h)
{
	uint64_t m;

	if (!h || !ck_pr_load_64(&h->total_count))
		return 0;
	m = ck_pr_load_64(&h->min);
	return m == UINT64_MAX ? 0 : (int64_t)lowest_equivalent(h, m);
}

/* HdrHistogram's getMaxValue: the highest value equivalent to the max. */
RA_API int64_t ra_hdr_max(const ra_hdr_t *h)
{
	uint64_t m;

	if (!h || !ck_pr_load_64(&h->total_count))
		return 0;
	m = ck_pr_load_64(&h->max);
	return (int64_t)highest_equivalent(h, m);
}

/*
 * Mean and population standard deviation over each slot's median
 * equivalent value, as HdrHistogram's getMean/getStdDeviation. One pass
 * with West's weighted form of Welford's update: the counts are read once,
 * so a racing writer cannot make the mean and the spread disagree, and no
 * E[x^2] - E[x]^2 cancellation loses digits when the spread is small
 * next to values of 10^10 ns.
 */
static void mean_var(const ra_hdr_t *h, double *mean, double *var)
{
	double w = 0, m = 0, s = 0, x, d;
	uint64_t c;
	int32_t i;

	for (i = 0; i < h->counts_len; i++) {
		c = ck_pr_load_64(&h->counts[i]);
		if (!c)
			continue;
		x = (double)median_equivalent(h, value_at_index(h, i));
		w += (double)c;
		d = x - m;
		m += d * (double)c / w;
		s += (double)c * d * (x - m);
	}
	*mean = m;
	*var = w > 0 && s > 0 ? s / w : 0;
}

RA_API double ra_hdr_mean(const ra_hdr_t *h)
{
	double mean, var;

	if (!h)
		return 0;
	mean_var(h, &mean, &var);
	return mean;
}

RA_API double ra_hdr_stddev(const ra_hdr_t *h)
{
	double mean, var;

	if (!h)
		return 0;
	mean_var(h, &mean, &var);
	return sqrt(var);
}

RA_API int64_t ra_hdr_total_count(const ra_hdr_t *h)
{
	return h ? (int64_t)ck_pr_load_64(&h->total_count) : 0;
}

RA_API int64_t ra_hdr_out_of_range(const ra_hdr_t *h)
{
	return h ? (int64_t)ck_pr_load_64(&h->out_of_range) : 0;
}

/*
 * HdrHistogram's PercentileIterator step: ticks equal steps per half of
 * the distance left to 100%, so the step halves each time the level
 * passes 50%, 75%, 87.5%... Same arithmetic as the Java code so rows
 * land on the same levels. nextafter() guards against the level
 * stalling once the step drops below one ulp of 100.
 */
static double next_level(double level, int ticks)
{
	double halvings = floor(log(100.0 / (100.0 - level)) / log(2));
	double ticks_now, next;

	/* Level 100 would give infinite halvings; keep the cast defined. */
	if (!(halvings < 1000))
		halvings = 1000;
	ticks_now = (double)ticks * ldexp(1.0, (int)halvings + 1);
	next = level + 100.0 / ticks_now;
	return next > level ? next : nextafter(level, INFINITY);
}

RA_API int ra_hdr_write_percentiles(const ra_hdr_t *h, FILE *f, int ticks,
				    double scale)
{
	uint64_t total = 0, cum = 0, c;
	double level = 0, pct, v = 0, mean, var;
	int32_t i, last = -1;
	int err = 0;

	if (!h || !f || ticks < 1 || !(scale > 0) || !isfinite(scale))
		return -EINVAL;

	err |= fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile",
		       "TotalCount", "1/(1-Percentile)") < 0;

	/*
	 * Fix the total first, then cap the walk at it: a writer racing
	 * with us only adds, so the rows always end at exactly this total
	 * and the TotalCount column agrees with the footer.
	 */
	for (i = 0; i < h->counts_len; i++)
		total += ck_pr_load_64(&h->counts[i]);

	for (i = 0; i < h->counts_len && cum < total; i++) {
		c = ck_pr_load_64(&h->counts[i]);
		if (c > total - cum)
			c = total - cum;
		if (!c)
			continue;
		cum += c;
		last = i;
		pct = 100.0 * (double)cum / (double)total;
		v = (double)highest_equivalent(h, value_at_index(h, i)) / scale;
		/*
		 * One row per level this slot reaches, as the Java iterator
		 * returns the same slot again while it covers the next level;
		 * it stops once the whole total is reached, leaving the 100%
		 * row to the end.
		 */
		while (pct >= level) {
			err |= fprintf(f, "%12.3f %2.12f %10lld %14.2f\n", v,
				       level / 100.0, (long long)cum,
				       1.0 / (1.0 - level / 100.0)) < 0;
			level = next_level(level, ticks);
			if (cum == total)
				break;
		}
	}
	/* The extra last step to 100%, without the infinite 1/(1-p). */
	if (last >= 0)
		err |= fprintf(f, "%12.3f %2.12f %10lld\n", v, 1.0,
			       (long long)cum) < 0;

	mean_var(h, &mean, &var);
	err |= fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
		       mean / scale, sqrt(var) / scale) < 0;
	err |= fprintf(f, "#[Max     = %12.3f, Total count    = %12lld]\n",
		       (double)ra_hdr_max(h) / scale, (long long)total) < 0;
	err |= fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n",
		       h->bucket_count, h->sub_bucket_count) < 0;
	/* A full disk often shows only when the buffer goes out. */
	err |= fflush(f) != 0;
	return err ? -EIO : 0;
}
