/*
 * io/bufring.h: a shard's provided-buffer ring (IORING_REGISTER_PBUF_RING)
 * for multishot recvs.
 *
 * One buffer group per shard ring (group 0): buf_ring_entries buffers of
 * buf_size bytes (ra_config_t), set up at the shard's first
 * ra_io_recv_multishot(). The kernel picks a buffer for each recv
 * completion; the runtime lends it to the actor with the message
 * (RA_MSG_F_BUF) and puts it back in the ring when the behavior returns,
 * unless the actor claimed it (ra_io_buf_claim), in which case it comes
 * back with ra_io_buf_release() or at the actor's stop.
 *
 * A buffer is in one of three states: in the ring (the kernel may fill
 * it), lent (its message is in the actor's mailbox or being handled), or
 * claimed. Lent and claimed buffers count in their actor's io_bufs,
 * which keeps it from being stolen: the buffer belongs to this shard's
 * ring. All of it is the shard thread's own: no atomics, except the
 * release store that publishes the ring's tail to the kernel.
 */
#ifndef RA_IO_BUFRING_H
#define RA_IO_BUFRING_H

#include <stdint.h>

#include "io/io.h"
#include "shard/shard.h"

struct ra_actor;

/* The buffer group of every shard's ring (each ring has its own). */
#define RA_BUFRING_BGID 0

/*
 * Make sure `sh` has its buffer ring: map it and register it with the
 * kernel at the first call (shard thread: a SINGLE_ISSUER ring takes
 * registrations from its own thread only). 0, -ENOMEM, or the kernel's
 * -errno (-EINVAL before Linux 5.19, which lacks provided-buffer rings).
 */
int ra__bufring_get(ra_shard_t *sh);

/* Unmap it, after the ring was closed (ra__io_shard_fini). */
void ra__bufring_destroy(ra_shard_t *sh);

/*
 * A CQE says the kernel filled buffer `bid`: it has left the ring.
 * Returns its address.
 */
void *ra__bufring_taken(ra_shard_t *sh, uint16_t bid);

/* Buffer `bid`, just taken, goes to `a` with a message. */
void ra__bufring_lend(ra_shard_t *sh, struct ra_actor *a, uint16_t bid);

/*
 * Buffer `bid` goes back in the ring (its data dropped or done with);
 * recvs paused for want of buffers are re-armed.
 */
void ra__bufring_put(ra_shard_t *sh, uint16_t bid);

/* Buffers in the ring as far as the CQEs reaped so far tell. */
unsigned ra__bufring_available(const ra_shard_t *sh);

/*
 * Multishot recv `req` found the ring empty (-ENOBUFS): it waits, with
 * nothing in the kernel, until a buffer comes back (RA_IOS_NOBUFS).
 * unwait: it leaves the wait list (it is being cancelled).
 */
void ra__bufring_wait(ra_shard_t *sh, ra_io_req_t *req);
void ra__bufring_unwait(ra_io_req_t *req);

/*
 * ra__bufring_return_env() and ra__bufring_release_all(), which the
 * actor layer calls, are declared in actors/hooks.h.
 */

#endif /* RA_IO_BUFRING_H */
