/*
 * t/steal.c: work stealing and the migration hand-off.
 *
 * 1. Storm: RA_ACTORS (default 2000) stealable receivers all spawned on
 *    shard 0 of RA_SHARDS (default 4), plus a few pinned receivers there,
 *    get numbered messages from a pinned sender on every shard and from
 *    main (ra_runtime_send) while the shards steal from each other with
 *    aggressive knobs. Every receiver checks per-sender FIFO and
 *    exactly-once; at the end every pair's count must match, at least
 *    1000 migrations must have happened, and pinned actors never moved.
 * 2. I/O: a stealable actor with an ra_io_recv pending is never migrated
 *    (refusals are counted as not quiescent); once the recv completes it
 *    may move, and does.
 * 3. Destroy in the middle of a storm: every actor's terminate runs
 *    exactly once, no message is seen out of order or twice, and
 *    (under ASan) nothing leaks.
 * RA_SEED picks the receivers each sender targets.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define MAX_RECV	8192
#define NPINNED		8
#define MAX_SHARDS	16
#define NSENDERS	(MAX_SHARDS + 1)	/* shard senders + main */
#define WINDOW		20000			/* messages in flight, at most */
#define BURST		64			/* messages per sender tick */

enum { T_TICK = 1, T_NUM, T_PING };

#define RA_ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

struct num {
	uint32_t sender;
	uint32_t seq;
};

static unsigned nshards, nrecv, ntotal;	/* ntotal: stealable + pinned */
static uint64_t seed;
static ra_ref_t recv_ref[MAX_RECV + NPINNED];
/* recv_last[r][s]: next seq receiver r expects from sender s. */
static uint32_t recv_last[MAX_RECV + NPINNED][NSENDERS];
/* sent_seq[s][r]: messages sender s sent to r (senders write at stop). */
static uint32_t sent_seq[NSENDERS][MAX_RECV + NPINNED];
static atomic_int term_count[MAX_RECV + NPINNED + MAX_SHARDS];
static atomic_long sent_total, recv_total, bad_order, pinned_moved;
static atomic_int senders_done, stop_senders;

/* ---- receivers ---- */

struct recv_state {
	uint32_t idx;
	bool pinned;
	unsigned home;		/* pinned: the shard it must stay on */
};

static int recv_init(ra_ctx_t *self, void *state, void *arg)
{
	struct recv_state *st = state;

	st->idx = (uint32_t)(uintptr_t)arg;
	st->pinned = st->idx >= nrecv;
	st->home = ra_shard_id(self);
	return 0;
}

static int recv_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct recv_state *st = state;
	struct num n;

	if (m->type != T_NUM || m->len != sizeof(n))
		return 0;
	memcpy(&n, m->data, sizeof(n));
	if (st->pinned && ra_shard_id(self) != st->home)
		atomic_fetch_add(&pinned_moved, 1);
	if (n.sender >= NSENDERS || recv_last[st->idx][n.sender] != n.seq)
		atomic_fetch_add(&bad_order, 1);
	else
		recv_last[st->idx][n.sender] = n.seq + 1;
	/* Release: main reads recv_last after seeing the total. */
	atomic_fetch_add(&recv_total, 1);
	return 0;
}

static void recv_term(ra_ctx_t *self, void *state, int reason)
{
	struct recv_state *st = state;

	(void)self;
	(void)reason;
	atomic_fetch_add(&term_count[st->idx], 1);
}

static const ra_actor_def_t recv_def = {
	.name = "receiver",
	.state_size = sizeof(struct recv_state),
	.init = recv_init,
	.behavior = recv_behavior,
	.terminate = recv_term,
};

/* ---- senders: one pinned per shard ---- */

struct send_state {
	uint32_t id;
	unsigned home;
	uint64_t rng;
	uint32_t seq[MAX_RECV + NPINNED];
};

static uint32_t pick(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) % ntotal);
}

static int send_init(ra_ctx_t *self, void *state, void *arg)
{
	struct send_state *st = state;

	st->id = (uint32_t)(uintptr_t)arg;
	st->home = ra_shard_id(self);
	st->rng = seed * 31 + st->id;
	return ra_send(self, ra_self(self), T_TICK, NULL, 0);
}

static int send_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct send_state *st = state;

	(void)m;
	if (ra_shard_id(self) != st->home)
		atomic_fetch_add(&pinned_moved, 1);
	if (atomic_load(&stop_senders))
		return -ECANCELED;	/* stop; terminate publishes seq[] */
	if (atomic_load(&sent_total) - atomic_load(&recv_total) < WINDOW) {
		for (int i = 0; i < BURST; i++) {
			uint32_t r = pick(&st->rng);
			struct num n = { st->id, st->seq[r] };

			if (ra_send(self, recv_ref[r], T_NUM, &n, sizeof(n)))
				continue;	/* destroy test: it stopped */
			st->seq[r]++;
			atomic_fetch_add(&sent_total, 1);
		}
	}
	return ra_send(self, ra_self(self), T_TICK, NULL, 0);
}

