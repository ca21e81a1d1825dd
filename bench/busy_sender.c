/*
 * busy_sender: messages leave a saturated shard. Rows, in one run:
 *
 *   busy_sender.latency.idle       a producer on shard 0 paced by a timer
 *                                  (every BS_TICK_NS it sends what is
 *                                  due at BS_LAT_RATE messages/s) to a
 *                                  consumer on shard 1; nothing else on
 *                                  shard 0.
 *   busy_sender.latency.saturated  the same with a compute loop on shard
 *                                  0 (BS_HOG_NS steps, each re-posting
 *                                  itself), so shard 0 is never idle.
 *   busy_sender.throughput.local   what the consumer can absorb: a
 *                                  producer on its own shard keeps its
 *                                  mailbox full (the baseline).
 *   busy_sender.throughput.flood   the long-running producer shape on
 *                                  shard 0: BS_CHUNK sends per message,
 *                                  then a message to itself to go on,
 *                                  within a window of BS_WINDOW messages
 *                                  the consumer acknowledges every
 *                                  BS_ACK_EVERY; shard 0 is never idle.
 *
 * The consumer spends BS_WORK_NS of compute per message and checks that
 * each producer's sequence numbers arrive in order, without gaps (exit 1
 * otherwise). Latency rows: per op = one message, from the ra_send() on
 * shard 0 to the consumer's behavior on shard 1 (HDR histogram); a batch
 * is BS_LAT_BATCH messages received. Throughput rows: a batch is
 * BS_TPUT_BATCH messages received; the flood row's floor is the local
 * row, so its ratio is local throughput / flood throughput. Targets: p99
 * saturated < 1 ms, flood throughput >= 0.9x local. Each row gets a fresh
 * runtime per round; rounds alternate the rows' order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define BS_WORK_NS	1000u		/* consumer compute per message */
#define BS_HOG_NS	20000u		/* one compute-loop step */
#define BS_TICK_NS	100000u		/* latency producer's timer */
#define BS_LAT_RATE	400000u		/* latency producer, messages/s */
#define BS_LAT_BATCH	8000		/* messages per latency batch */
#define BS_TPUT_BATCH	40000		/* messages per throughput batch */
#define BS_CHUNK	1000u		/* flood sends per behavior call */
#define BS_WINDOW	32768u		/* flood messages not yet acked */
#define BS_ACK_EVERY	1024u		/* consumer acks this many at once */
#define BS_TARGET_P99_NS 1000000.0
#define BS_TARGET_TPUT	0.9

enum { BS_GO = 1, BS_DATA, BS_ACK };
enum row { LAT_IDLE, LAT_SAT, TPUT_LOCAL, TPUT_FLOOD, NROWS };

static const char *const row_name[NROWS] = {
	"busy_sender.latency.idle", "busy_sender.latency.saturated",
	"busy_sender.throughput.local", "busy_sender.throughput.flood",
};

struct bs_data {
	uint64_t sent_ns;	/* ra_now_ns() at the send */
	uint64_t seq;		/* 1, 2, ... from its producer */
};

/* What main and the actors of one runtime share. */
struct bs_shared {
	int efd;			/* consumer -> main: a batch is done */
	_Atomic uint64_t batch_ns;	/* its wall time */
	atomic_int stop;		/* producers and the hog stop */
	atomic_int record;		/* latency recorded from now on */
	atomic_int order_errors;
	int batch;			/* messages per batch */
	bool paced;			/* latency row: timer-paced producer */
	ra_hdr_t *lat;			/* written by the consumer only */
	ra_ref_t consumer;
};

static void spin_ns(uint64_t ns)
{
	uint64_t t = ra_now_ns();

	while (ra_now_ns() - t < ns)
		;
}

/* ---- consumer ---- */

struct consumer {
	struct bs_shared *sh;
	uint64_t next_seq;
	uint64_t batch_start;
	int in_batch;
	uint32_t unacked;
};

static int consumer_init(ra_ctx_t *self, void *state, void *arg)
{
	struct consumer *c = state;

	(void)self;
	c->sh = arg;
	c->next_seq = 1;
	return 0;
}

