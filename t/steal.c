/*
 * t/steal.c: work stealing and the migration hand-off.
 *
 * 1. Storm: RA_ACTORS (default 2000) receivers all spawned on shard 0 of
 *    RA_SHARDS (default 4), plus a few pinned receivers there, get
 *    numbered messages from a pinned sender on every shard and from main
 *    (ra_runtime_send) while the shards steal from each other with
 *    aggressive knobs. Every receiver checks per-sender FIFO and
 *    exactly-once; at the end every pair's count must match, enough
 *    migrations must have happened, and no actor moved while pinned.
 *    Three storms, by how the receivers become stealable:
 *    a. spawned RA_SPAWN_STEALABLE;
 *    b. "late": spawned pinned, each calls ra_set_stealable(self, true)
 *       at its k-th message (k from 1 to 64, or in init for every 16th),
 *       so senders on every shard have uncounted messages on the way
 *       while its acknowledgement round runs (actors/fence.h);
 *    c. "toggle": spawned pinned, each flips between stealable and
 *       pinned every 2 to 8 messages; while pinned it must stay put.
 * 2. I/O: a stealable actor with an ra_io_recv pending is never migrated
 *    (refusals are counted as not quiescent); once the recv completes it
 *    may move, and does.
 * 3. Stop in the middle of a "late" storm (ra_runtime_stop, then
 *    ra_runtime_destroy), with a ledger: every message has an id;
 *    receivers record each one they process and acknowledge it to its
 *    sender. After the stop: no id was processed twice, every id a
 *    sender saw acknowledged was processed exactly once, and the final
 *    dead_letters equals exactly the sends refused (-ESRCH) plus the
 *    messages sent and never processed (numbers, acks, ticks); every
 *    terminate ran once; and (under ASan) nothing leaks.
 * RA_SEED picks the receivers each sender targets and when each becomes
 * stealable.
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
#include "steal_util.h"

#define MAX_RECV	8192
#define NPINNED		8
#define MAX_SHARDS	16
#define NSENDERS	(MAX_SHARDS + 1)	/* shard senders + main */
#define BURST		64			/* messages per sender tick */

/*
 * Messages sent and not yet handled, at most: RA_STEAL_WINDOW, default
 * 20000. A counted message in flight to an actor makes its victim refuse
 * it ("in flight"); under TSan a message stays in flight ~10x longer, so
 * with 20000 nearly every one of the 2000 actors always had one and the
 * storms moved 10-20x slower per second (1200 migrations took 160 s).
 * scripts/sanitize.sh sets 2000 for TSan: every storm then reaches its
 * full count there in ~15 s.
 */
static long window = 20000;

enum { T_TICK = 1, T_NUM, T_PING, T_ACK };

/* How the storm's receivers become stealable (see the top). */
enum storm_mode { MODE_SPAWNED, MODE_LATE, MODE_TOGGLE };
static const char *const mode_name[] = { "spawned", "late", "toggle" };

#define RA_ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

struct num {
	uint32_t sender;
	uint32_t seq;
	uint32_t id;		/* ledger index, or NO_ID */
};

/*
 * The ledger of the stop test (3): one entry per message id. Senders
 * take ids from ledger_next and set led_sent[] once ra_send accepted the
 * message; receivers bump led_done[]; senders set led_acked[] on the ack.
 */
#define LEDGER_MAX	(1u << 22)
#define NO_ID		UINT32_MAX
static bool ledger_on;
/* Stop test: numbers sent and handled after the ledger filled (no id). */
static atomic_long noid_sent, noid_done;
static atomic_uint ledger_next;
static _Atomic uint8_t led_sent[LEDGER_MAX], led_done[LEDGER_MAX],
	led_acked[LEDGER_MAX];
/* Per kind of user message: accepted by ra_send, refused, handled. */
enum { K_NUM, K_ACK, K_TICK, K_KINDS };
static atomic_long k_sent[K_KINDS], k_refused[K_KINDS], k_done[K_KINDS];
static atomic_long send_errors;	/* anything but 0 or -ESRCH */

static void count_send(int kind, int ret)
{
	if (ret == 0)
		atomic_fetch_add(&k_sent[kind], 1);
	else if (ret == -ESRCH)
		atomic_fetch_add(&k_refused[kind], 1);
	else
		atomic_fetch_add(&send_errors, 1);
}

static unsigned nshards, nrecv, ntotal;	/* ntotal: stealable + pinned */
static uint64_t seed;
static enum storm_mode mode;
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
	struct movability mv;	/* stealable now, or pinned where */
	uint32_t nmsgs;		/* numbers handled */
	uint32_t when;		/* late: at this count; toggle: period */
};

