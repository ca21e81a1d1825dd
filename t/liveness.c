/*
 * t/liveness.c: a busy shard keeps talking to the others.
 *
 * A shard whose actors always have work (a producer that re-posts itself,
 * a compute loop, a spawn storm) must still flush its outboxes, submit,
 * and reap its CQ every loop pass (shard/shard.c, "Liveness"). Each case
 * keeps one or more shards saturated and asserts that the traffic it is
 * about happened while the saturating actors were still running (they
 * stop only when told, after the check), then that every message arrived
 * in the end. Counts, never times: the deadlines only stop a broken run.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define MAX_SHARDS 4
#define CHUNK 250		/* messages a producer sends per message */
#define SPAWN_CHUNK 64		/* children a spawner starts per message */
/*
 * Flow control, so that a shard that never delivers cannot fill memory
 * before the deadline: a consumer acknowledges every ACK_EVERY messages
 * with a message back, and a producer keeps at most WINDOW messages not
 * yet acknowledged. With a full window it computes (SPIN_NS) and re-posts
 * itself, so its shard stays saturated. The acknowledgements must cross
 * back into the producer's busy shard: with passes that never end, a
 * window is refilled once per endless pass, and the REQUIRED messages a
 * case waits for take far longer than its deadline. Saturating actors
 * stop only when main says so, after the check: a case passes only if
 * its traffic arrived while every one of them still ran (`running`).
 */
#define ACK_EVERY 250
#define WINDOW 1000
#define SPIN_NS 20000
#define REQUIRED 200000
/*
 * Every consumer's share when every shard produces: each shard's own
 * producer saturates it, so consumers get a turn per pass; the producer
 * case above is the one sized to outlast a starving runtime's deadline.
 */
#define REQUIRED_EACH 20000

enum { MSG_GO = 1, MSG_DATA, MSG_PING, MSG_CRASH, MSG_ACK };

/* Told to stop by main once a case has seen what it waits for. */
static atomic_int stop_flag;
/* Saturating actors (producers, hogs, spawners) still running. */
static atomic_int running;

/* Has main told the saturating actors to stop? Then stop this one. */
static bool must_stop(ra_ctx_t *self)
{
	if (!atomic_load(&stop_flag))
		return false;
	atomic_fetch_sub(&running, 1);
	ra_stop(self, 0);
	return true;
}

/* A saturating actor starts: count it and give it its first message. */
static int start_saturating(ra_ctx_t *self)
{
	atomic_fetch_add(&running, 1);
	return ra_send(self, ra_self(self), MSG_GO, NULL, 0);
}

/* Deadline for one wait: generous, and longer under sanitizers. */
static uint64_t wait_ns(void)
{
	return scaled_ns(30000000000ull);
}

static void spin_ns(uint64_t ns)
{
	uint64_t t = ra_now_ns();

	while (ra_now_ns() - t < ns)
		;
}

/* ---- consumer: counts, and checks per-sender FIFO ---- */

struct data {
	uint32_t producer;	/* index of the sending producer */
	uint32_t seq;		/* 1, 2, ... per (producer, consumer) */
};

struct consumer {
	uint32_t next[MAX_SHARDS];	/* next seq expected per producer */
	uint32_t unacked[MAX_SHARDS];	/* received, not yet acknowledged */
};

static atomic_long received[MAX_SHARDS];
static atomic_int fifo_errors;
/* Set by main while consumers run: atomic (TSan saw the race). */
static _Atomic uint64_t consume_ns;

static int consumer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct consumer *c = state;
	struct data d;

	(void)self;
	if (m->type != MSG_DATA || m->len != sizeof(d))
		return 0;
	memcpy(&d, m->data, sizeof(d));
	if (d.producer >= MAX_SHARDS || d.seq != ++c->next[d.producer]) {
		atomic_fetch_add(&fifo_errors, 1);
		return 0;
	}
	if (atomic_load_explicit(&consume_ns, memory_order_relaxed))
		spin_ns(atomic_load_explicit(&consume_ns,
					     memory_order_relaxed));
	if (++c->unacked[d.producer] == ACK_EVERY) {
		(void)ra_send(self, m->from, MSG_ACK, &c->unacked[d.producer],
			      sizeof(uint32_t));
		c->unacked[d.producer] = 0;
	}
	atomic_fetch_add(&received[ra_shard_id(self)], 1);
	return 0;
}

static const ra_actor_def_t consumer_def = {
	.name = "consumer",
	.state_size = sizeof(struct consumer),
	.behavior = consumer_behavior,
};

