/*
 * supervisor/sup_plan.c: a supervisor's plan (see supervisor.h) and its
 * steps, including OTP's shutdown protocol for one child:
 *
 *   unlink the child (its EXIT, even one in flight, is dropped: links.c
 *   guarantees it), monitor it, send exit(Child, shutdown) and arm a
 *   timer of its shutdown_ms; when the timer fires first, send
 *   exit(Child, kill). The DOWN ends the wait. brutal_kill sends kill at
 *   once; infinity arms no timer. A child already dead answers the
 *   monitor with DOWN noproc, so the wait always ends.
 *
 * Static supervisors stop children one at a time, in reverse start
 * order; simple_one_for_one stops all its children at once (OTP: "in
 * no particular order").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sup_children.h"
#include "supervisor/sup_plan.h"
#include "supervisor/sup_request.h"
#include "supervisor/supervisor.h"

static int grow_steps(struct sup_state *st)
{
	unsigned ncap;
	void *p;

	if (st->head > 0 && st->head == st->tail)
		st->head = st->tail = 0;
	if (st->tail < st->steps_cap)
		return 0;
	if (st->head > 0) {	/* slide the live steps to the front */
		memmove(st->steps, st->steps + st->head,
			(st->tail - st->head) * sizeof(*st->steps));
		st->tail -= st->head;
		st->head = 0;
		return 0;
	}
	ncap = st->steps_cap ? st->steps_cap * 2 : 8;
	p = realloc(st->steps, ncap * sizeof(*st->steps));
	if (!p)
		return -ENOMEM;
	st->steps = p;
	st->steps_cap = ncap;
	return 0;
}

int ra__sup_plan_push(struct sup_state *st, const struct sup_step *s)
{
	if (grow_steps(st) < 0)
		return -ENOMEM;
	st->steps[st->tail++] = *s;
	return 0;
}

int ra__sup_plan_push_front(struct sup_state *st, const struct sup_step *s)
{
	if (st->head == 0) {
		if (grow_steps(st) < 0)
			return -ENOMEM;
		memmove(st->steps + 1, st->steps,
			(st->tail - st->head) * sizeof(*st->steps));
		st->tail++;
		st->head++;
	}
	st->steps[--st->head] = *s;
	return 0;
}

void ra__sup_plan_report(struct sup_state *st, enum ra_sup_event_kind kind,
		    const struct sup_child *c, ra_ref_t child, int code,
		    const char *why)
{
	ra_sup_event_t ev = {
		.kind = kind,
		.sup = ra_self(st->self),
		.id = c ? c->id : "",
		.child = child,
		.code = code,
		.why = why ? why : "",
		.restarts = ra__sup_restarts_in_period(st),
	};

	if (st->on_event)
		st->on_event(&ev, st->event_ctx);
}

void ra__sup_plan_reply(struct sup_state *st, ra_ref_t to, uint64_t aref,
		   int result, ra_ref_t child, const void *extra,
		   size_t extra_len, unsigned n)
{
	ra_sup_reply_t h = { .result = result, .n = n, .child = child };
	ra_msg_t req = { .type = RA_SUP_CALL_TYPE, .from = to, .tag = aref };
	unsigned char *buf = malloc(sizeof(h) + extra_len);

	if (!buf) {	/* the answer still goes, without its list */
		h.result = result < 0 ? result : -ENOMEM;
		h.n = 0;
		(void)ra_reply(st->self, &req, &h, sizeof(h));
		return;
	}
	memcpy(buf, &h, sizeof(h));
	if (extra_len)
		memcpy(buf + sizeof(h), extra, extra_len);
	/* An asker that gave up or died: nothing to do (counted there). */
	(void)ra_reply(st->self, &req, buf, sizeof(h) + extra_len);
	free(buf);
}

static uint32_t shutdown_ms(const struct sup_child *c)
{
	if (c->spec.shutdown_ms)
		return c->spec.shutdown_ms;
	return c->spec.type == RA_SUPERVISOR ? RA_SHUTDOWN_INFINITY
					     : RA_SHUTDOWN_DEFAULT_MS;
}

