/*
 * examples/kvserver/types/list.h: the list type, a double-ended queue of
 * byte strings: push and pop at both ends and index in O(1).
 */
#ifndef KV_TYPES_LIST_H
#define KV_TYPES_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* One element: its length, then its bytes. */
struct kv_blob {
	size_t len;
	char data[];
};

struct kv_list;

/* 0 or -ENOMEM. */
int kv_list_create(struct kv_list **out);
void kv_list_free(struct kv_list *l);		/* NULL is a no-op */
size_t kv_list_len(const struct kv_list *l);

/* Push a copy of p[0, n) at the head (left) or the tail. 0 or -ENOMEM. */
int kv_list_push(struct kv_list *l, bool left, const void *p, size_t n);

/* Pop the head or tail element, which the caller frees; NULL if empty. */
struct kv_blob *kv_list_pop(struct kv_list *l, bool left);

/* Element i (0 = head), i < kv_list_len(). */
const struct kv_blob *kv_list_at(const struct kv_list *l, size_t i);

#endif /* KV_TYPES_LIST_H */
