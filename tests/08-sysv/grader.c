/* grader.c: Lab 08 tests: what the kernel shows about a SysV queue service, a SysV segment and lock. */
#define _GNU_SOURCE
#include "grader.h"
#include "sysv_lab.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NCLIENTS = 4 };
#define DECOY_TYPE 777777L /* a reply for a client that is not listening (yet) */
#define FAKE_CLIENT 900000L

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static void pause_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* An explicit key per test object: unique to this run even without an IPC namespace. */
static key_t key_for(int n)
{
	return (key_t)(0x08000000 | ((getpid() & 0xffff) << 8) | (n & 0xff));
}

/* Removes every SysV object with KEY, whatever the student's code did or did not do. */
static void drop_key(key_t key)
{
	int id;
	if ((id = msgget(key, 0)) >= 0)
		msgctl(id, IPC_RMID, NULL);
	if ((id = shmget(key, 0, 0)) >= 0)
		shmctl(id, IPC_RMID, NULL);
	if ((id = semget(key, 0, 0)) >= 0)
		semctl(id, 0, IPC_RMID);
}

static size_t text_size(size_t len)
{
	return offsetof(struct sv_msg, data) - sizeof(long) + len;
}

/* The grader's own peer: sends a message of LEN data bytes. */
static int put(int q, long type, long client, const void *data, size_t len)
{
	static struct sv_msg m;
	m.mtype = type;
	m.client = (int32_t)client;
	m.len = (uint32_t)len;
	memcpy(m.data, data, len);
	return msgsnd(q, &m, text_size(len), IPC_NOWAIT);
}

/* Takes a message of TYPE without waiting: its data length, or -1 (none there). */
static ssize_t take(int q, long type, struct sv_msg *m)
{
	ssize_t n = msgrcv(q, m, sizeof *m - sizeof(long), type, IPC_NOWAIT);
	if (n < 0)
		return -1;
	return (ssize_t)m->len;
}

/* Takes a message of TYPE, waiting at most TIMEOUT s (polls: the grader never blocks in msgrcv). */
static ssize_t take_within(int q, long type, struct sv_msg *m, double timeout)
{
	double end = probe_now() + timeout;
	for (;;) {
		ssize_t n = take(q, type, m);
		if (n >= 0 || errno != ENOMSG || probe_now() > end)
			return n;
		pause_ms(1);
	}
}

/* What every test server answers: "re:" and the request. */
static size_t echo_reply(const void *req, size_t len, void *reply, size_t cap, void *arg)
{
	(void)arg;
	size_t n = len + 3 <= cap ? len : cap - 3;
	memcpy(reply, "re:", 3);
	memcpy((char *)reply + 3, req, n);
	return n + 3;
}

/* The maximum-size server: answers with the request's bytes, each XOR 0xa5. */
static size_t flip_reply(const void *req, size_t len, void *reply, size_t cap, void *arg)
{
	(void)arg;
	size_t n = len < cap ? len : cap;
	for (size_t i = 0; i < n; i++)
		((unsigned char *)reply)[i] = ((const unsigned char *)req)[i] ^ 0xa5;
	return n;
}

/*
 * The grader's server, in a child: collects NREQ requests (2 s at most), then sends a decoy
 * reply for nobody, then answers them in REVERSE order with FN. Exit status: 0 done,
 * 2 fewer requests than expected arrived, 3 a send failed.
 */
static pid_t start_server(int q, int nreq, sv_handler fn)
{
	pid_t pid = child_fork();
	if (pid)
		return pid;
	static struct sv_msg reqs[NCLIENTS];
	static char out[SV_DATA_MAX];
	for (int i = 0; i < nreq; i++)
		if (take_within(q, SV_REQUEST, &reqs[i], 2.0) < 0)
			_exit(2);
	const char decoy[] = "a reply for another client";
	if (put(q, DECOY_TYPE, DECOY_TYPE, decoy, sizeof decoy - 1) < 0)
		_exit(3);
	for (int i = nreq - 1; i >= 0; i--) {
		size_t n = fn(reqs[i].data, reqs[i].len, out, SV_DATA_MAX, NULL);
		/* a blocking send: a maximum-size reply only fits once the queue has room */
		static struct sv_msg m;
		m.mtype = reqs[i].client;
		m.client = (int32_t)getpid();
		m.len = (uint32_t)n;
		memcpy(m.data, out, n);
		if (m.mtype <= 0 || msgsnd(q, &m, text_size(n), 0) < 0)
			_exit(3);
	}
	_exit(0);
}

/* Ends the grader's server and says how it ended (0: it served everyone). */
static int stop_server(pid_t pid)
{
	child_end e = child_wait(pid, 0.5);
	return e.exited ? e.code : -1;
}

static int make_queue(int n)
{
	key_t key = key_for(n);
	drop_key(key);
	int q = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert_msg(q >= 0, "the grader could not create a queue: %s", errno_name(errno));
	return q;
}

GRADER_TEST(call_round_trip)
{
	int q = make_queue(1);
	pid_t server = start_server(q, 1, echo_reply);
	char reply[64] = "";
	const char req[] = "hello";
	ssize_t n = sv_call(q, req, 5, reply, sizeof reply - 1);
	int err = errno;
	int how = stop_server(server);
	msgctl(q, IPC_RMID, NULL);
	errno = err;
	require_implemented(n < 0, "sv_call");
	ck_assert_msg(!(n < 0 && err == EINVAL),
		      "sv_call() failed with EINVAL. msgsnd() refuses a message whose mtype is 0 or "
		      "negative (mtype 0 means \"any type\" to msgrcv, so it cannot be a type). Send "
		      "requests with mtype SV_REQUEST (1).");
	ck_assert_msg(n >= 0, "sv_call() failed with %s.", errno_name(err));
	ck_assert_msg(how == 0, "The grader's server never received the request (mtype SV_REQUEST, "
				"client = your pid) within 2 s.");
	reply[n < (ssize_t)sizeof reply - 1 ? n : 0] = '\0';
	ck_assert_msg(n == 8 && !memcmp(reply, "re:hello", 8),
		      "sv_call(\"hello\") returned %zd bytes \"%s\"; the server replied \"re:hello\" (8 "
		      "bytes) with mtype = your pid.", n, reply);
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + seed + (i >> 8));
}

