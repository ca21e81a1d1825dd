/*
 * t/supervisor.c: supervisor strategies and restart types, table-driven
 * against OTP's documented behaviour (supervisor(3), "Restart Strategy"
 * and "Child Specification"), then restart intensity and escalation,
 * and start failures. Children are spread over the shards; every case
 * runs with 1, 2 and 4 shards.
 *
 * A row says: strategy, the three children's restart types, which child
 * exits with which code, and then what OTP does: each child's start
 * count, the sequence of stops (Tn) and starts (Sn) the supervisor makes
 * after the exit (its reports, in its order), and how many
 * children are running / have specs afterwards.
 *
 * A row's log is read once the supervisor has handled everything the
 * exit set off (settle()), not after a pause: then no report the row
 * does not expect can still be on its way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"
#include "sup_worker.h"
#include "sup_events.h"

#define P RA_PERMANENT
#define TR RA_TRANSIENT
#define TE RA_TEMPORARY
#define ABN (-42)

struct row {
	enum ra_sup_strategy strategy;
	enum ra_restart restart[3];
	int crash, code;
	int starts[3];
	const char *seq;
	unsigned active, specs;
};

static const struct row rows[] = {
	/* one_for_one: only the exiting child, by its restart type. */
	{ RA_ONE_FOR_ONE, { P, P, P }, 1, ABN, { 1, 2, 1 }, "S1", 3, 3 },
	{ RA_ONE_FOR_ONE, { P, P, P }, 1, RA_EXIT_NORMAL, { 1, 2, 1 }, "S1",
	  3, 3 },
	{ RA_ONE_FOR_ONE, { TR, TR, TR }, 1, ABN, { 1, 2, 1 }, "S1", 3, 3 },
	{ RA_ONE_FOR_ONE, { TR, TR, TR }, 1, RA_EXIT_NORMAL, { 1, 1, 1 }, "",
	  2, 3 },
	{ RA_ONE_FOR_ONE, { TR, TR, TR }, 1, RA_EXIT_SHUTDOWN, { 1, 1, 1 },
	  "", 2, 3 },
	{ RA_ONE_FOR_ONE, { TE, TE, TE }, 1, ABN, { 1, 1, 1 }, "", 2, 2 },
	/* one_for_all: stop the others in reverse order, start all. */
	{ RA_ONE_FOR_ALL, { P, P, P }, 1, ABN, { 2, 2, 2 }, "T2 T0 S0 S1 S2",
	  3, 3 },
	{ RA_ONE_FOR_ALL, { TR, TR, TR }, 0, ABN, { 2, 2, 2 },
	  "T2 T1 S0 S1 S2", 3, 3 },
	{ RA_ONE_FOR_ALL, { TR, TR, TR }, 1, RA_EXIT_NORMAL, { 1, 1, 1 }, "",
	  2, 3 },
	{ RA_ONE_FOR_ALL, { TE, TE, TE }, 1, ABN, { 1, 1, 1 }, "", 2, 2 },
	/* ... a temporary sibling is stopped and not restarted. */
	{ RA_ONE_FOR_ALL, { P, P, TE }, 0, ABN, { 2, 2, 1 }, "T2 T1 S0 S1",
	  2, 2 },
	/* rest_for_one: stop those started after it, restart from it on. */
	{ RA_REST_FOR_ONE, { P, P, P }, 1, ABN, { 1, 2, 2 }, "T2 S1 S2", 3,
	  3 },
	{ RA_REST_FOR_ONE, { P, P, P }, 0, ABN, { 2, 2, 2 }, "T2 T1 S0 S1 S2",
	  3, 3 },
	{ RA_REST_FOR_ONE, { P, P, P }, 2, ABN, { 1, 1, 2 }, "S2", 3, 3 },
	{ RA_REST_FOR_ONE, { TR, TR, TR }, 1, RA_EXIT_NORMAL, { 1, 1, 1 }, "",
	  2, 3 },
	{ RA_REST_FOR_ONE, { TE, TE, TE }, 0, ABN, { 1, 1, 1 }, "", 2, 2 },
};

static const char *strategy_name[] = { "one_for_one", "one_for_all",
				       "rest_for_one", "simple_one_for_one" };
static const char *restart_name[] = { "permanent", "transient", "temporary" };

static ra_runtime_t *rt;
static unsigned nsh;
static char names[WK_MAX][16];

/* ---- probes: one per shard, each asks a supervisor for its counts ---- */

#define MAX_SHARDS 4
enum { P_ASK = 1 };

