/*
 * examples/kvserver/types/zset.c: a skiplist with spans (Pugh's list, a
 * node per member, each level a forward pointer plus how many nodes it
 * skips, so ranks come out of the same walk) beside a kv_dict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zset.h"

#define MAX_LEVEL 32

struct zs_level {
	struct zs_node *fwd;
	size_t span;		/* nodes passed by following fwd */
};

struct zs_node {
	double score;
	struct kv_ditem *m;	/* NULL in the head sentinel */
	struct zs_node *back;
	struct zs_level lvl[];
};

static struct zs_node *node_new(int level, double score, struct kv_ditem *m)
{
	struct zs_node *n = calloc(1, sizeof(*n) +
				   (size_t)level * sizeof(struct zs_level));

	if (n) {
		n->score = score;
		n->m = m;
	}
	return n;
}

int kv_zset_create(size_t first_len, struct kv_zset **out)
{
	struct kv_zset *z = calloc(1, sizeof(*z));

	if (!z)
		return -ENOMEM;
	z->head = node_new(MAX_LEVEL, 0, NULL);
	if (!z->head) {
		free(z);
		return -ENOMEM;
	}
	kv_dict_init(&z->d);
	z->level = 1;
	z->big = first_len > KV_ZSET_MAX_SMALL_VALUE;
	z->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)z;
	*out = z;
	return 0;
}

void kv_zset_free(struct kv_zset *z)
{
	struct zs_node *n, *next;

	if (!z)
		return;
	for (n = z->head; n; n = next) {
		next = n->lvl[0].fwd;
		free(n);
	}
	kv_dict_fini(&z->d);
	free(z);
}

struct kv_ditem *kv_zset_find(const struct kv_zset *z, const char *m,
			      size_t len)
{
	return kv_dict_find(&z->d, m, len);
}

/* Order of (score, member): members compare as bytes, shorter first. */
static int cmp(double s, const struct kv_ditem *m, const struct zs_node *n)
{
	size_t l;
	int c;

	if (s != n->score)
		return s < n->score ? -1 : 1;
	l = m->klen < n->m->klen ? m->klen : n->m->klen;
	c = memcmp(m->key, n->m->key, l);
	if (c)
		return c;
	return (m->klen > n->m->klen) - (m->klen < n->m->klen);
}

/* A level from 1, each next one with probability 1/4. */
static int random_level(struct kv_zset *z)
{
	int level = 1;

	for (;;) {
		uint64_t x = z->rng;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		z->rng = x;
		if (level >= MAX_LEVEL || ((x * 0x2545f4914f6cdd1dULL) >> 62))
			return level;
		level++;
	}
}

/*
 * The last node before (score, m) on each level, and the rank of each,
 * for an insertion or removal at that place.
 */
static void find_path(const struct kv_zset *z, double score,
		      const struct kv_ditem *m, struct zs_node **upd,
		      size_t *rank)
{
	struct zs_node *x = z->head;
	int i;

	for (i = z->level - 1; i >= 0; i--) {
		rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
		while (x->lvl[i].fwd && cmp(score, m, x->lvl[i].fwd) > 0) {
			rank[i] += x->lvl[i].span;
			x = x->lvl[i].fwd;
		}
		upd[i] = x;
	}
}

static int link_node(struct kv_zset *z, struct kv_ditem *m, double score)
{
	struct zs_node *upd[MAX_LEVEL], *x;
	size_t rank[MAX_LEVEL];
	int i, level;

	find_path(z, score, m, upd, rank);
	level = random_level(z);
	if (level > z->level) {
		for (i = z->level; i < level; i++) {
			rank[i] = 0;
			upd[i] = z->head;
			upd[i]->lvl[i].span = z->d.n - 1;
		}
		z->level = level;
	}
	x = node_new(level, score, m);
	if (!x)
		return -ENOMEM;
	for (i = 0; i < level; i++) {
		x->lvl[i].fwd = upd[i]->lvl[i].fwd;
		upd[i]->lvl[i].fwd = x;
		x->lvl[i].span = upd[i]->lvl[i].span - (rank[0] - rank[i]);
		upd[i]->lvl[i].span = rank[0] - rank[i] + 1;
	}
	for (i = level; i < z->level; i++)
		upd[i]->lvl[i].span++;
	x->back = upd[0] == z->head ? NULL : upd[0];
	if (x->lvl[0].fwd)
		x->lvl[0].fwd->back = x;
	else
		z->tail = x;
	m->u.z.node = x;
	m->u.z.score = score;
	return 0;
}

