/*
 * http_engine.c: the load engine's workers (see http_engine.h).
 *
 * Each worker owns an epoll instance, its connections, a schedule (open
 * loop) and its own histograms; nothing is shared while requests run but
 * two atomic counters (requests mode) and the start time.  The loop sleeps
 * in epoll_pwait2 with a nanosecond timeout (timer slack set to 1 ns) until
 * the next intended send, and sends every request whose time has come as
 * long as a connection is free; a request that finds none waits, keeping
 * its t_sched, and so counts as late: nothing is dropped.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <http_parser.h>

#include "../hist.h"
#include "sse.h"
#include "tokens.h"
#include "../util.h"

#define RBUF_SIZE 65536
#define MAX_TS_POINTS 3600
#define SPIN_NS 10000          /* closer than this to a send: poll instead of sleeping */
#define SCAN_NS 1000000        /* timeouts are checked at least this often */
#define MAX_THREADS 256


static const char *const error_names[EE_N] = {
	"refused", "timeout", "reset", "4xx", "5xx", "unexpected_status", "bad_response",
	"failed_check", "incomplete_stream",
};

const char *http_engine_error_name(enum http_engine_error e)
{
	return (unsigned)e < EE_N ? error_names[e] : "?";
}

int http_engine_kind_parse(const char *s, enum http_engine_kind *out)
{
	if (strcmp(s, "auto") == 0)
		*out = ENG_AUTO;
	else if (strcmp(s, "native") == 0)
		*out = ENG_NATIVE;
	else if (strcmp(s, "curl") == 0)
		*out = ENG_CURL;
	else
		return ERR_INPUT;
	return 0;
}

int http_engine_httpver_parse(const char *s, enum http_engine_httpver *out)
{
	if (strcmp(s, "1.1") == 0)
		*out = EHV_1_1;
	else if (strcmp(s, "2") == 0)
		*out = EHV_2;
	else
		return ERR_INPUT;
	return 0;
}

enum conn_state { CS_FREE, CS_CONNECTING, CS_IDLE, CS_WRITING, CS_READING };

struct worker;

struct conn {
	struct worker *w;
	int fd;
	enum conn_state state;
	http_parser parser;
	bool has_req;          /* a request is assigned (maybe waiting for connect) */
	bool measured;
	bool reused;           /* the connection carried a response before */
	bool retried;          /* the request was resent once on a fresh connection */
	bool sent_once;        /* lateness recorded */
	const struct http_wire *wire;
	size_t woff;           /* bytes of wire written */
	uint64_t t_sched, t_send, t_first_byte, deadline; /* ns */
	bool got_bytes, msg_done, keepalive;
	bool h2;               /* curl engine: the response came over HTTP/2 */
	int status;            /* of the response being parsed: an interim 1xx, then the final one */
	unsigned interim;      /* interim (1xx) responses before the final one */
	struct sb body;        /* kept for checks */
	bool body_over;        /* the body exceeded plan->max_body */
	struct http_sse_parser *sse;
	struct http_tokens tok;
	bool sse_done, sse_error;
	uint64_t *gaps;        /* ns between content events of this response */
	size_t n_gaps, alloc_gaps;
	uint64_t resp_bytes;
	long idle_pos;         /* index in the idle stack, -1 when not there */
	CURL *easy;            /* curl engine: this slot's transfer */
	uint64_t t_add;        /* ns, curl engine: when the transfer was handed to curl */
	char errbuf[CURL_ERROR_SIZE];
};

struct shared {
	uint64_t t0;               /* ns, start of the step */
	uint64_t window_start;     /* ns */
	uint64_t window_end;       /* ns; UINT64_MAX in requests mode */
	atomic_ullong measured_issued;
	pthread_barrier_t ready;
	const struct sockaddr *addr;
	socklen_t addrlen;
};

struct wts {
	uint64_t sent, ok, errors, inflight_max;
	struct hist *lat;
};

struct worker {
	size_t idx;
	const struct http_engine_options *o;
	const struct http_plan *plan;
	struct shared *sh;
	pthread_t thread;
	int ep;
	struct conn *conns;
	size_t n_conns;            /* slots in use (fd or not) */
	size_t cap_conns;
	struct conn **idle;
	size_t n_idle;
	long busy;                 /* requests outstanding */
	long max_inflight;
	long target;               /* closed loop: requests this worker keeps in flight */
	struct http_schedule *sched;
	uint64_t next_t;           /* ns, next intended send */
	bool issuing_done;
	bool running;              /* past the start barrier: requests may be issued */
	uint64_t req_counter;
	uint64_t now;              /* ns, of the last read */
	uint64_t last_t_end;       /* ns, latest measured completion */
	struct http_engine_result r;       /* this worker's share */
	struct wts *ts;
	size_t n_ts;
	char *rbuf;
	struct err err;
	int rc;
	bool fifo;                 /* runs SCHED_FIFO */
	int sched_errno;           /* why SCHED_FIFO was refused (0: not asked, or granted) */
	/* curl engine */
	bool use_curl;
	CURLM *multi;
	int curl_ep;               /* epoll set of curl's sockets, itself watched by ep */
	uint64_t curl_timer;       /* ns when curl wants its timeout action; 0: none */
	struct curl_slist *hdrs;
};

/* ---- recording ---- */

static struct wts *ts_at(struct worker *w, uint64_t t)
{
	uint64_t interval = w->o->ts_interval ? w->o->ts_interval : 1000000000ULL;
	size_t i = t > w->sh->t0 ? (size_t)((t - w->sh->t0) / interval) : 0;

	if (i >= MAX_TS_POINTS)
		i = MAX_TS_POINTS - 1;
	if (i >= w->n_ts) {
		size_t alloc = w->n_ts;
		XGROW(w->ts, alloc, i + 1);
		memset(w->ts + w->n_ts, 0, (alloc - w->n_ts) * sizeof(*w->ts));
		w->n_ts = alloc;
	}
	return &w->ts[i];
}

