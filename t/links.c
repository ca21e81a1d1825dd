/*
 * t/links.c: links and exit signals against OTP's documented behavior
 * (erlang:link/1, unlink/1, process_flag(trap_exit)): an abnormal exit
 * kills non-trapping linked actors with the same reason, along a chain;
 * a normal exit kills nobody; a trapping actor gets RA_MSG_EXIT and lives;
 * a link to a dead actor gives noproc; unlink stops propagation; exit/2
 * (ra_exit_other) with kill is untrappable, normal is ignored, others
 * kill or reach a trapping actor as a message; spawn_link links before
 * the child runs. Each case
 * runs with 1, 2 and 4 shards, the actors spread over them.
 *
 * "Nothing reached A" is shown by a marker, not a pause: a PING that
 * leaves the exiting actor's shard after its exit sent its signals
 * (relayed by an actor there), or that the sender of exit/2 sends right
 * behind it, reaches A after any of them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define N 8
#define SEC scaled_ns(5000000000ull)	/* 5 s, longer under sanitizers */

enum {
	CMD_LINK = 1, CMD_UNLINK, CMD_TRAP, CMD_EXIT, CMD_SYNC, CMD_PING,
	CMD_EXIT_OTHER, CMD_SPAWN_LINK, CMD_RELAY,
};

/* A relay on the same shard as actor 1 with 1, 2 and 4 shards. */
#define RELAY 5

struct exit_cmd {
	int code;
	char why[16];
	ra_ref_t target;	/* CMD_EXIT_OTHER */
	int child;		/* CMD_SPAWN_LINK: the child's id */
};

static const ra_actor_def_t member;
static ra_ref_t act[N];

static atomic_int term_n[N], term_code[N], exit_n[N], exit_code[N];
static atomic_int synced, pongs, exit_ret;
static ra_ref_t exit_who[N];
static char exit_why[N][RA_EXIT_WHY_MAX];

struct st {
	int id;
};

static int m_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)self;
	((struct st *)state)->id = (int)(intptr_t)arg;
	return 0;
}

static int m_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	int id = ((struct st *)state)->id;
	ra_ref_t r;

	switch (m->type) {
	case CMD_LINK:
	case CMD_UNLINK:
		memcpy(&r, m->data, sizeof(r));
		if (m->type == CMD_LINK)
			ra_link(self, r);
		else
			ra_unlink(self, r);
		/* Behind the LINK/UNLINK at r: when it counts, r has it. */
		if (ra_send(self, r, CMD_SYNC, NULL, 0) == -ESRCH)
			atomic_fetch_add(&synced, 1);
		break;
	case CMD_TRAP:
		ra_trap_exit(self, true);
		atomic_fetch_add(&synced, 1);
		break;
	case CMD_EXIT: {
		struct exit_cmd c;

		memcpy(&c, m->data, sizeof(c));
		ra_exit(self, c.code, c.why[0] ? c.why : NULL);
		break;
	}
	case CMD_EXIT_OTHER: {
		struct exit_cmd c;

		memcpy(&c, m->data, sizeof(c));
		atomic_store(&exit_ret, ra_exit_other(self, c.target, c.code,
						      c.why));
		atomic_fetch_add(&synced, 1);
		break;
	}
	case CMD_SPAWN_LINK: {
		struct exit_cmd c;
		ra_spawn_opts_t o = { .placement = RA_PLACE_ROUND_ROBIN,
				      .flags = RA_SPAWN_LINK };

		memcpy(&c, m->data, sizeof(c));
		/* The child may exit at once: publish its ref first. */
		atomic_store(&exit_ret, ra_spawn(self, &member,
						 (void *)(intptr_t)c.child,
						 &o, &act[c.child]));
		atomic_fetch_add(&synced, 1);
		break;
	}
	case CMD_SYNC:
		atomic_fetch_add(&synced, 1);
		break;
	case CMD_PING:
		atomic_fetch_add(&pongs, 1);
		break;
	case CMD_RELAY:
		memcpy(&r, m->data, sizeof(r));
		ra_send(self, r, CMD_PING, NULL, 0);
		break;
	case RA_MSG_EXIT: {
		const ra_exit_info_t *x = m->data;

		if (m->len != sizeof(*x))
			break;
		exit_who[id] = x->who;
		memcpy(exit_why[id], x->why, sizeof(x->why));
		atomic_store(&exit_code[id], x->code);
		atomic_fetch_add(&exit_n[id], 1);
		break;
	}
	}
	return 0;
}

static void m_terminate(ra_ctx_t *self, void *state, int reason)
{
	int id = ((struct st *)state)->id;

	(void)self;
	atomic_store(&term_code[id], reason);
	atomic_fetch_add(&term_n[id], 1);
}