/*
 * ---- producer: the ordinary long-running shape, CHUNK sends per
 * message, then a message to itself to go on ----
 */
struct producer_arg {
	uint32_t index;
	unsigned ntargets;
	ra_ref_t targets[MAX_SHARDS];
};

struct producer {
	struct producer_arg a;
	uint32_t seq[MAX_SHARDS];
	long sent;
	long acked;
};

/* Producer arguments live here: init runs after spawn has returned. */
static struct producer_arg producer_args[MAX_SHARDS];

static atomic_long sent;

static int producer_init(ra_ctx_t *self, void *state, void *arg)
{
	struct producer *p = state;

	p->a = *(struct producer_arg *)arg;
	return start_saturating(self);
}

static int producer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct producer *p = state;

	long before = p->sent;
	uint32_t n;

	if (m->type == MSG_ACK && m->len == sizeof(n)) {
		memcpy(&n, m->data, sizeof(n));
		p->acked += n;
		return 0;
	}
	if (must_stop(self))
		return 0;
	if (p->sent - p->acked + CHUNK > WINDOW) {
		spin_ns(SPIN_NS);
		return ra_send(self, ra_self(self), MSG_GO, NULL, 0);
	}
	for (unsigned i = 0; i < CHUNK; i++) {
		unsigned t = i % p->a.ntargets;
		struct data d = { p->a.index, ++p->seq[t] };

		if (ra_send(self, p->a.targets[t], MSG_DATA, &d,
			    sizeof(d)) == 0)
			p->sent++;
		else
			p->seq[t]--;
	}
	atomic_fetch_add(&sent, p->sent - before);
	return ra_send(self, ra_self(self), MSG_GO, NULL, 0);
}

static const ra_actor_def_t producer_def = {
	.name = "producer",
	.state_size = sizeof(struct producer),
	.init = producer_init,
	.behavior = producer_behavior,
};

/* ---- hog: a compute loop that yields only through self-messages ---- */

static atomic_long hog_rounds;

static int hog_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return start_saturating(self);
}

static int hog_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	(void)m;
	if (must_stop(self))
		return 0;
	spin_ns(20000);
	atomic_fetch_add(&hog_rounds, 1);
	return ra_send(self, ra_self(self), MSG_GO, NULL, 0);
}

static const ra_actor_def_t hog_def = {
	.name = "hog",
	.init = hog_init,
	.behavior = hog_behavior,
};

/* ---- spawner: SPAWN_CHUNK short-lived children per message ---- */

static atomic_long children;

static int child_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	atomic_fetch_add(&children, 1);
	ra_stop(self, 0);
	return 0;
}

static int child_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

static const ra_actor_def_t child_def = {
	.name = "child",
	.init = child_init,
	.behavior = child_behavior,
};

struct spawner {
	ra_ref_t consumer;
	uint32_t seq;
};

static int spawner_init(ra_ctx_t *self, void *state, void *arg)
{
	((struct spawner *)state)->consumer = *(ra_ref_t *)arg;
	return start_saturating(self);
}

static int spawner_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct spawner *s = state;
	struct data d = { 0, 0 };

	(void)m;
	if (must_stop(self))
		return 0;
	/* Its reports to the consumer are few; children end at once. */
	for (unsigned i = 0; i < SPAWN_CHUNK; i++)
		(void)ra_spawn(self, &child_def, NULL, NULL, NULL);
	d.seq = ++s->seq;
	if (ra_send(self, s->consumer, MSG_DATA, &d, sizeof(d)) == 0)
		atomic_fetch_add(&sent, 1);
	return ra_send(self, ra_self(self), MSG_GO, NULL, 0);
}

static const ra_actor_def_t spawner_def = {
	.name = "spawner",
	.state_size = sizeof(struct spawner),
	.init = spawner_init,
	.behavior = spawner_behavior,
};

/* ---- pinger: round trips with an echo on another shard ---- */

static atomic_long round_trips;

static int echo_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	if (m->type == MSG_PING)
		(void)ra_send(self, m->from, MSG_PING, NULL, 0);
	return 0;
}

static const ra_actor_def_t echo_def = {
	.name = "echo",
	.behavior = echo_behavior,
};

static int pinger_init(ra_ctx_t *self, void *state, void *arg)
{
	*(ra_ref_t *)state = *(ra_ref_t *)arg;
	return ra_send(self, *(ra_ref_t *)arg, MSG_PING, NULL, 0);
}

