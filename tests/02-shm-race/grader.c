/* grader.c: Lab 02 tests: a shared counter's life, lost updates made visible, locks across processes. */
#define _GNU_SOURCE
#include "grader.h"
#include "shmcount.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define CSIZE sizeof(struct shm_counter)

/* ---- Helpers --------------------------------------------------------------------------------- */

/* How many mappings of the shm object NAME this process has (/proc/self/maps lists them as
   /dev/shm/NAME, with " (deleted)" once the name was removed). */
static int shm_maps(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	char line[512], want[300];
	snprintf(want, sizeof want, "/dev/shm%s", name);
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *p = strstr(line, want);
		if (p && (p[strlen(want)] == '\0' || !strcmp(p + strlen(want), " (deleted)")))
			n++;
	}
	fclose(f);
	return n;
}

/* Size of the object NAME, or -1 if it does not exist. */
static long shm_size(const char *name)
{
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	long size = fstat(fd, &st) == 0 ? (long)st.st_size : -1;
	close(fd);
	return size;
}

/* Creates NAME ourselves, SIZE bytes of FILL: what a crashed run (or a stranger) leaves. */
static void plant(const char *name, size_t size, int fill, uint32_t magic)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert(fd >= 0);
	ck_assert(ftruncate(fd, (off_t)size) == 0);
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p != MAP_FAILED);
	memset(p, fill, size);
	if (size >= sizeof magic)
		memcpy(p, &magic, sizeof magic);
	munmap(p, size);
	close(fd);
}

/* The test's own cleanup, independent of the code under test. */
static void drop(const char *name, struct shm_counter *c)
{
	if (c)
		munmap(c, CSIZE);
	shm_unlink(name);
}

/* ---- Running increments: threads and processes ---------------------------------------------- */

typedef int (*inc_fn)(struct shm_counter *);

struct crowd {
	struct shm_counter *c;
	inc_fn inc;
	int per;
	pthread_barrier_t start;
	int failed_errno; /* first errno of a failed increment, 0 if none */
	pthread_mutex_t lock;
};

static void *thread_work(void *arg)
{
	struct crowd *w = arg;
	pthread_barrier_wait(&w->start); /* everyone starts together: contention is certain */
	for (int i = 0; i < w->per; i++)
		if (w->inc(w->c) < 0) {
			pthread_mutex_lock(&w->lock);
			if (!w->failed_errno)
				w->failed_errno = errno ? errno : EIO;
			pthread_mutex_unlock(&w->lock);
			break;
		}
	return NULL;
}

/* NTHREADS threads of this process each call INC PER times; returns the first failure's errno. */
static int run_threads(struct shm_counter *c, inc_fn inc, int nthreads, int per)
{
	struct crowd w = {.c = c, .inc = inc, .per = per};
	pthread_mutex_init(&w.lock, NULL);
	pthread_barrier_init(&w.start, NULL, (unsigned)nthreads);
	pthread_t t[16];
	for (int i = 0; i < nthreads; i++)
		ck_assert(pthread_create(&t[i], NULL, thread_work, &w) == 0);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&w.start);
	pthread_mutex_destroy(&w.lock);
	return w.failed_errno;
}

struct outcome {
	int finished; /* processes that did all their increments */
	int hung;     /* still running at the deadline (then killed) */
	int failed;   /* an increment returned -1 */
	int err;      /* its errno */
	char how[160]; /* how a crashed worker ended */
};

/* NPROC child processes (sharing C's mapping, inherited over fork) each call INC PER times, all
   starting at once. Waits at most DEADLINE seconds in all, then kills what is left. */
static struct outcome run_procs(struct shm_counter *c, inc_fn inc, int nproc, int per, double deadline)
{
	struct outcome o = {0};
	const char *san = getenv("IPCLAB_SANITIZE");
	int tsan = san && !strcmp(san, "thread");
	int go[2];
	ck_assert(pipe(go) == 0);
	pid_t pids[16];
	fflush(NULL);
	for (int i = 0; i < nproc; i++) {
		pids[i] = fork();
		ck_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go[1]);
			char b;
			ssize_t ignored = read(go[0], &b, 1); /* EOF: the parent says go */
			(void)ignored;
			for (int k = 0; k < per; k++)
				if (inc(c) < 0)
					_exit(errno > 0 && errno < 200 ? 10 + errno : 9);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int i = 0; i < nproc; i++) {
		int status;
		if (probe_wait(pids[i], &status, deadline) < 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &status, 0);
			o.hung++;
			deadline = 0.2; /* the others had their chance meanwhile */
			continue;
		}
		if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || (WEXITSTATUS(status) == 66 && tsan)))
			o.finished++; /* 66: ThreadSanitizer's exit status, inherited from a report */
		else if (WIFEXITED(status) && WEXITSTATUS(status) >= 9) {
			o.failed++;
			o.err = WEXITSTATUS(status) > 10 ? WEXITSTATUS(status) - 10 : EIO;
		} else {
			o.failed++;
			describe_status(status, o.how, sizeof o.how);
		}
	}
	return o;
}

static long value_of(struct shm_counter *c, inc_fn inc)
{
	return inc == counter_inc_atomic ? atomic_load(&c->atomic_value) : c->value;
}

/* A fresh counter for the increment tests: created by the code under test. */
static struct shm_counter *fresh(char *name, size_t cap)
{
	sb_name("count", name, cap);
	ledger_watch_shm(name);
	struct shm_counter *c = counter_create(name);
	require_implemented(c == NULL, "counter_create");
	ck_assert_msg(c != NULL,
		      "counter_create(\"%s\") failed with %s; the increment tests need it.", name,
		      errno_name(errno));
	return c;
}

