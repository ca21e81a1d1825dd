/*
 * savina: seven benchmarks of the Savina actor benchmark suite (Imam and
 * Sarkar, "Savina - An Actor Benchmark Suite", AGERE! 2014), written
 * against ringactor.h only. Each follows the message flow of the suite's
 * reference implementation (github.com/shamsimam/savina, the Akka
 * versions) with its default parameters unless the output says otherwise:
 *
 *   savina_pingpong      ping and pong actors, N round trips
 *   savina_counting      a producer sends N increments to a counter, then
 *                        asks for the count and checks it
 *   savina_threadring    a token passed N hops around a ring of A actors,
 *                        then an exit wave around the ring
 *   savina_fjthroughput  a driver sends N messages to each of A workers
 *                        (round after round); each message costs sin^2
 *   savina_fjcreation    N actors created, each sent one message; each
 *                        computes sin^2 and stops
 *   savina_big           A actors each ping a random peer N times, one
 *                        at a time, the peer answering pong; a sink
 *                        counts the actors that are done and stops all
 *   savina_chameneos     A chameneos meet N times through a mall; each
 *                        meeting changes both colours to the complement
 *
 * One batch is one Savina iteration. Main spawns the benchmark's root
 * actor on shard 0 with ra_runtime_spawn() (not timed) and sleeps on an
 * eventfd. The root notes t0 in its init, spawns the other actors with
 * ra_spawn() and starts the work; the actor that sees the work complete
 * notes t1 and signals the eventfd. Main then waits until the runtime has
 * no live actor (every actor of the iteration stops, as Savina's exit at
 * the end of an iteration), checks the iteration's results and records
 * t1 - t0. Creating the actors is inside the timed region, as it is in
 * Savina's runIteration(); creating the runtime is not (one runtime per
 * benchmark lives through all its batches).
 *
 * Placement: actor i of an iteration (the root is actor 0) lives on shard
 * i % shards. This is round robin, but taken from the actor's index and
 * not from the runtime-wide RA_PLACE_ROUND_ROBIN counter, so that every
 * batch has the same layout. With 2 shards: ping/pong and producer/counter
 * sit on different shards; every ThreadRing hop but one per lap crosses
 * shards (503 is odd); the FJ driver, the Big sink and the Chameneos mall
 * are on shard 0 with half the workers, peers or chameneos beside them.
 *
 * Checks, after every batch: the counts each benchmark implies (pongs,
 * the counter's total, tokens, work messages, pings and pongs, meetings),
 * Chameneos' colour invariant, and no actor left. Where one actor sends
 * another a stream (PingPong's pings and pongs, Counting's increments,
 * the ThreadRing token at each member, Fork-join throughput's work to
 * each worker), the receiver also checks the sequence numbers, since
 * FIFO is the contract and counts would pass a reordering. After the run: the
 * runtime's own counters agree, i.e. user messages delivered and actors
 * spawned are exactly what the iterations imply, no dead letters, no
 * live actor. Any mismatch exits 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

/* How long main waits for one iteration, and then for its actors. */
#define SV_BATCH_TIMEOUT_MS	120000
#define SV_IDLE_TIMEOUT_NS	(30ull * 1000000000ull)

/* Savina's performComputation(theta) argument in both fork-join tests. */
#define SV_THETA		37.2

/* Big: time one ping-pong round trip in this many (a power of two). */
#define SV_BIG_SAMPLE		16

/* ThreadRing: time one hop in this many (a power of two). */
#define SV_RING_SAMPLE		16

enum sv_type {
	SV_PING = 1,		/* pingpong: uint32_t seq; big: sender id */
	SV_PONG,		/* pingpong, big: the same */
	SV_INC,			/* counting: uint32_t sequence */
	SV_GET,			/* counting: asks for the count */
	SV_COUNT,		/* counting: uint64_t count */
	SV_TOKEN,		/* threadring: struct ring_token */
	SV_EXIT,		/* threadring: uint32_t exits left; big: - */
	SV_WORK,		/* fjthroughput: uint32_t round; fjc: - */
	SV_KICK,		/* big: struct big_kick */
	SV_MEET,		/* chameneos: struct cham_meet */
	SV_CHANGE,		/* chameneos: uint32_t colour */
	SV_FADED,		/* chameneos: struct cham_faded */
};

struct sv_run;

/* A per-actor start argument, filled in by the spawner before ra_spawn(). */
struct sv_arg {
	struct sv_run *r;
	ra_ref_t peer;		/* ring: next actor; chameneos: mall */
	uint32_t idx;		/* the actor's index in the iteration */
	uint32_t color;		/* chameneos: starting colour */
};

/*
 * What main and the actors of one benchmark share. Main writes the
 * parameters before it spawns the root, and the spawn (a msg_ring) orders
 * them before any actor reads them. The actors write the results with
 * atomics; main reads them once the eventfd has fired and the runtime has
 * no live actor left.
 */
struct sv_run {
	const struct sv_bench *b;
	unsigned nshards;
	uint32_t n;		/* the main count: pings, messages, hops */
	uint32_t na;		/* actors, where that is a parameter */
	double theta;		/* SV_THETA, read at run time */
	bool record;		/* timed batch: fill the op histograms */
	int efd;		/* eventfd main waits on */
	ra_hdr_t **hdr;		/* [nshards] op ns; shard i writes [i] */
	struct sv_arg *args;	/* [na + 1] start arguments */
	ra_ref_t *refs;		/* [na + 1] fork-join, big: workers by index */
	_Atomic uint64_t t0;	/* the root's init */
	_Atomic uint64_t t1;	/* the work seen complete */
	_Atomic int err;	/* first error an actor saw */
	_Atomic uint64_t done;	/* actors done (fork-join) */
	_Atomic uint64_t sum;	/* per benchmark: see its check */
	_Atomic uint64_t sum2;
	_Atomic uint64_t bad;	/* protocol violations seen */
};

/* One benchmark: its parameters, its actors and what it must produce. */
struct sv_bench {
	const char *name;
	const char *n_name;	/* what n counts */
	const char *a_name;	/* what na counts; NULL when fixed */
	const ra_actor_def_t *root;
	uint32_t paper_n, paper_a;	/* the reference defaults */
	uint32_t n, a;		/* used in a full run */
	uint32_t quick_n, quick_a;	/* used with --quick */
	int batches, warmup;	/* full run */
	const char *op;		/* per-op histogram; NULL: per batch */
	const char *note;	/* parameter choice, placement */
	/* User messages and spawns one iteration implies. */
	uint64_t (*msgs)(uint64_t n, uint64_t a);
	uint64_t (*spawns)(uint64_t n, uint64_t a);
	/* Check the iteration's results: 0 or -EPROTO (printed). */
	int (*check)(struct sv_run *r);
};

/* ------------------------------------------------------------------ */
/* Helpers for the actors                                              */
/* ------------------------------------------------------------------ */

static void sv_signal(struct sv_run *r)
{
	bench_efd_signal(r->efd);
}

static void sv_start(struct sv_run *r)
{
	atomic_store(&r->t0, ra_now_ns());
}

