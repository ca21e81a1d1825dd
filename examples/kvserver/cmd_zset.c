/*
 * examples/kvserver/cmd_zset.c: ZADD, ZPOPMIN, ZRANGE (by rank, score or
 * lex, REV, LIMIT, WITHSCORES), ZCARD, ZSCORE, ZREM, in the order
 * redis-server 7.0 checks their arguments.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "types/zset.h"

/* ---- ZADD ---- */

#define Z_NX	(1u << 0)
#define Z_XX	(1u << 1)
#define Z_CH	(1u << 2)
#define Z_INCR	(1u << 3)
#define Z_GT	(1u << 4)
#define Z_LT	(1u << 5)

/* What one score-member pair did. */
struct zadd_tally {
	int64_t added, updated, processed;
	double last;		/* the member's score afterwards (INCR) */
};

/*
 * Redis' options come first, in any order, until the first argument
 * that is none of them; then score-member pairs.
 */
static size_t zadd_options(size_t argc, const struct resp_str *argv,
			   unsigned *flags)
{
	static const char *const names[] = { "nx", "xx", "ch", "incr", "gt",
					     "lt" };
	size_t i, k;

	*flags = 0;
	for (i = 2; i < argc; i++) {
		for (k = 0; k < 6; k++)
			if (resp_arg_is(&argv[i], names[k]))
				break;
		if (k == 6)
			break;
		*flags |= 1u << k;
	}
	return i;
}

/* The option clashes Redis refuses, in its order. NULL: none. */
static const char *zadd_clash(unsigned f, size_t npairs)
{
	if ((f & Z_NX) && (f & Z_XX))
		return "ERR XX and NX options at the same time are not "
		       "compatible";
	if (((f & Z_GT) && (f & Z_NX)) || ((f & Z_LT) && (f & Z_NX)) ||
	    ((f & Z_GT) && (f & Z_LT)))
		return "ERR GT, LT, and/or NX options at the same time are "
		       "not compatible";
	if ((f & Z_INCR) && npairs > 1)
		return "ERR INCR option supports a single increment-element "
		       "pair";
	return NULL;
}

/* One pair, as Redis' zsetAdd(). -EDOM: the sum is NaN. */
static int zadd_one(struct kv_zset *z, double score, const struct resp_str *m,
		    unsigned f, struct zadd_tally *t)
{
	struct kv_ditem *it = kv_zset_find(z, m->p, m->len);
	double cur;

	if (!it) {
		if (f & Z_XX)
			return 0;
		if (kv_zset_insert(z, m->p, m->len, score))
			return -ENOMEM;
		t->added++;
		t->processed++;
		t->last = score;
		return 0;
	}
	if (f & Z_NX)
		return 0;
	cur = it->u.z.score;
	if (f & Z_INCR) {
		score += cur;
		if (isnan(score))
			return -EDOM;
	}
	if (((f & Z_LT) && score >= cur) || ((f & Z_GT) && score <= cur))
		return 0;
	t->processed++;
	t->last = score;
	if (score != cur) {
		if (kv_zset_update(z, it, score))
			return -ENOMEM;
		t->updated++;
	}
	return 0;
}

static int zadd_reply(struct kv_exec *x, unsigned f,
		      const struct zadd_tally *t)
{
	if (f & Z_INCR)
		return t->processed ? resp_add_double(x->out, t->last)
				    : resp_add_null(x->out);
	return resp_add_int(x->out, f & Z_CH ? t->added + t->updated
					     : t->added);
}

/* The sorted set at key for ZADD, created unless XX. NULL: reply made. */
static struct kv_zset *zadd_target(struct kv_exec *x,
				   const struct resp_str *argv, size_t first,
				   unsigned f, int *r)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	struct zadd_tally none = { 0 };
	struct kv_zset *z;

	*r = 0;
	if (kv_wrong_type(x, e, KV_ZSET, r))
		return NULL;
	if (e)
		return e->obj;
	if (f & Z_XX) {
		*r = zadd_reply(x, f, &none);
		return NULL;
	}
	/* Redis 7.0 picks the encoding from the first member alone. */
	if (kv_zset_create(argv[first + 1].len, &z) ||
	    ks_add_obj(x->db, argv[1].p, argv[1].len, KV_ZSET, z, NULL)) {
		kv_zset_free(z);
		*r = -ENOMEM;
		return NULL;
	}
	return z;
}