static void send_term(ra_ctx_t *self, void *state, int reason)
{
	struct send_state *st = state;

	(void)self;
	(void)reason;
	memcpy(sent_seq[st->id], st->seq, sizeof(st->seq[0]) * ntotal);
	atomic_fetch_add(&term_count[ntotal + st->id], 1);
	atomic_fetch_add(&senders_done, 1);
}

static const ra_actor_def_t send_def = {
	.name = "sender",
	.state_size = sizeof(struct send_state),
	.init = send_init,
	.behavior = send_behavior,
	.terminate = send_term,
};

/* Sanitizer builds run slower: RA_TEST_TIME_SCALE stretches deadlines. */
static uint64_t scaled_ns(uint64_t ns)
{
	return ns * tap_env_ull("RA_TEST_TIME_SCALE", 1);
}

static void storm_config(ra_config_t *cfg)
{
	ra_config_init(cfg);
	cfg->shards = nshards;
	/* Aggressive: any difference is worth a steal, retry soon. */
	cfg->steal_margin = 0;
	cfg->steal_probe = 3;
	cfg->steal_batch = 16;
	cfg->steal_budget = 64;
	cfg->steal_backoff_min_ns = 1000;
	cfg->steal_backoff_max_ns = 50000;
}

static int start_storm(ra_runtime_t *rt)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0,
				.flags = RA_SPAWN_STEALABLE };
	ra_spawn_opts_t pinned = { .placement = RA_PLACE_SHARD, .shard = 0 };

	memset(recv_last, 0, sizeof(recv_last));
	memset(sent_seq, 0, sizeof(sent_seq));
	for (unsigned i = 0; i < RA_ARRAY_SIZE_T(term_count); i++)
		atomic_store(&term_count[i], 0);
	atomic_store(&sent_total, 0);
	atomic_store(&recv_total, 0);
	atomic_store(&bad_order, 0);
	atomic_store(&pinned_moved, 0);
	atomic_store(&senders_done, 0);
	atomic_store(&stop_senders, 0);
	for (unsigned r = 0; r < ntotal; r++) {
		int ret = ra_runtime_spawn(rt, &recv_def, (void *)(uintptr_t)r,
					   r < nrecv ? &on0 : &pinned,
					   &recv_ref[r]);
		if (ret < 0)
			return ret;
	}
	for (unsigned s = 0; s < nshards; s++) {
		ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = s };
		int ret = ra_runtime_spawn(rt, &send_def, (void *)(uintptr_t)s,
					   &o, NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Main is sender `nshards`: a burst of ra_runtime_send, flow-controlled. */
static uint32_t main_seq[MAX_RECV + NPINNED];
static uint64_t main_rng;

static void main_burst(ra_runtime_t *rt)
{
	uint32_t id = nshards;

	if (atomic_load(&sent_total) - atomic_load(&recv_total) >= WINDOW)
		return;
	for (int i = 0; i < 16; i++) {
		uint32_t r = pick(&main_rng);
		struct num n = { id, main_seq[r] };

		if (ra_runtime_send(rt, recv_ref[r], T_NUM, &n, sizeof(n)))
			continue;
		main_seq[r]++;
		atomic_fetch_add(&sent_total, 1);
	}
}

/* Migrations so far, without merging histograms (cheap to poll). */
static uint64_t migrated(ra_runtime_t *rt, ra_stats_t *st)
{
	uint64_t m = 0;

	(void)st;
	for (unsigned s = 0; s < nshards; s++) {
		ra_shard_info_t si;

		if (ra_shard_info(rt, s, &si) == 0)
			m += si.actors_in;
	}
	return m;
}

static void test_storm(void)
{
	ra_runtime_t *rt;
	ra_config_t cfg;
	ra_stats_t st;
	uint64_t end, mig = 0;
	long sent, got;
	unsigned mismatch = 0, bad_terms = 0;
	int ret;

	storm_config(&cfg);
	ret = ra_runtime_create(&cfg, &rt);
	is_int(ret, 0, "storm: runtime with %u shards", nshards);
	if (ret < 0)
		bail_out("no runtime");
	memset(main_seq, 0, sizeof(main_seq));
	main_rng = seed;
	ok(start_storm(rt) == 0, "storm: %u stealable + %u pinned receivers "
	   "on shard 0, %u senders", nrecv, NPINNED, nshards);
	/* Run until past 1000 migrations, at least 300 ms, at most 20 s. */
	end = ra_now_ns() + scaled_ns(20000000000ull);
	for (uint64_t t0 = ra_now_ns(); ra_now_ns() < end;) {
		main_burst(rt);
		sleep_ms(1);
		if (ra_now_ns() - t0 > 300000000ull &&
		    (mig = migrated(rt, &st)) >= 1200)
			break;
	}
	mig = migrated(rt, &st);
	atomic_store(&stop_senders, 1);
	ok(wait_for(&senders_done, (int)nshards, 30000000000ull) == 0,
	   "storm: every sender stopped");
	/* Drain: everything sent must arrive. */
	end = ra_now_ns() + 30000000000ull;
	while (atomic_load(&recv_total) < atomic_load(&sent_total) &&
	       ra_now_ns() < end)
		sleep_ms(1);
	sent = atomic_load(&sent_total);
	got = atomic_load(&recv_total);
	ok(sent == got, "storm: every message arrived (%ld sent, %ld got)",
	   sent, got);
	is_int(atomic_load(&bad_order), 0,
	       "storm: no message out of order, lost or repeated");
	memcpy(sent_seq[nshards], main_seq, sizeof(main_seq[0]) * ntotal);
	for (unsigned r = 0; r < ntotal; r++)
		for (unsigned s = 0; s <= nshards; s++)
			if (recv_last[r][s] != sent_seq[s][r])
				mismatch++;
	is_int(mismatch, 0, "storm: per pair, received count == sent count");
	is_int(atomic_load(&pinned_moved), 0,
	       "storm: pinned actors never moved");
	ok(ra_stats_snapshot(rt, &st) == 0, "storm: stats");
	ok(st.actors_migrated >= 1000, "storm: >= 1000 migrations (%llu; "
	   "%llu attempts, %llu successes, refusals: %llu in flight, "
	   "%llu not quiescent, %llu pinned, %llu below margin)",
	   (unsigned long long)st.actors_migrated,
	   (unsigned long long)st.steal_attempts,
	   (unsigned long long)st.steal_successes,
	   (unsigned long long)st.refusals_in_flight,
	   (unsigned long long)st.refusals_not_quiescent,
	   (unsigned long long)st.refusals_pinned,
	   (unsigned long long)st.refusals_below_margin);
	is_int(st.dead_letters, 0, "storm: no dead letters");
	diag("storm: %llu messages, busy %llu ms over all shards",
	     (unsigned long long)got,
	     (unsigned long long)(st.busy_ns / 1000000));
	ra_stats_fini(&st);
	(void)mig;
	for (unsigned s = 0; s < nshards; s++) {
		ra_shard_info_t si;

		if (ra_shard_info(rt, s, &si) == 0)
			diag("shard %u: busy %llu ms, %llu in, %llu out", s,
			     (unsigned long long)(si.busy_ns / 1000000),
			     (unsigned long long)si.actors_in,
			     (unsigned long long)si.actors_out);
	}
	is_int(ra_runtime_destroy(rt), 0, "storm: destroy");
	for (unsigned i = 0; i < ntotal + nshards; i++)
		if (atomic_load(&term_count[i]) != 1)
			bad_terms++;
	is_int(bad_terms, 0, "storm: terminate ran exactly once per actor");
}

/* ---- 2: an actor with a recv pending stays put ---- */

static atomic_int io_done, io_moved, io_written, io_moved_early, busy_stop;
static atomic_long io_pings;

static int busy_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	(void)m;
	if (atomic_load(&busy_stop))
		return -ECANCELED;
	/* Always one queued: the shard always looks loaded. */
	return ra_send(self, ra_self(self), T_PING, NULL, 0) < 0 ? -1 : 0;
}

