/*
 * supervisor/sup_api.c: starting supervisors and sending them requests (the
 * public side of supervisor/supervisor.c). A request travels as an ask of
 * RA_SUP_CALL_TYPE whose payload is a struct sup_wire: the request with
 * its strings copied inline, since pointers into the caller's memory
 * must not cross to the supervisor's shard.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sup_children.h"
#include "supervisor/supervisor.h"

static int copy_id(char *dst, const char *id)
{
	size_t len = id ? strnlen(id, RA_NAME_MAX + 1) : 0;

	if (len > RA_NAME_MAX)
		return -EINVAL;
	if (len)
		memcpy(dst, id, len);
	dst[len] = '\0';
	return 0;
}

static int wire_encode(const ra_sup_request_t *req, struct sup_wire *w)
{
	memset(w, 0, sizeof(*w));
	if (!req || req->op < RA_SUP_START_CHILD ||
	    req->op > RA_SUP_COUNT_CHILDREN)
		return -EINVAL;
	w->req = *req;
	if (copy_id(w->id, req->id) < 0 ||
	    copy_id(w->spec_id, req->spec.id) < 0)
		return -EINVAL;
	w->req.id = NULL;
	w->req.spec.id = NULL;
	return 0;
}

RA_API const char *ra_sup_event_name(enum ra_sup_event_kind kind)
{
	static const char *const names[] = {
		[RA_SUP_CHILD_STARTED] = "child_started",
		[RA_SUP_CHILD_EXITED] = "child_exited",
		[RA_SUP_CHILD_TERMINATED] = "child_terminated",
		[RA_SUP_CHILD_KILLED] = "child_killed",
		[RA_SUP_START_FAILED] = "start_failed",
		[RA_SUP_RESTART] = "restart",
		[RA_SUP_INTENSITY_EXCEEDED] = "intensity_exceeded",
		[RA_SUP_SHUTDOWN] = "shutdown",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

RA_API int ra_sup_start_link(ra_ctx_t *self, const ra_child_spec_t *spec,
			     ra_ref_t *out)
{
	ra_spawn_opts_t o;
	struct sup_boot *b;
	int ret;

	if (!self || !spec || !out)
		return -EINVAL;
	ret = ra__sup_children_boot_new(spec->arg, ra_self(self), &b);
	if (ret < 0)
		return ret;
	o = spec->opts;
	o.flags |= RA_SPAWN_LINK;
	ret = ra_spawn(self, &ra__sup_def, b, &o, out);
	if (ret < 0)
		ra__sup_children_boot_free(b);
	return ret;
}

RA_API int ra_runtime_sup_start(ra_runtime_t *rt, const ra_sup_spec_t *spec,
				const ra_spawn_opts_t *opts, ra_ref_t *out)
{
	struct sup_boot *b;
	int ret;

	if (!rt || !out)
		return -EINVAL;
	ret = ra__sup_children_boot_new(spec, RA_REF_NULL, &b);
	if (ret < 0)
		return ret;
	ret = ra_runtime_spawn(rt, &ra__sup_def, b, opts, out);
	if (ret < 0)
		ra__sup_children_boot_free(b);
	return ret;
}

RA_API int ra_sup_call(ra_ctx_t *self, ra_ref_t sup,
		       const ra_sup_request_t *req, uint64_t timeout_ns,
		       uint64_t *aref_out)
{
	struct sup_wire w;
	int ret = wire_encode(req, &w);

	if (ret < 0)
		return ret;
	return ra_ask(self, sup, RA_SUP_CALL_TYPE, &w, sizeof(w), timeout_ns,
		      aref_out);
}

/*
 * Ask from a non-shard thread and unpack the answer: its result, the
 * child, and (when `extra` is not NULL) a malloc'd copy of the h->n
 * items of `extra_size` bytes that follow the header.
 */
