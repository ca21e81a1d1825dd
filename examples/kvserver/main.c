/*
 * examples/kvserver/main.c: a Redis-compatible key-value server built from
 * ringactor actors (see kv.h for the actors and their messages).
 *
 *   kvserver [--port N] [--shards N] [--hgrm FILE] [--idle-poll-us N]
 *            [--proto-max-bulk-len BYTES] [--max-multibulk-len N]
 *            [--client-query-buffer-limit BYTES] [--databases N]
 *
 * Listens on 127.0.0.1:N (default 6380) with N shards (default 2) and runs
 * until SIGINT or SIGTERM (SIGUSR1 makes keyspace 0 fail, to watch the
 * supervisor restart it: see kv.h); then stops the supervision tree in
 * order and prints per-command latency (request parsed
 * to reply queued, from HDR histograms), the runtime's counters, writes
 * the latency distribution of all commands to FILE in HdrHistogram's
 * .hgrm format (in us) if asked, and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"

/* getopt_long() codes of the long options. */
enum {
	OPT_PORT = 256, OPT_SHARDS, OPT_HGRM, OPT_IDLE_POLL, OPT_MAX_BULK,
	OPT_MAX_MBULK, OPT_QUERY_LIMIT, OPT_DATABASES,
};

struct options {
	unsigned shards;
	const char *hgrm;
	long idle_poll_us;	/* -1: the runtime default */
	struct kv_config cfg;	/* port, limits, databases */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kvserver [options]\n"
		   "  --port N     TCP port on 127.0.0.1 (default 6380)\n"
		   "  --shards N   shards, a thread and ring each (default 2)\n"
		   "  --hgrm FILE  write the latency distribution at exit\n"
		   "  --idle-poll-us N  CQ poll before a shard sleeps "
		   "(default: runtime's)\n"
		   "  --proto-max-bulk-len BYTES  longest argument "
		   "(default 512mb)\n"
		   "  --max-multibulk-len N  most arguments per command "
		   "(default 2147483647, Redis 7.0's)\n"
		   "  --client-query-buffer-limit BYTES  longest pending "
		   "request (default 1gb)\n"
		   "  --databases N  SELECT 0..N-1 (default 16)\n"
		   "BYTES may end in k, kb, m, mb, g or gb "
		   "(as in redis.conf).\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Redis' memory units: k = 1000, kb = 1024, and so on; case ignored. */
static int parse_bytes(const char *s, unsigned long long *out)
{
	static const struct {
		const char *unit;
		unsigned long long mul;
	} units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1000 }, { "kb", 1024 },
		{ "m", 1000000 }, { "mb", 1024 * 1024 },
		{ "g", 1000000000 }, { "gb", 1024ull * 1024 * 1024 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].unit) == 0) {
			if (v > ~0ull / units[i].mul)
				return -EINVAL;
			*out = v * units[i].mul;
			return 0;
		}
	return -EINVAL;
}

/* The protocol and memory limits, by getopt_long() code. */
static int parse_limit(int opt, const char *val, struct kv_config *c)
{
	unsigned long long v;

	if (parse_bytes(val, &v) || v == 0)
		return -EINVAL;
	switch (opt) {
	case OPT_MAX_BULK:
		/* A span in a sub-request records lengths in 32 bits. */
		if (v > 0xffffffffull - 64)
			return -EINVAL;
		c->lim.max_bulk = v;
		break;
	case OPT_MAX_MBULK:
		if (v > RESP_DEFAULT_MAX_MBULK)
			return -EINVAL;
		c->lim.max_mbulk = v;
		break;
	case OPT_QUERY_LIMIT:
		c->query_buf_limit = v;
		break;
	default:
		if (v > 256)	/* a sub-request carries it in a byte */
			return -EINVAL;
		c->databases = (unsigned)v;
		break;
	}
	return 0;
}

