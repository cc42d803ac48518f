/*
 * engine.h: the load engine (issue 5, "Engine").  One measured step:
 * open loop (arrivals from a schedule, coordinated-omission corrected) or
 * closed loop (N requests in flight), on `threads` workers each with its
 * own epoll loop, connections and histograms, merged at the end.
 *
 * The requests travel over a transport chosen by name from a table
 * (transport.h): "native" (HTTP/1.1 over keep-alive TCP connections, every
 * request serialised once by struct http_plan, responses parsed by
 * http-parser) or "curl" (libcurl multi, driven from the same kind of
 * epoll loop: https:// and HTTP/2).  "auto" takes the first in the table
 * that speaks the URL's scheme and the HTTP version asked for.
 *
 * Times are CLOCK_MONOTONIC ns.  For each request: t_sched (intended send:
 * the schedule's time in open loop, the moment the slot became free in
 * closed loop), t_send (first byte written), t_first_byte, t_first_token,
 * t_last_token, t_end (response complete).  A request is measured when
 * t_sched falls in the measured window [start + warmup, start + warmup +
 * duration) (or is one of the first `requests` after the warmup); warmup
 * requests are sent and timed but not recorded.
 *
 * Process-wide set-up is the caller's (cmd/main.c does it once):
 * curl_global_init before the first step, and a descriptor limit
 * (RLIMIT_NOFILE) large enough for the connections.
 */
#ifndef PERFGATE_HTTP_ENGINE_H
#define PERFGATE_HTTP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"
#include "converge.h"
#include "plan.h"
#include "resilience.h"
#include "schedule.h"

struct hist;
struct http_llm_result;
struct http_records;

/* Error classes of failed requests (DESIGN section 4). */
enum http_engine_error {
	EE_REFUSED,           /* connect failed (refused, unreachable) */
	EE_TIMEOUT,           /* no complete response within the request timeout */
	EE_RESET,             /* connection reset or closed before the response was complete */
	EE_4XX,
	EE_5XX,
	EE_UNEXPECTED_STATUS, /* a status outside 4xx/5xx that expect_status does not accept */
	EE_BAD_RESPONSE,      /* not parseable HTTP, or an error object in a stream */
	EE_FAILED_CHECK,      /* a `checks` entry failed */
	EE_INCOMPLETE_STREAM, /* a stream ended without its end mark */
	EE_N
};
const char *http_engine_error_name(enum http_engine_error e);


/* The HTTP version asked for: EHV_DEFAULT is HTTP/1.1 over http:// and
 * whatever TLS negotiates (h2 or 1.1) over https://; EHV_2 is HTTP/2 on
 * the curl engine, with prior knowledge (h2c, no Upgrade) over http://. */
enum http_engine_httpver { EHV_DEFAULT, EHV_1_1, EHV_2 };
int http_engine_httpver_parse(const char *s, enum http_engine_httpver *out);

/* load.engine: "auto" gives NULL, a transport's name ("native", "curl")
 * that name (static storage); anything else ERR_INPUT. */
int http_engine_transport_parse(const char *s, const char **out);
/* The accepted names for a message: "\"auto\", \"native\" or \"curl\"". */
void http_engine_transport_names(char *buf, size_t len);
/* At suite load: one problem at PATH.http_version when the transport
 * (engine; NULL: auto) cannot speak version v to a URL whose scheme is
 * https (tls) or http, or this machine's library cannot. */
void http_engine_validate(const char *engine, bool tls, enum http_engine_httpver v, const char *path,
			  struct errlist *problems);

struct http_worker;
struct http_slot;

/*
 * A driver runs units of several requests each (journeys, sessions) on the
 * engine instead of the plan's one request at a time: the engine keeps the
 * clock, the load model and the slots; the driver decides what each unit
 * sends next (transport.h: http_engine_send).  Its per-worker state hangs
 * off o->driver_arg by w->idx.  Open loop: each arrival of the schedule
 * starts a unit at its intended time; closed loop: the engine starts units
 * while fewer than the concurrency are active.
 */
