/*
 * examples/kvserver/cmd_string.c: the string commands. Each follows the
 * order in which redis-server 7.0 checks things (options, then numbers,
 * then the key's type), since that order decides which error a client
 * gets when several apply.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "subreq.h"

/* Reply the value of a string key, nil for none; WRONGTYPE else. */
static int reply_value(struct kv_exec *x, struct kv_entry *e, bool *wrong)
{
	int err = 0;

	*wrong = false;
	if (!e)
		return resp_add_null(x->out);
	if (kv_wrong_type(x, e, KV_STRING, &err)) {
		*wrong = true;
		return err;
	}
	return resp_add_bulk(x->out, kv_entry_str(e), e->vlen);
}

int kv_cmd_get(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	bool wrong;

	(void)argc;
	return reply_value(x, kv_lookup_read(x, &argv[1]), &wrong);
}

/* ---- SET ---- */

#define SET_NX		(1u << 0)
#define SET_XX		(1u << 1)
#define SET_GET		(1u << 2)
#define SET_KEEPTTL	(1u << 3)
#define SET_EX		(1u << 4)
#define SET_PX		(1u << 5)
#define SET_EXAT	(1u << 6)
#define SET_PXAT	(1u << 7)
#define SET_ANY_TTL	(SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/*
 * One option of SET at argv[*i]. Redis accepts an option again (NX NX,
 * EX 1 EX 2: the last wins) but not one that contradicts another, and an
 * expiry option only with a value after it. 0 or -EINVAL.
 */
static int set_option(size_t argc, const struct resp_str *argv, size_t *i,
		      unsigned *flags, const struct resp_str **expire)
{
	static const struct {
		const char *name;
		unsigned flag;
		unsigned excludes;
	} opts[] = {
		{ "nx", SET_NX, SET_XX },
		{ "xx", SET_XX, SET_NX },
		{ "get", SET_GET, 0 },
		{ "keepttl", SET_KEEPTTL, SET_ANY_TTL },
		{ "ex", SET_EX, SET_KEEPTTL | SET_ANY_TTL },
		{ "px", SET_PX, SET_KEEPTTL | SET_ANY_TTL },
		{ "exat", SET_EXAT, SET_KEEPTTL | SET_ANY_TTL },
		{ "pxat", SET_PXAT, SET_KEEPTTL | SET_ANY_TTL },
	};
	const struct resp_str *a = &argv[*i];
	size_t k;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		unsigned excl = opts[k].excludes & ~opts[k].flag;

		if (!resp_arg_is(a, opts[k].name) || (*flags & excl))
			continue;
		if (opts[k].flag & SET_ANY_TTL) {
			if (*i + 1 >= argc)
				continue;
			*expire = &argv[++*i];
		}
		*flags |= opts[k].flag;
		return 0;
	}
	return -EINVAL;
}

/*
 * The expiry time SET asks for, in absolute Unix ms. 1 with *when, or
 * the error reply's result (0, or -ENOMEM), as Redis checks: not an
 * integer; <= 0 or too big to make ms of; past INT64_MAX once now is
 * added to a relative time.
 */
static int set_expiry(struct kv_exec *x, const struct resp_str *a,
		      unsigned flags, int64_t *when)
{
	bool secs = flags & (SET_EX | SET_EXAT);
	bool rel = flags & (SET_EX | SET_PX);
	int64_t v;

	if (resp_parse_i64(a->p, a->len, &v))
		return resp_add_error(x->out, KV_E_NOT_INT);
	if (v <= 0 || (secs && v > INT64_MAX / 1000))
		return kv_reply_bad_expire(x->out, "set");
	if (secs)
		v *= 1000;
	if (rel && v > INT64_MAX - x->now)
		return kv_reply_bad_expire(x->out, "set");
	*when = rel ? v + x->now : v;
	return 1;
}

int kv_cmd_set(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	const struct resp_str *expire = NULL;
	unsigned flags = 0;
	int64_t when = 0;
	struct kv_entry *e;
	bool wrong;
	size_t i;
	int r;

	for (i = 3; i < argc; i++)
		if (set_option(argc, argv, &i, &flags, &expire))
			return resp_add_error(x->out, KV_E_SYNTAX);
	if (expire) {
		r = set_expiry(x, expire, flags, &when);
		if (r <= 0)
			return r;
	}
	if (flags & SET_GET) {
		/* The old value is the reply, whether or not SET happens. */
		r = reply_value(x, kv_lookup_read(x, &argv[1]), &wrong);
		if (r || wrong)
			return r;
	}
	e = kv_lookup_write(x, &argv[1]);
	if (((flags & SET_NX) && e) || ((flags & SET_XX) && !e))
		return flags & SET_GET ? 0 : resp_add_null(x->out);
	if (ks_set_string(x->db, argv[1].p, argv[1].len, argv[2].p,
			  argv[2].len, flags & SET_KEEPTTL, &e) ||
	    (when && ks_set_expire(x->db, e, when)))
		return -ENOMEM;
	return flags & SET_GET ? 0 : resp_add_simple(x->out, "OK");
}