static void unlink_node(struct kv_zset *z, struct kv_ditem *m)
{
	struct zs_node *upd[MAX_LEVEL], *x = m->u.z.node;
	size_t rank[MAX_LEVEL];
	int i;

	find_path(z, m->u.z.score, m, upd, rank);
	for (i = 0; i < z->level; i++) {
		if (upd[i]->lvl[i].fwd == x) {
			upd[i]->lvl[i].span += x->lvl[i].span - 1;
			upd[i]->lvl[i].fwd = x->lvl[i].fwd;
		} else {
			upd[i]->lvl[i].span--;
		}
	}
	if (x->lvl[0].fwd)
		x->lvl[0].fwd->back = x->back;
	else
		z->tail = x->back;
	while (z->level > 1 && !z->head->lvl[z->level - 1].fwd)
		z->level--;
	free(x);
	m->u.z.node = NULL;
}

/* A small set stores scores as text, where -0 comes back as 0. */
static double stored(const struct kv_zset *z, double score)
{
	return !z->big && score == 0 ? 0.0 : score;
}

int kv_zset_insert(struct kv_zset *z, const char *m, size_t len,
		   double score)
{
	struct kv_ditem *it;

	if (kv_dict_add(&z->d, m, len, &it))
		return -ENOMEM;
	if (!z->big && (z->d.n > KV_ZSET_MAX_SMALL_ENTRIES ||
			len > KV_ZSET_MAX_SMALL_VALUE))
		z->big = true;
	if (link_node(z, it, stored(z, score))) {
		kv_dict_unlink(&z->d, it, false);
		free(it);
		return -ENOMEM;
	}
	return 0;
}

int kv_zset_update(struct kv_zset *z, struct kv_ditem *it, double score)
{
	unlink_node(z, it);
	if (link_node(z, it, stored(z, score))) {
		kv_dict_unlink(&z->d, it, false);
		free(it);
		return -ENOMEM;
	}
	return 0;
}

void kv_zset_remove(struct kv_zset *z, struct kv_ditem *it)
{
	unlink_node(z, it);
	kv_dict_unlink(&z->d, it, false);
	free(it);
}

struct zs_node *kv_zset_at(const struct kv_zset *z, size_t rank)
{
	struct zs_node *x = z->head;
	size_t passed = 0;
	int i;

	if (rank >= z->d.n)
		return NULL;
	rank++;		/* the head is rank 0 of the walk */
	for (i = z->level - 1; i >= 0; i--) {
		while (x->lvl[i].fwd && passed + x->lvl[i].span <= rank) {
			passed += x->lvl[i].span;
			x = x->lvl[i].fwd;
		}
		if (passed == rank)
			return x;
	}
	return NULL;
}

struct zs_node *kv_zset_first_from(const struct kv_zset *z, double min,
				   bool min_ex)
{
	struct zs_node *x = z->head;
	int i;

	for (i = z->level - 1; i >= 0; i--)
		while (x->lvl[i].fwd && (min_ex ? x->lvl[i].fwd->score <= min
					       : x->lvl[i].fwd->score < min))
			x = x->lvl[i].fwd;
	return x->lvl[0].fwd;
}

struct zs_node *kv_zset_last_upto(const struct kv_zset *z, double max,
				  bool max_ex)
{
	struct zs_node *x = z->head;
	int i;

	for (i = z->level - 1; i >= 0; i--)
		while (x->lvl[i].fwd && (max_ex ? x->lvl[i].fwd->score < max
					       : x->lvl[i].fwd->score <= max))
			x = x->lvl[i].fwd;
	return x == z->head ? NULL : x;
}

struct zs_node *kv_zset_head(const struct kv_zset *z)
{
	return z->head->lvl[0].fwd;
}

struct zs_node *kv_zset_tail(const struct kv_zset *z)
{
	return z->tail;
}

struct zs_node *kv_zset_next(const struct zs_node *n)
{
	return n->lvl[0].fwd;
}

struct zs_node *kv_zset_prev(const struct kv_zset *z, const struct zs_node *n)
{
	(void)z;
	return n->back;
}

struct kv_ditem *kv_zset_member(const struct zs_node *n)
{
	return n->m;
}
