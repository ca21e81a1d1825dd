/*
 * ringactor: a C11 actor runtime for Linux built on io_uring.
 *
 * This is the only installed header. Everything a user, an example or a
 * benchmark needs is declared here; the types behind the opaque handles
 * live in the library.
 *
 * Conventions (see docs/api.md):
 *   - Functions that return int give 0 (or a count) on success and a
 *     negated errno on failure. No function aborts on bad input.
 *   - "Any thread" means the function may be called from any thread,
 *     shard or not, concurrently. "Home shard" means only from a behavior
 *     (or init/terminate callback) running on the actor's own shard, with
 *     that actor's context.
 *   - Times are in nanoseconds (ns) unless a name says otherwise; sizes are
 *     in bytes.
 */
#ifndef RINGACTOR_H
#define RINGACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RA_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* Handles and values                                                  */
/* ------------------------------------------------------------------ */

/* A runtime: N shards, each one thread and one io_uring. Opaque. */
typedef struct ra_runtime ra_runtime_t;

/*
 * The running actor's context, handed to its callbacks. It is only valid
 * during the callback that received it and only on that actor's home
 * shard. Opaque.
 */
typedef struct ra_actor ra_ctx_t;

/*
 * A reference to an actor, passed by value. The generation makes it safe
 * to keep after the actor stops: every use of a stale reference fails with
 * -ESRCH and never touches freed memory. The all-zero value is the null
 * reference (gen 0 is never issued).
 */
typedef struct ra_ref {
	uint32_t slot;	/* index in the runtime's actor table */
	uint32_t gen;	/* generation of that slot; 0 = null reference */
} ra_ref_t;

#define RA_REF_NULL ((ra_ref_t){ 0, 0 })

static inline bool ra_ref_is_null(ra_ref_t r)
{
	return r.gen == 0;
}

static inline bool ra_ref_eq(ra_ref_t a, ra_ref_t b)
{
	return a.slot == b.slot && a.gen == b.gen;
}

/*
 * Message types. User types are 0 .. RA_MSG_USER_MAX; the runtime's own
 * messages use the values above it.
 */
#define RA_MSG_USER_MAX	0x7fffffffu
#define RA_MSG_IO	0x80000001u	/* an I/O completion: see ra_msg_t.res/tag */
#define RA_MSG_EXIT	0x80000002u	/* a linked actor exited: ra_exit_info_t */
#define RA_MSG_DOWN	0x80000003u	/* a monitored actor exited: ra_down_info_t */

/* Payloads up to this many bytes travel inside the envelope (no malloc). */
#define RA_INLINE_PAYLOAD 48

/*
 * A message as the behavior sees it. Everything it points to is borrowed
 * for the duration of the behavior call only: copy what you keep, or take
 * an owned buffer with ra_msg_claim().
 */
typedef struct ra_msg {
	uint32_t type;		/* user type, RA_MSG_IO, RA_MSG_EXIT or RA_MSG_DOWN */
	ra_ref_t from;		/* sender, null for I/O and external senders */
	const void *data;	/* payload; NULL when len == 0 */
	size_t len;		/* payload size in bytes */
	int32_t res;		/* RA_MSG_IO: bytes transferred, new fd, or -errno */
	uint64_t tag;		/* RA_MSG_IO: the caller's tag from ra_io_*() */
} ra_msg_t;

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

/* Idle policy: poll the CQ from user space this long before sleeping. */
#define RA_DEFAULT_IDLE_POLL_NS	 50000u
#define RA_DEFAULT_IDLE_POLL_MAX_NS 1000000u
#define RA_DEFAULT_ACTOR_BUDGET	 64u
#define RA_DEFAULT_RING_ENTRIES	 256u
#define RA_DEFAULT_TIMING_SAMPLE 16u

/*
 * Work-stealing defaults (see ra_config_t and docs/architecture.md, "Work
 * stealing"). Loads are counted in queued items: run-queue entries plus
 * mailbox backlog plus I/O requests in the kernel.
 */
#define RA_DEFAULT_STEAL_BUDGET	     32u     /* actors a victim gives per turn */
#define RA_DEFAULT_STEAL_PROBE	     2u	     /* victims asked per attempt */
#define RA_DEFAULT_STEAL_BATCH	     8u	     /* actors per steal request */
#define RA_DEFAULT_STEAL_MARGIN	     16u     /* victim load - thief load > this */
#define RA_DEFAULT_STEAL_BACKOFF_MIN 20000u  /* ns after a fruitless attempt */
#define RA_DEFAULT_STEAL_BACKOFF_MAX 2000000u /* ns, cap of the doubling */