/* The work is complete: note t1 and wake main. */
static void sv_finish(struct sv_run *r)
{
	atomic_store(&r->t1, ra_now_ns());
	sv_signal(r);
}

/* Record the first error, wake main, and stop the calling actor. */
static int sv_fail(struct sv_run *r, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&r->err, &zero, err);
	sv_signal(r);
	return err;
}

/* Spawn actor `idx` of the iteration on shard idx % shards. */
static int sv_spawn(ra_ctx_t *self, struct sv_run *r,
		    const ra_actor_def_t *def, void *arg, uint32_t idx,
		    ra_ref_t *out)
{
	ra_spawn_opts_t o = {
		.placement = RA_PLACE_SHARD,
		.shard = idx % r->nshards,
	};

	return ra_spawn(self, def, arg, &o, out);
}

static void sv_record(ra_ctx_t *self, struct sv_run *r, uint64_t ns)
{
	if (r->record)
		ra_hdr_record(r->hdr[ra_shard_id(self)], (int64_t)ns);
}

/* Savina's performComputation(): sin(theta)^2, which must be > 0. */
static double sv_compute(const struct sv_run *r)
{
	double s = sin(r->theta);

	return s * s;
}

static int sv_expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "savina: %s: %" PRIu64 ", expected %" PRIu64 "\n",
		what, got, want);
	return -EPROTO;
}

/* ------------------------------------------------------------------ */
/* PingPong                                                            */
/* ------------------------------------------------------------------ */

struct pp_ping {
	struct sv_run *r;
	ra_ref_t pong;
	uint32_t left;		/* round trips still to do */
	uint32_t seq;		/* sequence of the PING in flight */
	uint64_t ts;		/* its send time */
};

struct pp_pong {
	struct sv_run *r;
	uint64_t pings;
};

static int pp_pong_init(ra_ctx_t *self, void *state, void *arg)
{
	struct pp_pong *p = state;

	p->r = arg;
	return 0;
}

static int pp_pong_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct pp_pong *p = state;

	uint32_t seq;

	if (msg->type != SV_PING || msg->len != sizeof(seq))
		return sv_fail(p->r, -EPROTO);
	memcpy(&seq, msg->data, sizeof(seq));
	if (seq != p->pings)	/* the pings come 0, 1, 2... */
		atomic_fetch_add(&p->r->bad, 1);
	p->pings++;
	return ra_send(self, msg->from, SV_PONG, msg->data, msg->len);
}

static void pp_pong_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct pp_pong *p = state;

	atomic_fetch_add(&p->r->sum, p->pings);
}

static const ra_actor_def_t pp_pong_def = {
	.name = "savina_pong",
	.state_size = sizeof(struct pp_pong),
	.init = pp_pong_init,
	.behavior = pp_pong_behavior,
	.terminate = pp_pong_terminate,
};

static int pp_ping_init(ra_ctx_t *self, void *state, void *arg)
{
	struct pp_ping *p = state;
	struct sv_run *r = arg;
	int ret;

	p->r = r;
	sv_start(r);
	ret = sv_spawn(self, r, &pp_pong_def, r, 1, &p->pong);
	if (ret)
		return sv_fail(r, ret);
	p->left = r->n;
	p->ts = ra_now_ns();
	ret = ra_send(self, p->pong, SV_PING, &p->seq, sizeof(p->seq));
	return ret ? sv_fail(r, ret) : 0;
}

static int pp_ping_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct pp_ping *p = state;
	struct sv_run *r = p->r;
	uint64_t now = ra_now_ns();
	uint32_t seq;
	int ret;

	if (msg->type != SV_PONG || msg->len != sizeof(seq))
		return sv_fail(r, -EPROTO);
	memcpy(&seq, msg->data, sizeof(seq));
	if (seq != p->seq)
		atomic_fetch_add(&r->bad, 1);
	sv_record(self, r, now - p->ts);
	atomic_fetch_add(&r->sum2, 1);
	if (--p->left == 0) {
		sv_finish(r);
		ret = ra_stop_other(self, p->pong);
		ra_stop(self, 0);
		return ret ? sv_fail(r, ret) : 0;
	}
	p->seq++;
	p->ts = now;
	ret = ra_send(self, p->pong, SV_PING, &p->seq, sizeof(p->seq));
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t pp_ping_def = {
	.name = "savina_ping",
	.state_size = sizeof(struct pp_ping),
	.init = pp_ping_init,
	.behavior = pp_ping_behavior,
};

static uint64_t pp_msgs(uint64_t n, uint64_t a)
{
	return 2 * n;
}

static uint64_t pp_spawns(uint64_t n, uint64_t a)
{
	return 2;
}

static int pp_check(struct sv_run *r)
{
	return sv_expect("pingpong: pings answered", r->sum, r->n) ?:
	       sv_expect("pingpong: pongs received", r->sum2, r->n) ?:
	       sv_expect("pingpong: pings or pongs out of sequence", r->bad,
			 0);
}

/* ------------------------------------------------------------------ */
/* Counting                                                            */
/* ------------------------------------------------------------------ */

struct cnt_producer {
	struct sv_run *r;
	ra_ref_t counter;
};

struct cnt_counter {
	struct sv_run *r;
	uint64_t count;
};

static int cnt_counter_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cnt_counter *c = state;

	c->r = arg;
	return 0;
}

static int cnt_counter_behavior(ra_ctx_t *self, void *state,
				const ra_msg_t *msg)
{
	struct cnt_counter *c = state;

	uint32_t seq;

	switch (msg->type) {
	case SV_INC:
		/* Numbered 0, 1, 2... by the producer: FIFO is the contract. */
		if (msg->len != sizeof(seq))
			return sv_fail(c->r, -EPROTO);
		memcpy(&seq, msg->data, sizeof(seq));
		if (seq != (uint32_t)c->count)
			atomic_fetch_add(&c->r->bad, 1);
		c->count++;
		return 0;
	case SV_GET:
		return ra_send(self, msg->from, SV_COUNT, &c->count,
			       sizeof(c->count));
	default:
		return -EPROTO;
	}
}

static const ra_actor_def_t cnt_counter_def = {
	.name = "savina_counter",
	.state_size = sizeof(struct cnt_counter),
	.init = cnt_counter_init,
	.behavior = cnt_counter_behavior,
};

/*
 * As Savina's producer: all N increments in one go, then the request for
 * the count. The outbox to the counter's shard leaves every 256 messages
 * while the loop runs, so the counter works alongside.
 */
static int cnt_producer_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cnt_producer *p = state;
	struct sv_run *r = arg;
	int ret;

	p->r = r;
	sv_start(r);
	ret = sv_spawn(self, r, &cnt_counter_def, r, 1, &p->counter);
	for (uint32_t i = 0; !ret && i < r->n; i++)
		ret = ra_send(self, p->counter, SV_INC, &i, sizeof(i));
	if (!ret)
		ret = ra_send(self, p->counter, SV_GET, NULL, 0);
	return ret ? sv_fail(r, ret) : 0;
}

