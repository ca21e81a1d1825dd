/*
 * shard/clock.h: the runtime's time source. CLOCK_MONOTONIC through the
 * vDSO (about 20 ns here), comparable across shards and CPUs.
 */
#ifndef RA_SHARD_CLOCK_H
#define RA_SHARD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ra__clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* RA_SHARD_CLOCK_H */
