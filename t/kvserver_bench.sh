#!/usr/bin/env bash
# t/kvserver_bench.sh: redis-benchmark against kvserver, checked for
# completion and errors, not for speed:
#   - the default suite (no -t: PING, SET, GET, INCR, LPUSH, RPUSH, LPOP,
#     RPOP, SADD, HSET, SPOP, ZADD, ZPOPMIN, LRANGE_100..600, MSET) runs
#     to the end, every test with a result and no error line;
#   - every command kvserver supports (but QUIT, which closes the
#     connection), given to redis-benchmark as a command line over
#     random keys, completes without an error reply.
set -u
. "${top_srcdir:-.}/t/kvserver_lib.sh"

for tool in redis-cli redis-benchmark; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done
[ -x "$kv" ] || { echo "1..0 # SKIP $kv not built"; exit 0; }

# One command line per supported command, keys by type so that no
# command meets a key of the wrong type.
commands=(
	"PING" "ECHO hello" "SET s:__rand_int__ v" "SET s:__rand_int__ v EX 1000 NX"
	"GET s:__rand_int__" "SETNX s:__rand_int__ v" "GETSET s:__rand_int__ w"
	"APPEND s:__rand_int__ x" "STRLEN s:__rand_int__" "GETDEL s:__rand_int__"
	"INCR c:__rand_int__" "DECR c:__rand_int__" "INCRBY c:__rand_int__ 5"
	"DECRBY c:__rand_int__ 5" "MSET s:__rand_int__ a s:__rand_int__ b"
	"MGET s:__rand_int__ s:__rand_int__ s:__rand_int__"
	"EXISTS s:__rand_int__ c:__rand_int__" "EXPIRE s:__rand_int__ 1000"
	"PEXPIRE s:__rand_int__ 1000000" "EXPIREAT s:__rand_int__ 4000000000"
	"PEXPIREAT s:__rand_int__ 4000000000000" "TTL s:__rand_int__"
	"PTTL s:__rand_int__" "PERSIST s:__rand_int__" "TYPE s:__rand_int__"
	"DEL s:__rand_int__" "UNLINK c:__rand_int__" "KEYS s:1*" "DBSIZE"
	"SELECT 0" "CLIENT SETNAME bench" "CLIENT GETNAME" "CLIENT ID"
	"HELLO 2" "AUTH default pw" "CONFIG GET save" "COMMAND COUNT" "INFO"
	"LPUSH l:__rand_int__ a" "RPUSH l:__rand_int__ b" "LPOP l:__rand_int__"
	"RPOP l:__rand_int__" "LRANGE l:__rand_int__ 0 -1" "LLEN l:__rand_int__"
	"SADD t:__rand_int__ m" "SREM t:__rand_int__ m" "SPOP t:__rand_int__"
	"SCARD t:__rand_int__" "SMEMBERS t:__rand_int__"
	"SISMEMBER t:__rand_int__ m" "HSET h:__rand_int__ f v"
	"HMSET h:__rand_int__ f v g w" "HGET h:__rand_int__ f"
	"HGETALL h:__rand_int__" "HDEL h:__rand_int__ g" "HLEN h:__rand_int__"
	"HEXISTS h:__rand_int__ f" "ZADD z:__rand_int__ 1 m"
	"ZPOPMIN z:__rand_int__" "ZRANGE z:__rand_int__ 0 -1 WITHSCORES"
	"ZRANGE z:__rand_int__ -inf +inf BYSCORE" "ZCARD z:__rand_int__"
	"ZSCORE z:__rand_int__ m" "ZREM z:__rand_int__ m" "FLUSHDB" "FLUSHALL"
)
echo "1..$((2 + ${#commands[@]}))"
start_kv --shards 2 || { echo "Bail out! kvserver did not start"; exit 1; }

bench() {	# OUTPUT-FILE redis-benchmark arguments...
	local f=$1
	shift
	timeout $((60 * scale)) redis-benchmark -p "$kv_port" "$@" \
		>"$f" 2>&1
}

bench "$tmp/default.csv" -n 2000 -c 10 --csv
st=$?
rows=$(grep -c '^"[A-Z]' "$tmp/default.csv")
if [ "$st" -eq 0 ] && [ "$rows" -eq 20 ] &&
	! grep -qi "error" "$tmp/default.csv"; then
	ok 0 "the default redis-benchmark suite: 20 results, no error"
else
	ok 1 "the default redis-benchmark suite: 20 results, no error"
	echo "#   status $st, $rows results"
	tr '\r' '\n' <"$tmp/default.csv" | grep -v '^$' | tail -8 |
		sed 's/^/#   /'
fi

for c in "${commands[@]}"; do
	# shellcheck disable=SC2086
	bench "$tmp/one.out" -n 200 -c 4 -r 1000 -q $c
	st=$?
	if [ "$st" -eq 0 ] && grep -q "requests per second" "$tmp/one.out" &&
		! grep -q "Error" "$tmp/one.out"; then
		ok 0 "redis-benchmark $c"
	else
		ok 1 "redis-benchmark $c"
		tr '\r' '\n' <"$tmp/one.out" | grep -v '^ *$' | tail -3 |
			sed 's/^/#   /'
	fi
done
stop_kv_checked
[ "$failed" -eq 0 ]
