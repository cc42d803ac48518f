/*
 * h1.c: the native transport (load.engine "native"): HTTP/1.1 over
 * keep-alive TCP connections, one per request slot, non-blocking sockets
 * on the worker's epoll set (edge-triggered), each request written from
 * the bytes its plan serialised once, each response parsed by http-parser
 * (the parser wrk uses) straight from a per-worker read buffer.
 *
 * A connection the server closed while idle is reopened by the next
 * request on its slot; a request that meets a reused connection closed
 * under it before any response byte (the keep-alive race every client
 * meets) is resent once on a fresh connection.  Timeouts are the
 * engine's: it calls h1_expire for a request past its deadline.
 */
#include "transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "plan.h"
#include "sse.h"

#define RBUF_SIZE 65536                /* bytes read per recv */
#define PRECONNECT_NS 2000000000ULL    /* how long the first connections may take to come up */
#define PRECONNECT_EVENTS 256

enum h1_state { CS_FREE, CS_CONNECTING, CS_IDLE, CS_WRITING, CS_READING };

/* A slot's connection. */
struct h1_conn {
	struct http_slot *s;
	int fd;                /* -1: none */
	bool watched;          /* fd is in the worker's epoll set */
	enum h1_state state;
	http_parser parser;
	const http_parser_settings *settings; /* parser_settings, or _lean when no header is kept */
	size_t woff;           /* bytes of the request written */
	bool reused;           /* the connection carried a response before */
	bool retried;          /* the request was resent once on a fresh connection */
	bool msg_done;         /* the final response is complete */
	bool keepalive;        /* and the connection may carry the next request */
	enum { HDR_NONE, HDR_FIELD, HDR_VALUE } hstate; /* what the last header callback read */
};

static struct h1_conn *conn_of(struct http_slot *s)
{
	struct h1_conn *c = s->tp;

	if (!c) {
		c = xcalloc(1, sizeof(*c));
		c->s = s;
		c->fd = -1;
		s->tp = c;
	}
	return c;
}

static void conn_close(struct http_worker *w, struct h1_conn *c)
{
	if (c->fd >= 0) {
		/* Removed by hand, not left to close(): a child being spawned
		 * meanwhile (the resource monitor's) holds a copy of the
		 * descriptor until its exec, and the registration would outlive
		 * the close with this connection's pointer in it. */
		if (c->watched && epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL) != 0)
			http_engine_worker_fail(w, ERR_FAIL, "epoll_ctl: %s", strerror(errno));
		close(c->fd);
	}
	c->fd = -1;
	c->watched = false;
	c->state = CS_FREE;
	c->reused = false;
	http_engine_slot_closed(w, c->s);
}

static void conn_open(struct http_worker *w, struct h1_conn *c);

/* A reused connection that the server closed before answering: resend
 * once on a fresh connection. */
static bool retry_stale(struct http_worker *w, struct h1_conn *c)
{
	if (!c->reused || c->s->got_bytes || c->retried)
		return false;
	conn_close(w, c);
	c->retried = true;
	conn_open(w, c);
	return true;
}

static int on_headers_complete(http_parser *hp)
{
	struct h1_conn *c = hp->data;

	c->s->status = (int)hp->status_code;
	if (http_request_interim(c->s->status))
		return 0; /* http-parser knows that a 1xx has no body */
	if (c->hstate == HDR_VALUE)
		sb_puts(&c->s->headers, "\r\n");
	return c->s->plan->head ? 1 : 0;
}

/* A journey step that captures a header keeps the final response's
 * header lines ("Name: value\r\n"); http-parser may hand a name or a
 * value over in pieces. */
static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct h1_conn *c = hp->data;

	if (!c->s->plan->keep_headers)
		return 0;
	if (c->hstate == HDR_VALUE)
		sb_puts(&c->s->headers, "\r\n");
	sb_add(&c->s->headers, at, len);
	c->hstate = HDR_FIELD;
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct h1_conn *c = hp->data;

	if (!c->s->plan->keep_headers)
		return 0;
	if (c->hstate == HDR_FIELD)
		sb_puts(&c->s->headers, ": ");
	sb_add(&c->s->headers, at, len);
	c->hstate = HDR_VALUE;
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct h1_conn *c = hp->data;

	http_request_body(c->s, at, len);
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	struct h1_conn *c = hp->data;

	if (http_request_interim(c->s->status)) {
		/* Not the answer yet: http-parser goes on with the next message
		 * in the same buffer, which is the final response (or another
		 * interim one). */
		c->s->interim++;
		c->s->status = 0;
		sb_reset(&c->s->headers); /* an interim response's headers are not the answer's */
		c->hstate = HDR_NONE;
		return 0;
	}
	c->msg_done = true;
	c->keepalive = http_should_keep_alive(hp) != 0;
	http_parser_pause(hp, 1); /* anything after it is not ours */
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* For a request whose response headers nobody keeps (all but a journey
 * step capturing a header): http-parser calls nothing per header line. */
