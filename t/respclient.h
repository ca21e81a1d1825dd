/*
 * t/respclient.h: a small blocking RESP2 client for the tests that talk to
 * servers over TCP: connect to 127.0.0.1:port, send raw bytes, read one
 * reply as its raw bytes and as a tree. Header-only, like tap.h.
 */
#ifndef RA_T_RESPCLIENT_H
#define RA_T_RESPCLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rc_conn {
	int fd;
	char *buf;		/* received, not yet consumed: [off, len) */
	size_t off, len, cap;
	int timeout_ms;		/* per read */
};

/* One reply: '+', '-', ':', '$' (len -1: nil), '*' (n -1: nil array). */
struct rc_reply {
	char type;
	int64_t num;		/* ':' value */
	char *str;		/* '+', '-', '$': the bytes, NUL added */
	int64_t len;
	int64_t n;		/* '*': elements */
	struct rc_reply *kids;
	char *raw;		/* the reply's bytes as received */
	size_t rawlen;
};

static inline int rc_connect(struct rc_conn *c, int port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = timeout_ms;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(c->fd);
		c->fd = -1;
		return e;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static inline void rc_close(struct rc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->cap = 0;
}

static inline int rc_send(struct rc_conn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read more bytes within the timeout: >0 bytes read, 0 EOF, -ETIMEDOUT,
 * or -errno.
 */
static inline ssize_t rc_fill(struct rc_conn *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t r;

	if (c->len + 65536 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 131072;
		char *nb;

		while (ncap < c->len + 65536)
			ncap *= 2;
		nb = realloc(c->buf, ncap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = ncap;
	}
	r = poll(&pfd, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (r < 0)
		return -errno;
	c->len += (size_t)r;
	return r;
}

/* The offset of "\r\n" at or after `from`, reading more as needed. */
static inline int rc_line(struct rc_conn *c, size_t from, size_t *crlf)
{
	for (;;) {
		size_t i;
		ssize_t r;

		for (i = from; i + 1 < c->len; i++)
			if (c->buf[i] == '\r' && c->buf[i + 1] == '\n') {
				*crlf = i;
				return 0;
			}
		r = rc_fill(c, c->timeout_ms);
		if (r <= 0)
			return r == 0 ? -EPIPE : (int)r;
	}
}

static inline void rc_reply_free(struct rc_reply *r)
{
	int64_t i;

	for (i = 0; i < r->n && r->kids; i++)
		rc_reply_free(&r->kids[i]);
	free(r->kids);
	free(r->str);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* Parse one reply starting at c->buf[*at]; advances *at. */
static inline int rc_parse(struct rc_conn *c, size_t *at, struct rc_reply *r)
{
	size_t crlf;
	int64_t i;
	int e;

	memset(r, 0, sizeof(*r));
	e = rc_line(c, *at, &crlf);
	if (e)
		return e;
	r->type = c->buf[*at];
	c->buf[crlf] = '\0';
	r->num = strtoll(c->buf + *at + 1, NULL, 10);
	c->buf[crlf] = '\r';
	switch (r->type) {
	case '+':
	case '-':
		r->len = (int64_t)(crlf - *at - 1);
		r->str = strndup(c->buf + *at + 1, (size_t)r->len);
		*at = crlf + 2;
		return 0;
	case ':':
		*at = crlf + 2;
		return 0;
	case '$':
		r->len = r->num;
		*at = crlf + 2;
		if (r->len < 0)
			return 0;
		while (c->len < *at + (size_t)r->len + 2) {
			ssize_t n = rc_fill(c, c->timeout_ms);

			if (n <= 0)
				return n == 0 ? -EPIPE : (int)n;
		}
		r->str = malloc((size_t)r->len + 1);
		memcpy(r->str, c->buf + *at, (size_t)r->len);
		r->str[r->len] = '\0';
		*at += (size_t)r->len + 2;
		return 0;
	case '*':
		r->n = r->num;
		*at = crlf + 2;
		if (r->n <= 0)
			return 0;
		r->kids = calloc((size_t)r->n, sizeof(*r->kids));
		for (i = 0; i < r->n; i++) {
			e = rc_parse(c, at, &r->kids[i]);
			if (e)
				return e;
		}
		return 0;
	default:
		return -EPROTO;
	}
}

/* Read one whole reply; r->raw gets its bytes. 0 or -errno. */
static inline int rc_read(struct rc_conn *c, struct rc_reply *r)
{
	size_t at;
	int e;

	if (c->off == c->len)
		c->off = c->len = 0;	/* all consumed: start afresh */
	at = c->off;
	e = rc_parse(c, &at, r);

	if (e)
		return e;
	r->rawlen = at - c->off;
	r->raw = malloc(r->rawlen + 1);
	memcpy(r->raw, c->buf + c->off, r->rawlen);
	r->raw[r->rawlen] = '\0';
	c->off = at;
	return 0;
}

/* Everything that arrives until EOF or `idle_ms` of silence. */
static inline int rc_drain(struct rc_conn *c, int idle_ms, char **out,
			   size_t *outlen, bool *eof)
{
	ssize_t r;

	*eof = false;
	for (;;) {
		r = rc_fill(c, idle_ms);
		if (r == 0) {
			*eof = true;
			break;
		}
		if (r == -ETIMEDOUT || r == -ECONNRESET)
			break;
		if (r < 0)
			return (int)r;
	}
	*outlen = c->len - c->off;
	*out = malloc(*outlen + 1);
	memcpy(*out, c->buf + c->off, *outlen);
	c->off = c->len;
	return 0;
}

/* A multibulk request of `argc` byte strings, appended to *buf. */
static inline void rc_encode(char **buf, size_t *len, size_t *cap, int argc,
			     const char *const *argv, const size_t *argl)
{
	int i;
	size_t need = 32;

	for (i = 0; i < argc; i++)
		need += argl[i] + 32;
	if (*len + need > *cap) {
		*cap = (*len + need) * 2;
		*buf = realloc(*buf, *cap);
	}
	*len += (size_t)sprintf(*buf + *len, "*%d\r\n", argc);
	for (i = 0; i < argc; i++) {
		*len += (size_t)sprintf(*buf + *len, "$%zu\r\n", argl[i]);
		memcpy(*buf + *len, argv[i], argl[i]);
		*len += argl[i];
		memcpy(*buf + *len, "\r\n", 2);
		*len += 2;
	}
}

#endif /* RA_T_RESPCLIENT_H */
