/*
 * shard/hdr_histogram.h: the layout behind ra_hdr_t and the runtime's
 * inline recording fast path. Internal; users see only ringactor.h.
 *
 * The design is Gil Tene's HdrHistogram: a value v is split into a bucket
 * (the power of two v lies under, counted from unit_magnitude) and a
 * sub-bucket (the top sub_bucket_half_count_magnitude + 1 bits of v below
 * that power). Every bucket but the first reuses only its upper half of
 * sub-buckets, since the lower half lies in the bucket before, so the
 * counts array holds (bucket_count + 1) * sub_bucket_half_count slots and
 * any value maps to its slot with one count-leading-zeros and two shifts.
 *
 * Concurrency: one writer (record, reset, merge into) and any number of
 * readers. Every counter is a 64-bit single-writer atomic: the writer
 * stores load + n through ck_pr (a plain mov on x86, no locked
 * instruction), readers use ck_pr_load_64, so no reader ever sees a torn
 * or compiler-cached count and ThreadSanitizer sees no plain race.
 */
#ifndef RA_SHARD_HDR_HISTOGRAM_H
#define RA_SHARD_HDR_HISTOGRAM_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_pr.h>

#include "ringactor.h"

/*
 * The runtime's standard latency histogram: 1 ns to 60 s at 3 significant
 * digits. That is 2048 sub-buckets (1024 per bucket past the first) and
 * 26 buckets, 27648 counts of 8 bytes: 216 KiB of counts after a 96-byte
 * header, 221312 bytes once rounded to a cache line (ra__hdr_bytes()).
 * 60 s bounds any latency we care to tell apart; longer ones are clamped
 * by ra__hdr_record_fast(), not dropped.
 */
#define RA_HDR_NS_LOWEST	1
#define RA_HDR_NS_HIGHEST	(60LL * 1000 * 1000 * 1000)
#define RA_HDR_NS_SIGFIGS	3

struct ra_hdr {
	/*
	 * Configuration, fixed by ra_hdr_create() and never written again,
	 * so readers use it without atomics.
	 */
	int64_t lowest;		/* Lowest discernible value, as created. */
	int64_t highest;	/* Highest trackable value, as created. */
	int32_t sigfigs;	/* Significant decimal digits kept, 1..5. */
	/* log2 of the first bucket's slot width: floor(log2(lowest)). */
	int32_t unit_magnitude;
	/* log2(sub_bucket_half_count); sub-bucket bits per bucket - 1. */
	int32_t sub_bucket_half_count_magnitude;
	/* Slots in the first bucket: 2^ceil(log2(2 * 10^sigfigs)). */
	int32_t sub_bucket_count;
	/* Slots each later bucket adds: sub_bucket_count / 2. */
	int32_t sub_bucket_half_count;
	/* Buckets needed so that highest lands in the last one. */
	int32_t bucket_count;
	/* Entries in counts[]: (bucket_count + 1) * sub_bucket_half_count. */
	int32_t counts_len;
	/*
	 * (sub_bucket_count - 1) << unit_magnitude. OR-ed into a value
	 * before counting leading zeros, so values small enough for the
	 * first bucket land in bucket 0 and clz never sees a zero.
	 */
	uint64_t sub_bucket_mask;

	/*
	 * Counters, each written only by the one writer and read by anyone
	 * through ck_pr. They start on their own cache line so the writer's
	 * stores do not keep evicting the configuration readers need.
	 */
	/* Values recorded, the sum of counts[]; stored after the count. */
	alignas(CK_MD_CACHELINE) uint64_t total_count;
	/* Exact lowest value recorded; UINT64_MAX while empty. */
	uint64_t min;
	/* Exact highest value recorded; 0 while empty. */
	uint64_t max;
	/* Values refused by ra_hdr_record*() as outside [0, highest]. */
	uint64_t out_of_range;
	/* Occurrences per slot, indexed by ra__hdr_counts_index(). */
	uint64_t counts[];
};

/*
 * Slot of value v (0 <= v <= highest). The bucket comes from the highest
 * set bit of v above the first bucket's range; the sub-bucket is v shifted
 * down to sub_bucket_half_count_magnitude + 1 significant bits. Buckets
 * past the first start at (bucket + 1) * half_count and skip their lower
 * half, which the previous bucket already covers at finer resolution.
 */
static inline int32_t ra__hdr_counts_index(const ra_hdr_t *h, uint64_t v)
{
	int32_t pow2ceil = 64 - __builtin_clzll(v | h->sub_bucket_mask);
	int32_t bucket = pow2ceil - h->unit_magnitude -
			 (h->sub_bucket_half_count_magnitude + 1);
	int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));

	return ((bucket + 1) << h->sub_bucket_half_count_magnitude) +
	       (sub - h->sub_bucket_half_count);
}

/*
 * Single-writer add: a relaxed load of our own last store plus a relaxed
 * store, never a locked read-modify-write, because no one else writes.
 */
static inline void ra__hdr_add_u64(uint64_t *p, uint64_t n)
{
	ck_pr_store_64(p, ck_pr_load_64(p) + n);
}

/*
 * Record v (already checked to lie in [0, highest]) n times. The count is
 * stored before total_count, and both before min/max, so a reader on a
 * TSO machine (x86) that sees a total also sees the counts behind it.
 * Writer only.
 */
static inline void ra__hdr_add(ra_hdr_t *h, uint64_t v, uint64_t n)
{
	ra__hdr_add_u64(&h->counts[ra__hdr_counts_index(h, v)], n);
	ra__hdr_add_u64(&h->total_count, n);
	if (v < ck_pr_load_64(&h->min))
		ck_pr_store_64(&h->min, v);
	if (v > ck_pr_load_64(&h->max))
		ck_pr_store_64(&h->max, v);
}

/*
 * The runtime's recording path for ns latencies: never fails. A negative
 * value (a clock step between two reads) counts as 0 and one above highest
 * as highest, so an outlier still shows up at the top of the distribution
 * instead of vanishing into ra_hdr_out_of_range(). Writer only; h must be
 * non-NULL.
 */
static inline void ra__hdr_record_fast(ra_hdr_t *h, int64_t v)
{
	if (v < 0)
		v = 0;
	else if (v > h->highest)
		v = h->highest;
	ra__hdr_add(h, (uint64_t)v, 1);
}

/*
 * Create the runtime's standard ns latency histogram (RA_HDR_NS_*), owned
 * by the caller and freed with ra_hdr_destroy(). Returns 0, -EINVAL (out
 * NULL) or -ENOMEM.
 */
int ra__hdr_create_ns(ra_hdr_t **out);

/* Bytes allocated for h, configuration and counts (0 for NULL). */
size_t ra__hdr_bytes(const ra_hdr_t *h);

#endif /* RA_SHARD_HDR_HISTOGRAM_H */