static int pinger_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)m;
	if (atomic_load(&stop_flag)) {
		ra_stop(self, 0);
		return 0;
	}
	atomic_fetch_add(&round_trips, 1);
	return ra_send(self, *(ra_ref_t *)state, MSG_PING, NULL, 0);
}

static const ra_actor_def_t pinger_def = {
	.name = "pinger",
	.state_size = sizeof(ra_ref_t),
	.init = pinger_init,
	.behavior = pinger_behavior,
};

/* ---- linked pair: the crasher exits abnormally, the trapper hears ---- */

#define CRASH_CODE 42

static atomic_long exits_seen;
static atomic_int exit_code_seen;

static int trapper_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	return ra_trap_exit(self, true);
}

static int trapper_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_exit_info_t info;

	(void)state;
	if (m->type == RA_MSG_EXIT && m->len == sizeof(info)) {
		memcpy(&info, m->data, sizeof(info));
		atomic_store(&exit_code_seen, info.code);
		atomic_fetch_add(&exits_seen, 1);
		ra_stop(self, 0);
	}
	return 0;
}

static const ra_actor_def_t trapper_def = {
	.name = "trapper",
	.init = trapper_init,
	.behavior = trapper_behavior,
};

static int crasher_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	return ra_link(self, *(ra_ref_t *)arg);
}

static int crasher_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	if (m->type == MSG_CRASH)
		ra_exit(self, CRASH_CODE, "crash");
	return 0;
}

static const ra_actor_def_t crasher_def = {
	.name = "crasher",
	.init = crasher_init,
	.behavior = crasher_behavior,
};

/* ---- helpers ---- */

static ra_runtime_t *runtime(unsigned nshards)
{
	ra_runtime_t *rt = tu_runtime(nshards);

	atomic_store(&stop_flag, 0);
	atomic_store(&running, 0);
	atomic_store(&sent, 0);
	atomic_store(&fifo_errors, 0);
	atomic_store(&hog_rounds, 0);
	atomic_store(&children, 0);
	atomic_store(&round_trips, 0);
	atomic_store(&exits_seen, 0);
	for (unsigned i = 0; i < MAX_SHARDS; i++)
		atomic_store(&received[i], 0);
	return rt;
}

static ra_ref_t spawn_on(ra_runtime_t *rt, const ra_actor_def_t *def,
			 void *arg, unsigned shard)
{
	ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = shard };
	ra_ref_t r = RA_REF_NULL;

	if (ra_runtime_spawn(rt, def, arg, &o, &r) < 0)
		bail_out("spawn failed");
	return r;
}

