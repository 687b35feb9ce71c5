/* demo.c: Lab 01 demo: see stdio duplication, fork+exec, clone with and without CLONE_VM, and fork's cost. */
#define _GNU_SOURCE
#include "forkclone.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in forkclone.c)\n", fn);
	return 1;
}

/* Part 1 shows the bug itself, without your code: a buffered line, a fork, an exit(). */
static void stdio_copies(int flush_first)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO); /* stdout is now a pipe, so stdio buffers it fully */
	close(p[1]);
	setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
	printf("    hello from before fork()\n");
	if (flush_first)
		fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		exit(0); /* exit() flushes this process's copy of the buffer */
	waitpid(pid, NULL, 0);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	char buf[512];
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	printf("   %s, the pipe received:\n%s", flush_first ? "with fflush() before fork()" : "without fflush()", buf);
}

static int set_flag(void *arg)
{
	*(volatile int *)arg = 1;
	return 0;
}

static void clone_demo(int share_vm)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	volatile int flag = 0;
	pid_t pid = spawn_clone(set_flag, (void *)&flag, stack, sizeof stack, share_vm);
	if (pid < 0) {
		if (!not_done("spawn_clone"))
			perror("spawn_clone");
		return;
	}
	int status;
	if (reap(pid, &status) < 0 && !not_done("reap"))
		perror("reap");
	printf("   share_vm=%d: the child set flag = 1; the parent now sees flag = %d%s\n", share_vm, flag,
	       share_vm ? " (one memory)" : " (the child changed its own copy)");
}

/* Times COUNT spawns of /bin/true, with spawn_fork or with posix_spawn. */
static double time_spawns(int count, int use_posix_spawn)
{
	char *argv[] = {"true", NULL};
	double t0 = now();
	for (int i = 0; i < count; i++) {
		pid_t pid;
		int status;
		if (use_posix_spawn) {
			if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0)
				return -1;
			waitpid(pid, &status, 0);
		} else {
			pid = spawn_fork("/bin/true", argv, -1, -1);
			if (pid < 0 || reap(pid, &status) < 0)
				return -1;
		}
	}
	return (now() - t0) / count;
}

int main(int argc, char **argv)
{
	size_t heap_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;

	printf("1. fork() copies stdio's buffer too (stdout redirected to a pipe):\n");
	stdio_copies(0);
	stdio_copies(1);

	printf("\n2. spawn_fork(\"/bin/echo\") with its stdout on a pipe:\n");
	int p[2];
	if (pipe2(p, O_CLOEXEC) == 0) {
		char *echo[] = {"echo", "hello from a child process", NULL};
		pid_t pid = spawn_fork("/bin/echo", echo, -1, p[1]);
		close(p[1]);
		if (pid < 0) {
			if (!not_done("spawn_fork"))
				perror("spawn_fork");
		} else {
			char buf[256];
			ssize_t n = read(p[0], buf, sizeof buf - 1);
			buf[n > 0 ? n : 0] = '\0';
			int status = 0;
			reap(pid, &status);
			printf("   read from the pipe: %s   child %d exited with %d\n", buf, (int)pid,
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		}
		close(p[0]);
	}

	printf("\n3. spawn_clone() with and without CLONE_VM:\n");
	clone_demo(1);
	clone_demo(0);

	printf("\n4. What fork() costs as the parent grows (\"A fork() in the road\"):\n");
	enum { SPAWNS = 40 };
	double small_fork = time_spawns(SPAWNS, 0), small_spawn = time_spawns(SPAWNS, 1);
	size_t bytes = heap_mib << 20;
	char *heap = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (small_fork < 0 || heap == MAP_FAILED) {
		printf("   (needs a working spawn_fork and reap)\n");
		return 0;
	}
	memset(heap, 1, bytes); /* touch every page: fork must copy the page tables of all of it */
	double big_fork = time_spawns(SPAWNS, 0), big_spawn = time_spawns(SPAWNS, 1);
	printf("   per spawn of /bin/true, parent with a small heap: fork+exec %6.0f us, posix_spawn %6.0f us\n",
	       small_fork * 1e6, small_spawn * 1e6);
	printf("   per spawn of /bin/true, parent with %4zu MiB:    fork+exec %6.0f us, posix_spawn %6.0f us\n",
	       heap_mib, big_fork * 1e6, big_spawn * 1e6);
	printf("   fork+exec got %.1fx slower as the heap grew; posix_spawn %.1fx (it does not copy the\n"
	       "   address space: glibc starts the child with CLONE_VM | CLONE_VFORK).\n",
	       big_fork / small_fork, big_spawn / small_spawn);
	munmap(heap, bytes);
	return 0;
}
