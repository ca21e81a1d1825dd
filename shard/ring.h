/*
 * shard/ring.h: io_uring set-up for shards and the user_data encoding that
 * tells the shard loop what each CQE is.
 *
 * user_data = [63..48 shard id][47..3 pointer][2..0 kind]. Every pointer we
 * put there is at least 8-byte aligned and below 2^48 (x86-64 user space),
 * so the shard id rides in the top bits: the sender of a msg_ring needs it
 * back when its own CQE reports a failure, and by then the batch may no
 * longer be its to read.
 */
#ifndef RA_SHARD_RING_H
#define RA_SHARD_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

enum ra_ud_kind {
	RA_UD_IO = 0,		/* ptr: struct ra_io_req, an I/O completion */
	RA_UD_MSGS,		/* ptr: an incoming batch of envelopes */
	RA_UD_RETURNS,		/* ptr: a batch of our envelopes coming home */
	RA_UD_SENT_MSGS,	/* our msg_ring of a message batch completed */
	RA_UD_SENT_RETURNS,	/* our msg_ring of a return batch completed */
	RA_UD_WAKE,		/* a poke: look at the runtime's state */
	RA_UD_IGNORE,		/* cancellations: nothing to do */
};

#define RA_UD_KIND_MASK	0x7ull
#define RA_UD_PTR_MASK	0x0000fffffffffff8ull
#define RA_UD_SHARD_SHIFT 48

static inline uint64_t ra__ring_ud_make(enum ra_ud_kind kind, const void *ptr,
				   unsigned shard)
{
	return ((uint64_t)shard << RA_UD_SHARD_SHIFT) |
	       ((uint64_t)(uintptr_t)ptr & RA_UD_PTR_MASK) | (uint64_t)kind;
}

static inline enum ra_ud_kind ra__ring_ud_kind(uint64_t ud)
{
	return (enum ra_ud_kind)(ud & RA_UD_KIND_MASK);
}

static inline void *ra__ring_ud_ptr(uint64_t ud)
{
	return (void *)(uintptr_t)(ud & RA_UD_PTR_MASK);
}

static inline unsigned ra__ring_ud_shard(uint64_t ud)
{
	return (unsigned)(ud >> RA_UD_SHARD_SHIFT);
}

/*
 * How a shard's ring runs task work (socket completions, a msg_ring into
 * a DEFER_TASKRUN ring), ra_config_t.flags picking one:
 *
 *   RA_RING_TASKRUN_IPI    the kernel interrupts the shard thread to run
 *                          it at once (no flag; an IPI per completion)
 *   RA_RING_TASKRUN_COOP   COOP_TASKRUN | TASKRUN_FLAG: no interrupt; it
 *                          runs at the shard's next entry to the kernel,
 *                          and the SQ flag IORING_SQ_TASKRUN tells the
 *                          user-space poll to enter (io_uring_get_events)
 *   RA_RING_TASKRUN_DEFER  DEFER_TASKRUN | TASKRUN_FLAG: deferred to the
 *                          shard's own entries, msg_ring into the ring too
 *
 * Measured in docs/results.md ("Task work"); COOP is the default.
 */
#define RA_RING_TASKRUN_IPI	0u
#define RA_RING_TASKRUN_COOP	(IORING_SETUP_COOP_TASKRUN | \
				 IORING_SETUP_TASKRUN_FLAG)
#define RA_RING_TASKRUN_DEFER	(IORING_SETUP_DEFER_TASKRUN | \
				 IORING_SETUP_TASKRUN_FLAG)

/*
 * Set up a shard's ring in the thread that will use it. `single_issuer`
 * asks for IORING_SETUP_SINGLE_ISSUER, `taskrun` for one of the modes
 * above (single issuers only); each falls back on kernels that refuse it.
 * Returns 0 or -errno; on failure ra_last_error() says which limit
 * refused io_uring and what to check.
 */
int ra__ring_setup(struct io_uring *ring, unsigned entries,
		   bool single_issuer, unsigned taskrun);

/*
 * Task work is waiting for this ring's thread to enter the kernel (a
 * ring set up with TASKRUN_FLAG), or CQEs wait on its overflow list:
 * io_uring_get_events() posts them.
 */
static inline bool ra__ring_needs_enter(const struct io_uring *ring)
{
	return IO_URING_READ_ONCE(*ring->sq.kflags) &
	       (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

/* Does this kernel support IORING_OP_MSG_RING? 0, -ENOSYS, or -errno. */
int ra__ring_probe_msg_ring(struct io_uring *ring);

/*
 * The opcodes below 64 this kernel supports, as a mask (bit n: opcode n,
 * so RA_RING_OP(IORING_OP_SEND_ZC)); 0 when the probe fails. Callers
 * that choose an opcode by kernel (zero-copy sends, IORING_OP_SOCKET)
 * probe once, at ring set-up, instead of learning it from an -EINVAL.
 */
uint64_t ra__ring_probe_ops(struct io_uring *ring);
#define RA_RING_OP(op)	(1ull << (op))

/*
 * A NOP whose CQE carries `res` (IORING_NOP_INJECT_RESULT): the fault
 * injector posts a failure exactly where a real one would appear.
 */
void ra__ring_prep_injected(struct io_uring_sqe *sqe, int res);

/*
 * Can this kernel inject a NOP's result (IORING_NOP_INJECT_RESULT, 6.10)?
 * Used only to enable test fault injection. Call on an idle ring.
 */
bool ra__ring_can_inject_result(struct io_uring *ring);

/*
 * A free SQE, submitting what is queued to make room if the SQ is full.
 * NULL only if the kernel refuses the submission.
 */
struct io_uring_sqe *ra__ring_get_sqe(struct io_uring *ring);

/*
 * Make room for `n` SQEs in a row, submitting what is queued when the SQ
 * has less: a linked pair (an operation and its IORING_OP_LINK_TIMEOUT)
 * must reach the kernel in one submission, or the link would end at the
 * first. false only if the kernel refuses the submission.
 */
bool ra__ring_reserve(struct io_uring *ring, unsigned n);

#endif /* RA_SHARD_RING_H */
