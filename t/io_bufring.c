/*
 * t/io_bufring.c: ra_io_recv_multishot() on the shard's buffer ring,
 * ra_io_buf_claim() and ra_io_buf_release(), under each way a shard's
 * ring runs task work (COOP, IPI, DEFER):
 *
 *   - a 1 MiB stream of known bytes arrives intact and in order, each
 *     completion lending one ring buffer (RA_MSG_F_MORE | RA_MSG_F_BUF);
 *     some are claimed, kept unchanged across later completions and
 *     released; ra_msg_claim() gives a copy; bad releases are -EINVAL;
 *     the peer's close ends the request with res 0;
 *   - a ring of 4 buffers of 64 bytes, all held by the actor for a
 *     while: the recv runs out of buffers (-ENOBUFS, counted), is
 *     re-armed once they come back, and no byte is lost or reordered;
 *   - an RST in the middle ends it with -ECONNRESET;
 *   - ra_io_cancel ends it with one -ECANCELED;
 *   - stops: with a buffer claimed and the recv pending; while the recv
 *     is paused for buffers; with lent buffers still in the mailbox;
 *   - no envelope for a completion (RA_FAULT_IO_ENV): the end is -ENOMEM,
 *     counted, the bytes before it intact.
 *
 * After each case a probe actor on the receiver's shard checks that
 * every buffer is back in the ring: none leaked by a path above.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/actor.h"
#include "io/bufring.h"
#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define SEC	1000000000ull
#define MS	1000000ull
#define BIG_COUNT 64
#define BIG_SIZE 1024
#define TINY_COUNT 4
#define TINY_SIZE 64
#define HOLD_MAX 8

static const struct { unsigned flags; const char *name; } modes[] = {
	{ 0, "coop" },
	{ RA_CFG_TASKRUN_IPI, "ipi" },
	{ RA_CFG_TASKRUN_DEFER, "defer" },
};

static const char *mode;
static const ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD,
				     .shard = 1 };

enum { T_RX = 0x77 };
enum { M_RELEASE = 1, M_CANCEL, M_CANCEL_AGAIN };

static uint8_t pat(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static ra_runtime_t *make_rt(unsigned flags, unsigned count, unsigned size)
{
	ra_config_t cfg;
	ra_runtime_t *rt;

	ra_config_init(&cfg);
	cfg.shards = 2;
	cfg.flags = flags;
	cfg.buf_ring_entries = count;
	cfg.buf_size = size;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	return rt;
}

static uint64_t stat_of(ra_runtime_t *rt, size_t off)
{
	ra_stats_t st;
	uint64_t v;

	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("snapshot");
	v = *(uint64_t *)((char *)&st + off);
	ra_stats_fini(&st);
	return v;
}

#define STAT(rt, f) stat_of((rt), offsetof(ra_stats_t, f))

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair");
}

/*
 * A connected stream pair: AF_UNIX, where the runtime keeps one one-shot
 * recv armed (io/multishot.c says why), or TCP over loopback, where the
 * kernel's multishot recv runs. sv[0] is the receiver's end.
 */
static int use_tcp;

static void stream_pair(int sv[2])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint16_t port;
	int lfd;

	if (!use_tcp) {
		pair(sv);
		return;
	}
	lfd = listen_loopback(&port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || sv[1] < 0 ||
	    connect(sv[1], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (sv[0] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		bail_out("tcp pair");
	close(lfd);
}

static const char *kind(void)
{
	return use_tcp ? "tcp" : "unix";
}

/* Write `len` bytes of the pattern from stream offset `off`. */
static void write_pattern(int fd, size_t off, size_t len)
{
	uint8_t chunk[4096];

	while (len) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);

		for (size_t i = 0; i < n; i++)
			chunk[i] = pat(off + i);
		if (write(fd, chunk, n) != (ssize_t)n)
			bail_out("write");
		off += n;
		len -= n;
	}
}

/* ---------------------------------------------------------- the probe */

/* Buffers in the ring of the receiver's shard, read on that shard. */
static atomic_int probe_avail;

static int probe_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	(void)arg;
	atomic_store(&probe_avail, self->shard->bufring
				   ? (int)ra__bufring_available(self->shard)
				   : -1);
	return -1;	/* done */
}

static int probe_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

static const ra_actor_def_t probe_def = {
	.name = "probe", .init = probe_init, .behavior = probe_behavior,
};

