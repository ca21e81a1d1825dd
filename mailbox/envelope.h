/*
 * mailbox/envelope.h: the message envelope, the one object every message,
 * I/O completion and control request travels in.
 *
 * An envelope is taken from its sender shard's pool (mailbox/pool.c) and
 * records that origin, so whichever shard frees it can send it home in a
 * batch (docs/architecture.md, "Data flow of one message"), as pony's pony_msg_t records its size class.
 * Two cache lines; small payloads live inline so a send needs no malloc.
 */
#ifndef RA_MAILBOX_ENVELOPE_H
#define RA_MAILBOX_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "shard/list.h"
#include "ringactor.h"

/* origin of an envelope malloc'd by a non-shard thread: free() it. */
#define RA_ORIGIN_HEAP	0xffffu

/* ra_envelope_t.kind: what the receiving shard does with it. */
enum ra_env_kind {
	RA_ENV_USER = 0,	/* a message for the behavior (or RA_MSG_IO) */
	RA_ENV_SPAWN,		/* start the actor `to` (its struct is ready) */
	RA_ENV_STOP,		/* stop `to` with a normal reason, in order */
	/*
	 * Supervision signals (actors/links.c), in the actor's mailbox in
	 * order with its messages. `from` is the sender. LINK, UNLINK: no
	 * payload. MONITOR, DEMONITOR: the mref (uint64_t). EXIT: an
	 * ra_exit_info_t from a linked actor. DOWN: an ra_down_info_t.
	 * EXIT_DIRECT: an ra_exit_info_t from ra_exit_other() (OTP exit/2),
	 * acted on at delivery, ahead of queued messages, whether or not
	 * the sender is linked.
	 */
	RA_ENV_LINK,
	RA_ENV_UNLINK,
	RA_ENV_MONITOR,
	RA_ENV_DEMONITOR,
	RA_ENV_EXIT,
	RA_ENV_DOWN,
	RA_ENV_EXIT_DIRECT,
	/*
	 * Timers and ask (actors/timers.c, actors/ask.c), in the actor's
	 * mailbox in order with its messages; `tag` holds the timer or ask
	 * reference, which is looked up in the receiver's timer set on
	 * receipt, so a cancelled timer or a finished ask drops it there.
	 * TIMER: a tick of a timer the actor armed to itself (the
	 * behavior sees `type`, tag 0). TIMEOUT: an ask timed out
	 * (RA_MSG_TIMEOUT). REPLY: an answer to an ask (RA_MSG_REPLY).
	 */
	RA_ENV_TIMER,
	RA_ENV_TIMEOUT,
	RA_ENV_REPLY,
	/*
	 * Work stealing (actors/steal.c); handled by the shard, not an
	 * actor. STEAL_REQ: u.steal = the asking shard and its load.
	 * MIGRATE: u.buf = the actor handed over (not RA_ENV_OWNED).
	 * STEAL_OFFER: no payload. FENCE, FENCE_ACK (actors/fence.c):
	 * u.fence = the home shard asking and its round; the peer sends
	 * the same envelope back as the ack.
	 */
	RA_ENV_STEAL_REQ,
	RA_ENV_MIGRATE,
	RA_ENV_STEAL_OFFER,	/* wakes a sleeping shard to come and steal */
	RA_ENV_FENCE,
	RA_ENV_FENCE_ACK,
};

/* ra_envelope_t.flags */
#define RA_ENV_OWNED	0x1u	/* data is a malloc'd buffer we must free */
/*
 * The sender added this message to its target slot's `inflight` count
 * (actors/send.c); whoever delivers or drops it must take it off.
 */
#define RA_ENV_COUNTED	0x2u
/*
 * `tag` is set and shown to the behavior as msg->tag: an ask request
 * (kind USER), a REPLY or a TIMEOUT. Checking the flag, which shares the
 * header's cache line, keeps plain messages from reading `tag` on the
 * second line.
 */
#define RA_ENV_TAGGED	0x4u
/*
 * RA_MSG_IO whose payload is a buffer of the shard's buffer ring
 * (io/bufring.c), u.io.buf and `len` bytes: not ours to free; the I/O
 * layer takes it back once the message was handled or dropped.
 */
#define RA_ENV_RINGBUF	0x8u

/*
 * Layout: everything a cross-shard hop reads (header, the I/O result, and
 * the first 16 payload bytes) sits in the first cache line, so a small
 * message costs the receiving core one line transfer, not two.
 */
