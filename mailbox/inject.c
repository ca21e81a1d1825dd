/*
 * mailbox/inject.c: the injection ring of non-shard threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mailbox/inject.h"
#include "shard/ring.h"
#include "shard/runtime.h"
#include "shard/tsan.h"

/* A full target CQ is retried this many times, 100 us apart. */
#define INJECT_RETRIES		1000

/*
 * The result of the SQE tagged `tag`, the one msg_ring in flight on the
 * injection ring. Once submitted it is on its way, so a signal (-EINTR)
 * must not end the wait: the caller would free an envelope the target is
 * about to read. CQEs of other tags (a neutralized SQE, below) are
 * skipped.
 */
static int inject_wait(struct io_uring *ring, uint64_t tag)
{
	struct io_uring_cqe *cqe;

	for (;;) {
		int ret = io_uring_wait_cqe(ring, &cqe);
		uint64_t got;

		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		if (ret < 0)
			return ret;
		got = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (got == tag)
			return ret;
	}
}

/*
 * One msg_ring from the injection ring; caller holds its lock. An SQE
 * the kernel did not take (the submit failed) is turned into a NOP with
 * tag 0 before we return: left as it was, the next caller's submit would
 * send a message whose envelope our caller has freed.
 */
static int inject_locked(ra_runtime_t *rt, unsigned dest, uint64_t data)
{
	ra_inject_t *in = rt->inject;
	struct io_uring_sqe *sqe;
	int ret;

	for (int tries = 0;; tries++) {
		uint64_t tag = ++in->tag;

		sqe = io_uring_get_sqe(&in->ring);
		if (!sqe)
			return -EAGAIN;
		io_uring_prep_msg_ring(sqe, rt->shards[dest]->ring_fd, 0, data,
				       0);
		io_uring_sqe_set_data64(sqe, tag);
		do
			ret = io_uring_submit(&in->ring);
		while (ret == -EINTR);
		if (ret <= 0) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, 0);
			return ret < 0 ? ret : -EAGAIN;
		}
		ret = inject_wait(&in->ring, tag);
		/* A full target CQ is a retry, never a loss. */
		if ((ret != -EOVERFLOW && ret != -EAGAIN) ||
		    tries >= INJECT_RETRIES)
			return ret < 0 ? ret : 0;
		usleep(100);
	}
}

int ra__inject_send(ra_runtime_t *rt, unsigned dest, ra_envelope_t *e)
{
	int ret;

	e->link.next = NULL;
	ra__tsan_release(e);
	pthread_mutex_lock(&rt->inject->lock);
	ret = inject_locked(rt, dest, ra__ring_ud_make(RA_UD_MSGS, e, 0));
	pthread_mutex_unlock(&rt->inject->lock);
	return ret;
}

void ra__inject_wake_all(ra_runtime_t *rt)
{
	if (!rt->inject || !rt->inject->ready)
		return;
	pthread_mutex_lock(&rt->inject->lock);
	for (unsigned i = 0; i < rt->nshards; i++)
		if (rt->shards[i] && rt->shards[i]->ring_fd >= 0)
			(void)inject_locked(rt, i,
					    ra__ring_ud_make(RA_UD_WAKE, NULL, 0));
	pthread_mutex_unlock(&rt->inject->lock);
}

/* The injection ring doubles as the probe for io_uring and msg_ring. */
RA_COLD int ra__inject_create(ra_runtime_t *rt)
{
	ra_inject_t *in = calloc(1, sizeof(*in));
	int ret;

	if (!in)
		return -ENOMEM;
	pthread_mutex_init(&in->lock, NULL);
	rt->inject = in;
	ret = ra__ring_setup(&in->ring, 64, false, RA_RING_TASKRUN_IPI);
	if (ret < 0)
		return ret;
	in->ready = true;
	return ra__ring_probe_msg_ring(&in->ring);
}

RA_COLD void ra__inject_destroy(ra_runtime_t *rt)
{
	ra_inject_t *in = rt->inject;

	if (!in)
		return;
	if (in->ready)
		io_uring_queue_exit(&in->ring);
	pthread_mutex_destroy(&in->lock);
	free(in);
	rt->inject = NULL;
}
