/* grader.c: Lab 07 tests: what the kernel shows about a job queue on a POSIX message queue. */
#define _GNU_SOURCE
#include "grader.h"
#include "jobqueue.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOQ ((mqd_t)-1)

/* One of the limits in /proc/sys/fs/mqueue (the grader's own copy: the student reads them too). */
static long mq_limit(const char *file)
{
	char path[128];
	snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", file);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Does a queue of this name exist? (Opens it without O_CREAT.) */
static bool queue_exists(const char *name)
{
	mqd_t q = mq_open(name, O_RDONLY);
	if (q == NOQ)
		return false;
	mq_close(q);
	return true;
}

/* Removes what a test made, whatever the student's code did or did not do. */
static void drop(mqd_t q, const char *name)
{
	if (q != NOQ)
		mq_close(q);
	mq_unlink(name);
}

/* Opens the test's queue with the student's jq_open; fails nicely on the skeleton. */
static mqd_t open_q(const char *stem, char *name, size_t cap, long maxmsg, long msgsize, int flags)
{
	sb_name(stem, name, cap);
	ledger_watch_mq(name);
	mqd_t q = jq_open(name, maxmsg, msgsize, flags);
	require_implemented(q == NOQ, "jq_open");
	ck_assert_msg(q != NOQ, "jq_open(\"%s\", %ld, %ld, %d) failed with %s.", name, maxmsg, msgsize,
		      flags, errno_name(errno));
	return q;
}

/* Opens the test's queue with plain mq_open, so that each function can be graded on its own. */
static mqd_t make_q(const char *stem, char *name, size_t cap, long maxmsg, long msgsize, int flags)
{
	sb_name(stem, name, cap);
	ledger_watch_mq(name);
	struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | (flags & JQ_NONBLOCK ? O_NONBLOCK : 0), 0600, &a);
	ck_assert_msg(q != NOQ, "grader: mq_open(%s) failed with %s", name, errno_name(errno));
	return q;
}

/* Puts a message on the queue with the plain API, so tests of jq_take do not rely on jq_submit. */
static void put(mqd_t q, const char *msg, unsigned prio)
{
	ck_assert(mq_send(q, msg, strlen(msg), prio) == 0);
}

GRADER_TEST(open_creates_queue)
{
	char name[128];
	mqd_t q = open_q("create", name, sizeof name, 4, 64, 0);
	struct mq_attr a = {0};
	int got = mq_getattr(q, &a);
	/* Both directions work through it (the queue is empty, so neither call waits). */
	int sent = mq_send(q, "rw", 2, 0);
	char rbuf[64];
	ssize_t rcvd = sent == 0 ? mq_receive(q, rbuf, sizeof rbuf, NULL) : -1;
	mqd_t qn = jq_open(name, 4, 64, JQ_NONBLOCK); /* a second descriptor to the same queue */
	int err = errno;
	struct mq_attr b = {0};
	if (qn != NOQ)
		mq_getattr(qn, &b);
	drop(qn, name);
	drop(q, name);
	ck_assert_msg(got == 0, "mq_getattr() on the descriptor jq_open returned failed with %s: "
				"is it really an mqd_t from mq_open()?", errno_name(errno));
	ck_assert_msg(a.mq_maxmsg == 4 && a.mq_msgsize == 64,
		      "jq_open(name, 4, 64, 0) made a queue with mq_maxmsg %ld and mq_msgsize %ld; "
		      "expected 4 and 64. Pass a struct mq_attr to mq_open() together with O_CREAT.",
		      a.mq_maxmsg, a.mq_msgsize);
	ck_assert_msg(!(a.mq_flags & O_NONBLOCK),
		      "Without JQ_NONBLOCK the descriptor should block (mq_flags has O_NONBLOCK).");
	ck_assert_msg(sent == 0 && rcvd == 2,
		      "jq_open(name, 4, 64, 0) gave a descriptor through which a job could not be %s. "
		      "Open for reading and writing: exactly O_RDWR (with O_CREAT), nothing else in "
		      "the access mode bits.", sent ? "sent" : "taken");
	ck_assert_msg(qn != NOQ, "Opening the same queue again (it exists now) failed with %s. Use "
				 "O_CREAT without O_EXCL: open it if it exists, create it if not.",
		      errno_name(err));
	ck_assert_msg(b.mq_flags & O_NONBLOCK,
		      "jq_open(..., JQ_NONBLOCK) gave a descriptor without O_NONBLOCK (see mq_getattr's "
		      "mq_flags). Add O_NONBLOCK to mq_open's flags when JQ_NONBLOCK is given.");
}

GRADER_TEST(open_rejects_bad_names)
{
	char good[128];
	sb_name("names", good, sizeof good);
	ledger_watch_mq(good);
	char twice[160], nested[160];
	snprintf(twice, sizeof twice, "/%s", good);        /* "//ipclab-...": two slashes */
	snprintf(nested, sizeof nested, "%s/sub", good);   /* "/ipclab-.../sub" */
	const char *bad[] = {good + 1, twice, nested, "/"};
	const char *why[] = {"no leading '/'", "two leading slashes", "a '/' inside the name",
			     "no name after the '/'"};
	for (int i = 0; i < 4; i++) {
		errno = 0;
		mqd_t q = jq_open(bad[i], 4, 64, 0);
		int err = errno;
		bool created = queue_exists(good);
		if (q != NOQ)
			mq_close(q);
		mq_unlink(good);
		errno = err;
		require_implemented(q == NOQ, "jq_open");
		ck_assert_msg(q == NOQ,
			      "jq_open(\"%s\") (%s) succeeded%s. A portable name is exactly one '/' "
			      "followed by the name; reject anything else with EINVAL instead of "
			      "repairing it.", bad[i], why[i],
			      created ? ", and created a queue named with an added '/'" : "");
		ck_assert_msg(err == EINVAL,
			      "jq_open(\"%s\") (%s) failed with %s; the header promises EINVAL. Check "
			      "the name yourself before calling mq_open (the kernel and glibc give "
			      "different errors for different bad names).", bad[i], why[i], errno_name(err));
	}
}

GRADER_TEST(open_within_limits)
{
	long msg_max = mq_limit("msg_max"), size_max = mq_limit("msgsize_max");
	ck_assert_msg(msg_max > 0 && size_max > 0, "cannot read /proc/sys/fs/mqueue (grader problem)");
	char name[128];
	sb_name("limits", name, sizeof name);
	ledger_watch_mq(name);

	/* Too many messages: the header says the capacity is lowered to msg_max. */
	mqd_t q = jq_open(name, msg_max * 100, 64, 0);
	int err = errno;
	struct mq_attr a = {0};
	if (q != NOQ)
		mq_getattr(q, &a);
	drop(q, name);
	errno = err;
	require_implemented(q == NOQ, "jq_open");
	ck_assert_msg(q != NOQ,
		      "jq_open(name, %ld, 64, 0) failed with %s. This system allows at most %ld "
		      "messages per queue (/proc/sys/fs/mqueue/msg_max) and refuses more with EINVAL, "
		      "even for root. The header says: lower maxmsg to msg_max and go on.",
		      msg_max * 100, errno_name(err), msg_max);
	ck_assert_msg(a.mq_maxmsg == msg_max && a.mq_msgsize == 64,
		      "Asked for %ld messages of 64 bytes, jq_open made a queue of %ld messages of %ld "
		      "bytes; expected %ld (msg_max) of 64. %s", msg_max * 100, a.mq_maxmsg,
		      a.mq_msgsize, msg_max,
		      a.mq_msgsize != 64 ? "Retrying with NULL attributes gives the system's default "
					   "message size, not the one the caller needs." : "");

	/* Too big a message: nothing sensible to fall back to. */
	errno = 0;
	q = jq_open(name, 4, size_max + 1, 0);
	err = errno;
	bool created = queue_exists(name);
	drop(q, name);
	ck_assert_msg(q == NOQ && err == EINVAL && !created,
		      "jq_open(name, 4, %ld, 0), one byte above msgsize_max, should fail with EINVAL "
		      "and create nothing; it %s%s.", size_max + 1,
		      q == NOQ ? "failed with " : "succeeded", q == NOQ ? errno_name(err) : "");

	errno = 0;
	q = jq_open(name, 0, 64, 0);
	err = errno;
	drop(q, name);
	ck_assert_msg(q == NOQ && err == EINVAL, "jq_open(name, 0, 64, 0) should fail with EINVAL: "
						 "a queue needs room for at least one message.");
}