static void note_error(struct worker *w, enum http_engine_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_error(struct worker *w, enum http_engine_error e, const char *fmt, ...)
{
	va_list ap;

	if (w->r.first_error[e][0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->r.first_error[e], sizeof(w->r.first_error[e]), fmt, ap);
	va_end(ap);
}

static bool in_window(const struct worker *w, uint64_t t)
{
	return t >= w->sh->window_start && t < w->sh->window_end;
}

static bool rslo_met(const struct http_plan *p, enum http_rslo_metric m, uint64_t v, bool have)
{
	for (size_t i = 0; i < p->n_rslo; i++) {
		if (p->rslo[i].metric != m)
			continue;
		if (!have)
			return false;
		if (p->rslo[i].inclusive ? v > p->rslo[i].limit : v >= p->rslo[i].limit)
			return false;
	}
	return true;
}

static void record_ok(struct worker *w, struct conn *c, uint64_t t_end)
{
	const struct http_plan *p = w->plan;
	uint64_t lat = t_end - c->t_sched, svc = t_end - c->t_send;
	uint64_t ttfb = c->t_first_byte - c->t_sched;
	struct http_tokens_result tr = { 0 };
	struct wts *ts;
	bool good;

	if (!c->measured) {
		w->r.warmup_requests++;
		return;
	}
	w->r.ok++;
	w->r.interim += c->interim;
	if (c->h2)
		w->r.proto_h2++;
	else
		w->r.proto_h1++;
	if (t_end > w->last_t_end)
		w->last_t_end = t_end;
	hist_record(w->r.latency, lat);
	hist_record(w->r.service_time, svc);
	hist_record(w->r.ttfb, ttfb);
	w->r.bytes_in += c->resp_bytes;
	ts = ts_at(w, t_end);
	ts->ok++;
	if (!ts->lat)
		ts->lat = hist_new(2);
	hist_record(ts->lat, lat);
	good = rslo_met(p, RSLO_LATENCY, lat, true) && rslo_met(p, RSLO_SERVICE_TIME, svc, true) &&
	       rslo_met(p, RSLO_TTFB, ttfb, true);
	if (p->sse) {
		uint64_t maxgap = 0;

		http_tokens_result_of(&c->tok, c->t_sched, &tr);
		if (tr.has_first)
			hist_record(w->r.ttft, tr.ttft);
		if (tr.has_tpot)
			hist_record(w->r.tpot, tr.tpot);
		for (size_t i = 0; i < c->n_gaps; i++) {
			hist_record(w->r.itl, c->gaps[i]);
			if (c->gaps[i] > maxgap)
				maxgap = c->gaps[i];
		}
		w->r.tokens += tr.tokens;
		if (tr.from_usage) {
			w->r.tok_usage++;
			if (!tr.one_token_events)
				w->r.one_token_events = false;
		} else {
			w->r.tok_events++;
		}
		good = good && rslo_met(p, RSLO_TTFT, tr.ttft, tr.has_first) &&
		       rslo_met(p, RSLO_TPOT, tr.tpot, tr.has_tpot) &&
		       rslo_met(p, RSLO_ITL_MAX, maxgap, true);
	}
	if (in_window(w, t_end) || w->sh->window_end == UINT64_MAX) {
		w->r.ok_in_window++;
		if (good)
			w->r.goodput_ok++;
	}
}

static void record_fail(struct worker *w, struct conn *c, enum http_engine_error e, uint64_t t_end)
{
	if (!c->measured) {
		w->r.warmup_requests++;
		return;
	}
	w->r.failed++;
	w->r.interim += c->interim;
	w->r.errors[e]++;
	w->r.bytes_in += c->resp_bytes;
	ts_at(w, t_end)->errors++;
	if (t_end > w->last_t_end)
		w->last_t_end = t_end;
}

/* ---- connections ---- */

static void idle_push(struct worker *w, struct conn *c)
{
	c->idle_pos = (long)w->n_idle;
	w->idle[w->n_idle++] = c;
}

static void idle_remove(struct worker *w, struct conn *c)
{
	if (c->idle_pos < 0)
		return;
	w->idle[c->idle_pos] = w->idle[--w->n_idle];
	w->idle[c->idle_pos]->idle_pos = c->idle_pos;
	c->idle_pos = -1;
}

static void conn_close(struct worker *w, struct conn *c)
{
	idle_remove(w, c);
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = CS_FREE;
	c->reused = false;
}

static void issue_closed(struct worker *w, struct conn *c, uint64_t now);
static void conn_open(struct worker *w, struct conn *c);
static void do_write(struct worker *w, struct conn *c);

/* The request on c is over: record, then reuse or close the connection. */
static void finish(struct worker *w, struct conn *c, int err_class, bool close_conn)
{
	uint64_t t_end = now_ns();

	if (err_class < 0)
		record_ok(w, c, t_end);
	else
		record_fail(w, c, (enum http_engine_error)err_class, t_end);
	c->has_req = false;
	w->busy--;
	if (w->use_curl) {
		c->state = CS_IDLE; /* curl keeps its own connection pool */
	} else if (close_conn || !c->keepalive || c->fd < 0) {
		conn_close(w, c);
	} else {
		c->state = CS_IDLE;
		c->reused = true;
	}
	if (!w->o->open_loop) {
		/* A success reuses its connection at once; after a failure the
		 * loop's fill_closed() sends the next request, so that a server
		 * refusing every connect cannot recurse through here. */
		if (err_class < 0)
			issue_closed(w, c, t_end);
		else if (c->state == CS_IDLE)
			idle_push(w, c);
	} else if (c->state == CS_IDLE) {
		idle_push(w, c);
	}
}

static void fail(struct worker *w, struct conn *c, enum http_engine_error e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct worker *w, struct conn *c, enum http_engine_error e, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->measured)
		note_error(w, e, "%s", msg);
	finish(w, c, (int)e, true);
}

/* A reused connection that the server closed before answering: the
 * keep-alive race every client meets; resend once on a fresh connection. */
static bool retry_stale(struct worker *w, struct conn *c)
{
	if (!c->reused || c->got_bytes || c->retried)
		return false;
	conn_close(w, c);
	c->retried = true;
	conn_open(w, c);
	return true;
}

/* An interim response (100 Continue, 103 Early Hints, ...; RFC 9110
 * 15.2) precedes the final one on the same request.  101 Switching
 * Protocols is final: it ends HTTP on the connection. */
static bool status_interim(int status)
{
	return status >= 100 && status < 200 && status != 101;
}

static int on_headers_complete(http_parser *hp)
{
	struct conn *c = hp->data;

	c->status = (int)hp->status_code;
	if (status_interim(c->status))
		return 0; /* http-parser knows that a 1xx has no body */
	return c->w->plan->head ? 1 : 0;
}

static void on_sse_event(void *arg, const char *type, const char *data, size_t len)
{
	struct conn *c = arg;
	struct http_sse_openai_chunk ch;

	(void)type;
	http_sse_openai_parse(data, len, &ch);
	if (ch.done) {
		c->sse_done = true;
		return;
	}
	if (ch.error) {
		c->sse_error = true;
		return;
	}
	if (ch.not_json)
		ch.text_len = len; /* a plain SSE stream: every event with data is content */
	if (ch.completion_tokens >= 0)
		http_tokens_usage(&c->tok, ch.completion_tokens);
	if (ch.text_len > 0) {
		if (c->tok.events > 0 && c->measured) {
			XGROW(c->gaps, c->alloc_gaps, c->n_gaps + 1);
			c->gaps[c->n_gaps++] = c->w->now - c->tok.t_last;
		}
		http_tokens_event(&c->tok, c->w->now, NULL);
	}
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct conn *c = hp->data;
	const struct http_plan *p = c->w->plan;

	if (p->sse && c->status >= 200 && c->status < 300)
		http_sse_feed(c->sse, at, len);
	if (p->n_checks) {
		if (c->body.len + len > p->max_body)
			c->body_over = true;
		else
			sb_add(&c->body, at, len);
	}
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	struct conn *c = hp->data;

	if (status_interim(c->status)) {
		/* Not the answer yet: http-parser goes on with the next message
		 * in the same buffer, which is the final response (or another
		 * interim one). */
		c->interim++;
		c->status = 0;
		return 0;
	}
	c->msg_done = true;
	c->keepalive = http_should_keep_alive(hp) != 0;
	http_parser_pause(hp, 1); /* anything after it is not ours */
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void response_complete(struct worker *w, struct conn *c)
{
	const struct http_plan *p = w->plan;
	char why[300];

	if (!http_plan_status_ok(p, c->status)) {
		enum http_engine_error e = c->status >= 500 ? EE_5XX : c->status >= 400 ? EE_4XX : EE_UNEXPECTED_STATUS;
		fail(w, c, e, "status %d from %s", c->status, p->url);
		return;
	}
	if (p->sse) {
		if (c->sse_error) {
			fail(w, c, EE_BAD_RESPONSE, "the stream carried an error event (%s)", p->url);
			return;
		}
		if (!c->sse_done) {
			fail(w, c, EE_INCOMPLETE_STREAM, "the stream ended without its end mark [DONE] after %llu events",
			     (unsigned long long)c->tok.events);
			return;
		}
	}
	if (p->n_checks) {
		if (c->body_over) {
			fail(w, c, EE_FAILED_CHECK, "response body over %zu bytes, too large to check", p->max_body);
			return;
		}
		if (!http_plan_checks_pass(p, sb_str(&c->body), c->body.len, why, sizeof(why))) {
			fail(w, c, EE_FAILED_CHECK, "check failed: %s", why);
			return;
		}
	}
	finish(w, c, -1, false);
}

static void do_read(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, w->rbuf, RBUF_SIZE, 0);
		size_t parsed;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (retry_stale(w, c))
				return;
			if (w->plan->sse && c->got_bytes)
				fail(w, c, EE_INCOMPLETE_STREAM, "connection reset mid-stream: %s", strerror(errno));
			else
				fail(w, c, EE_RESET, "connection to %s: %s", w->plan->url, strerror(errno));
			return;
		}
		w->now = now_ns();
		if (n == 0) {
			/* End of stream: completes a body delimited by the close. */
			if (c->got_bytes && !c->msg_done)
				http_parser_execute(&c->parser, &parser_settings, NULL, 0);
			if (c->msg_done) {
				c->keepalive = false;
				response_complete(w, c);
			} else if (retry_stale(w, c)) {
				/* resent */
			} else if (!c->got_bytes) {
				fail(w, c, EE_RESET, "%s closed the connection without a response", w->plan->url);
			} else if (w->plan->sse && (http_sse_events(c->sse) > 0 || http_sse_pending(c->sse))) {
				fail(w, c, EE_INCOMPLETE_STREAM, "%s closed the connection mid-stream after %llu events",
				     w->plan->url, (unsigned long long)c->tok.events);
			} else {
				fail(w, c, EE_RESET, "%s closed the connection mid-response", w->plan->url);
			}
			return;
		}
		if (!c->got_bytes) {
			c->got_bytes = true;
			c->t_first_byte = w->now;
		}
		c->resp_bytes += (uint64_t)n;
		parsed = http_parser_execute(&c->parser, &parser_settings, w->rbuf, (size_t)n);
		if (c->msg_done) {
			response_complete(w, c);
			return;
		}
		if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || parsed != (size_t)n) {
			fail(w, c, EE_BAD_RESPONSE, "bad response from %s: %s", w->plan->url,
			     http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
			return;
		}
	}
}

