/*
 * examples/kvserver/resp.c: RESP2 request parser, reply writers, command
 * table and the sub-request/sub-reply codec (see resp.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

/* ------------------------------------------------------------------ */
/* Request parser                                                      */
/* ------------------------------------------------------------------ */

/*
 * One state per thing the next byte may be. The parser looks at every
 * header byte exactly once and skips bulk payloads by length, so a request
 * fed one byte at a time goes through the same states, in the same order,
 * as one fed whole: the results cannot differ.
 */
enum {
	PS_START,	/* first byte of a request: '*' or inline */
	PS_MB_COUNT,	/* digits after '*' */
	PS_MB_COUNT_LF,	/* '\n' after the count */
	PS_BULK_DOLLAR,	/* '$' */
	PS_BULK_LEN,	/* digits after '$' */
	PS_BULK_LEN_LF,	/* '\n' after the length */
	PS_BULK_DATA,	/* payload bytes */
	PS_BULK_CR,	/* '\r' after the payload */
	PS_BULK_LF,	/* '\n' after the payload */
	PS_INLINE,	/* scanning an inline line for '\n' */
	PS_ERROR,	/* sticky */
};

/* The protocol errors, worded as Redis words them where it has them. */
#define E_PROTO		"ERR Protocol error: "
#define E_MBULK		E_PROTO "invalid multibulk length"
#define E_BULK		E_PROTO "invalid bulk length"
#define E_CRLF		E_PROTO "expected CRLF after bulk string"
#define E_INLINE	E_PROTO "too big inline request"
#define E_TOO_BIG	E_PROTO "request too big"
#define E_ARGS		E_PROTO "too many arguments"
#define E_NOMEM		"ERR out of memory"

/* Most digits we read of a length: 10 is past every limit above. */
#define MAX_DIGITS 10

static void reset_request(struct resp_parser *p)
{
	p->state = PS_START;
	p->pos = 0;
	p->num = 0;
	p->ndigits = 0;
	p->neg = false;
	p->argc = 0;
	p->nargs = 0;
	p->bulk_left = 0;
}

void resp_parser_init(struct resp_parser *p)
{
	memset(p, 0, sizeof(*p));
	reset_request(p);
}

void resp_parser_fini(struct resp_parser *p)
{
	free(p->spans);
	free(p->argv);
	p->spans = NULL;
	p->argv = NULL;
	p->cap = 0;
}

const char *resp_parser_error(const struct resp_parser *p)
{
	return p->state == PS_ERROR ? p->err : "";
}

static enum resp_status fail(struct resp_parser *p, const char *msg)
{
	snprintf(p->err, sizeof(p->err), "%s", msg);
	p->state = PS_ERROR;
	return RESP_ERROR;
}

static void start_number(struct resp_parser *p)
{
	p->num = 0;
	p->ndigits = 0;
	p->neg = false;
}

/*
 * Feed one byte of a length. 1: keep going; 0: '\r' ended a valid number;
 * -1: not a valid length. A '-' is taken so that "-1" fails as a bad
 * length (what Redis says) rather than as a stray byte.
 */
static int number_byte(struct resp_parser *p, unsigned char c, uint64_t max)
{
	if (c == '\r')
		return p->ndigits > 0 && !p->neg ? 0 : -1;
	if (c == '-' && p->ndigits == 0 && !p->neg) {
		p->neg = true;
		return 1;
	}
	if (c < '0' || c > '9' || p->neg)
		return -1;
	p->num = p->num * 10 + (c - '0');
	if (++p->ndigits > MAX_DIGITS || p->num > max)
		return -1;
	return 1;
}

