/* forkclone.c: Lab 01, your code: fork + exec, clone, and reaping. Read README.md first. */
#define _GNU_SOURCE
#include "forkclone.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t spawn_fork(const char *path, char *const argv[], int in_fd, int out_fd)
{
	/* TODO 1: fork() copies everything, including text still buffered by printf.
	 *         What must happen to those buffers before the copy is made? */

	/* TODO 2: fork(). The parent just returns the pid (or -1 if fork failed). */

	/* TODO 3: in the child, put in_fd on standard input and out_fd on standard output
	 *         (dup2), unless they are -1. dup2 copies a descriptor: the original stays open. */

	/* TODO 4: execv(path, argv). If it returns, it failed: end the child with status 127,
	 *         without flushing the parent's stdio buffers a second time (man 2 _exit). */
	(void)path, (void)argv, (void)in_fd, (void)out_fd;
	errno = ENOSYS;
	return -1;
}

pid_t spawn_clone(int (*fn)(void *), void *arg, void *stack, size_t size, int share_vm)
{
	/* TODO 5: call clone(fn, <stack pointer>, flags, arg). Which end of the region does a
	 *         stack start from on x86-64? (man 2 clone, "stack")
	 * TODO 6: flags: CLONE_VM only when share_vm is non-zero, and the signal the parent
	 *         should get when the child ends, so that plain waitpid() finds it. */
	(void)fn, (void)arg, (void)stack, (void)size, (void)share_vm;
	errno = ENOSYS;
	return -1;
}

int reap(pid_t pid, int *status)
{
	/* TODO 7: waitpid() for this child, blocking until it ends. A signal handler running
	 *         meanwhile makes waitpid fail with EINTR: that is not a reason to give up. */
	(void)pid, (void)status;
	errno = ENOSYS;
	return -1;
}
