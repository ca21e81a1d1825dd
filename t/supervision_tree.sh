#!/usr/bin/env bash
# t/supervision_tree.sh: runs examples/supervision_tree for a few seconds
# with a fault injector and a kill storm, and checks what it reports: the
# pool's workers were killed and restarted, the storm exceeded the pool's
# restart intensity, the top supervisor restarted the pool (a second
# "pool started"), throughput was reported every second, and the whole
# tree stopped in order and the program exited 0. Speaks TAP.
#
# Environment: top_builddir (automake sets it), RA_TEST_TIME_SCALE.
set -u

top_builddir=${top_builddir:-.}
ex="$top_builddir/examples/supervision_tree"
if [ ! -x "$ex" ]; then
	echo "1..0 # SKIP $ex not built"
	exit 0
fi
scale=${RA_TEST_TIME_SCALE:-1}
out=$(mktemp "${TMPDIR:-/tmp}/supervision-tree.XXXXXX")
trap 'rm -f "$out"' EXIT

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
		sed 's/^/# /' "$out" | tail -40
	fi
}

timeout $((60 * scale)) "$ex" --seconds 4 --storm-at 2 --kill-every-ms 150 \
	--shards 2 >"$out" 2>&1
status=$?

check "exits 0 after stopping the tree" test "$status" -eq 0
check "workers are killed and restarted" \
	grep -qE '^\[ *[0-9.]+s\] pool: worker\.[0-9]+ restart ' "$out"
check "the kill storm exceeds the pool's restart intensity" \
	grep -q 'pool: .* intensity_exceeded' "$out"
check "the top supervisor restarts the pool" \
	test "$(grep -c 'top: pool child_started' "$out")" -ge 2
check "throughput is reported every second" \
	test "$(grep -c 'throughput: [0-9]* jobs in second' "$out")" -ge 3
check "the summary counts jobs done" \
	grep -qE '^summary: [1-9][0-9]* jobs in 4 s' "$out"
