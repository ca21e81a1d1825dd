/*
 * t/steal_outside.c: ra_runtime_send to actors made stealable at run time.
 *
 * A non-shard sender reads the target's home from its slot, then injects
 * the envelope there through the runtime's injection ring, which the
 * acknowledgement round of ra_set_stealable() (actors/fence.h) does not
 * cover. So it counts every message in the slot's `inflight`, pinned
 * target or not (send_from_outside(), actors/send.c). Were it to count
 * only for targets already stealable, a message that read "pinned, home
 * 0" could land on shard 0 after the actor was made stealable and
 * stolen: a dead letter, and a hole in that sender's sequence.
 *
 * That window (allocating the envelope, waiting for the injection ring's
 * mutex, one msg_ring) is narrow, so the runtime is created with
 * RA_TEST_OUTSIDE_SEND_DELAY_NS (RA_DELAY_NS here, default 100 us): every
 * ra_runtime_send sleeps that long between reading the home and the
 * injection.
 *
 * RA_ACTORS (default 1000) receivers are spawned pinned on shard 0 of
 * RA_SHARDS (default 2: on a small machine more shards only take CPU from
 * shard 0 and its thief, and steals then come too late to fall in the
 * window), beside NBUSY pinned actors that keep shard 0 the most loaded,
 * with aggressive steal knobs. NSENDERS non-shard threads (pthreads, so
 * also threads other than the runtime's creator, and main) each send
 * BURST numbered messages in a row to each receiver of theirs, PASSES
 * times over, and more passes while fewer than RA_ACTORS / 4 actors have
 * moved (a machine busy with other work steals less per pass). A receiver makes itself stealable at its k-th message (k in
 * 1..BURST-1, by RA_SEED), while its sender's next message sits in the
 * delay, so it may be stolen right then; from the second pass on it flips
 * between pinned and stealable every 2 to 4 messages. Every receiver
 * checks per-sender FIFO and exactly-once. At the end: every send was
 * accepted, sent == received and per pair, no dead letters, no actor
 * moved while pinned, and enough migrations while the senders ran (a run
 * that steals nothing proves nothing). Once everything has arrived,
 * main sends every receiver a marker with the counts it must have had
 * from each sender by then: injected after every number, it arrives
 * behind them, so nothing late can slip past the counts.
 *
 * With send_from_outside() counting only stealable targets, this lost
 * about 900 of its 12000 messages (as dead letters) in every run on 2
 * vCPUs; 0 to 2 with RA_DELAY_NS=0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"
#include "steal_util.h"

#define MAX_RECV	4096
#define NSENDERS	3	/* two pthreads and main */
#define NBUSY		2	/* pinned self-pingers: shard 0 stays loaded */
#define BURST		6	/* messages in a row to one receiver */
#define PASSES		2

enum { T_NUM = 1, T_PING, T_END };

struct num {
	uint32_t sender;
	uint32_t seq;
};

static unsigned nshards, nrecv;
static uint64_t seed;
static ra_runtime_t *rt;
static ra_ref_t recv_ref[MAX_RECV];
/* Receiver side (the actor's current home): next seq, and how many. */
static uint32_t recv_next[MAX_RECV][NSENDERS], recv_got[MAX_RECV][NSENDERS];
/* Sender side: messages sender s sent to r (main reads after the join). */
static uint32_t sent_seq[NSENDERS][MAX_RECV];
static atomic_long sent_total, recv_total, bad_order, pinned_moved;
static atomic_long send_errors, ends, bad_ends;
static atomic_int busy_stop, first_send_error;

/* ---- receivers ---- */

struct recv_state {
	uint32_t idx;
	struct movability mv;	/* stealable now, or pinned where */
	uint32_t nmsgs;		/* numbers handled */
	uint32_t when;		/* made stealable at this count */
	uint32_t period;	/* from the second pass: flip every period */
};

/*
 * The first flip comes mid-burst: the sender has already read "pinned"
 * for its next message and sleeps in the delay. Stay stealable for the
 * rest of the first pass, so that the steal may come then.
 */
static void recv_step(ra_ctx_t *self, struct recv_state *st)
{
	if (st->nmsgs == st->when)
		set_movable(self, &st->mv, true);
	else if (st->nmsgs >= BURST && st->nmsgs % st->period == 0)
		set_movable(self, &st->mv, !st->mv.movable);
}

static int recv_init(ra_ctx_t *self, void *state, void *arg)
{
	struct recv_state *st = state;

	st->idx = (uint32_t)(uintptr_t)arg;
	st->mv.pin_shard = ra_shard_id(self);
	st->when = 1 + mix32(seed + st->idx) % (BURST - 1);
	st->period = 2 + mix32(seed ^ (st->idx + 0x5bd1e995u)) % 3;
	return 0;
}

