/* jobqueue.c: Lab 07 reference solution: a job system on a POSIX message queue, done right. */
#define _GNU_SOURCE
#include "jobqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Portable names: one leading '/', then a non-empty name without another '/'. */
static int portable_name(const char *name)
{
	return name && name[0] == '/' && name[1] != '\0' && strchr(name + 1, '/') == NULL;
}

/* Reads one of the limits in /proc/sys/fs/mqueue; -1 if it cannot be read. */
static long mq_limit(const char *file)
{
	char path[128];
	snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", file);
	FILE *f = fopen(path, "re");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

mqd_t jq_open(const char *name, long maxmsg, long msgsize, int flags)
{
	if (!portable_name(name) || maxmsg < 1 || msgsize < 1) {
		errno = EINVAL;
		return (mqd_t)-1;
	}
	/* Without CAP_SYS_RESOURCE the kernel refuses anything above these limits with EINVAL. */
	long size_max = mq_limit("msgsize_max"), msg_max = mq_limit("msg_max");
	if (size_max > 0 && msgsize > size_max) {
		errno = EINVAL; /* a smaller message size would break the caller's jobs: refuse */
		return (mqd_t)-1;
	}
	if (msg_max > 0 && maxmsg > msg_max)
		maxmsg = msg_max; /* a smaller capacity only means backpressure comes sooner */

	struct mq_attr attr = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	int oflag = O_RDWR | O_CREAT | ((flags & JQ_NONBLOCK) ? O_NONBLOCK : 0);
	/* attr only applies if the queue is created here; an existing queue keeps its own. */
	return mq_open(name, oflag, 0600, &attr);
}

int jq_submit(mqd_t q, const void *job, size_t len, unsigned prio)
{
	if (len == 0) { /* an empty message means "stop" to a worker */
		errno = EINVAL;
		return -1;
	}
	int r;
	do
		r = mq_send(q, job, len, prio);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The absolute CLOCK_REALTIME time MS milliseconds from now: what mq_timedreceive wants. */
static struct timespec deadline_in(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

ssize_t jq_take(mqd_t q, void *buf, size_t cap, unsigned *prio, int timeout_ms)
{
	/* mq_receive refuses (EMSGSIZE) any buffer smaller than the queue's mq_msgsize, even for
	   a short message: size it from the queue itself, not from what we hoped it was. */
	struct mq_attr attr;
	if (mq_getattr(q, &attr) < 0)
		return -1;
	size_t size = (size_t)attr.mq_msgsize;
	char *tmp = cap >= size ? buf : malloc(size);
	if (!tmp)
		return -1;

	struct timespec deadline = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
	ssize_t n;
	do /* the deadline is absolute, so retrying after a signal does not extend the wait */
		n = timeout_ms < 0 ? mq_receive(q, tmp, size, prio)
				   : mq_timedreceive(q, tmp, size, prio, &deadline);
	while (n < 0 && errno == EINTR);

	if (tmp != buf) {
		int saved = errno;
		if (n > 0)
			memcpy(buf, tmp, (size_t)n < cap ? (size_t)n : cap);
		free(tmp);
		errno = saved;
	}
	return n;
}

int jq_wait_job_or_fd(mqd_t q, int fd, int timeout_ms)
{
	/* Linux only: an mqd_t is a descriptor, and it polls readable when a message is waiting. */
	struct pollfd p[2] = {{.fd = (int)q, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
	int r = poll(p, 2, timeout_ms);
	if (r <= 0)
		return r;
	if ((p[0].revents | p[1].revents) & POLLNVAL) {
		errno = EBADF;
		return -1;
	}
	return ((p[0].revents & POLLIN) ? JQ_READY_JOB : 0) |
	       ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) ? JQ_READY_FD : 0);
}

/* A worker's whole life: take, handle, repeat, until the stop message. Never returns. */
static void worker(mqd_t q, jq_handler fn, void *arg)
{
	struct mq_attr attr;
	char *buf = NULL;
	if (mq_getattr(q, &attr) < 0 || !(buf = malloc((size_t)attr.mq_msgsize)))
		_exit(1);
	for (;;) {
		unsigned prio;
		ssize_t n = jq_take(q, buf, (size_t)attr.mq_msgsize, &prio, -1);
		if (n < 0)
			_exit(1);
		if (n == 0)
			break; /* the stop message: everything queued before it has been taken */
		fn(buf, (size_t)n, prio, arg);
	}
	free(buf);
	fflush(NULL); /* what the handler printed; then _exit, not exit: no atexit handlers here */
	_exit(0);
}

int jq_start_workers(mqd_t q, int n, jq_handler fn, void *arg, pid_t pids[])
{
	if (n < 1 || !fn) {
		errno = EINVAL;
		return -1;
	}
	fflush(NULL); /* or every worker inherits, and later writes, the caller's buffered output */
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			worker(q, fn, arg); /* does not return */
		if (pid < 0) {
			int saved = errno;
			for (int j = 0; j < i; j++) /* leave nothing behind */
				kill(pids[j], SIGKILL);
			jq_join_workers(pids, i);
			errno = saved;
			return -1;
		}
		pids[i] = pid;
	}
	return 0;
}

int jq_stop_workers(mqd_t q, int n)
{
	/* One empty message per worker, at the lowest priority: the queue hands out higher
	   priorities first and is FIFO within one, so every job already queued comes before. */
	for (int i = 0; i < n; i++) {
		int r;
		do
			r = mq_send(q, "", 0, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -1;
	}
	return 0;
}

int jq_join_workers(const pid_t pids[], int n)
{
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int status;
		pid_t got;
		do
			got = waitpid(pids[i], &status, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

int jq_destroy(mqd_t q, const char *name)
{
	/* Closing only drops our descriptor; the queue (and any jobs in it) stays in the kernel
	   until it is unlinked, like a file. */
	int r = mq_close(q), saved = errno;
	if (mq_unlink(name) < 0) {
		if (r == 0)
			saved = errno;
		r = -1;
	}
	errno = saved;
	return r;
}
