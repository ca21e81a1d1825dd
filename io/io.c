/*
 * io/io.c: the life cycle of an I/O request: submitted by an ra_io_*()
 * call, completed by its CQE(s) into an RA_MSG_IO message, cancelled by
 * ra_io_cancel() or when its actor stops. The multishot requests' own
 * CQE handling is in io/multishot.c, the buffer ring in io/bufring.c,
 * the socket calls in io/net.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/actor.h"
#include "io/bufring.h"
#include "io/io.h"
#include "io/multishot.h"
#include "mailbox/pool.h"
#include "shard/clock.h"
#include "shard/hdr_histogram.h"
#include "shard/ring.h"

/*
 * The public histogram (enum ra_io_op) each kind is timed in, or -1:
 * the newer calls under the nearest op, so that io_ns[] keeps its ABI
 * size; a multishot request's submit-to-end time, or a connect's, says
 * nothing about the I/O path.
 */
static const int8_t hist_of[RA_IOK_COUNT] = {
	[RA_IOK_READ] = RA_IO_READ,
	[RA_IOK_WRITE] = RA_IO_WRITE,
	[RA_IOK_FSYNC] = RA_IO_FSYNC,
	[RA_IOK_ACCEPT] = RA_IO_ACCEPT,
	[RA_IOK_RECV] = RA_IO_RECV,
	[RA_IOK_SEND] = RA_IO_SEND,
	[RA_IOK_CLOSE] = RA_IO_CLOSE,
	[RA_IOK_SEND_ZC] = RA_IO_SEND,
	[RA_IOK_SENDMSG] = RA_IO_SEND,
	[RA_IOK_SENDMSG_ZC] = RA_IO_SEND,
	[RA_IOK_WRITEV] = RA_IO_WRITE,
	[RA_IOK_RECVMSG] = RA_IO_RECV,
	[RA_IOK_CONNECT] = -1,
	[RA_IOK_SOCKET] = -1,
	[RA_IOK_SHUTDOWN] = -1,
	[RA_IOK_ACCEPT_MULTI] = -1,
	[RA_IOK_RECV_MULTI] = -1,
};

static ra_io_req_t *req_get(ra_shard_t *sh)
{
	ra_io_req_t *r = sh->free_reqs;

	if (r) {
		sh->free_reqs = r->next_free;
		return r;
	}
	/* aligned_alloc() wants a multiple of the alignment (ASan checks). */
	return aligned_alloc(16, (sizeof(*r) + 15) & ~(size_t)15);
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
	ra__bufring_destroy(sh);
}

/*
 * The router: which shard's ring carries this request. This first slice
 * keeps every request on the actor's home ring; least-loaded routing and
 * fd affinity replace this one function. Ring buffers (io/bufring.c)
 * belong to the ring that filled them, which is also the actor's home.
 */
static ra_shard_t *route(ra_actor_t *a)
{
	return a->shard;
}