GRADER_TEST(open_exact_limits)
{
	long size_max = mq_limit("msgsize_max");
	ck_assert_msg(size_max > 0, "cannot read /proc/sys/fs/mqueue (grader problem)");
	char name[128];
	sb_name("tiny", name, sizeof name);
	ledger_watch_mq(name);
	mode_t old_mask = umask(0); /* so that the mode is exactly what jq_open asked for */
	mqd_t q = jq_open(name, 1, 1, JQ_NONBLOCK);
	int err = errno;
	umask(old_mask);
	struct mq_attr a = {0};
	struct stat st = {0};
	int sent = -1, second = -1, second_err = 0;
	ssize_t got = -1;
	if (q != NOQ) {
		mq_getattr(q, &a);
		fstat((int)q, &st); /* on Linux an mqd_t is a descriptor on the mqueue file system */
		sent = mq_send(q, "j", 1, 1);
		errno = 0;
		second = mq_send(q, "k", 1, 1);
		second_err = errno;
		char buf[8];
		got = mq_receive(q, buf, 1, NULL);
	}
	drop(q, name);
	errno = err;
	require_implemented(q == NOQ, "jq_open");
	ck_assert_msg(q != NOQ,
		      "jq_open(name, 1, 1, JQ_NONBLOCK) failed with %s: a queue of ONE message of ONE "
		      "byte is the smallest one allowed (\"at least 1\"), not an error.",
		      errno_name(err));
	ck_assert_msg(a.mq_maxmsg == 1 && a.mq_msgsize == 1,
		      "jq_open(name, 1, 1, ...) made a queue of %ld messages of %ld bytes; expected 1 "
		      "of 1.", a.mq_maxmsg, a.mq_msgsize);
	ck_assert_msg((st.st_mode & 07777) == 0600,
		      "With umask 0, jq_open created the queue with mode %04o; the header says 0600 "
		      "(only the owner may read and write jobs). Pass 0600 as mq_open's mode.",
		      (unsigned)(st.st_mode & 07777));
	ck_assert_msg(sent == 0 && got == 1,
		      "Sending and taking a 1-byte job through the descriptor jq_open returned failed "
		      "(send %s, receive %s). It must be opened for reading AND writing: O_RDWR.",
		      sent == 0 ? "worked" : "failed", got == 1 ? "worked" : "failed");
	ck_assert_msg(second < 0 && second_err == EAGAIN,
		      "A queue of capacity 1 accepted a second job (or failed with %s instead of "
		      "EAGAIN).", errno_name(second_err));

	/* Exactly msgsize_max is allowed: only what is ABOVE the limit is refused. */
	errno = 0;
	q = jq_open(name, 2, size_max, 0);
	err = errno;
	a.mq_msgsize = 0;
	if (q != NOQ)
		mq_getattr(q, &a);
	drop(q, name);
	ck_assert_msg(q != NOQ && a.mq_msgsize == size_max,
		      "jq_open(name, 2, %ld, 0), exactly msgsize_max, %s%s. The limit itself is "
		      "allowed: refuse only sizes ABOVE it (>, not >=).", size_max,
		      q == NOQ ? "failed with " : "made a queue of another message size",
		      q == NOQ ? errno_name(err) : "");
}

GRADER_TEST(submit_checks_length)
{
	char name[128];
	mqd_t q = make_q("sublen", name, sizeof name, 4, 16, JQ_NONBLOCK);
	errno = 0;
	int empty = jq_submit(q, "", 0, 3);
	int empty_err = errno;
	struct mq_attr a = {0};
	mq_getattr(q, &a);
	long after_empty = a.mq_curmsgs;
	int full = jq_submit(q, "0123456789abcdef", 16, 1); /* exactly mq_msgsize */
	int full_err = errno;
	char buf[16];
	ssize_t n = mq_receive(q, buf, sizeof buf, NULL);
	drop(q, name);
	/* A descriptor that is not open: the error must reach the caller. */
	errno = 0;
	int bad = jq_submit(q, "x", 1, 1);
	int bad_err = errno;
	errno = 0;
	int bad_stop = jq_stop_workers(q, 2);
	int bad_stop_err = errno;
	errno = empty_err;
	require_implemented(empty < 0 && full < 0, "jq_submit");
	ck_assert_msg(empty < 0 && empty_err == EINVAL && after_empty == 0,
		      "jq_submit(q, \"\", 0, 3) %s%s%s. An empty message is this lab's stop message: "
		      "a submitted job must never be one, so LEN 0 fails with EINVAL and sends nothing.",
		      empty == 0 ? "returned 0" : "failed with ", empty == 0 ? "" : errno_name(empty_err),
		      after_empty ? ", and put an empty message on the queue" : "");
	ck_assert_msg(full == 0 && n == 16,
		      "jq_submit() of a 16-byte job to a queue whose mq_msgsize is 16 %s%s: a job of "
		      "exactly mq_msgsize bytes fits.", full == 0 ? "returned 0 but the queue did not "
		      "hold it" : "failed with ", full == 0 ? "" : errno_name(full_err));
	ck_assert_msg(bad < 0 && bad_err == EBADF,
		      "jq_submit() on a closed queue descriptor %s%s; mq_send() says EBADF, and the "
		      "caller must hear it: return -1 with that errno.",
		      bad == 0 ? "returned 0" : "failed with ", bad == 0 ? "" : errno_name(bad_err));
	ck_assert_msg(bad_stop < 0 && bad_stop_err == EBADF,
		      "jq_stop_workers() on a closed queue descriptor %s%s: no stop message went out, "
		      "so the workers will never stop. Return -1 with mq_send()'s errno.",
		      bad_stop == 0 ? "returned 0" : "failed with ",
		      bad_stop == 0 ? "" : errno_name(bad_stop_err));
}

GRADER_TEST(take_priority_order)
{
	char name[128];
	mqd_t q = make_q("prio", name, sizeof name, 8, 32, JQ_NONBLOCK);
	struct {
		const char *text;
		unsigned prio;
	} in[] = {{"low-a", 1}, {"high", 5}, {"mid", 3}, {"low-b", 1}, {"zero", 0}};
	const char *order[] = {"high", "mid", "low-a", "low-b", "zero"};
	int submitted = 0;
	for (int i = 0; i < 5; i++) {
		int r = jq_submit(q, in[i].text, strlen(in[i].text), in[i].prio);
		if (r < 0 && errno == ENOSYS) {
			drop(q, name);
			require_implemented(1, "jq_submit");
		}
		submitted += r == 0;
	}
	struct mq_attr a = {0};
	mq_getattr(q, &a);
	char got[5][64] = {{0}};
	unsigned prio[5] = {0};
	ssize_t n[5];
	int err = 0;
	for (int i = 0; i < 5; i++) {
		n[i] = jq_take(q, got[i], sizeof got[i] - 1, &prio[i], -1);
		if (n[i] < 0) {
			err = errno;
			break;
		}
		got[i][n[i] < 63 ? n[i] : 63] = '\0';
	}
	drop(q, name);
	ck_assert_msg(submitted == 5 && a.mq_curmsgs == 5,
		      "After 5 jq_submit() calls the queue holds %ld messages (%d calls returned 0).",
		      a.mq_curmsgs, submitted);
	errno = err;
	require_implemented(err, "jq_take");
	ck_assert_msg(!err, "jq_take() failed with %s with jobs in the queue.", errno_name(err));
	for (int i = 0; i < 5; i++)
		ck_assert_msg(!strcmp(got[i], order[i]),
			      "Submitted low-a(1), high(5), mid(3), low-b(1), zero(0) in that order; take "
			      "number %d returned \"%s\" (priority %u), expected \"%s\". The queue hands out "
			      "the highest priority first, oldest first within one: pass each job's "
			      "priority to mq_send().", i + 1, got[i], prio[i], order[i]);
	ck_assert_msg(prio[0] == 5 && prio[1] == 3 && prio[4] == 0,
		      "jq_take() stored priorities %u, %u, ..., %u; expected 5, 3, ..., 0.", prio[0],
		      prio[1], prio[4]);
}

/* What the takes from a queue of the largest messages saw (judged once the queue is gone). */
typedef struct {
	ssize_t n1, n2,
	    n3; /* "hello" with cap 64, the 199-byte job, a take on a closed descriptor */
	int err1, err2, err3;
	char first[8]; /* the first take's bytes when it returned 5 */
	char buf[64 + 8];
	size_t grown; /* how much the heap grew over 64 more takes */
} big_takes;

/* 64 more takes (when the 199-byte job, N2, came out right): whatever a take allocates must be
   freed by the time it returns. Returns how much the heap grew. */
