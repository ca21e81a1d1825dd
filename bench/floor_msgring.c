/*
 * floor_msgring.c: the raw floor under ring-to-ring messaging.
 *
 * Two threads, each with its own io_uring, bounce a message back and forth
 * with IORING_OP_MSG_RING and wait for it by peeking their CQ from user
 * space. This is the cheapest cross-thread hand-off io_uring offers (no
 * sleep, no wake-up), so a runtime that sends messages over msg_ring can
 * only add to it; ping_pong reports its ratio to this.
 *
 * Only liburing and libc are used here: the histogram and the CPU helper
 * come from the harness, the clock is bench_now_ns() (CLOCK_MONOTONIC).
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "bench.h"

/* user_data of the messages (as the target sees them) and our own SQEs. */
#define TAG_PING	1ull
#define TAG_PONG	2ull
#define TAG_STOP	3ull
#define TAG_OWN		0xf100f100ull	/* completion of our own msg_ring */

#define FLOOR_RING_ENTRIES 16

struct floor_run;

struct floor_side {
	struct floor_run *run;
	int idx;		/* 0 = pinger, 1 = ponger */
	pthread_t tid;
	struct io_uring ring;	/* made and used only by this thread */
	bool skip;		/* this ring's own CQEs are skipped */
	bool single_issuer;
	bool pinned;
	int err;		/* first error of this thread */
};

struct floor_run {
	struct floor_msgring *f;
	double *batch_ns;
	ra_hdr_t *per_rt;
	struct bench_cpu *cpu;
	pthread_barrier_t ready;	/* both rings exist (or failed) */
	int ring_fd[2];			/* written before `ready` */
	int setup_err[2];		/* written before `ready` */
	atomic_bool abort;		/* a thread failed: stop polling */
	struct floor_side side[2];
};

/*
 * Create the calling thread's ring. SINGLE_ISSUER lets the kernel skip
 * some locking on the submit side; it has been there since 6.0, so fall
 * back to a plain ring only when the kernel refuses it.
 */
static int ring_setup(struct floor_side *s)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	ret = io_uring_queue_init_params(FLOOR_RING_ENTRIES, &s->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(FLOOR_RING_ENTRIES,
						 &s->ring, &p);
	} else if (ret == 0) {
		s->single_issuer = true;
	}
	if (ret)
		return ret;
	s->skip = !s->run->f->no_skip && (p.features & IORING_FEAT_CQE_SKIP);
	return 0;
}

/* Queue one msg_ring carrying `tag` to the ring `fd` and submit it. */
static int send_msg(struct floor_side *s, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	int ret;

	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe)
		return -EBUSY;	/* cannot happen: one SQE in flight at most */
	/* len becomes the target CQE's res, tag its user_data. */
	io_uring_prep_msg_ring(sqe, fd, 0, tag, 0);
	io_uring_sqe_set_data64(sqe, TAG_OWN);
	if (s->skip)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	ret = io_uring_submit(&s->ring);
	if (ret < 0)
		return ret;
	return ret == 1 ? 0 : -EIO;
}

/*
 * Busy-poll our CQ for the next message and return its tag in `*tag`.
 * Completions of our own msg_ring SQEs (when not skipped) are reaped and
 * checked on the way. io_uring_peek_cqe() only enters the kernel when the
 * CQ has overflowed, which cannot happen with one message in flight.
 */
static int wait_msg(struct floor_side *s, uint64_t *tag)
{
	struct floor_run *run = s->run;
	struct io_uring_cqe *cqe;
	bool yield = run->f->shared_cpu;
	unsigned spins = 0;
	uint64_t ud;
	int res;

	for (;;) {
		if (io_uring_peek_cqe(&s->ring, &cqe) != 0) {
			if (yield)
				sched_yield();
			else
				bench_cpu_relax();
			/* Look at the abort flag now and then, not per spin. */
			if ((++spins & 1023) == 0 &&
			    atomic_load_explicit(&run->abort,
						 memory_order_relaxed))
				return -ECANCELED;
			continue;
		}
		ud = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&s->ring, cqe);
		if (ud == TAG_OWN) {
			/* Our send failed (e.g. -EOVERFLOW at the target). */
			if (res < 0)
				return res;
			continue;
		}
		*tag = ud;
		return 0;
	}
}

