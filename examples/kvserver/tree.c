/*
 * examples/kvserver/tree.c: the kvserver's supervision tree (see kv.h).
 *
 *   kv  rest_for_one, intensity 3 in 5 s
 *   ├── keyspace.0 .. keyspace.N-1   permanent, pinned to shard i
 *   ├── conns   simple_one_for_one supervisor of conn actors (temporary:
 *   │           a broken connection cannot be restarted, its client must
 *   │           reconnect), spread round robin over the shards
 *   └── acceptor   permanent, shard 0
 *
 * The keyspace and conns start functions record the new reference in
 * struct kv_server before returning, so the actors started after them
 * (conns read keyspace refs, the acceptor the conns supervisor) always
 * see the current ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv.h"

#define KV_ID_LEN 24

static ra_sup_spec_t conns_spec;
static ra_child_spec_t conn_template = {
	.def = &kv_conn_def,
	.opts = { .placement = RA_PLACE_ROUND_ROBIN },
	.restart = RA_TEMPORARY,
	.shutdown_ms = RA_SHUTDOWN_BRUTAL_KILL,
};

/* Print what the supervisors decide, and count restarts. */
static void on_event(const ra_sup_event_t *ev, void *ctx)
{
	struct kv_server *srv = ctx;

	switch (ev->kind) {
	case RA_SUP_CHILD_EXITED:
		atomic_fetch_add(&srv->child_exits, 1);
		if (ev->id[0] == '\0')
			return;	/* a connection ended: routine */
		break;
	case RA_SUP_RESTART:
		atomic_fetch_add(&srv->restarts, 1);
		break;
	case RA_SUP_CHILD_STARTED:
	case RA_SUP_CHILD_TERMINATED:
		return;		/* routine */
	case RA_SUP_SHUTDOWN:
		fprintf(stderr, "kvserver: supervisor: shutting down, code %d%s%s\n",
			ev->code, ev->why[0] ? ", " : "", ev->why);
		return;
	default:
		break;
	}
	fprintf(stderr, "kvserver: supervisor: %s: %s, code %d%s%s\n",
		ev->id[0] ? ev->id : "a connection",
		ra_sup_event_name(ev->kind), ev->code,
		ev->why[0] ? ", " : "", ev->why);
}

/* keyspace.i: spawn linked on shard i and publish the reference. */
static int keyspace_start(ra_ctx_t *sup, const ra_child_spec_t *spec,
			  ra_ref_t *out)
{
	struct kv_server *srv = spec->arg;
	ra_spawn_opts_t o = spec->opts;
	int r;

	o.flags |= RA_SPAWN_LINK;
	r = ra_spawn(sup, &kv_keyspace_def, srv, &o, out);
	if (r == 0)
		srv->keyspace[o.shard] = *out;
	return r;
}

/* conns: a simple_one_for_one supervisor; publish its reference. */
static int conns_start(ra_ctx_t *sup, const ra_child_spec_t *spec,
		       ra_ref_t *out)
{
	struct kv_server *srv = spec->arg;
	ra_child_spec_t s = *spec;
	int r;

	s.arg = &conns_spec;
	r = ra_sup_start_link(sup, &s, out);
	if (r == 0)
		srv->conn_sup = *out;
	return r;
}

int kv_tree_start(ra_runtime_t *rt, struct kv_server *srv, ra_ref_t *top)
{
	unsigned n = srv->nshards;
	ra_child_spec_t *kids = calloc(n + 2, sizeof(*kids));
	char (*ids)[KV_ID_LEN] = calloc(n, KV_ID_LEN);
	ra_sup_spec_t spec = {
		.strategy = RA_REST_FOR_ONE, .intensity = 3, .period_ms = 5000,
		.children = kids, .nchildren = n + 2,
		.on_event = on_event, .event_ctx = srv,
	};
	int r = -ENOMEM;

	conns_spec = (ra_sup_spec_t){
		.strategy = RA_SIMPLE_ONE_FOR_ONE, .intensity = 1,
		.period_ms = 5000, .children = &conn_template, .nchildren = 1,
		.on_event = on_event, .event_ctx = srv,
	};
	if (kids && ids) {
		for (unsigned i = 0; i < n; i++) {
			snprintf(ids[i], KV_ID_LEN, "keyspace.%u", i);
			kids[i] = (ra_child_spec_t){
				.id = ids[i], .start = keyspace_start,
				.arg = srv, .restart = RA_PERMANENT,
				.opts = { .placement = RA_PLACE_SHARD,
					  .shard = i },
			};
		}
		kids[n] = (ra_child_spec_t){
			.id = "conns", .start = conns_start, .arg = srv,
			.restart = RA_PERMANENT, .type = RA_SUPERVISOR,
		};
		kids[n + 1] = (ra_child_spec_t){
			.id = "acceptor", .def = &kv_acceptor_def, .arg = srv,
			.restart = RA_PERMANENT,
			.opts = { .placement = RA_PLACE_SHARD, .shard = 0 },
		};
		/* The spec is copied: ours can go once this returns. */
		r = ra_runtime_sup_start(rt, &spec, NULL, top);
	}
	free(kids);
	free(ids);
	return r;
}
