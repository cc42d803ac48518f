/*
 * runner.h: the HTTP benchmark runner.  http_runner_validate() checks a
 * benchmark's http, load, stream and request_slo objects at suite load;
 * http_runner_run() (the runner contract in run.h) runs
 * the benchmark's load steps and turns the engine's results into the run
 * document's metrics.
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

#endif
