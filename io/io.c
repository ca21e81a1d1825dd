/*
 * io/io.c: ra_io_*(): each operation is a request whose completion comes
 * back to the actor as an RA_MSG_IO message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/actor.h"
#include "io/io.h"
#include "mailbox/pool.h"
#include "shard/clock.h"
#include "shard/hdr_histogram.h"
#include "shard/ring.h"

/* What one operation needs; unused fields are ignored by its opcode. */
struct io_args {
	int fd;
	void *buf;
	size_t len;
	uint64_t off;
};

static ra_io_req_t *req_get(ra_shard_t *sh)
{
	ra_io_req_t *r = sh->free_reqs;

	if (r) {
		sh->free_reqs = r->next_free;
		return r;
	}
	return aligned_alloc(16, sizeof(*r));
}

static void req_put(ra_shard_t *sh, ra_io_req_t *r)
{
	r->next_free = sh->free_reqs;
	sh->free_reqs = r;
}

RA_COLD void ra__io_shard_fini(ra_shard_t *sh)
{
	while (sh->free_reqs) {
		ra_io_req_t *r = sh->free_reqs;

		sh->free_reqs = r->next_free;
		free(r);
	}
}

/*
 * The router: which shard's ring carries this request. This first slice
 * keeps every request on the actor's home ring; least-loaded routing and
 * fd affinity replace this one function.
 */
static ra_shard_t *route(ra_actor_t *a)
{
	return a->shard;
}

static void prep(struct io_uring_sqe *sqe, enum ra_io_op op,
		 const struct io_args *x)
{
	switch (op) {
	case RA_IO_READ:
		io_uring_prep_read(sqe, x->fd, x->buf, (unsigned)x->len, x->off);
		break;
	case RA_IO_WRITE:
		io_uring_prep_write(sqe, x->fd, x->buf, (unsigned)x->len,
				    x->off);
		break;
	case RA_IO_FSYNC:
		io_uring_prep_fsync(sqe, x->fd, 0);
		break;
	case RA_IO_ACCEPT:
		io_uring_prep_accept(sqe, x->fd, NULL, NULL, SOCK_CLOEXEC);
		break;
	case RA_IO_RECV:
		io_uring_prep_recv(sqe, x->fd, x->buf, x->len, 0);
		break;
	case RA_IO_SEND:
		io_uring_prep_send(sqe, x->fd, x->buf, x->len, MSG_NOSIGNAL);
		break;
	case RA_IO_CLOSE:
	default:
		io_uring_prep_close(sqe, x->fd);
		break;
	}
}

static void pending_add(ra_actor_t *a, ra_io_req_t *r)
{
	ra__list_insert_tail(&a->io_list, &r->node);
	a->io_pending++;
}

static void pending_del(ra_actor_t *a, ra_io_req_t *r)
{
	ra__list_remove(&r->node);
	a->io_pending--;
}

static int io_submit(ra_ctx_t *self, enum ra_io_op op,
		     const struct io_args *x, uint64_t tag)
{
	ra_shard_t *sh;
	ra_envelope_t *env;
	ra_io_req_t *req;
	struct io_uring_sqe *sqe;

	if (!self)
		return -EINVAL;
	if (self->status == RA_ACTOR_STOPPING || self->stop_requested)
		return -ESHUTDOWN;
	sh = route(self);
	req = req_get(sh);
	env = req ? ra__pool_get(sh->pool) : NULL;
	sqe = env ? ra__ring_get_sqe(&sh->ring) : NULL;
	if (!sqe) {
		if (env)
			ra__pool_put(sh->pool, env);
		if (req)
			req_put(sh, req);
		/* No SQE even after submitting: the kernel refused. */
		return env ? -EAGAIN : -ENOMEM;
	}
	env->to = self->ref;
	env->from = RA_REF_NULL;
	env->type = RA_MSG_IO;
	env->u.io.tag = tag;
	env->len = 0;
	req->actor = self;
	req->env = env;
	req->op = (uint8_t)op;
	env->io_op = (uint8_t)op;
	req->submit_ns = ra__clock_now_ns();
	prep(sqe, op, x);
	io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IO, req, 0));
	pending_add(self, req);
	sh->io_inflight++;
	ra__stats_inc(&sh->stats.io_submitted);
	return 0;
}

