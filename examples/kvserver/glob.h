/*
 * examples/kvserver/glob.h: glob-style matching as KEYS and CONFIG GET
 * match, with Redis' rules and corner cases (see glob.c).
 */
#ifndef KV_GLOB_H
#define KV_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Does `str` match `pat`? '*' any run of bytes, '?' one byte, '[...]' a
 * class ('^' first negates, 'a-z' ranges, '\' escapes), '\' escapes the
 * next byte. `nocase` folds ASCII letters. Both are byte strings.
 */
bool kv_glob_match(const char *pat, size_t plen, const char *str,
		   size_t slen, bool nocase);

#endif /* KV_GLOB_H */
