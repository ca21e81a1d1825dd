/*
 * examples/kvserver/store.c: a shard's databases, running sub-requests
 * against them, active expiry (see store.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace.h"
#include "store.h"
#include "subreq.h"

int kv_store_create(const struct kv_config *cfg, struct kv_store **out)
{
	struct kv_store *st = calloc(1, sizeof(*st));
	unsigned i;

	if (!st)
		return -ENOMEM;
	st->cfg = cfg ? cfg : &kv_default_config;
	st->ndb = st->cfg->databases;
	st->db = calloc(st->ndb, sizeof(*st->db));
	/* A fixed seed: the same commands make the same choices. */
	st->rng = 0x2545f4914f6cdd1dULL;
	if (!st->db)
		goto fail;
	for (i = 0; i < st->ndb; i++)
		if (ks_create(&st->db[i]))
			goto fail;
	*out = st;
	return 0;
fail:
	kv_store_destroy(st);
	return -ENOMEM;
}

void kv_store_destroy(struct kv_store *st)
{
	unsigned i;

	if (!st)
		return;
	for (i = 0; st->db && i < st->ndb; i++)
		ks_destroy(st->db[i]);
	free(st->db);
	free(st);
}

size_t kv_store_keys(const struct kv_store *st)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < st->ndb; i++)
		n += ks_count(st->db[i]);
	return n;
}

uint64_t kv_store_expired(const struct kv_store *st)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < st->ndb; i++)
		n += ks_expired(st->db[i]);
	return n;
}

