/*
 * actors/slot.h: the actor table behind ra_ref_t.
 *
 * A slot is never freed while the runtime lives, so any shard may read
 * one without epoch reclamation: a reference is resolved by loading one
 * 64-bit word (generation, home shard, alive bit) and comparing the
 * generation. A stale reference therefore fails with -ESRCH and never
 * touches the actor's memory, which only the home shard reads (through
 * slot->actor, after the same check).
 *
 * Slots live in 4096-entry chunks allocated on first use and published
 * with a CAS, so the table grows without a lock. Free slot indices are
 * cached per shard (the shard that frees one reuses it); fresh indices are
 * reserved from a global counter 64 at a time.
 */
#ifndef RA_ACTORS_SLOT_H
#define RA_ACTORS_SLOT_H

#include <ck_pr.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "shard/tsan.h"
#include "ringactor.h"

struct ra_actor;

#define RA_SLOT_CHUNK_BITS	12
#define RA_SLOT_CHUNK		(1u << RA_SLOT_CHUNK_BITS)
#define RA_SLOT_MAX_CHUNKS	4096u	/* 16 Mi actors at once */
#define RA_SLOT_RESERVE		64u	/* fresh indices taken per refill */

#define RA_SLOT_ALIVE		0x1ull
/*
 * Cross-thread senders count their messages in `inflight`
 * (actors/send.c). Set at publication for RA_SPAWN_STEALABLE, or later
 * by the home shard (ra_set_stealable(), actors/fence.h); never cleared.
 */
#define RA_SLOT_STEALABLE	0x2ull
/*
 * Being handed to another shard: senders must not send now (they park the
 * message and retry). Set by the victim, cleared by the thief.
 */
#define RA_SLOT_MIGRATING	0x4ull

typedef struct ra_slot {
	uint64_t word;		  /* gen << 32 | home << 16 | flags */
	struct ra_actor *actor;	  /* home shard only, while alive */
	/*
	 * Messages to a stealable actor sent from another thread and not
	 * yet in its mailbox. Incremented by senders, decremented by the
	 * home shard on delivery; the victim refuses to migrate while it is
	 * non-zero (docs/architecture.md, "Work stealing").
	 */
	uint32_t inflight;
} ra_slot_t;

typedef struct ra_slot_table {
	ra_slot_t *chunks[RA_SLOT_MAX_CHUNKS]; /* published by CAS */
	uint32_t next;		  /* first never-issued index (slot 0 unused) */
} ra_slot_table_t;

/* A shard's private stack of free slot indices. */
typedef struct ra_slot_cache {
	uint32_t *idx;
	uint32_t n;
	uint32_t cap;
} ra_slot_cache_t;

/* ra__slot_table_create() and _destroy() are in shard/hooks.h. */
void ra__slot_cache_fini(ra_slot_cache_t *c);

/*
 * Take a free slot index for a new actor: from `c` if given (a shard's
 * cache), else a fresh one. Returns 0, or -ENOMEM (table full or out of
 * memory).
 */
int ra__slot_alloc(ra_slot_table_t *t, ra_slot_cache_t *c, uint32_t *out);

/* Give back the index of a finalized actor to the freeing shard's cache. */
int ra__slot_free(ra_slot_cache_t *c, uint32_t idx);

static inline uint64_t ra__slot_word(uint32_t gen, unsigned home, bool alive)
{
	return (uint64_t)gen << 32 | (uint64_t)(home & 0xffff) << 16 |
	       (alive ? RA_SLOT_ALIVE : 0);
}