/* The storm mode's step after each number (the pinned extras: none). */
static void mode_step(ra_ctx_t *self, struct recv_state *st)
{
	if (st->idx >= nrecv)
		return;
	if (mode == MODE_LATE && !st->mv.movable && st->nmsgs >= st->when)
		set_movable(self, &st->mv, true);
	else if (mode == MODE_TOGGLE && st->nmsgs % st->when == 0)
		set_movable(self, &st->mv, !st->mv.movable);
}

static int recv_init(ra_ctx_t *self, void *state, void *arg)
{
	struct recv_state *st = state;

	st->idx = (uint32_t)(uintptr_t)arg;
	st->mv.movable = mode == MODE_SPAWNED && st->idx < nrecv;
	st->mv.pin_shard = ra_shard_id(self);
	st->when = mode == MODE_TOGGLE ? 2 + mix32(seed + st->idx) % 7
				       : 1 + mix32(seed + st->idx) % 64;
	if (mode == MODE_LATE && st->idx < nrecv && st->idx % 16 == 0)
		set_movable(self, &st->mv, true);
	return 0;
}

/* Stop test: record the id and acknowledge it to the sender. */
static void ledger_take(ra_ctx_t *self, const ra_msg_t *m, uint32_t id)
{
	if (id == NO_ID || id >= LEDGER_MAX)
		return;
	atomic_fetch_add(&led_done[id], 1);
	if (!ra_ref_is_null(m->from))
		count_send(K_ACK, ra_send(self, m->from, T_ACK, &id,
					  sizeof(id)));
}

static int recv_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct recv_state *st = state;
	struct num n;

	if (m->type != T_NUM || m->len != sizeof(n))
		return 0;
	memcpy(&n, m->data, sizeof(n));
	if (moved_while_pinned(self, &st->mv))
		atomic_fetch_add(&pinned_moved, 1);
	if (n.sender >= NSENDERS || recv_last[st->idx][n.sender] != n.seq)
		atomic_fetch_add(&bad_order, 1);
	else
		recv_last[st->idx][n.sender] = n.seq + 1;
	ledger_take(self, m, n.id);
	if (ledger_on && n.id == NO_ID)
		atomic_fetch_add(&noid_done, 1);
	atomic_fetch_add(&k_done[K_NUM], 1);
	st->nmsgs++;
	mode_step(self, st);
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

static int tick(ra_ctx_t *self)
{
	int ret = ra_send(self, ra_self(self), T_TICK, NULL, 0);

	count_send(K_TICK, ret);
	return ret;
}

static int send_init(ra_ctx_t *self, void *state, void *arg)
{
	struct send_state *st = state;

	st->id = (uint32_t)(uintptr_t)arg;
	st->home = ra_shard_id(self);
	st->rng = seed * 31 + st->id;
	return tick(self);
}

/* Stop test: the next ledger id, or NO_ID (ledger off, or full). */
static uint32_t next_id(void)
{
	uint32_t id;

	if (!ledger_on)
		return NO_ID;
	id = atomic_fetch_add(&ledger_next, 1);
	return id < LEDGER_MAX ? id : NO_ID;
}

static void burst(ra_ctx_t *self, struct send_state *st)
{
	for (int i = 0; i < BURST; i++) {
		uint32_t r = pick(&st->rng);
		struct num n = { st->id, st->seq[r], next_id() };
		int ret;

		/*
		 * A full ledger does not end the storm (under TSan it may
		 * fill before enough actors moved): later numbers carry no
		 * id and count only in the sent/handled totals.
		 */
		ret = ra_send(self, recv_ref[r], T_NUM, &n, sizeof(n));
		count_send(K_NUM, ret);
		if (ret)
			continue;	/* stop test: it stopped */
		if (n.id != NO_ID)
			atomic_store(&led_sent[n.id], 1);
		else if (ledger_on)
			atomic_fetch_add(&noid_sent, 1);
		st->seq[r]++;
		atomic_fetch_add(&sent_total, 1);
	}
}

static int send_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct send_state *st = state;
	uint32_t id;

	if (ra_shard_id(self) != st->home)
		atomic_fetch_add(&pinned_moved, 1);
	if (m->type == T_ACK && m->len == sizeof(id)) {
		memcpy(&id, m->data, sizeof(id));
		if (id < LEDGER_MAX)
			atomic_store(&led_acked[id], 1);
		atomic_fetch_add(&k_done[K_ACK], 1);
		return 0;
	}
	atomic_fetch_add(&k_done[K_TICK], 1);
	if (atomic_load(&stop_senders))
		return -ECANCELED;	/* stop; terminate publishes seq[] */
	if (atomic_load(&sent_total) - atomic_load(&recv_total) < window)
		burst(self, st);
	return tick(self);
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

