/* bench.c: Lab 06 benchmark: 64 KiB frames (send_frame/recv_frame) vs raw write/read over a UNIX stream socket. */
#define _GNU_SOURCE
#include "socklab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FRAME = 64 * 1024, COUNT = 8192, RUNS = 5 }; /* 512 MiB per run */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
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

static int read_all(int fd, char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r, n -= (size_t)r;
	}
	return 0;
}

/* One run: a child sends COUNT messages of FRAME bytes, the parent receives them. GB/s. */
static double run(int framed)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	static char buf[FRAME + 64];
	memset(buf, 'x', sizeof buf);
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[1]);
		for (int i = 0; i < COUNT; i++)
			if (framed ? send_frame(sv[0], buf, FRAME) != FRAME : write_all(sv[0], buf, FRAME) < 0)
				_exit(1);
		_exit(0);
	}
	close(sv[0]);
	int ok = 1;
	for (int i = 0; i < COUNT && ok; i++)
		ok = framed ? recv_frame(sv[1], buf, sizeof buf) == FRAME : read_all(sv[1], buf, FRAME) == 0;
	double t = now() - t0;
	close(sv[1]);
	int status;
	waitpid(pid, &status, 0);
	if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (double)FRAME * COUNT / t / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	double raw[RUNS], fr[RUNS];
	for (int i = 0; i < RUNS; i++) { /* interleaved, so both see the same machine load */
		raw[i] = run(0);
		fr[i] = run(1);
		if (raw[i] < 0 || fr[i] < 0) {
			fprintf(stderr, "bench: a run failed (is send_frame/recv_frame implemented?)\n");
			return 1;
		}
	}
	qsort(raw, RUNS, sizeof *raw, cmp);
	qsort(fr, RUNS, sizeof *fr, cmp);
	double r = raw[RUNS / 2], f = fr[RUNS / 2];
	printf("64 KiB messages over a UNIX stream socket, %d per run, median of %d runs:\n", COUNT, RUNS);
	printf("  raw write/read:          %6.2f GB/s\n", r);
	printf("  send_frame/recv_frame:   %6.2f GB/s\n", f);
	printf("  ratio framed/raw:        %6.2f  (goal >= 0.80)\n", f / r);
	return 0;
}
