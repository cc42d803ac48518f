/*
 * run.h: running a suite into a run document.  `perfgate run` and
 * `perfgate gate` both call run_suite(); each benchmark kind has a runner.
 *
 * run_suite() selects the benchmarks (--bench glob, an explicit list of
 * names for a confirmation re-run), runs them in the suite's order
 * ("sequential", or "interleaved": the repetitions of command and load
 * benchmarks round-robin), and returns a run document with run_id, project, suite,
 * started_at/finished_at and tags filled.  It does not store anything and
 * never prints: progress goes through the callbacks in struct run_options.
 */
#ifndef PERFGATE_RUN_H
#define PERFGATE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"
#include "suite.h"

/* What a runner may need besides its benchmark. */
struct http_records;
struct shard;

struct run_ctx {
	const struct suite *suite;
	long repetitions;          /* --repetitions override, 0 = as declared */
	bool interleaved;          /* set by the suite's "order" */
	/* Progress reporting (NULL: silent).  Called between repetitions. */
	void (*progress)(void *arg, const char *bench, size_t rep, size_t of, double elapsed_s);
	void *progress_arg;
	bool warmup_set;           /* --warmup given: use `warmup` instead of the declared count */
	long warmup;
	struct http_records *records; /* every HTTP request's record goes here (NULL: a benchmark's own "requests" file, or none) */
	struct shard *shard;       /* a shard of a group (core/shard.h), or NULL */
	uint64_t deadline_ns;      /* run_options.deadline_ns */
};

/*
 * A command benchmark's repetitions stop at a deadline (measuring more
 * within its time budget): none is started that would end after it,
 * judged by the last one's duration (step_ns), once `done` are taken (at
 * least one).  False without a deadline.
 */
bool run_past_deadline(const struct run_ctx *ctx, size_t done, uint64_t step_ns);

/*
 * The runners' contract.  Each kind of benchmark has a runner that declares
 * its own *_run in its header (runner_cmd_run in runner_cmd.h,
 * http_runner_run in http/runner.h, ingest_runner_run in ingest/runner.h).
 * It fills `out` (metrics with one sample per repetition, status, error,
 * extra) for one benchmark and returns 0 when the benchmark ran (even if it
 * failed: then out->status is RUNDOC_STATUS_FAILED and out->error says
 * why), or a negative code when it could not run at all.
 */

/* Events for run_options.on_bench. */
enum run_event {
	RUN_BENCH_START,  /* about to run (warmup included); bench is NULL */
	RUN_BENCH_DONE    /* finished (ok or failed); bench is its result */
};

struct run_options {
	const char *bench_glob;    /* --bench: fnmatch(3) pattern on expanded names; NULL: all */
	const char *const *only;   /* run only these expanded names (e.g. a confirmation
				      re-run of regressed benchmarks); NULL: no restriction */
	size_t n_only;
	long repetitions;          /* override every benchmark's count (fixed, not adaptive); 0: as declared */
	long warmup;               /* override warmup runs; -1: as declared */
	const cJSON *tags;         /* object of string values copied into the run; may be NULL */
	bool no_context;           /* do not stamp git/CI/machine context (tests) */
	const char *repo_dir;      /* where to look for the git repository; NULL: the suite's folder */
	struct errlist *notices;   /* context stamping's warnings (shallow clone...); may be NULL */
	/* Progress (NULL: silent); called between repetitions. */
	void (*progress)(void *arg, const char *bench, size_t rep, size_t of, double elapsed_s);
	/* Start and end of each benchmark (NULL: none).  name is the expanded name. */
	void (*on_bench)(void *arg, enum run_event ev, const char *name, const struct rd_bench *bench);
	void *progress_arg;
	const char *const *bench_globs; /* more --bench patterns: a name matching any of them
					   (or bench_glob) is selected; NULL: none */
	size_t n_bench_globs;
	struct http_records *records; /* --requests: one record per HTTP request (core/http/records.h); NULL: none */
	/* A shard of a group (core/shard.h), or NULL: HTTP benchmarks run
	 * their share of the load first, then, on shard 1 only, the others. */
	struct shard *shard;
	/* Command benchmarks take no repetition that would end after this
	 * (now_ns() clock; interleaved ones stop together, between rounds,
	 * so that their pairs stay whole); 0: no deadline. */
	uint64_t deadline_ns;
};
#define RUN_OPTIONS_INIT { .warmup = -1 }

/*
 * Run the suite.  Returns:
 *   0        every selected benchmark ran and passed; *out is the run
 *   ERR_RUN  the run finished but a benchmark failed (its rd_bench says why,
 *            err names the first), or it was interrupted (Ctrl-C, see
 *            proc_interrupted(): then (*out)->partial is set and only the
 *            benchmarks that finished are in it); *out is the run
 *   ERR_INPUT nothing matched --bench/only (*out is NULL)
 *   other    could not run at all (*out is NULL)
 * The caller owns *out (rundoc_free).
 */
int run_suite(const struct suite *s, const struct run_options *opts, struct rundoc **out,
	      struct err *err);

/* Does the expanded name pass opts' --bench glob and `only` list? */
bool run_selected(const struct run_options *opts, const char *name);

#endif
