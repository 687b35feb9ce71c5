/* grader.c: Lab 04 tests: capacity, write_all/read_full under faults, a pipeline, a filter. */
#define _GNU_SOURCE
#include "grader.h"
#include "pipes_lab.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- probes: small programs the tests run as pipeline stages or filters ------------------ */

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 131 + 7) % 251);
}

/* Writes everything, for the probes (plain blocking descriptors). */
static int put(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* `grader --probe emit N` (argv[0] is the probe's name): writes N bytes of a known pattern to stdout. */
GRADER_PROBE(emit)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	static unsigned char buf[65536];
	for (size_t done = 0; done < n;) {
		size_t len = n - done < sizeof buf ? n - done : sizeof buf;
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(done + i);
		if (put(1, buf, len) < 0)
			return 1;
		done += len;
	}
	return 0;
}

/* Copies stdin to stdout, uppercased if UPPER. */
static int copy_stdin(int upper)
{
	char buf[16384];
	ssize_t r;
	while ((r = read(0, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		for (ssize_t i = 0; upper && i < r; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (put(1, buf, (size_t)r) < 0)
			return 1;
	}
	return 0;
}

/* `grader --probe fds LABEL [pass]`: prints "LABEL: <its descriptors>", then (pass) cat. */
GRADER_PROBE(fds)
{
	int fds[256], n = probe_fds(0, fds, 256);
	char line[1024];
	snprintf(line, sizeof line, "%s:", argc > 1 ? argv[1] : "fds");
	for (int i = 0; i < n; i++)
		snprintf(line + strlen(line), sizeof line - strlen(line), " %d", fds[i]);
	strcat(line, "\n");
	put(1, line, strlen(line));
	return argc > 2 ? copy_stdin(0) : 0;
}

/* `grader --probe upper`: a real filter: reads while it writes, uppercasing. */
GRADER_PROBE(upper)
{
	(void)argc, (void)argv;
	return copy_stdin(1);
}

/* `grader --probe pipesz`: prints the capacity of its stdin and stdout pipes, then drains. */
GRADER_PROBE(pipesz)
{
	(void)argc, (void)argv;
	char line[64];
	snprintf(line, sizeof line, "%d %d\n", fcntl(0, F_GETPIPE_SZ), fcntl(1, F_GETPIPE_SZ));
	put(1, line, strlen(line));
	char buf[4096];
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}

/* `grader --probe slow`: waits 100 ms, copies stdin to stdout, closes stdout (the caller sees
   end of file), then waits 150 ms more before it exits: its caller sleeps in poll(), then in
   waitpid(). */
GRADER_PROBE(slow)
{
	(void)argc, (void)argv;
	usleep(100 * 1000);
	int rc = copy_stdin(0);
	close(1);
	usleep(150 * 1000);
	return rc;
}

/* `grader --probe emitlog N`: like emit, then says on stderr whether every write succeeded. */
GRADER_PROBE(emitlog)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	static unsigned char buf[65536];
	size_t done = 0;
	while (done < n) {
		size_t len = n - done < sizeof buf ? n - done : sizeof buf;
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(done + i);
		if (put(1, buf, len) < 0)
			break;
		done += len;
	}
	char line[64];
	snprintf(line, sizeof line, "emitted %zu\n", done);
	put(2, line, strlen(line));
	return 0;
}

/* `grader --probe countin`: closes its stdout at once, then counts its stdin until end of file
   and says on stderr how many bytes it read. */
GRADER_PROBE(countin)
{
	(void)argc, (void)argv;
	close(1);
	char buf[16384], line[64];
	size_t total = 0;
	ssize_t r;
	while ((r = read(0, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		total += (size_t)r;
	}
	snprintf(line, sizeof line, "read %zu\n", total);
	put(2, line, strlen(line));
	return 0;
}

/* `grader --probe exitcode N`. */
GRADER_PROBE(exitcode)
{
	return argc > 1 ? atoi(argv[1]) : 0;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* ROOT and all its descendants; out[0] is ROOT itself. */
static int descendants(pid_t root, pid_t *out, int max)
{
	out[0] = root;
	return 1 + probe_descendants(root, out + 1, max - 1);
}

/* Forks the process that will call the student's code. Orphaned grandchildren come back to us,
   so child_sweep() leaves nothing behind. */
static pid_t guard_fork(void)
{
	child_guard();
	return child_fork();
}

/* One pipe end held by a process: for the diagnosis of a hang. */
typedef struct {
	pid_t pid;
	int fd;
	unsigned long ino;
	int writes; /* 1: write end, 0: read end */
} pipe_end;

static int pipe_ends(pid_t pid, pipe_end *out, int max)
{
	int fds[256], n = probe_fds(pid, fds, 256), k = 0;
	for (int i = 0; i < n && k < max; i++) {
		char tgt[128], path[128], buf[512];
		unsigned long ino;
		if (!probe_fd_target(pid, fds[i], tgt, sizeof tgt) || sscanf(tgt, "pipe:[%lu]", &ino) != 1)
			continue;
		snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fds[i]);
		FILE *f = fopen(path, "re");
		unsigned flags = 0;
		if (f) {
			size_t len = fread(buf, 1, sizeof buf - 1, f);
			buf[len] = '\0';
			fclose(f);
			char *fl = strstr(buf, "flags:");
			if (fl)
				sscanf(fl + 6, "%o", &flags);
		}
		out[k++] = (pipe_end){pid, fds[i], ino, (flags & O_ACCMODE) == O_WRONLY};
	}
	return k;
}

static const char *who(pid_t pid, pid_t root, char *buf, size_t cap)
{
	if (pid == root)
		return "your own process (the caller)";
	char comm[64];
	probe_comm(pid, comm, sizeof comm);
	snprintf(buf, cap, "the child running \"%s\"", !strcmp(comm, "grader") ? "grader (a probe, or your code before exec)" : comm);
	return buf;
}

/* Explains a hang: which live process holds both ends of one pipe (it can never see EOF or
   EPIPE on it), or else lists every pipe end in the tree below ROOT. */
static void diagnose(pid_t root, char *msg, size_t cap)
{
	pid_t procs[64];
	int np = descendants(root, procs, 64);
	pipe_end ends[512];
	int ne = 0;
	for (int i = 0; i < np; i++)
		ne += pipe_ends(procs[i], ends + ne, 512 - ne);
	msg[0] = '\0';
	/* A program waiting for EOF on its stdin: who still holds that pipe's write end? */
	for (int i = 0; i < ne; i++) {
		if (ends[i].fd != 0 || ends[i].writes)
			continue;
		char w[160], line[1024] = "";
		for (int j = 0; j < ne; j++)
			if (ends[j].writes && ends[j].ino == ends[i].ino) {
				char h[160];
				size_t len = strlen(line);
				snprintf(line + len, sizeof line - len, "%s%s (fd %d)", len ? ", " : "",
					 who(ends[j].pid, root, h, sizeof h), ends[j].fd);
			}
		if (line[0]) {
			size_t len = strlen(msg);
			snprintf(msg + len, cap - len,
				 " The stdin of %s is pipe:[%lu], and its write end is still open in: %s.",
				 who(ends[i].pid, root, w, sizeof w), ends[i].ino, line);
		}
	}
	for (int i = 0; i < ne && !msg[0]; i++) /* else: a process holding both ends of a pipe */
		for (int j = 0; j < ne; j++) {
			if (ends[i].pid != ends[j].pid || ends[i].ino != ends[j].ino || !ends[i].writes ||
			    ends[j].writes)
				continue;
			char w[160];
			size_t len = strlen(msg);
			snprintf(msg + len, cap - len,
				 " %s holds BOTH ends of pipe:[%lu] (write end fd %d, read end fd %d), so "
				 "that pipe can never report end of file to its reader, nor EPIPE to its "
				 "writer.", who(ends[i].pid, root, w, sizeof w), ends[i].ino, ends[i].fd,
				 ends[j].fd);
			break;
		}
	if (msg[0])
		return;
	snprintf(msg, cap, " Pipe ends still open:");
	for (int i = 0; i < ne; i++) {
		char w[160];
		size_t len = strlen(msg);
		snprintf(msg + len, cap - len, " [%s: fd %d = %s end of pipe:[%lu]]",
			 who(ends[i].pid, root, w, sizeof w), ends[i].fd, ends[i].writes ? "write" : "read",
			 ends[i].ino);
	}
	if (ne == 0) {
		size_t len = strlen(msg);
		snprintf(msg + len, cap - len, " none (so it is not waiting on a pipe end).");
	}
}

/* Waits for the guarded child; on timeout explains the hang in DIAG, then kills everything. */
static bool guard_wait(pid_t pid, int *status, double timeout, char *diag, size_t cap)
{
	diag[0] = '\0';
	if (probe_wait(pid, status, timeout) == 0)
		return true;
	diagnose(pid, diag, cap);
	child_sweep();
	return false;
}

/* A child of ours that nobody has reaped: its pid if it has ended (a zombie), -1 if it is still
   running, 0 if there is none. WNOWAIT: look, do not reap. */
static pid_t leftover_child(void)
{
	siginfo_t si = {0};
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return 0; /* ECHILD: no children at all */
	return si.si_pid ? si.si_pid : -1;
}

static const char *leftover_words(pid_t pid, char *buf, size_t cap)
{
	if (pid > 0)
		snprintf(buf, cap, "child %d had ended but was never reaped (a zombie)", (int)pid);
	else
		snprintf(buf, cap, "a child was still running, and nobody waited for it");
	return buf;
}

static int nonblocking(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- capacity ------------------------------------------------------------------------------- */

GRADER_TEST(capacity_matches_fcntl)
{
	static const struct { int ask, expect; } cases[] = {
		{0, 65536}, {1, 4096}, {100000, 131072}, {1 << 20, 1 << 20}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int reported = -1;
		long got = pipe_capacity(cases[i].ask, &reported);
		require_implemented(got < 0, "pipe_capacity");
		ck_assert_msg(got >= 0, "pipe_capacity(%d) failed: %s", cases[i].ask, strerror(errno));
		ck_assert_msg(reported == cases[i].expect,
			      "pipe_capacity(%d): F_GETPIPE_SZ should report %d after F_SETPIPE_SZ(%d) "
			      "(the kernel rounds up to a power-of-two number of pages), but *reported "
			      "is %d.%s", cases[i].ask, cases[i].expect, cases[i].ask, reported,
			      cases[i].ask == 0 ? " With size 0, do not resize at all." : "");
		/* Writes whose size is not a multiple of the 4096-byte page leave parts of pages
		   unused (2049-byte writes fit just over half), so only the bounds are exact here;
		   the exact count is checked below, with 1-byte writes. */
		ck_assert_msg(got <= cases[i].expect,
			      "pipe_capacity(%d) measured %ld bytes, but a pipe of %d bytes cannot hold "
			      "more than %d. Count only the bytes each write() reports as written, not "
			      "what you asked for.", cases[i].ask, got, cases[i].expect, cases[i].expect);
		ck_assert_msg(got > cases[i].expect / 2,
			      "pipe_capacity(%d) measured %ld bytes in a pipe of %d bytes. Even writes "
			      "of an awkward size fill more than half of the pipe's pages. Did you count "
			      "write() calls instead of the bytes each one returned, or stop before the "
			      "kernel answered EAGAIN?", cases[i].ask, got, cases[i].expect);
	}
	/* With every write() cut to 1 byte, every page fills up completely: exact counts. */
	for (size_t i = 0; i < 2; i++) {
		fault_arm((fault_plan){.max_chunk = 1});
		long got = pipe_capacity(cases[i].ask, NULL);
		int err = errno;
		fault_disarm();
		ck_assert_msg(got == cases[i].expect,
			      "With every write() cut short to 1 byte (so no page of the pipe is left "
			      "partly empty), pipe_capacity(%d) returned %ld%s%s instead of %d. %s",
			      cases[i].ask, got, got < 0 ? ": " : "", got < 0 ? strerror(err) : "",
			      cases[i].expect,
			      got < 0 ? "A short write is not an error."
			      : got < cases[i].expect
				      ? "A short write does not mean \"full\" (only EAGAIN does): keep "
					"writing, and add up what each write() returned."
				      : "Add up what each write() returned, not what you asked for.");
	}
}

GRADER_TEST(capacity_survives_eintr)
{
	int reported = -1;
	fault_arm((fault_plan){.max_chunk = 1, .eintr_every = 3});
	long got = pipe_capacity(0, &reported);
	int err = errno;
	unsigned long injected = fault_injected();
	fault_disarm();
	errno = err;
	require_implemented(got < 0, "pipe_capacity");
	ck_assert_msg(injected > 0,
		      "pipe_capacity() returned without ever writing to its pipe. The point is to "
		      "MEASURE: write until the kernel says EAGAIN, then compare with F_GETPIPE_SZ.");
	ck_assert_msg(got == 65536,
		      "With writes cut to 1 byte and every 3rd write failing with EINTR, "
		      "pipe_capacity(0) returned %ld instead of 65536. %s", got,
		      got < 65536 ? "EINTR means \"a signal arrived before anything was written\": it "
				    "is not \"full\". Only EAGAIN means full."
				  : "Add up what each write() returned, not what you asked for.");
}

/* In a child: pipe_capacity when no descriptor is left for the pipe. */
static void capacity_no_fds(void *arg)
{
	long *out = arg;
	probe_squeeze_fds(1);
	errno = 0;
	out[0] = pipe_capacity(0, NULL);
	out[1] = errno;
}

GRADER_TEST(capacity_refused)
{
	long nofd[2] = {12345, 0};
	child_end e = child_run(capacity_no_fds, nofd, sizeof nofd, 2.0);
	long no_rc = nofd[0], no_err = nofd[1];
	char how[160];
	ck_assert_msg(!(no_rc < 0 && no_err == ENOSYS), "pipe_capacity() is not implemented yet.");
	ck_assert_msg(e.exited && no_rc == -1 && no_err == EMFILE,
		      "With no descriptor left (RLIMIT_NOFILE reached), pipe2() fails with EMFILE; "
		      "pipe_capacity(0) should then return -1 with EMFILE, but it %s%ld%s%s. Check "
		      "what pipe2() returns.", e.exited ? "returned " : describe_end(e, how, sizeof how),
		      e.exited ? no_rc : 0L, e.exited && no_rc < 0 ? " with " : "",
		      e.exited && no_rc < 0 ? errno_name((int)no_err) : "");

	int reported = 12345;
	long got = pipe_capacity(INT_MAX, &reported);
	int err = errno;
	ck_assert_msg(!(got < 0 && err == ENOSYS), "pipe_capacity() is not implemented yet.");
	ck_assert_msg(got < 0 && err != 0,
		      "pipe_capacity(INT_MAX): the kernel refuses F_SETPIPE_SZ with a size that large "
		      "(EPERM or ENOMEM), yet pipe_capacity() returned %ld%s. Check what fcntl() "
		      "returns, and return -1 (with its errno) when it fails.", got,
		      got < 0 ? " without setting errno" : "");
	/* The ledger checks after the test that both ends of the pipe were closed. */
}

/* ---- write_all / read_full ------------------------------------------------------------------ */

static void fill_pattern(unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(i);
}

/* Checks write_all into a 64 KiB pipe (room for everything) under the given faults. */
static void write_all_under(fault_plan plan, const char *what)
{
	enum { N = 20000 };
	static unsigned char src[N], got[N + 1];
	fill_pattern(src, N);
	int p[2];
	ck_assert(pipe2(p, O_CLOEXEC) == 0);
	fault_arm(plan);
	ssize_t r = write_all(p[1], src, N);
	int err = errno;
	fault_disarm();
	close(p[1]);
	ssize_t n = probe_read_all(p[0], got, sizeof got, 2.0);
	close(p[0]);
	errno = err;
	require_implemented(r < 0, "write_all");
	ck_assert_msg(r == N, "write_all(fd, buf, %d) with %s returned %zd (%s). %s", N, what, r,
		      r < 0 ? strerror(err) : "not the full count",
		      "Keep calling write() until every byte is out: a short write is progress, EINTR "
		      "means try again, EAGAIN means wait with poll() and try again.");
	ck_assert_msg(n == N && !memcmp(got, src, N),
		      "write_all returned %d with %s, but the pipe received %zd bytes%s. After a short "
		      "write, continue from buf + written, with n - written bytes left.", N, what, n,
		      n == N ? " in the wrong order or with repeats" : "");
}

GRADER_TEST(write_all_short_writes)
{
	write_all_under((fault_plan){.max_chunk = 7}, "at most 7 bytes per write() call");
}

GRADER_TEST(write_all_eintr)
{
	write_all_under((fault_plan){.max_chunk = 1000, .eintr_every = 3},
			"every 3rd write() failing with EINTR");
}

GRADER_TEST(write_all_eagain)
{
	write_all_under((fault_plan){.max_chunk = 1000, .eagain_every = 2},
			"every 2nd write() failing with EAGAIN");

	/* Now real backpressure: a non-blocking 4 KiB pipe and a slow reader. */
	enum { N = 64 * 1024 };
	static unsigned char src[N], got[N];
	fill_pattern(src, N);
	int p[2];
	ck_assert(pipe2(p, O_CLOEXEC) == 0);
	probe_pipe_shrink(p[1]);
	nonblocking(p[1]);
	pid_t pid = guard_fork();
	if (pid == 0) { /* slow reader: 4 KiB every 20 ms, then reports what it got */
		close(p[1]);
		size_t have = 0;
		for (;;) {
			usleep(20000);
			ssize_t r = read(p[0], got + have, N - have < 4096 ? N - have : 4096);
			if (r <= 0)
				break;
			have += (size_t)r;
		}
		int ok = have == N && !memcmp(got, src, N);
		_exit(ok ? 0 : 1);
	}
	close(p[0]);
	double cpu0 = probe_cpu_seconds(getpid());
	/* Every call that asks for more than 2048 bytes is counted (cut to 2048): a loop that
	   sleeps in poll() makes a few calls per 4 KiB the reader takes, a busy loop thousands,
	   however little CPU a loaded machine gives it. */
	fault_arm((fault_plan){.max_chunk = 2048});
	ssize_t r = write_all(p[1], src, N);
	int err = errno;
	unsigned long calls = fault_injected();
	fault_disarm();
	double cpu = probe_cpu_seconds(getpid()) - cpu0;
	close(p[1]);
	int status = 0;
	char diag[2048];
	bool ended = guard_wait(pid, &status, 3.0, diag, sizeof diag);
	child_sweep();
	ck_assert_msg(r == N,
		      "write_all() of 64 KiB into a full non-blocking pipe (4 KiB, drained slowly) "
		      "returned %zd (%s). EAGAIN only means \"full right now\": poll() for POLLOUT, "
		      "then write the rest.", r, r < 0 ? strerror(err) : "a short count");
	ck_assert_msg(ended && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "The reader did not receive the 64 KiB exactly as written.");
	ck_assert_msg(cpu < 0.1 && calls < 1000,
		      "write_all() made %lu write() calls and burned %.2f s of CPU while waiting "
		      "~320 ms for a slow reader: it retries EAGAIN in a busy loop. Sleep in poll(fd, "
		      "POLLOUT) until there is room.", calls, cpu);
}

/* In a child: waits until the process READER (which sets *STARTED just before it calls
   read_full) is asleep, or has burnt 50 ms of CPU since, then sends it "abcd". A reader that
   sleeps in poll() gets its bytes at once; one that retries EAGAIN in a loop is only let go once
   it has spun through thousands of read() calls, however little CPU a loaded machine gives it. */
static void feed_when_asleep(pid_t reader, volatile int *started, int fd)
{
	double t0 = probe_now(), bound = probe_bound(1.0);
	while (!*started && probe_now() - t0 < bound)
		usleep(1000);
	double cpu0 = probe_cpu_seconds(reader);
	while (child_state(reader) != 'S' && probe_cpu_seconds(reader) - cpu0 < 0.05 &&
	       probe_now() - t0 < bound)
		usleep(1000);
	_exit(put(fd, "abcd", 4) < 0 ? 1 : 0);
}

/* read_full(fd, buf, 4) on an empty non-blocking pipe: real EAGAIN, then a wait for the data. */
static void read_full_sleeps_on_eagain(void)
{
	int p[2];
	ck_assert(pipe2(p, O_CLOEXEC) == 0);
	nonblocking(p[0]);
	volatile int *started = child_shared(sizeof *started);
	pid_t reader = getpid(), pid = guard_fork();
	if (pid == 0) {
		close(p[0]);
		feed_when_asleep(reader, started, p[1]);
	}
	close(p[1]);
	char got[4] = "";
	double cpu0 = probe_cpu_seconds(0);
	/* Reads cut to 1 byte: every read() that asks for more (all of them while it waits) is
	   counted. */
	fault_arm((fault_plan){.max_chunk = 1});
	*started = 1;
	ssize_t r = read_full(p[0], got, 4);
	int err = errno;
	unsigned long calls = fault_injected();
	fault_disarm();
	double cpu = probe_cpu_seconds(0) - cpu0;
	close(p[0]);
	int status = 0;
	char diag[2048];
	guard_wait(pid, &status, 3.0, diag, sizeof diag);
	child_sweep();
	child_shared_free((void *)started, sizeof *started);
	ck_assert_msg(
	    r == 4 && !memcmp(got, "abcd", 4),
	    "read_full(fd, buf, 4) on an empty non-blocking pipe that received \"abcd\" "
	    "later returned %zd%s%s. EAGAIN only means \"nothing yet\": poll() for POLLIN, "
	    "then read again.",
	    r, r < 0 ? " with " : "", r < 0 ? errno_name(err) : "");
	ck_assert_msg(
	    calls < 1000 && cpu < 0.05,
	    "read_full() made %lu read() calls and burned %.2f s of CPU while waiting for "
	    "data on an empty non-blocking pipe: it retries EAGAIN in a busy loop, as if "
	    "EAGAIN meant \"try again at once\". Sleep in poll(fd, POLLIN) until data "
	    "arrives, then read.",
	    calls, cpu);
}

GRADER_TEST(read_full_faults)
{
	enum { N = 20000 };
	static unsigned char src[N], got[N];
	fill_pattern(src, N);
	int p[2];
	ck_assert(pipe2(p, O_CLOEXEC) == 0);
	ck_assert(write(p[1], src, N) == N); /* fits: 64 KiB pipe */
	nonblocking(p[0]);
	fault_arm((fault_plan){.max_chunk = 7, .eintr_every = 3, .eagain_every = 5});
	ssize_t r = read_full(p[0], got, N);
	int err = errno;
	fault_disarm();
	close(p[0]);
	close(p[1]);
	errno = err;
	require_implemented(r < 0, "read_full");
	ck_assert_msg(r == N && !memcmp(got, src, N),
		      "read_full(fd, buf, %d) with reads cut to 7 bytes, every 3rd failing with EINTR "
		      "and every 5th with EAGAIN returned %zd%s%s. Keep reading at buf + done until "
		      "n bytes are in; retry EINTR; on EAGAIN poll() for POLLIN, then read again.",
		      N, r, r < 0 ? " with " : "", r < 0 ? strerror(err) : "");
	read_full_sleeps_on_eagain();
}

/* Signals that keep arriving: SIGALRM every 2 ms, with a handler installed WITHOUT SA_RESTART,
   so that any blocking call (poll, waitpid, read, write) of the code under test fails with
   EINTR. Timers are not inherited by fork, so the programs it starts never see them. */
static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void ticks_start(void)
{
	struct sigaction sa = {.sa_handler = on_tick}; /* sa_flags 0: no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	ticks = 0;
	struct itimerval it = {{0, 2000}, {0, 2000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void ticks_stop(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

typedef struct {
	ssize_t rd, wr;
	int rd_err, wr_err;
	unsigned long ticks;
} poll_eintr_report;

/* In a child: read_full on an empty non-blocking pipe that gets its bytes after 100 ms, then
   write_all into a full non-blocking pipe that is drained after 100 ms, with signals arriving. */
static void poll_eintr_child(void *arg)
{
	poll_eintr_report *rep = arg;
	static unsigned char src[8192], got[8192];
	fill_pattern(src, sizeof src);
	int p[2], q[2];
	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(q, O_CLOEXEC) < 0)
		_exit(2);
	nonblocking(p[0]);
	probe_pipe_shrink(q[1]);
	nonblocking(q[1]);
	ssize_t filled = write(q[1], src, sizeof src); /* 4096: now full */
	(void)filled;
	fflush(NULL);
	pid_t helper = fork();
	if (helper == 0) { /* no timer here: fork does not inherit it */
		close(p[0]);
		close(q[1]);
		usleep(100 * 1000);
		put(p[1], src, 100);
		usleep(100 * 1000);
		char sink[4096];
		while (read(q[0], sink, sizeof sink) > 0)
			;
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	ticks_start();
	rep->rd = read_full(p[0], got, 100);
	rep->rd_err = errno;
	rep->wr = write_all(q[1], src, sizeof src);
	rep->wr_err = errno;
	ticks_stop();
	rep->ticks = (unsigned long)ticks;
	close(p[0]);
	close(q[1]);
	waitpid(helper, NULL, 0);
}

GRADER_TEST(poll_eintr)
{
	poll_eintr_report r = {.rd = -2, .wr = -2};
	child_end e = child_run(poll_eintr_child, &r, sizeof r, 2.0);
	char how[160];
	errno = r.rd_err;
	require_implemented(r.rd < 0 && r.rd != -2, "read_full");
	ck_assert_msg(e.exited && e.code == 0, "The process calling read_full and write_all %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(r.rd == 100,
		      "read_full(fd, buf, 100) on an empty non-blocking pipe, whose 100 bytes came "
		      "100 ms later while SIGALRM arrived every 2 ms (handler without SA_RESTART), "
		      "returned %zd%s%s. A signal makes a sleeping poll() fail with EINTR: that is not "
		      "an error, poll again.", r.rd, r.rd < 0 ? " with " : "",
		      r.rd < 0 ? errno_name(r.rd_err) : "");
	errno = r.wr_err;
	require_implemented(r.wr < 0, "write_all");
	ck_assert_msg(r.wr == 8192,
		      "write_all(fd, buf, 8192) into a full non-blocking pipe, drained 100 ms later "
		      "while SIGALRM arrived every 2 ms (handler without SA_RESTART), returned %zd%s%s. "
		      "A signal makes a sleeping poll() fail with EINTR: that is not an error, poll "
		      "again.", r.wr, r.wr < 0 ? " with " : "", r.wr < 0 ? errno_name(r.wr_err) : "");
}

typedef struct {
	ssize_t w, r, r10;
	int w_err, r_err;
	int left;           /* bytes still in the pipe after read_full(fd, buf, 10) of 100 */
	bool canary;        /* buf[10] untouched */
} rw_errors_report;

static void rw_errors_child(void *arg)
{
	rw_errors_report *rep = arg;
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		_exit(2);
	close(p[0]); /* nobody reads: EPIPE */
	static unsigned char src[5000];
	errno = 0;
	rep->w = write_all(p[1], src, sizeof src);
	rep->w_err = errno;
	close(p[1]);
	if (pipe2(p, O_CLOEXEC) < 0)
		_exit(2);
	errno = 0;
	rep->r = read_full(p[1], src, 10); /* the write end: EBADF */
	rep->r_err = errno;
	unsigned char hundred[100], got[11];
	fill_pattern(hundred, sizeof hundred);
	if (write(p[1], hundred, sizeof hundred) != (ssize_t)sizeof hundred)
		_exit(2);
	got[10] = 0xa5;
	rep->r10 = read_full(p[0], got, 10);
	rep->canary = got[10] == 0xa5;
	ioctl(p[0], FIONREAD, &rep->left);
	close(p[0]);
	close(p[1]);
}

GRADER_TEST(rw_errors)
{
	rw_errors_report r = {.w = -2, .r = -2, .r10 = -2};
	child_end e = child_run(rw_errors_child, &r, sizeof r, 2.0);
	char how[160];
	errno = r.w_err;
	require_implemented(r.w == -1, "write_all");
	ck_assert_msg(r.w != -2,
		      "write_all() into a pipe whose read end is closed (SIGPIPE ignored) did not return "
		      "within 2 s (the process %s). write() fails with EPIPE there, again and again: "
		      "that is an error to report, not EAGAIN to wait for.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(r.w == -1 && r.w_err == EPIPE,
		      "write_all() into a pipe whose read end is closed should return -1 with EPIPE (the "
		      "header says so); it returned %zd%s%s.", r.w, r.w < 0 ? " with " : "",
		      r.w < 0 ? errno_name(r.w_err) : "");
	errno = r.r_err;
	require_implemented(r.r == -1, "read_full");
	ck_assert_msg(r.r != -2, "read_full() on the write end of a pipe did not return within 2 s.");
	ck_assert_msg(r.r == -1 && r.r_err == EBADF,
		      "read_full() on a descriptor that cannot be read (the write end of a pipe) should "
		      "return -1 with errno EBADF, as read() says; it returned %zd%s%s.", r.r,
		      r.r < 0 ? " with " : "", r.r < 0 ? errno_name(r.r_err) : "");
	ck_assert_msg(r.r10 == 10 && r.left == 90 && r.canary,
		      "The pipe held 100 bytes; read_full(fd, buf, 10) should take exactly 10 of them "
		      "and leave 90, but it returned %zd, %d bytes were left%s. Never ask read() for "
		      "more than the n - done bytes still missing.", r.r10, r.left,
		      r.canary ? "" : ", and buf[10] was overwritten");
}

GRADER_TEST(read_full_eof)
{
	int p[2];
	ck_assert(pipe2(p, O_CLOEXEC) == 0);
	ck_assert(write(p[1], "0123456789", 10) == 10);
	close(p[1]); /* every write end closed: EOF after the 10 bytes */
	char got[100];
	fault_arm((fault_plan){.max_chunk = 3});
	ssize_t r = read_full(p[0], got, sizeof got);
	fault_disarm();
	close(p[0]);
	require_implemented(r < 0, "read_full");
	ck_assert_msg(r == 10,
		      "The pipe held 10 bytes and then end of file (its write end was closed), but "
		      "read_full(fd, buf, 100) returned %zd. read() returning 0 means EOF: stop and "
		      "return what you have.", r);
}

/* ---- run_pipeline --------------------------------------------------------------------------- */

typedef struct {
	int rc, err, status[2];
	pid_t zombie; /* a child still waitable after run_pipeline returned */
	int fds_before, fds_after; /* the caller's descriptors around the call */
	int injected;              /* pipeline_fork_fail: a fork() was made to fail */
} pipeline_report;

static bool pipeline_with_signals; /* the next pipeline(): SIGALRM every 2 ms during the call */
/* The next pipeline(): if set, the caller's own stdin holds this text and its stdout is the
   pipe the test reads; run_pipeline gets in_fd = out_fd = -1 (STD_KEEP) or 0 and 1 (STD_OWN).
   With STD_OUT_AT_0, in_fd is a pipe holding the text and out_fd is 0: the caller's descriptor 0
   is the pipe the test reads (as when stdin was closed and the next open() landed on 0). */
static const char *pipeline_stdin;
static enum { STD_KEEP, STD_OWN, STD_OUT_AT_0 } pipeline_std;
static int pipeline_room;	    /* the next pipeline(): probe_squeeze_fds(room) first, if > 0 */
static unsigned pipeline_fork_fail; /* the next pipeline(): its Nth fork() fails (EAGAIN), if > 0 */
/* What pipeline_fork_fail and filter_fork_fail make fail: "fork" with EAGAIN, unless a test
   asks for another call ("pipe", "pipe2") and errno. */
static const char *fail_call = "fork";
static int fail_err = EAGAIN;

/* Runs A | B in a guarded child; B's output comes back in OUT. Returns false on a hang, with
   the explanation in DIAG. */
static bool pipeline(char *const a[], char *const b[], char *out, size_t cap, ssize_t *outlen,
		     pipeline_report *rep, char *diag, size_t dcap)
{
	probe_cloexec_all();
	pipeline_report *shared = child_shared(sizeof *shared);
	int o[2];
	ck_assert(pipe2(o, O_CLOEXEC) == 0);
	pid_t pid = guard_fork();
	if (pid == 0) {
		close(o[0]);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = o[1];
		if (pipeline_stdin) {
			int q[2];
			if (pipe2(q, O_CLOEXEC) < 0 || put(q[1], pipeline_stdin, strlen(pipeline_stdin)) < 0)
				_exit(3);
			close(q[1]);
			if (pipeline_std == STD_OUT_AT_0) {
				close(in);
				dup2(o[1], 0);
				in = q[0];
				out = 0;
			} else {
				dup2(q[0], 0);
				close(q[0]);
				dup2(o[1], 1);
				in = pipeline_std == STD_OWN ? 0 : -1;
				out = pipeline_std == STD_OWN ? 1 : -1;
			}
		}
		if (pipeline_room > 0)
			probe_squeeze_fds(pipeline_room);
		shared->fds_before = probe_fd_count();
		if (pipeline_with_signals)
			ticks_start();
		unsigned long failed = fault_failed_calls();
		if (pipeline_fork_fail)
			fault_fail_call(fail_call, pipeline_fork_fail, fail_err);
		shared->rc = run_pipeline(a, b, in, out, shared->status);
		shared->err = errno;
		fault_fail_clear();
		shared->injected = fault_failed_calls() > failed;
		if (pipeline_with_signals)
			ticks_stop();
		shared->fds_after = probe_fd_count();
		if (!pipeline_stdin || pipeline_std == STD_OUT_AT_0)
			close(in);
		if (pipeline_std == STD_OUT_AT_0)
			close(0);
		close(o[1]);
		close(1);
		shared->zombie = leftover_child();
		_exit(0);
	}
	close(o[1]);
	bool timed_out;
	*outlen = child_collect(o[0], out, cap, 2.0, &timed_out);
	int status;
	bool ok;
	if (timed_out) { /* explain while the processes are still stuck */
		diagnose(pid, diag, dcap);
		ok = false;
	} else {
		ok = guard_wait(pid, &status, 2.0, diag, dcap);
	}
	close(o[0]);
	*rep = *shared;
	child_shared_free(shared, sizeof *shared);
	child_sweep();
	return ok;
}

static char *emit_argv[] = {"grader", "--probe", "emit", "100000", NULL};
static char *cat_argv[] = {"cat", NULL};

static void set_exe(char **argv)
{
	argv[0] = (char *)grader_exe();
}

GRADER_TEST(pipeline_runs)
{
	set_exe(emit_argv);
	static char out[200000];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(emit_argv, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(emit 100000 | cat) did not finish within 2 s: cat never saw "
			  "end of file.%s", diag);
	ck_assert_msg(rep.rc == 0, "run_pipeline() failed: %s", strerror(rep.err));
	static unsigned char want[100000];
	fill_pattern(want, sizeof want);
	ck_assert_msg(n == 100000 && !memcmp(out, want, sizeof want),
		      "emit wrote 100000 bytes into the pipe to cat, but out_fd received %zd bytes%s. "
		      "A's stdout must be the pipe's write end and B's stdin its read end (dup2).",
		      n, n == 100000 ? " that differ" : "");
	char how[2][160];
	ck_assert_msg(WIFEXITED(rep.status[0]) && !WEXITSTATUS(rep.status[0]) &&
			      WIFEXITED(rep.status[1]) && !WEXITSTATUS(rep.status[1]),
		      "Both stages should exit with 0; status[0]: %s, status[1]: %s.",
		      describe_status(rep.status[0], how[0], 160),
		      describe_status(rep.status[1], how[1], 160));
}

GRADER_TEST(pipeline_eof)
{
	static char *tiny[] = {"grader", "--probe", "emit", "10", NULL};
	set_exe(tiny);
	char out[100];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(tiny, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok,
		      "run_pipeline(emit 10 | cat): emit wrote 10 bytes and exited, but cat never saw "
		      "end of file, so the pipeline hung (2 s). A pipe reports EOF only when EVERY "
		      "write end is closed, in every process.%s Close each end a process does not "
		      "use: the parent closes both after forking, each child closes the originals "
		      "after dup2 (or create the pipe with O_CLOEXEC).", diag);
	ck_assert_msg(n == 10, "out_fd received %zd bytes instead of 10.", n);
}

/* Looks for "LABEL: fds" in OUT and returns the descriptor list. */
static const char *fds_line(const char *out, const char *label, char *buf, size_t cap)
{
	const char *s = strstr(out, label);
	if (!s)
		return NULL;
	s += strlen(label);
	size_t len = strcspn(s, "\n");
	snprintf(buf, cap, "%.*s", (int)len, s);
	return buf;
}

GRADER_TEST(pipeline_no_fd_leak)
{
	static char *a[] = {"grader", "--probe", "fds", "A", NULL};
	static char *b[] = {"grader", "--probe", "fds", "B", "pass", NULL};
	set_exe(a);
	set_exe(b);
	char out[1024] = "";
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(a, b, out, sizeof out - 1, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	out[n > 0 ? n : 0] = '\0';
	char la[256], lb[256];
	const char *fa = fds_line(out, "A:", la, sizeof la), *fb = fds_line(out, "B:", lb, sizeof lb);
	ck_assert_msg(fb, "Stage B did not report its descriptors (output: \"%s\").%s", out,
		      ok ? "" : diag);
	ck_assert_msg(!strcmp(fb, " 0 1 2"),
		      "Stage B started with descriptors [%s ] open; it should have exactly 0 1 2. The "
		      "extra ones are ends of the pipe: a copy of the WRITE end in the reader means it "
		      "can never see end of file. Close the originals after dup2 in each child, or "
		      "create the pipe with O_CLOEXEC.", fb);
	ck_assert_msg(fa, "Stage A's report never came through the pipe (output: \"%s\").%s", out,
		      ok ? "" : diag);
	ck_assert_msg(!strcmp(fa, " 0 1 2"),
		      "Stage A started with descriptors [%s ] open; it should have exactly 0 1 2. A "
		      "writer that holds the pipe's READ end never gets EPIPE when the reader quits: it "
		      "blocks forever once the pipe is full. Close it in the child.", fa);
	ck_assert_msg(ok, "The pipeline did not finish.%s", diag);
}

GRADER_TEST(pipeline_reaps_both)
{
	static char *a[] = {"grader", "--probe", "exitcode", "3", NULL};
	static char *b[] = {"grader", "--probe", "exitcode", "5", NULL};
	set_exe(a);
	set_exe(b);
	char out[16];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(a, b, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(exit 3 | exit 5) did not return within 2 s.%s", diag);
	char words[160];
	ck_assert_msg(rep.zombie == 0,
		      "After run_pipeline() returned, %s. Wait for BOTH stages with waitpid().",
		      leftover_words(rep.zombie, words, sizeof words));
	char how[2][160];
	ck_assert_msg(WIFEXITED(rep.status[0]) && WEXITSTATUS(rep.status[0]) == 3 &&
			      WIFEXITED(rep.status[1]) && WEXITSTATUS(rep.status[1]) == 5,
		      "Stage A exits with 3 and stage B with 5, but status[0] says it %s and "
		      "status[1] that it %s. Store each stage's own waitpid() status.",
		      describe_status(rep.status[0], how[0], 160),
		      describe_status(rep.status[1], how[1], 160));
}

/* ---- filter_through ------------------------------------------------------------------------- */

typedef struct {
	ssize_t ret;
	int err;
	pid_t zombie;
	int sigpipe_changed, mask_changed;
	int fds_before, fds_after; /* the caller's descriptors around the call */
	unsigned long ticks;       /* signals that arrived during the call (job.signals) */
	int injected;              /* filter_fork_fail: the fork() was made to fail */
	char errtext[128];         /* what the command wrote to its stderr */
	char out[];                /* CAP bytes, then CANARY bytes that must stay untouched */
} filter_report;

enum { CANARY = 64 };

typedef struct {
	char *const *argv;
	const void *in;
	size_t n, cap;
	int pipe_size;
	fault_plan faults;
	bool signals; /* SIGALRM every 2 ms during the call (no SA_RESTART) */
	int room;     /* > 0: RLIMIT_NOFILE leaves the caller only this many - 1 new descriptors */
} filter_job;

static unsigned filter_fork_fail; /* the next filter(): its Nth fork() fails (EAGAIN), if > 0 */

static bool filter_hung; /* the last filter() ended in a hang (not a crash) */

/* The guarded child of filter(): calls filter_through with JOB and records into R what it
   returned and what it left behind (descriptors, SIGPIPE, children, stderr). Never returns. */
static void filter_child(filter_job job, filter_report *r)
{
	struct sigaction before, after;
	sigset_t mb, ma;
	sigaction(SIGPIPE, NULL, &before);
	sigprocmask(SIG_SETMASK, NULL, &mb);
	filter_pipe_size = job.pipe_size;
	int e[2] = {-1, -1}; /* the command's stderr (it is the caller's) */
	if (pipe2(e, O_CLOEXEC) == 0) {
		dup2(e[1], 2);
		close(e[1]);
	}
	if (job.room > 0)
		probe_squeeze_fds(job.room);
	r->fds_before = probe_fd_count();
	if (job.signals)
		ticks_start();
	fault_arm(job.faults);
	unsigned long failed = fault_failed_calls();
	if (filter_fork_fail)
		fault_fail_call(fail_call, filter_fork_fail, fail_err);
	r->ret = filter_through(job.argv, job.in, job.n, r->out, job.cap);
	r->err = errno;
	fault_fail_clear();
	r->injected = fault_failed_calls() > failed;
	fault_disarm();
	if (job.signals)
		ticks_stop();
	r->ticks = (unsigned long)ticks;
	r->fds_after = probe_fd_count();
	sigaction(SIGPIPE, NULL, &after);
	sigprocmask(SIG_SETMASK, NULL, &ma);
	r->sigpipe_changed = before.sa_handler != after.sa_handler;
	r->mask_changed = sigismember(&mb, SIGPIPE) != sigismember(&ma, SIGPIPE);
	r->zombie = leftover_child();
	if (e[0] >= 0) {
		/* What the command said, once it has said it all (end of file: it ended), so that
		   the verdict does not hang on whether a command nobody waited for was quick. */
		close(2);
		bool cut;
		ssize_t k = child_collect(e[0], r->errtext, sizeof r->errtext - 1, 0.5, &cut);
		r->errtext[k > 0 ? k : 0] = '\0';
	}
	_exit(0);
}

/* Runs filter_through in a guarded child. Returns false on a hang or a crash, with the
   explanation in DIAG; the child's report in *REP (caller munmaps it with unmap_report). */
static bool filter(filter_job job, filter_report **rep, char *diag, size_t dcap)
{
	probe_cloexec_all();
	size_t size = sizeof(filter_report) + job.cap + CANARY;
	filter_report *r = child_shared(size);
	r->ret = -2;
	memset(r->out + job.cap, 0xa5, CANARY);
	pid_t pid = guard_fork();
	if (pid == 0)
		filter_child(job, r);
	int status;
	bool ok = guard_wait(pid, &status, 2.0, diag, dcap);
	filter_hung = !ok;
	child_sweep();
	*rep = r;
	if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char how[160];
		snprintf(diag, dcap, "the process that called filter_through() %s.%s",
			 describe_status(status, how, sizeof how),
			 WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE
				 ? " It wrote to the command's stdin after the command had stopped "
				   "reading, and SIGPIPE's default action is to kill. Ignore or block "
				   "SIGPIPE around the writes (and restore it), and treat EPIPE as \"the "
				   "reader is done\"."
				 : "");
		return false;
	}
	return ok;
}

static void unmap_report(filter_report *r, size_t cap)
{
	child_shared_free(r, sizeof *r + cap + CANARY);
}

/* The common checks: finished, implemented, no zombie, no SIGPIPE change. */
static void filter_sane(bool ok, filter_report *r, const char *what, const char *diag)
{
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok, "%s: %s%s", what, filter_hung ? "did not finish within 2 s." : "", diag);
	ck_assert_msg(r->ret >= 0, "%s: filter_through() failed: %s", what, strerror(r->err));
}

GRADER_TEST(filter_basic)
{
	enum { N = 100000 };
	static unsigned char in[N];
	fill_pattern(in, N);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, in, N, N + 100, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(cat, 100000 bytes)", diag);
	ck_assert_msg(r->ret == N && !memcmp(r->out, in, N),
		      "cat should give back the 100000 bytes it was fed, but filter_through() returned "
		      "%zd%s.", r->ret, r->ret == N ? " with different bytes" : "");
	unmap_report(r, N + 100);
}

GRADER_TEST(filter_no_deadlock)
{
	enum { N = 64 * 1024 };
	static unsigned char in[N];
	fill_pattern(in, N);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, in, N, N, 4096, {0}, false, 0}, &r, diag, sizeof diag);
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok,
		      "filter_through(cat) with 4096-byte pipes and 64 KiB of input deadlocked (no "
		      "progress in 2 s). cat writes its output while it is still reading: once the "
		      "output pipe is full, cat blocks, stops reading, and your write of the input "
		      "blocks too: each side waits for the other. Feed the input and collect the "
		      "output at the same time: poll() both pipes (non-blocking), or write from a "
		      "thread or a child process.%s", diag);
	ck_assert_msg(r->ret == N && !memcmp(r->out, in, N),
		      "cat should give back the 64 KiB it was fed, but filter_through() returned %zd.",
		      r->ret);
	unmap_report(r, N);
}

GRADER_TEST(filter_pipe_size_applied)
{
	static char *argv[] = {"grader", "--probe", "pipesz", NULL};
	set_exe(argv);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, "x", 1, 64, 4096, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(pipesz)", diag);
	r->out[r->ret < 64 ? r->ret : 63] = '\0';
	int a = 0, b = 0;
	sscanf(r->out, "%d %d", &a, &b);
	ck_assert_msg(a == 4096 && b == 4096,
		      "With filter_pipe_size = 4096, the command's stdin pipe holds %d bytes and its "
		      "stdout pipe %d. Apply fcntl(F_SETPIPE_SZ, filter_pipe_size) to both pipes when "
		      "it is > 0.", a, b);
	unmap_report(r, 64);
}

GRADER_TEST(filter_two_pipes)
{
	static char *argv[] = {"grader", "--probe", "upper", NULL};
	set_exe(argv);
	static char in[8192];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = "ping pong "[i % 10];
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, in, sizeof in, sizeof in, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(upper)", diag);
	size_t lower = 0;
	for (ssize_t i = 0; i < r->ret; i++)
		lower += islower((unsigned char)r->out[i]) != 0;
	ck_assert_msg(lower == 0,
		      "The command uppercases what it reads, yet %zu of the %zd bytes you got back are "
		      "still lowercase: you read back your own input. A pipe is ONE-WAY: if the same "
		      "pipe carries data both ways, whoever reads first takes whatever is in it, "
		      "including its own bytes. Use two pipes, one per direction.", lower, r->ret);
	ck_assert_msg(r->ret == (ssize_t)sizeof in, "Expected %zu bytes back, got %zd.", sizeof in,
		      r->ret);
	unmap_report(r, sizeof in);
}

GRADER_TEST(filter_head_early)
{
	enum { N = 1 << 20 };
	static unsigned char in[N];
	fill_pattern(in, N);
	static char *argv[] = {"head", "-c1", NULL};
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, in, N, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok,
		      "filter_through(head -c1) with 1 MiB of input: head read one buffer, printed 1 "
		      "byte and exited, but %s%s",
		      filter_hung ? "your code did not finish within 2 s. After head exits, writing to its stdin pipe must fail with "
				       "EPIPE, which only happens when NO process holds the read end. "
				       "Close the read end in the parent after fork, and treat EPIPE as "
				       "\"the reader is done\"."
				     : "",
		      diag);
	ck_assert_msg(r->ret == 1 && r->out[0] == (char)in[0],
		      "head -c1 prints exactly the first byte, but filter_through() returned %zd%s%s.",
		      r->ret, r->ret < 0 ? ": " : "", r->ret < 0 ? strerror(r->err) : "");
	ck_assert_msg(!r->sigpipe_changed && !r->mask_changed,
		      "filter_through() changed the caller's SIGPIPE %s and left it that way. Restore "
		      "it before returning: the caller may rely on the default.",
		      r->sigpipe_changed ? "disposition" : "blocking");
	unmap_report(r, 16);
}

GRADER_TEST(filter_faults)
{
	enum { N = 200000 };
	static unsigned char in[N];
	fill_pattern(in, N);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, in, N, N, 4096,
				      {.max_chunk = 1000, .eintr_every = 3, .eagain_every = 5}, false, 0},
			 &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(cat) with short reads/writes, EINTR and EAGAIN", diag);
	ck_assert_msg(r->ret == N && !memcmp(r->out, in, N),
		      "With reads and writes cut to 1000 bytes, every 3rd call failing with EINTR and "
		      "every 5th with EAGAIN, cat gave back %zd bytes%s instead of the %d it was fed. "
		      "Count each call's real progress; EINTR and EAGAIN are not errors (retry; poll "
		      "tells you when to).", r->ret, r->ret == N ? " that differ" : "", N);
	unmap_report(r, N);
	/* No input: every faulted call is a read of the output, so an EAGAIN surely hits one. */
	static char *emit[] = {"grader", "--probe", "emit", "100000", NULL};
	set_exe(emit);
	ok = filter((filter_job){emit, "", 0, N, 4096, {.max_chunk = 1000, .eintr_every = 3,
							   .eagain_every = 5}, false, 0},
		    &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(emit 100000) with short reads, EINTR and EAGAIN", diag);
	ck_assert_msg(r->ret == 100000,
		      "With reads cut to 1000 bytes, every 3rd failing with EINTR and every 5th with "
		      "EAGAIN, filter_through(emit 100000) kept %zd bytes instead of 100000. EAGAIN on "
		      "the output means \"nothing yet\", not end of file: poll() again.", r->ret);
	unmap_report(r, N);
}

GRADER_TEST(filter_no_fd_leak)
{
	static char *argv[] = {"grader", "--probe", "fds", "cmd", "pass", NULL};
	set_exe(argv);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, "abc", 3, 256, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(fds)", diag);
	r->out[r->ret < 256 ? r->ret : 255] = '\0';
	char buf[256];
	const char *fds = fds_line(r->out, "cmd:", buf, sizeof buf);
	ck_assert_msg(fds && !strcmp(fds, " 0 1 2"),
		      "The command started with descriptors [%s ] open; it should have exactly 0 1 2. "
		      "The extra ones are your pipes' ends: a command holding its own stdin's write "
		      "end never sees end of file. Close them in the child after dup2 (or use "
		      "O_CLOEXEC).", fds ? fds : " ?");
	unmap_report(r, 256);
}

GRADER_TEST(filter_reaps)
{
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, "abc", 3, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(cat)", diag);
	char words[160];
	ck_assert_msg(r->zombie == 0,
		      "After filter_through() returned, %s. waitpid() for the command before "
		      "returning.", leftover_words(r->zombie, words, sizeof words));
	unmap_report(r, 16);
}

/* ---- edges, signals, descriptors on every path ------------------------------------------------ */

GRADER_TEST(filter_empty_input)
{
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, "", 0, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok,
		      "filter_through(cat) with no input (n = 0) %s%s cat waits for end of file on its "
		      "stdin, and it only comes when the input pipe's write end is closed: with nothing "
		      "to send, close it at once.",
		      filter_hung ? "did not finish within 2 s." : "failed:", diag);
	ck_assert_msg(r->ret == 0, "filter_through(cat) with no input returned %zd%s%s instead of 0.",
		      r->ret, r->ret < 0 ? ": " : "", r->ret < 0 ? strerror(r->err) : "");
	unmap_report(r, 16);

	static char *emit[] = {"grader", "--probe", "emit", "5000", NULL};
	set_exe(emit);
	ok = filter((filter_job){emit, "", 0, 8192, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(emit 5000) with no input", diag);
	static unsigned char want[5000];
	fill_pattern(want, sizeof want);
	ck_assert_msg(r->ret == 5000 && !memcmp(r->out, want, 5000),
		      "A command that ignores its (empty) input and prints 5000 bytes: filter_through() "
		      "returned %zd%s. With n = 0 there is nothing to send, but the output must still be "
		      "collected until end of file.", r->ret, r->ret == 5000 ? " with different bytes" : "");
	unmap_report(r, 8192);
}

GRADER_TEST(filter_signals)
{
	static char *argv[] = {"grader", "--probe", "slow", NULL};
	set_exe(argv);
	enum { N = 20000 };
	static unsigned char in[N];
	fill_pattern(in, N);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, in, N, N, 0, {0}, .signals = true}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(slow) with SIGALRM every 2 ms", diag);
	ck_assert_msg(r->ticks > 0, "No signal arrived during the call (the grader's timer failed).");
	ck_assert_msg(r->ret == N && !memcmp(r->out, in, N),
		      "The command waited 100 ms before it copied its %d bytes of input, while a signal "
		      "arrived every 2 ms (a handler installed without SA_RESTART). filter_through() "
		      "returned %zd%s. A signal makes a sleeping poll() (or read, write) fail with EINTR: "
		      "that is not an error and not the end, just call it again.", N, r->ret,
		      r->ret == N ? " with different bytes" : "");
	char words[160];
	ck_assert_msg(r->zombie == 0,
		      "The command closed its output, then took 150 ms more to exit, while a signal "
		      "arrived every 2 ms. After filter_through() returned, %s: waitpid() failed with "
		      "EINTR and was not called again. Retry it while it fails with EINTR.",
		      leftover_words(r->zombie, words, sizeof words));
	unmap_report(r, N);
}

GRADER_TEST(filter_exec_fails)
{
	static char *argv[] = {"ipclab-no-such-command", NULL};
	enum { N = 256 * 1024 };
	static unsigned char in[N];
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, in, N, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok,
		      "filter_through() of a command that does not exist, with 256 KiB of input: %s%s "
		      "The child's execvp() fails and it exits with 127 (like a shell), so nobody reads "
		      "the input: writing it fails with EPIPE, which means \"the reader is done\".",
		      filter_hung ? "did not finish within 2 s." : "", diag);
	ck_assert_msg(r->ret == 0 || (r->ret == -1 && r->err != 0),
		      "filter_through() of a command that does not exist returned %zd%s. It printed "
		      "nothing, so return 0 (or -1 with errno set, if you detect the failed exec).",
		      r->ret, r->ret == -1 ? " without setting errno" : "");
	ck_assert_msg(!r->sigpipe_changed && !r->mask_changed,
		      "filter_through() of a command that could not run returned %zd, but left the "
		      "caller's SIGPIPE %s changed. Every way out of the function, the early ones too, "
		      "must put the old setting back.", r->ret,
		      r->sigpipe_changed ? "disposition" : "blocking");
	char words[160];
	ck_assert_msg(r->zombie == 0,
		      "filter_through() of a command that could not run returned, but %s. Reap the "
		      "child on that path too.", leftover_words(r->zombie, words, sizeof words));
	ck_assert_msg(r->fds_after == r->fds_before,
		      "The caller had %d descriptors open before filter_through() of a command that "
		      "could not run, and %d after it returned. Close both pipes on every path.",
		      r->fds_before, r->fds_after);
	unmap_report(r, 16);
}

GRADER_TEST(no_fd_left_in_caller)
{
	enum { N = 1 << 20 };
	static unsigned char in[N];
	fill_pattern(in, N);
	static char *head[] = {"head", "-c1", NULL};
	static const struct {
		char **argv;
		size_t n;
		const char *what;
	} runs[] = {{cat_argv, 100, "filter_through(cat, 100 bytes)"},
		    {head, N, "filter_through(head -c1, 1 MiB), which stops reading early"}};
	for (size_t i = 0; i < 2; i++) {
		filter_report *r;
		char diag[4096];
		bool ok = filter((filter_job){runs[i].argv, in, runs[i].n, 128, 0, {0}, false, 0}, &r, diag,
				 sizeof diag);
		filter_sane(ok, r, runs[i].what, diag);
		ck_assert_msg(r->fds_after == r->fds_before,
			      "The caller had %d descriptors open before %s, and %d after it returned. "
			      "Each call leaks %d: close both pipe ends you kept (the command's stdin "
			      "and stdout) before returning.", r->fds_before, runs[i].what, r->fds_after,
			      r->fds_after - r->fds_before);
		unmap_report(r, 128);
	}
	static char *tiny[] = {"grader", "--probe", "emit", "10", NULL};
	set_exe(tiny);
	char out[100];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(tiny, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(emit 10 | cat) did not finish.%s", diag);
	ck_assert_msg(rep.fds_after == rep.fds_before,
		      "The caller had %d descriptors open before run_pipeline(), and %d after it "
		      "returned. Close both ends of the pipe in the parent.", rep.fds_before,
		      rep.fds_after);
}

GRADER_TEST(pipeline_signals)
{
	static char *a[] = {"grader", "--probe", "emit", "10", NULL};
	static char *b[] = {"grader", "--probe", "slow", NULL};
	set_exe(a);
	set_exe(b);
	char out[100];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	pipeline_with_signals = true;
	bool ok = pipeline(a, b, out, sizeof out, &n, &rep, diag, sizeof diag);
	pipeline_with_signals = false;
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(emit 10 | slow) with SIGALRM every 2 ms did not finish.%s",
		      diag);
	ck_assert_msg(rep.rc == 0, "run_pipeline() failed with %s while signals arrived. EINTR is not "
			  "an error: retry the interrupted call.", errno_name(rep.err));
	char words[160], how[160];
	ck_assert_msg(rep.zombie == 0,
		      "Stage B takes 250 ms to exit, and a signal arrived every 2 ms (a handler without "
		      "SA_RESTART). After run_pipeline() returned, %s: waitpid() failed with EINTR and "
		      "was not called again. Retry it while it fails with EINTR.",
		      leftover_words(rep.zombie, words, sizeof words));
	ck_assert_msg(WIFEXITED(rep.status[1]) && WEXITSTATUS(rep.status[1]) == 0 && n == 10,
		      "Stage B exits with 0 after copying 10 bytes; status[1] says it %s, and out_fd "
		      "received %zd bytes.", describe_status(rep.status[1], how, sizeof how), n);
}

/* filter_through(cat) with room for only ROOM - 1 more descriptors: it works, or fails cleanly
   with errno set and nothing left open. */
static void filter_with_few_fds(int room)
{
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){cat_argv, "abc", 3, 16, 0, {0}, .room = room}, &r, diag,
			 sizeof diag);
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	char what[160];
	snprintf(what, sizeof what,
		 "With room for only %d more descriptor%s (RLIMIT_NOFILE), filter_through(cat)",
		 room - 1, room == 2 ? "" : "s");
	ck_assert_msg(ok, "%s %s%s", what,
		      filter_hung ? "did not finish within 2 s." : "failed:", diag);
	ck_assert_msg((r->ret == 3 && !memcmp(r->out, "abc", 3)) || (r->ret == -1 && r->err),
		      "%s returned %zd%s. It needs 4 descriptors for its two pipes: when one "
		      "cannot be created, return -1 with errno set (EMFILE).%s",
		      what, r->ret, r->ret == -1 ? " without setting errno" : "",
		      room >= 5 && r->ret == 0
			  ? " Here both pipes fit, so the command itself should have run: did "
			    "the child need one more descriptor before exec (a copy made with "
			    "dup or F_DUPFD) and give up with 127? Move the pipe ends straight "
			    "onto 0 and 1 with dup2."
			  : "");
	ck_assert_msg(r->fds_after == r->fds_before,
		      "%s returned %zd (%s), but the caller had %d descriptors before and %d "
		      "after. When the second pipe cannot be created, close the first one "
		      "before returning -1.",
		      what, r->ret, r->ret < 0 ? errno_name(r->err) : "success", r->fds_before,
		      r->fds_after);
	char words[160];
	ck_assert_msg(r->zombie == 0, "%s returned, but %s.", what,
		      leftover_words(r->zombie, words, sizeof words));
	ck_assert_msg(!r->sigpipe_changed && !r->mask_changed,
		      "%s returned %zd, but left the caller's SIGPIPE changed: put it back on "
		      "every path.",
		      what, r->ret);
	unmap_report(r, 16);
}

