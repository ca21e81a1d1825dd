/*
 * examples/kvserver/resp.c: the RESP2 request parser, the reply writers
 * and Redis' argument number syntax (see resp.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

const struct resp_limits resp_default_limits = {
	.max_bulk = RESP_DEFAULT_MAX_BULK,
	.max_mbulk = RESP_DEFAULT_MAX_MBULK,
};

/* ------------------------------------------------------------------ */
/* Request parser                                                      */
/* ------------------------------------------------------------------ */

/*
 * Redis finds the end of a length line with strchr(buf, '\r') and of an
 * inline line with strchr(buf, '\n'): the search stops at a NUL byte,
 * so a NUL before the line's end hides it for good and the connection
 * waits until more than 64 KiB are pending, then fails as "too big". We
 * keep that: it is what a client sees. Redis also never checks the CRLF
 * after a bulk's payload (it skips two bytes), nor the byte after the
 * '\r' of a length line; neither do we.
 */
enum {
	PS_START,	/* first byte of a request: '*' or inline */
	PS_MB_LINE,	/* "*<count>\r": the count line */
	PS_BULK_LINE,	/* "$<len>\r": a bulk length line */
	PS_BULK_DATA,	/* payload and the two bytes after it */
	PS_INLINE,	/* an inline line, up to '\n' */
	PS_ERROR,	/* sticky */
};

#define E_PROTO		"ERR Protocol error: "
#define E_MBULK		E_PROTO "invalid multibulk length"
#define E_BULK		E_PROTO "invalid bulk length"
#define E_BIG_MBULK	E_PROTO "too big mbulk count string"
#define E_BIG_BULK	E_PROTO "too big bulk count string"
#define E_BIG_INLINE	E_PROTO "too big inline request"
#define E_QUOTES	E_PROTO "unbalanced quotes in request"
#define E_NOMEM		"ERR out of memory"

/* Argument arrays bigger than this are given back between commands. */
#define KEEP_ARGS 1024

static void reset_request(struct resp_parser *p)
{
	p->state = PS_START;
	p->line = 0;
	p->scan = 0;
	p->blocked = false;
	p->argc = 0;
	p->nargs = 0;
	p->bulk_len = 0;
	p->inl_len = 0;
	p->is_inline = false;
}

void resp_parser_init(struct resp_parser *p, const struct resp_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = lim ? lim : &resp_default_limits;
	reset_request(p);
}

static void free_args(struct resp_parser *p)
{
	free(p->spans);
	free(p->argv);
	p->spans = NULL;
	p->argv = NULL;
	p->cap = 0;
}

