/*
 * t/io_net.c: the socket calls, each as a message, under each way a
 * shard's ring runs task work (COOP, the default; IPI; DEFER):
 *
 *   - ra_io_socket + ra_io_connect + ra_io_send + ra_io_shutdown: the
 *     peer sees the bytes, then EOF while the actor still receives;
 *   - UDP: ra_io_sendmsg gathers three iovecs into one datagram to
 *     msg_name; ra_io_recvmsg scatters it into two and reports the
 *     sender, then MSG_TRUNC for a datagram longer than its buffers;
 *   - ra_io_writev and ra_io_sendmsg gather several iovecs into one
 *     operation on a stream, and writev honours its file offset;
 *   - ra_io_cancel by tag: both recvs of a tag end -ECANCELED, the other
 *     tag's recv lives on and completes; an unknown tag, or one whose
 *     requests are done, is -ENOENT;
 *   - ra_io_timeout_next: a recv that never gets data ends -ECANCELED
 *     after its deadline, one that gets data does not, a deadline no
 *     call took dies with its callback, multishot calls refuse one, a
 *     failed call leaves it armed;
 *   - zero-copy sends: the completion comes once the kernel let go of
 *     the buffer, so scribbling over it on arrival does not change what
 *     the peer receives, and the SEND_ZC path did run (skipped where
 *     the kernel lacks it); an AF_UNIX socket, which refuses zero-copy,
 *     still gets its bytes; a gathered send goes zero-copy too;
 *   - every new call's -EINVAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define SEC	1000000000ull
#define MS	1000000ull

static const struct { unsigned flags; const char *name; } modes[] = {
	{ 0, "coop" },
	{ RA_CFG_TASKRUN_IPI, "ipi" },
	{ RA_CFG_TASKRUN_DEFER, "defer" },
};

static const char *mode;	/* the mode running, for test names */

static ra_runtime_t *make_rt(unsigned flags)
{
	ra_config_t cfg;
	ra_runtime_t *rt;

	ra_config_init(&cfg);
	cfg.shards = 2;
	cfg.flags = flags;
	cfg.send_zc_min = 64 * 1024;	/* the ZC case sends 256 KiB */
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	return rt;
}

static const ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD,
				     .shard = 1 };

static void spawn(ra_runtime_t *rt, const ra_actor_def_t *def, void *arg)
{
	if (ra_runtime_spawn(rt, def, arg, &on1, NULL) != 0)
		bail_out("spawn failed");
}

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair");
}

/* Read exactly `len` bytes within 5 s; the count read. */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			break;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Read until EOF within 5 s: the count read, or -1 if no EOF came. */
static long read_to_eof(int fd, void *buf, size_t len)
{
	size_t got = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n == 0)
			return (long)got;
		if (n < 0 || (got += (size_t)n) == len)
			return -1;
	}
}

static int is_cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

/* ------------------------------------------- socket, connect, shutdown */

enum { T_SOCKET = 1, T_CONNECT, T_SEND, T_SHUT, T_RECV, T_CLOSE };

static atomic_int sc_socket_res, sc_cloexec, sc_connect_res, sc_send_res;
static atomic_int sc_shut_res, sc_recv_res, sc_recv_ok, sc_close_res;
static atomic_int sc_no_op_socket, sc_bad;

struct sc_state {
	int fd;
	struct sockaddr_in addr;
	char buf[16];
};

static int sc_connect(ra_ctx_t *self, struct sc_state *st)
{
	return ra_io_connect(self, st->fd, (struct sockaddr *)&st->addr,
			     sizeof(st->addr), T_CONNECT);
}

static int sc_init(ra_ctx_t *self, void *state, void *arg)
{
	struct sc_state *st = state;
	int ret;

	st->addr.sin_family = AF_INET;
	st->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	st->addr.sin_port = htons((uint16_t)(uintptr_t)arg);
	ret = ra_io_socket(self, AF_INET, SOCK_STREAM, 0, T_SOCKET);
	if (ret != -EOPNOTSUPP)
		return ret;
	/* A kernel without IORING_OP_SOCKET: the rest still runs. */
	atomic_store(&sc_no_op_socket, 1);
	st->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	atomic_store(&sc_socket_res, st->fd);
	atomic_store(&sc_cloexec, 1);
	return sc_connect(self, st);
}

static int sc_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct sc_state *st = state;

	if (m->type != RA_MSG_IO || m->flags) {
		atomic_fetch_add(&sc_bad, 1);
		return 0;
	}
	switch (m->tag) {
	case T_SOCKET:
		atomic_store(&sc_socket_res, m->res);
		if (m->res < 0)
			return -1;
		st->fd = m->res;
		atomic_store(&sc_cloexec, is_cloexec(st->fd));
		return sc_connect(self, st);
	case T_CONNECT:
		atomic_store(&sc_connect_res, m->res);
		return m->res < 0 ? -1 : ra_io_send(self, st->fd, "hello", 5,
						    T_SEND);
	case T_SEND:
		atomic_store(&sc_send_res, m->res);
		return ra_io_shutdown(self, st->fd, SHUT_WR, T_SHUT);
	case T_SHUT:
		atomic_store(&sc_shut_res, m->res);
		return ra_io_recv(self, st->fd, st->buf, sizeof(st->buf),
				  T_RECV);
	case T_RECV:
		atomic_store(&sc_recv_res, m->res);
		atomic_store(&sc_recv_ok, m->res == 3 &&
			     !memcmp(st->buf, "bye", 3));
		return ra_io_close(self, st->fd, T_CLOSE);
	case T_CLOSE:
		atomic_store(&sc_close_res, m->res);
		ra_stop(self, 0);
		return 0;
	}
	atomic_fetch_add(&sc_bad, 1);
	return 0;
}