static int call(ra_runtime_t *rt, ra_ref_t sup, const ra_sup_request_t *req,
		uint64_t timeout_ns, ra_sup_reply_t *h, void **extra,
		size_t extra_size)
{
	struct sup_wire w;
	size_t len = 0;
	void *buf = NULL;
	int ret = wire_encode(req, &w);

	if (ret == 0)
		ret = ra_runtime_ask(rt, sup, RA_SUP_CALL_TYPE, &w, sizeof(w),
				     timeout_ns, &buf, &len);
	if (ret == 0 && len < sizeof(*h))
		ret = -EPROTO;	/* not a supervisor's answer */
	if (ret < 0) {
		free(buf);
		return ret;
	}
	memcpy(h, buf, sizeof(*h));
	if (extra && h->result == 0 &&
	    h->n && (len - sizeof(*h)) / h->n < extra_size) {
		free(buf);
		return -EPROTO;	/* shorter than the items it counts */
	}
	if (extra && h->result == 0) {
		memmove(buf, (char *)buf + sizeof(*h), len - sizeof(*h));
		*extra = buf;
		return 0;
	}
	free(buf);
	return h->result;
}

RA_API int ra_runtime_sup_start_child(ra_runtime_t *rt, ra_ref_t sup,
				      const ra_child_spec_t *spec, void *arg,
				      uint64_t timeout_ns, ra_ref_t *child_out)
{
	ra_sup_request_t req = { .op = RA_SUP_START_CHILD, .arg = arg };
	ra_sup_reply_t h = { 0 };
	int ret;

	if (spec)
		req.spec = *spec;
	ret = call(rt, sup, &req, timeout_ns, &h, NULL, 0);
	if (child_out)
		*child_out = ret == 0 ? h.child : RA_REF_NULL;
	return ret;
}

RA_API int ra_runtime_sup_terminate_child(ra_runtime_t *rt, ra_ref_t sup,
					  const char *id, ra_ref_t child,
					  uint64_t timeout_ns)
{
	ra_sup_request_t req = { .op = RA_SUP_TERMINATE_CHILD, .id = id,
				 .child = child };
	ra_sup_reply_t h;

	return call(rt, sup, &req, timeout_ns, &h, NULL, 0);
}

RA_API int ra_runtime_sup_restart_child(ra_runtime_t *rt, ra_ref_t sup,
					const char *id, uint64_t timeout_ns,
					ra_ref_t *child_out)
{
	ra_sup_request_t req = { .op = RA_SUP_RESTART_CHILD, .id = id };
	ra_sup_reply_t h = { 0 };
	int ret = call(rt, sup, &req, timeout_ns, &h, NULL, 0);

	if (child_out)
		*child_out = ret == 0 ? h.child : RA_REF_NULL;
	return ret;
}

RA_API int ra_runtime_sup_delete_child(ra_runtime_t *rt, ra_ref_t sup,
				       const char *id, uint64_t timeout_ns)
{
	ra_sup_request_t req = { .op = RA_SUP_DELETE_CHILD, .id = id };
	ra_sup_reply_t h;

	return call(rt, sup, &req, timeout_ns, &h, NULL, 0);
}

RA_API int ra_runtime_sup_which_children(ra_runtime_t *rt, ra_ref_t sup,
					 uint64_t timeout_ns,
					 ra_child_info_t **out, size_t *n)
{
	ra_sup_request_t req = { .op = RA_SUP_WHICH_CHILDREN };
	ra_sup_reply_t h = { 0 };
	void *v = NULL;
	int ret;

	if (!out || !n)
		return -EINVAL;
	ret = call(rt, sup, &req, timeout_ns, &h, &v,
		   sizeof(ra_child_info_t));
	*out = ret == 0 ? v : NULL;
	*n = ret == 0 ? h.n : 0;
	return ret;
}

RA_API int ra_runtime_sup_count_children(ra_runtime_t *rt, ra_ref_t sup,
					 uint64_t timeout_ns,
					 ra_child_counts_t *out)
{
	ra_sup_request_t req = { .op = RA_SUP_COUNT_CHILDREN };
	ra_sup_reply_t h = { 0 };
	void *v = NULL;
	int ret;

	if (!out)
		return -EINVAL;
	ret = call(rt, sup, &req, timeout_ns, &h, &v, sizeof(*out));
	if (ret == 0 && h.n != 1)
		ret = -EPROTO;
	if (ret == 0)
		memcpy(out, v, sizeof(*out));
	free(v);
	return ret;
}
