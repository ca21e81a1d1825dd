/*
 * ping_pong: round trips between two actors on two shards, against the
 * raw msg_ring floor measured in the same run.
 *
 * A pinger on shard 0 and a ponger on shard 1. For each batch main sends
 * the pinger a START; the pinger then does `ops` round trips (PING to the
 * ponger, which answers ACK), timing each one and the whole batch with
 * ra_now_ns() from its first send to its last ACK, and signals main on an
 * eventfd. Main blocks in read(2) meanwhile, so it takes no CPU from the
 * shards and the signal is outside the timed region.
 *
 * The floor (floor_msgring.c) and the runtime take turns in rounds, each
 * with its share of the batches, so that a slow or fast spell of a shared
 * machine weighs on both sides of the ratio alike. The runtime lives
 * through all rounds; its shards fall asleep while the floor runs.
 *
 * Then the idle cost: a 2-shard runtime with the default config, one
 * exchange, a wait past the poll window, and the process CPU over a second
 * of main sleeping, as a percentage of one CPU.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

#define PP_SHARDS 2
#define PP_DEFAULT_RTS 256

enum pp_type {
	PP_START = 1,		/* main -> pinger: struct pp_start */
	PP_PING,		/* pinger -> ponger: uint32_t sequence */
	PP_ACK,			/* ponger -> pinger: the same sequence */
};

struct pp_start {
	uint32_t rts;		/* round trips in this batch */
	uint32_t record;	/* record each round trip in the histogram */
};

/*
 * What main and the pinger share. The pinger writes batch_ns, err and the
 * histogram, then signals `efd`; main reads after read(2) on `efd`
 * returns. batch_ns is stored with release and loaded with acquire so that
 * the order is also explicit to the compiler and to TSAN.
 */
struct pp_shared {
	int efd;		/* eventfd main waits on */
	ra_ref_t ponger;	/* the pinger's peer */
	ra_hdr_t *per_rt;	/* round trip ns, written by the pinger */
	_Atomic uint64_t batch_ns; /* last batch's wall time */
	int err;		/* first error seen by the pinger */
	uint64_t bad_acks;	/* ACKs out of sequence */
};

struct pinger {
	struct pp_shared *sh;
	uint32_t left;		/* round trips still to do in this batch */
	uint32_t seq;		/* sequence of the PING in flight */
	bool record;
	uint64_t t0;		/* first send of the batch */
	uint64_t ts;		/* send of the PING in flight */
};

static void pp_signal(struct pp_shared *sh, uint64_t batch_ns)
{
	bench_batch_signal(sh->efd, &sh->batch_ns, batch_ns);
}

static int pinger_init(ra_ctx_t *self, void *state, void *arg)
{
	struct pinger *p = state;

	p->sh = arg;
	return 0;
}

static int pinger_fail(struct pinger *p, int err)
{
	if (!p->sh->err)
		p->sh->err = err;
	pp_signal(p->sh, 0);
	return 0;
}

static int pinger_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct pinger *p = state;
	struct pp_start st;
	uint32_t seq;
	uint64_t now;
	int ret;

	switch (msg->type) {
	case PP_START:
		if (msg->len != sizeof(st))
			return pinger_fail(p, -EPROTO);
		memcpy(&st, msg->data, sizeof(st));
		if (st.rts == 0)
			return pinger_fail(p, -EINVAL);
		p->left = st.rts;
		p->record = st.record;
		p->seq = 0;
		p->t0 = p->ts = ra_now_ns();
		ret = ra_send(self, p->sh->ponger, PP_PING, &p->seq,
			      sizeof(p->seq));
		if (ret)
			return pinger_fail(p, ret);
		return 0;
	case PP_ACK:
		now = ra_now_ns();
		if (msg->len != sizeof(seq))
			return pinger_fail(p, -EPROTO);
		memcpy(&seq, msg->data, sizeof(seq));
		if (seq != p->seq)
			p->sh->bad_acks++;
		if (p->record)
			ra_hdr_record(p->sh->per_rt, (int64_t)(now - p->ts));
		if (--p->left == 0) {
			pp_signal(p->sh, now - p->t0);
			return 0;
		}
		p->seq++;
		p->ts = now;
		ret = ra_send(self, p->sh->ponger, PP_PING, &p->seq,
			      sizeof(p->seq));
		if (ret)
			return pinger_fail(p, ret);
		return 0;
	default:
		return pinger_fail(p, -EPROTO);
	}
}

/*
 * The PINGs of a batch carry 0, 1, 2...: answer each with the sequence
 * it should have had, so that the pinger's check of the ACK (bad_acks)
 * also catches a PING lost, repeated or swapped on the way here.
 */