static int cnt_producer_behavior(ra_ctx_t *self, void *state,
				 const ra_msg_t *msg)
{
	struct cnt_producer *p = state;
	struct sv_run *r = p->r;
	uint64_t count;
	int ret;

	if (msg->type != SV_COUNT || msg->len != sizeof(count))
		return sv_fail(r, -EPROTO);
	memcpy(&count, msg->data, sizeof(count));
	atomic_store(&r->sum, count);
	sv_finish(r);
	ret = ra_stop_other(self, p->counter);
	ra_stop(self, 0);
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t cnt_producer_def = {
	.name = "savina_producer",
	.state_size = sizeof(struct cnt_producer),
	.init = cnt_producer_init,
	.behavior = cnt_producer_behavior,
};

static uint64_t cnt_msgs(uint64_t n, uint64_t a)
{
	return n + 2;
}

static int cnt_check(struct sv_run *r)
{
	return sv_expect("counting: final count", r->sum, r->n) ?:
	       sv_expect("counting: increments out of sequence", r->bad, 0);
}

/* ------------------------------------------------------------------ */
/* ThreadRing                                                          */
/* ------------------------------------------------------------------ */

struct ring_token {
	uint32_t left;		/* hops still to go after this one */
	uint32_t pad;
	uint64_t sent_ns;	/* send time of a sampled hop, else 0 */
};

struct ring_member {
	struct sv_run *r;
	ra_ref_t next;
	uint64_t tokens;	/* tokens this actor received */
	uint32_t last_left;	/* `left` of the token it had last */
};

/* Pass the token on, stamping one hop in SV_RING_SAMPLE. */
static int ring_pass(ra_ctx_t *self, struct ring_member *m, uint32_t left)
{
	struct ring_token t = { .left = left };

	if (m->r->record && left % SV_RING_SAMPLE == 0)
		t.sent_ns = ra_now_ns();
	return ra_send(self, m->next, SV_TOKEN, &t, sizeof(t));
}

/*
 * TOKEN(k): k hops still to go after this one. At 0 the token has made
 * its n hops: note the end and send EXIT(a - 1) around the ring; EXIT(k)
 * is passed on as EXIT(k - 1) while k > 1, and every actor stops.
 */
static int ring_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct ring_member *m = state;
	struct sv_run *r = m->r;
	struct ring_token t;
	uint32_t k;
	int ret = 0;

	switch (msg->type) {
	case SV_TOKEN:
		if (msg->len != sizeof(t))
			return sv_fail(r, -EPROTO);
		memcpy(&t, msg->data, sizeof(t));
		if (t.sent_ns)
			sv_record(self, r, ra_now_ns() - t.sent_ns);
		/* A lap of the ring later, the token is `na` hops on. */
		if (m->tokens && t.left + r->na != m->last_left)
			atomic_fetch_add(&r->bad, 1);
		m->last_left = t.left;
		m->tokens++;
		if (t.left > 0) {
			ret = ring_pass(self, m, t.left - 1);
			break;
		}
		sv_finish(r);
		k = r->na - 1;
		ret = ra_send(self, m->next, SV_EXIT, &k, sizeof(k));
		ra_stop(self, 0);
		break;
	case SV_EXIT:
		if (msg->len != sizeof(k))
			return sv_fail(r, -EPROTO);
		memcpy(&k, msg->data, sizeof(k));
		if (k > 1) {
			k--;
			ret = ra_send(self, m->next, SV_EXIT, &k, sizeof(k));
		}
		ra_stop(self, 0);
		break;
	default:
		return sv_fail(r, -EPROTO);
	}
	return ret ? sv_fail(r, ret) : 0;
}

static void ring_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct ring_member *m = state;

	atomic_fetch_add(&m->r->sum, m->tokens);
	atomic_fetch_add(&m->r->sum2, 1);
}

static int ring_member_init(ra_ctx_t *self, void *state, void *arg)
{
	struct ring_member *m = state;
	struct sv_arg *a = arg;

	m->r = a->r;
	m->next = a->peer;
	return 0;
}

static const ra_actor_def_t ring_member_def = {
	.name = "savina_ring",
	.state_size = sizeof(struct ring_member),
	.init = ring_member_init,
	.behavior = ring_behavior,
	.terminate = ring_terminate,
};

/*
 * The root is ring member 0. It spawns members a-1 down to 1, each with
 * its successor (already spawned) in its start argument, so that every
 * member knows its next before it can receive anything; then it sends
 * the token to member 1.
 */
static int ring_root_init(ra_ctx_t *self, void *state, void *arg)
{
	struct ring_member *m = state;
	struct sv_run *r = arg;
	ra_ref_t next = ra_self(self);
	int ret = 0;

	m->r = r;
	sv_start(r);
	for (uint32_t i = r->na - 1; !ret && i >= 1; i--) {
		r->args[i].r = r;
		r->args[i].peer = next;
		r->args[i].idx = i;
		ret = sv_spawn(self, r, &ring_member_def, &r->args[i], i,
			       &next);
	}
	if (ret)
		return sv_fail(r, ret);
	m->next = next;
	ret = ring_pass(self, m, r->n - 1);
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t ring_root_def = {
	.name = "savina_ring0",
	.state_size = sizeof(struct ring_member),
	.init = ring_root_init,
	.behavior = ring_behavior,
	.terminate = ring_terminate,
};

static uint64_t ring_msgs(uint64_t n, uint64_t a)
{
	return n + a - 1;
}

static uint64_t ring_spawns(uint64_t n, uint64_t a)
{
	return a;
}

static int ring_check(struct sv_run *r)
{
	return sv_expect("threadring: token hops", r->sum, r->n) ?:
	       sv_expect("threadring: members stopped", r->sum2, r->na) ?:
	       sv_expect("threadring: token out of sequence", r->bad, 0);
}

/* ------------------------------------------------------------------ */
/* Fork-join throughput and fork-join creation                         */
/* ------------------------------------------------------------------ */

struct fj_worker {
	struct sv_run *r;
	uint32_t count;		/* WORK messages received */
	double acc;		/* sum of the computations */
};

static int fj_worker_init(ra_ctx_t *self, void *state, void *arg)
{
	struct fj_worker *w = state;

	w->r = arg;
	return 0;
}

/* Throughput: each worker gets n WORK messages, then it is done. */
static int fjt_worker_behavior(ra_ctx_t *self, void *state,
			       const ra_msg_t *msg)
{
	struct fj_worker *w = state;
	struct sv_run *r = w->r;
	uint32_t round;
	double v;

	if (msg->type != SV_WORK || msg->len != sizeof(round))
		return sv_fail(r, -EPROTO);
	/* Round k's WORK is the k-th this worker gets from the driver. */
	memcpy(&round, msg->data, sizeof(round));
	if (round != w->count)
		atomic_fetch_add(&r->bad, 1);
	v = sv_compute(r);
	if (!(v > 0))
		return sv_fail(r, -EDOM);
	w->acc += v;
	if (++w->count < r->n)
		return 0;
	if (atomic_fetch_add(&r->done, 1) + 1 == r->na)
		sv_finish(r);
	ra_stop(self, 0);
	return 0;
}

static void fj_worker_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct fj_worker *w = state;

	atomic_fetch_add(&w->r->sum, w->count);
	/* The computations summed, rounded: every one is the same. */
	atomic_fetch_add(&w->r->sum2, (uint64_t)llround(w->acc /
							sv_compute(w->r)));
}