static size_t heap_growth_over_takes(mqd_t q, ssize_t n2)
{
	size_t heap0 = mallinfo2().uordblks;
	for (int i = 0; i < 64 && n2 == 199; i++) {
		char small[64];
		put(q, "tick", 1);
		if (jq_take(q, small, sizeof small, NULL, -1) != 4)
			break;
	}
	return mallinfo2().uordblks - heap0;
}

/* Someone else created the queue, with the largest messages allowed; the caller of jq_take
   only expects small jobs. */
static void take_from_a_queue_of_big_messages(long size_max, big_takes *t)
{
	char name[128];
	mqd_t q = make_q("bigmsg", name, sizeof name, 4, size_max, JQ_NONBLOCK);
	put(q, "hello", 2);
	char longjob[200];
	memset(longjob, 'x', sizeof longjob - 1);
	longjob[sizeof longjob - 1] = '\0';
	put(q, longjob, 1);

	memset(t->buf, '#', sizeof t->buf);
	t->n1 = jq_take(q, t->buf, 64, NULL, -1);
	t->err1 = errno;
	if (t->n1 == 5)
		memcpy(t->first, t->buf, 5);
	t->n2 = -1;
	t->err2 = 0;
	if (t->n1 >= 0) {
		t->n2 = jq_take(q, t->buf, 64, NULL, -1);
		t->err2 = errno;
	}
	t->grown = heap_growth_over_takes(q, t->n2);
	drop(q, name);
	/* The descriptor is closed now: a take must report that, not a job. */
	errno = 0;
	t->n3 = t->n2 == 199 ? jq_take(q, t->buf, 64, NULL, 0) : -1;
	t->err3 = t->n2 == 199 ? errno : EBADF;
}

GRADER_TEST(take_buffer_from_queue_size)
{
	long size_max = mq_limit("msgsize_max");
	ck_assert(size_max > 0);
	big_takes t = {.first = ""};
	take_from_a_queue_of_big_messages(size_max, &t);
	errno = t.err1;
	require_implemented(t.n1 < 0, "jq_take");
	ck_assert_msg(
	    t.n1 >= 0,
	    "jq_take(q, buf, 64, ...) failed with %s. This queue was created by someone else "
	    "with mq_msgsize %ld, and mq_receive() refuses any buffer smaller than "
	    "mq_msgsize (EMSGSIZE), even for a 5-byte message. Ask mq_getattr() how big "
	    "the messages can be and receive into a buffer that size.",
	    errno_name(t.err1), size_max);
	ck_assert_msg(t.n1 == 5 && !strcmp(t.first, "hello"),
		      "The first jq_take() returned %zd; expected 5 for the job \"hello\".", t.n1);
	ck_assert_msg(t.n2 == 199,
		      "A 199-byte job taken with cap 64 should return its full length, 199 (like "
		      "snprintf), but jq_take() returned %zd%s%s.",
		      t.n2, t.n2 < 0 ? " with " : "", t.n2 < 0 ? errno_name(t.err2) : "");
	ck_assert_msg(
	    t.buf[0] == 'x' && t.buf[63] == 'x' && t.buf[64] == '#',
	    "jq_take(q, buf, 64, ...) must copy exactly the first 64 bytes of a longer job "
	    "and never write past buf[63].");
	ck_assert_msg(
	    t.grown < (size_t)size_max * 16,
	    "After 64 more takes with a buffer smaller than mq_msgsize (%ld), the heap had "
	    "grown by %zu bytes: each take leaks the buffer it receives into. free() it "
	    "before returning, on every path.",
	    size_max, t.grown);
	ck_assert_msg(
	    t.n3 < 0 && t.err3 == EBADF,
	    "jq_take() on a descriptor that is closed %s%s; expected -1 with EBADF (check "
	    "mq_getattr()'s result too).",
	    t.n3 < 0 ? "failed with " : "returned ", t.n3 < 0 ? errno_name(t.err3) : "a length");
}

struct take_probe {
	mqd_t q;
	int timeout_ms;
};

/* Exit codes of the probe children: 100 = the call succeeded, else an index into this table. */
static const int codes[] = {0, EAGAIN, ETIMEDOUT, ENOSYS, EMSGSIZE, EINTR, EBADF, EINVAL};
enum { NCODES = sizeof codes / sizeof codes[0] };

static void exit_with_errno(int err)
{
	for (int i = 1; i < NCODES; i++)
		if (codes[i] == err)
			_exit(i);
	_exit(99);
}

/* Turns a probe child's exit code back into its errno (100: success, -1: unknown error). */
static int code_errno(int code)
{
	return code == 100 ? 100 : code > 0 && code < NCODES ? codes[code] : -1;
}

/* In a child: takes from an empty queue; the exit code says what happened. */
static void take_in_child(void *arg)
{
	struct take_probe *p = arg;
	char buf[64];
	errno = 0;
	ssize_t n = jq_take(p->q, buf, sizeof buf, NULL, p->timeout_ms);
	if (n >= 0)
		_exit(100);
	exit_with_errno(errno);
}

GRADER_TEST(take_nonblock_empty)
{
	char name[128];
	mqd_t q = open_q("nonblock", name, sizeof name, 4, 64, JQ_NONBLOCK);
	struct take_probe p = {q, -1};
	child_end e = probe_in_child(take_in_child, &p, 2.0);
	e.code = code_errno(e.code);
	drop(q, name);
	char how[160];
	ck_assert_msg(!e.timed_out,
		      "jq_take() on an empty queue opened with JQ_NONBLOCK was still waiting after 2 s. "
		      "Non-blocking means: fail at once with EAGAIN. Open the queue with O_NONBLOCK "
		      "when JQ_NONBLOCK is given.");
	ck_assert_msg(e.exited, "jq_take() on an empty queue: the process %s.",
		      describe_end(e, how, sizeof how));
	if (e.code == ENOSYS) {
		errno = ENOSYS;
		require_implemented(1, "jq_take");
	}
	ck_assert_msg(e.code == EAGAIN,
		      "jq_take() on an empty non-blocking queue should fail with EAGAIN; %s%s.",
		      e.code == 100 ? "it returned a job" : "it failed with ",
		      e.code == 100 ? "" : errno_name(e.code));
}

/* In a child: submits to a full queue; the exit code says what happened. */
static void submit_in_child(void *arg)
{
	mqd_t q = *(mqd_t *)arg;
	errno = 0;
	int r = jq_submit(q, "one too many", 12, 1);
	if (r == 0)
		_exit(100);
	exit_with_errno(errno);
}

GRADER_TEST(submit_full_nonblock)
{
	char name[128];
	mqd_t q = open_q("full", name, sizeof name, 2, 64, JQ_NONBLOCK);
	put(q, "a", 1);
	put(q, "b", 1);
	child_end e = probe_in_child(submit_in_child, &q, 2.0);
	e.code = code_errno(e.code);
	struct mq_attr a = {0};
	mq_getattr(q, &a);
	drop(q, name);
	char how[160];
	ck_assert_msg(!e.timed_out,
		      "jq_submit() to a full queue opened with JQ_NONBLOCK was still waiting after 2 s. "
		      "A full queue pushes back: with O_NONBLOCK mq_send() fails with EAGAIN at once.");
	ck_assert_msg(e.exited, "jq_submit() to a full queue: the process %s.",
		      describe_end(e, how, sizeof how));
	if (e.code == ENOSYS) {
		errno = ENOSYS;
		require_implemented(1, "jq_submit");
	}
	ck_assert_msg(e.code == EAGAIN,
		      "jq_submit() to a full non-blocking queue (2 of 2 messages) should fail with "
		      "EAGAIN; %s%s. The caller must learn that the queue is full.",
		      e.code == 100 ? "it returned 0" : "it failed with ",
		      e.code == 100 ? "" : errno_name(e.code));
	ck_assert_msg(a.mq_curmsgs == 2, "The full queue now holds %ld messages instead of 2.",
		      a.mq_curmsgs);
}

/* How long a timed take waits on an empty queue, in a child: its errno in *CODE. */
static double timed_take(mqd_t q, int timeout_ms, double limit, child_end *e)
{
	struct take_probe p = {q, timeout_ms};
	double t0 = probe_now();
	*e = probe_in_child(take_in_child, &p, limit);
	e->code = code_errno(e->code);
	return probe_now() - t0;
}

/* Waits (a second at most) until CLOCK_REALTIME's fraction of a second is within [LO, HI] ms.
   [10, 900] right before a 1999 ms deadline is computed: its nanoseconds must be carried.
   [10, 650] before a 300 ms one: nothing to carry, so only what the test is about can fail. */
static void realtime_fraction(long lo, long hi)
{
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		if (t.tv_nsec >= lo * 1000000L && t.tv_nsec <= hi * 1000000L)
			return;
		struct timespec pause = {0, 1000000L};
		nanosleep(&pause, NULL);
	}
}

