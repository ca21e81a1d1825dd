/*
 * shard/errors.h: error text. ra__errors_set() records why the last
 * ra_runtime_create() on this thread failed, for ra_last_error().
 */
#ifndef RA_SHARD_ERRORS_H
#define RA_SHARD_ERRORS_H

void ra__errors_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ra__errors_clear(void);

#endif /* RA_SHARD_ERRORS_H */
