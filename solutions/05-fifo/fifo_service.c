/* fifo_service.c: Lab 05 reference solution: a FIFO server with per-client reply FIFOs. */
#define _GNU_SOURCE
#include "fifo_service.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates the FIFO PATH with mode 0600 exactly. A leftover of the same name (from a run that
   crashed) is replaced. chmod afterwards because the umask can only remove bits, and we want
   exactly these. */
static int make_fifo(const char *path)
{
	if (mkfifo(path, 0600) < 0) {
		if (errno != EEXIST || unlink(path) < 0 || mkfifo(path, 0600) < 0)
			return -1;
	}
	if (chmod(path, 0600) < 0) {
		int e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

/* Reads exactly N bytes unless end of file comes first; returns the count, or -1. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t w = write(fd, (const char *)buf + put, n - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

/* open() that retries EINTR: opening a FIFO can block for a long time. */
static int open_retry(const char *path, int flags)
{
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/* Turns O_NONBLOCK off again: from now on reads and writes wait, as usual. */
static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int fifo_server_open(struct fifo_server *srv, const char *dir)
{
	char path[PATH_MAX];
	if (strlen(dir) >= sizeof srv->dir || path_in(path, sizeof path, dir, FIFO_SERVER_NAME) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (make_fifo(path) < 0)
		return -1;
	/* Read end first, non-blocking: a blocking O_RDONLY open would wait for the first client.
	   Then our own write end, which succeeds at once because a reader (us) exists. Opened the
	   other way round, the O_WRONLY open would wait forever for a reader that is us. */
	int fd = open_retry(path, O_RDONLY | O_NONBLOCK);
	int keep = fd < 0 ? -1 : open_retry(path, O_WRONLY);
	/* Back to blocking reads: read() now sleeps until a request arrives, and never sees end
	   of file, because keep is a writer that stays open for as long as the server runs. */
	if (keep < 0 || set_blocking(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (keep >= 0)
			close(keep);
		unlink(path);
		errno = e;
		return -1;
	}
	strcpy(srv->dir, dir);
	srv->fd = fd;
	srv->keep_fd = keep;
	srv->seq = 0;
	return 0;
}

/* Sends REPLY to the client PID. Returns 0, 1 if that client's reply FIFO is gone, -1 on error. */
static int send_reply(const struct fifo_server *srv, pid_t pid, const struct fifo_reply *reply)
{
	char name[64], path[PATH_MAX];
	snprintf(name, sizeof name, FIFO_REPLY_FORMAT, (long)pid);
	if (path_in(path, sizeof path, srv->dir, name) < 0)
		return 1;
	/* Blocks until the client opens its end for reading, which it does right after sending. */
	int fd = open_retry(path, O_WRONLY);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	int rc = write_all(fd, reply, sizeof *reply);
	close(fd);
	return rc;
}

int fifo_server_run(struct fifo_server *srv, int max_requests)
{
	int served = 0;
	while (max_requests <= 0 || served < max_requests) {
		/* One request per read of its exact size: writes of <= PIPE_BUF bytes arrive whole,
		   and several may be waiting in the pipe, so never read more than one at a time. */
		struct fifo_request req;
		ssize_t n = read_full(srv->fd, &req, sizeof req);
		if (n < 0)
			return -1;
		if (n != (ssize_t)sizeof req) { /* impossible while keep_fd is open */
			errno = EPROTO;
			return -1;
		}
		if ((req.op != FIFO_OP_UPPER && req.op != FIFO_OP_SHUTDOWN) || req.len > FIFO_TEXT_MAX ||
		    req.pid <= 0)
			continue;
		struct fifo_reply reply = {.seq = srv->seq + 1, .len = req.len};
		for (uint32_t i = 0; i < req.len; i++)
			reply.text[i] = (char)toupper((unsigned char)req.text[i]);
		int rc = send_reply(srv, (pid_t)req.pid, &reply);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue; /* that client has gone away */
		srv->seq++;
		served++;
		if (req.op == FIFO_OP_SHUTDOWN)
			break;
	}
	return served;
}

int fifo_server_close(struct fifo_server *srv)
{
	char path[PATH_MAX];
	int rc = 0;
	if (srv->fd >= 0 && close(srv->fd) < 0)
		rc = -1;
	if (srv->keep_fd >= 0 && close(srv->keep_fd) < 0)
		rc = -1;
	srv->fd = srv->keep_fd = -1;
	if (path_in(path, sizeof path, srv->dir, FIFO_SERVER_NAME) < 0 || unlink(path) < 0)
		rc = -1;
	return rc;
}

int fifo_request(const char *dir, enum fifo_op op, const char *text, struct fifo_reply *reply)
{
	struct fifo_request req = {.pid = (int32_t)getpid(), .op = (uint32_t)op};
	size_t len = strlen(text);
	if (len > FIFO_TEXT_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	req.len = (uint32_t)len;
	memcpy(req.text, text, len);

	char name[64], mine[PATH_MAX], server[PATH_MAX];
	snprintf(name, sizeof name, FIFO_REPLY_FORMAT, (long)req.pid);
	if (path_in(mine, sizeof mine, dir, name) < 0 ||
	    path_in(server, sizeof server, dir, FIFO_SERVER_NAME) < 0)
		return -1;
	/* Create the reply FIFO BEFORE sending: the server may answer at once. */
	if (make_fifo(mine) < 0)
		return -1;

	int e = 0, fd = -1;
	/* O_NONBLOCK: with no server reading, fail with ENXIO instead of waiting forever. */
	int sfd = open_retry(server, O_WRONLY | O_NONBLOCK);
	if (sfd < 0 || set_blocking(sfd) < 0) {
		e = errno;
		goto out;
	}
	/* One write() of the whole request: atomic, so concurrent clients never interleave. */
	if (write_all(sfd, &req, sizeof req) < 0) {
		e = errno;
		goto out;
	}
	close(sfd);
	sfd = -1;
	/* Only now open the reply FIFO: this blocks until the server opens it for writing, which
	   it does after reading our request. Opening it before sending would wait forever. */
	fd = open_retry(mine, O_RDONLY);
	if (fd < 0) {
		e = errno;
		goto out;
	}
	ssize_t n = read_full(fd, reply, sizeof *reply);
	if (n < 0)
		e = errno;
	else if (n != (ssize_t)sizeof *reply)
		e = EPROTO;
out:
	if (sfd >= 0)
		close(sfd);
	if (fd >= 0)
		close(fd);
	unlink(mine); /* on every path: a reply FIFO must not outlive its request */
	errno = e;
	return e ? -1 : 0;
}