/* `c` has stopped at our request: report it, drop it if it goes. */
static void forget_child(struct sup_state *st, struct sup_child *c, int code,
			 const char *why)
{
	ra_ref_t was = c->ref;

	c->kill_tref = 0;
	c->mref = 0;
	c->ref = RA_REF_NULL;
	c->phase = CHILD_STOPPED;
	ra__sup_plan_report(st, RA_SUP_CHILD_TERMINATED, c, was, code, why);
	if (c->delete_when_down || c->spec.restart == RA_TEMPORARY)
		ra__sup_children_del(st, c);
}

/* Send the exit signal and arm the timer; the DOWN comes later. */
static void begin_terminate(struct sup_state *st, struct sup_child *c)
{
	uint32_t ms = shutdown_ms(c);
	ra_ctx_t *self = st->self;

	(void)ra_unlink(self, c->ref);
	c->phase = CHILD_TERMINATING;
	c->kill_tref = 0;
	if (ra_monitor(self, c->ref, &c->mref) < 0) {
		/* No DOWN will tell us: kill it and count it gone now. */
		(void)ra_exit_other(self, c->ref, RA_EXIT_KILL, NULL);
		forget_child(st, c, RA_EXIT_KILLED, "no memory for a monitor");
		return;
	}
	st->waiting++;
	if (ms == RA_SHUTDOWN_BRUTAL_KILL) {
		(void)ra_exit_other(self, c->ref, RA_EXIT_KILL, NULL);
		return;
	}
	(void)ra_exit_other(self, c->ref, RA_EXIT_SHUTDOWN, NULL);
	if (ms != RA_SHUTDOWN_INFINITY &&
	    ra_send_after(self, ra_self(self), (uint64_t)ms * 1000000u,
			  SUP_MSG_KILL_TIMER, &c->serial, sizeof(c->serial),
			  &c->kill_tref) < 0)
		(void)ra_exit_other(self, c->ref, RA_EXIT_KILL, NULL);
}

void ra__sup_plan_child_down(struct sup_state *st, struct sup_child *c, int code,
			const char *why)
{
	if (c->kill_tref)
		(void)ra_cancel_timer(st->self, c->kill_tref);
	forget_child(st, c, code, why);
	if (st->waiting && --st->waiting == 0)
		ra__sup_plan_run(st);
}

void ra__sup_plan_kill_timer(struct sup_state *st, uint64_t serial)
{
	struct sup_child *c = ra__sup_children_by_serial(st, serial);

	if (!c || c->phase != CHILD_TERMINATING || !c->kill_tref)
		return;	/* its DOWN won the race: the timer was stale */
	c->kill_tref = 0;
	ra__sup_plan_report(st, RA_SUP_CHILD_KILLED, c, c->ref, RA_EXIT_KILLED,
		       "shutdown timeout");
	(void)ra_exit_other(st->self, c->ref, RA_EXIT_KILL, NULL);
}

/* TERMINATE of all: one at a time in reverse order, or all at once. */
static void terminate_all(struct sup_state *st)
{
	struct sup_step s = { .kind = STEP_TERMINATE };

	if (st->strategy == RA_SIMPLE_ONE_FOR_ONE) {
		for (unsigned i = st->nkids; i-- > 0;)
			if (st->kids[i]->phase == CHILD_RUNNING) {
				st->kids[i]->delete_when_down = true;
				begin_terminate(st, st->kids[i]);
			}
		return;
	}
	/* Pushed to the front one by one: the first child ends up last. */
	for (unsigned i = 0; i < st->nkids; i++) {
		if (st->kids[i]->phase != CHILD_RUNNING)
			continue;
		s.serial = st->kids[i]->serial;
		if (ra__sup_plan_push_front(st, &s) < 0)
			begin_terminate(st, st->kids[i]); /* no room: now */
	}
}