uint64_t kv_store_random(struct kv_store *st)
{
	uint64_t x = st->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* ------------------------------------------------------------------ */
/* Running a sub-request                                               */
/* ------------------------------------------------------------------ */

/*
 * Read every argument of `r` into argv[1..]: argv[0] is the command's
 * name, which the sub-request does not carry.
 */
static int read_args(struct kv_subreq *r, const struct kv_command *c,
		     struct resp_str *argv)
{
	uint32_t i;

	argv[0].p = c->name;
	argv[0].len = strlen(c->name);
	for (i = 0; i < r->nargs; i++)
		if (kv_subreq_next(r, &argv[i + 1]) != 1)
			return -EINVAL;
	return r->cur == r->end ? 0 : -EINVAL;
}

static int run_keys(struct kv_exec *x, const struct kv_command *c,
		    const struct resp_str *argv, uint32_t nargs)
{
	uint32_t i;
	int r;

	for (i = 0; i < nargs; i += c->key_step) {
		r = c->run_key(x, &argv[1 + i],
			       c->key_step == 2 ? &argv[2 + i] : NULL);
		if (r)
			return r;
	}
	return 0;
}

/*
 * The connection checked the arity; a sub-request that breaks it can
 * only come from a bug, and must not make a runner read past argv.
 */
static bool arity_ok(const struct kv_command *c, uint32_t nargs)
{
	size_t argc = (size_t)nargs + 1;

	if (c->arity > 0)
		return argc == (size_t)c->arity;
	return argc >= (size_t)-c->arity;
}

static int dispatch(struct kv_exec *x, const struct kv_command *c,
		    const struct kv_subreq *r, const struct resp_str *argv)
{
	uint32_t nres = 1;
	int rc;

	if (c->route == KV_ROUTE_KEYS) {
		if (r->nargs == 0 || r->nargs % c->key_step)
			return -EINVAL;
		nres = r->nargs / c->key_step;
	} else if (c->route == KV_ROUTE_LOCAL || !arity_ok(c, r->nargs)) {
		return -EINVAL;
	}
	rc = kv_subreply_begin(x->out, r->seq, r->part, nres);
	if (rc)
		return rc;
	if (c->route == KV_ROUTE_KEYS)
		return run_keys(x, c, argv, r->nargs);
	return c->run(x, (size_t)r->nargs + 1, argv);
}

int kv_store_exec(struct kv_store *st, const void *req, size_t len,
		  int64_t now, struct resp_buf *reply)
{
	struct resp_str small[16], *argv = small;
	size_t old = reply->len;
	const struct kv_command *c;
	struct kv_exec x;
	struct kv_subreq r;
	int rc;

	if (kv_subreq_open(&r, req, len) || r.db >= st->ndb)
		return -EINVAL;
	c = kv_command_by_id((enum kv_cmd_id)r.cmd);
	if ((size_t)r.nargs + 1 > sizeof(small) / sizeof(small[0])) {
		argv = malloc(((size_t)r.nargs + 1) * sizeof(*argv));
		if (!argv)
			return -ENOMEM;
	}
	rc = read_args(&r, c, argv);
	if (rc == 0) {
		x = (struct kv_exec){ .st = st, .db = st->db[r.db],
				      .dbi = r.db, .now = now, .out = reply };
		rc = dispatch(&x, c, &r, argv);
	}
	if (argv != small)
		free(argv);
	if (rc)
		reply->len = old;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Active expiry                                                       */
/* ------------------------------------------------------------------ */

#define SAMPLE 20		/* keys per sample, as Redis' default */
#define CLOCK_EVERY 16		/* samples between clock reads */

bool kv_store_expire_cycle(struct kv_store *st, int64_t now,
			   uint64_t deadline_ns, uint64_t (*clock_ns)(void),
			   uint64_t *removed)
{
	unsigned done_dbs = 0, n = 0;

	*removed = 0;
	while (done_dbs < st->ndb) {
		struct keyspace *ks = st->db[st->cycle_db];
		unsigned sampled, gone;

		gone = ks_expire_sample(ks, now, SAMPLE, &sampled);
		*removed += gone;
		if (sampled == 0 || gone * 4 <= sampled) {
			/* Few expired here: on to the next database. */
			st->cycle_db = (st->cycle_db + 1) % st->ndb;
			done_dbs++;
		}
		if (++n % CLOCK_EVERY == 0 && clock_ns() >= deadline_ns)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* The pipeline in one call                                            */
/* ------------------------------------------------------------------ */

static int run_parts(struct kv_store *const *shards,
		     const struct kv_request *req, const struct kv_route *rt,
		     int64_t now, struct resp_buf *replies,
		     struct kv_part *parts)
{
	struct resp_buf rq;
	unsigned p;

	resp_buf_init(&rq);
	for (p = 0; p < rt->nparts; p++) {
		rq.len = 0;
		if (kv_subreq_encode(&rq, req, 0, (uint16_t)p, rt->key_part))
			continue;	/* parts[p] stays lost: merge tells */
		if (kv_store_exec(shards[rt->part_shard[p]], rq.data, rq.len,
				  now, &replies[p]) == 0) {
			parts[p].p = replies[p].data;
			parts[p].len = replies[p].len;
		}
	}
	resp_buf_fini(&rq);
	return 0;
}

int kv_execute(struct kv_store *const *shards, unsigned nshards,
	       struct kv_cstate *cs, const struct resp_cmd *args,
	       int64_t now, struct resp_buf *out)
{
	struct kv_local l = { .cfg = shards[0]->cfg, .cs = cs, .out = out };
	struct resp_buf *replies = NULL;
	struct kv_part *parts = NULL;
	struct kv_reply_src src;
	struct kv_request req;
	struct kv_route rt;
	unsigned p;
	int r;

	r = kv_request_prepare(args, &l, &req);
	if (r <= 0)
		return r;
	r = kv_route_init(&rt, &req, nshards);
	if (r)
		return r;
	replies = calloc(rt.nparts, sizeof(*replies));
	parts = calloc(rt.nparts, sizeof(*parts));
	if (!replies || !parts) {
		r = -ENOMEM;
		goto out;
	}
	run_parts(shards, &req, &rt, now, replies, parts);
	src = (struct kv_reply_src){
		.cmd = req.cmd, .nkeys = req.nkeys,
		.key_part = req.cmd->route == KV_ROUTE_KEYS ? rt.key_part
							    : NULL,
		.parts = parts, .nparts = rt.nparts, .aux = req.aux,
	};
	r = kv_reply_merge(&src, out);
out:
	if (replies)
		for (p = 0; p < rt.nparts; p++)
			resp_buf_fini(&replies[p]);
	free(replies);
	free(parts);
	kv_route_fini(&rt);
	return r;
}
