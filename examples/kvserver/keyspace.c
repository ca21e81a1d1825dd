/*
 * examples/kvserver/keyspace.c: an open-addressing hash table of keys to
 * values with lazy expiry, and the owner's side of the command layer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace.h"

/* ------------------------------------------------------------------ */
/* Hashing and routing                                                 */
/* ------------------------------------------------------------------ */

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* MurmurHash3's finalizer: every input bit reaches every output bit. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/*
 * Eight bytes per multiply, then a full finalizer: quick for the short
 * keys a cache sees. It has a fixed seed, so it is no defence against a
 * client that picks colliding keys on purpose; a server facing untrusted
 * clients would seed it at start (every shard must use the same seed,
 * since the hash also routes).
 */
uint64_t kv_key_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xc2b2ae3d27d4eb4fULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = rotl64(h ^ (w * 0x87c37b91114253d5ULL), 31) *
		    0x4cf5ad432745937fULL;
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	h ^= w * 0x87c37b91114253d5ULL;
	return fmix64(h);
}

/*
 * Multiply-shift on the high half instead of `% nshards` on the low bits:
 * the table uses the low bits, and a shard that only ever got keys with,
 * say, an even hash would leave half its buckets empty.
 */
unsigned kv_key_shard(const void *key, size_t len, unsigned nshards)
{
	uint64_t hi = kv_key_hash(key, len) >> 32;

	return (unsigned)((hi * nshards) >> 32);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/* One key and its value in a single allocation: key bytes, then value. */
struct ks_entry {
	uint64_t expire_at;	/* absolute ns; 0 = never */
	uint32_t klen;
	uint32_t vlen;
	uint32_t vcap;		/* bytes allocated for the value */
	char data[];
};

/*
 * Linear probing over (hash, entry) pairs: the stored hash skips most key
 * compares and makes growing a copy, not a rehash. Deletion shifts later
 * members of the cluster back, so there are no tombstones to clean up.
 */
struct ks_slot {
	uint64_t hash;
	struct ks_entry *e;	/* NULL = empty */
};

struct keyspace {
	struct ks_slot *slots;
	size_t mask;		/* buckets - 1; buckets is a power of two */
	size_t count;		/* entries held, expired ones included */
};

#define KS_MIN_BUCKETS 16

int ks_create(struct keyspace **out)
{
	struct keyspace *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return -ENOMEM;
	ks->slots = calloc(KS_MIN_BUCKETS, sizeof(*ks->slots));
	if (!ks->slots) {
		free(ks);
		return -ENOMEM;
	}
	ks->mask = KS_MIN_BUCKETS - 1;
	*out = ks;
	return 0;
}

void ks_destroy(struct keyspace *ks)
{
	size_t i;

	if (!ks)
		return;
	for (i = 0; i <= ks->mask; i++)
		free(ks->slots[i].e);
	free(ks->slots);
	free(ks);
}

size_t ks_count(const struct keyspace *ks)
{
	return ks->count;
}

size_t ks_buckets(const struct keyspace *ks)
{
	return ks->mask + 1;
}

static size_t find(const struct keyspace *ks, const void *key, size_t klen,
		   uint64_t hash)
{
	size_t i = hash & ks->mask;

	for (;;) {
		const struct ks_slot *s = &ks->slots[i];

		if (!s->e)
			return SIZE_MAX;
		if (s->hash == hash && s->e->klen == klen &&
		    memcmp(s->e->data, key, klen) == 0)
			return i;
		i = (i + 1) & ks->mask;
	}
}

static bool expired(const struct ks_entry *e, uint64_t now_ns)
{
	return e->expire_at != 0 && now_ns >= e->expire_at;
}

/*
 * Free slot i and close the gap: walk the cluster after it and move back
 * every entry whose home bucket does not lie in (i, j], i.e. that probing
 * from its home would otherwise no longer reach.
 */
static void remove_at(struct keyspace *ks, size_t i)
{
	size_t j = i;

	free(ks->slots[i].e);
	for (;;) {
		size_t home;

		j = (j + 1) & ks->mask;
		if (!ks->slots[j].e)
			break;
		home = ks->slots[j].hash & ks->mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		ks->slots[i] = ks->slots[j];
		i = j;
	}
	ks->slots[i].e = NULL;
	ks->slots[i].hash = 0;
	ks->count--;
}

/* Double the table; keep the load factor at most 3/4. */
static int grow(struct keyspace *ks)
{
	size_t nb = (ks->mask + 1) * 2, i;
	struct ks_slot *ns = calloc(nb, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (i = 0; i <= ks->mask; i++) {
		size_t j;

		if (!ks->slots[i].e)
			continue;
		j = ks->slots[i].hash & (nb - 1);
		while (ns[j].e)
			j = (j + 1) & (nb - 1);
		ns[j] = ks->slots[i];
	}
	free(ks->slots);
	ks->slots = ns;
	ks->mask = nb - 1;
	return 0;
}

int ks_get(struct keyspace *ks, const void *key, size_t klen,
	   uint64_t now_ns, const char **val, size_t *vlen)
{
	size_t i = find(ks, key, klen, kv_key_hash(key, klen));
	struct ks_entry *e;

	if (i == SIZE_MAX)
		return 0;
	e = ks->slots[i].e;
	if (expired(e, now_ns)) {
		remove_at(ks, i);
		return 0;
	}
	*val = e->data + e->klen;
	*vlen = e->vlen;
	return 1;
}

static struct ks_entry *entry_new(const void *key, size_t klen,
				  const void *val, size_t vlen)
{
	struct ks_entry *e = malloc(sizeof(*e) + klen + vlen);

	if (!e)
		return NULL;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	e->vcap = (uint32_t)vlen;
	memcpy(e->data, key, klen);
	if (vlen)
		memcpy(e->data + klen, val, vlen);
	return e;
}

int ks_set(struct keyspace *ks, const void *key, size_t klen,
	   const void *val, size_t vlen, uint64_t expire_at_ns,
	   uint64_t now_ns)
{
	uint64_t hash = kv_key_hash(key, klen);
	size_t i = find(ks, key, klen, hash);
	struct ks_entry *e;

	if (klen > UINT32_MAX || vlen > UINT32_MAX)
		return -ENOMEM;
	if (i != SIZE_MAX) {
		e = ks->slots[i].e;
		if (expire_at_ns == KS_KEEP_TTL)
			expire_at_ns = expired(e, now_ns) ? 0 : e->expire_at;
		/*
		 * Reuse the allocation when the value fits and would not
		 * leave most of it idle; else one realloc.
		 */
		if (vlen > e->vcap || vlen < e->vcap / 4) {
			struct ks_entry *ne = realloc(e, sizeof(*e) + klen +
						      vlen);

			if (!ne)
				return -ENOMEM;
			e = ne;
			e->vcap = (uint32_t)vlen;
			ks->slots[i].e = e;
		}
		if (vlen)
			memcpy(e->data + klen, val, vlen);
		e->vlen = (uint32_t)vlen;
		e->expire_at = expire_at_ns;
		return 0;
	}
	if (expire_at_ns == KS_KEEP_TTL)
		expire_at_ns = 0;
	if ((ks->count + 1) * 4 > (ks->mask + 1) * 3 && grow(ks))
		return -ENOMEM;
	e = entry_new(key, klen, val, vlen);
	if (!e)
		return -ENOMEM;
	e->expire_at = expire_at_ns;
	i = hash & ks->mask;
	while (ks->slots[i].e)
		i = (i + 1) & ks->mask;
	ks->slots[i].hash = hash;
	ks->slots[i].e = e;
	ks->count++;
	return 0;
}

int ks_del(struct keyspace *ks, const void *key, size_t klen,
	   uint64_t now_ns)
{
	size_t i = find(ks, key, klen, kv_key_hash(key, klen));
	int live;

	if (i == SIZE_MAX)
		return 0;
	live = !expired(ks->slots[i].e, now_ns);
	remove_at(ks, i);
	return live;
}

/* ------------------------------------------------------------------ */
/* Running sub-requests                                                */
/* ------------------------------------------------------------------ */

static const char err_oom[] = "ERR out of memory";

static int exec_set(struct keyspace *ks, const struct kv_subreq *r,
		    const struct resp_str *k, const struct resp_str *v,
		    uint64_t now_ns, struct resp_buf *reply)
{
	uint64_t expire_at = 0;
	const char *old;
	size_t oldlen;

	if (r->flags & (KV_SET_NX | KV_SET_XX)) {
		int exists = ks_get(ks, k->p, k->len, now_ns, &old, &oldlen);

		if ((r->flags & KV_SET_NX) && exists)
			return kv_subreply_null(reply);
		if ((r->flags & KV_SET_XX) && !exists)
			return kv_subreply_null(reply);
	}
	/* kv_subreq_open() bounded ttl_ms, so this cannot overflow. */
	if (r->flags & KV_SET_TTL)
		expire_at = now_ns + (uint64_t)r->ttl_ms * 1000000u;
	if (ks_set(ks, k->p, k->len, v->p, v->len, expire_at, now_ns))
		return kv_subreply_err(reply, err_oom);
	return kv_subreply_ok(reply);
}

/* INCR keeps the key's expiry, as Redis does. */
static int exec_incr(struct keyspace *ks, const struct resp_str *k,
		     uint64_t now_ns, struct resp_buf *reply)
{
	const char *val;
	size_t vlen;
	int64_t n = 0;
	char tmp[24];
	int len;

	if (ks_get(ks, k->p, k->len, now_ns, &val, &vlen)) {
		if (resp_parse_i64(val, vlen, &n))
			return kv_subreply_err(reply,
				"ERR value is not an integer or out of range");
		if (n == INT64_MAX)
			return kv_subreply_err(reply,
				"ERR increment or decrement would overflow");
	}
	n++;
	len = snprintf(tmp, sizeof(tmp), "%" PRId64, n);
	if (ks_set(ks, k->p, k->len, tmp, (size_t)len, KS_KEEP_TTL, now_ns))
		return kv_subreply_err(reply, err_oom);
	return kv_subreply_int(reply, n);
}

static int exec_one(struct keyspace *ks, const struct kv_subreq *r,
		    const struct resp_str *k, const struct resp_str *v,
		    uint64_t now_ns, struct resp_buf *reply)
{
	const char *val;
	size_t vlen;

	switch (r->op) {
	case KV_OP_GET:
		if (ks_get(ks, k->p, k->len, now_ns, &val, &vlen))
			return kv_subreply_bulk(reply, val, vlen);
		return kv_subreply_null(reply);
	case KV_OP_SET:
		return exec_set(ks, r, k, v, now_ns, reply);
	case KV_OP_DEL:
		return kv_subreply_int(reply, ks_del(ks, k->p, k->len, now_ns));
	case KV_OP_EXISTS:
		return kv_subreply_int(reply, ks_get(ks, k->p, k->len, now_ns,
						     &val, &vlen));
	case KV_OP_INCR:
		return exec_incr(ks, k, now_ns, reply);
	default:
		return -EINVAL;
	}
}

int kv_exec(struct keyspace *ks, const void *req, size_t len,
	    uint64_t now_ns, struct resp_buf *reply)
{
	size_t old = reply->len;
	struct kv_subreq r;
	struct resp_str k, v;
	uint32_t i;
	int rc;

	if (kv_subreq_open(&r, req, len))
		return -EINVAL;
	if (kv_subreply_begin(reply, r.seq, r.part, (uint16_t)r.nkeys))
		return -ENOMEM;
	for (i = 0; i < r.nkeys; i++) {
		rc = kv_subreq_next(&r, &k, &v);
		if (rc != 1) {
			rc = -EINVAL;
			goto fail;
		}
		rc = exec_one(ks, &r, &k, &v, now_ns, reply);
		if (rc)
			goto fail;
	}
	/* Bytes after the last announced key mean a malformed request. */
	if (r.cur != r.end) {
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	reply->len = old;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

#define NO_PART 0xffffu

int kv_route_init(struct kv_route *rt, const struct kv_request *req,
		  unsigned nshards)
{
	uint16_t *map;
	uint32_t i;

	memset(rt, 0, sizeof(*rt));
	if (req->nkeys == 0 || nshards == 0)
		return 0;
	rt->part_shard = &rt->one_shard;
	rt->nparts = 1;
	if (nshards == 1)
		return 0;
	if (req->nkeys == 1) {
		struct resp_str k = kv_request_key(req, 0);

		rt->one_shard = (uint16_t)kv_key_shard(k.p, k.len, nshards);
		return 0;
	}
	/* One allocation: key_part[nkeys], part_shard and map[nshards]. */
	rt->key_part = malloc(((size_t)req->nkeys + 2 * (size_t)nshards) *
			      sizeof(uint16_t));
	if (!rt->key_part) {
		rt->nparts = 0;
		return -ENOMEM;
	}
	rt->part_shard = rt->key_part + req->nkeys;
	map = rt->part_shard + nshards;
	memset(map, 0xff, nshards * sizeof(*map));
	rt->nparts = 0;
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
/* The pipeline in one call                                            */
/* ------------------------------------------------------------------ */

int kv_execute(struct keyspace *const *shards, unsigned nshards,
	       const struct resp_cmd *args, uint64_t now_ns,
	       struct resp_buf *out)
{
	struct resp_buf rq, *replies = NULL;
	struct kv_part *parts = NULL;
	struct kv_request req;
	struct kv_route rt;
	unsigned p;
	int r;

	r = kv_request_prepare(args, &req, out);
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
	resp_buf_init(&rq);
	for (p = 0; p < rt.nparts; p++) {
		rq.len = 0;
		if (kv_subreq_encode(&rq, &req, 0, (uint16_t)p,
				     rt.key_part) < 0)
			continue;	/* parts[p] stays lost: merge says so */
		if (kv_exec(shards[rt.part_shard[p]], rq.data, rq.len, now_ns,
			    &replies[p]) == 0) {
			parts[p].p = replies[p].data;
			parts[p].len = replies[p].len;
		}
	}
	resp_buf_fini(&rq);
	r = kv_reply_merge(req.cmd, req.nkeys, rt.key_part, parts, rt.nparts,
			   out);
out:
	if (replies)
		for (p = 0; p < rt.nparts; p++)
			resp_buf_fini(&replies[p]);
	free(replies);
	free(parts);
	kv_route_fini(&rt);
	return r;
}
