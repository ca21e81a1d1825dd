/*
 * shard/testing.h: knobs that only the test build has.
 *
 * The t/ programs link a copy of the runtime built with -DRA_TESTING
 * (Makefile.am, libra_testing.la), in which these read the environment:
 *
 *   RA_FAULT_MSGRING=N               every Nth msg_ring batch fails as a
 *                                    full target CQ would (t/order_retry.sh)
 *   RA_TEST_OUTSIDE_SEND_DELAY_NS=N  non-shard sends pause N ns between
 *                                    resolving their target and injecting
 *                                    (t/steal_outside.c)
 *   RA_FAULT_IO_ENV=N                every Nth completion of a multishot
 *                                    request finds no envelope, as when
 *                                    the pool cannot grow (io/io.c,
 *                                    t/io_multishot.c, t/io_bufring.c)
 *
 * In the library users link they are constant 0: a program whose
 * environment happens to hold one of these names behaves as without it.
 */
#ifndef RA_SHARD_TESTING_H
#define RA_SHARD_TESTING_H

#include <stdint.h>
#include <stdlib.h>

/* The knob `name`'s decimal value, 0 when unset; read once, at create. */
static inline uint64_t ra__testing_knob(const char *name)
{
#ifdef RA_TESTING
	const char *env = getenv(name);

	return env ? strtoull(env, NULL, 10) : 0;
#else
	(void)name;
	return 0;
#endif
}

#endif /* RA_SHARD_TESTING_H */
