/*
 * proxy.h: perfgate's fault-injection proxy (issue 16, docs/faults.md).
 *
 * A proxy listens on an address of its own (loopback by default) and
 * forwards every connection to one upstream (the dependency, or the system
 * under test).  Its own threads run one epoll loop each; nothing blocks.
 * Two modes:
 *
 *   http  HTTP/1.1 aware: requests and responses are delimited with
 *         http-parser, one request at a time per connection (a pipelined
 *         request waits for the response before it), each client connection
 *         paired with its own upstream connection.  Faults act per request.
 *         Anything it cannot parse (and upgraded connections) is tunnelled
 *         as plain TCP.
 *   tcp   bytes both ways; faults act per connection or per chunk read.
 *
 * Faults (struct http_proxy_fault) follow a schedule relative to a start
 * time the caller gives once the measured window opens
 * (http_proxy_begin); before that no fault is active.  Each applies to
 * every request (tcp: connection) or to a share of them, chosen at random
 * (seeded) per request, or per connection for bandwidth and the tcp mode.
 *
 *   latency     delay each request before it is forwarded (direction
 *               "request", the default) or its response (direction
 *               "response"; tcp: every chunk in that direction), by a fixed
 *               time or one drawn from a distribution, plus jitter
 *   bandwidth   at most `bandwidth` bytes/s per connection, in the
 *               direction given (default the response)
 *   error       answer the request with `status` instead of forwarding it
 *   reset       reset the client connection (RST) when the request arrives
 *   blackhole   swallow the request and everything after it on that
 *               connection; never answer (the client times out); with
 *               `close_after`, close the connection that long after
 *   slow_close  delay every close the proxy passes on (the upstream's close
 *               to the client, the client's to the upstream) by `delay`
 *
 * When the upstream cannot be reached (refused, reset before answering),
 * the client connection is reset, as if the dependency itself had died.
 *
 * The proxy measures its own overhead: for each forwarded request, the time
 * its first byte spent in the proxy on the way up plus the first response
 * byte's on the way down, injected delays excluded.
 */
#ifndef PERFGATE_HTTP_PROXY_H
#define PERFGATE_HTTP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"
#include "rng.h"

struct hist;

enum http_proxy_mode { HTTP_PROXY_HTTP, HTTP_PROXY_TCP };

enum http_proxy_fault_kind {
	HTTP_PROXY_LATENCY,
	HTTP_PROXY_BANDWIDTH,
	HTTP_PROXY_ERROR,
	HTTP_PROXY_RESET,
	HTTP_PROXY_BLACKHOLE,
	HTTP_PROXY_SLOW_CLOSE,
	HTTP_PROXY_N_KINDS
};

/* Distributions of an added latency: FIXED is `latency` plus a uniform
 * jitter in [-jitter, +jitter]; NORMAL has mean `latency` and standard
 * deviation `jitter`; EXPONENTIAL mean `latency`; LOGNORMAL median
 * `latency` and log-space standard deviation `sigma`; PARETO scale
 * `latency` (the minimum) and shape `alpha` (a heavy tail).  Every draw is
 * clamped at 0. */
enum http_proxy_dist {
	HTTP_PROXY_FIXED,
	HTTP_PROXY_NORMAL,
	HTTP_PROXY_EXPONENTIAL,
	HTTP_PROXY_LOGNORMAL,
	HTTP_PROXY_PARETO
};

enum http_proxy_direction { HTTP_PROXY_DIR_DEFAULT, HTTP_PROXY_DIR_REQUEST, HTTP_PROXY_DIR_RESPONSE, HTTP_PROXY_DIR_BOTH };

struct http_proxy_fault {
	enum http_proxy_fault_kind kind;
	uint64_t at;          /* ns after the schedule's start */
	uint64_t duration;    /* ns; 0: until the proxy stops */
	double share;         /* fraction of requests (tcp: connections) affected, (0, 1] */
	enum http_proxy_direction direction;
	/* latency */
	enum http_proxy_dist dist;
	uint64_t latency;     /* ns: the fixed delay, mean, median or scale */
	uint64_t jitter;      /* ns: FIXED's uniform half-width, NORMAL's standard deviation */
	double sigma;         /* LOGNORMAL */
	double alpha;         /* PARETO, > 0 */
	/* bandwidth */
	double bandwidth;     /* bytes/s, > 0 */
	/* error */
	int status;           /* 100..599 */
	/* slow_close: the delay; blackhole: close the connection this long
	 * after it went silent (0: never) */
	uint64_t delay;       /* ns */
};