/* A 300 ms take on an empty queue fails with ETIMEDOUT; returns how long it waited. */
static double a_short_take_times_out(mqd_t q, const char *name)
{
	child_end e;
	double waited = timed_take(q, 300, 2.5, &e);
	char how[160];
	if (!e.timed_out && e.exited && e.code == ENOSYS) {
		drop(q, name);
		errno = ENOSYS;
		require_implemented(1, "jq_take");
	}
	ck_assert_msg(!e.timed_out,
		      "jq_take(q, ..., 300 ms) on an empty queue was still waiting after 2.5 s. Give "
		      "mq_timedreceive() a deadline 300 ms from now on CLOCK_REALTIME.");
	ck_assert_msg(e.exited, "jq_take() with a timeout: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(e.code == ETIMEDOUT,
		      "jq_take(q, ..., 300 ms) on an empty queue should fail with ETIMEDOUT; %s%s.%s",
		      e.code == 100 ? "it returned a job" : "it failed with ",
		      e.code == 100 ? "" : errno_name(e.code),
		      e.code == EINVAL ? " mq_timedreceive() says EINVAL when tv_nsec is not in "
					 "[0, 999999999]: carry whole seconds out of tv_nsec." : "");
	return waited;
}

/* The 300 ms take gave up too early (after WAITED s): tell a deadline in the past from one with
   the wrong unit. Never returns. */
static void explain_an_early_timeout(mqd_t q, const char *name, double waited)
{
	child_end d;
	double w = timed_take(q, 1100, 2.5, &d);
	drop(q, name);
	ck_assert_msg(!(w > 0.9 && w < 1.08),
		      "jq_take(q, ..., 300 ms) gave up after %.1f ms, and one with 1100 ms after "
		      "%.0f ms: the whole seconds of the deadline are right, but its fraction is "
		      "1000 times too small. tv_nsec counts NANOseconds: (ms %% 1000) * 1000000, "
		      "not * 1000 (microseconds).",
		      waited * 1000, w * 1000);
	ck_assert_msg(w >= 0.05,
		      "jq_take(q, ..., 300 ms) on an empty queue gave up after %.1f ms, and one "
		      "with 1100 ms after %.1f ms: the deadline was already in the past when "
		      "mq_timedreceive() got it. It is an ABSOLUTE time on CLOCK_REALTIME: a "
		      "relative {0, 300000000} is a moment in 1970, and a time read from another "
		      "clock (CLOCK_MONOTONIC counts from boot) is long past too. Add the timeout "
		      "to clock_gettime(CLOCK_REALTIME).",
		      waited * 1000, w * 1000);
	ck_abort_msg("jq_take(q, ..., 300 ms) on an empty queue gave up after %.0f ms instead of "
		     "300 (and one with 1100 ms after %.0f ms). The deadline is now on "
		     "CLOCK_REALTIME plus the timeout: seconds ms / 1000, nanoseconds "
		     "(ms %% 1000) * 1000000.",
		     waited * 1000, w * 1000);
}

/* 0 ms on an empty queue: ETIMEDOUT at once, not a wait for ever. */
static void zero_ms_fails_at_once(mqd_t q, const char *name)
{
	child_end e;
	char how[160];
	double zero = timed_take(q, 0, 1.0, &e);
	if (e.timed_out || !e.exited || e.code != ETIMEDOUT) {
		drop(q, name);
		ck_abort_msg("jq_take(q, ..., 0 ms) on an empty blocking queue %s%s%s. A timeout of 0 "
			     "means: do not wait at all, fail with ETIMEDOUT (a deadline of now). Only a "
			     "NEGATIVE timeout means \"wait as long as it takes\".",
			     e.timed_out ? "was still waiting after 1 s" : e.exited ?
			     (e.code == 100 ? "returned a job" : "failed with ") : "",
			     e.exited && e.code != 100 ? errno_name(e.code) : "",
			     !e.timed_out && !e.exited ? describe_end(e, how, sizeof how) : "");
	}
	(void)zero;
}

/* With a job waiting, a timed take returns it at once, whatever the clock's fraction. */
static void a_waiting_job_is_taken_at_once(mqd_t q, const char *name)
{
	put(q, "ready", 1);
	char buf[64];
	realtime_fraction(10, 900);
	double t1 = probe_now();
	errno = 0;
	ssize_t n = jq_take(q, buf, sizeof buf, NULL, 1999);
	int err = errno;
	double quick = probe_now() - t1;
	if (n != 5 || quick >= 0.9) {
		drop(q, name);
		ck_assert_msg(!(n < 0 && err == EINVAL),
			      "With a job in the queue, jq_take(q, ..., 1999 ms) failed with EINVAL. The "
			      "clock's nanoseconds (read between .01 and .9 s) plus 999 ms made tv_nsec "
			      "larger than 999999999, which mq_timedreceive() refuses even when a job is "
			      "waiting. When tv_nsec reaches 1000000000, move a second into tv_sec.");
		ck_abort_msg("With a job in the queue, jq_take(q, ..., 1999 ms) should return it at once; "
			     "it returned %zd%s%s after %.0f ms.", n, n < 0 ? " with " : "",
			     n < 0 ? errno_name(err) : "", quick * 1000);
	}
}

/* A take of 1100 ms must still be waiting at 300 ms (the whole second counts), and then
   return the job that arrives. */
static void a_long_take_waits_for_a_late_job(mqd_t q, const char *name)
{
	struct take_probe p = {q, 1100};
	fflush(NULL);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		take_in_child(&p);
		_exit(99);
	}
	int status;
	bool ended_early = probe_wait_window(pid, &status, 0.3) == 0;
	if (!ended_early)
		put(q, "late", 1);
	bool ended = ended_early || probe_finish(pid, &status, 1.5) == 0;
	drop(q, name);
	int code = WIFEXITED(status) ? code_errno(WEXITSTATUS(status)) : -1;
	ck_assert_msg(!ended_early,
		      "jq_take(q, ..., 1100 ms) on an empty queue ended before 300 ms had passed (%s). "
		      "Its deadline is now + 1 s + 100 ms: add ms / 1000 to tv_sec as well as the rest "
		      "to tv_nsec.", code == 100 ? "with a job" : errno_name(code));
	ck_assert_msg(ended && code == 100,
		      "jq_take(q, ..., 1100 ms) was waiting on an empty queue when a job arrived after "
		      "300 ms; it should have returned that job, but %s%s.",
		      !ended ? "was still waiting 1.5 s later" : "failed with ",
		      ended ? errno_name(code) : "");
}

GRADER_TEST(take_timeout)
{
	char name[128];
	mqd_t q = make_q("timeout", name, sizeof name, 4, 64, 0); /* a blocking descriptor */
	double waited = a_short_take_times_out(q, name);
	if (waited < 0.25)
		explain_an_early_timeout(q, name, waited);
	zero_ms_fails_at_once(q, name);
	a_waiting_job_is_taken_at_once(q, name);
	a_long_take_waits_for_a_late_job(q, name);
}

/* The signal handler of the signal tests: counts, and after every TAKE_EVERY-th signal does
   what the test asked (puts a job, or takes one to make room), with plain mq calls. */
static volatile sig_atomic_t signals_seen;
static mqd_t sig_q = NOQ;     /* a NON-blocking descriptor for the handler's own mq calls */
static int sig_action;        /* 0: only count; 1: put a job; 2: take a job */
static int sig_budget;        /* how many more times the handler may do its action */
enum { SIG_EVERY = 8 };

static void on_test_signal(int sig)
{
	(void)sig;
	int saved = errno;
	signals_seen++;
	if (signals_seen % SIG_EVERY == 0 && sig_q != NOQ && sig_budget > 0) {
		sig_budget--;
		char buf[64];
		if (sig_action == 1)
			mq_send(sig_q, "", 0, 1); /* an empty job: what a stop message looks like */
		else if (sig_action == 2)
			mq_receive(sig_q, buf, sizeof buf, NULL);
	}
	errno = saved;
}

/* SIGALRM every 5 ms from 5 ms on, with a handler WITHOUT SA_RESTART: blocked calls see EINTR. */
static void signals_on(void)
{
	probe_signal_storm(on_test_signal, 5000);
}

static void signals_off(void)
{
	probe_signal_storm_stop();
}

/* Exit codes of the signal children: 0 all good; 10 + the index of the step that failed plus
   the errno table index in the low bits is too much for one byte, so: step * 16 + code index. */
