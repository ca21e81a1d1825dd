/*
 * examples/kvserver/client.c: a connection's command pipeline: parse,
 * answer or route, put replies back in request order (see client.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "info.h"
#include "kv.h"
#include "subreq.h"

#define RING_INITIAL 16

/* One command between parse and reply. */
struct pend {
	uint32_t seq;
	bool ready;		/* every part is in: can be written out */
	bool local;		/* `one` holds the finished RESP reply */
	uint16_t nparts;	/* sub-requests sent (0 for local) */
	uint16_t waiting;	/* sub-replies still to come */
	uint32_t nkeys;
	uint32_t aux;		/* from the command's check (INFO) */
	uint64_t t0;		/* ns when parsed, for the histogram */
	const struct kv_command *cmd;	/* NULL when unknown */
	uint16_t *key_part;	/* owned; part of key i; NULL: all 0 */
	struct kv_part one;	/* owned: the one sub-reply, or local RESP */
	struct kv_part *parts;	/* owned, nparts > 1: each owned */
};

int kv_client_init(struct kv_client *cl, struct kv_server *srv)
{
	memset(cl, 0, sizeof(*cl));
	cl->srv = srv;
	cl->cs.id = atomic_fetch_add(&srv->next_client_id, 1);
	resp_parser_init(&cl->parser, &srv->cfg->lim);
	resp_buf_init(&cl->scratch);
	cl->ring = calloc(RING_INITIAL, sizeof(*cl->ring));
	if (!cl->ring)
		return -ENOMEM;
	cl->ring_cap = RING_INITIAL;
	return 0;
}

static struct pend *pend_at(struct kv_client *cl, uint32_t seq)
{
	return &cl->ring[seq & (cl->ring_cap - 1)];
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

void kv_client_fini(struct kv_client *cl)
{
	uint32_t i;

	if (cl->ring)
		for (i = 0; i < cl->npend; i++)
			pend_free(pend_at(cl, cl->head_seq + i));
	free(cl->ring);
	cl->ring = NULL;
	resp_parser_fini(&cl->parser);
	resp_buf_fini(&cl->scratch);
	kv_cstate_fini(&cl->cs);
}

/* A new entry at the tail, or NULL without memory. Moves the ring. */
static struct pend *pend_push(struct kv_client *cl)
{
	uint32_t seq = cl->head_seq + cl->npend;
	struct pend *e;

	if (cl->npend == cl->ring_cap) {
		uint32_t ncap = cl->ring_cap * 2, i;
		struct pend *nr = calloc(ncap, sizeof(*nr));

		if (!nr)
			return NULL;
		for (i = 0; i < cl->npend; i++) {
			uint32_t s = cl->head_seq + i;

			nr[s & (ncap - 1)] = *pend_at(cl, s);
		}
		free(cl->ring);
		cl->ring = nr;
		cl->ring_cap = ncap;
	}
	e = pend_at(cl, seq);
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	cl->npend++;
	return e;
}

/* ------------------------------------------------------------------ */
/* Replies out, in order                                               */
/* ------------------------------------------------------------------ */

static void record(ra_ctx_t *self, struct kv_client *cl,
		   const struct kv_command *cmd, uint64_t t0, uint64_t now)
{
	if (!cmd)
		return;	/* unknown commands have no histogram */
	/* Our shard's set is the only one we may write; ask each time. */
	ra_hdr_record(kv_lat(cl->srv, ra_shard_id(self), cmd->id),
		      (int64_t)(now - t0));
}

static void info_env(const struct kv_client *cl, struct kv_info_env *env)
{
	const struct kv_server *srv = cl->srv;

	env->cfg = srv->cfg;
	env->start_ms = srv->start_ms;
	env->nshards = srv->nshards;
	env->lat = srv->lat;
	env->connected_clients = atomic_load(&srv->connected);
	env->total_connections = atomic_load(&srv->total_connections);
	env->run_id = srv->run_id;
}

/* Write the reply of head entry `e`; `direct` may stand for `one`. */
static int emit(ra_ctx_t *self, struct kv_client *cl, struct pend *e,
		const struct kv_part *direct, uint64_t now,
		struct resp_buf *out)
{
	struct kv_info_env env;
	struct kv_reply_src src;
	int r;

