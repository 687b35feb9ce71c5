/* sysv_lab.c: Lab 08 reference solution: a SysV request/reply queue and a SysV counter with a lock. */
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

/* The message text for LEN data bytes: everything after mtype, up to the last data byte. */
static size_t text_size(size_t len)
{
	return offsetof(struct sv_msg, data) - sizeof(long) + len;
}

int sv_queue_create(key_t key)
{
	for (int tries = 0; tries < 3; tries++) {
		/* IPC_EXCL: only a queue WE created is known to be empty and ours. */
		int id = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
		if (id >= 0 || errno != EEXIST)
			return id;
		/* A stale queue holds the key: remove it and try again. */
		int old = msgget(key, 0);
		if (old >= 0 && msgctl(old, IPC_RMID, NULL) < 0 && errno != EIDRM && errno != EINVAL)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static int send_msg(int qid, struct sv_msg *m)
{
	int r;
	do
		r = msgsnd(qid, m, text_size(m->len), 0);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Receives the next message of type TYPE (exactly that type: TYPE > 0). */
static ssize_t recv_msg(int qid, struct sv_msg *m, long type)
{
	ssize_t n;
	do /* msgsz is the room for the text, sizeof m - sizeof(long), never sizeof m */
		n = msgrcv(qid, m, sizeof *m - sizeof(long), type, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n < text_size(0)) { /* too short to be one of ours */
		errno = EBADMSG;
		return -1;
	}
	if (n >= 0 && m->len > (size_t)n - text_size(0))
		m->len = (uint32_t)((size_t)n - text_size(0));
	return n;
}

ssize_t sv_call(int qid, const void *req, size_t len, void *reply, size_t cap)
{
	if (len > SV_DATA_MAX) {
		errno = EINVAL;
		return -1;
	}
	static struct sv_msg m; /* 8 KiB: not on the stack */
	m.mtype = SV_REQUEST;   /* mtype 0 is refused by msgsnd (EINVAL) */
	m.client = (int32_t)getpid();
	m.len = (uint32_t)len;
	memcpy(m.data, req, len);
	if (send_msg(qid, &m) < 0)
		return -1;
	/* msgtyp = our pid: the kernel hands us only our own reply, whoever else is waiting. */
	if (recv_msg(qid, &m, (long)getpid()) < 0)
		return -1;
	memcpy(reply, m.data, m.len < cap ? m.len : cap);
	return m.len;
}

int sv_serve(int qid, int n, sv_handler fn, void *arg)
{
	static struct sv_msg in, out;
	for (int i = 0; i < n; i++) {
		/* msgtyp = SV_REQUEST, not 0: with 0 we would also take the replies we just sent. */
		if (recv_msg(qid, &in, SV_REQUEST) < 0)
			return -1;
		if (in.client <= 0) { /* a reply needs mtype > 0: drop a request with no sender */
			continue;
		}
		size_t len = fn(in.data, in.len, out.data, SV_DATA_MAX, arg);
		out.mtype = in.client;
		out.client = (int32_t)getpid();
		out.len = (uint32_t)(len < SV_DATA_MAX ? len : SV_DATA_MAX);
		if (send_msg(qid, &out) < 0)
			return -1;
	}
	return 0;
}

int sv_shm_create(key_t key, size_t size)
{
	for (int tries = 0; tries < 3; tries++) {
		int id = shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
		if (id >= 0 || errno != EEXIST)
			return id;
		/* Whatever holds the key is stale: maybe smaller (shmget would say EINVAL), maybe full
		   of old data. IPC_RMID frees the key now; attached users keep their mapping. */
		int old = shmget(key, 0, 0);
		if (old >= 0 && shmctl(old, IPC_RMID, NULL) < 0 && errno != EIDRM && errno != EINVAL)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* semctl needs this union from the caller (man 2 semctl). */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

int sv_sem_open(key_t key)
{
	int id = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
	if (id >= 0) {
		/* We created it (value 0), so we alone initialise it. A semop, not SETVAL: it sets
		   sem_otime, which tells the others that initialisation is done. No SEM_UNDO here,
		   or our exit would take the 1 back. */
		struct sembuf up = {.sem_num = 0, .sem_op = 1, .sem_flg = 0};
		if (semop(id, &up, 1) < 0) {
			int saved = errno;
			semctl(id, 0, IPC_RMID);
			errno = saved;
			return -1;
		}
		return id;
	}
	if (errno != EEXIST)
		return -1;
	id = semget(key, 1, 0);
	if (id < 0)
		return -1;
	/* Someone else created it: never SETVAL (the lock may be held right now). Wait until its
	   creator's first semop has set sem_otime. */
	for (int i = 0; i < 200; i++) {
		struct semid_ds ds;
		union semun arg = {.buf = &ds};
		if (semctl(id, 0, IPC_STAT, arg) < 0)
			return -1;
		if (ds.sem_otime != 0)
			return id;
		struct timespec pause = {0, 5 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int change(int semid, short delta)
{
	/* SEM_UNDO on BOTH operations: the kernel keeps a per-process adjustment and applies it
	   at exit, so a holder that dies gives the lock back; lock+unlock cancel out. */
	struct sembuf op = {.sem_num = 0, .sem_op = delta, .sem_flg = SEM_UNDO};
	int r;
	do
		r = semop(semid, &op, 1);
	while (r < 0 && errno == EINTR);
	return r;
}

int sv_lock(int semid)
{
	return change(semid, -1);
}

int sv_unlock(int semid)
{
	return change(semid, +1);
}

int sv_counter_add(int shmid, int semid, long times)
{
	volatile long *counter = shmat(shmid, NULL, 0);
	if (counter == (void *)-1)
		return -1;
	int r = 0;
	for (long i = 0; i < times && r == 0; i++) {
		if ((r = sv_lock(semid)) < 0)
			break;
		long v = *counter;
		race_window();
		*counter = v + 1;
		r = sv_unlock(semid);
	}
	int saved = errno;
	shmdt((void *)counter); /* detaching does not remove the segment */
	errno = saved;
	return r;
}

int sv_destroy(int msqid, int shmid, int semid)
{
	int r = 0, saved = 0;
	if (msqid != -1 && msgctl(msqid, IPC_RMID, NULL) < 0)
		r = -1, saved = errno;
	if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) < 0)
		r = -1, saved = saved ? saved : errno;
	if (semid != -1 && semctl(semid, 0, IPC_RMID) < 0)
		r = -1, saved = saved ? saved : errno;
	if (r < 0)
		errno = saved;
	return r;
}
