/*
 * ringactor: a C11 actor runtime for Linux built on io_uring.
 *
 * This is the only installed header. Everything a user, an example or a
 * benchmark needs is declared here; the types behind the opaque handles
 * live in the library.
 *
 * Conventions (ringactor(7) and docs/architecture.md explain the model):
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

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>

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
#define RA_MSG_REPLY	0x80000004u	/* answer to ra_ask(): tag = aref, data = reply payload */
#define RA_MSG_TIMEOUT	0x80000005u	/* ra_ask() timed out: tag = aref, res = -ETIMEDOUT */

/* Payloads up to this many bytes travel inside the envelope (no malloc). */
#define RA_INLINE_PAYLOAD 48

/*
 * A message as the behavior sees it. Everything it points to is borrowed
 * for the duration of the behavior call only: copy what you keep, or take
 * an owned buffer with ra_msg_claim().
 */
typedef struct ra_msg {
	uint32_t type;		/* user type or one of the RA_MSG_* above */
	/*
	 * Sender, null for I/O and external senders. A timer's message is
	 * from the actor that armed it; RA_MSG_REPLY is from the replier,
	 * RA_MSG_TIMEOUT from the actor that was asked.
	 */
	ra_ref_t from;
	const void *data;	/* payload; NULL when len == 0 */
	size_t len;		/* payload size in bytes */
	/* RA_MSG_IO: bytes transferred, new fd, or -errno; RA_MSG_TIMEOUT: -ETIMEDOUT */
	int32_t res;
	/*
	 * RA_MSG_IO: the caller's tag from ra_io_*(). A request sent with
	 * ra_ask(), and RA_MSG_REPLY / RA_MSG_TIMEOUT: the ask reference
	 * (aref, never 0). Any other message: 0, so tag != 0 on a user
	 * type means "an ask: answer it with ra_reply()".
	 */
	uint64_t tag;
	/* RA_MSG_IO: RA_MSG_F_* below; 0 for every other message. */
	uint32_t flags;
} ra_msg_t;

/*
 * ra_msg_t.flags of an RA_MSG_IO completion.
 *
 * RA_MSG_F_MORE: the request goes on and will complete again (a
 * connection of ra_io_accept_multishot(), data of ra_io_recv_multishot(),
 * or an error the listener survives). Without it, this is the request's
 * last completion: a single-shot request's only one, a multishot one's
 * end.
 *
 * RA_MSG_F_BUF: data/len point into a buffer of the shard's buffer ring,
 * lent for this behavior call only: it goes back to the ring when the
 * behavior returns, unless the behavior takes it with ra_io_buf_claim().
 */
#define RA_MSG_F_MORE	(1u << 0)
#define RA_MSG_F_BUF	(1u << 1)

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

/* Idle policy: poll the CQ from user space this long before sleeping. */
#define RA_DEFAULT_IDLE_POLL_NS	 50000u
#define RA_DEFAULT_IDLE_POLL_MAX_NS 1000000u
#define RA_DEFAULT_ACTOR_BUDGET	 64u
#define RA_DEFAULT_RING_ENTRIES	 256u
#define RA_DEFAULT_TIMING_SAMPLE 16u
#define RA_DEFAULT_PASS_RUNS	 64u
#define RA_DEFAULT_PASS_NS	 50000u

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

/*
 * Buffer ring of multishot recvs (see ra_config_t.buf_ring_entries):
 * 512 buffers of 4 KiB, 2 MiB of address space per shard that uses
 * ra_io_recv_multishot(), made at its first call there.
 */
#define RA_DEFAULT_BUF_RING_ENTRIES 512u
#define RA_DEFAULT_BUF_SIZE	 4096u
/* Zero-copy sends: off (see ra_config_t.send_zc_min). */
#define RA_DEFAULT_SEND_ZC_MIN	 0u

/* ra_config_t.flags */
#define RA_CFG_PIN_CPUS		(1u << 0) /* pin shard i to online CPU i % ncpu */
#define RA_CFG_NO_STEAL		(1u << 1) /* no shard ever steals or is robbed */
/*
 * How the kernel runs a shard ring's task work (socket completions):
 * by default cooperatively (IORING_SETUP_COOP_TASKRUN with TASKRUN_FLAG:
 * no interrupt of a busy shard; its poll enters the kernel when the ring
 * says work waits). RA_CFG_TASKRUN_IPI: at once, by interrupting the
 * shard thread (the kernel's default). RA_CFG_TASKRUN_DEFER:
 * IORING_SETUP_DEFER_TASKRUN, only when the shard enters the kernel
 * (msg_ring into the ring too). docs/results.md compares them. Kernels
 * without a mode fall back to the one before it.
 */
#define RA_CFG_TASKRUN_IPI	(1u << 2)
#define RA_CFG_TASKRUN_DEFER	(1u << 3)

typedef struct ra_config {
	/*
	 * Bytes of this struct the caller was compiled with, set by
	 * ra_config_init(): a program built against an older ringactor.h
	 * (fewer fields) gets the defaults for the fields it does not know,
	 * so fields can be added at the end without breaking the ABI.
	 */
	size_t size;
	unsigned shards;	 /* number of shards; 0 = online CPUs */
	unsigned flags;		 /* RA_CFG_* */
	unsigned ring_entries;	 /* SQ entries per ring (power of 2) */
	unsigned actor_budget;	 /* messages an actor runs per turn */
	/*
	 * Loop-pass bound (docs/architecture.md, "Liveness"): a shard runs
	 * at most pass_runs actor runs, and stops after about pass_ns of
	 * work, before it flushes its outboxes, submits, reaps its CQ and
	 * answers steal requests. This bounds how long a message sent to
	 * another shard, an I/O request or an incoming batch waits however
	 * busy the shard is (see ra_send). Both must be > 0.
	 */
	unsigned pass_runs;	 /* actor runs per loop pass */
	uint64_t pass_ns;	 /* ns of work per loop pass */
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
	/*
	 * Each shard's buffer ring for ra_io_recv_multishot():
	 * buf_ring_entries buffers (a power of two, at most 32768) of
	 * buf_size bytes (1..INT32_MAX) each. A shard sets its ring up at
	 * its first ra_io_recv_multishot(), so shards that never receive
	 * that way spend nothing on it; the pages of a buffer are only
	 * committed once the kernel first writes into it. A buffer holds at
	 * most one completion's data, so buf_size bounds the bytes one
	 * RA_MSG_IO carries; buf_ring_entries bounds what the shard can
	 * have received and not yet handed back (in mailboxes, or claimed)
	 * before its multishot recvs pause (ra_io_recv_multishot()).
	 */
	unsigned buf_ring_entries;
	unsigned buf_size;
	/*
	 * ra_io_send() and ra_io_sendmsg() of at least send_zc_min bytes use
	 * IORING_OP_SEND_ZC / IORING_OP_SENDMSG_ZC where the kernel has them
	 * (6.0 / 6.1): the kernel sends from the caller's pages instead of
	 * copying them. 0 = never (the default; docs/architecture.md,
	 * "Zero-copy sends", has the measurements behind it). The caller
	 * sees no difference but speed: the completion is delivered only
	 * once the kernel has let go of the buffer.
	 */
	unsigned send_zc_min;
} ra_config_t;