static ra_ref_t probes[MAX_SHARDS];
static atomic_int probe_answers, probe_errors;

static int probe_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	ra_sup_request_t req = { .op = RA_SUP_COUNT_CHILDREN };
	uint64_t aref;
	ra_ref_t sup;

	(void)state;
	if (m->type == RA_MSG_REPLY) {
		atomic_fetch_add(&probe_answers, 1);
	} else if (m->type != P_ASK || m->len != sizeof(sup)) {
		atomic_fetch_add(&probe_errors, 1);
	} else {
		memcpy(&sup, m->data, sizeof(sup));
		if (ra_sup_call(self, sup, &req, SEC, &aref) < 0)
			atomic_fetch_add(&probe_errors, 1);
	}
	return 0;
}

static const ra_actor_def_t probe_def = {
	.name = "probe",
	.behavior = probe_behavior,
};

static void probes_start(void)
{
	for (unsigned k = 0; k < nsh; k++) {
		ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = k };

		if (ra_runtime_spawn(rt, &probe_def, NULL, &o, &probes[k]) < 0)
			bail_out("cannot spawn a probe");
	}
}

static void probes_stop(void)
{
	for (unsigned k = 0; k < nsh; k++)
		ra_runtime_stop_actor(rt, probes[k]);
}

/*
 * Wait until `sup` has handled everything the exit of a row set off:
 * `stops[i]` is how often worker i stops in it. A stopped worker's EXIT
 * leaves its shard before its terminate runs (ra_exit); after that a
 * probe on every shard asks `sup` for its counts, and `sup` answers each
 * only after what came before it from that shard, those EXITs included.
 * Its reports of them are made while it handles them. True once so.
 */
static bool settle(ra_ref_t sup, const int *stops, int n)
{
	int want = atomic_load(&probe_answers) + (int)nsh;

	for (int i = 0; i < n; i++)
		if (!wk_wait_eq(&wk_stops[i], stops[i]))
			return false;
	for (unsigned k = 0; k < nsh; k++)
		ra_runtime_send(rt, probes[k], P_ASK, &sup, sizeof(sup));
	return wait_for(&probe_answers, want, SEC) == 0 &&
	       atomic_load(&probe_errors) == 0;
}

/* Parse "T2 S0 ..." into log values (-(id+1) stop, id+1 start). */
static int parse_seq(const char *seq, int *out)
{
	int n = 0;

	for (const char *p = seq; *p; p++)
		if (*p == 'T' || *p == 'S') {
			int id = p[1] - '0';

			out[n++] = *p == 'T' ? -(id + 1) : id + 1;
		}
	return n;
}

static ra_ref_t start_sup(enum ra_sup_strategy strategy,
			  const ra_child_spec_t *kids, unsigned n,
			  unsigned intensity, uint32_t period_ms)
{
	ra_sup_spec_t spec = {
		.strategy = strategy,
		.intensity = intensity,
		.period_ms = period_ms,
		.children = kids,
		.nchildren = n,
		.on_event = ev_record,
	};
	ra_ref_t sup = RA_REF_NULL;

	if (ra_runtime_sup_start(rt, &spec, NULL, &sup) < 0)
		diag("ra_runtime_sup_start failed");
	return sup;
}

static bool counts_are(ra_ref_t sup, unsigned active, unsigned specs)
{
	ra_child_counts_t c = { 0 };
	uint64_t end = ra_now_ns() + SEC;

	do {
		if (ra_runtime_sup_count_children(rt, sup, SEC, &c) == 0 &&
		    c.active == active && c.specs == specs)
			return true;
		sleep_ms(2);
	} while (ra_now_ns() < end);
	diag("  active %u specs %u, want %u %u", c.active, c.specs, active,
	     specs);
	return false;
}

/* The supervisor's starts and stops logged after index n0. */
static int log_after(int n0, int *out)
{
	int n = 0, end = atomic_load(&wk_nlog);

	for (int i = n0; i < end && i < WK_LOG_MAX; i++)
		out[n++] = atomic_load(&wk_log[i]);
	return n;
}

