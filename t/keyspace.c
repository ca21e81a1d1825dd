/*
 * t/keyspace.c: the kvserver example's hash table (set, get, delete,
 * overwrite, growth and shrinking, lazy and active expiry on a fake
 * clock), the key hash and routing, and the owner's side of
 * sub-requests, which must survive any bytes. Run it under valgrind to
 * check that nothing leaks.
 *
 * RA_SEED and RA_ITERS steer the randomized parts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "testutil.h"
#include "examples/kvserver/resp.h"
#include "examples/kvserver/keyspace.h"
#include "examples/kvserver/store.h"
#include "examples/kvserver/subreq.h"

#define NOW 1700000000000LL	/* Unix ms */
#define NTESTS 63

/* Does `key` hold exactly the string `want` (NULL: absent)? */
static int holds(struct keyspace *ks, const char *key, size_t klen,
		 const char *want, int64_t now)
{
	struct kv_entry *e = ks_find(ks, key, klen, now);

	if (!want)
		return e == NULL;
	return e && e->type == KV_STRING && e->vlen == strlen(want) &&
	       memcmp(kv_entry_str(e), want, e->vlen) == 0;
}

/* A string with no expiry, as plain SET makes it. */
static int set(struct keyspace *ks, const char *key, size_t klen,
	       const char *val, size_t vlen)
{
	return ks_set_string(ks, key, klen, val, vlen, false, NULL);
}

/* A string that expires at `when` (Unix ms). */
static int set_ex(struct keyspace *ks, const char *key, const char *val,
		  int64_t when)
{
	struct kv_entry *e;

	return ks_set_string(ks, key, strlen(key), val, strlen(val), false,
			     &e) || ks_set_expire(ks, e, when);
}

static void basic_tests(void)
{
	struct keyspace *ks;
	char big[3000];

	ok(ks_create(&ks) == 0 && ks, "create");
	ok(holds(ks, "a", 1, NULL, NOW), "empty keyspace has no key");
	ok(set(ks, "a", 1, "one", 3) == 0 &&
	   holds(ks, "a", 1, "one", NOW), "set then get");
	ok(set(ks, "a", 1, "uno", 3) == 0 &&
	   holds(ks, "a", 1, "uno", NOW) && ks_count(ks) == 1,
	   "overwrite, same length, one key");
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(set(ks, "a", 1, big, strlen(big)) == 0 &&
	   holds(ks, "a", 1, big, NOW), "overwrite with a longer value");
	ok(set(ks, "a", 1, "x", 1) == 0 &&
	   holds(ks, "a", 1, "x", NOW), "overwrite with a much shorter value");
	ok(set(ks, "a", 1, "", 0) == 0 &&
	   holds(ks, "a", 1, "", NOW), "empty value is a value");
	ok(set(ks, "a\0b", 3, "nul", 3) == 0 &&
	   holds(ks, "a\0b", 3, "nul", NOW) && holds(ks, "a", 1, "", NOW) &&
	   holds(ks, "a\0", 2, NULL, NOW), "keys are binary-safe");
	ok(set(ks, "", 0, "empty", 5) == 0 &&
	   holds(ks, "", 0, "empty", NOW), "the empty key");
	is_int(ks_del(ks, "a", 1, NOW), 1, "del of a key gives 1");
	is_int(ks_del(ks, "a", 1, NOW), 0, "del again gives 0");
	ok(holds(ks, "a", 1, NULL, NOW) && holds(ks, "a\0b", 3, "nul", NOW),
	   "del removed only its key");
	is_int(ks_count(ks), 2, "count");
	/* Nothing to assert: the ASan build checks for leaks and bad frees. */
	ks_destroy(ks);
	ks_destroy(NULL);
}

static void key_name(char *buf, size_t sz, unsigned i)
{
	snprintf(buf, sz, "key:%u", i);
}

