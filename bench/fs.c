/*
 * fs: 4 KiB file reads through ra_io_read(), against raw io_uring and a
 * pread(2) loop measured in the same run.
 *
 * The file is 16 MiB under $TMPDIR (or /tmp), filled with a pattern in
 * which every 8-byte word is a hash of its own offset, fsync'd, read once
 * to check it, and unlinked at once (it goes when the program exits, even
 * on a crash). It stays in the page cache: these rows measure the cost of
 * the read path (syscalls, io_uring, the runtime's messages), not a disk.
 *
 * Rows:
 *   fs_read_rtt_4k              256 reads at depth 1 per batch
 *   fs_read_throughput_4k_qd32  4096 reads, 32 in flight, per batch
 * Each read is at a pseudo-random 4 KiB-aligned offset; the floors and
 * the runtime read the same offsets (a seed per batch). Every read is
 * checked: 4096 bytes, first word the hash of its offset, and the sum of
 * its words equal to the block's sum computed when the file was written.
 * A mismatch stops the program with exit status 1.
 *
 * ringactor: one reader actor on shard 0 of a 1-shard runtime. Main sends
 * it START and sleeps on an eventfd; the reader keeps `depth` reads in
 * flight (the tag is the slot), times each read from ra_io_read() to its
 * RA_MSG_IO completion and the batch from START to the last completion,
 * then writes the eventfd.
 *
 * Floors, each a plain thread pinned to the shard's CPU: raw io_uring
 * with its own ring (SINGLE_ISSUER when the kernel has it, registered
 * ring fd, like the runtime's), keeping `depth` reads in flight with
 * io_uring_submit_and_wait(); and a pread(2) loop (depth 1 by nature).
 * The io_uring floor is the ratio's denominator; pread is printed beside.
 * Floors and runtime alternate in rounds (bench.h), the runtime living
 * through all of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define FS_SHARDS	1
#define FS_BLOCK	4096u
#define FS_FILE_SIZE	(16u << 20)
#define FS_NBLOCKS	(FS_FILE_SIZE / FS_BLOCK)
#define FS_MAX_DEPTH	64
#define FS_FILL_CHUNK	(1u << 20)
#define FS_FLOOR_RING	128u
#define FS_WAIT_MS	60000	/* a batch that takes longer is hung */
/*
 * Targets: ringactor / io_uring floor batch time at most; floor /
 * ringactor batch time (the throughput ratio) at least.
 */
#define FS_TARGET_RTT_RATIO	1.5
#define FS_TARGET_TPUT		0.9

/* The rows of this program. */
struct fs_row {
	const char *name;
	int ops;		/* reads per batch (unless --ops) */
	int depth;		/* reads in flight */
	bool throughput;	/* judged by throughput, not latency */
};

static const struct fs_row fs_rows[] = {
	{ "fs_read_rtt_4k", 256, 1, false },
	{ "fs_read_throughput_4k_qd32", 4096, 32, true },
};

#define FS_NROWS (sizeof(fs_rows) / sizeof(fs_rows[0]))

/* ------------------------------------------------------------------ */
/* The file and its pattern                                            */
/* ------------------------------------------------------------------ */

struct fs_file {
	int fd;
	uint64_t *sums;		/* [FS_NBLOCKS] each block's word sum */
	char path[PATH_MAX];	/* where it was (unlinked once written) */
};

/* splitmix64's finalizer: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* The 8-byte word at byte offset `off` of the file. */
static uint64_t fs_word(uint64_t off)
{
	return mix64(off ^ 0x6a09e667f3bcc909ull);
}

/* Sum of the 512 words of a block (the compiler vectorizes it). */
static uint64_t fs_block_sum(const void *buf)
{
	const uint64_t *w = buf;
	uint64_t s = 0;

	for (unsigned i = 0; i < FS_BLOCK / 8; i++)
		s += w[i];
	return s;
}

