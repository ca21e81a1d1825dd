/*
 * t/sup_dynamic.c: a supervisor's ordered shutdown (reverse start order;
 * shutdown timeout, infinity, brutal_kill), its dynamic API
 * (start_child, terminate_child, restart_child, delete_child,
 * which_children, count_children, from a thread and from an actor),
 * simple_one_for_one, and requests that arrive during a restart. OTP's
 * documented results are the expectations. Runs with 1, 2 and 4 shards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"
#include "sup_worker.h"
#include "sup_events.h"

static ra_runtime_t *rt;
static unsigned nsh;
static char names[WK_MAX][16];

static ra_ref_t start_sup(enum ra_sup_strategy strategy,
			  const ra_child_spec_t *kids, unsigned n)
{
	ra_sup_spec_t spec = { .strategy = strategy, .intensity = 10,
			       .period_ms = 5000, .children = kids,
			       .nchildren = n, .on_event = ev_record };
	ra_ref_t sup = RA_REF_NULL;

	if (ra_runtime_sup_start(rt, &spec, NULL, &sup) < 0)
		diag("ra_runtime_sup_start failed");
	return sup;
}

static bool log_is(int n0, const int *want, int n)
{
	bool same = atomic_load(&wk_nlog) - n0 == n;

	for (int i = 0; same && i < n; i++)
		same = atomic_load(&wk_log[n0 + i]) == want[i];
	for (int i = n0; !same && i < atomic_load(&wk_nlog); i++)
		diag("  log %d", atomic_load(&wk_log[i]));
	return same;
}

static void test_shutdown_order(void)
{
	ra_child_spec_t kids[5];
	int want[5] = { -5, -4, -3, -2, -1 };
	bool codes = true;
	ra_ref_t sup;
	int n0;

	wk_reset();
	for (int i = 0; i < 5; i++)
		kids[i] = wk_spec(i, RA_PERMANENT, names);
	sup = start_sup(RA_ONE_FOR_ONE, kids, 5);
	wait_for(&wk_nlog, 5, SEC);
	ok(log_is(0, (int[]){ 1, 2, 3, 4, 5 }, 5),
	   "[%u] children start in spec order", nsh);
	n0 = atomic_load(&wk_nlog);
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] shutdown: all gone",
	       nsh);
	ok(log_is(n0, want, 5), "[%u] ... stopped in reverse order", nsh);
	for (int i = 0; i < 5; i++)
		codes &= atomic_load(&wk_code[i]) == RA_EXIT_SHUTDOWN;
	ok(codes, "[%u] ... each with `shutdown`", nsh);
}

static void test_shutdown_timeouts(void)
{
	ra_child_spec_t kids[4];
	int want[4] = { -4, -3, -2, -1 };
	uint64_t t0, took;
	ra_ref_t sup;

	wk_reset();
	ev_reset();
	for (int i = 0; i < 4; i++)
		kids[i] = wk_spec(i, RA_PERMANENT, names);
	wk_mode[1] = WK_STUBBORN;	/* ignores shutdown: killed at 100 ms */
	kids[1].shutdown_ms = 100;
	wk_mode[2] = WK_SLOW;		/* stops 50 ms after shutdown */
	wk_slow_ms = 50;
	kids[2].shutdown_ms = RA_SHUTDOWN_INFINITY;
	wk_mode[3] = WK_STUBBORN;	/* brutal_kill: no waiting */
	kids[3].shutdown_ms = RA_SHUTDOWN_BRUTAL_KILL;
	sup = start_sup(RA_ONE_FOR_ONE, kids, 4);
	wait_for(&wk_nlog, 4, SEC);
	wk_wait_all(4, 1);	/* trapping is set up in init */
	t0 = ra_now_ns();
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] shutdown with timeouts: all gone", nsh);
	took = ra_now_ns() - t0;
	ok(log_is(4, want, 4), "[%u] ... in reverse order", nsh);
	is_int(atomic_load(&wk_code[3]), RA_EXIT_KILLED,
	       "[%u] brutal_kill kills a trapping child at once", nsh);
	is_int(atomic_load(&wk_code[2]), RA_EXIT_SHUTDOWN,
	       "[%u] infinity waits for a slow child to stop by itself", nsh);
	is_int(atomic_load(&wk_code[1]), RA_EXIT_KILLED,
	       "[%u] a child that ignores shutdown is killed after its "
	       "timeout", nsh);
	is_int(atomic_load(&wk_code[0]), RA_EXIT_SHUTDOWN,
	       "[%u] a plain child stops with shutdown", nsh);
	ok(took >= 150000000ull,
	   "[%u] ... not before 50 ms + 100 ms had passed (%.0f ms)", nsh,
	   (double)took / 1e6);
	ok(ev_count(RA_SUP_CHILD_KILLED, "w1", RA_EXIT_KILLED,
		    "shutdown timeout") == 1,
	   "[%u] the timeout kill is reported", nsh);
}