void resp_parser_fini(struct resp_parser *p)
{
	free_args(p);
	free(p->inl);
	p->inl = NULL;
	p->inl_cap = 0;
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

/* Room for one more argument: grows with the arguments that arrive. */
static int reserve_span(struct resp_parser *p)
{
	if (p->nargs == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct resp_span *s;
		struct resp_str *a;

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
	return 0;
}

static int push_span(struct resp_parser *p, size_t off, size_t len)
{
	if (reserve_span(p))
		return -ENOMEM;
	p->spans[p->nargs].off = off;
	p->spans[p->nargs].len = len;
	p->nargs++;
	return 0;
}

static void fill_cmd(struct resp_parser *p, const char *base,
		     struct resp_cmd *cmd)
{
	uint64_t i;

	for (i = 0; i < p->nargs; i++) {
		p->argv[i].p = base + p->spans[i].off;
		p->argv[i].len = p->spans[i].len;
	}
	cmd->argc = (size_t)p->nargs;
	cmd->argv = p->argv;
}

/*
 * Look for the byte `end` from p->scan on, in req[0, avail), as strchr
 * would: a NUL first means it is never found. Returns its offset, or
 * SIZE_MAX when it is not (yet) there.
 */
static size_t find_end(struct resp_parser *p, const char *req, size_t avail,
		       char end)
{
	size_t i;

	if (p->blocked)
		return SIZE_MAX;
	for (i = p->scan; i < avail; i++) {
		if (req[i] == end)
			return i;
		if (req[i] == '\0') {
			p->blocked = true;
			return SIZE_MAX;
		}
	}
	p->scan = avail;
	return SIZE_MAX;
}

/* ---- inline requests: split as redis-server's sdssplitargs splits ---- */

static int inl_put(struct resp_parser *p, char c)
{
	if (p->inl_len == p->inl_cap) {
		size_t ncap = p->inl_cap ? p->inl_cap * 2 : 256;
		char *n = realloc(p->inl, ncap);

		if (!n)
			return -ENOMEM;
		p->inl = n;
		p->inl_cap = ncap;
	}
	p->inl[p->inl_len++] = c;
	return 0;
}

/* The line as a C string would read: a NUL past its end. */
static char at(const char *s, size_t n, size_t i)
{
	return i < n ? s[i] : '\0';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\r';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char unescape(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'b': return '\b';
	case 'a': return '\a';
	default: return c;
	}
}

/*
 * One byte inside "double quotes" at s[*i]. 1: the token ended (closing
 * quote); 0: go on; -EINVAL: unbalanced; -ENOMEM.
 */
static int dquoted(struct resp_parser *p, const char *s, size_t n, size_t *i)
{
	char c = at(s, n, *i);

	if (c == '\\' && at(s, n, *i + 1) == 'x' &&
	    hex_val(at(s, n, *i + 2)) >= 0 && hex_val(at(s, n, *i + 3)) >= 0) {
		*i += 3;
		return inl_put(p, (char)(hex_val(at(s, n, *i - 1)) * 16 +
					 hex_val(at(s, n, *i))));
	}
	if (c == '\\' && at(s, n, *i + 1)) {
		*i += 1;
		return inl_put(p, unescape(at(s, n, *i)));
	}
	if (c == '"') {
		/* A closing quote must be followed by a blank or the end. */
		c = at(s, n, *i + 1);
		return c && !is_space(c) ? -EINVAL : 1;
	}
	if (c == '\0')
		return -EINVAL;
	return inl_put(p, c);
}

/* The same inside 'single quotes': only \' is an escape. */
static int squoted(struct resp_parser *p, const char *s, size_t n, size_t *i)
{
	char c = at(s, n, *i);

	if (c == '\\' && at(s, n, *i + 1) == '\'') {
		*i += 1;
		return inl_put(p, '\'');
	}
	if (c == '\'') {
		c = at(s, n, *i + 1);
		return c && !is_space(c) ? -EINVAL : 1;
	}
	if (c == '\0')
		return -EINVAL;
	return inl_put(p, c);
}

/*
 * One token from s[*i] on, appended to p->inl. Quotes may open anywhere
 * in a token; outside them only space, tab, CR, LF and the end end it.
 */
static int inline_token(struct resp_parser *p, const char *s, size_t n,
			size_t *i)
{
	int mode = 0;	/* 0 plain, 1 double quotes, 2 single quotes */
	int r = 0;

	for (;;) {
		char c = at(s, n, *i);

		if (mode == 1)
			r = dquoted(p, s, n, i);
		else if (mode == 2)
			r = squoted(p, s, n, i);
		else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' ||
			 c == '\0')
			r = 1;
		else if (c == '"')
			mode = 1;
		else if (c == '\'')
			mode = 2;
		else
			r = inl_put(p, c);
		if (r < 0)
			return r;
		if (*i < n)
			(*i)++;
		if (r == 1)
			return 0;
	}
}

/* Split line s[0, n) into arguments, spans into p->inl. */
static int split_inline(struct resp_parser *p, const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start;
		int r;

		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			return 0;
		start = p->inl_len;
		r = inline_token(p, s, n, &i);
		if (r)
			return r;
		if (push_span(p, start, p->inl_len - start))
			return -ENOMEM;
	}
}

/* An inline request: a line up to '\n', a '\r' before it dropped. */
static enum resp_status parse_inline(struct resp_parser *p, const char *req,
				     size_t avail, size_t *consumed)
{
	size_t nl = find_end(p, req, avail, '\n'), end;
	int r;

	/*
	 * Redis reads 16 KiB at a time and gives up once 64 KiB wait
	 * without a '\n', so a longer line never gets through, however it
	 * arrives.
	 */
	if (nl == SIZE_MAX || nl > RESP_INLINE_MAX) {
		if (avail > RESP_INLINE_MAX)
			return fail(p, E_BIG_INLINE);
		return RESP_NEED_MORE;
	}
	end = nl > 0 && req[nl - 1] == '\r' ? nl - 1 : nl;
	p->is_inline = true;
	r = split_inline(p, req, end);
	if (r == -EINVAL)
		return fail(p, E_QUOTES);
	if (r)
		return fail(p, E_NOMEM);
	*consumed = nl + 1;
	return RESP_CMD;
}

/* ---- multibulk requests ---- */

