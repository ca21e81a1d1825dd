/*
 * examples/kvserver/command.h: the command table and what a command runs
 * with. Nothing here knows about actors or sockets.
 *
 * Every command has a route, which says where it runs:
 *
 *   LOCAL  the connection answers it (PING, SELECT, CLIENT, ...);
 *   KEY    its key is argv[1]: the shard owning the key runs the whole
 *          command and its RESP reply goes back unchanged;
 *   KEYS   several keys (MGET, MSET, DEL, EXISTS): each shard runs its
 *          share of the keys, one result per key, and the results are
 *          merged in argument order;
 *   ALL    every shard runs it over its keys (KEYS, DBSIZE, FLUSHALL,
 *          INFO) and the results are merged.
 *
 * The replies and errors are Redis 7.0's, byte for byte; each cmd_*.c
 * says where the order of its checks comes from.
 */
#ifndef KV_COMMAND_H
#define KV_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp.h"

enum kv_cmd_id {
	/* connection and server (cmd_server.c, info.c) */
	KV_CMD_PING, KV_CMD_ECHO, KV_CMD_QUIT, KV_CMD_SELECT, KV_CMD_AUTH,
	KV_CMD_HELLO, KV_CMD_CLIENT, KV_CMD_CONFIG, KV_CMD_COMMAND,
	KV_CMD_INFO,
	/* strings (cmd_string.c) */
	KV_CMD_GET, KV_CMD_SET, KV_CMD_SETNX, KV_CMD_GETSET, KV_CMD_GETDEL,
	KV_CMD_APPEND, KV_CMD_STRLEN, KV_CMD_INCR, KV_CMD_DECR,
	KV_CMD_INCRBY, KV_CMD_DECRBY, KV_CMD_MGET, KV_CMD_MSET,
	/* keys (cmd_keys.c) */
	KV_CMD_DEL, KV_CMD_UNLINK, KV_CMD_EXISTS, KV_CMD_EXPIRE,
	KV_CMD_PEXPIRE, KV_CMD_EXPIREAT, KV_CMD_PEXPIREAT, KV_CMD_TTL,
	KV_CMD_PTTL, KV_CMD_PERSIST, KV_CMD_TYPE, KV_CMD_KEYS, KV_CMD_DBSIZE,
	KV_CMD_FLUSHALL, KV_CMD_FLUSHDB,
	/* lists (cmd_list.c) */
	KV_CMD_LPUSH, KV_CMD_RPUSH, KV_CMD_LPOP, KV_CMD_RPOP, KV_CMD_LRANGE,
	KV_CMD_LLEN,
	/* sets (cmd_set.c) */
	KV_CMD_SADD, KV_CMD_SREM, KV_CMD_SPOP, KV_CMD_SCARD, KV_CMD_SMEMBERS,
	KV_CMD_SISMEMBER,
	/* hashes (cmd_hash.c) */
	KV_CMD_HSET, KV_CMD_HMSET, KV_CMD_HGET, KV_CMD_HGETALL, KV_CMD_HDEL,
	KV_CMD_HLEN, KV_CMD_HEXISTS,
	/* sorted sets (cmd_zset.c) */
	KV_CMD_ZADD, KV_CMD_ZPOPMIN, KV_CMD_ZRANGE, KV_CMD_ZCARD,
	KV_CMD_ZSCORE, KV_CMD_ZREM,
	KV_CMD_COUNT
};

enum kv_route_type {
	KV_ROUTE_LOCAL,
	KV_ROUTE_KEY,
	KV_ROUTE_KEYS,
	KV_ROUTE_ALL,
};

/* How the results of a KEYS or ALL command become its reply. */
enum kv_merge {
	KV_MERGE_NONE,	/* LOCAL and KEY: there is nothing to merge */
	KV_MERGE_SUM,	/* integers added up (DEL, EXISTS, DBSIZE) */
	KV_MERGE_ARRAY,	/* an element per key, in argument order */
	KV_MERGE_OK,	/* +OK (MSET, FLUSHALL) */
	KV_MERGE_CONCAT, /* the shards' arrays as one array (KEYS) */
	KV_MERGE_INFO,	/* shard statistics into INFO's text (info.c) */
};

