/*
 * t/ask.c: ra_ask / ra_reply / ra_runtime_ask, with 1, 2 and 4 shards,
 * asker and server on different shards where there are two.
 *
 *  1. Round trips: several asks outstanding at once, each answered with
 *     its own aref and payload; no timeout follows a delivered reply.
 *  2. A request nobody answers times out with exactly one RA_MSG_TIMEOUT
 *     (tag = aref, res = -ETIMEDOUT, from = the server), never early.
 *  3. A late reply is dropped and counted: ask #1 times out, the server
 *     answers #1 late while ask #2 is outstanding, then #2; the asker
 *     gets #2's reply with aref2 only, and late_replies goes up by one.
 *  4. Replying twice: the second is a late reply.
 *  5. ra_reply to a non-ask, to a reply, with bad arguments: -EINVAL.
 *  6. Asking a dead actor: -ESRCH at once, nothing arrives later.
 *  7. ra_ask bad input: -EINVAL; from terminate: -ESHUTDOWN; an asker
 *     that exits with an ask open leaves nothing behind.
 *  8. ra_runtime_ask: happy path (inline, owned and empty payloads),
 *     timeout, errors, and replies that come after it gave up (no
 *     use-after-free under ASan).
 *
 * "Nothing more arrives" is shown by a marker, never by a pause: a reply
 * to a later ask comes behind every earlier message from the same
 * server, and the timeout of a later ask with a later deadline comes
 * behind every timeout due before it (timers fire in deadline order).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "ringactor.h"
#include "tap.h"
#include "testutil.h"

#define MS	1000000ull
#define SEC	(1000 * MS)
#define MAXEV	64
#define MAXHOLD	64

enum {
	/* Requests to the server. */
	Q_ECHO = 1,	/* reply x * 2 */
	Q_SILENT,	/* never answer */
	Q_HOLD,		/* keep; answer on S_RELEASE */
	Q_TWICE,	/* answer twice */
	Q_PLAIN,	/* sent with ra_send: try to answer, -EINVAL */
	Q_BIG,		/* answer with 100 bytes */
	Q_EMPTY,	/* answer with nothing */
	Q_DEADLK,	/* call ra_runtime_ask from the shard */
	S_RELEASE,	/* server: answer every held request, in order */
	/* Commands to the client. */
	C_ASK,
	C_BAD,
	C_EXIT_ASKING,
};

struct ask_cmd {
	ra_ref_t to;
	uint32_t type;
	int32_t x;
	uint64_t timeout;
};

struct ev {
	uint32_t type;		/* RA_MSG_REPLY or RA_MSG_TIMEOUT */
	uint64_t tag;
	ra_ref_t from;
	int32_t res;
	int32_t x;		/* reply payload, or -1 */
	uint64_t at;
};

static ra_runtime_t *rt;
static unsigned nsh;
static ra_ref_t client, server;

/* Client side: written by the client's thread, published by nev/nasked. */
static struct ev evs[MAXEV];
static atomic_int nev, nasked, ask_err, bad_count, reply_on_reply;
static uint64_t arefs[MAXEV], asked_at[MAXEV];
/* Server side. */
static atomic_int seen_tag_ok, plain_ret, released, deadlk_ret;
static atomic_int release_ret;
static uint64_t seen_tags[MAXEV];

/* ---- server ---- */

struct held {
	ra_msg_t req;		/* from and tag kept for a later answer */
	int32_t x;
};

struct server_state {
	struct held held[MAXHOLD];
	unsigned nheld;
};

static int32_t payload_x(const ra_msg_t *m)
{
	int32_t x = -1;

	if (m->len >= sizeof(x))
		memcpy(&x, m->data, sizeof(x));
	return x;
}

static void server_release(ra_ctx_t *self, struct server_state *s)
{
	for (unsigned i = 0; i < s->nheld; i++) {
		int ret = ra_reply(self, &s->held[i].req, &s->held[i].x,
				   sizeof(s->held[i].x));

		if (ret != 0)
			atomic_store(&release_ret, ret);
	}
	s->nheld = 0;
	atomic_fetch_add(&released, 1);
}

