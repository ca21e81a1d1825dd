/*
 * examples/kvserver/types/zset.h: the sorted set type: members with a
 * double score, ordered by score then by member bytes.
 *
 * A skiplist with spans gives the order and ranks in O(log n); a kv_dict
 * finds a member's score. Redis 7.0 keeps small sorted sets (at most 128
 * members of at most 64 bytes) as a listpack that stores each score as
 * text, which turns -0 into 0; kv_zset does the same while small, so
 * ZSCORE and ZRANGE print what Redis prints.
 */
#ifndef KV_TYPES_ZSET_H
#define KV_TYPES_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict.h"

#define KV_ZSET_MAX_SMALL_ENTRIES 128	/* zset-max-listpack-entries */
#define KV_ZSET_MAX_SMALL_VALUE 64	/* zset-max-listpack-value */

struct zs_node;

struct kv_zset {
	struct kv_dict d;	/* member -> item: u.z.score, u.z.node */
	struct zs_node *head;	/* sentinel, all levels */
	struct zs_node *tail;
	int level;		/* levels in use */
	bool big;		/* past the small limits once */
	uint64_t rng;
};

/*
 * A new empty sorted set for a command whose first member to add is
 * `first_len` bytes long: Redis 7.0 picks the encoding from that alone.
 * 0 or -ENOMEM.
 */
int kv_zset_create(size_t first_len, struct kv_zset **out);
void kv_zset_free(struct kv_zset *z);		/* NULL is a no-op */

static inline size_t kv_zset_len(const struct kv_zset *z)
{
	return z->d.n;
}

struct kv_ditem *kv_zset_find(const struct kv_zset *z, const char *m,
			      size_t len);

/* Add a new member. 0 or -ENOMEM (unchanged). */
int kv_zset_insert(struct kv_zset *z, const char *m, size_t len,
		   double score);

/* Give member `it` a new score. 0 or -ENOMEM (it is then removed). */
int kv_zset_update(struct kv_zset *z, struct kv_ditem *it, double score);

/* Remove member `it` and free it. */
void kv_zset_remove(struct kv_zset *z, struct kv_ditem *it);

/* The node of rank `rank` (0 = lowest score), or NULL. */
struct zs_node *kv_zset_at(const struct kv_zset *z, size_t rank);

/*
 * The first node whose score is > min (min_ex) or >= min, and the last
 * whose score is < max (max_ex) or <= max; NULL when there is none.
 */
struct zs_node *kv_zset_first_from(const struct kv_zset *z, double min,
				   bool min_ex);
struct zs_node *kv_zset_last_upto(const struct kv_zset *z, double max,
				  bool max_ex);

/* The first and last nodes, NULL when empty. */
struct zs_node *kv_zset_head(const struct kv_zset *z);
struct zs_node *kv_zset_tail(const struct kv_zset *z);

/* Neighbours of a node, NULL past the ends. */
struct zs_node *kv_zset_next(const struct zs_node *n);
struct zs_node *kv_zset_prev(const struct kv_zset *z, const struct zs_node *n);

/* A node's member item (key bytes, u.z.score). */
struct kv_ditem *kv_zset_member(const struct zs_node *n);

#endif /* KV_TYPES_ZSET_H */