static const http_parser_settings parser_settings_lean = {
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void response_complete(struct http_worker *w, struct h1_conn *c)
{
	char why[512];
	int e = http_request_verdict(w, c->s, why, sizeof(why));

	if (e >= 0) {
		http_request_fail(w, c->s, (enum http_engine_error)e, "%s", why);
		return;
	}
	if (c->keepalive) {
		c->state = CS_IDLE;
		c->reused = true;
	}
	http_request_ok(w, c->s, c->keepalive);
}

/* The server closed the connection (recv returned 0). */
static void on_eof(struct http_worker *w, struct h1_conn *c)
{
	struct http_slot *s = c->s;
	const struct http_plan *p = s->plan;

	/* End of stream completes a body delimited by the close. */
	if (s->got_bytes && !c->msg_done)
		http_parser_execute(&c->parser, c->settings, NULL, 0);
	if (c->msg_done) {
		c->keepalive = false;
		response_complete(w, c);
	} else if (retry_stale(w, c)) {
		/* resent */
	} else if (!s->got_bytes) {
		http_request_fail(w, s, EE_RESET, "%s closed the connection without a response", p->url);
	} else if (p->sse && (http_sse_events(s->sse) > 0 || http_sse_pending(s->sse))) {
		http_request_fail(w, s, EE_INCOMPLETE_STREAM, "%s closed the connection mid-stream after %llu events",
				  p->url, (unsigned long long)s->tok.events);
	} else {
		http_request_fail(w, s, EE_RESET, "%s closed the connection mid-response", p->url);
	}
}

static void do_read(struct http_worker *w, struct h1_conn *c)
{
	struct http_slot *s = c->s;
	char *rbuf = w->tp;

	for (;;) {
		ssize_t n = recv(c->fd, rbuf, RBUF_SIZE, 0);
		size_t parsed;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (retry_stale(w, c))
				return;
			if (s->plan->sse && s->got_bytes)
				http_request_fail(w, s, EE_INCOMPLETE_STREAM, "connection reset mid-stream: %s", strerror(errno));
			else
				http_request_fail(w, s, EE_RESET, "connection to %s: %s", s->plan->url, strerror(errno));
			return;
		}
		w->now = now_ns();
		if (n == 0) {
			on_eof(w, c);
			return;
		}
		if (!s->got_bytes) {
			s->got_bytes = true;
			s->t_first_byte = w->now;
		}
		s->resp_bytes += (uint64_t)n;
		parsed = http_parser_execute(&c->parser, c->settings, rbuf, (size_t)n);
		if (c->msg_done) {
			response_complete(w, c);
			return;
		}
		if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || parsed != (size_t)n) {
			http_request_fail(w, s, EE_BAD_RESPONSE, "bad response from %s: %s", s->plan->url,
					  http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
			return;
		}
	}
}

static void do_write(struct http_worker *w, struct h1_conn *c)
{
	struct http_slot *s = c->s;

	if (c->woff == 0) {
		s->t_send = now_ns();
		http_parser_init(&c->parser, HTTP_RESPONSE);
		c->parser.data = c;
		c->settings = s->plan->keep_headers ? &parser_settings : &parser_settings_lean;
		c->msg_done = false;
		c->keepalive = true;
		c->hstate = HDR_NONE;
		http_request_begin(w, s);
		http_request_sent(w, s);
	}
	while (c->woff < s->wire->len) {
		ssize_t n = send(c->fd, s->wire->data + c->woff, s->wire->len - c->woff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->state = CS_WRITING;
				return;
			}
			if (retry_stale(w, c))
				return;
			http_request_fail(w, s, EE_RESET, "sending to %s: %s", s->plan->url, strerror(errno));
			return;
		}
		c->woff += (size_t)n;
	}
	c->state = CS_READING;
}

static void conn_connected(struct http_worker *w, struct h1_conn *c)
{
	if (c->s->has_req) {
		c->woff = 0;
		do_write(w, c);
	} else {
		c->state = CS_IDLE;
		http_engine_slot_ready(w, c->s);
	}
}

