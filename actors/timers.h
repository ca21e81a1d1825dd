/*
 * actors/timers.h: timers and asks as an actor sees them (ra_send_after,
 * ra_send_interval, ra_cancel_timer in actors/timers.c; ra_ask, ra_reply
 * in actors/ask.c).
 *
 * A timer is a record (ra_timer_t) in two places at once:
 *
 *   - the owning actor's timer set, a small open-addressing hash table
 *     keyed by the timer's reference, hanging off the actor and
 *     allocated on first use (actors that never arm a timer pay one NULL
 *     pointer);
 *   - while armed, the home shard's deadline heap (shard/theap.h).
 *
 * The set is what makes delivery exact, the same trick as DOWN and
 * demonitor (actors/links.c): every message a timer sends to its own
 * actor (a tick, an ask's TIMEOUT) and every ask REPLY carries the
 * reference, and is handed to the behavior only if the reference is
 * still in the set when the message's turn comes. Cancelling, or the
 * first of reply and timeout to be delivered, removes it; what is still
 * queued or in flight is then dropped on receipt, without a scan of the
 * mailbox.
 *
 * An ask is a record of kind ASK: its heap node is the timeout, its
 * reference the aref. Timer and ask references come from one per-shard
 * counter with the shard id in the low bits: unique in the runtime,
 * never 0, and no shared cache line to bounce.
 *
 * Everything here runs on the owner's home shard. Work stealing takes an
 * actor's armed timers out of the victim's heap and puts them into the
 * thief's (deadlines are absolute CLOCK_MONOTONIC ns, the same on every
 * shard); the set travels inside the actor.
 */
#ifndef RA_ACTORS_TIMERS_H
#define RA_ACTORS_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/actor.h"
#include "shard/theap.h"

enum ra_timer_kind {
	RA_TIMER_SEND = 0,	/* ra_send_after / ra_send_interval */
	RA_TIMER_ASK,		/* an outstanding ask; the node is its timeout */
};

enum ra_timer_state {
	RA_TIMER_ARMED = 0,	/* in the shard's heap */
	/*
	 * Fired; its message to the owner (a one-shot tick to self, or an
	 * ask's TIMEOUT) is on the way. The record stays in the set until
	 * that message is delivered or dropped, so a cancel (or a reply)
	 * still wins until the behavior has seen it.
	 */
	RA_TIMER_QUEUED,
};

typedef struct ra_timer {
	ra_tnode_t node;		/* in the shard's heap while ARMED */
	uint64_t id;			/* tref or aref; node.seq too */
	uint64_t period_ns;		/* 0 = one-shot */
	ra_actor_t *owner;		/* the arming actor */
	ra_ref_t to;			/* target; for an ask, the actor asked */
	uint32_t type;			/* message type sent */
	uint32_t len;			/* bytes at data[] */
	uint8_t kind;			/* enum ra_timer_kind */
	uint8_t state;			/* enum ra_timer_state */
	bool to_self;			/* `to` is the owner: check on receipt */
	unsigned char data[];		/* the payload, copied at arming */
} ra_timer_t;

/* An actor's timer set: open addressing, linear probing, power-of-two. */
struct ra_timers {
	ra_timer_t **tab;		/* [cap]; NULL = empty slot */
	uint32_t cap;
	uint32_t n;			/* records in the set */
};

/*
 * The checks every arming call makes first: -EINVAL (self NULL, a
 * reserved type, data NULL with len > 0), -ESHUTDOWN (self is stopping),
 * else 0.
 */
int ra__timers_precheck(ra_ctx_t *self, uint32_t type, const void *data,
		       size_t len);

/* A new record for `a` (payload copied), not in set or heap; NULL ENOMEM. */
ra_timer_t *ra__timers_new(ra_actor_t *a, uint8_t kind, ra_ref_t to,
			  uint32_t type, const void *data, size_t len);

/*
 * Put `t` in its owner's set and, with `deadline`, in the shard's heap.
 * Returns 0 or -ENOMEM (then `t` is the caller's to free).
 */
int ra__timers_arm(ra_shard_t *sh, ra_timer_t *t, uint64_t deadline);

/* `a`'s record with reference `id`, or NULL. */
ra_timer_t *ra__timers_find(const ra_actor_t *a, uint64_t id);

/* Take `t` out of the heap (if armed) and the set, and free it. */
void ra__timers_forget(ra_shard_t *sh, ra_timer_t *t);

/* Shard loop: fire every timer whose deadline has passed. */
void ra__timers_expire(ra_shard_t *sh);

/*
 * A TIMER, TIMEOUT or REPLY envelope reached `a`'s turn. Returns true
 * when the behavior should see it (its reference was live; the record is
 * now consumed as its kind says); otherwise it was released (a late
 * reply is counted in late_replies). Home shard.
 */
bool ra__timers_receive(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e);

/* Exit step 2: cancel every timer and ask of `a`, free the set. */
void ra__timers_cancel_all(ra_shard_t *sh, ra_actor_t *a);

/* Work stealing: `a` leaves `sh` (victim) / arrives on `sh` (thief). */
void ra__timers_detach(ra_shard_t *sh, ra_actor_t *a);
void ra__timers_attach(ra_shard_t *sh, ra_actor_t *a);

/* now + delay in ns, kept below RA_TIMER_NEVER (which means "none"). */
static inline uint64_t ra__timers_deadline_after(uint64_t now, uint64_t delay)
{
	return delay >= RA_TIMER_NEVER - 1 - now ? RA_TIMER_NEVER - 1
						 : now + delay;
}

#endif /* RA_ACTORS_TIMERS_H */
