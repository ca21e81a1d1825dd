/*
 * shard/ring.c: io_uring set-up with diagnosis, SQE acquisition.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard/errors.h"
#include "shard/ring.h"
#include "shard/util.h"

/* kernel.io_uring_disabled (Linux 6.6+): 0 on, 1 group-restricted, 2 off */
static int read_io_uring_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static RA_COLD void explain_setup_failure(int err)
{
	int disabled = read_io_uring_disabled();

	switch (err) {
	case -EPERM:
		if (disabled == 2)
			ra__errors_set("io_uring_setup: EPERM: io_uring is "
				"disabled by sysctl kernel.io_uring_disabled=2; "
				"set it to 0 to use ringactor");
		else if (disabled == 1)
			ra__errors_set("io_uring_setup: EPERM: "
				"kernel.io_uring_disabled=1 restricts io_uring "
				"to the group in kernel.io_uring_group; add "
				"this user to it or set the sysctl to 0");
		else
			ra__errors_set("io_uring_setup: EPERM: refused, most "
				"likely by a seccomp filter (container "
				"runtimes' default profiles block io_uring); "
				"allow io_uring_setup/enter/register");
		break;
	case -ENOSYS:
		ra__errors_set("io_uring_setup: ENOSYS: this kernel has no "
			"io_uring (CONFIG_IO_URING) or a seccomp filter "
			"hides it");
		break;
	case -ENOMEM:
		ra__errors_set("io_uring_setup: ENOMEM: out of memory, or "
			"RLIMIT_MEMLOCK too low on kernels before 5.12 "
			"(check `ulimit -l`; lower ring_entries)");
		break;
	default:
		ra__errors_set("io_uring_setup: %s", strerror(-err));
		break;
	}
}

RA_COLD int ra__ring_setup(struct io_uring *ring, unsigned entries,
			   bool single_issuer, unsigned taskrun)
{
	struct io_uring_params p;
	const unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
	const unsigned si = single_issuer ? IORING_SETUP_SINGLE_ISSUER : 0;
	/*
	 * Flags in the order we give them up when an older kernel says
	 * EINVAL: the task-work mode (COOP_TASKRUN and TASKRUN_FLAG 5.19,
	 * DEFER_TASKRUN 6.1; see shard/ring.h); SINGLE_ISSUER (6.0) lets the
	 * kernel skip submit locking; SUBMIT_ALL (5.18) keeps one bad SQE
	 * from stalling the rest.
	 */
	unsigned flag_sets[] = {
		base | IORING_SETUP_SUBMIT_ALL | si | (si ? taskrun : 0),
		base | IORING_SETUP_SUBMIT_ALL | si,
		base | IORING_SETUP_SUBMIT_ALL,
		base,
	};
	int ret = -EINVAL;

	for (unsigned i = 0; i < RA_ARRAY_SIZE(flag_sets); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		/* Room for msg_ring bursts from every peer plus I/O. */
		p.cq_entries = entries * 8;
		ret = io_uring_queue_init_params(entries, ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0) {
		explain_setup_failure(ret);
		return ret;
	}
	/*
	 * Saves an fdget per io_uring_enter; harmless if refused. Only for
	 * a ring with one issuing thread: a registered index belongs to the
	 * thread that registered it, yet liburing enters by it from every
	 * thread. On the injection ring, any thread but the runtime's
	 * creator got -EINVAL from ra_runtime_send and left its SQE queued
	 * for the next submit, pointing at the envelope it had just freed.
	 */
	if (single_issuer)
		(void)io_uring_register_ring_fd(ring);
	return 0;
}

RA_COLD int ra__ring_probe_msg_ring(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	int ret = 0;

	if (!probe) {
		ra__errors_set("io_uring: cannot probe supported opcodes");
		return -ENOMEM;
	}
	if (!io_uring_opcode_supported(probe, IORING_OP_MSG_RING)) {
		ra__errors_set("io_uring: IORING_OP_MSG_RING is not supported; "
			      "ringactor needs Linux 5.18 or later");
		ret = -ENOSYS;
	}
	io_uring_free_probe(probe);
	return ret;
}

RA_COLD uint64_t ra__ring_probe_ops(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	uint64_t mask = 0;

	if (!probe)
		return 0;
	for (unsigned op = 0; op < 64; op++)
		if (io_uring_opcode_supported(probe, (int)op))
			mask |= RA_RING_OP(op);
	io_uring_free_probe(probe);
	return mask;
}

/* liburing 2.3 predates it; the kernel ABI value is stable. */
#define RA_NOP_INJECT_RESULT (1u << 0)

void ra__ring_prep_injected(struct io_uring_sqe *sqe, int res)
{
	io_uring_prep_nop(sqe);
	sqe->rw_flags = RA_NOP_INJECT_RESULT;	/* sqe->nop_flags */
	sqe->len = (uint32_t)res;
}

RA_COLD bool ra__ring_can_inject_result(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res;

	if (!sqe)
		return false;
	ra__ring_prep_injected(sqe, -EOVERFLOW);
	if (io_uring_submit_and_wait(ring, 1) < 0 ||
	    io_uring_wait_cqe(ring, &cqe) < 0)
		return false;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res == -EOVERFLOW;
}

struct io_uring_sqe *ra__ring_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (ra_unlikely(!sqe)) {
		/* SQ full: hand what is queued to the kernel, then retry. */
		if (io_uring_submit(ring) < 0)
			return NULL;
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

bool ra__ring_reserve(struct io_uring *ring, unsigned n)
{
	if (ra_likely(io_uring_sq_space_left(ring) >= n))
		return true;
	return io_uring_submit(ring) >= 0 && io_uring_sq_space_left(ring) >= n;
}
