/*
 * examples/kvserver/conn.c: the connection actor, one per client socket.
 *
 * It reads into one buffer, parses every complete command there (clients
 * pipeline), and for each command either answers at once (no keys) or
 * sends a sub-request to the keyspace actor of every shard that owns one
 * of its keys. Replies come back in any order; a ring of pending
 * commands, indexed by sequence number, puts them back in request order,
 * and the ones ready at the head are appended to the output buffer. One
 * send is in flight at a time; what piles up meanwhile goes in the next.
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

#include "keyspace.h"
#include "kv.h"

#define TAG_RECV	1
#define TAG_SEND	2
#define TAG_CLOSE	3

#define IN_INITIAL	(16 * 1024)
#define IN_MAX		(RESP_MAX_REQUEST + 64 * 1024)
#define RING_INITIAL	16
#define MAX_INFLIGHT	1024		/* power of two: the ring's last size */
#define MAX_OUTPUT	(4 * 1024 * 1024)

/* One command between parse and reply. */
struct pend {
	uint32_t seq;
	uint8_t cmd_id;		/* KV_CMD_*, KV_CMD_COUNT when unknown */
	bool ready;		/* every part is in: can be written out */
	bool local;		/* `one` holds the finished RESP reply */
	uint16_t nparts;	/* sub-requests sent (0 for local) */
	uint16_t waiting;	/* sub-replies still to come */
	uint32_t nkeys;
	uint64_t t0;		/* ns when parsed, for the latency histogram */
	const struct kv_command *cmd;
	uint16_t *key_part;	/* owned; which part holds key i; NULL: all 0 */
	struct kv_part one;	/* owned: the single sub-reply, or local RESP */
	struct kv_part *parts;	/* owned, nparts > 1: each owned */
};

struct conn {
	struct kv_server *srv;
	int fd;			/* -1 once closed */

	char *in;		/* received bytes; [in_off, in_len) unparsed */
	size_t in_off;
	size_t in_len;
	size_t in_cap;
	struct resp_parser parser;

	struct pend *ring;	/* pending commands, slot = seq & (cap - 1) */
	uint32_t ring_cap;
	uint32_t head_seq;	/* seq of the oldest pending command */
	uint32_t npend;

	struct resp_buf out;	/* replies in order, not yet being sent */
	struct resp_buf sending; /* the bytes the send in flight reads */
	size_t sent;		/* bytes of `sending` the kernel took */
	struct resp_buf scratch; /* sub-requests; local replies that wait */

	bool recv_armed;
	bool send_armed;
	bool flush_queued;	/* a KV_MSG_FLUSH to ourselves is on its way */
	bool eof;		/* no more input: EOF or protocol error */
	bool dead;		/* socket error or no memory: close now */
	bool close_issued;
};

/* ------------------------------------------------------------------ */
/* The pending ring                                                    */
/* ------------------------------------------------------------------ */

static struct pend *pend_at(struct conn *c, uint32_t seq)
{
	return &c->ring[seq & (c->ring_cap - 1)];
}

static void pend_free(struct pend *e)
{
	unsigned i;

	if (e->parts) {
		for (i = 0; i < e->nparts; i++)
			free((void *)e->parts[i].p);
		free(e->parts);
	}
	free((void *)e->one.p);
	free(e->key_part);
	memset(e, 0, sizeof(*e));
}

/* A new entry at the tail, or NULL without memory. Moves the ring. */
static struct pend *pend_push(struct conn *c)
{
	struct pend *e;
	uint32_t seq = c->head_seq + c->npend;

	if (c->npend == c->ring_cap) {
		uint32_t ncap = c->ring_cap * 2, i;
		struct pend *nr = calloc(ncap, sizeof(*nr));

		if (!nr)
			return NULL;
		for (i = 0; i < c->npend; i++) {
			uint32_t s = c->head_seq + i;

			nr[s & (ncap - 1)] = *pend_at(c, s);
		}
		free(c->ring);
		c->ring = nr;
		c->ring_cap = ncap;
	}
	e = pend_at(c, seq);
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	c->npend++;
	return e;
}

/* ------------------------------------------------------------------ */
/* Replies out, in order                                               */
/* ------------------------------------------------------------------ */

static void record(ra_ctx_t *self, struct conn *c, const struct kv_command *cmd,
		   uint64_t t0, uint64_t now)
{
	if (!cmd)
		return;	/* unknown commands have no histogram */
	/* Our shard's set is the only one we may write; ask each time. */
	ra_hdr_record(kv_lat(c->srv, ra_shard_id(self), cmd->id),
		      (int64_t)(now - t0));
}

/* Append the reply of head entry `e` to out; `direct` may stand for `one`. */
static void emit(ra_ctx_t *self, struct conn *c, struct pend *e,
		 const struct kv_part *direct, uint64_t now)
{
	int r;

	if (e->local)
		r = resp_add_raw(&c->out, e->one.p, e->one.len);
	else if (e->nparts == 1)
		r = kv_reply_merge(e->cmd, e->nkeys, NULL,
				   direct ? direct : &e->one, 1, &c->out);
	else
		r = kv_reply_merge(e->cmd, e->nkeys, e->key_part, e->parts,
				   e->nparts, &c->out);
	if (r)
		c->dead = true;
	record(self, c, e->cmd, e->t0, now);
	pend_free(e);
	c->head_seq++;
	c->npend--;
}