static ra_child_info_t *which(ra_ref_t sup, size_t *n)
{
	ra_child_info_t *v = NULL;

	if (ra_runtime_sup_which_children(rt, sup, SEC, &v, n) < 0)
		*n = 0;
	return v;
}

static bool counts(ra_ref_t sup, unsigned active, unsigned specs)
{
	ra_child_counts_t c = { 0 };

	return ra_runtime_sup_count_children(rt, sup, SEC, &c) == 0 &&
	       c.active == active && c.specs == specs;
}

static void test_static_api(void)
{
	ra_child_spec_t w0 = wk_spec(0, RA_PERMANENT, names);
	ra_child_spec_t w1 = wk_spec(1, RA_PERMANENT, names);
	ra_child_spec_t w2 = wk_spec(2, RA_TEMPORARY, names);
	ra_child_spec_t bad = w1;
	ra_ref_t sup, c1 = RA_REF_NULL, c1b = RA_REF_NULL;
	ra_child_info_t *v;
	size_t n;

	wk_reset();
	sup = start_sup(RA_ONE_FOR_ONE, &w0, 1);
	is_int(ra_runtime_sup_start_child(rt, sup, &w1, NULL, SEC, &c1), 0,
	       "[%u] start_child: 0", nsh);
	/* The answer comes when the spawn is made; init runs after it. */
	ok(!ra_ref_is_null(c1) && wk_wait_eq(&wk_starts[1], 1),
	   "[%u] ... the child runs and its ref comes back", nsh);
	is_int(ra_runtime_sup_start_child(rt, sup, &w1, NULL, SEC, NULL),
	       -EEXIST, "[%u] start_child with a taken id: -EEXIST", nsh);
	bad.id = "bad";
	bad.def = NULL;
	is_int(ra_runtime_sup_start_child(rt, sup, &bad, NULL, SEC, NULL),
	       -EINVAL, "[%u] start_child with a bad spec: -EINVAL", nsh);
	v = which(sup, &n);
	ok(n == 2 && !strcmp(v[0].id, "w0") && !strcmp(v[1].id, "w1") &&
	   ra_ref_eq(v[1].ref, c1) && v[1].restart == RA_PERMANENT &&
	   v[1].type == RA_WORKER,
	   "[%u] which_children: w0, w1 in start order", nsh);
	free(v);
	is_int(ra_runtime_sup_terminate_child(rt, sup, "w1", RA_REF_NULL, SEC),
	       0, "[%u] terminate_child: 0", nsh);
	ok(atomic_load(&wk_code[1]) == RA_EXIT_SHUTDOWN && counts(sup, 1, 2),
	   "[%u] ... stopped with shutdown, spec kept, not restarted", nsh);
	is_int(ra_runtime_sup_restart_child(rt, sup, "w1", SEC, &c1b), 0,
	       "[%u] restart_child: 0", nsh);
	ok(!ra_ref_is_null(c1b) && !ra_ref_eq(c1, c1b) &&
	   wk_wait_eq(&wk_starts[1], 2) && counts(sup, 2, 2),
	   "[%u] ... a new w1 runs", nsh);
	is_int(ra_runtime_sup_restart_child(rt, sup, "w1", SEC, NULL), -EBUSY,
	       "[%u] restart_child of a running child: -EBUSY", nsh);
	is_int(ra_runtime_sup_delete_child(rt, sup, "w1", SEC), -EBUSY,
	       "[%u] delete_child of a running child: -EBUSY", nsh);
	ra_runtime_sup_terminate_child(rt, sup, "w1", RA_REF_NULL, SEC);
	is_int(ra_runtime_sup_delete_child(rt, sup, "w1", SEC), 0,
	       "[%u] delete_child of a stopped child: 0", nsh);
	ok(counts(sup, 1, 1), "[%u] ... its spec is gone", nsh);
	ok(ra_runtime_sup_terminate_child(rt, sup, "nope", RA_REF_NULL, SEC) ==
	   -ENOENT && ra_runtime_sup_restart_child(rt, sup, "nope", SEC,
						   NULL) == -ENOENT &&
	   ra_runtime_sup_delete_child(rt, sup, "nope", SEC) == -ENOENT,
	   "[%u] unknown id: -ENOENT for terminate, restart, delete", nsh);
	ra_runtime_sup_start_child(rt, sup, &w2, NULL, SEC, NULL);
	ra_runtime_sup_terminate_child(rt, sup, "w2", RA_REF_NULL, SEC);
	ok(counts(sup, 1, 1), "[%u] terminating a temporary child deletes "
	   "its spec", nsh);
	is_int(ra_runtime_sup_delete_child(
		       rt, sup, "an-id-that-is-much-longer-than-sixty-three-"
				"bytes-which-is-the-limit!", SEC),
	       -EINVAL, "[%u] an id over RA_NAME_MAX: -EINVAL", nsh);
	is_int(ra_runtime_sup_count_children(rt, wk_get_ref(0), 100000000ull,
					     &(ra_child_counts_t){ 0 }),
	       -ETIMEDOUT, "[%u] a request to a non-supervisor times out",
	       nsh);
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] static API: idle", nsh);
	is_int(ra_runtime_sup_count_children(rt, sup, SEC,
					     &(ra_child_counts_t){ 0 }),
	       -ESRCH, "[%u] a request to a dead supervisor: -ESRCH", nsh);
}

