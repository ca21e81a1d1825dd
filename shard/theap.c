/*
 * shard/theap.c: the pairing heap behind a shard's timers (shard/theap.h).
 *
 * A pairing heap is a heap-ordered multiway tree kept as leftmost-child /
 * right-sibling links. Melding two trees makes the later root the
 * leftmost child of the earlier one, O(1). Removing a root melds its
 * children with the two-pass rule: meld them in pairs left to right,
 * then meld the pairs right to left; this is what gives O(log n)
 * amortised removal. Removing any other node cuts its subtree out of
 * its sibling list, removes the node from the subtree as a root, and
 * melds the rest back into the heap.
 */
#include <stddef.h>

#include "shard/theap.h"

static bool earlier(const ra_tnode_t *a, const ra_tnode_t *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

/* Meld two roots (prev and next NULL, either may be NULL); the new root. */
static ra_tnode_t *meld(ra_tnode_t *a, ra_tnode_t *b)
{
	ra_tnode_t *t;

	if (!a)
		return b;
	if (!b)
		return a;
	if (earlier(b, a)) {
		t = a;
		a = b;
		b = t;
	}
	/* b becomes a's leftmost child; its prev names the parent. */
	b->prev = a;
	b->next = a->child;
	if (a->child)
		a->child->prev = b;
	a->child = b;
	return a;
}

/* Two-pass meld of the sibling list from `first`; the new root. */
static ra_tnode_t *merge_pairs(ra_tnode_t *first)
{
	ra_tnode_t *pairs = NULL, *root = NULL;

	/* Pass 1, left to right: meld in pairs, stacking the results. */
	while (first) {
		ra_tnode_t *a = first, *b = first->next;

		first = b ? b->next : NULL;
		a->prev = a->next = NULL;
		if (b) {
			b->prev = b->next = NULL;
			a = meld(a, b);
		}
		a->next = pairs;	/* the stack reuses the sibling link */
		pairs = a;
	}
	/* Pass 2, right to left (the stack's order): meld into one. */
	while (pairs) {
		ra_tnode_t *n = pairs->next;

		pairs->next = NULL;
		root = meld(root, pairs);
		pairs = n;
	}
	return root;
}

void ra__theap_push(ra_theap_t *h, ra_tnode_t *t)
{
	t->child = t->next = t->prev = NULL;
	h->root = meld(h->root, t);
	h->n++;
}

void ra__theap_remove(ra_theap_t *h, ra_tnode_t *t)
{
	if (t == h->root) {
		h->root = merge_pairs(t->child);
	} else {
		/* Unlink t's subtree from its siblings (or its parent). */
		if (t->prev->child == t)
			t->prev->child = t->next;
		else
			t->prev->next = t->next;
		if (t->next)
			t->next->prev = t->prev;
		t->prev = t->next = NULL;
		h->root = meld(h->root, merge_pairs(t->child));
	}
	t->child = t->next = t->prev = NULL;
	h->n--;
}