static int pinger(struct floor_side *s)
{
	struct floor_run *run = s->run;
	struct floor_msgring *f = run->f;
	int peer = run->ring_fd[1];
	struct bench_cpu c0, c1;
	uint64_t t0, ts, now = 0, tag;
	int b, i, ret;

	memset(&c0, 0, sizeof(c0));
	for (b = 0; b < f->warmup + f->batches; b++) {
		bool timed = b >= f->warmup;

		if (b == f->warmup)
			bench_cpu_now(&c0);
		t0 = ts = bench_now_ns();
		for (i = 0; i < f->rts; i++) {
			ret = send_msg(s, peer, TAG_PING);
			if (ret)
				return ret;
			ret = wait_msg(s, &tag);
			if (ret)
				return ret;
			if (tag != TAG_PONG)
				return -EPROTO;
			now = bench_now_ns();
			if (timed && run->per_rt)
				ra_hdr_record(run->per_rt, (int64_t)(now - ts));
			ts = now;
		}
		if (timed)
			run->batch_ns[b - f->warmup] = (double)(now - t0);
	}
	bench_cpu_now(&c1);
	bench_cpu_sub(&c1, &c0, run->cpu);
	return 0;
}

static int ponger(struct floor_side *s)
{
	int peer = s->run->ring_fd[0];
	uint64_t tag;
	int ret;

	for (;;) {
		ret = wait_msg(s, &tag);
		if (ret)
			return ret;
		if (tag == TAG_STOP)
			return 0;
		if (tag != TAG_PING)
			return -EPROTO;
		ret = send_msg(s, peer, TAG_PONG);
		if (ret)
			return ret;
	}
}

static void *floor_thread(void *arg)
{
	struct floor_side *s = arg;
	struct floor_run *run = s->run;
	int ret;

	if (run->f->pin)
		s->pinned = bench_pin_self(run->f->cpu[s->idx]) == 0;
	ret = ring_setup(s);
	run->setup_err[s->idx] = ret;
	run->ring_fd[s->idx] = ret ? -1 : s->ring.ring_fd;
	pthread_barrier_wait(&run->ready);
	if (ret || run->setup_err[!s->idx]) {
		s->err = ret;
		goto out;
	}

	ret = s->idx == 0 ? pinger(s) : ponger(s);
	if (s->idx == 0) {
		/* Release the ponger whatever happened. */
		int sret = ret ? -1 : send_msg(s, run->ring_fd[1], TAG_STOP);

		if (sret)
			atomic_store(&run->abort, true);
	} else if (ret) {
		atomic_store(&run->abort, true);
	}
	s->err = ret;
out:
	/* Neither ring goes away while the other thread may still target it. */
	pthread_barrier_wait(&run->ready);
	if (!run->setup_err[s->idx])
		io_uring_queue_exit(&s->ring);
	return NULL;
}

int floor_msgring_run(struct floor_msgring *f, double *batch_ns_out,
		      ra_hdr_t *per_rt, struct bench_cpu *cpu)
{
	struct floor_run run;
	int i, ret, started = 0;

	if (!f || !batch_ns_out || !cpu || f->batches <= 0 || f->rts <= 0 ||
	    f->warmup < 0)
		return -EINVAL;
	memset(&run, 0, sizeof(run));
	memset(cpu, 0, sizeof(*cpu));
	run.f = f;
	run.batch_ns = batch_ns_out;
	run.per_rt = per_rt;
	run.cpu = cpu;
	atomic_init(&run.abort, false);
	f->shared_cpu = f->pin ? f->cpu[0] == f->cpu[1] :
			bench_pick_cpus(2, (int[2]){ 0, 0 }) < 2;
	ret = -pthread_barrier_init(&run.ready, NULL, 2);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		run.side[i].run = &run;
		run.side[i].idx = i;
		ret = -pthread_create(&run.side[i].tid, NULL, floor_thread,
				      &run.side[i]);
		if (ret)
			break;
		started++;
	}
	if (started == 1) {
		/*
		 * The pinger alone would wait at the barriers forever: stand
		 * in for the missing ponger, which reports a set-up failure.
		 */
		run.setup_err[1] = ret;
		run.ring_fd[1] = -1;
		pthread_barrier_wait(&run.ready);
		pthread_barrier_wait(&run.ready);
	}
	for (i = 0; i < started; i++)
		pthread_join(run.side[i].tid, NULL);
	pthread_barrier_destroy(&run.ready);
	if (started < 2)
		return ret;

	f->single_issuer = run.side[0].single_issuer &&
			   run.side[1].single_issuer;
	f->skip_cqe = run.side[0].skip && run.side[1].skip;
	f->pinned = run.side[0].pinned && run.side[1].pinned;
	if (run.setup_err[0])
		return run.setup_err[0];
	if (run.setup_err[1])
		return run.setup_err[1];
	if (run.side[0].err)
		return run.side[0].err;
	return run.side[1].err;
}
