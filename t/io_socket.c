/*
 * t/io_socket.c: TCP echo over loopback through actors. An acceptor on
 * shard 0 accepts (ra_io_accept) and spawns an echo actor per connection
 * (recv -> send back, partial sends resumed, close on EOF); a client on
 * the last shard does 1000 round trips of 256 bytes, each with its own
 * pattern, on a socket main connected, then streams 256 KiB through the
 * echo with a send and a recv in flight at once, checking every byte.
 * The echo's socket has the smallest send buffer and the client's the
 * smallest receive buffer, so the stream's echo sends come back partial
 * and must be resumed: their count must be above 0. The acceptor is then
 * stopped from outside with its accept still pending: the runtime must
 * cancel and drain it. Run with two shards and with one. Then: sends to
 * a closed peer come back as -EPIPE/-ECONNRESET messages and raise no
 * SIGPIPE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define ROUNDS		1000
#define MSG_SIZE	256
#define ECHO_BUF	16384	/* > smallest SO_SNDBUF: partial sends */
#define STREAM_SIZE	(256 * 1024)
#define STREAM_RECV	4096
#define SEC		1000000000ull

enum { TAG_ACCEPT = 0x11, TAG_RECV, TAG_SEND, TAG_CLOSE };

/* Acceptor */
static atomic_int acc_accepts, acc_errors, acc_not_cloexec, acc_spawn_fail;
static atomic_int acc_terms, acc_term_reason, acc_pending_at_term;
/* Echo */
static atomic_int echo_inits, echo_terms, echo_errors, echo_close_res;
static atomic_int echo_partial_sends;
static atomic_long echo_bytes;
/* Client */
static atomic_int cli_rounds_ok, cli_rounds_bad, cli_errors, cli_close_res;
static atomic_int cli_done, cli_terms, cli_stream_ok;
/* SIGPIPE checks */
static atomic_int piper_res, piper_sends, piper_bad, piper_terms;
static volatile sig_atomic_t sigpipes;

static void reset_counters(void)
{
	atomic_store(&acc_accepts, 0);
	atomic_store(&acc_errors, 0);
	atomic_store(&acc_not_cloexec, 0);
	atomic_store(&acc_spawn_fail, 0);
	atomic_store(&acc_terms, 0);
	atomic_store(&acc_term_reason, 1);
	atomic_store(&acc_pending_at_term, -1);
	atomic_store(&echo_inits, 0);
	atomic_store(&echo_terms, 0);
	atomic_store(&echo_errors, 0);
	atomic_store(&echo_close_res, 1);
	atomic_store(&echo_partial_sends, 0);
	atomic_store(&echo_bytes, 0);
	atomic_store(&cli_rounds_ok, 0);
	atomic_store(&cli_rounds_bad, 0);
	atomic_store(&cli_errors, 0);
	atomic_store(&cli_close_res, 1);
	atomic_store(&cli_done, 0);
	atomic_store(&cli_terms, 0);
	atomic_store(&cli_stream_ok, 0);
}

/* ---------------------------------------------------------------- echo */

struct echo_state {
	int fd;
	size_t len, sent;
	uint8_t buf[ECHO_BUF];
};

static int echo_init(ra_ctx_t *self, void *state, void *arg)
{
	struct echo_state *st = state;

	st->fd = (int)(intptr_t)arg;
	atomic_fetch_add(&echo_inits, 1);
	return ra_io_recv(self, st->fd, st->buf, sizeof(st->buf), TAG_RECV);
}

static int echo_close(ra_ctx_t *self, struct echo_state *st)
{
	int fd = st->fd;

	st->fd = -1;
	return ra_io_close(self, fd, TAG_CLOSE);
}

static int echo_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct echo_state *st = state;

	if (msg->type != RA_MSG_IO) {
		atomic_fetch_add(&echo_errors, 1);
		return 0;
	}
	switch (msg->tag) {
	case TAG_RECV:
		if (msg->res == 0)
			return echo_close(self, st);
		if (msg->res < 0) {
			atomic_fetch_add(&echo_errors, 1);
			return echo_close(self, st);
		}
		st->len = (size_t)msg->res;
		st->sent = 0;
		atomic_fetch_add(&echo_bytes, msg->res);
		return ra_io_send(self, st->fd, st->buf, st->len, TAG_SEND);
	case TAG_SEND:
		if (msg->res <= 0) {
			atomic_fetch_add(&echo_errors, 1);
			return echo_close(self, st);
		}
		st->sent += (size_t)msg->res;
		if (st->sent < st->len) {
			atomic_fetch_add(&echo_partial_sends, 1);
			return ra_io_send(self, st->fd, st->buf + st->sent,
					  st->len - st->sent, TAG_SEND);
		}
		return ra_io_recv(self, st->fd, st->buf, sizeof(st->buf),
				  TAG_RECV);
	case TAG_CLOSE:
		atomic_store(&echo_close_res, msg->res);
		ra_stop(self, 0);
		return 0;
	default:
		atomic_fetch_add(&echo_errors, 1);
		return 0;
	}
}

