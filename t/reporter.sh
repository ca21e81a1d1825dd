#!/usr/bin/env bash
# t/reporter.sh: examples/reporter. Speaks TAP.
#
# Runs it with --seconds 2 and checks that it printed exactly two report
# lines, about a second apart, whose figures are sane: messages per second
# well above zero (its workers do 100000 jobs a second), and for both the
# mailbox-wait and the run-time histogram 0 < p50 <= p99; then that it
# exited 0 on its own. Then runs it without --seconds and stops it with
# SIGTERM after its first report: exit 0 within a few seconds.
#
# Environment: top_builddir (automake sets it), RA_TEST_TIME_SCALE.
set -u

top_builddir=${top_builddir:-.}
ex="$top_builddir/examples/reporter"
if [ ! -x "$ex" ]; then
	echo "1..0 # SKIP $ex not built"
	exit 0
fi
scale=${RA_TEST_TIME_SCALE:-1}
out=$(mktemp "${TMPDIR:-/tmp}/reporter.XXXXXX")
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -f "$out"
}
trap cleanup EXIT

echo "1..6"
n=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# /' "$out" | tail -20
	fi
}

# A report line: [   1s]    98765 msgs/s  mailbox wait p50     1.1 us p99
# 1.9 us  run p50    0.3 us p99    0.7 us
line='^\[ *[0-9]+s\] +[0-9]+ msgs/s  mailbox wait p50 +[0-9.]+ us p99 +[0-9.]+ us  run p50 +[0-9.]+ us p99 +[0-9.]+ us$'

start=$(date +%s%N)
timeout $((30 * scale)) "$ex" --seconds 2 --shards 2 >"$out" 2>&1
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "exits 0 after --seconds 2" test "$status" -eq 0
check "prints exactly 2 report lines" \
	test "$(grep -cE "$line" "$out")" -eq 2 -a "$(wc -l <"$out")" -eq 2
check "the reports come a second apart: it ran 2 s or a little more" \
	test "$ms" -ge 1900 -a "$ms" -lt $((5000 * scale))
# Fields once "[" and its blanks are cut: 2 = msgs/s; 7 and 10 = mailbox
# wait p50 and p99; 14 and 17 = run p50 and p99.
sane=$(sed 's/^\[ *//' "$out" | awk '
	!($2 >= 1000 && $7 > 0 && $7 <= $10 && $14 > 0 && $14 <= $17) { bad = 1 }
	END { print (NR == 2 && !bad) ? "yes" : "no" }')
check "msgs/s >= 1000 and 0 < p50 <= p99 for both histograms" \
	test "$sane" = yes

timeout $((30 * scale)) "$ex" --shards 2 >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 $((50 * scale))); do
	grep -qE "$line" "$out" && break
	sleep 0.1
done
check "without --seconds it reports until stopped" grep -qE "$line" "$out"
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