/* ra_config_t.flags */
#define RA_CFG_PIN_CPUS		(1u << 0) /* pin shard i to online CPU i % ncpu */
#define RA_CFG_NO_STEAL		(1u << 1) /* no shard ever steals or is robbed */

typedef struct ra_config {
	unsigned shards;	 /* number of shards; 0 = online CPUs */
	unsigned flags;		 /* RA_CFG_* */
	unsigned ring_entries;	 /* SQ entries per ring (power of 2) */
	unsigned actor_budget;	 /* messages an actor runs per turn */
	/*
	 * User-space CQ poll before a shard sleeps, in ns; 0 = none. The
	 * window adapts between idle_poll_ns and idle_poll_max_ns: it
	 * doubles when a shard that went to sleep was woken within the
	 * window (it should have kept polling) and halves when it slept
	 * more than 32 windows. A truly idle runtime so polls at most
	 * idle_poll_max_ns per wake-up and then uses no CPU.
	 */
	uint64_t idle_poll_ns;
	uint64_t idle_poll_max_ns;
	/*
	 * Time one message in this many (a power of two) for the
	 * mailbox-wait and run-time HDR histograms: 1 = every message, 0 =
	 * none. The sender picks every Nth of its sends, so the sample is
	 * unbiased; a clock read costs ~30 ns, and a sampled message needs
	 * three, so timing every message would double the cost of a local
	 * send.
	 */
	unsigned timing_sample;
	/*
	 * Work stealing. Only actors spawned with RA_SPAWN_STEALABLE ever
	 * move. A shard whose run queue is short (or that is about to
	 * sleep) asks up to steal_probe shards whose published load exceeds
	 * its own by more than steal_margin for work; each answers by handing
	 * over up to steal_batch quiescent stealable actors (most queued
	 * messages first), and at most steal_budget per loop pass in all.
	 * After an attempt that brought nothing the next waits
	 * steal_backoff_min_ns, doubling up to steal_backoff_max_ns; one that
	 * brought work resets the wait. steal_budget, steal_probe or
	 * steal_batch 0, or RA_CFG_NO_STEAL, disables stealing.
	 */
	unsigned steal_budget;	 /* actors handed over per victim loop pass */
	unsigned steal_probe;	 /* victims asked per attempt (<= shards) */
	unsigned steal_batch;	 /* actors per request, <= 64 */
	unsigned steal_margin;	 /* load units; victim must exceed thief by more */
	uint64_t steal_backoff_min_ns; /* wait after a fruitless attempt */
	uint64_t steal_backoff_max_ns; /* cap; >= steal_backoff_min_ns */
} ra_config_t;

/*
 * Fill `cfg` with the defaults above. `cfg` is caller storage. Any thread.
 */
RA_API void ra_config_init(ra_config_t *cfg);

/*
 * Create a runtime and start its shards: each shard thread sets up its own
 * io_uring (IORING_SETUP_SINGLE_ISSUER) and begins its loop before this
 * returns. `cfg` may be NULL for defaults and is copied; `*out` receives a
 * handle the caller owns until ra_runtime_destroy(). Any non-shard thread.
 *
 * Errors: -EINVAL (cfg out of range: shards > 1024, ring_entries not a
 * power of two or > 32768, actor_budget 0, timing_sample not 0 or a power
 * of two, idle_poll_max_ns < idle_poll_ns, steal_batch > 64,
 * steal_backoff_min_ns > steal_backoff_max_ns, out NULL); -ENOMEM;
 * -ENOSYS (kernel without
 * io_uring); -EPERM (io_uring disabled by sysctl kernel.io_uring_disabled
 * or refused by a seccomp filter); -EAGAIN (thread creation failed). On
 * failure ra_last_error() explains which and what to check, and nothing
 * is left running or allocated.
 */
RA_API int ra_runtime_create(const ra_config_t *cfg, ra_runtime_t **out);

/*
 * Stop every actor (pending I/O is cancelled and drained, then each
 * actor's terminate callback runs on its home shard), join every shard
 * thread, close every ring and free everything. `rt` is invalid after.
 * Any non-shard thread, once; calling it from a shard returns -EDEADLK and
 * does nothing. NULL returns -EINVAL.
 */
RA_API int ra_runtime_destroy(ra_runtime_t *rt);

