/* sandbox.c: one test's private namespaces and directory, and the ledger of what it left behind. */
#define _GNU_SOURCE
#include "grader.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_WATCH = 32, MAX_FDS = 1024, MAX_IPC = 256 };

static char test_dir[1024];
static char mq_dir[1024]; /* an mqueue mount showing this test's queues, or "" */
static bool namespaced;
static char watched_shm[MAX_WATCH][256], watched_mq[MAX_WATCH][256];
static int n_watched_shm, n_watched_mq;
static bool fd_open_before[MAX_FDS];
static int sysv_before[3][MAX_IPC], n_sysv_before[3];
static char shm_before[MAX_IPC][256];
static int n_shm_before;

static const char *const sysv_kinds[3] = {"shm", "msg", "sem"};

const char *sb_dir(void)
{
	return test_dir;
}

bool sb_namespaced(void)
{
	return namespaced;
}

const char *sb_name(const char *stem, char *buf, size_t cap)
{
	snprintf(buf, cap, "/ipclab-%d-%s", (int)getpid(), stem);
	return buf;
}

void ledger_watch_shm(const char *name)
{
	if (n_watched_shm < MAX_WATCH)
		snprintf(watched_shm[n_watched_shm++], sizeof watched_shm[0], "%s", name);
}

void ledger_watch_mq(const char *name)
{
	if (n_watched_mq < MAX_WATCH)
		snprintf(watched_mq[n_watched_mq++], sizeof watched_mq[0], "%s", name);
}

/* Makes our mounts private so the test's own do not reach the host: all of them, or in a
   chroot (where "/" is not a mount point) just /dev/shm, the one the test mounts over. */
static bool root_private;
static int private_mounts(void)
{
	root_private = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	if (root_private)
		return 0;
	return mount(NULL, "/dev/shm", NULL, MS_REC | MS_PRIVATE, NULL);
}

void sandbox_enter(const char *dir, const char *mqdir, char *note, size_t cap)
{
	snprintf(test_dir, sizeof test_dir, "%s", dir);
	note[0] = '\0';
	if (contain_may_unshare()) {
		if (unshare(CLONE_NEWIPC | CLONE_NEWNS) < 0)
			snprintf(note, cap, "unshare(IPC|mount): %s", strerror(errno));
		else if (private_mounts() < 0 ||
			 mount("ipclab-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
			snprintf(note, cap, "private /dev/shm: %s", strerror(errno));
		else
			namespaced = true;
		/* A queue lives in the IPC namespace; this mount makes the test's queues listable. It
		   would show on the host if "/" is shared (a chroot): then queues are found by name. */
		if (namespaced && root_private && mkdir(mqdir, 0700) == 0 &&
		    mount("mqueue", mqdir, "mqueue", 0, NULL) == 0)
			snprintf(mq_dir, sizeof mq_dir, "%s", mqdir);
	} else {
		snprintf(note, cap, "namespaces not available");
	}
	contain_enter_test(dir, mq_dir);
	if (chdir(dir) < 0)
		snprintf(note, cap, "chdir %s: %s", dir, strerror(errno));
	setenv("TMPDIR", dir, 1);

	struct rlimit core = {0, 0}, fsize = {64 << 20, 64 << 20};
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_FSIZE, &fsize); /* a runaway printf loop must not fill the disk */
	if (!getenv("IPCLAB_SANITIZE")) {
		struct rlimit as = {8ULL << 30, 8ULL << 30}; /* nor eat all the memory */
		setrlimit(RLIMIT_AS, &as);
	}
}

static int sysv_ids(int kind, int *ids, int max)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/sysvipc/%s", sysv_kinds[kind]);
	FILE *f = fopen(path, "re");
	int n = 0;
	if (!f)
		return 0;
	if (fgets(line, sizeof line, f)) /* header */
		while (n < max && fgets(line, sizeof line, f)) {
			int key, id;
			if (sscanf(line, "%d %d", &key, &id) == 2)
				ids[n++] = id;
		}
	fclose(f);
	return n;
}

/* The key of SysV object ID, from /proc/sysvipc. */
static int sysv_key(int kind, int id)
{
	int ids[MAX_IPC], n = sysv_ids(kind, ids, MAX_IPC);
	char path[64], line[512];
	(void)n;
	snprintf(path, sizeof path, "/proc/sysvipc/%s", sysv_kinds[kind]);
	FILE *f = fopen(path, "re");
	int key = 0;
	if (f) {
		while (fgets(line, sizeof line, f)) {
			int k, i;
			if (sscanf(line, "%d %d", &k, &i) == 2 && i == id)
				key = k;
		}
		fclose(f);
	}
	return key;
}

