/*
 * examples/kvserver/subreq.c: checking a command at the connection,
 * routing it, the sub-request/sub-reply codec and the merge (see
 * subreq.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "keyspace.h"
#include "subreq.h"

/* ------------------------------------------------------------------ */
/* Checking a command                                                  */
/* ------------------------------------------------------------------ */

/* Append s as "%.*s" of C would: cut at its first NUL and at `max`. */
static int add_cut(struct resp_buf *b, const struct resp_str *s, size_t max)
{
	size_t n = resp_cstrlen(s);

	return resp_add_raw(b, s->p, n < max ? n : max);
}

/*
 * Redis 7.0's text: "ERR unknown command '<name>', with args beginning
 * with: '<a>' '<b>' ", the name cut at 128 bytes and the arguments added
 * while their text is under 128 bytes, each cut to what is left of 128.
 */
static int reply_unknown(const struct resp_cmd *args, struct resp_buf *out)
{
	struct resp_buf msg, list;
	size_t i;
	int r = 0;

	resp_buf_init(&msg);
	resp_buf_init(&list);
	for (i = 1; i < args->argc && list.len < 128 && !r; i++)
		r = resp_add_raw(&list, "'", 1) ||
		    add_cut(&list, &args->argv[i], 128 - (list.len - 1)) ||
		    resp_add_raw(&list, "' ", 2);
	if (!r)
		r = resp_add_raw(&msg, "ERR unknown command '", 21) ||
		    add_cut(&msg, &args->argv[0], 128) ||
		    resp_add_raw(&msg, "', with args beginning with: ", 29) ||
		    resp_add_raw(&msg, list.data, list.len) ||
		    resp_add_raw(&msg, "", 1);
	if (!r)
		r = resp_add_error(out, msg.data);
	resp_buf_fini(&msg);
	resp_buf_fini(&list);
	return r ? -ENOMEM : 0;
}

static bool arity_ok(const struct kv_command *c, size_t argc)
{
	if (c->arity > 0)
		return argc == (size_t)c->arity;
	return argc >= (size_t)-c->arity;
}

int kv_request_prepare(const struct resp_cmd *args, struct kv_local *l,
		       struct kv_request *req)
{
	const struct kv_command *c;
	int r;

	memset(req, 0, sizeof(*req));
	req->args = args;
	req->db = l->cs->db;
	c = kv_command_lookup(args->argv[0].p, args->argv[0].len);
	req->cmd = c;
	if (!c)
		return reply_unknown(args, l->out);
	if (!arity_ok(c, args->argc))
		return kv_reply_arity(l->out, c->name);
	if (c->route == KV_ROUTE_LOCAL)
		return c->local(l, args->argc, args->argv);
	if (c->check) {
		r = c->check(args->argc, args->argv, &req->aux, l->out);
		if (r <= 0)
			return r;
	}
	if (c->route == KV_ROUTE_KEYS)
		req->nkeys = (uint32_t)((args->argc - 1) / c->key_step);
	return 1;
}

struct resp_str kv_request_key(const struct kv_request *req, uint32_t i)
{
	return req->args->argv[1 + (size_t)i * req->cmd->key_step];
}