static void growth_tests(void)
{
	const unsigned n = 100000;
	struct keyspace *ks;
	unsigned i, bad = 0;
	char k[32], v[32];

	ks_create(&ks);
	for (i = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		snprintf(v, sizeof(v), "v%u", i * 7);
		if (set(ks, k, strlen(k), v, strlen(v)))
			bad++;
	}
	ok(bad == 0 && ks_count(ks) == n, "100k keys inserted");
	ok(ks_buckets(ks) * 3 >= (size_t)n * 4 && ks_buckets(ks) <= 4 * n,
	   "table grew to keep load <= 3/4 (%zu buckets)", ks_buckets(ks));
	for (i = 0, bad = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		snprintf(v, sizeof(v), "v%u", i * 7);
		if (!holds(ks, k, strlen(k), v, NOW))
			bad++;
	}
	is_int(bad, 0, "every one of 100k keys found with its value");
	for (i = 0, bad = 0; i < n; i += 2) {
		key_name(k, sizeof(k), i);
		if (ks_del(ks, k, strlen(k), NOW) != 1)
			bad++;
	}
	is_int(bad, 0, "deleted every other key");
	for (i = 0, bad = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		snprintf(v, sizeof(v), "v%u", i * 7);
		if (!holds(ks, k, strlen(k), i % 2 ? v : NULL, NOW))
			bad++;
	}
	ok(bad == 0 && ks_count(ks) == n / 2,
	   "after deletes the rest are intact (deletion keeps probe chains)");
	for (i = 0, bad = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if (set(ks, k, strlen(k), "again", 5))
			bad++;
	}
	for (i = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if (!holds(ks, k, strlen(k), "again", NOW))
			bad++;
	}
	ok(bad == 0 && ks_count(ks) == n, "re-insert and overwrite all 100k");
	for (i = 0, bad = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if (i % 100 && ks_del(ks, k, strlen(k), NOW) != 1)
			bad++;
	}
	ok(bad == 0 && ks_count(ks) == n / 100 &&
	   ks_buckets(ks) <= (size_t)n / 100 * 8,
	   "the table shrinks as keys go (%zu buckets for %zu keys)",
	   ks_buckets(ks), ks_count(ks));
	for (i = 0, bad = 0; i < n; i += 100) {
		key_name(k, sizeof(k), i);
		if (!holds(ks, k, strlen(k), "again", NOW))
			bad++;
	}
	is_int(bad, 0, "and the keys left are all found after shrinking");
	ks_flush(ks);
	ok(ks_count(ks) == 0 && ks_buckets(ks) == 16 &&
	   holds(ks, "key:0", 5, NULL, NOW), "flush empties it");
	ks_destroy(ks);
}

/*
 * Random operations on a small key space checked against a plain array:
 * many collisions and deletions in the same clusters, which is where
 * backward-shift deletion goes wrong if it does.
 */
static void model_tests(unsigned long long iters)
{
	enum { NK = 300 };
	static char model[NK][16];
	static int present[NK];
	struct keyspace *ks;
	unsigned long long it;
	unsigned bad = 0, i;

	memset(present, 0, sizeof(present));
	ks_create(&ks);
	for (it = 0; it < iters; it++) {
		unsigned key = rn(NK);
		char k[16];

		snprintf(k, sizeof(k), "m%u", key);
		switch (rn(3)) {
		case 0:
			snprintf(model[key], sizeof(model[key]), "%u",
				 (unsigned)rn(100000));
			present[key] = 1;
			if (set(ks, k, strlen(k), model[key],
				strlen(model[key])))
				bad++;
			break;
		case 1:
			if (ks_del(ks, k, strlen(k), NOW) != present[key])
				bad++;
			present[key] = 0;
			break;
		default:
			if (!holds(ks, k, strlen(k),
				   present[key] ? model[key] : NULL, NOW))
				bad++;
			break;
		}
	}
	for (i = 0; i < NK; i++) {
		char k[16];

		snprintf(k, sizeof(k), "m%u", i);
		if (!holds(ks, k, strlen(k), present[i] ? model[i] : NULL,
			   NOW))
			bad++;
	}
	is_int(bad, 0, "%llu random set/del/get agree with a model", iters);
	ks_destroy(ks);
}