GRADER_TEST(call_max_size)
{
	int q = make_queue(2);
	static unsigned char req[SV_DATA_MAX], reply[SV_DATA_MAX + 64], want[SV_DATA_MAX];
	fill_pattern(req, sizeof req, 11);
	flip_reply(req, sizeof req, want, sizeof want, NULL);
	/* A small call first: if even that fails, the size is not the problem. */
	pid_t server = start_server(q, 1, flip_reply);
	ssize_t small = sv_call(q, req, 16, reply, sizeof reply);
	int err = errno;
	int how_small = stop_server(server), how = -1;
	ssize_t n = -1;
	if (small == 16 && how_small == 0) {
		server = start_server(q, 1, flip_reply);
		n = sv_call(q, req, SV_DATA_MAX, reply, sizeof reply);
		err = errno;
		how = stop_server(server);
	}
	msgctl(q, IPC_RMID, NULL);
	errno = err;
	require_implemented(small < 0, "sv_call");
	ck_assert_msg(small == 16 && how_small == 0, "A first, 16-byte sv_call() did not work (%s): pass "
					       "call_round_trip first.",
		      small < 0 ? errno_name(err) : "wrong reply length");
	ck_assert_msg(!(n < 0 && (err == EINVAL || err == E2BIG)),
		      "A 16-byte sv_call() worked, but one with %d data bytes (a %d-byte message text, "
		      "the most msgmax allows) failed with %s: %s. msgsz, the size msgsnd() and "
		      "msgrcv() take, counts only the bytes AFTER the long mtype: "
		      "offsetof(struct sv_msg, data) - sizeof(long) + len to send, "
		      "sizeof(struct sv_msg) - sizeof(long) as the room to receive.",
		      SV_DATA_MAX, SV_MSG_MAX, errno_name(err),
		      err == EINVAL ? "msgsnd() refuses a msgsz above msgmax"
				    : "msgrcv() had less room than the message");
	ck_assert_msg(n >= 0, "sv_call() with a maximum-size request (%d bytes) failed with %s.",
		      SV_DATA_MAX, errno_name(err));
	ck_assert_msg(how == 0, "The grader's server never received the maximum-size request.");
	ck_assert_msg(n == SV_DATA_MAX,
		      "The reply had %d data bytes, but sv_call() returned %zd. Is msgrcv()'s msgsz the "
		      "full room for the text, sizeof(struct sv_msg) - sizeof(long)? Counting mtype "
		      "twice cuts %zu bytes off (E2BIG, or silent truncation with MSG_NOERROR).",
		      SV_DATA_MAX, n, sizeof(long));
	size_t bad = 0;
	while (bad < SV_DATA_MAX && reply[bad] == want[bad])
		bad++;
	ck_assert_msg(bad == SV_DATA_MAX,
		      "The maximum-size reply came back corrupted from byte %zu of %d on: the end of the "
		      "message was lost. msgrcv()'s msgsz must be sizeof(struct sv_msg) - sizeof(long): "
		      "the mtype field is not part of it.", bad, SV_DATA_MAX);
}

GRADER_TEST(call_concurrent_clients)
{
	int q = make_queue(3);
	/* Shared results: what each client got back. */
	struct result {
		pid_t pid;
		ssize_t n;
		int err;
		char reply[96];
	} *res = child_shared(sizeof(struct result) * NCLIENTS);
	pid_t kids[NCLIENTS];
	for (int i = 0; i < NCLIENTS; i++) {
		res[i].n = -2; /* never returned */
		kids[i] = child_fork();
		if (kids[i] == 0) {
			char req[64];
			int len = snprintf(req, sizeof req, "client %d", (int)getpid());
			res[i].pid = getpid();
			res[i].n = sv_call(q, req, (size_t)len, res[i].reply, sizeof res[i].reply - 1);
			res[i].err = errno;
			_exit(0);
		}
	}
	/* The server collects all four requests, then queues a reply for a fifth client that is not
	   there, then answers in reverse order. Only msgtyp = own pid picks the right one. */
	pid_t server = start_server(q, NCLIENTS, echo_reply);
	int hung = 0;
	for (int i = 0; i < NCLIENTS; i++)
		hung += child_wait(kids[i], 2.0).timed_out;
	int how = stop_server(server);
	msgctl(q, IPC_RMID, NULL);
	struct result r[NCLIENTS];
	memcpy(r, res, sizeof r);
	child_shared_free(res, sizeof(struct result) * NCLIENTS);
	for (int i = 0; i < NCLIENTS; i++) {
		errno = r[i].err;
		require_implemented(r[i].n == -1, "sv_call");
	}
	for (int i = 0; i < NCLIENTS; i++) {
		char want[96];
		snprintf(want, sizeof want, "re:client %d", (int)r[i].pid);
		if (r[i].n >= 0 && r[i].n < (ssize_t)sizeof r[i].reply)
			r[i].reply[r[i].n] = '\0';
		ck_assert_msg(r[i].n < 0 || !strcmp(r[i].reply, want),
			      "%d clients called at once on one queue. Client %d got \"%s\", which is not "
			      "its reply (\"%s\"; \"client N\" is a request). On a shared queue a client must receive with msgtyp = "
			      "its own pid: msgtyp 0 takes whatever comes first, another client's reply or "
			      "even a request.", NCLIENTS, (int)r[i].pid, r[i].reply, want);
	}
	for (int i = 0; i < NCLIENTS; i++)
		ck_assert_msg(r[i].n >= 0, "Client %d: sv_call() %s%s.", (int)r[i].pid,
			      r[i].n == -2 ? "" : "failed with ",
			      r[i].n == -2 ? "never returned within 2 s (was its reply taken by "
					     "another client?)" : errno_name(r[i].err));
	ck_assert_msg(!hung && how == 0, "The clients and the grader's server did not finish within 2 s.");
}

/* The empty server: checks that the request is empty, answers with an empty reply. */
static size_t empty_reply(const void *req, size_t len, void *reply, size_t cap, void *arg)
{
	(void)req, (void)reply, (void)cap, (void)arg;
	return len == 0 ? 0 : 1; /* a non-empty request gets a 1-byte reply: visible */
}

GRADER_TEST(call_limits)
{
	int q = make_queue(18);
	/* An empty request, an empty reply. */
	pid_t server = start_server(q, 1, empty_reply);
	char reply[16];
	memset(reply, '#', sizeof reply);
	errno = 0;
	ssize_t n = sv_call(q, "", 0, reply, sizeof reply);
	int err = errno;
	int how = stop_server(server);
	/* A reply longer than CAP: its full length back, exactly CAP bytes written. */
	ssize_t cut = -3;
	char small[8];
	memset(small, '#', sizeof small);
	if (n == 0 && how == 0) {
		server = start_server(q, 1, echo_reply);
		cut = sv_call(q, "hello", 5, small, 4);
		stop_server(server);
	}
	/* One byte too many: EINVAL, and nothing on the queue. */
	static char big[SV_DATA_MAX + 1];
	errno = 0;
	ssize_t over = sv_call(q, big, SV_DATA_MAX + 1, reply, sizeof reply);
	int over_err = errno;
	static struct sv_msg left;
	bool sent = take(q, SV_REQUEST, &left) >= 0; /* (the decoy replies do not count) */
	msgctl(q, IPC_RMID, NULL);
	errno = err;
	require_implemented(n < 0, "sv_call");
	ck_assert_msg(how == 0 || n >= 0,
		      "sv_call(q, \"\", 0, ...), an empty request, never reached the grader's server "
		      "(%s). A request with no data is still a message: its text is the client and len "
		      "fields.", n < 0 ? errno_name(err) : "no request");
	ck_assert_msg(n == 0,
		      "sv_call() with an empty request, answered by an empty reply, returned %zd%s%s; "
		      "expected 0. A message of text size offsetof(struct sv_msg, data) - sizeof(long) "
		      "is complete: a reply may have no data.", n, n < 0 ? " with " : "",
		      n < 0 ? errno_name(err) : "");
	ck_assert_msg(how == 0, "The grader's server did not get an empty request from sv_call(q, "
				"\"\", 0, ...), or the request was not empty.");
	ck_assert_msg(cut == 8 && !memcmp(small, "re:h####", 8),
		      "sv_call(q, \"hello\", 5, buf, 4) got the 8-byte reply \"re:hello\"; it should "
		      "return 8 and write exactly 4 bytes (\"re:h\"), but returned %zd and wrote "
		      "\"%.8s\" ('#' = untouched).", cut, small);
	ck_assert_msg(over < 0 && over_err == EINVAL && !sent,
		      "sv_call() with %d data bytes, one more than SV_DATA_MAX, %s%s%s. Check LEN first "
		      "and fail with EINVAL before anything is sent.", SV_DATA_MAX + 1,
		      over < 0 ? "failed with " : "returned ", over < 0 ? errno_name(over_err) : "a length",
		      sent ? ", and sent a request anyway" : "");
}

