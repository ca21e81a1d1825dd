/*
 * net: loopback TCP echo through ra_io_accept/recv/send, against blocking
 * sockets on threads measured in the same run.
 *
 * Each row has two placements: `_across`, the client on shard 0 and the
 * server on shard 1 (pinned to different CPUs); `_local`, all of it on
 * shard 0. The runtime has two shards in both (shard 1 sleeps in the
 * local rows), shards pinned (RA_CFG_PIN_CPUS) unless --no-pin.
 *
 * Server: an acceptor actor on the server shard takes one connection
 * with ra_io_accept(), sets TCP_NODELAY and spawns an echo actor beside
 * it, then stops. The echo actor repeats: ra_io_recv() up to 64 KiB,
 * ra_io_send() all of it back (resuming partial sends).
 * Client: an actor on shard 0 owns a socket main connected (TCP_NODELAY).
 * Main sends it START and sleeps on an eventfd; the client times the
 * batch from START to its last byte and writes the eventfd.
 *
 * Rows:
 *   net_echo_rtt_256b_{across,local}: 512 round trips of 256 bytes per
 *     batch at depth 1. Each round trip queues the send and the recv in
 *     one submit; it is done when all 256 bytes went out and came back,
 *     and the bytes are compared with what was sent.
 *   net_stream_throughput_4k_window32_{across,local}: 2048 frames of
 *     4 KiB per batch (8 MiB each way), at most 32 frames sent and not
 *     yet fully echoed. The client keeps one recv (64 KiB) and at most
 *     one send in flight (two sends on one stream socket could be
 *     reordered); a send carries every byte the window allows at that
 *     moment. TCP is a byte stream: bytes are counted and every byte
 *     received is compared with the rolling pattern at its stream
 *     position. Per-frame latency: from the first send that carried a
 *     frame's first byte to the recv that completed its last byte.
 *
 * Floors, on the same connection set-up (loopback, TCP_NODELAY both
 * ends): a server thread doing blocking recv(64 KiB) then blocking send
 * of all of it, as the echo actor; a client thread with a blocking socket.
 * For the round trips it sends 256 bytes and recv()s them back. For the
 * stream it runs the same window with one thread: send() with
 * MSG_DONTWAIT of every byte the window allows (so it never blocks in a
 * send while echoed data waits to be read), then a blocking recv(64 KiB).
 * Across: client thread on CPU 0, server on CPU 1; local: both on CPU 0.
 * Floor and runtime alternate in rounds (bench.h); a floor round has a
 * connection of its own.
 *
 * Any mismatch (bytes, content, a short or failed operation) stops the
 * program with exit status 1; no io_uring gives 77.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define NET_SHARDS	2
#define NET_MSG		256u		/* round trip payload */
#define NET_FRAME	4096u		/* stream frame */
#define NET_WINDOW	32u		/* frames in flight */
#define NET_RECV_BUF	(64u * 1024)	/* client recv, echo buffer */
#define NET_PERIOD	65537u		/* pattern period: prime, not a
					   multiple of any frame or message */
#define NET_PAT_LEN	(NET_PERIOD + NET_WINDOW * NET_FRAME + NET_RECV_BUF)
#define NET_RTT_STRIDE	263u		/* pattern step per message */
#define NET_TS_RING	64u		/* frame send times (> WINDOW) */
#define NET_WAIT_MS	60000		/* a longer batch is hung */

#define NET_TARGET_RTT_LOCAL_NS	3000.0	/* per round trip */
#define NET_TARGET_RTT_ACROSS_RATIO 1.25	/* ringactor / floor */
#define NET_TARGET_STREAM_LOCAL_NS 3500000.0 /* per 2048 frames */
#define NET_TARGET_TPUT		0.9	/* floor / ringactor time */

enum net_kind {
	NET_RTT = 1,
	NET_STREAM,
};

struct net_row {
	const char *name;
	enum net_kind kind;
	bool across;		/* client and server on different shards */
	int ops;		/* round trips or frames per batch */
};

static const struct net_row net_rows[] = {
	{ "net_echo_rtt_256b_across", NET_RTT, true, 512 },
	{ "net_echo_rtt_256b_local", NET_RTT, false, 512 },
	{ "net_stream_throughput_4k_window32_across", NET_STREAM, true, 2048 },
	{ "net_stream_throughput_4k_window32_local", NET_STREAM, false, 2048 },
};

#define NET_NROWS (sizeof(net_rows) / sizeof(net_rows[0]))

/*
 * The bytes every sender sends: byte p of a stream is net_pat[p % PERIOD],
 * and the buffer runs on past PERIOD so that any send or compare of up to
 * a window plus a recv buffer is one contiguous span. Read-only after
 * main fills it.
 */
static uint8_t *net_pat;