/* Redis' rule: alive at its expiry time, gone 1 ms later. */
static void expiry_tests(void)
{
	struct keyspace *ks;
	struct kv_entry *e;
	const int64_t t = NOW;

	ks_create(&ks);
	set_ex(ks, "e", "v", t + 100);
	ok(holds(ks, "e", 1, "v", t + 100), "alive at its expiry time");
	ok(holds(ks, "e", 1, NULL, t + 101), "gone 1 ms later");
	ok(ks_count(ks) == 0 && ks_expired(ks) == 1,
	   "lazily removed by the access that saw it, and counted");
	set_ex(ks, "e", "v", t + 100);
	is_int(ks_del(ks, "e", 1, t + 200), 0,
	       "del of an expired key counts as nothing");
	set_ex(ks, "f", "1", t + 100);
	ks_set_string(ks, "f", 1, "2", 1, true, NULL);
	ok(holds(ks, "f", 1, "2", t + 100) && holds(ks, "f", 1, NULL, t + 101),
	   "keep_ttl keeps the expiry");
	set_ex(ks, "g", "1", t + 100);
	set(ks, "g", 1, "2", 1);
	ok(holds(ks, "g", 1, "2", t + 1000000) && ks_volatile(ks) == 0,
	   "a plain set clears the expiry");
	ks_set_string(ks, "n", 1, "1", 1, true, &e);
	ok(e->expire_at == 0 && holds(ks, "n", 1, "1", INT64_MAX),
	   "keep_ttl on a new key means no expiry");
	set_ex(ks, "h", "1", t + 100);
	e = ks_find(ks, "h", 1, t);
	ks_set_expire(ks, e, 0);
	ok(holds(ks, "h", 1, "1", t + 1000) && ks_volatile(ks) == 0,
	   "expiry 0 makes a key persistent");
	ks_destroy(ks);
}

/*
 * Active expiry: keys never touched again go by sampling, while keys
 * with a later time or none stay. Each pass samples until a sample finds
 * at most a quarter expired, as Redis' cycle does; passes repeat (the
 * server runs one per tick) until only live keys are left.
 */
static void sampling_tests(void)
{
	const unsigned n = 20000;
	struct keyspace *ks;
	unsigned i, sampled, passes = 0, bad = 0;
	uint64_t samples = 0;
	char k[32];

	ks_create(&ks);
	for (i = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if (i % 4 == 0)
			set(ks, k, strlen(k), "forever", 7);
		else
			set_ex(ks, k, "v", i % 4 == 1 ? NOW + 1000000 : NOW);
	}
	is_int(ks_volatile(ks), n / 4 * 3, "keys with a time are indexed");
	while (ks_count(ks) > n / 2 && passes++ < 100000) {
		for (;;) {
			unsigned g = ks_expire_sample(ks, NOW + 1, 20,
						      &sampled);

			samples++;
			if (sampled == 0 || g * 4 <= sampled)
				break;
		}
	}
	ok(ks_count(ks) == n / 2 && ks_expired(ks) == n / 2,
	   "sampling removed all %u expired keys (%u passes, %llu samples)",
	   n / 2, passes, (unsigned long long)samples);
	for (i = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if ((i % 4 == 0 || i % 4 == 1) !=
		    (ks_find(ks, k, strlen(k), NOW + 1) != NULL))
			bad++;
	}
	is_int(bad, 0, "the ones with no time or a later one are all there");
	ok(ks_buckets(ks) <= (size_t)n * 2,
	   "the table shrank with them (%zu buckets)", ks_buckets(ks));
	ks_destroy(ks);
}