void ra__io_discard_completion(ra_shard_t *sh, ra_envelope_t *env)
{
	if (env->io_op == RA_IO_ACCEPT && env->u.io.res >= 0)
		close(env->u.io.res);
	ra__envelope_release(sh, env);
}

void ra__io_complete(ra_shard_t *sh, ra_io_req_t *req, int res,
		     uint32_t flags)
{
	ra_actor_t *a = req->actor;
	ra_envelope_t *env = req->env;
	uint64_t now = ra__clock_now_ns();

	(void)flags;	/* a single-shot request has one CQE */
	ra__stats_record(&sh->hists, RA_HIST_IO + req->op,
			 (int64_t)(now - req->submit_ns));
	pending_del(a, req);
	sh->io_inflight--;
	req_put(sh, req);
	ra__stats_inc(&sh->stats.io_completed);
	env->u.io.res = res;
	if (a->status == RA_ACTOR_STOPPING) {
		/* Drained after cancellation: the buffer is free again. */
		ra__io_discard_completion(sh, env);
		ra__actor_io_drained(sh, a);
		return;
	}
	env->sent_ns = ra__shard_stamp(sh, now);
	ra__actor_enqueue(sh, a, env);
}

void ra__io_cancel_all(ra_shard_t *sh, ra_actor_t *a)
{
	ra_list_t *n;

	ra_list_for_each(n, &a->io_list) {
		ra_io_req_t *r = ra_container_of(n, ra_io_req_t, node);
		struct io_uring_sqe *sqe = ra__ring_get_sqe(&sh->ring);

		if (!sqe)
			break;	/* the kernel refused a submit; they finish */
		io_uring_prep_cancel64(sqe, ra__ring_ud_make(RA_UD_IO, r, 0), 0);
		io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IGNORE, NULL, 0));
		ra__stats_inc(&sh->stats.io_cancelled);
	}
}

/* ---- public calls: validate, then one request each ---- */

static int check_buf(int fd, const void *buf, size_t len)
{
	if (fd < 0 || (len && !buf) || len > INT32_MAX)
		return -EINVAL;
	return 0;
}

RA_API int ra_io_read(ra_ctx_t *self, int fd, void *buf, size_t len,
		      uint64_t off, uint64_t tag)
{
	struct io_args x = { .fd = fd, .buf = buf, .len = len, .off = off };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : io_submit(self, RA_IO_READ, &x, tag);
}

RA_API int ra_io_write(ra_ctx_t *self, int fd, const void *buf, size_t len,
		       uint64_t off, uint64_t tag)
{
	struct io_args x = { .fd = fd, .buf = (void *)buf, .len = len,
			     .off = off };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : io_submit(self, RA_IO_WRITE, &x, tag);
}

RA_API int ra_io_fsync(ra_ctx_t *self, int fd, uint64_t tag)
{
	struct io_args x = { .fd = fd };

	return fd < 0 ? -EINVAL : io_submit(self, RA_IO_FSYNC, &x, tag);
}

RA_API int ra_io_accept(ra_ctx_t *self, int listen_fd, uint64_t tag)
{
	struct io_args x = { .fd = listen_fd };

	return listen_fd < 0 ? -EINVAL
			     : io_submit(self, RA_IO_ACCEPT, &x, tag);
}

RA_API int ra_io_recv(ra_ctx_t *self, int fd, void *buf, size_t len,
		      uint64_t tag)
{
	struct io_args x = { .fd = fd, .buf = buf, .len = len };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : io_submit(self, RA_IO_RECV, &x, tag);
}

RA_API int ra_io_send(ra_ctx_t *self, int fd, const void *buf, size_t len,
		      uint64_t tag)
{
	struct io_args x = { .fd = fd, .buf = (void *)buf, .len = len };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : io_submit(self, RA_IO_SEND, &x, tag);
}

RA_API int ra_io_close(ra_ctx_t *self, int fd, uint64_t tag)
{
	struct io_args x = { .fd = fd };

	return fd < 0 ? -EINVAL : io_submit(self, RA_IO_CLOSE, &x, tag);
}

RA_API unsigned ra_io_pending(const ra_ctx_t *self)
{
	return self ? self->io_pending : 0;
}
