/*
 * examples/kvserver/acceptor.c: the acceptor actor. One accept is always
 * in flight; each completion spawns a conn actor for the new socket and
 * asks for the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kv.h"

#define TAG_ACCEPT 1

struct acceptor {
	struct kv_server *srv;
	uint64_t accepted;
	uint64_t errors;	/* failed accepts and spawns */
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
 * Round robin spreads connections over shards; each conn then sends most
 * of its keys to other shards' keyspace actors anyway (a key's owner
 * depends on the key, not on who asks), so there is no better home.
 */
static void spawn_conn(ra_ctx_t *self, struct acceptor *a, int fd)
{
	static const ra_spawn_opts_t opts = {
		.placement = RA_PLACE_ROUND_ROBIN,
	};
	struct kv_conn_arg *arg = malloc(sizeof(*arg));
	int r;

	if (!arg) {
		note_error(a, "no memory for a connection", -ENOMEM);
		close(fd);
		return;
	}
	arg->srv = a->srv;
	arg->fd = fd;
	r = ra_spawn(self, &kv_conn_def, arg, &opts, NULL);
	if (r) {
		/* A failed spawn leaves the arg, and so the socket, to us. */
		note_error(a, "cannot spawn a connection", r);
		free(arg);
		close(fd);
		return;
	}
	a->accepted++;
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

	if (msg->type != RA_MSG_IO || msg->tag != TAG_ACCEPT)
		return 0;
	if (msg->res >= 0)
		spawn_conn(self, a, msg->res);
	else if (msg->res == -ECANCELED)
		return 0;	/* we are being stopped: do not re-arm */
	else
		note_error(a, "accept failed", msg->res);
	/* EMFILE, ECONNABORTED and the like pass: keep accepting. */
	return arm(self, a);
}

const ra_actor_def_t kv_acceptor_def = {
	.name = "kv-acceptor",
	.state_size = sizeof(struct acceptor),
	.init = acceptor_init,
	.behavior = acceptor_behavior,
	.terminate = NULL,
};
