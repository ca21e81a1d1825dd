/*
 * supervisor/sup_request.h: requests to a supervisor from the API
 * (start, terminate, restart, delete, which and count children).
 */
#ifndef RA_SUPERVISOR_SUP_REQUEST_H
#define RA_SUPERVISOR_SUP_REQUEST_H

#include "supervisor/supervisor.h"

/* Serve a queued request (STEP_REQUEST). */
void ra__sup_request_serve(struct sup_state *st, const struct sup_step *s);

#endif /* RA_SUPERVISOR_SUP_REQUEST_H */
