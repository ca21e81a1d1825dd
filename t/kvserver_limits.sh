#!/usr/bin/env bash
# t/kvserver_limits.sh: kvserver's protocol limits, which are Redis 7.0's
# and configurable, and its memory safety:
#   - a client that declares a 512 MB argument and sends 3 bytes costs
#     no memory (RSS does not jump) and does not hold others up;
#   - a 1 MiB value round-trips; MGET of 10000 keys works;
#   - a count over --max-multibulk-len (1048576 here, Redis 6's limit;
#     7.0 allows INT_MAX) gets Redis' error and the connection closes;
#     1048576 does not;
#   - --proto-max-bulk-len: a longer bulk is Redis' "invalid bulk
#     length", APPEND past it Redis' "string exceeds maximum allowed
#     size"; --client-query-buffer-limit: a request past it closes the
#     connection without a reply, as Redis does.
set -u
. "${top_srcdir:-.}/t/kvserver_lib.sh"

if ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP redis-cli not installed"
	exit 0
fi
[ -x "$kv" ] || { echo "1..0 # SKIP $kv not built"; exit 0; }
echo "1..12"
start_kv --shards 2 || { echo "Bail out! kvserver did not start"; exit 1; }
cli() { timeout "$T" redis-cli -p "$kv_port" "$@" 2>&1; }

# send BYTES: on a fresh connection, what comes back until the server
# closes it; "<open>" when it is still open after 2 seconds.
send() {
	exec 3<>"/dev/tcp/127.0.0.1/$kv_port"
	printf '%b' "$1" >&3
	timeout 2 cat <&3 >"$tmp/send.out"
	[ $? -eq 124 ] && printf '<open>' >>"$tmp/send.out"
	exec 3<&- 3>&-
	tr -d '\r' <"$tmp/send.out"
}

restart() {
	kill -TERM "$kv_pid"
	wait "$kv_pid" 2>/dev/null
	kv_pid=""
	start_kv --shards 2 "$@" ||
		{ echo "Bail out! kvserver did not restart"; exit 1; }
}

# ---- a declared 512 MB bulk with 3 bytes sent (Redis' defaults)
vm_kb() {
	awk '/^VmSize:/ { print $2 }' "/proc/$1/status"
}
base=$(rss_kb "$kv_pid")
vbase=$(vm_kb "$kv_pid")
exec 4<>"/dev/tcp/127.0.0.1/$kv_port"
printf '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc' >&4
sleep 0.5
now=$(rss_kb "$kv_pid")
vnow=$(vm_kb "$kv_pid")
[ "$now" -lt "$((base + 8192))" ]
ok $? "512 MB announced, 3 bytes sent: RSS ${base} -> ${now} KiB, no jump"
# Untouched memory would not show in RSS; a reservation shows here.
[ "$vnow" -lt "$((vbase + 65536))" ]
ok $? "nor was it reserved: VmSize ${vbase} -> ${vnow} KiB"
is "$(cli ping)" "PONG" "and another client is served meanwhile"
exec 4<&- 4>&-

# ---- big values and many keys
big=$(head -c 786432 /dev/urandom | base64 -w 0)	# 1 MiB of text
printf %s "$big" | cli -x set bigvalue >/dev/null
got=$(cli get bigvalue)
is "${#got}:$(printf %s "$got" | md5sum)" \
	"${#big}:$(printf %s "$big" | md5sum)" "a 1 MiB value round-trips"
# shellcheck disable=SC2046
cli mset $(awk 'BEGIN { for (i = 1; i <= 10000; i++) print "mk" i, "v" i }') \
	>/dev/null
# shellcheck disable=SC2046
got=$(cli mget $(seq -f 'mk%g' 1 10000) | grep -c '^v')
is "$got" 10000 "MGET of 10000 keys answers 10000 values"

# ---- the configured limits
restart --max-multibulk-len 1048576 --proto-max-bulk-len 2mb \
	--client-query-buffer-limit 4mb
is "$(send '*1048577\r\n')" "-ERR Protocol error: invalid multibulk length" \
	"more arguments than --max-multibulk-len: Redis' error, then close"
is "$(send '*1048576\r\n')" "<open>" \
	"exactly the limit: the request waits for its arguments"
is "$(send '*1\r\n$2097153\r\n')" "-ERR Protocol error: invalid bulk length" \
	"a bulk over --proto-max-bulk-len: Redis' error, then close"
cli set s x >/dev/null
head -c 2097151 /dev/zero | tr '\0' a | cli -x append s >/dev/null
is "$(cli append s yz)" \
	"ERR string exceeds maximum allowed size (proto-max-bulk-len)" \
	"APPEND past --proto-max-bulk-len: Redis' error"
# 3 bulks of 2 MB: the request passes 4 MB before it is whole.
exec 3<>"/dev/tcp/127.0.0.1/$kv_port"
{ printf '*4\r\n$3\r\nDEL\r\n'
  for _ in 1 2 3; do
	printf '$2000000\r\n'; head -c 2000000 /dev/zero; printf '\r\n'
  done; } >&3 2>/dev/null &
writer=$!
# Closed with bytes unread, the kernel resets the connection: cat ends
# with EOF or ECONNRESET, either way not by the timeout.
timeout "$T" cat <&3 >"$tmp/qb.out" 2>/dev/null
st=$?
wait "$writer" 2>/dev/null
exec 3<&- 3>&-
[ "$st" -ne 124 ] && [ ! -s "$tmp/qb.out" ]
ok $? "a request past --client-query-buffer-limit: closed, no reply"
is "$(cli ping)" "PONG" "the server goes on"
stop_kv_checked
[ "$failed" -eq 0 ]
