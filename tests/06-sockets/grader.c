/* grader.c: Lab 06 tests: framing over a byte stream, the server, datagrams, peer credentials, restarts. */
#define _GNU_SOURCE
#include "socklab.h"
#include "grader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the test's own, trusted socket code ----------------------------------------------- */

static int raw_send_frame(int fd, const void *buf, uint32_t len)
{
	uint32_t h = htonl(len);
	char tmp[4 + 256];
	if (len > 256)
		return -1;
	memcpy(tmp, &h, 4);
	memcpy(tmp + 4, buf, len);
	return send(fd, tmp, 4 + len, MSG_NOSIGNAL) == (ssize_t)(4 + len) ? 0 : -1;
}

/* Reads exactly N bytes by the deadline: N, or 0 at EOF first, or -1 (ETIMEDOUT, ...). */
static ssize_t read_by(int fd, void *buf, size_t n, double deadline)
{
	size_t got = 0;
	while (got < n) {
		int ms = (int)((deadline - probe_now()) * 1000);
		struct pollfd p = {fd, POLLIN, 0};
		if (ms <= 0 || poll(&p, 1, ms) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return (ssize_t)n;
}

/* One frame within TIMEOUT seconds: its length, 0 at EOF, -1 with ETIMEDOUT (or other). */
static ssize_t raw_recv_frame(int fd, void *buf, size_t cap, double timeout)
{
	double deadline = probe_now() + timeout;
	uint32_t h;
	ssize_t n = read_by(fd, &h, 4, deadline);
	if (n <= 0)
		return n;
	uint32_t len = ntohl(h);
	if (len > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	n = read_by(fd, buf, len, deadline);
	return n <= 0 ? n : (ssize_t)len;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0 || a.sin_family != AF_INET)
		return -1;
	return ntohs(a.sin_port);
}

/* ---- the server, run in a child ------------------------------------------------------ */

/* The highest descriptor this process has open. */
static int highest_fd(void)
{
	int fds[256], n = probe_fds(0, fds, 256);
	return n > 0 ? fds[n - 1] : 2;
}

/* Counts SIGUSR1s caught by a server started with SIGNALLED; shared with the test. */
static volatile int *signals_caught;

static void count_signal(int sig)
{
	(void)sig;
	if (signals_caught)
		__atomic_fetch_add(signals_caught, 1, __ATOMIC_SEQ_CST);
}

/* end_server()'s verdicts besides 0 (returned 0), 2 (not implemented) and -1 (anything else). */
enum {
	SERVER_RETURNED_ERROR = 1,
	SERVER_LEFT_CHILDREN = 3,
	SERVER_LEFT_FDS = 4,
	SERVER_FORK_RETURNED = 6,
	SERVER_RETURNED_EAGAIN = 7
};

/* What the server child saw when serve() came back: shared with the test (the child kit), so
   it is there however the child ended. */
typedef struct {
	bool returned;           /* serve() returned in the process that called it */
	int rc, err;             /* its result and errno */
	bool left_children;      /* ... while a process it had started was still there */
	bool left_fds;           /* ... with more descriptors open than before */
	bool returned_elsewhere; /* a process serve() forked came back from serve() */
} server_report;

static server_report *server_rep;

/* When > 0, the server child makes serve()'s Nth fork() fail with EAGAIN. */
static unsigned fork_fail_nth;

/* Forks a child that runs serve(LFD, NCLIENTS) (with RLIMIT_NOFILE = NOFILE if > 0; with a
   SIGUSR1 handler installed WITHOUT SA_RESTART if SIGNALLED) and reports in server_rep. */
static pid_t start_server_ex(int lfd, int nclients, int nofile, int signalled)
{
	if (!server_rep)
		server_rep = child_shared(sizeof *server_rep);
	memset(server_rep, 0, sizeof *server_rep);
	pid_t pid = child_fork();
	if (pid == 0) {
		pid_t server = getpid();
		if (signalled) {
			struct sigaction sa = {.sa_handler =
						   count_signal}; /* no SA_RESTART: EINTR */
			sigaction(SIGUSR1, &sa, NULL);
		}
		if (nofile > 0)
			probe_nofile(nofile);
		int before[256], nbefore = probe_fds(0, before, 256);
		if (fork_fail_nth)
			fault_fail_call("fork", fork_fail_nth, EAGAIN);
		int rc = serve(lfd, nclients);
		int e = errno;
		if (getpid() != server) { /* a process serve forked came back here */
			server_rep->returned_elsewhere = true;
			_exit(0);
		}
		/* Not the runner's stray check: that one sees only processes still running when
		   the test ends, by when these sessions have finished and been reaped by the
		   namespace. serve() returning while a session runs (or is unreaped) breaks its
		   own promise, which only this moment can see (serve-returns-early). */
		pid_t left[64];
		server_rep->left_children = probe_descendants(getpid(), left, 64) > 0;
		int after[256], nafter = probe_fds(0, after, 256);
		server_rep->left_fds = nafter > nbefore;
		server_rep->rc = rc;
		server_rep->err = e;
		server_rep->returned = true;
		_exit(0);
	}
	return pid;
}

static pid_t start_server(int lfd, int nclients, int nofile)
{
	return start_server_ex(lfd, nclients, nofile, 0);
}

/* Waits for the server child (killing it after TIMEOUT s) and describes how it ended. */
static int end_server(pid_t pid, double timeout, char *how, size_t cap)
{
	child_end e = child_wait(pid, timeout);
	if (e.timed_out) {
		snprintf(how, cap, "was still running %.0f s after its last client left", timeout);
		return -1;
	}
	const server_report *r = server_rep;
	bool clean = r->returned && !r->left_children && !r->left_fds;
	if (clean && r->rc != 0 && r->err == ENOSYS) {
		snprintf(how, cap, "is not implemented yet");
		errno = ENOSYS;
		return 2;
	}
	if (clean && r->rc != 0 && r->err != EAGAIN) {
		snprintf(how, cap, "returned -1");
		return SERVER_RETURNED_ERROR;
	}
	if (clean && r->rc != 0) {
		snprintf(how, cap, "returned -1 with errno EAGAIN");
		return SERVER_RETURNED_EAGAIN;
	}
	if (r->returned && r->left_children) {
		snprintf(
		    how, cap,
		    "returned while a process it had started was still running or not "
		    "yet reaped: serve must wait (waitpid) for every session before it returns, "
		    "and keep waiting when a signal interrupts the wait (EINTR)");
		return SERVER_LEFT_CHILDREN;
	}
	if (r->returned && r->left_fds) {
		snprintf(how, cap,
			 "returned with more descriptors open than before it was called: every "
			 "descriptor accept() gave it (and any other it opened) must be closed");
		return SERVER_LEFT_FDS;
	}
	if (r->returned_elsewhere) {
		snprintf(
		    how, cap,
		    "forked a process that RETURNED from serve() into its caller, which then "
		    "went on running the caller's code: a child must end with _exit() when its "
		    "session is over");
		return SERVER_FORK_RETURNED;
	}
	if (r->returned && e.exited && e.code == 0) {
		snprintf(how, cap, "returned 0");
		return 0;
	}
	if (!r->returned && e.exited && e.code == 0) {
		snprintf(how, cap,
			 "ended with exit(0) inside serve() instead of returning: only the "
			 "helper processes serve forks may exit, never the process that called it");
		return -1;
	}
	describe_end(e, how, cap);
	return -1;
}

/* ---- framing ---------------------------------------------------------------------------- */

GRADER_TEST(stream_two_frames)
{
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ssize_t s1 = send_frame(sv[0], "abc", 3);
	int err = errno;
	ssize_t s2 = send_frame(sv[0], "def", 3);
	char a[64] = "", b[64] = "";
	ssize_t r1 = s1 == 3 ? recv_frame(sv[1], a, sizeof a) : -1;
	ssize_t r2 = s2 == 3 && r1 == 3 ? recv_frame(sv[1], b, sizeof b) : -1;
	close(sv[0]);
	ssize_t r3 = r2 == 3 ? recv_frame(sv[1], b + 8, sizeof b - 8) : -1;
	close(sv[1]);
	errno = err;
	require_implemented(s1 < 0, "send_frame");
	ck_assert_msg(s1 == 3 && s2 == 3,
		      "send_frame(fd, \"abc\", 3) returned %zd: it should return 3.", s1);
	ck_assert_msg(
	    r1 != 6,
	    "Two frames, \"abc\" and \"def\", came back as ONE of 6 bytes (\"%.6s\"). A stream "
	    "socket has no message boundaries: two writes can arrive in one read. That is "
	    "why a frame carries its length: read the 4-byte header, then exactly that "
	    "many bytes, never \"whatever one read() returns\".",
	    a);
	ck_assert_msg(
	    r1 == 3 && !memcmp(a, "abc", 3),
	    "The first recv_frame() returned %zd (\"%.3s\"); it should return 3 and \"abc\".", r1,
	    a);
	ck_assert_msg(
	    r2 == 3 && !memcmp(b, "def", 3),
	    "The second recv_frame() returned %zd (\"%.3s\"); it should return 3 and \"def\".", r2,
	    b);
	ck_assert_msg(
	    r3 == 0,
	    "After the peer closed between two frames recv_frame() returned %zd; it should "
	    "return 0 (end of stream), like read().",
	    r3);
}

GRADER_TEST(frame_wire_format)
{
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* A frame from another program, written byte by byte in two pieces. */
	ck_assert(write(sv[0], "\0\0", 2) == 2 && write(sv[0], "\0\5hello", 7) == 7);
	char got[64] = "";
	ssize_t r = recv_frame(sv[1], got, sizeof got);
	int err = errno;
	ssize_t s = r == 5 ? send_frame(sv[1], "xyz", 3) : -1;
	unsigned char wire[16] = {0};
	ssize_t w = s == 3 ? recv(sv[0], wire, sizeof wire, MSG_DONTWAIT) : -1;
	close(sv[0]);
	close(sv[1]);
	errno = err;
	require_implemented(r < 0, "recv_frame");
	ck_assert_msg(
	    r == 5 && !memcmp(got, "hello", 5),
	    "The bytes 00 00 00 05 'h' 'e' 'l' 'l' 'o' (a 4-byte big-endian length, then the "
	    "payload) should make recv_frame() return 5 and \"hello\"; it returned %zd. Convert "
	    "the header with ntohl().",
	    r);
	ck_assert_msg(s == 3, "send_frame(fd, \"xyz\", 3) returned %zd.", s);
	ck_assert_msg(
	    w == 7 && !memcmp(wire, "\0\0\0\3xyz", 7),
	    "send_frame(fd, \"xyz\", 3) put %zd bytes on the wire (%02x %02x %02x %02x ...); "
	    "expected 7: 00 00 00 03 'x' 'y' 'z'. The length goes first, in network byte order "
	    "(htonl), so that programs on any machine agree.",
	    w, wire[0], wire[1], wire[2], wire[3]);
}

static void pattern(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (i * 7 + seed) % 26);
}

/* Sends and receives an N-byte frame under PLAN; fails with a message about WHAT. (Every
   1-byte send costs the socket buffer a whole packet's overhead: N stays small so that the
   frame still fits while nobody reads.) */
static void frame_under_faults(fault_plan plan, const char *what, int N)
{
	static char out[1000], in[1000 + 16], wire[1000 + 16];
	pattern(out, N, 3);
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

	fault_arm(plan);
	ssize_t s = send_frame(sv[0], out, (uint32_t)N);
	int serr = errno;
	fault_disarm();
	unsigned long shortened = fault_injected();
	ssize_t w = recv(sv[1], wire, sizeof wire, MSG_DONTWAIT); /* what actually went out */
	uint32_t h = htonl((uint32_t)N);
	int sent_ok = w == N + 4 && !memcmp(wire, &h, 4) && !memcmp(wire + 4, out, (size_t)N);

	/* Now a correct frame, received under the same faults. */
	memcpy(wire, &h, 4);
	memcpy(wire + 4, out, (size_t)N);
	ck_assert(send(sv[0], wire, (size_t)N + 4, 0) == N + 4);
	fault_arm(plan);
	ssize_t r = recv_frame(sv[1], in, sizeof in);
	int rerr = errno;
	fault_disarm();
	close(sv[0]);
	close(sv[1]);

	errno = serr;
	require_implemented(s < 0, "send_frame");
	ck_assert_msg(
	    s == N && sent_ok,
	    "With %s, send_frame() of a %d-byte frame returned %zd (%s) and %zd bytes went out "
	    "(expected %d, header included). %s",
	    what, N, s, s < 0 ? errno_name(serr) : "no error", w < 0 ? (ssize_t)0 : w, N + 4,
	    plan.eintr_every ? "EINTR means \"interrupted before anything was sent\": "
			       "call again. And keep going after a short write."
			     : "send/write/sendmsg may write LESS than asked (it returns "
			       "how much): loop until every byte is out.");
	(void)shortened;
	errno = rerr;
	require_implemented(r < 0, "recv_frame");
	ck_assert_msg(
	    r == N && !memcmp(in, out, (size_t)N),
	    "With %s, recv_frame() of a %d-byte frame returned %zd (%s)%s. %s", what, N, r,
	    r < 0 ? errno_name(rerr) : "no error", r == N ? " but the bytes differ" : "",
	    plan.eintr_every ? "EINTR only means a signal arrived first: retry the read."
			     : "read/recv return what has arrived so far, which can be less "
			       "than asked: loop until the header, then the payload, are "
			       "complete.");
}

GRADER_TEST(frame_short_io)
{
	frame_under_faults((fault_plan){.max_chunk = 1}, "every read and write limited to 1 byte",
			   100);
}

GRADER_TEST(frame_eintr)
{
	frame_under_faults(
	    (fault_plan){.max_chunk = 16, .eintr_every = 3},
	    "every 3rd read or write failing with EINTR (and at most 16 bytes per call)", 1000);
}

/* What a call made in a child did, in memory shared with the test (child_run): there however
   the child ended. */
typedef struct {
	bool returned; /* the call came back */
	ssize_t rc;    /* its result */
	int err;       /* and errno */
} call_report;

/* The call came back with -1 and ERR. */
static bool failed_with(const call_report *r, int err)
{
	return r->returned && r->rc < 0 && r->err == err;
}

/* In a child: a header announcing BOGUS bytes, then 64 KiB, into a 4096-byte buffer followed
   by a guard page; CALL says what recv_frame did (exit 3: the setup failed). */
typedef struct {
	uint32_t bogus;
	int expect1, expect2;
	call_report call;
} length_case;

static void length_child(void *arg)
{
	length_case *c = arg;
	enum { CAP = 4096, MORE = 64 * 1024 };
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		_exit(3);
	uint32_t h = htonl(c->bogus);
	static char junk[MORE];
	memset(junk, 'x', sizeof junk);
	if (write(sv[0], &h, 4) != 4 || write(sv[0], junk, sizeof junk) != (ssize_t)sizeof junk)
		_exit(3);
	close(sv[0]);
	char *buf = probe_stack(CAP); /* guard pages on both sides */
	errno = 0;
	c->call.rc = recv_frame(sv[1], buf, CAP);
	c->call.err = errno;
	c->call.returned = true;
}

GRADER_TEST(frame_length_checked)
{
	length_case cases[] = {
	    /* 2^31: a hostile or broken peer */
	    {.bogus = 0x80000000u, .expect1 = EPROTO, .expect2 = EMSGSIZE},
	    /* a valid frame, but larger than the buffer */
	    {.bogus = 5000, .expect1 = EMSGSIZE, .expect2 = EMSGSIZE},
	};
	for (int i = 0; i < 2; i++) {
		length_case c = cases[i];
		child_end e = child_run(length_child, &c, sizeof c, 2.0);
		char how[300];
		errno = ENOSYS;
		require_implemented(failed_with(&c.call, ENOSYS), "recv_frame");
		ck_assert_msg(
		    !(e.sig == SIGSEGV || e.sig == SIGBUS),
		    "A header announcing %u bytes, then 64 KiB of data, into a 4096-byte buffer: "
		    "recv_frame() wrote past the end of the buffer (the process was %s). Never "
		    "trust a length from the network: check it against FRAME_MAX and against "
		    "cap BEFORE reading the payload (or allocating room for it).",
		    cases[i].bogus, describe_end(e, how, sizeof how));
		ck_assert_msg(e.exited,
			      "recv_frame() with a header announcing %u bytes: the process %s.",
			      cases[i].bogus, describe_end(e, how, sizeof how));
		ck_assert_msg(
		    !failed_with(&c.call, EFAULT),
		    "A header announcing %u bytes, then 64 KiB of data, into a 4096-byte buffer: "
		    "recv_frame() asked the kernel to read past the end of the buffer, and only "
		    "the "
		    "guard page behind it stopped that (EFAULT); in a real program it overwrites "
		    "whatever follows. Never trust a length from the network: check it against "
		    "FRAME_MAX and against cap BEFORE reading the payload (or allocating room for "
		    "it).",
		    cases[i].bogus);
		ck_assert_msg(
		    !(c.call.returned && c.call.rc >= 0),
		    "recv_frame() accepted a frame whose header announces %u bytes into a "
		    "4096-byte buffer. It must fail with %s.",
		    cases[i].bogus,
		    i == 0 ? "EPROTO (length above FRAME_MAX) or EMSGSIZE"
			   : "EMSGSIZE (longer than cap)");
		ck_assert_msg(failed_with(&c.call, c.expect1) || failed_with(&c.call, c.expect2),
			      "recv_frame() rejected a header announcing %u bytes, but with the "
			      "wrong errno: expected %s.",
			      cases[i].bogus, i == 0 ? "EPROTO or EMSGSIZE" : "EMSGSIZE");
	}
}

static void closed_peer_child(void *arg)
{
	(void)arg;
	signal(SIGPIPE, SIG_DFL); /* what a process starts with */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		_exit(3);
	close(sv[1]);
	errno = 0;
	ssize_t r = send_frame(sv[0], "ping", 4);
	if (r < 0 && errno == ENOSYS)
		_exit(2);
	_exit(r < 0 && (errno == EPIPE || errno == ECONNRESET) ? 0 : 1);
}

GRADER_TEST(send_closed_peer)
{
	child_end e = probe_in_child(closed_peer_child, NULL, 2.0);
	char how[300];
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 2, "send_frame");
	ck_assert_msg(
	    e.sig != SIGPIPE,
	    "send_frame() to a peer that has closed KILLED the process with SIGPIPE. By default "
	    "writing to a closed socket or pipe sends SIGPIPE, whose default action ends the "
	    "process: one client that hangs up would take your whole server down. Pass "
	    "MSG_NOSIGNAL to send()/sendmsg() (or ignore SIGPIPE) and handle -1/EPIPE.");
	ck_assert_msg(
	    e.exited && e.code == 0,
	    "send_frame() to a peer that has closed should return -1 with errno EPIPE; the "
	    "process %s.",
	    describe_end(e, how, sizeof how));
}

