/*
 * examples/kvserver/cmd_keys.c: commands on keys of any type: DEL,
 * EXISTS, the EXPIRE family, TTL, PERSIST, TYPE, and the ones every
 * shard runs over its keys: KEYS, DBSIZE, FLUSHALL, FLUSHDB.
 */
#include <errno.h>
#include <string.h>

#include "command.h"
#include "glob.h"
#include "keyspace.h"
#include "store.h"
#include "subreq.h"

int kv_key_del(struct kv_exec *x, const struct resp_str *key,
	       const struct resp_str *val)
{
	(void)val;
	return kv_subreply_int(x->out, ks_del(x->db, key->p, key->len,
					      x->now));
}

/* EXISTS counts a key named twice twice, as Redis does. */
int kv_key_exists(struct kv_exec *x, const struct resp_str *key,
		  const struct resp_str *val)
{
	(void)val;
	return kv_subreply_int(x->out, kv_lookup_read(x, key) ? 1 : 0);
}

/* ---- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ---- */

#define EXP_NX (1u << 0)
#define EXP_XX (1u << 1)
#define EXP_GT (1u << 2)
#define EXP_LT (1u << 3)

/* The NX/XX/GT/LT options. 1 with *flags, else the error's result. */
static int expire_flags(struct kv_exec *x, size_t argc,
			const struct resp_str *argv, unsigned *flags)
{
	static const char *const names[] = { "nx", "xx", "gt", "lt" };
	size_t i, k;

	*flags = 0;
	for (i = 3; i < argc; i++) {
		for (k = 0; k < 4; k++)
			if (resp_arg_is(&argv[i], names[k]))
				break;
		if (k == 4)
			return resp_add_errorf(x->out,
				"ERR Unsupported option %.*s",
				(int)resp_cstrlen(&argv[i]), argv[i].p);
		*flags |= 1u << k;
	}
	if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT)))
		return resp_add_error(x->out, "ERR NX and XX, GT or LT options "
				      "at the same time are not compatible");
	if ((*flags & EXP_GT) && (*flags & EXP_LT))
		return resp_add_error(x->out, "ERR GT and LT options at the "
				      "same time are not compatible");
	return 1;
}

/*
 * The absolute time asked for, Unix ms. Redis lets it be negative (the
 * key then goes at once) but not overflow when made ms or when the base
 * time is added. 1 with *when, else the error's result.
 */
static int expire_time(struct kv_exec *x, const struct resp_str *argv,
		       int64_t *when)
{
	const char *name = argv[0].p;
	size_t nlen = argv[0].len;
	bool ms = name[0] == 'p';
	int64_t base = memcmp(name + nlen - 2, "at", 2) ? x->now : 0;
	int64_t v;

	if (resp_parse_i64(argv[2].p, argv[2].len, &v))
		return resp_add_error(x->out, KV_E_NOT_INT);
	if (!ms) {
		if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
			return kv_reply_bad_expire(x->out, name);
		v *= 1000;
	}
	if (v > INT64_MAX - base)
		return kv_reply_bad_expire(x->out, name);
	*when = v + base;
	return 1;
}

/* Whether NX/XX/GT/LT let `when` replace the key's current expiry. */
static bool expire_allowed(unsigned flags, int64_t cur, int64_t when)
{
	if ((flags & EXP_NX) && cur != -1)
		return false;
	if ((flags & EXP_XX) && cur == -1)
		return false;
	/* No expiry counts as infinite: GT never beats it. */
	if ((flags & EXP_GT) && (cur == -1 || when <= cur))
		return false;
	if ((flags & EXP_LT) && cur != -1 && when >= cur)
		return false;
	return true;
}

int kv_cmd_expire(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e;
	unsigned flags;
	int64_t when = 0;
	int r;

	r = expire_flags(x, argc, argv, &flags);
	if (r <= 0)
		return r;
	r = expire_time(x, argv, &when);
	if (r <= 0)
		return r;
	e = kv_lookup_write(x, &argv[1]);
	if (!e || !expire_allowed(flags, e->expire_at ? e->expire_at : -1,
				  when))
		return resp_add_int(x->out, 0);
	/* A time already past deletes the key, as Redis does. */
	if (when <= x->now)
		ks_del_entry(x->db, e);
	else if (ks_set_expire(x->db, e, when))
		return -ENOMEM;
	return resp_add_int(x->out, 1);
}

/* TTL in seconds, rounded to the nearest; PTTL in ms. */
int kv_cmd_ttl(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int64_t ttl;

	(void)argc;
	if (!e)
		return resp_add_int(x->out, -2);
	if (!e->expire_at)
		return resp_add_int(x->out, -1);
	ttl = e->expire_at - x->now;
	if (ttl < 0)
		ttl = 0;
	return resp_add_int(x->out, argv[0].p[0] == 'p' ? ttl
						       : (ttl + 500) / 1000);
}

int kv_cmd_persist(struct kv_exec *x, size_t argc,
		   const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);

	(void)argc;
	if (!e || !e->expire_at)
		return resp_add_int(x->out, 0);
	ks_set_expire(x->db, e, 0);
	return resp_add_int(x->out, 1);
}

int kv_cmd_type(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	static const char *const names[] = {
		[KV_STRING] = "string", [KV_LIST] = "list", [KV_SET] = "set",
		[KV_HASH] = "hash", [KV_ZSET] = "zset",
	};
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);

	(void)argc;
	return resp_add_simple(x->out, e ? names[e->type] : "none");
}

/* ---- every shard ---- */

/*
 * KEYS: this shard's live keys that match, unsorted. A lone "*" takes
 * every key, the empty one included, which the glob itself would not.
 * Expired keys are skipped but left for expiry to remove, as Redis does.
 */
int kv_cmd_keys(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	const struct resp_str *pat = &argv[1];
	bool all = pat->len == 1 && pat->p[0] == '*';
	struct kv_entry *e;
	size_t cursor = 0, at;
	uint32_t n = 0;

	(void)argc;
	if (kv_subreply_array_begin(x->out, &at))
		return -ENOMEM;
	while ((e = ks_next(x->db, &cursor))) {
		if (!all && !kv_glob_match(pat->p, pat->len, kv_entry_key(e),
					   e->klen, false))
			continue;
		if (e->expire_at && x->now > e->expire_at)
			continue;
		if (resp_add_bulk(x->out, kv_entry_key(e), e->klen))
			return -ENOMEM;
		n++;
	}
	kv_subreply_array_end(x->out, at, n);
	return 0;
}

/* DBSIZE counts keys that expired but are not removed yet, as Redis'. */
int kv_cmd_dbsize(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	(void)argc;
	(void)argv;
	return kv_subreply_int(x->out, (int64_t)ks_count(x->db));
}

int kv_cmd_flush(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	unsigned i;

	(void)argc;
	if (strcmp(argv[0].p, "flushall") == 0)
		for (i = 0; i < x->st->ndb; i++)
			ks_flush(x->st->db[i]);
	else
		ks_flush(x->db);
	return kv_subreply_ok(x->out);
}

/* FLUSHALL / FLUSHDB [ASYNC|SYNC]: both are done at once here. */
int kv_check_flush(size_t argc, const struct resp_str *argv, uint32_t *aux,
		   struct resp_buf *out)
{
	(void)aux;
	if (argc == 1 || (argc == 2 && (resp_arg_is(&argv[1], "sync") ||
					resp_arg_is(&argv[1], "async"))))
		return 1;
	return resp_add_error(out, KV_E_SYNTAX);
}
