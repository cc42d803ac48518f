/*
 * proxy.c: the fault-injection proxy (see proxy.h).
 *
 * Each worker thread owns an epoll set (level-triggered: interest follows
 * what a connection can do next), the connections it accepted, and a heap
 * of timers.  A connection pairs a client socket with an upstream socket;
 * bytes wait in one queue per direction as chunks that each carry the time
 * they may leave (an injected delay is a release time in the future), and
 * a token bucket per direction caps their rate.  In http mode both
 * directions run through http-parser, paused at each message's end, so
 * that a fault can act on exactly one request and a pipelined request
 * waits for the response before it.
 */
#include "proxy.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "../hist.h"
#include "../util.h"

#define RBUF_SIZE 65536
#define QUEUE_CAP (4u << 20)  /* bytes queued one way before that side stops being read */
#define KEEP_CAP (1u << 20)   /* bytes of a request kept for one resend */
#define MAX_THREADS 64

enum { SIDE_CLIENT = 0, SIDE_UP = 1 };
enum { TAG_CLIENT = 0, TAG_UP = 1, TAG_LISTEN = 2, TAG_STOP = 3 };
enum act { ACT_FORWARD, ACT_ERROR, ACT_SWALLOW };

struct chunk {
	struct chunk *next;
	uint64_t arrived;  /* ns, when the proxy read it */
	uint64_t release;  /* ns, not written before */
	size_t len, off;
	bool first;        /* the first bytes of a request or response (overhead is timed on them) */
	char data[];
};

struct queue {
	struct chunk *head, *tail;
	size_t bytes;
};

struct counters {
	atomic_uint_fast64_t connections, requests, forwarded, responses, bytes_up, bytes_down;
	atomic_uint_fast64_t upstream_failures, resent, tunnelled;
};

struct fault_counters {
	atomic_uint_fast64_t requests, delay_total, bytes;
};

struct pconn {
	struct pworker *w;
	uint32_t slot, gen;
	uint64_t id;               /* for per-connection share choices */
	int fd[2];                 /* SIDE_CLIENT, SIDE_UP; -1 when closed */
	uint32_t interest[2];      /* epoll events registered */
	bool connecting;           /* upstream connect in progress */
	bool up_reused;            /* the upstream connection carried a response before */
	bool blocked[2];           /* the last write to that side would have blocked */
	struct queue q[2];         /* bytes to write to each side */
	uint64_t retry_at[2];      /* ns: a queue waits for a release time or tokens (0: no) */
	uint64_t close_at[2];      /* ns: slow close of that side due (0: none) */
	struct http_proxy_bucket bucket[2];
	bool tunnel;               /* bytes pass through unparsed */
	bool blackholed;           /* everything from the client is dropped */
	bool close_client;         /* close the client once q[SIDE_CLIENT] is written */
	bool client_eof;
	/* http mode: the request in progress */
	http_parser reqp, resp;
	struct sb cin;             /* client bytes read, from cin_off on not yet parsed */
	size_t cin_off;
	bool in_req, req_done, resp_done, resp_started, head_req, req_keepalive;
	bool reset_now, resent;
	enum act act;
	int status;                /* of the response being parsed */
	uint64_t req_release;      /* ns: request-direction delay: forward from then */
	uint64_t resp_delay;       /* ns added to every chunk of this response */
	uint64_t ovh_up;           /* ns the request's first byte spent in the proxy */
	bool ovh_up_noted;
	struct sb keep;            /* the request as written upstream, for one resend */
	bool keep_ok;
	uint64_t wake;             /* ns of this connection's timer in the heap (0: none) */
	uint32_t wake_seq;
};

struct timer {
	uint64_t at;
	uint32_t slot, gen, seq;
};

struct pworker {
	struct http_proxy *p;
	size_t idx;
	pthread_t thread;
	bool started;
	atomic_bool fifo;          /* got SCHED_FIFO */
	int ep, stopfd;
	struct pconn **slots;
	size_t n_slots, alloc_slots;
	uint32_t *free_slots;
	size_t n_free, alloc_free;
	struct timer *heap;
	size_t n_heap, alloc_heap;
	struct http_rng rng;
	char *rbuf;
	uint64_t now;
	uint64_t arrived;          /* ns, CLOCK_MONOTONIC: when the kernel received the bytes of the last read */
	int64_t real_minus_mono;   /* ns: CLOCK_REALTIME - CLOCK_MONOTONIC, for kernel timestamps */
	uint64_t next_id;
	struct hist *overhead;
};

struct http_proxy {
	char *listen_host, *listen_port, *upstream_host, *upstream_port;
	enum http_proxy_mode mode;
	struct http_proxy_fault *faults;
	size_t n_faults;
	uint64_t seed;
	bool realtime;
	int lfd;
	char port[16];
	char address[300];
	struct sockaddr_storage up_addr;
	socklen_t up_len;
	atomic_uint_fast64_t t0; /* ns; 0 until http_proxy_begin */
	struct counters c;
	struct fault_counters *fc;
	struct pworker *ws;
	size_t n_ws;
	bool stopped;
	struct hist *overhead;   /* merged at stop */
};

static void bump(atomic_uint_fast64_t *a, uint64_t v)
{
	atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}

/* ---- pure parts ---- */

static const char *const kind_names[HTTP_PROXY_N_KINDS] = { "latency", "bandwidth", "error", "reset", "blackhole",
							     "slow_close" };
static const char *const dist_names[] = { "fixed", "normal", "exponential", "lognormal", "pareto" };

const char *http_proxy_fault_kind_name(enum http_proxy_fault_kind k)
{
	return (unsigned)k < HTTP_PROXY_N_KINDS ? kind_names[k] : "?";
}

int http_proxy_fault_kind_parse(const char *s, enum http_proxy_fault_kind *out)
{
	long i = str_index(s, kind_names, ARRAY_SIZE(kind_names));

	if (i < 0)
		return ERR_INPUT;
	*out = (enum http_proxy_fault_kind)i;
	return 0;
}

const char *http_proxy_dist_name(enum http_proxy_dist d)
{
	return (unsigned)d < ARRAY_SIZE(dist_names) ? dist_names[d] : "?";
}

int http_proxy_dist_parse(const char *s, enum http_proxy_dist *out)
{
	long i = str_index(s, dist_names, ARRAY_SIZE(dist_names));

	if (i < 0)
		return ERR_INPUT;
	*out = (enum http_proxy_dist)i;
	return 0;
}

