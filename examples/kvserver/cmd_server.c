/*
 * examples/kvserver/cmd_server.c: the commands a connection answers by
 * itself: PING, ECHO, QUIT, SELECT, AUTH, HELLO, CLIENT, CONFIG, COMMAND.
 *
 * Replies are redis-server 7.0's for what is implemented. HELLO 3 is
 * refused with Redis' NOPROTO error (this server speaks RESP2 only);
 * AUTH knows only the "default" user without a password; CLIENT, CONFIG
 * and COMMAND implement the subcommands clients send at connect (see
 * README.md for the list).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "glob.h"

int kv_local_ping(struct kv_local *l, size_t argc,
		  const struct resp_str *argv)
{
	if (argc > 2)
		return kv_reply_arity(l->out, "ping");
	if (argc == 2)
		return resp_add_bulk(l->out, argv[1].p, argv[1].len);
	return resp_add_simple(l->out, "PONG");
}

int kv_local_echo(struct kv_local *l, size_t argc,
		  const struct resp_str *argv)
{
	(void)argc;
	return resp_add_bulk(l->out, argv[1].p, argv[1].len);
}

/* QUIT: +OK, then the connection closes once the reply is out. */
int kv_local_quit(struct kv_local *l, size_t argc,
		  const struct resp_str *argv)
{
	(void)argc;
	(void)argv;
	l->cs->quit = true;
	return resp_add_simple(l->out, "OK");
}

/* SELECT index: an int (C int range, as Redis), then 0 .. databases-1. */
int kv_local_select(struct kv_local *l, size_t argc,
		    const struct resp_str *argv)
{
	int64_t v;

	(void)argc;
	if (resp_parse_i64(argv[1].p, argv[1].len, &v))
		return resp_add_error(l->out, KV_E_NOT_INT);
	if (v < INT32_MIN || v > INT32_MAX)
		return resp_add_error(l->out, "ERR value is out of range, "
				      "value must between -2147483648 and "
				      "2147483647");
	if (v < 0 || v >= (int64_t)l->cfg->databases)
		return resp_add_error(l->out, "ERR DB index is out of range");
	l->cs->db = (unsigned)v;
	return resp_add_simple(l->out, "OK");
}

#define E_WRONGPASS \
	"WRONGPASS invalid username-password pair or user is disabled."

/*
 * Only the "default" user exists, without a password, as in a Redis
 * started without requirepass: any password of it works, others fail.
 */
static bool auth_ok(const struct resp_str *user)
{
	return user->len == 7 && memcmp(user->p, "default", 7) == 0;
}

int kv_local_auth(struct kv_local *l, size_t argc,
		  const struct resp_str *argv)
{
	if (argc > 3)
		return resp_add_error(l->out, KV_E_SYNTAX);
	if (argc == 2)
		return resp_add_error(l->out, "ERR AUTH <password> called "
			"without any password configured for the default "
			"user. Are you sure your configuration is correct?");
	if (!auth_ok(&argv[1]))
		return resp_add_error(l->out, E_WRONGPASS);
	return resp_add_simple(l->out, "OK");
}

/* Redis' rule: a name is printable ASCII without spaces; "" unsets it. */
static int set_name(struct kv_local *l, const struct resp_str *name)
{
	char *copy;
	size_t i;

	for (i = 0; i < name->len; i++) {
		unsigned char c = (unsigned char)name->p[i];

		if (c < '!' || c > '~')
			return -EINVAL;
	}
	copy = NULL;
	if (name->len) {
		copy = malloc(name->len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, name->p, name->len);
		copy[name->len] = '\0';
	}
	free(l->cs->name);
	l->cs->name = copy;
	return 0;
}

#define E_BADNAME \
	"ERR Client names cannot contain spaces, newlines or special " \
	"characters."