struct resp_str kv_request_value(const struct kv_request *req, uint32_t i)
{
	return req->args->argv[2 + (size_t)i * req->cmd->key_step];
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

#define NO_PART 0xffffu

static int route_keys(struct kv_route *rt, const struct kv_request *req,
		      unsigned nshards)
{
	uint16_t *map;
	uint32_t i;

	/* One allocation: key_part[nkeys], part_shard and map[nshards]. */
	rt->key_part = malloc(((size_t)req->nkeys + 2 * (size_t)nshards) *
			      sizeof(uint16_t));
	if (!rt->key_part)
		return -ENOMEM;
	rt->part_shard = rt->key_part + req->nkeys;
	map = rt->part_shard + nshards;
	memset(map, 0xff, nshards * sizeof(*map));
	for (i = 0; i < req->nkeys; i++) {
		struct resp_str k = kv_request_key(req, i);
		unsigned s = kv_key_shard(k.p, k.len, nshards);

		if (map[s] == NO_PART) {
			map[s] = (uint16_t)rt->nparts;
			rt->part_shard[rt->nparts++] = (uint16_t)s;
		}
		rt->key_part[i] = map[s];
	}
	if (rt->nparts == 1) {
		/* All on one shard after all: the common case needs no map. */
		rt->one_shard = rt->part_shard[0];
		free(rt->key_part);
		rt->key_part = NULL;
		rt->part_shard = &rt->one_shard;
	}
	return 0;
}

int kv_route_init(struct kv_route *rt, const struct kv_request *req,
		  unsigned nshards)
{
	const struct resp_str *k;
	unsigned i;

	memset(rt, 0, sizeof(*rt));
	if (nshards == 0)
		return 0;
	switch (req->cmd->route) {
	case KV_ROUTE_KEY:
		k = &req->args->argv[1];
		rt->one_shard = (uint16_t)kv_key_shard(k->p, k->len, nshards);
		rt->part_shard = &rt->one_shard;
		rt->nparts = 1;
		return 0;
	case KV_ROUTE_KEYS:
		if (nshards == 1 || req->nkeys == 1) {
			k = &req->args->argv[1];
			rt->one_shard = (uint16_t)kv_key_shard(k->p, k->len,
							       nshards);
			rt->part_shard = &rt->one_shard;
			rt->nparts = 1;
			return 0;
		}
		return route_keys(rt, req, nshards);
	case KV_ROUTE_ALL:
		if (nshards == 1) {
			rt->part_shard = &rt->one_shard;
			rt->nparts = 1;
			return 0;
		}
		rt->key_part = malloc(nshards * sizeof(uint16_t));
		if (!rt->key_part)
			return -ENOMEM;
		/* No keys: the allocation is all part_shard. */
		rt->part_shard = rt->key_part;
		for (i = 0; i < nshards; i++)
			rt->part_shard[i] = (uint16_t)i;
		rt->nparts = nshards;
		return 0;
	default:
		return 0;
	}
}

void kv_route_fini(struct kv_route *rt)
{
	free(rt->key_part);
	memset(rt, 0, sizeof(*rt));
}

uint16_t *kv_route_take(struct kv_route *rt)
{
	uint16_t *kp = rt->key_part;

	memset(rt, 0, sizeof(*rt));
	return kp;
}

/* ------------------------------------------------------------------ */
/* The codec                                                           */
/* ------------------------------------------------------------------ */

/*
 * Fixed-width little-endian fields through memcpy: payloads are byte
 * strings with no alignment, and the server only runs on x86-64 and
 * arm64, both little-endian, so the copy is the whole encoding.
 */
static void put_u16(unsigned char *d, uint16_t v)
{
	memcpy(d, &v, 2);
}

static void put_u32(unsigned char *d, uint32_t v)
{
	memcpy(d, &v, 4);
}

static uint16_t get_u16(const unsigned char *s)
{
	uint16_t v;

	memcpy(&v, s, 2);
	return v;
}

static uint32_t get_u32(const unsigned char *s)
{
	uint32_t v;

	memcpy(&v, s, 4);
	return v;
}

static int64_t get_i64(const unsigned char *s)
{
	int64_t v;

	memcpy(&v, s, 8);
	return v;
}

static bool in_part(const uint16_t *key_part, uint32_t i, uint16_t part)
{
	return !key_part || key_part[i] == part;
}

/* Size of the encoded arguments of `req` for `part`, and their count. */
static size_t encoded_size(const struct kv_request *req, uint16_t part,
			   const uint16_t *key_part, uint32_t *nargs)
{
	size_t need = KV_SUBREQ_HDR, i;
	uint32_t k;

	*nargs = 0;
	if (req->cmd->route != KV_ROUTE_KEYS) {
		for (i = 1; i < req->args->argc; i++)
			need += 4 + req->args->argv[i].len;
		*nargs = (uint32_t)(req->args->argc - 1);
		return need;
	}
	for (k = 0; k < req->nkeys; k++) {
		if (!in_part(key_part, k, part))
			continue;
		need += 4 + kv_request_key(req, k).len;
		(*nargs)++;
		if (req->cmd->key_step == 2) {
			need += 4 + kv_request_value(req, k).len;
			(*nargs)++;
		}
	}
	return need;
}

static unsigned char *put_str(unsigned char *d, const struct resp_str *s)
{
	put_u32(d, (uint32_t)s->len);
	if (s->len)
		memcpy(d + 4, s->p, s->len);
	return d + 4 + s->len;
}

int kv_subreq_encode(struct resp_buf *b, const struct kv_request *req,
		     uint32_t seq, uint16_t part, const uint16_t *key_part)
{
	uint32_t nargs, k;
	size_t need = encoded_size(req, part, key_part, &nargs), i;
	unsigned char *d;

	/* Size it first: one reserve, so no step below can fail. */
	if (resp_buf_reserve(b, need))
		return -ENOMEM;
	d = (unsigned char *)b->data + b->len;
	put_u32(d, seq);
	put_u16(d + 4, part);
	d[6] = (unsigned char)req->cmd->id;
	d[7] = (unsigned char)req->db;
	put_u32(d + 8, nargs);
	d += KV_SUBREQ_HDR;
	if (req->cmd->route != KV_ROUTE_KEYS) {
		for (i = 1; i < req->args->argc; i++)
			d = put_str(d, &req->args->argv[i]);
	} else {
		for (k = 0; k < req->nkeys; k++) {
			struct resp_str s;

			if (!in_part(key_part, k, part))
				continue;
			s = kv_request_key(req, k);
			d = put_str(d, &s);
			if (req->cmd->key_step == 2) {
				s = kv_request_value(req, k);
				d = put_str(d, &s);
			}
		}
	}
	b->len += need;
	return 0;
}

int kv_subreq_open(struct kv_subreq *r, const void *p, size_t len)
{
	const unsigned char *s = p;

	if (!p || len < KV_SUBREQ_HDR)
		return -EINVAL;
	r->seq = get_u32(s);
	r->part = get_u16(s + 4);
	r->cmd = s[6];
	r->db = s[7];
	r->nargs = get_u32(s + 8);
	r->cur = s + KV_SUBREQ_HDR;
	r->end = s + len;
	if (r->cmd >= KV_CMD_COUNT)
		return -EINVAL;
	/* Each argument needs at least its length field. */
	if (r->nargs > (size_t)(r->end - r->cur) / 4)
		return -EINVAL;
	return 0;
}

int kv_subreq_next(struct kv_subreq *r, struct resp_str *s)
{
	uint32_t n;

	if (r->cur == r->end)
		return 0;
	if (r->end - r->cur < 4)
		return -EINVAL;
	n = get_u32(r->cur);
	if ((size_t)(r->end - r->cur - 4) < n)
		return -EINVAL;
	s->p = (const char *)r->cur + 4;
	s->len = n;
	r->cur += 4 + (size_t)n;
	return 1;
}

int kv_subreply_begin(struct resp_buf *b, uint32_t seq, uint16_t part,
		      uint32_t nres)
{
	unsigned char h[KV_SUBREPLY_HDR];

	put_u32(h, seq);
	put_u16(h + 4, part);
	put_u16(h + 6, 0);
	put_u32(h + 8, nres);
	return resp_add_raw(b, h, sizeof(h));
}

static int subreply_tagged(struct resp_buf *b, enum kv_result_type t,
			   const void *p, size_t n)
{
	unsigned char h[5];

	if (n > UINT32_MAX || resp_buf_reserve(b, 5 + n))
		return -ENOMEM;
	h[0] = (unsigned char)t;
	put_u32(h + 1, (uint32_t)n);
	resp_add_raw(b, h, 5);
	resp_add_raw(b, p, n);
	return 0;
}

int kv_subreply_ok(struct resp_buf *b)
{
	unsigned char t = KV_R_OK;

	return resp_add_raw(b, &t, 1);
}

int kv_subreply_null(struct resp_buf *b)
{
	unsigned char t = KV_R_NULL;

	return resp_add_raw(b, &t, 1);
}

int kv_subreply_int(struct resp_buf *b, int64_t v)
{
	unsigned char d[9];

	d[0] = KV_R_INT;
	memcpy(d + 1, &v, 8);
	return resp_add_raw(b, d, sizeof(d));
}

int kv_subreply_bulk(struct resp_buf *b, const void *p, size_t n)
{
	return subreply_tagged(b, KV_R_BULK, p, n);
}

int kv_subreply_err(struct resp_buf *b, const char *msg)
{
	return subreply_tagged(b, KV_R_ERR, msg, strlen(msg));
}

int kv_subreply_array_begin(struct resp_buf *b, size_t *at)
{
	unsigned char h[9] = { KV_R_ARRAY };

	*at = b->len;
	return resp_add_raw(b, h, sizeof(h));
}

void kv_subreply_array_end(struct resp_buf *b, size_t at, uint32_t count)
{
	unsigned char *h = (unsigned char *)b->data + at;

	put_u32(h + 1, count);
	put_u32(h + 5, (uint32_t)(b->len - at - 9));
}

int kv_subreply_peek(const void *p, size_t len, uint32_t *seq,
		     uint16_t *part)
{
	if (!p || len < KV_SUBREPLY_HDR)
		return -EINVAL;
	*seq = get_u32(p);
	*part = get_u16((const unsigned char *)p + 4);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading results                                                     */
/* ------------------------------------------------------------------ */

int kv_cursor_open(struct kv_cursor *c, const struct kv_part *part)
{
	if (!part->p || part->len < KV_SUBREPLY_HDR)
		return -EINVAL;
	c->cur = (const unsigned char *)part->p + KV_SUBREPLY_HDR;
	c->end = (const unsigned char *)part->p + part->len;
	c->left = get_u32((const unsigned char *)part->p + 8);
	return 0;
}

/* A length-prefixed payload at c->cur. */
static int take_bytes(struct kv_cursor *c, struct kv_result *r)
{
	uint32_t n;

	if (c->end - c->cur < 4)
		return -EINVAL;
	n = get_u32(c->cur);
	if ((size_t)(c->end - c->cur - 4) < n)
		return -EINVAL;
	r->p = (const char *)c->cur + 4;
	r->len = n;
	c->cur += 4 + (size_t)n;
	return 0;
}

int kv_cursor_next(struct kv_cursor *c, struct kv_result *r)
{
	if (c->left == 0 || c->cur >= c->end)
		return -EINVAL;
	c->left--;
	r->type = (enum kv_result_type)*c->cur++;
	switch (r->type) {
	case KV_R_OK:
	case KV_R_NULL:
		return 0;
	case KV_R_INT:
		if (c->end - c->cur < 8)
			return -EINVAL;
		r->ival = get_i64(c->cur);
		c->cur += 8;
		return 0;
	case KV_R_BULK:
	case KV_R_ERR:
		return take_bytes(c, r);
	case KV_R_ARRAY:
		if (c->end - c->cur < 4)
			return -EINVAL;
		r->count = get_u32(c->cur);
		c->cur += 4;
		return take_bytes(c, r);
	}
	return -EINVAL;
}

static bool cursor_done(const struct kv_cursor *c)
{
	return c->left == 0 && c->cur == c->end;
}

/* ------------------------------------------------------------------ */
/* Merging                                                             */
/* ------------------------------------------------------------------ */

static int add_error_bytes(struct resp_buf *out, const char *p, size_t n)
{
	char msg[256];

	n = n < sizeof(msg) - 1 ? n : sizeof(msg) - 1;
	memcpy(msg, p, n);
	msg[n] = '\0';
	return resp_add_error(out, msg);
}

static int add_result(struct resp_buf *out, const struct kv_result *r)
{
	switch (r->type) {
	case KV_R_OK:
		return resp_add_simple(out, "OK");
	case KV_R_NULL:
		return resp_add_null(out);
	case KV_R_INT:
		return resp_add_int(out, r->ival);
	case KV_R_BULK:
		return resp_add_bulk(out, r->p, r->len);
	case KV_R_ERR:
		return add_error_bytes(out, r->p, r->len);
	case KV_R_ARRAY:
		return resp_add_array(out, r->count) ||
		       resp_add_raw(out, r->p, r->len) ? -ENOMEM : 0;
	}
	return -EINVAL;
}

/* Fold one result into a SUM or OK reply; first error wins. */
static int fold(const struct kv_command *cmd, const struct kv_result *r,
		int64_t *sum, struct kv_result *err)
{
	if (r->type == KV_R_ERR) {
		if (err->type != KV_R_ERR)
			*err = *r;
		return 0;
	}
	if (cmd->merge == KV_MERGE_SUM && r->type == KV_R_INT) {
		/* Counts of keys: no sum of them can overflow. */
		*sum += r->ival;
		return 0;
	}
	return cmd->merge == KV_MERGE_OK && r->type == KV_R_OK ? 0 : -EINVAL;
}

static int finish(const struct kv_command *cmd, int64_t sum,
		  const struct kv_result *err, struct resp_buf *out)
{
	if (err->type == KV_R_ERR)
		return add_result(out, err);
	if (cmd->merge == KV_MERGE_SUM)
		return resp_add_int(out, sum);
	return resp_add_simple(out, "OK");
}

/*
 * KEYS: walk the keys in argument order, taking each key's result from
 * its part, so that MGET's array comes out in the order the client
 * asked in however the keys were spread over shards.
 */
static int merge_keys(const struct kv_reply_src *s, struct kv_cursor *cur,
		      struct resp_buf *out)
{
	struct kv_result r, err = { 0 };
	int64_t sum = 0;
	uint32_t i;
	unsigned p;

	if (s->cmd->merge == KV_MERGE_ARRAY && resp_add_array(out, s->nkeys))
		return -ENOMEM;
	for (i = 0; i < s->nkeys; i++) {
		p = s->key_part ? s->key_part[i] : 0;
		if (p >= s->nparts || kv_cursor_next(&cur[p], &r))
			return -EINVAL;
		if (s->cmd->merge == KV_MERGE_ARRAY) {
			if (add_result(out, &r))
				return -ENOMEM;
		} else if (fold(s->cmd, &r, &sum, &err)) {
			return -EINVAL;
		}
	}
	for (p = 0; p < s->nparts; p++)
		if (!cursor_done(&cur[p]))
			return -EINVAL;
	if (s->cmd->merge == KV_MERGE_ARRAY)
		return 0;
	return finish(s->cmd, sum, &err, out);
}

/* ALL: one result per shard. */
static int merge_all(const struct kv_reply_src *s, struct kv_cursor *cur,
		     struct resp_buf *out)
{
	struct kv_result r, err = { 0 };
	int64_t sum = 0;
	size_t total = 0;
	unsigned p;

	for (p = 0; p < s->nparts; p++) {
		if (kv_cursor_next(&cur[p], &r) || !cursor_done(&cur[p]))
			return -EINVAL;
		if (s->cmd->merge == KV_MERGE_CONCAT) {
			if (r.type != KV_R_ARRAY)
				return -EINVAL;
			total += r.count;
		} else if (fold(s->cmd, &r, &sum, &err)) {
			return -EINVAL;
		}
	}
	if (s->cmd->merge != KV_MERGE_CONCAT)
		return finish(s->cmd, sum, &err, out);
	if (resp_add_array(out, total))
		return -ENOMEM;
	for (p = 0; p < s->nparts; p++) {
		kv_cursor_open(&cur[p], &s->parts[p]);
		kv_cursor_next(&cur[p], &r);
		if (resp_add_raw(out, r.p, r.len))
			return -ENOMEM;
	}
	return 0;
}

static int merge_key(const struct kv_reply_src *s, struct resp_buf *out)
{
	const struct kv_part *part = &s->parts[0];

	if (s->nparts != 1 || !part->p || part->len < KV_SUBREPLY_HDR)
		return -EINVAL;
	return resp_add_raw(out, (const char *)part->p + KV_SUBREPLY_HDR,
			    part->len - KV_SUBREPLY_HDR);
}

#define E_LOST "ERR internal error: shard reply lost or malformed"

static int merge_parts(const struct kv_reply_src *s, struct resp_buf *out)
{
	struct kv_cursor small[8], *cur = small;
	unsigned p;
	int r = 0;

	if (s->cmd->route == KV_ROUTE_KEY)
		return merge_key(s, out);
	if (s->cmd->merge == KV_MERGE_INFO)
		return kv_info_merge(s->env, s->aux, s->parts, s->nparts, out);
	if (s->nparts > 8) {
		cur = calloc(s->nparts, sizeof(*cur));
		if (!cur)
			return -ENOMEM;
	}
	for (p = 0; p < s->nparts && r == 0; p++)
		r = kv_cursor_open(&cur[p], &s->parts[p]);
	if (r == 0 && s->cmd->route == KV_ROUTE_KEYS)
		r = merge_keys(s, cur, out);
	else if (r == 0)
		r = merge_all(s, cur, out);
	if (cur != small)
		free(cur);
	return r;
}

int kv_reply_merge(const struct kv_reply_src *s, struct resp_buf *out)
{
	size_t old = out->len;
	int r;

	if (s->nparts == 0)
		return resp_add_error(out, "ERR internal error: no reply");
	r = merge_parts(s, out);
	if (r == 0)
		return 0;
	/* Never a partial reply: drop what was written, say what failed. */
	out->len = old;
	if (r == -ENOMEM)
		return -ENOMEM;
	return resp_add_error(out, E_LOST);
}
