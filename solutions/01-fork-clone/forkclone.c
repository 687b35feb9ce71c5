/* forkclone.c: Lab 01 reference solution: fork + exec, clone, and reaping done right. */
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

/* In the child: make FD the descriptor TARGET. dup2 leaves FD open: see spawn_fork. */
static int install(int fd, int target)
{
	if (fd < 0 || fd == target)
		return 0;
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* In the child, once both are installed: close IN_FD and OUT_FD, which may be one descriptor
   (a socket). 0, 1 and 2 are the program's own: never close those. */
static void close_originals(int in_fd, int out_fd)
{
	if (in_fd > STDERR_FILENO)
		close(in_fd);
	if (out_fd > STDERR_FILENO && out_fd != in_fd)
		close(out_fd);
}

pid_t spawn_fork(const char *path, char *const argv[], int in_fd, int out_fd)
{
	/* fork copies stdio's buffers too: flush them now or the child may write them again. */
	fflush(NULL);

	pid_t pid = fork();
	if (pid != 0)
		return pid; /* parent: the child's pid, or -1 with errno if fork failed */

	/* Child. Only async-signal-safe calls until exec: the parent might have had threads. */
	if (out_fd == STDIN_FILENO) /* installing IN_FD would overwrite it */
		out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
	if (install(in_fd, STDIN_FILENO) < 0 || install(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	close_originals(in_fd, out_fd);
	execv(path, argv);
	/* exec returned, so it failed. _exit, not exit: exit would run the parent's atexit
	   handlers and flush its stdio buffers from the child. */
	_exit(127);
}

pid_t spawn_clone(int (*fn)(void *), void *arg, void *stack, size_t size, int share_vm)
{
	/* The stack grows down: clone wants its highest address, aligned as the ABI requires. */
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;

	/* The low byte of the flags is the signal the parent gets when the child ends. SIGCHLD
	   makes the child an ordinary child that waitpid() sees. */
	int flags = SIGCHLD | (share_vm ? CLONE_VM : 0);
	fflush(NULL);
	return clone(fn, (void *)top, flags, arg);
}

int reap(pid_t pid, int *status)
{
	int st;
	pid_t got;
	do
		got = waitpid(pid, &st, 0); /* blocking: WNOHANG would return before the child ends */
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	if (status)
		*status = st;
	return 0;
}