static void hash_tests(void)
{
	enum { N = 100000, SH = 4 };
	static uint64_t hs[N];
	unsigned counts[SH] = { 0 }, i, dup = 0, skew = 0;
	char k[32];

	ok(kv_key_hash("abc", 3) == kv_key_hash("abc", 3) &&
	   kv_key_hash("abc", 3) != kv_key_hash("abd", 3) &&
	   kv_key_hash("", 0) != kv_key_hash("\0", 1) &&
	   kv_key_hash("12345678", 8) != kv_key_hash("123456789", 9),
	   "hash is a function of the bytes and the length");
	for (i = 0; i < N; i++) {
		key_name(k, sizeof(k), i);
		hs[i] = kv_key_hash(k, strlen(k));
		counts[kv_key_shard(k, strlen(k), SH)]++;
	}
	for (i = 0; i < N; i++) {
		unsigned j;

		/* Neighbours differ in one digit: the worst case for a hash. */
		for (j = i + 1; j < N && j < i + 64; j++)
			if (hs[i] == hs[j])
				dup++;
	}
	is_int(dup, 0, "no 64-bit collisions among neighbouring keys");
	for (i = 0; i < SH; i++)
		if (counts[i] < N / SH * 9 / 10 || counts[i] > N / SH * 11 / 10)
			skew++;
	ok(skew == 0, "4 shards get 25%% +-10%% each (%u %u %u %u)",
	   counts[0], counts[1], counts[2], counts[3]);
	for (i = 0, skew = 0; i < N; i++) {
		key_name(k, sizeof(k), i);
		if (kv_key_shard(k, strlen(k), 1) != 0 ||
		    kv_key_shard(k, strlen(k), 7) >= 7)
			skew++;
	}
	is_int(skew, 0, "kv_key_shard stays in range");
	{
		/*
		 * The keys one shard of two owns must still use all bucket
		 * parities: the table indexes with the low bits.
		 */
		unsigned odd = 0, even = 0;

		for (i = 0; i < N; i++) {
			key_name(k, sizeof(k), i);
			if (kv_key_shard(k, strlen(k), 2) != 0)
				continue;
			if (hs[i] & 1)
				odd++;
			else
				even++;
		}
		ok(odd > N / 5 && even > N / 5,
		   "a shard's keys still spread over odd and even buckets");
	}
}

/* Parse one inline command from `line` (which must end in '\n'). */
static int parse_line(struct resp_parser *p, const char *line,
		      struct resp_cmd *cmd)
{
	size_t used;

	resp_parser_init(p, NULL);
	return resp_parse(p, line, strlen(line), cmd, &used) == RESP_CMD ? 0
									 : -1;
}

static struct kv_cstate cstate;

static int prepare(const struct resp_cmd *cmd, struct kv_request *req,
		   struct resp_buf *out)
{
	struct kv_local l = { .cfg = &kv_default_config, .cs = &cstate,
			      .out = out };

	return kv_request_prepare(cmd, &l, req);
}

