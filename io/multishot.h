/*
 * io/multishot.h: multishot accept and recv, the requests that complete
 * many times from one SQE (IORING_CQE_F_MORE).
 *
 * The runtime keeps such a request going until the actor cancels it,
 * stops, or the kernel reports an end it cannot outlive: when the kernel
 * ends one it can (a full CQ, a connection error, -EMFILE after a
 * back-off, -ENOBUFS once buffers come back) it is armed again with a
 * new SQE (ra_stats_t.multishot_rearms). Each completion before the end
 * takes an envelope from the pool at reap time and carries
 * RA_MSG_F_MORE; the end uses the envelope preallocated at submit, so
 * it can always be delivered.
 */
#ifndef RA_IO_MULTISHOT_H
#define RA_IO_MULTISHOT_H

#include <liburing.h>
#include <stdint.h>

#include "io/io.h"
#include "shard/shard.h"

/*
 * Back-off of a multishot accept that cannot get a descriptor or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM): the first wait, doubled after each
 * failure up to the cap, and reset by a connection accepted. A process
 * out of descriptors frees them in its own time (its actors close
 * connections); 1 ms is short next to that, and the cap keeps an
 * exhausted listener to about ten tries a second.
 */
#define RA_ACCEPT_BACKOFF_MIN_NS 1000000ull
#define RA_ACCEPT_BACKOFF_MAX_NS 100000000ull

/* Prepare `req`'s multishot SQE (accept, or recv from the buffer ring). */
void ra__multishot_prep(struct io_uring_sqe *sqe, const ra_io_req_t *req);

/*
 * Submit `req` again after the kernel ended it (counted in
 * multishot_rearms). 0, or -EAGAIN when no SQE could be had.
 */
int ra__multishot_rearm(ra_shard_t *sh, ra_io_req_t *req);

/* A CQE of a multishot request: its res and IORING_CQE_F_* flags. */
void ra__multishot_cqe(ra_shard_t *sh, ra_io_req_t *req, int res,
		       uint32_t flags);

#endif /* RA_IO_MULTISHOT_H */
