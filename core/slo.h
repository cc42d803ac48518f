/*
 * slo.h: service-level objectives (DESIGN section 3): absolute checks of the
 * current run, `METRIC[.STAT] OP VALUE[UNIT]`, e.g. "latency.p95": "< 250ms".
 *
 * Resolution of a key to a metric and a statistic (docs/statistics.md, "SLO
 * resolution"), in this order:
 *   1. the whole key names a metric of the benchmark ("latency.p95",
 *      "error_rate", "throughput"): that metric, statistic `median` across
 *      its per-repetition samples (a load-test runner emits one latency.p95
 *      per repetition; the SLO holds for the typical repetition);
 *   2. else the key is METRIC.STAT with STAT in mean, median, min, max, pN,
 *      rate, count and METRIC a metric of the benchmark ("wall.median"):
 *      that statistic over the metric's per-repetition samples (pN is the
 *      nearest-rank percentile of the samples; count is the number of
 *      samples; rate is the median, for metrics already per second);
 *   3. else an input error naming the closest metric.
 * Units: the value is converted to SI (250ms -> 0.25, 512MiB -> 536870912,
 * 1% -> 0.01) and must fit the metric's unit (time on "s", sizes on "B",
 * /s on "1/s", % on "1", "%" or "ratio"); a bare number is in the metric's
 * own unit.  A metric whose unit is "%" holds percent points, so "< 1%" is
 * compared with 1 there and with 0.01 on a metric in "1".
 */
#ifndef PERFGATE_SLO_H
#define PERFGATE_SLO_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "rundoc.h"

enum slo_op { SLO_LT, SLO_LE, SLO_GT, SLO_GE, SLO_EQ };

struct slo {
	char *metric;  /* the key as written, up to the statistic ("latency" of "latency.p95") */
	char *stat;    /* "p95", "median", "mean", "max", "min", "rate", "count", or NULL */
	enum slo_op op;
	double value;  /* SI units */
	char *unit_kind; /* "time", "size", "ratio", "rate", "count" (the unit written), or NULL: bare number */
	char *key;     /* the key as written */
	char *text;    /* "latency.p95 < 250ms", for messages */
};

/* Parse key "latency.p95" and expr "< 250ms".  Returns 0 or ERR_INPUT with
 * a message quoting the expression.  *out is released with slo_release. */
int slo_parse(const char *key, const char *expr, struct slo *out, struct err *err);
void slo_release(struct slo *s);
/* Check a suite's "slo" object: one problem per bad entry, at PATH.KEY. */
void slo_validate(const cJSON *slo, const char *path, struct errlist *problems);

struct slo_result {
	bool ok;
	double actual;  /* SI units */
	char why[256];  /* "latency.p95 median 0.212 s < 0.25 s" */
};

/* Evaluate on one benchmark of the current run.  A metric that does not
 * exist, or a unit that does not fit the metric, is ERR_INPUT. */
int slo_evaluate(const struct slo *s, const struct rd_bench *b, struct slo_result *out, struct err *err);

#endif
