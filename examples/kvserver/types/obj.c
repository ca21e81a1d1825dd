/*
 * examples/kvserver/types/obj.c: freeing a key's container by its type,
 * for the keyspace, which stores containers without knowing them.
 */
#include "../keyspace.h"
#include "hash.h"
#include "list.h"
#include "set.h"
#include "zset.h"

void kv_obj_free(enum kv_type type, void *obj)
{
	switch (type) {
	case KV_LIST:
		kv_list_free(obj);
		break;
	case KV_SET:
		kv_set_free(obj);
		break;
	case KV_HASH:
		kv_hash_free(obj);
		break;
	case KV_ZSET:
		kv_zset_free(obj);
		break;
	case KV_STRING:
		break;
	}
}