	if (e->local) {
		r = resp_add_raw(out, e->one.p, e->one.len);
	} else {
		src = (struct kv_reply_src){
			.cmd = e->cmd, .nkeys = e->nkeys,
			.key_part = e->key_part, .aux = e->aux,
			.parts = e->nparts > 1 ? e->parts
					       : direct ? direct : &e->one,
			.nparts = e->nparts,
		};
		if (e->cmd->merge == KV_MERGE_INFO) {
			info_env(cl, &env);
			src.env = &env;
		}
		r = kv_reply_merge(&src, out);
	}
	record(self, cl, e->cmd, e->t0, now);
	pend_free(e);
	cl->head_seq++;
	cl->npend--;
	return r;
}

int kv_client_drain(struct kv_client *cl, ra_ctx_t *self,
		    struct resp_buf *out)
{
	uint64_t now = 0;
	int r;

	while (cl->npend > 0) {
		struct pend *e = pend_at(cl, cl->head_seq);

		if (!e->ready)
			break;
		if (!now)
			now = ra_now_ns();
		r = emit(self, cl, e, NULL, now, out);
		if (r)
			return r;
	}
	return 0;
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
static int send_part(ra_ctx_t *self, struct kv_client *cl, unsigned shard)
{
	ra_ref_t to = cl->srv->keyspace[shard];
	char *buf;
	size_t len;
	int r;

	if (cl->scratch.len <= RA_INLINE_PAYLOAD)
		return ra_send(self, to, KV_MSG_REQ, cl->scratch.data,
			       cl->scratch.len);
	buf = resp_buf_detach(&cl->scratch, &len);
	r = ra_send_buf(self, to, KV_MSG_REQ, buf, len);
	if (r)
		free(buf);
	return r;
}

/* Split a command over its owners and send the parts. */
static int route(ra_ctx_t *self, struct kv_client *cl, struct pend *e,
		 const struct kv_request *req)
{
	struct kv_route rt;
	unsigned p;

	if (kv_route_init(&rt, req, cl->srv->nshards))
		return -ENOMEM;
	e->nparts = (uint16_t)rt.nparts;
	e->nkeys = req->nkeys;
	e->aux = req->aux;
	if (rt.nparts > 1) {
		e->parts = calloc(rt.nparts, sizeof(*e->parts));
		if (!e->parts) {
			kv_route_fini(&rt);
			return -ENOMEM;
		}
	}
	e->waiting = e->nparts;
	for (p = 0; p < rt.nparts; p++) {
		cl->scratch.len = 0;
		/*
		 * A part that cannot be sent stays empty and merges into an
		 * error reply: the client hears of it in order.
		 */
		if (kv_subreq_encode(&cl->scratch, req, e->seq, (uint16_t)p,
				     rt.key_part) ||
		    send_part(self, cl, rt.part_shard[p]))
			e->waiting--;
	}
	e->key_part = kv_route_take(&rt);
	e->ready = e->waiting == 0;
	return 0;
}

/* Queue the finished reply in scratch as the next entry of the ring. */
static int queue_local(struct kv_client *cl, const struct kv_command *cmd,
		       uint64_t t0)
{
	struct pend *e = pend_push(cl);

	if (!e)
		return -ENOMEM;
	e->t0 = t0;
	e->cmd = cmd;
	e->local = true;
	e->ready = true;
	e->one.p = resp_buf_detach(&cl->scratch, &e->one.len);
	return 0;
}

static int handle_command(ra_ctx_t *self, struct kv_client *cl,
			  const struct resp_cmd *args, struct resp_buf *out)
{
	uint64_t t0 = ra_now_ns();
	bool direct = cl->npend == 0;
	struct kv_local l = { .cfg = cl->srv->cfg, .cs = &cl->cs };
	struct kv_request req;
	struct pend *e;
	int r;

	/*
	 * LOCAL commands and errors are answered here. With nothing
	 * pending the answer goes straight out; else it waits its turn in
	 * the ring, as a finished RESP reply.
	 */
	cl->scratch.len = 0;
	l.out = direct ? out : &cl->scratch;
	r = kv_request_prepare(args, &l, &req);
	if (r < 0)
		return r;
	if (r == 0) {
		if (direct) {
			record(self, cl, req.cmd, t0, ra_now_ns());
			return 0;
		}
		return queue_local(cl, req.cmd, t0);
	}
	e = pend_push(cl);
	if (!e)
		return -ENOMEM;
	e->t0 = t0;
	e->cmd = req.cmd;
	return route(self, cl, e, &req);
}

/* The protocol error is the last reply; then the connection closes. */
static int protocol_error(struct kv_client *cl, struct resp_buf *out)
{
	const char *msg = resp_parser_error(&cl->parser);

	cl->closing = true;
	if (cl->npend == 0)
		return resp_add_error(out, msg);
	cl->scratch.len = 0;
	if (resp_add_error(&cl->scratch, msg))
		return -ENOMEM;
	return queue_local(cl, NULL, 0);
}

int kv_client_feed(struct kv_client *cl, ra_ctx_t *self, const char *buf,
		   size_t len, size_t *used, struct resp_buf *out)
{
	struct resp_cmd cmd;
	enum resp_status st;
	int r;

	*used = 0;
	if (cl->closing)
		return KV_FEED_CLOSE;
	st = resp_parse(&cl->parser, buf, len, &cmd, used);
	if (st == RESP_NEED_MORE)
		return KV_FEED_MORE;
	if (st == RESP_ERROR) {
		r = protocol_error(cl, out);
		return r ? r : KV_FEED_CLOSE;
	}
	r = handle_command(self, cl, &cmd, out);
	if (r)
		return r;
	if (cl->cs.quit) {
		/* Redis runs nothing a client sent after QUIT. */
		cl->closing = true;
		return KV_FEED_CLOSE;
	}
	return KV_FEED_DONE;
}

/* ------------------------------------------------------------------ */
/* Sub-replies in                                                      */
/* ------------------------------------------------------------------ */

int kv_client_on_reply(struct kv_client *cl, ra_ctx_t *self,
		       const ra_msg_t *msg, struct resp_buf *out)
{
	struct kv_part part;
	struct pend *e;
	uint32_t seq;
	uint16_t p;

	if (kv_subreply_peek(msg->data, msg->len, &seq, &p))
		return 0;
	if (seq - cl->head_seq >= cl->npend)
		return 0;	/* not a command we wait for */
	e = pend_at(cl, seq);
	if (e->seq != seq || e->ready || e->local || p >= e->nparts)
		return 0;
	if (e->nparts == 1) {
		if (seq == cl->head_seq) {
			/*
			 * The common case: the oldest command's only reply.
			 * Merge from the message itself, no copy kept.
			 */
			part.p = msg->data;
			part.len = msg->len;
			return emit(self, cl, e, &part, ra_now_ns(), out);
		}
		if (e->one.p)
			return 0;
		e->one.p = ra_msg_claim(self, msg);
		e->one.len = e->one.p ? msg->len : 0;
	} else {
		if (e->parts[p].p)
			return 0;
		e->parts[p].p = ra_msg_claim(self, msg);
		e->parts[p].len = e->parts[p].p ? msg->len : 0;
	}
	/* A failed claim leaves the part empty: an error reply, in order. */
	if (--e->waiting == 0)
		e->ready = true;
	return 0;
}
