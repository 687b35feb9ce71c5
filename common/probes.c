/* probes.c: reusable measurements and traps for graders: guarded stacks, double mappings, pipes, fds. */
#define _GNU_SOURCE
#include "grader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

void *probe_stack(size_t size)
{
	size_t pg = page(), len = ((size + pg - 1) / pg) * pg;
	char *all = mmap(NULL, len + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (all == MAP_FAILED)
		return NULL;
	if (mprotect(all + pg, len, PROT_READ | PROT_WRITE) < 0) {
		munmap(all, len + 2 * pg);
		return NULL;
	}
	/* SIZE is a multiple of the page size in every caller, so the top touches the guard. */
	return all + pg + (len - size);
}

void probe_stack_free(void *stack, size_t size)
{
	size_t pg = page(), len = ((size + pg - 1) / pg) * pg;
	munmap((char *)stack - (len - size) - pg, len + 2 * pg);
}

int probe_map_twice(int fd, size_t size, void **a, void **b)
{
	*a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*a == MAP_FAILED)
		return -1;
	*b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*b == MAP_FAILED) {
		munmap(*a, size);
		return -1;
	}
	return 0;
}

int probe_guard(void *addr, size_t size)
{
	void *p = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

int probe_pipe_shrink(int fd)
{
	return fcntl(fd, F_SETPIPE_SZ, (int)page());
}

int probe_nofile(int limit)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	rl.rlim_cur = (rlim_t)limit;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int probe_fds(pid_t pid, int *fds, int max)
{
	char path[64];
	snprintf(path, sizeof path, pid ? "/proc/%d/fd" : "/proc/self/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0, own = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name);
		if (pid == 0 && fd == own)
			continue;
		fds[n++] = fd;
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof *fds, cmp_int);
	return n;
}

void probe_cloexec_all(void)
{
	int fds[256], n = probe_fds(0, fds, 256);
	for (int i = 0; i < n; i++)
		if (fds[i] > 2)
			fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

void probe_squeeze_fds(int room)
{
	int fds[256], n = probe_fds(0, fds, 256), top = n ? fds[n - 1] : 2;
	for (int fd = 0; fd < top; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			dup3(top, fd, O_CLOEXEC);
	probe_nofile(top + room);
}

int probe_fd_count(void)
{
	int fds[256];
	return probe_fds(0, fds, 256);
}

const char *probe_fd_target(pid_t pid, int fd, char *buf, size_t cap)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
	else
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, cap - 1);
	buf[n < 0 ? 0 : n] = '\0';
	if (n < 0)
		snprintf(buf, cap, "?");
	return buf;
}

double probe_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)(pid ? pid : getpid()));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	unsigned long ut, st;
	/* fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
	   cmajflt utime stime */
	if (!rp || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Children re-parent to the runner when it is a subreaper, so this finds them all. */
int probe_descendants(pid_t root, pid_t *out, int max)
{
	enum { MAXP = 8192 };
	static pid_t pids[MAXP], ppids[MAXP];
	int n = 0, found = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < MAXP) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		char *rp = strrchr(buf, ')'); /* the command name may contain spaces */
		int ppid;
		if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
			continue;
		pids[n] = atoi(e->d_name);
		ppids[n++] = ppid;
	}
	if (d)
		closedir(d);
	out[found++] = root;
	for (int i = 0; i < found; i++) /* breadth first over the tree */
		for (int j = 0; j < n && found < max; j++)
			if (ppids[j] == out[i])
				out[found++] = pids[j];
	for (int i = 1; i < found; i++)
		out[i - 1] = out[i];
	return found - 1;
}

