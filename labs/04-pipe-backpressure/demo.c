/* demo.c: Lab 04 demo: see a pipe's capacity, backpressure stopping a writer, EOF, and a filter. */
#define _GNU_SOURCE
#include "pipes_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double t0;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9 - t0;
}

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in pipes_lab.c)\n", fn);
	return 1;
}

/* Part 1: how much does a pipe hold? */
static void capacities(void)
{
	printf("1. Capacity, measured with non-blocking writes until EAGAIN (pipe_capacity):\n");
	static const int asks[] = {0, 1, 8192, 100000, 1 << 20};
	for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
		int reported = -1;
		long got = pipe_capacity(asks[i], &reported);
		if (got < 0) {
			if (!not_done("pipe_capacity"))
				printf("   F_SETPIPE_SZ %-8d failed: %s\n", asks[i], strerror(errno));
			if (errno == ENOSYS)
				return;
			continue;
		}
		printf("   F_SETPIPE_SZ %-8d F_GETPIPE_SZ says %-8d measured %ld bytes\n", asks[i],
		       reported, got);
	}
	printf("   (0 = the default; the kernel rounds up to a power of two pages; above\n"
	       "    /proc/sys/fs/pipe-max-size only CAP_SYS_RESOURCE may go)\n\n");
}

/* Part 2: a writer that runs into a full pipe just stops, until the reader drains it. */
static void backpressure(void)
{
	printf("2. Backpressure: a writer child writes 1 KiB at a time into a 4096-byte pipe.\n"
	       "   The reader (this process) waits 1 s, then drains 1 KiB every 0.3 s.\n");
	int p[2];
	if (pipe(p) < 0)
		return;
	fcntl(p[1], F_SETPIPE_SZ, 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char kib[1024] = {0};
		for (int total = 1024; total <= 8192; total += 1024) {
			if (write(p[1], kib, sizeof kib) != (ssize_t)sizeof kib)
				_exit(1); /* blocks here while the pipe is full */
			printf("   %5.2f s  writer: %5d bytes written so far\n", now(), total);
			fflush(stdout);
		}
		_exit(0);
	}
	close(p[1]);
	sleep(1);
	char buf[1024];
	ssize_t r;
	while (usleep(300000), (r = read(p[0], buf, sizeof buf)) > 0)
		printf("   %5.2f s  reader: took %zd bytes\n", now(), r);
	printf("   %5.2f s  reader: read() returned 0: end of file, the writer closed its end\n", now());
	printf("   (the writer sat blocked in write() at 4096 bytes; the kernel woke it only once a\n"
	       "    whole 4 KiB page of the pipe was free again)\n\n");
	close(p[0]);
	waitpid(pid, NULL, 0);
}

/* Part 3: a pipeline and a filter. */
static void pipeline_and_filter(void)
{
	printf("3. run_pipeline: seq 1 100000 | wc -l  (output below, then both statuses)\n");
	fflush(stdout);
	char *a[] = {"seq", "1", "100000", NULL}, *b[] = {"wc", "-l", NULL};
	int status[2];
	if (run_pipeline(a, b, -1, -1, status) < 0) {
		if (!not_done("run_pipeline"))
			perror("run_pipeline");
	} else {
		printf("   statuses: seq %d, wc %d\n", WEXITSTATUS(status[0]), WEXITSTATUS(status[1]));
	}

	printf("\n4. filter_through: 1 MiB through `cat` with 4096-byte pipes, then through `head -c1`\n");
	enum { N = 1 << 20 };
	char *in = malloc(N), *out = malloc(N);
	if (!in || !out)
		return;
	memset(in, 'x', N);
	filter_pipe_size = 4096;
	char *cat[] = {"cat", NULL}, *head[] = {"head", "-c1", NULL};
	double t = now();
	ssize_t got = filter_through(cat, in, N, out, N);
	if (got < 0) {
		if (!not_done("filter_through"))
			perror("filter_through");
	} else {
		printf("   cat gave back %zd bytes in %.3f s (no deadlock)\n", got, now() - t);
		got = filter_through(head, in, N, out, N);
		printf("   head -c1 gave back %zd byte(s); we are still alive, so SIGPIPE was handled\n",
		       got);
	}
	free(in);
	free(out);
}

int main(void)
{
	t0 = now();
	setvbuf(stdout, NULL, _IOLBF, 0);
	capacities();
	backpressure();
	pipeline_and_filter();
	return 0;
}
