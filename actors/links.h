/*
 * actors/links.h: exit reasons, links and monitors (Erlang/OTP
 * semantics; docs/architecture.md, "Supervision").
 *
 * Bookkeeping is owned by each actor's home shard and needs no lock: an
 * actor keeps its links, the monitors others hold on it (watcher + mref)
 * and the monitors it holds (target + mref) in a struct ra_links hanging
 * off the actor, allocated on first use, so actors that never link cost
 * one pointer. The actor struct moves whole when it is stolen, so the
 * lists move with it. Both ends are kept in step by signal envelopes
 * (LINK, UNLINK, MONITOR, DEMONITOR, EXIT, DOWN) sent on the normal send
 * path, so they keep per-sender FIFO with ordinary messages.
 */
#ifndef RA_ACTORS_LINKS_H
#define RA_ACTORS_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/actor.h"

/* A monitor: on the target, `ref` is the watcher; on the watcher, the target. */
struct ra_mon {
	ra_ref_t ref;
	uint64_t mref;
};

struct ra_links {
	ra_ref_t *links;		/* linked actors, no duplicates */
	uint32_t nlinks, links_cap;
	struct ra_mon *watchers;	/* monitors on this actor */
	uint32_t nwatchers, watchers_cap;
	struct ra_mon *watching;	/* this actor's active monitors */
	uint32_t nwatching, watching_cap;
	bool named;			/* `name` is registered to us */
	char name[RA_NAME_MAX + 1];
	char why[RA_EXIT_WHY_MAX];	/* exit text, first reason's */
};

/* `a`'s supervision record, allocated on first use; NULL on ENOMEM. */
struct ra_links *ra__links_get(ra_actor_t *a);

/* Free it (after terminate). */
void ra__links_free(ra_actor_t *a);

/*
 * Record the exit reason (first wins) and ask `a` to stop. `why` may be
 * NULL. Home shard.
 */
void ra__links_request_exit(ra_shard_t *sh, ra_actor_t *a, int code,
			    const char *why);

/*
 * A signal envelope (kind RA_ENV_LINK .. RA_ENV_EXIT_DIRECT) reached `a`'s turn.
 * Returns true when it is now a message for the behavior (RA_MSG_EXIT to
 * a trapping actor, RA_MSG_DOWN for an active monitor): the caller runs
 * and releases it. Otherwise it was applied and released. For a STOPPING
 * actor only the bookkeeping is applied, so that exit step 3 and 4 reach
 * everyone who linked or monitored before the slot died. Home shard.
 */
bool ra__links_receive(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e);

/*
 * `e` reached a dead (or never issued) target: a LINK is answered with
 * an EXIT noproc and a MONITOR with a DOWN noproc, from the target to
 * the sender. Does not release `e`. Any shard.
 */
void ra__links_noproc(ra_shard_t *sh, const ra_envelope_t *e);

/*
 * Exit steps 3 to 5 for `a`, whose I/O is drained: DOWN to watchers,
 * exit signals to linked actors, release the name. Home shard.
 */
void ra__links_exit(ra_shard_t *sh, ra_actor_t *a);

/*
 * An RA_ENV_EXIT_DIRECT reached its live target `a` on its shard: act on
 * it now, ahead of queued messages, as OTP handles signals before
 * messages. Returns true when it must go into the mailbox as a message
 * (a trapping actor); otherwise the caller releases it. Home shard.
 */
bool ra__links_exit_now(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e);

/*
 * RA_SPAWN_LINK: before `child` is published, link it to `parent` and
 * make room in parent's list (-ENOMEM, nothing to undo but
 * ra__links_free(child)); after it is published, commit parent's half,
 * which cannot fail. Parent's home shard.
 */
int ra__links_spawn_prepare(ra_actor_t *parent, ra_actor_t *child);
void ra__links_spawn_commit(ra_actor_t *parent, ra_ref_t child);

/* Exit step 5 alone (actors/registry.c). */
void ra__registry_release(ra_actor_t *a);

#endif /* RA_ACTORS_LINKS_H */
