/*
 * t/runtime.c: runtime start/stop with 1, 2 and 4 shards, repeated;
 * config validation; local and cross-shard ping-pong; wait_idle;
 * ra_runtime_stop() before destroy.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define ROUNDS 2000

struct pp_state {
	ra_ref_t peer;
	unsigned count;
};

static atomic_uint inits, terms, finished_rounds;

static int pp_init(ra_ctx_t *self, void *state, void *arg)
{
	struct pp_state *st = state;

	(void)self;
	if (arg)
		st->peer = *(ra_ref_t *)arg;
	atomic_fetch_add(&inits, 1);
	return 0;
}

/* type 1: ball carrying a counter; type 2: "you are the pinger" + peer */
static int pp_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct pp_state *st = state;
	unsigned n;

	if (msg->type == 2) {
		memcpy(&st->peer, msg->data, sizeof(st->peer));
		n = 0;
		return ra_send(self, st->peer, 1, &n, sizeof(n));
	}
	if (msg->len != sizeof(n))
		return -EINVAL;
	memcpy(&n, msg->data, sizeof(n));
	st->count++;
	if (n >= ROUNDS) {
		atomic_fetch_add(&finished_rounds, n);
		/* Tell the peer to stop too, then stop ourselves. */
		ra_stop_other(self, msg->from);
		ra_stop(self, 0);
		return 0;
	}
	n++;
	return ra_send(self, msg->from, 1, &n, sizeof(n));
}

static void pp_term(ra_ctx_t *self, void *state, int reason)
{
	(void)self;
	(void)state;
	(void)reason;
	atomic_fetch_add(&terms, 1);
}

static const ra_actor_def_t pp_def = {
	.name = "pingpong",
	.state_size = sizeof(struct pp_state),
	.init = pp_init,
	.behavior = pp_behavior,
	.terminate = pp_term,
};

static int run_pingpong(ra_runtime_t *rt, unsigned sa, unsigned sb)
{
	ra_spawn_opts_t oa = { .placement = RA_PLACE_SHARD, .shard = sa };
	ra_spawn_opts_t ob = { .placement = RA_PLACE_SHARD, .shard = sb };
	ra_ref_t a, b;
	int ret;

	ret = ra_runtime_spawn(rt, &pp_def, NULL, &oa, &a);
	if (ret == 0)
		ret = ra_runtime_spawn(rt, &pp_def, NULL, &ob, &b);
	if (ret == 0)
		ret = ra_runtime_send(rt, a, 2, &b, sizeof(b));
	if (ret == 0)
		ret = ra_runtime_wait_idle(rt, 10ull * 1000000000);
	return ret;
}

static void test_start_stop(void)
{
	static const unsigned shard_counts[] = { 1, 2, 4 };

	for (unsigned i = 0; i < 3; i++) {
		unsigned n = shard_counts[i];
		int fails = 0;

		for (int rep = 0; rep < 20; rep++) {
			ra_config_t cfg;
			ra_runtime_t *rt = NULL;

			ra_config_init(&cfg);
			cfg.shards = n;
			if (ra_runtime_create(&cfg, &rt) != 0 ||
			    ra_runtime_shards(rt) != n ||
			    ra_runtime_destroy(rt) != 0)
				fails++;
		}
		is_int(fails, 0, "%u shards: 20 create/destroy cycles", n);
	}
}

static void test_bad_config(void)
{
	ra_config_t cfg;
	ra_runtime_t *rt = (ra_runtime_t *)0x1;

	is_int(ra_runtime_create(NULL, NULL), -EINVAL, "out NULL: -EINVAL");
	ra_config_init(&cfg);
	cfg.ring_entries = 100;
	is_int(ra_runtime_create(&cfg, &rt), -EINVAL,
	       "ring_entries not a power of two: -EINVAL");
	ok(rt == NULL, "out cleared on failure");
	ok(strstr(ra_last_error(), "ring_entries") != NULL,
	   "ra_last_error names the field: %s", ra_last_error());
	ra_config_init(&cfg);
	cfg.shards = 5000;
	is_int(ra_runtime_create(&cfg, &rt), -EINVAL, "5000 shards: -EINVAL");
	ra_config_init(&cfg);
	cfg.timing_sample = 12;
	is_int(ra_runtime_create(&cfg, &rt), -EINVAL,
	       "timing_sample not a power of two: -EINVAL");
	is_int(ra_runtime_destroy(NULL), -EINVAL, "destroy(NULL): -EINVAL");
}