/* Whether a read of the block at `off` returned `res` and the right data. */
static bool fs_check(const struct fs_file *f, const void *buf, uint64_t off,
		     int res)
{
	const uint64_t *w = buf;

	return res == (int)FS_BLOCK && w[0] == fs_word(off) &&
	       fs_block_sum(buf) == f->sums[off / FS_BLOCK];
}

static int write_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Create, fill, fsync, unlink, then read back and check the whole file,
 * which leaves it in the page cache.
 */
static int fs_file_create(struct fs_file *f)
{
	const char *dir = getenv("TMPDIR");
	uint64_t *buf;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(f->path, sizeof(f->path), "%s/ringactor-bench-fs-XXXXXX",
		 dir);
	f->sums = calloc(FS_NBLOCKS, sizeof(*f->sums));
	buf = aligned_alloc(FS_BLOCK, FS_FILL_CHUNK);
	if (!f->sums || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	f->fd = mkostemp(f->path, O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		fprintf(stderr, "fs: cannot create %s: %s\n", f->path,
			strerror(-ret));
		goto out;
	}
	for (uint64_t base = 0; base < FS_FILE_SIZE; base += FS_FILL_CHUNK) {
		for (uint64_t i = 0; i < FS_FILL_CHUNK / 8; i++)
			buf[i] = fs_word(base + i * 8);
		for (uint64_t b = 0; b < FS_FILL_CHUNK / FS_BLOCK; b++)
			f->sums[(base / FS_BLOCK) + b] =
				fs_block_sum(buf + b * (FS_BLOCK / 8));
		ret = write_all(f->fd, (const uint8_t *)buf, FS_FILL_CHUNK,
				base);
		if (ret)
			break;
	}
	if (!ret && fsync(f->fd) != 0)
		ret = -errno;
	/* Gone from the namespace now; the space goes when we exit. */
	unlink(f->path);
	if (ret) {
		fprintf(stderr, "fs: writing %s: %s\n", f->path,
			strerror(-ret));
		goto out;
	}
	for (uint64_t off = 0; off < FS_FILE_SIZE; off += FS_BLOCK) {
		ssize_t n = pread(f->fd, buf, FS_BLOCK, (off_t)off);

		if (!fs_check(f, buf, off, (int)n)) {
			fprintf(stderr, "fs: %s reads back wrong at %" PRIu64
				"\n", f->path, off);
			ret = -EIO;
			break;
		}
	}
out:
	free(buf);
	if (ret) {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		free(f->sums);
		f->sums = NULL;
	}
	return ret;
}

static void fs_file_close(struct fs_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->sums);
	f->fd = -1;
	f->sums = NULL;
}

/* ------------------------------------------------------------------ */
/* Offsets: the same pseudo-random sequence for floors and runtime      */
/* ------------------------------------------------------------------ */

/* The seed of batch `index` of round `round` of row `row`. */
static uint64_t fs_seed(int row, int round, int index)
{
	return mix64(((uint64_t)row << 48) ^ ((uint64_t)round << 32) ^
		     (uint64_t)index) | 1;
}

/* xorshift64*: the next 4 KiB-aligned offset in the file. */
static uint64_t fs_next_off(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return ((x * 0x2545f4914f6cdd1dull) >> 32) % FS_NBLOCKS * FS_BLOCK;
}

/* ------------------------------------------------------------------ */
/* ringactor: the reader actor                                          */
/* ------------------------------------------------------------------ */

enum fs_type {
	FS_START = 1,		/* main -> reader: struct fs_start */
};

struct fs_start {
	uint32_t ops;		/* reads in this batch */
	uint32_t depth;		/* reads in flight */
	uint32_t record;	/* record each read in the histogram */
	uint64_t seed;		/* of the offset sequence */
};

/*
 * What main and the reader share. Main sets per_op between batches
 * (before its ra_runtime_send, whose mutex orders it); the reader writes
 * batch_ns, err and the counters, then writes the eventfd; main reads
 * them after its read(2) of the eventfd returns.
 */
struct fs_shared {
	int efd;			/* main waits on it */
	const struct fs_file *file;
	ra_hdr_t *per_op;		/* read latency, ns */
	_Atomic uint64_t batch_ns;	/* last batch's wall time */
	int err;			/* first error seen by the reader */
	uint64_t bad_off;		/* offset of the read that failed */
	uint64_t bytes;			/* read and checked, in all */
};