bool http_proxy_fault_active(const struct http_proxy_fault *f, uint64_t since)
{
	return since >= f->at && (f->duration == 0 || since - f->at < f->duration);
}

uint64_t http_proxy_draw_latency(const struct http_proxy_fault *f, struct http_rng *r)
{
	double base = (double)f->latency, jit = (double)f->jitter, v = base;

	switch (f->dist) {
	case HTTP_PROXY_FIXED:
		if (jit > 0)
			v = base + jit * (2.0 * http_rng_uniform(r) - 1.0);
		break;
	case HTTP_PROXY_NORMAL:
		v = base + jit * http_rng_normal(r);
		break;
	case HTTP_PROXY_EXPONENTIAL:
		v = -base * log(1.0 - http_rng_uniform(r));
		break;
	case HTTP_PROXY_LOGNORMAL:
		v = base * exp(f->sigma * http_rng_normal(r));
		break;
	case HTTP_PROXY_PARETO:
		v = base / pow(1.0 - http_rng_uniform(r), 1.0 / f->alpha);
		break;
	}
	if (!(v > 0))
		return 0;
	return v >= 3.6e12 ? UINT64_C(3600000000000) : (uint64_t)llround(v);
}

bool http_proxy_selects(uint64_t seed, size_t fault, uint64_t id, double share)
{
	struct http_rng r = { seed ^ ((uint64_t)fault * UINT64_C(0xD6E8FEB86659FD93)) ^ (id * UINT64_C(0x9E3779B97F4A7C15)) };

	if (share >= 1.0)
		return true;
	return http_rng_uniform(&r) < share;
}

size_t http_proxy_bucket_take(struct http_proxy_bucket *b, double rate, double burst, uint64_t now, size_t want,
			      uint64_t *wait_ns)
{
	double need;

	if (b->last == 0) {
		b->tokens = burst;
	} else if (now > b->last) {
		b->tokens = fmin(burst, b->tokens + rate * (double)(now - b->last) / 1e9);
	}
	b->last = now;
	*wait_ns = 0;
	if (b->tokens >= 1.0) {
		size_t n = b->tokens >= (double)want ? want : (size_t)b->tokens;

		b->tokens -= (double)n;
		return n;
	}
	need = fmin((double)want, burst) - b->tokens;
	*wait_ns = (uint64_t)ceil(need / rate * 1e9);
	if (*wait_ns == 0)
		*wait_ns = 1;
	return 0;
}

const char *http_proxy_reason(int status)
{
	const char *s = http_status_str((enum http_status)status);

	return strcmp(s, "<unknown>") == 0 ? "Error" : s;
}

/* ---- queues ---- */

static struct chunk *q_push(struct queue *q, const char *data, size_t len, uint64_t arrived, uint64_t release)
{
	struct chunk *c = xmalloc(sizeof(*c) + len);

	c->next = NULL;
	c->arrived = arrived;
	/* bytes leave in order: never before the chunk ahead of them */
	c->release = q->tail && q->tail->release > release ? q->tail->release : release;
	c->len = len;
	c->off = 0;
	c->first = false;
	memcpy(c->data, data, len);
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += len;
	return c;
}

static void q_push_front(struct queue *q, const char *data, size_t len, uint64_t now)
{
	struct chunk *c = xmalloc(sizeof(*c) + len);

	c->next = q->head;
	c->arrived = c->release = now;
	c->len = len;
	c->off = 0;
	c->first = false;
	memcpy(c->data, data, len);
	q->head = c;
	if (!q->tail)
		q->tail = c;
	q->bytes += len;
}

static void q_pop(struct queue *q)
{
	struct chunk *c = q->head;

	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	free(c);
}

static void q_clear(struct queue *q)
{
	while (q->head)
		q_pop(q);
	q->bytes = 0;
}

/* ---- timers: a binary min-heap; stale entries are skipped by seq ---- */

static void heap_push(struct pworker *w, uint64_t at, const struct pconn *c)
{
	size_t i;

	XGROW(w->heap, w->alloc_heap, w->n_heap + 1);
	i = w->n_heap++;
	while (i > 0 && w->heap[(i - 1) / 2].at > at) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = (struct timer){ .at = at, .slot = c->slot, .gen = c->gen, .seq = c->wake_seq };
}

static void heap_pop(struct pworker *w)
{
	struct timer last = w->heap[--w->n_heap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < w->n_heap && w->heap[l].at < last.at)
			m = l;
		if (l + 1 < w->n_heap && w->heap[l + 1].at < (m == i ? last.at : w->heap[l].at))
			m = l + 1;
		if (m == i)
			break;
		w->heap[i] = w->heap[m];
		i = m;
	}
	if (w->n_heap)
		w->heap[i] = last;
}

/* ---- the schedule as seen now ---- */

/* ns since the schedule started, or UINT64_MAX before it did. */
static uint64_t since_start(const struct pworker *w)
{
	uint64_t t0 = atomic_load_explicit(&w->p->t0, memory_order_relaxed);

	return t0 == 0 || w->now < t0 ? UINT64_MAX : w->now - t0;
}

static bool fault_on(const struct pworker *w, size_t i, uint64_t since)
{
	return since != UINT64_MAX && http_proxy_fault_active(&w->p->faults[i], since);
}

/* A per-request choice: active and drawn into its share. */
static bool fault_hits(struct pworker *w, size_t i, uint64_t since)
{
	const struct http_proxy_fault *f = &w->p->faults[i];

	return fault_on(w, i, since) && (f->share >= 1.0 || http_rng_uniform(&w->rng) < f->share);
}

/* A per-connection choice: active, and the connection in its share. */
static bool fault_holds(const struct pworker *w, size_t i, uint64_t since, const struct pconn *c)
{
	return fault_on(w, i, since) && http_proxy_selects(w->p->seed, i, c->id, w->p->faults[i].share);
}

static bool dir_matches(enum http_proxy_direction d, int side, enum http_proxy_direction dflt)
{
	if (d == HTTP_PROXY_DIR_DEFAULT)
		d = dflt;
	return d == HTTP_PROXY_DIR_BOTH || (side == SIDE_UP ? d == HTTP_PROXY_DIR_REQUEST : d == HTTP_PROXY_DIR_RESPONSE);
}

/* The sum of the delays drawn for the latency faults hitting this message
 * (http) or chunk (tcp) going to `side`. */
