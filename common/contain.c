/* contain.c: keeps a whole grading run contained: PID namespace, fork limit, sweep between tests. */
#define _GNU_SOURCE
#include "grader.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FORK_LIMIT = 256 };

static bool pid_ns;          /* the runner is PID 1 of its own namespace */
static bool may_unshare = true;
static char description[512];
static char cgroup_dir[2048]; /* removed by the outer process when the run ends */
static pid_t inner_pid;

int raw_kill(int pid, int sig)
{
	return (int)syscall(SYS_kill, pid, sig);
}

bool contain_may_unshare(void)
{
	return may_unshare;
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

/* Creates a pids cgroup next to ours (cgroup v1 or v2); returns 0 and fills cgroup_dir. */
static int make_pids_cgroup(void)
{
	char line[1024], mount_v1[512] = "", mount_v2[512] = "", rel_v1[512] = "", rel_v2[512] = "";
	FILE *f = fopen("/proc/self/mountinfo", "r");
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
			snprintf(mount_v1, sizeof mount_v1, "%s", mnt);
		else if (!strcmp(fstype, "cgroup2") && !*mount_v2)
			snprintf(mount_v2, sizeof mount_v2, "%s", mnt);
	}
	fclose(f);
	if ((f = fopen("/proc/self/cgroup", "r"))) {
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\n")] = '\0';
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (!c2)
				continue;
			*c2 = '\0';
			if (!strcmp(c1 + 1, ""))
				snprintf(rel_v2, sizeof rel_v2, "%s", c2 + 1);
			else if (strstr(c1 + 1, "pids"))
				snprintf(rel_v1, sizeof rel_v1, "%s", c2 + 1);
		}
		fclose(f);
	}
	const char *base = NULL, *rel = NULL;
	char probe[1100];
	if (*mount_v1) {
		base = mount_v1, rel = rel_v1;
	} else if (*mount_v2) {
		snprintf(probe, sizeof probe, "%s%s/cgroup.subtree_control", mount_v2, rel_v2);
		write_file(probe, "+pids"); /* may already be on, or refused: the mkdir tells */
		base = mount_v2, rel = rel_v2;
	} else {
		return -1;
	}
	snprintf(cgroup_dir, sizeof cgroup_dir, "%s%s/ipclab-%d", base, strcmp(rel, "/") ? rel : "",
		 (int)getpid());
	if (mkdir(cgroup_dir, 0755) < 0) {
		cgroup_dir[0] = '\0';
		return -1;
	}
	char path[2200], value[32];
	snprintf(path, sizeof path, "%s/pids.max", cgroup_dir);
	snprintf(value, sizeof value, "%d", FORK_LIMIT);
	if (write_file(path, value) < 0) {
		rmdir(cgroup_dir);
		cgroup_dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int join_cgroup(pid_t pid)
{
	char path[2200], value[32];
	snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
	snprintf(value, sizeof value, "%d", (int)pid);
	return write_file(path, value);
}

static void remove_cgroup(void)
{
	if (!*cgroup_dir)
		return;
	for (int i = 0; i < 200 && rmdir(cgroup_dir) < 0 && errno == EBUSY; i++)
		usleep(10000); /* the namespace's processes are still being torn down */
	cgroup_dir[0] = '\0';
}

static void on_outer_signal(int sig)
{
	if (inner_pid > 0)
		raw_kill(inner_pid, SIGKILL);
	while (waitpid(inner_pid, NULL, 0) < 0 && errno == EINTR)
		;
	remove_cgroup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Counts the processes that belong to our real uid (RLIMIT_NPROC counts them all). */
static int count_my_processes(void)
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
		if (stat(path, &st) == 0 && st.st_uid == getuid())
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

const char *contain_start(void)
{
	bool root = geteuid() == 0;
	bool userns = false;
	char limit[160] = "";
	char why[160] = "";

	if (getenv("IPCLAB_NO_NAMESPACES")) {
		/* Behave as on a kernel that refuses namespaces: the self-test proves this mode too. */
		snprintf(why, sizeof why, "disabled by IPCLAB_NO_NAMESPACES");
		if (root && make_pids_cgroup() == 0)
			snprintf(limit, sizeof limit, "at most %d processes (pids cgroup)", FORK_LIMIT);
		else
			snprintf(limit, sizeof limit, "no fork limit available");
		may_unshare = false;
		goto fallback_no_userns;
	}
	if (root && make_pids_cgroup() == 0)
		snprintf(limit, sizeof limit, "at most %d processes (pids cgroup)", FORK_LIMIT);
	if (!root) {
		/* Not root: RLIMIT_NPROC works, and a user namespace may give us the rest. */
		int mine = count_my_processes();
		struct rlimit rl = {(rlim_t)(mine + FORK_LIMIT), (rlim_t)(mine + FORK_LIMIT)};
		if (setrlimit(RLIMIT_NPROC, &rl) == 0)
			snprintf(limit, sizeof limit, "at most %d more processes (RLIMIT_NPROC)",
				 FORK_LIMIT);
		userns = enter_user_namespace() == 0;
		if (!userns)
			snprintf(why, sizeof why, "user namespace refused: %s", strerror(errno));
	}
	if (!*limit)
		snprintf(limit, sizeof limit, "no fork limit available");

	if ((root || userns) && unshare(CLONE_NEWPID) == 0) {
		int sync[2];
		if (pipe2(sync, O_CLOEXEC) < 0)
			goto fallback;
		fflush(NULL);
		inner_pid = fork();
		if (inner_pid < 0)
			goto fallback;
		if (inner_pid == 0) {
			/* PID 1 of the new namespace: everything the tests start lives and dies here. */
			char c;
			close(sync[1]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (read(sync[0], &c, 1) != 1) /* wait until we are in the cgroup */
				_exit(112);
			close(sync[0]);
			if (unshare(CLONE_NEWNS) < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
				_exit(111); /* the outer process falls back */
			pid_ns = true;
			snprintf(description, sizeof description,
				 "%sPID namespace (nothing escapes the run); each test in fresh IPC + mount "
				 "namespaces with a private /dev/shm; %s",
				 userns ? "user + " : "", limit);
			return description;
		}
		close(sync[0]);
		if (*cgroup_dir)
			join_cgroup(inner_pid);
		if (write(sync[1], "g", 1) != 1)
			raw_kill(inner_pid, SIGKILL);
		close(sync[1]);
		signal(SIGINT, on_outer_signal);
		signal(SIGTERM, on_outer_signal);
		signal(SIGHUP, on_outer_signal);
		int status;
		while (waitpid(inner_pid, &status, 0) < 0 && errno == EINTR)
			;
		inner_pid = 0;
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 111)) {
			remove_cgroup();
			if (WIFEXITED(status))
				exit(WEXITSTATUS(status));
			fprintf(stderr, "ipclab: the grader was killed by signal %d\n", WTERMSIG(status));
			exit(3);
		}
		snprintf(why, sizeof why, "could not mount /proc for a PID namespace");
	} else if (root || userns) {
		snprintf(why, sizeof why, "PID namespace refused: %s", strerror(errno));
	}
fallback:
	/* No PID namespace: adopt orphans as a subreaper and sweep our descendants instead. */
	if (*cgroup_dir && join_cgroup(getpid()) < 0)
		remove_cgroup();
	may_unshare = root || userns;
fallback_no_userns:
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(description, sizeof description,
		 "no PID namespace (%s): descendants are swept after each test; %s; %s", why,
		 may_unshare ? "per-test IPC + mount namespaces tried" : "unique names and explicit leak checks",
		 limit);
	return description;
}

void contain_sweep(void)
{
	if (pid_ns) {
		/* As PID 1, kill(-1) reaches every other process of the namespace, setsid() or not. */
		raw_kill(-1, SIGKILL);
	} else {
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
	}
	while (waitpid(-1, NULL, pid_ns ? 0 : WNOHANG) > 0)
		;
}
