/*
 * t/keyspace.c: the kvserver example's hash table (set, get, delete,
 * overwrite, growth, lazy expiry on a fake clock), the key hash and
 * routing, and the owner's side of sub-requests, which must survive any
 * bytes. Run it under valgrind to check that nothing leaks.
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

#define NOW 5000000000ULL

/* Does `key` hold exactly `want` (NULL: absent)? */
static int holds(struct keyspace *ks, const char *key, size_t klen,
		 const char *want, uint64_t now)
{
	const char *v;
	size_t vl;
	int r = ks_get(ks, key, klen, now, &v, &vl);

	if (!want)
		return r == 0;
	return r == 1 && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

static void basic_tests(void)
{
	struct keyspace *ks;
	char big[3000];

	ok(ks_create(&ks) == 0 && ks, "create");
	ok(holds(ks, "a", 1, NULL, NOW), "empty keyspace has no key");
	ok(ks_set(ks, "a", 1, "one", 3, 0, NOW) == 0 &&
	   holds(ks, "a", 1, "one", NOW), "set then get");
	ok(ks_set(ks, "a", 1, "uno", 3, 0, NOW) == 0 &&
	   holds(ks, "a", 1, "uno", NOW) && ks_count(ks) == 1,
	   "overwrite, same length, one key");
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(ks_set(ks, "a", 1, big, strlen(big), 0, NOW) == 0 &&
	   holds(ks, "a", 1, big, NOW), "overwrite with a longer value");
	ok(ks_set(ks, "a", 1, "x", 1, 0, NOW) == 0 &&
	   holds(ks, "a", 1, "x", NOW), "overwrite with a much shorter value");
	ok(ks_set(ks, "a", 1, "", 0, 0, NOW) == 0 &&
	   holds(ks, "a", 1, "", NOW), "empty value is a value");
	ok(ks_set(ks, "a\0b", 3, "nul", 3, 0, NOW) == 0 &&
	   holds(ks, "a\0b", 3, "nul", NOW) && holds(ks, "a", 1, "", NOW) &&
	   holds(ks, "a\0", 2, NULL, NOW), "keys are binary-safe");
	ok(ks_set(ks, "", 0, "empty", 5, 0, NOW) == 0 &&
	   holds(ks, "", 0, "empty", NOW), "the empty key");
	is_int(ks_del(ks, "a", 1, NOW), 1, "del of a key gives 1");
	is_int(ks_del(ks, "a", 1, NOW), 0, "del again gives 0");
	ok(holds(ks, "a", 1, NULL, NOW) && holds(ks, "a\0b", 3, "nul", NOW),
	   "del removed only its key");
	is_int(ks_count(ks), 2, "count");
	ks_destroy(ks);
	ks_destroy(NULL);
	ok(1, "destroy, and destroy(NULL) is a no-op");
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
		if (ks_set(ks, k, strlen(k), v, strlen(v), 0, NOW))
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
		if (ks_set(ks, k, strlen(k), "again", 5, 0, NOW))
			bad++;
	}
	for (i = 0; i < n; i++) {
		key_name(k, sizeof(k), i);
		if (!holds(ks, k, strlen(k), "again", NOW))
			bad++;
	}
	ok(bad == 0 && ks_count(ks) == n, "re-insert and overwrite all 100k");
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
			if (ks_set(ks, k, strlen(k), model[key],
				   strlen(model[key]), 0, NOW))
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

static void expiry_tests(void)
{
	struct keyspace *ks;
	const uint64_t t = NOW;

	ks_create(&ks);
	ks_set(ks, "e", 1, "v", 1, t + 100, t);
	ok(holds(ks, "e", 1, "v", t + 99), "alive before its expiry");
	ok(holds(ks, "e", 1, NULL, t + 100), "gone at its expiry");
	is_int(ks_count(ks), 0, "lazily removed by the access that saw it");
	ks_set(ks, "e", 1, "v", 1, t + 100, t);
	is_int(ks_del(ks, "e", 1, t + 200), 0,
	       "del of an expired key counts as nothing");
	ks_set(ks, "f", 1, "1", 1, t + 100, t);
	ks_set(ks, "f", 1, "2", 1, KS_KEEP_TTL, t);
	ok(holds(ks, "f", 1, "2", t + 99) && holds(ks, "f", 1, NULL, t + 100),
	   "KS_KEEP_TTL keeps the expiry");
	ks_set(ks, "g", 1, "1", 1, t + 100, t);
	ks_set(ks, "g", 1, "2", 1, 0, t);
	ok(holds(ks, "g", 1, "2", t + 1000000), "0 clears the expiry");
	ks_set(ks, "h", 1, "1", 1, t + 100, t);
	ks_set(ks, "h", 1, "2", 1, KS_KEEP_TTL, t + 150);
	ok(holds(ks, "h", 1, "2", t + 100000),
	   "KS_KEEP_TTL on an expired key means no expiry");
	ks_set(ks, "n", 1, "1", 1, KS_KEEP_TTL, t);
	ok(holds(ks, "n", 1, "1", UINT64_MAX - 1),
	   "KS_KEEP_TTL on a new key means no expiry");
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

	resp_parser_init(p);
	return resp_parse(p, line, strlen(line), cmd, &used) == RESP_CMD ? 0
									 : -1;
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
	ok(kv_request_prepare(&cmd, &req, &out) == 1 && req.nkeys == 12 &&
	   out.len == 0, "MGET of 12 keys is prepared, no reply yet");
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
	kv_request_prepare(&cmd, &req, &out);
	ok(kv_route_init(&rt, &req, 5) == 0 && rt.nparts == 1 &&
	   !rt.key_part &&
	   rt.part_shard[0] == kv_key_shard("somekey", 7, 5),
	   "one key: no allocation, routed to its owner");
	kv_route_fini(&rt);
	resp_parser_fini(&p);

	parse_line(&p, "DEL x x x x\r\n", &cmd);
	kv_request_prepare(&cmd, &req, &out);
	ok(kv_route_init(&rt, &req, 5) == 0 && rt.nparts == 1 &&
	   !rt.key_part, "many keys on one shard: one part, no map");
	kv_route_fini(&rt);
	resp_parser_fini(&p);
	resp_buf_fini(&out);
}

/* Encode, execute and merge by hand, checking the bytes between. */
static void codec_tests(void)
{
	struct resp_parser p;
	struct resp_cmd cmd;
	struct kv_request req;
	struct resp_buf rq, rep, out;
	struct keyspace *ks;
	struct kv_subreq sr;
	struct resp_str k, v;
	struct kv_part part;
	uint32_t seq;
	uint16_t partno;
	size_t cut;
	unsigned bad = 0;

	ks_create(&ks);
	resp_buf_init(&rq);
	resp_buf_init(&rep);
	resp_buf_init(&out);

	parse_line(&p, "SET key:000000012345 xyz PX 5000 NX\r\n", &cmd);
	kv_request_prepare(&cmd, &req, &out);
	is_int(kv_subreq_encode(&rq, &req, 77, 0, NULL), 1,
	       "SET encodes one key");
	ok(rq.len <= 48, "a redis-benchmark SET fits in an inline payload "
	   "(%zu bytes)", rq.len);
	ok(kv_subreq_open(&sr, rq.data, rq.len) == 0 && sr.seq == 77 &&
	   sr.op == KV_OP_SET && sr.ttl_ms == 5000 &&
	   sr.flags == (KV_SET_TTL | KV_SET_NX) && sr.nkeys == 1 &&
	   kv_subreq_next(&sr, &k, &v) == 1 && k.len == 16 &&
	   memcmp(v.p, "xyz", 3) == 0 && kv_subreq_next(&sr, &k, &v) == 0,
	   "sub-request decodes to what was encoded");
	ok(kv_exec(ks, rq.data, rq.len, NOW, &rep) == 0 &&
	   kv_subreply_peek(rep.data, rep.len, &seq, &partno) == 0 &&
	   seq == 77 && partno == 0, "kv_exec answers with seq and part");
	part.p = rep.data;
	part.len = rep.len;
	ok(kv_reply_merge(req.cmd, 1, NULL, &part, 1, &out) == 0 &&
	   out.len == 5 && memcmp(out.data, "+OK\r\n", 5) == 0,
	   "merge of one OK is +OK");
	resp_parser_fini(&p);

	/* Every truncation of a valid request is refused, reply untouched. */
	parse_line(&p, "MSET a 1 bb 22 ccc 333\r\n", &cmd);
	kv_request_prepare(&cmd, &req, &out);
	rq.len = 0;
	kv_subreq_encode(&rq, &req, 1, 0, NULL);
	for (cut = 0; cut < rq.len; cut++) {
		char *copy = malloc(cut ? cut : 1);

		memcpy(copy, rq.data, cut);
		rep.len = 3;
		if (kv_exec(ks, copy, cut, NOW, &rep) != -EINVAL ||
		    rep.len != 3)
			bad++;
		free(copy);
	}
	is_int(bad, 0, "every truncated sub-request gives -EINVAL");
	rq.data[6] = 99;	/* op */
	rep.len = 0;
	is_int(kv_exec(ks, rq.data, rq.len, NOW, &rep), -EINVAL,
	       "unknown op gives -EINVAL");
	resp_parser_fini(&p);

	/* MGET over two parts: one lost, one malformed, one short. */
	parse_line(&p, "MGET a bb\r\n", &cmd);
	kv_request_prepare(&cmd, &req, &out);
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
		out.len = 0;
		kv_reply_merge(req.cmd, 2, key_part, parts, 2, &out);
		ok(out.len == 19 &&
		   memcmp(out.data, "*2\r\n$1\r\n1\r\n$2\r\n22\r\n", 19) == 0,
		   "two parts merge in key order");
		out.len = 0;
		key_part[0] = 1;
		key_part[1] = 0;
		kv_reply_merge(req.cmd, 2, key_part, parts, 2, &out);
		ok(out.len == 19 &&
		   memcmp(out.data, "*2\r\n$2\r\n22\r\n$1\r\n1\r\n", 19) == 0,
		   "key_part decides whose result comes first");
		parts[1].p = NULL;
		out.len = 0;
		kv_reply_merge(req.cmd, 2, key_part, parts, 2, &out);
		ok(out.len == strlen(lost) && memcmp(out.data, lost,
						     out.len) == 0,
		   "a lost part gives an error, not a partial array");
		parts[1].p = r1.data;
		parts[1].len = r1.len - 1;
		out.len = 0;
		kv_reply_merge(req.cmd, 2, key_part, parts, 2, &out);
		ok(out.len == strlen(lost) && memcmp(out.data, lost,
						     out.len) == 0,
		   "a truncated part gives an error");
		kv_subreply_int(&r1, 5);
		parts[1].p = r1.data;
		parts[1].len = r1.len;
		out.len = 0;
		kv_reply_merge(req.cmd, 2, key_part, parts, 2, &out);
		ok(out.len == strlen(lost) && memcmp(out.data, lost,
						     out.len) == 0,
		   "a part with extra results gives an error");
		resp_buf_fini(&r0);
		resp_buf_fini(&r1);
	}
	resp_parser_fini(&p);
	resp_buf_fini(&rq);
	resp_buf_fini(&rep);
	resp_buf_fini(&out);
	ks_destroy(ks);
}

