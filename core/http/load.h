/*
 * load.h: the `load` object of an HTTP benchmark (docs/load.md):
 * which load model runs and with what numbers.
 *
 *   rate         open loop at `rate` requests/s, arrivals constant, poisson
 *                or gamma (`burstiness`), `max_inflight` bounding what is
 *                outstanding;
 *   concurrency  closed loop, `concurrency` requests in flight;
 *   ramp         `stages` of rate (or of concurrency) changing linearly
 *                within each stage from the previous stage's value;
 *   spike        `rate`, then `spike.factor` times it from `spike.at` for
 *                `spike.duration`, then `rate` again; reports the time to
 *                recover;
 *   sweep        each of `rates` is a measured step (warmup + duration);
 *   trace        open loop at a trace's times (trace.h), scaled by
 *                `trace.time_scale`, its lengths the requests' (workload.h);
 *   capacity     the highest rate at which every SLO of the benchmark holds
 *                and at most `max_failures` of the requests went unanswered:
 *                grow geometrically from `start_rate` until a step breaks
 *                (or halve, down to `min_rate`, until one holds), then
 *                bisect to `precision`, each step measured for
 *                `step_duration` after its own `warmup`, `trials` times.
 */
#ifndef PERFGATE_HTTP_LOAD_H
#define PERFGATE_HTTP_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "engine.h"
#include "schedule.h"

enum http_load_mode { LOAD_RATE, LOAD_CONCURRENCY, LOAD_RAMP, LOAD_SPIKE, LOAD_SWEEP, LOAD_CAPACITY, LOAD_TRACE };

struct http_load_stage {
	double duration; /* s */
	double target;   /* rate (1/s) or concurrency at the stage's end */
};

struct http_load_spec {
	enum http_load_mode mode;
	double rate;               /* 1/s (rate, spike base) */
	enum http_schedule_arrival arrival;
	double burstiness;         /* gamma shape */
	uint64_t seed;
	long concurrency;
	struct http_load_stage *stages; /* ramp */
	size_t n_stages;
	bool stages_concurrency;   /* ramp stages give concurrency, not rate */
	double ramp_start;         /* value before the first stage */
	double spike_factor, spike_at, spike_duration; /* spike: k, s, s */
	double *rates;             /* sweep */
	size_t n_rates;
	double start_rate, max_rate, precision; /* capacity: 1/s, 1/s, relative */
	double min_rate;           /* capacity: 1/s, the lowest rate tried when start_rate breaks */
	double max_failures;       /* capacity: a step whose unanswered share exceeds this broke */
	long trials;
	double duration;           /* s of measured window (0 when `requests`) */
	uint64_t requests;
	double warmup;             /* s */
	long connections, max_inflight, threads;
	double timeout;            /* s per request */
	const char *engine;        /* a transport's name (static storage); NULL: auto */
	enum http_engine_httpver http_version;
	bool realtime;             /* open loop: ask for SCHED_FIFO for the workers (default true) */
	long repetitions;          /* 0: not given here */
	char *trace_path;          /* trace: the file (as written, relative to the suite's folder) */
	double trace_scale;        /* trace: multiplies its times (0.5 replays twice as fast) */
	double trace_unit;         /* trace: seconds per numeric timestamp unit */
	long trace_limit;          /* trace: entries read at most (0: all) */
	bool have_converge;        /* stop each step early when `converge` says */
	struct http_converge_options converge;
};

/* Parse and check `load` (path names the benchmark).  With out == NULL only
 * validates.  Problems are appended; returns ERR_INPUT when any was found. */
int http_load_spec_parse(struct http_load_spec *out, const cJSON *bench, const char *path, struct errlist *problems);
void http_load_spec_release(struct http_load_spec *s);
const char *http_load_mode_name(enum http_load_mode m);

/* Fill engine options for one step of `s` (rate and ramp/spike profiles,
 * concurrency stages); `rate` overrides the rate (sweep and capacity
 * steps; 0: as declared).  The segment arrays are returned in segs and cst (the caller frees them). */
void http_load_step_options(const struct http_load_spec *s, double rate, struct http_engine_options *o,
		       struct http_schedule_segment **segs, struct http_engine_cstage **cst);

#endif