/* Room for one more argument; grows geometrically up to RESP_MAX_ARGS. */
static int push_span(struct resp_parser *p, size_t off, size_t len)
{
	if (p->nargs >= RESP_MAX_ARGS)
		return -E2BIG;
	if (p->nargs == p->cap) {
		uint32_t ncap = p->cap ? p->cap * 2 : 8;
		struct resp_span *s;
		struct resp_str *a;

		if (ncap > RESP_MAX_ARGS)
			ncap = RESP_MAX_ARGS;
		s = realloc(p->spans, ncap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		p->spans = s;
		a = realloc(p->argv, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->argv = a;
		p->cap = ncap;
	}
	p->spans[p->nargs].off = (uint32_t)off;
	p->spans[p->nargs].len = (uint32_t)len;
	p->nargs++;
	return 0;
}

static void fill_cmd(struct resp_parser *p, const char *req,
		     struct resp_cmd *cmd)
{
	uint32_t i;

	for (i = 0; i < p->nargs; i++) {
		p->argv[i].p = req + p->spans[i].off;
		p->argv[i].len = p->spans[i].len;
	}
	cmd->argc = p->nargs;
	cmd->argv = p->argv;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split an inline line (no '\n') into spans. */
static enum resp_status split_inline(struct resp_parser *p, const char *line,
				     size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;
		int r;

		while (i < len && is_blank((unsigned char)line[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_blank((unsigned char)line[i]))
			i++;
		r = push_span(p, start, i - start);
		if (r == -E2BIG)
			return fail(p, E_ARGS);
		if (r)
			return fail(p, E_NOMEM);
	}
	return RESP_CMD;
}

/*
 * An inline request: everything up to '\n'. Scanning resumes where the
 * last call stopped, so a long line fed in pieces is read once. A blank
 * line is no command (Redis skips it too): it is dropped by moving *base
 * past it, and the state goes back to PS_START.
 */
static enum resp_status parse_inline(struct resp_parser *p, const char *buf,
				     size_t len, size_t *base)
{
	size_t at = *base + p->pos, line;
	const char *nl = memchr(buf + at, '\n', len - at);

	if (!nl) {
		p->pos = len - *base;
		if (p->pos > RESP_MAX_INLINE)
			return fail(p, E_INLINE);
		return RESP_NEED_MORE;
	}
	line = (size_t)(nl - (buf + *base));
	if (line > RESP_MAX_INLINE)
		return fail(p, E_INLINE);
	if (split_inline(p, buf + *base, line) == RESP_ERROR)
		return RESP_ERROR;
	p->pos = line + 1;
	if (p->nargs == 0) {
		*base += p->pos;
		reset_request(p);
		return RESP_NEED_MORE;
	}
	return RESP_CMD;
}

static enum resp_status bad_dollar(struct resp_parser *p, unsigned char c)
{
	char msg[64];

	if (c >= 0x20 && c < 0x7f)
		snprintf(msg, sizeof(msg),
			 E_PROTO "expected '$', got '%c'", c);
	else
		snprintf(msg, sizeof(msg),
			 E_PROTO "expected '$', got '\\x%02x'", c);
	return fail(p, msg);
}

enum resp_status resp_parse(struct resp_parser *p, const char *buf,
			    size_t len, struct resp_cmd *cmd, size_t *used)
{
	/* Start of the current request in buf: past skipped empty ones. */
	size_t base = 0;

	*used = 0;
	if (p->state == PS_ERROR)
		return RESP_ERROR;
	for (;;) {
		size_t at = base + p->pos;
		unsigned char c;
		int r;

		if (p->state == PS_BULK_DATA) {
			size_t have = len - at;

			if (have < p->bulk_left) {
				p->pos += have;
				p->bulk_left -= have;
				break;
			}
			p->pos += p->bulk_left;
			p->bulk_left = 0;
			p->state = PS_BULK_CR;
			continue;
		}
		if (p->state == PS_INLINE) {
			enum resp_status st = parse_inline(p, buf, len, &base);

			if (st == RESP_NEED_MORE && p->state == PS_START)
				continue;	/* a blank line was skipped */
			if (st == RESP_CMD) {
				fill_cmd(p, buf + base, cmd);
				*used = base + p->pos;
				reset_request(p);
			}
			if (st != RESP_NEED_MORE)
				return st;
			break;
		}
		if (at >= len)
			break;
		c = (unsigned char)buf[at];
		p->pos++;
		switch (p->state) {
		case PS_START:
			if (c == '*') {
				start_number(p);
				p->state = PS_MB_COUNT;
			} else {
				/* This byte already belongs to the line. */
				p->pos--;
				p->state = PS_INLINE;
			}
			break;
		case PS_MB_COUNT:
			r = number_byte(p, c, RESP_MAX_ARGS);
			if (r < 0)
				return fail(p, E_MBULK);
			if (r == 0)
				p->state = PS_MB_COUNT_LF;
			break;
		case PS_MB_COUNT_LF:
			if (c != '\n')
				return fail(p, E_MBULK);
			if (p->num == 0) {
				/* "*0\r\n" is valid and empty: skip it. */
				base += p->pos;
				reset_request(p);
				break;
			}
			p->argc = (uint32_t)p->num;
			p->nargs = 0;
			p->state = PS_BULK_DOLLAR;
			break;
		case PS_BULK_DOLLAR:
			if (c != '$')
				return bad_dollar(p, c);
			start_number(p);
			p->state = PS_BULK_LEN;
			break;
		case PS_BULK_LEN:
			r = number_byte(p, c, RESP_MAX_BULK);
			if (r < 0)
				return fail(p, E_BULK);
			if (r == 0)
				p->state = PS_BULK_LEN_LF;
			break;
		case PS_BULK_LEN_LF:
			if (c != '\n')
				return fail(p, E_BULK);
			/* Refuse before buffering; +2 for the CRLF. */
			if (p->pos + p->num + 2 > RESP_MAX_REQUEST)
				return fail(p, E_TOO_BIG);
			if (push_span(p, p->pos, p->num))
				return fail(p, E_NOMEM);
			p->bulk_left = p->num;
			p->state = PS_BULK_DATA;
			break;
		case PS_BULK_CR:
			if (c != '\r')
				return fail(p, E_CRLF);
			p->state = PS_BULK_LF;
			break;
		case PS_BULK_LF:
			if (c != '\n')
				return fail(p, E_CRLF);
			if (p->nargs == p->argc) {
				fill_cmd(p, buf + base, cmd);
				*used = base + p->pos;
				reset_request(p);
				return RESP_CMD;
			}
			p->state = PS_BULK_DOLLAR;
			break;
		default:
			return fail(p, E_PROTO "parser state");
		}
	}
	*used = base;
	return RESP_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* Output buffers and reply writers                                    */
/* ------------------------------------------------------------------ */

void resp_buf_init(struct resp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void resp_buf_fini(struct resp_buf *b)
{
	free(b->data);
	resp_buf_init(b);
}

int resp_buf_reserve(struct resp_buf *b, size_t extra)
{
	size_t need, ncap;
	char *d;

	if (extra > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	d = realloc(b->data, ncap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = ncap;
	return 0;
}

char *resp_buf_detach(struct resp_buf *b, size_t *len)
{
	char *d = b->data;

	*len = b->len;
	if (b->len == 0) {
		/* Keep the storage: nothing to hand over. */
		return NULL;
	}
	resp_buf_init(b);
	return d;
}

int resp_add_raw(struct resp_buf *b, const void *p, size_t n)
{
	if (resp_buf_reserve(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* "<c><text>\r\n" with control bytes blanked so the line cannot break. */
static int add_line(struct resp_buf *b, char c, const char *s)
{
	size_t n = strlen(s), i;
	char *d;

	if (resp_buf_reserve(b, n + 3))
		return -ENOMEM;
	d = b->data + b->len;
	*d++ = c;
	for (i = 0; i < n; i++)
		d[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	d[n] = '\r';
	d[n + 1] = '\n';
	b->len += n + 3;
	return 0;
}

int resp_add_simple(struct resp_buf *b, const char *s)
{
	return add_line(b, '+', s);
}

int resp_add_error(struct resp_buf *b, const char *msg)
{
	return add_line(b, '-', msg);
}

/* "<c><decimal>\r\n": the shared shape of ints and lengths. */
static int add_num_line(struct resp_buf *b, char c, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%c%" PRId64 "\r\n", c, v);

	return resp_add_raw(b, tmp, (size_t)n);
}

int resp_add_int(struct resp_buf *b, int64_t v)
{
	return add_num_line(b, ':', v);
}

int resp_add_bulk(struct resp_buf *b, const void *p, size_t n)
{
	size_t old = b->len;

	/* Reserve it all first so that a failure leaves b unchanged. */
	if (resp_buf_reserve(b, n + 32))
		return -ENOMEM;
	if (add_num_line(b, '$', (int64_t)n) || resp_add_raw(b, p, n) ||
	    resp_add_raw(b, "\r\n", 2)) {
		b->len = old;
		return -ENOMEM;
	}
	return 0;
}

int resp_add_null(struct resp_buf *b)
{
	return resp_add_raw(b, "$-1\r\n", 5);
}

int resp_add_array(struct resp_buf *b, size_t n)
{
	return add_num_line(b, '*', (int64_t)n);
}

int resp_parse_i64(const char *p, size_t len, int64_t *out)
{
	uint64_t v = 0, lim;
	bool neg = false;
	size_t i = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	if (len == 1 && p[0] == '0') {
		*out = 0;
		return 0;
	}
	if (p[0] == '-') {
		neg = true;
		i = 1;
		if (len == 1)
			return -EINVAL;
	}
	/* No leading zero: "01" and "-0" are not integers to Redis. */
	if (p[i] < '1' || p[i] > '9')
		return -EINVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		d = (unsigned)(p[i] - '0');
		if (v > (lim - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static const struct kv_command commands[KV_CMD_COUNT] = {
	[KV_CMD_PING] = { "ping", KV_CMD_PING, -1, KV_OP_NONE, 0, 0,
			  KV_MERGE_LOCAL },
	[KV_CMD_ECHO] = { "echo", KV_CMD_ECHO, 2, KV_OP_NONE, 0, 0,
			  KV_MERGE_LOCAL },
	[KV_CMD_SET] = { "set", KV_CMD_SET, -3, KV_OP_SET, 1, 0,
			 KV_MERGE_ONE },
	[KV_CMD_GET] = { "get", KV_CMD_GET, 2, KV_OP_GET, 1, 0,
			 KV_MERGE_ONE },
	[KV_CMD_DEL] = { "del", KV_CMD_DEL, -2, KV_OP_DEL, 1, 1,
			 KV_MERGE_SUM },
	[KV_CMD_EXISTS] = { "exists", KV_CMD_EXISTS, -2, KV_OP_EXISTS, 1, 1,
			    KV_MERGE_SUM },
	[KV_CMD_INCR] = { "incr", KV_CMD_INCR, 2, KV_OP_INCR, 1, 0,
			  KV_MERGE_ONE },
	[KV_CMD_MGET] = { "mget", KV_CMD_MGET, -2, KV_OP_GET, 1, 1,
			  KV_MERGE_ARRAY },
	[KV_CMD_MSET] = { "mset", KV_CMD_MSET, -3, KV_OP_SET, 1, 2,
			  KV_MERGE_OK },
	[KV_CMD_CONFIG] = { "config", KV_CMD_CONFIG, -2, KV_OP_NONE, 0, 0,
			    KV_MERGE_LOCAL },
	[KV_CMD_COMMAND] = { "command", KV_CMD_COMMAND, -1, KV_OP_NONE, 0, 0,
			     KV_MERGE_LOCAL },
};

const struct kv_command *kv_command_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < KV_CMD_COUNT; i++) {
		if (strlen(commands[i].name) == len &&
		    strncasecmp(commands[i].name, name, len) == 0)
			return &commands[i];
	}
	return NULL;
}

const struct kv_command *kv_command_by_id(enum kv_cmd_id id)
{
	if ((unsigned)id >= KV_CMD_COUNT)
		return NULL;
	return &commands[id];
}

static bool arg_is(const struct resp_str *a, const char *word)
{
	return a->len == strlen(word) && strncasecmp(a->p, word, a->len) == 0;
}

/* Append s[0, n) cut to 128 bytes, as Redis cuts names in its errors. */
static void append_cut(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t used = strlen(dst);

	if (n > 128)
		n = 128;
	if (used + 1 >= dstsz)
		return;
	if (n > dstsz - used - 1)
		n = dstsz - used - 1;
	memcpy(dst + used, s, n);
	dst[used + n] = '\0';
}

/*
 * Redis 7's text: "ERR unknown command 'x', with args beginning with: 'a'
 * 'b' ". The NUL bytes a binary name may hold end the C string early;
 * add_line() blanks the other control bytes.
 */
static int reply_unknown(const struct resp_cmd *args, struct resp_buf *out)
{
	char msg[600] = "ERR unknown command '";
	size_t i;

	append_cut(msg, sizeof(msg), args->argv[0].p, args->argv[0].len);
	append_cut(msg, sizeof(msg), "', with args beginning with: ", 29);
	for (i = 1; i < args->argc && strlen(msg) < sizeof(msg) - 140; i++) {
		append_cut(msg, sizeof(msg), "'", 1);
		append_cut(msg, sizeof(msg), args->argv[i].p,
			   args->argv[i].len);
		append_cut(msg, sizeof(msg), "' ", 2);
	}
	return resp_add_error(out, msg);
}

static int reply_arity(const char *name, struct resp_buf *out)
{
	char msg[96];

	snprintf(msg, sizeof(msg),
		 "ERR wrong number of arguments for '%s' command", name);
	return resp_add_error(out, msg);
}

static bool arity_ok(const struct kv_command *c, size_t argc)
{
	if (c->arity > 0)
		return argc == (size_t)c->arity;
	return argc >= (size_t)-c->arity;
}

#define E_NOT_INT	"ERR value is not an integer or out of range"
#define E_EXPIRE	"ERR invalid expire time in 'set' command"

/*
 * SET key value [EX s | PX ms] [NX | XX]: the options Redis had before
 * 6.0 and that redis-benchmark and most clients send. Checked here, at the
 * connection, so that the owner only ever sees valid requests.
 */
static int prepare_set(const struct resp_cmd *args, struct kv_request *req,
		       struct resp_buf *out)
{
	size_t i;

	for (i = 3; i < args->argc; i++) {
		const struct resp_str *a = &args->argv[i];
		bool ex = arg_is(a, "ex"), px = arg_is(a, "px");
		int64_t v;

		if (arg_is(a, "nx") && !(req->set_flags & KV_SET_XX)) {
			req->set_flags |= KV_SET_NX;
		} else if (arg_is(a, "xx") && !(req->set_flags & KV_SET_NX)) {
			req->set_flags |= KV_SET_XX;
		} else if ((ex || px) && !(req->set_flags & KV_SET_TTL) &&
			   i + 1 < args->argc) {
			i++;
			if (resp_parse_i64(args->argv[i].p, args->argv[i].len,
					   &v))
				return resp_add_error(out, E_NOT_INT);
			if (v <= 0 || (ex && v > KV_MAX_TTL_MS / 1000) ||
			    v > KV_MAX_TTL_MS)
				return resp_add_error(out, E_EXPIRE);
			req->ttl_ms = ex ? v * 1000 : v;
			req->set_flags |= KV_SET_TTL;
		} else {
			return resp_add_error(out, "ERR syntax error");
		}
	}
	return 1;
}

/*
 * CONFIG GET name...: redis-benchmark asks for "save" and "appendonly"
 * when it starts and warns unless it gets both, so those two get the true
 * answer for a server that never persists; any other name is unknown,
 * which Redis answers by leaving it out (an empty array for all unknown).
 * Names are matched exactly, not as glob patterns.
 */
static int config_get(const struct resp_cmd *args, struct resp_buf *out)
{
	static const char *const known[][2] = {
		{ "save", "" },
		{ "appendonly", "no" },
	};
	size_t i, k, n = 0;
	int r = 0;

	for (k = 0; k < 2; k++)
		for (i = 2; i < args->argc; i++)
			if (arg_is(&args->argv[i], known[k][0])) {
				n++;
				break;
			}
	r = resp_add_array(out, 2 * n);
	for (k = 0; k < 2 && !r; k++)
		for (i = 2; i < args->argc; i++)
			if (arg_is(&args->argv[i], known[k][0])) {
				r = resp_add_bulk(out, known[k][0],
						  strlen(known[k][0])) ||
				    resp_add_bulk(out, known[k][1],
						  strlen(known[k][1]));
				break;
			}
	return r ? -ENOMEM : 0;
}

#define E_CONFIG \
	"ERR unknown subcommand for 'config'. Only CONFIG GET is supported"

/* The keyless commands, answered by the connection itself. */
static int run_local(const struct kv_command *c, const struct resp_cmd *args,
		     struct resp_buf *out)
{
	switch (c->id) {
	case KV_CMD_PING:
		if (args->argc > 2)
			return reply_arity(c->name, out);
		if (args->argc == 2)
			return resp_add_bulk(out, args->argv[1].p,
					     args->argv[1].len);
		return resp_add_simple(out, "PONG");
	case KV_CMD_ECHO:
		return resp_add_bulk(out, args->argv[1].p, args->argv[1].len);
	case KV_CMD_CONFIG:
		if (arg_is(&args->argv[1], "get")) {
			if (args->argc < 3)
				return reply_arity("config|get", out);
			return config_get(args, out);
		}
		return resp_add_error(out, E_CONFIG);
	case KV_CMD_COMMAND:
		/* redis-cli asks COMMAND DOCS for hints; none is fine. */
		return resp_add_array(out, 0);
	default:
		return resp_add_error(out, "ERR internal error");
	}
}

int kv_request_prepare(const struct resp_cmd *args, struct kv_request *req,
		       struct resp_buf *out)
{
	const struct kv_command *c;
	int r;

	memset(req, 0, sizeof(*req));
	req->args = args;
	if (args->argc == 0)
		return resp_add_error(out, "ERR empty command");
	c = kv_command_lookup(args->argv[0].p, args->argv[0].len);
	req->cmd = c;
	if (!c)
		return reply_unknown(args, out);
	if (!arity_ok(c, args->argc) ||
	    (c->key_step == 2 && (args->argc - c->first_key) % 2 != 0))
		return reply_arity(c->name, out);
	if (c->op == KV_OP_NONE)
		return run_local(c, args, out);
	if (c->id == KV_CMD_SET) {
		r = prepare_set(args, req, out);
		if (r <= 0)
			return r;
	}
	if (c->key_step == 0)
		req->nkeys = 1;
	else
		req->nkeys = (uint32_t)((args->argc - c->first_key) /
					c->key_step);
	return 1;
}

struct resp_str kv_request_key(const struct kv_request *req, uint32_t i)
{
	unsigned step = req->cmd->key_step ? req->cmd->key_step : 1;

	return req->args->argv[req->cmd->first_key + (size_t)i * step];
}

/* SET key value and MSET k1 v1 k2 v2: the value follows its key. */
struct resp_str kv_request_value(const struct kv_request *req, uint32_t i)
{
	unsigned step = req->cmd->key_step ? req->cmd->key_step : 1;

	return req->args->argv[req->cmd->first_key + (size_t)i * step + 1];
}

/* ------------------------------------------------------------------ */
/* Sub-requests and sub-replies                                        */
/* ------------------------------------------------------------------ */

/*
 * Fixed-width little-endian fields through memcpy: payloads are byte
 * strings with no alignment, and the server only runs on x86-64 and
 * arm64, both little-endian, so the copy is the whole encoding.
 */
static void put_u16(unsigned char *d, uint16_t v)
{
	memcpy(d, &v, 2);
}

static void put_u32(unsigned char *d, uint32_t v)
{
	memcpy(d, &v, 4);
}

static void put_i64(unsigned char *d, int64_t v)
{
	memcpy(d, &v, 8);
}

static uint16_t get_u16(const unsigned char *s)
{
	uint16_t v;

	memcpy(&v, s, 2);
	return v;
}

static uint32_t get_u32(const unsigned char *s)
{
	uint32_t v;

	memcpy(&v, s, 4);
	return v;
}

static int64_t get_i64(const unsigned char *s)
{
	int64_t v;

	memcpy(&v, s, 8);
	return v;
}

int kv_subreq_encode(struct resp_buf *b, const struct kv_request *req,
		     uint32_t seq, uint16_t part, const uint16_t *key_part)
{
	bool with_val = req->cmd->op == KV_OP_SET;
	size_t need = KV_SUBREQ_HDR + 8, old = b->len;
	unsigned char *d;
	uint32_t i, n = 0;

	/* Size it first: one reserve, so no step below can fail. */
	for (i = 0; i < req->nkeys; i++) {
		if (key_part && key_part[i] != part)
			continue;
		need += 4 + kv_request_key(req, i).len;
		if (with_val)
			need += 4 + kv_request_value(req, i).len;
	}
	if (resp_buf_reserve(b, need))
		return -ENOMEM;
	d = (unsigned char *)b->data + old;
	put_u32(d, seq);
	put_u16(d + 4, part);
	d[6] = (unsigned char)req->cmd->op;
	d[7] = (unsigned char)req->set_flags;
	d += KV_SUBREQ_HDR;
	if (req->set_flags & KV_SET_TTL) {
		put_i64(d, req->ttl_ms);
		d += 8;
	}
	for (i = 0; i < req->nkeys; i++) {
		struct resp_str k, v;

		if (key_part && key_part[i] != part)
			continue;
		k = kv_request_key(req, i);
		put_u32(d, (uint32_t)k.len);
		memcpy(d + 4, k.p, k.len);
		d += 4 + k.len;
		if (with_val) {
			v = kv_request_value(req, i);
			put_u32(d, (uint32_t)v.len);
			memcpy(d + 4, v.p, v.len);
			d += 4 + v.len;
		}
		n++;
	}
	put_u32((unsigned char *)b->data + old + 8, n);
	b->len = (size_t)(d - (unsigned char *)b->data);
	return (int)n;
}

int kv_subreq_open(struct kv_subreq *r, const void *p, size_t len)
{
	const unsigned char *s = p;

	if (!p || len < KV_SUBREQ_HDR)
		return -EINVAL;
	r->seq = get_u32(s);
	r->part = get_u16(s + 4);
	r->op = (enum kv_op)s[6];
	r->flags = s[7];
	r->nkeys = get_u32(s + 8);
	r->ttl_ms = 0;
	r->cur = s + KV_SUBREQ_HDR;
	r->end = s + len;
	if (r->op <= KV_OP_NONE || r->op >= KV_OP_COUNT)
		return -EINVAL;
	if (r->flags & ~(unsigned)(KV_SET_NX | KV_SET_XX | KV_SET_TTL))
		return -EINVAL;
	if (r->flags & KV_SET_TTL) {
		if (r->end - r->cur < 8)
			return -EINVAL;
		r->ttl_ms = get_i64(r->cur);
		r->cur += 8;
		if (r->ttl_ms <= 0 || r->ttl_ms > KV_MAX_TTL_MS)
			return -EINVAL;
	}
	/* Each key needs at least its length field. */
	if (r->nkeys > (size_t)(r->end - r->cur) / 4 || r->nkeys > UINT16_MAX)
		return -EINVAL;
	return 0;
}

/* One length-prefixed string, bounds-checked against r->end. */
static int take_str(struct kv_subreq *r, struct resp_str *s)
{
	uint32_t n;

	if (r->end - r->cur < 4)
		return -EINVAL;
	n = get_u32(r->cur);
	if ((size_t)(r->end - r->cur - 4) < n)
		return -EINVAL;
	s->p = (const char *)r->cur + 4;
	s->len = n;
	r->cur += 4 + (size_t)n;
	return 0;
}

int kv_subreq_next(struct kv_subreq *r, struct resp_str *key,
		   struct resp_str *val)
{
	if (r->cur == r->end)
		return 0;
	if (take_str(r, key))
		return -EINVAL;
	val->p = NULL;
	val->len = 0;
	if (r->op == KV_OP_SET && take_str(r, val))
		return -EINVAL;
	return 1;
}

int kv_subreply_begin(struct resp_buf *b, uint32_t seq, uint16_t part,
		      uint16_t nres)
{
	unsigned char h[KV_SUBREPLY_HDR];

	put_u32(h, seq);
	put_u16(h + 4, part);
	put_u16(h + 6, nres);
	return resp_add_raw(b, h, sizeof(h));
}

static int subreply_tagged(struct resp_buf *b, enum kv_result_type t,
			   const void *p, size_t n)
{
	unsigned char h[5];

	if (resp_buf_reserve(b, 5 + n))
		return -ENOMEM;
	h[0] = (unsigned char)t;
	put_u32(h + 1, (uint32_t)n);
	resp_add_raw(b, h, 5);
	resp_add_raw(b, p, n);
	return 0;
}

int kv_subreply_ok(struct resp_buf *b)
{
	unsigned char t = KV_R_OK;

	return resp_add_raw(b, &t, 1);
}

int kv_subreply_null(struct resp_buf *b)
{
	unsigned char t = KV_R_NULL;

	return resp_add_raw(b, &t, 1);
}

int kv_subreply_int(struct resp_buf *b, int64_t v)
{
	unsigned char d[9];

	d[0] = KV_R_INT;
	put_i64(d + 1, v);
	return resp_add_raw(b, d, sizeof(d));
}

int kv_subreply_bulk(struct resp_buf *b, const void *p, size_t n)
{
	return subreply_tagged(b, KV_R_BULK, p, n);
}

int kv_subreply_err(struct resp_buf *b, const char *msg)
{
	return subreply_tagged(b, KV_R_ERR, msg, strlen(msg));
}

int kv_subreply_peek(const void *p, size_t len, uint32_t *seq,
		     uint16_t *part)
{
	if (!p || len < KV_SUBREPLY_HDR)
		return -EINVAL;
	*seq = get_u32(p);
	*part = get_u16((const unsigned char *)p + 4);
	return 0;
}

/* A reader over one part's results. */
struct result_cursor {
	const unsigned char *cur;
	const unsigned char *end;
	uint16_t left;		/* results not yet read */
};

struct result {
	enum kv_result_type type;
	int64_t ival;
	const char *p;
	size_t len;
};

static int cursor_open(struct result_cursor *c, const struct kv_part *part)
{
	if (!part->p || part->len < KV_SUBREPLY_HDR)
		return -EINVAL;
	c->cur = (const unsigned char *)part->p + KV_SUBREPLY_HDR;
	c->end = (const unsigned char *)part->p + part->len;
	c->left = get_u16((const unsigned char *)part->p + 6);
	return 0;
}

static int cursor_next(struct result_cursor *c, struct result *r)
{
	uint32_t n;

	if (c->left == 0 || c->cur >= c->end)
		return -EINVAL;
	c->left--;
	r->type = (enum kv_result_type)*c->cur++;
	switch (r->type) {
	case KV_R_OK:
	case KV_R_NULL:
		return 0;
	case KV_R_INT:
		if (c->end - c->cur < 8)
			return -EINVAL;
		r->ival = get_i64(c->cur);
		c->cur += 8;
		return 0;
	case KV_R_BULK:
	case KV_R_ERR:
		if (c->end - c->cur < 4)
			return -EINVAL;
		n = get_u32(c->cur);
		if ((size_t)(c->end - c->cur - 4) < n)
			return -EINVAL;
		r->p = (const char *)c->cur + 4;
		r->len = n;
		c->cur += 4 + (size_t)n;
		return 0;
	}
	return -EINVAL;
}

static int add_result(struct resp_buf *out, const struct result *r)
{
	char msg[256];
	size_t n;

	switch (r->type) {
	case KV_R_OK:
		return resp_add_simple(out, "OK");
	case KV_R_NULL:
		return resp_add_null(out);
	case KV_R_INT:
		return resp_add_int(out, r->ival);
	case KV_R_BULK:
		return resp_add_bulk(out, r->p, r->len);
	case KV_R_ERR:
		n = r->len < sizeof(msg) - 1 ? r->len : sizeof(msg) - 1;
		memcpy(msg, r->p, n);
		msg[n] = '\0';
		return resp_add_error(out, msg);
	}
	return resp_add_error(out, "ERR internal error");
}

/*
 * Walk the keys in argument order, taking each key's result from its
 * part, so that MGET's array comes out in the order the client asked in
 * however the keys were spread over shards.
 */
static int merge_walk(const struct kv_command *cmd, uint32_t nkeys,
		      const uint16_t *key_part, struct result_cursor *cur,
		      unsigned nparts, struct resp_buf *out)
{
	const struct result *first_err = NULL;
	struct result r, err = { 0 };
	int64_t sum = 0;
	uint32_t i;
	unsigned p;

	if (cmd->merge == KV_MERGE_ONE && nkeys != 1)
		return -EINVAL;
	if (cmd->merge == KV_MERGE_ARRAY && resp_add_array(out, nkeys))
		return -ENOMEM;
	for (i = 0; i < nkeys; i++) {
		p = key_part ? key_part[i] : 0;
		if (p >= nparts || cursor_next(&cur[p], &r))
			return -EINVAL;
		switch (cmd->merge) {
		case KV_MERGE_ONE:
		case KV_MERGE_ARRAY:
			if (add_result(out, &r))
				return -ENOMEM;
			break;
		case KV_MERGE_SUM:
		case KV_MERGE_OK:
			if (r.type == KV_R_ERR && !first_err) {
				err = r;
				first_err = &err;
			} else if (r.type == KV_R_INT) {
				sum += r.ival;
			} else if (r.type != KV_R_OK) {
				return -EINVAL;
			}
			break;
		default:
			return -EINVAL;
		}
	}
	/* Every part must have been read to its end: no stray results. */
	for (p = 0; p < nparts; p++)
		if (cur[p].left != 0 || cur[p].cur != cur[p].end)
			return -EINVAL;
	if (first_err)
		return add_result(out, first_err);
	if (cmd->merge == KV_MERGE_SUM)
		return resp_add_int(out, sum);
	if (cmd->merge == KV_MERGE_OK)
		return resp_add_simple(out, "OK");
	return 0;
}

#define E_LOST "ERR internal error: shard reply lost or malformed"

int kv_reply_merge(const struct kv_command *cmd, uint32_t nkeys,
		   const uint16_t *key_part, const struct kv_part *parts,
		   unsigned nparts, struct resp_buf *out)
{
	struct result_cursor small[8], *cur = small;
	size_t old = out->len;
	unsigned p;
	int r = 0;

	if (nparts == 0)
		return resp_add_error(out, "ERR internal error: no reply");
	if (nparts > 8) {
		cur = calloc(nparts, sizeof(*cur));
		if (!cur)
			return -ENOMEM;
	}
	for (p = 0; p < nparts && r == 0; p++)
		r = cursor_open(&cur[p], &parts[p]);
	if (r == 0)
		r = merge_walk(cmd, nkeys, key_part, cur, nparts, out);
	if (cur != small)
		free(cur);
	if (r == 0)
		return 0;
	/* Never a partial reply: drop what was written, say what failed. */
	out->len = old;
	if (r == -ENOMEM)
		return -ENOMEM;
	return resp_add_error(out, E_LOST);
}