/* Write out every ready command at the head of the ring. */
static void drain(ra_ctx_t *self, struct conn *c)
{
	uint64_t now = 0;

	while (c->npend > 0) {
		struct pend *e = pend_at(c, c->head_seq);

		if (!e->ready)
			break;
		if (!now)
			now = ra_now_ns();
		emit(self, c, e, NULL, now);
	}
}

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
	if (c->npend == 0) {
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

/*
 * Small sub-requests (GET, SET of short keys and values) ride inside the
 * envelope: ra_send() with no malloc. Bigger ones were built in scratch,
 * a malloc'd buffer, so ra_send_buf() hands it over instead of having
 * ra_send() malloc and copy it again; scratch starts afresh next time.
 */
static int send_part(ra_ctx_t *self, struct conn *c, unsigned shard)
{
	ra_ref_t to = c->srv->keyspace[shard];
	char *buf;
	size_t len;
	int r;

	if (c->scratch.len <= RA_INLINE_PAYLOAD)
		return ra_send(self, to, KV_MSG_REQ, c->scratch.data,
			       c->scratch.len);
	buf = resp_buf_detach(&c->scratch, &len);
	r = ra_send_buf(self, to, KV_MSG_REQ, buf, len);
	if (r)
		free(buf);
	return r;
}

/* Split a keyed command over its owners and send the parts. */
static void route(ra_ctx_t *self, struct conn *c, struct pend *e,
		  const struct kv_request *req)
{
	struct kv_route rt;
	unsigned p;

	if (kv_route_init(&rt, req, c->srv->nshards)) {
		c->dead = true;
		return;
	}
	e->nparts = (uint16_t)rt.nparts;
	e->nkeys = req->nkeys;
	if (rt.nparts > 1) {
		e->parts = calloc(rt.nparts, sizeof(*e->parts));
		if (!e->parts) {
			kv_route_fini(&rt);
			c->dead = true;
			return;
		}
	}
	e->waiting = e->nparts;
	for (p = 0; p < rt.nparts; p++) {
		c->scratch.len = 0;
		/*
		 * A part that cannot be sent stays empty and merges into an
		 * error reply: the client hears of it in order.
		 */
		if (kv_subreq_encode(&c->scratch, req, e->seq, (uint16_t)p,
				     rt.key_part) < 0 ||
		    send_part(self, c, rt.part_shard[p]))
			e->waiting--;
	}
	e->key_part = kv_route_take(&rt);
	e->ready = e->waiting == 0;
}

static void handle_command(ra_ctx_t *self, struct conn *c,
			   const struct resp_cmd *args)
{
	uint64_t t0 = ra_now_ns();
	bool direct = c->npend == 0;
	struct kv_request req;
	struct pend *e;
	int r;

	/*
	 * Keyless commands and errors are answered here. With nothing
	 * pending the answer goes straight out; else it waits its turn in
	 * the ring, as a finished RESP reply.
	 */
	c->scratch.len = 0;
	r = kv_request_prepare(args, &req, direct ? &c->out : &c->scratch);
	if (r < 0) {
		c->dead = true;
		return;
	}
	if (r == 0 && direct) {
		record(self, c, req.cmd, t0, ra_now_ns());
		return;
	}
	e = pend_push(c);
	if (!e) {
		c->dead = true;
		return;
	}
	e->t0 = t0;
	e->cmd = req.cmd;
	e->cmd_id = req.cmd ? (uint8_t)req.cmd->id : KV_CMD_COUNT;
	if (r == 0) {
		e->local = true;
		e->ready = true;
		e->one.p = resp_buf_detach(&c->scratch, &e->one.len);
		return;
	}
	route(self, c, e, &req);
}

/* The protocol error is the last reply; then we close. */
static void protocol_error(ra_ctx_t *self, struct conn *c)
{
	struct pend *e;

	c->eof = true;
	if (c->npend == 0) {
		if (resp_add_error(&c->out, resp_parser_error(&c->parser)))
			c->dead = true;
		return;
	}
	e = pend_push(c);
	if (!e) {
		c->dead = true;
		return;
	}
	c->scratch.len = 0;
	if (resp_add_error(&c->scratch, resp_parser_error(&c->parser))) {
		c->dead = true;
		return;
	}
	e->cmd_id = KV_CMD_COUNT;
	e->local = true;
	e->ready = true;
	e->one.p = resp_buf_detach(&c->scratch, &e->one.len);
}

static bool backlogged(const struct conn *c)
{
	return c->npend >= MAX_INFLIGHT ||
	       c->out.len + c->sending.len >= MAX_OUTPUT;
}

/* Parse and start every complete command; returns how many. */
static unsigned parse_input(ra_ctx_t *self, struct conn *c)
{
	unsigned n = 0;

	while (!c->eof && !c->dead && !backlogged(c) && c->in_off < c->in_len) {
		struct resp_cmd cmd;
		enum resp_status st;
		size_t used;

		st = resp_parse(&c->parser, c->in + c->in_off,
				c->in_len - c->in_off, &cmd, &used);
		c->in_off += used;
		if (st == RESP_NEED_MORE)
			break;
		if (st == RESP_ERROR) {
			protocol_error(self, c);
			break;
		}
		handle_command(self, c, &cmd);
		n++;
	}
	return n;
}

static void arm_recv(ra_ctx_t *self, struct conn *c)
{
	size_t rest;
	int r;

	if (c->recv_armed || c->eof || c->dead || backlogged(c))
		return;
	/*
	 * No recv is in flight, so the buffer may move: slide the unparsed
	 * tail to the front (the parser keeps offsets from it, not pointers).
	 */
	rest = c->in_len - c->in_off;
	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, rest);
		c->in_len = rest;
		c->in_off = 0;
	}
	if (c->in_cap > IN_INITIAL && rest < IN_INITIAL / 2) {
		/* Give back what one big request took. */
		char *n = realloc(c->in, IN_INITIAL);

		if (n) {
			c->in = n;
			c->in_cap = IN_INITIAL;
		}
	}
	if (c->in_len == c->in_cap) {
		char *n;

		/* The parser refuses requests before they get this big. */
		if (c->in_cap >= IN_MAX) {
			c->dead = true;
			return;
		}
		n = realloc(c->in, c->in_cap * 2);
		if (!n) {
			c->dead = true;
			return;
		}
		c->in = n;
		c->in_cap *= 2;
	}
	r = ra_io_recv(self, c->fd, c->in + c->in_len, c->in_cap - c->in_len,
		       TAG_RECV);
	if (r)
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
/* Sub-replies in                                                      */
/* ------------------------------------------------------------------ */

