/*
 * examples/kvserver/info.c: INFO's sections (see info.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "info.h"
#include "keyspace.h"
#include "store.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum {
	S_SERVER, S_CLIENTS, S_MEMORY, S_PERSISTENCE, S_STATS,
	S_REPLICATION, S_CPU, S_MODULES, S_COMMANDSTATS, S_ERRORSTATS,
	S_LATENCYSTATS, S_KEYSPACE, S_COUNT
};

static const char *const section_names[S_COUNT] = {
	"server", "clients", "memory", "persistence", "stats",
	"replication", "cpu", "modules", "commandstats", "errorstats",
	"latencystats", "keyspace",
};

#define BIT(s) (1u << (s))
#define S_DEFAULT (BIT(S_SERVER) | BIT(S_CLIENTS) | BIT(S_MEMORY) | \
		   BIT(S_PERSISTENCE) | BIT(S_STATS) | BIT(S_REPLICATION) | \
		   BIT(S_CPU) | BIT(S_MODULES) | BIT(S_ERRORSTATS) | \
		   BIT(S_LATENCYSTATS) | BIT(S_KEYSPACE))
#define S_ALL ((BIT(S_COUNT) - 1) & ~BIT(S_MODULES))

/* INFO [section ...]: which sections, as a bit mask; unknown ones none. */
int kv_check_info(size_t argc, const struct resp_str *argv, uint32_t *aux,
		  struct resp_buf *out)
{
	size_t i, s;

	(void)out;
	*aux = argc == 1 ? S_DEFAULT : 0;
	for (i = 1; i < argc; i++) {
		if (resp_arg_is(&argv[i], "default"))
			*aux |= S_DEFAULT;
		else if (resp_arg_is(&argv[i], "all"))
			*aux |= S_ALL;
		else if (resp_arg_is(&argv[i], "everything"))
			*aux |= BIT(S_COUNT) - 1;
		for (s = 0; s < S_COUNT; s++)
			if (resp_arg_is(&argv[i], section_names[s]))
				*aux |= BIT(s);
	}
	return 1;
}

/* ---- the shard's part ---- */

/* Sent as one BULK result: counters, then per database keys/expires. */
struct shard_head {
	uint64_t hits, misses, expired;
	uint32_t ndb;
	uint32_t pad;
};

struct shard_db {
	uint64_t keys, expires;
	int64_t avg_ttl;
};

int kv_cmd_info(struct kv_exec *x, size_t argc, const struct resp_str *argv)
{
	struct kv_store *st = x->st;
	struct shard_head h = {
		.hits = st->hits, .misses = st->misses,
		.expired = kv_store_expired(st), .ndb = st->ndb,
	};
	size_t len = sizeof(h) + st->ndb * sizeof(struct shard_db);
	unsigned char *buf = malloc(len);
	unsigned i;
	int r;

	(void)argc;
	(void)argv;
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	for (i = 0; i < st->ndb; i++) {
		struct shard_db d = { ks_count(st->db[i]),
				      ks_volatile(st->db[i]),
				      ks_avg_ttl(st->db[i]) };

		memcpy(buf + sizeof(h) + i * sizeof(d), &d, sizeof(d));
	}
	r = kv_subreply_bulk(x->out, buf, len);
	free(buf);
	return r;
}

/* ---- merging and writing ---- */

struct tot_db {
	uint64_t keys, expires;
	double ttl_weighted;	/* sum of avg_ttl * expires over shards */
};

struct totals {
	uint64_t hits, misses, expired;
	uint32_t ndb;
	struct tot_db *db;	/* [ndb] */
};

static int add_part(struct totals *t, const struct kv_part *part)
{
	struct kv_cursor c;
	struct kv_result r;
	struct shard_head h;
	uint32_t i;

	if (kv_cursor_open(&c, part) || kv_cursor_next(&c, &r) ||
	    r.type != KV_R_BULK || r.len < sizeof(h))
		return -EINVAL;
	memcpy(&h, r.p, sizeof(h));
	if (r.len != sizeof(h) + h.ndb * sizeof(struct shard_db) ||
	    (t->db && h.ndb != t->ndb))
		return -EINVAL;
	if (!t->db) {
		t->ndb = h.ndb;
		t->db = calloc(h.ndb ? h.ndb : 1, sizeof(*t->db));
		if (!t->db)
			return -ENOMEM;
	}
	t->hits += h.hits;
	t->misses += h.misses;
	t->expired += h.expired;
	for (i = 0; i < h.ndb; i++) {
		struct shard_db d;

		memcpy(&d, r.p + sizeof(h) + i * sizeof(d), sizeof(d));
		t->db[i].keys += d.keys;
		t->db[i].expires += d.expires;
		/* Shards' estimates, weighted by their keys with a time. */
		t->db[i].ttl_weighted += (double)d.avg_ttl *
					 (double)d.expires;
	}
	return 0;
}

/* Formatted lines, appended; an allocation failure is remembered. */
struct text {
	struct resp_buf b;
	int err;
	int sections;
};