static void end_of_message(struct consumer *c)
{
	uint64_t now;

	if (++c->in_batch < c->sh->batch)
		return;
	now = ra_now_ns();
	if (c->batch_start)
		bench_batch_signal(c->sh->efd, &c->sh->batch_ns,
				   now - c->batch_start);
	c->batch_start = now;
	c->in_batch = 0;
}

static int consumer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct consumer *c = state;
	struct bs_data d;

	if (m->type != BS_DATA || m->len != sizeof(d))
		return 0;
	memcpy(&d, m->data, sizeof(d));
	if (d.seq != c->next_seq++)
		atomic_fetch_add(&c->sh->order_errors, 1);
	if (d.sent_ns && atomic_load_explicit(&c->sh->record,
					      memory_order_relaxed))
		ra_hdr_record(c->sh->lat, (int64_t)(ra_now_ns() - d.sent_ns));
	spin_ns(BS_WORK_NS);
	if (++c->unacked == BS_ACK_EVERY) {
		(void)ra_send(self, m->from, BS_ACK, &c->unacked,
			      sizeof(c->unacked));
		c->unacked = 0;
	}
	end_of_message(c);
	return 0;
}

static const ra_actor_def_t consumer_def = {
	.name = "consumer",
	.state_size = sizeof(struct consumer),
	.init = consumer_init,
	.behavior = consumer_behavior,
};

/* ---- producers ---- */

struct producer {
	struct bs_shared *sh;
	uint64_t seq;		/* last sent */
	uint64_t acked;
	uint64_t start_ns;	/* paced: when the first tick came */
};

static int send_one(ra_ctx_t *self, struct producer *p, uint64_t stamp)
{
	struct bs_data d = { stamp, p->seq + 1 };
	int ret = ra_send(self, p->sh->consumer, BS_DATA, &d, sizeof(d));

	if (ret == 0)
		p->seq++;
	return ret;
}

/* Flood: a chunk when the window has room, then on with a self-send. */
static int flood_step(ra_ctx_t *self, struct producer *p)
{
	if (p->seq - p->acked + BS_CHUNK <= BS_WINDOW)
		for (unsigned i = 0; i < BS_CHUNK; i++)
			if (send_one(self, p, 0) < 0)
				return -EIO;
	return ra_send(self, ra_self(self), BS_GO, NULL, 0);
}

/* Paced: on each timer tick, send what is due at BS_LAT_RATE. */
static int paced_step(ra_ctx_t *self, struct producer *p)
{
	uint64_t now = ra_now_ns(), due;

	if (!p->start_ns)
		p->start_ns = now;
	due = (now - p->start_ns) * BS_LAT_RATE / 1000000000u;
	while (p->seq < due)
		if (send_one(self, p, now) < 0)
			return -EIO;
	return 0;
}

static int producer_init(ra_ctx_t *self, void *state, void *arg)
{
	struct producer *p = state;
	struct bs_shared *sh = arg;

	p->sh = sh;
	if (sh->paced)
		return ra_send_interval(self, ra_self(self), BS_TICK_NS, BS_GO,
					NULL, 0, NULL) < 0 ? -EIO : 0;
	return ra_send(self, ra_self(self), BS_GO, NULL, 0);
}

static int producer_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct producer *p = state;
	uint32_t n;

	if (atomic_load_explicit(&p->sh->stop, memory_order_relaxed)) {
		ra_stop(self, 0);
		return 0;
	}
	if (m->type == BS_ACK && m->len == sizeof(n)) {
		memcpy(&n, m->data, sizeof(n));
		p->acked += n;
		return 0;
	}
	return p->sh->paced ? paced_step(self, p) : flood_step(self, p);
}

static const ra_actor_def_t producer_def = {
	.name = "producer",
	.state_size = sizeof(struct producer),
	.init = producer_init,
	.behavior = producer_behavior,
};

/* ---- compute loop that keeps shard 0 busy ---- */

static int hog_init(ra_ctx_t *self, void *state, void *arg)
{
	*(struct bs_shared **)state = arg;
	return ra_send(self, ra_self(self), BS_GO, NULL, 0);
}