static inline uint32_t ra__slot_word_gen(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

static inline unsigned ra__slot_word_home(uint64_t w)
{
	return (unsigned)(w >> 16) & 0xffff;
}

/* The slot for `idx`, or NULL if it was never issued. Any thread. */
static inline ra_slot_t *ra__slot_get(ra_slot_table_t *t, uint32_t idx)
{
	uint32_t c = idx >> RA_SLOT_CHUNK_BITS;
	ra_slot_t *chunk;

	if (c >= RA_SLOT_MAX_CHUNKS)
		return NULL;
	chunk = ck_pr_load_ptr(&t->chunks[c]);
	return chunk ? &chunk[idx & (RA_SLOT_CHUNK - 1)] : NULL;
}

/*
 * Resolve `r` to its home shard (>= 0) while it is alive, or -ESRCH.
 * Any thread; one load, no atomic read-modify-write.
 */
static inline int ra__slot_resolve_any(ra_slot_table_t *t, ra_ref_t r)
{
	ra_slot_t *s = ra__slot_get(t, r.slot);
	uint64_t w;

	if (!s || r.gen == 0)
		return -ESRCH;
	w = ck_pr_load_64(&s->word);
	if (!(w & RA_SLOT_ALIVE) || ra__slot_word_gen(w) != r.gen)
		return -ESRCH;
	return (int)ra__slot_word_home(w);
}

/*
 * The slot of `r` and its word in *w while it is alive, else NULL. Any
 * thread; one load.
 */
static inline ra_slot_t *ra__slot_lookup_any(ra_slot_table_t *t, ra_ref_t r,
					     uint64_t *w)
{
	ra_slot_t *s = ra__slot_get(t, r.slot);

	if (!s || r.gen == 0)
		return NULL;
	*w = ck_pr_load_64(&s->word);
	if (!(*w & RA_SLOT_ALIVE) || ra__slot_word_gen(*w) != r.gen)
		return NULL;
	return s;
}

/*
 * Announce a cross-thread send to the stealable actor (slot `s`,
 * generation `gen`): returns its home shard with the message counted in
 * s->inflight, or (count undone) -EBUSY while it migrates, -ESRCH once it
 * is dead. Any thread; lock-free.
 *
 * Pairs with try_migrate() in actors/steal.c: we add to inflight, then
 * read the word; it stores MIGRATING into the word, then reads inflight.
 * Both sides write then read, so each needs a store-load barrier
 * (ck_pr_fence_atomic_load() after our locked increment, which is a full
 * barrier on x86; ck_pr_fence_store_load() on its side): with only
 * acquire/release both could miss each other. Hence either it sees our
 * count and refuses, or we see MIGRATING and hold the message back.
 */
static inline int ra__slot_send_begin_any(ra_slot_t *s, uint32_t gen)
{
	uint64_t w;

	ck_pr_inc_32(&s->inflight);
	ck_pr_fence_atomic_load();
	w = ck_pr_load_64(&s->word);
	if (!(w & RA_SLOT_ALIVE) || ra__slot_word_gen(w) != gen) {
		ck_pr_dec_32(&s->inflight);
		return -ESRCH;
	}
	if (w & RA_SLOT_MIGRATING) {
		ck_pr_dec_32(&s->inflight);
		return -EBUSY;
	}
	return (int)ra__slot_word_home(w);
}

/* The counted message is in its mailbox (or dropped). Home shard. */
static inline void ra__slot_send_end(ra_slot_t *s)
{
	ck_pr_dec_32(&s->inflight);
}

/*
 * The actor behind `r` if it is alive and homed on `home`, else NULL.
 * Only the home shard may call this (it dereferences slot->actor).
 */
static inline struct ra_actor *ra__slot_actor_local(ra_slot_table_t *t,
						    ra_ref_t r, unsigned home)
{
	ra_slot_t *s = ra__slot_get(t, r.slot);
	uint64_t w;

	if (!s || r.gen == 0)
		return NULL;
	w = ck_pr_load_64(&s->word);
	/* MIGRATING is not masked: no delivery may reach a moving actor. */
	if ((w & ~RA_SLOT_STEALABLE) != ra__slot_word(r.gen, home, true))
		return NULL;
	/* Pairs with the release in ra__slot_publish(). */
	ra__tsan_acquire(&s->word);
	return s->actor;
}

/*
 * Make `a` reachable as (idx, gen) on `home`. The store of the word is the
 * publication: everything written to the actor before it is visible to the
 * home shard once it sees the new generation (x86-TSO keeps stores in
 * order; the fence documents and enforces it elsewhere).
 */
static inline void ra__slot_publish(ra_slot_t *s, struct ra_actor *a,
				    uint32_t gen, unsigned home,
				    bool stealable)
{
	ck_pr_store_ptr(&s->actor, a);
	ck_pr_fence_store();
	ra__tsan_release(&s->word);
	ck_pr_store_64(&s->word, ra__slot_word(gen, home, true) |
				 (stealable ? RA_SLOT_STEALABLE : 0));
}

/* Mark the slot dead (same generation): senders now get -ESRCH. */
static inline void ra__slot_kill(ra_slot_t *s)
{
	uint64_t w = ck_pr_load_64(&s->word);

	ck_pr_store_64(&s->word, w & ~RA_SLOT_ALIVE);
}

/* The generation the next actor in this (dead) slot gets; never 0. */
static inline uint32_t ra__slot_next_gen(ra_slot_t *s)
{
	uint32_t g = ra__slot_word_gen(ck_pr_load_64(&s->word)) + 1;

	return g ? g : 1;
}

#endif /* RA_ACTORS_SLOT_H */