/* The signal tests: SIGALRM every 5 ms, a handler without SA_RESTART that counts into shared
   memory, so that the grader can act only once the waiting process has seen signals. */
static volatile int *shared_signals;

static void count_signal(int sig)
{
	(void)sig;
	__atomic_add_fetch(shared_signals, 1, __ATOMIC_SEQ_CST);
}

static void signals_on(void)
{
	probe_signal_storm(count_signal, 5000);
}

static void signals_off(void)
{
	probe_signal_storm_stop();
}

/* Waits until the signalled process has seen at least N signals (2 s at most). */
static bool signals_reach(int n)
{
	double end = probe_now() + 2.0;
	while (__atomic_load_n(shared_signals, __ATOMIC_SEQ_CST) < n) {
		if (probe_now() > end)
			return false;
		pause_ms(1);
	}
	return true;
}

/* Client under signals: exit 0 with the right reply, 1 EINTR, 2 another error, 3 wrong reply. */
static void call_with_signals(void *arg)
{
	int q = *(int *)arg;
	char reply[32] = "";
	signals_on();
	errno = 0;
	ssize_t n = sv_call(q, "hello", 5, reply, sizeof reply - 1);
	int err = errno;
	signals_off();
	if (n < 0)
		_exit(err == EINTR ? 1 : err == ENOSYS ? 38 : 2);
	_exit(n == 8 && !memcmp(reply, "re:hello", 8) ? 0 : 3);
}

GRADER_TEST(call_survives_signals)
{
	int q = make_queue(19);
	/* A small queue, filled: the request must wait for room, then for the reply. */
	struct msqid_ds ds;
	ck_assert(msgctl(q, IPC_STAT, &ds) == 0);
	ds.msg_qbytes = 64;
	ck_assert(msgctl(q, IPC_SET, &ds) == 0);
	char filler[52];
	memset(filler, 'f', sizeof filler);
	ck_assert(put(q, DECOY_TYPE, DECOY_TYPE, filler, sizeof filler) == 0); /* 60 of 64 bytes */
	shared_signals = child_shared(4096);
	pid_t client = child_start(call_with_signals, &q);
	/* The grader's server: after 8 signals make room, after 8 more answer. */
	static struct sv_msg m;
	bool room = signals_reach(8) && take(q, DECOY_TYPE, &m) >= 0;
	ssize_t got = room ? take_within(q, SV_REQUEST, &m, 1.0) : -1;
	bool ok = got == 5 && signals_reach(__atomic_load_n(shared_signals, __ATOMIC_SEQ_CST) + 8);
	if (ok)
		ok = put(q, m.client, getpid(), "re:hello", 8) == 0;
	child_end end = child_wait(client, 1.0);
	bool hung = end.timed_out;
	msgctl(q, IPC_RMID, NULL);
	child_shared_free((void *)shared_signals, 4096);
	int code = end.exited ? end.code : -1;
	errno = ENOSYS;
	require_implemented(code == 38, "sv_call");
	ck_assert_msg(!(code == 1 && got < 0),
		      "sv_call() failed with EINTR while it waited for room in a full queue: a signal "
		      "arrived (its handler installed without SA_RESTART; msgsnd is never restarted "
		      "anyway). That is no reason to give up: call msgsnd() again while it fails with "
		      "EINTR.");
	ck_assert_msg(code != 1,
		      "sv_call() failed with EINTR while it waited for its reply: a signal arrived, and "
		      "msgrcv() is never restarted (man 7 signal). Call msgrcv() again while it fails "
		      "with EINTR.");
	ck_assert_msg(!hung, "sv_call() under signals did not return within 1 s of its reply being "
			     "sent%s.", ok ? "" : " (the grader never got the request)");
	ck_assert_msg(code == 0, "sv_call() under signals (a queue that was full at first) %s.",
		      code == 2 ? "failed" : code == 3 ? "returned the wrong reply" : "crashed");
}

/* Client whose queue disappears: exit 0 it failed and left REPLY alone, 1 it returned a length,
   2 it wrote into REPLY. */
static void call_lost_queue(void *arg)
{
	int q = *(int *)arg;
	char reply[32];
	memset(reply, '#', sizeof reply);
	errno = 0;
	ssize_t n = sv_call(q, "hello", 5, reply, sizeof reply);
	if (n < 0 && errno == ENOSYS)
		_exit(38);
	if (n >= 0)
		_exit(1);
	for (size_t i = 0; i < sizeof reply; i++)
		if (reply[i] != '#')
			_exit(2);
	_exit(0);
}

GRADER_TEST(call_queue_removed)
{
	int q = make_queue(20);
	pid_t client = child_start(call_lost_queue, &q);
	/* Take the request, then remove the queue while the client waits for its reply. */
	static struct sv_msg m;
	ssize_t got = take_within(q, SV_REQUEST, &m, 2.0);
	msgctl(q, IPC_RMID, NULL);
	child_end end = child_wait(client, 1.5);
	bool hung = end.timed_out;
	int code = end.exited ? end.code : -1;
	errno = ENOSYS;
	require_implemented(code == 38, "sv_call");
	ck_assert_msg(got >= 0 || hung, "The grader never received sv_call()'s request.");
	ck_assert_msg(!hung,
		      "The queue was removed (IPC_RMID) while sv_call() waited for its reply, and it "
		      "was still waiting 1.5 s later. msgrcv() fails with EIDRM then (EINVAL once the "
		      "id is gone): retry only after EINTR, give up on any other error.");
	ck_assert_msg(code != 1,
		      "The queue was removed while sv_call() waited for its reply, yet it returned a "
		      "length: with msgrcv()'s failure unchecked, the \"reply\" was its own request. "
		      "Return -1 when msgrcv() fails.");
	ck_assert_msg(code != 2, "sv_call() failed (the queue was removed) but wrote into REPLY "
				 "anyway: no reply came, so there is nothing to copy.");
	ck_assert_msg(code == 0, "sv_call() whose queue was removed: the process ended oddly (%d).",
		      code);
	/* The queue is gone before the call: even the request cannot be sent. */
	char reply[16];
	errno = 0;
	ssize_t n = sv_call(q, "again", 5, reply, sizeof reply);
	int err = errno;
	ck_assert_msg(n < 0 && (err == EINVAL || err == EIDRM),
		      "sv_call() on a queue that no longer exists %s%s: msgsnd() failed with EINVAL. "
		      "Check its result and return -1 with that errno.",
		      n < 0 ? "failed with " : "returned ", n < 0 ? errno_name(err) : "a length");
}

/* sv_serve in a child, so that a hang or a crash costs only this test. */
struct serve_job {
	int q, n;
	sv_handler fn;
	int rc, err; /* the report: rc stays -2 unless sv_serve returned */
};

static void serve_in_child(void *p)
{
	struct serve_job *j = p;
	j->rc = sv_serve(j->q, j->n, j->fn, NULL);
	j->err = errno;
}

static child_end run_serve(int q, int n, sv_handler fn, int *rc, int *err)
{
	struct serve_job j = {q, n, fn, -2, 0};
	child_end e = child_run(serve_in_child, &j, sizeof j, 2.0);
	*rc = j.rc;
	*err = j.err;
	return e;
}