static int zadd_pairs(struct kv_exec *x, struct kv_zset *z,
		      const struct resp_str *argv, size_t first,
		      const double *scores, size_t npairs, unsigned f)
{
	struct zadd_tally t = { 0 };
	size_t j;
	int r;

	for (j = 0; j < npairs; j++) {
		r = zadd_one(z, scores[j], &argv[first + 2 * j + 1], f, &t);
		if (r == -EDOM)
			return resp_add_error(x->out, "ERR resulting score is "
					      "not a number (NaN)");
		if (r)
			return r;
	}
	return zadd_reply(x, f, &t);
}

int kv_cmd_zadd(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	double small[16], *scores = small;
	size_t first, npairs, j;
	struct kv_zset *z;
	const char *clash;
	unsigned f;
	int r = 0;

	first = zadd_options(argc, argv, &f);
	if ((argc - first) % 2 || argc == first)
		return resp_add_error(x->out, KV_E_SYNTAX);
	npairs = (argc - first) / 2;
	clash = zadd_clash(f, npairs);
	if (clash)
		return resp_add_error(x->out, clash);
	/* Every score is checked before anything changes. */
	if (npairs > sizeof(small) / sizeof(small[0])) {
		scores = malloc(npairs * sizeof(*scores));
		if (!scores)
			return -ENOMEM;
	}
	for (j = 0; j < npairs && !r; j++)
		if (resp_parse_double(argv[first + 2 * j].p,
				      argv[first + 2 * j].len, &scores[j]))
			r = 1;
	if (r)
		r = resp_add_error(x->out, KV_E_NOT_FLOAT);
	else if ((z = zadd_target(x, argv, first, f, &r)))
		r = zadd_pairs(x, z, argv, first, scores, npairs, f);
	if (scores != small)
		free(scores);
	return r;
}

/* ---- ZPOPMIN ---- */

static int reply_pair(struct kv_exec *x, const struct kv_ditem *it)
{
	return resp_add_bulk(x->out, it->key, it->klen) ||
	       resp_add_double(x->out, it->u.z.score) ? -ENOMEM : 0;
}

int kv_cmd_zpopmin(struct kv_exec *x, size_t argc,
		   const struct resp_str *argv)
{
	struct kv_entry *e;
	struct kv_zset *z;
	int64_t count = 1, n, i;
	int r;

	if (argc > 3)
		return resp_add_error(x->out, KV_E_SYNTAX);
	if (argc == 3) {
		r = kv_arg_count(x, &argv[2], &count);
		if (r <= 0)
			return r;
	}
	e = kv_lookup_write(x, &argv[1]);
	if (!e)
		return resp_add_array(x->out, 0);
	r = 0;
	if (kv_wrong_type(x, e, KV_ZSET, &r))
		return r;
	z = e->obj;
	n = count < (int64_t)kv_zset_len(z) ? count : (int64_t)kv_zset_len(z);
	if (resp_add_array(x->out, 2 * (size_t)n))
		return -ENOMEM;
	for (i = 0; i < n && !r; i++) {
		struct kv_ditem *it = kv_zset_member(kv_zset_head(z));

		r = reply_pair(x, it);
		kv_zset_remove(z, it);
	}
	kv_drop_if_empty(x, e, kv_zset_len(z));
	return r;
}

/* ---- ZRANGE ---- */

enum zr_type { ZR_RANK, ZR_SCORE, ZR_LEX };

struct zrange {
	enum zr_type type;
	bool rev, withscores;
	int64_t offset, limit;	/* limit -1: no limit */
	int64_t start, end;	/* ZR_RANK */
	double min, max;	/* ZR_SCORE */
	bool min_ex, max_ex;
	/* ZR_LEX: p NULL with inf -1/+1 for "-" and "+" */
	struct resp_str lmin, lmax;
	int lmin_inf, lmax_inf;
};

