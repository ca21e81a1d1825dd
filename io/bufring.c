/*
 * io/bufring.c: the shard's provided-buffer ring, lending its buffers to
 * actors, and ra_io_buf_claim() / ra_io_buf_release().
 *
 * liburing 2.3 has io_uring_register_buf_ring() but not
 * io_uring_setup_buf_ring(), so the ring is mapped here: page-aligned
 * anonymous memory for the ring (the kernel pins it at registration) and
 * a second mapping for the buffers, whose pages are committed only when
 * the kernel first writes into them.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "actors/actor.h"
#include "io/bufring.h"
#include "io/multishot.h"
#include "shard/runtime.h"

enum buf_state {
	BUF_RING = 0,	/* in the ring: the kernel may fill it */
	BUF_LENT,	/* with a message to its owner */
	BUF_CLAIMED,	/* its owner claimed it */
};

struct ra_bufmeta {
	ra_list_t node;		/* claimed: in its owner's bufs_claimed */
	struct ra_actor *owner;	/* lent or claimed: the actor holding it */
	uint8_t state;		/* enum buf_state */
};

struct ra_bufring {
	struct io_uring_buf_ring *br;	/* shared with the kernel */
	unsigned char *base;		/* count buffers of size bytes */
	size_t ring_bytes;		/* mapping lengths, for munmap */
	size_t buf_bytes;
	uint32_t size;			/* bytes per buffer */
	uint32_t count;			/* buffers, a power of two */
	uint32_t in_ring;		/* buffers in the ring (see above) */
	struct ra_bufmeta *meta;	/* [count], by buffer id */
	ra_list_t waiting;		/* recvs paused by -ENOBUFS */
};

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) & ~(pg - 1);
}

static unsigned char *buf_addr(const struct ra_bufring *b, uint16_t bid)
{
	return b->base + (size_t)bid * b->size;
}

/* Hand `bid` to the kernel: fill the next ring entry, publish the tail. */
static void ring_add(struct ra_bufring *b, uint16_t bid)
{
	io_uring_buf_ring_add(b->br, buf_addr(b, bid), b->size, bid,
			      io_uring_buf_ring_mask(b->count), 0);
	io_uring_buf_ring_advance(b->br, 1);
	b->in_ring++;
}

static void bufring_free(struct ra_bufring *b)
{
	if (b->br)
		munmap(b->br, b->ring_bytes);
	if (b->base)
		munmap(b->base, b->buf_bytes);
	free(b->meta);
	free(b);
}

static struct ra_bufring *bufring_alloc(uint32_t count, uint32_t size)
{
	struct ra_bufring *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->count = count;
	b->size = size;
	b->ring_bytes = page_round(count * sizeof(struct io_uring_buf));
	b->buf_bytes = page_round((size_t)count * size);
	b->br = map(b->ring_bytes);
	b->base = map(b->buf_bytes);
	b->meta = calloc(count, sizeof(*b->meta));
	ra__list_init(&b->waiting);
	if (!b->br || !b->base || !b->meta) {
		bufring_free(b);
		return NULL;
	}
	return b;
}

RA_COLD int ra__bufring_get(ra_shard_t *sh)
{
	const ra_config_t *cfg = &sh->rt->cfg;
	struct io_uring_buf_reg reg = { 0 };
	struct ra_bufring *b;
	int ret;

	if (ra_likely(sh->bufring != NULL))
		return 0;
	b = bufring_alloc(cfg->buf_ring_entries, cfg->buf_size);
	if (!b)
		return -ENOMEM;
	reg.ring_addr = (uint64_t)(uintptr_t)b->br;
	reg.ring_entries = b->count;
	reg.bgid = RA_BUFRING_BGID;
	ret = io_uring_register_buf_ring(&sh->ring, &reg, 0);
	if (ret < 0) {
		bufring_free(b);
		return ret;
	}
	io_uring_buf_ring_init(b->br);
	for (uint32_t bid = 0; bid < b->count; bid++)
		ring_add(b, (uint16_t)bid);
	sh->bufring = b;
	return 0;
}

RA_COLD void ra__bufring_destroy(ra_shard_t *sh)
{
	/* The ring is closed: the kernel let go of both mappings. */
	if (sh->bufring)
		bufring_free(sh->bufring);
	sh->bufring = NULL;
}

void *ra__bufring_taken(ra_shard_t *sh, uint16_t bid)
{
	struct ra_bufring *b = sh->bufring;

	b->in_ring--;
	return buf_addr(b, bid);
}