static int busy_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return ra_send(self, ra_self(self), T_PING, NULL, 0);
}

static const ra_actor_def_t busy_def = {
	.name = "busy",
	.init = busy_init,
	.behavior = busy_behavior,
};

/*
 * The recv actor keeps pinging itself, so it always has queued work (a
 * steal candidate but for its pending recv), and records its shard in
 * every call: before main writes the byte it must never have moved.
 */
struct io_state {
	int fd;
	char buf[8];
	unsigned shard;
};

static int io_init(ra_ctx_t *self, void *state, void *arg)
{
	struct io_state *st = state;
	int ret;

	st->fd = (int)(intptr_t)arg;
	st->shard = ra_shard_id(self);
	ret = ra_io_recv(self, st->fd, st->buf, 1, 7);
	return ret < 0 ? ret : ra_send(self, ra_self(self), T_PING, NULL, 0);
}

static int io_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct io_state *st = state;

	if (ra_shard_id(self) != st->shard) {
		if (!atomic_load(&io_written))
			atomic_store(&io_moved_early, 1);
		atomic_store(&io_moved, 1);
	}
	if (m->type == RA_MSG_IO) {
		atomic_store(&io_done, 1);
		return 0;
	}
	atomic_fetch_add(&io_pings, 1);
	if (atomic_load(&io_moved) || atomic_load(&busy_stop))
		return 0;	/* done: no more pings */
	return ra_send(self, ra_self(self), T_PING, NULL, 0);
}

