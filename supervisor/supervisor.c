/*
 * supervisor/supervisor.c: the supervisor actor. It traps exits; a child's
 * EXIT is decided by its restart type (permanent, transient, temporary)
 * and the strategy, counted against the restart intensity, and turned
 * into plan steps (sup_plan.c). An EXIT from its parent, or an abnormal
 * one from anybody else, stops it in order: children first, in reverse
 * start order, then itself with that code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sup_children.h"
#include "supervisor/sup_plan.h"
#include "supervisor/supervisor.h"

static void push(struct sup_state *st, uint8_t kind, uint64_t serial,
		 int code)
{
	struct sup_step s = { .kind = kind, .serial = serial, .code = code };

	/* Without memory a step is lost: give up rather than drift. */
	if (ra__sup_plan_push(st, &s) < 0)
		ra_exit(st->self, -ENOMEM, "supervisor plan: out of memory");
}

unsigned ra__sup_restarts_in_period(const struct sup_state *st)
{
	uint64_t now = ra_now_ns();
	unsigned in = 0;

	for (unsigned i = 0; i <= st->intensity; i++)
		if (st->restart_ns[i] && now - st->restart_ns[i] <= st->period_ns)
			in++;
	return in;
}

bool ra__sup_restart_allowed(struct sup_state *st)
{
	st->restart_ns[st->restart_head] = ra_now_ns();
	st->restart_head = (st->restart_head + 1) % (st->intensity + 1);
	return ra__sup_restarts_in_period(st) <= st->intensity;
}

/* Steps for a restart after `c` exited, by strategy (OTP supervisor). */
static void plan_restart(struct sup_state *st, struct sup_child *c)
{
	unsigned from = 0, i;

	switch (st->strategy) {
	case RA_ONE_FOR_ONE:
	case RA_SIMPLE_ONE_FOR_ONE:
		push(st, STEP_START, c->serial, 0);
		return;
	case RA_REST_FOR_ONE:
		from = ra__sup_children_index(st, c);
		break;
	case RA_ONE_FOR_ALL:
		break;
	}
	for (i = st->nkids; i-- > from;)
		if (st->kids[i]->phase == CHILD_RUNNING)
			push(st, STEP_TERMINATE, st->kids[i]->serial, 0);
	for (i = from; i < st->nkids; i++)
		push(st, STEP_START, st->kids[i]->serial, 0);
}

static bool wants_restart(const struct sup_child *c, int code)
{
	switch (c->spec.restart) {
	case RA_PERMANENT:
		return true;
	case RA_TRANSIENT:
		return !ra_exit_is_normal(code);
	case RA_TEMPORARY:
		break;
	}
	return false;
}

/* A running child exited on its own. */
static void child_exited(struct sup_state *st, struct sup_child *c,
			 const ra_exit_info_t *x)
{
	ra__sup_plan_report(st, RA_SUP_CHILD_EXITED, c, c->ref, x->code, x->why);
	c->ref = RA_REF_NULL;
	c->phase = CHILD_STOPPED;
	if (st->exiting || !wants_restart(c, x->code)) {
		if (c->spec.restart == RA_TEMPORARY ||
		    st->strategy == RA_SIMPLE_ONE_FOR_ONE)
			ra__sup_children_del(st, c);
		return;
	}
	if (!ra__sup_restart_allowed(st)) {
		ra__sup_plan_report(st, RA_SUP_INTENSITY_EXCEEDED, c, RA_REF_NULL,
			       x->code, x->why);
		ra__sup_plan_give_up(st, RA_EXIT_SHUTDOWN,
				"reached_max_restart_intensity");
		return;
	}
	ra__sup_plan_report(st, RA_SUP_RESTART, c, RA_REF_NULL, x->code, x->why);
	plan_restart(st, c);
}

static void on_exit_msg(struct sup_state *st, const ra_msg_t *m)
{
	const ra_exit_info_t *x = m->data;
	struct sup_child *c;

	if (m->len != sizeof(*x))
		return;
	c = ra__sup_children_by_ref(st, x->who);
	if (c && c->phase == CHILD_RUNNING) {
		child_exited(st, c, x);
	} else if (!c && (ra_ref_eq(x->who, st->parent) ||
			  x->code != RA_EXIT_NORMAL)) {
		/* OTP: the parent's exit, whatever its reason, stops us. */
		ra__sup_plan_report(st, RA_SUP_SHUTDOWN, NULL, RA_REF_NULL,
			       x->code, x->why);
		ra__sup_plan_give_up(st, x->code, x->why);
	}
	ra__sup_plan_run(st);
}