/* run_pipeline with room for only ROOM - 1 more descriptors: it works, or fails cleanly. */
static void pipeline_with_few_fds(int room)
{
	static char *tiny[] = {"grader", "--probe", "emit", "10", NULL};
	set_exe(tiny);
	char out[100], diag[4096];
	ssize_t n;
	pipeline_report rep;
	pipeline_room = room;
	bool ok = pipeline(tiny, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	pipeline_room = 0;
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok,
		      "With room for only %d more descriptors, run_pipeline() did not "
		      "finish.%s",
		      room - 1, diag);
	ck_assert_msg(rep.rc == 0 || (rep.rc == -1 && rep.err),
		      "With room for only %d more descriptors, run_pipeline() returned %d%s.",
		      room - 1, rep.rc, rep.rc == -1 ? " without setting errno" : "");
	ck_assert_msg(rep.rc < 0 || n == 10,
		      "With room for only %d more descriptors, run_pipeline() returned 0, but "
		      "out_fd received %zd bytes instead of 10: did it start without its pipe?",
		      room - 1, n);
	char words[160];
	ck_assert_msg(rep.zombie == 0 && rep.fds_after == rep.fds_before,
		      "With room for only %d more descriptors, run_pipeline() returned %d; the "
		      "caller had %d descriptors before and %d after%s%s.",
		      room - 1, rep.rc, rep.fds_before, rep.fds_after, rep.zombie ? ", and " : "",
		      rep.zombie ? leftover_words(rep.zombie, words, sizeof words) : "");
}

