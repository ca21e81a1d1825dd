/*
 * examples/kvserver/conn.c: the connection actor, one per client socket:
 * the socket side only. Received bytes go to the command pipeline
 * (client.c), which answers or routes each command; the replies it
 * writes to `out` are sent here. One send is in flight at a time; what
 * piles up meanwhile goes in the next.
 *
 * Input: one buffer holding at least the request being parsed. It grows
 * as bytes arrive (doubling when full), never for a length a client
 * merely announces, and shrinks back after a big request. A request that
 * grows past client-query-buffer-limit (1 GiB) closes the connection, as
 * Redis closes it.
 *
 * Bounds: at most MAX_INFLIGHT commands waiting and MAX_OUTPUT bytes of
 * replies queued; past either the actor stops reading (and parsing) until
 * the client catches up, so a client that never reads cannot grow us.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "kv.h"

#define TAG_RECV	1
#define TAG_SEND	2
#define TAG_CLOSE	3

#define IN_INITIAL	(16 * 1024)
#define MAX_INFLIGHT	1024
#define MAX_OUTPUT	(4 * 1024 * 1024)

struct conn {
	struct kv_server *srv;
	int fd;			/* -1 once closed */
	bool counted;		/* in srv->connected */

	char *in;		/* received bytes; [in_off, in_len) unparsed */
	size_t in_off;
	size_t in_len;
	size_t in_cap;

	struct kv_client client;

	struct resp_buf out;	/* replies in order, not yet being sent */
	struct resp_buf sending; /* the bytes the send in flight reads */
	size_t sent;		/* bytes of `sending` the kernel took */

	bool recv_armed;
	bool send_armed;
	bool flush_queued;	/* a KV_MSG_FLUSH to self is on its way */
	bool eof;		/* no more input: EOF, protocol error, QUIT */
	bool dead;		/* socket error or no memory: close now */
	bool close_issued;
};

/* ------------------------------------------------------------------ */
/* Replies out                                                         */
/* ------------------------------------------------------------------ */

static void start_send(ra_ctx_t *self, struct conn *c)
{
	struct resp_buf t = c->sending;
	int r;

	/* Swap buffers: new replies go on filling the other one. */
	c->sending = c->out;
	c->out = t;
	c->out.len = 0;
	c->sent = 0;
	r = ra_io_send(self, c->fd, c->sending.data, c->sending.len, TAG_SEND);
	if (r)
		c->dead = true;
	else
		c->send_armed = true;
}

/*
 * Send now if nothing more is expected; otherwise post ourselves a FLUSH.
 * It queues behind the replies already in our mailbox (say a batch that
 * came over one msg_ring), so those join this send instead of each
 * getting a syscall of its own.
 */
static void kick_send(ra_ctx_t *self, struct conn *c)
{
	if (c->send_armed || c->out.len == 0)
		return;
	if (kv_client_pending(&c->client) == 0) {
		start_send(self, c);
		return;
	}
	if (c->flush_queued)
		return;
	if (ra_send(self, ra_self(self), KV_MSG_FLUSH, NULL, 0) == 0) {
		c->flush_queued = true;
		return;
	}
	start_send(self, c);
}

static void on_send(ra_ctx_t *self, struct conn *c, int32_t res)
{
	c->send_armed = false;
	if (res == -ECANCELED)
		return;
	if (res <= 0) {
		/* EPIPE, ECONNRESET: the client is gone. */
		c->dead = true;
		return;
	}
	c->sent += (size_t)res;
	if (c->sent < c->sending.len) {
		/* A short send: the socket buffer filled up. Send the rest. */
		int r = ra_io_send(self, c->fd, c->sending.data + c->sent,
				   c->sending.len - c->sent, TAG_SEND);

		if (r)
			c->dead = true;
		else
			c->send_armed = true;
		return;
	}
	c->sending.len = 0;
	c->sent = 0;
	/* Do not keep a burst's worth of memory for an idle client. */
	if (c->sending.cap > 256 * 1024)
		resp_buf_fini(&c->sending);
}

/* ------------------------------------------------------------------ */
/* Commands in                                                         */
/* ------------------------------------------------------------------ */

static bool backlogged(const struct conn *c)
{
	return kv_client_pending(&c->client) >= MAX_INFLIGHT ||
	       c->out.len + c->sending.len >= MAX_OUTPUT;
}

/* Hand every complete command to the pipeline; returns how many. */
static unsigned parse_input(ra_ctx_t *self, struct conn *c)
{
	unsigned n = 0;

	while (!c->eof && !c->dead && !backlogged(c) && c->in_off < c->in_len) {
		size_t used;
		int r = kv_client_feed(&c->client, self, c->in + c->in_off,
				       c->in_len - c->in_off, &used, &c->out);

		c->in_off += used;
		if (r < 0) {
			c->dead = true;
		} else if (r == KV_FEED_CLOSE) {
			c->eof = true;
		} else if (r == KV_FEED_MORE) {
			break;
		} else {
			n++;
		}
	}
	return n;
}

