/*
 * t/io_file.c: file I/O as messages. Each file actor writes a 64 KiB
 * pattern at offset 0 and a second chunk at 1 MiB (both in flight at
 * once), fsyncs, then has ten reads in flight together (a pipe's read
 * end, both ranges whole, the first range in four pieces, the hole
 * between them, EOF and an fd number that is not open), checks every
 * completion's res, tag and bytes, and closes the file. The pipe read is
 * issued first and can only complete last: the actor writes its byte
 * once every file read has completed, so completions must come out of
 * issue order, and are counted so. Bad arguments fail synchronously.
 * Runs with one shard and with two shards (one file actor on each).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"

#define MAX_ACTORS	2
#define RANGE0_LEN	(64 * 1024)
#define RANGE1_OFF	(1024 * 1024)
#define RANGE1_LEN	12345		/* odd on purpose */
#define PIECES		4
#define PIECE_LEN	(RANGE0_LEN / PIECES)
#define HOLE_OFF	(512 * 1024)
#define HOLE_LEN	4096
#define SMALL_LEN	64
#define BAD_FD		1000		/* checked unused at start */
#define FILE_SIZE	(RANGE1_OFF + RANGE1_LEN)
#define POISON		0xee
#define TAG_MAGIC	0xabcd000000000000ull

/* One tag per operation; the tag carries the actor index as well. */
enum op {
	OP_W0, OP_W1, OP_FSYNC,
	OP_LATE, OP_R0, OP_R1, OP_P0, OP_P1, OP_P2, OP_P3, OP_HOLE, OP_EOF,
	OP_BADF,
	OP_CLOSE,
	NOPS
};
#define FIRST_READ	OP_LATE
#define NREADS		(OP_BADF - FIRST_READ + 1)
#define LATE_BYTE	0x4c	/* the pipe's one byte */

/* Synchronous argument checks made from init. */
enum sync_check {
	SC_READ_FD, SC_WRITE_NULL, SC_READ_NULL, SC_RECV_NULL, SC_SEND_NULL,
	SC_READ_HUGE, SC_FSYNC_FD, SC_CLOSE_FD, SC_ACCEPT_FD, SC_BADF_SUBMIT,
	NSYNC
};

static const char *const sync_names[NSYNC] = {
	"read fd -1", "write NULL buf len 16", "read NULL buf len 16",
	"recv NULL buf len 16", "send NULL buf len 16",
	"read len INT32_MAX + 1", "fsync fd -1", "close fd -1",
	"accept fd -1", "read from unused fd 1000 (submit)",
};

struct result {
	atomic_int res[NOPS];		/* CQE res, INT_MIN until then */
	atomic_int count[NOPS];		/* completions per tag (1) */
	atomic_int data_ok[NOPS];	/* bytes compared equal */
	atomic_int sync[NSYNC];		/* synchronous returns */
	atomic_int pending_after_sync;	/* ra_io_pending() then */
	atomic_int max_pending;		/* most requests in flight */
	atomic_int bogus;		/* unknown tags, odd messages */
	atomic_int out_of_order;	/* reads that overtook others */
	atomic_int last_read;		/* the op that completed last */
	atomic_int fd_closed;		/* fcntl() EBADF after close */
	atomic_int terms;
	atomic_int term_reason;
	atomic_int shard;
};

static struct result results[MAX_ACTORS];
static char paths[MAX_ACTORS][64];

struct file_state {
	int idx;
	int fd;
	int pipe[2];			/* OP_LATE reads pipe[0] */
	bool late_written;
	unsigned outstanding;		/* completions due this phase */
	unsigned next_read;		/* for the out-of-order count */
	uint8_t *w0, *w1;		/* written patterns */
	uint8_t *r0, *r1, *piece[PIECES], *hole;
	uint8_t eof[SMALL_LEN], badf[SMALL_LEN], late[SMALL_LEN];
};

static uint64_t mktag(int idx, enum op op)
{
	return TAG_MAGIC | ((uint64_t)idx << 16) | (uint64_t)op;
}

/* A pattern that differs per actor and per range and never repeats soon. */
static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void note_pending(ra_ctx_t *self, struct result *r)
{
	int n = (int)ra_io_pending(self);

	if (n > atomic_load(&r->max_pending))
		atomic_store(&r->max_pending, n);
}