static int ponger_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	uint32_t *next = state, seq;

	if (msg->type != PP_PING || msg->len != sizeof(seq))
		return -EPROTO;
	memcpy(&seq, msg->data, sizeof(seq));
	if (seq == 0)
		*next = 0;	/* a new batch */
	seq = seq == *next ? seq : UINT32_MAX;
	(*next)++;
	return ra_send(self, msg->from, PP_ACK, &seq, sizeof(seq));
}

static const ra_actor_def_t pinger_def = {
	.name = "pinger",
	.state_size = sizeof(struct pinger),
	.init = pinger_init,
	.behavior = pinger_behavior,
};

static const ra_actor_def_t ponger_def = {
	.name = "ponger",
	.state_size = sizeof(uint32_t),	/* the next PING's sequence */
	.behavior = ponger_behavior,
};

/* A runtime with the pair spawned and the shared block wired. */
struct pp_pair {
	ra_runtime_t *rt;
	ra_ref_t pinger;
	struct pp_shared sh;
};

static int pp_setup(struct pp_pair *pp, const ra_config_t *cfg,
		    ra_hdr_t *per_rt)
{
	ra_spawn_opts_t on0 = { .placement = RA_PLACE_SHARD, .shard = 0 };
	ra_spawn_opts_t on1 = { .placement = RA_PLACE_SHARD, .shard = 1 };
	int ret;

	memset(pp, 0, sizeof(*pp));
	pp->sh.per_rt = per_rt;
	pp->sh.efd = eventfd(0, EFD_CLOEXEC);
	if (pp->sh.efd < 0)
		return -errno;
	ret = bench_runtime_create("ping_pong", cfg, &pp->rt);
	if (ret) {
		close(pp->sh.efd);
		return ret;
	}
	ret = ra_runtime_spawn(pp->rt, &ponger_def, NULL, &on1,
			       &pp->sh.ponger);
	if (!ret)
		ret = ra_runtime_spawn(pp->rt, &pinger_def, &pp->sh, &on0,
				       &pp->pinger);
	if (ret) {
		fprintf(stderr, "ping_pong: ra_runtime_spawn: %s\n",
			ra_strerror(ret));
		ra_runtime_destroy(pp->rt);
		close(pp->sh.efd);
		return ret;
	}
	return 0;
}

static void pp_teardown(struct pp_pair *pp)
{
	int ret;

	ret = ra_runtime_destroy(pp->rt);
	if (ret)
		fprintf(stderr, "ping_pong: ra_runtime_destroy: %s\n",
			ra_strerror(ret));
	close(pp->sh.efd);
}

/* One batch: START to the pinger, then sleep until it signals. */
static int pp_batch_rts(struct pp_pair *pp, uint32_t rts, bool record,
			double *batch_ns)
{
	struct pp_start st = { .rts = rts, .record = record };
	int ret;

	ret = ra_runtime_send(pp->rt, pp->pinger, PP_START, &st, sizeof(st));
	if (!ret)
		ret = bench_batch_wait(pp->sh.efd, -1, &pp->sh.batch_ns,
				       batch_ns);
	return ret ? ret : pp->sh.err;
}

struct pp_run {
	struct pp_pair *pp;
	uint32_t rts;
};

static int pp_batch(void *arg, int index, bool timed, double *batch_ns)
{
	struct pp_run *r = arg;

	return pp_batch_rts(r->pp, r->rts, timed, batch_ns);
}

/* The runtime's own counters over all ringactor batches, for printing. */
struct pp_counters {
	bool valid;
	ra_stats_t s0;		/* snapshot before the first batch */
	ra_stats_t s1;		/* snapshot after the last */
	double remote_per_rt;	/* cross-shard sends per round trip */
	double sqes_per_rt;	/* msg_ring SQEs per round trip */
	double sleeps_per_batch; /* shard sleeps per batch */
	uint64_t retries;	/* msg_ring batches re-sent */
	uint64_t dead;		/* dead letters */
};

static void counters_end(struct pp_pair *pp, int batches, int rts,
			 struct pp_counters *c)
{
	double rt_total = (double)batches * rts;

	if (!c->valid)
		return;
	if (batches <= 0 || ra_stats_snapshot(pp->rt, &c->s1)) {
		ra_stats_fini(&c->s0);
		c->valid = false;
		return;
	}
	c->remote_per_rt = (double)(c->s1.msgs_remote - c->s0.msgs_remote) /
			   rt_total;
	c->sqes_per_rt = (double)(c->s1.msgring_batches -
				  c->s0.msgring_batches) / rt_total;
	c->sleeps_per_batch = (double)(c->s1.sleeps - c->s0.sleeps) / batches;
	c->retries = c->s1.msgring_retries - c->s0.msgring_retries;
	c->dead = c->s1.dead_letters - c->s0.dead_letters;
}

