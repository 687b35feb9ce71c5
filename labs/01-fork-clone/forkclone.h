/* forkclone.h: Lab 01 API: start programs with fork + exec, run functions with clone, reap children. */
#ifndef LAB01_FORKCLONE_H
#define LAB01_FORKCLONE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Runs the program PATH with arguments ARGV (NULL-terminated; argv[0] is the program's name)
 * in a new child process.
 * - The child's standard input is IN_FD and its standard output is OUT_FD; -1 keeps the
 *   caller's. (OUT_FD is never STDIN_FILENO.) The program must see no other extra descriptors: IN_FD and OUT_FD themselves are
 *   not left open in it. It keeps the caller's standard error (descriptor 2), also when OUT_FD
 *   is STDERR_FILENO (then the program's output goes to the caller's stderr).
 * - The caller's own descriptors are untouched: IN_FD and OUT_FD stay open in the caller, and
 *   closing them there is the caller's job (it may still need them).
 * - Output the caller had buffered in stdio appears exactly once, and before anything the
 *   program writes.
 * - If the program cannot be executed, the child exits with status 127 (as a shell does) and
 *   never returns into the caller's code.
 * Returns the child's pid (the caller reaps it), or -1 with errno set if no child was created.
 */
pid_t spawn_fork(const char *path, char *const argv[], int in_fd, int out_fd);

/*
 * Runs FN(ARG) in a child created with clone(), on the stack the caller provides: STACK is the
 * lowest address of a region of SIZE bytes. With SHARE_VM non-zero the child shares the
 * caller's memory (what threads do); with 0 it works on a copy (what fork does).
 * The child's exit status is FN's return value, and the caller can wait for it with an
 * ordinary waitpid(), just like a forked child, whether SHARE_VM is set or not: the caller
 * gets SIGCHLD when it ends.
 * Returns the child's pid, or -1 with errno set.
 */
pid_t spawn_clone(int (*fn)(void *), void *arg, void *stack, size_t size, int share_vm);

/*
 * Waits until the child PID has ended, stores its wait status in *STATUS (use WIFEXITED,
 * WEXITSTATUS, ...) and removes it from the process table. A signal arriving during the wait
 * does not end it early. Returns 0, or -1 with errno set (ECHILD: not our child).
 */
int reap(pid_t pid, int *status);

#endif