struct fs_slot {
	uint64_t off;		/* offset being read into this slot */
	uint64_t ts;		/* when its read was issued */
};

struct reader {
	struct fs_shared *sh;
	uint8_t *bufs;		/* FS_MAX_DEPTH blocks, one per slot */
	uint32_t ops;		/* reads in this batch */
	uint32_t depth;
	uint32_t issued;	/* reads issued in this batch */
	uint32_t done;		/* reads completed and checked */
	bool record;
	bool active;		/* a batch is running */
	uint64_t rng;		/* offset sequence state */
	uint64_t t0;		/* START of the batch */
	struct fs_slot slot[FS_MAX_DEPTH];
};

static void fs_signal(struct fs_shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

static int reader_fail(struct reader *r, int err)
{
	if (!r->sh->err)
		r->sh->err = err;
	r->active = false;
	fs_signal(r->sh, 0);
	return 0;
}

static int reader_init(ra_ctx_t *self, void *state, void *arg)
{
	struct reader *r = state;

	r->sh = arg;
	r->bufs = aligned_alloc(FS_BLOCK, FS_MAX_DEPTH * FS_BLOCK);
	return r->bufs ? 0 : -ENOMEM;
}

static void reader_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct reader *r = state;

	free(r->bufs);
}

static int reader_issue(ra_ctx_t *self, struct reader *r, uint32_t s)
{
	struct fs_slot *sl = &r->slot[s];

	sl->off = fs_next_off(&r->rng);
	sl->ts = ra_now_ns();
	r->issued++;
	return ra_io_read(self, r->sh->file->fd, r->bufs + s * FS_BLOCK,
			  FS_BLOCK, sl->off, s);
}

static int reader_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct reader *r = state;
	struct fs_start st;
	struct fs_slot *sl;
	uint64_t now;
	uint32_t s, first;
	int ret;

	if (msg->type == FS_START) {
		if (msg->len != sizeof(st))
			return reader_fail(r, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		if (st.ops == 0 || st.depth == 0 || st.depth > FS_MAX_DEPTH ||
		    r->active)
			return reader_fail(r, -EINVAL);
		r->ops = st.ops;
		r->depth = st.depth;
		r->record = st.record;
		r->rng = st.seed;
		r->issued = r->done = 0;
		r->active = true;
		first = r->depth < r->ops ? r->depth : r->ops;
		r->t0 = ra_now_ns();
		for (s = 0; s < first; s++) {
			ret = reader_issue(self, r, s);
			if (ret)
				return reader_fail(r, ret);
		}
		return 0;
	}
	if (msg->type != RA_MSG_IO)
		return reader_fail(r, -EPROTO);
	now = ra_now_ns();
	if (!r->active)
		return 0;	/* after a failure: let the rest drain */
	if (msg->tag >= r->depth)
		return reader_fail(r, -EPROTO);
	s = (uint32_t)msg->tag;
	sl = &r->slot[s];
	if (!fs_check(r->sh->file, r->bufs + s * FS_BLOCK, sl->off,
		      msg->res)) {
		r->sh->bad_off = sl->off;
		return reader_fail(r, msg->res < 0 ? msg->res : -EBADMSG);
	}
	if (r->record)
		ra_hdr_record(r->sh->per_op, (int64_t)(now - sl->ts));
	r->sh->bytes += FS_BLOCK;
	r->done++;
	if (r->issued < r->ops) {
		ret = reader_issue(self, r, s);
		if (ret)
			return reader_fail(r, ret);
	} else if (r->done == r->ops) {
		r->active = false;
		fs_signal(r->sh, now - r->t0);
	}
	return 0;
}

static const ra_actor_def_t reader_def = {
	.name = "fs_reader",
	.state_size = sizeof(struct reader),
	.init = reader_init,
	.behavior = reader_behavior,
	.terminate = reader_terminate,
};

