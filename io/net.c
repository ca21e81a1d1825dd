/*
 * io/net.c: the socket calls a network program needs besides recv and
 * send: gathered sends (ra_io_sendmsg, ra_io_writev), UDP receives
 * (ra_io_recvmsg), and ra_io_socket, ra_io_connect, ra_io_shutdown.
 * Each validates its arguments and makes one request (io/io.c); what
 * the caller lends is lent until the completion.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "actors/actor.h"
#include "io/io.h"
#include "shard/ring.h"

/*
 * `iov` and `n` describe at most IOV_MAX buffers of at most INT32_MAX
 * bytes in all, none NULL but empty ones: the completion's res is an
 * int32_t, and the kernel refuses more vectors. The total in *len.
 */
static int check_iov(const struct iovec *iov, size_t n, size_t *len)
{
	size_t total = 0;

	if (n > IOV_MAX || (n && !iov))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EINVAL;
		if (iov[i].iov_len > INT32_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	*len = total;
	return 0;
}

static int check_msg(int fd, const struct msghdr *m, size_t *len)
{
	if (fd < 0 || !m || (m->msg_namelen && !m->msg_name) ||
	    (m->msg_controllen && !m->msg_control))
		return -EINVAL;
	return check_iov(m->msg_iov, m->msg_iovlen, len);
}

RA_API int ra_io_sendmsg(ra_ctx_t *self, int fd, const struct msghdr *m,
			 int flags, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .msg = m, .flags = flags };
	size_t len;
	int ret = check_msg(fd, m, &len);

	if (ret < 0)
		return ret;
	if (!self)
		return -EINVAL;
	return ra__io_submit(self, ra__io_zc(self->shard, len, true)
				   ? RA_IOK_SENDMSG_ZC : RA_IOK_SENDMSG,
			     &x, tag);
}

RA_API int ra_io_writev(ra_ctx_t *self, int fd, const struct iovec *iov,
			int iovcnt, uint64_t off, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .iov = iov,
				.iovcnt = (unsigned)iovcnt, .off = off };
	size_t len;

	if (fd < 0 || iovcnt < 0 || check_iov(iov, (size_t)iovcnt, &len) < 0)
		return -EINVAL;
	return ra__io_submit(self, RA_IOK_WRITEV, &x, tag);
}

RA_API int ra_io_recvmsg(ra_ctx_t *self, int fd, struct msghdr *m,
			 int flags, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .msg = m, .flags = flags };
	size_t len;
	int ret = check_msg(fd, m, &len);

	return ret < 0 ? ret : ra__io_submit(self, RA_IOK_RECVMSG, &x, tag);
}

RA_API int ra_io_connect(ra_ctx_t *self, int fd, const struct sockaddr *addr,
			 socklen_t len, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .addr = addr, .addrlen = len };

	if (fd < 0 || !addr || len == 0 ||
	    len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	return ra__io_submit(self, RA_IOK_CONNECT, &x, tag);
}

RA_API int ra_io_socket(ra_ctx_t *self, int domain, int type, int protocol,
			uint64_t tag)
{
	struct ra_io_args x = { .fd = 0, .domain = domain,
				.type = type | SOCK_CLOEXEC,
				.protocol = protocol };

	if (!self || domain < 0 || type < 0 || protocol < 0)
		return -EINVAL;
	/* Linux 5.19; before it, -EINVAL from the kernel would mislead. */
	if (!(self->shard->ops & RA_RING_OP(IORING_OP_SOCKET)))
		return -EOPNOTSUPP;
	return ra__io_submit(self, RA_IOK_SOCKET, &x, tag);
}

RA_API int ra_io_shutdown(ra_ctx_t *self, int fd, int how, uint64_t tag)
{
	struct ra_io_args x = { .fd = fd, .how = how };

	if (fd < 0 || (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR))
		return -EINVAL;
	return ra__io_submit(self, RA_IOK_SHUTDOWN, &x, tag);
}
