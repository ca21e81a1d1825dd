#!/usr/bin/env bash
# The README's demo: build ringactor, run its example key-value server
# (examples/kvserver) under redis-benchmark, then Debian's own Redis under
# the same load, and print the two side by side.
#
#   scripts/demo.sh          (from anywhere; as root on a fresh Debian 12)
#
# Steps: install dependencies (scripts/deps.sh), build (scripts/build.sh),
# start kvserver with 2 shards on a free loopback port, redis-benchmark it
# without and with pipelining (-P 16), then with redis-benchmark's default
# suite (no -t: lists, sets, hashes, sorted sets, LRANGE up to 600
# elements), stop it with SIGINT and show its own HDR latency summary,
# then start redis-server on another port, run the same benchmarks and
# compare. Exits non-zero if any step failed.
#
# Knobs: DEMO_N (requests per test, default 100000; pipelined runs do 5x,
# the default suite a tenth), DEMO_CLIENTS (default 50), DEMO_SHARDS
# (default 2).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

N=${DEMO_N:-100000}
NP=$((N * 5))
NS=$(((N + 9) / 10))
C=${DEMO_CLIENTS:-50}
SHARDS=${DEMO_SHARDS:-2}
TESTS=ping,set,get,incr,mset
# Random keys out of 100000, so that every command's keys spread over the
# shards (without -r redis-benchmark uses one fixed key per command).
KEYSPACE=100000

out=$(mktemp -d "${TMPDIR:-/tmp}/ringactor-demo.XXXXXX")
kv_pid=""
redis_pid=""
failed=0
t_start=$(date +%s)

say() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; failed=1; }
die() { echo "demo: FAILED: $*" >&2; exit 1; }

