/*
 * t/inject.c: the non-shard calls (ra_runtime_send, ra_runtime_spawn,
 * ra_runtime_stop_actor) from threads other than the one that created the
 * runtime. They share the runtime's injection ring (shard/runtime.c).
 *
 * 1. Several threads, none of them the creator, send numbered messages
 *    to one counting actor: every send returns 0, every message arrives
 *    once, in order per thread. (Before the fix in shard/ring.c the
 *    injection ring's fd was registered by the creator, so these sends
 *    failed with -EINVAL and left an SQE behind that pointed at a freed
 *    envelope.)
 * 2. A thread spawns an actor and stops it; its terminate runs once.
 * 3. A sending thread under a storm of signals (a handler without
 *    SA_RESTART): sends still return 0 and arrive exactly once. A
 *    submitted msg_ring must never be given up on -EINTR, since the
 *    caller would free the envelope the target is about to read. On
 *    kernels that post the msg_ring CQE inline the wait rarely sleeps, so
 *    this case guards the rule more than it provokes the race.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define NTHREADS	4
#define PER_THREAD	20000

struct num {
	uint32_t thread;
	uint32_t seq;
};

#define T_NUM		1
#define T_MARK		2	/* main's marker: note what arrived */

static ra_runtime_t *rt;
static atomic_long received, bad_order, terms, marks, received_at_mark;
/* Next number the counter expects per thread (atomic: reset by main). */
static atomic_uint next_seq[NTHREADS + 1];

static int counter_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct num n;

	(void)self;
	(void)state;
	if (m->type == T_MARK) {
		atomic_store(&received_at_mark, atomic_load(&received));
		atomic_fetch_add(&marks, 1);
		return 0;
	}
	if (m->len != sizeof(n))
		return -EPROTO;
	memcpy(&n, m->data, sizeof(n));
	if (n.thread > NTHREADS || atomic_load(&next_seq[n.thread]) != n.seq)
		atomic_fetch_add(&bad_order, 1);
	else
		atomic_fetch_add(&next_seq[n.thread], 1);
	atomic_fetch_add(&received, 1);
	return 0;
}

static void counter_term(ra_ctx_t *self, void *state, int reason)
{
	(void)self;
	(void)state;
	(void)reason;
	atomic_fetch_add(&terms, 1);
}

static const ra_actor_def_t counter_def = {
	.name = "counter",
	.behavior = counter_behavior,
	.terminate = counter_term,
};

struct sender {
	pthread_t tid;
	ra_ref_t to;
	uint32_t id;
	long sent, failed;	/* read once `done` is set, or after join */
	atomic_int done;
};

static void sender_init(struct sender *s, ra_ref_t to, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->to = to;
	s->id = id;
	atomic_init(&s->done, 0);
}

static void *send_numbers(void *arg)
{
	struct sender *s = arg;

	for (uint32_t i = 0; i < PER_THREAD; i++) {
		struct num n = { s->id, (uint32_t)s->sent };

		if (ra_runtime_send(rt, s->to, T_NUM, &n, sizeof(n)) == 0)
			s->sent++;
		else
			s->failed++;
	}
	atomic_store(&s->done, 1);
	return NULL;
}

/*
 * Until `want` arrived; then a marker from main, injected after every
 * number (the senders have been joined) and so handled after them: the
 * count it saw is final. 0 when that count is `want`.
 */
static int wait_received(ra_ref_t to, long want)
{
	uint64_t end = ra_now_ns() + scaled_ns(30000000000ull);
	long mark = atomic_load(&marks) + 1;

	while (atomic_load(&received) < want && ra_now_ns() < end)
		sleep_ms(1);
	if (ra_runtime_send(rt, to, T_MARK, NULL, 0) != 0)
		return -ESRCH;
	while (atomic_load(&marks) < mark && ra_now_ns() < end)
		sleep_ms(1);
	return atomic_load(&marks) == mark &&
	       atomic_load(&received_at_mark) == want ? 0 : -ETIMEDOUT;
}

static void reset(void)
{
	atomic_store(&received, 0);
	atomic_store(&bad_order, 0);
	atomic_store(&terms, 0);
	for (int t = 0; t <= NTHREADS; t++)
		atomic_store(&next_seq[t], 0);
}

