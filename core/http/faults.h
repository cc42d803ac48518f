/*
 * faults.h: the `faults` object of an HTTP or journey benchmark (issue 16,
 * docs/faults.md): the proxies perfgate starts in front of dependencies (or
 * of the system under test), the fault schedule within the measured
 * window, and how recovery is judged.
 *
 *   "faults": {
 *     "proxy": {"listen": "127.0.0.1:9102", "upstream": "127.0.0.1:8102"},
 *     "schedule": [{"kind": "latency", "latency": "200ms", "at": "10s", "duration": "15s"}],
 *     "recovery": {"window": "1s", "latency_tolerance": "10%"}
 *   }
 *
 * `proxies` (an array, each with a `name`) replaces `proxy` when there are
 * several; schedule entries then name theirs with `proxy`.
 */
#ifndef PERFGATE_HTTP_FAULTS_H
#define PERFGATE_HTTP_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "../rundoc.h"
#include "load.h"
#include "proxy.h"
#include "resilience.h"

struct hist;

struct http_faults_proxy {
	char *name;
	char *listen_host, *listen_port;
	char *upstream_host, *upstream_port;
	enum http_proxy_mode mode;
	long threads;
	struct http_proxy_fault *faults; /* this proxy's part of the schedule */
	size_t n_faults;
	size_t *entry;                   /* for each: its index in the suite's schedule */
};

struct http_faults {
	struct http_faults_proxy *proxies;
	size_t n_proxies;
	size_t n_entries;                /* schedule entries, all proxies together */
	uint64_t start;                  /* ns after the window opens: the first fault starts */
	uint64_t end;                    /* ns: the last one ends; 0 when one lasts to the window's end */
	struct http_resilience_options recovery; /* fault_start/_end/end filled at run time */
};

/* Parse the benchmark's `faults` object (path names the benchmark).  Every
 * problem is appended at its JSON path; returns ERR_INPUT when any was
 * found.  With out == NULL only validates. */
int http_faults_parse(struct http_faults *out, const cJSON *bench, const char *path, struct errlist *problems);
void http_faults_release(struct http_faults *f);

/* The schedule must lie in a measured window of `window` seconds (0: the
 * window is counted in requests and its length unknown: refused). */
void http_faults_check_window(const cJSON *bench, double window, const char *path, struct errlist *problems);

/* At suite load: the faults object, and how it fits the load model (one
 * measured step of a known length: rate, concurrency or ramp with a
 * duration); spec is NULL when the load object itself is broken. */
void http_faults_validate(const cJSON *bench, const char *path, const struct http_load_spec *spec,
			  struct errlist *problems);

/* The metrics of one repetition around the faults (docs/faults.md): the
 * phases, recovery_time, requests_lost from the samples (t from the
 * window's start), and the proxies' overhead.  A note for the run
 * document's warnings goes to note ("" when none). */
void http_faults_metrics(const struct http_faults *f, const struct http_resilience_sample *s, size_t n, double window,
			 const struct hist *overhead, struct rd_bench *b, char *note, size_t note_len);

/* The running proxies of one measured step. */
struct http_faults_run;

int http_faults_start(struct http_faults_run **out, const struct http_faults *f, uint64_t seed, struct err *err);
/* The measured window opened at t0 (ns, CLOCK_MONOTONIC): the schedule starts. */
void http_faults_begin(struct http_faults_run *r, uint64_t t0);
/* Stop the proxies; their counters as JSON (one object per proxy, each
 * fault's counters under its schedule index), and every proxy's overhead
 * merged into `overhead` (ns per request; may be NULL). */
cJSON *http_faults_stop(struct http_faults_run *r, struct hist *overhead);
void http_faults_run_free(struct http_faults_run *r);

#endif