static const ra_actor_def_t fjt_worker_def = {
	.name = "savina_fjt_worker",
	.state_size = sizeof(struct fj_worker),
	.init = fj_worker_init,
	.behavior = fjt_worker_behavior,
	.terminate = fj_worker_terminate,
};

/*
 * The driver plays Savina's main thread: it spawns the workers, then
 * sends round after round, one WORK to each worker per round, and stops.
 */
static int fjt_driver_init(ra_ctx_t *self, void *state, void *arg)
{
	struct sv_run *r = arg;
	int ret = 0;

	sv_start(r);
	for (uint32_t i = 1; !ret && i <= r->na; i++)
		ret = sv_spawn(self, r, &fjt_worker_def, r, i, &r->refs[i]);
	for (uint32_t k = 0; !ret && k < r->n; k++)
		for (uint32_t i = 1; !ret && i <= r->na; i++)
			ret = ra_send(self, r->refs[i], SV_WORK, &k, sizeof(k));
	ra_stop(self, 0);
	return ret ? sv_fail(r, ret) : 0;
}

static int sv_unexpected(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	return -EPROTO;
}

static const ra_actor_def_t fjt_driver_def = {
	.name = "savina_fjt_driver",
	.state_size = 0,
	.init = fjt_driver_init,
	.behavior = sv_unexpected,
};

static uint64_t fjt_msgs(uint64_t n, uint64_t a)
{
	return n * a;
}

static uint64_t fjt_spawns(uint64_t n, uint64_t a)
{
	return a + 1;
}

static int fjt_check(struct sv_run *r)
{
	uint64_t want = (uint64_t)r->n * r->na;

	return sv_expect("fjthroughput: workers done", r->done, r->na) ?:
	       sv_expect("fjthroughput: messages", r->sum, want) ?:
	       sv_expect("fjthroughput: computations", r->sum2, want) ?:
	       sv_expect("fjthroughput: work out of sequence", r->bad, 0);
}

