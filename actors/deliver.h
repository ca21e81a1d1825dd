/*
 * actors/deliver.h: delivery of arriving envelopes.
 *
 * ra__deliver() and ra__deliver_failed(), called by the transport below
 * (and by local sends), are declared in mailbox/hooks.h; this header
 * gives the rest of the actor layer the same two calls.
 */
#ifndef RA_ACTORS_DELIVER_H
#define RA_ACTORS_DELIVER_H

#include "mailbox/hooks.h"

#endif /* RA_ACTORS_DELIVER_H */
