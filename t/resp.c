/*
 * t/resp.c: the RESP2 parser, the reply writers and the kvserver
 * example's commands, run through the same path the server takes (parse,
 * prepare, split over shards, execute, merge) without a runtime.
 * (t/kvserver_diff.sh compares every command with redis-server itself.)
 *
 * Each case gives input bytes and the reply bytes Redis 7 sends for them,
 * written out by hand. A case passes only if the reply is the same when
 * the input arrives whole, one byte at a time and in odd chunks, and when
 * the keys are spread over one, three or five shards.
 *
 * RA_SEED and RA_ITERS steer the fuzz loop at the end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "testutil.h"
#include "examples/kvserver/resp.h"
#include "examples/kvserver/keyspace.h"
#include "examples/kvserver/store.h"

#define T0 1700000000000LL	/* the fake clock's start, Unix ms */
#define MAX_SHARDS 8

struct harness {
	struct kv_store *st[MAX_SHARDS];
	unsigned nshards;
	int64_t now;
	struct kv_cstate cs;	/* one connection's state */
};

static void h_init(struct harness *h, unsigned nshards)
{
	unsigned i;

	memset(h, 0, sizeof(*h));
	h->nshards = nshards;
	h->now = T0;
	for (i = 0; i < nshards; i++)
		if (kv_store_create(NULL, &h->st[i]))
			bail_out("kv_store_create failed");
}

static void h_fini(struct harness *h)
{
	unsigned i;

	for (i = 0; i < h->nshards; i++)
		kv_store_destroy(h->st[i]);
	kv_cstate_fini(&h->cs);
}

/* What a feed saw, beyond the reply bytes. */
struct feed_result {
	int ncmds;
	int error;		/* ended with a protocol error */
	int bad;		/* the parser broke a promise */
};

/*
 * Play a connection: bytes arrive `chunk` at a time (0: all at once),
 * every complete command runs, a protocol error appends its reply and
 * ends the connection. Each parse call sees a tight malloc copy of the
 * unconsumed bytes, so that a read past them trips ASan or valgrind.
 */
static struct feed_result feed(struct harness *h, const char *in,
			       size_t len, size_t chunk, struct resp_buf *out)
{
	struct feed_result fr = { 0, 0, 0 };
	struct resp_parser p;
	char *pending = malloc(len + 1);
	size_t have = 0, given = 0;

	if (!pending)
		bail_out("malloc");
	resp_parser_init(&p, NULL);
	for (;;) {
		/* Big inputs skip the copy: it would make feeding O(n^2). */
		char *tight = have <= 8192 ? malloc(have ? have : 1) : pending;
		struct resp_cmd cmd;
		enum resp_status st;
		size_t used = 0, i;

		if (!tight)
			bail_out("malloc");
		if (tight != pending)
			memcpy(tight, pending, have);
		st = resp_parse(&p, tight, have, &cmd, &used);
		if (used > have)
			fr.bad++;
		if (st == RESP_CMD) {
			if (cmd.argc < 1 || used == 0)
				fr.bad++;
			/* In the input, or (inline) in the parser's copy. */
			for (i = 0; i < cmd.argc; i++)
				if ((cmd.argv[i].p < tight ||
				     cmd.argv[i].p + cmd.argv[i].len >
				     tight + used) &&
				    (cmd.argv[i].p < p.inl ||
				     cmd.argv[i].p + cmd.argv[i].len >
				     p.inl + p.inl_cap))
					fr.bad++;
			if (kv_execute(h->st, h->nshards, &h->cs, &cmd, h->now,
				       out))
				bail_out("kv_execute: out of memory");
			fr.ncmds++;
		} else if (st == RESP_ERROR) {
			resp_add_error(out, resp_parser_error(&p));
			fr.error = 1;
			if (tight != pending)
				free(tight);
			break;
		} else if (st != RESP_NEED_MORE) {
			fr.bad++;
		}
		if (tight != pending)
			free(tight);
		if (used > have)
			break;
		/*
		 * Only when something was used: a no-op memmove is free in
		 * glibc but costs sanitizers a check of the whole range,
		 * which makes byte-at-a-time feeding quadratic under them.
		 */
		if (used) {
			memmove(pending, pending + used, have - used);
			have -= used;
		}
		if (st == RESP_CMD)
			continue;
		if (given == len)
			break;
		{
			size_t take = chunk ? chunk : len - given;

			if (take > len - given)
				take = len - given;
			memcpy(pending + have, in + given, take);
			have += take;
			given += take;
		}
	}
	/* After an error the parser must keep failing. */
	if (fr.error) {
		struct resp_cmd cmd;
		size_t used;

		if (resp_parse(&p, "PING\r\n", 6, &cmd, &used) != RESP_ERROR)
			fr.bad++;
	}
	resp_parser_fini(&p);
	free(pending);
	return fr;
}