/* Creation: one message, one computation, stop. */
static int fjc_worker_behavior(ra_ctx_t *self, void *state,
			       const ra_msg_t *msg)
{
	struct fj_worker *w = state;
	struct sv_run *r = w->r;
	double v;

	if (msg->type != SV_WORK)
		return sv_fail(r, -EPROTO);
	v = sv_compute(r);
	if (!(v > 0))
		return sv_fail(r, -EDOM);
	w->acc += v;
	w->count++;
	if (atomic_fetch_add(&r->done, 1) + 1 == r->n)
		sv_finish(r);
	ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t fjc_worker_def = {
	.name = "savina_fjc_worker",
	.state_size = sizeof(struct fj_worker),
	.init = fj_worker_init,
	.behavior = fjc_worker_behavior,
	.terminate = fj_worker_terminate,
};

static int fjc_root_init(ra_ctx_t *self, void *state, void *arg)
{
	struct sv_run *r = arg;
	ra_ref_t w;
	int ret = 0;

	sv_start(r);
	for (uint32_t i = 1; !ret && i <= r->n; i++) {
		ret = sv_spawn(self, r, &fjc_worker_def, r, i, &w);
		if (!ret)
			ret = ra_send(self, w, SV_WORK, NULL, 0);
	}
	ra_stop(self, 0);
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t fjc_root_def = {
	.name = "savina_fjc_root",
	.state_size = 0,
	.init = fjc_root_init,
	.behavior = sv_unexpected,
};

static uint64_t fjc_msgs(uint64_t n, uint64_t a)
{
	return n;
}

static uint64_t fjc_spawns(uint64_t n, uint64_t a)
{
	return n + 1;
}

static int fjc_check(struct sv_run *r)
{
	return sv_expect("fjcreation: workers done", r->done, r->n) ?:
	       sv_expect("fjcreation: messages", r->sum, r->n) ?:
	       sv_expect("fjcreation: computations", r->sum2, r->n);
}

/* ------------------------------------------------------------------ */
/* Big                                                                 */
/* ------------------------------------------------------------------ */

/* The sink's start signal: Savina's NeighborMessage and PongMessage(-1). */
struct big_kick {
	const ra_ref_t *peers;	/* [a + 1], index 1..a; immutable now */
	ra_ref_t sink;
	uint32_t id;		/* this actor's index, 1..a */
};

struct big_actor {
	struct sv_run *r;
	const ra_ref_t *peers;
	ra_ref_t sink;
	uint32_t id;
	uint32_t rng;		/* xorshift32 state, seeded by the id */
	uint32_t sent;		/* pings sent */
	uint32_t expect;	/* the peer whose pong is awaited */
	uint64_t ts;		/* send time of a sampled ping, else 0 */
	uint64_t pings;		/* pings answered */
	uint64_t pongs;		/* pongs received */
};

struct big_sink {
	struct sv_run *r;
	uint32_t exited;	/* actors that reported done */
};

static uint32_t big_rand(struct big_actor *b)
{
	uint32_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->rng = x;
	return x;
}

/* Savina's sendPing(): a random peer (possibly itself). */
static int big_send_ping(ra_ctx_t *self, struct big_actor *b)
{
	struct sv_run *r = b->r;
	uint32_t target = 1 + big_rand(b) % r->na;

	b->expect = target;
	b->ts = r->record && b->sent % SV_BIG_SAMPLE == 0 ? ra_now_ns() : 0;
	b->sent++;
	return ra_send(self, b->peers[target], SV_PING, &b->id,
		       sizeof(b->id));
}

static int big_actor_init(ra_ctx_t *self, void *state, void *arg)
{
	struct big_actor *b = state;

	b->r = arg;
	return 0;
}

static int big_actor_behavior(ra_ctx_t *self, void *state,
			      const ra_msg_t *msg)
{
	struct big_actor *b = state;
	struct sv_run *r = b->r;
	struct big_kick kick;
	uint32_t id;
	int ret;

	switch (msg->type) {
	case SV_KICK:
		if (msg->len != sizeof(kick))
			return sv_fail(r, -EPROTO);
		memcpy(&kick, msg->data, sizeof(kick));
		b->peers = kick.peers;
		b->sink = kick.sink;
		b->id = kick.id;
		b->rng = 0x9e3779b9u ^ (kick.id * 2654435761u);
		if (!b->rng)
			b->rng = 1;
		ret = r->n ? big_send_ping(self, b) :
			     ra_send(self, b->sink, SV_EXIT, NULL, 0);
		break;
	case SV_PING:
		if (msg->len != sizeof(id))
			return sv_fail(r, -EPROTO);
		b->pings++;
		ret = ra_send(self, msg->from, SV_PONG, &b->id,
			      sizeof(b->id));
		break;
	case SV_PONG:
		if (msg->len != sizeof(id))
			return sv_fail(r, -EPROTO);
		memcpy(&id, msg->data, sizeof(id));
		if (id != b->expect)
			atomic_fetch_add(&r->bad, 1);
		if (b->ts)
			sv_record(self, r, ra_now_ns() - b->ts);
		b->pongs++;
		ret = b->sent == r->n ?
		      ra_send(self, b->sink, SV_EXIT, NULL, 0) :
		      big_send_ping(self, b);
		break;
	case SV_EXIT:
		ra_stop(self, 0);
		return 0;
	default:
		return sv_fail(r, -EPROTO);
	}
	return ret ? sv_fail(r, ret) : 0;
}

static void big_actor_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct big_actor *b = state;

	atomic_fetch_add(&b->r->sum, b->pings);
	atomic_fetch_add(&b->r->sum2, b->pongs);
}

static const ra_actor_def_t big_actor_def = {
	.name = "savina_big",
	.state_size = sizeof(struct big_actor),
	.init = big_actor_init,
	.behavior = big_actor_behavior,
	.terminate = big_actor_terminate,
};

/*
 * The sink spawns the a actors, then hands each the peer table (written
 * before the KICKs, which order it for the readers, and never changed
 * while they run) and its id.
 */
static int big_sink_init(ra_ctx_t *self, void *state, void *arg)
{
	struct big_sink *s = state;
	struct sv_run *r = arg;
	struct big_kick kick = { .peers = r->refs, .sink = ra_self(self) };
	int ret = 0;

	s->r = r;
	sv_start(r);
	for (uint32_t i = 1; !ret && i <= r->na; i++)
		ret = sv_spawn(self, r, &big_actor_def, r, i, &r->refs[i]);
	for (uint32_t i = 1; !ret && i <= r->na; i++) {
		kick.id = i;
		ret = ra_send(self, r->refs[i], SV_KICK, &kick, sizeof(kick));
	}
	return ret ? sv_fail(r, ret) : 0;
}

static int big_sink_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct big_sink *s = state;
	struct sv_run *r = s->r;
	int ret = 0;

	if (msg->type != SV_EXIT)
		return sv_fail(r, -EPROTO);
	if (++s->exited < r->na)
		return 0;
	sv_finish(r);
	for (uint32_t i = 1; !ret && i <= r->na; i++)
		ret = ra_send(self, r->refs[i], SV_EXIT, NULL, 0);
	ra_stop(self, 0);
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t big_sink_def = {
	.name = "savina_big_sink",
	.state_size = sizeof(struct big_sink),
	.init = big_sink_init,
	.behavior = big_sink_behavior,
};

static uint64_t big_msgs(uint64_t n, uint64_t a)
{
	/* KICK, n PINGs and n PONGs, EXIT to the sink and back. */
	return a * (2 * n + 3);
}

static uint64_t big_spawns(uint64_t n, uint64_t a)
{
	return a + 1;
}

static int big_check(struct sv_run *r)
{
	uint64_t want = (uint64_t)r->n * r->na;

	return sv_expect("big: pings answered", r->sum, want) ?:
	       sv_expect("big: pongs received", r->sum2, want) ?:
	       sv_expect("big: pongs from the wrong peer", r->bad, 0);
}

/* ------------------------------------------------------------------ */
/* Chameneos                                                           */
/* ------------------------------------------------------------------ */

enum { CHAM_RED, CHAM_YELLOW, CHAM_BLUE, CHAM_NCOLORS };

struct cham_meet {
	ra_ref_t who;		/* the chameneo that wants to meet */
	uint32_t color;		/* its colour now */
};

struct cham_faded {
	uint32_t meetings;	/* meetings this chameneo took part in */
	uint32_t color;		/* its colour before it faded */
	uint32_t shard;		/* where it lived */
};

struct cham {
	struct sv_run *r;
	ra_ref_t mall;
	uint32_t color;
	uint32_t meetings;
};

struct cham_mall {
	struct sv_run *r;
	uint32_t left;		/* meetings still to arrange */
	uint32_t faded;
	bool waiting;		/* `first` holds a chameneo waiting */
	ra_ref_t first;
	uint64_t meetings;	/* sum over the faded */
	uint64_t away;		/* of chameneos off the mall's shard */
	uint32_t colors[CHAM_NCOLORS];	/* their colours */
};

/* Two different colours give the third; the same colour stays. */
static uint32_t cham_complement(uint32_t a, uint32_t b)
{
	return a == b ? a : 3 - a - b;
}

static int cham_meet_mall(ra_ctx_t *self, struct cham *c)
{
	struct cham_meet m = { .who = ra_self(self), .color = c->color };

	return ra_send(self, c->mall, SV_MEET, &m, sizeof(m));
}

static int cham_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cham *c = state;
	struct sv_arg *a = arg;
	int ret;

	c->r = a->r;
	c->mall = a->peer;
	c->color = a->color;
	ret = cham_meet_mall(self, c);
	return ret ? sv_fail(c->r, ret) : 0;
}

static int cham_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct cham *c = state;
	struct cham_faded f;
	struct cham_meet m;
	uint32_t color;
	int ret;

	switch (msg->type) {
	case SV_MEET:		/* the mall paired us with m.who */
		if (msg->len != sizeof(m))
			return sv_fail(c->r, -EPROTO);
		memcpy(&m, msg->data, sizeof(m));
		c->color = cham_complement(c->color, m.color);
		c->meetings++;
		ret = ra_send(self, m.who, SV_CHANGE, &c->color,
			      sizeof(c->color));
		if (!ret)
			ret = cham_meet_mall(self, c);
		break;
	case SV_CHANGE:		/* the peer computed our new colour */
		if (msg->len != sizeof(color))
			return sv_fail(c->r, -EPROTO);
		memcpy(&color, msg->data, sizeof(color));
		c->color = color;
		c->meetings++;
		ret = cham_meet_mall(self, c);
		break;
	case SV_EXIT:		/* no meetings left: report and fade */
		f.meetings = c->meetings;
		f.color = c->color;
		f.shard = ra_shard_id(self);
		ret = ra_send(self, msg->from, SV_FADED, &f, sizeof(f));
		ra_stop(self, 0);
		break;
	default:
		return sv_fail(c->r, -EPROTO);
	}
	return ret ? sv_fail(c->r, ret) : 0;
}

static const ra_actor_def_t cham_def = {
	.name = "savina_chameneo",
	.state_size = sizeof(struct cham),
	.init = cham_init,
	.behavior = cham_behavior,
};

static int cham_mall_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cham_mall *mall = state;
	struct sv_run *r = arg;
	int ret = 0;

	mall->r = r;
	mall->left = r->n;
	sv_start(r);
	for (uint32_t i = 1; !ret && i <= r->na; i++) {
		r->args[i].r = r;
		r->args[i].peer = ra_self(self);
		r->args[i].idx = i;
		r->args[i].color = (i - 1) % CHAM_NCOLORS;
		ret = sv_spawn(self, r, &cham_def, &r->args[i], i, NULL);
	}
	return ret ? sv_fail(r, ret) : 0;
}

