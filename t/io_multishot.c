/*
 * t/io_multishot.c: ra_io_accept_multishot(), under each way a shard's
 * ring runs task work (COOP, IPI, DEFER):
 *
 *   - 200 connections served by one request: one SQE, a completion with
 *     RA_MSG_F_MORE per connection; then ra_io_cancel ends it with one
 *     final -ECANCELED and nothing of it is left in the kernel;
 *   - a stop with the request pending cancels and drains it;
 *   - EMFILE: with the process out of descriptors, the listener reports
 *     -EMFILE as completions that say it goes on, backs off (counted),
 *     never spins (re-arms and back-offs stay few), and serves every
 *     waiting client once descriptors are free;
 *   - no envelope for a completion (RA_FAULT_IO_ENV, the test build's
 *     stand-in for a pool that cannot grow): the connection is closed,
 *     the request ends with -ENOMEM, counted, never silently.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define SEC	1000000000ull
#define MS	1000000ull
#define CLIENTS	200
#define EM_CLIENTS 20

static const struct { unsigned flags; const char *name; } modes[] = {
	{ 0, "coop" },
	{ RA_CFG_TASKRUN_IPI, "ipi" },
	{ RA_CFG_TASKRUN_DEFER, "defer" },
};

static const char *mode;

enum { T_ACC = 0xacc };
enum { M_CANCEL = 1, M_CANCEL_AGAIN };

static ra_runtime_t *make_rt(unsigned flags)
{
	ra_config_t cfg;
	ra_runtime_t *rt;

	ra_config_init(&cfg);
	cfg.shards = 2;
	cfg.flags = flags;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	return rt;
}

static int listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		bail_out("listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bail_out("connect");
	return fd;
}

/* One byte from the server within 5 s: 1, 0 on EOF, -1 otherwise. */
static int served(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1)
		return -1;
	switch (read(fd, &c, 1)) {
	case 1:
		return c == 'A' ? 1 : -1;
	case 0:
		return 0;
	default:
		return -1;
	}
}

/* No accept of ours is left: main takes the next connection itself. */
static int listener_free(int lfd, uint16_t port)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int c = connect_to(port), a = -1;

	sleep_ms(20);
	if (poll(&p, 1, 1000) == 1)
		a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(c);
	if (a < 0)
		return 0;
	close(a);
	return 1;
}

/* ------------------------------------------------------------ acceptor */

/*
 * Serves each connection with one byte 'A' and closes it; counts what
 * it saw. A final completion (no RA_MSG_F_MORE) is recorded, once.
 */
static atomic_int acc_conns, acc_not_cloexec, acc_bad, acc_emfile;
static atomic_int acc_final_n, acc_final_res, acc_max_pending;
static atomic_int acc_cancel_ret, acc_cancel_again_ret, acc_pending_final;
static atomic_int acc_terms, acc_term_pending;

static void acc_reset(void)
{
	atomic_store(&acc_conns, 0);
	atomic_store(&acc_not_cloexec, 0);
	atomic_store(&acc_bad, 0);
	atomic_store(&acc_emfile, 0);
	atomic_store(&acc_final_n, 0);
	atomic_store(&acc_final_res, 1);
	atomic_store(&acc_max_pending, 0);
	atomic_store(&acc_cancel_ret, 1);
	atomic_store(&acc_cancel_again_ret, 1);
	atomic_store(&acc_pending_final, -1);
	atomic_store(&acc_terms, 0);
	atomic_store(&acc_term_pending, -1);
}

static int acc_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state;
	return ra_io_accept_multishot(self, (int)(intptr_t)arg, T_ACC);
}

