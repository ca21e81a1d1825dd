/*
 * mailbox/envelope.c: envelopes for non-shard senders and the runtime's
 * own control messages, payload ownership, and release: every envelope
 * ends here once its message was handled or became a dead letter.
 */
#include <stdlib.h>
#include <string.h>

#include "mailbox/envelope.h"
#include "mailbox/msgring.h"
#include "mailbox/pool.h"
#include "shard/shard.h"

ra_envelope_t *ra__envelope_heap_alloc(void)
{
	ra_envelope_t *e = aligned_alloc(RA_CACHELINE, sizeof(*e));

	if (e) {
		e->origin = RA_ORIGIN_HEAP;
		e->flags = 0;
		e->kind = RA_ENV_USER;
	}
	return e;
}

ra_envelope_t *ra__envelope_control(ra_pool_t *p, uint8_t kind,
				    ra_ref_t to)
{
	ra_envelope_t *e = p ? ra__pool_get(p) : ra__envelope_heap_alloc();

	if (e) {
		e->to = to;
		e->from = RA_REF_NULL;
		e->type = 0;
		e->len = 0;
		e->sent_ns = 0;
		e->kind = kind;
	}
	return e;
}

void ra__envelope_drop_payload(ra_envelope_t *e)
{
	if (e->flags & RA_ENV_OWNED) {
		free(e->u.buf);
		e->flags &= (uint8_t)~RA_ENV_OWNED;
	}
}

void ra__envelope_release(struct ra_shard *sh, ra_envelope_t *e)
{
	ra__envelope_drop_payload(e);
	if (ra_likely(e->origin == sh->id))
		ra__pool_put(sh->pool, e);
	else if (e->origin == RA_ORIGIN_HEAP)
		free(e);
	else
		ra__msgring_return(sh, e);
}
