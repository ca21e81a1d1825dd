/*
 * examples/kvserver/acceptor.c: the acceptor actor. One accept is always
 * in flight; each completion offers the new socket in the server's
 * hand-off table (handoff.c), asks the conns supervisor for a conn actor
 * to claim it (an ask: the answer comes back as a message) and arms the
 * next accept. When the answer is a refusal or does not come in time,
 * the acceptor withdraws the offer: either that works and it closes the
 * socket, or a conn claimed it already and owns it.
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
 * A socket offered in the hand-off table whose conn actor the conns
 * supervisor has been asked for, not answered yet.
 */
struct pending {
	uint64_t aref;
	struct kv_handoff *slot;
	int fd;			/* to close if we withdraw the offer */
};

/*
 * Take the socket back unless a conn claimed it first. true: it was
 * ours, and is closed now.
 */
static bool withdraw(struct pending *p)
{
	if (!kv_handoff_withdraw(p->slot))
		return false;
	close(p->fd);
	return true;
}

/* Room for one more pending ask, or -ENOMEM. */
static int reserve_pending(struct acceptor *a)
{
	size_t cap = a->pending_cap ? a->pending_cap * 2 : 16;
	struct pending *p;

	if (a->npending < a->pending_cap)
		return 0;
	p = realloc(a->pending, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->pending = p;
	a->pending_cap = cap;
	return 0;
}

/*
 * Offer `fd` and ask the conns supervisor (simple_one_for_one) for a conn
 * actor to claim it. It places conns round robin: each conn sends most
 * of its keys to other shards' keyspace actors anyway (a key's owner
 * depends on the key, not on who asks), so there is no better home.
 */
static void start_conn(ra_ctx_t *self, struct acceptor *a, int fd)
{
	ra_sup_request_t req = { .op = RA_SUP_START_CHILD };
	struct pending *p;
	int r = reserve_pending(a);

	/* INFO's total_connections_received counts every accept. */
	atomic_fetch_add(&a->srv->total_connections, 1);
	if (r) {
		note_error(a, "cannot start a connection", r);
		close(fd);
		return;
	}
	p = &a->pending[a->npending];
	p->fd = fd;
	p->slot = kv_handoff_offer(a->srv, fd);
	if (!p->slot) {
		note_error(a, "too many connections starting at once",
			   -ENOBUFS);
		close(fd);
		return;
	}
	req.arg = p->slot;
	r = ra_sup_call(self, a->srv->conn_sup, &req, KV_START_TIMEOUT_NS,
			&p->aref);
	if (r) {
		note_error(a, "cannot start a connection", r);
		withdraw(p);	/* nobody was asked: it is ours */
		return;
	}
	a->npending++;
}

/* The supervisor answered (or not in time) the ask `aref`. */
static int on_answer(struct acceptor *a, const ra_msg_t *msg)
{
	const ra_sup_reply_t *h = msg->data;
	struct pending *p;
	size_t i = 0;
	int err = 0;

	while (i < a->npending && a->pending[i].aref != msg->tag)
		i++;
	if (i == a->npending)
		return 0;
	p = &a->pending[i];
	if (msg->type == RA_MSG_TIMEOUT)
		err = -ETIMEDOUT;
	else if (msg->len < sizeof(*h))
		err = -EPROTO;
	else if (h->result < 0)
		err = h->result;
	/*
	 * Success: the conn is spawned and claims the socket in its init.
	 * Otherwise take it back; after a timeout a conn may have claimed
	 * it meanwhile, and then it is served after all.
	 */
	if (err == 0 || !withdraw(p))
		a->accepted++;
	else
		note_error(a, "no connection actor, socket closed", err);
	*p = a->pending[--a->npending];
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
 * Sockets still waiting for an answer: take back those no conn has
 * claimed (the request may have died with the conns supervisor); a conn
 * that starts later finds its slot empty and stops.
 */
static void acceptor_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct acceptor *a = state;
	size_t i;

	(void)self;
	(void)reason;
	for (i = 0; i < a->npending; i++)
		withdraw(&a->pending[i]);
	free(a->pending);
}

const ra_actor_def_t kv_acceptor_def = {
	.name = "kv-acceptor",
	.state_size = sizeof(struct acceptor),
	.init = acceptor_init,
	.behavior = acceptor_behavior,
	.terminate = acceptor_terminate,
};