static void start_response(struct worker *w, struct conn *c)
{
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	c->got_bytes = c->msg_done = false;
	c->keepalive = true;
	c->status = 0;
	c->interim = 0;
	c->resp_bytes = 0;
	sb_reset(&c->body);
	c->body_over = false;
	if (w->plan->sse) {
		http_sse_reset(c->sse);
		http_tokens_reset(&c->tok);
		c->sse_done = c->sse_error = false;
		c->n_gaps = 0;
	}
}

static void do_write(struct worker *w, struct conn *c)
{
	if (c->woff == 0) {
		c->t_send = now_ns();
		start_response(w, c);
		if (!c->sent_once) {
			c->sent_once = true;
			if (c->measured) {
				uint64_t late = c->t_send > c->t_sched ? c->t_send - c->t_sched : 0;

				w->r.sent++;
				if (w->o->open_loop) {
					hist_record(w->r.lateness, late);
					if (late > 1000000)
						w->r.late_1ms++;
				}
				if (in_window(w, c->t_send) || w->sh->window_end == UINT64_MAX)
					w->r.sent_in_window++;
				w->r.bytes_out += c->wire->len;
			}
			ts_at(w, c->t_send)->sent++;
		}
	}
	while (c->woff < c->wire->len) {
		ssize_t n = send(c->fd, c->wire->data + c->woff, c->wire->len - c->woff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->state = CS_WRITING;
				return;
			}
			if (retry_stale(w, c))
				return;
			fail(w, c, EE_RESET, "sending to %s: %s", w->plan->url, strerror(errno));
			return;
		}
		c->woff += (size_t)n;
	}
	c->state = CS_READING;
}

static void conn_connected(struct worker *w, struct conn *c)
{
	if (c->has_req) {
		c->woff = 0;
		do_write(w, c);
	} else {
		c->state = CS_IDLE;
		if (w->o->open_loop || !w->running)
			idle_push(w, c);
		else
			issue_closed(w, c, now_ns());
	}
}