GRADER_TEST(serve_replies_by_pid)
{
	int q = make_queue(4);
	/* A reply still waiting for its client sits at the head of the queue, then 3 requests. */
	const char decoy[] = "a reply waiting for its client";
	ck_assert(put(q, DECOY_TYPE, DECOY_TYPE, decoy, sizeof decoy - 1) == 0);
	for (int i = 0; i < 3; i++) {
		char req[32];
		int len = snprintf(req, sizeof req, "request %d", i);
		ck_assert(put(q, SV_REQUEST, FAKE_CLIENT + i, req, (size_t)len) == 0);
	}
	int rc, err;
	child_end e = run_serve(q, 3, echo_reply, &rc, &err);
	static struct sv_msg m;
	char got[3][64] = {"", "", ""};
	ssize_t n[3];
	for (int i = 0; i < 3; i++) {
		n[i] = take(q, FAKE_CLIENT + i, &m);
		if (n[i] >= 0)
			snprintf(got[i], sizeof got[i], "%.*s", (int)(n[i] < 60 ? n[i] : 60), m.data);
	}
	ssize_t dn = take(q, DECOY_TYPE, &m);
	char dgot[64] = "";
	if (dn >= 0)
		snprintf(dgot, sizeof dgot, "%.*s", (int)(dn < 60 ? dn : 60), m.data);
	msgctl(q, IPC_RMID, NULL);
	errno = err;
	require_implemented(rc == -1, "sv_serve");
	char how[160];
	ck_assert_msg(!strcmp(dgot, decoy),
		      "A reply waiting for its client was in the queue when sv_serve() started; "
		      "afterwards it was %s. The server took it as a request: it must receive with "
		      "msgtyp = SV_REQUEST, never 0 (on one queue, 0 also takes the replies).",
		      dn < 0 ? "gone" : "replaced by an answer to it");
	ck_assert_msg(rc != -2, "sv_serve() never returned to its caller: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(rc == 0, "sv_serve() failed with %s.", errno_name(err));
	for (int i = 0; i < 3; i++) {
		char want[32];
		snprintf(want, sizeof want, "re:request %d", i);
		ck_assert_msg(!strcmp(got[i], want),
			      "Client %ld sent \"request %d\" but found %s%s%s under mtype %ld. The reply "
			      "goes to mtype = the request's client field.", FAKE_CLIENT + i, i,
			      n[i] < 0 ? "no reply" : "\"", n[i] < 0 ? "" : got[i], n[i] < 0 ? "" : "\"",
			      FAKE_CLIENT + i);
	}
}

/* The handler that removes the queue under the server: its reply cannot be sent. */
static int doomed_queue = -1;
static size_t remove_queue_reply(const void *req, size_t len, void *reply, size_t cap, void *arg)
{
	msgctl(doomed_queue, IPC_RMID, NULL);
	return echo_reply(req, len, reply, cap, arg);
}

GRADER_TEST(serve_queue_removed)
{
	/* No queue at all: sv_serve cannot take a request. */
	int q = make_queue(25);
	msgctl(q, IPC_RMID, NULL);
	int rc, err;
	child_end e = run_serve(q, 1, echo_reply, &rc, &err);
	errno = err;
	require_implemented(rc == -1, "sv_serve");
	char how[160];
	ck_assert_msg(rc != -2, "sv_serve() on a queue that does not exist never returned: the "
				"process %s.", describe_end(e, how, sizeof how));
	ck_assert_msg(rc == -1 && (err == EINVAL || err == EIDRM),
		      "sv_serve(q, 1, ...) on a queue that does not exist %s%s. msgrcv() failed with "
		      "EINVAL: no request was taken, so return -1 with that errno.",
		      rc == 0 ? "returned 0" : "failed with ", rc == 0 ? "" : errno_name(err));
	/* The queue disappears while the one request is handled: the reply cannot be sent. */
	q = make_queue(26);
	ck_assert(put(q, SV_REQUEST, FAKE_CLIENT, "hi", 2) == 0);
	doomed_queue = q;
	e = run_serve(q, 1, remove_queue_reply, &rc, &err);
	msgctl(q, IPC_RMID, NULL);
	ck_assert_msg(rc != -2, "sv_serve() whose queue was removed while it handled a request never "
				"returned: the process %s.", describe_end(e, how, sizeof how));
	ck_assert_msg(rc == -1 && (err == EINVAL || err == EIDRM),
		      "The queue was removed while sv_serve(q, 1, ...) handled its request, so the "
		      "reply could not be sent; sv_serve() %s%s. Check msgsnd()'s result: the client "
		      "never got its answer, and the caller must hear it (-1 with errno).",
		      rc == 0 ? "returned 0" : "failed with ", rc == 0 ? "" : errno_name(err));
}

GRADER_TEST(serve_max_size)
{
	int q = make_queue(5);
	static unsigned char req[SV_DATA_MAX], want[SV_DATA_MAX];
	fill_pattern(req, sizeof req, 5);
	flip_reply(req, sizeof req, want, sizeof want, NULL);
	ck_assert(put(q, SV_REQUEST, FAKE_CLIENT, req, SV_DATA_MAX) == 0);
	int rc, err;
	child_end e = run_serve(q, 1, flip_reply, &rc, &err);
	static struct sv_msg m;
	ssize_t n = take(q, FAKE_CLIENT, &m);
	msgctl(q, IPC_RMID, NULL);
	errno = err;
	require_implemented(rc == -1, "sv_serve");
	char how[160];
	ck_assert_msg(!(rc < 0 && (err == E2BIG || err == EINVAL)),
		      "sv_serve() failed with %s on a maximum-size request or reply (%d data bytes, "
		      "a %d-byte text: msgsnd says EINVAL above msgmax, msgrcv E2BIG when its room is "
		      "too small). msgsz counts only what follows the long mtype: send with "
		      "offsetof(struct sv_msg, data) - sizeof(long) + len, receive with "
		      "sizeof(struct sv_msg) - sizeof(long).", errno_name(err), SV_DATA_MAX, SV_MSG_MAX);
	ck_assert_msg(rc != -2, "sv_serve() never returned to its caller: the process %s.",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(rc == 0, "sv_serve() with one maximum-size request %s.",
		      rc == -2 ? describe_end(e, how, sizeof how) : errno_name(err));
	ck_assert_msg(n == SV_DATA_MAX && !memcmp(m.data, want, SV_DATA_MAX),
		      "The client expected a %d-byte reply; it got %zd bytes%s. Did the request or the "
		      "reply lose its end (msgsz must not count mtype)?", SV_DATA_MAX, n,
		      n == SV_DATA_MAX ? ", with the wrong content" : "");
}

GRADER_TEST(queue_create_stale)
{
	key_t key = key_for(6);
	drop_key(key);
	int old = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(old >= 0);
	const char stale[] = "a request from a run that crashed";
	ck_assert(put(old, SV_REQUEST, FAKE_CLIENT, stale, sizeof stale - 1) == 0);
	int q = sv_queue_create(key);
	int err = errno;
	struct msqid_ds ds = {0};
	int st = q >= 0 ? msgctl(q, IPC_STAT, &ds) : -1;
	drop_key(key);
	msgctl(old, IPC_RMID, NULL);
	errno = err;
	require_implemented(q < 0, "sv_queue_create");
	ck_assert_msg(q >= 0, "sv_queue_create() failed with %s while a stale queue held the key. "
			      "Remove the stale queue (msgctl IPC_RMID) and create it again with "
			      "IPC_CREAT | IPC_EXCL.", errno_name(err));
	ck_assert_msg(st == 0 && ds.msg_qnum == 0,
		      "sv_queue_create() returned a queue that already held %lu message(s) from an "
		      "earlier run: IPC_CREAT without IPC_EXCL opens whatever has the key. Use "
		      "IPC_CREAT | IPC_EXCL; on EEXIST remove the stale queue and create a new one.",
		      (unsigned long)ds.msg_qnum);
	ck_assert_msg((ds.msg_perm.mode & 0777) == 0600,
		      "sv_queue_create() made a queue with mode %03o; the header says 0600 (the low 9 "
		      "bits of msgget's flags: IPC_CREAT | IPC_EXCL | 0600).",
		      (unsigned)(ds.msg_perm.mode & 0777));
}

/* A key from ftok() on a file in the sandbox, as real programs make them. */
static key_t ftok_key(int proj)
{
	char path[512];
	snprintf(path, sizeof path, "%s/keyfile", sb_dir());
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert(fd >= 0);
	close(fd);
	key_t key = ftok(path, proj);
	unlink(path);
	ck_assert(key != (key_t)-1);
	return key;
}

GRADER_TEST(shm_create_stale_smaller)
{
	key_t key = ftok_key('S');
	drop_key(key);
	int old = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(old >= 0);
	int id = sv_shm_create(key, 65536);
	int err = errno;
	struct shmid_ds ds = {0};
	int st = id >= 0 ? shmctl(id, IPC_STAT, &ds) : -1;
	drop_key(key);
	shmctl(old, IPC_RMID, NULL);
	errno = err;
	require_implemented(id < 0, "sv_shm_create");
	ck_assert_msg(id >= 0,
		      "sv_shm_create(key, 65536) failed with %s. A stale 4096-byte segment held the "
		      "same key (a crashed run, or an ftok() collision: ftok keeps only 16 bits of the "
		      "inode). shmget with IPC_CREAT but without IPC_EXCL finds it, and a size larger "
		      "than the segment gives EINVAL. Create with IPC_CREAT | IPC_EXCL; on EEXIST remove "
		      "the stale segment and create it again.", errno_name(err));
	ck_assert_msg(st == 0 && ds.shm_segsz == 65536,
		      "sv_shm_create(key, 65536) returned a segment of %zu bytes.", (size_t)ds.shm_segsz);
	ck_assert_msg((ds.shm_perm.mode & 0777) == 0600,
		      "sv_shm_create() made a segment with mode %03o; the header says 0600 (the low 9 "
		      "bits of shmget's flags).", (unsigned)(ds.shm_perm.mode & 0777));
}

GRADER_TEST(shm_create_stale_data)
{
	key_t key = key_for(7);
	drop_key(key);
	int old = shmget(key, 65536, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(old >= 0);
	unsigned char *p = shmat(old, NULL, 0);
	ck_assert(p != (void *)-1);
	memset(p, 0xee, 65536);
	shmdt(p);
	int id = sv_shm_create(key, 65536);
	int err = errno;
	long nonzero = -1;
	if (id >= 0 && (p = shmat(id, NULL, SHM_RDONLY)) != (void *)-1) {
		nonzero = 0;
		for (int i = 0; i < 65536; i++)
			nonzero += p[i] != 0;
		shmdt(p);
	}
	drop_key(key);
	shmctl(old, IPC_RMID, NULL);
	errno = err;
	require_implemented(id < 0, "sv_shm_create");
	ck_assert_msg(id >= 0, "sv_shm_create() failed with %s while a stale segment held the key.",
		      errno_name(err));
	ck_assert_msg(id != old && nonzero == 0,
		      "sv_shm_create() returned %s, still holding %ld bytes of old data (0xee). IPC_CREAT "
		      "without IPC_EXCL quietly reuses a segment a crashed run left behind. Use "
		      "IPC_CREAT | IPC_EXCL; on EEXIST remove the stale one (IPC_RMID) and create anew.",
		      id == old ? "the stale segment itself" : "a segment", nonzero);
}

static int sem_value(int id)
{
	return semctl(id, 0, GETVAL);
}

static time_t sem_otime(int id)
{
	struct semid_ds ds = {0};
	union semun a = {.buf = &ds};
	if (semctl(id, 0, IPC_STAT, a) < 0)
		return -1;
	return ds.sem_otime;
}

/* A lock set up by the grader the right way: created, then initialised to 1 with semop. */
static int grader_lock(int n)
{
	key_t key = key_for(n);
	drop_key(key);
	int id = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(id >= 0);
	struct sembuf up = {0, 1, 0};
	ck_assert(semop(id, &up, 1) == 0);
	return id;
}

static void sem_open_and_exit(void *arg)
{
	int id = sv_sem_open(*(key_t *)arg);
	_exit(id >= 0 ? 0 : errno == ENOSYS ? 38 : 1);
}

GRADER_TEST(sem_open_creates)
{
	key_t key = key_for(8);
	drop_key(key);
	/* Created by a process that then exits: its creation must outlive it. */
	child_end e = probe_in_child(sem_open_and_exit, &key, 2.0);
	int first = semget(key, 0, 0);
	int val0 = first >= 0 ? sem_value(first) : -1;
	struct semid_ds sds = {0};
	union semun sa = {.buf = &sds};
	if (first >= 0)
		semctl(first, 0, IPC_STAT, sa);
	drop_key(key);
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 38, "sv_sem_open");
	ck_assert_msg(e.exited && e.code == 0 && first >= 0,
		      "sv_sem_open() on a new key, in a process of its own, failed or created nothing.");
	ck_assert_msg(val0 == 1,
		      "A process created the lock with sv_sem_open() and exited; the lock's value is "
		      "now %d instead of 1. The creator's initialising semop(+1) must not use SEM_UNDO: "
		      "the kernel undoes it when the creator exits, and the lock is held by nobody "
		      "for ever.", val0);
	ck_assert_msg((sds.sem_perm.mode & 0777) == 0600,
		      "sv_sem_open() made a set with mode %03o; the header says 0600.",
		      (unsigned)(sds.sem_perm.mode & 0777));
	int id = sv_sem_open(key);
	int err = errno;
	int val = id >= 0 ? sem_value(id) : -1;
	time_t ot = id >= 0 ? sem_otime(id) : -1;
	int id2 = id >= 0 && val == 1 && ot > 0 ? sv_sem_open(key) : -1;
	int err2 = errno;
	int val2 = id2 >= 0 ? sem_value(id2) : -1;
	drop_key(key);
	errno = err;
	require_implemented(id < 0, "sv_sem_open");
	ck_assert_msg(id >= 0, "sv_sem_open() on a new key failed with %s.", errno_name(err));
	ck_assert_msg(val == 1, "A new lock should start free (value 1), but its value is %d.", val);
	ck_assert_msg(ot > 0,
		      "The new set has value 1 but its sem_otime is still 0, so other openers cannot "
		      "tell that it is initialised: semctl(SETVAL) does not set sem_otime. The creator "
		      "should initialise with a semop() (+1 on a fresh set, whose value is 0).");
	ck_assert_msg(id2 == id, "A second sv_sem_open() of the same key %s.",
		      id2 < 0 ? errno_name(err2) : "returned a different set");
	ck_assert_msg(val2 == 1, "After a second sv_sem_open() the value is %d instead of 1.", val2);
}

GRADER_TEST(sem_open_no_reset)
{
	int id = grader_lock(9);
	struct sembuf down = {0, -1, 0};
	ck_assert(semop(id, &down, 1) == 0); /* the grader holds the lock: value 0 */
	int got = sv_sem_open(key_for(9));
	int err = errno;
	int val = sem_value(id);
	semctl(id, 0, IPC_RMID);
	if (got >= 0 && got != id)
		semctl(got, 0, IPC_RMID);
	errno = err;
	require_implemented(got < 0, "sv_sem_open");
	ck_assert_msg(got >= 0, "sv_sem_open() failed with %s on a set that exists and is "
				"initialised.", errno_name(err));
	ck_assert_msg(val == 0,
		      "Another process held the lock (value 0) when sv_sem_open() opened the set, and "
		      "afterwards the value was %d: a late initialiser set it free, so two processes "
		      "can now be inside at once. semget then semctl(SETVAL) is not atomic: create with "
		      "IPC_CREAT | IPC_EXCL, and only the creator initialises.", val);
	ck_assert_msg(got == id, "sv_sem_open() returned a different set than the one with the key.");
}

GRADER_TEST(sem_open_waits_for_init)
{
	key_t key = key_for(10);
	drop_key(key);
	int id = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600); /* created, not initialised yet */
	ck_assert(id >= 0);
	pid_t creator = child_fork();
	if (creator == 0) { /* a slow creator: initialises 300 ms later */
		pause_ms(300);
		struct sembuf up = {0, 1, 0};
		_exit(semop(id, &up, 1) == 0 ? 0 : 1);
	}
	int got = sv_sem_open(key);
	int err = errno;
	time_t ot = sem_otime(id);
	child_wait(creator, 2.0);
	int val = sem_value(id);
	semctl(id, 0, IPC_RMID);
	errno = err;
	require_implemented(got < 0, "sv_sem_open");
	ck_assert_msg(got == id, "sv_sem_open() %s while the set's creator was still initialising it.",
		      got < 0 ? errno_name(err) : "returned another set");
	ck_assert_msg(val == 1,
		      "After the creator initialised the set to 1, its value was %d: sv_sem_open() "
		      "changed the value of a set it did not create. Only the creator initialises.", val);
	ck_assert_msg(ot > 0,
		      "sv_sem_open() returned while the set's creator had not initialised it yet "
		      "(sem_otime was 0, the value still 0). An opener that did not create the set must "
		      "wait until sem_otime != 0.");
}

/* In a child: sv_sem_open on a set nobody initialises. Exit 0 ETIMEDOUT, 1 it returned a set,
   2 another error. */
static void open_uninitialised(void *arg)
{
	errno = 0;
	int got = sv_sem_open(*(key_t *)arg);
	_exit(got >= 0 ? 1 : errno == ETIMEDOUT ? 0 : errno == ENOSYS ? 38 : 2);
}

GRADER_TEST(sem_open_gives_up)
{
	key_t key = key_for(24);
	drop_key(key);
	int id = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600); /* created, never initialised */
	ck_assert(id >= 0);
	double t0 = probe_now();
	child_end e = probe_in_child(open_uninitialised, &key, 7.0); /* 200 naps take long under load */
	double took = probe_now() - t0;
	int val = sem_value(id);
	semctl(id, 0, IPC_RMID);
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 38, "sv_sem_open");
	ck_assert_msg(!e.timed_out,
		      "sv_sem_open() on a set whose creator never initialised it was still waiting "
		      "after 7 s. The header says: wait about 1 s for sem_otime, then give up with "
		      "ETIMEDOUT (a creator that died before its first semop left a lock nobody can "
		      "use).");
	ck_assert_msg(!(e.exited && e.code == 1),
		      "sv_sem_open() returned a set whose creator never initialised it (sem_otime "
		      "stayed 0, the value %d). Wait for sem_otime != 0 for about 1 s, then give up "
		      "with ETIMEDOUT: this lock is not usable.", val);
	ck_assert_msg(e.exited && e.code == 0, "sv_sem_open() gave up on a set nobody initialised "
					       "with another error than ETIMEDOUT (or crashed).");
	ck_assert_msg(took > 0.5,
		      "sv_sem_open() gave up on an uninitialised set after %.2f s; the header says "
		      "about 1 s: long enough for a slow creator.", took);
	/* The creator removes the set instead of initialising it: fail at once, not at 1 s. */
	id = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(id >= 0);
	pid_t remover = child_fork();
	if (remover == 0) {
		pause_ms(100);
		_exit(semctl(id, 0, IPC_RMID) == 0 ? 0 : 1);
	}
	t0 = probe_now();
	errno = 0;
	int got = sv_sem_open(key);
	int err = errno;
	took = probe_now() - t0;
	child_wait(remover, 2.0);
	drop_key(key);
	ck_assert_msg(got < 0 && (err == EIDRM || err == EINVAL),
		      "The set sv_sem_open() was waiting on was removed after 100 ms; it %s%s (after "
		      "%.0f ms). semctl(IPC_STAT) fails (EINVAL/EIDRM) once the set is gone: check its "
		      "result and return -1 with that errno, at once.", got < 0 ? "failed with " :
		      "returned a set", got < 0 ? errno_name(err) : "", took * 1000);
}