static void line(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void line(struct text *t, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || t->err)
		return;
	if ((size_t)n > sizeof(tmp) - 3)
		n = (int)sizeof(tmp) - 3;
	memcpy(tmp + n, "\r\n", 2);
	if (resp_add_raw(&t->b, tmp, (size_t)n + 2))
		t->err = -ENOMEM;
}

/* A blank line between sections, as Redis separates them. */
static void section(struct text *t, const char *title)
{
	if (t->sections++)
		line(t, "%s", "");
	line(t, "# %s", title);
}

static void human(char *buf, size_t sz, uint64_t bytes)
{
	double v = (double)bytes;

	if (bytes < 1024)
		snprintf(buf, sz, "%" PRIu64 "B", bytes);
	else if (bytes < 1024 * 1024)
		snprintf(buf, sz, "%.2fK", v / 1024);
	else if (bytes < 1024ull * 1024 * 1024)
		snprintf(buf, sz, "%.2fM", v / (1024 * 1024));
	else
		snprintf(buf, sz, "%.2fG", v / (1024.0 * 1024 * 1024));
}

static int64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void server(struct text *t, const struct kv_info_env *env)
{
	struct utsname u;
	int64_t up = env ? (now_us() / 1000 - env->start_ms) / 1000 : 0;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	section(t, "Server");
	line(t, "redis_version:7.0.15");
	line(t, "ringactor_version:%s", PACKAGE_VERSION);
	line(t, "redis_git_sha1:00000000");
	line(t, "redis_git_dirty:0");
	line(t, "redis_build_id:0");
	line(t, "redis_mode:standalone");
	line(t, "os:%s %s %s", u.sysname, u.release, u.machine);
	line(t, "arch_bits:%d", (int)(sizeof(void *) * 8));
	line(t, "multiplexing_api:io_uring");
	line(t, "process_id:%d", (int)getpid());
	line(t, "process_supervised:no");
	line(t, "run_id:%s", env && env->run_id ? env->run_id : "");
	line(t, "tcp_port:%d", env ? env->cfg->port : 0);
	line(t, "server_time_usec:%" PRId64, now_us());
	line(t, "uptime_in_seconds:%" PRId64, up);
	line(t, "uptime_in_days:%" PRId64, up / 86400);
	line(t, "hz:10");
	line(t, "configured_hz:10");
	line(t, "config_file:");
	line(t, "io_threads_active:0");
	line(t, "ringactor_shards:%u", env ? env->nshards : 0);
}

static void clients(struct text *t, const struct kv_info_env *env)
{
	section(t, "Clients");
	line(t, "connected_clients:%" PRIu64, env ? env->connected_clients
						  : 0);
	line(t, "cluster_connections:0");
	line(t, "maxclients:10000");
	line(t, "blocked_clients:0");
	line(t, "tracking_clients:0");
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void memory(struct text *t)
{
	struct mallinfo2 mi = mallinfo2();
	uint64_t used = mi.uordblks + mi.hblkhd, rss = rss_bytes();
	char h1[32], h2[32];

	human(h1, sizeof(h1), used);
	human(h2, sizeof(h2), rss);
	section(t, "Memory");
	line(t, "used_memory:%" PRIu64, used);
	line(t, "used_memory_human:%s", h1);
	line(t, "used_memory_rss:%" PRIu64, rss);
	line(t, "used_memory_rss_human:%s", h2);
	line(t, "maxmemory:0");
	line(t, "maxmemory_human:0B");
	line(t, "maxmemory_policy:noeviction");
	line(t, "mem_allocator:libc");
}

static void persistence(struct text *t, const struct kv_info_env *env)
{
	section(t, "Persistence");
	line(t, "loading:0");
	line(t, "async_loading:0");
	line(t, "rdb_changes_since_last_save:0");
	line(t, "rdb_bgsave_in_progress:0");
	line(t, "rdb_last_save_time:%" PRId64, env ? env->start_ms / 1000
						   : 0);
	line(t, "rdb_last_bgsave_status:ok");
	line(t, "aof_enabled:0");
	line(t, "aof_rewrite_in_progress:0");
}

/* Sum of shard s's histograms of command c, or one merged copy. */
static ra_hdr_t *lat_of(const struct kv_info_env *env, unsigned s, int c)
{
	return env->lat[(size_t)s * KV_CMD_COUNT + (size_t)c];
}

static uint64_t calls_of(const struct kv_info_env *env, int c)
{
	uint64_t n = 0;
	unsigned s;

	for (s = 0; env && env->lat && s < env->nshards; s++)
		n += (uint64_t)ra_hdr_total_count(lat_of(env, s, c));
	return n;
}

static void stats(struct text *t, const struct kv_info_env *env,
		  const struct totals *tot)
{
	uint64_t cmds = 0;
	int c;

	for (c = 0; c < KV_CMD_COUNT; c++)
		cmds += calls_of(env, c);
	section(t, "Stats");
	line(t, "total_connections_received:%" PRIu64,
	     env ? env->total_connections : 0);
	line(t, "total_commands_processed:%" PRIu64, cmds);
	line(t, "instantaneous_ops_per_sec:0");
	line(t, "rejected_connections:0");
	line(t, "expired_keys:%" PRIu64, tot->expired);
	line(t, "evicted_keys:0");
	line(t, "keyspace_hits:%" PRIu64, tot->hits);
	line(t, "keyspace_misses:%" PRIu64, tot->misses);
	line(t, "pubsub_channels:0");
	line(t, "pubsub_patterns:0");
}

static void cpu(struct text *t)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		memset(&ru, 0, sizeof(ru));
	section(t, "CPU");
	line(t, "used_cpu_sys:%ld.%06ld", (long)ru.ru_stime.tv_sec,
	     (long)ru.ru_stime.tv_usec);
	line(t, "used_cpu_user:%ld.%06ld", (long)ru.ru_utime.tv_sec,
	     (long)ru.ru_utime.tv_usec);
}

