/*
 * t/order.c: exactly-once and per-sender FIFO. One sender per shard (so
 * both the local and the msg_ring paths are used) each sends RA_ITERS
 * (default 1e6) numbered messages to one receiver, in windows the
 * receiver acknowledges (so memory stays bounded). The receiver checks
 * that each sender's numbers arrive in order, none lost or repeated.
 * RA_SHARDS (default 4), RA_ITERS and RA_SEED (window sizes) replay a run.
 * With RA_FAULT_MSGRING=N (t/order_retry.sh) every Nth msg_ring batch
 * fails as a full target CQ would, and the same checks must hold.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "shard/ring.h"
#include "ringactor.h"
#include "tap.h"

#define MAX_SENDERS 64
enum { T_START = 1, T_NUM, T_ACK, T_DONE };

struct num {
	uint32_t sender;
	uint64_t seq;
};

static uint64_t iters;
static unsigned nsenders;
static uint32_t windows[MAX_SENDERS];

/* Results, written by the receiver's terminate. */
static atomic_ulong out_of_order, received_total, senders_done;
static atomic_int receiver_ok;

struct recv_state {
	uint64_t expected[MAX_SENDERS];
	unsigned done;
	uint64_t bad;
	uint64_t total;
};

static int recv_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct recv_state *st = state;
	struct num n;

	if (m->len != sizeof(n))
		return -EINVAL;
	memcpy(&n, m->data, sizeof(n));
	if (n.sender >= nsenders)
		return -EINVAL;
	if (m->type == T_DONE) {
		if (n.seq != iters || st->expected[n.sender] != iters)
			st->bad++;
		if (++st->done == nsenders)
			ra_stop(self, 0);
		return 0;
	}
	if (n.seq != st->expected[n.sender])
		st->bad++;
	st->expected[n.sender] = n.seq + 1;
	st->total++;
	/* No ack for the last window: that sender has stopped by now. */
	if ((n.seq + 1) % windows[n.sender] == 0 && n.seq + 1 < iters)
		return ra_send(self, m->from, T_ACK, NULL, 0);
	return 0;
}

static void recv_term(ra_ctx_t *self, void *state, int reason)
{
	struct recv_state *st = state;

	(void)self;
	atomic_store(&out_of_order, st->bad);
	atomic_store(&received_total, st->total);
	atomic_store(&senders_done, st->done);
	atomic_store(&receiver_ok, reason == 0);
}

static const ra_actor_def_t recv_def = {
	.name = "receiver",
	.state_size = sizeof(struct recv_state),
	.behavior = recv_behavior,
	.terminate = recv_term,
};

struct send_state {
	ra_ref_t to;
	uint32_t id;
	uint64_t next;
};

/* Send one window (or the rest), then DONE after the last number. */
static int send_window(ra_ctx_t *self, struct send_state *st)
{
	uint32_t w = windows[st->id];

	for (uint32_t i = 0; i < w && st->next < iters; i++) {
		struct num n = { st->id, st->next++ };
		int ret = ra_send(self, st->to, T_NUM, &n, sizeof(n));

		if (ret < 0)
			return ret;
	}
	if (st->next == iters) {
		struct num n = { st->id, iters };

		ra_stop(self, 0);
		return ra_send(self, st->to, T_DONE, &n, sizeof(n));
	}
	return 0;
}

static int send_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct send_state *st = state;

	if (m->type == T_START) {
		memcpy(st, m->data, sizeof(*st));
		st->next = 0;
	}
	return send_window(self, st);
}

static const ra_actor_def_t send_def = {
	.name = "sender",
	.state_size = sizeof(struct send_state),
	.behavior = send_behavior,
};

/* Does this kernel honour IORING_NOP_INJECT_RESULT (the fault injector)? */
static bool injection_works(void)
{
	struct io_uring ring;
	bool works;

	if (io_uring_queue_init(4, &ring, 0) < 0)
		return false;
	works = ra__ring_can_inject_result(&ring);
	io_uring_queue_exit(&ring);
	if (!works)
		diag("kernel cannot inject NOP results: no failures injected");
	return works;
}

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

int main(void)
{
	static const uint32_t choices[] = { 1, 7, 64, 1000, 4096 };
	unsigned nshards = (unsigned)tap_env_ull("RA_SHARDS", 4);
	uint64_t seed = tap_env_ull("RA_SEED", (uint64_t)time(NULL));
	uint64_t s = seed;
	ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;
	ra_ref_t recv;

	tap_timeout(120);
	iters = tap_env_ull("RA_ITERS", 1000000);
	nsenders = nshards < MAX_SENDERS ? nshards : MAX_SENDERS;
	diag("seed %llu, %u shards, %u senders x %llu messages",
	     (unsigned long long)seed, nshards, nsenders,
	     (unsigned long long)iters);
	for (unsigned i = 0; i < nsenders; i++) {
		windows[i] = choices[rng(&s) % 5];
		diag("sender %u on shard %u: window %u", i, i % nshards,
		     windows[i]);
	}
	plan(9);
	ra_config_init(&cfg);
	cfg.shards = nshards;
	if (ra_runtime_create(&cfg, &rt))
		bail_out(ra_last_error());
	if (ra_runtime_spawn(rt, &recv_def, NULL, &o, &recv))
		bail_out("spawn receiver");
	for (unsigned i = 0; i < nsenders; i++) {
		struct send_state init = { .to = recv, .id = i };
		ra_spawn_opts_t so = { .placement = RA_PLACE_SHARD,
				       .shard = i % nshards };
		ra_ref_t snd;

		if (ra_runtime_spawn(rt, &send_def, NULL, &so, &snd) ||
		    ra_runtime_send(rt, snd, T_START, &init, sizeof(init)))
			bail_out("spawn sender");
	}
	/* Window 1 is a round trip per message: slow under sanitizers. */
	is_int(ra_runtime_wait_idle(rt, 100ull * 1000000000 *
				    tap_env_ull("RA_TEST_TIME_SCALE", 1)), 0,
	       "all senders and the receiver finished");
	is_int(atomic_load(&out_of_order), 0,
	       "no message out of order, lost or repeated");
	is_int(atomic_load(&received_total), iters * nsenders,
	       "every message arrived exactly once");
	is_int(atomic_load(&senders_done), nsenders, "every DONE arrived");
	ok(atomic_load(&receiver_ok), "receiver stopped normally");
	ra_stats_snapshot(rt, &st);
	is_int(st.dead_letters, 0, "no dead letters");
	if (nshards == 1)
		skip("messages crossed shards: one shard");
	else
		ok(st.msgs_remote >= iters, "messages crossed shards (%llu "
		   "remote in %llu msg_ring batches, %llu retried)",
		   (unsigned long long)st.msgs_remote,
		   (unsigned long long)st.msgring_batches,
		   (unsigned long long)st.msgring_retries);
	if (!tap_env_ull("RA_FAULT_MSGRING", 0))
		ok(st.msgring_retries == 0, "no msg_ring failure, no retry");
	else if (nshards == 1)
		skip("injected msg_ring failures were retried: one shard, "
		     "no msg_ring");
	else if (!injection_works())
		skip("injected msg_ring failures were retried: the kernel "
		     "cannot inject NOP results");
	else
		ok(st.msgring_retries > 0,
		   "injected msg_ring failures were retried (%llu)",
		   (unsigned long long)st.msgring_retries);
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "destroy");
	return exit_status();
}