/* Print bytes with CR, LF and the rest escaped, for failure messages. */
static void diag_bytes(const char *what, const char *p, size_t n)
{
	char line[400];
	size_t i, o = 0;

	for (i = 0; i < n && o < sizeof(line) - 8; i++) {
		unsigned char c = (unsigned char)p[i];
		size_t room = sizeof(line) - o;

		if (c == '\r')
			o += (size_t)snprintf(line + o, room, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(line + o, room, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(line + o, room, "\\x%02x", c);
		else
			line[o++] = (char)c;
	}
	line[o] = '\0';
	diag("  %s (%zu bytes): %s%s", what, n, line, i < n ? "..." : "");
}

/* Run `in` whole on one shard and check against `want`, then variants. */
static void check_len(const char *name, const char *in, size_t inlen,
		      const char *want, size_t wantlen)
{
	static const struct {
		unsigned shards;
		size_t chunk;
	} variants[] = {
		{ 1, 0 }, { 1, 1 }, { 1, 7 }, { 3, 0 }, { 5, 1 }, { 3, 3 },
	};
	struct resp_buf out;
	struct feed_result fr = { 0 };
	int same = 1;
	size_t v;

	/* Every variant must give `want`; the first that does not is shown. */
	for (v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct harness h;

		resp_buf_init(&out);
		h_init(&h, variants[v].shards);
		fr = feed(&h, in, inlen, variants[v].chunk, &out);
		h_fini(&h);
		same = out.len == wantlen &&
		       memcmp(out.data ? out.data : "", want, wantlen) == 0;
		if (!same || fr.bad)
			break;
		resp_buf_fini(&out);
	}
	if (ok(same && !fr.bad, "%s", name))
		return;
	diag("  variant: %u shard(s), chunk %zu, %d broken promises",
	     variants[v].shards, variants[v].chunk, fr.bad);
	diag_bytes("input", in, inlen);
	diag_bytes("want", want, wantlen);
	diag_bytes("got", out.data ? out.data : "", out.len);
	resp_buf_fini(&out);
}

static void check(const char *name, const char *in, const char *want)
{
	check_len(name, in, strlen(in), want, strlen(want));
}

/* Multibulk encoding of a NULL-terminated list of C strings. */
static char *mb(const char *first, ...)
{
	struct resp_buf b;
	const char *a;
	size_t n = 0;
	va_list ap;
	char hdr[32];

	resp_buf_init(&b);
	va_start(ap, first);
	for (a = first; a; a = va_arg(ap, const char *))
		n++;
	va_end(ap);
	snprintf(hdr, sizeof(hdr), "*%zu\r\n", n);
	resp_add_raw(&b, hdr, strlen(hdr));
	va_start(ap, first);
	for (a = first; a; a = va_arg(ap, const char *)) {
		snprintf(hdr, sizeof(hdr), "$%zu\r\n", strlen(a));
		resp_add_raw(&b, hdr, strlen(hdr));
		resp_add_raw(&b, a, strlen(a));
		resp_add_raw(&b, "\r\n", 2);
	}
	va_end(ap);
	resp_add_raw(&b, "", 1);	/* NUL-terminate */
	return b.data;
}

/* Several strings glued together; frees its arguments. */
static char *cat(int n, ...)
{
	struct resp_buf b;
	va_list ap;
	int i;

	resp_buf_init(&b);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		char *s = va_arg(ap, char *);

		resp_add_raw(&b, s, strlen(s));
		free(s);
	}
	va_end(ap);
	resp_add_raw(&b, "", 1);
	return b.data;
}

static void checkf(const char *name, char *in, const char *want)
{
	check(name, in, want);
	free(in);
}

#define ERR_MB "-ERR Protocol error: invalid multibulk length\r\n"
#define ERR_BULK "-ERR Protocol error: invalid bulk length\r\n"
#define ERR_INT "-ERR value is not an integer or out of range\r\n"
#define ERR_WRONGTYPE \
	"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

static int commands_tests(void)
{
	int n = 0;

	/* PING / ECHO */
	check("PING", "*1\r\n$4\r\nPING\r\n", "+PONG\r\n"), n++;
	check("PING msg", "*2\r\n$4\r\nping\r\n$5\r\nhello\r\n",
	      "$5\r\nhello\r\n"), n++;
	checkf("PING with two args is an arity error",
	       mb("PING", "a", "b", NULL),
	       "-ERR wrong number of arguments for 'ping' command\r\n"), n++;
	checkf("ECHO", mb("ECHO", "hi there", NULL), "$8\r\nhi there\r\n"), n++;
	checkf("ECHO empty", mb("echo", "", NULL), "$0\r\n\r\n"), n++;
	checkf("ECHO without arg", mb("ECHO", NULL),
	       "-ERR wrong number of arguments for 'echo' command\r\n"), n++;
	check_len("ECHO binary-safe (NUL, CR, LF inside)",
		  "*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n", 25,
		  "$5\r\na\0\r\nb\r\n", 11), n++;

	/* SET / GET */
	checkf("SET then GET",
	       cat(2, mb("SET", "k", "v", NULL), mb("GET", "k", NULL)),
	       "+OK\r\n$1\r\nv\r\n"), n++;
	checkf("GET missing", mb("GET", "nope", NULL), "$-1\r\n"), n++;
	checkf("SET overwrites",
	       cat(3, mb("SET", "k", "first value", NULL),
		   mb("SET", "k", "2nd", NULL), mb("GET", "k", NULL)),
	       "+OK\r\n+OK\r\n$3\r\n2nd\r\n"), n++;
	checkf("SET empty key and value",
	       cat(2, mb("SET", "", "", NULL), mb("GET", "", NULL)),
	       "+OK\r\n$0\r\n\r\n"), n++;
	checkf("SET NX / XX",
	       cat(5, mb("SET", "k", "1", "XX", NULL),
		   mb("SET", "k", "2", "NX", NULL),
		   mb("SET", "k", "3", "nx", NULL),
		   mb("SET", "k", "4", "xx", NULL), mb("GET", "k", NULL)),
	       "$-1\r\n+OK\r\n$-1\r\n+OK\r\n$1\r\n4\r\n"), n++;
	checkf("SET syntax errors",
	       cat(6, mb("SET", "k", "v", "FOO", NULL),
		   mb("SET", "k", "v", "NX", "XX", NULL),
		   mb("SET", "k", "v", "EX", NULL),
		   mb("SET", "k", "v", "EX", "1", "PX", "5", NULL),
		   mb("SET", "k", "v", "KEEPTTL", "EX", "5", NULL),
		   mb("GET", "k", NULL)),
	       "-ERR syntax error\r\n-ERR syntax error\r\n"
	       "-ERR syntax error\r\n-ERR syntax error\r\n"
	       "-ERR syntax error\r\n$-1\r\n"), n++;
	checkf("SET takes an option again (the last EX wins)",
	       cat(3, mb("SET", "k", "v", "EX", "1", "EX", "20", "NX", "nx",
			 NULL),
		   mb("TTL", "k", NULL), mb("SET", "k", "w", "GET", "get",
					    "KEEPTTL", "keepttl", NULL)),
	       "+OK\r\n:20\r\n$1\r\nv\r\n"), n++;
	checkf("SET GET: the old value, WRONGTYPE, nil",
	       cat(4, mb("SET", "g", "old", NULL),
		   mb("SET", "g", "new", "GET", NULL),
		   mb("RPUSH", "l", "x", NULL), mb("SET", "l", "v", "GET",
						   NULL)),
	       "+OK\r\n$3\r\nold\r\n:1\r\n" ERR_WRONGTYPE), n++;
	checkf("SET EX bad numbers",
	       cat(5, mb("SET", "k", "v", "EX", "abc", NULL),
		   mb("SET", "k", "v", "EX", "0", NULL),
		   mb("SET", "k", "v", "PX", "-5", NULL),
		   mb("SET", "k", "v", "EX", "99999999999999999999", NULL),
		   mb("SET", "k", "v", "EX", "9223372036854775", NULL)),
	       ERR_INT "-ERR invalid expire time in 'set' command\r\n"
	       "-ERR invalid expire time in 'set' command\r\n" ERR_INT
	       "-ERR invalid expire time in 'set' command\r\n"), n++;
	checkf("SET expiry up to Redis' limit",
	       cat(4, mb("SET", "a", "v", "EX", "10000000000000", NULL),
		   mb("SET", "b", "v", "PXAT", "9223372036854775807", NULL),
		   mb("SET", "c", "v", "EXAT", "9223372036854776", NULL),
		   mb("SET", "d", "v", "EXAT", "9223372036854775", NULL)),
	       "+OK\r\n+OK\r\n"
	       "-ERR invalid expire time in 'set' command\r\n+OK\r\n"), n++;
	checkf("SET EX/PX accepted",
	       cat(3, mb("SET", "a", "1", "EX", "10", NULL),
		   mb("SET", "b", "2", "px", "100", "NX", NULL),
		   mb("MGET", "a", "b", NULL)),
	       "+OK\r\n+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"), n++;
	checkf("SET / GET arity",
	       cat(3, mb("SET", "k", NULL), mb("GET", NULL),
		   mb("GET", "a", "b", NULL)),
	       "-ERR wrong number of arguments for 'set' command\r\n"
	       "-ERR wrong number of arguments for 'get' command\r\n"
	       "-ERR wrong number of arguments for 'get' command\r\n"), n++;
	checkf("command names are case-insensitive",
	       cat(2, mb("sEt", "K", "V", NULL), mb("get", "K", NULL)),
	       "+OK\r\n$1\r\nV\r\n"), n++;
	checkf("keys are case-sensitive",
	       cat(2, mb("SET", "K", "V", NULL), mb("GET", "k", NULL)),
	       "+OK\r\n$-1\r\n"), n++;

	/* DEL / EXISTS */
	checkf("DEL counts removed keys",
	       cat(4, mb("MSET", "a", "1", "b", "2", "c", "3", NULL),
		   mb("DEL", "a", "x", "c", "a", NULL),
		   mb("EXISTS", "a", "b", "c", NULL),
		   mb("DEL", "nothing", NULL)),
	       "+OK\r\n:2\r\n:1\r\n:0\r\n"), n++;
	checkf("EXISTS counts repeats",
	       cat(2, mb("SET", "a", "1", NULL),
		   mb("EXISTS", "a", "a", "b", "a", NULL)),
	       "+OK\r\n:3\r\n"), n++;
	checkf("DEL / EXISTS arity",
	       cat(2, mb("DEL", NULL), mb("EXISTS", NULL)),
	       "-ERR wrong number of arguments for 'del' command\r\n"
	       "-ERR wrong number of arguments for 'exists' command\r\n"), n++;

	/* INCR */
	checkf("INCR creates and counts",
	       cat(3, mb("INCR", "n", NULL), mb("INCR", "n", NULL),
		   mb("GET", "n", NULL)),
	       ":1\r\n:2\r\n$1\r\n2\r\n"), n++;
	checkf("INCR on negative and zero",
	       cat(4, mb("SET", "n", "-5", NULL), mb("INCR", "n", NULL),
		   mb("SET", "z", "0", NULL), mb("INCR", "z", NULL)),
	       "+OK\r\n:-4\r\n+OK\r\n:1\r\n"), n++;
	checkf("INCR on non-integers",
	       cat(8, mb("SET", "s", "abc", NULL), mb("INCR", "s", NULL),
		   mb("SET", "s", " 1", NULL), mb("INCR", "s", NULL),
		   mb("SET", "s", "01", NULL), mb("INCR", "s", NULL),
		   mb("SET", "s", "", NULL), mb("INCR", "s", NULL)),
	       "+OK\r\n" ERR_INT "+OK\r\n" ERR_INT "+OK\r\n" ERR_INT
	       "+OK\r\n" ERR_INT), n++;
	checkf("INCR overflow",
	       cat(3, mb("SET", "m", "9223372036854775806", NULL),
		   mb("INCR", "m", NULL), mb("INCR", "m", NULL)),
	       "+OK\r\n:9223372036854775807\r\n"
	       "-ERR increment or decrement would overflow\r\n"), n++;
	checkf("INCR from INT64_MIN",
	       cat(2, mb("SET", "m", "-9223372036854775808", NULL),
		   mb("INCR", "m", NULL)),
	       "+OK\r\n:-9223372036854775807\r\n"), n++;
	checkf("INCR arity", mb("INCR", "a", "b", NULL),
	       "-ERR wrong number of arguments for 'incr' command\r\n"), n++;

	/* MGET / MSET */
	checkf("MGET in argument order with holes",
	       cat(2, mb("MSET", "k1", "v1", "k2", "v2", "k3", "v3", NULL),
		   mb("MGET", "k3", "missing", "k1", "k2", "k3", NULL)),
	       "+OK\r\n*5\r\n$2\r\nv3\r\n$-1\r\n$2\r\nv1\r\n$2\r\nv2\r\n"
	       "$2\r\nv3\r\n"), n++;
	checkf("MSET later pair wins",
	       cat(2, mb("MSET", "a", "1", "a", "2", NULL),
		   mb("GET", "a", NULL)),
	       "+OK\r\n$1\r\n2\r\n"), n++;
	checkf("MSET arity",
	       cat(3, mb("MSET", "a", NULL), mb("MSET", "a", "1", "b", NULL),
		   mb("MGET", NULL)),
	       "-ERR wrong number of arguments for 'mset' command\r\n"
	       "-ERR wrong number of arguments for 'mset' command\r\n"
	       "-ERR wrong number of arguments for 'mget' command\r\n"), n++;

	/* what clients send at connect */
	checkf("CONFIG GET answers what redis-benchmark asks",
	       cat(2, mb("CONFIG", "GET", "save", NULL),
		   mb("config", "get", "APPENDONLY", NULL)),
	       "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
	       "*2\r\n$10\r\nAPPENDONLY\r\n$2\r\nno\r\n"), n++;
	checkf("CONFIG GET of unknown names gives an empty array",
	       cat(2, mb("CONFIG", "GET", "nosuchsetting", NULL),
		   mb("CONFIG", "GET", "x", "appendonly", "y", "save",
		      "save", NULL)),
	       "*0\r\n*4\r\n$4\r\nsave\r\n$0\r\n\r\n"
	       "$10\r\nappendonly\r\n$2\r\nno\r\n"), n++;
	checkf("CONFIG errors",
	       cat(3, mb("CONFIG", "GET", NULL),
		   mb("CONFIG", "SET", "a", "b", NULL), mb("CONFIG", NULL)),
	       "-ERR wrong number of arguments for 'config|get' command\r\n"
	       "-ERR CONFIG set is not supported by this server\r\n"
	       "-ERR wrong number of arguments for 'config' command\r\n"), n++;
	checkf("COMMAND and COMMAND DOCS give an empty array",
	       cat(2, mb("COMMAND", NULL), mb("COMMAND", "DOCS", NULL)),
	       "*0\r\n*0\r\n"), n++;
	checkf("unknown command",
	       cat(2, mb("FOO", "a", "b", NULL), mb("BAR", NULL)),
	       "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
	       "-ERR unknown command 'BAR', with args beginning with: \r\n"), n++;
	check("unknown command with CR LF in its name cannot break the reply",
	      "*1\r\n$5\r\nA\r\nB!\r\n",
	      "-ERR unknown command 'A  B!', with args beginning with: \r\n"), n++;
	return n;
}

static int protocol_tests(void)
{
	int n = 0;

	check("inline commands", "SET a b\r\nGET a\nPING\r\n",
	      "+OK\r\n$1\r\nb\r\n+PONG\r\n"), n++;
	check("inline: blanks, tabs and blank lines",
	      "\r\n\n   SET \t a    hello  \r\n\r\nget a\r\n",
	      "+OK\r\n$5\r\nhello\r\n"), n++;
	check("inline and multibulk mixed",
	      "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO x\r\n",
	      "+PONG\r\n$2\r\nhi\r\n$1\r\nx\r\n"), n++;
	check("*0 is skipped", "*0\r\n*0\r\n*1\r\n$4\r\nPING\r\n*0\r\n",
	      "+PONG\r\n"), n++;
	check("incomplete request gives nothing", "*2\r\n$3\r\nGET\r\n$1\r\n",
	      ""), n++;
	check("incomplete inline gives nothing", "PING", ""), n++;

	check("*x", "*x\r\n", ERR_MB), n++;
	check("negative multibulk is skipped as empty", "*-1\r\nPING\r\n",
	      "+PONG\r\n"), n++;
	check("huge multibulk", "*99999999999\r\n", ERR_MB), n++;
	check("multibulk over INT_MAX", "*2147483648\r\n", ERR_MB), n++;
	check("multibulk at INT_MAX is fine until it ends",
	      "*2147483647\r\n", ""), n++;
	check("empty multibulk count", "*\r\n", ERR_MB), n++;
	check("LF without CR after count", "*1\n$4\r\nPING\r\n", ERR_MB), n++;
	check("the byte after a count's CR is not checked",
	      "*1\rx$4\r\nPING\r\n", "+PONG\r\n"), n++;
	check("negative bulk", "*1\r\n$-1\r\n", ERR_BULK), n++;
	check("non-digit bulk length", "*1\r\n$4x\r\nPING\r\n", ERR_BULK), n++;
	check("empty bulk length", "*1\r\n$\r\n\r\n", ERR_BULK), n++;
	check("bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n",
	      ERR_BULK), n++;
	check("a 512 MB bulk is fine until it ends", "*1\r\n$536870912\r\nab",
	      ""), n++;
	check("huge bulk", "*1\r\n$18446744073709551617\r\n", ERR_BULK), n++;
	check("LF without CR after bulk length", "*1\r\n$4\nPING\r\n",
	      ERR_BULK), n++;
	check("missing '$'", "*1\r\nPING\r\n",
	      "-ERR Protocol error: expected '$', got 'P'\r\n"), n++;
	check("missing '$', control byte (as is, like Redis' %c)",
	      "*2\r\n$3\r\nGET\r\n\x01\r\n",
	      "-ERR Protocol error: expected '$', got '\x01'\r\n"), n++;
	check("missing '$': nothing until the line ends",
	      "*2\r\n$3\r\nGET\r\n\x01", ""), n++;
	check("bulk longer than announced: two bytes skipped, unchecked",
	      "*1\r\n$3\r\nPING\r\n",
	      "-ERR unknown command 'PIN', with args beginning with: \r\n"),
	      n++;
	check("bulk without CRLF", "*1\r\n$4\r\nPINGxx", "+PONG\r\n"), n++;
	check("bulk with CR only", "*1\r\n$4\r\nPING\rx", "+PONG\r\n"), n++;
	check_len("a NUL hides a count line's end", "*1\0\r\n$4\r\nPING\r\n",
		  16, "", 0), n++;
	check("inline quotes and escapes",
	      "ECHO \"a b\"\r\nECHO 'c\\'d'\r\nECHO \"\\x41\\n\"\r\n"
	      "ECHO x\"y z\"\r\n",
	      "$3\r\na b\r\n$3\r\nc'd\r\n$2\r\nA\n\r\n$4\r\nxy z\r\n"),
	      n++;
	check("inline unbalanced quotes",
	      "PING\r\nECHO \"a\r\n",
	      "+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n"),
	      n++;
	check("inline: a closing quote must end the argument",
	      "ECHO 'a'b\r\n",
	      "-ERR Protocol error: unbalanced quotes in request\r\n"), n++;
	check("good commands before garbage are answered",
	      "PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n",
	      "+PONG\r\n+PONG\r\n" ERR_MB), n++;
	return n;
}

static int limit_tests(void)
{
	struct resp_buf in, want;
	int n = 0, i;

	/* An inline line past 64 KiB without a newline. */
	resp_buf_init(&in);
	for (i = 0; i < RESP_INLINE_MAX + 10; i++)
		resp_add_raw(&in, "a", 1);
	check_len("too big inline request", in.data, in.len,
		  "-ERR Protocol error: too big inline request\r\n", 45), n++;
	in.len = RESP_INLINE_MAX - 2;
	resp_add_raw(&in, "\r\n", 2);
	resp_buf_init(&want);
	resp_add_raw(&want, "-ERR unknown command '", 22);
	for (i = 0; i < 128; i++)
		resp_add_raw(&want, "a", 1);	/* names are cut at 128 */
	resp_add_raw(&want, "', with args beginning with: \r\n", 31);
	check_len("inline of exactly the limit is a command", in.data, in.len,
		  want.data, want.len), n++;
	want.len = 0;

	/* A 2 MiB value: SET, then GET and STRLEN. */
	in.len = 0;
	resp_add_raw(&in, "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2097152\r\n", 30);
	resp_buf_reserve(&in, 2097152 + 64);
	memset(in.data + in.len, 'x', 2097152);
	in.len += 2097152;
	resp_add_raw(&in, "\r\nSTRLEN b\r\n", 12);
	check_len("a 2 MiB value is a value", in.data, in.len,
		  "+OK\r\n:2097152\r\n", 15), n++;

	/* MSET with 4095 pairs and MGET of them: the argument limit works. */
	in.len = 0;
	resp_add_raw(&in, "*8191\r\n$4\r\nMSET\r\n", 17);
	for (i = 0; i < 4095; i++) {
		char kv[64];
		int l = snprintf(kv, sizeof(kv),
				 "$5\r\nk%04d\r\n$5\r\nv%04d\r\n", i, i);

		resp_add_raw(&in, kv, (size_t)l);
	}
	resp_add_raw(&in, "*4096\r\n$4\r\nMGET\r\n", 17);
	resp_add_raw(&want, "+OK\r\n*4095\r\n", 12);
	for (i = 0; i < 4095; i++) {
		char kv[32];
		int l = snprintf(kv, sizeof(kv), "$5\r\nk%04d\r\n", 4094 - i);

		resp_add_raw(&in, kv, (size_t)l);
		l = snprintf(kv, sizeof(kv), "$5\r\nv%04d\r\n", 4094 - i);
		resp_add_raw(&want, kv, (size_t)l);
	}
	check_len("MSET/MGET of 4095 keys, any shard count", in.data, in.len,
		  want.data, want.len), n++;
	in.len = 0;
	resp_add_raw(&in, "*10001\r\n$4\r\nMGET\r\n", 18);
	want.len = 0;
	resp_add_raw(&want, "*10000\r\n", 8);
	for (i = 0; i < 10000; i++) {
		resp_add_raw(&in, "$3\r\nkey\r\n", 9);
		resp_add_raw(&want, "$-1\r\n", 5);
	}
	check_len("MGET of 10000 keys", in.data, in.len, want.data, want.len),
		n++;
	resp_buf_fini(&in);
	resp_buf_fini(&want);
	return n;
}

/* A pipeline of 1000 commands in one buffer, replies checked in order. */
static int pipeline_tests(void)
{
	struct resp_buf in, want;
	int n = 0, i;

	resp_buf_init(&in);
	resp_buf_init(&want);
	for (i = 0; i < 1000; i++) {
		char key[16], val[16], tmp[96];
		int l;

		snprintf(key, sizeof(key), "key:%d", i % 37);
		snprintf(val, sizeof(val), "%d", i);
		switch (i % 4) {
		case 0:
			l = snprintf(tmp, sizeof(tmp), "*3\r\n$3\r\nSET\r\n"
				     "$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
				     strlen(key), key, strlen(val), val);
			resp_add_raw(&in, tmp, (size_t)l);
			resp_add_raw(&want, "+OK\r\n", 5);
			break;
		case 1:
			l = snprintf(tmp, sizeof(tmp),
				     "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n",
				     strlen(key), key);
			resp_add_raw(&in, tmp, (size_t)l);
			/* The expected reply is added below. */
			break;
		case 2:
			resp_add_raw(&in, "PING\r\n", 6);
			resp_add_raw(&want, "+PONG\r\n", 7);
			break;
		default:
			l = snprintf(tmp, sizeof(tmp),
				     "*2\r\n$4\r\nINCR\r\n$4\r\nc:%02d\r\n",
				     i % 10);
			resp_add_raw(&in, tmp, (size_t)l);
			/* c:NN first comes at i < 20, then every 20th i. */
			l = snprintf(tmp, sizeof(tmp), ":%d\r\n", i / 20 + 1);
			resp_add_raw(&want, tmp, (size_t)l);
			break;
		}
		if (i % 4 == 1) {
			/*
			 * key:(i%37) was last SET at the largest j <= i with
			 * j % 4 == 0 and j % 37 == i % 37, if any.
			 */
			int j, last = -1;

			for (j = 0; j <= i; j++)
				if (j % 4 == 0 && j % 37 == i % 37)
					last = j;
			if (last < 0) {
				resp_add_raw(&want, "$-1\r\n", 5);
			} else {
				char v[16], t[32];
				int vl = snprintf(v, sizeof(v), "%d", last);
				int tl = snprintf(t, sizeof(t), "$%d\r\n%s\r\n",
						  vl, v);

				resp_add_raw(&want, t, (size_t)tl);
			}
		}
	}
	check_len("pipeline of 1000 commands", in.data, in.len, want.data,
		  want.len), n++;
	resp_buf_fini(&in);
	resp_buf_fini(&want);
	return n;
}

/* Run one inline command at `now` against `h`; returns the reply. */
static char *run_at(struct harness *h, int64_t now, const char *line)
{
	struct resp_buf out;

	resp_buf_init(&out);
	h->now = now;
	feed(h, line, strlen(line), 0, &out);
	resp_add_raw(&out, "", 1);
	return out.data;
}

static int is_reply(struct harness *h, int64_t now, const char *line,
		    const char *want, const char *name)
{
	char *got = run_at(h, now, line);
	int r = ok(strcmp(got, want) == 0, "%s", name);

	if (!r) {
		diag_bytes("want", want, strlen(want));
		diag_bytes("got", got, strlen(got));
	}
	free(got);
	return r;
}

#define S 1000LL	/* the clock is in ms */

/* Redis' rule: a key with expiry time t is alive at t, gone at t + 1 ms. */
static int expiry_tests(void)
{
	struct harness h;
	int n = 0;

	h_init(&h, 3);
	is_reply(&h, T0, "SET k v EX 10\r\n", "+OK\r\n", "SET EX 10"), n++;
	is_reply(&h, T0 + 10 * S, "GET k\r\n", "$1\r\nv\r\n",
		 "alive at its expiry time"), n++;
	is_reply(&h, T0 + 10 * S + 1, "GET k\r\n", "$-1\r\n",
		 "gone 1 ms later"), n++;
	is_reply(&h, T0 + 10 * S + 1, "EXISTS k\r\n", ":0\r\n",
		 "EXISTS after expiry"), n++;
	is_reply(&h, T0, "SET p v PX 1500\r\n", "+OK\r\n", "SET PX 1500"), n++;
	is_reply(&h, T0 + 1500, "MGET p\r\n", "*1\r\n$1\r\nv\r\n",
		 "PX alive"), n++;
	is_reply(&h, T0 + 1501, "DEL p\r\n", ":0\r\n",
		 "DEL of an expired key removes nothing live"), n++;
	is_reply(&h, T0, "SET c 5 EX 1\r\n", "+OK\r\n", "counter with TTL"),
		 n++;
	is_reply(&h, T0 + 1, "INCR c\r\n", ":6\r\n", "INCR keeps..."), n++;
	is_reply(&h, T0 + S + 1, "GET c\r\n", "$-1\r\n", "...the TTL"), n++;
	is_reply(&h, T0 + S + 1, "INCR c\r\n", ":1\r\n",
		 "INCR of an expired key starts at 1"), n++;
	is_reply(&h, T0, "SET t v EX 1\r\n", "+OK\r\n", "TTL set"), n++;
	is_reply(&h, T0, "SET t w\r\n", "+OK\r\n", "plain SET..."), n++;
	is_reply(&h, T0 + 5 * S, "GET t\r\n", "$1\r\nw\r\n",
		 "...clears the TTL"), n++;
	is_reply(&h, T0, "SET n x EX 1\r\n", "+OK\r\n", "TTL for NX"), n++;
	is_reply(&h, T0 + 2 * S, "SET n y NX\r\n", "+OK\r\n",
		 "NX succeeds on an expired key"), n++;
	is_reply(&h, T0 + 2 * S, "SET gone z XX\r\n", "$-1\r\n",
		 "XX fails on a missing key"), n++;
	is_reply(&h, T0, "SET e v PX 100000\r\n", "+OK\r\n", "TTL: set"), n++;
	is_reply(&h, T0 + 1499, "TTL e\r\nPTTL e\r\n",
		 ":99\r\n:98501\r\n", "TTL rounds to the nearest second"), n++;
	is_reply(&h, T0, "SET x v KEEPTTL\r\nTTL x\r\nTTL nokey\r\n",
		 "+OK\r\n:-1\r\n:-2\r\n", "TTL: -1 none, -2 no key"), n++;
	is_reply(&h, T0, "EXPIRE e 50 GT\r\nEXPIRE e 500 GT\r\nTTL e\r\n",
		 ":0\r\n:1\r\n:500\r\n", "EXPIRE GT"), n++;
	is_reply(&h, T0, "EXPIRE e -1\r\nEXISTS e\r\n", ":1\r\n:0\r\n",
		 "EXPIRE in the past deletes"), n++;
	is_reply(&h, T0, "SET q v EXAT 1\r\nGET q\r\nDBSIZE\r\n",
		 "+OK\r\n$-1\r\n:4\r\n",
		 "EXAT in the past: set, then gone at the next look"), n++;
	is_reply(&h, T0, "SET keep v EX 100\r\nSET keep w KEEPTTL\r\n"
		 "PERSIST keep\r\nPERSIST keep\r\nTTL keep\r\n",
		 "+OK\r\n+OK\r\n:1\r\n:0\r\n:-1\r\n",
		 "KEEPTTL keeps it, PERSIST drops it"), n++;
	h_fini(&h);
	return n;
}

static int writer_tests(void)
{
	struct resp_buf b;
	const char *want = "+OK\r\n-ERR a  b\r\n:-42\r\n:0\r\n"
			   ":9223372036854775807\r\n$0\r\n\r\n$3\r\na\0b\r\n"
			   "$-1\r\n*3\r\n*0\r\n";
	size_t wantlen = 5 + 11 + 6 + 4 + 22 + 6 + 9 + 5 + 4 + 4;
	char *p;
	size_t len;
	int n = 0;

	resp_buf_init(&b);
	resp_add_simple(&b, "OK");
	resp_add_error(&b, "ERR a\r\nb");
	resp_add_int(&b, -42);
	resp_add_int(&b, 0);
	resp_add_int(&b, INT64_MAX);
	resp_add_bulk(&b, "", 0);
	resp_add_bulk(&b, "a\0b", 3);
	resp_add_null(&b);
	resp_add_array(&b, 3);
	resp_add_array(&b, 0);
	ok(b.len == wantlen && memcmp(b.data, want, wantlen) == 0,
	   "reply writers write exact bytes"), n++;
	p = resp_buf_detach(&b, &len);
	ok(p && len == wantlen && b.data == NULL && b.len == 0,
	   "detach hands the bytes over"), n++;
	free(p);
	resp_buf_fini(&b);
	return n;
}

static int i64_tests(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t v;
	} cases[] = {
		{ "0", 1, 0 }, { "1", 1, 1 }, { "-1", 1, -1 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "-9223372036854775808", 1, INT64_MIN },
		{ "9223372036854775808", 0, 0 },
		{ "-9223372036854775809", 0, 0 },
		{ "", 0, 0 }, { "-", 0, 0 }, { "-0", 0, 0 }, { "01", 0, 0 },
		{ "+1", 0, 0 }, { " 1", 0, 0 }, { "1 ", 0, 0 }, { "1a", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "123456789012345678901", 0, 0 },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 7;
		int r = resp_parse_i64(cases[i].s, strlen(cases[i].s), &v);

		if ((r == 0) != cases[i].ok || (r == 0 && v != cases[i].v)) {
			diag("  resp_parse_i64(\"%s\") = %d, %lld", cases[i].s,
			     r, (long long)v);
			bad++;
		}
	}
	ok(bad == 0, "resp_parse_i64 follows Redis' integer syntax");
	return 1;
}