/* A fresh counter on which INC is implemented (else the test stops there); *START is its value. */
static struct shm_counter *prepare(inc_fn inc, const char *fname, char *name, size_t cap, long *start)
{
	struct shm_counter *c = fresh(name, cap);
	errno = 0;
	int rc = inc(c);
	int err = errno;
	if (rc < 0 && err == ENOSYS)
		drop(name, c);
	errno = err;
	require_implemented(rc < 0, fname);
	*start = value_of(c, inc);
	return c;
}

static void check_threads(inc_fn inc, const char *fname, const char *lock)
{
	char name[64];
	long start;
	struct shm_counter *c = prepare(inc, fname, name, sizeof name, &start);
	race_set(RACE_SLEEP); /* ~50 us between load and store: a gap any unprotected update falls into */
	enum { THREADS = 4, PER = 100 };
	int err = run_threads(c, inc, THREADS, PER);
	race_set(RACE_OFF);
	long got = value_of(c, inc) - start;
	drop(name, c);
	ck_assert_msg(!err, "%s() failed with %s while %d threads used it.", fname, errno_name(err),
		      THREADS);
	ck_assert_msg(got == THREADS * PER,
		      "%d threads each called %s() %d times with the race window widened (race_window() "
		      "sleeps), but the counter went up by %ld, not %d: %ld updates were lost. %s",
		      THREADS, fname, PER, got, THREADS * PER, THREADS * PER - got, lock);
}

static void check_procs(inc_fn inc, const char *fname, const char *lock, const char *shared)
{
	char name[64];
	long start;
	struct shm_counter *c = prepare(inc, fname, name, sizeof name, &start);
	race_set(RACE_SLEEP);
	enum { PROCS = 3, PER = 100 };
	struct outcome o = run_procs(c, inc, PROCS, PER, 3.0);
	race_set(RACE_OFF);
	long got = value_of(c, inc) - start;
	drop(name, c);
	ck_assert_msg(!o.hung,
		      "%d of %d worker processes never finished (killed after 3 s): a waiter was never "
		      "woken. %s", o.hung, PROCS, shared);
	ck_assert_msg(!o.failed, "A worker process %s%s while calling %s().",
		      o.how[0] ? o.how : "saw it fail with ", o.how[0] ? "" : errno_name(o.err),
		      fname);
	ck_assert_msg(got == PROCS * PER,
		      "%d processes each called %s() %d times on one shared counter with the race window "
		      "widened, but it went up by %ld, not %d: %ld updates were lost. %s",
		      PROCS, fname, PER, got, PROCS * PER, PROCS * PER - got, lock);
}

/* ---- The region's life --------------------------------------------------------------------- */

/* Another process maps the counter NAME by name (its own mapping, maybe at another address),
   checks it sees value 41, stores 42 and detaches. Returns its one-letter report ('k': all
   well; '?': it never reported). */
static char attach_in_another_process(const char *name)
{
	int p[2];
	ck_assert(pipe(p) == 0);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char v = 'k';
		int fds = probe_fd_count();
		errno = 0;
		struct shm_counter *o = counter_attach(name);
		if (!o)
			v = errno == ENOSYS ? 'n' : errno == EINVAL ? 'i' : 'a';
		else if (probe_fd_count() != fds)
			v = 'f';
		else if (o->value != 41)
			v = 'd';
		else {
			o->value = 42;
			if (counter_detach(o) != 0)
				v = errno == ENOSYS ? 'N' : 'u';
		}
		ssize_t ignored = write(p[1], &v, 1);
		(void)ignored;
		_exit(0);
	}
	close(p[1]);
	char v = '?';
	probe_read_all(p[0], &v, 1, 2.0);
	close(p[0]);
	int status;
	probe_finish(pid, &status, 2.0);
	return v;
}

/* The other process's report V: it attached, saw the creator's store, and detached. */
static void other_process_attached(char v, const char *name)
{
	switch (v) {
	case 'k':
		break;
	case 'n':
		errno = ENOSYS;
		require_implemented(1, "counter_attach");
		break;
	case 'N':
		errno = ENOSYS;
		require_implemented(1, "counter_detach");
		break;
	case 'i':
		ck_abort_msg("counter_attach() in another process refused the counter with EINVAL (wrong "
			     "size or magic). If counter_create() mapped the object MAP_PRIVATE, its "
			     "stores (magic included) went into a private copy and never reached the "
			     "object. Map it MAP_SHARED.");
		break;
	case 'a':
		ck_abort_msg("counter_attach(\"%s\") failed in another process although the object "
			     "exists.", name);
		break;
	case 'f':
		ck_abort_msg("counter_attach() left a descriptor open: close it once mmap() is done.");
		break;
	case 'd':
		ck_abort_msg("The creator stored value = 41, but another process that attached the "
			     "counter reads something else. Both mappings must be MAP_SHARED to see one "
			     "region.");
		break;
	case 'u':
		ck_abort_msg("counter_detach() failed with %s.", "an error");
		break;
	default:
		ck_abort_msg("The process calling counter_attach() never reported back (it crashed or "
			     "hung).");
	}
}