static void conn_open(struct worker *w, struct conn *c)
{
	const struct sockaddr *sa = w->sh->addr;
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		if (c->has_req)
			fail(w, c, EE_REFUSED, "socket: %s", strerror(errno));
		return;
	}
	w->r.connections_opened++;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
	c->reused = false;
	if (connect(c->fd, sa, w->sh->addrlen) == 0) {
		conn_connected(w, c);
	} else if (errno == EINPROGRESS) {
		c->state = CS_CONNECTING;
	} else {
		int e = errno;

		conn_close(w, c);
		if (c->has_req)
			fail(w, c, EE_REFUSED, "cannot connect to %s: %s", w->plan->url, strerror(e));
	}
}

static void on_connect_done(struct worker *w, struct conn *c)
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
	if (c->has_req)
		fail(w, c, EE_REFUSED, "cannot connect to %s: %s", w->plan->url, strerror(soerr));
}

static void curl_start(struct worker *w, struct conn *c);

/* Assign a request to c (idle, or closed: then it connects first). */
static void start_request(struct worker *w, struct conn *c, uint64_t t_sched, bool measured)
{
	const struct http_plan *p = w->plan;
	uint64_t k = w->req_counter++ * (uint64_t)w->o->threads + w->idx;

	c->wire = &p->reqs[k % p->n_reqs];
	c->has_req = true;
	c->measured = measured;
	c->retried = false;
	c->sent_once = false;
	c->t_sched = t_sched;
	c->t_send = 0;
	c->woff = 0;
	/* closed loop: t_sched is now */
	c->deadline = (w->o->open_loop ? now_ns() : t_sched) + w->o->timeout;
	w->busy++;
	if (measured)
		w->r.scheduled++;
	if (w->use_curl) {
		idle_remove(w, c);
		curl_start(w, c);
	} else if (c->state == CS_IDLE) {
		idle_remove(w, c);
		do_write(w, c);
	} else if (c->state == CS_FREE) {
		conn_open(w, c);
	}
}

static struct conn *new_slot(struct worker *w)
{
	struct conn *c;

	for (size_t i = 0; i < w->n_conns; i++)
		if (w->conns[i].state == CS_FREE && !w->conns[i].has_req)
			return &w->conns[i];
	if (w->n_conns >= w->cap_conns)
		return NULL;
	c = &w->conns[w->n_conns++];
	c->w = w;
	c->fd = -1;
	c->idle_pos = -1;
	if (w->plan->sse)
		c->sse = http_sse_new(on_sse_event, c);
	if (w->use_curl)
		c->state = CS_IDLE;
	return c;
}

/* Measured?  Decides also when issuing stops.  Returns -1 to stop. */
static int classify_send(struct worker *w, uint64_t t_sched)
{
	const struct http_engine_options *o = w->o;

	if (t_sched < w->sh->window_start)
		return 0;
	if (o->requests) {
		if (atomic_fetch_add(&w->sh->measured_issued, 1) >= o->requests)
			return -1;
		return 1;
	}
	return t_sched < w->sh->window_end ? 1 : -1;
}

static void issue_open(struct worker *w, uint64_t now)
{
	while (!w->issuing_done && w->next_t <= now) {
		struct conn *c;
		int m;
		uint64_t s;

		if (w->busy >= w->max_inflight) {
			w->r.blocked++;
			return;
		}
		c = w->n_idle ? w->idle[w->n_idle - 1] : new_slot(w);
		if (!c) {
			w->r.blocked++;
			return;
		}
		m = classify_send(w, w->next_t);
		if (m < 0) {
			w->issuing_done = true;
			return;
		}
		start_request(w, c, w->next_t, m == 1);
		s = http_schedule_next(w->sched);
		if (s == SCHED_END)
			w->issuing_done = true;
		else
			w->next_t = w->sh->t0 + s;
	}
}

static long closed_target(struct worker *w, uint64_t now)
{
	const struct http_engine_options *o = w->o;
	double t = (double)(now - w->sh->t0) / 1e9, total = 0;

	if (!o->n_cstages)
		return w->target;
	for (size_t i = 0; i < o->n_cstages; i++) {
		const struct http_engine_cstage *g = &o->cstages[i];

		if (t < total + g->duration) {
			double c = g->start + (g->end - g->start) * (t - total) / g->duration;
			/* this worker's share, rounded so that the shares add up */
			double share = c * (double)(w->idx + 1) / (double)o->threads - c * (double)w->idx / (double)o->threads;
			return (long)(share + 0.5);
		}
		total += g->duration;
	}
	return 0;
}

/* Closed loop: give c (idle or free) a request if the loop wants one. */
static void issue_closed(struct worker *w, struct conn *c, uint64_t now)
{
	int m;

	if (w->issuing_done || w->busy >= closed_target(w, now)) {
		if (c->state == CS_IDLE && c->idle_pos < 0)
			idle_push(w, c);
		return;
	}
	m = classify_send(w, now);
	if (m < 0 || (w->o->n_cstages && closed_target(w, now) == 0 && now >= w->sh->window_end)) {
		w->issuing_done = true;
		if (c->state == CS_IDLE && c->idle_pos < 0)
			idle_push(w, c);
		return;
	}
	start_request(w, c, now, m == 1);
}

static void fill_closed(struct worker *w)
{
	uint64_t now = now_ns();

	while (!w->issuing_done && w->busy < closed_target(w, now)) {
		struct conn *c = w->n_idle ? w->idle[w->n_idle - 1] : new_slot(w);

		if (!c)
			return;
		issue_closed(w, c, now);
		if (c->idle_pos >= 0 && !c->has_req)
			return; /* it declined */
	}
}

static void scan_timeouts(struct worker *w, uint64_t now)
{
	if (w->use_curl)
		return; /* CURLOPT_TIMEOUT_MS */
	for (size_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];

		if (c->has_req && now >= c->deadline) {
			double secs = (double)w->o->timeout / 1e9;

			if (c->state == CS_CONNECTING)
				fail(w, c, EE_TIMEOUT, "connecting to %s timed out after %gs", w->plan->url, secs);
			else if (c->got_bytes)
				fail(w, c, EE_TIMEOUT, "response from %s incomplete after %gs (%llu bytes)", w->plan->url,
				     secs, (unsigned long long)c->resp_bytes);
			else
				fail(w, c, EE_TIMEOUT, "no response from %s within %gs", w->plan->url, secs);
		}
	}
}

