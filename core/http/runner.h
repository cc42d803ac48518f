/*
 * runner.h: the HTTP benchmark runner.  http_runner_validate() checks a
 * benchmark's http, load, stream and request_slo objects at suite load;
 * http_runner_run() (declared in run.h, beside the other runners) runs
 * the benchmark's load steps and turns the engine's results into the run
 * document's metrics.
 */
#ifndef PERFGATE_HTTP_RUNNER_H
#define PERFGATE_HTTP_RUNNER_H

#include <cjson/cJSON.h>

#include "../err.h"

/* One problem per mistake in the benchmark's http, load, stream and
 * request_slo objects, each at its JSON path under `path`. */
void http_runner_validate(const cJSON *bench, const char *path, struct errlist *problems);

#endif