static int acc_io(ra_ctx_t *self, const ra_msg_t *m)
{
	int pending = (int)ra_io_pending(self);

	if (pending > atomic_load(&acc_max_pending))
		atomic_store(&acc_max_pending, pending);
	if (m->tag != T_ACC || (m->flags & RA_MSG_F_BUF) || m->len) {
		atomic_fetch_add(&acc_bad, 1);
		return 0;
	}
	if (!(m->flags & RA_MSG_F_MORE)) {
		atomic_fetch_add(&acc_final_n, 1);
		atomic_store(&acc_final_res, m->res);
		atomic_store(&acc_pending_final, pending);
		return 0;
	}
	if (m->res == -EMFILE || m->res == -ENFILE) {
		atomic_fetch_add(&acc_emfile, 1);
		return 0;
	}
	if (m->res < 0) {
		atomic_fetch_add(&acc_bad, 1);
		return 0;
	}
	if (!(fcntl(m->res, F_GETFD) & FD_CLOEXEC))
		atomic_fetch_add(&acc_not_cloexec, 1);
	/* Counted before the client can see its byte and main look. */
	atomic_fetch_add(&acc_conns, 1);
	if (write(m->res, "A", 1) != 1)
		atomic_fetch_add(&acc_bad, 1);
	close(m->res);
	return 0;
}

static int acc_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)state;
	if (m->type == RA_MSG_IO)
		return acc_io(self, m);
	if (m->type == M_CANCEL)
		atomic_store(&acc_cancel_ret, ra_io_cancel(self, T_ACC));
	else if (m->type == M_CANCEL_AGAIN)
		atomic_store(&acc_cancel_again_ret, ra_io_cancel(self, T_ACC));
	return 0;
}

static void acc_terminate(ra_ctx_t *self, void *state, int reason)
{
	(void)state;
	(void)reason;
	atomic_store(&acc_term_pending, (int)ra_io_pending(self));
	atomic_fetch_add(&acc_terms, 1);
}

static const ra_actor_def_t acc_def = {
	.name = "acceptor", .init = acc_init, .behavior = acc_behavior,
	.terminate = acc_terminate,
};