static void on_reply(ra_ctx_t *self, struct conn *c, const ra_msg_t *msg)
{
	struct kv_part part;
	struct pend *e;
	uint32_t seq;
	uint16_t p;

	if (kv_subreply_peek(msg->data, msg->len, &seq, &p))
		return;
	if (seq - c->head_seq >= c->npend)
		return;		/* not a command we wait for */
	e = pend_at(c, seq);
	if (e->seq != seq || e->ready || e->local || p >= e->nparts)
		return;
	if (e->nparts == 1) {
		if (seq == c->head_seq) {
			/*
			 * The common case: the oldest command's only reply.
			 * Merge from the message itself, no copy kept.
			 */
			part.p = msg->data;
			part.len = msg->len;
			emit(self, c, e, &part, ra_now_ns());
			return;
		}
		if (e->one.p)
			return;
		e->one.p = ra_msg_claim(self, msg);
		e->one.len = e->one.p ? msg->len : 0;
	} else {
		if (e->parts[p].p)
			return;
		e->parts[p].p = ra_msg_claim(self, msg);
		e->parts[p].len = e->parts[p].p ? msg->len : 0;
	}
	/* A failed claim leaves the part empty: an error reply, in order. */
	if (--e->waiting == 0)
		e->ready = true;
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
		drain(self, c);
	} while (parse_input(self, c) > 0);
	drain(self, c);
	if (c->dead)
		return shut(self, c);
	arm_recv(self, c);
	kick_send(self, c);
	if (c->dead)
		return shut(self, c);
	if (c->eof && c->npend == 0 && c->out.len == 0 && !c->send_armed)
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
	resp_parser_init(&c->parser);
	resp_buf_init(&c->out);
	resp_buf_init(&c->sending);
	resp_buf_init(&c->scratch);
	/* Replies are whole; Nagle would only hold them back. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->in = malloc(IN_INITIAL);
	c->ring = calloc(RING_INITIAL, sizeof(*c->ring));
	if (!c->in || !c->ring)
		return -ENOMEM;	/* terminate frees and closes */
	c->in_cap = IN_INITIAL;
	c->ring_cap = RING_INITIAL;
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
		on_reply(self, c, msg);
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
	uint32_t i;

	/*
	 * A close that was issued may have run even if its completion was
	 * cancelled; closing again could hit a descriptor reused by then.
	 */
	if (c->fd >= 0 && !c->close_issued)
		close(c->fd);
	if (c->ring)
		for (i = 0; i < c->npend; i++)
			pend_free(pend_at(c, c->head_seq + i));
	free(c->ring);
	free(c->in);
	resp_parser_fini(&c->parser);
	resp_buf_fini(&c->out);
	resp_buf_fini(&c->sending);
	resp_buf_fini(&c->scratch);
}

const ra_actor_def_t kv_conn_def = {
	.name = "kv-conn",
	.state_size = sizeof(struct conn),
	.init = conn_init,
	.behavior = conn_behavior,
	.terminate = conn_terminate,
};
