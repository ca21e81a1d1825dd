/*
 * supervisor/supervisor.h: the supervisor actor's state (Erlang/OTP
 * supervisor behaviour, built on links, trap_exit, monitors, exit/2 and
 * timers).
 *
 * A supervisor is one actor; everything here is touched only by it, on
 * its shard, inside its callbacks. Its work is a plan: a FIFO of steps
 * (start a child, stop some children, answer a request, exit) run one
 * after the other. Starting is synchronous (a spawn); stopping is not: a
 * TERMINATE step sends the exit signals and the plan waits until every
 * DOWN has come back (or the shutdown timers fired and the kill's DOWN
 * came back). Events that arrive meanwhile (a child's EXIT, a request)
 * append steps, so restarts, shutdowns and requests never interleave.
 *
 * Files, each with its header: sup_children.c (spec copy and validation,
 * the child table), sup_plan.c (the plan and its steps, incl. the
 * shutdown protocol), sup_request.c (requests from the API),
 * supervisor.c (the actor: events, strategies, restart intensity),
 * sup_api.c (the public calls). The folder is built on ringactor.h
 * alone, as OTP's supervisor module is on spawn_link and exit/2.
 */
#ifndef RA_SUPERVISOR_SUPERVISOR_H
#define RA_SUPERVISOR_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include "ringactor.h"

/* Supervisor-internal message types, to itself. */
#define SUP_MSG_KILL_TIMER	0x7fffff01u /* payload: child serial (u64) */
#define SUP_MSG_CONTINUE	0x7fffff02u /* resume the plan after a yield */

enum sup_child_phase {
	CHILD_STOPPED = 0,	/* not running (never started, exited, ignore) */
	CHILD_RUNNING,
	CHILD_TERMINATING,	/* exit signal sent, waiting for its DOWN */
};

struct sup_child {
	ra_child_spec_t spec;		/* spec.id points at `id` */
	char id[RA_NAME_MAX + 1];
	uint64_t serial;		/* stable key for steps; never reused */
	ra_ref_t ref;			/* null unless RUNNING/TERMINATING */
	uint8_t phase;			/* enum sup_child_phase */
	bool delete_when_down;		/* temporary / simple: drop the record */
	uint64_t mref;			/* TERMINATING: our monitor */
	uint64_t kill_tref;		/* TERMINATING: the shutdown timer, 0 none */
};

/* The request wire format (RA_SUP_CALL_TYPE): strings copied inline. */
struct sup_wire {
	ra_sup_request_t req;		/* req.id and req.spec.id: NULL */
	char id[RA_NAME_MAX + 1];	/* req.id's text */
	char spec_id[RA_NAME_MAX + 1];	/* req.spec.id's text */
};

enum sup_step_kind {
	STEP_START,		/* start child `serial`; code 1: at boot */
	STEP_TERMINATE,		/* stop child `serial` (0: all, reverse order) */
	STEP_REQUEST,		/* serve `wire` for `from`/`aref` */
	STEP_REPLY,		/* answer `from`/`aref` with `result` */
	STEP_EXIT,		/* exit with `code`/`why` */
};

struct sup_step {
	uint8_t kind;			/* enum sup_step_kind */
	uint64_t serial;
	int code;			/* EXIT code, REPLY result */
	char why[RA_EXIT_WHY_MAX];	/* EXIT text */
	ra_ref_t from;			/* REQUEST/REPLY: the asker */
	uint64_t aref;			/* REQUEST/REPLY: its ask */
	struct sup_wire wire;		/* REQUEST */
};

struct sup_state {
	ra_ctx_t *self;			/* valid inside the current callback */
	enum ra_sup_strategy strategy;
	unsigned intensity;
	uint64_t period_ns;
	ra_sup_event_fn on_event;
	void *event_ctx;
	ra_ref_t parent;		/* who started us linked, or null */

	struct sup_child **kids;	/* start order */
	unsigned nkids, kids_cap;
	ra_child_spec_t tmpl;		/* simple_one_for_one template */
	char tmpl_id[RA_NAME_MAX + 1];
	uint64_t next_serial;

	uint64_t *restart_ns;		/* ring: last intensity + 1 restarts */
	unsigned restart_head;		/* next slot to overwrite */

	struct sup_step *steps;		/* the plan: steps[head .. tail) */
	unsigned head, tail, steps_cap;
	unsigned waiting;		/* DOWNs the current TERMINATE waits for */
	bool paused;			/* yielded: SUP_MSG_CONTINUE resumes */
	bool exiting;			/* an EXIT step is queued: no restarts */
};

/* The copy of a sup spec a supervisor's init receives (sup_children.c). */
struct sup_boot {
	ra_sup_spec_t spec;		/* children -> kids below */
	ra_child_spec_t *kids;
	char (*ids)[RA_NAME_MAX + 1];
	ra_ref_t parent;
};

/* The supervisor's actor definition (supervisor.c). */
extern const ra_actor_def_t ra__sup_def;

/* Most restarts an intensity may allow (its ring is intensity + 1 long). */
#define SUP_INTENSITY_MAX 100000u

/* Count a restart now; whether the intensity still allows it. */
bool ra__sup_restart_allowed(struct sup_state *st);
/* Restarts recorded within the last period, as of now. */
unsigned ra__sup_restarts_in_period(const struct sup_state *st);

#endif /* RA_SUPERVISOR_SUPERVISOR_H */