static ra_ref_t spawn_acceptor(ra_runtime_t *rt, int lfd)
{
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	ra_ref_t r;

	if (ra_runtime_spawn(rt, &acc_def, (void *)(intptr_t)lfd, &on1, &r))
		bail_out("spawn");
	return r;
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

/* Cancel, and see the end arrive once; then -ENOENT. */
static void cancel_and_check(ra_runtime_t *rt, ra_ref_t acc,
			     const char *what)
{
	atomic_int *fin = &acc_final_n;

	ra_runtime_send(rt, acc, M_CANCEL, NULL, 0);
	is_int(wait_for(fin, 1, 5 * SEC), 0, "%s: %s: the end came", mode,
	       what);
	ra_runtime_send(rt, acc, M_CANCEL_AGAIN, NULL, 0);
	sleep_ms(50);
	is_int(atomic_load(&acc_cancel_ret), 0, "%s: %s: ra_io_cancel: 0",
	       mode, what);
	ok(atomic_load(&acc_final_n) == 1 &&
	   atomic_load(&acc_final_res) == -ECANCELED,
	   "%s: %s: exactly one end, without F_MORE, -ECANCELED (%d)", mode,
	   what, atomic_load(&acc_final_res));
	is_int(atomic_load(&acc_pending_final), 0,
	       "%s: %s: nothing pending when it arrived", mode, what);
	is_int(atomic_load(&acc_cancel_again_ret), -ENOENT,
	       "%s: %s: cancel after the end: -ENOENT", mode, what);
}

/* --------------------------------------------- 200 clients, one request */

#define MANY_TESTS 14

static void test_many(ra_runtime_t *rt)
{
	static int cfd[CLIENTS];
	uint16_t port;
	int lfd = listener(&port), good = 0;
	uint64_t sub0 = STAT(rt, io_submitted);
	uint64_t rearm0 = STAT(rt, multishot_rearms);
	ra_ref_t acc;

	acc_reset();
	acc = spawn_acceptor(rt, lfd);
	for (int i = 0; i < CLIENTS; i++)
		cfd[i] = connect_to(port);
	for (int i = 0; i < CLIENTS; i++) {
		good += served(cfd[i]) == 1;
		close(cfd[i]);
	}
	is_int(good, CLIENTS, "%s: all %d clients served", mode, CLIENTS);
	is_int(atomic_load(&acc_conns), CLIENTS,
	       "%s: %d completions with RA_MSG_F_MORE and a socket", mode,
	       CLIENTS);
	is_int(STAT(rt, io_submitted) - sub0, 1, "%s: by one request", mode);
	is_int(atomic_load(&acc_max_pending), 1,
	       "%s: ... pending all along", mode);
	ok(STAT(rt, multishot_rearms) - rearm0 < 10,
	   "%s: re-armed rarely (%llu)", mode,
	   (unsigned long long)(STAT(rt, multishot_rearms) - rearm0));
	is_int(atomic_load(&acc_not_cloexec), 0,
	       "%s: every socket has FD_CLOEXEC", mode);
	is_int(atomic_load(&acc_final_n), 0, "%s: no end yet", mode);
	cancel_and_check(rt, acc, "cancel");
	ok(listener_free(lfd, port),
	   "%s: no accept left in the kernel after the cancel", mode);
	is_int(atomic_load(&acc_bad), 0, "%s: no stray completion", mode);
	ra_runtime_stop_actor(rt, acc);
	ra_runtime_wait_idle(rt, 5 * SEC);
	close(lfd);
}

/* -------------------------------------------------- stop while pending */

#define STOP_TESTS 5

static void test_stop(ra_runtime_t *rt)
{
	uint16_t port;
	int lfd = listener(&port), c;
	ra_ref_t acc;

	acc_reset();
	acc = spawn_acceptor(rt, lfd);
	c = connect_to(port);
	is_int(served(c), 1, "%s: stop: a client served", mode);
	close(c);
	is_int(ra_runtime_stop_actor(rt, acc), 0, "%s: stop: stop sent", mode);
	is_int(ra_runtime_wait_idle(rt, 5 * SEC), 0,
	       "%s: stop: the request was cancelled and drained", mode);
	ok(atomic_load(&acc_terms) == 1 && atomic_load(&acc_term_pending) == 0,
	   "%s: stop: terminate ran once with nothing pending", mode);
	ok(listener_free(lfd, port), "%s: stop: no accept left in the kernel",
	   mode);
	close(lfd);
}

/* ---------------------------------------------------------------- EMFILE */

/* Take every free descriptor below the limit; how many were taken. */
static int fill_fds(int *fds, int max)
{
	int n = 0;

	while (n < max) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	return n;
}

#define EM_TESTS 13

static void test_emfile(ra_runtime_t *rt)
{
	static int dummies[4096];
	int cfd[EM_CLIENTS], ndummies, good = 0, lfd, errno_fill, lowest, seen;
	struct rlimit old, low;
	uint16_t port;
	uint64_t bo0 = STAT(rt, accept_backoffs);
	uint64_t rearm0 = STAT(rt, multishot_rearms);
	uint64_t bo, rearms;
	ra_ref_t acc;

	acc_reset();
	lfd = listener(&port);
	for (int i = 0; i < EM_CLIENTS; i++)
		cfd[i] = connect_to(port);	/* they wait in the backlog */
	/* Out of descriptors: a low limit, and every one below it taken. */
	if (getrlimit(RLIMIT_NOFILE, &old) != 0)
		bail_out("getrlimit");
	low = old;
	lowest = fcntl(lfd, F_DUPFD_CLOEXEC, 0);	/* the lowest free */
	close(lowest);
	low.rlim_cur = (rlim_t)lowest + 64;
	if (lowest < 0 || low.rlim_cur > old.rlim_cur ||
	    setrlimit(RLIMIT_NOFILE, &low))
		bail_out("setrlimit");
	ndummies = fill_fds(dummies, 4096);
	errno_fill = errno;
	ok(ndummies > 0 && errno_fill == EMFILE,
	   "%s: emfile: the process is out of descriptors (%d taken)", mode,
	   ndummies);
	acc = spawn_acceptor(rt, lfd);
	sleep_ms(300);
	/* Seen first: a back-off is counted before its notice is read. */
	seen = atomic_load(&acc_emfile);
	bo = STAT(rt, accept_backoffs) - bo0;
	ok(bo >= 3, "%s: emfile: the listener backed off (%llu times in "
	   "300 ms)", mode, (unsigned long long)bo);
	ok(seen >= 3 && (uint64_t)seen <= bo,
	   "%s: emfile: the actor saw -EMFILE with F_MORE each time (%d)",
	   mode, seen);
	is_int(atomic_load(&acc_conns), 0, "%s: emfile: nobody served yet",
	       mode);
	is_int(atomic_load(&acc_final_n), 0,
	       "%s: emfile: the request did not end", mode);
	for (int i = 0; i < ndummies; i++)
		close(dummies[i]);
	for (int i = 0; i < EM_CLIENTS; i++) {
		good += served(cfd[i]) == 1;
		close(cfd[i]);
	}
	setrlimit(RLIMIT_NOFILE, &old);
	is_int(good, EM_CLIENTS,
	       "%s: emfile: every waiting client served once fds were free",
	       mode);
	is_int(atomic_load(&acc_conns), EM_CLIENTS,
	       "%s: emfile: %d connections accepted", mode, EM_CLIENTS);
	bo = STAT(rt, accept_backoffs) - bo0;
	rearms = STAT(rt, multishot_rearms) - rearm0;
	ok(bo < 1000 && rearms < 1000 && rearms <= bo + 2,
	   "%s: emfile: no spinning: %llu back-offs, %llu re-arms", mode,
	   (unsigned long long)bo, (unsigned long long)rearms);
	cancel_and_check(rt, acc, "emfile");
	ra_runtime_stop_actor(rt, acc);
	ra_runtime_wait_idle(rt, 5 * SEC);
	close(lfd);
}

/* ------------------------------------------------ no envelope: -ENOMEM */

#define NOMEM_TESTS 7

/*
 * RA_FAULT_IO_ENV=3: the third multishot completion finds no envelope.
 * The third client's socket is closed by the runtime, the request ends
 * with -ENOMEM, and the listener is free again.
 */
static void test_enomem(unsigned flags)
{
	ra_runtime_t *rt;
	uint16_t port;
	int lfd = listener(&port), c[3], r[3];
	ra_ref_t acc;

	acc_reset();
	setenv("RA_FAULT_IO_ENV", "3", 1);
	rt = make_rt(flags);
	unsetenv("RA_FAULT_IO_ENV");
	acc = spawn_acceptor(rt, lfd);
	for (int i = 0; i < 3; i++) {
		c[i] = connect_to(port);
		r[i] = served(c[i]);
	}
	ok(r[0] == 1 && r[1] == 1, "%s: enomem: the first two served", mode);
	is_int(r[2], 0, "%s: enomem: the third closed by the runtime (EOF)",
	       mode);
	is_int(wait_for(&acc_final_n, 1, 5 * SEC), 0,
	       "%s: enomem: the request ended", mode);
	is_int(atomic_load(&acc_final_res), -ENOMEM,
	       "%s: enomem: ... with -ENOMEM", mode);
	is_int(STAT(rt, multishot_enomem), 1, "%s: enomem: counted", mode);
	ok(listener_free(lfd, port), "%s: enomem: no accept left", mode);
	ra_runtime_stop_actor(rt, acc);
	is_int(ra_runtime_destroy(rt), 0, "%s: enomem: destroy", mode);
	for (int i = 0; i < 3; i++)
		close(c[i]);
	close(lfd);
}

/* ---------------------------------------------------------------- main */

#define MODE_TESTS (MANY_TESTS + STOP_TESTS + EM_TESTS + NOMEM_TESTS + 2)

int main(void)
{
	tap_timeout(120);
	signal(SIGPIPE, SIG_IGN);
	plan((int)RA_ARRAY_LEN(modes) * MODE_TESTS);
	for (unsigned i = 0; i < RA_ARRAY_LEN(modes); i++) {
		ra_runtime_t *rt = make_rt(modes[i].flags);
		ra_stats_t st;

		mode = modes[i].name;
		test_many(rt);
		test_stop(rt);
		test_emfile(rt);
		if (ra_stats_snapshot(rt, &st) != 0)
			bail_out("snapshot");
		is_int(st.io_completed, st.io_submitted,
		       "%s: every request completed (%llu)", mode,
		       (unsigned long long)st.io_submitted);
		ra_stats_fini(&st);
		is_int(ra_runtime_destroy(rt), 0, "%s: destroy", mode);
		test_enomem(modes[i].flags);
	}
	return exit_status();
}
