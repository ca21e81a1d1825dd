/*
 * examples/kvserver/keyspace.c: an open-addressing hash table of keys to
 * typed values, with an index of the keys that have an expiry time for
 * active expiry (see keyspace.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace.h"

/* ------------------------------------------------------------------ */
/* Hashing and routing                                                 */
/* ------------------------------------------------------------------ */

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* MurmurHash3's finalizer: every input bit reaches every output bit. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/*
 * Eight bytes per multiply, then a full finalizer: quick for the short
 * keys a cache sees. It has a fixed seed, so it is no defence against a
 * client that picks colliding keys on purpose; a server facing untrusted
 * clients would seed it at start (every shard must use the same seed,
 * since the hash also routes).
 */
uint64_t kv_key_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xc2b2ae3d27d4eb4fULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = rotl64(h ^ (w * 0x87c37b91114253d5ULL), 31) *
		    0x4cf5ad432745937fULL;
		p += 8;
		len -= 8;
	}
	w = 0;
	if (len)
		memcpy(&w, p, len);
	h ^= w * 0x87c37b91114253d5ULL;
	return fmix64(h);
}

/*
 * Multiply-shift on the high half instead of `% nshards` on the low bits:
 * the table uses the low bits, and a shard that only ever got keys with,
 * say, an even hash would leave half its buckets empty.
 */
unsigned kv_key_shard(const void *key, size_t len, unsigned nshards)
{
	uint64_t hi = kv_key_hash(key, len) >> 32;

	return (unsigned)((hi * nshards) >> 32);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/*
 * Linear probing over (hash, entry) pairs: the stored hash skips most key
 * compares and makes resizing a copy, not a rehash. Deletion shifts later
 * members of the cluster back, so there are no tombstones to clean up.
 */
struct ks_slot {
	uint64_t hash;
	struct kv_entry *e;	/* NULL = empty */
};

struct keyspace {
	struct ks_slot *slots;
	size_t mask;		/* buckets - 1; buckets is a power of two */
	size_t count;		/* entries held, expired ones included */
	/*
	 * The entries with an expiry time, in no order, for sampling;
	 * each knows its index (kv_entry.vol).
	 */
	struct kv_entry **vol;
	uint32_t nvol;
	uint32_t volcap;
	uint64_t expired;	/* removed because they expired */
	int64_t avg_ttl;	/* ms, estimated from samples (INFO) */
	uint64_t rng;		/* xorshift state for sampling */
};

#define KS_MIN_BUCKETS 16
#define KS_MIN_VOL 16

int ks_create(struct keyspace **out)
{
	struct keyspace *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return -ENOMEM;
	ks->slots = calloc(KS_MIN_BUCKETS, sizeof(*ks->slots));
	if (!ks->slots) {
		free(ks);
		return -ENOMEM;
	}
	ks->mask = KS_MIN_BUCKETS - 1;
	ks->rng = 0x853c49e6748fea9bULL ^ (uint64_t)(uintptr_t)ks;
	*out = ks;
	return 0;
}

static void entry_free(struct kv_entry *e)
{
	if (e->type != KV_STRING)
		kv_obj_free((enum kv_type)e->type, e->obj);
	free(e);
}

/* Drop every entry and go back to the smallest table. */
static void clear(struct keyspace *ks, struct ks_slot *small)
{
	size_t i;

	for (i = 0; i <= ks->mask; i++)
		if (ks->slots[i].e)
			entry_free(ks->slots[i].e);
	free(ks->slots);
	free(ks->vol);
	ks->slots = small;
	ks->mask = KS_MIN_BUCKETS - 1;
	ks->count = 0;
	ks->vol = NULL;
	ks->nvol = 0;
	ks->volcap = 0;
	ks->avg_ttl = 0;
}

void ks_destroy(struct keyspace *ks)
{
	if (!ks)
		return;
	clear(ks, NULL);
	free(ks);
}

void ks_flush(struct keyspace *ks)
{
	struct ks_slot *small = calloc(KS_MIN_BUCKETS, sizeof(*small));

	if (!small) {
		/* Keep the big table, emptied: no memory is no excuse. */
		size_t i;

		for (i = 0; i <= ks->mask; i++) {
			if (ks->slots[i].e)
				entry_free(ks->slots[i].e);
			ks->slots[i].e = NULL;
		}
		ks->count = 0;
		ks->nvol = 0;
		return;
	}
	clear(ks, small);
}

size_t ks_count(const struct keyspace *ks)
{
	return ks->count;
}

size_t ks_volatile(const struct keyspace *ks)
{
	return ks->nvol;
}

uint64_t ks_expired(const struct keyspace *ks)
{
	return ks->expired;
}

size_t ks_buckets(const struct keyspace *ks)
{
	return ks->mask + 1;
}

static size_t find(const struct keyspace *ks, const void *key, size_t klen,
		   uint64_t hash)
{
	size_t i = hash & ks->mask;

	for (;;) {
		const struct ks_slot *s = &ks->slots[i];

		if (!s->e)
			return SIZE_MAX;
		if (s->hash == hash && s->e->klen == klen &&
		    memcmp(s->e->data, key, klen) == 0)
			return i;
		i = (i + 1) & ks->mask;
	}
}

static size_t find_entry(const struct keyspace *ks, const struct kv_entry *e)
{
	return find(ks, e->data, e->klen, kv_key_hash(e->data, e->klen));
}

/* Move the table to `nb` buckets (a power of two above count). */
static int resize(struct keyspace *ks, size_t nb)
{
	struct ks_slot *ns = calloc(nb, sizeof(*ns));
	size_t i;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i <= ks->mask; i++) {
		size_t j;

		if (!ks->slots[i].e)
			continue;
		j = ks->slots[i].hash & (nb - 1);
		while (ns[j].e)
			j = (j + 1) & (nb - 1);
		ns[j] = ks->slots[i];
	}
	free(ks->slots);
	ks->slots = ns;
	ks->mask = nb - 1;
	return 0;
}

