#!/usr/bin/env bash
# t/knobs.sh: the test-only knobs (shard/testing.h) are not in the library
# users link. With RA_FAULT_MSGRING=1 the test build fails every msg_ring
# batch, forever; a program linking libringactor must not notice it. So
# bench/ping_pong (libringactor, messages crossing shards by msg_ring)
# runs to its end with the knob set. Speaks TAP.
set -u
top_builddir=${top_builddir:-.}
scale=${RA_TEST_TIME_SCALE:-1}
pp="$top_builddir/bench/ping_pong"

echo "1..1"
if [ ! -x "$pp" ]; then
	echo "ok 1 # SKIP $pp not built"
	exit 0
fi
if RA_FAULT_MSGRING=1 RA_TEST_OUTSIDE_SEND_DELAY_NS=1000000000 \
	timeout $((60 * scale)) "$pp" --quick --no-idle --no-floor >/dev/null
then
	echo "ok 1 - libringactor ignores RA_FAULT_MSGRING and RA_TEST_OUTSIDE_SEND_DELAY_NS"
else
	echo "not ok 1 - libringactor ignores RA_FAULT_MSGRING and RA_TEST_OUTSIDE_SEND_DELAY_NS (exit $?)"
fi