static int net_pat_init(void)
{
	uint64_t x = 0x243f6a8885a308d3ull;

	net_pat = malloc(NET_PAT_LEN);
	if (!net_pat)
		return -ENOMEM;
	for (size_t i = 0; i < NET_PERIOD; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		net_pat[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
	for (size_t i = NET_PERIOD; i < NET_PAT_LEN; i++)
		net_pat[i] = net_pat[i - NET_PERIOD];
	return 0;
}

/* The pattern at stream position `pos`. */
static const uint8_t *net_pat_at(uint64_t pos)
{
	return net_pat + pos % NET_PERIOD;
}

/* Bytes the window lets the sender have sent, `recvd` echoed back. */
static uint64_t net_window_limit(uint64_t recvd, uint64_t total)
{
	uint64_t lim = (recvd / NET_FRAME + NET_WINDOW) * NET_FRAME;

	return lim < total ? lim : total;
}

static int set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* ringactor: acceptor, echo and client actors                          */
/* ------------------------------------------------------------------ */

enum net_type {
	NET_START = 1,		/* main -> client: struct net_start */
};

enum net_tag {
	TAG_ACCEPT = 1,
	TAG_RECV,
	TAG_SEND,
};

struct net_start {
	uint32_t kind;		/* enum net_kind */
	uint32_t ops;		/* round trips or frames */
	uint32_t record;	/* record per-op latency */
};

/*
 * What main and the actors of one row share. Main sets per_op and
 * client_fd before the sends that start the actors (ra_runtime_spawn and
 * ra_runtime_send order them); the actors write the rest, then the
 * eventfd, and main reads after its read(2) of the eventfd.
 */
struct net_shared {
	int efd;			/* main waits on it */
	int listen_fd;
	int client_fd;			/* handed to the client actor */
	int accepted_fd;		/* acceptor -> echo actor */
	ra_ref_t echo;			/* the echo actor */
	ra_hdr_t *per_op;		/* round trip or frame latency, ns */
	_Atomic uint64_t batch_ns;	/* last batch's wall time */
	_Atomic int err;		/* first error an actor saw */
	const char *_Atomic err_what;	/* where */
	_Atomic uint64_t echo_bytes;	/* bytes the echo actor received */
	uint64_t bytes;			/* back at the client, checked */
};

static void net_signal(struct net_shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

/* Record the first error and wake main. */
static void net_fail(struct net_shared *sh, int err, const char *what)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&sh->err, &zero, err))
		atomic_store(&sh->err_what, what);
	net_signal(sh, 0);
}

/* ---- echo ---- */

struct echo {
	struct net_shared *sh;
	int fd;
	size_t len;		/* bytes in buf to send back */
	size_t sent;		/* of which sent */
	uint8_t *buf;		/* NET_RECV_BUF */
};

static int echo_init(ra_ctx_t *self, void *state, void *arg)
{
	struct echo *e = state;

	e->sh = arg;
	e->fd = e->sh->accepted_fd;
	e->buf = malloc(NET_RECV_BUF);
	if (!e->buf)
		return -ENOMEM;
	return ra_io_recv(self, e->fd, e->buf, NET_RECV_BUF, TAG_RECV);
}

static void echo_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct echo *e = state;

	if (e->fd >= 0)
		close(e->fd);
	free(e->buf);
}

static int echo_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct echo *e = state;

	if (msg->type != RA_MSG_IO) {
		net_fail(e->sh, -EPROTO, "echo: unexpected message");
		return -EPROTO;
	}
	switch (msg->tag) {
	case TAG_RECV:
		if (msg->res == 0) {
			ra_stop(self, 0);	/* the client closed */
			return 0;
		}
		if (msg->res < 0) {
			net_fail(e->sh, msg->res, "echo: recv");
			return msg->res;
		}
		atomic_fetch_add_explicit(&e->sh->echo_bytes,
					  (uint64_t)msg->res,
					  memory_order_relaxed);
		e->len = (size_t)msg->res;
		e->sent = 0;
		return ra_io_send(self, e->fd, e->buf, e->len, TAG_SEND);
	case TAG_SEND:
		if (msg->res <= 0) {
			net_fail(e->sh, msg->res ? msg->res : -EIO,
				 "echo: send");
			return msg->res ? msg->res : -EIO;
		}
		e->sent += (size_t)msg->res;
		if (e->sent < e->len)
			return ra_io_send(self, e->fd, e->buf + e->sent,
					  e->len - e->sent, TAG_SEND);
		return ra_io_recv(self, e->fd, e->buf, NET_RECV_BUF,
				  TAG_RECV);
	default:
		net_fail(e->sh, -EPROTO, "echo: unknown tag");
		return -EPROTO;
	}
}

static const ra_actor_def_t echo_def = {
	.name = "net_echo",
	.state_size = sizeof(struct echo),
	.init = echo_init,
	.behavior = echo_behavior,
	.terminate = echo_terminate,
};

/* ---- acceptor: one connection, then it stops ---- */

static int acceptor_init(ra_ctx_t *self, void *state, void *arg)
{
	struct net_shared **sh = state;

	*sh = arg;
	return ra_io_accept(self, (*sh)->listen_fd, TAG_ACCEPT);
}

static int acceptor_behavior(ra_ctx_t *self, void *state,
			     const ra_msg_t *msg)
{
	struct net_shared *sh = *(struct net_shared **)state;
	int fd = msg->res, ret;

	ra_stop(self, 0);	/* after this call: one connection is all */
	if (msg->type != RA_MSG_IO || msg->tag != TAG_ACCEPT) {
		net_fail(sh, -EPROTO, "acceptor: unexpected message");
		return 0;
	}
	if (fd < 0) {
		net_fail(sh, fd, "accept");
		return 0;
	}
	ret = set_nodelay(fd);
	if (!ret) {
		sh->accepted_fd = fd;
		ret = ra_spawn(self, &echo_def, sh, NULL, &sh->echo);
	}
	if (ret) {
		close(fd);
		net_fail(sh, ret, "acceptor: TCP_NODELAY or spawn");
		return 0;
	}
	net_signal(sh, 0);
	return 0;
}

static const ra_actor_def_t acceptor_def = {
	.name = "net_acceptor",
	.state_size = sizeof(struct net_shared *),
	.init = acceptor_init,
	.behavior = acceptor_behavior,
};

/* ---- client ---- */

struct client {
	struct net_shared *sh;
	int fd;
	uint8_t *rbuf;		/* NET_RECV_BUF */
	enum net_kind kind;	/* of the running batch; 0 when idle */
	uint32_t ops;
	bool record;
	bool send_busy;		/* a send is in flight */
	bool recv_busy;		/* a recv is in flight */
	uint64_t t0;		/* START */
	/* round trips */
	uint32_t left;		/* round trips still to finish */
	uint64_t seq;		/* round trips done on this connection */
	const uint8_t *cur;	/* the message in flight */
	uint32_t msg_sent;	/* of it, bytes sent */
	uint32_t msg_got;	/* bytes received back */
	uint64_t ts;		/* its start */
	/* stream */
	uint64_t pbase;		/* stream position at START */
	uint64_t total;		/* bytes each way in this batch */
	uint64_t sent;		/* bytes sent in this batch */
	uint64_t recvd;		/* bytes received and checked */
	uint64_t stamped;	/* frames whose send time is stamped */
	uint64_t finished;	/* frames fully received */
	uint64_t fts[NET_TS_RING]; /* send time of frame f at f % RING */
};