/* Settings the server starts with; read-only while it runs. */
struct kv_config {
	struct resp_limits lim;		/* protocol limits */
	uint64_t query_buf_limit;	/* bytes of one pending request */
	unsigned databases;		/* SELECT 0 .. databases-1 */
	int port;			/* for INFO */
};

/* The defaults: Redis 7.0's. */
extern const struct kv_config kv_default_config;

/* A connection's state that commands read and change. */
struct kv_cstate {
	unsigned db;		/* SELECTed database */
	uint64_t id;		/* CLIENT ID, HELLO's id */
	char *name;		/* CLIENT SETNAME; malloc'd, NULL if none */
	bool quit;		/* QUIT ran: close after its reply */
};

void kv_cstate_fini(struct kv_cstate *cs);

/* What a LOCAL command runs with, on the connection's side. */
struct kv_local {
	const struct kv_config *cfg;
	struct kv_cstate *cs;
	struct resp_buf *out;
};

struct kv_store;
struct keyspace;

/* What KEY, KEYS and ALL commands run with, on the owner's side. */
struct kv_exec {
	struct kv_store *st;	/* this shard's databases and counters */
	struct keyspace *db;	/* the SELECTed one */
	unsigned dbi;		/* its number */
	int64_t now;		/* Unix ms, read once per sub-request */
	struct resp_buf *out;	/* reply (KEY) or results (KEYS, ALL) */
};

/* A command's arguments: argv[0] is its name. */
typedef int (*kv_run_fn)(struct kv_exec *x, size_t argc,
			 const struct resp_str *argv);
/* KEYS commands: one key (and its value for MSET), one result. */
typedef int (*kv_run_key_fn)(struct kv_exec *x, const struct resp_str *key,
			     const struct resp_str *val);
typedef int (*kv_local_fn)(struct kv_local *l, size_t argc,
			   const struct resp_str *argv);
/*
 * KEYS and ALL commands: checks the connection makes before anything is
 * sent. 1: go on, with *aux for the merge (INFO's sections); 0: the
 * reply (an error) is in `out`; -ENOMEM.
 */
typedef int (*kv_check_fn)(size_t argc, const struct resp_str *argv,
			   uint32_t *aux, struct resp_buf *out);

struct kv_command {
	const char *name;	/* lower case, as error replies spell it */
	enum kv_cmd_id id;
	int arity;		/* n: n args, -n: n or more (name included) */
	enum kv_route_type route;
	enum kv_merge merge;
	unsigned key_step;	/* KEYS: 1 every arg a key; 2 key value */
	kv_run_fn run;		/* KEY, ALL */
	kv_run_key_fn run_key;	/* KEYS */
	kv_local_fn local;	/* LOCAL */
	kv_check_fn check;	/* KEYS, ALL; may be NULL */
	bool readonly;		/* counts keyspace hits and misses */
};

/* Case-insensitive lookup of a command name; NULL if unknown. */
const struct kv_command *kv_command_lookup(const char *name, size_t len);
const struct kv_command *kv_command_by_id(enum kv_cmd_id id);

/* ------------------------------------------------------------------ */
/* Helpers for the cmd_*.c files                                       */
/* ------------------------------------------------------------------ */

/* Redis' shared error texts. */
#define KV_E_WRONGTYPE \
	"WRONGTYPE Operation against a key holding the wrong kind of value"
#define KV_E_NOT_INT	"ERR value is not an integer or out of range"
#define KV_E_SYNTAX	"ERR syntax error"
#define KV_E_POSITIVE	"ERR value is out of range, must be positive"
#define KV_E_NOT_FLOAT	"ERR value is not a valid float"
#define KV_E_OVERFLOW	"ERR increment or decrement would overflow"