static uint64_t draw_delay(struct pworker *w, struct pconn *c, int side, uint64_t since)
{
	uint64_t total = 0;

	for (size_t i = 0; i < w->p->n_faults; i++) {
		const struct http_proxy_fault *f = &w->p->faults[i];
		bool hit;

		if (f->kind != HTTP_PROXY_LATENCY || !dir_matches(f->direction, side, HTTP_PROXY_DIR_RESPONSE))
			continue;
		hit = w->p->mode == HTTP_PROXY_TCP ? fault_holds(w, i, since, c) : fault_hits(w, i, since);
		if (hit) {
			uint64_t d = http_proxy_draw_latency(f, &w->rng);

			total += d;
			bump(&w->p->fc[i].requests, 1);
			bump(&w->p->fc[i].delay_total, d);
		}
	}
	return total;
}

/* The lowest bandwidth limit on this connection's `side` now (0: none). */
static double bandwidth_now(const struct pworker *w, const struct pconn *c, int side, size_t *fault)
{
	uint64_t since = since_start(w);
	double bw = 0;

	for (size_t i = 0; i < w->p->n_faults; i++) {
		const struct http_proxy_fault *f = &w->p->faults[i];

		if (f->kind == HTTP_PROXY_BANDWIDTH && dir_matches(f->direction, side, HTTP_PROXY_DIR_RESPONSE) &&
		    fault_holds(w, i, since, c) && (bw == 0 || f->bandwidth < bw)) {
			bw = f->bandwidth;
			*fault = i;
		}
	}
	return bw;
}

/* The delay of an active slow close on this connection (0: close now). */
static uint64_t slow_close_delay(const struct pworker *w, const struct pconn *c)
{
	uint64_t since = since_start(w), d = 0;

	for (size_t i = 0; i < w->p->n_faults; i++) {
		const struct http_proxy_fault *f = &w->p->faults[i];

		if (f->kind == HTTP_PROXY_SLOW_CLOSE && fault_holds(w, i, since, c) && f->delay > d) {
			d = f->delay;
			bump(&w->p->fc[i].requests, 1);
		}
	}
	return d;
}

/* ---- connections ---- */

/* recv, noting in w->arrived when the kernel received the data (its
 * SO_TIMESTAMPNS time, CLOCK_REALTIME, brought to CLOCK_MONOTONIC), so that
 * the time bytes wait to be woken for counts in the proxy's overhead and
 * injected delays count from their arrival.  Without a timestamp, now. */
static ssize_t recv_stamped(struct pworker *w, int fd)
{
	char ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = w->rbuf, .iov_len = RBUF_SIZE };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &m, 0);

	w->arrived = w->now;
	if (n <= 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			int64_t real, mono;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			real = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
			mono = real - w->real_minus_mono;
			if (mono > 0 && (uint64_t)mono <= w->now)
				w->arrived = (uint64_t)mono;
		}
	}
	return n;
}

static void stamp_socket(int fd)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static uint64_t ep_data(const struct pconn *c, int tag)
{
	return ((uint64_t)c->gen << 32) | ((uint64_t)c->slot << 2) | (uint64_t)tag;
}

static void set_interest(struct pworker *w, struct pconn *c, int side, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.u64 = ep_data(c, side == SIDE_CLIENT ? TAG_CLIENT : TAG_UP) };

	if (c->fd[side] < 0 || c->interest[side] == ev)
		return;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd[side], &e) == 0)
		c->interest[side] = ev;
}

static int add_fd(struct pworker *w, struct pconn *c, int side)
{
	struct epoll_event e = { .events = 0, .data.u64 = ep_data(c, side == SIDE_CLIENT ? TAG_CLIENT : TAG_UP) };

	c->interest[side] = 0;
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd[side], &e);
}

static void close_side(struct pworker *w, struct pconn *c, int side, bool reset)
{
	if (c->fd[side] < 0)
		return;
	if (reset) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd[side], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd[side], NULL);
	close(c->fd[side]);
	c->fd[side] = -1;
	c->interest[side] = 0;
	c->blocked[side] = false;
	c->retry_at[side] = 0;
	c->close_at[side] = 0;
	q_clear(&c->q[side]);
	if (side == SIDE_UP)
		c->connecting = false;
}

/* Reset the client (RST) and drop the upstream: a fault, or a dead upstream. */
static void conn_reset(struct pworker *w, struct pconn *c)
{
	close_side(w, c, SIDE_CLIENT, true);
	close_side(w, c, SIDE_UP, false);
}

/* Close `side` after the slow-close delay, if one is active (else now). */
static void close_later(struct pworker *w, struct pconn *c, int side)
{
	uint64_t d;

	if (c->fd[side] < 0 || c->close_at[side])
		return;
	d = slow_close_delay(w, c);
	if (d == 0)
		close_side(w, c, side, false);
	else
		c->close_at[side] = w->now + d;
}

static struct pconn *conn_new(struct pworker *w, int cfd)
{
	struct pconn *c;
	uint32_t slot;

	if (w->n_free) {
		slot = w->free_slots[--w->n_free];
		c = w->slots[slot];
	} else {
		XGROW(w->slots, w->alloc_slots, w->n_slots + 1);
		slot = (uint32_t)w->n_slots++;
		c = w->slots[slot] = xcalloc(1, sizeof(*c));
	}
	{
		uint32_t gen = c->gen + 1;

		memset(c, 0, sizeof(*c));
		c->gen = gen;
	}
	c->w = w;
	c->slot = slot;
	c->id = w->next_id++ * (uint64_t)w->p->n_ws + w->idx;
	c->fd[SIDE_CLIENT] = cfd;
	c->fd[SIDE_UP] = -1;
	http_parser_init(&c->reqp, HTTP_REQUEST);
	c->reqp.data = c;
	c->resp.data = c;
	return c;
}

static void conn_free(struct pworker *w, struct pconn *c)
{
	close_side(w, c, SIDE_CLIENT, false);
	close_side(w, c, SIDE_UP, false);
	sb_release(&c->cin);
	sb_release(&c->keep);
	c->gen++;  /* stale timers and events no longer match */
	c->wake = 0;
	XGROW(w->free_slots, w->alloc_free, w->n_free + 1);
	w->free_slots[w->n_free++] = c->slot;
}

static void upstream_failed(struct pworker *w, struct pconn *c)
{
	bump(&w->p->c.upstream_failures, 1);
	conn_reset(w, c);
}

static void flush(struct pworker *w, struct pconn *c, int side);

