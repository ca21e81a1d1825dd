#!/usr/bin/env bash
# t/kvserver_info.sh: kvserver's INFO carries the fields clients read, in
# Redis' format: the Server section (redis_version, ringactor_version,
# redis_mode, tcp_port, uptime), Clients, Stats (commands, connections,
# keyspace hits and misses counted exactly), Keyspace per database, and
# per-command latency percentiles from the HDR histograms.
set -u
. "${top_srcdir:-.}/t/kvserver_lib.sh"

if ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP redis-cli not installed"
	exit 0
fi
[ -x "$kv" ] || { echo "1..0 # SKIP $kv not built"; exit 0; }
echo "1..13"
start_kv --shards 3 || { echo "Bail out! kvserver did not start"; exit 1; }
cli() { timeout "$T" redis-cli -p "$kv_port" "$@" 2>&1 | tr -d '\r'; }
# field NAME: its value in $info.
field() {
	printf '%s\n' "$info" | sed -n "s/^$1://p"
}

cli set k1 a >/dev/null
cli set k2 b ex 100 >/dev/null
cli set k3 c >/dev/null
cli get k1 >/dev/null
cli get k2 >/dev/null
cli get nokey >/dev/null
cli select 1 >/dev/null
info=$(cli info)

is "$(field redis_version)" "7.0.15" "redis_version is 7.0.15"
case "$(field ringactor_version)" in
[0-9]*) ok 0 "ringactor_version is there" ;;
*) ok 1 "ringactor_version is there" ;;
esac
is "$(field redis_mode)" "standalone" "redis_mode"
is "$(field tcp_port)" "$kv_port" "tcp_port"
case "$(field uptime_in_seconds)" in
[0-9]*) ok 0 "uptime_in_seconds" ;;
*) ok 1 "uptime_in_seconds" ;;
esac
[ "$(field connected_clients)" -ge 1 ] 2>/dev/null
ok $? "connected_clients counts this one ($(field connected_clients))"
# 7 commands before INFO, each on its own connection.
[ "$(field total_commands_processed)" -ge 7 ] 2>/dev/null &&
	[ "$(field total_connections_received)" -ge 8 ] 2>/dev/null
ok $? "total_commands_processed and total_connections_received"
is "$(field keyspace_hits):$(field keyspace_misses)" "2:1" \
	"keyspace_hits and keyspace_misses count GETs exactly"
case "$(field db0)" in
"keys=3,expires=1,avg_ttl="*) ok 0 "Keyspace: db0 with 3 keys, 1 with a time" ;;
*) ok 1 "Keyspace: db0 with 3 keys, 1 with a time"
   echo "#   db0:$(field db0)" ;;
esac
case "$(field latency_percentiles_usec_get)" in
p50=*,p99=*,p99.9=*) ok 0 "p50/p99/p99.9 of GET from the HDR histograms" ;;
*) ok 1 "p50/p99/p99.9 of GET from the HDR histograms" ;;
esac
info=$(cli info keyspace)
is "$(printf '%s\n' "$info" | head -1)" "# Keyspace" \
	"INFO keyspace: that section alone"
is "$(cli info nosuchsection)" "" "an unknown section: an empty reply"
stop_kv_checked
[ "$failed" -eq 0 ]