static void exit_step(int step, int err)
{
	int idx = NCODES;
	for (int i = 1; i < NCODES; i++)
		if (codes[i] == err)
			idx = i;
	_exit(step * 16 + idx);
}

struct sig_take {
	mqd_t q;
	const char *name;
};

static void take_under_signals(void *arg)
{
	struct sig_take *t = arg;
	char buf[64];
	/* Step 1: a timed take on an empty queue, interrupted every 5 ms. */
	realtime_fraction(10, 650);
	signals_on();
	double t0 = probe_now();
	errno = 0;
	ssize_t n = jq_take(t->q, buf, sizeof buf, NULL, 300);
	int err = errno;
	double took = probe_now() - t0;
	signals_off();
	if (n >= 0)
		_exit(1 * 16 + 15);
	if (err != ETIMEDOUT)
		exit_step(1, err);
	if (took < 0.25)
		_exit(2 * 16);
	/* Step 3: a blocking take; the handler puts the job after a few signals. */
	sig_q = mq_open(t->name, O_WRONLY | O_NONBLOCK);
	sig_action = 1;
	sig_budget = 1;
	signals_seen = 0;
	signals_on();
	errno = 0;
	n = jq_take(t->q, buf, sizeof buf, NULL, -1);
	err = errno;
	signals_off();
	if (n != 0)
		n < 0 ? exit_step(3, err) : _exit(3 * 16 + 15);
	_exit(0);
}

GRADER_TEST(take_signals)
{
	char name[128];
	mqd_t q = make_q("sigtake", name, sizeof name, 4, 64, 0);
	struct sig_take t = {q, name};
	child_end e = probe_in_child(take_under_signals, &t, 2.0);
	drop(q, name);
	int step = e.exited ? e.code / 16 : 0, idx = e.exited ? e.code % 16 : 0;
	int err = idx > 0 && idx < NCODES ? codes[idx] : -1;
	if (step && err == ENOSYS) {
		errno = ENOSYS;
		require_implemented(1, "jq_take");
	}
	char how[160];
	ck_assert_msg(!e.timed_out,
		      "A jq_take(q, ..., 300 ms) on an empty queue, or a blocking one whose job the "
		      "signal handler put after %d signals, was still waiting after 2 s while SIGALRM "
		      "arrived every 5 ms. If you retry after EINTR, keep the deadline you computed "
		      "BEFORE the loop: a new deadline per retry makes every signal restart the wait. "
		      "And retry only while the call FAILS (-1) with EINTR: errno is not cleared by a "
		      "call that works, and a message of length 0 is a success.", SIG_EVERY);
	ck_assert_msg(e.exited, "jq_take() under signals: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(!(step == 1 && err == EINTR),
		      "jq_take(q, ..., 300 ms) failed with EINTR: a signal (SIGALRM, its handler "
		      "installed without SA_RESTART) interrupted mq_timedreceive(). That is not a "
		      "timeout and not an error: call it again with the SAME absolute deadline.");
	ck_assert_msg(step != 1,
		      "jq_take(q, ..., 300 ms) on an empty queue under signals should fail with "
		      "ETIMEDOUT; it %s%s.", idx == 15 ? "returned a job" : "failed with ",
		      idx == 15 ? "" : errno_name(err));
	ck_assert_msg(step != 2, "jq_take(q, ..., 300 ms) under signals gave up before 300 ms.");
	ck_assert_msg(!(step == 3 && err == EINTR),
		      "A blocking jq_take(q, ..., -1) failed with EINTR when a signal arrived (its "
		      "handler installed without SA_RESTART). Waiting \"as long as it takes\" "
		      "includes signals: retry mq_receive() while it fails with EINTR.");
	ck_assert_msg(step == 0,
		      "A blocking jq_take(q, ..., -1) under signals should have returned the empty "
		      "message (length 0) the handler put; it %s%s.", idx == 15 ? "returned another "
		      "length" : "failed with ", idx == 15 ? "" : errno_name(err));
}

static void submit_under_signals(void *arg)
{
	struct sig_take *t = arg;
	/* The queue (capacity 1) is full; the handler takes a job every SIG_EVERY signals. */
	sig_q = mq_open(t->name, O_RDONLY | O_NONBLOCK);
	sig_action = 2;
	sig_budget = 2; /* room for the job, then for the stop message: no more */
	signals_on();
	errno = 0;
	int r = jq_submit(t->q, "job", 3, 1);
	int err = errno;
	if (r < 0) {
		signals_off();
		exit_step(1, err);
	}
	errno = 0;
	r = jq_stop_workers(t->q, 1);
	err = errno;
	signals_off();
	if (r < 0)
		exit_step(2, err);
	_exit(0);
}

GRADER_TEST(submit_signals)
{
	char name[128];
	mqd_t q = make_q("sigsub", name, sizeof name, 1, 64, 0);
	put(q, "old", 1);
	struct sig_take t = {q, name};
	child_end e = probe_in_child(submit_under_signals, &t, 2.0);
	struct mq_attr a = {0};
	mq_getattr(q, &a);
	char buf[64];
	mq_setattr(q, &(struct mq_attr){.mq_flags = O_NONBLOCK}, NULL);
	ssize_t last = mq_receive(q, buf, sizeof buf, NULL);
	drop(q, name);
	int step = e.exited ? e.code / 16 : 0, idx = e.exited ? e.code % 16 : 0;
	int err = idx > 0 && idx < NCODES ? codes[idx] : -1;
	if (step && err == ENOSYS) {
		errno = ENOSYS;
		require_implemented(step == 1, "jq_submit");
		require_implemented(step == 2, "jq_stop_workers");
	}
	const char *what = step == 2 ? "jq_stop_workers(q, 1)" : "jq_submit()";
	char how[160];
	ck_assert_msg(!e.timed_out, "jq_submit() and jq_stop_workers() on a full queue, while a "
				    "signal handler made room every %d signals, were still waiting "
				    "after 2 s.", SIG_EVERY);
	ck_assert_msg(e.exited, "jq_submit() under signals: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(!(step && err == EINTR),
		      "%s on a full queue failed with EINTR when a signal arrived (its handler "
		      "installed without SA_RESTART). A full queue means: wait for room, and a signal "
		      "during that wait is no reason to give up. Retry mq_send() while it fails with "
		      "EINTR.", what);
	ck_assert_msg(!step, "%s on a full queue under signals failed with %s.", what,
		      errno_name(err));
	ck_assert_msg(a.mq_curmsgs == 1 && last == 0,
		      "After jq_stop_workers(q, 1) the queue should hold one empty stop message; it "
		      "holds %ld message(s), the last one %zd bytes long.", a.mq_curmsgs, last);
}

/* A wait on nothing while SIGALRM arrives every 5 ms (run by child_run: R and ERR come back). */
struct storm_wait {
	mqd_t q;
	int fd;
	int r;	 /* what jq_wait_job_or_fd returned; -2 until it returns */
	int err; /* its errno */
};

static void wait_under_signals(void *arg)
{
	struct storm_wait *w = arg;
	signals_on();
	errno = 0;
	w->r = jq_wait_job_or_fd(w->q, w->fd, 300);
	w->err = errno;
	signals_off();
}

/* A 300 ms wait still ends when signals keep interrupting it: 0 at the timeout, or -1 with
   EINTR (what poll() itself answers). Restarting the full timeout after each EINTR never ends. */
static void the_timeout_survives_signals(void)
{
	char name[128];
	mqd_t q = make_q("pollsig", name, sizeof name, 4, 64, JQ_NONBLOCK);
	int p[2];
	ck_assert(pipe(p) == 0);
	struct storm_wait w = {q, p[0], -2, 0};
	child_end e = child_run(wait_under_signals, &w, sizeof w, 2.0);
	close(p[0]);
	close(p[1]);
	drop(q, name);
	char how[160];
	ck_assert_msg(
	    !e.timed_out,
	    "jq_wait_job_or_fd(q, fd, 300) with nothing to read was still waiting after "
	    "2 s while SIGALRM arrived every 5 ms (its handler installed without "
	    "SA_RESTART). Each signal makes poll() fail with EINTR; calling poll() again "
	    "with the whole 300 ms starts the wait over at every signal, so it never ends. "
	    "If you retry after EINTR, poll() for the time LEFT, computed from a deadline "
	    "taken once before the loop (clock_gettime(CLOCK_MONOTONIC)).");
	ck_assert_msg(e.exited && e.code == 0, "jq_wait_job_or_fd() under signals: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(w.r == 0 || (w.r == -1 && w.err == EINTR),
		      "jq_wait_job_or_fd(q, fd, 300) with nothing to read, under signals, returned "
		      "%d (errno %s): expected 0 once the 300 ms have passed (or -1 with EINTR).",
		      w.r, errno_name(w.err));
}