/* After everything stopped: are all `count` buffers in the ring? */
static void check_all_back(ra_runtime_t *rt, int count, const char *what)
{
	atomic_store(&probe_avail, -2);
	if (ra_runtime_spawn(rt, &probe_def, NULL, &on1, NULL) != 0 ||
	    ra_runtime_wait_idle(rt, 5 * SEC) != 0)
		bail_out("probe");
	is_int(atomic_load(&probe_avail), count,
	       "%s: %s: every buffer back in the ring", mode, what);
}

/* -------------------------------------------------------- the receiver */

struct rx_arg {
	int fd;
	int claim_every;	/* claim every Nth buffer, keep 2, release */
	int hold_all;		/* claim all; release 2 ms after the 4th */
	int hold_forever;	/* claim all, never release */
	int stop_first;		/* ra_stop() at the first data */
	size_t buf_size;
};

struct held {
	void *p;
	size_t off, len;
};

struct rx_state {
	const struct rx_arg *arg;
	size_t got;		/* stream offset */
	unsigned n;		/* data completions */
	struct held held[HOLD_MAX];
	int nheld;
	int release_armed;
};

static atomic_long rx_got;
static atomic_int rx_n, rx_mismatch, rx_bad, rx_final_n, rx_final_res;
static atomic_int rx_final_bad, rx_claims, rx_releases, rx_claim_errs;
static atomic_int rx_copy_bad, rx_terms, rx_term_pending, rx_cancel_ret;
static atomic_int rx_cancel_again_ret;

static void rx_reset(void)
{
	atomic_store(&rx_got, 0);
	atomic_store(&rx_n, 0);
	atomic_store(&rx_mismatch, 0);
	atomic_store(&rx_bad, 0);
	atomic_store(&rx_final_n, 0);
	atomic_store(&rx_final_res, 1);
	atomic_store(&rx_final_bad, 0);
	atomic_store(&rx_claims, 0);
	atomic_store(&rx_releases, 0);
	atomic_store(&rx_claim_errs, 0);
	atomic_store(&rx_copy_bad, 0);
	atomic_store(&rx_terms, 0);
	atomic_store(&rx_term_pending, -1);
	atomic_store(&rx_cancel_ret, 1);
	atomic_store(&rx_cancel_again_ret, 1);
}

static int same_as_pattern(const uint8_t *p, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pat(off + i))
			return 0;
	return 1;
}

/* Release the oldest held buffer, checking it stayed as it was. */
static void release_oldest(ra_ctx_t *self, struct rx_state *st)
{
	struct held h = st->held[0];

	if (!same_as_pattern(h.p, h.off, h.len))
		atomic_fetch_add(&rx_mismatch, 1);
	/* Not a buffer's start; then the real release; then again. */
	if (ra_io_buf_release(self, (char *)h.p + 1) != -EINVAL)
		atomic_fetch_add(&rx_claim_errs, 1);
	if (ra_io_buf_release(self, h.p) != 0)
		atomic_fetch_add(&rx_claim_errs, 1);
	else
		atomic_fetch_add(&rx_releases, 1);
	if (ra_io_buf_release(self, h.p) != -EINVAL)
		atomic_fetch_add(&rx_claim_errs, 1);
	memmove(st->held, st->held + 1, --st->nheld * sizeof(st->held[0]));
}

static void claim(ra_ctx_t *self, struct rx_state *st, const ra_msg_t *m)
{
	void *p = ra_io_buf_claim(self, m);
	void *copy = ra_msg_claim(self, m);

	if (!p || p != m->data || ra_io_buf_claim(self, m) != NULL) {
		atomic_fetch_add(&rx_claim_errs, 1);
		free(copy);
		return;
	}
	/* ra_msg_claim keeps its contract: a malloc'd copy. */
	if (!copy || copy == m->data || memcmp(copy, m->data, m->len))
		atomic_fetch_add(&rx_copy_bad, 1);
	free(copy);
	st->held[st->nheld++] = (struct held){ p, st->got, m->len };
	atomic_fetch_add(&rx_claims, 1);
}

