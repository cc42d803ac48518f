/*
 * transport.h: the contract inside the load engine between the part that
 * decides (engine.c: when each request is due, on which slot, when it has
 * timed out, what the step measured) and the parts that move bytes, one
 * file per transport behind a table, as curl's lib/vtls/ swaps TLS
 * backends and wrk2 its plain and TLS sockets:
 *
 *   h1.c    native HTTP/1.1: non-blocking sockets on the worker's epoll
 *           set, one connection per slot, responses parsed by http-parser
 *   curl.c  libcurl multi (https://, HTTP/2), its sockets in an epoll set
 *           of their own that the worker's set watches
 *
 * request.c, shared by every transport, reads a response (status, body,
 * stream events, checks) and records each request's outcome; the sent,
 * late, succeeded and failed counts that decide whether a run is valid are
 * kept there and nowhere else.
 *
 * A transport is driven by one worker thread at a time and never blocks.
 * Adding one: write core/http/NAME.c defining
 *
 *   const struct http_transport http_NAME_transport = { .name = "NAME", ... };
 *
 * declare it at the end of this file and add it to the table in engine.c,
 * whose order is the preference of "engine": "auto".
 */
#ifndef PERFGATE_HTTP_TRANSPORT_H
#define PERFGATE_HTTP_TRANSPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../err.h"
#include "../util.h"
#include "engine.h"
#include "resilience.h"
#include "llm.h"
#include "tokens.h"

struct http_sse_parser;
struct http_worker;
struct http_records_local;
struct http_converge;

/*
 * A request slot: at most one request in flight and, for a transport that
 * keeps one per slot, its connection.  A worker's slots live for the
 * whole step and carry request after request.
 */
struct http_slot {
	struct http_worker *w;
	void *tp;              /* the transport's state for this slot (NULL until it makes one) */
	bool open;             /* the transport holds a connection for it, or is opening one */
	long idle_pos;         /* index in the worker's idle stack, -1 when not there */
	/* the request (engine.c sets these before the transport's start) */
	const struct http_plan *plan;   /* what the request is (w->plan, or a driver's step) */
	struct http_engine_result *res; /* where its outcome is recorded (&w->r, or a driver's) */
	const struct sockaddr *addr;    /* where its connection goes (the step's target, or a driver's) */
	socklen_t addrlen;
	size_t pool;           /* the connection pool (target) of the slot's connection: 0 unless a driver's */
	void *job;             /* the driver's, for a request a driver sent (NULL otherwise) */
	bool has_req;
	bool measured;         /* t_sched fell in the measured window */
	bool sent_once;        /* http_request_sent has counted it */
	const struct http_wire *wire;
	uint64_t t_sched;      /* ns, intended send (open loop), or when the slot came free (closed) */
	uint64_t t_send;       /* ns, first byte written (set by the transport) */
	uint64_t t_first_byte; /* ns, first response byte (set by the transport) */
	uint64_t deadline;     /* ns, the request times out at this time */
	/* the response (request.c; the transport sets status, interim, h2,
	 * got_bytes and resp_bytes as it reads) */
	bool got_bytes;        /* any response byte arrived */
	bool h2;               /* the response came over HTTP/2 */
	int status;            /* of the response being read: an interim 1xx, then the final one */
	unsigned interim;      /* interim (1xx) responses before the final one */
	uint64_t resp_bytes;   /* bytes, the whole response */
	struct sb body;        /* kept for checks and captures (plan->keep_body) */
	struct sb headers;     /* the final response's header lines, "Name: value\r\n" each (plan->keep_headers) */
	bool body_over;        /* the body exceeded plan->max_body */
	struct http_sse_parser *sse;
	struct http_tokens tok;
	bool sse_done, sse_error;
	uint64_t *gaps;        /* ns between content events of this response */
	size_t n_gaps, alloc_gaps;
	/* LLM workloads (llm.h) */
	const struct http_plan_meta *meta; /* what the request asked for, or NULL */
	struct http_llm_req llm;           /* what its response's usage said */
};

/* What the workers of one step share.  Set before the start gate opens and
 * only read afterwards, but for measured_issued. */
