/*
 * t/stress.c: randomized, replayable stress of the message guarantees.
 *
 * Each program is built from a seed: a random mix of scenarios (ping-pong
 * pairs, floods into fan-in sinks, self-loops, a crowd of stealable
 * loopers on one shard, spawn storms whose children are monitored and
 * sometimes linked, stop storms, a crash that travels two links, a
 * compute hog) on random shards and placements, in a runtime of 1, 2 or
 * 4 shards with random budget, loop-pass, ring, idle and stealing knobs.
 * Checked traffic travels on channels: one sender, one receiver, messages
 * numbered from 1, each number checked on arrival. Every actor stops by
 * itself; then the test checks that the run ended, that every message to
 * a live actor arrived exactly once and in order, that a receiver which
 * stopped after R messages saw exactly 1..R, that every EXIT and DOWN
 * came once with the right ref, code and text, that every actor ended
 * once with its reason, and that the runtime's msgs_delivered and
 * dead_letters equal what the test counted: nothing lost silently.
 *
 * RA_SEED (default 1): the first seed; RA_STRESS_SEEDS (default 4): seeds
 * per shard count; RA_SHARDS: one shard count instead of 1, 2 and 4.
 * Replay one program: RA_SEED=N RA_STRESS_SEEDS=1 RA_SHARDS=S t/stress
 * (RA_STRESS_VERBOSE=1 also lists its actors). A seed fixes the program
 * and the knobs, not how the shards interleave. RA_TEST_TIME_SCALE
 * (sanitizer builds) stretches the deadlines; under TSan it also
 * shrinks the message counts, so a seed is another program there.
 *
 * Senders move too: a sender may migrate only once every message it sent
 * has left its old shard for good (actors/steal.c, sends_settled()).
 * This test found that gap (RA_SEED=26 RA_SHARDS=2 reordered a flooder's
 * chunks). RA_STRESS_PIN_SENDERS=1 pins every actor that sends to
 * another, to tell a sender-side failure from a receiver-side one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define MAX_NODES	2048
#define MAX_CHANS	4096
#define NONE		UINT32_MAX	/* no channel; sender NONE: main */
#define T_MSG		1		/* the one user type: struct wire */
#define CHECKS		9		/* TAP lines per program */
#define CRASH		"crash"		/* the text of every crash */

enum role {
	R_PINGER, R_PONGER, R_FLOODER, R_SINK, R_LOOPER, R_SPAWNER,
	R_CHILD, R_CRASHER, R_TRAPPER, R_BYSTANDER, R_HOG, R_NROLES
};

struct wire {
	uint32_t chan;
	uint32_t pad;
	uint64_t seq;		/* from 1 */
};

/*
 * One sender, one receiver. The sender's fields are written only by the
 * sender (main for kicks), the receiver's only by the receiver; main
 * reads both once the shards are joined.
 */
struct chan {
	uint32_t from, to;	/* node indices; from NONE: main */
	uint32_t count;		/* messages sent; 0: open-ended */
	uint32_t expect;	/* stop storm: the receiver stops after these */
	bool cut;		/* stop storm: the rest are dead letters */
	uint64_t seq, sent, refused, failed;	/* sender: -ESRCH, other */
	uint64_t next, received, errors;	/* receiver */
	uint64_t bad_want, bad_got;		/* receiver: first error */
};

/* An actor; the fields above `ref` are set before the runtime starts. */
struct node {
	enum role role;
	ra_spawn_opts_t opts;
	uint32_t kick;		/* channel main starts it on, or NONE */
	uint32_t self_ch;	/* its own continue/loop channel, or NONE */
	uint32_t out;		/* the channel its traffic leaves on */
	uint32_t in;		/* child: its spawner's channel to it */
	uint32_t burst;		/* ping window, chunk, loop burst */
	uint32_t left;		/* sink: messages until it stops */
	uint32_t rounds, per_round, child0;	/* spawner */
	/* Crasher X: Y, Z (its links); trapper Y: Z, X; child: its spawner. */
	uint32_t peer[2];
	uint32_t want_downs, want_exits;	/* about it, at its watcher */
	uint32_t spin_ns;	/* hog: busy time per message */
	int code;		/* the exit code it must end with */
	bool toggle;		/* flips ra_set_stealable every 8 */
	bool link;		/* spawner: spawn-links children and traps */
	bool demon;		/* child: its monitor is removed at once */
	bool init_fail;		/* child: init returns code, why "" */
	/* Written while it runs: by itself, or by its spawner or watcher. */
	ra_ref_t ref;
	uint64_t mref;		/* its watcher's monitor on it */
	uint32_t downs, exits;	/* DOWN / EXIT about it its watcher saw */
	uint32_t sigs_left;	/* watcher: EXIT and DOWN still to come */
	uint32_t done_rounds, nmsgs, bad;
	char first_bad[80];	/* what went wrong first, for the report */
	uint64_t calls, sig_calls;	/* behavior calls; EXIT/DOWN ones */
	int reason;		/* terminate's */
	atomic_int ended;	/* terminate calls */
};