/*
 * Fill `cfg` (caller storage) with the defaults above and set cfg->size.
 * Any thread. A macro, so that the size is the caller's: it calls
 * ra_config_init_size(cfg, sizeof(*cfg)), which fills the first `size`
 * bytes (at most sizeof(ra_config_t) of this library); `cfg` NULL or
 * `size` too small to hold `size` itself does nothing.
 */
#define ra_config_init(cfg) ra_config_init_size((cfg), sizeof(*(cfg)))
RA_API void ra_config_init_size(ra_config_t *cfg, size_t size);

/*
 * Create a runtime and start its shards: each shard thread sets up its own
 * io_uring (IORING_SETUP_SINGLE_ISSUER) and begins its loop before this
 * returns. `cfg` may be NULL for defaults and is copied; `*out` receives a
 * handle the caller owns until ra_runtime_destroy(). Any non-shard thread.
 *
 * Errors: -EINVAL (cfg out of range: shards > 1024, ring_entries not a
 * power of two or > 32768, actor_budget, pass_runs or pass_ns 0,
 * timing_sample not 0 or a power of two, idle_poll_max_ns <
 * idle_poll_ns, steal_batch > 64, steal_backoff_min_ns >
 * steal_backoff_max_ns, both RA_CFG_TASKRUN_* flags, buf_ring_entries
 * not a power of two or > 32768, buf_size 0 or > INT32_MAX, out NULL);
 * -ENOMEM; -ENOSYS (kernel without
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

/*
 * The main loop of a program whose work is in its actors: block the
 * calling (non-shard) thread until one of the signals in `set` arrives,
 * or until the runtime has no live actors. Returns the signal's number
 * (> 0), or 0 when the last actor has stopped. The signals in `set` are
 * blocked in the calling thread while it waits (and taken with
 * sigtimedwait(), so no handler runs); shard threads block every
 * asynchronous signal from their start, so none of them can take a
 * signal meant for this call. Other threads of the program should block
 * `set` too. Call it again to go on waiting (e.g. after a SIGHUP that
 * reloads something). Errors: -EINVAL (rt or set NULL, or `set` holds a
 * signal that cannot be waited for), -EDEADLK (called from a shard).
 */
RA_API int ra_runtime_run_until_signal(ra_runtime_t *rt, const sigset_t *set);

/* Number of shards. Any thread. */
RA_API unsigned ra_runtime_shards(const ra_runtime_t *rt);

/*
 * Thread-local text describing the last failure on this thread of
 * ra_runtime_create(), ra_spawn() or ra_runtime_spawn(): which argument
 * or resource, and what to check ("" when the last such call succeeded).
 * Other calls do not set it: each of their -errno has one cause, given in
 * their comment and by ra_strerror(), and a send to a stopped actor is
 * too common to format text for. Owned by the library; valid until the
 * next of those calls on this thread.
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
 * I/O of its own pending, no message to it in flight, none it sent still
 * waiting on its shard). Its state moves
 * with it; references stay valid; ra_shard_id() tells where it runs now.
 * Cross-shard sends to it cost one extra atomic increment (see
 * docs/architecture.md). Independent of placement, which only picks the
 * first home.
 */
#define RA_SPAWN_STEALABLE	(1u << 0)
/*
 * RA_SPAWN_LINK (OTP spawn_link/1): the new actor is linked to the
 * spawner before it can run, so no exit of either can slip by before the
 * link exists. Only from ra_spawn() (ra_runtime_spawn(): -EINVAL).
 */
#define RA_SPAWN_LINK		(1u << 1)

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
 * placement, unknown opts->flags, RA_SPAWN_LINK from ra_runtime_spawn);
 * -ENOMEM; -ESHUTDOWN (the runtime is being destroyed).
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
 * Home shard of `self`. Errors: -ESRCH (already stopped; counted as a
 * dead letter), -ENOMEM.
 */
RA_API int ra_stop_other(ra_ctx_t *self, ra_ref_t target);

/*
 * As ra_stop_other() from a non-shard thread (-ESRCH also counted as a
 * dead letter), plus -EINVAL (rt NULL) and -EDEADLK (called from a shard).
 */
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
/*
 * The code to give ra_exit_other() for OTP's exit(Pid, kill): the target
 * cannot trap it and exits with RA_EXIT_KILLED (which its links then
 * see, and may trap). Never an exit code itself.
 */
#define RA_EXIT_KILL		(-0x10001)

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
 * messages become dead letters (replies to its asks included; ticks of
 * its own timers and its ask timeouts are dropped uncounted); (2) its
 * timers and outstanding asks are cancelled (no message of them is
 * delivered any more; a reply that arrives later is a dead letter), and
 * pending I/O is cancelled and drained; (3) monitors fire: every watcher
 * gets RA_MSG_DOWN; (4) links propagate: every linked actor gets an exit
 * signal; (5) the registered name is released; (6) terminate runs with
 * `code` (arming a timer or asking from there fails with -ESHUTDOWN).
 * Home shard.
 */
RA_API void ra_exit(ra_ctx_t *self, int code, const char *why);

/*
 * Send `target` an exit signal with `code` and `why` (copied; may be
 * NULL), as OTP's exit/2. It acts when it arrives, ahead of messages
 * already queued at the target (OTP handles signals before messages):
 *   RA_EXIT_KILL: the target exits with RA_EXIT_KILLED, trapping or not;
 *   a trapping target: receives RA_MSG_EXIT (who = self) in its mailbox;
 *   RA_EXIT_NORMAL: ignored, unless the target is self;
 *   any other code: the target exits with it.
 * Links are neither needed nor changed. Home shard of `self`. Errors:
 * -EINVAL (self NULL, code RA_EXIT_KILLED), -ESRCH (target not alive),
 * -ENOMEM.
 */
