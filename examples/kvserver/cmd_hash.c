/*
 * examples/kvserver/cmd_hash.c: HSET, HMSET, HGET, HGETALL, HDEL, HLEN,
 * HEXISTS, in the order redis-server 7.0 checks their arguments.
 */
#include <errno.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "types/hash.h"

/* HSET/HMSET key field value [field value ...] */
int kv_cmd_hset(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e;
	struct kv_hash *h;
	int64_t created = 0;
	size_t i;
	int err = 0, r;

	if (argc % 2 == 1)
		return kv_reply_arity(x->out, argv[0].p);
	e = kv_lookup_write(x, &argv[1]);
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	if (e) {
		h = e->obj;
	} else {
		if (kv_hash_create(&h))
			return -ENOMEM;
		if (ks_add_obj(x->db, argv[1].p, argv[1].len, KV_HASH, h,
			       NULL)) {
			kv_hash_free(h);
			return -ENOMEM;
		}
	}
	/* A long field or value makes Redis leave the small encoding. */
	for (i = 2; i < argc; i++)
		kv_hash_note_len(h, argv[i].len);
	for (i = 2; i < argc; i += 2) {
		r = kv_hash_set(h, argv[i].p, argv[i].len, argv[i + 1].p,
				argv[i + 1].len);
		if (r < 0)
			return r;
		created += r;
	}
	if (argv[0].p[1] == 'm')
		return resp_add_simple(x->out, "OK");
	return resp_add_int(x->out, created);
}

int kv_cmd_hget(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	struct kv_ditem *it;
	int err = 0;

	(void)argc;
	if (!e)
		return resp_add_null(x->out);
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	it = kv_hash_get(e->obj, argv[2].p, argv[2].len);
	if (!it)
		return resp_add_null(x->out);
	return resp_add_bulk(x->out, it->u.val.p, it->u.val.len);
}

int kv_cmd_hgetall(struct kv_exec *x, size_t argc,
		   const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	struct kv_hash *h;
	uint32_t i;
	int err = 0;

	(void)argc;
	if (!e)
		return resp_add_array(x->out, 0);
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	h = e->obj;
	if (resp_add_array(x->out, 2 * kv_hash_len(h)))
		return -ENOMEM;
	for (i = 0; i < h->d.n; i++) {
		const struct kv_ditem *it = h->d.items[i];

		if (resp_add_bulk(x->out, it->key, it->klen) ||
		    resp_add_bulk(x->out, it->u.val.p, it->u.val.len))
			return -ENOMEM;
	}
	return 0;
}

int kv_cmd_hdel(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_write(x, &argv[1]);
	int64_t removed = 0;
	size_t i;
	int err = 0;

	if (!e)
		return resp_add_int(x->out, 0);
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	for (i = 2; i < argc && kv_hash_len(e->obj); i++)
		removed += kv_hash_del(e->obj, argv[i].p, argv[i].len);
	kv_drop_if_empty(x, e, kv_hash_len(e->obj));
	return resp_add_int(x->out, removed);
}

int kv_cmd_hlen(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	return resp_add_int(x->out, e ? (int64_t)kv_hash_len(e->obj) : 0);
}

int kv_cmd_hexists(struct kv_exec *x, size_t argc,
		   const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_HASH, &err))
		return err;
	return resp_add_int(x->out, e && kv_hash_get(e->obj, argv[2].p,
						       argv[2].len));
}