static void up_connect(struct pworker *w, struct pconn *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)&w->p->up_addr;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		upstream_failed(w, c);
		return;
	}
	stamp_socket(fd);
	c->fd[SIDE_UP] = fd;
	c->up_reused = false;
	if (add_fd(w, c, SIDE_UP) != 0) {
		upstream_failed(w, c);
		return;
	}
	if (connect(fd, sa, w->p->up_len) == 0) {
		c->connecting = false;
		flush(w, c, SIDE_UP);
	} else if (errno == EINPROGRESS) {
		c->connecting = true;
	} else {
		upstream_failed(w, c);
	}
}

static void on_up_connected(struct pworker *w, struct pconn *c)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd[SIDE_UP], SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
		upstream_failed(w, c);
		return;
	}
	c->connecting = false;
	flush(w, c, SIDE_UP);
}

/* Overhead of one forwarded request: the first request byte's time in the
 * proxy plus the first response byte's, injected delays excluded. */
static void note_written(struct pworker *w, struct pconn *c, int side, const struct chunk *ch)
{
	uint64_t from = ch->release > ch->arrived ? ch->release : ch->arrived, t = now_ns();
	uint64_t spent = t > from ? t - from : 0;

	if (side == SIDE_UP) {
		c->ovh_up = spent;
		c->ovh_up_noted = true;
	} else if (c->ovh_up_noted) {
		hist_record(w->overhead, c->ovh_up + spent);
		c->ovh_up_noted = false;
	}
}

/* Write what may leave now to `side`; note when the rest may. */
static void flush(struct pworker *w, struct pconn *c, int side)
{
	struct queue *q = &c->q[side];

	c->retry_at[side] = 0;
	if (c->fd[side] < 0) {
		if (side == SIDE_UP && q->head && c->fd[SIDE_CLIENT] >= 0)
			up_connect(w, c);
		return;
	}
	if (side == SIDE_UP && c->connecting)
		return;
	c->blocked[side] = false;
	while (q->head) {
		struct chunk *ch = q->head;
		size_t want = ch->len - ch->off, fault = 0;
		double bw;
		ssize_t n;

		if (ch->release > w->now) {
			c->retry_at[side] = ch->release;
			break;
		}
		bw = bandwidth_now(w, c, side, &fault);
		if (bw > 0) {
			uint64_t wait;
			size_t allow = http_proxy_bucket_take(&c->bucket[side], bw, fmax(bw / 100, 1460), w->now, want, &wait);

			if (allow == 0) {
				c->retry_at[side] = w->now + wait;
				break;
			}
			if (allow < want)
				bump(&w->p->fc[fault].bytes, want - allow);
			want = allow;
		}
		n = send(c->fd[side], ch->data + ch->off, want, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->blocked[side] = true;
				break;
			}
			if (side == SIDE_UP)
				upstream_failed(w, c);
			else
				conn_reset(w, c);
			return;
		}
		if (ch->off == 0 && ch->first)
			note_written(w, c, side, ch);
		if (side == SIDE_UP && !c->resp_started && c->keep_ok) {
			if (c->keep.len + (size_t)n > KEEP_CAP)
				c->keep_ok = false;
			else
				sb_add(&c->keep, ch->data + ch->off, (size_t)n);
		}
		bump(side == SIDE_UP ? &w->p->c.bytes_up : &w->p->c.bytes_down, (uint64_t)n);
		ch->off += (size_t)n;
		q->bytes -= (size_t)n;
		if (ch->off == ch->len)
			q_pop(q);
	}
	if (!q->head && side == SIDE_CLIENT && c->close_client)
		close_later(w, c, SIDE_CLIENT);
}

/* ---- http mode ---- */

static void start_request(struct pworker *w, struct pconn *c);
static void http_advance(struct pworker *w, struct pconn *c);

static int req_begin(http_parser *hp)
{
	struct pconn *c = hp->data;

	start_request(c->w, c);
	return 0;
}

static int req_headers(http_parser *hp)
{
	struct pconn *c = hp->data;

	c->head_req = hp->method == HTTP_HEAD;
	return 0;
}