static void test_simple(void)
{
	ra_child_spec_t tmpl = wk_spec(0, RA_TRANSIENT, names);
	ra_ref_t sup, kid[20];
	ra_child_info_t *v;
	bool all = true;
	int exited;
	size_t n;

	wk_reset();
	sup = start_sup(RA_SIMPLE_ONE_FOR_ONE, &tmpl, 1);
	ok(counts(sup, 0, 0), "[%u] simple_one_for_one starts no child", nsh);
	for (int i = 10; i < 20; i++)
		all &= ra_runtime_sup_start_child(rt, sup, NULL,
						  (void *)(intptr_t)i, SEC,
						  &kid[i]) == 0;
	for (int i = 10; i < 20; i++)
		all &= wk_wait_eq(&wk_starts[i], 1);
	ok(all && counts(sup, 10, 10),
	   "[%u] start_child with 10 args: 10 children", nsh);
	v = which(sup, &n);
	ok(n == 10 && v[0].id[0] == '\0' && v[0].restart == RA_TRANSIENT,
	   "[%u] which_children: 10, without ids", nsh);
	free(v);
	wk_crash(rt, 12, ABN_CODE);
	ok(wk_wait_eq(&wk_starts[12], 2) && counts(sup, 10, 10),
	   "[%u] a transient child that crashes is restarted with its arg",
	   nsh);
	/* The supervisor drops the spec as it reports the exit. */
	exited = ev_count(RA_SUP_CHILD_EXITED, NULL, RA_EXIT_NORMAL, NULL);
	wk_crash(rt, 13, RA_EXIT_NORMAL);
	ok(ev_wait(RA_SUP_CHILD_EXITED, NULL, RA_EXIT_NORMAL, NULL,
		   exited + 1) && counts(sup, 9, 9),
	   "[%u] one that exits normally is removed", nsh);
	is_int(ra_runtime_sup_terminate_child(rt, sup, NULL, kid[14], SEC), 0,
	       "[%u] terminate_child by ref: 0", nsh);
	ok(counts(sup, 8, 8) && atomic_load(&wk_code[14]) == RA_EXIT_SHUTDOWN,
	   "[%u] ... stopped with shutdown and removed", nsh);
	is_int(ra_runtime_sup_terminate_child(rt, sup, NULL, kid[14], SEC),
	       -ENOENT, "[%u] terminate_child of a gone ref: -ENOENT", nsh);
	ok(ra_runtime_sup_restart_child(rt, sup, "x", SEC, NULL) ==
	   -EOPNOTSUPP && ra_runtime_sup_delete_child(rt, sup, "x", SEC) ==
	   -EOPNOTSUPP,
	   "[%u] restart_child, delete_child: -EOPNOTSUPP (as OTP)", nsh);
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] shutdown stops every simple child", nsh);
	all = true;
	for (int i = 15; i < 20; i++)
		all &= atomic_load(&wk_code[i]) == RA_EXIT_SHUTDOWN;
	ok(all, "[%u] ... with shutdown", nsh);
}

