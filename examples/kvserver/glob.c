/*
 * examples/kvserver/glob.c: glob matching with the corner cases of
 * Redis' stringmatchlen(), which clients can observe through KEYS:
 *
 *   - the loop stops once the string is used up; trailing '*'s then
 *     match nothing, so "*" does not match the empty key (KEYS treats a
 *     lone "*" pattern specially, see cmd_keys.c) while "a*" matches "a";
 *   - an unclosed class ("[ab" or "[a-") takes the rest of the pattern
 *     as the class; "[^" alone matches any byte;
 *   - in a class, "x-y" with y < x is the range y..x; '\' escapes the
 *     next byte; bytes compare as signed chars in ranges;
 *   - a '\' at the very end of the pattern is a literal '\'.
 */
#include <ctype.h>

#include "glob.h"

static int fold(int c, bool nocase)
{
	return nocase ? tolower(c) : c;
}

static bool same(char a, char b, bool nocase)
{
	return fold((unsigned char)a, nocase) == fold((unsigned char)b, nocase);
}

/*
 * Match the class that starts after '[' at pat[*i] against byte c, and
 * leave *i on its closing ']' (or on the last pattern byte when the
 * class is unclosed), as the caller steps one past it.
 */
static bool class_match(const char *pat, size_t plen, size_t *i, char c,
			bool nocase)
{
	bool neg = false, hit = false;
	size_t k = *i;

	if (k < plen && pat[k] == '^') {
		neg = true;
		k++;
	}
	for (;;) {
		size_t left = plen - k;

		if (left >= 2 && pat[k] == '\\') {
			k++;
			if (pat[k] == c)
				hit = true;
		} else if (left > 0 && pat[k] == ']') {
			break;
		} else if (left == 0) {
			k--;	/* unclosed: stand on the last byte */
			break;
		} else if (left >= 3 && pat[k + 1] == '-') {
			int lo = (signed char)pat[k];
			int hi = (signed char)pat[k + 2];
			int x = (signed char)c;

			if (lo > hi) {
				int t = lo;

				lo = hi;
				hi = t;
			}
			if (nocase) {
				lo = tolower(lo);
				hi = tolower(hi);
				x = tolower(x);
			}
			if (x >= lo && x <= hi)
				hit = true;
			k += 2;
		} else if (same(pat[k], c, nocase)) {
			hit = true;
		}
		k++;
	}
	*i = k;
	return neg ? !hit : hit;
}

/*
 * 1 match, 0 no match, -1 no match and no later start can match either
 * (a '*' tried every suffix: trying longer runs for an earlier '*' is
 * pointless, which keeps patterns like "*a*a*a*b" linear-ish).
 */
static int match(const char *pat, size_t plen, const char *str, size_t slen,
		 bool nocase)
{
	size_t i = 0, j = 0;

	while (i < plen && j < slen) {
		switch (pat[i]) {
		case '*':
			while (i + 1 < plen && pat[i + 1] == '*')
				i++;
			if (i + 1 == plen)
				return 1;
			for (; j < slen; j++) {
				int r = match(pat + i + 1, plen - i - 1,
					      str + j, slen - j, nocase);

				if (r)
					return r;
			}
			return -1;
		case '?':
			j++;
			break;
		case '[':
			i++;
			if (!class_match(pat, plen, &i, str[j], nocase))
				return 0;
			j++;
			break;
		case '\\':
			if (plen - i >= 2)
				i++;
			/* fall through */
		default:
			if (!same(pat[i], str[j], nocase))
				return 0;
			j++;
			break;
		}
		i++;
		if (j == slen) {
			while (i < plen && pat[i] == '*')
				i++;
			break;
		}
	}
	return i == plen && j == slen;
}

bool kv_glob_match(const char *pat, size_t plen, const char *str,
		   size_t slen, bool nocase)
{
	return match(pat, plen, str, slen, nocase) == 1;
}