static void print_counters(struct pp_counters *c)
{
	if (!c->valid)
		return;
	printf("runtime, all ringactor batches incl. warm-up: remote "
	       "msgs/rt %.2f, msg_ring SQEs/rt %.2f, retries %" PRIu64
	       ", sleeps/batch %.2f, dead letters %" PRIu64 "\n",
	       c->remote_per_rt, c->sqes_per_rt, c->retries,
	       c->sleeps_per_batch, c->dead);
	bench_hdr_summary(stdout, "runtime mailbox wait",
			  c->s1.mailbox_wait_ns);
	bench_hdr_summary(stdout, "runtime behavior run", c->s1.run_ns);
	ra_stats_fini(&c->s0);
	ra_stats_fini(&c->s1);
	c->valid = false;
}

/* One round of the floor: appends its batches to `s`. */
static int floor_round(const struct bench_opts *o, int batches,
		       ra_hdr_t *per_rt, struct bench_series *s,
		       struct floor_msgring *f)
{
	struct bench_cpu cpu;
	uint64_t w0;
	int ret;

	memset(f, 0, sizeof(*f));
	f->warmup = o->warmup;
	f->batches = batches;
	f->rts = o->ops;
	f->pin = o->pin;
	bench_pick_cpus(2, f->cpu);
	w0 = bench_now_ns();
	ret = floor_msgring_run(f, s->batch_ns + s->n, per_rt, &cpu);
	if (ret) {
		fprintf(stderr, "ping_pong: floor: %s\n", strerror(-ret));
		return ret;
	}
	s->n += batches;
	s->wall_ns += (double)(bench_now_ns() - w0);
	bench_cpu_add(&s->cpu, &cpu);
	return 0;
}

static void floor_describe(const struct floor_msgring *f, char *desc,
			   size_t len)
{
	snprintf(desc, len, "floor: msg_ring, CQ peek, %s, %s, %s%s",
		 !f->pinned ? "unpinned" :
		 f->cpu[0] == 0 && f->cpu[1] == 1 ? "CPUs 0,1" : "pinned",
		 f->single_issuer ? "SINGLE_ISSUER" : "plain ring",
		 f->skip_cqe ? "own CQE skipped" : "own CQE reaped",
		 f->shared_cpu ? ", ONE CPU: pollers yield" : "");
}

/*
 * The measured run: o->rounds rounds, each the floor's share of batches
 * then ringactor's, with the runtime kept between them (its shards fall
 * asleep while the floor runs). Fills both series and histograms.
 */
static int run_rounds(const struct bench_opts *o, ra_hdr_t *ra_rt,
		      ra_hdr_t *fl_rt, struct bench_series *ra_s,
		      struct bench_series *fl_s, struct pp_counters *ctr,
		      char *fdesc, size_t fdesc_len)
{
	struct floor_msgring f;
	struct pp_pair pp;
	struct pp_run r;
	ra_config_t cfg;
	int i, nb, ret, ra_batches = 0;

	bench_opts_config(o, &cfg);
	ret = pp_setup(&pp, &cfg, ra_rt);
	if (ret)
		return ret;
	r.pp = &pp;
	r.rts = (uint32_t)o->ops;
	ctr->valid = !ra_stats_snapshot(pp.rt, &ctr->s0);
	for (i = 0; i < o->rounds; i++) {
		nb = bench_round_batches(o, i);
		if (o->floor) {
			ret = floor_round(o, nb, fl_rt, fl_s, &f);
			if (ret)
				break;
			floor_describe(&f, fdesc, fdesc_len);
		}
		ret = bench_run_batches(o->warmup, nb, pp_batch, &r, ra_s);
		ra_batches += o->warmup + nb;
		if (ret) {
			fprintf(stderr, "ping_pong: batch %d: %s\n", ra_s->n,
				ra_strerror(ret));
			break;
		}
	}
	counters_end(&pp, ra_batches, o->ops, ctr);
	if (!ret && pp.sh.bad_acks) {
		fprintf(stderr, "ping_pong: %" PRIu64 " ACKs out of order\n",
			pp.sh.bad_acks);
		ret = -EPROTO;
	}
	pp_teardown(&pp);
	return ret;
}

/*
 * The idle cost: a default 2-shard runtime, one exchange, a wait past the
 * poll window, then the process CPU over `o->idle_window_s` of wall time.
 */