cleanup() {
	for p in $kv_pid $redis_pid; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A loopback port nobody listens on, from $1 upwards.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

# Wait until something answers PING on port $1 while pid $2 lives.
wait_ping() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		[ "$(timeout 1 redis-cli -p "$1" ping 2>/dev/null)" = PONG ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# CPU seconds (user + sys) a process has used so far.
cpu_secs() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo "?"
}

# bench NAME PORT FILE [extra args]: one redis-benchmark run, CSV to FILE.
bench() {
	local name=$1 port=$2 file=$3 rows
	shift 3
	echo "-- $name: redis-benchmark -p $port -c $C -r $KEYSPACE -t $TESTS $*"
	if ! timeout 300 redis-benchmark -p "$port" -c "$C" -r "$KEYSPACE" \
		-t "$TESTS" --csv "$@" >"$file" 2>"$file.err"; then
		cat "$file.err" >&2
		fail "redis-benchmark ($name $*) did not complete"
		return 1
	fi
	# A header and one row per test: PING_INLINE, PING_MBULK, SET,
	# GET, INCR, MSET.
	rows=$(grep -c '^"' "$file")
	if [ "$rows" -ne 7 ]; then
		cat "$file" "$file.err" >&2
		fail "redis-benchmark ($name $*) gave $((rows - 1)) results, not 6"
		return 1
	fi
	awk -F, '{
		for (i = 1; i <= NF; i++)
			gsub(/"/, "", $i)
		printf "   %-16s %11s %9s %9s %9s %9s\n", $1, $2, $3, $5, $7, $8
	}' "$file"
}

# suite NAME PORT FILE: redis-benchmark's default suite (no -t), CSV.
suite() {
	local name=$1 port=$2 file=$3 rows
	echo "-- $name: redis-benchmark -p $port -c $C -r $KEYSPACE -n $NS (default suite)"
	if ! timeout 600 redis-benchmark -p "$port" -c "$C" -r "$KEYSPACE" \
		-n "$NS" --csv >"$file" 2>"$file.err"; then
		cat "$file.err" >&2
		fail "redis-benchmark default suite ($name) did not complete"
		return 1
	fi
	# A header and a row per test: PING_INLINE .. MSET, 20 of them.
	rows=$(grep -c '^"' "$file")
	if [ "$rows" -ne 21 ] || grep -qi error "$file" "$file.err"; then
		cat "$file" "$file.err" >&2
		fail "redis-benchmark default suite ($name) gave $((rows - 1)) results, not 20"
		return 1
	fi
	echo "   $((rows - 1)) tests, all completed"
}

# compare TITLE RINGACTOR_CSV REDIS_CSV: one table, a row per test.
compare() {
	echo
	echo "$1"
	awk -F'","' '
		function clean(s) { gsub(/"/, "", s); return s }
		FNR == 1 { next }
		NR == FNR {
			t = clean($1); order[++n] = t
			ra_rps[t] = clean($2); ra_p50[t] = clean($5)
			ra_p99[t] = clean($7)
			next
		}
		{
			t = clean($1)
			rd_rps[t] = clean($2); rd_p50[t] = clean($5)
			rd_p99[t] = clean($7)
		}
		END {
			printf "   %-16s %12s %12s %7s %17s %17s\n", "test",
			       "ringactor/s", "redis/s", "ratio",
			       "p50 ms ra|redis", "p99 ms ra|redis"
			for (i = 1; i <= n; i++) {
				t = order[i]
				r = rd_rps[t] > 0 ? ra_rps[t] / rd_rps[t] : 0
				# Long names of the suite, cut to the column.
				d = t
				if (d ~ /needed to benchmark LRANGE/)
					d = "LPUSH for LRANGE"
				else if (length(d) > 16)
					sub(/ \(.*/, "", d)
				printf "   %-16s %12.0f %12.0f %6.2fx %8.3f|%-8.3f %8.3f|%-8.3f\n",
				       d, ra_rps[t], rd_rps[t], r, ra_p50[t],
				       rd_p50[t], ra_p99[t], rd_p99[t]
			}
		}' "$2" "$3"
}

# ---------------------------------------------------------------- build
say "dependencies (scripts/deps.sh)"
./scripts/deps.sh || die "scripts/deps.sh"
say "build (scripts/build.sh)"
./scripts/build.sh || die "scripts/build.sh"
# A server started in the background answers PING, or the demo stops.
await_server() {	# name port pid log
	wait_ping "$2" "$3" && return 0
	cat "$4" >&2
	die "$1 did not start"
}

# The redis-benchmark runs against one server: plain, pipelined, suite.
bench_both() {		# label port csv-prefix
	bench "$1" "$2" "$out/$3-p1.csv" -n "$N"
	bench "$1" "$2" "$out/$3-p16.csv" -n "$NP" -P 16
	suite "$1" "$2" "$out/$3-suite.csv"
}

kv="$top/examples/kvserver/kvserver"
[ -x "$kv" ] || die "$kv was not built"
for tool in redis-benchmark redis-cli redis-server; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done
echo "machine: $(nproc) CPUs, $(uname -sr), $(redis-server --version | cut -d' ' -f1-3)"

# ---------------------------------------------------------------- ringactor
kv_port=$(free_port 6380)
say "ringactor kvserver: $SHARDS shards on 127.0.0.1:$kv_port"
"$kv" --port "$kv_port" --shards "$SHARDS" --hgrm "$out/kvserver.hgrm" \
	>"$out/kvserver.out" 2>&1 &
kv_pid=$!
await_server kvserver "$kv_port" "$kv_pid" "$out/kvserver.out"
bench_both ringactor "$kv_port" ra
kv_cpu=$(cpu_secs "$kv_pid")

say "stop kvserver (SIGINT): its own view, from HDR histograms"
kill -INT "$kv_pid"
kv_status=timeout
for _ in $(seq 1 100); do
	if ! kill -0 "$kv_pid" 2>/dev/null; then
		wait "$kv_pid"
		kv_status=$?
		break
	fi
	sleep 0.1
done
kv_pid_done=$kv_pid
kv_pid=""
sed 's/^/   /' "$out/kvserver.out"
[ "$kv_status" = 0 ] ||
	fail "kvserver (pid $kv_pid_done) exited with status $kv_status"
[ -s "$out/kvserver.hgrm" ] && echo "   (.hgrm of all commands: $out/kvserver.hgrm)"

# ---------------------------------------------------------------- redis
redis_port=$(free_port $((kv_port + 10)))
say "Redis: redis-server on 127.0.0.1:$redis_port (no persistence)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
	--appendonly no --daemonize no >"$out/redis.out" 2>&1 &
redis_pid=$!
await_server redis-server "$redis_port" "$redis_pid" "$out/redis.out"
bench_both redis "$redis_port" redis
redis_cpu=$(cpu_secs "$redis_pid")
kill -TERM "$redis_pid"
wait "$redis_pid" 2>/dev/null
redis_pid=""

# ---------------------------------------------------------------- compare
say "ringactor kvserver ($SHARDS shards) vs Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') (one thread)"
echo "   redis-benchmark -c $C -r $KEYSPACE; all on this one $(nproc)-CPU machine,"
echo "   so the servers share CPUs with redis-benchmark itself."
if [ -s "$out/ra-p1.csv" ] && [ -s "$out/redis-p1.csv" ]; then
	compare "no pipelining (-n $N):" "$out/ra-p1.csv" "$out/redis-p1.csv"
fi
if [ -s "$out/ra-p16.csv" ] && [ -s "$out/redis-p16.csv" ]; then
	compare "pipelined, -P 16 (-n $NP):" "$out/ra-p16.csv" \
		"$out/redis-p16.csv"
fi
if [ -s "$out/ra-suite.csv" ] && [ -s "$out/redis-suite.csv" ]; then
	compare "redis-benchmark's default suite, no -t (-n $NS):" \
		"$out/ra-suite.csv" "$out/redis-suite.csv"
fi
echo
echo "   CPU seconds over both runs: kvserver $kv_cpu, redis-server $redis_cpu"
echo "   results kept in $out"
echo "   demo took $(($(date +%s) - t_start)) s"
if [ "$failed" -ne 0 ]; then
	echo "demo: some steps FAILED (see above)"
	exit 1
fi
echo "demo: ok"
