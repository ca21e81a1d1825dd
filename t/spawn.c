/*
 * t/spawn.c: spawn/stop of 100k actors with nothing left behind; spawn
 * argument errors; placement; spawning during shutdown.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"

#define WAVE 10000

static atomic_ulong inits, terms, wrong_shard;
static atomic_int shutdown_spawn_ret = 1;

struct child_arg {
	unsigned expect_shard;	/* UINT32_MAX: any */
};

static int child_init(ra_ctx_t *self, void *state, void *arg)
{
	const struct child_arg *ca = arg;

	(void)state;
	if (ca && ca->expect_shard != UINT32_MAX &&
	    ra_shard_id(self) != ca->expect_shard)
		atomic_fetch_add(&wrong_shard, 1);
	atomic_fetch_add(&inits, 1);
	return 0;
}

static int child_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	(void)state;
	(void)msg;
	ra_stop(self, 0);
	return 0;
}

static void child_term(ra_ctx_t *self, void *state, int reason)
{
	(void)self;
	(void)state;
	(void)reason;
	atomic_fetch_add(&terms, 1);
}

static const ra_actor_def_t child_def = {
	.name = "child",
	.state_size = 24,
	.init = child_init,
	.behavior = child_behavior,
	.terminate = child_term,
};

/*
 * The spawner runs WAVE spawns per message (placement in the payload),
 * pokes each child so it stops, and asks main for the next wave by
 * stopping itself after the last.
 */
struct spawner_state {
	unsigned waves_left;
};

static int spawner_init(ra_ctx_t *self, void *state, void *arg)
{
	struct spawner_state *st = state;

	st->waves_left = *(unsigned *)arg;
	return ra_send(self, ra_self(self), 1, NULL, 0);
}

static int spawner_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct spawner_state *st = state;
	ra_spawn_opts_t o = {
		.placement = st->waves_left % 2 ? RA_PLACE_ROUND_ROBIN
						: RA_PLACE_LOCAL,
	};

	(void)m;
	for (unsigned i = 0; i < WAVE; i++) {
		ra_ref_t c;
		int ret = ra_spawn(self, &child_def, NULL, &o, &c);

		if (ret < 0)
			return ret;
		ret = ra_send(self, c, 7, NULL, 0);
		if (ret < 0)
			return ret;
	}
	if (--st->waves_left == 0)
		ra_stop(self, 0);
	else
		ra_send(self, ra_self(self), 1, NULL, 0);
	return 0;
}

static const ra_actor_def_t spawner_def = {
	.name = "spawner",
	.state_size = sizeof(struct spawner_state),
	.init = spawner_init,
	.behavior = spawner_behavior,
};

static void test_churn(unsigned nshards)
{
	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;
	unsigned waves = 10;

	atomic_store(&inits, 0);
	atomic_store(&terms, 0);
	ra_config_init(&cfg);
	cfg.shards = nshards;
	if (ra_runtime_create(&cfg, &rt))
		bail_out(ra_last_error());
	is_int(ra_runtime_spawn(rt, &spawner_def, &waves, NULL, NULL), 0,
	       "%u shards: spawner started", nshards);
	is_int(ra_runtime_wait_idle(rt, 60ull * 1000000000), 0,
	       "%u shards: all 100k actors came and went", nshards);
	is_int(atomic_load(&inits), waves * WAVE + 0,
	       "%u shards: init ran %u times", nshards, waves * WAVE);
	is_int(atomic_load(&terms), waves * WAVE,
	       "%u shards: terminate ran %u times", nshards, waves * WAVE);
	ra_stats_snapshot(rt, &st);
	is_int(st.actors_spawned, waves * WAVE + 1,
	       "%u shards: spawned counter", nshards);
	is_int(st.actors_stopped, st.actors_spawned,
	       "%u shards: stopped == spawned", nshards);
	is_int(st.actors_live, 0, "%u shards: none live", nshards);
	is_int(st.dead_letters, 0, "%u shards: no dead letters", nshards);
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "%u shards: destroy", nshards);
}