static void route_tests(void)
{
	const char *line = "MGET a b c d e f g h i j k l\r\n";
	struct resp_parser p;
	struct resp_cmd cmd;
	struct kv_request req;
	struct kv_route rt;
	struct resp_buf out;
	uint32_t i;
	unsigned bad = 0;

	resp_buf_init(&out);
	parse_line(&p, line, &cmd);
	ok(prepare(&cmd, &req, &out) == 1 && req.nkeys == 12 && out.len == 0,
	   "MGET of 12 keys is prepared, no reply yet");
	ok(kv_route_init(&rt, &req, 3) == 0 && rt.nparts == 3 && rt.key_part,
	   "12 keys over 3 shards make 3 parts");
	for (i = 0; i < req.nkeys; i++) {
		struct resp_str k = kv_request_key(&req, i);

		if (rt.key_part[i] >= rt.nparts ||
		    rt.part_shard[rt.key_part[i]] !=
		    kv_key_shard(k.p, k.len, 3))
			bad++;
	}
	is_int(bad, 0, "each key's part goes to the shard that owns it");
	ok(rt.key_part[0] == 0, "parts are numbered by first appearance");
	kv_route_fini(&rt);
	ok(kv_route_init(&rt, &req, 1) == 0 && rt.nparts == 1 &&
	   !rt.key_part && rt.part_shard[0] == 0,
	   "one shard: one part and no map");
	kv_route_fini(&rt);
	resp_parser_fini(&p);

	parse_line(&p, "GET somekey\r\n", &cmd);
	prepare(&cmd, &req, &out);
	ok(kv_route_init(&rt, &req, 5) == 0 && rt.nparts == 1 &&
	   !rt.key_part &&
	   rt.part_shard[0] == kv_key_shard("somekey", 7, 5),
	   "one key: no allocation, routed to its owner");
	kv_route_fini(&rt);
	resp_parser_fini(&p);

	parse_line(&p, "DEL x x x x\r\n", &cmd);
	prepare(&cmd, &req, &out);
	ok(kv_route_init(&rt, &req, 5) == 0 && rt.nparts == 1 &&
	   !rt.key_part, "many keys on one shard: one part, no map");
	kv_route_fini(&rt);
	resp_parser_fini(&p);

	parse_line(&p, "DBSIZE\r\n", &cmd);
	prepare(&cmd, &req, &out);
	ok(kv_route_init(&rt, &req, 4) == 0 && rt.nparts == 4 &&
	   rt.part_shard[0] == 0 && rt.part_shard[3] == 3,
	   "DBSIZE goes to every shard, part i to shard i");
	kv_route_fini(&rt);
	resp_parser_fini(&p);
	resp_buf_fini(&out);
}

static bool is_bytes(const struct resp_buf *b, const char *want)
{
	return b->len == strlen(want) && memcmp(b->data, want, b->len) == 0;
}