static int server_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct server_state *s = state;
	int32_t x = payload_x(m), y = x * 2;
	unsigned char big[100];
	int n;

	if (m->type <= Q_DEADLK && m->type != Q_PLAIN) {
		n = atomic_load(&seen_tag_ok);
		if (n < MAXEV)
			seen_tags[n] = m->tag;
		atomic_store(&seen_tag_ok, n + 1);
	}
	switch (m->type) {
	case Q_ECHO:
		ra_reply(self, m, &y, sizeof(y));
		break;
	case Q_HOLD:
		if (s->nheld < MAXHOLD)
			s->held[s->nheld++] = (struct held){ *m, x };
		break;
	case Q_TWICE:
		ra_reply(self, m, &x, sizeof(x));
		ra_reply(self, m, &y, sizeof(y));
		break;
	case Q_PLAIN:
		atomic_store(&plain_ret, ra_reply(self, m, &x, sizeof(x)));
		break;
	case Q_BIG:
		for (unsigned i = 0; i < sizeof(big); i++)
			big[i] = (unsigned char)(i ^ 0x5a);
		ra_reply(self, m, big, sizeof(big));
		break;
	case Q_EMPTY:
		ra_reply(self, m, NULL, 0);
		break;
	case Q_DEADLK:
		atomic_store(&deadlk_ret,
			     ra_runtime_ask(ra_runtime(self), ra_self(self),
					    Q_ECHO, NULL, 0, MS, NULL, NULL));
		ra_reply(self, m, NULL, 0);
		break;
	case S_RELEASE:
		server_release(self, s);
		break;
	}
	return 0;
}

static const ra_actor_def_t server_def = {
	.name = "server",
	.state_size = sizeof(struct server_state),
	.behavior = server_behavior,
};

/* ---- client ---- */

static void client_event(ra_ctx_t *self, const ra_msg_t *m)
{
	int n = atomic_load(&nev);

	/* Answering an answer is not allowed. */
	if (m->type == RA_MSG_REPLY &&
	    ra_reply(self, m, NULL, 0) != -EINVAL)
		atomic_fetch_add(&reply_on_reply, 1);
	if (n >= MAXEV)
		return;
	evs[n] = (struct ev){
		.type = m->type, .tag = m->tag, .from = m->from,
		.res = m->res, .at = ra_now_ns(),
		.x = m->len == sizeof(int32_t) ? payload_x(m) :
		     (int32_t)m->len,
	};
	atomic_store(&nev, n + 1);
}

static void client_bad(ra_ctx_t *self)
{
	ra_msg_t fake = { .type = 1, .tag = 7 };
	uint64_t aref;
	int bad = 0;

	bad += ra_ask(self, server, 1, NULL, 0, 0, &aref) != -EINVAL;
	bad += ra_ask(self, server, 1, NULL, 0, SEC, NULL) != -EINVAL;
	bad += ra_ask(self, server, RA_MSG_REPLY, NULL, 0, SEC, &aref) !=
	       -EINVAL;
	bad += ra_ask(self, server, 1, NULL, 4, SEC, &aref) != -EINVAL;
	bad += ra_ask(NULL, server, 1, NULL, 0, SEC, &aref) != -EINVAL;
	bad += ra_reply(self, NULL, NULL, 0) != -EINVAL;
	bad += ra_reply(NULL, &fake, NULL, 0) != -EINVAL;
	bad += ra_reply(self, &fake, NULL, 0) != -EINVAL; /* from null */
	fake.from = server;
	fake.tag = 0;
	bad += ra_reply(self, &fake, NULL, 0) != -EINVAL; /* not an ask */
	fake.tag = 7;
	bad += ra_reply(self, &fake, NULL, 3) != -EINVAL; /* data NULL */
	fake.type = RA_MSG_TIMEOUT;
	bad += ra_reply(self, &fake, NULL, 0) != -EINVAL;
	atomic_store(&bad_count, bad);
}

static int client_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct ask_cmd c;
	int n, ret;

	(void)state;
	if (m->type == RA_MSG_REPLY || m->type == RA_MSG_TIMEOUT) {
		client_event(self, m);
		return 0;
	}
	if (m->type == C_BAD) {
		client_bad(self);
		atomic_fetch_add(&nasked, 1);
		return 0;
	}
	if ((m->type != C_ASK && m->type != C_EXIT_ASKING) ||
	    m->len != sizeof(c))
		return 0;
	memcpy(&c, m->data, sizeof(c));
	n = atomic_load(&nasked);
	asked_at[n] = ra_now_ns();
	ret = ra_ask(self, c.to, c.type, &c.x, sizeof(c.x), c.timeout,
		     &arefs[n]);
	if (ret < 0)
		atomic_store(&ask_err, ret);
	atomic_store(&nasked, n + 1);
	return m->type == C_EXIT_ASKING ? -1 : 0;
}