/*
 * ABI: a config carries the size the caller was compiled with. One never
 * filled by ra_config_init() (size 0), or from a newer header (larger
 * than ours), is refused; a snapshot fills what the caller's size holds.
 */
static void test_struct_sizes(void)
{
	ra_config_t cfg;
	ra_runtime_t *rt = NULL;
	ra_stats_t st;
	struct {
		ra_stats_t st;
		uint64_t newer_fields[4];
	} big;

	ra_config_init(&cfg);
	is_int(cfg.size, sizeof(cfg), "ra_config_init sets the caller's size");
	memset(&cfg, 0, sizeof(cfg));
	is_int(ra_runtime_create(&cfg, &rt), -EINVAL,
	       "config not from ra_config_init (size 0): -EINVAL");
	ok(strstr(ra_last_error(), "ra_config_init") != NULL,
	   "... and ra_last_error says what to do: %s", ra_last_error());
	ra_config_init(&cfg);
	cfg.size = sizeof(cfg) + 8;
	is_int(ra_runtime_create(&cfg, &rt), -EINVAL,
	       "config from a newer header (larger): -EINVAL");
	ra_config_init(&cfg);
	cfg.shards = 1;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	is_int(ra_stats_snapshot(rt, &st), 0, "snapshot");
	is_int(st.size, sizeof(st), "snapshot size is the caller's");
	ra_stats_fini(&st);
	is_int(st.size, 0, "fini zeroes it");
	ra_stats_fini(&st);	/* a second fini is a no-op */
	is_int(ra_stats_snapshot_size(rt, &st, 16), -EINVAL,
	       "snapshot into a struct smaller than any ra_stats_t: -EINVAL");
	is_int(st.size, 0, "... leaves size 0, for a no-op fini");
	ra_stats_fini(&st);
	memset(&big, 0xff, sizeof(big));
	is_int(ra_stats_snapshot_size(rt, &big.st, sizeof(big)), 0,
	       "snapshot from a newer header (larger)");
	ok(big.st.size == sizeof(ra_stats_t) && big.newer_fields[0] ==
	   UINT64_MAX, "... fills only the fields this library knows");
	ra_stats_fini(&big.st);
	ra_runtime_destroy(rt);
}

static void test_pingpong(unsigned nshards, unsigned sa, unsigned sb,
			  unsigned sample, const char *what)
{
	int64_t timed;

	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;

	atomic_store(&inits, 0);
	atomic_store(&terms, 0);
	atomic_store(&finished_rounds, 0);
	ra_config_init(&cfg);
	cfg.shards = nshards;
	cfg.timing_sample = sample;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	is_int(run_pingpong(rt, sa, sb), 0, "%s: ping-pong finished", what);
	is_int(atomic_load(&finished_rounds), ROUNDS,
	       "%s: the ball made %d passes", what, ROUNDS);
	is_int(atomic_load(&inits), 2, "%s: init ran twice", what);
	is_int(atomic_load(&terms), 2, "%s: terminate ran twice", what);
	ok(ra_stats_snapshot(rt, &st) == 0, "%s: stats snapshot", what);
	is_int(st.actors_live, 0, "%s: no actor left", what);
	is_int(st.msgs_delivered, ROUNDS + 2, "%s: every message delivered",
	       what);
	if (sa != sb)
		ok(st.msgs_remote >= ROUNDS && st.msgring_batches > 0,
		   "%s: messages crossed by msg_ring (%llu remote, %llu "
		   "batches)", what, (unsigned long long)st.msgs_remote,
		   (unsigned long long)st.msgring_batches);
	else
		ok(st.msgs_local >= ROUNDS && st.msgs_remote == 0,
		   "%s: all sends stayed local", what);
	/* The ball's ROUNDS + 1 passes are sent by actors (the start is not). */
	timed = ra_hdr_total_count(st.run_ns);
	if (sample == 1)
		ok(timed == ROUNDS + 1 &&
		   ra_hdr_total_count(st.mailbox_wait_ns) == ROUNDS + 1,
		   "%s: every message timed (%lld)", what, (long long)timed);
	else if (sample == 0)
		ok(timed == 0, "%s: no message timed (%lld)", what,
		   (long long)timed);
	else
		ok(timed >= (ROUNDS + 1) / sample - 2 &&
		   timed <= (ROUNDS + 1) / sample + 2,
		   "%s: one message in %u timed (%lld)", what, sample,
		   (long long)timed);
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "%s: destroy", what);
}

