/*
 * shard/runtime.c: creating and destroying a runtime, the injection ring
 * for non-shard threads, and the live-actor count.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shard/clock.h"
#include "shard/errors.h"
#include "shard/hooks.h"
#include "shard/ring.h"
#include "shard/runtime.h"
#include "shard/shard.h"
#include "shard/testing.h"
#include "shard/tsan.h"

#define RA_MAX_SHARDS		1024u
#define RA_MAX_RING_ENTRIES	32768u
/* The kernel's limit on a provided-buffer ring (IORING_REGISTER_PBUF_RING). */
#define RA_MAX_BUF_RING_ENTRIES	32768u
/*
 * sizeof(ra_config_t) in the first ringactor.h with a size field
 * (x86-64): the smallest config a program may pass, since every later
 * field is appended. It never changes when fields are added.
 */
#define RA_CONFIG_SIZE_FIRST	96u
_Static_assert(sizeof(ra_config_t) >= RA_CONFIG_SIZE_FIRST,
	       "ra_config_t only grows");

/* The defaults, all of them: ra_config_init_size() copies its part. */
static void config_defaults(ra_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->ring_entries = RA_DEFAULT_RING_ENTRIES;
	cfg->actor_budget = RA_DEFAULT_ACTOR_BUDGET;
	cfg->pass_runs = RA_DEFAULT_PASS_RUNS;
	cfg->pass_ns = RA_DEFAULT_PASS_NS;
	cfg->idle_poll_ns = RA_DEFAULT_IDLE_POLL_NS;
	cfg->idle_poll_max_ns = RA_DEFAULT_IDLE_POLL_MAX_NS;
	cfg->timing_sample = RA_DEFAULT_TIMING_SAMPLE;
	cfg->steal_budget = RA_DEFAULT_STEAL_BUDGET;
	cfg->steal_probe = RA_DEFAULT_STEAL_PROBE;
	cfg->steal_batch = RA_DEFAULT_STEAL_BATCH;
	cfg->steal_margin = RA_DEFAULT_STEAL_MARGIN;
	cfg->steal_backoff_min_ns = RA_DEFAULT_STEAL_BACKOFF_MIN;
	cfg->steal_backoff_max_ns = RA_DEFAULT_STEAL_BACKOFF_MAX;
	cfg->buf_ring_entries = RA_DEFAULT_BUF_RING_ENTRIES;
	cfg->buf_size = RA_DEFAULT_BUF_SIZE;
	cfg->send_zc_min = RA_DEFAULT_SEND_ZC_MIN;
}

RA_API void ra_config_init_size(ra_config_t *cfg, size_t size)
{
	ra_config_t dflt;

	if (!cfg || size < sizeof(cfg->size))
		return;
	config_defaults(&dflt);
	if (size > sizeof(dflt))
		size = sizeof(dflt);
	memcpy(cfg, &dflt, size);
	cfg->size = size;
}

/*
 * The caller's config as this library's: the fields it knows, defaults
 * for the rest (all defaults for NULL). -EINVAL when its size is not one a ra_config_init()
 * could have set (garbage, or a newer ringactor.h than this library).
 */
static int config_import(const ra_config_t *cfg, ra_config_t *out)
{
	config_defaults(out);
	if (!cfg)
		return 0;	/* NULL: the defaults */
	if (cfg->size < RA_CONFIG_SIZE_FIRST || cfg->size > sizeof(*out)) {
		ra__errors_set("ra_runtime_create: cfg->size %zu is not a "
			       "ra_config_t size this library knows (%zu..%zu): "
			       "fill it with ra_config_init()", cfg->size,
			       (size_t)RA_CONFIG_SIZE_FIRST, sizeof(*out));
		return -EINVAL;
	}
	memcpy(out, cfg, cfg->size);
	return 0;
}

RA_API uint64_t ra_now_ns(void)
{
	return ra__clock_now_ns();
}

RA_API unsigned ra_runtime_shards(const ra_runtime_t *rt)
{
	return rt ? rt->nshards : 0;
}

