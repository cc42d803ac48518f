/*
 * httpd.c: a small loopback HTTP/1.1 server for perfgate's own benchmarks
 * (tests/perf/http_scaling.sh, tests/perf/shard_exact.sh), for machines
 * without nginx: THREADS event loops, each with its own SO_REUSEPORT
 * listening socket, keep-alive connections, and a fixed answer,
 * "200 hello, world\n", at once, or after the delay the request asks for
 * (`us=N` in the request line or `"us": N` in its body: N microseconds),
 * held on the loop's timer heap.  It stops after LIFETIME seconds (default
 * 3600) so that a forgotten one cannot outlive its benchmark.
 *
 *   httpd [-t THREADS] [-p PORT] [-f PORTFILE] [-l LIFETIME]
 *
 * The port (chosen by the kernel unless -p) is written to PORTFILE once
 * every loop listens.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define BUF 16384
#define EVENTS 512

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";

struct conn {
	int fd;
	char buf[BUF];
	size_t len;
	uint64_t due;        /* ns: a delayed answer's time (0: none pending) */
	size_t heap_pos;
};

struct loop {
	int ep, lfd;
	struct conn **heap;  /* delayed answers, earliest first */
	size_t n_heap, cap_heap;
};

static uint16_t port;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct conn *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_pos = a;
	l->heap[b]->heap_pos = b;
}

static void heap_push(struct loop *l, struct conn *c)
{
	size_t i;

	if (l->n_heap == l->cap_heap) {
		l->cap_heap = l->cap_heap ? 2 * l->cap_heap : 256;
		l->heap = realloc(l->heap, l->cap_heap * sizeof(*l->heap));
		if (!l->heap)
			abort();
	}
	i = l->n_heap++;
	l->heap[i] = c;
	c->heap_pos = i;
	while (i > 0 && l->heap[(i - 1) / 2]->due > l->heap[i]->due) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct conn *heap_pop(struct loop *l)
{
	struct conn *top = l->heap[0];
	size_t i = 0;

	l->heap[0] = l->heap[--l->n_heap];
	l->heap[0]->heap_pos = 0;
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = 2 * i + 2;

		if (a < l->n_heap && l->heap[a]->due < l->heap[m]->due)
			m = a;
		if (b < l->n_heap && l->heap[b]->due < l->heap[m]->due)
			m = b;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
	return top;
}

static void conn_close(struct loop *l, struct conn *c)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->due) { /* answered never: leave it in the heap as a closed slot */
		c->fd = -1;
		return;
	}
	free(c);
}

/* The whole request is in: its length (headers and body), and its delay. */
static size_t request_end(const struct conn *c, uint64_t *us)
{
	const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl, *u;
	size_t head, body = 0;

	*us = 0;
	if (!end)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	cl = memmem(c->buf, head, "Content-Length:", 15);
	if (!cl)
		cl = memmem(c->buf, head, "content-length:", 15);
	if (cl)
		body = strtoul(cl + 15, NULL, 10);
	if (c->len < head + body)
		return 0;
	if ((u = memmem(c->buf, head + body, "us=", 3)))
		*us = strtoull(u + 3, NULL, 10);
	else if ((u = memmem(c->buf, head + body, "\"us\":", 5)))
		*us = strtoull(u + 5 + strspn(u + 5, " "), NULL, 10);
	return head + body;
}

static void answer_now(struct loop *l, struct conn *c)
{
	if (send(c->fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(answer) - 1))
		conn_close(l, c);
}

/* Answer every complete request in the buffer (one held at a time). */
static void serve(struct loop *l, struct conn *c)
{
	for (;;) {
		uint64_t us;
		size_t n = c->due ? 0 : request_end(c, &us);

		if (n == 0)
			return;
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
		if (us) {
			c->due = now_ns() + us * 1000;
			heap_push(l, c);
			return;
		}
		answer_now(l, c);
		if (c->fd < 0)
			return;
	}
}

static void on_read(struct loop *l, struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, BUF - c->len, 0);

		if (n > 0) {
			c->len += (size_t)n;
			if (c->len == BUF) { /* a request larger than the buffer: not ours to serve */
				conn_close(l, c);
				return;
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(l, c);
		return;
	}
	serve(l, c);
}

static void on_accept(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct conn *c;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->fd = fd;
		ev.data.ptr = c;
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* Answer what is due; the time to wait for the next (ns, -1: none). */
static long long due(struct loop *l)
{
	uint64_t t = now_ns();

	while (l->n_heap && l->heap[0]->due <= t) {
		struct conn *c = heap_pop(l);

		c->due = 0;
		if (c->fd < 0) {
			free(c);
			continue;
		}
		answer_now(l, c);
		if (c->fd >= 0)
			serve(l, c);
	}
	return l->n_heap ? (long long)(l->heap[0]->due - t) : -1;
}

static void *run(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[EVENTS];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev);
	for (;;) {
		long long wait = due(l);
		struct timespec tmo = { wait < 0 ? 1 : wait / 1000000000LL, wait < 0 ? 0 : wait % 1000000000LL };
		int n = epoll_pwait2(l->ep, evs, EVENTS, &tmo, NULL);

		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				on_accept(l);
			else
				on_read(l, evs[i].data.ptr);
		}
	}
	return NULL;
}

static int listen_on(uint16_t p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("httpd: listen");
		exit(1);
	}
	port = ntohs(a.sin_port);
	return fd;
}

int main(int argc, char **argv)
{
	static struct loop loops[MAX_THREADS];
	pthread_t t;
	long threads = 1, lifetime = 3600;
	const char *portfile = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "t:p:f:l:")) != -1) {
		if (opt == 't')
			threads = strtol(optarg, NULL, 10);
		else if (opt == 'p')
			port = (uint16_t)strtol(optarg, NULL, 10);
		else if (opt == 'f')
			portfile = optarg;
		else if (opt == 'l')
			lifetime = strtol(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: httpd [-t THREADS] [-p PORT] [-f PORTFILE] [-l LIFETIME]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > MAX_THREADS)
		threads = 1;
	for (long i = 0; i < threads; i++) {
		loops[i].lfd = listen_on(port);
		loops[i].ep = epoll_create1(EPOLL_CLOEXEC);
	}
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, run, &loops[i]) != 0)
			return 1;
	if (portfile) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if (!(f = fopen(tmp, "w")) || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, portfile) != 0) {
			perror("httpd: port file");
			return 1;
		}
	}
	sleep((unsigned)lifetime);
	return 0;
}