static void run_row(const struct row *r)
{
	int want[16], got[WK_LOG_MAX], nwant = parse_seq(r->seq, want), ngot;
	int stops[3] = { 0 }, exits, restarts;
	ra_child_spec_t kids[3];
	bool same, settled, codes = true;
	ra_ref_t sup;
	int n0;

	wk_reset();
	ev_reset();
	probes_start();
	/* The exiting child stops once, and each one the row stops. */
	stops[r->crash]++;
	for (int i = 0; i < nwant; i++)
		if (want[i] < 0)
			stops[-want[i] - 1]++;
	for (int i = 0; i < 3; i++)
		kids[i] = wk_spec(i, r->restart[i], names);
	sup = start_sup(r->strategy, kids, 3, 10, 5000);
	wait_for(&wk_nlog, 3, SEC);
	wk_wait_all(3, 1);	/* their refs are set in init */
	n0 = atomic_load(&wk_nlog);
	wk_crash(rt, r->crash, r->code);
	/* Everything the row expects (the exit itself is not logged). */
	wait_for(&wk_nlog, n0 + nwant, SEC);
	ok(counts_are(sup, r->active, r->specs),
	   "[%u] %s %s/%s/%s, w%d exits %d: %u running, %u specs", nsh,
	   strategy_name[r->strategy], restart_name[r->restart[0]],
	   restart_name[r->restart[1]], restart_name[r->restart[2]],
	   r->crash, r->code, r->active, r->specs);
	settled = settle(sup, stops, 3);
	ngot = log_after(n0, got);
	exits = ev_count(RA_SUP_CHILD_EXITED, NULL, INT32_MIN, NULL);
	restarts = ev_count(RA_SUP_RESTART, NULL, INT32_MIN, NULL);
	/* The exit is reported once, and a restart only if one is due. */
	same = settled && ngot == nwant &&
	       !memcmp(got, want, sizeof(int) * (size_t)ngot) && exits == 1 &&
	       restarts == (strchr(r->seq, 'S') != NULL);
	if (!ok(same, "[%u] ... stops and starts in OTP's order: \"%s\"", nsh,
		r->seq)) {
		diag("  settled %d, %d exit and %d restart reports", settled,
		     exits, restarts);
		for (int i = 0; i < ngot; i++)
			diag("  got %c%d", got[i] < 0 ? 'T' : 'S',
			     abs(got[i]) - 1);
	}
	ok(atomic_load(&wk_starts[0]) == r->starts[0] &&
	   atomic_load(&wk_starts[1]) == r->starts[1] &&
	   atomic_load(&wk_starts[2]) == r->starts[2],
	   "[%u] ... start counts %d %d %d", nsh, r->starts[0], r->starts[1],
	   r->starts[2]);
	for (int i = 0; i < nwant; i++)
		if (want[i] < 0)
			codes &= atomic_load(&wk_code[-want[i] - 1]) ==
				 RA_EXIT_SHUTDOWN;
	ok(codes && atomic_load(&wk_code[r->crash]) == r->code,
	   "[%u] ... the exiting child ended %d, those stopped `shutdown`",
	   nsh, r->code);
	probes_stop();
	ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] ... shutdown leaves nothing running", nsh);
}

/* A supervisor as a child: its start is ra_sup_start_link. */
static ra_child_spec_t sup_child(const char *id, const ra_sup_spec_t *spec)
{
	return (ra_child_spec_t){
		.id = id,
		.start = ra_sup_start_link,
		.arg = (void *)spec,
		.opts = { .placement = RA_PLACE_ROUND_ROBIN },
		.restart = RA_PERMANENT,
		.type = RA_SUPERVISOR,
	};
}

/* Crash w0 and wait until it runs again (or not: `restarts` false). */
static void crash_w0(bool restarts)
{
	int want = atomic_load(&wk_starts[0]) + 1;

	wk_crash(rt, 0, ABN);
	if (restarts)
		wait_for(&wk_starts[0], want, SEC);
	else
		wait_for(&wk_stops[0], want - 1, SEC);
}