static int check_config(const ra_config_t *cfg)
{
	unsigned e = cfg->ring_entries;

	if (cfg->shards > RA_MAX_SHARDS) {
		ra__errors_set("ra_runtime_create: shards %u > %u", cfg->shards,
			      RA_MAX_SHARDS);
		return -EINVAL;
	}
	if (e == 0 || (e & (e - 1)) || e > RA_MAX_RING_ENTRIES) {
		ra__errors_set("ra_runtime_create: ring_entries %u is not a "
			      "power of two in 1..%u", e, RA_MAX_RING_ENTRIES);
		return -EINVAL;
	}
	if (cfg->timing_sample & (cfg->timing_sample - 1)) {
		ra__errors_set("ra_runtime_create: timing_sample %u is not 0 "
			      "or a power of two", cfg->timing_sample);
		return -EINVAL;
	}
	if (cfg->idle_poll_max_ns < cfg->idle_poll_ns) {
		ra__errors_set("ra_runtime_create: idle_poll_max_ns %llu < "
			      "idle_poll_ns %llu",
			      (unsigned long long)cfg->idle_poll_max_ns,
			      (unsigned long long)cfg->idle_poll_ns);
		return -EINVAL;
	}
	if (cfg->steal_batch > 64) {
		ra__errors_set("ra_runtime_create: steal_batch %u > 64",
			      cfg->steal_batch);
		return -EINVAL;
	}
	if (cfg->steal_backoff_min_ns > cfg->steal_backoff_max_ns) {
		ra__errors_set("ra_runtime_create: steal_backoff_min_ns > "
			      "steal_backoff_max_ns");
		return -EINVAL;
	}
	if (cfg->actor_budget == 0) {
		ra__errors_set("ra_runtime_create: actor_budget must be > 0");
		return -EINVAL;
	}
	if ((cfg->flags & RA_CFG_TASKRUN_IPI) &&
	    (cfg->flags & RA_CFG_TASKRUN_DEFER)) {
		ra__errors_set("ra_runtime_create: RA_CFG_TASKRUN_IPI and "
			       "RA_CFG_TASKRUN_DEFER exclude each other");
		return -EINVAL;
	}
	if (cfg->buf_ring_entries == 0 ||
	    (cfg->buf_ring_entries & (cfg->buf_ring_entries - 1)) ||
	    cfg->buf_ring_entries > RA_MAX_BUF_RING_ENTRIES) {
		ra__errors_set("ra_runtime_create: buf_ring_entries %u is not "
			       "a power of two in 1..%u", cfg->buf_ring_entries,
			       RA_MAX_BUF_RING_ENTRIES);
		return -EINVAL;
	}
	if (cfg->buf_size == 0 || cfg->buf_size > INT32_MAX) {
		ra__errors_set("ra_runtime_create: buf_size %u is not in "
			       "1..INT32_MAX", cfg->buf_size);
		return -EINVAL;
	}
	if (cfg->pass_runs == 0 || cfg->pass_ns == 0) {
		ra__errors_set("ra_runtime_create: pass_runs and pass_ns must "
			      "be > 0");
		return -EINVAL;
	}
	return 0;
}

/* ---- live-actor count ---- */

int ra__runtime_actor_new(ra_runtime_t *rt)
{
	/*
	 * Count first, then look at the flag; destroy stores the flag, then
	 * shards read the count. The locked add and destroy's store-load
	 * fence order both sides, so either we see the flag and back out,
	 * or the shards see our count and wait for the actor.
	 */
	ck_pr_inc_64(&rt->live);
	if (ck_pr_load_32(&rt->shutting_down)) {
		ra__runtime_actor_gone(rt);
		return -ESHUTDOWN;
	}
	return 0;
}

void ra__runtime_actor_gone(ra_runtime_t *rt)
{
	bool zero;

	ck_pr_dec_64_zero(&rt->live, &zero);
	if (zero) {
		pthread_mutex_lock(&rt->lock);
		pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
	}
}

