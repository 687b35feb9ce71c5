/* child.c: the child-process kit: run a call in a child that reports back, with a deadline. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grader.h"

void *child_shared(size_t size)
{
	/* MAP_SHARED survives fork() as one object: what the child writes, the test reads, even
	   after the child crashed or was killed. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(p != MAP_FAILED, "grader: mmap of %zu shared bytes failed: %s", size,
		      strerror(errno));
	return p; /* anonymous mappings start zeroed */
}

void child_shared_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

child_end child_run(void (*fn)(void *report), void *report, size_t size, double timeout)
{
	void *shared = child_shared(size);
	memcpy(shared, report, size);
	child_end e = probe_in_child(fn, shared, timeout);
	memcpy(report, shared, size);
	child_shared_free(shared, size);
	return e;
}

pid_t child_fork(void)
{
	fflush(NULL); /* else the child would print the test's buffered output a second time */
	pid_t pid = fork();
	ck_assert_msg(pid >= 0, "grader: fork failed: %s", strerror(errno));
	return pid;
}

pid_t child_start(void (*fn)(void *arg), void *arg)
{
	pid_t pid = child_fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

child_end child_wait(pid_t pid, double timeout)
{
	int status = 0;
	if (probe_finish(pid, &status, timeout) < 0) {
		child_end e = {false, 0, 0, true};
		return e;
	}
	return child_end_of(status);
}

char child_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

void child_guard(void)
{
	/* Orphaned grandchildren are re-parented to us instead of to init, so that child_sweep()
	   finds (and ends) every process the student's code started. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void child_sweep(void)
{
	pid_t v[256];
	for (int round = 0; round < 100; round++) {
		int n = probe_descendants(getpid(), v, 256);
		for (int i = 0; i < n; i++)
			kill(v[i], SIGKILL);
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		if (n == 0 && waitpid(-1, NULL, WNOHANG | __WALL) < 0)
			return;
		usleep(2000);
	}
}

ssize_t child_collect(int fd, void *buf, size_t cap, double timeout, bool *timed_out)
{
	char *p = buf;
	size_t have = 0;
	*timed_out = false;
	int left = (int)(probe_bound(timeout) * 1000);
	while (have < cap) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, 50);
		if (r == 0 && (left -= 50) <= 0) {
			*timed_out = true;
			break;
		}
		if (r <= 0)
			continue;
		ssize_t n = read(fd, p + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}
