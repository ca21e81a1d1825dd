/*
 * t/testutil.h: helpers shared by the t/ programs (beside tap.h, which
 * only speaks TAP): short sleeps, waiting on a counter that actors bump,
 * and a seedable random number generator for replayable fuzz loops.
 */
#ifndef RA_T_TESTUTIL_H
#define RA_T_TESTUTIL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Poll (the runtime is ours to watch, not to block) until *v >= want;
 * 0, or -ETIMEDOUT after timeout_ns.
 */
static inline int wait_for(atomic_int *v, int want, uint64_t timeout_ns)
{
	uint64_t end = ra_now_ns() + timeout_ns;

	while (atomic_load(v) < want) {
		if (ra_now_ns() > end)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	return 0;
}

/* Sanitizer builds run slower: RA_TEST_TIME_SCALE stretches deadlines. */
static inline uint64_t scaled_ns(uint64_t ns)
{
	return ns * tap_env_ull("RA_TEST_TIME_SCALE", 1);
}

/* Shard counts every multi-shard test body runs with (STYLE.md, tests). */
static const unsigned tu_shard_counts[] = { 1, 2, 4 };
#define RA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A runtime with `nshards` shards and default settings, or skip the whole
 * program (TAP "1..0 # SKIP") when io_uring is unavailable here.
 */
static inline ra_runtime_t *tu_runtime(unsigned nshards)
{
	ra_runtime_t *rt;
	ra_config_t cfg;

	ra_config_init(&cfg);
	cfg.shards = nshards;
	if (ra_runtime_create(&cfg, &rt) < 0)
		skip_all("io_uring unavailable");
	return rt;
}

static inline int tu_probe_behavior(ra_ctx_t *self, void *state,
				    const ra_msg_t *msg)
{
	(void)state;
	return msg->tag ? ra_reply(self, msg, NULL, 0) : 0;
}

/*
 * A round trip through every shard of `rt`: a probe spawned there
 * answers an ask. A request still armed in a shard's ring when the test
 * made its file ready (wrote to a socket, connected to a listener) is
 * retried in task work that the kernel queued at once for that shard's
 * thread, and which it runs before it returns to user space: so before
 * its probe could answer. Bytes or a connection still there for the test
 * after this were not taken by any such request. True when every probe
 * answered.
 */
static inline bool tu_round_trips(ra_runtime_t *rt)
{
	static const ra_actor_def_t probe = {
		.name = "probe",
		.behavior = tu_probe_behavior,
	};
	unsigned n = ra_runtime_shards(rt);
	bool good = true;

	for (unsigned s = 0; s < n; s++) {
		ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = s };
		ra_ref_t ref;

		if (ra_runtime_spawn(rt, &probe, NULL, &o, &ref) < 0)
			return false;
		good &= ra_runtime_ask(rt, ref, 1, NULL, 0,
				       scaled_ns(10000000000ull), NULL,
				       NULL) == 0;
		ra_runtime_stop_actor(rt, ref);
	}
	return good;
}

/*
 * A listening TCP socket on 127.0.0.1 with a kernel-chosen port, stored in
 * *port. Returns the fd, or -1.
 */
static inline int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* splitmix64: small, seedable (RA_SEED), good enough to pick test data. */
static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform-enough in [0, n). */
static inline unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

#endif /* RA_T_TESTUTIL_H */
