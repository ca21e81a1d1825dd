/*
 * io/io.h: I/O requests as messages.
 *
 * Each ra_io_*() call makes a request, picks a ring for it (the router;
 * the actor's home ring in this first slice), prepares one SQE whose
 * user_data points at the request, and links the request into the
 * actor's pending list. The completion envelope is taken at submit time,
 * so reaping never allocates or fails for a single-shot request: the
 * CQE's res and the caller's tag are written into it and it is delivered
 * as an RA_MSG_IO message.
 *
 * A multishot request (io/multishot.c) keeps that envelope for its final
 * completion, so that its end can always be delivered, and takes one from
 * the pool for each completion before it. A zero-copy send completes
 * after the kernel's notification CQE. Everything that ends a request
 * goes through ra__io_finish(), here.
 */
#ifndef RA_IO_IO_H
#define RA_IO_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "actors/hooks.h"
#include "mailbox/envelope.h"
#include "shard/list.h"
#include "shard/hooks.h"
#include "shard/ring.h"
#include "shard/shard.h"

struct ra_actor;

/*
 * What a request does. The first RA_IO_NOPS are the public enum
 * ra_io_op, whose histograms they feed; the others are ours.
 */
enum ra_io_kind {
	RA_IOK_READ = RA_IO_READ,
	RA_IOK_WRITE = RA_IO_WRITE,
	RA_IOK_FSYNC = RA_IO_FSYNC,
	RA_IOK_ACCEPT = RA_IO_ACCEPT,
	RA_IOK_RECV = RA_IO_RECV,
	RA_IOK_SEND = RA_IO_SEND,
	RA_IOK_CLOSE = RA_IO_CLOSE,
	RA_IOK_SEND_ZC = RA_IO_NOPS,	/* IORING_OP_SEND_ZC */
	RA_IOK_SENDMSG,
	RA_IOK_SENDMSG_ZC,		/* IORING_OP_SENDMSG_ZC */
	RA_IOK_WRITEV,
	RA_IOK_RECVMSG,
	RA_IOK_CONNECT,
	RA_IOK_SOCKET,
	RA_IOK_SHUTDOWN,
	RA_IOK_ACCEPT_MULTI,		/* io/multishot.c */
	RA_IOK_RECV_MULTI,		/* io/multishot.c, io/bufring.c */
	RA_IOK_COUNT
};

/* Where a request stands, beyond "its SQE is in the kernel". */
enum ra_io_state {
	RA_IOS_KERNEL = 0,	/* its operation is in the kernel */
	RA_IOS_ZC_NOTIF,	/* zero-copy send done; its notification due */
	RA_IOS_BACKOFF,		/* accept: a back-off IORING_OP_TIMEOUT runs */
	RA_IOS_NOBUFS,		/* recv: paused, waits for ring buffers */
	RA_IOS_NOP,		/* a NOP ends it (a paused recv cancelled) */
};

/* What one operation needs; unused fields are ignored by its kind. */
struct ra_io_args {
	int fd;
	void *buf;
	size_t len;
	uint64_t off;
	const struct msghdr *msg;	/* sendmsg, recvmsg */
	const struct iovec *iov;	/* writev */
	unsigned iovcnt;
	const struct sockaddr *addr;	/* connect */
	socklen_t addrlen;
	int flags;			/* sendmsg, recvmsg: MSG_* */
	int domain, type, protocol;	/* socket */
	int how;			/* shutdown */
	bool oneshot;			/* recv multishot: see io/multishot.c */
};

typedef struct ra_io_req {
	ra_list_t node;			/* in its actor's io_list */
	struct ra_io_req *next_free;	/* the shard's free list */
	struct ra_actor *actor;		/* owner; outlives the request */
	ra_envelope_t *env;		/* final completion, preallocated */
	uint64_t submit_ns;		/* for the per-opcode histogram */
	uint64_t tag;			/* the caller's, for ra_io_cancel() */
	uint8_t op;			/* enum ra_io_kind */
	uint8_t state;			/* enum ra_io_state */
	bool cancelling;		/* cancel issued: end, never re-arm */
	bool timed;			/* has a linked timeout (ts) */
	bool oneshot;			/* recv "multishot" by one-shot recvs */
	/*
	 * Zero-copy send: the send's res, delivered with the notification.
	 * Multishot: when nonzero, the res its end must report (-ENOMEM).
	 */
	int32_t res;
	int fd;				/* multishot: the socket, to re-arm */
	/* Zero-copy send: to resend by copy where the socket refuses it. */
	const void *zbuf;		/* the buffer or the msghdr */
	uint32_t zlen;			/* send: bytes */
	int zflags;			/* sendmsg: MSG_* */
	uint64_t backoff_ns;		/* multishot accept: current back-off */
	ra_list_t wait_node;		/* recv paused: the ring's wait list */
	/* The linked timeout's or the back-off's, read at submission. */
	struct __kernel_timespec ts;
} ra_io_req_t;

/*
 * Make a request of `op` for `self` and queue its SQE (and a linked
 * timeout, if ra_io_timeout_next() armed one and `op` takes it). 0, or
 * -EINVAL, -ESHUTDOWN, -ENOMEM, -EAGAIN as the public calls document.
 */
int ra__io_submit(ra_ctx_t *self, enum ra_io_kind op,
		  const struct ra_io_args *x, uint64_t tag);

/*
 * End `req` with `res` as its final completion (its preallocated
 * envelope): delivered to its actor, or dropped if the actor is stopping
 * (which may finalize the actor). From CQE handling only.
 */
void ra__io_finish(ra_shard_t *sh, ra_io_req_t *req, int res);

/*
 * A completion of multishot `req` before its end: an envelope from the
 * pool with `res` and RA_MSG_F_MORE, queued to its actor, whose status
 * the caller checked (not stopping). `buf`, if not NULL, is ring buffer
 * `bid` holding `res` bytes, lent with the message (RA_MSG_F_BUF). false
 * when the pool has no envelope: nothing was queued, and the caller ends
 * the request (ENOMEM must not pass silently).
 */
bool ra__io_deliver_more(ra_shard_t *sh, ra_io_req_t *req, int res,
			 void *buf, uint16_t bid);

/*
 * Ask the kernel to stop `r` (its cancel flag is set once the SQE is
 * queued): its last completion still comes, exactly once. 0, or -EAGAIN
 * when no SQE could be had.
 */
int ra__io_cancel_req(ra_shard_t *sh, ra_io_req_t *r);

/* `ns` as the kernel's timespec, for timeouts. */
static inline void ra__io_ts(struct __kernel_timespec *ts, uint64_t ns)
{
	ts->tv_sec = (long long)(ns / 1000000000u);
	ts->tv_nsec = (long long)(ns % 1000000000u);
}

/*
 * Whether a send of `len` bytes (a sendmsg when `msg`) on `sh` goes
 * zero-copy: ra_config_t.send_zc_min asks for it from that size on, and
 * the kernel has the opcode (probed at ring set-up).
 */
static inline bool ra__io_zc(const ra_shard_t *sh, size_t len, bool msg)
{
	uint64_t op = RA_RING_OP(msg ? IORING_OP_SENDMSG_ZC
				     : IORING_OP_SEND_ZC);

	return sh->zc_min && len >= sh->zc_min && (sh->ops & op);
}

/*
 * The calls the layers below make into this one are declared there:
 * ra__io_complete() (a CQE of ours) and ra__io_shard_fini() (teardown)
 * in shard/hooks.h, ra__io_cancel_all() and ra__io_discard_completion()
 * (an actor stops) in actors/hooks.h.
 */

#endif /* RA_IO_IO_H */
