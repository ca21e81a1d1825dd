/*
 * actors/actor.h: the actor as its home shard sees it.
 *
 * Life cycle:
 *   STARTING  published in the actor table, its SPAWN envelope not yet
 *             processed by the home shard; messages wait in the mailbox.
 *   READY     on its home shard, init not yet run (runs on first turn).
 *   RUNNING   behavior runs once per message.
 *   STOPPING  the slot is dead (senders get -ESRCH); its pending I/O is
 *             being cancelled and drained; then terminate runs and the
 *             memory is freed (finalize).
 */
#ifndef RA_ACTORS_ACTOR_H
#define RA_ACTORS_ACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/mailbox.h"
#include "shard/runq.h"
#include "shard/shard.h"
#include "ringactor.h"

struct ra_io_req;
struct ra_links;
struct ra_timers;

enum ra_actor_status {
	RA_ACTOR_STARTING = 0,
	RA_ACTOR_READY,
	RA_ACTOR_RUNNING,
	RA_ACTOR_STOPPING,
};

struct ra_actor {
	ra_mailbox_t mbox;		/* home shard only */
	ra_runq_node_t runq_node;	/* link in the shard's run queue */
	ra_shard_t *shard;		/* home shard */
	const ra_actor_def_t *def;	/* borrowed from the spawner */
	void *state;			/* def->state_size bytes after us */
	void *init_arg;			/* for init, then unused */
	ra_ref_t ref;			/* our own reference */
	uint8_t status;			/* enum ra_actor_status */
	bool in_runq;			/* queued on shard->runq */
	/*
	 * The slot says STEALABLE, so cross-thread senders count their
	 * messages: spawned RA_SPAWN_STEALABLE, or made so at run time.
	 */
	bool stealable;
	bool steal_ok;			/* ra_set_stealable(): may move now */
	bool stop_requested;		/* stop after the current callback */
	int stop_reason;		/* first reason given */
	/*
	 * Units of this actor's work between two clock reads of the pass
	 * bound, learnt from its own runs (shard/shard.c, "Liveness").
	 */
	uint32_t check_units;
	unsigned io_pending;		/* requests awaiting their CQE */
	ra_list_t io_list;		/* those requests, for cancellation */
	/*
	 * Buffers of the shard's buffer ring it holds (io/bufring.c): lent
	 * in messages of its mailbox, or claimed (ra_io_buf_claim). They
	 * belong to this shard's ring, so it may not move while any is out.
	 */
	unsigned io_bufs;
	ra_list_t bufs_claimed;		/* claimed ones: returned at its stop */
	/*
	 * ra_io_timeout_next(): the deadline (ns) its next I/O call in this
	 * callback gets; 0 = none. Cleared when the callback returns.
	 */
	uint64_t io_timeout_ns;
	ra_list_t all_node;		/* in the shard's list of its actors */
	ra_envelope_t *cur_env;		/* envelope of the running behavior */
	bool trap_exit;			/* ra_trap_exit() */
	/*
	 * Made stealable at run time: it may move only once its shard's
	 * fence_done reaches this round (actors/fence.h); 0 = no wait.
	 */
	uint64_t fence_round;
	/* Links, monitors, name, exit text (actors/links.h); NULL = none. */
	struct ra_links *links;
	/* Armed timers and outstanding asks (actors/timers.h); NULL = none. */
	struct ra_timers *timers;
};

typedef struct ra_actor ra_actor_t;

/* Queue `a` to run if it may run and is not queued yet. Home shard. */
static inline void ra__actor_schedule(ra_shard_t *sh, ra_actor_t *a)
{
	if (!a->in_runq && (a->status == RA_ACTOR_RUNNING ||
			    a->status == RA_ACTOR_READY)) {
		a->in_runq = true;
		ra__runq_push(&sh->runq, &a->runq_node);
	}
}

/*
 * Put `e` in `a`'s mailbox and schedule it. Home shard. The shard's
 * backlog (part of its published load) counts every queued message.
 */
static inline void ra__actor_enqueue(ra_shard_t *sh, ra_actor_t *a,
				     ra_envelope_t *e)
{
	ra__mailbox_push(&a->mbox, e);
	sh->backlog++;
	ra__actor_schedule(sh, a);
}

/* Take the oldest message of `a`, or NULL. Home shard. */
static inline ra_envelope_t *ra__actor_pop(ra_shard_t *sh, ra_actor_t *a)
{
	ra_envelope_t *e = ra__mailbox_pop(&a->mbox);

	if (e)
		sh->backlog--;
	return e;
}

/* Whether `a` may not arm timers, ask or start I/O any more: it is stopping. */
static inline bool ra__actor_stopping(const ra_actor_t *a)
{
	return a->stop_requested || a->status == RA_ACTOR_STOPPING;
}

/* Join / leave the shard's list of its actors. Home shard. */
void ra__actor_list_add(ra_shard_t *sh, ra_actor_t *a);
void ra__actor_list_del(ra_shard_t *sh, ra_actor_t *a);

/* The SPAWN arrived (or a local spawn): join the shard, run init soon. */
void ra__actor_attach(ra_shard_t *sh, ra_actor_t *a);

/*
 * ra__actor_run() (run the actor queued at a run-queue node: its init if
 * due, then up to the budget of messages), ra__actor_stop_all() and the
 * per-shard ra__actor_shard_init()/_fini() are in shard/hooks.h.
 */

/* Ask `a` to stop with `reason` at its next turn (first reason wins). */
void ra__actor_request_stop(ra_shard_t *sh, ra_actor_t *a, int reason);

/* A pending I/O request of a STOPPING actor finished. */
void ra__actor_io_drained(ra_shard_t *sh, ra_actor_t *a);


/* Free an actor that never reached its home (spawn roll-back). */
void ra__actor_discard(ra_actor_t *a);

#endif /* RA_ACTORS_ACTOR_H */
