/*
 * t/kvdiff.c: the differential test of the kvserver example against
 * redis-server. Run by t/kvserver_diff.sh, which starts both:
 *
 *   t/kvdiff REDIS_PORT KVSERVER_PORT
 *
 * It sends both servers the same seeded random stream of every command
 * kvserver supports, over raw RESP (bad arity, wrong types, SET's options
 * in any order and repeated, binary keys and values with CR, LF and NUL,
 * big and negative numbers, expiry times at and past Redis' limits,
 * unknown commands), and compares the replies byte for byte. Then fixed
 * cases on fresh connections: inline commands, protocol errors (the
 * transcript up to the server's close), QUIT; then big requests: a
 * 1 MiB value, MGET of 10000 keys, a command of 1048577 arguments.
 *
 * Where a reply may legitimately differ, the comparison says so at its
 * call: arrays in hash-table order (KEYS, SMEMBERS, HGETALL, SPOP of a
 * whole set) are compared sorted; TTL within 1 s and PTTL within 1000
 * ms (the servers read their clocks a moment apart); CLIENT ID and the
 * id in HELLO are connection counters of each server; INFO is only
 * checked to be a bulk string. The stream never leaves anything to
 * chance: SPOP pops a whole set (its size asked first), DBSIZE is asked
 * right after touching every key of the pool (so both have removed
 * what expired), and expiry times are either past, 1-2 ms (then the
 * test waits 3 ms), or thousands of seconds apart, so no order of two
 * times depends on when a server read its clock.
 *
 * One step in ten sends a pipeline of 2 to 30 commands at once (most of
 * the stream's commands), a quarter of them in the inline form, so that
 * replies of commands on different shards must come back in request
 * order.
 *
 * RA_SEED replays a run (its seed is printed); RA_DIFF_COMMANDS sets the
 * stream's length in commands (default 10000).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

#include "tap.h"
#include "testutil.h"
#include "respclient.h"

#define MAXARGS 64

static int port_a, port_b;	/* redis-server, kvserver */
static int timeout_ms = 10000;

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

enum cmp {
	CMP_EXACT,
	CMP_SORTED,	/* an array in hash-table order */
	CMP_PAIRS,	/* HGETALL: field-value pairs in any order */
	CMP_TTL,	/* integers within `tol` when both are >= 0 */
	CMP_ANY_INT,	/* CLIENT ID */
	CMP_HELLO,	/* all but the id */
	CMP_ANY_BULK,	/* INFO */
};

struct cmd {
	int argc;
	char *argv[MAXARGS];
	size_t argl[MAXARGS];
	enum cmp cmp;
	int64_t tol;
	bool sleep_after;	/* a 1-2 ms expiry was set: let it pass */
	bool keep_arity;	/* SPOP: fewer arguments would pop at random */
};

static void cmd_reset(struct cmd *c)
{
	int i;

	for (i = 0; i < c->argc; i++)
		free(c->argv[i]);
	memset(c, 0, sizeof(*c));
}

static void arg(struct cmd *c, const void *p, size_t n)
{
	if (c->argc == MAXARGS)
		return;
	c->argv[c->argc] = malloc(n + 1);
	memcpy(c->argv[c->argc], p, n);
	c->argv[c->argc][n] = '\0';
	c->argl[c->argc++] = n;
}

static void args(struct cmd *c, const char *s)
{
	arg(c, s, strlen(s));
}

