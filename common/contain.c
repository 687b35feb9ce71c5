/* contain.c: keeps a whole grading run contained: PID namespace, fork limit, sweep between tests, nothing left behind. */
#define _GNU_SOURCE
#include "grader.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Descriptions are built from paths of any length: cutting one short is fine. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

enum { FORK_LIMIT = CONTAIN_FORK_LIMIT, EXIT_SETUP_FAILED = 111 };

/*
 * The shape of a run: the process that started the grader (the "outer" one) creates the run
 * directory and the pids cgroup, forks the runner, and only supervises it: when the runner
 * ends, or a SIGINT/SIGTERM/SIGHUP arrives, it kills what is left, removes the cgroup and the
 * run directory, and exits with the runner's status. The runner is PID 1 of a new PID
 * namespace when the kernel allows it, or else a subreaper that sweeps its descendants.
 * Because the namespace is entered with clone() in the child, a namespace step that fails
 * part-way never leaves the outer process inside a namespace it cannot use.
 */
static bool pid_ns;          /* the runner is PID 1 of its own namespace */
static bool may_unshare = true;
static bool root_private;    /* the runner could make "/" private in its mount namespace */
static bool drop_uid;        /* root without a fork limit: tests run as an unprivileged uid */
static char description[1536];
static char cgroup_dir[2048];
static char cpu_cgroup_dir[2048]; /* cgroup v1: the run's own cpu group, or "" */
static char run_dir[64];
static pid_t inner_pid;
static volatile sig_atomic_t got_signal;
/* Shared by the outer process and the runner: fork bombs stopped, and whether a stop is under way.
 */
static volatile struct {
	unsigned hits, stopping;
} * bombs;

int raw_kill(int pid, int sig)
{
	return (int)syscall(SYS_kill, pid, sig);
}

bool contain_may_unshare(void)
{
	return may_unshare;
}

bool contain_root_private(void)
{
	return root_private;
}

const char *contain_rundir(void)
{
	return run_dir;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Kills every process in cgroup DIR (its cgroup.procs), a few rounds, then removes DIR. */
static int empty_and_remove_cgroup(const char *dir)
{
	char path[2200];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	for (int round = 0; round < 300; round++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		FILE *f = fopen(path, "re");
		int pid;
		while (f && fscanf(f, "%d", &pid) == 1)
			raw_kill(pid, SIGKILL);
		if (f)
			fclose(f);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* a zombie still counts as a member: reap the ones that are ours */
		usleep(10000); /* dying processes leave the cgroup asynchronously */
	}
	return -1;
}

/* Removes the ipclab-PID cgroups in BASE whose run is over (a run killed with SIGKILL). */
static void remove_stale_cgroups(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int pid;
		char rest;
		if (sscanf(e->d_name, "ipclab-%d%c", &pid, &rest) != 1 || pid <= 0)
			continue;
		if (raw_kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its run is still going */
		char dir[2200];
		snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
		empty_and_remove_cgroup(dir);
	}
	if (d)
		closedir(d);
}

/* Removes /tmp/ipclab-run.* directories that no live run holds (their .lock is free). */
static void remove_stale_rundirs(void)
{
	glob_t g;
	if (glob("/tmp/ipclab-run.*", GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char lock[300];
		snprintf(lock, sizeof lock, "%s/.lock", g.gl_pathv[i]);
		int fd = open(lock, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* not ours to judge */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_tree(g.gl_pathv[i]);
		close(fd);
	}
	globfree(&g);
}

/* The run directory: holds each test's directory; its .lock is held while the run lives. */
static int make_rundir(void)
{
	snprintf(run_dir, sizeof run_dir, "/tmp/ipclab-run.XXXXXX");
	if (!mkdtemp(run_dir))
		return -1;
	chmod(run_dir, 0755);
	char lock[300], fresh[310];
	snprintf(lock, sizeof lock, "%s/.lock", run_dir);
	snprintf(fresh, sizeof fresh, "%s.new", lock);
	/* Forked tests inherit it (exec drops it): the lock is held while any process of the run
	   lives. It gets its name only once held: another run's remove_stale_rundirs() must never
	   find a free .lock in a directory that is just being set up (seen with 10 runs starting at
	   once). */
	int fd = open(fresh, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_SH) < 0 || rename(fresh, lock) < 0)
		return -1;
	return 0;
}

/* Where the pids hierarchies are mounted: V1 a cgroup v1 mount with pids, V2 the cgroup2 one. */
static int find_cgroup_mounts(char *v1, char *v2, size_t cap)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char mnt[512], fstype[64], opts[512];
		/* id parent major:minor root mountpoint opts ... - fstype source superopts */
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, opts) != 2)
			continue;
		if (!strcmp(fstype, "cgroup") && strstr(opts, "pids"))
			snprintf(v1, cap, "%s", mnt);
		else if (!strcmp(fstype, "cgroup2") && !*v2)
			snprintf(v2, cap, "%s", mnt);
	}
	fclose(f);
	return 0;
}

