/*
 * examples/kvserver/keyspace.h: one shard's keys and values, and the
 * functions that run a command's sub-request against them.
 *
 * A keyspace is owned by one thread (in the server, by one keyspace
 * actor) and takes no locks. Keys and values are binary-safe byte strings.
 *
 * Expiry is lazy: a key carries an absolute expiry time on the caller's
 * ns clock and is removed when an access finds it past that time (every
 * function here takes `now_ns`). A key that expires and is never touched
 * again stays in memory until it is overwritten or the keyspace is
 * destroyed; Redis adds a sampling sweep for that, which this example
 * leaves out.
 */
#ifndef KV_KEYSPACE_H
#define KV_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

struct keyspace;

/* Expiry value that ks_set() reads as "keep the key's current expiry". */
#define KS_KEEP_TTL UINT64_MAX

/*
 * The 64-bit hash of a key. The table indexes with its low bits and
 * kv_key_shard() routes with its high bits, so that the keys one shard
 * owns still spread over all of that shard's buckets.
 */
uint64_t kv_key_hash(const void *key, size_t len);

/* The shard (0 .. nshards-1) that owns `key`. */
unsigned kv_key_shard(const void *key, size_t len, unsigned nshards);

/* 0 or -ENOMEM; `*out` is the caller's until ks_destroy(). */
int ks_create(struct keyspace **out);
void ks_destroy(struct keyspace *ks);	/* NULL is a no-op */

/*
 * Find a live key. 1 with *val and *vlen pointing at the value (valid until
 * the next change to the keyspace), 0 when absent or expired.
 */
int ks_get(struct keyspace *ks, const void *key, size_t klen,
	   uint64_t now_ns, const char **val, size_t *vlen);

/*
 * Create or overwrite `key`. expire_at_ns: 0 = never, KS_KEEP_TTL = keep
 * what the key had (none if it is new), else absolute ns. 0 or -ENOMEM
 * (the keyspace is unchanged).
 */
int ks_set(struct keyspace *ks, const void *key, size_t klen,
	   const void *val, size_t vlen, uint64_t expire_at_ns,
	   uint64_t now_ns);

/* 1 if a live key was removed, 0 if there was none. */
int ks_del(struct keyspace *ks, const void *key, size_t klen,
	   uint64_t now_ns);

/* Keys held, counting expired ones not yet removed. */
size_t ks_count(const struct keyspace *ks);

/* Buckets in the table (for tests of growth). */
size_t ks_buckets(const struct keyspace *ks);

/*
 * Run one sub-request (resp.h) against `ks` and append its sub-reply,
 * one result per key, to `reply`. The keyspace actor calls this for each
 * KV_MSG_REQ; it is a pure function of the keyspace, the bytes and the
 * clock. Returns 0; -EINVAL when `req` is malformed (nothing appended,
 * nothing changed if the header was bad; keys before a malformed one
 * have run); -ENOMEM when the reply could not be built.
 */
int kv_exec(struct keyspace *ks, const void *req, size_t len,
	    uint64_t now_ns, struct resp_buf *reply);

/*
 * Which part of a command each key's result lands in, and which shard
 * each part goes to: the split step of a multi-key command. Parts are
 * numbered in the order their shard first appears among the keys.
 * key_part is NULL when there is one part (all keys on one shard), which
 * is what kv_subreq_encode() and kv_reply_merge() take to mean "all".
 */
struct kv_route {
	unsigned nparts;
	uint16_t *key_part;	/* nkeys entries, or NULL; owned */
	uint16_t *part_shard;	/* nparts entries; points at one_shard or */
				/* into key_part's allocation */
	uint16_t one_shard;	/* storage for the one-part case */
};

/* 0 or -ENOMEM. A route for a request with no keys has no parts. */
int kv_route_init(struct kv_route *rt, const struct kv_request *req,
		  unsigned nshards);
void kv_route_fini(struct kv_route *rt);

/*
 * Give up ownership of key_part (and part_shard with it when nparts > 1)
 * to the caller, who frees key_part with free(). For a connection that
 * keeps it until the parts come back.
 */
uint16_t *kv_route_take(struct kv_route *rt);

/*
 * The whole pipeline at once, as the server does it with messages: check
 * `args`, answer keyless commands, else split the keys over `nshards`
 * keyspaces, run each part with kv_exec() and merge the results. Appends
 * one RESP reply to `out`. 0 or -ENOMEM.
 */
int kv_execute(struct keyspace *const *shards, unsigned nshards,
	       const struct resp_cmd *args, uint64_t now_ns,
	       struct resp_buf *out);

#endif /* KV_KEYSPACE_H */