/*
 * The first half of ra_runtime_destroy(): stop every actor and join every
 * shard thread, but keep the runtime's memory, so that ra_stats_snapshot()
 * and ra_shard_info() read the final figures (every message sent is by
 * then either delivered or counted in dead_letters). After it, spawns
 * fail with -ESHUTDOWN and sends with -ESRCH; ra_runtime_destroy() frees
 * what is left. Any non-shard thread; a second call does nothing.
 * Returns 0, -EINVAL (rt NULL) or -EDEADLK (called from a shard).
 */
RA_API int ra_runtime_stop(ra_runtime_t *rt);

/*
 * Block the calling (non-shard) thread until the runtime has no live
 * actors, or until `timeout_ns` has passed (0 = wait forever). Returns 0
 * when empty, -ETIMEDOUT, -EINVAL (rt NULL) or -EDEADLK (called from a
 * shard).
 */
RA_API int ra_runtime_wait_idle(ra_runtime_t *rt, uint64_t timeout_ns);

/* Number of shards. Any thread. */
RA_API unsigned ra_runtime_shards(const ra_runtime_t *rt);

/*
 * Thread-local text describing the last ra_runtime_create() failure on
 * this thread ("" if none). Owned by the library; valid until the next
 * create on this thread.
 */
RA_API const char *ra_last_error(void);

/* Static text for a negated errno returned by this library. */
RA_API const char *ra_strerror(int err);

/* CLOCK_MONOTONIC now, in ns. Any thread. */
RA_API uint64_t ra_now_ns(void);

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

/*
 * What an actor does. All callbacks run on the actor's home shard, one at
 * a time, with `state` pointing at `state_size` zeroed bytes the runtime
 * allocates and frees (aligned to 16 bytes).
 *
 * init(self, state, arg): runs once before the first message. Return 0,
 *   or -errno to fail the start (terminate still runs, with that reason).
 * behavior(self, state, msg): runs once per message. Return 0 to go on;
 *   a negative value stops the actor with that reason (as ra_stop()).
 * terminate(self, state, reason): runs once, last, after the actor's
 *   pending I/O has been cancelled and drained, so buffers may be freed
 *   here, and after monitors and links have fired and the name was
 *   released (see ra_exit). reason is the exit code: 0 for a normal
 *   stop, RA_EXIT_SHUTDOWN when the runtime is destroyed, the value
 *   given to ra_exit/ra_stop or returned, or a linked actor's code.
 *   May be NULL.
 */
typedef int (*ra_init_fn)(ra_ctx_t *self, void *state, void *arg);
typedef int (*ra_behavior_fn)(ra_ctx_t *self, void *state,
			      const ra_msg_t *msg);
typedef void (*ra_terminate_fn)(ra_ctx_t *self, void *state, int reason);

typedef struct ra_actor_def {
	const char *name;	 /* for diagnostics; borrowed, must outlive actors */
	size_t state_size;	 /* bytes of per-actor state, may be 0 */
	ra_init_fn init;	 /* may be NULL */
	ra_behavior_fn behavior; /* required */
	ra_terminate_fn terminate; /* may be NULL */
} ra_actor_def_t;

/* Where a new actor lives. */
enum ra_placement {
	RA_PLACE_LOCAL = 0,	/* the spawner's shard (round robin from outside) */
	RA_PLACE_SHARD,		/* ra_spawn_opts_t.shard */
	RA_PLACE_ROUND_ROBIN,	/* next shard in turn, runtime-wide */
	/*
	 * The shard with the lowest published load (run queue + mailbox
	 * backlog + I/O in the kernel, refreshed by each shard once per loop
	 * pass, so a burst of spawns may see a stale figure); ties go to the
	 * spawner's shard, then the lowest index.
	 */
	RA_PLACE_LEAST_LOADED,
};

/*
 * ra_spawn_opts_t.flags. RA_SPAWN_STEALABLE: the actor may be migrated to
 * another shard by work stealing while it is quiescent (not running, no
 * I/O of its own pending, no message to it in flight). Its state moves
 * with it; references stay valid; ra_shard_id() tells where it runs now.
 * Cross-shard sends to it cost one extra atomic increment (see
 * docs/architecture.md). Independent of placement, which only picks the
 * first home.
 */
#define RA_SPAWN_STEALABLE	(1u << 0)

typedef struct ra_spawn_opts {
	enum ra_placement placement;
	unsigned shard;		/* for RA_PLACE_SHARD */
	unsigned flags;		/* RA_SPAWN_* */
} ra_spawn_opts_t;

