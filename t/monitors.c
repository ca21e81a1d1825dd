/*
 * t/monitors.c: monitors against OTP's erlang:monitor/2 and demonitor/2
 * [flush]: one DOWN per monitor with the target's reason and the mref;
 * noproc for a dead target, still as a message; no DOWN after demonitor,
 * even one already queued; two monitors, two DOWNs with distinct mrefs;
 * a message the target sent before exiting arrives before its DOWN.
 * With 1, 2 and 4 shards, watcher and target on different ones.
 *
 * "Nothing more arrives" is shown by a marker, not by waiting: a relay
 * on the target's shard sends the watcher a MARK once the target's exit
 * was seen, so the MARK leaves that shard after anything the exit sent
 * and reaches the watcher behind it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define SEC 5000000000ull

enum { CMD_MON = 1, CMD_DEMON, CMD_EXIT, CMD_SYNC, CMD_HELLO,
       CMD_SEND_EXIT, CMD_DEMON_NOW, CMD_MARK, CMD_RELAY, CMD_BLOCK };

static atomic_int downs, down_code, synced, hellos, hello_first, term_t;
static atomic_int demon_ret, marks, relayed, blocking, unblock;
static uint64_t mrefs[4], down_mref[4];
static int nmrefs;
static ra_ref_t down_who;
static char down_why[RA_EXIT_WHY_MAX];

static int w_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_ref_t r;

	(void)state;
	switch (m->type) {
	case CMD_MON:
		memcpy(&r, m->data, sizeof(r));
		ra_monitor(self, r, &mrefs[nmrefs++]);
		if (ra_send(self, r, CMD_SYNC, NULL, 0) == -ESRCH)
			atomic_fetch_add(&synced, 1);
		break;
	case CMD_DEMON:
		memcpy(&r, m->data, sizeof(r));
		atomic_store(&demon_ret, ra_demonitor(self, mrefs[0]));
		if (ra_send(self, r, CMD_SYNC, NULL, 0) == -ESRCH)
			atomic_fetch_add(&synced, 1);
		break;
	case CMD_DEMON_NOW:
		/* From the target, just before its exit: the DOWN is next. */
		atomic_store(&demon_ret, ra_demonitor(self, mrefs[0]));
		break;
	case CMD_MARK:
		atomic_fetch_add(&marks, 1);
		break;
	case CMD_HELLO:
		if (atomic_load(&downs) == 0)
			atomic_store(&hello_first, 1);
		atomic_fetch_add(&hellos, 1);
		break;
	case RA_MSG_DOWN: {
		const ra_down_info_t *d = m->data;
		int n = atomic_load(&downs);

		if (m->len != sizeof(*d))
			break;
		if (n < 4)
			down_mref[n] = d->mref;
		down_who = d->who;
		memcpy(down_why, d->why, sizeof(down_why));
		atomic_store(&down_code, d->code);
		atomic_fetch_add(&downs, 1);
		break;
	}
	}
	return 0;
}

static int t_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_ref_t r;

	(void)state;
	switch (m->type) {
	case CMD_SYNC:
		atomic_fetch_add(&synced, 1);
		break;
	case CMD_EXIT:
		ra_exit(self, -11, "crashed");
		break;
	case CMD_SEND_EXIT:
	case CMD_DEMON_NOW:
		/* Tell the watcher (CMD_HELLO or CMD_DEMON_NOW), then exit. */
		memcpy(&r, m->data, sizeof(r));
		ra_send(self, r, m->type == CMD_SEND_EXIT ? CMD_HELLO :
			CMD_DEMON_NOW, NULL, 0);
		return -12;
	}
	return 0;
}

/* On the target's shard: forward a MARK to the watcher. */
static int relay_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_ref_t r;

	(void)state;
	if (m->type != CMD_RELAY || m->len != sizeof(r))
		return 0;
	memcpy(&r, m->data, sizeof(r));
	ra_send(self, r, CMD_MARK, NULL, 0);
	atomic_fetch_add(&relayed, 1);
	return 0;
}

/* On the watcher's shard: hold it, so that nothing is reaped there. */
static int blocker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	if (m->type != CMD_BLOCK)
		return 0;
	atomic_store(&blocking, 1);
	while (!atomic_load(&unblock))
		;
	return 0;
}