GRADER_TEST(fd_exhaustion)
{
	/* room k: k - 1 descriptors can still be opened. 1..4: a pipe2 fails with EMFILE. */
	for (int room = 1; room <= 6; room++)
		filter_with_few_fds(room);
	for (int room = 1; room <= 3; room++)
		pipeline_with_few_fds(room);
}

GRADER_TEST(filter_output_over_cap)
{
	static char *argv[] = {"grader", "--probe", "emitlog", "100000", NULL};
	set_exe(argv);
	enum { CAP = 1000 };
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, "x", 1, CAP, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(emit 100000) with cap 1000", diag);
	bool canary = true;
	for (int i = 0; i < CANARY; i++)
		canary = canary && (unsigned char)r->out[CAP + i] == 0xa5;
	ck_assert_msg(canary,
		      "filter_through(..., out, cap = %d) wrote past out[cap - 1]: the bytes after the "
		      "buffer were changed. Store at most cap bytes.", CAP);
	static unsigned char want[CAP];
	fill_pattern(want, CAP);
	ck_assert_msg(r->ret == CAP && !memcmp(r->out, want, CAP),
		      "The command printed 100000 bytes and cap is %d: filter_through() should store "
		      "the first %d and return %d, but it returned %zd%s.", CAP, CAP, CAP, r->ret,
		      r->ret == CAP ? " with different bytes" : "");
	ck_assert_msg(!strcmp(r->errtext, "emitted 100000\n"),
		      "The command printed 100000 bytes, more than cap (%d), and could not write them "
		      "all (its stderr said \"%.40s\"): once your buffer was full you stopped reading "
		      "the output pipe (or closed it), so the command blocked or got EPIPE. Keep reading "
		      "until end of file and throw away what does not fit.", CAP,
		      r->errtext[0] ? r->errtext : "nothing: it was killed");
	unmap_report(r, CAP);
}