/* One ringactor batch as main sees it. */
struct fs_ra_run {
	ra_runtime_t *rt;
	ra_ref_t reader;
	struct fs_shared *sh;
	int row;		/* index in fs_rows, for the seed */
	int round;
	uint32_t ops;
	uint32_t depth;
};

static int fs_ra_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct fs_ra_run *r = arg;
	struct fs_start st = {
		.ops = r->ops, .depth = r->depth, .record = timed,
		.seed = fs_seed(r->row, r->round, index),
	};
	int ret;

	ret = ra_runtime_send(r->rt, r->reader, FS_START, &st, sizeof(st));
	/* Sleep until the reader signals; bounded, so a hang fails. */
	if (!ret)
		ret = bench_batch_wait(r->sh->efd, FS_WAIT_MS,
				       &r->sh->batch_ns, batch_ns);
	return ret ? ret : r->sh->err;
}

/* ------------------------------------------------------------------ */
/* Floors: raw io_uring and pread, each in a thread of its own          */
/* ------------------------------------------------------------------ */

enum fs_floor_kind {
	FS_FLOOR_URING,
	FS_FLOOR_PREAD,
};

struct fs_floor {
	/* in */
	const struct fs_file *file;
	enum fs_floor_kind kind;
	int row, round;		/* for the seed */
	uint32_t ops, depth;
	int warmup, batches;
	int cpu;		/* pin the thread here; -1: do not */
	ra_hdr_t *per_op;
	struct bench_series *s;	/* appended to */
	/* out */
	int err;
	uint64_t bad_off;
	uint64_t bytes;		/* bytes read and checked */
	bool single_issuer;	/* ring made with SINGLE_ISSUER */
	bool ring_fd_registered;
	/* the thread's own */
	struct io_uring ring;
	uint8_t *bufs;
	struct fs_slot slot[FS_MAX_DEPTH];
};

static void floor_prep(struct fs_floor *f, uint32_t s, uint64_t *rng)
{
	/* Never NULL: at most depth <= FS_FLOOR_RING SQEs are queued. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
	struct fs_slot *sl = &f->slot[s];

	sl->off = fs_next_off(rng);
	sl->ts = bench_now_ns();
	io_uring_prep_read(sqe, f->file->fd, f->bufs + s * FS_BLOCK, FS_BLOCK,
			   sl->off);
	io_uring_sqe_set_data64(sqe, s);
}

static int floor_uring_batch(void *arg, int index, bool timed,
			     double *batch_ns)
{
	struct fs_floor *f = arg;
	struct io_uring_cqe *cqes[FS_MAX_DEPTH];
	uint64_t rng = fs_seed(f->row, f->round, index), t0, now = 0;
	uint32_t issued = 0, done = 0, first, s;
	unsigned n, i;
	int ret;

	first = f->depth < f->ops ? f->depth : f->ops;
	t0 = bench_now_ns();
	for (s = 0; s < first; s++, issued++)
		floor_prep(f, s, &rng);
	while (done < f->ops) {
		ret = io_uring_submit_and_wait(&f->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
		n = io_uring_peek_batch_cqe(&f->ring, cqes, FS_MAX_DEPTH);
		for (i = 0; i < n; i++) {
			struct fs_slot *sl;

			now = bench_now_ns();
			s = (uint32_t)cqes[i]->user_data;
			sl = &f->slot[s];
			if (s >= f->depth ||
			    !fs_check(f->file, f->bufs + s * FS_BLOCK,
				      sl->off, cqes[i]->res)) {
				f->bad_off = sl->off;
				return cqes[i]->res < 0 ? cqes[i]->res
							: -EBADMSG;
			}
			if (timed)
				ra_hdr_record(f->per_op,
					      (int64_t)(now - sl->ts));
			f->bytes += FS_BLOCK;
			done++;
			if (issued < f->ops) {
				floor_prep(f, s, &rng);
				issued++;
			}
		}
		io_uring_cq_advance(&f->ring, n);
	}
	*batch_ns = (double)(now - t0);
	return 0;
}

static int floor_pread_batch(void *arg, int index, bool timed,
			     double *batch_ns)
{
	struct fs_floor *f = arg;
	uint64_t rng = fs_seed(f->row, f->round, index), t0, ts, now = 0;
	uint64_t off;
	ssize_t n;

	t0 = bench_now_ns();
	for (uint32_t i = 0; i < f->ops; i++) {
		off = fs_next_off(&rng);
		ts = bench_now_ns();
		n = pread(f->file->fd, f->bufs, FS_BLOCK, (off_t)off);
		now = bench_now_ns();
		if (!fs_check(f->file, f->bufs, off, n < 0 ? -errno : (int)n)) {
			f->bad_off = off;
			return n < 0 ? -errno : -EBADMSG;
		}
		if (timed)
			ra_hdr_record(f->per_op, (int64_t)(now - ts));
		f->bytes += FS_BLOCK;
	}
	*batch_ns = (double)(now - t0);
	return 0;
}

/* The runtime's ring set-up, less its CQ sizing: SINGLE_ISSUER if we can. */
static int floor_ring_setup(struct fs_floor *f)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	ret = io_uring_queue_init_params(FS_FLOOR_RING, &f->ring, &p);
	f->single_issuer = ret == 0;
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(FS_FLOOR_RING, &f->ring, &p);
	}
	if (ret < 0)
		return ret;
	f->ring_fd_registered = io_uring_register_ring_fd(&f->ring) == 1;
	return 0;
}