/* The lock holder the grader kills: takes the lock, says so, then waits to die. */
static void hold_forever(int semid, int tell)
{
	int r = sv_lock(semid);
	char c = r == 0 ? 'L' : (errno == ENOSYS ? 'N' : 'E');
	ssize_t ignored = write(tell, &c, 1);
	(void)ignored;
	for (;;)
		pause();
}

static void lock_unlock(void *p)
{
	int id = *(int *)p;
	if (sv_lock(id) < 0)
		_exit(errno == ENOSYS ? 38 : 1);
	if (sv_unlock(id) < 0)
		_exit(errno == ENOSYS ? 39 : 2);
}

GRADER_TEST(lock_survives_killed_holder)
{
	int id = grader_lock(11);
	int p[2];
	ck_assert(pipe(p) == 0);
	pid_t holder = child_fork();
	if (holder == 0) {
		close(p[0]);
		hold_forever(id, p[1]);
	}
	close(p[1]);
	char c = 0;
	ssize_t n = probe_read_all(p[0], &c, 1, 2.0);
	close(p[0]);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	int after_kill = sem_value(id);
	child_end e = {0};
	if (n == 1 && c == 'L')
		e = probe_in_child(lock_unlock, &id, 2.0);
	semctl(id, 0, IPC_RMID);
	errno = ENOSYS;
	require_implemented(c == 'N', "sv_lock");
	ck_assert_msg(n == 1 && c == 'L', "sv_lock() on a free lock failed or never returned.");
	char how[160];
	ck_assert_msg(!e.timed_out,
		      "Deadlock: a process holding the lock was killed (SIGKILL), and the next sv_lock() "
		      "was still waiting 2 s later (the value stayed %d). Nobody will ever unlock it. "
		      "Lock and unlock with SEM_UNDO: the kernel then undoes a dead process's semops.",
		      after_kill);
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 39, "sv_unlock");
	ck_assert_msg(e.exited && e.code == 0, "After the holder was killed, lock + unlock in a new "
					       "process %s (1: sv_lock failed, 2: sv_unlock failed).",
		      describe_end(e, how, sizeof how));
}

