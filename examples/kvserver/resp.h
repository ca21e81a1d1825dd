/*
 * examples/kvserver/resp.h: the RESP2 wire protocol and the command layer
 * of the key-value server. Nothing here knows about actors or threads, so
 * all of it is tested without a runtime (t/resp.c, t/keyspace.c).
 *
 * The life of one command, and which function does each step:
 *
 *   bytes from the socket        resp_parse()          -> struct resp_cmd
 *   look up, check arity/syntax  kv_request_prepare() -> struct kv_request
 *     (keyless commands such as PING are answered right there)
 *   which shard owns each key    kv_route_init()       (keyspace.h)
 *   one sub-request per shard    kv_subreq_encode()    -> bytes, sent
 *   the owner runs it            kv_exec()             (keyspace.h)
 *     and answers a sub-reply    kv_subreply_*()       -> bytes, sent back
 *   one RESP reply, in order     kv_reply_merge()      -> RESP bytes
 *
 * kv_execute() in keyspace.h chains all of it synchronously over a set of
 * keyspaces; the server's connection actor does the same with messages.
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

/*
 * Redis allows 1M arguments and 512 MiB bulks; a connection here holds its
 * whole request in one buffer, so we keep every bound small enough that a
 * hostile client costs at most about a megabyte.
 */
#define RESP_MAX_ARGS		8192		/* arguments per command */
#define RESP_MAX_BULK		(64 * 1024)	/* bytes per bulk argument */
#define RESP_MAX_INLINE		(64 * 1024)	/* bytes per inline line */
#define RESP_MAX_REQUEST	(1024 * 1024)	/* bytes per request */

/* ------------------------------------------------------------------ */
/* Request parser                                                      */
/* ------------------------------------------------------------------ */

/* A byte string that is not NUL-terminated and may hold any byte. */
struct resp_str {
	const char *p;
	size_t len;
};

/* A parsed command: argv[0] is the command name. */
struct resp_cmd {
	size_t argc;
	const struct resp_str *argv;
};

enum resp_status {
	RESP_ERROR = -1,	/* protocol error: see resp_parser_error() */
	RESP_NEED_MORE = 0,	/* no complete command in the bytes given */
	RESP_CMD = 1,		/* one complete command */
};

/* Where one argument sits, relative to the start of its request. */
struct resp_span {
	uint32_t off;
	uint32_t len;
};

/*
 * Incremental parser state; caller storage, one per connection. The
 * fields are private to resp.c. It remembers how far into the current
 * request it has read, so feeding a request one byte at a time costs the
 * same as feeding it whole.
 */
