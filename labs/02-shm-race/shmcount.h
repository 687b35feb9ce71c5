/* shmcount.h: Lab 02 API: a counter in POSIX shared memory, incremented four ways, and file mappings. */
#ifndef LAB02_SHMCOUNT_H
#define LAB02_SHMCOUNT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The region every process maps: one struct shm_counter, at offset 0 of a named POSIX shared
 * memory object of exactly sizeof(struct shm_counter) bytes. Its layout is fixed so that every
 * process (and the grader) agrees on it.
 */
#define SHMC_MAGIC 0x544e4353u /* "SCNT": set once the region is fully initialised */

struct shm_counter {
	uint32_t magic;            /* SHMC_MAGIC */
	uint32_t unused;
	long value;                /* incremented by counter_inc_naive, _mutex and _sem */
	atomic_long atomic_value;  /* incremented by counter_inc_atomic */
	pthread_mutex_t mutex;     /* guards value in counter_inc_mutex */
	sem_t sem;                 /* guards value in counter_inc_sem (a binary semaphore) */
};

/* ---- The region's life: create, attach, detach, destroy ----------------------------------- */

/*
 * NAME must be a portable POSIX name: exactly one leading '/', then 1 or more characters, none
 * of them '/'. ("name" without the slash, "//name", "/a/b", "/" and "" are refused with EINVAL
 * by counter_create and counter_attach, even where the C library would accept them.)
 */

/*
 * Creates the shared memory object NAME with exactly sizeof(struct shm_counter) bytes, maps it
 * readable, writable and SHARED, and initialises it: value and atomic_value 0, the mutex and
 * the semaphore (initial value 1) usable by threads of DIFFERENT PROCESSES, magic SHMC_MAGIC
 * written last. No descriptor is left open.
 * If NAME already exists, it is a stale object left by a run that crashed: it may have any
 * size and hold anything. It is removed and created afresh (the result is then exactly as if
 * it had never existed): a process that still has the stale object mapped keeps that old
 * object, and shares nothing with the new counter.
 * Returns the mapping's address, or NULL with errno set (EINVAL for a bad name). A failure
 * leaves nothing behind: no descriptor, no mapping, and no object called NAME.
 */
struct shm_counter *counter_create(const char *name);

/*
 * Maps the existing object NAME (created by counter_create, perhaps in another process, where
 * it may sit at another address), readable, writable and shared. No descriptor is left open.
 * Before returning, checks that the object really is a counter: its size is exactly
 * sizeof(struct shm_counter) and magic is SHMC_MAGIC.
 * Returns the mapping's address, or NULL with errno set: ENOENT if there is no such object,
 * EINVAL for a bad name or an object that is not a counter (nothing stays mapped then).
 */
struct shm_counter *counter_attach(const char *name);

/* Unmaps a counter returned by counter_create or counter_attach. The object itself stays. */
int counter_detach(struct shm_counter *c);

/*
 * The owner's cleanup, once no process uses the counter any more: destroys the mutex and the
 * semaphore, unmaps the region AND removes the name NAME, so the memory is freed once every
 * process has unmapped it. Returns 0, or -1 with errno set if a step failed (ENOENT: NAME was
 * already gone; the region is unmapped all the same).
 */
int counter_destroy(const char *name, struct shm_counter *c);

/* ---- One increment, four ways ---------------------------------------------------------------
 * Each adds 1 to the counter and returns 0, or -1 with errno set. Each reads the counter, calls
 * race_window() (race.h), then writes it back: the grader and the demo widen that window on
 * demand, so that a read-modify-write that is not protected loses updates EVERY time.
 */

/* c->value += 1 with a plain load and a plain store: no protection at all. Loses updates under
   contention; that is its purpose (load, race_window(), store). */
int counter_inc_naive(struct shm_counter *c);

/* c->value += 1 inside c->mutex (lock, load, race_window(), store, unlock). Correct with any
   number of threads in any number of processes. */
int counter_inc_mutex(struct shm_counter *c);

/* c->value += 1 between sem_wait and sem_post on c->sem (wait, load, race_window(), store,
   post). A signal interrupting the wait does not lose the increment. Correct across processes. */
int counter_inc_sem(struct shm_counter *c);

/* c->atomic_value += 1 with ONE atomic read-modify-write (race_window() before it). Correct
   across processes, without any lock. */
int counter_inc_atomic(struct shm_counter *c);

/* ---- The same mechanism with a file: MAP_SHARED vs MAP_PRIVATE --------------------------- */

/*
 * Maps the first SIZE bytes of the open file FD (opened O_RDWR), readable and writable.
 * If the file is shorter than SIZE it is first extended to SIZE bytes (reading as zeros):
 * touching a page of a mapping that lies wholly beyond the end of the file raises SIGBUS.
 * A file of SIZE bytes or more keeps its length and every byte of its contents, and the
 * mapping starts out showing them. If the file cannot be extended (ftruncate fails), or SIZE
 * is 0, nothing is mapped.
 * - SHARED non-zero: stores through the mapping reach the file itself: read() and every other
 *   mapping of the file, in any process, see them.
 * - SHARED zero: the mapping is the process's private copy-on-write copy: its stores never
 *   reach the file, and nobody else sees them.
 * Returns the mapping's address (the caller unmaps it with munmap(addr, SIZE)), or NULL with
 * errno set.
 */
void *file_map(int fd, size_t size, int shared);

#endif