static const ra_actor_def_t sc_def = {
	.name = "sockconn", .state_size = sizeof(struct sc_state),
	.init = sc_init, .behavior = sc_behavior,
};

#define SC_TESTS 11

static void test_socket_connect(ra_runtime_t *rt)
{
	char buf[16];
	uint16_t port;
	int lfd = listen_loopback(&port), afd = -1;
	long got = -1;
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	atomic_store(&sc_socket_res, -1000);
	atomic_store(&sc_connect_res, -1000);
	atomic_store(&sc_no_op_socket, 0);
	atomic_store(&sc_bad, 0);
	atomic_store(&sc_recv_ok, 0);
	if (lfd < 0)
		bail_out("listen");
	spawn(rt, &sc_def, (void *)(uintptr_t)port);
	if (poll(&p, 1, 5000) == 1)
		afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ok(afd >= 0, "%s: the actor's socket connected", mode);
	if (afd >= 0) {
		/* "hello", then EOF: the shutdown, the socket still open. */
		got = read_to_eof(afd, buf, sizeof(buf));
		if (write(afd, "bye", 3) != 3)
			got = -1;
		close(afd);
	}
	is_int(got, 5, "%s: peer read 5 bytes then EOF (SHUT_WR)", mode);
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: actor done", mode);
	if (atomic_load(&sc_no_op_socket))
		skip("%s: no IORING_OP_SOCKET here: socket(2) used", mode);
	else
		ok(atomic_load(&sc_socket_res) >= 0,
		   "%s: ra_io_socket res is a descriptor (%d)", mode,
		   atomic_load(&sc_socket_res));
	ok(atomic_load(&sc_cloexec), "%s: ... with FD_CLOEXEC", mode);
	is_int(atomic_load(&sc_connect_res), 0, "%s: ra_io_connect res 0",
	       mode);
	is_int(atomic_load(&sc_send_res), 5, "%s: send res 5", mode);
	is_int(atomic_load(&sc_shut_res), 0, "%s: ra_io_shutdown res 0", mode);
	ok(atomic_load(&sc_recv_ok), "%s: the actor still received \"bye\"",
	   mode);
	is_int(atomic_load(&sc_close_res), 0, "%s: close res 0", mode);
	is_int(atomic_load(&sc_bad), 0, "%s: no stray message", mode);
	close(lfd);
}

/* -------------------------------------------------- UDP sendmsg/recvmsg */

enum { T_SENDMSG = 1, T_RECVMSG, T_SENDMSG2, T_RECVMSG2 };

struct udp_arg {
	int a, b;			/* a sends to b */
	struct sockaddr_in a_addr, b_addr;
};

struct udp_state {
	const struct udp_arg *arg;
	struct msghdr sm, rm;
	struct iovec siov[3], riov[2];
	char r0[4], r1[16];
	char big[30];
	struct sockaddr_in from;
	int done;
};

static atomic_int udp_send_res, udp_recv_res, udp_scatter_ok, udp_from_ok;
static atomic_int udp_flags1, udp_send2_res, udp_recv2_res, udp_flags2;
static atomic_int udp_bad;

static int udp_post_recv(ra_ctx_t *self, struct udp_state *st, uint64_t tag)
{
	memset(&st->rm, 0, sizeof(st->rm));
	memset(st->r0, 0, sizeof(st->r0));
	memset(st->r1, 0, sizeof(st->r1));
	st->riov[0] = (struct iovec){ st->r0, sizeof(st->r0) };
	st->riov[1] = (struct iovec){ st->r1, sizeof(st->r1) };
	st->rm.msg_name = &st->from;
	st->rm.msg_namelen = sizeof(st->from);
	st->rm.msg_iov = st->riov;
	st->rm.msg_iovlen = 2;
	return ra_io_recvmsg(self, st->arg->b, &st->rm, 0, tag);
}

static int udp_init(ra_ctx_t *self, void *state, void *arg)
{
	struct udp_state *st = state;
	int ret;

	st->arg = arg;
	st->siov[0] = (struct iovec){ "ab", 2 };
	st->siov[1] = (struct iovec){ "cde", 3 };
	st->siov[2] = (struct iovec){ "fghij", 5 };
	st->sm.msg_name = (void *)&st->arg->b_addr;
	st->sm.msg_namelen = sizeof(st->arg->b_addr);
	st->sm.msg_iov = st->siov;
	st->sm.msg_iovlen = 3;
	ret = udp_post_recv(self, st, T_RECVMSG);
	return ret < 0 ? ret : ra_io_sendmsg(self, st->arg->a, &st->sm, 0,
					     T_SENDMSG);
}

