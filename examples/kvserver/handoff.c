/*
 * examples/kvserver/handoff.c: the table through which the acceptor hands
 * a new socket to the conn actor started for it.
 *
 * Spawning is asynchronous and an ask can time out, so when the acceptor
 * gives up on an ask it cannot know whether a conn has taken the socket.
 * The slot settles it: the acceptor offers the socket (FREE -> OFFERED),
 * then exactly one of two compare-and-swaps wins, the conn's take
 * (OFFERED -> CLAIMED -> FREE) or the acceptor's withdraw (OFFERED ->
 * FREE), and the winner owns the descriptor. The table belongs to the
 * server, not to the acceptor, so it outlives a crashed acceptor or conns
 * supervisor; main closes what is still offered at exit.
 *
 * No generation count: a conn whose ask was withdrawn may find its slot
 * offered again for a newer socket and claim that one. It then serves the
 * newer socket and the newer conn finds nothing and stops normally; each
 * socket still has exactly one owner and nothing leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "kv.h"

int kv_handoff_create(struct kv_server *srv, unsigned n)
{
	unsigned i;

	srv->handoff = calloc(n, sizeof(*srv->handoff));
	if (!srv->handoff)
		return -ENOMEM;
	srv->nhandoff = n;
	srv->handoff_next = 0;
	for (i = 0; i < n; i++) {
		atomic_init(&srv->handoff[i].state, KV_HANDOFF_FREE);
		srv->handoff[i].fd = -1;
		/* Never changes: a conn may read it without a claim. */
		srv->handoff[i].srv = srv;
	}
	return 0;
}

unsigned kv_handoff_destroy(struct kv_server *srv)
{
	unsigned i, closed = 0;

	for (i = 0; i < srv->nhandoff; i++) {
		struct kv_handoff *h = &srv->handoff[i];

		/* Offered to a conn whose init never ran: still ours. */
		if (atomic_load(&h->state) == KV_HANDOFF_OFFERED) {
			close(h->fd);
			closed++;
		}
	}
	free(srv->handoff);
	srv->handoff = NULL;
	srv->nhandoff = 0;
	return closed;
}

struct kv_handoff *kv_handoff_offer(struct kv_server *srv, int fd)
{
	unsigned i;

	/*
	 * Start after the last slot offered: a slot just withdrawn is then
	 * reused last, which keeps the stale claims above rare.
	 */
	for (i = 0; i < srv->nhandoff; i++) {
		unsigned k = (srv->handoff_next + i) % srv->nhandoff;
		struct kv_handoff *h = &srv->handoff[k];

		/*
		 * Acquire: pairs with the release of a take, so its read of
		 * fd is done before we overwrite it. Only the acceptor turns
		 * FREE into OFFERED, so FREE stays FREE until our store.
		 */
		if (atomic_load_explicit(&h->state, memory_order_acquire) !=
		    KV_HANDOFF_FREE)
			continue;
		h->fd = fd;
		/* Release: a conn that claims the slot sees this fd. */
		atomic_store_explicit(&h->state, KV_HANDOFF_OFFERED,
				      memory_order_release);
		srv->handoff_next = k + 1;
		return h;
	}
	return NULL;
}

int kv_handoff_take(struct kv_handoff *h)
{
	int expected = KV_HANDOFF_OFFERED;
	int fd;

	if (!atomic_compare_exchange_strong_explicit(&h->state, &expected,
						     KV_HANDOFF_CLAIMED,
						     memory_order_acquire,
						     memory_order_relaxed))
		return -1;
	fd = h->fd;
	/* Release: our read of fd is done before the slot is reused. */
	atomic_store_explicit(&h->state, KV_HANDOFF_FREE, memory_order_release);
	return fd;
}

bool kv_handoff_withdraw(struct kv_handoff *h)
{
	int expected = KV_HANDOFF_OFFERED;

	/*
	 * Relaxed is enough: on success the caller closes the fd it
	 * remembers and reads nothing from the slot, and a conn reads fd
	 * only after a claim of its own.
	 */
	return atomic_compare_exchange_strong_explicit(&h->state, &expected,
						       KV_HANDOFF_FREE,
						       memory_order_relaxed,
						       memory_order_relaxed);
}