RA_API int ra_exit_other(ra_ctx_t *self, ra_ref_t target, int code,
			 const char *why);

/*
 * As ra_exit_other() from a non-shard thread; the exit info's `who` is
 * the null reference. Errors as ra_exit_other(), with -EINVAL for rt
 * NULL, plus -EDEADLK when called from a shard thread.
 */
RA_API int ra_runtime_exit_actor(ra_runtime_t *rt, ra_ref_t target, int code,
				 const char *why);

/*
 * Link this actor with `ref`, both ways (OTP link/1). When either exits
 * with a code other than RA_EXIT_NORMAL, the other one exits with the same
 * code and text unless it traps exits; a trapping actor instead receives
 * an RA_MSG_EXIT message (also for normal exits). If `ref` is dead or
 * dies before the link is made, this actor receives an exit signal with
 * RA_EXIT_NOPROC (from `ref`), asynchronously; if `ref` cannot record
 * the link (out of memory there), one with -ENOMEM and the text "link
 * not made: out of memory". Linking twice is one link;
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
 * arrives as a message, later; if the target cannot record the monitor
 * (out of memory there), the DOWN carries -ENOMEM and the text "monitor
 * not made: out of memory" although the target lives on. Each call is a new monitor with a new mref
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
/* Supervisors (Erlang/OTP supervisor behaviour)                       */
/* ------------------------------------------------------------------ */

/*
 * A supervisor is an actor that starts children from child specs, links
 * to them, traps exits, and restarts them by OTP's rules. Terms and
 * defaults are OTP's (supervisor(3)): strategies one_for_one,
 * one_for_all, rest_for_one, simple_one_for_one; restart types
 * permanent, transient, temporary; restart intensity and period;
 * shutdown brutal_kill / a timeout / infinity. docs/architecture.md,
 * "Supervisors", describes the state machine.
 */
enum ra_sup_strategy {
	RA_ONE_FOR_ONE = 0,	/* restart only the child that exited */
	RA_ONE_FOR_ALL,		/* stop all others (reverse order), restart all */
	RA_REST_FOR_ONE,	/* stop those started after it, restart them */
	RA_SIMPLE_ONE_FOR_ONE,	/* one template, children added dynamically */
};

enum ra_restart {
	RA_PERMANENT = 0,	/* always restarted */
	RA_TRANSIENT,		/* restarted unless its exit is ra_exit_is_normal */
	RA_TEMPORARY,		/* never restarted; its spec goes when it exits */
};

enum ra_child_type {
	RA_WORKER = 0,
	RA_SUPERVISOR,
};

/*
 * ra_child_spec_t.shutdown_ms: 0 = OTP's default (5000 ms for a worker,
 * infinity for a supervisor); otherwise a timeout in ms, or one of:
 */
#define RA_SHUTDOWN_BRUTAL_KILL	 (UINT32_MAX - 1) /* exit(Child, kill) at once */
#define RA_SHUTDOWN_INFINITY	 UINT32_MAX	  /* wait as long as it takes */
#define RA_SHUTDOWN_DEFAULT_MS	 5000u

/* OTP's defaults for ra_sup_spec_t: at most 1 restart in 5000 ms. */
#define RA_SUP_DEFAULT_INTENSITY 1u
#define RA_SUP_DEFAULT_PERIOD_MS 5000u

struct ra_child_spec;

/*
 * Start one child (OTP's start function): spawn it linked to the
 * supervisor `sup` (ra_spawn with RA_SPAWN_LINK, or ra_sup_start_link for
 * a child supervisor) and store its reference in *out. Return 0; or 0
 * with *out left null, OTP's `ignore` (the spec is kept, nothing runs);
 * or -errno, a failed start. Runs on the supervisor's shard, inside its
 * behavior, so it must not block. `spec` is the supervisor's copy, valid
 * during the call.
 */
typedef int (*ra_start_fn)(ra_ctx_t *sup, const struct ra_child_spec *spec,
			   ra_ref_t *out);

typedef struct ra_child_spec {
	/*
	 * Unique among the supervisor's children, 1..RA_NAME_MAX bytes;
	 * copied. Ignored for a simple_one_for_one template.
	 */
	const char *id;
	ra_start_fn start;		/* NULL: spawn `def` linked, with arg and opts */
	const ra_actor_def_t *def;	/* borrowed; must outlive the supervisor */
	void *arg;			/* to `start` / def->init at every (re)start */
	ra_spawn_opts_t opts;		/* placement of the default start */
	enum ra_restart restart;
	uint32_t shutdown_ms;		/* see RA_SHUTDOWN_* */
	enum ra_child_type type;
} ra_child_spec_t;

/* What a supervisor reports to ra_sup_spec_t.on_event (OTP's reports). */
enum ra_sup_event_kind {
	RA_SUP_CHILD_STARTED = 0,  /* child started (or restarted) */
	RA_SUP_CHILD_EXITED,	   /* child exited by itself: code/why */
	RA_SUP_CHILD_TERMINATED,   /* child stopped by the supervisor */
	RA_SUP_CHILD_KILLED,	   /* its shutdown timeout passed: killed */
	RA_SUP_START_FAILED,	   /* start returned code (-errno) */
	RA_SUP_RESTART,		   /* restarting per strategy after `id` */
	RA_SUP_INTENSITY_EXCEEDED, /* giving up: stopping all, then itself */
	RA_SUP_SHUTDOWN,	   /* stopping all children, then itself */
};

typedef struct ra_sup_event {
	enum ra_sup_event_kind kind;
	ra_ref_t sup;		/* the supervisor */
	const char *id;		/* child id ("" for simple_one_for_one children) */
	ra_ref_t child;		/* the child, null if none */
	int code;		/* exit or error code, where there is one */
	const char *why;	/* exit text, "" if none */
	unsigned restarts;	/* restarts counted within the period, now */
} ra_sup_event_t;

/*
 * A short static name for `kind` ("child_started", "child_exited",
 * "child_terminated", "child_killed", "start_failed", "restart",
 * "intensity_exceeded", "shutdown"), or "unknown". Any thread.
 */
RA_API const char *ra_sup_event_name(enum ra_sup_event_kind kind);

/*
 * Called on the supervisor's shard, inside its behavior, for each event:
 * must not block; `ev` and its strings are valid during the call only.
 */
typedef void (*ra_sup_event_fn)(const ra_sup_event_t *ev, void *ctx);