/* Our own cgroup, relative to each hierarchy's root (from /proc/self/cgroup). */
static void find_own_cgroups(char *rel_v1, char *rel_v2, size_t cap)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (!strcmp(c1 + 1, ""))
			snprintf(rel_v2, cap, "%s", c2 + 1);
		else if (strstr(c1 + 1, "pids"))
			snprintf(rel_v1, cap, "%s", c2 + 1);
	}
	fclose(f);
}

static void make_cpu_cgroup(const char *mount_v2, const char *rel_v2);

/* Creates a pids cgroup next to ours (cgroup v1 or v2); returns 0 and fills cgroup_dir. */
static int make_pids_cgroup(char *why, size_t cap)
{
	char mount_v1[512] = "", mount_v2[512] = "", rel_v1[512] = "", rel_v2[512] = "";
	if (find_cgroup_mounts(mount_v1, mount_v2, sizeof mount_v1) < 0) {
		snprintf(why, cap, "no /proc/self/mountinfo");
		return -1;
	}
	find_own_cgroups(rel_v1, rel_v2, sizeof rel_v1);
	const char *base = NULL, *rel = NULL;
	char probe[1100];
	if (*mount_v1) {
		base = mount_v1, rel = rel_v1;
	} else if (*mount_v2) {
		snprintf(probe, sizeof probe, "%s%s/cgroup.subtree_control", mount_v2, rel_v2);
		write_file(probe, "+pids"); /* may already be on, or refused: the mkdir tells */
		base = mount_v2, rel = rel_v2;
	} else {
		snprintf(why, cap, "no cgroup hierarchy is mounted");
		return -1;
	}
	char parent[1100];
	snprintf(parent, sizeof parent, "%s%s", base, strcmp(rel, "/") ? rel : "");
	remove_stale_cgroups(parent);
	snprintf(cgroup_dir, sizeof cgroup_dir, "%s/ipclab-%d", parent, (int)getpid());
	if (mkdir(cgroup_dir, 0755) < 0) {
		snprintf(why, cap, "cannot create a cgroup in %s: %s", parent, strerror(errno));
		cgroup_dir[0] = '\0';
		return -1;
	}
	char path[2200], value[32];
	snprintf(path, sizeof path, "%s/pids.max", cgroup_dir);
	snprintf(value, sizeof value, "%d", FORK_LIMIT);
	if (write_file(path, value) < 0) {
		snprintf(why, cap, "cannot set pids.max in %s: %s", parent, strerror(errno));
		rmdir(cgroup_dir);
		cgroup_dir[0] = '\0';
		return -1;
	}
	make_cpu_cgroup(mount_v2, rel_v2);
	return 0;
}

/* Whether the comma-separated OPTS has the word W ("cpu" is not "cpuset"). */
static bool has_option(const char *opts, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, w, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* A run's processes share the CPU with other runs as one group, however many it forks: with
 * several students graded at once, one student's fork bomb then slows only that student.
 * cgroup v2 does it with the cpu controller on the pids group's parent; v1 needs a group in its
 * cpu hierarchy. Best effort: without it, a run competes process by process, as before. */
static void make_cpu_cgroup(const char *mount_v2, const char *rel_v2)
{
	char line[1024], mnt[512] = "", rel[512] = "/";
	if (*mount_v2 && !strncmp(cgroup_dir, mount_v2, strlen(mount_v2))) {
		char probe[1100];
		snprintf(probe, sizeof probe, "%s%s/cgroup.subtree_control", mount_v2, rel_v2);
		write_file(probe, "+cpu");
		return;
	}
	FILE *f = fopen("/proc/self/mountinfo", "re");
	while (f && fgets(line, sizeof line, f)) {
		char m[512], fstype[64], opts[512];
		char *dash = strstr(line, " - ");
		if (dash && sscanf(line, "%*s %*s %*s %*s %511s", m) == 1 &&
		    sscanf(dash + 3, "%63s %*s %511s", fstype, opts) == 2 &&
		    !strcmp(fstype, "cgroup") && has_option(opts, "cpu"))
			snprintf(mnt, sizeof mnt, "%s", m);
	}
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && (*c2 = '\0', has_option(c1 + 1, "cpu")))
			snprintf(rel, sizeof rel, "%s", c2 + 1);
	}
	if (f)
		fclose(f);
	if (!*mnt)
		return;
	char parent[1100];
	snprintf(parent, sizeof parent, "%s%s", mnt, strcmp(rel, "/") ? rel : "");
	remove_stale_cgroups(parent);
	snprintf(cpu_cgroup_dir, sizeof cpu_cgroup_dir, "%s/ipclab-%d", parent, (int)getpid());
	if (mkdir(cpu_cgroup_dir, 0755) < 0)
		cpu_cgroup_dir[0] = '\0';
}