static int recv_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct recv_state *st = state;
	uint32_t want[NSENDERS];
	struct num n;

	if (m->type == T_END && m->len == sizeof(want)) {
		/* Everything sent before the marker has arrived before it. */
		memcpy(want, m->data, sizeof(want));
		for (unsigned s = 0; s < NSENDERS; s++)
			if (recv_got[st->idx][s] != want[s] ||
			    recv_next[st->idx][s] != want[s])
				atomic_fetch_add(&bad_ends, 1);
		atomic_fetch_add(&ends, 1);
		return 0;
	}
	if (m->type != T_NUM || m->len != sizeof(n))
		return 0;
	memcpy(&n, m->data, sizeof(n));
	if (moved_while_pinned(self, &st->mv))
		atomic_fetch_add(&pinned_moved, 1);
	if (n.sender >= NSENDERS) {
		atomic_fetch_add(&bad_order, 1);
	} else {
		/* A hole (lost), a repeat or a swap: count it, resync. */
		if (recv_next[st->idx][n.sender] != n.seq)
			atomic_fetch_add(&bad_order, 1);
		recv_next[st->idx][n.sender] = n.seq + 1;
		recv_got[st->idx][n.sender]++;
	}
	st->nmsgs++;
	recv_step(self, st);
	/* Release: main reads recv_next/recv_got after seeing the total. */
	atomic_fetch_add(&recv_total, 1);
	return 0;
}

static const ra_actor_def_t recv_def = {
	.name = "receiver",
	.state_size = sizeof(struct recv_state),
	.init = recv_init,
	.behavior = recv_behavior,
};

/* ---- busy: always one message queued, so shard 0 looks loaded ---- */

static int busy_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return ra_send(self, ra_self(self), T_PING, NULL, 0);
}

static int busy_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	(void)m;
	if (atomic_load(&busy_stop))
		return -ECANCELED;
	return ra_send(self, ra_self(self), T_PING, NULL, 0) < 0 ? -1 : 0;
}

static const ra_actor_def_t busy_def = {
	.name = "busy",
	.init = busy_init,
	.behavior = busy_behavior,
};

/* ---- non-shard senders ---- */

static void send_num(uint32_t s, unsigned r)
{
	struct num n = { s, sent_seq[s][r] };
	int ret = ra_runtime_send(rt, recv_ref[r], T_NUM, &n, sizeof(n));

	if (ret != 0) {
		int none = 0;

		atomic_compare_exchange_strong(&first_send_error, &none, ret);
		atomic_fetch_add(&send_errors, 1);
		return;
	}
	sent_seq[s][r]++;
	atomic_fetch_add(&sent_total, 1);
}

static uint64_t senders_deadline;	/* no pass past PASSES after it */

/*
 * Past PASSES, more passes until enough actors have moved (a machine busy
 * with other work steals less per pass), or the deadline.
 */
static bool another_pass(unsigned p)
{
	return p < PASSES ||
	       (steal_migrations(rt, nshards) < nrecv / 4 &&
		ra_now_ns() < senders_deadline);
}

/* Sender `s` owns the receivers r with r % NSENDERS == s. */
static void *sender_main(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg;

	for (unsigned p = 0; another_pass(p); p++)
		for (unsigned r = s; r < nrecv; r += NSENDERS)
			for (unsigned i = 0; i < BURST; i++)
				send_num(s, r);
	return NULL;
}

/* ---- the test ---- */

static uint64_t dead_letters(void)
{
	ra_stats_t st;
	uint64_t d = 0;

	if (ra_stats_snapshot(rt, &st) == 0) {
		d = st.dead_letters;
		ra_stats_fini(&st);
	}
	return d;
}

/* The runtime, with the delay in its environment only while created. */
static int create_runtime(uint64_t delay_ns)
{
	ra_config_t cfg;
	char buf[32];
	int ret;

	steal_config_aggressive(&cfg, nshards);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)delay_ns);
	setenv("RA_TEST_OUTSIDE_SEND_DELAY_NS", buf, 1);
	ret = ra_runtime_create(&cfg, &rt);
	unsetenv("RA_TEST_OUTSIDE_SEND_DELAY_NS");
	return ret;
}

static int spawn_all(void)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	int ret = 0;

	for (unsigned i = 0; i < NBUSY && ret == 0; i++)
		ret = ra_runtime_spawn(rt, &busy_def, NULL, &on0, NULL);
	for (unsigned r = 0; r < nrecv && ret == 0; r++)
		ret = ra_runtime_spawn(rt, &recv_def, (void *)(uintptr_t)r,
				       &on0, &recv_ref[r]);
	return ret;
}

/* Run every sender; main is the last. Returns the pthreads started. */
static unsigned run_senders(void)
{
	pthread_t th[NSENDERS - 1];
	unsigned n;

	for (n = 0; n < NSENDERS - 1; n++)
		if (pthread_create(&th[n], NULL, sender_main,
				   (void *)(uintptr_t)n))
			break;
	sender_main((void *)(uintptr_t)(NSENDERS - 1));
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return n;
}