static void lock_unlock_3(void *p)
{
	for (int i = 0; i < 3; i++)
		lock_unlock(p);
}

GRADER_TEST(lock_unlock_balanced)
{
	int id = grader_lock(12);
	child_end e = probe_in_child(lock_unlock_3, &id, 2.0);
	int val = sem_value(id);
	semctl(id, 0, IPC_RMID);
	char how[160];
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 38, "sv_lock");
	require_implemented(e.exited && e.code == 39, "sv_unlock");
	ck_assert_msg(e.exited && e.code == 0,
		      "A process doing sv_lock() + sv_unlock() three times %s (1: sv_lock failed, 2: "
		      "sv_unlock failed).", describe_end(e, how, sizeof how));
	ck_assert_msg(val == 1,
		      "A process locked and unlocked three times, then exited; the lock's value is now "
		      "%d instead of 1. SEM_UNDO keeps a per-process adjustment that the kernel applies "
		      "at exit: use it on BOTH the lock (-1) and the unlock (+1) so they cancel out.%s",
		      val, val > 1 ? " (Unlocking without SEM_UNDO left +1 per round to be added at exit.)"
				   : " (Locking without SEM_UNDO took 1 per round away at exit.)");
}

/* Under signals: sv_lock on a lock the grader holds. Exit 0 it got the lock (and unlocked),
   1 EINTR, 2 another error, 3 it returned 0 without holding the lock. */