GRADER_TEST(create_attach)
{
	char name[64];
	sb_name("life", name, sizeof name);
	ledger_watch_shm(name);
	int before = probe_fd_count();
	struct shm_counter *c = counter_create(name);
	require_implemented(c == NULL, "counter_create");
	ck_assert_msg(c != NULL, "counter_create(\"%s\") failed with %s.", name, errno_name(errno));
	int leaked = probe_fd_count() - before;
	long size = shm_size(name);
	uint32_t magic = c->magic;
	long value = c->value, avalue = atomic_load(&c->atomic_value);
	c->value = 41;
	char v = attach_in_another_process(name);
	long after = c->value;
	drop(name, c);

	ck_assert_msg(size == (long)CSIZE,
		      "After counter_create() the object \"%s\" is %ld bytes; it should be exactly "
		      "sizeof(struct shm_counter) = %zu (ftruncate).",
		      name, size, CSIZE);
	ck_assert_msg(
	    leaked == 0,
	    "counter_create() left %d more descriptor(s) open. Once mmap() has mapped the "
	    "object, the descriptor is no longer needed: close it.",
	    leaked);
	ck_assert_msg(
	    magic == SHMC_MAGIC && value == 0 && avalue == 0,
	    "A new counter should hold magic = SHMC_MAGIC, value = 0, atomic_value = 0; it "
	    "holds magic 0x%x, value %ld, atomic_value %ld.",
	    magic, value, avalue);
	other_process_attached(v, name);
	ck_assert_msg(after == 42,
		      "Another process attached the counter and stored value = 42, but the creator "
		      "still sees %ld. A store through a MAP_PRIVATE mapping stays in that process's "
		      "private copy: counter_attach() must map MAP_SHARED.", after);
}

static void create_and_drop(void *arg)
{
	const char *name = arg;
	struct shm_counter *c = counter_create(name);
	if (!c)
		_exit(errno == ENOSYS ? 3 : 2);
	munmap(c, CSIZE);
}

/* A child that ran WHAT must end with status 0: SIGBUS gets WHY_SIGBUS, status 2 means NULL. */
static void require_clean_end(child_end e, const char *what, const char *why_sigbus)
{
	ck_assert_msg(e.sig != SIGBUS, "%s killed its process with SIGBUS (bus error). %s", what,
		      why_sigbus);
	char how[160];
	ck_assert_msg(e.exited && e.code == 0, "%s %s.", what,
		      e.exited && e.code == 2 ? "returned NULL" : describe_end(e, how, sizeof how));
}

GRADER_TEST(create_sizes_first)
{
	char name[64];
	sb_name("sizes", name, sizeof name);
	ledger_watch_shm(name);
	child_end e = probe_in_child(create_and_drop, name, 2.0);
	shm_unlink(name);
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 3, "counter_create");
	require_clean_end(
	    e, "counter_create() in a child",
	    "A new shared memory object is 0 bytes long: the mapping has no memory behind "
	    "it until ftruncate() gives the object its size, and touching it before raises "
	    "SIGBUS. Call ftruncate() before you write anything through the mapping.");
}

GRADER_TEST(bad_names)
{
	char good[64];
	sb_name("bad", good, sizeof good);
	ledger_watch_shm(good);
	char dbl[80];
	snprintf(dbl, sizeof dbl, "/%s", good);
	const char *bad[] = {good + 1, dbl, "/a/b", "/", ""};
	const char *why[] = {"has no leading '/'", "has two leading '/'", "has a second '/'",
			     "is only a '/'", "is empty"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		errno = 0;
		struct shm_counter *c = counter_create(bad[i]);
		int err = errno;
		if (c)
			munmap(c, CSIZE);
		shm_unlink(good);
		errno = err;
		require_implemented(!c, "counter_create");
		ck_assert_msg(
		    !c && err == EINVAL,
		    "counter_create(\"%s\") %s%s; a name that %s must be refused with EINVAL. "
		    "glibc accepts some of these names, other systems do not: portable names are "
		    "\"/name\", exactly one '/', at the start.",
		    bad[i], c ? "succeeded" : "failed with ", c ? "" : errno_name(err), why[i]);
	}
	/* A real counter under the name glibc would find for "x" and "//x". */
	plant(good, CSIZE, 0, SHMC_MAGIC);
	for (size_t i = 0; i < 2; i++) {
		errno = 0;
		struct shm_counter *c = counter_attach(bad[i]);
		int err = errno;
		if (c)
			munmap(c, CSIZE);
		if (err == ENOSYS)
			shm_unlink(good);
		errno = err;
		require_implemented(!c, "counter_attach");
		if (c || err != EINVAL)
			shm_unlink(good);
		ck_assert_msg(
		    !c && err == EINVAL,
		    "counter_attach(\"%s\") %s%s; a name that %s must be refused with EINVAL "
		    "(glibc would quietly open \"%s\").",
		    bad[i], c ? "succeeded" : "failed with", c ? "" : errno_name(err), why[i],
		    good);
	}
	shm_unlink(good);
}

/* What counter_create() over a stale object did (judged once the counter is dropped). */
typedef struct {
	struct stat old_st, old_after, new_st; /* the stale object before and after, the new one */
	long size;
	uint32_t magic;
	long value, avalue;
	int mutex_ok, sem_ok; /* the new counter's mutex and semaphore were usable */
} stale_run;

/* Plants a stale object of SIZE bytes (WHAT) that a survivor of the crashed run still has open,
   then calls counter_create() over it and records what it made into *S. */