typedef struct ra_sup_spec {
	enum ra_sup_strategy strategy;
	/*
	 * More than `intensity` restarts within `period_ms` ms make the
	 * supervisor stop all its children and exit with RA_EXIT_SHUTDOWN
	 * and the text "reached_max_restart_intensity", which its own
	 * supervisor then sees (OTP's escalation). 0 allows no restart.
	 */
	unsigned intensity;
	uint32_t period_ms;		/* > 0 */
	/*
	 * Children, started in this order and stopped in reverse order;
	 * copied. simple_one_for_one: exactly one, the template of every
	 * child started by RA_SUP_START_CHILD; none is started at first.
	 */
	const ra_child_spec_t *children;
	unsigned nchildren;
	ra_sup_event_fn on_event;	/* may be NULL */
	void *event_ctx;		/* handed to on_event */
} ra_sup_spec_t;

/*
 * Start a supervisor linked to `self` (OTP supervisor:start_link), with
 * the ra_sup_spec_t at spec->arg (copied now) placed by spec->opts. Its
 * signature is ra_start_fn's so that a child spec of type RA_SUPERVISOR
 * can name it as `start`. The supervisor starts its children in its init;
 * if one fails to start, it stops those already started and exits with
 * that child's code and the text "failed_to_start_child", which `self`
 * sees by the link. Home shard of `self`. Errors: -EINVAL (NULL
 * arguments, a bad sup spec: strategy or restart type out of range,
 * period_ms 0, intensity over 100000, children NULL with nchildren > 0, a
 * simple_one_for_one spec without exactly one child, an id empty, too
 * long or repeated, a child with neither start nor def), -ENOMEM,
 * -ESHUTDOWN.
 */
RA_API int ra_sup_start_link(ra_ctx_t *self, const ra_child_spec_t *spec,
			     ra_ref_t *out);

/*
 * Start a top-level supervisor from a non-shard thread (not linked to
 * anything; stop it with ra_runtime_exit_actor(rt, sup, RA_EXIT_SHUTDOWN,
 * NULL), which stops its children in order first). `spec` is copied;
 * `opts` may be NULL. Errors as ra_sup_start_link(), plus -EDEADLK (from
 * a shard thread).
 */
RA_API int ra_runtime_sup_start(ra_runtime_t *rt, const ra_sup_spec_t *spec,
				const ra_spawn_opts_t *opts, ra_ref_t *out);

/*
 * A supervisor's dynamic API (OTP start_child, terminate_child,
 * restart_child, delete_child, which_children, count_children) is a
 * request it answers as an ask (ra_ask): requests are served one at a
 * time, in arrival order, after any restart or shutdown in progress.
 */
enum ra_sup_op {
	RA_SUP_START_CHILD = 1,
	RA_SUP_TERMINATE_CHILD,
	RA_SUP_RESTART_CHILD,
	RA_SUP_DELETE_CHILD,
	RA_SUP_WHICH_CHILDREN,
	RA_SUP_COUNT_CHILDREN,
};

/* The user message type a supervisor serves requests under. */
#define RA_SUP_CALL_TYPE 0x7fffff00u

typedef struct ra_sup_request {
	enum ra_sup_op op;
	/* START_CHILD on a static supervisor: the new child (copied). */
	ra_child_spec_t spec;
	/* START_CHILD on simple_one_for_one: replaces the template's arg. */
	void *arg;
	/* TERMINATE/RESTART/DELETE_CHILD on a static supervisor; copied. */
	const char *id;
	/* TERMINATE_CHILD on simple_one_for_one: the child. */
	ra_ref_t child;
} ra_sup_request_t;

/* One child, as RA_SUP_WHICH_CHILDREN reports it. */
typedef struct ra_child_info {
	char id[RA_NAME_MAX + 1];	/* "" for simple_one_for_one */
	ra_ref_t ref;			/* null: not running */
	enum ra_child_type type;
	enum ra_restart restart;
} ra_child_info_t;

/* RA_SUP_COUNT_CHILDREN (OTP count_children/1). */
typedef struct ra_child_counts {
	unsigned specs;		/* child specs (simple: running children) */
	unsigned active;	/* running children */
	unsigned supervisors;	/* specs of type RA_SUPERVISOR */
	unsigned workers;	/* specs of type RA_WORKER */
} ra_child_counts_t;

/*
 * The payload of the RA_MSG_REPLY that answers a request: this header,
 * then, for WHICH_CHILDREN, `n` ra_child_info_t in start order, or, for
 * COUNT_CHILDREN, one ra_child_counts_t. `result`: 0, or -EINVAL (a bad
 * spec or an op the strategy lacks), -EOPNOTSUPP (RESTART/DELETE on
 * simple_one_for_one, as OTP), -EEXIST (START: the id is taken),
 * -ENOENT (no child by that id or ref), -EBUSY (RESTART/DELETE of a
 * running child), -ESHUTDOWN (the supervisor is stopping), -ENOMEM, or
 * the start function's error. `child`: the started child for START and
 * RESTART (null for `ignore`).
 */
typedef struct ra_sup_reply {
	int result;
	unsigned n;
	ra_ref_t child;
} ra_sup_reply_t;

/*
 * Send `req` to supervisor `sup` as an ask (ra_ask: the answer arrives as
 * RA_MSG_REPLY with tag *aref_out, or RA_MSG_TIMEOUT after timeout_ns).
 * Strings in `req` are copied now. Home shard of `self`. Errors: those of
 * ra_ask(), -EINVAL (req NULL, op unknown, id longer than RA_NAME_MAX).
 */
RA_API int ra_sup_call(ra_ctx_t *self, ra_ref_t sup,
		       const ra_sup_request_t *req, uint64_t timeout_ns,
		       uint64_t *aref_out);

/*
 * The same from a non-shard thread, blocking up to timeout_ns (ns) for
 * the answer. Each returns the request's `result` (above) or an error of
 * ra_runtime_ask() (-ETIMEDOUT, -ESRCH: no such supervisor, -EDEADLK,
 * -ENOMEM, -EINVAL).
 *
 * start_child: `spec` for a static supervisor, `arg` for
 *   simple_one_for_one (spec NULL); *child_out (may be NULL) receives it.
 * terminate_child: by `id` (static) or `child` (simple_one_for_one).
 *   A temporary child's spec is deleted with it, as in OTP.
 * which_children: *out is malloc'd (caller frees), *n entries.
 */
RA_API int ra_runtime_sup_start_child(ra_runtime_t *rt, ra_ref_t sup,
				      const ra_child_spec_t *spec, void *arg,
				      uint64_t timeout_ns, ra_ref_t *child_out);