static int run_idle(const struct bench_opts *o, double *pct,
		    double *sleeps)
{
	struct pp_pair pp;
	ra_stats_t s0, s1;
	ra_config_t cfg;
	double ns;
	int ret, have = 0;

	ra_config_init(&cfg);
	cfg.shards = PP_SHARDS;
	ret = pp_setup(&pp, &cfg, NULL);
	if (ret)
		return ret;
	ret = pp_batch_rts(&pp, 1, false, &ns);
	if (!ret) {
		bench_sleep_ns(BENCH_IDLE_SETTLE_NS);
		have = !ra_stats_snapshot(pp.rt, &s0);
		*pct = bench_idle_cpu_pct(o->idle_window_s, NULL);
		*sleeps = -1;
		if (have && !ra_stats_snapshot(pp.rt, &s1)) {
			*sleeps = (double)(s1.sleeps - s0.sleeps);
			ra_stats_fini(&s1);
		}
		if (have)
			ra_stats_fini(&s0);
	}
	pp_teardown(&pp);
	return ret;
}

int main(int argc, char **argv)
{
	struct bench_series ra_s, fl_s;
	struct bench_result ra, fl;
	struct bench_machine m;
	struct bench_opts o;
	struct pp_counters ctr = { .valid = false };
	ra_hdr_t *ra_rt = NULL, *fl_rt = NULL;
	char fdesc[160] = "floor: not run";
	double idle_pct = -1, idle_sleeps = -1, cpu_wall;
	int ret;

	bench_opts_init(&o, "ping_pong", PP_DEFAULT_RTS, PP_SHARDS);
	ret = bench_opts_parse(&o, argc, argv);
	if (ret)
		return ret < 0 ? 2 : 0;
	o.shards = PP_SHARDS;	/* two actors on two shards, always */
	bench_machine_get(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (bench_hdr_create(&ra_rt) || bench_hdr_create(&fl_rt) ||
	    bench_series_init(&ra_s, o.batches) ||
	    bench_series_init(&fl_s, o.batches)) {
		fprintf(stderr, "ping_pong: out of memory\n");
		return 1;
	}
	ret = run_rounds(&o, ra_rt, fl_rt, &ra_s, &fl_s, &ctr, fdesc,
			 sizeof(fdesc));
	if (bench_io_uring_missing(ret))
		return bench_skip_io_uring(ret);
	if (ret)
		return 1;
	bench_print_header(stdout, &o, &m, fdesc);

	bench_result_init(&fl, "floor_msgring", &o);
	bench_result_init(&ra, "ping_pong", &o);
	if (bench_result_fill(&ra, &ra_s, ra_rt))
		return 1;
	cpu_wall = bench_cpu_total_s(&ra_s.cpu) * 1e9 / ra_s.wall_ns;
	bench_result_add(&ra, "cpu_wall_ratio", cpu_wall);
	if (o.floor) {
		if (bench_result_fill(&fl, &fl_s, fl_rt))
			return 1;
		bench_result_set_floor(&ra, &fl);
	}

	if (o.idle) {
		ret = run_idle(&o, &idle_pct, &idle_sleeps);
		if (ret)
			return 1;
		bench_result_add(&ra, "idle_cpu_pct", idle_pct);
		bench_result_add(&ra, "idle_sleeps", idle_sleeps);
	}

	bench_print_row_header(stdout);
	if (o.floor)
		bench_print_row(stdout, &fl);
	bench_print_row(stdout, &ra);
	if (o.floor)
		bench_hdr_summary(stdout, "floor round trip", fl_rt);
	bench_hdr_summary(stdout, "ringactor round trip", ra_rt);
	print_counters(&ctr);
	printf("CPU/wall over the timed batches: ringactor %.2f CPUs\n",
	       cpu_wall);
	if (o.floor)
		printf("ratio ringactor/floor: batch median %.2fx, round trip "
		       "p50 %.2fx; target < %.1fx: %s%s\n", ra.ratio,
		       ra.ratio_op_p50, BENCH_TARGET_RATIO,
		       ra.ratio < BENCH_TARGET_RATIO ? "PASS" : "MISS",
		       o.quick ? " (smoke run)" : "");
	if (o.idle)
		printf("idle 2-shard runtime (default config): %.2f%% of one "
		       "CPU over %.1f s, %.0f shard sleeps; target < %.0f%%: "
		       "%s\n", idle_pct, o.idle_window_s, idle_sleeps,
		       BENCH_TARGET_IDLE_PCT,
		       idle_pct < BENCH_TARGET_IDLE_PCT ? "PASS" : "MISS");

	ret = o.floor ? bench_json_emit("ping_pong", &o, &m, &fl) : 0;
	if (!ret)
		ret = bench_json_emit("ping_pong", &o, &m, &ra);
	if (!ret)
		ret = bench_hgrm_emit("ping_pong", o.hgrm_path, ra_rt);
	bench_series_fini(&ra_s);
	bench_series_fini(&fl_s);
	ra_hdr_destroy(ra_rt);
	ra_hdr_destroy(fl_rt);
	return ret ? 1 : 0;
}
