/*
 * t/deadletter.c: sends to stopped actors fail with -ESRCH and are
 * counted; stale references after slot reuse stay dead; messages in
 * flight to an actor that stops are counted on arrival; bad arguments get
 * -EINVAL; owned buffers are freed or handed over, never leaked (the
 * ASan build checks the leaks).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"

#define BURST 500

static atomic_int handled, claimed_ok;

static int stop_on_first(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	(void)m;
	atomic_fetch_add(&handled, 1);
	ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t once_def = {
	.name = "once",
	.behavior = stop_on_first,
};

/* Sends BURST messages at a target that stops after the first. */
static int burster(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_ref_t target;

	(void)state;
	memcpy(&target, m->data, sizeof(target));
	for (int i = 0; i < BURST; i++)
		if (ra_send(self, target, 1, &i, sizeof(i)) < 0)
			break;	/* -ESRCH once it is gone: fine */
	ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t burst_def = {
	.name = "burster",
	.behavior = burster,
};

/* Claims large payloads (type 1) or leaves them to the runtime. */
static int claimer(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	if (m->type == 1) {
		char *p = ra_msg_claim(self, m);

		if (p && m->len == 4096 && p[0] == 'x' && p[4095] == 'y' &&
		    ra_msg_claim(self, m) == NULL)
			atomic_store(&claimed_ok, 1);
		free(p);
	}
	atomic_fetch_add(&handled, 1);
	if (m->type == 3)
		ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t claim_def = {
	.name = "claimer",
	.behavior = claimer,
};

static uint64_t dead_letters(ra_runtime_t *rt)
{
	ra_stats_t st;
	uint64_t n;

	if (ra_stats_snapshot(rt, &st) < 0)
		bail_out("ra_stats_snapshot failed");
	n = st.dead_letters;
	ra_stats_fini(&st);
	return n;
}

static void test_send_to_stopped(ra_runtime_t *rt)
{
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	ra_ref_t a, b;

	atomic_store(&handled, 0);
	ra_runtime_spawn(rt, &once_def, NULL, &on1, &a);
	is_int(ra_runtime_send(rt, a, 1, NULL, 0), 0, "send to live actor");
	is_int(ra_runtime_wait_idle(rt, 5000000000ull), 0, "it stopped");
	is_int(ra_runtime_send(rt, a, 1, NULL, 0), -ESRCH,
	       "send to stopped actor: -ESRCH");
	is_int(ra_runtime_stop_actor(rt, a), -ESRCH, "stop stopped: -ESRCH");
	/* The slot is reused by the next spawn on shard 1: new generation. */
	ra_runtime_spawn(rt, &once_def, NULL, &on1, &b);
	ok(b.gen != a.gen || b.slot != a.slot, "new actor, new reference");
	is_int(ra_runtime_send(rt, a, 1, NULL, 0), -ESRCH,
	       "stale reference stays dead after reuse");
	is_int(ra_runtime_send(rt, RA_REF_NULL, 1, NULL, 0), -ESRCH,
	       "null reference: -ESRCH");
	is_int(ra_runtime_send(rt, (ra_ref_t){ 123456789, 1 }, 1, NULL, 0),
	       -ESRCH, "never-issued slot: -ESRCH");
	is_int(ra_runtime_send(rt, b, RA_MSG_IO, NULL, 0), -EINVAL,
	       "reserved type: -EINVAL");
	is_int(ra_runtime_send(rt, b, 1, NULL, 8), -EINVAL,
	       "NULL data with len: -EINVAL");
	is_int(ra_runtime_send(rt, b, 1, NULL, 0), 0, "b still reachable");
	is_int(ra_runtime_wait_idle(rt, 5000000000ull), 0, "b stopped");
	is_int(atomic_load(&handled), 2, "each handled exactly one message");
}

/*
 * Non-shard callers count their dead letters as ra_send() and
 * ra_stop_other() do from a shard: ra_runtime_send, _stop_actor and _ask
 * to a stopped actor each add one; a bad argument adds none.
 */
static void test_outside_counted(ra_runtime_t *rt)
{
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	uint64_t before;
	ra_ref_t a;

	ra_runtime_spawn(rt, &once_def, NULL, &on1, &a);
	ra_runtime_send(rt, a, 1, NULL, 0);
	is_int(ra_runtime_wait_idle(rt, 5000000000ull), 0, "target stopped");
	before = dead_letters(rt);
	is_int(ra_runtime_send(rt, a, 1, NULL, 0), -ESRCH,
	       "ra_runtime_send to stopped: -ESRCH");
	is_int(dead_letters(rt) - before, 1, "... counted as a dead letter");
	is_int(ra_runtime_stop_actor(rt, a), -ESRCH,
	       "ra_runtime_stop_actor to stopped: -ESRCH");
	is_int(dead_letters(rt) - before, 2, "... counted as a dead letter");
	is_int(ra_runtime_ask(rt, a, 1, NULL, 0, 1000000000ull, NULL, NULL),
	       -ESRCH, "ra_runtime_ask to stopped: -ESRCH");
	is_int(dead_letters(rt) - before, 3, "... counted as a dead letter");
	is_int(ra_runtime_send(rt, a, RA_MSG_IO, NULL, 0), -EINVAL,
	       "reserved type to stopped: -EINVAL");
	is_int(dead_letters(rt) - before, 3, "... not a dead letter");
}

static void test_in_flight(ra_runtime_t *rt, unsigned from, unsigned to)
{
	ra_spawn_opts_t o_to = { .placement = RA_PLACE_SHARD, .shard = to };
	ra_spawn_opts_t o_from = { .placement = RA_PLACE_SHARD, .shard = from };
	uint64_t before = dead_letters(rt);
	ra_ref_t target, b;

	atomic_store(&handled, 0);
	ra_runtime_spawn(rt, &once_def, NULL, &o_to, &target);
	ra_runtime_spawn(rt, &burst_def, NULL, &o_from, &b);
	ra_runtime_send(rt, b, 1, &target, sizeof(target));
	is_int(ra_runtime_wait_idle(rt, 5000000000ull), 0,
	       "shard %u -> %u: burst done", from, to);
	is_int(atomic_load(&handled), 1,
	       "shard %u -> %u: target ran once", from, to);
	/* In-flight ones are counted when they arrive: give them time. */
	for (int i = 0; i < 2000 && dead_letters(rt) - before < BURST - 1; i++)
		usleep(1000);
	is_int(dead_letters(rt) - before, BURST - 1,
	       "shard %u -> %u: the other %d are dead letters", from, to,
	       BURST - 1);
}

static void test_owned_buffers(ra_runtime_t *rt)
{
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	char big[4096];
	ra_ref_t c;

	memset(big, 'x', sizeof(big));
	big[4095] = 'y';
	atomic_store(&handled, 0);
	ra_runtime_spawn(rt, &claim_def, NULL, &on1, &c);
	is_int(ra_runtime_send(rt, c, 1, big, sizeof(big)), 0,
	       "large payload (claimed by receiver)");
	is_int(ra_runtime_send(rt, c, 2, big, sizeof(big)), 0,
	       "large payload (freed by the runtime)");
	is_int(ra_runtime_send(rt, c, 3, NULL, 0), 0, "stop request");
	is_int(ra_runtime_wait_idle(rt, 5000000000ull), 0, "claimer done");
	is_int(atomic_load(&handled), 3, "three messages handled");
	ok(atomic_load(&claimed_ok), "claim returned the payload once");
}

int main(void)
{
	ra_config_t cfg;
	ra_runtime_t *rt;

	tap_timeout(60);
	plan(13 + 9 + 3 * 3 + 6);
	ra_config_init(&cfg);
	cfg.shards = 2;
	if (ra_runtime_create(&cfg, &rt))
		bail_out(ra_last_error());
	test_send_to_stopped(rt);
	test_outside_counted(rt);
	test_in_flight(rt, 0, 0);
	test_in_flight(rt, 0, 1);
	test_in_flight(rt, 1, 0);
	test_owned_buffers(rt);
	ra_runtime_destroy(rt);
	return exit_status();
}
