#!/usr/bin/env bash
# t/echo_server.sh: examples/echo_server over loopback TCP. Speaks TAP.
#
# Starts the server with --port 0 and reads the port it prints, then runs
# several clients at once through bash's /dev/tcp: a line, an empty
# connection, eight 200 KB payloads and a 4 MB one (far more than a
# socket buffer, so the client writes while it reads), each echo compared
# byte for byte. Then, with one client still connected and idle (its
# conn actor has a receive pending, which the shutdown must cancel),
# SIGTERM: the server must exit 0 within a few seconds. Also --help and a
# bad option.
#
# Environment: top_builddir (automake sets it), RA_TEST_TIME_SCALE.
set -u

top_builddir=${top_builddir:-.}
ex="$top_builddir/examples/echo_server"
if [ ! -x "$ex" ]; then
	echo "1..0 # SKIP $ex not built"
	exit 0
fi
scale=${RA_TEST_TIME_SCALE:-1}
T=$((10 * scale))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/echo-server.XXXXXX")
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..8"
n=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# server: /' "$tmp/server.out" | tail -20
	fi
}

"$ex" --help >"$tmp/help.out" 2>&1
hs=$?
check "--help prints the usage and exits 0" test "$hs" -eq 0 -a \
	-n "$(grep '^usage: echo_server .*--port' "$tmp/help.out")"
"$ex" --port 70000 >/dev/null 2>&1
check "a bad --port exits 2" test $? -eq 2

"$ex" --port 0 --shards 2 >"$tmp/server.out" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 $((50 * scale))); do
	port=$(sed -n 's/^echo_server: listening on port \([0-9]*\)$/\1/p' \
		"$tmp/server.out")
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
check "with --port 0 it prints the port it listens on" test -n "$port"
if [ -z "$port" ]; then
	echo "Bail out! echo_server did not start"
	exit 1
fi

# client NAME: send $tmp/NAME.in, read as many bytes back into NAME.out.
# The writer runs beside the reader: a payload larger than the socket
# buffers would otherwise block both sides.
client() {
	local size
	size=$(wc -c <"$tmp/$1.in")
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	cat "$tmp/$1.in" >&3 &
	timeout "$T" head -c "$size" <&3 >"$tmp/$1.out"
	wait
	exec 3>&-
}

printf 'hello, echo\n' >"$tmp/line.in"
: >"$tmp/empty.in"
head -c 4194304 /dev/urandom >"$tmp/large.in"
names="line empty large"
for i in 1 2 3 4 5 6 7 8; do
	head -c 204800 /dev/urandom >"$tmp/medium$i.in"
	names="$names medium$i"
done
pids=""
for c in $names; do
	client "$c" &
	pids="$pids $!"
done
wait $pids

same=0
for c in $names; do
	cmp -s "$tmp/$c.in" "$tmp/$c.out" || { same=1; echo "# $c differs"; }
done
check "a line comes back as sent" cmp -s "$tmp/line.in" "$tmp/line.out"
check "4 MB come back byte for byte" cmp -s "$tmp/large.in" "$tmp/large.out"
check "all 11 concurrent clients get their own bytes back" test "$same" -eq 0

# One client stays connected and idle: the server must close it itself.
exec 4<>"/dev/tcp/127.0.0.1/$port"
check "the server still runs after its clients left" kill -0 "$pid"
kill -TERM "$pid"
for _ in $(seq 1 $((50 * scale))); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	status=timeout
else
	wait "$pid"
	status=$?
fi
pid=""
check "SIGTERM stops it with status 0 within $((5 * scale)) s" \
	test "$status" = 0
exec 4>&-