/* Encode, execute and merge by hand, checking the bytes between. */
static void codec_tests(void)
{
	struct resp_parser p;
	struct resp_cmd cmd;
	struct kv_request req;
	struct resp_buf rq, rep, out;
	struct kv_store *st;
	struct kv_subreq sr;
	struct resp_str a;
	struct kv_part part;
	struct kv_reply_src src;
	uint32_t seq;
	uint16_t partno;
	size_t cut;
	unsigned bad = 0;

	kv_store_create(NULL, &st);
	resp_buf_init(&rq);
	resp_buf_init(&rep);
	resp_buf_init(&out);

	parse_line(&p, "SET key:000000012345 xyz\r\n", &cmd);
	prepare(&cmd, &req, &out);
	is_int(kv_subreq_encode(&rq, &req, 77, 0, NULL), 0, "SET encodes");
	ok(rq.len <= 48, "a redis-benchmark SET fits in an inline payload "
	   "(%zu bytes)", rq.len);
	ok(kv_subreq_open(&sr, rq.data, rq.len) == 0 && sr.seq == 77 &&
	   sr.cmd == KV_CMD_SET && sr.nargs == 2 &&
	   kv_subreq_next(&sr, &a) == 1 && a.len == 16 &&
	   kv_subreq_next(&sr, &a) == 1 && memcmp(a.p, "xyz", 3) == 0,
	   "sub-request decodes to what was encoded");
	ok(kv_store_exec(st, rq.data, rq.len, NOW, &rep) == 0 &&
	   kv_subreply_peek(rep.data, rep.len, &seq, &partno) == 0 &&
	   seq == 77 && partno == 0, "kv_store_exec answers with seq, part");
	part.p = rep.data;
	part.len = rep.len;
	src = (struct kv_reply_src){ .cmd = req.cmd, .parts = &part,
				     .nparts = 1 };
	ok(kv_reply_merge(&src, &out) == 0 && is_bytes(&out, "+OK\r\n"),
	   "a KEY command's reply comes back as is");
	resp_parser_fini(&p);

	/* Every truncation of a valid request is refused, reply untouched. */
	parse_line(&p, "MSET a 1 bb 22 ccc 333\r\n", &cmd);
	prepare(&cmd, &req, &out);
	rq.len = 0;
	kv_subreq_encode(&rq, &req, 1, 0, NULL);
	for (cut = 0; cut < rq.len; cut++) {
		char *copy = malloc(cut ? cut : 1);

		memcpy(copy, rq.data, cut);
		rep.len = 3;
		if (kv_store_exec(st, copy, cut, NOW, &rep) != -EINVAL ||
		    rep.len != 3)
			bad++;
		free(copy);
	}
	is_int(bad, 0, "every truncated sub-request gives -EINVAL");
	rq.data[6] = 99;	/* no such command */
	rep.len = 0;
	is_int(kv_store_exec(st, rq.data, rq.len, NOW, &rep), -EINVAL,
	       "an unknown command gives -EINVAL");
	rq.data[6] = KV_CMD_PING;
	is_int(kv_store_exec(st, rq.data, rq.len, NOW, &rep), -EINVAL,
	       "a connection's command gives -EINVAL");
	rq.data[6] = KV_CMD_MSET;
	rq.data[7] = 16;
	is_int(kv_store_exec(st, rq.data, rq.len, NOW, &rep), -EINVAL,
	       "a database past the last gives -EINVAL");
	resp_parser_fini(&p);

	/* MGET over two parts: one lost, one malformed, one short. */
	parse_line(&p, "MGET a bb\r\n", &cmd);
	prepare(&cmd, &req, &out);
	{
		uint16_t key_part[2] = { 0, 1 };
		struct kv_part parts[2];
		struct resp_buf r0, r1;
		const char *lost =
			"-ERR internal error: shard reply lost or malformed\r\n";

		resp_buf_init(&r0);
		resp_buf_init(&r1);
		kv_subreply_begin(&r0, 1, 0, 1);
		kv_subreply_bulk(&r0, "1", 1);
		kv_subreply_begin(&r1, 1, 1, 1);
		kv_subreply_bulk(&r1, "22", 2);
		parts[0].p = r0.data;
		parts[0].len = r0.len;
		parts[1].p = r1.data;
		parts[1].len = r1.len;
		src = (struct kv_reply_src){ .cmd = req.cmd, .nkeys = 2,
					     .key_part = key_part,
					     .parts = parts, .nparts = 2 };
		out.len = 0;
		kv_reply_merge(&src, &out);
		ok(is_bytes(&out, "*2\r\n$1\r\n1\r\n$2\r\n22\r\n"),
		   "two parts merge in key order");
		out.len = 0;
		key_part[0] = 1;
		key_part[1] = 0;
		kv_reply_merge(&src, &out);
		ok(is_bytes(&out, "*2\r\n$2\r\n22\r\n$1\r\n1\r\n"),
		   "key_part decides whose result comes first");
		parts[1].p = NULL;
		out.len = 0;
		kv_reply_merge(&src, &out);
		ok(is_bytes(&out, lost),
		   "a lost part gives an error, not a partial array");
		parts[1].p = r1.data;
		parts[1].len = r1.len - 1;
		out.len = 0;
		kv_reply_merge(&src, &out);
		ok(is_bytes(&out, lost), "a truncated part gives an error");
		kv_subreply_int(&r1, 5);
		parts[1].p = r1.data;
		parts[1].len = r1.len;
		out.len = 0;
		kv_reply_merge(&src, &out);
		ok(is_bytes(&out, lost),
		   "a part with extra results gives an error");
		resp_buf_fini(&r0);
		resp_buf_fini(&r1);
	}
	resp_parser_fini(&p);
	resp_buf_fini(&rq);
	resp_buf_fini(&rep);
	resp_buf_fini(&out);
	kv_store_destroy(st);
}

/*
 * A well-formed sub-request of a random command with random arguments,
 * so that the runners meet every argument count, kind and type of key.
 */
