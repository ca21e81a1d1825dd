/*
 * examples/kvserver/kv.h: what the kvserver's actors share: message types,
 * the server-wide context and the actor definitions.
 *
 * The actors, in a supervision tree (tree.c):
 *
 *   kv (rest_for_one)       keyspace.0 .. keyspace.N-1, conns, acceptor
 *   conns (simple_one_for_one of conn, temporary)
 *
 *   acceptor (1, shard 0)   ra_io_accept() in a loop; asks the conns
 *                           supervisor to start one conn actor per socket
 *                           (round robin over shards).
 *   conn (1 per client)     owns its socket: recv, parse RESP, route each
 *                           key to its owner, put replies back in request
 *                           order, send. Keyless commands it answers itself.
 *   keyspace (1 per shard)  owns the keys kv_key_shard() gives its shard
 *                           and runs the sub-requests sent to it.
 *
 * rest_for_one: when a keyspace actor fails, the supervisor stops what
 * was started after it (the keyspaces after it, every connection, the
 * acceptor) in reverse order and starts them again, so no conn ever
 * holds the reference of a keyspace that is gone. Keys of the restarted
 * shards are lost (this is a cache); clients reconnect.
 *
 * The conn <-> keyspace protocol (payload formats in resp.h):
 *
 *   KV_MSG_REQ    conn -> keyspace: one sub-request, the keys of one
 *                 command that this shard owns, tagged (seq, part).
 *   KV_MSG_REPLY  keyspace -> conn (msg->from of the request): one result
 *                 per key, same order, same (seq, part).
 *
 * A command whose keys live on k shards becomes k sub-requests; the conn
 * merges the k sub-replies. Every sub-request gets exactly one sub-reply
 * unless the conn has stopped (then it is a dead letter) or the runtime
 * is shutting down.
 */
#ifndef KV_KV_H
#define KV_KV_H

#include <stdatomic.h>

#include <ringactor.h>

#include "resp.h"

#define KV_MSG_REQ	1	/* conn -> keyspace: sub-request */
#define KV_MSG_REPLY	2	/* keyspace -> conn: sub-reply */
#define KV_MSG_FLUSH	3	/* conn -> itself: send what has piled up */

/* Latency histograms: 1 ns .. 60 s at 3 significant digits. */
#define KV_HDR_LOWEST	1
#define KV_HDR_HIGHEST	60000000000LL
#define KV_HDR_SIGFIGS	3

/*
 * Set up by main before the first actor is spawned and read-only after,
 * except the histograms, each of which has one writer: shard s's conn
 * actors record only into lat[s * KV_CMD_COUNT + cmd].
 */
struct kv_server {
	int listen_fd;		/* bound and listening; main closes it */
	unsigned nshards;
	/*
	 * [nshards]: the keyspace actor of shard i, and the conns
	 * supervisor. Written by the kv supervisor when it (re)starts them,
	 * always before the actors that read them are (re)started
	 * (rest_for_one order), so readers see the current ones.
	 */
	ra_ref_t *keyspace;
	ra_ref_t conn_sup;
	ra_hdr_t **lat;		/* [nshards * KV_CMD_COUNT], in ns */
	atomic_uint restarts;	/* supervisor restarts, for the report */
	atomic_uint child_exits; /* children that exited by themselves */
};

/* What the acceptor hands a new conn actor (init frees it). */
struct kv_conn_arg {
	struct kv_server *srv;
	int fd;
};

/* init arg: struct kv_server *. */
extern const ra_actor_def_t kv_acceptor_def;
/* init arg: struct kv_conn_arg *, malloc'd; init takes ownership. */
extern const ra_actor_def_t kv_conn_def;
/* init arg: struct kv_server *. */
extern const ra_actor_def_t kv_keyspace_def;

/*
 * Start the supervision tree above (tree.c) from main; *top is the kv
 * supervisor, to be stopped with ra_runtime_exit_actor(). 0 or -errno.
 */
int kv_tree_start(ra_runtime_t *rt, struct kv_server *srv, ra_ref_t *top);

/* Per-shard latency histogram of command `cmd`. */
static inline ra_hdr_t *kv_lat(const struct kv_server *srv, unsigned shard,
			       enum kv_cmd_id cmd)
{
	return srv->lat[(size_t)shard * KV_CMD_COUNT + cmd];
}

#endif /* KV_KV_H */