/* ------------------------------------------------------------------ */
/* Fuzz                                                                */
/* ------------------------------------------------------------------ */

static const char *const words[] = {
	"SET", "GET", "DEL", "EXISTS", "INCR", "MGET", "MSET", "PING",
	"ECHO", "CONFIG", "COMMAND", "EX", "PX", "NX", "XX", "k", "key:1",
	"10", "-1", "0", "9223372036854775807", "", "GET", "x y", "LPUSH",
	"LRANGE", "SADD", "SPOP", "HSET", "HGETALL", "ZADD", "ZRANGE",
	"ZPOPMIN", "KEYS", "*", "SELECT", "1", "EXPIRE", "TTL", "TYPE",
	"FLUSHALL", "DBSIZE", "1.5", "inf", "WITHSCORES", "GETDEL",
};

/* One random but well-formed request, multibulk or inline. */
static void gen_request(struct resp_buf *b)
{
	unsigned argc = 1 + rn(6), i;
	char hdr[32];

	if (rn(4) == 0) {
		for (i = 0; i < argc; i++) {
			const char *w = words[rn(sizeof(words) /
						 sizeof(words[0]))];

			if (!*w || strchr(w, ' '))
				w = "v";
			resp_add_raw(b, w, strlen(w));
			resp_add_raw(b, i + 1 < argc ? " " : "\r\n",
				     i + 1 < argc ? 1 : 2);
		}
		return;
	}
	snprintf(hdr, sizeof(hdr), "*%u\r\n", argc);
	resp_add_raw(b, hdr, strlen(hdr));
	for (i = 0; i < argc; i++) {
		const char *w = words[rn(sizeof(words) / sizeof(words[0]))];

		snprintf(hdr, sizeof(hdr), "$%zu\r\n", strlen(w));
		resp_add_raw(b, hdr, strlen(hdr));
		resp_add_raw(b, w, strlen(w));
		resp_add_raw(b, "\r\n", 2);
	}
}

