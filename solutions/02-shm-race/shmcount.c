/* shmcount.c: Lab 02 reference solution: a shared counter's life, four increments, file mappings. */
#define _GNU_SOURCE
#include "shmcount.h"
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Portable names are "/x...": one leading slash and no other. glibc would accept "x" or "//x"
   too, other systems would not, so we refuse them before the C library sees them. */
static int valid_name(const char *name)
{
	if (!name || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/')) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

/* Sets up the lock and the semaphore for use by several PROCESSES. Without PTHREAD_PROCESS_SHARED
   (or with sem_init's pshared = 0) the futex that puts a waiter to sleep is keyed by the
   process's own address space, so an unlock in another process never wakes it. */
static int init_locks(struct shm_counter *c)
{
	pthread_mutexattr_t a;
	int err = pthread_mutexattr_init(&a);
	if (!err)
		err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutex_init(&c->mutex, &a);
	pthread_mutexattr_destroy(&a);
	if (err) {
		errno = err;
		return -1;
	}
	if (sem_init(&c->sem, 1, 1) < 0) {
		pthread_mutex_destroy(&c->mutex);
		return -1;
	}
	return 0;
}

struct shm_counter *counter_create(const char *name)
{
	if (!valid_name(name))
		return NULL;
	/* O_EXCL: we want a NEW object. If the name exists, it is a crashed run's leftover with an
	   unknown size and contents: remove it and try again (once). */
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (shm_unlink(name) < 0 && errno != ENOENT)
			return NULL;
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	}
	if (fd < 0)
		return NULL;
	/* A new object has size 0: size it BEFORE touching the mapping, or the first store is
	   beyond the end of the object and raises SIGBUS. ftruncate also zero-fills. */
	struct shm_counter *c = MAP_FAILED;
	if (ftruncate(fd, sizeof *c) == 0)
		c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = errno;
	close(fd); /* the mapping keeps the object alive; the descriptor is not needed any more */
	if (c == MAP_FAILED || init_locks(c) < 0) {
		err = c == MAP_FAILED ? err : errno;
		if (c != MAP_FAILED)
			munmap(c, sizeof *c);
		shm_unlink(name);
		errno = err;
		return NULL;
	}
	c->value = 0;
	atomic_init(&c->atomic_value, 0);
	/* Publish last: an attacher that sees the magic sees an initialised counter. */
	atomic_thread_fence(memory_order_release);
	c->magic = SHMC_MAGIC;
	return c;
}

struct shm_counter *counter_attach(const char *name)
{
	if (!valid_name(name))
		return NULL;
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		return NULL;
	/* Never trust a name alone: check the object's size before mapping (touching past its end
	   would be SIGBUS), and its contents after. */
	struct stat st;
	struct shm_counter *c = MAP_FAILED;
	int err = EINVAL;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (st.st_size == (off_t)sizeof *c) {
		c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		err = errno;
	}
	close(fd);
	if (c == MAP_FAILED) {
		errno = err;
		return NULL;
	}
	if (c->magic != SHMC_MAGIC) {
		munmap(c, sizeof *c);
		errno = EINVAL;
		return NULL;
	}
	atomic_thread_fence(memory_order_acquire);
	return c;
}

int counter_detach(struct shm_counter *c)
{
	return munmap(c, sizeof *c);
}

int counter_destroy(const char *name, struct shm_counter *c)
{
	if (!valid_name(name))
		return -1;
	pthread_mutex_destroy(&c->mutex);
	sem_destroy(&c->sem);
	int rc = munmap(c, sizeof *c);
	/* Without shm_unlink the object outlives every process, in /dev/shm, until reboot. */
	if (shm_unlink(name) < 0)
		rc = -1;
	return rc;
}

int counter_inc_naive(struct shm_counter *c)
{
	long v = c->value; /* load ... */
	race_window();     /* ... another thread or process may load the same value here ... */
	c->value = v + 1;  /* ... and one of the two stores is lost */
	return 0;
}

int counter_inc_mutex(struct shm_counter *c)
{
	int err = pthread_mutex_lock(&c->mutex);
	if (err) {
		errno = err;
		return -1;
	}
	long v = c->value; /* the lock covers the load AND the store */
	race_window();
	c->value = v + 1;
	pthread_mutex_unlock(&c->mutex);
	return 0;
}

int counter_inc_sem(struct shm_counter *c)
{
	int r;
	while ((r = sem_wait(&c->sem)) < 0 && errno == EINTR)
		; /* a handler installed without SA_RESTART interrupts the wait: not an error */
	if (r < 0)
		return -1;
	long v = c->value;
	race_window();
	c->value = v + 1;
	return sem_post(&c->sem);
}

int counter_inc_atomic(struct shm_counter *c)
{
	race_window(); /* nothing to widen: the read-modify-write below is one indivisible step */
	atomic_fetch_add_explicit(&c->atomic_value, 1, memory_order_relaxed);
	return 0;
}

void *file_map(int fd, size_t size, int shared)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	/* Pages of the mapping past the end of the file have nothing behind them: SIGBUS. */
	if (st.st_size < (off_t)size && ftruncate(fd, (off_t)size) < 0)
		return NULL;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}
