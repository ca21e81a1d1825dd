/*
 * examples/kvserver/keyspace.h: one database of one shard: keys to typed
 * values, each key with an optional expiry time.
 *
 * A keyspace is owned by one thread (in the server, by one keyspace
 * actor) and takes no locks. Keys and values are binary-safe byte
 * strings. Times are Unix time in milliseconds, the clock Redis keeps
 * expiry times on; every call that may meet an expired key takes `now`.
 *
 * Expiry is lazy and active, as in Redis: a lookup that finds a key past
 * its time removes it, and ks_expire_sample() lets the owner sample the
 * keys that have a time and remove the expired ones, so keys that are
 * never touched again do not stay in memory. The table shrinks when it
 * gets sparse.
 */
#ifndef KV_KEYSPACE_H
#define KV_KEYSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyspace;

enum kv_type {
	KV_STRING,
	KV_LIST,
	KV_SET,
	KV_HASH,
	KV_ZSET,
};

/* kv_entry.vol of a key without an expiry time. */
#define KV_NOVOL UINT32_MAX

/*
 * One key and its value. A string's bytes follow the key in the same
 * allocation; other types point at their container (types/). An entry
 * may move when a string value grows: keep it only until the next call
 * that changes the keyspace.
 */
struct kv_entry {
	int64_t expire_at;	/* Unix ms; 0 = no expiry */
	uint32_t vol;		/* place among volatile keys, KV_NOVOL */
	uint32_t klen;
	uint8_t type;		/* enum kv_type */
	size_t vlen;		/* KV_STRING: bytes of the value */
	size_t vcap;		/* KV_STRING: bytes allocated for it */
	void *obj;		/* other types: the container */
	char data[];		/* the key, then a string's value */
};

static inline const char *kv_entry_key(const struct kv_entry *e)
{
	return e->data;
}

static inline char *kv_entry_str(struct kv_entry *e)
{
	return e->data + e->klen;
}

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

/* Remove every key. */
void ks_flush(struct keyspace *ks);

/*
 * The live entry of `key`, or NULL. A key found past its expiry time is
 * removed first (and counted in ks_expired()).
 */
struct kv_entry *ks_find(struct keyspace *ks, const void *key, size_t klen,
			 int64_t now);

/*
 * Make `key` a string holding val[0, vlen), whatever it held before
 * (an old container is freed). keep_ttl: keep the expiry time of a key
 * that exists, else the key has none. *out (may be NULL) gets the entry.
 * 0 or -ENOMEM (nothing changed).
 */
int ks_set_string(struct keyspace *ks, const void *key, size_t klen,
		  const void *val, size_t vlen, bool keep_ttl,
		  struct kv_entry **out);

/*
 * Resize the string of entry `*e` to vlen bytes, keeping the first
 * min(old, vlen) bytes; *e is updated if it moves. 0 or -ENOMEM.
 */
int ks_string_resize(struct keyspace *ks, struct kv_entry **e, size_t vlen);

/*
 * Add the new key `key` (which must not exist) holding container `obj`
 * of `type`; the keyspace owns obj from now on. 0 or -ENOMEM (obj is
 * still the caller's).
 */
int ks_add_obj(struct keyspace *ks, const void *key, size_t klen,
	       enum kv_type type, void *obj, struct kv_entry **out);

/* Remove `key`; 1 if a live key was removed, 0 if there was none. */
int ks_del(struct keyspace *ks, const void *key, size_t klen, int64_t now);

/* Remove entry `e` (found by ks_find). */
void ks_del_entry(struct keyspace *ks, struct kv_entry *e);

/* Give `e` the expiry time `when` (Unix ms, > 0), or none (0). */
int ks_set_expire(struct keyspace *ks, struct kv_entry *e, int64_t when);

/* Keys held, counting expired ones not yet removed (as Redis' DBSIZE). */
size_t ks_count(const struct keyspace *ks);

/* Keys with an expiry time. */
size_t ks_volatile(const struct keyspace *ks);

/* Keys removed because they expired, since creation. */
uint64_t ks_expired(const struct keyspace *ks);

/* Buckets in the table (for tests of growth and shrinking). */
size_t ks_buckets(const struct keyspace *ks);

/*
 * Walk the entries: start with *cursor = 0; each call gives the next
 * entry or NULL at the end. The keyspace must not change meanwhile.
 */
struct kv_entry *ks_next(const struct keyspace *ks, size_t *cursor);

/*
 * Active expiry: look at up to `n` keys with an expiry time, chosen at
 * random, and remove those expired at `now`. Returns how many were
 * removed; *sampled gets how many were looked at.
 */
unsigned ks_expire_sample(struct keyspace *ks, int64_t now, unsigned n,
			  unsigned *sampled);

/* Average time to live of the keys with one, ms, estimated by sampling. */
int64_t ks_avg_ttl(const struct keyspace *ks);

/* Free a container of `type` (types/); strings have none. */
void kv_obj_free(enum kv_type type, void *obj);

#endif /* KV_KEYSPACE_H */
