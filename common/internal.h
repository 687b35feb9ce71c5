/* internal.h: glue between the grading library's modules; tests never include it. */
#ifndef IPCLAB_INTERNAL_H
#define IPCLAB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* contain.c: the whole run. */
/* Isolates the run (PID namespace, fork limit); returns a description for the report.
   May fork: the original process then only waits and exits with the runner's status. */
const char *contain_start(void);
/* How many processes of the run, other than the runner, are still alive after a test (their
   names, up to CAP bytes, in NAMES): a daemon that escaped its caller. */
int contain_strays(char *names, size_t cap);
/* Kills every process of the run except the caller, and reaps them. */
void contain_sweep(void);
/* Whether the per-test IPC + mount namespaces may be tried. */
bool contain_may_unshare(void);
/* Whether the runner's "/" is private (false in a chroot): only then may tests mount anywhere. */
bool contain_root_private(void);
/* The run's directory in /tmp, made by contain_start and removed when the run ends. */
const char *contain_rundir(void);
/* How many times a test was stopped for reaching the run's process limit (a fork bomb); waits
   first while such a stop is under way. */
unsigned contain_limit_hits(void);
enum { CONTAIN_FORK_LIMIT = 256 };
/* In the test process, after its namespaces: drops to an unprivileged uid where that is the
   only fork limit (root without a pids cgroup). DIR and MQDIR are handed to that uid. */
void contain_enter_test(const char *dir, const char *mqdir);

/* sandbox.c: one test, inside its forked process. */
/* Enters the test's namespaces and directory; NOTE describes a fallback, if any. */
void sandbox_enter(const char *dir, const char *mqdir, char *note, size_t cap);
void ledger_begin(void);
/* Leaks after the body, as a message for the student, or NULL when clean. */
const char *ledger_end(void);
/* Run-level cleanup of what a test left on the host (fallback mode only). */
void sandbox_cleanup_host(int test_pid_hint);

/* Raw syscalls the runner uses where the wrapped libc symbols must not be involved. */
int raw_kill(int pid, int sig);

#endif
