/*
 * examples/kvserver/shard_keys.c: the keyspace actor. One per shard, pinned
 * there by its supervisor (tree.c), registered as "keyspace.<shard>"; it alone touches its keyspace, so the table needs no lock
 * and a key's commands run one after another in arrival order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "keyspace.h"
#include "kv.h"

struct shard_keys {
	struct keyspace *ks;
	struct resp_buf reply;	/* reused for every answer */
	uint64_t bad;		/* requests that got no answer */
};

static int keys_init(ra_ctx_t *self, void *state, void *arg)
{
	struct shard_keys *sk = state;
	char name[RA_NAME_MAX + 1];
	int r;

	(void)arg;
	resp_buf_init(&sk->reply);
	/* By name, for tools and fault injection (main.c, SIGUSR1). */
	snprintf(name, sizeof(name), "keyspace.%u", ra_shard_id(self));
	r = ra_register(self, name);
	return r ? r : ks_create(&sk->ks);
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

static int keys_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct shard_keys *sk = state;
	int r;

	if (msg->type != KV_MSG_REQ)
		return 0;
	sk->reply.len = 0;
	r = kv_exec(sk->ks, msg->data, msg->len, ra_now_ns(), &sk->reply);
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
		return 0;
	}
	answer(self, sk, msg->from);
	return 0;
}

static void keys_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct shard_keys *sk = state;

	ks_destroy(sk->ks);
	resp_buf_fini(&sk->reply);
}

const ra_actor_def_t kv_keyspace_def = {
	.name = "kv-keyspace",
	.state_size = sizeof(struct shard_keys),
	.init = keys_init,
	.behavior = keys_behavior,
	.terminate = keys_terminate,
};