static void create_over_a_stale_object(const char *name, size_t size, const char *what,
				       stale_run *s)
{
	plant(name, size, 0xa5, 0xdeadbeef);
	/* A survivor of the crashed run still has the stale object open. */
	int survivor = shm_open(name, O_RDWR, 0);
	ck_assert(survivor >= 0 && fstat(survivor, &s->old_st) == 0);
	errno = 0;
	struct shm_counter *c = counter_create(name);
	int err = errno;
	fstat(survivor, &s->old_after);
	close(survivor);
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0) {
		fstat(fd, &s->new_st);
		close(fd);
	}
	if (!c) {
		shm_unlink(name);
		errno = err;
		require_implemented(1, "counter_create");
		ck_abort_msg(
		    "A crashed run left the object \"%s\" behind (%s), and counter_create() "
		    "then failed with %s. A stale object is no reason to give up: when "
		    "O_CREAT | O_EXCL says EEXIST, shm_unlink() the name and create it "
		    "again.",
		    name, what, errno_name(err));
	}
	s->size = shm_size(name);
	s->magic = c->magic;
	s->value = c->value, s->avalue = atomic_load(&c->atomic_value);
	s->mutex_ok = pthread_mutex_trylock(&c->mutex) == 0;
	if (s->mutex_ok)
		pthread_mutex_unlock(&c->mutex);
	s->sem_ok = sem_trywait(&c->sem) == 0;
	if (s->sem_ok)
		sem_post(&c->sem);
	drop(name, c);
}

/* The stale object (WHAT) was replaced by a new, zeroed one with usable locks. */
static void stale_object_was_replaced(const stale_run *s, const char *what)
{
	ck_assert_msg(s->new_st.st_ino != s->old_st.st_ino &&
			  s->old_after.st_size == s->old_st.st_size,
		      "A stale object (%s) was left under the name, and a process of the crashed "
		      "run still had it open. counter_create() REUSED that object (%s) instead of "
		      "replacing it: the survivor now shares memory with the new counter and can "
		      "scribble on it. Create with O_CREAT | O_EXCL; on EEXIST shm_unlink() the "
		      "name and create a new object (the survivor keeps the old one).",
		      what,
		      s->new_st.st_ino == s->old_st.st_ino ? "same object"
							   : "it changed "
							     "the old object's size");
	ck_assert_msg(s->size == (long)CSIZE,
		      "A stale object (%s) was left under the name; after counter_create() it is "
		      "%ld bytes instead of %zu. O_CREAT without O_EXCL silently reuses whatever "
		      "is there.",
		      what, s->size, CSIZE);
	ck_assert_msg(s->magic == SHMC_MAGIC && s->value == 0 && s->avalue == 0,
		      "A stale object full of garbage (%s) was left under the name; after "
		      "counter_create() the counter holds magic 0x%x, value %ld, atomic_value %ld "
		      "instead of SHMC_MAGIC, 0, 0. O_CREAT without O_EXCL reuses the old "
		      "contents: only a NEW object starts zeroed. Use O_EXCL, and on EEXIST "
		      "unlink and recreate.",
		      what, s->magic, s->value, s->avalue);
	ck_assert_msg(s->mutex_ok && s->sem_ok,
		      "After counter_create() over a stale object (%s), the %s is not usable "
		      "(trylock/trywait failed): it still holds the old garbage.",
		      what, s->mutex_ok ? "semaphore" : "mutex");
}

GRADER_TEST(stale_object)
{
	char name[64];
	sb_name("stale", name, sizeof name);
	ledger_watch_shm(name);
	struct {
		size_t size;
		const char *what;
	} cases[] = {{3, "3 bytes"}, {CSIZE, "the right size but garbage"}, {3 * CSIZE, "too big"}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		stale_run s = {0};
		create_over_a_stale_object(name, cases[i].size, cases[i].what, &s);
		stale_object_was_replaced(&s, cases[i].what);
	}
}

GRADER_TEST(attach_validates)
{
	char name[64];
	sb_name("check", name, sizeof name);
	ledger_watch_shm(name);
	errno = 0;
	struct shm_counter *c = counter_attach(name);
	int err = errno;
	if (c)
		munmap(c, CSIZE);
	errno = err;
	require_implemented(!c, "counter_attach");
	ck_assert_msg(
	    !c && err == ENOENT,
	    "counter_attach() of a name that does not exist should fail with ENOENT (%s).",
	    c ? "it succeeded" : errno_name(err));
	struct {
		size_t size;
		uint32_t magic;
		const char *what;
	} cases[] = {{16, SHMC_MAGIC, "only 16 bytes long"},
		     {CSIZE + 4096, SHMC_MAGIC, "bigger than a counter"},
		     {CSIZE, 0x12345678, "the right size, but its magic is wrong"}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		plant(name, cases[i].size, 0, cases[i].magic);
		int fds = probe_fd_count();
		errno = 0;
		c = counter_attach(name);
		err = errno;
		int maps = shm_maps(name), leaked = probe_fd_count() - fds;
		if (c)
			munmap(c, CSIZE);
		shm_unlink(name);
		ck_assert_msg(
		    !c && err == EINVAL,
		    "counter_attach() accepted an object that is %s (it %s%s). Check the size "
		    "with fstat() before mapping (touching a mapping past the end of the object "
		    "raises SIGBUS), and magic after: fail with EINVAL.",
		    cases[i].what, c ? "succeeded" : "failed with ", c ? "" : errno_name(err));
		ck_assert_msg(maps == 0 && leaked == 0,
			      "counter_attach() refused an object that is %s, but left %d mapping(s) "
			      "and %d descriptor(s) behind. Undo what you did before failing.",
			      cases[i].what, maps - (c != NULL), leaked);
	}
}

/* A second mapping (counter_attach) of the counter C named NAME goes away with
   counter_detach(), and the object stays. */