static void echo_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct echo_state *st = state;

	(void)self;
	if (st->fd >= 0)
		close(st->fd);
	if (reason != 0)
		atomic_fetch_add(&echo_errors, 1);
	atomic_fetch_add(&echo_terms, 1);
}

static const ra_actor_def_t echo_def = {
	.name = "echo",
	.state_size = sizeof(struct echo_state),
	.init = echo_init,
	.behavior = echo_behavior,
	.terminate = echo_terminate,
};

/* ------------------------------------------------------------ acceptor */

struct acc_state {
	int listen_fd;
};

static int acc_init(ra_ctx_t *self, void *state, void *arg)
{
	struct acc_state *st = state;

	st->listen_fd = (int)(intptr_t)arg;
	return ra_io_accept(self, st->listen_fd, TAG_ACCEPT);
}

static int acc_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct acc_state *st = state;
	int fd = msg->res;

	if (msg->type != RA_MSG_IO || msg->tag != TAG_ACCEPT || fd < 0) {
		/* includes a cancelled accept delivered after the stop */
		atomic_fetch_add(&acc_errors, 1);
		return 0;
	}
	atomic_fetch_add(&acc_accepts, 1);
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		atomic_fetch_add(&acc_not_cloexec, 1);
	if (ra_spawn(self, &echo_def, (void *)(intptr_t)fd, NULL, NULL) < 0) {
		atomic_fetch_add(&acc_spawn_fail, 1);
		close(fd);
	}
	return ra_io_accept(self, st->listen_fd, TAG_ACCEPT);
}

static void acc_terminate(ra_ctx_t *self, void *state, int reason)
{
	(void)state;
	atomic_store(&acc_pending_at_term, (int)ra_io_pending(self));
	atomic_store(&acc_term_reason, reason);
	atomic_fetch_add(&acc_terms, 1);
}

static const ra_actor_def_t acc_def = {
	.name = "acceptor",
	.state_size = sizeof(struct acc_state),
	.init = acc_init,
	.behavior = acc_behavior,
	.terminate = acc_terminate,
};

/* -------------------------------------------------------------- client */

struct cli_state {
	int fd;
	unsigned round;		/* ROUNDS: the stream */
	size_t sent, got;
	uint8_t out[MSG_SIZE];
	uint8_t in[MSG_SIZE];
	uint8_t chunk[STREAM_RECV];
};

/* The stream's bytes: main fills them before the client starts. */
static uint8_t stream[STREAM_SIZE];

static void pattern(uint8_t *p, unsigned round)
{
	for (unsigned i = 0; i < MSG_SIZE; i++)
		p[i] = (uint8_t)(round * 131u + i * 7u + (round >> 8) +
				 (i * round >> 5));
}

static void stream_fill(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < STREAM_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		stream[i] = (uint8_t)x;
	}
}

static int cli_start_round(ra_ctx_t *self, struct cli_state *st)
{
	pattern(st->out, st->round);
	memset(st->in, 0, sizeof(st->in));
	st->sent = st->got = 0;
	return ra_io_send(self, st->fd, st->out, MSG_SIZE, TAG_SEND);
}

static int cli_close(ra_ctx_t *self, struct cli_state *st)
{
	int fd = st->fd;

	st->fd = -1;
	return ra_io_close(self, fd, TAG_CLOSE);
}

static int cli_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cli_state *st = state;

	st->fd = (int)(intptr_t)arg;
	return cli_start_round(self, st);
}

/*
 * The stream: one send of all of it (resumed where partial) and one recv
 * in flight at once, so that neither side waits on the other's buffer.
 */
static int cli_start_stream(ra_ctx_t *self, struct cli_state *st)
{
	int ret;

	st->sent = st->got = 0;
	ret = ra_io_send(self, st->fd, stream, STREAM_SIZE, TAG_SEND);
	return ret ? ret : ra_io_recv(self, st->fd, st->chunk,
				      sizeof(st->chunk), TAG_RECV);
}

