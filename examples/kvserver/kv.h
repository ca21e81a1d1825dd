/*
 * examples/kvserver/kv.h: what the kvserver's actors share: message types,
 * the server-wide context and the actor definitions.
 *
 * The actors, in a supervision tree (tree.c):
 *
 *   kv (rest_for_one)       keyspace.0 .. keyspace.N-1, conns, acceptor
 *   conns (simple_one_for_one of conn, temporary)
 *
 *   acceptor (1, shard 0)   ra_io_accept() in a loop; offers each socket
 *                           in the hand-off table and asks the conns
 *                           supervisor to start one conn actor for it
 *                           (round robin over shards).
 *   conn (1 per client)     owns its socket (conn.c): recv, hand the bytes
 *                           to its command pipeline (client.c), which
 *                           parses RESP, routes each key to its owner and
 *                           puts replies back in request order; send.
 *                           LOCAL commands it answers itself.
 *   keyspace (1 per shard)  owns the keys kv_key_shard() gives its shard,
 *                           in every database (store.c), runs the
 *                           sub-requests sent to it, and expires keys on
 *                           a timer (active expiry).
 *
 * rest_for_one: when a keyspace actor fails, the supervisor stops what
 * was started after it (the keyspaces after it, every connection, the
 * acceptor) in reverse order and starts them again, so no conn ever
 * holds the reference of a keyspace that is gone. Keys of the restarted
 * shards are lost (this is a cache); clients reconnect.
 *
 * The conn <-> keyspace protocol (payload formats in resp.h):
 *
 *   KV_MSG_REQ    conn -> keyspace: one sub-request, the share of one
 *                 command that this shard runs, tagged (seq, part).
 *   KV_MSG_REPLY  keyspace -> conn (msg->from of the request): its
 *                 results, same (seq, part).
 *
 * A command whose keys live on k shards becomes k sub-requests (one per
 * shard for KEYS, DBSIZE, FLUSHALL, INFO); the conn merges the k
 * sub-replies. Every sub-request gets exactly one sub-reply unless the
 * conn has stopped (then it is a dead letter) or the runtime is shutting
 * down.
 */
#ifndef KV_KV_H
#define KV_KV_H

#include <stdatomic.h>
#include <stdbool.h>

#include <ringactor.h>

#include "command.h"
#include "info.h"

#define KV_MSG_REQ	1	/* conn -> keyspace: sub-request */
#define KV_MSG_REPLY	2	/* keyspace -> conn: sub-reply */
#define KV_MSG_FLUSH	3	/* conn -> itself: send what has piled up */
#define KV_MSG_EXPIRE	4	/* keyspace -> itself: active expiry tick */
#define KV_MSG_EXPIRE_MORE 5	/* keyspace -> itself: go on expiring */


/*
 * Set up by main before the first actor is spawned and read-only after,
 * except the histograms, each of which has one writer: shard s's conn
 * actors record only into lat[s * KV_CMD_COUNT + cmd].
 */
struct kv_server {
	int listen_fd;		/* bound and listening; main closes it */
	const struct kv_config *cfg;	/* options; read-only */
	int64_t start_ms;	/* Unix ms at start, for INFO */
	char run_id[41];	/* 40 hex digits, for INFO */
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
	/* For CLIENT ID and INFO; any thread, relaxed is enough. */
	atomic_ullong next_client_id;
	atomic_ullong connected;	/* conns serving a client now */
	atomic_ullong total_connections; /* sockets the acceptor took */
	/*
	 * [nhandoff]: sockets on their way from the acceptor to a conn
	 * (handoff.c). Made and freed by main, which closes what is still
	 * offered after the runtime is gone. handoff_next: acceptor only.
	 */
	struct kv_handoff *handoff;
	unsigned nhandoff;
	unsigned handoff_next;
};

/*
 * Hand-off slots (handoff.c). Each holds at most one accepted socket
 * that no conn has claimed yet; more than this many at once are refused.
 * A slot is freed as soon as the conn's init runs, so this bounds a burst
 * of connects that the conns supervisor has not caught up with.
 */
#define KV_HANDOFF_SLOTS 256

enum kv_handoff_state {
	KV_HANDOFF_FREE,
	KV_HANDOFF_OFFERED,	/* fd waits for a conn, or a withdraw */
	KV_HANDOFF_CLAIMED,	/* a conn is reading fd; FREE right after */
};

struct kv_handoff {
	atomic_int state;	/* enum kv_handoff_state */
	int fd;			/* written by offer, read by the claimer */
	struct kv_server *srv;	/* set once by kv_handoff_create */
};

/* srv->handoff with n FREE slots. Before the runtime. 0 or -ENOMEM. */
int kv_handoff_create(struct kv_server *srv, unsigned n);
/*
 * Close the socket of every slot still OFFERED (its conn never ran
 * init), free the table; returns how many were closed. After
 * ra_runtime_destroy(): no actor may touch the table any more.
 */
unsigned kv_handoff_destroy(struct kv_server *srv);
/*
 * Acceptor only (one offerer at a time): put `fd` in a FREE slot and
 * publish it OFFERED. NULL when every slot is busy (fd stays the
 * caller's). The caller remembers fd: it closes it if a withdraw works.
 */
struct kv_handoff *kv_handoff_offer(struct kv_server *srv, int fd);
/*
 * A conn's init: claim the slot's socket, which is then the caller's to
 * close, and free the slot. -1 when the slot holds no offer: the
 * acceptor withdrew it, or an older conn claimed it (handoff.c).
 */
int kv_handoff_take(struct kv_handoff *h);
/*
 * Acceptor: take an offer back. true: no conn claimed it and never will
 * (the slot is FREE); the caller must close the fd it offered. false: a
 * conn claimed it and owns the socket.
 */
bool kv_handoff_withdraw(struct kv_handoff *h);

/* init arg: struct kv_server *. */
extern const ra_actor_def_t kv_acceptor_def;
/*
 * init arg: struct kv_handoff *, a slot offered by the acceptor. init
 * claims the socket; when the acceptor withdrew it first (its ask timed
 * out or was refused) the conn stops at once, normally.
 */
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
