/*
 * examples/kvserver/types/hash.c: the hash type on a kv_dict (see hash.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

int kv_hash_create(struct kv_hash **out)
{
	struct kv_hash *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	kv_dict_init(&h->d);
	*out = h;
	return 0;
}

void kv_hash_free(struct kv_hash *h)
{
	uint32_t i;

	if (!h)
		return;
	for (i = 0; i < h->d.n; i++)
		free(h->d.items[i]->u.val.p);
	kv_dict_fini(&h->d);
	free(h);
}

struct kv_ditem *kv_hash_get(const struct kv_hash *h, const char *f,
			     size_t flen)
{
	return kv_dict_find(&h->d, f, flen);
}

void kv_hash_note_len(struct kv_hash *h, size_t len)
{
	if (len > KV_HASH_MAX_SMALL_VALUE)
		h->big = true;
}

static char *dup_bytes(const char *v, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p && n)
		memcpy(p, v, n);
	return p;
}

int kv_hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v,
		size_t vlen)
{
	struct kv_ditem *it = kv_dict_find(&h->d, f, flen);
	char *copy = dup_bytes(v, vlen);

	if (!copy)
		return -ENOMEM;
	if (it) {
		free(it->u.val.p);
		it->u.val.p = copy;
		it->u.val.len = vlen;
		return 0;
	}
	if (kv_dict_add(&h->d, f, flen, &it)) {
		free(copy);
		return -ENOMEM;
	}
	it->u.val.p = copy;
	it->u.val.len = vlen;
	if (h->d.n > KV_HASH_MAX_SMALL_ENTRIES)
		h->big = true;
	return 1;
}

int kv_hash_del(struct kv_hash *h, const char *f, size_t flen)
{
	struct kv_ditem *it = kv_dict_find(&h->d, f, flen);

	if (!it)
		return 0;
	/* A listpack keeps its order when an entry goes; a table need not. */
	kv_dict_unlink(&h->d, it, !h->big);
	free(it->u.val.p);
	free(it);
	return 1;
}
