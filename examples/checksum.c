/*
 * examples/checksum.c: checksum FILE... prints "<crc>  <file>" for each
 * file, in the order given, with POSIX cksum's CRC (the first column of
 * `cksum FILE`). One actor per file, spread over the shards (at most
 * MAX_OPEN files open at once), reads it with ra_io_read in CHUNK pieces,
 * the next piece in flight while it folds the last one in.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringactor.h>

#define CHUNK (64 * 1024)
#define MAX_OPEN 64

static struct job {
	const char *path;
	int err;		/* 0, or why the file has no checksum */
	uint32_t crc;
} *jobs;
static unsigned njobs;
static atomic_uint next_job;	/* the first file no actor has taken */
static uint32_t crc_table[256];
static const ra_spawn_opts_t rr = { .placement = RA_PLACE_ROUND_ROBIN };

struct sum {
	struct job *job;
	int fd;
	uint32_t crc;
	uint64_t done;		/* bytes read and folded in */
	unsigned char buf[2][CHUNK]; /* one being read, one being folded in */
};

/* POSIX cksum: CRC-32, polynomial 0x04C11DB7, most significant bit first. */
static uint32_t crc_add(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n--)
		crc = (crc << 8) ^ crc_table[(crc >> 24) ^ *p++];
	return crc;
}

static const ra_actor_def_t sum_def;

/*
 * Record the result, hand our open-file slot to the next file, stop. No
 * read is in flight whenever we get here, so the file can be closed now.
 */
static int finish(ra_ctx_t *self, struct sum *s, int err)
{
	unsigned next = atomic_fetch_add(&next_job, 1);

	if (s->fd >= 0)
		close(s->fd);
	for (uint64_t len = s->done; len; len >>= 8)	/* cksum adds it */
		s->crc = crc_add(s->crc, &(unsigned char){ len & 0xff }, 1);
	s->job->crc = ~s->crc;
	s->job->err = err;
	if (next < njobs)
		(void)ra_spawn(self, &sum_def, &jobs[next], &rr, NULL);
	ra_stop(self, 0);
	return 0;
}

static int sum_init(ra_ctx_t *self, void *state, void *arg)
{
	struct sum *s = state;
	int r;

	s->job = arg;
	if ((s->fd = open(s->job->path, O_RDONLY | O_CLOEXEC)) < 0)
		return finish(self, s, -errno);
	r = ra_io_read(self, s->fd, s->buf[0], CHUNK, 0, 0);
	return r ? finish(self, s, r) : 0;
}

/*
 * A chunk arrived in buf[tag]: ask for the next one into the other buffer
 * first, so that the kernel reads it while we fold this one in. A short
 * read needs no care: the next read starts where this one ended.
 */
static int sum_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct sum *s = state;
	uint64_t next = s->done + (uint64_t)m->res;
	int r;

	if (m->type != RA_MSG_IO)
		return 0;
	if (m->res <= 0)	/* 0: EOF */
		return finish(self, s, m->res);
	r = ra_io_read(self, s->fd, s->buf[!m->tag], CHUNK, next, !m->tag);
	if (r < 0)
		return finish(self, s, r);
	s->crc = crc_add(s->crc, s->buf[m->tag], (size_t)m->res);
	s->done = next;
	return 0;
}

static const ra_actor_def_t sum_def = {
	.name = "sum", .state_size = sizeof(struct sum), .init = sum_init,
	.behavior = sum_behavior,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	ra_runtime_t *rt;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1 ||
	       optind == argc) {	/* no FILE */
		fputs("usage: checksum FILE...\n", c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : 2;
	}
	njobs = (unsigned)(argc - optind);
	if (!(jobs = calloc(njobs, sizeof(*jobs))))
		return 1;
	for (unsigned i = 0; i < njobs; i++)	/* until an actor gets to it */
		jobs[i] = (struct job){ argv[optind + i], -ECANCELED, 0 };
	for (uint32_t i = 0, k, v; i < 256; crc_table[i++] = v)
		for (v = i << 24, k = 0; k < 8; k++)
			v = v << 1 ^ (v >> 31 ? 0x04C11DB7u : 0);
	if (ra_runtime_create(NULL, &rt) < 0) {	/* a shard per CPU */
		fprintf(stderr, "checksum: %s\n", ra_last_error());
		return 1;
	}
	/* Set before the first spawn: the actors hand out the rest. */
	atomic_store(&next_job, njobs < MAX_OPEN ? njobs : MAX_OPEN);
	for (unsigned i = 0; i < njobs && i < MAX_OPEN; i++)
		ra_runtime_spawn(rt, &sum_def, &jobs[i], &rr, NULL);
	ra_runtime_wait_idle(rt, 0);
	ra_runtime_destroy(rt);	/* joins the shards: their results are ours */
	for (struct job *j = jobs; j < jobs + njobs; j++) {
		if (j->err)
			fprintf(stderr, "checksum: %s: %s\n", j->path,
				ra_strerror(j->err));
		else
			printf("%u  %s\n", j->crc, j->path);
		failed |= j->err != 0;
	}
	free(jobs);
	return failed;
}