/*
 * Per-command figures from the shards' latency histograms (request
 * parsed to reply queued): each has a single writer, and a reader may
 * merge it while it records (ringactor.h), so a merged copy is safe.
 */
static void per_command(struct text *t, const struct kv_info_env *env,
			bool latency)
{
	int c;

	section(t, latency ? "Latencystats" : "Commandstats");
	for (c = 0; c < KV_CMD_COUNT && env && env->lat; c++) {
		const char *name = kv_command_by_id((enum kv_cmd_id)c)->name;
		ra_hdr_t *h;
		unsigned s;
		double us;

		if (!calls_of(env, c))
			continue;
		if (ra_hdr_create(KV_HDR_LOWEST, KV_HDR_HIGHEST,
				  KV_HDR_SIGFIGS, &h)) {
			t->err = -ENOMEM;
			return;
		}
		for (s = 0; s < env->nshards; s++)
			ra_hdr_merge(h, lat_of(env, s, c));
		us = ra_hdr_mean(h) / 1000.0;
		if (latency)
			line(t, "latency_percentiles_usec_%s:p50=%.3f,"
			     "p99=%.3f,p99.9=%.3f", name,
			     ra_hdr_value_at_percentile(h, 50.0) / 1000.0,
			     ra_hdr_value_at_percentile(h, 99.0) / 1000.0,
			     ra_hdr_value_at_percentile(h, 99.9) / 1000.0);
		else
			line(t, "cmdstat_%s:calls=%" PRId64 ",usec=%.0f,"
			     "usec_per_call=%.2f,rejected_calls=0,"
			     "failed_calls=0", name, ra_hdr_total_count(h),
			     us * (double)ra_hdr_total_count(h), us);
		ra_hdr_destroy(h);
	}
}

static void keyspace(struct text *t, const struct totals *tot)
{
	uint32_t i;

	section(t, "Keyspace");
	for (i = 0; i < tot->ndb; i++) {
		const struct tot_db *d = &tot->db[i];

		if (d->keys)
			line(t, "db%u:keys=%" PRIu64 ",expires=%" PRIu64
			     ",avg_ttl=%.0f", i, d->keys, d->expires,
			     d->expires ? d->ttl_weighted / (double)d->expires
					: 0.0);
	}
}

static void render(struct text *t, const struct kv_info_env *env,
		   uint32_t aux, const struct totals *tot)
{
	if (aux & BIT(S_SERVER))
		server(t, env);
	if (aux & BIT(S_CLIENTS))
		clients(t, env);
	if (aux & BIT(S_MEMORY))
		memory(t);
	if (aux & BIT(S_PERSISTENCE))
		persistence(t, env);
	if (aux & BIT(S_STATS))
		stats(t, env, tot);
	if (aux & BIT(S_REPLICATION)) {
		section(t, "Replication");
		line(t, "role:master");
		line(t, "connected_slaves:0");
	}
	if (aux & BIT(S_CPU))
		cpu(t);
	if (aux & BIT(S_MODULES))
		section(t, "Modules");
	if (aux & BIT(S_COMMANDSTATS))
		per_command(t, env, false);
	if (aux & BIT(S_ERRORSTATS))
		section(t, "Errorstats");
	if (aux & BIT(S_LATENCYSTATS))
		per_command(t, env, true);
	if (aux & BIT(S_KEYSPACE))
		keyspace(t, tot);
}

int kv_info_merge(const struct kv_info_env *env, uint32_t aux,
		  const struct kv_part *parts, unsigned nparts,
		  struct resp_buf *out)
{
	struct totals tot = { 0 };
	struct text t = { .err = 0 };
	unsigned p;
	int r = 0;

	resp_buf_init(&t.b);
	for (p = 0; p < nparts && !r; p++)
		r = add_part(&tot, &parts[p]);
	if (!r) {
		render(&t, env, aux, &tot);
		r = t.err ? t.err : resp_add_bulk(out, t.b.data, t.b.len);
	}
	resp_buf_fini(&t.b);
	free(tot.db);
	return r;
}
