/*
 * examples/kvserver/types/set.c: the set type on a kv_dict (see set.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../resp.h"
#include "set.h"

int kv_set_create(const char *first, size_t len, struct kv_set **out)
{
	struct kv_set *s = calloc(1, sizeof(*s));
	int64_t v;

	if (!s)
		return -ENOMEM;
	kv_dict_init(&s->d);
	s->intset = resp_parse_i64(first, len, &v) == 0;
	*out = s;
	return 0;
}

void kv_set_free(struct kv_set *s)
{
	if (!s)
		return;
	kv_dict_fini(&s->d);
	free(s);
}

bool kv_set_has(const struct kv_set *s, const char *m, size_t len)
{
	return kv_dict_find(&s->d, m, len) != NULL;
}

int kv_set_add(struct kv_set *s, const char *m, size_t len)
{
	struct kv_ditem *it;
	int64_t v = 0;
	bool isint;

	if (kv_dict_find(&s->d, m, len))
		return 0;
	isint = resp_parse_i64(m, len, &v) == 0;
	if (kv_dict_add(&s->d, m, len, &it))
		return -ENOMEM;
	it->u.num = v;
	/* Redis converts an intset for good: one more member, or a word. */
	if (s->intset && (!isint || s->d.n > KV_SET_MAX_INTSET))
		s->intset = false;
	return 1;
}

int kv_set_remove(struct kv_set *s, const char *m, size_t len)
{
	struct kv_ditem *it = kv_dict_find(&s->d, m, len);

	if (!it)
		return 0;
	kv_dict_unlink(&s->d, it, false);
	free(it);
	return 1;
}

static int by_num(const void *a, const void *b)
{
	const struct kv_ditem *x = *(struct kv_ditem *const *)a;
	const struct kv_ditem *y = *(struct kv_ditem *const *)b;

	return (x->u.num > y->u.num) - (x->u.num < y->u.num);
}

int kv_set_members(const struct kv_set *s, struct kv_ditem **out)
{
	if (s->d.n)
		memcpy(out, s->d.items, s->d.n * sizeof(*out));
	if (s->intset)
		qsort(out, s->d.n, sizeof(*out), by_num);
	return 0;
}

struct kv_ditem *kv_set_take(struct kv_set *s, uint32_t pos)
{
	struct kv_ditem *it = s->d.items[pos];

	kv_dict_unlink(&s->d, it, false);
	return it;
}