RA_API int ra_runtime_wait_idle(ra_runtime_t *rt, uint64_t timeout_ns)
{
	uint64_t deadline;
	int ret = 0;

	if (!rt)
		return -EINVAL;
	if (ra__shard_tls)
		return -EDEADLK;
	deadline = timeout_ns ? ra__clock_now_ns() + timeout_ns : 0;
	pthread_mutex_lock(&rt->lock);
	while (ck_pr_load_64(&rt->live) != 0) {
		/* Bounded waits: cheap insurance against a missed wake. */
		struct timespec ts;

		if (deadline && ra__clock_now_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

RA_API int ra_runtime_run_until_signal(ra_runtime_t *rt, const sigset_t *set)
{
	/* Wake now and then to see whether the last actor has gone. */
	const struct timespec tick = { .tv_nsec = 50000000 };
	sigset_t old;
	int sig;

	if (!rt || !set)
		return -EINVAL;
	if (ra__shard_tls)
		return -EDEADLK;
	if (pthread_sigmask(SIG_BLOCK, set, &old))
		return -EINVAL;
	for (;;) {
		sig = sigtimedwait(set, NULL, &tick);
		if (sig > 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			sig = -errno;
			break;
		}
		if (ck_pr_load_64(&rt->live) == 0) {
			sig = 0;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return sig;
}

/* ---- create / destroy ---- */

static RA_COLD void free_runtime(ra_runtime_t *rt)
{
	if (rt->shards) {
		for (unsigned i = 0; i < rt->nshards; i++) {
			if (rt->shards[i])
				ra__shard_fini(rt->shards[i]);
			free(rt->shards[i]);
		}
	}
	free(rt->shards);
	if (rt->slots)
		ra__slot_table_destroy(rt->slots);
	ra__inject_destroy(rt);
	if (rt->names)
		ra__registry_destroy(rt->names);
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->cond);
	free(rt);
}

/*
 * Stop and join the first `started` shard threads: every shard stops its
 * actors; once the last actor anywhere is gone, every shard is woken to
 * see it and leave its loop.
 */
static RA_COLD void stop_shards(ra_runtime_t *rt, unsigned started)
{
	ck_pr_store_32(&rt->shutting_down, 1);
	ck_pr_fence_store_load();
	ra__inject_wake_all(rt);
	pthread_mutex_lock(&rt->lock);
	while (ck_pr_load_64(&rt->live) != 0)
		pthread_cond_wait(&rt->cond, &rt->lock);
	pthread_mutex_unlock(&rt->lock);
	ra__inject_wake_all(rt);
	for (unsigned i = 0; i < started; i++)
		pthread_join(rt->shards[i]->thread, NULL);
	/* Only now may slabs go: other shards' CQs point into them. */
	for (unsigned i = 0; i < started; i++)
		ra__shard_drain_after_stop(rt->shards[i]);
}

static RA_COLD int alloc_runtime(const ra_config_t *cfg, ra_runtime_t **out)
{
	ra_runtime_t *rt = calloc(1, sizeof(*rt));
	long ncpu;

	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	pthread_cond_init(&rt->cond, NULL);
	rt->cfg = *cfg;
	rt->test_send_delay_ns =
		ra__testing_knob("RA_TEST_OUTSIDE_SEND_DELAY_NS");
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	rt->nshards = cfg->shards ? cfg->shards
				  : (unsigned)(ncpu > 0 ? ncpu : 1);
	if (rt->nshards > RA_MAX_SHARDS)
		rt->nshards = RA_MAX_SHARDS;
	rt->slots = ra__slot_table_create();
	rt->names = ra__registry_create();
	rt->shards = calloc(rt->nshards, sizeof(*rt->shards));
	if (!rt->slots || !rt->names || !rt->shards) {
		free_runtime(rt);
		return -ENOMEM;
	}
	*out = rt;
	return 0;
}

static RA_COLD int init_shards(ra_runtime_t *rt)
{
	for (unsigned i = 0; i < rt->nshards; i++) {
		rt->shards[i] = aligned_alloc(RA_CACHELINE,
				(sizeof(ra_shard_t) + RA_CACHELINE - 1) &
				~(size_t)(RA_CACHELINE - 1));
		if (!rt->shards[i] || ra__shard_init(rt->shards[i], rt, i) < 0) {
			free(rt->shards[i]);
			rt->shards[i] = NULL;
			ra__errors_set("ra_runtime_create: out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static RA_COLD int start_shards(ra_runtime_t *rt, unsigned *started)
{
	int err = 0;

	for (*started = 0; *started < rt->nshards; (*started)++) {
		ra_shard_t *sh = rt->shards[*started];

		if (pthread_create(&sh->thread, NULL, ra__shard_main, sh)) {
			ra__errors_set("ra_runtime_create: cannot create shard "
				      "thread %u", *started);
			err = -EAGAIN;
			break;
		}
	}
	pthread_mutex_lock(&rt->lock);
	while (rt->reported < *started)
		pthread_cond_wait(&rt->cond, &rt->lock);
	pthread_mutex_unlock(&rt->lock);
	for (unsigned i = 0; i < *started && !err; i++) {
		if (rt->shards[i]->setup_err < 0) {
			err = rt->shards[i]->setup_err;
			ra__errors_set("shard %u: %s", i,
				      rt->shards[i]->setup_msg);
		}
	}
	return err;
}

RA_API int ra_runtime_create(const ra_config_t *cfg, ra_runtime_t **out)
{
	ra_config_t own;
	ra_runtime_t *rt;
	unsigned started = 0;
	int ret;

	ra__errors_clear();
	if (!out) {
		ra__errors_set("ra_runtime_create: out is NULL");
		return -EINVAL;
	}
	*out = NULL;
	ret = config_import(cfg, &own);
	if (ret == 0)
		ret = check_config(&own);
	if (ret < 0)
		return ret;
	ret = alloc_runtime(&own, &rt);
	if (ret < 0) {
		ra__errors_set("ra_runtime_create: out of memory");
		return ret;
	}
	ret = ra__inject_create(rt);
	if (ret == 0)
		ret = init_shards(rt);
	if (ret == 0)
		ret = start_shards(rt, &started);
	if (ret < 0) {
		stop_shards(rt, started);
		free_runtime(rt);
		return ret;
	}
	*out = rt;
	return 0;
}

RA_API int ra_runtime_stop(ra_runtime_t *rt)
{
	if (!rt)
		return -EINVAL;
	if (ra__shard_tls)
		return -EDEADLK;
	if (!rt->stopped)
		stop_shards(rt, rt->nshards);
	rt->stopped = true;
	return 0;
}

RA_API int ra_runtime_destroy(ra_runtime_t *rt)
{
	int ret = ra_runtime_stop(rt);

	if (ret == 0)
		free_runtime(rt);
	return ret;
}
