#!/usr/bin/env bash
# t/checksum.sh: examples/checksum against cksum(1). Speaks TAP.
#
# The example prints POSIX cksum's CRC, so the system's `cksum` (POSIX,
# coreutils or busybox) is the independent reference. Files: empty, one
# line, exactly one 64 KiB chunk, one chunk and a byte, 3 MB of random
# bytes (many chunks), and 150 small files (more than the example keeps
# open at once). A missing file in the middle must give an error on
# stderr and exit status 1 while every other file is still printed, in
# the order given. Also --help, and no FILE at all.
#
# Environment: top_builddir (automake sets it), RA_TEST_TIME_SCALE.
set -u

top_builddir=${top_builddir:-.}
ex="$(cd "$top_builddir" && pwd)/examples/checksum"
if [ ! -x "$ex" ]; then
	echo "1..0 # SKIP $ex not built"
	exit 0
fi
if ! command -v cksum >/dev/null 2>&1; then
	echo "1..0 # SKIP no cksum to check against"
	exit 0
fi
scale=${RA_TEST_TIME_SCALE:-1}
T=$((30 * scale))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/checksum.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

echo "1..7"
n=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# stdout: /' out | head -20
		sed 's/^/# stderr: /' err | head -20
	fi
}

# expect FILE...: what checksum must print for them: cksum's CRC, the path.
expect() {
	local f crc
	for f in "$@"; do
		read -r crc _ < <(cksum <"$f")
		printf '%s  %s\n' "$crc" "$f"
	done
}

: >empty
printf 'The quick brown fox\n' >line
head -c 65536 /dev/urandom >chunk
head -c 65537 /dev/urandom >chunk+1
head -c 3000000 /dev/urandom >big
files="empty line chunk chunk+1 big"

timeout "$T" "$ex" $files >out 2>err
status=$?
check "exits 0 when every file is read" test "$status" -eq 0
expect $files >want
check "each CRC is cksum's, in the order given" cmp -s want out

timeout "$T" "$ex" big line missing empty chunk >out 2>err
status=$?
check "a missing file makes the exit status 1" test "$status" -eq 1
check "the missing file is reported on stderr" \
	grep -q '^checksum: missing: No such file or directory$' err
expect big line empty chunk >want
check "the other files are still printed, in order" cmp -s want out

many=""
for i in $(seq 1 150); do
	head -c $((i * 1031)) /dev/urandom >"f$i"
	many="$many f$i"
done
timeout "$T" "$ex" $many big >out 2>err
status=$?
expect $many big >want
check "150 files and a big one, more than are open at once" \
	test "$status" -eq 0 -a -z "$(cmp want out 2>&1)"

"$ex" --help >out 2>err
hs=$?
"$ex" >out2 2>err2
check "--help exits 0, no FILE exits 2" test "$hs" -eq 0 -a "$?" -eq 2