static struct prog {
	unsigned shards, shrink;	/* shrink: counts are divided by it */
	bool steal;		/* stealing on in this runtime */
	uint32_t nnodes, nchans, nhogs;
	char mix[32];		/* the scenarios, for the diag line */
	atomic_int others;	/* actors, hogs aside, not yet ended */
	struct node node[MAX_NODES];
	struct chan chan[MAX_CHANS];
} P;

#define N(i) (&P.node[i])
static ra_runtime_t *rt;
static const ra_actor_def_t defs[R_NROLES];

/* Anything an actor did not expect: counted, the first one described. */
static void wrong(struct node *nd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void wrong(struct node *nd, const char *fmt, ...)
{
	va_list ap;

	if (nd->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(nd->first_bad, sizeof(nd->first_bad), fmt, ap);
	va_end(ap);
}

/* ---- checked traffic ---- */

static struct wire next_wire(uint32_t c)
{
	return (struct wire){ .chan = c, .seq = ++P.chan[c].seq };
}

static void count_send(struct chan *ch, int ret)
{
	if (ret == 0)
		ch->sent++;
	else if (ret == -ESRCH)
		ch->refused++;
	else
		ch->failed++;
}

static void tsend(ra_ctx_t *self, uint32_t c)
{
	struct wire w = next_wire(c);

	count_send(&P.chan[c], ra_send(self, N(P.chan[c].to)->ref, T_MSG, &w,
				       sizeof(w)));
}

/* Send up to n more on channel c, never past its count. */
static void send_upto(ra_ctx_t *self, uint32_t c, uint32_t n)
{
	while (n-- && P.chan[c].seq < P.chan[c].count)
		tsend(self, c);
}

/* Main's kick: the one message that starts a top actor. */
static void msend(uint32_t c)
{
	struct wire w = next_wire(c);

	count_send(&P.chan[c], ra_runtime_send(rt, N(P.chan[c].to)->ref,
					       T_MSG, &w, sizeof(w)));
}

/*
 * Take one message of checked traffic, or NULL (counted as bad) if it is
 * none of ours. A gap, a repeat or a reordering is an error; then the
 * count resynchronizes, so one swap costs a few errors, not all the rest.
 */
static struct chan *take(struct node *nd, uint32_t idx, const ra_msg_t *m)
{
	struct chan *ch;
	struct wire w;

	if (m->type != T_MSG || m->len != sizeof(w)) {
		wrong(nd, "message of type %u, %zu bytes", m->type, m->len);
		return NULL;
	}
	memcpy(&w, m->data, sizeof(w));
	if (w.chan >= P.nchans || P.chan[w.chan].to != idx) {
		wrong(nd, "message on channel %u, not its own", w.chan);
		return NULL;
	}
	ch = &P.chan[w.chan];
	if (w.seq != ch->next && !ch->errors++) {
		ch->bad_want = ch->next;
		ch->bad_got = w.seq;
	}
	ch->next = w.seq + 1;
	ch->received++;
	return ch;
}

/* ---- roles: what each does with a message of checked traffic ---- */

static void finish(ra_ctx_t *self, struct node *nd)
{
	if (nd->code)
		ra_exit(self, nd->code, CRASH);
	else
		ra_stop(self, 0);
}

/* A window of pings in flight; each pong lets one more go. */
static void pinger(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	if (ch->from == NONE)
		send_upto(self, nd->out, nd->burst);
	else if (ch->received == ch->count)
		ra_stop(self, 0);
	else
		send_upto(self, nd->out, 1);
}

static void ponger(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	tsend(self, nd->out);
	if (ch->received == ch->count)
		ra_stop(self, 0);
}

/* A chunk, then a message to itself to go on: a long-running producer. */
static void flooder(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	(void)ch;
	send_upto(self, nd->out, nd->burst);
	if (P.chan[nd->out].seq < P.chan[nd->out].count)
		tsend(self, nd->self_ch);
	else
		ra_stop(self, 0);
}

static void sink(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	(void)ch;
	if (--nd->left == 0)
		ra_stop(self, 0);
}

/* A burst to itself, then one more per message taken, up to its count. */
static void looper(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	send_upto(self, nd->self_ch, ch->from == NONE ? nd->burst : 1);
	if (ch->from != NONE && ch->received == ch->count)
		ra_stop(self, 0);
}

static void spawner_maybe_stop(ra_ctx_t *self, struct node *nd)
{
	if (nd->done_rounds == nd->rounds && nd->sigs_left == 0)
		ra_stop(self, 0);
}

/* Spawn, watch and feed one child; the monitor goes first, in order. */
static void spawn_child(ra_ctx_t *self, struct node *nd, uint32_t c)
{
	struct node *ch = N(c);
	ra_spawn_opts_t o = ch->opts;
	int ret;

	if (nd->link)
		o.flags |= RA_SPAWN_LINK;
	ret = ra_spawn(self, &defs[R_CHILD], (void *)(uintptr_t)c, &o,
			   &ch->ref);

	if (ret) {
		wrong(nd, "ra_spawn: %d", ret);
		atomic_fetch_sub(&P.others, 1);
		return;
	}
	ret = ra_monitor(self, ch->ref, &ch->mref);
	if (ret == 0 && ch->demon)
		ret = ra_demonitor(self, ch->mref);
	if (ret)
		wrong(nd, "ra_monitor/ra_demonitor of child %u: %d", c, ret);
	send_upto(self, ch->in, UINT32_MAX);
}

/* One round of children per message, then a message to itself. */
static void spawner(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	uint32_t c = nd->child0 + nd->done_rounds * nd->per_round;

	(void)ch;
	for (uint32_t i = 0; i < nd->per_round; i++)
		spawn_child(self, nd, c + i);
	if (++nd->done_rounds < nd->rounds)
		tsend(self, nd->self_ch);
	spawner_maybe_stop(self, nd);
}

static void child(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	if (ch->received == ch->count)
		finish(self, nd);
}

/* Y watches Z, then tells Z: the DOWN then carries the crash's code. */
static void trapper(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	struct node *z = N(nd->peer[0]);

	if (ch->from != NONE)
		return;		/* the crasher's data: taken, checked */
	if (ra_monitor(self, z->ref, &z->mref) != 0)
		wrong(nd, "ra_monitor of the bystander failed");
	tsend(self, nd->out);
}

static void bystander(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	(void)ch;
	tsend(self, nd->out);	/* Z is linked next: go on, crasher */
}

/* Link both, send the trapper its data, crash: the exit takes both links. */
static void crasher(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	(void)ch;
	for (int i = 0; i < 2; i++)
		if (ra_link(self, N(nd->peer[i])->ref) != 0)
			wrong(nd, "ra_link failed");
	send_upto(self, nd->out, UINT32_MAX);
	ra_exit(self, nd->code, CRASH);
}

/* Burn its shard while others talk: the loop-pass bound must save them. */
static void hog(ra_ctx_t *self, struct node *nd, struct chan *ch)
{
	uint64_t until = ra_now_ns() + nd->spin_ns;

	(void)ch;
	while (ra_now_ns() < until)
		;
	if (atomic_load(&P.others) == 0)
		ra_stop(self, 0);
	else
		tsend(self, nd->self_ch);
}

static void (*const on_msg[R_NROLES])(ra_ctx_t *, struct node *,
				      struct chan *) = {
	[R_PINGER] = pinger, [R_PONGER] = ponger, [R_FLOODER] = flooder,
	[R_SINK] = sink, [R_LOOPER] = looper, [R_SPAWNER] = spawner,
	[R_CHILD] = child, [R_CRASHER] = crasher, [R_TRAPPER] = trapper,
	[R_BYSTANDER] = bystander, [R_HOG] = hog,
};

/* ---- EXIT and DOWN ---- */

static bool why_is(const char *why, const struct node *nd)
{
	return strcmp(why, nd->code && !nd->init_fail ? CRASH : "") == 0;
}

/*
 * A child that ends in its init may be gone before our MONITOR reaches
 * it: SPAWN and MONITOR can ride in two msg_ring batches, and its shard
 * runs it between them. Its DOWN then says noproc, as ra_monitor() (and
 * OTP's monitor after a spawn) documents. A child fed messages cannot
 * end before the MONITOR, which goes ahead of them.
 */
static bool down_ok(const ra_down_info_t *d, const struct node *ch)
{
	if (d->code == RA_EXIT_NOPROC && P.chan[ch->in].count == 0)
		return d->why[0] == '\0';
	return d->code == ch->code && why_is(d->why, ch);
}

/* Per child: one DOWN unless demonitored, one EXIT if spawn-linked. */
static void spawner_signal(struct node *nd, const ra_msg_t *m)
{
	const ra_down_info_t *d = m->data;
	const ra_exit_info_t *x = m->data;
	uint32_t end = nd->child0 + nd->done_rounds * nd->per_round;

	for (uint32_t c = nd->child0; c < end; c++) {
		struct node *ch = N(c);

		if (m->type == RA_MSG_DOWN && d->mref == ch->mref) {
			if (!ra_ref_eq(d->who, ch->ref) || !down_ok(d, ch))
				wrong(nd, "DOWN of child %u: code %d, why "
				      "'%s'", c, d->code, d->why);
			ch->downs++;
			return;
		}
		if (m->type == RA_MSG_EXIT && ra_ref_eq(x->who, ch->ref)) {
			if (x->code != ch->code || !why_is(x->why, ch))
				wrong(nd, "EXIT of child %u: code %d, why "
				      "'%s'", c, x->code, x->why);
			ch->exits++;
			return;
		}
	}
	wrong(nd, "%s of no child of ours: code %d",
	      m->type == RA_MSG_DOWN ? "DOWN" : "EXIT", d->code);
}

/*
 * The trapper sees the crasher's EXIT after all the crasher's data (one
 * sender: FIFO), the bystander's DOWN with the crash's code and text,
 * and, as it then monitors the dead crasher, a DOWN with RA_EXIT_NOPROC.
 */
static void trapper_signal(ra_ctx_t *self, struct node *nd, const ra_msg_t *m)
{
	struct node *z = N(nd->peer[0]), *x = N(nd->peer[1]);
	const ra_down_info_t *d = m->data;
	const ra_exit_info_t *e = m->data;
	const struct chan *data = &P.chan[x->out];

	if (m->type == RA_MSG_EXIT && ra_ref_eq(e->who, x->ref)) {
		if (e->code != x->code || strcmp(e->why, CRASH) ||
		    data->received != data->count)
			wrong(nd, "EXIT: code %d, why '%s', after %llu of %u",
			      e->code, e->why,
			      (unsigned long long)data->received, data->count);
		x->exits++;
		if (ra_monitor(self, x->ref, &x->mref) != 0)
			wrong(nd, "ra_monitor of the crasher failed");
	} else if (m->type == RA_MSG_DOWN && d->mref == z->mref) {
		if (!ra_ref_eq(d->who, z->ref) || d->code != z->code ||
		    strcmp(d->why, CRASH))
			wrong(nd, "bystander's DOWN: code %d, why '%s'",
			      d->code, d->why);
		z->downs++;
	} else if (m->type == RA_MSG_DOWN && x->mref && d->mref == x->mref) {
		if (!ra_ref_eq(d->who, x->ref) || d->code != RA_EXIT_NOPROC)
			wrong(nd, "crasher's DOWN: code %d", d->code);
		x->downs++;
	} else {
		wrong(nd, "unexpected %s", m->type == RA_MSG_DOWN ? "DOWN" :
		      "EXIT");
	}
}

static void on_signal(ra_ctx_t *self, struct node *nd, const ra_msg_t *m)
{
	size_t len = m->type == RA_MSG_DOWN ? sizeof(ra_down_info_t)
					    : sizeof(ra_exit_info_t);

	if (m->len != len || nd->sigs_left == 0) {
		wrong(nd, "%s of %zu bytes, %u expected", m->type ==
		      RA_MSG_DOWN ? "DOWN" : "EXIT", m->len, nd->sigs_left);
		return;
	}
	if (nd->role == R_SPAWNER)
		spawner_signal(nd, m);
	else if (nd->role == R_TRAPPER)
		trapper_signal(self, nd, m);
	else
		wrong(nd, "a signal for a %s", defs[nd->role].name);
	if (--nd->sigs_left == 0 && nd->role == R_TRAPPER)
		ra_stop(self, 0);
	else if (nd->role == R_SPAWNER)
		spawner_maybe_stop(self, nd);
}

/* ---- callbacks shared by every role ---- */

static int st_init(ra_ctx_t *self, void *state, void *arg)
{
	uint32_t idx = (uint32_t)(uintptr_t)arg;
	struct node *nd = N(idx);

	*(uint32_t *)state = idx;
	if (nd->role == R_TRAPPER || (nd->role == R_SPAWNER && nd->link))
		ra_trap_exit(self, true);
	if (nd->role == R_SINK && nd->left == 0)
		ra_stop(self, 0);	/* a stop storm with R = 0 */
	if (nd->role == R_CHILD && P.chan[nd->in].count == 0) {
		if (nd->init_fail)
			return nd->code;
		finish(self, nd);
	}
	return 0;
}

static int st_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	uint32_t idx = *(uint32_t *)state;
	struct node *nd = N(idx);
	struct chan *ch;

	nd->calls++;
	if (m->type == RA_MSG_EXIT || m->type == RA_MSG_DOWN) {
		nd->sig_calls++;
		on_signal(self, nd, m);
		return 0;
	}
	ch = take(nd, idx, m);
	if (!ch)
		return 0;
	/* Movable, pinned, movable...: moves and refusals between messages. */
	if (nd->toggle && ++nd->nmsgs % 8 == 0 &&
	    ra_set_stealable(self, (nd->nmsgs / 8) & 1) != 0)
		wrong(nd, "ra_set_stealable failed");
	on_msg[nd->role](self, nd, ch);
	return 0;
}

static void st_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct node *nd = N(*(uint32_t *)state);

	(void)self;
	nd->reason = reason;
	if (nd->role != R_HOG)
		atomic_fetch_sub(&P.others, 1);
	atomic_fetch_add(&nd->ended, 1);
}