static const ra_actor_def_t member = {
	.name = "member",
	.state_size = sizeof(struct st),
	.init = m_init,
	.behavior = m_behavior,
	.terminate = m_terminate,
};

static ra_runtime_t *rt;
static unsigned nsh;

static void reset(void)
{
	for (int i = 0; i < N; i++) {
		atomic_store(&term_n[i], 0);
		atomic_store(&term_code[i], 12345);
		atomic_store(&exit_n[i], 0);
		atomic_store(&exit_code[i], 12345);
		exit_who[i] = RA_REF_NULL;
		exit_why[i][0] = '\0';
	}
	atomic_store(&synced, 0);
	atomic_store(&pongs, 0);
}

static void spawn(int id)
{
	ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD,
			      .shard = (unsigned)id % nsh };

	ra_runtime_spawn(rt, &member, (void *)(intptr_t)id, &o, &act[id]);
}

static void cmd_ref(int id, int cmd, int other)
{
	int want = atomic_load(&synced) + 1;

	ra_runtime_send(rt, act[id], (uint32_t)cmd, &act[other],
			sizeof(ra_ref_t));
	wait_for(&synced, want, SEC);
}

static void mklink(int a, int b)
{
	cmd_ref(a, CMD_LINK, b);
}

static void trap(int id)
{
	int want = atomic_load(&synced) + 1;

	ra_runtime_send(rt, act[id], CMD_TRAP, NULL, 0);
	wait_for(&synced, want, SEC);
}

static void do_exit(int id, int code, const char *why)
{
	struct exit_cmd c = { .code = code };

	if (why)
		strncpy(c.why, why, sizeof(c.why) - 1);
	ra_runtime_send(rt, act[id], CMD_EXIT, &c, sizeof(c));
}

/* Alive and answering: a ping round trip, then no terminate seen. */
static int alive(int id)
{
	int want = atomic_load(&pongs) + 1;

	if (ra_runtime_send(rt, act[id], CMD_PING, NULL, 0) < 0)
		return 0;
	return wait_for(&pongs, want, SEC) == 0 &&
	       atomic_load(&term_n[id]) == 0;
}

/*
 * As alive(), with the PING sent by actor `via`: it reaches `id` after
 * anything sent to `id` from via's shard before (and from via itself),
 * such as the signals of an exit there that `id` must not act on.
 */
static int alive_after(int id, int via)
{
	int want = atomic_load(&pongs) + 1;

	if (ra_runtime_send(rt, act[via], CMD_RELAY, &act[id],
			    sizeof(act[id])) < 0)
		return 0;
	return wait_for(&pongs, want, SEC) == 0 &&
	       atomic_load(&term_n[id]) == 0;
}

static void test_abnormal(void)
{
	reset();
	spawn(0);
	spawn(1);
	mklink(0, 1);
	do_exit(1, -42, "boom");
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] abnormal exit: both gone", nsh);
	is_int(atomic_load(&term_code[1]), -42, "[%u] B exits -42", nsh);
	is_int(atomic_load(&term_code[0]), -42,
	       "[%u] linked A exits with the same reason", nsh);
}

static void test_chain(void)
{
	reset();
	for (int i = 0; i < 3; i++)
		spawn(i);
	mklink(0, 1);
	mklink(1, 2);
	do_exit(2, -7, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] chain: all gone", nsh);
	ok(atomic_load(&term_code[0]) == -7 &&
	   atomic_load(&term_code[1]) == -7 &&
	   atomic_load(&term_code[2]) == -7,
	   "[%u] chain A-B-C: C's reason reaches A", nsh);
}

static void test_normal(void)
{
	reset();
	spawn(0);
	spawn(1);
	spawn(RELAY);
	mklink(0, 1);
	do_exit(1, RA_EXIT_NORMAL, NULL);
	wait_for(&term_n[1], 1, SEC);
	ok(alive_after(0, RELAY),
	   "[%u] normal exit does not kill the linked actor", nsh);
	is_int(atomic_load(&exit_n[0]), 0, "[%u] ... nor send it anything",
	       nsh);
	ra_runtime_stop_actor(rt, act[0]);
	ra_runtime_stop_actor(rt, act[RELAY]);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] normal: idle", nsh);
	is_int(atomic_load(&term_code[0]), 0, "[%u] A stopped normally", nsh);
}

