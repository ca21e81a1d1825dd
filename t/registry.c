/*
 * t/registry.c: ra_register / ra_unregister / ra_whereis (OTP's
 * register/2, unregister/1, whereis/1): lookups, -EEXIST on a taken name,
 * names released on exit, exactly one winner when actors on different
 * shards race for one name, and lookups from main while actors register
 * and exit.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define SEC 5000000000ull
#define RACERS 8
#define ROUNDS 200

enum { CMD_REG = 1, CMD_UNREG };

static atomic_int done, ret_last, wins, losses, others;
static ra_ref_t winner;

static int r_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	char name[128];

	(void)state;
	memcpy(name, m->data, m->len);
	name[m->len] = '\0';
	if (m->type == CMD_REG)
		atomic_store(&ret_last, ra_register(self, name));
	else
		atomic_store(&ret_last, ra_unregister(self, name));
	atomic_fetch_add(&done, 1);
	return 0;
}

static const ra_actor_def_t reg_def = { .name = "r",
					.behavior = r_behavior };

/* Registers "race" at init; exactly one of the racers may win. */
static int racer_init(ra_ctx_t *self, void *state, void *arg)
{
	int ret = ra_register(self, (const char *)arg);

	(void)state;
	if (ret == 0) {
		winner = ra_self(self);
		atomic_fetch_add(&wins, 1);
	} else if (ret == -EEXIST) {
		atomic_fetch_add(&losses, 1);
	} else {
		atomic_fetch_add(&others, 1);
	}
	if (!strcmp(arg, "churn"))
		ra_stop(self, 0);	/* register, then exit at once */
	return 0;
}

static int racer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

static const ra_actor_def_t racer_def = { .name = "racer",
					  .init = racer_init,
					  .behavior = racer_behavior };

static ra_runtime_t *rt;

static int cmd(ra_ref_t to, int c, const char *name)
{
	int want = atomic_load(&done) + 1;

	ra_runtime_send(rt, to, (uint32_t)c, name, strlen(name));
	wait_for(&done, want, SEC);
	return atomic_load(&ret_last);
}

static void test_basic(void)
{
	ra_spawn_opts_t o0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t o1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	char longname[80];
	ra_ref_t a, b, got = RA_REF_NULL;

	ra_runtime_spawn(rt, &reg_def, NULL, &o0, &a);
	ra_runtime_spawn(rt, &reg_def, NULL, &o1, &b);
	is_int(ra_whereis(rt, "alpha", &got), -ESRCH, "unknown name: -ESRCH");
	is_int(cmd(a, CMD_REG, "alpha"), 0, "register alpha");
	is_int(ra_whereis(rt, "alpha", &got), 0, "whereis alpha");
	ok(ra_ref_eq(got, a), "... is the registering actor");
	is_int(cmd(b, CMD_REG, "alpha"), -EEXIST, "duplicate name: -EEXIST");
	is_int(cmd(a, CMD_REG, "beta"), -EBUSY, "second name: -EBUSY");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[RA_NAME_MAX + 1] = '\0';
	is_int(cmd(b, CMD_REG, longname), -ENAMETOOLONG,
	       "name over RA_NAME_MAX: -ENAMETOOLONG");
	longname[RA_NAME_MAX] = '\0';
	is_int(cmd(b, CMD_REG, longname), 0, "name of RA_NAME_MAX bytes");
	is_int(cmd(b, CMD_UNREG, "alpha"), -ENOENT,
	       "unregister another's name: -ENOENT");
	is_int(cmd(a, CMD_UNREG, "alpha"), 0, "unregister alpha");
	is_int(ra_whereis(rt, "alpha", &got), -ESRCH, "gone after unregister");
	is_int(cmd(a, CMD_REG, "alpha"), 0, "register alpha again");
	ra_runtime_stop_actor(rt, a);
	ra_runtime_stop_actor(rt, b);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "both exited");
	is_int(ra_whereis(rt, "alpha", &got), -ESRCH,
	       "name released on exit");
	is_int(ra_whereis(rt, longname, &got), -ESRCH,
	       "long name released on exit");
	is_int(ra_whereis(rt, "", &got), -EINVAL, "empty name: -EINVAL");
	is_int(ra_whereis(NULL, "alpha", &got), -EINVAL, "NULL rt: -EINVAL");
}

static void test_race(unsigned nsh)
{
	int bad = 0;

	for (int round = 0; round < ROUNDS && !bad; round++) {
		ra_ref_t r[RACERS], got;

		atomic_store(&wins, 0);
		atomic_store(&losses, 0);
		atomic_store(&others, 0);
		for (int i = 0; i < RACERS; i++) {
			ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD,
					      .shard = (unsigned)i % nsh };

			ra_runtime_spawn(rt, &racer_def, "race", &o, &r[i]);
		}
		while (atomic_load(&wins) + atomic_load(&losses) +
		       atomic_load(&others) < RACERS)
			sleep_ms(1);
		if (atomic_load(&wins) != 1 || atomic_load(&others) != 0 ||
		    ra_whereis(rt, "race", &got) != 0 ||
		    !ra_ref_eq(got, winner))
			bad = round + 1;
		for (int i = 0; i < RACERS; i++)
			ra_runtime_stop_actor(rt, r[i]);
		ra_runtime_wait_idle(rt, SEC);
		if (!bad && ra_whereis(rt, "race", &got) != -ESRCH)
			bad = round + 1;
	}
	is_int(bad, 0, "%d rounds of %d racers on %u shards: one winner, "
	       "released after", ROUNDS, RACERS, nsh);
}

static void test_churn(void)
{
	int bad = 0, hits = 0;

	atomic_store(&wins, 0);
	atomic_store(&losses, 0);
	atomic_store(&others, 0);
	for (int i = 0; i < 300; i++) {
		ra_ref_t got;
		int ret;

		ra_runtime_spawn(rt, &racer_def, "churn", NULL, NULL);
		for (int k = 0; k < 20; k++) {
			ret = ra_whereis(rt, "churn", &got);
			if (ret == 0)
				hits++;
			else if (ret != -ESRCH)
				bad++;
		}
	}
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "churn: all exited");
	is_int(bad, 0, "lookups during churn give 0 or -ESRCH (%d hits)",
	       hits);
	is_int(atomic_load(&others), 0, "churn: no unexpected errors");
	ra_ref_t got;
	is_int(ra_whereis(rt, "churn", &got), -ESRCH, "churn: released");
}

int main(void)
{
	ra_config_t cfg;

	tap_timeout(120);
	plan(17 + 2 + 4);
	ra_config_init(&cfg);
	cfg.shards = 4;
	if (ra_runtime_create(&cfg, &rt) < 0)
		skip_all("io_uring unavailable");
	test_basic();
	test_race(4);
	test_churn();
	ra_runtime_destroy(rt);
	cfg.shards = 2;
	if (ra_runtime_create(&cfg, &rt) < 0)
		return exit_status();
	test_race(2);
	ra_runtime_destroy(rt);
	return exit_status();
}
