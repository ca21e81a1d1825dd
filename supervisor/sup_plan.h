/*
 * supervisor/sup_plan.h: a supervisor's plan of steps, run one after
 * the other (see supervisor.h).
 */
#ifndef RA_SUPERVISOR_SUP_PLAN_H
#define RA_SUPERVISOR_SUP_PLAN_H

#include "supervisor/supervisor.h"

/* Append a step; -ENOMEM. */
int ra__sup_plan_push(struct sup_state *st, const struct sup_step *s);
/* Insert a step to run next. -ENOMEM. */
int ra__sup_plan_push_front(struct sup_state *st, const struct sup_step *s);
/* Run steps until the plan is empty or waits for DOWNs. */
void ra__sup_plan_run(struct sup_state *st);
/* A DOWN for a TERMINATING child, or its shutdown timer. */
void ra__sup_plan_child_down(struct sup_state *st, struct sup_child *c, int code,
			const char *why);
void ra__sup_plan_kill_timer(struct sup_state *st, uint64_t serial);
/* Start `c` now: 0 (running or ignore) or the start error. */
int ra__sup_plan_start_child(struct sup_state *st, struct sup_child *c);
/*
 * Give up: drop queued START and REQUEST steps (answering requests
 * -ESHUTDOWN), then stop every child (reverse order) and exit with
 * `code`/`why`. Once only.
 */
void ra__sup_plan_give_up(struct sup_state *st, int code, const char *why);
/* Answer an ask; `extra` follows the reply header (n items). */
void ra__sup_plan_reply(struct sup_state *st, ra_ref_t to, uint64_t aref,
		   int result, ra_ref_t child, const void *extra,
		   size_t extra_len, unsigned n);
/* Report an event to spec.on_event, if any. */
void ra__sup_plan_report(struct sup_state *st, enum ra_sup_event_kind kind,
		    const struct sup_child *c, ra_ref_t child, int code,
		    const char *why);

#endif /* RA_SUPERVISOR_SUP_PLAN_H */