static int client_fail(struct client *c, int err, const char *what)
{
	c->kind = 0;
	net_fail(c->sh, err, what);
	return 0;
}

static int client_init(ra_ctx_t *self, void *state, void *arg)
{
	struct client *c = state;

	c->sh = arg;
	c->fd = c->sh->client_fd;
	c->rbuf = malloc(NET_RECV_BUF);
	return c->rbuf ? 0 : -ENOMEM;
}

static void client_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct client *c = state;

	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
}

/* Start one round trip: send and recv queued in the same submit. */
static int rtt_begin(ra_ctx_t *self, struct client *c, uint64_t now)
{
	int ret;

	c->cur = net_pat_at(c->seq * NET_RTT_STRIDE);
	c->msg_sent = c->msg_got = 0;
	c->ts = now;
	ret = ra_io_send(self, c->fd, c->cur, NET_MSG, TAG_SEND);
	if (ret)
		return client_fail(c, ret, "client: ra_io_send");
	ret = ra_io_recv(self, c->fd, c->rbuf, NET_MSG, TAG_RECV);
	if (ret)
		return client_fail(c, ret, "client: ra_io_recv");
	return 0;
}

static int rtt_io(ra_ctx_t *self, struct client *c, const ra_msg_t *msg)
{
	uint64_t now;
	int ret;

	if (msg->res <= 0)
		return client_fail(c, msg->res ? msg->res : -ECONNRESET,
				   msg->tag == TAG_SEND ? "client: send"
							: "client: recv");
	if (msg->tag == TAG_SEND) {
		c->msg_sent += (uint32_t)msg->res;
		if (c->msg_sent < NET_MSG) {
			ret = ra_io_send(self, c->fd, c->cur + c->msg_sent,
					 NET_MSG - c->msg_sent, TAG_SEND);
			if (ret)
				return client_fail(c, ret, "client: resend");
		}
	} else {
		c->msg_got += (uint32_t)msg->res;
		if (c->msg_got > NET_MSG)
			return client_fail(c, -EPROTO, "client: recv overrun");
		if (c->msg_got < NET_MSG) {
			ret = ra_io_recv(self, c->fd, c->rbuf + c->msg_got,
					 NET_MSG - c->msg_got, TAG_RECV);
			if (ret)
				return client_fail(c, ret, "client: re-recv");
		}
	}
	if (c->msg_sent < NET_MSG || c->msg_got < NET_MSG)
		return 0;
	now = ra_now_ns();
	if (memcmp(c->rbuf, c->cur, NET_MSG))
		return client_fail(c, -EBADMSG, "client: echoed bytes differ");
	if (c->record)
		ra_hdr_record(c->sh->per_op, (int64_t)(now - c->ts));
	c->sh->bytes += NET_MSG;
	c->seq++;
	if (--c->left == 0) {
		c->kind = 0;
		net_signal(c->sh, now - c->t0);
		return 0;
	}
	return rtt_begin(self, c, now);
}

/* Send what the window allows, if no send is in flight. */
static int stream_pump(ra_ctx_t *self, struct client *c, uint64_t now)
{
	uint64_t lim = net_window_limit(c->recvd, c->total), len;
	int ret;

	if (c->send_busy || c->sent >= lim)
		return 0;
	len = lim - c->sent;
	while (c->stamped * NET_FRAME < c->sent + len)
		c->fts[c->stamped++ % NET_TS_RING] = now;
	ret = ra_io_send(self, c->fd, net_pat_at(c->pbase + c->sent), len,
			 TAG_SEND);
	if (ret)
		return client_fail(c, ret, "client: ra_io_send");
	c->send_busy = true;
	return 0;
}

static int stream_maybe_done(struct client *c, uint64_t now)
{
	if (c->recvd < c->total || c->send_busy)
		return 0;
	c->pbase += c->total;
	c->kind = 0;
	net_signal(c->sh, now - c->t0);
	return 0;
}

static int stream_io(ra_ctx_t *self, struct client *c, const ra_msg_t *msg)
{
	uint64_t now = ra_now_ns(), n;
	int ret;

	if (msg->res <= 0)
		return client_fail(c, msg->res ? msg->res : -ECONNRESET,
				   msg->tag == TAG_SEND ? "client: send"
							: "client: recv");
	n = (uint64_t)msg->res;
	if (msg->tag == TAG_SEND) {
		c->send_busy = false;
		c->sent += n;
	} else {
		c->recv_busy = false;
		if (c->recvd + n > c->sent)
			return client_fail(c, -EPROTO,
					   "client: more back than sent");
		if (memcmp(c->rbuf, net_pat_at(c->pbase + c->recvd), n))
			return client_fail(c, -EBADMSG,
					   "client: stream bytes differ");
		c->recvd += n;
		c->sh->bytes += n;
		while ((c->finished + 1) * NET_FRAME <= c->recvd) {
			if (c->record)
				ra_hdr_record(c->sh->per_op, (int64_t)(now -
					c->fts[c->finished % NET_TS_RING]));
			c->finished++;
		}
		if (c->recvd < c->total) {
			ret = ra_io_recv(self, c->fd, c->rbuf, NET_RECV_BUF,
					 TAG_RECV);
			if (ret)
				return client_fail(c, ret,
						   "client: ra_io_recv");
			c->recv_busy = true;
		}
	}
	ret = stream_pump(self, c, now);
	if (ret || !c->kind)
		return ret;
	return stream_maybe_done(c, now);
}

