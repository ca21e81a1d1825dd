#!/usr/bin/env bash
# t/man.sh: every public function has a man page. Speaks TAP.
#
# The RA_API declarations of include/ringactor.h are the public functions.
# For each one:
#   - man/<name>.3 exists and Makefile.am lists it in dist_man3_MANS, so
#     that `make install` puts it in $(mandir)/man3; it is either a real
#     page or one line ".so man3/<family>.3" leading to its family's page;
#   - that page names the function in its NAME section, and its SYNOPSIS
#     includes <ringactor.h> and declares the function exactly as the
#     header does (spacing aside).
# Then: every .so leads to a real page; every page passes groff's (or
# mandoc's) lint, skipped when neither is installed; ringactor.7 lists
# every family page; each ra_* cross-reference leads to a page; every
# man/*.3 documents an RA_API function; every page that Makefile.am lists
# exists.
set -u
top=${top_srcdir:-.}
cd "$top" || exit 1

hdr=include/ringactor.h
n=0
report() {	# report OK|FAIL description [details]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		if [ -n "${3:-}" ]; then
			printf '%s\n' "$3" | sed 's/^/#   /'
		fi
	fi
}

# "name<TAB>prototype" for each RA_API declaration of the header, in order.
# A declaration runs from "RA_API" at the start of a line to the first ";"
# and may span lines; comments are dropped, blanks squeezed. The name is
# the identifier before the first "(", so "const char *ra_strerror(" and
# "ra_runtime_t *ra_runtime(" give ra_strerror and ra_runtime.
protos() {
	awk '
	function norm(s) {
		gsub(/[ \t]+/, " ", s)
		gsub(/\( /, "(", s)
		gsub(/ \)/, ")", s)
		gsub(/ ,/, ",", s)
		gsub(/ ;/, ";", s)
		sub(/^ /, "", s)
		sub(/ $/, "", s)
		return s
	}
	/^RA_API[ \t]/ { on = 1; d = "" }
	on {
		line = $0
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", line)
		d = d " " line
		if (index(d, ";")) {
			sub(/;.*/, ";", d)
			sub(/^[ \t]*RA_API[ \t]+/, "", d)
			d = norm(d)
			name = d
			sub(/[ \t]*\(.*/, "", name)
			sub(/.*[^A-Za-z0-9_]/, "", name)
			print name "\t" d
			on = 0
		}
	}' "$hdr"
}

# The words of Makefile.am's variable $1 (continuation lines joined).
make_list() {
	awk -v var="$1" '
	$0 ~ "^" var "[ \t]*[+]?=" { on = 1; sub(/^[^=]*=/, "") }
	on {
		more = sub(/\\$/, "")
		print
		if (!more)
			on = 0
	}' Makefile.am | tr -s ' \t' '\n' | sed '/^$/d'
}

# The target of a .so page ("ra_send" for ".so man3/ra_send.3"), or
# nothing for a real page.
so_target() {
	sed -n '1s/^\.so[[:blank:]]\{1,\}man3\/\(.*\)\.3[[:blank:]]*$/\1/p' \
		"$1"
}

# The text of section $2 of page $1: roff lines, from ".SH $2" to the next
# ".SH".
section() {
	awk -v want="$2" '
	/^\.SH/ {
		s = $0
		sub(/^\.SH[ \t]+/, "", s)
		gsub(/"/, "", s)
		on = (s == want)
		next
	}
	on' "$1"
}

# The declarations in the SYNOPSIS of page $1, one a line, normalized as
# protos() does. Only .B and .BI lines count: their arguments (quoted or
# not) are joined without the spaces between them, as groff prints them.
synopsis_protos() {
	section "$1" SYNOPSIS | awk '
	function norm(s) {
		gsub(/[ \t]+/, " ", s)
		gsub(/\( /, "(", s)
		gsub(/ \)/, ")", s)
		gsub(/ ,/, ",", s)
		gsub(/ ;/, ";", s)
		sub(/^ /, "", s)
		sub(/ $/, "", s)
		return s
	}
	function args(s,	out, c, i, q) {
		out = ""
		q = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"")
				q = !q
			else if (q || (c != " " && c != "\t"))
				out = out c
		}
		return out
	}
	/^\.BI?[ \t]/ {
		s = $0
		sub(/^\.BI?[ \t]+/, "", s)
		s = args(s)
		if (s ~ /^#include/)
			next
		gsub(/\\-/, "-", s)
		gsub(/\\&/, "", s)
		text = text " " s
	}
	END {
		n = split(text, d, ";")
		for (i = 1; i < n; i++)
			print norm(d[i] ";")
	}'
}

# The names in the NAME section of page $1, one a line.
names() {
	section "$1" NAME | sed 's/[[:blank:]]*\\-.*//' |
		tr -s ', \t' '\n' | sed '/^$/d'
}

# Real (not .so) section 3 pages, "page<TAB>name" for each name in their
# NAME sections.
family_names() {
	local page
	for page in man/*.3; do
		[ -f "$page" ] || continue
		grep -q '^\.so' "$page" && continue
		names "$page" | sed "s|^|$page\t|"
	done
}

# What to write for function $1 (prototype $2) that has no page: the
# family page whose NAME already lists it, else the one family whose
# functions share its prefix (ra_io_ for ra_io_fdatasync), else a hint.
missing_hint() {
	local name=$1 proto=$2 page=man/$1.3 fam prefix
	fam=$(printf '%s\n' "$fams" | awk -F'\t' -v n="$name" \
		'$2 == n { print $1; exit }')
	if [ -n "$fam" ]; then
		echo "$fam documents $name: write $page as the one line"
		echo "'.so man3/${fam#man/}', then add $page to dist_man3_MANS"
		echo "in Makefile.am"
		return
	fi
	prefix=$(printf '%s\n' "$name" | sed -n 's/^\(ra_[^_]*_\).*/\1/p')
	if [ -n "$prefix" ]; then
		fam=$(printf '%s\n' "$fams" | awk -F'\t' -v p="$prefix" \
			'index($2, p) == 1 { print $1 }' | sort -u)
		[ "$(printf '%s\n' "$fam" | wc -l)" -eq 1 ] || fam=""
	fi
	echo "write $page, then add it to dist_man3_MANS in Makefile.am."
	echo "A page of its own, or, to document $name with its family,"
	if [ -n "$fam" ]; then
		echo "say $fam, the one line '.so man3/${fam#man/}', adding"
		echo "$name to the NAME and the SYNOPSIS of $fam."
	else
		echo "the one line '.so man3/<family>.3', adding $name to the"
		echo "NAME and the SYNOPSIS of man/<family>.3."
	fi
	echo "The SYNOPSIS must declare it as $hdr does (spacing aside):"
	echo "  $proto"
}

funcs=$(protos)
if [ -z "$funcs" ]; then
	echo "1..1"
	echo "not ok 1 - no RA_API declaration found in $hdr"
	exit 0
fi
listed3=$(make_list dist_man3_MANS)
listed7=$(make_list dist_man7_MANS)
fams=$(family_names)

# 1. A page per function, installed, whose NAME and SYNOPSIS declare it.
while IFS=$'\t' read -r name proto; do
	page=man/$name.3
	if [ ! -f "$page" ]; then
		report FAIL "$name: no man page $page" \
			"$(missing_hint "$name" "$proto")"
		continue
	fi
	if ! printf '%s\n' "$listed3" | grep -qxF "$page"; then
		report FAIL "$name: $page is not installed" \
			"add $page to dist_man3_MANS in Makefile.am"
	else
		report OK "$name: $page exists and is installed"
	fi

	target=$(so_target "$page")
	real=man/${target:-$name}.3
	if [ ! -f "$real" ]; then
		continue	# reported below, with the .so checks
	fi
	why=""
	if ! names "$real" | grep -qxF "$name"; then
		why="add $name to the NAME section of $real"
	fi
	if ! section "$real" SYNOPSIS | grep -qF '#include <ringactor.h>'; then
		why="${why:+$why
}add '.B #include <ringactor.h>' to the SYNOPSIS of $real"
	fi
	got=$(synopsis_protos "$real" | grep -F " $name(" | head -n 1)
	got=${got:-$(synopsis_protos "$real" | grep -F "*$name(" | head -n 1)}
	if [ -z "$got" ]; then
		why="${why:+$why
}the SYNOPSIS of $real does not declare $name; add:
  $proto"
	elif [ "$got" != "$proto" ]; then
		why="${why:+$why
}the SYNOPSIS of $real declares $name differently from $hdr:
  page:   $got
  header: $proto"
	fi
	what="$name: $real documents it as $hdr declares it"
	if [ -n "$why" ]; then
		report FAIL "$what" "$why"
	else
		report OK "$what"
	fi