static int req_complete(http_parser *hp)
{
	struct pconn *c = hp->data;

	c->req_done = true;
	c->req_keepalive = http_should_keep_alive(hp) != 0;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings req_settings = {
	.on_message_begin = req_begin,
	.on_headers_complete = req_headers,
	.on_message_complete = req_complete,
};

static bool status_interim(int status)
{
	return status >= 100 && status < 200 && status != 101;
}

static int resp_headers(http_parser *hp)
{
	struct pconn *c = hp->data;

	c->status = (int)hp->status_code;
	if (status_interim(c->status))
		return 0;
	return c->head_req ? 1 : 0;
}

static int resp_complete(http_parser *hp)
{
	struct pconn *c = hp->data;

	if (status_interim(c->status))
		return 0;
	c->resp_done = true;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings resp_settings = {
	.on_headers_complete = resp_headers,
	.on_message_complete = resp_complete,
};

static void push_up(struct pconn *c, const char *d, size_t len, bool first)
{
	struct chunk *ch = q_push(&c->q[SIDE_UP], d, len, c->w->arrived,
				  c->req_release > c->w->arrived ? c->req_release : c->w->arrived);

	ch->first = first;
}

static void push_down(struct pconn *c, const char *d, size_t len, bool first)
{
	struct chunk *ch = q_push(&c->q[SIDE_CLIENT], d, len, c->w->arrived, c->w->arrived + c->resp_delay);

	ch->first = first;
}

/* A request begins: draw its fate.  Precedence: reset, blackhole, error,
 * then the delays of a forwarded request. */
static void start_request(struct pworker *w, struct pconn *c)
{
	const struct http_proxy *p = w->p;
	uint64_t since = since_start(w);

	c->in_req = true;
	c->req_done = c->resp_done = c->resp_started = c->head_req = false;
	c->reset_now = c->resent = c->ovh_up_noted = false;
	c->act = ACT_FORWARD;
	c->status = 0;
	c->req_release = c->resp_delay = 0;
	sb_reset(&c->keep);
	c->keep_ok = true;
	http_parser_init(&c->resp, HTTP_RESPONSE);
	c->resp.data = c;
	bump(&w->p->c.requests, 1);
	for (size_t pass = 0; pass < 3 && c->act == ACT_FORWARD && !c->reset_now; pass++) {
		static const enum http_proxy_fault_kind order[3] = { HTTP_PROXY_RESET, HTTP_PROXY_BLACKHOLE, HTTP_PROXY_ERROR };

		for (size_t i = 0; i < p->n_faults; i++) {
			const struct http_proxy_fault *f = &p->faults[i];

			if (f->kind != order[pass] || !fault_hits(w, i, since))
				continue;
			bump(&w->p->fc[i].requests, 1);
			if (f->kind == HTTP_PROXY_RESET) {
				c->reset_now = true;
				http_parser_pause(&c->reqp, 1);
			} else if (f->kind == HTTP_PROXY_BLACKHOLE) {
				c->blackholed = true;
				c->act = ACT_SWALLOW;
				if (f->delay)
					c->close_at[SIDE_CLIENT] = w->now + f->delay;
				http_parser_pause(&c->reqp, 1);
			} else {
				c->act = ACT_ERROR;
				c->status = f->status;
			}
			break;
		}
	}
	if (c->act == ACT_FORWARD && !c->reset_now) {
		c->req_release = w->arrived + draw_delay(w, c, SIDE_UP, since);
		c->resp_delay = draw_delay(w, c, SIDE_CLIENT, since);
		bump(&w->p->c.forwarded, 1);
	}
}

static void queue_error(struct pconn *c)
{
	struct sb sb = SB_INIT;
	char body[200];
	int st = c->status, n;

	n = snprintf(body, sizeof(body),
		     "{\"error\": {\"message\": \"fault injected by perfgate: %d %s\", \"type\": \"perfgate_fault\"}}\n", st,
		     http_proxy_reason(st));
	sb_printf(&sb, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s", st,
		  http_proxy_reason(st), n, c->req_keepalive ? "" : "Connection: close\r\n", c->head_req ? "" : body);
	push_down(c, sb.buf, sb.len, false);
	sb_release(&sb);
}

/* Pass everything from now on through unparsed (an upgrade, or bytes that
 * are not HTTP/1.1). */
static void go_tunnel(struct pworker *w, struct pconn *c)
{
	if (!c->tunnel)
		bump(&w->p->c.tunnelled, 1);
	c->tunnel = true;
	c->in_req = false;
	c->req_release = 0;
	if (c->cin_off < c->cin.len)
		push_up(c, c->cin.buf + c->cin_off, c->cin.len - c->cin_off, false);
	sb_release(&c->cin);
	c->cin_off = 0;
}

/* The exchange is over: the next request may start. */
static void finish_cycle(struct pworker *w, struct pconn *c)
{
	(void)w;
	c->in_req = false;
	if (c->client_eof)
		c->close_client = true;
}

static void response_done(struct pworker *w, struct pconn *c)
{
	bump(&w->p->c.responses, 1);
	if (c->status == 101) {
		go_tunnel(w, c);
		return;
	}
	if (!http_should_keep_alive(&c->resp)) {
		/* The client was told (or the body's end was) the close. */
		c->close_client = true;
		close_side(w, c, SIDE_UP, false);
		if (!c->req_done)
			c->act = ACT_SWALLOW; /* the rest of the request has nowhere to go */
	} else {
		c->up_reused = true;
	}
	if (c->req_done)
		finish_cycle(w, c);
}

static void request_done(struct pworker *w, struct pconn *c)
{
	if (c->act == ACT_ERROR) {
		queue_error(c);
		if (!c->req_keepalive)
			c->close_client = true;
		finish_cycle(w, c);
	} else if (c->act == ACT_FORWARD && c->resp_done) {
		finish_cycle(w, c);
	} else if (c->act == ACT_SWALLOW && !c->blackholed) {
		finish_cycle(w, c); /* answered early and closed: nothing more comes */
	}
}

/* Parse and pass on what the client sent, one request at a time. */
static void http_advance(struct pworker *w, struct pconn *c)
{
	while (c->fd[SIDE_CLIENT] >= 0 && !c->tunnel && c->cin_off < c->cin.len) {
		const char *d = c->cin.buf + c->cin_off;
		size_t len = c->cin.len - c->cin_off, used;
		bool first = !c->in_req;
		enum http_errno e;

		if (c->blackholed || (c->in_req && c->req_done))
			break; /* silence, or the next request waits for this response */
		if (HTTP_PARSER_ERRNO(&c->reqp) == HPE_PAUSED)
			http_parser_pause(&c->reqp, 0);
		used = http_parser_execute(&c->reqp, &req_settings, d, len);
		e = HTTP_PARSER_ERRNO(&c->reqp);
		if (c->reset_now) {
			conn_reset(w, c);
			return;
		}
		if (e != HPE_OK && e != HPE_PAUSED) {
			go_tunnel(w, c);
			break;
		}
		if (c->act == ACT_FORWARD && used && !c->blackholed)
			push_up(c, d, used, first);
		c->cin_off += used;
		if (c->reqp.upgrade) {
			go_tunnel(w, c);
			break;
		}
		if (c->req_done)
			request_done(w, c);
	}
	if (c->blackholed || c->cin_off == c->cin.len) {
		sb_reset(&c->cin);
		c->cin_off = 0;
	}
	flush(w, c, SIDE_UP);
	flush(w, c, SIDE_CLIENT);
}

static void http_from_up(struct pworker *w, struct pconn *c, const char *d, size_t len)
{
	bool first = false;
	enum http_errno e;

	if (!c->in_req || c->resp_done || c->act != ACT_FORWARD) {
		push_down(c, d, len, false); /* bytes nobody asked for: the client may make sense of them */
		return;
	}
	if (!c->resp_started) {
		c->resp_started = first = true;
		sb_release(&c->keep);
		c->keep_ok = false;
	}
	http_parser_execute(&c->resp, &resp_settings, d, len);
	e = HTTP_PARSER_ERRNO(&c->resp);
	push_down(c, d, len, first);
	if (e != HPE_OK && e != HPE_PAUSED) {
		go_tunnel(w, c);
		return;
	}
	if (c->resp_done)
		response_done(w, c);
}

/* Per-connection faults of the tcp mode; true when the connection is gone
 * or silenced. */
static bool tcp_conn_faults(struct pworker *w, struct pconn *c)
{
	uint64_t since = since_start(w);

	for (size_t i = 0; i < w->p->n_faults; i++) {
		const struct http_proxy_fault *f = &w->p->faults[i];

		if ((f->kind != HTTP_PROXY_RESET && f->kind != HTTP_PROXY_BLACKHOLE) || !fault_holds(w, i, since, c))
			continue;
		bump(&w->p->fc[i].requests, 1);
		if (f->kind == HTTP_PROXY_RESET) {
			conn_reset(w, c);
		} else {
			c->blackholed = true;
			close_side(w, c, SIDE_UP, false);
			q_clear(&c->q[SIDE_CLIENT]);
			if (f->delay)
				c->close_at[SIDE_CLIENT] = w->now + f->delay;
		}
		return true;
	}
	return false;
}

/* Bytes read from one side, bound for `to`, in tcp mode or a tunnel. */
static void tcp_in(struct pworker *w, struct pconn *c, int to, const char *d, size_t len)
{
	uint64_t delay = 0;

	if (w->p->mode == HTTP_PROXY_TCP) {
		if (c->blackholed || tcp_conn_faults(w, c))
			return;
		delay = draw_delay(w, c, to, since_start(w));
	}
	q_push(&c->q[to], d, len, w->arrived, w->arrived + delay);
	flush(w, c, to);
}

/* The client closed: a client still waiting for its response gets it. */
static void client_eof(struct pworker *w, struct pconn *c)
{
	bool waiting = w->p->mode == HTTP_PROXY_HTTP && !c->tunnel && c->in_req && c->act == ACT_FORWARD &&
		       c->req_done;

	if (!c->client_eof && waiting) {
		c->client_eof = true;
		return;
	}
	c->client_eof = true;
	close_side(w, c, SIDE_CLIENT, false);
	close_later(w, c, SIDE_UP);
}

static void on_client_in(struct pworker *w, struct pconn *c)
{
	ssize_t n = recv_stamped(w, c->fd[SIDE_CLIENT]);

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		close_side(w, c, SIDE_CLIENT, false);
		close_later(w, c, SIDE_UP);
		return;
	}
	if (n == 0) {
		client_eof(w, c);
		return;
	}
	if (c->blackholed)
		return;
	if (w->p->mode == HTTP_PROXY_TCP || c->tunnel) {
		tcp_in(w, c, SIDE_UP, w->rbuf, (size_t)n);
		return;
	}
	sb_add(&c->cin, w->rbuf, (size_t)n);
	http_advance(w, c);
}

/* The upstream closed (rst: reset).  A body delimited by the close ends
 * here; a reused connection closed before answering (the keep-alive race)
 * gets the request once more on a fresh one; otherwise the client sees
 * what the upstream did. */
static void up_closed(struct pworker *w, struct pconn *c, bool rst)
{
	bool mid = w->p->mode == HTTP_PROXY_HTTP && !c->tunnel && c->in_req && c->act == ACT_FORWARD;
	struct queue pending = c->q[SIDE_UP];

	memset(&c->q[SIDE_UP], 0, sizeof(c->q[SIDE_UP]));
	close_side(w, c, SIDE_UP, false);
	if (!mid || c->resp_done) {
		q_clear(&pending);
		if (w->p->mode == HTTP_PROXY_TCP || c->tunnel) {
			c->close_client = true;
			flush(w, c, SIDE_CLIENT);
		}
		return;
	}
	if (c->resp_started) {
		q_clear(&pending);
		http_parser_execute(&c->resp, &resp_settings, NULL, 0);
		if (c->resp_done)
			response_done(w, c);
		c->close_client = true;
		flush(w, c, SIDE_CLIENT);
		return;
	}
	if (c->up_reused && !c->resent && c->keep_ok) {
		c->q[SIDE_UP] = pending;
		if (c->keep.len)
			q_push_front(&c->q[SIDE_UP], c->keep.buf, c->keep.len, w->now);
		sb_reset(&c->keep);
		c->resent = true;
		bump(&w->p->c.resent, 1);
		up_connect(w, c);
		return;
	}
	q_clear(&pending);
	bump(&w->p->c.upstream_failures, 1);
	if (rst) {
		conn_reset(w, c);
	} else {
		c->close_client = true;
		flush(w, c, SIDE_CLIENT);
	}
}

static void on_up_in(struct pworker *w, struct pconn *c)
{
	ssize_t n = recv_stamped(w, c->fd[SIDE_UP]);

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		up_closed(w, c, true);
		return;
	}
	if (n == 0) {
		up_closed(w, c, false);
		return;
	}
	if (w->p->mode == HTTP_PROXY_TCP || c->tunnel) {
		tcp_in(w, c, SIDE_CLIENT, w->rbuf, (size_t)n);
		return;
	}
	http_from_up(w, c, w->rbuf, (size_t)n);
	flush(w, c, SIDE_CLIENT);
	if (!c->in_req && c->fd[SIDE_CLIENT] >= 0)
		http_advance(w, c); /* a pipelined request may go now */
}

