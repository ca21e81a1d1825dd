/*
 * actors/spawn.c: creating actors.
 *
 * The spawner allocates and fills the actor, publishes it in the actor
 * table (so the reference works at once), then hands it to its home
 * shard: directly when that is the spawner's own shard, else with a SPAWN
 * envelope in the same outbox as the spawner's later messages to it, so
 * those can never overtake it. Messages from third parties that arrive
 * before the SPAWN wait in the mailbox (status STARTING).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/actor.h"
#include "actors/links.h"
#include "actors/slot.h"
#include "actors/steal.h"
#include "mailbox/inject.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/errors.h"
#include "shard/runtime.h"

static int pick_home(ra_runtime_t *rt, ra_shard_t *sh,
		     const ra_spawn_opts_t *opts, unsigned *home)
{
	enum ra_placement p = opts ? opts->placement : RA_PLACE_LOCAL;

	switch (p) {
	case RA_PLACE_LOCAL:
		if (sh) {
			*home = sh->id;
			return 0;
		}
		/* Outside a shard, local means anywhere. */
		__attribute__((fallthrough));
	case RA_PLACE_ROUND_ROBIN:
		*home = ck_pr_faa_32(&rt->rr_next, 1) % rt->nshards;
		return 0;
	case RA_PLACE_SHARD:
		if (opts->shard >= rt->nshards)
			return -EINVAL;
		*home = opts->shard;
		return 0;
	case RA_PLACE_LEAST_LOADED:
		*home = ra__steal_least_loaded(rt, sh);
		return 0;
	}
	return -EINVAL;
}

/* Actor struct and state in one allocation; state 16-byte aligned. */
#define ACTOR_HEAD_SIZE ((sizeof(ra_actor_t) + 15) & ~(size_t)15)

static ra_actor_t *actor_alloc(ra_runtime_t *rt, const ra_actor_def_t *def,
			       void *arg, unsigned home)
{
	ra_actor_t *a = aligned_alloc(16, ACTOR_HEAD_SIZE +
				      ((def->state_size + 15) & ~(size_t)15));

	if (!a)
		return NULL;
	memset(a, 0, ACTOR_HEAD_SIZE + def->state_size);
	ra__mailbox_init(&a->mbox);
	ra__list_init(&a->all_node);
	ra__list_init(&a->io_list);
	ra__list_init(&a->bufs_claimed);
	a->shard = rt->shards[home];
	a->def = def;
	a->state = (char *)a + ACTOR_HEAD_SIZE;
	a->init_arg = arg;
	a->status = RA_ACTOR_STARTING;
	a->check_units = RA_PASS_CHECK_START;
	return a;
}

/* Give the new actor a slot and publish it; returns the slot. */
static int publish(ra_runtime_t *rt, ra_shard_t *sh, ra_actor_t *a,
		   unsigned home, ra_slot_t **slot_out)
{
	uint32_t idx;
	ra_slot_t *s;
	int ret = ra__slot_alloc(rt->slots, sh ? sh->slots : NULL, &idx);

	if (ret < 0)
		return ret;
	s = ra__slot_get(rt->slots, idx);
	a->ref.slot = idx;
	a->ref.gen = ra__slot_next_gen(s);
	ra__slot_publish(s, a, a->ref.gen, home, a->stealable);
	*slot_out = s;
	return 0;
}

/* Undo publish(): nobody can have delivered to it (not attached yet). */
static void unpublish(ra_runtime_t *rt, ra_shard_t *sh, ra_slot_t *s,
		      ra_actor_t *a)
{
	ra__slot_kill(s);
	if (sh)
		(void)ra__slot_free(sh->slots, a->ref.slot);
	ra__actor_discard(a);
	ra__runtime_actor_gone(rt);
}

/* Hand a published actor to its home shard. */
static int hand_over(ra_runtime_t *rt, ra_shard_t *sh, ra_actor_t *a,
		     unsigned home, ra_slot_t *s)
{
	ra_envelope_t *e;
	int ret;

	if (sh)
		ra__shard_work(sh);
	if (sh && home == sh->id) {
		ra__actor_attach(sh, a);
		return 0;
	}
	e = ra__envelope_control(sh ? sh->pool : NULL, RA_ENV_SPAWN,
				 a->ref);
	if (!e) {
		unpublish(rt, sh, s, a);
		return -ENOMEM;
	}
	if (sh) {
		ra__msgring_post(sh, home, e);
		return 0;
	}
	ret = ra__inject_send(rt, home, e);
	if (ret < 0) {
		free(e);
		unpublish(rt, sh, s, a);
	}
	return ret;
}

