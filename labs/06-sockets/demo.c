/* demo.c: Lab 06 demo: finite socket buffers, streams vs datagrams, an echo server with clients, SO_PEERCRED. */
#define _GNU_SOURCE
#include "socklab.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	printf("   (%s() is not implemented yet: fill in the TODOs in socklab.c)\n", fn);
	return 1;
}

/* Part 1 needs none of your code: the kernel's own behaviour. */
static void buffers_are_finite(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	static char chunk[1024];
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	size_t total = 0;
	ssize_t n;
	while ((n = write(sv[0], chunk, sizeof chunk)) > 0)
		total += (size_t)n;
	printf("   non-blocking: the socket accepted %zu bytes, then write() failed with %s.\n", total,
	       strerrorname_np(errno));
	fcntl(sv[0], F_SETFL, 0);
	pid_t pid = fork();
	if (pid == 0) { /* the reader wakes up after half a second and drains everything */
		close(sv[0]);
		usleep(500 * 1000);
		while (read(sv[1], chunk, sizeof chunk) > 0)
			;
		_exit(0);
	}
	close(sv[1]);
	double t0 = now();
	n = write(sv[0], chunk, sizeof chunk);
	printf("   blocking (the default): one more write() of %zu bytes waited %.2f s, until the reader\n"
	       "   made room. Socket buffers are finite, and sockets block unless O_NONBLOCK is set.\n",
	       sizeof chunk, now() - t0);
	close(sv[0]);
	waitpid(pid, NULL, 0);
}

static void streams_and_datagrams(void)
{
	int sv[2];
	char buf[64];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	ssize_t w1 = write(sv[0], "abc", 3), w2 = write(sv[0], "def", 3);
	ssize_t n = read(sv[1], buf, sizeof buf);
	(void)w1, (void)w2;
	printf("   stream, two write()s of \"abc\" and \"def\": one read() got %zd bytes \"%.*s\"\n", n,
	       (int)(n > 0 ? n : 0), buf);
	if (send_frame(sv[0], "abc", 3) < 0 || send_frame(sv[0], "def", 3) < 0) {
		if (!not_done("send_frame"))
			perror("send_frame");
	} else {
		ssize_t a = recv_frame(sv[1], buf, sizeof buf);
		ssize_t b = a > 0 ? recv_frame(sv[1], buf + 8, sizeof buf - 8) : -1;
		if (a < 0 && not_done("recv_frame"))
			;
		else
			printf("   stream, two send_frame()s: recv_frame() got %zd bytes \"%.*s\", then %zd \"%.*s\"\n",
			       a, (int)(a > 0 ? a : 0), buf, b, (int)(b > 0 ? b : 0), buf + 8);
	}
	close(sv[0]);
	close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		return;
	send(sv[0], "abc", 3, 0);
	send(sv[0], "def", 3, 0);
	char big[100];
	memset(big, '#', sizeof big);
	send(sv[0], big, sizeof big, 0);
	ssize_t a = recv_dgram(sv[1], buf, sizeof buf);
	if (a < 0 && not_done("recv_dgram")) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	ssize_t b = recv_dgram(sv[1], buf + 8, sizeof buf - 8);
	printf("   datagram, two send()s: recv_dgram() got %zd bytes \"%.3s\", then %zd \"%.3s\"\n", a, buf,
	       b, buf + 8);
	ssize_t c = recv_dgram(sv[1], buf, 10);
	printf("   datagram of 100 bytes into a 10-byte buffer: recv_dgram() says %zd (truncated: the rest is gone)\n",
	       c);
	close(sv[0]);
	close(sv[1]);
}

/* A client: one connection, one frame, one echo. */
static int client(const char *addr, const char *msg)
{
	int fd = sock_connect(addr);
	if (fd < 0) {
		if (!not_done("sock_connect"))
			fprintf(stderr, "   connect to %s: %s\n", addr, strerror(errno));
		return -1;
	}
	char buf[256];
	ssize_t n = -1;
	if (send_frame(fd, msg, (uint32_t)strlen(msg)) >= 0)
		n = recv_frame(fd, buf, sizeof buf - 1);
	if (n < 0 && !not_done("send_frame/recv_frame"))
		perror("   echo");
	if (n >= 0)
		printf("   [client %d] sent \"%s\", got back \"%.*s\"\n", (int)getpid(), msg, (int)n, buf);
	close(fd);
	return n > 0 ? 0 : -1;
}

