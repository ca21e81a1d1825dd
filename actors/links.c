/*
 * actors/links.c: exit reasons, links and monitors (see signal.h).
 *
 * Semantics follow Erlang/OTP: a link is set on the caller's side at
 * once and on the partner's when the LINK arrives; a partner that is
 * dead by then answers with an exit signal `noproc`. An exit signal is
 * acted on only while its sender is still in the receiver's link list,
 * so after ra_unlink() no signal of that link is seen, even one already
 * in flight. Likewise a DOWN is delivered only while its mref is in the
 * watcher's list; delivering or demonitoring removes it, which gives
 * "exactly once" and demonitor's flush without searching the mailbox.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/links.h"
#include "actors/send.h"
#include "mailbox/pool.h"
#include "shard/runtime.h"

_Static_assert(RA_EXIT_SHUTDOWN == -ESHUTDOWN, "shutdown is -ESHUTDOWN");
_Static_assert(RA_EXIT_NOPROC == -ESRCH, "noproc is -ESRCH");

struct ra_links *ra__links_get(ra_actor_t *a)
{
	if (!a->links)
		a->links = calloc(1, sizeof(*a->links));
	return a->links;
}

void ra__links_free(ra_actor_t *a)
{
	struct ra_links *lk = a->links;

	if (!lk)
		return;
	free(lk->links);
	free(lk->watchers);
	free(lk->watching);
	free(lk);
	a->links = NULL;
}

/* Make room for one more element of `size` bytes in *v. */
static int grow(void *v, uint32_t *cap, uint32_t n, size_t size)
{
	void **pv = v;
	uint32_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	p = realloc(*pv, (size_t)ncap * size);
	if (!p)
		return -ENOMEM;
	*pv = p;
	*cap = ncap;
	return 0;
}

static int link_find(const struct ra_links *lk, ra_ref_t r)
{
	for (uint32_t i = 0; lk && i < lk->nlinks; i++)
		if (ra_ref_eq(lk->links[i], r))
			return (int)i;
	return -1;
}

static int link_add(ra_actor_t *a, ra_ref_t r)
{
	struct ra_links *lk = ra__links_get(a);

	if (!lk)
		return -ENOMEM;
	if (link_find(lk, r) >= 0)
		return 0;
	if (grow(&lk->links, &lk->links_cap, lk->nlinks, sizeof(r)) < 0)
		return -ENOMEM;
	lk->links[lk->nlinks++] = r;
	return 0;
}

/* Remove the link with `r`; whether there was one. Order is not kept. */
static bool link_del(ra_actor_t *a, ra_ref_t r)
{
	struct ra_links *lk = a->links;
	int i = link_find(lk, r);

	if (i < 0)
		return false;
	lk->links[i] = lk->links[--lk->nlinks];
	return true;
}

/* Index of the monitor with `mref` (and, if not null, `ref`), or -1. */
static int mon_find(const struct ra_mon *v, uint32_t n, uint64_t mref,
		    ra_ref_t ref)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i].mref == mref &&
		    (ra_ref_is_null(ref) || ra_ref_eq(v[i].ref, ref)))
			return (int)i;
	return -1;
}