/*
 * Spawn an actor from a behavior. `def` is borrowed and must outlive the
 * actor; `arg` is handed to init untouched (ownership as the caller and
 * init agree); `opts` may be NULL (RA_PLACE_LOCAL). `*out` (may be NULL)
 * receives the reference at once; messages sent to it before init has run
 * wait in its mailbox. Home shard of `self`.
 *
 * Errors: -EINVAL (def or behavior NULL, shard out of range, bad
 * placement, unknown opts->flags); -ENOMEM; -ESHUTDOWN (the runtime is
 * being destroyed).
 */
RA_API int ra_spawn(ra_ctx_t *self, const ra_actor_def_t *def, void *arg,
		    const ra_spawn_opts_t *opts, ra_ref_t *out);

/* As ra_spawn(), from a thread that is not a shard (e.g. main). */
RA_API int ra_runtime_spawn(ra_runtime_t *rt, const ra_actor_def_t *def,
			    void *arg, const ra_spawn_opts_t *opts,
			    ra_ref_t *out);

/* This actor's reference. Home shard. */
RA_API ra_ref_t ra_self(const ra_ctx_t *self);

/*
 * The shard index (0-based) this actor runs on now. A stealable actor may
 * run on another shard in a later callback (never during one, and never
 * while it has I/O pending). Home shard.
 */
RA_API unsigned ra_shard_id(const ra_ctx_t *self);

/*
 * Allow (on) or forbid (!on) work stealing to migrate this actor from now
 * on. Pinning takes effect at once (the decision is made on this shard,
 * between callbacks). Allowing does too for an actor spawned with
 * RA_SPAWN_STEALABLE. An actor spawned pinned may move only once every
 * other shard has acknowledged the change (one msg_ring hop each way,
 * done by the runtime; refusals meanwhile count as refusals_in_flight):
 * senders to a pinned actor do not count their messages in flight, and
 * the round proves none sent uncounted is still on its way. From the
 * first allowing call on, messages to it from other shards cost a locked
 * increment and decrement each, as for an actor spawned stealable, even
 * once it is pinned again. Home shard. Returns 0 or -EINVAL (self NULL).
 */
RA_API int ra_set_stealable(ra_ctx_t *self, bool on);

/* The runtime this actor belongs to. Home shard. */
RA_API ra_runtime_t *ra_runtime(const ra_ctx_t *self);

/*
 * Stop this actor after the current callback returns, with `reason` (0 =
 * normal). Messages still in its mailbox become dead letters; pending I/O
 * is cancelled and drained; then terminate runs. The reference fails with
 * -ESRCH from now on. Home shard; calling it twice keeps the first reason.
 */
RA_API void ra_stop(ra_ctx_t *self, int reason);	/* = ra_exit(self, reason, NULL) */

/*
 * Ask another actor to stop (normal reason). The request is a message,
 * so it takes effect after the messages this sender sent before it.
 * Home shard of `self`. Errors: -ESRCH (already stopped), -ENOMEM.
 */
RA_API int ra_stop_other(ra_ctx_t *self, ra_ref_t target);

/* As ra_stop_other() from a non-shard thread. */
RA_API int ra_runtime_stop_actor(ra_runtime_t *rt, ra_ref_t target);

/* ------------------------------------------------------------------ */
/* Exit reasons, links, monitors, names (Erlang/OTP semantics)         */
/* ------------------------------------------------------------------ */

/*
 * Exit codes. An actor's exit reason is an int code plus an optional short
 * text. 0 is OTP's `normal`; RA_EXIT_SHUTDOWN is `shutdown` (also what
 * ra_runtime_destroy() stops every actor with); RA_EXIT_NOPROC is what a
 * link or monitor to an actor that no longer exists reports (the same
 * value a send to it returns); RA_EXIT_KILLED is OTP's `killed` and lies
 * outside the errno range. Every other value, such as the negative value
 * a behavior or init returns, is an abnormal failure with that code.
 */
#define RA_EXIT_NORMAL		0
#define RA_EXIT_SHUTDOWN	(-108)		/* -ESHUTDOWN */
#define RA_EXIT_NOPROC		(-3)		/* -ESRCH */
#define RA_EXIT_KILLED		(-0x10000)

/* Bytes of exit text kept, terminating NUL included (longer is cut). */
#define RA_EXIT_WHY_MAX		48