static void test_intensity_escalates(void)
{
	ra_child_spec_t kid = wk_spec(0, RA_PERMANENT, names);
	ra_sup_spec_t inner = { .strategy = RA_ONE_FOR_ONE, .intensity = 2,
				.period_ms = 10000, .children = &kid,
				.nchildren = 1, .on_event = ev_record };
	ra_child_spec_t inner_kid = sup_child("inner", &inner);
	ra_ref_t top;

	wk_reset();
	ev_reset();
	top = start_sup(RA_ONE_FOR_ONE, &inner_kid, 1, 5, 10000);
	wait_for(&wk_starts[0], 1, SEC);
	crash_w0(true);
	crash_w0(true);
	ok(ev_count(RA_SUP_INTENSITY_EXCEEDED, NULL, INT32_MIN, NULL) == 0,
	   "[%u] intensity 2: two restarts allowed", nsh);
	crash_w0(true);	/* the third: inner gives up, top restarts inner */
	ok(ev_wait(RA_SUP_INTENSITY_EXCEEDED, "w0", ABN, NULL, 1),
	   "[%u] the third restart within the period exceeds it", nsh);
	ok(ev_wait(RA_SUP_CHILD_EXITED, "inner", RA_EXIT_SHUTDOWN,
		   "reached_max_restart_intensity", 1),
	   "[%u] the parent sees its child supervisor exit `shutdown`, "
	   "reached_max_restart_intensity", nsh);
	ok(ev_wait(RA_SUP_CHILD_STARTED, "inner", INT32_MIN, NULL, 2),
	   "[%u] ... and restarts it (permanent)", nsh);
	is_int(atomic_load(&wk_starts[0]), 4,
	       "[%u] w0 started 4 times: first, 2 restarts, fresh inner", nsh);
	ok(counts_are(top, 1, 1), "[%u] the tree is whole again", nsh);
	ra_runtime_exit_actor(rt, top, RA_EXIT_SHUTDOWN, NULL);
	is_int(ra_runtime_wait_idle(rt, SEC), 0, "[%u] escalation: idle", nsh);
}

/*
 * Crash w0 each time it is back, until its supervisor gives up. Two
 * restarts within the period exceed intensity 1, but on a loaded
 * machine a restart may come later than that after the one before, and
 * is then rightly allowed: so try again, as long as the deadline
 * allows. Returns the crash that escalated (1 = the first), or 0.
 */
static int crash_until_escalation(void)
{
	uint64_t end = ra_now_ns() + 2 * SEC;

	for (int crash = 1; ra_now_ns() < end; crash++) {
		int want = atomic_load(&wk_starts[0]) + 1;

		wk_crash(rt, 0, ABN);
		while (atomic_load(&wk_starts[0]) < want &&
		       !ev_count(RA_SUP_INTENSITY_EXCEEDED, NULL, INT32_MIN,
				 NULL) &&
		       ra_now_ns() < end)
			sleep_ms(1);
		if (ev_count(RA_SUP_INTENSITY_EXCEEDED, NULL, INT32_MIN, NULL))
			return crash;
	}
	return 0;
}

static void test_period_forgets(void)
{
	ra_child_spec_t kid = wk_spec(0, RA_PERMANENT, names);
	ra_ref_t sup;
	int crashes;

	wk_reset();
	ev_reset();
	sup = start_sup(RA_ONE_FOR_ONE, &kid, 1, 1, 100);
	wait_for(&wk_starts[0], 1, SEC);
	for (int i = 0; i < 3; i++) {
		crash_w0(true);
		sleep_ms(250);	/* more than the period: forgotten */
	}
	ok(counts_are(sup, 1, 1) && atomic_load(&wk_starts[0]) == 4,
	   "[%u] intensity 1, period 100 ms: 3 restarts 250 ms apart are "
	   "all allowed", nsh);
	is_int(ev_count(RA_SUP_INTENSITY_EXCEEDED, NULL, INT32_MIN, NULL), 0,
	       "[%u] ... no escalation", nsh);
	crash_w0(true);
	crashes = crash_until_escalation();
	ok(crashes > 0, "[%u] two restarts back to back exceed intensity 1 "
	   "(escalated at crash %d)", nsh, crashes);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] ... and the top supervisor stops", nsh);
}

static atomic_int start_calls;

/* A start function that fails after `ok_first` successes. */
static int flaky_start(ra_ctx_t *sup, const ra_child_spec_t *spec,
		       ra_ref_t *out)
{
	int call = atomic_fetch_add(&start_calls, 1);
	ra_spawn_opts_t o = { .flags = RA_SPAWN_LINK };

	if (call >= (int)(intptr_t)spec->arg)
		return -EIO;
	return ra_spawn(sup, &wk_def, (void *)(intptr_t)1, &o, out);
}

static void test_boot_failure(void)
{
	ra_child_spec_t kids[3] = { wk_spec(0, RA_PERMANENT, names),
				    { .id = "bad", .start = flaky_start,
				      .arg = (void *)0 },
				    wk_spec(2, RA_PERMANENT, names) };

	wk_reset();
	ev_reset();
	atomic_store(&start_calls, 0);
	start_sup(RA_ONE_FOR_ONE, kids, 3, 3, 5000);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] a child that fails to start stops the supervisor", nsh);
	ok(ev_count(RA_SUP_START_FAILED, "bad", -EIO, NULL) == 1,
	   "[%u] ... reported as START_FAILED -EIO", nsh);
	ok(atomic_load(&wk_starts[0]) == 1 &&
	   atomic_load(&wk_code[0]) == RA_EXIT_SHUTDOWN,
	   "[%u] ... the child started before it was stopped (shutdown)", nsh);
	is_int(atomic_load(&wk_starts[2]), 0,
	       "[%u] ... the one after it never started", nsh);
}

