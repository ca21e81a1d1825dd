/*
 * t/setup_errors.c: ra_runtime_create() when io_uring is unavailable.
 * Each case runs in a forked child that installs a seccomp filter making
 * io_uring_setup fail (EPERM, ENOSYS; for all rings, or for the shard
 * rings only), calls ra_runtime_create() and reports through a pipe its
 * return, *out, ra_last_error() and whether threads or fds were left
 * behind. The parent checks the report and that the child exited cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringactor.h"
#include "tap.h"

#if defined(__x86_64__)
#define RA_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define RA_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* The shard rings get this many entries; the injection ring 64. */
#define SHARD_RING_ENTRIES 128u

struct report {
	int installed;		/* 0: seccomp could not be installed */
	int ret;		/* ra_runtime_create() */
	int out_null;		/* *out left NULL */
	int threads_before, threads_after;
	int fds_before, fds_after;
	char msg[512];		/* ra_last_error() */
};

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * io_uring_setup fails with `err`; with `shards_only`, only when asked
 * for SHARD_RING_ENTRIES entries, so the injection ring is made and the
 * failure comes from the shard threads.
 */
static int install_filter(int err, int shards_only)
{
	struct sock_filter f[] = {
#ifdef RA_AUDIT_ARCH
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RA_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* low 32 bits of args[0] (entries), little-endian */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SHARD_RING_ENTRIES, 1, 0),
		BPF_STMT(BPF_RET | BPF_K,
			 shards_only ? SECCOMP_RET_ALLOW
				     : SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}

static void *noop_thread(void *arg)
{
	return arg;
}

static void child(int wfd, int err, int shards_only)
{
	pthread_t t;
	struct report r;
	ra_config_t cfg;
	ra_runtime_t *rt = (ra_runtime_t *)0x1;

	memset(&r, 0, sizeof(r));
	if (install_filter(err, shards_only) == 0) {
		r.installed = 1;
		ra_config_init(&cfg);
		cfg.shards = 2;
		cfg.ring_entries = SHARD_RING_ENTRIES;
		/*
		 * A first thread, joined, so that helper threads started on
		 * the first pthread_create (ThreadSanitizer's) are counted in
		 * "before" too.
		 */
		if (pthread_create(&t, NULL, noop_thread, NULL) == 0)
			pthread_join(t, NULL);
		r.threads_before = count_dir("/proc/self/task");
		r.fds_before = count_dir("/proc/self/fd");
		r.ret = ra_runtime_create(&cfg, &rt);
		r.threads_after = count_dir("/proc/self/task");
		r.fds_after = count_dir("/proc/self/fd");
		r.out_null = rt == NULL;
		snprintf(r.msg, sizeof(r.msg), "%s", ra_last_error());
		if (r.ret == 0)
			ra_runtime_destroy(rt);
	}
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

#define CASE_TESTS 7

static void skip_n(int n, const char *why)
{
	for (int i = 0; i < n; i++) {
		tap_run++;
		printf("ok %d # SKIP %s\n", tap_run, why);
	}
	fflush(stdout);
}

static void run_case(const char *what, int err, int shards_only,
		     const char *word1, const char *word2)
{
	struct report r;
	int pfd[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) < 0)
		bail_out("pipe failed");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail_out("fork failed");
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], err, shards_only);
	}
	close(pfd[1]);
	memset(&r, 0, sizeof(r));
	n = read(pfd[0], &r, sizeof(r));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	r.msg[sizeof(r.msg) - 1] = '\0';

	if (n == sizeof(r) && !r.installed) {
		diag("%s: cannot install a seccomp filter here", what);
		skip_n(CASE_TESTS, "seccomp filter not available");
		return;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "%s: child exited normally (status 0x%x)", what, status);
	is_int(n, (ssize_t)sizeof(r), "%s: child sent its report", what);
	is_int(r.ret, -err, "%s: ra_runtime_create returns -%s", what,
	       err == EPERM ? "EPERM" : "ENOSYS");
	ok(r.out_null, "%s: *out set to NULL", what);
	ok(strstr(r.msg, word1) || (word2 && strstr(r.msg, word2)),
	   "%s: ra_last_error mentions \"%s\"%s%s%s: %s", what, word1,
	   word2 ? " or \"" : "", word2 ? word2 : "", word2 ? "\"" : "",
	   r.msg);
	is_int(r.threads_after, r.threads_before,
	       "%s: no thread left running", what);
	is_int(r.fds_after, r.fds_before, "%s: no fd left open", what);
}

int main(void)
{
	const char *eperm = ra_strerror(-EPERM);
	const char *esrch = ra_strerror(-ESRCH);

	tap_timeout(30);
	plan(4 * CASE_TESTS + 3);
	run_case("all rings EPERM", EPERM, 0, "seccomp", "io_uring_disabled");
	run_case("all rings ENOSYS", ENOSYS, 0, "io_uring", NULL);
	run_case("shard rings EPERM", EPERM, 1, "seccomp",
		 "io_uring_disabled");
	run_case("shard rings ENOSYS", ENOSYS, 1, "io_uring", NULL);
	ok(eperm && *eperm, "ra_strerror(-EPERM): %s", eperm ? eperm : "");
	ok(esrch && *esrch, "ra_strerror(-ESRCH): %s", esrch ? esrch : "");
	ok(eperm && esrch && strcmp(eperm, esrch) != 0,
	   "ra_strerror(-EPERM) and (-ESRCH) differ");
	return exit_status();
}
