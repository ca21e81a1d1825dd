#!/usr/bin/env bash
# Print "N passed, N failed" over the automake TAP results (.trs files)
# of the build trees given as arguments (default: .).
set -euo pipefail
pass=0
fail=0
skip=0
for dir in "${@:-.}"; do
	while IFS= read -r res; do
		case "$res" in
		PASS|XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done < <(cat "$dir"/t/*.trs 2>/dev/null |
		 sed -n 's/^:test-result: \([A-Z]*\).*/\1/p')
done
echo "$pass passed, $fail failed, $skip skipped"