GRADER_TEST(wait_job_or_fd)
{
	char name[128];
	mqd_t q = make_q("poll", name, sizeof name, 4, 64, JQ_NONBLOCK);
	int p[2];
	ck_assert(pipe(p) == 0);
	int r[5], err = 0;
	r[0] = jq_wait_job_or_fd(q, p[0], 100); /* nothing anywhere: timeout */
	err = errno;
	ck_assert(write(p[1], "x", 1) == 1);
	r[1] = jq_wait_job_or_fd(q, p[0], 1000); /* the pipe */
	put(q, "job", 1);
	r[2] = jq_wait_job_or_fd(q, p[0], 1000); /* both */
	char c;
	ck_assert(read(p[0], &c, 1) == 1);
	r[3] = jq_wait_job_or_fd(q, p[0], 1000); /* the queue only */
	struct mq_attr a = {0};
	mq_getattr(q, &a);                       /* it must not have taken the job */
	char buf[64];
	while (mq_receive(q, buf, sizeof buf, NULL) >= 0)
		;
	close(p[1]);
	r[4] = jq_wait_job_or_fd(q, p[0], 1000); /* the pipe hung up */
	close(p[0]);
	drop(q, name);
	errno = err;
	require_implemented(r[0] < 0, "jq_wait_job_or_fd");
	const char *sit[] = {"with nothing to read (100 ms timeout)", "with a byte in the pipe",
			     "with a byte in the pipe and a job in the queue",
			     "with a job in the queue only", "with the pipe's write end closed"};
	int want[] = {0, JQ_READY_FD, JQ_READY_FD | JQ_READY_JOB, JQ_READY_JOB, JQ_READY_FD};
	for (int i = 0; i < 5; i++)
		ck_assert_msg(r[i] == want[i],
			      "jq_wait_job_or_fd() %s returned %d, expected %d (JQ_READY_JOB = 1, "
			      "JQ_READY_FD = 2, 0 = timeout). poll() both descriptors for POLLIN (the "
			      "mqd_t is a descriptor on Linux) and report each one's revents.",
			      sit[i], r[i], want[i]);
	ck_assert_msg(a.mq_curmsgs == 1, "jq_wait_job_or_fd() must only wait, not take: the job "
					 "was gone from the queue afterwards.");
	the_timeout_survives_signals();
}

/* The handler of the worker tests. ARG points to a struct ctx: where to report done jobs. */
struct ctx {
	int report;     /* each handled job writes its 4-byte id here (atomic: < PIPE_BUF) */
	int gate;       /* >= 0: read one byte from here before each job (the test holds them back) */
	int delay_ms;   /* sleep this long per job */
	unsigned fail;  /* a job with this id makes its worker exit with status 3 (0: none) */
	unsigned die;   /* a job with this id makes its worker die of SIGKILL (0: none) */
	bool check;     /* the job must arrive with len 4 and priority id % 4 (submit_ids) */
};

enum { GARBLED = 0x40000000 }; /* a reported id with this bit: wrong length or priority */

static void handler(const void *job, size_t len, unsigned prio, void *arg)
{
	struct ctx *c = arg;
	unsigned id = 0;
	if (len >= sizeof id)
		memcpy(&id, job, sizeof id);
	bool garbled = c->check && (len != sizeof id || prio != id % 4);
	if (c->gate >= 0) {
		char b;
		if (read(c->gate, &b, 1) != 1)
			_exit(4);
	}
	if (c->delay_ms)
		usleep((useconds_t)c->delay_ms * 1000);
	if (c->fail && id == c->fail)
		_exit(3);
	if (c->die && id == c->die)
		raise(SIGKILL);
	if (garbled)
		id |= GARBLED;
	if (write(c->report, &id, sizeof id) != sizeof id)
		_exit(5);
}

/* Reaps the workers ourselves (those not reaped yet), with a deadline, killing any that do not
   end. Returns how many had to be killed. */
static int reap_all(const pid_t *pids, int n, double timeout)
{
	int killed = 0;
	for (int i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		int st;
		if (probe_wait(pids[i], &st, timeout) < 0 && errno == ETIMEDOUT) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
			killed++;
			timeout = 0.1; /* the others had the time already */
		}
	}
	return killed;
}

/* Reads the ids reported so far without waiting; counts[id]++ for each. Returns how many. */
static int collect(int fd, int *counts, int max_id)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	unsigned id;
	int total = 0;
	while (read(fd, &id, sizeof id) == sizeof id) {
		total++;
		if (id & GARBLED)
			counts[0]++; /* counts[0] is never a job id: it counts garbled ones */
		else if (id < (unsigned)max_id)
			counts[id]++;
	}
	return total;
}

/* Submits job ids FIRST..LAST with priorities cycling over 0..3; returns how many went in. */
static int submit_ids(mqd_t q, unsigned first, unsigned last)
{
	int ok = 0;
	for (unsigned id = first; id <= last; id++)
		ok += jq_submit(q, &id, sizeof id, id % 4) == 0;
	return ok;
}

enum { POOL = 3, JOBS = 40 };

/* The reports (COUNTS per job id, TOTAL in all) show each of the JOBS jobs handled once, whole,
   and every worker ended (KILLED is how many had to be killed). */
static void every_job_handled_exactly_once(const int *counts, int total, int killed)
{
	int lost = 0, twice = 0, first_bad = 0;
	for (int id = 1; id <= JOBS; id++) {
		lost += counts[id] == 0;
		twice += counts[id] > 1;
		if (!first_bad && counts[id] != 1)
			first_bad = id;
	}
	ck_assert_msg(
	    !counts[0],
	    "%d of %d jobs reached the handler with the wrong length or priority (each job "
	    "is 4 bytes, submitted with priority id %% 4). Call fn(job, len, prio, arg) with "
	    "the length jq_take() returned and the priority it stored.",
	    counts[0], JOBS);
	ck_assert_msg(!twice,
		      "%d of %d jobs were handled more than once (job %d %d times). Each "
		      "message is delivered to exactly one jq_take(): call the handler once "
		      "per job taken.",
		      twice, JOBS, first_bad, counts[first_bad]);
	ck_assert_msg(
	    !lost,
	    "%d of %d jobs were never handled (%d reports in all; job %d is missing)%s. "
	    "Every worker must take jobs until it takes a stop message, and stop messages "
	    "must come after the jobs already queued.",
	    lost, JOBS, total, first_bad, killed ? ", and some workers had to be killed" : "");
	ck_assert_msg(!killed,
		      "%d worker(s) were still running 2 s after jq_stop_workers(): did each "
		      "worker get its own stop message, and does it end when it takes one?",
		      killed);
}

GRADER_TEST(pool_exactly_once)
{
	char name[128];
	mqd_t q = make_q("pool", name, sizeof name, 10, 64, 0);
	int rep[2], stray[2];
	ck_assert(pipe(rep) == 0 && pipe(stray) == 0);
	struct ctx c = {.report = rep[1], .gate = -1, .check = true};
	pid_t pids[POOL] = {0};
	pid_t me = getpid();
	int r = jq_start_workers(q, POOL, handler, &c, pids);
	if (getpid() != me) { /* a worker came back into the caller's code */
		ssize_t ignored = write(stray[1], "!", 1);
		(void)ignored;
		_exit(0);
	}
	int err = errno;
	if (r < 0) {
		close(rep[0]), close(rep[1]), close(stray[0]), close(stray[1]);
		drop(q, name);
		errno = err;
		require_implemented(1, "jq_start_workers");
		ck_abort_msg("jq_start_workers() failed with %s.", errno_name(err));
	}
	/* 40 jobs into a queue of 10: jq_submit waits whenever the workers fall behind. */
	int in = submit_ids(q, 1, JOBS);
	int stop = jq_stop_workers(q, POOL);
	int stop_err = errno;
	int killed = reap_all(pids, POOL, 2.0);
	close(rep[1]);
	close(stray[1]);
	int counts[JOBS + 1] = {0};
	int total = collect(rep[0], counts, JOBS + 1);
	close(rep[0]);
	char mark;
	fcntl(stray[0], F_SETFL, O_NONBLOCK);
	bool strays = read(stray[0], &mark, 1) == 1;
	close(stray[0]);
	drop(q, name);

	ck_assert_msg(!strays,
		      "A worker returned from jq_start_workers() into the caller's code, which then "
		      "ran twice (in a real program: every job submitted twice). After its loop a "
		      "worker must end right there with _exit(0).");
	errno = stop_err;
	require_implemented(stop < 0, "jq_stop_workers");
	ck_assert_msg(in == JOBS, "Only %d of %d jq_submit() calls succeeded.", in, JOBS);
	every_job_handled_exactly_once(counts, total, killed);
}

