/*
 * examples/kvserver/store.h: what one shard owns: its share of every
 * database, the counters INFO reports, and the owner's side of a
 * sub-request. One thread (the shard's keyspace actor) owns a store.
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command.h"
#include "resp.h"

struct keyspace;

struct kv_store {
	const struct kv_config *cfg;	/* borrowed */
	struct keyspace **db;		/* [ndb] */
	unsigned ndb;
	uint64_t hits;			/* keyspace_hits */
	uint64_t misses;		/* keyspace_misses */
	uint64_t rng;			/* SPOP's choices */
	unsigned cycle_db;		/* where active expiry goes on */
};

/* `cfg` (NULL: the defaults) must outlive the store. 0 or -ENOMEM. */
int kv_store_create(const struct kv_config *cfg, struct kv_store **out);
void kv_store_destroy(struct kv_store *st);	/* NULL is a no-op */

/*
 * Run one sub-request (subreq.h) and append its sub-reply to `reply`.
 * A pure function of the store, the bytes and `now` (Unix ms). Returns
 * 0; -EINVAL when `req` is malformed (reply unchanged; what ran before
 * the malformed part has run); -ENOMEM.
 */
int kv_store_exec(struct kv_store *st, const void *req, size_t len,
		  int64_t now, struct resp_buf *reply);

/* Keys in all databases, expired ones not yet removed included. */
size_t kv_store_keys(const struct kv_store *st);

/* Keys removed because they expired, all databases. */
uint64_t kv_store_expired(const struct kv_store *st);

/* A random 64-bit number (xorshift). */
uint64_t kv_store_random(struct kv_store *st);

/*
 * Active expiry, Redis' way: in each database, sample 20 keys that have
 * an expiry time and remove the expired ones; go on with the same
 * database while more than a quarter of a sample had expired. Stops at
 * `deadline_ns` (ra_now_ns() clock, checked every few samples). Returns
 * true when it stopped with work left; *removed gets how many keys went.
 */
bool kv_store_expire_cycle(struct kv_store *st, int64_t now,
			   uint64_t deadline_ns, uint64_t (*clock_ns)(void),
			   uint64_t *removed);

/*
 * The whole pipeline at once, as the server does it with messages: check
 * `args` against connection state `cs`, answer LOCAL commands, else
 * split it over `nshards` stores, run each part and merge. Appends one
 * RESP reply to `out`. 0 or -ENOMEM. For tests and tools.
 */
int kv_execute(struct kv_store *const *shards, unsigned nshards,
	       struct kv_cstate *cs, const struct resp_cmd *args,
	       int64_t now, struct resp_buf *out);

#endif /* KV_STORE_H */