struct http_proxy_options {
	const char *listen_host;   /* default "127.0.0.1" */
	const char *listen_port;   /* default "0": a free port (http_proxy_port says which) */
	const char *upstream_host; /* required */
	const char *upstream_port; /* required */
	enum http_proxy_mode mode;
	const struct http_proxy_fault *faults; /* copied */
	size_t n_faults;
	uint64_t seed;
	long threads;              /* event loops, >= 1 */
	/* Each thread asks for SCHED_FIFO (priority 1), as the load engine's
	 * open-loop workers do, so that other runnable threads cannot delay a
	 * forward; refused, it runs under the normal policy. */
	bool realtime;
};
#define HTTP_PROXY_OPTIONS_INIT { .listen_host = "127.0.0.1", .listen_port = "0", .mode = HTTP_PROXY_HTTP, \
				  .seed = 1, .threads = 1, .realtime = true }

/* What the proxy did to the traffic of one fault. */
struct http_proxy_fault_stats {
	uint64_t requests;    /* requests (tcp: connections or chunks) it acted on */
	uint64_t delay_total; /* ns of latency added (latency) */
	uint64_t bytes;       /* bytes it held back (bandwidth) */
};

struct http_proxy_stats {
	uint64_t connections;     /* client connections accepted */
	uint64_t requests;        /* requests seen (http mode) */
	uint64_t forwarded;       /* requests forwarded upstream */
	uint64_t responses;       /* complete responses passed back */
	uint64_t bytes_up, bytes_down; /* bytes written upstream, to clients */
	uint64_t upstream_failures;    /* connects refused or upstream resets that reset a client */
	uint64_t resent;          /* requests resent once on a fresh upstream connection (keep-alive race) */
	uint64_t tunnelled;       /* http mode: connections passed through as TCP (upgrade, unparsable) */
	bool realtime;            /* every thread runs SCHED_FIFO */
	struct http_proxy_fault_stats *faults; /* one per fault, in the order given */
	size_t n_faults;
	struct hist *overhead;    /* ns per forwarded request (see above); NULL in snapshots */
};

struct http_proxy;

/* Bind, resolve the upstream and start the threads.  The options' strings
 * and faults are copied.  ERR_INPUT for a bad option or a name that does
 * not resolve, ERR_RUN for an address that cannot be bound (in use),
 * ERR_FAIL for a system failure. */
int http_proxy_open(struct http_proxy **out, const struct http_proxy_options *opts, struct err *err);
/* Stop the threads, close every connection, free; NULL is fine. */
void http_proxy_free(struct http_proxy *p);

/* The port it listens on (a number as text), and "host:port" to connect to. */
const char *http_proxy_port(const struct http_proxy *p);
const char *http_proxy_address(const struct http_proxy *p);

/* Start the fault schedule: `at` counts from t0 (ns, CLOCK_MONOTONIC).
 * Until called, no fault is active.  Callable from any thread; a later
 * call moves the start (requests already under way keep their fate). */
void http_proxy_begin(struct http_proxy *p, uint64_t t0);

/* Counters so far (overhead NULL).  Release with http_proxy_stats_release. */
void http_proxy_stats(const struct http_proxy *p, struct http_proxy_stats *out);
/* Stop the threads and return the final counters with the overhead
 * histogram; the proxy then only awaits http_proxy_free. */
void http_proxy_stop(struct http_proxy *p, struct http_proxy_stats *out);
void http_proxy_stats_release(struct http_proxy_stats *s);

/* ---- pure parts, exposed for tests ---- */

const char *http_proxy_fault_kind_name(enum http_proxy_fault_kind k);
/* "latency" ... -> 0, else ERR_INPUT. */
int http_proxy_fault_kind_parse(const char *s, enum http_proxy_fault_kind *out);
const char *http_proxy_dist_name(enum http_proxy_dist d);
int http_proxy_dist_parse(const char *s, enum http_proxy_dist *out);

/* Is f active `since` ns after the schedule's start? */
bool http_proxy_fault_active(const struct http_proxy_fault *f, uint64_t since);

/* A latency drawn for f (ns). */
uint64_t http_proxy_draw_latency(const struct http_proxy_fault *f, struct http_rng *r);

/* Does a share-s choice select item `id` of fault `fault`?  Deterministic
 * per (seed, fault, id), so a connection stays selected or not. */
bool http_proxy_selects(uint64_t seed, size_t fault, uint64_t id, double share);

/* A token bucket of `rate` bytes/s holding at most `burst` bytes. */
struct http_proxy_bucket {
	double tokens; /* bytes */
	uint64_t last; /* ns of the last refill; 0: never */
};
/* How many of `want` bytes may go now (refilling first); when 0, *wait_ns
 * says how long until `min(want, burst)` bytes may. */
size_t http_proxy_bucket_take(struct http_proxy_bucket *b, double rate, double burst, uint64_t now, size_t want,
			      uint64_t *wait_ns);

/* The reason phrase of a status ("Service Unavailable"), "Error" when unknown. */
const char *http_proxy_reason(int status);

#endif