static void lock_with_signals(void *arg)
{
	int id = *(int *)arg;
	signals_on();
	errno = 0;
	int r = sv_lock(id);
	int err = errno;
	signals_off();
	if (r < 0)
		_exit(err == EINTR ? 1 : err == ENOSYS ? 38 : 2);
	int val = sem_value(id);
	sv_unlock(id);
	_exit(val == 0 ? 0 : 3);
}

GRADER_TEST(lock_survives_signals)
{
	int id = grader_lock(21);
	struct sembuf down = {0, -1, 0}, up = {0, 1, 0};
	ck_assert(semop(id, &down, 1) == 0); /* the grader holds the lock */
	shared_signals = child_shared(4096);
	pid_t pid = child_start(lock_with_signals, &id);
	bool seen = signals_reach(12); /* it has been interrupted a dozen times while waiting */
	semop(id, &up, 1);             /* now the lock is free */
	child_end end = child_wait(pid, 1.0);
	bool hung = end.timed_out;
	int val = sem_value(id);
	semctl(id, 0, IPC_RMID);
	child_shared_free((void *)shared_signals, 4096);
	int code = end.exited ? end.code : -1;
	errno = ENOSYS;
	require_implemented(code == 38, "sv_lock");
	ck_assert_msg(code != 1,
		      "sv_lock() on a lock another process held failed with EINTR: a signal arrived "
		      "while semop() waited (its handler installed without SA_RESTART; semop is never "
		      "restarted). The lock was not taken: retry semop() while it fails with EINTR.");
	ck_assert_msg(!hung, "sv_lock() was still waiting 1 s after the lock was given back%s.",
		      seen ? "" : " (and it never saw a signal)");
	ck_assert_msg(code != 3, "sv_lock() returned 0 under signals but the lock's value was not 0: "
				 "it did not hold the lock.");
	ck_assert_msg(code == 0 && val == 1, "sv_lock() under signals, then sv_unlock(): the process "
					     "ended with code %d and the lock's value is %d (want 0 and 1).",
		      code, val);
}

static int shm_attaches(int shmid)
{
	struct shmid_ds ds = {0};
	return shmctl(shmid, IPC_STAT, &ds) == 0 ? (int)ds.shm_nattch : -1;
}

GRADER_TEST(counter_detaches)
{
	key_t key = key_for(22);
	drop_key(key);
	int shmid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(shmid >= 0);
	int semid = grader_lock(23);
	errno = 0;
	int r = sv_counter_add(shmid, semid, 3);
	int err = errno;
	int att = shm_attaches(shmid);
	int val = sem_value(semid);
	/* The lock is gone: sv_counter_add must fail without touching the counter. */
	semctl(semid, 0, IPC_RMID);
	errno = 0;
	int r2 = r == 0 ? sv_counter_add(shmid, semid, 3) : 0;
	int att2 = shm_attaches(shmid);
	long total = -1;
	long *c = shmat(shmid, NULL, SHM_RDONLY);
	if (c != (void *)-1) {
		total = *c;
		shmdt(c);
	}
	shmctl(shmid, IPC_RMID, NULL);
	/* No such segment (but a working lock): fail, do not crash. */
	int lock2 = grader_lock(27);
	errno = 0;
	int r3 = r == 0 ? sv_counter_add(shmid, lock2, 1) : -1;
	int val3 = sem_value(lock2);
	semctl(lock2, 0, IPC_RMID);
	errno = err;
	require_implemented(r < 0, "sv_counter_add");
	ck_assert_msg(r == 0, "sv_counter_add(shmid, semid, 3) failed with %s.", errno_name(err));
	ck_assert_msg(att == 0,
		      "After sv_counter_add() returned, the segment still had %d attachment(s) "
		      "(shm_nattch). Each call attaches it, so each call must shmdt() it before "
		      "returning: every call leaves one mapping behind otherwise, until the process "
		      "runs out of address space or exits.", att);
	ck_assert_msg(val == 1, "After sv_counter_add() the lock's value is %d instead of 1.", val);
	ck_assert_msg(r2 < 0,
		      "sv_counter_add() on a semaphore set that was removed returned 0: sv_lock() "
		      "failed, and that error must reach the caller.");
	ck_assert_msg(total == 3,
		      "The counter reads %ld after 3 additions under a lock and 3 attempts without "
		      "one (the set was removed). When sv_lock() fails, stop: never touch the counter "
		      "without holding the lock.", total);
	ck_assert_msg(att2 == 0, "sv_counter_add() failed (no lock) but left the segment attached "
				 "(%d attachment(s)): detach on the error path too.", att2);
	ck_assert_msg(r3 < 0, "sv_counter_add() on a segment that was removed returned 0: check "
			      "shmat()'s result ((void *)-1 on failure).");
	ck_assert_msg(val3 == 1, "sv_counter_add() on a segment that was removed left the lock's "
				 "value at %d instead of 1.", val3);
}

struct counter_job {
	int shmid, semid;
};

static void add_500(void *p)
{
	struct counter_job *j = p;
	if (sv_counter_add(j->shmid, j->semid, 500) < 0)
		_exit(errno == ENOSYS ? 38 : 1);
}

GRADER_TEST(counter_locked)
{
	key_t key = key_for(13);
	drop_key(key);
	int shmid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(shmid >= 0);
	int semid = grader_lock(14);
	race_set(RACE_SLEEP); /* widen the gap between reading and writing the counter */
	struct counter_job j = {shmid, semid};
	pid_t kids[4];
	for (int i = 0; i < 4; i++)
		kids[i] = child_start(add_500, &j);
	int bad = 0, hung = 0, nosys = 0;
	for (int i = 0; i < 4; i++) {
		child_end e = child_wait(kids[i], 3.0);
		if (e.timed_out) {
			hung++;
		} else if (!e.exited || e.code != 0) {
			bad++;
			nosys += e.exited && e.code == 38;
		}
	}
	race_set(RACE_OFF);
	int semval = sem_value(semid);
	long total = -1;
	long *c = shmat(shmid, NULL, SHM_RDONLY);
	if (c != (void *)-1) {
		total = *c;
		shmdt(c);
	}
	shmctl(shmid, IPC_RMID, NULL);
	semctl(semid, 0, IPC_RMID);
	errno = ENOSYS;
	require_implemented(nosys > 0, "sv_counter_add");
	ck_assert_msg(!hung, "%d of 4 processes running sv_counter_add() were still busy after 3 s.", hung);
	ck_assert_msg(!bad, "sv_counter_add() failed in %d of 4 processes.", bad);
	ck_assert_msg(total == 2000,
		      "4 processes each added 1 500 times, but the counter reads %ld, not 2000. The "
		      "read-modify-write must happen between sv_lock() and sv_unlock(), every time.%s",
		      total, semval > 1 ? " (The lock's value is now above 1, so it no longer keeps "
					  "processes out: see lock_unlock_balanced.)" : "");
}