static void argf(struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void argf(struct cmd *c, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	args(c, tmp);
}

static bool chance(unsigned pct)
{
	return rn(100) < pct;
}

#define PICK(a) (a[rn(sizeof(a) / sizeof(a[0]))])

/* The command name, in a random case now and then. */
static void name(struct cmd *c, const char *n)
{
	char tmp[32];
	size_t i, len = strlen(n);

	memcpy(tmp, n, len);
	for (i = 0; i < len && chance(10); i++)
		tmp[i] = (char)(rn(2) ? toupper((unsigned char)tmp[i])
				      : tolower((unsigned char)tmp[i]));
	arg(c, tmp, len);
}

/* ---- data ---- */

struct bytes {
	const char *p;
	size_t len;
};

#define B(s) { s, sizeof(s) - 1 }

static const struct bytes keys[] = {
	B("k0"), B("k1"), B("k2"), B("k3"), B("k4"), B("k5"), B("k6"),
	B("k7"), B("key:a"), B("key:b"), B("bin\r\nkey"), B("nul\0key"),
	B("\xff\xfe\x00"), B(""), B("sp ace"), B("k0\0"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void key(struct cmd *c)
{
	const struct bytes *k = &keys[rn(NKEYS)];

	arg(c, k->p, k->len);
}

static const char *const ints[] = {
	"0", "1", "-1", "2", "10", "100", "-100", "9223372036854775807",
	"-9223372036854775808", "9223372036854775806",
	"-9223372036854775807", "9223372036854775808", "01", "-0", " 1",
	"1 ", "+1", "1.5", "abc", "", "99999999999999999999", "4294967296",
};

static const char *const words[] = {
	"a", "b", "hello", "v1", "x y", "m0", "m1", "m2", "m3", "1", "2",
	"-3", "10",
};

/* A value: words, numbers, binary bytes with CR LF NUL, long, empty. */
static void value(struct cmd *c)
{
	char buf[320];
	size_t n, i;

	switch (rn(7)) {
	case 0:
	case 1:
		args(c, PICK(words));
		return;
	case 2:
		args(c, PICK(ints));
		return;
	case 3:
		argf(c, "%lld", (long long)(rnd() % 2000001) - 1000000);
		return;
	case 4:
		n = rn(12);
		for (i = 0; i < n; i++)
			buf[i] = "\r\n\0ab\xff "[rn(7)];
		arg(c, buf, n);
		return;
	case 5:
		n = 60 + rn(260);
		for (i = 0; i < n; i++)
			buf[i] = (char)('a' + rn(26));
		arg(c, buf, n);
		return;
	default:
		arg(c, "", 0);
	}
}

static const char *const members[] = {
	"m0", "m1", "m2", "m3", "m4", "m5", "1", "2", "3", "-7", "10", "0",
	"a", "b", "c", "aa", "ab", "", "\r\n", "nul\0", "007",
};

static void member(struct cmd *c)
{
	const char *m = PICK(members);

	/* "nul\0" keeps its NUL: 4 bytes. */
	arg(c, m, strcmp(m, "nul") == 0 ? 4 : strlen(m));
}

static const char *const scores[] = {
	"0", "1", "-1", "2", "1.5", "-0", "0.1", "1e20", "inf", "-inf",
	"+inf", "nan", "1e400", "1e-400", "5e-324", "abc", "", " 1", "0x10",
	"3", "3.0", "100",
};

static const char *const counts[] = {
	"0", "1", "2", "3", "5", "100", "-1", "x", "-0", "01",
	"99999999999999999999", "9223372036854775807",
};

static const char *const indexes[] = {
	"0", "1", "2", "-1", "-2", "-100", "100", "3", "x", "",
	"9223372036854775807", "-9223372036854775808",
};

/* ---- expiry times that no clock skew can make disagree ---- */

static int64_t start_s;		/* Unix time when the run began */
static unsigned long slot;	/* makes every far time distinct */

/* A relative time far ahead, seconds; 1000 s from any other. */
static long long far_rel(void)
{
	return 1000000LL + 1000LL * (long long)(++slot % 50000);
}

/* An absolute time further ahead than any relative one, seconds. */
static long long far_abs(void)
{
	return start_s + 200000000LL + 1000LL * (long long)(++slot % 50000);
}

static const char *const bad_times[] = {
	"0", "-1", "-100", "1.5", "abc", "", "9223372036854775807",
	"9223372036854775", "9223372036854776", "-9223372036854775808",
	"-9223372036854775", "9223372036854775806", "01",
};

/*
 * An expiry time for `unit` (s or ms), relative or absolute: far, past,
 * short (then the caller's command waits 3 ms after) or an edge value.
 */
static void expire_value(struct cmd *c, bool ms, bool absolute)
{
	switch (rn(8)) {
	case 0:
	case 1:
	case 2:
		if (absolute)
			argf(c, "%lld", far_abs() * (ms ? 1000 : 1));
		else
			argf(c, "%lld", far_rel() * (ms ? 1000 : 1));
		return;
	case 3:
		if (absolute)
			argf(c, "%lld", (long long)(start_s - 1000 -
						    rn(100000)) *
			     (ms ? 1000 : 1));
		else
			argf(c, "%lld", -(long long)rn(100000) * (ms ? 1 : 1));
		return;
	case 4:
		if (ms && !absolute) {
			argf(c, "%u", 1 + rn(2));
			c->sleep_after = true;
			return;
		}
		/* fall through */
	default:
		args(c, PICK(bad_times));
	}
}

/* ------------------------------------------------------------------ */
/* Talking to both                                                     */
/* ------------------------------------------------------------------ */

static struct rc_conn ca, cb;	/* the stream's connections */
static unsigned long ndiff, nrun, nbatched, ninline;
static bool in_batch;		/* generating a pipelined batch */

/* Print bytes with CR, LF, NUL and the rest escaped. */
static void esc(char *dst, size_t dsz, const char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < dsz; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\r')
			o += (size_t)snprintf(dst + o, dsz - o, "\\r");
		else if (ch == '\n')
			o += (size_t)snprintf(dst + o, dsz - o, "\\n");
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(dst + o, dsz - o, "\\x%02x", ch);
		else
			dst[o++] = (char)ch;
	}
	if (i < n && o + 4 < dsz)
		o += (size_t)snprintf(dst + o, dsz - o, "...");
	dst[o] = '\0';
}

static void show_cmd(const struct cmd *c)
{
	char line[1024], part[300];
	int i;

	line[0] = '\0';
	for (i = 0; i < c->argc; i++) {
		esc(part, sizeof(part), c->argv[i], c->argl[i]);
		if (strlen(line) + strlen(part) + 4 < sizeof(line)) {
			strcat(line, " '");
			strcat(line, part);
			strcat(line, "'");
		}
	}
	diag("  command:%s", line);
}

static int bytes_cmp(const void *a, const void *b)
{
	const struct rc_reply *x = a, *y = b;
	size_t n = x->len < y->len ? (size_t)x->len : (size_t)y->len;
	int r = memcmp(x->str ? x->str : "", y->str ? y->str : "", n);

	return r ? r : (x->len > y->len) - (x->len < y->len);
}

static int pair_cmp(const void *a, const void *b)
{
	return bytes_cmp(a, b);
}

/* HGETALL's pairs as "field\0value" strings, to sort them. */
static void sort_pairs(struct rc_reply *r)
{
	int64_t i;

	for (i = 0; i + 1 < r->n; i += 2) {
		struct rc_reply *f = &r->kids[i], *v = &r->kids[i + 1];
		char *s = malloc((size_t)(f->len + v->len) + 2);

		memcpy(s, f->str, (size_t)f->len);
		s[f->len] = '\0';
		memcpy(s + f->len + 1, v->str, (size_t)v->len);
		free(f->str);
		f->str = s;
		f->len += v->len + 1;
		v->len = 0;
	}
	/* Sort the pairs as units: every other element is a key. */
	{
		int64_t np = r->n / 2, k;
		struct rc_reply *tmp = calloc((size_t)np + 1, sizeof(*tmp));

		for (k = 0; k < np; k++)
			tmp[k] = r->kids[2 * k];
		qsort(tmp, (size_t)np, sizeof(*tmp), pair_cmp);
		for (k = 0; k < np; k++)
			r->kids[2 * k] = tmp[k];
		free(tmp);
	}
}

static bool same_kids(const struct rc_reply *a, const struct rc_reply *b)
{
	int64_t i;

	if (a->type != '*' || b->type != '*' || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->kids[i].type != b->kids[i].type ||
		    a->kids[i].len != b->kids[i].len ||
		    (a->kids[i].len > 0 &&
		     memcmp(a->kids[i].str, b->kids[i].str,
			    (size_t)a->kids[i].len)))
			return false;
	return true;
}

static bool hello_same(struct rc_reply *a, struct rc_reply *b)
{
	if (a->type != '*' || a->n != 14 || b->type != '*' || b->n != 14)
		return a->rawlen == b->rawlen &&
		       memcmp(a->raw, b->raw, a->rawlen) == 0;
	if (a->kids[7].type != ':' || b->kids[7].type != ':')
		return false;
	a->kids[7].type = b->kids[7].type = '$';
	a->kids[7].len = b->kids[7].len = 0;
	return same_kids(a, b);
}

static bool replies_match(const struct cmd *c, struct rc_reply *a,
			  struct rc_reply *b)
{
	bool exact = a->rawlen == b->rawlen &&
		     memcmp(a->raw, b->raw, a->rawlen) == 0;

	if (exact)
		return true;
	switch (c->cmp) {
	case CMP_SORTED:
		if (a->type != '*' || b->type != '*' || a->n != b->n)
			return false;
		qsort(a->kids, (size_t)a->n, sizeof(*a->kids), bytes_cmp);
		qsort(b->kids, (size_t)b->n, sizeof(*b->kids), bytes_cmp);
		return same_kids(a, b);
	case CMP_PAIRS:
		if (a->type != '*' || b->type != '*' || a->n != b->n)
			return false;
		sort_pairs(a);
		sort_pairs(b);
		return same_kids(a, b);
	case CMP_TTL:
		return a->type == ':' && b->type == ':' && a->num >= 0 &&
		       b->num >= 0 && llabs(a->num - b->num) <= c->tol;
	case CMP_ANY_INT:
		return a->type == ':' && b->type == ':';
	case CMP_HELLO:
		return hello_same(a, b);
	case CMP_ANY_BULK:
		return a->type == '$' && b->type == '$';
	default:
		return false;
	}
}

static void send_both(const struct cmd *c)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	rc_encode(&buf, &len, &cap, c->argc, (const char *const *)c->argv,
		  c->argl);
	if (rc_send(&ca, buf, len) || rc_send(&cb, buf, len))
		bail_out("cannot send to a server");
	free(buf);
}

/*
 * Run `c` on both and compare. Returns redis-server's reply (the
 * caller frees it) for generators that adapt to the state.
 */
static void check_one(struct cmd *c, struct rc_reply *a, struct rc_reply *b);

static struct rc_reply run(struct cmd *c)
{
	struct rc_reply a, b;
	int ra, rb;

	send_both(c);
	ra = rc_read(&ca, &a);
	rb = rc_read(&cb, &b);
	if (ra || rb) {
		show_cmd(c);
		diag("  read failed: redis %d, kvserver %d", ra, rb);
		bail_out("a server stopped answering");
	}
	check_one(c, &a, &b);
	if (c->sleep_after)
		sleep_ms(3);
	rc_reply_free(&b);
	return a;
}

static void run_free(struct cmd *c)
{
	struct rc_reply a = run(c);

	rc_reply_free(&a);
	cmd_reset(c);
}

/* ------------------------------------------------------------------ */
/* The generators, one per command family                              */
/* ------------------------------------------------------------------ */

static void gen_set(struct cmd *c)
{
	static const char *const opts[] = {
		"NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT",
		"nx", "get", "keepttl", "ex", "px", "FOO",
	};
	unsigned n = rn(4), i;

	name(c, "SET");
	key(c);
	value(c);
	for (i = 0; i < n; i++) {
		const char *o = PICK(opts);

		args(c, o);
		if (!strcasecmp(o, "ex") || !strcasecmp(o, "px") ||
		    !strcasecmp(o, "exat") || !strcasecmp(o, "pxat")) {
			if (chance(95))
				expire_value(c, toupper((unsigned char)o[0]) ==
						'P', strlen(o) == 4);
		}
	}
}

static void gen_string(struct cmd *c)
{
	static const char *const one[] = {
		"GET", "STRLEN", "INCR", "DECR", "GETDEL",
	};
	static const char *const two[] = {
		"SETNX", "GETSET", "APPEND",
	};
	unsigned i, n;

	switch (rn(7)) {
	case 0:
	case 1:
		gen_set(c);
		return;
	case 2:
		name(c, PICK(one));
		key(c);
		return;
	case 3:
		name(c, PICK(two));
		key(c);
		value(c);
		return;
	case 4:
		name(c, rn(2) ? "INCRBY" : "DECRBY");
		key(c);
		args(c, PICK(ints));
		return;
	case 5:
		name(c, "MGET");
		n = 1 + rn(6);
		for (i = 0; i < n; i++)
			key(c);
		return;
	default:
		name(c, "MSET");
		n = 1 + rn(5);
		for (i = 0; i < n; i++) {
			key(c);
			value(c);
		}
	}
}

static void gen_expire(struct cmd *c)
{
	static const char *const cmds[] = {
		"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT",
	};
	static const char *const opts[] = {
		"NX", "XX", "GT", "LT", "nx", "gt", "FOO",
	};
	const char *n = PICK(cmds);
	unsigned k = rn(3), i;

	name(c, n);
	key(c);
	expire_value(c, n[0] == 'P', strlen(n) > 7);
	for (i = 0; i < k && chance(60); i++)
		args(c, PICK(opts));
}

/* DBSIZE after touching every key, so that both removed what expired. */
static void gen_dbsize(struct cmd *c)
{
	size_t i;

	name(c, "EXISTS");
	for (i = 0; i < NKEYS; i++)
		arg(c, keys[i].p, keys[i].len);
	if (in_batch)
		return;		/* no command may run in between */
	run_free(c);
	name(c, "DBSIZE");
}

static void gen_keys(struct cmd *c)
{
	static const char *const pats[] = {
		"*", "k*", "k?", "[a-k]*", "*[0-4]", "\\k*", "[^k]*", "k[",
		"**", "", "*key*", "k[0-3", "[k-a]?", "?", "*\\", "nul*",
		"[\\]]*", "[a-]*", "*e*y*",
	};

	switch (rn(10)) {
	case 0:
		gen_dbsize(c);
		return;
	case 1:
		name(c, "SELECT");
		args(c, rn(4) ? (const char *[]){ "0", "1", "2" }[rn(3)]
			      : (const char *[]){ "15", "16", "-1", "x",
						  "2147483648" }[rn(5)]);
		return;
	case 2:
		if (chance(5)) {
			name(c, rn(2) ? "FLUSHALL" : "FLUSHDB");
			if (rn(2))
				args(c, (const char *[]){ "SYNC", "ASYNC",
							  "x" }[rn(3)]);
			return;
		}
		/* fall through */
	case 3:
		name(c, "KEYS");
		args(c, PICK(pats));
		c->cmp = CMP_SORTED;
		return;
	case 4:
		name(c, rn(2) ? "TTL" : "PTTL");
		key(c);
		c->cmp = CMP_TTL;
		c->tol = c->argv[0][0] == 'T' || c->argv[0][0] == 't' ? 1
								      : 1000;
		return;
	case 5:
		name(c, rn(2) ? "PERSIST" : "TYPE");
		key(c);
		return;
	case 6:
	case 7:
		gen_expire(c);
		return;
	default: {
		unsigned n = 1 + rn(4), i;

		name(c, (const char *[]){ "DEL", "UNLINK", "EXISTS" }[rn(3)]);
		for (i = 0; i < n; i++)
			key(c);
	}
	}
}

static void gen_list(struct cmd *c)
{
	unsigned n, i;

	switch (rn(5)) {
	case 0:
	case 1:
		name(c, rn(2) ? "LPUSH" : "RPUSH");
		key(c);
		n = 1 + rn(4);
		for (i = 0; i < n; i++)
			value(c);
		return;
	case 2:
		name(c, rn(2) ? "LPOP" : "RPOP");
		key(c);
		if (rn(2))
			args(c, PICK(counts));
		return;
	case 3:
		name(c, "LRANGE");
		key(c);
		args(c, PICK(indexes));
		args(c, PICK(indexes));
		return;
	default:
		name(c, "LLEN");
		key(c);
	}
}

/*
 * SPOP's choice is random: ask the size first and pop all of it, or
 * pop from a set of one.
 */
static void gen_spop(struct cmd *c)
{
	struct rc_reply card;
	const struct bytes *k = &keys[rn(NKEYS)];

	if (in_batch) {
		/* More than the member pool holds: the whole set, surely. */
		name(c, "SPOP");
		arg(c, k->p, k->len);
		argf(c, "%u", 100 + rn(3));
		c->cmp = CMP_SORTED;
		c->keep_arity = true;
		return;
	}
	name(c, "SCARD");
	arg(c, k->p, k->len);
	card = run(c);
	cmd_reset(c);
	name(c, "SPOP");
	arg(c, k->p, k->len);
	c->cmp = CMP_SORTED;
	c->keep_arity = true;
	if (card.type == ':' && card.num > 1)
		argf(c, "%lld", (long long)card.num + rn(3));
	else if (rn(2))
		args(c, PICK(counts));
	rc_reply_free(&card);
}

static void gen_set_type(struct cmd *c)
{
	unsigned n, i;

	switch (rn(6)) {
	case 0:
	case 1:
		name(c, "SADD");
		key(c);
		n = 1 + rn(4);
		for (i = 0; i < n; i++)
			member(c);
		return;
	case 2:
		name(c, "SREM");
		key(c);
		n = 1 + rn(3);
		for (i = 0; i < n; i++)
			member(c);
		return;
	case 3:
		gen_spop(c);
		return;
	case 4:
		name(c, rn(2) ? "SCARD" : "SMEMBERS");
		key(c);
		c->cmp = CMP_SORTED;
		return;
	default:
		name(c, "SISMEMBER");
		key(c);
		member(c);
	}
}

static void gen_hash(struct cmd *c)
{
	unsigned n, i;

	switch (rn(6)) {
	case 0:
	case 1:
		name(c, rn(4) ? "HSET" : "HMSET");
		key(c);
		n = 1 + rn(3);
		for (i = 0; i < n; i++) {
			member(c);
			value(c);
		}
		return;
	case 2:
		name(c, rn(2) ? "HGET" : "HEXISTS");
		key(c);
		member(c);
		return;
	case 3:
		name(c, "HGETALL");
		key(c);
		c->cmp = CMP_PAIRS;
		return;
	case 4:
		name(c, "HDEL");
		key(c);
		n = 1 + rn(3);
		for (i = 0; i < n; i++)
			member(c);
		return;
	default:
		name(c, "HLEN");
		key(c);
	}
}

static void gen_zadd(struct cmd *c)
{
	static const char *const opts[] = {
		"NX", "XX", "GT", "LT", "CH", "INCR", "ch", "incr",
	};
	unsigned n, i;

	name(c, "ZADD");
	key(c);
	n = rn(3);
	for (i = 0; i < n && chance(50); i++)
		args(c, PICK(opts));
	n = 1 + rn(3);
	for (i = 0; i < n; i++) {
		args(c, chance(85) ? PICK(scores) + 0 : "5");
		member(c);
	}
}

static void zrange_bound(struct cmd *c, int type)
{
	static const char *const score_b[] = {
		"-inf", "+inf", "0", "1", "(1", "2", "(2", "1.5", "x", "(",
		"", "inf", "(-inf",
	};
	static const char *const lex_b[] = {
		"-", "+", "[a", "(a", "[m1", "(m3", "[", "a", "[b", "[z",
		"+x",
	};

	if (type == 0)
		args(c, PICK(indexes));
	else if (type == 1)
		args(c, PICK(score_b));
	else
		args(c, PICK(lex_b));
}

static void gen_zrange(struct cmd *c)
{
	int type = (int)rn(3);
	unsigned n = rn(4), i;

	name(c, "ZRANGE");
	key(c);
	zrange_bound(c, type);
	zrange_bound(c, type);
	if (type == 1)
		args(c, "BYSCORE");
	else if (type == 2)
		args(c, "BYLEX");
	for (i = 0; i < n; i++) {
		switch (rn(5)) {
		case 0:
			args(c, "REV");
			break;
		case 1:
			args(c, "WITHSCORES");
			break;
		case 2:
			args(c, "LIMIT");
			args(c, PICK(indexes));
			args(c, PICK(counts));
			break;
		case 3:
			args(c, rn(2) ? "BYSCORE" : "BYLEX");
			break;
		default:
			args(c, "withscores");
		}
	}
}

static void gen_zset(struct cmd *c)
{
	unsigned n, i;

	switch (rn(7)) {
	case 0:
	case 1:
		gen_zadd(c);
		return;
	case 2:
	case 3:
		gen_zrange(c);
		return;
	case 4:
		name(c, "ZPOPMIN");
		key(c);
		if (rn(2))
			args(c, PICK(counts));
		return;
	case 5:
		name(c, rn(2) ? "ZSCORE" : "ZREM");
		key(c);
		n = rn(2) ? 1 : 2;
		for (i = 0; i < n; i++)
			member(c);
		return;
	default:
		name(c, "ZCARD");
		key(c);
	}
}

static void gen_unknown(struct cmd *c)
{
	static const struct bytes names[] = {
		B("FOO"), B("foo\r\nbar"), B("x\0y"), B("getx"), B(""),
		B("MULTI2"), B("\xff"),
		/* Longer than the 128 bytes Redis quotes of a name. */
		B("0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij"
		  "0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij"
		  "0123456789"),
	};
	const struct bytes *nm = &names[rn(sizeof(names) / sizeof(names[0]))];
	unsigned n = rn(5), i;
	char big[200];

	arg(c, nm->p, nm->len);
	for (i = 0; i < n; i++) {
		if (rn(3) == 0) {
			memset(big, 'a' + (int)rn(26), sizeof(big));
			arg(c, big, 60 + rn(140));
		} else {
			value(c);
		}
	}
}

static void gen_server(struct cmd *c)
{
	static const char *const names[] = {
		"bob", "", "a b", "x\r\n", "ok-name", "~!",
	};
	static const char *const cfg[] = {
		"save", "appendonly", "databases", "maxmemory", "SAVE",
		"nosuch",
	};

	switch (rn(9)) {
	case 0:
		name(c, "PING");
		if (rn(2))
			value(c);
		return;
	case 1:
		name(c, "ECHO");
		value(c);
		return;
	case 2:
		gen_unknown(c);
		return;
	case 3:
		name(c, "CLIENT");
		switch (rn(5)) {
		case 0:
			args(c, "SETNAME");
			args(c, PICK(names));
			return;
		case 1:
			args(c, "GETNAME");
			return;
		case 2:
			args(c, "ID");
			c->cmp = CMP_ANY_INT;
			return;
		case 3:
			args(c, "NOSUCH");
			return;
		default:
			return;
		}
	case 4:
		name(c, "AUTH");
		args(c, rn(2) ? "default" : "bob");
		if (rn(2))
			args(c, "pw");
		return;
	case 5:
		/* Never protocol 3: Redis would switch this stream to RESP3. */
		name(c, "HELLO");
		c->cmp = CMP_HELLO;
		if (rn(3))
			args(c, (const char *[]){ "2", "1", "4", "x",
						  "-1" }[rn(5)]);
		if (rn(3) == 0) {
			args(c, "SETNAME");
			args(c, PICK(names));
		}
		if (rn(4) == 0) {
			args(c, "AUTH");
			args(c, rn(2) ? "default" : "bob");
			args(c, "pw");
		}
		return;
	case 6:
		name(c, "CONFIG");
		args(c, "GET");
		args(c, PICK(cfg));
		return;
	case 7:
		name(c, "INFO");
		c->cmp = CMP_ANY_BULK;
		if (rn(2))
			args(c, (const char *[]){ "keyspace", "server",
						  "nosuch", "all" }[rn(4)]);
		return;
	default:
		name(c, "PING");
	}
}

/* Now and then drop arguments or add some: arity errors. */
static void mangle_arity(struct cmd *c)
{
	unsigned i, n;

	if (!chance(4) || c->cmp == CMP_HELLO || c->cmp == CMP_ANY_INT ||
	    c->keep_arity)
		return;
	if (rn(2) && c->argc > 1) {
		n = 1 + rn((unsigned)c->argc - 1);
		while (c->argc > (int)n)
			free(c->argv[--c->argc]);
	} else {
		n = 1 + rn(3);
		for (i = 0; i < n; i++)
			value(c);
	}
}

static void gen_any(struct cmd *c)
{
	unsigned w = rn(100);

	if (w < 30)
		gen_string(c);
	else if (w < 45)
		gen_keys(c);
	else if (w < 57)
		gen_list(c);
	else if (w < 69)
		gen_set_type(c);
	else if (w < 79)
		gen_hash(c);
	else if (w < 93)
		gen_zset(c);
	else
		gen_server(c);
	mangle_arity(c);
}

/*
 * The inline form of `c` when it has one that splits back into the same
 * arguments: printable bytes, no blanks or quotes, none empty.
 */
static bool inline_form(const struct cmd *c, char **buf, size_t *len)
{
	size_t n = 0, i, k;
	int a;

	for (a = 0; a < c->argc; a++) {
		if (c->argl[a] == 0)
			return false;
		for (i = 0; i < c->argl[a]; i++) {
			unsigned char ch = (unsigned char)c->argv[a][i];

			if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\'')
				return false;
		}
		n += c->argl[a] + 1;
	}
	*buf = malloc(n + 2);
	for (a = 0, k = 0; a < c->argc; a++) {
		memcpy(*buf + k, c->argv[a], c->argl[a]);
		k += c->argl[a];
		(*buf)[k++] = a + 1 < c->argc ? ' ' : '\r';
	}
	(*buf)[k++] = '\n';
	*len = k;
	return true;
}

