// SPDX-License-Identifier: GPL-2.0
/*
 * connect_rate ADDR PORT LISTEN_PORT COUNT
 *
 * Listens on LISTEN_PORT of ADDR, then opens COUNT TCP connections to
 * ADDR:PORT one after another, accepting each on the listener, and prints
 * "connections/s RATE". When PORT differs from LISTEN_PORT, every connection
 * only completes if a redirect sends it to the listener, so the rate is that
 * of new connections through the NAT hook. Connections end with an RST
 * (SO_LINGER 0) so that TIME_WAIT does not exhaust the ports.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int make_addr(const char *host, int port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int one_connection(int listener, const struct sockaddr_storage *to,
			  socklen_t len)
{
	int fd, peer;

	fd = socket(to->ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, len)) {
		close(fd);
		return -1;
	}
	peer = accept(listener, NULL, NULL);
	if (peer < 0) {
		close(fd);
		return -1;
	}
	reset_close(fd);
	reset_close(peer);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage listen_at, connect_to;
	socklen_t listen_len, connect_len;
	struct timespec start, end;
	int listener, one = 1;
	long count, i;
	double secs;

	if (argc != 5 ||
	    make_addr(argv[1], atoi(argv[3]), &listen_at, &listen_len) ||
	    make_addr(argv[1], atoi(argv[2]), &connect_to, &connect_len)) {
		fprintf(stderr, "usage: connect_rate ADDR PORT LISTEN_PORT COUNT\n");
		return 2;
	}
	count = atol(argv[4]);
	listener = socket(listen_at.ss_family, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listener < 0 ||
	    bind(listener, (struct sockaddr *)&listen_at, listen_len) ||
	    listen(listener, 128)) {
		perror("connect_rate: listen");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < count; i++) {
		if (one_connection(listener, &connect_to, connect_len)) {
			perror("connect_rate: connection");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = end.tv_sec - start.tv_sec + (end.tv_nsec - start.tv_nsec) / 1e9;
	printf("connections/s %.0f\n", count / secs);
	return 0;
}