/*
 * A length line ("*<n>\r" or "$<n>\r") starting at p->line: 1 with *n
 * and *isnum (the text between the type byte and '\r' is an integer),
 * 0 to wait, -1 after failing as `too_big`. Redis reads the line only
 * once its '\r' and one more byte are in, and calls it too big when
 * more than 64 KiB are pending without a '\r' it can see.
 */
static int read_len_line(struct resp_parser *p, const char *req,
			 size_t avail, const char *too_big, int64_t *n,
			 bool *isnum, size_t *next)
{
	size_t cr = find_end(p, req, avail, '\r');

	if (cr == SIZE_MAX) {
		if (avail - p->line > RESP_INLINE_MAX) {
			fail(p, too_big);
			return -1;
		}
		return 0;
	}
	if (cr - p->line > RESP_INLINE_MAX) {
		fail(p, too_big);
		return -1;
	}
	if (cr + 1 >= avail)
		return 0;
	*next = cr + 2;
	*isnum = resp_parse_i64(req + p->line + 1, cr - p->line - 1, n) == 0;
	return 1;
}

static enum resp_status mb_line(struct resp_parser *p, const char *req,
				size_t avail, size_t *skip)
{
	size_t next;
	int64_t n;
	bool isnum;
	int r = read_len_line(p, req, avail, E_BIG_MBULK, &n, &isnum, &next);

	if (r <= 0)
		return r < 0 ? RESP_ERROR : RESP_NEED_MORE;
	if (!isnum || n > INT32_MAX ||
	    (n > 0 && (uint64_t)n > p->lim->max_mbulk))
		return fail(p, E_MBULK);
	if (n <= 0) {
		/* "*0" and "*-1" are empty requests: skipped, no reply. */
		*skip = next;
		return RESP_NEED_MORE;
	}
	p->argc = (uint64_t)n;
	p->line = p->scan = next;
	p->state = PS_BULK_LINE;
	return RESP_CMD;	/* go on */
}

static enum resp_status bad_dollar(struct resp_parser *p, char c)
{
	char msg[64];

	/* Redis prints the byte with %c: a NUL ends the text there. */
	snprintf(msg, sizeof(msg), E_PROTO "expected '$', got '%c'", c);
	return fail(p, msg);
}

static enum resp_status bulk_line(struct resp_parser *p, const char *req,
				  size_t avail)
{
	size_t next;
	int64_t n;
	bool isnum;
	int r = read_len_line(p, req, avail, E_BIG_BULK, &n, &isnum, &next);

	if (r <= 0)
		return r < 0 ? RESP_ERROR : RESP_NEED_MORE;
	if (req[p->line] != '$')
		return bad_dollar(p, req[p->line]);
	if (!isnum || n < 0 || (uint64_t)n > p->lim->max_bulk)
		return fail(p, E_BULK);
	/* Counted in nargs only once its bytes are in (bulk_data). */
	if (reserve_span(p))
		return fail(p, E_NOMEM);
	p->spans[p->nargs].off = next;
	p->spans[p->nargs].len = (size_t)n;
	p->bulk_len = (uint64_t)n;
	p->line = p->scan = next;
	p->state = PS_BULK_DATA;
	return RESP_CMD;	/* go on */
}

/* 1: the request is complete; 0: more bulks or bytes to come. */
static int bulk_data(struct resp_parser *p, size_t avail)
{
	if (avail - p->line < p->bulk_len + 2)
		return 0;
	p->nargs++;
	p->line = p->scan = p->line + (size_t)p->bulk_len + 2;
	if (p->nargs == p->argc)
		return 1;
	p->state = PS_BULK_LINE;
	return 0;
}

/* One step on the current request; RESP_CMD from a helper: go on. */
static enum resp_status step(struct resp_parser *p, const char *req,
			     size_t avail, size_t *skip, size_t *done)
{
	enum resp_status st;

	switch (p->state) {
	case PS_START:
		if (avail == 0)
			return RESP_NEED_MORE;
		p->state = req[0] == '*' ? PS_MB_LINE : PS_INLINE;
		return RESP_CMD;
	case PS_MB_LINE:
		return mb_line(p, req, avail, skip);
	case PS_BULK_LINE:
		return bulk_line(p, req, avail);
	case PS_BULK_DATA:
		if (bulk_data(p, avail)) {
			*done = p->line;
			return RESP_CMD;
		}
		return p->state == PS_BULK_DATA ? RESP_NEED_MORE : RESP_CMD;
	case PS_INLINE:
		st = parse_inline(p, req, avail, done);
		if (st == RESP_CMD && p->nargs == 0) {
			*skip = *done;	/* a blank line: no command */
			*done = 0;
			return RESP_NEED_MORE;
		}
		return st;
	default:
		return fail(p, E_PROTO "parser state");
	}
}

