/*
 * actors/send.c: sending messages and delivering them on arrival.
 *
 * Same shard: the envelope goes straight into the target's mailbox (no
 * syscall, no atomic). Other shard: into this shard's outbox for the
 * target's home, flushed as one IORING_OP_MSG_RING at the end of the turn
 * (core/msgring.c). Non-shard threads go through the runtime's injection
 * ring (core/runtime.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/actor.h"
#include "core/msgring.h"
#include "core/runtime.h"
#include "mailbox/pool.h"

void ra__deliver(ra_shard_t *sh, ra_envelope_t *e)
{
	ra_actor_t *a = ra__slot_actor_local(sh->rt->slots, e->to, sh->id);

	if (ra_unlikely(!a)) {
		if (e->kind == RA_ENV_USER)
			ra__stat_inc(&sh->stats.dead_letters);
		ra__envelope_release(sh, e);
		return;
	}
	if (ra_unlikely(e->kind == RA_ENV_SPAWN)) {
		ra__envelope_release(sh, e);
		ra__actor_attach(sh, a);
		return;
	}
	ra__actor_enqueue(sh, a, e);
}

/* Local or cross-shard hand-off of a filled envelope from shard `sh`. */
static void route(ra_shard_t *sh, unsigned home, ra_envelope_t *e)
{
	if (home == sh->id) {
		ra__stat_inc(&sh->stats.msgs_local);
		ra__deliver(sh, e);
	} else {
		ra__stat_inc(&sh->stats.msgs_remote);
		ra__msgring_post(sh, home, e);
	}
}

static int check_payload(uint32_t type, const void *data, size_t len)
{
	if (type > RA_MSG_USER_MAX || (len && !data) || len > UINT32_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Put the payload in `e`: inline when small, else a copy (copy == true)
 * or the caller's buffer taken over. -ENOMEM leaves `e` without payload.
 */
static int fill_payload(ra_envelope_t *e, const void *data, size_t len,
			bool copy)
{
	e->len = (uint32_t)len;
	if (len <= RA_INLINE_PAYLOAD && copy) {
		if (len)
			memcpy(e->u.inl, data, len);
		return 0;
	}
	if (copy) {
		void *buf = malloc(len);

		if (!buf)
			return -ENOMEM;
		memcpy(buf, data, len);
		data = buf;
	}
	e->u.buf = (void *)data;
	e->flags |= RA_ENV_OWNED;
	return 0;
}

static void fill_header(ra_envelope_t *e, ra_ref_t to, ra_ref_t from,
			uint32_t type, uint8_t kind, uint64_t sent_ns)
{
	e->to = to;
	e->from = from;
	e->type = type;
	e->kind = kind;
	e->len = 0;
	e->sent_ns = sent_ns;
}

static int send_from_shard(ra_ctx_t *self, ra_ref_t to, uint32_t type,
			   uint8_t kind, const void *data, size_t len,
			   bool copy)
{
	ra_shard_t *sh;
	ra_envelope_t *e;
	int home, ret;

	if (!self)
		return -EINVAL;
	ret = check_payload(type, data, len);
	if (ret < 0)
		return ret;
	sh = self->shard;
	home = ra__slot_resolve_any(sh->rt->slots, to);
	if (home < 0) {
		ra__stat_inc(&sh->stats.dead_letters);
		return home;
	}
	e = ra__pool_get(&sh->pool);
	if (!e)
		return -ENOMEM;
	fill_header(e, to, self->ref, type, kind, ra__shard_stamp(sh, 0));
	ret = fill_payload(e, data, len, copy);
	if (ret < 0) {
		ra__pool_put(&sh->pool, e);
		return ret;
	}
	route(sh, (unsigned)home, e);
	return 0;
}

RA_API int ra_send(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		   const void *data, size_t len)
{
	return send_from_shard(self, to, type, RA_ENV_USER, data, len, true);
}

RA_API int ra_send_buf(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		       void *buf, size_t len)
{
	return send_from_shard(self, to, type, RA_ENV_USER, buf, len, false);
}

RA_API int ra_stop_other(ra_ctx_t *self, ra_ref_t target)
{
	return send_from_shard(self, target, 0, RA_ENV_STOP, NULL, 0, true);
}

static int send_from_outside(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			     uint8_t kind, const void *data, size_t len)
{
	ra_envelope_t *e;
	int home, ret;

	if (!rt)
		return -EINVAL;
	if (ra__tls_shard)
		return -EDEADLK;
	ret = check_payload(type, data, len);
	if (ret < 0)
		return ret;
	home = ra__slot_resolve_any(rt->slots, to);
	if (home < 0)
		return home;
	e = ra__envelope_heap_alloc();
	if (!e)
		return -ENOMEM;
	fill_header(e, to, RA_REF_NULL, type, kind, 0);
	ret = fill_payload(e, data, len, true);
	if (ret == 0)
		ret = ra__runtime_inject(rt, (unsigned)home, e);
	if (ret < 0) {
		ra__envelope_drop_payload(e);
		free(e);
	}
	return ret;
}

RA_API int ra_runtime_send(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			   const void *data, size_t len)
{
	return send_from_outside(rt, to, type, RA_ENV_USER, data, len);
}

RA_API int ra_runtime_stop_actor(ra_runtime_t *rt, ra_ref_t target)
{
	return send_from_outside(rt, target, 0, RA_ENV_STOP, NULL, 0);
}

RA_API void *ra_msg_claim(ra_ctx_t *self, const ra_msg_t *msg)
{
	ra_envelope_t *e;
	void *buf;

	if (!self || !msg || !self->cur_env || msg->len == 0)
		return NULL;
	e = self->cur_env;
	if (msg->data != ra__env_data(e))
		return NULL;	/* not the message being handled */
	if (e->flags & RA_ENV_OWNED) {
		/* Hand over the buffer itself; release will not free it. */
		e->flags &= (uint8_t)~RA_ENV_OWNED;
		e->u.buf = NULL;
		return (void *)msg->data;
	}
	buf = malloc(msg->len);
	if (buf)
		memcpy(buf, msg->data, msg->len);
	return buf;
}
