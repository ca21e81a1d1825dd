#!/usr/bin/env bash
# t/kvserver_expiry.sh: kvserver's active expiry. Keys that are never
# touched again must go (DBSIZE, which counts expired keys not yet
# removed, drops to 0 with nothing but DBSIZE asked), and memory must
# come back after a mass expiry: 300000 SET ... PX 2000, then the
# server's RSS (/proc/PID/status VmRSS) must fall back to within half
# of what the keys took, within seconds. Sanitizer builds keep freed
# memory in quarantine, so there the RSS check is skipped.
set -u
. "${top_srcdir:-.}/t/kvserver_lib.sh"

if ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP redis-cli not installed"
	exit 0
fi
[ -x "$kv" ] || { echo "1..0 # SKIP $kv not built"; exit 0; }
echo "1..6"
start_kv --shards 2 || { echo "Bail out! kvserver did not start"; exit 1; }
cli() { timeout "$T" redis-cli -p "$kv_port" "$@" 2>&1; }

# SET key:i value PX ttl for i in [0, n), pipelined through redis-cli.
mass_set() {	# n ttl_ms
	awk -v n="$1" -v ttl="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = "key:" i
			printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n" \
			       "value12345\r\n$2\r\nPX\r\n$%d\r\n%s\r\n",
			       length(k), k, length(ttl), ttl
		}
	}' | timeout $((60 * scale)) redis-cli -p "$kv_port" --pipe 2>&1 |
		tail -1
}

# until_zero: poll DBSIZE (it touches no key) up to $1 seconds.
until_zero() {
	local i
	for i in $(seq 1 $((10 * $1 * scale))); do
		[ "$(cli dbsize)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

out=$(mass_set 20000 300)
case "$out" in
*"errors: 0, replies: 20000"*) ok 0 "20000 SET PX 300 answered" ;;
*) ok 1 "20000 SET PX 300 answered"; echo "#   $out" ;;
esac
until_zero 5
ok $? "active expiry: DBSIZE falls to 0 with no key touched (now $(cli dbsize))"

base=$(rss_kb "$kv_pid")
mass_set 300000 2000 >/dev/null
peak=$(rss_kb "$kv_pid")
echo "# RSS: ${base} KiB before, ${peak} KiB with 300000 keys"
until_zero 10
ok $? "300000 keys expire, none touched"
if kv_sanitized; then
	skip "RSS under a sanitizer's allocator"
	skip "RSS under a sanitizer's allocator"
else
	# The keys must have taken memory, or the next check proves nothing.
	[ "$((peak - base))" -gt 20000 ]
	ok $? "the keys took memory (+$((peak - base)) KiB)"
	limit=$((base + (peak - base) / 2))
	back=1
	for _ in $(seq 1 $((50 * scale))); do
		now=$(rss_kb "$kv_pid")
		if [ "$now" -le "$limit" ]; then
			back=0
			break
		fi
		sleep 0.1
	done
	ok $back "RSS comes back: ${now} KiB <= ${limit} KiB (half way to the start)"
fi
stop_kv_checked
[ "$failed" -eq 0 ]
