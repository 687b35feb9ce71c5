/* demo.c: Lab 05 demo: a FIFO server and its clients, in one run or in two terminals. */
#define _GNU_SOURCE
#include "fifo_service.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int not_done(const char *fn)
{
	if (errno != ENOSYS)
		return 0;
	printf("   (%s() is not implemented yet: fill in the TODOs in fifo_service.c)\n", fn);
	return 1;
}

/* Something like `ls -l DIR`, for FIFOs: the 'p' in front of the mode marks a named pipe. */
static void list_dir(const char *dir)
{
	DIR *d = opendir(dir);
	int any = 0;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX + 256], mode[11] = "----------";
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		mode[0] = S_ISFIFO(st.st_mode) ? 'p' : S_ISDIR(st.st_mode) ? 'd' : '-';
		const char *rwx = "rwxrwxrwx";
		for (int i = 0; i < 9; i++)
			if (st.st_mode & (0400 >> i))
				mode[i + 1] = rwx[i];
		printf("     %s  %s\n", mode, e->d_name);
		any = 1;
	}
	closedir(d);
	if (!any)
		printf("     (empty)\n");
}

static int server(const char *dir)
{
	mkdir(dir, 0700); /* a private directory: nobody else may create or swap files in it */
	struct fifo_server srv;
	if (fifo_server_open(&srv, dir) < 0) {
		if (!not_done("fifo_server_open"))
			perror("fifo_server_open");
		return 1;
	}
	printf("server %d: listening on %s/%s\n", (int)getpid(), dir, FIFO_SERVER_NAME);
	list_dir(dir);
	printf("In another terminal try:\n"
	       "  make run LAB=05 ARGS=\"client %s hello\"\n"
	       "  ls -l %s            (watch for a reply.<pid>.fifo while a client waits)\n"
	       "  strace -f -e trace=openat,read,write -p %d\n"
	       "  make run LAB=05 ARGS=\"client %s --shutdown\"   (stops this server)\n",
	       dir, dir, (int)getpid(), dir);
	fflush(stdout);
	int n = fifo_server_run(&srv, 0);
	if (n < 0 && !not_done("fifo_server_run"))
		perror("fifo_server_run");
	else if (n >= 0)
		printf("server: shut down after %d replies\n", n);
	if (fifo_server_close(&srv) < 0 && !not_done("fifo_server_close"))
		perror("fifo_server_close");
	return n < 0;
}

static int client(const char *dir, const char *text)
{
	int shutdown = !strcmp(text, "--shutdown");
	struct fifo_reply r;
	if (fifo_request(dir, shutdown ? FIFO_OP_SHUTDOWN : FIFO_OP_UPPER, shutdown ? "bye" : text, &r) < 0) {
		if (!not_done("fifo_request"))
			fprintf(stderr, "client %d: fifo_request: %s%s\n", (int)getpid(), strerror(errno),
				errno == ENXIO ? " (no server is reading the FIFO)" : "");
		return 1;
	}
	printf("client %d: reply #%u: \"%.*s\"\n", (int)getpid(), r.seq, (int)r.len, r.text);
	return 0;
}

/* CPU seconds (user + system) that PID has used so far. */
static double cpu_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	unsigned long ut, st;
	if (!rp || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* No arguments: a server child and a few client children, with the directory shown as it goes. */
static int self_contained(void)
{
	char dir[] = "/tmp/fifo-demo.XXXXXX";
	if (!mkdtemp(dir)) { /* mode 0700 */
		perror("mkdtemp");
		return 1;
	}
	printf("1. A server child opens %s/%s (mode 0600, in a 0700 directory):\n", dir, FIFO_SERVER_NAME);
	struct fifo_server srv;
	if (fifo_server_open(&srv, dir) < 0) {
		if (!not_done("fifo_server_open"))
			perror("fifo_server_open");
		rmdir(dir);
		return 0;
	}
	list_dir(dir);
	fflush(stdout);
	pid_t spid = fork();
	if (spid == 0) {
		int n = fifo_server_run(&srv, 0);
		if (n < 0 && !not_done("fifo_server_run"))
			perror("fifo_server_run");
		_exit(n < 0);
	}
	close(srv.fd); /* the child serves; the parent keeps only the name, to remove it later */
	close(srv.keep_fd);

	printf("\n2. Three clients at once, each with its own reply FIFO:\n");
	fflush(stdout);
	const char *words[] = {"named pipes", "meet by name", "in the file system"};
	pid_t kids[3];
	for (int i = 0; i < 3; i++)
		if ((kids[i] = fork()) == 0)
			_exit(client(dir, words[i]));
	for (int i = 0; i < 3; i++)
		waitpid(kids[i], NULL, 0);

	printf("\n3. Nobody is connected for 300 ms; then a late client comes:\n");
	fflush(stdout);
	double cpu0 = cpu_of(spid);
	usleep(300 * 1000);
	printf("   the server used %.2f s of CPU while it waited (a server that spins on read() == 0\n"
	       "   burns about 0.3 s here)\n", cpu_of(spid) - cpu0);
	fflush(stdout);
	pid_t late = fork();
	if (late == 0)
		_exit(client(dir, "late but welcome"));
	waitpid(late, NULL, 0);

	printf("\n4. A shutdown request; then the server's FIFO is removed:\n");
	fflush(stdout);
	pid_t last = fork();
	if (last == 0)
		_exit(client(dir, "--shutdown"));
	waitpid(last, NULL, 0);
	int status;
	waitpid(spid, &status, 0);
	srv.fd = srv.keep_fd = -1;
	if (fifo_server_close(&srv) < 0 && !not_done("fifo_server_close"))
		perror("fifo_server_close");
	list_dir(dir);
	if (rmdir(dir) < 0)
		printf("   (%s is not empty: something was left behind)\n", dir);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return server(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3]);
	if (argc > 1) {
		fprintf(stderr, "usage: demo                      (server and clients in one run)\n"
				"       demo server DIR\n"
				"       demo client DIR TEXT | --shutdown\n");
		return 2;
	}
	return self_contained();
}
