/*
 * examples/kvserver/types/dict.h: a map from byte strings to items, the
 * base of the set, hash and sorted-set types.
 *
 * Items live in a dense array, in insertion order until a removal swaps
 * the last item into the gap (ordered removal keeps the order, in O(n)),
 * so iteration is a walk of the array and a random member is one index.
 * An open-addressing index of positions finds an item by its key.
 */
#ifndef KV_TYPES_DICT_H
#define KV_TYPES_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_ditem {
	uint64_t hash;
	uint32_t pos;		/* index in kv_dict.items */
	uint32_t klen;
	union {
		struct {	/* hash: the field's value, malloc'd */
			char *p;
			size_t len;
		} val;
		struct {	/* sorted set */
			double score;
			void *node;	/* its skiplist node */
		} z;
		int64_t num;	/* set: the member as an integer */
	} u;
	char key[];
};

struct kv_dict {
	struct kv_ditem **items;
	uint32_t n;
	uint32_t cap;
	uint32_t *index;	/* position + 1, 0 = empty slot */
	uint32_t mask;		/* index slots - 1; 0 when none yet */
};

void kv_dict_init(struct kv_dict *d);
/* Free the arrays and every item (not what an item's union points to). */
void kv_dict_fini(struct kv_dict *d);

struct kv_ditem *kv_dict_find(const struct kv_dict *d, const void *key,
			      size_t klen);

/*
 * Add `key`, which must be absent, as the last item; its union is
 * zeroed. 0 with *out, or -ENOMEM (nothing changed).
 */
int kv_dict_add(struct kv_dict *d, const void *key, size_t klen,
		struct kv_ditem **out);

/*
 * Take item `it` out of the dict and hand it to the caller (free() it).
 * keep_order: shift the later items down instead of moving the last one
 * into the gap.
 */
void kv_dict_unlink(struct kv_dict *d, struct kv_ditem *it, bool keep_order);

#endif /* KV_TYPES_DICT_H */