static void t_terminate(ra_ctx_t *self, void *state, int reason)
{
	(void)self;
	(void)state;
	(void)reason;
	atomic_store(&term_t, 1);
}

static const ra_actor_def_t watcher = { .name = "w", .behavior = w_behavior };
static const ra_actor_def_t target = { .name = "t", .behavior = t_behavior,
				       .terminate = t_terminate };
static const ra_actor_def_t relay = { .name = "relay",
				      .behavior = relay_behavior };
static const ra_actor_def_t blocker = { .name = "blocker",
					.behavior = blocker_behavior };

static ra_runtime_t *rt;
static unsigned nsh;
static ra_ref_t w, t, rl, bl;

static void setup(void)
{
	ra_spawn_opts_t ow = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t ot = { .placement = RA_PLACE_SHARD,
			       .shard = nsh - 1 };

	atomic_store(&downs, 0);
	atomic_store(&synced, 0);
	atomic_store(&hellos, 0);
	atomic_store(&hello_first, 0);
	atomic_store(&term_t, 0);
	atomic_store(&down_code, 12345);
	atomic_store(&demon_ret, 12345);
	atomic_store(&marks, 0);
	atomic_store(&relayed, 0);
	atomic_store(&blocking, 0);
	atomic_store(&unblock, 0);
	memset(down_mref, 0, sizeof(down_mref));
	nmrefs = 0;
	ra_runtime_spawn(rt, &watcher, NULL, &ow, &w);
	ra_runtime_spawn(rt, &target, NULL, &ot, &t);
	ra_runtime_spawn(rt, &relay, NULL, &ot, &rl);
	ra_runtime_spawn(rt, &blocker, NULL, &ow, &bl);
}

static void cmd(ra_ref_t to, int c, ra_ref_t arg)
{
	int want = atomic_load(&synced) + 1;

	ra_runtime_send(rt, to, (uint32_t)c, &arg, sizeof(arg));
	wait_for(&synced, want, scaled_ns(SEC));
}

/*
 * Once the target's terminate has run, everything its exit sent the
 * watcher has left the target's shard: the relay there sends a MARK now,
 * which reaches the watcher behind all of it. True when it arrived.
 */
static bool mark_arrived(void)
{
	int want = atomic_load(&marks) + 1;

	if (wait_for(&term_t, 1, scaled_ns(SEC)) < 0)
		return false;
	ra_runtime_send(rt, rl, CMD_RELAY, &w, sizeof(w));
	return wait_for(&marks, want, scaled_ns(SEC)) == 0;
}

static void finish(const char *what)
{
	ra_runtime_stop_actor(rt, w);
	ra_runtime_stop_actor(rt, t);
	ra_runtime_stop_actor(rt, rl);
	ra_runtime_stop_actor(rt, bl);
	is_int(ra_runtime_wait_idle(rt, scaled_ns(SEC)), 0, "[%u] %s: idle",
	       nsh, what);
}

static void test_down_once(void)
{
	bool marked;

	setup();
	cmd(w, CMD_MON, t);
	ra_runtime_send(rt, t, CMD_EXIT, NULL, 0);
	wait_for(&downs, 1, scaled_ns(SEC));
	marked = mark_arrived();
	ok(marked && atomic_load(&downs) == 1,
	   "[%u] exactly one DOWN (%d by the marker)", nsh,
	   atomic_load(&downs));
	ok(down_mref[0] == mrefs[0] && mrefs[0] != 0,
	   "[%u] DOWN carries the mref", nsh);
	ok(atomic_load(&down_code) == -11 && ra_ref_eq(down_who, t) &&
	   !strcmp(down_why, "crashed"),
	   "[%u] ... and the target's reason and text", nsh);
	finish("down");
}

static void test_noproc(void)
{
	setup();
	ra_runtime_stop_actor(rt, t);
	/* terminate runs after t's slot died (ra_exit): t is dead now. */
	wait_for(&term_t, 1, scaled_ns(SEC));
	cmd(w, CMD_MON, t);
	wait_for(&downs, 1, scaled_ns(SEC));
	ok(atomic_load(&down_code) == RA_EXIT_NOPROC &&
	   down_mref[0] == mrefs[0] && ra_ref_eq(down_who, t),
	   "[%u] monitor of a dead actor: DOWN noproc", nsh);
	finish("noproc");
}