/* Compare one reply of `c` from each server; the caller frees both. */
static void check_one(struct cmd *c, struct rc_reply *a, struct rc_reply *b)
{
	char ea[400], eb[400];

	nrun++;
	if (!replies_match(c, a, b) && ndiff++ < 10) {
		diag("difference at command %lu:", nrun);
		show_cmd(c);
		esc(ea, sizeof(ea), a->raw, a->rawlen);
		esc(eb, sizeof(eb), b->raw, b->rawlen);
		diag("  redis:    %s", ea);
		diag("  kvserver: %s", eb);
	}
}

/*
 * A pipeline: up to 30 commands sent at once, inline now and then, the
 * replies read after, so that kvserver must put replies of commands on
 * different shards back in request order. A 1-2 ms expiry ends a batch
 * (the wait after it must come before the next command).
 */
static void batch(void)
{
	struct cmd cs[30];
	char *buf = NULL, *il;
	size_t len = 0, cap = 0, il_len;
	unsigned k = 2 + rn(29), i, n = 0;

	memset(cs, 0, sizeof(cs));
	in_batch = true;
	for (i = 0; i < k; i++) {
		gen_any(&cs[i]);
		n++;
		if (rn(4) == 0 && inline_form(&cs[i], &il, &il_len)) {
			if (len + il_len > cap) {
				cap = (len + il_len) * 2;
				buf = realloc(buf, cap);
			}
			memcpy(buf + len, il, il_len);
			len += il_len;
			free(il);
			ninline++;
		} else {
			rc_encode(&buf, &len, &cap, cs[i].argc,
				  (const char *const *)cs[i].argv,
				  cs[i].argl);
		}
		if (cs[i].sleep_after)
			break;
	}
	in_batch = false;
	if (rc_send(&ca, buf, len) || rc_send(&cb, buf, len))
		bail_out("cannot send to a server");
	for (i = 0; i < n; i++) {
		struct rc_reply a, b;

		if (rc_read(&ca, &a) || rc_read(&cb, &b)) {
			show_cmd(&cs[i]);
			bail_out("a server stopped answering a pipeline");
		}
		check_one(&cs[i], &a, &b);
		rc_reply_free(&a);
		rc_reply_free(&b);
	}
	nbatched += n;
	if (n && cs[n - 1].sleep_after)
		sleep_ms(3);
	for (i = 0; i < n; i++)
		cmd_reset(&cs[i]);
	free(buf);
}

