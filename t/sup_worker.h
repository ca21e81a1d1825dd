/*
 * t/sup_worker.h: the worker the supervisor tests supervise, and the
 * bookkeeping they check: per worker id, how often it started, how it
 * ended, its current reference; and one global log of the starts and
 * stops the supervisors made, in their order (filled from their reports
 * by sup_events.h: a child's init and terminate run on other shards, so
 * their own order across shards says nothing about the supervisor's).
 *
 * Worker modes (wk_mode[id]): WK_PLAIN exits on any exit signal;
 * WK_STUBBORN traps exits and ignores them (only kill stops it);
 * WK_SLOW traps exits and, on `shutdown`, stops itself wk_slow_ms later.
 */
#ifndef RA_T_SUP_WORKER_H
#define RA_T_SUP_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "ringactor.h"
#include "testutil.h"

#define WK_MAX 64
#define WK_LOG_MAX 4096
#define SEC scaled_ns(5000000000ull)	/* 5 s, longer under sanitizers */
#define ABN_CODE (-42)

enum { WK_PLAIN = 0, WK_STUBBORN, WK_SLOW };
enum { WK_CMD_CRASH = 1, WK_CMD_SLOW_DONE };

static atomic_int wk_starts[WK_MAX], wk_stops[WK_MAX], wk_code[WK_MAX];
static _Atomic uint64_t wk_ref[WK_MAX];	/* slot << 32 | gen of the latest */
static int wk_mode[WK_MAX];
static unsigned wk_slow_ms = 100;
static atomic_int wk_log[WK_LOG_MAX];	/* +id+1: started, -(id+1): stopped */
static atomic_int wk_nlog;

static inline void wk_log_add(int v)
{
	int i = atomic_fetch_add(&wk_nlog, 1);

	if (i < WK_LOG_MAX)
		atomic_store(&wk_log[i], v);
}

static inline void wk_reset(void)
{
	for (int i = 0; i < WK_MAX; i++) {
		atomic_store(&wk_starts[i], 0);
		atomic_store(&wk_stops[i], 0);
		atomic_store(&wk_code[i], 12345);
		atomic_store(&wk_ref[i], 0);
		wk_mode[i] = WK_PLAIN;
	}
	atomic_store(&wk_nlog, 0);
}

static inline ra_ref_t wk_get_ref(int id)
{
	uint64_t v = atomic_load(&wk_ref[id]);

	return (ra_ref_t){ (uint32_t)(v >> 32), (uint32_t)v };
}

struct wk_state {
	int id;
};

static int wk_init(ra_ctx_t *self, void *state, void *arg)
{
	struct wk_state *s = state;
	ra_ref_t r = ra_self(self);

	s->id = (int)(intptr_t)arg;
	if (wk_mode[s->id] != WK_PLAIN)
		ra_trap_exit(self, true);
	atomic_store(&wk_ref[s->id], (uint64_t)r.slot << 32 | r.gen);
	atomic_fetch_add(&wk_starts[s->id], 1);
	return 0;
}

static int wk_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct wk_state *s = state;
	int code;

	switch (m->type) {
	case WK_CMD_CRASH:
		memcpy(&code, m->data, sizeof(code));
		ra_exit(self, code, "crash");
		break;
	case WK_CMD_SLOW_DONE:
		ra_exit(self, RA_EXIT_SHUTDOWN, NULL);
		break;
	case RA_MSG_EXIT:
		if (wk_mode[s->id] == WK_SLOW)
			ra_send_after(self, ra_self(self),
				      (uint64_t)wk_slow_ms * 1000000u,
				      WK_CMD_SLOW_DONE, NULL, 0, NULL);
		break;	/* WK_STUBBORN: ignore */
	}
	return 0;
}

static void wk_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct wk_state *s = state;

	(void)self;
	atomic_store(&wk_code[s->id], reason);
	atomic_fetch_add(&wk_stops[s->id], 1);
}

static const ra_actor_def_t wk_def = {
	.name = "worker",
	.state_size = sizeof(struct wk_state),
	.init = wk_init,
	.behavior = wk_behavior,
	.terminate = wk_terminate,
};

/* A worker child spec: id "w<id>", spread over the shards. */
static inline ra_child_spec_t wk_spec(int id, enum ra_restart restart,
				      char (*names)[16])
{
	snprintf(names[id], sizeof(names[id]), "w%d", id);
	return (ra_child_spec_t){
		.id = names[id],
		.def = &wk_def,
		.arg = (void *)(intptr_t)id,
		.opts = { .placement = RA_PLACE_ROUND_ROBIN },
		.restart = restart,
	};
}

/* Make worker `id` exit with `code` as if it failed by itself. */
static inline int wk_crash(ra_runtime_t *rt, int id, int code)
{
	return ra_runtime_send(rt, wk_get_ref(id), WK_CMD_CRASH, &code,
			       sizeof(code));
}

/* Worker `id`'s ref once it has started `starts` times (or null). */
static inline ra_ref_t wk_ref_when_started(int id, int starts)
{
	wait_for(&wk_starts[id], starts, SEC);
	return atomic_load(&wk_starts[id]) == starts ? wk_get_ref(id)
						     : RA_REF_NULL;
}

/* Wait until workers 0 .. n-1 have each run init `times` times. */
static inline void wk_wait_all(int n, int times)
{
	for (int i = 0; i < n; i++)
		wait_for(&wk_starts[i], times, SEC);
}

/* Wait until *v == want (not just >=), or time out; then equal? */
static inline int wk_wait_eq(atomic_int *v, int want)
{
	wait_for(v, want, SEC);
	return atomic_load(v) == want;
}

#endif /* RA_T_SUP_WORKER_H */
