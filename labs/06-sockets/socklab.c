/* socklab.c: Lab 06, your code: addresses, frames over a byte stream, a server, datagrams, peer credentials. Read README.md first. */
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

/* TODO 1: write a small helper that turns "unix:PATH" or "tcp:IP:PORT" / "udp:IP:PORT" into a
 *         struct sockaddr_un or sockaddr_in (inside a struct sockaddr_storage) plus its length.
 *         inet_pton() parses the IP; the port is decimal, 0 to 65535, with nothing after it
 *         (strtoul tells you where it stopped); htons() puts it in network byte order.
 *         Anything else: errno = EINVAL. The three functions below all use it. */

int sock_listen(const char *addr)
{
	/* TODO 2: socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), bind(), listen().
	 * TODO 3: TCP: a restarted server finds its port blocked by connections in TIME_WAIT
	 *         unless one socket option is set BEFORE bind(). Which one? (man 7 socket)
	 * TODO 4: UNIX: bind() fails with EADDRINUSE when the path's file already exists, and the
	 *         file outlives a crashed server. How can you tell a stale file from a live
	 *         server's (try connect(): what does a dead path answer)? Remove only the stale one.
	 *         On any failure, close what you opened. */
	(void)addr;
	errno = ENOSYS;
	return -1;
}

int sock_connect(const char *addr)
{
	/* TODO 5: socket() + connect() to the parsed address; close the socket if connect fails. */
	(void)addr;
	errno = ENOSYS;
	return -1;
}

int sock_dgram(const char *addr)
{
	/* TODO 6: like sock_listen, with SOCK_DGRAM and without listen(). */
	(void)addr;
	errno = ENOSYS;
	return -1;
}

ssize_t send_frame(int fd, const void *buf, uint32_t len)
{
	/* TODO 7: refuse len 0 (EINVAL) and len > FRAME_MAX (EMSGSIZE).
	 * TODO 8: the header is len as 4 bytes in network byte order (htonl). Send header and
	 *         payload; one sendmsg() with two iovecs does it in one system call.
	 * TODO 9: a write may move FEWER bytes than asked, or fail with EINTR before moving any:
	 *         neither is the end. Loop until all 4 + len bytes are out.
	 * TODO 10: writing to a peer that has closed raises SIGPIPE, which kills the process by
	 *          default. Which flag of send/sendmsg turns that into an EPIPE error instead? */
	(void)fd, (void)buf, (void)len;
	errno = ENOSYS;
	return -1;
}

ssize_t recv_frame(int fd, void *buf, size_t cap)
{
	/* TODO 11: read EXACTLY 4 header bytes (a read may return fewer; EINTR: retry). EOF
	 *          before the first byte: return 0. EOF in the middle: EPROTO.
	 * TODO 12: ntohl() the length, then judge it BEFORE using it: 0 or > FRAME_MAX is EPROTO,
	 *          > cap is EMSGSIZE. The length comes from the other side: it may lie.
	 * TODO 13: read exactly that many payload bytes into buf; return the length. */
	(void)fd, (void)buf, (void)cap;
	errno = ENOSYS;
	return -1;
}

int serve(int lfd, int nclients)
{
	/* TODO 14: accept() nclients connections. Each client must be served WHILE the others
	 *          are: a client that sends half a frame and stalls must not hold up the rest.
	 *          A process per client (fork after accept) is the simplest way.
	 * TODO 15: a session: recv_frame, send_frame the same bytes back, until recv_frame returns
	 *          0 or fails. A child ends with _exit(), never by returning into the caller.
	 * TODO 16: every accept() gives a new descriptor: who closes which copy after fork()?
	 *          And if fork() fails (-1 is no pid), that client cannot be served: socklab.h.
	 * TODO 17: reap the children (waitpid) and return 0 once all sessions have ended. A
	 *          signal may interrupt the wait (EINTR): keep waiting. */
	(void)lfd, (void)nclients;
	errno = ENOSYS;
	return -1;
}

ssize_t recv_dgram(int fd, void *buf, size_t cap)
{
	/* TODO 18: one recv() is one datagram. If it is larger than cap, plain recv() returns
	 *          only what fitted. Which flag makes it return the datagram's real length? */
	(void)fd, (void)buf, (void)cap;
	errno = ENOSYS;
	return -1;
}

int auth_accept(int lfd, uid_t allowed, struct ucred *who)
{
	/* TODO 19: accept() one client. Ask the kernel who it is: getsockopt(SO_PEERCRED). On
	 *          which descriptor: the listening one or the accepted one? (man 7 unix)
	 * TODO 20: read the client's hello frame, and let it decide NOTHING.
	 * TODO 21: uid matches: reply "welcome" (7 bytes, no NUL) and return the descriptor.
	 *          Otherwise reply "denied" (6 bytes), close, errno = EACCES, return -1. */
	(void)lfd, (void)allowed, (void)who;
	errno = ENOSYS;
	return -1;
}
