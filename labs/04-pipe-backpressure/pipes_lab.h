/* pipes_lab.h: Lab 04 API: pipe capacity, robust read/write loops, a pipeline and a filter. */
#ifndef LAB04_PIPES_LAB_H
#define LAB04_PIPES_LAB_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Rules for every function of this lab:
 * - Signals. The caller may have signal handlers installed without SA_RESTART, so any blocking
 *   call (read, write, poll, waitpid, ...) can fail with EINTR: that is never an error, retry
 *   the call.
 * - Descriptors. When a function returns, on success and on failure, the caller has exactly
 *   the descriptors it had before.
 */

/*
 * Measures a pipe's capacity by experiment. Creates a new pipe; if SIZE > 0, asks the kernel
 * to resize it with fcntl(F_SETPIPE_SZ, SIZE) (the kernel rounds up: 1 gives 4096); SIZE 0
 * keeps the default. If REPORTED is not NULL, stores what fcntl(F_GETPIPE_SZ) then says.
 * Then fills the pipe with NON-BLOCKING writes (nobody reads it) until the kernel answers
 * EAGAIN, and returns the number of bytes that fit. A write interrupted by a signal (EINTR)
 * does not mean "full": retry it; nor does a short write. Both ends are closed before returning.
 * Any chunk size is fine. The kernel stores pipe data in 4096-byte pages, and a write whose size
 * is not a multiple of 4096 may leave part of a page unused, so such chunks measure a little
 * less (10000-byte writes fit 64096 bytes into a 64 KiB pipe). The grader also measures with
 * every write() cut to 1 byte, which fills every page: then the count must be exact.
 * Returns the capacity in bytes, or -1 with errno set (e.g. F_SETPIPE_SZ refused).
 */
long pipe_capacity(int size, int *reported);

/*
 * Writes all N bytes of BUF to FD, however the kernel hands out progress:
 * - a short write (fewer bytes than asked) is continued from where it stopped;
 * - EINTR (a signal arrived first) is retried;
 * - EAGAIN / EWOULDBLOCK (FD is non-blocking and full) waits with poll() for POLLOUT, then
 *   retries, without spinning on the CPU.
 * Returns N, or -1 with errno set on any other error (EPIPE: nobody reads the pipe any more).
 */
ssize_t write_all(int fd, const void *buf, size_t n);

/*
 * Reads from FD until N bytes have arrived or the writer side reports end of file.
 * Same rules as write_all: short reads continue, EINTR is retried, EAGAIN waits with poll()
 * for POLLIN. Returns the number of bytes read (less than N only at end of file), or -1 with
 * errno set.
 */
ssize_t read_full(int fd, void *buf, size_t n);

/*
 * Runs the pipeline "A | B", as a shell does: two children, A's standard output connected to
 * B's standard input by a new pipe. A's standard input is IN_FD and B's standard output is
 * OUT_FD (-1 keeps the caller's). Either may be any open descriptor, 0 and 1 included: OUT_FD
 * is 0 when the caller's stdin was closed and an output opened in its place. ARGV arrays are
 * NULL-terminated; programs are looked up in PATH (execvp). A program that cannot be run makes
 * its child exit with status 127.
 * - Neither program sees any end of the new pipe except its own stdin/stdout: B must get end
 *   of file when A exits. The caller's process keeps no end either.
 * - Waits for BOTH children and stores their wait statuses in STATUS[0] (A) and STATUS[1]
 *   (B). No zombie is left behind.
 * Returns 0, or -1 if the pipeline could not be started because pipe() or a fork() failed,
 * with the errno that call set (EMFILE: no descriptor left for the pipe; EAGAIN: no process
 * left, as at RLIMIT_NPROC). Then STATUS is unspecified, the caller has exactly the
 * descriptors it had, and no child is left running or unreaped: if one stage was already
 * started when the other's fork() failed, it is either killed or allowed to finish (once the
 * pipe is closed nobody reads its output, so it ends at its next write, by EPIPE/SIGPIPE, if
 * not before), and it is reaped before run_pipeline returns. Errno is still fork's after that
 * clean-up.
 */
int run_pipeline(char *const a[], char *const b[], int in_fd, int out_fd, int status[2]);

/*
 * Size for the two pipes filter_through creates: if > 0, it applies it to both with
 * fcntl(F_SETPIPE_SZ) before the command starts; 0 (the default) keeps the kernel's default.
 * The grader sets it to 4096 to make deadlocks show up early; the benchmark uses 1 MiB.
 */
extern int filter_pipe_size;

/*
 * Runs ARGV (NULL-terminated, looked up in PATH) as a filter, like $(... ) in a shell with
 * input: its standard input is a pipe that receives the N bytes at IN, then end of file (at
 * once if N is 0: a command that waits for end of file must not wait forever); its
 * standard output is a pipe whose bytes are stored in OUT, at most CAP of them (the rest is
 * read and thrown away, so the command never blocks on a full pipe). Its stderr is the
 * caller's.
 * - Feeds the input and collects the output AT THE SAME TIME (poll, a thread or a process):
 *   a command that writes before it has read everything must not deadlock.
 * - The command may stop reading early (head -c1): the rest of the input is dropped and that
 *   is not an error. The caller is never killed by SIGPIPE, and its SIGPIPE disposition and
 *   signal mask are the same after the call as before.
 * - The command starts with exactly descriptors 0, 1 and 2: no end of either pipe is open in
 *   it but its stdin and stdout. (A descriptor the caller itself left open without
 *   close-on-exec is the caller's to pass on, as with a shell's $(...): closing it in the child
 *   is allowed, not required.) It is reaped before returning; no descriptor is left open. Its
 *   exit status is not reported (like $(...)).
 * - A command that cannot be run (execvp fails) makes its child exit with status 127, as in
 *   run_pipeline: it prints nothing, so filter_through returns 0. Reporting it as -1 with errno
 *   set instead (as posix_spawnp can) is also accepted. Either way, the input is dropped, the
 *   child is reaped and SIGPIPE is as before.
 * Returns the number of bytes stored in OUT, or -1 if the command could not be started
 * because a pipe() or the fork() failed, with the errno that call set (EMFILE: no descriptor
 * left for a pipe; EAGAIN: no process left). Then nothing is left behind: the caller has
 * exactly the descriptors it had, no child exists, and SIGPIPE is as before.
 */
ssize_t filter_through(char *const argv[], const void *in, size_t n, void *out, size_t cap);

#endif
