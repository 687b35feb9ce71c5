/* fifo_service.c: Lab 05, your code: a FIFO server and its clients. Read README.md first. */
#define _GNU_SOURCE
#include "fifo_service.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fifo_server_open(struct fifo_server *srv, const char *dir)
{
	/* TODO 1: build the path DIR/server.fifo and create the FIFO (man 3 mkfifo) with mode
	 *         0600. What does the umask do to the mode you ask for? How do you get exactly
	 *         0600 whatever it is? */

	/* TODO 2: a crashed earlier run may have left server.fifo behind, and then mkfifo fails.
	 *         With which errno? A restarted server must not give up there. */

	/* TODO 3: open the FIFO for reading. A plain O_RDONLY open waits until some client opens
	 *         it for writing (man 7 fifo): what flag makes it return at once? */

	/* TODO 4: once the last client closes its end, read() reports end of file (returns 0),
	 *         again and again. Open a write end of your own (keep_fd) so that never happens.
	 *         Why must this come AFTER the read end, not before? */

	/* TODO 5: make the read end blocking again (fcntl F_GETFL / F_SETFL), so that read()
	 *         sleeps until a request arrives. On any failure, undo what you did. */
	(void)srv, (void)dir;
	errno = ENOSYS;
	return -1;
}

int fifo_server_run(struct fifo_server *srv, int max_requests)
{
	/* TODO 6: loop: read ONE struct fifo_request, exactly sizeof of it (a pipe keeps no
	 *         message boundaries: a bigger read could return several requests). Retry EINTR.
	 *
	 * TODO 7: skip a request with an unknown op or a len above FIFO_TEXT_MAX. Build the reply:
	 *         seq is one more than the last reply's, text is upper case (toupper).
	 *
	 * TODO 8: open DIR/reply.<pid>.fifo (FIFO_REPLY_FORMAT) for writing, write the reply,
	 *         close it. If that FIFO does not exist (which errno?), the client is gone: skip.
	 *         A skipped request uses up no sequence number: count a reply once it is sent.
	 *
	 * TODO 9: stop after max_requests replies (if > 0) or after replying to
	 *         FIFO_OP_SHUTDOWN, and return how many replies you sent. */
	(void)srv, (void)max_requests;
	errno = ENOSYS;
	return -1;
}

int fifo_server_close(struct fifo_server *srv)
{
	/* TODO 10: close both descriptors, and remove DIR/server.fifo: a FIFO is a file in the
	 *          directory, and it stays there until someone unlinks it. */
	(void)srv;
	errno = ENOSYS;
	return -1;
}

int fifo_request(const char *dir, enum fifo_op op, const char *text, struct fifo_reply *reply)
{
	/* TODO 11: fill a struct fifo_request (pid = getpid(); zero the unused text bytes).
	 *          Text longer than FIFO_TEXT_MAX: EMSGSIZE. */

	/* TODO 12: create your reply FIFO DIR/reply.<pid>.fifo, mode 0600 exactly, BEFORE sending
	 *          (the server may answer at once). A stale one of that name may exist (pids are
	 *          reused). */

	/* TODO 13: open DIR/server.fifo for writing. If no server is reading it, a plain open
	 *          waits forever: which flag makes it fail with ENXIO instead? Then clear that flag
	 *          again before writing. */

	/* TODO 14: send the whole request with ONE write(): why does that matter when many
	 *          clients write to the same FIFO at once? (man 7 pipe, PIPE_BUF) */

	/* TODO 15: only now open your reply FIFO for reading, and read one struct fifo_reply.
	 *          What would happen if you opened it before sending the request? */

	/* TODO 16: on every path, success or failure: close what you opened and unlink your
	 *          reply FIFO. */
	(void)dir, (void)op, (void)text, (void)reply;
	errno = ENOSYS;
	return -1;
}