static int rx_data(ra_ctx_t *self, struct rx_state *st, const ra_msg_t *m)
{
	const struct rx_arg *a = st->arg;

	if (m->flags != (RA_MSG_F_MORE | RA_MSG_F_BUF) || m->res <= 0 ||
	    (size_t)m->res != m->len || !m->data || m->len > a->buf_size) {
		atomic_fetch_add(&rx_bad, 1);
		return 0;
	}
	if (!same_as_pattern(m->data, st->got, m->len))
		atomic_fetch_add(&rx_mismatch, 1);
	st->n++;
	if (a->stop_first) {
		ra_stop(self, 0);
	} else if (a->claim_every && st->n % (unsigned)a->claim_every == 0) {
		claim(self, st, m);
		if (st->nheld > 2)
			release_oldest(self, st);
	} else if ((a->hold_all || a->hold_forever) && st->nheld < HOLD_MAX) {
		claim(self, st, m);
		if (a->hold_all && !st->release_armed &&
		    st->nheld == (int)TINY_COUNT) {
			st->release_armed = 1;
			ra_send_after(self, ra_self(self), 2 * MS, M_RELEASE,
				      NULL, 0, NULL);
		}
	}
	st->got += m->len;
	atomic_store(&rx_got, (long)st->got);
	atomic_store(&rx_n, (int)st->n);
	return 0;
}

static int rx_init(ra_ctx_t *self, void *state, void *arg)
{
	struct rx_state *st = state;

	st->arg = arg;
	return ra_io_recv_multishot(self, st->arg->fd, T_RX);
}

static int rx_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct rx_state *st = state;

	switch (m->type) {
	case RA_MSG_IO:
		if (m->tag != T_RX)
			break;
		if (m->flags & RA_MSG_F_MORE)
			return rx_data(self, st, m);
		atomic_fetch_add(&rx_final_n, 1);
		atomic_store(&rx_final_res, m->res);
		if (m->flags || m->len || m->data)
			atomic_fetch_add(&rx_final_bad, 1);
		if (ra_io_pending(self) != 0)
			atomic_fetch_add(&rx_final_bad, 1);
		return 0;
	case M_RELEASE:
		while (st->nheld)
			release_oldest(self, st);
		st->release_armed = 0;
		return 0;
	case M_CANCEL:
		atomic_store(&rx_cancel_ret, ra_io_cancel(self, T_RX));
		return 0;
	case M_CANCEL_AGAIN:
		atomic_store(&rx_cancel_again_ret, ra_io_cancel(self, T_RX));
		return 0;
	}
	atomic_fetch_add(&rx_bad, 1);
	return 0;
}

static void rx_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct rx_state *st = state;

	(void)reason;
	/* Claimed buffers are still ours to read here. */
	for (int i = 0; i < st->nheld; i++)
		if (!same_as_pattern(st->held[i].p, st->held[i].off,
				     st->held[i].len))
			atomic_fetch_add(&rx_mismatch, 1);
	atomic_store(&rx_term_pending, (int)ra_io_pending(self));
	atomic_fetch_add(&rx_terms, 1);
}

static const ra_actor_def_t rx_def = {
	.name = "rx", .state_size = sizeof(struct rx_state),
	.init = rx_init, .behavior = rx_behavior, .terminate = rx_terminate,
};

static ra_ref_t spawn_rx(ra_runtime_t *rt, const struct rx_arg *arg)
{
	ra_ref_t r;

	if (ra_runtime_spawn(rt, &rx_def, (void *)arg, &on1, &r) != 0)
		bail_out("spawn");
	return r;
}

/*
 * Stop `rx` from outside: its recv (if still pending) is cancelled and
 * drained, terminate runs once, and every buffer it held goes back.
 */
static void stop_and_check(ra_runtime_t *rt, ra_ref_t rx, int count,
			   const char *what)
{
	is_int(ra_runtime_stop_actor(rt, rx), 0, "%s: %s: stop sent", mode,
	       what);
	is_int(ra_runtime_wait_idle(rt, 5 * SEC), 0,
	       "%s: %s: the recv was cancelled and drained", mode, what);
	ok(atomic_load(&rx_terms) == 1 && atomic_load(&rx_term_pending) == 0 &&
	   atomic_load(&rx_mismatch) == 0,
	   "%s: %s: terminate ran once, nothing pending, claimed buffers "
	   "intact", mode, what);
	check_all_back(rt, count, what);
}

/* -------------------------------------------- A: a stream, claims */

#define STREAM_LEN (1 << 20)
#define STREAM_TESTS 13

