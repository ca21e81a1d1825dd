/*
 * examples/kvserver/subreq.h: the messages between a connection and the
 * keyspace actors, and the steps around them:
 *
 *   look up, check arity          kv_request_prepare()  -> kv_request
 *     (LOCAL commands and errors are answered right there)
 *   which shard gets what         kv_route_init()
 *   one sub-request per shard     kv_subreq_encode()    -> bytes, sent
 *   the owner runs it             kv_store_exec()       (store.h)
 *     and answers a sub-reply     kv_subreply_*()       -> bytes, sent back
 *   one RESP reply, in order      kv_reply_merge()      -> RESP bytes
 *
 * Sub-requests and sub-replies are flat little-endian byte strings, so
 * that they travel as message payloads:
 *
 *   sub-request: u32 seq, u16 part, u8 cmd, u8 db, u32 nargs,
 *                nargs x (u32 len, bytes)
 *     KEY:  the command's arguments after its name;
 *     KEYS: this part's keys, each followed by its value for MSET;
 *     ALL:  the command's arguments after its name.
 *   sub-reply:   u32 seq, u16 part, u16 0, u32 nres, then
 *     KEY:  the command's RESP reply, as is (nres 1);
 *     else: nres results, each u8 type and, per type:
 *           INT: i64; BULK, ERR: u32 len, bytes; ARRAY: u32 count,
 *           u32 len, that many RESP elements in len bytes;
 *           OK, NULL: nothing.
 *
 * `seq` names the command within its connection and `part` the shard's
 * share of it; the owner copies both into its answer. A GET or a short
 * SET of a redis-benchmark key fits in RA_INLINE_PAYLOAD (48) bytes.
 */
#ifndef KV_SUBREQ_H
#define KV_SUBREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command.h"
#include "resp.h"

#define KV_SUBREQ_HDR	12
#define KV_SUBREPLY_HDR	12

/* A command that passed its checks, ready to route. */
struct kv_request {
	const struct kv_command *cmd;	/* NULL only when unknown */
	const struct resp_cmd *args;	/* borrowed from the parser */
	uint32_t nkeys;			/* KEYS commands */
	uint32_t aux;			/* from the command's check */
	unsigned db;			/* the connection's database */
};

/*
 * Look the command up and check it. Returns:
 *   1  it runs on shards: *req is ready for kv_route_init();
 *   0  the reply is already in l->out: a LOCAL command, or an error
 *      (unknown command, arity, syntax); req->cmd says which command it
 *      was, NULL if unknown;
 *   -ENOMEM.
 */
int kv_request_prepare(const struct resp_cmd *args, struct kv_local *l,
		       struct kv_request *req);

/* Key `i` (0 .. nkeys-1) of a KEYS request, and its value for MSET. */
struct resp_str kv_request_key(const struct kv_request *req, uint32_t i);
struct resp_str kv_request_value(const struct kv_request *req, uint32_t i);

/*
 * Which part each key's result lands in and which shard each part goes
 * to. KEY: one part, the key's owner. KEYS: parts numbered in the order
 * their shard first appears among the keys; key_part is NULL when there
 * is one part. ALL: part i is shard i.
 */
struct kv_route {
	unsigned nparts;
	uint16_t *key_part;	/* nkeys entries, or NULL; owned */
	uint16_t *part_shard;	/* nparts entries: &one_shard, or in */
				/* key_part's allocation */
	uint16_t one_shard;	/* storage for the one-part case */
};

/* 0 or -ENOMEM. */
int kv_route_init(struct kv_route *rt, const struct kv_request *req,
		  unsigned nshards);
void kv_route_fini(struct kv_route *rt);

/*
 * Give up ownership of key_part (and part_shard with it when nparts > 1)
 * to the caller, who frees key_part with free(). For a connection that
 * keeps it until the parts come back.
 */
uint16_t *kv_route_take(struct kv_route *rt);

/*
 * Append the sub-request of part `part` of command `seq`: for KEYS the
 * keys i with key_part[i] == part, in argument order (all keys if
 * key_part is NULL). Returns 0, or -ENOMEM (b unchanged).
 */
int kv_subreq_encode(struct resp_buf *b, const struct kv_request *req,
		     uint32_t seq, uint16_t part, const uint16_t *key_part);

/* A sub-request being read by its owner. */
struct kv_subreq {
	uint32_t seq;
	uint16_t part;
	unsigned cmd;		/* enum kv_cmd_id */
	unsigned db;
	uint32_t nargs;
	const unsigned char *cur; /* next argument */
	const unsigned char *end;
};

/* Read the header. 0, or -EINVAL when it is malformed. */
int kv_subreq_open(struct kv_subreq *r, const void *p, size_t len);

/* The next argument. 1 with one, 0 after the last, -EINVAL if malformed. */
int kv_subreq_next(struct kv_subreq *r, struct resp_str *s);

enum kv_result_type {
	KV_R_OK = 1,	/* +OK */
	KV_R_NULL,	/* $-1 */
	KV_R_INT,	/* :n */
	KV_R_BULK,	/* $len bytes */
	KV_R_ERR,	/* -text */
	KV_R_ARRAY,	/* *count, then the elements */
};

/* Sub-reply writers: a header then exactly `nres` results. 0 or -ENOMEM. */
int kv_subreply_begin(struct resp_buf *b, uint32_t seq, uint16_t part,
		      uint32_t nres);
int kv_subreply_ok(struct resp_buf *b);
int kv_subreply_null(struct resp_buf *b);
int kv_subreply_int(struct resp_buf *b, int64_t v);
int kv_subreply_bulk(struct resp_buf *b, const void *p, size_t n);
int kv_subreply_err(struct resp_buf *b, const char *msg);
/*
 * An ARRAY result: begin() returns where its header sits; append the
 * elements with the resp_add_*() writers; end() fills in the header.
 */
int kv_subreply_array_begin(struct resp_buf *b, size_t *at);
void kv_subreply_array_end(struct resp_buf *b, size_t at, uint32_t count);

/* Read seq and part from a sub-reply. 0 or -EINVAL. */
int kv_subreply_peek(const void *p, size_t len, uint32_t *seq,
		     uint16_t *part);

/* One part's sub-reply as received; p == NULL when it was lost. */
struct kv_part {
	const void *p;
	size_t len;
};

/* A reader over one part's results. */
struct kv_cursor {
	const unsigned char *cur;
	const unsigned char *end;
	uint32_t left;		/* results not yet read */
};

struct kv_result {
	enum kv_result_type type;
	int64_t ival;		/* INT */
	uint32_t count;		/* ARRAY */
	const char *p;		/* BULK, ERR, ARRAY */
	size_t len;
};

int kv_cursor_open(struct kv_cursor *c, const struct kv_part *part);
int kv_cursor_next(struct kv_cursor *c, struct kv_result *r);

struct kv_info_env;

/* What one command's reply is made of. */
struct kv_reply_src {
	const struct kv_command *cmd;
	uint32_t nkeys;			/* KEYS */
	const uint16_t *key_part;	/* KEYS; NULL: all in part 0 */
	const struct kv_part *parts;
	unsigned nparts;
	uint32_t aux;			/* from the command's check */
	const struct kv_info_env *env;	/* INFO: the server, or NULL */
};

/*
 * Write the RESP reply of a KEY, KEYS or ALL command from its parts. A
 * missing or malformed part gives an error reply instead, never a
 * partial one. 0 or -ENOMEM.
 */
int kv_reply_merge(const struct kv_reply_src *s, struct resp_buf *out);

#endif /* KV_SUBREQ_H */