static void step(void)
{
	struct cmd c = { 0 };

	if (rn(10) == 0) {
		batch();
		return;
	}
	gen_any(&c);
	run_free(&c);
}

/* ------------------------------------------------------------------ */
/* Fixed cases on fresh connections                                    */
/* ------------------------------------------------------------------ */

struct fixed {
	const char *name;
	const char *bytes;
	size_t len;		/* 0: strlen(bytes) */
	bool idle;		/* compare what comes within 300 ms */
};

#define QUIT "QUIT\r\n"

static const struct fixed fixed_cases[] = {
	{ "inline commands", "PING\r\nECHO hello\r\nSET ik v\r\nGET ik\r\n"
	  QUIT, 0, false },
	{ "inline quoting", "ECHO \"a b\" 'c d'\r\nECHO \"\\x41\\n\\t\\\\\"\r\n"
	  "ECHO 'it\\'s'\r\nECHO a\"b c\"d\r\nECHO \"\"\r\n" QUIT, 0, false },
	{ "inline blanks and blank lines", "\r\n\n   PING \t \r\n\r\nPING\n"
	  "\x0bPING\r\n" QUIT, 0, false },
	{ "inline: unbalanced quotes close", "ECHO \"abc\r\nPING\r\n", 0, false },
	{ "inline: text after a closing quote", "ECHO \"a\"b\r\nPING\r\n", 0, false },
	{ "inline: single quote unbalanced", "ECHO 'a\r\n", 0, false },
	{ "inline too big", NULL, 0, false },	/* built at run time */
	{ "mbulk count too big", NULL, 0, false },
	{ "bulk count too big", NULL, 0, false },
	{ "empty requests are skipped", "*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n"
	  "*0\r\n" QUIT, 0, false },
	{ "leading zero count", "*01\r\n$4\r\nPING\r\n", 0, false },
	{ "leading zero length", "*1\r\n$04\r\nPING\r\n", 0, false },
	{ "plus sign count", "*+1\r\n$4\r\nPING\r\n", 0, false },
	{ "blank in count", "*1 \r\n$4\r\nPING\r\n", 0, false },
	{ "empty count", "*\r\n$4\r\nPING\r\n", 0, false },
	{ "negative bulk", "*1\r\n$-1\r\n", 0, false },
	{ "bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", 0, false },
	{ "count over INT_MAX", "*2147483648\r\n", 0, false },
	{ "CRLF after a bulk is not checked",
	  "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n" QUIT, 0, false },
	{ "bulk shorter than its bytes",
	  "*1\r\n$3\r\nPING\r\n" QUIT, 0, false },
	{ "the byte after a count's CR is not checked",
	  "*1\rx$4\r\nPING\r\n" QUIT, 0, false },
	{ "missing '$'", "*1\r\nx4\r\nPING\r\n", 0, false },
	{ "missing '$': a CR", "*2\r\n$3\r\nGET\r\n\r\n", 0, false },
	{ "missing '$': a control byte", "*2\r\n$3\r\nGET\r\n\x01\r\n", 0, false },
	{ "a NUL hides the line end", "*1\0\r\n", 6, true },
	{ "incomplete request: nothing", "*2\r\n$3\r\nGET\r\n$1\r\n", 0,
	  true },
	{ "commands before garbage are answered",
	  "PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n", 0, false },
	{ "QUIT ends the pipeline", "PING\r\nQUIT\r\nPING\r\n", 0, false },
	{ "QUIT waits for the replies before it",
	  "SET q 1\r\nMGET q k1 k2 k3 k4\r\nDEL q\r\nQUIT\r\nGET q\r\n", 0,
	  false },
	{ "a protocol error waits for the replies before it",
	  "SET g 1\r\nMGET g k1 k2 k3 k4\r\nDEL g\r\n*x\r\nPING\r\n", 0,
	  false },
	{ "QUIT with arguments", "*2\r\n$4\r\nQUIT\r\n$1\r\nx\r\nPING\r\n", 0, false },
	{ "CLIENT SETNAME then GETNAME", "CLIENT GETNAME\r\n"
	  "CLIENT SETNAME abc\r\nCLIENT GETNAME\r\nCLIENT SETNAME \"\"\r\n"
	  "CLIENT GETNAME\r\n" QUIT, 0, false },
	{ "unknown command, long arguments", NULL, 0, false },
	{ "SELECT is per connection", "SELECT 2\r\nSET sk v\r\nSELECT 0\r\n"
	  "GET sk\r\nSELECT 2\r\nGET sk\r\nDEL sk\r\n" QUIT, 0, false },
	{ "small hash in insertion order", "DEL hh\r\nHSET hh b 1 a 2 c 3\r\n"
	  "HDEL hh b\r\nHSET hh b 4\r\nHGETALL hh\r\nDEL hh\r\n" QUIT, 0, false },
	{ "sorted set scores: -0 is 0 while small, -0 once big",
	  "DEL za zb zc\r\nZADD za -0 a\r\nZSCORE za a\r\n"
	  "ZADD za INCR -0.0 b\r\nZSCORE za b\r\n"
	  "ZADD zb 1 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb -0 a\r\nZSCORE zb a\r\n"
	  "ZADD zc -0 a\r\nZADD zc 1 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nZSCORE zc a\r\n"
	  "ZADD zc -0 c\r\nZRANGE zc 0 -1 WITHSCORES\r\nDEL za zb zc\r\n"
	  QUIT, 0, false },
	{ "small integer set in numeric order", "DEL ss\r\n"
	  "SADD ss 30 -2 100 7\r\nSMEMBERS ss\r\nSPOP ss 9\r\n" QUIT, 0, false },
};