static void *fs_floor_main(void *arg)
{
	struct fs_floor *f = arg;
	bench_batch_fn fn = f->kind == FS_FLOOR_URING ? floor_uring_batch
						       : floor_pread_batch;
	int ret;

	if (f->cpu >= 0)
		(void)bench_pin_self(f->cpu);
	f->bufs = aligned_alloc(FS_BLOCK, FS_MAX_DEPTH * FS_BLOCK);
	if (!f->bufs) {
		f->err = -ENOMEM;
		return NULL;
	}
	if (f->kind == FS_FLOOR_URING) {
		ret = floor_ring_setup(f);
		if (ret) {
			f->err = ret;
			free(f->bufs);
			return NULL;
		}
	}
	f->err = bench_run_batches(f->warmup, f->batches, fn, f, f->s);
	if (f->kind == FS_FLOOR_URING)
		io_uring_queue_exit(&f->ring);
	free(f->bufs);
	return NULL;
}

/* Run one round of a floor in its own thread; `*f` carries the results. */
static int fs_floor_round(struct fs_floor *f)
{
	pthread_t th;
	int ret;

	ret = pthread_create(&th, NULL, fs_floor_main, f);
	if (ret)
		return -ret;
	pthread_join(th, NULL);
	return f->err;
}

/* ------------------------------------------------------------------ */
/* One row                                                              */
/* ------------------------------------------------------------------ */

struct fs_env {
	struct bench_opts *o;
	const struct bench_machine *m;
	const struct fs_file *file;
	ra_runtime_t *rt;
	ra_ref_t reader;
	struct fs_shared *sh;
	int cpu;		/* the shard's CPU, for the floor threads */
	int ops_arg;		/* --ops, 0 when not given */
	bool hgrm_written;	/* --hgrm FILE taken by an earlier row */
};

static double mb_per_s(double bytes, double ns)
{
	return ns > 0 ? bytes / ns * 1e3 : 0;	/* bytes/ns * 1e9 / 1e6 */
}

static void fs_floor_fail(const char *what, const struct fs_floor *f)
{
	fprintf(stderr, "fs: %s floor: %s (offset %" PRIu64 ")\n", what,
		strerror(-f->err), f->bad_off);
}