/* The keys of destroy_removes_all's queue, segment and semaphore set. */
struct destroy_keys {
	key_t q, s, m;
};

/* Removes a queue, a segment (still attached) and a set; returns the queue's removed id. */
static int destroy_removes_each_object(struct destroy_keys k)
{
	drop_key(k.q), drop_key(k.s), drop_key(k.m);
	int q = msgget(k.q, IPC_CREAT | IPC_EXCL | 0600);
	int s = shmget(k.s, 4096, IPC_CREAT | IPC_EXCL | 0600);
	int m = semget(k.m, 1, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(q >= 0 && s >= 0 && m >= 0);
	void *at = shmat(s, NULL, 0); /* attached while it is removed: still must vanish by key */
	int rc = sv_destroy(q, s, m);
	int err = errno;
	int q_left = msgget(k.q, 0) >= 0, s_left = shmget(k.s, 0, 0) >= 0,
	    m_left = semget(k.m, 0, 0) >= 0;
	if (at != (void *)-1)
		shmdt(at);
	drop_key(k.q), drop_key(k.s), drop_key(k.m);
	msgctl(q, IPC_RMID, NULL), shmctl(s, IPC_RMID, NULL), semctl(m, 0, IPC_RMID);
	errno = err;
	require_implemented(rc < 0, "sv_destroy");
	char left[96] = "";
	if (q_left)
		strcat(left, " the queue (msgget)");
	if (s_left)
		strcat(left, " the segment (shmget)");
	if (m_left)
		strcat(left, " the semaphore set (semget)");
	ck_assert_msg(!q_left && !s_left && !m_left,
		      "After sv_destroy(), looking up the keys still found:%s. A SysV object lives in "
		      "the kernel until IPC_RMID (msgctl, shmctl, semctl), even when nobody uses it: "
		      "detaching or exiting removes nothing.", left);
	ck_assert_msg(rc == 0, "sv_destroy() removed everything but returned -1 (%s).", errno_name(err));
	return q;
}

/* What sv_destroy() did with an id of -1 and with ids whose removal fails. */
struct partial_destroy {
	int skip, skip_err;
	bool s_gone;
	int bad, bad_err;
	bool s_left, m_left;
	int bad_s, bad_s_err;
	bool m_gone;
	int bad_m, bad_m_err;
};

/* sv_destroy(-1, s, -1), then sv_destroy(q, s, m) with the queue Q already removed. */
static void destroy_skips_and_fails(struct destroy_keys k, int q, struct partial_destroy *d)
{
	int s = shmget(k.s, 4096, IPC_CREAT | IPC_EXCL | 0600);
	int m = semget(k.m, 1, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(s >= 0 && m >= 0);
	errno = 0;
	d->skip = sv_destroy(-1, s, -1);
	d->skip_err = errno;
	d->s_gone = shmget(k.s, 0, 0) < 0;
	s = shmget(k.s, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(s >= 0);
	errno = 0;
	d->bad = sv_destroy(q, s, m); /* q was removed above: its msgctl fails */
	d->bad_err = errno;
	d->s_left = shmget(k.s, 0, 0) >= 0, d->m_left = semget(k.m, 0, 0) >= 0;
	drop_key(k.q), drop_key(k.s), drop_key(k.m);
	/* Only the segment's removal fails (it is gone), then only the set's. */
	m = semget(k.m, 1, IPC_CREAT | IPC_EXCL | 0600);
	ck_assert(m >= 0);
	errno = 0;
	d->bad_s = sv_destroy(-1, s, m);
	d->bad_s_err = errno;
	d->m_gone = semget(k.m, 0, 0) < 0;
	drop_key(k.m);
	errno = 0;
	d->bad_m = sv_destroy(-1, -1, m);
	d->bad_m_err = errno;
}

static void minus_one_is_skipped(const struct partial_destroy *d)
{
	ck_assert_msg(
	    d->skip == 0 && d->s_gone,
	    "sv_destroy(-1, shmid, -1) %s%s%s. An id of -1 means \"none\": skip it, remove "
	    "the others, and return 0.",
	    d->skip == 0 ? "returned 0" : "failed with ",
	    d->skip == 0 ? "" : errno_name(d->skip_err), d->s_gone ? "" : " and left the segment");
}

static void a_stale_queue_id_fails_but_the_rest_go(const struct partial_destroy *d)
{
	ck_assert_msg(
	    !d->s_left && !d->m_left,
	    "sv_destroy() with a queue id that no longer exists left the %s behind: when one "
	    "removal fails, still try the others.",
	    d->s_left ? "segment" : "semaphore set");
	ck_assert_msg(d->bad < 0 && (d->bad_err == EINVAL || d->bad_err == EIDRM),
		      "sv_destroy() with a queue id that no longer exists %s%s: msgctl(IPC_RMID) "
		      "failed, and the caller must hear it (-1 with that errno).",
		      d->bad < 0 ? "failed with " : "returned 0",
		      d->bad < 0 ? errno_name(d->bad_err) : "");
}

static void stale_segment_and_set_ids_are_reported(const struct partial_destroy *d)
{
	ck_assert_msg(d->bad_s < 0 && d->bad_s_err == EINVAL && d->m_gone,
		      "sv_destroy(-1, shmid, semid) with a segment that no longer exists %s%s%s: "
		      "shmctl(IPC_RMID) failed with EINVAL. Check each removal, report its errno, "
		      "and still remove the others.",
		      d->bad_s < 0 ? "failed with " : "returned 0",
		      d->bad_s < 0 ? errno_name(d->bad_s_err) : "",
		      d->m_gone ? "" : " and left the set");
	ck_assert_msg(d->bad_m < 0 && d->bad_m_err == EINVAL,
		      "sv_destroy(-1, -1, semid) with a set that no longer exists %s%s: "
		      "semctl(IPC_RMID) failed with EINVAL; return -1 with that errno.",
		      d->bad_m < 0 ? "failed with " : "returned 0",
		      d->bad_m < 0 ? errno_name(d->bad_m_err) : "");
}

static void nothing_is_left_behind(void)
{
	char msg[1024];
	ck_assert_msg(ledger_check(msg, sizeof msg) == 0, "Left behind: %s", msg);
}

GRADER_TEST(destroy_removes_all)
{
	struct destroy_keys k = {key_for(15), key_for(16), key_for(17)};
	int q = destroy_removes_each_object(k);
	/* -1 is skipped; a failing removal does not stop the others. */
	struct partial_destroy d;
	destroy_skips_and_fails(k, q, &d);
	minus_one_is_skipped(&d);
	a_stale_queue_id_fails_but_the_rest_go(&d);
	stale_segment_and_set_ids_are_reported(&d);
	nothing_is_left_behind();
}