RA_API int ra_runtime_sup_terminate_child(ra_runtime_t *rt, ra_ref_t sup,
					  const char *id, ra_ref_t child,
					  uint64_t timeout_ns);
RA_API int ra_runtime_sup_restart_child(ra_runtime_t *rt, ra_ref_t sup,
					const char *id, uint64_t timeout_ns,
					ra_ref_t *child_out);
RA_API int ra_runtime_sup_delete_child(ra_runtime_t *rt, ra_ref_t sup,
				       const char *id, uint64_t timeout_ns);
RA_API int ra_runtime_sup_which_children(ra_runtime_t *rt, ra_ref_t sup,
					 uint64_t timeout_ns,
					 ra_child_info_t **out, size_t *n);
RA_API int ra_runtime_sup_count_children(ra_runtime_t *rt, ra_ref_t sup,
					 uint64_t timeout_ns,
					 ra_child_counts_t *out);

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
 * at the end of this shard's loop pass. Home shard of `self`.
 *
 * Liveness: a pass ends after ra_config_t.pass_runs actor runs or about
 * pass_ns of work, whichever comes first, however busy the shard (an
 * actor that keeps sending to itself included), so the message is
 * submitted to the kernel within one pass after this call: pass_ns plus
 * at most the behavior call running at the deadline (docs/architecture.md,
 * "Liveness"). Nothing preempts a behavior call itself.
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
 * fresh copy for small inline payloads and for the data of an RA_MSG_IO
 * lending a ring buffer (RA_MSG_F_BUF; to keep the buffer itself, see
 * ra_io_buf_claim()). Returns NULL when len is 0, when
 * `msg` is not the message this behavior call received, when an owned
 * buffer was already claimed, or on ENOMEM. Home shard, only within the
 * behavior call that received `msg`.
 */
RA_API void *ra_msg_claim(ra_ctx_t *self, const ra_msg_t *msg);

/* ------------------------------------------------------------------ */
/* Timers (Erlang/OTP send_after, send_interval, cancel_timer)         */
/* ------------------------------------------------------------------ */

/*
 * A timer lives on the home shard of the actor that armed it, in that
 * shard's deadline heap; the shard fires it on its first loop pass at or
 * after the deadline (CLOCK_MONOTONIC, the clock of ra_now_ns()). An
 * idle shard polls up to the nearest deadline, or sleeps until just
 * before it and polls the rest, so a timer is never early and usually a
 * few us late, more when its shard is busy running other actors or the
 * machine is loaded (ra_stats_t.timer_late_ns; docs/results.md). A shard
 * with no timer armed idles exactly as before. A stealable actor's
 * timers move with it. Timers are cancelled when the actor that armed
 * them exits (ra_exit, step 2).
 *
 * A timer reference (tref) is unique in the runtime and never 0; it is
 * only meaningful to the actor that armed the timer.
 */

/*
 * One-shot timer (OTP erlang:send_after/3): after `delay_ns` (0 = on the
 * shard's next loop pass), send `type` (<= RA_MSG_USER_MAX) with `len`
 * bytes at `data` to `to`, from `self`. The payload is copied now, so the
 * caller keeps `data`. `*tref_out` (may be NULL) gets the timer
 * reference. `to` may be self, then ra_cancel_timer() guarantees that a
 * cancelled timer's message never reaches the behavior. A target that is
 * dead at expiry makes the message a dead letter, as ra_send(); nothing
 * is checked about `to` now. Home shard of `self`.
 *
 * Errors: -EINVAL (self NULL, type reserved, data NULL with len > 0),
 * -ENOMEM, -ESHUTDOWN (self is stopping: it called ra_stop/ra_exit, or
 * this is its terminate).
 */
RA_API int ra_send_after(ra_ctx_t *self, ra_ref_t to, uint64_t delay_ns,
			 uint32_t type, const void *data, size_t len,
			 uint64_t *tref_out);

/*
 * Periodic timer (OTP timer:send_interval/3): every `period_ns` (> 0)
 * from now, send the same message (copied once, now) to `to`, from
 * `self`, until ra_cancel_timer() or until `self` exits. Ticks are due
 * at now + k * period_ns, k = 1, 2, ...; they do not pile up: when the
 * shard was busy past one or more due times, one tick is sent late and
 * the missed ones are skipped, so the next is due at the first multiple
 * of the period after the late one fired (no drift, no burst of catch-up
 * ticks). Home shard of `self`.
 *
 * Errors: as ra_send_after(), and -EINVAL for period_ns 0.
 */
RA_API int ra_send_interval(ra_ctx_t *self, ra_ref_t to, uint64_t period_ns,
			    uint32_t type, const void *data, size_t len,
			    uint64_t *tref_out);

/*
 * Cancel timer `tref`, armed by `self`. Returns 0 if it was cancelled
 * before it fired; for a periodic timer, no tick is sent after 0.
 *
 * When the timer's target is `self`, "fired" means "its message reached
 * the behavior": after 0, no message of this timer is delivered to the
 * behavior, even one already queued in the mailbox (it is dropped on
 * receipt, as a DOWN after ra_demonitor()). So for a one-shot to self,
 * 0 means the message is never seen and -ENOENT that it was seen exactly
 * once. For a timer to another actor, a message sent before the cancel
 * is not recalled.
 *
 * Home shard of `self`. Errors: -EINVAL (self NULL, tref 0), -ENOENT
 * (not a live timer of `self`: unknown, an ask reference, a one-shot that
 * already fired, or already cancelled).
 */
RA_API int ra_cancel_timer(ra_ctx_t *self, uint64_t tref);

/* ------------------------------------------------------------------ */
/* Ask and reply (OTP gen_server:call with a timeout)                  */
/* ------------------------------------------------------------------ */