static int file_init(ra_ctx_t *self, void *state, void *arg)
{
	struct file_state *st = state;
	struct result *r;
	uint8_t small[16] = { 0 };
	int ret;

	st->idx = (int)(intptr_t)arg;
	st->pipe[0] = st->pipe[1] = -1;
	r = &results[st->idx];
	atomic_store(&r->shard, (int)ra_shard_id(self));
	st->fd = open(paths[st->idx], O_RDWR | O_CLOEXEC);
	if (st->fd < 0)
		return -errno;
	if (pipe2(st->pipe, O_CLOEXEC) < 0)
		return -errno;

	atomic_store(&r->sync[SC_READ_FD],
		     ra_io_read(self, -1, small, sizeof(small), 0, 1));
	atomic_store(&r->sync[SC_WRITE_NULL],
		     ra_io_write(self, st->fd, NULL, 16, 0, 2));
	atomic_store(&r->sync[SC_READ_NULL],
		     ra_io_read(self, st->fd, NULL, 16, 0, 3));
	atomic_store(&r->sync[SC_RECV_NULL],
		     ra_io_recv(self, st->fd, NULL, 16, 4));
	atomic_store(&r->sync[SC_SEND_NULL],
		     ra_io_send(self, st->fd, NULL, 16, 5));
	atomic_store(&r->sync[SC_READ_HUGE],
		     ra_io_read(self, st->fd, small, (size_t)INT32_MAX + 1, 0,
				6));
	atomic_store(&r->sync[SC_FSYNC_FD], ra_io_fsync(self, -1, 7));
	atomic_store(&r->sync[SC_CLOSE_FD], ra_io_close(self, -1, 8));
	atomic_store(&r->sync[SC_ACCEPT_FD], ra_io_accept(self, -1, 9));
	atomic_store(&r->pending_after_sync, (int)ra_io_pending(self));

	st->w0 = malloc(RANGE0_LEN);
	st->w1 = malloc(RANGE1_LEN);
	st->r0 = malloc(RANGE0_LEN);
	st->r1 = malloc(RANGE1_LEN);
	st->hole = malloc(HOLE_LEN);
	for (int i = 0; i < PIECES; i++)
		st->piece[i] = malloc(PIECE_LEN);
	/* terminate frees whatever was allocated */
	if (!st->w0 || !st->w1 || !st->r0 || !st->r1 || !st->hole ||
	    !st->piece[0] || !st->piece[1] || !st->piece[2] ||
	    !st->piece[3])
		return -ENOMEM;
	fill(st->w0, RANGE0_LEN, 1000u + (unsigned)st->idx);
	fill(st->w1, RANGE1_LEN, 2000u + (unsigned)st->idx);

	/* Both writes in flight at once. */
	ret = ra_io_write(self, st->fd, st->w0, RANGE0_LEN, 0,
			  mktag(st->idx, OP_W0));
	if (ret == 0)
		ret = ra_io_write(self, st->fd, st->w1, RANGE1_LEN, RANGE1_OFF,
				  mktag(st->idx, OP_W1));
	if (ret < 0)
		return ret;
	st->outstanding = 2;
	note_pending(self, r);
	return 0;
}

static int issue_reads(ra_ctx_t *self, struct file_state *st)
{
	struct result *r = &results[st->idx];
	int fd = st->fd, idx = st->idx;
	int ret;

	/* Poison every target so a read that copied nothing shows. */
	memset(st->r0, POISON, RANGE0_LEN);
	memset(st->r1, POISON, RANGE1_LEN);
	memset(st->hole, POISON, HOLE_LEN);
	memset(st->eof, POISON, SMALL_LEN);
	memset(st->badf, POISON, SMALL_LEN);
	memset(st->late, POISON, SMALL_LEN);
	for (int i = 0; i < PIECES; i++)
		memset(st->piece[i], POISON, PIECE_LEN);

	/* First issued, last to complete: its byte comes after the rest. */
	ret = ra_io_read(self, st->pipe[0], st->late, SMALL_LEN, 0,
			 mktag(idx, OP_LATE));
	if (ret == 0)
		ret = ra_io_read(self, fd, st->r0, RANGE0_LEN, 0,
				 mktag(idx, OP_R0));
	if (ret == 0)
		ret = ra_io_read(self, fd, st->r1, RANGE1_LEN, RANGE1_OFF,
				 mktag(idx, OP_R1));
	/* The pieces go last to first, so order-keeping would show. */
	for (int i = PIECES - 1; i >= 0 && ret == 0; i--)
		ret = ra_io_read(self, fd, st->piece[i], PIECE_LEN,
				 (uint64_t)i * PIECE_LEN,
				 mktag(idx, (enum op)(OP_P0 + i)));
	if (ret == 0)
		ret = ra_io_read(self, fd, st->hole, HOLE_LEN, HOLE_OFF,
				 mktag(idx, OP_HOLE));
	if (ret == 0)
		ret = ra_io_read(self, fd, st->eof, SMALL_LEN, FILE_SIZE,
				 mktag(idx, OP_EOF));
	if (ret < 0)
		return ret;
	ret = ra_io_read(self, BAD_FD, st->badf, SMALL_LEN, 0,
			 mktag(idx, OP_BADF));
	atomic_store(&r->sync[SC_BADF_SUBMIT], ret);
	if (ret < 0)
		return ret;
	st->outstanding = NREADS;
	note_pending(self, r);
	return 0;
}