static void prep(struct io_uring_sqe *sqe, const ra_io_req_t *req,
		 const struct ra_io_args *x)
{
	switch (req->op) {
	case RA_IOK_READ:
		io_uring_prep_read(sqe, x->fd, x->buf, (unsigned)x->len,
				   x->off);
		break;
	case RA_IOK_WRITE:
		io_uring_prep_write(sqe, x->fd, x->buf, (unsigned)x->len,
				    x->off);
		break;
	case RA_IOK_FSYNC:
		io_uring_prep_fsync(sqe, x->fd, 0);
		break;
	case RA_IOK_ACCEPT:
		io_uring_prep_accept(sqe, x->fd, NULL, NULL, SOCK_CLOEXEC);
		break;
	case RA_IOK_RECV:
		io_uring_prep_recv(sqe, x->fd, x->buf, x->len, 0);
		break;
	case RA_IOK_SEND:
		io_uring_prep_send(sqe, x->fd, x->buf, x->len, MSG_NOSIGNAL);
		break;
	case RA_IOK_SEND_ZC:
		io_uring_prep_send_zc(sqe, x->fd, x->buf, x->len, MSG_NOSIGNAL,
				      0);
		break;
	case RA_IOK_SENDMSG:
		io_uring_prep_sendmsg(sqe, x->fd, x->msg,
				      (unsigned)(x->flags | MSG_NOSIGNAL));
		break;
	case RA_IOK_SENDMSG_ZC:
		io_uring_prep_sendmsg_zc(sqe, x->fd, x->msg,
					 (unsigned)(x->flags | MSG_NOSIGNAL));
		break;
	case RA_IOK_WRITEV:
		io_uring_prep_writev(sqe, x->fd, x->iov, x->iovcnt, x->off);
		break;
	case RA_IOK_RECVMSG:
		/* The kernel writes msg_flags & co.: the caller lent it. */
		io_uring_prep_recvmsg(sqe, x->fd, (struct msghdr *)x->msg,
				      (unsigned)x->flags);
		break;
	case RA_IOK_CONNECT:
		io_uring_prep_connect(sqe, x->fd, x->addr, x->addrlen);
		break;
	case RA_IOK_SOCKET:
		io_uring_prep_socket(sqe, x->domain, x->type, x->protocol, 0);
		break;
	case RA_IOK_SHUTDOWN:
		io_uring_prep_shutdown(sqe, x->fd, x->how);
		break;
	case RA_IOK_ACCEPT_MULTI:
	case RA_IOK_RECV_MULTI:
		ra__multishot_prep(sqe, req);
		break;
	case RA_IOK_CLOSE:
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

/*
 * Queue `req`'s operation, and after it, linked, its timeout if it has
 * one: the pair goes in one submission (ra__ring_reserve), so the kernel
 * sees the link. The timeout's own CQE (-ETIME when it fired, -ECANCELED
 * when the operation beat it) carries nothing the actor needs: ignored.
 */
static int queue_sqes(ra_shard_t *sh, ra_io_req_t *req,
		      const struct ra_io_args *x)
{
	struct io_uring_sqe *sqe;

	if (!ra__ring_reserve(&sh->ring, req->timed ? 2 : 1))
		return -EAGAIN;	/* the kernel refused to take the SQ */
	sqe = io_uring_get_sqe(&sh->ring);
	prep(sqe, req, x);
	io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IO, req, 0));
	if (req->timed) {
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&sh->ring);
		io_uring_prep_link_timeout(sqe, &req->ts, 0);
		io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IGNORE,
							      NULL, 0));
	}
	return 0;
}

static void req_init(ra_io_req_t *req, ra_actor_t *a, ra_envelope_t *env,
		     enum ra_io_kind op, const struct ra_io_args *x,
		     uint64_t tag)
{
	req->actor = a;
	req->env = env;
	req->tag = tag;
	req->op = (uint8_t)op;
	req->state = RA_IOS_KERNEL;
	req->cancelling = false;
	req->oneshot = x->oneshot;
	req->timed = a->io_timeout_ns != 0 && op < RA_IOK_ACCEPT_MULTI;
	req->res = 0;
	req->fd = x->fd;
	req->zbuf = op == RA_IOK_SEND_ZC ? x->buf : (const void *)x->msg;
	req->zlen = (uint32_t)x->len;
	req->zflags = x->flags;
	req->backoff_ns = 0;
	ra__list_init(&req->wait_node);
	if (req->timed)
		ra__io_ts(&req->ts, a->io_timeout_ns);
	env->to = a->ref;
	env->from = RA_REF_NULL;
	env->type = RA_MSG_IO;
	env->u.io.tag = tag;
	env->u.io.mflags = 0;
	env->len = 0;
	env->io_op = (uint8_t)op;
}

int ra__io_submit(ra_ctx_t *self, enum ra_io_kind op,
		  const struct ra_io_args *x, uint64_t tag)
{
	ra_shard_t *sh;
	ra_envelope_t *env;
	ra_io_req_t *req;
	int ret;

	if (!self)
		return -EINVAL;
	if (self->status == RA_ACTOR_STOPPING || self->stop_requested)
		return -ESHUTDOWN;
	/* A deadline on a request that completes many times means nothing. */
	if (self->io_timeout_ns && op >= RA_IOK_ACCEPT_MULTI)
		return -EINVAL;
	sh = route(self);
	req = req_get(sh);
	env = req ? ra__pool_get(sh->pool) : NULL;
	if (!env) {
		if (req)
			req_put(sh, req);
		return -ENOMEM;
	}
	req_init(req, self, env, op, x, tag);
	ret = queue_sqes(sh, req, x);
	if (ret < 0) {
		ra__pool_put(sh->pool, env);
		req_put(sh, req);
		return ret;
	}
	self->io_timeout_ns = 0;	/* taken by this call */
	req->submit_ns = ra__clock_now_ns();
	pending_add(self, req);
	sh->io_inflight++;
	ra__stats_inc(&sh->stats.io_submitted);
	if (op == RA_IOK_SEND_ZC || op == RA_IOK_SENDMSG_ZC)
		ra__stats_inc(&sh->stats.send_zc);
	return 0;
}