GRADER_TEST(pipeline_std_fds)
{
	static char *b[] = {"grader", "--probe", "upper", NULL};
	set_exe(b);
	static const char *const hows[] = {
	    "in_fd = -1 and out_fd = -1 (keep the caller's)",
	    "in_fd = 0 and out_fd = 1 (the caller's own)",
	    "in_fd = a pipe holding \"keep me\" and out_fd = 0 (the caller's descriptor 0 is an "
	    "output: its stdin had been closed, then an output opened on 0)"};
	for (int round = STD_KEEP; round <= STD_OUT_AT_0; round++) {
		char out[100] = "";
		ssize_t n;
		pipeline_report rep;
		char diag[4096];
		pipeline_stdin = "keep me\n";
		pipeline_std = round;
		bool ok = pipeline(cat_argv, b, out, sizeof out - 1, &n, &rep, diag, sizeof diag);
		pipeline_stdin = NULL;
		pipeline_std = STD_KEEP;
		errno = rep.err;
		require_implemented(ok && rep.rc < 0, "run_pipeline");
		const char *how = hows[round];
		ck_assert_msg(ok, "run_pipeline(cat | upper) with %s did not finish.%s", how, diag);
		ck_assert_msg(rep.rc == 0, "run_pipeline(cat | upper) with %s failed: %s.", how,
			      errno_name(rep.err));
		out[n > 0 ? n : 0] = '\0';
		char st[2][160];
		ck_assert_msg(
		    !strcmp(out, "KEEP ME\n"),
		    "run_pipeline(cat | upper) with %s: %s held \"keep me\", so %s should "
		    "receive \"KEEP ME\", but it received \"%s\" (status[0]: %s, status[1]: "
		    "%s). %s",
		    how, round == STD_OUT_AT_0 ? "in_fd" : "the caller's stdin",
		    round == STD_OUT_AT_0 ? "out_fd (descriptor 0)" : "its stdout", out,
		    describe_status(rep.status[0], st[0], 160),
		    describe_status(rep.status[1], st[1], 160),
		    round == STD_OUT_AT_0
			? "Installing stage B's stdin first (dup2 of the pipe onto 0) replaces "
			  "descriptor 0, its out_fd, before it is copied onto 1: B then writes "
			  "into the pipe's read end. When out_fd is 0, first move it out of the "
			  "way (fcntl F_DUPFD_CLOEXEC to a descriptor >= 3), then dup2 onto 0 "
			  "and 1."
			: "-1 means: leave that descriptor alone; a descriptor that is "
			  "already the right one must not be closed.");
	}
}