static void server_with_clients(const char *spec)
{
	int lfd = sock_listen(spec);
	if (lfd < 0) {
		if (!not_done("sock_listen"))
			perror("   sock_listen");
		return;
	}
	/* Port 0 asked the kernel for a free port: read back which one it gave. */
	char addr[64];
	struct sockaddr_in in;
	socklen_t len = sizeof in;
	snprintf(addr, sizeof addr, "%s", spec);
	if (getsockname(lfd, (struct sockaddr *)&in, &len) == 0 && in.sin_family == AF_INET) {
		snprintf(addr, sizeof addr, "tcp:127.0.0.1:%d", ntohs(in.sin_port));
		printf("   (listening on %s)\n", addr);
	}
	enum { CLIENTS = 3 };
	pid_t srv = fork();
	if (srv == 0) {
		int rc = serve(lfd, CLIENTS);
		if (rc < 0 && !not_done("serve"))
			perror("   serve");
		_exit(rc < 0);
	}
	close(lfd);
	pid_t kids[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		if ((kids[i] = fork()) == 0) {
			char msg[64];
			snprintf(msg, sizeof msg, "hello from client %d", i);
			_exit(client(addr, msg) < 0);
		}
	}
	for (int i = 0; i < CLIENTS; i++)
		waitpid(kids[i], NULL, 0);
	if (srv > 0) {
		int status;
		double deadline = now() + 2;
		while (waitpid(srv, &status, WNOHANG) == 0 && now() < deadline)
			usleep(10 * 1000);
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
}

static void peer_credentials(void)
{
	const char *path = "unix:demo-auth.sock";
	int lfd = sock_listen(path);
	if (lfd < 0) {
		if (!not_done("sock_listen"))
			perror("   sock_listen");
		return;
	}
	pid_t kid = fork();
	if (kid == 0) {
		int fd = sock_connect(path);
		char buf[32];
		if (fd >= 0 && send_frame(fd, "uid=0 (I am root, honest)", 25) >= 0) {
			ssize_t n = recv_frame(fd, buf, sizeof buf);
			printf("   [client %d] claimed uid=0 in its hello, heard back \"%.*s\"\n", (int)getpid(),
			       (int)(n > 0 ? n : 0), buf);
		}
		_exit(0);
	}
	struct ucred who = {0};
	int fd = auth_accept(lfd, getuid(), &who);
	if (fd < 0 && !not_done("auth_accept"))
		perror("   auth_accept");
	if (fd >= 0) {
		printf("   [server] the kernel says the client is pid %d, uid %d, gid %d (my uid: %d)\n",
		       (int)who.pid, (int)who.uid, (int)who.gid, (int)getuid());
		close(fd);
	}
	close(lfd);
	unlink(path + 5);
	waitpid(kid, NULL, 0);
}

/* `demo serve ADDR [N]`: a server for nc or `demo client`; `demo client ADDR MSG...`. */
static int modes(int argc, char **argv)
{
	if (!strcmp(argv[1], "serve") && argc >= 3) {
		int lfd = sock_listen(argv[2]);
		if (lfd < 0) {
			if (!not_done("sock_listen"))
				perror("sock_listen");
			return 1;
		}
		int n = argc > 3 ? atoi(argv[3]) : 5;
		printf("echo server on %s for %d clients (pid %d)\n", argv[2], n, (int)getpid());
		fflush(stdout);
		int rc = serve(lfd, n);
		if (rc < 0 && !not_done("serve"))
			perror("serve");
		close(lfd);
		if (!strncmp(argv[2], "unix:", 5))
			unlink(argv[2] + 5);
		return rc < 0;
	}
	if (!strcmp(argv[1], "client") && argc >= 3) {
		int rc = 0;
		for (int i = 3; i < argc; i++)
			rc |= client(argv[2], argv[i]) < 0;
		return rc;
	}
	fprintf(stderr, "usage: demo [serve ADDR [N] | client ADDR MSG...]   (ADDR: unix:PATH or tcp:127.0.0.1:PORT)\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		return modes(argc, argv);

	printf("1. Socket buffers are finite (a socketpair, nobody reading):\n");
	buffers_are_finite();

	printf("\n2. A stream has no message boundaries; frames and datagrams do:\n");
	streams_and_datagrams();

	printf("\n3. One echo server (a process per client), three clients at once, over a UNIX socket:\n");
	server_with_clients("unix:demo.sock");
	unlink("demo.sock");
	printf("\n   ... and the same code over TCP on 127.0.0.1:\n");
	server_with_clients("tcp:127.0.0.1:0");

	printf("\n4. Who is on the other end of a UNIX socket? Ask the kernel (SO_PEERCRED):\n");
	peer_credentials();
	return 0;
}