#define DEF(r, n) [r] = { .name = n, .state_size = sizeof(uint32_t), \
			  .init = st_init, .behavior = st_behavior,  \
			  .terminate = st_terminate }
static const ra_actor_def_t defs[R_NROLES] = {
	DEF(R_PINGER, "pinger"), DEF(R_PONGER, "ponger"),
	DEF(R_FLOODER, "flooder"), DEF(R_SINK, "sink"),
	DEF(R_LOOPER, "looper"), DEF(R_SPAWNER, "spawner"),
	DEF(R_CHILD, "child"), DEF(R_CRASHER, "crasher"),
	DEF(R_TRAPPER, "trapper"), DEF(R_BYSTANDER, "bystander"),
	DEF(R_HOG, "hog"),
};

/* ---- building a program ---- */

/* A size in [lo, hi], shrunk for TSan (see build()). */
static uint32_t sz(uint32_t lo, uint32_t hi)
{
	uint32_t n = (lo + rn(hi - lo + 1)) / P.shrink;

	return n ? n : 1;
}

/* Mostly a random shard, so that much of the traffic crosses shards. */
static ra_spawn_opts_t pick_opts(void)
{
	static const enum ra_placement kinds[] = {
		RA_PLACE_SHARD, RA_PLACE_SHARD, RA_PLACE_LOCAL,
		RA_PLACE_ROUND_ROBIN, RA_PLACE_LEAST_LOADED,
	};
	ra_spawn_opts_t o = { .placement = kinds[rn(5)],
			      .shard = rn(P.shards) };

	if (rn(2))
		o.flags = RA_SPAWN_STEALABLE;
	return o;
}