static void mutate(struct resp_buf *b)
{
	static const char interesting[] = "*$\r\n-0123456789 \t\0\xff";
	unsigned k = 1 + rn(4);

	while (k--) {
		size_t at = b->len ? rn((unsigned)b->len) : 0;
		char c = rn(2) ? interesting[rn(sizeof(interesting) - 1)]
			       : (char)rn(256);

		switch (rn(5)) {
		case 0:		/* replace */
			if (b->len)
				b->data[at] = c;
			break;
		case 1:		/* insert */
			resp_add_raw(b, "", 0);
			if (resp_buf_reserve(b, 1) == 0) {
				memmove(b->data + at + 1, b->data + at,
					b->len - at);
				b->data[at] = c;
				b->len++;
			}
			break;
		case 2:		/* delete */
			if (b->len) {
				memmove(b->data + at, b->data + at + 1,
					b->len - at - 1);
				b->len--;
			}
			break;
		case 3:		/* truncate */
			b->len = at;
			break;
		default:	/* a long run of digits somewhere */
			if (resp_buf_reserve(b, 24) == 0) {
				memmove(b->data + at + 24, b->data + at,
					b->len - at);
				memset(b->data + at, '9', 24);
				b->len += 24;
			}
			break;
		}
	}
}

static int fuzz_tests(void)
{
	unsigned long long seed = tap_env_ull("RA_SEED", 0);
	unsigned long long iters = tap_env_ull("RA_ITERS", 10000);
	unsigned long long it;
	unsigned long long bad = 0, ncmds = 0, nerr = 0;

	if (!seed)
		seed = (unsigned long long)time(NULL) ^
		       ((unsigned long long)getpid() << 16);
	diag("seed %llu", seed);
	rng_state = seed;
	for (it = 0; it < iters; it++) {
		struct resp_buf in, out1, out2;
		struct harness h1, h2;
		struct feed_result a, b;
		unsigned i;

		resp_buf_init(&in);
		resp_buf_init(&out1);
		resp_buf_init(&out2);
		if (rn(3) == 0) {
			unsigned n = rn(300);

			static const char alphabet[] = "*$\r\n0123456789- ";

			for (i = 0; i < n; i++) {
				unsigned char c = rn(2)
					? (unsigned char)rn(256)
					: (unsigned char)alphabet[rn(16)];

				resp_add_raw(&in, &c, 1);
			}
		} else {
			unsigned n = 1 + rn(6);

			for (i = 0; i < n; i++)
				gen_request(&in);
			if (rn(4))
				mutate(&in);
		}
		h_init(&h1, 1 + rn(4));
		h_init(&h2, h1.nshards);
		a = feed(&h1, in.data ? in.data : "", in.len, 0, &out1);
		b = feed(&h2, in.data ? in.data : "", in.len, 1 + rn(9), &out2);
		if (a.bad || b.bad || a.ncmds != b.ncmds ||
		    a.error != b.error || out1.len != out2.len ||
		    (out1.len && memcmp(out1.data, out2.data, out1.len))) {
			if (bad++ < 3) {
				diag("  iteration %llu differs or broke "
				     "a promise", it);
				diag_bytes("input", in.data ? in.data : "",
					   in.len);
				diag_bytes("whole",
					   out1.data ? out1.data : "",
					   out1.len);
				diag_bytes("chunked",
					   out2.data ? out2.data : "",
					   out2.len);
			}
		}
		ncmds += (unsigned long long)a.ncmds;
		nerr += (unsigned long long)a.error;
		h_fini(&h1);
		h_fini(&h2);
		resp_buf_fini(&in);
		resp_buf_fini(&out1);
		resp_buf_fini(&out2);
	}
	diag("fuzz: %llu inputs, %llu commands, %llu protocol errors",
	     iters, ncmds, nerr);
	ok(bad == 0, "fuzz: whole and chunked feeds agree, no broken promise");
	ok(ncmds > iters / 2 && nerr > iters / 10,
	   "fuzz: reached both commands and errors");
	return 2;
}

#define NTESTS 106

int main(void)
{
	int n = 0;

	tap_timeout(120);
	plan(NTESTS);
	n += commands_tests();
	n += protocol_tests();
	n += limit_tests();
	n += pipeline_tests();
	n += expiry_tests();
	n += writer_tests();
	n += i64_tests();
	n += fuzz_tests();
	if (n != NTESTS)
		diag("NTESTS is %d, ran %d: fix the plan", NTESTS, n);
	return exit_status();
}