static void detach_unmaps_only_its_mapping(const char *name, struct shm_counter *c)
{
	struct shm_counter *a = counter_attach(name);
	if (!a) {
		int err = errno;
		drop(name, c);
		errno = err;
		require_implemented(1, "counter_attach");
		ck_abort_msg("counter_attach() of a fresh counter failed with %s.",
			     errno_name(err));
	}
	int two = shm_maps(name);
	int rc = counter_detach(a);
	int err = errno;
	int after_detach = shm_maps(name);
	long size = shm_size(name);
	if (rc < 0 && err == ENOSYS) {
		munmap(a, CSIZE);
		drop(name, c);
		errno = err;
		require_implemented(1, "counter_detach");
	}
	ck_assert_msg(two == 2, "After counter_create() and counter_attach() this process should have "
				"2 mappings of the object; /proc/self/maps lists %d.", two);
	if (after_detach != 1 || size != (long)CSIZE) {
		if (after_detach == 2)
			munmap(a, CSIZE);
		drop(name, c);
		ck_assert_msg(after_detach == 1,
			      "counter_detach() left the mapping in place (/proc/self/maps still lists "
			      "%d mappings of the object, expected 1). Detaching is munmap().",
			      after_detach);
		ck_abort_msg("counter_detach() removed the object itself: only the owner's "
			     "counter_destroy() does that.");
	}
}

/* counter_destroy() removes the name and unmaps the region C. */
static void destroy_unlinks_and_unmaps(const char *name, struct shm_counter *c)
{
	int rc = counter_destroy(name, c);
	int err = errno;
	int maps = shm_maps(name);
	long size = shm_size(name);
	if (maps > 0)
		munmap(c, CSIZE);
	shm_unlink(name);
	errno = err;
	require_implemented(rc < 0, "counter_destroy");
	ck_assert_msg(size < 0,
		      "After counter_destroy() the name \"%s\" still exists: shm_open() finds it. "
		      "Without shm_unlink() the object stays in /dev/shm, memory and all, after "
		      "every process is gone, until reboot.", name);
	ck_assert_msg(maps == 0,
		      "After counter_destroy() the region is still mapped in this process "
		      "(/proc/self/maps lists it%s). Closing the descriptor or unlinking the name "
		      "does not unmap: call munmap().", size < 0 ? " as \"(deleted)\"" : "");
	ck_assert_msg(rc == 0, "counter_destroy() returned %d (%s).", rc, errno_name(err));
}

/* Someone removed the name already: destroy still unmaps, and says the unlink failed. */
static void destroy_reports_a_missing_name(const char *name)
{
	struct shm_counter *c = counter_create(name);
	ck_assert_msg(c != NULL, "counter_create() failed with %s.", errno_name(errno));
	shm_unlink(name);
	errno = 0;
	int rc = counter_destroy(name, c);
	int err = errno;
	int maps = shm_maps(name);
	if (maps > 0)
		munmap(c, CSIZE);
	ck_assert_msg(maps == 0,
		      "When the name was already removed, counter_destroy() left the region mapped. "
		      "Unmap first (or whatever happens): the caller is done with the region either "
		      "way.");
	ck_assert_msg(
	    rc == -1 && err == ENOENT,
	    "counter_destroy() on a counter whose name someone had already removed returned "
	    "%d (%s); it should report the failed shm_unlink() with -1 and ENOENT. A result "
	    "ignored is a failure nobody hears about.",
	    rc, rc < 0 ? errno_name(err) : "no error");
}

GRADER_TEST(destroy_cleans_up)
{
	char name[64];
	sb_name("gone", name, sizeof name);
	ledger_watch_shm(name);
	struct shm_counter *c = counter_create(name);
	require_implemented(!c, "counter_create");
	ck_assert_msg(c != NULL, "counter_create() failed with %s.", errno_name(errno));
	detach_unmaps_only_its_mapping(name, c);
	destroy_unlinks_and_unmaps(name, c);
	destroy_reports_a_missing_name(name);
}

/* ---- Increments ---------------------------------------------------------------------------- */

GRADER_TEST(naive_loses_updates)
{
	char name[64];
	struct shm_counter *c = fresh(name, sizeof name);
	for (int i = 0; i < 1000; i++) {
		if (counter_inc_naive(c) < 0) {
			int err = errno;
			drop(name, c);
			errno = err;
			require_implemented(1, "counter_inc_naive");
			ck_abort_msg("counter_inc_naive() failed with %s.", errno_name(err));
		}
	}
	long alone = c->value;
	c->value = 0;
	race_set(RACE_SLEEP);
	enum { PER = 300 };
	run_threads(c, counter_inc_naive, 2, PER);
	long threads = c->value;
	c->value = 0;
	struct outcome o = run_procs(c, counter_inc_naive, 2, PER, 3.0);
	long procs = c->value;
	race_set(RACE_OFF);
	drop(name, c);
	ck_assert_msg(alone == 1000, "1000 calls of counter_inc_naive() from one thread gave %ld.", alone);
	ck_assert_msg(o.finished == 2, "A worker process calling counter_inc_naive() did not finish.");
	ck_assert_msg(threads < 2 * PER && procs < 2 * PER,
		      "With race_window() widened, 2 %s each calling counter_inc_naive() %d times lost "
		      "no update (the counter reached %ld). The naive version is the experiment that "
		      "shows the race: load c->value, call race_window(), then store: no lock and no "
		      "atomic.", threads == 2 * PER ? "threads" : "processes", PER,
		      threads == 2 * PER ? threads : procs);
}