GRADER_TEST(pipeline_exec_fails)
{
	static char *a[] = {"ipclab-no-such-command", NULL};
	static char *b[] = {"grader", "--probe", "exitcode", "0", NULL};
	set_exe(b);
	char out[16];
	ssize_t n;
	pipeline_report rep;
	char diag[4096];
	bool ok = pipeline(a, b, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(no-such-command | exit 0) did not finish.%s", diag);
	ck_assert_msg(rep.rc == 0, "run_pipeline() failed with %s: a program that cannot be run is "
			  "not a failure to start the pipeline; its child exits with 127.",
		      errno_name(rep.err));
	char how[160];
	ck_assert_msg(WIFEXITED(rep.status[0]) && WEXITSTATUS(rep.status[0]) == 127,
		      "Stage A cannot be run (no such program), so its child must exit with status "
		      "127, like in a shell; status[0] says it %s. After execvp fails: _exit(127).",
		      describe_status(rep.status[0], how, sizeof how));
}

GRADER_TEST(filter_input_after_output_eof)
{
	static char *argv[] = {"grader", "--probe", "countin", NULL};
	set_exe(argv);
	enum { N = 200000 };
	static unsigned char in[N];
	fill_pattern(in, N);
	filter_report *r;
	char diag[4096];
	bool ok = filter((filter_job){argv, in, N, 16, 4096, {0}, false, 0}, &r, diag, sizeof diag);
	filter_sane(ok, r, "filter_through(countin)", diag);
	ck_assert_msg(r->ret == 0, "The command closed its stdout at once, yet filter_through() "
				   "returned %zd instead of 0.", r->ret);
	ck_assert_msg(!strcmp(r->errtext, "read 200000\n"),
		      "The command closed its stdout at once, then kept reading its stdin until end of "
		      "file, but it said \"%.*s\" instead of \"read 200000\". End of file on the "
		      "command's OUTPUT does not mean it has stopped reading its INPUT: keep feeding it "
		      "until all is sent (or writing fails with EPIPE).",
		      (int)strcspn(r->errtext, "\n"), r->errtext);
	unmap_report(r, 16);
}

/* ---- when fork() fails ----------------------------------------------------------------------- */

/* run_pipeline(A | cat) whose NTH fork() fails with EAGAIN (with SIGALRM every 2 ms when
   SIGNALS): -1/EAGAIN, nothing left open, no stage left running. WHAT names the run. */
static void pipeline_fork_failure_is_clean(unsigned nth, char **a, bool signals, const char *what)
{
	char out[64], diag[4096], words[160];
	ssize_t n;
	pipeline_report rep;
	pipeline_fork_fail = nth;
	pipeline_with_signals = signals;
	bool ok = pipeline(a, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	errno = rep.err;
	pipeline_fork_fail = 0;
	pipeline_with_signals = false;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok,
		      "%s did not return within 2 s.%s A stage that is already running ends only "
		      "when it finishes, dies of EPIPE/SIGPIPE because nobody reads its output any "
		      "more, or is killed: close both pipe ends (or kill it) BEFORE you waitpid() "
		      "it.",
		      what, diag);
	if (!rep.injected) { /* no fork() was made to fail: fork is not how this code starts */
		ck_assert_msg(rep.rc == 0, "run_pipeline() failed with %s.", errno_name(rep.err));
		return;
	}
	ck_assert_msg(rep.rc == -1,
		      "%s, yet it returned %d: the caller believes the pipeline ran, and STATUS "
		      "holds nothing real. Check the result of each fork(); if one fails, clean "
		      "up and return -1 with fork's errno.",
		      what, rep.rc);
	ck_assert_msg(rep.err == EAGAIN,
		      "%s. It returned -1, but errno was %s instead of EAGAIN (what fork() "
		      "failed with): the clean-up overwrote it (a waitpid() interrupted by a "
		      "signal leaves EINTR, for example). Save errno as soon as fork() fails and "
		      "put it back just before return -1.",
		      what, errno_name(rep.err));
	ck_assert_msg(rep.fds_after == rep.fds_before,
		      "%s. It returned -1, but the caller had %d descriptors before and %d after: "
		      "the pipe between the stages stays open on that path. Close both of its "
		      "ends before returning -1.",
		      what, rep.fds_before, rep.fds_after);
	ck_assert_msg(rep.zombie == 0,
		      "%s. It returned -1, but %s. A stage that was already started must not "
		      "outlive the failed call: close the pipe (then it ends, by EPIPE/SIGPIPE if "
		      "it writes) or kill it, and waitpid() it before returning.",
		      what, leftover_words(rep.zombie, words, sizeof words));
}

/* filter_through(cat, "abc") whose fork() fails with EAGAIN: -1/EAGAIN, nothing left open,
   no child, SIGPIPE as it was. */
static void filter_fork_failure_is_clean(void)
{
	const char *what = "filter_through(cat, \"abc\") whose fork() failed with EAGAIN";
	filter_report *r;
	char diag[4096], words[160];
	filter_fork_fail = 1;
	bool ok = filter((filter_job){cat_argv, "abc", 3, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_fork_fail = 0;
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok, "%s %s%s", what, filter_hung ? "did not return within 2 s." : "failed:",
		      diag);
	if (r->injected) {
		ck_assert_msg(r->ret == -1,
			      "%s, yet it returned %zd: no command ran. Check fork()'s result; if it "
			      "failed, close both pipes and return -1 with fork's errno.", what, r->ret);
		ck_assert_msg(r->err == EAGAIN,
			      "%s. It returned -1, but errno was %s instead of EAGAIN: the clean-up "
			      "overwrote it. Save errno as soon as fork() fails, restore it before "
			      "return -1.", what, errno_name(r->err));
		ck_assert_msg(r->fds_after == r->fds_before,
			      "%s. It returned -1, but the caller had %d descriptors before and %d "
			      "after: both pipes were already open. Close all four ends on that path.",
			      what, r->fds_before, r->fds_after);
		ck_assert_msg(r->zombie == 0, "%s. It returned -1, but %s.", what,
			      leftover_words(r->zombie, words, sizeof words));
		ck_assert_msg(!r->sigpipe_changed && !r->mask_changed,
			      "%s. It returned -1, but left the caller's SIGPIPE %s changed. If you "
			      "change it before fork(), put it back on this path too (or change it only "
			      "once the command runs).", what,
			      r->sigpipe_changed ? "disposition" : "blocking");
	} else {
		ck_assert_msg(r->ret == 3, "filter_through(cat, \"abc\") returned %zd (%s).", r->ret,
			      r->ret < 0 ? errno_name(r->err) : "bytes");
	}
	unmap_report(r, 16);
}

GRADER_TEST(fork_fails)
{
	static char *big[] = {"grader", "--probe", "emit", "1048576", NULL};
	static char *slow[] = {"grader", "--probe", "slow", NULL};
	set_exe(big);
	set_exe(slow);
	static const struct {
		unsigned nth; /* which fork() of the call fails */
		char **a;     /* stage A */
		bool signals; /* SIGALRM every 2 ms during the call */
		const char *what;
	} runs[] = {
	    {1, big, false, "run_pipeline(emit 1 MiB | cat) whose first fork() failed with EAGAIN"},
	    {2, big, false,
	     "run_pipeline(emit 1 MiB | cat) whose second fork() failed with EAGAIN "
	     "(one stage was already running)"},
	    {2, slow, true,
	     "run_pipeline(slow | cat) whose second fork() failed with EAGAIN, with "
	     "SIGALRM arriving every 2 ms (stage A takes 250 ms to end)"},
	};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
		pipeline_fork_failure_is_clean(runs[i].nth, runs[i].a, runs[i].signals,
					       runs[i].what);
	filter_fork_failure_is_clean();
}

/* filter_through(cat, "abc") whose NTH call to fail_call fails with ENFILE: -1/ENFILE, nothing
   left open, no child, SIGPIPE as it was. Returns whether it was judged (the call was made). */
static bool filter_pipe_failure_is_clean(unsigned nth)
{
	char what[160], diag[4096], words[160];
	snprintf(what, sizeof what, "filter_through(cat, \"abc\") whose %s %s() failed with ENFILE",
		 nth == 1 ? "first" : "second", fail_call);
	filter_report *r;
	filter_fork_fail = nth;
	bool ok =
	    filter((filter_job){cat_argv, "abc", 3, 16, 0, {0}, false, 0}, &r, diag, sizeof diag);
	filter_fork_fail = 0;
	errno = r->err;
	require_implemented(ok && r->ret < 0, "filter_through");
	ck_assert_msg(ok, "%s %s%s", what,
		      filter_hung ? "did not return within 2 s." : "failed:", diag);
	if (!r->injected) { /* this code does not create its pipes with this call */
		unmap_report(r, 16);
		return false;
	}
	ck_assert_msg(r->ret == -1,
		      "%s, yet it returned %zd: it went on with a pipe it does not have "
		      "(uninitialised descriptors). Check the result of every pipe(); "
		      "if one fails, close what is open and return -1.",
		      what, r->ret);
	ck_assert_msg(r->err == ENFILE,
		      "%s. It returned -1, but errno was %s instead of ENFILE: return "
		      "with the errno of the call that failed (save it before you clean "
		      "up).",
		      what, errno_name(r->err));
	ck_assert_msg(r->fds_after == r->fds_before && r->zombie == 0,
		      "%s. It returned -1, but the caller had %d descriptors before and "
		      "%d after%s%s. Close every pipe end already open, start nothing.",
		      what, r->fds_before, r->fds_after, r->zombie ? ", and " : "",
		      r->zombie ? leftover_words(r->zombie, words, sizeof words) : "");
	ck_assert_msg(!r->sigpipe_changed && !r->mask_changed,
		      "%s. It returned -1, but left the caller's SIGPIPE changed: put "
		      "it back on every path.",
		      what);
	unmap_report(r, 16);
	return true;
}

/* run_pipeline(emit 10 | cat) (TINY is emit 10) whose fail_call fails with ENFILE: -1/ENFILE,
   nothing left open, no child. Returns whether it was judged (the call was made). */
static bool pipeline_pipe_failure_is_clean(char **tiny)
{
	char out[64], diag[4096], words[160];
	ssize_t n;
	pipeline_report rep;
	pipeline_fork_fail = 1;
	bool ok = pipeline(tiny, cat_argv, out, sizeof out, &n, &rep, diag, sizeof diag);
	pipeline_fork_fail = 0;
	errno = rep.err;
	require_implemented(ok && rep.rc < 0, "run_pipeline");
	ck_assert_msg(ok, "run_pipeline(emit 10 | cat) whose %s() failed did not finish.%s",
		      fail_call, diag);
	if (!rep.injected)
		return false;
	ck_assert_msg(rep.rc == -1 && rep.err == ENFILE,
		      "run_pipeline(emit 10 | cat) whose %s() failed with ENFILE returned %d "
		      "(errno %s). Without its pipe the pipeline cannot start: return -1 with "
		      "the errno pipe() set.",
		      fail_call, rep.rc, errno_name(rep.err));
	ck_assert_msg(rep.fds_after == rep.fds_before && rep.zombie == 0,
		      "run_pipeline(emit 10 | cat) whose %s() failed returned -1; the caller had "
		      "%d descriptors before and %d after%s%s.",
		      fail_call, rep.fds_before, rep.fds_after, rep.zombie ? ", and " : "",
		      rep.zombie ? leftover_words(rep.zombie, words, sizeof words) : "");
	return true;
}

/* When pipe() fails: -1 with its errno (ENFILE here, the system-wide table is full), nothing
   left open, no child. The student may call pipe() or pipe2(): each is tried in turn. */
GRADER_TEST(pipe_fails)
{
	static char *tiny[] = {"grader", "--probe", "emit", "10", NULL};
	set_exe(tiny);
	static const char *calls[] = {"pipe2", "pipe"};
	bool judged = false;
	fail_err = ENFILE;
	for (int c = 0; c < 2 && !judged; c++) {
		fail_call = calls[c];
		for (unsigned nth = 1; nth <= 2; nth++)
			judged |= filter_pipe_failure_is_clean(nth);
		judged |= pipeline_pipe_failure_is_clean(tiny);
	}
	fail_call = "fork";
	fail_err = EAGAIN;
}
