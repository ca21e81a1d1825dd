/*
 * examples/kvserver/types/hash.h: the hash type, fields to values.
 *
 * Redis 7.0 keeps a small hash (at most 512 fields, none of them or
 * their values over 64 bytes) as a listpack, which HGETALL walks in
 * insertion order; bigger ones in a hash table of arbitrary order. kv_hash
 * keeps insertion order while the hash is small in that sense, so small
 * hashes reply as Redis' do.
 */
#ifndef KV_TYPES_HASH_H
#define KV_TYPES_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "dict.h"

#define KV_HASH_MAX_SMALL_ENTRIES 512	/* hash-max-listpack-entries */
#define KV_HASH_MAX_SMALL_VALUE 64	/* hash-max-listpack-value */

struct kv_hash {
	struct kv_dict d;
	bool big;		/* past the small limits once: order is free */
};

int kv_hash_create(struct kv_hash **out);	/* 0 or -ENOMEM */
void kv_hash_free(struct kv_hash *h);		/* NULL is a no-op */

static inline size_t kv_hash_len(const struct kv_hash *h)
{
	return h->d.n;
}

/* The field's item (u.val holds the value), or NULL. */
struct kv_ditem *kv_hash_get(const struct kv_hash *h, const char *f,
			     size_t flen);

/* Set a field: 1 new, 0 updated, -ENOMEM (unchanged). */
int kv_hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v,
		size_t vlen);

/* 1 removed, 0 not there. */
int kv_hash_del(struct kv_hash *h, const char *f, size_t flen);

/* Note that an argument of `len` bytes is going in (Redis' conversion). */
void kv_hash_note_len(struct kv_hash *h, size_t len);

#endif /* KV_TYPES_HASH_H */
