#!/usr/bin/env bash
# The README's test command: install dependencies, build, run `make check`
# (every t/ program through automake's TAP driver), print the summary.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
./scripts/build.sh
status=0
make -j"$(nproc)" check >/tmp/ringactor-check.$$ 2>&1 || status=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL|# )' /tmp/ringactor-check.$$ || true
if [ "$status" -ne 0 ]; then
	# Show what failed, from the per-test logs.
	for log in $(grep -lE '^(not ok|Bail out)' t/*.log 2>/dev/null); do
		echo "---- $log"
		tail -40 "$log"
	done
fi
rm -f /tmp/ringactor-check.$$
./scripts/tap-summary.sh .
exit "$status"
