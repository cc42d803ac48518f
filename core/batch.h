/*
 * batch.h: a load benchmark's many requests as samples (docs/statistics.md,
 * "Load benchmarks: batch means").
 *
 * One repetition of an HTTP benchmark is thousands of requests but one
 * sample of `latency.p95`: a default benchmark (one repetition of 10 s) could
 * never be tested against its history.  Its time series (the run document's
 * extra "timeseries": per second, the successes and their latency p50, p95
 * and p99) cut the measured window into sub-windows; their values, grouped
 * until each group holds enough requests for its percentile and merged
 * while neighbours are autocorrelated (stats_batch_means), are the samples
 * of latency.p50, latency.p95, latency.p99 and throughput instead.  Requests
 * inside one window are correlated in time, so they are never samples
 * themselves; batches far enough apart nearly are, and the lag-1
 * autocorrelation check says when they are not.  The spread between runs
 * still comes from history (the noise floor).
 */
#ifndef PERFGATE_BATCH_H
#define PERFGATE_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "rundoc.h"

#define BATCH_MIN 3          /* fewer batches per repetition: keep its one sample */
#define BATCH_R1_LIMIT 0.2   /* merge neighbours while |lag-1 autocorrelation| is beyond this */
#define BATCH_EXCEEDANCES 10 /* a percentile q needs n (1 - q) >= this per batch */

struct batch_info {
	size_t repetitions;  /* repetitions whose time series gave batches */
	size_t windows;      /* sub-windows inside the measured windows */
	size_t batches;      /* samples made */
	double r1;           /* the largest |lag-1 autocorrelation| left in a repetition */
};

/* latency.p50, latency.p95, latency.p99 and throughput have batches. */
bool batch_has(const char *metric);

/*
 * The batch samples of `metric` of HTTP benchmark b, one repetition after
 * another: *out (caller frees) gets their values in the metric's unit, and
 * the count is returned.  0 (and *out NULL) when the metric has none, the
 * benchmark has no time series, or a repetition cannot give BATCH_MIN
 * batches: the caller then keeps one sample per repetition.
 */
size_t batch_samples(const struct rd_bench *b, const char *metric, double **out, struct batch_info *info);

#endif