void ra__bufring_lend(ra_shard_t *sh, ra_actor_t *a, uint16_t bid)
{
	struct ra_bufmeta *m = &sh->bufring->meta[bid];

	m->state = BUF_LENT;
	m->owner = a;
	a->io_bufs++;
}

unsigned ra__bufring_available(const ra_shard_t *sh)
{
	return sh->bufring->in_ring;
}

void ra__bufring_wait(ra_shard_t *sh, ra_io_req_t *req)
{
	req->state = RA_IOS_NOBUFS;
	ra__list_insert_tail(&sh->bufring->waiting, &req->wait_node);
}

void ra__bufring_unwait(ra_io_req_t *req)
{
	ra__list_remove(&req->wait_node);
}

/*
 * Buffers came back: re-arm the recvs that waited for them, every one,
 * since each may be the one whose socket has data. Those that find the
 * ring empty again wait for the next buffer: this costs SQEs per
 * returned buffer, never a loop without one. A recv whose actor is
 * stopping stays: its cancellation ends it.
 */
static void resume_waiting(ra_shard_t *sh, struct ra_bufring *b)
{
	ra_list_t *n, *tmp;

	ra_list_for_each_safe(n, tmp, &b->waiting) {
		ra_io_req_t *req = ra_container_of(n, ra_io_req_t, wait_node);

		if (ra__actor_stopping(req->actor))
			continue;
		ra__list_remove(n);
		if (ra__multishot_rearm(sh, req) < 0) {
			/* No SQE: wait for the next buffer. */
			ra__bufring_wait(sh, req);
			return;
		}
	}
}

void ra__bufring_put(ra_shard_t *sh, uint16_t bid)
{
	struct ra_bufring *b = sh->bufring;
	struct ra_bufmeta *m = &b->meta[bid];

	m->state = BUF_RING;
	m->owner = NULL;
	ring_add(b, bid);
	if (ra_unlikely(!ra__list_empty(&b->waiting)))
		resume_waiting(sh, b);
}

/* `a` no longer holds `bid`: back to the ring. */
static void give_back(ra_shard_t *sh, ra_actor_t *a, uint16_t bid)
{
	a->io_bufs--;
	ra__bufring_put(sh, bid);
}

void ra__bufring_return_env(ra_shard_t *sh, ra_envelope_t *env)
{
	struct ra_bufmeta *m = &sh->bufring->meta[env->u.io.bid];

	/*
	 * Claimed: its owner keeps it. Claimed and released within the
	 * same call: already in the ring, and not yet lent again (no CQE
	 * is reaped inside a behavior call).
	 */
	if (m->state == BUF_LENT)
		give_back(sh, m->owner, env->u.io.bid);
}

void ra__bufring_release_all(ra_shard_t *sh, ra_actor_t *a)
{
	struct ra_bufring *b = sh->bufring;
	ra_list_t *n;

	while ((n = ra__list_pop_head(&a->bufs_claimed))) {
		struct ra_bufmeta *m = ra_container_of(n, struct ra_bufmeta,
						       node);

		give_back(sh, a, (uint16_t)(m - b->meta));
	}
}

/* ---- public calls ---- */

RA_API void *ra_io_buf_claim(ra_ctx_t *self, const ra_msg_t *msg)
{
	ra_envelope_t *e = self ? self->cur_env : NULL;
	struct ra_bufmeta *m;

	if (!e || !msg || !(e->flags & RA_ENV_RINGBUF) ||
	    msg->data != e->u.io.buf)
		return NULL;	/* not the message this call is handling */
	m = &self->shard->bufring->meta[e->u.io.bid];
	if (m->state != BUF_LENT || m->owner != self)
		return NULL;	/* claimed already */
	m->state = BUF_CLAIMED;
	ra__list_insert_tail(&self->bufs_claimed, &m->node);
	return e->u.io.buf;
}

RA_API int ra_io_buf_release(ra_ctx_t *self, void *buf)
{
	struct ra_bufring *b = self ? self->shard->bufring : NULL;
	uintptr_t base = b ? (uintptr_t)b->base : 0, p = (uintptr_t)buf;
	struct ra_bufmeta *m;
	size_t off;

	/* Compared as integers: `buf` may point anywhere. */
	if (!b || p < base || p - base >= (size_t)b->count * b->size)
		return -EINVAL;
	off = p - base;
	if (off % b->size)
		return -EINVAL;	/* inside a buffer, not its start */
	m = &b->meta[off / b->size];
	if (m->state != BUF_CLAIMED || m->owner != self)
		return -EINVAL;
	ra__list_remove(&m->node);
	give_back(self->shard, self, (uint16_t)(off / b->size));
	return 0;
}
