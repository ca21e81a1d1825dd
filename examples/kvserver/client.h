/*
 * examples/kvserver/client.h: a connection's command pipeline, apart from
 * its socket. The conn actor (conn.c) owns the socket and its buffers;
 * it hands received bytes to kv_client_feed(), forwards the keyspace
 * actors' sub-replies to kv_client_on_reply(), and sends what lands in
 * its output buffer. How the bytes come in or go out is none of this
 * file's business.
 *
 * Commands run in arrival order as far as the client can tell: a command
 * whose keys live on other shards waits in a ring of pending commands,
 * indexed by sequence number, and its reply is written out only when
 * every command before it has been. LOCAL commands and errors that
 * arrive while others wait are queued in the ring as finished replies.
 */
#ifndef KV_CLIENT_H
#define KV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ringactor.h>

#include "command.h"
#include "resp.h"

struct kv_server;
struct pend;

struct kv_client {
	struct kv_server *srv;
	struct kv_cstate cs;	/* SELECT, CLIENT SETNAME, QUIT */
	struct resp_parser parser;
	struct pend *ring;	/* pending commands, slot = seq & (cap - 1) */
	uint32_t ring_cap;
	uint32_t head_seq;	/* seq of the oldest pending command */
	uint32_t npend;
	struct resp_buf scratch; /* sub-requests; replies that must wait */
	bool closing;		/* protocol error or QUIT: no more input */
};

/* What kv_client_feed() did. */
enum kv_feed {
	KV_FEED_MORE,		/* no complete command in the bytes */
	KV_FEED_DONE,		/* one command started or answered */
	KV_FEED_CLOSE,		/* last reply queued: stop reading */
};

/* 0 or -ENOMEM (then call kv_client_fini()). */
int kv_client_init(struct kv_client *cl, struct kv_server *srv);
void kv_client_fini(struct kv_client *cl);

/*
 * Parse one command from buf[0, len) and start it; `*used` bytes at the
 * front are consumed (also for KV_FEED_MORE: skipped empty requests).
 * Replies that can be written at once are appended to `out`. Returns a
 * kv_feed value, or -ENOMEM (the connection should be dropped).
 */
int kv_client_feed(struct kv_client *cl, ra_ctx_t *self, const char *buf,
		   size_t len, size_t *used, struct resp_buf *out);

/* A KV_MSG_REPLY arrived. 0, or -ENOMEM. */
int kv_client_on_reply(struct kv_client *cl, ra_ctx_t *self,
		       const ra_msg_t *msg, struct resp_buf *out);

/* Append the replies now ready, in order. 0, or -ENOMEM. */
int kv_client_drain(struct kv_client *cl, ra_ctx_t *self,
		    struct resp_buf *out);

/* Commands started whose replies are not written out yet. */
static inline uint32_t kv_client_pending(const struct kv_client *cl)
{
	return cl->npend;
}

#endif /* KV_CLIENT_H */