/* ---- the loop ---- */

/* After anything happened to c: free it, or set its epoll interest and timer. */
static void settle(struct pworker *w, struct pconn *c)
{
	uint64_t wake = 0;
	uint32_t ev;

	if (c->fd[SIDE_CLIENT] < 0 && c->fd[SIDE_UP] >= 0 && !c->close_at[SIDE_UP])
		close_side(w, c, SIDE_UP, false);
	if (c->fd[SIDE_CLIENT] < 0 && c->fd[SIDE_UP] < 0) {
		conn_free(w, c);
		return;
	}
	ev = 0;
	if (!c->client_eof && c->cin.len - c->cin_off < QUEUE_CAP && c->q[SIDE_UP].bytes < QUEUE_CAP)
		ev |= EPOLLIN;
	if (c->blocked[SIDE_CLIENT])
		ev |= EPOLLOUT;
	set_interest(w, c, SIDE_CLIENT, ev);
	ev = c->connecting ? EPOLLOUT : 0;
	if (!c->connecting && c->q[SIDE_CLIENT].bytes < QUEUE_CAP)
		ev |= EPOLLIN;
	if (c->blocked[SIDE_UP])
		ev |= EPOLLOUT;
	set_interest(w, c, SIDE_UP, ev);
	for (int s = 0; s < 2; s++) {
		if (c->retry_at[s] && (!wake || c->retry_at[s] < wake))
			wake = c->retry_at[s];
		if (c->close_at[s] && (!wake || c->close_at[s] < wake))
			wake = c->close_at[s];
	}
	if (wake && wake != c->wake) {
		c->wake_seq++;
		heap_push(w, wake, c);
	}
	c->wake = wake;
}

static void service(struct pworker *w, struct pconn *c)
{
	for (int s = 0; s < 2; s++)
		if (c->close_at[s] && c->close_at[s] <= w->now)
			close_side(w, c, s, false);
	for (int s = 0; s < 2; s++)
		if (c->retry_at[s] && c->retry_at[s] <= w->now)
			flush(w, c, s);
}

static void run_timers(struct pworker *w)
{
	while (w->n_heap && w->heap[0].at <= w->now) {
		struct timer t = w->heap[0];
		struct pconn *c = w->slots[t.slot];

		heap_pop(w);
		if (c->gen != t.gen || c->wake_seq != t.seq)
			continue;
		c->wake = 0;
		service(w, c);
		settle(w, c);
	}
}