static void on_down_msg(struct sup_state *st, const ra_msg_t *m)
{
	const ra_down_info_t *d = m->data;
	struct sup_child *c;

	if (m->len != sizeof(*d))
		return;
	c = ra__sup_children_by_mref(st, d->mref);
	if (c)
		ra__sup_plan_child_down(st, c, d->code, d->why);
}

static void on_request(struct sup_state *st, const ra_msg_t *m)
{
	struct sup_step s = { .kind = STEP_REQUEST, .from = m->from,
			      .aref = m->tag };

	if (m->tag == 0)
		return;		/* not an ask: nobody to answer */
	if (m->len != sizeof(s.wire) || st->exiting) {
		ra__sup_plan_reply(st, m->from, m->tag,
			      st->exiting ? -ESHUTDOWN : -EINVAL,
			      RA_REF_NULL, NULL, 0, 0);
		return;
	}
	memcpy(&s.wire, m->data, sizeof(s.wire));
	if (ra__sup_plan_push(st, &s) < 0) {
		ra__sup_plan_reply(st, m->from, m->tag, -ENOMEM, RA_REF_NULL,
			      NULL, 0, 0);
		return;
	}
	ra__sup_plan_run(st);
}

static int sup_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct sup_state *st = state;
	bool mine = ra_ref_eq(m->from, ra_self(self));
	uint64_t serial;

	st->self = self;
	if (m->type == RA_MSG_EXIT) {
		on_exit_msg(st, m);
	} else if (m->type == RA_MSG_DOWN) {
		on_down_msg(st, m);
	} else if (m->type == RA_SUP_CALL_TYPE) {
		on_request(st, m);
	} else if (mine && m->type == SUP_MSG_KILL_TIMER &&
		   m->len == sizeof(serial)) {
		memcpy(&serial, m->data, sizeof(serial));
		ra__sup_plan_kill_timer(st, serial);
	} else if (mine && m->type == SUP_MSG_CONTINUE) {
		st->paused = false;
		ra__sup_plan_run(st);
	}
	/* Anything else is not for a supervisor: OTP ignores it too. */
	return 0;
}

static int boot_children(struct sup_state *st, const struct sup_boot *b)
{
	if (st->strategy == RA_SIMPLE_ONE_FOR_ONE) {
		st->tmpl = b->kids[0];
		st->tmpl.id = st->tmpl_id;	/* "": children have no id */
		return 0;
	}
	for (unsigned i = 0; i < b->spec.nchildren; i++) {
		struct sup_child *c = ra__sup_children_add(st, &b->kids[i]);
		struct sup_step s = { .kind = STEP_START, .code = 1 };

		if (!c)
			return -ENOMEM;
		s.serial = c->serial;
		if (ra__sup_plan_push(st, &s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int sup_init(ra_ctx_t *self, void *state, void *arg)
{
	struct sup_state *st = state;
	struct sup_boot *b = arg;
	int ret = 0;

	st->self = self;
	st->strategy = b->spec.strategy;
	st->intensity = b->spec.intensity;
	st->period_ns = (uint64_t)b->spec.period_ms * 1000000u;
	st->on_event = b->spec.on_event;
	st->event_ctx = b->spec.event_ctx;
	st->parent = b->parent;
	st->restart_ns = calloc(st->intensity + 1u, sizeof(*st->restart_ns));
	if (!st->restart_ns)
		ret = -ENOMEM;
	if (ret == 0)
		ret = boot_children(st, b);
	ra__sup_children_boot_free(b);
	if (ret < 0)
		return ret;	/* terminate frees what was made */
	(void)ra_trap_exit(self, true);
	ra__sup_plan_run(st);
	return 0;
}

static void sup_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct sup_state *st = state;

	(void)self;
	(void)reason;
	/* Children still alive get our exit by their links. */
	for (unsigned i = 0; i < st->nkids; i++)
		free(st->kids[i]);
	free(st->kids);
	free(st->steps);
	free(st->restart_ns);
}

const ra_actor_def_t ra__sup_def = {
	.name = "supervisor",
	.state_size = sizeof(struct sup_state),
	.init = sup_init,
	.behavior = sup_behavior,
	.terminate = sup_terminate,
};