static void reset_counters(void)
{
	for (int k = 0; k < K_KINDS; k++) {
		atomic_store(&k_sent[k], 0);
		atomic_store(&k_refused[k], 0);
		atomic_store(&k_done[k], 0);
	}
	atomic_store(&send_errors, 0);
	atomic_store(&made_stealable, 0);
	atomic_store(&set_errors, 0);
	atomic_store(&ledger_next, 0);
	atomic_store(&noid_sent, 0);
	atomic_store(&noid_done, 0);
	if (ledger_on) {
		memset(led_sent, 0, sizeof(led_sent));
		memset(led_done, 0, sizeof(led_done));
		memset(led_acked, 0, sizeof(led_acked));
	}
}

static int start_storm(ra_runtime_t *rt)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0,
				.flags = mode == MODE_SPAWNED ?
					 RA_SPAWN_STEALABLE : 0 };
	ra_spawn_opts_t pinned = { .placement = RA_PLACE_SHARD, .shard = 0 };

	reset_counters();
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

	if (atomic_load(&sent_total) - atomic_load(&recv_total) >= window)
		return;
	for (int i = 0; i < 16; i++) {
		uint32_t r = pick(&main_rng);
		struct num n = { id, main_seq[r], NO_ID };

		if (ra_runtime_send(rt, recv_ref[r], T_NUM, &n, sizeof(n)))
			continue;
		main_seq[r]++;
		atomic_fetch_add(&sent_total, 1);
	}
}

/* After the storm: the counts that prove nothing was lost or repeated. */
static void storm_checks(ra_runtime_t *rt, const char *nm, uint64_t min_mig)
{
	ra_stats_t st;
	unsigned mismatch = 0;
	long sent = atomic_load(&sent_total), got = atomic_load(&recv_total);

	ok(sent == got, "%s: every message arrived (%ld sent, %ld got)", nm,
	   sent, got);
	is_int(atomic_load(&bad_order), 0,
	       "%s: no message out of order, lost or repeated", nm);
	memcpy(sent_seq[nshards], main_seq, sizeof(main_seq[0]) * ntotal);
	for (unsigned r = 0; r < ntotal; r++)
		for (unsigned s = 0; s <= nshards; s++)
			if (recv_last[r][s] != sent_seq[s][r])
				mismatch++;
	is_int(mismatch, 0, "%s: per pair, received count == sent count", nm);
	is_int(atomic_load(&pinned_moved), 0,
	       "%s: no actor moved while pinned", nm);
	ok(atomic_load(&set_errors) == 0 &&
	   (mode == MODE_SPAWNED) == (atomic_load(&made_stealable) == 0),
	   "%s: ra_set_stealable never failed (%ld made stealable)", nm,
	   atomic_load(&made_stealable));
	ok(ra_stats_snapshot(rt, &st) == 0, "%s: stats", nm);
	ok(st.actors_migrated >= min_mig, "%s: >= %llu migrations (%llu; "
	   "%llu attempts, %llu successes, refusals: %llu in flight, "
	   "%llu not quiescent, %llu pinned, %llu below margin)", nm,
	   (unsigned long long)min_mig,
	   (unsigned long long)st.actors_migrated,
	   (unsigned long long)st.steal_attempts,
	   (unsigned long long)st.steal_successes,
	   (unsigned long long)st.refusals_in_flight,
	   (unsigned long long)st.refusals_not_quiescent,
	   (unsigned long long)st.refusals_pinned,
	   (unsigned long long)st.refusals_below_margin);
	is_int(st.dead_letters, 0, "%s: no dead letters", nm);
	diag("%s: %llu messages, busy %llu ms over all shards", nm,
	     (unsigned long long)got,
	     (unsigned long long)(st.busy_ns / 1000000));
	ra_stats_fini(&st);
}

