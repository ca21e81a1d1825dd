/*
 * actors/registry.c: registered names (ra_register, ra_unregister,
 * ra_whereis). See registry.h for why this is a mutex-guarded table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actors/actor.h"
#include "actors/links.h"
#include "actors/registry.h"
#include "actors/slot.h"
#include "shard/hooks.h"
#include "shard/runtime.h"

struct ra_name {
	struct ra_name *next;
	ra_ref_t ref;
	size_t len;
	char name[RA_NAME_MAX + 1];
};

RA_COLD ra_registry_t *ra__registry_create(void)
{
	ra_registry_t *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

RA_COLD void ra__registry_destroy(ra_registry_t *r)
{
	for (unsigned i = 0; i < RA_REGISTRY_BUCKETS; i++) {
		while (r->buckets[i]) {
			struct ra_name *n = r->buckets[i];

			r->buckets[i] = n->next;
			free(n);
		}
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* FNV-1a: names are short, and collisions only cost a strcmp. */
static struct ra_name **bucket(ra_registry_t *r, const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return &r->buckets[h % RA_REGISTRY_BUCKETS];
}

/* The link that points at `name`'s entry (or at NULL). Lock held. */
static struct ra_name **find(ra_registry_t *r, const char *name, size_t len)
{
	struct ra_name **p = bucket(r, name, len);

	for (; *p; p = &(*p)->next)
		if ((*p)->len == len && !memcmp((*p)->name, name, len))
			break;
	return p;
}

int ra__registry_add_any(ra_registry_t *r, const char *name, size_t len,
			 ra_ref_t ref)
{
	struct ra_name **p, *n;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	p = find(r, name, len);
	if (*p) {
		ret = -EEXIST;
	} else if (!(n = malloc(sizeof(*n)))) {
		ret = -ENOMEM;
	} else {
		n->next = NULL;
		n->ref = ref;
		n->len = len;
		memcpy(n->name, name, len);
		n->name[len] = '\0';
		*p = n;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int ra__registry_del_any(ra_registry_t *r, const char *name, size_t len,
			 ra_ref_t ref)
{
	struct ra_name **p, *n = NULL;

	pthread_mutex_lock(&r->lock);
	p = find(r, name, len);
	if (*p && ra_ref_eq((*p)->ref, ref)) {
		n = *p;
		*p = n->next;
	}
	pthread_mutex_unlock(&r->lock);
	free(n);
	return n ? 0 : -ENOENT;
}

int ra__registry_find_any(ra_registry_t *r, const char *name, size_t len,
			  ra_ref_t *out)
{
	struct ra_name **p;
	int ret = -ESRCH;

	pthread_mutex_lock(&r->lock);
	p = find(r, name, len);
	if (*p) {
		*out = (*p)->ref;
		ret = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* Length of a valid name, or -EINVAL / -ENAMETOOLONG. */
static int name_len(const char *name)
{
	size_t len;

	if (!name || !*name)
		return -EINVAL;
	len = strnlen(name, RA_NAME_MAX + 1);
	return len > RA_NAME_MAX ? -ENAMETOOLONG : (int)len;
}

RA_API int ra_register(ra_ctx_t *self, const char *name)
{
	ra_runtime_t *rt;
	struct ra_links *lk;
	int len, ret;

	if (!self)
		return -EINVAL;
	len = name_len(name);
	if (len < 0)
		return len;
	if (self->status == RA_ACTOR_STOPPING || self->stop_requested)
		return -ESHUTDOWN;
	lk = ra__links_get(self);
	if (!lk)
		return -ENOMEM;
	if (lk->named)
		return -EBUSY;
	rt = self->shard->rt;
	ret = ra__registry_add_any(rt->names, name, (size_t)len, self->ref);
	if (ret == 0) {
		memcpy(lk->name, name, (size_t)len + 1);
		lk->named = true;
	}
	return ret;
}

RA_API int ra_unregister(ra_ctx_t *self, const char *name)
{
	struct ra_links *lk;
	int len;

	if (!self)
		return -EINVAL;
	len = name_len(name);
	if (len == -EINVAL)
		return len;
	lk = self->links;
	if (len < 0 || !lk || !lk->named || strcmp(lk->name, name))
		return -ENOENT;
	lk->named = false;
	return ra__registry_del_any(self->shard->rt->names, name,
				    (size_t)len, self->ref);
}

void ra__registry_release(ra_actor_t *a)
{
	struct ra_links *lk = a->links;

	if (lk && lk->named) {
		lk->named = false;
		(void)ra__registry_del_any(a->shard->rt->names, lk->name,
					   strlen(lk->name), a->ref);
	}
}

RA_API int ra_whereis(ra_runtime_t *rt, const char *name, ra_ref_t *out)
{
	ra_ref_t ref;
	int len, ret;

	if (!rt || !out)
		return -EINVAL;
	len = name_len(name);
	if (len < 0)
		return len;
	ret = ra__registry_find_any(rt->names, name, (size_t)len, &ref);
	if (ret < 0)
		return ret;
	/* Between its slot dying and its exit step 5 the name still maps. */
	if (ra__slot_resolve_any(rt->slots, ref) < 0)
		return -ESRCH;
	*out = ref;
	return 0;
}
