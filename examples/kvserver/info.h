/*
 * examples/kvserver/info.h: INFO. Every shard reports its counters (the
 * ALL route, kv_cmd_info in info.c); the connection merges them with
 * the server-wide figures and writes Redis' text: "# Server", "# Clients",
 * "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU",
 * "# Modules", "# Commandstats", "# Errorstats", "# Latencystats",
 * "# Keyspace", with the fields clients read. Latencystats (per-command
 * p50/p99/p99.9 from this server's HDR histograms) is in the default
 * set here, where Redis only prints it for INFO latencystats/everything.
 */
#ifndef KV_INFO_H
#define KV_INFO_H

#include <stdint.h>

#include <ringactor.h>

#include "command.h"
#include "subreq.h"

/*
 * The conns' latency histograms, one per shard and command: 1 ns to
 * 60 s with 2 significant digits, as Redis' own latency histograms. (At
 * 3 digits each would take 213 KB, all of it touched at creation: 28 MB
 * for 65 commands on 2 shards.)
 */
#define KV_HDR_LOWEST	1
#define KV_HDR_HIGHEST	60000000000LL
#define KV_HDR_SIGFIGS	2

/* The server-wide figures, as the connection sees them now. */
struct kv_info_env {
	const struct kv_config *cfg;
	int64_t start_ms;		/* Unix ms the server started */
	unsigned nshards;
	ra_hdr_t *const *lat;	/* [nshards * KV_CMD_COUNT], or NULL */
	uint64_t connected_clients;
	uint64_t total_connections;
	const char *run_id;		/* 40 hex digits */
};

/*
 * Write INFO's reply for the sections in `aux` (kv_check_info) from the
 * shards' parts. `env` NULL: server-wide figures are zero. 0, -EINVAL
 * (a malformed part), -ENOMEM.
 */
int kv_info_merge(const struct kv_info_env *env, uint32_t aux,
		  const struct kv_part *parts, unsigned nparts,
		  struct resp_buf *out);

#endif /* KV_INFO_H */