static int client_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct client *c = state;
	struct net_start st;
	int ret;

	if (msg->type == RA_MSG_IO) {
		if (c->kind == NET_RTT)
			return rtt_io(self, c, msg);
		if (c->kind == NET_STREAM)
			return stream_io(self, c, msg);
		return 0;	/* after a failure: let the rest drain */
	}
	if (msg->type != NET_START || msg->len != sizeof(st))
		return client_fail(c, -EPROTO, "client: unexpected message");
	memcpy(&st, msg->data, sizeof(st));
	if (c->kind || c->send_busy || c->recv_busy || st.ops == 0)
		return client_fail(c, -EINVAL, "client: bad START");
	c->kind = (enum net_kind)st.kind;
	c->ops = st.ops;
	c->record = st.record;
	c->t0 = ra_now_ns();
	if (c->kind == NET_RTT) {
		c->left = c->ops;
		return rtt_begin(self, c, c->t0);
	}
	if (c->kind != NET_STREAM)
		return client_fail(c, -EINVAL, "client: bad kind");
	c->total = (uint64_t)c->ops * NET_FRAME;
	c->sent = c->recvd = c->stamped = c->finished = 0;
	ret = ra_io_recv(self, c->fd, c->rbuf, NET_RECV_BUF, TAG_RECV);
	if (ret)
		return client_fail(c, ret, "client: ra_io_recv");
	c->recv_busy = true;
	return stream_pump(self, c, c->t0);
}

static const ra_actor_def_t client_def = {
	.name = "net_client",
	.state_size = sizeof(struct client),
	.init = client_init,
	.behavior = client_behavior,
	.terminate = client_terminate,
};