const char *probe_comm(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	snprintf(buf, cap, "?");
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(buf, (int)cap, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

double probe_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *errno_name(int err)
{
	const char *s = strerrorname_np(err);
	return s ? s : err == 0 ? "errno 0" : "an unknown error";
}

double probe_bound(double seconds)
{
	/* IPCLAB_TIMEOUT_SCALE (1 to 10) is set by common/class.sh when it grades more students at
	   once than there are cores: the same work then takes more wall time, and a bound that
	   only catches a hang must not catch a slow turn of the CPU instead. */
	const char *v = getenv("IPCLAB_TIMEOUT_SCALE");
	double k = v ? atof(v) : 1.0;
	return seconds * (k >= 1.0 && k <= 10.0 ? k : 1.0);
}

/* Whether some process below this one is running or waiting for a CPU ('R') or in the kernel
   ('D'): the test's work is still moving, only slowly. */
static bool tree_moving(void)
{
	pid_t v[256];
	int n = probe_descendants(getpid(), v, 256);
	for (int i = 0; i < n; i++) {
		char state = child_state(v[i]);
		if (state == 'R' || state == 'D')
			return true;
	}
	return false;
}

bool probe_keep_waiting(double waited, double bound)
{
	/* Runs that share the cores (a class, IPCLAB_TIMEOUT_SCALE) make slow work slower, not
	   blocked work unblocked: only work still moving earns the longer bound, so a deadlock
	   costs the same wall time at any scale. */
	return waited < probe_bound(bound) && tree_moving();
}

int probe_wait(pid_t pid, int *status, double timeout)
{
	double t0 = probe_now();
	int r = probe_wait_window(pid, status, timeout);
	while (r < 0 && errno == ETIMEDOUT && probe_keep_waiting(probe_now() - t0, timeout))
		r = probe_wait_window(pid, status, 0.1);
	return r;
}

int probe_wait_window(pid_t pid, int *status, double seconds)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	double deadline = probe_now() + seconds;
	for (;;) {
		/* __WALL: a clone() child without SIGCHLD is waited for too, so that the verdict on
		   how it ended never depends on whether it finished before we looked. */
		pid_t r = waitpid(pid, status, WNOHANG | __WALL);
		if (r == pid) {
			if (pfd >= 0)
				close(pfd);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			int saved = errno;
			if (pfd >= 0)
				close(pfd);
			errno = saved;
			return -1;
		}
		double left = deadline - probe_now();
		if (left <= 0) {
			if (pfd >= 0)
				close(pfd);
			errno = ETIMEDOUT;
			return -1;
		}
		if (pfd >= 0) {
			struct pollfd p = {pfd, POLLIN, 0};
			poll(&p, 1, (int)(left * 1000) + 1);
		} else {
			usleep(1000);
		}
	}
}

int probe_finish(pid_t pid, int *status, double timeout)
{
	if (probe_wait(pid, status, timeout) == 0)
		return 0;
	kill(pid, SIGKILL);
	while (waitpid(pid, status, __WALL) < 0 && errno == EINTR)
		;
	errno = ETIMEDOUT;
	return -1;
}

child_end probe_in_child(void (*fn)(void *), void *arg, double timeout)
{
	child_end e = {false, 0, 0, false};
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		e.sig = -1;
		return e;
	}
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int status;
	if (probe_wait(pid, &status, timeout) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		e.timed_out = true;
		return e;
	}
	return child_end_of(status);
}

child_end child_end_of(int status)
{
	child_end e = {false, 0, 0, false};
	if (WIFEXITED(status)) {
		e.exited = true;
		e.code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		e.sig = WTERMSIG(status);
	}
	return e;
}

static const char *signal_meaning(int sig)
{
	switch (sig) {
	case SIGSEGV: return "invalid memory access";
	case SIGBUS: return "touched a mapping with no backing: file or object too short?";
	case SIGPIPE: return "wrote to a pipe or socket whose reader is gone";
	case SIGABRT: return "abort(): an assertion or the C library gave up";
	case SIGFPE: return "arithmetic error";
	case SIGKILL: return "killed";
	case SIGILL: return "illegal instruction: often a corrupted stack";
	case SIGXFSZ: return "wrote past the file size limit";
	default: return "";
	}
}

const char *describe_status(int status, char *buf, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "was killed by SIG%s (%s)", sigabbrev_np(WTERMSIG(status)),
			 signal_meaning(WTERMSIG(status)));
	else
		snprintf(buf, cap, "stopped (status 0x%x)", status);
	return buf;
}

const char *describe_end(child_end e, char *buf, size_t cap)
{
	if (e.timed_out)
		snprintf(buf, cap, "was still running at the deadline (a hang or an endless loop)");
	else if (e.exited)
		snprintf(buf, cap, "exited with status %d", e.code);
	else if (e.sig > 0)
		snprintf(buf, cap, "was killed by SIG%s (%s)", sigabbrev_np(e.sig), signal_meaning(e.sig));
	else
		snprintf(buf, cap, "could not be started");
	return buf;
}

ssize_t probe_read_all(int fd, void *buf, size_t cap, double timeout)
{
	size_t got = 0;
	double t0 = probe_now(), deadline = t0 + timeout;
	while (got < cap) {
		double left = deadline - probe_now();
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
			if (probe_keep_waiting(probe_now() - t0, timeout)) {
				deadline = probe_now() + 0.1;
				continue;
			}
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = read(fd, (char *)buf + got, cap - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

void probe_signal_storm(void (*handler)(int), long interval_us)
{
	struct sigaction sa = {.sa_handler = handler}; /* no SA_RESTART: calls fail with EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval tv = {{0, interval_us}, {0, interval_us}};
	setitimer(ITIMER_REAL, &tv, NULL);
}

void probe_signal_storm_stop(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
}
