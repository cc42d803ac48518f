/*
 * runner_cmd.h: command benchmarks, one repetition at a time.
 *
 * runner_cmd_run() runs one benchmark start to end.  The
 * step-wise interface below exists for "order": "interleaved", where
 * run_suite() opens every command benchmark, runs their warmups, and then
 * takes one repetition of each in turn until all are done, so that slow
 * drift of the machine spreads over all of them evenly.
 *
 * Per repetition: `prepare` (not timed), the command (stdin /dev/null,
 * stdout /dev/null, stderr kept in a file for the failure report), the
 * metrics wall/user/sys/max_rss, optionally instructions/cycles and the
 * metrics the command writes to $PERFGATE_METRICS_FILE, then `conclude`
 * (not timed).  `setup`/`cleanup` run once around all of it.  The first
 * failure (unexpected exit, signal, timeout, garbled metrics file, failing
 * hook) ends the benchmark: status "failed", error says which repetition
 * and why, extra "stderr_tail" holds the last lines of its stderr.
 */
#ifndef PERFGATE_RUNNER_CMD_H
#define PERFGATE_RUNNER_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "run.h"

struct runner_cmd_bench;

/*
 * Before anything runs: the SLOs of a command benchmark whose metrics are
 * known in advance (no "emits", no "monitor") must name them; one problem
 * per SLO that names a metric it will not have, at PATH.slo.
 */
void runner_cmd_slo_check(const cJSON *bench, const char *path, struct errlist *problems);

/*
 * The repetitions a command benchmark declares it runs at least: its fixed
 * `repetitions` (default 10), or, when the count is adaptive, its
 * `min_repetitions` (default 5); *key names the key that sets it.
 */
size_t runner_cmd_declared_reps(const cJSON *raw, const char **key);
/* A program's argv: ["/bin/sh", "-c", shell] when shell is set, else the
 * strings of the command array (argv_free() it). */
char **runner_cmd_argv(const cJSON *cmd, const char *shell);

/* Run one command benchmark start to end (the runner contract in run.h). */
int runner_cmd_run(const struct suite_bench *b, const struct run_ctx *ctx, struct rd_bench *out,
		   struct err *err);

/* Prepare a benchmark and run its setup hook.  A failing setup is not an
 * error here: the benchmark is then done and failed.  Returns a negative
 * code only when nothing could be prepared (no temporary folder...). */
int runner_cmd_open(struct runner_cmd_bench **out, const struct suite_bench *b, const struct run_ctx *ctx,
		    struct err *err);
/* The warmup runs (not recorded). */
void runner_cmd_warmup(struct runner_cmd_bench *cb);
/* One measured repetition (with prepare/conclude). */
void runner_cmd_step(struct runner_cmd_bench *cb);
/* True when failed, interrupted, or enough repetitions are measured (fixed
 * count, or adaptive: min_repetitions and min_time reached and the median's
 * 95% CI half-width within `target` of the median, or max_repetitions). */
bool runner_cmd_done(const struct runner_cmd_bench *cb);
/* Can it take another repetition: not failed, not interrupted, below
 * max_repetitions (an adaptive count may go on past its own precision,
 * as interleaved variants do to stay in pairs)?  runner_cmd_step() takes
 * one only then. */
bool runner_cmd_can_step(const struct runner_cmd_bench *cb);
/* An adaptive count that has reached min_repetitions and min_time: it may
 * stop once precise enough.  *samples (n of them) are then the times its
 * precision is judged on (wall, or wall_rel with a calibration) and
 * *target its `target`. */
bool runner_cmd_may_stop(const struct runner_cmd_bench *cb, const double **samples, size_t *n, double *target);
/* Repetitions measured so far and the planned count (max for adaptive). */
size_t runner_cmd_reps(const struct runner_cmd_bench *cb);
size_t runner_cmd_planned(const struct runner_cmd_bench *cb);
/* Run cleanup, summarise, add noise warnings, and move the result into
 * `out` (fresh from rundoc_add_bench; its name and kind are kept). */
void runner_cmd_finish(struct runner_cmd_bench *cb, struct rd_bench *out);
void runner_cmd_free(struct runner_cmd_bench *cb);

#endif