struct http_step {
	uint64_t t0;                   /* ns, start of the step */
	uint64_t window_start;         /* ns */
	/* ns; UINT64_MAX in requests mode.  Atomic: a step that converges
	 * (converge.h) ends early, the engine's thread moving it. */
	_Atomic uint64_t window_end;
	atomic_ullong measured_issued; /* requests mode: measured requests handed out */
	struct http_converge *conv;    /* load.converge: what decides an early end, or NULL */
	const struct sockaddr *addr;   /* the target, resolved once */
	socklen_t addrlen;
	/* The start gate: workers open their first connections, arrive, and
	 * wait until the engine sets t0 and opens it (go 1) or cancels the
	 * step (go -1, a worker thread could not start). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t arrived;
	int go;
};

/* A worker's per-request samples for resilience (engine.h, keep_samples). */
struct http_worker_samples {
	struct http_resilience_sample *v;
	size_t n, alloc;
};

/* One interval of a worker's time series. */
struct http_worker_ts {
	uint64_t sent, ok, errors, inflight_max;
	struct hist *lat;      /* latency of the successes ending in it */
};

struct http_worker {
	/* What transports read (and r.connections_opened, which they count). */
	const struct http_engine_options *o;
	const struct http_plan *plan;
	const struct http_transport *t;
	struct http_step *step;
	int ep;                /* epoll set; a transport adds its descriptors with a pointer that comes back in ->event */
	void *tp;              /* the transport's state for this worker */
	uint64_t now;          /* ns, when the transport last read from the network (stream event times) */
	struct http_engine_result r; /* this worker's share of the step's result */
	/* The engine's. */
	size_t idx;
	size_t global, all;    /* this worker among all workers of all parts of the load (engine.h part_index) */
	pthread_t thread;
	struct http_slot *slots;
	size_t n_slots;        /* slots in use (connected or not) */
	size_t cap_slots;
	struct http_slot **idle; /* slots with an open connection and no request */
	size_t n_idle;
	long busy;             /* requests outstanding */
	long max_inflight;
	long target;           /* closed loop: requests this worker keeps in flight */
	struct http_schedule *sched;
	uint64_t next_t;       /* ns, next intended send */
	bool issuing_done;
	bool running;          /* past the start gate: requests may be issued */
	uint64_t req_counter;
	uint64_t last_t_end;   /* ns, latest measured completion */
	struct http_worker_ts *ts;
	size_t n_ts;           /* intervals reached (the series' length) */
	size_t ts_alloc;       /* intervals allocated (more: a series read to its capacity ran 65 s for 40) */
	size_t ts_cur;         /* the interval http_engine_ts_at found last, */
	uint64_t ts_from, ts_to; /* and its times [from, to) (ns; to 0: none yet) */
	struct err err;        /* why the worker stopped early (rc != 0) */
	int rc;
	bool fifo;             /* runs SCHED_FIFO */
	int sched_errno;       /* why SCHED_FIFO was refused (0: not asked, or granted) */
	struct http_records_local *rec; /* this worker's per-request records (o->records), or NULL */
	uint64_t records_seq;  /* requests it recorded in this step */
	struct http_worker_samples samples; /* o->keep_samples: one per measured request */
};

struct http_transport {
	const char *name;      /* the value of load.engine; generator[].engine */
	bool tls;              /* speaks https:// */
	bool h2;               /* speaks HTTP/2 (else HTTP/1.1 only) */
	/* Optional: 0 when this machine's library can carry what is asked
	 * (tls: an https:// URL; v: load.http_version), else ERR_INPUT and
	 * why, in one line, into why. */
	int (*check)(bool tls, enum http_engine_httpver v, char *why, size_t why_len);
	/* Per worker, before its thread starts; worker_close undoes it, also
	 * after a worker_open that failed half-way, and may run twice. */
	int (*worker_open)(struct http_worker *w, struct err *err);
	void (*worker_close)(struct http_worker *w);
	/* Optional: open n connections before the clock starts, each on a
	 * slot from http_engine_slot_new (wait at most a moment for them). */
	void (*preconnect)(struct http_worker *w, size_t n);
	/* Send s's request (the engine has set its fields), connecting first
	 * when s has no connection.  It ends, now or later, with exactly one
	 * http_request_ok or http_request_fail. */
	void (*start)(struct http_worker *w, struct http_slot *s);
	/* An epoll event on a descriptor this transport added to w->ep. */
	void (*event)(struct http_worker *w, void *ptr, uint32_t events);
	/* Optional: run what is due at `now` (the transport's own timers);
	 * returns when it next wants to run (ns), 0 when it has nothing. */
	uint64_t (*tick)(struct http_worker *w, uint64_t now);
	/* s's deadline passed: end its request with EE_TIMEOUT.  NULL: the
	 * transport enforces o->timeout itself. */
	void (*expire)(struct http_worker *w, struct http_slot *s);
	/* The request on s has ended and its connection is not to be reused
	 * (keep-alive refused, or the request failed): close it, or keep it
	 * when the transport pools connections itself.  s->open says which. */
	void (*close)(struct http_worker *w, struct http_slot *s);
	/* The step is over: close s's connection and free s->tp. */
	void (*slot_release)(struct http_worker *w, struct http_slot *s);
};

/* engine.c: the slots, for transports. */
/* A slot with neither request nor connection (a new one while the worker
 * has room); NULL when every slot is taken. */
struct http_slot *http_engine_slot_new(struct http_worker *w);
/* s's connection came up with no request on it: idle, or (closed loop,
 * running) given the next request at once. */
void http_engine_slot_ready(struct http_worker *w, struct http_slot *s);
/* s's connection is gone (s->open becomes false). */
void http_engine_slot_closed(struct http_worker *w, struct http_slot *s);
/* Closed loop: hand requests to free slots until the loop has what it
 * wants (after an idle connection closed); nothing in open loop. */
void http_engine_refill(struct http_worker *w);
/* Stop the worker with an error (the first one is kept): its loop ends,
 * and http_engine_run returns it.  Returns code. */
int http_engine_worker_fail(struct http_worker *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* For drivers: send a request on a slot of connection pool `pool` (an
 * idle one, a new one, or an idle one of another pool, reconnected),
 * recorded into res.  False when none is free or max_inflight is reached
 * (the driver keeps the request and tries again; its t_sched stays). */
bool http_engine_send(struct http_worker *w, size_t pool, const struct sockaddr *addr, socklen_t addrlen,
		      const struct http_plan *plan, const struct http_wire *wire, struct http_engine_result *res,
		      void *job, uint64_t t_sched, bool measured);
/* The step's measured window (ns), for drivers. */
bool http_engine_in_window(const struct http_worker *w, uint64_t t);

/* The time-series interval that holds time t (ns). */
struct http_worker_ts *http_engine_ts_at(struct http_worker *w, uint64_t t);
/* The request on s has ended (request.c calls it after recording it): the
 * slot is free for the next one; keep: its connection may carry it.  e is
 * the failure's class (-1: it succeeded), for a driver. */
void http_engine_slot_done(struct http_worker *w, struct http_slot *s, bool ok, bool keep, int e, uint64_t t_end);

/* request.c: one request's response and its record. */
/* A new slot's response state (its stream parser); and its release. */
void http_request_slot_init(struct http_slot *s);
void http_request_slot_release(struct http_slot *s);
/* Forget the previous response (the transport calls it as it sends). */
void http_request_begin(struct http_worker *w, struct http_slot *s);
/* Response body bytes of a final response: the stream parser and the
 * copy kept for checks. */
void http_request_body(struct http_slot *s, const char *data, size_t len);
/* Count the send (once per request, at s->t_send): sent, lateness, the
 * late sends that make a run invalid, bytes out. */
void http_request_sent(struct http_worker *w, struct http_slot *s);
/* The whole response is in: -1 when it passes (status, stream end mark,
 * checks), else its error class with why. */
int http_request_verdict(const struct http_worker *w, const struct http_slot *s, char *why, size_t why_len);
/* End the request on s as a success (keep: its connection may carry the
 * next one) or as a failure of class e (its connection is closed). */
void http_request_ok(struct http_worker *w, struct http_slot *s, bool keep);
void http_request_fail(struct http_worker *w, struct http_slot *s, enum http_engine_error e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* An interim response (100 Continue, 103 Early Hints, ...; RFC 9110
 * 15.2) precedes the final one on the same request.  101 Switching
 * Protocols is final: it ends HTTP on the connection. */
bool http_request_interim(int status);

/* The transports (the table is in engine.c). */
extern const struct http_transport http_h1_transport;
extern const struct http_transport http_curl_transport;

#endif