struct http_engine_driver {
	int (*worker_open)(struct http_worker *w, struct err *err);
	/* A unit starts: t_sched is its intended start; measured: it falls in
	 * the measured window. */
	void (*arrive)(struct http_worker *w, uint64_t t_sched, bool measured);
	/* Send what is due by now; returns when the next thing is due (ns; 0:
	 * nothing waits). */
	uint64_t (*issue)(struct http_worker *w, uint64_t now);
	/* A request the driver sent with `job` ended: e is its class when it
	 * failed, -1 when it succeeded.  The slot is free again, but still
	 * holds the response (body, headers) until the driver sends on it. */
	void (*done)(struct http_worker *w, struct http_slot *s, void *job, int e, uint64_t t_end);
	/* Units started and not finished (in think times, waiting or in flight). */
	size_t (*active)(const struct http_worker *w);
};

/* A closed-loop concurrency profile: linear from `start` to `end` over
 * `duration` seconds. */
struct http_engine_cstage {
	double duration; /* s */
	double start, end;
};

struct http_engine_options {
	const struct http_plan *plan;
	bool open_loop;
	/* open loop */
	const struct http_schedule_segment *segments;
	size_t n_segments;
	const uint64_t *times;  /* instead of segments: every arrival, ns after the start (a trace) */
	size_t n_times;
	enum http_schedule_arrival arrival;
	double burstiness;
	uint64_t seed;
	/* closed loop: a constant concurrency, or stages */
	long concurrency;
	const struct http_engine_cstage *cstages;
	size_t n_cstages;
	/* both */
	uint64_t warmup;       /* ns */
	uint64_t duration;     /* ns of measured window; 0 when `requests` is set */
	uint64_t requests;     /* measured requests; 0 when `duration` is set */
	long connections;      /* open loop: fixed pool per run (0: grow on demand up to max_inflight) */
	long max_inflight;     /* open loop: outstanding requests at most (0: 1024) */
	long threads;          /* >= 1 */
	uint64_t timeout;      /* ns per request */
	const char *engine;    /* a transport's name; NULL: auto */
	enum http_engine_httpver http_version;
	/* open loop: each worker asks for SCHED_FIFO (priority 1) so that
	 * other runnable threads on its CPU cannot delay a send; refused
	 * (no CAP_SYS_NICE, an RT-less cgroup), it runs SCHED_OTHER. */
	bool realtime;
	uint64_t ts_interval;  /* ns per time-series point (0: 1 s) */
	/* This process runs part part_index (0-based) of part_count (0: 1) of
	 * the load (a shard, core/shard.h): its worker i is worker
	 * i x part_count + part_index of threads x part_count, and takes its
	 * share of the rate, concurrency, connections and in-flight bound,
	 * and its arrival seed, as that worker of one process with that many
	 * workers would.  (The caller divides `requests`.) */
	unsigned part_index, part_count;
	/* Keep each time-series interval's latency histogram in the result
	 * (ts_lat), for a shard's run document. */
	bool keep_ts_hist;
	/* When the step starts (t0, ns CLOCK_MONOTONIC): shards of a load test
	 * spread over machines start together (core/shard.h).  0, or a time
	 * already past when the workers are ready: a millisecond after that. */
	uint64_t start_at;
	/* Called from http_engine_run's own thread when the measured window opens
	 * (open = true) and when it closes (after the last measured request in
	 * requests mode); may be NULL.  For resource monitors. */
	void (*on_window)(void *arg, bool open);
	void *window_arg;
	/* When not NULL: set to the measured window's start (ns) before the
	 * workers start, for a schedule that must count from exactly there
	 * (the fault proxy's). */
	uint64_t *window_start;
	/* Keep one sample (t_sched, latency or failure) per measured request,
	 * for the phases around a fault (resilience.h). */
	bool keep_samples;
	/* Multi-request units (journeys); NULL: the plan's requests. */
	const struct http_engine_driver *driver;
	void *driver_arg;
	/* Per-request records (records.h): every request of the step, warmup
	 * too, is a line under records_bench and records_step; NULL: none. */
	struct http_records *records;
	const char *records_bench;
	long records_step;
	/* Stop the step before its duration when this metric has converged
	 * (converge.h); NULL: run the whole duration. */
	const struct http_converge_options *converge;
};