/* Did the completion of `op` bring the right bytes? */
static int check_data(struct file_state *st, enum op op, int res)
{
	switch (op) {
	case OP_R0:
		return res == RANGE0_LEN && !memcmp(st->r0, st->w0, RANGE0_LEN);
	case OP_R1:
		return res == RANGE1_LEN && !memcmp(st->r1, st->w1, RANGE1_LEN);
	case OP_P0:
	case OP_P1:
	case OP_P2:
	case OP_P3: {
		int i = op - OP_P0;

		return res == PIECE_LEN &&
		       !memcmp(st->piece[i], st->w0 + i * PIECE_LEN,
			       PIECE_LEN);
	}
	case OP_HOLE:
		return res == HOLE_LEN && all_bytes(st->hole, HOLE_LEN, 0);
	case OP_EOF:
		return res == 0 && all_bytes(st->eof, SMALL_LEN, POISON);
	case OP_BADF:
		return all_bytes(st->badf, SMALL_LEN, POISON);
	case OP_LATE:
		return res == 1 && st->late[0] == LATE_BYTE &&
		       all_bytes(st->late + 1, SMALL_LEN - 1, POISON);
	default:
		return 1;	/* writes: the reads and main's pread check */
	}
}

static int file_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct file_state *st = state;
	struct result *r = &results[st->idx];
	enum op op;

	if (msg->type != RA_MSG_IO || msg->len != 0 || msg->data ||
	    !ra_ref_is_null(msg->from) ||
	    (msg->tag & ~0xffffffffull) != TAG_MAGIC ||
	    ((msg->tag >> 16) & 0xffff) != (uint64_t)st->idx ||
	    (msg->tag & 0xffff) >= NOPS) {
		atomic_fetch_add(&r->bogus, 1);
		return -EPROTO;
	}
	op = (enum op)(msg->tag & 0xffff);
	atomic_store(&r->res[op], msg->res);
	atomic_fetch_add(&r->count[op], 1);
	atomic_store(&r->data_ok[op], check_data(st, op, msg->res));
	if (op >= FIRST_READ && op <= OP_BADF) {
		/* Reads were issued LATE, R0, R1, P3..P0, HOLE, EOF, BADF. */
		static const enum op issue_order[NREADS] = {
			OP_LATE, OP_R0, OP_R1, OP_P3, OP_P2, OP_P1, OP_P0,
			OP_HOLE, OP_EOF, OP_BADF,
		};

		if (st->next_read < NREADS &&
		    issue_order[st->next_read] != op)
			atomic_fetch_add(&r->out_of_order, 1);
		st->next_read++;
		atomic_store(&r->last_read, op);
	}
	if (st->outstanding == 0) {
		atomic_fetch_add(&r->bogus, 1);
		return -EPROTO;
	}
	if (--st->outstanding) {
		/* Only the pipe read is left: give it its byte now. */
		if (st->outstanding == 1 && op >= FIRST_READ &&
		    op <= OP_BADF && op != OP_LATE && !st->late_written) {
			uint8_t b = LATE_BYTE;

			st->late_written = true;
			if (write(st->pipe[1], &b, 1) != 1)
				return -errno;
		}
		return 0;
	}

	switch (op) {
	case OP_W0:
	case OP_W1:
		st->outstanding = 1;
		return ra_io_fsync(self, st->fd, mktag(st->idx, OP_FSYNC));
	case OP_FSYNC:
		return issue_reads(self, st);
	case OP_CLOSE:
		errno = 0;
		atomic_store(&r->fd_closed,
			     fcntl(st->fd, F_GETFD) == -1 && errno == EBADF);
		st->fd = -1;
		ra_stop(self, 0);
		return 0;
	default:	/* the last of the reads */
		st->outstanding = 1;
		return ra_io_close(self, st->fd, mktag(st->idx, OP_CLOSE));
	}
}

