/* socklab.h: Lab 06 API: addresses, length-prefixed frames over a stream, a server, datagrams, peer credentials. */
#ifndef LAB06_SOCKLAB_H
#define LAB06_SOCKLAB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct ucred; include this header first */
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The largest payload a frame may carry. A header announcing more is a protocol error. */
#define FRAME_MAX (1u << 20)

/*
 * Addresses are strings, so the same code serves UNIX and TCP clients:
 *   "unix:PATH"           a UNIX-domain socket at PATH (stream or datagram); PATH has at most
 *                         107 bytes (sun_path holds them and a NUL): a longer one fails with
 *                         EINVAL or ENAMETOOLONG, it is never cut short
 *   "tcp:IPV4:PORT"       a TCP socket, e.g. "tcp:127.0.0.1:0" (port 0: the kernel picks one;
 *                         read it back with getsockname)
 *   "udp:IPV4:PORT"       a UDP socket (sock_dgram only)
 * IPV4 is a dotted quad (inet_pton); PORT is a decimal number from 0 to 65535 with nothing after
 * it. Anything else, or a kind the function does not take, is an address they cannot parse.
 * Every descriptor sock_listen, sock_connect and sock_dgram return is close-on-exec. On failure
 * they return -1 with errno set (EINVAL for an address they cannot parse; otherwise the error of
 * the call that failed, e.g. EMFILE when socket() finds no free descriptor) and leave no
 * descriptor open.
 */

/*
 * A listening stream socket bound to ADDR ("unix:..." or "tcp:...").
 * - UNIX: a socket file left behind by a server that is gone (nobody accepts on it any more)
 *   is removed first, so a restarted server can bind again. A path a LIVE server listens on is
 *   not stolen: that fails with EADDRINUSE. If the check cannot be made (the socket() to knock
 *   with fails, e.g. ENFILE), the path is left alone and the call fails with socket()'s error.
 * - TCP: a server restarted while connections of its previous run are in TIME_WAIT can bind
 *   the same port again at once (SO_REUSEADDR).
 */
int sock_listen(const char *addr);

/*
 * A stream socket connected to ADDR ("unix:..." or "tcp:..."). When nobody listens there it
 * fails like connect() does (ECONNREFUSED; ENOENT for a UNIX path that does not exist): never
 * a descriptor that is not connected.
 */
int sock_connect(const char *addr);

/* A datagram socket bound to ADDR ("udp:..." or "unix:..."; a stale UNIX path is removed). */
int sock_dgram(const char *addr);

/*
 * Frames. A stream socket delivers BYTES: two writes may arrive in one read, one write may
 * need several reads. A frame puts the boundaries back: a 4-byte length in network byte order
 * (big-endian), then that many bytes of payload. 1 <= length <= FRAME_MAX.
 *
 * send_frame sends the frame carrying LEN bytes from BUF on the stream socket FD. It sends all
 * of it, whatever short writes and EINTR happen on the way. Writing to a peer that has closed
 * returns -1 with errno EPIPE (or ECONNRESET) and never kills the process with SIGPIPE.
 * Returns LEN, or -1 with errno set (EINVAL for LEN 0, EMSGSIZE for LEN > FRAME_MAX).
 */
ssize_t send_frame(int fd, const void *buf, uint32_t len);

/*
 * Receives one frame from FD into BUF, which holds CAP bytes. Short reads and EINTR are
 * retried. Returns the payload's length (>= 1); 0 when the peer closed the connection cleanly
 * between two frames; -1 with errno:
 *   EPROTO    the header announces 0 or more than FRAME_MAX bytes, or the peer closed in the
 *             middle of a frame;
 *   EMSGSIZE  the frame is valid but longer than CAP.
 * A bad length is rejected from the header alone: nothing is stored beyond BUF[CAP - 1], and
 * nothing of that size is allocated. After an error the stream is out of step: close it.
 */
ssize_t recv_frame(int fd, void *buf, size_t cap);

/*
 * An echo server: accepts NCLIENTS connections on the listening socket LFD and sends every
 * frame each client sends straight back to it. Clients are served at the same time: a client
 * that sends half a frame and stalls delays nobody else. A client that disconnects, even in
 * the middle of a frame, ends only its own session. Every accepted descriptor is closed, and
 * every helper process is reaped. Returns 0 once all NCLIENTS sessions have ended (LFD stays
 * open), or -1 with errno set. It never returns while a session is still running, not even
 * when a signal interrupts its wait (EINTR is no reason to stop waiting).
 * When a session cannot be started (fork() fails, e.g. EAGAIN at RLIMIT_NPROC), that client's
 * connection is closed at once (it sees end of stream) and the sessions already running go on
 * undisturbed. Then serve either returns -1 with fork's errno, once those sessions have ended,
 * or goes on accepting (counting the refused client among the NCLIENTS or not): both are fine.
 */
int serve(int lfd, int nclients);

/*
 * Receives one datagram from FD into BUF (CAP bytes). Datagrams keep their boundaries: one
 * send, one receive. Returns the datagram's REAL length, which is larger than CAP when the
 * datagram did not fit (then only its first CAP bytes are in BUF and the rest is lost), or -1.
 */
ssize_t recv_dgram(int fd, void *buf, size_t cap);

/*
 * Accepts one client on the UNIX listening socket LFD and decides who it is. The client first
 * sends one frame, its "hello", which may CLAIM an identity (e.g. "uid=0"): anyone can write
 * anything there, so it decides nothing. The kernel knows who connected: *WHO receives the
 * client's pid, uid and gid as recorded at connect time.
 * If WHO->uid is ALLOWED, replies with the frame "welcome" and returns the connected
 * descriptor (the caller closes it). Otherwise replies "denied", closes the connection and
 * returns -1 with errno EACCES. The replies carry just their letters, no NUL: "welcome" is a
 * frame of length 7, "denied" of length 6 (a frame's length says where it ends). Other
 * failures (a hello that is not a valid frame, or no hello at all: the client hung up before
 * sending one, say): -1 with errno set, the connection closed, and no descriptor left open.
 */
int auth_accept(int lfd, uid_t allowed, struct ucred *who);

#endif
