# t/kvserver_lib.sh: what the kvserver shell tests share (sourced, not
# run): TAP helpers, and starting kvserver and redis-server on free
# loopback ports, stopped again when the test exits.
#
# Needs: top_builddir (automake sets it). Sets: kv, scale, T, tmp.

top_builddir=${top_builddir:-.}
kv="$top_builddir/examples/kvserver/kvserver"
# Sanitizer builds run slower; RA_TEST_TIME_SCALE stretches every wait.
scale=${RA_TEST_TIME_SCALE:-1}
T=$((10 * scale))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvserver-test.XXXXXX")
kv_pid=""
redis_pid=""
kvlib_cleanup() {
	for p in $kv_pid $redis_pid; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	rm -rf "$tmp"
}
trap kvlib_cleanup EXIT
trap 'exit 1' INT TERM

n=0
failed=0
ok() {	# ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
skip() {	# skip REASON
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %q\n#   want: %q\n' "$1" "$2"
	fi
}

# wait_ping PORT PID: until something answers PING there while PID lives.
wait_ping() {
	local i
	for i in $(seq 1 $((100 * scale))); do
		kill -0 "$2" 2>/dev/null || return 1
		[ "$(timeout 1 redis-cli -p "$1" ping 2>/dev/null)" = PONG ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# is_kv PORT: does the server there say it is kvserver? (Another test
# may have taken the port a moment before ours failed to bind it.)
is_kv() {
	timeout 2 redis-cli -p "$1" info server 2>/dev/null |
		grep -q '^ringactor_version:'
}

# A port nobody listens on, from $1 upwards.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

# start_kv [kvserver options...]: kvserver on a free port: kv_port, kv_pid.
start_kv() {
	local attempt
	kv_port=$(free_port $((20000 + $$ % 20000)))
	for attempt in 1 2 3 4 5 6; do
		"$kv" --port "$kv_port" "$@" >"$tmp/kv.out" 2>&1 &
		kv_pid=$!
		wait_ping "$kv_port" "$kv_pid" && is_kv "$kv_port" &&
			kill -0 "$kv_pid" 2>/dev/null && return 0
		kill -KILL "$kv_pid" 2>/dev/null
		wait "$kv_pid" 2>/dev/null
		kv_pid=""
		kv_port=$(free_port $((kv_port + 1 + attempt * 7)))
	done
	sed 's/^/# kvserver: /' "$tmp/kv.out"
	return 1
}

# start_redis: redis-server without persistence: redis_port, redis_pid.
start_redis() {
	local attempt
	redis_port=$(free_port $((kv_port + 100)))
	for attempt in 1 2 3 4 5 6; do
		redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
			--appendonly no --daemonize no \
			--dir "$tmp" >"$tmp/redis.out" 2>&1 &
		redis_pid=$!
		wait_ping "$redis_port" "$redis_pid" &&
			! is_kv "$redis_port" &&
			kill -0 "$redis_pid" 2>/dev/null && return 0
		kill -KILL "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
		redis_pid=""
		redis_port=$(free_port $((redis_port + 1 + attempt * 7)))
	done
	sed 's/^/# redis-server: /' "$tmp/redis.out"
	return 1
}

# stop_kv_checked: SIGTERM kvserver and check, as one TAP test, that it
# exits 0 within T seconds with no sanitizer report in its output (under
# ASan a leak at exit makes the status non-zero).
stop_kv_checked() {
	local code=timeout i
	kill -TERM "$kv_pid" 2>/dev/null
	for i in $(seq 1 $((10 * T))); do
		if ! kill -0 "$kv_pid" 2>/dev/null; then
			wait "$kv_pid"
			code=$?
			break
		fi
		sleep 0.1
	done
	kv_pid=""
	if [ "$code" = 0 ] && ! grep -q \
		"Sanitizer\|runtime error:" "$tmp/kv.out"; then
		ok 0 "kvserver exits 0 on SIGTERM, no sanitizer report"
	else
		ok 1 "kvserver exits 0 on SIGTERM, no sanitizer report"
		echo "#   exit: $code"
		grep -A20 "Sanitizer\|runtime error:" "$tmp/kv.out" | head -40 |
			sed 's/^/#   /'
	fi
}

# VmRSS of a process in KiB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Was kvserver built with a sanitizer? Its allocator keeps freed memory.
kv_sanitized() {
	grep -qa "__asan_init\|__tsan_init" "$kv"
}