static uint32_t node_new(enum role role)
{
	uint32_t i = P.nnodes++;

	N(i)->role = role;
	N(i)->opts = pick_opts();
	N(i)->kick = N(i)->self_ch = N(i)->out = N(i)->in = NONE;
	N(i)->toggle = P.steal && rn(4) == 0;
	return i;
}

static uint32_t chan_new(uint32_t from, uint32_t to, uint32_t count)
{
	uint32_t c = P.nchans++;

	P.chan[c] = (struct chan){ .from = from, .to = to, .count = count,
				   .expect = count, .next = 1 };
	return c;
}

/* A top actor that main starts with one message. */
static uint32_t kicked(enum role role)
{
	uint32_t i = node_new(role);

	N(i)->kick = chan_new(NONE, i, 1);
	return i;
}

static void add_pingpong(void)
{
	uint32_t a = kicked(R_PINGER), b = node_new(R_PONGER);
	uint32_t n = sz(20, 2000);

	N(a)->out = chan_new(a, b, n);
	N(b)->out = chan_new(b, a, n);
	N(a)->burst = 1 + rn(4);
}

/* One sink fed by 1 to 4 flooders: per-sender FIFO, interleaved. */
static void add_flood(void)
{
	uint32_t s = node_new(R_SINK);

	for (uint32_t k = 1 + rn(4); k; k--) {
		uint32_t f = kicked(R_FLOODER);

		N(f)->self_ch = chan_new(f, f, 0);
		N(f)->out = chan_new(f, s, sz(50, 20000));
		N(f)->burst = 1 + rn(64);
		N(s)->left += P.chan[N(f)->out].count;
	}
}

