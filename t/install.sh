#!/usr/bin/env bash
# t/install.sh: what `make install` puts on a machine is enough to build a
# ringactor program the way a user would. Speaks TAP.
#
# Installs the build into a temporary DESTDIR, then, outside the tree:
# compiles examples/hello.c with the installed header and pkg-config's
# flags, linked against the shared library and, fully static, with
# `pkg-config --static`, and runs both; checks that the shared library
# exports exactly the RA_API functions of ringactor.h (libringactor.map),
# each under the version node; and that `man ra_send` finds the installed
# page.
#
# Environment: top_builddir and top_srcdir (automake sets both), and
# SAN_CFLAGS, the sanitizer flags the library was built with (Makefile.am
# passes configure's): a program linking a sanitized library must be
# built with them, and no sanitizer runtime links fully static, so that
# case is skipped there.
set -u
san=${SAN_CFLAGS:-}
top_builddir=$(cd "${top_builddir:-.}" && pwd)
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
scale=${RA_TEST_TIME_SCALE:-1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringactor-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() {	# ok CONDITION-STATUS DESCRIPTION [DIAGNOSTIC-FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/#   /' "$3" | tail -20
	fi
}

echo "1..7"
make -C "$top_builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
ok $? "make install DESTDIR=..." "$tmp/install.log"

# The configured prefix, under DESTDIR; pkg-config maps its paths there.
pcdir=$(find "$tmp/root" -name ringactor.pc -printf '%h\n' | head -n 1)
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
libdir=$(pkg-config --variable=libdir ringactor 2>/dev/null)
[ -n "$pcdir" ] && [ -f "$libdir/libringactor.so" ]
ok $? "ringactor.pc and libringactor.so installed ($libdir)"

cp "$top_srcdir/examples/hello.c" "$tmp/hello.c"
cd "$tmp" || exit 1
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Werror $san -o hello hello.c \
	$(pkg-config --cflags --libs ringactor) >build.log 2>&1 &&
	LD_LIBRARY_PATH="$libdir" timeout $((30 * scale)) \
		./hello >run.log 2>&1 && grep -q 'total 6' run.log
ok $? "hello.c built with pkg-config, shared, runs" "build.log"

if [ -n "$san" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP fully static: no sanitizer runtime links statically"
else
	# shellcheck disable=SC2046
	cc -std=gnu11 -Wall -Werror -static -o hello-static hello.c \
		$(pkg-config --cflags --libs --static ringactor) \
		>build-static.log 2>&1 &&
		timeout $((30 * scale)) ./hello-static >run-static.log 2>&1 &&
		grep -q 'total 6' run-static.log
	ok $? "hello.c built with pkg-config --static, fully static, runs" \
		"build-static.log"
fi

# Exports: exactly the RA_API functions, all versioned.
grep -v '^#define RA_API' "$top_srcdir/include/ringactor.h" | tr '\n' ' ' |
	grep -oE 'RA_API [^;(#]*\(' |
	sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort >api.txt
nm -D --defined-only "$libdir/libringactor.so" |
	awk '$2 == "T" { print $3 }' >exports.txt
sed 's/@.*//' exports.txt | sort >names.txt
diff api.txt names.txt >exports.diff
ok $? "the library exports exactly the RA_API functions of ringactor.h" \
	exports.diff
! grep -v '@@RINGACTOR_' exports.txt >unversioned.txt
ok $? "every export carries a RINGACTOR_ version (libringactor.map)" \
	unversioned.txt

mandir=$(find "$tmp/root" -type d -name man | head -n 1)
if [ -z "$mandir" ] || [ ! -f "$mandir/man3/ra_send.3" ]; then
	echo "not ok 7 - man page ra_send(3) installed"
elif command -v man >/dev/null 2>&1; then
	MANPATH="$mandir" man -P cat ra_send 2>&1 | grep -q ra_send
	ok $? "man ra_send finds the installed page"
else
	echo "ok 7 - man page ra_send(3) installed # SKIP man(1) not installed"
fi
