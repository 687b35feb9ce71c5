/* fault.c: short I/O, EINTR and EAGAIN injected into the student's calls (linked with -Wl,--wrap). */
#define _GNU_SOURCE
#include "grader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_recv(int fd, void *buf, size_t n, int flags);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
ssize_t __real_readv(int fd, const struct iovec *iov, int cnt);
ssize_t __real_writev(int fd, const struct iovec *iov, int cnt);
ssize_t __real_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __real_recvmsg(int fd, struct msghdr *m, int flags);
int __real_kill(pid_t pid, int sig);
pid_t __real_fork(void);
int __real_pipe(int fds[2]);
int __real_pipe2(int fds[2], int flags);
int __real_socket(int domain, int type, int proto);
int __real_socketpair(int domain, int type, int proto, int sv[2]);

ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_readv(int fd, const struct iovec *iov, int cnt);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int cnt);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *m, int flags);
int __wrap_kill(pid_t pid, int sig);
pid_t __wrap_fork(void);
int __wrap_pipe(int fds[2]);
int __wrap_pipe2(int fds[2], int flags);
int __wrap_socket(int domain, int type, int proto);
int __wrap_socketpair(int domain, int type, int proto, int sv[2]);

static volatile sig_atomic_t armed;
static fault_plan plan;
static unsigned long calls, injected, kill_all_attempts;

void fault_arm(fault_plan p)
{
	plan = p;
	calls = injected = 0;
	armed = 1;
}

void fault_disarm(void)
{
	armed = 0;
}

unsigned long fault_injected(void)
{
	return injected;
}

unsigned long fault_kill_all_attempts(void)
{
	return kill_all_attempts;
}

/* Decides what the next call does: -1 means fail with *ERR, else the byte limit to use. */
static size_t next_call(size_t want, int *err)
{
	*err = 0;
	if (!armed || want == 0)
		return want;
	calls++;
	if (plan.eintr_every && calls % plan.eintr_every == 0) {
		injected++;
		*err = EINTR;
		return 0;
	}
	if (plan.eagain_every && calls % plan.eagain_every == 0) {
		injected++;
		*err = EAGAIN;
		return 0;
	}
	if (plan.max_chunk && want > plan.max_chunk) {
		injected++;
		return plan.max_chunk;
	}
	return want;
}

#define FAIL_OR(limit, err)       \
	do {                      \
		if (err) {        \
			errno = err; \
			return -1; \
		}                 \
	} while (0)

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	int err;
	size_t lim = next_call(n, &err);
	FAIL_OR(lim, err);
	return __real_read(fd, buf, lim);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	int err;
	size_t lim = next_call(n, &err);
	FAIL_OR(lim, err);
	return __real_write(fd, buf, lim);
}

ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
	int err;
	size_t lim = next_call(n, &err);
	FAIL_OR(lim, err);
	return __real_recv(fd, buf, lim, flags);
}

ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
	int err;
	size_t lim = next_call(n, &err);
	FAIL_OR(lim, err);
	return __real_send(fd, buf, lim, flags);
}

