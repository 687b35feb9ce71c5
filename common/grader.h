/* grader.h: the API a lab's grader (tests/NN-slug/grader.c) is written against. */
#ifndef IPCLAB_GRADER_H
#define IPCLAB_GRADER_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "race.h"

/*
 * Tests. Each GRADER_TEST runs in its own forked process (Check's fork mode) inside a fresh
 * IPC and mount namespace, with its own temp dir as the working directory. Its title, points,
 * hint and timeout live in the lab's lab.conf under the same name. Fail with ck_assert_msg(),
 * saying what was observed and what misconception it points to.
 */
typedef void (*grader_fn)(void);
void grader_register(const char *name, grader_fn fn, const char *file, int line);
#define GRADER_TEST(name)                                                                  \
	static void name(void);                                                            \
	__attribute__((constructor)) static void grader_register_##name(void)              \
	{                                                                                  \
		grader_register(#name, name, __FILE__, __LINE__);                           \
	}                                                                                  \
	static void name(void)

/* Fails with a friendly message while a skeleton function is still a stub (-1 with ENOSYS). */
#define require_implemented(failed, fname)                                                 \
	ck_assert_msg(!((failed) && errno == ENOSYS),                                      \
		      "%s() is not implemented yet (it returns -1 with errno ENOSYS). Start "      \
		      "with the TODOs in its body.",                                       \
		      fname)

/*
 * Probes: small programs built into the grader binary, for tests that need something to exec.
 * `grader_exe() --probe NAME ARGS...` runs the probe and exits with its return value.
 */
typedef int (*grader_probe_fn)(int argc, char **argv);
void grader_register_probe(const char *name, grader_probe_fn fn);
#define GRADER_PROBE(name)                                                                 \
	static int grader_probe_##name(int argc, char **argv);                                     \
	__attribute__((constructor)) static void grader_register_probe_##name(void)        \
	{                                                                                  \
		grader_register_probe(#name, grader_probe_##name);                                 \
	}                                                                                  \
	static int grader_probe_##name(int argc, char **argv)
const char *grader_exe(void);

/* The sandbox of the running test. $IPCLAB_SANITIZE is non-empty when the lab was built with
   SANITIZE=... (ThreadSanitizer makes a process that saw a race exit with status 66). */
const char *sb_dir(void);     /* private temp dir: also the cwd and $TMPDIR */
bool sb_namespaced(void);     /* own IPC + mount namespace and private /dev/shm? */
/* A portable IPC name ("/ipclab-<pid>-STEM") that cannot collide with other runs. */
const char *sb_name(const char *stem, char *buf, size_t cap);

/*
 * Leak ledger. After a test body returns, everything created during the test must be gone:
 * descriptors, children (running or zombie), POSIX shm objects, message queues, SysV objects
 * and files in sb_dir(). The names given here are also checked when no namespace was available.
 */
void ledger_watch_shm(const char *name);
void ledger_watch_mq(const char *name);
/* Runs the checks now; returns 0 if clean, else -1 with a list of leaks in MSG. */
int ledger_check(char *msg, size_t cap);

/* Fault injection into the student's read/write/recv/send/readv/writev/sendmsg/recvmsg
   (linked with --wrap). */
typedef struct {
	size_t max_chunk;      /* hand out at most this many bytes per call (0: no limit) */
	unsigned eintr_every;  /* every Nth call fails with EINTR before doing anything */
	unsigned eagain_every; /* every Nth call fails with EAGAIN before doing anything */
} fault_plan;
void fault_arm(fault_plan plan);
void fault_disarm(void);
unsigned long fault_injected(void); /* how many calls were shortened or failed so far */
/* Resource faults (also linked with --wrap): the NTH call from now on (1 is the next) to CALL,
   one of "fork", "pipe", "pipe2", "socket" or "socketpair", fails with ERR; later calls work.
   The grader's own calls count too: arm it just before the student's call. */
void fault_fail_call(const char *call, unsigned nth, int err);
void fault_fail_clear(void);
unsigned long fault_failed_calls(void); /* how many calls were made to fail so far */
/* kill(-1, ...) from student code is always refused (EPERM) and counted here. */
unsigned long fault_kill_all_attempts(void);

/* Memory probes. */
void *probe_stack(size_t size);              /* SIZE bytes with guard pages on both sides */
void probe_stack_free(void *stack, size_t size);
int probe_map_twice(int fd, size_t size, void **a, void **b); /* one object, two addresses */
int probe_guard(void *addr, size_t size);   /* replace [addr, addr+size) with PROT_NONE */

/* Descriptor and limit probes. */
int probe_pipe_shrink(int fd);              /* smallest pipe buffer; returns the new capacity */
int probe_nofile(int limit);                /* lower RLIMIT_NOFILE for this process */
int probe_fds(pid_t pid, int *fds, int max); /* open descriptors of PID (0: self), sorted */
int probe_fd_count(void);		     /* how many descriptors this process has open */
/* Marks every descriptor above 2 close-on-exec: only what the call under test passes on can
   reach a program it starts. */
void probe_cloexec_all(void);
/* Plugs every hole below the highest open descriptor, then lowers RLIMIT_NOFILE so that only
   ROOM - 1 more descriptors can be opened (the next open() after them fails with EMFILE). */
void probe_squeeze_fds(int room);
const char *probe_fd_target(pid_t pid, int fd, char *buf, size_t cap); /* "pipe:[123]" */
double probe_cpu_seconds(pid_t pid);        /* user+system CPU time so far (0: self) */
/* Every descendant of ROOT (children, grandchildren, ...), breadth first; returns how many. */
int probe_descendants(pid_t root, pid_t *out, int max);
const char *probe_comm(pid_t pid, char *buf, size_t cap); /* its command name, or "?" */

/* Small conveniences every grader wants. */
double probe_now(void);            /* CLOCK_MONOTONIC, in seconds */
const char *errno_name(int err);   /* "EAGAIN"; "errno 0"; "an unknown error" if no name */

/* Processes. */
typedef struct {
	bool exited;   /* normal exit; see code */
	int code;
	int sig;       /* killed by this signal, or 0 */
	bool timed_out; /* still running at the deadline, then killed */
} child_end;
/* Runs FN(ARG) in a forked child, which exits 0 when FN returns; waits at most TIMEOUT s. */
child_end probe_in_child(void (*fn)(void *), void *arg, double timeout);
/* A wait status as a child_end (exited and its code, or the signal that killed it). */
child_end child_end_of(int status);
/* Every TIMEOUT below only bounds a hang. When a class is graded several students per core
   (IPCLAB_TIMEOUT_SCALE), a wait past TIMEOUT goes on, up to probe_bound(TIMEOUT), while some
   process of the test is still running or waiting for a CPU: slow work is not a hang, and a
   test whose processes are all blocked (the hang) ends at TIMEOUT as with one student alone.
   A wait whose length is part of what is checked ("still blocked after 0.3 s") must never be
   stretched: use probe_wait_window. */
double probe_bound(double seconds); /* SECONDS times IPCLAB_TIMEOUT_SCALE (1 to 10; else 1) */
/* Past BOUND s (WAITED so far): whether to wait on (see above). */
bool probe_keep_waiting(double waited, double bound);
/* waitpid with a deadline: 0 when reaped (status in *STATUS), -1 with errno (ETIMEDOUT). */
int probe_wait(pid_t pid, int *status, double timeout);
/* The same, over exactly SECONDS whatever the scale: for a window that is part of the check. */
int probe_wait_window(pid_t pid, int *status, double seconds);
/* Like probe_wait, but a child still running at the deadline is killed (SIGKILL) and reaped.
   Returns 0 if it ended by itself, -1 (ETIMEDOUT) if it had to be killed; *STATUS either way. */
int probe_finish(pid_t pid, int *status, double timeout);
/* "exited with status 3", "killed by SIGSEGV (invalid memory access)", ... */
const char *describe_status(int status, char *buf, size_t cap);
const char *describe_end(child_end e, char *buf, size_t cap);
/* Reads until EOF or CAP bytes; -1 with ETIMEDOUT if the deadline passes first. */
ssize_t probe_read_all(int fd, void *buf, size_t cap, double timeout);
/* A storm of SIGALRM every INTERVAL_US microseconds, caught by HANDLER without SA_RESTART, so
   that a blocking call in its path fails with EINTR; _stop ends it and ignores SIGALRM. */
void probe_signal_storm(void (*handler)(int), long interval_us);
void probe_signal_storm_stop(void);

/*
 * The child-process kit (child.c): run the student's call in a forked child that reports back.
 * A crash, a hang or an exit() in the call then costs one check, and the test still says what
 * happened. The child reports through memory it shares with the test, so what it wrote before
 * it crashed or was killed at the deadline is still there to explain the verdict.
 */
/* Zeroed memory shared with every child forked after this call; fails the test if none. */
void *child_shared(size_t size);
void child_shared_free(void *p, size_t size);
/* Runs FN(REPORT) in a forked child, which exits 0 when FN returns; waits at most TIMEOUT s,
   then kills it. REPORT (SIZE bytes, set up by the caller, e.g. with "not returned" markers)
   goes to the child and comes back with whatever FN had written, however it ended. */
child_end child_run(void (*fn)(void *report), void *report, size_t size, double timeout);
/* Forks a child that runs FN(ARG) and exits 0 when it returns, while the test goes on (to play
   the other side of the call); child_wait() then waits at most TIMEOUT s, killing it at the
   deadline (timed_out). */
pid_t child_start(void (*fn)(void *arg), void *arg);
/* fork() for a child written inline (pid 0: the child, which must end with _exit): flushes
   stdio first, and fails the test if fork fails. */
pid_t child_fork(void);
child_end child_wait(pid_t pid, double timeout);
/* PID's state letter from /proc: 'S' asleep in a blocking call, 'R' running, 'Z' ended but not
   reaped; 0 when it is gone. */
char child_state(pid_t pid);
/* child_guard() makes the test a subreaper, so every process the student's code started stays
   below it; child_sweep() kills and reaps all of them (after a hang, before the verdict). */
void child_guard(void);
void child_sweep(void);
/* Collects a child's output: reads FD until EOF, CAP bytes or TIMEOUT s (*TIMED_OUT), and
   keeps what arrived. */
ssize_t child_collect(int fd, void *buf, size_t cap, double timeout, bool *timed_out);
/* A staged child: it waits at a gate until the test lets it go on, and sends fixed-size
   reports back through a pipe, so the test can act between the stages of its work. */
typedef struct {
	pid_t pid;  /* 0 in the child */
	int gate;   /* the child waits on it; the test closes it (child_release); -1 once closed */
	int report; /* the child writes its reports to it; the test reads them */
} child_staged;
/* child_fork() with a gate and a report pipe (close-on-exec); each side keeps its own ends. */
pid_t child_stage(child_staged *s);
/* In the child: waits until the test calls child_release (or ends). */
void child_gate_wait(const child_staged *s);
void child_report(const child_staged *s, const void *r, size_t size); /* in the child */
void child_release(child_staged *s); /* in the test: lets the child past child_gate_wait */
/* In the test: one report of SIZE bytes; fewer (>= 0) if the child ended first, -1 (ETIMEDOUT)
   if it did not come within TIMEOUT s. */
ssize_t child_report_read(const child_staged *s, void *r, size_t size, double timeout);
/* In the test: releases, kills and reaps the child (at once), and closes the report pipe. */
void child_unstage(child_staged *s);

#endif