static atomic_int term_ask_ret;

static void client_terminate(ra_ctx_t *self, void *state, int reason)
{
	uint64_t aref;

	(void)state;
	(void)reason;
	atomic_store(&term_ask_ret, ra_ask(self, server, Q_ECHO, NULL, 0, SEC,
					   &aref));
}

static const ra_actor_def_t client_def = {
	.name = "client",
	.behavior = client_behavior,
	.terminate = client_terminate,
};

/* ---- helpers ---- */

static void setup(void)
{
	ra_spawn_opts_t o0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t ol = { .placement = RA_PLACE_SHARD,
			       .shard = nsh - 1 };

	atomic_store(&nev, 0);
	atomic_store(&nasked, 0);
	atomic_store(&ask_err, 0);
	atomic_store(&seen_tag_ok, 0);
	atomic_store(&released, 0);
	atomic_store(&release_ret, 0);
	atomic_store(&reply_on_reply, 0);
	atomic_store(&plain_ret, 999);
	atomic_store(&term_ask_ret, 999);
	ra_runtime_spawn(rt, &client_def, NULL, &o0, &client);
	ra_runtime_spawn(rt, &server_def, NULL, &ol, &server);
}

static void finish(const char *what)
{
	ra_runtime_stop_actor(rt, client);
	ra_runtime_stop_actor(rt, server);
	is_int(ra_runtime_wait_idle(rt, scaled_ns(5 * SEC)), 0, "[%u] %s: idle",
	       nsh, what);
}

/* The client asks `to` with `type`/`x`; returns the ask's index. */
static int ask(ra_ref_t to, uint32_t type, int32_t x, uint64_t timeout)
{
	struct ask_cmd c = { to, type, x, timeout };
	int n = atomic_load(&nasked);

	ra_runtime_send(rt, client, C_ASK, &c, sizeof(c));
	wait_for(&nasked, n + 1, scaled_ns(5 * SEC));
	return n;
}

/*
 * A marker behind everything `server` sent the client so far: an echo
 * ask, answered in order after it. True when the marker's reply is
 * event `nev_before`, the next one.
 */
static bool echo_marker(int nev_before)
{
	int i = ask(server, Q_ECHO, 777, scaled_ns(5 * SEC));

	return wait_for(&nev, nev_before + 1, scaled_ns(5 * SEC)) == 0 &&
	       evs[nev_before].type == RA_MSG_REPLY &&
	       evs[nev_before].tag == arefs[i] && evs[nev_before].x == 1554;
}

/*
 * A marker behind every timeout due by now + after_ns: an ask to `to`
 * that nobody answers, timing out then. True when its timeout is event
 * `nev_before`.
 */
static bool timeout_marker(ra_ref_t to, uint64_t after_ns, int nev_before)
{
	int i = ask(to, Q_SILENT, 0, after_ns);

	return wait_for(&nev, nev_before + 1,
			after_ns + scaled_ns(5 * SEC)) == 0 &&
	       evs[nev_before].type == RA_MSG_TIMEOUT &&
	       evs[nev_before].tag == arefs[i];
}

/* One counter of ra_stats_t, by its offset; 0 if no snapshot. */
static uint64_t stat_at(size_t offset)
{
	ra_stats_t st;
	uint64_t n;

	if (ra_stats_snapshot(rt, &st) < 0)
		return 0;	/* nothing to free */
	memcpy(&n, (const char *)&st + offset, sizeof(n));
	ra_stats_fini(&st);
	return n;
}

static uint64_t late_replies(void)
{
	return stat_at(offsetof(ra_stats_t, late_replies));
}

static uint64_t dead_letters(void)
{
	return stat_at(offsetof(ra_stats_t, dead_letters));
}

/* ---- tests ---- */

