/*
 * shard/errors.c: ra_strerror() and the thread-local ra_last_error() text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shard/errors.h"
#include "ringactor.h"

static _Thread_local char last_error[512];

void ra__errors_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

void ra__errors_clear(void)
{
	last_error[0] = '\0';
}

RA_API const char *ra_last_error(void)
{
	return last_error;
}

RA_API const char *ra_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ESRCH:
		return "no such actor (it has stopped or never existed)";
	case -EAGAIN:
		return "resource temporarily unavailable";
	case -ESHUTDOWN:
		return "the runtime or the actor is shutting down";
	case -EDEADLK:
		return "called from a shard thread where only a non-shard "
		       "thread may call";
	case -ENOSYS:
		return "io_uring is not available in this kernel";
	case -EPERM:
		return "io_uring is not permitted (kernel.io_uring_disabled "
		       "sysctl or a seccomp filter)";
	default:
		return err < 0 ? strerror(-err) : "not an error code";
	}
}