static void test_errors_and_placement(void)
{
	ra_actor_def_t no_behavior = { .name = "bad" };
	ra_spawn_opts_t bad_shard = { .placement = RA_PLACE_SHARD, .shard = 2 };
	ra_spawn_opts_t bad_place = { .placement = (enum ra_placement)42 };
	struct child_arg ca = { .expect_shard = 1 };
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	ra_ref_t r = { 9, 9 };
	ra_runtime_t *rt;
	ra_config_t cfg;

	ra_config_init(&cfg);
	cfg.shards = 2;
	if (ra_runtime_create(&cfg, &rt))
		bail_out(ra_last_error());
	is_int(ra_runtime_spawn(rt, NULL, NULL, NULL, &r), -EINVAL,
	       "def NULL: -EINVAL");
	is_int(ra_runtime_spawn(rt, &no_behavior, NULL, NULL, &r), -EINVAL,
	       "behavior NULL: -EINVAL");
	ok(strstr(ra_last_error(), "behavior") != NULL,
	   "ra_last_error says why: %s", ra_last_error());
	is_int(ra_runtime_spawn(rt, &child_def, NULL, &bad_shard, &r), -EINVAL,
	       "shard out of range: -EINVAL");
	ok(strstr(ra_last_error(), "shard") != NULL,
	   "ra_last_error says why: %s", ra_last_error());
	is_int(ra_runtime_spawn(rt, &child_def, NULL, &bad_place, &r), -EINVAL,
	       "unknown placement: -EINVAL");
	is_int(ra_runtime_spawn(NULL, &child_def, NULL, NULL, &r), -EINVAL,
	       "rt NULL: -EINVAL");
	is_int(ra_spawn(NULL, &child_def, NULL, NULL, &r), -EINVAL,
	       "ctx NULL: -EINVAL");
	atomic_store(&wrong_shard, 0);
	atomic_store(&inits, 0);
	is_int(ra_runtime_spawn(rt, &child_def, &ca, &on1, &r), 0,
	       "spawn pinned to shard 1");
	is_int(strlen(ra_last_error()), 0,
	       "a spawn that succeeds leaves ra_last_error empty");
	ok(!ra_ref_is_null(r), "a real reference came back");
	is_int(ra_runtime_send(rt, r, 1, NULL, 0), 0, "poke it");
	is_int(ra_runtime_wait_idle(rt, 10ull * 1000000000), 0, "it stopped");
	is_int(atomic_load(&wrong_shard), 0, "init ran on shard 1");
	is_int(atomic_load(&inits), 1, "failed spawns ran no init");
	is_int(ra_runtime_destroy(rt), 0, "destroy");
}

/* A terminate that spawns during destroy gets -ESHUTDOWN. */
static void late_term(ra_ctx_t *self, void *state, int reason)
{
	(void)state;
	atomic_store(&shutdown_spawn_ret,
		     reason == -ESHUTDOWN
			     ? ra_spawn(self, &child_def, NULL, NULL, NULL)
			     : 1);
}

static int idle_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	(void)self;
	(void)state;
	(void)msg;
	return 0;
}

static const ra_actor_def_t lingering_def = {
	.name = "lingering",
	.behavior = idle_behavior,
	.terminate = late_term,
};

static void test_spawn_during_shutdown(void)
{
	ra_runtime_t *rt;

	if (ra_runtime_create(NULL, &rt))
		bail_out(ra_last_error());
	is_int(ra_runtime_spawn(rt, &lingering_def, NULL, NULL, NULL), 0,
	       "an actor that never stops by itself");
	is_int(ra_runtime_wait_idle(rt, 50000000), -ETIMEDOUT,
	       "wait_idle times out while it lives");
	is_int(ra_runtime_destroy(rt), 0, "destroy stops it");
	is_int(atomic_load(&shutdown_spawn_ret), -ESHUTDOWN,
	       "spawn from terminate during destroy: -ESHUTDOWN");
}

int main(void)
{
	tap_timeout(120);
	plan(2 * 9 + 16 + 4);
	test_churn(1);
	test_churn(2);
	test_errors_and_placement();
	test_spawn_during_shutdown();
	return exit_status();
}