static void accept_all(struct pworker *w)
{
	for (;;) {
		int fd = accept4(w->p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pconn *c;

		if (fd < 0)
			return; /* EAGAIN: another worker took it, or none left */
		stamp_socket(fd);
		c = conn_new(w, fd);
		bump(&w->p->c.connections, 1);
		if (add_fd(w, c, SIDE_CLIENT) != 0) {
			close_side(w, c, SIDE_CLIENT, false);
		} else if (w->p->mode == HTTP_PROXY_TCP && !tcp_conn_faults(w, c)) {
			up_connect(w, c);
		}
		settle(w, c);
	}
}

static void handle(struct pworker *w, struct pconn *c, int tag, uint32_t ev)
{
	bool in = ev & (EPOLLIN | EPOLLHUP | EPOLLERR);

	if (tag == TAG_CLIENT) {
		if (ev & EPOLLOUT)
			flush(w, c, SIDE_CLIENT);
		if (in && c->fd[SIDE_CLIENT] >= 0)
			on_client_in(w, c);
		return;
	}
	if (c->connecting) {
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			on_up_connected(w, c);
		return;
	}
	if (ev & EPOLLOUT)
		flush(w, c, SIDE_UP);
	if (in && c->fd[SIDE_UP] >= 0)
		on_up_in(w, c);
}

static void *worker_main(void *arg)
{
	struct pworker *w = arg;
	struct epoll_event evs[128];
	bool stop = false;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* delays are released to the microsecond */
	if (w->p->realtime) {
		struct sched_param sp = { .sched_priority = 1 };

		atomic_store(&w->fifo, pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0);
	}
	while (!stop) {
		struct timespec tmo = { 1, 0 };
		int n;

		w->now = now_ns();
		run_timers(w);
		if (w->n_heap) {
			uint64_t d = w->heap[0].at > w->now ? w->heap[0].at - w->now : 0;

			tmo.tv_sec = (time_t)(d / 1000000000ULL);
			tmo.tv_nsec = (long)(d % 1000000000ULL);
		}
		n = epoll_pwait2(w->ep, evs, (int)ARRAY_SIZE(evs), &tmo, NULL);
		if (n < 0 && errno != EINTR)
			break;
		{
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			w->now = now_ns();
			w->real_minus_mono = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - (int64_t)w->now;
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			int tag = (int)(d & 3);
			uint32_t slot = (uint32_t)(d >> 2) & 0x3fffffffu, gen = (uint32_t)(d >> 32);
			struct pconn *c;

			if (tag == TAG_STOP) {
				stop = true;
			} else if (tag == TAG_LISTEN) {
				accept_all(w);
			} else if (slot < w->n_slots && (c = w->slots[slot])->gen == gen) {
				handle(w, c, tag, evs[i].events);
				if (c->gen == gen)
					settle(w, c);
			}
		}
	}
	for (size_t i = 0; i < w->n_slots; i++)
		if (w->slots[i]->fd[SIDE_CLIENT] >= 0 || w->slots[i]->fd[SIDE_UP] >= 0)
			conn_free(w, w->slots[i]);
	return NULL;
}

/* ---- the proxy ---- */

static int check_options(const struct http_proxy_options *o, struct err *err)
{
	if (!o->upstream_host || !*o->upstream_host || !o->upstream_port || !*o->upstream_port)
		return err_set(err, ERR_INPUT, "proxy: no upstream address");
	if (o->threads < 1 || o->threads > MAX_THREADS)
		return err_set(err, ERR_INPUT, "proxy: threads must be 1..%d", MAX_THREADS);
	for (size_t i = 0; i < o->n_faults; i++) {
		const struct http_proxy_fault *f = &o->faults[i];
		const char *k = http_proxy_fault_kind_name(f->kind);

		if ((unsigned)f->kind >= HTTP_PROXY_N_KINDS)
			return err_set(err, ERR_INPUT, "proxy: fault %zu: unknown kind", i);
		if (!(f->share > 0 && f->share <= 1))
			return err_set(err, ERR_INPUT, "proxy: fault %zu (%s): share must be in (0, 1]", i, k);
		if (f->kind == HTTP_PROXY_BANDWIDTH && !(f->bandwidth > 0))
			return err_set(err, ERR_INPUT, "proxy: fault %zu (bandwidth): bandwidth must be > 0", i);
		if (f->kind == HTTP_PROXY_ERROR && (f->status < 100 || f->status > 599))
			return err_set(err, ERR_INPUT, "proxy: fault %zu (error): status must be 100..599", i);
		if (f->kind == HTTP_PROXY_ERROR && o->mode == HTTP_PROXY_TCP)
			return err_set(err, ERR_INPUT, "proxy: fault %zu: error responses need the http mode", i);
		if (f->kind == HTTP_PROXY_LATENCY && f->dist == HTTP_PROXY_PARETO && !(f->alpha > 0))
			return err_set(err, ERR_INPUT, "proxy: fault %zu (latency): pareto needs alpha > 0", i);
		if (f->kind == HTTP_PROXY_LATENCY && f->dist == HTTP_PROXY_LOGNORMAL && !(f->sigma >= 0))
			return err_set(err, ERR_INPUT, "proxy: fault %zu (latency): lognormal needs sigma >= 0", i);
	}
	return 0;
}

static int resolve_upstream(struct http_proxy *p, struct err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int gai = getaddrinfo(p->upstream_host, p->upstream_port, &hints, &ai);

	if (gai != 0)
		return err_set(err, ERR_INPUT, "proxy: cannot resolve upstream '%s': %s", p->upstream_host, gai_strerror(gai));
	memcpy(&p->up_addr, ai->ai_addr, ai->ai_addrlen);
	p->up_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int bind_listener(struct http_proxy *p, struct err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, gai, rc = 0;
	char host[256];

	gai = getaddrinfo(p->listen_host, p->listen_port, &hints, &ai);
	if (gai != 0)
		return err_set(err, ERR_INPUT, "proxy: cannot resolve listen address '%s': %s", p->listen_host,
			       gai_strerror(gai));
	p->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0) {
		rc = err_sys(err, ERR_FAIL, "proxy: socket");
		goto done;
	}
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(p->lfd, 4096) != 0) {
		rc = err_sys(err, ERR_RUN, "proxy: cannot listen on %s:%s", p->listen_host, p->listen_port);
		goto done;
	}
	if (getsockname(p->lfd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), p->port, sizeof(p->port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		rc = err_sys(err, ERR_FAIL, "proxy: getsockname");
		goto done;
	}
	snprintf(p->address, sizeof(p->address), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, p->port);
done:
	freeaddrinfo(ai);
	return rc;
}

static int worker_init(struct http_proxy *p, struct pworker *w, size_t idx, struct err *err)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = TAG_LISTEN };

	w->p = p;
	w->idx = idx;
	w->rng.state = p->seed * UINT64_C(0x2545F4914F6CDD1D) + idx + 1;
	w->rbuf = xmalloc(RBUF_SIZE);
	w->overhead = hist_new(3);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->stopfd < 0)
		return err_sys(err, ERR_FAIL, "proxy: epoll/eventfd");
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, p->lfd, &ev) != 0)
		return err_sys(err, ERR_FAIL, "proxy: epoll_ctl");
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_STOP;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stopfd, &ev) != 0)
		return err_sys(err, ERR_FAIL, "proxy: epoll_ctl");
	return 0;
}