/* The stdio test's handler: prints the job's id with printf (fully buffered stdout). */
static void print_handler(const void *job, size_t len, unsigned prio, void *arg)
{
	(void)prio, (void)arg;
	unsigned id = 0;
	if (len >= sizeof id)
		memcpy(&id, job, sizeof id);
	printf("job%u;", id);
}

/* In a child whose stdout is the pipe *ARG, fully buffered: prints, starts 1 worker, lets it
   print 6 jobs, stops and collects it. Exit 0, or 38 not implemented, 1 something failed. */
static void print_through_workers(void *arg)
{
	int out = *(int *)arg;
	fflush(stdout);
	if (dup2(out, STDOUT_FILENO) < 0)
		_exit(1);
	setvbuf(stdout, NULL, _IOFBF, 4096);
	char name[128];
	sb_name("stdio", name, sizeof name);
	struct mq_attr a = {.mq_maxmsg = 8, .mq_msgsize = 16};
	mqd_t q = mq_open(name, O_RDWR | O_CREAT, 0600, &a);
	if (q == NOQ)
		_exit(1);
	printf("caller;"); /* still in stdout's buffer when the worker is forked */
	pid_t pids[1] = {0};
	pid_t me = getpid();
	int r = jq_start_workers(q, 1, print_handler, NULL, pids); /* N = 1 is a pool too */
	if (getpid() != me)
		_exit(0);
	int code = r < 0 ? (errno == ENOSYS ? 38 : 1) : 0;
	if (r == 0) {
		for (unsigned id = 1; id <= 6; id++)
			mq_send(q, (const char *)&id, sizeof id, 1);
		mq_send(q, "", 0, 0);
		int st;
		if (probe_finish(pids[0], &st, 2.0) < 0)
			code = 1;
	}
	mq_close(q);
	mq_unlink(name);
	fflush(stdout);
	_exit(code);
}

GRADER_TEST(workers_stdio_once)
{
	int p[2];
	ck_assert(pipe(p) == 0);
	child_end e = probe_in_child(print_through_workers, &p[1], 3.0);
	close(p[1]);
	char out[512] = "";
	ssize_t n = probe_read_all(p[0], out, sizeof out - 1, 1.0);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 38, "jq_start_workers");
	char how[160];
	ck_assert_msg(e.exited && e.code == 0, "jq_start_workers(q, 1, ...) and its worker printing "
					       "6 jobs: %s (1: it failed or the worker did not end).",
		      describe_end(e, how, sizeof how));
	int callers = 0;
	for (const char *c = out; (c = strstr(c, "caller;")); c++)
		callers++;
	ck_assert_msg(callers == 1,
		      "The caller printf()ed \"caller;\" (still in stdout's buffer) and then started a "
		      "worker; the output holds it %d times: \"%.200s\". Each fork() copies stdio's "
		      "buffer, and a worker that flushes its copy prints the caller's text again. "
		      "fflush(NULL) before forking.", callers, out);
	for (unsigned id = 1; id <= 6; id++) {
		char want[16];
		snprintf(want, sizeof want, "job%u;", id);
		const char *at = strstr(out, want);
		ck_assert_msg(at && !strstr(at + 1, want),
			      "Each of 6 jobs was handled by a handler that printf()s \"jobN;\" (stdout is a "
			      "pipe, so fully buffered); the output should hold each once, but \"%s\" "
			      "appears %s: \"%.200s\". _exit() does not flush stdio: fflush(NULL) in the "
			      "worker before it ends.", want, at ? "more than once" : "nowhere", out);
	}
}

GRADER_TEST(stop_after_queued_jobs)
{
	char name[128];
	mqd_t q = make_q("stop", name, sizeof name, 10, 64, 0);
	int rep[2], gate[2];
	ck_assert(pipe(rep) == 0 && pipe(gate) == 0);
	/* Each handler call needs a byte from the gate: the workers hold their first job until
	   the stop messages are queued behind the rest. */
	struct ctx c = {.report = rep[1], .gate = gate[0]};
	pid_t pids[POOL] = {0};
	pid_t me = getpid();
	int r = jq_start_workers(q, POOL, handler, &c, pids);
	if (getpid() != me)
		_exit(0); /* a worker came back into our code: pool_exactly_once reports that */
	int err = errno;
	if (r < 0) {
		close(rep[0]), close(rep[1]), close(gate[0]), close(gate[1]);
		drop(q, name);
		errno = err;
		require_implemented(1, "jq_start_workers");
		ck_abort_msg("jq_start_workers() failed with %s.", errno_name(err));
	}
	enum { N = 10 };
	int in = submit_ids(q, 1, N); /* priorities 1, 2, 3, 0, 1, ...: some as low as the stop */
	int stop = jq_stop_workers(q, POOL);
	int stop_err = errno;
	char bytes[N + POOL];
	memset(bytes, 'g', sizeof bytes);
	ck_assert(write(gate[1], bytes, sizeof bytes) == (ssize_t)sizeof bytes); /* open the gate */
	int killed = reap_all(pids, POOL, 2.0);
	close(rep[1]);
	int counts[N + 1] = {0};
	int total = collect(rep[0], counts, N + 1);
	close(rep[0]), close(gate[0]), close(gate[1]);
	drop(q, name);
	errno = stop_err;
	require_implemented(stop < 0, "jq_stop_workers");
	ck_assert_msg(stop == 0, "jq_stop_workers() failed with %s.", errno_name(stop_err));
	ck_assert_msg(in == N, "Only %d of %d jq_submit() calls succeeded.", in, N);
	ck_assert_msg(total <= N, "%d reports for %d jobs: some were handled twice.", total, N);
	ck_assert_msg(total == N,
		      "%d jobs (priorities 0 to 3) were queued before jq_stop_workers(), but only %d "
		      "were handled before the workers stopped. The stop messages overtook queued jobs: "
		      "send them at priority 0, the lowest, so that they come out last (the queue is "
		      "FIFO within one priority).", N, total);
	ck_assert_msg(!killed, "%d worker(s) did not end after their stop message.", killed);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Signals keep interrupting the wait: a handler without SA_RESTART gives EINTR. Returns what
   jq_join_workers returned, with its errno in *ERR. */
static int join_under_signals(pid_t *pids, int *err)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval tv = {{0, 20 * 1000}, {0, 20 * 1000}};
	setitimer(ITIMER_REAL, &tv, NULL);
	int failed = jq_join_workers(pids, 4);
	*err = errno;
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	return failed;
}

/* What the join saw, judged once the workers are gone. */
typedef struct {
	int failed, err;       /* jq_join_workers' result and errno */
	int left;	       /* a child was left uncollected (a zombie) */
	bool running;	       /* a worker was still running */
	int killed;	       /* workers reaped by force afterwards */
	int not_child, nc_err; /* the join of a pid that is not a child, and its errno */
} join_run;

static void join_counts_and_reaps(const join_run *j)
{
	int failed = j->failed, err = j->err, not_child = j->not_child, nc_err = j->nc_err;
	bool running = j->running;
	errno = err;
	require_implemented(failed < 0, "jq_join_workers");
	ck_assert_msg(
	    failed >= 0, "jq_join_workers() failed with %s%s.", errno_name(err),
	    err == EINTR ? ": a signal interrupted waitpid(); that only means: call it again" : "");
	ck_assert_msg(!j->left && !running && !j->killed,
		      "jq_join_workers() returned while a worker was %s. It must wait for each "
		      "worker to end and collect it: waitpid(pid, &status, 0), not WNOHANG.",
		      running ? "still running" : "ended but not collected (a zombie)");
	ck_assert_msg(
	    failed == 2,
	    "Of four workers, one exited with status 3, one was killed by SIGKILL and two "
	    "exited with 0: jq_join_workers() should return 2 (the number that did not exit "
	    "with 0), not %d.%s",
	    failed,
	    failed == 1 ? " A worker killed by a signal has no exit status at all: count "
			  "every status for which !WIFEXITED(status) || WEXITSTATUS(status) != 0."
			: "");
	ck_assert_msg(
	    not_child < 0 && nc_err == ECHILD,
	    "jq_join_workers() on a pid that is not a child of the caller %s%s; waitpid() "
	    "fails with ECHILD there, and nothing was collected: return -1 with that errno.",
	    not_child < 0 ? "failed with " : "returned ",
	    not_child < 0    ? errno_name(nc_err)
	    : not_child == 0 ? "0"
			     : "a count");
}

