/* demo.c: Lab 02 demo: one region at two addresses, lost updates with and without locks, what each fix costs, file mappings. */
#define _GNU_SOURCE
#include "shmcount.h"
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int (*inc_fn)(struct shm_counter *);
static const struct {
	const char *name;
	inc_fn inc;
} variants[] = {{"unlocked ", counter_inc_naive},
		{"atomic   ", counter_inc_atomic},
		{"mutex    ", counter_inc_mutex},
		{"semaphore", counter_inc_sem}};
enum { NVARIANTS = 4 };

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
	printf("   (%s() is not implemented yet: fill in the TODOs in shmcount.c)\n", fn);
	return 1;
}

static long value_of(struct shm_counter *c, inc_fn inc)
{
	return inc == counter_inc_atomic ? atomic_load(&c->atomic_value) : c->value;
}

struct job {
	struct shm_counter *c;
	inc_fn inc;
	long per;
};

static void *work(void *arg)
{
	struct job *j = arg;
	for (long i = 0; i < j->per; i++)
		if (j->inc(j->c) < 0)
			break;
	return NULL;
}

/* N threads (or N processes) each call INC PER times; returns how far the counter got. */
static long crowd(struct shm_counter *c, inc_fn inc, int n, long per, int processes)
{
	c->value = 0;
	atomic_store(&c->atomic_value, 0);
	struct job j = {c, inc, per};
	pthread_t t[8];
	pid_t pid[8];
	for (int i = 0; i < n; i++) {
		if (!processes) {
			pthread_create(&t[i], NULL, work, &j);
			continue;
		}
		pid[i] = fork();
		if (pid[i] == 0) { /* the child shares the mapping it inherited: one region */
			work(&j);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++) {
		if (processes)
			waitpid(pid[i], NULL, 0);
		else
			pthread_join(t[i], NULL);
	}
	return value_of(c, inc);
}

static void race_table(struct shm_counter *c, long per, const char *how)
{
	printf("   %s, 2 threads and 2 processes x %ld increments each (expected %ld):\n", how, per,
	       2 * per);
	for (int v = 0; v < NVARIANTS; v++) {
		errno = 0;
		if (variants[v].inc(c) < 0) {
			printf("     %s  ", variants[v].name);
			if (!not_done("counter_inc"))
				perror("increment");
			continue;
		}
		long th = crowd(c, variants[v].inc, 2, per, 0);
		long pr = crowd(c, variants[v].inc, 2, per, 1);
		printf("     %s  threads %8ld %-16s processes %8ld %s\n", variants[v].name, th,
		       th == 2 * per ? "(all there)" : "(updates LOST)", pr,
		       pr == 2 * per ? "(all there)" : "(updates LOST)");
	}
}

/* Nanoseconds per increment with N threads hammering one counter, hook off. */
static double cost(struct shm_counter *c, inc_fn inc, int n, long per)
{
	double t0 = now();
	crowd(c, inc, n, per, 0);
	return (now() - t0) * 1e9 / ((double)per * n);
}

static void file_demo(int shared)
{
	char path[] = "/tmp/ipclab-demo02-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	unlink(path); /* the file lives on through fd */
	char *p = file_map(fd, 4096, shared);
	if (!p) {
		if (!not_done("file_map"))
			perror("file_map");
		close(fd);
		return;
	}
	strcpy(p, "hello through the mapping");
	char back[32] = "";
	ssize_t n = pread(fd, back, sizeof back - 1, 0);
	back[n > 0 ? n : 0] = '\0';
	printf("   %s: wrote \"%s\" through it; read() of the file gives \"%s\"%s\n",
	       shared ? "MAP_SHARED " : "MAP_PRIVATE", p, back,
	       back[0] ? "" : " (zeros: the file never saw it)");
	munmap(p, 4096);
	close(fd);
}

int main(int argc, char **argv)
{
	long per = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	char name[64];
	snprintf(name, sizeof name, "/ipclab-demo02-%d", (int)getpid());

	printf("1. One region, two processes, two addresses:\n");
	struct shm_counter *c = counter_create(name);
	if (!c) {
		if (!not_done("counter_create"))
			perror("counter_create");
		printf("\n5. File mappings:\n");
		file_demo(1);
		file_demo(0);
		return 0;
	}
	c->value = 7;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct shm_counter *o = counter_attach(name);
		if (!o) {
			if (!not_done("counter_attach"))
				perror("counter_attach");
			_exit(0);
		}
		printf("   child  (pid %d) attached at %p, reads value = %ld, stores 8\n", (int)getpid(),
		       (void *)o, o->value);
		o->value = 8;
		counter_detach(o);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("   parent (pid %d) created it at  %p, now reads value = %ld\n", (int)getpid(), (void *)c,
	       c->value);

	printf("\n2. The race, as it happens on its own (race window off):\n");
	race_set(RACE_OFF);
	race_table(c, per, "race_window() does nothing");

	printf("\n3. The race made visible (race window widened):\n");
	race_set(RACE_YIELD);
	race_from_env(); /* IPCLAB_RACE=sleep|yield|off overrides */
	const char *mode = getenv("IPCLAB_RACE") ? getenv("IPCLAB_RACE") : "yield";
	char how[80];
	snprintf(how, sizeof how, "race_window() = %s", mode);
	race_table(c, per / 100 > 0 ? per / 100 : 1, how);
	race_set(RACE_OFF);

	printf("\n4. What each increment costs (race window off; ratio to the unlocked increment):\n");
	if (counter_inc_naive(c) < 0) {
		not_done("counter_inc_naive");
	} else {
		double ns[2][NVARIANTS];
		for (int n = 1; n <= 2; n++)
			for (int v = 0; v < NVARIANTS; v++)
				ns[n - 1][v] = variants[v].inc(c) < 0 ? -1 : cost(c, variants[v].inc, n, per * 2);
		printf("                  1 thread             2 threads, one counter\n");
		for (int v = 0; v < NVARIANTS; v++) {
			printf("     %s", variants[v].name);
			for (int n = 0; n < 2; n++) {
				if (ns[n][v] < 0)
					printf("   (not implemented)  ");
				else
					printf("   %6.1f ns  x%-5.1f ", ns[n][v], ns[n][v] / ns[n][0]);
			}
			printf("\n");
		}
		printf("   (With 2 threads the time is wall time per increment, while both run at once.)\n");
	}

	printf("\n5. File mappings:\n");
	file_demo(1);
	file_demo(0);

	if (counter_destroy(name, c) < 0) {
		if (!not_done("counter_destroy"))
			perror("counter_destroy");
		munmap(c, sizeof *c);
		shm_unlink(name);
	}
	return 0;
}