static int join_cgroup(pid_t pid)
{
	char path[2200], value[32];
	snprintf(value, sizeof value, "%d", (int)pid);
	if (*cpu_cgroup_dir) {
		snprintf(path, sizeof path, "%s/cgroup.procs", cpu_cgroup_dir);
		write_file(path, value);
	}
	snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
	return write_file(path, value);
}

static void remove_cgroups(void)
{
	if (*cgroup_dir)
		empty_and_remove_cgroup(cgroup_dir);
	if (*cpu_cgroup_dir)
		empty_and_remove_cgroup(cpu_cgroup_dir);
	cgroup_dir[0] = cpu_cgroup_dir[0] = '\0';
}

/* Counts the processes that belong to UID (RLIMIT_NPROC counts them all). */
static int count_processes(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s", e->d_name);
		if (stat(path, &st) == 0 && st.st_uid == uid)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int enter_user_namespace(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER) < 0)
		return -1;
	/* Map our own ids onto themselves, so getuid() and SO_PEERCRED still tell the truth. */
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}

/* The unprivileged ids a test runs as when root has no other fork limit: nobody's, or the uid in
 * IPCLAB_DROP_UID. RLIMIT_NPROC counts every process of a uid, so runs side by side (a class
 * graded in parallel) each get their own uid, or one run's fork bomb would starve the others. */
enum { DROP_GID = 65534 };
static uid_t drop_uid_value(void)
{
	const char *v = getenv("IPCLAB_DROP_UID");
	char *end;
	long uid = v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && uid >= 1000 && uid <= 65534 ? (uid_t)uid : 65534;
}
#define DROP_UID ((int)drop_uid_value())

void contain_enter_test(const char *dir, const char *mqdir)
{
	if (!drop_uid)
		return;
	/* RLIMIT_NPROC binds only a process whose real uid is not root: become nobody, with a
	   limit of FORK_LIMIT more processes, and own the directories the test works in. */
	if (chown(dir, DROP_UID, DROP_GID) < 0) {
		fprintf(stderr, "ipclab: could not hand %s to uid %d: %s\n", dir, DROP_UID, strerror(errno));
		_exit(3);
	}
	if (*mqdir)
		(void)!chown(mqdir, DROP_UID, DROP_GID); /* only the leak check reads it */
	int mine = count_processes(DROP_UID);
	struct rlimit rl = {(rlim_t)(mine + FORK_LIMIT), (rlim_t)(mine + FORK_LIMIT)};
	if (setrlimit(RLIMIT_NPROC, &rl) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(DROP_GID, DROP_GID, DROP_GID) < 0 || setresuid(DROP_UID, DROP_UID, DROP_UID) < 0) {
		fprintf(stderr, "ipclab: could not drop to uid %d: %s\n", DROP_UID, strerror(errno));
		_exit(3);
	}
	prctl(PR_SET_DUMPABLE, 1); /* keep /proc/self readable for the leak checks */
}

/* Whether another uid can run PATH: every folder on the way searchable, the file executable. */
static bool reachable_by_others(const char *path)
{
	char buf[4096];
	struct stat st;
	snprintf(buf, sizeof buf, "%s", path);
	for (char *slash = buf; (slash = strchr(slash + 1, '/'));) {
		*slash = '\0';
		bool ok = stat(buf, &st) == 0 && (st.st_mode & S_IXOTH);
		*slash = '/';
		if (!ok)
			return false;
	}
	return stat(buf, &st) == 0 && (st.st_mode & S_IXOTH);
}