/* Pairwise differences of the colour counts are invariant mod 3. */
static bool cham_invariant(const uint32_t *now, uint32_t na)
{
	uint32_t start[CHAM_NCOLORS] = { 0 };

	for (uint32_t i = 0; i < na; i++)
		start[i % CHAM_NCOLORS]++;
	for (int i = 0; i + 1 < CHAM_NCOLORS; i++) {
		int64_t d0 = (int64_t)start[i] - start[i + 1];
		int64_t d1 = (int64_t)now[i] - now[i + 1];

		if ((((d0 - d1) % 3) + 3) % 3 != 0)
			return false;
	}
	return now[0] + now[1] + now[2] == na;
}

static int cham_mall_behavior(ra_ctx_t *self, void *state,
			      const ra_msg_t *msg)
{
	struct cham_mall *mall = state;
	struct sv_run *r = mall->r;
	struct cham_faded f;
	struct cham_meet m;
	int ret = 0;

	switch (msg->type) {
	case SV_MEET:
		if (msg->len != sizeof(m))
			return sv_fail(r, -EPROTO);
		memcpy(&m, msg->data, sizeof(m));
		if (mall->left == 0) {
			ret = ra_send(self, m.who, SV_EXIT, NULL, 0);
		} else if (!mall->waiting) {
			mall->first = m.who;
			mall->waiting = true;
		} else {
			mall->left--;
			mall->waiting = false;
			ret = ra_send(self, mall->first, SV_MEET, &m,
				      sizeof(m));
		}
		break;
	case SV_FADED:
		if (msg->len != sizeof(f))
			return sv_fail(r, -EPROTO);
		memcpy(&f, msg->data, sizeof(f));
		if (f.color >= CHAM_NCOLORS)
			return sv_fail(r, -EPROTO);
		mall->meetings += f.meetings;
		if (f.shard != ra_shard_id(self))
			mall->away += f.meetings;
		mall->colors[f.color]++;
		if (++mall->faded < r->na)
			break;
		atomic_store(&r->sum, mall->meetings);
		atomic_store(&r->sum2, mall->away);
		if (!cham_invariant(mall->colors, r->na))
			atomic_fetch_add(&r->bad, 1);
		sv_finish(r);
		ra_stop(self, 0);
		break;
	default:
		return sv_fail(r, -EPROTO);
	}
	return ret ? sv_fail(r, ret) : 0;
}

static const ra_actor_def_t cham_mall_def = {
	.name = "savina_mall",
	.state_size = sizeof(struct cham_mall),
	.init = cham_mall_init,
	.behavior = cham_mall_behavior,
};

static uint64_t cham_msgs(uint64_t n, uint64_t a)
{
	/*
	 * MEETs to the mall: one per chameneo to start and two per meeting;
	 * per meeting one forwarded MEET and one CHANGE; per chameneo one
	 * EXIT and one FADED.
	 */
	return 4 * n + 3 * a;
}

static uint64_t cham_spawns(uint64_t n, uint64_t a)
{
	return a + 1;
}