int kv_cmd_setnx(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	(void)argc;
	if (kv_lookup_write(x, &argv[1]))
		return resp_add_int(x->out, 0);
	if (ks_set_string(x->db, argv[1].p, argv[1].len, argv[2].p,
			  argv[2].len, false, NULL))
		return -ENOMEM;
	return resp_add_int(x->out, 1);
}

/* GETSET: reply the old value, then set (the key loses its expiry). */
int kv_cmd_getset(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	bool wrong;
	int r;

	(void)argc;
	r = reply_value(x, kv_lookup_read(x, &argv[1]), &wrong);
	if (r || wrong)
		return r;
	return ks_set_string(x->db, argv[1].p, argv[1].len, argv[2].p,
			     argv[2].len, false, NULL);
}

int kv_cmd_getdel(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	bool wrong;
	int r;

	(void)argc;
	r = reply_value(x, e, &wrong);
	if (r == 0 && e && !wrong)
		ks_del_entry(x->db, e);
	return r;
}

/* APPEND keeps the key's expiry; the result may not pass proto-max-bulk-len. */
int kv_cmd_append(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	size_t old;
	int err = 0;

	(void)argc;
	if (!e) {
		if (ks_set_string(x->db, argv[1].p, argv[1].len, argv[2].p,
				  argv[2].len, false, NULL))
			return -ENOMEM;
		return resp_add_int(x->out, (int64_t)argv[2].len);
	}
	if (kv_wrong_type(x, e, KV_STRING, &err))
		return err;
	old = e->vlen;
	if (old + argv[2].len > x->st->cfg->lim.max_bulk)
		return resp_add_error(x->out, "ERR string exceeds maximum "
				      "allowed size (proto-max-bulk-len)");
	if (ks_string_resize(x->db, &e, old + argv[2].len))
		return -ENOMEM;
	if (argv[2].len)
		memcpy(kv_entry_str(e) + old, argv[2].p, argv[2].len);
	return resp_add_int(x->out, (int64_t)e->vlen);
}

int kv_cmd_strlen(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_STRING, &err))
		return err;
	return resp_add_int(x->out, e ? (int64_t)e->vlen : 0);
}

/* ---- INCR and friends ---- */

/*
 * Add `by` to the integer in argv[1]'s string (0 if none). The key keeps
 * its expiry, as Redis' dbOverwrite keeps it.
 */
static int incr_by(struct kv_exec *x, const struct resp_str *key, int64_t by)
{
	struct kv_entry *e = kv_lookup_write(x, key);
	int64_t v = 0;
	char tmp[24];
	int err = 0, n;

	if (kv_wrong_type(x, e, KV_STRING, &err))
		return err;
	if (e && resp_parse_i64(kv_entry_str(e), e->vlen, &v))
		return resp_add_error(x->out, KV_E_NOT_INT);
	if ((by < 0 && v < 0 && by < INT64_MIN - v) ||
	    (by > 0 && v > 0 && by > INT64_MAX - v))
		return resp_add_error(x->out, KV_E_OVERFLOW);
	v += by;
	n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	if (ks_set_string(x->db, key->p, key->len, tmp, (size_t)n, true,
			  NULL))
		return -ENOMEM;
	return resp_add_int(x->out, v);
}

int kv_cmd_incr(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	(void)argc;
	return incr_by(x, &argv[1], 1);
}

int kv_cmd_decr(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	(void)argc;
	return incr_by(x, &argv[1], -1);
}

int kv_cmd_incrby(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	int64_t by;

	(void)argc;
	if (resp_parse_i64(argv[2].p, argv[2].len, &by))
		return resp_add_error(x->out, KV_E_NOT_INT);
	return incr_by(x, &argv[1], by);
}

int kv_cmd_decrby(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	int64_t by;

	(void)argc;
	if (resp_parse_i64(argv[2].p, argv[2].len, &by))
		return resp_add_error(x->out, KV_E_NOT_INT);
	if (by == INT64_MIN)
		return resp_add_error(x->out, "ERR decrement would overflow");
	return incr_by(x, &argv[1], -by);
}

/* ---- MGET and MSET, one key at a time ---- */

/* MGET: nil for a missing key and for one that is not a string. */
int kv_key_mget(struct kv_exec *x, const struct resp_str *key,
		const struct resp_str *val)
{
	struct kv_entry *e = kv_lookup_read(x, key);

	(void)val;
	if (!e || e->type != KV_STRING)
		return kv_subreply_null(x->out);
	return kv_subreply_bulk(x->out, kv_entry_str(e), e->vlen);
}

/*
 * MSET overwrites keys of any type and clears their expiry. The lookup
 * first removes a key that already expired, so that it counts in
 * expired_keys, as in Redis.
 */
int kv_key_mset(struct kv_exec *x, const struct resp_str *key,
		const struct resp_str *val)
{
	kv_lookup_write(x, key);
	if (ks_set_string(x->db, key->p, key->len, val->p, val->len, false,
			  NULL))
		return kv_subreply_err(x->out, "ERR out of memory");
	return kv_subreply_ok(x->out);
}

/* MSET key value [key value ...]: an odd count is an arity error. */
int kv_check_mset(size_t argc, const struct resp_str *argv, uint32_t *aux,
		  struct resp_buf *out)
{
	(void)argv;
	(void)aux;
	if (argc % 2 == 0)
		return kv_reply_arity(out, "mset");
	return 1;
}