static int hog_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct bs_shared *sh = *(struct bs_shared **)state;

	(void)m;
	if (atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		ra_stop(self, 0);
		return 0;
	}
	spin_ns(BS_HOG_NS);
	return ra_send(self, ra_self(self), BS_GO, NULL, 0);
}

static const ra_actor_def_t hog_def = {
	.name = "hog",
	.state_size = sizeof(struct bs_shared *),
	.init = hog_init,
	.behavior = hog_behavior,
};

/* ---- one row, one round ---- */

struct row_run {
	struct bench_series s;
	ra_hdr_t *lat;
	struct bs_shared sh;
	ra_runtime_t *rt;
};

static int bs_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct row_run *rr = arg;

	(void)index;
	if (timed)
		atomic_store(&rr->sh.record, 1);
	return bench_batch_wait(rr->sh.efd, 60000, &rr->sh.batch_ns, batch_ns);
}

static int spawn_on(struct row_run *rr, const ra_actor_def_t *def,
		    unsigned shard, ra_ref_t *out)
{
	ra_spawn_opts_t o = { .placement = RA_PLACE_SHARD, .shard = shard };

	return ra_runtime_spawn(rr->rt, def, &rr->sh, &o, out);
}

/* Spawn the row's actors; the consumer counts batches from its start. */
static int row_start(struct row_run *rr, enum row row)
{
	unsigned producer_shard = row == TPUT_LOCAL ? 1 : 0;
	int ret;

	ret = spawn_on(rr, &consumer_def, 1, &rr->sh.consumer);
	if (!ret && row == LAT_SAT)
		ret = spawn_on(rr, &hog_def, 0, NULL);
	if (!ret)
		ret = spawn_on(rr, &producer_def, producer_shard, NULL);
	return ret;
}

static int row_round(struct row_run *rr, const struct bench_opts *o,
		     enum row row, int nb)
{
	ra_config_t cfg;
	int ret;

	memset(&rr->sh, 0, sizeof(rr->sh));
	rr->sh.efd = eventfd(0, EFD_CLOEXEC);
	if (rr->sh.efd < 0)
		return -errno;
	rr->sh.lat = rr->lat;
	rr->sh.batch = row <= LAT_SAT ? BS_LAT_BATCH : BS_TPUT_BATCH;
	rr->sh.paced = row <= LAT_SAT;
	bench_opts_config(o, &cfg);
	cfg.flags |= RA_CFG_NO_STEAL;
	ret = bench_runtime_create("busy_sender", &cfg, &rr->rt);
	if (ret) {
		close(rr->sh.efd);
		return ret;
	}
	ret = row_start(rr, row);
	if (!ret)
		ret = bench_run_batches(o->warmup, nb, bs_batch, rr, &rr->s);
	atomic_store(&rr->sh.stop, 1);
	ra_runtime_destroy(rr->rt);
	close(rr->sh.efd);
	if (!ret && atomic_load(&rr->sh.order_errors))
		ret = -EPROTO;
	if (ret)
		fprintf(stderr, "busy_sender: %s: %s\n", row_name[row],
			strerror(-ret));
	return ret;
}

static int report(const struct bench_opts *o, const struct bench_machine *m,
		  struct row_run *rr)
{
	struct bench_result r[NROWS];
	double p99_sat, tput, rate[NROWS];
	int ret = 0;