static void conn_open(struct http_worker *w, struct h1_conn *c)
{
	/* A slot preconnected before any request goes to the step's target. */
	const struct sockaddr *sa = c->s->addr ? c->s->addr : w->step->addr;
	socklen_t salen = c->s->addr ? c->s->addrlen : w->step->addrlen;
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		if (c->s->has_req)
			http_request_fail(w, c->s, EE_REFUSED, "socket: %s", strerror(errno));
		return;
	}
	c->s->open = true;
	w->r.connections_opened++;
	/* Best effort: without it a request that fits one segment still
	 * goes at once; only Nagle's wait on a split one is lost. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		int e = errno;

		conn_close(w, c);
		if (c->s->has_req)
			http_request_fail(w, c->s, EE_REFUSED, "cannot watch the connection to %s: %s", c->s->plan->url,
					  strerror(e));
		return;
	}
	c->watched = true;
	c->reused = false;
	if (connect(c->fd, sa, salen) == 0) {
		conn_connected(w, c);
	} else if (errno == EINPROGRESS) {
		c->state = CS_CONNECTING;
	} else {
		int e = errno;

		conn_close(w, c);
		if (c->s->has_req)
			http_request_fail(w, c->s, EE_REFUSED, "cannot connect to %s: %s", c->s->plan->url, strerror(e));
	}
}

static void on_connect_done(struct http_worker *w, struct h1_conn *c)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	if (soerr == 0) {
		conn_connected(w, c);
		return;
	}
	conn_close(w, c);
	if (c->s->has_req)
		http_request_fail(w, c->s, EE_REFUSED, "cannot connect to %s: %s", c->s->plan->url, strerror(soerr));
}

static int h1_worker_open(struct http_worker *w, struct err *err)
{
	(void)err;
	w->tp = xmalloc(RBUF_SIZE);
	return 0;
}

static void h1_worker_close(struct http_worker *w)
{
	free(w->tp);
	w->tp = NULL;
}

static bool any_connecting(const struct http_worker *w)
{
	for (size_t i = 0; i < w->n_slots; i++) {
		const struct h1_conn *c = w->slots[i].tp;

		if (c && c->state == CS_CONNECTING)
			return true;
	}
	return false;
}

static void h1_preconnect(struct http_worker *w, size_t n)
{
	struct epoll_event evs[PRECONNECT_EVENTS];
	uint64_t until;

	for (size_t i = 0; i < n; i++) {
		struct http_slot *s = http_engine_slot_new(w);

		if (!s)
			break;
		conn_open(w, conn_of(s));
	}
	until = now_ns() + PRECONNECT_NS;
	while (any_connecting(w) && now_ns() < until) {
		int k = epoll_wait(w->ep, evs, PRECONNECT_EVENTS, 10);

		if (k < 0 && errno != EINTR) {
			http_engine_worker_fail(w, ERR_FAIL, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < k; i++) {
			struct h1_conn *c = evs[i].data.ptr;

			if (c->state == CS_CONNECTING)
				on_connect_done(w, c);
			else if (c->state == CS_IDLE && (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
				conn_close(w, c);
		}
	}
	/* Connections that did not make it are retried with the first requests. */
	for (size_t i = 0; i < w->n_slots; i++) {
		struct h1_conn *c = w->slots[i].tp;

		if (c && c->state == CS_CONNECTING)
			conn_close(w, c);
	}
}

static void h1_start(struct http_worker *w, struct http_slot *s)
{
	struct h1_conn *c = conn_of(s);

	c->retried = false;
	c->woff = 0;
	if (c->state == CS_IDLE)
		do_write(w, c);
	else if (c->state == CS_FREE)
		conn_open(w, c);
}

static void h1_event(struct http_worker *w, void *ptr, uint32_t ev)
{
	struct h1_conn *c = ptr;

	switch (c->state) {
	case CS_CONNECTING:
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			on_connect_done(w, c);
		break;
	case CS_WRITING:
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			do_write(w, c);
		if (c->state == CS_READING && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			do_read(w, c);
		break;
	case CS_READING:
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			do_read(w, c);
		break;
	case CS_IDLE:
		/* The server closed (or wrote to) a connection with nothing asked. */
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			conn_close(w, c);
		http_engine_refill(w);
		break;
	case CS_FREE:
		break;
	}
}

static void h1_expire(struct http_worker *w, struct http_slot *s)
{
	const struct h1_conn *c = s->tp;
	double secs = (double)w->o->timeout / 1e9;

	if (c && c->state == CS_CONNECTING)
		http_request_fail(w, s, EE_TIMEOUT, "connecting to %s timed out after %gs", s->plan->url, secs);
	else if (s->got_bytes)
		http_request_fail(w, s, EE_TIMEOUT, "response from %s incomplete after %gs (%llu bytes)", s->plan->url,
				  secs, (unsigned long long)s->resp_bytes);
	else
		http_request_fail(w, s, EE_TIMEOUT, "no response from %s within %gs", s->plan->url, secs);
}

static void h1_close(struct http_worker *w, struct http_slot *s)
{
	if (s->tp)
		conn_close(w, s->tp);
}

static void h1_slot_release(struct http_worker *w, struct http_slot *s)
{
	h1_close(w, s);
	free(s->tp);
	s->tp = NULL;
}

const struct http_transport http_h1_transport = {
	.name = "native",
	.tls = false,
	.h2 = false,
	.worker_open = h1_worker_open,
	.worker_close = h1_worker_close,
	.preconnect = h1_preconnect,
	.start = h1_start,
	.event = h1_event,
	.expire = h1_expire,
	.close = h1_close,
	.slot_release = h1_slot_release,
};