/* Bytes of a case built at run time: 70000 bytes without an end. */
static char *build_case(const char *name, size_t *len)
{
	char *b = malloc(80000);
	size_t n = 0;

	if (!strcmp(name, "inline too big")) {
		memset(b, 'x', 70000);
		n = 70000;
	} else if (!strcmp(name, "mbulk count too big")) {
		b[0] = '*';
		memset(b + 1, '1', 70000);
		n = 70001;
	} else if (!strcmp(name, "bulk count too big")) {
		memcpy(b, "*1\r\n$", 5);
		memset(b + 5, '1', 70000);
		n = 70005;
	} else {
		n = (size_t)sprintf(b, "*4\r\n$3\r\nFOO\r\n$120\r\n");
		memset(b + n, 'a', 120);
		n += 120;
		n += (size_t)sprintf(b + n, "\r\n$20\r\n");
		memset(b + n, 'b', 20);
		n += 20;
		n += (size_t)sprintf(b + n, "\r\n$4\r\nc\r\nd\r\n" QUIT);
	}
	*len = n;
	return b;
}

/* Send `bytes` on a fresh connection; the transcript until EOF/idle. */
static int transcript(int port, const char *bytes, size_t len, bool idle,
		      char **out, size_t *outlen, bool *eof)
{
	struct rc_conn c;
	int r = rc_connect(&c, port, timeout_ms);

	if (r)
		return r;
	rc_send(&c, bytes, len);
	r = rc_drain(&c, idle ? 300 : timeout_ms, out, outlen, eof);
	rc_close(&c);
	return r;
}