/*
 * Until all arrived, or what is missing is accounted as dead letters;
 * then a marker to every receiver, behind everything the senders sent
 * (all of it was injected before, from threads main has joined), with
 * the counts it must have had from each sender by then. True when every
 * marker arrived.
 */
static bool drain(void)
{
	uint64_t end = ra_now_ns() + scaled_ns(10000000000ull);

	while (atomic_load(&recv_total) < atomic_load(&sent_total) &&
	       ra_now_ns() < end) {
		sleep_ms(5);
		if ((uint64_t)atomic_load(&recv_total) + dead_letters() >=
		    (uint64_t)atomic_load(&sent_total))
			break;
	}
	for (unsigned r = 0; r < nrecv; r++) {
		uint32_t want[NSENDERS];

		for (unsigned s = 0; s < NSENDERS; s++)
			want[s] = sent_seq[s][r];
		if (ra_runtime_send(rt, recv_ref[r], T_END, want,
				    sizeof(want)) != 0)
			return false;
	}
	while (atomic_load(&ends) < (long)nrecv && ra_now_ns() < end)
		sleep_ms(1);
	return atomic_load(&ends) == (long)nrecv;
}

static void checks(uint64_t moves, bool marked)
{
	long sent = atomic_load(&sent_total), got = atomic_load(&recv_total);
	unsigned mismatch = 0;
	ra_stats_t st;

	ok(sent == got, "every message arrived (%ld sent, %ld got, %ld "
	   "lost)", sent, got, sent - got);
	is_int(atomic_load(&bad_order), 0,
	       "no message out of order, lost or repeated");
	for (unsigned r = 0; r < nrecv; r++)
		for (unsigned s = 0; s < NSENDERS; s++)
			if (recv_got[r][s] != sent_seq[s][r] ||
			    recv_next[r][s] != sent_seq[s][r])
				mismatch++;
	is_int(mismatch, 0, "per pair, received count == sent count");
	ok(marked && atomic_load(&bad_ends) == 0, "every receiver had every "
	   "number before main's marker (%ld markers, %ld off)",
	   atomic_load(&ends), atomic_load(&bad_ends));
	is_int(atomic_load(&pinned_moved), 0, "no actor moved while pinned");
	ok(atomic_load(&set_errors) == 0 &&
	   atomic_load(&made_stealable) >= (long)nrecv,
	   "ra_set_stealable never failed (%ld made stealable)",
	   atomic_load(&made_stealable));
	ok(moves >= nrecv / 4, "%llu migrations while the "
	   "senders ran (>= %llu)", (unsigned long long)moves,
	   (unsigned long long)(nrecv / 4));
	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("no stats");
	is_int(st.dead_letters, 0, "no dead letters");
	diag("%llu migrations in all; refusals: %llu in flight, %llu not "
	     "quiescent, %llu below margin; %llu steal attempts",
	     (unsigned long long)st.actors_migrated,
	     (unsigned long long)st.refusals_in_flight,
	     (unsigned long long)st.refusals_not_quiescent,
	     (unsigned long long)st.refusals_below_margin,
	     (unsigned long long)st.steal_attempts);
	ra_stats_fini(&st);
}

int main(void)
{
	uint64_t delay_ns, t0, moves;
	unsigned started;
	bool marked;

	plan(12);
	tap_timeout(180);
	nshards = (unsigned)tap_env_ull("RA_SHARDS", 2);
	nrecv = (unsigned)tap_env_ull("RA_ACTORS", 1000);
	delay_ns = tap_env_ull("RA_DELAY_NS", 100000);
	seed = tap_env_ull("RA_SEED", (unsigned long long)ra_now_ns());
	if (nshards < 2 || nshards > 64)
		nshards = 2;
	if (nrecv < NSENDERS || nrecv > MAX_RECV)
		nrecv = 1000;
	diag("seed %llu, delay %llu ns", (unsigned long long)seed,
	     (unsigned long long)delay_ns);
	is_int(create_runtime(delay_ns), 0, "runtime with %u shards, "
	       "outside sends delayed %llu ns", nshards,
	       (unsigned long long)delay_ns);
	if (!rt)
		bail_out("no runtime");
	is_int(spawn_all(), 0, "%u receivers and %u busy actors, pinned on "
	       "shard 0", nrecv, NBUSY);
	/* Long enough for a busy machine, which steals less per pass. */
	t0 = ra_now_ns();
	senders_deadline = t0 + scaled_ns(60000000000ull);
	started = run_senders();
	moves = steal_migrations(rt, nshards);
	ok(started == NSENDERS - 1 && atomic_load(&send_errors) == 0,
	   "%u senders sent %ld in %llu ms, every send accepted (%ld "
	   "refused, first with %d)", NSENDERS, atomic_load(&sent_total),
	   (unsigned long long)((ra_now_ns() - t0) / 1000000),
	   atomic_load(&send_errors), atomic_load(&first_send_error));
	marked = drain();
	checks(moves, marked);
	atomic_store(&busy_stop, 1);
	is_int(ra_runtime_destroy(rt), 0, "destroy");
	return exit_status();
}