int http_proxy_open(struct http_proxy **out, const struct http_proxy_options *o, struct err *err)
{
	struct http_proxy *p = NULL;
	int rc;

	*out = NULL;
	if ((rc = check_options(o, err)) != 0)
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->lfd = -1;
	p->listen_host = xstrdup(o->listen_host && *o->listen_host ? o->listen_host : "127.0.0.1");
	p->listen_port = xstrdup(o->listen_port && *o->listen_port ? o->listen_port : "0");
	p->upstream_host = xstrdup(o->upstream_host);
	p->upstream_port = xstrdup(o->upstream_port);
	p->mode = o->mode;
	p->seed = o->seed;
	p->realtime = o->realtime;
	p->n_faults = o->n_faults;
	p->faults = xcalloc(o->n_faults + 1, sizeof(*p->faults));
	if (o->n_faults)
		memcpy(p->faults, o->faults, o->n_faults * sizeof(*p->faults));
	p->fc = xcalloc(o->n_faults + 1, sizeof(*p->fc));
	atomic_init(&p->t0, 0);
	if ((rc = resolve_upstream(p, err)) != 0 || (rc = bind_listener(p, err)) != 0)
		goto done;
	p->n_ws = (size_t)o->threads;
	p->ws = xcalloc(p->n_ws, sizeof(*p->ws));
	for (size_t i = 0; i < p->n_ws; i++) {
		p->ws[i].ep = p->ws[i].stopfd = -1;
		if ((rc = worker_init(p, &p->ws[i], i, err)) != 0)
			goto done;
	}
	for (size_t i = 0; i < p->n_ws; i++) {
		if (pthread_create(&p->ws[i].thread, NULL, worker_main, &p->ws[i]) != 0) {
			rc = err_set(err, ERR_FAIL, "proxy: cannot start thread %zu", i);
			goto done;
		}
		p->ws[i].started = true;
	}
done:
	if (rc) {
		http_proxy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const char *http_proxy_port(const struct http_proxy *p)
{
	return p->port;
}

const char *http_proxy_address(const struct http_proxy *p)
{
	return p->address;
}

void http_proxy_begin(struct http_proxy *p, uint64_t t0)
{
	atomic_store(&p->t0, t0 ? t0 : 1);
}

void http_proxy_stats(const struct http_proxy *p, struct http_proxy_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->connections = atomic_load(&p->c.connections);
	out->requests = atomic_load(&p->c.requests);
	out->forwarded = atomic_load(&p->c.forwarded);
	out->responses = atomic_load(&p->c.responses);
	out->bytes_up = atomic_load(&p->c.bytes_up);
	out->bytes_down = atomic_load(&p->c.bytes_down);
	out->upstream_failures = atomic_load(&p->c.upstream_failures);
	out->resent = atomic_load(&p->c.resent);
	out->tunnelled = atomic_load(&p->c.tunnelled);
	out->realtime = p->n_ws > 0;
	for (size_t i = 0; i < p->n_ws; i++)
		out->realtime = out->realtime && atomic_load(&p->ws[i].fifo);
	out->n_faults = p->n_faults;
	out->faults = xcalloc(p->n_faults + 1, sizeof(*out->faults));
	for (size_t i = 0; i < p->n_faults; i++) {
		out->faults[i].requests = atomic_load(&p->fc[i].requests);
		out->faults[i].delay_total = atomic_load(&p->fc[i].delay_total);
		out->faults[i].bytes = atomic_load(&p->fc[i].bytes);
	}
}

static void stop_threads(struct http_proxy *p)
{
	if (p->stopped)
		return;
	p->stopped = true;
	for (size_t i = 0; i < p->n_ws; i++) {
		uint64_t one = 1;

		if (p->ws[i].started && write(p->ws[i].stopfd, &one, sizeof(one)) < 0)
			continue; /* an eventfd write cannot fail short of a bug; nothing better to do */
	}
	p->overhead = hist_new(3);
	for (size_t i = 0; i < p->n_ws; i++) {
		if (p->ws[i].started)
			pthread_join(p->ws[i].thread, NULL);
		p->ws[i].started = false;
		if (p->ws[i].overhead)
			hist_merge(p->overhead, p->ws[i].overhead, NULL);
	}
}

void http_proxy_stop(struct http_proxy *p, struct http_proxy_stats *out)
{
	stop_threads(p);
	http_proxy_stats(p, out);
	out->overhead = hist_clone(p->overhead);
}

void http_proxy_stats_release(struct http_proxy_stats *s)
{
	free(s->faults);
	hist_free(s->overhead);
	memset(s, 0, sizeof(*s));
}

void http_proxy_free(struct http_proxy *p)
{
	if (!p)
		return;
	stop_threads(p);
	for (size_t i = 0; i < p->n_ws; i++) {
		struct pworker *w = &p->ws[i];

		for (size_t k = 0; k < w->n_slots; k++)
			free(w->slots[k]);
		free(w->slots);
		free(w->free_slots);
		free(w->heap);
		free(w->rbuf);
		hist_free(w->overhead);
		if (w->ep >= 0)
			close(w->ep);
		if (w->stopfd >= 0)
			close(w->stopfd);
	}
	free(p->ws);
	if (p->lfd >= 0)
		close(p->lfd);
	hist_free(p->overhead);
	free(p->fc);
	free(p->faults);
	free(p->listen_host);
	free(p->listen_port);
	free(p->upstream_host);
	free(p->upstream_port);
	free(p);
}
