#!/usr/bin/env bash
# t/kvserver_e2e.sh: the kvserver example against the real redis-cli (and
# redis-benchmark if present), over loopback TCP. Speaks TAP.
#
# Starts examples/kvserver/kvserver on a free port, checks every command
# with redis-cli, a pipeline of 1000 raw RESP commands whose 1000 replies
# are each checked, the same through `redis-cli --pipe`, a 50 KB value, a
# client sending garbage (it must get -ERR and be disconnected while
# another client goes on working), a keyspace actor made to fail with
# SIGUSR1 (its supervisor must restart it), then SIGTERM: the server must exit 0
# within a few seconds and print its latency table.
#
# Environment: top_builddir and top_srcdir (automake sets both).
set -u

top_builddir=${top_builddir:-.}
kv="$top_builddir/examples/kvserver/kvserver"

if ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP redis-cli not installed"
	exit 0
fi
if [ ! -x "$kv" ]; then
	echo "1..0 # SKIP $kv not built"
	exit 0
fi

# Sanitizer builds run slower; RA_TEST_TIME_SCALE stretches every wait.
scale=${RA_TEST_TIME_SCALE:-1}
T=$((5 * scale))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvserver-e2e.XXXXXX")
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
failed=0
ok() {	# ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %q\n#   want: %q\n' "$1" "$2"
	fi
}

cli() {
	timeout "$T" redis-cli -p "$port" "$@" 2>&1
}

echo "1..31"

# ---------------------------------------------------------------- start
# A port from the pid; if it is taken the server says so and exits, and
# we try the next one.
port=$((20000 + $$ % 20000))
started=1
for attempt in 1 2 3 4 5 6 7 8; do
	"$kv" --port "$port" --shards 2 >"$tmp/server.out" 2>&1 &
	pid=$!
	up=1
	for _ in $(seq 1 $((50 * scale))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		if [ "$(timeout 1 redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
			up=0
			break
		fi
		sleep 0.1
	done
	if [ "$up" -eq 0 ]; then
		started=0
		break
	fi
	if kill -0 "$pid" 2>/dev/null; then
		# Running but mute: no retry would help.
		break
	fi
	wait "$pid" 2>/dev/null
	pid=""
	grep -q "cannot listen" "$tmp/server.out" || break
	port=$((port + 1 + attempt * 7))
done
ok $started "kvserver answers PING on 127.0.0.1:$port"
if [ "$started" -ne 0 ]; then
	sed 's/^/# server: /' "$tmp/server.out"
	echo "Bail out! kvserver did not start"
	exit 1
fi

# ---------------------------------------------------------------- commands
is "$(cli ping)" "PONG" "PING"
is "$(cli echo 'hello world')" "hello world" "ECHO"
is "$(cli set greeting hi)" "OK" "SET"
is "$(cli get greeting)" "hi" "GET"
is "$(cli get no-such-key)" "" "GET of a missing key is nil"
is "$(cli incr counter; cli incr counter)" "1
2" "INCR twice"
is "$(cli incr greeting)" "ERR value is not an integer or out of range" \
	"INCR of a non-integer"
is "$(cli mset k1 v1 k2 v2 k3 v3 k4 v4)" "OK" "MSET of 4 keys"
is "$(cli mget k4 k1 nope k3 k2)" "v4
v1

v3
v2" "MGET in argument order, nil for a missing key"
is "$(cli exists k1 k2 nope k1)" "3" "EXISTS counts"
is "$(cli del k1 k3 nope)" "2" "DEL counts"
# (Command substitution drops the nil after v2: the last line.)
is "$(cli mget k1 k2 k3)" "
v2" "DEL removed exactly its keys"
out=$(cli set shortlived x px 300; cli get shortlived)
is "$out" "OK
x" "SET PX then GET before expiry"
sleep 0.6
is "$(cli get shortlived)" "" "GET after expiry is nil"
case "$(cli frobnicate a)" in
ERR\ unknown\ command*) ok 0 "unknown command is an error" ;;
*) ok 1 "unknown command is an error" ;;
esac

# A value bigger than a message's inline payload and a socket buffer.
big=$(head -c 37500 /dev/urandom | base64 -w 0)
printf %s "$big" | cli -x set bigvalue >/dev/null
got=$(cli get bigvalue)
is "${#got}:$(printf %s "$got" | md5sum)" \
	"${#big}:$(printf %s "$big" | md5sum)" "a 50 KB value round-trips"

