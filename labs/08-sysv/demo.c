/* demo.c: Lab 08 demo: SysV objects seen with ipcs, a request/reply queue, a locked counter, SEM_UNDO, and why poll cannot wait on a SysV queue. */
#define _GNU_SOURCE
#include "sysv_lab.h"
#include "race.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in sysv_lab.c)\n", fn);
	return 1;
}

static void fail(const char *fn)
{
	if (!not_done(fn))
		printf("   %s() failed: %s\n", fn, strerror(errno));
}

/* `ipcs`, or the same tables from /proc/sysvipc when ipcs is not installed. */
static void list_objects(key_t kq, key_t km, key_t ks)
{
	printf("   our keys: queue 0x%08x, segment 0x%08x, semaphores 0x%08x\n", (unsigned)kq,
	       (unsigned)km, (unsigned)ks);
	fflush(stdout);
	if (system("command -v ipcs >/dev/null 2>&1 && ipcs -q -m -s | sed 's/^/   | /'") == 0)
		return;
	const char *kinds[] = {"msg", "shm", "sem"};
	for (int k = 0; k < 3; k++) {
		char path[64], line[512];
		snprintf(path, sizeof path, "/proc/sysvipc/%s", kinds[k]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof line, f))
			printf("   | %s", line);
		fclose(f);
	}
}

static size_t shout(const void *req, size_t len, void *reply, size_t cap, void *arg)
{
	(void)arg;
	size_t n = len < cap ? len : cap;
	for (size_t i = 0; i < n; i++)
		((char *)reply)[i] = (char)toupper(((const unsigned char *)req)[i]);
	return n;
}

static void request_reply(int q)
{
	enum { CLIENTS = 3 };
	pid_t kids[CLIENTS];
	fflush(stdout);
	for (int i = 0; i < CLIENTS; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char req[64], reply[64];
			int len = snprintf(req, sizeof req, "hello from client %d", (int)getpid());
			ssize_t n = sv_call(q, req, (size_t)len, reply, sizeof reply - 1);
			if (n < 0) {
				fail("sv_call");
				_exit(1);
			}
			reply[n < (ssize_t)sizeof reply ? n : 0] = '\0';
			printf("   client %d sent \"%s\", got back \"%s\" (mtype %d)\n", (int)getpid(), req,
			       reply, (int)getpid());
			fflush(stdout);
			_exit(0);
		}
	}
	if (sv_serve(q, CLIENTS, shout, NULL) < 0) {
		fail("sv_serve");
		for (int i = 0; i < CLIENTS; i++)
			if (kids[i] > 0)
				kill(kids[i], SIGKILL);
	}
	for (int i = 0; i < CLIENTS; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
}

static void counter(int shmid, int semid)
{
	enum { PROCS = 3, TIMES = 2000 };
	pid_t kids[PROCS];
	fflush(stdout);
	for (int i = 0; i < PROCS; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(sv_counter_add(shmid, semid, TIMES) < 0 ? (errno == ENOSYS ? 38 : 1) : 0);
	}
	int nosys = 0;
	for (int i = 0; i < PROCS; i++) {
		int st = 0;
		if (kids[i] > 0)
			waitpid(kids[i], &st, 0);
		nosys += WIFEXITED(st) && WEXITSTATUS(st) == 38;
	}
	if (nosys) {
		errno = ENOSYS;
		not_done("sv_counter_add");
		return;
	}
	long *c = shmat(shmid, NULL, SHM_RDONLY);
	if (c == (void *)-1)
		return;
	printf("   %d processes x %d increments under the lock: counter = %ld (expected %d)\n", PROCS,
	       TIMES, *c, PROCS * TIMES);
	shmdt(c);
}

static void killed_holder(int semid)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char ok = sv_lock(semid) == 0 ? 'L' : 'E';
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	if (read(p[0], &c, 1) != 1)
		c = 0;
	close(p[0]);
	printf("   holder %d took the lock (value now %d); SIGKILL it...\n", (int)pid,
	       semctl(semid, 0, GETVAL));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	int v = semctl(semid, 0, GETVAL);
	printf("   after its death the value is %d: %s\n", v,
	       v == 1 ? "SEM_UNDO gave the lock back, nobody deadlocks"
		      : "the lock is lost for good (no SEM_UNDO): every later sv_lock() would hang");
	if (v != 1) {
		struct sembuf up = {0, 1, 0};
		semop(semid, &up, 1); /* repair it for the rest of the demo */
	}
	(void)c;
}

