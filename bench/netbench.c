// SPDX-License-Identifier: GPL-2.0
/*
 * netbench connect|stream AMOUNT ROUNDS NAME,SERVER_NS,CLIENT_NS,ADDR,PORT,LISTEN_PORT ...
 *
 * For each entry, listens on LISTEN_PORT of ADDR in network namespace
 * SERVER_NS (a path such as /run/netns/NAME); its clients connect to
 * ADDR:PORT from CLIENT_NS ("-": SERVER_NS itself). When PORT differs from
 * LISTEN_PORT a connection only completes if a redirect sends it to the
 * listener. Sockets keep the namespace they were made in, so one process
 * serves every entry.
 *
 * ROUNDS rounds take the entries in turn, each round starting one entry
 * further on, so that a slow spell of the machine falls on all of them
 * alike. In each turn an entry gets AMOUNT units of work:
 *   connect  AMOUNT connections one after another, each accepted and ended
 *            with an RST (SO_LINGER 0) so that TIME_WAIT does not exhaust
 *            the ports;
 *   stream   AMOUNT MiB over one connection to a reader in a child
 *            process, timed until the reader has seen the end.
 * Then it prints, per entry, "NAME RATE": connections/s or MB/s (10^6
 * bytes) over all of its turns.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

static int make_addr(const char *host, int port, struct endpoint *ep)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ep->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ep->len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static int open_listener(const struct endpoint *at)
{
	struct timeval limit = { .tv_sec = 10 };
	int fd, one = 1;

	fd = socket(at->ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A connection that reached another listener fails, not hangs. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (bind(fd, (const struct sockaddr *)&at->ss, at->len) ||
	    listen(fd, 128)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sockets keep the namespace they were made in: the listener stays. */
static int enter_netns(const char *path)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return err;
}

static int dial(const struct endpoint *to)
{
	int fd;

	fd = socket(to->ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct entry {
	char *name, *server_ns, *client_ns;
	struct endpoint to;
	int listener;
	double secs;
};

/* Seconds taken by COUNT connections, or a negative value. */
static double run_connect(int listener, const struct endpoint *to, long count)
{
	double start = now();
	int fd, peer;
	long i;

	for (i = 0; i < count; i++) {
		fd = dial(to);
		peer = fd < 0 ? -1 : accept(listener, NULL, NULL);
		if (peer < 0)
			return -1;
		reset_close(fd);
		reset_close(peer);
	}
	return now() - start;
}

static void drain(int fd)
{
	static char buf[1 << 16];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static int send_all(int fd, long mib)
{
	static char buf[1 << 16];
	long left = mib << 20;
	ssize_t n;

	while (left > 0) {
		n = write(fd, buf, sizeof(buf) < (size_t)left ? sizeof(buf) : (size_t)left);
		if (n <= 0)
			return -1;
		left -= n;
	}
	return shutdown(fd, SHUT_WR);
}

/* Seconds taken by MIB MiB over one connection, or a negative value. */
static double run_stream(int listener, const struct endpoint *to, long mib)
{
	int fd, peer, status, err;
	double start;
	pid_t pid;

	fd = dial(to);
	peer = fd < 0 ? -1 : accept(listener, NULL, NULL);
	if (peer < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		drain(peer);
	close(peer);
	start = now();
	err = pid < 0 || send_all(fd, mib) || waitpid(pid, &status, 0) != pid;
	close(fd);
	return err ? -1 : now() - start;
}

/* NAME,SERVER_NS,CLIENT_NS,ADDR,PORT,LISTEN_PORT: listening when done. */
static int set_up(struct entry *e, char *spec)
{
	char *field[6], *save = NULL;
	struct endpoint at;
	int i;

	for (i = 0; i < 6; i++) {
		field[i] = strtok_r(i ? NULL : spec, ",", &save);
		if (!field[i])
			return -1;
	}
	e->name = field[0];
	e->server_ns = field[1];
	e->client_ns = strcmp(field[2], "-") ? field[2] : field[1];
	if (make_addr(field[3], atoi(field[4]), &e->to) ||
	    make_addr(field[3], atoi(field[5]), &at) ||
	    enter_netns(e->server_ns))
		return -1;
	e->listener = open_listener(&at);
	return e->listener < 0 ? -1 : 0;
}

static int run_rounds(struct entry *e, int n, int stream, long amount, long rounds)
{
	double secs;
	long r;
	int k;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < n; k++) {
			struct entry *x = &e[(r + k) % n];

			if (enter_netns(x->client_ns))
				return -1;
			secs = stream ? run_stream(x->listener, &x->to, amount) :
					run_connect(x->listener, &x->to, amount);
			if (secs < 0) {
				fprintf(stderr, "netbench: %s: %s\n", x->name, strerror(errno));
				return -1;
			}
			x->secs += secs;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long amount, rounds;
	struct entry *e;
	int n, i, stream;

	if (argc < 5 || (strcmp(argv[1], "connect") && strcmp(argv[1], "stream"))) {
		fprintf(stderr, "usage: netbench connect|stream AMOUNT ROUNDS NAME,SERVER_NS,CLIENT_NS,ADDR,PORT,LISTEN_PORT ...\n");
		return 2;
	}
	stream = !strcmp(argv[1], "stream");
	amount = atol(argv[2]);
	rounds = atol(argv[3]);
	n = argc - 4;
	e = calloc(n, sizeof(*e));
	if (!e)
		return 1;
	for (i = 0; i < n; i++) {
		if (set_up(&e[i], argv[4 + i])) {
			fprintf(stderr, "netbench: %s: %s\n", argv[4 + i], strerror(errno));
			return 1;
		}
	}
	if (run_rounds(e, n, stream, amount, rounds))
		return 1;
	for (i = 0; i < n; i++)
		printf("%s %.1f\n", e[i].name,
		       (stream ? (amount << 20) / 1e6 : amount) * rounds / e[i].secs);
	return 0;
}
