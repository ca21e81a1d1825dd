/*
 * examples/echo_server.c: a TCP echo server. An acceptor actor keeps one
 * ra_io_accept in flight and gives each new socket its own conn actor,
 * round robin over the shards, which sends back what it receives until
 * EOF. Listens on 127.0.0.1 --port (0: any; printed); SIGINT/TERM stop it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringactor.h>

enum { TAG_ACCEPT = 1, TAG_RECV, TAG_SEND };
static int lfd;	/* the listening socket */
static const ra_spawn_opts_t rr = { .placement = RA_PLACE_ROUND_ROBIN };

struct conn {
	int fd;
	bool open;		/* state starts zeroed, and 0 is a valid fd */
	size_t len, sent;	/* bytes in buf; of those, sent back so far */
	char buf[64 * 1024];
};

static int conn_init(ra_ctx_t *self, void *state, void *arg)
{
	struct conn *c = state;

	c->fd = (int)(intptr_t)arg;
	c->open = true;
	return ra_io_recv(self, c->fd, c->buf, sizeof(c->buf), TAG_RECV);
}

static int conn_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	struct conn *c = state;

	if (m->type != RA_MSG_IO || m->res <= 0) {	/* EOF or an error */
		ra_stop(self, 0);	/* terminate closes the socket */
		return 0;
	}
	if (m->tag == TAG_RECV)
		c->len = (size_t)m->res;
	else
		c->sent += (size_t)m->res;
	if (c->sent < c->len)	/* a send may take part: send the rest first */
		return ra_io_send(self, c->fd, c->buf + c->sent,
				  c->len - c->sent, TAG_SEND);
	c->sent = 0;
	return ra_io_recv(self, c->fd, c->buf, sizeof(c->buf), TAG_RECV);
}

/* Runs once pending I/O is drained, also when the runtime is destroyed. */
static void conn_terminate(ra_ctx_t *self, void *state, int reason)
{
	struct conn *c = state;

	(void)self, (void)reason;
	if (c->open)
		close(c->fd);
}

static const ra_actor_def_t conn_def = {
	.name = "conn", .state_size = sizeof(struct conn), .init = conn_init,
	.behavior = conn_behavior, .terminate = conn_terminate,
};

static int acceptor_init(ra_ctx_t *self, void *state, void *arg)
{
	(void)state, (void)arg;
	return ra_io_accept(self, lfd, TAG_ACCEPT);
}

static int acceptor_behavior(ra_ctx_t *self, void *state, const ra_msg_t *m)
{
	int fd = m->res;

	(void)state;
	if (m->type != RA_MSG_IO)
		return 0;
	if (fd < 0)		/* e.g. EMFILE: say so, keep accepting */
		fprintf(stderr, "echo_server: accept: %s\n", ra_strerror(fd));
	else if (ra_spawn(self, &conn_def, (void *)(intptr_t)fd, &rr, NULL))
		close(fd);	/* no actor will own it */
	return ra_io_accept(self, lfd, TAG_ACCEPT);
}

static const ra_actor_def_t acceptor_def = {
	.name = "acceptor", .init = acceptor_init,
	.behavior = acceptor_behavior,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "shards", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long port = 7000, shards = 2;
	socklen_t len = sizeof(sa);
	ra_runtime_t *rt;
	ra_config_t cfg;
	sigset_t stop;
	char *end = "";
	int c, one = 1;

	while ((c = getopt_long(argc, argv, "p:s:h", opts, NULL)) != -1) {
		if (c == 'p')
			port = strtoul(optarg, &end, 10);
		else if (c == 's')
			shards = strtoul(optarg, &end, 10);
		if (c == 'h' || c == '?' || *end || port > 65535 || !shards) {
			fprintf(c == 'h' ? stdout : stderr, "usage: echo_server"
				" [--port N (7000; 0: any)] [--shards N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		perror("echo_server: listen");
		return 1;
	}
	printf("echo_server: listening on port %u\n", ntohs(sa.sin_port));
	fflush(stdout);		/* --port 0: a test reads it from a pipe */
	/* Blocked before any thread starts, so only our wait takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	ra_config_init(&cfg);
	cfg.shards = (unsigned)shards;
	if ((c = ra_runtime_create(&cfg, &rt)) < 0 ||
	    (c = ra_runtime_spawn(rt, &acceptor_def, NULL, NULL, NULL)) < 0) {
		fprintf(stderr, "echo_server: %s\n", ra_last_error());
		return 1;
	}
	c = ra_runtime_run_until_signal(rt, &stop);
	ra_runtime_destroy(rt);	/* cancels pending I/O; conns close */
	close(lfd);
	printf("echo_server: %s\n", c > 0 ? strsignal(c) : "acceptor failed");
	return c > 0 ? 0 : 1;
}