/* Receivers that stop after R of M messages while their senders go on. */
static void add_stops(void)
{
	for (uint32_t k = 1 + rn(8); k; k--) {
		uint32_t f = kicked(R_FLOODER), s = node_new(R_SINK);
		uint32_t c = chan_new(f, s, sz(50, 5000));

		N(f)->self_ch = chan_new(f, f, 0);
		N(f)->out = c;
		N(f)->burst = 1 + rn(64);
		P.chan[c].cut = true;
		P.chan[c].expect = rn(4) ? rn(P.chan[c].count + 1) : 0;
		N(s)->left = P.chan[c].expect;
	}
}

static void add_loop(void)
{
	uint32_t l = kicked(R_LOOPER);

	N(l)->self_ch = chan_new(l, l, sz(100, 20000));
	N(l)->burst = 1 + rn(16);
}

/* Stealable loopers crowded on one shard: a backlog for thieves. */
static void add_crowd(void)
{
	unsigned shard = rn(P.shards);

	for (uint32_t k = 4 + rn(28); k; k--) {
		uint32_t l = kicked(R_LOOPER);

		N(l)->opts = (ra_spawn_opts_t){ .placement = RA_PLACE_SHARD,
						.shard = shard,
						.flags = RA_SPAWN_STEALABLE };
		N(l)->self_ch = chan_new(l, l, sz(200, 5000));
		N(l)->burst = 1 + rn(16);
	}
}

