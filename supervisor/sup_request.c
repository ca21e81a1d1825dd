/*
 * supervisor/sup_request.c: serving a supervisor's dynamic API (OTP
 * start_child, terminate_child, restart_child, delete_child,
 * which_children, count_children), one request at a time as a plan step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sup_children.h"
#include "supervisor/sup_plan.h"
#include "supervisor/sup_request.h"
#include "supervisor/supervisor.h"

static void answer(struct sup_state *st, const struct sup_step *s,
		   int result, ra_ref_t child)
{
	ra__sup_plan_reply(st, s->from, s->aref, result, child, NULL, 0, 0);
}

static bool simple(const struct sup_state *st)
{
	return st->strategy == RA_SIMPLE_ONE_FOR_ONE;
}

static void serve_start(struct sup_state *st, const struct sup_step *s)
{
	ra_child_spec_t spec = s->wire.req.spec;
	struct sup_child *c;
	int ret;

	spec.id = s->wire.spec_id;
	if (simple(st)) {
		spec = st->tmpl;
		spec.arg = s->wire.req.arg;
	} else if (ra__sup_children_spec_check(&spec, true) < 0) {
		answer(st, s, -EINVAL, RA_REF_NULL);
		return;
	} else if (ra__sup_children_by_id(st, spec.id)) {
		answer(st, s, -EEXIST, RA_REF_NULL);	/* OTP already_present */
		return;
	}
	c = ra__sup_children_add(st, &spec);
	if (!c) {
		answer(st, s, -ENOMEM, RA_REF_NULL);
		return;
	}
	ret = ra__sup_plan_start_child(st, c);
	/* A failed start leaves no spec; a simple child that ignored, too. */
	if (ret < 0 || (simple(st) && c->phase != CHILD_RUNNING)) {
		answer(st, s, ret, RA_REF_NULL);
		ra__sup_children_del(st, c);
		return;
	}
	answer(st, s, 0, c->ref);
}

/* The child a TERMINATE/RESTART/DELETE names: by ref or by id. */
static struct sup_child *named(struct sup_state *st, const struct sup_step *s)
{
	return simple(st) ? ra__sup_children_by_ref(st, s->wire.req.child)
			  : ra__sup_children_by_id(st, s->wire.id);
}

static void serve_terminate(struct sup_state *st, const struct sup_step *s)
{
	struct sup_child *c = named(st, s);
	struct sup_step reply = { .kind = STEP_REPLY, .from = s->from,
				  .aref = s->aref };
	struct sup_step stop = { .kind = STEP_TERMINATE };

	if (!c) {
		answer(st, s, -ENOENT, RA_REF_NULL);
		return;
	}
	/* OTP: terminating a simple or temporary child removes it. */
	c->delete_when_down = simple(st) || c->spec.restart == RA_TEMPORARY;
	if (c->phase != CHILD_RUNNING) {
		if (c->delete_when_down && c->phase == CHILD_STOPPED)
			ra__sup_children_del(st, c);
		answer(st, s, 0, RA_REF_NULL);
		return;
	}
	stop.serial = c->serial;
	if (ra__sup_plan_push_front(st, &reply) < 0 ||
	    ra__sup_plan_push_front(st, &stop) < 0)
		answer(st, s, -ENOMEM, RA_REF_NULL);
}

static void serve_restart(struct sup_state *st, const struct sup_step *s)
{
	struct sup_child *c = named(st, s);
	int ret;

	if (simple(st))
		ret = -EOPNOTSUPP;
	else if (!c)
		ret = -ENOENT;
	else if (c->phase != CHILD_STOPPED)
		ret = -EBUSY;	/* OTP: running */
	else
		ret = ra__sup_plan_start_child(st, c);
	answer(st, s, ret, ret == 0 ? c->ref : RA_REF_NULL);
}

static void serve_delete(struct sup_state *st, const struct sup_step *s)
{
	struct sup_child *c = named(st, s);
	int ret = 0;

	if (simple(st))
		ret = -EOPNOTSUPP;
	else if (!c)
		ret = -ENOENT;
	else if (c->phase != CHILD_STOPPED)
		ret = -EBUSY;
	else
		ra__sup_children_del(st, c);
	answer(st, s, ret, RA_REF_NULL);
}

static void serve_which(struct sup_state *st, const struct sup_step *s)
{
	ra_child_info_t *v = calloc(st->nkids ? st->nkids : 1, sizeof(*v));

	if (!v) {
		answer(st, s, -ENOMEM, RA_REF_NULL);
		return;
	}
	for (unsigned i = 0; i < st->nkids; i++) {
		const struct sup_child *c = st->kids[i];

		memcpy(v[i].id, c->id, sizeof(v[i].id));
		v[i].ref = c->phase == CHILD_RUNNING ? c->ref : RA_REF_NULL;
		v[i].type = c->spec.type;
		v[i].restart = c->spec.restart;
	}
	ra__sup_plan_reply(st, s->from, s->aref, 0, RA_REF_NULL, v,
		      st->nkids * sizeof(*v), st->nkids);
	free(v);
}

static void serve_count(struct sup_state *st, const struct sup_step *s)
{
	ra_child_counts_t n = { .specs = st->nkids };

	for (unsigned i = 0; i < st->nkids; i++) {
		const struct sup_child *c = st->kids[i];

		n.active += c->phase == CHILD_RUNNING;
		if (c->spec.type == RA_SUPERVISOR)
			n.supervisors++;
		else
			n.workers++;
	}
	ra__sup_plan_reply(st, s->from, s->aref, 0, RA_REF_NULL, &n, sizeof(n), 1);
}

typedef void (*serve_fn)(struct sup_state *, const struct sup_step *);

static const serve_fn serve[] = {
	[RA_SUP_START_CHILD] = serve_start,
	[RA_SUP_TERMINATE_CHILD] = serve_terminate,
	[RA_SUP_RESTART_CHILD] = serve_restart,
	[RA_SUP_DELETE_CHILD] = serve_delete,
	[RA_SUP_WHICH_CHILDREN] = serve_which,
	[RA_SUP_COUNT_CHILDREN] = serve_count,
};

void ra__sup_request_serve(struct sup_state *st, const struct sup_step *s)
{
	unsigned op = (unsigned)s->wire.req.op;

	if (op < sizeof(serve) / sizeof(serve[0]) && serve[op])
		serve[op](st, s);
	else
		answer(st, s, -EINVAL, RA_REF_NULL);
}
