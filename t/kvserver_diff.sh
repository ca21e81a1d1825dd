#!/usr/bin/env bash
# t/kvserver_diff.sh: the differential test. Starts redis-server (Debian's,
# no persistence) and kvserver on free loopback ports and runs t/kvdiff
# against both, which speaks TAP (see t/kvdiff.c). RA_SEED replays a run,
# RA_DIFF_COMMANDS sets its length.
set -u
. "${top_srcdir:-.}/t/kvserver_lib.sh"

for tool in redis-server redis-cli; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done
if [ ! -x "$kv" ] || [ ! -x "$top_builddir/t/kvdiff" ]; then
	echo "1..0 # SKIP kvserver or t/kvdiff not built"
	exit 0
fi
start_kv --shards 3 || { echo "Bail out! kvserver did not start"; exit 1; }
start_redis || { echo "Bail out! redis-server did not start"; exit 1; }
"$top_builddir/t/kvdiff" "$redis_port" "$kv_port"
status=$?
if ! kill -0 "$kv_pid" 2>/dev/null; then
	echo "# kvserver died:"
	sed 's/^/# kvserver: /' "$tmp/kv.out"
	status=1
fi
# t/kvdiff owns the plan: a bad exit (a leak under ASan, a sanitizer
# report) is told by bailing out.
n=0
stop_kv_checked >"$tmp/stop.tap"
if grep -q '^not ok' "$tmp/stop.tap"; then
	sed 's/^not ok 1 - /# /' "$tmp/stop.tap"
	echo "Bail out! kvserver did not exit cleanly"
	status=1
fi
exit $status