/* Sockets whose completion hands the actor a new descriptor. */
static bool gives_fd(uint8_t op)
{
	return op == RA_IOK_ACCEPT || op == RA_IOK_ACCEPT_MULTI ||
	       op == RA_IOK_SOCKET;
}

void ra__io_discard_completion(ra_shard_t *sh, ra_envelope_t *env)
{
	if (env->flags & RA_ENV_RINGBUF)
		ra__bufring_return_env(sh, env);
	else if (gives_fd(env->io_op) && env->u.io.res >= 0)
		close(env->u.io.res);
	ra__envelope_release(sh, env);
}

void ra__io_finish(ra_shard_t *sh, ra_io_req_t *req, int res)
{
	ra_actor_t *a = req->actor;
	ra_envelope_t *env = req->env;
	uint64_t now = ra__clock_now_ns();

	if (hist_of[req->op] >= 0)
		ra__stats_record(&sh->hists,
				 RA_HIST_IO + (unsigned)hist_of[req->op],
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

bool ra__io_deliver_more(ra_shard_t *sh, ra_io_req_t *req, int res,
			 void *buf, uint16_t bid)
{
	ra_actor_t *a = req->actor;
	ra_envelope_t *e;

	/* Test build: RA_FAULT_IO_ENV=N, as if the pool could not grow. */
	if (ra_unlikely(sh->fault_io_env) &&
	    ++sh->fault_io_tick % sh->fault_io_env == 0)
		return false;
	e = ra__pool_get(sh->pool);
	if (!e)
		return false;
	e->to = a->ref;
	e->from = RA_REF_NULL;
	e->type = RA_MSG_IO;
	e->io_op = req->op;
	e->u.io.res = res;
	e->u.io.tag = req->tag;
	e->u.io.mflags = RA_MSG_F_MORE;
	e->len = 0;
	if (buf) {
		e->flags |= RA_ENV_RINGBUF;
		e->u.io.buf = buf;
		e->u.io.bid = bid;
		e->u.io.mflags |= RA_MSG_F_BUF;
		e->len = (uint32_t)res;
	}
	e->sent_ns = ra__shard_stamp(sh, 0);
	ra__actor_enqueue(sh, a, e);
	return true;
}

/*
 * A zero-copy send is over: complete it, unless the socket refused to
 * send without copying (-EOPNOTSUPP: AF_UNIX, for one), in which case
 * the same send is made again by copy, unseen by the actor.
 */
static void zc_done(ra_shard_t *sh, ra_io_req_t *req, int res)
{
	struct ra_io_args x = { .fd = req->fd };

	if (res != -EOPNOTSUPP || req->cancelling ||
	    req->actor->status == RA_ACTOR_STOPPING) {
		/* A cancelled send that was refused was never sent. */
		ra__io_finish(sh, req, res == -EOPNOTSUPP && req->cancelling
				       ? -ECANCELED : res);
		return;
	}
	if (req->op == RA_IOK_SEND_ZC) {
		req->op = RA_IOK_SEND;
		x.buf = (void *)req->zbuf;
		x.len = req->zlen;
	} else {
		req->op = RA_IOK_SENDMSG;
		x.msg = req->zbuf;
		x.flags = req->zflags;
	}
	req->state = RA_IOS_KERNEL;
	if (queue_sqes(sh, req, &x) < 0)
		ra__io_finish(sh, req, res);
}

/*
 * A zero-copy send posts two CQEs: the send's result with
 * IORING_CQE_F_MORE, then, once the kernel no longer reads the caller's
 * pages, the notification (IORING_CQE_F_NOTIF); a failed send too
 * (6.18). The completion goes out with the notification, so "the buffer
 * is lent until the completion" holds unchanged. A result without
 * IORING_CQE_F_MORE has no notification to wait for.
 */
static void zc_cqe(ra_shard_t *sh, ra_io_req_t *req, int res, uint32_t flags)
{
	if (flags & IORING_CQE_F_NOTIF) {
		zc_done(sh, req, req->res);
	} else if (flags & IORING_CQE_F_MORE) {
		req->res = res;
		req->state = RA_IOS_ZC_NOTIF;
	} else {
		zc_done(sh, req, res);
	}
}

void ra__io_complete(ra_shard_t *sh, ra_io_req_t *req, int res,
		     uint32_t flags)
{
	switch (req->op) {
	case RA_IOK_ACCEPT_MULTI:
	case RA_IOK_RECV_MULTI:
		ra__multishot_cqe(sh, req, res, flags);
		break;
	case RA_IOK_SEND_ZC:
	case RA_IOK_SENDMSG_ZC:
		zc_cqe(sh, req, res, flags);
		break;
	default:
		ra__io_finish(sh, req, res);
		break;
	}
}

/*
 * IORING_OP_ASYNC_CANCEL by `r`'s user_data, which finds its operation,
 * its back-off timer (same user_data) or nothing (it just completed: its
 * CQE comes anyway). A recv paused for
 * buffers has nothing in the kernel: a NOP with its user_data brings its
 * end through the CQ like any other, so that an actor is only ever
 * finalized from the reap. Either way its last completion still comes,
 * exactly once. -EAGAIN when no SQE could be had.
 */
int ra__io_cancel_req(ra_shard_t *sh, ra_io_req_t *r)
{
	struct io_uring_sqe *sqe;

	if (r->cancelling)
		return 0;	/* its end is on its way */
	if (r->state == RA_IOS_ZC_NOTIF) {
		/* Sent, or refused: only its notification is to come. */
		r->cancelling = true;
		return 0;
	}
	sqe = ra__ring_get_sqe(&sh->ring);
	if (!sqe)
		return -EAGAIN;
	r->cancelling = true;
	if (r->state == RA_IOS_NOBUFS) {
		ra__bufring_unwait(r);
		r->state = RA_IOS_NOP;
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IO, r, 0));
	} else {
		io_uring_prep_cancel64(sqe, ra__ring_ud_make(RA_UD_IO, r, 0),
				       0);
		io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IGNORE,
							      NULL, 0));
	}
	ra__stats_inc(&sh->stats.io_cancelled);
	return 0;
}