/* ------------------------------------------------------------------ */
/* Main's side: wait, set-up, batches                                   */
/* ------------------------------------------------------------------ */

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int net_listen(struct sockaddr_in *addr)
{
	socklen_t alen = sizeof(*addr);
	int fd, ret;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr->sin_port = 0;
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)addr, &alen)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* A blocking client socket connected to `addr`, TCP_NODELAY. */
static int net_connect(const struct sockaddr_in *addr)
{
	int fd, ret;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = set_nodelay(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

struct net_ra_run {
	ra_runtime_t *rt;
	ra_ref_t client;
	struct net_shared *sh;
	enum net_kind kind;
	uint32_t ops;
};

static int net_ra_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct net_ra_run *r = arg;
	struct net_start st = {
		.kind = r->kind, .ops = r->ops, .record = timed,
	};
	int ret;

	ret = ra_runtime_send(r->rt, r->client, NET_START, &st, sizeof(st));
	if (!ret)
		ret = bench_batch_wait(r->sh->efd, NET_WAIT_MS,
				       &r->sh->batch_ns, batch_ns);
	return ret ? ret : atomic_load(&r->sh->err);
}

/* ------------------------------------------------------------------ */
/* Floor: blocking sockets, a client thread and a server thread         */
/* ------------------------------------------------------------------ */

struct net_floor {
	/* in */
	enum net_kind kind;
	bool one_thread;		/* reference: one thread, both ends */
	uint32_t ops;
	int warmup, batches;
	int cpu_client, cpu_server;	/* -1: unpinned */
	int cfd, sfd;			/* the two ends */
	ra_hdr_t *per_op;
	struct bench_series *s;		/* appended to */
	/* out */
	int err;			/* client's */
	const char *err_what;
	int serr;			/* server's */
	uint64_t bytes;			/* back at the client, checked */
	uint64_t server_bytes;		/* received by the server */
	/* client's own */
	uint8_t *rbuf;
	uint64_t seq;			/* round trips, this connection */
	uint64_t pbase;			/* stream position */
	uint64_t fts[NET_TS_RING];
};

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *net_floor_server(void *arg)
{
	struct net_floor *f = arg;
	uint8_t *buf = malloc(NET_RECV_BUF);
	ssize_t n;

	if (f->cpu_server >= 0)
		(void)bench_pin_self(f->cpu_server);
	if (!buf) {
		f->serr = -ENOMEM;
		shutdown(f->sfd, SHUT_RDWR);
		return NULL;
	}
	for (;;) {
		n = recv(f->sfd, buf, NET_RECV_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				f->serr = -errno;
			break;
		}
		f->server_bytes += (uint64_t)n;
		f->serr = send_all(f->sfd, buf, (size_t)n);
		if (f->serr)
			break;
	}
	free(buf);
	return NULL;
}

static int floor_rtt_batch(void *arg, int index, bool timed,
			   double *batch_ns)
{
	struct net_floor *f = arg;
	uint64_t t0, ts, now = 0;
	const uint8_t *cur;
	int ret;

	t0 = ts = bench_now_ns();
	for (uint32_t i = 0; i < f->ops; i++) {
		cur = net_pat_at(f->seq * NET_RTT_STRIDE);
		ret = send_all(f->cfd, cur, NET_MSG);
		if (ret) {
			f->err_what = "floor client: send";
			return ret;
		}
		ret = recv_all(f->cfd, f->rbuf, NET_MSG);
		if (ret) {
			f->err_what = "floor client: recv";
			return ret;
		}
		now = bench_now_ns();
		if (memcmp(f->rbuf, cur, NET_MSG)) {
			f->err_what = "floor client: echoed bytes differ";
			return -EBADMSG;
		}
		if (timed)
			ra_hdr_record(f->per_op, (int64_t)(now - ts));
		f->bytes += NET_MSG;
		f->seq++;
		ts = now;
	}
	*batch_ns = (double)(now - t0);
	return 0;
}

/*
 * The reference for the local round trips: one thread drives both ends,
 * so the data is always there when it calls recv() and nothing ever
 * blocks or switches. What is left is the kernel's TCP work for two sends
 * and two recvs of 256 bytes: a lower bound for any design on this host.
 */
static int floor_rtt1_batch(void *arg, int index, bool timed,
			    double *batch_ns)
{
	struct net_floor *f = arg;
	uint64_t t0, ts, now = 0;
	const uint8_t *cur;
	uint8_t mid[NET_MSG];
	int ret;

	t0 = ts = bench_now_ns();
	for (uint32_t i = 0; i < f->ops; i++) {
		cur = net_pat_at(f->seq * NET_RTT_STRIDE);
		ret = send_all(f->cfd, cur, NET_MSG);
		if (!ret)
			ret = recv_all(f->sfd, mid, NET_MSG);
		if (!ret)
			ret = send_all(f->sfd, mid, NET_MSG);
		if (!ret)
			ret = recv_all(f->cfd, f->rbuf, NET_MSG);
		if (ret) {
			f->err_what = "one-thread reference: send/recv";
			return ret;
		}
		now = bench_now_ns();
		if (memcmp(f->rbuf, cur, NET_MSG)) {
			f->err_what = "one-thread reference: bytes differ";
			return -EBADMSG;
		}
		if (timed)
			ra_hdr_record(f->per_op, (int64_t)(now - ts));
		f->bytes += NET_MSG;
		f->server_bytes += NET_MSG;
		f->seq++;
		ts = now;
	}
	*batch_ns = (double)(now - t0);
	return 0;
}

static int floor_stream_batch(void *arg, int index, bool timed,
			      double *batch_ns)
{
	struct net_floor *f = arg;
	uint64_t total = (uint64_t)f->ops * NET_FRAME;
	uint64_t sent = 0, recvd = 0, stamped = 0, finished = 0;
	uint64_t t0, now, lim;
	ssize_t n;

	t0 = now = bench_now_ns();
	while (recvd < total) {
		lim = net_window_limit(recvd, total);
		if (sent < lim) {
			now = bench_now_ns();
			while (stamped * NET_FRAME < lim)
				f->fts[stamped++ % NET_TS_RING] = now;
			n = send(f->cfd, net_pat_at(f->pbase + sent),
				 lim - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				sent += (uint64_t)n;
			} else if (n == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				f->err_what = "floor client: send";
				return n ? -errno : -EIO;
			} else if (recvd == sent) {
				/* Nothing to read; wait for send room. */
				struct pollfd p = { .fd = f->cfd,
						    .events = POLLOUT };

				(void)poll(&p, 1, NET_WAIT_MS);
				continue;
			}
		}
		if (recvd == sent)
			continue;
		n = recv(f->cfd, f->rbuf, NET_RECV_BUF, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err_what = "floor client: recv";
			return n ? -errno : -ECONNRESET;
		}
		now = bench_now_ns();
		if (recvd + (uint64_t)n > sent) {
			f->err_what = "floor client: more back than sent";
			return -EPROTO;
		}
		if (memcmp(f->rbuf, net_pat_at(f->pbase + recvd), (size_t)n)) {
			f->err_what = "floor client: stream bytes differ";
			return -EBADMSG;
		}
		recvd += (uint64_t)n;
		f->bytes += (uint64_t)n;
		while ((finished + 1) * NET_FRAME <= recvd) {
			if (timed)
				ra_hdr_record(f->per_op, (int64_t)(now -
					f->fts[finished % NET_TS_RING]));
			finished++;
		}
	}
	f->pbase += total;
	*batch_ns = (double)(now - t0);
	return 0;
}

static void *net_floor_client(void *arg)
{
	struct net_floor *f = arg;

	if (f->cpu_client >= 0)
		(void)bench_pin_self(f->cpu_client);
	f->rbuf = malloc(NET_RECV_BUF);
	if (!f->rbuf)
		f->err = -ENOMEM;
	else
		f->err = bench_run_batches(f->warmup, f->batches,
					   f->one_thread ? floor_rtt1_batch :
					   f->kind == NET_RTT ?
					   floor_rtt_batch : floor_stream_batch,
					   f, f->s);
	/* EOF ends the server thread (and wakes it if we failed). */
	shutdown(f->cfd, f->err ? SHUT_RDWR : SHUT_WR);
	free(f->rbuf);
	return NULL;
}

/* One floor round on a connection of its own. */
static int net_floor_round(int lfd, const struct sockaddr_in *addr,
			   struct net_floor *f)
{
	pthread_t tc, ts;
	int ret;

	f->cfd = net_connect(addr);
	if (f->cfd < 0)
		return f->cfd;
	do
		f->sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (f->sfd < 0 && errno == EINTR);
	if (f->sfd < 0) {
		ret = -errno;
		close(f->cfd);
		return ret;
	}
	ret = set_nodelay(f->sfd);
	if (ret)
		goto out;
	if (f->one_thread) {
		ret = -pthread_create(&tc, NULL, net_floor_client, f);
		if (ret)
			goto out;
		pthread_join(tc, NULL);
		ret = f->err;
		goto out;
	}
	ret = -pthread_create(&ts, NULL, net_floor_server, f);
	if (ret)
		goto out;
	ret = -pthread_create(&tc, NULL, net_floor_client, f);
	if (ret) {
		shutdown(f->sfd, SHUT_RDWR);
		pthread_join(ts, NULL);
		goto out;
	}
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	ret = f->err ? f->err : f->serr;
	if (!ret && f->bytes != f->server_bytes) {
		f->err_what = "floor: bytes echoed != bytes received back";
		ret = -EIO;
	}
out:
	close(f->cfd);
	close(f->sfd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* One row                                                              */
/* ------------------------------------------------------------------ */

struct net_env {
	struct bench_opts *o;
	const struct bench_machine *m;
	int cpus[2];		/* the shards' CPUs, for the floor */
	int ops_arg;		/* --ops, 0 when not given */
	bool hgrm_written;	/* --hgrm FILE taken by an earlier row */
	bool no_uring;		/* ra_runtime_create said no io_uring */
};

/* A runtime with the row's acceptor, echo and client actors, connected. */
struct net_pair {
	ra_runtime_t *rt;
	ra_ref_t client;
	int lfd;
	struct sockaddr_in addr;
	struct net_shared sh;
};

static int net_pair_setup(struct net_pair *p, struct net_env *e,
			  const struct net_row *row)
{
	const struct bench_opts *o = e->o;
	ra_spawn_opts_t on_client = { .placement = RA_PLACE_SHARD,
				      .shard = 0 };
	ra_spawn_opts_t on_server = { .placement = RA_PLACE_SHARD,
				      .shard = row->across ? 1 : 0 };
	ra_config_t cfg;
	int ret;

	memset(p, 0, sizeof(*p));
	p->lfd = -1;
	p->sh.efd = -1;
	p->sh.client_fd = -1;
	bench_opts_config(o, &cfg);
	ret = ra_runtime_create(&cfg, &p->rt);
	if (ret) {
		e->no_uring = bench_io_uring_missing(ret);
		if (!e->no_uring)
			fprintf(stderr, "net: ra_runtime_create: %s: %s\n",
				ra_strerror(ret), ra_last_error());
		p->rt = NULL;
		return ret;
	}
	p->sh.efd = eventfd(0, EFD_CLOEXEC);
	if (p->sh.efd < 0) {
		ret = -errno;
		goto fail;
	}
	p->lfd = net_listen(&p->addr);
	if (p->lfd < 0) {
		ret = p->lfd;
		fprintf(stderr, "net: listen: %s\n", strerror(-ret));
		goto fail;
	}
	p->sh.listen_fd = p->lfd;
	ret = ra_runtime_spawn(p->rt, &acceptor_def, &p->sh, &on_server,
			       NULL);
	if (ret) {
		fprintf(stderr, "net: spawn acceptor: %s\n", ra_strerror(ret));
		goto fail;
	}
	p->sh.client_fd = net_connect(&p->addr);
	if (p->sh.client_fd < 0) {
		ret = p->sh.client_fd;
		fprintf(stderr, "net: connect: %s\n", strerror(-ret));
		goto fail;
	}
	ret = bench_efd_wait(p->sh.efd, NET_WAIT_MS);
	if (!ret)
		ret = atomic_load(&p->sh.err);
	if (ret) {
		fprintf(stderr, "net: accept: %s (%s)\n", ra_strerror(ret),
			atomic_load(&p->sh.err_what) ?
			atomic_load(&p->sh.err_what) : "waiting");
		goto fail;
	}
	ret = ra_runtime_spawn(p->rt, &client_def, &p->sh, &on_client,
			       &p->client);
	if (ret) {
		fprintf(stderr, "net: spawn client: %s\n", ra_strerror(ret));
		goto fail;
	}
	return 0;	/* the client actor owns client_fd now */
fail:
	if (p->sh.client_fd >= 0)
		close(p->sh.client_fd);
	if (p->rt)
		ra_runtime_destroy(p->rt);
	if (p->lfd >= 0)
		close(p->lfd);
	if (p->sh.efd >= 0)
		close(p->sh.efd);
	p->rt = NULL;
	return ret;
}

static int net_pair_teardown(struct net_pair *p)
{
	int ret = ra_runtime_destroy(p->rt);

	if (ret)
		fprintf(stderr, "net: ra_runtime_destroy: %s\n",
			ra_strerror(ret));
	close(p->lfd);
	close(p->sh.efd);
	return ret;
}

/* The row's verdict line; the targets scale with --ops. */
static void net_verdict(const struct net_env *e, const struct net_row *row,
			const struct bench_result *ra, double ref_ns)
{
	const struct bench_opts *o = e->o;
	const char *smoke = o->quick ? " (smoke run)" : "";
	double per = ra->batch.median / o->ops, tput;
	bool ok;

	if (row->kind == NET_RTT && !row->across) {
		ok = per <= NET_TARGET_RTT_LOCAL_NS;
		printf("%s: %.3f us per round trip; target <= %.1f us: %s%s",
		       row->name, per / 1e3, NET_TARGET_RTT_LOCAL_NS / 1e3,
		       ok ? "PASS" : "MISS", smoke);
		if (ra->has_floor)
			printf("; ratio to blocking floor %.2fx", ra->ratio);
		if (ref_ns > 0)
			printf("; one-thread kernel-only reference %.3f us "
			       "(ringactor %.2fx of it)", ref_ns / o->ops / 1e3,
			       ra->batch.median / ref_ns);
		putchar('\n');
		return;
	}
	if (row->kind == NET_STREAM && !row->across) {
		double lim = NET_TARGET_STREAM_LOCAL_NS * o->ops / 2048.0;

		ok = ra->batch.median <= lim;
		printf("%s: %.3f ms per %d frames; target <= %.2f ms: %s%s",
		       row->name, ra->batch.median / 1e6, o->ops, lim / 1e6,
		       ok ? "PASS" : "MISS", smoke);
		if (ra->has_floor)
			printf("; throughput vs floor %.2fx (target >= %.1fx: "
			       "%s)", ra->floor_median_ns / ra->batch.median,
			       NET_TARGET_TPUT, ra->floor_median_ns /
			       ra->batch.median >= NET_TARGET_TPUT ?
			       "PASS" : "MISS");
		putchar('\n');
		return;
	}
	if (!ra->has_floor) {
		printf("%s: no floor run, no verdict\n", row->name);
		return;
	}
	if (row->kind == NET_RTT) {
		ok = ra->ratio <= NET_TARGET_RTT_ACROSS_RATIO;
		printf("%s: ratio ringactor/blocking floor: batch median "
		       "%.2fx, round trip p50 %.2fx (%.2f vs %.2f us); target "
		       "<= %.2fx: %s%s\n", row->name, ra->ratio,
		       ra->ratio_op_p50, per / 1e3,
		       ra->floor_median_ns / o->ops / 1e3,
		       NET_TARGET_RTT_ACROSS_RATIO, ok ? "PASS" : "MISS",
		       smoke);
		return;
	}
	tput = ra->floor_median_ns / ra->batch.median;
	printf("%s: throughput ringactor/blocking floor %.2fx; target >= "
	       "%.1fx: %s%s\n", row->name, tput, NET_TARGET_TPUT,
	       tput >= NET_TARGET_TPUT ? "PASS" : "MISS", smoke);
}

/* One floor round (or of the one-thread reference) of row `row`. */
static int net_floor_once(const struct net_env *e, const struct net_row *row,
			  const struct net_pair *p, int nb, bool one_thread,
			  ra_hdr_t *h, struct bench_series *s)
{
	const struct bench_opts *o = e->o;
	uint64_t expect;
	struct net_floor f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.kind = row->kind;
	f.one_thread = one_thread;
	f.ops = (uint32_t)o->ops;
	f.warmup = o->warmup;
	f.batches = nb;
	f.cpu_client = o->pin ? e->cpus[0] : -1;
	f.cpu_server = !o->pin ? -1 : row->across ? e->cpus[1] : e->cpus[0];
	f.per_op = h;
	f.s = s;
	ret = net_floor_round(p->lfd, &p->addr, &f);
	expect = (uint64_t)o->ops * (uint64_t)(o->warmup + nb) *
		 (row->kind == NET_RTT ? NET_MSG : NET_FRAME);
	if (!ret && (f.bytes != expect || f.server_bytes != expect)) {
		f.err_what = "floor: wrong byte count";
		ret = -EIO;
	}
	if (ret)
		fprintf(stderr, "net: %s: %s: %s (%s)\n", row->name,
			one_thread ? "one-thread reference" : "floor",
			strerror(-ret), f.err_what ? f.err_what : "set-up");
	return ret;
}

static int net_run_row(struct net_env *e, int ri)
{
	const struct net_row *row = &net_rows[ri];
	struct bench_opts *o = e->o;
	struct bench_series ra_s, fl_s, rf_s;
	struct bench_result ra, fl, rf;
	ra_hdr_t *ra_h = NULL, *fl_h = NULL, *rf_h = NULL;
	ra_stats_t st0, st1;
	struct net_ra_run run;
	struct net_pair p;
	char extra[400], flname[96], rfname[96];
	double bytes_way, cpu_wall, ra_mbs, fl_mbs = 0;
	double io_per_batch = -1, sleeps_per_batch = -1;
	uint64_t expect = 0;
	const char *what;
	int i, nb, ret = -ENOMEM, ra_batches = 0;
	bool have_st = false;
	/* Local round trips also get the one-thread kernel-only reference. */
	bool ref = o->floor && row->kind == NET_RTT && !row->across;

	o->ops = e->ops_arg ? e->ops_arg : row->ops;
	o->name = row->name;
	bytes_way = (double)o->ops * (row->kind == NET_RTT ? NET_MSG
							   : NET_FRAME);
	memset(&ra_s, 0, sizeof(ra_s));
	memset(&fl_s, 0, sizeof(fl_s));
	memset(&rf_s, 0, sizeof(rf_s));
	if (bench_hdr_create(&ra_h) || bench_hdr_create(&fl_h) ||
	    bench_hdr_create(&rf_h) || bench_series_init(&ra_s, o->batches) ||
	    bench_series_init(&fl_s, o->batches) ||
	    bench_series_init(&rf_s, o->batches)) {
		fprintf(stderr, "net: out of memory\n");
		ret = -ENOMEM;
		goto out_mem;
	}
	ret = net_pair_setup(&p, e, row);
	if (ret)
		goto out_mem;
	p.sh.per_op = ra_h;
	run = (struct net_ra_run){
		.rt = p.rt, .client = p.client, .sh = &p.sh,
		.kind = row->kind, .ops = (uint32_t)o->ops,
	};
	have_st = !ra_stats_snapshot(p.rt, &st0);
	for (i = 0; i < o->rounds; i++) {
		nb = bench_round_batches(o, i);
		if (o->floor) {
			ret = net_floor_once(e, row, &p, nb, false, fl_h,
					     &fl_s);
			if (!ret && ref)
				ret = net_floor_once(e, row, &p, nb, true,
						     rf_h, &rf_s);
			if (ret)
				goto out;
		}
		ret = bench_run_batches(o->warmup, nb, net_ra_batch, &run,
					&ra_s);
		ra_batches += o->warmup + nb;
		expect += (uint64_t)bytes_way * (uint64_t)(o->warmup + nb);
		if (ret) {
			what = atomic_load(&p.sh.err_what);
			fprintf(stderr,
				"net: %s: ringactor batch %d: %s (%s)\n",
				row->name, ra_s.n, ra_strerror(ret),
				what ? what : "main");
			goto out;
		}
	}
	if (have_st && !ra_stats_snapshot(p.rt, &st1)) {
		io_per_batch = (double)(st1.io_completed - st0.io_completed) /
			       ra_batches;
		sleeps_per_batch = (double)(st1.sleeps - st0.sleeps) /
				   ra_batches;
		ra_stats_fini(&st1);
	}
	if (p.sh.bytes != expect ||
	    atomic_load(&p.sh.echo_bytes) != expect) {
		fprintf(stderr, "net: %s: ringactor bytes: client checked %"
			PRIu64 ", echo received %" PRIu64 ", expected %" PRIu64
			"\n", row->name, p.sh.bytes,
			atomic_load(&p.sh.echo_bytes), expect);
		ret = -EIO;
		goto out;
	}

	snprintf(extra, sizeof(extra),
		 "loopback TCP, TCP_NODELAY, %s, %s | floor: blocking "
		 "sockets, server thread recv(64 KiB)+send all, client "
		 "thread %s, %s",
		 row->kind == NET_RTT ? "256 B round trips at depth 1" :
		 "4 KiB frames, window 32, one send + one 64 KiB recv in "
		 "flight",
		 row->across ? "client shard 0, server shard 1" :
		 "client and server on shard 0",
		 row->kind == NET_RTT ? "send 256 B then recv it" :
		 "send(MSG_DONTWAIT) of what the window allows, then "
		 "blocking recv",
		 !o->pin ? "unpinned" : row->across ?
		 "threads on CPUs 0,1" : "both threads on CPU 0");
	bench_print_header(stdout, o, e->m, extra);

	bench_result_init(&ra, row->name, o);
	ret = bench_result_fill(&ra, &ra_s, ra_h);
	if (ret)
		goto out;
	cpu_wall = bench_cpu_total_s(&ra_s.cpu) * 1e9 / ra_s.wall_ns;
	ra_mbs = bytes_way / ra.batch.median * 1e3;
	bench_result_add(&ra, "op_median_ns", ra.batch.median / o->ops);
	if (row->kind == NET_STREAM)
		bench_result_add(&ra, "mb_per_s", ra_mbs);
	bench_result_add(&ra, "cpu_wall_ratio", cpu_wall);
	bench_result_add(&ra, "io_per_batch", io_per_batch);
	bench_result_add(&ra, "sleeps_per_batch", sleeps_per_batch);
	bench_print_row_header(stdout);
	if (o->floor) {
		snprintf(flname, sizeof(flname), "%s.floor", row->name);
		bench_result_init(&fl, flname, o);
		ret = bench_result_fill(&fl, &fl_s, fl_h);
		if (ret)
			goto out;
		fl_mbs = bytes_way / fl.batch.median * 1e3;
		bench_result_add(&fl, "op_median_ns", fl.batch.median / o->ops);
		if (row->kind == NET_STREAM) {
			bench_result_add(&fl, "mb_per_s", fl_mbs);
			bench_result_add(&ra, "throughput_ratio",
					 fl.batch.median / ra.batch.median);
		}
		bench_result_set_floor(&ra, &fl);
		bench_print_row_as(stdout, "floor blocking", &fl);
	}
	if (ref) {
		snprintf(rfname, sizeof(rfname), "%s.one_thread", row->name);
		bench_result_init(&rf, rfname, o);
		ret = bench_result_fill(&rf, &rf_s, rf_h);
		if (ret)
			goto out;
		bench_result_add(&rf, "op_median_ns", rf.batch.median / o->ops);
		bench_result_add(&ra, "one_thread_median", rf.batch.median);
		bench_print_row_as(stdout, "ref. one thread", &rf);
	}
	bench_print_row_as(stdout, "ringactor", &ra);
	if (o->floor)
		bench_hdr_summary(stdout, row->kind == NET_RTT ?
				  "floor round trip" : "floor frame", fl_h);
	if (ref)
		bench_hdr_summary(stdout, "one-thread round trip", rf_h);
	bench_hdr_summary(stdout, row->kind == NET_RTT ?
			  "ringactor round trip" : "ringactor frame", ra_h);
	printf("ringactor: CPU ms/batch %.3f (floor %.3f), CPU/wall %.2f, "
	       "I/O completions/batch %.1f, shard sleeps/batch %.1f",
	       ra.cpu_per_batch_s * 1e3,
	       o->floor ? fl.cpu_per_batch_s * 1e3 : 0.0, cpu_wall,
	       io_per_batch, sleeps_per_batch);
	if (row->kind == NET_STREAM)
		printf("; MB/s each way: ringactor %.0f, floor %.0f", ra_mbs,
		       fl_mbs);
	putchar('\n');
	net_verdict(e, row, &ra, ref ? rf.batch.median : -1);

	if (o->floor) {
		ret = bench_json_emit("net", e->o, e->m, &fl);
		if (!ret)
			ret = bench_hgrm_emit_row("net", o, row->name, true,
						  fl_h);
		if (!ret && ref)
			ret = bench_json_emit("net", e->o, e->m, &rf);
		if (!ret && ref)
			ret = bench_hgrm_emit_row("net", o, rfname, false,
						  rf_h);
		if (ret)
			goto out;
	}
	ret = bench_json_emit("net", e->o, e->m, &ra);
	if (!ret)
		ret = bench_hgrm_emit_row("net", o, row->name, false, ra_h);
	if (!ret && o->hgrm_path && !e->hgrm_written) {
		ret = bench_hgrm_emit("net", o->hgrm_path, ra_h);
		e->hgrm_written = true;
	}
out:
	if (have_st)
		ra_stats_fini(&st0);
	if (net_pair_teardown(&p) && !ret)
		ret = -EIO;
out_mem:
	bench_series_fini(&ra_s);
	bench_series_fini(&fl_s);
	bench_series_fini(&rf_s);
	ra_hdr_destroy(ra_h);
	ra_hdr_destroy(fl_h);
	ra_hdr_destroy(rf_h);
	return ret;
}

int main(int argc, char **argv)
{
	struct bench_machine m;
	struct bench_opts o;
	struct net_env e;
	bool any = false;
	int ret = 0;

	bench_opts_init(&o, "net", 0, NET_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	o.shards = NET_SHARDS;	/* across needs 2; local leaves 1 idle */
	for (size_t i = 0; i < NET_NROWS; i++)
		any |= bench_selected(&o, net_rows[i].name);
	if (!any)
		return 0;	/* --only names a row of another program */
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (net_pat_init()) {
		fprintf(stderr, "net: out of memory\n");
		return 1;
	}
	memset(&e, 0, sizeof(e));
	e.o = &o;
	e.m = &m;
	e.ops_arg = o.ops;
	/* The shards' CPUs as RA_CFG_PIN_CPUS picks them: shard i -> CPU i. */
	bench_pick_cpus(2, e.cpus);
	for (size_t i = 0; i < NET_NROWS && !ret; i++) {
		if (!bench_selected(&o, net_rows[i].name))
			continue;
		ret = net_run_row(&e, (int)i);
	}
	free(net_pat);
	if (e.no_uring) {
		printf("# SKIP: io_uring unavailable (%s): %s\n",
		       ra_strerror(ret), ra_last_error());
		return 77;
	}
	return ret ? 1 : 0;
}
