/*
 * journey_run.h: journeys on the load engine (issue 16, docs/journeys.md):
 * the engine's driver (engine.h) that starts a journey at each arrival of
 * the load model (open loop) or for each user (closed loop), sends its
 * steps one after the other (each rendered from the journey's variables
 * as its turn comes), takes the captures from each response, waits the
 * think times, and records every step and every journey.
 *
 * Clocks: a journey's intended start (t_sched) is the schedule's time in
 * open loop, the moment its user became free in closed loop; its first
 * step is due at t_sched plus the step's think time, each later step at
 * the previous step's end plus its think time, and each step's latency
 * counts from that due time.  A journey's latency runs from its intended
 * start to the end of its last step, think times taken out.
 *
 * Each worker keeps one connection pool per target host (host:port of a
 * step's URL), shared by all the journeys it runs.
 */
#ifndef PERFGATE_HTTP_JOURNEY_RUN_H
#define PERFGATE_HTTP_JOURNEY_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"
#include "engine.h"
#include "journey.h"
#include "resilience.h"

struct hist;
struct rd_bench;

/* Journey-level failure classes besides the engine's (engine.h EE_*). */
enum http_journey_class {
	HTTP_JOURNEY_CAPTURE,  /* a value to capture was not in the response, or a template had no value */
	HTTP_JOURNEY_UNTIL,    /* a repeated step ran `max` times without meeting `until` */
	HTTP_JOURNEY_N_CLASSES
};
const char *http_journey_class_name(enum http_journey_class c);

/* What one step did, over all journeys. */
struct http_journey_step_result {
	struct http_engine_result r;        /* its requests, as any HTTP benchmark's */
	uint64_t failed[HTTP_JOURNEY_N_CLASSES]; /* answered requests that failed the journey all the same */
	uint64_t failed_in_window;          /* of those, ended in the window */
	char first[HTTP_JOURNEY_N_CLASSES][256];
	uint64_t skipped;                   /* measured journeys that passed the step (`when`) */
};

/* What the journeys of one measured step did. */
struct http_journey_result {
	size_t n_steps;
	struct http_journey_step_result *steps;
	struct hist *latency;               /* measured journeys that succeeded: ns, think times taken out */
	struct hist *lateness;              /* open loop: each measured journey's first send - its t_sched */
	uint64_t scheduled, ok, failed;     /* measured journeys */
	uint64_t ok_in_window;              /* succeeded with their last step ending in the window */
	uint64_t *failed_at;                /* per step: measured journeys that failed there */
	uint64_t requests;                  /* measured requests of all steps */
	/* per time-series interval of the engine's (its ts_interval from the
	 * step's start), warmup too: journeys started (by intended start),
	 * journeys that succeeded (by end) */
	uint64_t *ts_started, *ts_ok;
	size_t n_ts;
	struct http_resilience_sample *samples; /* keep_samples: one per measured journey */
	size_t n_samples;
	double window;                      /* s */
};

struct http_journey_run;

extern const struct http_engine_driver http_journey_driver;

/* Resolve the steps' hosts and set o (its plan, driver and driver_arg)
 * for journeys on `threads` workers.  ERR_RUN when a host does not
 * resolve. */
int http_journey_run_open(struct http_journey_run **out, const struct http_journey *j, long threads, uint64_t seed,
			  struct http_engine_options *o, struct err *err);
/* After http_engine_run: the workers' records merged (window from the
 * engine's result); then free. */
void http_journey_run_result(struct http_journey_run *r, double window, struct http_journey_result *out);
void http_journey_run_free(struct http_journey_run *r);
void http_journey_result_release(struct http_journey_result *r);

/* Why journeys failed, for a message: "at search: reset 12, capture 3
 * (first reset: ...)"; caller frees. */
char *http_journey_result_failures(const struct http_journey_result *jr, const struct http_journey *j);

/* The run document's metrics of one step of journeys: per step
 * (latency.p95[search], errors.capture[search], ...) and per journey
 * (journey.latency.p95, journey.error_rate, journey.throughput, ...);
 * suffix (a sweep step's "@100/s") goes after each name, or NULL. */
void http_journey_result_metrics(const struct http_journey_result *jr, const struct http_journey *j,
				 struct rd_bench *b, const char *suffix, bool open_loop);

#endif
