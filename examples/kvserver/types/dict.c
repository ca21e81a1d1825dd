/*
 * examples/kvserver/types/dict.c: dense items plus a linear-probing index
 * of their positions, at most half full (see dict.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../keyspace.h"
#include "dict.h"

#define MIN_INDEX 8

void kv_dict_init(struct kv_dict *d)
{
	memset(d, 0, sizeof(*d));
}

void kv_dict_fini(struct kv_dict *d)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		free(d->items[i]);
	free(d->items);
	free(d->index);
	kv_dict_init(d);
}

/* The index slot holding position `pos` of an item with hash `hash`. */
static uint32_t slot_of(const struct kv_dict *d, uint64_t hash, uint32_t pos)
{
	uint32_t i = (uint32_t)hash & d->mask;

	while (d->index[i] != pos + 1)
		i = (i + 1) & d->mask;
	return i;
}

struct kv_ditem *kv_dict_find(const struct kv_dict *d, const void *key,
			      size_t klen)
{
	uint64_t h;
	uint32_t i;

	if (d->n == 0)
		return NULL;
	h = kv_key_hash(key, klen);
	for (i = (uint32_t)h & d->mask; d->index[i]; i = (i + 1) & d->mask) {
		struct kv_ditem *it = d->items[d->index[i] - 1];

		if (it->hash == h && it->klen == klen &&
		    memcmp(it->key, key, klen) == 0)
			return it;
	}
	return NULL;
}

/* Rebuild the index with `slots` slots from the items. */
static int reindex(struct kv_dict *d, uint32_t slots)
{
	uint32_t *ni = calloc(slots, sizeof(*ni)), k;

	if (!ni)
		return -ENOMEM;
	for (k = 0; k < d->n; k++) {
		uint32_t i = (uint32_t)d->items[k]->hash & (slots - 1);

		while (ni[i])
			i = (i + 1) & (slots - 1);
		ni[i] = k + 1;
	}
	free(d->index);
	d->index = ni;
	d->mask = slots - 1;
	return 0;
}

int kv_dict_add(struct kv_dict *d, const void *key, size_t klen,
		struct kv_ditem **out)
{
	struct kv_ditem *it;
	uint32_t i;

	if (klen > UINT32_MAX || d->n == UINT32_MAX / 4)
		return -ENOMEM;
	if (d->n == d->cap) {
		uint32_t ncap = d->cap ? d->cap * 2 : 4;
		struct kv_ditem **ni = realloc(d->items, ncap * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		d->items = ni;
		d->cap = ncap;
	}
	if ((d->n + 1) * 2 > d->mask + 1 &&
	    reindex(d, d->mask ? (d->mask + 1) * 2 : MIN_INDEX))
		return -ENOMEM;
	it = malloc(sizeof(*it) + klen);
	if (!it)
		return -ENOMEM;
	memset(it, 0, sizeof(*it));
	it->hash = kv_key_hash(key, klen);
	it->klen = (uint32_t)klen;
	it->pos = d->n;
	if (klen)
		memcpy(it->key, key, klen);
	for (i = (uint32_t)it->hash & d->mask; d->index[i];
	     i = (i + 1) & d->mask)
		;
	d->index[i] = d->n + 1;
	d->items[d->n++] = it;
	*out = it;
	return 0;
}

/* Empty index slot i and shift back the rest of its cluster. */
static void index_remove(struct kv_dict *d, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & d->mask;
		if (!d->index[j])
			break;
		home = (uint32_t)d->items[d->index[j] - 1]->hash & d->mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		d->index[i] = d->index[j];
		i = j;
	}
	d->index[i] = 0;
}

/* Item at position `from` now sits at `to`: fix it and its slot. */
static void relocate(struct kv_dict *d, uint32_t from, uint32_t to)
{
	struct kv_ditem *it = d->items[from];

	d->index[slot_of(d, it->hash, from)] = to + 1;
	it->pos = to;
	d->items[to] = it;
}

void kv_dict_unlink(struct kv_dict *d, struct kv_ditem *it, bool keep_order)
{
	uint32_t pos = it->pos, k;

	index_remove(d, slot_of(d, it->hash, pos));
	if (keep_order) {
		for (k = pos + 1; k < d->n; k++)
			relocate(d, k, k - 1);
	} else if (pos != d->n - 1) {
		relocate(d, d->n - 1, pos);
	}
	d->n--;
	/* Give memory back as it empties; failing to is harmless. */
	if (d->mask + 1 > MIN_INDEX && d->n * 8 < d->mask + 1)
		reindex(d, (d->mask + 1) / 2);
	if (d->cap > 4 && d->n < d->cap / 4) {
		struct kv_ditem **ni = realloc(d->items, d->cap / 2 *
					       sizeof(*ni));

		if (ni) {
			d->items = ni;
			d->cap /= 2;
		}
	}
}