/* The second round: 30 bytes into 20 bytes of buffers. */
static int udp_round2(ra_ctx_t *self, struct udp_state *st)
{
	int ret = udp_post_recv(self, st, T_RECVMSG2);

	memset(st->big, 'z', sizeof(st->big));
	st->siov[0] = (struct iovec){ st->big, sizeof(st->big) };
	st->sm.msg_iovlen = 1;
	return ret < 0 ? ret : ra_io_sendmsg(self, st->arg->a, &st->sm, 0,
					     T_SENDMSG2);
}

static int udp_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct udp_state *st = state;

	if (m->type != RA_MSG_IO) {
		atomic_fetch_add(&udp_bad, 1);
		return 0;
	}
	switch (m->tag) {
	case T_SENDMSG:
		atomic_store(&udp_send_res, m->res);
		break;
	case T_RECVMSG:
		atomic_store(&udp_recv_res, m->res);
		atomic_store(&udp_scatter_ok,
			     !memcmp(st->r0, "abcd", 4) &&
			     !memcmp(st->r1, "efghij", 6));
		atomic_store(&udp_from_ok,
			     st->rm.msg_namelen == sizeof(st->from) &&
			     st->from.sin_port == st->arg->a_addr.sin_port);
		atomic_store(&udp_flags1, st->rm.msg_flags);
		break;
	case T_SENDMSG2:
		atomic_store(&udp_send2_res, m->res);
		break;
	case T_RECVMSG2:
		atomic_store(&udp_recv2_res, m->res);
		atomic_store(&udp_flags2, st->rm.msg_flags);
		break;
	default:
		atomic_fetch_add(&udp_bad, 1);
		return 0;
	}
	if (++st->done == 2)
		return udp_round2(self, st);
	if (st->done == 4)
		ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t udp_def = {
	.name = "udp", .state_size = sizeof(struct udp_state),
	.init = udp_init, .behavior = udp_behavior,
};

static int udp_socket(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &sl) < 0)
		bail_out("udp socket");
	return fd;
}

#define UDP_TESTS 10

static void test_udp(ra_runtime_t *rt)
{
	static struct udp_arg arg;

	atomic_store(&udp_bad, 0);
	atomic_store(&udp_scatter_ok, 0);
	atomic_store(&udp_from_ok, 0);
	arg.a = udp_socket(&arg.a_addr);
	arg.b = udp_socket(&arg.b_addr);
	spawn(rt, &udp_def, &arg);
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: udp actor done",
	       mode);
	is_int(atomic_load(&udp_send_res), 10,
	       "%s: sendmsg gathered 3 iovecs into a 10-byte datagram", mode);
	is_int(atomic_load(&udp_recv_res), 10, "%s: recvmsg res 10", mode);
	ok(atomic_load(&udp_scatter_ok),
	   "%s: ... scattered into its 2 iovecs in order", mode);
	ok(atomic_load(&udp_from_ok), "%s: ... msg_name is the sender", mode);
	is_int(atomic_load(&udp_flags1) & MSG_TRUNC, 0,
	       "%s: ... not truncated", mode);
	is_int(atomic_load(&udp_send2_res), 30, "%s: 30-byte datagram sent",
	       mode);
	is_int(atomic_load(&udp_recv2_res), 20,
	       "%s: recvmsg into 20 bytes: res 20", mode);
	ok(atomic_load(&udp_flags2) & MSG_TRUNC,
	   "%s: ... and the kernel set MSG_TRUNC in the lent msghdr", mode);
	is_int(atomic_load(&udp_bad), 0, "%s: no stray message", mode);
	close(arg.a);
	close(arg.b);
}

/* ---------------------------------------------- gathered stream writes */

enum { T_WRITEV = 1, T_GATHER, T_FILEV };

struct gather_arg {
	int sock, file;
};

struct gather_state {
	const struct gather_arg *arg;
	struct iovec wv[3], mv[4], fv[2];
	struct msghdr m;
	int done;
};

static atomic_int g_writev_res, g_sendmsg_res, g_filev_res, g_bad;

static int gather_init(ra_ctx_t *self, void *state, void *arg)
{
	struct gather_state *st = state;
	int ret;

	st->arg = arg;
	st->wv[0] = (struct iovec){ "one ", 4 };
	st->wv[1] = (struct iovec){ "two ", 4 };
	st->wv[2] = (struct iovec){ "three", 5 };
	st->fv[0] = (struct iovec){ "file", 4 };
	st->fv[1] = (struct iovec){ "data", 4 };
	ret = ra_io_writev(self, st->arg->file, st->fv, 2, 100, T_FILEV);
	/* Stream order: the sendmsg goes once the writev has completed. */
	return ret < 0 ? ret : ra_io_writev(self, st->arg->sock, st->wv, 3,
					    0, T_WRITEV);
}