static void test_roundtrip(void)
{
	int bad = 0, tags = 0;
	bool marked;

	setup();
	for (int i = 0; i < 8; i++)
		ask(server, Q_ECHO, 100 + i, scaled_ns(300 * MS));
	ok(wait_for(&nev, 8, scaled_ns(5 * SEC)) == 0,
	   "[%u] 8 asks outstanding at once: 8 replies", nsh);
	for (int i = 0; i < 8; i++) {
		int j;

		for (j = 0; j < 8; j++)
			if (evs[j].tag == arefs[i])
				break;
		if (j == 8 || evs[j].type != RA_MSG_REPLY ||
		    evs[j].x != 2 * (100 + i) ||
		    !ra_ref_eq(evs[j].from, server) || evs[j].res != 0)
			bad++;
		for (j = 0; j < 8; j++)
			tags += seen_tags[j] == arefs[i];
	}
	ok(bad == 0 && arefs[0] != 0 && arefs[0] != arefs[1],
	   "[%u] ... each with its own aref, payload and sender", nsh);
	is_int(tags, 8, "[%u] the server saw each aref as msg->tag", nsh);
	/* Due after the 8 timeouts, had they been armed and not settled. */
	marked = timeout_marker(server, scaled_ns(300 * MS) + MS, 8);
	ok(marked, "[%u] no timeout after a delivered reply (%d events)", nsh,
	   atomic_load(&nev));
	is_int(atomic_load(&reply_on_reply), 0,
	       "[%u] ra_reply on a reply: -EINVAL", nsh);
	finish("roundtrip");
}

static void test_timeout(void)
{
	bool marked;
	int i;

	setup();
	i = ask(server, Q_SILENT, 1, 20 * MS);
	ok(wait_for(&nev, 1, scaled_ns(5 * SEC)) == 0, "[%u] silent server: "
	   "an event", nsh);
	ok(evs[0].type == RA_MSG_TIMEOUT && evs[0].tag == arefs[i] &&
	   evs[0].res == -ETIMEDOUT && ra_ref_eq(evs[0].from, server),
	   "[%u] ... RA_MSG_TIMEOUT, tag aref, res -ETIMEDOUT, from server",
	   nsh);
	ok(evs[0].at - asked_at[i] >= 20 * MS, "[%u] ... not early (%.2f ms)",
	   nsh, (double)(evs[0].at - asked_at[i]) / 1e6);
	marked = timeout_marker(server, MS, 1) && echo_marker(2);
	ok(marked, "[%u] ... exactly once (%d events)", nsh, atomic_load(&nev));
	finish("timeout");
}

static void test_late(void)
{
	uint64_t late0 = late_replies();
	bool marked;
	int a1, a2;

	setup();
	a1 = ask(server, Q_HOLD, 11, 20 * MS);
	wait_for(&nev, 1, scaled_ns(5 * SEC));
	ok(evs[0].type == RA_MSG_TIMEOUT && evs[0].tag == arefs[a1],
	   "[%u] late: ask #1 timed out", nsh);
	a2 = ask(server, Q_HOLD, 22, scaled_ns(5 * SEC));
	/* Once it holds both, the server answers #1 (late), then #2. */
	wait_for(&seen_tag_ok, 2, scaled_ns(5 * SEC));
	ra_runtime_send(rt, server, S_RELEASE, NULL, 0);
	ok(wait_for(&nev, 2, scaled_ns(5 * SEC)) == 0, "[%u] late: an answer",
	   nsh);
	marked = echo_marker(2);
	ok(marked && evs[1].type == RA_MSG_REPLY &&
	   evs[1].tag == arefs[a2] && evs[1].x == 22,
	   "[%u] late: only ask #2's reply arrives, with aref2 and its "
	   "payload (%d events)", nsh, atomic_load(&nev));
	is_int(late_replies() - late0, 1,
	       "[%u] late: the late reply is counted in late_replies", nsh);
	is_int(atomic_load(&release_ret), 0,
	       "[%u] late: ra_reply of the late answer returned 0", nsh);
	finish("late");
}

static void test_twice(void)
{
	uint64_t late0 = late_replies();
	bool marked;

	setup();
	ask(server, Q_TWICE, 5, scaled_ns(5 * SEC));
	wait_for(&nev, 1, scaled_ns(5 * SEC));
	marked = echo_marker(1);
	ok(marked && evs[0].x == 5,
	   "[%u] reply twice: the first is delivered, once (%d events)", nsh,
	   atomic_load(&nev));
	is_int(late_replies() - late0, 1,
	       "[%u] ... the second counted as late", nsh);
	finish("twice");
}

