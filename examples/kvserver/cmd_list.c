/*
 * examples/kvserver/cmd_list.c: LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN,
 * in the order redis-server 7.0 checks their arguments.
 */
#include <errno.h>
#include <stdlib.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "types/list.h"

/* The list at argv[1] for writing, created if `create`; NULL otherwise. */
static struct kv_list *list_for_write(struct kv_exec *x,
				      const struct resp_str *key, bool create,
				      struct kv_entry **ep, int *err)
{
	struct kv_entry *e = kv_lookup_write(x, key);
	struct kv_list *l;

	*err = 0;
	*ep = e;
	if (kv_wrong_type(x, e, KV_LIST, err))
		return NULL;
	if (e || !create)
		return e ? e->obj : NULL;
	if (kv_list_create(&l)) {
		*err = -ENOMEM;
		return NULL;
	}
	if (ks_add_obj(x->db, key->p, key->len, KV_LIST, l, ep)) {
		kv_list_free(l);
		*err = -ENOMEM;
		return NULL;
	}
	return l;
}

int kv_cmd_push(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	bool left = argv[0].p[0] == 'l';
	struct kv_entry *e;
	struct kv_list *l;
	size_t i;
	int err;

	l = list_for_write(x, &argv[1], true, &e, &err);
	if (!l)
		return err;
	for (i = 2; i < argc; i++)
		if (kv_list_push(l, left, argv[i].p, argv[i].len))
			return -ENOMEM;
	return resp_add_int(x->out, (int64_t)kv_list_len(l));
}

static int reply_blob(struct kv_exec *x, struct kv_blob *b)
{
	int r = resp_add_bulk(x->out, b->data, b->len);

	free(b);
	return r;
}

/*
 * LPOP/RPOP key [count]: a count that is no integer or negative is one
 * error; no key is nil (a nil array with a count); count 0 is an empty
 * array once the key is known to be a list.
 */
int kv_cmd_pop(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	bool left = argv[0].p[0] == 'l';
	struct kv_entry *e;
	struct kv_list *l;
	int64_t count = 1, n, i;
	int r;

	if (argc > 3)
		return kv_reply_arity(x->out, argv[0].p);
	if (argc == 3) {
		r = kv_arg_count(x, &argv[2], &count);
		if (r <= 0)
			return r;
	}
	l = list_for_write(x, &argv[1], false, &e, &r);
	if (!l)
		return r ? r : (e ? 0 : argc == 3 ? resp_add_null_array(x->out)
						   : resp_add_null(x->out));
	if (argc == 2) {
		r = reply_blob(x, kv_list_pop(l, left));
	} else {
		n = count < (int64_t)kv_list_len(l) ? count
						    : (int64_t)kv_list_len(l);
		r = resp_add_array(x->out, (size_t)n);
		for (i = 0; i < n && !r; i++)
			r = reply_blob(x, kv_list_pop(l, left));
	}
	kv_drop_if_empty(x, e, kv_list_len(l));
	return r;
}

int kv_cmd_lrange(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	int64_t start, end, len, i;
	struct kv_entry *e;
	struct kv_list *l;
	int err = 0;

	(void)argc;
	if (resp_parse_i64(argv[2].p, argv[2].len, &start) ||
	    resp_parse_i64(argv[3].p, argv[3].len, &end))
		return resp_add_error(x->out, KV_E_NOT_INT);
	e = kv_lookup_read(x, &argv[1]);
	if (!e)
		return resp_add_array(x->out, 0);
	if (kv_wrong_type(x, e, KV_LIST, &err))
		return err;
	l = e->obj;
	len = (int64_t)kv_list_len(l);
	/* Negative counts from the end; then clamp, Redis' way. */
	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = 0;
	if (start > end || start >= len)
		return resp_add_array(x->out, 0);
	if (end >= len)
		end = len - 1;
	if (resp_add_array(x->out, (size_t)(end - start + 1)))
		return -ENOMEM;
	for (i = start; i <= end; i++) {
		const struct kv_blob *b = kv_list_at(l, (size_t)i);

		if (resp_add_bulk(x->out, b->data, b->len))
			return -ENOMEM;
	}
	return 0;
}

int kv_cmd_llen(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_entry *e = kv_lookup_read(x, &argv[1]);
	int err = 0;

	(void)argc;
	if (kv_wrong_type(x, e, KV_LIST, &err))
		return err;
	return resp_add_int(x->out, e ? (int64_t)kv_list_len(e->obj) : 0);
}
