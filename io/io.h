/*
 * io/io.h: I/O requests as messages.
 *
 * Each ra_io_*() call makes a request, picks a ring for it (the router;
 * the actor's home ring in this first slice), prepares one SQE whose
 * user_data points at the request, and links the request into the
 * actor's pending list. The completion envelope is taken at submit time,
 * so reaping never allocates or fails: the CQE's res and the caller's tag
 * are written into it and it is delivered as an RA_MSG_IO message.
 */
#ifndef RA_IO_IO_H
#define RA_IO_IO_H

#include <stdint.h>

#include "shard/shard.h"
#include "mailbox/envelope.h"

struct ra_actor;

typedef struct ra_io_req {
	struct ra_io_req *next;		/* actor's pending list / free list */
	struct ra_io_req *prev;
	struct ra_actor *actor;		/* owner; outlives the request */
	ra_envelope_t *env;		/* completion message, preallocated */
	uint64_t submit_ns;		/* for the per-opcode histogram */
	uint8_t op;			/* enum ra_io_op */
} ra_io_req_t;

/* A CQE for `req` arrived on `sh` with `res`. */
void ra__io_complete(ra_shard_t *sh, ra_io_req_t *req, int res);

/*
 * Drop a completion nobody will read (its actor is stopping): release
 * the envelope, and close the socket a successful accept made, which
 * would otherwise leak.
 */
void ra__io_discard_completion(ra_shard_t *sh, ra_envelope_t *env);

/* Cancel every pending request of `a` (IORING_OP_ASYNC_CANCEL). */
void ra__io_cancel_all(ra_shard_t *sh, struct ra_actor *a);

/* Free the shard's recycled requests at teardown. */
void ra__io_reqs_fini(ra_shard_t *sh);

#endif /* RA_IO_IO_H */
