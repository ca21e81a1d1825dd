/*
 * examples/kvserver/types/set.h: the set type, distinct byte strings.
 *
 * Redis 7.0 keeps a set of at most 512 integers as a sorted array (an
 * "intset") and replies its members in numeric order; bigger sets, or
 * any with a non-integer member, live in a hash table whose order is
 * arbitrary. kv_set keeps the same "intset" property so that SMEMBERS of
 * such a set comes out in the order Redis gives.
 */
#ifndef KV_TYPES_SET_H
#define KV_TYPES_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict.h"

#define KV_SET_MAX_INTSET 512	/* Redis' set-max-intset-entries */

struct kv_set {
	struct kv_dict d;
	bool intset;		/* all integers, at most 512 of them */
};

/*
 * A new empty set; `first` is the member about to be added, which
 * decides the encoding as in Redis. 0 or -ENOMEM.
 */
int kv_set_create(const char *first, size_t len, struct kv_set **out);
void kv_set_free(struct kv_set *s);		/* NULL is a no-op */

static inline size_t kv_set_len(const struct kv_set *s)
{
	return s->d.n;
}

bool kv_set_has(const struct kv_set *s, const char *m, size_t len);
/* 1 added, 0 already there, -ENOMEM. */
int kv_set_add(struct kv_set *s, const char *m, size_t len);
/* 1 removed, 0 not there. */
int kv_set_remove(struct kv_set *s, const char *m, size_t len);

/*
 * Members in reply order: numeric for an intset, else storage order.
 * Fills out[0, len) with items; 0 or -ENOMEM.
 */
int kv_set_members(const struct kv_set *s, struct kv_ditem **out);

/* Unlink member at storage position `pos`; the caller frees it. */
struct kv_ditem *kv_set_take(struct kv_set *s, uint32_t pos);

#endif /* KV_TYPES_SET_H */