static bool contains_int(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

void ledger_begin(void)
{
	int fds[MAX_FDS], n = probe_fds(0, fds, MAX_FDS);
	memset(fd_open_before, 0, sizeof fd_open_before);
	for (int i = 0; i < n; i++)
		if (fds[i] < MAX_FDS)
			fd_open_before[fds[i]] = true;
	for (int k = 0; k < 3; k++)
		n_sysv_before[k] = sysv_ids(k, sysv_before[k], MAX_IPC);
	n_shm_before = 0;
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	while (d && (e = readdir(d)) && n_shm_before < MAX_IPC)
		if (e->d_name[0] != '.')
			snprintf(shm_before[n_shm_before++], sizeof shm_before[0], "%s", e->d_name);
	if (d)
		closedir(d);
}

typedef struct {
	char *buf;
	size_t cap, len;
	int count;
} leak_list;

__attribute__((format(printf, 2, 3))) static void add_leak(leak_list *l, const char *fmt, ...)
{
	if (l->len + 4 >= l->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	l->len += snprintf(l->buf + l->len, l->cap - l->len, "\n  - ");
	if (l->len < l->cap)
		l->len += vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (l->len >= l->cap)
		l->len = l->cap - 1;
	l->count++;
}

static void check_children(leak_list *l)
{
	siginfo_t si;
	for (int guard = 0; guard < 8; guard++) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			return; /* ECHILD: no children at all, as it should be */
		char comm[64];
		pid_t pid = si.si_pid;
		if (pid == 0) {
			add_leak(l, "a child process is still running: every child must be waited for "
				    "(waitpid) before your function returns");
			return;
		}
		add_leak(l, "child process %d (%s) exited but was never reaped: it stays a zombie "
			    "until someone calls waitpid() on it", (int)pid, probe_comm(pid, comm, sizeof comm));
		waitpid(pid, NULL, WNOHANG); /* reap it so the next iteration looks further */
	}
}

static void check_fds(leak_list *l)
{
	int fds[MAX_FDS], n = probe_fds(0, fds, MAX_FDS);
	for (int i = 0; i < n; i++) {
		if (fds[i] < MAX_FDS && fd_open_before[fds[i]])
			continue;
		char what[256];
		add_leak(l, "descriptor %d (%s) is still open: close every descriptor you open", fds[i],
			 probe_fd_target(0, fds[i], what, sizeof what));
	}
}

static void check_shm(leak_list *l)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		bool old = e->d_name[0] == '.';
		for (int i = 0; !old && i < n_shm_before; i++)
			old = !strcmp(shm_before[i], e->d_name);
		if (!old && (namespaced || !strncmp(e->d_name, "ipclab-", 7)))
			add_leak(l, "POSIX shared memory object /%s still exists: call shm_unlink() "
				    "once no process needs the name", e->d_name);
	}
	if (d)
		closedir(d);
	for (int i = 0; !namespaced && i < n_watched_shm; i++) {
		int fd = shm_open(watched_shm[i], O_RDONLY, 0);
		if (fd >= 0) {
			close(fd);
			add_leak(l, "POSIX shared memory object %s still exists: call shm_unlink()",
				 watched_shm[i]);
		}
	}
}

static void check_mq(leak_list *l)
{
	if (*mq_dir) {
		DIR *d = opendir(mq_dir);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				add_leak(l, "message queue /%s still exists: call mq_unlink() when the "
					    "queue is no longer needed", e->d_name);
		if (d)
			closedir(d);
		return;
	}
	for (int i = 0; i < n_watched_mq; i++) {
		mqd_t q = mq_open(watched_mq[i], O_RDONLY);
		if (q != (mqd_t)-1) {
			mq_close(q);
			add_leak(l, "message queue %s still exists: call mq_unlink()", watched_mq[i]);
		}
	}
}

static void check_sysv(leak_list *l)
{
	static const char *const what[3] = {"shared memory segment", "message queue", "semaphore set"};
	for (int k = 0; k < 3; k++) {
		int ids[MAX_IPC], n = sysv_ids(k, ids, MAX_IPC);
		for (int i = 0; i < n; i++)
			if (!contains_int(sysv_before[k], n_sysv_before[k], ids[i]))
				add_leak(l, "SysV %s id %d (key 0x%08x) still exists: remove it with "
					    "IPC_RMID (see `ipcs`)", what[k], ids[i],
					 (unsigned)sysv_key(k, ids[i]));
	}
}

static void check_dir(leak_list *l)
{
	DIR *d = opendir(test_dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", test_dir, e->d_name);
		const char *kind = "file";
		if (lstat(path, &st) == 0)
			kind = S_ISFIFO(st.st_mode)   ? "FIFO"
			       : S_ISSOCK(st.st_mode) ? "socket file"
			       : S_ISDIR(st.st_mode)  ? "directory"
						      : "file";
		add_leak(l, "%s %s was left in the directory: unlink() what you create", kind, path);
	}
	if (d)
		closedir(d);
}

int ledger_check(char *msg, size_t cap)
{
	leak_list l = {msg, cap, 0, 0};
	msg[0] = '\0';
	check_children(&l);
	check_fds(&l);
	check_shm(&l);
	check_mq(&l);
	check_sysv(&l);
	check_dir(&l);
	return l.count ? -1 : 0;
}

const char *ledger_end(void)
{
	static char msg[4096];
	char list[3600];
	if (ledger_check(list, sizeof list) == 0)
		return NULL;
	snprintf(msg, sizeof msg, "Your code left things behind after it returned:%s", list);
	return msg;
}

void sandbox_cleanup_host(int test_pid)
{
	/* Without namespaces, objects named by sb_name() land on the host: remove them. */
	char prefix[64];
	snprintf(prefix, sizeof prefix, "ipclab-%d-", test_pid);
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			char name[300];
			snprintf(name, sizeof name, "/%s", e->d_name);
			shm_unlink(name);
		}
	if (d)
		closedir(d);
}
