#!/usr/bin/env bash
# Build ringactor in place: library, examples, tests. Extra arguments go to
# configure the first time (e.g. --enable-asan). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure --enable-werror "$@" >config.out 2>&1 || { cat config.out; exit 1; }
make -j"$(nproc)" >/dev/null
echo "build: ok ($(pwd))"