static int cli_stream_io(ra_ctx_t *self, struct cli_state *st,
			 const ra_msg_t *msg)
{
	if (msg->res <= 0) {
		atomic_fetch_add(&cli_errors, 1);
		return cli_close(self, st);
	}
	if (msg->tag == TAG_SEND) {
		st->sent += (size_t)msg->res;
		return st->sent < STREAM_SIZE ?
		       ra_io_send(self, st->fd, stream + st->sent,
				  STREAM_SIZE - st->sent, TAG_SEND) : 0;
	}
	/* Every byte must be the stream's byte at its position. */
	if (st->got + (size_t)msg->res > STREAM_SIZE ||
	    memcmp(st->chunk, stream + st->got, (size_t)msg->res)) {
		atomic_fetch_add(&cli_rounds_bad, 1);
		return cli_close(self, st);
	}
	st->got += (size_t)msg->res;
	if (st->got < STREAM_SIZE)
		return ra_io_recv(self, st->fd, st->chunk, sizeof(st->chunk),
				  TAG_RECV);
	atomic_store(&cli_stream_ok, st->sent == STREAM_SIZE);
	return cli_close(self, st);
}

static int cli_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct cli_state *st = state;

	if (msg->type != RA_MSG_IO) {
		atomic_fetch_add(&cli_errors, 1);
		return 0;
	}
	if (st->round == ROUNDS && msg->tag != TAG_CLOSE)
		return cli_stream_io(self, st, msg);
	switch (msg->tag) {
	case TAG_SEND:
		if (msg->res <= 0) {
			atomic_fetch_add(&cli_errors, 1);
			return cli_close(self, st);
		}
		st->sent += (size_t)msg->res;
		if (st->sent < MSG_SIZE)
			return ra_io_send(self, st->fd, st->out + st->sent,
					  MSG_SIZE - st->sent, TAG_SEND);
		return ra_io_recv(self, st->fd, st->in, MSG_SIZE, TAG_RECV);
	case TAG_RECV:
		if (msg->res <= 0) {
			atomic_fetch_add(&cli_errors, 1);
			return cli_close(self, st);
		}
		st->got += (size_t)msg->res;
		if (st->got < MSG_SIZE)
			return ra_io_recv(self, st->fd, st->in + st->got,
					  MSG_SIZE - st->got, TAG_RECV);
		if (st->got == MSG_SIZE && !memcmp(st->in, st->out, MSG_SIZE))
			atomic_fetch_add(&cli_rounds_ok, 1);
		else
			atomic_fetch_add(&cli_rounds_bad, 1);
		if (++st->round == ROUNDS)
			return cli_start_stream(self, st);
		return cli_start_round(self, st);
	case TAG_CLOSE:
		atomic_store(&cli_close_res, msg->res);
		atomic_store(&cli_done, 1);
		ra_stop(self, 0);
		return 0;
	default:
		atomic_fetch_add(&cli_errors, 1);
		return 0;
	}
}

static void cli_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct cli_state *st = state;

	(void)self;
	if (st->fd >= 0)
		close(st->fd);
	if (reason != 0)
		atomic_fetch_add(&cli_errors, 1);
	atomic_fetch_add(&cli_terms, 1);
}

static const ra_actor_def_t cli_def = {
	.name = "client",
	.state_size = sizeof(struct cli_state),
	.init = cli_init,
	.behavior = cli_behavior,
	.terminate = cli_terminate,
};

/* ---------------------------------------------------------------- main */

/* `rcvbuf` > 0: SO_RCVBUF, set before the window is agreed. */
static int connect_loopback(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				     sizeof(rcvbuf)) < 0) {
		close(fd);
		return -1;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A new connection lands in the backlog and main can take it itself,
 * after every shard made a round trip (a stray accept would have taken
 * it, and poll would not see it).
 */
static int listener_still_ours(ra_runtime_t *rt, int lfd, uint16_t port)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int c = connect_loopback(port, 0), a = -1;

	if (c < 0)
		return 0;
	if (poll(&p, 1, (int)(scaled_ns(5 * SEC) / 1000000)) == 1 &&
	    tu_round_trips(rt))
		a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(c);
	if (a < 0)
		return 0;
	close(a);
	return 1;
}

#define ECHO_TESTS 28