static void test_many_threads(void)
{
	struct sender s[NTHREADS];
	long sent = 0, failed = 0;
	ra_ref_t to;

	reset();
	ok(ra_runtime_spawn(rt, &counter_def, NULL, NULL, &to) == 0,
	   "threads: counter spawned");
	for (uint32_t t = 0; t < NTHREADS; t++) {
		sender_init(&s[t], to, t);
		pthread_create(&s[t].tid, NULL, send_numbers, &s[t]);
	}
	for (uint32_t t = 0; t < NTHREADS; t++) {
		pthread_join(s[t].tid, NULL);
		sent += s[t].sent;
		failed += s[t].failed;
	}
	is_int(failed, 0, "threads: every send from %d non-creator threads "
	       "returned 0", NTHREADS);
	is_int(wait_received(to, sent), 0,
	       "threads: all %ld arrived, once each", sent);
	is_int(atomic_load(&bad_order), 0, "threads: in order per thread");
	ok(ra_runtime_stop_actor(rt, to) == 0, "threads: counter stopped");
}

static void *spawn_and_stop(void *arg)
{
	int *ret = arg;
	ra_ref_t r;

	ret[0] = ra_runtime_spawn(rt, &counter_def, NULL, NULL, &r);
	ret[1] = ret[0] ? ret[0] : ra_runtime_stop_actor(rt, r);
	return NULL;
}

static void test_spawn_from_thread(void)
{
	int ret[2] = { -1, -1 };
	pthread_t tid;
	uint64_t end = ra_now_ns() + 10000000000ull;

	ra_runtime_wait_idle(rt, 0);
	reset();
	pthread_create(&tid, NULL, spawn_and_stop, ret);
	pthread_join(tid, NULL);
	is_int(ret[0], 0, "thread: ra_runtime_spawn from another thread");
	is_int(ret[1], 0, "thread: ra_runtime_stop_actor from it");
	while (atomic_load(&terms) < 1 && ra_now_ns() < end)
		sleep_ms(1);
	is_int(atomic_load(&terms), 1, "thread: its terminate ran once");
}

static void on_signal(int sig)
{
	(void)sig;
}

static void test_signal_storm(void)
{
	struct sigaction sa;
	struct sender s;
	long kills = 0;
	ra_ref_t to;

	ra_runtime_wait_idle(rt, 0);
	reset();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: -EINTR shows */
	sigaction(SIGUSR2, &sa, NULL);
	ok(ra_runtime_spawn(rt, &counter_def, NULL, NULL, &to) == 0,
	   "signals: counter spawned");
	sender_init(&s, to, NTHREADS);
	pthread_create(&s.tid, NULL, send_numbers, &s);
	while (!atomic_load(&s.done)) {
		if (pthread_kill(s.tid, SIGUSR2) != 0)
			break;
		kills++;
		nanosleep(&(struct timespec){ .tv_nsec = 5000 }, NULL);
	}
	pthread_join(s.tid, NULL);
	signal(SIGUSR2, SIG_DFL);
	diag("signals: %ld signals during %d sends", kills, PER_THREAD);
	is_int(s.failed, 0, "signals: every send returned 0");
	is_int(wait_received(to, s.sent), 0, "signals: all %ld arrived, once "
	       "each", s.sent);
	is_int(atomic_load(&bad_order), 0, "signals: in order");
	ok(ra_runtime_stop_actor(rt, to) == 0, "signals: counter stopped");
}

int main(void)
{
	ra_config_t cfg;

	plan(1 + 5 + 3 + 5 + 1);
	tap_timeout(120);
	ra_config_init(&cfg);
	cfg.shards = 2;
	is_int(ra_runtime_create(&cfg, &rt), 0, "runtime with 2 shards");
	if (!rt)
		bail_out("no runtime");
	test_many_threads();
	test_spawn_from_thread();
	test_signal_storm();
	ra_runtime_wait_idle(rt, 0);
	is_int(ra_runtime_destroy(rt), 0, "destroy");
	return exit_status();
}