/* HELLO's map, flattened for RESP2. */
static int hello_reply(struct kv_local *l)
{
	struct resp_buf *o = l->out;

	return resp_add_array(o, 14) ||
	       resp_add_bulk_cstr(o, "server") ||
	       resp_add_bulk_cstr(o, "redis") ||
	       resp_add_bulk_cstr(o, "version") ||
	       resp_add_bulk_cstr(o, "7.0.15") ||
	       resp_add_bulk_cstr(o, "proto") || resp_add_int(o, 2) ||
	       resp_add_bulk_cstr(o, "id") ||
	       resp_add_int(o, (int64_t)l->cs->id) ||
	       resp_add_bulk_cstr(o, "mode") ||
	       resp_add_bulk_cstr(o, "standalone") ||
	       resp_add_bulk_cstr(o, "role") ||
	       resp_add_bulk_cstr(o, "master") ||
	       resp_add_bulk_cstr(o, "modules") ||
	       resp_add_array(o, 0) ? -ENOMEM : 0;
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]: options in order. */
static int hello_options(struct kv_local *l, size_t argc,
			 const struct resp_str *argv)
{
	size_t j;
	int r;

	for (j = 2; j < argc; j++) {
		size_t more = argc - 1 - j;

		if (resp_arg_is(&argv[j], "auth") && more >= 2) {
			if (!auth_ok(&argv[j + 1]))
				return resp_add_error(l->out, E_WRONGPASS);
			j += 2;
		} else if (resp_arg_is(&argv[j], "setname") && more >= 1) {
			r = set_name(l, &argv[++j]);
			if (r == -EINVAL)
				return resp_add_error(l->out, E_BADNAME);
			if (r)
				return r;
		} else {
			return resp_add_errorf(l->out,
				"ERR Syntax error in HELLO option '%.*s'",
				(int)resp_cstrlen(&argv[j]), argv[j].p);
		}
	}
	return 1;
}

int kv_local_hello(struct kv_local *l, size_t argc,
		   const struct resp_str *argv)
{
	int64_t ver;
	int r;

	if (argc >= 2) {
		if (resp_parse_i64(argv[1].p, argv[1].len, &ver))
			return resp_add_error(l->out, "ERR Protocol version is "
					      "not an integer or out of range");
		/* RESP3 is not spoken here: refused as Redis refuses 4. */
		if (ver != 2)
			return resp_add_error(l->out,
				"NOPROTO unsupported protocol version");
	}
	r = hello_options(l, argc, argv);
	if (r <= 0)
		return r;
	return hello_reply(l);
}

/* ---- container commands ---- */

/* "ERR unknown subcommand '<sub>'. Try <CMD> HELP." */
static int unknown_sub(struct kv_local *l, const struct resp_str *sub,
		       const char *cmd)
{
	size_t n = resp_cstrlen(sub);

	return resp_add_errorf(l->out,
		"ERR unknown subcommand '%.*s'. Try %s HELP.",
		(int)(n < 128 ? n : 128), sub->p, cmd);
}

/* A subcommand's arity, as its own Redis command "cmd|sub". */
static bool sub_arity(struct kv_local *l, size_t argc, int arity,
		      const char *full, int *r)
{
	if (arity > 0 ? argc == (size_t)arity : argc >= (size_t)-arity)
		return true;
	*r = kv_reply_arity(l->out, full);
	return false;
}

int kv_local_client(struct kv_local *l, size_t argc,
		    const struct resp_str *argv)
{
	const struct resp_str *sub = &argv[1];
	int r = 0;

	if (resp_arg_is(sub, "id") && sub->len == 2) {
		if (!sub_arity(l, argc, 2, "client|id", &r))
			return r;
		return resp_add_int(l->out, (int64_t)l->cs->id);
	}
	if (resp_arg_is(sub, "getname") && sub->len == 7) {
		if (!sub_arity(l, argc, 2, "client|getname", &r))
			return r;
		if (!l->cs->name)
			return resp_add_null(l->out);
		return resp_add_bulk_cstr(l->out, l->cs->name);
	}
	if (resp_arg_is(sub, "setname") && sub->len == 7) {
		if (!sub_arity(l, argc, 3, "client|setname", &r))
			return r;
		r = set_name(l, &argv[2]);
		if (r == -EINVAL)
			return resp_add_error(l->out, E_BADNAME);
		return r ? r : resp_add_simple(l->out, "OK");
	}
	return unknown_sub(l, sub, "CLIENT");
}

/*
 * What CONFIG GET knows: the settings this server has, with the values
 * that describe its behaviour (it never persists, and it keeps Redis'
 * small-encoding limits where replies depend on them).
 */
static int config_values(const struct kv_config *cfg, char vals[][24])
{
	snprintf(vals[0], 24, "%u", cfg->databases);
	snprintf(vals[1], 24, "%d", cfg->port);
	snprintf(vals[2], 24, "%" PRIu64, cfg->lim.max_bulk);
	snprintf(vals[3], 24, "%" PRIu64, cfg->query_buf_limit);
	return 4;
}