static void test_stream(ra_runtime_t *rt)
{
	static struct rx_arg arg;
	const char *k = kind();
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	stream_pair(sv);
	arg = (struct rx_arg){ .fd = sv[0], .claim_every = 7,
			       .buf_size = BIG_SIZE };
	rx = spawn_rx(rt, &arg);
	write_pattern(sv[1], 0, STREAM_LEN);
	close(sv[1]);
	is_int(wait_for(&rx_final_n, 1, 10 * SEC), 0,
	       "%s %s: stream: the request ended", mode, k);
	is_int(atomic_load(&rx_got), STREAM_LEN,
	       "%s %s: stream: %d bytes received (%d completions)", mode, k,
	       STREAM_LEN, atomic_load(&rx_n));
	is_int(atomic_load(&rx_mismatch), 0,
	       "%s %s: stream: every byte as sent, in order; claimed "
	       "buffers unchanged until released", mode, k);
	is_int(atomic_load(&rx_bad), 0, "%s %s: stream: each completion "
	       "lent one buffer: F_MORE|F_BUF, len == res <= buf_size", mode,
	       k);
	is_int(atomic_load(&rx_final_res), 0,
	       "%s %s: stream: the peer's close ended it with res 0", mode, k);
	is_int(atomic_load(&rx_final_bad), 0, "%s %s: stream: the end had "
	       "no flags, no data, nothing pending", mode, k);
	ok(atomic_load(&rx_claims) > 10 &&
	   atomic_load(&rx_releases) == atomic_load(&rx_claims) - 2,
	   "%s %s: stream: %d claimed, %d released, 2 held", mode, k,
	   atomic_load(&rx_claims), atomic_load(&rx_releases));
	is_int(atomic_load(&rx_claim_errs), 0, "%s %s: stream: claim twice: "
	       "NULL; release inside a buffer, or twice: -EINVAL", mode, k);
	is_int(atomic_load(&rx_copy_bad), 0,
	       "%s %s: stream: ra_msg_claim gave a malloc'd copy", mode, k);
	/* Its stop gives back the 2 buffers it still holds. */
	stop_and_check(rt, rx, BIG_COUNT, use_tcp ? "tcp stream, 2 claimed"
						  : "unix stream, 2 claimed");
	close(sv[0]);
}

/* ------------------------------------------------ B: ENOBUFS and back */

#define ENOBUFS_LEN (16 * 1024)
#define ENOBUFS_TESTS 11

static void test_enobufs(unsigned flags)
{
	static struct rx_arg arg;
	ra_runtime_t *rt = make_rt(flags, TINY_COUNT, TINY_SIZE);
	const char *k = kind();
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	stream_pair(sv);
	write_pattern(sv[1], 0, ENOBUFS_LEN);	/* all there from the start */
	close(sv[1]);
	arg = (struct rx_arg){ .fd = sv[0], .hold_all = 1,
			       .buf_size = TINY_SIZE };
	rx = spawn_rx(rt, &arg);
	is_int(wait_for(&rx_final_n, 1, 20 * SEC), 0,
	       "%s %s: enobufs: the request ended", mode, k);
	is_int(atomic_load(&rx_got), ENOBUFS_LEN,
	       "%s %s: enobufs: all %d bytes through 4 buffers of 64", mode,
	       k, ENOBUFS_LEN);
	is_int(atomic_load(&rx_mismatch), 0,
	       "%s %s: enobufs: no byte lost or reordered", mode, k);
	is_int(atomic_load(&rx_final_res), 0, "%s %s: enobufs: end res 0 "
	       "(EOF), the actor never saw -ENOBUFS", mode, k);
	ok(STAT(rt, recv_enobufs) > 0 && STAT(rt, multishot_rearms) > 0,
	   "%s %s: enobufs: ran out (%llu) and was re-armed (%llu)", mode, k,
	   (unsigned long long)STAT(rt, recv_enobufs),
	   (unsigned long long)STAT(rt, multishot_rearms));
	is_int(atomic_load(&rx_bad) + atomic_load(&rx_claim_errs), 0,
	       "%s %s: enobufs: no stray completion or bad claim", mode, k);
	stop_and_check(rt, rx, TINY_COUNT, use_tcp ? "tcp enobufs"
						   : "unix enobufs");
	is_int(ra_runtime_destroy(rt), 0, "%s %s: enobufs: destroy", mode, k);
	close(sv[0]);
}

/* --------------------------------------------------- C: RST mid-stream */

#define RST_TESTS 7