/*
 * Whether `code` is a normal exit (`normal` or `shutdown`), as a
 * supervisor decides restarts. Note that, as in OTP, only RA_EXIT_NORMAL
 * leaves non-trapping linked actors alive: `shutdown` propagates.
 */
static inline bool ra_exit_is_normal(int code)
{
	return code == RA_EXIT_NORMAL || code == RA_EXIT_SHUTDOWN;
}

/* Payload of RA_MSG_EXIT (msg->data, msg->len == sizeof). */
typedef struct ra_exit_info {
	ra_ref_t who;			/* the linked actor that exited */
	int code;			/* its exit code */
	char why[RA_EXIT_WHY_MAX];	/* its exit text, "" if none */
} ra_exit_info_t;

/* Payload of RA_MSG_DOWN (msg->data, msg->len == sizeof). */
typedef struct ra_down_info {
	uint64_t mref;			/* from ra_monitor() */
	ra_ref_t who;			/* the monitored actor */
	int code;			/* its exit code */
	char why[RA_EXIT_WHY_MAX];	/* its exit text, "" if none */
} ra_down_info_t;

/*
 * Stop this actor after the current callback with exit code `code` and
 * text `why` (may be NULL; copied, cut to RA_EXIT_WHY_MAX - 1 bytes).
 * The first reason given wins (also over ra_stop() and a negative return).
 *
 * Exit order: (1) the slot dies, so sends fail with -ESRCH, queued
 * messages become dead letters; (2) pending I/O is cancelled and drained;
 * (3) monitors fire: every watcher gets RA_MSG_DOWN; (4) links
 * propagate: every linked actor gets an exit signal; (5) the registered
 * name is released; (6) terminate runs with `code`. Timers do not exist
 * yet; when they do, they are cancelled in step 2. Home shard.
 */
RA_API void ra_exit(ra_ctx_t *self, int code, const char *why);

/*
 * Link this actor with `ref`, both ways (OTP link/1). When either exits
 * with a code other than RA_EXIT_NORMAL, the other one exits with the same
 * code and text unless it traps exits; a trapping actor instead receives
 * an RA_MSG_EXIT message (also for normal exits). If `ref` is dead or
 * dies before the link is made, this actor receives an exit signal with
 * RA_EXIT_NOPROC (from `ref`), asynchronously. Linking twice is one link;
 * linking to self does nothing. Home shard. Returns 0, -EINVAL (self
 * NULL), -ENOMEM.
 */
RA_API int ra_link(ra_ctx_t *self, ra_ref_t ref);

/*
 * Remove the link with `ref` (both ways). No exit signal from that link
 * reaches this actor afterwards, even one already in flight. Unlinking
 * what is not linked is a no-op. Home shard. Returns 0 or -EINVAL.
 */
RA_API int ra_unlink(ra_ctx_t *self, ra_ref_t ref);

/*
 * Trap exits (on) or not: exit signals from links become RA_MSG_EXIT
 * messages instead of stopping this actor. Home shard. Returns the
 * previous setting (0 or 1) or -EINVAL (self NULL).
 */
RA_API int ra_trap_exit(ra_ctx_t *self, bool on);

/*
 * Monitor `ref` (OTP monitor/2): when it exits, this actor receives one
 * RA_MSG_DOWN with the monitor reference `*mref_out`, its code and text;
 * if it is already dead, the DOWN carries RA_EXIT_NOPROC and still
 * arrives as a message, later. Each call is a new monitor with a new mref
 * (unique in the runtime, never 0). A message that `ref` sent to this
 * actor before exiting arrives before the DOWN. Home shard. Returns 0,
 * -EINVAL (self or mref_out NULL), -ENOMEM.
 */
RA_API int ra_monitor(ra_ctx_t *self, ra_ref_t ref, uint64_t *mref_out);

/*
 * Remove monitor `mref`: no DOWN for it is delivered afterwards, and one
 * already queued is dropped (OTP demonitor/2 with flush). Home shard.
 * Returns 0, -EINVAL (self NULL), -ENOENT (not an active monitor of
 * this actor: unknown, or its DOWN was already delivered).
 */
RA_API int ra_demonitor(ra_ctx_t *self, uint64_t mref);

/* Longest registered name, in bytes, NUL not counted. */
#define RA_NAME_MAX 63

/*
 * Register this actor under `name` (copied) until it exits or
 * unregisters. One name per actor, one actor per name. Home shard.
 * Errors: -EINVAL (NULL or empty name), -ENAMETOOLONG (longer than
 * RA_NAME_MAX), -EEXIST (the name is taken), -EBUSY (this actor already
 * has a name), -ENOMEM, -ESHUTDOWN (this actor is stopping).
 */
