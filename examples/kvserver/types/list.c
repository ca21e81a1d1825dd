/*
 * examples/kvserver/types/list.c: a ring buffer of element pointers that
 * doubles when full and halves when a quarter full. LRANGE reads any
 * element in O(1); redis-benchmark's LRANGE_600 reads 600 per call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

struct kv_list {
	struct kv_blob **v;
	size_t cap;		/* a power of two, or 0 */
	size_t head;		/* index of element 0 */
	size_t len;
};

#define MIN_CAP 8

int kv_list_create(struct kv_list **out)
{
	struct kv_list *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	*out = l;
	return 0;
}

void kv_list_free(struct kv_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->len; i++)
		free(l->v[(l->head + i) & (l->cap - 1)]);
	free(l->v);
	free(l);
}

size_t kv_list_len(const struct kv_list *l)
{
	return l->len;
}

/* Move the elements to a ring of ncap slots, element 0 at slot 0. */
static int recap(struct kv_list *l, size_t ncap)
{
	struct kv_blob **nv = malloc(ncap * sizeof(*nv));
	size_t i;

	if (!nv)
		return -ENOMEM;
	for (i = 0; i < l->len; i++)
		nv[i] = l->v[(l->head + i) & (l->cap - 1)];
	free(l->v);
	l->v = nv;
	l->cap = ncap;
	l->head = 0;
	return 0;
}

int kv_list_push(struct kv_list *l, bool left, const void *p, size_t n)
{
	struct kv_blob *b;

	if (l->len == l->cap &&
	    recap(l, l->cap ? l->cap * 2 : MIN_CAP))
		return -ENOMEM;
	b = malloc(sizeof(*b) + n);
	if (!b)
		return -ENOMEM;
	b->len = n;
	if (n)
		memcpy(b->data, p, n);
	if (left) {
		l->head = (l->head - 1) & (l->cap - 1);
		l->v[l->head] = b;
	} else {
		l->v[(l->head + l->len) & (l->cap - 1)] = b;
	}
	l->len++;
	return 0;
}

struct kv_blob *kv_list_pop(struct kv_list *l, bool left)
{
	struct kv_blob *b;

	if (l->len == 0)
		return NULL;
	if (left) {
		b = l->v[l->head];
		l->head = (l->head + 1) & (l->cap - 1);
	} else {
		b = l->v[(l->head + l->len - 1) & (l->cap - 1)];
	}
	l->len--;
	/* Failing to shrink only keeps the memory a while longer. */
	if (l->cap > MIN_CAP && l->len < l->cap / 4)
		recap(l, l->cap / 2);
	return b;
}

const struct kv_blob *kv_list_at(const struct kv_list *l, size_t i)
{
	return l->v[(l->head + i) & (l->cap - 1)];
}