static int gather_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct gather_state *st = state;

	switch (m->tag) {
	case T_FILEV:
		atomic_store(&g_filev_res, m->res);
		break;
	case T_WRITEV:
		atomic_store(&g_writev_res, m->res);
		st->mv[0] = (struct iovec){ "A", 1 };
		st->mv[1] = (struct iovec){ "BB", 2 };
		st->mv[2] = (struct iovec){ NULL, 0 };	/* empty is fine */
		st->mv[3] = (struct iovec){ "CCCDDDD", 7 };
		st->m.msg_iov = st->mv;
		st->m.msg_iovlen = 4;
		st->done++;
		return ra_io_sendmsg(self, st->arg->sock, &st->m, 0, T_GATHER);
	case T_GATHER:
		atomic_store(&g_sendmsg_res, m->res);
		break;
	default:
		atomic_fetch_add(&g_bad, 1);
		return 0;
	}
	if (++st->done == 3)
		ra_stop(self, 0);
	return 0;
}

static const ra_actor_def_t gather_def = {
	.name = "gather", .state_size = sizeof(struct gather_state),
	.init = gather_init, .behavior = gather_behavior,
};

#define GATHER_TESTS 6

static void test_gather(ra_runtime_t *rt)
{
	static struct gather_arg arg;
	static const char want[] = "one two threeABBCCCDDDD";
	char path[] = "/tmp/ra_io_net.XXXXXX";
	char got[sizeof(want)] = { 0 }, fgot[8] = { 0 };
	int sv[2];

	atomic_store(&g_bad, 0);
	pair(sv);
	arg.sock = sv[0];
	arg.file = mkstemp(path);
	if (arg.file < 0)
		bail_out("mkstemp");
	unlink(path);
	spawn(rt, &gather_def, &arg);
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: gather actor done",
	       mode);
	is_int(atomic_load(&g_writev_res), 13, "%s: writev of 3 iovecs res 13",
	       mode);
	is_int(atomic_load(&g_sendmsg_res), 10,
	       "%s: sendmsg of 4 iovecs (one empty) res 10", mode);
	ok(read_full(sv[1], got, sizeof(want) - 1) == sizeof(want) - 1 &&
	   !strcmp(got, want), "%s: the peer read \"%s\"", mode, got);
	ok(atomic_load(&g_filev_res) == 8 &&
	   pread(arg.file, fgot, 8, 100) == 8 && !memcmp(fgot, "filedata", 8),
	   "%s: writev to a file at offset 100", mode);
	is_int(atomic_load(&g_bad), 0, "%s: no stray message", mode);
	close(sv[0]);
	close(sv[1]);
	close(arg.file);
}

/* ---------------------------------------------------- cancel by tag */

enum { T_A = 0xa, T_B = 0xb, T_NONE = 0xdead };

struct cancel_arg {
	int p1, p2, p3;		/* recv ends: two for T_A, one for T_B */
};

struct cancel_state {
	const struct cancel_arg *arg;
	char b1[8], b2[8], b3[8];
	int a_done;
};

static atomic_int c_unknown_ret, c_cancel_ret, c_pending_after;
static atomic_int c_a_res[2], c_a_n, c_again_ret, c_b_res, c_ready;
static atomic_int c_bad;

static int cancel_init(ra_ctx_t *self, void *state, void *arg)
{
	struct cancel_state *st = state;

	st->arg = arg;
	if (ra_io_recv(self, st->arg->p1, st->b1, sizeof(st->b1), T_A) ||
	    ra_io_recv(self, st->arg->p2, st->b2, sizeof(st->b2), T_A) ||
	    ra_io_recv(self, st->arg->p3, st->b3, sizeof(st->b3), T_B))
		return -EIO;
	atomic_store(&c_unknown_ret, ra_io_cancel(self, T_NONE));
	atomic_store(&c_cancel_ret, ra_io_cancel(self, T_A));
	atomic_store(&c_pending_after, (int)ra_io_pending(self));
	return 0;
}

static int cancel_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct cancel_state *st = state;

	if (m->type == RA_MSG_IO && m->tag == T_A && st->a_done < 2) {
		atomic_store(&c_a_res[st->a_done++], m->res);
		atomic_fetch_add(&c_a_n, 1);
		if (st->a_done == 2) {
			atomic_store(&c_again_ret, ra_io_cancel(self, T_A));
			atomic_store(&c_ready, 1);	/* main writes to p3 */
		}
		return 0;
	}
	if (m->type == RA_MSG_IO && m->tag == T_B) {
		atomic_store(&c_b_res, m->res);
		ra_stop(self, 0);
		return 0;
	}
	atomic_fetch_add(&c_bad, 1);
	return 0;
}

static const ra_actor_def_t cancel_def = {
	.name = "cancel", .state_size = sizeof(struct cancel_state),
	.init = cancel_init, .behavior = cancel_behavior,
};

#define CANCEL_TESTS 10