static const char MUTEX_LOCK[] = "The lock must cover the load AND the store: lock, load, "
				 "race_window(), store, unlock.";
static const char MUTEX_SHARED[] =
	"A mutex that is not process-shared puts a waiter to sleep on a key private to its own "
	"process, so an unlock in another process never wakes it. Initialise it with a "
	"pthread_mutexattr_t set to PTHREAD_PROCESS_SHARED.";
static const char SEM_LOCK[] = "sem_wait before the load, sem_post after the store (initial "
			       "value 1, so one holder at a time).";
static const char SEM_SHARED[] =
	"A semaphore made with sem_init(..., pshared = 0, ...) only works between threads of one "
	"process: a waiter in another process is never woken. Pass pshared = 1.";
static const char ATOMIC_RMW[] =
	"atomic_load then atomic_store is two steps, and another thread or process can update in "
	"between. "
	"Use one read-modify-write: atomic_fetch_add (or a compare-and-swap loop).";

GRADER_TEST(mutex_threads)
{
	check_threads(counter_inc_mutex, "counter_inc_mutex", MUTEX_LOCK);
}

GRADER_TEST(mutex_processes)
{
	check_procs(counter_inc_mutex, "counter_inc_mutex", MUTEX_LOCK, MUTEX_SHARED);
}

GRADER_TEST(sem_threads)
{
	check_threads(counter_inc_sem, "counter_inc_sem", SEM_LOCK);
}

GRADER_TEST(sem_processes)
{
	check_procs(counter_inc_sem, "counter_inc_sem", SEM_LOCK, SEM_SHARED);
}

GRADER_TEST(atomic_threads)
{
	check_threads(counter_inc_atomic, "counter_inc_atomic", ATOMIC_RMW);
}

