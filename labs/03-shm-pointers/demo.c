/* demo.c: Lab 03 demo: one region at two addresses, offsets that work, a raw pointer that crashes, a shared log. */
#define _GNU_SOURCE
#include "shmlist.h"
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SIZE = 64 * 1024 };

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in shmlist.c)\n", fn);
	return 1;
}

/* In a child that inherited the parent's mapping at OLD: drop it and put something else there,
   so that attaching again must give a different address, as in an unrelated process. */
static void move_away(void *old, size_t size)
{
	munmap(old, size);
	mmap(old, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
}

static void print_text(const char *text, void *ctx)
{
	printf("      %s: \"%s\" (at %p)\n", (const char *)ctx, text, (const void *)text);
}

static void part1(const char *name)
{
	char *base = region_create(name, SIZE);
	if (!base) {
		if (!not_done("region_create"))
			perror("region_create");
		return;
	}
	if (list_init(base, SIZE) < 0 || list_push(base, SIZE, "written by the parent") < 0 ||
	    list_push(base, SIZE, "offsets, not pointers") < 0) {
		if (!not_done("list_init/list_push"))
			perror("list_push");
		region_destroy(name, base, SIZE);
		return;
	}
	printf("   parent: region mapped at %p; head holds offset %llu\n", (void *)base,
	       (unsigned long long)((struct shml_header *)base)->head);
	list_walk(base, SIZE, print_text, "parent");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		move_away(base, SIZE);
		size_t size;
		char *mine = region_attach(name, &size);
		if (!mine) {
			if (!not_done("region_attach"))
				perror("region_attach");
			fflush(stdout);
			_exit(1);
		}
		printf("   child:  the same object mapped at %p (%s)\n", (void *)mine,
		       mine != base ? "a different address" : "the same address, by chance");
		if (list_walk(mine, size, print_text, "child ") < 0 && !not_done("list_walk"))
			perror("list_walk");
		region_detach(mine, size);
		fflush(stdout); /* _exit does not flush stdio */
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	region_destroy(name, base, SIZE);
}

/* Part 2 does not use your code: it shows the bug itself, a raw pointer stored in the region. */
static void part2(const char *name)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, SIZE) < 0)
		return;
	char *base = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	strcpy(base + 64, "I live at offset 64");
	char **slot = (char **)base;
	*slot = base + 64; /* the mistake: an address, meaningful only in this mapping */
	printf("   parent: region at %p stores the pointer %p (= base + 64)\n", (void *)base, (void *)*slot);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		move_away(base, SIZE);
		char *mine = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		char *stored = *(char **)mine;
		printf("   child:  region at %p; via the offset: \"%s\"\n", (void *)mine, mine + 64);
		printf("   child:  now following the stored pointer %p ...\n", (void *)stored);
		fflush(stdout);
		printf("   child:  \"%s\"\n", stored); /* not our mapping any more: crashes */
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		printf("   parent: the child was killed by %s: %s\n", sigabbrev_np(WTERMSIG(status)) ?: "a signal",
		       strsignal(WTERMSIG(status)));
	else
		printf("   parent: the child exited with %d\n", WEXITSTATUS(status));
	munmap(base, SIZE);
	close(fd);
	shm_unlink(name);
}

static void part3(int writers, int each)
{
	char *log = mmap(NULL, SIZE * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (log_init(log, SIZE * 4) < 0) {
		if (!not_done("log_init"))
			perror("log_init");
		munmap(log, SIZE * 4);
		return;
	}
	for (int w = 0; w < writers; w++)
		if (fork() == 0) {
			for (int i = 0; i < each; i++) {
				char rec[32];
				int n = snprintf(rec, sizeof rec, "writer %d record %d", w, i);
				if (log_append(log, SIZE * 4, rec, (uint32_t)n) < 0) {
					if (w == 0 && !not_done("log_append"))
						perror("log_append");
					fflush(stdout);
					_exit(1);
				}
			}
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	ssize_t n = log_walk(log, SIZE * 4, NULL, NULL);
	if (n < 0 && !not_done("log_walk"))
		perror("log_walk");
	if (n >= 0)
		printf("   %d writers x %d appends: the log holds %zd records (%s)\n", writers, each, n,
		       n == (ssize_t)writers * each ? "none lost" : "records were LOST");
	munmap(log, SIZE * 4);
}

int main(int argc, char **argv)
{
	race_from_env(); /* IPCLAB_RACE=yield widens the window between reading and publishing tail */
	int each = argc > 1 ? atoi(argv[1]) : 1000;
	char name[64];
	snprintf(name, sizeof name, "/ipclab-demo03-%d", (int)getpid());

	printf("1. One shm object, two processes, two addresses; the list holds offsets:\n");
	part1(name);
	printf("\n2. The same idea with a raw pointer stored in the region:\n");
	part2(name);
	printf("\n3. A log that 4 processes extend at once, without a lock (IPCLAB_RACE=%s):\n",
	       getenv("IPCLAB_RACE") ? getenv("IPCLAB_RACE") : "off");
	part3(4, each > 0 && each <= 2000 ? each : 1000);
	return 0;
}