/* The outer process: forward a signal as the runner's death; the main loop cleans up. */
static void on_outer_signal(int sig)
{
	got_signal = sig;
	if (inner_pid > 0)
		raw_kill(inner_pid, SIGKILL);
}

/* Kills and reaps every descendant of the caller (without a namespace, in the runner or the
   outer process). */
static void sweep_descendants(void)
{
	static pid_t victims[4096];
	for (int round = 0; round < 50; round++) {
		int n = probe_descendants(getpid(), victims, 4096);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++)
			raw_kill(victims[i], SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(1000);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The pids cgroup's count of forks refused at its limit ("max N" in pids.events), or -1. */
static long fork_refusals(const char *events)
{
	char buf[128];
	int fd = open(events, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *max = strstr(buf, "max ");
	return max ? atol(max + 4) : -1;
}

/* Kills every process of the cgroup but the runner: the test that hit the limit, and all it forked.
 */
static void stop_fork_bomb(void)
{
	char procs[2200];
	snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup_dir);
	bombs->stopping = 1; /* the runner starts no test until every process is gone */
	bombs->hits++;	     /* before the kill: the runner reads it when it sees its test killed */
	for (int round = 0; round < 200; round++) {
		FILE *f = fopen(procs, "re");
		int pid, killed = 0;
		while (f && fscanf(f, "%d", &pid) == 1)
			if (pid != inner_pid && raw_kill(pid, SIGKILL) == 0)
				killed++;
		if (f)
			fclose(f);
		if (!killed)
			break;
		usleep(1000);
	}
	bombs->stopping = 0;
}

/*
 * Waits for the runner to end, watching for a fork bomb when there is a pids cgroup. At the
 * limit, every fork() the bomb retries still copies and then tears down its address space (the
 * cgroup refuses it late), under locks every process on the machine shares, such as those of
 * libc's mappings: fork() anywhere else then stalled for up to 9 s, and a class graded side by
 * side lost marks on timeouts. So the first refused fork ends the test, at once.
 */
static void wait_runner(int *status)
{
	char events[2200];
	snprintf(events, sizeof events, "%s/pids.events", cgroup_dir);
	long seen = *cgroup_dir && bombs ? fork_refusals(events) : -1;
	for (;;) {
		pid_t r = waitpid(inner_pid, status, seen < 0 ? 0 : WNOHANG);
		if (r == inner_pid || (r < 0 && errno != EINTR))
			return;
		if (seen < 0)
			continue;
		long now = fork_refusals(events);
		if (now > seen) {
			stop_fork_bomb();
			seen = fork_refusals(
			    events); /* refused while it was being stopped: the same bomb */
		}
		struct timespec tick = {0, 10 * 1000 * 1000};
		nanosleep(&tick, NULL);
	}
}

unsigned contain_limit_hits(void)
{
	/* A test starts only when no stop is under way: the stop would take it for the bomb. */
	for (int i = 0; bombs && bombs->stopping && i < 5000; i++)
		usleep(1000);
	return bombs ? bombs->hits : 0;
}

/* Runs in the outer process until the runner ends; never returns. */
static void supervise(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_outer_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int status = 0;
	wait_runner(&status);
	inner_pid = 0;
	sweep_descendants(); /* orphans of a runner that died are ours: we are a subreaper too */
	remove_cgroups();
	remove_tree(run_dir);
	if (got_signal) {
		signal(got_signal, SIG_DFL);
		raise(got_signal);
	}
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	fprintf(stderr, "ipclab: the grader was killed by signal %d\n", WTERMSIG(status));
	exit(3);
}

/* In the runner: a new mount namespace with our own /proc. Returns NULL or what failed. */
static const char *private_proc(char *buf, size_t cap)
{
	if (unshare(CLONE_NEWNS) < 0) {
		snprintf(buf, cap, "unshare(mount namespace) refused: %s", strerror(errno));
		return buf;
	}
	root_private = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	if (!root_private) {
		/* In a chroot "/" is not a mount point. Making the /proc mount private is enough to
		   mount our own proc over it without the host seeing it. */
		int e = errno;
		if (mount(NULL, "/proc", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			snprintf(buf, cap, "neither / (%s: a chroot?) nor /proc (%s) could be made private",
				 strerror(e), strerror(errno));
			return buf;
		}
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		snprintf(buf, cap, "mounting /proc for the PID namespace refused: %s", strerror(errno));
		return buf;
	}
	/* Every test makes and removes its folder and files in the run directory, and Check makes
	   two temporary files per test: on a disk file system (ext4 /tmp) that was a fifth of the
	   runner's CPU. A tmpfs seen only in this namespace costs no disk; the outer process still
	   holds the .lock underneath and removes the folder at the end. Optional: on failure the
	   run directory stays on disk, as before. Never in a chroot, where the mount would show. */
	if (root_private &&
	    mount("ipclab-run", run_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0)
		setenv("TEMP", run_dir, 1); /* where Check makes its temporary files */
	return NULL;
}

/*
 * Tries to start the runner as PID 1 of a new PID namespace. Returns true in the runner.
 * In the outer process it either never returns (the runner ran) or returns false with WHY
 * filled in, having reaped the failed runner: then the caller falls back.
 */
static bool start_in_pid_namespace(char *why, size_t cap)
{
	int sync[2], err[2];
	if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		snprintf(why, cap, "pipe: %s", strerror(errno));
		return false;
	}
	fflush(NULL);
	/* clone() with CLONE_NEWPID, like fork(): only the child enters the namespace. */
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		snprintf(why, cap, "PID namespace refused: %s", strerror(errno));
		close(sync[0]), close(sync[1]), close(err[0]), close(err[1]);
		return false;
	}
	if (pid == 0) {
		char c, buf[300];
		close(sync[1]);
		close(err[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(sync[0], &c, 1) != 1) /* wait until we are in the cgroup */
			_exit(EXIT_SETUP_FAILED);
		close(sync[0]);
		const char *failed = private_proc(buf, sizeof buf);
		if (failed) {
			if (write(err[1], failed, strlen(failed)) < 0)
				_exit(EXIT_SETUP_FAILED);
			_exit(EXIT_SETUP_FAILED);
		}
		close(err[1]);
		pid_ns = true;
		return true;
	}
	close(sync[0]);
	close(err[1]);
	inner_pid = pid;
	if (*cgroup_dir)
		join_cgroup(pid);
	if (write(sync[1], "g", 1) != 1)
		raw_kill(pid, SIGKILL);
	close(sync[1]);
	char msg[300];
	ssize_t n = read(err[0], msg, sizeof msg - 1);
	close(err[0]);
	if (n <= 0)
		supervise(); /* the runner is running: the pipe closed on exec-free success */
	msg[n] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	inner_pid = 0;
	snprintf(why, cap, "%s", msg);
	return false;
}

/* Caps the number of processes of the run; LIMIT gets what was set up, for the sandbox line. */
static void limit_forks(bool root, char *limit, size_t cap)
{
	char cg_why[300] = "";
	if (!root) {
		/* Not root: RLIMIT_NPROC works, and a user namespace may give us the rest. */
		int mine = count_processes(getuid());
		struct rlimit rl = {(rlim_t)(mine + FORK_LIMIT), (rlim_t)(mine + FORK_LIMIT)};
		if (setrlimit(RLIMIT_NPROC, &rl) == 0)
			snprintf(limit, cap, "at most %d more processes (RLIMIT_NPROC)",
				 FORK_LIMIT);
		else
			snprintf(limit, cap, "no fork limit available");
	} else if (make_pids_cgroup(cg_why, sizeof cg_why) == 0) {
		snprintf(limit, cap, "at most %d processes (pids cgroup)%s", FORK_LIMIT,
			 *cpu_cgroup_dir
			     ? ", the CPU shared with other runs as one group (cpu cgroup)"
			     : "");
	} else if (reachable_by_others(grader_exe())) {
		drop_uid = true;
		snprintf(limit, cap,
			 "no pids cgroup (%s): tests run as uid %d with at most %d more processes "
			 "(RLIMIT_NPROC)",
			 cg_why, DROP_UID, FORK_LIMIT);
	} else {
		snprintf(limit, cap,
			 "no fork limit: no pids cgroup (%s), and uid %d could not run %s", cg_why,
			 DROP_UID, grader_exe());
	}
}

/* Tries a user namespace (when not root), then the PID namespace. Returns true in the runner,
   when it is PID 1 of a new namespace; false with WHY filled in when the caller must fall back. */
static bool try_namespaces(bool root, bool *userns, char *why, size_t cap)
{
	if (getenv("IPCLAB_NO_NAMESPACES")) {
		/* Behave as on a kernel that refuses namespaces: the self-test proves this mode too. */
		snprintf(why, cap, "disabled by IPCLAB_NO_NAMESPACES");
		may_unshare = false;
		return false;
	}
	if (!root) {
		*userns = enter_user_namespace() == 0;
		if (!*userns)
			snprintf(why, cap, "user namespace refused: %s", strerror(errno));
	}
	if ((root || *userns) && start_in_pid_namespace(why, cap))
		return true;
	may_unshare = root || *userns;
	return false;
}

/* No PID namespace: forks the runner as a plain child that sweeps its descendants (a
   subreaper). The outer process supervises it and never returns; the runner returns. */
static void start_as_subreaper(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0) {
		perror("ipclab: pipe");
		exit(3);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("ipclab: fork");
		exit(3);
	}
	if (pid > 0) {
		close(sync[0]);
		inner_pid = pid;
		if (*cgroup_dir && join_cgroup(pid) < 0)
			remove_cgroups();
		if (write(sync[1], "g", 1) != 1)
			raw_kill(pid, SIGKILL);
		close(sync[1]);
		supervise();
	}
	char c;
	close(sync[1]);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 1); /* not inherited: orphans of the tests must come to us */
	if (read(sync[0], &c, 1) != 1)
		_exit(3);
	close(sync[0]);
}

const char *contain_start(void)
{
	bool root = geteuid() == 0;
	bool userns = false;
	char limit[300] = "", why[400] = "";

	remove_stale_rundirs();
	void *page =
	    mmap(NULL, sizeof *bombs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bombs = page == MAP_FAILED ? NULL : page;
	if (make_rundir() < 0) {
		perror("ipclab: creating the run directory in /tmp");
		exit(3);
	}
	limit_forks(root, limit, sizeof limit);
	if (try_namespaces(root, &userns, why, sizeof why)) {
		snprintf(description, sizeof description,
			 "%sPID namespace (nothing escapes the run); each test in fresh IPC + "
			 "mount namespaces with a private /dev/shm%s; %s",
			 userns ? "user + " : "",
			 root_private ? "" : " (/ is not a mount point: queues found by name)",
			 limit);
		return description;
	}
	start_as_subreaper();
	snprintf(description, sizeof description,
		 "no PID namespace (%s): descendants are swept after each test; %s; %s", why,
		 may_unshare ? "per-test IPC + mount namespaces tried" : "unique names and explicit leak checks",
		 limit);
	return description;
}

int contain_strays(char *names, size_t cap)
{
	static pid_t pids[4096];
	char comm[64];
	int live = 0;
	names[0] = '\0';
	/* Orphans of a test that are still dying get a moment; a daemon does not leave. */
	for (int round = 0; round < 30; round++) {
		int n = pid_ns ? 0 : probe_descendants(getpid(), pids, 4096);
		if (pid_ns) {
			DIR *d = opendir("/proc");
			struct dirent *e;
			while (d && (e = readdir(d)) && n < 4096) {
				int pid = atoi(e->d_name);
				if (pid > 1)
					pids[n++] = pid;
			}
			if (d)
				closedir(d);
		}
		live = 0;
		names[0] = '\0';
		for (int i = 0; i < n; i++) {
			char path[64], buf[512], state = 'Z';
			snprintf(path, sizeof path, "/proc/%d/stat", (int)pids[i]);
			FILE *f = fopen(path, "re");
			if (f && fgets(buf, sizeof buf, f)) {
				char *rp = strrchr(buf, ')');
				if (rp)
					state = rp[2];
			}
			if (f)
				fclose(f);
			if (state == 'Z' || state == 'X')
				continue; /* already dead: only the reaping is left, and that is ours */
			live++;
			size_t used = strlen(names);
			if (used + 80 < cap)
				snprintf(names + used, cap - used, "%s%s (pid %d)", used ? ", " : "",
					 probe_comm(pids[i], comm, sizeof comm), (int)pids[i]);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!live)
			return 0;
		usleep(10000);
	}
	return live;
}

void contain_sweep(void)
{
	if (pid_ns) {
		/* As PID 1, kill(-1) reaches every other process of the namespace, setsid() or not. */
		raw_kill(-1, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0)
			;
	} else {
		sweep_descendants(); /* the runner is a subreaper: orphans of the test are ours */
	}
}