/* "ERR wrong number of arguments for '<name>' command". */
int kv_reply_arity(struct resp_buf *out, const char *name);

/* "ERR invalid expire time in '<name>' command". */
int kv_reply_bad_expire(struct resp_buf *out, const char *name);

struct kv_entry;

/*
 * Find a live key in the SELECTed database for reading (counted in
 * keyspace hits or misses) or writing (not counted).
 */
struct kv_entry *kv_lookup_read(struct kv_exec *x, const struct resp_str *k);
struct kv_entry *kv_lookup_write(struct kv_exec *x, const struct resp_str *k);

/*
 * Redis' checkType(): true, with WRONGTYPE written, when `e` exists and
 * is not of `type`. *err gets the writer's result (0 or -ENOMEM).
 */
bool kv_wrong_type(struct kv_exec *x, const struct kv_entry *e, int type,
		   int *err);

/* Remove a container key that its command just emptied. */
void kv_drop_if_empty(struct kv_exec *x, struct kv_entry *e, size_t len);

/*
 * A count argument (LPOP, SPOP, ZPOPMIN): a non-negative integer, else
 * "value is out of range, must be positive". 1 with *out, 0 after the
 * error reply (or -ENOMEM).
 */
int kv_arg_count(struct kv_exec *x, const struct resp_str *a, int64_t *out);

/* The command runners, by file. */
int kv_cmd_get(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_set(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_setnx(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_getset(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_getdel(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_append(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_strlen(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_incr(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_decr(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_incrby(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_decrby(struct kv_exec *, size_t, const struct resp_str *);
int kv_key_mget(struct kv_exec *, const struct resp_str *,
		const struct resp_str *);
int kv_key_mset(struct kv_exec *, const struct resp_str *,
		const struct resp_str *);
int kv_check_mset(size_t, const struct resp_str *, uint32_t *,
		  struct resp_buf *);

int kv_key_del(struct kv_exec *, const struct resp_str *,
	       const struct resp_str *);
int kv_key_exists(struct kv_exec *, const struct resp_str *,
		  const struct resp_str *);
int kv_cmd_expire(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_ttl(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_persist(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_type(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_keys(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_dbsize(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_flush(struct kv_exec *, size_t, const struct resp_str *);
int kv_check_flush(size_t, const struct resp_str *, uint32_t *,
		   struct resp_buf *);

int kv_cmd_push(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_pop(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_lrange(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_llen(struct kv_exec *, size_t, const struct resp_str *);

int kv_cmd_sadd(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_srem(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_spop(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_scard(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_smembers(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_sismember(struct kv_exec *, size_t, const struct resp_str *);

int kv_cmd_hset(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_hget(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_hgetall(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_hdel(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_hlen(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_hexists(struct kv_exec *, size_t, const struct resp_str *);

int kv_cmd_zadd(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_zpopmin(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_zrange(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_zcard(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_zscore(struct kv_exec *, size_t, const struct resp_str *);
int kv_cmd_zrem(struct kv_exec *, size_t, const struct resp_str *);

int kv_local_ping(struct kv_local *, size_t, const struct resp_str *);
int kv_local_echo(struct kv_local *, size_t, const struct resp_str *);
int kv_local_quit(struct kv_local *, size_t, const struct resp_str *);
int kv_local_select(struct kv_local *, size_t, const struct resp_str *);
int kv_local_auth(struct kv_local *, size_t, const struct resp_str *);
int kv_local_hello(struct kv_local *, size_t, const struct resp_str *);
int kv_local_client(struct kv_local *, size_t, const struct resp_str *);
int kv_local_config(struct kv_local *, size_t, const struct resp_str *);
int kv_local_command(struct kv_local *, size_t, const struct resp_str *);

int kv_cmd_info(struct kv_exec *, size_t, const struct resp_str *);
int kv_check_info(size_t, const struct resp_str *, uint32_t *,
		  struct resp_buf *);

#endif /* KV_COMMAND_H */
