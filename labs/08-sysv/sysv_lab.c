/* sysv_lab.c: Lab 08, your code: a SysV request/reply queue, a SysV segment and a SysV lock. Read README.md first. */
#define _GNU_SOURCE
#include "sysv_lab.h"
#include "race.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

int sv_queue_create(key_t key)
{
	/* TODO 1: msgget(key, ...) so that it succeeds ONLY if the queue is new (which flag makes
	 *         an existing key an error?). If the key is taken (EEXIST), the queue is stale:
	 *         find its id (msgget(key, 0)), remove it (msgctl IPC_RMID), and try again. */
	(void)key;
	errno = ENOSYS;
	return -1;
}

ssize_t sv_call(int qid, const void *req, size_t len, void *reply, size_t cap)
{
	/* TODO 2: fill a struct sv_msg (8 KiB: keep it off the stack) with mtype SV_REQUEST, your
	 *         pid and the data, and msgsnd() it. What does msgsz count, and what does it NOT
	 *         count? (man 2 msgsnd, "mtext"). What does msgsnd say about mtype 0?
	 * TODO 3: msgrcv() the reply meant for you and only you: which msgtyp? How much room does
	 *         your buffer have for the text? Retry when a signal interrupts (EINTR).
	 * TODO 4: copy at most cap data bytes into reply; return the reply's length. */
	(void)qid, (void)req, (void)len, (void)reply, (void)cap;
	errno = ENOSYS;
	return -1;
}

int sv_serve(int qid, int n, sv_handler fn, void *arg)
{
	/* TODO 5: n times: receive a request (which msgtyp leaves the replies in the same queue
	 *         alone?), call fn for the reply, and send it back with mtype = the request's
	 *         client. Same msgsz rule as in sv_call. */
	(void)qid, (void)n, (void)fn, (void)arg;
	errno = ENOSYS;
	return -1;
}

int sv_shm_create(key_t key, size_t size)
{
	/* TODO 6: like TODO 1, with shmget(key, size, ...). What does shmget with IPC_CREAT alone
	 *         return when a segment with the key already exists, smaller or full of old data? */
	(void)key, (void)size;
	errno = ENOSYS;
	return -1;
}

int sv_sem_open(key_t key)
{
	/* TODO 7: try to create the set of ONE semaphore exclusively. If you created it, you
	 *         alone initialise it to 1, in a way that also sets sem_otime (SETVAL does not;
	 *         a semop does). Should that semop use SEM_UNDO? (What happens when you exit?)
	 * TODO 8: if it already existed, open it and never touch its value: someone may hold the
	 *         lock. Wait (a few ms at a time, about 1 s at most, then ETIMEDOUT) until its
	 *         sem_otime is non-zero: semctl(id, 0, IPC_STAT, arg). You define union semun. */
	(void)key;
	errno = ENOSYS;
	return -1;
}

int sv_lock(int semid)
{
	/* TODO 9: semop -1 on semaphore 0. What must sem_flg hold so that the kernel gives the
	 *         lock back if this process dies while holding it? Retry on EINTR. */
	(void)semid;
	errno = ENOSYS;
	return -1;
}

int sv_unlock(int semid)
{
	/* TODO 10: semop +1. Which flag keeps the kernel's per-process adjustment balanced, so
	 *          that lock + unlock + exit leaves the value as it was? */
	(void)semid;
	errno = ENOSYS;
	return -1;
}

int sv_counter_add(int shmid, int semid, long times)
{
	/* TODO 11: shmat the segment; TIMES times: lock, read the long, race_window(), write it
	 *          back plus one, unlock. Then shmdt (which does NOT remove the segment). */
	(void)shmid, (void)semid, (void)times;
	errno = ENOSYS;
	return -1;
}

int sv_destroy(int msqid, int shmid, int semid)
{
	/* TODO 12: remove each object whose id is not -1: msgctl / shmctl / semctl with IPC_RMID.
	 *          Try all three even if one fails; return -1 with the first errno then. */
	(void)msqid, (void)shmid, (void)semid;
	errno = ENOSYS;
	return -1;
}
