/*
 * examples/reporter.c: a pool of workers doing RATE jobs a second, and a
 * reporter actor that every second (ra_send_interval) takes
 * ra_stats_snapshot and prints the messages delivered per second and
 * p50/p99 of the runtime's mailbox-wait and run-time HDR histograms. Those
 * count from the start, one message in ra_config_t.timing_sample (16 by
 * default). --seconds N stops it after N reports; SIGINT or SIGTERM at any
 * time.
 */
#include <getopt.h>
#include <stdlib.h>

#include <ringactor.h>

#define MS 1000000ull
#define WORKERS 10
#define RATE 100000		/* jobs per second */

enum { JOB = 1, TICK };

static unsigned long seconds;

static int worker_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state, (void)arg;
	return ra_send_interval(self, ra_self(self), MS, TICK, NULL, 0, NULL);
}

/*
 * Every ms a worker queues itself its share of the jobs, which then wait
 * in its mailbox behind each other: the mailbox-wait histogram shows it.
 * A job is a little arithmetic, kept in state so it is not optimized out.
 */
static int worker_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	uint64_t *x = state;

	for (int i = 0; m->type == TICK && i < RATE / 1000 / WORKERS; i++)
		(void)ra_send(self, ra_self(self), JOB, NULL, 0);
	for (int i = 0; m->type == JOB && i < 100; i++)
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return 0;
}

static const ra_actor_def_t worker_def = {
	.name = "worker", .state_size = sizeof(uint64_t),
	.init = worker_init, .behavior = worker_behavior,
};

struct reporter {
	unsigned reports;
	uint64_t t, msgs;	/* at the last report */
};

static int reporter_init(ra_ctx_t *self, void *state, void *arg)
{
	/* Linked: when the reporter is done, its exit stops them too. */
	ra_spawn_opts_t linked_rr = {
		.placement = RA_PLACE_ROUND_ROBIN, .flags = RA_SPAWN_LINK,
	};
	struct reporter *rp = state;
	int r = 0;

	(void)arg;
	for (int i = 0; i < WORKERS && r == 0; i++)
		r = ra_spawn(self, &worker_def, NULL, &linked_rr, NULL);
	rp->t = ra_now_ns();
	return r ? r : ra_send_interval(self, ra_self(self), 1000 * MS, TICK,
					NULL, 0, NULL);
}

static double us(const ra_hdr_t *h, double p)	/* the percentile in us */
{
	return (double)ra_hdr_value_at_percentile(h, p) / 1e3;
}

static int reporter_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct reporter *rp = state;
	uint64_t now = ra_now_ns();
	ra_stats_t st;

	(void)m;
	if (ra_stats_snapshot(ra_runtime(self), &st) < 0)
		return 0;	/* no memory now: try again next second */
	printf("[%4us] %8.0f msgs/s  mailbox wait p50 %7.1f us p99 %7.1f us"
	       "  run p50 %6.1f us p99 %6.1f us\n", ++rp->reports,
	       (double)(st.msgs_delivered - rp->msgs) * 1e9 /
	       (double)(now - rp->t), us(st.mailbox_wait_ns, 50),
	       us(st.mailbox_wait_ns, 99), us(st.run_ns, 50),
	       us(st.run_ns, 99));
	rp->t = now;
	rp->msgs = st.msgs_delivered;
	ra_stats_fini(&st);
	/* Shutdown, not normal, so that it goes on along the links. */
	if (rp->reports == seconds)
		ra_exit(self, RA_EXIT_SHUTDOWN, "done");
	return 0;
}

static const ra_actor_def_t reporter_def = {
	.name = "reporter", .state_size = sizeof(struct reporter),
	.init = reporter_init, .behavior = reporter_behavior,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "shards", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	ra_runtime_t *rt;
	ra_config_t cfg;
	sigset_t stop;
	char *end = "";
	int c;

	ra_config_init(&cfg);
	cfg.shards = 2;
	while ((c = getopt_long(argc, argv, "t:s:h", opts, NULL)) != -1) {
		if (c == 't')
			seconds = strtoul(optarg, &end, 10);
		else if (c == 's')
			cfg.shards = (unsigned)strtoul(optarg, &end, 10);
		if (c == 'h' || c == '?' || *end || !cfg.shards) {
			fprintf(c == 'h' ? stdout : stderr, "usage: reporter "
				"[--seconds N (0: until a signal)] "
				"[--shards N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	/* Blocked before any thread starts, so only our wait takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ra_runtime_create(&cfg, &rt) < 0 ||
	    ra_runtime_spawn(rt, &reporter_def, NULL, NULL, NULL) < 0) {
		fprintf(stderr, "reporter: %s\n", ra_last_error());
		return 1;
	}
	/* 0: the reporter is done (--seconds) and every actor has stopped. */
	c = ra_runtime_run_until_signal(rt, &stop);
	ra_runtime_destroy(rt);
	return c < 0;
}
