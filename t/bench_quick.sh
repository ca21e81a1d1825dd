#!/usr/bin/env bash
# t/bench_quick.sh: smoke-run every built benchmark program (TAP).
#
# Each program present in $top_builddir/bench runs with --quick --no-idle
# under a time limit; it asserts its own results (checksums, counts) and
# exits non-zero on a mismatch, so one TAP line per program says whether
# it ran clean. Exit 77 (io_uring unavailable) is a SKIP. Times are not
# judged here: a smoke run is not a measurement (bench/README.md).
#
# Environment: top_builddir (default .), BENCH_QUICK_TIMEOUT seconds per
# program (default 60, times RA_TEST_TIME_SCALE: sanitizer builds run
# slower).
set -u

builddir=${top_builddir:-.}
limit=$(( ${BENCH_QUICK_TIMEOUT:-60} * ${RA_TEST_TIME_SCALE:-1} ))
programs="ping_pong messaging fanout fs net savina memory hotspot timers busy_sender"

present=()
for p in $programs; do
	[ -x "$builddir/bench/$p" ] && present+=("$p")
done
if [ ${#present[@]} -eq 0 ]; then
	echo "1..0 # SKIP no benchmark program built in $builddir/bench"
	exit 0
fi

tmo=()
command -v timeout >/dev/null 2>&1 && tmo=(timeout "$limit")

echo "1..${#present[@]}"
n=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
for p in "${present[@]}"; do
	n=$((n + 1))
	${tmo[@]+"${tmo[@]}"} "$builddir/bench/$p" --quick --no-idle \
		>"$out" 2>&1
	rc=$?
	case $rc in
	0)
		echo "ok $n - bench/$p --quick"
		;;
	77)
		why=$(grep -m1 -i 'skip' "$out" |
		      sed 's/^# *//; s/^SKIP:* *//')
		why=${why:-io_uring unavailable}
		echo "ok $n - bench/$p --quick # SKIP $why"
		;;
	*)
		if [ $rc -eq 124 ]; then
			why="timed out after ${limit}s"
		else
			why="exit status $rc"
		fi
		echo "not ok $n - bench/$p --quick: $why"
		tail -n 25 "$out" | sed 's/^/# /'
		;;
	esac
done
exit 0
