/* examples/hello.c: define an actor, spawn it, talk to it, shut down. */
#include <stdio.h>
#include <ringactor.h>

struct counter { int total; };

static int counter_behavior(ra_ctx_t *self, void *state, const ra_msg_t *msg)
{
	struct counter *c = state;

	c->total += *(const int *)msg->data;
	printf("shard %u got %d, total %d\n", ra_shard_id(self),
	       *(const int *)msg->data, c->total);
	if (c->total >= 6)
		ra_stop(self, 0);	/* terminate runs, then the memory goes */
	return 0;
}

static const ra_actor_def_t counter_def = {
	.name = "counter",
	.state_size = sizeof(struct counter),	/* zeroed, owned by the runtime */
	.behavior = counter_behavior,
};

int main(void)
{
	ra_runtime_t *rt;
	ra_ref_t counter;
	int ret = ra_runtime_create(NULL, &rt);	/* one shard per CPU */

	if (ret < 0) {
		fprintf(stderr, "ringactor: %s\n", ra_last_error());
		return 1;
	}
	ra_runtime_spawn(rt, &counter_def, NULL, NULL, &counter);
	for (int i = 1; i <= 3; i++)
		ra_runtime_send(rt, counter, 1, &i, sizeof(i));
	ra_runtime_wait_idle(rt, 0);	/* until every actor has stopped */
	return ra_runtime_destroy(rt) == 0 ? 0 : 1;
}