static void test_trap(void)
{
	reset();
	spawn(0);
	spawn(1);
	spawn(2);
	trap(0);
	mklink(0, 1);
	mklink(0, 2);
	do_exit(1, -5, "bad");
	wait_for(&exit_n[0], 1, SEC);
	is_int(atomic_load(&exit_code[0]), -5,
	       "[%u] trapping A gets RA_MSG_EXIT with the code", nsh);
	ok(ra_ref_eq(exit_who[0], act[1]) && !strcmp(exit_why[0], "bad"),
	   "[%u] ... from B, with its text", nsh);
	ok(alive(0), "[%u] ... and survives", nsh);
	do_exit(2, RA_EXIT_NORMAL, NULL);
	wait_for(&exit_n[0], 2, SEC);
	ok(atomic_load(&exit_n[0]) == 2 &&
	   atomic_load(&exit_code[0]) == RA_EXIT_NORMAL &&
	   ra_ref_eq(exit_who[0], act[2]),
	   "[%u] trapping A gets RA_MSG_EXIT normal too", nsh);
	ra_runtime_stop_actor(rt, act[0]);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] trap: idle", nsh);
	is_int(atomic_load(&exit_n[0]), 2, "[%u] exactly two EXITs", nsh);
}

static void test_noproc(void)
{
	reset();
	spawn(1);
	ra_runtime_stop_actor(rt, act[1]);
	ra_runtime_wait_idle(rt, SEC);
	spawn(0);
	spawn(2);
	trap(2);
	mklink(2, 1);
	wait_for(&exit_n[2], 1, SEC);
	ok(atomic_load(&exit_code[2]) == RA_EXIT_NOPROC &&
	   ra_ref_eq(exit_who[2], act[1]),
	   "[%u] trapping link to a dead actor: RA_MSG_EXIT noproc", nsh);
	mklink(0, 1);
	wait_for(&term_n[0], 1, SEC);
	is_int(atomic_load(&term_code[0]), RA_EXIT_NOPROC,
	       "[%u] non-trapping link to a dead actor: exits noproc", nsh);
	ra_runtime_stop_actor(rt, act[2]);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] noproc: idle", nsh);
}

static void test_unlink(void)
{
	reset();
	spawn(0);
	spawn(1);
	spawn(2);
	spawn(RELAY);
	trap(2);
	mklink(0, 1);
	mklink(2, 1);
	cmd_ref(0, CMD_UNLINK, 1);
	cmd_ref(2, CMD_UNLINK, 1);
	do_exit(1, -9, NULL);
	wait_for(&term_n[1], 1, SEC);
	ok(alive_after(0, RELAY), "[%u] unlinked A survives B's abnormal exit",
	   nsh);
	ok(alive_after(2, RELAY) && atomic_load(&exit_n[2]) == 0,
	   "[%u] unlinked trapping C gets no EXIT (%d)", nsh,
	   atomic_load(&exit_n[2]));
	ra_runtime_stop_actor(rt, act[0]);
	ra_runtime_stop_actor(rt, act[2]);
	ra_runtime_stop_actor(rt, act[RELAY]);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] unlink: idle", nsh);
}

/* Actor `id` calls ra_exit_other(act[target], code, why); its result. */
static int exit_other(int id, int target, int code, const char *why)
{
	struct exit_cmd c = { .code = code, .target = act[target] };
	int want = atomic_load(&synced) + 1;

	if (why)
		strncpy(c.why, why, sizeof(c.why) - 1);
	ra_runtime_send(rt, act[id], CMD_EXIT_OTHER, &c, sizeof(c));
	wait_for(&synced, want, SEC);
	return atomic_load(&exit_ret);
}

static void test_exit_other(void)
{
	reset();
	for (int i = 0; i < 4; i++)
		spawn(i);
	trap(1);
	is_int(exit_other(0, 2, RA_EXIT_NORMAL, NULL), 0,
	       "[%u] exit/2 normal: sent", nsh);
	ok(alive_after(2, 0),
	   "[%u] exit/2 normal to a non-trapping actor: ignored", nsh);
	exit_other(0, 1, -77, "go");
	wait_for(&exit_n[1], 1, SEC);
	ok(atomic_load(&exit_code[1]) == -77 && ra_ref_eq(exit_who[1], act[0])
	   && !strcmp(exit_why[1], "go"),
	   "[%u] exit/2 to a trapping actor: RA_MSG_EXIT with code, text, "
	   "sender", nsh);
	ok(alive(1), "[%u] ... and it lives", nsh);
	exit_other(0, 2, -78, NULL);
	wait_for(&term_n[2], 1, SEC);
	is_int(atomic_load(&term_code[2]), -78,
	       "[%u] exit/2 abnormal to a non-trapping actor: it exits with "
	       "the code", nsh);
	mklink(3, 1);
	exit_other(0, 1, RA_EXIT_KILL, NULL);
	wait_for(&term_n[1], 1, SEC);
	is_int(atomic_load(&term_code[1]), RA_EXIT_KILLED,
	       "[%u] exit/2 kill to a trapping actor: exits killed", nsh);
	wait_for(&term_n[3], 1, SEC);
	is_int(atomic_load(&term_code[3]), RA_EXIT_KILLED,
	       "[%u] ... and its link partner sees killed, not kill", nsh);
	is_int(exit_other(0, 2, -1, NULL), -ESRCH,
	       "[%u] exit/2 to a dead actor: -ESRCH", nsh);
	is_int(exit_other(0, 0, RA_EXIT_KILLED, NULL), -EINVAL,
	       "[%u] exit/2 with `killed` as the code: -EINVAL", nsh);
	ok(alive(0), "[%u] ... which left the caller alone", nsh);
	is_int(exit_other(0, 0, RA_EXIT_NORMAL, NULL), 0,
	       "[%u] exit/2 normal to self: sent", nsh);
	wait_for(&term_n[0], 1, SEC);
	is_int(atomic_load(&term_code[0]), RA_EXIT_NORMAL,
	       "[%u] ... and self exits normal (OTP's exception)", nsh);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] exit/2: idle", nsh);
}