static void test_restart_failure(void)
{
	ra_child_spec_t kid = { .id = "flaky", .start = flaky_start,
				.arg = (void *)1, .restart = RA_PERMANENT };

	wk_reset();
	ev_reset();
	atomic_store(&start_calls, 0);
	start_sup(RA_ONE_FOR_ONE, &kid, 1, 3, 5000);
	wait_for(&wk_starts[1], 1, SEC);
	wk_crash(rt, 1, ABN);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] restarts that keep failing end in escalation", nsh);
	ok(ev_count(RA_SUP_START_FAILED, "flaky", -EIO, NULL) == 3 &&
	   ev_count(RA_SUP_INTENSITY_EXCEEDED, NULL, INT32_MIN, NULL) == 1,
	   "[%u] ... each failed restart counts: 3 tries, then give up",
	   nsh);
}

static void test_bad_specs(void)
{
	ra_child_spec_t good = wk_spec(0, RA_PERMANENT, names);
	ra_child_spec_t dup[2] = { good, good };
	ra_child_spec_t noid = good, nodef = good, badr = good;
	ra_sup_spec_t s = { .strategy = RA_ONE_FOR_ONE, .intensity = 1,
			    .period_ms = 1000, .children = &good,
			    .nchildren = 1 };
	ra_ref_t r;
	ra_sup_spec_t t;

	noid.id = "";
	nodef.def = NULL;
	badr.restart = (enum ra_restart)7;
	t = s;
	t.period_ms = 0;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] period 0: -EINVAL", nsh);
	t = s;
	t.strategy = (enum ra_sup_strategy)9;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] unknown strategy: -EINVAL", nsh);
	t = s;
	t.children = dup;
	t.nchildren = 2;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] repeated child id: -EINVAL", nsh);
	t = s;
	t.children = &noid;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] empty child id: -EINVAL", nsh);
	t.children = &nodef;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] neither start nor def: -EINVAL", nsh);
	t.children = &badr;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] unknown restart type: -EINVAL", nsh);
	t = s;
	t.strategy = RA_SIMPLE_ONE_FOR_ONE;
	t.children = dup;
	t.nchildren = 2;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] simple_one_for_one with two templates: -EINVAL", nsh);
	is_int(ra_runtime_sup_start(rt, NULL, NULL, &r), -EINVAL,
	       "[%u] spec NULL: -EINVAL", nsh);
	t = s;
	t.intensity = 100001;
	is_int(ra_runtime_sup_start(rt, &t, NULL, &r), -EINVAL,
	       "[%u] intensity over 100000: -EINVAL", nsh);
	is_int(ra_runtime_sup_start(NULL, &s, NULL, &r), -EINVAL,
	       "[%u] rt NULL: -EINVAL", nsh);
	is_int(ra_runtime_sup_which_children(rt, r, SEC, NULL, NULL), -EINVAL,
	       "[%u] which_children without out: -EINVAL", nsh);
	is_int(ra_runtime_sup_count_children(rt, r, SEC, NULL), -EINVAL,
	       "[%u] count_children without out: -EINVAL", nsh);
	is_int(ra_runtime_wait_idle(rt, SEC), 0,
	       "[%u] nothing was started by bad specs", nsh);
}

#define ROW_TESTS 5
#define OTHER_TESTS (7 + 4 + 4 + 2 + 13)

int main(void)
{
	size_t nrows = sizeof(rows) / sizeof(rows[0]);

	tap_timeout(240);
	if (tu_shard_counts[RA_ARRAY_LEN(tu_shard_counts) - 1] > MAX_SHARDS)
		bail_out("more shards than probes");
	plan((int)(RA_ARRAY_LEN(tu_shard_counts) *
		   (nrows * ROW_TESTS + OTHER_TESTS)));
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		for (size_t r = 0; r < nrows; r++)
			run_row(&rows[r]);
		test_intensity_escalates();
		test_period_forgets();
		test_boot_failure();
		test_restart_failure();
		test_bad_specs();
		ra_runtime_destroy(rt);
	}
	return exit_status();
}
