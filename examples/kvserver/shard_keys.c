/*
 * examples/kvserver/shard_keys.c: the keyspace actor. One per shard,
 * pinned there by its supervisor (tree.c), registered as
 * "keyspace.<shard>"; it alone touches its store (store.c), so the
 * tables need no lock and a key's commands run one after another in
 * arrival order.
 *
 * Active expiry runs on the runtime's timers: every 100 ms (Redis' hz
 * 10) a tick samples keys that have an expiry time and removes the
 * expired ones (kv_store_expire_cycle). A tick may spend up to 25 ms
 * (Redis' 25% of the period), but in slices of 1 ms, each a message to
 * itself that queues behind the sub-requests already waiting, so a mass
 * expiry never holds the shard's other actors up for long. When many
 * keys have gone since the last time, the heap is trimmed so that the
 * memory goes back to the system, not just to malloc's free lists.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "keyspace.h"
#include "kv.h"
#include "store.h"

#define TICK_NS		100000000ull	/* 100 ms */
#define BUDGET_NS	25000000ull	/* expiry time per tick */
#define SLICE_NS	1000000ull	/* expiry time per message */
#define TRIM_KEYS	1024		/* keys gone: malloc_trim() */

struct shard_keys {
	struct kv_store *st;
	struct resp_buf reply;	/* reused for every answer */
	uint64_t bad;		/* requests that got no answer */
	uint64_t budget_ns;	/* expiry time left in this tick */
	bool more_queued;	/* a KV_MSG_EXPIRE_MORE is on its way */
	size_t peak_keys;	/* most keys held since the last trim */
};

/* Unix time in ms, the clock Redis keeps expiry times on. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int keys_init(ra_ctx_t *self, void *state, void *arg)
{
	struct kv_server *srv = arg;
	struct shard_keys *sk = state;
	char name[RA_NAME_MAX + 1];
	int r;

	resp_buf_init(&sk->reply);
	/* By name, for tools and fault injection (main.c, SIGUSR1). */
	snprintf(name, sizeof(name), "keyspace.%u", ra_shard_id(self));
	r = ra_register(self, name);
	if (r == 0)
		r = kv_store_create(srv->cfg, &sk->st);
	if (r == 0)
		r = ra_send_interval(self, ra_self(self), TICK_NS,
				     KV_MSG_EXPIRE, NULL, 0, NULL);
	return r;
}

/*
 * Answer a small reply with ra_send(): it travels inside the envelope
 * (up to RA_INLINE_PAYLOAD bytes) with no malloc at all. A larger one
 * (a long value from GET or MGET) goes with ra_send_buf(): the reply
 * was built in a malloc'd buffer anyway, so handing that buffer over
 * saves ra_send()'s second malloc and copy.
 */
static void answer(ra_ctx_t *self, struct shard_keys *sk, ra_ref_t to)
{
	char *buf;
	size_t len;

	if (sk->reply.len <= RA_INLINE_PAYLOAD) {
		/* -ESRCH: the client left; the runtime counts a dead letter. */
		ra_send(self, to, KV_MSG_REPLY, sk->reply.data, sk->reply.len);
		return;
	}
	buf = resp_buf_detach(&sk->reply, &len);
	if (ra_send_buf(self, to, KV_MSG_REPLY, buf, len))
		free(buf);
}

static void on_request(ra_ctx_t *self, struct shard_keys *sk,
		       const ra_msg_t *msg)
{
	size_t keys;
	int r;

	sk->reply.len = 0;
	r = kv_store_exec(sk->st, msg->data, msg->len, now_ms(), &sk->reply);
	if (r) {
		/*
		 * No reply can be built (a malformed request, which only a
		 * bug in our own conn actor could send, or no memory): the
		 * conn would wait for it forever, so stop it instead of
		 * leaving its client hanging.
		 */
		if (sk->bad++ == 0)
			fprintf(stderr, "kvserver: shard %u: cannot answer "
				"a sub-request: %s\n", ra_shard_id(self),
				ra_strerror(r));
		ra_stop_other(self, msg->from);
		return;
	}
	answer(self, sk, msg->from);
	keys = kv_store_keys(sk->st);
	if (keys > sk->peak_keys)
		sk->peak_keys = keys;
}

/* Many keys gone (expired, deleted, flushed): give the pages back. */
static void maybe_trim(struct shard_keys *sk)
{
	size_t keys = kv_store_keys(sk->st);

	if (sk->peak_keys >= keys + TRIM_KEYS) {
		malloc_trim(0);
		sk->peak_keys = keys;
	}
}

static void expire_slice(ra_ctx_t *self, struct shard_keys *sk)
{
	uint64_t start = ra_now_ns(), slice, removed;
	bool more;

	slice = sk->budget_ns < SLICE_NS ? sk->budget_ns : SLICE_NS;
	more = kv_store_expire_cycle(sk->st, now_ms(), start + slice,
				     ra_now_ns, &removed);
	slice = ra_now_ns() - start;
	sk->budget_ns = slice < sk->budget_ns ? sk->budget_ns - slice : 0;
	if (more && sk->budget_ns > 0 && !sk->more_queued &&
	    ra_send(self, ra_self(self), KV_MSG_EXPIRE_MORE, NULL, 0) == 0) {
		sk->more_queued = true;
		return;
	}
	if (!more)
		maybe_trim(sk);
}

static int keys_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct shard_keys *sk = state;

	switch (msg->type) {
	case KV_MSG_REQ:
		on_request(self, sk, msg);
		break;
	case KV_MSG_EXPIRE:
		sk->budget_ns = BUDGET_NS;
		if (!sk->more_queued)
			expire_slice(self, sk);
		break;
	case KV_MSG_EXPIRE_MORE:
		sk->more_queued = false;
		if (sk->budget_ns > 0)
			expire_slice(self, sk);
		break;
	default:
		break;
	}
	return 0;
}

static void keys_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct shard_keys *sk = state;

	(void)self;
	(void)reason;
	kv_store_destroy(sk->st);
	resp_buf_fini(&sk->reply);
}

const ra_actor_def_t kv_keyspace_def = {
	.name = "kv-keyspace",
	.state_size = sizeof(struct shard_keys),
	.init = keys_init,
	.behavior = keys_behavior,
	.terminate = keys_terminate,
};
