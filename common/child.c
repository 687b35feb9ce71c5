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
	int idle = 0; /* ms with nothing arriving */
	while (have < cap) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, 50);
		if (r == 0 && (idle += 50) >= (int)(timeout * 1000) &&
		    !probe_keep_waiting(idle / 1000.0, timeout)) {
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

pid_t child_stage(child_staged *s)
{
	/* Two pipes, not shared memory: a report can be waited for, and EOF says the child died. */
	int gate[2], report[2];
	ck_assert_msg(pipe2(gate, O_CLOEXEC) == 0 && pipe2(report, O_CLOEXEC) == 0,
		      "grader: pipe for a staged child failed: %s", strerror(errno));
	s->pid = child_fork();
	close(s->pid == 0 ? gate[1] : gate[0]);
	close(s->pid == 0 ? report[0] : report[1]);
	s->gate = s->pid == 0 ? gate[0] : gate[1];
	s->report = s->pid == 0 ? report[1] : report[0];
	return s->pid;
}

void child_gate_wait(const child_staged *s)
{
	/* The test closes its end to let the child go on: a test that ends opens the gate too. */
	char c;
	while (read(s->gate, &c, 1) < 0 && errno == EINTR)
		;
}

void child_report(const child_staged *s, const void *r, size_t size)
{
	/* The test may be gone; the child has nobody to tell then. */
	ssize_t ignored = write(s->report, r, size);
	(void)ignored;
}

void child_release(child_staged *s)
{
	/* Idempotent, so that every way out of a test can release the child. */
	if (s->gate >= 0)
		close(s->gate);
	s->gate = -1;
}

ssize_t child_report_read(const child_staged *s, void *r, size_t size, double timeout)
{
	/* One report is SIZE bytes; fewer (EOF) means the child ended before it sent one. */
	return probe_read_all(s->report, r, size, timeout);
}

void child_unstage(child_staged *s)
{
	/* Releases, kills and reaps the child at once, and closes the report pipe. */
	child_release(s);
	if (s->pid > 0)
		child_wait(s->pid, 0);
	s->pid = 0;
	if (s->report >= 0)
		close(s->report);
	s->report = -1;
}
