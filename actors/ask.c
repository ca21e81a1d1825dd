/*
 * actors/ask.c: ask and reply (ra_ask, ra_reply) and the blocking
 * ra_runtime_ask for non-shard threads.
 *
 * An ask is an RA_TIMER_ASK record in the asker's timer set
 * (actors/timers.h): its reference is the aref, its heap node the
 * timeout. The request is an ordinary user message flagged
 * RA_ENV_TAGGED with the aref in e->tag (msg->tag for the receiver), so
 * plain sends pay nothing for asks. The reply (RA_ENV_REPLY) and the
 * timeout (RA_ENV_TIMEOUT) both carry the aref and are delivered only
 * while the aref is still in the set; the first one delivered removes
 * it, so the other is dropped, and a reply that finds no open ask is
 * counted in late_replies (ra__timers_receive()).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/send.h"
#include "actors/slot.h"
#include "actors/timers.h"
#include "shard/clock.h"
#include "shard/runtime.h"

RA_API int ra_ask(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		  const void *data, size_t len, uint64_t timeout_ns,
		  uint64_t *aref_out)
{
	ra_timer_t *t;
	int ret;

	if (!aref_out || !timeout_ns)
		return -EINVAL;
	ret = ra__timers_precheck(self, type, data, len);
	if (ret < 0)
		return ret;
	t = ra__timers_new(self, RA_TIMER_ASK, to, 0, NULL, 0);
	if (!t)
		return -ENOMEM;
	/*
	 * Open the ask before sending: once the request is out, the reply
	 * must find it open, and arming (which may fail) comes first.
	 */
	ret = ra__timers_arm(self->shard, t,
			    ra__timers_deadline_after(ra__clock_now_ns(), timeout_ns));
	if (ret < 0) {
		free(t);
		return ret;
	}
	ret = ra__send_tagged(self->shard, self->ref, to, RA_ENV_USER, type,
			      t->id, data, len);
	if (ret < 0) {
		ra__timers_forget(self->shard, t);
		return ret;
	}
	*aref_out = t->id;
	return 0;
}

RA_API int ra_reply(ra_ctx_t *self, const ra_msg_t *request,
		    const void *data, size_t len)
{
	int ret;

	if (!self || !request || !request->tag ||
	    ra_ref_is_null(request->from) ||
	    request->type > RA_MSG_USER_MAX)
		return -EINVAL;
	ret = ra__send_check_payload(0, data, len);
	if (ret < 0)
		return ret;
	return ra__send_tagged(self->shard, self->ref, request->from,
			       RA_ENV_REPLY, RA_MSG_REPLY, request->tag,
			       data, len);
}

/* ---- ra_runtime_ask: a proxy actor asks, a condvar hands back ---- */

/*
 * What the calling thread and its proxy actor share. Two references (the
 * caller's and the proxy's), counted under `lock`; whoever drops the last
 * frees it, so a proxy that gets its reply after the caller gave up
 * writes into live memory, and the caller never waits for the proxy.
 */
struct ask_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* `done` became true */
	int refs;			/* caller + proxy */
	bool done;			/* result, reply and reply_len set */
	int result;			/* 0 or -errno */
	void *reply;			/* malloc'd payload, until taken */
	size_t reply_len;
	/* The request, copied at the call: the proxy may start late. */
	ra_ref_t to;
	uint32_t type;
	size_t len;
	uint64_t timeout_ns;
	unsigned char data[];
};