static int fs_run_row(struct fs_env *e, int ri)
{
	const struct fs_row *row = &fs_rows[ri];
	struct bench_opts *o = e->o;
	struct bench_series ra_s, ur_s, pr_s;
	struct bench_result ra, ur, pr;
	ra_hdr_t *ra_h = NULL, *ur_h = NULL, *pr_h = NULL;
	struct fs_ra_run run;
	struct fs_floor f;
	char extra[320];
	double bytes, ra_mbs = 0, ur_mbs = 0, pr_mbs = 0, cpu_wall;
	uint64_t expect_bytes, want;
	int i, nb, ret = -ENOMEM;
	bool single_issuer = false, regfd = false;

	o->ops = e->ops_arg ? e->ops_arg : row->ops;
	o->name = row->name;
	bytes = (double)o->ops * FS_BLOCK;
	memset(&ra_s, 0, sizeof(ra_s));
	memset(&ur_s, 0, sizeof(ur_s));
	memset(&pr_s, 0, sizeof(pr_s));
	if (bench_hdr_create(&ra_h) || bench_hdr_create(&ur_h) ||
	    bench_hdr_create(&pr_h) || bench_series_init(&ra_s, o->batches) ||
	    bench_series_init(&ur_s, o->batches) ||
	    bench_series_init(&pr_s, o->batches))
		goto out;

	e->sh->per_op = ra_h;
	e->sh->bytes = 0;
	run = (struct fs_ra_run){
		.rt = e->rt, .reader = e->reader, .sh = e->sh, .row = ri,
		.ops = (uint32_t)o->ops, .depth = (uint32_t)row->depth,
	};
	expect_bytes = 0;
	for (i = 0; i < o->rounds; i++) {
		nb = bench_round_batches(o, i);
		if (o->floor) {
			for (int k = 0; k < 2; k++) {
				bool uring = k == 0;

				memset(&f, 0, sizeof(f));
				f.file = e->file;
				f.kind = uring ? FS_FLOOR_URING
					       : FS_FLOOR_PREAD;
				f.row = ri;
				f.round = i;
				f.ops = (uint32_t)o->ops;
				f.depth = (uint32_t)row->depth;
				f.warmup = o->warmup;
				f.batches = nb;
				f.cpu = o->pin ? e->cpu : -1;
				f.per_op = uring ? ur_h : pr_h;
				f.s = uring ? &ur_s : &pr_s;
				ret = fs_floor_round(&f);
				if (ret) {
					fs_floor_fail(uring ? "io_uring"
							    : "pread", &f);
					goto out;
				}
				want = (uint64_t)(o->warmup + nb) *
				       (uint64_t)o->ops * FS_BLOCK;
				if (f.bytes != want) {
					fprintf(stderr, "fs: floor read %"
						PRIu64 " bytes, not %" PRIu64
						"\n", f.bytes, want);
					ret = -EIO;
					goto out;
				}
				if (uring) {
					single_issuer = f.single_issuer;
					regfd = f.ring_fd_registered;
				}
			}
		}
		run.round = i;
		ret = bench_run_batches(o->warmup, nb, fs_ra_batch, &run,
					&ra_s);
		expect_bytes += (uint64_t)(o->warmup + nb) * (uint64_t)o->ops *
				FS_BLOCK;
		if (ret) {
			fprintf(stderr, "fs: %s: ringactor batch %d: %s",
				row->name, ra_s.n, ra_strerror(ret));
			if (ret == -EBADMSG)
				fprintf(stderr, " (offset %" PRIu64 ")",
					e->sh->bad_off);
			fputc('\n', stderr);
			goto out;
		}
	}
	if (e->sh->bytes != expect_bytes) {
		fprintf(stderr, "fs: %s: ringactor read %" PRIu64 " bytes, "
			"not %" PRIu64 "\n", row->name, e->sh->bytes,
			expect_bytes);
		ret = -EIO;
		goto out;
	}

	snprintf(extra, sizeof(extra),
		 "16 MiB file in the PAGE CACHE (page-cache reads, no device "
		 "I/O), 4 KiB at random aligned offsets, depth %d | floors: "
		 "raw io_uring (%s, ring fd %s) and pread loop, one thread "
		 "%s%d", row->depth,
		 single_issuer ? "SINGLE_ISSUER" : "plain ring",
		 regfd ? "registered" : "not registered",
		 o->pin ? "on CPU " : "unpinned, shard CPU ",
		 e->cpu);
	bench_print_header(stdout, o, e->m, o->floor ? extra :
			   "16 MiB file in the PAGE CACHE | floors not run");

	bench_result_init(&ra, row->name, o);
	ret = bench_result_fill(&ra, &ra_s, ra_h);
	if (ret)
		goto out;
	cpu_wall = bench_cpu_total_s(&ra_s.cpu) * 1e9 / ra_s.wall_ns;
	ra_mbs = mb_per_s(bytes, ra.batch.median);
	bench_result_add(&ra, "mb_per_s", ra_mbs);
	bench_result_add(&ra, "cpu_wall_ratio", cpu_wall);
	if (o->floor) {
		char name_ur[96], name_pr[96];

		snprintf(name_ur, sizeof(name_ur), "%s.floor", row->name);
		snprintf(name_pr, sizeof(name_pr), "%s.pread", row->name);
		bench_result_init(&ur, NULL, o);
		bench_result_init(&pr, NULL, o);
		ret = bench_result_fill(&ur, &ur_s, ur_h);
		if (!ret)
			ret = bench_result_fill(&pr, &pr_s, pr_h);
		if (ret)
			goto out;
		ur_mbs = mb_per_s(bytes, ur.batch.median);
		pr_mbs = mb_per_s(bytes, pr.batch.median);
		bench_result_add(&ur, "mb_per_s", ur_mbs);
		bench_result_add(&pr, "mb_per_s", pr_mbs);
		bench_result_set_floor(&ra, &ur);
		bench_result_add(&ra, "floor_mb_per_s", ur_mbs);
		bench_result_add(&ra, "pread_median", pr.batch.median);
		bench_result_add(&ra, "ratio_pread",
				 ra.batch.median / pr.batch.median);
		bench_result_add(&ra, "throughput_ratio",
				 ur.batch.median / ra.batch.median);

		bench_print_row_header(stdout);
		bench_print_row_as(stdout, "floor io_uring", &ur);
		bench_print_row_as(stdout, "floor pread", &pr);
		bench_print_row_as(stdout, "ringactor", &ra);
		bench_hdr_summary(stdout, "floor io_uring read", ur_h);
		bench_hdr_summary(stdout, "floor pread read", pr_h);
		bench_hdr_summary(stdout, "ringactor read", ra_h);
		printf("MB/s (batch median): ringactor %.0f, io_uring %.0f, "
		       "pread %.0f; CPU ms/batch: ringactor %.3f, io_uring "
		       "%.3f, pread %.3f; ringactor CPU/wall %.2f\n", ra_mbs,
		       ur_mbs, pr_mbs, ra.cpu_per_batch_s * 1e3,
		       ur.cpu_per_batch_s * 1e3, pr.cpu_per_batch_s * 1e3,
		       cpu_wall);
		if (row->throughput)
			printf("%s: throughput ringactor/io_uring floor %.2fx "
			       "(batch median %.2fx), vs pread %.2fx; target "
			       ">= %.1fx: %s%s\n", row->name,
			       ur.batch.median / ra.batch.median, ra.ratio,
			       pr.batch.median / ra.batch.median,
			       FS_TARGET_TPUT,
			       ur.batch.median / ra.batch.median >=
			       FS_TARGET_TPUT ? "PASS" : "MISS",
			       o->quick ? " (smoke run)" : "");
		else
			printf("%s: ratio ringactor/io_uring floor: batch "
			       "median %.2fx, read p50 %.2fx; vs pread %.2fx; "
			       "target <= %.1fx: %s%s\n", row->name, ra.ratio,
			       ra.ratio_op_p50,
			       ra.batch.median / pr.batch.median,
			       FS_TARGET_RTT_RATIO,
			       ra.ratio <= FS_TARGET_RTT_RATIO ? "PASS"
							       : "MISS",
			       o->quick ? " (smoke run)" : "");
		ur.name = name_ur;
		pr.name = name_pr;
		ret = bench_json_emit("fs", e->o, e->m, &ur);
		if (!ret)
			ret = bench_json_emit("fs", e->o, e->m, &pr);
		if (!ret)
			ret = bench_hgrm_emit_row("fs", o, row->name, true,
						  ur_h);
		if (!ret)
			ret = bench_hgrm_emit_row("fs", o, name_pr, false,
						  pr_h);
	} else {
		bench_print_row_header(stdout);
		bench_print_row_as(stdout, "ringactor", &ra);
		bench_hdr_summary(stdout, "ringactor read", ra_h);
		printf("MB/s (batch median): ringactor %.0f; CPU/wall %.2f\n",
		       ra_mbs, cpu_wall);
	}
	if (!ret)
		ret = bench_json_emit("fs", e->o, e->m, &ra);
	if (!ret)
		ret = bench_hgrm_emit_row("fs", o, row->name, false, ra_h);
	if (!ret && o->hgrm_path && !e->hgrm_written) {
		ret = bench_hgrm_emit("fs", o->hgrm_path, ra_h);
		e->hgrm_written = true;
	}
out:
	if (ret == -ENOMEM)
		fprintf(stderr, "fs: out of memory\n");
	e->sh->per_op = NULL;
	bench_series_fini(&ra_s);
	bench_series_fini(&ur_s);
	bench_series_fini(&pr_s);
	ra_hdr_destroy(ra_h);
	ra_hdr_destroy(ur_h);
	ra_hdr_destroy(pr_h);
	return ret;
}