/* Wait until *v >= want; false on the deadline. */
static bool wait_long(atomic_long *v, long want)
{
	uint64_t end = ra_now_ns() + wait_ns();

	while (atomic_load(v) < want) {
		if (ra_now_ns() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

static long total_received(void)
{
	long n = 0;

	for (unsigned i = 0; i < MAX_SHARDS; i++)
		n += atomic_load(&received[i]);
	return n;
}

/* Stop the saturating actors, then see every message arrive. */
static void finish(ra_runtime_t *rt, const char *what)
{
	uint64_t end;

	atomic_store(&stop_flag, 1);
	/* The producers stop at their next message: sent stops growing. */
	sleep_ms(50);
	end = ra_now_ns() + wait_ns();
	while (total_received() < atomic_load(&sent) && ra_now_ns() < end)
		sleep_ms(1);
	is_int(total_received(), atomic_load(&sent),
	       "%s: every message sent arrived in the end", what);
	is_int(atomic_load(&fifo_errors), 0, "%s: in per-sender order", what);
	ra_runtime_destroy(rt);
}

/* ---- cases ---- */

/*
 * Did the awaited traffic happen while all `nsat` saturating actors ran?
 * `reached` is the wait's result, taken before this looks at `running`.
 */
static bool while_running(bool reached, int nsat)
{
	return reached && atomic_load(&running) == nsat &&
	       !atomic_load(&stop_flag);
}

/*
 * The reported case: a producer on shard 0, CHUNK messages per message
 * plus one to itself, a consumer on shard 1 that spends 1 us per
 * message. Before the pass bound it received nothing until the producer
 * stopped.
 */
static void test_producer(void)
{
	ra_runtime_t *rt = runtime(2);
	struct producer_arg *pa = &producer_args[0];
	bool reached;

	*pa = (struct producer_arg){ .index = 0, .ntargets = 1 };
	atomic_store(&consume_ns, 1000);
	pa->targets[0] = spawn_on(rt, &consumer_def, NULL, 1);
	spawn_on(rt, &producer_def, pa, 0);
	reached = wait_long(&received[1], REQUIRED);
	ok(while_running(reached, 1),
	   "producer: the consumer receives while the producer runs");
	diag("received %ld of %ld sent", atomic_load(&received[1]),
	     atomic_load(&sent));
	atomic_store(&consume_ns, 0);
	finish(rt, "producer");
}

/* Every shard saturated by a producer aimed at the other shards. */
static void test_all_shards(unsigned nshards)
{
	ra_runtime_t *rt = runtime(nshards);
	ra_ref_t cons[MAX_SHARDS];
	bool all = true;

	for (unsigned s = 0; s < nshards; s++)
		cons[s] = spawn_on(rt, &consumer_def, NULL, s);
	for (unsigned s = 0; s < nshards; s++) {
		struct producer_arg *pa = &producer_args[s];

		*pa = (struct producer_arg){ .index = s };
		for (unsigned t = 0; t < nshards; t++)
			if (t != s)
				pa->targets[pa->ntargets++] = cons[t];
		spawn_on(rt, &producer_def, pa, s);
	}
	for (unsigned s = 0; s < nshards; s++)
		all = wait_long(&received[s], REQUIRED_EACH) && all;
	ok(while_running(all, (int)nshards),
	   "%u shards, all producing: every consumer receives while the "
	   "producers run", nshards);
	finish(rt, "all shards");
}

/*
 * A compute loop on shard 0 (20 us per message, re-posting itself) and a
 * ping-pong between shard 0 and shard 1: the round trips go on.
 */
static void test_compute_loop(void)
{
	ra_runtime_t *rt = runtime(2);
	ra_ref_t echo;
	bool reached;

	spawn_on(rt, &hog_def, NULL, 0);
	echo = spawn_on(rt, &echo_def, NULL, 1);
	spawn_on(rt, &pinger_def, &echo, 0);
	reached = wait_long(&round_trips, 200);
	ok(while_running(reached, 1),
	   "compute loop: 200 round trips across while it runs");
	diag("%ld hog rounds", atomic_load(&hog_rounds));
	finish(rt, "compute loop");
}

/* A spawn storm on shard 0 that also reports to a consumer on shard 1. */
static void test_spawn_storm(void)
{
	ra_runtime_t *rt = runtime(2);
	ra_ref_t cons = spawn_on(rt, &consumer_def, NULL, 1);
	bool reached;

	spawn_on(rt, &spawner_def, &cons, 0);
	reached = wait_long(&received[1], 100);
	ok(while_running(reached, 1),
	   "spawn storm: the consumer receives while it runs");
	diag("%ld children so far", atomic_load(&children));
	finish(rt, "spawn storm");
}

/*
 * A crash reaches its linked partner as EXIT while shard 0 is
 * saturated: the crasher on the busy shard (its EXIT must leave it), or
 * the trapper there (the EXIT must get in and the trapper get a turn).
 */
static void test_exit_while_busy(bool trapper_on_busy)
{
	unsigned busy = 0, calm = 1;
	ra_runtime_t *rt = runtime(2);
	ra_ref_t trapper, crasher;
	const char *where = trapper_on_busy ? "trapper" : "crasher";
	bool reached;

	spawn_on(rt, &hog_def, NULL, busy);
	trapper = spawn_on(rt, &trapper_def, NULL,
			   trapper_on_busy ? busy : calm);
	crasher = spawn_on(rt, &crasher_def, &trapper,
			   trapper_on_busy ? calm : busy);
	/* The link is made in the crasher's init: a ping behind it. */
	wait_long(&hog_rounds, 10);
	is_int(ra_runtime_send(rt, crasher, MSG_CRASH, NULL, 0), 0,
	       "EXIT, %s on the busy shard: crash requested", where);
	reached = wait_long(&exits_seen, 1);
	ok(while_running(reached, 1),
	   "EXIT, %s on the busy shard: delivered while the hog runs", where);
	is_int(atomic_load(&exit_code_seen), CRASH_CODE,
	       "EXIT, %s on the busy shard: with the crash's code", where);
	finish(rt, "exit while busy");
}

int main(void)
{
	tap_timeout(600);
	plan(3 + 3 * 2 + 3 + 3 + 5 * 2);
	test_producer();
	test_all_shards(2);
	test_all_shards(4);
	test_compute_loop();
	test_spawn_storm();
	test_exit_while_busy(false);
	test_exit_while_busy(true);
	return exit_status();
}
