/*
 * examples/kvserver/acceptor.c: the acceptor actor. One accept is always
 * in flight; each completion asks the conns supervisor for a conn actor
 * for the new socket (an ask: the answer comes back as a message) and
 * arms the next accept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kv.h"

#define TAG_ACCEPT 1

/* How long the conns supervisor may take to start a conn. */
#define KV_START_TIMEOUT_NS 5000000000ull

struct acceptor {
	struct kv_server *srv;
	uint64_t accepted;
	uint64_t errors;	/* failed accepts and spawns */
	struct pending *pending; /* asks not answered yet */
	size_t npending, pending_cap;
};

static int arm(ra_ctx_t *self, struct acceptor *a)
{
	int r = ra_io_accept(self, a->srv->listen_fd, TAG_ACCEPT);

	/* -ESHUTDOWN: we are stopping, which is no news. */
	if (r && r != -ESHUTDOWN)
		fprintf(stderr, "kvserver: cannot accept: %s; no new clients\n",
			ra_strerror(r));
	return r;
}

/*
 * Log the first failure and then every 1000th: under EMFILE an
 * accept fails once per loop, and a line each time would flood stderr.
 */
static void note_error(struct acceptor *a, const char *what, int err)
{
	if (a->errors++ % 1000 == 0)
		fprintf(stderr, "kvserver: %s: %s (%llu so far)\n", what,
			ra_strerror(err), (unsigned long long)a->errors);
}

/*
 * A socket whose conn actor the conns supervisor has been asked for: the
 * socket stays ours until the answer says a conn took it.
 */
struct pending {
	uint64_t aref;
	struct kv_conn_arg *arg;
};

static void drop_conn_arg(struct kv_conn_arg *arg)
{
	close(arg->fd);
	free(arg);
}

/*
 * Ask the conns supervisor (simple_one_for_one) for a conn actor for
 * `fd`. It places conns round robin: each conn sends most of its keys to
 * other shards' keyspace actors anyway (a key's owner depends on the key,
 * not on who asks), so there is no better home.
 */
static void start_conn(ra_ctx_t *self, struct acceptor *a, int fd)
{
	ra_sup_request_t req = { .op = RA_SUP_START_CHILD };
	struct kv_conn_arg *arg = malloc(sizeof(*arg));
	struct pending *p;
	int r = -ENOMEM;

	if (arg && a->npending == a->pending_cap) {
		size_t cap = a->pending_cap ? a->pending_cap * 2 : 16;

		p = realloc(a->pending, cap * sizeof(*p));
		if (p) {
			a->pending = p;
			a->pending_cap = cap;
		}
	}
	if (arg && a->npending < a->pending_cap) {
		arg->srv = a->srv;
		arg->fd = fd;
		req.arg = arg;
		r = ra_sup_call(self, a->srv->conn_sup, &req, KV_START_TIMEOUT_NS,
				&a->pending[a->npending].aref);
	}
	if (r) {
		note_error(a, "cannot start a connection", r);
		free(arg);
		close(fd);
		return;
	}
	a->pending[a->npending++].arg = arg;
}

/* The supervisor answered (or not in time) the ask `aref`. */
static int on_answer(struct acceptor *a, const ra_msg_t *msg)
{
	const ra_sup_reply_t *h = msg->data;
	size_t i = 0;

	while (i < a->npending && a->pending[i].aref != msg->tag)
		i++;
	if (i == a->npending)
		return 0;
	if (msg->type == RA_MSG_TIMEOUT) {
		/*
		 * We cannot know whether a conn took the socket: let it
		 * crash, and the supervisor starts a fresh acceptor.
		 */
		return -ETIMEDOUT;
	}
	if (msg->len < sizeof(*h) || h->result < 0) {
		note_error(a, "the conns supervisor refused a connection",
			   msg->len < sizeof(*h) ? -EPROTO : h->result);
		drop_conn_arg(a->pending[i].arg);
	} else {
		a->accepted++;
	}
	a->pending[i] = a->pending[--a->npending];
	return 0;
}

static int acceptor_init(ra_ctx_t *self, void *state, void *arg)
{
	struct acceptor *a = state;

	a->srv = arg;
	return arm(self, a);
}

static int acceptor_behavior(ra_ctx_t *self, void *state,
			     const ra_msg_t *msg)
{
	struct acceptor *a = state;

	if (msg->type == RA_MSG_REPLY || msg->type == RA_MSG_TIMEOUT)
		return on_answer(a, msg);
	if (msg->type != RA_MSG_IO || msg->tag != TAG_ACCEPT)
		return 0;
	if (msg->res >= 0)
		start_conn(self, a, msg->res);
	else if (msg->res == -ECANCELED)
		return 0;	/* we are being stopped: do not re-arm */
	else
		note_error(a, "accept failed", msg->res);
	/* EMFILE, ECONNABORTED and the like pass: keep accepting. */
	return arm(self, a);
}

/*
 * Sockets still waiting for an answer may be owned by a conn by now, or
 * not (the request died with the supervisor); we cannot tell, so we
 * leave them: this happens only when the acceptor or the conns
 * supervisor fails.
 */
static void acceptor_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct acceptor *a = state;

	(void)self;
	(void)reason;
	free(a->pending);
}

const ra_actor_def_t kv_acceptor_def = {
	.name = "kv-acceptor",
	.state_size = sizeof(struct acceptor),
	.init = acceptor_init,
	.behavior = acceptor_behavior,
	.terminate = acceptor_terminate,
};