static void file_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct file_state *st = state;
	struct result *r = &results[st->idx];

	(void)self;
	if (st->fd >= 0)
		close(st->fd);
	for (int i = 0; i < 2; i++)
		if (st->pipe[i] >= 0)
			close(st->pipe[i]);
	free(st->w0);
	free(st->w1);
	free(st->r0);
	free(st->r1);
	free(st->hole);
	for (int i = 0; i < PIECES; i++)
		free(st->piece[i]);
	atomic_store(&r->term_reason, reason);
	atomic_fetch_add(&r->terms, 1);
}

static const ra_actor_def_t file_def = {
	.name = "file",
	.state_size = sizeof(struct file_state),
	.init = file_init,
	.behavior = file_behavior,
	.terminate = file_terminate,
};

static void reset_results(void)
{
	memset(results, 0, sizeof(results));
	for (int i = 0; i < MAX_ACTORS; i++)
		for (int op = 0; op < NOPS; op++)
			atomic_store(&results[i].res[op], INT_MIN);
}

static int make_file(int i)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(paths[i], sizeof(paths[i]), "%s/ra_io_file.XXXXXX", dir);
	fd = mkstemp(paths[i]);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The file as the kernel has it: size and both ranges, via pread. */
static int file_matches(int i)
{
	uint8_t *want = malloc(RANGE0_LEN), *got = malloc(RANGE0_LEN);
	struct stat sb;
	int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
	int good = 0;

	if (fd >= 0 && want && got && fstat(fd, &sb) == 0 &&
	    sb.st_size == FILE_SIZE) {
		fill(want, RANGE0_LEN, 1000u + (unsigned)i);
		good = pread(fd, got, RANGE0_LEN, 0) == RANGE0_LEN &&
		       !memcmp(got, want, RANGE0_LEN);
		fill(want, RANGE1_LEN, 2000u + (unsigned)i);
		good = good &&
		       pread(fd, got, RANGE1_LEN, RANGE1_OFF) == RANGE1_LEN &&
		       !memcmp(got, want, RANGE1_LEN);
	}
	if (fd >= 0)
		close(fd);
	free(want);
	free(got);
	return good;
}

#define TESTS_PER_ACTOR	(NSYNC + 1 + 2 * NOPS + NREADS + 8)
#define TESTS_PER_RUN	8