static int parse_opt(int opt, const char *val, struct options *o)
{
	unsigned long v;

	switch (opt) {
	case OPT_PORT:
		if (parse_uint(val, 65535, &v) || v == 0)
			return -EINVAL;
		o->cfg.port = (int)v;
		return 0;
	case OPT_SHARDS:
		if (parse_uint(val, 1024, &v) || v == 0)
			return -EINVAL;
		o->shards = (unsigned)v;
		return 0;
	case OPT_HGRM:
		o->hgrm = val;
		return 0;
	case OPT_IDLE_POLL:
		if (parse_uint(val, 1000000, &v))
			return -EINVAL;
		o->idle_poll_us = (long)v;
		return 0;
	default:
		return parse_limit(opt, val, &o->cfg);
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option lopts[] = {
		{ "port", required_argument, NULL, OPT_PORT },
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ "hgrm", required_argument, NULL, OPT_HGRM },
		{ "idle-poll-us", required_argument, NULL, OPT_IDLE_POLL },
		{ "proto-max-bulk-len", required_argument, NULL, OPT_MAX_BULK },
		{ "max-multibulk-len", required_argument, NULL, OPT_MAX_MBULK },
		{ "client-query-buffer-limit", required_argument, NULL,
		  OPT_QUERY_LIMIT },
		{ "databases", required_argument, NULL, OPT_DATABASES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	o->cfg = kv_default_config;
	o->shards = 2;
	o->hgrm = NULL;
	o->idle_poll_us = -1;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt == '?' || parse_opt(opt, optarg, o) < 0) {
			if (opt != '?')
				fprintf(stderr, "kvserver: bad value '%s'\n",
					optarg);
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvserver: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Loopback only: this example has no authentication. */
static int listen_on(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 1024)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* INFO's run_id: 40 random hex digits, new at every start. */
static void make_run_id(char id[41])
{
	unsigned char b[20] = { 0 };
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(rand() ^ (int)getpid());
	for (i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

static double us(int64_t ns)
{
	return (double)ns / 1000.0;
}

static void print_row(const char *name, const ra_hdr_t *h)
{
	printf("%-9s %10lld %9.2f %9.2f %9.2f %9.2f\n", name,
	       (long long)ra_hdr_total_count(h),
	       us(ra_hdr_value_at_percentile(h, 50.0)),
	       us(ra_hdr_value_at_percentile(h, 99.0)),
	       us(ra_hdr_value_at_percentile(h, 99.9)), us(ra_hdr_max(h)));
}

/*
 * Merge every shard's histograms per command (all shard threads may
 * still run: a reader may merge while the single writer records) and
 * print one row per command used, then one for all of them. `*all` gets
 * the merged total, for the .hgrm file.
 */
static int report_latency(const struct kv_server *srv, ra_hdr_t **all)
{
	unsigned s;
	int c, r;

	r = ra_hdr_create(KV_HDR_LOWEST, KV_HDR_HIGHEST, KV_HDR_SIGFIGS, all);
	if (r)
		return r;
	printf("\nkvserver latency per command, "
	       "request parsed -> reply queued (us):\n");
	printf("%-9s %10s %9s %9s %9s %9s\n", "command", "count", "p50",
	       "p99", "p99.9", "max");
	for (c = 0; c < KV_CMD_COUNT; c++) {
		ra_hdr_t *h;

		r = ra_hdr_create(KV_HDR_LOWEST, KV_HDR_HIGHEST, KV_HDR_SIGFIGS,
				  &h);
		if (r)
			return r;
		for (s = 0; s < srv->nshards; s++)
			ra_hdr_merge(h, kv_lat(srv, s, (enum kv_cmd_id)c));
		if (ra_hdr_total_count(h) > 0)
			print_row(kv_command_by_id((enum kv_cmd_id)c)->name, h);
		ra_hdr_merge(*all, h);
		ra_hdr_destroy(h);
	}
	print_row("all", *all);
	return 0;
}

static void report_runtime(ra_runtime_t *rt)
{
	ra_stats_t st;

	if (ra_stats_snapshot(rt, &st)) {
		printf("runtime: no statistics (out of memory)\n");
		return;
	}
	printf("\nruntime: %llu actors spawned, %llu live; "
	       "messages %llu local, %llu cross-shard in %llu msg_ring "
	       "batches, %llu dead letters\n",
	       (unsigned long long)st.actors_spawned,
	       (unsigned long long)st.actors_live,
	       (unsigned long long)st.msgs_local,
	       (unsigned long long)st.msgs_remote,
	       (unsigned long long)st.msgring_batches,
	       (unsigned long long)st.dead_letters);
	printf("runtime: I/O %llu submitted, %llu completed; "
	       "shards slept %llu times\n",
	       (unsigned long long)st.io_submitted,
	       (unsigned long long)st.io_completed,
	       (unsigned long long)st.sleeps);
	if (st.mailbox_wait_ns && st.run_ns)
		printf("runtime: mailbox wait p50 %.1f us, p99 %.1f us; "
		       "behavior run p50 %.1f us, p99 %.1f us\n",
		       us(ra_hdr_value_at_percentile(st.mailbox_wait_ns, 50.0)),
		       us(ra_hdr_value_at_percentile(st.mailbox_wait_ns, 99.0)),
		       us(ra_hdr_value_at_percentile(st.run_ns, 50.0)),
		       us(ra_hdr_value_at_percentile(st.run_ns, 99.0)));
	ra_stats_fini(&st);
}

/*
 * SIGUSR1: fault injection for demos and tests. Keyspace 0 (found by its
 * registered name) is made to fail (exit/2 with -EIO); the kv supervisor
 * (rest_for_one) then stops and restarts everything started after it.
 */
static void inject_fault(ra_runtime_t *rt)
{
	ra_ref_t ks;
	int r = ra_whereis(rt, "keyspace.0", &ks);

	if (r == 0)
		r = ra_runtime_exit_actor(rt, ks, -EIO,
					  "fault injected (SIGUSR1)");
	printf("kvserver: SIGUSR1: failing keyspace.0: %s\n",
	       r ? ra_strerror(r) : "sent");
	fflush(stdout);
}

static int write_hgrm(const char *path, const ra_hdr_t *h)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -errno;
	r = ra_hdr_write_percentiles(h, f, 5, 1000.0);
	if (fclose(f) && !r)
		r = -EIO;
	return r;
}

int main(int argc, char **argv)
{
	struct kv_server srv = { .listen_fd = -1 };
	ra_runtime_t *rt = NULL;
	ra_ref_t top;
	ra_hdr_t *all = NULL;
	struct options o;
	ra_config_t cfg;
	sigset_t sigs;
	size_t i, nlat;
	int r, sig, status = 0;

	if (parse_args(argc, argv, &o))
		return 2;

	/*
	 * A shell starts background jobs with SIGINT ignored; an ignored
	 * signal may be dropped rather than left pending for
	 * ra_runtime_run_until_signal(), so take the default back first, and
	 * block the set in this thread (shard threads block every such
	 * signal themselves).
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.listen_fd = listen_on(o.cfg.port);
	if (srv.listen_fd < 0) {
		fprintf(stderr, "kvserver: cannot listen on 127.0.0.1:%d: %s\n",
			o.cfg.port, strerror(-srv.listen_fd));
		return 1;
	}
	srv.cfg = &o.cfg;
	srv.start_ms = unix_ms();
	make_run_id(srv.run_id);
	atomic_init(&srv.next_client_id, 1);
	srv.nshards = o.shards;
	srv.keyspace = calloc(o.shards, sizeof(*srv.keyspace));
	nlat = (size_t)o.shards * KV_CMD_COUNT;
	srv.lat = calloc(nlat, sizeof(*srv.lat));
	if (!srv.keyspace || !srv.lat ||
	    kv_handoff_create(&srv, KV_HANDOFF_SLOTS)) {
		fprintf(stderr, "kvserver: out of memory\n");
		return 1;
	}
	for (i = 0; i < nlat; i++) {
		r = ra_hdr_create(KV_HDR_LOWEST, KV_HDR_HIGHEST, KV_HDR_SIGFIGS,
				  &srv.lat[i]);
		if (r) {
			fprintf(stderr, "kvserver: histograms: %s\n",
				ra_strerror(r));
			return 1;
		}
	}

	ra_config_init(&cfg);
	cfg.shards = o.shards;
	if (o.idle_poll_us >= 0)
		cfg.idle_poll_ns = (uint64_t)o.idle_poll_us * 1000;
	r = ra_runtime_create(&cfg, &rt);
	if (r) {
		fprintf(stderr, "kvserver: cannot start the runtime: %s\n%s\n",
			ra_strerror(r), ra_last_error());
		return 1;
	}
	r = kv_tree_start(rt, &srv, &top);
	if (r)
		goto spawn_failed;
	printf("kvserver: listening on 127.0.0.1:%d with %u shard%s (pid %d)\n",
	       o.cfg.port, o.shards, o.shards == 1 ? "" : "s", (int)getpid());
	fflush(stdout);

	while ((sig = ra_runtime_run_until_signal(rt, &sigs)) == SIGUSR1)
		inject_fault(rt);
	printf("kvserver: %s, shutting down\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	       "no actor left");
	/* Ordered: the acceptor, then the connections, then the keys. */
	ra_runtime_exit_actor(rt, top, RA_EXIT_SHUTDOWN, "signal");
	if (ra_runtime_wait_idle(rt, 5000000000ull))
		fprintf(stderr, "kvserver: the tree did not stop in 5 s\n");
	printf("kvserver: supervision: %u child exits, %u restarts\n",
	       atomic_load(&srv.child_exits), atomic_load(&srv.restarts));

	if (report_latency(&srv, &all) == 0 && o.hgrm) {
		r = write_hgrm(o.hgrm, all);
		if (r) {
			fprintf(stderr, "kvserver: cannot write %s: %s\n",
				o.hgrm, strerror(-r));
			status = 1;
		} else {
			printf("kvserver: latency distribution written to %s\n",
			       o.hgrm);
		}
	}
	report_runtime(rt);
	fflush(stdout);
	goto destroy;

spawn_failed:
	fprintf(stderr, "kvserver: cannot spawn: %s\n", ra_strerror(r));
	status = 1;
destroy:
	r = ra_runtime_destroy(rt);
	if (r) {
		fprintf(stderr, "kvserver: runtime destroy: %s\n",
			ra_strerror(r));
		status = 1;
	}
	/* No actor is left: sockets no conn claimed are ours to close. */
	kv_handoff_destroy(&srv);
	close(srv.listen_fd);
	ra_hdr_destroy(all);
	for (i = 0; i < nlat; i++)
		ra_hdr_destroy(srv.lat[i]);
	free(srv.lat);
	free(srv.keyspace);
	return status;
}
