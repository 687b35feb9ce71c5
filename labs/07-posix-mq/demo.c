/* demo.c: Lab 07 demo: see priorities, a full queue pushing back, poll on a queue, and a worker pool. */
#define _GNU_SOURCE
#include "jobqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in jobqueue.c)\n", fn);
	return 1;
}

static void report(const char *fn)
{
	if (!not_done(fn))
		printf("   %s() failed: %s\n", fn, strerror(errno));
}

static void show_limit(const char *file, const char *meaning)
{
	char path[128], buf[64] = "?";
	snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", file);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof buf, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	printf("   %-12s = %-6s %s\n", file, buf, meaning);
}

/* Part 5's handler: runs in a worker process. */
static void print_job(const void *job, size_t len, unsigned prio, void *arg)
{
	(void)arg;
	printf("   worker %d: job \"%.*s\" (priority %u)\n", (int)getpid(), (int)len, (const char *)job,
	       prio);
	fflush(stdout);
	usleep(20 * 1000); /* a little work, so the jobs spread over the workers */
}

int main(void)
{
	char name[64];
	snprintf(name, sizeof name, "/ipclab-demo07-%d", (int)getpid());

	printf("1. This system's limits (/proc/sys/fs/mqueue); more fails with EINVAL, even as root:\n");
	show_limit("msg_max", "messages per queue at most");
	show_limit("msgsize_max", "bytes per message at most");
	show_limit("queues_max", "queues in the system at most");
	mqd_t q = jq_open(name, 1000, 64, JQ_NONBLOCK);
	if (q == (mqd_t)-1) {
		report("jq_open");
		return 0;
	}
	struct mq_attr a;
	mq_getattr(q, &a);
	printf("   jq_open(name, 1000, 64, JQ_NONBLOCK) made a queue of %ld messages of %ld bytes\n",
	       a.mq_maxmsg, a.mq_msgsize);
	mqd_t big = jq_open("/ipclab-demo07-too-big", 4, 1 << 20, 0);
	printf("   jq_open(name, 4, 1 MiB, 0): %s\n",
	       big == (mqd_t)-1 ? strerror(errno) : "succeeded (this process may exceed the limit)");
	if (big != (mqd_t)-1)
		jq_destroy(big, "/ipclab-demo07-too-big");

	printf("\n2. Jobs submitted with mixed priorities come out highest first, FIFO within one:\n");
	const char *jobs[] = {"backup", "email", "ALARM", "report", "log-rotate", "page-oncall"};
	unsigned prios[] = {1, 2, 9, 2, 0, 9};
	printf("   submitted:");
	for (int i = 0; i < 6; i++) {
		if (jq_submit(q, jobs[i], strlen(jobs[i]), prios[i]) < 0) {
			printf("\n");
			report("jq_submit");
			goto out;
		}
		printf(" %s(%u)", jobs[i], prios[i]);
	}
	printf("\n   taken:    ");
	char buf[64];
	unsigned prio;
	ssize_t n;
	while ((n = jq_take(q, buf, sizeof buf, &prio, -1)) >= 0)
		printf(" %.*s(%u)", (int)n, buf, prio);
	printf("\n   then jq_take() on the empty queue: %s\n", strerror(errno));
	if (errno == ENOSYS)
		not_done("jq_take");

	printf("\n3. A queue is finite: a JQ_NONBLOCK submit to a full queue fails (backpressure):\n");
	int accepted = 0;
	while (jq_submit(q, "x", 1, 1) == 0)
		accepted++;
	printf("   %d jobs accepted, then: %s\n", accepted, strerror(errno));
	printf("   (without JQ_NONBLOCK the submitter would wait there until a worker takes a job)\n");
	while (jq_take(q, buf, sizeof buf, NULL, -1) >= 0)
		;

	printf("\n4. poll() on the queue and a pipe together (Linux: an mqd_t is a descriptor):\n");
	int p[2];
	if (pipe(p) == 0) {
		int r = jq_wait_job_or_fd(q, p[0], 200);
		if (r < 0) {
			report("jq_wait_job_or_fd");
		} else {
			printf("   nothing anywhere, 200 ms:  %d (timeout)\n", r);
			ssize_t ignored = write(p[1], "!", 1);
			(void)ignored;
			printf("   a byte in the pipe:       %d (JQ_READY_FD)\n", jq_wait_job_or_fd(q, p[0], 1000));
			ignored = read(p[0], buf, 1);
			jq_submit(q, "wake", 4, 1);
			printf("   a job in the queue:       %d (JQ_READY_JOB)\n", jq_wait_job_or_fd(q, p[0], 1000));
			jq_take(q, buf, sizeof buf, NULL, -1);
		}
		close(p[0]);
		close(p[1]);
	}

	printf("\n5. Three workers drain the queue; one stop message each, at priority 0:\n");
	/* Workers wait for jobs: they need a blocking descriptor to the same queue. */
	mqd_t wq = jq_open(name, 10, 64, 0);
	pid_t pids[3];
	if (wq == (mqd_t)-1 || jq_start_workers(wq, 3, print_job, NULL, pids) < 0) {
		report("jq_start_workers");
	} else {
		for (int i = 0; i < 9; i++) {
			char job[16];
			snprintf(job, sizeof job, "job-%d", i);
			jq_submit(wq, job, strlen(job), (unsigned)(i % 3));
		}
		if (jq_stop_workers(wq, 3) < 0)
			report("jq_stop_workers");
		int failed = jq_join_workers(pids, 3);
		if (failed < 0)
			report("jq_join_workers");
		else
			printf("   all workers collected, %d failed\n", failed);
	}
	if (wq != (mqd_t)-1)
		mq_close(wq);

out:
	printf("\n6. jq_destroy(): ");
	if (jq_destroy(q, name) < 0) {
		printf("\n");
		report("jq_destroy");
		mq_close(q);
		mq_unlink(name);
	} else {
		mqd_t again = mq_open(name, O_RDONLY);
		printf("mq_open(name) afterwards: %s\n", again == (mqd_t)-1 ? strerror(errno) : "it still exists!");
		if (again != (mqd_t)-1) {
			mq_close(again);
			mq_unlink(name);
		}
	}
	return 0;
}