static int cham_check(struct sv_run *r)
{
	return sv_expect("chameneos: sum of meetings", r->sum,
			 2 * (uint64_t)r->n) ?:
	       sv_expect("chameneos: colour invariant broken", r->bad, 0);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

static const struct sv_bench benches[] = {
	{
		.name = "savina_pingpong", .n_name = "pings",
		.root = &pp_ping_def, .paper_n = 40000, .n = 40000,
		.quick_n = 4000, .batches = 30, .warmup = 5,
		.op = "round trip",
		.note = "ping on shard 0, pong on shard 1: every message "
			"crosses shards",
		.msgs = pp_msgs, .spawns = pp_spawns, .check = pp_check,
	},
	{
		.name = "savina_counting", .n_name = "messages",
		.root = &cnt_producer_def, .paper_n = 1000000, .n = 1000000,
		.quick_n = 50000, .batches = 30, .warmup = 5,
		.note = "producer on shard 0, counter on shard 1; the "
			"producer sends all N in one behavior call, as "
			"Savina's does",
		.msgs = cnt_msgs, .spawns = pp_spawns, .check = cnt_check,
	},
	{
		.name = "savina_threadring", .n_name = "hops",
		.a_name = "ring actors",
		.root = &ring_root_def, .paper_n = 100000, .paper_a = 100,
		.n = 1000000, .a = 503, .quick_n = 10000, .quick_a = 503,
		.batches = 10, .warmup = 2, .op = "hop (1 in 16)",
		.note = "503 actors as in the Benchmarks Game's thread-ring "
			"(Savina: 100); 1e6 hops (Savina: R=1e5, the Game: "
			"5e7; ~0.7 s a batch here, ~2000 laps, so spawning "
			"the ring weighs < 1%); round robin: every hop but "
			"one per lap crosses shards",
		.msgs = ring_msgs, .spawns = ring_spawns, .check = ring_check,
	},
	{
		.name = "savina_fjthroughput", .n_name = "messages per actor",
		.a_name = "actors",
		.root = &fjt_driver_def, .paper_n = 10000, .paper_a = 60,
		.n = 10000, .a = 60, .quick_n = 500, .quick_a = 60,
		.batches = 30, .warmup = 5,
		.note = "one driver (Savina's main thread) on shard 0 sends "
			"round after round; workers round robin, so half "
			"the messages cross shards; each computes "
			"sin(37.2)^2",
		.msgs = fjt_msgs, .spawns = fjt_spawns, .check = fjt_check,
	},
	{
		.name = "savina_fjcreation", .n_name = "actors",
		.root = &fjc_root_def, .paper_n = 40000, .n = 40000,
		.quick_n = 4000, .batches = 30, .warmup = 5,
		.note = "the root on shard 0 spawns and messages each in "
			"turn; half are remote spawns; each computes "
			"sin(37.2)^2 and stops",
		.msgs = fjc_msgs, .spawns = fjc_spawns, .check = fjc_check,
	},
	{
		.name = "savina_big", .n_name = "pings per actor",
		.a_name = "actors",
		.root = &big_sink_def, .paper_n = 20000, .paper_a = 120,
		.n = 20000, .a = 120, .quick_n = 200, .quick_a = 120,
		.batches = 10, .warmup = 2,
		.op = "ping-pong (1 in 16)",
		.note = "N and A of Savina's BigConfig (~0.5 s a batch "
			"here); sink on shard 0, actors round robin; a "
			"random peer (xorshift32) per ping, so about half "
			"the messages cross shards",
		.msgs = big_msgs, .spawns = big_spawns, .check = big_check,
	},
	{
		.name = "savina_chameneos", .n_name = "meetings",
		.a_name = "chameneos",
		.root = &cham_mall_def, .paper_n = 200000, .paper_a = 100,
		.n = 200000, .a = 100, .quick_n = 10000, .quick_a = 100,
		.batches = 30, .warmup = 5,
		.note = "mall on shard 0, chameneos round robin: the half "
			"on shard 1 cross shards for every MEET",
		.msgs = cham_msgs, .spawns = cham_spawns, .check = cham_check,
	},
};

#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

/* ------------------------------------------------------------------ */
/* Running one benchmark                                               */
/* ------------------------------------------------------------------ */

struct sv_ctx {
	ra_runtime_t *rt;
	struct sv_run *r;
	ra_hdr_t *per_batch;	/* batch ns, when the benchmark has no op */
	uint64_t sum;		/* r->sum, sum2 over the timed batches */
	uint64_t sum2;
};

static int sv_batch(void *arg, int index, bool timed, double *batch_ns)
{
	static const ra_spawn_opts_t on0 = {
		.placement = RA_PLACE_SHARD, .shard = 0,
	};
	struct sv_ctx *c = arg;
	struct sv_run *r = c->r;
	const char *name = r->b->name;
	uint64_t ns;
	int ret;

	atomic_store(&r->t0, 0);
	atomic_store(&r->t1, 0);
	atomic_store(&r->done, 0);
	atomic_store(&r->sum, 0);
	atomic_store(&r->sum2, 0);
	atomic_store(&r->bad, 0);
	r->record = timed;
	ret = ra_runtime_spawn(c->rt, r->b->root, r, &on0, NULL);
	if (ret) {
		fprintf(stderr, "savina: %s: spawn: %s\n", name,
			ra_strerror(ret));
		return ret;
	}
	/* Sleep until the iteration signals; bounded, so a hang fails. */
	ret = bench_efd_wait(r->efd, SV_BATCH_TIMEOUT_MS);
	if (ret) {
		fprintf(stderr, "savina: %s: batch %d: waiting: %s\n", name,
			index, strerror(-ret));
		return ret;
	}
	ret = atomic_load(&r->err);
	if (ret) {
		fprintf(stderr, "savina: %s: batch %d: an actor failed: %s\n",
			name, index, ra_strerror(ret));
		return ret;
	}
	ret = ra_runtime_wait_idle(c->rt, SV_IDLE_TIMEOUT_NS);
	if (ret) {
		fprintf(stderr, "savina: %s: batch %d: actors left: %s\n",
			name, index, ra_strerror(ret));
		return ret;
	}
	ret = atomic_load(&r->err) ?: r->b->check(r);
	if (ret) {
		fprintf(stderr, "savina: %s: batch %d failed its check\n",
			name, index);
		return ret;
	}
	ns = atomic_load(&r->t1) - atomic_load(&r->t0);
	*batch_ns = (double)ns;
	if (timed) {
		if (c->per_batch)
			ra_hdr_record(c->per_batch, (int64_t)ns);
		c->sum += atomic_load(&r->sum);
		c->sum2 += atomic_load(&r->sum2);
	}
	return 0;
}

/* The runtime's counters must agree with what the iterations imply. */
static int sv_check_stats(const struct sv_bench *b, const ra_stats_t *s0,
			  const ra_stats_t *s1, uint64_t iters,
			  const struct sv_run *r)
{
	int ret;

	ret = sv_expect("runtime: user messages delivered",
			s1->msgs_delivered - s0->msgs_delivered,
			iters * b->msgs(r->n, r->na));
	if (!ret)
		ret = sv_expect("runtime: actors spawned",
				s1->actors_spawned - s0->actors_spawned,
				iters * b->spawns(r->n, r->na));
	if (!ret)
		ret = sv_expect("runtime: dead letters",
				s1->dead_letters - s0->dead_letters, 0);
	if (!ret)
		ret = sv_expect("runtime: live actors", s1->actors_live, 0);
	if (ret)
		fprintf(stderr, "savina: %s: runtime counters disagree\n",
			b->name);
	return ret;
}

/* What one benchmark's run leaves for the report. */
struct sv_out {
	struct bench_result res;
	ra_hdr_t *op;		/* merged per-op or per-batch histogram */
	uint64_t msgs;		/* user messages per iteration */
	double msgs_per_s;	/* at the median batch */
	double cpu_wall;	/* CPUs busy over the timed batches */
	double remote_frac;	/* share of sends that crossed shards */
	double sleeps;		/* shard sleeps per iteration */
	uint64_t sum, sum2;	/* sv_ctx's, for the benchmark's report */
};

static int sv_run_bench(const struct bench_opts *o, const struct sv_bench *b,
			uint32_t n, uint32_t na, struct sv_out *out)
{
	struct bench_series s;
	struct sv_run *r;
	struct sv_ctx c = { 0 };
	ra_stats_t s0, s1;
	ra_config_t cfg;
	bool have_stats = false;
	int ret, dret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->b = b;
	r->n = n;
	r->na = na;
	r->theta = SV_THETA;
	r->efd = eventfd(0, EFD_CLOEXEC);
	r->args = calloc((size_t)na + 1, sizeof(*r->args));
	r->refs = calloc((size_t)na + 1, sizeof(*r->refs));
	c.r = r;
	memset(&s, 0, sizeof(s));
	ret = r->efd < 0 ? -errno : 0;
	if (!ret && (!r->args || !r->refs))
		ret = -ENOMEM;
	if (!ret)
		ret = bench_series_init(&s, o->batches);
	if (ret)
		goto out_run;

	bench_opts_config(o, &cfg);
	ret = bench_runtime_create("savina", &cfg, &c.rt);
	if (ret)
		goto out_run;
	r->nshards = ra_runtime_shards(c.rt);
	r->hdr = calloc(r->nshards, sizeof(*r->hdr));
	ret = r->hdr ? 0 : -ENOMEM;
	for (unsigned i = 0; !ret && i < r->nshards; i++)
		ret = bench_hdr_create(&r->hdr[i]);
	if (!ret)
		ret = bench_hdr_create(&out->op);
	if (ret)
		goto out_rt;
	if (!b->op)
		c.per_batch = out->op;

	have_stats = !ra_stats_snapshot(c.rt, &s0);
	ret = bench_run_batches(o->warmup, o->batches, sv_batch, &c, &s);
	if (!ret && have_stats && !ra_stats_snapshot(c.rt, &s1)) {
		uint64_t iters = (uint64_t)o->warmup + o->batches;
		uint64_t remote = s1.msgs_remote - s0.msgs_remote;
		uint64_t sends = s1.msgs_local - s0.msgs_local + remote;

		ret = sv_check_stats(b, &s0, &s1, iters, r);
		out->remote_frac = sends ? (double)remote / sends : 0;
		out->sleeps = (double)(s1.sleeps - s0.sleeps) / iters;
		ra_stats_fini(&s1);
	} else if (!ret) {
		fprintf(stderr, "savina: %s: no runtime statistics\n",
			b->name);
		ret = -EIO;
	}
	if (have_stats)
		ra_stats_fini(&s0);
	if (ret)
		goto out_rt;

	if (b->op)
		for (unsigned i = 0; i < r->nshards; i++)
			ra_hdr_merge(out->op, r->hdr[i]);
	bench_result_init(&out->res, b->name, o);
	ret = bench_result_fill(&out->res, &s, out->op);
	out->msgs = b->msgs(n, na);
	out->msgs_per_s = out->res.batch.median > 0 ?
			  (double)out->msgs * 1e9 / out->res.batch.median : 0;
	out->cpu_wall = s.wall_ns > 0 ?
			bench_cpu_total_s(&s.cpu) * 1e9 / s.wall_ns : 0;
	out->sum = c.sum;
	out->sum2 = c.sum2;
out_rt:
	dret = ra_runtime_destroy(c.rt);
	if (dret && !ret) {
		fprintf(stderr, "savina: ra_runtime_destroy: %s\n",
			ra_strerror(dret));
		ret = dret;
	}
	if (r->hdr)
		for (unsigned i = 0; i < r->nshards; i++)
			ra_hdr_destroy(r->hdr[i]);
	free(r->hdr);
out_run:
	bench_series_fini(&s);
	if (r->efd >= 0)
		close(r->efd);
	free(r->args);
	free(r->refs);
	free(r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/*
 * The program's first line: machine and runtime config as
 * bench_print_header() writes them. The batch counts differ per
 * benchmark, so each benchmark's own line gives them.
 */
static void print_header(const struct bench_opts *o,
			 const struct bench_machine *m)
{
	printf("# savina: nproc=%ld (allowed %ld) kernel=%s %s | shards=%u "
	       "pin=%s idle_poll=%" PRIu64 "ns msg_timing=%s | Savina (Imam "
	       "and Sarkar, AGERE! 2014), one batch = one iteration incl. "
	       "actor creation; actor i of an iteration on shard i %% "
	       "shards%s\n", m->nproc, m->nallowed, m->kernel, m->arch,
	       o->shards, o->pin ? "yes" : "no", o->idle_poll_ns,
	       o->msg_timing ? "on" : "off",
	       o->quick ? " (smoke run, not a measurement)" : "");
}

static void print_params(const struct sv_bench *b,
			 const struct bench_opts *bo, uint32_t n, uint32_t na)
{
	printf("# %s: %s N=%" PRIu32 " (paper default %" PRIu32 "%s)",
	       b->name, b->n_name, n, b->paper_n,
	       n == b->paper_n ? "" : ", DIFFERS");
	if (b->a_name)
		printf(", %s A=%" PRIu32 " (paper default %" PRIu32 "%s)",
		       b->a_name, na, b->paper_a,
		       na == b->paper_a ? "" : ", DIFFERS");
	printf(" | warmup=%d batches=%d%s | %s\n", bo->warmup, bo->batches,
	       bo->quick ? " (smoke run)" :
	       bo->batches < BENCH_MIN_BATCHES ? " (a long benchmark: >= 10 "
	       "batches)" : "", b->note);
}

static void print_details(const struct sv_bench *b, const struct sv_out *out,
			  uint32_t na)
{
	printf("  %s: %" PRIu64 " user msgs/iteration, %.3g msgs/s at the "
	       "median; %.0f%% of sends crossed shards; %.2f CPUs busy; "
	       "%.1f shard sleeps/iteration; all checks passed\n", b->name,
	       out->msgs, out->msgs_per_s, 100 * out->remote_frac,
	       out->cpu_wall, out->sleeps);
	if (b->check == cham_check && out->sum)
		printf("  %s: meetings by chameneos off the mall's shard: "
		       "%.1f%% (they are %u of %" PRIu32 ")\n", b->name,
		       100.0 * (double)out->sum2 / (double)out->sum,
		       na / 2, na);
	bench_hdr_summary(stdout, b->op ? b->op : "batch", out->op);
}

int main(int argc, char **argv)
{
	bool set_batches = bench_opt_given(argc, argv, "batches");
	bool set_warmup = bench_opt_given(argc, argv, "warmup");
	static struct sv_out outs[NBENCHES];
	bool ran[NBENCHES] = { false };
	struct bench_machine m;
	struct bench_opts o;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	bool any = false;
	int ret, status = 0, nran = 0;

	bench_opts_init(&o, "savina", 0, nproc > 0 ? (unsigned)nproc : 2);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	o.rounds = 1;		/* no floor to alternate with */
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t i = 0; i < NBENCHES; i++) {
		const struct sv_bench *b = &benches[i];
		struct sv_out *out = &outs[i];
		struct bench_opts bo = o;
		uint32_t n = o.quick ? b->quick_n : b->n;
		uint32_t na = o.quick ? b->quick_a : b->a;

		if (!bench_selected(&o, b->name))
			continue;
		if (o.ops > 0)
			n = (uint32_t)o.ops;
		if (b->root == &ring_root_def && na < 2)
			na = 2;
		bo.name = b->name;
		bo.ops = (int)n;
		bo.batches = set_batches || o.quick ? o.batches : b->batches;
		bo.warmup = set_warmup || o.quick ? o.warmup : b->warmup;

		if (!any)
			print_header(&o, &m);
		any = true;
		print_params(b, &bo, n, na);
		ret = sv_run_bench(&bo, b, n, na, out);
		if (bench_io_uring_missing(ret))
			return bench_skip_io_uring(ret);
		if (ret) {
			fprintf(stderr, "savina: %s: FAILED (%s)\n", b->name,
				ra_strerror(ret));
			ra_hdr_destroy(out->op);
			status = 1;
			continue;
		}
		ran[i] = true;
		nran++;
		print_details(b, out, na);
		bench_result_add(&out->res, "msgs_per_batch",
				 (double)out->msgs);
		bench_result_add(&out->res, "msgs_per_s", out->msgs_per_s);
		bench_result_add(&out->res, "actors", (double)na);
		bench_result_add(&out->res, "paper_n", (double)b->paper_n);
		bench_result_add(&out->res, "paper_actors",
				 (double)b->paper_a);
		bench_result_add(&out->res, "remote_send_frac",
				 out->remote_frac);
		bench_result_add(&out->res, "cpu_wall_ratio", out->cpu_wall);
		bench_result_add(&out->res, "sleeps_per_batch", out->sleeps);

		if (bench_json_emit("savina", &o, &m, &out->res))
			status = 1;
		if (bench_hgrm_emit_row("savina", &o, b->name, false, out->op))
			status = 1;
		if (o.only && bench_hgrm_emit("savina", o.hgrm_path, out->op))
			status = 1;
		ra_hdr_destroy(out->op);
		out->op = NULL;
	}
	if (!any)
		return 0;	/* --only names no benchmark of ours */
	if (!nran)
		return status;

	/* All rows together; per op is the histogram named above. */
	bench_print_row_header(stdout);
	for (size_t i = 0; i < NBENCHES; i++)
		if (ran[i])
			bench_print_row(stdout, &outs[i].res);
	printf("%-19s %11s %9s\n", "name", "msgs/s", "msgs/iter");
	for (size_t i = 0; i < NBENCHES; i++)
		if (ran[i])
			printf("%-19s %11.4g %9" PRIu64 "\n", benches[i].name,
			       outs[i].msgs_per_s, outs[i].msgs);
	return status;
}