typedef struct ra_envelope {
	/*
	 * Mailbox, outbox, batch or free-list link (shard/list.h): one
	 * list at a time. First, so that a chain's link is its envelope.
	 */
	ra_slink_t link;
	ra_ref_t to;		/* the receiving actor */
	ra_ref_t from;		/* the sender, null for I/O and outsiders */
	uint32_t type;		/* user type or RA_MSG_IO */
	uint32_t len;		/* payload bytes */
	uint16_t origin;	/* shard whose pool owns it, or RA_ORIGIN_HEAP */
	uint8_t kind;		/* enum ra_env_kind */
	uint8_t flags;		/* RA_ENV_* */
	uint8_t io_op;		/* RA_MSG_IO: enum ra_io_op of the request */
	uint8_t pad0_[3];
	uint64_t sent_ns;	/* send time for the mailbox-wait histogram */
	union {
		unsigned char inl[RA_INLINE_PAYLOAD]; /* small payloads */
		void *buf;	/* RA_ENV_OWNED: the malloc'd payload */
		struct {
			int32_t res;	/* the CQE's res */
			uint32_t mflags; /* ra_msg_t.flags: RA_MSG_F_* */
			uint64_t tag;	/* the caller's tag */
			void *buf;	/* RA_ENV_RINGBUF: the lent buffer */
			uint16_t bid;	/* RA_ENV_RINGBUF: its buffer id */
		} io;		/* RA_MSG_IO: a ring buffer, or no payload */
		struct {
			uint32_t thief;	/* shard asking for work */
			uint64_t load;	/* its load when it asked */
		} steal;	/* RA_ENV_STEAL_REQ */
		struct {
			uint32_t home;	/* shard whose actors wait */
			uint64_t round;	/* its round, counted from 1 */
		} fence;	/* RA_ENV_FENCE, RA_ENV_FENCE_ACK */
	} u;
	/* RA_ENV_TAGGED, TIMER, TIMEOUT, REPLY: the timer or ask reference. */
	uint64_t tag;
	unsigned char pad_[24];	/* round to two cache lines */
} ra_envelope_t;

_Static_assert(sizeof(ra_envelope_t) == 128, "envelope is two cache lines");
_Static_assert(offsetof(ra_envelope_t, link) == 0,
	       "a chain's link is its envelope");
_Static_assert(offsetof(ra_envelope_t, u) + 16 <= 64,
	       "small payloads share the header's cache line");

/*
 * Whether an undeliverable `kind` counts as a dead letter: messages a
 * behavior would have seen (user messages, replies to asks), not the
 * runtime's own bookkeeping.
 */
static inline int ra__envelope_is_letter(uint8_t kind)
{
	return kind == RA_ENV_USER || kind == RA_ENV_REPLY;
}

/* The envelope a link (or NULL) belongs to. */
static inline ra_envelope_t *ra__envelope_of(ra_slink_t *l)
{
	return (ra_envelope_t *)(void *)l;
}

/* The next envelope of a chain, or NULL. */
static inline ra_envelope_t *ra__envelope_next(const ra_envelope_t *e)
{
	return ra__envelope_of(e->link.next);
}

/* The payload bytes, wherever they live. */
static inline void *ra__envelope_data(ra_envelope_t *e)
{
	if (!(e->flags & (RA_ENV_OWNED | RA_ENV_RINGBUF)))
		return e->u.inl;
	return (e->flags & RA_ENV_OWNED) ? e->u.buf : e->u.io.buf;
}

struct ra_pool;
struct ra_shard;

/* An envelope for a non-shard sender (origin RA_ORIGIN_HEAP), or NULL. */
ra_envelope_t *ra__envelope_heap_alloc(void);

/*
 * A payload-less envelope of `kind` (SPAWN, STOP, work-stealing control)
 * for `to` (null for shard-level ones), from pool `p`, or from the heap
 * when `p` is NULL (non-shard threads). NULL on ENOMEM.
 */
ra_envelope_t *ra__envelope_control(struct ra_pool *p, uint8_t kind,
				    ra_ref_t to);

/* Free an owned payload buffer, if any (dead letters, teardown). */
void ra__envelope_drop_payload(ra_envelope_t *e);

/*
 * Done with `e` on shard `sh`: free its owned payload, then return it to
 * the local pool, to the heap, or queue it to go home to its origin shard.
 */
void ra__envelope_release(struct ra_shard *sh, ra_envelope_t *e);

#endif /* RA_MAILBOX_ENVELOPE_H */
