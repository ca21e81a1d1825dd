/*
 * examples/kvserver/cmd_set.c: SADD, SREM, SPOP, SCARD, SMEMBERS,
 * SISMEMBER, in the order redis-server 7.0 checks their arguments.
 */
#include <errno.h>
#include <stdlib.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "types/set.h"

int kv_cmd_sadd(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	struct kv_set *s;
	int64_t added = 0;
	size_t i;
	int err = 0, r;

	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	if (e) {
		s = e->obj;
	} else {
		/* Redis picks the encoding from the first member. */
		if (kv_set_create(argv[2].p, argv[2].len, &s))
			return -ENOMEM;
		if (ks_add_obj(x->db, argv[1].p, argv[1].len, KV_SET, s, &e)) {
			kv_set_free(s);
			return -ENOMEM;
		}
	}
	for (i = 2; i < argc; i++) {
		r = kv_set_add(s, argv[i].p, argv[i].len);
		if (r < 0)
			return r;
		added += r;
	}
	return resp_add_int(x->out, added);
}

int kv_cmd_srem(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	int64_t removed = 0;
	size_t i;
	int err = 0;

	if (!e)
		return resp_add_int(x->out, 0);
	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	for (i = 2; i < argc && kv_set_len(e->obj); i++)
		removed += kv_set_remove(e->obj, argv[i].p, argv[i].len);
	kv_drop_if_empty(x, e, kv_set_len(e->obj));
	return resp_add_int(x->out, removed);
}

/* Reply every member, in reply order (numeric for an intset). */
static int reply_members(struct kv_exec *x, const struct kv_set *s)
{
	size_t n = kv_set_len(s), i;
	struct kv_ditem **m = malloc((n ? n : 1) * sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	kv_set_members(s, m);
	r = resp_add_array(x->out, n);
	for (i = 0; i < n && !r; i++)
		r = resp_add_bulk(x->out, m[i]->key, m[i]->klen);
	free(m);
	return r;
}

/* Take a random member out, reply it and free it. */
static int pop_one(struct kv_exec *x, struct kv_set *s)
{
	uint32_t pos = (uint32_t)(kv_store_random(x->st) % kv_set_len(s));
	struct kv_ditem *it = kv_set_take(s, pos);
	int r = resp_add_bulk(x->out, it->key, it->klen);

	free(it);
	return r;
}

/*
 * SPOP key [count]. With a count, Redis checks the number, then the
 * key (none: an empty array), its type, then count 0; a count that
 * covers the set returns all of it and deletes the key.
 */
int kv_cmd_spop(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e;
	struct kv_set *s;
	int64_t count = 1, i;
	int err = 0, r;

	if (argc > 3)
		return resp_add_error(x->out, KV_E_SYNTAX);
	if (argc == 3) {
		r = kv_arg_count(x, &argv[2], &count);
		if (r <= 0)
			return r;
	}
	e = kv_lookup_write(x, &argv[1]);
	if (!e)
		return argc == 3 ? resp_add_array(x->out, 0)
				 : resp_add_null(x->out);
	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	s = e->obj;
	if (argc == 2) {
		r = pop_one(x, s);
	} else if (count == 0) {
		return resp_add_array(x->out, 0);
	} else if ((uint64_t)count >= kv_set_len(s)) {
		r = reply_members(x, s);
		ks_del_entry(x->db, e);
		return r;
	} else {
		r = resp_add_array(x->out, (size_t)count);
		for (i = 0; i < count && !r; i++)
			r = pop_one(x, s);
	}
	kv_drop_if_empty(x, e, kv_set_len(s));
	return r;
}

int kv_cmd_scard(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	return resp_add_int(x->out, e ? (int64_t)kv_set_len(e->obj) : 0);
}

int kv_cmd_smembers(struct kv_exec *x, size_t argc,
		    const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (!e)
		return resp_add_array(x->out, 0);
	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	return reply_members(x, e->obj);
}

int kv_cmd_sismember(struct kv_exec *x, size_t argc,
		     const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_SET, &err))
		return err;
	return resp_add_int(x->out, e && kv_set_has(e->obj, argv[2].p,
						      argv[2].len));
}