/* Trims an iovec array to LIMIT bytes in total; returns the new count. */
static int trim_iov(const struct iovec *in, int cnt, size_t limit, struct iovec *out)
{
	int k = 0;
	for (int i = 0; i < cnt && i < 64 && limit > 0; i++) {
		out[k] = in[i];
		if (out[k].iov_len > limit)
			out[k].iov_len = limit;
		limit -= out[k].iov_len;
		k++;
	}
	return k;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;
	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

ssize_t __wrap_readv(int fd, const struct iovec *iov, int cnt)
{
	int err;
	size_t want = cnt > 0 ? iov_total(iov, cnt) : 0, lim = next_call(want, &err);
	FAIL_OR(lim, err);
	if (lim == want || cnt > 64)
		return __real_readv(fd, iov, cnt);
	struct iovec cut[64];
	return __real_readv(fd, cut, trim_iov(iov, cnt, lim, cut));
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int cnt)
{
	int err;
	size_t want = cnt > 0 ? iov_total(iov, cnt) : 0, lim = next_call(want, &err);
	FAIL_OR(lim, err);
	if (lim == want || cnt > 64)
		return __real_writev(fd, iov, cnt);
	struct iovec cut[64];
	return __real_writev(fd, cut, trim_iov(iov, cnt, lim, cut));
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags)
{
	int err;
	int cnt = (int)m->msg_iovlen;
	size_t want = iov_total(m->msg_iov, cnt), lim = next_call(want, &err);
	FAIL_OR(lim, err);
	if (lim == want || cnt > 64)
		return __real_sendmsg(fd, m, flags);
	struct iovec cut[64];
	struct msghdr shorter = *m;
	shorter.msg_iov = cut;
	shorter.msg_iovlen = (size_t)trim_iov(m->msg_iov, cnt, lim, cut);
	return __real_sendmsg(fd, &shorter, flags);
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *m, int flags)
{
	int err;
	int cnt = (int)m->msg_iovlen;
	size_t want = iov_total(m->msg_iov, cnt), lim = next_call(want, &err);
	FAIL_OR(lim, err);
	if (lim == want || cnt > 64)
		return __real_recvmsg(fd, m, flags);
	struct iovec cut[64], *orig = m->msg_iov;
	m->msg_iov = cut;
	m->msg_iovlen = (size_t)trim_iov(orig, cnt, lim, cut);
	ssize_t n = __real_recvmsg(fd, m, flags);
	m->msg_iov = orig; /* the caller's msghdr comes back as it was given, but for the result */
	m->msg_iovlen = (size_t)cnt;
	return n;
}

/* kill(-1, sig) signals every process the caller may signal: as root, the whole machine.
   It is what `kill(pid, SIGTERM)` does when a failed fork() left pid == -1. Refuse it. */
int __wrap_kill(pid_t pid, int sig)
{
	if (pid == -1) {
		kill_all_attempts++;
		errno = EPERM;
		return -1;
	}
	return __real_kill(pid, sig);
}

/* Resource faults: the Nth call to one of these from now on fails with a chosen errno, as it
   would when the machine runs out (EAGAIN from fork, EMFILE from pipe or socket). Root ignores
   RLIMIT_NPROC, so this is the only way to reach a fork failure path deterministically. */
static struct {
	char call[16];
	unsigned countdown;
	int err;
} res_fault;
static unsigned long res_failed;

void fault_fail_call(const char *call, unsigned nth, int err)
{
	snprintf(res_fault.call, sizeof res_fault.call, "%s", call);
	res_fault.countdown = nth;
	res_fault.err = err;
}

void fault_fail_clear(void)
{
	res_fault.countdown = 0;
}

unsigned long fault_failed_calls(void)
{
	return res_failed;
}

/* True when this call to CALL is the one that must fail (errno is then set). */
static bool resource_fails(const char *call)
{
	if (!res_fault.countdown || strcmp(res_fault.call, call))
		return false;
	if (--res_fault.countdown)
		return false;
	res_failed++;
	errno = res_fault.err;
	return true;
}

pid_t __wrap_fork(void)
{
	if (resource_fails("fork"))
		return -1;
	pid_t pid = __real_fork();
	if (pid == 0)
		res_fault.countdown = 0; /* the fault was meant for the caller, not for its child */
	return pid;
}

int __wrap_pipe(int fds[2])
{
	return resource_fails("pipe") ? -1 : __real_pipe(fds);
}

int __wrap_pipe2(int fds[2], int flags)
{
	return resource_fails("pipe2") ? -1 : __real_pipe2(fds, flags);
}

int __wrap_socket(int domain, int type, int proto)
{
	return resource_fails("socket") ? -1 : __real_socket(domain, type, proto);
}

int __wrap_socketpair(int domain, int type, int proto, int sv[2])
{
	return resource_fails("socketpair") ? -1 : __real_socketpair(domain, type, proto, sv);
}