static void test_storm(enum storm_mode m, uint64_t min_mig)
{
	const char *nm = mode_name[m];
	ra_runtime_t *rt;
	ra_config_t cfg;
	uint64_t end;
	unsigned bad_terms = 0;
	int ret;

	mode = m;
	ledger_on = false;
	steal_config_aggressive(&cfg, nshards);
	ret = ra_runtime_create(&cfg, &rt);
	is_int(ret, 0, "%s: runtime with %u shards", nm, nshards);
	if (ret < 0)
		bail_out("no runtime");
	memset(main_seq, 0, sizeof(main_seq));
	main_rng = seed;
	ok(start_storm(rt) == 0, "%s: %u receivers (%s) + %u pinned on "
	   "shard 0, %u senders", nm, nrecv, m == MODE_SPAWNED ?
	   "spawned stealable" : "spawned pinned", NPINNED, nshards);
	/*
	 * Run until past the migrations asked for and >= 300 ms: a busy
	 * machine steals less per second, so the deadline (60 s, scaled)
	 * only ends a run that is not stealing at all.
	 */
	end = ra_now_ns() + scaled_ns(60000000000ull);
	for (uint64_t t0 = ra_now_ns(); ra_now_ns() < end;) {
		main_burst(rt);
		sleep_ms(1);
		if (ra_now_ns() - t0 > 300000000ull &&
		    steal_migrations(rt, nshards) >= min_mig + min_mig / 5)
			break;
	}
	atomic_store(&stop_senders, 1);
	ok(wait_for(&senders_done, (int)nshards,
		    scaled_ns(30000000000ull)) == 0,
	   "%s: every sender stopped", nm);
	/* Drain: everything sent must arrive. */
	end = ra_now_ns() + scaled_ns(30000000000ull);
	while (atomic_load(&recv_total) < atomic_load(&sent_total) &&
	       ra_now_ns() < end)
		sleep_ms(1);
	storm_checks(rt, nm, min_mig);
	for (unsigned s = 0; s < nshards; s++) {
		ra_shard_info_t si;

		if (ra_shard_info(rt, s, &si) == 0)
			diag("shard %u: busy %llu ms, %llu in, %llu out", s,
			     (unsigned long long)(si.busy_ns / 1000000),
			     (unsigned long long)si.actors_in,
			     (unsigned long long)si.actors_out);
	}
	is_int(ra_runtime_destroy(rt), 0, "%s: destroy", nm);
	for (unsigned i = 0; i < ntotal + nshards; i++)
		if (atomic_load(&term_count[i]) != 1)
			bad_terms++;
	is_int(bad_terms, 0, "%s: terminate ran exactly once per actor", nm);
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
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair failed");
	is_int(ra_runtime_create(&cfg, &rt), 0, "io: runtime");
	ok(ra_runtime_spawn(rt, &busy_def, NULL, &on0, NULL) == 0 &&
	   ra_runtime_spawn(rt, &io_def, (void *)(intptr_t)sv[0], &steal0,
			    NULL) == 0, "io: busy (pinned) and recv actor "
	   "(stealable) on shard 0");
	/* Wait for refusals while the recv is pending (30 s, scaled). */
	for (uint64_t end = ra_now_ns() + scaled_ns(30000000000ull);
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
	if (write(sv[1], "x", 1) != 1)
		bail_out("write failed");
	/*
	 * Wait for both: the completion comes as a message, and the actor
	 * may move once the recv is done, with that message still queued
	 * behind a ping (seen under TSan).
	 */
	for (uint64_t end = ra_now_ns() + scaled_ns(30000000000ull);
	     ra_now_ns() < end &&
	     !(atomic_load(&io_moved) && atomic_load(&io_done));)
		sleep_ms(1);
	ok(atomic_load(&io_done) && !atomic_load(&io_moved_early),
	   "io: ra_shard_id() never changed while the recv was pending");
	ok(atomic_load(&io_moved), "io: once quiescent, the actor moved");
	atomic_store(&busy_stop, 1);
	is_int(ra_runtime_destroy(rt), 0, "io: destroy");
	close(sv[0]);
	close(sv[1]);
}

/* ---- 3: stop in the middle of a storm, with a ledger ---- */

/* Ledger entries by state; see the top for what each must be. */
struct ledger_sum {
	long twice;		/* processed more than once */
	long acked_bad;		/* acknowledged, not processed once */
	long unsent;		/* processed, never accepted by ra_send */
	long lost;		/* accepted, never processed */
	long acked;
};

static void ledger_sum(struct ledger_sum *l)
{
	uint32_t n = atomic_load(&ledger_next);

	memset(l, 0, sizeof(*l));
	if (n > LEDGER_MAX)
		n = LEDGER_MAX;
	for (uint32_t id = 0; id < n; id++) {
		unsigned p = atomic_load(&led_done[id]);

		l->twice += p > 1;
		l->unsent += p && !atomic_load(&led_sent[id]);
		l->lost += atomic_load(&led_sent[id]) && !p;
		if (atomic_load(&led_acked[id])) {
			l->acked++;
			l->acked_bad += p != 1;
		}
	}
}

/* Dead letters the test can account for: refused + sent, not handled. */
static long expected_dead_letters(void)
{
	long d = 0;

	for (int k = 0; k < K_KINDS; k++)
		d += atomic_load(&k_refused[k]) + atomic_load(&k_sent[k]) -
		     atomic_load(&k_done[k]);
	return d;
}

static void test_stop_mid_storm(void)
{
	ra_runtime_t *rt;
	ra_config_t cfg;
	ra_stats_t st;
	struct ledger_sum l;
	unsigned bad_terms = 0;
	uint64_t mig = 0, dead = 0;
	int ret;

	mode = MODE_LATE;
	ledger_on = true;
	steal_config_aggressive(&cfg, nshards);
	ok(ra_runtime_create(&cfg, &rt) == 0, "stop: runtime");
	ok(start_storm(rt) == 0, "stop: storm started (late stealable, "
	   "every number acknowledged)");
	/* Until enough have moved: at most 60 s (scaled). */
	for (uint64_t end = ra_now_ns() + scaled_ns(60000000000ull);
	     ra_now_ns() < end && mig < 200;) {
		sleep_ms(1);
		mig = steal_migrations(rt, nshards);
	}
	ok(mig >= 200, "stop: migrating (%llu so far)",
	   (unsigned long long)mig);
	is_int(ra_runtime_stop(rt), 0, "stop: while stealing");
	ret = ra_stats_snapshot(rt, &st);
	if (ret == 0) {
		dead = st.dead_letters;
		ra_stats_fini(&st);
	}
	is_int(ra_runtime_destroy(rt), 0, "stop: destroy after stop");
	for (unsigned i = 0; i < ntotal + nshards; i++)
		if (atomic_load(&term_count[i]) != 1)
			bad_terms++;
	is_int(bad_terms, 0, "stop: terminate ran exactly once per actor");
	is_int(atomic_load(&bad_order), 0,
	       "stop: no message out of order or repeated");
	is_int(atomic_load(&pinned_moved), 0,
	       "stop: no actor moved while pinned");
	ledger_sum(&l);
	ok(l.twice == 0 && l.unsent == 0, "stop: ledger: no id processed "
	   "twice or without a send (%u ids)", atomic_load(&ledger_next));
	ok(l.acked > 0 && l.acked_bad == 0, "stop: every acknowledged "
	   "message was processed exactly once (%ld acknowledged)", l.acked);
	/* The ledger holds the numbers sent with an id. */
	is_int(l.lost,
	       (atomic_load(&k_sent[K_NUM]) - atomic_load(&noid_sent)) -
	       (atomic_load(&k_done[K_NUM]) - atomic_load(&noid_done)),
	       "stop: numbers never processed (%ld) match sent - handled",
	       l.lost);
	ok(ret == 0 && (long)dead == expected_dead_letters(),
	   "stop: dead letters (%llu) == refused + sent and never handled "
	   "(%ld: numbers %ld+%ld, acks %ld+%ld, ticks %ld+%ld)",
	   (unsigned long long)dead, expected_dead_letters(),
	   atomic_load(&k_refused[K_NUM]), l.lost,
	   atomic_load(&k_refused[K_ACK]),
	   atomic_load(&k_sent[K_ACK]) - atomic_load(&k_done[K_ACK]),
	   atomic_load(&k_refused[K_TICK]),
	   atomic_load(&k_sent[K_TICK]) - atomic_load(&k_done[K_TICK]));
	is_int(atomic_load(&send_errors), 0,
	       "stop: every send returned 0 or -ESRCH");
	ledger_on = false;
}

int main(void)
{
	plan(59);
	tap_timeout(600);
	nshards = (unsigned)tap_env_ull("RA_SHARDS", 4);
	nrecv = (unsigned)tap_env_ull("RA_ACTORS", 2000);
	window = (long)tap_env_ull("RA_STEAL_WINDOW", 20000);
	seed = tap_env_ull("RA_SEED", (unsigned long long)ra_now_ns());
	if (nshards < 2 || nshards > MAX_SHARDS)
		nshards = 4;
	if (nrecv > MAX_RECV)
		nrecv = MAX_RECV;
	ntotal = nrecv + NPINNED;
	diag("seed %llu", (unsigned long long)seed);
	test_storm(MODE_SPAWNED, 1000);
	test_storm(MODE_LATE, 1000);
	test_storm(MODE_TOGGLE, 500);
	test_io_pins();
	test_stop_mid_storm();
	return exit_status();
}
