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

#include "actors/hooks.h"
#include "mailbox/envelope.h"
#include "shard/list.h"
#include "shard/hooks.h"
#include "shard/shard.h"

struct ra_actor;

typedef struct ra_io_req {
	ra_list_t node;			/* in its actor's io_list */
	struct ra_io_req *next_free;	/* the shard's free list */
	struct ra_actor *actor;		/* owner; outlives the request */
	ra_envelope_t *env;		/* completion message, preallocated */
	uint64_t submit_ns;		/* for the per-opcode histogram */
	uint8_t op;			/* enum ra_io_op */
} ra_io_req_t;

/*
 * The calls the layers below make into this one are declared there:
 * ra__io_complete() (a CQE of ours) and ra__io_shard_fini() (teardown)
 * in shard/hooks.h, ra__io_cancel_all() and ra__io_discard_completion()
 * (an actor stops) in actors/hooks.h.
 */

#endif /* RA_IO_IO_H */