/* Redis looks a pattern without [*? up directly: no glob, any case. */
static bool is_glob(const struct resp_str *a)
{
	size_t n = resp_cstrlen(a), i;

	for (i = 0; i < n; i++)
		if (a->p[i] == '[' || a->p[i] == '*' || a->p[i] == '?')
			return true;
	return false;
}

static bool config_match(const struct resp_str *a, const char *name)
{
	if (is_glob(a))
		return kv_glob_match(a->p, a->len, name, strlen(name), true);
	return a->len == strlen(name) && strncasecmp(a->p, name, a->len) == 0;
}

/*
 * CONFIG GET pattern...: each setting once, named as the pattern spells
 * it when the pattern is a plain name (as Redis does), in table order.
 */
static int config_get(struct kv_local *l, size_t argc,
		      const struct resp_str *argv)
{
	char vals[4][24];
	const char *const table[][2] = {
		{ "save", "" }, { "appendonly", "no" },
		{ "databases", vals[0] }, { "port", vals[1] },
		{ "bind", "127.0.0.1" }, { "proto-max-bulk-len", vals[2] },
		{ "client-query-buffer-limit", vals[3] },
		{ "maxmemory", "0" }, { "maxmemory-policy", "noeviction" },
		{ "hz", "10" }, { "timeout", "0" },
		{ "set-max-intset-entries", "512" },
		{ "hash-max-listpack-entries", "512" },
		{ "hash-max-listpack-value", "64" },
		{ "zset-max-listpack-entries", "128" },
		{ "zset-max-listpack-value", "64" },
	};
	const size_t n = sizeof(table) / sizeof(table[0]);
	const struct resp_str *as[sizeof(table) / sizeof(table[0])] = { 0 };
	struct resp_str canon[sizeof(table) / sizeof(table[0])];
	size_t i, k, count = 0;
	int r;

	config_values(l->cfg, vals);
	for (k = 0; k < n; k++) {
		canon[k].p = table[k][0];
		canon[k].len = strlen(table[k][0]);
	}
	for (i = 2; i < argc; i++)
		for (k = 0; k < n; k++)
			if (!as[k] && config_match(&argv[i], table[k][0])) {
				as[k] = is_glob(&argv[i]) ? &canon[k]
							  : &argv[i];
				count++;
			}
	r = resp_add_array(l->out, 2 * count);
	for (k = 0; k < n && !r; k++)
		if (as[k])
			r = resp_add_bulk(l->out, as[k]->p, as[k]->len) ||
			    resp_add_bulk_cstr(l->out, table[k][1]) ? -ENOMEM
								     : 0;
	return r;
}

int kv_local_config(struct kv_local *l, size_t argc,
		    const struct resp_str *argv)
{
	static const char *const unsupported[] = {
		"set", "resetstat", "rewrite", "help",
	};
	const struct resp_str *sub = &argv[1];
	size_t k;
	int r = 0;

	if (resp_arg_is(sub, "get") && sub->len == 3) {
		if (!sub_arity(l, argc, -3, "config|get", &r))
			return r;
		return config_get(l, argc, argv);
	}
	for (k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]); k++)
		if (resp_arg_is(sub, unsupported[k]) &&
		    sub->len == strlen(unsupported[k]))
			return resp_add_errorf(l->out, "ERR CONFIG %s is not "
					       "supported by this server",
					       unsupported[k]);
	return unknown_sub(l, sub, "CONFIG");
}

/*
 * COMMAND: COUNT and LIST describe this server's table; DOCS answers
 * an empty array (redis-cli asks for it at connect, for hints only).
 */
int kv_local_command(struct kv_local *l, size_t argc,
		     const struct resp_str *argv)
{
	const struct resp_str *sub = &argv[1];
	int r = 0, i;

	if (argc == 1)
		return resp_add_array(l->out, 0);
	if (resp_arg_is(sub, "count") && sub->len == 5) {
		if (!sub_arity(l, argc, 2, "command|count", &r))
			return r;
		return resp_add_int(l->out, KV_CMD_COUNT);
	}
	if (resp_arg_is(sub, "docs") && sub->len == 4)
		return resp_add_array(l->out, 0);
	if (resp_arg_is(sub, "list") && sub->len == 4) {
		r = resp_add_array(l->out, KV_CMD_COUNT);
		for (i = 0; i < KV_CMD_COUNT && !r; i++)
			r = resp_add_bulk_cstr(l->out, kv_command_by_id(
					(enum kv_cmd_id)i)->name);
		return r;
	}
	return unknown_sub(l, sub, "COMMAND");
}