RA_API int ra_register(ra_ctx_t *self, const char *name);

/*
 * Release `name`. Home shard. Errors: -EINVAL, -ENOENT (not this actor's
 * name).
 */
RA_API int ra_unregister(ra_ctx_t *self, const char *name);

/*
 * Look up `name`: `*out` receives the actor registered under it. Any
 * thread. Errors: -EINVAL (NULL argument), -ESRCH (no such name, or its
 * actor has begun to exit), -ENAMETOOLONG.
 */
RA_API int ra_whereis(ra_runtime_t *rt, const char *name, ra_ref_t *out);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/*
 * Send `len` bytes at `data` to `to` as a message of `type` (<=
 * RA_MSG_USER_MAX). The payload is copied (inline up to
 * RA_INLINE_PAYLOAD bytes, else into one malloc'd buffer), so the caller
 * keeps `data`. Messages from one sender to one receiver arrive in send
 * order. A send to an actor on the same shard costs no syscall and no
 * atomic; to another shard the message rides a batched IORING_OP_MSG_RING
 * at the end of this turn. Home shard of `self`.
 *
 * Errors: -ESRCH (`to` has stopped or never existed; counted as a dead
 * letter), -EINVAL (type reserved, data NULL with len > 0), -ENOMEM. If
 * `to` stops while the message is in flight, it is counted as a dead
 * letter on arrival. A send to a stealable actor that is being migrated
 * right now returns 0 and waits on this shard until the hand-off is done
 * (one msg_ring hop), still in order behind this sender's earlier ones.
 */
RA_API int ra_send(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		   const void *data, size_t len);

/*
 * Send a malloc'd buffer without copying. On success the runtime owns
 * `buf` and frees it with free() after the receiver's behavior returns,
 * unless the receiver takes it with ra_msg_claim(); it is also freed if
 * the message becomes a dead letter in flight. On failure the caller keeps
 * `buf`. Home shard. Errors as ra_send().
 */
RA_API int ra_send_buf(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		       void *buf, size_t len);

/*
 * As ra_send(), from a non-shard thread (from is null). Slower: it goes
 * through a mutex-guarded injection ring; to a stealable actor being
 * migrated it yields until the hand-off is done. Errors as ra_send() plus
 * -EDEADLK when called from a shard thread.
 */
RA_API int ra_runtime_send(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			   const void *data, size_t len);

/*
 * Take ownership of a message's payload. Returns a malloc'd pointer to
 * msg->len bytes that the caller must free(): the sender's own buffer
 * for ra_send_buf() and payloads over RA_INLINE_PAYLOAD (no copy), a
 * fresh copy for small inline payloads. Returns NULL when len is 0, when
 * `msg` is not the message this behavior call received, when an owned
 * buffer was already claimed, or on ENOMEM. Home shard, only within the
 * behavior call that received `msg`.
 */
RA_API void *ra_msg_claim(ra_ctx_t *self, const ra_msg_t *msg);

/* ------------------------------------------------------------------ */
/* I/O as messages                                                     */
/* ------------------------------------------------------------------ */

/*
 * Each call turns one operation into an SQE on a ring chosen by the
 * router (for now the actor's home ring) and returns at once. The
 * completion arrives later as a message of type RA_MSG_IO with `res`
 * (bytes, new fd, 0, or -errno exactly as the kernel's CQE gives it) and
 * the caller's `tag`. Every call that returns 0 produces exactly one
 * completion; a call that fails produces none and the caller keeps its
 * buffer.
 *
 * Buffers are lent to the request: `buf` must stay valid and untouched
 * until the completion with that tag arrives. If the actor stops, its
 * pending operations are cancelled (IORING_OP_ASYNC_CANCEL) and their
 * completions drained before terminate runs, so terminate may free them.
 *
 * A socket accepted for an actor that stops before it reads the
 * completion is closed by the runtime.
 *
 * All: home shard of `self`. Errors: -EINVAL (fd < 0, buf NULL with len >
 * 0, len > INT32_MAX), -ENOMEM, -EAGAIN (the kernel refused to take the
 * queued SQEs, so no SQE was free), -ESHUTDOWN (the actor is stopping).
 */
RA_API int ra_io_read(ra_ctx_t *self, int fd, void *buf, size_t len,
		      uint64_t off, uint64_t tag);