static int fixed_tests(void)
{
	size_t i, bad = 0;

	for (i = 0; i < sizeof(fixed_cases) / sizeof(fixed_cases[0]); i++) {
		const struct fixed *f = &fixed_cases[i];
		size_t len = f->len ? f->len : f->bytes ? strlen(f->bytes) : 0;
		char *built = NULL, *ta = NULL, *tb = NULL, e1[600], e2[600];
		size_t la = 0, lb = 0;
		bool ea = false, eb = false;
		const char *bytes = f->bytes;

		if (!bytes) {
			built = build_case(f->name, &len);
			bytes = built;
		}
		if (transcript(port_a, bytes, len, f->idle, &ta, &la, &ea) ||
		    transcript(port_b, bytes, len, f->idle, &tb, &lb, &eb))
			bail_out("cannot reach a server");
		if (la != lb || memcmp(ta, tb, la) || ea != eb) {
			bad++;
			diag("fixed case '%s' differs:", f->name);
			esc(e1, sizeof(e1), ta, la);
			esc(e2, sizeof(e2), tb, lb);
			diag("  redis:    %s%s", e1, ea ? " <EOF>" : "");
			diag("  kvserver: %s%s", e2, eb ? " <EOF>" : "");
		}
		free(ta);
		free(tb);
		free(built);
	}
	ok(bad == 0, "%zu fixed protocol cases: same transcripts",
	   sizeof(fixed_cases) / sizeof(fixed_cases[0]));
	return 1;
}

