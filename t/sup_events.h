/*
 * t/sup_events.h: a supervisor on_event hook that records every report
 * (kind, child id, code, text) for the tests to search, under a mutex:
 * supervisors report from their shards while the test thread reads.
 */
#ifndef RA_T_SUP_EVENTS_H
#define RA_T_SUP_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ringactor.h"
#include "sup_worker.h"

#define EV_MAX 1024

struct ev_rec {
	enum ra_sup_event_kind kind;
	char id[RA_NAME_MAX + 1];
	int code;
	char why[RA_EXIT_WHY_MAX];
	ra_ref_t sup;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ev_rec ev_log[EV_MAX];
static int ev_n;

static void ev_record(const ra_sup_event_t *ev, void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&ev_lock);
	if (ev_n < EV_MAX) {
		struct ev_rec *r = &ev_log[ev_n++];

		r->kind = ev->kind;
		r->code = ev->code;
		r->sup = ev->sup;
		strncpy(r->id, ev->id, sizeof(r->id) - 1);
		r->id[sizeof(r->id) - 1] = '\0';
		strncpy(r->why, ev->why, sizeof(r->why) - 1);
		r->why[sizeof(r->why) - 1] = '\0';
	}
	pthread_mutex_unlock(&ev_lock);
	/* Workers are "w<id>": starts and stops go to the worker log. */
	if (ev->id[0] == 'w' && ev->kind == RA_SUP_CHILD_STARTED)
		wk_log_add(atoi(ev->id + 1) + 1);
	else if (ev->id[0] == 'w' && ev->kind == RA_SUP_CHILD_TERMINATED)
		wk_log_add(-(atoi(ev->id + 1) + 1));
}

static inline void ev_reset(void)
{
	pthread_mutex_lock(&ev_lock);
	ev_n = 0;
	pthread_mutex_unlock(&ev_lock);
}

/*
 * How many recorded events match: `kind`, and `id`, `code`, `why` unless
 * NULL / INT32_MIN / NULL.
 */
static inline int ev_count(enum ra_sup_event_kind kind, const char *id,
			   int code, const char *why)
{
	int n = 0;

	pthread_mutex_lock(&ev_lock);
	for (int i = 0; i < ev_n; i++) {
		const struct ev_rec *r = &ev_log[i];

		n += r->kind == kind && (!id || !strcmp(r->id, id)) &&
		     (code == INT32_MIN || r->code == code) &&
		     (!why || !strcmp(r->why, why));
	}
	pthread_mutex_unlock(&ev_lock);
	return n;
}

/* Wait up to SEC (5 s, scaled) for `want` matching events. */
static inline bool ev_wait(enum ra_sup_event_kind kind, const char *id,
			   int code, const char *why, int want)
{
	uint64_t end = ra_now_ns() + SEC;

	while (ev_count(kind, id, code, why) < want) {
		if (ra_now_ns() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

#endif /* RA_T_SUP_EVENTS_H */
