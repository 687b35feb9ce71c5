/* pipes_lab.c: Lab 04 reference solution: capacity, write_all/read_full, a pipeline, a filter. */
#define _GNU_SOURCE
#include "pipes_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHUNK = 64 * 1024 }; /* big enough that a 64 KiB pipe moves in one call */

int filter_pipe_size = 0;

long pipe_capacity(int size, int *reported)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) /* non-blocking: a full pipe says EAGAIN */
		return -1;
	long total = -1;
	if (size > 0 && fcntl(p[1], F_SETPIPE_SZ, size) < 0)
		goto out;
	int got = fcntl(p[1], F_GETPIPE_SZ);
	if (reported)
		*reported = got;

	/* A write larger than PIPE_BUF may be partial: it fills whatever room is left. */
	static const char zeros[CHUNK];
	total = 0;
	for (;;) {
		ssize_t w = write(p[1], zeros, sizeof zeros);
		if (w > 0)
			total += w;
		else if (w < 0 && errno == EINTR)
			continue; /* interrupted before anything happened: not "full" */
		else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* full: this is the answer */
		else {
			total = -1;
			break;
		}
	}
out:;
	int saved = errno;
	close(p[0]);
	close(p[1]);
	errno = saved;
	return total;
}

/* Waits until FD is ready for EVENTS. EAGAIN only says "not now"; poll sleeps until "now". */
static int wait_ready(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r;
	do
		r = poll(&pfd, 1, -1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

ssize_t write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w > 0) {
			done += (size_t)w; /* a short write is progress, not the end */
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_ready(fd, POLLOUT) < 0)
				return -1;
		} else {
			return -1; /* EPIPE and friends: the caller decides what that means */
		}
	}
	return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);
		if (r > 0) {
			done += (size_t)r;
		} else if (r == 0) {
			break; /* end of file: every write end is closed */
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_ready(fd, POLLIN) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return (ssize_t)done;
}

/* In a child: make FD the descriptor TARGET (-1: leave TARGET alone). dup2 clears
   close-on-exec on the copy; our own pipe ends are O_CLOEXEC, so the originals vanish at exec. */
static int install(int fd, int target)
{
	if (fd < 0)
		return 0;
	if (fd == target) /* already in place: just make sure it survives exec */
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* Forks a child that runs ARGV with IN as stdin and OUT as stdout. Returns its pid. */
static pid_t start(char *const argv[], int in, int out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Child: only async-signal-safe calls until exec. */
	if (out == STDIN_FILENO) /* installing IN on 0 would overwrite it */
		out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	if (install(in, STDIN_FILENO) < 0 || install(out, STDOUT_FILENO) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127); /* exec failed: never return into the caller's code */
}

/* waitpid that a signal handler cannot interrupt. */
static int reap(pid_t pid, int *status)
{
	pid_t r;
	do
		r = waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int run_pipeline(char *const a[], char *const b[], int in_fd, int out_fd, int status[2])
{
	int p[2];
	/* O_CLOEXEC: neither program inherits an end it did not ask for. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL); /* fork copies stdio buffers */
	pid_t pa = start(a, in_fd, p[1]);
	pid_t pb = pa < 0 ? -1 : start(b, p[0], out_fd);
	int saved = errno;
	/* The parent uses neither end. Holding the write end would keep B from ever seeing EOF;
	   holding the read end would keep A from getting EPIPE if B quit early. */
	close(p[0]);
	close(p[1]);
	int st[2] = {0, 0};
	if (pa > 0)
		reap(pa, &st[0]); /* A dies of EPIPE/SIGPIPE if B never started: no hang */
	if (pb > 0)
		reap(pb, &st[1]);
	if (pa < 0 || pb < 0) {
		errno = saved;
		return -1;
	}
	if (status) {
		status[0] = st[0];
		status[1] = st[1];
	}
	return 0;
}

ssize_t filter_through(char *const argv[], const void *in, size_t n, void *out, size_t cap)
{
	int to[2], from[2]; /* two pipes: one pipe used both ways would hand us our own bytes */
	if (pipe2(to, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	if (filter_pipe_size > 0) { /* best effort: a refused size leaves the default */
		fcntl(to[1], F_SETPIPE_SZ, filter_pipe_size);
		fcntl(from[0], F_SETPIPE_SZ, filter_pipe_size);
	}
	fflush(NULL);
	pid_t pid = start(argv, to[0], from[1]);
	int saved = errno;
	close(to[0]); /* keeping it would mean we never get EPIPE when the command quits reading */
	close(from[1]); /* keeping it would mean we never see EOF on the command's output */
	if (pid < 0) {
		close(to[1]);
		close(from[0]);
		errno = saved;
		return -1;
	}

	/* Ignore SIGPIPE only now, in the parent: an ignored signal stays ignored across exec, and
	   the command should keep its normal behaviour. With it ignored, a vanished reader shows up
	   as EPIPE from write(), which here just means "the command has read all it wants". */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);

	/* Non-blocking, so that one call never stalls the other direction. */
	fcntl(to[1], F_SETFL, fcntl(to[1], F_GETFL) | O_NONBLOCK);
	fcntl(from[0], F_SETFL, fcntl(from[0], F_GETFL) | O_NONBLOCK);

	const char *src = in;
	char *dst = out;
	size_t sent = 0, kept = 0;
	static char discard[CHUNK];
	int wfd = to[1], rfd = from[0];
	if (n == 0) { /* nothing to send: EOF right away */
		close(wfd);
		wfd = -1;
	}
	while (rfd >= 0 || wfd >= 0) { /* poll() skips an entry whose fd is -1 */
		struct pollfd pf[2] = {{.fd = rfd, .events = POLLIN}, {.fd = wfd, .events = POLLOUT}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (wfd >= 0 && pf[1].revents) { /* POLLOUT, or POLLERR: the reader is gone */
			size_t len = n - sent < CHUNK ? n - sent : CHUNK;
			ssize_t w = write(wfd, src + sent, len);
			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EINTR && errno != EAGAIN) || sent == n) {
				close(wfd); /* all sent (EOF for the command), or EPIPE: it stopped reading */
				wfd = -1;
			}
		}
		if (rfd >= 0 && pf[0].revents) { /* data, or POLLHUP: every write end is closed */
			char *into = kept < cap ? dst + kept : discard;
			size_t room = kept < cap ? cap - kept : sizeof discard;
			ssize_t r = read(rfd, into, room < CHUNK ? room : CHUNK);
			if (r > 0 && into != discard)
				kept += (size_t)r;
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(rfd);
				rfd = -1;
			}
		}
	}
	if (wfd >= 0)
		close(wfd);
	if (rfd >= 0)
		close(rfd);
	reap(pid, NULL);
	sigaction(SIGPIPE, &old, NULL);
	return (ssize_t)kept;
}
