/*
 * supervisor/sup_children.h: a supervisor's copy of its spec and its child table.
 */
#ifndef RA_SUPERVISOR_SUP_CHILDREN_H
#define RA_SUPERVISOR_SUP_CHILDREN_H

#include "supervisor/supervisor.h"

/* Validate and deep-copy `spec`; *out is malloc'd (sup_boot_free). */
int ra__sup_children_boot_new(const ra_sup_spec_t *spec, ra_ref_t parent,
		     struct sup_boot **out);
void ra__sup_children_boot_free(struct sup_boot *b);

/* Validate one child spec (not the template's id). 0 or -EINVAL. */
int ra__sup_children_spec_check(const ra_child_spec_t *c, bool need_id);

/* Append a child record copied from `spec`; NULL on ENOMEM. */
struct sup_child *ra__sup_children_add(struct sup_state *st,
				    const ra_child_spec_t *spec);
void ra__sup_children_del(struct sup_state *st, struct sup_child *c);
struct sup_child *ra__sup_children_by_serial(struct sup_state *st,
					  uint64_t serial);
struct sup_child *ra__sup_children_by_id(struct sup_state *st, const char *id);
struct sup_child *ra__sup_children_by_ref(struct sup_state *st, ra_ref_t ref);
struct sup_child *ra__sup_children_by_mref(struct sup_state *st, uint64_t mref);
unsigned ra__sup_children_index(struct sup_state *st, const struct sup_child *c);

#endif /* RA_SUPERVISOR_SUP_CHILDREN_H */