static void big_sender(void *arg)
{
	int fd = *(int *)arg;
	char *big = malloc(FRAME_MAX);
	if (!big)
		_exit(3);
	memset(big, 'B', FRAME_MAX);
	errno = 0;
	ssize_t r = send_frame(fd, big, FRAME_MAX);
	if (r < 0 && errno == ENOSYS)
		_exit(2);
	_exit(r == (ssize_t)FRAME_MAX ? 0 : 1);
}

GRADER_TEST(send_blocks_when_full)
{
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = child_fork();
	if (pid == 0) {
		close(sv[1]);
		big_sender(&sv[0]);
	}
	close(sv[0]);
	/* Nobody reads for 300 ms: a 1 MiB frame cannot fit in the socket's buffer. */
	usleep(300 * 1000);
	int status;
	int still_running = waitpid(pid, &status, WNOHANG) == 0;
	int queued = 0;
	struct pollfd p = {sv[1], POLLIN, 0};
	poll(&p, 1, 0);
	/* Drain it: the writer wakes up and finishes. */
	char *buf = malloc(FRAME_MAX + 4);
	ssize_t n = read_by(sv[1], buf, FRAME_MAX + 4, probe_now() + 2.0);
	(void)queued;
	close(sv[1]);
	char how[160] = "";
	int ended = still_running ? probe_wait(pid, &status, 2.0) : 0;
	if (ended < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	int ok_data = n == (ssize_t)FRAME_MAX + 4 && buf[4] == 'B' && buf[FRAME_MAX + 3] == 'B';
	free(buf);
	errno = ENOSYS;
	require_implemented(WIFEXITED(status) && WEXITSTATUS(status) == 2, "send_frame");
	ck_assert_msg(
	    still_running,
	    "send_frame() of a 1 MiB frame returned while nobody had read anything (the writer "
	    "%s). A socket's buffer is FINITE (a few hundred KiB here): when it is full, a "
	    "blocking socket makes the writer wait until the reader makes room. Keep the "
	    "socket blocking and loop until every byte is out.",
	    describe_status(status, how, sizeof how));
	ck_assert_msg(ok_data,
		      "After the reader drained the socket, the whole 1 MiB frame should have "
		      "arrived; got %zd of %u bytes.",
		      n, FRAME_MAX + 4);
	ck_assert_msg(
	    ended == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "Once the reader made room, send_frame() should have finished and returned 1048576; "
	    "the writer %s.",
	    ended < 0 ? "was still blocked 2 s later" : describe_status(status, how, sizeof how));
}

/* Writes N raw bytes to FD (a trusted writer in a child, without the reader's end OTHER), then
   exits; the caller reaps it. */
static pid_t raw_writer(int fd, int other, const void *buf, size_t n)
{
	pid_t pid = child_fork();
	if (pid == 0) {
		close(other); /* the reader's end: when the reader closes it, we stop */
		size_t done = 0;
		while (done < n) {
			ssize_t w = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(1);
			done += (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

static void frame_max_sender(void *arg)
{
	int fd = *(int *)arg;
	char *big = malloc(FRAME_MAX);
	if (!big)
		_exit(3);
	pattern(big, FRAME_MAX, 5);
	errno = 0;
	ssize_t r = send_frame(fd, big, FRAME_MAX);
	_exit(r == (ssize_t)FRAME_MAX ? 0 : r < 0 && errno == ENOSYS ? 2 : 1);
}

/* A frame of exactly cap bytes fits; the next one is read in step. */
static void frame_of_exactly_cap_fits(void)
{
	enum { CAP = 64 };
	static char wire[2 * (4 + CAP)], want[CAP];
	pattern(want, CAP, 9);
	uint32_t h = htonl(CAP), h1 = htonl(1);
	memcpy(wire, &h, 4);
	memcpy(wire + 4, want, CAP);
	memcpy(wire + 4 + CAP, &h1, 4);
	wire[8 + CAP] = '!';
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ck_assert(write(sv[0], wire, 9 + CAP) == 9 + CAP);
	char *buf = probe_stack(CAP); /* guard pages right behind buf[CAP - 1] */
	ssize_t r1 = recv_frame(sv[1], buf, CAP);
	int e1 = errno;
	int same = r1 == CAP && !memcmp(buf, want, CAP);
	ssize_t r2 = r1 == CAP ? recv_frame(sv[1], buf, CAP) : -1;
	char second = buf[0];
	probe_stack_free(buf, CAP);
	close(sv[0]);
	close(sv[1]);
	errno = e1;
	require_implemented(r1 < 0, "recv_frame");
	ck_assert_msg(r1 == CAP,
		      "A frame of exactly %d bytes into a buffer of cap = %d bytes: recv_frame() "
		      "returned %zd (%s). It fits exactly: only a frame LONGER than cap is "
		      "EMSGSIZE (check len > cap, not len >= cap).",
		      CAP, CAP, r1, r1 < 0 ? errno_name(e1) : "a wrong length");
	ck_assert_msg(same, "A frame of exactly cap = %d bytes came back with different bytes.",
		      CAP);
	ck_assert_msg(r2 == 1 && second == '!',
		      "After a frame of exactly cap bytes, the next frame (1 byte, "
		      "'!') came back as %zd bytes: the stream is out of step.",
		      r2);
}

/* The buffers of the two FRAME_MAX steps, and what each saw (judged once both have run). */
typedef struct {
	char *big, *exp, *in;
	ssize_t rm; /* recv_frame's result, its errno, and whether the bytes matched */
	int em, big_same;
	ssize_t got; /* bytes read from send_frame's wire, its writer's status, and whether right */
	int status, sent_ok;
} frame_max_run;

/* recv_frame of exactly FRAME_MAX bytes (the largest valid frame). */
static void receive_frame_max(frame_max_run *run)
{
	pattern(run->exp, FRAME_MAX, 7);
	uint32_t hm = htonl(FRAME_MAX);
	memcpy(run->big, &hm, 4);
	memcpy(run->big + 4, run->exp, FRAME_MAX);
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t w = raw_writer(sv[0], sv[1], run->big, FRAME_MAX + 4);
	run->rm = recv_frame(sv[1], run->in, FRAME_MAX);
	run->em = errno;
	run->big_same = run->rm == (ssize_t)FRAME_MAX && !memcmp(run->in, run->exp, FRAME_MAX);
	close(sv[0]);
	close(sv[1]);
	probe_finish(w, &run->status, 2.0);
}

/* send_frame of exactly FRAME_MAX bytes: read the wire with our own code. */
static void send_frame_max(frame_max_run *run)
{
	uint32_t hm = htonl(FRAME_MAX);
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t snd = child_fork();
	if (snd == 0) {
		close(sv[1]);
		frame_max_sender(&sv[0]);
	}
	close(sv[0]);
	pattern(run->exp, FRAME_MAX, 5);
	run->got = read_by(sv[1], run->big, FRAME_MAX + 4, probe_now() + 3.0);
	close(sv[1]);
	probe_finish(snd, &run->status, 2.0);
	run->sent_ok = run->got == (ssize_t)FRAME_MAX + 4 && !memcmp(run->big, &hm, 4) &&
		       !memcmp(run->big + 4, run->exp, FRAME_MAX);
}

static void frame_max_is_received_whole(const frame_max_run *run)
{
	ssize_t rm = run->rm;
	ck_assert_msg(
	    rm == (ssize_t)FRAME_MAX && run->big_same,
	    "A frame of exactly FRAME_MAX (%u) bytes into a buffer of FRAME_MAX bytes: "
	    "recv_frame() "
	    "returned %zd (%s). FRAME_MAX is the largest VALID length: only a header above it is "
	    "EPROTO (len > FRAME_MAX, not >=). And read until every byte has arrived.",
	    FRAME_MAX, rm,
	    rm < 0		       ? errno_name(run->em)
	    : rm == (ssize_t)FRAME_MAX ? "but the bytes differ"
				       : "no error");
}

static void frame_max_is_sent_whole(const frame_max_run *run)
{
	int status = run->status;
	ssize_t got = run->got;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && run->sent_ok,
		      "send_frame() of exactly FRAME_MAX (%u) bytes %s, and %zd of %u bytes "
		      "arrived. FRAME_MAX "
		      "is the largest VALID payload: only a longer one is EMSGSIZE (len > "
		      "FRAME_MAX, not >=).",
		      FRAME_MAX,
		      WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "failed"
								    : "did not return FRAME_MAX",
		      got < 0 ? (ssize_t)0 : got, FRAME_MAX + 4);
}

GRADER_TEST(frame_exact_sizes)
{
	frame_of_exactly_cap_fits();
	frame_max_run run = {
	    .big = malloc(FRAME_MAX + 4), .exp = malloc(FRAME_MAX), .in = malloc(FRAME_MAX)};
	ck_assert(run.big && run.exp && run.in);
	receive_frame_max(&run);
	send_frame_max(&run);
	free(run.big);
	free(run.exp);
	free(run.in);
	frame_max_is_received_whole(&run);
	frame_max_is_sent_whole(&run);
}

/* In a child: recv_frame on bytes WIRE[0..N) followed by the peer closing; CALL says what it
   did (exit 99: the setup failed). */
typedef struct {
	const char *wire;
	size_t n;
	size_t cap;
	call_report call;
} recv_case;

static void recv_case_child(void *arg)
{
	recv_case *c = arg;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		_exit(99);
	pid_t w = raw_writer(sv[0], sv[1], c->wire, c->n); /* then it exits: end of stream */
	close(sv[0]);
	if (w < 0)
		_exit(99);
	char *buf = malloc(c->cap);
	errno = 0;
	c->call.rc = recv_frame(sv[1], buf, c->cap);
	c->call.err = errno;
	c->call.returned = true;
	close(sv[1]); /* the writer may still be writing: it stops, and is reaped */
	waitpid(w, NULL, 0);
}

/* A TCP connection whose peer sends WIRE, then resets it (RST: SO_LINGER with 0 s). Returns
   what recv_frame said, with its errno in *ERR. */
static ssize_t recv_after_reset(const void *wire, size_t n, int *err)
{
	struct sockaddr_in ta = {.sin_family = AF_INET};
	ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int tl = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(bind(tl, (struct sockaddr *)&ta, sizeof ta) == 0 && listen(tl, 1) == 0);
	int c = tcp_connect(local_port(tl));
	int peer = c >= 0 ? accept(tl, NULL, NULL) : -1;
	close(tl);
	ck_assert(c >= 0 && peer >= 0);
	struct linger lg = {1, 0};
	ck_assert(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
	ck_assert(n == 0 || send(peer, wire, n, 0) == (ssize_t)n);
	close(peer); /* RST */
	char buf[64];
	errno = 0;
	ssize_t r = recv_frame(c, buf, sizeof buf);
	*err = errno;
	close(c);
	return r;
}

/* recv_frame: a header of 0 or above FRAME_MAX, and a frame cut short, are each -1/EPROTO. */
static void bad_headers_and_cut_frames_are_eproto(void)
{
	static char over[4 + FRAME_MAX + 1]; /* a whole frame, one byte too long */
	uint32_t ho = htonl(FRAME_MAX + 1);
	memcpy(over, &ho, 4);
	struct {
		recv_case c;
		const char *what;
	} cases[] = {
	    {{.wire = "\0\0\0\0abc", .n = 7, .cap = 64},
	     "a header announcing 0 bytes (a frame carries 1 to FRAME_MAX bytes)"},
	    {{.wire = over, .n = sizeof over, .cap = FRAME_MAX + 64},
	     "a whole frame of FRAME_MAX + 1 bytes, read into a buffer even larger than that (the "
	     "limit is FRAME_MAX, whatever cap is)"},
	    {{.wire = "\0\1\0", .n = 3, .cap = 64},
	     "3 bytes of a header, then the peer closed (a frame cut in its header)"},
	    {{.wire = "\0\0\0\12", .n = 4, .cap = 64},
	     "a header announcing 10 bytes, then the peer closed (a frame cut before its payload)"},
	    {{.wire = "\0\0\0\12abc", .n = 7, .cap = 64},
	     "a header announcing 10 bytes, 3 of them, then the peer closed (a "
	     "frame cut in its payload)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		recv_case c = cases[i].c;
		child_end e = child_run(recv_case_child, &c, sizeof c, 2.0);
		const call_report *r = &c.call;
		char how[300];
		errno = ENOSYS;
		require_implemented(failed_with(r, ENOSYS), "recv_frame");
		ck_assert_msg(e.exited && e.code != 99, "recv_frame() on %s: the process %s.",
			      cases[i].what, describe_end(e, how, sizeof how));
		ck_assert_msg(
		    failed_with(r, EPROTO), "recv_frame() on %s %s; it must fail with EPROTO. %s",
		    cases[i].what,
		    r->returned && r->rc == 0
			? "returned 0, which means \"the peer closed cleanly between two frames\""
		    : r->returned && r->rc > 0 ? "returned a length as if the frame were whole"
		    : failed_with(r, EMSGSIZE)
			? "failed with EMSGSIZE, which is for a VALID frame longer than cap"
			: "failed with another errno",
		    i < 2 ? "Judge the header's length first: 0 and anything above FRAME_MAX are "
			    "protocol "
			    "errors."
			  : "End of stream inside a frame is a broken frame: only EOF before the "
			    "first "
			    "header byte is a clean end (0).");
	}
}

/* A connection reset is an error, never a clean end or a whole frame. */
static void a_reset_is_an_error(void)
{
	int e;
	ssize_t r = recv_after_reset(NULL, 0, &e);
	require_implemented(r < 0 && e == ENOSYS, "recv_frame");
	ck_assert_msg(r < 0,
		      "The peer reset the TCP connection (RST) between two frames: recv_frame() "
		      "returned %zd. A failed read (here ECONNRESET) is an error: return -1 and "
		      "keep its errno. Only a read that returns 0 before the first header byte "
		      "is a clean end.",
		      r);
	r = recv_after_reset("\0\0\0\12abc", 7, &e);
	ck_assert_msg(r < 0,
		      "The peer sent a header announcing 10 bytes and 3 of them, then reset the "
		      "TCP connection (RST): recv_frame() returned %zd. The read of the payload "
		      "failed (ECONNRESET): return -1, never a frame that was not all there.",
		      r);
}

/* send_frame: len 0 and FRAME_MAX + 1 are refused, and nothing goes on the wire. */
static void send_refuses_bad_lengths(void)
{
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK); /* a send that should not happen must not block either */
	char *buf = calloc(1, FRAME_MAX + 1);
	ck_assert(buf != NULL);
	errno = 0;
	ssize_t s0 = send_frame(sv[0], buf, 0);
	int e0 = errno;
	ssize_t w0 = recv(sv[1], buf, 64, MSG_DONTWAIT);
	errno = 0;
	ssize_t s1 = send_frame(sv[0], buf, FRAME_MAX + 1);
	int e1 = errno;
	char peek[64];
	ssize_t w1 = recv(sv[1], peek, sizeof peek, MSG_DONTWAIT);
	free(buf);
	close(sv[0]);
	close(sv[1]);
	errno = e0;
	require_implemented(s0 < 0, "send_frame");
	ck_assert_msg(
	    s0 < 0 && e0 == EINVAL && w0 < 0,
	    "send_frame(fd, buf, 0) returned %zd (%s) and put %zd bytes on the wire. A frame "
	    "carries "
	    "1 to FRAME_MAX bytes: length 0 is refused with -1/EINVAL before anything is sent (the "
	    "receiver would take an empty frame for a protocol error).",
	    s0, s0 < 0 ? errno_name(e0) : "no error", w0 < 0 ? (ssize_t)0 : w0);
	ck_assert_msg(
	    s1 < 0 && e1 == EMSGSIZE && w1 < 0,
	    "send_frame(fd, buf, FRAME_MAX + 1) returned %zd (%s) and put %zd bytes on the wire. A "
	    "payload longer than FRAME_MAX is refused with -1/EMSGSIZE before anything is sent.",
	    s1, s1 < 0 ? errno_name(e1) : "no error", w1 < 0 ? (ssize_t)0 : w1);
}

GRADER_TEST(frame_bad_lengths)
{
	bad_headers_and_cut_frames_are_eproto();
	a_reset_is_an_error();
	send_refuses_bad_lengths();
}

/* ---- the server ------------------------------------------------------------------------- */

/* Waits (at most TIMEOUT s) until PID sleeps in a blocking call; 0, or -1 when it ended or the
   deadline passed. */
static int wait_asleep(pid_t pid, double timeout)
{
	double deadline = probe_now() + timeout;
	for (;;) {
		char st = child_state(pid);
		if (st == 'S')
			return 0;
		if (st == 0 || st == 'Z' || st == 'X' || probe_now() > deadline)
			return -1;
		usleep(1000);
	}
}

/* Called before the clients hang up: gives the server child (at most 1 s) to get past its last
   accept(), to where a correct serve() sleeps waiting for its sessions and one that does not
   wait has already returned and seen them still running. Without it a loaded machine may run
   the sessions to their end before such a serve() even returns: it would pass by luck. */
static void server_settle(pid_t srv)
{
	wait_asleep(srv, 1.0);
}

static void echo_clients(const char *spec)
{
	int tcp = !strncmp(spec, "tcp:", 4);
	int lfd = sock_listen(spec);
	require_implemented(lfd < 0, "sock_listen");
	ck_assert_msg(lfd >= 0, "sock_listen(\"%s\") failed with %s.", spec, errno_name(errno));
	int port = tcp ? local_port(lfd) : -1;
	const char *path = tcp ? NULL : spec + 5;
	pid_t srv = start_server(lfd, 3, 0);
	close(lfd);
	ck_assert(srv > 0);

	enum { N = 3, ROUNDS = 3 };
	int c[N];
	char bad[300] = "";
	for (int i = 0; i < N; i++)
		c[i] = tcp ? tcp_connect(port) : unix_connect(path);
	for (int r = 0; r < ROUNDS && !*bad; r++) {
		char msg[N][64];
		for (int i = 0; i < N; i++) {
			snprintf(msg[i], sizeof msg[i], "client %d, round %d%s", i, r,
				 r == 1 ? ", a longer one" : "");
			if (c[i] < 0 || raw_send_frame(c[i], msg[i], (uint32_t)strlen(msg[i])) < 0)
				snprintf(bad, sizeof bad, "client %d could not connect or send", i);
		}
		for (int i = N - 1; i >= 0 && !*bad; i--) { /* answers read in the other order */
			char got[128] = "";
			ssize_t n = raw_recv_frame(c[i], got, sizeof got, 2.0);
			if (n != (ssize_t)strlen(msg[i]) || memcmp(got, msg[i], (size_t)n))
				snprintf(bad, sizeof bad,
					 "client %d sent the frame \"%s\" and got %s%.*s%s", i,
					 msg[i],
					 n < 0 && errno == ETIMEDOUT ? "no answer within 2 s"
					 : n <= 0		     ? "the connection closed"
								     : "\"",
					 n > 0 ? (int)n : 0, got, n > 0 ? "\"" : "");
		}
	}
	server_settle(srv);
	for (int i = 0; i < N; i++)
		if (c[i] >= 0)
			close(c[i]);
	char how[300];
	int rc = end_server(srv, 2.0, how, sizeof how);
	if (path)
		unlink(path);
	require_implemented(rc == 2, "serve");
	ck_assert_msg(
	    !*bad,
	    "Three clients connected to serve() on %s at once: %s (afterwards, the server %s). "
	    "All three must be served at the same time: a server that finishes one client "
	    "before accepting the next answers only the first.",
	    spec, bad, how);
	ck_assert_msg(
	    rc == 0, "After its 3 clients had come and gone, serve(lfd, 3) should return 0; it %s.",
	    how);
}

GRADER_TEST(server_echo_unix)
{
	echo_clients("unix:echo.sock");
}

GRADER_TEST(server_echo_tcp)
{
	echo_clients("tcp:127.0.0.1:0");
}

GRADER_TEST(server_slow_client)
{
	int lfd = sock_listen("unix:slow.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	pid_t srv = start_server(lfd, 2, 0);
	close(lfd);
	ck_assert(srv > 0);
	/* A: announces 10 bytes, sends 3, and stalls. */
	int a = unix_connect("slow.sock");
	uint32_t h = htonl(10);
	int a_ok =
	    a >= 0 && send(a, &h, 4, MSG_NOSIGNAL) == 4 && send(a, "abc", 3, MSG_NOSIGNAL) == 3;
	usleep(50 * 1000); /* let the server pick A up first */
	int b = unix_connect("slow.sock");
	char got[64] = "";
	double t0 = probe_now();
	ssize_t n = b >= 0 && raw_send_frame(b, "quick", 5) == 0
			? raw_recv_frame(b, got, sizeof got, 2.0)
			: -1;
	int timed_out = n < 0 && errno == ETIMEDOUT;
	double waited = probe_now() - t0;
	server_settle(srv);
	if (a >= 0)
		close(a); /* A hangs up in the middle of its frame */
	if (b >= 0)
		close(b);
	char how[300];
	int rc = end_server(srv, 2.0, how, sizeof how);
	unlink("slow.sock");
	require_implemented(rc == 2, "serve");
	ck_assert(a_ok);
	ck_assert_msg(
	    !timed_out,
	    "Client A sent half a frame and stalled; client B then sent \"quick\" and got no "
	    "answer within 2 s. The server is stuck waiting for the rest of A's frame: one slow "
	    "(or malicious) client blocks everyone. Serve clients concurrently: a process per "
	    "client (fork after accept), or poll() over all connections with per-connection "
	    "buffers.");
	ck_assert_msg(n == 5 && !memcmp(got, "quick", 5),
		      "Client B sent \"quick\" and got %zd bytes back "
		      "(\"%.*s\") after %.2f s.",
		      n, n > 0 ? (int)n : 0, got, waited);
	ck_assert_msg(
	    rc == 0,
	    "Client A hung up in the middle of a frame. That should end A's session only, "
	    "and serve(lfd, 2) should return 0 once both clients are gone; the server %s.",
	    how);
}

GRADER_TEST(server_closes_fds)
{
	int lfd = sock_listen("unix:many.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	/* Room for 8 more descriptors than the server starts with: a server that keeps one per
	   client runs out long before the last client. (Fewer clients, less luck under load.) */
	enum { CLIENTS = 40 };
	const int NOFILE = highest_fd() + 1 + 8;
	pid_t srv = start_server(lfd, CLIENTS, NOFILE);
	close(lfd);
	ck_assert(srv > 0);
	int served = 0;
	const char *why = "";
	for (; served < CLIENTS; served++) {
		int c = unix_connect("many.sock");
		char got[16] = "";
		ssize_t n = c >= 0 && raw_send_frame(c, "hi", 2) == 0
				? raw_recv_frame(c, got, sizeof got, 2.0)
				: -1;
		if (c < 0)
			why = "could not connect";
		else if (n < 0 && errno == ETIMEDOUT)
			why = "got no answer within 2 s";
		else if (n != 2)
			why = "saw the connection close without an answer";
		if (n == 2 && served == CLIENTS - 1)
			server_settle(srv); /* the last session is still open: see server_settle */
		if (c >= 0)
			close(c);
		if (n != 2)
			break;
	}
	char how[300];
	int rc = end_server(srv, 2.0, how, sizeof how);
	unlink("many.sock");
	require_implemented(rc == 2, "serve");
	ck_assert_msg(
	    served == CLIENTS,
	    "With its descriptor limit lowered to %d, the server answered %d clients one after "
	    "the other, then client %d %s (the server %s). Each accept() returns a NEW "
	    "descriptor: close it when the client is done (in a forking server, the parent closes "
	    "its copy right after fork()), or the server runs out and accept() fails with EMFILE.",
	    NOFILE, served, served + 1, why, how);
	ck_assert_msg(rc == 0, "serve(lfd, %d) should return 0 after its %d clients; it %s.",
		      CLIENTS, CLIENTS, how);
}

/* Both clients are accepted and served, and stay connected: the sessions are running. What
   went wrong, if anything, goes to BAD. */
static void two_sessions_running(int c[2], char *bad, size_t cap)
{
	for (int i = 0; i < 2 && !*bad; i++) {
		c[i] = unix_connect("sig.sock");
		char got[16] = "";
		if (c[i] < 0 || raw_send_frame(c[i], "ping", 4) < 0 ||
		    raw_recv_frame(c[i], got, sizeof got, 3.0) != 4)
			snprintf(bad, cap, "client %d got no echo of \"ping\"", i + 1);
	}
}

/* Now serve() has nothing left to accept: it waits for its sessions. Interrupt that wait (three
   times); returns whether the server survived, with the handler's runs added to *DELIVERED. */
static int interrupt_the_wait(pid_t srv, const char *bad, int *delivered)
{
	int survived = 1;
	for (int k = 0; k < 3 && !*bad && survived; k++) {
		if (wait_asleep(srv, 3.0) < 0) {
			survived = 0;
			break;
		}
		int seen = *signals_caught;
		kill(srv, SIGUSR1);
		double deadline = probe_now() + 3.0;
		while (*signals_caught == seen && probe_now() < deadline && child_state(srv) != 'Z')
			usleep(1000);
		*delivered += *signals_caught > seen;
		survived = wait_asleep(srv, 3.0) == 0;
	}
	return survived;
}

GRADER_TEST(server_signal_while_waiting)
{
	int lfd = sock_listen("unix:sig.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	signals_caught = child_shared(sizeof(int));
	pid_t srv = start_server_ex(lfd, 2, 0, 1);
	close(lfd);
	ck_assert(srv > 0);
	int c[2];
	char bad[200] = "";
	two_sessions_running(c, bad, sizeof bad);
	int delivered = 0;
	int survived = interrupt_the_wait(srv, bad, &delivered);
	/* The sessions still work, then end. */
	char got[16] = "";
	int still = survived && !*bad && raw_send_frame(c[0], "late", 4) == 0 &&
		    raw_recv_frame(c[0], got, sizeof got, 3.0) == 4 && !memcmp(got, "late", 4);
	for (int i = 0; i < 2; i++)
		if (c[i] >= 0)
			close(c[i]);
	char how[300];
	int rc = end_server(srv, 3.0, how, sizeof how);
	child_shared_free((void *)signals_caught, sizeof(int));
	signals_caught = NULL;
	unlink("sig.sock");
	require_implemented(rc == 2, "serve");
	ck_assert_msg(!*bad, "serve(lfd, 2) on a UNIX socket: %s (the server %s).", bad, how);
	ck_assert_msg(
	    survived && rc != SERVER_LEFT_CHILDREN,
	    "Two clients were being served, so serve() was waiting for their sessions to end. A "
	    "signal arrived (SIGUSR1, caught by a handler installed without SA_RESTART, so the "
	    "blocking call failed with EINTR) and the server %s. Like read(), waitpid() (or "
	    "poll(), or wait()) returns -1/EINTR when a signal interrupts it: that is no reason to "
	    "stop waiting. Call it again until every session has ended.",
	    survived  ? how
	    : rc == 0 ? "returned 0 while both sessions were still running"
		      : how);
	ck_assert_msg(delivered > 0, "The server never ran its SIGUSR1 handler.");
	ck_assert_msg(
	    still, "After serve() was interrupted by a signal, a client's session no longer echoed "
		   "its frames.");
	ck_assert_msg(rc == 0, "After its 2 clients left, serve(lfd, 2) should return 0; it %s.",
		      how);
}

/* serve()'s second fork() fails (EAGAIN). The refused client must see its connection closed,
   the first session must go on, and serve must end cleanly: -1/EAGAIN once session 1 is
   over, or 0 (it went on accepting; client 3 is there for a server that does not count the
   refused client). A server that forks nothing per client (poll, threads) has nothing to show. */
/* Client 2, whose fork() fails, must see its connection closed, and client 1's session must go
   on. Opens client 2 in *C2; what went wrong, if anything, goes to BAD. Returns whether the
   server forks per client (it had a child while serving client 1). */
static int refused_client_is_closed(pid_t srv, int c1, int *c2, char *bad, size_t cap)
{
	char got[16] = "";
	pid_t kids[8];
	int forking = probe_descendants(srv, kids, 8) > 0;
	*c2 = unix_connect("ff.sock");
	errno = 0;
	ssize_t r = *c2 < 0 ? -2 : raw_recv_frame(*c2, got, sizeof got, 2.0);
	int ended = r == 0 || (r < 0 && errno == ECONNRESET);
	if (*c2 < 0)
		snprintf(bad, cap, "client 2 could not connect");
	else if (forking && !ended) {
		int served = raw_send_frame(*c2, "two", 3) == 0 &&
			     raw_recv_frame(*c2, got, sizeof got, 1.0) == 3;
		snprintf(bad, cap, "The fork() for client 2 failed (EAGAIN), and client 2 %s. %s",
			 served ? "was then served by the server process itself"
				: "stayed connected to nobody: no end of stream within 2 s",
			 served ? "fork() returned -1 and your code took the child's branch: "
				  "-1 is not a pid. Check pid < 0 first."
				: "The accepted descriptor was never closed, so the client "
				  "waits forever. Close it when fork() fails.");
	} else if (raw_send_frame(c1, "again", 5) < 0 ||
		   raw_recv_frame(c1, got, sizeof got, 3.0) != 5 || memcmp(got, "again", 5))
		snprintf(bad, cap,
			 "After the fork() for client 2 failed, client 1's session no "
			 "longer echoed \"again\": a failed fork must not end sessions that "
			 "are running");
	return forking;
}

GRADER_TEST(server_fork_fails)
{
	int lfd = sock_listen("unix:ff.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	fork_fail_nth = 2;
	pid_t srv = start_server(lfd, 2, 0);
	fork_fail_nth = 0;
	close(lfd);
	ck_assert(srv > 0);
	char bad[400] = "", got[16] = "";
	int c1 = unix_connect("ff.sock"), c2 = -1, c3 = -1, forking = 0;
	if (c1 < 0 || raw_send_frame(c1, "one", 3) < 0 ||
	    raw_recv_frame(c1, got, sizeof got, 3.0) != 3 || memcmp(got, "one", 3))
		snprintf(bad, sizeof bad, "client 1 got no echo of \"one\"");
	if (!*bad)
		forking = refused_client_is_closed(srv, c1, &c2, bad, sizeof bad);
	if (!*bad)
		c3 = unix_connect("ff.sock"); /* for a server that keeps accepting */
	if (c3 >= 0)
		close(c3);
	if (c2 >= 0)
		close(c2);
	if (c1 >= 0)
		close(c1);
	char how[300];
	int rc = end_server(srv, 3.0, how, sizeof how);
	unlink("ff.sock");
	require_implemented(rc == 2, "serve");
	ck_assert_msg(!*bad, "serve(lfd, 2), its 2nd fork() made to fail: %s (the server %s).",
		      bad, how);
	ck_assert_msg(rc == 0 || (rc == SERVER_RETURNED_EAGAIN && forking),
		      "serve(lfd, 2) whose 2nd fork() failed with EAGAIN: the refused client was "
		      "closed and client 1's session went on, but then the server %s. Either go on "
		      "accepting (and return 0 when your sessions are over) or return -1 with "
		      "fork's errno (save it before close() or waitpid() can change it), and only "
		      "after every session you started has ended and been reaped.",
		      how);
}

/* ---- addresses and restarts ------------------------------------------------------------- */

GRADER_TEST(address_forms)
{
	/* The test's own listeners; sock_connect must reach both kinds. */
	struct sockaddr_un ua = {.sun_family = AF_UNIX, .sun_path = "conn.sock"};
	int ul = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(bind(ul, (struct sockaddr *)&ua, sizeof ua) == 0 && listen(ul, 4) == 0);
	struct sockaddr_in ta = {.sin_family = AF_INET};
	ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int tl = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(bind(tl, (struct sockaddr *)&ta, sizeof ta) == 0 && listen(tl, 4) == 0);
	char tspec[64];
	snprintf(tspec, sizeof tspec, "tcp:127.0.0.1:%d", local_port(tl));

	int cu = sock_connect("unix:conn.sock");
	int eu = errno;
	int ct = sock_connect(tspec);
	int et = errno;
	int su = cu >= 0 ? accept(ul, NULL, NULL) : -1;
	int st = ct >= 0 ? accept(tl, NULL, NULL) : -1;
	char x = 0, y = 0;
	int u_ok = su >= 0 && write(cu, "u", 1) == 1 && read(su, &x, 1) == 1 && x == 'u';
	int t_ok = st >= 0 && write(ct, "t", 1) == 1 && read(st, &y, 1) == 1 && y == 't';
	int fds[] = {cu, ct, su, st, ul, tl};
	for (int i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink("conn.sock");
	int bad = sock_listen("carrier-pigeon:42");
	int ebad = errno;
	if (bad >= 0)
		close(bad);

	errno = eu;
	require_implemented(cu < 0, "sock_connect");
	ck_assert_msg(
	    u_ok,
	    "sock_connect(\"unix:conn.sock\") should connect to the UNIX socket at conn.sock "
	    "(it returned %d, %s).",
	    cu, cu < 0 ? errno_name(eu) : "but no byte went through");
	ck_assert_msg(t_ok, "sock_connect(\"%s\") should connect over TCP (it returned %d, %s).",
		      tspec, ct, ct < 0 ? errno_name(et) : "but no byte went through");
	ck_assert_msg(
	    bad < 0 && ebad == EINVAL,
	    "sock_listen(\"carrier-pigeon:42\") should fail with EINVAL (an address it cannot "
	    "parse); it returned %d%s%s.",
	    bad, bad < 0 ? ", errno " : "", bad < 0 ? errno_name(ebad) : "");
}

/* A live server that is busy: its backlog (listen(fd, 0)) is full of clients it has not
   accepted yet. Fills it with non-blocking connects until one gets EAGAIN; returns how many
   wait in it (their descriptors in Q). */
static int fill_backlog(const struct sockaddr_un *a, int *q, int max)
{
	int n = 0;
	while (n < max) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert(c >= 0);
		if (connect(c, (const struct sockaddr *)a, sizeof *a) < 0) {
			int e = errno;
			close(c);
			ck_assert_msg(e == EAGAIN, "test setup: filling a backlog gave %s",
				      errno_name(e));
			return n;
		}
		q[n++] = c;
	}
	ck_abort_msg("test setup: a backlog of 0 took %d clients", max);
	return n;
}

/* sock_listen on the path of a live but BUSY server, in a child (*RES: its result and errno).
   A knock that blocks (no SOCK_NONBLOCK) waits for room: once the child sleeps, the server
   accepts its waiting clients, as a busy server eventually does. */
static void listen_on_busy_path(int live, const struct sockaddr_un *a, int *res)
{
	int q[8];
	int nq = fill_backlog(a, q, 8);
	res[0] = -2;
	pid_t pid = child_fork();
	if (pid == 0) {
		errno = 0;
		int fd = sock_listen("unix:busy.sock");
		res[1] = errno;
		res[0] = fd;
		_exit(0);
	}
	wait_asleep(pid, probe_bound(3.0));
	int s;
	while ((s = accept4(live, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(s);
	child_wait(pid, 3.0);
	for (int i = 0; i < nq; i++)
		close(q[i]);
}

/* A busy server is alive: its path fails with EADDRINUSE and its socket file stays. */
static void busy_server_is_not_stolen(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "busy.sock"};
	int live = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert(live >= 0 && bind(live, (struct sockaddr *)&a, sizeof a) == 0 &&
		  listen(live, 0) == 0);
	struct stat before, after;
	ck_assert(stat("busy.sock", &before) == 0);
	int *res = child_shared(2 * sizeof *res);
	listen_on_busy_path(live, &a, res);
	int fd = res[0], err = res[1];
	bool kept = stat("busy.sock", &after) == 0 && after.st_ino == before.st_ino;
	child_shared_free(res, 2 * sizeof *res);
	close(live);
	unlink("busy.sock");
	ck_assert_msg(
	    fd == -1 && err == EADDRINUSE && kept,
	    "A server was LIVE on unix:busy.sock but busy: its backlog was full of clients it had "
	    "not accepted yet, so a non-blocking connect() there fails with EAGAIN. A second "
	    "sock_listen() on that path %s%s, and the server's socket file was %s. Only "
	    "ECONNREFUSED (nobody listens) or ENOENT (no file) mean stale; any other error of "
	    "the knock means someone may be there: keep the path and fail with EADDRINUSE.",
	    fd >= 0    ? "succeeded"
	    : fd == -2 ? "never returned"
		       : "failed with ",
	    fd >= 0 || fd == -2 ? "" : errno_name(err), kept ? "kept" : "REPLACED (stolen)");
}

GRADER_TEST(unix_stale_path)
{
	int l1 = sock_listen("unix:stale.sock");
	require_implemented(l1 < 0, "sock_listen");
	ck_assert_msg(l1 >= 0, "sock_listen(\"unix:stale.sock\") failed with %s.",
		      errno_name(errno));
	close(l1); /* the server "crashes": its socket file stays behind */
	int l2 = sock_listen("unix:stale.sock");
	int e2 = errno;
	int l3 =
	    l2 >= 0 ? sock_listen("unix:stale.sock") : -1; /* l2 is alive: must not be stolen */
	int e3 = errno;
	int c = l2 >= 0 ? unix_connect("stale.sock") : -1;
	int reach = c >= 0;
	if (c >= 0)
		close(c);
	if (l3 >= 0)
		close(l3);
	if (l2 >= 0)
		close(l2);
	unlink("stale.sock");
	ck_assert_msg(
	    l2 >= 0,
	    "A server listened on unix:stale.sock and went away; restarting it failed with %s. "
	    "A UNIX socket's file outlives its socket, so bind() finds the name taken. If "
	    "nobody accepts there any more (connect() gives ECONNREFUSED), unlink() the stale "
	    "file and bind again.",
	    errno_name(e2));
	ck_assert_msg(
	    l3 < 0 && e3 == EADDRINUSE && reach,
	    "While a server was LIVE on unix:stale.sock, a second sock_listen() on the same path "
	    "%s. Removing the file of a live server steals its name: new clients reach the "
	    "newcomer and the old server silently loses them. Only unlink a path that refuses "
	    "connections; otherwise fail with EADDRINUSE.",
	    l3 >= 0 ? "succeeded" : "failed with the wrong errno");
	busy_server_is_not_stolen();
}

/* The socket() sock_listen would knock with fails (ENFILE) while a live server owns the path:
   -1 with ENFILE, nothing left open, and the live server keeps its name. */
GRADER_TEST(unix_knock_fails)
{
	int live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "knock.sock"};
	ck_assert(live >= 0 && bind(live, (struct sockaddr *)&a, sizeof a) == 0 &&
		  listen(live, 8) == 0);
	struct stat before, after;
	ck_assert(stat("knock.sock", &before) == 0);
	int nfd = probe_fd_count();
	fault_fail_call("socket", 2, ENFILE);
	errno = 0;
	int fd = sock_listen("unix:knock.sock");
	int e = errno;
	unsigned long failed = fault_failed_calls();
	fault_fail_clear();
	int left = probe_fd_count() - nfd - (fd >= 0);
	if (fd >= 0)
		close(fd);
	int same = stat("knock.sock", &after) == 0 && after.st_ino == before.st_ino;
	int c = unix_connect("knock.sock");
	int got = c >= 0 ? accept4(live, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	int reached = got >= 0;
	if (got >= 0)
		close(got);
	if (c >= 0)
		close(c);
	close(live);
	unlink("knock.sock");
	errno = e;
	require_implemented(fd < 0, "sock_listen");
	ck_assert_msg(fd < 0 && same && reached,
		      "A server was LIVE on unix:knock.sock and the socket() your sock_listen makes "
		      "after the first one failed (ENFILE): sock_listen %s. If you cannot knock "
		      "to check the path, you cannot know it is stale: leave it alone and fail.",
		      fd >= 0 ? "succeeded: it took the live server's name"
		      : !same ? "failed but removed the live server's socket file"
			      : "failed, but the live server no longer receives new clients");
	ck_assert_msg(left <= 0,
		      "sock_listen(\"unix:knock.sock\") failed (its knocking socket() gave ENFILE) "
		      "but left %d descriptor(s) open. Close what you opened before returning -1.",
		      left);
	ck_assert_msg(!failed || e == ENFILE,
		      "sock_listen(\"unix:knock.sock\"): bind() found the name taken, and the "
		      "socket() to knock with (connect, to see if anyone listens) failed with "
		      "ENFILE, but sock_listen failed with %s. Check socket()'s result: on -1 "
		      "return -1 at once, keeping its errno (connect(-1, ...) only gives EBADF, "
		      "and the path was never checked).",
		      errno_name(e));
}

GRADER_TEST(tcp_reuseaddr)
{
	int l1 = sock_listen("tcp:127.0.0.1:0");
	require_implemented(l1 < 0, "sock_listen");
	ck_assert_msg(l1 >= 0, "sock_listen(\"tcp:127.0.0.1:0\") failed with %s.",
		      errno_name(errno));
	int port = local_port(l1);
	ck_assert_msg(port > 0,
		      "sock_listen(\"tcp:127.0.0.1:0\") should bind a TCP socket on 127.0.0.1.");
	int c = tcp_connect(port);
	int s = c >= 0 ? accept(l1, NULL, NULL) : -1;
	/* The server closes first, so ITS end of the connection waits in TIME_WAIT (about 60 s). */
	if (s >= 0)
		close(s);
	char x;
	if (c >= 0) {
		read_by(c, &x, 1, probe_now() + 1.0); /* EOF: the server's FIN arrived */
		close(c);
	}
	close(l1);
	usleep(20 * 1000);
	char spec[64];
	snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", port);
	int l2 = sock_listen(spec);
	int e2 = errno;
	if (l2 >= 0)
		close(l2);
	ck_assert(s >= 0);
	ck_assert_msg(
	    l2 >= 0,
	    "A TCP server on port %d closed a connection, then restarted on the same port: "
	    "sock_listen(\"%s\") failed with %s. The old connection is in TIME_WAIT for about a "
	    "minute and blocks bind() unless the socket sets SO_REUSEADDR before bind().",
	    port, spec, errno_name(e2));
}

GRADER_TEST(connect_refused)
{
	/* A stale socket file: bound, then its listener closed. */
	struct sockaddr_un ua = {.sun_family = AF_UNIX, .sun_path = "gone.sock"};
	int dead = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(bind(dead, (struct sockaddr *)&ua, sizeof ua) == 0 && listen(dead, 1) == 0);
	close(dead);
	/* A TCP port that is ours (bound) but where nobody listens. */
	struct sockaddr_in ta = {.sin_family = AF_INET};
	ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int quiet = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(bind(quiet, (struct sockaddr *)&ta, sizeof ta) == 0);
	char tspec[64];
	snprintf(tspec, sizeof tspec, "tcp:127.0.0.1:%d", local_port(quiet));

	struct {
		const char *spec, *what;
		int want;
	} cases[] = {
	    {"unix:nobody-here.sock", "a UNIX path that does not exist", ENOENT},
	    {"unix:gone.sock", "a stale UNIX socket file (its server is gone)", ECONNREFUSED},
	    {tspec, "a TCP port where nobody listens", ECONNREFUSED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int before = probe_fd_count();
		errno = 0;
		int fd = sock_connect(cases[i].spec);
		int e = errno, after = probe_fd_count();
		if (fd >= 0)
			close(fd);
		if (i == 2)
			close(quiet);
		if (i == 2)
			unlink("gone.sock");
		errno = e;
		require_implemented(fd < 0, "sock_connect");
		ck_assert_msg(fd < 0,
			      "sock_connect(\"%s\"), %s, returned descriptor %d: a socket that is "
			      "NOT connected. "
			      "connect() failed and your code went on anyway. Check what connect() "
			      "returns: on "
			      "-1, close the socket and return -1 with connect's errno.",
			      cases[i].spec, cases[i].what, fd);
		ck_assert_msg(e == cases[i].want,
			      "sock_connect(\"%s\"), %s, failed with %s; connect() itself says "
			      "%s: leave its errno for the caller (save it before close()).",
			      cases[i].spec, cases[i].what, errno_name(e),
			      errno_name(cases[i].want));
		ck_assert_msg(
		    after == before,
		    "sock_connect(\"%s\") failed, as it should, but left %d descriptor(s) open. On "
		    "a "
		    "failure path close the socket you created: a client that retries leaks one "
		    "descriptor per attempt.",
		    cases[i].spec, after - before);
	}
	unlink("gone.sock");
}

/* Port 65535 is the largest valid port; someone else may be using it (EADDRINUSE). */
static void largest_port_is_valid(void)
{
	int l = sock_listen("tcp:127.0.0.1:65535");
	int e = errno;
	int port = l >= 0 ? local_port(l) : -1;
	if (l >= 0)
		close(l);
	require_implemented(l < 0, "sock_listen");
	ck_assert_msg(
	    (l >= 0 && port == 65535) || (l < 0 && e == EADDRINUSE),
	    "sock_listen(\"tcp:127.0.0.1:65535\") %s%s. 65535 is a valid port (the largest): "
	    "only a number above it is EINVAL.",
	    l >= 0 ? "bound port " : "failed with ",
	    l >= 0 ? (port == 65535 ? "65535" : "another port") : errno_name(e));
}

/* The IP is honoured: 127.0.0.2 is a loopback address of its own. */
static void the_named_ip_is_bound(void)
{
	int l = sock_listen("tcp:127.0.0.2:0");
	int e = errno;
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof a;
	if (l >= 0) {
		getsockname(l, (struct sockaddr *)&a, &alen);
		close(l);
	}
	char ip[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
	ck_assert_msg(l >= 0 && a.sin_addr.s_addr == htonl(0x7f000002),
		      "sock_listen(\"tcp:127.0.0.2:0\") %s %s. Bind the address the string names "
		      "(inet_pton fills sin_addr), not any other.",
		      l >= 0 ? "bound" : "failed with", l >= 0 ? ip : errno_name(e));
}

/* The longest UNIX path that fits sun_path (107 bytes and its NUL) works; a longer one
 * fails, from the first byte too many (108: no room left for the NUL) on. */
static void unix_path_fits_sun_path_exactly(void)
{
	char path[200], spec[220];
	memset(path, 'p', sizeof path);
	path[107] = '\0';
	snprintf(spec, sizeof spec, "unix:%s", path);
	int l = sock_listen(spec);
	int e = errno;
	if (l >= 0)
		close(l);
	unlink(path);
	ck_assert_msg(
	    l >= 0,
	    "sock_listen(\"unix:<a path of 107 bytes>\") failed with %s. sun_path holds 108 "
	    "bytes: a path of 107 and its NUL fit.",
	    errno_name(e));
	const int too_long[] = {108, 199};
	for (int i = 0; i < 2; i++) {
		memset(path, 'p', sizeof path);
		path[too_long[i]] = '\0';
		snprintf(spec, sizeof spec, "unix:%s", path);
		int before = probe_fd_count();
		errno = 0;
		l = sock_listen(spec);
		e = errno;
		int after = probe_fd_count();
		if (l >= 0)
			close(l);
		unlink(path);
		ck_assert_msg(
		    l < 0 && (e == EINVAL || e == ENAMETOOLONG) && after == before,
		    "sock_listen(\"unix:<a path of %d bytes>\") %s%s%s. sun_path holds 108 bytes, "
		    "the path AND its NUL: 107 is the longest path. A longer one cannot be an "
		    "address: fail with EINVAL or ENAMETOOLONG (test n >= sizeof sun_path, not >), "
		    "and never bind it cut short or without its NUL: that is ANOTHER path.",
		    too_long[i], l >= 0 ? "succeeded" : "failed with ", l >= 0 ? "" : errno_name(e),
		    l < 0 && after != before ? " and left a descriptor open" : "");
	}
}

/* A 15-character IP (the longest dotted quad) is fine; errno left over from before is no
 * error. */
static void stale_errno_is_no_error(void)
{
	errno = EADDRINUSE;
	int l = sock_listen("tcp:127.100.200.255:0");
	int e = errno;
	if (l >= 0)
		close(l);
	ck_assert_msg(
	    l >= 0,
	    "sock_listen(\"tcp:127.100.200.255:0\") (errno was EADDRINUSE before the call, left "
	    "over from something else) failed with %s. A 15-character dotted quad is "
	    "valid, and only the result of a call tells whether it failed: errno alone "
	    "says nothing.",
	    errno_name(e));
	errno = EADDRINUSE;
	l = sock_listen("unix:fresh.sock");
	e = errno;
	if (l >= 0)
		close(l);
	unlink("fresh.sock");
	ck_assert_msg(
	    l >= 0,
	    "sock_listen(\"unix:fresh.sock\"), a path nobody uses, failed with %s when errno "
	    "was EADDRINUSE before the call. Test what bind() RETURNS before looking at "
	    "errno: errno keeps old values after a successful call.",
	    errno_name(e));
}

/* Every malformed spec is -1/EINVAL from sock_listen, with no descriptor left open. */
static void malformed_listen_specs_are_einval(void)
{
	char long_host[300] = "tcp:"; /* a host far too long for any IP */
	memset(long_host + 4, '7', 240);
	strcpy(long_host + 244, ":80");
	const char *bad[] = {
	    "tcq:127.0.0.1:0",
	    "tcp:127.0.0.1.127.0.0.1.127:0",
	    long_host,
	    "tcp:127.0.0.1:65536",
	    "tcp:127.0.0.1:",
	    "tcp:127.0.0.1:80x",
	    "tcp:127.0.0.1",
	    "tcp:127.0.0.256:0",
	    "udp:127.0.0.1:0",
	    "tcp=127.0.0.1:0",
	    "unix",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int before = probe_fd_count();
		errno = 0;
		int fd = sock_listen(bad[i]);
		int e = errno;
		int after = probe_fd_count();
		if (fd >= 0)
			close(fd);
		ck_assert_msg(
		    fd < 0 && e == EINVAL && after == before,
		    "sock_listen(\"%s\") %s%s%s. The port is a decimal number from 0 to 65535 with "
		    "nothing after it, the IP a dotted quad, the kind \"tcp\" or \"unix\" (for "
		    "sock_listen): anything else is -1/EINVAL, with no descriptor left open.",
		    bad[i], fd >= 0 ? "succeeded" : "failed with ", fd >= 0 ? "" : errno_name(e),
		    fd < 0 && after != before ? " and left a descriptor open" : "");
	}
}

/* sock_connect and sock_dgram refuse the kinds they do not take: EINVAL. */
static void wrong_kinds_are_einval(void)
{
	const char *bad_connect[] = {"udp:127.0.0.1:9", "tcp:127.0.0.1:99999"};
	for (size_t i = 0; i < 2; i++) {
		errno = 0;
		int fd = sock_connect(bad_connect[i]);
		int e = errno;
		if (fd >= 0)
			close(fd);
		ck_assert_msg(fd < 0 && e == EINVAL,
			      "sock_connect(\"%s\") %s%s; it should fail with EINVAL.",
			      bad_connect[i], fd >= 0 ? "succeeded" : "failed with ",
			      fd >= 0 ? "" : errno_name(e));
	}
	errno = 0;
	int d = sock_dgram("tcp:127.0.0.1:0");
	int e = errno;
	if (d >= 0)
		close(d);
	ck_assert_msg(d < 0 && e == EINVAL,
		      "sock_dgram(\"tcp:127.0.0.1:0\") %s%s; sock_dgram takes \"udp:\" and "
		      "\"unix:\" only: EINVAL.",
		      d >= 0 ? "succeeded" : "failed with ", d >= 0 ? "" : errno_name(e));
}

GRADER_TEST(address_limits)
{
	largest_port_is_valid();
	the_named_ip_is_bound();
	unix_path_fits_sun_path_exactly();
	stale_errno_is_no_error();
	malformed_listen_specs_are_einval();
	wrong_kinds_are_einval();
}

GRADER_TEST(descriptors_cloexec)
{
	int tl = sock_listen("tcp:127.0.0.1:0");
	require_implemented(tl < 0, "sock_listen");
	ck_assert(tl >= 0);
	char tspec[64];
	snprintf(tspec, sizeof tspec, "tcp:127.0.0.1:%d", local_port(tl));
	int fds[6];
	const char *what[6] = {"sock_listen(\"tcp:...\")",  "sock_listen(\"unix:...\")",
			       "sock_connect(\"tcp:...\")", "sock_connect(\"unix:...\")",
			       "sock_dgram(\"udp:...\")",   "sock_dgram(\"unix:...\")"};
	fds[0] = tl;
	fds[1] = sock_listen("unix:cloexec.sock");
	fds[2] = sock_connect(tspec);
	fds[3] = fds[1] >= 0 ? sock_connect("unix:cloexec.sock") : -1;
	fds[4] = sock_dgram("udp:127.0.0.1:0");
	fds[5] = sock_dgram("unix:cloexec-dgram.sock");
	int flags[6];
	for (int i = 0; i < 6; i++) {
		flags[i] = fds[i] >= 0 ? fcntl(fds[i], F_GETFD) : -1;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	unlink("cloexec.sock");
	unlink("cloexec-dgram.sock");
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(fds[i] >= 0, "%s failed with %s.", what[i], errno_name(errno));
		ck_assert_msg(
		    flags[i] & FD_CLOEXEC,
		    "The descriptor %s returned is not close-on-exec. Without it, every program "
		    "this "
		    "process (or a child) exec()s inherits the socket: a helper keeps a client's "
		    "connection open after the server closed it, or holds its port. Create it with "
		    "socket(..., type | SOCK_CLOEXEC, 0).",
		    what[i]);
	}
}

/* In a child whose every descriptor slot is taken: each function must fail with EMFILE, the
   error of the call that failed. CALL[i] says what the i-th did (exit 99: the setup failed). */
typedef struct {
	char tspec[64]; /* a TCP listener of the test's own */
	int lfd;	/* a UNIX listener of the test's own, at full.sock */
	call_report call[5];
} no_fd_case;

static void no_fd_left_child(void *arg)
{
	no_fd_case *c = arg;
	int pending = unix_connect("full.sock"); /* a client waiting to be accepted */
	if (pending < 0)
		_exit(99);
	probe_nofile(highest_fd() + 1);
	while (open("/dev/null", O_RDONLY) >= 0) /* fill the gaps below: no free slot from now on */
		;
	struct ucred who;
	call_report *r = c->call;
	errno = 0, r[0].rc = sock_listen("unix:nofd.sock"), r[0].err = errno, r[0].returned = true;
	errno = 0, r[1].rc = sock_connect(c->tspec), r[1].err = errno, r[1].returned = true;
	errno = 0, r[2].rc = sock_dgram("udp:127.0.0.1:0"), r[2].err = errno, r[2].returned = true;
	errno = 0, r[3].rc = auth_accept(c->lfd, getuid(), &who), r[3].err = errno;
	r[3].returned = true;
	errno = 0, r[4].rc = serve(c->lfd, 1), r[4].err = errno, r[4].returned = true;
}

/* The first of the five calls that was not implemented (*STUB) or did not fail with EMFILE;
   -1 if none. */
static int first_wrong_call(const call_report *r, bool *stub)
{
	*stub = false;
	for (int i = 0; i < 5; i++) {
		*stub = failed_with(&r[i], ENOSYS);
		if (*stub || !failed_with(&r[i], EMFILE))
			return i;
	}
	return -1;
}

GRADER_TEST(no_descriptor_left)
{
	struct sockaddr_un ua = {.sun_family = AF_UNIX, .sun_path = "full.sock"};
	int ul = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(bind(ul, (struct sockaddr *)&ua, sizeof ua) == 0 && listen(ul, 4) == 0);
	struct sockaddr_in ta = {.sin_family = AF_INET};
	ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int tl = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(bind(tl, (struct sockaddr *)&ta, sizeof ta) == 0 && listen(tl, 4) == 0);
	no_fd_case arg = {.lfd = ul};
	snprintf(arg.tspec, sizeof arg.tspec, "tcp:127.0.0.1:%d", local_port(tl));
	child_end end = child_run(no_fd_left_child, &arg, sizeof arg, 3.0);
	bool stub;
	int i = first_wrong_call(arg.call, &stub);
	close(ul);
	close(tl);
	unlink("full.sock");
	unlink("nofd.sock");
	static const char *const what[5] = {
	    "sock_listen(\"unix:nofd.sock\")", "sock_connect(\"tcp:127.0.0.1:...\")",
	    "sock_dgram(\"udp:127.0.0.1:0\")", "auth_accept() with a client waiting",
	    "serve(lfd, 1) with a client waiting"};
	char how[300];
	errno = ENOSYS;
	require_implemented(stub, "sock_listen, sock_connect, sock_dgram, auth_accept or serve");
	ck_assert_msg(end.exited && end.code != 99,
		      "With no descriptor left to give (RLIMIT_NOFILE reached), the "
		      "process calling your functions %s.",
		      describe_end(end, how, sizeof how));
	ck_assert_msg(
	    i < 0,
	    "With every descriptor slot taken (RLIMIT_NOFILE reached), %s %s. The call that "
	    "needed a new descriptor (socket() or accept()) failed with EMFILE: check its result "
	    "at once and return -1 with that errno. Going on with -1 as a descriptor only turns "
	    "the real error into a confusing one (EBADF) later%s.",
	    what[i < 0 ? 0 : i],
	    i >= 0 && arg.call[i].returned && arg.call[i].rc >= 0 ? "did not fail"
								  : "failed with another errno",
	    i == 4 ? ", or makes a server spin" : "");
}

/* ---- datagrams --------------------------------------------------------------------------- */

static int udp_to(int port, const void *buf, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t w = sendto(s, buf, n, 0, (struct sockaddr *)&a, sizeof a);
	close(s);
	return w == (ssize_t)n ? 0 : -1;
}

GRADER_TEST(dgram_boundaries)
{
	int fd = sock_dgram("udp:127.0.0.1:0");
	require_implemented(fd < 0, "sock_dgram");
	ck_assert_msg(fd >= 0, "sock_dgram(\"udp:127.0.0.1:0\") failed with %s.",
		      errno_name(errno));
	int port = local_port(fd);
	ck_assert(port > 0 && udp_to(port, "abc", 3) == 0 && udp_to(port, "defgh", 5) == 0);
	char a[64] = "", b[64] = "";
	ssize_t r1 = recv_dgram(fd, a, sizeof a);
	int err = errno;
	ssize_t r2 = r1 >= 0 ? recv_dgram(fd, b, sizeof b) : -1;
	close(fd);
	errno = err;
	require_implemented(r1 < 0, "recv_dgram");
	ck_assert_msg(
	    r1 == 3 && r2 == 5 && !memcmp(a, "abc", 3) && !memcmp(b, "defgh", 5),
	    "Two datagrams \"abc\" and \"defgh\" should come back as two receives of 3 and 5 "
	    "bytes (a datagram socket keeps boundaries); got %zd and %zd.",
	    r1, r2);

	/* The same over a UNIX datagram socket. */
	int ufd = sock_dgram("unix:dgram.sock");
	int ue = errno;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ua = {.sun_family = AF_UNIX, .sun_path = "dgram.sock"};
	ssize_t u1 = -1, u2 = -1;
	if (ufd >= 0 && sendto(s, "one", 3, 0, (struct sockaddr *)&ua, sizeof ua) == 3 &&
	    sendto(s, "three", 5, 0, (struct sockaddr *)&ua, sizeof ua) == 5) {
		u1 = recv_dgram(ufd, a, sizeof a);
		u2 = recv_dgram(ufd, b, sizeof b);
	}
	close(s);
	if (ufd >= 0)
		close(ufd);
	unlink("dgram.sock");
	ck_assert_msg(ufd >= 0, "sock_dgram(\"unix:dgram.sock\") failed with %s.", errno_name(ue));
	ck_assert_msg(u1 == 3 && u2 == 5,
		      "Over a UNIX datagram socket, \"one\" and \"three\" came back as %zd "
		      "and %zd bytes; expected 3 and 5.",
		      u1, u2);
}

GRADER_TEST(dgram_truncation)
{
	int fd = sock_dgram("udp:127.0.0.1:0");
	require_implemented(fd < 0, "sock_dgram");
	ck_assert(fd >= 0);
	int port = local_port(fd);
	char big[100];
	pattern(big, sizeof big, 1);
	ck_assert(udp_to(port, big, sizeof big) == 0 && udp_to(port, "next", 4) == 0);
	char buf[64];
	memset(buf, 0, sizeof buf);
	ssize_t r1 = recv_dgram(fd, buf, 10);
	int err = errno;
	char nxt[64] = "";
	ssize_t r2 = r1 >= 0 ? recv_dgram(fd, nxt, sizeof nxt) : -1;
	close(fd);
	errno = err;
	require_implemented(r1 < 0, "recv_dgram");
	ck_assert_msg(
	    r1 == 100,
	    "A 100-byte datagram read into a 10-byte buffer: recv_dgram() returned %zd; it should "
	    "return 100, the datagram's real length, so the caller KNOWS it was cut. Plain recv() "
	    "returns only what fitted and silently drops the rest; the MSG_TRUNC flag makes it "
	    "return the real length.",
	    r1);
	ck_assert_msg(
	    !memcmp(buf, big, 10) && buf[10] == 0,
	    "The first 10 bytes of the datagram should be in the buffer, and nothing beyond it.");
	ck_assert_msg(r2 == 4 && !memcmp(nxt, "next", 4),
		      "After a truncated datagram, the next one (\"next\") should arrive whole; "
		      "got %zd bytes. "
		      "The rest of a truncated datagram is discarded, never delivered later.",
		      r2);
}

/* ---- peer credentials ------------------------------------------------------------------- */

/* What the client of the auth tests saw, in *client_rep. */
enum {
	CLIENT_UNFINISHED = -1, /* it did not finish (killed at the deadline, or crashed) */
	CLIENT_WELCOMED = 0,	/* "welcome" (7 bytes), then our "over" frame on the returned fd */
	CLIENT_DENIED = 1,	/* "denied" (6 bytes), then the connection closed */
	CLIENT_NO_CONNECT = 3,	/* could not connect or send its hello */
	CLIENT_BAD_WELCOME,	/* a reply that starts like "welcome" but is not exactly it */
	CLIENT_BAD_DENIED,	/* a reply that starts like "denied" but is not exactly it */
	CLIENT_NO_REPLY,	/* the connection closed without any reply */
	CLIENT_NOT_CLOSED,	/* "denied", but the connection stayed open */
	CLIENT_NO_OVER,		/* "welcome", but nothing came through the returned descriptor */
	CLIENT_OTHER,		/* anything else */
};

/* What the client saw (CLIENT_*): in memory shared with it (the child kit), so that a client
   killed before it finished reads CLIENT_UNFINISHED. */
static int *client_rep;

/* Forks the client of an auth test (0: in the client). */
static pid_t fork_client(void)
{
	if (!client_rep)
		client_rep = child_shared(sizeof *client_rep);
	*client_rep = CLIENT_UNFINISHED;
	return child_fork();
}

/* In the client: reports SAW and ends. */
__attribute__((noreturn)) static void client_exit(int saw)
{
	*client_rep = saw;
	_exit(0);
}

/* A client process: connects to PATH, sends HELLO as a frame, and reports what it saw. */
static pid_t start_client(const char *path, const char *hello)
{
	pid_t pid = fork_client();
	if (pid == 0) {
		int c = unix_connect(path);
		if (c < 0 || raw_send_frame(c, hello, (uint32_t)strlen(hello)) < 0)
			client_exit(CLIENT_NO_CONNECT);
		char got[32] = "";
		ssize_t n = raw_recv_frame(c, got, sizeof got, 3.0);
		if (n == 0)
			client_exit(CLIENT_NO_REPLY);
		if (n == 7 && !memcmp(got, "welcome", 7)) {
			n = raw_recv_frame(c, got, sizeof got, 3.0);
			client_exit(n == 4 && !memcmp(got, "over", 4) ? CLIENT_WELCOMED
								      : CLIENT_NO_OVER);
		}
		if (n > 0 && !memcmp(got, "welcome", n < 7 ? (size_t)n : 7))
			client_exit(CLIENT_BAD_WELCOME);
		if (n == 6 && !memcmp(got, "denied", 6)) {
			char x;
			client_exit(read_by(c, &x, 1, probe_now() + 2.0) == 0 ? CLIENT_DENIED
									      : CLIENT_NOT_CLOSED);
		}
		if (n > 0 && !memcmp(got, "denied", n < 6 ? (size_t)n : 6))
			client_exit(CLIENT_BAD_DENIED);
		client_exit(CLIENT_OTHER);
	}
	return pid;
}

static const char *client_saw(void)
{
	switch (*client_rep) {
	case CLIENT_UNFINISHED:
		return "the client did not finish (it got no reply, or no end of the connection, "
		       "in time)";
	case CLIENT_WELCOMED: return "the client got \"welcome\"";
	case CLIENT_DENIED: return "the client got \"denied\", then the connection closed";
	case CLIENT_NO_CONNECT: return "the client could not connect";
	case CLIENT_BAD_WELCOME:
		return "the client got a frame that is not exactly the 7 bytes \"welcome\" (no "
		       "NUL: the "
		       "frame's length says where the text ends)";
	case CLIENT_BAD_DENIED:
		return "the client got a frame that is not exactly the 6 bytes \"denied\" (no NUL: "
		       "the "
		       "frame's length says where the text ends)";
	case CLIENT_NO_REPLY: return "the connection closed without any reply";
	case CLIENT_NOT_CLOSED:
		return "the client got \"denied\", but the connection stayed open: close it (every "
		       "copy)";
	case CLIENT_NO_OVER:
		return "the client got \"welcome\", but a frame the caller then sent on the "
		       "returned "
		       "descriptor never reached it: return the ACCEPTED, connected descriptor";
	default: return "the client got an unexpected reply";
	}
}

GRADER_TEST(auth_pid_is_client)
{
	int lfd = sock_listen("unix:auth.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	pid_t client = start_client("auth.sock", "hello, it is me");
	struct ucred who = {0, (uid_t)-1, (gid_t)-1};
	int fd = auth_accept(lfd, getuid(), &who);
	int err = errno;
	int over =
	    fd >= 0 && raw_send_frame(fd, "over", 4) == 0; /* through the returned descriptor */
	if (fd >= 0)
		close(fd);
	close(lfd);
	unlink("auth.sock");
	child_wait(client, 3.0);
	errno = err;
	require_implemented(fd < 0, "auth_accept");
	ck_assert_msg(
	    fd >= 0,
	    "A client of our own uid %d connected; auth_accept(lfd, %d, &who) failed with "
	    "%s (who.uid = %d).",
	    (int)getuid(), (int)getuid(), errno_name(err), (int)who.uid);
	ck_assert_msg(
	    who.pid != getpid(),
	    "auth_accept() reported pid %d: that is the SERVER's own pid, not the client's (%d). "
	    "SO_PEERCRED on the LISTENING socket gives the credentials of whoever called "
	    "listen(). Ask the ACCEPTED socket: it knows the process that connected.",
	    (int)who.pid, (int)client);
	ck_assert_msg(
	    who.pid == client && who.uid == getuid() && who.gid == getgid(),
	    "The client was pid %d, uid %d, gid %d; auth_accept() reported pid %d, uid %d, gid %d. "
	    "getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, ...) on the accepted socket tells.",
	    (int)client, (int)getuid(), (int)getgid(), (int)who.pid, (int)who.uid, (int)who.gid);
	ck_assert_msg(
	    over, "Sending a frame on the descriptor auth_accept() returned failed: it should be "
		  "the accepted connection, still open.");
	ck_assert_msg(
	    *client_rep == CLIENT_WELCOMED,
	    "A client of the allowed uid should receive the frame \"welcome\" (7 bytes), and then "
	    "whatever the caller sends on the returned descriptor; instead %s.",
	    client_saw());
}

GRADER_TEST(auth_ignores_claims)
{
	int lfd = sock_listen("unix:auth.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	uid_t allowed = getuid() + 1; /* somebody else */
	char hello[64];
	snprintf(hello, sizeof hello, "uid=%u", (unsigned)allowed);
	pid_t client = start_client("auth.sock", hello);
	struct ucred who = {0, (uid_t)-1, (gid_t)-1};
	int fd = auth_accept(lfd, allowed, &who);
	int err = errno;
	if (fd >= 0)
		close(fd);
	close(lfd);
	unlink("auth.sock");
	child_wait(client, 3.0);
	errno = err;
	require_implemented(fd < 0, "auth_accept");
	ck_assert_msg(
	    fd < 0,
	    "Only uid %u may connect. A client running as uid %u sent the hello \"%s\" and was "
	    "ACCEPTED. The payload is whatever the client chose to write: anyone can claim to be "
	    "anyone. Decide from the kernel's SO_PEERCRED, never from what the client says.",
	    (unsigned)allowed, (unsigned)getuid(), hello);
	ck_assert_msg(err == EACCES,
		      "A refused client should make auth_accept() fail with EACCES, not %s.",
		      errno_name(err));
	ck_assert_msg(who.uid == getuid(),
		      "who.uid should be the client's real uid %u (from SO_PEERCRED); it is %u.",
		      (unsigned)getuid(), (unsigned)who.uid);
	ck_assert_msg(
	    *client_rep == CLIENT_DENIED,
	    "A refused client should receive the frame \"denied\" (6 bytes), then see the "
	    "connection close; instead %s.",
	    client_saw());
}

/* A client of the allowed uid whose hello is the N bytes WIRE, then nothing (N == 0: it hangs
   up at once, half-closing its side). */
static pid_t start_bad_client(const char *wire, size_t n)
{
	pid_t client = fork_client();
	if (client == 0) {
		int c = unix_connect("auth.sock");
		if (c < 0 || send(c, wire, n, MSG_NOSIGNAL) != (ssize_t)n ||
		    (n == 0 && shutdown(c, SHUT_WR) < 0))
			client_exit(CLIENT_NO_CONNECT);
		char got[32];
		ssize_t r = raw_recv_frame(c, got, sizeof got, 3.0);
		client_exit(r == 0				   ? CLIENT_NO_REPLY
			    : r == 7 && !memcmp(got, "welcome", 7) ? CLIENT_WELCOMED
								   : CLIENT_OTHER);
	}
	return client;
}

/* auth_accept with a client that sends WIRE (N bytes) instead of a hello: it must fail, close
   the connection and leave nothing open. WHAT says what the client did. */
static void hello_is_refused(const char *wire, size_t n, const char *what)
{
	int lfd = sock_listen("unix:auth.sock");
	require_implemented(lfd < 0, "sock_listen");
	ck_assert(lfd >= 0);
	pid_t client = start_bad_client(wire, n);
	int before = probe_fd_count();
	struct ucred who;
	errno = 0;
	int fd = auth_accept(lfd, getuid(), &who);
	int err = errno, after = probe_fd_count();
	if (fd >= 0)
		close(fd);
	close(lfd);
	unlink("auth.sock");
	child_wait(client, 3.0);
	errno = err;
	require_implemented(fd < 0, "auth_accept");
	ck_assert_msg(
	    fd < 0,
	    "A client of the allowed uid %s, and auth_accept() accepted it (returned %d%s). No "
	    "valid hello came: the protocol failed. Check what recv_frame() returns for the "
	    "hello: on -1 (a bad frame), and on 0 (the client hung up before any frame), close "
	    "the connection and return -1.",
	    what, fd, *client_rep == CLIENT_WELCOMED ? ", and said \"welcome\"" : "");
	ck_assert_msg(
	    after == before,
	    "auth_accept() failed when a client %s, as it should, but left %d descriptor(s) open: "
	    "on every failure path close the accepted connection.",
	    what, after - before);
	ck_assert_msg(*client_rep == CLIENT_NO_REPLY,
		      "After a client %s, it should see the connection close; instead %s.", what,
		      client_saw());
}

GRADER_TEST(auth_bad_hello)
{
	hello_is_refused("\0\0\0\0", 4,
			 "sent a hello whose header announces 0 bytes (not a frame)");
	hello_is_refused("", 0, "hung up without sending any hello");
}