struct resp_parser {
	int state;		/* PS_* in resp.c */
	size_t pos;		/* bytes of the current request examined */
	uint64_t num;		/* the length being read */
	unsigned ndigits;	/* digits of num read so far */
	bool neg;		/* a '-' came first */
	uint32_t argc;		/* arguments the multibulk header announced */
	uint32_t nargs;		/* arguments complete so far */
	size_t bulk_left;	/* bytes of the current bulk still to come */
	uint32_t cap;		/* entries in spans[] and argv[] */
	struct resp_span *spans; /* the arguments, as offsets */
	struct resp_str *argv;	/* the arguments, as pointers, for the caller */
	char err[128];		/* the error reply text after RESP_ERROR */
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_fini(struct resp_parser *p);

/*
 * Parse the first command in buf[0, len).
 *
 * `buf` starts at the first byte not yet consumed. Whatever the result,
 * `*used` says how many bytes at the front of `buf` the caller must drop
 * before the next call: the command's bytes for RESP_CMD, and for
 * RESP_NEED_MORE any empty requests ("*0\r\n", blank inline lines) that
 * were skipped. After RESP_NEED_MORE, call again with the same remaining
 * bytes followed by more (the bytes may have moved: the parser keeps
 * offsets, not pointers).
 *
 * RESP_CMD fills `cmd`; its argv points into `buf` and into the parser,
 * valid until the next call or until the bytes move.
 *
 * RESP_ERROR is sticky: resp_parser_error() gives the reply text (without
 * the leading '-' and CRLF) and every later call fails again. The caller
 * should send it and close the connection, as Redis does.
 *
 * Both the multibulk form ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and the
 * inline form ("GET k\r\n", split on blanks, no quoting) are accepted.
 */
enum resp_status resp_parse(struct resp_parser *p, const char *buf,
			    size_t len, struct resp_cmd *cmd, size_t *used);

const char *resp_parser_error(const struct resp_parser *p);

/* ------------------------------------------------------------------ */
/* Output buffers and reply writers                                    */
/* ------------------------------------------------------------------ */

/* A growable byte buffer; caller storage, zero or resp_buf_init(). */
struct resp_buf {
	char *data;
	size_t len;
	size_t cap;
};

void resp_buf_init(struct resp_buf *b);
void resp_buf_fini(struct resp_buf *b);

/* Make room for `extra` more bytes. 0 or -ENOMEM (nothing changed). */
int resp_buf_reserve(struct resp_buf *b, size_t extra);

/*
 * Hand over the malloc'd bytes (the caller frees them) and leave `b`
 * empty with no storage. NULL when `b` holds nothing.
 */
char *resp_buf_detach(struct resp_buf *b, size_t *len);

/*
 * Reply writers: append one RESP2 value to `b`. Each returns 0, or
 * -ENOMEM with `b` unchanged. Simple strings and errors may not hold CR
 * or LF, so any control byte in them is written as a space; `msg` of
 * resp_add_error() is the text after '-', e.g. "ERR syntax error".
 */
int resp_add_raw(struct resp_buf *b, const void *p, size_t n);
int resp_add_simple(struct resp_buf *b, const char *s);
int resp_add_error(struct resp_buf *b, const char *msg);
int resp_add_int(struct resp_buf *b, int64_t v);
int resp_add_bulk(struct resp_buf *b, const void *p, size_t n);
int resp_add_null(struct resp_buf *b);
int resp_add_array(struct resp_buf *b, size_t n);

/*
 * Redis' strict integer syntax (string2ll): optional '-', no '+', no
 * blanks, no leading zeros, fits in int64. 0 or -EINVAL.
 */
int resp_parse_i64(const char *p, size_t len, int64_t *out);

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

enum kv_cmd_id {
	KV_CMD_PING,
	KV_CMD_ECHO,
	KV_CMD_SET,
	KV_CMD_GET,
	KV_CMD_DEL,
	KV_CMD_EXISTS,
	KV_CMD_INCR,
	KV_CMD_MGET,
	KV_CMD_MSET,
	KV_CMD_CONFIG,
	KV_CMD_COMMAND,
	KV_CMD_COUNT
};

/* What the owner of a key does with it. */
enum kv_op {
	KV_OP_NONE,	/* keyless: answered by the connection */
	KV_OP_GET,
	KV_OP_SET,
	KV_OP_DEL,
	KV_OP_EXISTS,
	KV_OP_INCR,
	KV_OP_COUNT
};

/* How the per-key results of one command become its reply. */
enum kv_merge {
	KV_MERGE_LOCAL,	/* no keys */
	KV_MERGE_ONE,	/* one key: its result is the reply */
	KV_MERGE_SUM,	/* integers added up (DEL, EXISTS) */
	KV_MERGE_ARRAY,	/* one element per key, in argument order (MGET) */
	KV_MERGE_OK,	/* +OK unless one failed (MSET) */
};

struct kv_command {
	const char *name;	/* lower case, as error replies spell it */
	enum kv_cmd_id id;
	int arity;		/* n: n args, -n: n or more (name included) */
	enum kv_op op;
	unsigned first_key;	/* argv index of the first key; 0 = none */
	unsigned key_step;	/* 0 one key; 1 every arg a key; 2 key value */
	enum kv_merge merge;
};

/* Case-insensitive lookup of a command name; NULL if unknown. */
const struct kv_command *kv_command_lookup(const char *name, size_t len);
const struct kv_command *kv_command_by_id(enum kv_cmd_id id);

/* SET options, carried to the key's owner. */
#define KV_SET_NX	(1u << 0)	/* only if the key does not exist */
#define KV_SET_XX	(1u << 1)	/* only if it does */
#define KV_SET_TTL	(1u << 2)	/* expire ttl_ms after it is set */

/* Largest TTL: keeps now + ttl inside a 64-bit ns clock (~317 years). */
#define KV_MAX_TTL_MS	10000000000000LL

/* A command that passed its checks, ready to route. */
struct kv_request {
	const struct kv_command *cmd;	/* NULL only when unknown */
	const struct resp_cmd *args;	/* borrowed from the parser */
	uint32_t nkeys;
	unsigned set_flags;		/* KV_SET_* */
	int64_t ttl_ms;			/* with KV_SET_TTL, > 0 */
};

/*
 * Look the command up and check it. Returns:
 *   1  it has keys: *req is ready for kv_route_init()/kv_subreq_encode();
 *   0  the reply is already appended to `out`: a keyless command (PING,
 *      ECHO, CONFIG, COMMAND) or an error (unknown command, arity,
 *      syntax); req->cmd says which command it was, NULL if unknown;
 *   -ENOMEM.
 */
int kv_request_prepare(const struct resp_cmd *args, struct kv_request *req,
		       struct resp_buf *out);

/* Key `i` (0 .. nkeys-1) of a prepared request, and its value for SET. */
struct resp_str kv_request_key(const struct kv_request *req, uint32_t i);
struct resp_str kv_request_value(const struct kv_request *req, uint32_t i);

/* ------------------------------------------------------------------ */
/* Sub-requests and sub-replies (the messages between actors)          */
/* ------------------------------------------------------------------ */

/*
 * A sub-request carries the keys of one command that one shard owns; a
 * sub-reply carries one result per key, in the same order. Both are flat
 * little-endian byte strings so that they travel as message payloads:
 *
 *   sub-request:  u32 seq, u16 part, u8 op, u8 flags, u32 nkeys,
 *                 [i64 ttl_ms if flags has KV_SET_TTL],
 *                 nkeys x (u32 klen, key, [u32 vlen, value if op SET])
 *   sub-reply:    u32 seq, u16 part, u16 nres,
 *                 nres x (u8 type, then per type:
 *                         INT: i64;  BULK, ERR: u32 len, bytes;
 *                         OK, NULL: nothing)
 *
 * `seq` names the command within its connection and `part` the shard's
 * share of it; the owner copies both into its answer. A GET or a SET of a
 * short key and value fits in RA_INLINE_PAYLOAD (48) bytes.
 */
#define KV_SUBREQ_HDR	12
#define KV_SUBREPLY_HDR	8

enum kv_result_type {
	KV_R_OK = 1,	/* +OK */
	KV_R_NULL,	/* $-1 */
	KV_R_INT,	/* :n */
	KV_R_BULK,	/* $len bytes */
	KV_R_ERR,	/* -text */
};

/*
 * Append the sub-request of part `part` of command `seq`: the keys i with
 * key_part[i] == part, in argument order (all keys if key_part is NULL).
 * Returns the number of keys written, or -ENOMEM (b unchanged).
 */
int kv_subreq_encode(struct resp_buf *b, const struct kv_request *req,
		     uint32_t seq, uint16_t part, const uint16_t *key_part);

/* A sub-request being read by its owner. */
struct kv_subreq {
	uint32_t seq;
	uint16_t part;
	enum kv_op op;
	unsigned flags;		/* KV_SET_* */
	int64_t ttl_ms;
	uint32_t nkeys;
	const unsigned char *cur; /* next key */
	const unsigned char *end;
};

/* Read the header. 0, or -EINVAL when it is malformed. */
int kv_subreq_open(struct kv_subreq *r, const void *p, size_t len);

/*
 * The next key (and value, for SET). 1 with one, 0 after the last,
 * -EINVAL if the bytes are malformed.
 */
int kv_subreq_next(struct kv_subreq *r, struct resp_str *key,
		   struct resp_str *val);

/* Sub-reply writers: a header then exactly `nres` results. 0 or -ENOMEM. */
int kv_subreply_begin(struct resp_buf *b, uint32_t seq, uint16_t part,
		      uint16_t nres);
int kv_subreply_ok(struct resp_buf *b);
int kv_subreply_null(struct resp_buf *b);
int kv_subreply_int(struct resp_buf *b, int64_t v);
int kv_subreply_bulk(struct resp_buf *b, const void *p, size_t n);
int kv_subreply_err(struct resp_buf *b, const char *msg);

/* Read seq and part from a sub-reply. 0 or -EINVAL. */
int kv_subreply_peek(const void *p, size_t len, uint32_t *seq,
		     uint16_t *part);

/* One part's sub-reply as received; p == NULL when it was lost. */
struct kv_part {
	const void *p;
	size_t len;
};

/*
 * Write the RESP reply of command `cmd` with `nkeys` keys whose results
 * came back in `parts` (key i's result is in part key_part[i]; all in
 * part 0 when key_part is NULL). A missing or malformed part gives an
 * error reply instead, never a partial one. 0 or -ENOMEM.
 */
int kv_reply_merge(const struct kv_command *cmd, uint32_t nkeys,
		   const uint16_t *key_part, const struct kv_part *parts,
		   unsigned nparts, struct resp_buf *out);

#endif /* KV_RESP_H */