static void run_echo(unsigned nshards)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t onl = { .placement = RA_PLACE_SHARD,
				.shard = nshards - 1 };
	char what[32];
	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;
	ra_ref_t acc;
	uint16_t port;
	int lfd, cfd, ret, one = 1;

	snprintf(what, sizeof(what), "%u shard%s", nshards,
		 nshards > 1 ? "s" : "");
	reset_counters();
	lfd = listen_loopback(&port);
	/* The smallest send buffer; accepted sockets inherit it. */
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &one,
				  sizeof(one)) < 0)
		bail_out("cannot listen on 127.0.0.1");
	ra_config_init(&cfg);
	cfg.shards = nshards;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());

	ret = ra_runtime_spawn(rt, &acc_def, (void *)(intptr_t)lfd, &on0,
			       &acc);
	cfd = connect_loopback(port, 1);	/* the smallest window */
	if (ret == 0 && cfd >= 0)
		ret = ra_runtime_spawn(rt, &cli_def, (void *)(intptr_t)cfd,
				       &onl, NULL);
	ok(ret == 0 && cfd >= 0, "%s: acceptor and client spawned (port %u)",
	   what, port);

	is_int(wait_for(&cli_done, 1, scaled_ns(20 * SEC)), 0,
	       "%s: client finished its round trips and the stream", what);
	is_int(wait_for(&echo_terms, 1, scaled_ns(10 * SEC)), 0,
	       "%s: echo actor saw EOF, closed and stopped", what);
	is_int(atomic_load(&cli_rounds_ok), ROUNDS,
	       "%s: %d round trips echoed byte for byte", what, ROUNDS);
	is_int(atomic_load(&cli_rounds_bad), 0, "%s: no round trip differed",
	       what);
	ok(atomic_load(&cli_stream_ok), "%s: %d KiB streamed back byte for "
	   "byte", what, STREAM_SIZE / 1024);
	is_int(atomic_load(&cli_errors), 0, "%s: client saw no error", what);
	is_int(atomic_load(&cli_close_res), 0, "%s: client close res 0", what);
	is_int(atomic_load(&echo_bytes), ROUNDS * MSG_SIZE + STREAM_SIZE,
	       "%s: echo received every byte", what);
	is_int(atomic_load(&echo_errors), 0, "%s: echo saw no error", what);
	is_int(atomic_load(&echo_close_res), 0, "%s: echo close res 0", what);
	ok(atomic_load(&echo_partial_sends) > 0,
	   "%s: the echo actor resumed %d partial sends", what,
	   atomic_load(&echo_partial_sends));
	is_int(atomic_load(&acc_accepts), 1, "%s: one connection accepted",
	       what);
	is_int(atomic_load(&acc_not_cloexec), 0,
	       "%s: accepted socket has FD_CLOEXEC", what);
	is_int(atomic_load(&echo_inits), 1, "%s: one echo actor spawned",
	       what);
	is_int(atomic_load(&acc_terms), 0,
	       "%s: acceptor still running with its accept pending", what);

	is_int(ra_runtime_stop_actor(rt, acc), 0,
	       "%s: ra_runtime_stop_actor(acceptor)", what);
	is_int(ra_runtime_wait_idle(rt, scaled_ns(10 * SEC)), 0,
	       "%s: wait_idle: the pending accept was cancelled and drained",
	       what);
	is_int(atomic_load(&acc_terms), 1, "%s: acceptor terminate ran once",
	       what);
	is_int(atomic_load(&acc_term_reason), 0,
	       "%s: acceptor stop reason 0", what);
	is_int(atomic_load(&acc_pending_at_term), 0,
	       "%s: no I/O pending when acceptor terminate ran", what);
	is_int(atomic_load(&acc_errors), 0,
	       "%s: cancelled accept never reached the behavior", what);
	is_int(ra_runtime_stop_actor(rt, acc), -ESRCH,
	       "%s: stopped acceptor's reference is stale", what);
	ok(listener_still_ours(rt, lfd, port),
	   "%s: no accept left in the kernel: main accepts the next peer",
	   what);

	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("ra_stats_snapshot failed");
	is_int(st.io_completed, st.io_submitted,
	       "%s: io_completed == io_submitted (%llu)", what,
	       (unsigned long long)st.io_submitted);
	ok(st.io_cancelled >= 1, "%s: io_cancelled >= 1 (%llu)", what,
	   (unsigned long long)st.io_cancelled);
	ok(ra_hdr_total_count(st.io_ns[RA_IO_RECV]) >= 2 * ROUNDS + 1 &&
	   ra_hdr_total_count(st.io_ns[RA_IO_SEND]) >= 2 * ROUNDS,
	   "%s: recv/send latencies recorded (%lld recv, %lld send)", what,
	   (long long)ra_hdr_total_count(st.io_ns[RA_IO_RECV]),
	   (long long)ra_hdr_total_count(st.io_ns[RA_IO_SEND]));
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "%s: destroy", what);
	close(lfd);
}

