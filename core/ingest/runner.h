/*
 * ingest/runner.h: the "ingest" runner: a command benchmark whose program
 * is a harness; its output is parsed in the declared format instead of
 * being timed (ingest/runner.c says how often it runs and how harness
 * benchmarks are named).
 */
#ifndef PERFGATE_INGEST_RUNNER_H
#define PERFGATE_INGEST_RUNNER_H

#include <cjson/cJSON.h>

#include "../err.h"
#include "../run.h"

/* Check a benchmark's "ingest" value (a format name or an object with
 * format and output) at suite load; one problem per mistake. */
void ingest_runner_validate(const cJSON *format, const char *path, struct errlist *problems);

/* Run the harness and parse its output (the runner contract in run.h).
 * `out` must be one of rd's benchmarks: a harness that reports several
 * benchmarks adds the others to rd. */
int ingest_runner_run(const struct suite_bench *b, const struct run_ctx *ctx, struct rd_bench *out,
		      struct rundoc *rd, struct err *err);

#endif