static void test_rst(ra_runtime_t *rt)
{
	static struct rx_arg arg;
	struct linger lg = { 1, 0 };
	uint16_t port;
	int lfd = listen_loopback(&port), c, a;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	ra_ref_t rx;

	rx_reset();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || c < 0 ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		bail_out("tcp pair");
	arg = (struct rx_arg){ .fd = a, .buf_size = BIG_SIZE };
	rx = spawn_rx(rt, &arg);
	write_pattern(c, 0, 1000);
	for (int i = 0; i < 5000 && atomic_load(&rx_got) < 1000; i++)
		sleep_ms(1);
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);	/* an RST */
	is_int(wait_for(&rx_final_n, 1, 5 * SEC), 0, "%s: rst: it ended",
	       mode);
	ok(atomic_load(&rx_got) == 1000 && atomic_load(&rx_mismatch) == 0,
	   "%s: rst: the 1000 bytes before it arrived intact", mode);
	is_int(atomic_load(&rx_final_res), -ECONNRESET,
	       "%s: rst: the end is -ECONNRESET", mode);
	stop_and_check(rt, rx, BIG_COUNT, "rst");
	close(a);
	close(lfd);
}

/* ----------------------------------------------------------- D: cancel */

#define CANCEL_TESTS 9

static void test_cancel(ra_runtime_t *rt, ra_ref_t rx)
{
	ra_runtime_send(rt, rx, M_CANCEL, NULL, 0);
	is_int(wait_for(&rx_final_n, 1, 5 * SEC), 0,
	       "%s: cancel: the end came", mode);
	ra_runtime_send(rt, rx, M_CANCEL_AGAIN, NULL, 0);
	sleep_ms(30);
	is_int(atomic_load(&rx_cancel_ret), 0, "%s: cancel: ra_io_cancel 0",
	       mode);
	ok(atomic_load(&rx_final_n) == 1 &&
	   atomic_load(&rx_final_res) == -ECANCELED &&
	   atomic_load(&rx_final_bad) == 0,
	   "%s: cancel: exactly one end, -ECANCELED, no data", mode);
	is_int(atomic_load(&rx_cancel_again_ret), -ENOENT,
	       "%s: cancel: again: -ENOENT", mode);
	is_int(atomic_load(&rx_bad), 0, "%s: cancel: no stray completion",
	       mode);
}

