/*
 * shard/tsan.h: happens-before annotations for ThreadSanitizer.
 *
 * Two hand-offs in ringactor are invisible to TSan: ck_pr's loads and
 * stores are inline assembly on x86_64, and a message batch crosses shards
 * through the kernel (IORING_OP_MSG_RING writes the batch pointer into the
 * target's CQ). The code is correct without help (the kernel's CQ tail
 * store is a release, liburing's load of it an acquire), but TSan needs to
 * be told, or it reports every envelope as a race. In other builds these
 * compile to nothing.
 */
#ifndef RA_SHARD_TSAN_H
#define RA_SHARD_TSAN_H

#if defined(RA_TSAN)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define ra__tsan_acquire(addr) __tsan_acquire((void *)(addr))
#define ra__tsan_release(addr) __tsan_release((void *)(addr))
#else
#define ra__tsan_acquire(addr) ((void)(addr))
#define ra__tsan_release(addr) ((void)(addr))
#endif

#endif /* RA_SHARD_TSAN_H */
