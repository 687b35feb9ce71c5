/* jobqueue.c: Lab 07, your code: a job system on a POSIX message queue. Read README.md first. */
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

mqd_t jq_open(const char *name, long maxmsg, long msgsize, int flags)
{
	/* TODO 1: check the name yourself: exactly one '/', at the start, then at least one
	 *         character. Anything else: errno = EINVAL. Also maxmsg and msgsize >= 1. */

	/* TODO 2: the system's limits live in /proc/sys/fs/mqueue (msg_max, msgsize_max). The
	 *         header says which request is refused and which one is lowered. Why the
	 *         difference? */

	/* TODO 3: mq_open(name, O_RDWR | O_CREAT [| O_NONBLOCK], 0600, &attr) with a struct
	 *         mq_attr holding mq_maxmsg and mq_msgsize. */
	(void)name, (void)maxmsg, (void)msgsize, (void)flags;
	errno = ENOSYS;
	return (mqd_t)-1;
}

int jq_submit(mqd_t q, const void *job, size_t len, unsigned prio)
{
	/* TODO 4: an empty job is reserved for the stop message. Then mq_send(), with the
	 *         priority. What should happen when a signal interrupts a waiting send? */
	(void)q, (void)job, (void)len, (void)prio;
	errno = ENOSYS;
	return -1;
}

ssize_t jq_take(mqd_t q, void *buf, size_t cap, unsigned *prio, int timeout_ms)
{
	/* TODO 5: mq_receive() insists on a buffer at least as large as the QUEUE's mq_msgsize,
	 *         whatever the size of the message. Who knows that size? (man 3 mq_getattr) */

	/* TODO 6: timeout_ms < 0: mq_receive(). Otherwise mq_timedreceive(), whose deadline is a
	 *         point in time on CLOCK_REALTIME, not a duration (man 3 clock_gettime). */

	/* TODO 7: copy at most cap bytes into buf, return the job's full length. */
	(void)q, (void)buf, (void)cap, (void)prio, (void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

int jq_wait_job_or_fd(mqd_t q, int fd, int timeout_ms)
{
	/* TODO 8: on Linux an mqd_t is a file descriptor. poll() it together with fd (POLLIN)
	 *         and turn the revents into JQ_READY_JOB / JQ_READY_FD. A pipe whose writers are
	 *         all gone reports POLLHUP: that counts as "fd ready" too. */
	(void)q, (void)fd, (void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

int jq_start_workers(mqd_t q, int n, jq_handler fn, void *arg, pid_t pids[])
{
	/* TODO 9: fork n workers (what about stdio's buffers? see Lab 01). Each worker: take a
	 *         job, call fn, again, until it takes an empty message. Then it ends, without
	 *         ever returning from this function. How does a child end at once? */

	/* TODO 10: if a fork fails half-way, do not leave the workers already started behind. */
	(void)q, (void)n, (void)fn, (void)arg, (void)pids;
	errno = ENOSYS;
	return -1;
}

int jq_stop_workers(mqd_t q, int n)
{
	/* TODO 11: one empty message per worker. At which priority does it come out AFTER every
	 *          job that is already queued? */
	(void)q, (void)n;
	errno = ENOSYS;
	return -1;
}

int jq_join_workers(const pid_t pids[], int n)
{
	/* TODO 12: waitpid() each worker until it has ended (EINTR only means: try again) and
	 *          count those that did not exit with status 0. */
	(void)pids, (void)n;
	errno = ENOSYS;
	return -1;
}

int jq_destroy(mqd_t q, const char *name)
{
	/* TODO 13: closing a descriptor does not remove the queue. What does? */
	(void)q, (void)name;
	errno = ENOSYS;
	return -1;
}