/* ------------------------------------------------------------------ */
/* Big requests                                                        */
/* ------------------------------------------------------------------ */

/* Send raw bytes to both stream connections and compare one reply. */
static bool big_run(const char *what, const char *buf, size_t len)
{
	struct rc_reply a, b;
	bool same;

	if (rc_send(&ca, buf, len) || rc_send(&cb, buf, len))
		bail_out("cannot send to a server");
	if (rc_read(&ca, &a) || rc_read(&cb, &b)) {
		diag("%s: no reply", what);
		bail_out("a server stopped answering");
	}
	same = a.rawlen == b.rawlen && memcmp(a.raw, b.raw, a.rawlen) == 0;
	if (!same) {
		char e1[200], e2[200];

		esc(e1, sizeof(e1), a.raw, a.rawlen);
		esc(e2, sizeof(e2), b.raw, b.rawlen);
		diag("%s: redis %s, kvserver %s", what, e1, e2);
	}
	rc_reply_free(&a);
	rc_reply_free(&b);
	return same;
}

static int big_tests(void)
{
	size_t n = 0, cap = 0, i, mb = 1024 * 1024, nargs;
	char *buf = NULL, kb[32];
	const char *v[3];
	size_t l[3];
	bool good;

	/* 1 MiB value: SET then GET, and APPEND onto it. */
	v[0] = "SET";
	v[1] = "bigkey";
	v[2] = malloc(mb);
	memset((char *)v[2], 'v', mb);
	l[0] = 3;
	l[1] = 6;
	l[2] = mb;
	rc_encode(&buf, &n, &cap, 3, v, l);
	good = big_run("SET 1 MiB", buf, n);
	n = 0;
	v[0] = "GET";
	rc_encode(&buf, &n, &cap, 2, v, l);
	good = big_run("GET 1 MiB", buf, n) && good;
	free((char *)v[2]);
	ok(good, "a 1 MiB value: SET and GET answer alike");

	/* MGET of 10000 keys, half of them set. */
	n = 0;
	n += (size_t)sprintf(buf + n, "*10001\r\n$4\r\nMSET\r\n");
	for (i = 0; i < 5000; i++) {
		int kl = sprintf(kb, "mk:%zu", i * 2);

		if (n + 64 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n += (size_t)sprintf(buf + n, "$%d\r\n%s\r\n$%d\r\n%s\r\n", kl,
				     kb, kl, kb);
	}
	good = big_run("MSET 5000 keys", buf, n);
	n = 0;
	n += (size_t)sprintf(buf + n, "*10001\r\n$4\r\nMGET\r\n");
	for (i = 0; i < 10000; i++) {
		int kl = sprintf(kb, "mk:%zu", i);

		if (n + 64 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n += (size_t)sprintf(buf + n, "$%d\r\n%s\r\n", kl, kb);
	}
	good = big_run("MGET 10000 keys", buf, n) && good;
	ok(good, "MGET of 10000 keys: the same array");

	/*
	 * 1048577 arguments: past the 1024*1024 that Redis 6 refused and
	 * 7.0 accepts (up to INT_MAX). DEL of 1048576 keys, some set.
	 */
	nargs = 1048577;
	n = 0;
	if (cap < 24 * nargs) {
		cap = 24 * nargs;
		buf = realloc(buf, cap);
	}
	n += (size_t)sprintf(buf + n, "*%zu\r\n$3\r\nDEL\r\n", nargs);
	for (i = 0; i + 1 < nargs; i++) {
		int kl = sprintf(kb, "mk:%zu", i);

		n += (size_t)sprintf(buf + n, "$%d\r\n%s\r\n", kl, kb);
	}
	ok(big_run("DEL of 1048576 keys", buf, n),
	   "a command of 1048577 arguments: the same reply");
	free(buf);
	return 3;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	unsigned long long seed = tap_env_ull("RA_SEED", 0);
	unsigned long long count = tap_env_ull("RA_DIFF_COMMANDS", 10000);
	const char *scale = getenv("RA_TEST_TIME_SCALE");

	if (argc != 3)
		bail_out("usage: kvdiff REDIS_PORT KVSERVER_PORT");
	port_a = atoi(argv[1]);
	port_b = atoi(argv[2]);
	if (scale && atoi(scale) > 0)
		timeout_ms *= atoi(scale);
	tap_timeout(300);
	if (!seed)
		seed = (unsigned long long)time(NULL) ^
		       ((unsigned long long)getpid() << 16);
	rng_state = seed;
	start_s = (int64_t)time(NULL);
	plan(5);
	diag("seed %llu", seed);
	if (rc_connect(&ca, port_a, timeout_ms) ||
	    rc_connect(&cb, port_b, timeout_ms))
		bail_out("cannot connect to the servers");
	{
		struct cmd c = { 0 };

		args(&c, "FLUSHALL");
		run_free(&c);
	}
	while (nrun < count)
		step();
	ok(ndiff == 0, "%lu commands (seed %llu; %lu in pipelines, %lu of "
	   "them inline): %lu different replies", nrun, seed, nbatched,
	   ninline, ndiff);
	fixed_tests();
	big_tests();
	rc_close(&ca);
	rc_close(&cb);
	return exit_status();
}
