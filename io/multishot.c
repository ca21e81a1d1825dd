/*
 * io/multishot.c: ra_io_accept_multishot() and ra_io_recv_multishot(),
 * and what each of their CQEs means.
 *
 * Rules common to both (ringactor.h has the contract):
 *   - a completion before the end carries RA_MSG_F_MORE and an envelope
 *     from the pool; the end (no RA_MSG_F_MORE) uses the preallocated
 *     one and never carries a connection or data;
 *   - an end the runtime can outlive is followed by a new SQE, never
 *     shown to the actor as an end;
 *   - a completion that finds no envelope ends the request with -ENOMEM
 *     (the connection is closed, the data dropped), counted;
 *   - once the request is ending (cancelled, -ENOMEM, its actor
 *     stopping) nothing more is delivered before its end.
 */
#include <errno.h>
#include <unistd.h>

#include "actors/actor.h"
#include "io/bufring.h"
#include "io/io.h"
#include "io/multishot.h"
#include "shard/ring.h"

void ra__multishot_prep(struct io_uring_sqe *sqe, const ra_io_req_t *req)
{
	if (req->op == RA_IOK_ACCEPT_MULTI) {
		io_uring_prep_multishot_accept(sqe, req->fd, NULL, NULL,
					       SOCK_CLOEXEC);
		return;
	}
	/* No buffer of its own: the kernel picks one of the ring's. */
	if (req->oneshot)
		io_uring_prep_recv(sqe, req->fd, NULL, 0, 0);
	else
		io_uring_prep_recv_multishot(sqe, req->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RA_BUFRING_BGID;
}

/* Queue `req`'s SQE again; -EAGAIN when no SQE could be had. */
static int submit_again(ra_shard_t *sh, ra_io_req_t *req)
{
	struct io_uring_sqe *sqe = ra__ring_get_sqe(&sh->ring);

	if (!sqe)
		return -EAGAIN;
	ra__multishot_prep(sqe, req);
	io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IO, req, 0));
	req->state = RA_IOS_KERNEL;
	return 0;
}

int ra__multishot_rearm(ra_shard_t *sh, ra_io_req_t *req)
{
	int ret = submit_again(sh, req);

	if (ret == 0)
		ra__stats_inc(&sh->stats.multishot_rearms);
	return ret;
}

/* Cancelled, ended by -ENOMEM (req->res), or its actor stops. */
static bool ending(const ra_io_req_t *req)
{
	return req->cancelling || req->res || ra__actor_stopping(req->actor);
}

/*
 * The res of the end of an ending request whose kernel part ended with
 * `res`: -ENOMEM if that is why, the kernel's own end if it has one (0
 * at EOF, -ECANCELED, an error: a cancel that raced a real end reports
 * the real one), else -ECANCELED.
 */
static int end_res(const ra_io_req_t *req, int res)
{
	if (req->res)
		return req->res;
	return res <= 0 && res != -ENOBUFS ? res : -ECANCELED;
}

/* Re-arm, or end with `res` if no SQE can be had (never silently). */
static void rearm_or_end(ra_shard_t *sh, ra_io_req_t *req, int res)
{
	if (ra__multishot_rearm(sh, req) < 0)
		ra__io_finish(sh, req, res);
}

/*
 * A completion found no envelope: the request ends with -ENOMEM. If the
 * kernel still runs it (`more`), cancel it; its end comes with its last
 * CQE and what arrives until then is dropped.
 */
static void end_enomem(ra_shard_t *sh, ra_io_req_t *req, bool more)
{
	ra__stats_inc(&sh->stats.multishot_enomem);
	req->res = -ENOMEM;
	if (!more)
		ra__io_finish(sh, req, -ENOMEM);
	else
		(void)ra__io_cancel_req(sh, req); /* no SQE: stop does it */
}

/* ---- accept ---- */

/* A failed accept that took a peer out of the backlog: try the next. */
static bool conn_error(int res)
{
	switch (res) {
	case -ECONNABORTED: case -EPROTO: case -EPERM: case -ENETDOWN:
	case -ENOPROTOOPT: case -EHOSTDOWN: case -ENONET:
	case -EHOSTUNREACH: case -ENETUNREACH: case -EINTR: case -EAGAIN:
		return true;
	default:
		return false;
	}
}

/* Out of descriptors or memory: only time (and other actors) helps. */
static bool resource_error(int res)
{
	return res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
	       res == -ENOMEM;
}

/*
 * Wait before arming again: an IORING_OP_TIMEOUT with the request's own
 * user_data, so that a cancel finds it as it would the accept. If no SQE
 * can be had, the error becomes the end.
 */
static void backoff(ra_shard_t *sh, ra_io_req_t *req, int res)
{
	struct io_uring_sqe *sqe = ra__ring_get_sqe(&sh->ring);
	uint64_t ns = req->backoff_ns;

	if (!sqe) {
		ra__io_finish(sh, req, res);
		return;
	}
	ns = !ns ? RA_ACCEPT_BACKOFF_MIN_NS
		 : ns >= RA_ACCEPT_BACKOFF_MAX_NS / 2 ? RA_ACCEPT_BACKOFF_MAX_NS
						      : 2 * ns;
	req->backoff_ns = ns;
	ra__io_ts(&req->ts, ns);
	io_uring_prep_timeout(sqe, &req->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, ra__ring_ud_make(RA_UD_IO, req, 0));
	req->state = RA_IOS_BACKOFF;
	ra__stats_inc(&sh->stats.accept_backoffs);
}

