/* sysv_lab.h: Lab 08 API: a request/reply service on one SysV message queue, and a SysV shared
   counter guarded by a SysV semaphore. */
#ifndef LAB08_SYSV_LAB_H
#define LAB08_SYSV_LAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- The message service ------------------------------------------------------------------- */

/* The largest message text (the bytes AFTER mtype) the kernel accepts: /proc/sys/kernel/msgmax. */
enum { SV_MSG_MAX = 8192 };

/* Requests travel with this mtype. Replies travel with mtype = the client's pid. */
enum { SV_REQUEST = 1 };

/*
 * One message on the queue, requests and replies alike (the grader's peers use it too).
 * Only the first fields up to data[len] are sent: for LEN data bytes, the message text
 * (what msgsnd/msgrcv call msgsz) is offsetof(struct sv_msg, data) - sizeof(long) + LEN
 * bytes. mtype itself is never counted. A message with LEN = SV_DATA_MAX is exactly
 * SV_MSG_MAX bytes of text, the most the kernel takes.
 */
struct sv_msg {
	long mtype;      /* SV_REQUEST, or the pid of the client a reply is for; never 0 */
	int32_t client;  /* in a request: the pid of the client that sent it */
	uint32_t len;    /* how many bytes of data are used */
	char data[SV_MSG_MAX - 2 * sizeof(int32_t)];
};
enum { SV_DATA_MAX = SV_MSG_MAX - 2 * sizeof(int32_t) }; /* 8184 */

/*
 * Creates a NEW, empty message queue (mode 0600) under KEY and returns its id.
 * If a queue with this key already exists (left behind by a crashed run, or a key collision),
 * it is stale: remove it and create a fresh one. Never hand back the old queue and the
 * messages still in it. Returns the id, or -1 with errno set.
 */
int sv_queue_create(key_t key);

/*
 * Client side: sends the request REQ (LEN bytes, 0 <= LEN <= SV_DATA_MAX) to the server on
 * queue QID, with mtype SV_REQUEST and client = getpid(), then waits for the reply meant
 * for THIS process (mtype = getpid()) and copies at most CAP of its data bytes into REPLY.
 * Several clients may call at the same time on the same queue: each must get its own reply,
 * never another client's and never a request. A signal interrupting a wait (for room to send,
 * or for the reply) is not a reason to give up. An empty request (LEN 0) is a request like any
 * other, and an empty reply has length 0.
 * Returns the reply's length (larger than CAP means it was cut short; never more than CAP bytes
 * are written), or -1 with errno set (EINVAL if LEN > SV_DATA_MAX, and then nothing is sent).
 * If the queue is removed while it waits, it fails (EIDRM; EINVAL once the id is gone): no
 * reply came, so nothing is copied into REPLY.
 */
ssize_t sv_call(int qid, const void *req, size_t len, void *reply, size_t cap);

/* What the server does with one request: writes the reply into REPLY (room for CAP =
   SV_DATA_MAX bytes) and returns its length. */
typedef size_t (*sv_handler)(const void *req, size_t len, void *reply, size_t cap, void *arg);

/*
 * Server side: takes N requests (mtype SV_REQUEST) from QID, one after the other, and for each
 * sends FN's reply to the client that asked (mtype = the request's client field). It takes
 * nothing but requests: replies waiting in the queue for clients are not its business.
 * Returns 0 after N requests, or -1 with errno set.
 */
int sv_serve(int qid, int n, sv_handler fn, void *arg);

/* ---- A shared counter: a SysV segment guarded by a SysV semaphore --------------------------- */

/*
 * Creates a NEW shared memory segment of exactly SIZE bytes under KEY (mode 0600) and returns
 * its id. A new segment is zero-filled. If a segment with this key already exists, it is stale
 * (perhaps smaller, perhaps full of old data): remove it and create a fresh one.
 * Returns the id, or -1 with errno set.
 */
int sv_shm_create(key_t key, size_t size);

/*
 * Opens the lock for KEY: a set of ONE semaphore, 1 = free, 0 = held. Any number of processes
 * may call this at the same time; whoever finds no set creates it (mode 0600) and initialises
 * it to 1. Exactly one process initialises it, once: a set that already exists is never reset,
 * since someone may be holding the lock right now. An opener that finds a set its creator has
 * not initialised yet waits for that (the creator's first semop sets the set's sem_otime), at
 * most about 1 s, then fails with ETIMEDOUT. If the set is removed while it waits, it fails at
 * once (EIDRM or EINVAL, from semctl).
 * Returns the semaphore set's id, or -1 with errno set.
 */
int sv_sem_open(key_t key);

/*
 * Takes the lock (waits while another process holds it) / gives it back. If a process dies
 * while holding the lock, the kernel gives it back (SEM_UNDO), so the others do not wait
 * forever. A process that locks and unlocks any number of times and then exits leaves the
 * semaphore exactly as it found it. sv_lock keeps waiting when a signal interrupts it.
 * Return 0, or -1 with errno set.
 */
int sv_lock(int semid);
int sv_unlock(int semid);

/*
 * Adds 1 to the long at the start of segment SHMID, TIMES times, each time under the lock
 * SEMID (several processes do this at once). Attaches the segment and detaches it again before
 * returning, whatever happens (the caller is left with no attachment). Never touches the counter
 * without holding the lock: if taking the lock fails (the set was removed), it stops there.
 * Calls race_window() (common/race.h) between reading the counter and writing it back.
 * Returns 0, or -1 with errno set.
 */
int sv_counter_add(int shmid, int semid, long times);

/* ---- Clean-up ------------------------------------------------------------------------------- */

/*
 * Removes the queue MSQID, the segment SHMID and the semaphore set SEMID from the kernel, so
 * that looking their keys up again (msgget/shmget/semget(key, 0, 0)) fails with ENOENT. An id of
 * -1 is skipped. Detaching or exiting never removes a SysV object: it stays until IPC_RMID.
 * Returns 0, or -1 with errno set (every removal is still tried).
 */
int sv_destroy(int msqid, int shmid, int semid);

#endif