/*
 * One try: crash w0, and once the supervisor reports its restart (w1,
 * which ignores shutdown, takes 100 ms to be killed) ask it for its
 * children. True in *during when w1 was still there as the request
 * left, and in the result when both children in the answer are new.
 */
static bool request_during_restart(bool *during, int *w1_code, bool *idle)
{
	ra_child_spec_t kids[2] = { wk_spec(0, RA_PERMANENT, names),
				    wk_spec(1, RA_PERMANENT, names) };
	ra_child_info_t *v;
	ra_ref_t sup;
	bool fresh;
	size_t n;

	wk_reset();
	ev_reset();
	wk_mode[1] = WK_STUBBORN;
	kids[1].shutdown_ms = 100;
	sup = start_sup(RA_ONE_FOR_ALL, kids, 2);
	wait_for(&wk_nlog, 2, SEC);
	wk_wait_all(2, 1);
	wk_crash(rt, 0, ABN_CODE);
	ev_wait(RA_SUP_RESTART, "w0", ABN_CODE, NULL, 1);
	*during = atomic_load(&wk_stops[1]) == 0;
	v = which(sup, &n);
	fresh = n == 2 && !ra_ref_is_null(v[0].ref) &&
		!ra_ref_is_null(v[1].ref) &&
		ra_ref_eq(v[0].ref, wk_ref_when_started(0, 2)) &&
		ra_ref_eq(v[1].ref, wk_ref_when_started(1, 2));
	free(v);
	*w1_code = atomic_load(&wk_code[1]);
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	*idle = *idle && ra_runtime_wait_idle(rt, SEC) == 0;
	return fresh;
}

static void test_request_during_restart(void)
{
	bool fresh = true, during = false, idle = true;
	int tries = 0, w1_code = 0;

	/* A request that left after the restart proves nothing: again. */
	while (!during && tries++ < 5)
		fresh &= request_during_restart(&during, &w1_code, &idle);
	ok(fresh && during, "[%u] a request during a restart is answered "
	   "after it: both children new (%d tries)", nsh, tries);
	is_int(w1_code, RA_EXIT_KILLED,
	       "[%u] ... the stubborn sibling was killed at its timeout", nsh);
	ok(idle, "[%u] idle", nsh);
}

/* An actor that asks a supervisor for a child and records the answer. */
static atomic_int client_result = 12345, client_done;
static _Atomic uint64_t client_child;

static int client_init(ra_ctx_t *self, void *state, void *arg)
{
	ra_sup_request_t req = { .op = RA_SUP_START_CHILD,
				 .arg = (void *)(intptr_t)30 };
	uint64_t aref;

	(void)state;
	return ra_sup_call(self, *(ra_ref_t *)arg, &req, SEC, &aref);
}

static int client_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	const ra_sup_reply_t *h = m->data;

	(void)state;
	if (m->type == RA_MSG_REPLY && m->len >= sizeof(*h)) {
		atomic_store(&client_child,
			     (uint64_t)h->child.slot << 32 | h->child.gen);
		atomic_store(&client_result, h->result);
	}
	atomic_store(&client_done, 1);
	ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t client_def = { .name = "client",
					   .behavior = client_behavior,
					   .init = client_init };

static void test_call_from_actor(void)
{
	ra_child_spec_t tmpl = wk_spec(0, RA_TEMPORARY, names);
	ra_ref_t sup, w;

	wk_reset();
	atomic_store(&client_done, 0);
	sup = start_sup(RA_SIMPLE_ONE_FOR_ONE, &tmpl, 1);
	ra_runtime_spawn(rt, &client_def, &sup, NULL, NULL);
	wait_for(&client_done, 1, SEC);
	wk_wait_eq(&wk_starts[30], 1);
	w = wk_get_ref(30);
	is_int(atomic_load(&client_result), 0,
	       "[%u] ra_sup_call from an actor: RA_MSG_REPLY, result 0", nsh);
	ok(atomic_load(&wk_starts[30]) == 1 &&
	   atomic_load(&client_child) == ((uint64_t)w.slot << 32 | w.gen),
	   "[%u] ... carrying the new child's ref", nsh);
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] idle", nsh);
}

int main(void)
{
	tap_timeout(240);
	plan((int)RA_ARRAY_LEN(tu_shard_counts) *
	     (4 + 8 + 19 + 11 + 3 + 3));
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		test_shutdown_order();
		test_shutdown_timeouts();
		test_static_api();
		test_simple();
		test_request_during_restart();
		test_call_from_actor();
		ra_runtime_destroy(rt);
	}
	return exit_status();
}
