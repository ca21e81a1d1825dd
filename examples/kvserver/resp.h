/*
 * examples/kvserver/resp.h: the RESP2 wire protocol: the request parser,
 * the reply writers and the number syntax Redis uses for arguments.
 * Nothing here knows about commands, actors or sockets; t/resp.c tests it
 * without a runtime.
 *
 * The parser follows what redis-server 7.0 does byte for byte where a
 * client can tell: which inputs are errors, their texts, what is skipped,
 * and when a connection has to wait for more bytes. It never allocates
 * for a length a client announces, only for bytes that arrived, so a
 * client that declares a 512 MB argument and sends three bytes costs
 * three bytes.
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
 * Redis 7.0's defaults: bulk arguments up to proto-max-bulk-len (512 MB),
 * a multibulk count up to INT_MAX (7.0 dropped the 1024*1024 cap of 6.2
 * and older), inline lines and unterminated length lines up to 64 KiB.
 */
#define RESP_DEFAULT_MAX_BULK	(512ull * 1024 * 1024)
#define RESP_DEFAULT_MAX_MBULK	2147483647ull
#define RESP_INLINE_MAX		(64 * 1024)

struct resp_limits {
	uint64_t max_bulk;	/* bytes per bulk argument */
	uint64_t max_mbulk;	/* arguments per multibulk request */
};

/* The defaults above; what a parser uses when given NULL limits. */
extern const struct resp_limits resp_default_limits;

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

/* Where one argument sits: in the request, or in the inline buffer. */
struct resp_span {
	size_t off;
	size_t len;
};

/*
 * Incremental parser state; caller storage, one per connection. The
 * fields are private to resp.c. It remembers how far into the current
 * request it has looked, so a request fed one byte at a time costs about
 * what it costs fed whole.
 */
struct resp_parser {
	const struct resp_limits *lim;
	int state;		/* PS_* in resp.c */
	size_t line;		/* start of the line being read */
	size_t scan;		/* how far the search for its end got */
	bool blocked;		/* a NUL hides the line's end (resp.c) */
	uint64_t argc;		/* arguments the header announced */
	uint64_t nargs;		/* arguments complete so far */
	uint64_t bulk_len;	/* length of the bulk being read */
	size_t cap;		/* entries in spans[] and argv[] */
	struct resp_span *spans; /* the arguments, as offsets */
	struct resp_str *argv;	/* the arguments, as pointers */
	char *inl;		/* inline arguments, unquoted */
	size_t inl_len;
	size_t inl_cap;
	bool is_inline;		/* the command came as an inline line */
	char err[160];		/* the error text after RESP_ERROR */
};

/* `lim` (NULL: the defaults) is borrowed and must outlive the parser. */
void resp_parser_init(struct resp_parser *p, const struct resp_limits *lim);
void resp_parser_fini(struct resp_parser *p);

/*
 * Parse the first command in buf[0, len).
 *
 * `buf` starts at the first byte not yet consumed. Whatever the result,
 * `*used` says how many bytes at the front of `buf` the caller must drop
 * before the next call: the command's bytes for RESP_CMD, and for
 * RESP_NEED_MORE any empty requests ("*0\r\n", "*-1\r\n", blank inline
 * lines) that were skipped. After RESP_NEED_MORE, call again with the
 * same remaining bytes followed by more (the bytes may have moved: the
 * parser keeps offsets, not pointers).
 *
 * RESP_CMD fills `cmd`; its argv points into `buf` and into the parser,
 * valid until the next call or until the bytes move.
 *
 * RESP_ERROR is sticky: resp_parser_error() gives the reply text (without
 * the leading '-' and CRLF) and every later call fails again. The caller
 * should send it and close the connection, as Redis does.
 *
 * Both the multibulk form ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and the
 * inline form (GET k "a b" 'c'\r\n, split and unquoted as redis-server
 * splits it) are accepted.
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
 * -ENOMEM with `b` unchanged. Simple strings and errors end at their
 * first NUL and may not hold CR or LF, which are written as spaces, as
 * Redis writes them; `msg` of resp_add_error() is the text after '-',
 * e.g. "ERR syntax error".
 */
int resp_add_raw(struct resp_buf *b, const void *p, size_t n);
int resp_add_simple(struct resp_buf *b, const char *s);
int resp_add_error(struct resp_buf *b, const char *msg);
int resp_add_errorf(struct resp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int resp_add_int(struct resp_buf *b, int64_t v);
int resp_add_bulk(struct resp_buf *b, const void *p, size_t n);
int resp_add_bulk_cstr(struct resp_buf *b, const char *s);
int resp_add_null(struct resp_buf *b);
int resp_add_null_array(struct resp_buf *b);
int resp_add_array(struct resp_buf *b, size_t n);
/* A double as Redis 7.0 replies it in RESP2: "%.17g", "inf", "-inf". */
int resp_add_double(struct resp_buf *b, double d);

/* ------------------------------------------------------------------ */
/* Argument syntax                                                     */
/* ------------------------------------------------------------------ */

/*
 * Redis' strict integer syntax (string2ll): optional '-', no '+', no
 * blanks, no leading zeros, fits in int64. 0 or -EINVAL.
 */
int resp_parse_i64(const char *p, size_t len, int64_t *out);

/*
 * Redis' float syntax for scores (strtod, but no leading blank, nothing
 * after the number, no NaN, no overflow to infinity or underflow to zero
 * unless written as such). 0 or -EINVAL.
 */
int resp_parse_double(const char *p, size_t len, double *out);

/*
 * The C string view Redis takes of an argument in option names and
 * error texts: its bytes up to the first NUL.
 */
size_t resp_cstrlen(const struct resp_str *s);

/*
 * Case-insensitive compare of an argument, seen as a C string (so
 * "nx\0junk" is "nx", as Redis' strcasecmp sees it), with `word`.
 */
bool resp_arg_is(const struct resp_str *a, const char *word);

#endif /* KV_RESP_H */