/* Make room to receive into; false when the connection must close. */
static bool make_room(struct conn *c)
{
	size_t rest = c->in_len - c->in_off;
	char *n;

	/*
	 * No recv is in flight, so the buffer may move: slide the unparsed
	 * tail to the front (the parser keeps offsets from it, not pointers).
	 */
	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, rest);
		c->in_len = rest;
		c->in_off = 0;
	}
	if (c->in_cap > IN_INITIAL && rest < IN_INITIAL / 2) {
		/* Give back what one big request took. */
		n = realloc(c->in, IN_INITIAL);
		if (n) {
			c->in = n;
			c->in_cap = IN_INITIAL;
		}
	}
	if (c->in_len < c->in_cap)
		return true;
	/* A full buffer is one incomplete request: Redis' limit applies. */
	if (c->in_len >= c->srv->cfg->query_buf_limit)
		return false;
	n = realloc(c->in, c->in_cap * 2);
	if (!n)
		return false;
	c->in = n;
	c->in_cap *= 2;
	return true;
}

static void arm_recv(ra_ctx_t *self, struct conn *c)
{
	if (c->recv_armed || c->eof || c->dead || backlogged(c))
		return;
	if (!make_room(c)) {
		c->dead = true;
		return;
	}
	if (ra_io_recv(self, c->fd, c->in + c->in_len, c->in_cap - c->in_len,
		       TAG_RECV))
		c->dead = true;
	else
		c->recv_armed = true;
}

static void on_recv(struct conn *c, int32_t res)
{
	c->recv_armed = false;
	if (res == -ECANCELED)
		return;
	if (res < 0) {
		c->dead = true;
		return;
	}
	if (res == 0) {
		/* The client is done sending: answer it all, then close. */
		c->eof = true;
		return;
	}
	c->in_len += (size_t)res;
}

/* ------------------------------------------------------------------ */
/* The actor                                                           */
/* ------------------------------------------------------------------ */

static int shut(ra_ctx_t *self, struct conn *c)
{
	c->close_issued = true;
	if (c->fd >= 0 && ra_io_close(self, c->fd, TAG_CLOSE) == 0)
		return 0;	/* ra_stop() when the close completes */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ra_stop(self, 0);
	return 0;
}

/* Move everything forward as far as it goes; run after every message. */
static int pump(ra_ctx_t *self, struct conn *c)
{
	if (c->close_issued)
		return 0;
	do {
		if (kv_client_drain(&c->client, self, &c->out))
			c->dead = true;
	} while (parse_input(self, c) > 0);
	if (kv_client_drain(&c->client, self, &c->out))
		c->dead = true;
	if (c->dead)
		return shut(self, c);
	arm_recv(self, c);
	kick_send(self, c);
	if (c->dead)
		return shut(self, c);
	if (c->eof && kv_client_pending(&c->client) == 0 && c->out.len == 0 &&
	    !c->send_armed)
		return shut(self, c);
	return 0;
}

static int conn_init(ra_ctx_t *self, void *state, void *arg)
{
	struct kv_handoff *slot = arg;
	struct conn *c = state;
	int one = 1;

	c->srv = slot->srv;
	/* Before any return: terminate closes c->fd when it is >= 0. */
	c->fd = kv_handoff_take(slot);
	if (c->fd < 0) {
		/*
		 * The acceptor withdrew the socket (its ask failed or timed
		 * out), or an older conn whose own socket was withdrawn
		 * claimed it from this slot (handoff.c): nothing to serve.
		 * A normal stop, not a crash.
		 */
		ra_stop(self, 0);
		return 0;
	}
	atomic_fetch_add(&c->srv->connected, 1);
	c->counted = true;
	resp_buf_init(&c->out);
	resp_buf_init(&c->sending);
	if (kv_client_init(&c->client, c->srv))
		return -ENOMEM;	/* terminate frees and closes */
	/* Replies are whole; Nagle would only hold them back. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->in = malloc(IN_INITIAL);
	if (!c->in)
		return -ENOMEM;
	c->in_cap = IN_INITIAL;
	return pump(self, c);
}

static int conn_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct conn *c = state;

	switch (msg->type) {
	case RA_MSG_IO:
		if (msg->tag == TAG_RECV) {
			on_recv(c, msg->res);
		} else if (msg->tag == TAG_SEND) {
			on_send(self, c, msg->res);
		} else if (msg->tag == TAG_CLOSE) {
			/* Linux frees the descriptor even when close fails. */
			c->fd = -1;
			ra_stop(self, 0);
			return 0;
		}
		break;
	case KV_MSG_REPLY:
		if (kv_client_on_reply(&c->client, self, msg, &c->out))
			c->dead = true;
		break;
	case KV_MSG_FLUSH:
		c->flush_queued = false;
		if (!c->send_armed && c->out.len > 0 && !c->close_issued)
			start_send(self, c);
		break;
	default:
		break;
	}
	return pump(self, c);
}

static void conn_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct conn *c = state;

	(void)self;
	(void)reason;
	/*
	 * A close that was issued may have run even if its completion was
	 * cancelled; closing again could hit a descriptor reused by then.
	 */
	if (c->fd >= 0 && !c->close_issued)
		close(c->fd);
	if (c->counted)
		atomic_fetch_sub(&c->srv->connected, 1);
	kv_client_fini(&c->client);
	free(c->in);
	resp_buf_fini(&c->out);
	resp_buf_fini(&c->sending);
}

const ra_actor_def_t kv_conn_def = {
	.name = "kv-conn",
	.state_size = sizeof(struct conn),
	.init = conn_init,
	.behavior = conn_behavior,
	.terminate = conn_terminate,
};