	for (int k = 0; k < NROWS && !ret; k++) {
		bench_result_init(&r[k], row_name[k], o);
		r[k].ops = k <= LAT_SAT ? BS_LAT_BATCH : BS_TPUT_BATCH;
		ret = bench_result_fill(&r[k], &rr[k].s,
					k <= LAT_SAT ? rr[k].lat : NULL);
	}
	if (ret)
		return ret;
	bench_result_set_floor(&r[LAT_SAT], &r[LAT_IDLE]);
	bench_result_set_floor(&r[TPUT_FLOOD], &r[TPUT_LOCAL]);
	p99_sat = (double)r[LAT_SAT].op.p99;
	tput = r[TPUT_FLOOD].ratio > 0 ? 1 / r[TPUT_FLOOD].ratio : 0;
	for (int k = 0; k < NROWS; k++) {
		rate[k] = r[k].batch.median > 0 ?
			r[k].ops * 1e9 / r[k].batch.median : 0;
		bench_result_add(&r[k], "msgs_per_s", rate[k]);
	}
	bench_result_add(&r[LAT_SAT], "p99_ratio_to_idle",
			 r[LAT_IDLE].op.p99 ?
			 p99_sat / (double)r[LAT_IDLE].op.p99 : 0);
	bench_result_add(&r[TPUT_FLOOD], "throughput_ratio_to_local", tput);
	bench_print_row_header(stdout);
	for (int k = 0; k < NROWS; k++)
		bench_print_row(stdout, &r[k]);
	bench_hdr_summary(stdout, "latency idle", rr[LAT_IDLE].lat);
	bench_hdr_summary(stdout, "latency saturated", rr[LAT_SAT].lat);
	printf("saturated sender: p99 %.1f us (target < %.0f us: %s); flood "
	       "throughput %.3fx of local (%.0f vs %.0f msgs/s; target >= "
	       "%.2fx: %s)%s\n", p99_sat / 1e3, BS_TARGET_P99_NS / 1e3,
	       p99_sat < BS_TARGET_P99_NS ? "met" : "MISSED", tput,
	       rate[TPUT_FLOOD], rate[TPUT_LOCAL],
	       BS_TARGET_TPUT, tput >= BS_TARGET_TPUT ? "met" : "MISSED",
	       o->quick || o->batches < BENCH_MIN_BATCHES ?
	       " (smoke run)" : "");
	for (int k = 0; k < NROWS && !ret; k++) {
		ret = bench_json_emit("busy_sender", o, m, &r[k]);
		if (!ret && k <= LAT_SAT)
			ret = bench_hgrm_emit_row("busy_sender", o,
						  row_name[k], false,
						  rr[k].lat);
	}
	return ret;
}

static int run(const struct bench_opts *o, const struct bench_machine *m)
{
	struct row_run rr[NROWS];
	char extra[512];
	int ret = 0;

	memset(rr, 0, sizeof(rr));
	for (int k = 0; k < NROWS && !ret; k++)
		if (bench_hdr_create(&rr[k].lat) ||
		    bench_series_init(&rr[k].s, o->batches))
			ret = -ENOMEM;
	for (int i = 0; i < o->rounds && !ret; i++) {
		int nb = bench_round_batches(o, i);

		for (int k = 0; k < NROWS && !ret; k++) {
			/* Odd rounds run the rows in reverse order. */
			int row = i & 1 ? NROWS - 1 - k : k;

			ret = row_round(&rr[row], o, (enum row)row, nb);
		}
	}
	if (!ret) {
		snprintf(extra, sizeof(extra), "2 shards, consumer on shard "
			 "1 (%u ns per message) | latency: %u msgs/s paced by "
			 "a %u us timer, saturated by %u us compute steps | "
			 "flood: %u per behavior call, window %u, acks every "
			 "%u", BS_WORK_NS, BS_LAT_RATE, BS_TICK_NS / 1000,
			 BS_HOG_NS / 1000, BS_CHUNK, BS_WINDOW, BS_ACK_EVERY);
		bench_print_header(stdout, o, m, extra);
		ret = report(o, m, rr);
	}
	for (int k = 0; k < NROWS; k++) {
		bench_series_fini(&rr[k].s);
		ra_hdr_destroy(rr[k].lat);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct bench_machine m;
	struct bench_opts o;
	int ret;

	bench_opts_init(&o, "busy_sender", BS_LAT_BATCH, 2);
	o.batches = 30;
	o.warmup = 3;
	o.rounds = 3;
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	if (o.shards != 2) {
		fprintf(stderr, "busy_sender: runs on 2 shards\n");
		return 2;
	}
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = run(&o, &m);
	if (bench_io_uring_missing(ret))
		return bench_skip_io_uring(ret);
	if (ret) {
		fprintf(stderr, "busy_sender: FAILED: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