static int quiet_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

/* Takes messages, answers none; counts its terminate in `terms`. */
static const ra_actor_def_t quiet_def = {
	.name = "quiet",
	.behavior = quiet_behavior,
	.terminate = pp_term,
};

/*
 * ra_runtime_stop(): terminate runs, the figures stay readable, new work
 * is refused, a second stop does nothing, destroy frees the rest.
 */
static void test_stop_then_destroy(void)
{
	ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = 1 };
	ra_runtime_t *rt;
	ra_config_t cfg;
	ra_stats_t st;
	ra_ref_t a = RA_REF_NULL;
	unsigned n = 7;

	ra_config_init(&cfg);
	cfg.shards = 2;
	atomic_store(&terms, 0);
	ok(ra_runtime_create(&cfg, &rt) == 0 &&
	   ra_runtime_spawn(rt, &quiet_def, NULL, &o, &a) == 0 &&
	   ra_runtime_send(rt, a, 1, &n, sizeof(n)) == 0,
	   "stop: an actor, one message");
	is_int(ra_runtime_stop(rt), 0, "stop: returns 0");
	is_int(atomic_load(&terms), 1, "stop: terminate ran");
	ok(ra_stats_snapshot(rt, &st) == 0 && st.actors_live == 0 &&
	   st.actors_spawned == 1 && st.msgs_delivered + st.dead_letters == 1,
	   "stop: final figures readable (1 spawned, 0 live, the message "
	   "delivered or a dead letter)");
	ra_stats_fini(&st);
	is_int(ra_runtime_spawn(rt, &quiet_def, NULL, &o, NULL), -ESHUTDOWN,
	       "stop: spawn after it: -ESHUTDOWN");
	is_int(ra_runtime_send(rt, a, 1, &n, sizeof(n)), -ESRCH,
	       "stop: send after it: -ESRCH");
	is_int(ra_runtime_stop(rt), 0, "stop: a second stop does nothing");
	is_int(ra_runtime_destroy(rt), 0, "stop: destroy after stop");
	is_int(ra_runtime_stop(NULL), -EINVAL, "stop(NULL): -EINVAL");
}

/* Raise SIGUSR1 at the process after a short while, from another thread. */
static void *raiser(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	usleep(50000);
	kill(getpid(), SIGUSR1);
	return NULL;
}

/* Stops itself at its first message. */
static int stop_at_once(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	(void)m;
	ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t once_def = {
	.name = "once", .behavior = stop_at_once,
};

/*
 * ra_runtime_run_until_signal: a process-directed SIGUSR1 (whose default
 * action would kill the process) reaches the waiting thread, not a shard
 * thread; the wait also ends when the last actor stops.
 */
static void test_run_until_signal(void)
{
	ra_runtime_t *rt = tu_runtime(2);
	sigset_t set;
	pthread_t t;
	ra_ref_t a;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ra_runtime_spawn(rt, &quiet_def, NULL, NULL, &a);
	pthread_create(&t, NULL, raiser, NULL);
	is_int(ra_runtime_run_until_signal(rt, &set), SIGUSR1,
	       "run_until_signal returns the signal that came");
	pthread_join(t, NULL);
	ra_runtime_stop_actor(rt, a);
	ra_runtime_spawn(rt, &once_def, NULL, NULL, &a);
	ra_runtime_send(rt, a, 1, NULL, 0);
	is_int(ra_runtime_run_until_signal(rt, &set), 0,
	       "... or 0 once the last actor has stopped");
	is_int(ra_runtime_run_until_signal(NULL, &set), -EINVAL, "rt NULL");
	is_int(ra_runtime_run_until_signal(rt, NULL), -EINVAL, "set NULL");
	ra_runtime_destroy(rt);
}

int main(void)
{
	tap_timeout(60);
	plan(3 + 7 + 11 + 4 + 3 * 10 + 9);
	test_start_stop();
	test_bad_config();
	test_struct_sizes();
	test_run_until_signal();
	test_pingpong(1, 0, 0, 1, "1 shard");
	test_pingpong(2, 0, 1, RA_DEFAULT_TIMING_SAMPLE, "2 shards across");
	test_pingpong(4, 3, 1, 0, "4 shards across");
	test_stop_then_destroy();
	return exit_status();
}
