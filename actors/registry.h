/*
 * actors/registry.h: the runtime's table of registered names.
 *
 * A name maps to one actor reference. Registration is not a hot path and
 * must be exactly-once under races from many shards, so the table is a
 * chained hash guarded by one mutex rather than ck_hs + ck_epoch: ck_hs
 * allows one writer only (writers would need a lock anyway), and epoch
 * reclamation of entries would add a per-thread record for every thread
 * that calls ra_whereis(), including non-shard ones. Lookups take the
 * mutex too; at registry rates that costs less than it saves in proof.
 */
#ifndef RA_ACTORS_REGISTRY_H
#define RA_ACTORS_REGISTRY_H

#include <pthread.h>
#include <stddef.h>

#include "ringactor.h"

#define RA_REGISTRY_BUCKETS 256u

struct ra_name;

typedef struct ra_registry {
	pthread_mutex_t lock;
	struct ra_name *buckets[RA_REGISTRY_BUCKETS];
} ra_registry_t;

/* ra__registry_create() and _destroy() are in shard/hooks.h. */

/*
 * Map `name` (len bytes, 1..RA_NAME_MAX, not NUL-terminated needed) to
 * `ref`. Any thread. Returns 0, -EEXIST (taken), -ENOMEM.
 */
int ra__registry_add_any(ra_registry_t *r, const char *name, size_t len,
			 ra_ref_t ref);

/*
 * Remove `name` if it maps to `ref`. Any thread. Returns 0 or -ENOENT.
 */
int ra__registry_del_any(ra_registry_t *r, const char *name, size_t len,
			 ra_ref_t ref);

/* The reference `name` maps to, or -ESRCH. Any thread. */
int ra__registry_find_any(ra_registry_t *r, const char *name, size_t len,
			  ra_ref_t *out);

#endif /* RA_ACTORS_REGISTRY_H */
