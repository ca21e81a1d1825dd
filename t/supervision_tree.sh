#!/usr/bin/env bash
# t/supervision_tree.sh: runs examples/supervision_tree for a few seconds
# with a fault injector and a kill storm, and checks what it reports: the
# pool's workers were killed and restarted, the storm exceeded the pool's
# restart intensity, the top supervisor restarted the pool (a second
# "pool started"), throughput was reported every second, and the whole
# tree stopped in order and the program exited 0. Speaks TAP.
#
# Whether the storm (a kill every 5 ms for 300 ms) packs more than the
# pool's 20 restarts into one second depends on the machine: a loaded
# one runs the chaos actor's ticks late. So the program runs again, up
# to $tries times, until a storm did; every run must pass the other
# checks, and the run whose storm escalated must show the top supervisor
# restarting the pool.
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
tries=3
dir=$(mktemp -d "${TMPDIR:-/tmp}/supervision-tree.XXXXXX")
trap 'rm -rf "$dir"' EXIT

echo "1..6"
n=0
check() {	# check DESCRIPTION OUTPUT COMMAND...
	local what=$1 out=$2
	shift 2
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		[ -f "$out" ] && sed 's/^/# /' "$out" | tail -40
	fi
}

# The checks every run must pass; each is 1 while all runs passed it.
exits=1 restarts=1 throughput=1 summary=1 first_bad=""
note() {	# note VARIABLE OUTPUT COMMAND...
	local var=$1 out=$2
	shift 2
	if ! "$@"; then
		eval "$var=0"
		first_bad=${first_bad:-$out}
	fi
}

runs=0 escalated=""
while [ "$runs" -lt "$tries" ] && [ -z "$escalated" ]; do
	runs=$((runs + 1))
	out="$dir/run$runs"
	timeout $((60 * scale)) "$ex" --seconds 4 --storm-at 2 \
		--kill-every-ms 150 --shards 2 >"$out" 2>&1
	status=$?
	note exits "$out" test "$status" -eq 0
	note restarts "$out" \
		grep -qE '^\[ *[0-9.]+s\] pool: worker\.[0-9]+ restart ' "$out"
	note throughput "$out" test \
		"$(grep -c 'throughput: [0-9]* jobs in second' "$out")" -ge 3
	note summary "$out" grep -qE '^summary: [1-9][0-9]* jobs in 4 s' "$out"
	grep -q 'pool: .* intensity_exceeded' "$out" && escalated=$out
done
last=${escalated:-$out}
first_bad=${first_bad:-$last}

check "exits 0 after stopping the tree ($runs run(s))" "$first_bad" \
	test "$exits" -eq 1
check "workers are killed and restarted" "$first_bad" \
	test "$restarts" -eq 1
check "the kill storm exceeds the pool's restart intensity" "$last" \
	test -n "$escalated"
check "the top supervisor restarts the pool" "$last" \
	test "$(grep -c 'top: pool child_started' "$last")" -ge 2
check "throughput is reported every second" "$first_bad" \
	test "$throughput" -eq 1
check "the summary counts jobs done" "$first_bad" \
	test "$summary" -eq 1
