/* pipes_lab.c: Lab 04, your code: pipe capacity, robust I/O loops, a pipeline, a filter. Read README.md first. */
#define _GNU_SOURCE
#include "pipes_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The size filter_through gives its pipes (0: the kernel's default). Keep this definition. */
int filter_pipe_size = 0;

long pipe_capacity(int size, int *reported)
{
	/* TODO 1: create a pipe whose ends do not block (man 2 pipe2: O_NONBLOCK), and that
	 *         exec would not hand on (O_CLOEXEC).
	 * TODO 2: if size > 0, resize it with fcntl(F_SETPIPE_SZ); store what F_GETPIPE_SZ says
	 *         in *reported (if not NULL).
	 * TODO 3: nobody reads this pipe. Write big chunks until the kernel refuses. Which errno
	 *         means "full", and which one only means "interrupted, try again"? Add up the
	 *         bytes each write() reports, not the number of calls.
	 * TODO 4: close both ends, keeping errno intact on failure. */
	(void)size, (void)reported;
	errno = ENOSYS;
	return -1;
}

ssize_t write_all(int fd, const void *buf, size_t n)
{
	/* TODO 5: loop until all n bytes are written. write() may take fewer than you offer.
	 *         Two errors are not failures: EINTR (just retry) and EAGAIN (the descriptor is
	 *         non-blocking and full: sleep in poll() until it is writable, then retry). */
	(void)fd, (void)buf, (void)n;
	errno = ENOSYS;
	return -1;
}

ssize_t read_full(int fd, void *buf, size_t n)
{
	/* TODO 6: the mirror image of write_all. What does read() returning 0 mean, and what
	 *         must you return then? */
	(void)fd, (void)buf, (void)n;
	errno = ENOSYS;
	return -1;
}

int run_pipeline(char *const a[], char *const b[], int in_fd, int out_fd, int status[2])
{
	/* TODO 7: one pipe between A and B. fork A: its stdout becomes the pipe's write end (and
	 *         its stdin in_fd). fork B: its stdin becomes the read end (stdout out_fd).
	 *         Run the programs with execvp; if exec fails, _exit(127).
	 * TODO 8: B only sees end of file when EVERY copy of the write end is closed: in A after
	 *         exit, but also in B itself and in this process. List who holds which end after
	 *         the two forks, and close every end nobody uses (or let O_CLOEXEC do it at exec).
	 * TODO 9: wait for both children (no zombies) and store their statuses.
	 *         If pipe() or a fork() fails: close the pipe, make a stage already started end
	 *         (close the pipe, or kill it) and reap it, then return -1 with that call's errno. */
	(void)a, (void)b, (void)in_fd, (void)out_fd, (void)status;
	errno = ENOSYS;
	return -1;
}

ssize_t filter_through(char *const argv[], const void *in, size_t n, void *out, size_t cap)
{
	/* TODO 10: how many pipes do you need for data going to the command AND coming back?
	 *          Resize them if filter_pipe_size > 0.
	 * TODO 11: fork; in the child connect stdin and stdout, leave no other pipe end open,
	 *          execvp, _exit(127). In the parent, close the ends the child uses. If fork
	 *          fails, close all four ends and return -1 with fork's errno.
	 * TODO 12: a pipe holds a limited amount. If you write all the input before reading any
	 *          output, what happens when the command's output pipe fills up? Find a way to
	 *          do both at once (man 2 poll with non-blocking ends; or a thread; or a process).
	 * TODO 13: the command may exit before reading all its input (head -c1). Writing then
	 *          raises SIGPIPE, whose default action kills you. Make it an EPIPE error instead
	 *          (only in this process, only during the call: put the old setting back), and
	 *          decide what EPIPE means here.
	 * TODO 14: when the input is all sent, close that pipe (the command's EOF). Read output
	 *          until EOF, keeping at most cap bytes (read and drop the rest). Close everything,
	 *          waitpid the command, return the byte count. */
	(void)argv, (void)in, (void)n, (void)out, (void)cap;
	errno = ENOSYS;
	return -1;
}