static void test_cancel(ra_runtime_t *rt)
{
	static struct cancel_arg arg;
	int s1[2], s2[2], s3[2];
	char x;

	atomic_store(&c_ready, 0);
	atomic_store(&c_a_n, 0);
	atomic_store(&c_bad, 0);
	atomic_store(&c_b_res, -1000);
	pair(s1);
	pair(s2);
	pair(s3);
	arg = (struct cancel_arg){ s1[0], s2[0], s3[0] };
	spawn(rt, &cancel_def, &arg);
	is_int(wait_for(&c_ready, 1, 5 * SEC), 0,
	       "%s: both T_A recvs completed after the cancel", mode);
	if (write(s3[1], "!", 1) != 1)
		bail_out("write");
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: cancel actor done",
	       mode);
	is_int(atomic_load(&c_unknown_ret), -ENOENT,
	       "%s: ra_io_cancel(unknown tag): -ENOENT", mode);
	is_int(atomic_load(&c_cancel_ret), 0, "%s: ra_io_cancel(T_A): 0", mode);
	is_int(atomic_load(&c_pending_after), 3,
	       "%s: all 3 still pending right after it", mode);
	ok(atomic_load(&c_a_n) == 2 && atomic_load(&c_a_res[0]) == -ECANCELED &&
	   atomic_load(&c_a_res[1]) == -ECANCELED,
	   "%s: each T_A recv completed once, -ECANCELED", mode);
	is_int(atomic_load(&c_again_ret), -ENOENT,
	       "%s: ra_io_cancel(T_A) once they are done: -ENOENT", mode);
	is_int(atomic_load(&c_b_res), 1,
	       "%s: the T_B recv lived on and got its byte", mode);
	is_int(atomic_load(&c_bad), 0, "%s: no stray message", mode);
	if (write(s1[1], "z", 1) != 1)
		bail_out("write");
	sleep_ms(20);	/* time for a stray recv to take it, if any */
	ok(recv(s1[0], &x, 1, MSG_DONTWAIT) == 1,
	   "%s: no cancelled recv left in the kernel", mode);
	close(s1[0]); close(s1[1]);
	close(s2[0]); close(s2[1]);
	close(s3[0]); close(s3[1]);
}

/* ---------------------------------------------------- linked timeouts */

enum { T_PLAIN = 1, T_TIMED, T_FAST, T_BADFD };
enum { M_GO = 1, M_CHECK };

struct dl_arg {
	int quiet1, quiet2;	/* never get data */
	int busy;		/* has data already */
};

struct dl_state {
	const struct dl_arg *arg;
	char b1[8], b2[8], b3[8];
	uint64_t t0;
	int done;
};

static atomic_int dl_ms_ret, dl_rm_ret, dl_badcall_ret, dl_timed_res;
static atomic_long dl_timed_ms;
static atomic_int dl_fast_res, dl_plain_pending, dl_plain_res, dl_bad;

static int dl_init(ra_ctx_t *self, void *state, void *arg)
{
	struct dl_state *st = state;

	st->arg = arg;
	/* A deadline no call takes dies with this callback. */
	ra_io_timeout_next(self, 1 * MS);
	return ra_send(self, ra_self(self), M_GO, NULL, 0);
}

static int dl_go(ra_ctx_t *self, struct dl_state *st)
{
	const struct dl_arg *a = st->arg;
	int ret = ra_io_recv(self, a->quiet2, st->b3, sizeof(st->b3), T_PLAIN);

	if (ret < 0)
		return ret;
	ra_io_timeout_next(self, 50 * MS);
	atomic_store(&dl_ms_ret, ra_io_accept_multishot(self, a->quiet1, 9));
	atomic_store(&dl_rm_ret, ra_io_recv_multishot(self, a->quiet1, 9));
	/* A failed call leaves the deadline for the next one. */
	atomic_store(&dl_badcall_ret, ra_io_recv(self, -1, st->b1, 1, 9));
	st->t0 = ra_now_ns();
	ret = ra_io_recv(self, a->quiet1, st->b1, sizeof(st->b1), T_TIMED);
	if (ret < 0)
		return ret;
	ra_io_timeout_next(self, 300 * MS);
	return ra_io_recv(self, a->busy, st->b2, sizeof(st->b2), T_FAST);
}

static int dl_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct dl_state *st = state;

	if (m->type == M_GO)
		return dl_go(self, st);
	if (m->type == M_CHECK) {
		/* Past the 300 ms deadline the FAST recv beat: nothing came. */
		atomic_store(&dl_plain_pending, (int)ra_io_pending(self));
		return ra_io_cancel(self, T_PLAIN);
	}
	if (m->type != RA_MSG_IO) {
		atomic_fetch_add(&dl_bad, 1);
		return 0;
	}
	switch (m->tag) {
	case T_TIMED:
		atomic_store(&dl_timed_res, m->res);
		atomic_store(&dl_timed_ms, (long)((ra_now_ns() - st->t0) / MS));
		break;
	case T_FAST:
		atomic_store(&dl_fast_res, m->res);
		break;
	case T_PLAIN:
		atomic_store(&dl_plain_res, m->res);
		ra_stop(self, 0);
		return 0;
	default:
		atomic_fetch_add(&dl_bad, 1);
		return 0;
	}
	if (++st->done == 2)
		return ra_send_after(self, ra_self(self), 400 * MS, M_CHECK,
				     NULL, 0, NULL);
	return 0;
}

static const ra_actor_def_t dl_def = {
	.name = "deadline", .state_size = sizeof(struct dl_state),
	.init = dl_init, .behavior = dl_behavior,
};

#define DL_TESTS 9

