/* grader.c: Lab 05 tests: a FIFO server and its clients, each checked against a stand-in for the other side. */
#define _GNU_SOURCE
#include "grader.h"
#include "fifo_service.h"

#include <ctype.h>
#include <limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NCLIENTS = 24 };

/* ---------------------------------------------------------------------------------------- */
/* Small helpers */

/* The private service directory of this test: sb_dir()/svc, mode 0700. */
static const char *svc_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		/* Orphans of the processes under test come back to this one, so that a process
		   left running by the student's code (a setsid() daemon, say) is found at the end. */
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		snprintf(dir, sizeof dir, "%s/svc", sb_dir());
		mkdir(dir, 0700);
	}
	return dir;
}

/* Makes sure the service directory exists (clear_dir removes it): for a test that runs
   several rounds. */
static void open_dir(void)
{
	mkdir(svc_dir(), 0700);
}

/* A directory name longer than PATH_MAX: nothing can be created in it. */
static const char *too_long_dir(void)
{
	static char dir[PATH_MAX + 1000];
	snprintf(dir, sizeof dir, "%s/", svc_dir());
	size_t len = strlen(dir);
	memset(dir + len, 'a', sizeof dir - len - 1);
	dir[sizeof dir - 1] = '\0';
	return dir;
}

static void in_dir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", svc_dir(), name);
}

static void reply_path(char *buf, size_t cap, long pid)
{
	char name[64];
	snprintf(name, sizeof name, FIFO_REPLY_FORMAT, pid);
	in_dir(buf, cap, name);
}

/* Names in the service directory, "a, b" (or "" when empty), except SKIP. */
static const char *listing(char *buf, size_t cap, const char *skip)
{
	buf[0] = '\0';
	DIR *d = opendir(svc_dir());
	if (!d)
		return buf;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (skip && !strcmp(e->d_name, skip)))
			continue;
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", e->d_name);
	}
	closedir(d);
	return buf;
}

static void clear_dir_files(void);

/* Removes everything in the service directory, and the directory (the ledger wants it gone).
   A process the code left behind (a forked helper, a setsid() daemon) is the runner's to find:
   contain_strays() fails the test for it, in every lab. */
static void clear_dir(void)
{
	clear_dir_files();
}

static void clear_dir_files(void)
{
	DIR *d = opendir(svc_dir());
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				char p[PATH_MAX + 300];
				snprintf(p, sizeof p, "%s/%s", svc_dir(), e->d_name);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(svc_dir());
}

/* What the kernel says PID is blocked in ("wait_for_partner", "pipe_read", ...). */
static const char *wchan(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
	snprintf(buf, cap, "?");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(buf, cap, "?");
	return buf;
}

/* A sentence about where a stuck process waits. */
static const char *explain_wait(pid_t pid, const char *who, char *buf, size_t cap)
{
	char w[64];
	wchan(pid, w, sizeof w);
	if (!strcmp(w, "wait_for_partner"))
		snprintf(buf, cap,
			 "%s is blocked in open() of a FIFO (kernel: wait_for_partner): opening a FIFO "
			 "for reading waits for a writer, and for writing waits for a reader.", who);
	else if (strstr(w, "pipe_read") || !strcmp(w, "pipe_wait_readable"))
		snprintf(buf, cap, "%s is blocked in read() on a pipe or FIFO that nobody writes to.", who);
	else if (strstr(w, "pipe_write") || !strcmp(w, "pipe_wait_writable"))
		snprintf(buf, cap, "%s is blocked in write() on a full pipe or FIFO.", who);
	else if (!strcmp(w, "0") || !strcmp(w, "?"))
		snprintf(buf, cap, "%s is running (not blocked in the kernel).", who);
	else
		snprintf(buf, cap, "%s is waiting in the kernel (%s).", who, w);
	return buf;
}

static void stop(pid_t pid)
{
	if (pid > 0)
		child_wait(pid, 0); /* kills it at once, and reaps it */
}

/* Has PID ended (without reaping it)? */
static bool ended(pid_t pid)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* How many read() calls PID has made so far (/proc/PID/io, "syscr"), or -1 if unknown. A
   busy loop makes thousands in a few ms, however little CPU a loaded machine gives it. */