static void test_bad(void)
{
	ra_spawn_opts_t ol = { .placement = RA_PLACE_SHARD,
			       .shard = nsh - 1 };
	ra_ref_t other;
	uint64_t dead0;
	bool marked;
	int32_t x = 3;

	setup();
	ra_runtime_send(rt, server, Q_PLAIN, &x, sizeof(x));
	ask(server, Q_ECHO, 1, scaled_ns(5 * SEC));	/* after Q_PLAIN */
	wait_for(&nev, 1, scaled_ns(5 * SEC));
	is_int(atomic_load(&plain_ret), -EINVAL,
	       "[%u] ra_reply to a plain message: -EINVAL", nsh);
	ra_runtime_send(rt, client, C_BAD, NULL, 0);
	wait_for(&nasked, 2, scaled_ns(5 * SEC));
	is_int(atomic_load(&bad_count), 0,
	       "[%u] ra_ask / ra_reply bad input: -EINVAL", nsh);

	/* The server dies; asking it is -ESRCH, and nothing comes later. */
	ra_runtime_stop_actor(rt, server);
	while (ra_runtime_send(rt, server, Q_SILENT, NULL, 0) == 0)
		sleep_ms(1);
	dead0 = dead_letters();
	atomic_store(&nev, 0);
	ask(server, Q_ECHO, 1, 10 * MS);
	is_int(atomic_load(&ask_err), -ESRCH, "[%u] ask to a dead actor: "
	       "-ESRCH", nsh);
	is_int(dead_letters() - dead0, 1, "[%u] ... counted as a dead letter",
	       nsh);
	/* Its timeout, had it been armed, would come before this one. */
	atomic_store(&ask_err, 0);
	if (ra_runtime_spawn(rt, &server_def, NULL, &ol, &other) < 0)
		bail_out("cannot spawn a second server");
	marked = timeout_marker(other, 11 * MS, 0);
	ok(marked && atomic_load(&ask_err) == 0,
	   "[%u] ... and nothing arrives later (%d events)", nsh,
	   atomic_load(&nev));
	ra_runtime_stop_actor(rt, other);
	finish("bad");
}

static void test_exit(void)
{
	struct ask_cmd c;
	uint64_t dead0;

	setup();
	/* The client asks, then exits with the ask open. */
	c = (struct ask_cmd){ server, Q_HOLD, 9, scaled_ns(5 * SEC) };
	dead0 = dead_letters();
	ra_runtime_send(rt, client, C_EXIT_ASKING, &c, sizeof(c));
	wait_for(&nasked, 1, scaled_ns(5 * SEC));
	while (atomic_load(&term_ask_ret) == 999)
		sleep_ms(1);
	is_int(atomic_load(&term_ask_ret), -ESHUTDOWN,
	       "[%u] ra_ask from terminate: -ESHUTDOWN", nsh);
	wait_for(&seen_tag_ok, 1, scaled_ns(5 * SEC));
	ra_runtime_send(rt, server, S_RELEASE, NULL, 0);
	/* ra_reply returned, and counted the dead letter, before this. */
	wait_for(&released, 1, scaled_ns(5 * SEC));
	ok(atomic_load(&release_ret) == -ESRCH &&
	   dead_letters() - dead0 == 1,
	   "[%u] reply to an asker that exited: -ESRCH, a dead letter", nsh);
	finish("exit");
}

/* ---- ra_runtime_ask ---- */