static void add_spawns(void)
{
	uint32_t s = kicked(R_SPAWNER);
	struct node *sp = N(s);

	sp->self_ch = chan_new(s, s, 0);
	sp->rounds = 1 + rn(6);
	sp->per_round = 1 + rn(16);
	sp->child0 = P.nnodes;
	sp->link = rn(2);
	for (uint32_t i = 0; i < sp->rounds * sp->per_round; i++) {
		uint32_t c = node_new(R_CHILD);
		struct node *ch = N(c);

		ch->peer[0] = s;
		ch->in = chan_new(s, c, rn(5));
		ch->code = rn(3) ? 0 : -(int)(1000 + rn(1000));
		ch->init_fail = ch->code && !P.chan[ch->in].count && rn(2);
		ch->demon = rn(6) == 0;
		ch->want_downs = !ch->demon;
		ch->want_exits = sp->link;
		sp->sigs_left += ch->want_downs + ch->want_exits;
	}
}

/* Trapper Y watches bystander Z; crasher X links both and crashes. */
static void add_link(void)
{
	uint32_t y = kicked(R_TRAPPER), z = node_new(R_BYSTANDER);
	uint32_t x = node_new(R_CRASHER);

	N(y)->out = chan_new(y, z, 1);
	N(z)->out = chan_new(z, x, 1);
	N(x)->out = chan_new(x, y, rn(50));
	N(x)->peer[0] = y;
	N(x)->peer[1] = N(y)->peer[0] = z;
	N(y)->peer[1] = x;
	N(x)->code = N(z)->code = -(int)(1000 + rn(1000));
	N(x)->want_downs = N(x)->want_exits = N(z)->want_downs = 1;
	N(y)->sigs_left = 3;	/* EXIT of X, DOWN of Z, NOPROC DOWN of X */
}

static void add_hog(void)
{
	uint32_t h = kicked(R_HOG);

	N(h)->self_ch = chan_new(h, h, 0);
	N(h)->spin_ns = 2000 + rn(30000);
	P.nhogs++;
}

/*
 * Pin every actor that sends to another one (RA_STRESS_PIN_SENDERS=1,
 * see the top). Done after the build, so that a seed is the same program
 * either way.
 */
static void pin_senders(void)
{
	for (uint32_t i = 0; i < P.nnodes; i++) {
		enum role r = N(i)->role;

		if (r == R_SINK || r == R_LOOPER || r == R_CHILD || r == R_HOG)
			continue;
		N(i)->opts.flags &= ~RA_SPAWN_STEALABLE;
		N(i)->toggle = false;
	}
}

/* Scenario kinds; one listed twice comes twice as often. */
static const struct kind {
	void (*add)(void);
	char tag;		/* in the diag line's mix */
} kinds[] = {
	{ add_pingpong, 'p' }, { add_pingpong, 'p' }, { add_flood, 'f' },
	{ add_flood, 'f' }, { add_stops, 's' }, { add_stops, 's' },
	{ add_loop, 'l' }, { add_crowd, 'c' }, { add_spawns, 'S' },
	{ add_spawns, 'S' }, { add_link, 'x' },
};

static void build(unsigned shards, uint64_t seed, unsigned scale)
{
	unsigned n = 0, nscen;

	memset(&P, 0, sizeof(P));
	P.shards = shards;
	/*
	 * ASan (scale 4) keeps full sizes: it costs little here. TSan (10)
	 * halves them: at full size its default run took ~12 s, and there
	 * the interleavings matter more than the volume.
	 */
	P.shrink = scale / 4 > 1 ? scale / 4 : 1;
	rng_state = seed * 0x9e3779b97f4a7c15ULL + shards;
	P.steal = shards > 1 && rn(3) != 0;
	nscen = 4 + rn(16);
	/* Room for the largest scenario (a spawn storm: 97 actors). */
	while (n < nscen && P.nnodes + 100 <= MAX_NODES &&
	       P.nchans + 200 <= MAX_CHANS) {
		const struct kind *k = &kinds[rn(RA_ARRAY_LEN(kinds))];

		k->add();
		P.mix[n++] = k->tag;
	}
	if (rn(3) == 0) {
		add_hog();
		P.mix[n++] = 'h';
	}
	if (tap_env_ull("RA_STRESS_PIN_SENDERS", 0))
		pin_senders();
	atomic_store(&P.others, (int)(P.nnodes - P.nhogs));
}

/* Knobs, from the same seed: tiny budgets and passes, small rings. */
static void pick_config(ra_config_t *cfg)
{
	static const unsigned budgets[] = { 1, 3, 64 }, runs[] = { 1, 4, 64 };

	ra_config_init(cfg);
	cfg->shards = P.shards;
	cfg->actor_budget = budgets[rn(3)];
	cfg->pass_runs = runs[rn(3)];
	cfg->pass_ns = rn(2) ? 2000 : RA_DEFAULT_PASS_NS;
	if (rn(3) == 0)
		cfg->idle_poll_ns = 0;
	if (rn(4) == 0)
		cfg->ring_entries = 16;
	if (!P.steal) {
		cfg->flags |= RA_CFG_NO_STEAL;
	} else if (rn(2)) {
		cfg->steal_margin = 0;
		cfg->steal_batch = 16;
		cfg->steal_backoff_min_ns = 1000;
		cfg->steal_backoff_max_ns = 50000;
	}
}