RA_API int ra_io_write(ra_ctx_t *self, int fd, const void *buf, size_t len,
		       uint64_t off, uint64_t tag);
RA_API int ra_io_fsync(ra_ctx_t *self, int fd, uint64_t tag);
/* res = the accepted socket (SOCK_CLOEXEC), owned by the caller. */
RA_API int ra_io_accept(ra_ctx_t *self, int listen_fd, uint64_t tag);
RA_API int ra_io_recv(ra_ctx_t *self, int fd, void *buf, size_t len,
		      uint64_t tag);
/* Sends with MSG_NOSIGNAL: a closed peer is -EPIPE, never SIGPIPE. */
RA_API int ra_io_send(ra_ctx_t *self, int fd, const void *buf, size_t len,
		      uint64_t tag);
RA_API int ra_io_close(ra_ctx_t *self, int fd, uint64_t tag);

/* Number of this actor's operations whose completion has not arrived. */
RA_API unsigned ra_io_pending(const ra_ctx_t *self);

/* ------------------------------------------------------------------ */
/* HDR histograms                                                      */
/* ------------------------------------------------------------------ */

/*
 * A High Dynamic Range histogram after Gil Tene's HdrHistogram: values
 * from `lowest` (>= 1) to `highest` (>= 2 * lowest) are recorded in O(1)
 * with `sigfigs` (1..5) significant decimal digits kept, so any query is
 * within 10^-sigfigs relative error. Values are unitless integers; the
 * runtime records ns.
 *
 * Thread-safety: one writer at a time (record, reset, merge into). Any
 * number of readers may query or merge from it concurrently with that
 * writer; they see each count either before or after an increment.
 */
typedef struct ra_hdr ra_hdr_t;

/*
 * Allocate a histogram; `*out` is owned by the caller (ra_hdr_destroy).
 * Errors: -EINVAL (lowest < 1, highest < 2 * lowest, sigfigs outside
 * 1..5, out NULL), -ENOMEM.
 */
RA_API int ra_hdr_create(int64_t lowest, int64_t highest, int sigfigs,
			 ra_hdr_t **out);
RA_API void ra_hdr_destroy(ra_hdr_t *h);	/* NULL is a no-op */

/*
 * Record `value` once / `count` times. Returns 0, or -ERANGE when the
 * value is outside [0, highest] (counted in ra_hdr_out_of_range(), not
 * recorded), -EINVAL for count < 0.
 */
RA_API int ra_hdr_record(ra_hdr_t *h, int64_t value);
RA_API int ra_hdr_record_n(ra_hdr_t *h, int64_t value, int64_t count);

/* Zero all counts. Writer only. */
RA_API void ra_hdr_reset(ra_hdr_t *h);

/*
 * Add every count of `src` into `dst`. Returns 0, or -EINVAL when the
 * two were created with different lowest/highest/sigfigs (nothing added).
 */
RA_API int ra_hdr_merge(ra_hdr_t *dst, const ra_hdr_t *src);

/*
 * The value at percentile `p` (0..100): the smallest recorded value v such
 * that p% of all recorded values are <= v, reported as the highest value
 * equivalent to v at this precision. 0 when empty.
 */
RA_API int64_t ra_hdr_value_at_percentile(const ra_hdr_t *h, double p);
RA_API int64_t ra_hdr_min(const ra_hdr_t *h);	/* 0 when empty */
RA_API int64_t ra_hdr_max(const ra_hdr_t *h);	/* 0 when empty */
RA_API double ra_hdr_mean(const ra_hdr_t *h);	/* 0 when empty */
RA_API double ra_hdr_stddev(const ra_hdr_t *h); /* 0 when empty */
RA_API int64_t ra_hdr_total_count(const ra_hdr_t *h);
RA_API int64_t ra_hdr_out_of_range(const ra_hdr_t *h);

/*
 * Write the standard HdrHistogram percentile distribution (the `.hgrm`
 * text that HdrHistogram's plotters read): columns Value, Percentile,
 * TotalCount, 1/(1-Percentile), `ticks` (>= 1, usually 5) lines per
 * halving of the distance to 100%, values divided by `scale` (e.g. 1000
 * to print ns as us), then the Mean/StdDeviation/Max/Total footer.
 * Returns 0, -EINVAL (bad ticks/scale, NULL), or -EIO on a write error.
 */
RA_API int ra_hdr_write_percentiles(const ra_hdr_t *h, FILE *f, int ticks,
				    double scale);

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

