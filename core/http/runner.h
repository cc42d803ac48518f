/*
 * runner.h: the HTTP benchmark runner.  http_runner_validate() checks a
 * benchmark's http, load, stream and request_slo objects at suite load;
 * http_runner_run() (the runner contract in run.h) runs
 * the benchmark's load steps and turns the engine's results into the run
 * document's metrics.  The same in parts, for a suite whose repetitions
 * run round-robin ("order": "interleaved", core/run.c):
 * http_runner_open(), then http_runner_step() (one repetition: a load
 * step, or a sweep's or capacity search's rates) until http_runner_done(),
 * then http_runner_finish() (the merged distributions, the status), and
 * http_runner_free() in any case.
 */
#ifndef PERFGATE_HTTP_RUNNER_H
#define PERFGATE_HTTP_RUNNER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "../run.h"
#include "../rundoc.h"

struct hist;
struct http_engine_result;
struct http_plan;

/* One problem per mistake in the benchmark's http (or journey), load,
 * stream, request_slo and faults objects, each at its JSON path under
 * `path`. */
void http_runner_validate(const cJSON *bench, const char *path, struct errlist *problems);
int http_runner_run(const struct suite_bench *b, const struct run_ctx *ctx, struct rd_bench *out,
		    struct err *err);

struct http_run;
/* *out is set even when the benchmark cannot run (nonzero: its input is
 * wrong, ERR_INPUT, or a file it names cannot be opened): free it. */
int http_runner_open(struct http_run **out, const struct suite_bench *b, const struct run_ctx *ctx,
		     struct rd_bench *res, struct err *err);
/* One repetition; nonzero: the benchmark failed (err says why). */
int http_runner_step(struct http_run *hr, struct err *err);
bool http_runner_done(const struct http_run *hr);
long http_runner_reps(const struct http_run *hr);    /* repetitions taken */
long http_runner_planned(const struct http_run *hr); /* and planned */
void http_runner_finish(struct http_run *hr);
void http_runner_free(struct http_run *hr);

/* The run document's metrics, for the parts of the HTTP family that add
 * their own (journeys, faults).  Each name is followed by `suffix` ("@100/s",
 * "[search]"), or by nothing when it is NULL. */
/* One sample of a scalar metric (created on first use). */
void http_runner_sample(struct rd_bench *b, const char *suffix, const char *name, const char *unit,
			enum rd_direction dir, double v);
/* F.p50 ... F.p99.9, F.max, F.mean of a histogram of ns, in seconds. */
void http_runner_family(struct rd_bench *b, const char *suffix, const char *fam, const struct hist *h);
/* Every metric of one step's requests (docs/metrics.md). */
void http_runner_metrics(struct rd_bench *b, const char *suffix, const struct http_engine_result *r, bool open_loop,
			 const struct http_plan *p, const char *itl_name);

/* The pieces of a benchmark's record that core/shard_merge.c makes again
 * for the merged run, from the shards' summed results. */
/* One repetition's "timeseries" entry. */
cJSON *http_runner_timeseries(const struct http_engine_result *r, long rep, double warmup);
/* One rate's entry of "sweep" (or "capacity_steps"). */
cJSON *http_runner_step_json(const struct http_engine_result *res, long rep, double rate, bool capacity, bool held,
			     const char *why);
/* The first message of each error class, one repetition's "errors" entry. */
cJSON *http_runner_first_errors(const struct http_engine_result *res);
/* The limit of a "latency.p95" SLO in slo (seconds), NAN when none. */
double http_runner_slo_p95(const cJSON *slo);
/* A spike's recovery_time sample (and the warning when it never recovered):
 * slo_p95 is the threshold, NAN for 1.5 x the median p95 before the spike. */
void http_runner_recovery(struct rd_bench *b, const struct http_engine_result *r, double warmup, double duration,
			  double spike_at, double spike_duration, double slo_p95);

#endif