enum resp_status resp_parse(struct resp_parser *p, const char *buf,
			    size_t len, struct resp_cmd *cmd, size_t *used)
{
	size_t base = 0;	/* start of the current request in buf */

	*used = 0;
	if (p->state == PS_ERROR)
		return RESP_ERROR;
	if (p->state == PS_START && p->cap > KEEP_ARGS)
		free_args(p);	/* the last command was huge */
	for (;;) {
		size_t skip = 0, done = 0;
		enum resp_status st = step(p, buf + base, len - base, &skip,
					   &done);

		if (st == RESP_ERROR) {
			*used = base;
			return st;
		}
		if (done) {
			if (p->is_inline)
				fill_cmd(p, p->inl, cmd);
			else
				fill_cmd(p, buf + base, cmd);
			*used = base + done;
			reset_request(p);
			return RESP_CMD;
		}
		if (skip) {
			base += skip;
			reset_request(p);
			continue;
		}
		if (st == RESP_NEED_MORE)
			break;
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

/* "<c><text>\r\n", CR and LF in the text written as spaces (as Redis). */
static int add_line(struct resp_buf *b, char c, const char *s)
{
	size_t n = strlen(s), i;
	char *d;

	if (resp_buf_reserve(b, n + 3))
		return -ENOMEM;
	d = b->data + b->len;
	*d++ = c;
	for (i = 0; i < n; i++)
		d[i] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
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

/*
 * As Redis' addReplyErrorFormat(): CR and LF at either end of the text
 * are dropped (add_line() blanks those inside).
 */
int resp_add_errorf(struct resp_buf *b, const char *fmt, ...)
{
	char small[256], *msg = small, *p;
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return resp_add_error(b, "ERR");
	if ((size_t)n >= sizeof(small)) {
		msg = malloc((size_t)n + 1);
		if (!msg)
			return -ENOMEM;
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	n = (int)strlen(msg);
	while (n > 0 && (msg[n - 1] == '\r' || msg[n - 1] == '\n'))
		msg[--n] = '\0';
	for (p = msg; *p == '\r' || *p == '\n'; p++)
		;
	r = resp_add_error(b, p);
	if (msg != small)
		free(msg);
	return r;
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

int resp_add_bulk_cstr(struct resp_buf *b, const char *s)
{
	return resp_add_bulk(b, s, strlen(s));
}

int resp_add_null(struct resp_buf *b)
{
	return resp_add_raw(b, "$-1\r\n", 5);
}

int resp_add_null_array(struct resp_buf *b)
{
	return resp_add_raw(b, "*-1\r\n", 5);
}

int resp_add_array(struct resp_buf *b, size_t n)
{
	return add_num_line(b, '*', (int64_t)n);
}

int resp_add_double(struct resp_buf *b, double d)
{
	char tmp[64];

	if (isinf(d))
		return resp_add_bulk_cstr(b, d > 0 ? "inf" : "-inf");
	snprintf(tmp, sizeof(tmp), "%.17g", d);
	return resp_add_bulk_cstr(b, tmp);
}

/* ------------------------------------------------------------------ */
/* Argument syntax                                                     */
/* ------------------------------------------------------------------ */

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

int resp_parse_double(const char *p, size_t len, double *out)
{
	char small[64], *s = small, *end;
	double v;
	int bad;

	if (len == 0 || isspace((unsigned char)p[0]))
		return -EINVAL;
	if (len >= sizeof(small)) {
		s = malloc(len + 1);
		if (!s)
			return -EINVAL;
	}
	memcpy(s, p, len);
	s[len] = '\0';
	errno = 0;
	v = strtod(s, &end);
	/* A NUL inside the argument ends strtod early: not all used. */
	bad = (size_t)(end - s) != len ||
	      (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL ||
				   fpclassify(v) == FP_ZERO)) ||
	      isnan(v);
	if (s != small)
		free(s);
	if (bad)
		return -EINVAL;
	*out = v;
	return 0;
}

size_t resp_cstrlen(const struct resp_str *s)
{
	const char *nul = memchr(s->p, '\0', s->len);

	return nul ? (size_t)(nul - s->p) : s->len;
}

bool resp_arg_is(const struct resp_str *a, const char *word)
{
	size_t n = resp_cstrlen(a);

	return n == strlen(word) && strncasecmp(a->p, word, n) == 0;
}