/* Per-opcode I/O latency histograms in ra_stats_t.io_ns[]. */
enum ra_io_op {
	RA_IO_READ = 0,
	RA_IO_WRITE,
	RA_IO_FSYNC,
	RA_IO_ACCEPT,
	RA_IO_RECV,
	RA_IO_SEND,
	RA_IO_CLOSE,
	RA_IO_NOPS
};

typedef struct ra_stats {
	uint64_t actors_spawned;
	uint64_t actors_stopped;
	uint64_t actors_live;
	uint64_t msgs_local;	  /* sends to an actor on the sender's shard */
	uint64_t msgs_remote;	  /* sends that crossed shards */
	uint64_t msgs_delivered;  /* behavior calls for user messages */
	uint64_t dead_letters;	  /* sends refused with -ESRCH + lost in flight */
	uint64_t msgring_batches; /* IORING_OP_MSG_RING SQEs for messages */
	uint64_t msgring_retries; /* batches re-sent after a failed msg_ring */
	uint64_t io_submitted;
	uint64_t io_completed;
	uint64_t io_cancelled;	  /* cancellations issued at actor stop */
	uint64_t sleeps;	  /* times a shard slept in io_uring_enter */
	/*
	 * Work stealing. steal_attempts: steal requests sent (by thieves);
	 * steal_successes: requests answered with at least one actor;
	 * actors_migrated: hand-overs completed (counted by the thief when
	 * the actor arrives). A request answered with nothing counts once,
	 * by the first cause that applied, in this order:
	 * refusals_below_margin (the victim's own load no longer exceeds the
	 * thief's by the margin, or it is shutting down), refusals_in_flight
	 * (a candidate had a message to it in flight when the victim checked,
	 * or was made stealable at run time and its shard's round of
	 * acknowledgements had not ended; see ra_set_stealable()),
	 * refusals_not_quiescent (stealable actors there, but each running
	 * its init, stopping, or with I/O pending), refusals_pinned (no
	 * stealable actor there, or the budget of this turn is spent).
	 * busy_ns: ns all shards spent not idle since they started: uptime
	 * minus time spent polling the CQ past its first ~3 us or asleep
	 * (per shard: ra_shard_info()); gaps under ~3 us count as busy.
	 */
	uint64_t steal_attempts;
	uint64_t steal_successes;
	uint64_t actors_migrated;
	uint64_t refusals_not_quiescent;
	uint64_t refusals_pinned;
	uint64_t refusals_below_margin;
	uint64_t refusals_in_flight;
	uint64_t busy_ns;
	/*
	 * Merged over all shards; owned by the snapshot and freed by
	 * ra_stats_fini(). Values in ns. mailbox_wait_ns: start of the
	 * sending behavior call to start of the receiving one; run_ns: one
	 * behavior call; both for the sampled messages only (see
	 * ra_config_t.timing_sample). io_ns[op]: submit to completion,
	 * every operation.
	 */
	ra_hdr_t *mailbox_wait_ns;
	ra_hdr_t *run_ns;
	ra_hdr_t *io_ns[RA_IO_NOPS];
} ra_stats_t;

/*
 * Fill `*out` (caller storage) with counters summed over shards and merged
 * histograms. Any thread; the figures are a consistent-enough sum of
 * per-shard single-writer counters read while the shards run. Release
 * with ra_stats_fini(). Errors: -EINVAL, -ENOMEM (nothing to free).
 */
RA_API int ra_stats_snapshot(ra_runtime_t *rt, ra_stats_t *out);
RA_API void ra_stats_fini(ra_stats_t *st);

/* One shard's figures, for ra_shard_info(). */
typedef struct ra_shard_info {
	uint64_t busy_ns;	/* ns not idle since create (see ra_stats_t) */
	uint64_t load;		/* last published load (queued items) */
	uint64_t actors_in;	/* actors migrated to this shard */
	uint64_t actors_out;	/* actors migrated away from it */
	uint64_t steal_attempts; /* steal requests it sent */
} ra_shard_info_t;

/*
 * Fill `*out` (caller storage) with shard `shard`'s figures. Any thread;
 * each value is a relaxed read of a single-writer counter, so figures of
 * a running shard are a moment apart from each other. Errors: -EINVAL (rt
 * or out NULL, shard >= ra_runtime_shards(rt)).
 */
RA_API int ra_shard_info(ra_runtime_t *rt, unsigned shard,
			 ra_shard_info_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RINGACTOR_H */