static long read_calls(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	FILE *f = fopen(path, "re");
	long n = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "syscr: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* The student's server, run in a child process */

typedef struct {
	int open_rc, open_err, run_rc, run_err, close_rc, close_err, fds_before, fds_after;
	bool fds_valid; /* after a successful open: srv.fd and srv.keep_fd are open descriptors */
} srv_result;

typedef struct {
	child_staged st; /* releasing it lets the server start serving; it reports after the open
			    and at the end */
	srv_result res;
	bool opened, finished;
	char why[512]; /* when not opened/finished: what the server was doing */
} server_h;

enum { NO_RUN = INT_MIN }; /* server_start: open and close, but do not call fifo_server_run */
static int server_room;    /* > 0: the next server_start() squeezes the descriptors first */
static bool server_with_signals; /* the next server_start(): SIGALRM every 2 ms during the run */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

/* SIGALRM every 2 ms, with a handler installed WITHOUT SA_RESTART: a read() that sleeps fails
   with EINTR. */
static void ticks_start(void)
{
	struct sigaction sa = {.sa_handler = on_tick};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 2000}, {0, 2000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void ticks_stop(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Set (in memory shared with the server child) right before it calls fifo_server_run. */
static volatile int *server_running;
/* The started, ungated server child that fake_request() lets settle first (0: none). */
static pid_t settle_pid;

/* Before a client opens server.fifo: gives the server child (at most 1 s) to get into
   fifo_server_run and to its next read(), where a correct server sleeps (its own write end
   keeps the FIFO open) and one that takes "no writer right now" for the end of the service has
   already returned. Without it, whether such a server is still reading when the client comes
   is luck, and so would be the verdict. */
static void server_settle(void)
{
	double deadline = probe_now() + 1.0;
	while (settle_pid > 0 && probe_now() < deadline) {
		char st = child_state(settle_pid);
		if (st == 0 || st == 'Z' || st == 'X' || (*server_running && st == 'S'))
			return;
		usleep(1000);
	}
}

/* In server_start's child: fifo_server_open, a report, the go (the gate of ST),
   fifo_server_run(MAX) unless MAX is NO_RUN, fifo_server_close, a second report. */
__attribute__((noreturn)) static void server_child(const child_staged *st, int max)
{
	if (server_room > 0)
		probe_squeeze_fds(server_room);
	srv_result r = {.fds_before = probe_fd_count()};
	struct fifo_server srv;
	memset(&srv, 0x5a, sizeof srv); /* the caller's memory: not zeroed for you */
	r.open_rc = fifo_server_open(&srv, svc_dir());
	r.open_err = errno;
	if (r.open_rc < 0)
		r.fds_after = probe_fd_count();
	else
		r.fds_valid = fcntl(srv.fd, F_GETFD) >= 0 && fcntl(srv.keep_fd, F_GETFD) >= 0;
	child_report(st, &r, sizeof r);
	if (r.open_rc < 0)
		_exit(0);
	child_gate_wait(st);
	if (max != NO_RUN) {
		if (server_with_signals)
			ticks_start();
		*server_running = 1;
		r.run_rc = fifo_server_run(&srv, max);
		r.run_err = errno;
		ticks_stop();
	}
	r.close_rc = fifo_server_close(&srv);
	r.close_err = errno;
	r.fds_after = probe_fd_count();
	child_report(st, &r, sizeof r);
	_exit(0);
}

/* Starts a server child: fifo_server_open, (wait for the go), fifo_server_run(MAX) unless
   MAX is NO_RUN, fifo_server_close. Returns once the open has returned (or 2 s have passed). */
static void server_start(server_h *h, int max, bool gated)
{
	open_dir(); /* here, in the test's process: it becomes the subreaper */
	memset(h, 0, sizeof *h);
	if (!server_running)
		server_running = child_shared(sizeof *server_running);
	*server_running = 0;
	settle_pid = 0;
	if (child_stage(&h->st) == 0)
		server_child(&h->st, max);
	ssize_t n = child_report_read(&h->st, &h->res, sizeof h->res, 2.0);
	h->opened = n == (ssize_t)sizeof h->res && h->res.open_rc == 0;
	if (n != (ssize_t)sizeof h->res) {
		explain_wait(h->st.pid, "The server process", h->why, sizeof h->why);
		if (n >= 0) /* it died */
			snprintf(h->why, sizeof h->why, "The server process died inside fifo_server_open().");
	}
	if (!gated) {
		child_release(&h->st);
		if (h->opened && max != NO_RUN)
			settle_pid = h->st.pid;
	}
}

/* Waits for the server child to finish (at most TIMEOUT s), then kills and reaps it. */
static void server_finish(server_h *h, double timeout)
{
	settle_pid = 0;
	child_release(&h->st);
	if (h->st.pid > 0 && h->opened) {
		ssize_t n = child_report_read(&h->st, &h->res, sizeof h->res, timeout);
		h->finished = n == (ssize_t)sizeof h->res;
		if (!h->finished)
			explain_wait(h->st.pid, "The server process", h->why, sizeof h->why);
	}
	child_unstage(&h->st);
}

/* After server_finish: if fifo_server_run returned before serving EXPECTED requests, say why
   that usually happens (appended to h->why). */
static void note_early_return(server_h *h, int expected)
{
	if (!h->finished || h->res.run_rc < 0 || h->res.run_rc >= expected)
		return;
	size_t len = strlen(h->why);
	snprintf(h->why + len, sizeof h->why - len,
		 "fifo_server_run(%d) had already returned %d. read() returning 0 on the FIFO only means "
		 "that no client has it open for writing at this moment, not that the service is over: "
		 "keep a write end of your own open (keep_fd), and read() sleeps instead.",
		 expected, h->res.run_rc);
}

/* Fails (after cleaning up) unless the server's open went well. */
static void require_server_open(server_h *h)
{
	if (h->opened)
		return;
	srv_result r = h->res;
	bool hung = h->why[0] != '\0';
	char why[512];
	snprintf(why, sizeof why, "%s", h->why);
	server_finish(h, 0);
	clear_dir();
	errno = r.open_err;
	require_implemented(!hung && r.open_rc < 0, "fifo_server_open");
	ck_assert_msg(!hung,
		      "fifo_server_open() did not return within 2 s. %s It must not wait for anyone: "
		      "open the read end with O_RDONLY | O_NONBLOCK first (that never waits), then your "
		      "own write end (a reader now exists, so it does not wait either).", why);
	ck_assert_msg(r.open_rc == 0, "fifo_server_open() failed with %s.",
		      strerrorname_np(r.open_err) ? strerrorname_np(r.open_err) : "an error");
}

/* ---------------------------------------------------------------------------------------- */
/* A stand-in client, run by the test itself: it only does the obvious, careful things. */

/* Sends one request as client "pid" NAME and waits (at most TIMEOUT s) for the reply.
   Returns 0, or -1 with WHY filled in. */
static int fake_request(long name, uint32_t op, const char *text, struct fifo_reply *reply,
			double timeout, char *why, size_t cap)
{
	char mine[PATH_MAX], server[PATH_MAX];
	reply_path(mine, sizeof mine, name);
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	struct fifo_request req = {.pid = (int32_t)name, .op = op, .len = (uint32_t)strlen(text)};
	memcpy(req.text, text, req.len);
	ck_assert(mkfifo(mine, 0600) == 0);
	server_settle();
	int s = open(server, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (s < 0) {
		snprintf(why, cap, "the client could not open %s for writing (%s): %s", FIFO_SERVER_NAME,
			 strerrorname_np(errno),
			 errno == ENOENT ? "the FIFO is gone" : "no process has it open for reading");
		unlink(mine);
		return -1;
	}
	ck_assert(write(s, &req, sizeof req) == (ssize_t)sizeof req);
	close(s);
	int fd = open(mine, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert(fd >= 0);
	ssize_t n = probe_read_all(fd, reply, sizeof *reply, timeout);
	close(fd);
	unlink(mine);
	if (n != (ssize_t)sizeof *reply) {
		snprintf(why, cap, n < 0 ? "no reply came within %.0f s" : "the reply was cut short", timeout);
		return -1;
	}
	return 0;
}

static void upper(char *dst, const char *src)
{
	while ((*dst++ = (char)toupper((unsigned char)*src++)))
		;
}

/* Checks one reply of the stand-in client. */
static void check_reply(const struct fifo_reply *r, const char *text, uint32_t seq)
{
	char want[FIFO_TEXT_MAX + 1], got[FIFO_TEXT_MAX + 1] = "";
	upper(want, text);
	memcpy(got, r->text, r->len <= FIFO_TEXT_MAX ? r->len : 0);
	ck_assert_msg(r->len == strlen(text) && !memcmp(r->text, want, r->len),
		      "For the text \"%s\" the reply should carry \"%s\" (len %zu), but it carried \"%s\" "
		      "(len %u).", text, want, strlen(want), got, r->len);
	ck_assert_msg(r->seq == seq, "Reply %u of this server should have seq %u, but has seq %u.", seq,
		      seq, r->seq);
}

/* ---------------------------------------------------------------------------------------- */
/* The student's client, in a child process, against a stand-in server run by the test. */

typedef struct {
	int rc, err;
	struct fifo_reply reply;
	int fds_before, fds_after; /* the client process's descriptors around the call */
} client_result;

typedef struct {
	bool got_request;          /* the request arrived within 2 s */
	struct fifo_request req;
	pid_t client;
	bool reply_existed;        /* the reply FIFO existed when the request arrived */
	mode_t reply_mode;
	bool reply_opened;         /* the client opened its reply FIFO for reading */
	bool finished;             /* fifo_request returned */
	client_result res;
	int piece;                 /* with a nearly full pipe: bytes that got in while it waited */
	char stuck[512];           /* where the client was stuck */
	char left[1024];           /* what was left in the directory afterwards (except server.fifo) */
	bool stale_reused;         /* the reply FIFO was the stale one (same inode), not a new one */
} fake_server;

enum { FILLER = 4096 - 20 }; /* leaves less room than a request needs */

/* How the stand-in server behaves. */
enum {
	NORMAL = 0,
	NEARLY_FULL = 1,  /* the server FIFO has only 20 bytes free when the client writes */
	SERVER_QUITS = 2, /* the server FIFO is full; while the client waits to write, the server
			     closes it: the write fails with EPIPE (the client ignores SIGPIPE) */
	SHORT_REPLY = 3,  /* the reply is cut short: 8 bytes, then the server closes the FIFO */
	EMPTY_REPLY = 4,  /* the server opens the reply FIFO and closes it without writing */
};

/* The stand-in server's FIFO, open at both ends; in the modes that need it, (nearly) full. */
static void fake_server_fifo(int mode, int *rfd, int *wfd)
{
	char server[PATH_MAX];
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	ck_assert(mkfifo(server, 0600) == 0);
	*rfd = open(server, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	*wfd = open(server, O_WRONLY | O_CLOEXEC);
	ck_assert(*rfd >= 0 && *wfd >= 0);
	if (mode == NEARLY_FULL || mode == SERVER_QUITS) {
		ck_assert(probe_pipe_shrink(*rfd) == 4096);
		static char fill[4096];
		size_t len = mode == SERVER_QUITS ? 4096 : FILLER;
		ck_assert(write(*wfd, fill, len) == (ssize_t)len);
	}
}

/* In fake_server_run's child: waits for the go (the gate of ST), runs fifo_request(UPPER, TEXT)
   and reports its client_result. */
/* Leaves junk where fifo_request's locals will be: uncleared bytes then show in the request. */
__attribute__((noinline)) static void dirty_stack(void)
{
	volatile unsigned char junk[32 * 1024];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 0xa5;
}

/* The umask fake_client_child sets before fifo_request, or -1 to keep the test's. */
static int client_umask = -1;

__attribute__((noreturn)) static void fake_client_child(const child_staged *st, int mode,
							const char *text)
{
	child_gate_wait(st);
	if (client_umask >= 0)
		umask((mode_t)client_umask);
	if (mode == SERVER_QUITS)
		signal(SIGPIPE, SIG_IGN);
	client_result r = {0};
	r.fds_before = probe_fd_count();
	dirty_stack();
	errno = 0; /* not whatever the test left in it */
	r.rc = fifo_request(svc_dir(), FIFO_OP_UPPER, text, &r.reply);
	r.err = errno;
	r.fds_after = probe_fd_count();
	child_report(st, &r, sizeof r);
	_exit(0);
}

/* With a (nearly) full server FIFO: waits until the client sleeps in write() (or gives up) and
   notes what got in, then goes away (SERVER_QUITS) or drains the filler (NEARLY_FULL). Returns
   the deadline for the request (DEADLINE in the other modes). */
static double fake_server_squeeze(fake_server *f, int mode, int *rfd, int *wfd, double deadline)
{
	if (mode == NEARLY_FULL || mode == SERVER_QUITS) {
		/* Wait until the client sleeps in write() (or gives up), then look at what got in. */
		char w[64];
		int avail = FILLER;
		while (probe_now() < deadline) {
			ioctl(*rfd, FIONREAD, &avail);
			wchan(f->client, w, sizeof w);
			if (strstr(w, "pipe_write") || !strcmp(w, "pipe_wait_writable") ||
			    !strcmp(w, "wait_for_partner")) /* (stuck in an open: it will not write) */
				break;
			if (ended(f->client))
				break;
			usleep(2000);
		}
		ioctl(*rfd, FIONREAD, &avail);
		f->piece = avail - FILLER;
		if (mode == SERVER_QUITS) {
			/* The server goes away: no reader is left, so the blocked write fails. */
			close(*rfd);
			close(*wfd);
			*rfd = *wfd = -1;
			f->piece = 0;
			deadline = probe_now(); /* no request will come */
		}
	}
	if (mode == NEARLY_FULL) {
		static char drain[FILLER];
		ck_assert(probe_read_all(*rfd, drain, sizeof drain, 1.0) == (ssize_t)sizeof drain);
		deadline = probe_now() + 2.0;
	}
	return deadline;
}

/* Reads the request from RFD until DEADLINE, or until the client has ended without sending. */
static void fake_server_read_request(fake_server *f, int rfd, double deadline)
{
	size_t got = 0;
	while (got < sizeof f->req && probe_now() < deadline) {
		struct pollfd p = {rfd, POLLIN, 0};
		if (poll(&p, 1, 20) > 0) {
			ssize_t n = read(rfd, (char *)&f->req + got, sizeof f->req - got);
			if (n > 0)
				got += (size_t)n;
		} else if (ended(f->client)) {
			break; /* it gave up without sending */
		}
	}
	f->got_request = got == sizeof f->req;
}

/* Once the request is in: looks at the client's reply FIFO MINE (is it the STALE one?) and
   answers through it, cut short in the modes that say so. */
static void fake_server_answer(fake_server *f, const char *mine, bool stale,
			       const struct stat *stale_st, int mode)
{
	struct stat st;
	f->reply_existed = stat(mine, &st) == 0 && S_ISFIFO(st.st_mode);
	f->reply_mode = st.st_mode & 07777;
	f->stale_reused = stale && f->reply_existed && st.st_ino == stale_st->st_ino &&
			  st.st_dev == stale_st->st_dev;
	/* Open its reply FIFO for writing once it has opened it for reading. */
	int fd = -1;
	double deadline = probe_now() + 2.0;
	while (f->reply_existed && probe_now() < deadline &&
	       (fd = open(mine, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO)
		usleep(2000);
	f->reply_opened = fd >= 0;
	if (fd >= 0) {
		struct fifo_reply r = {.seq = 7,
				       .len = f->req.len <= FIFO_TEXT_MAX ? f->req.len : 0};
		for (uint32_t i = 0; i < r.len; i++)
			r.text[i] = (char)toupper((unsigned char)f->req.text[i]);
		size_t len = mode == SHORT_REPLY ? 8 : mode == EMPTY_REPLY ? 0 : sizeof r;
		ck_assert(len == 0 || write(fd, &r, len) == (ssize_t)len);
		close(fd);
	} else if (f->reply_existed) {
		explain_wait(f->client, "Your client", f->stuck, sizeof f->stuck);
	}
}

/* Runs fifo_request(UPPER, TEXT) in a child against a stand-in server that replies seq 7.
   STALE: a leftover reply FIFO (mode 0666) of the client's pid exists beforehand, and the test
   holds it open (so its inode stays, and a reused one can be told from a new one).
   MODE NEARLY_FULL: the server FIFO is a 4096-byte pipe with only 20 bytes free when the client
   writes, so the request has to wait, and the test can see whether it arrives in pieces.
   Other modes: see the enum above. */
static void fake_server_run(fake_server *f, const char *text, bool stale, int mode)
{
	open_dir();
	memset(f, 0, sizeof *f);
	int rfd, wfd;
	fake_server_fifo(mode, &rfd, &wfd);
	child_staged st;
	f->client = child_stage(&st);
	if (f->client == 0) {
		close(rfd);
		close(wfd);
		fake_client_child(&st, mode, text);
	}
	char mine[PATH_MAX];
	reply_path(mine, sizeof mine, f->client);
	int held = -1;
	struct stat stale_st = {0};
	if (stale) {
		ck_assert(mkfifo(mine, 0666) == 0);
		held = open(mine, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ck_assert(held >= 0 && fstat(held, &stale_st) == 0);
	}
	child_release(&st); /* go */

	double deadline = fake_server_squeeze(f, mode, &rfd, &wfd, probe_now() + 2.0);
	fake_server_read_request(f, rfd, deadline); /* the request */
	if (!f->got_request)
		explain_wait(f->client, "Your client", f->stuck, sizeof f->stuck);
	else
		fake_server_answer(f, mine, stale, &stale_st, mode);
	ssize_t n = child_report_read(&st, &f->res, sizeof f->res,
				      f->got_request || mode == SERVER_QUITS ? 2.0 : 0.1);
	f->finished = n == (ssize_t)sizeof f->res;
	if (!f->finished && !f->stuck[0])
		explain_wait(f->client, "Your client", f->stuck, sizeof f->stuck);
	child_unstage(&st);
	if (rfd >= 0)
		close(rfd);
	if (wfd >= 0)
		close(wfd);
	if (held >= 0)
		close(held);
	listing(f->left, sizeof f->left, FIFO_SERVER_NAME);
	clear_dir();
}

/* The first checks of every client test: it sent a request, and it is implemented. */
static void require_client_basics(fake_server *f)
{
	errno = f->res.err;
	require_implemented(f->finished && f->res.rc < 0, "fifo_request");
	ck_assert_msg(f->got_request,
		      "No complete request arrived on %s within 2 s. %s A client must send its request "
		      "BEFORE it opens its reply FIFO for reading: that open waits until the server opens "
		      "the FIFO for writing, and the server does that only after reading the request. "
		      "Opened in the other order, client and server wait for each other forever.",
		      FIFO_SERVER_NAME, f->stuck);
	ck_assert_msg(f->reply_existed,
		      "When the request arrived, the client's reply FIFO reply.<pid>.fifo did not exist "
		      "in the directory. Create it (mkfifo) BEFORE sending: the server may answer at once.");
	ck_assert_msg(f->reply_opened,
		      "The client sent its request but never opened its reply FIFO for reading within 2 "
		      "s. %s", f->stuck);
	ck_assert_msg(f->finished, "fifo_request() did not return within 2 s after the reply was sent. %s",
		      f->stuck);
	ck_assert_msg(f->res.rc == 0, "fifo_request() failed with %s, though the server replied.",
		      strerrorname_np(f->res.err) ? strerrorname_np(f->res.err) : "an error");
}

/* ---------------------------------------------------------------------------------------- */
/* Tests: the client */

GRADER_TEST(client_request_format)
{
	fake_server f;
	fake_server_run(&f, "hello, fifo", false, NORMAL);
	require_client_basics(&f);
	ck_assert_msg(f.req.pid == f.client,
		      "The request says pid %d, but the client's pid is %d: the server would answer on "
		      "the wrong reply FIFO. Put getpid() in it.", f.req.pid, (int)f.client);
	ck_assert_msg(f.req.op == FIFO_OP_UPPER && f.req.len == 11 && !memcmp(f.req.text, "hello, fifo", 11),
		      "The request should carry op %d, len 11 and the text \"hello, fifo\"; it carried op "
		      "%u, len %u.", FIFO_OP_UPPER, f.req.op, f.req.len);
	for (unsigned i = f.req.len; i < FIFO_TEXT_MAX; i++)
		ck_assert_msg(
		    !f.req.text[i],
		    "Byte %u of the request's text (after the %u bytes used) was 0x%02x: the "
		    "header says the bytes after len are zero. The struct was not cleared, so it "
		    "sent the server whatever was on your stack before. Start from a zeroed "
		    "struct: = {0}, or memset it.",
		    i, f.req.len, (unsigned char)f.req.text[i]);
	ck_assert_msg(f.res.reply.seq == 7 && f.res.reply.len == 11 &&
			      !memcmp(f.res.reply.text, "HELLO, FIFO", 11),
		      "The server replied seq 7, \"HELLO, FIFO\", but fifo_request() stored seq %u, len %u.",
		      f.res.reply.seq, f.res.reply.len);
}

GRADER_TEST(client_order_deadlock)
{
	fake_server f;
	fake_server_run(&f, "who goes first?", false, NORMAL);
	errno = f.res.err;
	require_implemented(f.finished && f.res.rc < 0, "fifo_request");
	ck_assert_msg(f.got_request,
		      "Deadlock: no request arrived on %s within 2 s. %s The server opens your reply FIFO "
		      "only after reading your request, so if the client opens its reply FIFO for "
		      "reading first, each side waits for the other forever. Order: mkfifo the reply "
		      "FIFO, send the request, THEN open the reply FIFO.", FIFO_SERVER_NAME, f.stuck);
	require_client_basics(&f);
}

GRADER_TEST(client_request_atomic)
{
	fake_server f;
	fake_server_run(&f, "all or nothing", false, NEARLY_FULL);
	ck_assert_msg(f.piece == 0,
		      "With only 20 bytes free in the server FIFO, %d bytes of your %zu-byte request got "
		      "in while the rest waited for room. So the request is written in pieces, and "
		      "another client's request can land between them: the server then reads garbage. "
		      "Write the whole struct with ONE write(): a write of at most PIPE_BUF bytes to a "
		      "pipe is atomic (it waits until all of it fits).", f.piece, sizeof(struct fifo_request));
	require_client_basics(&f);
}

GRADER_TEST(client_reply_fifo_mode)
{
	umask(0); /* so that only the mode your code asks for counts */
	fake_server f;
	fake_server_run(&f, "private", false, NORMAL);
	require_client_basics(&f);
	ck_assert_msg(f.reply_mode == 0600,
		      "The reply FIFO had mode %04o (umask 0). Anyone who may write it can send your "
		      "client a forged reply, and anyone who may read it can steal it. Create it with "
		      "mkfifo(path, 0600), or chmod it to 0600: do not rely on the umask.",
		      (unsigned)f.reply_mode);
	/* A umask may also take bits from the owner: only a chmod after mkfifo gives 0600 then. */
	client_umask = 0222;
	fake_server_run(&f, "private", false, NORMAL);
	client_umask = -1;
	require_client_basics(&f);
	ck_assert_msg(
	    f.reply_mode == 0600,
	    "With the client's umask 0222 (no write permission for anyone), the reply FIFO "
	    "had mode %04o. mkfifo's mode is filtered by the umask, and the umask may take "
	    "bits you need, not only others' bits. After mkfifo, chmod(path, 0600): chmod is "
	    "not filtered.",
	    (unsigned)f.reply_mode);
}

GRADER_TEST(client_removes_reply_fifo)
{
	fake_server f;
	fake_server_run(&f, "tidy", false, NORMAL);
	require_client_basics(&f);
	ck_assert_msg(!f.left[0],
		      "After fifo_request() returned, the directory still held: %s. Each client must "
		      "unlink its reply FIFO when it is done, or a busy service leaves one FIFO per "
		      "client behind.", f.left);
}

GRADER_TEST(client_stale_reply_fifo)
{
	umask(0);
	fake_server f;
	fake_server_run(&f, "again", true, NORMAL);
	errno = f.res.err;
	require_implemented(f.finished && f.res.rc < 0, "fifo_request");
	ck_assert_msg(!(f.finished && f.res.rc < 0 && f.res.err == EEXIST),
		      "fifo_request() failed with EEXIST: a reply FIFO with its name was left behind by "
		      "an earlier process with the same pid (pids are reused). Replace it: on EEXIST, "
		      "unlink it and mkfifo again.");
	require_client_basics(&f);
	ck_assert_msg(!f.stale_reused,
		      "A stale reply FIFO of your pid was there before (mode 0666, and still held open by "
		      "another process), and your client used that very FIFO (the same inode) instead of "
		      "a new one. Whoever holds the old one can read your reply or slip in a forged one "
		      "first. Replace it: unlink it, then mkfifo a new one.");
	ck_assert_msg(f.reply_mode == 0600,
		      "A stale reply FIFO of mode 0666 was there before; when the request arrived, your "
		      "reply FIFO had mode %04o. Do not reuse a leftover: replace it with one of mode 0600.",
		      (unsigned)f.reply_mode);
	ck_assert_msg(!f.left[0], "Left in the directory afterwards: %s.", f.left);
}

typedef struct {
	bool done;
	int rc, err, fds_before, fds_after;
	char left[512];
} no_server_result;

static const char *alone_text = "anyone?";
static const char *alone_dir; /* NULL: svc_dir() */

static void request_alone(void *arg)
{
	struct fifo_reply reply;
	no_server_result *r = arg;
	r->fds_before = probe_fd_count();
	errno = 0;
	r->rc = fifo_request(alone_dir ? alone_dir : svc_dir(), FIFO_OP_UPPER, alone_text, &reply);
	r->err = errno;
	r->fds_after = probe_fd_count();
}

/* Runs fifo_request in a child (the child kit) with a 2 s deadline. */
static no_server_result request_without_server(void)
{
	no_server_result r = {.rc = 1};
	open_dir();
	child_end e = child_run(request_alone, &r, sizeof r, 2.0);
	r.done = e.exited && e.code == 0;
	listing(r.left, sizeof r.left, FIFO_SERVER_NAME);
	return r;
}

GRADER_TEST(client_no_server)
{
	no_server_result a = request_without_server(); /* no server.fifo at all */
	char server[PATH_MAX];
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	ck_assert(mkfifo(server, 0600) == 0);
	no_server_result b = request_without_server(); /* a FIFO, but no server reading it */
	char nodir[PATH_MAX + 16];
	snprintf(nodir, sizeof nodir, "%s/no-such-dir", svc_dir());
	alone_dir = nodir;
	no_server_result c = request_without_server(); /* not even the directory */
	alone_dir = too_long_dir();
	no_server_result d = request_without_server(); /* a name longer than PATH_MAX */
	alone_dir = NULL;
	clear_dir();
	errno = a.err;
	require_implemented(a.done && a.rc < 0, "fifo_request");
	ck_assert_msg(a.done && a.rc < 0 && a.err == ENOENT,
		      "With no %s in the directory, fifo_request() should fail with ENOENT; it %s.",
		      FIFO_SERVER_NAME, !a.done ? "did not return within 2 s" : a.rc == 0 ? "returned 0" :
		      strerrorname_np(a.err) ? strerrorname_np(a.err) : "failed otherwise");
	ck_assert_msg(c.done && c.rc < 0 && c.err == ENOENT,
		      "With a directory that does not exist, fifo_request() should fail with ENOENT (it "
		      "cannot create its reply FIFO there); it %s. Check what mkfifo returns.",
		      !c.done ? "did not return within 2 s" : c.rc == 0 ? "returned 0" : errno_name(c.err));
	ck_assert_msg(d.done && d.rc < 0 && d.err != 0,
		      "With a directory name longer than PATH_MAX, fifo_request() %s; it should fail "
		      "(ENAMETOOLONG): no path in it can exist.", !d.done ? "did not return within 2 s" :
		      d.rc == 0 ? "returned 0" : "returned -1 without setting errno");
	ck_assert_msg(b.done,
		      "With %s present but no server reading it, fifo_request() did not return within 2 s. "
		      "open(O_WRONLY) on a FIFO waits until someone opens it for reading, possibly forever. "
		      "Open it with O_WRONLY | O_NONBLOCK: then it fails at once with ENXIO when no server "
		      "is there (and turn O_NONBLOCK off again before writing).", FIFO_SERVER_NAME);
	ck_assert_msg(b.rc < 0 && b.err == ENXIO,
		      "With %s present but no server reading it, fifo_request() should fail with ENXIO; "
		      "it %s.", FIFO_SERVER_NAME, b.rc == 0 ? "returned 0" :
		      strerrorname_np(b.err) ? strerrorname_np(b.err) : "failed otherwise");
	ck_assert_msg(!a.left[0] && !b.left[0],
		      "fifo_request() failed (correctly), but left behind: %s. Remove the reply FIFO on "
		      "the failure paths too.", a.left[0] ? a.left : b.left);
}

GRADER_TEST(client_text_limits)
{
	char text[FIFO_TEXT_MAX + 2];
	for (int i = 0; i < FIFO_TEXT_MAX; i++)
		text[i] = "exactly sixty-four bytes "[i % 25];
	text[FIFO_TEXT_MAX] = '\0';
	fake_server f;
	fake_server_run(&f, text, false, NORMAL);
	errno = f.res.err;
	require_implemented(f.finished && f.res.rc < 0, "fifo_request");
	ck_assert_msg(!(f.finished && f.res.rc < 0 && f.res.err == EMSGSIZE),
		      "fifo_request() refused a text of exactly FIFO_TEXT_MAX (%d) bytes with EMSGSIZE. "
		      "\"At most FIFO_TEXT_MAX\" includes FIFO_TEXT_MAX itself: the text field has room "
		      "for it, because it is not NUL-terminated.", FIFO_TEXT_MAX);
	require_client_basics(&f);
	ck_assert_msg(f.req.len == FIFO_TEXT_MAX && !memcmp(f.req.text, text, FIFO_TEXT_MAX),
		      "For a text of exactly %d bytes the request should carry len %d and all %d bytes; "
		      "it carried len %u.", FIFO_TEXT_MAX, FIFO_TEXT_MAX, FIFO_TEXT_MAX, f.req.len);

	/* One byte more: refused at once, before anything is created or sent. */
	text[FIFO_TEXT_MAX] = '!';
	text[FIFO_TEXT_MAX + 1] = '\0';
	alone_text = text;
	no_server_result r = request_without_server(); /* no server.fifo: only EMSGSIZE can come */
	alone_text = "anyone?";
	clear_dir();
	ck_assert_msg(r.done && r.rc < 0 && r.err == EMSGSIZE,
		      "A text of %d bytes (one more than FIFO_TEXT_MAX) must be refused with EMSGSIZE, "
		      "before anything else; fifo_request() %s.", FIFO_TEXT_MAX + 1,
		      !r.done ? "did not return within 2 s" : r.rc == 0 ? "returned 0" : errno_name(r.err));
	ck_assert_msg(!r.left[0], "After refusing a text that is too long, the directory held: %s.",
		      r.left);
}

GRADER_TEST(client_send_fails)
{
	fake_server f;
	fake_server_run(&f, "anybody there?", false, SERVER_QUITS);
	errno = f.res.err;
	require_implemented(f.finished && f.res.rc < 0, "fifo_request");
	ck_assert_msg(f.finished,
		      "The server FIFO was full, and while your client waited in write() for room, the "
		      "server closed it and went away. With SIGPIPE ignored, that write() fails with "
		      "EPIPE, but fifo_request() did not return within 2 s. %s Check what write() "
		      "returns: if the request could not be sent, no reply will ever come, so fail "
		      "with that errno instead of waiting for one.", f.stuck);
	ck_assert_msg(f.res.rc < 0 && f.res.err == EPIPE,
		      "The request could not be written (the server went away: write() failed with "
		      "EPIPE), but fifo_request() %s. Return -1 with the errno of the failed write.",
		      f.res.rc == 0 ? "returned 0" : errno_name(f.res.err));
	ck_assert_msg(!f.left[0],
		      "fifo_request() failed (correctly) with EPIPE, but left behind: %s. Remove the reply "
		      "FIFO on every failure path.", f.left);
}

GRADER_TEST(client_short_reply)
{
	for (int round = 0; round < 2; round++) {
		fake_server f;
		fake_server_run(&f, "cut short", false, round == 0 ? SHORT_REPLY : EMPTY_REPLY);
		const char *what = round == 0 ? "wrote only 8 bytes of the reply" : "wrote nothing";
		errno = f.res.err;
		require_implemented(f.finished && f.res.rc < 0, "fifo_request");
		ck_assert_msg(f.finished,
			      "The server opened the reply FIFO, %s and closed it, but fifo_request() "
			      "did not return within 2 s. %s read() returning 0 means end of file: no "
			      "more bytes will come.", what, f.stuck);
		ck_assert_msg(f.res.rc < 0 && f.res.err == EPROTO,
			      "The server opened the reply FIFO, %s (a struct fifo_reply has %zu bytes) "
			      "and closed it. fifo_request() %s; it should fail with EPROTO (the header "
			      "says so): a reply cut short is not a reply.", what,
			      sizeof(struct fifo_reply),
			      f.res.rc == 0 ? "returned 0" : errno_name(f.res.err));
		ck_assert_msg(!f.left[0], "After the reply cut short, the directory held: %s.", f.left);
	}
}

GRADER_TEST(client_closes_fds)
{
	fake_server f;
	fake_server_run(&f, "count me", false, NORMAL);
	require_client_basics(&f);
	ck_assert_msg(f.res.fds_after == f.res.fds_before,
		      "The client process had %d descriptors open before fifo_request() and %d after "
		      "it returned: each request leaks %d. A long-lived client would run out of them. "
		      "Close the server FIFO after writing and the reply FIFO after reading.",
		      f.res.fds_before, f.res.fds_after, f.res.fds_after - f.res.fds_before);
	no_server_result a = request_without_server(); /* ENOENT */
	char server[PATH_MAX];
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	ck_assert(mkfifo(server, 0600) == 0);
	no_server_result b = request_without_server(); /* ENXIO */
	fake_server q;
	clear_dir();
	fake_server_run(&q, "anybody there?", false, SERVER_QUITS); /* EPIPE */
	struct {
		no_server_result r;
		const char *what;
	} fails[] = {{a, "no server.fifo (ENOENT)"}, {b, "nobody reading server.fifo (ENXIO)"},
		     {{q.finished, q.res.rc, q.res.err, q.res.fds_before, q.res.fds_after, ""},
		      "a request that could not be written (EPIPE)"}};
	for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
		no_server_result *r = &fails[i].r;
		if (!r->done || r->rc == 0)
			continue; /* other tests complain about that */
		ck_assert_msg(r->fds_after == r->fds_before,
			      "With %s, fifo_request() failed (%s), but the client process had %d "
			      "descriptors open before and %d after. Close what you opened on the "
			      "failure paths too.", fails[i].what, errno_name(r->err), r->fds_before,
			      r->fds_after);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Tests: the server */

/* Opens a server (not run) with the umask MASK and returns the mode of its FIFO. */
static mode_t server_fifo_mode_with(mode_t mask)
{
	umask(0);
	open_dir(); /* the directory itself stays writable */
	umask(mask);
	server_h h;
	server_start(&h, NO_RUN, true);
	umask(0);
	require_server_open(&h);
	char path[PATH_MAX];
	in_dir(path, sizeof path, FIFO_SERVER_NAME);
	struct stat st;
	int found = stat(path, &st) == 0;
	server_finish(&h, 2.0);
	clear_dir();
	ck_assert_msg(found, "fifo_server_open() returned 0, but there is no %s in the directory.",
		      FIFO_SERVER_NAME);
	ck_assert_msg(S_ISFIFO(st.st_mode), "%s is not a FIFO (S_ISFIFO): create it with mkfifo().",
		      FIFO_SERVER_NAME);
	return st.st_mode & 07777;
}

GRADER_TEST(server_fifo_mode)
{
	mode_t mode = server_fifo_mode_with(0);
	ck_assert_msg(
	    mode == 0600,
	    "%s has mode %04o (umask 0): it must be 0600 exactly. With group/other write "
	    "permission anyone can inject requests in a client's name. Ask mkfifo for 0600, "
	    "or chmod it: the umask is not yours to rely on.",
	    FIFO_SERVER_NAME, (unsigned)mode);
	mode = server_fifo_mode_with(0222);
	ck_assert_msg(
	    mode == 0600,
	    "With the umask 0222 (no write permission for anyone), %s has mode %04o. "
	    "mkfifo's mode is filtered by the umask, and the umask may take bits the owner "
	    "needs, not only others' bits. After mkfifo, chmod(path, 0600): chmod is not "
	    "filtered.",
	    FIFO_SERVER_NAME, (unsigned)mode);
}

GRADER_TEST(server_restart_eexist)
{
	umask(0);
	char path[PATH_MAX];
	in_dir(path, sizeof path, FIFO_SERVER_NAME);
	ck_assert(mkfifo(path, 0666) == 0); /* left behind by a server that was killed */
	/* ... and still held open by some process: its inode stays, so a reused one shows. */
	int held = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	struct stat stale;
	ck_assert(held >= 0 && fstat(held, &stale) == 0);
	server_h h;
	server_start(&h, 1, false);
	if (!h.opened)
		close(held);
	if (!h.opened && !h.why[0] && h.res.open_err == EEXIST) {
		server_finish(&h, 0);
		clear_dir();
		ck_abort_msg("fifo_server_open() failed with EEXIST: %s was left behind by an earlier "
			     "run that crashed, and a restarted server must cope. On EEXIST, unlink it "
			     "and mkfifo again.", FIFO_SERVER_NAME);
	}
	require_server_open(&h);
	struct stat st;
	bool found = stat(path, &st) == 0;
	bool reused = found && st.st_ino == stale.st_ino && st.st_dev == stale.st_dev;
	struct fifo_reply r;
	char why[256];
	int rc = reused ? -1 : fake_request(4000001, FIFO_OP_UPPER, "back again", &r, 2.0, why, sizeof why);
	server_finish(&h, 2.0);
	note_early_return(&h, 1);
	close(held);
	clear_dir();
	ck_assert_msg(!reused,
		      "A stale %s (mode 0666, still held open by another process) was there, and "
		      "fifo_server_open() kept using that very FIFO (the same inode) instead of creating "
		      "a new one. Whoever holds the old one can read requests meant for you, or leave "
		      "half a request in it. Replace it: unlink it, then mkfifo again.", FIFO_SERVER_NAME);
	ck_assert_msg(!found || (st.st_mode & 07777) == 0600,
		      "The leftover %s had mode 0666; after fifo_server_open() it has mode %04o. Reusing "
		      "a stale FIFO keeps its old permissions: replace it, or chmod it to 0600.",
		      FIFO_SERVER_NAME, (unsigned)(st.st_mode & 07777));
	ck_assert_msg(rc == 0, "After the restart, a client got no answer: %s. %s", why, h.why);
	check_reply(&r, "back again", 1);
}

GRADER_TEST(server_round_trip)
{
	server_h h;
	server_start(&h, 2, false);
	require_server_open(&h);
	struct fifo_reply r1, r2;
	char why1[256] = "", why2[256] = "";
	int rc1 = fake_request(4000001, FIFO_OP_UPPER, "hello", &r1, 2.0, why1, sizeof why1);
	int rc2 = rc1 ? -1 : fake_request(4000002, FIFO_OP_UPPER, "Mixed Case 42!", &r2, 2.0, why2, sizeof why2);
	server_finish(&h, 2.0);
	note_early_return(&h, 2);
	clear_dir();
	errno = h.res.run_err;
	require_implemented(h.finished && h.res.run_rc < 0, "fifo_server_run");
	ck_assert_msg(rc1 == 0, "A client sent \"hello\", but %s. %s", why1, h.why);
	check_reply(&r1, "hello", 1);
	ck_assert_msg(rc2 == 0, "A second client sent a request, but %s. %s", why2, h.why);
	check_reply(&r2, "Mixed Case 42!", 2);
	ck_assert_msg(h.finished, "fifo_server_run(2) did not return after 2 replies. %s", h.why);
	ck_assert_msg(h.res.run_rc == 2, "fifo_server_run(2) returned %d; it should return 2.", h.res.run_rc);
}

GRADER_TEST(server_shutdown)
{
	server_h h;
	server_start(&h, -1, false); /* no limit: only FIFO_OP_SHUTDOWN ends it */
	require_server_open(&h);
	/* A request from a client that has already gone: its reply FIFO does not exist. */
	char server[PATH_MAX];
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	struct fifo_request gone = {.pid = 4000009, .op = FIFO_OP_UPPER, .len = 4, .text = "gone"};
	int s = open(server, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (s >= 0) {
		ck_assert(write(s, &gone, sizeof gone) == (ssize_t)sizeof gone);
		close(s);
	}
	struct fifo_reply r1, r2;
	char why1[256] = "", why2[256] = "";
	int rc1 = fake_request(4000001, FIFO_OP_UPPER, "still there", &r1, 2.0, why1, sizeof why1);
	int rc2 = rc1 ? -1 : fake_request(4000002, FIFO_OP_SHUTDOWN, "bye", &r2, 2.0, why2, sizeof why2);
	server_finish(&h, 2.0);
	note_early_return(&h, 2);
	clear_dir();
	errno = h.res.run_err;
	require_implemented(h.finished && h.res.run_rc < 0, "fifo_server_run");
	ck_assert_msg(rc1 == 0,
		      "After a request from a client whose reply FIFO no longer exists, the next client "
		      "got no answer: %s. %s Skip such a request (open fails with ENOENT) and go on.",
		      why1, h.why);
	ck_assert_msg(r1.seq != 2,
		      "The first reply after a skipped request (its client was gone) has seq 2: the "
		      "skipped request used up a sequence number. Only a reply that was really sent "
		      "counts: increment the number after a successful reply, not when a request "
		      "arrives.");
	check_reply(&r1, "still there", 1);
	ck_assert_msg(rc2 == 0, "A FIFO_OP_SHUTDOWN request got no answer: %s. %s", why2, h.why);
	check_reply(&r2, "bye", 2);
	ck_assert_msg(h.finished,
		      "fifo_server_run(-1) did not return within 2 s after replying to FIFO_OP_SHUTDOWN. "
		      "%s", h.why);
	ck_assert_msg(h.res.run_rc == 2,
		      "fifo_server_run(-1) (no limit) returned %d; it served 2 requests (the one whose client was "
		      "gone does not count).", h.res.run_rc);
}

GRADER_TEST(server_no_busy_wait)
{
	server_h h;
	server_start(&h, 2, false);
	require_server_open(&h);
	struct fifo_reply r1, r2;
	char why1[256] = "", why2[256] = "";
	int rc1 = fake_request(4000001, FIFO_OP_UPPER, "first", &r1, 2.0, why1, sizeof why1);
	/* The first client has left: nobody else has the FIFO open for writing. */
	double cpu0 = probe_cpu_seconds(h.st.pid);
	long calls0 = read_calls(h.st.pid);
	usleep(300 * 1000);
	double cpu1 = probe_cpu_seconds(h.st.pid);
	long calls1 = read_calls(h.st.pid);
	long calls = calls0 >= 0 && calls1 >= 0 ? calls1 - calls0 : 0;
	bool alive = !ended(h.st.pid);
	int rc2 = fake_request(4000002, FIFO_OP_UPPER, "second", &r2, 2.0, why2, sizeof why2);
	server_finish(&h, 2.0);
	note_early_return(&h, 2);
	clear_dir();
	errno = h.res.run_err;
	require_implemented(h.finished && h.res.run_rc < 0, "fifo_server_run");
	ck_assert_msg(rc1 == 0, "The first client got no answer: %s. %s", why1, h.why);
	ck_assert_msg(alive && rc2 == 0,
		      "A second client, arriving 300 ms after the first had left, was not served (%s); "
		      "fifo_server_run(2) %s. When the last writer closes a FIFO, read() returns 0 (end "
		      "of file), though more clients may come. Keep a write end of your own open on the "
		      "FIFO (keep_fd): then read() just sleeps until the next request.", why2,
		      h.finished ? "had returned after the first reply" : "was still running");
	double used = cpu1 - cpu0;
	ck_assert_msg(used < 0.1 && calls < 100,
		      "While no client was there (300 ms), the server made %ld read() calls and used "
		      "%.2f s of CPU: it spins. Once the last client closes the FIFO, read() returns 0 at "
		      "once, again and again. Keep a write end of your own open on the FIFO: read() then "
		      "sleeps until a request comes.", calls, used);
	check_reply(&r2, "second", 2);
}

GRADER_TEST(server_signals)
{
	server_h h;
	server_with_signals = true;
	server_start(&h, 1, false);
	server_with_signals = false;
	require_server_open(&h);
	usleep(100 * 1000); /* the server sleeps in read(), and a signal comes every 2 ms */
	/* A client that opens its reply FIFO before sending, so that the server's open() of it
	   never has to wait: only the read() of requests sleeps. */
	char mine[PATH_MAX], server[PATH_MAX];
	reply_path(mine, sizeof mine, 4000001);
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	ck_assert(mkfifo(mine, 0600) == 0);
	int fd = open(mine, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int s = open(server, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	struct fifo_request req = {.pid = 4000001, .op = FIFO_OP_UPPER, .len = 6, .text = "signal"};
	ssize_t sent = s >= 0 ? write(s, &req, sizeof req) : -1;
	struct fifo_reply r = {0};
	ssize_t n = fd >= 0 && sent == (ssize_t)sizeof req ? probe_read_all(fd, &r, sizeof r, 2.0) : -1;
	if (s >= 0)
		close(s);
	if (fd >= 0)
		close(fd);
	server_finish(&h, 2.0);
	clear_dir();
	errno = h.res.run_err;
	require_implemented(h.finished && h.res.run_rc < 0, "fifo_server_run");
	ck_assert_msg(!(h.finished && h.res.run_rc < 0),
		      "While fifo_server_run() waited for a request, a signal arrived every 2 ms (a "
		      "handler installed without SA_RESTART), and it returned -1 with %s. A signal makes "
		      "a sleeping read() fail with EINTR: that is not an error, read again.",
		      errno_name(h.res.run_err));
	ck_assert_msg(n == (ssize_t)sizeof r,
		      "While the server waited for a request, a signal arrived every 2 ms (handler "
		      "without SA_RESTART). Then a client sent a request and got no reply. %s A read() "
		      "interrupted by a signal fails with EINTR: retry it.", h.why);
	check_reply(&r, "signal", 1);
}

GRADER_TEST(server_close_removes_fifo)
{
	server_h h;
	server_start(&h, 1, false);
	require_server_open(&h);
	struct fifo_reply r;
	char why[256] = "", left[1024];
	int rc = fake_request(4000001, FIFO_OP_UPPER, "done", &r, 2.0, why, sizeof why);
	server_finish(&h, 2.0);
	note_early_return(&h, 1);
	listing(left, sizeof left, NULL);
	clear_dir();
	ck_assert_msg(rc == 0, "A client got no answer: %s. %s", why, h.why);
	ck_assert_msg(h.finished, "The server did not finish within 2 s after its one reply. %s", h.why);
	errno = h.res.close_err;
	require_implemented(h.res.close_rc < 0, "fifo_server_close");
	ck_assert_msg(!left[0],
		      "After fifo_server_close() the directory still held: %s. The FIFO is a file: it "
		      "stays until someone unlinks it, and the next server (or a stale client) finds "
		      "it there. unlink() it in fifo_server_close().", left);
	ck_assert_msg(h.res.fds_after == h.res.fds_before,
		      "The server process had %d descriptors open before fifo_server_open() and %d after "
		      "fifo_server_close(): close both the read end and your own write end.",
		      h.res.fds_before, h.res.fds_after);
	ck_assert_msg(h.res.close_rc == 0, "fifo_server_close() failed with %s.",
		      strerrorname_np(h.res.close_err) ? strerrorname_np(h.res.close_err) : "an error");
}

/* The three requests server_text_limits sends first: each must be skipped. */
static const char *skipped_what[] = {"len 65 (more than FIFO_TEXT_MAX)", "op 3 (no such op)",
				     "op 0 (no such op)"};

/* Sends the three requests to skip. Their reply FIFOs exist and are open for reading (in BFD),
   so a server that answers them anyway is seen (and not stuck in open). */
static void send_requests_to_skip(int bfd[3])
{
	struct fifo_request bad[3] = {
		{.pid = 4000011, .op = FIFO_OP_UPPER, .len = FIFO_TEXT_MAX + 1},
		{.pid = 4000012, .op = 3, .len = 4, .text = "oops"},
		{.pid = 4000013, .op = 0, .len = 4, .text = "zero"},
	};
	memset(bad[0].text, 'x', FIFO_TEXT_MAX);
	char server[PATH_MAX], path[PATH_MAX];
	for (int i = 0; i < 3; i++) {
		reply_path(path, sizeof path, bad[i].pid);
		ck_assert(mkfifo(path, 0600) == 0);
		bfd[i] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		ck_assert(bfd[i] >= 0);
	}
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	int s = open(server, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert(s >= 0);
	for (int i = 0; i < 3; i++)
		ck_assert(write(s, &bad[i], sizeof bad[i]) == (ssize_t)sizeof bad[i]);
	close(s);
}

/* Closes the reply FIFOs of the requests to skip; returns the first that got a reply, or -1. */
static int first_skipped_answered(const int bfd[3])
{
	int answered = -1;
	for (int i = 0; i < 3; i++) {
		char c;
		if (read(bfd[i], &c, 1) > 0 && answered < 0)
			answered = i;
		close(bfd[i]);
	}
	return answered;
}

static void bad_requests_get_no_reply(int answered)
{
	ck_assert_msg(
	    answered < 0,
	    "The server replied to a request with %s. A request with a bad op or len must be "
	    "skipped: no reply (and with len > FIFO_TEXT_MAX, upper-casing len bytes would read "
	    "and write past the end of the text arrays).",
	    skipped_what[answered < 0 ? 0 : answered]);
}

/* The request of FIFO_TEXT_MAX bytes after the skipped ones: answered, as seq 1. */
static void a_full_length_text_is_served_as_seq_1(int rc1, const struct fifo_reply *r1,
						  const char *text, const char *why1,
						  const server_h *h)
{
	ck_assert_msg(
	    rc1 == 0,
	    "After three requests that must be skipped, a client sent a text of exactly %d "
	    "bytes (FIFO_TEXT_MAX) and got no answer: %s. %s A len of FIFO_TEXT_MAX is valid.",
	    FIFO_TEXT_MAX, why1, h->why);
	ck_assert_msg(
	    r1->seq == 1,
	    "The first reply, after three requests that were skipped, has seq %u instead of 1: "
	    "skipped requests must not use up sequence numbers. Count a reply only once it "
	    "has been sent.",
	    r1->seq);
	check_reply(r1, text, 1);
}

static void shutdown_is_answered_and_ends_the_run(int rc2, const char *why2, const server_h *h)
{
	ck_assert_msg(rc2 == 0, "A FIFO_OP_SHUTDOWN request got no answer: %s. %s", why2, h->why);
	ck_assert_msg(h->finished && h->res.run_rc == 2,
		      "fifo_server_run(0) (0: no limit) should return 2 after the FIFO_OP_SHUTDOWN "
		      "reply; it %s%d.",
		      h->finished ? "returned " : "did not return; ",
		      h->finished ? h->res.run_rc : 0);
}

GRADER_TEST(server_text_limits)
{
	server_h h;
	server_start(&h, 0, false); /* 0: no limit */
	require_server_open(&h);
	int bfd[3];
	send_requests_to_skip(bfd);
	char text[FIFO_TEXT_MAX + 1];
	for (int i = 0; i < FIFO_TEXT_MAX; i++)
		text[i] = "sixty-four bytes, all of them "[i % 30];
	text[FIFO_TEXT_MAX] = '\0';
	struct fifo_reply r1, r2;
	char why1[256] = "", why2[256] = "";
	int rc1 = fake_request(4000001, FIFO_OP_UPPER, text, &r1, 2.0, why1, sizeof why1);
	int rc2 =
	    rc1 ? -1 : fake_request(4000002, FIFO_OP_SHUTDOWN, "bye", &r2, 2.0, why2, sizeof why2);
	server_finish(&h, 2.0);
	int answered = first_skipped_answered(bfd);
	clear_dir();
	errno = h.res.run_err;
	require_implemented(h.finished && h.res.run_rc < 0, "fifo_server_run");
	bad_requests_get_no_reply(answered);
	a_full_length_text_is_served_as_seq_1(rc1, &r1, text, why1, &h);
	shutdown_is_answered_and_ends_the_run(rc2, why2, &h);
}

typedef struct {
	int rc, err, long_rc, long_err;
} open_nodir_result;

static void open_nodir(void *arg)
{
	open_nodir_result *r = arg;
	struct fifo_server srv;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/no-such-dir", svc_dir());
	errno = 0;
	r->rc = fifo_server_open(&srv, dir);
	r->err = errno;
	if (r->rc == 0)
		fifo_server_close(&srv);
	errno = 0;
	r->long_rc = fifo_server_open(&srv, too_long_dir());
	r->long_err = errno;
}

GRADER_TEST(server_open_fails_cleanly)
{
	open_dir();
	open_nodir_result no_dir = {.rc = 1, .long_rc = 1};
	child_end e = child_run(open_nodir, &no_dir, sizeof no_dir, 2.0);
	clear_dir();
	errno = no_dir.err;
	require_implemented(e.exited && no_dir.rc < 0, "fifo_server_open");
	ck_assert_msg(e.exited && no_dir.rc < 0 && no_dir.err == ENOENT,
		      "fifo_server_open() on a directory that does not exist should fail with ENOENT "
		      "(mkfifo fails); it %s. Check what mkfifo returns.",
		      !e.exited ? "did not return within 2 s" : no_dir.rc == 0 ? "returned 0"
									: errno_name(no_dir.err));
	ck_assert_msg(no_dir.long_rc < 0 && no_dir.long_err != 0,
		      "fifo_server_open() with a directory name longer than PATH_MAX %s. No path in it "
		      "can exist: return -1 (ENAMETOOLONG), and never copy more than fits into srv->dir.",
		      no_dir.long_rc == 0 ? "returned 0" : "returned -1 without setting errno");

	/* room 1: not one descriptor can be opened; room 2: only one (the read end). */
	for (int room = 1; room <= 2; room++) {
		server_h h;
		server_room = room;
		server_start(&h, NO_RUN, false);
		server_room = 0;
		srv_result r = h.res;
		bool hung = h.why[0] != '\0';
		server_finish(&h, 2.0);
		char left[512];
		listing(left, sizeof left, NULL);
		clear_dir();
		errno = r.open_err;
		require_implemented(!hung && r.open_rc < 0, "fifo_server_open");
		ck_assert_msg(!hung, "With room for only %d more descriptor%s, fifo_server_open() did "
				     "not return within 2 s.", room - 1, room == 2 ? "" : "s");
		ck_assert_msg(r.open_rc < 0 || r.fds_valid,
			      "With room for only %d more descriptor%s, fifo_server_open() returned 0, "
			      "but fd or keep_fd is not an open descriptor: a failed open() was ignored. "
			      "Check each open() and fail with its errno (EMFILE).", room - 1,
			      room == 2 ? "" : "s");
		if (r.open_rc == 0)
			continue; /* it managed with what it had: fine */
		ck_assert_msg(r.open_err != 0, "fifo_server_open() returned -1 without setting errno.");
		ck_assert_msg(r.fds_after == r.fds_before,
			      "With room for only %d more descriptor%s, fifo_server_open() failed (%s), "
			      "as it should, but the server process had %d descriptors before and %d "
			      "after. When the second open fails, close the first one.", room - 1,
			      room == 2 ? "" : "s", errno_name(r.open_err), r.fds_before, r.fds_after);
		ck_assert_msg(!left[0],
			      "With room for only %d more descriptor%s, fifo_server_open() failed (%s), "
			      "but left behind: %s. The header promises that after a failure nothing is "
			      "left open or created: unlink the FIFO you made.", room - 1,
			      room == 2 ? "" : "s", errno_name(r.open_err), left);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Both sides together */

typedef struct {
	int index, rc, err;
	struct fifo_reply reply;
} many_result;

static void client_text(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "client %02d of the crowd, pid-free text %c%c", i, 'a' + i % 26, 'z' - i % 26);
}

/* In many_clients' child I: waits for the go (from GO), sends its request, writes its
   many_result to RES. */
__attribute__((noreturn)) static void many_client_child(int i, int go, int res)
{
	char c, text[FIFO_TEXT_MAX + 1];
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	client_text(i, text, sizeof text);
	many_result r = {.index = i};
	r.rc = fifo_request(svc_dir(), FIFO_OP_UPPER, text, &r.reply);
	r.err = errno;
	ssize_t ignored = write(res, &r, sizeof r); /* < PIPE_BUF: atomic */
	(void)ignored;
	_exit(0);
}

/* Lets every request arrive before the server reads any (at most 2 s); returns how many
   complete requests wait in the server FIFO, seen through WATCH. */
static int requests_waiting(int watch)
{
	int avail = 0;
	double deadline = probe_now() + 2.0;
	while (probe_now() < deadline && ioctl(watch, FIONREAD, &avail) == 0 &&
	       avail < (int)(NCLIENTS * sizeof(struct fifo_request)))
		usleep(2000);
	return avail / (int)sizeof(struct fifo_request);
}

/* The first client with no result among GOT (-1: none), and in STUCK what it is doing. */
static int first_unanswered(const many_result *got, int nres, const pid_t *kids, char *stuck,
			    size_t cap)
{
	int answered[NCLIENTS] = {0}, first_missing = -1;
	for (int k = 0; k < nres; k++)
		if (got[k].index >= 0 && got[k].index < NCLIENTS)
			answered[got[k].index] = 1;
	for (int i = 0; i < NCLIENTS && first_missing < 0; i++)
		if (!answered[i]) {
			first_missing = i;
			char who[32];
			snprintf(who, sizeof who, "Client %d", i);
			explain_wait(kids[i], who, stuck, cap);
		}
	return first_missing;
}

/* Every client that answered got its own text upper-cased, and a seq of its own; returns how
   many did. */
static int each_reply_is_the_clients_own(const many_result *got, int nres)
{
	int seen[NCLIENTS + 1] = {0}, ok = 0;
	for (int k = 0; k < nres; k++) {
		const many_result *r = &got[k];
		if (r->index < 0 || r->index >= NCLIENTS)
			continue;
		errno = r->err;
		require_implemented(r->rc < 0, "fifo_request");
		char text[FIFO_TEXT_MAX + 1], want[FIFO_TEXT_MAX + 1], have[FIFO_TEXT_MAX + 1] = "";
		client_text(r->index, text, sizeof text);
		upper(want, text);
		if (r->rc == 0 && r->reply.len <= FIFO_TEXT_MAX)
			memcpy(have, r->reply.text, r->reply.len);
		ck_assert_msg(r->rc == 0, "Client %d of %d: fifo_request() failed with %s.", r->index, NCLIENTS,
			      strerrorname_np(r->err) ? strerrorname_np(r->err) : "an error");
		ck_assert_msg(!strcmp(have, want),
			      "Client %d sent \"%s\" but got back \"%s\": its reply was meant for another "
			      "client, or the request reached the server garbled.", r->index, text, have);
		ck_assert_msg(r->reply.seq >= 1 && r->reply.seq <= NCLIENTS && !seen[r->reply.seq]++,
			      "Client %d got seq %u, which is out of 1..%d or was given twice.", r->index,
			      r->reply.seq, NCLIENTS);
		ok++;
	}
	return ok;
}

static void every_request_arrived(int ok, int arrived, const char *stuck)
{
	ck_assert_msg(ok == NCLIENTS || arrived == NCLIENTS,
		      "%d clients started at the same time, but only %d complete requests reached %s "
		      "within 2 s, and %d clients got an answer. %s Did the clients open their reply "
		      "FIFOs before sending?", NCLIENTS, arrived, FIFO_SERVER_NAME, ok, stuck);
}

static void no_request_was_lost(int ok, int first_missing, const server_h *h)
{
	ck_assert_msg(
	    ok == NCLIENTS,
	    "%d clients sent a request at the same time (all %d requests were waiting in the "
	    "FIFO together), but only %d got an answer within 3 s (client %d did not). "
	    "Requests were lost. Read exactly sizeof(struct fifo_request) bytes per request: a "
	    "bigger read() can return several requests at once, and a pipe keeps no message "
	    "boundaries. %s",
	    NCLIENTS, NCLIENTS, ok, first_missing, h->why);
}

static void the_run_returns_after_every_client(const server_h *h)
{
	ck_assert_msg(h->finished && h->res.run_rc == NCLIENTS,
		      "fifo_server_run(%d) %s after serving every client.", NCLIENTS,
		      h->finished ? "returned something else than 24" : "did not return");
}

GRADER_TEST(many_clients)
{
	server_h h;
	server_start(&h, NCLIENTS, true); /* opened, but waits for the go before reading */
	require_server_open(&h);
	char server[PATH_MAX];
	in_dir(server, sizeof server, FIFO_SERVER_NAME);
	int watch = open(server, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* only to look at FIONREAD */
	int go[2], res[2];
	ck_assert(pipe2(go, O_CLOEXEC) == 0 && pipe2(res, O_CLOEXEC) == 0);
	pid_t kids[NCLIENTS];
	for (int i = 0; i < NCLIENTS; i++) {
		kids[i] = child_fork();
		if (kids[i] == 0) {
			close(go[1]);
			close(res[0]);
			close(h.st.gate); /* or the server would wait for this client's exit to
					     start */
			close(h.st.report);
			close(watch);
			many_client_child(i, go[0], res[1]);
		}
	}
	close(go[0]);
	close(res[1]);
	close(go[1]); /* all clients at once */
	/* Let every request arrive before the server reads any: 24 requests wait in the pipe. */
	int arrived = requests_waiting(watch);
	child_release(&h.st);
	static many_result got[NCLIENTS + 1];
	bool late;
	int nres = (int)(child_collect(res[0], got, sizeof got, 3.0, &late) / sizeof(many_result));
	char stuck[512] = "";
	int first_missing = first_unanswered(got, nres, kids, stuck, sizeof stuck);
	server_finish(&h, 1.0);
	for (int i = 0; i < NCLIENTS; i++)
		stop(kids[i]);
	close(res[0]);
	close(watch);
	clear_dir();

	int ok = each_reply_is_the_clients_own(got, nres);
	every_request_arrived(ok, arrived, stuck);
	no_request_was_lost(ok, first_missing, &h);
	the_run_returns_after_every_client(&h);
}
