/*
 * shard/errors.h: error text. ra__set_error() records why the last
 * ra_runtime_create() on this thread failed, for ra_last_error().
 */
#ifndef RA_SHARD_ERRORS_H
#define RA_SHARD_ERRORS_H

void ra__set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ra__clear_error(void);

#endif /* RA_SHARD_ERRORS_H */
