#!/usr/bin/env bash
# Build a pristine copy of the tracked tree with a sanitizer and run
# `make check` there:  scripts/sanitize.sh asan|tsan [DIR]
# DIR (default: a new temp dir) keeps the build for scripts/tap-summary.sh.
# Exit status is make check's.
set -uo pipefail
kind=${1:?usage: sanitize.sh asan|tsan [DIR]}
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$(mktemp -d /tmp/ringactor-$kind.XXXXXX)}
case "$kind" in
asan) flag=--enable-asan; scale=4 ;;
tsan) flag=--enable-tsan; scale=10; export RA_ITERS=200000 RA_STEAL_WINDOW=2000 ;;
*) echo "sanitize.sh: unknown sanitizer '$kind'" >&2; exit 2 ;;
esac

mkdir -p "$dir"
(cd "$src" && git ls-files -z | tar --null -cf - -T -) | tar -xf - -C "$dir"
cd "$dir" || exit 2
if ! { autoreconf -fi >/dev/null 2>&1 &&
       { ./configure "$flag" --enable-werror >configure.out 2>&1 || { cat configure.out; false; }; } &&
       make -j"$(nproc)" >/dev/null; }; then
	echo "sanitize.sh: $kind build failed in $dir" >&2
	exit 2
fi
# TSan runs 10-20x slower and checks races, not scale: there t/order sends
# 2e5 messages per sender (RA_ITERS above; 1e6 elsewhere), since a seed
# may pick a window of 1, a round trip per message, and t/steal keeps at
# most 2000 messages unhandled instead of 20000 (RA_STEAL_WINDOW): with
# more, under TSan nearly every actor always has a message in flight, its
# victims refuse it, and the storms took minutes to reach their counts.
RA_TEST_TIME_SCALE=$scale make -j"$(nproc)" check >check.out 2>&1
status=$?
grep -E '^(FAIL|ERROR|XPASS|# )' check.out
if [ "$status" -ne 0 ]; then
	for log in $(grep -lE '^(not ok|Bail out)|Sanitizer|runtime error' t/*.log 2>/dev/null); do
		echo "---- $kind: $log"
		tail -40 "$log"
	done
fi
echo "sanitize.sh: $kind build and results in $dir"
exit "$status"