/* The options after start and stop. 1, or the error's result. */
static int zrange_options(struct kv_exec *x, size_t argc,
			  const struct resp_str *argv, struct zrange *q)
{
	size_t j;

	for (j = 4; j < argc; j++) {
		const struct resp_str *a = &argv[j];

		if (resp_arg_is(a, "withscores")) {
			q->withscores = true;
		} else if (resp_arg_is(a, "limit") && argc - j - 1 >= 2) {
			if (resp_parse_i64(argv[j + 1].p, argv[j + 1].len,
					   &q->offset) ||
			    resp_parse_i64(argv[j + 2].p, argv[j + 2].len,
					   &q->limit))
				return resp_add_error(x->out, KV_E_NOT_INT);
			j += 2;
		} else if (!q->rev && resp_arg_is(a, "rev")) {
			/* REV, BYLEX and BYSCORE may each come once. */
			q->rev = true;
		} else if (q->type == ZR_RANK && resp_arg_is(a, "bylex")) {
			q->type = ZR_LEX;
		} else if (q->type == ZR_RANK && resp_arg_is(a, "byscore")) {
			q->type = ZR_SCORE;
		} else {
			return resp_add_error(x->out, KV_E_SYNTAX);
		}
	}
	if (q->limit != -1 && q->type == ZR_RANK)
		return resp_add_error(x->out, "ERR syntax error, LIMIT is only "
				      "supported in combination with either "
				      "BYSCORE or BYLEX");
	if (q->withscores && q->type == ZR_LEX)
		return resp_add_error(x->out, "ERR syntax error, WITHSCORES "
				      "not supported in combination with "
				      "BYLEX");
	return 1;
}

/*
 * A score bound: "(" for exclusive, then what strtod reads of the C
 * string, all of it, not NaN. Redis reads "" as 0, and so do we.
 */
static int score_bound(const struct resp_str *a, double *v, bool *ex)
{
	size_t n = resp_cstrlen(a);
	char small[64], *s = small, *end;
	int bad;

	if (n >= sizeof(small)) {
		s = malloc(n + 1);
		if (!s)
			return -ENOMEM;
	}
	memcpy(s, a->p, n);
	s[n] = '\0';
	*ex = s[0] == '(';
	*v = strtod(s + *ex, &end);
	bad = *end != '\0' || isnan(*v);
	if (s != small)
		free(s);
	return bad ? -EINVAL : 0;
}

/* A lex bound: "-", "+" (alone), "(x" or "[x". */
static int lex_bound(const struct resp_str *a, struct resp_str *v, int *inf,
		     bool *ex)
{
	const char *c = a->p;

	*inf = 0;
	if (a->len == 0)
		return -EINVAL;
	if (c[0] == '+' || c[0] == '-') {
		if (a->len > 1 && c[1] != '\0')
			return -EINVAL;
		*inf = c[0] == '+' ? 1 : -1;
		*ex = true;
		return 0;
	}
	if (c[0] != '(' && c[0] != '[')
		return -EINVAL;
	*ex = c[0] == '(';
	v->p = c + 1;
	v->len = a->len - 1;
	return 0;
}

static int zrange_bounds(struct kv_exec *x, const struct resp_str *argv,
			 struct zrange *q)
{
	const struct resp_str *lo = &argv[2], *hi = &argv[3];

	/* BYSCORE and BYLEX with REV take max first. */
	if (q->rev && q->type != ZR_RANK) {
		lo = &argv[3];
		hi = &argv[2];
	}
	switch (q->type) {
	case ZR_RANK:
		if (resp_parse_i64(lo->p, lo->len, &q->start) ||
		    resp_parse_i64(hi->p, hi->len, &q->end))
			return resp_add_error(x->out, KV_E_NOT_INT);
		return 1;
	case ZR_SCORE:
		if (score_bound(lo, &q->min, &q->min_ex) ||
		    score_bound(hi, &q->max, &q->max_ex))
			return resp_add_error(x->out,
					      "ERR min or max is not a float");
		return 1;
	default:
		if (lex_bound(lo, &q->lmin, &q->lmin_inf, &q->min_ex) ||
		    lex_bound(hi, &q->lmax, &q->lmax_inf, &q->max_ex))
			return resp_add_error(x->out, "ERR min or max not "
					      "valid string range item");
		return 1;
	}
}