static void waiter_put(struct ask_waiter *w)
{
	bool last;

	pthread_mutex_lock(&w->lock);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (!last)
		return;
	free(w->reply);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* The first result wins; `reply` is the waiter's from here on. */
static void waiter_complete(struct ask_waiter *w, int result, void *reply,
			    size_t len)
{
	pthread_mutex_lock(&w->lock);
	if (w->done) {
		pthread_mutex_unlock(&w->lock);
		free(reply);
		return;
	}
	w->done = true;
	w->result = result;
	w->reply = reply;
	w->reply_len = len;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static struct ask_waiter *waiter_new(ra_ref_t to, uint32_t type,
				     const void *data, size_t len,
				     uint64_t timeout_ns)
{
	struct ask_waiter *w = calloc(1, sizeof(*w) + len);
	pthread_condattr_t ca;

	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	w->refs = 2;
	w->to = to;
	w->type = type;
	w->len = len;
	w->timeout_ns = timeout_ns;
	if (len)
		memcpy(w->data, data, len);
	return w;
}

struct proxy {
	struct ask_waiter *w;
	uint64_t aref;
};

static int proxy_init(ra_ctx_t *self, void *state, void *arg)
{
	struct proxy *p = state;
	struct ask_waiter *w = arg;
	int ret;

	p->w = w;
	ret = ra_ask(self, w->to, w->type, w->len ? w->data : NULL, w->len,
		     w->timeout_ns, &p->aref);
	if (ret < 0) {
		waiter_complete(w, ret, NULL, 0);
		ra_stop(self, RA_EXIT_NORMAL);
	}
	return 0;
}

static int proxy_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct proxy *p = state;
	void *buf = NULL;
	int res = 0;

	/* Only our own ask's answer: the proxy's ref is not published. */
	if (m->tag != p->aref ||
	    (m->type != RA_MSG_REPLY && m->type != RA_MSG_TIMEOUT))
		return 0;
	if (m->type == RA_MSG_TIMEOUT) {
		res = -ETIMEDOUT;
	} else if (m->len) {
		buf = ra_msg_claim(self, m);
		if (!buf)
			res = -ENOMEM;
	}
	waiter_complete(p->w, res, buf, res ? 0 : m->len);
	ra_stop(self, RA_EXIT_NORMAL);
	return 0;
}

static void proxy_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct proxy *p = state;

	(void)self;
	(void)reason;
	/* Stopped before an answer: the runtime is being destroyed. */
	waiter_complete(p->w, -ESHUTDOWN, NULL, 0);
	waiter_put(p->w);
}

static const ra_actor_def_t proxy_def = {
	.name = "ra_runtime_ask",
	.state_size = sizeof(struct proxy),
	.init = proxy_init,
	.behavior = proxy_behavior,
	.terminate = proxy_terminate,
};

/* Wait until the proxy is done or `deadline` passes; the result. */
static int waiter_wait(struct ask_waiter *w, uint64_t deadline,
		       void **reply_out, size_t *reply_len)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / 1000000000u),
		.tv_nsec = (long)(deadline % 1000000000u),
	};
	int ret;

	pthread_mutex_lock(&w->lock);
	while (!w->done && ra__clock_now_ns() < deadline)
		(void)pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	ret = w->done ? w->result : -ETIMEDOUT;
	if (ret == 0) {
		if (reply_out) {
			*reply_out = w->reply;
			w->reply = NULL;	/* the caller's now */
		}
		if (reply_len)
			*reply_len = w->reply_len;
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

RA_API int ra_runtime_ask(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			  const void *data, size_t len, uint64_t timeout_ns,
			  void **reply_out, size_t *reply_len)
{
	ra_spawn_opts_t opts = { .placement = RA_PLACE_SHARD };
	struct ask_waiter *w;
	uint64_t deadline, word;
	int ret;

	if (!rt || !timeout_ns)
		return -EINVAL;
	if (ra__shard_tls)
		return -EDEADLK;
	ret = ra__send_check_payload(type, data, len);
	if (ret < 0)
		return ret;
	/* The proxy lives where `to` does: its ask stays on one shard. */
	if (!ra__slot_lookup_any(rt->slots, to, &word)) {
		ra__runtime_dead_letter(rt);
		return -ESRCH;
	}
	opts.shard = ra__slot_word_home(word);
	w = waiter_new(to, type, data, len, timeout_ns);
	if (!w)
		return -ENOMEM;
	deadline = ra__timers_deadline_after(ra__clock_now_ns(), timeout_ns);
	ret = ra_runtime_spawn(rt, &proxy_def, w, &opts, NULL);
	if (ret < 0) {
		w->refs = 1;	/* no proxy: ours alone */
		waiter_put(w);
		return ret;
	}
	ret = waiter_wait(w, deadline, reply_out, reply_len);
	waiter_put(w);
	return ret;
}