# ---------------------------------------------------------------- pipeline
# 1000 commands in one write, all single-line replies: SET -> +OK,
# INCR -> :1, :2, ..., PING -> +PONG. Raw bash TCP, so nothing between
# us and the server reorders or batches anything.
req="$tmp/pipe.req"
want="$tmp/pipe.want"
: >"$req"
: >"$want"
ctr=0
for i in $(seq 0 999); do
	case $((i % 3)) in
	0)
		v="val$i"
		printf '*3\r\n$3\r\nSET\r\n$%d\r\npk:%d\r\n$%d\r\n%s\r\n' \
			$((3 + ${#i})) "$i" ${#v} "$v" >>"$req"
		echo "+OK" >>"$want"
		;;
	1)
		ctr=$((ctr + 1))
		printf '*2\r\n$4\r\nINCR\r\n$8\r\npipe:ctr\r\n' >>"$req"
		echo ":$ctr" >>"$want"
		;;
	*)
		printf 'PING\r\n' >>"$req"
		echo "+PONG" >>"$want"
		;;
	esac
done
exec 3<>"/dev/tcp/127.0.0.1/$port"
cat "$req" >&3
timeout "$T" head -n 1000 <&3 | tr -d '\r' >"$tmp/pipe.got"
exec 3<&- 3>&-
if cmp -s "$want" "$tmp/pipe.got"; then
	ok 0 "pipeline of 1000 commands: all 1000 replies right, in order"
else
	ok 1 "pipeline of 1000 commands: all 1000 replies right, in order"
	echo "#   $(wc -l <"$tmp/pipe.got") replies; first difference:"
	diff "$want" "$tmp/pipe.got" | head -5 | sed 's/^/#   /'
fi
is "$(cli get pk:999)" "val999" "the pipeline's SETs are visible to others"

out=$(timeout "$T" redis-cli -p "$port" --pipe <"$req" 2>&1)
case "$out" in
*"errors: 0, replies: 1000"*) ok 0 "redis-cli --pipe: 1000 replies, 0 errors" ;;
*) ok 1 "redis-cli --pipe: 1000 replies, 0 errors"
   echo "$out" | sed 's/^/#   /' ;;
esac

# ---------------------------------------------------------------- garbage
# A second client connects first and must keep working after the first
# one is thrown out.
exec 5<>"/dev/tcp/127.0.0.1/$port"
exec 4<>"/dev/tcp/127.0.0.1/$port"
printf '*x\r\n' >&4
# cat ends only if the server closes the connection.
timeout "$T" cat <&4 >"$tmp/garbage"
status=$?
exec 4<&- 4>&-
garbage=$(tr -d '\r' <"$tmp/garbage")
is "$garbage" "-ERR Protocol error: invalid multibulk length" \
	"garbage gets -ERR Protocol error"
ok "$status" "and the connection is closed by the server"
printf '*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n' >&5
other=$(timeout "$T" head -n 2 <&5 | tr -d '\r')
exec 5<&- 5>&-
is "$other" '$2
hi' "another client's GET still works"

# ---------------------------------------------------------------- many clients
if command -v redis-benchmark >/dev/null 2>&1; then
	out=$(timeout $((30 * scale)) redis-benchmark -p "$port" -c 20 \
		-n 4000 -r 1000 -t set,get,mset -q 2>&1)
	st=$?
	case "$out" in
	*SET:*GET:*MSET*) ok "$st" "redis-benchmark, 20 clients" ;;
	*) ok 1 "redis-benchmark, 20 clients"
	   echo "$out" | tr '\r' '\n' | tail -5 | sed 's/^/#   /' ;;
	esac
else
	n=$((n + 1))
	echo "ok $n # SKIP redis-benchmark not installed"
fi

# ---------------------------------------------------------------- supervision
# SIGUSR1 makes keyspace.0 fail; the kv supervisor (rest_for_one) stops
# and restarts it and everything started after it, and clients can
# connect and work again.
is "$(cli set survivor yes)" "OK" "SET before a keyspace fails"
kill -USR1 "$pid"
restarted=1
for _ in $(seq 1 $((50 * scale))); do
	if grep -q "keyspace.0: restart" "$tmp/server.out" &&
		[ "$(timeout 1 redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
		restarted=0
		break
	fi
	sleep 0.1
done
ok $restarted "SIGUSR1: keyspace.0 fails, the supervisor restarts the tree"
is "$(cli set after restart)" "OK" "SET works after the restart"
is "$(cli get after)" "restart" "GET works after the restart"

# ---------------------------------------------------------------- shutdown
kill -TERM "$pid"
stopped=1
for _ in $(seq 1 $((100 * scale))); do
	if ! kill -0 "$pid" 2>/dev/null; then
		stopped=0
		break
	fi
	sleep 0.1
done
if [ "$stopped" -eq 0 ]; then
	wait "$pid"
	code=$?
else
	code=timeout
fi
pid=""
is "$code" 0 "SIGTERM: kvserver exits 0 within $((10 * scale)) s"
if grep -q "supervision: [0-9]* child exits, [1-9][0-9]* restarts" \
	"$tmp/server.out"; then
	ok 0 "it reported the supervisor's restarts"
else
	ok 1 "it reported the supervisor's restarts"
fi
if grep -q "p99.9" "$tmp/server.out" &&
	grep -qE '^get +[0-9]+ ' "$tmp/server.out"; then
	ok 0 "it printed the latency table"
else
	ok 1 "it printed the latency table"
fi
sed 's/^/# server: /' "$tmp/server.out"

[ "$n" -eq 31 ] || echo "# ran $n tests, planned 31"
[ "$failed" -eq 0 ] && [ "$n" -eq 31 ]