static void test_demonitor(void)
{
	bool marked;

	setup();
	cmd(w, CMD_MON, t);
	cmd(w, CMD_DEMON, t);
	is_int(atomic_load(&demon_ret), 0, "[%u] demonitor: 0", nsh);
	ra_runtime_send(rt, t, CMD_EXIT, NULL, 0);
	marked = mark_arrived();
	ok(marked && atomic_load(&downs) == 0,
	   "[%u] no DOWN after demonitor (%d by the marker)", nsh,
	   atomic_load(&downs));
	finish("demonitor");
}

/*
 * The DOWN is in the watcher's mailbox when it demonitors: the blocker
 * holds the watcher's shard while the target sends the watcher
 * CMD_DEMON_NOW and exits, and the relay's turn on the target's shard
 * shows that the batch holding both was sent. Released, the watcher's
 * shard reaps both at once: CMD_DEMON_NOW first, the DOWN queued behind.
 */
static void test_flush(void)
{
	bool sent;

	if (nsh < 2) {
		skip("[%u] demonitor with DOWN queued: needs two shards", nsh);
		skip("[%u] queued DOWN dropped: needs two shards", nsh);
		skip("[%u] flush: idle: needs two shards", nsh);
		return;
	}
	setup();
	cmd(w, CMD_MON, t);
	ra_runtime_send(rt, bl, CMD_BLOCK, NULL, 0);
	wait_for(&blocking, 1, scaled_ns(SEC));
	ra_runtime_send(rt, t, CMD_DEMON_NOW, &w, sizeof(w));
	wait_for(&term_t, 1, scaled_ns(SEC));
	/* The relay runs in a later pass: the exit's batch is out. */
	ra_runtime_send(rt, rl, CMD_RELAY, &w, sizeof(w));
	sent = wait_for(&relayed, 1, scaled_ns(SEC)) == 0;
	atomic_store(&unblock, 1);
	wait_for(&marks, 1, scaled_ns(SEC));
	is_int(sent ? atomic_load(&demon_ret) : -1, 0,
	       "[%u] demonitor with DOWN queued", nsh);
	ok(atomic_load(&marks) == 1 && atomic_load(&downs) == 0,
	   "[%u] queued DOWN dropped (flush; %d by the marker)", nsh,
	   atomic_load(&downs));
	finish("flush");
}

static void test_two(void)
{
	bool marked;

	setup();
	cmd(w, CMD_MON, t);
	cmd(w, CMD_MON, t);
	ra_runtime_send(rt, t, CMD_EXIT, NULL, 0);
	wait_for(&downs, 2, scaled_ns(SEC));
	marked = mark_arrived();
	ok(marked && atomic_load(&downs) == 2,
	   "[%u] two monitors, two DOWNs (%d by the marker)", nsh,
	   atomic_load(&downs));
	ok(mrefs[0] != mrefs[1] &&
	   ((down_mref[0] == mrefs[0] && down_mref[1] == mrefs[1]) ||
	    (down_mref[0] == mrefs[1] && down_mref[1] == mrefs[0])),
	   "[%u] ... with distinct mrefs", nsh);
	finish("two");
}

static void test_order(void)
{
	setup();
	cmd(w, CMD_MON, t);
	ra_runtime_send(rt, t, CMD_SEND_EXIT, &w, sizeof(w));
	wait_for(&downs, 1, scaled_ns(SEC));
	ok(atomic_load(&hellos) == 1 && atomic_load(&hello_first) == 1,
	   "[%u] message sent before exit arrives before DOWN", nsh);
	is_int(atomic_load(&down_code), -12,
	       "[%u] behavior's negative return is the reason", nsh);
	finish("order");
}

int main(void)
{
	tap_timeout(120);
	plan(3 * 18);
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		for (int rep = 0; rep < 1; rep++) {
			test_down_once();
			test_noproc();
			test_demonitor();
			test_flush();
			test_two();
			test_order();
		}
		ra_runtime_destroy(rt);
	}
	return exit_status();
}