/* ---- curl engine: libcurl multi driven from the same epoll loop ---- */

static size_t curl_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	size_t len = size * n;
	long status = 0;

	w->now = now_ns();
	if (!c->got_bytes) {
		c->got_bytes = true;
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		c->status = (int)status;
	}
	c->resp_bytes += len;
	/* the same body handling as the native client's */
	on_body(&c->parser, data, len);
	return len;
}

/* Every header line of every response, interim 1xx ones included: the
 * first one dates ttfb (the first response byte, as in the native
 * client), status lines count the interim responses. */
static size_t curl_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n;

	if (!c->t_first_byte)
		c->t_first_byte = now_ns();
	if (len > 9 && memcmp(data, "HTTP/", 5) == 0) {
		const char *sp = memchr(data, ' ', len);

		if (sp && (size_t)(sp - data) + 4 <= len && sp[1] == '1' && sp[2] >= '0' && sp[2] <= '9' &&
		    sp[3] >= '0' && sp[3] <= '9' && !(sp[2] == '0' && sp[3] == '1'))
			c->interim++;
	}
	return len;
}

static int curl_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	struct epoll_event ev;

	(void)e;
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = s;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->curl_ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(w->multi, s, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (!socketp) {
		epoll_ctl(w->curl_ep, EPOLL_CTL_ADD, s, &ev);
		curl_multi_assign(w->multi, s, w);
	} else {
		epoll_ctl(w->curl_ep, EPOLL_CTL_MOD, s, &ev);
	}
	return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct worker *w = userp;

	(void)m;
	w->curl_timer = timeout_ms < 0 ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	return 0;
}

static void curl_start(struct worker *w, struct conn *c)
{
	const struct http_plan *p = w->plan;
	size_t blen = c->wire->len - c->wire->body_off;

	if (!c->easy) {
		c->easy = curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_URL, p->url);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, w->hdrs);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, curl_write_cb);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, curl_header_cb);
		curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
		curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)(w->o->timeout / 1000000ULL));
		curl_easy_setopt(c->easy, CURLOPT_PIPEWAIT, 1L);
		curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION,
				 w->o->http_version == EHV_1_1 ? (long)CURL_HTTP_VERSION_1_1
				 : w->o->http_version == EHV_2 && !p->tls ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
				 : (long)CURL_HTTP_VERSION_2TLS);
		if (p->ca_file)
			curl_easy_setopt(c->easy, CURLOPT_CAINFO, p->ca_file);
		if (p->head)
			curl_easy_setopt(c->easy, CURLOPT_NOBODY, 1L);
		else if (strcmp(p->method, "GET") != 0)
			curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, p->method);
	}
	if (blen || strcmp(p->method, "POST") == 0 || strcmp(p->method, "PUT") == 0 ||
	    strcmp(p->method, "PATCH") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->wire->data + c->wire->body_off);
	}
	start_response(w, c);
	c->t_first_byte = 0;
	c->errbuf[0] = '\0';
	c->t_add = now_ns();
	c->state = CS_READING;
	curl_multi_add_handle(w->multi, c->easy);
}

static void curl_done(struct worker *w, struct conn *c, CURLcode res)
{
	const struct http_plan *p = w->plan;
	curl_off_t pre = 0, start = 0;
	long hdr = 0, conns = 0;
	const char *msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(res);

	curl_multi_remove_handle(w->multi, c->easy);
	curl_easy_getinfo(c->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(c->easy, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(c->easy, CURLINFO_HEADER_SIZE, &hdr);
	curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &conns);
	{
		long ver = 0;

		curl_easy_getinfo(c->easy, CURLINFO_HTTP_VERSION, &ver);
		c->h2 = ver == CURL_HTTP_VERSION_2_0;
	}
	w->r.connections_opened += conns;
	c->resp_bytes += (uint64_t)hdr;
	/* curl's phase times are microseconds since the transfer began */
	c->t_send = c->t_add + (uint64_t)pre * 1000ULL;
	if (c->t_first_byte) {
		c->got_bytes = true;
	} else if (start > 0) {
		c->t_first_byte = c->t_add + (uint64_t)start * 1000ULL;
		c->got_bytes = true;
	}
	if (c->measured) {
		uint64_t late = c->t_send > c->t_sched ? c->t_send - c->t_sched : 0;

		w->r.sent++;
		if (w->o->open_loop) {
			hist_record(w->r.lateness, late);
			if (late > 1000000)
				w->r.late_1ms++;
		}
		if (in_window(w, c->t_send) || w->sh->window_end == UINT64_MAX)
			w->r.sent_in_window++;
		w->r.bytes_out += c->wire->len;
	}
	ts_at(w, c->t_send)->sent++;
	switch (res) {
	case CURLE_OK: {
		long status = 0;

		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		c->status = (int)status;
		c->msg_done = true;
		response_complete(w, c);
		return;
	}
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		fail(w, c, EE_REFUSED, "cannot connect to %s: %s", p->url, msg);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		fail(w, c, EE_TIMEOUT, "%s: %s", p->url, msg);
		return;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		if (p->sse && (http_sse_events(c->sse) > 0 || http_sse_pending(c->sse)))
			fail(w, c, EE_INCOMPLETE_STREAM, "%s: stream cut off after %llu events: %s", p->url,
			     (unsigned long long)c->tok.events, msg);
		else
			fail(w, c, EE_RESET, "%s: %s", p->url, msg);
		return;
	default:
		fail(w, c, EE_BAD_RESPONSE, "bad response from %s: %s", p->url, msg);
		return;
	}
}

static void curl_drain(struct worker *w)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left))) {
		struct conn *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (c)
			curl_done(w, c, m->data.result);
	}
}

static void curl_events(struct worker *w)
{
	struct epoll_event evs[64];
	int running, n = epoll_wait(w->curl_ep, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			    ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(w->multi, evs[i].data.fd, flags, &running);
	}
	curl_drain(w);
}

static void curl_timeout(struct worker *w, uint64_t now)
{
	int running;

	if (!w->curl_timer || now < w->curl_timer)
		return;
	w->curl_timer = 0;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_drain(w);
}