/* Replies are built in a scratch array, then counted and copied. */
struct emit {
	struct resp_buf body;
	size_t n;
	bool withscores;
};

static int emit(struct emit *em, const struct kv_ditem *it)
{
	em->n++;
	if (resp_add_bulk(&em->body, it->key, it->klen))
		return -ENOMEM;
	if (em->withscores) {
		em->n++;
		return resp_add_double(&em->body, it->u.z.score);
	}
	return 0;
}

static struct zs_node *step(const struct kv_zset *z, struct zs_node *n,
			    bool rev)
{
	return rev ? kv_zset_prev(z, n) : kv_zset_next(n);
}

static int by_rank(const struct kv_zset *z, struct zrange *q,
		   struct emit *em)
{
	int64_t len = (int64_t)kv_zset_len(z), start = q->start, i;
	int64_t end = q->end;
	struct zs_node *n;
	int r = 0;

	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = 0;
	if (start > end || start >= len)
		return 0;
	if (end >= len)
		end = len - 1;
	n = kv_zset_at(z, (size_t)(q->rev ? len - 1 - start : start));
	for (i = start; i <= end && n && !r; i++, n = step(z, n, q->rev))
		r = emit(em, kv_zset_member(n));
	return r;
}

static bool gte_min(const struct zrange *q, double v)
{
	return q->min_ex ? v > q->min : v >= q->min;
}

static bool lte_max(const struct zrange *q, double v)
{
	return q->max_ex ? v < q->max : v <= q->max;
}

/* Walk from `n` skipping `offset`, emitting up to `limit` while `in`. */
static int walk(const struct kv_zset *z, struct zs_node *n,
		const struct zrange *q, bool (*in)(const struct zrange *,
						   const struct zs_node *),
		struct emit *em)
{
	int64_t off = q->offset, lim = q->limit;
	int r = 0;

	if (off < 0)
		return 0;	/* Redis skips past the end: nothing */
	while (n && off-- > 0)
		n = step(z, n, q->rev);
	while (n && lim-- != 0 && !r && in(q, n)) {
		r = emit(em, kv_zset_member(n));
		n = step(z, n, q->rev);
	}
	return r;
}

static bool score_in(const struct zrange *q, const struct zs_node *n)
{
	double s = kv_zset_member(n)->u.z.score;

	return q->rev ? gte_min(q, s) : lte_max(q, s);
}

static int by_score(const struct kv_zset *z, struct zrange *q,
		    struct emit *em)
{
	struct zs_node *n;

	if (q->min > q->max ||
	    (q->min == q->max && (q->min_ex || q->max_ex)))
		return 0;
	if (q->offset > 0 && q->offset >= (int64_t)kv_zset_len(z))
		return 0;
	if (q->rev) {
		n = kv_zset_last_upto(z, q->max, q->max_ex);
		if (n && !gte_min(q, kv_zset_member(n)->u.z.score))
			n = NULL;
	} else {
		n = kv_zset_first_from(z, q->min, q->min_ex);
		if (n && !lte_max(q, kv_zset_member(n)->u.z.score))
			n = NULL;
	}
	return walk(z, n, q, score_in, em);
}

/* Redis' sdscmplex: "-" below and "+" above every string. */
static int lex_cmp(const char *a, size_t alen, int ainf,
		   const struct resp_str *b, int binf)
{
	size_t l;
	int c;

	if (ainf || binf) {
		if (ainf == binf)
			return 0;
		return ainf == -1 || binf == 1 ? -1 : 1;
	}
	l = alen < b->len ? alen : b->len;
	c = memcmp(a, b->p, l);
	if (c)
		return c;
	return (alen > b->len) - (alen < b->len);
}

static bool lex_gte_min(const struct zrange *q, const struct kv_ditem *m)
{
	int c = lex_cmp(m->key, m->klen, 0, &q->lmin, q->lmin_inf);

	return q->min_ex ? c > 0 : c >= 0;
}

static bool lex_lte_max(const struct zrange *q, const struct kv_ditem *m)
{
	int c = lex_cmp(m->key, m->klen, 0, &q->lmax, q->lmax_inf);

	return q->max_ex ? c < 0 : c <= 0;
}

