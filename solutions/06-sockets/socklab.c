/* socklab.c: Lab 06 reference solution: addresses, framing over a byte stream, a forking server, datagrams, SO_PEERCRED. */
#define _GNU_SOURCE
#include "socklab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
} address;

/* Parses "unix:PATH" or "<IP_KIND>:IPV4:PORT" (IP_KIND is "tcp" or "udp"). */
static int parse_addr(const char *spec, const char *ip_kind, address *a)
{
	memset(a, 0, sizeof *a);
	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
		size_t n = strlen(spec + 5);
		if (n == 0 || n >= sizeof un->sun_path) {
			errno = n ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, spec + 5, n + 1);
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		a->family = AF_UNIX;
		return 0;
	}
	size_t k = strlen(ip_kind);
	if (strncmp(spec, ip_kind, k) || spec[k] != ':')
		goto bad;
	const char *host = spec + k + 1, *colon = strrchr(host, ':');
	char ip[INET_ADDRSTRLEN];
	if (!colon || (size_t)(colon - host) >= sizeof ip)
		goto bad;
	memcpy(ip, host, (size_t)(colon - host));
	ip[colon - host] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	if (end == colon + 1 || *end || port > 65535 || inet_pton(AF_INET, ip, &in->sin_addr) != 1)
		goto bad;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	a->len = sizeof *in;
	a->family = AF_INET;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* A UNIX socket's file outlives its server. Removes it if nobody accepts on it any more. */
static int remove_stale(const address *a, int type)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
	struct stat st;
	if (lstat(un->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		goto in_use; /* not a socket: never delete someone's file */
	/* Knock: a live server answers (or is busy: EAGAIN); a dead one's path refuses. */
	int probe = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	int alive = connect(probe, (const struct sockaddr *)&a->ss, a->len) == 0 || errno != ECONNREFUSED;
	close(probe);
	if (alive)
		goto in_use;
	return unlink(un->sun_path);
in_use:
	errno = EADDRINUSE;
	return -1;
}

/* A socket of TYPE bound to SPEC. */
static int open_bound(int type, const char *spec, const char *ip_kind)
{
	address a;
	if (parse_addr(spec, ip_kind, &a) < 0)
		return -1;
	int fd = socket(a.family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Without this, bind() fails with EADDRINUSE while old connections sit in TIME_WAIT. */
	int one = 1;
	if (a.family == AF_INET && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		goto fail;
	int r = bind(fd, (struct sockaddr *)&a.ss, a.len);
	if (r < 0 && errno == EADDRINUSE && a.family == AF_UNIX && remove_stale(&a, type) == 0)
		r = bind(fd, (struct sockaddr *)&a.ss, a.len);
	if (r < 0)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int sock_listen(const char *addr)
{
	int fd = open_bound(SOCK_STREAM, addr, "tcp");
	if (fd >= 0 && listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int sock_dgram(const char *addr)
{
	return open_bound(SOCK_DGRAM, addr, "udp");
}

int sock_connect(const char *addr)
{
	address a;
	if (parse_addr(addr, "tcp", &a) < 0)
		return -1;
	int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a.ss, a.len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

ssize_t send_frame(int fd, const void *buf, uint32_t len)
{
	if (len == 0 || len > FRAME_MAX) {
		errno = len ? EMSGSIZE : EINVAL;
		return -1;
	}
	/* Header and payload in ONE call: one syscall per frame, and no small write that TCP's
	   Nagle algorithm would hold back waiting for an ACK. */
	uint32_t header = htonl(len);
	struct iovec iov[2] = {{&header, sizeof header}, {(void *)buf, len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	while (m.msg_iovlen > 0) {
		/* MSG_NOSIGNAL: a closed peer gives EPIPE instead of a process-killing SIGPIPE. */
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* A short write: skip what went out, send the rest. */
		while (m.msg_iovlen > 0 && (size_t)n >= m.msg_iov->iov_len) {
			n -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + n;
			m.msg_iov->iov_len -= (size_t)n;
		}
	}
	return len;
}

/* Reads N bytes unless EOF comes first. Returns how many arrived (< N only at EOF), or -1. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t recv_frame(int fd, void *buf, size_t cap)
{
	uint32_t header;
	ssize_t n = read_full(fd, &header, sizeof header);
	if (n <= 0)
		return n; /* 0: the peer closed between frames */
	if ((size_t)n < sizeof header) {
		errno = EPROTO;
		return -1;
	}
	/* Judge the length before trusting it: the peer may be buggy or hostile. */
	uint32_t len = ntohl(header);
	if (len == 0 || len > FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (len > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	n = read_full(fd, buf, len);
	if (n < 0)
		return -1;
	if ((size_t)n < len) {
		errno = EPROTO;
		return -1;
	}
	return len;
}

/* One client's session, in its own process: echo frames until it leaves or misbehaves. */
static void echo_session(int cfd)
{
	char *buf = malloc(FRAME_MAX);
	ssize_t n;
	while (buf && (n = recv_frame(cfd, buf, FRAME_MAX)) > 0)
		if (send_frame(cfd, buf, (uint32_t)n) < 0)
			break;
	free(buf);
	close(cfd);
}

int serve(int lfd, int nclients)
{
	/* A process per client: a client that stalls blocks only its own process. */
	pid_t *kids = calloc(nclients > 0 ? (size_t)nclients : 1, sizeof *kids);
	if (!kids)
		return -1;
	int started = 0, rc = 0, err = 0;
	while (started < nclients) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			rc = -1, err = errno;
			break;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			echo_session(cfd);
			_exit(0);
		}
		/* The child has its own copy; the parent's must go, or one descriptor leaks per client. */
		close(cfd);
		if (pid < 0) {
			rc = -1, err = errno;
			break;
		}
		kids[started++] = pid;
		/* Collect the sessions that have ended so far, so zombies do not pile up. */
		for (int i = 0; i < started; i++)
			if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == kids[i])
				kids[i] = 0;
	}
	for (int i = 0; i < started; i++)
		while (kids[i] > 0 && waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(kids);
	errno = err;
	return rc;
}

ssize_t recv_dgram(int fd, void *buf, size_t cap)
{
	ssize_t n;
	/* MSG_TRUNC: report the datagram's real length, not just the part that fitted. */
	do
		n = recv(fd, buf, cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	return n;
}

int auth_accept(int lfd, uid_t allowed, struct ucred *who)
{
	int cfd;
	do
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (cfd < 0 && errno == EINTR);
	if (cfd < 0)
		return -1;
	/* Ask the ACCEPTED socket: the kernel recorded the client's pid, uid and gid when it
	   connected. (On the listening socket you would get the server's own.) */
	socklen_t len = sizeof *who;
	char hello[256];
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, who, &len) < 0)
		goto fail;
	/* Read the hello to keep the protocol in step, but its claims prove nothing. */
	ssize_t n = recv_frame(cfd, hello, sizeof hello);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		goto fail;
	}
	if (who->uid != allowed) {
		send_frame(cfd, "denied", 6);
		close(cfd);
		errno = EACCES;
		return -1;
	}
	if (send_frame(cfd, "welcome", 7) < 0)
		goto fail;
	return cfd;
fail:;
	int e = errno;
	close(cfd);
	errno = e;
	return -1;
}