/*
 * Ask: send a request of `type` (<= RA_MSG_USER_MAX; `len` bytes at
 * `data`, copied) to `to` and get the answer later as a message. The
 * receiver sees an ordinary message of `type` whose msg->tag is the ask
 * reference (nonzero only for asks) and answers with ra_reply(), at once
 * or later (keep from and tag). `*aref_out` gets the ask reference,
 * unique in the runtime and never 0.
 *
 * Exactly one of these then arrives to `self`, as a message:
 *   - RA_MSG_REPLY: msg->tag == aref, msg->from the replier, data/len
 *     the reply payload (ra_msg_claim() works on it);
 *   - RA_MSG_TIMEOUT: msg->tag == aref, msg->res == -ETIMEDOUT,
 *     msg->from == `to`, no payload, once `timeout_ns` (> 0) has passed
 *     without a reply being delivered.
 * Whichever of the two the behavior is handed first settles the ask; the
 * other is dropped. A reply that arrives after the timeout was delivered
 * (or a second reply, or one for an aref `self` never had) is dropped
 * and counted in ra_stats_t.late_replies: never delivered, so it cannot
 * pass for the answer to a later ask. An ask still open when `self`
 * exits is cancelled with its timers (ra_exit step 2).
 *
 * Home shard of `self`. Errors: as ra_send() (-ESRCH: `to` is dead or
 * null at send time, counted as a dead letter, and nothing arrives
 * later; -EINVAL: type reserved, data NULL with len > 0; -ENOMEM), plus
 * -EINVAL (self or aref_out NULL, timeout_ns 0) and -ESHUTDOWN (self is
 * stopping). On error no ask is left open.
 */
RA_API int ra_ask(ra_ctx_t *self, ra_ref_t to, uint32_t type,
		  const void *data, size_t len, uint64_t timeout_ns,
		  uint64_t *aref_out);

/*
 * Answer an ask: `request` is the message the behavior received (or a
 * copy of it kept for a later answer: only from and tag are read), which
 * must be an ask: a user type with tag != 0 and from not null. Sends
 * RA_MSG_REPLY with `len` bytes at `data` (copied) to the asker. Home
 * shard of `self`.
 *
 * Errors: -EINVAL (self or request NULL, not an ask, data NULL with
 * len > 0), -ESRCH (the asker is gone: counted as a dead letter),
 * -ENOMEM. A reply that finds the ask no longer open (timed out, already
 * answered) still returns 0 here: it is dropped at the asker and counted
 * in late_replies there, so replying twice is harmless.
 */
RA_API int ra_reply(ra_ctx_t *self, const ra_msg_t *request,
		    const void *data, size_t len);

/*
 * Blocking ask from a non-shard thread (main, tests): send the request
 * (copied) to `to` and wait up to `timeout_ns` (> 0) for the reply. On 0,
 * `*reply_out` gets the reply payload, malloc'd, which the caller frees
 * (NULL when the reply was empty), and `*reply_len` its size; either may
 * be NULL when the payload is not wanted (it is then freed). The request
 * comes from a transient internal actor spawned on `to`'s shard for this
 * call (msg->from is that actor's reference, not null); it asks with the
 * same timeout and stops after the reply or its own timeout. A reply
 * that comes after this call gave up is dropped safely.
 *
 * Any non-shard thread. Errors: -ETIMEDOUT, -ESRCH (`to` is dead;
 * counted as a dead letter), -EINVAL
 * (rt NULL, timeout_ns 0, type reserved, data NULL with len > 0),
 * -ENOMEM, -EDEADLK (called from a shard thread), -ESHUTDOWN (the
 * runtime is being destroyed).
 */
RA_API int ra_runtime_ask(ra_runtime_t *rt, ra_ref_t to, uint32_t type,
			  const void *data, size_t len, uint64_t timeout_ns,
			  void **reply_out, size_t *reply_len);

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

/*
 * Zero-copy sends. With ra_config_t.send_zc_min > 0, ra_io_send() and
 * ra_io_sendmsg() of at least that many bytes go out as
 * IORING_OP_SEND_ZC / IORING_OP_SENDMSG_ZC where the kernel has them
 * (probed at shard start; counted in ra_stats_t.send_zc): the kernel
 * reads the caller's pages instead of copying them. The kernel then
 * posts two CQEs, the send's result and, later, a notification that it
 * no longer reads the pages; the completion message is delivered only
 * after the notification, so "the buffer is lent until the completion"
 * holds unchanged and the caller sees one completion, as for any send.
 * A socket that cannot send without copying (AF_UNIX) is sent to again
 * by copy, invisibly.
 */

/* ---- Socket calls: like the ones above, one completion each ---- */

/*
 * Send the message `m` describes (iovecs gathered into one send; for UDP
 * also msg_name, the destination) on socket `fd`, flags | MSG_NOSIGNAL
 * (a closed peer is -EPIPE, never SIGPIPE). So the replies an actor
 * produced in one turn leave as one SQE per connection. res = bytes
 * sent. `m`, its iovec array, its name and control data and every
 * buffer are lent until the completion. Errors: as ra_io_read, with
 * -EINVAL for fd < 0, m NULL, msg_iovlen > IOV_MAX, msg_iov NULL with
 * msg_iovlen > 0, an iovec with iov_base NULL and iov_len > 0, more than
 * INT32_MAX bytes in all, msg_name NULL with msg_namelen > 0 or
 * msg_control NULL with msg_controllen > 0.
 */
RA_API int ra_io_sendmsg(ra_ctx_t *self, int fd, const struct msghdr *m,
			 int flags, uint64_t tag);

/*
 * Write the `iovcnt` buffers of `iov` to `fd` at offset `off` (a file;
 * (uint64_t)-1 = its current position; sockets and pipes ignore it), as
 * one operation. res = bytes written. `iov` and the buffers are lent
 * until the completion. Errors: as ra_io_read, with -EINVAL for fd < 0,
 * iovcnt < 0 or > IOV_MAX, iov NULL with iovcnt > 0, an iovec with
 * iov_base NULL and iov_len > 0, more than INT32_MAX bytes in all.
 */
RA_API int ra_io_writev(ra_ctx_t *self, int fd, const struct iovec *iov,
			int iovcnt, uint64_t off, uint64_t tag);

/*
 * Receive one message (one datagram for UDP) on `fd` into the buffers of
 * `m`, with `flags` (MSG_*). res = bytes received; the kernel fills
 * m->msg_name/msg_namelen (the sender), msg_control/msg_controllen and
 * msg_flags (MSG_TRUNC: the datagram was longer than the buffers). `m`
 * and all it points to are lent until the completion, and read by the
 * caller after it. Errors: as ra_io_sendmsg().
 */
RA_API int ra_io_recvmsg(ra_ctx_t *self, int fd, struct msghdr *m,
			 int flags, uint64_t tag);

/*
 * Connect socket `fd` to `addr` (`len` bytes). res = 0 or -errno
 * (-ECONNREFUSED, -ETIMEDOUT, ...). `addr` is lent until the completion.
 * Errors: as ra_io_read, with -EINVAL for fd < 0, addr NULL, len 0 or
 * more than sizeof(struct sockaddr_storage).
 */
