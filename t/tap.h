/*
 * t/tap.h: a tiny TAP producer for the test programs (read by automake's
 * tap-driver.sh). Header-only so each test is one .c file.
 *
 *   plan(n);                    "1..n"
 *   ok(cond, fmt, ...);         "ok N - ..." / "not ok N - ..." + file:line
 *   is_int(got, want, fmt, ...) ok() that prints both values on failure
 *   skip(fmt, ...);             one test that cannot run: "ok N # SKIP ..."
 *   skip_all(reason);           "1..0 # SKIP reason", exit 0
 *   tap_timeout(seconds);       bail out if the test runs longer
 *   diag(fmt, ...);             "# ..." comment line
 *   return exit_status();       non-zero if any test failed or the plan
 *                               was not met
 */
#ifndef RA_T_TAP_H
#define RA_T_TAP_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline int tap_ok(int cond, const char *file, int line,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int tap_ok(int cond, const char *file, int line,
			 const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                              \
	do {                                                                \
		long long tap_g_ = (long long)(got);                        \
		long long tap_w_ = (long long)(want);                       \
		if (!ok(tap_g_ == tap_w_, __VA_ARGS__))                     \
			diag("  got %lld, want %lld", tap_g_, tap_w_);      \
	} while (0)

/* One planned test that cannot run here: "ok N # SKIP reason". */
static inline void skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void skip(const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("ok %d # SKIP ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline void skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(0);
}

static inline void bail_out(const char *reason)
{
	printf("Bail out! %s\n", reason);
	fflush(stdout);
	exit(1);
}

static void tap_alarm(int sig)
{
	static const char msg[] = "Bail out! test timed out\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Every t/ program bounds its run time; sanitizer builds get 4x longer. */
static inline void tap_timeout(unsigned seconds)
{
	const char *mul = getenv("RA_TEST_TIME_SCALE");

	if (mul && atoi(mul) > 0)
		seconds *= (unsigned)atoi(mul);
	signal(SIGALRM, tap_alarm);
	alarm(seconds);
}

static inline int exit_status(void)
{
	if (tap_planned >= 0 && tap_run != tap_planned) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
		return 1;
	}
	return tap_failed ? 1 : 0;
}

/* Environment knobs for replayable stress tests (RA_SEED, RA_ITERS...). */
static inline unsigned long long tap_env_ull(const char *name,
					     unsigned long long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

#endif /* RA_T_TAP_H */