static bool lex_in(const struct zrange *q, const struct zs_node *n)
{
	return q->rev ? lex_gte_min(q, kv_zset_member(n))
		      : lex_lte_max(q, kv_zset_member(n));
}

/*
 * By lex, walking in score order as Redis walks a small sorted set: the
 * result is only meaningful when all scores are equal, as its docs say.
 */
static int by_lex(const struct kv_zset *z, struct zrange *q,
		  struct emit *em)
{
	struct zs_node *n;
	int c;

	c = lex_cmp(q->lmin.p, q->lmin.len, q->lmin_inf, &q->lmax,
		    q->lmax_inf);
	if (c > 0 || (c == 0 && (q->min_ex || q->max_ex)))
		return 0;
	if (!kv_zset_len(z) ||
	    !lex_gte_min(q, kv_zset_member(kv_zset_tail(z))) ||
	    !lex_lte_max(q, kv_zset_member(kv_zset_head(z))))
		return 0;
	if (q->offset > 0 && q->offset >= (int64_t)kv_zset_len(z))
		return 0;
	if (q->rev) {
		for (n = kv_zset_tail(z); n; n = kv_zset_prev(z, n))
			if (lex_lte_max(q, kv_zset_member(n)))
				break;
		if (n && !lex_gte_min(q, kv_zset_member(n)))
			n = NULL;
	} else {
		for (n = kv_zset_head(z); n; n = kv_zset_next(n))
			if (lex_gte_min(q, kv_zset_member(n)))
				break;
		if (n && !lex_lte_max(q, kv_zset_member(n)))
			n = NULL;
	}
	return walk(z, n, q, lex_in, em);
}

int kv_cmd_zrange(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct zrange q = { .type = ZR_RANK, .limit = -1 };
	struct emit em = { .n = 0 };
	struct kv_entry *e;
	int r;

	r = zrange_options(x, argc, argv, &q);
	if (r <= 0)
		return r;
	r = zrange_bounds(x, argv, &q);
	if (r <= 0)
		return r;
	e = kv_lookup_read(x, &argv[1]);
	if (!e)
		return resp_add_array(x->out, 0);
	r = 0;
	if (kv_wrong_type(x, e, KV_ZSET, &r))
		return r;
	resp_buf_init(&em.body);
	em.withscores = q.withscores;
	if (q.type == ZR_RANK)
		r = by_rank(e->obj, &q, &em);
	else if (q.type == ZR_SCORE)
		r = by_score(e->obj, &q, &em);
	else
		r = by_lex(e->obj, &q, &em);
	if (!r)
		r = resp_add_array(x->out, em.n) ||
		    resp_add_raw(x->out, em.body.data, em.body.len) ? -ENOMEM
								     : 0;
	resp_buf_fini(&em.body);
	return r;
}

/* ---- the rest ---- */

int kv_cmd_zcard(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_ZSET, &err))
		return err;
	return resp_add_int(x->out, e ? (int64_t)kv_zset_len(e->obj) : 0);
}

int kv_cmd_zscore(struct kv_exec *x, size_t argc,
		  const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	struct kv_ditem *it;
	int err = 0;

	(void)argc;
	if (!e)
		return resp_add_null(x->out);
	if (kv_wrong_type(x, e, KV_ZSET, &err))
		return err;
	it = kv_zset_find(e->obj, argv[2].p, argv[2].len);
	return it ? resp_add_double(x->out, it->u.z.score)
		  : resp_add_null(x->out);
}

int kv_cmd_zrem(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	int64_t removed = 0;
	size_t i;
	int err = 0;

	if (!e)
		return resp_add_int(x->out, 0);
	if (kv_wrong_type(x, e, KV_ZSET, &err))
		return err;
	for (i = 2; i < argc && kv_zset_len(e->obj); i++) {
		struct kv_ditem *it = kv_zset_find(e->obj, argv[i].p,
						   argv[i].len);

		if (it) {
			kv_zset_remove(e->obj, it);
			removed++;
		}
	}
	kv_drop_if_empty(x, e, kv_zset_len(e->obj));
	return resp_add_int(x->out, removed);
}