static void test_runtime_ask(void)
{
	unsigned char *big = NULL;
	void *reply = NULL;
	size_t len = 0;
	int32_t x = 21, y = 0;
	bool big_ok = true;
	uint64_t t0;
	int ret;

	setup();
	ret = ra_runtime_ask(rt, server, Q_ECHO, &x, sizeof(x), scaled_ns(SEC),
			     &reply, &len);
	if (reply && len == sizeof(y))
		memcpy(&y, reply, sizeof(y));
	ok(ret == 0 && len == sizeof(y) && y == 42,
	   "[%u] runtime_ask: reply 42 (ret %d, len %zu)", nsh, ret, len);
	free(reply);
	ret = ra_runtime_ask(rt, server, Q_BIG, NULL, 0, scaled_ns(SEC),
			     (void **)&big, &len);
	for (unsigned i = 0; big && i < 100; i++)
		big_ok = big_ok && big[i] == (unsigned char)(i ^ 0x5a);
	ok(ret == 0 && len == 100 && big && big_ok,
	   "[%u] runtime_ask: a 100-byte reply", nsh);
	free(big);
	reply = &x;
	ret = ra_runtime_ask(rt, server, Q_EMPTY, NULL, 0, scaled_ns(SEC),
			     &reply, &len);
	ok(ret == 0 && reply == NULL && len == 0,
	   "[%u] runtime_ask: an empty reply is NULL, 0", nsh);
	ok(ra_runtime_ask(rt, server, Q_ECHO, &x, sizeof(x), scaled_ns(SEC),
			  NULL, NULL) == 0,
	   "[%u] runtime_ask: reply not wanted", nsh);

	t0 = ra_now_ns();
	ret = ra_runtime_ask(rt, server, Q_SILENT, NULL, 0, 30 * MS, &reply,
			     &len);
	ok(ret == -ETIMEDOUT && ra_now_ns() - t0 >= 30 * MS,
	   "[%u] runtime_ask: -ETIMEDOUT after the timeout (%d)", nsh, ret);

	ok(ra_runtime_ask(rt, server, Q_DEADLK, NULL, 0, scaled_ns(SEC), NULL,
			  NULL) == 0 &&
	   atomic_load(&deadlk_ret) == -EDEADLK,
	   "[%u] runtime_ask from a shard: -EDEADLK", nsh);
	ok(ra_runtime_ask(NULL, server, 1, NULL, 0, SEC, NULL, NULL) ==
	   -EINVAL &&
	   ra_runtime_ask(rt, server, 1, NULL, 0, 0, NULL, NULL) == -EINVAL &&
	   ra_runtime_ask(rt, server, RA_MSG_IO, NULL, 0, SEC, NULL, NULL) ==
	   -EINVAL &&
	   ra_runtime_ask(rt, server, 1, NULL, 8, SEC, NULL, NULL) == -EINVAL,
	   "[%u] runtime_ask bad input: -EINVAL", nsh);
	finish("runtime_ask");
	is_int(ra_runtime_ask(rt, server, Q_ECHO, NULL, 0, SEC, NULL, NULL),
	       -ESRCH, "[%u] runtime_ask to a dead actor: -ESRCH", nsh);
}

static void test_runtime_ask_late(void)
{
	int timeouts = 0, rounds = 20;
	void *reply;
	size_t len;

	setup();
	/*
	 * The server holds each request and answers right after the
	 * caller gave up: the proxy is then either still waiting for its
	 * own timeout (it takes the reply and frees it) or gone (a dead
	 * letter). Either way nothing touches the caller's freed state.
	 */
	for (int i = 0; i < rounds; i++) {
		int want = atomic_load(&released) + 1;

		reply = NULL;
		timeouts += ra_runtime_ask(rt, server, Q_HOLD, &i, sizeof(i),
					   (uint64_t)(2 + i % 5) * MS, &reply,
					   &len) == -ETIMEDOUT;
		ra_runtime_send(rt, server, S_RELEASE, NULL, 0);
		wait_for(&released, want, scaled_ns(5 * SEC));
	}
	is_int(timeouts, rounds, "[%u] runtime_ask: %d late replies after "
	       "giving up, no harm", nsh, rounds);
	ok(ra_runtime_ask(rt, server, Q_ECHO, &rounds, sizeof(rounds),
			  scaled_ns(SEC), NULL, NULL) == 0,
	   "[%u] runtime_ask: still answers afterwards", nsh);
	finish("runtime_ask late");
}

int main(void)
{
	tap_timeout(180);
	plan(3 * 42);
	for (unsigned i = 0; i < RA_ARRAY_LEN(tu_shard_counts); i++) {
		nsh = tu_shard_counts[i];
		rt = tu_runtime(nsh);
		test_roundtrip();
		test_timeout();
		test_late();
		test_twice();
		test_bad();
		test_exit();
		test_runtime_ask();
		test_runtime_ask_late();
		is_int(ra_runtime_destroy(rt), 0, "[%u] destroy", nsh);
	}
	return exit_status();
}