RA_API int ra_io_connect(ra_ctx_t *self, int fd, const struct sockaddr *addr,
			 socklen_t len, uint64_t tag);

/*
 * Make a socket, as socket(2) with type | SOCK_CLOEXEC. res = the new
 * descriptor, owned by the caller (closed by the runtime if the actor
 * stops before it reads the completion), or -errno. Errors: as
 * ra_io_read, with -EINVAL for self NULL or domain, type or protocol
 * < 0, and -EOPNOTSUPP where the kernel lacks IORING_OP_SOCKET (before
 * Linux 5.19): use socket(2) there.
 */
RA_API int ra_io_socket(ra_ctx_t *self, int domain, int type, int protocol,
			uint64_t tag);

/*
 * Shut down part of a full-duplex connection, as shutdown(2): `how` is
 * SHUT_RD, SHUT_WR or SHUT_RDWR. res = 0 or -errno. Errors: as
 * ra_io_read, with -EINVAL for fd < 0 or another `how`.
 */
RA_API int ra_io_shutdown(ra_ctx_t *self, int fd, int how, uint64_t tag);

/* ---- Multishot requests: one call, many completions ---- */

/*
 * Accept every connection on the listening socket `listen_fd` with one
 * request (one IORING_OP_ACCEPT SQE, multishot, SOCK_CLOEXEC), until
 * cancelled (ra_io_cancel with `tag`, or the actor's stop) or an error
 * it cannot outlive. Completions, in order:
 *
 *   - one per connection: res = the new socket, owned by the actor,
 *     flags RA_MSG_F_MORE;
 *   - res -EMFILE, -ENFILE, -ENOBUFS or -ENOMEM with RA_MSG_F_MORE: no
 *     descriptor or memory now; the connection waits in the listen
 *     backlog and the runtime tries again after a back-off (1 ms,
 *     doubling up to 100 ms, reset by a connection accepted; counted in
 *     ra_stats_t.accept_backoffs), so the listener never stops silently
 *     and never spins. One such completion per failed try;
 *   - res of a failed connection (-ECONNABORTED, -EPROTO, -EPERM and
 *     the other errors accept(2) says to treat like EAGAIN) with
 *     RA_MSG_F_MORE: that peer is gone; the request goes on;
 *   - the end, exactly one, without RA_MSG_F_MORE, never a connection:
 *     -ECANCELED (cancelled), -ENOMEM (a completion found no memory for
 *     its message: that connection was closed; counted in
 *     ra_stats_t.multishot_enomem), -EAGAIN (the kernel refused to take
 *     a new SQE when the request had to be armed again), or the error
 *     that ended it (-EINVAL: not listening, -EBADF, -ENOTSOCK, ...).
 *
 * When the kernel ends the request for a reason the runtime can outlive
 * (a full CQ, the errors above), it submits it again, unseen by the
 * actor (ra_stats_t.multishot_rearms). Sockets of completions the actor
 * never read (it stopped) are closed by the runtime. Home shard of
 * `self`. Errors: as ra_io_read, with -EINVAL for listen_fd < 0 or a
 * deadline armed by ra_io_timeout_next().
 */
RA_API int ra_io_accept_multishot(ra_ctx_t *self, int listen_fd,
				  uint64_t tag);

/*
 * Receive everything that arrives on stream socket `fd` with one
 * request (IORING_OP_RECV, multishot, with buffers of this shard's
 * buffer ring: ra_config_t.buf_ring_entries and buf_size, set up at the
 * shard's first call), until cancelled, the peer closes, or an error.
 * Completions, in order:
 *
 *   - data: res = bytes (> 0, at most buf_size), flags RA_MSG_F_MORE |
 *     RA_MSG_F_BUF, msg->data/msg->len the bytes in a ring buffer LENT
 *     FOR THIS BEHAVIOR CALL: the buffer goes back to the ring when the
 *     behavior returns, unless the behavior takes it with
 *     ra_io_buf_claim() and gives it back later with ra_io_buf_release()
 *     (or its stop does). ra_msg_claim() on such a message returns a
 *     malloc'd copy, as for any small payload. The bytes of successive
 *     completions are the stream, in order;
 *   - the end, exactly one, without RA_MSG_F_MORE and without data: 0
 *     (the peer closed: EOF), -ECANCELED (cancelled), -ENOMEM (a
 *     completion found no memory for its message: that completion's
 *     bytes were LOST and the request ended; counted in
 *     ra_stats_t.multishot_enomem), -EAGAIN (the kernel refused to take
 *     a new SQE when the request had to be armed again), or the error
 *     (-ECONNRESET, ...).
 *
 * When the ring is empty (every buffer lent or claimed), the kernel
 * stops the request with -ENOBUFS. The actor never sees that: the bytes
 * wait in the socket, the request pauses (counted in
 * ra_stats_t.recv_enobufs) and is armed again as soon as a buffer comes
 * back (a behavior returns one, or ra_io_buf_release()), and the stream
 * goes on where it stopped, nothing lost or reordered. An actor that
 * keeps every buffer claimed so stalls every multishot recv of its
 * shard until it releases some.
 *
 * An actor holding ring buffers (in its mailbox or claimed) is not moved
 * by work stealing. Home shard of `self`. Errors: as ra_io_read, with
 * -EINVAL for fd < 0 or a deadline armed by ra_io_timeout_next();
 * -ENOMEM or the kernel's -errno when the shard's buffer ring cannot be
 * set up (-EINVAL before Linux 5.19).
 */
RA_API int ra_io_recv_multishot(ra_ctx_t *self, int fd, uint64_t tag);

/*
 * Take the ring buffer that `msg` (the message this behavior call is
 * handling, RA_MSG_F_BUF) lends: the runtime will not put it back when
 * the behavior returns. Returns its address (msg->data; the buffer is
 * buf_size bytes, msg->len of them data), or NULL when `msg` holds no
 * ring buffer, is not the current message, or was claimed already. The
 * actor gives it back with ra_io_buf_release(); its stop gives back the
 * ones it still holds (after terminate, which may still read them).
 * Home shard, within the behavior call that received `msg`.
 */
RA_API void *ra_io_buf_claim(ra_ctx_t *self, const ra_msg_t *msg);

/*
 * Give back a buffer this actor claimed with ra_io_buf_claim(): it
 * returns to the shard's ring (and paused multishot recvs go on). Home
 * shard. Returns 0, or -EINVAL (self NULL, or `buf` is not the start of
 * a buffer of this shard's ring that this actor claimed and has not
 * released).
 */
