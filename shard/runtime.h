/*
 * shard/runtime.h: the runtime object shared by all shards.
 *
 * Like the shard, it holds the runtime-wide state of the layers above
 * (the actor table, the name registry, the injection ring) by pointer;
 * ra_runtime_create() has them made through shard/hooks.h.
 */
#ifndef RA_SHARD_RUNTIME_H
#define RA_SHARD_RUNTIME_H

#include <liburing.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "shard/shard.h"
#include "shard/util.h"
#include "ringactor.h"

struct ra_inject;
struct ra_registry;
struct ra_slot_table;

struct ra_runtime {
	ra_config_t cfg;		/* copy, defaults applied */
	unsigned nshards;
	ra_shard_t **shards;		/* [nshards], fixed after create */
	struct ra_slot_table *slots;	/* actor table, any thread */

	/* Start-up hand-shake between create and the shard threads. */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* shard reported / live reached 0 */
	unsigned reported;		/* shards done with ring set-up */

	/*
	 * Injection ring for non-shard threads (ra_runtime_send/spawn/stop
	 * and destroy's wake-ups), mailbox/inject.c.
	 */
	struct ra_inject *inject;
	/*
	 * Test build only (shard/testing.h): RA_TEST_OUTSIDE_SEND_DELAY_NS=N
	 * in the environment at create makes every non-shard send sleep N ns between resolving
	 * (and counting) its target and injecting the envelope, so that
	 * t/steal_outside can widen that window (actors/send.c). 0: off.
	 */
	uint64_t test_send_delay_ns;

	/* Written by every shard: own cache line. */
	alignas(RA_CACHELINE) uint64_t live; /* actors spawned, not finalized */
	uint32_t rr_next;		/* round-robin placement cursor */
	uint32_t shutting_down;		/* destroy has begun */
	uint64_t next_mref;		/* last monitor reference issued */
	/*
	 * Dead letters of non-shard callers (ra_runtime_send, _stop_actor,
	 * _ask to a stopped actor), which have no shard counters to bump;
	 * ra_stats_snapshot() adds them to the shards' dead_letters.
	 */
	uint64_t outside_dead_letters;

	struct ra_registry *names;	/* ra_register(), actors/registry.c */
	bool stopped;			/* ra_runtime_stop() joined the shards */
};

/* An actor was finalized: drop the live count, wake waiters at zero. */
void ra__runtime_actor_gone(struct ra_runtime *rt);

/* A non-shard caller's message found its target gone. Any thread. */
static inline void ra__runtime_dead_letter(struct ra_runtime *rt)
{
	ck_pr_inc_64(&rt->outside_dead_letters);
}

/* Count a new actor unless the runtime is shutting down (-ESHUTDOWN). */
int ra__runtime_actor_new(struct ra_runtime *rt);

#endif /* RA_SHARD_RUNTIME_H */
