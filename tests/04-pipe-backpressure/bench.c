/* bench.c: Lab 04 benchmark: filter_through(cat) throughput as a ratio to a plain pipe copy. */
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

/*
 * Baseline: the same data path with no cleverness, as a shell would build `writer | cat | reader`:
 * a writer PROCESS -> pipe -> cat -> pipe -> this process reading. Both designs pay for the same
 * two pipe copies through the same `cat`, with the same pipe size (1 MiB) and 64 KiB calls; the
 * only difference is that filter_through does the writing and the reading in ONE process with
 * poll(), where the baseline gives each direction its own process. The ratio (baseline time /
 * filter time) therefore says what the single-process poll loop costs: 1.0 means nothing.
 */

enum { CALL = 64 * 1024, RUNS = 5 };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double baseline(const char *in, size_t n, char *out, int pipe_size)
{
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		die("pipe");
	fcntl(to[1], F_SETPIPE_SZ, pipe_size);
	fcntl(from[0], F_SETPIPE_SZ, pipe_size);
	double t0 = now();
	pid_t cat = fork();
	if (cat == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execlp("cat", "cat", (char *)NULL);
		_exit(127);
	}
	pid_t writer = fork();
	if (writer == 0) {
		close(from[0]);
		for (size_t done = 0; done < n;) {
			ssize_t w = write(to[1], in + done, n - done < CALL ? n - done : CALL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				_exit(1);
			done += (size_t)w;
		}
		_exit(0);
	}
	close(to[0]);
	close(to[1]);
	close(from[1]);
	size_t got = 0;
	for (;;) {
		ssize_t r = read(from[0], out + got, n - got < CALL ? n - got : CALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(from[0]);
	waitpid(writer, NULL, 0);
	waitpid(cat, NULL, 0);
	double t = now() - t0;
	if (got != n || memcmp(in, out, n) != 0) {
		fprintf(stderr, "baseline: data corrupted (%zu of %zu bytes)\n", got, n);
		exit(1);
	}
	return t;
}

static double filtered(const char *in, size_t n, char *out)
{
	static char *argv[] = {"cat", NULL};
	double t0 = now();
	ssize_t got = filter_through(argv, in, n, out, n);
	double t = now() - t0;
	if (got != (ssize_t)n || memcmp(in, out, n) != 0) {
		fprintf(stderr, "filter_through: got %zd of %zu bytes (%s)\n", got, n,
			got < 0 ? strerror(errno) : "data differs");
		exit(1);
	}
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	if (mib < 1)
		mib = 256;
	size_t n = mib << 20;
	int pipe_size = 1 << 20;
	char *in = malloc(n), *out = malloc(n);
	if (!in || !out)
		die("malloc");
	for (size_t i = 0; i < n; i++)
		in[i] = (char)(i * 131 + 7);
	memset(out, 0, n);
	filter_pipe_size = pipe_size;

	printf("Lab 04 benchmark: %zu MiB through `cat`, pipes of %d KiB, %d runs each (median)\n",
	       mib, pipe_size >> 10, RUNS);
	double tb[RUNS], tf[RUNS];
	for (int i = 0; i < RUNS; i++) { /* interleaved, so both see the same machine load */
		tb[i] = baseline(in, n, out, pipe_size);
		memset(out, 0, 4096);
		tf[i] = filtered(in, n, out);
		memset(out, 0, 4096);
	}
	qsort(tb, RUNS, sizeof tb[0], cmp);
	qsort(tf, RUNS, sizeof tf[0], cmp);
	double mb = tb[RUNS / 2], mf = tf[RUNS / 2];
	printf("  baseline  writer process | cat | reader: %7.3f s  %8.1f MiB/s\n", mb, mib / mb);
	printf("  filter_through(cat), one process + poll: %7.3f s  %8.1f MiB/s\n", mf, mib / mf);
	printf("  ratio (filter / baseline throughput): %.2f  (goal: >= 0.80)\n", mb / mf);
	free(in);
	free(out);
	return 0;
}