RA_API int ra_io_buf_release(ra_ctx_t *self, void *buf);

/* ---- Cancellation and deadlines ---- */

/*
 * Cancel every pending operation of this actor whose tag is `tag`
 * (IORING_OP_ASYNC_CANCEL). Each still completes exactly once: with
 * -ECANCELED, or with its real result if it finished first (a
 * multishot request with the end its rules give; a zero-copy send
 * already sent completes with its result once the kernel lets go of
 * the buffer). Home shard. Returns 0 (at least one was pending),
 * -ENOENT (none with that tag is pending), -EINVAL (self NULL), -EAGAIN
 * (the kernel refused to take queued SQEs; those not reached keep
 * running; call again).
 */
RA_API int ra_io_cancel(ra_ctx_t *self, uint64_t tag);

/*
 * Give the next single-shot operation this actor starts, in this
 * callback, a deadline `timeout_ns` from its submission (relative ns; 0
 * disarms). The runtime links an IORING_OP_LINK_TIMEOUT to its SQE; if
 * the operation has not completed when it expires, the kernel cancels
 * it and its one completion carries -ECANCELED (the timeout's own CQE,
 * -ETIME, is the runtime's). An operation the kernel can no longer stop
 * (a regular file's read already under way) completes with its real
 * result. The deadline is taken by the first call among ra_io_read,
 * _write, _fsync, _accept, _recv, _send, _close, _sendmsg, _writev,
 * _recvmsg, _connect, _socket and _shutdown that returns 0; a call that
 * fails leaves it armed; the multishot calls refuse with -EINVAL while
 * one is armed; one that no call took is dropped when the callback
 * returns. Home shard. Returns 0 or -EINVAL (self NULL).
 */
RA_API int ra_io_timeout_next(ra_ctx_t *self, uint64_t timeout_ns);

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
	/*
	 * Bytes ra_stats_snapshot() filled: sizeof(ra_stats_t) as the
	 * caller was compiled with, or less when this library is older.
	 * Fields are only ever added at the end.
	 */
	size_t size;
	uint64_t actors_spawned;
	uint64_t actors_stopped;
	uint64_t actors_live;
	uint64_t msgs_local;	  /* sends to an actor on the sender's shard */
	uint64_t msgs_remote;	  /* sends that crossed shards */
	uint64_t msgs_delivered;  /* behavior calls, I/O completions excepted:
				     user messages, timer ticks, EXIT, DOWN,
				     REPLY and TIMEOUT */
	uint64_t dead_letters;	  /* sends refused with -ESRCH (from shards or
				     not) + lost in flight */
	uint64_t msgring_batches; /* IORING_OP_MSG_RING SQEs for messages */
	uint64_t msgring_retries; /* batches re-sent after a failed msg_ring */
	uint64_t io_submitted;
	uint64_t io_completed;
	uint64_t io_cancelled;	  /* cancellations issued: at actor stop and
				     by ra_io_cancel() */
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
	 * or one it sent had not yet left the victim's shard for good,
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
	 * late_replies: ask replies dropped at the asker because the ask was
	 * no longer open (timed out, answered, or unknown). timers_fired:
	 * timer expiries, each tick of a periodic timer and each ask timeout
	 * counted once.
	 */
	uint64_t late_replies;
	uint64_t timers_fired;
	/*
	 * Merged over all shards; owned by the snapshot and freed by
	 * ra_stats_fini(). Values in ns. mailbox_wait_ns: start of the
	 * sending behavior call to start of the receiving one; run_ns: one
	 * behavior call; both for the sampled messages only (see
	 * ra_config_t.timing_sample). io_ns[op]: submit to completion,
	 * every single-shot operation, the newer calls under the nearest
	 * op (ra_io_sendmsg as RA_IO_SEND, ra_io_writev as RA_IO_WRITE,
	 * ra_io_recvmsg as RA_IO_RECV); multishot requests, ra_io_connect,
	 * ra_io_socket and ra_io_shutdown are not recorded. timer_late_ns:
	 * every timer expiry (ticks and ask timeouts), the shard's fire
	 * time minus the deadline; the message
	 * reaches the behavior after that, once its turn comes.
	 */
	ra_hdr_t *mailbox_wait_ns;
	ra_hdr_t *run_ns;
	ra_hdr_t *io_ns[RA_IO_NOPS];
	ra_hdr_t *timer_late_ns;
	/*
	 * Network I/O (ra_io_accept_multishot() and the calls after it).
	 * multishot_rearms: new SQEs the runtime submitted for a multishot
	 * request the kernel had ended (a full CQ, a connection error, after
	 * a back-off or once buffers came back). recv_enobufs: multishot
	 * recvs that found the shard's buffer ring empty and paused until a
	 * buffer came back. accept_backoffs: multishot accepts that failed
	 * for lack of a descriptor or memory (EMFILE, ENFILE, ENOBUFS,
	 * ENOMEM) and waited before trying again. send_zc: sends submitted
	 * as IORING_OP_SEND_ZC or IORING_OP_SENDMSG_ZC (ra_config_t
	 * send_zc_min). multishot_enomem: multishot requests ended with
	 * -ENOMEM because a completion found no envelope (its data lost, its
	 * connection closed).
	 */
	uint64_t multishot_rearms;
	uint64_t recv_enobufs;
	uint64_t accept_backoffs;
	uint64_t send_zc;
	uint64_t multishot_enomem;
} ra_stats_t;

/*
 * Fill `*out` (caller storage) with counters summed over shards and merged
 * histograms. Any thread; the figures are a consistent-enough sum of
 * per-shard single-writer counters read while the shards run. Release
 * with ra_stats_fini(). A macro, so that the size is the caller's: it
 * calls ra_stats_snapshot_size(rt, out, sizeof(*out)), which fills the
 * first `size` bytes (at most sizeof(ra_stats_t) of this library) and
 * sets out->size to the bytes it filled; a program built against an older
 * ringactor.h so gets the fields it knows. Errors: -EINVAL (rt or out
 * NULL, size smaller than the first version of ra_stats_t), -ENOMEM
 * (nothing to free).
 */
#define ra_stats_snapshot(rt, out) \
	ra_stats_snapshot_size((rt), (out), sizeof(*(out)))
RA_API int ra_stats_snapshot_size(ra_runtime_t *rt, ra_stats_t *out,
				  size_t size);
/*
 * Free a snapshot's histograms and zero it. `st` NULL, zeroed, or left by
 * a failed ra_stats_snapshot() is a no-op.
 */
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