struct http_engine_ts_point {
	uint64_t sent, ok, errors;  /* requests sent, succeeded, failed in this interval (by t_end / t_send) */
	uint64_t p50, p95, p99;     /* ns, latency of the successes ending in it (0 when none) */
	uint64_t inflight_max;      /* most requests outstanding at once */
};

struct http_engine_result {
	struct hist *latency, *service_time, *lateness, *ttfb; /* measured successes (lateness: all measured sends) */
	struct hist *ttft, *tpot, *itl;                        /* streaming successes */
	uint64_t scheduled;       /* measured requests scheduled (t_sched in the window) */
	uint64_t sent;            /* measured requests sent */
	uint64_t ok, failed;      /* measured requests by outcome */
	uint64_t errors[EE_N];
	char first_error[EE_N][256]; /* the first message of each class */
	uint64_t ok_in_window;    /* successes whose t_end fell in the window */
	uint64_t sent_in_window;  /* sends whose t_send fell in the window */
	uint64_t goodput_ok;      /* successes in the window meeting every request SLO */
	uint64_t late_1ms;        /* measured sends more than 1 ms late */
	uint64_t blocked;         /* times a due send found no free connection or hit max_inflight */
	uint64_t interim;         /* interim 1xx responses (100, 103...) before measured requests' final ones */
	uint64_t warmup_requests;
	uint64_t bytes_in, bytes_out; /* measured requests, whole responses and requests */
	uint64_t tokens;          /* output tokens of measured streaming successes */
	uint64_t tok_usage, tok_events; /* how many of them counted tokens from usage / from events */
	bool one_token_events;    /* every usage count equalled its event count */
	double window;            /* s, the measured window */
	uint64_t t0;              /* ns CLOCK_MONOTONIC, when the step started (its time series' origin) */
	double cpu_util_max;      /* the busiest worker's CPU time / wall time */
	long connections_opened;
	const char *engine;       /* the transport's name: "native", "curl" */
	uint64_t proto_h1, proto_h2; /* measured successes answered over HTTP/1.x, over HTTP/2 */
	const char *sched_policy; /* the workers' scheduling policy: "fifo" (all got it) or "other" */
	char sched_refused[128];  /* why SCHED_FIFO was refused, when asked for and refused ("" otherwise) */
	struct http_engine_ts_point *ts;
	struct hist **ts_lat;     /* keep_ts_hist: each interval's latency histogram (2 significant digits; NULL when empty) */
	size_t n_ts;
	uint64_t ts_interval;     /* ns */
	struct http_resilience_sample *samples; /* keep_samples: t from the window's start */
	size_t n_samples;
	struct http_llm_result *llm; /* LLM workloads (llm.h): usage, lengths, classes; NULL otherwise */
	bool converge_asked;      /* the step had o->converge */
	struct http_converge_outcome converge; /* and what it found */
};

/* Worker idx's (of `threads`) share of `total` (connections, concurrency,
 * the in-flight bound) when this process is part `part` of `parts` (0 or
 * 1: the whole): total / (threads x parts), one more for some workers, so
 * that all workers' shares add up to total and each part gets total /
 * parts or one more. */
long http_engine_share(long total, long threads, size_t idx, unsigned part, unsigned parts);

/* Run one step.  Returns 0 when it ran (whatever the requests' fate), or
 * a negative code when it could not run (bad options, no resolver answer,
 * too many threads, a system call of the event loop failed). */
int http_engine_run(const struct http_engine_options *o, struct http_engine_result *out, struct err *err);
void http_engine_result_release(struct http_engine_result *r);
/* A result to record into (histograms made, stream ones when sse), and
 * one added into another (counts summed, histograms merged). */
void http_engine_result_init(struct http_engine_result *r, bool sse);
void http_engine_result_merge(struct http_engine_result *dst, const struct http_engine_result *src);

#endif
