/*
 * shard/util.h: small helpers shared by every part of the runtime.
 */
#ifndef RA_SHARD_UTIL_H
#define RA_SHARD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ra_likely(x)	__builtin_expect(!!(x), 1)
#define ra_unlikely(x)	__builtin_expect(!!(x), 0)

/* Setup and teardown paths: keep them out of the hot text (as liburing). */
#define RA_COLD		__attribute__((cold))

#define RA_CACHELINE	64

#define ra_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define RA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* RA_SHARD_UTIL_H */