/* ---- running and checking ---- */

static void start_all(void)
{
	for (uint32_t i = 0; i < P.nnodes; i++)
		if (N(i)->role != R_CHILD &&
		    ra_runtime_spawn(rt, &defs[N(i)->role],
				     (void *)(uintptr_t)i, &N(i)->opts,
				     &N(i)->ref))
			bail_out("ra_runtime_spawn failed");
	/* Every ref is written: now they may talk. */
	for (uint32_t i = 0; i < P.nnodes; i++)
		if (N(i)->kick != NONE)
			msend(N(i)->kick);
}

/* RA_STRESS_VERBOSE: the actors, to reduce a failing seed. */
static void dump_program(void)
{
	static const char *const place[] = { "local", "shard", "rr", "least" };

	for (uint32_t i = 0; i < P.nnodes; i++)
		diag("  actor %u %s: %s %u%s%s, in %d, out %d, burst %u, "
		     "code %d", i, defs[N(i)->role].name,
		     place[N(i)->opts.placement], N(i)->opts.shard,
		     N(i)->opts.flags & RA_SPAWN_STEALABLE ? " stealable" : "",
		     N(i)->toggle ? " toggles" : "",
		     N(i)->in == NONE ? -1 : (int)N(i)->in,
		     N(i)->out == NONE ? -1 : (int)N(i)->out, N(i)->burst,
		     N(i)->code);
}

/* A hang: name a few of the actors that never ended. */
static void report_stuck(void)
{
	unsigned shown = 0;

	for (uint32_t i = 0; i < P.nnodes && shown < 8; i++)
		if (atomic_load(&N(i)->ended) == 0 && ++shown)
			diag("  actor %u (%s) never ended", i,
			     defs[N(i)->role].name);
}

struct tally {
	uint64_t order, full_bad, cut_bad, failed, refused, lost;
	uint64_t sig_bad, reason_bad, bad, calls, sig_calls;
};

static void note_chan(const char *what, uint32_t c)
{
	const struct chan *ch = &P.chan[c];

	diag("  %s: channel %u (%s %d -> %s %u): sent %llu, refused %llu, "
	     "received %llu of %u, %llu order errors (first %llu for %llu)",
	     what, c, ch->from == NONE ? "main" : defs[N(ch->from)->role].name,
	     ch->from == NONE ? -1 : (int)ch->from,
	     defs[N(ch->to)->role].name, ch->to,
	     (unsigned long long)ch->sent, (unsigned long long)ch->refused,
	     (unsigned long long)ch->received, ch->expect,
	     (unsigned long long)ch->errors,
	     (unsigned long long)ch->bad_got,
	     (unsigned long long)ch->bad_want);
}

static void tally_chans(struct tally *t)
{
	for (uint32_t c = 0; c < P.nchans; c++) {
		const struct chan *ch = &P.chan[c];
		bool bad = ch->cut ? ch->received != ch->expect :
			   ch->received != ch->sent || ch->refused ||
			   (ch->count && ch->sent != ch->count);

		t->order += ch->errors;
		t->failed += ch->failed;
		t->refused += ch->refused;
		t->lost += ch->sent - ch->received;
		t->cut_bad += ch->cut && bad;
		t->full_bad += !ch->cut && bad;
		if (bad || ch->errors)
			note_chan(bad ? "count" : "order", c);
	}
}

static void tally_nodes(struct tally *t)
{
	for (uint32_t i = 0; i < P.nnodes; i++) {
		const struct node *nd = N(i);
		const char *name = defs[nd->role].name;
		int ended = atomic_load(&nd->ended);

		if (nd->downs != nd->want_downs ||
		    nd->exits != nd->want_exits) {
			t->sig_bad++;
			diag("  actor %u (%s): %u DOWN, %u EXIT; want %u, %u",
			     i, name, nd->downs, nd->exits, nd->want_downs,
			     nd->want_exits);
		}
		if (ended != 1 || nd->reason != nd->code) {
			t->reason_bad++;
			diag("  actor %u (%s): ended %d times, reason %d; "
			     "want once, %d", i, name, ended, nd->reason,
			     nd->code);
		}
		if (nd->bad)
			diag("  actor %u (%s): %u wrong, first: %s", i, name,
			     nd->bad, nd->first_bad);
		t->bad += nd->bad;
		t->calls += nd->calls;
		t->sig_calls += nd->sig_calls;
	}
}

