/* jobqueue.h: Lab 07 API: a small job system on a POSIX message queue, with a pool of workers. */
#ifndef LAB07_JOBQUEUE_H
#define LAB07_JOBQUEUE_H

#include <mqueue.h>
#include <stddef.h>
#include <sys/types.h>

/* Flags for jq_open(). */
enum { JQ_NONBLOCK = 1 }; /* full queue / empty queue: fail with EAGAIN instead of waiting */

/* What jq_wait_job_or_fd() reports (a bit mask). */
enum { JQ_READY_JOB = 1, JQ_READY_FD = 2 };

/*
 * Opens the message queue NAME for reading and writing, creating it (mode 0600) if it does not
 * exist yet, with room for MAXMSG messages of at most MSGSIZE bytes each.
 * - NAME must be a portable name: exactly one leading '/', then at least one character, none of
 *   them '/' ("/jobs"). Anything else ("jobs", "//jobs", "/a/b", "/") fails with EINVAL and
 *   creates nothing. The name is not "fixed up".
 * - MAXMSG and MSGSIZE must be at least 1, else EINVAL.
 * - MSGSIZE above the system's limit (/proc/sys/fs/mqueue/msgsize_max) fails with EINVAL: a job
 *   that big could never be sent, so the caller must know.
 * - MAXMSG above the system's limit (/proc/sys/fs/mqueue/msg_max) is LOWERED to that limit: the
 *   capacity only decides how soon submitters feel backpressure, so a smaller queue still works.
 *   (Asking the kernel for more fails with EINVAL, even as root, without CAP_SYS_RESOURCE.)
 * - If the queue already exists it is opened as it is: its attributes are whatever its creator
 *   chose. Never assume them; ask mq_getattr().
 * - FLAGS: 0, or JQ_NONBLOCK: jq_submit() on a full queue and jq_take() on an empty one then fail
 *   at once with EAGAIN instead of waiting (O_NONBLOCK on the descriptor).
 * Returns the queue descriptor, or (mqd_t)-1 with errno set.
 */
mqd_t jq_open(const char *name, long maxmsg, long msgsize, int flags);

/*
 * Submits the job JOB (LEN bytes, 1 <= LEN <= the queue's mq_msgsize) with priority PRIO
 * (0 = lowest; at most 31 is portable). An empty job (LEN 0) is reserved for the stop message:
 * EINVAL. When the queue is full, waits for room (JQ_NONBLOCK: fails with EAGAIN). A signal
 * that interrupts the wait (a handler installed without SA_RESTART) is not a reason to give up:
 * it goes on waiting. Returns 0, or -1 with errno set.
 */
int jq_submit(mqd_t q, const void *job, size_t len, unsigned prio);

/*
 * Takes the next job: the oldest of those with the highest priority. Works whatever the queue's
 * mq_msgsize is, even when it is larger than CAP: copies at most CAP bytes of the job into BUF
 * and returns the job's full length (larger than CAP means it was cut short). Stores its priority
 * in *PRIO unless PRIO is NULL. A stop message (see jq_stop_workers) has length 0.
 * - TIMEOUT_MS < 0: waits as long as it takes for a job (JQ_NONBLOCK: EAGAIN at once when empty).
 * - TIMEOUT_MS >= 0: waits at most that many milliseconds, then fails with ETIMEDOUT
 *   (mq_timedreceive; its deadline is an absolute CLOCK_REALTIME time). TIMEOUT_MS 0 on an
 *   empty queue fails at once with ETIMEDOUT.
 * A signal that interrupts the wait is not a reason to give up: it goes on waiting, and a timed
 * take still gives up at the deadline it started with (signals do not extend it).
 * Whatever memory a take allocates is freed before it returns.
 * Returns the length, or -1 with errno set.
 */
ssize_t jq_take(mqd_t q, void *buf, size_t cap, unsigned *prio, int timeout_ms);

/*
 * Waits until a job can be taken from Q or FD is readable (or has hung up), whichever comes
 * first, or until TIMEOUT_MS ms have passed (< 0: no limit). Takes nothing and reads nothing.
 * Linux-specific: on Linux an mqd_t is a file descriptor, so poll() can watch it (a SysV queue
 * cannot be watched this way). Returns JQ_READY_JOB | JQ_READY_FD (either or both), 0 on
 * timeout, or -1 with errno set.
 */
int jq_wait_job_or_fd(mqd_t q, int fd, int timeout_ms);

/* What a worker does with one job. Runs in the worker process. */
typedef void (*jq_handler)(const void *job, size_t len, unsigned prio, void *arg);

/*
 * Starts N worker processes (N >= 1) and stores their pids in PIDS[0..N-1]. Each worker takes
 * jobs from Q (a blocking descriptor) and calls FN(job, len, prio, ARG) for each, until it takes
 * a stop message; then it ends with exit status 0. It never returns into the caller's code.
 * stdio: what the caller had printed but not yet flushed is written once (not once more by
 * every worker), and what FN prints with stdio in a worker is written before that worker ends.
 * Every job is handed to FN exactly once, in exactly one worker, with its length and priority.
 * If a fork fails, the workers already started are killed and collected (they would wait
 * forever for a stop message nobody sends), and it fails with fork's errno.
 * Returns 0, or -1 with errno set (then no worker is left running, and no zombie either).
 */
int jq_start_workers(mqd_t q, int n, jq_handler fn, void *arg, pid_t pids[]);

/*
 * Asks N workers to stop: sends N stop messages (empty messages), one per worker, at priority 0,
 * the lowest, so that every job already in the queue is taken before them. Waits for room if the
 * queue is full, even when signals interrupt that wait. Returns 0, or -1 with errno set.
 */
int jq_stop_workers(mqd_t q, int n);

/*
 * Waits until each of the N workers in PIDS has ended and collects it (no zombies are left),
 * even if signals interrupt the wait. Returns the number of workers that did not exit with
 * status 0 (a worker killed by a signal did not: it counts too; 0 when all ended cleanly), or -1
 * with errno set (ECHILD: a pid that is not a child of the caller).
 */
int jq_join_workers(const pid_t pids[], int n);

/*
 * Closes Q and removes the queue NAME, so that it is gone for good: a later mq_open(NAME) without
 * O_CREAT fails with ENOENT. (Like a file, a removed queue lives on while descriptors to it are
 * open.) Returns 0, or -1 with errno set (both steps are tried).
 */
int jq_destroy(mqd_t q, const char *name);

#endif