GRADER_TEST(atomic_processes)
{
	check_procs(counter_inc_atomic, "counter_inc_atomic", ATOMIC_RMW, "");
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void *hold_sem(void *arg)
{
	struct shm_counter *c = arg;
	usleep(150 * 1000); /* the main thread is blocked in sem_wait meanwhile */
	sem_post(&c->sem);
	return NULL;
}

GRADER_TEST(sem_retries_eintr)
{
	char name[64];
	struct shm_counter *c = fresh(name, sizeof name);
	ck_assert(sem_trywait(&c->sem) == 0 || (drop(name, c), 0)); /* we hold it */
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the kernel hands EINTR to the interrupted sem_wait */
	sigaction(SIGALRM, &sa, NULL);
	/* The helper thread blocks SIGALRM, so the signal interrupts the main thread's sem_wait. */
	sigset_t alrm, old;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	pthread_t t;
	ck_assert(pthread_create(&t, NULL, hold_sem, c) == 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	struct itimerval tv = {{0, 20 * 1000}, {0, 30 * 1000}};
	setitimer(ITIMER_REAL, &tv, NULL);
	errno = 0;
	int rc = counter_inc_sem(c);
	int err = errno;
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	pthread_join(t, NULL);
	long value = c->value;
	drop(name, c);
	errno = err;
	require_implemented(rc < 0, "counter_inc_sem");
	ck_assert_msg(
	    rc == 0,
	    "counter_inc_sem() gave up with %s while a signal handler (installed without "
	    "SA_RESTART) ran during sem_wait(). EINTR only means \"a signal interrupted me\": "
	    "call sem_wait() again.",
	    errno_name(err));
	ck_assert_msg(value == 1, "counter_inc_sem() returned 0 but the counter is %ld, not 1.", value);
}

/* ---- File mappings ------------------------------------------------------------------------- */

struct fmap {
	int fd;
	size_t size;
};

static void write_through_map(void *arg)
{
	struct fmap *m = arg;
	char *p = file_map(m->fd, m->size, 1);
	if (!p)
		_exit(errno == ENOSYS ? 3 : 2);
	strcpy(p, "written through the mapping");
	strcpy(p + m->size - 4096, "last page");
	munmap(p, m->size);
}

GRADER_TEST(file_map_shared)
{
	int fd = open("shared.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* 0 bytes */
	ck_assert(fd >= 0);
	struct fmap m = {fd, 2 * 4096};
	child_end e = probe_in_child(write_through_map, &m, 2.0);
	struct stat st;
	fstat(fd, &st);
	char first[64] = "", last[64] = "";
	ssize_t n1 = pread(fd, first, sizeof first - 1, 0);
	ssize_t n2 = pread(fd, last, sizeof last - 1, (off_t)m.size - 4096);
	close(fd);
	unlink("shared.dat");
	errno = ENOSYS;
	require_implemented(e.exited && e.code == 3, "file_map");
	require_clean_end(
	    e, "file_map(fd, 8192, 1) on an empty file, and a write through it,",
	    "mmap() succeeds on a short file, but a page with no file behind it cannot be "
	    "touched. Extend the file to SIZE first (ftruncate).");
	ck_assert_msg(st.st_size == (off_t)m.size,
		      "After file_map(fd, %zu, 1) on an empty file, the file is %lld bytes long, not %zu.",
		      m.size, (long long)st.st_size, m.size);
	ck_assert_msg(n1 > 0 && n2 > 0 && !strcmp(first, "written through the mapping") &&
			      !strcmp(last, "last page"),
		      "Another process wrote through file_map(fd, size, 1)'s mapping, but read() of "
		      "the file does not return what it wrote. With MAP_PRIVATE the stores go to a "
		      "private copy and never reach the file: use MAP_SHARED when SHARED is set.");
}

static void write_through_private_map(void *arg)
{
	struct fmap *m = arg;
	char *p = file_map(m->fd, m->size, 0);
	if (!p)
		_exit(errno == ENOSYS ? 3 : 2);
	p[0] = 'x';
	p[m->size - 1] = 'y'; /* the last page: beyond the end of an unextended file */
	munmap(p, m->size);
}

/* A private mapping of an EMPTY file: the file is extended all the same, and stays zeros. */
static void private_map_of_empty_file(void)
{
	int fd = open("private0.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert(fd >= 0);
	struct fmap m = {fd, 2 * 4096};
	child_end e = probe_in_child(write_through_private_map, &m, 2.0);
	struct stat st;
	fstat(fd, &st);
	char first = 1;
	ssize_t n = pread(fd, &first, 1, 0);
	close(fd);
	unlink("private0.dat");
	require_clean_end(
	    e, "file_map(fd, 8192, 0) on an empty file, and a write through it,",
	    "The file was not extended: a private mapping needs file pages behind it just "
	    "as a shared one does. ftruncate to SIZE whatever SHARED says.");
	ck_assert_msg(
	    st.st_size == (off_t)m.size && n == 1 && first == 0,
	    "After file_map(fd, 8192, 0) on an empty file and a store through it, the file is "
	    "%lld bytes long and starts with byte 0x%02x; it should be 8192 bytes of zeros: "
	    "extended by ftruncate, and untouched by private stores.",
	    (long long)st.st_size, (unsigned char)first);
}

GRADER_TEST(file_map_private)
{
	int fd = open("private.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert(fd >= 0);
	char page[4096];
	memset(page, 'o', sizeof page);
	ck_assert(write(fd, page, sizeof page) == (ssize_t)sizeof page);
	char *p = file_map(fd, sizeof page, 0);
	int err = errno;
	if (!p) {
		close(fd);
		unlink("private.dat");
		errno = err;
		require_implemented(1, "file_map");
		ck_abort_msg("file_map(fd, 4096, 0) failed with %s.", errno_name(err));
	}
	memcpy(p, "changed", 7);
	char *q = mmap(NULL, sizeof page, PROT_READ, MAP_SHARED, fd, 0);
	char back[16] = "";
	ssize_t n = pread(fd, back, 7, 0);
	int other_sees = q != MAP_FAILED && !memcmp(q, "changed", 7);
	int mine_sees = !memcmp(p, "changed", 7);
	if (q != MAP_FAILED)
		munmap(q, sizeof page);
	munmap(p, sizeof page);
	close(fd);
	unlink("private.dat");
	ck_assert_msg(mine_sees, "A store through file_map()'s private mapping is not visible through "
				 "that same mapping.");
	ck_assert_msg(n == 7 && !memcmp(back, "ooooooo", 7) && !other_sees,
		      "With SHARED = 0, a store through the mapping reached the file (read() %s it%s). "
		      "A private mapping is a copy-on-write copy of the file: map it MAP_PRIVATE.",
		      n == 7 && !memcmp(back, "changed", 7) ? "returns" : "does not return",
		      other_sees ? ", and another mapping of the file sees it too" : "");
	private_map_of_empty_file();
}

GRADER_TEST(file_map_keeps_data)
{
	int fd = open("long.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert(fd >= 0);
	enum { PG = 4096, PAGES = 3 };
	char page[PG];
	for (int i = 0; i < PAGES; i++) {
		memset(page, 'A' + i, sizeof page);
		ck_assert(write(fd, page, sizeof page) == (ssize_t)sizeof page);
	}
	for (int shared = 1; shared >= 0; shared--) {
		errno = 0;
		char *p = file_map(fd, PG, shared);
		int err = errno;
		int shows = p && memchr(p, 0, PG) == NULL && p[0] == 'A' && p[PG - 1] == 'A';
		if (p)
			munmap(p, PG);
		struct stat st;
		fstat(fd, &st);
		char last = 0;
		ssize_t n = pread(fd, &last, 1, (off_t)(PAGES * PG - 1));
		if (!p || st.st_size != PAGES * PG || n != 1 || last != 'A' + PAGES - 1) {
			close(fd);
			unlink("long.dat");
		}
		errno = err;
		require_implemented(!p, "file_map");
		ck_assert_msg(p != NULL, "file_map(fd, %d, %d) of a %d-byte file failed with %s.",
			      PG, shared, PAGES * PG, errno_name(err));
		ck_assert_msg(st.st_size == PAGES * PG && n == 1 && last == 'A' + PAGES - 1,
			      "file_map(fd, %d, %d) of a file that was ALREADY %d bytes long left it %lld "
			      "bytes long: the data past the first %d bytes is gone. Only extend a file "
			      "that is shorter than SIZE (fstat first); ftruncate() to a smaller size "
			      "throws the rest of the file away.", PG, shared, PAGES * PG,
			      (long long)st.st_size, PG);
		ck_assert_msg(shows,
			      "file_map(fd, %d, %d) of a file full of data gave a mapping that does not "
			      "show that data (zeros instead): the file was emptied before it was mapped. "
			      "Leave a long enough file as it is.", PG, shared);
	}
	close(fd);
	unlink("long.dat");
}

struct too_big {
	int fd;
	void *got;
	int err;
};

static void map_over_limit(void *arg)
{
	struct too_big *t = arg;
	struct rlimit rl = {4096, 4096};
	signal(SIGXFSZ, SIG_IGN); /* growing past RLIMIT_FSIZE: EFBIG instead of a signal */
	setrlimit(RLIMIT_FSIZE, &rl);
	errno = 0;
	t->got = file_map(t->fd, 4 * 4096, 1);
	t->err = errno;
	if (t->got == NULL && t->err == ENOSYS)
		_exit(3);
	if (t->got != NULL)
		_exit(4);
}

GRADER_TEST(file_map_errors)
{
	int fd = open("err.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert(fd >= 0);
	errno = 0;
	void *p = file_map(fd, 0, 1);
	int err = errno;
	if (p && p != MAP_FAILED)
		munmap(p, 4096);
	if (p == NULL && err == ENOSYS) {
		close(fd);
		unlink("err.dat");
		errno = ENOSYS;
		require_implemented(1, "file_map");
	}
	struct too_big t = {.fd = fd};
	child_end e = probe_in_child(map_over_limit, &t, 2.0);
	struct stat st;
	fstat(fd, &st);
	close(fd);
	unlink("err.dat");
	ck_assert_msg(p == NULL,
		      "file_map(fd, 0, 1) returned %p: mmap() refuses an empty mapping (EINVAL), and "
		      "file_map() must then return NULL. mmap() reports failure as MAP_FAILED "
		      "((void *)-1), not NULL: compare with MAP_FAILED and return NULL.", p);
	char how[160];
	ck_assert_msg(!(e.exited && e.code == 4),
		      "The file could not be extended (ftruncate() failed with EFBIG: the process may "
		      "not grow files past 4096 bytes), yet file_map(fd, 16384, 1) returned a mapping. "
		      "Touching its pages past the end of the file raises SIGBUS. Check ftruncate()'s "
		      "result and return NULL when it fails.");
	ck_assert_msg(e.exited && e.code == 0,
		      "file_map(fd, 16384, 1), in a process that may not grow files past 4096 bytes, %s; "
		      "it should return NULL (ftruncate() fails with EFBIG).",
		      describe_end(e, how, sizeof how));
	ck_assert_msg(st.st_size <= 4096, "The file grew to %lld bytes past the limit.",
		      (long long)st.st_size);
}

/* ---- Failures and descriptor 0 ------------------------------------------------------------- */

struct edge {
	char name[64];
};

static void create_cannot_size(void *arg)
{
	struct edge *e = arg;
	struct rlimit rl = {16, 16}; /* the object cannot grow to a counter's size */
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	int fds = probe_fd_count();
	errno = 0;
	struct shm_counter *c = counter_create(e->name);
	if (!c && errno == ENOSYS)
		_exit(3);
	if (c)
		_exit(4);
	if (shm_size(e->name) >= 0)
		_exit(5);
	if (probe_fd_count() != fds)
		_exit(6);
	if (shm_maps(e->name) != 0)
		_exit(7);
}

GRADER_TEST(create_edges)
{
	struct edge e;
	sb_name("edge", e.name, sizeof e.name);
	ledger_watch_shm(e.name);

	/* A process whose standard input is closed gets descriptor 0 from shm_open(). */
	int saved_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	close(STDIN_FILENO);
	errno = 0;
	struct shm_counter *c = counter_create(e.name);
	int err = errno;
	struct shm_counter *a = c ? counter_attach(e.name) : NULL;
	int aerr = errno;
	dup2(saved_in, STDIN_FILENO);
	close(saved_in);
	if (a)
		munmap(a, CSIZE);
	drop(e.name, c);
	errno = err;
	require_implemented(!c, "counter_create");
	ck_assert_msg(
	    c != NULL,
	    "counter_create() failed with %s in a process whose standard input is closed. "
	    "shm_open() then returns descriptor 0, which is valid: only a negative result is "
	    "an error (fd < 0, not fd <= 0).",
	    errno_name(err));
	errno = aerr;
	require_implemented(!a, "counter_attach");
	ck_assert_msg(
	    a != NULL,
	    "counter_attach() failed with %s in a process whose standard input is closed. "
	    "shm_open() then returns descriptor 0, which is valid: only a negative result is "
	    "an error (fd < 0, not fd <= 0).",
	    errno_name(aerr));

	/* ftruncate() fails: counter_create must fail cleanly. */
	child_end end = probe_in_child(create_cannot_size, &e, 2.0);
	shm_unlink(e.name);
	char how[160];
	ck_assert_msg(!(end.exited && end.code == 4),
		      "In a process that may not grow files past 16 bytes (RLIMIT_FSIZE), ftruncate() "
		      "fails with EFBIG, yet counter_create() returned a counter. Check ftruncate()'s "
		      "result: a mapping of an object that was never sized raises SIGBUS when touched.");
	ck_assert_msg(!(end.exited && end.code == 5),
		      "counter_create() failed (ftruncate() said EFBIG) but left the object \"%s\" "
		      "behind in /dev/shm. On failure after shm_open(), shm_unlink() the name: nothing "
		      "of a failed create may remain.", e.name);
	ck_assert_msg(!(end.exited && end.code == 6),
		      "counter_create() failed (ftruncate() said EFBIG) and left a descriptor open: "
		      "close it on the failure path too.");
	ck_assert_msg(!(end.exited && end.code == 7),
		      "counter_create() failed (ftruncate() said EFBIG) and left the object mapped: "
		      "munmap it on the failure path.");
	ck_assert_msg(end.exited && end.code == 0,
		      "counter_create(), in a process that may not grow files past 16 bytes, %s; it "
		      "should return NULL with errno set (ftruncate() fails with EFBIG), leaving nothing "
		      "behind.", describe_end(end, how, sizeof how));
}