static void test_runtime_exit_actor(void)
{
	reset();
	spawn(0);
	spawn(1);
	trap(0);
	is_int(ra_runtime_exit_actor(rt, act[0], RA_EXIT_SHUTDOWN, "stop"), 0,
	       "[%u] ra_runtime_exit_actor: sent", nsh);
	wait_for(&exit_n[0], 1, SEC);
	ok(atomic_load(&exit_code[0]) == RA_EXIT_SHUTDOWN &&
	   ra_ref_is_null(exit_who[0]),
	   "[%u] ... a trapping actor gets RA_MSG_EXIT from the null ref", nsh);
	ra_runtime_exit_actor(rt, act[0], RA_EXIT_KILL, NULL);
	ra_runtime_exit_actor(rt, act[1], RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] both gone", nsh);
	ok(atomic_load(&term_code[0]) == RA_EXIT_KILLED &&
	   atomic_load(&term_code[1]) == RA_EXIT_SHUTDOWN,
	   "[%u] kill -> killed, shutdown -> shutdown", nsh);
	is_int(ra_runtime_exit_actor(rt, act[1], -1, NULL), -ESRCH,
	       "[%u] to a dead actor: -ESRCH", nsh);
	is_int(ra_runtime_exit_actor(NULL, act[1], -1, NULL), -EINVAL,
	       "[%u] rt NULL: -EINVAL", nsh);
}

/* Actor `id` spawns actor `child` with RA_SPAWN_LINK. */
static int spawn_link(int id, int child)
{
	struct exit_cmd c = { .child = child };
	int want = atomic_load(&synced) + 1;

	ra_runtime_send(rt, act[id], CMD_SPAWN_LINK, &c, sizeof(c));
	wait_for(&synced, want, SEC);
	return atomic_load(&exit_ret);
}

static void test_spawn_link(void)
{
	ra_spawn_opts_t o = { .flags = RA_SPAWN_LINK };
	ra_ref_t r;

	reset();
	spawn(0);
	spawn(2);
	trap(0);
	is_int(spawn_link(0, 1), 0, "[%u] spawn_link: 0", nsh);
	do_exit(1, -13, NULL);
	wait_for(&exit_n[0], 1, SEC);
	ok(atomic_load(&exit_code[0]) == -13 && ra_ref_eq(exit_who[0], act[1]),
	   "[%u] the trapping parent gets the child's EXIT", nsh);
	is_int(spawn_link(2, 3), 0, "[%u] spawn_link from a non-trapper", nsh);
	do_exit(3, -14, NULL);
	wait_for(&term_n[2], 1, SEC);
	is_int(atomic_load(&term_code[2]), -14,
	       "[%u] ... its child's crash takes it down", nsh);
	is_int(spawn_link(0, 4), 0, "[%u] spawn_link again", nsh);
	do_exit(0, -15, NULL);
	wait_for(&term_n[4], 1, SEC);
	is_int(atomic_load(&term_code[4]), -15,
	       "[%u] the parent's crash takes the child down", nsh);
	is_int(ra_runtime_spawn(rt, &member, NULL, &o, &r), -EINVAL,
	       "[%u] RA_SPAWN_LINK from outside a shard: -EINVAL", nsh);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] spawn_link: idle",
	       nsh);
}

int main(void)
{
	tap_timeout(120);
	plan(3 * (21 + 13 + 6 + 8));
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		test_abnormal();
		test_chain();
		test_normal();
		test_trap();
		test_noproc();
		test_unlink();
		test_exit_other();
		test_runtime_exit_actor();
		test_spawn_link();
		ra_runtime_destroy(rt);
	}
	return exit_status();
}