GRADER_TEST(join_reaps_workers)
{
	char name[128];
	mqd_t q = make_q("join", name, sizeof name, 10, 64, 0);
	int rep[2];
	ck_assert(pipe(rep) == 0);
	/* Slow jobs; job 5 kills its worker (SIGKILL), job 6 makes its worker exit with status 3,
	   and the other two workers end cleanly at their stop messages. */
	struct ctx c = {.report = rep[1], .gate = -1, .delay_ms = 40, .fail = 6, .die = 5};
	pid_t pids[4] = {0};
	pid_t me = getpid();
	int r = jq_start_workers(q, 4, handler, &c, pids);
	if (getpid() != me)
		_exit(0); /* a worker came back into our code: pool_exactly_once reports that */
	int err = errno;
	if (r < 0) {
		close(rep[0]), close(rep[1]);
		drop(q, name);
		errno = err;
		require_implemented(1, "jq_start_workers");
		ck_abort_msg("jq_start_workers() failed with %s.", errno_name(err));
	}
	for (unsigned id = 1; id <= 6; id++) /* plain mq_send: only jq_join_workers is graded here */
		mq_send(q, (const char *)&id, sizeof id, 1);
	for (int i = 0; i < 4; i++)
		mq_send(q, "", 0, 0); /* the stop messages */
	join_run j = {0};
	j.failed = join_under_signals(pids, &j.err);
	siginfo_t si = {0};
	j.left = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
	for (int i = 0; i < 4; i++)
		j.running |= kill(pids[i], 0) == 0 && waitpid(pids[i], NULL, WNOHANG) == 0;
	j.killed = reap_all(pids, 4, 2.0); /* whatever is left, so the failure below is the story */
	close(rep[0]), close(rep[1]);
	drop(q, name);
	/* A pid that is not our child (our own): waitpid says ECHILD, and so must the join. */
	pid_t self = getpid();
	errno = 0;
	j.not_child = j.failed >= 0 ? jq_join_workers(&self, 1) : -1;
	j.nc_err = errno;
	join_counts_and_reaps(&j);
}

struct fork_job {
	mqd_t q;
	int report;
};

/* In a child: jq_start_workers(4) where the third fork fails. Exit code: 0 all good (or fork
   is not how this code makes workers), 1 it returned 0, 2 wrong errno, 3 workers left running,
   4 zombies left. */
static void start_with_failing_fork(void *arg)
{
	struct fork_job *j = arg;
	struct ctx c = {.report = j->report, .gate = -1};
	pid_t pids[4] = {0, 0, 0, 0};
	pid_t me = getpid();
	unsigned long failed_before = fault_failed_calls();
	fault_fail_call("fork", 3, EAGAIN); /* two workers start, the third fork() fails */
	errno = 0;
	int r = jq_start_workers(j->q, 4, handler, &c, pids);
	int err = errno;
	bool injected = fault_failed_calls() > failed_before;
	fault_fail_clear();
	if (getpid() != me)
		_exit(0); /* a worker came back: pool_exactly_once reports that */
	int code = 0;
	if (r == 0 && !injected) { /* no fork() was made to fail: nothing to judge here */
		jq_stop_workers(j->q, 4);
		jq_join_workers(pids, 4);
		_exit(0);
	}
	siginfo_t si = {0};
	int w = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
	if (r == 0)
		code = 1;
	else if (err == ENOSYS)
		code = 5;
	else if (err != EAGAIN)
		code = 2;
	else if (w == 0 && si.si_pid == 0)
		code = 3;
	else if (w == 0)
		code = 4;
	pid_t left[16];
	int nleft = probe_descendants(getpid(), left, 16);
	for (int i = 0; i < nleft; i++)
		kill(left[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	_exit(code);
}

GRADER_TEST(start_workers_fork_fails)
{
	char name[128];
	mqd_t q = make_q("forkfail", name, sizeof name, 10, 64, 0);
	int rep[2];
	ck_assert(pipe(rep) == 0);
	struct fork_job j = {q, rep[1]};
	child_end e = probe_in_child(start_with_failing_fork, &j, 2.0);
	close(rep[0]), close(rep[1]);
	drop(q, name);
	char how[160];
	ck_assert_msg(!e.timed_out,
		      "jq_start_workers(q, 4, ...) whose third fork() failed (EAGAIN, as at "
		      "RLIMIT_NPROC) was still busy after 2 s. The two workers it had started are "
		      "waiting in jq_take() for a stop message nobody will send: kill them "
		      "(SIGKILL) before you wait for them.");
	ck_assert_msg(e.exited, "jq_start_workers() with a failing fork: the process %s.",
		      describe_end(e, how, sizeof how));
	errno = ENOSYS;
	require_implemented(e.code == 5, "jq_start_workers");
	ck_assert_msg(e.code != 1,
		      "jq_start_workers(q, 4, ...) returned 0 although its third fork() failed: the "
		      "caller believes four workers run, and pids[2] is -1. Check fork()'s result and "
		      "return -1 with its errno.");
	ck_assert_msg(e.code != 2,
		      "jq_start_workers(q, 4, ...) whose third fork() failed with EAGAIN returned -1 "
		      "but with another errno: errno was overwritten while cleaning up. Save it "
		      "before you kill and wait, restore it after.");
	ck_assert_msg(e.code != 3,
		      "jq_start_workers() failed (its third fork() failed) but left the workers it had "
		      "started running. The header promises that none is left: kill them and waitpid() "
		      "each one.");
	ck_assert_msg(e.code != 4,
		      "jq_start_workers() failed (its third fork() failed) and killed the workers it "
		      "had started, but never collected them: they are zombies now. waitpid() each "
		      "one.");
	ck_assert_msg(e.code == 0, "jq_start_workers() with a failing fork: the process %s.",
		      describe_end(e, how, sizeof how));
}

GRADER_TEST(destroy_removes_queue)
{
	char name[128];
	mqd_t q = make_q("destroy", name, sizeof name, 4, 64, 0);
	put(q, "left behind", 1);
	int r = jq_destroy(q, name);
	int err = errno;
	bool still_open = fcntl((int)q, F_GETFD) >= 0; /* nothing else was opened meanwhile */
	errno = 0;
	mqd_t again = mq_open(name, O_RDONLY);
	int open_err = errno;
	drop(again, name);
	if (r < 0 && err == ENOSYS)
		mq_close(q);
	errno = err;
	require_implemented(r < 0, "jq_destroy");
	ck_assert_msg(again == NOQ && open_err == ENOENT,
		      "After jq_destroy() the queue %s still exists (mq_open without O_CREAT %s). "
		      "mq_close() only closes your descriptor: the queue, and the job in it, stay in "
		      "the kernel until mq_unlink(name).", name,
		      again != NOQ ? "succeeded" : errno_name(open_err));
	if (still_open)
		mq_close(q);
	ck_assert_msg(!still_open, "After jq_destroy() the queue's descriptor is still open: call "
				   "mq_close(q) too.");
	ck_assert_msg(r == 0, "jq_destroy() returned %d (%s) although it did its work.", r, errno_name(err));

	/* Failures: each step is still tried, and the caller hears the error. */
	q = make_q("destroy", name, sizeof name, 4, 64, 0);
	mq_close(q); /* a descriptor that is not open any more */
	errno = 0;
	r = jq_destroy(q, name);
	err = errno;
	bool named = queue_exists(name);
	mq_unlink(name);
	ck_assert_msg(!named, "jq_destroy() with a descriptor that was already closed left the "
			      "queue's name in place: when mq_close() fails, still call mq_unlink().");
	ck_assert_msg(r < 0 && err == EBADF,
		      "jq_destroy() with a descriptor that was already closed %s%s; mq_close() said "
		      "EBADF, and the caller must hear it (-1 with that errno) even though the "
		      "removal worked.", r < 0 ? "failed with " : "returned ", r < 0 ? errno_name(err)
									: "0");
	q = make_q("destroy", name, sizeof name, 4, 64, 0);
	mq_unlink(name); /* someone removed the name already */
	errno = 0;
	r = jq_destroy(q, name);
	err = errno;
	still_open = fcntl((int)q, F_GETFD) >= 0;
	if (still_open)
		mq_close(q);
	ck_assert_msg(!still_open, "jq_destroy() of a queue whose name was already removed left the "
				   "descriptor open: close it whatever mq_unlink() says.");
	ck_assert_msg(r < 0 && err == ENOENT,
		      "jq_destroy() of a queue whose name was already removed %s%s; mq_unlink() said "
		      "ENOENT: return -1 with that errno.", r < 0 ? "failed with " : "returned ",
		      r < 0 ? errno_name(err) : "0");
}