/* ------------------------------------------------ send to a closed peer */

#define PIPER_MAX_SENDS 1000

struct piper_state {
	int fd;
	uint8_t buf[MSG_SIZE];
};

static int piper_init(ra_ctx_t *self, void *state, void *arg)
{
	struct piper_state *st = state;

	st->fd = (int)(intptr_t)arg;
	memset(st->buf, 'p', sizeof(st->buf));
	atomic_store(&piper_sends, 1);
	return ra_io_send(self, st->fd, st->buf, sizeof(st->buf), TAG_SEND);
}

/* Send until the kernel reports the broken pipe (-EPIPE), at most 1000. */
static int piper_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct piper_state *st = state;

	if (msg->type != RA_MSG_IO || msg->tag != TAG_SEND) {
		atomic_fetch_add(&piper_bad, 1);
		ra_stop(self, 0);
		return 0;
	}
	atomic_store(&piper_res, msg->res);
	if (msg->res < 0 && msg->res != -EPIPE && msg->res != -ECONNRESET)
		atomic_fetch_add(&piper_bad, 1);
	if (msg->res == -EPIPE || (msg->res < 0 && msg->res != -ECONNRESET) ||
	    atomic_load(&piper_sends) >= PIPER_MAX_SENDS) {
		ra_stop(self, 0);
		return 0;
	}
	atomic_fetch_add(&piper_sends, 1);
	return ra_io_send(self, st->fd, st->buf, sizeof(st->buf), TAG_SEND);
}

static void piper_terminate(ra_ctx_t *self, void *state, int reason)
{
	(void)self;
	(void)state;
	if (reason != 0)
		atomic_fetch_add(&piper_bad, 1);
	atomic_fetch_add(&piper_terms, 1);
}

static const ra_actor_def_t piper_def = {
	.name = "piper",
	.state_size = sizeof(struct piper_state),
	.init = piper_init,
	.behavior = piper_behavior,
	.terminate = piper_terminate,
};

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void run_piper(ra_runtime_t *rt, int fd, const char *what)
{
	atomic_store(&piper_res, 1);
	atomic_store(&piper_sends, 0);
	atomic_store(&piper_bad, 0);
	atomic_store(&piper_terms, 0);
	is_int(ra_runtime_spawn(rt, &piper_def, (void *)(intptr_t)fd, NULL,
				NULL), 0, "%s: sender spawned", what);
	is_int(ra_runtime_wait_idle(rt, scaled_ns(10 * SEC)), 0,
	       "%s: sender finished", what);
	is_int(atomic_load(&piper_res), -EPIPE,
	       "%s: last send res is -EPIPE (after %d sends)", what,
	       atomic_load(&piper_sends));
	is_int(atomic_load(&piper_bad), 0,
	       "%s: every error was -EPIPE or -ECONNRESET", what);
	is_int(atomic_load(&piper_terms), 1, "%s: sender terminated normally",
	       what);
	is_int(sigpipes, 0, "%s: no SIGPIPE raised", what);
}

#define PIPE_TESTS (2 * 6 + 2)

static void test_closed_peer(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;
	uint16_t port;
	int sv[2], lfd, cfd, afd;

	/* Count SIGPIPEs instead of dying of one: a clearer failure. */
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPIPE, &sa, NULL);
	ra_config_init(&cfg);
	cfg.shards = 1;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());

	/* Unix stream pair, peer closed: the first send is -EPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair failed");
	close(sv[1]);
	run_piper(rt, sv[0], "unix peer closed");
	close(sv[0]);

	/* TCP, peer closed: -ECONNRESET once the RST is in, then -EPIPE. */
	lfd = listen_loopback(&port);
	cfd = lfd < 0 ? -1 : connect_loopback(port, 0);
	afd = cfd < 0 ? -1 : accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		bail_out("loopback TCP connection failed");
	close(afd);
	run_piper(rt, cfd, "tcp peer closed");
	close(cfd);
	close(lfd);

	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("ra_stats_snapshot failed");
	is_int(st.io_completed, st.io_submitted,
	       "closed peer: io_completed == io_submitted");
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "closed peer: destroy");
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	tap_timeout(30);
	signal(SIGPIPE, SIG_DFL);
	stream_fill();
	plan(2 * ECHO_TESTS + PIPE_TESTS);
	run_echo(2);
	run_echo(1);
	test_closed_peer();
	return exit_status();
}