void ra__io_cancel_all(ra_shard_t *sh, ra_actor_t *a)
{
	ra_list_t *n;

	ra_list_for_each(n, &a->io_list) {
		ra_io_req_t *r = ra_container_of(n, ra_io_req_t, node);

		if (ra__io_cancel_req(sh, r) < 0)
			break;	/* the kernel refused a submit; they finish */
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
	struct ra_io_args x = { .fd = fd, .buf = buf, .len = len, .off = off };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : ra__io_submit(self, RA_IOK_READ, &x, tag);
}

RA_API int ra_io_write(ra_ctx_t *self, int fd, const void *buf, size_t len,
		       uint64_t off, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .buf = (void *)buf, .len = len,
				.off = off };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : ra__io_submit(self, RA_IOK_WRITE, &x, tag);
}

RA_API int ra_io_fsync(ra_ctx_t *self, int fd, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd };

	return fd < 0 ? -EINVAL : ra__io_submit(self, RA_IOK_FSYNC, &x, tag);
}

RA_API int ra_io_accept(ra_ctx_t *self, int listen_fd, uint64_t tag)
{
	struct ra_io_args x = { .fd = listen_fd };

	return listen_fd < 0 ? -EINVAL
			     : ra__io_submit(self, RA_IOK_ACCEPT, &x, tag);
}

RA_API int ra_io_recv(ra_ctx_t *self, int fd, void *buf, size_t len,
		      uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .buf = buf, .len = len };
	int ret = check_buf(fd, buf, len);

	return ret < 0 ? ret : ra__io_submit(self, RA_IOK_RECV, &x, tag);
}

RA_API int ra_io_send(ra_ctx_t *self, int fd, const void *buf, size_t len,
		      uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .buf = (void *)buf, .len = len };
	int ret = check_buf(fd, buf, len);

	if (ret < 0)
		return ret;
	if (!self)
		return -EINVAL;
	return ra__io_submit(self, ra__io_zc(route(self), len, false)
				   ? RA_IOK_SEND_ZC : RA_IOK_SEND, &x, tag);
}

RA_API int ra_io_close(ra_ctx_t *self, int fd, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd };

	return fd < 0 ? -EINVAL : ra__io_submit(self, RA_IOK_CLOSE, &x, tag);
}

RA_API unsigned ra_io_pending(const ra_ctx_t *self)
{
	return self ? self->io_pending : 0;
}

RA_API int ra_io_cancel(ra_ctx_t *self, uint64_t tag)
{
	unsigned found = 0;
	ra_list_t *n;

	if (!self)
		return -EINVAL;
	ra_list_for_each(n, &self->io_list) {
		ra_io_req_t *r = ra_container_of(n, ra_io_req_t, node);
		int ret;

		if (r->tag != tag)
			continue;
		found++;
		ret = ra__io_cancel_req(route(self), r);
		if (ret < 0)
			return ret;
	}
	return found ? 0 : -ENOENT;
}

RA_API int ra_io_timeout_next(ra_ctx_t *self, uint64_t timeout_ns)
{
	if (!self)
		return -EINVAL;
	self->io_timeout_ns = timeout_ns;
	return 0;
}