/* The back-off timer's CQE: -ETIME when it ran out, else cancelled. */
static void backoff_done(ra_shard_t *sh, ra_io_req_t *req, int res)
{
	if (res == -ETIME && !ending(req))
		rearm_or_end(sh, req, -EAGAIN);
	else
		ra__io_finish(sh, req, req->res ? req->res : -ECANCELED);
}

static void accept_cqe(ra_shard_t *sh, ra_io_req_t *req, int res,
		       bool more)
{
	if (req->state == RA_IOS_BACKOFF) {
		backoff_done(sh, req, res);
		return;
	}
	if (!ending(req) &&
	    (res >= 0 || more || conn_error(res) || resource_error(res))) {
		/* A connection, or an error the listener outlives: tell. */
		if (!ra__io_deliver_more(sh, req, res, NULL, 0)) {
			if (res >= 0)
				close(res);
			end_enomem(sh, req, more);
			return;
		}
		if (res >= 0)
			req->backoff_ns = 0;
	} else if (res >= 0) {
		close(res);	/* ending: nobody will take it */
	}
	if (more)
		return;
	/* The kernel ended it (multishot accept ends on every error). */
	if (ending(req))
		ra__io_finish(sh, req, end_res(req, res < 0 ? res : 1));
	else if (res >= 0 || conn_error(res))
		rearm_or_end(sh, req, -EAGAIN);
	else if (resource_error(res))
		backoff(sh, req, res);
	else
		ra__io_finish(sh, req, res);
}

/* ---- recv ---- */

/* The ring was empty: re-arm if buffers came back meanwhile, else wait. */
static void nobufs(ra_shard_t *sh, ra_io_req_t *req)
{
	ra__stats_inc(&sh->stats.recv_enobufs);
	if (ra__bufring_available(sh))
		rearm_or_end(sh, req, -ENOBUFS);
	else
		ra__bufring_wait(sh, req);
}

/* AF_UNIX (see is_unix_socket()): the next one-shot recv, not counted. */
static void oneshot_next(ra_shard_t *sh, ra_io_req_t *req)
{
	if (submit_again(sh, req) < 0)
		ra__io_finish(sh, req, -EAGAIN);
}

static void recv_cqe(ra_shard_t *sh, ra_io_req_t *req, int res,
		     uint32_t flags)
{
	bool more = flags & IORING_CQE_F_MORE;

	if (req->state == RA_IOS_NOP) {
		/* Cancelled while it waited for buffers (io.c). */
		ra__io_finish(sh, req, req->res ? req->res : -ECANCELED);
		return;
	}
	if (flags & IORING_CQE_F_BUFFER) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		void *buf = ra__bufring_taken(sh, bid);

		if (res <= 0 || ending(req)) {
			ra__bufring_put(sh, bid);	/* nobody reads it */
		} else if (ra__io_deliver_more(sh, req, res, buf, bid)) {
			ra__bufring_lend(sh, req->actor, bid);
		} else {
			ra__bufring_put(sh, bid);	/* the data is lost */
			end_enomem(sh, req, more);
			return;
		}
	}
	if (more)
		return;
	/* The kernel ended it. */
	if (ending(req))
		ra__io_finish(sh, req, end_res(req, res));
	else if (res > 0 && req->oneshot)
		oneshot_next(sh, req);
	else if (res > 0)
		rearm_or_end(sh, req, -EAGAIN);	/* e.g. a full CQ: go on */
	else if (res == -ENOBUFS)
		nobufs(sh, req);
	else
		ra__io_finish(sh, req, res);	/* 0: EOF; or the error */
}

void ra__multishot_cqe(ra_shard_t *sh, ra_io_req_t *req, int res,
		       uint32_t flags)
{
	if (req->op == RA_IOK_ACCEPT_MULTI)
		accept_cqe(sh, req, res, flags & IORING_CQE_F_MORE);
	else
		recv_cqe(sh, req, res, flags);
}

/* ---- public calls ---- */

RA_API int ra_io_accept_multishot(ra_ctx_t *self, int listen_fd,
				  uint64_t tag)
{
	struct ra_io_args x = { .fd = listen_fd };

	if (listen_fd < 0)
		return -EINVAL;
	return ra__io_submit(self, RA_IOK_ACCEPT_MULTI, &x, tag);
}

/*
 * A multishot recv on an AF_UNIX socket can miss the peer's EOF (Linux
 * 6.17 and 6.18 at least, axboe/liburing#1549): since AF_UNIX reports
 * how much is queued, a recv that empties the socket tells io_uring it
 * is empty, and io_uring then waits for a wake-up that the shutdown
 * already gave, so the request hangs. TCP reports a shut down socket as
 * not empty. There the runtime keeps one single-shot recv (same buffer
 * ring) in the kernel instead, armed again after each completion: an
 * SQE per completion, no syscall, the same messages. One getsockopt()
 * per request tells which.
 */
static bool is_unix_socket(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       domain == AF_UNIX;
}

RA_API int ra_io_recv_multishot(ra_ctx_t *self, int fd, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd };
	int ret;

	if (!self || fd < 0 || self->io_timeout_ns)
		return -EINVAL;	/* a deadline: see ra__io_submit() */
	if (ra__actor_stopping(self))
		return -ESHUTDOWN;
	/* The buffers are the home ring's, where the request goes. */
	ret = ra__bufring_get(self->shard);
	if (ret < 0)
		return ret;
	x.oneshot = is_unix_socket(fd);
	return ra__io_submit(self, RA_IOK_RECV_MULTI, &x, tag);
}