static const ra_actor_def_t io_def = {
	.name = "io",
	.state_size = sizeof(struct io_state),
	.init = io_init,
	.behavior = io_behavior,
};

static void test_io_pins(void)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t steal0 = { .placement = RA_PLACE_SHARD, .shard = 0,
				   .flags = RA_SPAWN_STEALABLE };
	ra_runtime_t *rt;
	ra_config_t cfg;
	ra_stats_t st;
	int sv[2];
	uint64_t refusals = 0;

	ra_config_init(&cfg);
	cfg.shards = 2;
	cfg.steal_margin = 0;
	cfg.steal_backoff_min_ns = 1000;
	cfg.steal_backoff_max_ns = 100000;
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 &&
	   ra_runtime_create(&cfg, &rt) == 0, "io: runtime and socketpair");
	ok(ra_runtime_spawn(rt, &busy_def, NULL, &on0, NULL) == 0 &&
	   ra_runtime_spawn(rt, &io_def, (void *)(intptr_t)sv[0], &steal0,
			    NULL) == 0, "io: busy (pinned) and recv actor "
	   "(stealable) on shard 0");
	/* Wait for refusals while the recv is pending. */
	for (uint64_t end = ra_now_ns() + 10000000000ull;
	     ra_now_ns() < end && refusals < 20;) {
		sleep_ms(5);
		if (ra_stats_snapshot(rt, &st) == 0) {
			refusals = st.refusals_not_quiescent;
			ra_stats_fini(&st);
		}
	}
	ok(refusals >= 20, "io: steal requests refused as not quiescent "
	   "(%llu)", (unsigned long long)refusals);
	ok(!atomic_load(&io_done) && !atomic_load(&io_moved) &&
	   atomic_load(&io_pings) > 0, "io: still waiting, not moved, "
	   "busy with %ld pings", atomic_load(&io_pings));
	atomic_store(&io_written, 1);
	ok(write(sv[1], "x", 1) == 1, "io: complete the recv");
	for (uint64_t end = ra_now_ns() + 10000000000ull;
	     ra_now_ns() < end && !atomic_load(&io_moved);)
		sleep_ms(1);
	ok(atomic_load(&io_done) && !atomic_load(&io_moved_early),
	   "io: ra_shard_id() never changed while the recv was pending");
	ok(atomic_load(&io_moved), "io: once quiescent, the actor moved");
	atomic_store(&busy_stop, 1);
	is_int(ra_runtime_destroy(rt), 0, "io: destroy");
	close(sv[0]);
	close(sv[1]);
}

/* ---- 3: destroy in the middle of a storm ---- */

static void test_destroy_mid_storm(void)
{
	ra_runtime_t *rt;
	ra_config_t cfg;
	ra_stats_t st;
	unsigned bad_terms = 0;
	uint64_t mig = 0;

	storm_config(&cfg);
	ok(ra_runtime_create(&cfg, &rt) == 0, "destroy: runtime");
	ok(start_storm(rt) == 0, "destroy: storm started");
	for (uint64_t end = ra_now_ns() + scaled_ns(10000000000ull);
	     ra_now_ns() < end && mig < 200;) {
		sleep_ms(1);
		mig = migrated(rt, &st);
	}
	ok(mig >= 200, "destroy: migrating (%llu so far)",
	   (unsigned long long)mig);
	is_int(ra_runtime_destroy(rt), 0, "destroy: while stealing");
	for (unsigned i = 0; i < ntotal + nshards; i++)
		if (atomic_load(&term_count[i]) != 1)
			bad_terms++;
	is_int(bad_terms, 0, "destroy: terminate ran exactly once per actor");
	is_int(atomic_load(&bad_order), 0,
	       "destroy: no message out of order or repeated");
	is_int(atomic_load(&pinned_moved), 0,
	       "destroy: pinned actors never moved");
}

int main(void)
{
	plan(27);
	tap_timeout(120);
	nshards = (unsigned)tap_env_ull("RA_SHARDS", 4);
	nrecv = (unsigned)tap_env_ull("RA_ACTORS", 2000);
	seed = tap_env_ull("RA_SEED", (unsigned long long)ra_now_ns());
	if (nshards < 2 || nshards > MAX_SHARDS)
		nshards = 4;
	if (nrecv > MAX_RECV)
		nrecv = MAX_RECV;
	ntotal = nrecv + NPINNED;
	diag("seed %llu", (unsigned long long)seed);
	test_storm();
	test_io_pins();
	test_destroy_mid_storm();
	return exit_status();
}