static void check_actor(int i, const char *what)
{
	static const char *const op_names[NOPS] = {
		"write 64 KiB at 0", "write 12345 B at 1 MiB", "fsync",
		"read a pipe", "read 64 KiB at 0", "read 12345 B at 1 MiB",
		"read piece 0", "read piece 1", "read piece 2", "read piece 3",
		"read 4 KiB hole", "read at EOF", "read unused fd",
		"close",
	};
	static const int want_res[NOPS] = {
		RANGE0_LEN, RANGE1_LEN, 0,
		1, RANGE0_LEN, RANGE1_LEN, PIECE_LEN, PIECE_LEN, PIECE_LEN,
		PIECE_LEN, HOLE_LEN, 0, -EBADF,
		0,
	};
	struct result *r = &results[i];

	for (int c = 0; c < NSYNC; c++)
		is_int(atomic_load(&r->sync[c]),
		       c == SC_BADF_SUBMIT ? 0 : -EINVAL,
		       "%s actor %d: %s returns %s synchronously", what, i,
		       sync_names[c], c == SC_BADF_SUBMIT ? "0" : "-EINVAL");
	is_int(atomic_load(&r->pending_after_sync), 0,
	       "%s actor %d: refused calls left nothing pending", what, i);
	for (int op = 0; op < NOPS; op++) {
		is_int(atomic_load(&r->count[op]), 1,
		       "%s actor %d: %s: exactly one completion", what, i,
		       op_names[op]);
		is_int(atomic_load(&r->res[op]), want_res[op],
		       "%s actor %d: %s: res", what, i, op_names[op]);
		if (op >= FIRST_READ && op <= OP_BADF)
			ok(atomic_load(&r->data_ok[op]),
			   "%s actor %d: %s: bytes as expected", what, i,
			   op_names[op]);
	}
	is_int(atomic_load(&r->bogus), 0,
	       "%s actor %d: no stray or malformed I/O message", what, i);
	ok(atomic_load(&r->max_pending) >= NREADS,
	   "%s actor %d: %d reads in flight at once (max pending %d)", what,
	   i, NREADS, atomic_load(&r->max_pending));
	ok(atomic_load(&r->out_of_order) > 0 &&
	   atomic_load(&r->last_read) == OP_LATE,
	   "%s actor %d: completions out of issue order (%d of %d reads), "
	   "the pipe read issued first came last", what, i,
	   atomic_load(&r->out_of_order), NREADS);
	ok(atomic_load(&r->fd_closed), "%s actor %d: ra_io_close closed it",
	   what, i);
	is_int(atomic_load(&r->terms), 1, "%s actor %d: terminate ran once",
	       what, i);
	is_int(atomic_load(&r->term_reason), 0,
	       "%s actor %d: normal stop reason", what, i);
	is_int(atomic_load(&r->shard), i, "%s actor %d: ran on shard %d",
	       what, i, i);
	ok(file_matches(i), "%s actor %d: file on disk holds both ranges",
	   what, i);
}

static void run(unsigned nshards)
{
	char what[32];
	ra_config_t cfg;
	ra_runtime_t *rt;
	ra_stats_t st;
	int spawn_fail = 0;

	snprintf(what, sizeof(what), "%u shard%s", nshards,
		 nshards > 1 ? "s" : "");
	reset_results();
	for (unsigned i = 0; i < nshards; i++)
		if (make_file((int)i) < 0)
			bail_out("mkstemp failed");
	ra_config_init(&cfg);
	cfg.shards = nshards;
	if (ra_runtime_create(&cfg, &rt) != 0)
		bail_out(ra_last_error());
	for (unsigned i = 0; i < nshards; i++) {
		ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = i };

		if (ra_runtime_spawn(rt, &file_def, (void *)(intptr_t)i, &o,
				     NULL) != 0)
			spawn_fail++;
	}
	is_int(spawn_fail, 0, "%s: spawned %u file actor(s)", what, nshards);
	is_int(ra_runtime_wait_idle(rt, 20ull * 1000000000), 0,
	       "%s: every file actor finished", what);
	for (unsigned i = 0; i < nshards; i++)
		check_actor((int)i, what);
	if (ra_stats_snapshot(rt, &st) != 0)
		bail_out("ra_stats_snapshot failed");
	is_int(st.io_submitted, NOPS * nshards,
	       "%s: io_submitted counts the accepted calls only", what);
	is_int(st.io_completed, st.io_submitted,
	       "%s: io_completed == io_submitted", what);
	is_int(st.io_cancelled, 0, "%s: nothing cancelled", what);
	is_int(ra_hdr_total_count(st.io_ns[RA_IO_READ]), NREADS * nshards,
	       "%s: io_ns[READ] counted every read", what);
	ok(ra_hdr_total_count(st.io_ns[RA_IO_WRITE]) == 2 * nshards &&
	   ra_hdr_total_count(st.io_ns[RA_IO_FSYNC]) == nshards &&
	   ra_hdr_total_count(st.io_ns[RA_IO_CLOSE]) == nshards &&
	   ra_hdr_total_count(st.io_ns[RA_IO_RECV]) == 0,
	   "%s: write/fsync/close histograms counted, recv none", what);
	ra_stats_fini(&st);
	is_int(ra_runtime_destroy(rt), 0, "%s: destroy", what);
	for (unsigned i = 0; i < nshards; i++)
		unlink(paths[i]);
}

int main(void)
{
	tap_timeout(30);
	errno = 0;
	if (fcntl(BAD_FD, F_GETFD) != -1 || errno != EBADF)
		bail_out("fd 1000 is open; the bad-fd case needs it unused");
	plan(TESTS_PER_RUN * 2 + TESTS_PER_ACTOR * 3);
	run(1);
	run(2);
	return exit_status();
}
