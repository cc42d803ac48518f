/*
 * run.h: running a suite into a run document.  `perfgate run` and
 * `perfgate gate` both call run_suite(); each benchmark kind has a runner.
 */
#ifndef PERFGATE_RUN_H
#define PERFGATE_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"
#include "suite.h"

/* What a runner may need besides its benchmark. */
struct run_ctx {
	const struct suite *suite;
	long repetitions;          /* --repetitions override, 0 = as declared */
	bool interleaved;          /* set by the suite's "order" */
	/* Progress reporting (NULL: silent).  Called between repetitions. */
	void (*progress)(void *arg, const char *bench, size_t rep, size_t of, double elapsed_s);
	void *progress_arg;
};

/*
 * A runner fills `out` (metrics with one sample per repetition, status,
 * error, extra) for one benchmark.  It returns 0 when the benchmark ran
 * (even if it failed: then out->status is "failed" and out->error says
 * why), or a negative code when it could not run at all.
 */
int runner_command_run(const struct suite_bench *b, const struct run_ctx *ctx,
		       struct rd_bench *out, struct err *err);
int runner_http_run(const struct suite_bench *b, const struct run_ctx *ctx,
		    struct rd_bench *out, struct err *err);
int runner_ingest_run(const struct suite_bench *b, const struct run_ctx *ctx,
		      struct rd_bench *out, struct rundoc *rd, struct err *err);

#endif