/* Random bytes and mutated sub-requests: kv_exec must not crash. */
static void exec_fuzz(unsigned long long iters)
{
	struct keyspace *ks;
	struct resp_buf rep;
	unsigned long long it, ok0 = 0, inval = 0, other = 0;

	ks_create(&ks);
	resp_buf_init(&rep);
	for (it = 0; it < iters; it++) {
		unsigned char buf[128];
		size_t len = rn(sizeof(buf) + 1), i;
		int r;

		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)rnd();
		if (len >= KV_SUBREQ_HDR && rn(2)) {
			/* A plausible header so that the body is reached. */
			buf[6] = (unsigned char)(1 + rn(KV_OP_COUNT - 1));
			buf[7] = (unsigned char)rn(8);
			buf[8] = (unsigned char)rn(4);
			buf[9] = buf[10] = buf[11] = 0;
			for (i = KV_SUBREQ_HDR; i + 4 <= len; i += 4 + rn(6)) {
				buf[i] = (unsigned char)rn(8);
				buf[i + 1] = buf[i + 2] = buf[i + 3] = 0;
			}
		}
		{
			/* A tight copy, so that reading past it is caught. */
			unsigned char *copy = malloc(len ? len : 1);

			memcpy(copy, buf, len);
			rep.len = 0;
			r = kv_exec(ks, copy, len, NOW + it, &rep);
			free(copy);
		}
		if (r == 0)
			ok0++;
		else if (r == -EINVAL && rep.len == 0)
			inval++;
		else
			other++;
	}
	diag("kv_exec fuzz: %llu accepted, %llu refused", ok0, inval);
	ok(other == 0 && ok0 > 0 && inval > 0,
	   "kv_exec on %llu random inputs: only 0 or -EINVAL", iters);
	resp_buf_fini(&rep);
	ks_destroy(ks);
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
	plan(14 + 6 + 1 + 8 + 5 + 7 + 12 + 1);
	diag("seed %llu", seed);
	basic_tests();
	growth_tests();
	model_tests(iters);
	expiry_tests();
	hash_tests();
	route_tests();
	codec_tests();
	exec_fuzz(iters);
	return exit_status();
}