static int mon_add(struct ra_mon **v, uint32_t *n, uint32_t *cap,
		   ra_ref_t ref, uint64_t mref)
{
	if (grow(v, cap, *n, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = (struct ra_mon){ ref, mref };
	return 0;
}

static bool mon_del(struct ra_mon *v, uint32_t *n, uint64_t mref,
		    ra_ref_t ref)
{
	int i = mon_find(v, *n, mref, ref);

	if (i < 0)
		return false;
	v[i] = v[--*n];
	return true;
}

static void copy_why(char *dst, const char *why)
{
	size_t len = why ? strnlen(why, RA_EXIT_WHY_MAX - 1) : 0;

	if (len)
		memcpy(dst, why, len);
	dst[len] = '\0';
}

void ra__links_request_exit(ra_shard_t *sh, ra_actor_t *a, int code,
			    const char *why)
{
	if (a->stop_requested)
		return;
	/* Without memory the text is lost, never the exit. */
	if (why && *why && ra__links_get(a))
		copy_why(a->links->why, why);
	ra__actor_request_stop(sh, a, code);
}

static int send_exit(ra_shard_t *sh, ra_ref_t who, ra_ref_t to, int code,
		     const char *why)
{
	ra_exit_info_t x = { .who = who, .code = code };

	copy_why(x.why, why);
	return ra__send_signal(sh, who, to, RA_ENV_EXIT, RA_MSG_EXIT, &x,
			       sizeof(x));
}

static int send_down(ra_shard_t *sh, ra_ref_t who, ra_ref_t to,
		     uint64_t mref, int code, const char *why)
{
	ra_down_info_t d = { .mref = mref, .who = who, .code = code };

	copy_why(d.why, why);
	return ra__send_signal(sh, who, to, RA_ENV_DOWN, RA_MSG_DOWN, &d,
			       sizeof(d));
}

void ra__links_noproc(ra_shard_t *sh, const ra_envelope_t *e)
{
	uint64_t mref;

	if (e->kind == RA_ENV_LINK) {
		(void)send_exit(sh, e->to, e->from, RA_EXIT_NOPROC, NULL);
	} else if (e->kind == RA_ENV_MONITOR) {
		memcpy(&mref, ra__envelope_data((ra_envelope_t *)e), sizeof(mref));
		(void)send_down(sh, e->to, e->from, mref, RA_EXIT_NOPROC,
				NULL);
	}
}

/* An exit signal reached a running actor that is linked to its sender. */
static bool exit_signal(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	ra_exit_info_t x;

	memcpy(&x, ra__envelope_data(e), sizeof(x));
	if (!link_del(a, x.who))
		return false;	/* unlinked meanwhile: OTP drops it */
	if (a->trap_exit)
		return true;
	if (x.code != RA_EXIT_NORMAL)
		ra__links_request_exit(sh, a, x.code, x.why);
	return false;
}

/*
 * An exit signal from ra_exit_other() (OTP exit/2): `kill` cannot be
 * trapped and ends the actor as `killed`; any other code becomes an
 * RA_MSG_EXIT for a trapping actor, and otherwise ends it unless it is
 * `normal` (which OTP ignores, except from the actor itself). Returns
 * true when it is now a message for the behavior.
 */
static bool exit_direct(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	ra_exit_info_t x;

	memcpy(&x, ra__envelope_data(e), sizeof(x));
	if (x.code == RA_EXIT_KILL) {
		ra__links_request_exit(sh, a, RA_EXIT_KILLED, "killed");
		return false;
	}
	if (a->trap_exit)
		return true;
	if (x.code != RA_EXIT_NORMAL || ra_ref_eq(x.who, a->ref))
		ra__links_request_exit(sh, a, x.code, x.why);
	return false;
}

bool ra__links_exit_now(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	if (a->status == RA_ACTOR_STOPPING)
		return false;
	return exit_direct(sh, a, e);
}

/*
 * A LINK or MONITOR the target could not record (ENOMEM) is answered
 * like one to a dead actor, with that code and a text saying why, so the
 * asker learns of it and drops its half instead of waiting forever.
 */
static void refuse_signal(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	uint64_t mref;

	if (e->kind == RA_ENV_LINK) {
		(void)send_exit(sh, a->ref, e->from, -ENOMEM,
				"link not made: out of memory");
	} else {
		memcpy(&mref, ra__envelope_data(e), sizeof(mref));
		(void)send_down(sh, a->ref, e->from, mref, -ENOMEM,
				"monitor not made: out of memory");
	}
}

static int watcher_add(ra_actor_t *a, ra_ref_t from, uint64_t mref)
{
	struct ra_links *lk = ra__links_get(a);

	if (!lk)
		return -ENOMEM;
	return mon_add(&lk->watchers, &lk->nwatchers, &lk->watchers_cap,
		       from, mref);
}

bool ra__links_receive(ra_shard_t *sh, ra_actor_t *a, ra_envelope_t *e)
{
	bool stopping = a->status == RA_ACTOR_STOPPING;
	bool run = false;
	uint64_t mref = 0;

	if (e->kind == RA_ENV_MONITOR || e->kind == RA_ENV_DEMONITOR)
		memcpy(&mref, ra__envelope_data(e), sizeof(mref));
	switch (e->kind) {
	case RA_ENV_LINK:
		if (link_add(a, e->from) < 0)
			refuse_signal(sh, a, e);
		break;
	case RA_ENV_UNLINK:
		(void)link_del(a, e->from);
		break;
	case RA_ENV_MONITOR:
		if (watcher_add(a, e->from, mref) < 0)
			refuse_signal(sh, a, e);
		break;
	case RA_ENV_DEMONITOR:
		if (a->links)
			(void)mon_del(a->links->watchers, &a->links->nwatchers,
				      mref, e->from);
		break;
	case RA_ENV_EXIT:
		if (!stopping)
			run = exit_signal(sh, a, e);
		break;
	case RA_ENV_DOWN:
		memcpy(&mref, ra__envelope_data(e), sizeof(mref));
		run = !stopping && a->links &&
		      mon_del(a->links->watching, &a->links->nwatching, mref,
			      RA_REF_NULL);
		break;
	case RA_ENV_EXIT_DIRECT:
		/* Queued for a trapping actor; it may have stopped trapping. */
		if (!stopping)
			run = exit_direct(sh, a, e);
		break;
	}
	if (!run)
		ra__envelope_release(sh, e);
	return run;
}

void ra__links_exit(ra_shard_t *sh, ra_actor_t *a)
{
	struct ra_links *lk = a->links;
	int code = a->stop_reason;

	if (!lk)
		return;
	for (uint32_t i = 0; i < lk->nwatchers; i++)
		(void)send_down(sh, a->ref, lk->watchers[i].ref,
				lk->watchers[i].mref, code, lk->why);
	lk->nwatchers = 0;
	for (uint32_t i = 0; i < lk->nlinks; i++)
		(void)send_exit(sh, a->ref, lk->links[i], code, lk->why);
	lk->nlinks = 0;
	ra__registry_release(a);
}

int ra__links_spawn_prepare(ra_actor_t *parent, ra_actor_t *child)
{
	struct ra_links *lk = ra__links_get(parent);
	int ret;

	if (!lk)
		return -ENOMEM;
	ret = grow(&lk->links, &lk->links_cap, lk->nlinks,
		   sizeof(*lk->links));
	if (ret == 0)
		ret = link_add(child, parent->ref);
	return ret;
}

void ra__links_spawn_commit(ra_actor_t *parent, ra_ref_t child)
{
	/* Room was made by ra__links_spawn_prepare(): cannot fail. */
	parent->links->links[parent->links->nlinks++] = child;
}

/* ---- public API ---- */

RA_API void ra_exit(ra_ctx_t *self, int code, const char *why)
{
	if (self)
		ra__links_request_exit(self->shard, self, code, why);
}

RA_API int ra_link(ra_ctx_t *self, ra_ref_t ref)
{
	ra_shard_t *sh;
	int ret;

	if (!self)
		return -EINVAL;
	if (ra_ref_eq(ref, self->ref))
		return 0;	/* OTP: linking to self is a no-op */
	sh = self->shard;
	if (link_find(self->links, ref) >= 0)
		return 0;
	ret = link_add(self, ref);
	if (ret < 0)
		return ret;
	ret = ra__send_signal(sh, self->ref, ref, RA_ENV_LINK, 0, NULL, 0);
	if (ret == -ESRCH)	/* dead: noproc, as a signal like OTP's */
		ret = send_exit(sh, ref, self->ref, RA_EXIT_NOPROC, NULL);
	if (ret < 0)
		(void)link_del(self, ref);
	return ret;
}

RA_API int ra_unlink(ra_ctx_t *self, ra_ref_t ref)
{
	if (!self)
		return -EINVAL;
	if (!link_del(self, ref))
		return 0;
	/*
	 * If this send fails the partner keeps a stale link: its exit
	 * signal is then dropped here (not in our list), and we send it
	 * none, so the unlink holds either way.
	 */
	(void)ra__send_signal(self->shard, self->ref, ref, RA_ENV_UNLINK, 0,
			      NULL, 0);
	return 0;
}

RA_API int ra_trap_exit(ra_ctx_t *self, bool on)
{
	int old;

	if (!self)
		return -EINVAL;
	old = self->trap_exit;
	self->trap_exit = on;
	return old;
}

RA_API int ra_monitor(ra_ctx_t *self, ra_ref_t ref, uint64_t *mref_out)
{
	struct ra_links *lk;
	ra_shard_t *sh;
	uint64_t mref;
	int ret;

	if (!self || !mref_out)
		return -EINVAL;
	sh = self->shard;
	lk = ra__links_get(self);
	if (!lk)
		return -ENOMEM;
	mref = ck_pr_faa_64(&sh->rt->next_mref, 1) + 1;
	ret = mon_add(&lk->watching, &lk->nwatching, &lk->watching_cap,
		      ref, mref);
	if (ret < 0)
		return ret;
	ret = ra__send_signal(sh, self->ref, ref, RA_ENV_MONITOR, 0, &mref,
			      sizeof(mref));
	if (ret == -ESRCH)
		ret = send_down(sh, ref, self->ref, mref, RA_EXIT_NOPROC, NULL);
	if (ret < 0) {
		(void)mon_del(lk->watching, &lk->nwatching, mref,
			      RA_REF_NULL);
		return ret;
	}
	*mref_out = mref;
	return 0;
}

RA_API int ra_demonitor(ra_ctx_t *self, uint64_t mref)
{
	struct ra_links *lk;
	int i;

	if (!self)
		return -EINVAL;
	lk = self->links;
	i = lk ? mon_find(lk->watching, lk->nwatching, mref, RA_REF_NULL)
		: -1;
	if (i < 0)
		return -ENOENT;
	/*
	 * Forgetting the mref is what matters: a DOWN for it, queued or in
	 * flight, is dropped on arrival. Telling the target only saves it
	 * a DOWN; if that send fails, the DOWN is dropped here.
	 */
	(void)ra__send_signal(self->shard, self->ref, lk->watching[i].ref,
			      RA_ENV_DEMONITOR, 0, &mref, sizeof(mref));
	lk->watching[i] = lk->watching[--lk->nwatching];
	return 0;
}

static int exit_info(ra_ref_t who, int code, const char *why,
		     ra_exit_info_t *x)
{
	if (code == RA_EXIT_KILLED)
		return -EINVAL;	/* `killed` is a result; ask with KILL */
	*x = (ra_exit_info_t){ .who = who, .code = code };
	copy_why(x->why, why);
	return 0;
}

RA_API int ra_exit_other(ra_ctx_t *self, ra_ref_t target, int code,
			 const char *why)
{
	ra_exit_info_t x;
	int ret;

	if (!self)
		return -EINVAL;
	ret = exit_info(self->ref, code, why, &x);
	if (ret == 0)
		ret = ra__send_signal(self->shard, self->ref, target,
				      RA_ENV_EXIT_DIRECT, RA_MSG_EXIT, &x,
				      sizeof(x));
	return ret;
}

RA_API int ra_runtime_exit_actor(ra_runtime_t *rt, ra_ref_t target, int code,
				 const char *why)
{
	ra_exit_info_t x;
	int ret = exit_info(RA_REF_NULL, code, why, &x);

	if (ret == 0)
		ret = ra__send_signal_outside(rt, target, RA_ENV_EXIT_DIRECT,
					      RA_MSG_EXIT, &x, sizeof(x));
	return ret;
}