static int curl_setup(struct worker *w, struct err *err)
{
	struct epoll_event ev;

	w->multi = curl_multi_init();
	w->curl_ep = epoll_create1(EPOLL_CLOEXEC);
	if (!w->multi || w->curl_ep < 0)
		return err_set(err, ERR_FAIL, "cannot set up the curl engine");
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)w->cap_conns);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->cap_conns);
	for (size_t i = 0; i < w->plan->n_headers; i++)
		w->hdrs = curl_slist_append(w->hdrs, w->plan->header_lines[i]);
	/* no 100-continue round trip before large bodies */
	w->hdrs = curl_slist_append(w->hdrs, "Expect:");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = w; /* a worker pointer, never a connection: curl's sockets are ready */
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->curl_ep, &ev);
	return 0;
}

static void curl_teardown(struct worker *w)
{
	for (size_t i = 0; i < w->n_conns; i++) {
		if (w->conns[i].easy) {
			curl_multi_remove_handle(w->multi, w->conns[i].easy);
			curl_easy_cleanup(w->conns[i].easy);
			w->conns[i].easy = NULL;
		}
	}
	if (w->multi)
		curl_multi_cleanup(w->multi);
	w->multi = NULL;
	curl_slist_free_all(w->hdrs);
	w->hdrs = NULL;
	if (w->curl_ep > 0)
		close(w->curl_ep);
	w->curl_ep = -1;
}