static void test_deadline(ra_runtime_t *rt)
{
	static struct dl_arg arg;
	int q1[2], q2[2], b[2];

	atomic_store(&dl_bad, 0);
	atomic_store(&dl_timed_res, -1000);
	atomic_store(&dl_fast_res, -1000);
	atomic_store(&dl_plain_pending, -1);
	pair(q1);
	pair(q2);
	pair(b);
	if (write(b[1], "data", 4) != 4)
		bail_out("write");
	arg = (struct dl_arg){ q1[0], q2[0], b[0] };
	spawn(rt, &dl_def, &arg);
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: deadline actor done",
	       mode);
	is_int(atomic_load(&dl_ms_ret), -EINVAL,
	       "%s: accept_multishot with a deadline armed: -EINVAL", mode);
	is_int(atomic_load(&dl_rm_ret), -EINVAL,
	       "%s: recv_multishot with a deadline armed: -EINVAL", mode);
	is_int(atomic_load(&dl_badcall_ret), -EINVAL,
	       "%s: a failing call (fd -1): -EINVAL", mode);
	is_int(atomic_load(&dl_timed_res), -ECANCELED,
	       "%s: the recv that got no data ended -ECANCELED", mode);
	ok(atomic_load(&dl_timed_ms) >= 45 && atomic_load(&dl_timed_ms) < 5000,
	   "%s: ... after its 50 ms deadline (%ld ms)", mode,
	   atomic_load(&dl_timed_ms));
	is_int(atomic_load(&dl_fast_res), 4,
	       "%s: the recv that had data got it; its deadline never fired",
	       mode);
	is_int(atomic_load(&dl_plain_pending), 1,
	       "%s: init's dropped deadline cancelled nothing: recv pending",
	       mode);
	is_int(atomic_load(&dl_bad), 0, "%s: no stray message (no timeout "
	       "CQE reached the actor)", mode);
	close(q1[0]); close(q1[1]);
	close(q2[0]); close(q2[1]);
	close(b[0]); close(b[1]);
}

/* ---------------------------------------------------- zero-copy sends */

#define ZC_LEN	(256 * 1024)
#define UNIX_LEN (64 * 1024)
enum { T_ZC = 1, T_UNIX, T_ZCMSG };

struct zc_arg {
	int tcp, unix_fd;
};

struct zc_state {
	const struct zc_arg *arg;
	unsigned char *buf;	/* ZC_LEN, pattern */
	unsigned char *ubuf;	/* UNIX_LEN */
	struct iovec iov[3];
	struct msghdr m;
	int done;
};

static atomic_int zc_res, zc_unix_res, zc_msg_res, zc_bad, zc_scribbled;

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 9) * 13 + 1);
}

static int zc_init(ra_ctx_t *self, void *state, void *arg)
{
	struct zc_state *st = state;

	st->arg = arg;
	st->buf = malloc(ZC_LEN);
	st->ubuf = malloc(UNIX_LEN);
	if (!st->buf || !st->ubuf)
		return -ENOMEM;
	for (size_t i = 0; i < ZC_LEN; i++)
		st->buf[i] = pat(i);
	memset(st->ubuf, 'u', UNIX_LEN);
	if (ra_io_send(self, st->arg->unix_fd, st->ubuf, UNIX_LEN, T_UNIX))
		return -EIO;
	return ra_io_send(self, st->arg->tcp, st->buf, ZC_LEN, T_ZC);
}

static int zc_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct zc_state *st = state;

	switch (m->type == RA_MSG_IO ? m->tag : 0) {
	case T_ZC:
		atomic_store(&zc_res, m->res);
		/* The buffer is ours again: scribble over it at once. */
		memset(st->buf, 0xee, ZC_LEN);
		atomic_store(&zc_scribbled, 1);
		/* Then a gathered zero-copy send of the same 3 pieces. */
		for (size_t i = 0; i < ZC_LEN; i++)
			st->buf[i] = pat(i);
		st->iov[0] = (struct iovec){ st->buf, 1000 };
		st->iov[1] = (struct iovec){ st->buf + 1000, 70000 };
		st->iov[2] = (struct iovec){ st->buf + 71000, ZC_LEN - 71000 };
		st->m.msg_iov = st->iov;
		st->m.msg_iovlen = 3;
		st->done++;
		return ra_io_sendmsg(self, st->arg->tcp, &st->m, 0, T_ZCMSG);
	case T_ZCMSG:
		atomic_store(&zc_msg_res, m->res);
		memset(st->buf, 0xee, ZC_LEN);
		break;
	case T_UNIX:
		atomic_store(&zc_unix_res, m->res);
		break;
	default:
		atomic_fetch_add(&zc_bad, 1);
		return 0;
	}
	if (++st->done == 3)
		ra_stop(self, 0);
	return 0;
}

static void zc_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct zc_state *st = state;

	(void)self;
	(void)reason;
	free(st->buf);
	free(st->ubuf);
}

static const ra_actor_def_t zc_def = {
	.name = "zc", .state_size = sizeof(struct zc_state),
	.init = zc_init, .behavior = zc_behavior, .terminate = zc_terminate,
};

/* Does this kernel have IORING_OP_SEND_ZC? Asked apart from the runtime. */
static int kernel_has_send_zc(void)
{
	struct io_uring_probe *p = io_uring_get_probe();
	int has = p && io_uring_opcode_supported(p, IORING_OP_SEND_ZC) &&
		  io_uring_opcode_supported(p, IORING_OP_SENDMSG_ZC);

	if (p)
		io_uring_free_probe(p);
	return has;
}