#define SPAWN_FLAGS (RA_SPAWN_STEALABLE | RA_SPAWN_LINK)

/* Allocate the actor with its flags; RA_SPAWN_LINK links it to `parent`. */
static ra_actor_t *make_actor(ra_runtime_t *rt, const ra_actor_def_t *def,
			      void *arg, unsigned home, unsigned flags,
			      ra_actor_t *parent)
{
	ra_actor_t *a = actor_alloc(rt, def, arg, home);

	if (!a)
		return NULL;
	if (flags & RA_SPAWN_STEALABLE)
		a->stealable = a->steal_ok = true;
	if ((flags & RA_SPAWN_LINK) &&
	    ra__links_spawn_prepare(parent, a) < 0) {
		ra__actor_discard(a);
		return NULL;
	}
	return a;
}

/*
 * Why `def`, `opts` (flags) and `parent` cannot make an actor: a text for
 * ra_last_error(), or NULL when they can.
 */
static const char *bad_args(const ra_actor_def_t *def, unsigned flags,
			    const ra_actor_t *parent)
{
	if (!def)
		return "def is NULL";
	if (!def->behavior)
		return "def->behavior is NULL";
	if (flags & ~SPAWN_FLAGS)
		return "opts->flags has bits that are not RA_SPAWN_*";
	if ((flags & RA_SPAWN_LINK) && !parent)
		return "RA_SPAWN_LINK needs a spawning actor (use ra_spawn)";
	return NULL;
}

static int spawn(ra_runtime_t *rt, ra_actor_t *parent,
		 const ra_actor_def_t *def, void *arg,
		 const ra_spawn_opts_t *opts, ra_ref_t *out)
{
	ra_shard_t *sh = parent ? parent->shard : NULL;
	unsigned flags = opts ? opts->flags : 0;
	ra_actor_t *a;
	ra_slot_t *s;
	ra_ref_t ref;
	unsigned home;
	int ret;

	ra__errors_clear();
	if (bad_args(def, flags, parent)) {
		ra__errors_set("spawn: %s", bad_args(def, flags, parent));
		return -EINVAL;
	}
	ret = pick_home(rt, sh, opts, &home);
	if (ret < 0) {
		ra__errors_set("spawn: opts->shard %u >= %u shards, or "
			       "opts->placement %d unknown", opts->shard,
			       rt->nshards, (int)opts->placement);
		return ret;
	}
	ret = ra__runtime_actor_new(rt);
	if (ret < 0) {
		ra__errors_set("spawn: the runtime is being destroyed");
		return ret;
	}
	a = make_actor(rt, def, arg, home, flags, parent);
	if (!a || publish(rt, sh, a, home, &s) < 0) {
		if (a)
			ra__actor_discard(a);
		ra__runtime_actor_gone(rt);
		ra__errors_set("spawn: out of memory (actor state of %zu "
			       "bytes, or the actor table is full)",
			       def->state_size);
		return -ENOMEM;
	}
	if (flags & RA_SPAWN_LINK)
		ra__links_spawn_commit(parent, a->ref);
	/* Once handed over, `a` may run and even be freed on its home. */
	ref = a->ref;
	ret = hand_over(rt, sh, a, home, s);
	if (ret < 0)
		ra__errors_set("spawn: handing the actor to shard %u failed: "
			       "%s", home, ra_strerror(ret));
	if (ret < 0 && (flags & RA_SPAWN_LINK))
		(void)ra_unlink(parent, ref);
	if (out)
		*out = ret < 0 ? RA_REF_NULL : ref;
	return ret;
}

RA_API int ra_spawn(ra_ctx_t *self, const ra_actor_def_t *def, void *arg,
		    const ra_spawn_opts_t *opts, ra_ref_t *out)
{
	if (!self) {
		ra__errors_set("ra_spawn: self is NULL");
		return -EINVAL;
	}
	return spawn(self->shard->rt, self, def, arg, opts, out);
}

RA_API int ra_runtime_spawn(ra_runtime_t *rt, const ra_actor_def_t *def,
			    void *arg, const ra_spawn_opts_t *opts,
			    ra_ref_t *out)
{
	if (!rt) {
		ra__errors_set("ra_runtime_spawn: rt is NULL");
		return -EINVAL;
	}
	if (ra__shard_tls) {
		ra__errors_set("ra_runtime_spawn: called from a shard thread "
			       "(use ra_spawn)");
		return -EDEADLK;
	}
	return spawn(rt, NULL, def, arg, opts, out);
}