int main(int argc, char **argv)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	struct fs_shared sh;
	struct fs_file file;
	struct bench_machine m;
	struct bench_opts o;
	struct fs_env e;
	ra_config_t cfg;
	const char *name;
	bool any = false;
	int ret, cpu[1];

	bench_opts_init(&o, "fs", 0, FS_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	name = o.name;
	for (size_t i = 0; i < FS_NROWS; i++)
		any |= bench_selected(&o, fs_rows[i].name);
	if (!any)
		return 0;	/* --only names a row of another program */
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sh, 0, sizeof(sh));
	memset(&e, 0, sizeof(e));
	bench_opts_config(&o, &cfg);
	ret = ra_runtime_create(&cfg, &e.rt);
	if (bench_io_uring_missing(ret)) {
		printf("# SKIP: io_uring unavailable (%s): %s\n",
		       ra_strerror(ret), ra_last_error());
		return 77;
	}
	if (ret) {
		fprintf(stderr, "fs: ra_runtime_create: %s: %s\n",
			ra_strerror(ret), ra_last_error());
		return 1;
	}
	ret = fs_file_create(&file);
	if (ret) {
		ra_runtime_destroy(e.rt);
		return 1;
	}
	sh.file = &file;
	sh.efd = eventfd(0, EFD_CLOEXEC);
	if (sh.efd < 0) {
		perror("fs: eventfd");
		ret = -errno;
		goto out;
	}
	ret = ra_runtime_spawn(e.rt, &reader_def, &sh, &on0, &e.reader);
	if (ret) {
		fprintf(stderr, "fs: ra_runtime_spawn: %s\n",
			ra_strerror(ret));
		goto out;
	}
	/* The shard's CPU as RA_CFG_PIN_CPUS picks it: shard 0 -> CPU 0. */
	bench_pick_cpus(1, cpu);
	e.o = &o;
	e.m = &m;
	e.file = &file;
	e.sh = &sh;
	e.cpu = cpu[0];
	e.ops_arg = o.ops;
	for (size_t i = 0; i < FS_NROWS && !ret; i++) {
		if (!bench_selected(&o, fs_rows[i].name))
			continue;
		ret = fs_run_row(&e, (int)i);
	}
	o.name = name;
out:
	if (ra_runtime_destroy(e.rt))
		ret = ret ? ret : -EIO;
	if (sh.efd >= 0)
		close(sh.efd);
	fs_file_close(&file);
	if (bench_io_uring_missing(ret)) {
		printf("# SKIP: io_uring unavailable for the floor (%s)\n",
		       strerror(-ret));
		return 77;
	}
	return ret ? 1 : 0;
}