static size_t plausible(unsigned char *buf, size_t cap)
{
	static const char *const words[] = {
		"k", "k2", "1", "-1", "0", "x", "", "EX", "PX", "NX", "XX",
		"GET", "KEEPTTL", "GT", "LT", "CH", "INCR", "REV", "LIMIT",
		"BYSCORE", "BYLEX", "WITHSCORES", "(1", "[a", "+", "-", "inf",
		"9223372036854775807", "1.5", "*", "k*", "SYNC",
	};
	size_t len = KV_SUBREQ_HDR;
	uint32_t nargs = rn(7), i, n;

	memset(buf, 0, KV_SUBREQ_HDR);
	buf[6] = (unsigned char)rn(KV_CMD_COUNT);
	buf[7] = (unsigned char)rn(3);
	memcpy(buf + 8, &nargs, 4);
	for (i = 0; i < nargs; i++) {
		const char *w = words[rn(sizeof(words) / sizeof(words[0]))];

		n = (uint32_t)strlen(w);
		if (len + 4 + n > cap)
			break;
		memcpy(buf + len, &n, 4);
		memcpy(buf + len + 4, w, n);
		len += 4 + n;
	}
	return len;
}

/* Random bytes and mutated sub-requests: kv_store_exec must not crash. */
static void exec_fuzz(unsigned long long iters)
{
	struct kv_store *st;
	struct resp_buf rep;
	unsigned long long it, ok0 = 0, inval = 0, other = 0;

	kv_store_create(NULL, &st);
	resp_buf_init(&rep);
	for (it = 0; it < iters; it++) {
		unsigned char buf[128];
		size_t len = rn(sizeof(buf) + 1), i;
		int r;

		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)rnd();
		if (rn(2) == 0) {
			len = plausible(buf, sizeof(buf));
			if (rn(8) == 0)	/* and now and then a byte off */
				buf[rn((unsigned)len)] ^= (unsigned char)(1u << rn(8));
		} else if (len >= KV_SUBREQ_HDR && rn(4)) {
			/* A plausible header so that the body is reached. */
			buf[6] = (unsigned char)rn(KV_CMD_COUNT + 2);
			buf[7] = (unsigned char)rn(18);
			buf[8] = (unsigned char)rn(6);
			buf[9] = buf[10] = buf[11] = 0;
			for (i = KV_SUBREQ_HDR; i + 4 <= len; i += 4 + rn(6)) {
				buf[i] = (unsigned char)rn(6);
				buf[i + 1] = buf[i + 2] = buf[i + 3] = 0;
			}
		}
		{
			/* A tight copy, so that reading past it is caught. */
			unsigned char *copy = malloc(len ? len : 1);

			memcpy(copy, buf, len);
			rep.len = 0;
			r = kv_store_exec(st, copy, len, NOW + (int64_t)it,
					  &rep);
			free(copy);
		}
		if (r == 0)
			ok0++;
		else if (r == -EINVAL && rep.len == 0)
			inval++;
		else
			other++;
	}
	diag("kv_store_exec fuzz: %llu accepted, %llu refused", ok0, inval);
	ok(other == 0 && ok0 > 0 && inval > 0,
	   "kv_store_exec on %llu random inputs: only 0 or -EINVAL", iters);
	resp_buf_fini(&rep);
	kv_store_destroy(st);
}

int main(void)
{
	unsigned long long seed = tap_env_ull("RA_SEED", 0);
	unsigned long long iters = tap_env_ull("RA_ITERS", 200000);

	tap_timeout(120);
	if (!seed)
		seed = (unsigned long long)time(NULL) ^
		       ((unsigned long long)getpid() << 16);
	rng_state = seed;
	plan(NTESTS);
	diag("seed %llu", seed);
	basic_tests();
	growth_tests();
	model_tests(iters);
	expiry_tests();
	sampling_tests();
	hash_tests();
	route_tests();
	codec_tests();
	exec_fuzz(iters);
	return exit_status();
}
