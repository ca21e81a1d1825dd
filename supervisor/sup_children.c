/*
 * supervisor/sup_children.c: a supervisor's child specs: validation, the
 * copy its init receives, and the table of children in start order.
 *
 * Lookups are linear: a static supervisor has a handful of children, and
 * a simple_one_for_one one pays O(children) per exit, which is fine for
 * thousands; a larger pool would want a hash by ref here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sup_children.h"
#include "supervisor/supervisor.h"

static bool id_ok(const char *id)
{
	return id && *id && strnlen(id, RA_NAME_MAX + 1) <= RA_NAME_MAX;
}

int ra__sup_children_spec_check(const ra_child_spec_t *c, bool need_id)
{
	if (!c || (need_id && !id_ok(c->id)))
		return -EINVAL;
	if (!c->start && (!c->def || !c->def->behavior))
		return -EINVAL;
	if ((unsigned)c->restart > RA_TEMPORARY ||
	    (unsigned)c->type > RA_SUPERVISOR)
		return -EINVAL;
	return 0;
}

static int spec_check(const ra_sup_spec_t *spec)
{
	bool simple = spec->strategy == RA_SIMPLE_ONE_FOR_ONE;

	if ((unsigned)spec->strategy > RA_SIMPLE_ONE_FOR_ONE ||
	    spec->period_ms == 0 || spec->intensity > SUP_INTENSITY_MAX ||
	    (spec->nchildren && !spec->children) ||
	    (simple && spec->nchildren != 1) || spec->nchildren > 65536)
		return -EINVAL;
	for (unsigned i = 0; i < spec->nchildren; i++) {
		const ra_child_spec_t *c = &spec->children[i];

		if (ra__sup_children_spec_check(c, !simple) < 0)
			return -EINVAL;
		for (unsigned j = 0; !simple && j < i; j++)
			if (!strcmp(spec->children[j].id, c->id))
				return -EINVAL;	/* ids are unique */
	}
	return 0;
}

int ra__sup_children_boot_new(const ra_sup_spec_t *spec, ra_ref_t parent,
		     struct sup_boot **out)
{
	unsigned n = spec ? spec->nchildren : 0;
	struct sup_boot *b;

	if (!spec || !out || spec_check(spec) < 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->kids = calloc(n ? n : 1, sizeof(*b->kids));
	b->ids = calloc(n ? n : 1, sizeof(*b->ids));
	if (!b->kids || !b->ids) {
		ra__sup_children_boot_free(b);
		return -ENOMEM;
	}
	b->spec = *spec;
	b->parent = parent;
	for (unsigned i = 0; i < n; i++) {
		b->kids[i] = spec->children[i];
		if (spec->children[i].id)
			strncpy(b->ids[i], spec->children[i].id, RA_NAME_MAX);
		b->kids[i].id = b->ids[i];
	}
	b->spec.children = b->kids;
	*out = b;
	return 0;
}

void ra__sup_children_boot_free(struct sup_boot *b)
{
	if (!b)
		return;
	free(b->kids);
	free(b->ids);
	free(b);
}

struct sup_child *ra__sup_children_add(struct sup_state *st,
				    const ra_child_spec_t *spec)
{
	struct sup_child *c;

	if (st->nkids == st->kids_cap) {
		unsigned ncap = st->kids_cap ? st->kids_cap * 2 : 8;
		void *p = realloc(st->kids, ncap * sizeof(*st->kids));

		if (!p)
			return NULL;
		st->kids = p;
		st->kids_cap = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->spec = *spec;
	if (spec->id)
		strncpy(c->id, spec->id, RA_NAME_MAX);
	c->spec.id = c->id;
	c->serial = ++st->next_serial;
	st->kids[st->nkids++] = c;
	return c;
}

void ra__sup_children_del(struct sup_state *st, struct sup_child *c)
{
	unsigned i = ra__sup_children_index(st, c);

	if (i == st->nkids)
		return;
	/* Keep start order: later children shift down. */
	memmove(&st->kids[i], &st->kids[i + 1],
		(st->nkids - i - 1) * sizeof(*st->kids));
	st->nkids--;
	free(c);
}

unsigned ra__sup_children_index(struct sup_state *st, const struct sup_child *c)
{
	unsigned i = 0;

	while (i < st->nkids && st->kids[i] != c)
		i++;
	return i;
}

struct sup_child *ra__sup_children_by_serial(struct sup_state *st,
					  uint64_t serial)
{
	for (unsigned i = 0; i < st->nkids; i++)
		if (st->kids[i]->serial == serial)
			return st->kids[i];
	return NULL;
}

struct sup_child *ra__sup_children_by_id(struct sup_state *st, const char *id)
{
	for (unsigned i = 0; id && i < st->nkids; i++)
		if (!strcmp(st->kids[i]->id, id))
			return st->kids[i];
	return NULL;
}

struct sup_child *ra__sup_children_by_ref(struct sup_state *st, ra_ref_t ref)
{
	for (unsigned i = 0; !ra_ref_is_null(ref) && i < st->nkids; i++)
		if (ra_ref_eq(st->kids[i]->ref, ref))
			return st->kids[i];
	return NULL;
}

struct sup_child *ra__sup_children_by_mref(struct sup_state *st, uint64_t mref)
{
	for (unsigned i = 0; mref && i < st->nkids; i++)
		if (st->kids[i]->phase == CHILD_TERMINATING &&
		    st->kids[i]->mref == mref)
			return st->kids[i];
	return NULL;
}