static void check(const ra_stats_t *st, const char *name)
{
	struct tally t = { 0 };

	tally_chans(&t);
	tally_nodes(&t);
	ok(t.order + t.bad + t.failed == 0,
	   "%s: per-sender FIFO, nothing repeated, nothing unexpected (%llu "
	   "order errors, %llu wrong, %llu failed sends)", name,
	   (unsigned long long)t.order, (unsigned long long)t.bad,
	   (unsigned long long)t.failed);
	is_int(t.full_bad, 0, "%s: every message to a live actor arrived "
	       "exactly once", name);
	is_int(t.cut_bad, 0, "%s: every stopped receiver saw exactly its R",
	       name);
	is_int(t.sig_bad, 0, "%s: every EXIT and DOWN came exactly once",
	       name);
	is_int(t.reason_bad, 0, "%s: every actor ended once, with its reason",
	       name);
	/* The runtime counts every behavior call but I/O: EXIT, DOWN too. */
	is_int(st->msgs_delivered, t.calls, "%s: msgs_delivered = behavior "
	       "calls (%llu EXIT/DOWN)", name,
	       (unsigned long long)t.sig_calls);
	is_int(st->dead_letters, t.refused + t.lost,
	       "%s: dead_letters = refused (%llu) + never delivered (%llu)",
	       name, (unsigned long long)t.refused,
	       (unsigned long long)t.lost);
	ok(st->actors_live == 0 && st->actors_spawned == P.nnodes &&
	   st->actors_stopped == P.nnodes,
	   "%s: all %u actors spawned and stopped (%llu, %llu, %llu live)",
	   name, P.nnodes, (unsigned long long)st->actors_spawned,
	   (unsigned long long)st->actors_stopped,
	   (unsigned long long)st->actors_live);
}

static void describe(const char *name, const ra_config_t *cfg,
		     uint64_t seed)
{
	diag("%s: %u actors, %u channels, mix %s; steal %s, budget %u, "
	     "pass %u runs/%llu ns, idle poll %llu ns, ring %u (replay: "
	     "RA_SEED=%llu RA_STRESS_SEEDS=1 RA_SHARDS=%u)", name, P.nnodes,
	     P.nchans, P.mix, !P.steal ? "off" : cfg->steal_margin ? "on" :
	     "aggressive", cfg->actor_budget, cfg->pass_runs,
	     (unsigned long long)cfg->pass_ns,
	     (unsigned long long)cfg->idle_poll_ns, cfg->ring_entries,
	     (unsigned long long)seed, P.shards);
	if (tap_env_ull("RA_STRESS_VERBOSE", 0))
		dump_program();
}

static void run_program(unsigned shards, uint64_t seed, unsigned scale)
{
	uint64_t t0 = ra_now_ns();
	ra_config_t cfg;
	ra_stats_t st;
	char name[48];
	int ret;

	build(shards, seed, scale);
	pick_config(&cfg);
	snprintf(name, sizeof(name), "seed %llu, %u shards",
		 (unsigned long long)seed, shards);
	describe(name, &cfg, seed);
	if (ra_runtime_create(&cfg, &rt) < 0)
		bail_out(ra_last_error());
	start_all();
	ret = ra_runtime_wait_idle(rt, 30ull * 1000000000 * scale);
	is_int(ret, 0, "%s: the run ends", name);
	if (ret)
		report_stuck();
	/* Joins the shards: all in flight is delivered or a dead letter. */
	ra_runtime_stop(rt);
	if (ra_stats_snapshot(rt, &st))
		bail_out("ra_stats_snapshot failed");
	check(&st, name);
	diag("%s: %llu delivered, %llu remote, %llu dead letters, %llu "
	     "migrated, %llu msg_ring retries, %llu ms", name,
	     (unsigned long long)st.msgs_delivered,
	     (unsigned long long)st.msgs_remote,
	     (unsigned long long)st.dead_letters,
	     (unsigned long long)st.actors_migrated,
	     (unsigned long long)st.msgring_retries,
	     (unsigned long long)((ra_now_ns() - t0) / 1000000));
	ra_stats_fini(&st);
	ra_runtime_destroy(rt);
}

int main(void)
{
	unsigned only = (unsigned)tap_env_ull("RA_SHARDS", 0);
	uint64_t base = tap_env_ull("RA_SEED", 1);
	unsigned nseeds = (unsigned)tap_env_ull("RA_STRESS_SEEDS", 4);
	unsigned scale = (unsigned)tap_env_ull("RA_TEST_TIME_SCALE", 1);
	unsigned ncounts = only ? 1 : RA_ARRAY_LEN(tu_shard_counts);

	ra_runtime_destroy(tu_runtime(1));	/* skip without io_uring */
	scale = scale ? scale : 1;
	plan((int)(ncounts * nseeds * CHECKS));
	tap_timeout(60 + 60 * ncounts * nseeds);
	diag("seeds %llu..%llu, moving senders %s; one program: RA_SEED=N "
	     "RA_STRESS_SEEDS=1 RA_SHARDS=S", (unsigned long long)base,
	     (unsigned long long)(base + nseeds - 1),
	     tap_env_ull("RA_STRESS_PIN_SENDERS", 0) ? "off" : "on");
	for (unsigned k = 0; k < ncounts; k++)
		for (unsigned i = 0; i < nseeds; i++)
			run_program(only ? only : tu_shard_counts[k],
				    base + i, scale);
	return exit_status();
}