/* ---- the volatile index ---- */

static int vol_add(struct keyspace *ks, struct kv_entry *e)
{
	if (ks->nvol == ks->volcap) {
		uint32_t ncap = ks->volcap ? ks->volcap * 2 : KS_MIN_VOL;
		struct kv_entry **v;

		if (ks->volcap >= UINT32_MAX / 2)
			return -ENOMEM;
		v = realloc(ks->vol, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ks->vol = v;
		ks->volcap = ncap;
	}
	e->vol = ks->nvol;
	ks->vol[ks->nvol++] = e;
	return 0;
}

static void vol_del(struct keyspace *ks, struct kv_entry *e)
{
	uint32_t i = e->vol;

	if (i == KV_NOVOL)
		return;
	ks->vol[i] = ks->vol[--ks->nvol];
	ks->vol[i]->vol = i;
	e->vol = KV_NOVOL;
	/* Give memory back after a mass expiry (at a quarter: hysteresis). */
	if (ks->volcap > KS_MIN_VOL && ks->nvol < ks->volcap / 4) {
		struct kv_entry **v = realloc(ks->vol, ks->volcap / 2 *
					      sizeof(*v));

		if (v) {
			ks->vol = v;
			ks->volcap /= 2;
		}
	}
}

/* ---- removal ---- */

/*
 * Free slot i and close the gap: walk the cluster after it and move back
 * every entry whose home bucket does not lie in (i, j], i.e. that probing
 * from its home would otherwise no longer reach.
 */
static void remove_at(struct keyspace *ks, size_t i)
{
	size_t j = i;

	vol_del(ks, ks->slots[i].e);
	entry_free(ks->slots[i].e);
	for (;;) {
		size_t home;

		j = (j + 1) & ks->mask;
		if (!ks->slots[j].e)
			break;
		home = ks->slots[j].hash & ks->mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		ks->slots[i] = ks->slots[j];
		i = j;
	}
	ks->slots[i].e = NULL;
	ks->slots[i].hash = 0;
	ks->count--;
	/*
	 * Shrink once under 1/8 full (to 1/4 full, so a few adds do not
	 * grow it straight back): memory comes back after mass deletes.
	 * Failing to shrink is harmless.
	 */
	if (ks->mask + 1 > KS_MIN_BUCKETS && ks->count * 8 < ks->mask + 1)
		resize(ks, (ks->mask + 1) / 2);
}

static bool expired(const struct kv_entry *e, int64_t now)
{
	/* Redis: a key is expired once now is past its time, not at it. */
	return e->expire_at != 0 && now > e->expire_at;
}

struct kv_entry *ks_find(struct keyspace *ks, const void *key, size_t klen,
			 int64_t now)
{
	size_t i = find(ks, key, klen, kv_key_hash(key, klen));

	if (i == SIZE_MAX)
		return NULL;
	if (expired(ks->slots[i].e, now)) {
		remove_at(ks, i);
		ks->expired++;
		return NULL;
	}
	return ks->slots[i].e;
}

int ks_del(struct keyspace *ks, const void *key, size_t klen, int64_t now)
{
	size_t i = find(ks, key, klen, kv_key_hash(key, klen));
	bool live;

	if (i == SIZE_MAX)
		return 0;
	live = !expired(ks->slots[i].e, now);
	if (!live)
		ks->expired++;
	remove_at(ks, i);
	return live;
}

void ks_del_entry(struct keyspace *ks, struct kv_entry *e)
{
	size_t i = find_entry(ks, e);

	if (i != SIZE_MAX)
		remove_at(ks, i);
}

/* ---- insertion ---- */

static struct kv_entry *entry_new(const void *key, size_t klen, size_t vcap)
{
	struct kv_entry *e = malloc(sizeof(*e) + klen + vcap);

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->vol = KV_NOVOL;
	e->klen = (uint32_t)klen;
	e->vcap = vcap;
	memcpy(e->data, key, klen);
	return e;
}

/* Put new entry e (hash `hash`) in the table, growing it first. */
static int insert(struct keyspace *ks, struct kv_entry *e, uint64_t hash)
{
	size_t i;

	if ((ks->count + 1) * 4 > (ks->mask + 1) * 3 &&
	    resize(ks, (ks->mask + 1) * 2))
		return -ENOMEM;
	i = hash & ks->mask;
	while (ks->slots[i].e)
		i = (i + 1) & ks->mask;
	ks->slots[i].hash = hash;
	ks->slots[i].e = e;
	ks->count++;
	return 0;
}

/* Entry e of slot i moved to ne (realloc): repoint what refers to it. */
static void moved(struct keyspace *ks, size_t i, struct kv_entry *ne)
{
	ks->slots[i].e = ne;
	if (ne->vol != KV_NOVOL)
		ks->vol[ne->vol] = ne;
}

/*
 * Make the entry of slot i a string of vlen bytes with room to spare:
 * reuse the allocation when the value fits and would not leave most of
 * it idle; else one realloc.
 */
static int reshape(struct keyspace *ks, size_t i, size_t vlen, bool grow)
{
	struct kv_entry *e = ks->slots[i].e, *ne;
	size_t cap = vlen;

	if (vlen <= e->vcap && vlen >= e->vcap / 4)
		return 0;
	/* Growing in place (APPEND) doubles, so n appends cost O(n). */
	if (grow && vlen > e->vcap && vlen < SIZE_MAX / 2)
		cap = vlen > 2 * e->vcap ? vlen : 2 * e->vcap;
	ne = realloc(e, sizeof(*e) + e->klen + cap);
	if (!ne)
		return -ENOMEM;
	ne->vcap = cap;
	moved(ks, i, ne);
	return 0;
}

int ks_set_string(struct keyspace *ks, const void *key, size_t klen,
		  const void *val, size_t vlen, bool keep_ttl,
		  struct kv_entry **out)
{
	uint64_t hash = kv_key_hash(key, klen);
	size_t i = find(ks, key, klen, hash);
	struct kv_entry *e;

	if (klen > UINT32_MAX)
		return -ENOMEM;
	if (i != SIZE_MAX) {
		e = ks->slots[i].e;
		if (e->type != KV_STRING) {
			/* Keep the old value until nothing can fail. */
			void *old = e->obj;
			enum kv_type ot = (enum kv_type)e->type;

			e->vcap = 0;
			if (reshape(ks, i, vlen, false))
				return -ENOMEM;
			kv_obj_free(ot, old);
		} else if (reshape(ks, i, vlen, false)) {
			return -ENOMEM;
		}
		e = ks->slots[i].e;
		e->type = KV_STRING;
		e->obj = NULL;
		e->vlen = vlen;
		if (vlen)
			memcpy(kv_entry_str(e), val, vlen);
		if (!keep_ttl)
			ks_set_expire(ks, e, 0);
	} else {
		e = entry_new(key, klen, vlen);
		if (!e)
			return -ENOMEM;
		e->type = KV_STRING;
		e->vlen = vlen;
		if (vlen)
			memcpy(kv_entry_str(e), val, vlen);
		if (insert(ks, e, hash)) {
			free(e);
			return -ENOMEM;
		}
	}
	if (out)
		*out = e;
	return 0;
}

int ks_string_resize(struct keyspace *ks, struct kv_entry **e, size_t vlen)
{
	size_t i = find_entry(ks, *e);

	if (i == SIZE_MAX)
		return -ENOENT;
	if (reshape(ks, i, vlen, true))
		return -ENOMEM;
	*e = ks->slots[i].e;
	(*e)->vlen = vlen;
	return 0;
}

int ks_add_obj(struct keyspace *ks, const void *key, size_t klen,
	       enum kv_type type, void *obj, struct kv_entry **out)
{
	struct kv_entry *e;

	if (klen > UINT32_MAX)
		return -ENOMEM;
	e = entry_new(key, klen, 0);
	if (!e)
		return -ENOMEM;
	e->type = (uint8_t)type;
	e->obj = obj;
	if (insert(ks, e, kv_key_hash(key, klen))) {
		free(e);
		return -ENOMEM;
	}
	if (out)
		*out = e;
	return 0;
}

int ks_set_expire(struct keyspace *ks, struct kv_entry *e, int64_t when)
{
	if (when == 0) {
		vol_del(ks, e);
		e->expire_at = 0;
		return 0;
	}
	if (e->vol == KV_NOVOL && vol_add(ks, e))
		return -ENOMEM;
	e->expire_at = when;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Walking and sampling                                                */
/* ------------------------------------------------------------------ */

struct kv_entry *ks_next(const struct keyspace *ks, size_t *cursor)
{
	while (*cursor <= ks->mask) {
		struct kv_entry *e = ks->slots[(*cursor)++].e;

		if (e)
			return e;
	}
	return NULL;
}

static uint64_t rnd(struct keyspace *ks)
{
	uint64_t x = ks->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ks->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/*
 * Redis' estimate of the average time to live: the mean over the live
 * keys of a sample, folded in with weight 1/50 (or taken as is while
 * there is no estimate yet).
 */
static void note_ttl(struct keyspace *ks, int64_t sum, unsigned live)
{
	int64_t avg;

	if (!live)
		return;
	avg = sum / live;
	ks->avg_ttl = ks->avg_ttl ? ks->avg_ttl / 50 * 49 + avg / 50 : avg;
}

unsigned ks_expire_sample(struct keyspace *ks, int64_t now, unsigned n,
			  unsigned *sampled)
{
	unsigned k, removed = 0, live = 0;
	int64_t sum = 0;

	for (k = 0; k < n && ks->nvol > 0; k++) {
		struct kv_entry *e = ks->vol[rnd(ks) % ks->nvol];

		if (expired(e, now)) {
			ks_del_entry(ks, e);
			ks->expired++;
			removed++;
		} else if (e->expire_at - now < INT64_MAX / 64 - sum) {
			/* Times near INT64_MAX would overflow the sum. */
			sum += e->expire_at - now;
			live++;
		}
	}
	*sampled = k;
	note_ttl(ks, sum, live);
	if (ks->nvol == 0)
		ks->avg_ttl = 0;
	return removed;
}

int64_t ks_avg_ttl(const struct keyspace *ks)
{
	return ks->nvol ? ks->avg_ttl : 0;
}
