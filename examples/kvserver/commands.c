/*
 * examples/kvserver/commands.c: the command table (names and arities are
 * Redis 7.0's) and the helpers the cmd_*.c files share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "keyspace.h"
#include "store.h"
#include "subreq.h"

const struct kv_config kv_default_config = {
	.lim = {
		.max_bulk = RESP_DEFAULT_MAX_BULK,
		.max_mbulk = RESP_DEFAULT_MAX_MBULK,
	},
	.query_buf_limit = 1024ull * 1024 * 1024,
	.databases = 16,
	.port = 6380,
};

void kv_cstate_fini(struct kv_cstate *cs)
{
	free(cs->name);
	cs->name = NULL;
}

#define LOCAL(n, i, a, f) \
	[i] = { .name = n, .id = i, .arity = a, .route = KV_ROUTE_LOCAL, \
		.local = f }
#define KEY(n, i, a, f, ro) \
	[i] = { .name = n, .id = i, .arity = a, .route = KV_ROUTE_KEY, \
		.run = f, .readonly = ro }
#define KEYS(n, i, a, step, f, m, chk, ro) \
	[i] = { .name = n, .id = i, .arity = a, .route = KV_ROUTE_KEYS, \
		.key_step = step, .run_key = f, .merge = m, .check = chk, \
		.readonly = ro }
#define ALL(n, i, a, f, m, chk) \
	[i] = { .name = n, .id = i, .arity = a, .route = KV_ROUTE_ALL, \
		.run = f, .merge = m, .check = chk }

static const struct kv_command commands[KV_CMD_COUNT] = {
	LOCAL("ping", KV_CMD_PING, -1, kv_local_ping),
	LOCAL("echo", KV_CMD_ECHO, 2, kv_local_echo),
	LOCAL("quit", KV_CMD_QUIT, -1, kv_local_quit),
	LOCAL("select", KV_CMD_SELECT, 2, kv_local_select),
	LOCAL("auth", KV_CMD_AUTH, -2, kv_local_auth),
	LOCAL("hello", KV_CMD_HELLO, -1, kv_local_hello),
	LOCAL("client", KV_CMD_CLIENT, -2, kv_local_client),
	LOCAL("config", KV_CMD_CONFIG, -2, kv_local_config),
	LOCAL("command", KV_CMD_COMMAND, -1, kv_local_command),
	ALL("info", KV_CMD_INFO, -1, kv_cmd_info, KV_MERGE_INFO,
	    kv_check_info),

	KEY("get", KV_CMD_GET, 2, kv_cmd_get, true),
	KEY("set", KV_CMD_SET, -3, kv_cmd_set, false),
	KEY("setnx", KV_CMD_SETNX, 3, kv_cmd_setnx, false),
	KEY("getset", KV_CMD_GETSET, 3, kv_cmd_getset, false),
	KEY("getdel", KV_CMD_GETDEL, 2, kv_cmd_getdel, false),
	KEY("append", KV_CMD_APPEND, 3, kv_cmd_append, false),
	KEY("strlen", KV_CMD_STRLEN, 2, kv_cmd_strlen, true),
	KEY("incr", KV_CMD_INCR, 2, kv_cmd_incr, false),
	KEY("decr", KV_CMD_DECR, 2, kv_cmd_decr, false),
	KEY("incrby", KV_CMD_INCRBY, 3, kv_cmd_incrby, false),
	KEY("decrby", KV_CMD_DECRBY, 3, kv_cmd_decrby, false),
	KEYS("mget", KV_CMD_MGET, -2, 1, kv_key_mget, KV_MERGE_ARRAY, NULL,
	     true),
	KEYS("mset", KV_CMD_MSET, -3, 2, kv_key_mset, KV_MERGE_OK,
	     kv_check_mset, false),

	KEYS("del", KV_CMD_DEL, -2, 1, kv_key_del, KV_MERGE_SUM, NULL, false),
	KEYS("unlink", KV_CMD_UNLINK, -2, 1, kv_key_del, KV_MERGE_SUM, NULL,
	     false),
	KEYS("exists", KV_CMD_EXISTS, -2, 1, kv_key_exists, KV_MERGE_SUM,
	     NULL, true),
	KEY("expire", KV_CMD_EXPIRE, -3, kv_cmd_expire, false),
	KEY("pexpire", KV_CMD_PEXPIRE, -3, kv_cmd_expire, false),
	KEY("expireat", KV_CMD_EXPIREAT, -3, kv_cmd_expire, false),
	KEY("pexpireat", KV_CMD_PEXPIREAT, -3, kv_cmd_expire, false),
	KEY("ttl", KV_CMD_TTL, 2, kv_cmd_ttl, true),
	KEY("pttl", KV_CMD_PTTL, 2, kv_cmd_ttl, true),
	KEY("persist", KV_CMD_PERSIST, 2, kv_cmd_persist, false),
	KEY("type", KV_CMD_TYPE, 2, kv_cmd_type, true),
	ALL("keys", KV_CMD_KEYS, 2, kv_cmd_keys, KV_MERGE_CONCAT, NULL),
	ALL("dbsize", KV_CMD_DBSIZE, 1, kv_cmd_dbsize, KV_MERGE_SUM, NULL),
	ALL("flushall", KV_CMD_FLUSHALL, -1, kv_cmd_flush, KV_MERGE_OK,
	    kv_check_flush),
	ALL("flushdb", KV_CMD_FLUSHDB, -1, kv_cmd_flush, KV_MERGE_OK,
	    kv_check_flush),

	KEY("lpush", KV_CMD_LPUSH, -3, kv_cmd_push, false),
	KEY("rpush", KV_CMD_RPUSH, -3, kv_cmd_push, false),
	KEY("lpop", KV_CMD_LPOP, -2, kv_cmd_pop, false),
	KEY("rpop", KV_CMD_RPOP, -2, kv_cmd_pop, false),
	KEY("lrange", KV_CMD_LRANGE, 4, kv_cmd_lrange, true),
	KEY("llen", KV_CMD_LLEN, 2, kv_cmd_llen, true),

	KEY("sadd", KV_CMD_SADD, -3, kv_cmd_sadd, false),
	KEY("srem", KV_CMD_SREM, -3, kv_cmd_srem, false),
	KEY("spop", KV_CMD_SPOP, -2, kv_cmd_spop, false),
	KEY("scard", KV_CMD_SCARD, 2, kv_cmd_scard, true),
	KEY("smembers", KV_CMD_SMEMBERS, 2, kv_cmd_smembers, true),
	KEY("sismember", KV_CMD_SISMEMBER, 3, kv_cmd_sismember, true),

	KEY("hset", KV_CMD_HSET, -4, kv_cmd_hset, false),
	KEY("hmset", KV_CMD_HMSET, -4, kv_cmd_hset, false),
	KEY("hget", KV_CMD_HGET, 3, kv_cmd_hget, true),
	KEY("hgetall", KV_CMD_HGETALL, 2, kv_cmd_hgetall, true),
	KEY("hdel", KV_CMD_HDEL, -3, kv_cmd_hdel, false),
	KEY("hlen", KV_CMD_HLEN, 2, kv_cmd_hlen, true),
	KEY("hexists", KV_CMD_HEXISTS, 3, kv_cmd_hexists, true),

	KEY("zadd", KV_CMD_ZADD, -4, kv_cmd_zadd, false),
	KEY("zpopmin", KV_CMD_ZPOPMIN, -2, kv_cmd_zpopmin, false),
	KEY("zrange", KV_CMD_ZRANGE, -4, kv_cmd_zrange, true),
	KEY("zcard", KV_CMD_ZCARD, 2, kv_cmd_zcard, true),
	KEY("zscore", KV_CMD_ZSCORE, 3, kv_cmd_zscore, true),
	KEY("zrem", KV_CMD_ZREM, -3, kv_cmd_zrem, false),
};

const struct kv_command *kv_command_lookup(const char *name, size_t len)
{
	int first, i;

	if (len == 0)
		return NULL;
	first = tolower((unsigned char)name[0]);
	for (i = 0; i < KV_CMD_COUNT; i++) {
		const struct kv_command *c = &commands[i];

		if (c->name[0] == first && strlen(c->name) == len &&
		    strncasecmp(c->name, name, len) == 0)
			return c;
	}
	return NULL;
}

const struct kv_command *kv_command_by_id(enum kv_cmd_id id)
{
	if ((unsigned)id >= KV_CMD_COUNT)
		return NULL;
	return &commands[id];
}

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

int kv_reply_arity(struct resp_buf *out, const char *name)
{
	return resp_add_errorf(out,
		"ERR wrong number of arguments for '%s' command", name);
}

int kv_reply_bad_expire(struct resp_buf *out, const char *name)
{
	return resp_add_errorf(out,
		"ERR invalid expire time in '%s' command", name);
}

struct kv_entry *kv_lookup_write(struct kv_exec *x, const struct resp_str *k)
{
	return ks_find(x->db, k->p, k->len, x->now);
}

struct kv_entry *kv_lookup_read(struct kv_exec *x, const struct resp_str *k)
{
	struct kv_entry *e = ks_find(x->db, k->p, k->len, x->now);

	if (e)
		x->st->hits++;
	else
		x->st->misses++;
	return e;
}

bool kv_wrong_type(struct kv_exec *x, const struct kv_entry *e, int type,
		   int *err)
{
	if (!e || e->type == type)
		return false;
	*err = resp_add_error(x->out, KV_E_WRONGTYPE);
	return true;
}

void kv_drop_if_empty(struct kv_exec *x, struct kv_entry *e, size_t len)
{
	if (len == 0)
		ks_del_entry(x->db, e);
}

int kv_arg_count(struct kv_exec *x, const struct resp_str *a, int64_t *out)
{
	int64_t v;

	if (resp_parse_i64(a->p, a->len, &v) || v < 0) {
		int r = resp_add_error(x->out, KV_E_POSITIVE);

		return r ? r : 0;
	}
	*out = v;
	return 1;
}