done <<EOF
$funcs
EOF

# 2. Each .so page leads to a real page.
for page in man/*.3; do
	[ -f "$page" ] || continue
	if ! grep -q '^\.so' "$page"; then
		continue
	fi
	target=$(so_target "$page")
	lines=$(wc -l <"$page")
	if [ -z "$target" ] || [ "$lines" -ne 1 ]; then
		report FAIL "$page: a one-line .so page" \
			"its only line must be '.so man3/<family>.3'"
	elif [ ! -f "man/$target.3" ]; then
		report FAIL "$page: .so target man/$target.3 exists" \
			"write man/$target.3, or point $page at a real page"
	elif [ -n "$(so_target "man/$target.3")" ]; then
		report FAIL "$page: .so target man/$target.3 is a real page" \
			"man/$target.3 is a .so too; point $page at its target"
	else
		report OK "$page: .so target man/$target.3 exists"
	fi
done

# 3. Each real page passes lint: groff -ww, else mandoc -Tlint.
if command -v groff >/dev/null 2>&1; then
	lint_tool=groff
	lint() { groff -man -Tutf8 -ww -z "$1" 2>&1; }
elif command -v mandoc >/dev/null 2>&1; then
	lint_tool=mandoc
	lint() { mandoc -Tlint -Wwarning "$1" 2>&1; }
else
	lint_tool=""
fi
for page in man/*.3 man/*.7; do
	[ -f "$page" ] || continue
	grep -q '^\.so' "$page" && continue
	if [ -z "$lint_tool" ]; then
		report OK "$page passes lint # SKIP no groff or mandoc here"
		continue
	fi
	out=$(lint "$page")
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		report OK "$page passes $lint_tool lint"
	else
		report FAIL "$page passes $lint_tool lint" \
			"${out:-$lint_tool exited with status $rc}"
	fi
done

# 4. ringactor.7 lists every family page.
missing=""
for page in man/*.3; do
	[ -f "$page" ] || continue
	grep -q '^\.so' "$page" && continue
	fam=$(basename "$page" .3)
	grep -q "^\.BR $fam (3)" man/ringactor.7 ||
		missing="$missing$fam "
done
if [ -n "$missing" ]; then
	report FAIL "man/ringactor.7 lists every family page" \
		"add to its FUNCTIONS section: $missing"
else
	report OK "man/ringactor.7 lists every family page"
fi

# 5. Each cross-reference to an ra_ page leads to a page.
bad=$(grep -o '^\.BR ra_[A-Za-z0-9_]* (3)' man/*.3 man/*.7 |
	while IFS=: read -r page ref; do
		ref=${ref#.BR }
		ref=${ref% (3)}
		[ -f "man/$ref.3" ] || echo "$page: $ref(3)"
	done | sort -u)
if [ -n "$bad" ]; then
	report FAIL "every ra_*(3) reference leads to a page" \
		"$(printf 'page: missing reference\n%s' "$bad")"
else
	report OK "every ra_*(3) reference leads to a page"
fi

# 6. No page outlives its function (or function-like macro, such as
#    ra_config_init, whose page users look for), and every listed page
#    exists.
macros=$(sed -n 's/^#define \(ra_[a-z0-9_]*\)(.*/\1/p' "$hdr")
orphans=""
for page in man/*.3; do
	[ -f "$page" ] || continue
	name=$(basename "$page" .3)
	{ printf '%s\n' "$funcs" | cut -f1; printf '%s\n' "$macros"; } |
		grep -qxF "$name" || orphans="$orphans$page "
done
if [ -n "$orphans" ]; then
	report FAIL "each man/*.3 documents an RA_API function or macro" \
		"nothing in $hdr for: $orphans
remove these pages and their dist_man3_MANS entries in Makefile.am"
else
	report OK "each man/*.3 documents an RA_API function or macro"
fi

why=""
for page in $listed3 $listed7; do
	[ -f "$page" ] || why="${why}$page is listed in Makefile.am but missing
"
done
printf '%s\n' "$listed7" | grep -qxF man/ringactor.7 ||
	why="${why}add man/ringactor.7 to dist_man7_MANS in Makefile.am"
if [ -n "$why" ]; then
	report FAIL "Makefile.am installs ringactor.7 and only existing pages" \
		"$why"
else
	report OK "Makefile.am installs ringactor.7 and only existing pages"
fi

echo "1..$n"
exit 0