static void test_stream_cancel(ra_runtime_t *rt)
{
	static struct rx_arg arg;
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	use_tcp = 1;
	stream_pair(sv);
	arg = (struct rx_arg){ .fd = sv[0], .buf_size = BIG_SIZE };
	rx = spawn_rx(rt, &arg);
	write_pattern(sv[1], 0, 3000);
	for (int i = 0; i < 5000 && atomic_load(&rx_got) < 3000; i++)
		sleep_ms(1);
	test_cancel(rt, rx);
	stop_and_check(rt, rx, BIG_COUNT, "cancel");
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------ E: stops */

#define CLAIMED_TESTS 4
#define QUEUED_TESTS 3
#define PAUSED_TESTS 6

static void test_stop_claimed(ra_runtime_t *rt)
{
	static struct rx_arg arg;
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	use_tcp = 1;
	stream_pair(sv);
	arg = (struct rx_arg){ .fd = sv[0], .hold_forever = 1,
			       .buf_size = BIG_SIZE };
	rx = spawn_rx(rt, &arg);
	write_pattern(sv[1], 0, 500);
	for (int i = 0; i < 5000 && atomic_load(&rx_claims) < 1; i++)
		sleep_ms(1);
	stop_and_check(rt, rx, BIG_COUNT, "stop holding a claimed buffer");
	close(sv[0]);
	close(sv[1]);
}

static void test_stop_queued(ra_runtime_t *rt)
{
	static struct rx_arg arg;
	int sv[2];

	rx_reset();
	use_tcp = 0;
	stream_pair(sv);
	/* Many buffers' worth at once: completions queue behind the first. */
	write_pattern(sv[1], 0, 48 * BIG_SIZE);
	arg = (struct rx_arg){ .fd = sv[0], .stop_first = 1,
			       .buf_size = BIG_SIZE };
	spawn_rx(rt, &arg);
	is_int(ra_runtime_wait_idle(rt, 5 * SEC), 0,
	       "%s: stop with lent buffers queued: drained", mode);
	ok(atomic_load(&rx_n) == 1 && atomic_load(&rx_terms) == 1,
	   "%s: stop with lent buffers queued: one completion seen", mode);
	check_all_back(rt, BIG_COUNT, "stop with lent buffers queued");
	close(sv[0]);
	close(sv[1]);
}

static void test_stop_paused(unsigned flags)
{
	static struct rx_arg arg;
	ra_runtime_t *rt = make_rt(flags, TINY_COUNT, TINY_SIZE);
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	use_tcp = 1;
	stream_pair(sv);
	write_pattern(sv[1], 0, 1024);
	arg = (struct rx_arg){ .fd = sv[0], .hold_forever = 1,
			       .buf_size = TINY_SIZE };
	rx = spawn_rx(rt, &arg);
	for (int i = 0; i < 5000 && STAT(rt, recv_enobufs) < 1; i++)
		sleep_ms(1);
	ok(atomic_load(&rx_claims) == TINY_COUNT && STAT(rt, recv_enobufs) > 0,
	   "%s: paused: every buffer claimed, the recv out of buffers",
	   mode);
	stop_and_check(rt, rx, TINY_COUNT, "stop while paused for buffers");
	is_int(ra_runtime_destroy(rt), 0, "%s: paused: destroy", mode);
	close(sv[0]);
	close(sv[1]);
}

/* ----------------------------------------------------------- F: ENOMEM */

#define NOMEM_TESTS 9

static void test_enomem(unsigned flags)
{
	static struct rx_arg arg;
	ra_runtime_t *rt;
	int sv[2];
	ra_ref_t rx;

	rx_reset();
	setenv("RA_FAULT_IO_ENV", "5", 1);
	rt = make_rt(flags, BIG_COUNT, BIG_SIZE);
	unsetenv("RA_FAULT_IO_ENV");
	use_tcp = 1;
	stream_pair(sv);
	arg = (struct rx_arg){ .fd = sv[0], .buf_size = BIG_SIZE };
	rx = spawn_rx(rt, &arg);
	/* One buffer's worth at a time: a completion each. */
	for (int i = 0; i < 8; i++) {
		write_pattern(sv[1], (size_t)i * 100, 100);
		for (int t = 0; t < 2000 && atomic_load(&rx_final_n) == 0 &&
				atomic_load(&rx_got) < (i + 1) * 100; t++)
			sleep_ms(1);
	}
	is_int(wait_for(&rx_final_n, 1, 5 * SEC), 0,
	       "%s: enomem: the request ended", mode);
	is_int(atomic_load(&rx_final_res), -ENOMEM,
	       "%s: enomem: ... with -ENOMEM", mode);
	ok(atomic_load(&rx_n) == 4 && atomic_load(&rx_got) == 400 &&
	   atomic_load(&rx_mismatch) == 0,
	   "%s: enomem: the 4 completions before it intact (%d, %ld bytes)",
	   mode, atomic_load(&rx_n), atomic_load(&rx_got));
	is_int(STAT(rt, multishot_enomem), 1, "%s: enomem: counted", mode);
	stop_and_check(rt, rx, BIG_COUNT, "enomem");
	is_int(ra_runtime_destroy(rt), 0, "%s: enomem: destroy", mode);
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------------------- main */

#define MODE_TESTS (2 * STREAM_TESTS + 2 * ENOBUFS_TESTS + RST_TESTS + \
		    CANCEL_TESTS + CLAIMED_TESTS + QUEUED_TESTS + 2 + \
		    PAUSED_TESTS + NOMEM_TESTS)

int main(void)
{
	tap_timeout(120);
	signal(SIGPIPE, SIG_IGN);
	plan((int)RA_ARRAY_LEN(modes) * MODE_TESTS);
	for (unsigned i = 0; i < RA_ARRAY_LEN(modes); i++) {
		unsigned f = modes[i].flags;
		ra_runtime_t *rt = make_rt(f, BIG_COUNT, BIG_SIZE);
		ra_stats_t st;

		mode = modes[i].name;
		for (use_tcp = 0; use_tcp < 2; use_tcp++)
			test_stream(rt);
		test_rst(rt);
		test_stream_cancel(rt);
		test_stop_claimed(rt);
		test_stop_queued(rt);
		if (ra_stats_snapshot(rt, &st) != 0)
			bail_out("snapshot");
		is_int(st.io_completed, st.io_submitted,
		       "%s: every request completed (%llu)", mode,
		       (unsigned long long)st.io_submitted);
		ra_stats_fini(&st);
		is_int(ra_runtime_destroy(rt), 0, "%s: destroy", mode);
		for (use_tcp = 0; use_tcp < 2; use_tcp++)
			test_enobufs(f);
		test_stop_paused(f);
		test_enomem(f);
	}
	return exit_status();
}