int ra__sup_plan_start_child(struct sup_state *st, struct sup_child *c)
{
	ra_spawn_opts_t o = c->spec.opts;
	ra_ref_t ref = RA_REF_NULL;
	int ret;

	if (c->spec.start) {
		ret = c->spec.start(st->self, &c->spec, &ref);
	} else {
		o.flags |= RA_SPAWN_LINK;
		ret = ra_spawn(st->self, c->spec.def, c->spec.arg, &o, &ref);
	}
	if (ret < 0) {
		ra__sup_plan_report(st, RA_SUP_START_FAILED, c, RA_REF_NULL, ret,
			       NULL);
		return ret;
	}
	c->ref = ref;
	c->phase = ra_ref_is_null(ref) ? CHILD_STOPPED : CHILD_RUNNING;
	if (!ra_ref_is_null(ref))
		ra__sup_plan_report(st, RA_SUP_CHILD_STARTED, c, ref, 0, NULL);
	return 0;
}

static void pause_plan(struct sup_state *st)
{
	st->paused = true;
	if (ra_send(st->self, ra_self(st->self), SUP_MSG_CONTINUE, NULL, 0) < 0)
		st->paused = false;	/* cannot yield: go on at once */
}

/*
 * A (re)start. At boot a failure stops the supervisor (OTP: the start
 * fails with the child's reason); on a restart it counts as one more
 * restart and is tried again after a yield, until the intensity gives.
 */
static void step_start(struct sup_state *st, const struct sup_step *s)
{
	struct sup_child *c = ra__sup_children_by_serial(st, s->serial);
	int ret;

	if (!c || c->phase != CHILD_STOPPED)
		return;
	ret = ra__sup_plan_start_child(st, c);
	if (ret == 0)
		return;
	if (s->code == 1) {
		ra__sup_plan_give_up(st, ret, "failed_to_start_child");
	} else if (!ra__sup_restart_allowed(st)) {
		ra__sup_plan_report(st, RA_SUP_INTENSITY_EXCEEDED, c, RA_REF_NULL,
			       ret, "restart failed");
		ra__sup_plan_give_up(st, RA_EXIT_SHUTDOWN,
				"reached_max_restart_intensity");
	} else if (ra__sup_plan_push(st, s) == 0) {
		pause_plan(st);
	}
}

static void step_terminate(struct sup_state *st, const struct sup_step *s)
{
	struct sup_child *c;

	if (s->serial == 0) {
		terminate_all(st);
		return;
	}
	c = ra__sup_children_by_serial(st, s->serial);
	if (c && c->phase == CHILD_RUNNING)
		begin_terminate(st, c);
}

static void step_exit(struct sup_state *st, const struct sup_step *s)
{
	st->head = st->tail = 0;
	ra_exit(st->self, s->code, s->why);
}

static void run_step(struct sup_state *st, const struct sup_step *s)
{
	switch (s->kind) {
	case STEP_START:
		step_start(st, s);
		break;
	case STEP_TERMINATE:
		step_terminate(st, s);
		break;
	case STEP_REQUEST:
		ra__sup_request_serve(st, s);
		break;
	case STEP_REPLY:
		ra__sup_plan_reply(st, s->from, s->aref, s->code, RA_REF_NULL,
			      NULL, 0, 0);
		break;
	case STEP_EXIT:
		step_exit(st, s);
		break;
	}
}

void ra__sup_plan_run(struct sup_state *st)
{
	while (!st->waiting && !st->paused && st->head < st->tail) {
		/* A copy: the step may push others and move the array. */
		struct sup_step s = st->steps[st->head++];

		run_step(st, &s);
	}
}

void ra__sup_plan_give_up(struct sup_state *st, int code, const char *why)
{
	struct sup_step s = { .kind = STEP_EXIT, .code = code };
	unsigned out = st->head;

	if (st->exiting)
		return;
	st->exiting = true;
	for (unsigned i = st->head; i < st->tail; i++) {
		struct sup_step *q = &st->steps[i];

		if (q->kind == STEP_REQUEST)
			ra__sup_plan_reply(st, q->from, q->aref, -ESHUTDOWN,
				      RA_REF_NULL, NULL, 0, 0);
		else if (q->kind != STEP_START)
			st->steps[out++] = *q;
	}
	st->tail = out;
	strncpy(s.why, why ? why : "", sizeof(s.why) - 1);
	(void)ra__sup_plan_push(st, &(struct sup_step){
		.kind = STEP_TERMINATE });
	/* Without room for the EXIT, exit now: links stop the children. */
	if (ra__sup_plan_push(st, &s) < 0)
		ra_exit(st->self, code, why);
}