static void handle_event(struct worker *w, struct conn *c, uint32_t ev)
{
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
		if (!w->o->open_loop)
			fill_closed(w);
		break;
	case CS_FREE:
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct http_engine_options *o = w->o;
	struct epoll_event evs[256];
	struct timespec cpu0, cpu1;
	uint64_t wall0, next_scan, interval_end = 0, cur_inflight_ts = 0;
	size_t initial;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (o->open_loop && o->realtime) {
		/* A runnable SCHED_OTHER thread may wait milliseconds for its CPU
		 * on a busy machine (docs/performance.md); a SCHED_FIFO one
		 * preempts every such thread at once.  The loop sleeps between
		 * sends (it polls only for the last SPIN_NS before one), so it
		 * takes no more CPU than before, and the kernel's RT throttling
		 * bounds it anyway.  Refused, it runs as it would have. */
		struct sched_param sp = { .sched_priority = 1 };

		w->sched_errno = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		w->fifo = w->sched_errno == 0;
	}
	/* Open the initial connections before the clock starts. */
	if (o->open_loop && o->connections) {
		initial = w->cap_conns;
	} else if (o->open_loop) {
		/* Enough for 10 ms of the peak rate, so that connecting does not
		 * make the first seconds late; more are opened on demand. */
		double peak = 0;

		for (size_t i = 0; i < o->n_segments; i++)
			peak = fmax(peak, fmax(o->segments[i].rate_start, o->segments[i].rate_end));
		initial = (size_t)fmax(8, ceil(peak / (double)o->threads * 0.01));
		if (initial > w->cap_conns)
			initial = w->cap_conns;
	} else {
		initial = (size_t)w->target;
	}
	for (size_t i = 0; i < initial && !w->use_curl; i++) {
		struct conn *c = new_slot(w);
		if (!c)
			break;
		conn_open(w, c);
	}
	if (!w->use_curl) {
		uint64_t until = now_ns() + 2000000000ULL;
		bool pending = true;

		while (pending && now_ns() < until) {
			int n = epoll_wait(w->ep, evs, 256, 10);

			for (int i = 0; i < n; i++) {
				struct conn *c = evs[i].data.ptr;
				if (c->state == CS_CONNECTING)
					on_connect_done(w, c);
				else if (c->state == CS_IDLE && (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
					conn_close(w, c);
			}
			pending = false;
			for (size_t i = 0; i < w->n_conns; i++)
				if (w->conns[i].state == CS_CONNECTING)
					pending = true;
		}
		/* Connections that did not make it are retried with the first requests. */
		for (size_t i = 0; i < w->n_conns; i++)
			if (w->conns[i].state == CS_CONNECTING)
				conn_close(w, &w->conns[i]);
	}
	pthread_barrier_wait(&w->sh->ready);
	pthread_barrier_wait(&w->sh->ready); /* t0 is set between the two */
	{
		/* Start together, at t0 (a millisecond after the barrier). */
		struct timespec at = { (time_t)(w->sh->t0 / 1000000000ULL), (long)(w->sh->t0 % 1000000000ULL) };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	wall0 = now_ns();
	w->running = true;
	next_scan = wall0 + SCAN_NS;
	if (o->open_loop) {
		uint64_t s = http_schedule_next(w->sched);
		w->issuing_done = s == SCHED_END;
		w->next_t = w->sh->t0 + s;
	}
	for (;;) {
		uint64_t now = now_ns(), wake;
		struct timespec tmo;
		int n;

		if (o->open_loop)
			issue_open(w, now);
		else
			fill_closed(w);
		if (!o->open_loop && !w->issuing_done && !o->requests && now >= w->sh->window_end &&
		    (!o->n_cstages || closed_target(w, now) == 0))
			w->issuing_done = true;
		if (w->use_curl)
			curl_timeout(w, now);
		if (now >= next_scan) {
			scan_timeouts(w, now);
			next_scan = now + SCAN_NS;
		}
		if (now >= interval_end) {
			uint64_t iv = o->ts_interval ? o->ts_interval : 1000000000ULL;
			interval_end = w->sh->t0 + ((now - w->sh->t0) / iv + 1) * iv;
			cur_inflight_ts = 0;
		}
		if ((uint64_t)w->busy > cur_inflight_ts) {
			struct wts *t = ts_at(w, now);
			cur_inflight_ts = (uint64_t)w->busy;
			if (cur_inflight_ts > t->inflight_max)
				t->inflight_max = cur_inflight_ts;
		}
		if (w->issuing_done && w->busy == 0)
			break;
		wake = next_scan;
		if (o->open_loop && !w->issuing_done && w->busy < w->max_inflight &&
		    (w->n_idle || w->n_conns < w->cap_conns) && w->next_t < wake)
			wake = w->next_t;
		if (!o->open_loop && o->n_cstages && now + 10000000ULL < wake)
			wake = now + 10000000ULL;
		if (w->use_curl && w->curl_timer && w->curl_timer < wake)
			wake = w->curl_timer > now ? w->curl_timer : now;
		if (wake <= now + SPIN_NS) {
			tmo.tv_sec = 0;
			tmo.tv_nsec = 0;
		} else {
			tmo.tv_sec = (time_t)((wake - now) / 1000000000ULL);
			tmo.tv_nsec = (long)((wake - now) % 1000000000ULL);
		}
		n = epoll_pwait2(w->ep, evs, 256, &tmo, NULL);
		if (n < 0 && errno != EINTR) {
			w->rc = err_sys(&w->err, ERR_FAIL, "epoll_pwait2");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == (void *)w)
				curl_events(w);
			else
				handle_event(w, evs[i].data.ptr, evs[i].events);
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
	{
		double cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
		double wall = (double)(now_ns() - wall0) / 1e9;
		w->r.cpu_util_max = wall > 0 ? cpu / wall : 0;
	}
	if (w->use_curl)
		curl_teardown(w);
	else
		for (size_t i = 0; i < w->n_conns; i++)
			conn_close(w, &w->conns[i]);
	return NULL;
}

/* ---- the step ---- */

static void result_init(struct http_engine_result *r, bool sse)
{
	memset(r, 0, sizeof(*r));
	r->latency = hist_new(3);
	r->service_time = hist_new(3);
	r->lateness = hist_new(3);
	r->ttfb = hist_new(3);
	if (sse) {
		r->ttft = hist_new(3);
		r->tpot = hist_new(3);
		r->itl = hist_new(3);
	}
	r->one_token_events = true;
}

void http_engine_result_release(struct http_engine_result *r)
{
	hist_free(r->latency);
	hist_free(r->service_time);
	hist_free(r->lateness);
	hist_free(r->ttfb);
	hist_free(r->ttft);
	hist_free(r->tpot);
	hist_free(r->itl);
	free(r->ts);
	memset(r, 0, sizeof(*r));
}

static void merge_into(struct http_engine_result *d, const struct http_engine_result *s)
{
	hist_merge(d->latency, s->latency, NULL);
	hist_merge(d->service_time, s->service_time, NULL);
	hist_merge(d->lateness, s->lateness, NULL);
	hist_merge(d->ttfb, s->ttfb, NULL);
	if (d->ttft) {
		hist_merge(d->ttft, s->ttft, NULL);
		hist_merge(d->tpot, s->tpot, NULL);
		hist_merge(d->itl, s->itl, NULL);
	}
	d->sent += s->sent;
	d->scheduled += s->scheduled;
	d->ok += s->ok;
	d->failed += s->failed;
	for (int e = 0; e < EE_N; e++) {
		d->errors[e] += s->errors[e];
		if (!d->first_error[e][0])
			memcpy(d->first_error[e], s->first_error[e], sizeof(d->first_error[e]));
	}
	d->ok_in_window += s->ok_in_window;
	d->sent_in_window += s->sent_in_window;
	d->goodput_ok += s->goodput_ok;
	d->late_1ms += s->late_1ms;
	d->blocked += s->blocked;
	d->interim += s->interim;
	d->proto_h1 += s->proto_h1;
	d->proto_h2 += s->proto_h2;
	d->warmup_requests += s->warmup_requests;
	d->bytes_in += s->bytes_in;
	d->bytes_out += s->bytes_out;
	d->tokens += s->tokens;
	d->tok_usage += s->tok_usage;
	d->tok_events += s->tok_events;
	d->one_token_events = d->one_token_events && s->one_token_events;
	if (s->cpu_util_max > d->cpu_util_max)
		d->cpu_util_max = s->cpu_util_max;
	d->connections_opened += s->connections_opened;
}

static void sleep_until(uint64_t t)
{
	struct timespec at = { (time_t)(t / 1000000000ULL), (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
}

int http_engine_run(const struct http_engine_options *o, struct http_engine_result *out, struct err *err)
{
	struct addrinfo hints, *ai = NULL;
	struct shared sh;
	struct worker *ws = NULL;
	long threads = o->threads > 0 ? o->threads : 1;
	int rc = 0, gai;
	bool barrier = false;
	size_t started = 0;

	bool use_curl = o->engine == ENG_CURL || (o->engine == ENG_AUTO && (o->plan->tls || o->http_version == EHV_2));

	memset(out, 0, sizeof(*out));
	if (o->plan->tls && o->engine == ENG_NATIVE)
		return err_set(err, ERR_INPUT, "the native engine speaks plain http:// only; use \"engine\": \"curl\" or \"auto\" for %s",
			       o->plan->url);
	if (o->http_version == EHV_2 && o->engine == ENG_NATIVE)
		return err_set(err, ERR_INPUT, "the native engine speaks HTTP/1.1 only; use \"engine\": \"curl\" or \"auto\" for HTTP/2");
	if (use_curl)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	if (use_curl && o->http_version == EHV_2) {
		const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

		if (!(vi->features & CURL_VERSION_HTTP2))
			return err_set(err, ERR_INPUT, "HTTP/2: this libcurl (%s) was built without HTTP/2", vi->version);
		/* libcurl 7.88 (Debian 12's) sets up HTTP/2 a second time on a
		 * reused prior-knowledge connection and fails every request after
		 * the first ("Error in the HTTP2 framing layer", curl issue 10634,
		 * fixed in 8.0.0); TLS-negotiated h2 is not affected. */
		if (!o->plan->tls && vi->version_num < 0x080000)
			return err_set(err, ERR_INPUT, "HTTP/2 over http:// (h2c with prior knowledge) needs libcurl 8.0.0 or later: "
				       "libcurl %s fails every request on a reused h2c connection (curl issue 10634); "
				       "use an https:// URL, where TLS negotiates HTTP/2", vi->version);
	}
	if (threads > MAX_THREADS)
		return err_set(err, ERR_INPUT, "threads: at most %d", MAX_THREADS);
	if (!o->open_loop && o->concurrency < 1 && !o->n_cstages)
		return err_set(err, ERR_INPUT, "concurrency must be >= 1");
	{
		/* Every connection is a descriptor: raise the soft limit (often
		 * 1024) towards the hard one when the run may need more. */
		struct rlimit rl;
		long want = (o->open_loop ? (o->connections > 0 ? o->connections
					  : (o->max_inflight > 0 ? o->max_inflight : 1024))
				 : o->concurrency) + 64 + 2 * threads;

		for (size_t k = 0; k < o->n_cstages; k++)
			want = (long)fmax((double)want, fmax(o->cstages[k].start, o->cstages[k].end) + 64);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (rlim_t)want > rl.rlim_cur) {
			rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || (rlim_t)want < rl.rlim_max) ? (rlim_t)want : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(o->plan->host, o->plan->port, &hints, &ai);
	if (gai != 0)
		return err_set(err, ERR_RUN, "cannot resolve '%s': %s", o->plan->host, gai_strerror(gai));

	memset(&sh, 0, sizeof(sh));
	sh.addr = ai->ai_addr;
	sh.addrlen = ai->ai_addrlen;
	atomic_init(&sh.measured_issued, 0);
	pthread_barrier_init(&sh.ready, NULL, (unsigned)threads + 1);
	barrier = true;
	result_init(out, o->plan->sse);
	out->engine = use_curl ? "curl" : "native";
	out->sched_policy = "other";
	out->ts_interval = o->ts_interval ? o->ts_interval : 1000000000ULL;

	ws = xcalloc((size_t)threads, sizeof(*ws));
	for (long i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		long max_total = o->max_inflight > 0 ? o->max_inflight : 1024;

		w->idx = (size_t)i;
		w->o = o;
		w->plan = o->plan;
		w->sh = &sh;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->rbuf = xmalloc(RBUF_SIZE);
		result_init(&w->r, o->plan->sse);
		if (o->open_loop) {
			struct http_schedule_options so = HTTP_SCHEDULE_OPTIONS_INIT;
			long conns = o->connections > 0 ? o->connections : max_total;

			/* this worker's share of connections and of the in-flight bound */
			w->cap_conns = (size_t)(conns / threads + (i < conns % threads));
			w->max_inflight = max_total / threads + (i < max_total % threads);
			if (w->cap_conns < 1)
				w->cap_conns = 1;
			if (w->max_inflight < 1)
				w->max_inflight = 1;
			so.arrival = o->arrival;
			so.burstiness = o->burstiness;
			so.seed = o->seed;
			so.segments = o->segments;
			so.n_segments = o->n_segments;
			so.share = 1.0 / (double)threads;
			so.index = (size_t)i;
			if ((rc = http_schedule_open(&w->sched, &so, err)) != 0)
				goto done;
		} else {
			long maxc = o->concurrency;

			for (size_t k = 0; k < o->n_cstages; k++)
				maxc = (long)fmax((double)maxc, fmax(o->cstages[k].start, o->cstages[k].end) + 0.999);
			w->cap_conns = (size_t)(maxc / threads + (i < maxc % threads));
			w->target = o->concurrency / threads + (i < o->concurrency % threads);
			w->max_inflight = (long)w->cap_conns;
		}
		w->conns = xcalloc(w->cap_conns ? w->cap_conns : 1, sizeof(*w->conns));
		w->idle = xcalloc(w->cap_conns ? w->cap_conns : 1, sizeof(*w->idle));
		w->curl_ep = -1;
		w->use_curl = use_curl;
		if (use_curl && (rc = curl_setup(w, err)) != 0)
			goto done;
	}
	for (long i = 0; i < threads; i++) {
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			rc = err_set(err, ERR_FAIL, "cannot start worker thread %ld", i);
			/* Let the started ones through the barriers with an empty run. */
			sh.t0 = now_ns();
			sh.window_start = sh.window_end = sh.t0;
			break;
		}
		started++;
	}
	if (started < (size_t)threads) {
		/* Nothing sensible to do but wait for the started ones: they will
		 * block at the barrier forever; abort is the honest answer. */
		abort();
	}
	pthread_barrier_wait(&sh.ready);
	sh.t0 = now_ns() + 1000000ULL;
	sh.window_start = sh.t0 + o->warmup;
	sh.window_end = o->requests ? UINT64_MAX : sh.window_start + o->duration;
	pthread_barrier_wait(&sh.ready);
	if (o->on_window) {
		sleep_until(sh.window_start);
		o->on_window(o->window_arg, true);
		if (!o->requests)
			sleep_until(sh.window_end);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	if (o->on_window)
		o->on_window(o->window_arg, false);

	{
		uint64_t last = 0;
		size_t n_ts = 0;
		bool all_fifo = true;

		for (long i = 0; i < threads; i++) {
			all_fifo = all_fifo && ws[i].fifo;
			if (ws[i].sched_errno && !out->sched_refused[0])
				snprintf(out->sched_refused, sizeof(out->sched_refused), "%s", strerror(ws[i].sched_errno));
			merge_into(out, &ws[i].r);
			if (ws[i].last_t_end > last)
				last = ws[i].last_t_end;
			if (ws[i].n_ts > n_ts)
				n_ts = ws[i].n_ts;
			if (ws[i].rc && !rc) {
				rc = ws[i].rc;
				memcpy(err, &ws[i].err, sizeof(*err));
			}
		}
		out->sched_policy = all_fifo ? "fifo" : "other";
		if (o->requests)
			out->window = last > sh.window_start ? (double)(last - sh.window_start) / 1e9 : 0;
		else
			out->window = (double)o->duration / 1e9;
		out->ts = xcalloc(n_ts ? n_ts : 1, sizeof(*out->ts));
		out->n_ts = n_ts;
		for (size_t k = 0; k < n_ts; k++) {
			struct hist *lat = hist_new(2);

			for (long i = 0; i < threads; i++) {
				if (k >= ws[i].n_ts)
					continue;
				out->ts[k].sent += ws[i].ts[k].sent;
				out->ts[k].ok += ws[i].ts[k].ok;
				out->ts[k].errors += ws[i].ts[k].errors;
				out->ts[k].inflight_max += ws[i].ts[k].inflight_max;
				if (ws[i].ts[k].lat)
					hist_merge(lat, ws[i].ts[k].lat, NULL);
			}
			out->ts[k].p50 = hist_percentile(lat, 50);
			out->ts[k].p95 = hist_percentile(lat, 95);
			out->ts[k].p99 = hist_percentile(lat, 99);
			hist_free(lat);
		}
	}
done:
	if (ws) {
		for (long i = 0; i < threads; i++) {
			struct worker *w = &ws[i];

			curl_teardown(w); /* before the slots that hold its handles go */
			for (size_t k = 0; k < w->n_conns; k++) {
				http_sse_free(w->conns[k].sse);
				sb_release(&w->conns[k].body);
				free(w->conns[k].gaps);
			}
			for (size_t k = 0; k < w->n_ts; k++)
				hist_free(w->ts[k].lat);
			free(w->ts);
			free(w->conns);
			free(w->idle);
			free(w->rbuf);
			http_schedule_free(w->sched);
			http_engine_result_release(&w->r);
			if (w->ep > 0)
				close(w->ep);
		}
		free(ws);
	}
	if (barrier)
		pthread_barrier_destroy(&sh.ready);
	freeaddrinfo(ai);
	if (rc)
		http_engine_result_release(out);
	return rc;
}
