/* fifo_service.h: Lab 05 API: an upper-casing, numbering service over named pipes (FIFOs). */
#ifndef LAB05_FIFO_SERVICE_H
#define LAB05_FIFO_SERVICE_H

#include <limits.h>
#include <stdint.h>

/*
 * The protocol. Everything lives in one directory DIR, which the caller chooses (keep it
 * private: only you should be able to create files in it).
 *
 *   DIR/server.fifo        the well-known FIFO: every client writes its request here
 *   DIR/reply.<pid>.fifo   the private reply FIFO of the client whose pid is <pid>
 *
 * A client creates its reply FIFO, writes ONE struct fifo_request into server.fifo, then opens
 * its reply FIFO and reads ONE struct fifo_reply. Both FIFOs have mode 0600 exactly.
 *
 * For every function below: when it returns, on success and on failure, the calling process
 * has exactly the descriptors it had before (fifo_server_open: plus the two it stores in the
 * struct, on success), and no process that it started is left running.
 */
#define FIFO_SERVER_NAME "server.fifo"
#define FIFO_REPLY_FORMAT "reply.%ld.fifo" /* with (long)pid */
#define FIFO_TEXT_MAX 64 /* a text of exactly 64 bytes is valid */

enum fifo_op {
	FIFO_OP_UPPER = 1,    /* reply with the text in upper case and the next sequence number */
	FIFO_OP_SHUTDOWN = 2, /* the same, and then fifo_server_run() returns */
};

struct fifo_request {
	int32_t pid;              /* the client's pid: it names the reply FIFO */
	uint32_t op;              /* enum fifo_op */
	uint32_t len;             /* bytes of text used, at most FIFO_TEXT_MAX */
	char text[FIFO_TEXT_MAX]; /* not NUL-terminated; bytes after len are zero */
};

struct fifo_reply {
	uint32_t seq;             /* 1 for the first request a server serves, then 2, 3, ... */
	uint32_t len;             /* same as the request's */
	char text[FIFO_TEXT_MAX]; /* the request's text in upper case (toupper, byte by byte) */
};

/* A write of at most PIPE_BUF bytes to a pipe is atomic: requests of concurrent clients can
   never be mixed up, as long as each one is written with a single write(). */
_Static_assert(sizeof(struct fifo_request) <= PIPE_BUF, "a request must fit in PIPE_BUF");

struct fifo_server {
	char dir[PATH_MAX];
	int fd;       /* read end of DIR/server.fifo */
	int keep_fd;  /* the server's own write end of DIR/server.fifo (see fifo_server_open) */
	uint32_t seq; /* sequence number of the last reply */
};

/*
 * Creates DIR/server.fifo with mode 0600 exactly (whatever the umask) and opens it.
 * - A FIFO of that name left behind by an earlier run (a crash, a kill -9) is replaced by a new
 *   one (not reused: another process may still hold the old one open): this must not fail
 *   with EEXIST.
 * - Returns at once: it does not wait for a client to arrive.
 * - Afterwards, read() on the server's end never reports end of file just because no client
 *   has it open at the moment: the server keeps a write end of its own open (keep_fd).
 * Returns 0, or -1 with errno set (and then nothing is left open or created).
 */
int fifo_server_open(struct fifo_server *srv, const char *dir);

/*
 * Serves requests, one at a time and in the order they arrive: for each, opens the client's
 * reply FIFO for writing, writes one struct fifo_reply, closes it. Sleeps (no CPU used) while
 * no client is there; a signal that interrupts that sleep (read() fails with EINTR: a handler
 * was installed without SA_RESTART) is not an error, it reads again. Returns after
 * MAX_REQUESTS replies (no limit if MAX_REQUESTS <= 0) or right after replying to a
 * FIFO_OP_SHUTDOWN request. A request with a bad op or len (more
 * than FIFO_TEXT_MAX), or whose reply FIFO does not exist, is skipped: it gets no reply, is not
 * counted, and uses up no sequence number (the next reply gets the next number).
 * Returns the number of replies sent, or -1 with errno set.
 */
int fifo_server_run(struct fifo_server *srv, int max_requests);

/* Closes both descriptors and removes DIR/server.fifo. Returns 0, or -1 with errno set. */
int fifo_server_close(struct fifo_server *srv);

/*
 * Client: sends OP with TEXT (a C string of at most FIFO_TEXT_MAX bytes) to the server in
 * DIR and stores its answer in *REPLY.
 * - Creates DIR/reply.<getpid()>.fifo with mode 0600 exactly, replacing a stale one of that
 *   name by a new one, and removes it again before returning, on success and on failure.
 * - If no server is running, fails at once: ENOENT if DIR/server.fifo does not exist, ENXIO
 *   if it exists but nobody has it open for reading. It must not hang.
 * - EMSGSIZE if TEXT is too long (checked first); EPROTO if the reply is cut short.
 * - If the request cannot be written (e.g. EPIPE: the server closed its FIFO meanwhile; the
 *   caller may ignore SIGPIPE), fails at once with that errno: it does not wait for a reply.
 * Returns 0, or -1 with errno set.
 */
int fifo_request(const char *dir, enum fifo_op op, const char *text, struct fifo_reply *reply);

#endif
