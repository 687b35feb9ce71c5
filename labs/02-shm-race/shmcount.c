/* shmcount.c: Lab 02, your code: a counter in POSIX shared memory, four increments, file mappings. Read README.md first. */
#define _GNU_SOURCE
#include "shmcount.h"
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct shm_counter *counter_create(const char *name)
{
	/* TODO 1: refuse a name that is not "/something" with no other '/' (EINVAL). The C
	 *         library would accept some of them: check it yourself, before shm_open. */

	/* TODO 2: shm_open a NEW object (which flags make it fail when the name already exists?).
	 *         If it exists, a crashed run left it behind, with any size and any contents:
	 *         what do you do so that the caller still gets a fresh counter? */

	/* TODO 3: a new object is 0 bytes long. Give it its size, then mmap it so that other
	 *         processes see your stores (man 2 mmap: MAP_SHARED or MAP_PRIVATE?). Does the
	 *         descriptor still need to stay open once the mapping exists? */

	/* TODO 4: initialise the counters, the mutex and the semaphore so that threads in
	 *         DIFFERENT processes can use them (man 3 pthread_mutexattr_setpshared,
	 *         man 3 sem_init), and write magic last. */
	(void)name;
	errno = ENOSYS;
	return NULL;
}

struct shm_counter *counter_attach(const char *name)
{
	/* TODO 5: check the name; shm_open the existing object (no O_CREAT). */

	/* TODO 6: is it really a counter? Its size (fstat) must be exactly sizeof(struct
	 *         shm_counter) and, once mapped (shared), magic must be SHMC_MAGIC. If not:
	 *         leave nothing mapped or open, and fail with EINVAL. */
	(void)name;
	errno = ENOSYS;
	return NULL;
}

int counter_detach(struct shm_counter *c)
{
	/* TODO 7: undo the mapping (and only that: the object stays for the others). */
	(void)c;
	errno = ENOSYS;
	return -1;
}

int counter_destroy(const char *name, struct shm_counter *c)
{
	/* TODO 8: destroy the mutex and the semaphore, unmap, and remove the NAME: an object
	 *         whose name stays in /dev/shm outlives every process that used it. */
	(void)name, (void)c;
	errno = ENOSYS;
	return -1;
}

int counter_inc_naive(struct shm_counter *c)
{
	/* TODO 9: read c->value into a local, call race_window(), store the local + 1.
	 *         No lock: this version is meant to lose updates when the window is widened. */
	(void)c;
	errno = ENOSYS;
	return -1;
}

int counter_inc_mutex(struct shm_counter *c)
{
	/* TODO 10: the same load, race_window(), store, with c->mutex held around ALL of it.
	 *          pthread functions return an error number instead of setting errno. */
	(void)c;
	errno = ENOSYS;
	return -1;
}

int counter_inc_sem(struct shm_counter *c)
{
	/* TODO 11: the same with c->sem (wait before, post after). What does sem_wait return
	 *          when a signal handler interrupts it, and is that a reason to give up? */
	(void)c;
	errno = ENOSYS;
	return -1;
}

int counter_inc_atomic(struct shm_counter *c)
{
	/* TODO 12: call race_window(), then add 1 to c->atomic_value in ONE atomic operation
	 *          (<stdatomic.h>). An atomic load followed by an atomic store is two steps. */
	(void)c;
	errno = ENOSYS;
	return -1;
}

void *file_map(int fd, size_t size, int shared)
{
	/* TODO 13: if the file is shorter than size (fstat), extend it (ftruncate): what happens
	 *          when you touch a page of the mapping that has no file behind it? */

	/* TODO 14: mmap it, MAP_SHARED or MAP_PRIVATE as SHARED asks. Return NULL on failure
	 *          (mmap itself returns MAP_FAILED, not NULL). */
	(void)fd, (void)size, (void)shared;
	errno = ENOSYS;
	return NULL;
}