static int check_pattern(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != pat(i))
			return 0;
	return 1;
}

#define ZC_TESTS 8

static void test_zero_copy(ra_runtime_t *rt)
{
	static struct zc_arg arg;
	unsigned char *in = malloc(ZC_LEN), *uin = malloc(UNIX_LEN);
	int small = 32768, big = 1 << 20, sv[2];
	uint16_t port;
	int lfd = listen_loopback(&port), cfd, afd;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint64_t zc_before;
	ra_stats_t st;
	size_t got, ugot;

	atomic_store(&zc_bad, 0);
	atomic_store(&zc_scribbled, 0);
	/*
	 * A small receive window and a large send buffer: the send
	 * completes into the send queue long before the peer has it all,
	 * so a completion delivered before the kernel let go of the pages
	 * would let the scribble reach the wire.
	 */
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (!in || !uin || lfd < 0 || cfd < 0 ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		bail_out("tcp pair");
	pair(sv);
	arg = (struct zc_arg){ cfd, sv[0] };
	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("snapshot");
	zc_before = st.send_zc;
	ra_stats_fini(&st);
	spawn(rt, &zc_def, &arg);
	sleep_ms(100);	/* the peer reads nothing for a while */
	ugot = read_full(sv[1], uin, UNIX_LEN);
	got = read_full(afd, in, ZC_LEN);
	ok(got == ZC_LEN && check_pattern(in, ZC_LEN),
	   "%s: the peer got the original %d bytes, unscribbled", mode,
	   ZC_LEN);
	got = read_full(afd, in, ZC_LEN);
	ok(got == ZC_LEN && check_pattern(in, ZC_LEN),
	   "%s: ... and those of the gathered send", mode);
	is_int(ra_runtime_wait_idle(rt, 10 * SEC), 0, "%s: zc actor done",
	       mode);
	is_int(atomic_load(&zc_res), ZC_LEN, "%s: send res %d", mode, ZC_LEN);
	is_int(atomic_load(&zc_msg_res), ZC_LEN, "%s: sendmsg res %d", mode,
	       ZC_LEN);
	ok(atomic_load(&zc_unix_res) == UNIX_LEN && ugot == UNIX_LEN &&
	   uin[0] == 'u' && uin[UNIX_LEN - 1] == 'u',
	   "%s: AF_UNIX (no zero-copy there): all %d bytes sent", mode,
	   UNIX_LEN);
	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("snapshot");
	if (kernel_has_send_zc())
		ok(st.send_zc - zc_before >= 3,
		   "%s: the zero-copy path ran (%llu sends)", mode,
		   (unsigned long long)(st.send_zc - zc_before));
	else
		skip("%s: the kernel lacks IORING_OP_SEND_ZC", mode);
	ra_stats_fini(&st);
	is_int(atomic_load(&zc_bad), 0, "%s: no stray message", mode);
	close(afd);
	close(cfd);
	close(lfd);
	close(sv[0]);
	close(sv[1]);
	free(in);
	free(uin);
}

/* ------------------------------------------------------------ -EINVAL */

enum { NBAD = 33 };
static atomic_int bad_ret[NBAD], bad_pending;
static atomic_long bad_claim;
static const char *const bad_names[NBAD] = {
	"sendmsg fd -1", "sendmsg m NULL", "sendmsg iovlen > IOV_MAX",
	"sendmsg iov NULL, iovlen 1", "sendmsg iov_base NULL, len 1",
	"sendmsg > INT32_MAX bytes", "sendmsg msg_name NULL, namelen 4",
	"sendmsg self NULL",
	"writev fd -1", "writev iovcnt -1", "writev iovcnt IOV_MAX + 1",
	"writev iov NULL, iovcnt 1", "writev iov_base NULL, len 1",
	"recvmsg fd -1", "recvmsg m NULL", "recvmsg control NULL, len 8",
	"connect fd -1", "connect addr NULL", "connect len 0",
	"connect len > sockaddr_storage",
	"socket domain -1", "socket type -1", "socket self NULL",
	"shutdown fd -1", "shutdown how 7",
	"cancel self NULL", "timeout_next self NULL",
	"accept_multishot fd -1", "recv_multishot fd -1",
	"recv_multishot self NULL", "buf_release self NULL",
	"buf_release a pointer that is no ring buffer",
	"buf_release NULL",
};

static int bad_init(ra_ctx_t *self, void *state, void *arg)
{
	static char byte;
	static struct iovec one = { NULL, 1 }, ok1 = { &byte, 1 };
	struct iovec huge[2] = { { &byte, INT32_MAX }, { &byte, 2 } };
	struct msghdr m = { .msg_iov = &ok1, .msg_iovlen = 1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int i = 0, fd = (int)(intptr_t)arg;

	(void)state;
#define R(x) atomic_store(&bad_ret[i++], (x))
	R(ra_io_sendmsg(self, -1, &m, 0, 1));
	R(ra_io_sendmsg(self, fd, NULL, 0, 1));
	m.msg_iovlen = IOV_MAX + 1;
	R(ra_io_sendmsg(self, fd, &m, 0, 1));
	m.msg_iov = NULL;
	m.msg_iovlen = 1;
	R(ra_io_sendmsg(self, fd, &m, 0, 1));
	m.msg_iov = &one;
	R(ra_io_sendmsg(self, fd, &m, 0, 1));
	m.msg_iov = huge;
	m.msg_iovlen = 2;
	R(ra_io_sendmsg(self, fd, &m, 0, 1));
	m.msg_iov = &ok1;
	m.msg_iovlen = 1;
	m.msg_namelen = 4;
	R(ra_io_sendmsg(self, fd, &m, 0, 1));
	m.msg_namelen = 0;
	R(ra_io_sendmsg(NULL, fd, &m, 0, 1));
	R(ra_io_writev(self, -1, &ok1, 1, 0, 1));
	R(ra_io_writev(self, fd, &ok1, -1, 0, 1));
	R(ra_io_writev(self, fd, &ok1, IOV_MAX + 1, 0, 1));
	R(ra_io_writev(self, fd, NULL, 1, 0, 1));
	R(ra_io_writev(self, fd, &one, 1, 0, 1));
	R(ra_io_recvmsg(self, -1, &m, 0, 1));
	R(ra_io_recvmsg(self, fd, NULL, 0, 1));
	m.msg_controllen = 8;
	R(ra_io_recvmsg(self, fd, &m, 0, 1));
	m.msg_controllen = 0;
	R(ra_io_connect(self, -1, (struct sockaddr *)&sa, sizeof(sa), 1));
	R(ra_io_connect(self, fd, NULL, sizeof(sa), 1));
	R(ra_io_connect(self, fd, (struct sockaddr *)&sa, 0, 1));
	R(ra_io_connect(self, fd, (struct sockaddr *)&sa,
			sizeof(struct sockaddr_storage) + 1, 1));
	R(ra_io_socket(self, -1, SOCK_STREAM, 0, 1));
	R(ra_io_socket(self, AF_INET, -1, 0, 1));
	R(ra_io_socket(NULL, AF_INET, SOCK_STREAM, 0, 1));
	R(ra_io_shutdown(self, -1, SHUT_WR, 1));
	R(ra_io_shutdown(self, fd, 7, 1));
	R(ra_io_cancel(NULL, 1));
	R(ra_io_timeout_next(NULL, 1));
	R(ra_io_accept_multishot(self, -1, 1));
	R(ra_io_recv_multishot(self, -1, 1));
	R(ra_io_recv_multishot(NULL, fd, 1));
	R(ra_io_buf_release(NULL, &byte));
	R(ra_io_buf_release(self, &byte));
	R(ra_io_buf_release(self, NULL));
#undef R
	atomic_store(&bad_pending, (int)ra_io_pending(self));
	atomic_store(&bad_claim, (long)(intptr_t)ra_io_buf_claim(self, NULL) |
		     (long)(intptr_t)ra_io_buf_claim(NULL, NULL));
	return -ECANCELED;	/* done: stop */
}

static int bad_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	(void)self;
	(void)state;
	(void)m;
	return 0;
}

static const ra_actor_def_t bad_def = {
	.name = "einval", .init = bad_init, .behavior = bad_behavior,
};

#define BAD_TESTS (NBAD + 2)

static void test_einval(ra_runtime_t *rt)
{
	int sv[2];

	pair(sv);
	for (int i = 0; i < NBAD; i++)
		atomic_store(&bad_ret[i], 1);
	spawn(rt, &bad_def, (void *)(intptr_t)sv[0]);
	if (ra_runtime_wait_idle(rt, 10 * SEC) != 0)
		bail_out("einval actor stuck");
	for (int i = 0; i < NBAD; i++)
		is_int(atomic_load(&bad_ret[i]), -EINVAL, "%s: %s: -EINVAL",
		       mode, bad_names[i]);
	is_int(atomic_load(&bad_pending), 0,
	       "%s: the refused calls left nothing pending", mode);
	is_int(atomic_load(&bad_claim), 0,
	       "%s: ra_io_buf_claim without a ring buffer message: NULL", mode);
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------------------- main */

#define MODE_TESTS (SC_TESTS + UDP_TESTS + GATHER_TESTS + CANCEL_TESTS + \
		    DL_TESTS + ZC_TESTS + BAD_TESTS + 2)

int main(void)
{
	tap_timeout(60);
	signal(SIGPIPE, SIG_IGN);
	plan((int)RA_ARRAY_LEN(modes) * MODE_TESTS);
	for (unsigned i = 0; i < RA_ARRAY_LEN(modes); i++) {
		ra_runtime_t *rt = make_rt(modes[i].flags);
		ra_stats_t st;

		mode = modes[i].name;
		test_socket_connect(rt);
		test_udp(rt);
		test_gather(rt);
		test_cancel(rt);
		test_deadline(rt);
		test_zero_copy(rt);
		test_einval(rt);
		if (ra_stats_snapshot(rt, &st) != 0)
			bail_out("snapshot");
		is_int(st.io_completed, st.io_submitted,
		       "%s: every request completed (%llu)", mode,
		       (unsigned long long)st.io_submitted);
		ra_stats_fini(&st);
		is_int(ra_runtime_destroy(rt), 0, "%s: destroy", mode);
	}
	return exit_status();
}