static void poll_demo(int q)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) { /* a peer that writes to the pipe AND sends to the queue a little later */
		usleep(150 * 1000);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		struct {
			long mtype;
			char text[8];
		} m = {42, "ping"};
		msgsnd(q, &m, sizeof m.text, 0);
		_exit(0);
	}
	close(p[1]);
	/* A pollfd needs a file descriptor. msgget() gave us an id in a kernel table, not a
	   descriptor: as an fd it means nothing (POLLNVAL), or worse, some unrelated open file. */
	struct pollfd bogus = {.fd = q, .events = POLLIN};
	int r = poll(&bogus, 1, 0);
	char link[64], target[256] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", q);
	ssize_t tl = readlink(link, target, sizeof target - 1);
	target[tl > 0 ? tl : 0] = '\0';
	if (bogus.revents & POLLNVAL)
		printf("   poll() on queue id %d as if it were a descriptor: POLLNVAL, no such descriptor\n", q);
	else
		printf("   poll() on queue id %d as if it were a descriptor: returns %d, but descriptor %d is\n"
		       "   %s, an unrelated file: the id and the fd only share a number\n", q, r, q,
		       tl > 0 ? target : "some open file");
	int got_pipe = 0, got_msg = 0, rounds = 0;
	while (!(got_pipe && got_msg) && rounds < 300) {
		rounds++;
		struct pollfd fd = {.fd = got_pipe ? -1 : p[0], .events = POLLIN}; /* -1: ignored */
		if (poll(&fd, 1, 10) > 0 && (fd.revents & POLLIN)) {
			char c;
			got_pipe = read(p[0], &c, 1) == 1;
			printf("   wake-up %3d: poll() returned because the pipe has data\n", rounds);
		}
		/* The queue cannot be in the pollfd array: ask it on every wake-up, never blocking. */
		struct {
			long mtype;
			char text[8];
		} m;
		if (!got_msg && msgrcv(q, &m, sizeof m.text, 42, IPC_NOWAIT) >= 0) {
			got_msg = 1;
			printf("   wake-up %3d: found the queue message \"%s\" by asking (up to 10 ms late)\n",
			       rounds, m.text);
		}
	}
	printf("   %d wake-ups for 2 events: a SysV queue forces a timer loop (or a thread blocked\n"
	       "   in msgrcv); a POSIX queue (an mqd_t is a descriptor on Linux) or a socket joins poll().\n",
	       rounds);
	close(p[0]);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	race_from_env();
	/* Keys from ftok() on this program's own file: proj<<24 | (dev&0xff)<<16 | (ino&0xffff). */
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	struct stat st;
	if (n <= 0 || stat(exe, &st) < 0) {
		perror("stat");
		return 1;
	}
	key_t kq = ftok(exe, 'q'), km = ftok(exe, 'm'), ks = ftok(exe, 's');
	printf("1. Keys: ftok(\"%s\", 'q') = 0x%08x\n", exe, (unsigned)kq);
	printf("   = 'q'<<24 | (dev 0x%lx & 0xff)<<16 | (inode %lu & 0xffff) = 0x%08x\n",
	       (unsigned long)st.st_dev, (unsigned long)st.st_ino,
	       (unsigned)(('q' << 24) | ((st.st_dev & 0xff) << 16) | (st.st_ino & 0xffff)));
	printf("   Only 16 bits of the inode: any file whose inode differs by a multiple of 65536 on a\n"
	       "   device with the same low byte gets the SAME key. Keys collide; plan for it.\n");

	printf("\n2. Before: ipcs (queues, segments, semaphore sets)\n");
	list_objects(kq, km, ks);

	printf("\n3. Creating a queue, a 4 KiB segment and a lock:\n");
	int q = sv_queue_create(kq);
	if (q < 0)
		fail("sv_queue_create");
	int shmid = sv_shm_create(km, 4096);
	if (shmid < 0)
		fail("sv_shm_create");
	int semid = sv_sem_open(ks);
	if (semid < 0)
		fail("sv_sem_open");
	printf("   queue id %d, segment id %d, semaphore set id %d\n", q, shmid, semid);
	list_objects(kq, km, ks);

	if (q >= 0) {
		printf("\n4. Three clients, one server, ONE queue (requests: mtype %d; replies: mtype = pid):\n",
		       SV_REQUEST);
		request_reply(q);
	}
	if (shmid >= 0 && semid >= 0) {
		printf("\n5. A counter in the segment, guarded by the semaphore (IPCLAB_RACE=sleep widens races):\n");
		counter(shmid, semid);
		printf("\n6. A lock holder killed while holding the lock:\n");
		killed_holder(semid);
	}
	if (q >= 0) {
		printf("\n7. A poll() loop over a pipe and a SysV queue:\n");
		poll_demo(q);
	}

	printf("\n8. sv_destroy(), then ipcs again:\n");
	if (sv_destroy(q, shmid, semid) < 0)
		fail("sv_destroy");
	list_objects(kq, km, ks);
	/* Nothing of ours may outlive the demo: SysV objects stay in the kernel until IPC_RMID. */
	int left = 0, id;
	if ((id = msgget(kq, 0)) >= 0)
		left++, msgctl(id, IPC_RMID, NULL);
	if ((id = shmget(km, 0, 0)) >= 0)
		left++, shmctl(id, IPC_RMID, NULL);
	if ((id = semget(ks, 0, 0)) >= 0)
		left++, semctl(id, 0, IPC_RMID);
	if (left)
		printf("   %d object(s) with our keys were still there; the demo removed them. Without "
		       "IPC_RMID\n   they would stay in the kernel until reboot.\n", left);
	return 0;
}
