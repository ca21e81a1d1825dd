#!/usr/bin/env bash
# t/layout.sh: the source tree keeps the architecture's shape. Speaks TAP.
#
# 1. Layers: the runtime's folders are ranked, lowest first
#      shard (the shard: thread, ring, loop) < mailbox (the envelope, its
#      queue and transport) < actors < io
#    and no file includes a header of a folder ranked above its own. The
#    few calls a lower layer makes upward are declared in that layer's
#    hooks.h (docs/architecture.md, "Layers"). supervisor/, examples/ and
#    bench/ are built on the public API: they include ringactor.h and
#    their own folder's headers only.
# 2. Every .c of the runtime that defines internal (ra__) functions has
#    its header beside it, and each such symbol, and each inline function
#    of a header, is named after its file: ra__<file>_...
#    (hdr_histogram: ra__hdr_..., supervisor: ra__sup_...). A layer's
#    hooks.h declares functions of the layers above, named after theirs.
set -u
top=${top_srcdir:-.}
cd "$top" || exit 1

rank() {
	case $1 in
	include/*) echo 0 ;;
	shard/*) echo 1 ;;
	mailbox/*) echo 2 ;;
	actors/*) echo 3 ;;
	io/*) echo 4 ;;
	*) echo 99 ;;
	esac
}

n=0
fail=0
report() {	# report OK|FAIL description [details]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		printf '%s\n' "$3" | sed 's/^/#   /'
		fail=1
	fi
}

includes() {	# the quoted includes of file $1, as paths from the top
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"
}

echo "1..4"

# ---- 1. runtime layers
bad=""
for f in shard/*.[ch] mailbox/*.[ch] actors/*.[ch] io/*.[ch]; do
	r=$(rank "$f")
	for inc in $(includes "$f"); do
		[ "$inc" = ringactor.h ] && continue
		ri=$(rank "$inc")
		if [ "$ri" -gt "$r" ]; then
			bad="$bad$f includes $inc (a layer above)
"
		fi
	done
done
if [ -z "$bad" ]; then
	report OK "no runtime file includes a header of a layer above its own"
else
	report FAIL "no runtime file includes a header of a layer above its own" "$bad"
fi

# ---- 1b. public-API-only folders
bad=""
for f in supervisor/*.[ch] examples/*.[ch] examples/*/*.[ch] bench/*.[ch]; do
	[ -f "$f" ] || continue
	dir=$(dirname "$f")
	for inc in $(includes "$f"); do
		[ "$inc" = ringactor.h ] && continue
		[ -f "$dir/$inc" ] && continue
		[ "$(dirname "$inc")" = "$dir" ] && [ -f "$inc" ] && continue
		bad="$bad$f includes $inc (not the public API)
"
	done
done
if [ -z "$bad" ]; then
	report OK "supervisor/, examples/ and bench/ use the public API only"
else
	report FAIL "supervisor/, examples/ and bench/ use the public API only" "$bad"
fi

# ---- 2. headers beside and names after files
prefix_of() {	# the internal prefix of a file's symbols
	case $1 in
	hdr_histogram) echo hdr ;;
	supervisor) echo sup ;;
	*) echo "$1" ;;
	esac
}

defined_internals() {	# ra__ functions and variables file $1 defines
	# A definition starts at column 0 (kernel style): a type, then the
	# name, then "(" (functions) or "=", ";" (variables); static ones
	# are file-local and free to be named anything.
	grep -E '^[A-Za-z_].*\bra__[a-z0-9_]+ *(\(|=|;|\[)' "$1" |
		grep -vE '^(static|extern|typedef|#)' |
		sed -E 's/.*\b(ra__[a-z0-9_]+) *(\(|=|;|\[).*/\1/' | sort -u
}

nohdr=""
misnamed=""
for f in shard/*.c mailbox/*.c actors/*.c io/*.c supervisor/*.c; do
	base=$(basename "$f" .c)
	syms=$(defined_internals "$f")
	[ -n "$syms" ] || continue
	[ -f "${f%.c}.h" ] || nohdr="$nohdr$f defines $(echo $syms | tr '\n' ' ')but has no ${f%.c}.h
"
	p=$(prefix_of "$base")
	for s in $syms; do
		case $s in
		ra__"$p"|ra__"$p"_*) ;;
		*) misnamed="$misnamed$f: $s (want ra__${p}_...)
" ;;
		esac
	done
done
if [ -z "$nohdr" ]; then
	report OK "every .c that defines internal functions has its header beside it"
else
	report FAIL "every .c that defines internal functions has its header beside it" "$nohdr"
fi
for h in shard/*.h mailbox/*.h actors/*.h io/*.h supervisor/*.h; do
	base=$(basename "$h" .h)
	[ "$base" = hooks ] && continue
	p=$(prefix_of "$base")
	for s in $(grep -E '^static inline .*\bra__[a-z0-9_]+\(' "$h" |
		   sed -E 's/.*\b(ra__[a-z0-9_]+)\(.*/\1/'); do
		case $s in
		ra__"$p"|ra__"$p"_*) ;;
		*) misnamed="$misnamed$h: $s (want ra__${p}_...)
" ;;
		esac
	done
done
if [ -z "$misnamed" ]; then
	report OK "internal symbols and inline functions are named after their file"
else
	report FAIL "internal symbols and inline functions are named after their file" "$misnamed"
fi
exit 0
